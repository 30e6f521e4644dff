#!/usr/bin/env bash
# End-to-end smoke test of the endpointslice-controller binary against a kslice-apiserver
# process, driven with kubectl and curl:
#   - the controller starts with leader election on its Lease and becomes ready;
#   - a Service + Node + Pods (IPs and Ready set through the status subresource) get an
#     EndpointSlice with the right endpoints, labels and owner; pod changes update it;
#   - /healthz, /readyz and /metrics (endpoint_slice_controller_syncs) answer;
#   - the `reconcile` dry run on a dump of the live objects plans no writes (same result);
#   - a second replica stands by; SIGTERM makes the leader exit 0 and release the Lease,
#     the stand-by takes over and keeps the slice up to date; SIGTERM on it leaves the
#     Lease without a holder;
#   - deploy/ renders with `kubectl kustomize`. (`kubectl apply --dry-run` cannot check it
#     here: kslice-apiserver serves none of its kinds — ServiceAccount, rbac, apps, policy —
#     so kubectl finds no mapping for them; deploy:manifests_test checks the content.)
#
#   bazel test //e2e:endpointslice_controller_e2e_test
#   e2e/endpointslice_controller_e2e.sh [kslice-apiserver [endpointslice-controller]]  # repo root
#
# Skips (passes) when kubectl is not installed.
set -euo pipefail

if ! command -v kubectl >/dev/null 2>&1; then
  if [[ -x /usr/bin/kubectl ]]; then
    PATH="/usr/bin:$PATH"
  else
    echo "SKIP: kubectl not found on PATH or at /usr/bin/kubectl; endpointslice-controller e2e not run"
    exit 0
  fi
fi
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl not found"; exit 0; }

src_server="${1:-${KSLICE_APISERVER:-$PWD/cmd/kslice-apiserver/kslice-apiserver}}"
src_controller="${2:-${KSLICE_ESC:-$PWD/cmd/endpointslice-controller/endpointslice-controller}}"
deploy_dir="${KSLICE_DEPLOY_DIR:-$PWD/deploy}"
[[ -x "$src_server" ]] || { echo "FAIL: no kslice-apiserver at $src_server" >&2; exit 1; }
[[ -x "$src_controller" ]] || { echo "FAIL: no endpointslice-controller at $src_controller" >&2; exit 1; }

