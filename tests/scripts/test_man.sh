#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Every option each program's --help lists is in its man page
# (docs/man/APP.1.scd), and the page was built (BUILD/docs/man/APP.1).
# labctl's commands and labbench's benchmarks are checked the same way.
# Usage: test_man.sh BUILD SRC
set -uo pipefail
build=$1 src=$2
fail=0

# The options a help text names: -x and --long-name, at the start of a word.
options() {
	grep -oE '(^|[][ ,(|])--?[a-zA-Z][a-zA-Z0-9_-]*' | sed -E 's/^[][ ,(|]//' | sort -u
}

check() { # app word...
	local app=$1 page=$src/docs/man/$1.1.scd w
	shift
	for w in "$@"; do
		if ! grep -qE -- "(^|[^-a-zA-Z0-9_])${w}([^a-zA-Z0-9_-]|\$)" "$page"; then
			echo "FAIL: $app --help lists '$w'; $page does not" >&2
			fail=1
		fi
	done
}

for app in labfwd labblk labctl labbench labcheck; do
	bin=$build/apps/$app/$app
	if [[ ! -x $bin ]]; then
		echo "skip $app: not built" >&2
		continue
	fi
	page=$src/docs/man/$app.1.scd
	if [[ ! -f $page ]]; then
		echo "FAIL: $app has no man page ($page)" >&2
		fail=1
		continue
	fi
	if [[ ! -s $build/docs/man/$app.1 ]]; then
		echo "FAIL: $build/docs/man/$app.1 was not built from $page" >&2
		fail=1
	fi
	help=$("$bin" --help) || { echo "FAIL: $app --help exited $?" >&2; fail=1; }
	mapfile -t opts < <(options <<<"$help")
	check "$app" "${opts[@]}"
	echo "$app: ${#opts[@]} options of --help in its man page"
done

# The words that are not options: labctl's commands, labbench's benchmarks.
check labctl list info pools pool ports set watch metrics raw
check labbench pool ring quality port

# The built pages render without warnings.
if command -v groff >/dev/null; then
	for p in "$build"/docs/man/*.1; do
		w=$(groff -man -ww -z "$p" 2>&1)
		[[ -z $w ]] || { echo "FAIL: $p: $w" >&2; fail=1; }
	done
fi
exit $fail
