// Shared pieces of the workload controllers; see util.h.
#include "controller/workloads/util.h"

#include <algorithm>
#include <cmath>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace kslice::workloads {
namespace {

absl::Time ToTime(const api::meta::v1::Time& t) { return absl::FromUnixSeconds(t.seconds()); }

int PhaseOrdinal(const std::string& phase) {
  if (phase == "Pending") return 0;
  if (phase == "Unknown") return 1;
  if (phase == "Running") return 2;
  return 0;  // upstream's map gives 0 to anything else
}

int32_t DeletionCost(const Pod& pod) {
  auto it = pod.metadata().annotations().find(kPodDeletionCostAnnotation);
  int32_t v = 0;
  if (it != pod.metadata().annotations().end() && absl::SimpleAtoi(it->second, &v)) return v;
  return 0;
}

int32_t MaxRestarts(const Pod& pod) {
  int32_t m = 0;
  for (const auto& s : pod.status().containerstatuses()) m = std::max(m, s.restartcount());
  for (const auto& s : pod.status().initcontainerstatuses()) m = std::max(m, s.restartcount());
  return m;
}

// floor(log2(age in ns)), -1 for a non-positive age (logarithmicRankDiff's bucket).
int LogBucket(absl::Time t, absl::Time now) {
  int64_t d = absl::ToInt64Nanoseconds(now - t);
  if (d <= 0) return -1;
  return static_cast<int>(std::log2(static_cast<double>(d)));
}

// Whether a should sort before b by "newer (or zero) first" with the log scale.
std::optional<bool> NewerFirst(std::optional<absl::Time> a, std::optional<absl::Time> b,
                               absl::Time now, const Pod& pa, const Pod& pb) {
  if (a == b) return std::nullopt;
  if (!a.has_value()) return true;   // zero first
  if (!b.has_value()) return false;
  int diff = LogBucket(*a, now) - LogBucket(*b, now);
  if (diff == 0) return pa.metadata().uid() < pb.metadata().uid();
  return diff < 0;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string SafeEncodeString(const std::string& s) {
  std::string out(s.size(), ' ');
  const size_t n = sizeof(kSafeAlphabet) - 1;
  for (size_t i = 0; i < s.size(); ++i) {
    out[i] = kSafeAlphabet[static_cast<unsigned char>(s[i]) % n];
  }
  return out;
}

uint32_t Fnv32a(const std::string& data, uint32_t seed) {
  uint32_t h = seed;
  for (unsigned char c : data) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

std::string ComputeHash(const PodTemplateSpec& tmpl, std::optional<int32_t> collision_count) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    tmpl.SerializeToCodedStream(&coded);
  }
  uint32_t h = Fnv32a(bytes);
  if (collision_count.has_value()) {
    uint32_t c = static_cast<uint32_t>(*collision_count);
    std::string le = {static_cast<char>(c & 0xff), static_cast<char>((c >> 8) & 0xff),
                      static_cast<char>((c >> 16) & 0xff), static_cast<char>((c >> 24) & 0xff)};
    h = Fnv32a(le, h);
  }
  return SafeEncodeString(absl::StrCat(h));
}

bool StringMapsEqual(const google::protobuf::Map<std::string, std::string>& a,
                     const google::protobuf::Map<std::string, std::string>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end() || it->second != v) return false;
  }
  return true;
}

bool IsPodTerminating(const Pod& pod) { return pod.metadata().has_deletiontimestamp(); }

bool IsPodActive(const Pod& pod) {
  return pod.status().phase() != "Succeeded" && pod.status().phase() != "Failed" &&
         !IsPodTerminating(pod);
}

bool IsPodReady(const Pod& pod) {
  for (const auto& c : pod.status().conditions()) {
    if (c.type() == "Ready") return c.status() == "True";
  }
  return false;
}

std::optional<absl::Time> PodReadyTime(const Pod& pod) {
  for (const auto& c : pod.status().conditions()) {
    if (c.type() == "Ready" && c.status() == "True") {
      if (!c.has_lasttransitiontime()) return std::nullopt;
      return ToTime(c.lasttransitiontime());
    }
  }
  return std::nullopt;
}

bool IsPodAvailable(const Pod& pod, int32_t min_ready_seconds, absl::Time now) {
  if (!IsPodReady(pod)) return false;
  if (min_ready_seconds <= 0) return true;
  std::optional<absl::Time> t = PodReadyTime(pod);
  return t.has_value() && *t + absl::Seconds(min_ready_seconds) < now;
}

