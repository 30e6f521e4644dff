#include "controller/log/log.h"
#include "api/codec/go_strings.h"

#include <fnmatch.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace kslice::log {
namespace {

absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

struct ModulePattern {
  std::string pattern;
  int level;
};

// An immutable snapshot of the configuration; records format against one.
struct Config {
  Options options;
  std::vector<ModulePattern> vmodule;
  int pid = 0;
};

class StderrSinkImpl : public Sink {
 public:
  void Write(std::string_view line) override {
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
      ssize_t n = ::write(2, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
};

struct State {
  std::mutex mu;  // guards config and vcache
  std::shared_ptr<const Config> config;
  std::unordered_map<const char*, int> vcache;  // file name pointer -> vmodule level
  std::mutex write_mu;                          // serializes sink writes
  std::atomic<int> verbosity{0};
  std::atomic<bool> has_vmodule{false};
};

State& GetState() {
  static State* state = [] {
    auto* s = new State;
    auto config = std::make_shared<Config>();
    config->pid = static_cast<int>(::getpid());
    s->config = std::move(config);
    return s;
  }();
  return *state;
}

std::shared_ptr<const Config> Snapshot() {
  State& s = GetState();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.config;
}

absl::StatusOr<std::vector<ModulePattern>> ParseVModule(std::string_view spec) {
  std::vector<ModulePattern> out;
  for (absl::string_view part : absl::StrSplit(absl::string_view(spec.data(), spec.size()), ',')) {
    if (part.empty()) continue;
    std::vector<absl::string_view> kv = absl::StrSplit(part, '=');
    if (kv.size() != 2 || kv[0].empty() || kv[1].empty()) {
      return absl::InvalidArgumentError("vmodule: syntax error: expect comma-separated list of "
                                        "filename=N");
    }
    int level = 0;
    if (!absl::SimpleAtoi(kv[1], &level)) {
      return absl::InvalidArgumentError("vmodule: syntax error: expect comma-separated list of "
                                        "filename=N");
    }
    if (level < 0) return absl::InvalidArgumentError("vmodule: negative value for vmodule level");
    if (level == 0) continue;  // harmless, and never matters (as klog)
    out.push_back({std::string(kv[0]), level});
  }
  return out;
}

// ---- formatting helpers ----

// The file's base name (klog's text header).
std::string_view BaseName(std::string_view file) {
  size_t slash = file.rfind('/');
  return slash == std::string_view::npos ? file : file.substr(slash + 1);
}

// The last directory and the base name (zap's ShortCallerEncoder).
std::string_view TrimmedPath(std::string_view file) {
  size_t slash = file.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return file;
  size_t prev = file.rfind('/', slash - 1);
  return prev == std::string_view::npos ? file : file.substr(prev + 1);
}

// Length of the valid UTF-8 sequence at s[i], or 0 when invalid; *rune gets the code point.
using codec::AppendGoQuoted;
using codec::DecodeUtf8;

// A JSON string as zap writes it.
void AppendJsonQuoted(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c >= 0x20 && c != '\\' && c != '"') {
        out->push_back(static_cast<char>(c));
      } else {
        switch (c) {
          case '\\': out->append("\\\\"); break;
          case '"': out->append("\\\""); break;
          case '\n': out->append("\\n"); break;
          case '\r': out->append("\\r"); break;
          case '\t': out->append("\\t"); break;
          default:
            out->append("\\u00");
            out->push_back(kHex[c >> 4]);
            out->push_back(kHex[c & 0xF]);
        }
      }
      ++i;
      continue;
    }
    uint32_t rune = 0;
    size_t n = DecodeUtf8(s, i, &rune);
    if (n == 0) {
      out->append("\\ufffd");
      ++i;
      continue;
    }
    out->append(s.substr(i, n));
    i += n;
  }
  out->push_back('"');
}

// Shortest round-trip decimal in plain notation (Go's 'f', -1).
void AppendFixed(std::string* out, double d) {
  char buf[512];
  auto r = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::fixed);
  out->append(buf, r.ptr);
}

