#!/usr/bin/env bash
# The kslice lab (docs/lab.md): the seed's ClusterIP walkthrough (shared/seed) running for
# real on this machine, a 3-node cluster made of network namespaces.
#
#   lab/lab.sh run [--keep]       the walkthrough start to finish, then clean up
#                                 (--keep: leave the lab running at the end, for tests)
#   lab/lab.sh up                 build the lab, deploy the workloads, leave it running
#   lab/lab.sh down               remove every trace of a lab (running or left by a kill)
#   lab/lab.sh kubectl ARGS...    kubectl against the lab's API server
#   lab/lab.sh exec [-n NS] POD -- CMD...    run CMD in the pod's network namespace
#   lab/lab.sh node NODE -- CMD...           run CMD in a node's network namespace
#   lab/lab.sh trace SERVICE [--node NODE] [ARGS...]   kslice-trace on a node (default lab-worker)
#   lab/lab.sh status             what is running
#
# `./dev lab ...` builds the binaries and calls this script. Tests call it directly with
# the binaries in the environment (defaults: bazel-bin beside this script):
#   KSLICE_APISERVER KSLICE_ENDPOINTSLICE_CONTROLLER KSLICE_PROXY KSLICE_LAB_KUBELET
#   KSLICE_LAB_CONTROLLERS KSLICE_TRACE (optional)   KSLICE_LAB_MANIFESTS (testdata/lab)
#   KSLICE_LAB_DIR (state: kubeconfig, logs, kubelet dirs; default /tmp/kslice-lab)
#
# Topology (the lab contract, docs/lab.md): netns lab-net holds the underlay bridge br0
# (172.18.0.1/16, kind's docker network); nodes lab-control-plane 172.18.0.2,
# lab-worker 172.18.0.3, lab-worker2 172.18.0.4 on it through their eth0, each with a pod
# bridge cni0 holding its /26 block's gateway, forwarding on, and routes to the other
# nodes' blocks. The control plane processes run in lab-control-plane; every node runs a
# kslice-lab-kubelet and a kslice-proxy. Pods are namespaces lab-pod-<ns>-<name> made by
# the kubelets. Nothing is configured in the root namespace.
#
# Needs root. Everything it creates is named lab-* (namespaces, /etc/netns entries) or
# lives in KSLICE_LAB_DIR; `down` (and the start of run/up) removes all of it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

LAB_DIR="${KSLICE_LAB_DIR:-/tmp/kslice-lab}"
MANIFESTS="${KSLICE_LAB_MANIFESTS:-$repo/testdata/lab}"
bin_default() { echo "$repo/bazel-bin/cmd/$1/$1"; }
SRC_APISERVER="${KSLICE_APISERVER:-$(bin_default kslice-apiserver)}"
SRC_ESC="${KSLICE_ENDPOINTSLICE_CONTROLLER:-$(bin_default endpointslice-controller)}"
SRC_PROXY="${KSLICE_PROXY:-$(bin_default kslice-proxy)}"
SRC_KUBELET="${KSLICE_LAB_KUBELET:-$(bin_default kslice-lab-kubelet)}"
SRC_CONTROLLERS="${KSLICE_LAB_CONTROLLERS:-$(bin_default kslice-lab-controllers)}"
SRC_TRACE="${KSLICE_TRACE:-$(bin_default kslice-trace)}"

# ---- the contract ----------------------------------------------------------------------
UNDERLAY=lab-net
UNDERLAY_GW=172.18.0.1
NODES=(lab-control-plane lab-worker lab-worker2)
CONTROL_PLANE=lab-control-plane
declare -A NODE_IP=([lab-control-plane]=172.18.0.2 [lab-worker]=172.18.0.3 [lab-worker2]=172.18.0.4)
declare -A POD_CIDR=([lab-control-plane]=192.168.145.0/26 [lab-worker]=192.168.202.192/26
  [lab-worker2]=192.168.156.0/26)
declare -A POD_GW=([lab-control-plane]=192.168.145.1 [lab-worker]=192.168.202.193
  [lab-worker2]=192.168.156.1)
declare -A FIRST_POD_IP=([lab-control-plane]=192.168.145.9 [lab-worker]=192.168.202.194
  [lab-worker2]=192.168.156.3)
declare -A ZONE=([lab-control-plane]=zone-a [lab-worker]=zone-b [lab-worker2]=zone-c)
declare -A UPLINK=([lab-control-plane]=eth-cp [lab-worker]=eth-worker [lab-worker2]=eth-worker2)
CLUSTER_CIDR=192.168.0.0/16
SERVICE_RANGE=10.96.0.0/16
API_ADDR="${NODE_IP[$CONTROL_PLANE]}"
API_URL="https://$API_ADDR:6443"
ESC_HEALTH=127.0.0.1:8081
CONTROLLERS_HEALTH=127.0.0.1:8082
KUBELET_HEALTH=127.0.0.1:10248
PROXY_HEALTH=127.0.0.1:10256
PROXY_METRICS=127.0.0.1:10249

# The seed's names for default/nginx-service:http with endpoints 192.168.156.5:80 and
# 192.168.202.196:80 (kube-proxy's hashes of the service port and endpoint).
SEED_SVC_CHAIN=KUBE-SVC-6IM33IEVEEV7U3GP
SEED_SEP_CHAINS="KUBE-SEP-M6MI3YLHVX7DA53R KUBE-SEP-MJ46KNWYZBDUIDMY"
SEED_NGINX_IPS="192.168.156.5 192.168.202.196"
SERVICE_VIP=10.96.204.67

KUBECONFIG_FILE="$LAB_DIR/kubeconfig"
BIN="$LAB_DIR/bin"
LOGS="$LAB_DIR/logs"
PIDS="$LAB_DIR/pids"
MARKER="$LAB_DIR/.kslice-lab"

