#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Suite install: install the build into a scratch DESTDIR, then build the
# example program of docs/getting-started.md against that tree with
# pkg-config, as a user of an installed labyrinth would, run it and check what
# it prints. Also: the umbrella header includes every installed public header.
# Usage: test_install.sh SOURCE_ROOT BUILD_ROOT
set -euo pipefail
src=$1
build=$2
tmp=$(mktemp -d /tmp/lab-install-XXXXXX)
log=$build/meson-logs/install-log.txt

# meson install rewrites the build's install log; a real `make install`'s
# must survive this test.
[[ -f $log ]] && cp "$log" "$tmp/install-log.saved"
cleanup() {
	if [[ -f $tmp/install-log.saved ]]; then cp "$tmp/install-log.saved" "$log"; else rm -f "$log"; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "install: FAILED: $*" >&2; exit 1; }

if ! meson install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet >"$tmp/install.out" 2>&1; then
	cat "$tmp/install.out" >&2
	fail "meson install --destdir $tmp/root"
fi
# The first match with find's own -quit, not '| head -1': under pipefail a
# find still writing when head has quit dies of SIGPIPE and fails the script.
pcfile=$(find "$tmp/root" -name liblabyrinth.pc -print -quit)
[[ -n $pcfile ]] || fail "no liblabyrinth.pc in the installed tree"
lib=$(dirname "$(find "$tmp/root" -name 'liblabyrinth.so' -print -quit)")
inc=$(find "$tmp/root" -type d -path '*/include/labyrinth' -print -quit)
[[ -d $inc ]] || fail "no include/labyrinth in the installed tree"

# Every installed public header is in the umbrella header.
for h in "$inc"/*.h; do
	name=$(basename "$h")
	[[ $name == labyrinth.h ]] && continue
	grep -q "#include <labyrinth/$name>" "$inc/labyrinth.h" ||
		fail "labyrinth.h does not include <labyrinth/$name>"
done

# The example: the ```c block after the marker line in the guide.
awk '/<!-- example: app.c -->/ { m = 1; next }
     m && /^```c$/ { c = 1; next }
     c && /^```$/ { exit }
     c { print }' "$src/docs/getting-started.md" >"$tmp/app.c"
[[ -s $tmp/app.c ]] || fail "no example after '<!-- example: app.c -->' in docs/getting-started.md"

# As the guide says, with the installed tree's pkg-config file; the sysroot
# makes its prefix point into DESTDIR.
export PKG_CONFIG_PATH=$(dirname "$pcfile") PKG_CONFIG_SYSROOT_DIR=$tmp/root
flags=$(pkg-config --cflags --libs liblabyrinth) || fail "pkg-config --cflags --libs liblabyrinth"
[[ $flags == *"$tmp/root"* ]] || fail "pkg-config flags do not point into DESTDIR: $flags"
# shellcheck disable=SC2086
cc -Wall -Wextra -Werror -o "$tmp/app" "$tmp/app.c" $flags || fail "the example does not build"
LD_LIBRARY_PATH=$lib "$tmp/app" >"$tmp/out" 2>"$tmp/err" || {
	cat "$tmp/out" "$tmp/err" >&2
	fail "the example exited $?"
}
# ldd's whole output first: under pipefail, grep -q quitting at the first
# match can make ldd die of SIGPIPE and the pipeline fail.
deps=$(LD_LIBRARY_PATH=$lib ldd "$tmp/app")
[[ $deps == *"liblabyrinth.so"*" => $lib/"* ]] ||
	fail "the example did not load the installed liblabyrinth.so: $deps"
cat "$tmp/out"
grep -qx 'received 32 frames of 64 bytes' "$tmp/out" || fail "expected 'received 32 frames of 64 bytes'"
grep -qE "^pool 'app': [0-9]+ buffers, 0 in flight$" "$tmp/out" ||
	fail "expected \"pool 'app': N buffers, 0 in flight\""
# The man pages (when scdoc built them) and the bash completion, per program.
for p in labfwd labblk labctl labbench labcheck; do
	if command -v scdoc >/dev/null; then
		f=$(find "$tmp/root" -path "*/man1/$p.1" -print -quit)
		[[ -s $f ]] || fail "man page $p.1 not installed"
	fi
	f=$(find "$tmp/root" -path "*/bash-completion/completions/$p" -print -quit)
	[[ -s $f ]] || fail "bash completion for $p not installed"
done
echo "install: OK: the getting-started example builds against the installed tree and runs"
