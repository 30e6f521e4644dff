#include "testing/shared_dir.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace kslice::testing {

std::optional<std::string> SharedDir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("KSLICE_SHARED_DIR"); env != nullptr && *env != '\0') {
    std::error_code ec;
    if (fs::is_directory(env, ec)) return std::string(env);
    return std::nullopt;
  }
  // Runfiles are symlinks into the source tree; README.md sits at its root.
  std::error_code ec;
  fs::path readme = fs::canonical("README.md", ec);
  if (ec) return std::nullopt;
  fs::path shared = readme.parent_path().parent_path() / "shared";
  if (fs::is_directory(shared, ec)) return shared.string();
  return std::nullopt;
}

}  // namespace kslice::testing
