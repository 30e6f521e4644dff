#include "client/transport/transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace kslice::client {

std::string Response::Header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  std::string url;
  std::string connect_to;
  curl_slist* connect_to_list = nullptr;
  const Request* request = nullptr;
  Response response;
  bool head_done = false;
  std::function<absl::Status(absl::string_view)> on_data;
  std::function<absl::Status(const Response&)> on_head;
  const CancelToken* cancel = nullptr;
  size_t limit = 0;
  absl::Status callback_status;
  char errbuf[CURL_ERROR_SIZE] = {};

  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  absl::Status result;

  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    curl_slist_free_all(header_list);
    curl_slist_free_all(connect_to_list);
  }

  void Finish(absl::Status status) {
    std::lock_guard<std::mutex> lock(mu);
    result = std::move(status);
    done = true;
    cv.notify_all();
  }
};

// Runs on_head once the final (non-1xx) response head is complete.
absl::Status HeadDone(Transfer* t) {
  if (t->head_done) return absl::OkStatus();
  t->head_done = true;
  long code = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
  t->response.status = static_cast<int>(code);
  long version = 0;
  curl_easy_getinfo(t->easy, CURLINFO_HTTP_VERSION, &version);
  t->response.http_version = version == CURL_HTTP_VERSION_2_0 ? 2 : 11;
  if (t->on_head) return t->on_head(t->response);
  return absl::OkStatus();
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  absl::string_view line(data, size * n);
  if (absl::StartsWith(line, "HTTP/")) {
    // A new response head (after 1xx, or the only one): start over.
    t->response.headers.clear();
    t->head_done = false;
    return size * n;
  }
  absl::string_view trimmed = absl::StripAsciiWhitespace(line);
  if (trimmed.empty()) {
    long code = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200) {
      t->callback_status = HeadDone(t);
      if (!t->callback_status.ok()) return 0;
    }
    return size * n;
  }
  size_t colon = trimmed.find(':');
  if (colon != absl::string_view::npos) {
    t->response.headers.emplace_back(
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(trimmed.substr(0, colon))),
        std::string(absl::StripAsciiWhitespace(trimmed.substr(colon + 1))));
  }
  return size * n;
}

size_t OnData(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (!t->head_done) {
    t->callback_status = HeadDone(t);
    if (!t->callback_status.ok()) return 0;
  }
  if (t->on_data) {
    t->callback_status = t->on_data(absl::string_view(data, len));
    return t->callback_status.ok() ? len : 0;
  }
  if (t->response.body.size() + len > t->limit) {
    t->callback_status = absl::ResourceExhaustedError(
        absl::StrCat("response body exceeds the limit of ", t->limit, " bytes"));
    return 0;
  }
  t->response.body.append(data, len);
  return len;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return (t->cancel != nullptr && t->cancel->cancelled()) ? 1 : 0;
}

absl::Status MapResult(CURLcode code, Transfer* t) {
  if (code == CURLE_OK) return absl::OkStatus();
  if (!t->callback_status.ok()) return t->callback_status;
  std::string detail = t->errbuf[0] != '\0' ? t->errbuf : curl_easy_strerror(code);
  std::string what = absl::StrCat(t->request->method, " ", t->request->url, ": ", detail);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return absl::DeadlineExceededError(what);
    case CURLE_ABORTED_BY_CALLBACK:
      return absl::CancelledError(what);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return absl::InvalidArgumentError(what);
    default:
      return absl::UnavailableError(what);
  }
}

struct Blob {
  static curl_blob Of(const std::string& s) {
    curl_blob b;
    b.data = const_cast<char*>(s.data());
    b.len = s.size();
    b.flags = CURL_BLOB_COPY;
    return b;
  }
};

}  // namespace

struct Transport::Impl {
  TransportOptions options;
  CURLM* multi = nullptr;
  std::thread io;
  std::mutex mu;
  std::vector<Transfer*> pending;  // guarded by mu
  bool stopping = false;           // guarded by mu
  std::atomic<long> connections{0};

  ~Impl() {
    if (multi != nullptr) curl_multi_cleanup(multi);
  }

