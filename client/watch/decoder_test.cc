#include "client/watch/decoder.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "api/codec/codec.h"
#include "api/core/v1/core.pb.h"
#include "api/meta/v1/meta.pb.h"
#include "client/errors/errors.h"
#include "client/watch/encoder.h"
#include "client/watch/event.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace kslice::client::watch {
namespace {

using ::google::protobuf::Message;
using ::google::protobuf::util::MessageDifferencer;
using ::kslice::api::core::v1::ConfigMap;
using ::kslice::api::core::v1::Pod;
using ::kslice::codec::Format;
using ::testing::HasSubstr;

Pod SmallPod(const std::string& name, const std::string& rv) {
  Pod pod;
  auto* m = pod.mutable_metadata();
  m->set_name(name);
  m->set_namespace_("default");
  m->set_uid("0b1d2c3e-4f50-6172-8394-a5b6c7d8e9f0");
  m->set_resourceversion(rv);
  m->mutable_creationtimestamp()->set_seconds(1760000000);
  (*m->mutable_labels())["app"] = "web";
  (*m->mutable_annotations())["note"] = "quote \" brace } bracket ] backslash \\ unicode \xC3\xA9";
  auto* c = pod.mutable_spec()->add_containers();
  c->set_name("app");
  c->set_image("registry.example.com/web:v1");
  c->add_args("--flag={\"json\":[1,2]}");
  pod.mutable_spec()->set_nodename("node-1");
  pod.mutable_status()->set_phase("Running");
  pod.mutable_status()->set_podip("10.0.0.7");
  return pod;
}

Pod Bookmark(const std::string& rv, bool initial_events_end) {
  Pod pod;
  pod.mutable_metadata()->set_resourceversion(rv);
  if (initial_events_end) {
    (*pod.mutable_metadata()->mutable_annotations())[std::string(kInitialEventsEndAnnotation)] =
        "true";
  }
  return pod;
}

kslice::api::meta::v1::Status ExpiredStatus() {
  return kslice::client::NewResourceExpired("too old resource version: 5 (10)").status();
}

struct Item {
  EventType type;
  std::shared_ptr<Message> object;
};

std::vector<Item> SampleEvents() {
  Pod modified = SmallPod("web-0", "101");
  modified.mutable_status()->set_phase("Succeeded");
  return {
      {EventType::kAdded, std::make_shared<Pod>(SmallPod("web-0", "100"))},
      {EventType::kModified, std::make_shared<Pod>(modified)},
      {EventType::kDeleted, std::make_shared<Pod>(SmallPod("web-0", "102"))},
      {EventType::kBookmark, std::make_shared<Pod>(Bookmark("103", true))},
      {EventType::kError, std::make_shared<kslice::api::meta::v1::Status>(ExpiredStatus())},
  };
}

std::string JsonStream(const std::vector<Item>& items) {
  std::string out;
  for (const Item& it : items) {
    absl::StatusOr<std::string> e = EncodeJsonEvent(it.type, *it.object);
    EXPECT_TRUE(e.ok()) << e.status();
    out += *e;
  }
  return out;
}

std::string ProtobufStream(const std::vector<Item>& items) {
  std::string out;
  for (const Item& it : items) {
    absl::StatusOr<std::string> e = EncodeProtobufFrame(it.type, *it.object);
    EXPECT_TRUE(e.ok()) << e.status();
    out += *e;
  }
  return out;
}

// The object as any decoder returns it (canonical form).
std::unique_ptr<Message> Canonical(const Message& m) {
  absl::StatusOr<std::string> pb = kslice::codec::Encode(m, Format::kProtobuf);
  EXPECT_TRUE(pb.ok());
  absl::StatusOr<std::unique_ptr<Message>> back = kslice::codec::Decode(*pb, Format::kProtobuf);
  EXPECT_TRUE(back.ok()) << back.status();
  return std::move(*back);
}

void ExpectEvents(const std::vector<Event>& got, const std::vector<Item>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(got[i].type, want[i].type);
    ASSERT_NE(got[i].object, nullptr);
    std::unique_ptr<Message> canonical = Canonical(*want[i].object);
    EXPECT_TRUE(MessageDifferencer::Equals(*got[i].object, *canonical))
        << got[i].object->DebugString() << "\nwant\n"
        << canonical->DebugString();
  }
}

using DecoderFactory = std::unique_ptr<Decoder> (*)(DecoderOptions);

