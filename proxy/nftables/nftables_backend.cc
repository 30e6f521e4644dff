#include "proxy/nftables/nftables_backend.h"

#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace kslice::proxy::nftables {
namespace {

std::string ElementKey(const Element& e) { return absl::StrCat(e.set, "\n", e.key); }

Element SplitKey(const std::string& k, std::string rest) {
  size_t nl = k.find('\n');
  return Element{k.substr(0, nl), k.substr(nl + 1), std::move(rest)};
}

const NamedSet* FindSet(const PortUnit& u, const std::string& name) {
  for (const NamedSet& s : u.sets) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const Chain* FindChain(const PortUnit& u, const std::string& name) {
  for (const Chain& c : u.chains) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace

NftablesBackend::NftablesBackend(NftablesBackendOptions options,
                                 std::unique_ptr<iptables::Runner> runner,
                                 RulesetGenerator generator)
    : options_(std::move(options)), runner_(std::move(runner)), generator_(std::move(generator)) {}

absl::StatusOr<std::unique_ptr<NftablesBackend>> NftablesBackend::Create(
    NftablesBackendOptions options, std::unique_ptr<iptables::Runner> runner) {
  absl::StatusOr<RulesetGenerator> g = RulesetGenerator::Create(options.ruleset);
  if (!g.ok()) return g.status();
  if (options.dry_run && options.dry_run_output == nullptr) {
    return absl::InvalidArgumentError("dry run without an output stream");
  }
  if (!options.dry_run && runner == nullptr) {
    return absl::InvalidArgumentError("the nftables backend needs a runner");
  }
  return std::unique_ptr<NftablesBackend>(
      new NftablesBackend(std::move(options), std::move(runner), *std::move(g)));
}

absl::Status NftablesBackend::Apply(const std::string& text) {
  stats_.bytes = text.size();
  const absl::Time start = absl::Now();
  absl::Status s = ApplyText(text);
  stats_.apply_time = absl::Now() - start;
  return s;
}

absl::Status NftablesBackend::ApplyText(const std::string& text) {
  if (options_.dry_run) {
    *options_.dry_run_output << text;
    options_.dry_run_output->flush();
    return absl::OkStatus();
  }
  absl::StatusOr<iptables::CommandResult> r = runner_->Run({options_.nft, "-f", "-"}, text);
  if (!r.ok()) return absl::UnavailableError(absl::StrCat("running nft: ", r.status().message()));
  if (r->exit_code != 0) {
    std::string err = r->stderr_data.substr(0, 2000);
    return absl::UnavailableError(
        absl::StrCat("nft -f - exited ", r->exit_code, " (transaction not applied): ", err));
  }
  return absl::OkStatus();
}

absl::Status NftablesBackend::ApplyPartial(const std::string& text) {
  if (options_.partial_via_netlink && !options_.dry_run) {
    if (netlink_ == nullptr) {
      absl::StatusOr<std::unique_ptr<NetlinkApplier>> a =
          NetlinkApplier::Create(options_.ruleset.family);
      if (!a.ok()) return a.status();
      netlink_ = *std::move(a);
    }
    stats_.bytes = text.size();
    const absl::Time start = absl::Now();
    absl::Status s = netlink_->Apply(text);
    stats_.apply_time = absl::Now() - start;
    if (!absl::IsUnimplemented(s)) {
      stats_.netlink = true;
      return s;
    }
  }
  return Apply(text);
}

absl::Status NftablesBackend::Sync(const ProxyState& state, const SyncHint& hint) {
  if (state.family != options_.ruleset.family) {
    return absl::InvalidArgumentError("state of the wrong IP family for this backend");
  }
  absl::Status s;
  if (!trusted_) {
    s = SyncRecreate(state);
  } else if (hint.full) {
    s = SyncInPlace(state);
  } else {
    bool need_recreate = false;
    s = SyncPartial(state, hint, &need_recreate);
    if (s.ok() && need_recreate) s = SyncRecreate(state);
  }
  if (!s.ok()) {
    ++failures_;
    trusted_ = false;  // the next sync recreates the table
    return s;
  }
  trusted_ = true;
  if (ProxyMetrics* m = options_.metrics; m != nullptr) {
    int internal = 0, external = 0;
    for (const auto& [name, u] : programmed_) {
      internal += u.no_local_internal;
      external += u.no_local_external;
    }
    m->no_local_endpoints_total->WithLabelValues({"internal"}).Set(internal);
    m->no_local_endpoints_total->WithLabelValues({"external"}).Set(external);
  }
  return absl::OkStatus();
}

absl::Status NftablesBackend::SyncRecreate(const ProxyState& state) {
  stats_ = SyncStats();
  stats_.kind = SyncStats::Kind::kRecreate;
  std::map<ServicePortName, PortUnit> units;
  std::vector<PortUnit> ordered;
  ordered.reserve(state.services->size());
  for (const auto& [name, info] : *state.services) {
    ordered.push_back(generator_.Unit(name, *info, state.EndpointsOf(name), state.node));
  }
  stats_.ports_examined = stats_.ports_changed = ordered.size();
  last_text_ = generator_.FullText(ordered, /*recreate=*/true);
  absl::Status s = Apply(last_text_);
  if (!s.ok()) return s;
  programmed_.clear();
  elements_.clear();
  size_t i = 0;
  for (const auto& [name, info] : *state.services) {
    PortUnit& u =
        programmed_.emplace_hint(programmed_.end(), name, std::move(ordered[i++]))->second;
    for (const Element& e : u.elements) {
      ElementState& es = elements_[ElementKey(e)];
      es.rest = e.rest;
      ++es.refs;
    }
  }
  return absl::OkStatus();
}

absl::Status NftablesBackend::SyncInPlace(const ProxyState& state) {
  stats_ = SyncStats();
  stats_.kind = SyncStats::Kind::kInPlace;
  std::map<ServicePortName, PortUnit> desired;
  for (const auto& [name, info] : *state.services) {
    desired.emplace_hint(desired.end(), name,
                         generator_.Unit(name, *info, state.EndpointsOf(name), state.node));
  }
  stats_.ports_examined = desired.size();
  // An affinity set whose specification changed (timeout) cannot be redeclared in place.
  absl::flat_hash_map<std::string, const NamedSet*> old_sets;
  for (const auto& [name, u] : programmed_) {
    for (const NamedSet& s : u.sets) old_sets[s.name] = &s;
  }
  for (const auto& [name, u] : desired) {
    for (const NamedSet& s : u.sets) {
      auto it = old_sets.find(s.name);
      if (it != old_sets.end() && it->second->spec != s.spec) return SyncRecreate(state);
    }
  }

  std::string adds, flushes, rules, elems, deletes;
  generator_.AppendTable(adds);
  const FixedPart fixed = generator_.Fixed();
  for (const NamedSet& s : fixed.sets) {
    generator_.AppendAddSet(adds, s);
    absl::StrAppend(&flushes, "flush ", s.name.substr(0, 3), " ", generator_.family(), " ",
                    kTableName, " ", s.name.substr(4), "\n");
  }
  for (size_t i = 0; i < fixed.chains.size(); ++i) {
    generator_.AppendAddChain(adds, fixed.chains[i].name, fixed.chain_specs[i]);
    generator_.AppendFlushChain(flushes, fixed.chains[i].name);
    generator_.AppendRules(rules, fixed.chains[i]);
  }
  for (const Element& e : fixed.elements) generator_.AppendAddElement(elems, e);
  absl::flat_hash_set<std::string> desired_chains, desired_sets;
  absl::flat_hash_map<std::string, ElementState> new_elements;
  for (const auto& [name, u] : desired) {
    for (const NamedSet& s : u.sets) {
      generator_.AppendAddSet(adds, s);
      desired_sets.insert(s.name);
    }
    for (const Chain& c : u.chains) {
      generator_.AppendAddChain(adds, c.name, "");
      generator_.AppendFlushChain(flushes, c.name);
      generator_.AppendRules(rules, c);
      desired_chains.insert(c.name);
    }
    for (const Element& e : u.elements) {
      ElementState& es = new_elements[ElementKey(e)];
      if (es.refs++ == 0) {
        es.rest = e.rest;
        generator_.AppendAddElement(elems, e);
      }
    }
  }
  // Chains and sets of the model that are no longer used.
  for (const auto& [name, u] : programmed_) {
    for (const Chain& c : u.chains) {
      if (!desired_chains.contains(c.name)) {
        generator_.AppendFlushChain(flushes, c.name);
        generator_.AppendDeleteChain(deletes, c.name);
      }
    }
  }
  for (const auto& [name, u] : programmed_) {
    for (const NamedSet& s : u.sets) {
      if (!desired_sets.contains(s.name)) generator_.AppendDeleteSet(deletes, s.name);
    }
  }
  last_text_.clear();
  last_text_.reserve(adds.size() + flushes.size() + rules.size() + elems.size() + deletes.size());
  absl::StrAppend(&last_text_, adds, flushes, rules, elems, deletes);
  stats_.ports_changed = desired.size();
  absl::Status s = Apply(last_text_);
  if (!s.ok()) return s;
  programmed_ = std::move(desired);
  elements_ = std::move(new_elements);
  return absl::OkStatus();
}

absl::Status NftablesBackend::SyncPartial(const ProxyState& state, const SyncHint& hint,
                                          bool* need_recreate) {
  stats_ = SyncStats();
  stats_.kind = SyncStats::Kind::kPartial;
  // The service ports to rebuild: those of changed services, present now or before.
  std::vector<const ServicePortName*> ports;
  {
    auto a = state.services->begin();
    auto b = programmed_.begin();
    while (a != state.services->end() || b != programmed_.end()) {
      const ServicePortName* p;
      if (b == programmed_.end() || (a != state.services->end() && a->first < b->first)) {
        p = &(a++)->first;
      } else if (a == state.services->end() || b->first < a->first) {
        p = &(b++)->first;
      } else {
        p = &a->first;
        ++a;
        ++b;
      }
      if (hint.NeedsSync(*p) || hint.changed_ports.count(*p) > 0) ports.push_back(p);
    }
  }
  stats_.ports_examined = ports.size();

  struct Change {
    const ServicePortName* name;
    std::optional<PortUnit> unit;  // nullopt: the port is gone
  };
  std::vector<Change> changes;
  std::string adds, flushes, rules, elem_deletes, elem_adds, chain_deletes, set_deletes;
  struct PendingElement {
    int delta = 0;
    const std::string* rest = nullptr;
  };
  absl::flat_hash_map<std::string, PendingElement> pending;
  for (const ServicePortName* p : ports) {
    std::optional<PortUnit> nu;
    if (auto it = state.services->find(*p); it != state.services->end()) {
      nu = generator_.Unit(*p, *it->second, state.EndpointsOf(*p), state.node);
    }
    auto old_it = programmed_.find(*p);
    const PortUnit* old = old_it == programmed_.end() ? nullptr : &old_it->second;
    if (nu.has_value() && old != nullptr && *nu == *old) continue;
    changes.push_back({p, std::move(nu)});
  }
  stats_.ports_changed = changes.size();
  if (changes.empty()) {
    last_text_.clear();
    stats_.bytes = 0;
    return absl::OkStatus();
  }

  static const PortUnit kEmpty;
  for (const Change& ch : changes) {
    auto old_it = programmed_.find(*ch.name);
    const PortUnit& old = old_it == programmed_.end() ? kEmpty : old_it->second;
    const PortUnit& nu = ch.unit.has_value() ? *ch.unit : kEmpty;
    for (const NamedSet& s : nu.sets) {
      const NamedSet* before = FindSet(old, s.name);
      if (before == nullptr) {
        generator_.AppendAddSet(adds, s);
      } else if (before->spec != s.spec) {
        *need_recreate = true;  // a set cannot be redeclared in place
        return absl::OkStatus();
      }
    }
    for (const Chain& c : nu.chains) {
      const Chain* before = FindChain(old, c.name);
      if (before != nullptr && before->rules == c.rules) continue;
      if (before == nullptr) {
        generator_.AppendAddChain(adds, c.name, "");
      } else {
        generator_.AppendFlushChain(flushes, c.name);
      }
      generator_.AppendRules(rules, c);
    }
    for (const Chain& c : old.chains) {
      if (FindChain(nu, c.name) == nullptr) {
        generator_.AppendFlushChain(flushes, c.name);
        generator_.AppendDeleteChain(chain_deletes, c.name);
      }
    }
    for (const NamedSet& s : old.sets) {
      if (FindSet(nu, s.name) == nullptr) generator_.AppendDeleteSet(set_deletes, s.name);
    }
    for (const Element& e : old.elements) --pending[ElementKey(e)].delta;
    for (const Element& e : nu.elements) {
      PendingElement& pe = pending[ElementKey(e)];
      ++pe.delta;
      pe.rest = &e.rest;
    }
  }
  // Element changes against the reference-counted model.
  struct ElementUpdate {
    std::string key;
    int refs;
    std::string rest;
  };
  std::vector<ElementUpdate> updates;
  for (const auto& [key, pe] : pending) {
    auto cur = elements_.find(key);
    const int old_refs = cur == elements_.end() ? 0 : cur->second.refs;
    const int refs = old_refs + pe.delta;
    if (refs <= 0) {
      if (cur != elements_.end()) generator_.AppendDeleteElement(elem_deletes, SplitKey(key, ""));
      updates.push_back({key, 0, ""});
    } else if (cur == elements_.end()) {
      generator_.AppendAddElement(elem_adds, SplitKey(key, *pe.rest));
      updates.push_back({key, refs, *pe.rest});
    } else if (pe.rest != nullptr && *pe.rest != cur->second.rest) {
      generator_.AppendDeleteElement(elem_deletes, SplitKey(key, ""));
      generator_.AppendAddElement(elem_adds, SplitKey(key, *pe.rest));
      updates.push_back({key, refs, *pe.rest});
    } else {
      updates.push_back({key, refs, cur->second.rest});
    }
  }
  // Order: declare what is new, stop using what goes (elements, then rules), refill,
  // then delete what nothing references any more.
  last_text_.clear();
  absl::StrAppend(&last_text_, adds, elem_deletes, flushes, rules, elem_adds, chain_deletes,
                  set_deletes);
  absl::Status s = ApplyPartial(last_text_);
  if (!s.ok()) return s;
  for (Change& ch : changes) {
    if (ch.unit.has_value()) {
      programmed_[*ch.name] = *std::move(ch.unit);
    } else {
      programmed_.erase(*ch.name);
    }
  }
  for (ElementUpdate& u : updates) {
    if (u.refs == 0) {
      elements_.erase(u.key);
    } else {
      ElementState& es = elements_[u.key];
      es.refs = u.refs;
      es.rest = std::move(u.rest);
    }
  }
  return absl::OkStatus();
}

absl::Status NftablesBackend::Cleanup() {
  std::string text;
  generator_.AppendTable(text);
  absl::StrAppend(&text, "delete table ", generator_.family(), " ", kTableName, "\n");
  absl::Status s = Apply(text);
  last_text_ = std::move(text);
  trusted_ = false;
  programmed_.clear();
  elements_.clear();
  return s;
}

}  // namespace kslice::proxy::nftables
