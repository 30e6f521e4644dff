// Structured logging in the two formats Kubernetes components write: klog's text
// format and component-base's JSON format.
//
//   kslice::log::Info("Pod status updated", {{"pod", log::KRef("default", "web")},
//                                            {"status", "ready"}});
//   // I1127 13:37:00.123456   12345 sync.cc:42] "Pod status updated" pod="default/web" status="ready"
//   // {"ts":1700000000123.456,"caller":"controller/sync.cc:42","msg":"Pod status updated","v":0,"pod":{"name":"web","namespace":"default"},"status":"ready"}
//
//   log::Error(status, "Sync failed", {{"key", key}});
//   KSLICE_V(4).Info("Cache miss", {{"key", ExpensiveDescription()}});  // args not evaluated at -v<4
//
// Configuration is process-wide: Configure(options) (or ParseFlags for -v,
// --vmodule and --logging-format). Every call is thread-safe; each record is
// formatted outside the lock and handed to the sink as one complete line (one
// write(2) for the stderr sink), so lines of concurrent callers never interleave.
//
// Values are borrowed: a KV's strings must live until the call returns, which
// temporaries in the argument list do.
#ifndef KSLICE_CONTROLLER_LOG_LOG_H_
#define KSLICE_CONTROLLER_LOG_LOG_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <source_location>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kslice::log {

enum class Severity : int { kInfo = 0, kWarning = 1, kError = 2, kFatal = 3 };
enum class Format { kText, kJson };

// "namespace/name" of an object (klog.KRef/KObj): text "ns/name" (just "name" when
// the namespace is empty), JSON {"name":..., "namespace":...}.
struct ObjectRef {
  std::string_view ns;
  std::string_view name;
};
inline ObjectRef KRef(std::string_view ns, std::string_view name) { return {ns, name}; }
// Any type with metadata().namespace_() and metadata().name() (every api/ object).
template <typename T>
ObjectRef KObj(const T& object) {
  return {object.metadata().namespace_(), object.metadata().name()};
}

// The value of one key/value pair: strings (quoted), integers, floating point,
// booleans, errors (absl::Status, written as its ToString() without payloads) and
// object references.
class Value {
 public:
  enum class Kind { kString, kInt, kUint, kDouble, kBool, kError, kRef };

  Value(std::string_view s) : kind_(Kind::kString), str_(s) {}  // NOLINT
  Value(const std::string& s) : kind_(Kind::kString), str_(s) {}  // NOLINT
  Value(const char* s) : kind_(Kind::kString), str_(s == nullptr ? "" : s) {}  // NOLINT
  Value(absl::string_view s) : kind_(Kind::kString), str_(s.data(), s.size()) {}  // NOLINT
  Value(bool b) : kind_(Kind::kBool), b_(b) {}                                   // NOLINT
  Value(int i) : kind_(Kind::kInt), i_(i) {}                                     // NOLINT
  Value(long i) : kind_(Kind::kInt), i_(i) {}                                    // NOLINT
  Value(long long i) : kind_(Kind::kInt), i_(i) {}                               // NOLINT
  Value(unsigned i) : kind_(Kind::kUint), u_(i) {}                               // NOLINT
  Value(unsigned long i) : kind_(Kind::kUint), u_(i) {}                          // NOLINT
  Value(unsigned long long i) : kind_(Kind::kUint), u_(i) {}                     // NOLINT
  Value(double d) : kind_(Kind::kDouble), d_(d) {}                               // NOLINT
  Value(float d) : kind_(Kind::kDouble), d_(d) {}                                // NOLINT
  Value(const absl::Status& s);                                                  // NOLINT
  Value(ObjectRef ref) : kind_(Kind::kRef), str_(ref.name), ns_(ref.ns) {}      // NOLINT

  Kind kind() const { return kind_; }
  // kString, kError: the text; kRef: the name.
  std::string_view str() const { return str_; }
  std::string_view ns() const { return ns_; }
  int64_t int_value() const { return i_; }
  uint64_t uint_value() const { return u_; }
  double double_value() const { return d_; }
  bool bool_value() const { return b_; }

