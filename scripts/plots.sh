#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# make plots: run the benchmarks and render the charts of docs/performance.md
# and docs/observability.md with gnuplot into docs/img/ (PNG), each beside the
# data it was drawn from (docs/img/data/NAME.dat, with the command in its
# first line). Every chart puts labyrinth beside its peer from the same run.
#   pool-burst        labbench pool, bursts 1..64: ns per buffer, labyrinth
#                     vs DPDK ring_mp_mc, stack and ring_mt_rts (cache, no cache)
#   testpmd-handlers  tests/perf/mempool-bench.sh: testpmd io Mpps by handler
#   fwd-vs-testpmd    tests/perf/fwd-bench.sh: labfwd vs testpmd by driver
#   blk-vs-fio        tests/perf/blk-bench.sh: labblk vs fio IOPS
#   quality-levels    labbench quality: ns per buffer by quality level
#   storm             labfwd --storm --stats-csv: occupancy against the
#                     watermarks, the warden's grows, the reserve, RX rate
# Usage: scripts/plots.sh [BUILD] [NAME...]   (default: every chart)
# PLOTS_REDRAW=1 only redraws from the data already in docs/img/data/.
# About 3 minutes from a fresh clone (build included); two noisy cores: read ratios, not absolutes.
set -euo pipefail
build=$(realpath "${1:-build}")
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
img=$root/docs/img
data=$img/data
py=/usr/bin/python3
mkdir -p "$data"
command -v gnuplot >/dev/null || { echo "plots: gnuplot is missing (make deps installs gnuplot-nox)" >&2; exit 1; }
charts=("$@")
[[ ${#charts[@]} -eq 0 ]] && charts=(pool-burst testpmd-handlers fwd-vs-testpmd blk-vs-fio quality-levels storm)
work=$(mktemp -d /tmp/lab-plots-XXXXXX)
trap 'rm -rf "$work"' EXIT
export LAB_RUNTIME_DIR=$work/rt

# Header of a data file: what made it, when, where.
header() { echo "# $1 ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(uname -r))"; }

measure() { [[ -z ${PLOTS_REDRAW:-} ]]; }

# Clustered bars, for the charts that compare tools side by side.
hist="set style data histogram; set style histogram clustered gap 1; set style fill solid 0.8 border -1"

gp() { # NAME: gnuplot script on stdin, common settings first
	{ echo "set terminal pngcairo size 900,520 font 'DejaVu Sans,10' noenhanced"
	  echo "set output '$img/$1.png'"
	  echo "set grid ytics lc rgb '#dddddd'"
	  echo "set key top right"
	  echo "set offsets 0, 0, graph 0.15, 0"
	  cat; } | gnuplot
	echo "plots: docs/img/$1.png"
}

pool_burst() {
	local f=$data/pool-burst.dat
	if measure; then
		LAB_BENCH_BURSTS=1,2,4,8,16,32,64 "$build/apps/labbench/labbench" pool >"$work/pool.json"
		{ header "LAB_BENCH_BURSTS=1,2,4,8,16,32,64 build/apps/labbench/labbench pool: ns per buffer (alloc + free)"
		  $py - "$work/pool.json" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
impls = ["labyrinth", "dpdk_ring_mp_mc", "dpdk_stack", "dpdk_ring_mt_rts"]
# labyrinth at the default level (its rows at "off" are the other set)
v = {(r["case"].split("_b")[0], r["impl"], r["burst"]): r["ns_per_buf"] for r in rows
     if r["case"].startswith(("cache_b", "nocache_b")) and r.get("level", "sampled") == "sampled"}
print("# burst " + " ".join("cache_%s" % i for i in impls) + " " +
      " ".join("nocache_%s" % i for i in impls))
for b in sorted({k[2] for k in v}):
    print(b, " ".join(str(v.get((c, i, b), "NaN")) for c in ("cache", "nocache") for i in impls))
EOF
		} >"$f"
	fi
	gp pool-burst <<EOF
set multiplot layout 1,2 title "Pool: ns per buffer (alloc + free) by burst, one thread (labbench pool)"
set logscale xy 2
set xlabel "burst"
set ylabel "ns per buffer (log)"
set xtics (1,2,4,8,16,32,64)
set xrange [0.8:80]
set key top right
names = "labyrinth DPDK-ring_mp_mc DPDK-stack DPDK-ring_mt_rts"
set title "owner cache / mempool cache of 512"
plot for [i=2:5] '$f' using 1:i with linespoints lw 2 title word(names, i - 1)
set title "no cache (shared ring only)"
plot for [i=6:9] '$f' using 1:i with linespoints lw 2 title word(names, i - 5)
unset multiplot
EOF
}

testpmd_handlers() {
	local f=$data/testpmd-handlers.dat
	if measure; then
		"$root/tests/perf/mempool-bench.sh" "$build" 1 5 >"$work/mp.txt"
		{ header "tests/perf/mempool-bench.sh build 1 5: dpdk-testpmd io on a net_null pair, Mpps"
		  echo "# cache ring_mp_mc stack labyrinth_sampled labyrinth_off"
		  awk -F'|' '/^\| (250|0) \|/ { print $2, $3, $4, $5, $6 }' "$work/mp.txt"; } >"$f"
	fi
	gp testpmd-handlers <<EOF
set title "dpdk-testpmd io forwarding, net_null pair, 1 core: Mpps by mempool handler"
$hist
set ylabel "Mpps"
set yrange [0:*]
set xlabel "mbuf cache size (--mbcache)"
plot '$f' using 2:xtic(1) title 'ring_mp_mc', '' using 3 title 'stack', \
     '' using 4 title 'labyrinth (sampled)', '' using 5 title 'labyrinth (off)'
EOF
}

fwd_vs_testpmd() {
	local f=$data/fwd-vs-testpmd.dat
	if measure; then
		"$root/tests/perf/fwd-bench.sh" "$build" 4 1 peers >"$work/fwd.txt"
		{ header "tests/perf/fwd-bench.sh build 4 1 peers: one forwarding core, median Mpps"
		  echo "# driver labfwd testpmd"
		  $py -c 'import json,sys
for l in open(sys.argv[1]):
    if l.startswith("{"):
        r = json.loads(l); print(r["driver"], r["labfwd_mpps"], r["testpmd_mpps"])' "$work/fwd.txt"; } >"$f"
	fi
	gp fwd-vs-testpmd <<EOF
set title "labfwd against dpdk-testpmd (io forwarding, 1 core, same run): Mpps"
$hist
set ylabel "Mpps"
set yrange [0:*]
set xlabel "driver (labyrinth port vs DPDK vdev)"
plot '$f' using 2:xtic(1) title 'labfwd', '' using 3 title 'testpmd'
EOF
}

blk_vs_fio() {
	local f=$data/blk-vs-fio.dat
	if measure; then
		"$root/tests/perf/blk-bench.sh" "$build" 1 3 >"$work/blk.txt"
		{ header "tests/perf/blk-bench.sh build 1 3: io_uring O_DIRECT, one job, IOPS"
		  echo "# case fio labblk"
		  awk '/^(file|loop) / { printf "%s-%s-%s-QD%s %s %s\n", $1, $2, $3, $4, $5, $6 }' "$work/blk.txt"; } >"$f"
	fi
	gp blk-vs-fio <<EOF
set title "labblk against fio (io_uring, fixed buffers, O_DIRECT, same file): IOPS"
$hist
set logscale y
set offsets 0, 0, 0, 0
set yrange [5000:400000]
set ylabel "IOPS (log)"
set xtics rotate by -15
plot '$f' using 2:xtic(1) title 'fio', '' using 3 title 'labblk'
EOF
}

quality_levels() {
	local f=$data/quality-levels.dat
	if measure; then
		"$build/apps/labbench/labbench" quality >"$work/q.json"
		{ header "build/apps/labbench/labbench quality: owner-cache path, ns per buffer (alloc + free)"
		  $py - "$work/q.json" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
v = {(r["level"], r["case"]): r["ns_per_buf"] for r in rows}
print("# level cache_b1 cache_b32")
for lv in ("raw", "floor", "floor_own", "off", "owner", "sampled", "full"):
    print(lv, v.get((lv, "cache_b1"), "NaN"), v.get((lv, "cache_b32"), "NaN"))
EOF
		} >"$f"
	fi
	gp quality-levels <<EOF
set title "What the quality levels cost: ns per buffer on the owner-cache path (labbench quality)"
$hist
set logscale y
set offsets 0, 0, 0, 0
set yrange [0.2:1000]
set ylabel "ns per buffer (log)"
set xlabel "raw: checks compiled out; floor_own: the least exclusive ownership costs; owner: sampled, no deep sample"
plot '$f' using 2:xtic(1) title 'burst 1', '' using 3 title 'burst 32'
EOF
}

storm() {
	local f=$data/storm.csv
	local args="-p null:size=64 -p null:size=64 -d 6 -i 0 --pool-size 4096 --pool-max 16384 --storm 1.5,2.5 --csv-interval 0.05 --owners queue"
	if measure; then
		"$build/apps/labfwd/labfwd" $args --stats-csv "$work/storm.csv" >"$work/storm.out" 2>&1 ||
			{ cat "$work/storm.out" >&2; exit 1; }
		{ header "build/apps/labfwd/labfwd $args --stats-csv FILE"; cat "$work/storm.csv"; } >"$f"
	fi
	local high
	high=$(awk -F, 'NR == 3 { print $10 }' "$f")
	gp storm <<EOF
set terminal pngcairo size 900,900 font 'DejaVu Sans,10' noenhanced
set lmargin 10
set rmargin 12
set output '$img/storm.png'
set datafile separator ','
set multiplot layout 3,1 title "labfwd, two null ports flat out; exhaustion storm from 1.5 s to 4 s (--storm 1.5,2.5, shaded)"
set key top right
set xrange [0:6]
set object 1 rect from 1.5, graph 0 to 4, graph 1 fc rgb '#f3e0e0' fs solid 0.5 noborder behind
set format x ""
set ylabel "buffers"
set yrange [0:*]
set title "capacity and buffers held: the storm takes all it is given, the warden grows the pool to max"
plot '$f' using 1:2 skip 2 with lines lw 2 lc rgb '#000000' title 'total (capacity)', \
     '' using 1:5 skip 2 with lines lw 2 lc rgb '#ff7f0e' title 'in flight'
set title "free buffers against the watermarks (zoomed): ordinary callers stop at min, RX (atomic) goes below"
set yrange [0:3 * $high]
plot '$f' using 1:3 skip 2 with lines lw 2 lc rgb '#1f77b4' title 'free', \
     '' using 1:7 skip 2 with lines lw 2 lc rgb '#d62728' title 'reserve in use', \
     '' using 1:8 skip 2 with lines dt 2 lw 2 lc rgb '#d62728' title 'min', \
     '' using 1:9 skip 2 with lines dt 2 lw 2 lc rgb '#9467bd' title 'low', \
     '' using 1:10 skip 2 with lines dt 2 lw 2 lc rgb '#2ca02c' title 'high'
set format x
set xlabel "seconds"
set ylabel "Mpps"
set yrange [0:*]
set y2label "events per 50 ms (log)"
set y2tics
set ytics nomirror
set logscale y2
set title "RX goes on through the storm on the reserve; the warden's kicks and grows"
plot '$f' using 1:18 skip 2 with lines lw 2 lc rgb '#1f77b4' title 'RX Mpps', \
     '' using 1:(\$12 > 0 ? \$12 : 1/0) skip 2 axes x1y2 with lines lc rgb '#d62728' title 'reserve uses', \
     '' using 1:(\$13 > 0 ? \$13 : 1/0) skip 2 axes x1y2 with points pt 7 ps 0.7 lc rgb '#9467bd' title 'kicks', \
     '' using 1:(\$14 > 0 ? \$14 : 1/0) skip 2 axes x1y2 with points pt 5 ps 1.2 lc rgb '#000000' title 'grows'
unset multiplot
EOF
}

for c in "${charts[@]}"; do
	case $c in
	pool-burst) pool_burst ;;
	testpmd-handlers) testpmd_handlers ;;
	fwd-vs-testpmd) fwd_vs_testpmd ;;
	blk-vs-fio) blk_vs_fio ;;
	quality-levels) quality_levels ;;
	storm) storm ;;
	*) echo "plots: no chart '$c' (pool-burst testpmd-handlers fwd-vs-testpmd blk-vs-fio quality-levels storm)" >&2; exit 1 ;;
	esac
done
