#include "informers/factory.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace kslice::informers {

SharedInformerFactory::SharedInformerFactory(client::RestClient& client, FactoryOptions options)
    : client_(client), options_(std::move(options)) {}

SharedInformerFactory::~SharedInformerFactory() { Shutdown(); }

SharedIndexInformer* SharedInformerFactory::Add(const std::string& key, std::string name,
                                                std::unique_ptr<ListerWatcher> lw,
                                                absl::Duration resync) {
  SharedInformerOptions o;
  o.name = name;
  o.resync_period = resync;
  o.cache_mode = options_.cache_mode;
  o.reflector = options_.reflector;
  o.reflector.transform = options_.transform;
  Entry& e = informers_[key];
  e.name = std::move(name);
  e.informer = std::make_unique<SharedIndexInformer>(std::move(lw), std::move(o));
  return e.informer.get();
}

absl::StatusOr<SharedIndexInformer*> SharedInformerFactory::InformerFor(
    const google::protobuf::Descriptor* type) {
  if (type == nullptr) return absl::InvalidArgumentError("null type");
  std::lock_guard<std::mutex> lock(mu_);
  std::string key = absl::StrCat("type:", type->full_name());
  if (auto it = informers_.find(key); it != informers_.end()) return it->second.informer.get();
  const client::ResourceInfo* r = client::ResourceFor(type);
  if (r == nullptr) {
    return absl::NotFoundError(absl::StrCat("no API resource for type ", type->full_name()));
  }
  absl::Duration resync = options_.default_resync;
  if (auto it = options_.custom_resync.find(type); it != options_.custom_resync.end()) {
    resync = it->second;
  }
  std::string name = r->group.empty() ? r->resource : absl::StrCat(r->resource, ".", r->group);
  return Add(key, std::move(name),
             std::make_unique<RestListerWatcher>(client_, *r, options_.ns, options_.tweak), resync);
}

absl::StatusOr<TypedInformer<DynamicObject>> SharedInformerFactory::ForResource(
    const client::GroupVersionResource& resource) {
  if (resource.resource.empty() || resource.version.empty()) {
    return absl::InvalidArgumentError("a resource needs a version and a resource name");
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::string name = resource.group.empty()
                         ? absl::StrCat(resource.resource, ".", resource.version)
                         : absl::StrCat(resource.resource, ".", resource.version, ".",
                                        resource.group);
  std::string key = absl::StrCat("gvr:", name);
  SharedIndexInformer* informer;
  if (auto it = informers_.find(key); it != informers_.end()) {
    informer = it->second.informer.get();
  } else {
    informer = Add(key, name,
                   std::make_unique<DynamicListerWatcher>(client_, resource, options_.ns,
                                                          options_.tweak),
                   options_.default_resync);
  }
  return TypedInformer<DynamicObject>(informer,
                                      client::GroupResource{resource.group, resource.resource});
}

void SharedInformerFactory::Start(std::stop_token stop) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) return;
  if (stop.stop_possible()) {
    stop_links_.push_back(std::make_unique<std::stop_callback<std::function<void()>>>(
        stop, std::function<void()>([this] { stop_.request_stop(); })));
  }
  for (auto& [key, e] : informers_) {
    if (e.started) continue;
    e.started = true;
    SharedIndexInformer* informer = e.informer.get();
    threads_.emplace_back([informer, token = stop_.get_token()] { informer->Run(token); });
  }
}

std::map<std::string, bool> SharedInformerFactory::WaitForCacheSync(std::stop_token stop) {
  std::vector<std::pair<std::string, SharedIndexInformer*>> started;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [key, e] : informers_) {
      if (e.started) started.emplace_back(e.name, e.informer.get());
    }
  }
  std::map<std::string, bool> out;
  for (auto& [name, informer] : started) {
    out[name] = informers::WaitForCacheSync(stop, {[informer] { return informer->HasSynced(); }});
  }
  return out;
}

void SharedInformerFactory::Shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
    threads.swap(threads_);
  }
  stop_.request_stop();
  for (std::thread& t : threads) t.join();
  std::lock_guard<std::mutex> lock(mu_);
  stop_links_.clear();
}

}  // namespace kslice::informers
