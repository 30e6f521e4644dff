// The 406 NotAcceptable error of table conversion and content negotiation
// (envtest/storage/errors.h has no constructor for it).
#ifndef KSLICE_ENVTEST_PRINTERS_INTERNAL_STATUS_H_
#define KSLICE_ENVTEST_PRINTERS_INTERNAL_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kslice::envtest::printers::internal {

// InvalidArgument carrying metav1.Status{Failure, 406, NotAcceptable, message}.
absl::Status NotAcceptableError(absl::string_view message);

}  // namespace kslice::envtest::printers::internal

#endif  // KSLICE_ENVTEST_PRINTERS_INTERNAL_STATUS_H_