# ---- output ----------------------------------------------------------------------------
step=""
section() { step="$1"; printf '\n### %s\n\n' "$1"; }
subsection() { step="$1"; printf '\n#### %s\n\n' "$1"; }
note() { printf ' - %s\n' "$*"; }
info() { printf 'lab: %s\n' "$*" >&2; }
fail() {
  echo "lab: FAIL${step:+ [$step]}: $*" >&2
  exit 1
}
# Prints "$ DISPLAY", then runs the command, printing its output; the output is kept in
# $OUT. A failing command fails the lab.
OUT=""
show() {
  local display="$1"
  shift
  printf '$ %s\n' "$display"
  local rc=0
  OUT="$("$@" 2>&1)" || rc=$?
  [[ -n "$OUT" ]] && printf '%s\n' "$OUT"
  ((rc == 0)) || fail "'$display' exited $rc"
}
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }

# ---- helpers -----------------------------------------------------------------------------
ns_exists() { [[ -e "/run/netns/$1" ]]; }
lab_namespaces() {  # every netns named lab-*, pods first, the underlay last
  local all
  all="$(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^lab-' || true)"
  grep -E '^lab-pod-' <<<"$all" || true
  grep -vE '^lab-pod-|^lab-net$' <<<"$all" || true
  grep -E '^lab-net$' <<<"$all" || true
}
in_node() { local n="$1"; shift; ip netns exec "$n" "$@"; }
kc() {
  ip netns exec "$CONTROL_PLANE" kubectl --kubeconfig "$KUBECONFIG_FILE" \
    --cache-dir "$LAB_DIR/kube-cache" "$@"
}
http_ok() {  # NODE URL: 2xx from a plain or TLS endpoint inside NODE
  local code
  code="$(in_node "$1" curl -sk -o /dev/null -w '%{http_code}' --max-time 2 "$2" 2>/dev/null)" || return 1
  [[ "$code" == 2* ]]
}
wait_for() {  # SECONDS DESCRIPTION COMMAND...
  local secs="$1" what="$2"
  local deadline=$((SECONDS + secs))
  shift 2
  until "$@"; do
    ((SECONDS < deadline)) || fail "timed out after $secs s waiting for $what"
    sleep 0.2
  done
}
node_name() {  # lab-worker | worker -> lab-worker
  local n="$1"
  [[ "$n" == lab-* ]] || n="lab-$n"
  local x
  for x in "${NODES[@]}"; do [[ "$x" == "$n" ]] && { echo "$n"; return 0; }; done
  echo "lab: no node $1 (nodes: ${NODES[*]})" >&2
  return 1
}