// Feeds `stream` in the given pieces; returns the events, failing the test on error.
std::vector<Event> DecodePieces(DecoderFactory factory,
                                const std::vector<absl::string_view>& pieces,
                                DecoderOptions options = {}) {
  std::unique_ptr<Decoder> d = factory(std::move(options));
  std::vector<Event> events;
  for (absl::string_view p : pieces) {
    absl::Status s = d->Feed(p, &events);
    EXPECT_TRUE(s.ok()) << s;
  }
  absl::Status s = d->Finish();
  EXPECT_TRUE(s.ok()) << s;
  return events;
}

struct FormatCase {
  const char* name;
  DecoderFactory factory;
  std::string (*stream)(const std::vector<Item>&);
};

void PrintTo(const FormatCase& c, std::ostream* os) { *os << c.name; }

class StreamTest : public ::testing::TestWithParam<FormatCase> {};

TEST_P(StreamTest, WholeStream) {
  const std::vector<Item> items = SampleEvents();
  const std::string stream = GetParam().stream(items);
  std::vector<Event> events = DecodePieces(GetParam().factory, {stream});
  ExpectEvents(events, items);
  EXPECT_EQ(ResourceVersion(events[0]), "100");
  EXPECT_EQ(ResourceVersion(events[2]), "102");
  EXPECT_EQ(ResourceVersion(events[3]), "103");
  EXPECT_EQ(ResourceVersion(events[4]), "");
  EXPECT_FALSE(IsInitialEventsEnd(events[0]));
  EXPECT_TRUE(IsInitialEventsEnd(events[3]));
  EXPECT_EQ(EventStatus(events[0]), nullptr);
  ASSERT_NE(EventStatus(events[4]), nullptr);
  kslice::client::StatusError err(*EventStatus(events[4]));
  EXPECT_TRUE(kslice::client::IsResourceExpired(err));
  EXPECT_EQ(err.code(), 410);
  EXPECT_EQ(err.message(), "too old resource version: 5 (10)");
}

TEST_P(StreamTest, EveryTwoWaySplit) {
  const std::vector<Item> items = SampleEvents();
  const std::string stream = GetParam().stream(items);
  const absl::string_view s = stream;
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    SCOPED_TRACE(absl::StrCat("cut at ", cut, " of ", s.size()));
    std::vector<Event> events = DecodePieces(GetParam().factory, {s.substr(0, cut), s.substr(cut)});
    ExpectEvents(events, items);
    if (::testing::Test::HasFailure()) break;
  }
}

TEST_P(StreamTest, ByteByByte) {
  const std::vector<Item> items = SampleEvents();
  const std::string stream = GetParam().stream(items);
  std::unique_ptr<Decoder> d = GetParam().factory({});
  std::vector<Event> events;
  for (size_t i = 0; i < stream.size(); ++i) {
    ASSERT_TRUE(d->Feed(absl::string_view(stream).substr(i, 1), &events).ok()) << i;
    // Nothing beyond one unfinished event is ever held.
    EXPECT_LT(d->buffered(), 4096u);
  }
  EXPECT_TRUE(d->Finish().ok());
  EXPECT_EQ(d->offset(), stream.size());
  ExpectEvents(events, items);
}

TEST_P(StreamTest, EveryThreeWaySplitOfTwoEvents) {
  std::vector<Item> items = SampleEvents();
  items.resize(2);
  const std::string stream = GetParam().stream(items);
  const absl::string_view s = stream;
  for (size_t a = 0; a <= s.size(); a += 13) {
    for (size_t b = a; b <= s.size(); b += 7) {
      std::vector<Event> events =
          DecodePieces(GetParam().factory, {s.substr(0, a), s.substr(a, b - a), s.substr(b)});
      ASSERT_EQ(events.size(), 2u) << a << " " << b;
    }
  }
}

TEST_P(StreamTest, TruncatedStreamIsReportedByFinish) {
  const std::vector<Item> items = SampleEvents();
  const std::string stream = GetParam().stream(items);
  // (The last byte of a JSON stream is the final "\n": cutting it truncates nothing.)
  for (size_t cut :
       {size_t{1}, size_t{3}, size_t{4}, size_t{5}, stream.size() / 2, stream.size() - 2}) {
    SCOPED_TRACE(cut);
    std::unique_ptr<Decoder> d = GetParam().factory({});
    std::vector<Event> events;
    ASSERT_TRUE(d->Feed(absl::string_view(stream).substr(0, cut), &events).ok());
    absl::Status s = d->Finish();
    EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("truncated"));
    // Failed for good.
    EXPECT_EQ(d->Feed("x", &events).code(), absl::StatusCode::kOutOfRange);
  }
}

