#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Run every meson test suite, then print the CUnit summaries and the final
# "N passed, N failed" line. Extra arguments go to `meson test` (for example
# --suite fast). Exit status is non-zero on any failure.
set -uo pipefail
build=${1:-build}
shift || true
rm -f "$build/meson-logs/testlog.json"
meson test -C "$build" --print-errorlogs "$@"
rc=$?
echo
/usr/bin/python3 "$(dirname "$0")/test-summary.py" "$build/meson-logs/testlog.json"
src=$?
[[ $rc -ne 0 || $src -ne 0 ]] && exit 1
exit 0
