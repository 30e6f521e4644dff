#!/usr/bin/env bash
# End-to-end latency of a one-service change through kslice-proxy (issue 7: "a one-service
# change applied end to end (informer event -> rules in the kernel) in <= 100 ms at 10k
# services").
#
#   sudo bench/proxy_latency_benchmark.sh [--services=10000] [--endpoints=10] [--updates=20]
#       [--min-sync-periods=0s,1s] [--flavor=nft|legacy]
#       [--apiserver=PATH] [--proxy=PATH]                     # run from the repo root
#
# Without --apiserver/--proxy the binaries are built with
# `bazel --output_base=$HOME/.cache/kslice-opt-p7 build -c opt`. Everything runs inside a
# private network namespace (`unshare -n`): kslice-apiserver on its 127.0.0.1, then
# N services x M endpoints (one EndpointSlice each) created with parallel `kubectl create`,
# then, for every --min-sync-periods value, kslice-proxy is started, its first full sync is
# awaited (kubeproxy_sync_proxy_rules_last_timestamp_seconds and the probe service's
# KUBE-SERVICES rule), and --updates times one EndpointSlice gets a new endpoint IP and a
# fresh endpoints.kubernetes.io/last-change-trigger-time annotation, written with one
# merge-PATCH through `kubectl proxy` (curl: no kubectl start-up in the timing). Per update:
#   write   = the PATCH round trip (API write);
#   kernel  = from sending the PATCH until the service's KUBE-SVC chain changed
#             (`iptables -t nat -S <that chain>` polled in a loop; independent of the proxy's
#             own metrics; includes the poll period) — afterwards checked to jump to a KUBE-SEP
#             chain that DNATs to the new IP;
#   netprog = the proxy's kubeproxy_network_programming_duration_seconds sample (trigger
#             annotation -> rules applied; from the histogram's _sum delta);
#   sync    = kubeproxy_sync_proxy_rules_duration_seconds _sum delta (generation + restore
#             of the syncs the update caused);
#   wait    = netprog - write - sync (informer delivery + the min-sync-period wait).
#
# Initial load: the proxy's first sync is a full --noflush restore of the whole ruleset
# (430k lines at 10k x 10). With iptables-nft that is linear only because the backend starts
# large table sections with `-S` (IptablesBackendOptions::nft_flavor); --flavor=legacy puts
# iptables-legacy* first on the proxy's PATH instead.
set -euo pipefail

services=10000 endpoints=10 updates=20 periods="0s,1s" flavor=nft gap=0.2
server_bin="" proxy_bin=""
for arg in "$@"; do
  case "$arg" in
    --services=*) services="${arg#*=}" ;;
    --endpoints=*) endpoints="${arg#*=}" ;;
    --updates=*) updates="${arg#*=}" ;;
    --gap=*) gap="${arg#*=}" ;;
    --min-sync-periods=*) periods="${arg#*=}" ;;
    --flavor=*) flavor="${arg#*=}" ;;
    --apiserver=*) server_bin="${arg#*=}" ;;
    --proxy=*) proxy_bin="${arg#*=}" ;;
    *) echo "unknown argument $arg" >&2; exit 2 ;;
  esac
done
export PATH="$PATH:/usr/sbin:/sbin"

if [[ -z "${KSLICE_LATENCY_IN_NETNS:-}" ]]; then
  [[ "$(id -u)" == 0 ]] || { echo "needs root (network namespace, iptables)" >&2; exit 1; }
  for tool in unshare ip iptables iptables-restore kubectl curl python3; do
    command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 1; }
  done
  if [[ -z "$server_bin" || -z "$proxy_bin" ]]; then
    ob="$HOME/.cache/kslice-opt-p7"
    bazel --output_base="$ob" build -c opt --symlink_prefix=/ //cmd/kslice-proxy:kslice-proxy \
      //cmd/kslice-apiserver:kslice-apiserver >&2
    bin="$(bazel --output_base="$ob" info -c opt bazel-bin 2>/dev/null)"
    server_bin="$bin/cmd/kslice-apiserver/kslice-apiserver"
    proxy_bin="$bin/cmd/kslice-proxy/kslice-proxy"
  fi
  tmp="$(mktemp -d /tmp/kslice-latency.XXXXXX)"
  trap 'rm -rf "$tmp"' EXIT
  cp "$server_bin" "$tmp/kslice-apiserver"
  cp "$proxy_bin" "$tmp/kslice-proxy"
  rc=0
  unshare -n env KSLICE_LATENCY_IN_NETNS="$tmp" PATH="$PATH" bash "$0" "$@" || rc=$?
  exit $rc
fi

