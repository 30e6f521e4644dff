#include "envtest/fieldmanager/internal/typed.h"

#include <map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/codec/schema_info.h"
#include "api/proto/annotations.pb.h"
#include "envtest/storage/errors.h"

namespace kslice::envtest::fieldmanager::internal {
namespace {

using codec::Node;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

constexpr int kMaxDepth = 200;

// The type of one value of `field`'s type (an element when the field is repeated).
TypeRef SingularType(const FieldDescriptor* field) {
  TypeRef t;
  if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
    const Descriptor* m = field->message_type();
    if (m->options().GetExtension(kslice::api::json_format) != kslice::api::JSON_FORMAT_OBJECT) {
      return t;  // Time, Quantity, IntOrString, RawExtension, ...: a leaf
    }
    t.kind = TypeRef::Kind::kStruct;
    t.message = m;
    t.atomic = m->options().GetExtension(kslice::api::struct_type) == "atomic";
  }
  return t;
}

TypeRef TypeOfField(const FieldDescriptor* field) {
  const auto& opts = field->options();
  if (field->is_map()) {
    TypeRef t;
    t.kind = TypeRef::Kind::kMap;
    t.field = field;
    t.atomic = opts.GetExtension(kslice::api::map_type) == "atomic";
    return t;
  }
  if (field->is_repeated()) {
    TypeRef t;
    t.kind = TypeRef::Kind::kList;
    t.field = field;
    const std::string& list_type = opts.GetExtension(kslice::api::list_type);
    if (list_type == "atomic") {
      t.atomic = true;
    } else if (list_type == "set") {
      t.set = true;
    } else if (list_type == "map") {
      int n = opts.ExtensionSize(kslice::api::list_map_keys);
      for (int i = 0; i < n; ++i) t.keys.push_back(opts.GetExtension(kslice::api::list_map_keys, i));
      if (t.keys.empty() && opts.HasExtension(kslice::api::patch_merge_key)) {
        t.keys.push_back(opts.GetExtension(kslice::api::patch_merge_key));
      }
      if (t.keys.empty()) t.atomic = true;
    } else if (absl::StrContains(opts.GetExtension(kslice::api::patch_strategy), "merge")) {
      if (opts.HasExtension(kslice::api::patch_merge_key)) {
        t.keys.push_back(opts.GetExtension(kslice::api::patch_merge_key));
      } else {
        t.set = true;
      }
    } else {
      t.atomic = true;
    }
    return t;
  }
  if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
    TypeRef t = SingularType(field);
    // A field can make a granular struct atomic (+structType on the field).
    if (opts.GetExtension(kslice::api::map_type) == "atomic") t.atomic = true;
    return t;
  }
  return TypeRef();
}

absl::Status PathError(const Path& path, absl::string_view message) {
  if (path.empty()) return absl::InvalidArgumentError(message);
  return absl::InvalidArgumentError(absl::StrCat(PathToString(path), ": ", message));
}

bool IsEmptyContainer(const Node* n) {
  if (n == nullptr || n->is_null()) return true;
  if (n->is_array()) return n->values.empty();
  if (n->is_object()) return n->keys.empty();
  return false;
}

// The type of a struct or map member.
absl::StatusOr<TypeRef> MemberType(const TypeRef& t, const std::string& key, const Path& path) {
  if (t.kind == TypeRef::Kind::kMap) return ElementType(t);
  std::optional<TypeRef> f = FieldType(t, key);
  if (!f.has_value()) {
    Path p = path;
    p.push_back(PathElement::Field(key));
    return PathError(p, "field not declared in schema");
  }
  return *std::move(f);
}

bool IsNamedField(const TypeRef& t, const std::string& key) {
  return t.kind == TypeRef::Kind::kStruct && FieldType(t, key).has_value();
}

// Path elements of a list's items, in order.
absl::Status ItemElements(const TypeRef& t, const Node& list, const Path& path,
                          std::vector<PathElement>* out) {
  for (size_t i = 0; i < list.values.size(); ++i) {
    absl::StatusOr<PathElement> pe = ItemPathElement(t, list.values[i]);
    if (!pe.ok()) {
      return PathError(path, absl::StrCat("element ", i, ": ", pe.status().message()));
    }
    out->push_back(*std::move(pe));
  }
  return absl::OkStatus();
}