 private:
  Kind kind_;
  std::string_view str_{};
  std::string_view ns_{};
  std::string owned_{};  // kError: the status text
  int64_t i_ = 0;
  uint64_t u_ = 0;
  double d_ = 0;
  bool b_ = false;
};

struct KV {
  std::string_view key;
  Value value;
};
using KVs = std::initializer_list<KV>;

// Where complete lines go (each ends in '\n'). Write is called under the logging
// lock, one call per record.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void Write(std::string_view line) = 0;
};
// The default sink: one write(2) per line to file descriptor 2.
Sink& StderrSink();

struct Options {
  // -v: V(n) is enabled for n <= verbosity.
  int verbosity = 0;
  // --vmodule: "pattern=N,..."; a pattern is a glob matched against the source
  // file's base name without extension ("reflector*=4"); the first match decides.
  std::string vmodule{};
  Format format = Format::kText;
  Sink* sink = nullptr;  // not owned; must outlive its use. nullptr: StderrSink()
  // Tests: a fixed clock, pid and zone. Defaults: absl::Now, getpid(), local zone.
  std::function<absl::Time()> now{};
  int pid = 0;
  absl::TimeZone time_zone = absl::LocalTimeZone();
};

// Replaces the process-wide configuration; a malformed vmodule is an
// InvalidArgument error and changes nothing.
absl::Status Configure(Options options);
// Changes only the verbosity (cheap; safe at any time).
void SetVerbosity(int verbosity);
int Verbosity();

// Reads -v=N / --v=N / -v N, --vmodule=SPEC and --logging-format=text|json from
// argv on top of `base`, removing them from argv (other arguments keep their
// order). Bad values are InvalidArgument errors. Does not call Configure.
absl::StatusOr<Options> ParseFlags(int* argc, char** argv, Options base = {});

// Parses a vmodule spec as Configure does (exposed for flag validation).
absl::Status ValidateVModule(std::string_view spec);

using Location = std::source_location;

void Info(std::string_view msg, KVs kvs = {}, Location loc = Location::current());
void Warning(std::string_view msg, KVs kvs = {}, Location loc = Location::current());
// `err` is written as err="..." (text: first pair; JSON: last field, as zapr does);
// an OK status writes no err.
void Error(const absl::Status& err, std::string_view msg, KVs kvs = {},
           Location loc = Location::current());
// Logs at F severity (JSON: as an error) and exits the process with status 255, as
// klog.Fatal does.
[[noreturn]] void Fatal(std::string_view msg, KVs kvs = {}, Location loc = Location::current());

// The result of V(n): logs only when verbosity (or vmodule for the caller's file)
// is at least n.
class Verbose {
 public:
  Verbose(bool enabled, int level) : enabled_(enabled), level_(level) {}
  bool enabled() const { return enabled_; }
  explicit operator bool() const { return enabled_; }
  void Info(std::string_view msg, KVs kvs = {}, Location loc = Location::current()) const;
  void Error(const absl::Status& err, std::string_view msg, KVs kvs = {},
             Location loc = Location::current()) const;

 private:
  bool enabled_;
  int level_;
};

// Cheap when disabled: one atomic load when no vmodule is set.
Verbose V(int level, Location loc = Location::current());

// The lowest level, for adapters: writes one record regardless of verbosity.
// `v` is the verbosity written in JSON (ignored for errors).
void Write(Severity severity, int v, const absl::Status& err, std::string_view msg, KVs kvs,
           Location loc);

}  // namespace kslice::log

// KSLICE_V(4).Info("msg", {{"k", Expensive()}}); evaluates the arguments only when
// level 4 is enabled for this file.
#define KSLICE_V(level)                                                        \
  if (::kslice::log::Verbose kslice_log_v_ = ::kslice::log::V(level); !kslice_log_v_) { \
  } else                                                                       \
    kslice_log_v_

#endif  // KSLICE_CONTROLLER_LOG_LOG_H_
