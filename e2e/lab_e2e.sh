#!/usr/bin/env bash
# The lab end to end, headless (docs/lab.md "The e2e test"): lab/lab.sh run --keep builds
# the 3-node network-namespace cluster, deploys testdata/lab and runs the seed's
# walkthrough, failing on any check of its own (seed pod IPs, EndpointSlice = nginx pod
# IPs, the seed's KUBE-SVC/KUBE-SEP chain names and rules, nginx's 400 through the VIP
# from a pod on every node, both then all three backends serving, the 1/3 and 1/2
# probabilities, the terminating endpoint, the slice and rules back to two). This test
# then checks the same things again from the transcript and the live system, runs
# kslice-trace on lab-worker (clean, then with a KUBE-SEP jump deleted by hand: it must
# report the drift), takes the lab down and checks that nothing is left: no lab-*
# namespace, no /etc/netns/lab-* entry, no process that ran in the lab, no state dir.
#
#   bazel test //e2e:lab_e2e_test
#   e2e/lab_e2e.sh LAB_SH NGINX_YAML APISERVER ESC PROXY KUBELET CONTROLLERS TRACE   # root
#
# Needs root, iproute2, iptables, kubectl, nginx, nc and curl (./dev deps). Skips (passes)
# only when network namespaces cannot be created. The lab's names are fixed (lab-*), so a
# lab left running by `./dev lab up` is replaced.
set -euo pipefail
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

