#include "cmd/internal/flags/flags.h"

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kslice::cmd::flags {
namespace {

using ::testing::HasSubstr;

struct Options {
  std::string name;
  bool on = false;
  int count = 0;
  int32_t small = 0;
  float rate = 0;
  absl::Duration period = absl::ZeroDuration();
  std::map<std::string, std::string> extra;
};

std::vector<Flag> Table(Options* o) {
  return {
      {{"n", "name"}, false, StringSetter(&o->name)},
      {{"on"}, true, BoolSetter("on", &o->on)},
      {{"count"}, false, IntSetter("count", &o->count)},
      {{"small"}, false, Int32Setter("small", &o->small)},
      {{"rate"}, false, FloatSetter("rate", &o->rate)},
      {{"period"}, false, DurationSetter("period", &o->period)},
      {{"opt"}, false, KeyValueSetter("opt", &o->extra)},
  };
}

absl::Status Parse(std::vector<std::string> args, Options* o) { return ParseArgs(args, Table(o)); }

TEST(ParseArgs, EqualsAndSeparateValuesAndAliases) {
  Options o;
  ASSERT_TRUE(Parse({"--name=a", "--count", "7", "-small=3", "--rate", "2.5", "--period=1m30s"}, &o).ok());
  EXPECT_EQ(o.name, "a");
  EXPECT_EQ(o.count, 7);
  EXPECT_EQ(o.small, 3);
  EXPECT_FLOAT_EQ(o.rate, 2.5f);
  EXPECT_EQ(o.period, absl::Seconds(90));
  ASSERT_TRUE(Parse({"-n", "b"}, &o).ok());
  EXPECT_EQ(o.name, "b");
  // The last value wins; an explicitly empty value is a value.
  ASSERT_TRUE(Parse({"--name=x", "--name="}, &o).ok());
  EXPECT_EQ(o.name, "");
}

TEST(ParseArgs, Booleans) {
  Options o;
  ASSERT_TRUE(Parse({"--on"}, &o).ok());
  EXPECT_TRUE(o.on);
  ASSERT_TRUE(Parse({"--on=false"}, &o).ok());
  EXPECT_FALSE(o.on);
  // pflag: a boolean does not consume the next argument.
  absl::Status s = Parse({"--on", "false"}, &o);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(s.message(), HasSubstr("unexpected argument \"false\""));
  s = Parse({"--on=maybe"}, &o);
  EXPECT_EQ(s.message(), "invalid value for --on: \"maybe\" is not a boolean");
}

TEST(ParseArgs, Errors) {
  Options o;
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--nope=1"}, "unknown flag: --nope=1"},
      {{"--"}, "unknown flag: --"},
      {{"positional"}, "unexpected argument \"positional\""},
      {{"--name"}, "flag needs an argument: --name"},
      {{"--count=ten"}, "invalid value for --count: \"ten\" is not an integer"},
      {{"--small=99999999999"}, "invalid value for --small: \"99999999999\" is not an integer"},
      {{"--rate=fast"}, "invalid value for --rate: \"fast\" is not a number"},
      {{"--period=5"},
       "invalid value for --period: \"5\" is not a duration (examples: 0, 500ms, 1s, 1m30s)"},
      {{"--opt=novalue"}, "invalid value for --opt: \"novalue\" is not KEY=VALUE"},
      {{"--opt==v"}, "invalid value for --opt: \"=v\" has an empty key"},
      {{"--opt", "a b=c"}, "invalid value for --opt: key \"a b\" contains whitespace or control characters"},
  };
  for (const Case& c : cases) {
    absl::Status s = Parse(c.args, &o);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << c.args[0];
    EXPECT_EQ(s.message(), c.message) << c.args[0];
  }
}

TEST(ParseArgs, DurationZeroIsValid) {
  Options o;
  o.period = absl::Seconds(3);
  ASSERT_TRUE(Parse({"--period=0"}, &o).ok());
  EXPECT_EQ(o.period, absl::ZeroDuration());
}

TEST(KeyValueSetter, RepeatsAccumulateLastKeyWins) {
  Options o;
  ASSERT_TRUE(Parse({"--opt", "grpc.listen=unix:/run/a.sock", "--opt=iptables.node-ip=10.0.0.1",
                     "--opt=empty=", "--opt=grpc.listen=:9000"},
                    &o)
                  .ok());
  const std::map<std::string, std::string> want = {{"grpc.listen", ":9000"},
                                                   {"iptables.node-ip", "10.0.0.1"},
                                                   {"empty", ""}};
  EXPECT_EQ(o.extra, want);
}

TEST(LeaderElection, FlagsAndValidation) {
  LeaderElectionFlags le;
  le.lease_name = "x";
  std::vector<Flag> table;
  AddLeaderElectionFlags(&le, &table);
  ASSERT_TRUE(ParseArgs({"--leader-elect=false", "--leader-elect-lease-duration=30s",
                         "--leader-elect-renew-deadline=20s", "--leader-elect-retry-period=5s",
                         "--leader-elect-resource-name=mine",
                         "--leader-elect-resource-namespace=ns"},
                        table)
                  .ok());
  EXPECT_FALSE(le.leader_elect);
  EXPECT_EQ(le.lease_duration, absl::Seconds(30));
  EXPECT_EQ(le.renew_deadline, absl::Seconds(20));
  EXPECT_EQ(le.retry_period, absl::Seconds(5));
  EXPECT_EQ(le.lease_name, "mine");
  EXPECT_EQ(le.lease_namespace, "ns");
  EXPECT_TRUE(ValidateLeaderElection(le).ok());

  LeaderElectionFlags bad = le;
  bad.renew_deadline = bad.lease_duration;
  EXPECT_THAT(ValidateLeaderElection(bad).message(), HasSubstr("must be greater than"));
  bad = le;
  bad.retry_period = absl::Seconds(17);  // 17 * 1.2 > 20
  EXPECT_THAT(ValidateLeaderElection(bad).message(), HasSubstr("JitterFactor"));
  bad = le;
  bad.lease_name = "";
  EXPECT_THAT(ValidateLeaderElection(bad).message(), HasSubstr("must not be empty"));
  bad = le;
  bad.lock = "configmaps";
  EXPECT_EQ(ValidateLeaderElection(bad).message(),
            "invalid value for --leader-elect-resource-lock: \"configmaps\": only \"leases\" is "
            "supported");
}

}  // namespace
}  // namespace kslice::cmd::flags
