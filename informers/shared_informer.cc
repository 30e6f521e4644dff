#include "informers/shared_informer.h"

#include <algorithm>
#include <deque>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kslice::informers {

namespace {

constexpr absl::Duration kMinimumResyncPeriod = absl::Seconds(1);
constexpr auto kSyncPollInterval = std::chrono::milliseconds(100);

// client-go's determineResyncPeriod.
absl::Duration EffectiveResync(absl::Duration desired, absl::Duration check) {
  if (desired <= absl::ZeroDuration() || check <= absl::ZeroDuration()) {
    return absl::ZeroDuration();
  }
  return std::max(desired, check);
}

class FuncsHandler : public ResourceEventHandler {
 public:
  explicit FuncsHandler(ResourceEventHandlerFuncs funcs) : funcs_(std::move(funcs)) {}
  void OnAdd(const ObjectPtr& object, bool is_in_initial_list) override {
    if (funcs_.add) funcs_.add(object, is_in_initial_list);
  }
  void OnUpdate(const ObjectPtr& old_object, const ObjectPtr& new_object) override {
    if (funcs_.update) funcs_.update(old_object, new_object);
  }
  void OnDelete(const DeletedObject& deleted) override {
    if (funcs_.del) funcs_.del(deleted);
  }

 private:
  ResourceEventHandlerFuncs funcs_;
};

}  // namespace

std::shared_ptr<ResourceEventHandler> MakeHandler(ResourceEventHandlerFuncs funcs) {
  return std::make_shared<FuncsHandler>(std::move(funcs));
}

namespace internal {

struct Notification {
  enum class Kind { kAdd, kUpdate, kDelete } kind = Kind::kAdd;
  ObjectPtr old_object;
  ObjectPtr object;
  bool is_in_initial_list = false;
  DeletedObject deleted;
};

// client-go's processorListener: an unbounded buffer and a thread calling the handler.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(std::shared_ptr<ResourceEventHandler> handler, absl::Duration requested,
           absl::Duration effective, std::function<bool()> informer_synced, absl::Time now)
      : handler_(std::move(handler)),
        informer_synced_(std::move(informer_synced)),
        requested_resync_(requested),
        resync_period_(effective),
        next_resync_(now + effective) {}

  ~Listener() { Stop(); }

  void Add(Notification n) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    if (n.kind == Notification::Kind::kAdd && n.is_in_initial_list) ++initial_pending_;
    buffer_.push_back(std::move(n));
    cv_.notify_one();
  }

  void Start() {
    std::lock_guard<std::mutex> lock(mu_);
    if (thread_.joinable() || stopped_) return;
    thread_ = std::thread([self = shared_from_this()] { self->Loop(); });
  }

  // Drops what is buffered; waits for the call in progress unless called by the handler.
  void Stop() {
    std::thread t;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
      buffer_.clear();
      cv_.notify_all();
      t = std::move(thread_);
    }
    if (!t.joinable()) return;
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();
    } else {
      t.join();
    }
  }

  bool HasSynced() const {
    if (!informer_synced_()) return false;  // first: it may take the FIFO's lock
    std::lock_guard<std::mutex> lock(mu_);
    return initial_pending_ <= 0;
  }

  // Resync bookkeeping, under the processor's lock.
  absl::Duration requested_resync() const { return requested_resync_; }
  void set_resync_period(absl::Duration d) { resync_period_ = d; }
  bool ShouldResync(absl::Time now) const {
    return resync_period_ > absl::ZeroDuration() && now >= next_resync_;
  }
  void DetermineNextResync(absl::Time now) { next_resync_ = now + resync_period_; }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stopped_ || !buffer_.empty(); });
      if (stopped_) return;
      Notification n = std::move(buffer_.front());
      buffer_.pop_front();
      lock.unlock();
      switch (n.kind) {
        case Notification::Kind::kAdd:
          handler_->OnAdd(n.object, n.is_in_initial_list);
          break;
        case Notification::Kind::kUpdate:
          handler_->OnUpdate(n.old_object, n.object);
          break;
        case Notification::Kind::kDelete:
          handler_->OnDelete(n.deleted);
          break;
      }
      lock.lock();
      if (n.kind == Notification::Kind::kAdd && n.is_in_initial_list) --initial_pending_;
    }
  }

  const std::shared_ptr<ResourceEventHandler> handler_;
  const std::function<bool()> informer_synced_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Notification> buffer_;  // guarded by mu_
  int initial_pending_ = 0;          // guarded by mu_
  bool stopped_ = false;             // guarded by mu_
  std::thread thread_;               // guarded by mu_
  // Guarded by the informer's listeners_mu_.
  const absl::Duration requested_resync_;
  absl::Duration resync_period_;
  absl::Time next_resync_;
};

}  // namespace internal

using internal::Listener;
using internal::Notification;

bool HandlerRegistration::HasSynced() const { return listener_->HasSynced(); }

