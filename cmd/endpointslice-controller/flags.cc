#include "cmd/endpointslice-controller/flags.h"

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "cmd/internal/flags/flags.h"

namespace kslice::endpointslice::cmd {
namespace {

using ::kslice::cmd::flags::Bad;
using ::kslice::cmd::flags::BoolSetter;
using ::kslice::cmd::flags::DurationSetter;
using ::kslice::cmd::flags::Flag;
using ::kslice::cmd::flags::FloatSetter;
using ::kslice::cmd::flags::Int32Setter;
using ::kslice::cmd::flags::IntSetter;
using ::kslice::cmd::flags::ParseArgs;
using ::kslice::cmd::flags::StringSetter;

// Applies --controllers as kube-controller-manager reads it: "*" turns on every
// controller that is on by default (both of ours), "name" turns one on, "-name" off.
// An explicit entry wins over "*"; without "*" only the named controllers run.
absl::Status ParseControllers(const std::string& value, ControllerFlags* f) {
  auto canonical = [](absl::string_view name) -> std::optional<absl::string_view> {
    if (name == kEndpointSliceControllerName || name == "endpointslice") {
      return kEndpointSliceControllerName;
    }
    // The alias, and the spelling used by some docs ("endpointslicemirroring-controller").
    if (name == kMirroringControllerName || name == "endpointslicemirroring" ||
        name == "endpointslicemirroring-controller") {
      return kMirroringControllerName;
    }
    return std::nullopt;
  };
  bool star = false;
  std::optional<bool> slice, mirroring;
  for (absl::string_view item : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    if (item == "*") {
      star = true;
      continue;
    }
    const bool off = absl::ConsumePrefix(&item, "-");
    std::optional<absl::string_view> name = canonical(item);
    if (!name) {
      return Bad("controllers",
                 absl::StrCat("\"", item, "\" is not a known controller (known: ",
                              kEndpointSliceControllerName, ", ", kMirroringControllerName,
                              "; aliases endpointslice, endpointslicemirroring)"));
    }
    (*name == kEndpointSliceControllerName ? slice : mirroring) = !off;
  }
  f->run_endpointslice = slice.value_or(star);
  f->run_mirroring = mirroring.value_or(star);
  if (!f->run_endpointslice && !f->run_mirroring) {
    return Bad("controllers", absl::StrCat("\"", value, "\" enables no controller"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ControllerFlags> ParseControllerFlags(const std::vector<std::string>& args) {
  ControllerFlags f;
  ::kslice::cmd::flags::LeaderElectionFlags le;
  le.lease_name = f.lease_name;
  std::string secure_port, bind_address;
  std::vector<Flag> flags = {
      {{"h", "help"}, true, BoolSetter("help", &f.help)},
      {{"kubeconfig"}, false, StringSetter(&f.kubeconfig)},
      {{"master"}, false, StringSetter(&f.master)},
      {{"kube-api-qps"}, false, FloatSetter("kube-api-qps", &f.kube_api_qps)},
      {{"kube-api-burst"}, false, IntSetter("kube-api-burst", &f.kube_api_burst)},
      {{"concurrent-service-endpoint-syncs"}, false,
       IntSetter("concurrent-service-endpoint-syncs", &f.endpointslice.workers)},
      {{"max-endpoints-per-slice"}, false,
       Int32Setter("max-endpoints-per-slice", &f.endpointslice.max_endpoints_per_slice)},
      {{"endpointslice-updates-batch-period"}, false,
       DurationSetter("endpointslice-updates-batch-period",
                      &f.endpointslice.endpoint_updates_batch_period)},
      {{"mirroring-concurrent-service-endpoint-syncs", "concurrent-endpointslice-mirroring-syncs"},
       false, IntSetter("mirroring-concurrent-service-endpoint-syncs", &f.mirroring.workers)},
      {{"mirroring-max-endpoints-per-subset"}, false,
       Int32Setter("mirroring-max-endpoints-per-subset", &f.mirroring.max_endpoints_per_subset)},
      {{"mirroring-endpointslice-updates-batch-period"}, false,
       DurationSetter("mirroring-endpointslice-updates-batch-period",
                      &f.mirroring.updates_batch_period)},
      {{"controllers"}, false, [&f](const std::string& v) { return ParseControllers(v, &f); }},
      {{"health-bind-address"}, false, StringSetter(&f.health_bind_address)},
      {{"secure-port"}, false, StringSetter(&secure_port)},
      {{"bind-address"}, false, StringSetter(&bind_address)},
  };
  ::kslice::cmd::flags::AddLeaderElectionFlags(&le, &flags);
  if (absl::Status s = ParseArgs(args, flags); !s.ok()) return s;
  if (f.help) return f;
  f.leader_elect = le.leader_elect;
  f.lease_duration = le.lease_duration;
  f.renew_deadline = le.renew_deadline;
  f.retry_period = le.retry_period;
  f.lease_name = le.lease_name;
  f.lease_namespace = le.lease_namespace;

  if (le.lock != "leases") {
    return Bad("leader-elect-resource-lock",
               absl::StrCat("\"", le.lock, "\": only \"leases\" is supported"));
  }
  if (!secure_port.empty() && secure_port != "0") {
    return Bad("secure-port",
               "serving over HTTPS is not supported; /healthz, /readyz and /metrics are served "
               "over plain HTTP on --health-bind-address (use --secure-port=0 or drop the flag)");
  }
  if (!bind_address.empty()) {
    return Bad("bind-address",
               "kube-controller-manager's HTTPS serving is not supported; set the address of "
               "/healthz, /readyz and /metrics (plain HTTP) with --health-bind-address=HOST:PORT");
  }
  if (!(f.kube_api_qps > 0)) return Bad("kube-api-qps", "must be greater than 0");
  if (f.kube_api_burst < 1) return Bad("kube-api-burst", "must be at least 1");
  if (absl::Status s = ValidateOptions(f.endpointslice); !s.ok()) return s;
  if (absl::Status s = endpointslicemirroring::ValidateOptions(f.mirroring); !s.ok()) return s;
  if (f.leader_elect) {
    if (absl::Status s = ::kslice::cmd::flags::ValidateLeaderElection(le); !s.ok()) return s;
  }
  return f;
}

std::string ControllerUsage() {
  return R"(usage: endpointslice-controller [flags]
       endpointslice-controller reconcile -f FILE [-o yaml|json] [--max-endpoints-per-slice N] [--show-actions]

Runs kube-controller-manager's endpointslice-controller and endpointslice-mirroring-controller
against a cluster. `reconcile --help` describes the dry run.

Connection:
  --kubeconfig PATH                 kubeconfig (else $KUBECONFIG, ~/.kube/config, or in-cluster)
  --master URL                      API server address; overrides the kubeconfig's server
  --kube-api-qps FLOAT              client QPS (default 20)
  --kube-api-burst INT              client burst (default 30)

Controllers:
  --controllers LIST                "*", names and -names (default "*": both); names:
                                    endpointslice-controller (endpointslice),
                                    endpointslice-mirroring-controller (endpointslicemirroring)
  --concurrent-service-endpoint-syncs INT      workers (default 5, 1..50)
  --max-endpoints-per-slice INT                endpoints per slice (default 100, 1..1000)
  --endpointslice-updates-batch-period DUR     delay for pod-triggered syncs (default 0)
  --mirroring-concurrent-service-endpoint-syncs INT  mirroring workers (default 5, 1..50;
                                               alias --concurrent-endpointslice-mirroring-syncs)
  --mirroring-max-endpoints-per-subset INT     (default 1000, 1..1000)
  --mirroring-endpointslice-updates-batch-period DUR  (default 0)

Leader election (a coordination.k8s.io Lease):
  --leader-elect[=false]            (default true)
  --leader-elect-lease-duration DUR (default 15s)
  --leader-elect-renew-deadline DUR (default 10s)
  --leader-elect-retry-period DUR   (default 2s)
  --leader-elect-resource-name NAME (default endpointslice-controller)
  --leader-elect-resource-namespace NS (default kube-system)
  --leader-elect-resource-lock leases  (the only lock supported)

Serving and logging:
  --health-bind-address HOST:PORT   plain HTTP /healthz /livez /readyz /metrics (default :8081;
                                    "" turns it off). --secure-port=0 is accepted; HTTPS is not.
  -v, --v N                         log verbosity
  --vmodule SPEC                    per-file verbosity ("reconciler=4")
  --logging-format text|json        (default text)
  -h, --help                        this text

Durations use Go syntax: 0, 500ms, 1s, 1m30s. Exit status: 0 after SIGTERM/SIGINT,
1 on a runtime error (server unreachable, leadership lost), 2 on bad flags.
)";
}

absl::StatusOr<ReconcileFlags> ParseReconcileFlags(const std::vector<std::string>& args) {
  ReconcileFlags f;
  const std::vector<Flag> flags = {
      {{"h", "help"}, true, BoolSetter("help", &f.help)},
      {{"f", "filename"}, false, StringSetter(&f.file)},
      {{"o", "output"}, false, StringSetter(&f.output)},
      {{"max-endpoints-per-slice"}, false,
       Int32Setter("max-endpoints-per-slice", &f.max_endpoints_per_slice)},
      {{"show-actions"}, true, BoolSetter("show-actions", &f.show_actions)},
  };
  if (absl::Status s = ParseArgs(args, flags); !s.ok()) return s;
  if (f.help) return f;
  if (f.file.empty()) return absl::InvalidArgumentError("-f FILE is required (\"-f -\" reads stdin)");
  f.output = absl::AsciiStrToLower(f.output);
  if (f.output != "yaml" && f.output != "json") {
    return Bad("output", absl::StrCat("\"", f.output, "\": want yaml or json"));
  }
  EndpointSliceControllerOptions o;
  o.max_endpoints_per_slice = f.max_endpoints_per_slice;
  if (absl::Status s = ValidateOptions(o); !s.ok()) return s;
  return f;
}

std::string ReconcileUsage() {
  return R"(usage: endpointslice-controller reconcile -f FILE [-o yaml|json] [--max-endpoints-per-slice N] [--show-actions]

Dry run: computes the EndpointSlices the endpointslice-controller would write for the
Services, Pods, Nodes and existing EndpointSlices in FILE, without a server.

  -f, --filename FILE          a Kubernetes List (kind: List or ServiceList, PodList, ...),
                               or multi-document YAML / a stream of JSON objects; "-" is stdin.
                               Other kinds are ignored.
  -o, --output yaml|json       output format (default yaml)
  --max-endpoints-per-slice N  (default 100, 1..1000)
  --show-actions               print the create/update/delete plan on stderr

stdout: a v1 List of the EndpointSlices managed by endpointslice-controller.k8s.io after the
run, sorted by namespace, service and name; slices that would be created carry
metadata.generateName and no name, exactly as they would be sent. Unchanged and updated
slices come first within a service (by name), then creates in order.
stderr: the plan (--show-actions), events the controller would record, and per-service errors.
Exit status: 0; 1 when the input cannot be read or a service's reconcile failed (the List is
still printed); 2 on bad flags.
)";
}

}  // namespace kslice::endpointslice::cmd
