// kslice-codec: converts a Kubernetes object between protobuf, JSON and YAML.
//
//   kslice-codec --from=pb --to=json [--indent=N] [FILE|-]
//   kubectl get pod x -o yaml | kslice-codec --to=pb > pod.pb
//
// --from defaults to auto (protobuf magic, else JSON if it starts with '{', else YAML).
// Exit status: 0 converted, 1 the input could not be decoded or encoded, 2 bad usage.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/codec/codec.h"

namespace {

constexpr char kUsage[] =
    "usage: kslice-codec [--from=auto|pb|json|yaml] --to=pb|json|yaml [--indent=N]\n"
    "                    [--strict] [--list-kinds] [FILE|-]\n"
    "Converts one Kubernetes object between the API server's wire formats.\n"
    "  --from     input format (default auto: protobuf magic, '{' for JSON, else YAML)\n"
    "  --to       output format\n"
    "  --indent   JSON indentation (default 2; 0 for compact)\n"
    "  --strict   fail if the input has fields kslice does not know\n"
    "  --list-kinds  print the apiVersion/kind pairs kslice can convert\n";

int Usage(const std::string& error) {
  std::cerr << "kslice-codec: " << error << "\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using kslice::codec::Format;
  std::optional<Format> from, to;
  int indent = 2;
  bool strict = false;
  std::string input_path = "-";
  bool have_input = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value_of = [&](const std::string& flag) -> std::optional<std::string> {
      if (absl::StartsWith(arg, flag + "=")) return arg.substr(flag.size() + 1);
      if (arg == flag && i + 1 < argc) return std::string(argv[++i]);
      return std::nullopt;
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--list-kinds") {
      for (const auto& tm : kslice::api::Scheme::Builtin().Kinds()) {
        std::cout << tm.api_version << "\t" << tm.kind << "\n";
      }
      return 0;
    }
    if (arg == "--strict") {
      strict = true;
    } else if (auto v = value_of("--from")) {
      if (*v != "auto") {
        auto f = kslice::codec::ParseFormat(*v);
        if (!f.ok()) return Usage(std::string(f.status().message()));
        from = *f;
      }
    } else if (auto v = value_of("--to")) {
      auto f = kslice::codec::ParseFormat(*v);
      if (!f.ok()) return Usage(std::string(f.status().message()));
      to = *f;
    } else if (auto v = value_of("--indent")) {
      if (!absl::SimpleAtoi(*v, &indent) || indent < 0 || indent > 16) {
        return Usage(absl::StrCat("--indent wants a number from 0 to 16, got \"", *v, "\""));
      }
    } else if (absl::StartsWith(arg, "--")) {
      return Usage(absl::StrCat("unknown flag ", arg));
    } else if (!have_input) {
      input_path = arg;
      have_input = true;
    } else {
      return Usage("more than one input file");
    }
  }
  if (!to) return Usage("--to is required");

  std::string data;
  if (input_path == "-") {
    data.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(input_path, std::ios::binary);
    if (!in) {
      std::cerr << "kslice-codec: cannot read " << input_path << "\n";
      return 1;
    }
    data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const Format in_format = from.value_or(kslice::codec::DetectFormat(data));

  std::vector<std::string> unknown;
  kslice::codec::DecodeOptions options;
  options.unknown_fields = &unknown;
  auto object = kslice::codec::Decode(data, in_format, options);
  if (!object.ok()) {
    std::cerr << "kslice-codec: decoding " << kslice::codec::FormatName(in_format) << ": "
              << object.status().message() << "\n";
    return 1;
  }
  if (!unknown.empty()) {
    std::cerr << "kslice-codec: " << (strict ? "error" : "warning") << ": unknown field(s) "
              << absl::StrJoin(unknown, ", ") << (strict ? "" : " (dropped)") << "\n";
    if (strict) return 1;
  }
  kslice::codec::EncodeOptions encode_options;
  encode_options.json_indent = indent;
  auto out = kslice::codec::Encode(**object, *to, encode_options);
  if (!out.ok()) {
    std::cerr << "kslice-codec: encoding " << kslice::codec::FormatName(*to) << ": "
              << out.status().message() << "\n";
    return 1;
  }
  std::cout.write(out->data(), static_cast<std::streamsize>(out->size()));
  if (*to == Format::kJson && indent > 0) std::cout << "\n";
  std::cout.flush();
  return std::cout.good() ? 0 : 1;
}
