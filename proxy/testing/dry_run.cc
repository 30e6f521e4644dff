#include "proxy/testing/dry_run.h"

#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace kslice::proxy::testing {

absl::StatusOr<std::string> DryRunOnce(const std::string& mode, BackendOptions options,
                                       const ProxyState& state) {
  std::ostringstream out;
  options.dry_run = true;
  options.dry_run_output = &out;
  absl::StatusOr<std::unique_ptr<Backend>> backend = NewBackend(mode, options);
  if (!backend.ok()) return backend.status();
  if ((*backend)->name() != mode) {
    return absl::InternalError(
        absl::StrCat("backend \"", mode, "\" calls itself \"", (*backend)->name(), "\""));
  }
  if (absl::Status s = (*backend)->Sync(state, SyncHint{}); !s.ok()) return s;
  return out.str();
}

}  // namespace kslice::proxy::testing