tmp="$(mktemp -d "${TEST_TMPDIR:-/tmp}/esc-e2e.XXXXXX")"
server_pid=""
a_pid=""
b_pid=""
cleanup() {
  local rc=$?
  for pid in "$b_pid" "$a_pid" "$server_pid"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  if [[ $rc -ne 0 ]]; then
    for log in server a b; do
      [[ -f "$tmp/$log.log" ]] || continue
      echo "--- $log log (last 40 lines)" >&2
      tail -n 40 "$tmp/$log.log" >&2 || true
    done
  fi
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Private copies: bazel-bin outputs may be replaced while the test runs.
cp "$src_server" "$tmp/kslice-apiserver"
cp "$src_controller" "$tmp/endpointslice-controller"
chmod u+x "$tmp/kslice-apiserver" "$tmp/endpointslice-controller"
export HOME="$tmp/home"
export KUBECONFIG="$tmp/kubeconfig"
mkdir -p "$HOME"
ns=esc-e2e
lease=endpointslice-controller

step=""
section() { step="$*"; echo "== $*"; }
fail() {
  echo "FAIL [$step]: $*" >&2
  exit 1
}
out=""
k() {
  local rc=0
  timeout 20 kubectl "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  out="$(cat "$tmp/out")"
  if [[ $rc -ne 0 ]] || grep -qv -e '^Warning: ' -e '^WARNING: ' "$tmp/err"; then
    echo "kubectl $*" >&2
    cat "$tmp/out" "$tmp/err" >&2
    fail "kubectl $* exited $rc or printed an error"
  fi
}
expect_eq() { [[ "$1" == "$2" ]] || fail "$3: got '$1', want '$2'"; }
wait_for() {  # SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what="$2"
  shift 2
  until "$@"; do
    ((SECONDS < deadline)) || fail "timed out after waiting for $what"
    sleep 0.2
  done
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---------------------------------------------------------------------------------------------
section "start kslice-apiserver"
"$tmp/kslice-apiserver" --port=0 --kubeconfig="$KUBECONFIG" --data-dir="$tmp/data" \
  --cert-dir="$tmp/certs" >"$tmp/server.log" 2>&1 &
server_pid=$!
server_up() {
  kill -0 "$server_pid" 2>/dev/null || fail "kslice-apiserver exited"
  grep -q "serving on https://" "$tmp/server.log" && [[ -f "$KUBECONFIG" ]]
}
wait_for 15 "the server" server_up

# start_controller NAME: runs a replica with leader election (short durations so the
# hand-over is quick); its health port is in ${NAME}_port.
start_controller() {
  local name="$1" port
  port="$(free_port)"
  printf -v "${name}_port" '%s' "$port"
  "$tmp/endpointslice-controller" --kubeconfig="$KUBECONFIG" --leader-elect \
    --leader-elect-lease-duration=4s --leader-elect-renew-deadline=3s --leader-elect-retry-period=1s \
    --health-bind-address="127.0.0.1:$port" --endpointslice-updates-batch-period=100ms -v=2 \
    >"$tmp/$name.log" 2>&1 &
  printf -v "${name}_pid" '%s' "$!"
}
http_get() { curl -fsS --max-time 5 "http://127.0.0.1:$1$2" 2>/dev/null; }
ready() { [[ "$(http_get "$1" /readyz)" == ok ]]; }
holder() { kubectl get lease "$lease" -n kube-system -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
identity_of() { sed -n 's/.*"starting manager".*identity="\([^"]*\)".*/\1/p' "$tmp/$1.log" | head -n 1; }
holder_is() { [[ "$(holder)" == "$1" ]]; }

section "controller A: ready and leading"
start_controller a
wait_for 20 "A /readyz" ready "$a_port"
a_id="$(identity_of a)"
[[ -n "$a_id" ]] || fail "no identity in A's log"
wait_for 20 "A to hold the Lease" holder_is "$a_id"
expect_eq "$(http_get "$a_port" /healthz)" ok "A /healthz"

section "service, node and pods -> one EndpointSlice"
k create namespace "$ns"
k apply -f - <<EOF
apiVersion: v1
kind: Node
metadata:
  name: esc-node-1
  labels:
    topology.kubernetes.io/zone: zone-a
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: $ns
  labels:
    app: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: 8080
EOF
for i in 1 2 3; do
  k apply -f - <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: web-$i
  namespace: $ns
  labels:
    app: web
spec:
  nodeName: esc-node-1
  containers:
  - name: web
    image: nginx
EOF
done
set_status() {  # POD IP READY
  k patch pod "$1" -n "$ns" --subresource=status --type=merge -p \
    "{\"status\":{\"phase\":\"Running\",\"podIP\":\"$2\",\"podIPs\":[{\"ip\":\"$2\"}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"$3\"}]}}"
}
set_status web-1 10.244.0.11 True
set_status web-2 10.244.0.12 True
set_status web-3 10.244.0.13 False
# "address=ready" of every endpoint of the service's slices, sorted.
endpoints() {
  kubectl get endpointslices -n "$ns" -l kubernetes.io/service-name=web \
    -o jsonpath='{range .items[*].endpoints[*]}{.addresses[0]}={.conditions.ready}{"\n"}{end}' 2>/dev/null |
    sort | tr '\n' ' '
}
endpoints_are() { [[ "$(endpoints)" == "$1" ]]; }
wait_for 20 "the slice's endpoints" endpoints_are "10.244.0.11=true 10.244.0.12=true 10.244.0.13=false "
svc_uid="$(kubectl get service web -n "$ns" -o jsonpath='{.metadata.uid}')"
k get endpointslices -n "$ns" -l kubernetes.io/service-name=web -o \
  jsonpath='{range .items[*]}{.metadata.generateName} {.metadata.labels.endpointslice\.kubernetes\.io/managed-by} {.metadata.ownerReferences[0].uid} {.addressType} {.ports[0].port} {.endpoints[0].zone}{"\n"}{end}'
expect_eq "$out" "web- endpointslice-controller.k8s.io $svc_uid IPv4 8080 zone-a" "slice metadata"

section "/metrics"
metrics="$(http_get "$a_port" /metrics)"
grep -qE '^endpoint_slice_controller_syncs\{result="success"\} [1-9]' <<<"$metrics" ||
  fail "no successful endpoint_slice_controller_syncs in /metrics: $(grep endpoint_slice_controller_syncs <<<"$metrics")"
grep -q '^endpoint_slice_controller_changes' <<<"$metrics" || fail "no endpoint_slice_controller_changes"

section "dry run on a dump of the live objects: no writes planned"
k get services,pods,endpointslices -n "$ns" -o yaml
printf '%s\n---\n' "$out" >"$tmp/dump.yaml"
k get nodes -o yaml
printf '%s\n' "$out" >>"$tmp/dump.yaml"
rc=0
"$tmp/endpointslice-controller" reconcile -f "$tmp/dump.yaml" --show-actions >"$tmp/dry.yaml" \
  2>"$tmp/dry.err" || rc=$?
expect_eq "$rc" 0 "dry run exit status ($(cat "$tmp/dry.err"))"
if grep -q '^action: ' "$tmp/dry.err"; then fail "dry run plans writes: $(cat "$tmp/dry.err")"; fi
live_name="$(kubectl get endpointslices -n "$ns" -l kubernetes.io/service-name=web -o jsonpath='{.items[0].metadata.name}')"
grep -q "name: $live_name\$" "$tmp/dry.yaml" || fail "dry run output does not keep $live_name: $(cat "$tmp/dry.yaml")"

section "controller B stands by"
start_controller b
wait_for 20 "B /readyz" ready "$b_port"
b_id="$(identity_of b)"
[[ -n "$b_id" && "$b_id" != "$a_id" ]] || fail "B's identity '$b_id'"
sleep 2
expect_eq "$(holder)" "$a_id" "Lease holder while A runs"
if grep -q '"became leader"' "$tmp/b.log"; then fail "B became leader while A holds the Lease"; fi

section "SIGTERM on A: clean exit, Lease released, B takes over"
kill -TERM "$a_pid"
rc=0
timeout 20 tail --pid="$a_pid" -f /dev/null || fail "A did not stop on SIGTERM"
wait "$a_pid" || rc=$?
a_pid=""
expect_eq "$rc" 0 "A's exit status after SIGTERM"
wait_for 10 "B to hold the Lease" holder_is "$b_id"
k delete pod web-2 -n "$ns" --grace-period=0 --wait=false
set_status web-3 10.244.0.13 True
wait_for 20 "B to update the slice" endpoints_are "10.244.0.11=true 10.244.0.13=true "

section "SIGTERM on B: clean exit, Lease without holder"
kill -TERM "$b_pid"
rc=0
timeout 20 tail --pid="$b_pid" -f /dev/null || fail "B did not stop on SIGTERM"
wait "$b_pid" || rc=$?
b_pid=""
expect_eq "$rc" 0 "B's exit status after SIGTERM"
expect_eq "$(holder)" "" "Lease holder after the last replica stopped"

section "deploy/ manifests"
# A real copy: kustomize refuses files that resolve outside the kustomization root, and
# bazel's runfiles are symlinks.
cp -rL "$deploy_dir" "$tmp/deploy"
k kustomize "$tmp/deploy"
expect_eq "$(grep -c '^kind: ' <<<"$out")" 7 "objects rendered by kubectl kustomize deploy/"
for kind in ServiceAccount ClusterRole ClusterRoleBinding Role RoleBinding Deployment PodDisruptionBudget; do
  grep -q "^kind: $kind\$" <<<"$out" || fail "kubectl kustomize deploy/ renders no $kind"
done

echo "PASS"
