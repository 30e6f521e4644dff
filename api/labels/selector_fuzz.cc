// Fuzzes the label and field selector parsers. For every input that parses:
//  - String() must parse again to an equal selector (labels) or the same set of terms
//    (fields), and printing must reach a fixed point;
//  - the re-parsed selector must match exactly the same label / field sets.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "api/fields/selector.h"
#include "api/labels/selector.h"

namespace {

[[noreturn]] void Fail(const char* what, std::string_view input, std::string_view detail) {
  const std::string in = absl::CHexEscape(absl::string_view(input.data(), input.size()));
  const std::string de = absl::CHexEscape(absl::string_view(detail.data(), detail.size()));
  std::fprintf(stderr, "selector_fuzz: %s\n  input:  \"%s\"\n  detail: \"%s\"\n", what,
               in.c_str(), de.c_str());
  std::abort();
}

std::vector<kslice::labels::LabelMap> LabelSets(const kslice::labels::Selector& s) {
  std::vector<kslice::labels::LabelMap> sets = {
      {},
      {{"app", "nginx"}, {"tier", "frontend"}, {"x", "1"}, {"y", ""}, {"in", "notin"}},
  };
  // Label sets built from the selector itself, so requirements actually get exercised.
  kslice::labels::LabelMap first, last;
  for (const auto& r : s.requirements()) {
    const std::string v = r.values().empty() ? "" : r.values().front();
    first.emplace(r.key(), v);
    last[r.key()] = r.values().empty() ? "7" : r.values().back();
  }
  sets.push_back(std::move(first));
  sets.push_back(std::move(last));
  return sets;
}

void FuzzLabels(std::string_view input) {
  absl::StatusOr<kslice::labels::Selector> s = kslice::labels::Parse(input);
  if (!s.ok()) return;
  const std::string printed = s->String();
  absl::StatusOr<kslice::labels::Selector> again = kslice::labels::Parse(printed);
  if (!again.ok()) Fail("label selector String() does not parse", input, printed);
  if (again->String() != printed) Fail("label selector String() is not stable", input, printed);
  if (!(*again == *s)) Fail("label selector changed on re-parse", input, printed);
  for (const auto& labels : LabelSets(*s)) {
    if (s->Matches(labels) != again->Matches(labels)) {
      Fail("label selector match changed on re-parse", input, printed);
    }
  }
  for (const auto& r : s->requirements()) (void)s->RequiresExactMatch(r.key());
}

std::vector<kslice::fields::Requirement> Sorted(const kslice::fields::Selector& s) {
  std::vector<kslice::fields::Requirement> v = s.requirements();
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    if (a.field != b.field) return a.field < b.field;
    if (a.op != b.op) return a.op < b.op;
    return a.value < b.value;
  });
  return v;
}

void FuzzFields(std::string_view input) {
  absl::StatusOr<kslice::fields::Selector> s = kslice::fields::Parse(input);
  if (!s.ok()) return;
  const std::string printed = s->String();
  absl::StatusOr<kslice::fields::Selector> again = kslice::fields::Parse(printed);
  if (!again.ok()) Fail("field selector String() does not parse", input, printed);
  if (Sorted(*again) != Sorted(*s)) Fail("field selector terms changed on re-parse", input, printed);
  const std::string printed2 = again->String();
  absl::StatusOr<kslice::fields::Selector> third = kslice::fields::Parse(printed2);
  if (!third.ok() || third->String() != printed2) {
    Fail("field selector String() does not reach a fixed point", input, printed2);
  }
  kslice::fields::FieldSet fields = {{"metadata.name", "web-0"}, {"status.phase", "Running"}};
  kslice::fields::FieldSet own;
  for (const auto& r : s->requirements()) own.emplace(r.field, r.value);
  for (const auto* set : {&fields, &own}) {
    if (s->Matches(*set) != again->Matches(*set)) {
      Fail("field selector match changed on re-parse", input, printed);
    }
  }
  for (const auto& r : s->requirements()) (void)s->RequiresExactMatch(r.field);
  for (const auto& r : s->requirements()) {
    absl::StatusOr<std::string> v = kslice::fields::UnescapeValue(kslice::fields::EscapeValue(r.value));
    if (!v.ok() || *v != r.value) Fail("field value escaping does not round-trip", input, r.value);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  FuzzLabels(input);
  FuzzFields(input);
  return 0;
}
