#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# lib/pool's layers (docs/architecture.md, "lib/pool's layers"): each file
# calls only files below it. Read from the archive's symbols: for every
# lib/pool object, every symbol it uses that another lib/pool object defines
# must come from a lower layer. The pool's registration with the warden is the
# one call upward, and is named here.
#   test_pool_layers.sh LIBLABYRINTH.a
set -uo pipefail
lib=${1:?usage: test_pool_layers.sh liblabyrinth.a}

# Bottom first: the order the architecture document draws.
layers=(stats_fields quality_names pool_fast pool_cells quality quality_findings quality_quarantine quality_free
	pool_nocache pool pool_owner pool_external warden)
# The pool object registers with the warden, which then calls down into it.
allowed_up="warden_attach warden_detach lab_warden_stats"

declare -A rank def
for i in "${!layers[@]}"; do rank[${layers[$i]}]=$i; done

members=$(ar t "$lib" | grep '^lib_pool_.*\.c\.o$') || {
	echo "layers: no lib/pool objects in $lib"; exit 1; }
for m in $members; do
	f=${m#lib_pool_}; f=${f%.c.o}
	if [[ -z ${rank[$f]+x} ]]; then
		echo "layers: lib/pool/$f.c is in no layer: add it to tests/scripts/test_pool_layers.sh and to docs/architecture.md"
		exit 1
	fi
done
# "ARCHIVE:MEMBER:VALUE TYPE NAME", or "ARCHIVE:MEMBER: U NAME" for a use.
syms() {
	nm -A "$@" "$lib" 2>/dev/null |
		awk '{ split($1, a, ":"); m = a[2]; if (m !~ /^lib_pool_.*\.c\.o$/) next;
		       sub(/^lib_pool_/, "", m); sub(/\.c\.o$/, "", m); print $NF, m }'
}
while read -r sym file; do def[$sym]=$file; done < <(syms --defined-only -g)

bad=0 checked=0
while read -r sym f; do
	g=${def[$sym]:-}
	# Not lib/pool's, its own, or a log type (data, not a call).
	[[ -z $g || $g == "$f" || $sym == lab_logtype_* ]] && continue
	checked=$((checked + 1))
	((rank[$g] < rank[$f])) && continue
	[[ " $allowed_up " == *" $sym "* ]] && continue
	echo "layers: lib/pool/$f.c calls $sym of lib/pool/$g.c, a layer above it"
	bad=1
done < <(syms -u)
echo "layers: ${#layers[@]} files, $checked calls between them checked"
exit $bad
