#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Print each suite's CUnit run summary from meson's testlog.json, then one
line "N passed, N failed[, N skipped]" counting test cases. Exit 1 on any
failure. A suite without a LAB-RESULT line (a script, a crash) counts as one
test by meson's verdict; a suite meson failed but that reported no failed case
(it crashed after its tests, or leaked) counts one failure more."""
import json
import os
import re
import sys

RESULT = re.compile(r"LAB-RESULT suite=(\S+) passed=(\d+) failed=(\d+) skipped=(\d+)")


def summary_block(out):
    keep, lines = False, []
    for line in out.splitlines():
        if line.startswith("Run Summary:") or "SKIPPED" in line:
            keep = True
        if keep:
            lines.append(line)
        if line.startswith("Elapsed time") or "SKIPPED" in line:
            keep = False
    return lines


def main(path):
    passed = failed = skipped = cases_run = 0
    with open(path) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    for t in runs:
        out = (t.get("stdout") or "") + (t.get("stderr") or "")
        verdict = t.get("result", "ERROR")
        print(f"== {t['name']}: {verdict}")
        for line in summary_block(out):
            print("   " + line)
        m = RESULT.search(out)
        if m:
            p, fl, s = (int(m.group(i)) for i in (2, 3, 4))
            if verdict not in ("OK", "SKIP", "EXPECTEDFAIL") and fl == 0:
                fl = 1
                print("   (the suite's process failed after its tests: counted as a failure)")
            passed, failed, skipped = passed + p, failed + fl, skipped + s
            cases_run += p + fl
        elif verdict == "OK":
            passed += 1
        elif verdict == "SKIP":
            skipped += 1
        else:
            failed += 1
    if not runs:
        failed += 1
        print("no test ran")
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    # make check CASE=NAME: a name no suite has ran nothing, which is a typo,
    # not a pass.
    case = os.environ.get("LAB_TEST_CASE", "")
    if case and cases_run == 0:
        print(f"no test is named '{case}' (CASE=): nothing ran")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/meson-logs/testlog.json"))
