#include "controller/endpointslice/controller_test_util.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kslice::endpointslice::testutil {

using api::core::v1::Pod;
using api::core::v1::Service;
using api::discovery::v1::EndpointSlice;
using api::discovery::v1::EndpointSliceList;

Service MakeService(const std::string& ns, const std::string& name,
                    const std::map<std::string, std::string>& selector,
                    const std::vector<PortSpec>& ports) {
  Service svc;
  svc.mutable_metadata()->set_namespace_(ns);
  svc.mutable_metadata()->set_name(name);
  for (const auto& [k, v] : selector) (*svc.mutable_spec()->mutable_selector())[k] = v;
  for (const PortSpec& p : ports) {
    api::core::v1::ServicePort* sp = svc.mutable_spec()->add_ports();
    if (!p.name.empty()) sp->set_name(p.name);
    sp->set_port(p.port);
    sp->set_protocol("TCP");
    if (!p.target_name.empty()) {
      sp->mutable_targetport()->set_type(1);
      sp->mutable_targetport()->set_strval(p.target_name);
    } else if (p.target_number != 0) {
      sp->mutable_targetport()->set_type(0);
      sp->mutable_targetport()->set_intval(p.target_number);
    }
  }
  return svc;
}

Pod MakePod(const std::string& ns, const std::string& name,
            const std::map<std::string, std::string>& labels, const std::string& node) {
  Pod pod;
  pod.mutable_metadata()->set_namespace_(ns);
  pod.mutable_metadata()->set_name(name);
  for (const auto& [k, v] : labels) (*pod.mutable_metadata()->mutable_labels())[k] = v;
  if (!node.empty()) pod.mutable_spec()->set_nodename(node);
  api::core::v1::Container* c = pod.mutable_spec()->add_containers();
  c->set_name("app");
  c->set_image("registry.k8s.io/pause:3.10");
  api::core::v1::ContainerPort* port = c->add_ports();
  port->set_name("http");
  port->set_containerport(8080);
  port->set_protocol("TCP");
  return pod;
}

absl::StatusOr<Pod> SetPodStatus(client::RestClient& c, Pod pod, const std::string& ip,
                                 bool ready) {
  api::core::v1::PodStatus* st = pod.mutable_status();
  st->set_phase("Running");
  st->set_podip(ip);
  st->clear_podips();
  st->add_podips()->set_ip(ip);
  const absl::Time now = absl::Now();
  api::core::v1::PodCondition* cond = nullptr;
  for (api::core::v1::PodCondition& pc : *st->mutable_conditions()) {
    if (pc.type() == "Ready") cond = &pc;
  }
  if (cond == nullptr) {
    cond = st->add_conditions();
    cond->set_type("Ready");
  }
  const std::string want = ready ? "True" : "False";
  if (cond->status() != want || !cond->has_lasttransitiontime()) {
    cond->set_status(want);
    cond->mutable_lasttransitiontime()->set_seconds(absl::ToUnixSeconds(now));
  }
  return client::Typed<Pod, api::core::v1::PodList>(c).UpdateStatus(pod);
}

absl::StatusOr<Pod> CreateRunningPod(client::RestClient& c, const std::string& ns,
                                     const std::string& name,
                                     const std::map<std::string, std::string>& labels,
                                     const std::string& ip, bool ready, const std::string& node) {
  absl::StatusOr<Pod> created =
      client::Typed<Pod, api::core::v1::PodList>(c).Create(MakePod(ns, name, labels, node));
  if (!created.ok()) return created.status();
  return SetPodStatus(c, *std::move(created), ip, ready);
}

std::string IPForIndex(int i) {
  return absl::StrCat("10.", (i >> 16) & 255, ".", (i >> 8) & 255, ".", i & 255);
}

absl::Status CreateRunningPods(client::RestClient& c, const std::string& ns,
                               const std::string& prefix, int count,
                               const std::map<std::string, std::string>& labels,
                               const std::string& node, int first_ip, int threads) {
  std::atomic<int> next{0};
  std::mutex mu;
  absl::Status first_error;
  std::vector<std::thread> workers;
  for (int t = 0; t < std::max(1, threads); ++t) {
    workers.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        absl::StatusOr<Pod> p = CreateRunningPod(c, ns, absl::StrCat(prefix, i), labels,
                                                 IPForIndex(first_ip + i), true, node);
        if (!p.ok()) {
          std::lock_guard<std::mutex> l(mu);
          if (first_error.ok()) first_error = p.status();
          next = count;
        }
      }
    });
  }
  for (std::thread& w : workers) w.join();
  return first_error;
}

absl::StatusOr<std::vector<EndpointSlice>> SlicesOf(client::RestClient& c, const std::string& ns,
                                                   const std::string& service) {
  absl::StatusOr<EndpointSliceList> list = client::Typed<EndpointSlice, EndpointSliceList>(c).List(
      ns, {.label_selector = absl::StrCat("kubernetes.io/service-name=", service)});
  if (!list.ok()) return list.status();
  return std::vector<EndpointSlice>(list->items().begin(), list->items().end());
}

int EndpointCount(const std::vector<EndpointSlice>& slices) {
  int n = 0;
  for (const EndpointSlice& s : slices) n += s.endpoints_size();
  return n;
}

bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (done()) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

double MetricSum(controller::metrics::Registry& registry, std::string_view name) {
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(registry.Expose(), '\n')) {
    if (!absl::ConsumePrefix(&line, absl::string_view(name.data(), name.size()))) continue;
    // The family itself, not a longer name sharing the prefix.
    if (line.empty() || (line[0] != '{' && line[0] != ' ')) continue;
    size_t space = line.rfind(' ');
    if (space == absl::string_view::npos) continue;
    double v = 0;
    if (absl::SimpleAtod(line.substr(space + 1), &v)) sum += v;
  }
  return sum;
}

}  // namespace kslice::endpointslice::testutil