(($# == 8)) || { echo "usage: $0 LAB_SH NGINX_YAML APISERVER ESC PROXY KUBELET CONTROLLERS TRACE" >&2; exit 2; }
abs() { [[ "$1" == /* ]] && echo "$1" || echo "$PWD/$1"; }
lab_sh="$(abs "$1")"
KSLICE_LAB_MANIFESTS="$(dirname "$(abs "$2")")"
KSLICE_APISERVER="$(abs "$3")"
KSLICE_ENDPOINTSLICE_CONTROLLER="$(abs "$4")"
KSLICE_PROXY="$(abs "$5")"
KSLICE_LAB_KUBELET="$(abs "$6")"
KSLICE_LAB_CONTROLLERS="$(abs "$7")"
KSLICE_TRACE="$(abs "$8")"
export KSLICE_LAB_MANIFESTS KSLICE_APISERVER KSLICE_ENDPOINTSLICE_CONTROLLER KSLICE_PROXY \
  KSLICE_LAB_KUBELET KSLICE_LAB_CONTROLLERS KSLICE_TRACE
for f in "$lab_sh" "$KSLICE_APISERVER" "$KSLICE_ENDPOINTSLICE_CONTROLLER" "$KSLICE_PROXY" \
  "$KSLICE_LAB_KUBELET" "$KSLICE_LAB_CONTROLLERS" "$KSLICE_TRACE"; do
  [[ -x "$f" ]] || { echo "FAIL: no executable at $f" >&2; exit 1; }
done

# ---- can this machine run the lab? ---------------------------------------------------------
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: not root; network namespaces cannot be created (lab e2e not run)"
  exit 0
fi
probe="ksl-labprobe-$$"
if ! ip netns add "$probe" 2>/dev/null; then
  echo "SKIP: 'ip netns add' is not allowed here (sandbox or missing CAP_SYS_ADMIN); lab e2e not run"
  exit 0
fi
if ! ip netns exec "$probe" ip link set lo up 2>/dev/null; then
  ip netns del "$probe" 2>/dev/null || true
  echo "SKIP: cannot enter a network namespace ('ip netns exec' fails); lab e2e not run"
  exit 0
fi
ip netns del "$probe"
for tool in iptables iptables-save kubectl curl nc /usr/sbin/nginx; do
  command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: $tool is not installed (./dev deps)" >&2; exit 1; }
done

tmp="$(mktemp -d "${TEST_TMPDIR:-/tmp}/lab-e2e.XXXXXX")"
export KSLICE_LAB_DIR="$tmp/lab"
export HOME="$tmp/home"
mkdir -p "$HOME"
lab() { "$lab_sh" "$@"; }

step=""
section() { step="$*"; echo; echo "== e2e: $*"; }
fail() {
  echo "FAIL [$step]: $*" >&2
  exit 1
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if ((rc != 0)) && [[ -d "$KSLICE_LAB_DIR/logs" ]]; then
    for log in "$KSLICE_LAB_DIR"/logs/*.log; do
      [[ -f "$log" ]] || continue
      echo "--- $(basename "$log") (last 25 lines)" >&2
      tail -n 25 "$log" >&2 || true
    done
  fi
  lab down >/dev/null 2>&1 || true
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "FAIL: interrupted" >&2; exit 1' INT TERM

# ---- the walkthrough -----------------------------------------------------------------------
section "lab/lab.sh run --keep"
t0=$SECONDS
rc=0
lab run --keep 2>&1 | tee "$tmp/run.out" || rc=$?
((rc == 0)) || fail "the walkthrough failed (exit $rc)"
echo "walkthrough: $((SECONDS - t0)) s"
out="$tmp/run.out"
has() { grep -qE -- "$1" "$out" || fail "the transcript has no line matching: $1"; }

section "transcript"
has '^-A KUBE-SERVICES -d 10\.96\.204\.67/32 -p tcp -m comment --comment "default/nginx-service:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-6IM33IEVEEV7U3GP$'
has '^Chain KUBE-SEP-M6MI3YLHVX7DA53R '
has '^Chain KUBE-SEP-MJ46KNWYZBDUIDMY '
has 'KUBE-SEP-M6MI3YLHVX7DA53R .*/\* default/nginx-service:http -> 192\.168\.156\.5:80 \*/ statistic mode random probability 0\.50000000000'
has 'KUBE-SEP-MJ46KNWYZBDUIDMY .*/\* default/nginx-service:http -> 192\.168\.202\.196:80 \*/'
has '^HTTP/1\.1 400 Bad Request'
for n in lab-control-plane lab-worker lab-worker2; do
  has "from $n +multitool-1-[a-z0-9]+ +-> HTTP/1\.1 400 Bad Request"
done
has 'probability 0\.33333333349'
has 'Terminating'
has '^    terminating: true$'
has '^ +max +-?[0-9]+ ms$'

# Two backends in the first tally (50 requests), three in the second (60 requests).
tallies="$(grep -E '^[0-9]+ nginx-deployment-[a-z0-9-]+ \(192\.168\.[0-9.]+\)$' "$out" || true)"
first="$(awk 'BEGIN{s=0} {s+=$1; n++; if (s == 50) {print n; exit}}' <<<"$tallies")"
[[ "$first" == 2 ]] || fail "the first 50 requests did not reach exactly 2 backends: $tallies"
third="$(tail -n +3 <<<"$tallies" | awk '{s+=$1; n++} END {print n, s}')"
[[ "$third" == "3 60" ]] || fail "the 60 requests after scaling did not reach 3 backends: $tallies"

section "live state"
k() { lab kubectl "$@"; }
pods="$(k get pods -o 'jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.status.conditions[?(@.type=="Ready")].status} {.status.podIP}{"\n"}{end}')"
echo "$pods"
[[ "$(grep -c . <<<"$pods")" == 8 ]] || fail "want 8 pods (3 + 3 multitool, 2 nginx): $pods"
[[ "$(awk '$2 == "Running" && $3 == "True"' <<<"$pods" | wc -l)" == 8 ]] || fail "not all pods Running and Ready"
for ip in 192.168.145.9 192.168.202.194 192.168.156.3 192.168.145.10 192.168.202.195 192.168.156.4; do
  grep -q "^multitool-[12]-[a-z0-9]* Running True $ip\$" <<<"$pods" || fail "no multitool pod on the seed's $ip"
done
nginx_ips="$(grep '^nginx-deployment-' <<<"$pods" | awk '{print $4}' | sort | xargs)"
slice_ips="$(k get endpointslices -l kubernetes.io/service-name=nginx-service \
  -o 'jsonpath={range .items[*].endpoints[*]}{.addresses[0]}{"\n"}{end}' | sort | xargs)"
[[ -n "$nginx_ips" && "$slice_ips" == "$nginx_ips" ]] ||
  fail "the EndpointSlice lists '$slice_ips', the nginx pods are '$nginx_ips'"
echo "slice: $slice_ips"

# ---- kslice-trace --------------------------------------------------------------------------
section "kslice-trace on lab-worker"
rc=0
lab trace default/nginx-service --node lab-worker >"$tmp/trace.out" 2>&1 || rc=$?
cat "$tmp/trace.out"
((rc == 0)) || fail "kslice-trace exited $rc on a consistent node"
for want in KUBE-SVC-6IM33IEVEEV7U3GP 10.96.204.67 $nginx_ips; do
  grep -qF -- "$want" "$tmp/trace.out" || fail "the trace does not mention $want"
done
! grep -qi 'drift' "$tmp/trace.out" || grep -qiE 'no drift|drift: none' "$tmp/trace.out" ||
  fail "the trace reports drift on a consistent node"

section "kslice-trace with a KUBE-SEP jump deleted by hand"
victim="$(awk '{print $1}' <<<"$nginx_ips")"
num="$(lab node lab-worker -- iptables -t nat -L KUBE-SVC-6IM33IEVEEV7U3GP -n --line-numbers |
  awk -v ip="$victim:80" 'index($0, "-> " ip " ") {print $1; exit}')"
[[ -n "$num" ]] || fail "no jump to $victim:80 in lab-worker's KUBE-SVC-6IM33IEVEEV7U3GP"
lab node lab-worker -- iptables -t nat -D KUBE-SVC-6IM33IEVEEV7U3GP "$num"
rc=0
lab trace default/nginx-service --node lab-worker >"$tmp/trace.out" 2>&1 || rc=$?
cat "$tmp/trace.out"
((rc != 0)) || fail "kslice-trace exited 0 although $victim:80 has no rule on lab-worker"
grep -qi 'drift' "$tmp/trace.out" || fail "the trace does not report drift"
grep -qF "$victim" "$tmp/trace.out" || fail "the drift report does not name $victim"

# ---- nothing left --------------------------------------------------------------------------
section "lab/lab.sh down leaves nothing"
lab_pids=()
for ns in $(ip netns list | awk '{print $1}' | grep -E '^lab-'); do
  for p in $(ip netns pids "$ns"); do lab_pids+=("$p"); done
done
((${#lab_pids[@]} >= 8)) || fail "expected the lab's processes in its namespaces, found ${#lab_pids[@]}"
lab down
left="$(ip netns list | awk '{print $1}' | grep -E '^lab-' || true)"
[[ -z "$left" ]] || fail "namespaces left: $left"
if compgen -G '/etc/netns/lab-*' >/dev/null; then fail "/etc/netns entries left: $(ls -d /etc/netns/lab-*)"; fi
[[ ! -e "$KSLICE_LAB_DIR" ]] || fail "state dir left: $KSLICE_LAB_DIR"
for p in "${lab_pids[@]}"; do
  if kill -0 "$p" 2>/dev/null; then
    fail "process $p ($(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)) still runs"
  fi
done
echo "removed: ${#lab_pids[@]} processes, every lab-* namespace, /etc/netns/lab-*, $KSLICE_LAB_DIR"
echo "PASS"
