#!/usr/bin/env bash
# kslice-proxy against a kslice-apiserver, everything inside a private network namespace
# (the test re-executes itself under `unshare -n`; the API server listens on that
# namespace's 127.0.0.1, and the proxy programs that namespace's iptables):
#   - a Service + EndpointSlice created through the API give the KUBE-SERVICES rule and the
#     service's KUBE-SVC chain (iptables -t nat -S);
#   - /healthz answers 200 with kube-proxy's JSON (lastUpdated, currentTime,
#     nodeEligible), /livez 200, other paths 404;
#   - /metrics has the sync-duration, last-timestamp, network-programming (from the
#     slice's last-change-trigger-time annotation) and restore-failure families;
#   - a second service added while running appears; removing its endpoints gives the
#     "has no endpoints" REJECT rule in the filter table;
#   - SIGTERM: exit 0, rules left in place; then --cleanup removes them;
#   - dual-stack (--cluster-cidr with both families; skipped without ip6tables): the IPv6
#     proxier's chains in ip6tables -t nat (and a PreferDualStack service's IPv6 ClusterIP,
#     "[addr]:port" DNAT and IPv6 cluster-CIDR rule when the API server keeps the IPv6
#     ClusterIP; kslice-apiserver's allocator is IPv4-only and drops it), its IPv4 rules in
#     iptables, no IPv4 addresses in ip6tables, /healthz 200, --cleanup of both families.
#
#   bazel test //cmd/kslice-proxy:kslice_proxy_netns_test
#   cmd/kslice-proxy/kslice_proxy_netns_test.sh [kslice-apiserver [kslice-proxy]]   # repo root
#
# Skips (passes) with a message when not root, when network namespaces cannot be created,
# or when iptables, kubectl or curl are missing.
set -euo pipefail

src_server="${1:-${KSLICE_APISERVER:-$PWD/cmd/kslice-apiserver/kslice-apiserver}}"
src_proxy="${2:-${KSLICE_PROXY:-$PWD/cmd/kslice-proxy/kslice-proxy}}"

# Bazel's test PATH lacks the sbin directories iptables and ip live in.
export PATH="$PATH:/usr/sbin:/sbin"

if [[ -z "${KSLICE_PROXY_IN_NETNS:-}" ]]; then
  [[ "$(id -u)" == 0 ]] || { echo "SKIP: needs root for a network namespace and iptables"; exit 0; }
  for tool in unshare ip iptables iptables-save iptables-restore curl; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not found"; exit 0; }
  done
  if ! command -v kubectl >/dev/null 2>&1; then
    if [[ -x /usr/bin/kubectl ]]; then PATH="/usr/bin:$PATH"; else echo "SKIP: kubectl not found"; exit 0; fi
  fi
  if ! unshare -n true 2>/dev/null; then
    echo "SKIP: cannot create a network namespace (unshare -n failed)"
    exit 0
  fi
  [[ -x "$src_server" ]] || { echo "FAIL: no kslice-apiserver at $src_server" >&2; exit 1; }
  [[ -x "$src_proxy" ]] || { echo "FAIL: no kslice-proxy at $src_proxy" >&2; exit 1; }
  exec unshare -n env KSLICE_PROXY_IN_NETNS=1 PATH="$PATH" bash "$0" "$src_server" "$src_proxy"
fi

