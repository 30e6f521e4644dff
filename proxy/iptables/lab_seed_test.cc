// The lab case against what the seed shows of a real node (testdata/lab_seed_iptables.txt,
// an excerpt of shared/seed/): the chains, rules, matches, targets and comments our
// payload gives must be the ones `iptables -S` and `iptables -L -n -v` list there.
// The kernel prints rules in its own normalised form (addresses with /32, `-p` before
// the matches, probabilities with 11 digits), so both sides are brought to that form.
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "proxy/iptables/ruleset.h"
#include "proxy/iptables/test_util.h"

namespace kslice::proxy::iptables {
namespace {

// Splits a restore rule into arguments, honouring double quotes.
std::vector<std::string> Tokenize(absl::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, any = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
      any = true;
    } else if (c == ' ' && !quoted) {
      if (any) out.push_back(cur);
      cur.clear();
      any = false;
    } else {
      cur.push_back(c);
      any = true;
    }
  }
  if (any) out.push_back(cur);
  return out;
}

// One rule as `iptables -L -n -v` shows it.
struct Listed {
  std::string target, prot = "all", source = "0.0.0.0/0", destination = "0.0.0.0/0";
  std::string comment;
  std::string extra;        // "tcp dpt:80", "tcp to:1.2.3.4:80"
  double probability = -1;  // statistic match, or -1
  // `iptables -S` form of the same rule.
  std::string save;
};

Listed FromRestoreRule(absl::string_view line) {
  std::vector<std::string> t = Tokenize(line);
  Listed r;
  std::string chain, src, dst, proto, dport, to, comment;
  bool neg_src = false;
  std::vector<std::string> matches;  // "-m" modules in order
  for (size_t i = 0; i < t.size(); ++i) {
    const std::string& a = t[i];
    auto next = [&]() { return i + 1 < t.size() ? t[++i] : std::string(); };
    if (a == "-A")
      chain = next();
    else if (a == "!" && i + 1 < t.size() && t[i + 1] == "-s") {
      neg_src = true;
    } else if (a == "-s")
      src = next();
    else if (a == "-d")
      dst = next();
    else if (a == "-p")
      proto = next();
    else if (a == "-m")
      matches.push_back(next());
    else if (a == "--comment")
      comment = next();
    else if (a == "--dport")
      dport = next();
    else if (a == "--probability")
      absl::SimpleAtod(next(), &r.probability);
    else if (a == "--to-destination")
      to = next();
    else if (a == "-j")
      r.target = next();
  }
  auto with_mask = [](const std::string& ip) {
    return absl::StrContains(ip, "/") ? ip : absl::StrCat(ip, "/32");
  };
  if (!proto.empty()) r.prot = proto;
  if (!src.empty()) r.source = absl::StrCat(neg_src ? "!" : "", src);
  if (!dst.empty()) r.destination = dst;
  r.comment = comment;
  if (!dport.empty()) r.extra = absl::StrCat(proto, " dpt:", dport);
  if (!to.empty()) r.extra = absl::StrCat(proto, " to:", to);
  // iptables-save order: addresses, protocol, then the matches as given, then target.
  r.save = absl::StrCat("-A ", chain);
  if (!src.empty()) absl::StrAppend(&r.save, neg_src ? " ! -s " : " -s ", with_mask(src));
  if (!dst.empty()) absl::StrAppend(&r.save, " -d ", with_mask(dst));
  if (!proto.empty()) absl::StrAppend(&r.save, " -p ", proto);
  for (const std::string& m : matches) {
    if (m == "comment") absl::StrAppend(&r.save, " -m comment --comment \"", comment, "\"");
    if (m == proto && !dport.empty()) absl::StrAppend(&r.save, " -m ", m, " --dport ", dport);
  }
  absl::StrAppend(&r.save, " -j ", r.target);
  return r;
}

