// Internal to client/config: reading small files with errno-accurate errors.
#ifndef KSLICE_CLIENT_CONFIG_FILE_UTIL_H_
#define KSLICE_CLIENT_CONFIG_FILE_UTIL_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace kslice::client::internal {

// The whole file. Errors: NotFound (ENOENT), PermissionDenied (EACCES), InvalidArgument
// (a directory, or larger than max_bytes), Internal otherwise; the message is
// "<path>: <reason>".
absl::StatusOr<std::string> ReadFileToString(const std::string& path, size_t max_bytes = 64u << 20);

}  // namespace kslice::client::internal

#endif  // KSLICE_CLIENT_CONFIG_FILE_UTIL_H_
