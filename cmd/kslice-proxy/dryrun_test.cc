#include "cmd/kslice-proxy/dryrun.h"

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "cmd/internal/objectfile/objectfile.h"
#include "gtest/gtest.h"

namespace kslice::proxy::cmd {
namespace {

using ::kslice::cmd::objectfile::ObjectSet;
using ::kslice::cmd::objectfile::ReadObjects;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The golden without its leading "# " description lines.
std::string Golden() {
  std::string out;
  for (absl::string_view line :
       absl::StrSplit(ReadFile("proxy/iptables/testdata/lab_nginx_service.golden"), '\n')) {
    if (absl::StartsWith(line, "#")) continue;
    out.append(line.data(), line.size());
    out.push_back('\n');
  }
  out.pop_back();  // StrSplit gave one more (empty) piece after the final newline
  return out;
}

BackendOptions LabOptions() {
  BackendOptions o;
  o.node_name = "k8-services-worker";
  o.cluster_cidrs = {"192.168.0.0/16"};
  return o;
}

TEST(DryRunTest, LabFixtureGivesTheLabGolden) {
  absl::StatusOr<ObjectSet> in = ReadObjects(ReadFile("testdata/proxy/lab.yaml"));
  ASSERT_TRUE(in.ok()) << in.status();
  std::ostringstream out;
  ASSERT_TRUE(RunDryRun(*in, "iptables", LabOptions(), out).ok());
  EXPECT_EQ(out.str(), Golden());
}

TEST(DryRunTest, UnknownModeListsTheRegisteredOnes) {
  std::ostringstream out;
  absl::Status s = RunDryRun(ObjectSet{}, "ipvs", LabOptions(), out);
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "iptables")) << s;
}

TEST(DryRunTest, ServicesOfAnotherProxyAreLeftOut) {
  absl::StatusOr<ObjectSet> in = ReadObjects(ReadFile("testdata/proxy/lab.yaml"));
  ASSERT_TRUE(in.ok()) << in.status();
  auto svc = std::make_shared<api::core::v1::Service>(*in->services[0]);
  (*svc->mutable_metadata()->mutable_labels())["service.kubernetes.io/service-proxy-name"] = "other";
  in->services[0] = svc;
  std::ostringstream out;
  ASSERT_TRUE(RunDryRun(*in, "iptables", LabOptions(), out).ok());
  EXPECT_FALSE(absl::StrContains(out.str(), "nginx-service")) << out.str();
}

TEST(NodeIPTest, InternalFirstThenExternalPerFamily) {
  api::core::v1::Node node;
  EXPECT_EQ(NodeIP(node, IPFamily::kIPv4), "");
  auto add = [&](const std::string& type, const std::string& ip) {
    auto* a = node.mutable_status()->add_addresses();
    a->set_type(type);
    a->set_address(ip);
  };
  add("Hostname", "node-a");
  add("ExternalIP", "203.0.113.7");
  EXPECT_EQ(NodeIP(node, IPFamily::kIPv4), "203.0.113.7");
  add("InternalIP", "fd00::7");
  add("InternalIP", "10.0.0.7");
  add("InternalIP", "10.0.0.8");
  EXPECT_EQ(NodeIP(node, IPFamily::kIPv4), "10.0.0.7");
  EXPECT_EQ(NodeIP(node, IPFamily::kIPv6), "fd00::7");
}

}  // namespace
}  // namespace kslice::proxy::cmd
