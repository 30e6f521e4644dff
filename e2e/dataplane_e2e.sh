#!/usr/bin/env bash
# Real-dataplane end-to-end test of kslice-proxy's iptables mode (issue 7, docs/proxy.md
# "Dataplane tests") and nftables mode (issue 9, docs/nftables.md): the fifth argument (or
# $KSLICE_PROXY_MODE) is the --proxy-mode, `iptables` (default) or `nftables`; the checks
# are the same, only how the programmed rules are inspected differs. Network namespaces
# stand for the machines:
#
#   <p>sw     underlay switch: bridge br0 192.168.77.1/24, fd00:77::1/64
#   <p>api    192.168.77.2   kslice-apiserver (HTTPS on 192.168.77.2:6443), dual-stack
#                            --service-cluster-ip-range 10.96.0.0/16,fd00:10:96::/112
#   <p>node1  192.168.77.11 fd00:77::11  bridge cbr0 10.244.1.1/24 fd00:10:244:1::1/64,
#                                        kslice-proxy --hostname-override=node1
#   <p>node2  192.168.77.12 fd00:77::12  bridge cbr0 10.244.2.1/24 fd00:10:244:2::1/64,
#                                        kslice-proxy --hostname-override=node2
#   pods (veth to their node's cbr0, default routes via it), dual-stack:
#     <p>backend-a  10.244.1.11 fd00:10:244:1::11 on node1  whoami_server :8080 (each family)
#                                                           answering "backend-a"
#     <p>backend-b  10.244.2.11 fd00:10:244:2::11 on node2  the same, "backend-b"
#     <p>client     10.244.1.21 fd00:10:244:1::21 on node1  conn_tally
#     <p>client2    10.244.2.21 fd00:10:244:2::21 on node2  conn_tally
#
# Nodes route each other's pod /24 and /64 over the underlay and have default routes via br0
# (so that a ClusterIP without endpoints is forwarded, and rejected by KUBE-SERVICES in the
# filter table). IPv6 addresses are added without duplicate address detection (accept_dad=0,
# nodad) so that they work at once. Both proxies get a dual-stack --cluster-cidr, so each
# runs an IPv4 and an IPv6 proxier. Every address lives inside the namespaces; the host's
# tables are never touched. Objects (Nodes, Services with fixed ClusterIPs, EndpointSlices
# written by hand: deterministic, no endpointslice controller) are created with kubectl. Checks:
#   1. a pod reaches the ClusterIP; 200 connections spread over both endpoints, each
#      answering 60..140 (equal probabilities; ~6 standard deviations of slack);
#   2. NodePort: node2 itself reaches node1's NodePort (masqueraded, any endpoint);
#   3. an endpoint removed from the slice gets no new connections once the proxy synced
#      (polled in the node's nat table), and returns when put back;
#   4. ClientIP session affinity: each client is pinned to one endpoint;
#   5. a service without endpoints refuses connections quickly (REJECT -> ECONNREFUSED);
#   6. IPv6 (SingleStack IPv6 Services, IPv6 EndpointSlices; rules in ip6tables or the
#      `ip6 kube-proxy` table): 100 connections from a pod to [IPv6 ClusterIP]:80 reach both
#      endpoints, each 25..75 (~5 standard deviations); node2 reaches both through node1's
#      IPv6 NodePort (masqueraded, as in 2.); an IPv6 service without endpoints
#      refuses connections (ICMPv6 port unreachable -> ECONNREFUSED) within one SYN
#      retransmission (see the section for why not at once).
#
#   bazel test //e2e:dataplane_e2e_test //e2e:dataplane_nftables_e2e_test
#   e2e/dataplane_e2e.sh [kslice-apiserver kslice-proxy whoami_server conn_tally [MODE]]  # root
#
# Needs root (namespaces), iproute2, iptables + ip6tables (nf_tables or legacy) or nft, and
# kubectl. Skips (passes) only when network namespaces cannot be created. Everything it
# creates (namespaces, processes, temp files) is removed on exit, failure and interruption
# included; namespaces left by an earlier run that was killed (its pid is gone) are removed
# first.
set -euo pipefail