void SortPodsForDeletion(std::vector<std::shared_ptr<const Pod>>& pods, std::vector<int> ranks,
                         absl::Time now) {
  if (ranks.size() != pods.size()) ranks.assign(pods.size(), 0);
  std::vector<size_t> idx(pods.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  auto less = [&](size_t i, size_t j) {
    const Pod& a = *pods[i];
    const Pod& b = *pods[j];
    const bool a_assigned = !a.spec().nodename().empty();
    const bool b_assigned = !b.spec().nodename().empty();
    if (a.spec().nodename() != b.spec().nodename() && (!a_assigned || !b_assigned)) {
      return !a_assigned;
    }
    int pa = PhaseOrdinal(a.status().phase()), pb = PhaseOrdinal(b.status().phase());
    if (pa != pb) return pa < pb;
    if (IsPodReady(a) != IsPodReady(b)) return !IsPodReady(a);
    if (DeletionCost(a) != DeletionCost(b)) return DeletionCost(a) < DeletionCost(b);
    if (ranks[i] != ranks[j]) return ranks[i] > ranks[j];
    if (IsPodReady(a) && IsPodReady(b)) {
      if (std::optional<bool> r = NewerFirst(PodReadyTime(a), PodReadyTime(b), now, a, b)) return *r;
    }
    if (MaxRestarts(a) != MaxRestarts(b)) return MaxRestarts(a) > MaxRestarts(b);
    auto created = [](const Pod& p) -> std::optional<absl::Time> {
      if (!p.metadata().has_creationtimestamp()) return std::nullopt;
      return ToTime(p.metadata().creationtimestamp());
    };
    if (std::optional<bool> r = NewerFirst(created(a), created(b), now, a, b)) return *r;
    return false;
  };
  std::stable_sort(idx.begin(), idx.end(), less);
  std::vector<std::shared_ptr<const Pod>> out;
  out.reserve(pods.size());
  for (size_t i : idx) out.push_back(pods[i]);
  pods = std::move(out);
}

const OwnerReference* GetControllerOf(const ObjectMeta& meta) {
  for (const OwnerReference& r : meta.ownerreferences()) {
    if (r.controller()) return &r;
  }
  return nullptr;
}

OwnerReference NewControllerRef(const ObjectMeta& owner, const std::string& api_version,
                                const std::string& kind) {
  OwnerReference r;
  r.set_apiversion(api_version);
  r.set_kind(kind);
  r.set_name(owner.name());
  r.set_uid(owner.uid());
  r.set_controller(true);
  r.set_blockownerdeletion(true);
  return r;
}

std::string AdoptPatch(const OwnerReference& ref, const std::string& dependent_uid) {
  return absl::StrCat(R"({"metadata":{"ownerReferences":[{"apiVersion":)", JsonString(ref.apiversion()),
                      R"(,"kind":)", JsonString(ref.kind()), R"(,"name":)", JsonString(ref.name()),
                      R"(,"uid":)", JsonString(ref.uid()),
                      R"(,"controller":true,"blockOwnerDeletion":true}],"uid":)",
                      JsonString(dependent_uid), "}}");
}

std::string ReleasePatch(const std::string& owner_uid, const std::string& dependent_uid) {
  return absl::StrCat(R"({"metadata":{"ownerReferences":[{"$patch":"delete","uid":)",
                      JsonString(owner_uid), R"(}],"uid":)", JsonString(dependent_uid), "}}");
}

Pod PodFromTemplate(const PodTemplateSpec& tmpl, const std::string& ns,
                    const std::string& generate_name_prefix, const OwnerReference& ref) {
  Pod pod;
  ObjectMeta* m = pod.mutable_metadata();
  m->set_namespace_(ns);
  m->set_generatename(absl::StrCat(generate_name_prefix, "-"));
  *m->mutable_labels() = tmpl.metadata().labels();
  *m->mutable_annotations() = tmpl.metadata().annotations();
  *m->mutable_finalizers() = tmpl.metadata().finalizers();
  *m->add_ownerreferences() = ref;
  *pod.mutable_spec() = tmpl.spec();
  return pod;
}

absl::StatusOr<int32_t> ScaledValue(const api::intstr::IntOrString* v, int32_t total,
                                    bool round_up) {
  if (v == nullptr) return absl::InvalidArgumentError("nil value for IntOrString");
  if (v->type() == 0) return v->intval();
  absl::string_view s = v->strval();
  int32_t pct = 0;
  if (!absl::ConsumeSuffix(&s, "%") || !absl::SimpleAtoi(s, &pct)) {
    return absl::InvalidArgumentError(absl::StrFormat("invalid value for IntOrString: invalid type: string is not a percentage"));
  }
  double x = static_cast<double>(pct) * static_cast<double>(total) / 100.0;
  return static_cast<int32_t>(round_up ? std::ceil(x) : std::floor(x));
}

std::pair<int, absl::Status> SlowStartBatch(int count, int initial_batch,
                                            const std::function<absl::Status()>& fn) {
  int remaining = count;
  int successes = 0;
  for (int batch = std::min(remaining, initial_batch); batch > 0;
       batch = std::min(2 * batch, remaining)) {
    std::vector<absl::Status> results(batch);
    std::vector<std::thread> threads;
    threads.reserve(batch);
    for (int i = 0; i < batch; ++i) {
      threads.emplace_back([&results, &fn, i] { results[i] = fn(); });
    }
    for (std::thread& t : threads) t.join();
    absl::Status first;
    for (const absl::Status& s : results) {
      if (s.ok()) {
        ++successes;
      } else if (first.ok()) {
        first = s;
      }
    }
    if (!first.ok()) return {successes, first};
    remaining -= batch;
  }
  return {successes, absl::OkStatus()};
}

bool Expectations::Satisfied(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return true;
  if (it->second.adds <= 0 && it->second.deletes.empty()) return true;
  return absl::Now() - it->second.timestamp > ttl_;
}

void Expectations::ExpectCreations(const std::string& key, int adds) {
  std::lock_guard<std::mutex> lock(mu_);
  Record& r = records_[key];
  r.adds = adds;
  r.deletes.clear();
  r.timestamp = absl::Now();
}

void Expectations::ExpectDeletions(const std::string& key, const std::vector<std::string>& pod_keys) {
  std::lock_guard<std::mutex> lock(mu_);
  Record& r = records_[key];
  r.adds = 0;
  r.deletes = std::set<std::string>(pod_keys.begin(), pod_keys.end());
  r.timestamp = absl::Now();
}

void Expectations::CreationObserved(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(key);
  if (it != records_.end() && it->second.adds > 0) --it->second.adds;
}

void Expectations::DeletionObserved(const std::string& key, const std::string& pod_key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(key);
  if (it != records_.end()) it->second.deletes.erase(pod_key);
}

void Expectations::Delete(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  records_.erase(key);
}

}  // namespace kslice::workloads
