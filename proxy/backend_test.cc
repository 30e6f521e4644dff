#include "proxy/backend.h"

#include <memory>

#include "gtest/gtest.h"
#include "proxy/testing/fake_backend.h"

namespace kslice::proxy {
namespace {

// Registered at static-initialization time, as a backend's `config` target would.
KSLICE_REGISTER_PROXY_BACKEND(
    static_fake, [](const BackendOptions&) -> absl::StatusOr<std::unique_ptr<Backend>> {
      return std::make_unique<testing::FakeBackend>();
    });

TEST(BackendRegistryTest, RegisterAndCreate) {
  EXPECT_TRUE(RegisterBackend("fake-a", [](const BackendOptions& o)
                                            -> absl::StatusOr<std::unique_ptr<Backend>> {
                if (o.node_name.empty()) return absl::InvalidArgumentError("no node");
                return std::make_unique<testing::FakeBackend>();
              }).ok());
  EXPECT_EQ(RegisterBackend("fake-a", [](const BackendOptions&)
                                          -> absl::StatusOr<std::unique_ptr<Backend>> {
              return std::make_unique<testing::FakeBackend>();
            }).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(RegisterBackend("", nullptr).code(), absl::StatusCode::kInvalidArgument);

  BackendOptions o;
  o.node_name = "node-a";
  auto b = NewBackend("fake-a", o);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->name(), "fake");
  // Factory errors come through.
  EXPECT_EQ(NewBackend("fake-a", BackendOptions()).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto missing = NewBackend("ipvs", o);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("fake-a"), absl::string_view::npos);

  std::vector<std::string> names = RegisteredBackends();
  EXPECT_NE(std::find(names.begin(), names.end(), "static_fake"), names.end());
  EXPECT_TRUE(NewBackend("static_fake", o).ok());
}

TEST(SyncHintTest, NeedsSync) {
  SyncHint full;
  EXPECT_TRUE(full.NeedsSync({"a", "b", "http", "TCP"}));
  SyncHint partial;
  partial.full = false;
  partial.changed_services = {"a/b"};
  EXPECT_TRUE(partial.NeedsSync({"a", "b", "http", "TCP"}));
  EXPECT_FALSE(partial.NeedsSync({"a", "c", "http", "TCP"}));
}

}  // namespace
}  // namespace kslice::proxy
