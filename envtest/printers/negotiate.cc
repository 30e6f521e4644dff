// Accept-header negotiation for Table output, following k8s.io/apiserver
// pkg/endpoints/handlers/negotiation (and the goautoneg parser it uses).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "envtest/printers/internal/status.h"
#include "envtest/printers/table.h"

namespace kslice::envtest::printers {
namespace {

struct Clause {
  std::string type;
  std::string subtype;
  double q = 1.0;
  std::vector<std::pair<std::string, std::string>> params;  // last one of a name wins
};

std::string Trim(absl::string_view s) {
  // goautoneg trims spaces only.
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

std::vector<Clause> ParseAccept(absl::string_view header) {
  std::vector<Clause> clauses;
  for (absl::string_view part : absl::StrSplit(header, ',')) {
    const std::string trimmed = Trim(part);
    std::vector<absl::string_view> mrp = absl::StrSplit(trimmed, ';');
    std::vector<absl::string_view> sp = absl::StrSplit(mrp[0], '/');
    Clause c;
    c.type = Trim(sp[0]);
    if (sp.size() == 1 && c.type == "*") {
      c.subtype = "*";
    } else if (sp.size() == 2) {
      c.subtype = Trim(sp[1]);
    } else {
      continue;  // not a media range
    }
    for (size_t i = 1; i < mrp.size(); ++i) {
      std::vector<absl::string_view> kv = absl::StrSplit(mrp[i], absl::MaxSplits('=', 1));
      if (kv.size() != 2) continue;
      std::string key = Trim(kv[0]);
      if (key == "q") {
        double q = 0;
        // Go's ParseFloat failure leaves 0.
        c.q = absl::SimpleAtod(kv[1], &q) ? q : 0;
      } else {
        std::string value = Trim(kv[1]);
        auto it = std::find_if(c.params.begin(), c.params.end(),
                               [&](const auto& p) { return p.first == key; });
        if (it != c.params.end()) {
          it->second = std::move(value);
        } else {
          c.params.emplace_back(std::move(key), std::move(value));
        }
      }
    }
    clauses.push_back(std::move(c));
  }
  // Higher q first, then concrete types before wildcards; stable otherwise.
  std::stable_sort(clauses.begin(), clauses.end(), [](const Clause& a, const Clause& b) {
    if (a.q != b.q) return a.q > b.q;
    const bool a_wild = a.type == "*", b_wild = b.type == "*";
    if (a_wild != b_wild) return !a_wild;
    const bool a_sub_wild = a.subtype == "*", b_sub_wild = b.subtype == "*";
    if (a_sub_wild != b_sub_wild) return !a_sub_wild;
    return false;
  });
  return clauses;
}

struct Serializer {
  const char* type;
  const char* subtype;
  const char* media_type;
};

// kube-apiserver's order of supported media types.
constexpr Serializer kSerializers[] = {
    {"application", "json", "application/json"},
    {"application", "yaml", "application/yaml"},
    {"application", "vnd.kubernetes.protobuf", "application/vnd.kubernetes.protobuf"},
};

// acceptMediaTypeOptions + RequestScope.AllowsMediaTypeTransform.
bool Accept(const Clause& clause, const Serializer& s, AcceptChoice* out) {
  bool convert = false;
  std::string kind, group, version;
  AcceptChoice choice;
  choice.media_type = s.media_type;
  for (const auto& [k, v] : clause.params) {
    if (k == "as") {
      convert = true;
      kind = v;
    } else if (k == "g") {
      convert = true;
      group = v;
    } else if (k == "v") {
      convert = true;
      version = v;
    } else if (k == "stream") {
      // Only "watch" streams exist, and not for protobuf-less serializers (all have one).
      if (!v.empty() && v != "watch") return false;
    } else if (k == "sv") {
      if (!v.empty()) return false;  // no server-version conversions
    } else if (k == "pretty") {
      choice.pretty = v == "1";
    }
  }
  if (convert) {
    if (group != "meta.k8s.io" || (version != "v1" && version != "v1beta1")) return false;
    const TableVersion tv = version == "v1" ? TableVersion::kV1 : TableVersion::kV1beta1;
    if (kind == "Table") {
      if (std::string(s.subtype) != "json" && std::string(s.subtype) != "yaml") return false;
      choice.table = true;
      choice.table_version = tv;
    } else if (kind == "PartialObjectMetadata" || kind == "PartialObjectMetadataList") {
      choice.other_conversion = kind;
      choice.other_conversion_version = tv;
    } else {
      return false;
    }
  }
  *out = std::move(choice);
  return true;
}

}  // namespace

absl::StatusOr<AcceptChoice> NegotiateAccept(absl::string_view accept_header) {
  if (accept_header.empty()) {
    AcceptChoice choice;
    choice.media_type = kSerializers[0].media_type;
    return choice;
  }
  for (const Clause& clause : ParseAccept(accept_header)) {
    for (const Serializer& s : kSerializers) {
      const bool match = (clause.type == s.type && clause.subtype == s.subtype) ||
                         (clause.type == s.type && clause.subtype == "*") ||
                         (clause.type == "*" && clause.subtype == "*");
      if (!match) continue;
      AcceptChoice choice;
      if (Accept(clause, s, &choice)) return choice;
    }
  }
  return internal::NotAcceptableError(
      "only the following media types are accepted: application/json, application/yaml, "
      "application/vnd.kubernetes.protobuf");
}

}  // namespace kslice::envtest::printers
