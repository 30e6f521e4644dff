// Object metadata rules: k8s.io/apimachinery pkg/api/validation/objectmeta.go and
// pkg/apis/meta/v1/validation (labels, managed fields).
#include <set>
#include "api/codec/go_strings.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "envtest/validation/checks.h"
#include "envtest/validation/internal.h"

namespace kslice::envtest::validation::internal {
namespace {

using api::meta::v1::ObjectMeta;
using api::meta::v1::OwnerReference;

constexpr int kTotalAnnotationSizeLimit = 256 * 1024;
constexpr int kFieldManagerMaxLength = 128;
constexpr int kSubresourceMaxLength = 256;

std::vector<std::string> CheckName(NameRule rule, std::string_view name, bool prefix) {
  switch (rule) {
    case NameRule::kDNSLabel:
      return NameIsDNSLabel(name, prefix);
    case NameRule::kDNS1035Label:
      return NameIsDNS1035Label(name, prefix);
    case NameRule::kDNSSubdomain:
      break;
  }
  return NameIsDNSSubdomain(name, prefix);
}

std::string OwnerRefJson(const OwnerReference& r) {
  std::string out = absl::StrCat(
      "{\"apiVersion\":", JsonString(r.apiversion()), ",\"kind\":", JsonString(r.kind()),
      ",\"name\":", JsonString(r.name()), ",\"uid\":", JsonString(r.uid()));
  if (r.has_controller())
    absl::StrAppend(&out, ",\"controller\":", r.controller() ? "true" : "false");
  if (r.has_blockownerdeletion()) {
    absl::StrAppend(&out, ",\"blockOwnerDeletion\":", r.blockownerdeletion() ? "true" : "false");
  }
  out += "}";
  return out;
}

// metav1.Time as encoding/json writes it: an RFC 3339 string, or null for the zero time.
std::string TimeJson(bool present, const api::meta::v1::Time& t) {
  if (!present || (t.seconds() == 0 && t.nanos() == 0)) return "null";
  return absl::StrCat("\"",
                      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(t.seconds()),
                                       absl::UTCTimeZone()),
                      "\"");
}

// schema.ParseGroupVersion: "", "v1", "group/v1"; a version is required here.
bool ValidApiVersion(std::string_view v) {
  const std::size_t slash = v.find('/');
  if (slash == std::string_view::npos) return !v.empty();
  if (v.find('/', slash + 1) != std::string_view::npos) return false;
  return slash + 1 < v.size();
}

void ValidateOwnerReferences(const google::protobuf::RepeatedPtrField<OwnerReference>& refs,
                             const std::string& path, Errors* errs) {
  std::string first_controller;
  for (int i = 0; i < refs.size(); ++i) {
    const OwnerReference& r = refs[i];
    const std::string p = Index(path, i);
    if (r.apiversion().empty()) {
      errs->push_back(Required(Child(p, "apiVersion"), "must not be empty"));
    } else if (!ValidApiVersion(r.apiversion())) {
      errs->push_back(Invalid(Child(p, "apiVersion"), r.apiversion(),
                              "must be <group>/<version> or <version>"));
    }
    if (r.kind().empty()) errs->push_back(Required(Child(p, "kind"), "must not be empty"));
    if (r.name().empty()) errs->push_back(Required(Child(p, "name"), "must not be empty"));
    if (r.uid().empty()) errs->push_back(Required(Child(p, "uid"), "must not be empty"));
    if (r.apiversion() == "v1" && r.kind() == "Event") {
      errs->push_back(
          InvalidJson(p, OwnerRefJson(r), "/v1, Kind=Event is disallowed from being an owner"));
    }
    if (r.has_controller() && r.controller()) {
      const std::string current = absl::StrCat(r.kind(), "/", r.name());
      if (!first_controller.empty()) {
        std::string all = "[";
        for (int j = 0; j < refs.size(); ++j) {
          if (j > 0) all += ",";
          all += OwnerRefJson(refs[j]);
        }
        all += "]";
        errs->push_back(InvalidJson(
            path, all,
            absl::StrCat("Only one reference can have Controller set to true. Found \"true\" in "
                         "references for ",
                         first_controller, " and ", current)));
      } else {
        first_controller = current;
      }
    }
  }
}

void ValidateAnnotations(const StringMap& annotations, const std::string& path, Errors* errs) {
  int64_t total = 0;
  for (const std::string& k : SortedKeys(annotations)) {
    for (const std::string& msg : IsQualifiedName(absl::AsciiStrToLower(k))) {
      errs->push_back(Invalid(path, k, msg));
    }
    total += static_cast<int64_t>(k.size() + annotations.at(k).size());
  }
  if (total > kTotalAnnotationSizeLimit) errs->push_back(TooLong(path, kTotalAnnotationSizeLimit));
}

void ValidateFinalizers(const StringList& finalizers, const std::string& path, Errors* errs) {
  bool orphan = false;
  bool foreground = false;
  for (const std::string& f : finalizers) {
    for (const std::string& msg : IsQualifiedName(f)) errs->push_back(Invalid(path, f, msg));
    orphan = orphan || f == "orphan";
    foreground = foreground || f == "foregroundDeletion";
  }
  if (orphan && foreground) {
    errs->push_back(InvalidJson(path, JsonStringList(finalizers),
                                "finalizer orphan and foregroundDeletion cannot be both set"));
  }
}

void ValidateManagedFields(const ObjectMeta& meta, const std::string& path, Errors* errs) {
  for (int i = 0; i < meta.managedfields_size(); ++i) {
    const auto& mf = meta.managedfields(i);
    const std::string p = Index(path, i);
    if (mf.operation().empty()) {
      errs->push_back(Required(Child(p, "operation"), "must not be empty"));
    } else if (mf.operation() != "Apply" && mf.operation() != "Update") {
      errs->push_back(NotSupported(Child(p, "operation"), mf.operation(), {"Apply", "Update"}));
    }
    if (!mf.fieldstype().empty() && mf.fieldstype() != "FieldsV1") {
      errs->push_back(Invalid(Child(p, "fieldsType"), mf.fieldstype(), "must be `FieldsV1`"));
    }
    if (mf.manager().size() > kFieldManagerMaxLength) {
      errs->push_back(TooLong(Child(p, "manager"), kFieldManagerMaxLength));
    }
    if (mf.subresource().size() > kSubresourceMaxLength) {
      errs->push_back(TooLong(Child(p, "subresource"), kSubresourceMaxLength));
    }
  }
}

void ValidateCommon(const ObjectMeta& meta, Errors* errs) {
  ValidateLabels(meta.labels(), "metadata.labels", errs);
  ValidateAnnotations(meta.annotations(), "metadata.annotations", errs);
  ValidateOwnerReferences(meta.ownerreferences(), "metadata.ownerReferences", errs);
}

}  // namespace