TEST_P(StreamTest, EmptyStreamIsFine) {
  std::unique_ptr<Decoder> d = GetParam().factory({});
  std::vector<Event> events;
  EXPECT_TRUE(d->Feed("", &events).ok());
  EXPECT_TRUE(d->Finish().ok());
  EXPECT_TRUE(events.empty());
}

TEST_P(StreamTest, KeepRawAndExpectedType) {
  std::vector<Item> items = SampleEvents();
  const std::string stream = GetParam().stream(items);
  DecoderOptions options;
  options.keep_raw = true;
  options.expected_type = &Pod::default_instance();
  std::vector<Event> events = DecodePieces(GetParam().factory, {stream}, options);
  ExpectEvents(events, items);
  for (const Event& e : events) EXPECT_FALSE(e.raw.empty());
  // The raw bytes are the object's own encoding.
  absl::StatusOr<std::unique_ptr<Message>> again = kslice::codec::Decode(
      events[0].raw, GetParam().factory == &NewJsonDecoder ? Format::kJson : Format::kProtobuf);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(MessageDifferencer::Equals(**again, *events[0].object));
}

TEST_P(StreamTest, ExpectedTypeRejectsOtherKinds) {
  ConfigMap cm;
  cm.mutable_metadata()->set_name("cm");
  const std::string stream =
      GetParam().stream({{EventType::kAdded, std::make_shared<ConfigMap>(cm)}});
  DecoderOptions options;
  options.expected_type = &Pod::default_instance();
  std::unique_ptr<Decoder> d = GetParam().factory(options);
  std::vector<Event> events;
  absl::Status s = d->Feed(stream, &events);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("ConfigMap"));
}

INSTANTIATE_TEST_SUITE_P(Formats, StreamTest,
                         ::testing::Values(FormatCase{"json", &NewJsonDecoder, &JsonStream},
                                           FormatCase{"protobuf", &NewProtobufDecoder,
                                                      &ProtobufStream}),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- JSON specifics ----

std::vector<Event> DecodeJson(absl::string_view text, DecoderOptions options = {}) {
  return DecodePieces(&NewJsonDecoder, {text}, std::move(options));
}

absl::Status JsonError(absl::string_view text, std::vector<Event>* events = nullptr,
                       DecoderOptions options = {}) {
  std::unique_ptr<Decoder> d = NewJsonDecoder(std::move(options));
  std::vector<Event> local;
  absl::Status s = d->Feed(text, events != nullptr ? events : &local);
  if (s.ok()) s = d->Finish();
  return s;
}

constexpr char kServerPodBookmark[] =
    R"({"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{)"
    R"("resourceVersion":"12746","creationTimestamp":null,"annotations":{)"
    R"("k8s.io/initial-events-end":"true"}},"spec":{"containers":null},"status":{}}})"
    "\n";

constexpr char kServerExpiredError[] =
    R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},)"
    R"j("status":"Failure","message":"too old resource version: 5 (10)","reason":"Expired",)j"
    R"("code":410}})"
    "\n";

TEST(JsonDecoderTest, ServerBookmarkAndError) {
  std::vector<Event> events = DecodeJson(absl::StrCat(kServerPodBookmark, kServerExpiredError));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, EventType::kBookmark);
  EXPECT_EQ(events[0].object->GetDescriptor(), Pod::descriptor());
  EXPECT_EQ(ResourceVersion(events[0]), "12746");
  EXPECT_TRUE(IsInitialEventsEnd(events[0]));
  EXPECT_EQ(events[1].type, EventType::kError);
  ASSERT_NE(EventStatus(events[1]), nullptr);
  EXPECT_TRUE(
      kslice::client::IsResourceExpired(kslice::client::StatusError(*EventStatus(events[1]))));

  // A bookmark without the annotation (periodic bookmark; HEAD omits the zero time).
  events = DecodeJson(
      R"({"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"9"},"spec":{"containers":null},"status":{}}})");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_FALSE(IsInitialEventsEnd(events[0]));
  EXPECT_EQ(ResourceVersion(events[0]), "9");
}

