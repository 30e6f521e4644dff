// Checks the merge-semantics annotations of api/proto/annotations.proto on our schemas
// against facts of upstream's Go types (k8s.io/api core/v1, discovery/v1; apimachinery
// meta/v1): struct tags patchStrategy / patchMergeKey and markers +listType, +listMapKey,
// +mapType, +structType.

#include <string>
#include <vector>

#include "api/coordination/v1/coordination.pb.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "api/meta/v1/meta.pb.h"
#include "api/proto/annotations.pb.h"
#include "gtest/gtest.h"

namespace kslice::api {
namespace {

namespace pb = ::google::protobuf;

struct Merge {
  std::string patch_strategy;
  std::string patch_merge_key;
  std::string list_type;
  std::vector<std::string> list_map_keys;
  std::string map_type;

  bool operator==(const Merge&) const = default;
};

void PrintTo(const Merge& m, std::ostream* os) {
  *os << "{strategy=" << m.patch_strategy << " key=" << m.patch_merge_key
      << " list=" << m.list_type << " keys=[";
  for (const auto& k : m.list_map_keys) *os << k << ",";
  *os << "] map=" << m.map_type << "}";
}

Merge Of(const pb::FieldDescriptor* f) {
  const pb::FieldOptions& o = f->options();
  Merge m;
  m.patch_strategy = o.GetExtension(patch_strategy);
  m.patch_merge_key = o.GetExtension(patch_merge_key);
  m.list_type = o.GetExtension(list_type);
  for (int i = 0; i < o.ExtensionSize(list_map_keys); ++i) {
    m.list_map_keys.push_back(o.GetExtension(list_map_keys, i));
  }
  m.map_type = o.GetExtension(map_type);
  return m;
}

Merge Field(const pb::Descriptor* d, const std::string& name) {
  const pb::FieldDescriptor* f = d->FindFieldByName(name);
  EXPECT_NE(f, nullptr) << d->full_name() << "." << name;
  if (f == nullptr) return Merge{};
  return Of(f);
}

// A field of d by JSON key, looking through inline (embedded) sub-messages.
const pb::FieldDescriptor* FindKey(const pb::Descriptor* d, const std::string& key) {
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (f->options().GetExtension(inline_) && f->message_type() != nullptr) {
      if (const pb::FieldDescriptor* sub = FindKey(f->message_type(), key)) return sub;
    } else if (f->name() == key) {
      return f;
    }
  }
  return nullptr;
}

std::string StructType(const pb::Descriptor* d) { return d->options().GetExtension(struct_type); }

TEST(MergeAnnotationsTest, PodSpecLists) {
  const pb::Descriptor* d = core::v1::PodSpec::descriptor();
  EXPECT_EQ(Field(d, "containers"), (Merge{"merge", "name", "map", {"name"}, ""}));
  EXPECT_EQ(Field(d, "initContainers"), (Merge{"merge", "name", "map", {"name"}, ""}));
  EXPECT_EQ(Field(d, "ephemeralContainers"), (Merge{"merge", "name", "map", {"name"}, ""}));
  EXPECT_EQ(Field(d, "volumes"), (Merge{"merge,retainKeys", "name", "map", {"name"}, ""}));
  EXPECT_EQ(Field(d, "imagePullSecrets"), (Merge{"merge", "name", "map", {"name"}, ""}));
  EXPECT_EQ(Field(d, "hostAliases"), (Merge{"merge", "ip", "map", {"ip"}, ""}));
  EXPECT_EQ(Field(d, "tolerations"), (Merge{"", "", "atomic", {}, ""}));
  EXPECT_EQ(Field(d, "topologySpreadConstraints"),
            (Merge{"merge", "topologyKey", "map", {"topologyKey", "whenUnsatisfiable"}, ""}));
  EXPECT_EQ(Field(d, "nodeSelector"), (Merge{"", "", "", {}, "atomic"}));
  EXPECT_EQ(Field(d, "overhead"), Merge{});
  EXPECT_EQ(Field(d, "restartPolicy"), Merge{});
}

TEST(MergeAnnotationsTest, ContainerLists) {
  for (const pb::Descriptor* d :
       {core::v1::Container::descriptor(), core::v1::EphemeralContainerCommon::descriptor()}) {
    SCOPED_TRACE(d->full_name());
    EXPECT_EQ(Field(d, "ports"),
              (Merge{"merge", "containerPort", "map", {"containerPort", "protocol"}, ""}));
    EXPECT_EQ(Field(d, "env"), (Merge{"merge", "name", "map", {"name"}, ""}));
    EXPECT_EQ(Field(d, "volumeMounts"), (Merge{"merge", "mountPath", "map", {"mountPath"}, ""}));
    EXPECT_EQ(Field(d, "volumeDevices"),
              (Merge{"merge", "devicePath", "map", {"devicePath"}, ""}));
    EXPECT_EQ(Field(d, "command"), (Merge{"", "", "atomic", {}, ""}));
    EXPECT_EQ(Field(d, "args"), (Merge{"", "", "atomic", {}, ""}));
    EXPECT_EQ(Field(d, "envFrom"), (Merge{"", "", "atomic", {}, ""}));
  }
}

TEST(MergeAnnotationsTest, PodStatus) {
  const pb::Descriptor* d = core::v1::PodStatus::descriptor();
  EXPECT_EQ(Field(d, "conditions"), (Merge{"merge", "type", "map", {"type"}, ""}));
  EXPECT_EQ(Field(d, "podIPs"), (Merge{"merge", "ip", "map", {"ip"}, ""}));
  // Upstream keeps the merge key for strategic merge patch but makes the list atomic for apply.
  EXPECT_EQ(Field(d, "hostIPs"), (Merge{"merge", "ip", "atomic", {}, ""}));
  EXPECT_EQ(Field(d, "containerStatuses"), (Merge{"", "", "atomic", {}, ""}));
  EXPECT_EQ(Field(d, "resourceClaimStatuses"),
            (Merge{"merge,retainKeys", "name", "map", {"name"}, ""}));
}

TEST(MergeAnnotationsTest, Service) {
  const pb::Descriptor* d = core::v1::ServiceSpec::descriptor();
  EXPECT_EQ(Field(d, "ports"), (Merge{"merge", "port", "map", {"port", "protocol"}, ""}));
  EXPECT_EQ(Field(d, "selector"), (Merge{"", "", "", {}, "atomic"}));
  EXPECT_EQ(Field(d, "clusterIPs"), (Merge{"", "", "atomic", {}, ""}));
  EXPECT_EQ(Field(d, "externalIPs"), (Merge{"", "", "atomic", {}, ""}));
  EXPECT_EQ(Field(core::v1::ServiceStatus::descriptor(), "conditions"),
            (Merge{"merge", "type", "map", {"type"}, ""}));
}

TEST(MergeAnnotationsTest, Node) {
  EXPECT_EQ(Field(core::v1::NodeSpec::descriptor(), "podCIDRs"), (Merge{"merge", "", "set", {}, ""}));
  EXPECT_EQ(Field(core::v1::NodeSpec::descriptor(), "taints"), (Merge{"", "", "atomic", {}, ""}));
  EXPECT_EQ(Field(core::v1::NodeStatus::descriptor(), "addresses"),
            (Merge{"merge", "type", "map", {"type"}, ""}));
  EXPECT_EQ(Field(core::v1::NodeStatus::descriptor(), "images"), (Merge{"", "", "atomic", {}, ""}));
}

TEST(MergeAnnotationsTest, ObjectMeta) {
  const pb::Descriptor* d = meta::v1::ObjectMeta::descriptor();
  EXPECT_EQ(Field(d, "finalizers"), (Merge{"merge", "", "set", {}, ""}));
  EXPECT_EQ(Field(d, "ownerReferences"), (Merge{"merge", "uid", "map", {"uid"}, ""}));
  EXPECT_EQ(Field(d, "managedFields"), (Merge{"", "", "atomic", {}, ""}));
  EXPECT_EQ(Field(d, "labels"), Merge{});
  EXPECT_EQ(Field(d, "annotations"), Merge{});
  EXPECT_EQ(StructType(meta::v1::OwnerReference::descriptor()), "atomic");
  EXPECT_EQ(StructType(meta::v1::LabelSelector::descriptor()), "atomic");
  EXPECT_EQ(Field(meta::v1::LabelSelector::descriptor(), "matchExpressions"),
            (Merge{"", "", "atomic", {}, ""}));
  EXPECT_EQ(StructType(meta::v1::ObjectMeta::descriptor()), "");
}

TEST(MergeAnnotationsTest, Discovery) {
  const pb::Descriptor* d = discovery::v1::EndpointSlice::descriptor();
  EXPECT_EQ(Field(d, "endpoints"), (Merge{"", "", "atomic", {}, ""}));
  EXPECT_EQ(Field(d, "ports"), (Merge{"", "", "atomic", {}, ""}));
  EXPECT_EQ(Field(discovery::v1::Endpoint::descriptor(), "addresses"),
            (Merge{"", "", "set", {}, ""}));
  EXPECT_EQ(StructType(discovery::v1::EndpointPort::descriptor()), "atomic");
}

TEST(MergeAnnotationsTest, VolumeSources) {
  // The volume source is inline in Volume and has no merge directives of its own; the
  // lists inside sources are atomic.
  const pb::FieldDescriptor* vs = core::v1::Volume::descriptor()->FindFieldByName("volumeSource");
  ASSERT_NE(vs, nullptr);
  EXPECT_TRUE(vs->options().GetExtension(inline_));
  EXPECT_EQ(Of(vs), Merge{});
  const pb::Descriptor* src = core::v1::VolumeSource::descriptor();
  for (int i = 0; i < src->field_count(); ++i) {
    EXPECT_EQ(Of(src->field(i)), Merge{}) << src->field(i)->name();
  }
  EXPECT_EQ(Field(core::v1::ConfigMapVolumeSource::descriptor(), "items"),
            (Merge{"", "", "atomic", {}, ""}));
  EXPECT_EQ(Field(core::v1::SecretVolumeSource::descriptor(), "items"),
            (Merge{"", "", "atomic", {}, ""}));
  EXPECT_EQ(Field(core::v1::ProjectedVolumeSource::descriptor(), "sources"),
            (Merge{"", "", "atomic", {}, ""}));
  EXPECT_EQ(Field(core::v1::PersistentVolumeSpec::descriptor(), "claimRef"),
            (Merge{"", "", "", {}, "granular"}));
}

TEST(MergeAnnotationsTest, AtomicStructs) {
  for (const pb::Descriptor* d :
       {core::v1::ObjectReference::descriptor(), core::v1::LocalObjectReference::descriptor(),
        core::v1::SecretKeySelector::descriptor(), core::v1::NodeSelector::descriptor(),
        core::v1::TypedLocalObjectReference::descriptor()}) {
    EXPECT_EQ(StructType(d), "atomic") << d->full_name();
  }
  EXPECT_EQ(StructType(core::v1::PodSpec::descriptor()), "");
  EXPECT_EQ(StructType(coordination::v1::LeaseSpec::descriptor()), "");
}

// Invariants that hold for every field upstream annotates: merge keys come with a merge
// strategy, map lists have keys, annotations sit on fields of the right shape.
TEST(MergeAnnotationsTest, ConsistentEverywhere) {
  int annotated = 0;
  for (const pb::FileDescriptor* file :
       {core::v1::Pod::descriptor()->file(), meta::v1::ObjectMeta::descriptor()->file(),
        discovery::v1::EndpointSlice::descriptor()->file(),
        coordination::v1::Lease::descriptor()->file()}) {
    for (int m = 0; m < file->message_type_count(); ++m) {
      const pb::Descriptor* d = file->message_type(m);
      const std::string st = StructType(d);
      EXPECT_TRUE(st.empty() || st == "atomic" || st == "granular") << d->full_name();
      for (int i = 0; i < d->field_count(); ++i) {
        const pb::FieldDescriptor* f = d->field(i);
        SCOPED_TRACE(f->full_name());
        const Merge a = Of(f);
        if (!(a == Merge{})) ++annotated;
        if (!a.patch_merge_key.empty()) {
          EXPECT_EQ(a.patch_strategy.rfind("merge", 0), 0u);
        }
        EXPECT_TRUE(a.patch_strategy.empty() || a.patch_strategy == "merge" ||
                    a.patch_strategy == "replace" || a.patch_strategy == "retainKeys" ||
                    a.patch_strategy == "merge,retainKeys");
        if (!a.patch_strategy.empty() || !a.list_type.empty()) {
          EXPECT_TRUE(f->is_repeated() && !f->is_map());
        }
        EXPECT_TRUE(a.list_type.empty() || a.list_type == "atomic" || a.list_type == "set" ||
                    a.list_type == "map");
        EXPECT_EQ(a.list_type == "map", !a.list_map_keys.empty());
        if (a.list_type == "map" || !a.patch_merge_key.empty()) {
          EXPECT_EQ(f->cpp_type(), pb::FieldDescriptor::CPPTYPE_MESSAGE);
        }
        if (a.list_type == "set") {
          EXPECT_NE(f->cpp_type(), pb::FieldDescriptor::CPPTYPE_MESSAGE);
        }
        for (const std::string& k : a.list_map_keys) {
          if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
            EXPECT_NE(FindKey(f->message_type(), k), nullptr) << k;
          }
        }
        if (!a.map_type.empty()) {
          EXPECT_TRUE(f->is_map() || (!f->is_repeated() &&
                                      f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE));
          EXPECT_TRUE(a.map_type == "atomic" || a.map_type == "granular");
        }
      }
    }
  }
  // 164 fields carry merge annotations at upstream HEAD (k8s.io/api 10b39a3, apimachinery
  // eed236c). Update the count when the schemas are re-synced with upstream.
  EXPECT_EQ(annotated, 164);
}

}  // namespace
}  // namespace kslice::api