# ---- teardown ----------------------------------------------------------------------------
kill_pids() {  # PIDS...: TERM, up to 3 s, then KILL
  local pids=("$@") alive=() p
  ((${#pids[@]})) || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 30); do
    alive=()
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
    ((${#alive[@]})) || return 0
    sleep 0.1
  done
  kill -KILL "${alive[@]}" 2>/dev/null || true
}
# Removes everything a lab creates, whether it is running or was killed half-way:
# processes (recorded pids and anything inside a lab-* namespace), the kubelets' pods
# (their --cleanup), the namespaces, /etc/netns/lab-* and the state dir.
descendants() {  # PID...: every live descendant
  local p c
  for p in "$@"; do
    for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
      echo "$c"
      descendants "$c"
    done
  done
}
teardown() {
  local quiet="${1:-}" pids=() f p ns
  if [[ -d "$PIDS" ]]; then
    for f in "$PIDS"/*.pid; do
      [[ -f "$f" ]] || continue
      p="$(cat "$f")"
      [[ "$p" =~ ^[0-9]+$ ]] && kill -0 "$p" 2>/dev/null && pids+=("$p")
    done
  fi
  # With their children (the kubelets' containers), found before the parents go.
  local children
  children="$(descendants "${pids[@]}")"
  # shellcheck disable=SC2206
  pids+=($children)
  kill_pids "${pids[@]}"
  # The kubelets' own cleanup (pod namespaces, veths, /etc/netns entries, pod dirs).
  local kubelet="$BIN/kslice-lab-kubelet"
  [[ -x "$kubelet" ]] || kubelet="$SRC_KUBELET"
  if [[ -x "$kubelet" ]]; then
    for n in "${NODES[@]}"; do
      [[ -d "$LAB_DIR/kubelet/$n" ]] || continue
      if ns_exists "$n"; then
        timeout 30 nsenter --net="/run/netns/$n" "$kubelet" --cleanup --node-name "$n" \
          --state-dir "$LAB_DIR/kubelet/$n" >/dev/null 2>&1 || true
      else
        timeout 30 "$kubelet" --cleanup --node-name "$n" --state-dir "$LAB_DIR/kubelet/$n" \
          >/dev/null 2>&1 || true
      fi
    done
  fi
  # Whatever still runs in a lab namespace, then the namespaces (veths go with them).
  local namespaces
  namespaces="$(lab_namespaces)"
  pids=()
  for ns in $namespaces; do
    for p in $(ip netns pids "$ns" 2>/dev/null || true); do pids+=("$p"); done
  done
  kill_pids "${pids[@]}"
  for ns in $namespaces; do ip netns del "$ns" 2>/dev/null || true; done
  for f in /etc/netns/lab-*; do [[ -e "$f" ]] && rm -rf "$f"; done
  # The state dir: only one this script made (marker) or an empty one.
  if [[ -d "$LAB_DIR" ]]; then
    if [[ -f "$MARKER" ]]; then
      rm -rf "$LAB_DIR"
    else
      rmdir "$LAB_DIR" 2>/dev/null || [[ -n "$quiet" ]] ||
        echo "lab: $LAB_DIR is not a lab state dir (no $MARKER); left in place" >&2
    fi
  fi
  namespaces="$(lab_namespaces)"
  [[ -z "$namespaces" ]] || echo "lab: could not remove namespaces: $namespaces" >&2
}

# ---- bring-up ------------------------------------------------------------------------------
need_root() {
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      exec sudo --preserve-env=KSLICE_LAB_DIR,KSLICE_LAB_MANIFESTS,KSLICE_APISERVER,KSLICE_ENDPOINTSLICE_CONTROLLER,KSLICE_PROXY,KSLICE_LAB_KUBELET,KSLICE_LAB_CONTROLLERS,KSLICE_TRACE,PATH \
        "$0" "$@"
    fi
    echo "lab: needs root (network namespaces, iptables)" >&2
    exit 1
  fi
}

check_tools() {
  local t
  for t in ip iptables iptables-save iptables-restore kubectl curl nc /usr/sbin/nginx sysctl setsid nsenter; do
    command -v "$t" >/dev/null 2>&1 || fail "$t is not installed (./dev deps installs it)"
  done
}

copy_binaries() {
  mkdir -p "$BIN"
  local pair src dst
  for pair in kslice-apiserver:"$SRC_APISERVER" endpointslice-controller:"$SRC_ESC" \
    kslice-proxy:"$SRC_PROXY" kslice-lab-kubelet:"$SRC_KUBELET" \
    kslice-lab-controllers:"$SRC_CONTROLLERS"; do
    dst="${pair%%:*}"
    src="${pair#*:}"
    [[ -x "$src" ]] || fail "no $dst binary at $src (build it: ./dev build //cmd/$dst)"
    cp "$src" "$BIN/$dst"
    chmod u+wx "$BIN/$dst"
  done
  # kslice-trace is optional for the walkthrough (step 8 is skipped without it).
  if [[ -x "$SRC_TRACE" ]]; then
    cp "$SRC_TRACE" "$BIN/kslice-trace"
    chmod u+wx "$BIN/kslice-trace"
  fi
}

# start NAME NETNS COMMAND...: a process in NETNS, its own session (a Ctrl-C on the lab
# script reaches only the script, whose trap tears down), output to logs/NAME.log.
# It enters only the network namespace (nsenter --net), not a mount namespace of its own
# as `ip netns exec` would make: the kubelet creates the pods' named namespaces (bind
# mounts under /run/netns) and /etc/netns files, which must be visible to everyone.
start() {
  local name="$1" ns="$2"
  shift 2
  nsenter --net="/run/netns/$ns" setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name.pid"
}
running() { local p; p="$(cat "$PIDS/$1.pid" 2>/dev/null)" && kill -0 "$p" 2>/dev/null; }
# wait_up NAME SECONDS CHECK...: CHECK passes while NAME still runs.
wait_up() {
  local name="$1" secs="$2"
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    if ! running "$name"; then
      tail -n 25 "$LOGS/$name.log" >&2 || true
      fail "$name exited (log: $LOGS/$name.log)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 25 "$LOGS/$name.log" >&2 || true
      fail "$name not up after $secs s (log: $LOGS/$name.log)"
    fi
    sleep 0.2
  done
}

build_topology() {
  ip netns add "$UNDERLAY"
  ip -n "$UNDERLAY" link set lo up
  ip -n "$UNDERLAY" link add br0 type bridge
  ip -n "$UNDERLAY" addr add "$UNDERLAY_GW/16" dev br0
  ip -n "$UNDERLAY" link set br0 up
  local n o
  for n in "${NODES[@]}"; do
    ip netns add "$n"
    ip -n "$n" link set lo up
    ip -n "$UNDERLAY" link add "${UPLINK[$n]}" type veth peer name eth0 netns "$n"
    ip -n "$UNDERLAY" link set "${UPLINK[$n]}" master br0 up
    ip -n "$n" addr add "${NODE_IP[$n]}/16" dev eth0
    ip -n "$n" link set eth0 up
    ip -n "$n" route add default via "$UNDERLAY_GW"
    # The pod bridge with the block's gateway address.
    ip -n "$n" link add cni0 type bridge
    ip -n "$n" addr add "${POD_GW[$n]}/${POD_CIDR[$n]#*/}" dev cni0
    ip -n "$n" link set cni0 up
    in_node "$n" sysctl -qw net.ipv4.ip_forward=1
    # A pod reaching a service backed by a pod on the same bridge: the reply must pass
    # conntrack to be un-DNATed (br_netfilter, as on a kubelet node).
    if [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]]; then
      in_node "$n" sysctl -qw net.bridge.bridge-nf-call-iptables=1
    fi
  done
  for n in "${NODES[@]}"; do
    for o in "${NODES[@]}"; do
      [[ "$n" == "$o" ]] || ip -n "$n" route add "${POD_CIDR[$o]}" via "${NODE_IP[$o]}"
    done
  done
}

start_control_plane() {
  mkdir -p "$LAB_DIR/apiserver"
  start kslice-apiserver "$CONTROL_PLANE" "$BIN/kslice-apiserver" --bind-address="$API_ADDR" \
    --port=6443 --kubeconfig="$KUBECONFIG_FILE" --data-dir="$LAB_DIR/apiserver/data" \
    --cert-dir="$LAB_DIR/apiserver/certs" --service-cluster-ip-range="$SERVICE_RANGE"
  api_ready() { [[ -s "$KUBECONFIG_FILE" ]] && http_ok "$CONTROL_PLANE" "$API_URL/readyz"; }
  wait_up kslice-apiserver 30 api_ready
  start endpointslice-controller "$CONTROL_PLANE" "$BIN/endpointslice-controller" \
    --kubeconfig="$KUBECONFIG_FILE" --leader-elect=false --health-bind-address="$ESC_HEALTH" -v=1
  start kslice-lab-controllers "$CONTROL_PLANE" "$BIN/kslice-lab-controllers" \
    --kubeconfig="$KUBECONFIG_FILE" --leader-elect=false --health-bind-address="$CONTROLLERS_HEALTH"
  esc_ready() { http_ok "$CONTROL_PLANE" "http://$ESC_HEALTH/readyz"; }
  ctl_ready() { http_ok "$CONTROL_PLANE" "http://$CONTROLLERS_HEALTH/readyz" ||
    http_ok "$CONTROL_PLANE" "http://$CONTROLLERS_HEALTH/healthz"; }
  wait_up endpointslice-controller 30 esc_ready
  wait_up kslice-lab-controllers 30 ctl_ready
}

start_nodes() {
  local n labels taints
  for n in "${NODES[@]}"; do
    labels="kubernetes.io/hostname=$n,topology.kubernetes.io/zone=${ZONE[$n]}"
    taints=""
    if [[ "$n" == "$CONTROL_PLANE" ]]; then
      labels+=",node-role.kubernetes.io/control-plane="
      taints="node-role.kubernetes.io/control-plane:NoSchedule"
    fi
    mkdir -p "$LAB_DIR/kubelet/$n"
    start "kubelet-$n" "$n" "$BIN/kslice-lab-kubelet" --kubeconfig="$KUBECONFIG_FILE" \
      --node-name="$n" --node-ip="${NODE_IP[$n]}" --pod-cidr="${POD_CIDR[$n]}" \
      --first-pod-ip="${FIRST_POD_IP[$n]}" --pod-gateway="${POD_GW[$n]}" --bridge=cni0 \
      --node-labels="$labels" ${taints:+--register-with-taints="$taints"} \
      --state-dir="$LAB_DIR/kubelet/$n" --cluster-domain=cluster.local \
      --healthz-bind-address="$KUBELET_HEALTH" -v=1
  done
  node_ready() {
    [[ "$(kc get node "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
  }
  for n in "${NODES[@]}"; do
    wait_up "kubelet-$n" 30 http_ok "$n" "http://$KUBELET_HEALTH/healthz"
    wait_up "kubelet-$n" 30 node_ready "$n"
  done
  for n in "${NODES[@]}"; do
    start "kslice-proxy-$n" "$n" "$BIN/kslice-proxy" --kubeconfig="$KUBECONFIG_FILE" \
      --hostname-override="$n" --proxy-mode=iptables --cluster-cidr="$CLUSTER_CIDR" \
      --healthz-bind-address="$PROXY_HEALTH" --metrics-bind-address="$PROXY_METRICS" -v=1
  done
  for n in "${NODES[@]}"; do
    wait_up "kslice-proxy-$n" 30 http_ok "$n" "http://$PROXY_HEALTH/healthz"
  done
}

# pods_ready SELECTOR COUNT: exactly COUNT pods match, all Running and Ready.
pods_ready() {
  local got
  got="$(kc get pods -l "$1" -o \
    'jsonpath={range .items[*]}{.status.phase}/{.status.conditions[?(@.type=="Ready")].status}/{.metadata.deletionTimestamp}{"\n"}{end}' 2>/dev/null)" || return 1
  [[ "$(grep -c . <<<"$got")" == "$2" && "$(grep -c '^Running/True/$' <<<"$got")" == "$2" ]]
}
apply_and_wait() {  # FILE SELECTOR COUNT
  show "kubectl apply -f testdata/lab/$(basename "$1")" kc apply -f "$1"
  wait_for 90 "$3 pods $2 Running and Ready" pods_ready "$2" "$3"
}

bring_up() {
  local t0=$SECONDS
  section "1. The lab: a 3-node cluster on network namespaces"
  if [[ -n "$(lab_namespaces)" || -d "$LAB_DIR" ]]; then
    info "removing the lab state of an earlier run"
    teardown quiet
  fi
  mkdir -p "$LAB_DIR" "$LOGS" "$PIDS"
  touch "$MARKER"
  copy_binaries
  build_topology
  start_control_plane
  start_nodes
  printf '%-18s %-12s %-19s %-16s %s\n' NODE UNDERLAY "POD BLOCK" GATEWAY "FIRST POD IP"
  local n
  for n in "${NODES[@]}"; do
    printf '%-18s %-12s %-19s %-16s %s\n' "$n" "${NODE_IP[$n]}" "${POD_CIDR[$n]}" "${POD_GW[$n]}" \
      "${FIRST_POD_IP[$n]}"
  done
  echo
  note "kslice-apiserver $API_URL, endpointslice-controller and kslice-lab-controllers run in $CONTROL_PLANE"
  note "every node runs kslice-lab-kubelet and kslice-proxy (--proxy-mode iptables --cluster-cidr $CLUSTER_CIDR)"
  note "up in $((SECONDS - t0)) s; logs in $LOGS"
  echo
  show "kubectl get nodes -o wide -L topology.kubernetes.io/zone" \
    kc get nodes -o wide -L topology.kubernetes.io/zone
  local taints
  taints="$(kc get nodes -o 'jsonpath={range .items[*]}{.metadata.name}{" "}{range .spec.taints[*]}{.key}:{.effect}{end}{"\n"}{end}')"
  grep -q "^$CONTROL_PLANE node-role.kubernetes.io/control-plane:NoSchedule" <<<"$taints" ||
    fail "$CONTROL_PLANE does not carry the control-plane NoSchedule taint: $taints"
  note "Nodes registered by the kubelets; $CONTROL_PLANE is tainted node-role.kubernetes.io/control-plane:NoSchedule"

  section "2. Deploy the workloads (in this order, so that the pod IPs are the seed's)"
  apply_and_wait "$MANIFESTS/multitool-1.yaml" app=multitool-1 "${#NODES[@]}"
  apply_and_wait "$MANIFESTS/multitool-2.yaml" app=multitool-2 "${#NODES[@]}"
  apply_and_wait "$MANIFESTS/nginx.yaml" app=nginx 2
  note "all pods Running and Ready after $((SECONDS - t0)) s"
}

# ---- the walkthrough -----------------------------------------------------------------------
nginx_ips() {  # the nginx pods' IPs, sorted, space-separated
  kc get pods -l app=nginx -o 'jsonpath={range .items[*]}{.status.podIP}{"\n"}{end}' | sort | xargs
}
slice_ips() {  # the addresses in nginx-service's EndpointSlices, sorted
  kc get endpointslices -l kubernetes.io/service-name=nginx-service \
    -o 'jsonpath={range .items[*].endpoints[*]}{.addresses[0]}{"\n"}{end}' | sort | xargs
}
svc_chain_rules() {  # NODE: the KUBE-SVC chain's jumps to endpoint chains
  in_node "$1" iptables-save -t nat | grep -e "^-A $SEED_SVC_CHAIN .* -j KUBE-SEP-" || true
}
pod_on() {  # SELECTOR NODE: the name of a pod of SELECTOR on NODE
  kc get pods -l "$1" -o 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName}{"\n"}{end}' |
    awk -v n="$2" '$2 == n {print $1; exit}'
}
pod_exec() { local pod="$1"; shift; ip netns exec "lab-pod-default-$pod" "$@"; }

views() {
  section "3. Verify pods and services in the default namespace"
  show "kubectl get pods -o wide" kc get pods -o wide
  local ips
  ips="$(nginx_ips)"
  [[ "$ips" == "$SEED_NGINX_IPS" ]] ||
    fail "nginx pods have $ips, the seed's are $SEED_NGINX_IPS (pod IPs are handed out in arrival order)"
  note "every pod Running and Ready; nginx pods on $ips as in the seed"
  echo
  show "kubectl get services" kc get services
  grep -qE "^nginx-service +ClusterIP +$SERVICE_VIP +<none> +80/TCP" <<<"$OUT" ||
    fail "nginx-service is not ClusterIP $SERVICE_VIP 80/TCP"
  note "Service VIP is $SERVICE_VIP:80"
  echo
  show "kubectl get endpointslice" kc get endpointslice
  local sips
  sips="$(slice_ips)"
  [[ "$sips" == "$ips" ]] || fail "the EndpointSlice lists '$sips', the nginx pods are '$ips'"
  note "the EndpointSlice lists exactly the nginx pod IPs ($sips)"

  section "4. Examine iptables rules (ClusterIP path) on lab-worker"
  programmed() {
    local n
    for n in "${NODES[@]}"; do [[ "$(svc_chain_rules "$n" | wc -l)" == 2 ]] || return 1; done
  }
  wait_for 30 "every node's kslice-proxy to program nginx-service's 2 endpoints" programmed
  echo "\$ ./dev lab node lab-worker -- bash      (the seed: docker exec -it k8-services-worker /bin/bash)"
  subsection "4.1 Locate Service Rule"
  show "iptables -t nat -S KUBE-SERVICES | grep nginx-service" \
    bash -c "ip netns exec lab-worker iptables -t nat -S KUBE-SERVICES | grep nginx-service"
  local svc
  svc="$(grep -o 'KUBE-SVC-[A-Z0-9]*' <<<"$OUT" | head -n 1)"
  [[ "$svc" == "$SEED_SVC_CHAIN" ]] || fail "service chain is '$svc', the seed's is $SEED_SVC_CHAIN"
  grep -qF -- "-A KUBE-SERVICES -d $SERVICE_VIP/32 -p tcp -m comment --comment \"default/nginx-service:http cluster IP\" -m tcp --dport 80 -j $SEED_SVC_CHAIN" <<<"$OUT" ||
    fail "the KUBE-SERVICES rule differs from the seed's"
  note "the seed's chain: $svc"
  subsection "4.2 Inspect Service Chain"
  show "iptables -t nat -L $svc -n -v --line-numbers" in_node lab-worker iptables -t nat -L "$svc" -n -v --line-numbers
  local seps
  seps="$(grep -o 'KUBE-SEP-[A-Z0-9]*' <<<"$OUT" | xargs)"
  [[ "$seps" == "$SEED_SEP_CHAINS" ]] || fail "endpoint chains are '$seps', the seed's are '$SEED_SEP_CHAINS'"
  grep -q 'probability 0.50000000000' <<<"$OUT" || fail "no 0.5 probability branch"
  local sep i=3
  for sep in $seps; do
    subsection "4.$i Examine Endpoint DNAT #$((i - 2))"
    show "iptables -t nat -L $sep -n -v --line-numbers" in_node lab-worker iptables -t nat -L "$sep" -n -v --line-numbers
    grep -q "DNAT .* to:192\.168\.[0-9.]*:80" <<<"$OUT" || fail "$sep has no DNAT to a pod"
    i=$((i + 1))
  done
  note "chain names, rules and comments are the seed's: $svc -> $seps"
}

# tally POD N URL: N requests from POD, one line "COUNT NAME (IP)" per backend.
tally() {
  pod_exec "$1" bash -c 'for i in $(seq '"$2"'); do
      curl -s -o /dev/null --max-time 3 -w "%header{x-pod-name} (%header{x-pod-ip})\n" "'"$3"'" || echo "no answer"
    done' | sort | uniq -c | sed 's/^ *//'
}

connectivity() {
  section "5. Test pod to service connectivity (from multitool-1 on lab-worker)"
  local pod
  pod="$(pod_on app=multitool-1 lab-worker)"
  [[ -n "$pod" ]] || fail "no multitool-1 pod on lab-worker"
  echo "\$ ./dev lab exec $pod -- sh        (the seed: kubectl exec -it $pod -- sh)"
  show "cat /etc/hosts | grep nginx-service     (the kubelet's hosts file: service names)" \
    bash -c "ip netns exec lab-pod-default-$pod cat /etc/hosts | grep nginx-service"
  echo
  echo "\$ nc -v nginx-service 80               (the seed: telnet nginx-service 80)"
  echo "get"
  local out
  out="$(printf 'get\r\n' | pod_exec "$pod" nc -v -w 5 nginx-service 80 2>&1)" || true
  printf '%s\n' "$out"
  grep -q '^HTTP/1.1 400 Bad Request' <<<"$out" || fail "no 400 Bad Request from nginx through nginx-service:80"
  grep -q 'succeeded' <<<"$out" || fail "nc did not report the connection"
  note "name resolution, the VIP and kube-proxy's DNAT work: nginx answered 400 to an incomplete request"
  echo
  # The same from a multitool pod of every node.
  local n p status
  for n in "${NODES[@]}"; do
    p="$(pod_on app=multitool-1 "$n")"
    status="$(printf 'get\r\n' | pod_exec "$p" nc -w 5 "$SERVICE_VIP" 80 2>&1 | head -n 1 | tr -d '\r')" || true
    printf '   from %-18s %-22s -> %s\n' "$n" "$p" "${status:-no answer}"
    [[ "$status" == "HTTP/1.1 400 Bad Request" ]] || fail "no 400 from $SERVICE_VIP:80 in $p on $n"
  done
  echo
  subsection "50 HTTP requests through the ClusterIP"
  show "for i in \$(seq 50); do curl -s -o /dev/null -w '%header{x-pod-name} (%header{x-pod-ip})\\n' http://$SERVICE_VIP/; done | sort | uniq -c" \
    tally "$pod" 50 "http://$SERVICE_VIP/"
  [[ "$(grep -c 'nginx-deployment-' <<<"$OUT")" == 2 ]] || fail "want both nginx pods to answer: $OUT"
  ! grep -q 'no answer' <<<"$OUT" || fail "some requests got no answer"
  note "both backends served (each connection picks one at random, probability 0.5)"
}

scale_up() {
  section "6. Scale nginx to 3 replicas: network programming latency"
  local watch="$LAB_DIR/watch.pods" n
  : >"$watch"
  # Pod Ready as seen by a watch, stamped on arrival (sub-second).
  timeout 120 ip netns exec "$CONTROL_PLANE" kubectl --kubeconfig "$KUBECONFIG_FILE" \
    --cache-dir "$LAB_DIR/kube-cache" get pods -l app=nginx -w --no-headers \
    -o 'custom-columns=NAME:.metadata.name,READY:.status.conditions[?(@.type=="Ready")].status,IP:.status.podIP' \
    2>/dev/null > >(while read -r l; do echo "$EPOCHREALTIME $l"; done >"$watch") &
  local watch_pid=$!  # timeout's: TERM reaches kubectl, and the stamping loop sees EOF
  wait_for 20 "the pod watch to start" bash -c "[[ \$(wc -l <'$watch') -ge 2 ]]"
  # One poller per node: the first time its KUBE-SVC chain has 3 endpoint jumps.
  local pollers=()
  for n in "${NODES[@]}"; do
    (
      deadline=$((SECONDS + 90)) polls=0
      while ((SECONDS < deadline)); do
        r="$(ip netns exec "$n" iptables-save -t nat)" || exit 1
        t=$EPOCHREALTIME
        polls=$((polls + 1))
        if [[ "$(grep -c -e "^-A $SEED_SVC_CHAIN .* -j KUBE-SEP-" <<<"$r")" == 3 ]]; then
          echo "$t $polls" >"$LAB_DIR/rule.$n"
          exit 0
        fi
      done
    ) &
    pollers+=($!)
  done
  local t_scale=$EPOCHREALTIME
  show "kubectl scale deployment nginx-deployment --replicas=3" kc scale deployment nginx-deployment --replicas=3
  for p in "${pollers[@]}"; do wait "$p" || true; done
  for n in "${NODES[@]}"; do
    [[ -s "$LAB_DIR/rule.$n" ]] || fail "the third endpoint never appeared in $n's $SEED_SVC_CHAIN"
  done
  local t_end=$EPOCHREALTIME
  wait_for 30 "the new pod Ready in the watch" bash -c "awk '\$3 == \"True\"' '$watch' | awk '{print \$2}' | sort -u | [[ \$(wc -l) -ge 3 ]]"
  kill "$watch_pid" 2>/dev/null || true
  wait "$watch_pid" 2>/dev/null || true
  # The new pod: the one not Ready in the first two lines (the initial list).
  local old new t_ready new_ip
  old="$(head -n 2 "$watch" | awk '{print $2}' | xargs)"
  new="$(awk '$3 == "True" {print $2}' "$watch" | grep -vxF -e "${old% *}" -e "${old#* }" | head -n 1)"
  [[ -n "$new" ]] || fail "no new Ready nginx pod in the watch: $(cat "$watch")"
  t_ready="$(awk -v p="$new" '$2 == p && $3 == "True" {print $1; exit}' "$watch")"
  new_ip="$(awk -v p="$new" '$2 == p && $3 == "True" {print $4; exit}' "$watch")"
  echo
  show "kubectl get pods -l app=nginx -o wide" kc get pods -l app=nginx -o wide
  echo
  show "kubectl get endpointslice" kc get endpointslice
  grep -q "$new_ip" <<<"$OUT" || fail "the new pod $new_ip is not in the EndpointSlice"
  [[ "$(slice_ips)" == "$(nginx_ips)" ]] || fail "slice $(slice_ips) != pods $(nginx_ips)"
  echo
  show "iptables -t nat -L $SEED_SVC_CHAIN -n -v --line-numbers     (lab-worker)" \
    in_node lab-worker iptables -t nat -L "$SEED_SVC_CHAIN" -n -v --line-numbers
  grep -q 'probability 0.33333333349' <<<"$OUT" || fail "no 1/3 branch (0.33333333349)"
  grep -q 'probability 0.50000000000' <<<"$OUT" || fail "no 1/2 branch (0.50000000000)"
  grep -qF -- "-> $new_ip:80" <<<"$OUT" || fail "no rule for the new endpoint $new_ip:80"
  note "three endpoints: the first taken with probability 1/3, the second with 1/2 of the rest, the third otherwise"
  echo
  echo "network programming latency: $new ($new_ip) Ready (seen by a watch) -> its rule in each node's $SEED_SVC_CHAIN (iptables-save polled)"
  local max=0 l polls
  for n in "${NODES[@]}"; do
    read -r t polls <"$LAB_DIR/rule.$n"
    l="$(ms_between "$t_ready" "$t")"
    ((l > max)) && max=$l
    printf '   %-18s %5s ms   (%s polls in %s ms)\n' "$n" "$l" "$polls" "$(ms_between "$t_scale" "$t")"
  done
  printf '   %-18s %5s ms\n' "max" "$max"
  note "scale to Ready took $(ms_between "$t_scale" "$t_ready") ms; all rules in place $(ms_between "$t_scale" "$t_end") ms after the scale"
  echo
  echo "kubeproxy_network_programming_duration_seconds, each proxy's own measure (its /metrics on $PROXY_METRICS;"
  echo "it starts at the slice's last-change-trigger-time, which has whole seconds):"
  local m
  for n in "${NODES[@]}"; do
    m="$(in_node "$n" curl -s --max-time 2 "http://$PROXY_METRICS/metrics" 2>/dev/null |
      awk '$1 == "kubeproxy_network_programming_duration_seconds_sum" {s = $2}
           $1 == "kubeproxy_network_programming_duration_seconds_count" {c = $2}
           END {if (c > 0) printf "%d observations, mean %.3f s", c, s / c}')" || true
    printf '   %-18s %s\n' "$n" "${m:-(no observations)}"
  done
  echo
  subsection "All three backends serve"
  show "for i in \$(seq 60); do curl ... http://$SERVICE_VIP/; done | sort | uniq -c     (from $(pod_on app=multitool-1 lab-worker))" \
    tally "$(pod_on app=multitool-1 lab-worker)" 60 "http://$SERVICE_VIP/"
  [[ "$(grep -c 'nginx-deployment-' <<<"$OUT")" == 3 ]] || fail "want all three nginx pods to answer: $OUT"
}

# Endpoints of nginx-service's slices: "IP ready=.. serving=.. terminating=.. pod"
slice_endpoints() {
  kc get endpointslices -l kubernetes.io/service-name=nginx-service -o \
    'jsonpath={range .items[*].endpoints[*]}{.addresses[0]}{" ready="}{.conditions.ready}{" serving="}{.conditions.serving}{" terminating="}{.conditions.terminating}{" node="}{.nodeName}{" pod="}{.targetRef.name}{"\n"}{end}'
}
slice_endpoints_yaml() { kc get endpointslice "$1" -o yaml | sed -n '/^endpoints:/,/^kind:/p' | sed '$d'; }
scale_down() {
  section "7. Delete one nginx pod: terminating, then gone"
  echo "(kubectl delete pod would have the ReplicaSet replace it at once; scaling back to 2 deletes one for good)"
  show "kubectl scale deployment nginx-deployment --replicas=2" kc scale deployment nginx-deployment --replicas=2
  local pods=""
  terminating_pod() {
    pods="$(kc get pods -l app=nginx -o wide 2>/dev/null)" && grep -q Terminating <<<"$pods"
  }
  wait_for 30 "an nginx pod Terminating" terminating_pod
  echo
  echo "\$ kubectl get pods -l app=nginx -o wide"
  echo "$pods"
  local gone
  gone="$(awk '$3 == "Terminating" {print $1; exit}' <<<"$pods")"
  local eps=""
  terminating_ep() { eps="$(slice_endpoints 2>/dev/null)" && grep -q "terminating=true .*pod=$gone\$" <<<"$eps"; }
  wait_for 20 "$gone's endpoint terminating in the slice" terminating_ep
  echo
  local slice
  slice="$(kc get endpointslices -l kubernetes.io/service-name=nginx-service -o 'jsonpath={.items[0].metadata.name}')"
  show "kubectl get endpointslice $slice -o yaml | sed -n '/^endpoints:/,/^kind:/p'" \
    slice_endpoints_yaml "$slice"
  note "$gone is Terminating (preStop hook running); its endpoint stays in the slice: terminating, not ready (serving while nginx still answers)"
  two_rules() { [[ "$(svc_chain_rules lab-worker | wc -l)" == 2 ]]; }
  wait_for 20 "lab-worker's $SEED_SVC_CHAIN back to 2 endpoints" two_rules
  echo
  show "iptables -t nat -L $SEED_SVC_CHAIN -n -v --line-numbers     (lab-worker)" \
    in_node lab-worker iptables -t nat -L "$SEED_SVC_CHAIN" -n -v --line-numbers
  note "kube-proxy stopped sending new connections to it as soon as it was not ready"
  pod_gone() { ! kc get pod "$gone" >/dev/null 2>&1; }
  wait_for 40 "$gone to be deleted" pod_gone
  slice_two() { [[ "$(slice_endpoints | grep -c .)" == 2 ]]; }
  wait_for 20 "the slice to drop $gone" slice_two
  echo
  show "kubectl get pods -l app=nginx -o wide" kc get pods -l app=nginx -o wide
  echo
  show "kubectl get endpointslice" kc get endpointslice
  [[ "$(slice_ips)" == "$(nginx_ips)" ]] || fail "slice $(slice_ips) != pods $(nginx_ips)"
  note "$gone is gone: the slice and the rules are back to the remaining endpoints ($(slice_ips))"
}

trace_demo() {
  section "8. kslice-trace: how traffic to nginx-service flows on lab-worker"
  if [[ ! -x "$BIN/kslice-trace" ]]; then
    echo "(kslice-trace is not built; skipped)"
    return 0
  fi
  show "./dev lab trace default/nginx-service --node lab-worker" \
    in_node lab-worker "$BIN/kslice-trace" default/nginx-service --node lab-worker \
    --kubeconfig "$KUBECONFIG_FILE" --cluster-cidr "$CLUSTER_CIDR"
}

# ---- commands ------------------------------------------------------------------------------
cmd_run() {
  local keep=""
  [[ "${1:-}" == "--keep" ]] && keep=1
  local t0=$SECONDS
  echo "== kslice lab: the seed's ClusterIP walkthrough (shared/seed) on network namespaces =="
  if [[ -z "$keep" ]]; then
    trap 'rc=$?; trap - EXIT INT TERM; echo; echo "### 9. Cleanup"; teardown; echo "lab: removed namespaces, processes and $LAB_DIR"; exit $rc' EXIT
  fi
  trap 'echo "lab: interrupted" >&2; exit 130' INT TERM
  bring_up
  views
  connectivity
  scale_up
  scale_down
  trace_demo
  echo
  echo "== walkthrough done in $((SECONDS - t0)) s =="
  if [[ -n "$keep" ]]; then
    echo "lab: left running (--keep); lab/lab.sh down removes it"
  fi
}

cmd_up() {
  trap 'rc=$?; if ((rc != 0)); then echo "lab: bring-up failed; removing the half-built lab" >&2; teardown; fi' EXIT
  trap 'echo "lab: interrupted" >&2; exit 130' INT TERM
  bring_up
  echo
  show "kubectl get pods -o wide" kc get pods -o wide
  trap - EXIT
  cat <<EOF

The lab is up. Its API server is $API_URL, reachable inside the lab's namespaces:
  kubeconfig: $KUBECONFIG_FILE
  ./dev lab kubectl get pods -o wide          (= ip netns exec $CONTROL_PLANE kubectl --kubeconfig $KUBECONFIG_FILE ...)
  ./dev lab exec POD -- sh                    a shell in a pod's network namespace (-n NS for other namespaces)
  ./dev lab node lab-worker -- iptables -t nat -S KUBE-SERVICES
  ./dev lab trace default/nginx-service [--node lab-worker2]
  ./dev lab down                              remove it all
Logs: $LOGS
EOF
}

cmd_exec() {
  local ns=default
  if [[ "${1:-}" == "-n" || "${1:-}" == "--namespace" ]]; then
    ns="${2:?lab exec: -n wants a namespace}"
    shift 2
  fi
  local pod="${1:?usage: lab exec [-n NS] POD -- CMD...}"
  shift
  [[ "${1:-}" == "--" ]] && shift
  (($#)) || set -- sh
  local netns="lab-pod-$ns-$pod"
  ns_exists "$netns" || { echo "lab: no network namespace $netns (is $ns/$pod running in the lab? ./dev lab kubectl get pods -A)" >&2; exit 1; }
  exec ip netns exec "$netns" "$@"
}

cmd_node() {
  local n
  n="$(node_name "${1:?usage: lab node NODE -- CMD...}")" || exit 1
  shift
  [[ "${1:-}" == "--" ]] && shift
  (($#)) || set -- bash
  ns_exists "$n" || { echo "lab: the lab is not running ($n missing; ./dev lab up)" >&2; exit 1; }
  exec ip netns exec "$n" "$@"
}

cmd_kubectl() {
  [[ -f "$KUBECONFIG_FILE" ]] && ns_exists "$CONTROL_PLANE" ||
    { echo "lab: the lab is not running (./dev lab up)" >&2; exit 1; }
  exec ip netns exec "$CONTROL_PLANE" kubectl --kubeconfig "$KUBECONFIG_FILE" \
    --cache-dir "$LAB_DIR/kube-cache" "$@"
}

cmd_trace() {
  local svc="${1:?usage: lab trace NAMESPACE/SERVICE [--node NODE] [ARGS...]}"
  shift
  local n=lab-worker args=()
  while (($#)); do
    case "$1" in
      --node) n="$(node_name "${2:?--node wants a node}")" || exit 1; shift 2 ;;
      --node=*) n="$(node_name "${1#--node=}")" || exit 1; shift ;;
      *) args+=("$1"); shift ;;
    esac
  done
  ns_exists "$n" || { echo "lab: the lab is not running (./dev lab up)" >&2; exit 1; }
  local trace="$BIN/kslice-trace"
  [[ -x "$trace" ]] || trace="$SRC_TRACE"
  [[ -x "$trace" ]] || { echo "lab: kslice-trace is not built (./dev build //cmd/kslice-trace)" >&2; exit 1; }
  [[ " ${args[*]} " == *" --cluster-cidr"* ]] || args+=(--cluster-cidr "$CLUSTER_CIDR")
  exec ip netns exec "$n" "$trace" "$svc" --node "$n" --kubeconfig "$KUBECONFIG_FILE" "${args[@]}"
}

cmd_status() {
  local ns
  ns="$(lab_namespaces | xargs)"
  if [[ -z "$ns" ]]; then
    echo "no lab running"
    return 0
  fi
  echo "namespaces: $ns"
  local f name
  for f in "$PIDS"/*.pid; do
    [[ -f "$f" ]] || continue
    name="$(basename "$f" .pid)"
    if running "$name"; then echo "  $name: running (pid $(cat "$f"))"; else echo "  $name: not running"; fi
  done
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

main() {
  local cmd="${1:-run}"
  (($#)) && shift
  case "$cmd" in
    -h | --help | help) usage; return 0 ;;
  esac
  need_root "$cmd" "$@"
  case "$cmd" in
    run) check_tools; cmd_run "$@" ;;
    up) check_tools; cmd_up "$@" ;;
    down) teardown; echo "lab: down (no lab-* namespaces, processes or $LAB_DIR left)" ;;
    exec) cmd_exec "$@" ;;
    node) cmd_node "$@" ;;
    kubectl) cmd_kubectl "$@" ;;
    trace) cmd_trace "$@" ;;
    status) cmd_status ;;
    *) usage >&2; return 2 ;;
  esac
}

# Sourcing the script (tests) defines the functions without running anything.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