TEST(JsonDecoderTest, SeparatorsAreOptional) {
  const std::vector<Item> items = SampleEvents();
  std::string joined;
  std::string spaced = " \r\n\t";
  std::string pretty;
  for (const Item& it : items) {
    std::string e = *EncodeJsonEvent(it.type, *it.object);
    e.pop_back();  // the "\n"
    joined += e;
    spaced += e + " \r\n\t ";
    kslice::codec::EncodeOptions indent;
    indent.json_indent = 2;
    pretty += absl::StrCat("{\n  \"type\" : \"", EventTypeName(it.type), "\",\n  \"object\": ",
                           *kslice::codec::Encode(*it.object, Format::kJson, indent), "\n}\n");
  }
  ExpectEvents(DecodeJson(joined), items);
  ExpectEvents(DecodeJson(spaced), items);
  ExpectEvents(DecodeJson(pretty), items);
  // Member order and unknown members do not matter.
  std::vector<Event> events = DecodeJson(
      R"({"extra":[1,{"a":"}"}],"object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"c"}},"type":"ADDED","n":null})");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].object->GetDescriptor(), ConfigMap::descriptor());
  // The last duplicate wins, as in Go.
  events = DecodeJson(
      R"({"type":"ADDED","type":"DELETED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"c"}}})");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kDeleted);
  // An escaped type name.
  events = DecodeJson(
      R"({"type":"\u0041DDED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"c"}}})");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kAdded);
}

TEST(JsonDecoderTest, DynamicMode) {
  const std::string widget =
      R"({"kind":"Widget","apiVersion":"example.com/v1","metadata":{"name":"w","resourceVersion":"5","annotations":{"k8s.io/initial-events-end":"true"}},"spec":{"size":3}})";
  const std::string stream =
      absl::StrCat(EncodeJsonEventRaw(EventType::kAdded, widget),
                   EncodeJsonEventRaw(EventType::kBookmark, widget), kServerExpiredError);
  // Typed mode cannot decode an unknown kind.
  absl::Status typed = JsonError(stream);
  EXPECT_EQ(typed.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(typed.message()), HasSubstr("Widget"));

  DecoderOptions options;
  options.mode = ObjectMode::kDynamic;
  std::vector<Event> events = DecodeJson(stream, options);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].object, nullptr);
  EXPECT_EQ(events[0].raw, widget);
  ASSERT_TRUE(events[0].node.is_object());
  EXPECT_EQ(events[0].node.Find("spec")->Find("size")->text, "3");
  EXPECT_EQ(ResourceVersion(events[0]), "5");
  EXPECT_FALSE(IsInitialEventsEnd(events[0]));  // not a bookmark
  EXPECT_TRUE(IsInitialEventsEnd(events[1]));
  // ERROR events still carry a typed Status.
  ASSERT_NE(EventStatus(events[2]), nullptr);
  EXPECT_EQ(EventStatus(events[2])->code(), 410);

  // In dynamic mode the object must still be a JSON object.
  EXPECT_FALSE(JsonError(R"({"type":"ADDED","object":[1]})", nullptr, options).ok());
  EXPECT_FALSE(JsonError(R"({"type":"ADDED","object":{"a":tru}})", nullptr, options).ok());
}

TEST(JsonDecoderTest, Garbage) {
  const char* const bad[] = {
      "hello",
      "[1,2]",
      "\"ADDED\"",
      "}",
      "{]",
      R"({"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1"}]})",
      R"({"type":"ADDED" "object":{}})",
      R"({"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1"}x})",
      R"({"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":5}}})",
      R"({"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","spec":{"containers":[}}})",
      R"({"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1"},"junk":tru})",
      R"({"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1"},"junk":"\x"})",
      R"({"type":5,"object":{"kind":"Pod","apiVersion":"v1"}})",
      R"({"type":"added","object":{"kind":"Pod","apiVersion":"v1"}})",
      R"({"type":"SYNC","object":{"kind":"Pod","apiVersion":"v1"}})",
      R"({"object":{"kind":"Pod","apiVersion":"v1"}})",
      R"({"type":"ADDED"})",
      R"({"type":"ADDED","object":null})",
      R"({"type":"ADDED","object":"pod"})",
      R"({"type":"ADDED","object":{"apiVersion":"v1"}})",
      R"({"Type":"ADDED","Object":{"kind":"Pod","apiVersion":"v1"}})",
      R"({"type":"ERROR","object":{"kind":"Pod","apiVersion":"v1"}})",
      R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","code":"x"}})",
      "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{"
      "\"name\":\"\xff\"}}}",
  };
  for (const char* text : bad) {
    SCOPED_TRACE(text);
    absl::Status s = JsonError(text);
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.code(), absl::StatusCode::kOutOfRange) << s;  // not mistaken for truncation
  }
}

