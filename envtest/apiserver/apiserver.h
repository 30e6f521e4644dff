// kslice's embedded API server, independent of the HTTP transport: requests in,
// responses (or watch streams) out, with kube-apiserver's REST semantics over
// envtest/storage (see docs/envtest-apiserver.md for what is served and how).
//
//   absl::StatusOr<std::unique_ptr<APIServer>> server = APIServer::Create({});
//   Response r = (*server)->Handle({.method = "GET", .target = "/api/v1/namespaces"});
//
// The HTTP layer (http_server.h) reads requests off the wire, calls Handle on a
// worker thread, writes the response, and drives Response::stream for watches.
#ifndef KSLICE_ENVTEST_APISERVER_APISERVER_H_
#define KSLICE_ENVTEST_APISERVER_APISERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "envtest/apiserver/allocator.h"
#include "envtest/apiserver/watch_stream.h"
#include "api/meta/v1/meta.pb.h"
#include "envtest/storage/errors.h"
#include "envtest/storage/store.h"

namespace kslice::envtest::apiserver {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET"
  std::string target;  // path and query: "/api/v1/pods?limit=10"
  Headers headers{};
  std::string body{};
  // Case-insensitive lookup; "" when absent.
  std::string Header(absl::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers{};
  std::string body{};
  // Watches: after the headers, the body comes from this stream (chunked).
  std::shared_ptr<WatchStream> stream{};
};

enum class PatchKind { kJson, kMerge, kStrategic, kApply };

struct PatchRequest {
  PatchKind kind = PatchKind::kMerge;
  std::string body;
  bool force = false;
  std::string manager;
  std::string subresource;
};

struct TableRequest {
  const google::protobuf::Descriptor* item_type = nullptr;
  const std::vector<const google::protobuf::Message*>* objects = nullptr;
  const kslice::api::meta::v1::ListMeta* list_meta = nullptr;  // nullptr: one object
  std::string include_object;  // the query parameter
  bool v1beta1 = false;
  bool no_headers = false;  // watch events after the first
  bool yaml = false;
  bool pretty = false;
};

// The parts of request processing that live in other libraries (defaulting,
// validation, patching, field tracking, discovery, tables), plugged in by
// apiserver_factory.cc. Any of them may be empty (then that step is skipped, or the
// request type is refused).
struct Hooks {
  std::function<void(google::protobuf::Message*)> defaults;
  std::function<std::vector<storage::FieldError>(const google::protobuf::Message&)>
      validate_create;
  std::function<std::vector<storage::FieldError>(const google::protobuf::Message&,
                                                 const google::protobuf::Message&)>
      validate_update;
  std::function<std::vector<storage::FieldError>(const google::protobuf::Message&,
                                                 const google::protobuf::Message&)>
      validate_status_update;
  // Updates obj's managedFields for a non-apply write by `manager` (live = nullptr on
  // create).
  std::function<absl::Status(const google::protobuf::Message* live, google::protobuf::Message* obj,
                             const std::string& manager, absl::string_view subresource)>
      track_fields;
  // Applies a patch to `current` (nullptr: apply creating the object) and returns the
  // patched object of the same type.
  std::function<absl::StatusOr<std::unique_ptr<google::protobuf::Message>>(
      const storage::ResourceConfig& config, const google::protobuf::Message* current,
      const PatchRequest& patch, absl::string_view ns, absl::string_view name)>
      patch;
  // A Table for objects (kubectl get), encoded as JSON or YAML.
  std::function<absl::StatusOr<std::string>(const TableRequest&)> table;
  // Non-resource GET paths (discovery, OpenAPI); nullopt = not found.
  std::function<std::optional<Response>(const std::string& path, const Request& request)>
      non_resource;
};

struct ServerOptions {
  // Service ClusterIP range: one CIDR, or two of different IP families separated by a
  // comma for a dual-stack server ("10.96.0.0/12,fd00:10:96::/112"; the first is the
  // primary family, which single-stack services get by default). And the NodePort range.
  std::string service_cluster_ip_range = "10.96.0.0/12";
  int node_port_first = 30000;
  int node_port_last = 32767;
  // Bearer tokens accepted; empty = no authentication. /healthz, /livez, /readyz and
  // /version are always readable (as upstream's system:public-info-viewer allows).
  std::vector<std::string> tokens{};
  // Plug-ins; see Hooks.
  Hooks hooks{};
  // Storage settings (registry, clock, history, persistence, ...).
  storage::StoreOptions store{};
  // Background controllers a cluster would run: garbage collection through
  // ownerReferences, namespace deletion, and removal of gracefully deleted pods once
  // their grace period ends (what kubelet does; see docs).
  bool run_controllers = true;
  // Watches without timeoutSeconds end after a random time in [t, 2t), as upstream's
  // --min-request-timeout (1800 s).
  absl::Duration min_request_timeout = absl::Seconds(1800);
  // Bodies larger than this are refused with 413 (upstream: 3 MiB).
  size_t max_request_body_bytes = 3u << 20;
  // Creates default, kube-system, kube-public, kube-node-lease and the `kubernetes`
  // Service at startup (when missing).
  bool bootstrap = true;
  // The address in the `kubernetes` Service's EndpointSlice/Endpoints ("" = none).
  std::string advertise_address = "";
  int advertise_port = 0;
};

class Controllers;
class Query;

class APIServer {
 public:
  static absl::StatusOr<std::unique_ptr<APIServer>> Create(ServerOptions options);
  ~APIServer();
  APIServer(const APIServer&) = delete;
  APIServer& operator=(const APIServer&) = delete;

