#include "client/rest/resource.h"

#include "api/coordination/v1/coordination.pb.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "gtest/gtest.h"

namespace kslice::client {
namespace {

TEST(Resource, BuiltinKinds) {
  struct Case {
    const google::protobuf::Descriptor* d;
    const char *group, *resource;
    bool namespaced;
  } cases[] = {
      {api::core::v1::Pod::descriptor(), "", "pods", true},
      {api::core::v1::Service::descriptor(), "", "services", true},
      {api::core::v1::Endpoints::descriptor(), "", "endpoints", true},
      {api::core::v1::Node::descriptor(), "", "nodes", false},
      {api::core::v1::Namespace::descriptor(), "", "namespaces", false},
      {api::core::v1::ConfigMap::descriptor(), "", "configmaps", true},
      {api::core::v1::Event::descriptor(), "", "events", true},
      {api::core::v1::PersistentVolume::descriptor(), "", "persistentvolumes", false},
      {api::core::v1::PersistentVolumeClaim::descriptor(), "", "persistentvolumeclaims", true},
      {api::discovery::v1::EndpointSlice::descriptor(), "discovery.k8s.io", "endpointslices",
       true},
      {api::coordination::v1::Lease::descriptor(), "coordination.k8s.io", "leases", true},
  };
  for (const Case& c : cases) {
    const ResourceInfo* r = ResourceFor(c.d);
    ASSERT_NE(r, nullptr) << c.d->full_name();
    EXPECT_EQ(r->group, c.group);
    EXPECT_EQ(r->version, "v1");
    EXPECT_EQ(r->resource, c.resource);
    EXPECT_EQ(r->namespaced, c.namespaced) << c.resource;
  }
  EXPECT_EQ(ResourceFor(api::core::v1::PodList::descriptor()), nullptr);
  EXPECT_EQ(ResourceFor("discovery.k8s.io/v1", "EndpointSlice")->resource, "endpointslices");
  EXPECT_EQ(ResourceFor("v1", "Gizmo"), nullptr);
}

TEST(Resource, Paths) {
  const ResourceInfo& pods = *ResourceFor(api::core::v1::Pod::descriptor());
  const ResourceInfo& nodes = *ResourceFor(api::core::v1::Node::descriptor());
  const ResourceInfo& slices = *ResourceFor(api::discovery::v1::EndpointSlice::descriptor());
  EXPECT_EQ(ResourcePath(pods, "default"), "/api/v1/namespaces/default/pods");
  EXPECT_EQ(ResourcePath(pods, ""), "/api/v1/pods");
  EXPECT_EQ(ResourcePath(pods, "ns", "web", "status"), "/api/v1/namespaces/ns/pods/web/status");
  EXPECT_EQ(ResourcePath(nodes, "ignored", "n1"), "/api/v1/nodes/n1");
  EXPECT_EQ(ResourcePath(slices, "kube-system", "a b"),
            "/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices/a%20b");
}

TEST(Resource, QueryStrings) {
  EXPECT_EQ(QueryString({}), "");
  ListOptions o;
  o.label_selector = "app=web,tier in (a,b)";
  o.field_selector = "spec.nodeName=n1";
  o.limit = 100;
  o.continue_token = "eyJ2Ijoi+/=";
  o.resource_version = "0";
  o.resource_version_match = "NotOlderThan";
  o.timeout_seconds = 30;
  o.watch = true;
  o.allow_watch_bookmarks = true;
  o.send_initial_events = true;
  EXPECT_EQ(QueryString(o),
            "?labelSelector=app%3Dweb%2Ctier%20in%20%28a%2Cb%29&fieldSelector=spec.nodeName%3Dn1"
            "&limit=100&continue=eyJ2Ijoi%2B%2F%3D&resourceVersion=0"
            "&resourceVersionMatch=NotOlderThan&timeoutSeconds=30&watch=true"
            "&allowWatchBookmarks=true&sendInitialEvents=true");
}

}  // namespace
}  // namespace kslice::client
