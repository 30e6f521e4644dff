#include "controller/manager/manager.h"

#include <signal.h>
#include <unistd.h>

#include <random>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "controller/log/log.h"
#include "controller/metrics/process_collector.h"

namespace kslice::controller {
namespace {

std::string DefaultIdentity() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  std::random_device rd;
  static const char kHex[] = "0123456789abcdef";
  std::string suffix;
  for (int i = 0; i < 8; ++i) suffix.push_back(kHex[rd() % 16]);
  return absl::StrCat(host[0] != '\0' ? host : "kslice", "_", suffix);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Manager>> Manager::Create(const client::RestConfig& config,
                                                         ManagerOptions options) {
  std::unique_ptr<Manager> m(new Manager());
  m->options_ = std::move(options);
  m->identity_ = m->options_.identity.empty() ? DefaultIdentity() : m->options_.identity;
  m->registry_ = m->options_.registry != nullptr ? m->options_.registry
                                                 : &metrics::Registry::Default();
  // Registering twice in one registry is refused; that is fine for a second manager.
  (void)metrics::RegisterProcessCollector(*m->registry_);
  client::RestConfig rc = config;
  if (rc.user_agent.empty() || rc.user_agent == client::RestConfig().user_agent) {
    rc.user_agent = absl::StrCat(m->options_.name, "/", rc.user_agent);
  }
  absl::StatusOr<std::unique_ptr<client::RestClient>> c =
      client::RestClient::Create(rc, m->options_.client);
  if (!c.ok()) return c.status();
  m->client_ = std::move(*c);
  m->factory_ = std::make_unique<informers::SharedInformerFactory>(*m->client_,
                                                                   m->options_.informers);
  record::RecorderOptions ro;
  ro.component = m->options_.name;
  ro.host = m->identity_;
  absl::StatusOr<std::unique_ptr<record::Recorder>> rec =
      record::Recorder::Create(*m->client_, ro);
  if (!rec.ok()) return rec.status();
  m->recorder_ = std::move(*rec);
  if (m->options_.leader_elect) {
    m->lease_client_ = leaderelection::NewRestLeaseClient(*m->client_);
    leaderelection::LeaseLockOptions lo;
    lo.namespace_ = m->options_.leader_election_namespace;
    lo.name = m->options_.leader_election_id.empty() ? m->options_.name
                                                     : m->options_.leader_election_id;
    lo.identity = m->identity_;
    m->lock_ = std::make_unique<leaderelection::LeaseLock>(*m->lease_client_, lo);
  }
  return m;
}

Manager::~Manager() {
  if (health_) health_->Stop();
  if (factory_) factory_->Shutdown();
  if (recorder_) recorder_->Shutdown();
}

void Manager::Add(std::string name, Runnable runnable, bool needs_leader) {
  std::lock_guard<std::mutex> l(mu_);
  runnables_.push_back({std::move(name), std::move(runnable), needs_leader});
}

void Manager::AddController(Controller* controller) {
  Add("controller", [this, controller](std::stop_token stop) {
    return controller->Run(stop, {[this] { return synced_.load(); }});
  });
}

absl::Status Manager::RunRunnables(std::stop_token stop, bool leader_only) {
  std::vector<Entry> entries;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const Entry& e : runnables_) {
      if (e.needs_leader == leader_only) entries.push_back(e);
    }
  }
  // Informers the runnables created while being set up start too.
  factory_->Start(stop);
  std::vector<std::thread> threads;
  std::mutex err_mu;
  absl::Status first_error;
  for (const Entry& e : entries) {
    threads.emplace_back([&, e] {
      absl::Status s = e.runnable(stop);
      if (!s.ok() && !absl::IsCancelled(s)) {
        log::Error(s, "runnable failed", {{"name", e.name}});
        std::lock_guard<std::mutex> l(err_mu);
        if (first_error.ok()) first_error = s;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return first_error;
}

absl::Status Manager::Run(std::stop_token stop) {
  if (!options_.health_bind_address.empty()) {
    healthz::ServerOptions ho;
    if (absl::Status s =
            healthz::ParseBindAddress(options_.health_bind_address, &ho.address, &ho.port);
        !s.ok()) {
      return s;
    }
    metrics::Registry* reg = registry_;
    ho.metrics = [reg] { return reg->Expose(); };
    absl::StatusOr<std::unique_ptr<healthz::Server>> hs = healthz::Server::Start(ho);
    if (!hs.ok()) return hs.status();
    health_ = std::move(*hs);
    (void)health_->AddReadyzCheck("informers", [this]() -> absl::Status {
      return synced_ ? absl::OkStatus() : absl::UnavailableError("informers not synced");
    });
    if (options_.leader_elect) {
      (void)health_->AddHealthzCheck("leaderElection", [this] { return watchdog_.Check(); });
    }
  }
  log::Info("starting manager", {{"name", options_.name}, {"identity", identity_}});

  // Caches first: readiness means "caches synced", whether leading or standing by.
  factory_->Start(stop);
  std::map<std::string, bool> synced = factory_->WaitForCacheSync(stop);
  if (stop.stop_requested()) return absl::OkStatus();
  for (const auto& [name, ok] : synced) {
    if (!ok) return absl::UnavailableError(absl::StrCat("informer ", name, " did not sync"));
  }
  synced_ = true;

  // Work that runs everywhere, leader or not.
  std::stop_source local;
  std::stop_callback link(stop, [&local] { local.request_stop(); });
  std::thread always([this, &local] {
    absl::Status s = RunRunnables(local.get_token(), /*leader_only=*/false);
    if (!s.ok()) local.request_stop();
  });

  absl::Status result;
  if (!options_.leader_elect) {
    result = RunRunnables(local.get_token(), /*leader_only=*/true);
  } else {
    std::atomic<bool> lost{false};
    leaderelection::LeaderElectionConfig lc;
    lc.lock = lock_.get();
    lc.lease_duration = options_.lease_duration;
    lc.renew_deadline = options_.renew_deadline;
    lc.retry_period = options_.retry_period;
    lc.release_on_cancel = options_.release_on_cancel;
    lc.name = options_.name;
    lc.watchdog = &watchdog_;
    lc.callbacks.on_started_leading = [this, &result](std::stop_token leading) {
      leading_ = true;
      log::Info("became leader", {{"identity", identity_}});
      absl::Status s = RunRunnables(leading, /*leader_only=*/true);
      if (!s.ok()) result = s;
    };
    lc.callbacks.on_stopped_leading = [this, &lost, &local] {
      if (leading_.exchange(false) && !local.get_token().stop_requested()) {
        lost = true;
        log::Error(absl::AbortedError("leader election lost"), "stopped leading",
                   {{"identity", identity_}});
        local.request_stop();
      }
    };
    lc.callbacks.on_new_leader = [this](const std::string& leader) {
      if (leader != identity_) log::Info("new leader elected", {{"leader", leader}});
    };
    absl::Status s = leaderelection::RunLeaderElection(std::move(lc), local.get_token());
    if (!s.ok()) result = s;
    if (lost) result = absl::AbortedError("leader election lost");
  }
  local.request_stop();
  always.join();
  factory_->Shutdown();
  return result;
}

namespace {
std::stop_source* g_signal_stop = nullptr;
std::atomic<int> g_signals{0};  // lock-free: safe in a signal handler

void OnSignal(int) {
  if (g_signals.fetch_add(1) >= 1) _exit(1);
}
}  // namespace

std::stop_token SetupSignalHandler() {
  static std::stop_source* source = new std::stop_source();
  g_signal_stop = source;
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // request_stop is not async-signal-safe: a watcher thread turns the flag into it.
  std::thread([] {
    while (g_signals.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    g_signal_stop->request_stop();
  }).detach();
  return source->get_token();
}

}  // namespace kslice::controller
