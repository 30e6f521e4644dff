#include "controller/log/log.h"

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace kslice::log {
namespace {

class CaptureSink : public Sink {
 public:
  void Write(std::string_view line) override {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.emplace_back(line);
  }
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

// 2023-11-14 22:13:20.123456 UTC: a multiple of 256 ns, so the JSON timestamp's
// float division is exact (1700000000123.456 as Go prints it).
const absl::Time kNow = absl::FromUnixNanos(1700000000123456000);

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(Configure(Base(Format::kText)).ok()); }
  void TearDown() override { ASSERT_TRUE(Configure(Options{}).ok()); }

  Options Base(Format format) {
    Options o;
    o.format = format;
    o.sink = &sink_;
    o.now = [] { return kNow; };
    o.pid = 12345;
    o.time_zone = absl::UTCTimeZone();
    return o;
  }
  // The text header for a line of this file.
  static std::string Header(char sev, int line) {
    return absl::StrCat(std::string(1, sev), "1114 22:13:20.123456   12345 log_test.cc:", line,
                        "] ");
  }
  static std::string Caller(int line) {
    return absl::StrCat("\"caller\":\"log/log_test.cc:", line, "\"");
  }

  CaptureSink sink_;
};

TEST_F(LogTest, TextInfoWithPairs) {
  int line = __LINE__ + 1;
  Info("Pod status updated", {{"pod", KRef("kube-system", "kubedns")}, {"status", "ready"}, {"n", 3}});
  ASSERT_EQ(sink_.lines().size(), 1u);
  EXPECT_EQ(sink_.lines()[0], Header('I', line) +
                                  "\"Pod status updated\" pod=\"kube-system/kubedns\" "
                                  "status=\"ready\" n=3\n");
}

TEST_F(LogTest, TextValueKinds) {
  std::string owned = "owned";
  int line = __LINE__ + 1;
  Info("kinds",
       {{"s", owned},
        {"b", true},
        {"u", 7u},
        {"neg", -2},
        {"f", 1.5},
        {"tiny", 1e-7},
        {"big", 1e21},
        {"ref", KRef("", "node-1")},
        {"esc", "tab\there \"q\" \\ \x01 \x7f \xc3\xa9 \xc2\x85 \xff"}});
  EXPECT_EQ(sink_.lines()[0],
            Header('I', line) +
                "\"kinds\" s=\"owned\" b=true u=7 neg=-2 f=1.5 tiny=1e-7 big=1e+21 "
                "ref=\"node-1\" esc=\"tab\\there \\\"q\\\" \\\\ \\x01 \\x7f \xc3\xa9 \\u0085 "
                "\\xff\"\n");
}

TEST_F(LogTest, TextMultiLineValueAndQuotedMessage) {
  int line = __LINE__ + 1;
  Info("two\nlines", {{"body", "a\nb"}, {"trail", "x\n"}});
  EXPECT_EQ(sink_.lines()[0],
            Header('I', line) + "\"two\\nlines\" body=<\n\ta\n\tb\n > trail=<\n\tx\n >\n");
}

TEST_F(LogTest, TextSeveritiesAndError) {
  int l1 = __LINE__ + 1;
  Warning("careful");
  int l2 = __LINE__ + 1;
  Error(absl::NotFoundError("pods \"x\" not found"), "Sync failed", {{"key", "ns/x"}});
  int l3 = __LINE__ + 1;
  Error(absl::OkStatus(), "no error value");
  auto lines = sink_.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], Header('W', l1) + "\"careful\"\n");
  EXPECT_EQ(lines[1], Header('E', l2) +
                          "\"Sync failed\" err=\"NOT_FOUND: pods \\\"x\\\" not found\" "
                          "key=\"ns/x\"\n");
  EXPECT_EQ(lines[2], Header('E', l3) + "\"no error value\"\n");
}

TEST_F(LogTest, FatalExits255) {
  EXPECT_EXIT(Fatal("giving up", {{"k", 1}}), ::testing::ExitedWithCode(255), "");
}

TEST_F(LogTest, JsonFormat) {
  ASSERT_TRUE(Configure(Base(Format::kJson)).ok());
  int l1 = __LINE__ + 1;
  Info("Pod status updated", {{"pod", KRef("kube-system", "kubedns")}, {"status", "ready"}, {"f", 2.5}});
  int l2 = __LINE__ + 1;
  Error(absl::UnavailableError("connection refused"), "Sync failed", {{"key", "ns/x"}});
  int l3 = __LINE__ + 1;
  Info("esc", {{"s", "a\"b\\c\nd\x01\x7f\xff"}, {"cluster", KRef("", "n1")}, {"ok", false}});
  auto lines = sink_.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "{\"ts\":1700000000123.456," + Caller(l1) +
                          ",\"msg\":\"Pod status updated\",\"v\":0,\"pod\":{\"name\":\"kubedns\","
                          "\"namespace\":\"kube-system\"},\"status\":\"ready\",\"f\":2.5}\n");
  // zapr: errors have no "v" and the error comes last.
  EXPECT_EQ(lines[1], "{\"ts\":1700000000123.456," + Caller(l2) +
                          ",\"msg\":\"Sync failed\",\"key\":\"ns/x\","
                          "\"err\":\"UNAVAILABLE: connection refused\"}\n");
  EXPECT_EQ(lines[2], "{\"ts\":1700000000123.456," + Caller(l3) +
                          ",\"msg\":\"esc\",\"v\":0,\"s\":\"a\\\"b\\\\c\\nd\\u0001\x7f\\ufffd\","
                          "\"cluster\":{\"name\":\"n1\"},\"ok\":false}\n");
}