std::string JsonString(std::string_view s) { return codec::GoJsonString(s); }

std::string JsonStringList(const StringList& list) {
  if (list.empty()) return "null";
  std::string out = "[";
  for (int i = 0; i < list.size(); ++i) {
    if (i > 0) out += ",";
    out += JsonString(list[i]);
  }
  out += "]";
  return out;
}

void ValidateLabels(const StringMap& labels, const std::string& path, Errors* errs) {
  for (const std::string& k : SortedKeys(labels)) {
    for (const std::string& msg : IsQualifiedName(k)) errs->push_back(Invalid(path, k, msg));
    const std::string& v = labels.at(k);
    for (const std::string& msg : IsValidLabelValue(v)) errs->push_back(Invalid(path, v, msg));
  }
}

void ValidateDNS1123Label(std::string_view value, const std::string& path, Errors* errs) {
  for (const std::string& msg : IsDNS1123Label(value)) errs->push_back(Invalid(path, value, msg));
}

void ValidateDNS1123Subdomain(std::string_view value, const std::string& path, Errors* errs) {
  for (const std::string& msg : IsDNS1123Subdomain(value)) {
    errs->push_back(Invalid(path, value, msg));
  }
}

void ValidateQualifiedName(std::string_view value, const std::string& path, Errors* errs) {
  for (const std::string& msg : IsQualifiedName(value)) errs->push_back(Invalid(path, value, msg));
}

void ValidateNonnegative(int64_t value, const std::string& path, Errors* errs) {
  if (value < 0) errs->push_back(InvalidInt(path, value, "must be greater than or equal to 0"));
}

