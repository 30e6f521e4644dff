#include "cmd/internal/flags/flags.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "api/codec/go_time.h"

namespace kslice::cmd::flags {

absl::Status Bad(absl::string_view flag, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("invalid value for --", flag, ": ", message));
}

absl::Status ParseArgs(const std::vector<std::string>& args, const std::vector<Flag>& flags) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    absl::string_view body = arg;
    if (!absl::ConsumePrefix(&body, "--") && !absl::ConsumePrefix(&body, "-")) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", arg, "\""));
    }
    std::string name(body), value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    const Flag* flag = nullptr;
    for (const Flag& f : flags) {
      for (const std::string& n : f.names) {
        if (n == name) flag = &f;
      }
    }
    if (flag == nullptr || name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag: ", arg));
    }
    if (!has_value) {
      if (flag->boolean) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat("flag needs an argument: ", arg));
      }
    }
    if (absl::Status s = flag->set(value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

Setter StringSetter(std::string* out) {
  return [out](const std::string& v) {
    *out = v;
    return absl::OkStatus();
  };
}

Setter BoolSetter(std::string name, bool* out) {
  return [name, out](const std::string& v) {
    if (!absl::SimpleAtob(v, out)) return Bad(name, absl::StrCat("\"", v, "\" is not a boolean"));
    return absl::OkStatus();
  };
}

Setter IntSetter(std::string name, int* out) {
  return [name, out](const std::string& v) {
    if (!absl::SimpleAtoi(v, out)) return Bad(name, absl::StrCat("\"", v, "\" is not an integer"));
    return absl::OkStatus();
  };
}

Setter Int32Setter(std::string name, int32_t* out) {
  return [name, out](const std::string& v) {
    if (!absl::SimpleAtoi(v, out)) return Bad(name, absl::StrCat("\"", v, "\" is not an integer"));
    return absl::OkStatus();
  };
}

Setter FloatSetter(std::string name, float* out) {
  return [name, out](const std::string& v) {
    if (!absl::SimpleAtof(v, out)) return Bad(name, absl::StrCat("\"", v, "\" is not a number"));
    return absl::OkStatus();
  };
}

Setter DurationSetter(std::string name, absl::Duration* out) {
  return [name, out](const std::string& v) {
    absl::StatusOr<int64_t> ns = codec::ParseGoDuration(v);
    if (!ns.ok()) {
      return Bad(name,
                 absl::StrCat("\"", v, "\" is not a duration (examples: 0, 500ms, 1s, 1m30s)"));
    }
    *out = absl::Nanoseconds(*ns);
    return absl::OkStatus();
  };
}

Setter KeyValueSetter(std::string name, std::map<std::string, std::string>* out) {
  return [name, out](const std::string& v) {
    const size_t eq = v.find('=');
    if (eq == std::string::npos) {
      return Bad(name, absl::StrCat("\"", v, "\" is not KEY=VALUE"));
    }
    std::string key = v.substr(0, eq);
    if (key.empty()) return Bad(name, absl::StrCat("\"", v, "\" has an empty key"));
    for (char c : key) {
      if (absl::ascii_isspace(static_cast<unsigned char>(c)) ||
          !absl::ascii_isprint(static_cast<unsigned char>(c))) {
        return Bad(name, absl::StrCat("key \"", key, "\" contains whitespace or control characters"));
      }
    }
    (*out)[std::move(key)] = v.substr(eq + 1);
    return absl::OkStatus();
  };
}

void AddLeaderElectionFlags(LeaderElectionFlags* out, std::vector<Flag>* table) {
  table->push_back({{"leader-elect"}, true, BoolSetter("leader-elect", &out->leader_elect)});
  table->push_back({{"leader-elect-lease-duration"}, false,
                    DurationSetter("leader-elect-lease-duration", &out->lease_duration)});
  table->push_back({{"leader-elect-renew-deadline"}, false,
                    DurationSetter("leader-elect-renew-deadline", &out->renew_deadline)});
  table->push_back({{"leader-elect-retry-period"}, false,
                    DurationSetter("leader-elect-retry-period", &out->retry_period)});
  table->push_back({{"leader-elect-resource-name"}, false, StringSetter(&out->lease_name)});
  table->push_back(
      {{"leader-elect-resource-namespace"}, false, StringSetter(&out->lease_namespace)});
  table->push_back({{"leader-elect-resource-lock"}, false, StringSetter(&out->lock)});
}

absl::Status ValidateLeaderElection(const LeaderElectionFlags& f) {
  if (f.lock != "leases") {
    return Bad("leader-elect-resource-lock",
               absl::StrCat("\"", f.lock, "\": only \"leases\" is supported"));
  }
  // The checks and messages of client-go's NewLeaderElector.
  if (f.lease_duration <= f.renew_deadline) {
    return absl::InvalidArgumentError(
        "--leader-elect-lease-duration (leaseDuration) must be greater than "
        "--leader-elect-renew-deadline (renewDeadline)");
  }
  if (f.renew_deadline <= f.retry_period * 1.2) {
    return absl::InvalidArgumentError(
        "--leader-elect-renew-deadline (renewDeadline) must be greater than "
        "--leader-elect-retry-period (retryPeriod) * 1.2 (JitterFactor)");
  }
  if (f.lease_duration <= absl::ZeroDuration() || f.renew_deadline <= absl::ZeroDuration() ||
      f.retry_period <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("leader-election durations must be greater than zero");
  }
  if (f.lease_name.empty() || f.lease_namespace.empty()) {
    return absl::InvalidArgumentError(
        "--leader-elect-resource-name and --leader-elect-resource-namespace must not be empty");
  }
  return absl::OkStatus();
}

}  // namespace kslice::cmd::flags
