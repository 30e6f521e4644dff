#!/usr/bin/env bash
# Tests of the kslice-trace binary without root: --help; bad flags, a missing Service, an
# unreachable server and an unparseable ruleset exit 2 with a clear message; the lab
# objects (testdata/proxy/lab.yaml) against kslice-proxy's own dry-run payload give the
# seed's trace (proxy/trace/testdata/lab_trace.golden) and exit 0; the payload edited by
# hand (a KUBE-SEP jump deleted, a wrong probability, the KUBE-SERVICES rule removed)
# exits 1 naming the drift; -o json; a Service without endpoints and its REJECT rule;
# --ruleset-file - (stdin); the nftables fixture of upstream's layout.
#
#   bazel test //cmd/kslice-trace:kslice_trace_test
#   cmd/kslice-trace/kslice_trace_test.sh [kslice-trace [kslice-proxy]]   # from the repo root
set -uo pipefail

bin="${1:-$PWD/cmd/kslice-trace/kslice-trace}"
proxy="${2:-$PWD/cmd/kslice-proxy/kslice-proxy}"
lab="$PWD/testdata/proxy/lab.yaml"
testdata="$PWD/proxy/trace/testdata"
[[ -x "$bin" ]] || { echo "FAIL: no binary at $bin" >&2; exit 1; }
[[ -x "$proxy" ]] || { echo "FAIL: no kslice-proxy at $proxy" >&2; exit 1; }
tmp="$(mktemp -d "${TEST_TMPDIR:-/tmp}/kslice-trace-test.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
unset KUBECONFIG
export HOME="$tmp/home"
mkdir -p "$HOME"

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
run() {  # stdin from $stdin_file (default /dev/null)
  rc=0
  timeout 60 "$bin" "$@" >"$tmp/out" 2>"$tmp/err" <"${stdin_file:-/dev/null}" || rc=$?
  out="$(cat "$tmp/out")"
  err="$(cat "$tmp/err")"
}
expect_exit() {  # expect_exit CODE PATTERN ARGS...: PATTERN in stderr (2) or stdout (0, 1)
  local code="$1" pattern="$2"
  shift 2
  run "$@"
  [[ $rc -eq $code ]] || fail "'$*' exited $rc, want $code; stdout: $out; stderr: $err"
  local where="$out"
  [[ $code -eq 2 ]] && where="$err"
  grep -qE -- "$pattern" <<<"$where" || fail "'$*': /$pattern/ not in output: $where"
}

# The rules kslice-proxy programs on k8-services-worker for the lab objects.
"$proxy" --dry-run -f "$lab" --hostname-override k8-services-worker \
  --cluster-cidr 192.168.0.0/16 >"$tmp/rules" 2>"$tmp/proxy.err" ||
  { echo "FAIL: kslice-proxy --dry-run: $(cat "$tmp/proxy.err")" >&2; exit 1; }
objects=(--objects-file "$lab")

echo "== --help"
run --help
[[ $rc -eq 0 ]] || fail "--help exited $rc"
for flag in --node --kubeconfig --master --cluster-cidr --ruleset-file --objects-file --mode --output; do
  grep -q -- "$flag" <<<"$out" || fail "--help does not mention $flag"
done

echo "== errors exit 2"
expect_exit 2 "missing SERVICE"
expect_exit 2 "one SERVICE expected" a/b c/d
expect_exit 2 "unknown flag" a/b --bogus
expect_exit 2 "--mode" default/nginx-service --mode ipvs "${objects[@]}"
expect_exit 2 "--output" default/nginx-service -o yaml "${objects[@]}"
expect_exit 2 "Service default/nope is not in" default/nope "${objects[@]}" --ruleset-file "$tmp/rules"
expect_exit 2 "no port named \"https\"" default/nginx-service:https "${objects[@]}" --ruleset-file "$tmp/rules"
expect_exit 2 "reading the objects" default/nginx-service --objects-file "$tmp/absent.yaml"
expect_exit 2 "reading the ruleset" default/nginx-service "${objects[@]}" --ruleset-file "$tmp/absent"
printf '*nat\n-A KUBE-SERVICES -m comment --comment "unterminated -j X\nCOMMIT\n' >"$tmp/bad"
expect_exit 2 "parsing the iptables rules: line 2: unterminated quote" default/nginx-service \
  "${objects[@]}" --ruleset-file "$tmp/bad"
printf '*nat\n-A KUBE-SERVICES -j X\n' >"$tmp/truncated"
expect_exit 2 "no COMMIT" default/nginx-service "${objects[@]}" --ruleset-file "$tmp/truncated"
printf '*filter\nCOMMIT\n' >"$tmp/nonat"
expect_exit 2 "no nat table" default/nginx-service "${objects[@]}" --ruleset-file "$tmp/nonat"
expect_exit 2 "parsing the nftables rules" default/nginx-service "${objects[@]}" --mode nftables \
  --ruleset-file "$tmp/rules"
