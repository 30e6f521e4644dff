#include "lab/kubelet/sandbox.h"

#include <signal.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lab/kubelet/fake_runner.h"

namespace kslice::lab::kubelet {
namespace {

namespace fs = std::filesystem;

std::string TempDir(const std::string& name) {
  const char* t = getenv("TEST_TMPDIR");
  std::string d = absl::StrCat(t ? t : "/tmp", "/", name);
  fs::remove_all(d);
  return d;
}

SandboxSpec Spec() {
  return {"lab-pod-default-web", "veth12345678", "192.168.202.196", 26, "192.168.202.193", "cni0"};
}

TEST(SandboxTest, SetUpRunsTheCommandsInOrder) {
  FakeRunner r;
  ASSERT_TRUE(SetUpSandbox(r, Spec()).ok());
  EXPECT_EQ(r.commands(),
            (std::vector<std::string>{
                "ip link del veth12345678",
                "ip neigh del 192.168.202.196 dev cni0",
                "ip netns add lab-pod-default-web",
                "ip link add veth12345678 type veth peer name eth0 netns lab-pod-default-web",
                "ip link set veth12345678 master cni0 up",
                "ip -n lab-pod-default-web link set lo up",
                "ip -n lab-pod-default-web addr add 192.168.202.196/26 dev eth0",
                "ip -n lab-pod-default-web link set eth0 up",
                "ip -n lab-pod-default-web route add default via 192.168.202.193 dev eth0",
            }));
}

TEST(SandboxTest, AFailureUndoesAndNamesTheCommand) {
  FakeRunner r;
  r.On("ip link set veth12345678 master",
       CommandResult{1, 0, "Cannot find device \"cni0\"\n", false});
  absl::Status st = SetUpSandbox(r, Spec());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("master cni0 up failed (exit 1): Cannot find device \"cni0\""),
            std::string::npos)
      << st;
  std::vector<std::string> c = r.commands();
  ASSERT_GE(c.size(), 2u);
  EXPECT_EQ(c[c.size() - 2], "ip link del veth12345678");
  EXPECT_EQ(c.back(), "ip netns del lab-pod-default-web");
}

TEST(SandboxTest, TearDownKillsWhatRunsThereAndRefusesForeignNamespaces) {
  FakeRunner r;
  r.On("ip netns pids lab-pod-default-web", CommandResult{0, 0, "4242\n4343\n", false});
  std::string etc = TempDir("etc-netns");
  fs::create_directories(etc + "/lab-pod-default-web");
  std::ofstream(etc + "/lab-pod-default-web/hosts") << "x";
  ASSERT_TRUE(TearDownSandbox(r, "lab-pod-default-web", "veth12345678", etc).ok());
  EXPECT_EQ(r.signals(), (std::vector<std::pair<int, int>>{{4242, SIGKILL}, {4343, SIGKILL}}));
  EXPECT_EQ(r.commands(), (std::vector<std::string>{"ip netns pids lab-pod-default-web",
                                                    "ip link del veth12345678",
                                                    "ip netns del lab-pod-default-web"}));
  EXPECT_FALSE(fs::exists(etc + "/lab-pod-default-web"));
  FakeRunner r2;
  EXPECT_EQ(TearDownSandbox(r2, "lab-control-plane", "", etc).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TearDownSandbox(r2, "lab-pod-../x", "", etc).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(r2.commands().empty()) << "nothing run for a namespace it does not own";
}

TEST(StateDirTest, RecordsRoundTripAndBelongToOneNode) {
  PodRecord rec{
      "default",      "web",      "u-1",      "lab-pod-default-web",
      "veth12345678", "10.0.0.9", 1700000000, {{"nginx", 4242, 2, 1700000001}, {"side", 0, 0, 0}}};
  absl::StatusOr<PodRecord> back = ParseRecord(SerializeRecord(rec));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(SerializeRecord(*back), SerializeRecord(rec));
  EXPECT_EQ(back->containers[0].pid, 4242);
  EXPECT_FALSE(ParseRecord("namespace a\nname b\nnetns other\n").ok())
      << "not a lab-pod- namespace";
  EXPECT_FALSE(ParseRecord("garbage line here\n").ok());

  std::string d = TempDir("state");
  auto s = StateDir::Open(d, "lab-worker");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->WriteRecord(rec).ok());
  ASSERT_TRUE(s->MarkNetns("lab-pod-default-web").ok());
  EXPECT_EQ(s->MarkedNetns(), std::vector<std::string>{"lab-pod-default-web"});
  std::vector<PodRecord> all = s->Records();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].ip, "10.0.0.9");
  EXPECT_EQ(StateDir::Open(d, "lab-worker2").status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(StateDir::Open(d, "lab-worker").ok()) << "the same node again";
  ASSERT_TRUE(s->RemovePod("default", "web").ok());
  EXPECT_TRUE(s->Records().empty());
}

TEST(StateDirTest, CleanupTouchesOnlyMarkedNamespaces) {
  std::string d = TempDir("state-cleanup");
  std::string etc = TempDir("etc-cleanup");
  {
    auto s = StateDir::Open(d, "n1");
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(s->MarkNetns("lab-pod-default-a").ok());
    ASSERT_TRUE(s->WriteRecord(
                     {"default", "a", "u", "lab-pod-default-a", "vethaaaaaaaa", "10.0.0.9", 1, {}})
                    .ok());
    ASSERT_TRUE(s->MarkNetns("lab-pod-default-b").ok());  // half built: no record
  }
  FakeRunner r;
  ASSERT_TRUE(CleanupNode(r, d, "n1", etc).ok());
  std::vector<std::string> c = r.commands();
  EXPECT_NE(std::find(c.begin(), c.end(), "ip netns del lab-pod-default-a"), c.end());
  EXPECT_NE(std::find(c.begin(), c.end(), "ip link del vethaaaaaaaa"), c.end());
  EXPECT_NE(std::find(c.begin(), c.end(), "ip netns del lab-pod-default-b"), c.end());
  for (const std::string& cmd : c)
    EXPECT_EQ(cmd.find("netns del lab-pod-other"), std::string::npos);
  auto s = StateDir::Open(d, "n1");
  EXPECT_TRUE(s->MarkedNetns().empty());
  EXPECT_TRUE(s->Records().empty());
  EXPECT_EQ(CleanupNode(r, d, "n2", etc).code(), absl::StatusCode::kFailedPrecondition)
      << "another node's dir";
  FakeRunner none;
  EXPECT_TRUE(CleanupNode(none, TempDir("never-created"), "n1", etc).ok());
  EXPECT_TRUE(none.commands().empty());
}

TEST(FilesTest, WriteInPlaceKeepsTheInode) {
  std::string d = TempDir("inplace");
  fs::create_directories(d);
  std::string p = d + "/hosts";
  ASSERT_TRUE(*WriteFileInPlace(p, "one\n"));
  struct stat a {
  }, b{};
  stat(p.c_str(), &a);
  EXPECT_FALSE(*WriteFileInPlace(p, "one\n")) << "unchanged: not written";
  ASSERT_TRUE(*WriteFileInPlace(p, "two two\n"));
  stat(p.c_str(), &b);
  EXPECT_EQ(a.st_ino, b.st_ino);
  std::ifstream in(p);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(s, "two two\n");
}

}  // namespace
}  // namespace kslice::lab::kubelet
