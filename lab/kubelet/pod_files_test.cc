#include "lab/kubelet/pod_files.h"

#include <signal.h>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace kslice::lab::kubelet {
namespace {

using api::core::v1::Pod;

TEST(NamesTest, NetnsAndVeth) {
  EXPECT_EQ(PodNetnsName("default", "multitool-1-bgssq"), "lab-pod-default-multitool-1-bgssq");
  std::string v = VethName("default", "multitool-1-bgssq");
  EXPECT_EQ(v.size(), 12u);
  EXPECT_TRUE(absl::StartsWith(v, "veth"));
  EXPECT_EQ(v, VethName("default", "multitool-1-bgssq")) << "stable";
  EXPECT_NE(v, VethName("default", "multitool-1-n5s2c"));
  EXPECT_NE(VethName("a", "b-c"), VethName("a-b", "c")) << "the separator is part of the hash";
  EXPECT_EQ(VethName("", ""), "veth2a0c975e") << "FNV-1a of \"/\" (computed independently)";
}

TEST(HostsTest, ServicesGetNamesAndTheOwnNamespaceTheBareName) {
  std::vector<ServiceEntry> s = {{"kube-system", "kube-dns", "10.96.0.10"},
                                 {"default", "nginx-service", "10.96.204.67"}};
  std::string h =
      RenderHosts("default", "multitool-1-bgssq", "192.168.202.194", s, "cluster.local");
  EXPECT_NE(h.find("127.0.0.1\tlocalhost\n"), std::string::npos);
  EXPECT_NE(h.find("192.168.202.194\tmultitool-1-bgssq\n"), std::string::npos);
  EXPECT_NE(
      h.find("10.96.204.67\tnginx-service.default.svc.cluster.local nginx-service.default.svc "
             "nginx-service.default nginx-service\n"),
      std::string::npos)
      << h;
  EXPECT_NE(h.find("10.96.0.10\tkube-dns.kube-system.svc.cluster.local kube-dns.kube-system.svc "
                   "kube-dns.kube-system\n"),
            std::string::npos)
      << h;
  // Sorted: default before kube-system, whatever the input order.
  EXPECT_LT(h.find("nginx-service"), h.find("kube-dns"));
  std::vector<ServiceEntry> reversed(s.rbegin(), s.rend());
  EXPECT_EQ(
      h, RenderHosts("default", "multitool-1-bgssq", "192.168.202.194", reversed, "cluster.local"));
  // From another namespace no bare name.
  std::string other = RenderHosts("kube-system", "p", "10.0.0.9", s, "cluster.local");
  EXPECT_NE(other.find("nginx-service.default\n"), std::string::npos) << other;
  EXPECT_NE(other.find("kube-dns.kube-system kube-dns\n"), std::string::npos) << other;
}

TEST(HostsTest, OnlyServicesWithAClusterIP) {
  std::vector<api::core::v1::Service> list(3);
  list[0].mutable_metadata()->set_name("a");
  list[0].mutable_spec()->set_clusterip("10.96.0.1");
  list[1].mutable_metadata()->set_name("headless");
  list[1].mutable_spec()->set_clusterip("None");
  list[2].mutable_metadata()->set_name("ext");
  list[2].mutable_spec()->set_type("ExternalName");
  std::vector<ServiceEntry> e = ServiceEntries(list);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].name, "a");
}

TEST(HostsTest, ResolvConf) {
  EXPECT_EQ(RenderResolvConf("default", "cluster.local"),
            "# kslice lab: no DNS server; names resolve from /etc/hosts.\n"
            "search default.svc.cluster.local svc.cluster.local cluster.local\n"
            "options ndots:5\n");
}

TEST(RuntimeTest, ImageRepositoryName) {
  EXPECT_EQ(ImageRepositoryName("nginx"), "nginx");
  EXPECT_EQ(ImageRepositoryName("nginx:1.28"), "nginx");
  EXPECT_EQ(ImageRepositoryName("docker.io/library/nginx:1.28.0"), "nginx");
  EXPECT_EQ(ImageRepositoryName("registry:5000/team/nginx:v1"), "nginx");
  EXPECT_EQ(ImageRepositoryName("nginx@sha256:abc"), "nginx");
  EXPECT_EQ(ImageRepositoryName("wbitt/network-multitool"), "network-multitool");
  EXPECT_EQ(ImageRepositoryName("nginxinc/nginx-unprivileged"), "nginx-unprivileged");
}