# ---- inside the namespace ----
ip link set lo up
tmp="$(mktemp -d "${TEST_TMPDIR:-/tmp}/kslice-proxy-netns.XXXXXX")"
server_pid=""
proxy_pid=""
cleanup() {
  local rc=$?
  for pid in "$proxy_pid" "$server_pid"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  if [[ $rc -ne 0 ]]; then
    for log in server proxy; do
      [[ -f "$tmp/$log.log" ]] || continue
      echo "--- $log log (last 40 lines)" >&2
      tail -n 40 "$tmp/$log.log" >&2 || true
    done
    echo "--- iptables-save" >&2
    iptables-save >&2 || true
    [[ -f "$tmp/web6.yaml" ]] && { echo "--- web6" >&2; cat "$tmp/web6.yaml" >&2; }
    if command -v ip6tables-save >/dev/null 2>&1; then
      echo "--- ip6tables-save" >&2
      ip6tables-save >&2 || true
    fi
  fi
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

cp "$src_server" "$tmp/kslice-apiserver"
cp "$src_proxy" "$tmp/kslice-proxy"
export HOME="$tmp/home"
export KUBECONFIG="$tmp/kubeconfig"
mkdir -p "$HOME"

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
k() { timeout 20 kubectl "$@"; }
http_code() { curl -s -o "$tmp/body" -w '%{http_code}' --max-time 5 "$1" || true; }

section "start kslice-apiserver on 127.0.0.1 inside the namespace"
# A dual-stack Service range where the server has one (it refuses IPv6 ipFamilies on a
# single-stack cluster, as kube-apiserver); older servers take the IPv4 range only.
service_range=()
if "$tmp/kslice-apiserver" --help 2>&1 | grep -q -- '--service-cluster-ip-range=CIDR\[,CIDR\]'; then
  service_range=(--service-cluster-ip-range=10.96.0.0/12,fd00:10:96::/112)
fi
"$tmp/kslice-apiserver" --port=0 --kubeconfig="$KUBECONFIG" --data-dir="$tmp/data" \
  --cert-dir="$tmp/certs" "${service_range[@]}" >"$tmp/server.log" 2>&1 &
server_pid=$!
server_up() {
  kill -0 "$server_pid" 2>/dev/null || fail "kslice-apiserver exited"
  grep -q "serving on https://" "$tmp/server.log" && [[ -f "$KUBECONFIG" ]]
}
wait_for 20 "the server" server_up

trigger_time() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ; }
apply_service() {  # apply_service NAME CLUSTER_IP ENDPOINT_IP...
  local name="$1" ip="$2"
  shift 2
  local endpoints=""
  for e in "$@"; do
    endpoints+="
- addresses: [\"$e\"]
  conditions: {ready: true, serving: true, terminating: false}
  nodeName: node-a"
  done
  [[ -n "$endpoints" ]] || endpoints=" []"
  k apply -f - >/dev/null <<YAML || fail "kubectl apply $name"
apiVersion: v1
kind: Service
metadata: {name: $name, namespace: default}
spec:
  type: ClusterIP
  clusterIP: $ip
  clusterIPs: [$ip]
  selector: {app: $name}
  ports: [{name: http, protocol: TCP, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $name-abcde
  namespace: default
  labels: {kubernetes.io/service-name: $name}
  annotations: {endpoints.kubernetes.io/last-change-trigger-time: "$(trigger_time)"}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:$endpoints
YAML
}

section "objects: node-a, default/web with two endpoints"
k apply -f - >/dev/null <<'YAML' || fail "kubectl apply node"
apiVersion: v1
kind: Node
metadata: {name: node-a, labels: {topology.kubernetes.io/zone: zone-a}}
YAML
apply_service web 10.96.0.10 10.244.1.5 10.244.2.7

section "start kslice-proxy (iptables mode)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
hport="$(free_port)"
mport="$(free_port)"
"$tmp/kslice-proxy" --kubeconfig="$KUBECONFIG" --hostname-override=node-a --proxy-mode=iptables \
  --cluster-cidr=10.244.0.0/16 --healthz-bind-address="127.0.0.1:$hport" \
  --metrics-bind-address="127.0.0.1:$mport" --iptables-min-sync-period=100ms -v=2 \
  >"$tmp/proxy.log" 2>&1 &
proxy_pid=$!

section "KUBE-SERVICES gets the service rule"
has_rule() {
  kill -0 "$proxy_pid" 2>/dev/null || fail "kslice-proxy exited"
  iptables -t nat -S KUBE-SERVICES 2>/dev/null | grep -q -- "$1"
}
wait_for 30 "the web rule" has_rule '--comment "default/web:http cluster IP"'
rules="$(iptables -t nat -S KUBE-SERVICES)"
grep -qE -- '-A KUBE-SERVICES -d 10\.96\.0\.10/32 -p tcp .*"default/web:http cluster IP".*--dport 80 -j KUBE-SVC-' <<<"$rules" ||
  fail "unexpected KUBE-SERVICES rule: $rules"
svc_chain="$(grep -oE 'KUBE-SVC-[A-Z2-7]{16}' <<<"$rules" | head -n1)"
svc_rules="$(iptables -t nat -S "$svc_chain")"
[[ "$(grep -c -- '-j KUBE-SEP-' <<<"$svc_rules")" == 2 ]] || fail "want 2 endpoints in $svc_chain: $svc_rules"
grep -q -- '--probability 0.50000000000' <<<"$svc_rules" || fail "no 1/2 probability in $svc_chain: $svc_rules"
grep -q -- '! -s 10.244.0.0/16' <<<"$svc_rules" || fail "no masquerade rule for --cluster-cidr: $svc_rules"
# The jump rules from the built-in chains exist.
iptables -t nat -S PREROUTING | grep -q -- '-j KUBE-SERVICES' || fail "no PREROUTING -> KUBE-SERVICES jump"
iptables -t nat -S OUTPUT | grep -q -- '-j KUBE-SERVICES' || fail "no OUTPUT -> KUBE-SERVICES jump"

section "/healthz and /livez"
healthy() { [[ "$(http_code "http://127.0.0.1:$hport/healthz")" == 200 ]]; }
wait_for 20 "/healthz 200" healthy
body="$(cat "$tmp/body")"
grep -qE '^\{"lastUpdated": "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ \+0000 UTC","currentTime": "[^"]+", "nodeEligible": true\}$' <<<"$body" ||
  fail "healthz body: $body"
headers="$(curl -s -D - -o /dev/null --max-time 5 "http://127.0.0.1:$hport/healthz")"
grep -qi '^content-type: application/json' <<<"$headers" || fail "healthz headers: $headers"
grep -qi '^x-content-type-options: nosniff' <<<"$headers" || fail "healthz headers: $headers"
[[ "$(http_code "http://127.0.0.1:$hport/livez")" == 200 ]] || fail "/livez not 200"
grep -q '"currentTime"' "$tmp/body" || fail "livez body: $(cat "$tmp/body")"
[[ "$(http_code "http://127.0.0.1:$hport/other")" == 404 ]] || fail "/other not 404"

section "a service added while running; network programming latency"
apply_service api 10.96.0.20 10.244.3.9
wait_for 20 "the api rule" has_rule '--comment "default/api:http cluster IP"'

section "/metrics"
metrics_ok() {
  [[ "$(http_code "http://127.0.0.1:$mport/metrics")" == 200 ]] || return 1
  grep -qE '^kubeproxy_network_programming_duration_seconds_count [1-9]' "$tmp/body"
}
wait_for 20 "network programming samples in /metrics" metrics_ok
for family in kubeproxy_sync_proxy_rules_duration_seconds_count \
  kubeproxy_sync_proxy_rules_last_timestamp_seconds \
  kubeproxy_network_programming_duration_seconds_bucket \
  kubeproxy_sync_proxy_rules_iptables_restore_failures_total \
  kubeproxy_proxy_healthz_total; do
  grep -q "^$family" "$tmp/body" || fail "no $family in /metrics"
done
grep -qE '^kubeproxy_sync_proxy_rules_duration_seconds_count [1-9]' "$tmp/body" || fail "no syncs counted"
grep -qE '^kubeproxy_sync_proxy_rules_last_timestamp_seconds [1-9]' "$tmp/body" || fail "no last sync timestamp"
grep -qE '^kubeproxy_sync_proxy_rules_iptables_restore_failures_total 0$' "$tmp/body" ||
  fail "restore failures: $(grep restore_failures "$tmp/body")"

section "a service without endpoints is rejected"
apply_service api 10.96.0.20
no_endpoints() {
  iptables -t filter -S KUBE-SERVICES 2>/dev/null |
    grep -qE -- '-d 10\.96\.0\.20/32 .*"default/api:http has no endpoints".* -j REJECT'
}
wait_for 20 "the REJECT rule" no_endpoints
iptables -t nat -S KUBE-SERVICES | grep -q '"default/api:http cluster IP"' &&
  fail "default/api still has its nat rule"

section "service health-check NodePort (LoadBalancer, externalTrafficPolicy Local)"
hc_port=$((30000 + RANDOM % 2000))
apply_lb() {  # apply_lb NODE_OF_SECOND_ENDPOINT
  k apply -f - >/dev/null <<YAML || fail "kubectl apply lb"
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: default}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  healthCheckNodePort: $hc_port
  clusterIP: 10.96.0.40
  clusterIPs: [10.96.0.40]
  selector: {app: lb}
  ports: [{name: http, protocol: TCP, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: lb-abcde
  namespace: default
  labels: {kubernetes.io/service-name: lb}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
- addresses: ["10.244.1.40"]
  conditions: {ready: true}
  nodeName: $1
- addresses: ["10.244.2.40"]
  conditions: {ready: true}
  nodeName: node-b
YAML
}
apply_lb node-a
hc_200() { [[ "$(http_code "http://127.0.0.1:$hc_port/anything")" == 200 ]]; }
wait_for 20 "health check port $hc_port answering 200" hc_200
grep -q '"localEndpoints": 1,' "$tmp/body" || fail "health check body: $(cat "$tmp/body")"
grep -q '"serviceProxyHealthy": true' "$tmp/body" || fail "health check body: $(cat "$tmp/body")"
headers="$(curl -s -D - -o /dev/null --max-time 5 "http://127.0.0.1:$hc_port/")"
grep -qi '^X-Load-Balancing-Endpoint-Weight: 1' <<<"$headers" || fail "health check headers: $headers"
apply_lb node-b   # no endpoint left on node-a
hc_503() { [[ "$(http_code "http://127.0.0.1:$hc_port/")" == 503 ]]; }
wait_for 20 "health check 503 without a local endpoint" hc_503
grep -q '"localEndpoints": 0,' "$tmp/body" || fail "health check body: $(cat "$tmp/body")"
k delete service lb >/dev/null || fail "kubectl delete service lb"
hc_closed() { [[ "$(http_code "http://127.0.0.1:$hc_port/")" == 000 ]]; }
wait_for 20 "health check port closed with the service" hc_closed

section "SIGTERM: exit 0, rules stay"
kill -TERM "$proxy_pid"
rc=0
wait "$proxy_pid" || rc=$?
proxy_pid=""
[[ $rc -eq 0 ]] || fail "kslice-proxy exited $rc after SIGTERM"
iptables -t nat -S KUBE-SERVICES | grep -q '"default/web:http cluster IP"' || fail "rules gone after SIGTERM"

section "--cleanup removes the rules"
"$tmp/kslice-proxy" --cleanup --proxy-mode=iptables >"$tmp/cleanup.log" 2>&1 || fail "--cleanup failed: $(cat "$tmp/cleanup.log")"
if iptables -t nat -S 2>/dev/null | grep -q 'KUBE-SVC-'; then fail "KUBE-SVC chains left after --cleanup"; fi
if iptables -t nat -S PREROUTING | grep -q 'KUBE-SERVICES'; then fail "jump rule left after --cleanup"; fi

if ! command -v ip6tables >/dev/null 2>&1 || ! ip6tables -t nat -S >/dev/null 2>&1; then
  echo "SKIP (dual-stack part): no usable ip6tables"
  echo "PASS"
  exit 0
fi

section "dual-stack: a PreferDualStack service with an IPv4 and an IPv6 slice"
k apply -f - >/dev/null <<YAML || fail "kubectl apply dual-stack service"
apiVersion: v1
kind: Service
metadata: {name: web6, namespace: default}
spec:
  type: ClusterIP
  ipFamilyPolicy: PreferDualStack
  ipFamilies: [IPv4, IPv6]
  clusterIP: 10.96.0.30
  clusterIPs: [10.96.0.30, "fd00:10:96::30"]
  selector: {app: web6}
  ports: [{name: http, protocol: TCP, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web6-v4abc
  namespace: default
  labels: {kubernetes.io/service-name: web6}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
- addresses: ["10.244.1.6"]
  conditions: {ready: true}
  nodeName: node-a
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web6-v6xyz
  namespace: default
  labels: {kubernetes.io/service-name: web6}
addressType: IPv6
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
- addresses: ["fd00:10:244:1::6"]
  conditions: {ready: true}
  nodeName: node-a
YAML

section "dual-stack kslice-proxy: IPv4 rules in iptables, IPv6 rules in ip6tables"
"$tmp/kslice-proxy" --kubeconfig="$KUBECONFIG" --hostname-override=node-a --proxy-mode=iptables \
  --cluster-cidr=10.244.0.0/16,fd00:10:244::/56 --healthz-bind-address="127.0.0.1:$hport" \
  --metrics-bind-address="127.0.0.1:$mport" --iptables-min-sync-period=100ms -v=2 \
  >"$tmp/proxy.log" 2>&1 &
proxy_pid=$!
has_rule6() {
  kill -0 "$proxy_pid" 2>/dev/null || fail "kslice-proxy exited"
  ip6tables -t nat -S KUBE-SERVICES 2>/dev/null | grep -q -- "$1"
}
# kslice-apiserver's Service IP allocator is IPv4-only: it keeps the first ClusterIP and
# drops "fd00:10:96::30". So the IPv6 ClusterIP/DNAT rules are checked only when the
# server kept it (the dry-run golden testdata/proxy/dualstack.golden covers them);
# otherwise the IPv6 proxier's own chains in ip6tables are.
k get svc web6 -o yaml >"$tmp/web6.yaml" 2>&1 || true
wait_for 30 "the IPv6 KUBE-SERVICES chain" has_rule6 '! -d ::1/128 .*-j KUBE-NODEPORTS'
if grep -q 'fd00:10:96::30' <(k get svc web6 -o jsonpath='{.spec.clusterIPs}'); then
  wait_for 30 "the web6 IPv6 rule" has_rule6 '--comment "default/web6:http cluster IP"'
  rules6="$(ip6tables -t nat -S KUBE-SERVICES)"
  grep -qE -- '-A KUBE-SERVICES -d fd00:10:96::30/128 -p tcp .*"default/web6:http cluster IP".*--dport 80 -j KUBE-SVC-' <<<"$rules6" ||
    fail "unexpected IPv6 KUBE-SERVICES rules: $rules6"
  svc6="$(grep -oE 'KUBE-SVC-[A-Z2-7]{16}' <<<"$rules6" | head -n1)"
  svc6_rules="$(ip6tables -t nat -S "$svc6")"
  grep -q -- '! -s fd00:10:244::/56' <<<"$svc6_rules" || fail "no IPv6 cluster-CIDR masquerade rule: $svc6_rules"
  sep6="$(grep -oE 'KUBE-SEP-[A-Z2-7]{16}' <<<"$svc6_rules" | head -n1)"
  ip6tables -t nat -S "$sep6" | grep -q -- '--to-destination \[fd00:10:244:1::6\]:8080' ||
    fail "IPv6 DNAT target: $(ip6tables -t nat -S "$sep6")"
else
  echo "note: the API server dropped the IPv6 ClusterIP; IPv6 service rules not checked here"
fi
ip6tables -t nat -S | grep -q -- '10\.96\.\|10\.244\.' && fail "IPv4 addresses in ip6tables: $(ip6tables -t nat -S)"
wait_for 30 "the web6 IPv4 rule" has_rule '-d 10.96.0.30/32'
iptables -t nat -S KUBE-SERVICES | grep -q 'fd00:' && fail "IPv6 addresses in iptables"
wait_for 20 "/healthz 200 (both families)" healthy

section "dual-stack: SIGTERM, then --cleanup with both CIDRs removes both families' rules"
kill -TERM "$proxy_pid"
rc=0
wait "$proxy_pid" || rc=$?
proxy_pid=""
[[ $rc -eq 0 ]] || fail "dual-stack kslice-proxy exited $rc after SIGTERM"
"$tmp/kslice-proxy" --cleanup --proxy-mode=iptables --cluster-cidr=10.244.0.0/16,fd00:10:244::/56 \
  >"$tmp/cleanup.log" 2>&1 || fail "--cleanup failed: $(cat "$tmp/cleanup.log")"
if ip6tables -t nat -S 2>/dev/null | grep -q 'KUBE-'; then fail "IPv6 KUBE- chains left after --cleanup"; fi
if iptables -t nat -S 2>/dev/null | grep -q 'KUBE-SVC-'; then fail "IPv4 KUBE-SVC chains left after --cleanup"; fi

echo "PASS"
