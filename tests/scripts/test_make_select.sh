#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Suite 'cli': how a part of the test suites is chosen. make check CASE=NAME
# with a name no suite has fails (it ran nothing) instead of passing, and
# SUITE/TEST/CASE count only when given on make's command line (a TEST
# variable in the environment neither narrows make check nor refuses make test).
set -uo pipefail
root=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # what, expected status, command...
	local what=$1 want=$2
	shift 2
	"$@" >"$tmp/out" 2>&1
	local got=$?
	if [[ $got -ne $want ]]; then
		echo "FAIL: $what: exit $got, wanted $want"
		cat "$tmp/out"
		fail=1
	else
		echo "ok: $what"
	fi
}
# A log of two suites: one CUnit suite that skipped every case (no such
# case), one script suite that passed on meson's verdict.
cat >"$tmp/log.json" <<'J'
{"name": "labyrinth:fast / a", "result": "SKIP", "stdout": "a: SKIPPED: no test 'nope' in this suite (LAB_TEST_CASE)\nLAB-RESULT suite=a passed=0 failed=0 skipped=3\n"}
{"name": "labyrinth:fast / script", "result": "OK", "stdout": "fine\n"}
J
check "CASE that no suite has" 1 env LAB_TEST_CASE=nope /usr/bin/python3 "$root/scripts/test-summary.py" "$tmp/log.json"
grep -q "no test is named 'nope'" "$tmp/out" || { echo "FAIL: no message naming the case"; fail=1; }
check "the same log without CASE" 0 env -u LAB_TEST_CASE /usr/bin/python3 "$root/scripts/test-summary.py" "$tmp/log.json"
cat >"$tmp/log2.json" <<'J'
{"name": "labyrinth:fast / a", "result": "OK", "stdout": "LAB-RESULT suite=a passed=1 failed=0 skipped=0\n"}
J
check "CASE that a suite ran" 0 env LAB_TEST_CASE=test_x /usr/bin/python3 "$root/scripts/test-summary.py" "$tmp/log2.json"
# make -n: what make test and make check would run, with TEST in the environment.
# Not the outer make's MAKEFLAGS: under `make check SUITE=cli` they carry
# SUITE=cli to the inner make as if typed on its command line.
unset MAKEFLAGS MFLAGS MAKELEVEL
check "make test with TEST in the environment" 0 env TEST=foo make -n -C "$root" test
grep -q 'if \[ -n "" \]' "$tmp/out" || { echo "FAIL: make test saw the environment's TEST"; fail=1; }
check "make test TEST=x on the command line" 0 make -n -C "$root" test TEST=x
grep -q 'if \[ -n "x" \]' "$tmp/out" || { echo "FAIL: make test ignored TEST=x"; fail=1; }
exit $fail
