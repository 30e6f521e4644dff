// HTTP-level errors of the API server, as absl::Status values carrying the
// metav1.Status body (same convention as envtest/storage/errors.h), and the mapping
// from any Status to the HTTP answer.
#ifndef KSLICE_ENVTEST_APISERVER_STATUS_H_
#define KSLICE_ENVTEST_APISERVER_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "api/meta/v1/meta.pb.h"
#include "envtest/storage/errors.h"

namespace kslice::envtest::apiserver {

// Any code/reason/message, with the absl code derived from the HTTP code.
absl::Status HttpError(int code, absl::string_view reason, absl::string_view message);
// 401 "Unauthorized".
absl::Status UnauthorizedError();
// 403 with the message as given.
absl::Status ForbiddenError(absl::string_view message, const storage::ResourceKey& resource = {},
                            absl::string_view name = "");
// 405 `the server does not allow this method on the requested resource`.
absl::Status MethodNotAllowedError();
// 406 NotAcceptable.
absl::Status NotAcceptableError(absl::string_view message);
// 415 `the body of the request was in an unknown format - accepted media types include: ...`
absl::Status UnsupportedMediaTypeError(absl::string_view content_type);
// 413 `Request entity too large: limit is N`.
absl::Status RequestEntityTooLargeError(size_t limit);
// 500 InternalError `Internal error occurred: <message>`.
absl::Status InternalServerError(absl::string_view message);
// 404 "the server could not find the requested resource".
absl::Status NotFoundPathError();

// The HTTP code of an error (its Status's code, else from the absl code).
int HttpCodeOf(const absl::Status& status);

}  // namespace kslice::envtest::apiserver

#endif  // KSLICE_ENVTEST_APISERVER_STATUS_H_
