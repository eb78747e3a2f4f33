#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Run every libFuzzer target for SECS seconds each (default 60), from its seed
# corpus (tests/fuzz/corpus/NAME, left untouched: new inputs go to
# build-fuzz/corpus/NAME). Build: build-fuzz, clang, ASan + UBSan, fault
# points off. A crash leaves its input in build-fuzz/artifacts/NAME/: minimize
# it, fix the bug, and add the input to tests/fuzz/regress/NAME/ (replayed by
# suite fuzz-replay in every build). Exit status is non-zero on any crash.
# (-Wno-cast-align: clang warns on casts from byte pointers to aligned
# structs on every target; gcc, which builds the rest, only where it matters.)
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(devargs config pcap_rx blk_req ctl vhost_msg vhost_vq)
dir=build-fuzz
if [[ ! -f $dir/build.ninja ]]; then
	CC=clang meson setup "$dir" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-Wno-cast-align -Dfuzzing=true -Ddpdk=disabled -Dtests=disabled \
		>"$dir.setup.log" 2>&1 ||
		{ cat "$dir.setup.log"; exit 1; }
	rm -f "$dir.setup.log"
fi
ninja -C "$dir" >/dev/null || { ninja -C "$dir"; exit 1; }
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
rc=0
for t in "${targets[@]}"; do
	bin=$dir/tests/fuzz/fuzz_$t
	if [[ ! -x $bin ]]; then
		echo "fuzz: $t: not built (its dependency is missing: see meson's summary)" >&2
		rc=1
		continue
	fi
	mkdir -p "$dir/corpus/$t" "$dir/artifacts/$t"
	log=$dir/fuzz-$t.log
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$dir/artifacts/$t/" "$dir/corpus/$t" "tests/fuzz/corpus/$t" \
		>"$log" 2>&1
	st=$?
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	if [[ $st -eq 0 ]]; then
		echo "fuzz: $t: OK, ${runs:-?} runs in ${secs}s, $cov, corpus $(ls "$dir/corpus/$t" | wc -l) file(s)"
	else
		echo "fuzz: $t: FAILED (exit $st); the input is in $dir/artifacts/$t/:" >&2
		grep -E 'ERROR|broken promise|SUMMARY|#[0-9]+ ' "$log" | head -30 >&2
		rc=1
	fi
done
exit $rc