TEST(JsonDecoderTest, ErrorIsStickyAndKeepsEarlierEvents) {
  const std::string good = *EncodeJsonEvent(EventType::kAdded, SmallPod("a", "1"));
  std::unique_ptr<Decoder> d = NewJsonDecoder();
  std::vector<Event> events;
  absl::Status s = d->Feed(absl::StrCat(good, good, "garbage", good), &events);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr(absl::StrCat("byte ", 2 * good.size())));
  EXPECT_THAT(std::string(s.message()), HasSubstr("'g'"));
  EXPECT_EQ(events.size(), 2u);
  EXPECT_EQ(d->buffered(), 0u);
  events.clear();
  EXPECT_EQ(d->Feed(good, &events), s);
  EXPECT_EQ(d->Finish(), s);
  EXPECT_TRUE(events.empty());
}

TEST(JsonDecoderTest, DepthLimit) {
  DecoderOptions options;
  options.codec.limits.max_depth = 8;
  std::string deep = R"({"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","x":)";
  for (int i = 0; i < 50; ++i) deep += "[";
  // The error comes while the bytes arrive, before the event ends.
  std::unique_ptr<Decoder> d = NewJsonDecoder(options);
  std::vector<Event> events;
  absl::Status s = d->Feed(deep, &events);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("nesting deeper than 9"));

  // The default is the codec's 256 (+1 for the event).
  std::string bomb(100000, '[');
  bomb = R"({"type":"ADDED","object":)" + bomb;
  EXPECT_THAT(std::string(JsonError(bomb).message()), HasSubstr("nesting deeper than 257"));
}

TEST(JsonDecoderTest, OversizedEventIsRefusedEarly) {
  DecoderOptions options;
  options.max_event_bytes = 1024;
  Pod big = SmallPod("big", "1");
  (*big.mutable_metadata()->mutable_annotations())["blob"] = std::string(4000, 'x');
  const std::string event = *EncodeJsonEvent(EventType::kAdded, big);
  std::unique_ptr<Decoder> d = NewJsonDecoder(options);
  std::vector<Event> events;
  absl::Status s;
  size_t fed = 0;
  for (; fed < event.size() && s.ok(); fed += 100) {
    s = d->Feed(absl::string_view(event).substr(fed, 100), &events);
    EXPECT_LE(d->buffered(), 1024u);
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("larger than the limit of 1024"));
  EXPECT_LE(fed, 1200u);

  // In one piece too, and an event of exactly the limit passes.
  EXPECT_FALSE(JsonError(event, nullptr, options).ok());
  const std::string small = *EncodeJsonEvent(EventType::kAdded, SmallPod("s", "1"));
  options.max_event_bytes = small.size() - 1;  // without the "\n"
  EXPECT_EQ(DecodeJson(small, options).size(), 1u);
  options.max_event_bytes = small.size() - 2;
  EXPECT_FALSE(JsonError(small, nullptr, options).ok());
}

TEST(JsonDecoderTest, BufferStaysWithinTheLimitForLargePieces) {
  DecoderOptions options;
  options.max_event_bytes = 1000;
  const std::string small = *EncodeJsonEvent(EventType::kAdded, SmallPod("s", "1"));
  ASSERT_LT(small.size(), 1000u);
  std::string stream;
  for (int i = 0; i < 50; ++i) stream += small;
  // Cut so that every piece ends inside an event and the next piece is large.
  std::unique_ptr<Decoder> d = NewJsonDecoder(options);
  std::vector<Event> events;
  ASSERT_TRUE(d->Feed(absl::string_view(stream).substr(0, 10), &events).ok());
  EXPECT_EQ(d->buffered(), 10u);
  ASSERT_TRUE(d->Feed(absl::string_view(stream).substr(10, stream.size() - 20), &events).ok());
  EXPECT_LE(d->buffered(), 1001u);
  ASSERT_TRUE(d->Feed(absl::string_view(stream).substr(stream.size() - 10), &events).ok());
  EXPECT_TRUE(d->Finish().ok());
  EXPECT_EQ(events.size(), 50u);
}

