// Test helpers for client/config: environment variables set for one scope, temporary
// folders, fixture paths.
#ifndef KSLICE_CLIENT_CONFIG_TEST_UTIL_H_
#define KSLICE_CLIENT_CONFIG_TEST_UTIL_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kslice::client::testing {

// Sets (or, with nullopt, unsets) environment variables; restores them on
// destruction.
class ScopedEnv {
 public:
  ScopedEnv() = default;
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv();

  void Set(const std::string& name, std::optional<std::string> value);

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// A fresh folder under $TEST_TMPDIR (or /tmp), removed on destruction.
class TempDir {
 public:
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  // Writes a file below the folder (creating parents) and returns its path.
  std::string Write(const std::string& relative, const std::string& content, int mode = 0644) const;

 private:
  std::string path_;
};

// Absolute path of client/config/testdata/<name> in the runfiles.
std::string Testdata(const std::string& name);

std::string ReadFileOrDie(const std::string& path);

}  // namespace kslice::client::testing

#endif  // KSLICE_CLIENT_CONFIG_TEST_UTIL_H_
