#include "cmd/endpointslice-controller/dryrun.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/codec/codec.h"
#include "gtest/gtest.h"

namespace kslice::endpointslice::cmd {
namespace {

using api::discovery::v1::EndpointSlice;

constexpr char kTestdata[] = "testdata/endpointslice/";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

DryRunResult RunOn(absl::string_view data, int32_t max_endpoints = 100) {
  absl::StatusOr<DryRunInput> in = ParseDryRunInput(data);
  EXPECT_TRUE(in.ok()) << in.status();
  if (!in.ok()) return {};
  absl::StatusOr<DryRunResult> r = RunDryRun(*in, {.max_endpoints_per_slice = max_endpoints});
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : DryRunResult{};
}

DryRunResult RunFixture(const std::string& name) { return RunOn(ReadFile(kTestdata + name)); }

std::string Label(const EndpointSlice& s, const std::string& key) {
  auto it = s.metadata().labels().find(key);
  return it == s.metadata().labels().end() ? "<none>" : it->second;
}

std::set<std::string> Addresses(const EndpointSlice& s) {
  std::set<std::string> out;
  for (const auto& e : s.endpoints()) out.insert(e.addresses().begin(), e.addresses().end());
  return out;
}

// The dry run's YAML output for each fixture equals its golden file byte for byte.
class GoldenTest : public testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, MatchesGolden) {
  const std::string input = GetParam();
  DryRunResult r = RunFixture(input);
  EXPECT_TRUE(r.errors.empty()) << r.errors[0];
  absl::StatusOr<std::string> yaml = EncodeSliceList(r.slices, codec::Format::kYaml);
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  const std::string golden_path =
      absl::StrCat(kTestdata, input.substr(0, input.rfind('.')), ".golden.yaml");
  const std::string golden = ReadFile(golden_path);
  EXPECT_EQ(*yaml, golden) << "golden " << golden_path << "; got:\n" << *yaml;
  // The actual output lands in bazel-testlogs/.../test.outputs/ for review and copying.
  if (*yaml != golden && std::getenv("TEST_UNDECLARED_OUTPUTS_DIR") != nullptr) {
    std::ofstream(absl::StrCat(std::getenv("TEST_UNDECLARED_OUTPUTS_DIR"), "/",
                               golden_path.substr(golden_path.rfind('/') + 1)))
        << *yaml;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenTest,
                         testing::Values("list.json", "headless_dualstack.yaml",
                                         "existing_slice.yaml"));

TEST(DryRunTest, ListWithOneServiceCreatesOneSliceAsSent) {
  DryRunResult r = RunFixture("list.json");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_EQ(r.actions[0].kind, PlannedAction::Kind::kCreate);
  EXPECT_EQ(r.actions[0].service, "default/web");
  ASSERT_EQ(r.slices.size(), 1u);
  const EndpointSlice& s = r.slices[0];
  // Printed as sent: generateName, no name.
  EXPECT_EQ(s.metadata().generatename(), "web-");
  EXPECT_EQ(s.metadata().name(), "");
  EXPECT_EQ(s.addresstype(), "IPv4");
  EXPECT_EQ(Label(s, "kubernetes.io/service-name"), "web");
  EXPECT_EQ(Label(s, "endpointslice.kubernetes.io/managed-by"), "endpointslice-controller.k8s.io");
  EXPECT_EQ(Label(s, "tier"), "frontend");  // the service's labels are copied
  // The pod of another app is not selected; the not-ready pod is there, not ready.
  EXPECT_EQ(Addresses(s), (std::set<std::string>{"10.244.1.11", "10.244.1.12", "10.244.1.13"}));
  for (const auto& e : s.endpoints()) {
    EXPECT_EQ(e.zone(), "zone-a");
    EXPECT_EQ(e.nodename(), "node-a");
    EXPECT_EQ(e.conditions().ready(), e.targetref().name() != "web-3") << e.targetref().name();
  }
  // targetPort 8080 and the named port "metrics" resolved through the container port.
  std::set<int> ports;
  for (const auto& p : s.ports()) ports.insert(p.port());
  EXPECT_EQ(ports, (std::set<int>{8080, 9100}));
  ASSERT_EQ(s.metadata().ownerreferences_size(), 1);
  EXPECT_EQ(s.metadata().ownerreferences(0).uid(), "5a0c2b3e-1111-4d7e-9c1a-000000000001");
}

TEST(DryRunTest, HeadlessDualStackGetsOneSlicePerFamily) {
  absl::StatusOr<DryRunInput> in = ParseDryRunInput(ReadFile(absl::StrCat(kTestdata, "headless_dualstack.yaml")));
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->ignored, 1);  // the Deployment
  EXPECT_EQ(in->services.size(), 1u);
  EXPECT_EQ(in->pods.size(), 2u);
  EXPECT_EQ(in->nodes.size(), 2u);
  DryRunResult r = RunFixture("headless_dualstack.yaml");
  ASSERT_EQ(r.slices.size(), 2u);
  std::set<std::string> types;
  for (const EndpointSlice& s : r.slices) {
    types.insert(s.addresstype());
    EXPECT_EQ(Label(s, "service.kubernetes.io/headless"), "");
    ASSERT_EQ(s.endpoints_size(), 2);
    std::set<std::string> hostnames;
    for (const auto& e : s.endpoints()) hostnames.insert(e.hostname());
    EXPECT_EQ(hostnames, (std::set<std::string>{"db-0", "db-1"}));
    // A controller seeing the service for the first time writes its creationTimestamp.
    EXPECT_EQ(s.metadata().annotations().at("endpoints.kubernetes.io/last-change-trigger-time"),
              "2026-11-20T10:00:00Z");
  }
  EXPECT_EQ(types, (std::set<std::string>{"IPv4", "IPv6"}));
}

TEST(DryRunTest, ExistingSliceIsUpdatedInPlace) {
  DryRunResult r = RunFixture("existing_slice.yaml");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_EQ(r.actions[0].kind, PlannedAction::Kind::kUpdate);
  EXPECT_EQ(r.actions[0].slice.metadata().name(), "api-x7k2p");
  EXPECT_TRUE(absl::StartsWith(DescribeAction(r.actions[0]), "update shop/api-x7k2p "))
      << DescribeAction(r.actions[0]);
  // The slice of another manager is not ours: not printed.
  ASSERT_EQ(r.slices.size(), 1u);
  EXPECT_EQ(r.slices[0].metadata().name(), "api-x7k2p");
  EXPECT_EQ(Addresses(r.slices[0]), (std::set<std::string>{"10.244.4.1", "10.244.4.2"}));
}

TEST(DryRunTest, UpToDateSliceNeedsNoWrites) {
  // Feed the created slice back in as stored: nothing more to do.
  DryRunResult first = RunFixture("list.json");
  ASSERT_EQ(first.slices.size(), 1u);
  EndpointSlice stored = first.slices[0];
  stored.mutable_metadata()->set_name("web-abcde");
  stored.mutable_metadata()->set_uid("uid-1");
  stored.mutable_metadata()->set_resourceversion("5");
  stored.mutable_metadata()->set_generation(1);
  absl::StatusOr<std::string> json = codec::Encode(stored, codec::Format::kJson);
  ASSERT_TRUE(json.ok());
  DryRunResult second = RunOn(ReadFile(absl::StrCat(kTestdata, "list.json")) + *json);
  EXPECT_TRUE(second.actions.empty()) << DescribeAction(second.actions[0]);
  ASSERT_EQ(second.slices.size(), 1u);
  EXPECT_EQ(second.slices[0].metadata().name(), "web-abcde");
}

TEST(DryRunTest, OutputFedBackNeedsNoWrites) {
  // Two created slices (no names) as input again: each is kept, nothing more to do.
  DryRunResult first = RunOn(ReadFile(absl::StrCat(kTestdata, "list.json")), 2);
  ASSERT_EQ(first.slices.size(), 2u);
  absl::StatusOr<std::string> list = EncodeSliceList(first.slices, codec::Format::kJson);
  ASSERT_TRUE(list.ok());
  DryRunResult second = RunOn(ReadFile(absl::StrCat(kTestdata, "list.json")) + *list, 2);
  EXPECT_TRUE(second.actions.empty()) << DescribeAction(second.actions[0]);
  ASSERT_EQ(second.slices.size(), 2u);
  EXPECT_EQ(second.slices[0].metadata().name(), "web-unnamed-0");
  EXPECT_EQ(second.slices[1].metadata().name(), "web-unnamed-1");
}

TEST(DryRunTest, MaxEndpointsPerSliceSplits) {
  DryRunResult r = RunOn(ReadFile(absl::StrCat(kTestdata, "list.json")), /*max_endpoints=*/2);
  ASSERT_EQ(r.slices.size(), 2u);
  EXPECT_EQ(r.slices[0].endpoints_size() + r.slices[1].endpoints_size(), 3);
  EXPECT_EQ(r.actions.size(), 2u);
}

TEST(DryRunTest, PodOnUnknownNodeIsSkippedWithAnError) {
  constexpr char kInput[] = R"(
apiVersion: v1
kind: Service
metadata: {name: s, namespace: ns, uid: u1}
spec:
  clusterIP: 10.96.0.1
  selector: {app: x}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns, uid: u2, labels: {app: x}}
spec: {nodeName: missing, containers: [{name: c, image: i}]}
status:
  phase: Running
  podIPs: [{ip: 10.0.0.1}]
  conditions: [{type: Ready, status: "True"}]
)";
  DryRunResult r = RunOn(kInput);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(r.errors[0], "ns/s: ")) << r.errors[0];
  EXPECT_TRUE(absl::StrContains(r.errors[0], "missing")) << r.errors[0];
  // The slice is still written, without the pod (a placeholder with no endpoints).
  ASSERT_EQ(r.slices.size(), 1u);
  EXPECT_EQ(r.slices[0].endpoints_size(), 0);
}

