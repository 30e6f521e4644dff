#!/usr/bin/env bash
# kslice-trace on real kernel rules, in throwaway named network namespaces
# (ksl-trace-<pid>-a, -b; removed on exit, failure or signal):
#
#  A. No server. kslice-proxy's dry-run payload for the lab objects
#     (testdata/proxy/lab.yaml) is applied with iptables-restore in namespace -a;
#     `ip netns exec ... kslice-trace default/nginx-service --objects-file lab.yaml` exits 0
#     and prints the seed's chains; a KUBE-SEP jump deleted with `iptables -t nat -D`
#     makes it exit 1 naming the missing endpoint (text and JSON).
#  B. The lab path. Namespace -b has an eth0 (veth) with lab-worker's address 172.18.0.3 and runs
#     kslice-apiserver (127.0.0.1, --service-cluster-ip-range 10.96.0.0/16) and a real
#     kslice-proxy (--hostname-override lab-worker). Nodes lab-worker / lab-worker2, the
#     seed's Service and EndpointSlice are created with kubectl. Then, as the lab helper
#     runs it, `ip netns exec -b kslice-trace default/nginx-service --kubeconfig K`
#     (no --node: the node is found by its address) exits 0; a third endpoint is added
#     and the proxy's rules give 33.3% each; the proxy is stopped, a KUBE-SEP jump deleted
#     by hand: exit 1 naming it.
#  C. nftables (when nft is installed): proxy/trace/testdata/lab_nft.nft (upstream's
#     layout) loaded with `nft -f`, traced with --mode nftables (exit 0), its service-ips
#     element deleted (exit 1, named).
#
#   bazel test //cmd/kslice-trace:kslice_trace_netns_test
#   cmd/kslice-trace/kslice_trace_netns_test.sh [kslice-trace kslice-proxy kslice-apiserver]
#
# Needs root, iproute2, iptables and kubectl; skips (passes) only where network namespaces
# cannot be created. Runs outside the sandbox (it creates /run/netns entries) and alone.
set -euo pipefail

trace_bin="${1:-$PWD/cmd/kslice-trace/kslice-trace}"
proxy_bin="${2:-$PWD/cmd/kslice-proxy/kslice-proxy}"
server_bin="${3:-$PWD/cmd/kslice-apiserver/kslice-apiserver}"
lab="$PWD/testdata/proxy/lab.yaml"
export PATH="$PATH:/usr/sbin:/sbin:/usr/bin"

[[ "$(id -u)" == 0 ]] || { echo "SKIP: needs root for network namespaces and iptables"; exit 0; }
command -v ip >/dev/null 2>&1 || { echo "SKIP: ip (iproute2) not found"; exit 0; }
for tool in iptables iptables-save iptables-restore kubectl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: $tool not found" >&2; exit 1; }
done
for b in "$trace_bin" "$proxy_bin" "$server_bin"; do
  [[ -x "$b" ]] || { echo "FAIL: no binary at $b" >&2; exit 1; }
done

prefix="ksl-trace-$$"
ns_a="$prefix-a"
ns_b="$prefix-b"
tmp="$(mktemp -d "${TEST_TMPDIR:-/tmp}/kslice-trace-netns.XXXXXX")"
pids=()

# Namespaces and temp dirs of an earlier run killed with SIGKILL (its pid gone).
for old in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^ksl-trace-' || true); do
  pid="${old#ksl-trace-}"
  pid="${pid%%-*}"
  if ! kill -0 "$pid" 2>/dev/null; then
    for p in $(ip netns pids "$old" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns delete "$old" 2>/dev/null || true
  fi
done

cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ $rc -ne 0 ]]; then
    for log in server proxy; do
      [[ -f "$tmp/$log.log" ]] || continue
      echo "--- $log log (last 30 lines)" >&2
      tail -n 30 "$tmp/$log.log" >&2 || true
    done
    [[ -f "$tmp/out" ]] && { echo "--- last kslice-trace output" >&2; cat "$tmp/out" "$tmp/err" >&2; }
  fi
  for ns in "$ns_a" "$ns_b"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns delete "$ns" 2>/dev/null || true
  done
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if ! ip netns add "$ns_a" 2>/dev/null; then
  echo "SKIP: cannot create a network namespace (ip netns add failed)"
  exit 0
fi
if ! ip netns exec "$ns_a" true 2>/dev/null; then
  echo "SKIP: cannot enter a network namespace (ip netns exec failed)"
  exit 0
fi
ip netns add "$ns_b"

