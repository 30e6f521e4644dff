#!/usr/bin/env bash
# End-to-end test of the kslice-codec binary on the upstream wire fixtures.
set -euo pipefail
codec="$PWD/cmd/kslice-codec/kslice-codec"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"

shared="${KSLICE_SHARED_DIR:-}"
if [[ -z "$shared" ]]; then
  root="$(dirname "$(readlink -f README.md)")"
  [[ -d "$root/../shared" ]] && shared="$root/../shared"
fi
fail=0
check() { if ! "$@"; then echo "FAIL: $*" >&2; fail=1; fi; }

# Usage errors exit 2 with a message; undecodable input exits 1.
set +e
"$codec" --to=xml </dev/null 2>"$tmp/err"; rc=$?
set -e
check test "$rc" -eq 2
check grep -q "unknown format" "$tmp/err"
set +e
printf 'k8s\0garbage' | "$codec" --to=json 2>"$tmp/err"; rc=$?
set -e
check test "$rc" -eq 1
check grep -q "malformed protobuf" "$tmp/err"
set +e
echo '{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"a","ports":[{"containerPort":"x"}]}]}}' \
  | "$codec" --to=yaml 2>"$tmp/err"; rc=$?
set -e
check test "$rc" -eq 1
check grep -q "spec.containers\[0\].ports\[0\].containerPort" "$tmp/err"

# A hand-written manifest converts to protobuf and back.
cat >"$tmp/svc.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: nginx-service
  labels: {app: nginx}
spec:
  selector: {app: nginx}
  clusterIP: 10.96.204.67
  ports:
  - name: http
    protocol: TCP
    port: 80
    targetPort: 80
YAML
"$codec" --to=pb "$tmp/svc.yaml" >"$tmp/svc.pb"
"$codec" --from=pb --to=yaml "$tmp/svc.pb" >"$tmp/svc2.yaml"
check grep -q "clusterIP: 10.96.204.67" "$tmp/svc2.yaml"
check grep -q "targetPort: 80" "$tmp/svc2.yaml"

if [[ -z "$shared" || ! -d "$shared/testdata/k8s-api" ]]; then
  echo "SKIP fixture conversions: shared/testdata/k8s-api not found (set KSLICE_SHARED_DIR)"
  exit "$fail"
fi
n=0
for pb in "$shared"/testdata/k8s-api/*/*.pb; do
  name="$(basename "$(dirname "$pb")")/$(basename "$pb" .pb)"
  for via in json yaml; do
    "$codec" --strict --from=pb --to="$via" "$pb" >"$tmp/obj.$via"
    "$codec" --strict --from="$via" --to=pb "$tmp/obj.$via" >"$tmp/back.pb"
    if cmp -s "$pb" "$tmp/back.pb"; then
      n=$((n + 1))
    else
      echo "FAIL: $name pb -> $via -> pb differs" >&2
      fail=1
    fi
  done
done
echo "$n fixture round trips through kslice-codec gave identical bytes"
check test "$n" -ge 36
exit "$fail"