TEST(JsonDecoderTest, WhitespaceOnlyTailIsNotTruncation) {
  std::unique_ptr<Decoder> d = NewJsonDecoder();
  std::vector<Event> events;
  const std::string good = *EncodeJsonEvent(EventType::kAdded, SmallPod("a", "1"));
  ASSERT_TRUE(d->Feed(good + "\n\n   \r\n", &events).ok());
  EXPECT_EQ(d->buffered(), 0u);
  EXPECT_TRUE(d->Finish().ok());
  EXPECT_EQ(events.size(), 1u);
}

// ---- Protobuf specifics ----

std::string Frame(absl::string_view payload) {
  const auto n = static_cast<uint32_t>(payload.size());
  std::string out = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                     static_cast<char>(n >> 8), static_cast<char>(n)};
  out.append(payload.data(), payload.size());
  return out;
}

absl::Status ProtobufError(absl::string_view bytes, DecoderOptions options = {}) {
  std::unique_ptr<Decoder> d = NewProtobufDecoder(std::move(options));
  std::vector<Event> events;
  absl::Status s = d->Feed(bytes, &events);
  if (s.ok()) s = d->Finish();
  return s;
}

TEST(ProtobufDecoderTest, FrameIsTheBareWatchEvent) {
  // Built by hand from the wire rules: WatchEvent{type=1, object=2{raw=1}} with the
  // object enveloped.
  ConfigMap cm;
  cm.mutable_metadata()->set_name("cm");
  const std::string enveloped = *kslice::codec::Encode(cm, Format::kProtobuf);
  kslice::api::meta::v1::WatchEvent wire;
  wire.set_type("MODIFIED");
  wire.mutable_object()->set_raw(enveloped);
  const std::string frame = Frame(wire.SerializeAsString());
  EXPECT_EQ(frame, *EncodeProtobufFrame(EventType::kModified, cm));
  std::vector<Event> events = DecodePieces(&NewProtobufDecoder, {frame});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kModified);
  EXPECT_EQ(events[0].object->GetDescriptor(), ConfigMap::descriptor());

  // Dynamic mode hands out the enveloped object undecoded.
  DecoderOptions options;
  options.mode = ObjectMode::kDynamic;
  events = DecodePieces(&NewProtobufDecoder, {frame}, options);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].object, nullptr);
  EXPECT_EQ(events[0].raw, enveloped);

  // An enveloped WatchEvent (magic + Unknown) is not what the stream carries.
  const std::string wrapped = *kslice::codec::Encode(wire, Format::kProtobuf);
  EXPECT_FALSE(ProtobufError(Frame(wrapped)).ok());
}

TEST(ProtobufDecoderTest, Garbage) {
  ConfigMap cm;
  cm.mutable_metadata()->set_name("cm");
  const std::string enveloped = *kslice::codec::Encode(cm, Format::kProtobuf);
  auto event = [](const std::string& type, const std::string& raw, bool with_object = true) {
    kslice::api::meta::v1::WatchEvent wire;
    wire.set_type(type);
    if (with_object) wire.mutable_object()->set_raw(raw);
    return Frame(wire.SerializeAsString());
  };
  // Object bytes that are the bare ConfigMap (no envelope).
  std::string bare_cm;
  cm.SerializeToString(&bare_cm);
  const std::string bad[] = {
      Frame(""),              // empty WatchEvent: no type
      Frame("\xff\xff\xff"),  // not protobuf
      Frame(std::string("\x0a\x05"
                        "ADD",
                        5)),      // truncated field
      event("ADDED", bare_cm),    // object not enveloped
      event("ADDED", "k8s"),      // truncated magic
      event("ADDED", "", false),  // no object
      event("ADDED", enveloped.substr(0, enveloped.size() - 1)),
      event("BOGUS", enveloped),  // unknown type
      event("added", enveloped),
      event("ERROR", enveloped),  // ERROR without a Status
  };
  for (const std::string& b : bad) {
    SCOPED_TRACE(absl::CHexEscape(b));
    absl::Status s = ProtobufError(b);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  }
  // An unregistered kind in a valid envelope.
  kslice::api::runtime::Unknown unknown;
  unknown.mutable_typemeta()->set_apiversion("example.com/v1");
  unknown.mutable_typemeta()->set_kind("Widget");
  const std::string widget =
      std::string(kslice::codec::kProtobufMagic) + unknown.SerializeAsString();
  EXPECT_EQ(ProtobufError(event("ADDED", widget)).code(), absl::StatusCode::kNotFound);
}

