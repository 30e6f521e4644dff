#include "lab/kubelet/sandbox.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "lab/kubelet/pod_files.h"

namespace kslice::lab::kubelet {

namespace fs = std::filesystem;

namespace {

absl::Status RunOk(Runner& runner, const std::vector<std::string>& argv) {
  absl::StatusOr<CommandResult> r = runner.Run(argv);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::InternalError(absl::StrCat(JoinArgv(argv), " failed (exit ", r->exit_code,
                                            "): ", absl::StripAsciiWhitespace(r->output)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::Status WriteFileAtomic(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
    if (!out.flush()) return absl::InternalError("cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return absl::InternalError("cannot rename " + tmp + ": " + ec.message());
  return absl::OkStatus();
}

bool ValidName(const std::string& s) {
  return !s.empty() && s.find('/') == std::string::npos && s != "." && s != "..";
}

}  // namespace

absl::Status SetUpSandbox(Runner& runner, const SandboxSpec& s) {
  if (!absl::StartsWith(s.netns, kPodNetnsPrefix)) {
    return absl::InvalidArgumentError("pod namespace without the lab-pod- prefix: " + s.netns);
  }
  (void)runner.Run({"ip", "link", "del", s.veth});  // a leftover of an earlier run, if any
  // A reused address: the node's neighbour entry may still hold the previous pod's MAC
  // (reachable for up to ~45 s of neighbour-cache aging). Forget it; failing is fine.
  (void)runner.Run({"ip", "neigh", "del", s.ip, "dev", s.bridge});
  const std::string cidr = absl::StrCat(s.ip, "/", s.prefix_length);
  const std::vector<std::vector<std::string>> steps = {
      {"ip", "netns", "add", s.netns},
      {"ip", "link", "add", s.veth, "type", "veth", "peer", "name", "eth0", "netns", s.netns},
      {"ip", "link", "set", s.veth, "master", s.bridge, "up"},
      {"ip", "-n", s.netns, "link", "set", "lo", "up"},
      {"ip", "-n", s.netns, "addr", "add", cidr, "dev", "eth0"},
      {"ip", "-n", s.netns, "link", "set", "eth0", "up"},
      {"ip", "-n", s.netns, "route", "add", "default", "via", s.gateway, "dev", "eth0"},
  };
  for (const auto& argv : steps) {
    absl::Status st = RunOk(runner, argv);
    if (!st.ok()) {
      (void)runner.Run({"ip", "link", "del", s.veth});
      (void)runner.Run({"ip", "netns", "del", s.netns});
      return st;
    }
  }
  return absl::OkStatus();
}

absl::Status TearDownSandbox(Runner& runner, const std::string& netns, const std::string& veth,
                             const std::string& etc_netns_dir) {
  if (!absl::StartsWith(netns, kPodNetnsPrefix) || !ValidName(netns)) {
    return absl::InvalidArgumentError(
        "refusing to remove a namespace the lab kubelet does not own: " + netns);
  }
  absl::StatusOr<CommandResult> pids = runner.Run({"ip", "netns", "pids", netns});
  if (pids.ok() && pids->exit_code == 0) {
    for (absl::string_view p :
         absl::StrSplit(pids->output, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
      int pid = 0;
      if (absl::SimpleAtoi(p, &pid) && pid > 1) (void)runner.Signal(pid, SIGKILL);
    }
  }
  if (!veth.empty()) (void)runner.Run({"ip", "link", "del", veth});
  absl::StatusOr<CommandResult> del = runner.Run({"ip", "netns", "del", netns});
  if (del.ok() && del->exit_code != 0 && !absl::StrContains(del->output, "No such file")) {
    return absl::InternalError(
        absl::StrCat("ip netns del ", netns, ": ", absl::StripAsciiWhitespace(del->output)));
  }
  if (!etc_netns_dir.empty()) {
    std::error_code ec;
    fs::remove_all(fs::path(etc_netns_dir) / netns, ec);
  }
  return absl::OkStatus();
}

std::string SerializeRecord(const PodRecord& r) {
  std::string out =
      absl::StrCat("namespace ", r.ns, "\nname ", r.name, "\nuid ", r.uid, "\nnetns ", r.netns,
                   "\nveth ", r.veth, "\nip ", r.ip, "\nstart_time ", r.start_time, "\n");
  for (const ContainerRecord& c : r.containers) {
    absl::StrAppend(&out, "container ", c.name, " ", c.pid, " ", c.restart_count, " ", c.started_at,
                    "\n");
  }
  return out;
}

absl::StatusOr<PodRecord> ParseRecord(const std::string& text) {
  PodRecord r;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<std::string> w = absl::StrSplit(line, ' ');
    if (w.size() == 2) {
      if (w[0] == "namespace")
        r.ns = w[1];
      else if (w[0] == "name")
        r.name = w[1];
      else if (w[0] == "uid")
        r.uid = w[1];
      else if (w[0] == "netns")
        r.netns = w[1];
      else if (w[0] == "veth")
        r.veth = w[1];
      else if (w[0] == "ip")
        r.ip = w[1];
      else if (w[0] == "start_time" && !absl::SimpleAtoi(w[1], &r.start_time)) {
        return absl::InvalidArgumentError("bad start_time: " + w[1]);
      }
    } else if (w.size() == 5 && w[0] == "container") {
      ContainerRecord c;
      c.name = w[1];
      if (!absl::SimpleAtoi(w[2], &c.pid) || !absl::SimpleAtoi(w[3], &c.restart_count) ||
          !absl::SimpleAtoi(w[4], &c.started_at)) {
        return absl::InvalidArgumentError(absl::StrCat("bad container line: ", line));
      }
      r.containers.push_back(c);
    } else if (!(w.size() == 1 && (w[0] == "ip" || w[0] == "veth" || w[0] == "uid"))) {
      // "ip " with an empty value splits into {"ip", ""}: handled above (size 2).
      return absl::InvalidArgumentError(absl::StrCat("bad record line: ", line));
    }
  }
  if (r.ns.empty() || r.name.empty() || !absl::StartsWith(r.netns, kPodNetnsPrefix)) {
    return absl::InvalidArgumentError("record without namespace, name or lab-pod- netns");
  }
  return r;
}

absl::StatusOr<StateDir> StateDir::Open(const std::string& dir, const std::string& node_name) {
  if (dir.empty()) return absl::InvalidArgumentError("--state-dir is required");
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "netns", ec);
  if (!ec) fs::create_directories(fs::path(dir) / "pods", ec);
  if (ec)
    return absl::FailedPreconditionError("cannot create state dir " + dir + ": " + ec.message());
  const std::string node_file = (fs::path(dir) / "node").string();
  absl::StatusOr<std::string> owner = ReadFile(node_file);
  if (owner.ok()) {
    std::string o(absl::StripAsciiWhitespace(*owner));
    if (o != node_name) {
      return absl::FailedPreconditionError(
          absl::StrCat("state dir ", dir, " belongs to node \"", o, "\", not \"", node_name, "\""));
    }
  } else if (absl::Status st = WriteFileAtomic(node_file, node_name + "\n"); !st.ok()) {
    return st;
  }
  StateDir s;
  s.dir_ = dir;
  return s;
}

std::string StateDir::PodDir(const std::string& ns, const std::string& name) const {
  return (fs::path(dir_) / "pods" / absl::StrCat(ns, "_", name)).string();
}

absl::Status StateDir::MarkNetns(const std::string& netns) {
  if (!ValidName(netns)) return absl::InvalidArgumentError("bad namespace name " + netns);
  return WriteFileAtomic((fs::path(dir_) / "netns" / netns).string(),
                         "created by kslice-lab-kubelet\n");
}

absl::Status StateDir::UnmarkNetns(const std::string& netns) {
  if (!ValidName(netns)) return absl::InvalidArgumentError("bad namespace name " + netns);
  std::error_code ec;
  fs::remove(fs::path(dir_) / "netns" / netns, ec);
  return absl::OkStatus();
}

std::vector<std::string> StateDir::MarkedNetns() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(dir_) / "netns", ec)) {
    std::string n = e.path().filename().string();
    if (absl::StartsWith(n, kPodNetnsPrefix) && !absl::EndsWith(n, ".tmp")) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::Status StateDir::WriteRecord(const PodRecord& r) {
  std::string d = PodDir(r.ns, r.name);
  std::error_code ec;
  fs::create_directories(d, ec);
  if (ec) return absl::InternalError("cannot create " + d + ": " + ec.message());
  return WriteFileAtomic(d + "/record", SerializeRecord(r));
}

absl::Status StateDir::RemovePod(const std::string& ns, const std::string& name) {
  std::error_code ec;
  fs::remove_all(PodDir(ns, name), ec);
  if (ec) return absl::InternalError("cannot remove " + PodDir(ns, name) + ": " + ec.message());
  return absl::OkStatus();
}

std::vector<PodRecord> StateDir::Records(std::vector<std::string>* errors) const {
  std::vector<PodRecord> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(dir_) / "pods", ec)) {
    absl::StatusOr<std::string> text = ReadFile((e.path() / "record").string());
    if (!text.ok()) {
      if (errors) errors->push_back(std::string(text.status().message()));
      continue;
    }
    absl::StatusOr<PodRecord> r = ParseRecord(*text);
    if (!r.ok()) {
      if (errors) errors->push_back(e.path().string() + ": " + std::string(r.status().message()));
      continue;
    }
    out.push_back(*std::move(r));
  }
  return out;
}

absl::StatusOr<bool> WriteFileInPlace(const std::string& path, const std::string& content) {
  absl::StatusOr<std::string> old = ReadFile(path);
  if (old.ok() && *old == content) return false;
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError("cannot write " + path);
  size_t off = 0;
  while (off < content.size()) {
    ssize_t w = write(fd, content.data() + off, content.size() - off);
    if (w <= 0) {
      close(fd);
      return absl::InternalError("short write to " + path);
    }
    off += static_cast<size_t>(w);
  }
  close(fd);
  return true;
}

absl::Status CleanupNode(Runner& runner, const std::string& state_dir, const std::string& node_name,
                         const std::string& etc_netns_dir) {
  if (!fs::exists(state_dir)) return absl::OkStatus();  // nothing was ever created
  absl::StatusOr<StateDir> dir = StateDir::Open(state_dir, node_name);
  if (!dir.ok()) return dir.status();
  absl::Status first = absl::OkStatus();
  std::map<std::string, std::string> veths;  // netns -> veth
  for (const PodRecord& r : dir->Records()) {
    // Processes are found through their namespace (ip netns pids), never by a
    // recorded pid: after a reboot that pid may belong to somebody else.
    veths[r.netns] = r.veth;
  }
  for (const std::string& netns : dir->MarkedNetns()) {
    std::string veth = veths.contains(netns) ? veths[netns] : "";
    absl::Status st = TearDownSandbox(runner, netns, veth, etc_netns_dir);
    if (st.ok()) st = dir->UnmarkNetns(netns);
    if (!st.ok() && first.ok()) first = st;
  }
  std::error_code ec;
  fs::remove_all(fs::path(state_dir) / "pods", ec);
  fs::create_directories(fs::path(state_dir) / "pods", ec);
  return first;
}

}  // namespace kslice::lab::kubelet
