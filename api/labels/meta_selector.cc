#include "api/labels/meta_selector.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace kslice::labels {

absl::StatusOr<Selector> FromLabelSelector(const kslice::api::meta::v1::LabelSelector* selector) {
  if (selector == nullptr) return Selector::Nothing();
  if (selector->matchlabels().empty() && selector->matchexpressions().empty()) {
    return Selector::Everything();
  }
  std::vector<Requirement> reqs;
  reqs.reserve(selector->matchlabels().size() + selector->matchexpressions().size());

  // Map iteration order is unspecified; sort so errors and output are deterministic.
  std::vector<std::pair<const std::string*, const std::string*>> labels;
  labels.reserve(selector->matchlabels().size());
  for (const auto& [k, v] : selector->matchlabels()) labels.emplace_back(&k, &v);
  std::sort(labels.begin(), labels.end(),
            [](const auto& a, const auto& b) { return *a.first < *b.first; });
  for (const auto& [k, v] : labels) {
    absl::StatusOr<Requirement> r = Requirement::Create(*k, Operator::kEquals, {*v});
    if (!r.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("matchLabels[\"", absl::CHexEscape(*k), "\"]: ", r.status().message()));
    }
    reqs.push_back(*std::move(r));
  }

  for (int i = 0; i < selector->matchexpressions_size(); ++i) {
    const kslice::api::meta::v1::LabelSelectorRequirement& expr = selector->matchexpressions(i);
    Operator op;
    const std::string& name = expr.operator_();
    if (name == "In") {
      op = Operator::kIn;
    } else if (name == "NotIn") {
      op = Operator::kNotIn;
    } else if (name == "Exists") {
      op = Operator::kExists;
    } else if (name == "DoesNotExist") {
      op = Operator::kDoesNotExist;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "matchExpressions[", i, "].operator: \"", absl::CHexEscape(name),
          "\" is not a valid label selector operator (want In, NotIn, Exists or DoesNotExist)"));
    }
    absl::StatusOr<Requirement> r = Requirement::Create(
        expr.key(), op, std::vector<std::string>(expr.values().begin(), expr.values().end()));
    if (!r.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("matchExpressions[", i, "]: ", r.status().message()));
    }
    reqs.push_back(*std::move(r));
  }
  return Selector().Add(std::move(reqs));
}

}  // namespace kslice::labels
