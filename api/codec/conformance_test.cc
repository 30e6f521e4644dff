// Conformance against the Kubernetes API repository's round-trip fixtures
// (shared/testdata/k8s-api/{HEAD,v1.33.0}/<group>.<version>.<Kind>.{pb,json,yaml}):
// each triple encodes one object. Upstream's contract, checked for every fixture:
//   - the .pb decodes with no unknown field and re-encodes to identical bytes;
//   - the .json and .yaml decode, with no unknown key, to the same object as the .pb;
//   - re-encoding as JSON gives the fixture's JSON tree (and, with 2-space indent,
//     its exact bytes); re-encoding as YAML gives the fixture's YAML tree.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "api/codec/codec.h"
#include "api/codec/node.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "testing/shared_dir.h"

namespace kslice::codec {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct Fixture {
  std::string name;  // "HEAD/core.v1.Pod"
  fs::path base;     // path without extension
  std::string api_version;
  std::string kind;
};

std::vector<Fixture> AllFixtures(const fs::path& root) {
  std::vector<Fixture> out;
  for (const char* release : {"HEAD", "v1.33.0"}) {
    fs::path dir = root / release;
    if (!fs::is_directory(dir)) continue;
    std::map<std::string, Fixture> found;
    for (const auto& entry : fs::directory_iterator(dir)) {
      std::string file = entry.path().filename().string();
      if (entry.path().extension() != ".pb") continue;
      std::string stem = entry.path().stem().string();  // group.version.Kind
      std::vector<std::string> parts = absl::StrSplit(stem, '.');
      if (parts.size() < 3) continue;
      Fixture f;
      f.kind = parts.back();
      std::string version = parts[parts.size() - 2];
      std::string group = absl::StrJoin(parts.begin(), parts.end() - 2, ".");
      f.api_version = group == "core" ? version : absl::StrCat(group, "/", version);
      f.name = absl::StrCat(release, "/", stem);
      f.base = dir / stem;
      found[f.name] = f;
    }
    for (auto& [k, v] : found) out.push_back(v);
  }
  return out;
}

class ConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::optional<std::string> shared = kslice::testing::SharedDir();
    if (!shared) GTEST_SKIP() << "shared/ not found (set KSLICE_SHARED_DIR); skipping fixtures";
    root_ = fs::path(*shared) / "testdata" / "k8s-api";
    if (!fs::is_directory(root_)) GTEST_SKIP() << root_ << " not found; skipping fixtures";
    fixtures_ = AllFixtures(root_);
  }

  fs::path root_;
  std::vector<Fixture> fixtures_;
};

TEST_F(ConformanceTest, CoversEveryFixture) {
  // Both releases, the 9 kinds of the issue each.
  EXPECT_EQ(fixtures_.size(), 18u);
  for (const Fixture& f : fixtures_) {
    EXPECT_NE(kslice::api::Scheme::Builtin().Prototype(f.api_version, f.kind), nullptr)
        << f.name << ": " << f.api_version << "/" << f.kind << " is not registered";
  }
}

TEST_F(ConformanceTest, ProtobufRoundTripsByteForByte) {
  for (const Fixture& f : fixtures_) {
    SCOPED_TRACE(f.name);
    std::string pb = ReadFile(f.base.string() + ".pb");
    std::vector<std::string> unknown;
    DecodeOptions options;
    options.unknown_fields = &unknown;
    auto obj = Decode(pb, Format::kProtobuf, options);
    ASSERT_TRUE(obj.ok()) << obj.status();
    EXPECT_TRUE(unknown.empty()) << "unknown fields: " << absl::StrJoin(unknown, ", ");
    EXPECT_EQ((*obj)->GetDescriptor(),
              kslice::api::Scheme::Builtin().Prototype(f.api_version, f.kind)->GetDescriptor());
    auto encoded = Encode(**obj, Format::kProtobuf);
    ASSERT_TRUE(encoded.ok()) << encoded.status();
    EXPECT_TRUE(*encoded == pb) << "re-encoded protobuf differs (" << encoded->size() << " vs "
                                << pb.size() << " bytes)";
  }
}

TEST_F(ConformanceTest, JsonAndYamlDecodeToTheProtobufObject) {
  for (const Fixture& f : fixtures_) {
    auto from_pb = Decode(ReadFile(f.base.string() + ".pb"), Format::kProtobuf);
    ASSERT_TRUE(from_pb.ok()) << f.name << ": " << from_pb.status();
    for (Format format : {Format::kJson, Format::kYaml}) {
      SCOPED_TRACE(absl::StrCat(f.name, " ", FormatName(format)));
      std::string ext = format == Format::kJson ? ".json" : ".yaml";
      std::vector<std::string> unknown;
      DecodeOptions options;
      options.unknown_fields = &unknown;
      auto obj = Decode(ReadFile(f.base.string() + ext), format, options);
      ASSERT_TRUE(obj.ok()) << obj.status();
      EXPECT_TRUE(unknown.empty()) << "unknown fields: " << absl::StrJoin(unknown, ", ");
      std::string diff;
      google::protobuf::util::MessageDifferencer differ;
      differ.ReportDifferencesToString(&diff);
      EXPECT_TRUE(differ.Compare(**from_pb, **obj)) << diff;
      // And the same bytes on the wire.
      auto a = Encode(**from_pb, Format::kProtobuf);
      auto b = Encode(**obj, Format::kProtobuf);
      ASSERT_TRUE(a.ok() && b.ok());
      EXPECT_TRUE(*a == *b);
    }
  }
}

TEST_F(ConformanceTest, JsonReencodesToTheFixture) {
  for (const Fixture& f : fixtures_) {
    SCOPED_TRACE(f.name);
    std::string json = ReadFile(f.base.string() + ".json");
    auto obj = Decode(json, Format::kJson);
    ASSERT_TRUE(obj.ok()) << obj.status();
    EncodeOptions pretty;
    pretty.json_indent = 2;
    auto encoded = Encode(**obj, Format::kJson, pretty);
    ASSERT_TRUE(encoded.ok()) << encoded.status();
    auto want = ParseJson(json);
    auto got = ParseJson(*encoded);
    ASSERT_TRUE(want.ok() && got.ok());
    EXPECT_TRUE(want->Equals(*got)) << *encoded;
    // Go's encoder writes keys in struct order; ours follows the same order.
    EXPECT_EQ(*encoded, json);
  }
}

TEST_F(ConformanceTest, YamlReencodesToTheFixtureTree) {
  for (const Fixture& f : fixtures_) {
    SCOPED_TRACE(f.name);
    std::string yaml = ReadFile(f.base.string() + ".yaml");
    auto obj = Decode(yaml, Format::kYaml);
    ASSERT_TRUE(obj.ok()) << obj.status();
    auto encoded = Encode(**obj, Format::kYaml);
    ASSERT_TRUE(encoded.ok()) << encoded.status();
    auto want = ParseYaml(yaml);
    auto got = ParseYaml(*encoded);
    ASSERT_TRUE(want.ok() && got.ok()) << got.status();
    EXPECT_TRUE(want->Equals(*got)) << *encoded;
  }
}

}  // namespace
}  // namespace kslice::codec