void ValidateIPLegacy(std::string_view ip, const std::string& path, Errors* errs) {
  if (!ParseIPSloppy(ip)) {
    errs->push_back(
        Invalid(path, ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
  }
}

void ValidateEndpointIP(std::string_view ip_text, const std::string& path, Errors* errs) {
  std::optional<ParsedIP> ip = ParseIPSloppy(ip_text);
  if (!ip) {
    errs->push_back(Invalid(path, ip_text, "must be a valid IP address"));
    return;
  }
  if (ip->IsUnspecified()) {
    errs->push_back(
        Invalid(path, ip_text, absl::StrCat("may not be unspecified (", Sv(ip_text), ")")));
  }
  if (ip->IsLoopback()) {
    errs->push_back(
        Invalid(path, ip_text, "may not be in the loopback range (127.0.0.0/8, ::1/128)"));
  }
  if (ip->IsLinkLocalUnicast()) {
    errs->push_back(
        Invalid(path, ip_text, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"));
  }
  if (ip->IsLinkLocalMulticast()) {
    errs->push_back(Invalid(
        path, ip_text, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"));
  }
}

void ValidateObjectMeta(const ObjectMeta& meta, bool namespaced, NameRule rule, Errors* errs) {
  if (!meta.generatename().empty()) {
    for (const std::string& msg : CheckName(rule, meta.generatename(), true)) {
      errs->push_back(Invalid("metadata.generateName", meta.generatename(), msg));
    }
  }
  if (meta.name().empty()) {
    errs->push_back(Required("metadata.name", "name or generateName is required"));
  } else {
    for (const std::string& msg : CheckName(rule, meta.name(), false)) {
      errs->push_back(Invalid("metadata.name", meta.name(), msg));
    }
  }
  if (namespaced) {
    if (meta.namespace_().empty()) {
      errs->push_back(Required("metadata.namespace"));
    } else {
      for (const std::string& msg : NameIsDNSLabel(meta.namespace_(), false)) {
        errs->push_back(Invalid("metadata.namespace", meta.namespace_(), msg));
      }
    }
  } else if (!meta.namespace_().empty()) {
    errs->push_back(Forbidden("metadata.namespace", "not allowed on this type"));
  }
  ValidateNonnegative(meta.generation(), "metadata.generation", errs);
  ValidateCommon(meta, errs);
  ValidateFinalizers(meta.finalizers(), "metadata.finalizers", errs);
  ValidateManagedFields(meta, "metadata.managedFields", errs);
}

void ValidateObjectMetaUpdate(const ObjectMeta& meta, const ObjectMeta& old, Errors* errs) {
  if (old.has_deletiontimestamp()) {
    std::set<std::string> before(old.finalizers().begin(), old.finalizers().end());
    std::set<std::string> extra;
    for (const std::string& f : meta.finalizers()) {
      if (before.count(f) == 0) extra.insert(f);
    }
    if (!extra.empty()) {
      errs->push_back(Forbidden(
          "metadata.finalizers",
          absl::StrCat("no new finalizers can be added if the object is being deleted, found new "
                       "finalizers []string{",
                       absl::StrJoin(extra, ", ",
                                     [](std::string* out, const std::string& f) {
                                       out->append(storage::GoQuote(f));
                                     }),
                       "}")));
    }
  }
  if (meta.resourceversion().empty()) {
    errs->push_back(Invalid("metadata.resourceVersion", "", "must be specified for an update"));
  }
  ValidateNonnegative(meta.generation(), "metadata.generation", errs);
  if (meta.generation() < old.generation()) {
    errs->push_back(
        InvalidInt("metadata.generation", meta.generation(), "must not be decremented"));
  }
  if (meta.name() != old.name()) {
    errs->push_back(Invalid("metadata.name", meta.name(), kFieldImmutable));
  }
  if (meta.namespace_() != old.namespace_()) {
    errs->push_back(Invalid("metadata.namespace", meta.namespace_(), kFieldImmutable));
  }
  if (meta.uid() != old.uid())
    errs->push_back(Invalid("metadata.uid", meta.uid(), kFieldImmutable));
  const auto time_equal = [](bool a_has, const api::meta::v1::Time& a, bool b_has,
                             const api::meta::v1::Time& b) {
    return TimeJson(a_has, a) == TimeJson(b_has, b);
  };
  if (!time_equal(meta.has_creationtimestamp(), meta.creationtimestamp(),
                  old.has_creationtimestamp(), old.creationtimestamp())) {
    errs->push_back(InvalidJson("metadata.creationTimestamp",
                                TimeJson(meta.has_creationtimestamp(), meta.creationtimestamp()),
                                kFieldImmutable));
  }
  if (meta.has_deletiontimestamp() != old.has_deletiontimestamp() ||
      !time_equal(meta.has_deletiontimestamp(), meta.deletiontimestamp(),
                  old.has_deletiontimestamp(), old.deletiontimestamp())) {
    errs->push_back(InvalidJson(
        "metadata.deletionTimestamp",
        meta.has_deletiontimestamp() ? TimeJson(true, meta.deletiontimestamp()) : "null",
        kFieldImmutable));
  }
  if (meta.has_deletiongraceperiodseconds() != old.has_deletiongraceperiodseconds() ||
      meta.deletiongraceperiodseconds() != old.deletiongraceperiodseconds()) {
    errs->push_back(InvalidJson("metadata.deletionGracePeriodSeconds",
                                meta.has_deletiongraceperiodseconds()
                                    ? absl::StrCat(meta.deletiongraceperiodseconds())
                                    : "null",
                                kFieldImmutable));
  }
  ValidateCommon(meta, errs);
  ValidateManagedFields(meta, "metadata.managedFields", errs);
}

}  // namespace kslice::envtest::validation::internal
