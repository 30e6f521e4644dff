#include "envtest/storage/options.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "envtest/storage/errors.h"

namespace kslice::envtest::storage {
namespace {

absl::Status InvalidListOptions(const std::vector<FieldError>& errors) {
  return InvalidError("meta.k8s.io", "ListOptions", "", errors);
}

}  // namespace

absl::StatusOr<ResourceVersionMatch> ParseResourceVersionMatch(absl::string_view value,
                                                               bool watch) {
  if (value.empty()) return ResourceVersionMatch::kUnset;
  if (value == "NotOlderThan") return ResourceVersionMatch::kNotOlderThan;
  if (value == "Exact" && !watch) return ResourceVersionMatch::kExact;
  std::vector<std::string> supported = {"NotOlderThan"};
  if (!watch) supported = {"Exact", "NotOlderThan", ""};
  return InvalidListOptions({FieldError::NotSupported("resourceVersionMatch", value, supported)});
}

absl::StatusOr<uint64_t> ParseResourceVersion(absl::string_view value) {
  if (value.empty() || value == "0") return 0;
  uint64_t rv = 0;
  bool digits = true;
  for (char c : value) digits = digits && c >= '0' && c <= '9';
  if (!digits || !absl::SimpleAtoi(value, &rv)) {
    const std::string reason = digits ? "value out of range" : "invalid syntax";
    return BadRequestError(absl::StrCat(
        "invalid resource version: ",
        FieldError::Invalid("resourceVersion", value,
                            absl::StrCat("strconv.ParseUint: parsing ", GoQuote(value), ": ",
                                         reason))
            .ToString()));
  }
  return rv;
}

absl::Status ValidateListOptions(const ListOptions& options, bool watch,
                                 bool watch_list_enabled) {
  std::vector<FieldError> errs;
  const ResourceVersionMatch match = options.resource_version_match;
  if (watch) {
    if (options.send_initial_events.has_value()) {
      if (match != ResourceVersionMatch::kNotOlderThan) {
        errs.push_back(FieldError::Forbidden(
            "resourceVersionMatch",
            "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"));
      }
      if (!watch_list_enabled) {
        errs.push_back(FieldError::Forbidden(
            "sendInitialEvents",
            "sendInitialEvents is forbidden for watch unless the WatchList feature gate is "
            "enabled"));
      }
    }
    if (match != ResourceVersionMatch::kUnset) {
      if (!options.send_initial_events.has_value()) {
        errs.push_back(FieldError::Forbidden(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"));
      }
      if (match != ResourceVersionMatch::kNotOlderThan) {
        errs.push_back(
            FieldError::NotSupported("resourceVersionMatch", "Exact", {"NotOlderThan"}));
      }
      if (!options.continue_token.empty()) {
        errs.push_back(FieldError::Forbidden("resourceVersionMatch",
                                             "resourceVersionMatch is forbidden when continue "
                                             "is provided"));
      }
    }
  } else {
    if (match != ResourceVersionMatch::kUnset) {
      if (options.resource_version.empty()) {
        errs.push_back(FieldError::Forbidden(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden unless resourceVersion is provided"));
      }
      if (!options.continue_token.empty()) {
        errs.push_back(FieldError::Forbidden("resourceVersionMatch",
                                             "resourceVersionMatch is forbidden when continue "
                                             "is provided"));
      }
      if (match == ResourceVersionMatch::kExact && options.resource_version == "0") {
        errs.push_back(FieldError::Forbidden(
            "resourceVersionMatch",
            "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""));
      }
    }
    if (options.send_initial_events.has_value()) {
      errs.push_back(
          FieldError::Forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"));
    }
  }
  if (!errs.empty()) return InvalidListOptions(errs);
  return absl::OkStatus();
}

}  // namespace kslice::envtest::storage
