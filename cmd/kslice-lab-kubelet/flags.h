// kslice-lab-kubelet's command line (the lab contract's flags; kubelet's names where
// kubelet has the flag), parsed with cmd/internal/flags (pflag syntax).
#ifndef KSLICE_CMD_KSLICE_LAB_KUBELET_FLAGS_H_
#define KSLICE_CMD_KSLICE_LAB_KUBELET_FLAGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "api/core/v1/core.pb.h"
#include "lab/kubelet/kubelet.h"

namespace kslice::lab::cmd {

struct Flags {
  std::string kubeconfig;
  std::string netns;  // --netns: enter /run/netns/<name> first
  bool cleanup = false;
  bool help = false;
  kubelet::KubeletOptions options;
};

// Parses argv (without argv[0]; logging flags already removed). Errors name the flag.
// Required flags are checked by kubelet::ValidateOptions (not here), except that
// --cleanup needs only --node-name and --state-dir.
absl::StatusOr<Flags> ParseFlags(const std::vector<std::string>& args);

// "k=v,k2=v2" (empty: none).
absl::StatusOr<std::map<std::string, std::string>> ParseLabels(const std::string& s);
// "key=value:Effect,key:Effect" with Effect NoSchedule, PreferNoSchedule or NoExecute.
absl::StatusOr<std::vector<api::core::v1::Taint>> ParseTaints(const std::string& s);

extern const char kUsage[];

}  // namespace kslice::lab::cmd

#endif  // KSLICE_CMD_KSLICE_LAB_KUBELET_FLAGS_H_
