// apps/v1 validation: Deployment, ReplicaSet and DaemonSet, as kube-apiserver's
// pkg/apis/apps/validation and the apps registry strategies check them (the parts that
// matter for a cluster without StatefulSets: selectors, templates, strategies, counts).
// Paths and messages are upstream's; values that are not strings are rendered as Go's
// %#v renders them, as upstream's field errors do.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/labels/meta_selector.h"
#include "api/labels/validation.h"
#include "envtest/validation/checks.h"
#include "envtest/validation/internal.h"
#include "google/protobuf/util/message_differencer.h"

namespace kslice::envtest::validation::internal {
namespace {

namespace apps = kslice::api::apps::v1;
namespace core = kslice::api::core::v1;
using kslice::api::intstr::IntOrString;
using kslice::api::meta::v1::LabelSelector;

// ---- Go %#v renderings ----

std::string GoStringMap(const StringMap& m) {
  if (m.empty()) return "map[string]string(nil)";
  std::vector<std::string> parts;
  for (const std::string& k : SortedKeys(m)) {
    parts.push_back(absl::StrCat(storage::GoQuote(k), ":", storage::GoQuote(m.at(k))));
  }
  return absl::StrCat("map[string]string{", absl::StrJoin(parts, ", "), "}");
}

std::string GoLabelSelector(const LabelSelector& s) {
  std::string exprs = "[]v1.LabelSelectorRequirement(nil)";
  if (!s.matchexpressions().empty()) {
    std::vector<std::string> items;
    for (const auto& e : s.matchexpressions()) {
      std::vector<std::string> values;
      for (const std::string& v : e.values()) values.push_back(storage::GoQuote(v));
      items.push_back(
          absl::StrCat("v1.LabelSelectorRequirement{Key:", storage::GoQuote(e.key()),
                       ", Operator:", storage::GoQuote(e.operator_()), ", Values:",
                       values.empty() ? "[]string(nil)"
                                      : absl::StrCat("[]string{", absl::StrJoin(values, ", "), "}"),
                       "}"));
    }
    exprs = absl::StrCat("[]v1.LabelSelectorRequirement{", absl::StrJoin(items, ", "), "}");
  }
  return absl::StrCat("v1.LabelSelector{MatchLabels:", GoStringMap(s.matchlabels()),
                      ", MatchExpressions:", exprs, "}");
}

std::string GoIntOrString(const IntOrString& v) {
  return absl::StrCat("intstr.IntOrString{Type:", v.type(), ", IntVal:", v.intval(),
                      ", StrVal:", storage::GoQuote(v.strval()), "}");
}

// ---- shared checks ----

// unversionedvalidation.ValidateLabelSelector (strict label values).
void ValidateLabelSelector(const LabelSelector& s, const std::string& path, Errors* errs) {
  for (int i = 0; i < s.matchexpressions_size(); ++i) {
    const auto& e = s.matchexpressions(i);
    const std::string p = Index(Child(path, "matchExpressions"), i);
    const std::string& op = e.operator_();
    if (op == "In" || op == "NotIn") {
      if (e.values().empty()) {
        errs->push_back(
            Required(Child(p, "values"), "must be specified when `operator` is 'In' or 'NotIn'"));
      }
    } else if (op == "Exists" || op == "DoesNotExist") {
      if (!e.values().empty()) {
        errs->push_back(Forbidden(Child(p, "values"),
                                  "may not be specified when `operator` is 'Exists' or "
                                  "'DoesNotExist'"));
      }
    } else {
      errs->push_back(Invalid(Child(p, "operator"), op, "not a valid selector operator"));
    }
    for (const std::string& msg : labels::IsQualifiedName(e.key())) {
      errs->push_back(Invalid(Child(p, "key"), e.key(), msg));
    }
    for (int j = 0; j < e.values_size(); ++j) {
      for (const std::string& msg : labels::IsValidLabelValue(e.values(j))) {
        errs->push_back(Invalid(Index(Child(p, "values"), j), e.values(j), msg));
      }
    }
  }
  ValidateLabels(s.matchlabels(), Child(path, "matchLabels"), errs);
}

// The selector checks shared by Deployments and ReplicaSets, then the template
// (ValidatePodTemplateSpecForReplicaSet). `what` names the kind in the empty-selector
// message ("deployment": upstream uses that word for ReplicaSets too).
void ValidateSelectorAndTemplate(bool has_selector, const LabelSelector& sel,
                                 const core::PodTemplateSpec& tmpl, const std::string& kind_word,
                                 const std::string& kind_name, Errors* errs) {
  if (!has_selector) {
    errs->push_back(Required("spec.selector"));
  } else {
    ValidateLabelSelector(sel, "spec.selector", errs);
    if (sel.matchlabels().size() + sel.matchexpressions_size() == 0) {
      errs->push_back(storage::InvalidRenderedFieldError(
          "spec.selector", GoLabelSelector(sel),
          absl::StrCat("empty selector is invalid for ", kind_word)));
    }
  }
  absl::StatusOr<labels::Selector> selector =
      labels::FromLabelSelector(has_selector ? &sel : nullptr);
  if (!selector.ok()) {
    errs->push_back(storage::InvalidRenderedFieldError("spec.selector", GoLabelSelector(sel),
                                                       "invalid label selector"));
    return;
  }
  if (!selector->Empty() && !selector->Matches(tmpl.metadata().labels())) {
    errs->push_back(storage::InvalidRenderedFieldError(
        "spec.template.metadata.labels", GoStringMap(tmpl.metadata().labels()),
        "`selector` does not match template `labels`"));
  }
  ValidatePodTemplateSpec(tmpl, "spec.template", errs);
  if (tmpl.spec().restartpolicy() != "Always") {
    errs->push_back(
        NotSupported("spec.template.spec.restartPolicy", tmpl.spec().restartpolicy(), {"Always"}));
  }
  if (tmpl.spec().has_activedeadlineseconds()) {
    errs->push_back(
        InvalidInt("spec.template.spec.activeDeadlineSeconds", tmpl.spec().activedeadlineseconds(),
                   absl::StrCat("activeDeadlineSeconds in ", kind_name, " is not Supported")));
  }
}

// getIntOrPercentValue: the number, or the percentage's number; 0 when unset.
int IntOrPercentValue(bool present, const IntOrString& v) {
  if (!present) return 0;
  if (v.type() == 0) return v.intval();
  std::string s = v.strval();
  if (!s.empty() && s.back() == '%') s.pop_back();
  int n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
    if (n > 1000000) return n;
  }
  return n;
}

bool IsPercent(const std::string& s) {
  if (s.size() < 2 || s.back() != '%') return false;
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// ValidatePositiveIntOrPercent and IsNotMoreThan100Percent.
void ValidateIntOrPercent(bool present, const IntOrString& v, const std::string& path,
                          Errors* errs) {
  if (!present) return;
  if (v.type() == 1) {
    if (!IsPercent(v.strval())) {
      errs->push_back(Invalid(path, v.strval(), "must be an integer or percentage (e.g '5%')"));
    } else if (IntOrPercentValue(true, v) > 100) {
      errs->push_back(Invalid(path, v.strval(), "must not be greater than 100%"));
    }
  } else {
    ValidateNonnegative(v.intval(), path, errs);
  }
}

void ValidateDeploymentStrategy(const apps::DeploymentStrategy& s, Errors* errs) {
  const std::string path = "spec.strategy";
  if (s.type() == "Recreate") {
    if (s.has_rollingupdate()) {
      errs->push_back(Forbidden(Child(path, "rollingUpdate"),
                                "may not be specified when strategy `type` is 'Recreate'"));
    }
  } else if (s.type() == "RollingUpdate") {
    if (!s.has_rollingupdate()) {
      errs->push_back(
          Required(Child(path, "rollingUpdate"), "this should be defaulted and never be nil"));
      return;
    }
    const apps::RollingUpdateDeployment& ru = s.rollingupdate();
    const std::string p = Child(path, "rollingUpdate");
    ValidateIntOrPercent(ru.has_maxunavailable(), ru.maxunavailable(), Child(p, "maxUnavailable"),
                         errs);
    ValidateIntOrPercent(ru.has_maxsurge(), ru.maxsurge(), Child(p, "maxSurge"), errs);
    if (IntOrPercentValue(ru.has_maxunavailable(), ru.maxunavailable()) == 0 &&
        IntOrPercentValue(ru.has_maxsurge(), ru.maxsurge()) == 0) {
      errs->push_back(storage::InvalidRenderedFieldError(Child(p, "maxUnavailable"),
                                                         GoIntOrString(ru.maxunavailable()),
                                                         "may not be 0 when `maxSurge` is 0"));
    }
  } else {
    errs->push_back(NotSupported(path, s.type(), {"Recreate", "RollingUpdate"}));
  }
}

void ValidateDaemonSetUpdateStrategy(const apps::DaemonSetUpdateStrategy& s, Errors* errs) {
  const std::string path = "spec.updateStrategy";
  if (s.type() == "OnDelete") return;
  if (s.type() != "RollingUpdate") {
    errs->push_back(NotSupported(path, s.type(), {"RollingUpdate", "OnDelete"}));
    return;
  }
  if (!s.has_rollingupdate()) {
    errs->push_back(Required(Child(path, "rollingUpdate")));
    return;
  }
  const apps::RollingUpdateDaemonSet& ru = s.rollingupdate();
  const std::string p = Child(path, "rollingUpdate");
  ValidateIntOrPercent(ru.has_maxunavailable(), ru.maxunavailable(), Child(p, "maxUnavailable"),
                       errs);
  ValidateIntOrPercent(ru.has_maxsurge(), ru.maxsurge(), Child(p, "maxSurge"), errs);
  const bool unavailable = IntOrPercentValue(ru.has_maxunavailable(), ru.maxunavailable()) != 0;
  const bool surge = IntOrPercentValue(ru.has_maxsurge(), ru.maxsurge()) != 0;
  if (unavailable && surge) {
    errs->push_back(storage::InvalidRenderedFieldError(Child(p, "maxSurge"),
                                                       GoIntOrString(ru.maxsurge()),
                                                       "may not be set when maxUnavailable is "
                                                       "non-zero"));
  } else if (!unavailable && !surge) {
    errs->push_back(Required(Child(p, "maxUnavailable"), "cannot be 0 when maxSurge is 0"));
  }
}

// The selector may not change in apps/v1 (the strategies' ValidateUpdate).
void ValidateSelectorImmutable(bool has, const LabelSelector& sel, bool had,
                               const LabelSelector& old, Errors* errs) {
  if (has == had && google::protobuf::util::MessageDifferencer::Equals(sel, old)) return;
  errs->push_back(storage::InvalidRenderedFieldError(
      "spec.selector", has ? GoLabelSelector(sel) : "null", kFieldImmutable));
}

void ValidateDeploymentSpec(const apps::DeploymentSpec& spec, Errors* errs) {
  ValidateNonnegative(spec.replicas(), "spec.replicas", errs);
  ValidateSelectorAndTemplate(spec.has_selector(), spec.selector(), spec.template_(), "deployment",
                              "ReplicaSet", errs);
  ValidateDeploymentStrategy(spec.strategy(), errs);
  ValidateNonnegative(spec.minreadyseconds(), "spec.minReadySeconds", errs);
  if (spec.has_revisionhistorylimit()) {
    ValidateNonnegative(spec.revisionhistorylimit(), "spec.revisionHistoryLimit", errs);
  }
  if (spec.has_progressdeadlineseconds()) {
    ValidateNonnegative(spec.progressdeadlineseconds(), "spec.progressDeadlineSeconds", errs);
    if (spec.progressdeadlineseconds() <= spec.minreadyseconds()) {
      errs->push_back(InvalidInt("spec.progressDeadlineSeconds", spec.progressdeadlineseconds(),
                                 "must be greater than minReadySeconds"));
    }
  }
}

void ValidateReplicaSetSpec(const apps::ReplicaSetSpec& spec, Errors* errs) {
  ValidateNonnegative(spec.replicas(), "spec.replicas", errs);
  ValidateNonnegative(spec.minreadyseconds(), "spec.minReadySeconds", errs);
  ValidateSelectorAndTemplate(spec.has_selector(), spec.selector(), spec.template_(), "deployment",
                              "ReplicaSet", errs);
}

void ValidateDaemonSetSpec(const apps::DaemonSetSpec& spec, Errors* errs) {
  const LabelSelector& sel = spec.selector();
  if (spec.has_selector()) ValidateLabelSelector(sel, "spec.selector", errs);
  absl::StatusOr<labels::Selector> selector =
      labels::FromLabelSelector(spec.has_selector() ? &sel : nullptr);
  // A nil selector selects nothing, so it never matches the template.
  if (selector.ok() && !selector->Matches(spec.template_().metadata().labels())) {
    errs->push_back(storage::InvalidRenderedFieldError(
        "spec.template.metadata.labels", GoStringMap(spec.template_().metadata().labels()),
        "`selector` does not match template `labels`"));
  }
  if (spec.has_selector() && sel.matchlabels().size() + sel.matchexpressions_size() == 0) {
    errs->push_back(storage::InvalidRenderedFieldError("spec.selector", GoLabelSelector(sel),
                                                       "empty selector is invalid for daemonset"));
  }
  const core::PodTemplateSpec& tmpl = spec.template_();
  ValidatePodTemplateSpec(tmpl, "spec.template", errs);
  if (tmpl.spec().restartpolicy() != "Always") {
    errs->push_back(
        NotSupported("spec.template.spec.restartPolicy", tmpl.spec().restartpolicy(), {"Always"}));
  }
  if (tmpl.spec().has_activedeadlineseconds()) {
    errs->push_back(InvalidInt("spec.template.spec.activeDeadlineSeconds",
                               tmpl.spec().activedeadlineseconds(),
                               "activeDeadlineSeconds in DaemonSet is not Supported"));
  }
  ValidateNonnegative(spec.minreadyseconds(), "spec.minReadySeconds", errs);
  ValidateDaemonSetUpdateStrategy(spec.updatestrategy(), errs);
  if (spec.has_revisionhistorylimit()) {
    ValidateNonnegative(spec.revisionhistorylimit(), "spec.revisionHistoryLimit", errs);
  }
}

void ValidateConditionsAndCounts(const std::vector<std::pair<const char*, int64_t>>& counts,
                                 Errors* errs) {
  for (const auto& [path, value] : counts) ValidateNonnegative(value, path, errs);
}

}  // namespace

void ValidateDeployment(const apps::Deployment& d, Errors* errs) {
  ValidateObjectMeta(d.metadata(), true, NameRule::kDNSSubdomain, errs);
  ValidateDeploymentSpec(d.spec(), errs);
}

void ValidateDeploymentUpdate(const apps::Deployment& d, const apps::Deployment& old,
                              Errors* errs) {
  ValidateObjectMetaUpdate(d.metadata(), old.metadata(), errs);
  ValidateDeploymentSpec(d.spec(), errs);
  ValidateSelectorImmutable(d.spec().has_selector(), d.spec().selector(), old.spec().has_selector(),
                            old.spec().selector(), errs);
}

void ValidateDeploymentStatusUpdate(const apps::Deployment& d, const apps::Deployment& old,
                                    Errors* errs) {
  ValidateObjectMetaUpdate(d.metadata(), old.metadata(), errs);
  const apps::DeploymentStatus& st = d.status();
  ValidateConditionsAndCounts({{"status.observedGeneration", st.observedgeneration()},
                               {"status.replicas", st.replicas()},
                               {"status.updatedReplicas", st.updatedreplicas()},
                               {"status.readyReplicas", st.readyreplicas()},
                               {"status.availableReplicas", st.availablereplicas()},
                               {"status.unavailableReplicas", st.unavailablereplicas()}},
                              errs);
  if (st.has_terminatingreplicas()) {
    ValidateNonnegative(st.terminatingreplicas(), "status.terminatingReplicas", errs);
  }
  if (st.has_collisioncount()) {
    ValidateNonnegative(st.collisioncount(), "status.collisionCount", errs);
  }
  if (st.availablereplicas() > st.replicas()) {
    errs->push_back(InvalidInt("status.availableReplicas", st.availablereplicas(),
                               "cannot be greater than status.replicas"));
  }
  if (st.readyreplicas() > st.replicas()) {
    errs->push_back(InvalidInt("status.readyReplicas", st.readyreplicas(),
                               "cannot be greater than status.replicas"));
  }
  if (st.availablereplicas() > st.readyreplicas()) {
    errs->push_back(InvalidInt("status.availableReplicas", st.availablereplicas(),
                               "cannot be greater than readyReplicas"));
  }
}

void ValidateReplicaSet(const apps::ReplicaSet& rs, Errors* errs) {
  ValidateObjectMeta(rs.metadata(), true, NameRule::kDNSSubdomain, errs);
  ValidateReplicaSetSpec(rs.spec(), errs);
}

void ValidateReplicaSetUpdate(const apps::ReplicaSet& rs, const apps::ReplicaSet& old,
                              Errors* errs) {
  ValidateObjectMetaUpdate(rs.metadata(), old.metadata(), errs);
  ValidateReplicaSetSpec(rs.spec(), errs);
  ValidateSelectorImmutable(rs.spec().has_selector(), rs.spec().selector(),
                            old.spec().has_selector(), old.spec().selector(), errs);
}

void ValidateReplicaSetStatusUpdate(const apps::ReplicaSet& rs, const apps::ReplicaSet& old,
                                    Errors* errs) {
  ValidateObjectMetaUpdate(rs.metadata(), old.metadata(), errs);
  const apps::ReplicaSetStatus& st = rs.status();
  ValidateConditionsAndCounts({{"status.replicas", st.replicas()},
                               {"status.fullyLabeledReplicas", st.fullylabeledreplicas()},
                               {"status.readyReplicas", st.readyreplicas()},
                               {"status.availableReplicas", st.availablereplicas()},
                               {"status.observedGeneration", st.observedgeneration()}},
                              errs);
  if (st.has_terminatingreplicas()) {
    ValidateNonnegative(st.terminatingreplicas(), "status.terminatingReplicas", errs);
  }
  if (st.fullylabeledreplicas() > st.replicas()) {
    errs->push_back(InvalidInt("status.fullyLabeledReplicas", st.fullylabeledreplicas(),
                               "cannot be greater than status.replicas"));
  }
  if (st.readyreplicas() > st.replicas()) {
    errs->push_back(InvalidInt("status.readyReplicas", st.readyreplicas(),
                               "cannot be greater than status.replicas"));
  }
  if (st.availablereplicas() > st.replicas()) {
    errs->push_back(InvalidInt("status.availableReplicas", st.availablereplicas(),
                               "cannot be greater than status.replicas"));
  }
  if (st.availablereplicas() > st.readyreplicas()) {
    errs->push_back(InvalidInt("status.availableReplicas", st.availablereplicas(),
                               "cannot be greater than readyReplicas"));
  }
}

void ValidateDaemonSet(const apps::DaemonSet& ds, Errors* errs) {
  ValidateObjectMeta(ds.metadata(), true, NameRule::kDNSSubdomain, errs);
  ValidateDaemonSetSpec(ds.spec(), errs);
}

void ValidateDaemonSetUpdate(const apps::DaemonSet& ds, const apps::DaemonSet& old, Errors* errs) {
  ValidateObjectMetaUpdate(ds.metadata(), old.metadata(), errs);
  ValidateDaemonSetSpec(ds.spec(), errs);
  ValidateSelectorImmutable(ds.spec().has_selector(), ds.spec().selector(),
                            old.spec().has_selector(), old.spec().selector(), errs);
}

void ValidateDaemonSetStatusUpdate(const apps::DaemonSet& ds, const apps::DaemonSet& old,
                                   Errors* errs) {
  ValidateObjectMetaUpdate(ds.metadata(), old.metadata(), errs);
  const apps::DaemonSetStatus& st = ds.status();
  ValidateConditionsAndCounts({{"status.numberMisscheduled", st.numbermisscheduled()},
                               {"status.currentNumberScheduled", st.currentnumberscheduled()},
                               {"status.desiredNumberScheduled", st.desirednumberscheduled()},
                               {"status.numberReady", st.numberready()},
                               {"status.observedGeneration", st.observedgeneration()},
                               {"status.updatedNumberScheduled", st.updatednumberscheduled()},
                               {"status.numberAvailable", st.numberavailable()},
                               {"status.numberUnavailable", st.numberunavailable()}},
                              errs);
  if (st.has_collisioncount()) {
    ValidateNonnegative(st.collisioncount(), "status.collisionCount", errs);
  }
}

}  // namespace kslice::envtest::validation::internal
