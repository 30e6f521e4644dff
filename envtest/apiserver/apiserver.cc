#include "envtest/apiserver/apiserver.h"

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/apps/v1/apps.pb.h"
#include "api/autoscaling/v1/autoscaling.pb.h"
#include "api/codec/canonical.h"
#include "api/codec/codec.h"
#include "api/codec/object.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "api/fields/selector.h"
#include "api/labels/meta_selector.h"
#include "api/labels/selector.h"
#include "api/meta/v1/meta.pb.h"
#include "api/scheme/scheme.h"
#include "client/watch/encoder.h"
#include "client/watch/event.h"
#include "envtest/apiserver/controllers.h"
#include "envtest/apiserver/negotiation.h"
#include "envtest/apiserver/request_info.h"
#include "envtest/apiserver/status.h"
#include "envtest/apiserver/strategy.h"
#include "envtest/storage/object.h"
#include "google/protobuf/util/message_differencer.h"

namespace kslice::envtest::apiserver {
namespace {

namespace meta = kslice::api::meta::v1;
namespace core = kslice::api::core::v1;
using google::protobuf::Message;
using storage::Object;
using storage::ResourceConfig;
using storage::ResourceKey;

Response TextResponse(int status, std::string content_type, std::string body) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

bool WantsPretty(const Request& req, const Query& query) {
  std::string p = query.Get("pretty");
  if (p == "true" || p == "1") return true;
  if (p == "false" || p == "0") return false;
  std::string ua = req.Header("User-Agent");
  return absl::StartsWith(ua, "curl") || absl::StartsWith(ua, "Wget");
}

absl::StatusOr<std::optional<int64_t>> IntParam(const Query& query, absl::string_view key) {
  std::optional<std::string> v = query.Find(key);
  if (!v || v->empty()) return std::optional<int64_t>();
  int64_t n = 0;
  if (!absl::SimpleAtoi(*v, &n)) {
    return storage::BadRequestError(
        absl::StrCat("invalid value for ", key, ": ", storage::GoQuote(*v)));
  }
  return std::optional<int64_t>(n);
}

absl::StatusOr<std::optional<bool>> BoolParam(const Query& query, absl::string_view key) {
  std::optional<std::string> v = query.Find(key);
  if (!v) return std::optional<bool>();
  std::string s = absl::AsciiStrToLower(*v);
  if (s == "true" || s == "1" || s == "t" || s.empty()) return std::optional<bool>(true);
  if (s == "false" || s == "0" || s == "f") return std::optional<bool>(false);
  return storage::BadRequestError(
      absl::StrCat("invalid value for ", key, ": ", storage::GoQuote(*v)));
}

}  // namespace

std::string Request::Header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

struct APIServer::Call {
  const Request& req;
  std::string path;
  Query query;
  RequestInfo info;
  const ResourceConfig* config = nullptr;
  Negotiated out;
  bool pretty = false;
  bool dry_run = false;
  std::string field_manager;

  explicit Call(const Request& r) : req(r) {}

