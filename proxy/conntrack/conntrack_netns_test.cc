// The cleanup against the real kernel, in a private network namespace of this test
// process: a UDP flow to a ClusterIP is DNATed by an iptables rule to an endpoint; the
// endpoint is replaced; CleanStaleEntries deletes the entry to the old one (and keeps
// live ones), through the real `conntrack` tool. Also: a flow sent before the Service had
// endpoints (never NATed) is deleted once it has one. Skips, saying why, where the
// namespace, iptables or conntrack are not available.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proxy/conntrack/cleanup.h"
#include "proxy/conntrack/conntrack.h"

namespace kslice::proxy::conntrack {
namespace {

bool Sh(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

void SendUdp(const std::string& ip, int port, int from_port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in src = {};
  src.sin_family = AF_INET;
  src.sin_port = htons(static_cast<uint16_t>(from_port));
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof(src)), 0);
  sockaddr_in dst = {};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &dst.sin_addr);
  const char msg[] = "ping";
  EXPECT_EQ(sendto(fd, msg, sizeof(msg), 0, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)),
            static_cast<ssize_t>(sizeof(msg)));
  close(fd);
}

ProxyState UdpService(const std::string& cluster_ip, int port, const std::string& ep_ip,
                      int ep_port, uint64_t version) {
  ServicePortName spn{"default", "dns", "dns", "UDP"};
  auto info = std::make_shared<ServicePortInfo>();
  info->cluster_ip = cluster_ip;
  info->port = port;
  info->protocol = "UDP";
  EndpointInfo ep;
  ep.ip = ep_ip;
  ep.port = ep_port;
  ProxyState s;
  s.version = version;
  s.services = std::make_shared<ServicePortMap>(ServicePortMap{{spn, info}});
  s.endpoints = std::make_shared<EndpointsMap>(
      EndpointsMap{{spn, std::make_shared<EndpointList>(EndpointList{ep})}});
  return s;
}

// Entries whose original destination is ip:port.
std::vector<Flow> FlowsTo(Conntrack& ct, const std::string& ip, int port) {
  absl::StatusOr<std::vector<Flow>> all = ct.List(IPFamily::kIPv4, "udp");
  EXPECT_TRUE(all.ok()) << all.status();
  std::vector<Flow> out;
  if (!all.ok()) return out;
  for (const Flow& f : *all) {
    if (f.orig_dst == ip && f.orig_dst_port == port) out.push_back(f);
  }
  return out;
}

TEST(ConntrackNetns, StaleDnatEntryDeletedLiveOneKept) {
  // iptables, ip and conntrack live in sbin folders a test runner's PATH may lack.
  setenv("PATH", absl::StrCat(getenv("PATH") != nullptr ? getenv("PATH") : "",
                              ":/usr/local/sbin:/usr/sbin:/sbin").c_str(), 1);
  if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespace, iptables, conntrack)";
  if (!ProgramAvailable("conntrack")) {
    GTEST_SKIP() << "the conntrack tool is not installed (Debian package conntrack)";
  }
  if (!ProgramAvailable("iptables") || !ProgramAvailable("ip")) {
    GTEST_SKIP() << "iptables or ip (iproute2) not installed";
  }
  if (unshare(CLONE_NEWNET) != 0) {
    GTEST_SKIP() << "cannot create a network namespace here: " << strerror(errno);
  }
  // This thread (and what it runs) is now in a fresh namespace, gone when the test ends.
  ASSERT_TRUE(Sh("ip link set lo up && ip link add ct0 type veth peer name ct1 && "
                 "ip link set ct0 up && ip link set ct1 up && "
                 "ip addr add 10.244.0.1/24 dev ct0 && ip route add 10.96.0.0/16 dev ct0"));
  ASSERT_TRUE(Sh("iptables -w -t nat -A OUTPUT -d 10.96.0.10 -p udp --dport 53 "
                 "-j DNAT --to-destination 10.244.0.3:5353"));

  std::unique_ptr<Runner> runner = NewExecRunner();
  Conntrack ct(*runner);
  SendUdp("10.96.0.10", 53, 40001);
  std::vector<Flow> flows = FlowsTo(ct, "10.96.0.10", 53);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].reply_src, "10.244.0.3");
  EXPECT_EQ(flows[0].reply_src_port, 5353);

  // The endpoint still serves: nothing is deleted.
  absl::StatusOr<CleanupResult> r =
      CleanStaleEntries(ct, UdpService("10.96.0.10", 53, "10.244.0.3", 5353, 1));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->deleted, 0);
  EXPECT_EQ(FlowsTo(ct, "10.96.0.10", 53).size(), 1u);

  // The endpoint is replaced (the proxy's rules now DNAT to .4): the entry to .3 goes.
  ASSERT_TRUE(Sh("iptables -w -t nat -F OUTPUT && iptables -w -t nat -A OUTPUT -d 10.96.0.10 "
                 "-p udp --dport 53 -j DNAT --to-destination 10.244.0.4:5353"));
  r = CleanStaleEntries(ct, UdpService("10.96.0.10", 53, "10.244.0.4", 5353, 2));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->filters, 1);
  EXPECT_EQ(r->deleted, 1);
  EXPECT_TRUE(FlowsTo(ct, "10.96.0.10", 53).empty());

  // The client's next packet is NATed afresh, to the new endpoint.
  SendUdp("10.96.0.10", 53, 40001);
  flows = FlowsTo(ct, "10.96.0.10", 53);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].reply_src, "10.244.0.4");

  // A flow to a Service that had no endpoints (no DNAT rule: the packet went out as is)
  // is deleted once the Service has one.
  SendUdp("10.96.0.11", 53, 40002);
  flows = FlowsTo(ct, "10.96.0.11", 53);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].reply_src, "10.96.0.11");
  r = CleanStaleEntries(ct, UdpService("10.96.0.11", 53, "10.244.0.4", 5353, 3));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->deleted, 1);
  EXPECT_TRUE(FlowsTo(ct, "10.96.0.11", 53).empty());
  // The live flow to the other Service was not touched.
  EXPECT_EQ(FlowsTo(ct, "10.96.0.10", 53).size(), 1u);
}

}  // namespace
}  // namespace kslice::proxy::conntrack
