#include "bench/realistic_pod.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace kslice::bench {

using kslice::api::core::v1::Pod;

Pod RealisticPod(int i, bool with_server_fields) {
  Pod pod;
  auto* m = pod.mutable_metadata();
  m->set_name(absl::StrCat("checkout-7d9f8b6c5-", i));
  m->set_generatename("checkout-7d9f8b6c5-");
  m->set_namespace_(absl::StrCat("shop-", i % 20));
  if (with_server_fields) {
    m->set_uid(absl::StrCat("6f1c1e7a-2f43-4c1b-9a55-", absl::Dec(i, absl::kZeroPad12)));
    m->set_resourceversion(absl::StrCat(187233412 + i));
    m->mutable_creationtimestamp()->set_seconds(1760000000);
  }
  (*m->mutable_labels())["app.kubernetes.io/name"] = "checkout";
  (*m->mutable_labels())["app.kubernetes.io/part-of"] = "shop";
  (*m->mutable_labels())["pod-template-hash"] = "7d9f8b6c5";
  (*m->mutable_labels())["shard"] = absl::StrCat(i % 10);  // a 10% selector
  (*m->mutable_annotations())["prometheus.io/scrape"] = "true";
  (*m->mutable_annotations())["prometheus.io/port"] = "9090";
  auto* owner = m->add_ownerreferences();
  owner->set_apiversion("apps/v1");
  owner->set_kind("ReplicaSet");
  owner->set_name("checkout-7d9f8b6c5");
  owner->set_uid("0b1d2c3e-4f50-6172-8394-a5b6c7d8e9f0");
  owner->set_controller(true);
  owner->set_blockownerdeletion(true);
  auto* mf = m->add_managedfields();
  mf->set_manager("kube-controller-manager");
  mf->set_operation("Update");
  mf->set_apiversion("v1");
  mf->mutable_time()->set_seconds(1760000000);
  mf->set_fieldstype("FieldsV1");
  mf->mutable_fieldsv1()->set_raw(
      R"({"f:metadata":{"f:generateName":{},"f:labels":{".":{},"f:app.kubernetes.io/name":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{}}}}})");
  auto* spec = pod.mutable_spec();
  spec->set_nodename(absl::StrCat("node-", i % 100));
  spec->set_serviceaccountname("checkout");
  spec->set_restartpolicy("Always");
  spec->set_dnspolicy("ClusterFirst");
  spec->set_terminationgraceperiodseconds(30);
  {
    // The service-account volume every pod gets (what the containers mount).
    auto* v = spec->add_volumes();
    v->set_name("kube-api-access");
    auto* projected = v->mutable_volumesource()->mutable_projected();
    projected->set_defaultmode(420);
    auto* token = projected->add_sources()->mutable_serviceaccounttoken();
    token->set_path("token");
    token->set_expirationseconds(3607);
    auto* ca = projected->add_sources()->mutable_configmap();
    ca->mutable_localobjectreference()->set_name("kube-root-ca.crt");
    auto* item = ca->add_items();
    item->set_key("ca.crt");
    item->set_path("ca.crt");
    auto* ns_item = projected->add_sources()->mutable_downwardapi()->add_items();
    ns_item->set_path("namespace");
    ns_item->mutable_fieldref()->set_apiversion("v1");
    ns_item->mutable_fieldref()->set_fieldpath("metadata.namespace");
  }
  for (const char* name : {"app", "sidecar-proxy", "log-shipper"}) {
    auto* c = spec->add_containers();
    c->set_name(name);
    c->set_image(std::string("registry.example.com/shop/") + name + ":v1.42.0");
    c->add_args("--config=/etc/" + std::string(name) + "/config.yaml");
    auto* port = c->add_ports();
    port->set_name("http");
    port->set_containerport(8080);
    port->set_protocol("TCP");
    auto* env = c->add_env();
    env->set_name("POD_NAME");
    env->mutable_valuefrom()->mutable_fieldref()->set_fieldpath("metadata.name");
    (*c->mutable_resources()->mutable_requests())["cpu"].set_string("250m");
    (*c->mutable_resources()->mutable_requests())["memory"].set_string("256Mi");
    (*c->mutable_resources()->mutable_limits())["memory"].set_string("512Mi");
    auto* vm = c->add_volumemounts();
    vm->set_name("kube-api-access");
    vm->set_mountpath("/var/run/secrets/kubernetes.io/serviceaccount");
    vm->set_readonly(true);
    auto* probe = c->mutable_readinessprobe();
    probe->mutable_handler()->mutable_httpget()->set_path("/healthz");
    probe->mutable_handler()->mutable_httpget()->mutable_port()->set_type(1);
    probe->mutable_handler()->mutable_httpget()->mutable_port()->set_strval("http");
    probe->set_periodseconds(10);
    c->set_terminationmessagepath("/dev/termination-log");
    c->set_imagepullpolicy("IfNotPresent");
  }
  auto* status = pod.mutable_status();
  status->set_phase("Running");
  status->set_hostip("10.0.17.4");
  status->set_podip(absl::StrCat("192.168.", (i / 250) % 250, ".", i % 250));
  status->add_podips()->set_ip(status->podip());
  status->mutable_starttime()->set_seconds(1760000001);
  status->set_qosclass("Burstable");
  for (const char* type : {"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                           "PodScheduled"}) {
    auto* cond = status->add_conditions();
    cond->set_type(type);
    cond->set_status("True");
    cond->mutable_lasttransitiontime()->set_seconds(1760000005);
  }
  for (const auto& c : spec->containers()) {
    auto* cs = status->add_containerstatuses();
    cs->set_name(c.name());
    cs->set_image(c.image());
    cs->set_imageid("registry.example.com/shop/app@sha256:0123456789abcdef0123456789abcdef");
    cs->set_containerid("containerd://0123456789abcdef0123456789abcdef0123456789abcdef");
    cs->set_ready(true);
    cs->set_started(true);
    cs->mutable_state()->mutable_running()->mutable_startedat()->set_seconds(1760000004);
  }
  return pod;
}

}  // namespace kslice::bench
