#include "envtest/storage/store.h"

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "envtest/storage/continue_token.h"
#include "envtest/storage/errors.h"
#include "envtest/storage/test_util.h"
#include "gtest/gtest.h"

namespace kslice::envtest::storage {
namespace {

using namespace ::kslice::envtest::storage::testing;  // NOLINT
namespace core = kslice::api::core::v1;

// 8-4-4-4-12 lower-case hex, version 4, RFC 4122 variant.
bool IsUuidV4(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return s[14] == '4' && std::string("89ab").find(s[19]) != std::string::npos;
}

// prefix + 5 characters of upstream's alphabet.
bool IsGeneratedName(const std::string& name, const std::string& prefix) {
  if (name.size() != prefix.size() + 5 || name.compare(0, prefix.size(), prefix) != 0) {
    return false;
  }
  for (size_t i = prefix.size(); i < name.size(); ++i) {
    if (std::string("bcdfghjklmnpqrstvwxz2456789").find(name[i]) == std::string::npos) {
      return false;
    }
  }
  return true;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(StoreOptions o = {}) {
    o.clock = &clock_;
    if (!o.random_seed) o.random_seed = 42;
    o.too_large_resource_version_wait = absl::Milliseconds(20);
    absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(std::move(o));
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = *std::move(s);
  }

  Object MustCreate(const ResourceKey& r, const google::protobuf::Message& m) {
    absl::StatusOr<Object> o = store_->Create(r, m);
    EXPECT_TRUE(o.ok()) << o.status();
    return o.ok() ? *o : nullptr;
  }

  Object CreatePod(const std::string& ns, const std::string& name,
                   std::vector<std::pair<std::string, std::string>> labels = {}) {
    return MustCreate(kPods, MakePod(ns, name, std::move(labels)));
  }

  // The current object as a mutable Pod.
  core::Pod PodCopy(const std::string& ns, const std::string& name) {
    absl::StatusOr<Object> o = store_->Get(kPods, ns, name);
    EXPECT_TRUE(o.ok()) << o.status();
    return o.ok() ? AsPod(*o) : core::Pod();
  }

  std::vector<std::string> Names(const ListResult& r) {
    std::vector<std::string> out;
    for (const Object& o : r.items) {
      const auto& m = MetaOf(*o);
      out.push_back(m.namespace_().empty() ? m.name() : absl::StrCat(m.namespace_(), "/", m.name()));
    }
    return out;
  }

  FakeClock clock_{absl::FromUnixSeconds(1700000000) + absl::Milliseconds(750)};
  std::unique_ptr<Store> store_;
};

// ---- Create ----

TEST_F(StoreTest, CreateFillsServerFields) {
  core::Pod in = MakePod("default", "web");
  in.mutable_metadata()->set_uid("client-uid");
  in.mutable_metadata()->set_selflink("/api/v1/x");
  in.mutable_metadata()->set_generation(7);
  in.mutable_metadata()->mutable_deletiontimestamp()->set_seconds(5);
  in.mutable_metadata()->set_deletiongraceperiodseconds(30);
  EXPECT_EQ(store_->CurrentResourceVersion(), 1u);
  Object pod = MustCreate(kPods, in);
  ASSERT_NE(pod, nullptr);
  const auto& m = MetaOf(*pod);
  EXPECT_TRUE(IsUuidV4(m.uid())) << m.uid();
  EXPECT_EQ(m.resourceversion(), "2");
  EXPECT_EQ(m.creationtimestamp().seconds(), 1700000000);
  EXPECT_FALSE(m.creationtimestamp().has_nanos());
  EXPECT_EQ(m.generation(), 1);  // pods track generation (1.33+)
  EXPECT_FALSE(m.has_selflink());
  EXPECT_FALSE(m.has_deletiontimestamp());
  EXPECT_FALSE(m.has_deletiongraceperiodseconds());
  EXPECT_EQ(store_->CurrentResourceVersion(), 2u);

  Object cm = MustCreate(kConfigMaps, MakeConfigMap("default", "c"));
  EXPECT_EQ(RvOf(cm), "3") << "one resourceVersion across resources";
  EXPECT_FALSE(MetaOf(*cm).has_generation()) << "configmaps do not track generation";
  EXPECT_NE(MetaOf(*cm).uid(), m.uid());
}

TEST_F(StoreTest, CreateCanonicalizes) {
  core::Pod in = MakePod("default", "web");
  in.mutable_spec()->set_hostnetwork(false);  // a zero value with presence
  in.mutable_spec()->set_nodename("");
  Object pod = MustCreate(kPods, in);
  EXPECT_FALSE(AsPod(pod).spec().has_hostnetwork());
  EXPECT_FALSE(AsPod(pod).spec().has_nodename());
}

TEST_F(StoreTest, CreateDuplicateIsAlreadyExists) {
  CreatePod("default", "web");
  absl::StatusOr<Object> again = store_->Create(kPods, MakePod("default", "web"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(), R"(pods "web" already exists)");
  // Same name in another namespace is fine.
  EXPECT_TRUE(store_->Create(kPods, MakePod("other", "web")).ok());
}

TEST_F(StoreTest, CreateOfObjectBeingDeleted) {
  CreatePod("default", "web");
  core::Pod p = PodCopy("default", "web");
  p.mutable_metadata()->mutable_deletiontimestamp()->set_seconds(1700000100);
  ASSERT_TRUE(store_->Update(kPods, p).ok());
  absl::StatusOr<Object> again = store_->Create(kPods, MakePod("default", "web"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(), R"(object is being deleted: pods "web" already exists)");
  EXPECT_EQ(ApiStatusOf(again.status())->message(), again.status().message());
}

TEST_F(StoreTest, CreateWithResourceVersionFails) {
  core::Pod in = MakePod("default", "web");
  in.mutable_metadata()->set_resourceversion("5");
  absl::StatusOr<Object> r = store_->Create(kPods, in);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(r.status().message(), "resourceVersion should not be set on objects to be created");
  EXPECT_EQ(ApiStatusOf(r.status())->code(), 500);
  EXPECT_EQ(store_->CurrentResourceVersion(), 1u);
}

struct InvalidCreateCase {
  std::string name;
  ResourceKey resource;
  std::string ns, obj_name, generate_name;
  std::string message;
};

class InvalidCreateTest : public StoreTest,
                          public ::testing::WithParamInterface<InvalidCreateCase> {};

TEST_P(InvalidCreateTest, Rejected) {
  const InvalidCreateCase& c = GetParam();
  core::ConfigMap cm;
  cm.mutable_metadata()->set_namespace_(c.ns);
  cm.mutable_metadata()->set_name(c.obj_name);
  cm.mutable_metadata()->set_generatename(c.generate_name);
  absl::StatusOr<Object> r = store_->Create(c.resource, cm);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ReasonOf(r.status()), "Invalid");
  EXPECT_EQ(r.status().message(), c.message);
  EXPECT_EQ(store_->CurrentResourceVersion(), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Names, InvalidCreateTest,
    ::testing::Values(
        InvalidCreateCase{"NoName", kConfigMaps, "default", "", "",
                          R"(ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required)"},
        InvalidCreateCase{"NoNamespace", kConfigMaps, "", "c", "",
                          R"(ConfigMap "c" is invalid: metadata.namespace: Required value)"},
        InvalidCreateCase{"Both", kConfigMaps, "", "", "",
                          R"(ConfigMap "" is invalid: [metadata.name: Required value: name or generateName is required, metadata.namespace: Required value])"},
        InvalidCreateCase{"Slash", kConfigMaps, "default", "a/b", "",
                          R"(ConfigMap "a/b" is invalid: metadata.name: Invalid value: "a/b": may not contain '/')"},
        InvalidCreateCase{"Dot", kConfigMaps, "default", "..", "",
                          R"(ConfigMap ".." is invalid: metadata.name: Invalid value: "..": may not be '..')"},
        InvalidCreateCase{"Percent", kConfigMaps, "default", "a%", "",
                          R"(ConfigMap "a%" is invalid: metadata.name: Invalid value: "a%": may not contain '%')"},
        InvalidCreateCase{"PrefixSlash", kConfigMaps, "default", "", "a/",
                          R"(ConfigMap "" is invalid: metadata.generateName: Invalid value: "a/": may not contain '/')"}),
    [](const ::testing::TestParamInfo<InvalidCreateCase>& i) { return i.param.name; });

TEST_F(StoreTest, ClusterScopedClearsNamespace) {
  core::Node node;
  node.mutable_metadata()->set_name("n1");
  node.mutable_metadata()->set_namespace_("ignored");
  Object o = MustCreate(kNodes, node);
  EXPECT_FALSE(MetaOf(*o).has_namespace_());
  EXPECT_TRUE(store_->Get(kNodes, "", "n1").ok());
  EXPECT_TRUE(store_->Get(kNodes, "whatever", "n1").ok()) << "namespace ignored for nodes";
}

TEST_F(StoreTest, UnknownResourceAndWrongType) {
  absl::StatusOr<Object> r = store_->Create({"", "secrets"}, MakeConfigMap("d", "s"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "the server could not find the requested resource");
  r = store_->Create(kPods, MakeConfigMap("d", "s"));
  EXPECT_EQ(ReasonOf(r.status()), "BadRequest");
  EXPECT_EQ(store_->List({"", "secrets"}, {}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Watch({"", "secrets"}, {}).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, CreateDryRunStoresNothing) {
  absl::StatusOr<Object> r = store_->Create(kPods, MakePod("default", "web"), {.dry_run = true});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(MetaOf(**r).uid().empty());
  EXPECT_TRUE(MetaOf(**r).resourceversion().empty());
  EXPECT_EQ(store_->Get(kPods, "default", "web").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->CurrentResourceVersion(), 1u);
}

// ---- generateName ----

TEST_F(StoreTest, GenerateName) {
  core::Pod in = MakePod("default", "");
  in.mutable_metadata()->set_generatename("web-");
  std::set<std::string> names;
  for (int i = 0; i < 50; ++i) {
    Object o = MustCreate(kPods, in);
    const std::string& name = MetaOf(*o).name();
    EXPECT_TRUE(IsGeneratedName(name, "web-")) << name;
    EXPECT_EQ(MetaOf(*o).generatename(), "web-");
    names.insert(name);
  }
  EXPECT_EQ(names.size(), 50u);

  in.mutable_metadata()->set_generatename(std::string(70, 'a'));
  Object o = MustCreate(kPods, in);
  EXPECT_EQ(MetaOf(*o).name().size(), 63u);
  EXPECT_EQ(MetaOf(*o).name().substr(0, 58), std::string(58, 'a'));
}

TEST_F(StoreTest, GenerateNameRetriesThenConflicts) {
  int calls = 0;
  StoreOptions o;
  o.name_generator = [&calls](absl::string_view prefix) {
    ++calls;
    // Taken for the first three tries, then free.
    return absl::StrCat(prefix, calls <= 3 ? "taken" : absl::StrCat("free", calls));
  };
  Reopen(std::move(o));
  CreatePod("default", "web-taken");
  core::Pod in = MakePod("default", "");
  in.mutable_metadata()->set_generatename("web-");
  Object ok = MustCreate(kPods, in);
  EXPECT_EQ(MetaOf(*ok).name(), "web-free4");
  EXPECT_EQ(calls, 4);

  StoreOptions always;
  always.name_generator = [&calls](absl::string_view prefix) {
    ++calls;
    return absl::StrCat(prefix, "taken");
  };
  Reopen(std::move(always));
  CreatePod("default", "web-taken");
  calls = 0;
  absl::StatusOr<Object> r = store_->Create(kPods, in);
  EXPECT_EQ(calls, 8) << "upstream tries 8 names";
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(r.status().message(),
            R"(pods "web-taken" already exists, the server was not able to generate a unique name for the object)");
  EXPECT_EQ(ApiStatusOf(r.status())->details().retryafterseconds(), 1);
}

// ---- Update ----

TEST_F(StoreTest, UpdateOptimisticConcurrency) {
  Object created = CreatePod("default", "web");
  core::Pod p = AsPod(created);
  (*p.mutable_metadata()->mutable_labels())["v"] = "1";
  absl::StatusOr<UpdateResult> u = store_->Update(kPods, p);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(RvOf(u->object), "3");
  EXPECT_FALSE(u->created);

  // The same body again carries the stale RV 2.
  (*p.mutable_metadata()->mutable_labels())["v"] = "2";
  u = store_->Update(kPods, p);
  EXPECT_EQ(u.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(ReasonOf(u.status()), "Conflict");
  EXPECT_EQ(u.status().message(),
            R"(Operation cannot be fulfilled on pods "web": the object has been modified; please apply your changes to the latest version and try again)");

  // Empty RV: unconditional.
  p.mutable_metadata()->clear_resourceversion();
  u = store_->Update(kPods, p);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(RvOf(u->object), "4");
  EXPECT_EQ(MetaOf(*u->object).labels().at("v"), "2");
}

TEST_F(StoreTest, UpdateKeepsServerFields) {
  Object created = CreatePod("default", "web");
  clock_.Advance(absl::Hours(1));
  core::Pod p = AsPod(created);
  p.mutable_metadata()->mutable_creationtimestamp()->set_seconds(1);
  p.mutable_metadata()->set_generation(99);
  p.mutable_metadata()->set_selflink("/x");
  p.mutable_metadata()->clear_uid();  // an absent uid is no precondition
  (*p.mutable_metadata()->mutable_annotations())["a"] = "b";
  absl::StatusOr<UpdateResult> u = store_->Update(kPods, p);
  ASSERT_TRUE(u.ok()) << u.status();
  const auto& m = MetaOf(*u->object);
  EXPECT_EQ(m.uid(), MetaOf(*created).uid());
  EXPECT_EQ(m.creationtimestamp().seconds(), 1700000000);
  EXPECT_EQ(m.generation(), 1) << "metadata change does not bump generation";
  EXPECT_FALSE(m.has_selflink());
}

TEST_F(StoreTest, UpdateUidPrecondition) {
  Object created = CreatePod("default", "web");
  core::Pod p = AsPod(created);
  p.mutable_metadata()->set_uid("someone-else");
  absl::StatusOr<UpdateResult> u = store_->Update(kPods, p);
  EXPECT_EQ(ReasonOf(u.status()), "Conflict");
  EXPECT_EQ(u.status().message(),
            absl::StrCat(R"(Operation cannot be fulfilled on pods "web": StorageError: invalid object, Code: 4, Key: /registry/pods/default/web, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: someone-else, UID in object meta: )",
                         MetaOf(*created).uid()));
}

TEST_F(StoreTest, UpdateMissing) {
  absl::StatusOr<UpdateResult> u = store_->Update(kPods, MakePod("default", "web"));
  EXPECT_EQ(u.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(u.status().message(), R"(pods "web" not found)");

  core::Pod p = MakePod("default", "web");
  p.mutable_metadata()->set_resourceversion("77");  // ignored when creating
  u = store_->Update(kPods, p, {.allow_create = true});
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_TRUE(u->created);
  EXPECT_EQ(RvOf(u->object), "2");
  EXPECT_FALSE(MetaOf(*u->object).uid().empty());
  EXPECT_EQ(MetaOf(*u->object).generation(), 1);
}

TEST_F(StoreTest, NoOpUpdateIsNotWritten) {
  Object created = CreatePod("default", "web");
  absl::StatusOr<UpdateResult> u = store_->Update(kPods, *created);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_TRUE(u->unchanged);
  EXPECT_EQ(u->object, created) << "the stored object itself";
  EXPECT_EQ(store_->CurrentResourceVersion(), 2u);
  // Also without RV, and with zero values that canonicalize away.
  core::Pod p = AsPod(created);
  p.mutable_metadata()->clear_resourceversion();
  p.mutable_spec()->set_hostnetwork(false);
  u = store_->Update(kPods, p);
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->unchanged);
  EXPECT_EQ(store_->CurrentResourceVersion(), 2u);
}

TEST_F(StoreTest, UpdateWithoutRvForbiddenByResource) {
  ResourceRegistry registry;
  ResourceConfig c = *ResourceRegistry::Builtin().Find(kConfigMaps);
  c.allow_unconditional_update = false;
  ASSERT_TRUE(registry.Register(c).ok());
  StoreOptions o;
  o.registry = &registry;
  Reopen(std::move(o));
  Object cm = MustCreate(kConfigMaps, MakeConfigMap("default", "c"));
  core::ConfigMap next = static_cast<const core::ConfigMap&>(*cm);
  next.mutable_metadata()->clear_resourceversion();
  (*next.mutable_data())["k"] = "changed";
  absl::StatusOr<UpdateResult> u = store_->Update(kConfigMaps, next);
  EXPECT_EQ(ReasonOf(u.status()), "Invalid");
  EXPECT_EQ(u.status().message(),
            R"(ConfigMap "c" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update)");
}

struct GenerationCase {
  std::string name;
  std::function<void(core::Pod*)> change;
  int64_t want;
};

class PodGenerationTest : public StoreTest,
                          public ::testing::WithParamInterface<GenerationCase> {};

TEST_P(PodGenerationTest, Bumps) {
  CreatePod("default", "web");
  core::Pod p = PodCopy("default", "web");
  GetParam().change(&p);
  absl::StatusOr<UpdateResult> u = store_->Update(kPods, p);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(MetaOf(*u->object).generation(), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, PodGenerationTest,
    ::testing::Values(
        GenerationCase{"SpecChange", [](core::Pod* p) { p->mutable_spec()->set_nodename("n1"); }, 2},
        GenerationCase{"LabelChange",
                       [](core::Pod* p) { (*p->mutable_metadata()->mutable_labels())["a"] = "b"; },
                       1},
        GenerationCase{"StatusChange", [](core::Pod* p) { p->mutable_status()->set_phase("Running"); },
                       1},
        GenerationCase{"ClientSetsGeneration",
                       [](core::Pod* p) { p->mutable_metadata()->set_generation(50); }, 1},
        GenerationCase{"DeletionTimestampSet",
                       [](core::Pod* p) {
                         p->mutable_metadata()->mutable_deletiontimestamp()->set_seconds(1700000030);
                       },
                       2},
        GenerationCase{"SpecAndDeletion",
                       [](core::Pod* p) {
                         p->mutable_spec()->set_nodename("n1");
                         p->mutable_metadata()->mutable_deletiontimestamp()->set_seconds(1700000030);
                       },
                       3}),
    [](const ::testing::TestParamInfo<GenerationCase>& i) { return i.param.name; });

TEST_F(StoreTest, EndpointSliceGenerationAndConfigMapNone) {
  kslice::api::discovery::v1::EndpointSlice s;
  s.mutable_metadata()->set_namespace_("default");
  s.mutable_metadata()->set_name("svc-abc");
  s.set_addresstype("IPv4");
  Object created = MustCreate(kEndpointSlices, s);
  EXPECT_EQ(MetaOf(*created).generation(), 1);
  auto next = static_cast<const kslice::api::discovery::v1::EndpointSlice&>(*created);
  next.add_endpoints()->add_addresses("10.0.0.1");
  absl::StatusOr<UpdateResult> u = store_->Update(kEndpointSlices, next);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(MetaOf(*u->object).generation(), 2);
  next = static_cast<const kslice::api::discovery::v1::EndpointSlice&>(*u->object);
  (*next.mutable_metadata()->mutable_labels())["kubernetes.io/service-name"] = "svc";
  u = store_->Update(kEndpointSlices, next);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(MetaOf(*u->object).generation(), 2) << "metadata-only change";

  Object cm = MustCreate(kConfigMaps, MakeConfigMap("default", "c"));
  core::ConfigMap c2 = static_cast<const core::ConfigMap&>(*cm);
  (*c2.mutable_data())["k"] = "other";
  u = store_->Update(kConfigMaps, c2);
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(MetaOf(*u->object).has_generation());
}

// ---- GuaranteedUpdate ----

TEST_F(StoreTest, GuaranteedUpdateRetriesOnConflict) {
  CreatePod("default", "web");
  int calls = 0;
  absl::StatusOr<UpdateResult> u = store_->GuaranteedUpdate(
      kPods, "default", "web",
      [&](const google::protobuf::Message* current)
          -> absl::StatusOr<std::unique_ptr<google::protobuf::Message>> {
        ++calls;
        if (calls == 1) {
          // Another writer gets in between our read and our write.
          core::Pod other = static_cast<const core::Pod&>(*current);
          (*other.mutable_metadata()->mutable_labels())["other"] = "x";
          EXPECT_TRUE(store_->Update(kPods, other).ok());
        }
        auto next = CopyObject(*current);
        auto* pod = static_cast<core::Pod*>(next.get());
        (*pod->mutable_metadata()->mutable_labels())["mine"] = absl::StrCat(calls);
        return next;
      });
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(calls, 2);
  const auto& labels = MetaOf(*u->object).labels();
  EXPECT_EQ(labels.at("other"), "x") << "the second run saw the other write";
  EXPECT_EQ(labels.at("mine"), "2");
  EXPECT_EQ(RvOf(u->object), "4");
}

TEST_F(StoreTest, GuaranteedUpdatePreconditionsErrorsAndDelete) {
  Object created = CreatePod("default", "web");
  auto identity = [](const google::protobuf::Message* c)
      -> absl::StatusOr<std::unique_ptr<google::protobuf::Message>> { return CopyObject(*c); };

  GuaranteedUpdateOptions o;
  o.preconditions.uid = "nope";
  absl::StatusOr<UpdateResult> u = store_->GuaranteedUpdate(kPods, "default", "web", identity, o);
  EXPECT_EQ(ReasonOf(u.status()), "Conflict");
  EXPECT_NE(u.status().message().find("Precondition failed: UID in precondition: nope"),
            absl::string_view::npos)
      << u.status();
  o.preconditions.uid = MetaOf(*created).uid();
  o.preconditions.resource_version = "1";
  u = store_->GuaranteedUpdate(kPods, "default", "web", identity, o);
  EXPECT_NE(u.status().message().find(
                "Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in "
                "object meta: 2"),
            absl::string_view::npos)
      << u.status();

  u = store_->GuaranteedUpdate(kPods, "default", "web",
                               [](const google::protobuf::Message*)
                                   -> absl::StatusOr<std::unique_ptr<google::protobuf::Message>> {
                                 return absl::FailedPreconditionError("no thanks");
                               });
  EXPECT_EQ(u.status().code(), absl::StatusCode::kFailedPrecondition);

  // Identity: no write.
  u = store_->GuaranteedUpdate(kPods, "default", "web", identity);
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->unchanged);
  EXPECT_EQ(store_->CurrentResourceVersion(), 2u);

  // A null result deletes.
  u = store_->GuaranteedUpdate(kPods, "default", "web",
                               [](const google::protobuf::Message*)
                                   -> absl::StatusOr<std::unique_ptr<google::protobuf::Message>> {
                                 return std::unique_ptr<google::protobuf::Message>();
                               });
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_TRUE(u->deleted);
  EXPECT_EQ(store_->Get(kPods, "default", "web").status().code(), absl::StatusCode::kNotFound);

  u = store_->GuaranteedUpdate(kPods, "default", "web", identity);
  EXPECT_EQ(u.status().code(), absl::StatusCode::kNotFound);

  // ignore_not_found: the function creates.
  GuaranteedUpdateOptions create;
  create.ignore_not_found = true;
  u = store_->GuaranteedUpdate(
      kPods, "default", "web",
      [](const google::protobuf::Message* c)
          -> absl::StatusOr<std::unique_ptr<google::protobuf::Message>> {
        EXPECT_EQ(c, nullptr);
        return std::unique_ptr<google::protobuf::Message>(new core::Pod(MakePod("x", "y")));
      },
      create);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_TRUE(u->created);
  EXPECT_EQ(NameOf(u->object), "web") << "the key's name and namespace win";
  EXPECT_EQ(MetaOf(*u->object).namespace_(), "default");
}

// ---- Delete ----

TEST_F(StoreTest, Delete) {
  Object created = CreatePod("default", "web");
  absl::StatusOr<Object> d = store_->Delete(kPods, "default", "web");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d, created) << "the last state";
  EXPECT_EQ(store_->CurrentResourceVersion(), 3u);
  EXPECT_EQ(store_->Get(kPods, "default", "web").status().code(), absl::StatusCode::kNotFound);
  d = store_->Delete(kPods, "default", "web");
  EXPECT_EQ(d.status().message(), R"(pods "web" not found)");
  // The name is free again.
  Object again = CreatePod("default", "web");
  EXPECT_NE(MetaOf(*again).uid(), MetaOf(*created).uid());
}

TEST_F(StoreTest, DeletePreconditions) {
  Object created = CreatePod("default", "web");
  DeleteOptions o;
  o.preconditions.uid = "old-uid";
  absl::StatusOr<Object> d = store_->Delete(kPods, "default", "web", o);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(d.status().message(),
            absl::StrCat(R"(Operation cannot be fulfilled on Pod "web": the UID in the precondition (old-uid) does not match the UID in record ()",
                         MetaOf(*created).uid(),
                         "). The object might have been deleted and then recreated"));
  o.preconditions.uid = MetaOf(*created).uid();
  o.preconditions.resource_version = "1";
  d = store_->Delete(kPods, "default", "web", o);
  EXPECT_EQ(d.status().message(),
            R"(Operation cannot be fulfilled on Pod "web": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record (2). The object might have been modified)");
  o.preconditions.resource_version = "2";
  o.dry_run = true;
  EXPECT_TRUE(store_->Delete(kPods, "default", "web", o).ok());
  EXPECT_TRUE(store_->Get(kPods, "default", "web").ok()) << "dry run";
  o.dry_run = false;
  EXPECT_TRUE(store_->Delete(kPods, "default", "web", o).ok());
}

// ---- Get ----

TEST_F(StoreTest, GetResourceVersions) {
  CreatePod("default", "web");  // RV 2
  for (const char* rv : {"", "0", "1", "2"}) {
    absl::StatusOr<Object> g = store_->Get(kPods, "default", "web", {.resource_version = rv});
    ASSERT_TRUE(g.ok()) << rv << ": " << g.status();
    EXPECT_EQ(RvOf(*g), "2");
  }
  absl::StatusOr<Object> g = store_->Get(kPods, "default", "web", {.resource_version = "5"});
  EXPECT_EQ(g.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(g.status().message(), "Timeout: Too large resource version: 5, current: 2");
  g = store_->Get(kPods, "default", "web", {.resource_version = "x"});
  EXPECT_EQ(ReasonOf(g.status()), "BadRequest");
}

TEST_F(StoreTest, GetWaitsForResourceVersion) {
  // Reopen sets a 20ms wait; use a longer one here.
  StoreOptions longer;
  longer.clock = &clock_;
  longer.too_large_resource_version_wait = absl::Seconds(10);
  store_ = *Store::Open(std::move(longer));
  CreatePod("default", "web");  // RV 2
  std::thread writer([&] {
    absl::SleepFor(absl::Milliseconds(50));
    CreatePod("default", "a");  // RV 3
  });
  absl::StatusOr<Object> g = store_->Get(kPods, "default", "web", {.resource_version = "3"});
  writer.join();
  EXPECT_TRUE(g.ok()) << g.status();
}

// ---- List ----

TEST_F(StoreTest, ListFiltersAndSorts) {
  core::Pod a = MakePod("b-ns", "a", {{"app", "web"}});
  a.mutable_spec()->set_nodename("n1");
  MustCreate(kPods, a);
  core::Pod b = MakePod("a-ns", "z", {{"app", "web"}});
  b.mutable_spec()->set_nodename("n2");
  MustCreate(kPods, b);
  MustCreate(kPods, MakePod("a-ns", "b", {{"app", "db"}}));
  MustCreate(kPods, MakePod("a", "x"));  // "a/x" sorts before "a-ns/.." ('/' > '-')
  MustCreate(kConfigMaps, MakeConfigMap("a-ns", "cm"));

  absl::StatusOr<ListResult> r = store_->List(kPods, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Names(*r), (std::vector<std::string>{"a-ns/b", "a-ns/z", "a/x", "b-ns/a"}));
  EXPECT_EQ(r->resource_version, 6u);
  EXPECT_TRUE(r->continue_token.empty());
  EXPECT_FALSE(r->remaining_item_count.has_value());

  r = store_->List(kPods, {.ns = "a-ns"});
  EXPECT_EQ(Names(*r), (std::vector<std::string>{"a-ns/b", "a-ns/z"}));
  r = store_->List(kPods, {.ns = "a"});
  EXPECT_EQ(Names(*r), (std::vector<std::string>{"a/x"}));

  r = store_->List(kPods, {.label_selector = *labels::Parse("app=web")});
  EXPECT_EQ(Names(*r), (std::vector<std::string>{"a-ns/z", "b-ns/a"}));
  r = store_->List(kPods, {.label_selector = *labels::Parse("app")});
  EXPECT_EQ(Names(*r).size(), 3u);
  r = store_->List(kPods, {.label_selector = labels::Selector::Nothing()});
  EXPECT_TRUE(r->items.empty());
  r = store_->List(kPods, {.field_selector = *fields::Parse("spec.nodeName=n1")});
  EXPECT_EQ(Names(*r), (std::vector<std::string>{"b-ns/a"}));
  r = store_->List(kPods, {.field_selector = *fields::Parse("spec.host=n2")});
  EXPECT_EQ(Names(*r), (std::vector<std::string>{"a-ns/z"}));
  r = store_->List(kPods, {.field_selector = *fields::Parse("metadata.namespace=a-ns,metadata.name!=b")});
  EXPECT_EQ(Names(*r), (std::vector<std::string>{"a-ns/z"}));

  r = store_->List(kPods, {.field_selector = *fields::Parse("spec.image=x")});
  EXPECT_EQ(ReasonOf(r.status()), "BadRequest");
  EXPECT_EQ(r.status().message(), "field label not supported: spec.image");
}

TEST_F(StoreTest, ListResourceVersionSemantics) {
  Object a1 = CreatePod("default", "a");  // 2
  CreatePod("default", "b");              // 3
  core::Pod a = AsPod(a1);
  (*a.mutable_metadata()->mutable_labels())["v"] = "2";
  ASSERT_TRUE(store_->Update(kPods, a).ok());                  // 4
  ASSERT_TRUE(store_->Delete(kPods, "default", "b").ok());     // 5
  CreatePod("default", "c");                                   // 6

  struct Case {
    std::string name;
    ListOptions options;
    std::vector<std::string> want;  // "name@rv"
    uint64_t rv;
    std::string error;
  };
  using M = ResourceVersionMatch;
  const std::vector<Case> cases = {
      {"Latest", {}, {"a@4", "c@6"}, 6, ""},
      {"Any", {.resource_version = "0"}, {"a@4", "c@6"}, 6, ""},
      {"AnyIgnoresLimit", {.resource_version = "0", .limit = 1}, {"a@4", "c@6"}, 6, ""},
      {"NotOlderThan", {.resource_version = "3"}, {"a@4", "c@6"}, 6, ""},
      {"NotOlderThanMatch",
       {.resource_version = "3", .resource_version_match = M::kNotOlderThan},
       {"a@4", "c@6"}, 6, ""},
      {"ExactOld", {.resource_version = "3", .resource_version_match = M::kExact},
       {"a@2", "b@3"}, 3, ""},
      {"ExactAfterUpdate", {.resource_version = "4", .resource_version_match = M::kExact},
       {"a@4", "b@3"}, 4, ""},
      {"ExactAfterDelete", {.resource_version = "5", .resource_version_match = M::kExact},
       {"a@4"}, 5, ""},
      {"ExactEmptyStore", {.resource_version = "1", .resource_version_match = M::kExact}, {}, 1,
       ""},
      {"LegacyLimitMeansExact", {.resource_version = "3", .limit = 10}, {"a@2", "b@3"}, 3, ""},
      {"ExactFuture", {.resource_version = "9", .resource_version_match = M::kExact}, {}, 0,
       "Timeout: Too large resource version: 9, current: 6"},
      {"NotOlderThanFuture", {.resource_version = "9"}, {}, 0,
       "Timeout: Too large resource version: 9, current: 6"},
      {"BadRv", {.resource_version = "nine"}, {}, 0,
       R"(invalid resource version: resourceVersion: Invalid value: "nine": strconv.ParseUint: parsing "nine": invalid syntax)"},
      {"MatchWithoutRv", {.resource_version_match = M::kExact}, {}, 0,
       R"(ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided)"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ListResult> r = store_->List(kPods, c.options);
    if (!c.error.empty()) {
      EXPECT_EQ(r.status().message(), c.error) << c.name;
      continue;
    }
    ASSERT_TRUE(r.ok()) << c.name << ": " << r.status();
    std::vector<std::string> got;
    for (const Object& o : r->items) got.push_back(absl::StrCat(NameOf(o), "@", RvOf(o)));
    EXPECT_EQ(got, c.want) << c.name;
    EXPECT_EQ(r->resource_version, c.rv) << c.name;
  }
}

TEST_F(StoreTest, ListExactTooOld) {
  StoreOptions o;
  o.history_size = 3;
  Reopen(std::move(o));
  for (int i = 0; i < 6; ++i) CreatePod("default", absl::StrCat("p", i));  // RVs 2..7
  EXPECT_EQ(store_->CompactedResourceVersion(), 4u);
  ListOptions opts{.resource_version = "3", .resource_version_match = ResourceVersionMatch::kExact};
  absl::StatusOr<ListResult> r = store_->List(kPods, opts);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ReasonOf(r.status()), "Expired");
  EXPECT_EQ(r.status().message(), "The resourceVersion for the provided list is too old.");
  opts.resource_version = "4";
  r = store_->List(kPods, opts);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->items.size(), 3u) << "p0..p2 existed at RV 4";
}

// 1,000 objects listed in pages of 100 while writes happen between pages: every page
// comes from the first page's snapshot.
TEST_F(StoreTest, PagingIsASnapshot) {
  std::vector<std::string> want;
  for (int i = 0; i < 1000; ++i) {
    const std::string ns = absl::StrCat("ns-", i % 7);
    const std::string name = absl::StrFormat("pod-%04d", i);
    CreatePod(ns, name, {{"i", absl::StrCat(i)}});
    want.push_back(absl::StrCat(ns, "/", name));
  }
  std::sort(want.begin(), want.end());
  const uint64_t snapshot = store_->CurrentResourceVersion();

  std::vector<std::string> got;
  std::string token;
  int page = 0;
  for (;;) {
    absl::StatusOr<ListResult> r = store_->List(kPods, {.limit = 100, .continue_token = token});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->resource_version, snapshot);
    for (const Object& o : r->items) {
      got.push_back(absl::StrCat(MetaOf(*o).namespace_(), "/", NameOf(o)));
      EXPECT_LE(std::stoull(RvOf(o)), snapshot) << "an object from after the snapshot";
    }
    ++page;
    if (r->continue_token.empty()) {
      EXPECT_FALSE(r->remaining_item_count.has_value());
      break;
    }
    EXPECT_EQ(r->items.size(), 100u);
    ASSERT_TRUE(r->remaining_item_count.has_value());
    EXPECT_EQ(*r->remaining_item_count, 1000 - 100 * page);
    token = r->continue_token;
    // Writes between pages: new objects, updates, deletions everywhere in the key space.
    CreatePod("ns-0", absl::StrFormat("new-%d", page));
    CreatePod("ns-9", absl::StrFormat("pod-%04d", page));
    core::Pod p = PodCopy("ns-6", "pod-0993");
    (*p.mutable_metadata()->mutable_labels())["touched"] = absl::StrCat(page);
    ASSERT_TRUE(store_->Update(kPods, p).ok());
    ASSERT_TRUE(store_->Delete(kPods, absl::StrCat("ns-", (page * 3) % 7),
                               absl::StrFormat("pod-%04d", page * 3 + 700))
                    .ok());
  }
  EXPECT_EQ(page, 10);
  EXPECT_EQ(got, want);
}

TEST_F(StoreTest, PagingWithSelectorsAndNamespace) {
  for (int i = 0; i < 30; ++i) {
    CreatePod(i % 2 ? "odd" : "even", absl::StrFormat("p%02d", i),
              {{"mod3", absl::StrCat(i % 3)}});
  }
  std::vector<std::string> got;
  std::string token;
  int pages = 0;
  do {
    absl::StatusOr<ListResult> r = store_->List(
        kPods, {.ns = "even", .label_selector = *labels::Parse("mod3=0"), .limit = 2,
                .continue_token = token});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FALSE(r->remaining_item_count.has_value()) << "not with a selector";
    for (const Object& o : r->items) got.push_back(NameOf(o));
    token = r->continue_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(got, (std::vector<std::string>{"p00", "p06", "p12", "p18", "p24"}));
  EXPECT_GE(pages, 3);

  // A namespace-scoped token is relative to the namespace, as upstream's.
  absl::StatusOr<ListResult> r = store_->List(kPods, {.ns = "odd", .limit = 1});
  absl::StatusOr<ContinueToken> t = DecodeContinueToken(r->continue_token);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->start_key, std::string("p01\0", 4));
  EXPECT_EQ(*r->remaining_item_count, 14);
}

// remainingItemCount comes from live counts (first page, latest), from the previous
// page (continuations) or from counting (anything else); all must agree.
TEST_F(StoreTest, RemainingItemCountPaths) {
  for (int i = 0; i < 10; ++i) CreatePod("a", absl::StrFormat("p%02d", i));
  for (int i = 0; i < 5; ++i) CreatePod("b", absl::StrFormat("p%02d", i));
  const uint64_t all_created = store_->CurrentResourceVersion();
  auto remaining = [&](const ListOptions& o) -> int64_t {
    absl::StatusOr<ListResult> r = store_->List(kPods, o);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() && r->remaining_item_count.has_value() ? *r->remaining_item_count : -1;
  };
  EXPECT_EQ(remaining({.limit = 4}), 11);
  EXPECT_EQ(remaining({.ns = "a", .limit = 3}), 7);
  EXPECT_EQ(remaining({.ns = "b", .limit = 5}), -1) << "no next page";
  EXPECT_EQ(remaining({.ns = "c", .limit = 5}), -1);
  ASSERT_TRUE(store_->Delete(kPods, "a", "p05").ok());
  EXPECT_EQ(remaining({.limit = 4}), 10);
  EXPECT_EQ(remaining({.ns = "a", .limit = 3}), 6);
  // The first page of an older snapshot is counted.
  EXPECT_EQ(remaining({.resource_version = absl::StrCat(all_created), .limit = 4}), 11);
  // A continuation nobody listed before (no remembered count), twice.
  const std::string token =
      EncodeContinueToken(static_cast<int64_t>(all_created), std::string("a/p03\0", 6));
  EXPECT_EQ(remaining({.limit = 2, .continue_token = token}), 9);  // a/p06..p09, b/p00..p04
  EXPECT_EQ(remaining({.limit = 2, .continue_token = token}), 9);
  // Walking the pages of one snapshot: each count follows from the previous one.
  std::string next;
  std::vector<int64_t> counts;
  do {
    absl::StatusOr<ListResult> r = store_->List(kPods, {.limit = 3, .continue_token = next});
    ASSERT_TRUE(r.ok());
    counts.push_back(r->remaining_item_count.value_or(-1));
    next = r->continue_token;
  } while (!next.empty());
  EXPECT_EQ(counts, (std::vector<int64_t>{11, 8, 5, 2, -1}));
}

TEST_F(StoreTest, ContinueTokenErrors) {
  for (int i = 0; i < 3; ++i) CreatePod("default", absl::StrCat("p", i));
  absl::StatusOr<ListResult> first = store_->List(kPods, {.limit = 1});
  ASSERT_FALSE(first->continue_token.empty());

  absl::StatusOr<ListResult> r =
      store_->List(kPods, {.resource_version = "2", .continue_token = first->continue_token});
  EXPECT_EQ(ReasonOf(r.status()), "BadRequest");
  EXPECT_EQ(r.status().message(), "specifying resource version is not allowed when using continue");
  r = store_->List(kPods, {.resource_version = "0", .continue_token = first->continue_token});
  EXPECT_TRUE(r.ok()) << "\"0\" is allowed with continue";

  r = store_->List(kPods, {.continue_token = "garbage!"});
  EXPECT_EQ(ReasonOf(r.status()), "BadRequest");
  EXPECT_EQ(r.status().message(), "invalid continue token: continue key is not valid: illegal base64 data");
  r = store_->List(kPods, {.resource_version = "3",
                           .resource_version_match = ResourceVersionMatch::kExact,
                           .continue_token = first->continue_token});
  EXPECT_EQ(ReasonOf(r.status()), "Invalid");
}

TEST_F(StoreTest, ExpiredContinueToken) {
  StoreOptions o;
  o.history_size = 5;
  Reopen(std::move(o));
  for (int i = 0; i < 4; ++i) CreatePod("default", absl::StrCat("p", i));  // RVs 2..5
  absl::StatusOr<ListResult> first = store_->List(kPods, {.limit = 2});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->resource_version, 5u);
  // Enough writes to push RV 5 out of the history.
  for (int i = 0; i < 6; ++i) CreatePod("default", absl::StrCat("q", i));
  ASSERT_GT(store_->CompactedResourceVersion(), 5u);

  absl::StatusOr<ListResult> r = store_->List(kPods, {.limit = 2, .continue_token = first->continue_token});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ReasonOf(r.status()), "Expired");
  EXPECT_EQ(r.status().message(),
            "The provided continue parameter is too old to display a consistent list result. You "
            "can start a new list without the continue parameter, or use the continue token in "
            "this response to retrieve the remainder of the results. Continuing with the provided "
            "token results in an inconsistent list - objects that were created, modified, or "
            "deleted between the time the first chunk was returned and now may show up in the "
            "list.");
  const std::string fresh = ApiStatusOf(r.status())->metadata().continue_();
  absl::StatusOr<ContinueToken> t = DecodeContinueToken(fresh);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->resource_version, -1);
  EXPECT_EQ(t->start_key, std::string("default/p1\0", 11));
  // The fresh token continues from the same key at the latest RV.
  r = store_->List(kPods, {.continue_token = fresh});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Names(*r), (std::vector<std::string>{"default/p2", "default/p3", "default/q0",
                                                 "default/q1", "default/q2", "default/q3",
                                                 "default/q4", "default/q5"}));
  EXPECT_EQ(r->resource_version, store_->CurrentResourceVersion());
}

// ---- history and compaction ----

TEST_F(StoreTest, HistoryIsBoundedAndCompactable) {
  StoreOptions o;
  o.history_size = 10;
  Reopen(std::move(o));
  EXPECT_EQ(store_->CompactedResourceVersion(), 1u);
  CreatePod("default", "hot");
  for (int i = 0; i < 30; ++i) {
    core::Pod p = PodCopy("default", "hot");
    (*p.mutable_metadata()->mutable_labels())["i"] = absl::StrCat(i);
    ASSERT_TRUE(store_->Update(kPods, p).ok());
  }
  EXPECT_EQ(store_->CurrentResourceVersion(), 32u);
  EXPECT_EQ(store_->CompactedResourceVersion(), 22u);
  // Every state from the compacted RV on is readable.
  for (uint64_t rv = 22; rv <= 32; ++rv) {
    absl::StatusOr<ListResult> r = store_->List(
        kPods, {.resource_version = absl::StrCat(rv),
                .resource_version_match = ResourceVersionMatch::kExact});
    ASSERT_TRUE(r.ok()) << rv << ": " << r.status();
    ASSERT_EQ(r->items.size(), 1u);
    EXPECT_EQ(RvOf(r->items[0]), absl::StrCat(rv));
  }
  store_->Compact(30);
  EXPECT_EQ(store_->CompactedResourceVersion(), 30u);
  EXPECT_EQ(store_->List(kPods, {.resource_version = "29",
                                 .resource_version_match = ResourceVersionMatch::kExact})
                .status()
                .code(),
            absl::StatusCode::kOutOfRange);
  store_->Compact(1000);  // capped at the current RV
  EXPECT_EQ(store_->CompactedResourceVersion(), 32u);
  EXPECT_TRUE(store_->List(kPods, {.resource_version = "32",
                                   .resource_version_match = ResourceVersionMatch::kExact})
                  .ok());
}

TEST_F(StoreTest, DeletedKeysLeaveWithTheirHistory) {
  StoreOptions o;
  o.history_size = 2;
  Reopen(std::move(o));
  CreatePod("default", "a");                                 // 2
  ASSERT_TRUE(store_->Delete(kPods, "default", "a").ok());   // 3
  // RV 3's state (no "a") stays readable while 3 is in the window; then the tombstone goes.
  CreatePod("default", "b");  // 4: window {3,4}
  absl::StatusOr<ListResult> r = store_->List(
      kPods, {.resource_version = "3", .resource_version_match = ResourceVersionMatch::kExact});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->items.empty());
  CreatePod("default", "c");  // 5: window {4,5}, horizon 3
  CreatePod("default", "d");  // 6: horizon 4
  r = store_->List(kPods, {.resource_version = "4",
                           .resource_version_match = ResourceVersionMatch::kExact});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Names(*r), (std::vector<std::string>{"default/b"}));
  // Recreating a deleted name after its history is gone works.
  CreatePod("default", "a");
  EXPECT_EQ(store_->List(kPods, {})->items.size(), 4u);
}

