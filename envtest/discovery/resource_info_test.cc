#include "envtest/discovery/resource_info.h"

#include <string>
#include <vector>

#include "api/coordination/v1/coordination.pb.h"
#include "gtest/gtest.h"

namespace kslice::envtest::discovery {
namespace {

TEST(StorageVersionHashTest, MatchesKubeApiserver) {
  // Values from a kube-apiserver 1.31 /api/v1 document.
  EXPECT_EQ(StorageVersionHash("", "v1", "Pod"), "xPOwRZ+Yhw8=");
  EXPECT_EQ(StorageVersionHash("", "v1", "ConfigMap"), "qFsyl6wFWjQ=");
  EXPECT_EQ(StorageVersionHash("", "v1", "Service"), "0/CO1lhkEBI=");
  EXPECT_EQ(StorageVersionHash("", "v1", "Namespace"), "Q3oi5N2YM8M=");
  EXPECT_EQ(StorageVersionHash("", "v1", "Node"), "XwShjMxG9Fs=");
}

TEST(BuiltinInfoTest, Pods) {
  const ResourceInfo* pods = BuiltinInfo({"", "pods"});
  ASSERT_NE(pods, nullptr);
  EXPECT_EQ(pods->singular, "pod");
  EXPECT_EQ(pods->short_names, std::vector<std::string>{"po"});
  EXPECT_EQ(pods->categories, std::vector<std::string>{"all"});
  EXPECT_EQ(pods->verbs, (std::vector<std::string>{"create", "delete", "deletecollection", "get",
                                                   "list", "patch", "update", "watch"}));
  std::vector<std::string> subs;
  for (const SubresourceInfo& s : pods->subresources) subs.push_back(s.name);
  EXPECT_EQ(subs, (std::vector<std::string>{"binding", "status"}));
  EXPECT_EQ(pods->subresources[0].kind, "Binding");
  EXPECT_EQ(pods->subresources[1].verbs, (std::vector<std::string>{"get", "patch", "update"}));
}

TEST(BuiltinInfoTest, NamespacesHaveNoDeleteCollection) {
  const ResourceInfo* ns = BuiltinInfo({"", "namespaces"});
  ASSERT_NE(ns, nullptr);
  EXPECT_EQ(ns->short_names, std::vector<std::string>{"ns"});
  EXPECT_EQ(ns->verbs, (std::vector<std::string>{"create", "delete", "get", "list", "patch",
                                                 "update", "watch"}));
  ASSERT_EQ(ns->subresources.size(), 2u);
  EXPECT_EQ(ns->subresources[0].name, "finalize");
  EXPECT_EQ(ns->subresources[0].verbs, std::vector<std::string>{"update"});
}

TEST(BuiltinInfoTest, ShortNamesOfTheBuiltins) {
  struct Case {
    storage::ResourceKey key;
    std::string singular;
    std::vector<std::string> short_names;
  };
  for (const Case& c : std::vector<Case>{
           {{"", "services"}, "service", {"svc"}},
           {{"", "endpoints"}, "endpoints", {"ep"}},
           {{"", "nodes"}, "node", {"no"}},
           {{"", "events"}, "event", {"ev"}},
           {{"", "configmaps"}, "configmap", {"cm"}},
           {{"coordination.k8s.io", "leases"}, "lease", {}},
           {{"discovery.k8s.io", "endpointslices"}, "endpointslice", {}},
           {{"apps", "deployments"}, "deployment", {"deploy"}},
           {{"apps", "daemonsets"}, "daemonset", {"ds"}},
       }) {
    const ResourceInfo* info = BuiltinInfo(c.key);
    ASSERT_NE(info, nullptr) << c.key.String();
    EXPECT_EQ(info->singular, c.singular) << c.key.String();
    EXPECT_EQ(info->short_names, c.short_names) << c.key.String();
  }
  EXPECT_EQ(BuiltinInfo({"", "widgets"}), nullptr);
}

TEST(InfoForTest, DefaultsForUnknownResources) {
  storage::ResourceConfig c;
  c.key = {"example.com", "widgets"};
  c.kind = "FancyWidget";
  c.api_version = "example.com/v1";
  c.prototype = &kslice::api::coordination::v1::Lease::default_instance();
  ResourceInfo info = InfoFor(c);
  EXPECT_EQ(info.singular, "fancywidget");
  EXPECT_EQ(info.verbs, FullVerbs());
  EXPECT_TRUE(info.short_names.empty());
  EXPECT_TRUE(info.categories.empty());
  EXPECT_TRUE(info.subresources.empty());

  c.key = {"", "pods"};
  EXPECT_EQ(InfoFor(c).short_names, std::vector<std::string>{"po"});
}

}  // namespace
}  // namespace kslice::envtest::discovery
