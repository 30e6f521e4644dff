// Typed access to an informer: handlers and listers that see std::shared_ptr<const T>
// (T a generated kslice API message such as api::core::v1::Pod, or DynamicObject).
//
//   absl::StatusOr<TypedInformer<Pod>> pods = factory.For<Pod>();
//   pods->AddEventHandler({.add = [](const std::shared_ptr<const Pod>& p, bool) { ... }});
//   factory.Start(stop);
//   auto web = pods->Lister().Namespace("default").Get("web-0");
#ifndef KSLICE_INFORMERS_TYPED_H_
#define KSLICE_INFORMERS_TYPED_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "client/errors/errors.h"
#include "informers/lister.h"
#include "informers/shared_informer.h"

namespace kslice::informers {

template <typename T>
struct TypedDeletedObject {
  std::string key;
  std::shared_ptr<const T> object;  // may be null for a tombstone
  bool final_state_unknown = false;
};

template <typename T>
struct TypedHandlerFuncs {
  std::function<void(const std::shared_ptr<const T>&, bool is_in_initial_list)> add;
  std::function<void(const std::shared_ptr<const T>& old_object,
                     const std::shared_ptr<const T>& new_object)>
      update;
  std::function<void(const TypedDeletedObject<T>&)> del;
};

// Adapts typed functions to the untyped handler (objects of another type are dropped).
template <typename T>
ResourceEventHandlerFuncs Untyped(TypedHandlerFuncs<T> f) {
  ResourceEventHandlerFuncs out;
  if (f.add) {
    out.add = [add = std::move(f.add)](const ObjectPtr& obj, bool initial) {
      if (auto t = internal::As<T>(obj)) add(t, initial);
    };
  }
  if (f.update) {
    out.update = [update = std::move(f.update)](const ObjectPtr& o, const ObjectPtr& n) {
      auto to = internal::As<T>(o);
      auto tn = internal::As<T>(n);
      if (to != nullptr && tn != nullptr) update(to, tn);
    };
  }
  if (f.del) {
    out.del = [del = std::move(f.del)](const DeletedObject& d) {
      del(TypedDeletedObject<T>{d.key, internal::As<T>(d.object), d.final_state_unknown});
    };
  }
  return out;
}

template <typename T>
class TypedInformer {
 public:
  // `informer` is not owned.
  TypedInformer(SharedIndexInformer* informer, client::GroupResource resource)
      : informer_(informer), resource_(std::move(resource)) {}

  SharedIndexInformer& Informer() const { return *informer_; }
  informers::Lister<T> Lister() const {
    return informers::Lister<T>(&informer_->GetIndexer(), resource_);
  }
  absl::StatusOr<std::shared_ptr<HandlerRegistration>> AddEventHandler(TypedHandlerFuncs<T> f) {
    return informer_->AddEventHandler(MakeHandler(Untyped(std::move(f))));
  }
  absl::StatusOr<std::shared_ptr<HandlerRegistration>> AddEventHandler(TypedHandlerFuncs<T> f,
                                                                       absl::Duration resync) {
    return informer_->AddEventHandler(MakeHandler(Untyped(std::move(f))), resync);
  }
  bool HasSynced() const { return informer_->HasSynced(); }

 private:
  SharedIndexInformer* informer_;  // not owned
  client::GroupResource resource_;
};

}  // namespace kslice::informers

#endif  // KSLICE_INFORMERS_TYPED_H_