src_server="${1:-${KSLICE_APISERVER:-$PWD/cmd/kslice-apiserver/kslice-apiserver}}"
src_proxy="${2:-${KSLICE_PROXY:-$PWD/cmd/kslice-proxy/kslice-proxy}}"
src_whoami="${3:-${KSLICE_WHOAMI:-$PWD/e2e/tools/whoami_server}}"
src_tally="${4:-${KSLICE_CONN_TALLY:-$PWD/e2e/tools/conn_tally}}"
mode="${5:-${KSLICE_PROXY_MODE:-iptables}}"
case "$mode" in
  iptables | nftables) ;;
  *) echo "FAIL: unknown proxy mode '$mode' (iptables or nftables)" >&2; exit 1 ;;
esac

PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin:/usr/bin"
for bin in "$src_server" "$src_proxy" "$src_whoami" "$src_tally"; do
  [[ -x "$bin" ]] || { echo "FAIL: no executable at $bin" >&2; exit 1; }
done
command -v ip >/dev/null 2>&1 || { echo "FAIL: ip (iproute2) is not installed" >&2; exit 1; }

prefix_base="ksl-e2e-"
[[ "$mode" == nftables ]] && prefix_base="ksl-e2n-"
p="${prefix_base}$$-"
tmp_base="${TEST_TMPDIR:-/tmp}"