// ---- persistence ----

TEST_F(StoreTest, PersistenceReplays) {
  MemoryPersistence disk;
  StoreOptions o;
  o.persistence = &disk;
  Reopen(o);
  Object a = CreatePod("default", "a");
  CreatePod("default", "b");
  core::Pod p = AsPod(a);
  (*p.mutable_metadata()->mutable_labels())["x"] = "y";
  ASSERT_TRUE(store_->Update(kPods, p).ok());
  ASSERT_TRUE(store_->Delete(kPods, "default", "b").ok());
  MustCreate(kConfigMaps, MakeConfigMap("default", "c"));
  EXPECT_EQ(disk.size(), 5u);
  const uint64_t rv = store_->CurrentResourceVersion();

  Reopen(o);
  EXPECT_EQ(store_->CurrentResourceVersion(), rv);
  EXPECT_EQ(store_->CompactedResourceVersion(), rv) << "history restarts at the loaded RV";
  absl::StatusOr<Object> got = store_->Get(kPods, "default", "a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(MetaOf(**got).labels().at("x"), "y");
  EXPECT_EQ(MetaOf(**got).uid(), MetaOf(*a).uid());
  EXPECT_EQ(store_->Get(kPods, "default", "b").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store_->Get(kConfigMaps, "default", "c").ok());
  EXPECT_EQ(RvOf(CreatePod("default", "d")), absl::StrCat(rv + 1));
}

TEST_F(StoreTest, PersistenceFailureFailsTheWrite) {
  MemoryPersistence disk;
  StoreOptions o;
  o.persistence = &disk;
  Reopen(o);
  disk.FailNextAppend();
  absl::StatusOr<Object> r = store_->Create(kPods, MakePod("default", "a"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(ToApiStatus(r.status()).reason(), "InternalError");
  EXPECT_EQ(store_->CurrentResourceVersion(), 1u);
  EXPECT_EQ(store_->Get(kPods, "default", "a").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store_->Create(kPods, MakePod("default", "a")).ok());
}

TEST_F(StoreTest, OpenRejectsBadOptions) {
  StoreOptions o;
  o.history_size = 0;
  EXPECT_FALSE(Store::Open(o).ok());
  o.history_size = 1;
  o.watch_queue_capacity = 0;
  EXPECT_FALSE(Store::Open(o).ok());
}

}  // namespace
}  // namespace kslice::envtest::storage