  // Thread-safe; may block (e.g. a read waiting for a resourceVersion).
  Response Handle(const Request& request);

  storage::Store& store() { return *store_; }
  const ServerOptions& options() const { return options_; }

 private:
  struct Call;
  explicit APIServer(ServerOptions options);
  absl::Status Init();
  absl::Status Bootstrap();

  absl::StatusOr<Response> Serve(Call& call);
  absl::StatusOr<Response> ServeNonResource(Call& call);
  absl::StatusOr<Response> Get(Call& call);
  absl::StatusOr<Response> List(Call& call);
  absl::StatusOr<Response> Watch(Call& call);
  absl::StatusOr<Response> CreateObject(Call& call);
  absl::StatusOr<Response> UpdateObject(Call& call);
  absl::StatusOr<Response> PatchObject(Call& call);
  absl::StatusOr<Response> DeleteObject(Call& call);
  absl::StatusOr<Response> DeleteCollection(Call& call);
  absl::StatusOr<Response> CreateBinding(Call& call);
  // deployments/scale, replicasets/scale: get, update, patch.
  absl::StatusOr<Response> ServeScale(Call& call);

  absl::StatusOr<Response> ObjectResponse(Call& call, int code,
                                          const google::protobuf::Message& obj);
  absl::StatusOr<Response> ListResponse(Call& call, const storage::ListResult& list);
  absl::StatusOr<std::string> TableBody(Call& call,
                                        const std::vector<const google::protobuf::Message*>& items,
                                        const kslice::api::meta::v1::ListMeta* list_meta);
  absl::StatusOr<storage::ListOptions> ParseListOptions(Call& call, bool watch);
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> DecodeBody(Call& call,
                                                                       Response* warnings);
  absl::Status CheckNamespace(Call& call, google::protobuf::Message* obj, bool creating);
  std::string ManagerFor(const Call& call, absl::string_view op) const;
  // The create half of the write pipeline, shared by POST and by PUT/apply that create:
  // strategy, pod IPs, defaults, validation, service allocation (recorded in `undo`),
  // field tracking.
  absl::Status PrepareNewObject(const storage::ResourceConfig& config,
                                google::protobuf::Message* obj, bool dry_run,
                                const std::string& manager, absl::string_view subresource,
                                bool track, std::vector<std::function<void()>>* undo);
  absl::StatusOr<kslice::api::meta::v1::DeleteOptions> ParseDeleteOptions(Call& call);