# Namespaces (and temp dirs) of earlier runs whose process is gone (killed before its
# trap ran): their processes are killed and the namespaces deleted.
remove_leftovers() {
  local ns pid
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    [[ "$ns" =~ ^${prefix_base}([0-9]+)- ]] || continue
    pid="${BASH_REMATCH[1]}"
    if [[ "$pid" != "$$" ]] && kill -0 "$pid" 2>/dev/null; then continue; fi
    delete_ns "$ns"
  done
  local dir
  for dir in "$tmp_base"/dataplane-e2e.*.*; do
    [[ -d "$dir" && "$dir" =~ /dataplane-e2e\.([0-9]+)\.[^/]*$ ]] || continue
    pid="${BASH_REMATCH[1]}"
    [[ "$pid" != "$$" ]] || continue  # ours goes in cleanup()
    kill -0 "$pid" 2>/dev/null && continue
    rm -rf "$dir"
  done
}
# Kills what runs in NS (TERM, then KILL) and deletes it (its veths go with it).
delete_ns() {
  local ns="$1" pids
  pids="$(ip netns pids "$ns" 2>/dev/null || true)"
  if [[ -n "$pids" ]]; then
    kill $pids 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      pids="$(ip netns pids "$ns" 2>/dev/null || true)"
      [[ -z "$pids" ]] && break
      sleep 0.2
    done
    [[ -n "$pids" ]] && kill -9 $pids 2>/dev/null || true
  fi
  ip netns del "$ns" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
# Can this machine create network namespaces? The only reason to skip.
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: not root; network namespaces cannot be created (dataplane e2e not run)"
  exit 0
fi
if ! ip netns add "${p}probe" 2>/dev/null; then
  echo "SKIP: 'ip netns add' is not allowed here (sandbox or missing CAP_SYS_ADMIN); dataplane e2e not run"
  exit 0
fi
if ! ip netns exec "${p}probe" ip link set lo up 2>/dev/null; then
  ip netns del "${p}probe" 2>/dev/null || true
  echo "SKIP: cannot enter a network namespace ('ip netns exec' fails); dataplane e2e not run"
  exit 0
fi
ip netns del "${p}probe"
if [[ "$mode" == nftables ]]; then tools="nft kubectl curl"; else tools="iptables iptables-save iptables-restore ip6tables-save ip6tables-restore kubectl curl"; fi
for tool in $tools; do
  command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: $tool is not installed" >&2; exit 1; }
done

tmp="$(mktemp -d "$tmp_base/dataplane-e2e.$$.XXXXXX")"
namespaces=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ $rc -ne 0 ]]; then
    for log in "$tmp"/*.log; do
      [[ -f "$log" ]] || continue
      echo "--- $(basename "$log") (last 30 lines)" >&2
      tail -n 30 "$log" >&2 || true
    done
    for node in node1 node2; do
      if ip netns list 2>/dev/null | awk '{print $1}' | grep -x >/dev/null "${p}${node}"; then
        if [[ "$mode" == nftables ]]; then
          echo "--- nft list table ip kube-proxy in $node" >&2
          ip netns exec "${p}${node}" nft list table ip kube-proxy 2>&1 | head -n 160 >&2 || true
          echo "--- nft list table ip6 kube-proxy in $node" >&2
          ip netns exec "${p}${node}" nft list table ip6 kube-proxy 2>&1 | head -n 120 >&2 || true
        else
          echo "--- iptables-save in $node" >&2
          ip netns exec "${p}${node}" iptables-save 2>&1 | grep -v '^#' | head -n 120 >&2 || true
          echo "--- ip6tables-save in $node" >&2
          ip netns exec "${p}${node}" ip6tables-save 2>&1 | grep -v '^#' | head -n 80 >&2 || true
        fi
      fi
    done
  fi
  local i
  for ((i = ${#namespaces[@]} - 1; i >= 0; i--)); do delete_ns "${namespaces[$i]}"; done
  remove_leftovers
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT
trap 'echo "FAIL: interrupted" >&2; exit 1' INT TERM
remove_leftovers

step=""
section() { step="$*"; echo "== $*"; }
fail() {
  echo "FAIL [$step]: $*" >&2
  exit 1
}
wait_for() {  # SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what="$2"
  shift 2
  until "$@"; do
    ((SECONDS < deadline)) || fail "timed out after waiting for $what"
    sleep 0.2
  done
}
in_ns() { local ns="$1"; shift; ip netns exec "${p}${ns}" "$@"; }

# Private copies: bazel-bin outputs may be replaced while the test runs.
cp "$src_server" "$tmp/kslice-apiserver"
cp "$src_proxy" "$tmp/kslice-proxy"
cp "$src_whoami" "$tmp/whoami_server"
cp "$src_tally" "$tmp/conn_tally"
chmod u+x "$tmp/kslice-apiserver" "$tmp/kslice-proxy" "$tmp/whoami_server" "$tmp/conn_tally"
export HOME="$tmp/home"
export KUBECONFIG="$tmp/kubeconfig"
mkdir -p "$HOME"

# ---------------------------------------------------------------------------------------------
section "topology: underlay, two nodes, four pods"
add_ns() {
  ip netns add "${p}$1"
  namespaces+=("${p}$1")
  # No duplicate address detection on the interfaces that come (IPv6 addresses usable at once).
  in_ns "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  in_ns "$1" ip link set lo up
}
add_ns sw
in_ns sw ip link add br0 type bridge
in_ns sw ip addr add 192.168.77.1/24 dev br0
in_ns sw ip addr add fd00:77::1/64 dev br0 nodad
in_ns sw ip link set br0 up

# underlay HOST IP IPV6: HOST's eth0 on the switch.
underlay() {
  local host="$1" ip="$2" ip6="$3"
  add_ns "$host"
  ip -n "${p}sw" link add "u-$host" type veth peer name eth0 netns "${p}$host"
  ip -n "${p}sw" link set "u-$host" master br0 up
  in_ns "$host" ip addr add "$ip/24" dev eth0
  in_ns "$host" ip addr add "$ip6/64" dev eth0 nodad
  in_ns "$host" ip link set eth0 up
}
underlay api 192.168.77.2 fd00:77::2
underlay node1 192.168.77.11 fd00:77::11
underlay node2 192.168.77.12 fd00:77::12

# node N: pod bridge cbr0 10.244.N.1/24 + fd00:10:244:N::1/64, forwarding, routes to the
# other node's pods.
node_net() {
  local n="$1" other="$2" other_ip="$3" other_ip6="$4"
  in_ns "node$n" ip link add cbr0 type bridge
  in_ns "node$n" ip addr add "10.244.$n.1/24" dev cbr0
  in_ns "node$n" ip addr add "fd00:10:244:$n::1/64" dev cbr0 nodad
  in_ns "node$n" ip link set cbr0 up
  in_ns "node$n" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  # Replies between two pods of one bridge must pass conntrack to be un-DNATed, as on a
  # kubelet node (br_netfilter); the default in a new namespace, set explicitly anyway.
  if [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]]; then
    in_ns "node$n" sysctl -qw net.bridge.bridge-nf-call-iptables=1
  fi
  if [[ -e /proc/sys/net/bridge/bridge-nf-call-ip6tables ]]; then
    in_ns "node$n" sysctl -qw net.bridge.bridge-nf-call-ip6tables=1
  fi
  in_ns "node$n" ip route add "10.244.$other.0/24" via "$other_ip"
  in_ns "node$n" ip route add default via 192.168.77.1
  in_ns "node$n" ip -6 route add "fd00:10:244:$other::/64" via "$other_ip6"
  in_ns "node$n" ip -6 route add default via fd00:77::1
}
node_net 1 2 192.168.77.12 fd00:77::12
node_net 2 1 192.168.77.11 fd00:77::11

# pod NAME NODE-NUMBER HOST-PART
pod() {
  local name="$1" n="$2" host="$3"
  add_ns "$name"
  ip -n "${p}node$n" link add "v-$name" type veth peer name eth0 netns "${p}$name"
  ip -n "${p}node$n" link set "v-$name" master cbr0 up
  in_ns "$name" ip addr add "10.244.$n.$host/24" dev eth0
  in_ns "$name" ip addr add "fd00:10:244:$n::$host/64" dev eth0 nodad
  in_ns "$name" ip link set eth0 up
  in_ns "$name" ip route add default via "10.244.$n.1"
  in_ns "$name" ip -6 route add default via "fd00:10:244:$n::1"
}
pod backend-a 1 11
pod backend-b 2 11
pod client 1 21
pod client2 2 21

# ---------------------------------------------------------------------------------------------
section "backends"
for b in backend-a:10.244.1.11:fd00:10:244:1::11 backend-b:10.244.2.11:fd00:10:244:2::11; do
  name="${b%%:*}"
  ips="${b#*:}"
  ip="${ips%%:*}"
  ip6="${ips#*:}"
  in_ns "$name" "$tmp/whoami_server" --listen="$ip:8080" --name="$name" >"$tmp/$name.log" 2>&1 &
  in_ns "$name" "$tmp/whoami_server" --listen="[$ip6]:8080" --name="$name" >"$tmp/$name-ipv6.log" 2>&1 &
done
tally() {  # NS TARGET CONNECTIONS [TIMEOUT_MS] -> $tmp/tally
  in_ns "$1" "$tmp/conn_tally" --target="$2" --connections="$3" --timeout-ms="${4:-3000}" \
    >"$tmp/tally" 2>&1 || fail "conn_tally in $1 failed: $(cat "$tmp/tally")"
}
count() { awk -v k="$1" -v n="${2:-}" '($1 == k && n == "") {print $2} ($1 == k && $2 == n) {print $3}' "$tmp/tally"; }
backend_up() { tally client "$1:8080" 1 1000; [[ "$(count answer "$2")" == 1 ]]; }
# Plain routing before any proxy rule: same node, and across nodes over the underlay.
wait_for 10 "backend-a to answer client" backend_up 10.244.1.11 backend-a
wait_for 10 "backend-b (node2) to answer client (node1)" backend_up 10.244.2.11 backend-b
wait_for 10 "backend-a to answer client over IPv6" backend_up '[fd00:10:244:1::11]' backend-a
wait_for 10 "backend-b (node2) to answer client (node1) over IPv6" backend_up '[fd00:10:244:2::11]' backend-b

# ---------------------------------------------------------------------------------------------
section "kslice-apiserver in the api namespace"
in_ns api "$tmp/kslice-apiserver" --bind-address=192.168.77.2 --port=6443 \
  --kubeconfig="$KUBECONFIG" --data-dir="$tmp/data" --cert-dir="$tmp/certs" \
  --service-cluster-ip-range=10.96.0.0/16,fd00:10:96::/112 \
  >"$tmp/apiserver.log" 2>&1 &
server_pid=$!
server_up() {
  kill -0 "$server_pid" 2>/dev/null || fail "kslice-apiserver exited"
  grep -q "serving on https://" "$tmp/apiserver.log" && [[ -f "$KUBECONFIG" ]]
}
wait_for 20 "the API server" server_up
grep -q "server: https://192.168.77.2:6443" "$KUBECONFIG" || fail "kubeconfig does not name 192.168.77.2:6443"
for n in node1 node2; do
  in_ns "$n" curl -sk --max-time 5 -o /dev/null https://192.168.77.2:6443/version ||
    fail "$n cannot reach the API server over the underlay"
done

# kubectl from node1 (it reaches the server over the underlay, as the proxies do).
k() {
  local rc=0
  timeout 20 ip netns exec "${p}node1" kubectl "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  if [[ $rc -ne 0 ]] || grep -qv -e '^Warning: ' -e '^WARNING: ' "$tmp/err"; then
    cat "$tmp/out" "$tmp/err" >&2
    fail "kubectl $* exited $rc or printed an error"
  fi
}

# slice NAME SERVICE ADDRESS:NODE... (an EndpointSlice with ready endpoints on port 8080;
# addressType $addr_type, IPv4 unless set)
slice_yaml() {
  local name="$1" svc="$2"
  shift 2
  cat <<EOF
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $name
  namespace: e2e
  labels:
    kubernetes.io/service-name: $svc
    endpointslice.kubernetes.io/managed-by: dataplane-e2e
addressType: ${addr_type:-IPv4}
ports:
- name: http
  protocol: TCP
  port: 8080
endpoints:
EOF
  local e
  for e in "$@"; do
    cat <<EOF
- addresses: ["${e%:*}"]
  conditions: {ready: true, serving: true, terminating: false}
  nodeName: ${e##*:}
EOF
  done
  [[ $# -gt 0 ]] || echo "  []"
}
apply_slice() { slice_yaml "$@" >"$tmp/slice.yaml"; k apply -f "$tmp/slice.yaml"; }
apply_slice6() { addr_type=IPv6 apply_slice "$@"; }

section "objects: nodes, services, endpoint slices"
k create namespace e2e
k apply -f - <<EOF
apiVersion: v1
kind: Node
metadata:
  name: node1
  labels: {kubernetes.io/hostname: node1}
spec:
  podCIDR: 10.244.1.0/24
  podCIDRs: [10.244.1.0/24, "fd00:10:244:1::/64"]
status:
  addresses: [{type: InternalIP, address: 192.168.77.11}, {type: InternalIP, address: "fd00:77::11"}]
---
apiVersion: v1
kind: Node
metadata:
  name: node2
  labels: {kubernetes.io/hostname: node2}
spec:
  podCIDR: 10.244.2.0/24
  podCIDRs: [10.244.2.0/24, "fd00:10:244:2::/64"]
status:
  addresses: [{type: InternalIP, address: 192.168.77.12}, {type: InternalIP, address: "fd00:77::12"}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: e2e}
spec:
  type: NodePort
  clusterIP: 10.96.100.10
  ports:
  - {name: http, protocol: TCP, port: 80, targetPort: 8080, nodePort: 30080}
---
apiVersion: v1
kind: Service
metadata: {name: sticky, namespace: e2e}
spec:
  clusterIP: 10.96.100.11
  sessionAffinity: ClientIP
  ports:
  - {name: http, protocol: TCP, port: 80, targetPort: 8080}
---
apiVersion: v1
kind: Service
metadata: {name: empty, namespace: e2e}
spec:
  clusterIP: 10.96.100.12
  ports:
  - {name: http, protocol: TCP, port: 80, targetPort: 8080}
---
apiVersion: v1
kind: Service
metadata: {name: web6, namespace: e2e}
spec:
  type: NodePort
  ipFamilyPolicy: SingleStack
  ipFamilies: [IPv6]
  clusterIP: "fd00:10:96::a10"
  ports:
  - {name: http, protocol: TCP, port: 80, targetPort: 8080, nodePort: 30086}
---
apiVersion: v1
kind: Service
metadata: {name: empty6, namespace: e2e}
spec:
  ipFamilyPolicy: SingleStack
  ipFamilies: [IPv6]
  clusterIP: "fd00:10:96::a12"
  ports:
  - {name: http, protocol: TCP, port: 80, targetPort: 8080}
EOF
apply_slice web-1 web 10.244.1.11:node1 10.244.2.11:node2
apply_slice sticky-1 sticky 10.244.1.11:node1 10.244.2.11:node2
apply_slice empty-1 empty
apply_slice6 web6-1 web6 fd00:10:244:1::11:node1 fd00:10:244:2::11:node2
apply_slice6 empty6-1 empty6
k get svc web -n e2e -o 'jsonpath={.spec.clusterIP} {.spec.ports[0].nodePort}'
[[ "$(cat "$tmp/out")" == "10.96.100.10 30080" ]] || fail "service web: got '$(cat "$tmp/out")'"
k get svc web6 -n e2e -o 'jsonpath={.spec.clusterIPs} {.spec.ipFamilies}'
[[ "$(cat "$tmp/out")" == '["fd00:10:96::a10"] ["IPv6"]' ]] || fail "service web6: got '$(cat "$tmp/out")'"

# ---------------------------------------------------------------------------------------------
section "kslice-proxy on each node"
for n in 1 2; do
  in_ns "node$n" "$tmp/kslice-proxy" --kubeconfig="$KUBECONFIG" --hostname-override="node$n" \
    --proxy-mode="$mode" --cluster-cidr=10.244.0.0/16,fd00:10:244::/56 --iptables-min-sync-period=100ms \
    --healthz-bind-address=127.0.0.1:10256 --metrics-bind-address=127.0.0.1:10249 -v=2 \
    >"$tmp/proxy-node$n.log" 2>&1 &
done
nat() { in_ns "$1" iptables-save -t nat; }
filter() { in_ns "$1" iptables-save -t filter; }
table() { in_ns "$1" nft list table ip kube-proxy 2>/dev/null; }
# The endpoints the cluster-policy chain of web:http dispatches to, "IP:8080 ..." sorted:
# iptables has one "-> IP:8080" rule per endpoint in KUBE-SVC-…; nftables one
# "goto endpoint-…__IP/8080" rule per endpoint in service-…-e2e/web/tcp/http.
web_endpoints() {
  if [[ "$mode" == nftables ]]; then
    table "$1" | awk '/chain service-[A-Z0-9]*-e2e\/web\/tcp\/http \{/ {f = 1; next} f && /^\t}/ {f = 0} f' |
      grep -o '__10\.244\.[0-9.]*/8080' | sed 's/^__//; s|/|:|' | sort | tr '\n' ' '
  else
    nat "$1" | grep -e '--comment "e2e/web:http -> ' | grep -o '10\.244\.[0-9.]*:8080' | sort | tr '\n' ' '
  fi
}
empty_rejected() {
  if [[ "$mode" == nftables ]]; then
    table "$1" | grep >/dev/null -e '10\.96\.100\.12 \. tcp \. 80 comment "e2e/empty:http" : goto reject-chain'
  else
    filter "$1" | grep >/dev/null -e '--comment "e2e/empty:http has no endpoints"'
  fi
}
programmed() {
  local n
  for n in node1 node2; do
    [[ "$(web_endpoints "$n")" == "10.244.1.11:8080 10.244.2.11:8080 " ]] || return 1
    empty_rejected "$n" || return 1
  done
}
wait_for 60 "both proxies to program the services" programmed
healthy() { [[ "$(in_ns "$1" curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:10256/healthz)" == 200 ]]; }
wait_for 20 "node1 /healthz 200" healthy node1
wait_for 20 "node2 /healthz 200" healthy node2
if [[ "$mode" == nftables ]]; then
  table node1 | grep >/dev/null -e '10\.96\.100\.10 \. tcp \. 80 : goto service-[A-Z0-9]*-e2e/web/tcp/http' ||
    fail "no service-ips element for e2e/web:http in node1"
  table node1 | grep >/dev/null -e 'numgen random mod 2 0 goto endpoint-[A-Z0-9]*-e2e/web/tcp/http__' ||
    fail "no 1-in-2 numgen rule in node1"