// A float as encoding/json writes it (klog's text values).
void AppendJsonNumber(std::string* out, double d) {
  double a = std::fabs(d);
  if (a != 0 && (a < 1e-6 || a >= 1e21)) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
    std::string s(buf, r.ptr);
    // e-07 -> e-7, as encoding/json does (negative exponents only).
    size_t n = s.size();
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
    out->append(s);
    return;
  }
  AppendFixed(out, d);
}

// klog's writeStringValue: quoted, or a <...> block for multi-line text.
void AppendTextString(std::string* out, std::string_view v) {
  size_t nl = v.find('\n');
  if (nl == std::string_view::npos) {
    out->push_back('=');
    AppendGoQuoted(out, v);
    return;
  }
  out->append("=<\n");
  while (nl != std::string_view::npos) {
    out->push_back('\t');
    out->append(v.substr(0, nl + 1));
    v.remove_prefix(nl + 1);
    nl = v.find('\n');
  }
  if (v.empty()) {
    out->append(" >");
  } else {
    out->push_back('\t');
    out->append(v);
    out->append("\n >");
  }
}

void AppendTextKV(std::string* out, std::string_view key, const Value& v) {
  out->push_back(' ');
  out->append(key);
  switch (v.kind()) {
    case Value::Kind::kString:
    case Value::Kind::kError:
      AppendTextString(out, v.str());
      break;
    case Value::Kind::kRef:
      out->append("=\"");
      if (!v.ns().empty()) absl::StrAppend(out, AV(v.ns()), "/");
      out->append(v.str());
      out->push_back('"');
      break;
    case Value::Kind::kInt:
      absl::StrAppend(out, "=", v.int_value());
      break;
    case Value::Kind::kUint:
      absl::StrAppend(out, "=", v.uint_value());
      break;
    case Value::Kind::kBool:
      out->append(v.bool_value() ? "=true" : "=false");
      break;
    case Value::Kind::kDouble:
      out->push_back('=');
      if (std::isnan(v.double_value()) || std::isinf(v.double_value())) {
        // encoding/json refuses these; klog writes its error instead.
        absl::StrAppendFormat(out, "\"<internal error: json: unsupported value: %s>\"",
                              std::isnan(v.double_value())
                                  ? "NaN"
                                  : (v.double_value() > 0 ? "+Inf" : "-Inf"));
      } else {
        AppendJsonNumber(out, v.double_value());
      }
      break;
  }
}

void AppendJsonKV(std::string* out, std::string_view key, const Value& v) {
  out->push_back(',');
  AppendJsonQuoted(out, key);
  out->push_back(':');
  switch (v.kind()) {
    case Value::Kind::kString:
    case Value::Kind::kError:
      AppendJsonQuoted(out, v.str());
      break;
    case Value::Kind::kRef:
      out->append("{\"name\":");
      AppendJsonQuoted(out, v.str());
      if (!v.ns().empty()) {
        out->append(",\"namespace\":");
        AppendJsonQuoted(out, v.ns());
      }
      out->push_back('}');
      break;
    case Value::Kind::kInt:
      absl::StrAppend(out, v.int_value());
      break;
    case Value::Kind::kUint:
      absl::StrAppend(out, v.uint_value());
      break;
    case Value::Kind::kBool:
      out->append(v.bool_value() ? "true" : "false");
      break;
    case Value::Kind::kDouble: {
      double d = v.double_value();
      if (std::isnan(d)) {
        out->append("\"NaN\"");
      } else if (std::isinf(d)) {
        out->append(d > 0 ? "\"+Inf\"" : "\"-Inf\"");
      } else {
        AppendFixed(out, d);
      }
      break;
    }
  }
}

constexpr char kSeverityChar[] = "IWEF";

