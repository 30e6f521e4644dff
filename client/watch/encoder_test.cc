#include "client/watch/encoder.h"

#include <string>

#include "api/codec/codec.h"
#include "api/core/v1/core.pb.h"
#include "api/meta/v1/meta.pb.h"
#include "gtest/gtest.h"

namespace kslice::client::watch {
namespace {

using ::kslice::api::core::v1::ConfigMap;
using ::kslice::codec::Format;

ConfigMap Cm() {
  ConfigMap cm;
  cm.mutable_metadata()->set_name("cm");
  cm.mutable_metadata()->set_namespace_("default");
  cm.mutable_metadata()->set_resourceversion("7");
  (*cm.mutable_data())["k"] = "v";
  return cm;
}

TEST(EncodeJsonEventTest, ServerBytes) {
  absl::StatusOr<std::string> e = EncodeJsonEvent(EventType::kAdded, Cm());
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(*e, R"({"type":"ADDED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{)"
                R"("name":"cm","namespace":"default","resourceVersion":"7"},"data":{"k":"v"}}})"
                "\n");
  // Indentation requested for the object is ignored: events are one line each.
  kslice::codec::EncodeOptions pretty;
  pretty.json_indent = 2;
  EXPECT_EQ(*EncodeJsonEvent(EventType::kAdded, Cm(), pretty), *e);
}

TEST(EncodeJsonEventTest, Raw) {
  EXPECT_EQ(EncodeJsonEventRaw(EventType::kBookmark, R"({"kind":"Widget"})"),
            "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Widget\"}}\n");
}

TEST(EncodeJsonEventTest, UnregisteredTypeFails) {
  kslice::api::meta::v1::ObjectMeta not_a_kind;
  EXPECT_FALSE(EncodeJsonEvent(EventType::kAdded, not_a_kind).ok());
  EXPECT_FALSE(EncodeProtobufFrame(EventType::kAdded, not_a_kind).ok());
}

TEST(EncodeProtobufFrameTest, LengthPrefixAndBareWatchEvent) {
  absl::StatusOr<std::string> frame = EncodeProtobufFrame(EventType::kDeleted, Cm());
  ASSERT_TRUE(frame.ok()) << frame.status();
  ASSERT_GE(frame->size(), 4u);
  const auto* p = reinterpret_cast<const unsigned char*>(frame->data());
  const uint32_t length =
      (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
  EXPECT_EQ(length, frame->size() - 4);
  // No magic on the frame: it parses directly as a WatchEvent.
  kslice::api::meta::v1::WatchEvent wire;
  ASSERT_TRUE(wire.ParseFromString(frame->substr(4)));
  EXPECT_EQ(wire.type(), "DELETED");
  // The object inside is enveloped.
  EXPECT_EQ(wire.object().raw(), *kslice::codec::Encode(Cm(), Format::kProtobuf));
  EXPECT_EQ(wire.object().raw().substr(0, 4), std::string("k8s\0", 4));
  // Field order: type (1) first, then object (2).
  EXPECT_EQ(frame->substr(4, 9), std::string("\x0a\x07"
                                             "DELETED",
                                             9));
}

TEST(EncodeProtobufFrameTest, Raw) {
  absl::StatusOr<std::string> frame = EncodeProtobufFrameRaw(EventType::kError, "xyz");
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(*frame, std::string("\x00\x00\x00\x0e\x0a\x05"
                                "ERROR\x12\x05\x0a\x03xyz",
                                18));
}

}  // namespace
}  // namespace kslice::client::watch
