// SharedInformerFactory: one shared informer per resource for a whole program, as
// client-go's informers.SharedInformerFactory (informers/factory.go).
//
//   SharedInformerFactory factory(*client, {.default_resync = absl::Minutes(10)});
//   absl::StatusOr<TypedInformer<Pod>> pods = factory.For<Pod>();    // created lazily
//   absl::StatusOr<TypedInformer<DynamicObject>> widgets =
//       factory.ForResource({"example.com", "v1", "widgets", true});
//   factory.Start(stop);                 // runs every informer not yet running
//   factory.WaitForCacheSync(stop);      // {"pods": true, ...}
//   ... pods->Lister().Namespace("default").List() ...
//   factory.Shutdown();                  // stops and joins every informer
//
// The same type asked twice gives the same informer. Options (namespace, list-options
// tweak such as label/field selectors, transform, cache representation) apply to every
// informer of the factory; use several factories for different selections.
// Thread-safety: every method may be called from any thread.
#ifndef KSLICE_INFORMERS_FACTORY_H_
#define KSLICE_INFORMERS_FACTORY_H_

#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/rest/client.h"
#include "client/rest/dynamic.h"
#include "google/protobuf/descriptor.h"
#include "informers/dynamic/dynamic_object.pb.h"
#include "informers/lister_watcher.h"
#include "informers/shared_informer.h"
#include "informers/typed.h"

namespace kslice::informers {

struct FactoryOptions {
  // Default resync period of every informer (and handler); 0: none.
  absl::Duration default_resync = absl::ZeroDuration();
  // Per type (message descriptor) resync periods (client-go's WithCustomResyncConfig).
  std::map<const google::protobuf::Descriptor*, absl::Duration> custom_resync{};
  // Only this namespace ("" all; client-go's WithNamespace).
  std::string ns{};
  // Applied to the options of every list and watch (client-go's WithTweakListOptions).
  TweakListOptionsFunc tweak{};
  // Applied to every object before it is cached (client-go's WithTransform).
  ObjectTransform transform{};
  CacheMode cache_mode = CacheMode::kCompact;
  // Reflector tuning for every informer (streaming list, page size, clock, ...).
  ReflectorOptions reflector{};
};

class SharedInformerFactory {
 public:
  // `client` is not owned and must outlive the factory.
  explicit SharedInformerFactory(client::RestClient& client, FactoryOptions options = {});
  // Shutdown().
  ~SharedInformerFactory();
  SharedInformerFactory(const SharedInformerFactory&) = delete;
  SharedInformerFactory& operator=(const SharedInformerFactory&) = delete;

  // The informer of a built-in kind (created on first use); NotFound for a type without
  // an API resource.
  absl::StatusOr<SharedIndexInformer*> InformerFor(const google::protobuf::Descriptor* type);

  // Typed informer and lister of T (any api/ kind: Pod, ConfigMap, Lease, ...).
  template <typename T>
  absl::StatusOr<TypedInformer<T>> For() {
    absl::StatusOr<SharedIndexInformer*> informer = InformerFor(T::descriptor());
    if (!informer.ok()) return informer.status();
    const client::ResourceInfo* r = client::ResourceFor(T::descriptor());
    return TypedInformer<T>(*informer, client::GroupResource{r->group, r->resource});
  }

  // An informer for any resource through the dynamic (JSON) client; objects are
  // DynamicObject messages.
  absl::StatusOr<TypedInformer<DynamicObject>> ForResource(
      const client::GroupVersionResource& resource);

  // Runs every informer created so far and not yet started, each on its own thread,
  // until `stop` is requested or Shutdown(). Call again after creating more informers.
  // No-op after Shutdown().
  void Start(std::stop_token stop = {});

  // Waits until every started informer has synced or `stop` is requested; returns the
  // informers' names ("pods", "widgets.v1.example.com") with their sync state.
  std::map<std::string, bool> WaitForCacheSync(std::stop_token stop = {});

  // Stops every informer and waits for their threads. Idempotent.
  void Shutdown();

 private:
  struct Entry {
    std::string name;
    std::unique_ptr<SharedIndexInformer> informer;
    bool started = false;
  };
  SharedIndexInformer* Add(const std::string& key, std::string name,
                           std::unique_ptr<ListerWatcher> lw, absl::Duration resync)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  client::RestClient& client_;  // not owned
  const FactoryOptions options_;

  std::mutex mu_;
  std::map<std::string, Entry> informers_ ABSL_GUARDED_BY(mu_);
  std::stop_source stop_;
  std::vector<std::unique_ptr<std::stop_callback<std::function<void()>>>> stop_links_
      ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace kslice::informers

#endif  // KSLICE_INFORMERS_FACTORY_H_