  absl::StatusOr<std::string> EncodeObject(const Message& obj) const {
    codec::EncodeOptions eo;
    eo.json_indent = pretty && out.format == codec::Format::kJson ? 2 : 0;
    return codec::Encode(obj, out.format, eo);
  }
};

APIServer::APIServer(ServerOptions options) : options_(std::move(options)) {}

APIServer::~APIServer() {
  controllers_.reset();  // stops its threads and watches before the store goes
}

absl::StatusOr<std::unique_ptr<APIServer>> APIServer::Create(ServerOptions options) {
  std::unique_ptr<APIServer> server(new APIServer(std::move(options)));
  if (absl::Status s = server->Init(); !s.ok()) return s;
  return server;
}

absl::Status APIServer::Init() {
  absl::StatusOr<std::vector<std::unique_ptr<ClusterIpAllocator>>> ips =
      ParseServiceCidrs(options_.service_cluster_ip_range);
  if (!ips.ok()) return ips.status();
  cluster_ips_ = std::move(*ips);
  if (options_.node_port_first < 1 || options_.node_port_last > 65535 ||
      options_.node_port_first > options_.node_port_last) {
    return absl::InvalidArgumentError(absl::StrCat("invalid node port range ",
                                                   options_.node_port_first, "-",
                                                   options_.node_port_last));
  }
  node_ports_ = std::make_unique<NodePortAllocator>(options_.node_port_first,
                                                    options_.node_port_last);
  absl::StatusOr<std::unique_ptr<storage::Store>> store = storage::Store::Open(options_.store);
  if (!store.ok()) return store.status();
  store_ = std::move(*store);

  // Rebuild the allocators from what is stored (a --data-dir restart).
  absl::StatusOr<storage::ListResult> services = store_->List({"", "services"}, {});
  if (!services.ok()) return services.status();
  for (const Object& o : services->items) {
    const auto& svc = static_cast<const core::Service&>(*o);
    for (const std::string& ip : svc.spec().clusterips()) {
      if (ClusterIpAllocator* a = IpAllocatorHolding(ip)) (void)a->Allocate(ip);
    }
    for (const core::ServicePort& p : svc.spec().ports()) {
      if (p.nodeport() > 0) (void)node_ports_->Allocate(p.nodeport());
    }
    if (svc.spec().healthchecknodeport() > 0) {
      (void)node_ports_->Allocate(svc.spec().healthchecknodeport());
    }
  }
  if (options_.bootstrap) {
    if (absl::Status s = Bootstrap(); !s.ok()) return s;
  }
  if (options_.run_controllers) {
    controllers_ = std::make_unique<Controllers>(this);
    if (absl::Status s = controllers_->Start(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status APIServer::Bootstrap() {
  for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    core::Namespace ns;
    ns.mutable_metadata()->set_name(name);
    ns.mutable_metadata()->mutable_labels()->insert(
        {"kubernetes.io/metadata.name", std::string(name)});
    PrepareForCreate(&ns);
    absl::StatusOr<Object> r = store_->Create({"", "namespaces"}, ns);
    if (!r.ok() && r.status().code() != absl::StatusCode::kAlreadyExists) return r.status();
  }
  core::Service svc;
  svc.mutable_metadata()->set_name("kubernetes");
  svc.mutable_metadata()->set_namespace_("default");
  (*svc.mutable_metadata()->mutable_labels())["component"] = "apiserver";
  (*svc.mutable_metadata()->mutable_labels())["provider"] = "kubernetes";
  core::ServiceSpec* spec = svc.mutable_spec();
  spec->set_type("ClusterIP");
  ClusterIpAllocator& primary = *cluster_ips_.front();
  spec->set_clusterip(primary.FirstAddress());
  spec->add_clusterips(primary.FirstAddress());
  spec->set_sessionaffinity("None");
  spec->add_ipfamilies(IpFamilyName(primary.family()));
  spec->set_ipfamilypolicy("SingleStack");
  spec->set_internaltrafficpolicy("Cluster");
  core::ServicePort* port = spec->add_ports();
  port->set_name("https");
  port->set_protocol("TCP");
  port->set_port(443);
  port->mutable_targetport()->set_type(0);
  port->mutable_targetport()->set_intval(options_.advertise_port > 0 ? options_.advertise_port
                                                                     : 6443);
  if (absl::Status s = codec::Canonicalize(&svc); !s.ok()) return s;
  absl::StatusOr<storage::Object> existing =
      store_->Get({"", "services"}, "default", "kubernetes");
  if (existing.ok()) return absl::OkStatus();
  if (absl::Status s = primary.Allocate(spec->clusterip()); !s.ok()) {
    // Already taken by something else restored from disk: leave it.
    return absl::OkStatus();
  }
  absl::StatusOr<Object> r = store_->Create({"", "services"}, svc);
  if (!r.ok() && r.status().code() != absl::StatusCode::kAlreadyExists) return r.status();
  return absl::OkStatus();
}

Response APIServer::Handle(const Request& request) {
  Call call(request);
  absl::StatusOr<Response> r = Serve(call);
  if (r.ok()) return *std::move(r);
  // Errors are negotiated like objects; if the Accept header is what failed, JSON.
  meta::Status st = storage::ToApiStatus(r.status());
  if (st.code() == 0) st.set_code(HttpCodeOf(r.status()));
  Response resp;
  resp.status = st.code();
  codec::Format format = codec::Format::kJson;
  std::string content_type = "application/json";
  if (absl::StatusOr<Negotiated> n =
          NegotiateResponse(request.Header("Accept"), /*allow_transform=*/false, false);
      n.ok() && n->format != codec::Format::kYaml) {
    format = n->format;
    content_type = n->content_type;
  }
  codec::EncodeOptions eo;
  eo.json_indent = call.pretty ? 2 : 0;
  absl::StatusOr<std::string> body = codec::Encode(st, format, eo);
  if (!body.ok()) {
    format = codec::Format::kJson;
    content_type = "application/json";
    body = codec::Encode(st, format);
  }
  resp.headers.emplace_back("Content-Type", content_type);
  if (st.details().retryafterseconds() > 0) {
    resp.headers.emplace_back("Retry-After", absl::StrCat(st.details().retryafterseconds()));
  }
  resp.body = body.ok() ? *std::move(body) : std::string(st.message());
  return resp;
}

absl::StatusOr<Response> APIServer::Serve(Call& call) {
  const Request& req = call.req;
  absl::string_view target = req.target;
  size_t q = target.find('?');
  call.path = std::string(target.substr(0, q));
  absl::StatusOr<Query> query =
      Query::Parse(q == absl::string_view::npos ? absl::string_view() : target.substr(q + 1));
  if (!query.ok()) return storage::BadRequestError(query.status().message());
  call.query = *std::move(query);
  call.pretty = WantsPretty(req, call.query);

  // Health and version are public.
  if (call.path == "/healthz" || call.path == "/livez" || call.path == "/readyz") {
    return TextResponse(200, "text/plain; charset=utf-8", "ok");
  }
  if (call.path == "/version" && req.method == "GET" && hooks_.non_resource) {
    if (std::optional<Response> r = hooks_.non_resource(call.path, req)) return *std::move(r);
  }
  if (!options_.tokens.empty()) {
    std::string auth = req.Header("Authorization");
    bool ok = false;
    if (absl::StartsWithIgnoreCase(auth, "Bearer ")) {
      std::string token(absl::StripAsciiWhitespace(absl::string_view(auth).substr(7)));
      ok = std::find(options_.tokens.begin(), options_.tokens.end(), token) !=
           options_.tokens.end();
    }
    if (!ok) return UnauthorizedError();
  }
  if (req.body.size() > options_.max_request_body_bytes) {
    return RequestEntityTooLargeError(options_.max_request_body_bytes);
  }

  absl::StatusOr<RequestInfo> info = ParseRequestInfo(req.method, call.path, call.query);
  if (!info.ok()) return storage::BadRequestError(info.status().message());
  call.info = *std::move(info);
  if (!call.info.resource_request) return ServeNonResource(call);

  call.config = store_->registry().Find({call.info.group, call.info.resource});
  if (call.config == nullptr ||
      call.config->api_version !=
          (call.info.group.empty() ? call.info.version
                                   : absl::StrCat(call.info.group, "/", call.info.version))) {
    return NotFoundPathError();
  }
  if (!call.config->namespaced && !call.info.ns.empty() && call.info.resource != "namespaces") {
    return NotFoundPathError();
  }
  const std::string& sub = call.info.subresource;
  if (!sub.empty() && !(sub == "status" && HasStatusSubresource(*call.config)) &&
      !(sub == "scale" && HasScaleSubresource(*call.config)) &&
      !(sub == "binding" && call.info.resource == "pods") &&
      !(sub == "finalize" && call.info.resource == "namespaces")) {
    return NotFoundPathError();
  }

  std::optional<std::string> dry = call.query.Find("dryRun");
  if (dry) {
    if (*dry != "All") {
      return storage::InvalidError("", "", "",
                                   {storage::FieldError::NotSupported("dryRun", *dry, {"All"})});
    }
    call.dry_run = true;
  }
  call.field_manager = call.query.Get("fieldManager");

  const std::string& verb = call.info.verb;
  // Scale has no table printer and no partial form here: plain objects only.
  bool list_like = (verb == "list" || verb == "watch" || verb == "get") && sub != "scale";
  absl::StatusOr<Negotiated> out =
      NegotiateResponse(req.Header("Accept"), /*allow_transform=*/list_like, verb == "watch");
  if (!out.ok()) return out.status();
  call.out = *out;
  call.pretty = call.pretty || out->pretty;

  if (sub == "scale") {
    if (verb == "get" || verb == "update" || verb == "patch") return ServeScale(call);
    return MethodNotAllowedError();
  }
  if (verb == "get") return Get(call);
  if (verb == "list") return List(call);
  if (verb == "watch") return Watch(call);
  if (verb == "create") {
    if (sub == "binding") return CreateBinding(call);
    if (!call.info.name.empty()) return MethodNotAllowedError();
    return CreateObject(call);
  }
  if (verb == "update") {
    if (call.info.name.empty()) return MethodNotAllowedError();
    return UpdateObject(call);
  }
  if (verb == "patch") {
    if (call.info.name.empty()) return MethodNotAllowedError();
    return PatchObject(call);
  }
  if (verb == "delete") {
    if (!sub.empty()) return MethodNotAllowedError();
    return DeleteObject(call);
  }
  if (verb == "deletecollection") return DeleteCollection(call);
  return MethodNotAllowedError();
}

absl::StatusOr<Response> APIServer::ServeNonResource(Call& call) {
  if (call.req.method != "GET") return NotFoundPathError();
  if (hooks_.non_resource) {
    std::optional<Response> r = hooks_.non_resource(call.path, call.req);
    if (r) return *std::move(r);
  }
  return NotFoundPathError();
}


// ---------------------------------------------------------------------------
// Responses

namespace {

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// A length-delimited protobuf field.
void PutBytesField(std::string* out, int field, absl::string_view bytes) {
  PutVarint(out, (static_cast<uint64_t>(field) << 3) | 2);
  PutVarint(out, bytes.size());
  out->append(bytes.data(), bytes.size());
}

// A list body written item by item from the stored objects, without building (and
// deep-copying into) a List message: what upstream does since 1.33 (KEP-5116). Stored
// objects are canonical, so items are serialized as they are (protobuf: without the
// empty value fields Go's encoder would add — the same object on decode).
absl::StatusOr<std::string> StreamList(const ResourceConfig& config, codec::Format format,
                                       const meta::ListMeta& list_meta,
                                       const std::vector<Object>& items) {
  const std::string list_kind = config.kind + "List";
  std::string out;
  if (format == codec::Format::kProtobuf) {
    meta::ListMeta lm = list_meta;
    codec::FillWireDefaults(&lm);
    std::string raw;
    PutBytesField(&raw, 1, lm.SerializeAsString());
    std::string item;
    for (const Object& o : items) {
      item.clear();
      if (!o->SerializeToString(&item)) return InternalServerError("cannot encode an item");
      PutBytesField(&raw, 2, item);
    }
    std::string type_meta;
    PutBytesField(&type_meta, 1, config.api_version);
    PutBytesField(&type_meta, 2, list_kind);
    out.reserve(raw.size() + 64);
    out.append(codec::kProtobufMagic.data(), codec::kProtobufMagic.size());
    PutBytesField(&out, 1, type_meta);
    PutBytesField(&out, 2, raw);
    PutBytesField(&out, 3, "");
    PutBytesField(&out, 4, "");
    return out;
  }
  absl::StatusOr<codec::Node> meta_node = codec::MessageToNode(list_meta);
  if (!meta_node.ok()) return meta_node.status();
  absl::StatusOr<std::string> meta_json = codec::WriteJson(*meta_node);
  if (!meta_json.ok()) return meta_json.status();
  absl::StrAppend(&out, R"({"kind":")", list_kind, R"(","apiVersion":")", config.api_version,
                  R"(","metadata":)", *meta_json, R"(,"items":[)");
  bool first = true;
  for (const Object& o : items) {
    absl::StatusOr<codec::Node> n = codec::MessageToNode(*o);
    if (!n.ok()) return n.status();
    absl::StatusOr<std::string> text = codec::WriteJson(*n);
    if (!text.ok()) return text.status();
    if (!first) out.push_back(',');
    first = false;
    out.append(*text);
  }
  out.append("]}");
  return out;
}

const Message* ListPrototype(const ResourceConfig& config) {
  return api::Scheme::Builtin().Prototype(config.api_version, config.kind + "List");
}

// The metadata of an object as a PartialObjectMetadata message.
void ToPartial(const Message& obj, meta::PartialObjectMetadata* out) {
  *out->mutable_metadata() = storage::MetaOf(obj);
}

}  // namespace

absl::StatusOr<Response> APIServer::ObjectResponse(Call& call, int code, const Message& obj) {
  Response r;
  r.status = code;
  r.headers.emplace_back("Content-Type", call.out.content_type);
  absl::StatusOr<std::string> body;
  if (call.out.transform == Transform::kPartialObjectMetadata) {
    meta::PartialObjectMetadata partial;
    ToPartial(obj, &partial);
    body = call.EncodeObject(partial);
  } else if (call.out.transform == Transform::kTable) {
    std::vector<const Message*> items = {&obj};
    body = TableBody(call, items, nullptr);
  } else {
    body = call.EncodeObject(obj);
  }
  if (!body.ok()) return InternalServerError(body.status().message());
  r.body = *std::move(body);
  return r;
}

absl::StatusOr<Response> APIServer::ListResponse(Call& call, const storage::ListResult& list) {
  meta::ListMeta lm;
  lm.set_resourceversion(absl::StrCat(list.resource_version));
  if (!list.continue_token.empty()) lm.set_continue_(list.continue_token);
  if (list.remaining_item_count) lm.set_remainingitemcount(*list.remaining_item_count);
  Response r;
  r.headers.emplace_back("Content-Type", call.out.content_type);
  absl::StatusOr<std::string> body;
  if (call.out.transform == Transform::kTable) {
    std::vector<const Message*> items;
    items.reserve(list.items.size());
    for (const Object& o : list.items) items.push_back(o.get());
    body = TableBody(call, items, &lm);
  } else if (call.out.transform == Transform::kPartialObjectMetadata) {
    meta::PartialObjectMetadataList out;
    *out.mutable_metadata() = lm;
    for (const Object& o : list.items) ToPartial(*o, out.add_items());
    body = call.EncodeObject(out);
  } else if (call.out.format != codec::Format::kYaml && !call.pretty) {
    body = StreamList(*call.config, call.out.format, lm, list.items);
  } else {
    const Message* proto = ListPrototype(*call.config);
    if (proto == nullptr) return InternalServerError("no list type for " + call.config->kind);
    std::unique_ptr<Message> out(proto->New());
    const auto* d = out->GetDescriptor();
    const auto* refl = out->GetReflection();
    const auto* meta_f = d->FindFieldByName("metadata");
    const auto* items_f = d->FindFieldByName("items");
    if (meta_f == nullptr || items_f == nullptr) return InternalServerError("bad list type");
    refl->MutableMessage(out.get(), meta_f)->CopyFrom(lm);
    for (const Object& o : list.items) refl->AddMessage(out.get(), items_f)->CopyFrom(*o);
    body = call.EncodeObject(*out);
  }
  if (!body.ok()) return InternalServerError(body.status().message());
  r.body = *std::move(body);
  return r;
}

absl::StatusOr<std::string> APIServer::TableBody(Call& call,
                                                 const std::vector<const Message*>& items,
                                                 const meta::ListMeta* list_meta) {
  if (!hooks_.table) return NotAcceptableError("Table output is not available");
  TableRequest t;
  t.item_type = call.config->prototype->GetDescriptor();
  t.objects = &items;
  t.list_meta = list_meta;
  t.include_object = call.query.Get("includeObject");
  t.v1beta1 = call.out.transform_version == "v1beta1";
  t.yaml = call.out.format == codec::Format::kYaml;
  t.pretty = call.pretty;
  return hooks_.table(t);
}

// ---------------------------------------------------------------------------
// Reads

absl::StatusOr<Response> APIServer::Get(Call& call) {
  storage::GetOptions opts;
  opts.resource_version = call.query.Get("resourceVersion");
  absl::StatusOr<Object> obj =
      store_->Get(call.config->key, call.info.ns, call.info.name, opts);
  if (!obj.ok()) return obj.status();
  return ObjectResponse(call, 200, **obj);
}

absl::StatusOr<storage::ListOptions> APIServer::ParseListOptions(Call& call, bool watch) {
  storage::ListOptions o;
  o.ns = call.info.ns;
  const Query& q = call.query;
  if (std::string ls = q.Get("labelSelector"); !ls.empty()) {
    absl::StatusOr<labels::Selector> sel = labels::Parse(ls);
    if (!sel.ok()) {
      return storage::BadRequestError(
          absl::StrCat("unable to parse requirement: ", sel.status().message()));
    }
    o.label_selector = *std::move(sel);
  }
  std::string fs = q.Get("fieldSelector");
  if (watch && !call.info.name.empty()) {
    // A watch of one object is a watch of its collection filtered by name.
    fs = fs.empty() ? "metadata.name=" + call.info.name
                    : absl::StrCat(fs, ",metadata.name=", call.info.name);
  }
  if (!fs.empty()) {
    absl::StatusOr<fields::Selector> sel = fields::Parse(fs);
    if (!sel.ok()) {
      return storage::BadRequestError(
          absl::StrCat("invalid field selector: ", sel.status().message()));
    }
    o.field_selector = *std::move(sel);
  }
  o.resource_version = q.Get("resourceVersion");
  absl::StatusOr<storage::ResourceVersionMatch> m =
      storage::ParseResourceVersionMatch(q.Get("resourceVersionMatch"), watch);
  if (!m.ok()) return m.status();
  o.resource_version_match = *m;
  absl::StatusOr<std::optional<int64_t>> limit = IntParam(q, "limit");
  if (!limit.ok()) return limit.status();
  if (*limit && **limit > 0) o.limit = **limit;
  o.continue_token = q.Get("continue");
  absl::StatusOr<std::optional<bool>> sie = BoolParam(q, "sendInitialEvents");
  if (!sie.ok()) return sie.status();
  o.send_initial_events = *sie;
  absl::StatusOr<std::optional<bool>> bm = BoolParam(q, "allowWatchBookmarks");
  if (!bm.ok()) return bm.status();
  o.allow_watch_bookmarks = bm->value_or(false);
  return o;
}

absl::StatusOr<Response> APIServer::List(Call& call) {
  absl::StatusOr<storage::ListOptions> o = ParseListOptions(call, false);
  if (!o.ok()) return o.status();
  absl::StatusOr<storage::ListResult> list = store_->List(call.config->key, *o);
  if (!list.ok()) return list.status();
  return ListResponse(call, *list);
}

absl::StatusOr<Response> APIServer::Watch(Call& call) {
  absl::StatusOr<storage::ListOptions> o = ParseListOptions(call, true);
  if (!o.ok()) return o.status();
  absl::StatusOr<std::optional<int64_t>> timeout = IntParam(call.query, "timeoutSeconds");
  if (!timeout.ok()) return timeout.status();
  absl::Duration d;
  if (*timeout && **timeout > 0) {
    d = absl::Seconds(**timeout);
  } else {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    double f = std::uniform_real_distribution<double>(1.0, 2.0)(rng);
    d = options_.min_request_timeout * f;
  }
  absl::StatusOr<std::unique_ptr<storage::Watcher>> w = store_->Watch(call.config->key, *o);
  if (!w.ok()) return w.status();

  const Negotiated out = call.out;
  auto table_printer = hooks_.table;
  const std::string include_object = call.query.Get("includeObject");
  const google::protobuf::Descriptor* item_type = call.config->prototype->GetDescriptor();
  auto sent_headers = std::make_shared<bool>(false);
  EventEncodingCache* encodings = &encodings_;
  WatchStream::Encoder encoder =
      [out, table_printer, include_object, item_type, sent_headers,
       encodings](const storage::WatchEvent& e) -> absl::StatusOr<std::string> {
    const client::watch::EventType type = e.type;  // one enum for store and wire
    const Message* obj = e.object.get();
    meta::PartialObjectMetadata partial;
    if (out.transform == Transform::kPartialObjectMetadata &&
        e.type != storage::EventType::kError) {
      ToPartial(*obj, &partial);
      obj = &partial;
    }
    if (out.transform == Transform::kTable && e.type != storage::EventType::kError &&
        table_printer) {
      std::vector<const Message*> items;
      meta::ListMeta lm;
      TableRequest t;
      t.item_type = item_type;
      t.objects = &items;
      t.include_object = include_object;
      t.v1beta1 = out.transform_version == "v1beta1";
      if (e.type == storage::EventType::kBookmark) {
        // A bookmark's table has no rows, only the resourceVersion.
        lm.set_resourceversion(absl::StrCat(e.resource_version));
        t.list_meta = &lm;
        t.no_headers = true;
      } else {
        items.push_back(obj);
        t.no_headers = *sent_headers;
        *sent_headers = true;
      }
      absl::StatusOr<std::string> table = table_printer(t);
      if (!table.ok()) return table.status();
      return client::watch::EncodeJsonEventRaw(type, *table);
    }
    auto encode = [&]() -> absl::StatusOr<std::string> {
      if (out.format == codec::Format::kProtobuf) {
        return client::watch::EncodeProtobufFrame(type, *obj);
      }
      return client::watch::EncodeJsonEvent(type, *obj);
    };
    if (out.transform != Transform::kNone || e.type == storage::EventType::kBookmark ||
        e.type == storage::EventType::kError) {
      return encode();
    }
    // The same event goes to every watcher: encode it once per format.
    absl::StatusOr<std::shared_ptr<const std::string>> bytes =
        encodings->Get(e, static_cast<int>(out.format), encode);
    if (!bytes.ok()) return bytes.status();
    return **bytes;
  };
  Response r;
  r.status = 200;
  r.headers.emplace_back("Content-Type", out.content_type);
  r.stream = std::make_shared<WatchStream>(*std::move(w), std::move(encoder), absl::Now() + d);
  return r;
}

// ---------------------------------------------------------------------------
// Writes

absl::StatusOr<std::unique_ptr<Message>> APIServer::DecodeBody(Call& call, Response* warnings) {
  absl::StatusOr<codec::Format> format = NegotiateRequest(call.req.Header("Content-Type"));
  if (!format.ok()) return format.status();
  std::unique_ptr<Message> obj(call.config->prototype->New());
  std::vector<std::string> unknown;
  codec::DecodeOptions dopts;
  dopts.unknown_fields = &unknown;
  if (absl::Status s = codec::DecodeInto(call.req.body, *format, obj.get(), dopts); !s.ok()) {
    return storage::BadRequestError(absl::StrCat("the body of the request could not be decoded: ",
                                                 s.message()));
  }
  std::string validation = call.query.Get("fieldValidation");
  if (!validation.empty() && validation != "Ignore" && validation != "Warn" &&
      validation != "Strict") {
    return storage::BadRequestError(absl::StrCat(
        "fieldValidation parameter unsupported: ", validation,
        ". Supported values: Ignore, Warn, Strict"));
  }
  if (!unknown.empty() && validation != "Ignore") {
    if (validation == "Strict") {
      std::vector<std::string> msgs;
      for (const std::string& f : unknown) {
        msgs.push_back(absl::StrCat("unknown field ", storage::GoQuote(f)));
      }
      return storage::BadRequestError(
          absl::StrCat("strict decoding error: ", absl::StrJoin(msgs, ", ")));
    }
    if (warnings != nullptr) {
      for (const std::string& f : unknown) {
        warnings->headers.emplace_back(
            "Warning", absl::StrCat("299 - ", storage::GoQuote(absl::StrCat("unknown field ",
                                                                           storage::GoQuote(f)))));
      }
    }
  }
  return obj;
}

absl::Status APIServer::CheckNamespace(Call& call, Message* obj, bool creating) {
  auto* m = storage::MutableMetaOf(obj);
  if (call.config->namespaced) {
    if (call.info.ns.empty()) return MethodNotAllowedError();
    if (m->namespace_().empty()) {
      m->set_namespace_(call.info.ns);
    } else if (m->namespace_() != call.info.ns) {
      return storage::BadRequestError(
          "the namespace of the provided object does not match the namespace sent on the request");
    }
    if (creating) {
      absl::StatusOr<Object> ns = store_->Get({"", "namespaces"}, "", call.info.ns);
      if (!ns.ok()) {
        if (ns.status().code() == absl::StatusCode::kNotFound) {
          return storage::NotFoundError({"", "namespaces"}, call.info.ns);
        }
        return ns.status();
      }
      if (storage::MetaOf(**ns).has_deletiontimestamp()) {
        return ForbiddenError(
            absl::StrCat(call.config->key.String(), " ", storage::GoQuote(m->name()),
                         " is forbidden: unable to create new content in namespace ",
                         call.info.ns, " because it is being terminated"),
            call.config->key, m->name());
      }
    }
  } else {
    m->clear_namespace_();
  }
  return absl::OkStatus();
}

absl::StatusOr<Response> APIServer::CreateObject(Call& call) {
  Response warnings;
  absl::StatusOr<std::unique_ptr<Message>> obj = DecodeBody(call, &warnings);
  if (!obj.ok()) return obj.status();
  Message* o = obj->get();
  if (absl::Status s = CheckNamespace(call, o, true); !s.ok()) return s;
  absl::StatusOr<Object> created = CreateWithStrategy(*call.config, std::move(*obj), call.dry_run,
                                                      ManagerFor(call, "create"));
  if (!created.ok()) return created.status();
  absl::StatusOr<Response> r = ObjectResponse(call, 201, **created);
  if (r.ok()) {
    for (auto& h : warnings.headers) r->headers.push_back(h);
  }
  return r;
}

std::string APIServer::ManagerFor(const Call& call, absl::string_view /*op*/) const {
  if (!call.field_manager.empty()) return call.field_manager;
  // Upstream: the User-Agent up to the first '/'.
  std::string ua = call.req.Header("User-Agent");
  size_t slash = ua.find('/');
  if (slash != std::string::npos) ua.resize(slash);
  if (ua.size() > 128) ua.resize(128);
  return ua;
}

absl::Status APIServer::PrepareNewObject(const ResourceConfig& config, Message* obj, bool dry_run,
                                         const std::string& manager,
                                         absl::string_view subresource, bool track,
                                         std::vector<std::function<void()>>* undo) {
  PrepareForCreate(obj);
  NormalizePodIps(obj);
  if (hooks_.defaults) hooks_.defaults(obj);
  if (absl::Status s = InitServiceIpFamilies(obj, nullptr); !s.ok()) return s;
  if (hooks_.validate_create) {
    // The store picks a generated name; validate with a stand-in of the same shape.
    const Message* subject = obj;
    std::unique_ptr<Message> named;
    const auto& m = storage::MetaOf(*obj);
    if (m.name().empty() && !m.generatename().empty()) {
      named = storage::CopyObject(*obj);
      storage::MutableMetaOf(named.get())
          ->set_name(absl::StrCat(m.generatename().substr(0, 58), "bcdfg"));
      subject = named.get();
    }
    std::vector<storage::FieldError> errs = hooks_.validate_create(*subject);
    if (!errs.empty()) {
      return storage::InvalidError(config.key.group, config.kind,
                                   m.name().empty() ? m.generatename() : m.name(), errs);
    }
  }
  if (absl::Status s = AllocateServiceResources(obj, nullptr, dry_run, undo); !s.ok()) return s;
  if (hooks_.track_fields && track) {
    if (absl::Status s = hooks_.track_fields(nullptr, obj, manager, subresource); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Object> APIServer::CreateWithStrategy(const ResourceConfig& config,
                                                     std::unique_ptr<Message> obj, bool dry_run,
                                                     const std::string& manager) {
  std::vector<std::function<void()>> undo;
  if (absl::Status s = PrepareNewObject(config, obj.get(), dry_run, manager, "", true, &undo);
      !s.ok()) {
    for (auto& u : undo) u();
    return s;
  }
  if (absl::Status s = codec::Canonicalize(obj.get()); !s.ok()) {
    for (auto& u : undo) u();
    return InternalServerError(s.message());
  }
  storage::CreateOptions co;
  co.dry_run = dry_run;
  co.assume_canonical = true;
  absl::StatusOr<Object> created = store_->Create(config.key, std::move(obj), co);
  if (!created.ok() || dry_run) {
    for (auto& u : undo) u();
  }
  return created;
}

absl::StatusOr<storage::UpdateResult> APIServer::UpdateWithStrategy(
    const ResourceConfig& config, absl::string_view ns, absl::string_view name,
    const std::function<absl::StatusOr<std::unique_ptr<Message>>(const Message* current)>& build,
    absl::string_view subresource, bool allow_create, bool dry_run, const std::string& manager,
    bool track) {
  std::vector<std::function<void()>> undo;
  Object before;
  storage::GuaranteedUpdateOptions go;
  go.ignore_not_found = allow_create;
  go.dry_run = dry_run;
  go.assume_canonical = true;
  go.keep_generation = subresource == "status";
  absl::StatusOr<storage::UpdateResult> r = store_->GuaranteedUpdate(
      config.key, ns, name,
      [&](const Message* current) -> absl::StatusOr<std::unique_ptr<Message>> {
        for (auto& u : undo) u();
        undo.clear();
        absl::StatusOr<std::unique_ptr<Message>> next = build(current);
        if (!next.ok()) return next.status();
        Message* o = next->get();
        if (current == nullptr) {
          if (!allow_create) return storage::NotFoundError(config.key, name);
          if (absl::Status s =
                  PrepareNewObject(config, o, dry_run, manager, subresource, track, &undo);
              !s.ok()) {
            return s;
          }
        } else {
          PrepareForUpdate(o, *current, subresource);
          PatchAllocatedValues(o, *current);
          NormalizePodIps(o);
          if (hooks_.defaults) hooks_.defaults(o);
          if (absl::Status s = InitServiceIpFamilies(o, current); !s.ok()) return s;
          const auto& old_meta = storage::MetaOf(*current);
          const auto& new_meta = storage::MetaOf(*o);
          // Removing the last finalizer of an object being deleted deletes it.
          if (old_meta.has_deletiontimestamp() && new_meta.finalizers_size() == 0 &&
              old_meta.has_deletiongraceperiodseconds() &&
              old_meta.deletiongraceperiodseconds() == 0) {
            return std::unique_ptr<Message>();
          }
          if (hooks_.validate_update) {
            std::vector<storage::FieldError> errs =
                subresource == "status" && hooks_.validate_status_update
                    ? hooks_.validate_status_update(*o, *current)
                    : hooks_.validate_update(*o, *current);
            if (!errs.empty()) {
              return storage::InvalidError(config.key.group, config.kind, name, errs);
            }
          }
          if (absl::Status s = AllocateServiceResources(o, current, dry_run, &undo); !s.ok()) {
            return s;
          }
          if (hooks_.track_fields && track) {
            if (absl::Status s = hooks_.track_fields(current, o, manager, subresource); !s.ok()) {
              return s;
            }
          }
        }
        if (absl::Status s = codec::Canonicalize(o); !s.ok()) {
          return InternalServerError(s.message());
        }
        before = nullptr;
        if (current != nullptr) before = storage::Object(storage::CopyObject(*current));
        return next;
      },
      go);
  if (!r.ok() || dry_run) {
    for (auto& u : undo) u();
    return r;
  }
  // What the old service held and the new one does not is free now.
  if (before != nullptr && config.key.group.empty() && config.key.resource == "services") {
    ReleaseServiceResources(*before, r->deleted ? nullptr : r->object.get());
  }
  return r;
}

absl::StatusOr<Response> APIServer::UpdateObject(Call& call) {
  Response warnings;
  absl::StatusOr<std::unique_ptr<Message>> body = DecodeBody(call, &warnings);
  if (!body.ok()) return body.status();
  std::shared_ptr<Message> obj(std::move(*body));
  if (absl::Status s = CheckNamespace(call, obj.get(), false); !s.ok()) return s;
  const auto& m = storage::MetaOf(*obj);
  if (m.name() != call.info.name) {
    return storage::BadRequestError(absl::StrCat("the name of the object (", m.name(),
                                                 ") does not match the name on the URL (",
                                                 call.info.name, ")"));
  }
  const ResourceConfig& config = *call.config;
  std::string subresource = call.info.subresource;
  bool allow_create = subresource.empty() && AllowCreateOnUpdate(config);
  if (allow_create && call.config->namespaced) {
    if (absl::Status s = CheckNamespace(call, obj.get(), true); !s.ok()) return s;
  }
  absl::StatusOr<storage::UpdateResult> r = UpdateWithStrategy(
      config, call.info.ns, call.info.name,
      [&](const Message* current) -> absl::StatusOr<std::unique_ptr<Message>> {
        std::unique_ptr<Message> next(obj->New());
        next->CopyFrom(*obj);
        const auto& nm = storage::MetaOf(*next);
        if (current != nullptr) {
          const auto& cm = storage::MetaOf(*current);
          if (!nm.resourceversion().empty() && nm.resourceversion() != cm.resourceversion()) {
            return storage::ConflictError(config.key, call.info.name);
          }
          if (nm.resourceversion().empty()) {
            if (!config.allow_unconditional_update) {
              return storage::InvalidError(
                  config.key.group, config.kind, call.info.name,
                  {storage::FieldError::Invalid("metadata.resourceVersion", "0",
                                                "must be specified for an update")});
            }
            // Unconditional: the update applies to the current version.
            storage::MutableMetaOf(next.get())->set_resourceversion(cm.resourceversion());
          }
          if (!nm.uid().empty() && nm.uid() != cm.uid()) {
            return storage::ConflictError(
                config.key, call.info.name,
                absl::StrCat("Precondition failed: UID in precondition: ", nm.uid(),
                             ", UID in object meta: ", cm.uid()));
          }
        } else {
          storage::MutableMetaOf(next.get())->clear_resourceversion();
        }
        return next;
      },
      subresource, allow_create, call.dry_run, ManagerFor(call, "update"));
  if (!r.ok()) return r.status();
  if (r->deleted) {
    // The update removed the last finalizer: the object is gone.
    return ObjectResponse(call, 200, *r->object);
  }
  absl::StatusOr<Response> resp = ObjectResponse(call, r->created ? 201 : 200, *r->object);
  if (resp.ok()) {
    for (auto& h : warnings.headers) resp->headers.push_back(h);
  }
  return resp;
}

absl::StatusOr<storage::UpdateResult> APIServer::UpdateWith(
    const ResourceConfig& config, absl::string_view ns, absl::string_view name,
    const std::function<absl::Status(Message*)>& mutate, absl::string_view subresource) {
  return UpdateWithStrategy(
      config, ns, name,
      [&](const Message* current) -> absl::StatusOr<std::unique_ptr<Message>> {
        if (current == nullptr) return storage::NotFoundError(config.key, name);
        std::unique_ptr<Message> next = storage::CopyObject(*current);
        if (absl::Status s = mutate(next.get()); !s.ok()) return s;
        return next;
      },
      subresource, false, false, "kslice-apiserver");
}

absl::Time APIServer::Now() const {
  return options_.store.clock != nullptr ? options_.store.clock->Now() : absl::Now();
}

// ---------------------------------------------------------------------------
// PATCH

absl::StatusOr<Response> APIServer::PatchObject(Call& call) {
  std::string type = BaseMediaType(call.req.Header("Content-Type"));
  PatchKind kind;
  if (type == "application/json-patch+json") {
    kind = PatchKind::kJson;
  } else if (type == "application/merge-patch+json") {
    kind = PatchKind::kMerge;
  } else if (type == "application/strategic-merge-patch+json") {
    kind = PatchKind::kStrategic;
  } else if (type == "application/apply-patch+yaml") {
    kind = PatchKind::kApply;
  } else {
    return HttpError(415, "UnsupportedMediaType",
                     absl::StrCat("the body of the request was in an unknown format - accepted "
                                  "media types include: application/json-patch+json, "
                                  "application/merge-patch+json, application/apply-patch+yaml",
                                  call.config->key.group.empty() ||
                                          call.config->key.group == "discovery.k8s.io" ||
                                          call.config->key.group == "coordination.k8s.io" ||
                                          call.config->key.group == "apps"
                                      ? ", application/strategic-merge-patch+json"
                                      : ""));
  }
  absl::StatusOr<std::optional<bool>> force = BoolParam(call.query, "force");
  if (!force.ok()) return force.status();
  if (kind == PatchKind::kApply && call.field_manager.empty()) {
    return storage::InvalidError("meta.k8s.io", "PatchOptions", "",
                                 {storage::FieldError::Required(
                                     "fieldManager", "is required for apply patch")});
  }
  if (kind != PatchKind::kApply && force->has_value()) {
    return storage::InvalidError("meta.k8s.io", "PatchOptions", "",
                                 {storage::FieldError::Forbidden(
                                     "force", "may not be specified for non-apply patch")});
  }
  if (!hooks_.patch) return UnsupportedMediaTypeError(type);
  const ResourceConfig& config = *call.config;
  const std::string name = call.info.name;
  const std::string manager =
      kind == PatchKind::kApply ? call.field_manager : ManagerFor(call, "patch");
  PatchRequest pr;
  pr.kind = kind;
  pr.body = call.req.body;
  pr.force = force->value_or(false);
  pr.manager = manager;
  pr.subresource = call.info.subresource;
  absl::StatusOr<storage::UpdateResult> r = UpdateWithStrategy(
      config, call.info.ns, name,
      [&](const Message* current) -> absl::StatusOr<std::unique_ptr<Message>> {
        if (current == nullptr && kind != PatchKind::kApply) {
          return storage::NotFoundError(config.key, name);
        }
        absl::StatusOr<std::unique_ptr<Message>> next =
            hooks_.patch(config, current, pr, call.info.ns, name);
        if (!next.ok()) return next;
        auto* m = storage::MutableMetaOf(next->get());
        if (config.namespaced) {
          if (m->namespace_().empty()) m->set_namespace_(call.info.ns);
          if (m->namespace_() != call.info.ns) {
            return storage::BadRequestError(
                "the namespace of the provided object does not match the namespace sent on "
                "the request");
          }
        }
        if (m->name() != name) {
          return storage::BadRequestError(absl::StrCat(
              "the name of the object (", m->name(), ") does not match the name on the URL (",
              name, ")"));
        }
        if (current != nullptr) {
          const auto& cm = storage::MetaOf(*current);
          // A resourceVersion in the patch is a precondition.
          if (!m->resourceversion().empty() && m->resourceversion() != cm.resourceversion()) {
            return storage::ConflictError(config.key, name);
          }
          m->set_resourceversion(cm.resourceversion());
        } else {
          m->clear_resourceversion();
        }
        return next;
      },
      call.info.subresource, /*allow_create=*/kind == PatchKind::kApply, call.dry_run, manager,
      /*track=*/kind != PatchKind::kApply);
  if (!r.ok()) return r.status();
  return ObjectResponse(call, r->created ? 201 : 200, *r->object);
}

// ---------------------------------------------------------------------------
// The scale subresource (deployments, replicasets): autoscaling/v1 Scale over
// spec.replicas, as upstream's ScaleREST (pkg/registry/apps/deployment/storage).

namespace {

namespace apps = kslice::api::apps::v1;
namespace autoscaling = kslice::api::autoscaling::v1;

// The Scale of a Deployment or ReplicaSet: name, namespace, uid, resourceVersion and
// creationTimestamp of the parent; spec.replicas; status.replicas and the selector in
// its string form.
absl::StatusOr<autoscaling::Scale> ScaleOf(const Message& parent) {
  const kslice::api::meta::v1::LabelSelector* selector = nullptr;
  int32_t want = 0;
  int32_t have = 0;
  if (const auto* d = dynamic_cast<const apps::Deployment*>(&parent)) {
    want = d->spec().replicas();
    have = d->status().replicas();
    if (d->spec().has_selector()) selector = &d->spec().selector();
  } else if (const auto* rs = dynamic_cast<const apps::ReplicaSet*>(&parent)) {
    want = rs->spec().replicas();
    have = rs->status().replicas();
    if (rs->spec().has_selector()) selector = &rs->spec().selector();
  } else {
    return InternalServerError("no scale subresource for this kind");
  }
  absl::StatusOr<labels::Selector> sel = labels::FromLabelSelector(selector);
  if (!sel.ok()) return InternalServerError(sel.status().message());
  autoscaling::Scale scale;
  const auto& pm = storage::MetaOf(parent);
  auto* m = scale.mutable_metadata();
  m->set_name(pm.name());
  m->set_namespace_(pm.namespace_());
  m->set_uid(pm.uid());
  m->set_resourceversion(pm.resourceversion());
  if (pm.has_creationtimestamp()) *m->mutable_creationtimestamp() = pm.creationtimestamp();
  scale.mutable_spec()->set_replicas(want);
  scale.mutable_status()->set_replicas(have);
  scale.mutable_status()->set_selector(sel->String());
  if (absl::Status s = codec::Canonicalize(&scale); !s.ok()) {
    return InternalServerError(s.message());
  }
  return scale;
}

void SetReplicas(Message* parent, int32_t replicas) {
  if (auto* d = dynamic_cast<apps::Deployment*>(parent)) {
    d->mutable_spec()->set_replicas(replicas);
  } else if (auto* rs = dynamic_cast<apps::ReplicaSet*>(parent)) {
    rs->mutable_spec()->set_replicas(replicas);
  }
}

// What the patch hook needs to patch a Scale.
const ResourceConfig& ScaleConfig() {
  static const ResourceConfig* config = [] {
    auto* c = new ResourceConfig;
    c->key = {"autoscaling", "scale"};
    c->kind = "Scale";
    c->api_version = "autoscaling/v1";
    c->prototype = &autoscaling::Scale::default_instance();
    return c;
  }();
  return *config;
}

}  // namespace

absl::StatusOr<Response> APIServer::ServeScale(Call& call) {
  const ResourceConfig& config = *call.config;
  const std::string name = call.info.name;
  if (name.empty()) return MethodNotAllowedError();
  if (call.info.verb == "get") {
    storage::GetOptions opts;
    opts.resource_version = call.query.Get("resourceVersion");
    absl::StatusOr<Object> obj = store_->Get(config.key, call.info.ns, name, opts);
    if (!obj.ok()) return obj.status();
    absl::StatusOr<autoscaling::Scale> scale = ScaleOf(**obj);
    if (!scale.ok()) return scale.status();
    return ObjectResponse(call, 200, *scale);
  }

  // PUT carries a whole Scale; PATCH a patch of the current Scale.
  std::optional<autoscaling::Scale> body;
  PatchRequest pr;
  if (call.info.verb == "update") {
    absl::StatusOr<codec::Format> format = NegotiateRequest(call.req.Header("Content-Type"));
    if (!format.ok()) return format.status();
    body.emplace();
    if (absl::Status s = codec::DecodeInto(call.req.body, *format, &*body); !s.ok()) {
      return storage::BadRequestError(
          absl::StrCat("the body of the request could not be decoded: ", s.message()));
    }
    if (body->metadata().name() != name) {
      return storage::BadRequestError(absl::StrCat("the name of the object (",
                                                   body->metadata().name(),
                                                   ") does not match the name on the URL (",
                                                   name, ")"));
    }
  } else {
    std::string type = BaseMediaType(call.req.Header("Content-Type"));
    if (type == "application/json-patch+json") {
      pr.kind = PatchKind::kJson;
    } else if (type == "application/merge-patch+json") {
      pr.kind = PatchKind::kMerge;
    } else if (type == "application/strategic-merge-patch+json") {
      pr.kind = PatchKind::kStrategic;
    } else {
      return HttpError(415, "UnsupportedMediaType",
                       "the body of the request was in an unknown format - accepted media types "
                       "include: application/json-patch+json, application/merge-patch+json, "
                       "application/strategic-merge-patch+json");
    }
    if (!hooks_.patch) return UnsupportedMediaTypeError(type);
    pr.body = call.req.body;
    pr.manager = ManagerFor(call, "patch");
    pr.subresource = "scale";
  }
  absl::StatusOr<storage::UpdateResult> r = UpdateWithStrategy(
      config, call.info.ns, name,
      [&](const Message* current) -> absl::StatusOr<std::unique_ptr<Message>> {
        if (current == nullptr) return storage::NotFoundError(config.key, name);
        autoscaling::Scale want;
        if (body) {
          want = *body;
        } else {
          absl::StatusOr<autoscaling::Scale> cur = ScaleOf(*current);
          if (!cur.ok()) return cur.status();
          absl::StatusOr<std::unique_ptr<Message>> patched =
              hooks_.patch(ScaleConfig(), &*cur, pr, call.info.ns, name);
          if (!patched.ok()) return patched.status();
          want.CopyFrom(**patched);
        }
        // ValidateScale.
        if (want.spec().replicas() < 0) {
          return storage::InvalidError(
              "autoscaling", "Scale", name,
              {storage::InvalidRenderedFieldError("spec.replicas",
                                                  absl::StrCat(want.spec().replicas()),
                                                  "must be greater than or equal to 0")});
        }
        const auto& cm = storage::MetaOf(*current);
        // A resourceVersion in the Scale is a precondition on the parent.
        if (!want.metadata().resourceversion().empty() &&
            want.metadata().resourceversion() != cm.resourceversion()) {
          return storage::ConflictError(config.key, name);
        }
        if (!want.metadata().uid().empty() && want.metadata().uid() != cm.uid()) {
          return storage::ConflictError(
              config.key, name,
              absl::StrCat("Precondition failed: UID in precondition: ", want.metadata().uid(),
                           ", UID in object meta: ", cm.uid()));
        }
        std::unique_ptr<Message> next = storage::CopyObject(*current);
        SetReplicas(next.get(), want.spec().replicas());
        return next;
      },
      "scale", /*allow_create=*/false, call.dry_run,
      ManagerFor(call, body ? "update" : "patch"));
  if (!r.ok()) return r.status();
  absl::StatusOr<autoscaling::Scale> scale = ScaleOf(*r->object);
  if (!scale.ok()) return scale.status();
  return ObjectResponse(call, 200, *scale);
}

// ---------------------------------------------------------------------------
// DELETE

absl::StatusOr<meta::DeleteOptions> APIServer::ParseDeleteOptions(Call& call) {
  meta::DeleteOptions opts;
  if (!call.req.body.empty()) {
    absl::StatusOr<codec::Format> format = NegotiateRequest(call.req.Header("Content-Type"));
    if (!format.ok()) return format.status();
    if (absl::Status s = codec::DecodeInto(call.req.body, *format, &opts); !s.ok()) {
      return storage::BadRequestError(
          absl::StrCat("the body of the request could not be decoded: ", s.message()));
    }
  }
  absl::StatusOr<std::optional<int64_t>> grace = IntParam(call.query, "gracePeriodSeconds");
  if (!grace.ok()) return grace.status();
  if (*grace) opts.set_graceperiodseconds(**grace);
  if (std::string p = call.query.Get("propagationPolicy"); !p.empty()) {
    opts.set_propagationpolicy(p);
  }
  absl::StatusOr<std::optional<bool>> orphan = BoolParam(call.query, "orphanDependents");
  if (!orphan.ok()) return orphan.status();
  if (*orphan) opts.set_orphandependents(**orphan);
  std::vector<storage::FieldError> errs;
  if (opts.has_orphandependents() && opts.has_propagationpolicy()) {
    errs.push_back(storage::FieldError::Invalid(
        "propagationPolicy", opts.propagationpolicy(),
        "orphanDependents and deletionPropagation cannot be both set"));
  }
  if (opts.has_propagationpolicy() && opts.propagationpolicy() != "Foreground" &&
      opts.propagationpolicy() != "Background" && opts.propagationpolicy() != "Orphan") {
    errs.push_back(storage::FieldError::NotSupported(
        "propagationPolicy", opts.propagationpolicy(), {"Foreground", "Background", "Orphan"}));
  }
  for (const std::string& d : opts.dryrun()) {
    if (d != "All") errs.push_back(storage::FieldError::NotSupported("dryRun", d, {"All"}));
  }
  if (!errs.empty()) return storage::InvalidError("meta.k8s.io", "DeleteOptions", "", errs);
  if (opts.dryrun_size() > 0) call.dry_run = true;
  return opts;
}

absl::StatusOr<APIServer::DeleteOutcome> APIServer::DeleteWithOptions(
    const ResourceConfig& config, absl::string_view ns, absl::string_view name,
    const meta::DeleteOptions& opts, bool dry_run) {
  const absl::Time now = Now();
  storage::GuaranteedUpdateOptions go;
  go.dry_run = dry_run;
  go.assume_canonical = true;
  bool pending = false;
  absl::StatusOr<storage::UpdateResult> r = store_->GuaranteedUpdate(
      config.key, ns, name,
      [&](const Message* current) -> absl::StatusOr<std::unique_ptr<Message>> {
        pending = false;
        const auto& cm = storage::MetaOf(*current);
        if (opts.has_preconditions()) {
          const auto& p = opts.preconditions();
          if (p.has_uid() && p.uid() != cm.uid()) {
            return storage::ConflictError(
                {config.key.group, config.kind}, name,
                absl::StrCat("Precondition failed: UID in precondition: ", p.uid(),
                             ", UID in object meta: ", cm.uid()));
          }
          if (p.has_resourceversion() && p.resourceversion() != cm.resourceversion()) {
            return storage::ConflictError(
                {config.key.group, config.kind}, name,
                absl::StrCat("Precondition failed: ResourceVersion in precondition: ",
                             p.resourceversion(),
                             ", ResourceVersion in object meta: ", cm.resourceversion()));
          }
        }
        std::unique_ptr<Message> next = storage::CopyObject(*current);
        auto* m = storage::MutableMetaOf(next.get());
        if (auto* nso = dynamic_cast<core::Namespace*>(next.get());
            nso != nullptr && nso->spec().finalizers_size() > 0) {
          // Namespaces terminate first; the namespace controller empties them,
          // finalizes and deletes again.
          if (!m->has_deletiontimestamp()) {
            m->mutable_deletiontimestamp()->set_seconds(absl::ToUnixSeconds(now));
          }
          nso->mutable_status()->set_phase("Terminating");
          return next;
        }
        std::optional<int64_t> requested;
        if (opts.has_graceperiodseconds()) requested = opts.graceperiodseconds();
        bool graceful_done = false;
        if (cm.has_deletiontimestamp() && cm.has_deletiongraceperiodseconds() &&
            cm.deletiongraceperiodseconds() > 0) {
          // Already terminating: only a shorter grace period changes anything.
          int64_t grace = requested ? std::max<int64_t>(*requested, 0) : -1;
          if (grace < 0 || grace >= cm.deletiongraceperiodseconds()) {
            pending = true;
            return next;  // unchanged
          }
          int64_t start = cm.deletiontimestamp().seconds() - cm.deletiongraceperiodseconds();
          m->mutable_deletiontimestamp()->set_seconds(start + grace);
          m->set_deletiongraceperiodseconds(grace);
          if (grace > 0) return next;
          graceful_done = true;
        }
        if (!graceful_done && !cm.has_deletiontimestamp()) {
          if (std::optional<int64_t> grace = GracePeriodFor(*current, requested);
              grace && *grace > 0) {
            m->mutable_deletiontimestamp()->set_seconds(absl::ToUnixSeconds(now) + *grace);
            m->set_deletiongraceperiodseconds(*grace);
            return next;
          }
        }
        // Finalizers from the propagation policy.
        std::string policy;
        if (opts.has_orphandependents()) {
          policy = opts.orphandependents() ? "Orphan" : "Background";
        } else if (opts.has_propagationpolicy()) {
          policy = opts.propagationpolicy();
        }
        auto has = [&](absl::string_view f) {
          for (const std::string& x : m->finalizers()) {
            if (x == f) return true;
          }
          return false;
        };
        auto remove = [&](absl::string_view f) {
          auto* list = m->mutable_finalizers();
          list->erase(std::remove(list->begin(), list->end(), std::string(f)), list->end());
        };
        if (policy == "Orphan") {
          remove("foregroundDeletion");
          if (!has("orphan")) m->add_finalizers("orphan");
        } else if (policy == "Foreground") {
          remove("orphan");
          if (!has("foregroundDeletion")) m->add_finalizers("foregroundDeletion");
        } else if (policy == "Background") {
          remove("orphan");
          remove("foregroundDeletion");
        }
        if (m->finalizers_size() > 0) {
          if (!m->has_deletiontimestamp()) {
            m->mutable_deletiontimestamp()->set_seconds(absl::ToUnixSeconds(now));
          }
          m->set_deletiongraceperiodseconds(0);
          return next;
        }
        return std::unique_ptr<Message>();  // delete
      },
      go);
  if (!r.ok()) return r.status();
  DeleteOutcome out;
  out.object = r->object;
  out.deleted = r->deleted;
  if (out.deleted && !dry_run && config.key.group.empty() && config.key.resource == "services") {
    ReleaseServiceResources(*r->object, nullptr);
  }
  (void)pending;
  return out;
}

absl::StatusOr<Response> APIServer::DeleteObject(Call& call) {
  // NamespaceLifecycle admission: the system namespaces stay.
  if (call.config->key.group.empty() && call.config->key.resource == "namespaces" &&
      (call.info.name == "default" || call.info.name == "kube-system" ||
       call.info.name == "kube-public")) {
    return ForbiddenError(absl::StrCat("namespaces ", storage::GoQuote(call.info.name),
                                       " is forbidden: this namespace may not be deleted"),
                          call.config->key, call.info.name);
  }
  absl::StatusOr<meta::DeleteOptions> opts = ParseDeleteOptions(call);
  if (!opts.ok()) return opts.status();
  absl::StatusOr<DeleteOutcome> out =
      DeleteWithOptions(*call.config, call.info.ns, call.info.name, *opts, call.dry_run);
  if (!out.ok()) return out.status();
  if (!out->deleted || ReturnsDeletedObject(*call.config)) {
    int code = !out->deleted && opts->has_orphandependents() && !opts->orphandependents() ? 202
                                                                                           : 200;
    return ObjectResponse(call, code, *out->object);
  }
  meta::Status st;
  st.set_status("Success");
  auto* d = st.mutable_details();
  d->set_name(call.info.name);
  if (!call.config->key.group.empty()) d->set_group(call.config->key.group);
  d->set_kind(call.config->key.resource);
  d->set_uid(storage::MetaOf(*out->object).uid());
  Negotiated plain = call.out;
  plain.transform = Transform::kNone;
  if (plain.content_type.find("as=") != std::string::npos) plain.content_type = "application/json";
  Call status_call(call.req);
  status_call.out = plain;
  status_call.pretty = call.pretty;
  absl::StatusOr<std::string> body = status_call.EncodeObject(st);
  if (!body.ok()) return InternalServerError(body.status().message());
  Response r;
  r.headers.emplace_back("Content-Type", plain.content_type);
  r.body = *std::move(body);
  return r;
}

absl::StatusOr<Response> APIServer::DeleteCollection(Call& call) {
  absl::StatusOr<meta::DeleteOptions> opts = ParseDeleteOptions(call);
  if (!opts.ok()) return opts.status();
  absl::StatusOr<storage::ListOptions> lo = ParseListOptions(call, false);
  if (!lo.ok()) return lo.status();
  lo->limit = 0;
  lo->continue_token.clear();
  absl::StatusOr<storage::ListResult> list = store_->List(call.config->key, *lo);
  if (!list.ok()) return list.status();
  storage::ListResult deleted;
  deleted.resource_version = list->resource_version;
  for (const Object& o : list->items) {
    const auto& m = storage::MetaOf(*o);
    absl::StatusOr<DeleteOutcome> out =
        DeleteWithOptions(*call.config, m.namespace_(), m.name(), *opts, call.dry_run);
    if (!out.ok()) {
      if (out.status().code() == absl::StatusCode::kNotFound) continue;
      return out.status();
    }
    deleted.items.push_back(out->object);
  }
  deleted.resource_version = store_->CurrentResourceVersion();
  return ListResponse(call, deleted);
}

// ---------------------------------------------------------------------------
// pods/binding

absl::StatusOr<Response> APIServer::CreateBinding(Call& call) {
  absl::StatusOr<codec::Format> format = NegotiateRequest(call.req.Header("Content-Type"));
  if (!format.ok()) return format.status();
  core::Binding binding;
  if (absl::Status s = codec::DecodeInto(call.req.body, *format, &binding); !s.ok()) {
    return storage::BadRequestError(
        absl::StrCat("the body of the request could not be decoded: ", s.message()));
  }
  if (!binding.metadata().name().empty() && binding.metadata().name() != call.info.name) {
    return storage::BadRequestError("name in URL does not match name in Binding object");
  }
  if (binding.target().name().empty()) {
    return storage::InvalidError("", "Binding", call.info.name,
                                 {storage::FieldError::Required("target.name", "")});
  }
  const std::string node = binding.target().name();
  // As upstream's binding storage: one direct write of nodeName, the binding's
  // annotations and the PodScheduled condition (no update strategy: nodeName is
  // otherwise immutable).
  storage::GuaranteedUpdateOptions go;
  go.dry_run = call.dry_run;
  absl::StatusOr<storage::UpdateResult> r = store_->GuaranteedUpdate(
      call.config->key, call.info.ns, call.info.name,
      [&](const Message* current) -> absl::StatusOr<std::unique_ptr<Message>> {
        const auto& pod = static_cast<const core::Pod&>(*current);
        if (pod.metadata().has_deletiontimestamp()) {
          return storage::ConflictError(call.config->key, call.info.name,
                                        "pod is being deleted, cannot be assigned to a host");
        }
        if (!pod.spec().nodename().empty()) {
          return storage::ConflictError(
              call.config->key, call.info.name,
              absl::StrCat("pod ", call.info.name, " is already assigned to node ",
                           storage::GoQuote(pod.spec().nodename())));
        }
        auto next = std::make_unique<core::Pod>(pod);
        next->mutable_spec()->set_nodename(node);
        for (const auto& [k, v] : binding.metadata().annotations()) {
          (*next->mutable_metadata()->mutable_annotations())[k] = v;
        }
        core::PodCondition* c = nullptr;
        for (auto& x : *next->mutable_status()->mutable_conditions()) {
          if (x.type() == "PodScheduled") c = &x;
        }
        if (c == nullptr) c = next->mutable_status()->add_conditions();
        if (c->status() != "True") {
          c->set_type("PodScheduled");
          c->set_status("True");
          c->mutable_lasttransitiontime()->set_seconds(absl::ToUnixSeconds(Now()));
        }
        // As upstream's UpdatePodCondition: the new condition replaces the old one, so an
        // earlier "Unschedulable" reason and message do not survive the bind.
        c->clear_reason();
        c->clear_message();
        return std::unique_ptr<Message>(std::move(next));
      },
      go);
  if (!r.ok()) return r.status();
  meta::Status st;
  st.set_status("Success");
  st.set_code(201);
  Call c2(call.req);
  c2.out = call.out;
  c2.out.transform = Transform::kNone;
  if (c2.out.content_type.find("as=") != std::string::npos) c2.out.content_type = "application/json";
  absl::StatusOr<std::string> body = c2.EncodeObject(st);
  if (!body.ok()) return InternalServerError(body.status().message());
  Response resp;
  resp.status = 201;
  resp.headers.emplace_back("Content-Type", c2.out.content_type);
  resp.body = *std::move(body);
  return resp;
}

// ---------------------------------------------------------------------------
// Service IPs and ports

namespace {

// Go's %#v of a []string: []string{"10.96.0.10", "fd00::10"}.
std::string GoStringSlice(const google::protobuf::RepeatedPtrField<std::string>& list) {
  if (list.empty()) return "[]string(nil)";
  std::vector<std::string> quoted;
  for (const std::string& s : list) quoted.push_back(storage::GoQuote(s));
  return absl::StrCat("[]string{", absl::StrJoin(quoted, ", "), "}");
}

}  // namespace

absl::Status APIServer::AllocateServiceResources(Message* obj, const Message* old, bool dry_run,
                                                 std::vector<std::function<void()>>* undo) {
  (void)dry_run;  // allocations of a dry run are undone by the caller
  auto* svc = dynamic_cast<core::Service*>(obj);
  if (svc == nullptr) return absl::OkStatus();
  const auto* prev = dynamic_cast<const core::Service*>(old);
  core::ServiceSpec* spec = svc->mutable_spec();
  const std::string name = svc->metadata().name();
  std::string type = spec->type().empty() ? "ClusterIP" : spec->type();
  std::vector<storage::FieldError> errs;

  // ClusterIPs: one per family in spec.ipFamilies (InitServiceIpFamilies settled them),
  // requested ones taken from their family's CIDR, missing ones allocated; addresses
  // the stored service holds are kept.
  if (type != "ExternalName") {
    if (spec->clusterip() == "None") {
      spec->clear_clusterips();
      spec->add_clusterips("None");
    } else {
      std::vector<std::string> ips(spec->clusterips().begin(), spec->clusterips().end());
      auto held = [&](const std::string& ip) {
        if (prev == nullptr) return false;
        for (const std::string& p : prev->spec().clusterips()) {
          if (p == ip) return true;
        }
        return false;
      };
      const std::string requested_list = GoStringSlice(spec->clusterips());
      bool failed = false;
      for (int i = 0; i < spec->ipfamilies_size() && i < 2; ++i) {
        const IpFamily family =
            spec->ipfamilies(i) == "IPv6" ? IpFamily::kIPv6 : IpFamily::kIPv4;
        ClusterIpAllocator* alloc = IpAllocatorFor(family);
        if (alloc == nullptr) continue;  // refused by InitServiceIpFamilies
        if (static_cast<size_t>(i) < ips.size() && !ips[i].empty()) {
          const std::string ip = ips[i];
          if (held(ip)) continue;
          if (absl::Status st = alloc->Allocate(ip); !st.ok()) {
            errs.push_back(storage::InvalidRenderedFieldError(
                "spec.clusterIPs", requested_list,
                absl::StrCat("failed to allocate IP ", ip, ": ", st.message())));
            failed = true;
          } else {
            undo->push_back([alloc, ip] { alloc->Release(ip); });
          }
          continue;
        }
        absl::StatusOr<std::string> ip = alloc->AllocateNext();
        if (!ip.ok()) return InternalServerError(ip.status().message());
        std::string copy = *ip;
        undo->push_back([alloc, copy] { alloc->Release(copy); });
        if (static_cast<size_t>(i) < ips.size()) {
          ips[i] = *ip;
        } else {
          ips.push_back(*ip);
        }
      }
      if (!failed) {
        spec->clear_clusterips();
        for (const std::string& ip : ips) spec->add_clusterips(ip);
        if (!ips.empty()) spec->set_clusterip(ips[0]);
      }
    }
  }

  // NodePorts.
  const bool wants_node_ports =
      type == "NodePort" ||
      (type == "LoadBalancer" &&
       (!spec->has_allocateloadbalancernodeports() || spec->allocateloadbalancernodeports()));
  for (int i = 0; i < spec->ports_size(); ++i) {
    core::ServicePort* p = spec->mutable_ports(i);
    if (!wants_node_ports) {
      if (type == "ClusterIP" || type == "ExternalName") continue;
      if (p->nodeport() == 0) continue;
    }
    int held_port = 0;
    if (prev != nullptr) {
      for (const core::ServicePort& op : prev->spec().ports()) {
        if (op.nodeport() == 0) continue;
        if (p->nodeport() != 0 && op.nodeport() == p->nodeport()) held_port = op.nodeport();
        if (p->nodeport() == 0 && op.port() == p->port() && op.protocol() == p->protocol()) {
          held_port = op.nodeport();
        }
      }
    }
    if (held_port != 0) {
      p->set_nodeport(held_port);
      continue;
    }
    if (p->nodeport() == 0) {
      absl::StatusOr<int> port = node_ports_->AllocateNext();
      if (!port.ok()) return InternalServerError(port.status().message());
      p->set_nodeport(*port);
      int copy = *port;
      undo->push_back([this, copy] { node_ports_->Release(copy); });
    } else if (absl::Status s = node_ports_->Allocate(p->nodeport()); !s.ok()) {
      errs.push_back(storage::FieldError::Invalid(absl::StrCat("spec.ports[", i, "].nodePort"),
                                                  "", ""));
      errs.back().body = absl::StrCat("Invalid value: ", p->nodeport(), ": ", s.message());
    } else {
      int copy = p->nodeport();
      undo->push_back([this, copy] { node_ports_->Release(copy); });
    }
  }
  // Health check node port for LoadBalancer services with externalTrafficPolicy Local.
  if (type == "LoadBalancer" && spec->externaltrafficpolicy() == "Local") {
    int held = prev != nullptr ? prev->spec().healthchecknodeport() : 0;
    if (spec->healthchecknodeport() == 0 && held != 0) spec->set_healthchecknodeport(held);
    if (spec->healthchecknodeport() == 0) {
      absl::StatusOr<int> port = node_ports_->AllocateNext();
      if (!port.ok()) return InternalServerError(port.status().message());
      spec->set_healthchecknodeport(*port);
      int copy = *port;
      undo->push_back([this, copy] { node_ports_->Release(copy); });
    } else if (spec->healthchecknodeport() != held) {
      if (absl::Status s = node_ports_->Allocate(spec->healthchecknodeport()); !s.ok()) {
        errs.push_back(storage::FieldError::Invalid("spec.healthCheckNodePort", "", ""));
        errs.back().body =
            absl::StrCat("Invalid value: ", spec->healthchecknodeport(), ": ", s.message());
      } else {
        int copy = spec->healthchecknodeport();
        undo->push_back([this, copy] { node_ports_->Release(copy); });
      }
    }
  } else {
    spec->clear_healthchecknodeport();
  }
  if (!errs.empty()) {
    for (auto& u : *undo) u();
    undo->clear();
    return storage::InvalidError("", "Service", name, errs);
  }
  return absl::OkStatus();
}

void APIServer::ReleaseServiceResources(const Message& message, const Message* keep_message) {
  const auto* svc = dynamic_cast<const core::Service*>(&message);
  if (svc == nullptr) return;
  const auto* keep = dynamic_cast<const core::Service*>(keep_message);
  auto kept_ip = [&](const std::string& ip) {
    if (keep == nullptr) return false;
    for (const std::string& k : keep->spec().clusterips()) {
      if (k == ip) return true;
    }
    return keep->spec().clusterip() == ip;
  };
  auto kept_port = [&](int port) {
    if (keep == nullptr) return false;
    for (const core::ServicePort& p : keep->spec().ports()) {
      if (p.nodeport() == port) return true;
    }
    return keep->spec().healthchecknodeport() == port;
  };
  for (const std::string& ip : svc->spec().clusterips()) {
    if (ip == "None" || kept_ip(ip)) continue;
    if (ClusterIpAllocator* a = IpAllocatorHolding(ip)) a->Release(ip);
  }
  if (svc->spec().clusterips_size() == 0 && !svc->spec().clusterip().empty() &&
      svc->spec().clusterip() != "None" && !kept_ip(svc->spec().clusterip())) {
    if (ClusterIpAllocator* a = IpAllocatorHolding(svc->spec().clusterip())) {
      a->Release(svc->spec().clusterip());
    }
  }
  for (const core::ServicePort& p : svc->spec().ports()) {
    if (p.nodeport() > 0 && !kept_port(p.nodeport())) node_ports_->Release(p.nodeport());
  }
  if (svc->spec().healthchecknodeport() > 0 && !kept_port(svc->spec().healthchecknodeport())) {
    node_ports_->Release(svc->spec().healthchecknodeport());
  }
}

ClusterIpAllocator* APIServer::IpAllocatorFor(IpFamily family) const {
  for (const auto& a : cluster_ips_) {
    if (a->family() == family) return a.get();
  }
  return nullptr;
}

ClusterIpAllocator* APIServer::IpAllocatorHolding(absl::string_view ip) const {
  for (const auto& a : cluster_ips_) {
    if (a->Contains(ip)) return a.get();
  }
  return nullptr;
}

absl::Status APIServer::InitServiceIpFamilies(Message* obj, const Message* old) {
  auto* svc = dynamic_cast<core::Service*>(obj);
  if (svc == nullptr) return absl::OkStatus();
  const auto* prev = dynamic_cast<const core::Service*>(old);
  core::ServiceSpec* spec = svc->mutable_spec();
  const std::string type = spec->type().empty() ? "ClusterIP" : spec->type();
  if (type == "ExternalName") return absl::OkStatus();

  // clusterIP and clusterIPs[0] are one value (the registry's normalizeClusterIPs).
  if (!spec->clusterip().empty() && spec->clusterips_size() == 0) {
    spec->add_clusterips(spec->clusterip());
  } else if (spec->clusterip().empty() && spec->clusterips_size() > 0) {
    spec->set_clusterip(spec->clusterips(0));
  }
  const bool dual = cluster_ips_.size() > 1;
  const IpFamily primary = cluster_ips_.front()->family();
  auto other = [](IpFamily f) { return f == IpFamily::kIPv4 ? IpFamily::kIPv6 : IpFamily::kIPv4; };

  // An update to SingleStack that keeps the stored two addresses / families drops the
  // second (a dual-stack service downgraded; its secondary address is released after the
  // write).
  if (prev != nullptr && spec->has_ipfamilypolicy() && spec->ipfamilypolicy() == "SingleStack") {
    const core::ServiceSpec& ps = prev->spec();
    auto same = [](const auto& a, const auto& b) {
      return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
    };
    if (spec->clusterips_size() == 2 && same(spec->clusterips(), ps.clusterips())) {
      spec->mutable_clusterips()->RemoveLast();
    }
    if (spec->ipfamilies_size() == 2 && same(spec->ipfamilies(), ps.ipfamilies())) {
      spec->mutable_ipfamilies()->RemoveLast();
    }
  }

  // Families from the addresses given (validation reports a mismatch with ipFamilies).
  for (int i = 0; i < spec->clusterips_size(); ++i) {
    const std::string& ip = spec->clusterips(i);
    if (ip == "None") break;
    std::optional<IpFamily> fam = IpFamilyOf(ip);
    if (!fam) break;  // not an IP: validation says so
    if (i >= spec->ipfamilies_size()) spec->add_ipfamilies(IpFamilyName(*fam));
  }

  std::vector<storage::FieldError> errs;
  if (spec->has_ipfamilypolicy() && spec->ipfamilypolicy() == "RequireDualStack" && !dual) {
    errs.push_back(storage::FieldError::Invalid(
        "spec.ipFamilyPolicy", "RequireDualStack",
        "this cluster is not configured for dual-stack services"));
  }
  for (int i = 0; i < spec->ipfamilies_size(); ++i) {
    const std::string& fam = spec->ipfamilies(i);
    if (fam != "IPv4" && fam != "IPv6") continue;  // validation: unsupported value
    if (IpAllocatorFor(fam == "IPv6" ? IpFamily::kIPv6 : IpFamily::kIPv4) == nullptr) {
      errs.push_back(storage::FieldError::Invalid(absl::StrCat("spec.ipFamilies[", i, "]"), fam,
                                                  "not configured on this cluster"));
    }
  }
  if (!errs.empty()) return storage::InvalidError("", "Service", svc->metadata().name(), errs);

  if (!spec->has_ipfamilypolicy() && spec->ipfamilies_size() == 2) {
    spec->set_ipfamilypolicy("RequireDualStack");
  }
  // Headless without a selector: PreferDualStack unless told otherwise.
  if (type == "ClusterIP" && spec->clusterip() == "None" && spec->selector().empty() &&
      !spec->has_ipfamilypolicy()) {
    spec->set_ipfamilypolicy("PreferDualStack");
  }
  if (!spec->has_ipfamilypolicy()) spec->set_ipfamilypolicy("SingleStack");
  if (spec->ipfamilies_size() == 0) spec->add_ipfamilies(IpFamilyName(primary));
  if (spec->ipfamilypolicy() != "SingleStack" && spec->ipfamilies_size() == 1 && dual) {
    const IpFamily first = spec->ipfamilies(0) == "IPv6" ? IpFamily::kIPv6 : IpFamily::kIPv4;
    if (spec->ipfamilies(0) == "IPv4" || spec->ipfamilies(0) == "IPv6") {
      spec->add_ipfamilies(IpFamilyName(other(first)));
    }
  }
  return absl::OkStatus();
}

}  // namespace kslice::envtest::apiserver