// Parses a row of `iptables -L -n -v --line-numbers`.
Listed FromListingRow(absl::string_view row) {
  Listed r;
  size_t open = row.find("/* ");
  size_t close = row.find(" */");
  std::vector<std::string> f = absl::StrSplit(row.substr(0, open), ' ', absl::SkipWhitespace());
  // num pkts bytes target prot opt in out source destination
  r.target = f[3];
  r.prot = f[4];
  r.source = f[8];
  r.destination = f[9];
  if (open != absl::string_view::npos) {
    r.comment = std::string(row.substr(open + 3, close - open - 3));
    std::string extra(absl::StripAsciiWhitespace(row.substr(close + 3)));
    constexpr absl::string_view kProb = "statistic mode random probability ";
    if (absl::StartsWith(extra, kProb)) {
      absl::SimpleAtod(extra.substr(kProb.size()), &r.probability);
      extra.clear();
    }
    r.extra = extra;
  }
  return r;
}

TEST(LabSeedTest, RulesEqualWhatTheSeedShows) {
  testing::StateBuilder b("k8-services-worker");
  b.Service("default", "nginx-service", "http", "10.96.204.67", 80);
  b.Endpoint("default", "nginx-service", "http", "192.168.156.5", 80, "k8-services-worker2");
  b.Endpoint("default", "nginx-service", "http", "192.168.202.196", 80, "k8-services-worker");
  RulesetConfig c;
  c.local_detector = LocalTrafficDetector::ClusterCIDR("192.168.0.0/16");
  absl::StatusOr<std::unique_ptr<RulesetGenerator>> g = RulesetGenerator::Create(c);
  ASSERT_TRUE(g.ok());
  std::string payload = (*g)->Generate(b.Build(), GenerateRequest{}).payload;

  // Our nat rules per chain.
  std::map<std::string, std::vector<Listed>> ours;
  bool nat = false;
  for (absl::string_view line : absl::StrSplit(payload, '\n', absl::SkipEmpty())) {
    if (line == "*nat") nat = true;
    if (!nat || !absl::StartsWith(line, "-A ")) continue;
    std::string chain(Tokenize(line)[1]);
    ours[chain].push_back(FromRestoreRule(line));
  }

  std::string seed = testing::ReadGolden("lab_seed_iptables.txt");
  std::vector<std::string> lines = absl::StrSplit(seed, '\n', absl::SkipEmpty());
  int compared_chains = 0;
  bool compared_save_line = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (absl::StartsWith(line, "-A KUBE-SERVICES")) {
      // `iptables -S KUBE-SERVICES | grep nginx-service`.
      std::vector<std::string> ours_save;
      for (const Listed& r : ours["KUBE-SERVICES"]) {
        if (absl::StrContains(r.comment, "nginx-service")) ours_save.push_back(r.save);
      }
      EXPECT_EQ(ours_save, std::vector<std::string>{line});
      compared_save_line = true;
    } else if (absl::StartsWith(line, "Chain ")) {
      std::string chain = std::vector<std::string>(absl::StrSplit(line, ' '))[1];
      std::vector<Listed> listed;
      for (i += 2; i < lines.size() && !lines[i].empty() && absl::ascii_isdigit(lines[i][0]); ++i) {
        listed.push_back(FromListingRow(lines[i]));
      }
      --i;
      SCOPED_TRACE(chain);
      ASSERT_TRUE(ours.count(chain)) << "chain missing from our payload";
      const std::vector<Listed>& mine = ours[chain];
      ASSERT_EQ(mine.size(), listed.size());
      for (size_t k = 0; k < mine.size(); ++k) {
        SCOPED_TRACE(k);
        EXPECT_EQ(mine[k].target, listed[k].target);
        EXPECT_EQ(mine[k].prot, listed[k].prot);
        EXPECT_EQ(mine[k].source, listed[k].source);
        EXPECT_EQ(mine[k].destination, listed[k].destination);
        EXPECT_EQ(mine[k].comment, listed[k].comment);
        EXPECT_EQ(mine[k].extra, listed[k].extra);
        EXPECT_NEAR(mine[k].probability, listed[k].probability, 1e-9);
      }
      ++compared_chains;
    }
  }
  EXPECT_TRUE(compared_save_line);
  EXPECT_EQ(compared_chains, 3);  // KUBE-SVC-6IM33IEVEEV7U3GP and both KUBE-SEP chains
}

}  // namespace
}  // namespace kslice::proxy::iptables