else
  nat node1 | grep >/dev/null -e '-A KUBE-SERVICES -d 10.96.100.10/32 -p tcp -m comment --comment "e2e/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-' ||
    fail "no ClusterIP rule for e2e/web:http in node1"
  nat node1 | grep >/dev/null -e '-A KUBE-SVC-[A-Z0-9]* .*-m statistic --mode random --probability 0\.50* -j KUBE-SEP-' ||
    fail "no 0.5 probability rule in node1"
fi

# ---------------------------------------------------------------------------------------------
section "ClusterIP: 200 connections from a pod spread over both endpoints"
tally client 10.96.100.10:80 200
cat "$tmp/tally"
[[ "$(count answered)" == 200 ]] || fail "only $(count answered) of 200 connections answered: $(cat "$tmp/tally")"
a="$(count answer backend-a)"
b="$(count answer backend-b)"
((a >= 60 && a <= 140 && b >= 60 && b <= 140)) ||
  fail "unequal spread: backend-a $a, backend-b $b (want each in 60..140)"

section "ClusterIP from a pod of the other node"
tally client2 10.96.100.10:80 40
[[ "$(count answered)" == 40 ]] || fail "client2: only $(count answered) of 40 answered: $(cat "$tmp/tally")"

# ---------------------------------------------------------------------------------------------
section "NodePort: node2 reaches node1's NodePort"
tally node2 192.168.77.11:30080 60
cat "$tmp/tally"
[[ "$(count answered)" == 60 ]] || fail "only $(count answered) of 60 NodePort connections answered"
[[ -n "$(count answer backend-a)" && -n "$(count answer backend-b)" ]] ||
  fail "NodePort reached only one endpoint over 60 connections: $(cat "$tmp/tally")"
