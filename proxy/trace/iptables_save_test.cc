#include "proxy/trace/iptables_save.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace kslice::proxy::trace {
namespace {

SavedRule One(const std::string& rule, const std::string& table = "nat") {
  absl::StatusOr<SavedRuleset> rs =
      ParseIptablesSave("*" + table + "\n" + rule + "\nCOMMIT\n");
  EXPECT_TRUE(rs.ok()) << rs.status();
  if (!rs.ok()) return {};
  for (const auto& [name, chain] : rs->tables.at(table).chains) {
    if (!chain.rules.empty()) return chain.rules[0];
  }
  ADD_FAILURE() << "no rule";
  return {};
}

TEST(IptablesSaveTest, RestoreLineAndKernelListingHaveTheSameKey) {
  struct Case {
    std::string restore, kernel;
  } cases[] = {
      {"-A KUBE-SERVICES -m comment --comment \"default/nginx-service:http cluster IP\" -m tcp -p "
       "tcp -d 10.96.204.67 --dport 80 -j KUBE-SVC-6IM33IEVEEV7U3GP",
       "-A KUBE-SERVICES -d 10.96.204.67/32 -p tcp -m comment --comment "
       "\"default/nginx-service:http cluster IP\" -m tcp --dport 80 -j KUBE-SVC-6IM33IEVEEV7U3GP"},
      {"-A KUBE-SVC-X -m comment --comment \"a -> b\" -m statistic --mode random --probability "
       "0.3333333333 -j KUBE-SEP-Y",
       "-A KUBE-SVC-X -m comment --comment \"a -> b\" -m statistic --mode random --probability "
       "0.33333333349 -j KUBE-SEP-Y"},
      {"-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000",
       "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000"},
      {"-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000",
       "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0"},
      {"-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN",
       "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN"},
      {"-A KUBE-SEP-Y -m comment --comment ns/svc:p -s 10.0.0.1 -j KUBE-MARK-MASQ",
       "-A KUBE-SEP-Y -s 10.0.0.1/32 -m comment --comment \"ns/svc:p\" -j KUBE-MARK-MASQ"},
      {"-A KUBE-SVC-X -m comment --comment \"ns/svc:p -> 10.0.0.1:80\" -m recent --name KUBE-SEP-Y "
       "--rcheck --seconds 10800 --reap -j KUBE-SEP-Y",
       "-A KUBE-SVC-X -m comment --comment \"ns/svc:p -> 10.0.0.1:80\" -m recent --rcheck "
       "--seconds 10800 --reap --name KUBE-SEP-Y --mask 255.255.255.255 --rsource -j KUBE-SEP-Y"},
      // Counters are not behaviour.
      {"-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name "
       "ct_state_invalid_dropped_pkts -j DROP",
       "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.restore);
    EXPECT_EQ(One(c.restore).Key(), One(c.kernel).Key());
  }
}

TEST(IptablesSaveTest, DifferentRulesHaveDifferentKeys) {
  EXPECT_NE(One("-A C ! -s 10.0.0.0/8 -j X").Key(), One("-A C -s 10.0.0.0/8 -j X").Key());
  EXPECT_NE(One("-A C -m statistic --mode random --probability 0.5 -j X").Key(),
            One("-A C -m statistic --mode random --probability 0.25 -j X").Key());
  EXPECT_NE(One("-A C -m comment --comment \"a b\" -j X").Key(),
            One("-A C -m comment --comment \"a c\" -j X").Key());
  EXPECT_NE(One("-A C -j X").Key(), One("-A C -g X").Key());
  EXPECT_NE(One("-A C -p tcp -m tcp --dport 80 -j X").Key(),
            One("-A C -p tcp -m tcp --dport 81 -j X").Key());
}

TEST(IptablesSaveTest, RenderIsTheKernelForm) {
  EXPECT_EQ(One("-A KUBE-SERVICES -m comment --comment \"default/nginx-service:http cluster IP\" "
                "-m tcp -p tcp -d 10.96.204.67 --dport 80 -j KUBE-SVC-6IM33IEVEEV7U3GP")
                .Render(),
            "-A KUBE-SERVICES -d 10.96.204.67/32 -p tcp -m comment --comment "
            "\"default/nginx-service:http cluster IP\" -m tcp --dport 80 -j "
            "KUBE-SVC-6IM33IEVEEV7U3GP");
  EXPECT_EQ(One("-A KUBE-SVC-X -m comment --comment \"default/nginx-service:http cluster IP\" -m "
                "tcp -p tcp -d 10.96.204.67 --dport 80 ! -s 192.168.0.0/16 -j KUBE-MARK-MASQ")
                .Render(),
            "-A KUBE-SVC-X ! -s 192.168.0.0/16 -d 10.96.204.67/32 -p tcp -m comment --comment "
            "\"default/nginx-service:http cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ");
}

TEST(IptablesSaveTest, QuotingAndEscapes) {
  SavedRule r = One("-A C -m comment --comment \"say \\\"hi\\\" -j X\" -j Y");
  EXPECT_EQ(r.Comment(), "say \"hi\" -j X");
  EXPECT_EQ(r.target, "Y");
  EXPECT_TRUE(absl::StrContains(r.Render(), "--comment \"say \\\"hi\\\" -j X\""));
}

TEST(IptablesSaveTest, Accessors) {
  SavedRule r = One(
      "-A KUBE-SEP-Y -p tcp -m comment --comment \"ns/svc:p\" -m recent --set --name KUBE-SEP-Y "
      "--mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.0.0.1:80");
  EXPECT_EQ(r.chain, "KUBE-SEP-Y");
  EXPECT_EQ(r.protocol, "tcp");
  EXPECT_EQ(r.TargetOption("--to-destination"), "10.0.0.1:80");
  EXPECT_TRUE(r.MatchOption("recent", "--set").has_value());
  EXPECT_EQ(r.MatchOption("recent", "--name"), "KUBE-SEP-Y");
  EXPECT_FALSE(r.Probability().has_value());
  // Implicit protocol match.
  SavedRule implicit = One("-A C -p udp --dport 53 -j X");
  EXPECT_EQ(implicit.MatchOption("udp", "--dport"), "53");
}

TEST(IptablesSaveTest, CountersDeclarationsAndRestoreCommands) {
  absl::StatusOr<SavedRuleset> rs = ParseIptablesSave(
      "# comment\n*nat\n:PREROUTING ACCEPT [10:600]\n:KUBE-SEP-OLD - [0:0]\n:KUBE-SVC-A - [0:0]\n"
      "[3:180] -A KUBE-SVC-A -j KUBE-SEP-OLD\n-F KUBE-SVC-A\n-X KUBE-SEP-OLD\nCOMMIT\n"
      "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n");
  ASSERT_TRUE(rs.ok()) << rs.status();
  EXPECT_EQ(rs->tables.size(), 2u);
  EXPECT_EQ(rs->Find("nat", "PREROUTING")->policy, "ACCEPT");
  EXPECT_EQ(rs->Find("nat", "KUBE-SEP-OLD"), nullptr);
  ASSERT_NE(rs->Find("nat", "KUBE-SVC-A"), nullptr);
  EXPECT_TRUE(rs->Find("nat", "KUBE-SVC-A")->rules.empty());
  EXPECT_EQ(rs->tables.at("nat").chain_order,
            (std::vector<std::string>{"PREROUTING", "KUBE-SVC-A"}));
}

TEST(IptablesSaveTest, MalformedInputIsAnErrorWithTheLine) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"-A C -j X\n", "line 1: \"-A C -j X\" outside a table"},
      {"*nat\n-A C -j X\n", "no COMMIT"},
      {"*nat\n-A C -m comment --comment \"open -j X\nCOMMIT\n", "line 2: unterminated quote"},
      {"*nat\n-A C -s\nCOMMIT\n", "line 2: option -s needs a value"},
      {"*nat\n-I C 1 -j X\nCOMMIT\n", "line 2: unknown command \"-I\""},
      {"*nat\n-A C --dport 80 -j X\nCOMMIT\n", "line 2: option --dport outside a match"},
      {"*nat\n-A C -j\nCOMMIT\n", "line 2: option -j needs a value"},
      {"*nat\n-A C -z -j X\nCOMMIT\n", "line 2: unknown option -z"},
      {"*nat\n*filter\nCOMMIT\n", "line 2: table started before COMMIT"},
      {"COMMIT\n", "line 1: COMMIT outside a table"},
      {"*nat\n-A C -j X !\nCOMMIT\n", ""},  // "!" after -j belongs to the target: accepted
      {"*nat\n-A C ! -j X\nCOMMIT\n", "line 2: \"!\" before -j is not supported"},
      {"*nat\n-A\nCOMMIT\n", "line 2: command without a chain"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<SavedRuleset> rs = ParseIptablesSave(c.text);
    if (std::string(c.error).empty()) {
      EXPECT_TRUE(rs.ok()) << rs.status();
      continue;
    }
    ASSERT_FALSE(rs.ok());
    EXPECT_EQ(rs.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(rs.status().message(), c.error)) << rs.status();
  }
}

TEST(IptablesSaveTest, KernelProbability) {
  EXPECT_EQ(KernelProbability("0.5000000000"), "0.50000000000");
  EXPECT_EQ(KernelProbability("0.3333333333"), "0.33333333349");
  EXPECT_EQ(KernelProbability("0.33333333349"), "0.33333333349");
  EXPECT_EQ(KernelProbability("0.2500000000"), "0.25000000000");
  EXPECT_FALSE(KernelProbability("1.5").has_value());
  EXPECT_FALSE(KernelProbability("x").has_value());
}

}  // namespace
}  // namespace kslice::proxy::trace