step=""
section() { step="$*"; echo "== $*"; }
fail() { echo "FAIL [$step]: $*" >&2; exit 1; }
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local secs="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    ((SECONDS < deadline)) || fail "timed out after ${secs}s waiting for $what"
    sleep 0.2
  done
}
trace() {  # trace NS ARGS...: rc, $tmp/out, $tmp/err
  local ns="$1"
  shift
  rc=0
  timeout 60 ip netns exec "$ns" "$trace_bin" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
}
expect() {  # expect PATTERN: in the last trace's stdout
  grep -qE -- "$1" "$tmp/out" || fail "/$1/ not in the output:
$(cat "$tmp/out" "$tmp/err")"
}
# Deletes the SVC chain's jump to the endpoint IP, as an operator would.
delete_jump() {  # delete_jump NS CHAIN IP
  local line
  line="$(ip netns exec "$1" iptables -t nat -S "$2" | grep -- "-> $3:80" | grep -v -- '--rcheck')" ||
    fail "no rule for $3 in $2"
  eval "ip netns exec \"$1\" iptables -t nat ${line/-A /-D }" || fail "iptables -D failed: $line"
}

section "A: the proxy's payload applied with iptables-restore"
ip netns exec "$ns_a" ip link set lo up
"$proxy_bin" --dry-run -f "$lab" --hostname-override k8-services-worker \
  --cluster-cidr 192.168.0.0/16 >"$tmp/payload" || fail "kslice-proxy --dry-run"
# No nfacct counters in a fresh namespace (kslice-proxy drops the match then too).
sed 's/ -m nfacct --nfacct-name [a-z_]*//' "$tmp/payload" >"$tmp/payload.restore"
ip netns exec "$ns_a" iptables-restore --noflush <"$tmp/payload.restore" || fail "iptables-restore"
trace "$ns_a" default/nginx-service --objects-file "$lab"
[[ $rc -eq 0 ]] || fail "consistent rules: exit $rc"
expect "KUBE-SVC-6IM33IEVEEV7U3GP"
expect "50.0% of new connections .* -> KUBE-SEP-M6MI3YLHVX7DA53R -> DNAT 192.168.156.5:80"
expect "^consistent"

section "A: a KUBE-SEP jump deleted with iptables -t nat -D"
delete_jump "$ns_a" KUBE-SVC-6IM33IEVEEV7U3GP 192.168.156.5
trace "$ns_a" default/nginx-service --objects-file "$lab"
[[ $rc -eq 1 ]] || fail "after the deletion: exit $rc, want 1"
expect "missing-endpoint: endpoint 192.168.156.5:80 .* should get traffic from KUBE-SVC-6IM33IEVEEV7U3GP"
expect "stale-chain: chain KUBE-SEP-M6MI3YLHVX7DA53R"
trace "$ns_a" default/nginx-service --objects-file "$lab" -o json
[[ $rc -eq 1 ]] || fail "-o json after the deletion: exit $rc, want 1"
expect '"kind": "missing-endpoint"'

section "B: kslice-apiserver and kslice-proxy in lab-worker's namespace"
ip netns exec "$ns_b" ip link set lo up
# A veth pair inside the namespace stands for the underlay link (no dummy module needed).
ip netns exec "$ns_b" ip link add eth0 type veth peer name eth0-peer || fail "ip link add"
ip netns exec "$ns_b" ip addr add 172.18.0.3/16 dev eth0 || fail "ip addr add"
ip netns exec "$ns_b" ip link set eth0 up || fail "ip link set up"
ip netns exec "$ns_b" ip link set eth0-peer up || fail "ip link set up"
export HOME="$tmp/home"
kubeconfig="$tmp/kubeconfig"
mkdir -p "$HOME"
ip netns exec "$ns_b" "$server_bin" --port=0 --kubeconfig="$kubeconfig" --data-dir="$tmp/data" \
  --cert-dir="$tmp/certs" --service-cluster-ip-range=10.96.0.0/16 >"$tmp/server.log" 2>&1 &
pids+=($!)
server_up() { grep -q "serving on https://" "$tmp/server.log" && [[ -f "$kubeconfig" ]]; }
wait_for 30 "kslice-apiserver" server_up
k() { timeout 20 ip netns exec "$ns_b" kubectl --kubeconfig "$kubeconfig" "$@"; }

node_yaml() {  # node_yaml NAME IP ZONE
  cat <<YAML
apiVersion: v1
kind: Node
metadata:
  name: $1
  labels: {kubernetes.io/hostname: $1, topology.kubernetes.io/zone: $3}
status:
  addresses: [{type: InternalIP, address: "$2"}, {type: Hostname, address: $1}]
YAML
}
for n in "lab-worker 172.18.0.3 zone-a" "lab-worker2 172.18.0.4 zone-b"; do
  # shellcheck disable=SC2086
  node_yaml $n | k create -f - >/dev/null || fail "create node $n"
done
# Status is the kubelet's to write: set the addresses through the status subresource too.
for n in "lab-worker 172.18.0.3" "lab-worker2 172.18.0.4"; do
  set -- $n
  k patch node "$1" --subresource=status --type=merge \
    -p "{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"$2\"}]}}" >/dev/null ||
    fail "patch node status $1"
done
apply_objects() {  # apply_objects ENDPOINT_IP:NODE... (zones as the lab labels its nodes)
  local endpoints=""
  local node zone
  for e in "$@"; do
    node="${e#*:}"
    case "$node" in lab-worker) zone=zone-a ;; lab-worker2) zone=zone-b ;; *) zone=zone-c ;; esac
    endpoints+="