TEST(DryRunTest, ServicesWithoutSelectorOrExternalNameAreSkipped) {
  constexpr char kInput[] = R"(
apiVersion: v1
kind: Service
metadata: {name: manual, namespace: ns}
spec:
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: ns}
spec:
  type: ExternalName
  externalName: example.com
  selector: {app: x}
)";
  DryRunResult r = RunOn(kInput);
  EXPECT_TRUE(r.actions.empty());
  EXPECT_TRUE(r.slices.empty());
  EXPECT_TRUE(r.errors.empty());
}

TEST(DryRunTest, ServicesAreReconciledInNamespaceNameOrder) {
  constexpr char kInput[] = R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"b","namespace":"y"},"spec":{"clusterIP":"10.96.0.2","selector":{"a":"b"},"ports":[{"port":1}]}}
{"apiVersion":"v1","kind":"Service","metadata":{"name":"a","namespace":"y"},"spec":{"clusterIP":"10.96.0.2","selector":{"a":"b"},"ports":[{"port":1}]}}
{"apiVersion":"v1","kind":"Service","metadata":{"name":"z","namespace":"x"},"spec":{"clusterIP":"10.96.0.2","selector":{"a":"b"},"ports":[{"port":1}]}}
)";
  DryRunResult r = RunOn(kInput);
  std::vector<std::string> order;
  for (const PlannedAction& a : r.actions) order.push_back(a.service);
  EXPECT_EQ(order, (std::vector<std::string>{"x/z", "y/a", "y/b"}));
  std::vector<std::string> printed;
  for (const EndpointSlice& s : r.slices) printed.push_back(s.metadata().generatename());
  EXPECT_EQ(printed, (std::vector<std::string>{"z-", "a-", "b-"}));
}