std::string FormatText(const Config& config, Severity severity, const absl::Status& err,
                       std::string_view msg, KVs kvs, const Location& loc, absl::Time now) {
  std::string out;
  out.reserve(128 + msg.size());
  out.push_back(kSeverityChar[static_cast<int>(severity)]);
  out.append(absl::FormatTime("%m%d %H:%M:%E6S", now, config.options.time_zone));
  absl::StrAppendFormat(&out, " %7d ", config.pid);
  out.append(BaseName(loc.file_name()));
  absl::StrAppend(&out, ":", loc.line(), "] ");
  AppendGoQuoted(&out, msg);
  if (!err.ok()) AppendTextKV(&out, "err", Value(err));
  for (const KV& kv : kvs) AppendTextKV(&out, kv.key, kv.value);
  out.push_back('\n');
  return out;
}

std::string FormatJson(const Config& /*config*/, Severity severity, int v, const absl::Status& err,
                       std::string_view msg, KVs kvs, const Location& loc, absl::Time now) {
  std::string out;
  out.reserve(128 + msg.size());
  out.append("{\"ts\":");
  AppendFixed(&out, static_cast<double>(absl::ToUnixNanos(now)) / 1e6);
  out.append(",\"caller\":");
  AppendJsonQuoted(&out, absl::StrCat(AV(TrimmedPath(loc.file_name())), ":", loc.line()));
  out.append(",\"msg\":");
  AppendJsonQuoted(&out, msg);
  bool is_error = severity >= Severity::kError;
  if (!is_error) absl::StrAppend(&out, ",\"v\":", v);
  for (const KV& kv : kvs) AppendJsonKV(&out, kv.key, kv.value);
  if (is_error && !err.ok()) AppendJsonKV(&out, "err", Value(err));
  out.append("}\n");
  return out;
}

}  // namespace

Value::Value(const absl::Status& s)
    : kind_(Kind::kError), owned_(s.ToString(absl::StatusToStringMode::kWithNoExtraData)) {
  str_ = owned_;
}

Sink& StderrSink() {
  static Sink* sink = new StderrSinkImpl;
  return *sink;
}

absl::Status ValidateVModule(std::string_view spec) { return ParseVModule(spec).status(); }

absl::Status Configure(Options options) {
  absl::StatusOr<std::vector<ModulePattern>> vmodule = ParseVModule(options.vmodule);
  if (!vmodule.ok()) return vmodule.status();
  auto config = std::make_shared<Config>();
  config->pid = options.pid != 0 ? options.pid : static_cast<int>(::getpid());
  config->vmodule = *std::move(vmodule);
  bool has_vmodule = !config->vmodule.empty();
  int verbosity = options.verbosity;
  config->options = std::move(options);
  State& s = GetState();
  std::lock_guard<std::mutex> lock(s.mu);
  s.config = std::move(config);
  s.vcache.clear();
  s.verbosity.store(verbosity, std::memory_order_relaxed);
  s.has_vmodule.store(has_vmodule, std::memory_order_release);
  return absl::OkStatus();
}

void SetVerbosity(int verbosity) {
  State& s = GetState();
  std::lock_guard<std::mutex> lock(s.mu);
  auto config = std::make_shared<Config>(*s.config);
  config->options.verbosity = verbosity;
  s.config = std::move(config);
  s.verbosity.store(verbosity, std::memory_order_relaxed);
}

int Verbosity() { return GetState().verbosity.load(std::memory_order_relaxed); }

