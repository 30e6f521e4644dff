#include "proxy/iptables/runner.h"

#include <string>

#include "gtest/gtest.h"

namespace kslice::proxy::iptables {
namespace {

TEST(ExecRunnerTest, PipesLargeInputThroughAndCollectsOutput) {
  std::unique_ptr<Runner> r = NewExecRunner();
  // Larger than any pipe buffer in both directions: reading and writing must interleave.
  std::string input(8 << 20, 'x');
  for (size_t i = 0; i < input.size(); i += 100) input[i] = '\n';
  absl::StatusOr<CommandResult> res = r->Run({"cat"}, input);
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->exit_code, 0);
  EXPECT_EQ(res->stdout_data.size(), input.size());
  EXPECT_TRUE(res->stdout_data == input);
}

TEST(ExecRunnerTest, ExitCodeAndStderr) {
  std::unique_ptr<Runner> r = NewExecRunner();
  absl::StatusOr<CommandResult> res = r->Run({"sh", "-c", "echo out; echo err >&2; exit 3"}, "");
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->exit_code, 3);
  EXPECT_EQ(res->stdout_data, "out\n");
  EXPECT_EQ(res->stderr_data, "err\n");
}

TEST(ExecRunnerTest, ChildThatIgnoresStdinDoesNotHang) {
  std::unique_ptr<Runner> r = NewExecRunner();
  absl::StatusOr<CommandResult> res = r->Run({"true"}, std::string(4 << 20, 'y'));
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->exit_code, 0);
}

TEST(ExecRunnerTest, MissingProgramIsNotFound) {
  std::unique_ptr<Runner> r = NewExecRunner();
  absl::StatusOr<CommandResult> res = r->Run({"kslice-no-such-program"}, "");
  EXPECT_EQ(res.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(CommandString({"a", "b c"}), "a b c");
}

}  // namespace
}  // namespace kslice::proxy::iptables
