#!/usr/bin/env bash
# Tests of the endpointslice-controller binary's command line: the `reconcile` dry run
# on the fixtures (stdout equals the golden files), stdin input, --show-actions and -o json;
# exit 2 with a message for bad flags and out-of-range values; --help exits 0; an
# unreachable server is a clear error with exit 1 (no crash, no hang).
#
#   bazel test //cmd/endpointslice-controller:endpointslice_controller_test
#   cmd/endpointslice-controller/endpointslice_controller_test.sh [path/to/binary]  # from the repo root
set -uo pipefail

bin="${1:-$PWD/cmd/endpointslice-controller/endpointslice-controller}"
testdata="$PWD/testdata/endpointslice"
[[ -x "$bin" ]] || { echo "FAIL: no binary at $bin" >&2; exit 1; }
tmp="$(mktemp -d "${TEST_TMPDIR:-/tmp}/esc-test.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# No kubeconfig from the environment.
unset KUBECONFIG
export HOME="$tmp/home"
mkdir -p "$HOME"

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# run ARGS...: runs the binary; sets $rc, $out (stdout file), $err (stderr text).
run() {
  rc=0
  timeout 60 "$bin" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
  out="$tmp/out"
  err="$(cat "$tmp/err")"
}

# expect_exit CODE PATTERN ARGS...: exit status CODE and PATTERN (grep -E) in stderr.
expect_exit() {
  local code="$1" pattern="$2"
  shift 2
  run "$@"
  [[ $rc -eq $code ]] || fail "'$*' exited $rc, want $code; stderr: $err"
  grep -qE -- "$pattern" <<<"$err" || fail "'$*': /$pattern/ not in stderr: $err"
}

echo "== dry run: stdout equals the golden files"
for input in list.json headless_dualstack.yaml existing_slice.yaml; do
  golden="$testdata/${input%.*}.golden.yaml"
  run reconcile -f "$testdata/$input"
  [[ $rc -eq 0 ]] || fail "reconcile -f $input exited $rc: $err"
  diff -u "$golden" "$out" >"$tmp/diff" || fail "reconcile -f $input differs from $golden:
$(cat "$tmp/diff")"
done

echo "== dry run: -f - reads stdin; --show-actions and events on stderr"
rc=0
timeout 60 "$bin" reconcile -f - --show-actions <"$testdata/existing_slice.yaml" \
  >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 0 ]] || fail "reconcile -f - exited $rc: $(cat "$tmp/err")"
diff -q "$testdata/existing_slice.golden.yaml" "$tmp/out" >/dev/null ||
  fail "reconcile -f - output differs from existing_slice.golden.yaml"
grep -qE '^action: update shop/api-x7k2p service=shop/api addressType=IPv4 endpoints=2' "$tmp/err" ||
  fail "--show-actions: no update line in stderr: $(cat "$tmp/err")"
run reconcile -f "$testdata/list.json" --show-actions
grep -qE '^action: create default/web-\* \(generateName\) service=default/web' <<<"$err" ||
  fail "--show-actions: no create line in stderr: $err"
[[ "$(grep -c '^action: ' <<<"$err")" -eq 1 ]] || fail "want exactly one action: $err"

echo "== dry run: -o json"
run reconcile -f "$testdata/headless_dualstack.yaml" -o json
[[ $rc -eq 0 ]] || fail "-o json exited $rc: $err"
head -c 1 "$out" | grep -q '{' || fail "-o json does not start with {"
grep -q '"kind": "List"' "$out" || fail "-o json: no List kind"
[[ "$(grep -c '"addressType": "IPv' "$out")" -eq 2 ]] || fail "-o json: want 2 slices"
# The JSON output is valid dry-run input again (parsed, slices counted).
cp "$out" "$tmp/again.json"
run reconcile -f "$tmp/again.json"
[[ $rc -eq 0 ]] || fail "re-reading the -o json output exited $rc: $err"

echo "== dry run: errors"
expect_exit 1 'cannot read' reconcile -f "$tmp/does-not-exist.yaml"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n---\n{ not yaml: [\n' >"$tmp/bad.yaml"
expect_exit 1 'document 2' reconcile -f "$tmp/bad.yaml"
expect_exit 2 'required' reconcile
expect_exit 2 'max-endpoints-per-slice' reconcile -f "$testdata/list.json" --max-endpoints-per-slice=1001
expect_exit 2 'output' reconcile -f "$testdata/list.json" -o table
expect_exit 2 'unknown flag: --frobnicate' reconcile -f x --frobnicate

echo "== flags: bad flags and out-of-range values exit 2"
expect_exit 2 'unknown flag: --no-such-flag' --no-such-flag
expect_exit 2 'max-endpoints-per-slice' --max-endpoints-per-slice=0
expect_exit 2 'max-endpoints-per-slice' --max-endpoints-per-slice=1001
expect_exit 2 'concurrent-service-endpoint-syncs' --concurrent-service-endpoint-syncs=51
expect_exit 2 'mirroring-max-endpoints-per-subset' --mirroring-max-endpoints-per-subset=0
expect_exit 2 'not a duration' --endpointslice-updates-batch-period=fast
expect_exit 2 'not a known controller' --controllers='*,-nodeipam'
expect_exit 2 'only "leases"' --leader-elect-resource-lock=configmapsleases
expect_exit 2 'renew' --leader-elect-lease-duration=5s
expect_exit 2 'logging' --logging-format=xml
grep -q -- "--help' for usage" <<<"$err" || fail "bad flags should point at --help: $err"

echo "== --help exits 0"
run --help
[[ $rc -eq 0 ]] || fail "--help exited $rc"
grep -q -- '--max-endpoints-per-slice' "$out" || fail "--help does not list --max-endpoints-per-slice"
run reconcile --help
[[ $rc -eq 0 ]] || fail "reconcile --help exited $rc"
grep -q -- '--show-actions' "$out" || fail "reconcile --help does not list --show-actions"

echo "== unreachable server: exit 1 with a message"
# A port nothing listens on (bound, then released).
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 1)"
start=$SECONDS
expect_exit 1 "cannot reach the API server at http://127.0.0.1:$port" \
  --master="http://127.0.0.1:$port" --leader-elect=false --health-bind-address=
((SECONDS - start < 40)) || fail "giving up on an unreachable server took $((SECONDS - start)) s"
expect_exit 1 'loading the client configuration' --kubeconfig="$tmp/does-not-exist"

if ((failures > 0)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "PASS"