// The reflector's view of the FIFO.
class SharedIndexInformer::FifoStore : public ReflectorStore {
 public:
  explicit FifoStore(DeltaFifo& fifo) : fifo_(fifo) {}
  void Add(ObjectPtr object) override { fifo_.Add(std::move(object)); }
  void Update(ObjectPtr object) override { fifo_.Update(std::move(object)); }
  void Delete(ObjectPtr object) override { fifo_.Delete(std::move(object)); }
  void Replace(std::vector<ObjectPtr> objects, const std::string&) override {
    fifo_.Replace(std::move(objects));
  }
  void Resync() override { fifo_.Resync(); }

 private:
  DeltaFifo& fifo_;  // not owned
};

SharedIndexInformer::SharedIndexInformer(std::unique_ptr<ListerWatcher> lw,
                                         SharedInformerOptions options)
    : options_(std::move(options)),
      lw_(std::move(lw)),
      indexer_(std::make_unique<Indexer>(options_.indexers, options_.cache_mode)),
      fifo_(std::make_unique<DeltaFifo>(indexer_.get())),
      store_(std::make_unique<FifoStore>(*fifo_)),
      clock_(options_.reflector.clock != nullptr ? options_.reflector.clock
                                                 : &client::flowcontrol::Clock::Real()),
      check_period_(options_.resync_period) {
  transform_ = options_.reflector.transform;
  watch_error_handler_ = options_.reflector.watch_error_handler;
}

SharedIndexInformer::~SharedIndexInformer() {
  std::vector<std::shared_ptr<Listener>> listeners;
  {
    std::lock_guard<std::mutex> lock(listeners_mu_);
    listeners.swap(listeners_);
    syncing_.clear();
  }
  for (auto& l : listeners) l->Stop();
}

absl::StatusOr<std::shared_ptr<HandlerRegistration>> SharedIndexInformer::AddEventHandler(
    std::shared_ptr<ResourceEventHandler> handler) {
  absl::Duration d;
  {
    std::lock_guard<std::mutex> lock(mu_);
    d = options_.resync_period;
  }
  return AddEventHandler(std::move(handler), d);
}

absl::StatusOr<std::shared_ptr<HandlerRegistration>> SharedIndexInformer::AddEventHandler(
    std::shared_ptr<ResourceEventHandler> handler, absl::Duration resync) {
  if (handler == nullptr) return absl::InvalidArgumentError("null event handler");
  std::unique_lock<std::mutex> lock(mu_);
  if (stopped_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "handler was not added to shared informer ", options_.name,
        " because it has stopped already"));
  }
  if (resync > absl::ZeroDuration()) {
    resync = std::max(resync, kMinimumResyncPeriod);
    if (resync < check_period_) {
      if (started_) {
        resync = check_period_;
      } else {
        check_period_ = resync;
        std::lock_guard<std::mutex> l(listeners_mu_);
        for (auto& listener : listeners_) {
          listener->set_resync_period(EffectiveResync(listener->requested_resync(), resync));
        }
      }
    }
  } else {
    resync = absl::ZeroDuration();
  }
  auto listener = std::make_shared<Listener>(
      std::move(handler), resync, EffectiveResync(resync, check_period_),
      [this] { return HasSynced(); }, clock_->Now());
  auto registration = std::shared_ptr<HandlerRegistration>(new HandlerRegistration(listener));
  if (!started_) {
    std::lock_guard<std::mutex> l(listeners_mu_);
    listeners_.push_back(listener);
    return registration;
  }
  // Join a running informer: nothing may be distributed while we replay the cache.
  std::lock_guard<std::mutex> block(block_deltas_);
  {
    std::lock_guard<std::mutex> l(listeners_mu_);
    listeners_.push_back(listener);
    if (listeners_started_) listener->Start();
  }
  for (ObjectPtr& obj : indexer_->List()) {
    Notification n;
    n.kind = Notification::Kind::kAdd;
    n.object = std::move(obj);
    n.is_in_initial_list = true;
    listener->Add(std::move(n));
  }
  return registration;
}

void SharedIndexInformer::RemoveEventHandler(
    const std::shared_ptr<HandlerRegistration>& registration) {
  if (registration == nullptr) return;
  std::shared_ptr<Listener> found;
  {
    std::lock_guard<std::mutex> l(listeners_mu_);
    auto it = std::find(listeners_.begin(), listeners_.end(), registration->listener_);
    if (it == listeners_.end()) return;
    found = *it;
    listeners_.erase(it);
    syncing_.erase(std::remove(syncing_.begin(), syncing_.end(), found), syncing_.end());
  }
  found->Stop();
}

absl::Status SharedIndexInformer::SetTransform(ObjectTransform transform) {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return absl::FailedPreconditionError("informer has already started");
  transform_ = std::move(transform);
  return absl::OkStatus();
}

