#include "controller/workloads/control.h"

#include "absl/strings/str_cat.h"

namespace kslice::workloads {

absl::Status CheckCanAdopt(const ObjectMeta& cached, const absl::StatusOr<ObjectMeta>& fresh) {
  if (!fresh.ok()) return fresh.status();
  if (fresh->uid() != cached.uid()) {
    return absl::FailedPreconditionError(
        absl::StrCat("original ", cached.namespace_(), "/", cached.name(),
                     " is gone: got uid ", fresh->uid(), ", wanted ", cached.uid()));
  }
  if (fresh->has_deletiontimestamp()) {
    return absl::FailedPreconditionError(absl::StrCat(
        cached.namespace_(), "/", cached.name(), " has just been deleted at ",
        fresh->deletiontimestamp().seconds()));
  }
  return absl::OkStatus();
}

}  // namespace kslice::workloads