Pod PodWith(const std::string& image) {
  Pod p;
  p.mutable_metadata()->set_name("nginx-deployment-55d7bb4b86-xqh9d");
  p.mutable_metadata()->set_namespace_("default");
  auto* c = p.mutable_spec()->add_containers();
  c->set_name("nginx");
  c->set_image(image);
  return p;
}

TEST(RuntimeTest, NginxGetsAGeneratedConfig) {
  Pod p = PodWith("nginx:1.28");
  auto l = ResolveContainer(p, p.spec().containers(0), "/state/pods/x/nginx");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->runtime, "nginx");
  EXPECT_EQ(l->stop_signal, SIGQUIT);
  ASSERT_GE(l->argv.size(), 3u);
  EXPECT_EQ(l->argv[0], "/usr/sbin/nginx");
  EXPECT_EQ(l->argv[2], "/state/pods/x/nginx/nginx.conf");
  ASSERT_TRUE(l->files.contains("/state/pods/x/nginx/nginx.conf"));
  const std::string& conf = l->files.at("/state/pods/x/nginx/nginx.conf");
  for (const char* want :
       {"daemon off;", "pid /state/pods/x/nginx/nginx.pid;",
        "error_log /state/pods/x/nginx/error.log;", "access_log /state/pods/x/nginx/access.log;",
        "client_body_temp_path /state/pods/x/nginx/tmp/body;", "listen 80 default_server;",
        "root /var/www/html;", "index.nginx-debian.html",
        "add_header X-Pod-IP $server_addr always;",
        "add_header X-Pod-Name \"nginx-deployment-55d7bb4b86-xqh9d\" always;"}) {
    EXPECT_NE(conf.find(want), std::string::npos) << want << "\n" << conf;
  }
  EXPECT_EQ(conf.find("/var/log/nginx"), std::string::npos) << "nothing outside the pod dir";
  EXPECT_EQ(conf.find("/run/nginx"), std::string::npos);
  // The web root follows the options.
  RuntimeOptions o;
  o.web_root = "/srv/www";
  EXPECT_NE(NginxConfig("p", "/d", o).find("root /srv/www;"), std::string::npos);
}

TEST(RuntimeTest, OtherImagesRunTheirCommandOrSleep) {
  Pod p = PodWith("wbitt/network-multitool");
  auto l = ResolveContainer(p, p.spec().containers(0), "/d");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->runtime, "exec");
  EXPECT_EQ(l->argv, (std::vector<std::string>{"sleep", "infinity"}));
  EXPECT_EQ(l->stop_signal, SIGTERM);
  auto* c = p.mutable_spec()->mutable_containers(0);
  c->add_command("sh");
  c->add_command("-c");
  c->add_args("echo hi; sleep 3600");
  l = ResolveContainer(p, p.spec().containers(0), "/d");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->argv, (std::vector<std::string>{"sh", "-c", "echo hi; sleep 3600"}));
  c->clear_image();
  EXPECT_FALSE(ResolveContainer(p, p.spec().containers(0), "/d").ok());
}

TEST(RuntimeTest, EnvAndEnteringThePod) {
  Pod p = PodWith("busybox");
  p.mutable_metadata()->set_uid("u-1");
  p.mutable_spec()->set_nodename("lab-worker");
  auto* c = p.mutable_spec()->mutable_containers(0);
  auto* e = c->add_env();
  e->set_name("GREETING");
  e->set_value("hello world");
  e = c->add_env();
  e->set_name("MY_IP");
  e->mutable_valuefrom()->mutable_fieldref()->set_fieldpath("status.podIP");
  e = c->add_env();
  e->set_name("NODE");
  e->mutable_valuefrom()->mutable_fieldref()->set_fieldpath("spec.nodeName");
  e = c->add_env();
  e->set_name("SECRET");
  e->mutable_valuefrom()->mutable_secretkeyref()->set_key("k");
  std::vector<std::string> env = ContainerEnv(p, *c, "10.0.0.9", "172.18.0.3");
  EXPECT_EQ(env[1], "HOSTNAME=nginx-deployment-55d7bb4b86-xqh9d");
  EXPECT_EQ(env[2], "GREETING=hello world");
  EXPECT_EQ(env[3], "MY_IP=10.0.0.9");
  EXPECT_EQ(env[4], "NODE=lab-worker");
  EXPECT_EQ(env.size(), 5u) << "secrets are not in the lab";
  EXPECT_EQ(InPod("lab-pod-default-x", {"A=1"}, {"sleep", "infinity"}),
            (std::vector<std::string>{"ip", "netns", "exec", "lab-pod-default-x", "env", "-i",
                                      "A=1", "sleep", "infinity"}));
}

}  // namespace
}  // namespace kslice::lab::kubelet