absl::StatusOr<Options> ParseFlags(int* argc, char** argv, Options base) {
  std::vector<char*> rest;
  rest.reserve(static_cast<size_t>(*argc));
  if (*argc > 0) rest.push_back(argv[0]);
  for (int i = 1; i < *argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {  // end of flags
      for (; i < *argc; ++i) rest.push_back(argv[i]);
      break;
    }
    std::string_view body = arg;
    if (body.starts_with("--")) {
      body.remove_prefix(2);
    } else if (body.starts_with("-")) {
      body.remove_prefix(1);
    } else {
      rest.push_back(argv[i]);
      continue;
    }
    std::string_view name = body, value;
    bool has_value = false;
    if (size_t eq = body.find('='); eq != std::string_view::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    if (name != "v" && name != "vmodule" && name != "logging-format") {
      rest.push_back(argv[i]);
      continue;
    }
    if (!has_value) {
      if (i + 1 >= *argc) {
        return absl::InvalidArgumentError(absl::StrCat("flag needs an argument: -", AV(name)));
      }
      value = argv[++i];
    }
    if (name == "v") {
      int v = 0;
      if (!absl::SimpleAtoi(absl::string_view(value.data(), value.size()), &v) || v < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid value \"", AV(value), "\" for flag -v: must be a non-negative integer"));
      }
      base.verbosity = v;
    } else if (name == "vmodule") {
      absl::Status st = ValidateVModule(value);
      if (!st.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid value \"", AV(value), "\" for flag --vmodule: ", st.message()));
      }
      base.vmodule = std::string(value);
    } else {
      if (value == "text") {
        base.format = Format::kText;
      } else if (value == "json") {
        base.format = Format::kJson;
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "invalid value \"", AV(value), "\" for flag --logging-format: want text or json"));
      }
    }
  }
  for (size_t k = 0; k < rest.size(); ++k) argv[k] = rest[k];
  *argc = static_cast<int>(rest.size());
  if (static_cast<size_t>(*argc) < rest.capacity()) argv[*argc] = nullptr;
  return base;
}

void Write(Severity severity, int v, const absl::Status& err, std::string_view msg, KVs kvs,
           Location loc) {
  std::shared_ptr<const Config> config = Snapshot();
  absl::Time now = config->options.now ? config->options.now() : absl::Now();
  std::string line = config->options.format == Format::kJson
                         ? FormatJson(*config, severity, v, err, msg, kvs, loc, now)
                         : FormatText(*config, severity, err, msg, kvs, loc, now);
  Sink* sink = config->options.sink != nullptr ? config->options.sink : &StderrSink();
  State& s = GetState();
  std::lock_guard<std::mutex> lock(s.write_mu);
  sink->Write(line);
}

void Info(std::string_view msg, KVs kvs, Location loc) {
  Write(Severity::kInfo, 0, absl::OkStatus(), msg, kvs, loc);
}

void Warning(std::string_view msg, KVs kvs, Location loc) {
  Write(Severity::kWarning, 0, absl::OkStatus(), msg, kvs, loc);
}

void Error(const absl::Status& err, std::string_view msg, KVs kvs, Location loc) {
  Write(Severity::kError, 0, err, msg, kvs, loc);
}

void Fatal(std::string_view msg, KVs kvs, Location loc) {
  Write(Severity::kFatal, 0, absl::OkStatus(), msg, kvs, loc);
  std::_Exit(255);
}

void Verbose::Info(std::string_view msg, KVs kvs, Location loc) const {
  if (enabled_) Write(Severity::kInfo, level_, absl::OkStatus(), msg, kvs, loc);
}

void Verbose::Error(const absl::Status& err, std::string_view msg, KVs kvs, Location loc) const {
  if (enabled_) Write(Severity::kError, level_, err, msg, kvs, loc);
}

Verbose V(int level, Location loc) {
  State& s = GetState();
  if (level <= s.verbosity.load(std::memory_order_relaxed)) return Verbose(true, level);
  if (!s.has_vmodule.load(std::memory_order_acquire)) return Verbose(false, level);
  std::lock_guard<std::mutex> lock(s.mu);
  const char* file = loc.file_name();
  auto it = s.vcache.find(file);
  if (it == s.vcache.end()) {
    std::string base(BaseName(file));
    if (size_t dot = base.rfind('.'); dot != std::string::npos) base.resize(dot);
    int found = 0;
    for (const ModulePattern& p : s.config->vmodule) {
      if (::fnmatch(p.pattern.c_str(), base.c_str(), 0) == 0) {
        found = p.level;
        break;
      }
    }
    it = s.vcache.emplace(file, found).first;
  }
  return Verbose(level <= it->second, level);
}

}  // namespace kslice::log