absl::Status SharedIndexInformer::SetWatchErrorHandler(
    std::function<void(const absl::Status&)> handler) {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return absl::FailedPreconditionError("informer has already started");
  watch_error_handler_ = std::move(handler);
  return absl::OkStatus();
}

absl::Status SharedIndexInformer::AddIndexers(Indexers indexers) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return absl::FailedPreconditionError("informer has already stopped");
  }
  std::lock_guard<std::mutex> block(block_deltas_);
  return indexer_->AddIndexers(std::move(indexers));
}

bool SharedIndexInformer::HasSynced() const { return fifo_->HasSynced(); }

bool SharedIndexInformer::IsStopped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopped_;
}

std::string SharedIndexInformer::LastSyncResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reflector_ == nullptr ? "" : reflector_->LastSyncResourceVersion();
}

bool SharedIndexInformer::ShouldResync() {
  std::lock_guard<std::mutex> l(listeners_mu_);
  absl::Time now = clock_->Now();
  syncing_.clear();
  for (auto& listener : listeners_) {
    if (listener->ShouldResync(now)) {
      syncing_.push_back(listener);
      listener->DetermineNextResync(now);
    }
  }
  return !syncing_.empty();
}

absl::Status SharedIndexInformer::HandleDeltas(std::vector<Delta> deltas,
                                               bool is_in_initial_list) {
  std::lock_guard<std::mutex> block(block_deltas_);
  for (Delta& d : deltas) {
    Notification n;
    bool sync = false;
    if (d.type == DeltaType::kDeleted) {
      indexer_->Delete(d.key);
      n.kind = Notification::Kind::kDelete;
      n.deleted = DeletedObject{d.key, std::move(d.object), d.final_state_unknown};
    } else {
      if (d.object == nullptr) continue;
      ObjectPtr old = indexer_->Get(d.key);
      if (old != nullptr) {
        indexer_->Update(d.object);
        sync = d.type == DeltaType::kSync ||
               (d.type == DeltaType::kReplaced &&
                MetaOf(*old).resourceversion() == MetaOf(*d.object).resourceversion());
        n.kind = Notification::Kind::kUpdate;
        n.old_object = std::move(old);
      } else {
        indexer_->Add(d.object);
        n.kind = Notification::Kind::kAdd;
        n.is_in_initial_list = is_in_initial_list;
      }
      n.object = std::move(d.object);
    }
    std::lock_guard<std::mutex> l(listeners_mu_);
    const auto& targets = sync ? syncing_ : listeners_;
    for (size_t i = 0; i < targets.size(); ++i) {
      if (i + 1 == targets.size()) {
        targets[i]->Add(std::move(n));
      } else {
        targets[i]->Add(n);
      }
    }
  }
  return absl::OkStatus();
}

void SharedIndexInformer::Run(std::stop_token stop) {
  Reflector* reflector;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_ || stopped_) return;
    started_ = true;
    ReflectorOptions ro = options_.reflector;
    ro.name = options_.name;
    ro.resync_period = check_period_;
    ro.should_resync = [this] { return ShouldResync(); };
    ro.transform = transform_;
    ro.watch_error_handler = watch_error_handler_;
    reflector_ = std::make_unique<Reflector>(*lw_, *store_, std::move(ro));
    reflector = reflector_.get();
  }
  {
    std::lock_guard<std::mutex> l(listeners_mu_);
    listeners_started_ = true;
    for (auto& listener : listeners_) listener->Start();
  }
  std::thread process([this] {
    while (true) {
      absl::Status s = fifo_->Pop([this](std::vector<Delta> deltas, bool initial) {
        return HandleDeltas(std::move(deltas), initial);
      });
      if (absl::IsCancelled(s) && fifo_->IsClosed()) return;
    }
  });
  reflector->Run(stop);
  fifo_->Close();
  process.join();
  std::vector<std::shared_ptr<Listener>> listeners;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  {
    std::lock_guard<std::mutex> l(listeners_mu_);
    listeners = listeners_;
  }
  for (auto& listener : listeners) listener->Stop();
}

bool WaitForCacheSync(std::stop_token stop, const std::vector<std::function<bool()>>& synced) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock<std::mutex> lock(mu);
  while (true) {
    bool all = true;
    for (const auto& f : synced) {
      if (!f()) {
        all = false;
        break;
      }
    }
    if (all) return true;
    if (cv.wait_for(lock, stop, kSyncPollInterval, [] { return false; })) return false;
    if (stop.stop_requested()) return false;
  }
}

bool WaitForCacheSync(std::stop_token stop,
                      const std::vector<const SharedIndexInformer*>& informers) {
  std::vector<std::function<bool()>> fns;
  for (const SharedIndexInformer* i : informers) {
    fns.push_back([i] { return i->HasSynced(); });
  }
  return WaitForCacheSync(std::move(stop), fns);
}

}  // namespace kslice::informers