# ---- inside the namespace (dies with its last process) ----
tmp="$KSLICE_LATENCY_IN_NETNS"
ip link set lo up
pids=()
cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM
export HOME="$tmp/home" KUBECONFIG="$tmp/kubeconfig"
mkdir -p "$HOME"
now() { date +%s.%N; }
ms() { python3 -c "print('%.1f' % (($2-$1)*1000))"; }
log() { echo "[$(date -u +%T)] $*" >&2; }
wait_for() {  # wait_for SECONDS WHAT COMMAND...
  local deadline=$((SECONDS + $1)) what="$2"; shift 2
  until "$@"; do
    ((SECONDS < deadline)) || { log "timed out waiting for $what"; exit 1; }
    sleep 0.2
  done
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$tmp/kslice-apiserver" --port=0 --kubeconfig="$KUBECONFIG" --data-dir="$tmp/data" \
  --cert-dir="$tmp/certs" >"$tmp/server.log" 2>&1 &
pids+=($!)
wait_for 30 "kslice-apiserver" bash -c "grep -q 'serving on https://' '$tmp/server.log' && test -f '$KUBECONFIG'"

log "generating $services services x $endpoints endpoints"
mkdir -p "$tmp/load"
python3 - "$services" "$endpoints" "$tmp/load" <<'PY'
import json, sys
n, m, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
chunks = 8
files = [open(f"{out}/chunk{c}.json", "w") for c in range(chunks)]
def ip(k): return f"10.{128 + k // 65536}.{k // 256 % 256}.{k % 256}"
for i in range(n):
    name = f"svc-{i:05d}"
    c = i + 10
    cip = f"10.{96 + c // 65536}.{c // 256 % 256}.{c % 256}"
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": name, "namespace": "default"},
           "spec": {"type": "ClusterIP", "clusterIP": cip, "clusterIPs": [cip],
                    "selector": {"app": name},
                    "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080}]}}
    eps = [{"addresses": [ip(i * m + j + 1)], "nodeName": "node-a",
            "conditions": {"ready": True, "serving": True, "terminating": False}} for j in range(m)]
    sl = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
          "metadata": {"name": f"{name}-abcde", "namespace": "default",
                       "labels": {"kubernetes.io/service-name": name}},
          "addressType": "IPv4", "ports": [{"name": "http", "protocol": "TCP", "port": 8080}],
          "endpoints": eps}
    f = files[i % chunks]
    f.write(json.dumps(svc) + "\n" + json.dumps(sl) + "\n")
PY
kubectl create -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Node
metadata: {name: node-a}
YAML
t0=$(now)
load_pids=()
for f in "$tmp"/load/chunk*.json; do
  kubectl create -f "$f" >/dev/null 2>"$f.err" &
  load_pids+=($!)
done
for p in "${load_pids[@]}"; do wait "$p" || { log "kubectl create failed: $(head -3 "$tmp"/load/*.err)"; exit 1; }; done
log "loaded $((2 * services)) objects in $(ms "$t0" "$(now)") ms"

# PATH for the proxy.
mkdir -p "$tmp/bin"
if [[ "$flavor" == legacy ]]; then
  for t in "" -save -restore; do ln -sf "$(command -v iptables-legacy$t)" "$tmp/bin/iptables$t"; done
fi
proxy_path="$tmp/bin:$PATH"
ipt="iptables"; [[ "$flavor" == legacy ]] && ipt="iptables-legacy"

kubectl proxy --port=0 >"$tmp/kproxy.log" 2>&1 &
pids+=($!)
wait_for 20 "kubectl proxy" grep -q "Starting to serve on" "$tmp/kproxy.log"
api="http://$(grep -oE '127\.0\.0\.1:[0-9]+' "$tmp/kproxy.log" | head -1)"

probe=$((services / 2))
probe_name="$(printf 'svc-%05d' "$probe")"
metric() { awk -v n="$1" '$1 == n {print $2}' "$tmp/metrics"; }
results="$tmp/results"
: >"$results"

for period in ${periods//,/ }; do
  for t in nat filter; do "$ipt" -t $t -F 2>/dev/null || true; "$ipt" -t $t -X 2>/dev/null || true; done
  mport="$(free_port)" hport="$(free_port)"
  log "kslice-proxy --iptables-min-sync-period=$period (flavor $flavor)"
  t0=$(now)
  PATH="$proxy_path" "$tmp/kslice-proxy" --kubeconfig="$KUBECONFIG" --hostname-override=node-a \
    --proxy-mode=iptables --cluster-cidr=10.128.0.0/9 --healthz-bind-address="127.0.0.1:$hport" \
    --metrics-bind-address="127.0.0.1:$mport" --iptables-min-sync-period="$period" \
    >"$tmp/proxy-$period.log" 2>&1 &
  proxy_pid=$!
  pids+=($proxy_pid)
  scrape() { curl -s --max-time 5 -o "$tmp/metrics" "http://127.0.0.1:$mport/metrics"; }
  synced() {
    kill -0 "$proxy_pid" 2>/dev/null || { log "kslice-proxy exited"; tail "$tmp/proxy-$period.log" >&2; exit 1; }
    scrape || return 1
    [[ "$(metric kubeproxy_sync_proxy_rules_last_timestamp_seconds)" =~ ^[1-9] ]] || return 1
    "$ipt" -t nat -S KUBE-SERVICES 2>/dev/null | grep "\"default/$probe_name:http cluster IP\"" >/dev/null
  }
  wait_for 3600 "the first full sync" synced
  log "first full sync done $(ms "$t0" "$(now)") ms after start"
  svc_chain="$("$ipt" -t nat -S KUBE-SERVICES | grep "\"default/$probe_name:http cluster IP\"" | grep -oE 'KUBE-SVC-[A-Z2-7]{16}' | head -1)"
  sleep 2
  for ((u = 1; u <= updates; u++)); do
    new_ip="10.250.$((u / 256)).$((u % 256 + 1))"
    scrape
    np_sum0="$(metric kubeproxy_network_programming_duration_seconds_sum)"; np_cnt0="$(metric kubeproxy_network_programming_duration_seconds_count)"
    sy_sum0="$(metric kubeproxy_sync_proxy_rules_duration_seconds_sum)"; sy_cnt0="$(metric kubeproxy_sync_proxy_rules_duration_seconds_count)"
    body="{\"metadata\":{\"annotations\":{\"endpoints.kubernetes.io/last-change-trigger-time\":\"$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)\"}},\"endpoints\":[{\"addresses\":[\"$new_ip\"],\"nodeName\":\"node-a\",\"conditions\":{\"ready\":true,\"serving\":true,\"terminating\":false}}]}"
    before="$("$ipt" -t nat -S "$svc_chain")"
    t_send=$(now)
    code="$(curl -s -o "$tmp/patch.out" -w '%{http_code}' -X PATCH -H 'Content-Type: application/merge-patch+json' \
      --data "$body" "$api/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/$probe_name-abcde")"
    t_written=$(now)
    [[ "$code" == 200 ]] || { log "PATCH answered $code: $(head -c 300 "$tmp/patch.out")"; exit 1; }
    # Large-cluster mode (> 1,000 endpoints) drops the "-> IP" comments, so wait for the
    # chain to change (each update gives a new single endpoint, hence a new KUBE-SEP jump).
    until [[ "$("$ipt" -t nat -S "$svc_chain" 2>/dev/null)" != "$before" ]]; do
      (( $(date +%s) - ${t_send%.*} < 60 )) || { log "rule for $new_ip not seen in 60 s: $("$ipt" -t nat -S "$svc_chain"; cat "$tmp/patch.out"; tail -5 "$tmp/proxy-$period.log")"; exit 1; }
    done
    t_kernel=$(now)
    sep="$("$ipt" -t nat -S "$svc_chain" | grep -oE 'KUBE-SEP-[A-Z2-7]{16}' | tail -1)"
    "$ipt" -t nat -S "$sep" | grep -q -- "--to-destination $new_ip:8080" ||
      { log "$svc_chain -> $sep does not DNAT to $new_ip: $("$ipt" -t nat -S "$sep")"; exit 1; }
    # Let the histogram catch up (the sample is recorded right after the restore).
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      scrape; [[ "$(metric kubeproxy_network_programming_duration_seconds_count)" != "$np_cnt0" ]] && break; sleep 0.05
    done
    python3 - "$period" "$t_send" "$t_written" "$t_kernel" "$np_sum0" "$np_cnt0" \
      "$(metric kubeproxy_network_programming_duration_seconds_sum)" "$(metric kubeproxy_network_programming_duration_seconds_count)" \
      "$sy_sum0" "$sy_cnt0" "$(metric kubeproxy_sync_proxy_rules_duration_seconds_sum)" \
      "$(metric kubeproxy_sync_proxy_rules_duration_seconds_count)" >>"$results" <<'PY'
import sys
p, ts, tw, tk = sys.argv[1], *map(float, sys.argv[2:5])
ns0, nc0, ns1, nc1, ss0, sc0, ss1, sc1 = map(float, sys.argv[5:13])
write, kernel = (tw - ts) * 1e3, (tk - ts) * 1e3
netprog = (ns1 - ns0) / (nc1 - nc0) * 1e3 if nc1 > nc0 else float("nan")
sync = (ss1 - ss0) * 1e3
print(f"{p} write={write:.1f} kernel={kernel:.1f} netprog={netprog:.1f} sync={sync:.1f} "
      f"syncs={int(sc1 - sc0)} rest={netprog - write - sync:.1f}")
PY
    tail -n1 "$results" >&2
    sleep "$gap"
  done
  kill "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true
done

echo "== $services services x $endpoints endpoints, flavor $flavor, $updates updates per period"
python3 - "$results" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split(); rows[f[0]].append({k: float(v) for k, v in (x.split("=") for x in f[1:])})
def q(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(round(p * (len(v) - 1))))]
for period, rs in rows.items():
    print(f"--iptables-min-sync-period={period} ({len(rs)} updates), ms median / p90 / max:")
    for k in ("kernel", "netprog", "write", "sync", "rest"):
        v = [r[k] for r in rs]
        print(f"  {k:8s} {statistics.median(v):8.1f} {q(v, 0.9):8.1f} {max(v):8.1f}")
PY