 public:
  // The store's clock.
  absl::Time Now() const;
  // Create with the full write pipeline (strategy, defaults, validation, allocation,
  // field tracking).
  absl::StatusOr<storage::Object> CreateWithStrategy(const storage::ResourceConfig& config,
                                                     std::unique_ptr<google::protobuf::Message> obj,
                                                     bool dry_run, const std::string& manager);
  // Read-modify-write with the full write pipeline; `build` gets the current object
  // (nullptr when missing and allow_create) and returns the desired one.
  absl::StatusOr<storage::UpdateResult> UpdateWithStrategy(
      const storage::ResourceConfig& config, absl::string_view ns, absl::string_view name,
      const std::function<absl::StatusOr<std::unique_ptr<google::protobuf::Message>>(
          const google::protobuf::Message* current)>& build,
      absl::string_view subresource, bool allow_create, bool dry_run, const std::string& manager,
      bool track = true);

 public:
  // The deletion algorithm (graceful deletion, finalizers, propagation), shared by
  // DELETE, deletecollection and the controllers. Returns the object after the
  // operation and whether it is gone.
  struct DeleteOutcome {
    storage::Object object;
    bool deleted = false;
  };
  absl::StatusOr<DeleteOutcome> DeleteWithOptions(const storage::ResourceConfig& config,
                                                  absl::string_view ns, absl::string_view name,
                                                  const kslice::api::meta::v1::DeleteOptions& opts,
                                                  bool dry_run);

  // Writes for controllers, with the same strategies as HTTP writes.
  absl::StatusOr<storage::UpdateResult> UpdateWith(
      const storage::ResourceConfig& config, absl::string_view ns, absl::string_view name,
      const std::function<absl::Status(google::protobuf::Message*)>& mutate,
      absl::string_view subresource = "");

 private:
  // Allocation of ClusterIPs / NodePorts for a service being created or updated
  // (old = nullptr on create). Releases what `old` held and `obj` no longer does only
  // after a successful write (see ReleaseServiceResources).
  absl::Status AllocateServiceResources(google::protobuf::Message* obj,
                                        const google::protobuf::Message* old, bool dry_run,
                                        std::vector<std::function<void()>>* undo);
  void ReleaseServiceResources(const google::protobuf::Message& svc,
                               const google::protobuf::Message* keep);
  // Services: spec.ipFamilyPolicy and spec.ipFamilies as kube-apiserver's service
  // registry settles them (alloc.go initIPFamilyFields) from the request, the stored
  // service (old, nullptr on create) and the server's service CIDRs, before validation:
  // families inferred from clusterIPs, policy RequireDualStack for two families, the
  // primary family by default, the second family added for PreferDualStack /
  // RequireDualStack on a dual-stack server. 422 for RequireDualStack on a single-stack
  // server and for a family the server has no CIDR for.
  absl::Status InitServiceIpFamilies(google::protobuf::Message* obj,
                                     const google::protobuf::Message* old);
  // The allocator of a family / of the CIDR holding `ip`; nullptr when none.
  ClusterIpAllocator* IpAllocatorFor(IpFamily family) const;
  ClusterIpAllocator* IpAllocatorHolding(absl::string_view ip) const;

  ServerOptions options_;
  std::unique_ptr<storage::Store> store_;
  // One per service CIDR, the primary family first.
  std::vector<std::unique_ptr<ClusterIpAllocator>> cluster_ips_;
  std::unique_ptr<NodePortAllocator> node_ports_;
  std::unique_ptr<Controllers> controllers_;
  Hooks& hooks_ = options_.hooks;
  // Watch events encoded once for all watchers (declared before store_'s watchers end:
  // streams may outlive a request but not the server).
  EventEncodingCache encodings_;
};

}  // namespace kslice::envtest::apiserver

#endif  // KSLICE_ENVTEST_APISERVER_APISERVER_H_