# Masqueraded: node1 marks NodePort traffic, so backend-b (on node2) answers through node1.
if [[ "$mode" == nftables ]]; then
  table node1 | grep >/dev/null -e 'tcp \. 30080 : goto external-[A-Z0-9]*-e2e/web/tcp/http' ||
    fail "no service-nodeports element for 30080 in node1"
else
  nat node1 | grep >/dev/null -e '-A KUBE-NODEPORTS -p tcp -m comment --comment "e2e/web:http" -m tcp --dport 30080 -j KUBE-EXT-' ||
    fail "no KUBE-NODEPORTS rule for 30080 in node1"
fi

# ---------------------------------------------------------------------------------------------
section "an endpoint removed from the slice gets no new connections"
apply_slice web-1 web 10.244.1.11:node1
only_a() { [[ "$(web_endpoints node1)" == "10.244.1.11:8080 " ]]; }
wait_for 30 "node1 to drop 10.244.2.11 from e2e/web" only_a
tally client 10.96.100.10:80 100
[[ "$(count answer backend-a)" == 100 ]] || fail "after removing backend-b: $(cat "$tmp/tally")"
apply_slice web-1 web 10.244.1.11:node1 10.244.2.11:node2
both() { [[ "$(web_endpoints node1)" == "10.244.1.11:8080 10.244.2.11:8080 " ]]; }
wait_for 30 "node1 to add 10.244.2.11 back" both
tally client 10.96.100.10:80 100
[[ "$(count answered)" == 100 && -n "$(count answer backend-b)" ]] ||
  fail "backend-b not reached again after it was put back: $(cat "$tmp/tally")"

