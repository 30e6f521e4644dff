// Conversions between the proxy model (proxy/types.h) and the wire messages of the
// proxy state API (proxy_state.proto), on both sides of a Watch stream.
//
// Server side: EncodeSnapshot / EncodeDelta turn ProxyStates into the StateUpdate
// messages of one update (split into parts so no message grows past a few hundred KB).
//
// Client side: StateReplica applies the messages of a stream, checks that they form an
// unbroken chain of versions, and keeps the result as an ordinary ProxyState — the
// same immutable, pointer-sharing snapshot a local backend takes, so an agent can hand
// it straight to NewBackend("iptables", ...)->Sync():
//
//   StateReplica replica;
//   while (stream->Read(&msg)) {
//     absl::StatusOr<std::optional<AppliedUpdate>> r = replica.Apply(msg);
//     if (!r.ok()) { reconnect with a fresh snapshot; }
//     if (r->has_value()) backend->Sync(replica.state(), (*r)->ToSyncHint());
//   }
//
// FormatState prints a state as stable text (sorted, one line per service port and
// endpoint); the agent's --print and the grpc backend's dry run use it.
#ifndef KSLICE_PROXY_GRPC_CODEC_H_
#define KSLICE_PROXY_GRPC_CODEC_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proxy/backend.h"
#include "proxy/grpc/proxy_state.pb.h"
#include "proxy/types.h"

namespace kslice::proxy::grpc {

namespace v1 = ::kslice::proxy::v1;

// The messages of one logical update, in send order; shared by every stream that sends
// it (never modified after creation).
using UpdateMessages = std::vector<std::shared_ptr<const v1::StateUpdate>>;

// A part of an update closes when its service ports hold this many "units" (one per
// service port plus one per endpoint; ~40 bytes each on the wire).
inline constexpr size_t kDefaultUnitsPerMessage = 16384;

v1::IPFamily ToProto(IPFamily family);
// InvalidArgument for UNSPECIFIED or an unknown value.
absl::StatusOr<IPFamily> FromProto(v1::IPFamily family);

void ToProto(const ServicePortName& name, v1::ServicePortName* out);
void ToProto(const NodeContext& node, v1::NodeContext* out);
// One entry: `info` and `endpoints` may be null (absent from that map).
void ToProto(const ServicePortName& name, const ServicePortInfo* info,
             const EndpointList* endpoints, v1::ServicePort* out);

// InvalidArgument naming the problem for an empty namespace, name or protocol.
absl::StatusOr<ServicePortName> FromProto(const v1::ServicePortName& name);

// The whole of `state` as snapshot parts tagged with `instance`.
UpdateMessages EncodeSnapshot(const ProxyState& state, const std::string& instance,
                              size_t units_per_message = kDefaultUnitsPerMessage);

// The entries of `from` -> `to` whose Service port or endpoints differ, among
// `candidates` (nullopt: every name in either state). Compared by pointer first, then
// by value, so over-reported candidates cost little and produce nothing.
struct StateDiff {
  std::vector<ServicePortName> upserted;  // present in `to`, sorted
  std::vector<ServicePortName> removed;   // in `from`, in neither map of `to`, sorted
  bool node_changed = false;
  bool empty() const { return upserted.empty() && removed.empty() && !node_changed; }
};
StateDiff Diff(const ProxyState& from, const ProxyState& to,
               const std::optional<std::set<ServicePortName>>& candidates);

// The candidate names a SyncHint allows (hint.full: nullopt = all): hint.changed_ports
// plus every port of hint.changed_services found in either state.
std::optional<std::set<ServicePortName>> CandidatesFromHint(const ProxyState& from,
                                                            const ProxyState& to,
                                                            const SyncHint& hint);

// `diff` as delta parts from `from.version` to `to.version`. Always at least one
// message (an empty delta still advances the version).
UpdateMessages EncodeDelta(const ProxyState& from, const ProxyState& to, const StateDiff& diff,
                           const std::string& instance,
                           size_t units_per_message = kDefaultUnitsPerMessage);

// What a complete update changed in a StateReplica.
struct AppliedUpdate {
  bool snapshot = false;
  uint64_t version = 0;
  uint64_t previous_version = 0;  // deltas: the version it applied on; snapshots: 0
  std::set<ServicePortName> changed_ports;   // deltas only
  std::set<std::string> changed_services;    // deltas only: "<ns>/<name>"
  bool node_changed = false;

  // The hint for a local backend whose last successful Sync had `last_applied`
  // (0: none): full on snapshots, node changes, or a gap in versions.
  SyncHint ToSyncHint(uint64_t last_applied) const;
};

// The client's copy of the streamed state. Not thread-safe.
class StateReplica {
 public:
  // Applies one message. Returns the completed update when `message` is the last part
  // of one, nullopt when more parts are expected. Errors (the replica is then reset to
  // empty; reconnect with resume_from_version 0):
  //  - InvalidArgument: malformed message (no update, bad names or family, a part of a
  //    different update than the one in progress);
  //  - FailedPrecondition: a delta that does not follow the current version or instance.
  absl::StatusOr<std::optional<AppliedUpdate>> Apply(const v1::StateUpdate& message);

  // The state after the last complete update (version 0: none yet).
  const ProxyState& state() const { return state_; }
  uint64_t version() const { return state_.version; }
  const std::string& instance() const { return instance_; }
  void Reset();

 private:
  absl::StatusOr<std::optional<AppliedUpdate>> ApplySnapshot(const v1::StateUpdate& m);
  absl::StatusOr<std::optional<AppliedUpdate>> ApplyDelta(const v1::StateUpdate& m);

  ProxyState state_;
  std::string instance_;
  // An update in progress (parts received, last one not yet).
  struct Pending;
  std::shared_ptr<Pending> pending_;
};

// Stable text form of a state (header, node labels, then per service port a line and
// its endpoint lines), ending with "end\n".
std::string FormatState(const ProxyState& state);

}  // namespace kslice::proxy::grpc

#endif  // KSLICE_PROXY_GRPC_CODEC_H_