struct PeLess {
  bool operator()(const PathElement& a, const PathElement& b) const { return Compare(a, b) < 0; }
};

// ---- ToFieldSet ----

absl::Status ToSet(const Node& v, const TypeRef& t, bool dups, Path* path, Set* out) {
  if (path->size() > kMaxDepth) return PathError(*path, "nested too deeply");
  switch (t.kind) {
    case TypeRef::Kind::kScalar:
      out->Insert(*path);
      return absl::OkStatus();
    case TypeRef::Kind::kList: {
      if (t.atomic) {
        out->Insert(*path);
        return absl::OkStatus();
      }
      if (v.is_null()) return absl::OkStatus();
      if (!v.is_array()) return PathError(*path, "expected list");
      std::vector<PathElement> pes;
      if (absl::Status s = ItemElements(t, v, *path, &pes); !s.ok()) return s;
      std::map<PathElement, int, PeLess> count;
      for (const PathElement& pe : pes) ++count[pe];
      TypeRef elem = ElementType(t);
      for (size_t i = 0; i < pes.size(); ++i) {
        path->push_back(pes[i]);
        if (count[pes[i]] > 1) {
          if (!dups) {
            path->pop_back();
            return PathError(*path, absl::StrCat("duplicate entries for key ", pes[i].ToString()));
          }
          out->Insert(*path);  // duplicates: the item as a whole
        } else {
          if (absl::Status s = ToSet(v.values[i], elem, dups, path, out); !s.ok()) return s;
          out->Insert(*path);
        }
        path->pop_back();
      }
      return absl::OkStatus();
    }
    case TypeRef::Kind::kStruct:
    case TypeRef::Kind::kMap: {
      if (t.atomic) {
        out->Insert(*path);
        return absl::OkStatus();
      }
      if (v.is_null()) return absl::OkStatus();
      if (!v.is_object()) return PathError(*path, "expected map");
      for (size_t i = 0; i < v.keys.size(); ++i) {
        absl::StatusOr<TypeRef> ct = MemberType(t, v.keys[i], *path);
        if (!ct.ok()) return ct.status();
        const Node& child = v.values[i];
        path->push_back(PathElement::Field(v.keys[i]));
        if (absl::Status s = ToSet(child, *ct, dups, path, out); !s.ok()) return s;
        if (child.is_null() || (child.is_object() && child.keys.empty()) ||
            t.kind == TypeRef::Kind::kMap) {
          out->Insert(*path);
        }
        path->pop_back();
      }
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

// ---- Compare ----

class Differ {
 public:
  explicit Differ(Comparison* c) : c_(c) {}

  absl::Status Walk(const Node* l, const Node* r, const TypeRef& t, Path* path) {
    if (path->size() > kMaxDepth) return PathError(*path, "nested too deeply");
    bool leaf = false;
    switch (t.kind) {
      case TypeRef::Kind::kScalar:
        leaf = true;
        break;
      case TypeRef::Kind::kList:
        if (t.atomic || (IsEmptyContainer(l) && IsEmptyContainer(r))) {
          leaf = true;
        } else if (absl::Status s = Items(l, r, t, path); !s.ok()) {
          return s;
        }
        break;
      case TypeRef::Kind::kStruct:
      case TypeRef::Kind::kMap:
        if (t.atomic || (IsEmptyContainer(l) && IsEmptyContainer(r))) {
          leaf = true;
        } else if (absl::Status s = Members(l, r, t, path); !s.ok()) {
          return s;
        }
        break;
    }
    if (leaf && l != nullptr && r != nullptr) {
      if (!l->Equals(*r)) c_->modified.Insert(*path);
      return absl::OkStatus();
    }
    if (l == nullptr) {
      c_->added.Insert(*path);
    } else if (r == nullptr) {
      c_->removed.Insert(*path);
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Members(const Node* l, const Node* r, const TypeRef& t, Path* path) {
    const Node* lo = (l != nullptr && l->is_object()) ? l : nullptr;
    const Node* ro = (r != nullptr && r->is_object()) ? r : nullptr;
    if ((l != nullptr && !l->is_null() && lo == nullptr) ||
        (r != nullptr && !r->is_null() && ro == nullptr)) {
      return PathError(*path, "expected map");
    }
    auto visit = [&](const std::string& key, const Node* lc, const Node* rc) -> absl::Status {
      absl::StatusOr<TypeRef> ct = MemberType(t, key, *path);
      if (!ct.ok()) return ct.status();
      path->push_back(PathElement::Field(key));
      absl::Status s = Walk(lc, rc, *ct, path);
      path->pop_back();
      return s;
    };
    if (lo != nullptr) {
      for (size_t i = 0; i < lo->keys.size(); ++i) {
        const Node* rc = ro != nullptr ? ro->Find(lo->keys[i]) : nullptr;
        if (absl::Status s = visit(lo->keys[i], &lo->values[i], rc); !s.ok()) return s;
      }
    }
    if (ro != nullptr) {
      for (size_t i = 0; i < ro->keys.size(); ++i) {
        if (lo != nullptr && lo->Find(ro->keys[i]) != nullptr) continue;
        if (absl::Status s = visit(ro->keys[i], nullptr, &ro->values[i]); !s.ok()) return s;
      }
    }
    return absl::OkStatus();
  }

  absl::Status Items(const Node* l, const Node* r, const TypeRef& t, Path* path) {
    const Node* la = (l != nullptr && l->is_array()) ? l : nullptr;
    const Node* ra = (r != nullptr && r->is_array()) ? r : nullptr;
    if ((l != nullptr && !l->is_null() && la == nullptr) ||
        (r != nullptr && !r->is_null() && ra == nullptr)) {
      return PathError(*path, "expected list");
    }
    std::vector<PathElement> lpes, rpes;
    if (la != nullptr) {
      if (absl::Status s = ItemElements(t, *la, *path, &lpes); !s.ok()) return s;
    }
    if (ra != nullptr) {
      if (absl::Status s = ItemElements(t, *ra, *path, &rpes); !s.ok()) return s;
    }
    std::map<PathElement, std::vector<const Node*>, PeLess> lv, rv;
    std::vector<PathElement> all;
    for (size_t i = 0; i < lpes.size(); ++i) {
      auto [it, inserted] = lv.try_emplace(lpes[i]);
      it->second.push_back(&la->values[i]);
      if (inserted) all.push_back(lpes[i]);
    }
    for (size_t i = 0; i < rpes.size(); ++i) {
      auto [it, inserted] = rv.try_emplace(rpes[i]);
      it->second.push_back(&ra->values[i]);
      if (inserted && lv.find(rpes[i]) == lv.end()) all.push_back(rpes[i]);
    }
    TypeRef elem = ElementType(t);
    static const std::vector<const Node*> kNone;
    for (const PathElement& pe : all) {
      auto li = lv.find(pe);
      auto ri = rv.find(pe);
      const std::vector<const Node*>& ll = li == lv.end() ? kNone : li->second;
      const std::vector<const Node*>& rl = ri == rv.end() ? kNone : ri->second;
      path->push_back(pe);
      absl::Status s;
      if (ll.size() <= 1 && rl.size() <= 1) {
        s = Walk(ll.empty() ? nullptr : ll[0], rl.empty() ? nullptr : rl[0], elem, path);
      } else if (ll.size() >= 2 && rl.size() >= 2) {
        bool equal = ll.size() == rl.size();
        for (size_t i = 0; equal && i < ll.size(); ++i) equal = ll[i]->Equals(*rl[i]);
        if (!equal) c_->modified.Insert(*path);
      } else if (ll.size() >= 2) {
        if (!rl.empty()) s = Walk(nullptr, rl[0], elem, path);
        c_->removed.Insert(*path);
      } else {
        if (!ll.empty()) s = Walk(ll[0], nullptr, elem, path);
        c_->added.Insert(*path);
      }
      path->pop_back();
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

  Comparison* c_;  // not owned
};

// ---- Merge ----

absl::StatusOr<Node> MergeWalk(const Node* l, const Node* r, const TypeRef& t, Path* path);

absl::StatusOr<Node> MergeLists(const Node* l, const Node* r, const TypeRef& t, Path* path) {
  const Node* la = (l != nullptr && l->is_array()) ? l : nullptr;
  const Node* ra = (r != nullptr && r->is_array()) ? r : nullptr;
  if ((l != nullptr && !l->is_null() && la == nullptr) ||
      (r != nullptr && !r->is_null() && ra == nullptr)) {
    return PathError(*path, "expected list");
  }
  std::vector<PathElement> lpes, rpes;
  if (la != nullptr) {
    if (absl::Status s = ItemElements(t, *la, *path, &lpes); !s.ok()) return s;
  }
  if (ra != nullptr) {
    if (absl::Status s = ItemElements(t, *ra, *path, &rpes); !s.ok()) return s;
  }
  // Item by path element; nullptr marks a duplicated live item (merged as null).
  std::map<PathElement, const Node*, PeLess> lhs_items, rhs_items;
  for (size_t i = 0; i < rpes.size(); ++i) {
    if (!rhs_items.emplace(rpes[i], &ra->values[i]).second) {
      return PathError(*path, absl::StrCat("duplicate entries for key ", rpes[i].ToString()));
    }
  }
  for (size_t i = 0; i < lpes.size(); ++i) {
    auto [it, inserted] = lhs_items.emplace(lpes[i], &la->values[i]);
    if (!inserted) it->second = nullptr;
  }
  static const Node kNull;
  auto lhs_child = [&](const PathElement& pe) -> const Node* {
    auto it = lhs_items.find(pe);
    if (it == lhs_items.end()) return nullptr;
    return it->second != nullptr ? it->second : &kNull;
  };
  // The rhs items also in lhs, in rhs order.
  std::vector<const PathElement*> shared;
  for (const PathElement& pe : rpes) {
    if (lhs_items.count(pe) != 0) shared.push_back(&pe);
  }
  size_t next_shared = 0;
  auto shared_is = [&](const PathElement& pe) {
    return next_shared < shared.size() && Compare(*shared[next_shared], pe) == 0;
  };

  TypeRef elem = ElementType(t);
  Node out = Node::Array();
  std::map<PathElement, bool, PeLess> merged_rhs;
  auto emit = [&](const PathElement& pe, const Node* lc, const Node* rc) -> absl::Status {
    path->push_back(pe);
    absl::StatusOr<Node> m = MergeWalk(lc, rc, elem, path);
    path->pop_back();
    if (!m.ok()) return m.status();
    out.Push(*std::move(m));
    return absl::OkStatus();
  };
  size_t li = 0, ri = 0;
  while (li < lpes.size() || ri < rpes.size()) {
    if (li < lpes.size() && ri < rpes.size()) {
      const PathElement& pe = lpes[li];
      if (Compare(pe, rpes[ri]) == 0) {
        merged_rhs[pe] = true;
        if (absl::Status s = emit(pe, lhs_child(pe), rhs_items[pe]); !s.ok()) return s;
        ++li;
        ++ri;
        if (next_shared < shared.size()) ++next_shared;
        continue;
      }
      if (rhs_items.count(pe) != 0 && next_shared < shared.size() && !shared_is(pe)) {
        ++li;
        continue;
      }
    }
    if (li < lpes.size()) {
      const PathElement& pe = lpes[li];
      if (rhs_items.count(pe) == 0) {
        if (absl::Status s = emit(pe, &la->values[li], nullptr); !s.ok()) return s;
        ++li;
        continue;
      }
      if (merged_rhs.count(pe) != 0) ++li;
    }
    if (ri < rpes.size()) {
      const PathElement& pe = rpes[ri];
      merged_rhs[pe] = true;
      if (absl::Status s = emit(pe, lhs_child(pe), rhs_items[pe]); !s.ok()) return s;
      ++ri;
      if (shared_is(pe)) ++next_shared;
    }
  }
  if (out.values.empty()) return r != nullptr ? *r : *l;
  return out;
}

absl::StatusOr<Node> MergeWalk(const Node* l, const Node* r, const TypeRef& t, Path* path) {
  if (path->size() > kMaxDepth) return PathError(*path, "nested too deeply");
  if (r == nullptr) return *l;
  if (l == nullptr) return *r;
  switch (t.kind) {
    case TypeRef::Kind::kScalar:
      return *r;
    case TypeRef::Kind::kList:
      if (t.atomic || (IsEmptyContainer(l) && IsEmptyContainer(r))) return *r;
      return MergeLists(l, r, t, path);
    case TypeRef::Kind::kStruct:
    case TypeRef::Kind::kMap: {
      if (t.atomic || (IsEmptyContainer(l) && IsEmptyContainer(r))) return *r;
      const Node* lo = l->is_object() ? l : nullptr;
      const Node* ro = r->is_object() ? r : nullptr;
      if ((!l->is_null() && lo == nullptr) || (!r->is_null() && ro == nullptr)) {
        return PathError(*path, "expected map");
      }
      Node out = Node::Object();
      if (lo != nullptr) {
        for (size_t i = 0; i < lo->keys.size(); ++i) {
          const std::string& key = lo->keys[i];
          const Node* rc = ro != nullptr ? ro->Find(key) : nullptr;
          if (rc == nullptr) {
            out.Add(key, lo->values[i]);
            continue;
          }
          absl::StatusOr<TypeRef> ct = MemberType(t, key, *path);
          if (!ct.ok()) return ct.status();
          path->push_back(PathElement::Field(key));
          absl::StatusOr<Node> m = MergeWalk(&lo->values[i], rc, *ct, path);
          path->pop_back();
          if (!m.ok()) return m.status();
          out.Add(key, *std::move(m));
        }
      }
      if (ro != nullptr) {
        for (size_t i = 0; i < ro->keys.size(); ++i) {
          if (lo != nullptr && lo->Find(ro->keys[i]) != nullptr) continue;
          out.Add(ro->keys[i], ro->values[i]);
        }
      }
      return out;
    }
  }
  return *r;
}

// ---- Prune ----

void PruneWalk(Node* v, const TypeRef& t, const Set& last, const Set* owned) {
  if (last.Empty() || t.atomic) return;
  if (t.kind == TypeRef::Kind::kList && v->is_array()) {
    std::vector<Node> kept;
    bool changed = false;
    TypeRef elem = ElementType(t);
    for (Node& item : v->values) {
      absl::StatusOr<PathElement> pe = ItemPathElement(t, item);
      const Set::Entry* e = pe.ok() ? last.Find(*pe) : nullptr;
      if (e == nullptr) {
        kept.push_back(std::move(item));
        continue;
      }
      const Set::Entry* o = owned != nullptr ? owned->Find(*pe) : nullptr;
      if (e->member && (o == nullptr || !o->member)) {
        changed = true;
        continue;
      }
      PruneWalk(&item, elem, e->children, o != nullptr ? &o->children : nullptr);
      kept.push_back(std::move(item));
    }
    v->values = std::move(kept);
    if (changed && v->values.empty()) *v = Node::Null();
    return;
  }
  if ((t.kind == TypeRef::Kind::kStruct || t.kind == TypeRef::Kind::kMap) && v->is_object()) {
    Node out = Node::Object();
    bool removed = false;
    for (size_t i = 0; i < v->keys.size(); ++i) {
      PathElement pe = PathElement::Field(v->keys[i]);
      const Set::Entry* e = last.Find(pe);
      if (e == nullptr) {
        out.Add(std::move(v->keys[i]), std::move(v->values[i]));
        continue;
      }
      const Set::Entry* o = owned != nullptr ? owned->Find(pe) : nullptr;
      bool named = IsNamedField(t, v->keys[i]);
      bool last_member = e->member || (named && !e->children.Empty());
      bool owned_member = o != nullptr && (o->member || (named && !o->children.Empty()));
      if (last_member && !owned_member) {
        removed = true;
        continue;
      }
      if (!e->children.Empty()) {
        absl::StatusOr<TypeRef> ct =
            t.kind == TypeRef::Kind::kMap ? ElementType(t) : MemberType(t, v->keys[i], {});
        if (ct.ok()) {
          PruneWalk(&v->values[i], *ct, e->children, o != nullptr ? &o->children : nullptr);
        }
      }
      out.Add(std::move(v->keys[i]), std::move(v->values[i]));
    }
    if (removed && out.keys.empty()) {
      *v = Node::Null();
    } else {
      *v = std::move(out);
    }
  }
}

}  // namespace

TypeRef RootType(const Descriptor* message) {
  TypeRef t;
  t.kind = TypeRef::Kind::kStruct;
  t.message = message;
  t.root = true;
  return t;
}

std::optional<TypeRef> FieldType(const TypeRef& struct_type, absl::string_view key) {
  if (struct_type.kind != TypeRef::Kind::kStruct || struct_type.message == nullptr) {
    return std::nullopt;
  }
  if (struct_type.root && (key == "apiVersion" || key == "kind")) return TypeRef();
  const codec::internal::MessageInfo& info = codec::internal::InfoFor(struct_type.message);
  auto it = info.by_json_name.find(std::string(key));
  if (it == info.by_json_name.end() || it->second.empty()) return std::nullopt;
  return TypeOfField(it->second.back()->field);
}

TypeRef ElementType(const TypeRef& container) {
  if (container.field == nullptr) return TypeRef();
  if (container.kind == TypeRef::Kind::kMap) {
    const FieldDescriptor* value = container.field->message_type()->map_value();
    return value != nullptr ? SingularType(value) : TypeRef();
  }
  return SingularType(container.field);
}

absl::StatusOr<PathElement> ItemPathElement(const TypeRef& list, const Node& item) {
  if (!list.keys.empty()) {
    if (item.is_null()) {
      return absl::InvalidArgumentError("associative list with keys may not have a null element");
    }
    if (!item.is_object()) {
      return absl::InvalidArgumentError(
          "associative list with keys may not have non-map elements");
    }
    std::vector<std::pair<std::string, Node>> key;
    for (const std::string& name : list.keys) {
      if (const Node* v = item.Find(name); v != nullptr) {
        key.emplace_back(name, *v);
      } else if (name == "protocol") {
        key.emplace_back(name, Node::String("TCP"));
      }
    }
    if (key.empty()) {
      std::vector<std::string> quoted;
      for (const std::string& k : list.keys) quoted.push_back(storage::GoQuote(k));
      return absl::InvalidArgumentError(absl::StrCat(
          "associative list with keys has an element that omits all key fields [",
          absl::StrJoin(quoted, " "),
          "] (and doesn't have default values for any key fields)"));
    }
    return PathElement::Key(std::move(key));
  }
  if (item.is_object()) {
    return absl::InvalidArgumentError(
        "associative list without keys has an element that's a map type");
  }
  if (item.is_array()) {
    return absl::InvalidArgumentError("not supported: associative list with lists as elements");
  }
  if (item.is_null()) {
    return absl::InvalidArgumentError(
        "associative list without keys has an element that's an explicit null");
  }
  Node value = item;
  value.plain = false;
  return PathElement::Value(std::move(value));
}

absl::StatusOr<Set> ToFieldSet(const Node& value, const TypeRef& type, bool allow_duplicates) {
  Set out;
  Path path;
  if (absl::Status s = ToSet(value, type, allow_duplicates, &path, &out); !s.ok()) return s;
  return out;
}

Comparison Comparison::FilterTopLevel(const std::vector<std::string>& ignored) const {
  if (ignored.empty()) return *this;
  return Comparison{added.WithoutTopLevelFields(ignored), modified.WithoutTopLevelFields(ignored),
                    removed.WithoutTopLevelFields(ignored)};
}

absl::StatusOr<Comparison> Diff(const Node& lhs, const Node& rhs, const TypeRef& type) {
  Comparison c;
  Differ d(&c);
  Path path;
  if (absl::Status s = d.Walk(&lhs, &rhs, type, &path); !s.ok()) return s;
  return c;
}

absl::StatusOr<Node> Merge(const Node& lhs, const Node& rhs, const TypeRef& type) {
  Path path;
  return MergeWalk(&lhs, &rhs, type, &path);
}

void Prune(Node* value, const TypeRef& type, const Set& last, const Set& owned) {
  PruneWalk(value, type, last, &owned);
}

}  // namespace kslice::envtest::fieldmanager::internal
