#include "lab/kubelet/runner.h"

#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"

namespace kslice::lab::kubelet {
namespace {

std::optional<ExitInfo> WaitExit(Runner& r, int pid, absl::Duration timeout = absl::Seconds(10)) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (std::optional<ExitInfo> e = r.Poll(pid)) return e;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return std::nullopt;
}

TEST(SystemRunnerTest, RunCapturesOutputAndExitCode) {
  auto r = NewSystemRunner();
  absl::StatusOr<CommandResult> res = r->Run({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->exit_code, 3);
  EXPECT_EQ(res->output, "out\nerr\n");
  EXPECT_FALSE(res->timed_out);
  EXPECT_FALSE(r->Run({"/nonexistent/binary"}).ok());
  EXPECT_FALSE(r->Run({}).ok());
}

TEST(SystemRunnerTest, RunTimesOut) {
  auto r = NewSystemRunner();
  absl::Time start = absl::Now();
  absl::StatusOr<CommandResult> res = r->Run({"sleep", "30"}, absl::Milliseconds(200));
  ASSERT_TRUE(res.ok());
  EXPECT_TRUE(res->timed_out);
  EXPECT_EQ(res->signal, SIGKILL);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(SystemRunnerTest, StartPollSignal) {
  auto r = NewSystemRunner();
  const char* t = getenv("TEST_TMPDIR");
  std::string log = absl::StrCat(t ? t : "/tmp", "/runner-test.log");
  std::remove(log.c_str());
  // SIGTERM is blocked in this thread: the child must still get a clean mask.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  absl::StatusOr<int> pid =
      r->Start({"sh", "-c", "echo started; echo oops >&2; exec sleep 30"}, log);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_FALSE(r->Poll(*pid).has_value());
  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_TRUE(r->Signal(*pid, SIGTERM).ok());
  std::optional<ExitInfo> e = WaitExit(*r, *pid);
  ASSERT_TRUE(e.has_value()) << "SIGTERM did not end the child (inherited mask?)";
  EXPECT_EQ(e->signal, SIGTERM);
  EXPECT_EQ(e->exit_code, 143);
  EXPECT_TRUE(e->known);
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "started\noops\n");
  EXPECT_TRUE(r->Signal(*pid, SIGTERM).ok()) << "a gone process is fine";
  EXPECT_FALSE(r->Signal(1, SIGTERM).ok()) << "never pid 1";
}

TEST(SystemRunnerTest, PollsAProcessThatIsNotItsChild) {
  auto r = NewSystemRunner();
  // A background sleep whose parent shell exits at once: not our child (adopted case).
  absl::StatusOr<CommandResult> res = r->Run({"sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $!"});
  ASSERT_TRUE(res.ok());
  int pid = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(res->output), &pid)) << res->output;
  EXPECT_FALSE(r->Poll(pid).has_value());
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  std::optional<ExitInfo> e = WaitExit(*r, pid);
  ASSERT_TRUE(e.has_value());
  EXPECT_FALSE(e->known);
}

}  // namespace
}  // namespace kslice::lab::kubelet