- addresses: [\"${e%%:*}\"]
  conditions: {ready: true, serving: true, terminating: false}
  nodeName: $node
  zone: $zone"
  done
  k apply -f - >/dev/null <<YAML || fail "kubectl apply"
apiVersion: v1
kind: Service
metadata: {name: nginx-service, namespace: default}
spec:
  type: ClusterIP
  clusterIP: 10.96.204.67
  selector: {app: nginx}
  ports: [{name: http, protocol: TCP, port: 80, targetPort: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: nginx-service-6zrf8
  namespace: default
  labels: {kubernetes.io/service-name: nginx-service}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 80}]
endpoints:$endpoints
YAML
}
apply_objects 192.168.202.196:lab-worker 192.168.156.5:lab-worker2

ip netns exec "$ns_b" "$proxy_bin" --kubeconfig "$kubeconfig" --hostname-override lab-worker \
  --cluster-cidr 192.168.0.0/16 --iptables-min-sync-period 0s --healthz-bind-address "" \
  --metrics-bind-address "" >"$tmp/proxy.log" 2>&1 &
proxy_pid=$!
pids+=($proxy_pid)
branches() {  # branches N: the SVC chain has N jumps to SEP chains
  local n
  n="$(ip netns exec "$ns_b" iptables -t nat -S KUBE-SVC-6IM33IEVEEV7U3GP 2>/dev/null |
    grep -c -- '-j KUBE-SEP-' || true)"
  [[ "$n" == "$1" ]]
}
wait_for 30 "the proxy's rules (2 endpoints)" branches 2

section "B: ip netns exec NODE kslice-trace SERVICE --kubeconfig K (as the lab runs it)"
trace "$ns_b" default/nginx-service --kubeconfig "$kubeconfig"
[[ $rc -eq 0 ]] || fail "rules programmed by kslice-proxy: exit $rc"
expect "^Service default/nginx-service on node lab-worker \(iptables\)"
expect "192.168.202.196:80 +ready, node lab-worker, zone zone-a, local"
expect "DNAT 192.168.156.5:80 \[ready, node lab-worker2, zone zone-b\]"

section "B: a third endpoint: 33.3% each"
apply_objects 192.168.202.196:lab-worker 192.168.156.5:lab-worker2 192.168.145.11:lab-control-plane
wait_for 30 "the proxy's rules (3 endpoints)" branches 3
trace "$ns_b" default/nginx-service --kubeconfig "$kubeconfig"
[[ $rc -eq 0 ]] || fail "3 endpoints: exit $rc"
[[ "$(grep -c '33.3% of new connections' "$tmp/out")" == 3 ]] || fail "not 3 x 33.3%:
$(cat "$tmp/out")"
expect "probability 0.33333333349"

section "B: the proxy stopped, a KUBE-SEP jump deleted by hand"
kill "$proxy_pid"
wait "$proxy_pid" 2>/dev/null || true
delete_jump "$ns_b" KUBE-SVC-6IM33IEVEEV7U3GP 192.168.145.11
trace "$ns_b" default/nginx-service --kubeconfig "$kubeconfig"
[[ $rc -eq 1 ]] || fail "after the deletion: exit $rc, want 1"
expect "missing-endpoint: endpoint 192.168.145.11:80"
# The first of three branches went: the other two still split 50/50, so only the
# endpoint is missing and its chain left over.
expect "stale-chain: chain KUBE-SEP-"

section "B: an unknown Service"
trace "$ns_b" default/absent --kubeconfig "$kubeconfig"
[[ $rc -eq 2 ]] || fail "unknown service: exit $rc, want 2"
grep -q "Service default/absent not found" "$tmp/err" || fail "no clear message: $(cat "$tmp/err")"

section "C: nftables: upstream's layout loaded with nft -f, read live with nft -j"
if command -v nft >/dev/null 2>&1; then
  ns_c="$ns_a"  # its iptables rules do not matter to --mode nftables
  ip netns exec "$ns_c" nft -f "$PWD/proxy/trace/testdata/lab_nft.nft" || fail "nft -f"
  trace "$ns_c" default/nginx-service --objects-file "$lab" --mode nftables \
    --cluster-cidr 192.168.0.0/16
  [[ $rc -eq 0 ]] || fail "nftables, consistent: exit $rc"
  expect "service-PIOJ4VP5-default/nginx-service/tcp/http"
  expect "50.0% of new connections"
  ip netns exec "$ns_c" nft delete element ip kube-proxy service-ips \
    '{ 10.96.204.67 . tcp . 80 }' || fail "nft delete element"
  trace "$ns_c" default/nginx-service --objects-file "$lab" --mode nftables \
    --cluster-cidr 192.168.0.0/16
  [[ $rc -eq 1 ]] || fail "nftables, element deleted: exit $rc, want 1"
  expect "missing-service-rule: no element 10.96.204.67 . tcp . 80 in service-ips"
else
  echo "(nft not found: nftables section skipped)"
fi

echo "PASS"
