// Listers: typed, read-only views of an informer's cache (client-go's generated listers
// and tools/cache/listers.go).
//
//   Lister<Pod> pods(&informer.GetIndexer(), {"", "pods"});
//   std::vector<std::shared_ptr<const Pod>> web = pods.List(*labels::Parse("app=web"));
//   absl::StatusOr<std::shared_ptr<const Pod>> p = pods.Namespace("default").Get("web-0");
//
// Objects are the cache's shared instances: never modify them. Results are in no
// particular order. A missing object is a NotFound status carrying the API's 404 Status
// (client::IsNotFound-compatible: `pods "web-0" not found`). Objects of another type in
// the cache (impossible through the factory) are skipped.
#ifndef KSLICE_INFORMERS_LISTER_H_
#define KSLICE_INFORMERS_LISTER_H_

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "api/labels/selector.h"
#include "client/errors/errors.h"
#include "google/protobuf/message.h"
#include "informers/cache/indexer.h"
#include "informers/cache/object.h"

namespace kslice::informers {

namespace internal {
template <typename T>
std::shared_ptr<const T> As(ObjectPtr obj) {
  if (obj == nullptr) return nullptr;
  if constexpr (std::is_same_v<T, google::protobuf::Message>) {
    return obj;
  } else {
    if (obj->GetDescriptor() != T::descriptor()) return nullptr;
    return std::static_pointer_cast<const T>(std::move(obj));
  }
}

inline bool Matches(const labels::Selector& selector, const google::protobuf::Message& obj) {
  if (selector.Empty()) return true;
  return selector.Matches(MetaOf(obj).labels());
}
}  // namespace internal

template <typename T>
class NamespaceLister {
 public:
  // `indexer` is not owned and must outlive the lister.
  NamespaceLister(const Indexer* indexer, client::GroupResource resource, std::string ns)
      : indexer_(indexer), resource_(std::move(resource)), ns_(std::move(ns)) {}

  // The objects of this namespace matching `selector` (through the namespace index;
  // a full scan when the cache has none).
  std::vector<std::shared_ptr<const T>> List(
      const labels::Selector& selector = labels::Selector::Everything()) const {
    std::vector<std::shared_ptr<const T>> out;
    if (selector.MatchesNothing()) return out;
    absl::StatusOr<std::vector<ObjectPtr>> objs = indexer_->ByIndex(kNamespaceIndex, ns_);
    const bool indexed = objs.ok();
    std::vector<ObjectPtr> all = indexed ? *std::move(objs) : indexer_->List();
    for (ObjectPtr& obj : all) {
      if (!indexed && MetaOf(*obj).namespace_() != ns_) continue;
      if (!internal::Matches(selector, *obj)) continue;
      if (auto t = internal::As<T>(std::move(obj))) out.push_back(std::move(t));
    }
    return out;
  }

  // The object named `name` in this namespace; NotFound (the API's 404) when absent.
  absl::StatusOr<std::shared_ptr<const T>> Get(absl::string_view name) const {
    std::string key = ns_.empty() ? std::string(name) : absl::StrCat(ns_, "/", name);
    std::shared_ptr<const T> obj = internal::As<T>(indexer_->Get(key));
    if (obj == nullptr) return client::ToStatus(client::NewNotFound(resource_, name));
    return obj;
  }

 private:
  const Indexer* indexer_;  // not owned
  client::GroupResource resource_;
  std::string ns_;
};

template <typename T>
class Lister {
 public:
  // `indexer` is not owned and must outlive the lister; `resource` names the resource
  // in NotFound errors ({"", "pods"}).
  Lister(const Indexer* indexer, client::GroupResource resource)
      : indexer_(indexer), resource_(std::move(resource)) {}

  // Every cached object matching `selector` (Everything(): all; Nothing(): none).
  std::vector<std::shared_ptr<const T>> List(
      const labels::Selector& selector = labels::Selector::Everything()) const {
    std::vector<std::shared_ptr<const T>> out;
    if (selector.MatchesNothing()) return out;
    for (ObjectPtr& obj : indexer_->List()) {
      if (!internal::Matches(selector, *obj)) continue;
      if (auto t = internal::As<T>(std::move(obj))) out.push_back(std::move(t));
    }
    return out;
  }

  // The object ns/name (ns "" for cluster-scoped kinds); NotFound when absent.
  absl::StatusOr<std::shared_ptr<const T>> Get(absl::string_view ns,
                                               absl::string_view name) const {
    return Namespace(std::string(ns)).Get(name);
  }

  NamespaceLister<T> Namespace(std::string ns) const {
    return NamespaceLister<T>(indexer_, resource_, std::move(ns));
  }

  const Indexer& indexer() const { return *indexer_; }

 private:
  const Indexer* indexer_;  // not owned
  client::GroupResource resource_;
};

}  // namespace kslice::informers

#endif  // KSLICE_INFORMERS_LISTER_H_