# ---------------------------------------------------------------------------------------------
section "ClientIP session affinity pins each client"
if [[ "$mode" == nftables ]]; then
  table node1 | grep >/dev/null -e 'ip saddr @affinity-[A-Z0-9]*-e2e/sticky/tcp/http__10\.244\.[0-9.]*/8080 goto endpoint-' ||
    fail "no affinity-set rule in node1"
  table node1 | grep >/dev/null -e 'timeout 3h' ||
    fail "no affinity set with the 10800 s timeout in node1"
else
  nat node1 | grep >/dev/null -e '-m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-' ||
    fail "no recent-match affinity rule in node1"
fi
for c in client client2; do
  tally "$c" 10.96.100.11:80 50
  [[ "$(count answered)" == 50 ]] || fail "$c: only $(count answered) of 50 answered"
  [[ "$(grep -c '^answer ' "$tmp/tally")" == 1 ]] || fail "$c not pinned to one endpoint: $(cat "$tmp/tally")"
  echo "$c pinned to $(awk '$1 == "answer" {print $2}' "$tmp/tally")"
done

# ---------------------------------------------------------------------------------------------
section "a service without endpoints refuses connections"
if [[ "$mode" == nftables ]]; then
  empty_rejected node1 || fail "no no-endpoint-services element for e2e/empty:http in node1"