TEST_F(LogTest, VerbosityLevels) {
  Options o = Base(Format::kJson);
  o.verbosity = 2;
  ASSERT_TRUE(Configure(o).ok());
  int evaluated = 0;
  auto expensive = [&] {
    ++evaluated;
    return std::string("x");
  };
  KSLICE_V(3).Info("hidden", {{"k", expensive()}});
  EXPECT_EQ(evaluated, 0);
  EXPECT_FALSE(V(3).enabled());
  EXPECT_TRUE(V(2).enabled());
  int line = __LINE__ + 1;
  KSLICE_V(2).Info("shown", {{"k", expensive()}});
  EXPECT_EQ(evaluated, 1);
  auto lines = sink_.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            "{\"ts\":1700000000123.456," + Caller(line) + ",\"msg\":\"shown\",\"v\":2,\"k\":\"x\"}\n");

  SetVerbosity(5);
  EXPECT_EQ(Verbosity(), 5);
  EXPECT_TRUE(V(5).enabled());
}

TEST_F(LogTest, VModule) {
  Options o = Base(Format::kText);
  o.vmodule = "other=9,log_te*=4";
  ASSERT_TRUE(Configure(o).ok());
  EXPECT_TRUE(V(4).enabled());
  EXPECT_FALSE(V(5).enabled());
  o.vmodule = "other=9";
  ASSERT_TRUE(Configure(o).ok());
  EXPECT_FALSE(V(1).enabled());

  EXPECT_FALSE(ValidateVModule("x").ok());
  EXPECT_FALSE(ValidateVModule("x=").ok());
  EXPECT_FALSE(ValidateVModule("x=-1").ok());
  EXPECT_FALSE(ValidateVModule("x=a").ok());
  EXPECT_TRUE(ValidateVModule("x=1,,y*=0,").ok());
  o.vmodule = "bad";
  EXPECT_EQ(Configure(o).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseFlagsTest, Forms) {
  struct Case {
    std::vector<std::string> args;
    int v;
    Format format;
    std::string vmodule;
    std::vector<std::string> rest;
  };
  std::vector<Case> cases = {
      {{"prog", "-v=3"}, 3, Format::kText, "", {"prog"}},
      {{"prog", "--v=4", "pos"}, 4, Format::kText, "", {"prog", "pos"}},
      {{"prog", "-v", "5", "--other=1"}, 5, Format::kText, "", {"prog", "--other=1"}},
      {{"prog", "--logging-format=json", "--vmodule=a*=2"}, 0, Format::kJson, "a*=2", {"prog"}},
      {{"prog", "--logging-format", "text", "--", "-v=9"}, 0, Format::kText, "", {"prog", "--", "-v=9"}},
  };
  for (const Case& c : cases) {
    std::vector<std::string> storage = c.args;
    std::vector<char*> argv;
    for (auto& s : storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    int argc = static_cast<int>(storage.size());
    absl::StatusOr<Options> o = ParseFlags(&argc, argv.data());
    ASSERT_TRUE(o.ok()) << o.status();
    EXPECT_EQ(o->verbosity, c.v);
    EXPECT_EQ(o->format, c.format);
    EXPECT_EQ(o->vmodule, c.vmodule);
    std::vector<std::string> rest(argv.begin(), argv.begin() + argc);
    EXPECT_EQ(rest, c.rest);
  }
}

TEST(ParseFlagsTest, Errors) {
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"p", "-v=x"}, {"p", "-v=-1"}, {"p", "-v"},
                                             {"p", "--logging-format=yaml"}, {"p", "--vmodule=x"}}) {
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    int argc = static_cast<int>(args.size());
    EXPECT_EQ(ParseFlags(&argc, argv.data()).status().code(), absl::StatusCode::kInvalidArgument)
        << args[1];
  }
}

TEST_F(LogTest, ConcurrentLinesDoNotInterleave) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 200; ++i) Info("msg", {{"t", t}, {"i", i}});
    });
  }
  std::thread reconfigure([] {
    for (int i = 0; i < 50; ++i) SetVerbosity(i % 3);
  });
  for (auto& th : threads) th.join();
  reconfigure.join();
  auto lines = sink_.lines();
  ASSERT_EQ(lines.size(), 800u);
  for (const std::string& l : lines) {
    EXPECT_EQ(l.back(), '\n');
    EXPECT_EQ(l.find('\n'), l.size() - 1);
  }
}

}  // namespace
}  // namespace kslice::log