TEST(ProtobufDecoderTest, OversizedFrameIsRefusedAtItsPrefix) {
  std::unique_ptr<Decoder> d = NewProtobufDecoder();
  std::vector<Event> events;
  // A 2 GiB frame: refused once the 4 prefix bytes are in, nothing allocated.
  ASSERT_TRUE(d->Feed(std::string("\x7f\xff", 2), &events).ok());
  EXPECT_EQ(d->buffered(), 2u);
  absl::Status s = d->Feed(std::string("\xff\xff", 2), &events);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("frame of 2147483647 bytes exceeds the limit"));
  EXPECT_EQ(d->buffered(), 0u);

  // Also when the rest of the prefix comes with a large piece of the (bogus) frame.
  d = NewProtobufDecoder();
  ASSERT_TRUE(d->Feed(std::string("\x7f", 1), &events).ok());
  s = d->Feed(std::string("\xff\xff\xff") + std::string(1 << 20, 'x'), &events);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(d->buffered(), 0u);

  // Exactly at the limit passes; one byte more does not.
  ConfigMap cm;
  cm.mutable_metadata()->set_name("cm");
  const std::string frame = *EncodeProtobufFrame(EventType::kAdded, cm);
  DecoderOptions options;
  options.max_event_bytes = frame.size() - 4;
  EXPECT_EQ(DecodePieces(&NewProtobufDecoder, {frame}, options).size(), 1u);
  options.max_event_bytes = frame.size() - 5;
  EXPECT_EQ(ProtobufError(frame, options).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ProtobufDecoderTest, ErrorIsStickyAndNamesTheOffset) {
  ConfigMap cm;
  cm.mutable_metadata()->set_name("cm");
  const std::string good = *EncodeProtobufFrame(EventType::kAdded, cm);
  std::unique_ptr<Decoder> d = NewProtobufDecoder();
  std::vector<Event> events;
  absl::Status s = d->Feed(absl::StrCat(good, Frame("\xff"), good), &events);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr(absl::StrCat("byte ", good.size())));
  EXPECT_EQ(events.size(), 1u);
  EXPECT_EQ(d->Feed(good, &events), s);
  EXPECT_EQ(events.size(), 1u);
}

TEST(DecoderForContentTypeTest, PicksTheFormat) {
  EXPECT_TRUE(NewDecoderForContentType("application/json").ok());
  EXPECT_TRUE(NewDecoderForContentType("application/json; charset=utf-8").ok());
  EXPECT_TRUE(NewDecoderForContentType("application/vnd.kubernetes.protobuf;stream=watch").ok());
  EXPECT_TRUE(NewDecoderForContentType("Application/VND.kubernetes.protobuf").ok());
  EXPECT_FALSE(NewDecoderForContentType("application/yaml").ok());
  EXPECT_FALSE(NewDecoderForContentType("").ok());

  ConfigMap cm;
  cm.mutable_metadata()->set_name("cm");
  auto pb = NewDecoderForContentType("application/vnd.kubernetes.protobuf;stream=watch");
  std::vector<Event> events;
  ASSERT_TRUE((*pb)->Feed(*EncodeProtobufFrame(EventType::kAdded, cm), &events).ok());
  EXPECT_EQ(events.size(), 1u);
  auto json = NewDecoderForContentType("application/json");
  ASSERT_TRUE((*json)->Feed(*EncodeJsonEvent(EventType::kAdded, cm), &events).ok());
  EXPECT_EQ(events.size(), 2u);
}

TEST(EventTest, TypeNames) {
  for (EventType t : {EventType::kAdded, EventType::kModified, EventType::kDeleted,
                      EventType::kBookmark, EventType::kError}) {
    EXPECT_EQ(ParseEventType(EventTypeName(t)), t);
  }
  EXPECT_EQ(EventTypeName(EventType::kBookmark), "BOOKMARK");
  EXPECT_EQ(ParseEventType("Added"), std::nullopt);
  EXPECT_EQ(ParseEventType(""), std::nullopt);
}

}  // namespace
}  // namespace kslice::client::watch
