#!/usr/bin/env bash
# Tests of the kslice-proxy binary's command line: --help exits 0; bad flags and values exit
# 2 with a message naming the flag; an unknown --proxy-mode lists the registered modes; the
# dry run on the lab fixture prints exactly the lab golden (the iptables-restore input the
# seed's rules come from), from a file and from stdin, as YAML and as a JSON List; the
# dual-stack fixture prints testdata/proxy/dualstack.golden (IPv4 then IPv6 payload).
#
#   bazel test //cmd/kslice-proxy:kslice_proxy_test
#   cmd/kslice-proxy/kslice_proxy_test.sh [path/to/kslice-proxy]   # from the repo root
set -uo pipefail

bin="${1:-$PWD/cmd/kslice-proxy/kslice-proxy}"
testdata="$PWD/testdata/proxy"
golden_file="$PWD/proxy/iptables/testdata/lab_nginx_service.golden"
[[ -x "$bin" ]] || { echo "FAIL: no binary at $bin" >&2; exit 1; }
tmp="$(mktemp -d "${TEST_TMPDIR:-/tmp}/kslice-proxy-test.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
unset KUBECONFIG
export HOME="$tmp/home"
mkdir -p "$HOME"

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
run() {
  rc=0
  timeout 60 "$bin" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
  out="$tmp/out"
  err="$(cat "$tmp/err")"
}
expect_exit() {  # expect_exit CODE PATTERN ARGS...
  local code="$1" pattern="$2"
  shift 2
  run "$@"
  [[ $rc -eq $code ]] || fail "'$*' exited $rc, want $code; stderr: $err"
  grep -qE -- "$pattern" <<<"$err" || fail "'$*': /$pattern/ not in stderr: $err"
}

# The golden's leading "# " lines describe it; the payload is the rest.
grep -v '^#' "$golden_file" >"$tmp/golden"
lab=(--hostname-override k8-services-worker --cluster-cidr 192.168.0.0/16)

echo "== --help"
run --help
[[ $rc -eq 0 ]] || fail "--help exited $rc"
for flag in --kubeconfig --master --hostname-override --proxy-mode --cluster-cidr --masquerade-all \
  --iptables-sync-period --iptables-min-sync-period --healthz-bind-address --metrics-bind-address \
  --iptables-masquerade-bit --nodeport-addresses --cleanup --dry-run --logging-format \
  --backend-opt --run-endpointslice-controller --max-endpoints-per-slice --leader-elect; do
  grep -q -- "$flag" "$out" || fail "--help does not mention $flag"
done

echo "== dry run: the lab fixture gives the lab golden byte for byte"
run --dry-run -f "$testdata/lab.yaml" "${lab[@]}"
[[ $rc -eq 0 ]] || fail "dry run exited $rc: $err"
diff -u "$tmp/golden" "$out" >"$tmp/diff" || fail "dry run differs from the golden:
$(cat "$tmp/diff")"
run --dry-run -f "$testdata/lab.yaml" --hostname-override=K8-Services-Worker \
  --cluster-cidr=192.168.0.0/16 --proxy-mode=iptables
diff -q "$tmp/golden" "$out" >/dev/null || fail "--hostname-override is not lower-cased / '=' syntax"

echo "== dry run: stdin, JSON List"
rc=0
timeout 60 "$bin" --dry-run -f - "${lab[@]}" <"$testdata/lab.yaml" >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 0 ]] || fail "-f - exited $rc: $(cat "$tmp/err")"
diff -q "$tmp/golden" "$tmp/out" >/dev/null || fail "-f - output differs from the golden"
run --dry-run -f "$testdata/lab_list.json" "${lab[@]}"
[[ $rc -eq 0 ]] || fail "lab_list.json exited $rc: $err"
diff -q "$tmp/golden" "$out" >/dev/null || fail "lab_list.json output differs from the golden"

echo "== dry run: flag variants change the payload as kube-proxy's would"
echo "== dry run: dual-stack gives the IPv4 payload, the separator line, the IPv6 payload"
run --dry-run -f "$testdata/dualstack.yaml" --hostname-override node-a \
  --cluster-cidr 10.244.0.0/16,fd00:10:244::/56
[[ $rc -eq 0 ]] || fail "dual-stack dry run exited $rc: $err"
diff -u "$testdata/dualstack.golden" "$out" >"$tmp/diff" || fail "dual-stack dry run differs from dualstack.golden:
$(cat "$tmp/diff")"
grep -qx '# IPv6 (ip6tables-restore input)' "$out" || fail "no IPv6 separator line"

run --dry-run -f "$testdata/lab.yaml" "${lab[@]}" --masquerade-all
[[ $rc -eq 0 ]] || fail "--masquerade-all exited $rc: $err"
grep -q -- '! -s 192.168.0.0/16' "$out" && fail "--masquerade-all still has the cluster-CIDR match"
grep -qE -- '-A KUBE-SVC-6IM33IEVEEV7U3GP .* -j KUBE-MARK-MASQ' "$out" || fail "--masquerade-all: no masquerade rule"
run --dry-run -f "$testdata/lab.yaml" --hostname-override k8-services-worker
grep -q -- 'KUBE-MARK-MASQ' <(grep -- '-A KUBE-SVC-' "$out") && fail "no --cluster-cidr: SVC masquerade rule present"
run --dry-run -f "$testdata/lab.yaml" "${lab[@]}" --iptables-masquerade-bit 5
grep -q -- '--or-mark 0x00000020' "$out" || fail "--iptables-masquerade-bit 5: $(grep or-mark "$out")"

echo "== bad flags: exit 2"
expect_exit 2 'unknown flag: --bogus' --bogus
expect_exit 2 'unexpected argument "extra"' extra
expect_exit 2 'has no backend in this binary \(registered: ([a-z]+, )*iptables(, [a-z]+)*\)' --proxy-mode=ipvs --dry-run -f x
expect_exit 2 'iptables-sync-period.*not a duration' --iptables-sync-period=soon
expect_exit 2 'iptables-sync-period.*greater than 0' --iptables-sync-period=0s
expect_exit 2 'iptables-min-sync-period' --iptables-min-sync-period=-1s
expect_exit 2 'iptables-masquerade-bit.*0\.\.31' --iptables-masquerade-bit=32
expect_exit 2 'cluster-cidr.*not a CIDR' --cluster-cidr=10.0.0.0
expect_exit 2 'masquerade-all.*not a boolean' --masquerade-all=maybe
expect_exit 2 'needs -f FILE' --dry-run
expect_exit 2 'backend-opt.*"grpc.listen" is not KEY=VALUE' --backend-opt grpc.listen
expect_exit 2 'max-endpoints-per-slice' --run-endpointslice-controller --max-endpoints-per-slice=0
expect_exit 2 'run-endpointslice-controller cannot be combined' --run-endpointslice-controller --cleanup
expect_exit 2 'only used with --dry-run' -f x
expect_exit 2 'flag needs an argument' --kubeconfig
expect_exit 2 'healthz-bind-address' --healthz-bind-address='[::1'
expect_exit 2 'verbosity|-v' -v=x

echo "== dry run: unreadable or bad input exits 1"
expect_exit 1 'cannot read' --dry-run -f "$tmp/missing.yaml" "${lab[@]}"
printf 'apiVersion: v1\nkind: Service\nmetadata: [\n' >"$tmp/bad.yaml"
expect_exit 1 'bad.yaml: document 1' --dry-run -f "$tmp/bad.yaml" "${lab[@]}"

if [[ $failures -ne 0 ]]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "PASS"
