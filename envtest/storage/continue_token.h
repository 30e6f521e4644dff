// List continue tokens in the API server's format: unpadded base64url of the JSON
// {"v":"meta.k8s.io/v1","rv":<snapshot resourceVersion>,"start":"<next key>"}, where
// the start key is relative to the list's key prefix (for an all-namespaces list of a
// namespaced resource "ns/name\u0000", within one namespace "name\u0000": the last
// returned key plus a NUL, i.e. the first key after it). rv -1 means "continue from the
// start key at the latest resourceVersion" (the token a 410 on an expired token carries).
#ifndef KSLICE_ENVTEST_STORAGE_CONTINUE_TOKEN_H_
#define KSLICE_ENVTEST_STORAGE_CONTINUE_TOKEN_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kslice::envtest::storage {

struct ContinueToken {
  int64_t resource_version = 0;  // > 0, or -1 for "latest"
  std::string start_key;         // relative to the key prefix, path-clean, no leading '/'
};

std::string EncodeContinueToken(int64_t resource_version, absl::string_view start_key);

// Decodes a token. Errors are plain InvalidArgument statuses with upstream's text
// ("continue key is not valid: ..."); the store wraps them into a 400 "invalid
// continue token: ...".
absl::StatusOr<ContinueToken> DecodeContinueToken(absl::string_view token);

// Go's path.Clean: lexical clean-up of a slash-separated path.
std::string CleanPath(absl::string_view path);

}  // namespace kslice::envtest::storage

#endif  // KSLICE_ENVTEST_STORAGE_CONTINUE_TOKEN_H_