else
  filter node1 | grep >/dev/null -e '-A KUBE-SERVICES -d 10.96.100.12/32 -p tcp -m comment --comment "e2e/empty:http has no endpoints" -m tcp --dport 80 -j REJECT' ||
    fail "no REJECT rule for e2e/empty:http in node1's filter table"
fi
tally client 10.96.100.12:80 5 3000
cat "$tmp/tally"
[[ "$(count refused)" == 5 ]] || fail "want 5 refused connections: $(cat "$tmp/tally")"
(($(count max_ms) < 1000)) || fail "refusal took $(count max_ms) ms (want < 1000)"

# ---------------------------------------------------------------------------------------------
section "IPv6: the IPv6 proxiers program the IPv6 services"
table6() { in_ns "$1" nft list table ip6 kube-proxy 2>/dev/null; }
# The IPv6 endpoints the proxy DNATs e2e/web6:http to, "[IP]:8080 ..." sorted (the only
# Service with IPv6 endpoints, so every IPv6 DNAT target in the ip6 table is one of them).
web6_endpoints() {
  if [[ "$mode" == nftables ]]; then
    table6 "$1" | grep -o 'dnat .*to \[fd00:10:244:[0-9a-f:]*\]:8080' | grep -o '\[.*' | sort -u | tr '\n' ' '
  else
    in_ns "$1" ip6tables-save -t nat | grep -e '--comment "e2e/web6:http -> ' |
      grep -o '\[fd00:10:244:[0-9a-f:]*\]:8080' | sort | tr '\n' ' '
  fi
}
empty6_rejected() {
  if [[ "$mode" == nftables ]]; then
    table6 "$1" | grep >/dev/null -e 'fd00:10:96::a12 \. tcp \. 80 comment "e2e/empty6:http" : goto reject-chain'
  else
    in_ns "$1" ip6tables-save -t filter | grep >/dev/null -e '--comment "e2e/empty6:http has no endpoints"'
  fi
}
programmed6() {
  local n
  for n in node1 node2; do
    [[ "$(web6_endpoints "$n")" == "[fd00:10:244:1::11]:8080 [fd00:10:244:2::11]:8080 " ]] || return 1
    empty6_rejected "$n" || return 1
  done
}
wait_for 30 "both IPv6 proxiers to program e2e/web6 and e2e/empty6" programmed6
if [[ "$mode" == nftables ]]; then
  table6 node1 | grep >/dev/null -e 'fd00:10:96::a10 \. tcp \. 80 : goto service-[A-Z0-9]*-e2e/web6/tcp/http' ||
    fail "no ip6 service-ips element for e2e/web6:http in node1"
  ! table node1 | grep >/dev/null -e 'e2e/web6' || fail "the ip table of node1 has rules for the IPv6 service e2e/web6"