TEST(ParseDryRunInputTest, TypedListItemsTakeTheListsKind) {
  constexpr char kInput[] = R"(
apiVersion: v1
kind: PodList
items:
- metadata: {name: p1, namespace: ns}
- metadata: {name: p2, namespace: ns}
)";
  absl::StatusOr<DryRunInput> in = ParseDryRunInput(kInput);
  ASSERT_TRUE(in.ok()) << in.status();
  ASSERT_EQ(in->pods.size(), 2u);
  EXPECT_EQ(in->pods[1]->metadata().name(), "p2");
}

TEST(ParseDryRunInputTest, ErrorsNameTheDocument) {
  absl::StatusOr<DryRunInput> in =
      ParseDryRunInput("apiVersion: v1\nkind: Node\nmetadata: {name: node1}\n---\n[1, 2\n");
  ASSERT_FALSE(in.ok());
  EXPECT_TRUE(absl::StartsWith(in.status().message(), "document 2: ")) << in.status();

  in = ParseDryRunInput("apiVersion: v1\nkind: Pod\nmetadata: {name: 7}\nspec: {nodeName: [x]}\n");
  ASSERT_FALSE(in.ok());
  EXPECT_TRUE(absl::StartsWith(in.status().message(), "document 1 (Pod): ")) << in.status();

  in = ParseDryRunInput(R"({"kind":"List","items":[{"kind":"Service","apiVersion":"v1","spec":3}]})");
  ASSERT_FALSE(in.ok());
  EXPECT_TRUE(absl::StartsWith(in.status().message(), "document 1, item 1 (Service): "))
      << in.status();

  EXPECT_FALSE(ParseDryRunInput("{\"kind\": \"List\"} {").ok());
  EXPECT_FALSE(ParseDryRunInput(std::string("k8s\0\x0a", 5)).ok());
}

TEST(ParseDryRunInputTest, EmptyInputIsEmpty) {
  for (const char* text : {"", "\n# nothing\n---\n", "---\n---\n"}) {
    absl::StatusOr<DryRunInput> in = ParseDryRunInput(text);
    ASSERT_TRUE(in.ok()) << in.status();
    EXPECT_TRUE(in->services.empty() && in->pods.empty() && in->nodes.empty() && in->slices.empty());
  }
}

TEST(EncodeSliceListTest, JsonListDecodesBack) {
  DryRunResult r = RunFixture("list.json");
  absl::StatusOr<std::string> json = EncodeSliceList(r.slices, codec::Format::kJson);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_TRUE(absl::StartsWith(*json, "{\n  \"apiVersion\": \"v1\",\n  \"items\": [")) << *json;
  EXPECT_TRUE(absl::EndsWith(*json, "\"kind\": \"List\"\n}\n")) << *json;
  // The output is valid dry-run input again.
  absl::StatusOr<DryRunInput> in = ParseDryRunInput(*json);
  ASSERT_TRUE(in.ok()) << in.status();
  ASSERT_EQ(in->slices.size(), 1u);
  EXPECT_EQ(in->slices[0]->metadata().generatename(), "web-");

  absl::StatusOr<std::string> empty = EncodeSliceList({}, codec::Format::kYaml);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "apiVersion: v1\nitems: []\nkind: List\n");
}

}  // namespace
}  // namespace kslice::endpointslice::cmd