  void Submit(Transfer* t) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stopping) {
        t->Finish(absl::CancelledError("transport is shutting down"));
        return;
      }
      pending.push_back(t);
    }
    curl_multi_wakeup(multi);
  }

  void Complete(Transfer* t, absl::Status status) {
    long n = 0;
    curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &n);
    connections += n;
    curl_multi_remove_handle(multi, t->easy);
    t->Finish(std::move(status));
  }

  void Loop() {
    std::vector<Transfer*> active;
    while (true) {
      std::vector<Transfer*> incoming;
      bool stop;
      {
        std::lock_guard<std::mutex> lock(mu);
        incoming.swap(pending);
        stop = stopping;
      }
      for (Transfer* t : incoming) {
        if (curl_multi_add_handle(multi, t->easy) != CURLM_OK) {
          t->Finish(absl::InternalError("libcurl refused the request"));
          continue;
        }
        active.push_back(t);
      }
      if (stop) {
        for (Transfer* t : active) Complete(t, absl::CancelledError("transport is shutting down"));
        return;
      }
      int running = 0;
      curl_multi_perform(multi, &running);
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
        if (msg->msg != CURLMSG_DONE) continue;
        Transfer* t = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
        CURLcode code = msg->data.result;
        active.erase(std::remove(active.begin(), active.end(), t), active.end());
        if (code == CURLE_OK && !t->head_done) {
          absl::Status s = HeadDone(t);  // a response without a body
          Complete(t, s);
          continue;
        }
        Complete(t, MapResult(code, t));
      }
      // Prompt cancellation, even for transfers that are idle on the wire.
      for (auto it = active.begin(); it != active.end();) {
        if ((*it)->cancel != nullptr && (*it)->cancel->cancelled()) {
          Complete(*it, absl::CancelledError(absl::StrCat((*it)->request->method, " ",
                                                          (*it)->request->url, ": cancelled")));
          it = active.erase(it);
        } else {
          ++it;
        }
      }
      curl_multi_poll(multi, nullptr, 0, 50, nullptr);
    }
  }

  absl::Status Setup(Transfer* t) {
    const Request& req = *t->request;
    CURL* e = curl_easy_init();
    if (e == nullptr) return absl::InternalError("curl_easy_init failed");
    t->easy = e;
    t->url = req.url;
    const TlsOptions& tls = options.tls;
    if (!tls.server_name.empty()) {
      // Verify against (and send SNI for) server_name while connecting to the URL's host.
      CURLU* u = curl_url();
      if (curl_url_set(u, CURLUPART_URL, req.url.c_str(), 0) != CURLUE_OK) {
        curl_url_cleanup(u);
        return absl::InvalidArgumentError(absl::StrCat("malformed URL \"", req.url, "\""));
      }
      char* host = nullptr;
      char* port = nullptr;
      curl_url_get(u, CURLUPART_HOST, &host, 0);
      curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
      t->connect_to = absl::StrCat(tls.server_name, ":", port ? port : "", ":", host ? host : "",
                                   ":", port ? port : "");
      curl_url_set(u, CURLUPART_HOST, tls.server_name.c_str(), 0);
      char* rewritten = nullptr;
      curl_url_get(u, CURLUPART_URL, &rewritten, 0);
      if (rewritten != nullptr) t->url = rewritten;
      curl_free(host);
      curl_free(port);
      curl_free(rewritten);
      curl_url_cleanup(u);
      t->connect_to_list = curl_slist_append(nullptr, t->connect_to.c_str());
      curl_easy_setopt(e, CURLOPT_CONNECT_TO, t->connect_to_list);
    }
    curl_easy_setopt(e, CURLOPT_URL, t->url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                     options.http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(options.connect_timeout)));
    if (req.timeout != absl::InfiniteDuration()) {
      curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                       std::max(1L, static_cast<long>(absl::ToInt64Milliseconds(req.timeout))));
    }
    if (!options.user_agent.empty()) curl_easy_setopt(e, CURLOPT_USERAGENT, options.user_agent.c_str());
    if (!options.proxy_url.empty()) curl_easy_setopt(e, CURLOPT_PROXY, options.proxy_url.c_str());
    // TLS.
    if (tls.insecure_skip_verify) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    } else {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    if (!tls.ca_pem.empty()) {
      curl_blob b = Blob::Of(tls.ca_pem);
      curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
    }
    if (!tls.cert_pem.empty()) {
      curl_blob b = Blob::Of(tls.cert_pem);
      curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
      curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (!tls.key_pem.empty()) {
      curl_blob b = Blob::Of(tls.key_pem);
      curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b);
      curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
    }
    // Method and body.
    if (req.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (req.method != "GET" || !req.body.empty()) {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, req.body.data());
    }
    // Headers; no "Expect: 100-continue" round trip.
    for (const auto& [k, v] : req.headers) {
      t->header_list = curl_slist_append(t->header_list, absl::StrCat(k, ": ", v).c_str());
    }
    t->header_list = curl_slist_append(t->header_list, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_list);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, OnData);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, t);
    return absl::OkStatus();
  }

  absl::StatusOr<Response> Run(Transfer& t) {
    if (t.cancel != nullptr && t.cancel->cancelled()) {
      return absl::CancelledError(absl::StrCat(t.request->method, " ", t.request->url, ": cancelled"));
    }
    if (absl::Status s = Setup(&t); !s.ok()) return s;
    Submit(&t);
    std::unique_lock<std::mutex> lock(t.mu);
    t.cv.wait(lock, [&] { return t.done; });
    if (!t.result.ok()) return t.result;
    return std::move(t.response);
  }
};

Transport::Transport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<Transport>> Transport::Create(TransportOptions options) {
  GlobalInit();
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->multi = curl_multi_init();
  if (impl->multi == nullptr) return absl::InternalError("curl_multi_init failed");
  curl_multi_setopt(impl->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  Impl* raw = impl.get();
  raw->io = std::thread([raw] { raw->Loop(); });
  return std::unique_ptr<Transport>(new Transport(std::move(impl)));
}

Transport::~Transport() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
  }
  curl_multi_wakeup(impl_->multi);
  if (impl_->io.joinable()) impl_->io.join();
}

absl::StatusOr<Response> Transport::Do(const Request& request, const CancelToken* cancel) {
  Transfer t;
  t.request = &request;
  t.cancel = cancel;
  t.limit = impl_->options.max_response_bytes;
  return impl_->Run(t);
}

absl::StatusOr<Response> Transport::Stream(const Request& request,
                                           std::function<absl::Status(absl::string_view)> on_data,
                                           const CancelToken* cancel,
                                           std::function<absl::Status(const Response&)> on_head) {
  Transfer t;
  t.request = &request;
  t.cancel = cancel;
  t.on_data = std::move(on_data);
  t.on_head = std::move(on_head);
  return impl_->Run(t);
}

Transport::Stats Transport::stats() const {
  Stats s;
  s.connections_opened = impl_->connections.load();
  return s;
}

}  // namespace kslice::client
