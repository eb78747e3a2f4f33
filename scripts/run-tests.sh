#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Run meson test suites, then print the CUnit summaries and the final
# "N passed, N failed" line. Extra arguments go to `meson test` (for example
# --suite fast, or --setup asan). Exit status is non-zero on any failure.
set -uo pipefail
build=${1:-build}
shift || true
log=testlog.json
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
	case ${args[i]} in
	--setup) log="testlog-${args[i + 1]}.json" ;;
	--setup=*) log="testlog-${args[i]#--setup=}.json" ;;
	esac
done
rm -f "$build/meson-logs/$log"
meson test -C "$build" --print-errorlogs "$@"
rc=$?
echo
if [[ ! -e $build/meson-logs/$log ]]; then
	# meson ran nothing (a SUITE or TEST that names none): say so, no traceback
	echo "run-tests: no test ran for: ${*:-everything} (the suites are listed in" \
	     "tests/meson.build; 'meson test -C $build --list' lists the tests)" >&2
	exit 1
fi
/usr/bin/python3 "$(dirname "$0")/test-summary.py" "$build/meson-logs/$log"
src=$?
[[ $rc -ne 0 || $src -ne 0 ]] && exit 1
exit 0
