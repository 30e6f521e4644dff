#!/usr/bin/env bash
# kslice-lab-kubelet as a process: --help, bad flags (exit 2 with the reason), --cleanup
# of a state dir that holds nothing, and one that belongs to another node (exit 1).
# No root needed; the real pod lifecycle is //lab/kubelet:kubelet_netns_test.
set -euo pipefail
bin="${1:-cmd/kslice-lab-kubelet/kslice-lab-kubelet}"
tmp="$(mktemp -d "${TEST_TMPDIR:-/tmp}/lab-kubelet-test.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bin" --help >"$tmp/help" || fail "--help exited $?"
grep -q -- "--pod-cidr" "$tmp/help" || fail "--help does not list --pod-cidr"

expect_usage() {  # EXPECTED-TEXT ARGS...
  local want="$1" rc=0
  shift
  "$bin" "$@" >"$tmp/out" 2>&1 || rc=$?
  [[ $rc -eq 2 ]] || fail "'$*' exited $rc, want 2: $(cat "$tmp/out")"
  grep -q -- "$want" "$tmp/out" || fail "'$*' does not say '$want': $(cat "$tmp/out")"
}
expect_usage "unknown flag: --bogus" --bogus 1
expect_usage "--node-name is required" --state-dir "$tmp/s"
expect_usage "gateway 10.9.0.1 is not a usable address" --node-name n --node-ip 10.0.0.1 \
  --pod-cidr 10.1.0.0/26 --pod-gateway 10.9.0.1 --state-dir "$tmp/s"
expect_usage "invalid taint effect" --register-with-taints a=b:Never
expect_usage "--cleanup needs --node-name and --state-dir" --cleanup

# --cleanup of a dir never created, and of an empty one: nothing to do, exit 0.
"$bin" --cleanup --node-name n1 --state-dir "$tmp/never" || fail "cleanup of a missing dir exited $?"
mkdir -p "$tmp/s1/netns" "$tmp/s1/pods"
echo n1 >"$tmp/s1/node"
"$bin" --cleanup --node-name n1 --state-dir "$tmp/s1" || fail "cleanup of an empty dir exited $?"
rc=0
"$bin" --cleanup --node-name n2 --state-dir "$tmp/s1" >"$tmp/out" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || fail "cleanup of another node's dir exited $rc, want 1"
grep -q 'belongs to node "n1"' "$tmp/out" || fail "no reason given: $(cat "$tmp/out")"
echo PASS