start=$SECONDS
expect_exit 2 "getting Service default/nginx-service \(server https://127.0.0.1:1\)" \
  default/nginx-service --master https://127.0.0.1:1 --ruleset-file "$tmp/rules"
((SECONDS - start < 30)) || fail "an unreachable server took $((SECONDS - start))s to report"
expect_exit 2 "loading the client configuration" default/nginx-service --kubeconfig "$tmp/absent.kubeconfig"

echo "== the seed's trace, computed: exit 0 and the golden"
run default/nginx-service "${objects[@]}" --ruleset-file "$tmp/rules"
[[ $rc -eq 0 ]] || fail "consistent rules exited $rc: $out $err"
diff -u "$testdata/lab_trace.golden" "$tmp/out" >"$tmp/diff" ||
  fail "trace differs from proxy/trace/testdata/lab_trace.golden:
$(cat "$tmp/diff")"
# Only the node named in the file is known: --node picks another one explicitly.
expect_exit 0 "on node k8-services-worker2" default/nginx-service "${objects[@]}" \
  --ruleset-file "$tmp/rules" --node k8-services-worker2
stdin_file="$tmp/rules" expect_exit 0 "KUBE-SVC-6IM33IEVEEV7U3GP" nginx-service:http "${objects[@]}" \
  --ruleset-file -
run default/nginx-service "${objects[@]}" --ruleset-file "$testdata/lab_kernel_save.txt"
[[ $rc -eq 0 ]] || fail "the kernel's listing of the same rules exited $rc: $out"

echo "== drift: a KUBE-SEP jump deleted"
grep -v -- '-A KUBE-SVC-6IM33IEVEEV7U3GP .*-> 192.168.156.5:80' "$tmp/rules" >"$tmp/nosep"
expect_exit 1 "missing-endpoint: endpoint 192.168.156.5:80" default/nginx-service "${objects[@]}" \
  --ruleset-file "$tmp/nosep"
grep -q "^DRIFT: " <<<"$out" || fail "no DRIFT summary line: $out"

echo "== drift: a wrong probability"
sed 's/--probability 0.5000000000/--probability 0.8/' "$tmp/rules" >"$tmp/prob"
expect_exit 1 "wrong-probability: .* kube-proxy writes 0.5000000000" default/nginx-service \
  "${objects[@]}" --ruleset-file "$tmp/prob"
grep -q "unequal-shares" <<<"$out" || fail "no unequal-shares for 80/20: $out"

echo "== drift: the KUBE-SERVICES rule removed"
grep -v -- '-A KUBE-SERVICES .*nginx-service:http cluster IP' "$tmp/rules" >"$tmp/nosvc"
expect_exit 1 "missing-service-rule" default/nginx-service "${objects[@]}" --ruleset-file "$tmp/nosvc"

echo "== -o json"
run default/nginx-service "${objects[@]}" --ruleset-file "$tmp/nosep" -o json
[[ $rc -eq 1 ]] || fail "-o json with drift exited $rc"
grep -q '"consistent": false' <<<"$out" || fail "json: no consistent false: $out"
grep -q '"kind": "missing-endpoint"' <<<"$out" || fail "json: no missing-endpoint: $out"
if command -v python3 >/dev/null 2>&1; then
  python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["driftCount"] >= 1' <<<"$out" ||
    fail "json does not parse or has no driftCount"
fi

echo "== a Service without endpoints: REJECT"
awk 'BEGIN{RS="---"; ORS="---"} !/kind: EndpointSlice/' "$lab" >"$tmp/noeps.yaml"
"$proxy" --dry-run -f "$tmp/noeps.yaml" --hostname-override k8-services-worker \
  --cluster-cidr 192.168.0.0/16 >"$tmp/noeps.rules" 2>/dev/null || fail "dry run without endpoints"
expect_exit 0 "rejected" default/nginx-service --objects-file "$tmp/noeps.yaml" \
  --ruleset-file "$tmp/noeps.rules"
grep -v -- '-j REJECT' "$tmp/noeps.rules" >"$tmp/noreject"
expect_exit 1 "missing-reject" default/nginx-service --objects-file "$tmp/noeps.yaml" \
  --ruleset-file "$tmp/noreject"
# The objects say no endpoints, the rules still send traffic to the old ones.
expect_exit 1 "extra-endpoint" default/nginx-service --objects-file "$tmp/noeps.yaml" \
  --ruleset-file "$tmp/rules"

echo "== nftables: upstream's layout, listed by real nft"
expect_exit 0 "service-PIOJ4VP5-default/nginx-service/tcp/http" default/nginx-service \
  "${objects[@]}" --mode nftables --ruleset-file "$testdata/lab_nft.json" --cluster-cidr 192.168.0.0/16
diff -u "$testdata/lab_trace_nft.golden" "$tmp/out" >"$tmp/diff" ||
  fail "nft trace differs from lab_trace_nft.golden:
$(cat "$tmp/diff")"

if [[ $failures -ne 0 ]]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "PASS"
