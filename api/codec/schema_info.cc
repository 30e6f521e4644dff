#include "api/codec/schema_info.h"

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/reflection.h"

#include <mutex>
#include <shared_mutex>

namespace kslice::codec::internal {

namespace {

// std::shared_mutex rather than absl::Mutex: Debian's abseil is not built with TSAN,
// which then cannot see absl::Mutex; pthread locks it intercepts.
std::shared_mutex g_mu;
// Guarded by g_mu.
absl::flat_hash_map<const google::protobuf::Descriptor*, std::unique_ptr<MessageInfo>>* g_cache =
    nullptr;

std::unique_ptr<MessageInfo> Build(const google::protobuf::Descriptor* d) {
  auto info = std::make_unique<MessageInfo>();
  info->format = d->options().GetExtension(kslice::api::json_format);
  info->fields.reserve(d->field_count());
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    const auto& opts = f->options();
    FieldInfo fi;
    fi.field = f;
    fi.json_name = opts.HasExtension(kslice::api::json) ? opts.GetExtension(kslice::api::json)
                                                         : f->name();
    fi.nullable = opts.GetExtension(kslice::api::nullable) ||
                  f->type() == google::protobuf::FieldDescriptor::TYPE_BYTES;
    fi.emit_empty = opts.GetExtension(kslice::api::emit_empty);
    fi.omit_zero = opts.GetExtension(kslice::api::omit_zero);
    fi.inline_ = opts.GetExtension(kslice::api::inline_) &&
                 f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE &&
                 !f->is_repeated();
    info->fields.push_back(std::move(fi));
  }
  // Direct fields first; keys reached through inline fields never shadow them.
  for (const FieldInfo& fi : info->fields) {
    if (!fi.inline_) info->by_json_name[fi.json_name] = {&fi};
  }
  for (const FieldInfo& fi : info->fields) {
    if (!fi.inline_) continue;
    const MessageInfo& child = InfoFor(fi.field->message_type());
    for (const auto& [name, path] : child.by_json_name) {
      if (info->by_json_name.contains(name)) continue;
      std::vector<const FieldInfo*> full = {&fi};
      full.insert(full.end(), path.begin(), path.end());
      info->by_json_name[name] = std::move(full);
    }
  }
  return info;
}

const MessageInfo& InfoForLocked(const google::protobuf::Descriptor* descriptor) {
  {
    std::shared_lock lock(g_mu);
    if (g_cache != nullptr) {
      auto it = g_cache->find(descriptor);
      if (it != g_cache->end()) return *it->second;
    }
  }
  // Built without the lock: Build() looks up the messages of inline fields.
  std::unique_ptr<MessageInfo> built = Build(descriptor);
  std::unique_lock lock(g_mu);
  if (g_cache == nullptr) {
    g_cache = new absl::flat_hash_map<const google::protobuf::Descriptor*,
                                      std::unique_ptr<MessageInfo>>();
  }
  auto& slot = (*g_cache)[descriptor];
  if (slot == nullptr) slot = std::move(built);
  return *slot;
}

}  // namespace

const MessageInfo& InfoFor(const google::protobuf::Descriptor* descriptor) {
  // Entries never change once built: each thread keeps its own lock-free copy of
  // the pointers it has used.
  thread_local absl::flat_hash_map<const google::protobuf::Descriptor*, const MessageInfo*> local;
  if (auto it = local.find(descriptor); it != local.end()) return *it->second;
  const MessageInfo& info = InfoForLocked(descriptor);
  local.emplace(descriptor, &info);
  return info;
}

bool IsZeroScalar(const google::protobuf::Message& msg, const google::protobuf::Reflection* r,
                         const google::protobuf::FieldDescriptor* f) {
  switch (f->cpp_type()) {
    case google::protobuf::FieldDescriptor::CPPTYPE_INT32:
      return r->GetInt32(msg, f) == 0;
    case google::protobuf::FieldDescriptor::CPPTYPE_INT64:
      return r->GetInt64(msg, f) == 0;
    case google::protobuf::FieldDescriptor::CPPTYPE_UINT32:
      return r->GetUInt32(msg, f) == 0;
    case google::protobuf::FieldDescriptor::CPPTYPE_UINT64:
      return r->GetUInt64(msg, f) == 0;
    case google::protobuf::FieldDescriptor::CPPTYPE_DOUBLE:
      return r->GetDouble(msg, f) == 0;
    case google::protobuf::FieldDescriptor::CPPTYPE_FLOAT:
      return r->GetFloat(msg, f) == 0;
    case google::protobuf::FieldDescriptor::CPPTYPE_BOOL:
      return !r->GetBool(msg, f);
    case google::protobuf::FieldDescriptor::CPPTYPE_STRING:
      return r->GetString(msg, f).empty();
    case google::protobuf::FieldDescriptor::CPPTYPE_ENUM:
      return r->GetEnumValue(msg, f) == 0;
    case google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE:
      return false;
  }
  return false;
}

void StoreScalar(google::protobuf::Message* msg, const google::protobuf::Reflection* r,
                 const google::protobuf::FieldDescriptor* f, ScalarValue v) {
  using FD = google::protobuf::FieldDescriptor;
  const bool add = f->is_repeated();
  switch (f->cpp_type()) {
    case FD::CPPTYPE_INT32:
      add ? r->AddInt32(msg, f, static_cast<int32_t>(v.i))
          : r->SetInt32(msg, f, static_cast<int32_t>(v.i));
      return;
    case FD::CPPTYPE_INT64:
      add ? r->AddInt64(msg, f, v.i) : r->SetInt64(msg, f, v.i);
      return;
    case FD::CPPTYPE_UINT32:
      add ? r->AddUInt32(msg, f, static_cast<uint32_t>(v.u))
          : r->SetUInt32(msg, f, static_cast<uint32_t>(v.u));
      return;
    case FD::CPPTYPE_UINT64:
      add ? r->AddUInt64(msg, f, v.u) : r->SetUInt64(msg, f, v.u);
      return;
    case FD::CPPTYPE_DOUBLE:
      add ? r->AddDouble(msg, f, v.d) : r->SetDouble(msg, f, v.d);
      return;
    case FD::CPPTYPE_FLOAT:
      add ? r->AddFloat(msg, f, static_cast<float>(v.d))
          : r->SetFloat(msg, f, static_cast<float>(v.d));
      return;
    case FD::CPPTYPE_BOOL:
      add ? r->AddBool(msg, f, v.b) : r->SetBool(msg, f, v.b);
      return;
    case FD::CPPTYPE_STRING:
      add ? r->AddString(msg, f, std::move(v.s)) : r->SetString(msg, f, std::move(v.s));
      return;
    case FD::CPPTYPE_ENUM:
      add ? r->AddEnumValue(msg, f, v.enum_value) : r->SetEnumValue(msg, f, v.enum_value);
      return;
    case FD::CPPTYPE_MESSAGE:
      return;
  }
}

std::string Path::ToString() const {
  std::vector<const Path*> chain;
  for (const Path* p = this; p != nullptr; p = p->parent) chain.push_back(p);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const Path* p = *it;
    if (p->has_key) {
      absl::StrAppend(&out, "[", p->key, "]");
    } else if (p->index >= 0) {
      absl::StrAppend(&out, "[", p->index, "]");
    } else if (!p->name.empty()) {
      if (!out.empty()) out.push_back('.');
      absl::StrAppend(&out, p->name);
    }
  }
  return out;
}

}  // namespace kslice::codec::internal