else
  in_ns node1 ip6tables-save -t nat | grep >/dev/null -e '-A KUBE-SERVICES -d fd00:10:96::a10/128 -p tcp -m comment --comment "e2e/web6:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-' ||
    fail "no IPv6 ClusterIP rule for e2e/web6:http in node1"
  ! nat node1 | grep >/dev/null -e 'e2e/web6' || fail "the IPv4 nat table of node1 has rules for the IPv6 service e2e/web6"
fi

section "IPv6: ClusterIP, 100 connections from a pod spread over both endpoints"
tally client '[fd00:10:96::a10]:80' 100
cat "$tmp/tally"
[[ "$(count answered)" == 100 ]] || fail "only $(count answered) of 100 IPv6 connections answered: $(cat "$tmp/tally")"
a="$(count answer backend-a)"
b="$(count answer backend-b)"
((a >= 25 && a <= 75 && b >= 25 && b <= 75)) ||
  fail "unequal IPv6 spread: backend-a $a, backend-b $b (want each in 25..75)"
tally client2 '[fd00:10:96::a10]:80' 20
[[ "$(count answered)" == 20 ]] || fail "client2: only $(count answered) of 20 IPv6 connections answered: $(cat "$tmp/tally")"

section "IPv6: NodePort, node2 reaches node1's [fd00:77::11]:30086"
tally node2 '[fd00:77::11]:30086' 40
cat "$tmp/tally"
[[ "$(count answered)" == 40 ]] || fail "only $(count answered) of 40 IPv6 NodePort connections answered"
[[ -n "$(count answer backend-a)" && -n "$(count answer backend-b)" ]] ||
  fail "the IPv6 NodePort reached only one endpoint over 40 connections: $(cat "$tmp/tally")"

section "IPv6: a service without endpoints refuses connections"
# Refused, not timed out (a DROP would time out at 3000 ms), but not at once: every
# namespace shares one kernel, so the node's ICMP error for the first SYN reaches the
# client while connect() still holds its socket, and TCP drops it (the client's
# TcpExtLockDroppedIcmps counts one per connection, in both families). IPv4 still fails
# the connect at once; IPv6 (kernel 6.18 here) waits for the SYN retransmitted after 1 s,
# whose ICMPv6 port unreachable then refuses it. So ~1 s per IPv6 refusal, ~0 ms for IPv4.
tally client '[fd00:10:96::a12]:80' 5 3000
cat "$tmp/tally"
[[ "$(count refused)" == 5 ]] || fail "want 5 refused IPv6 connections: $(cat "$tmp/tally")"
(($(count max_ms) < 2000)) || fail "IPv6 refusal took $(count max_ms) ms (want < 2000: one SYN retransmission)"

section "the proxies are still running"
for n in 1 2; do
  [[ -n "$(ip netns pids "${p}node$n")" ]] || fail "kslice-proxy in node$n exited"
done
echo "PASS"
