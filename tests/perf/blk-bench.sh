#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# labblk against Debian's fio in the same run: fio with ioengine=io_uring,
# fixedbufs, registerfiles, direct=1; labblk on the uring driver (O_DIRECT,
# the pool registered as fixed buffers, the file registered); and labblk on
# the virtio_blk driver, through qemu-storage-daemon exporting the same file
# over vhost-user-blk (cache.direct=on, aio=io_uring: the daemon is on fio's
# I/O path). Same file, block size, depth and run time; one job each.
#  - 4 KiB random read at QD32 and 128 KiB sequential read at QD32,
#  - on a 1 GiB file (written in full first, so reads reach the disk) and on a
#    loop device over it (losetup --direct-io=on; root only; fio and uring).
# Every case runs ROUNDS times, the tools taking turns at going first; the
# median IOPS, MB/s (10^6 bytes) and p99 latency of each are reported, with
# the ratio of IOPS to fio's. virtio_blk rows are left out, with the reason,
# where qemu-storage-daemon is missing.
# Usage: tests/perf/blk-bench.sh [BUILD] [ROUNDS] [SECONDS]
set -euo pipefail
build=$(realpath "${1:-build}")
rounds=${2:-3}
secs=${3:-5}
labblk=$build/apps/labblk/labblk
py=/usr/bin/python3
dir=$(mktemp -d /var/tmp/lab-blkbench-XXXXXX)
loop=""
qsd=""
cleanup() {
	# Every step, whatever the one before returned (a killed daemon's wait
	# status must not stop the loop device from being detached).
	set +e
	if [[ -n "$qsd" ]]; then
		kill "$qsd" 2>/dev/null
		wait "$qsd" 2>/dev/null
	fi
	[[ -n "$loop" ]] && losetup -d "$loop"
	rm -rf "$dir"
}
trap cleanup EXIT
command -v fio >/dev/null || { echo "blk-bench: fio is missing (make deps installs it)" >&2; exit 1; }

img=$dir/bench.img
sock=$dir/vblk.sock
dd if=/dev/zero of="$img" bs=1M count=1024 oflag=direct status=none
targets=("file $img")
if [[ $(id -u) -eq 0 ]] && loop=$(losetup --find --show --direct-io=on "$img" 2>/dev/null); then
	targets+=("loop $loop")
else
	echo "blk-bench: no loop device (needs root and losetup): file only" >&2
fi
if command -v qemu-storage-daemon >/dev/null; then
	# The recipe of docs/block.md, on the same file.
	qemu-storage-daemon --blockdev "driver=file,node-name=d0,filename=$img,cache.direct=on,aio=io_uring" \
		--export "type=vhost-user-blk,id=e0,node-name=d0,addr.type=unix,addr.path=$sock,writable=on,num-queues=1" \
		>"$dir/qsd.log" 2>&1 &
	qsd=$!
	for ((i = 0; i < 600; i++)); do [[ -S $sock ]] && break; sleep 0.1; done
	[[ -S $sock ]] || { cat "$dir/qsd.log" >&2; echo "blk-bench: qemu-storage-daemon did not start" >&2; exit 1; }
else
	echo "blk-bench: qemu-storage-daemon is missing (make deps): no virtio_blk rows" >&2
fi

# Each prints "IOPS MB/s p99_us".
fio_run() { # path rw bs qd
	fio --name=bench --filename="$1" --ioengine=io_uring --fixedbufs --registerfiles \
		--direct=1 --rw="$2" --bs="$3" --iodepth="$4" --numjobs=1 --runtime="$secs" \
		--time_based --output-format=json 2>/dev/null |
		$py -c 'import json,sys; r = json.load(sys.stdin)["jobs"][0]["read"]
print("%.0f %.1f %.1f" % (r["iops"], r["bw_bytes"] / 1e6, r["clat_ns"]["percentile"]["99.000000"] / 1e3))'
}

lab_run() { # devstr rw bs qd
	"$labblk" --dev "$1" --rw "$2" --bs "$3" --iodepth "$4" --runtime "$secs" --json 2>/dev/null |
		$py -c 'import json,sys; d = json.load(sys.stdin)
print("%.0f %.1f %.1f" % (d["iops"], d["mbps"], d["p99_us"]))'
}

run() { # tool path rw bs qd
	case $1 in
	fio) fio_run "$2" "$3" "$4" "$5" ;;
	uring) lab_run "uring:path=$2,qd=$5" "$3" "$4" "$5" ;;
	virtio_blk) lab_run "virtio_blk:path=$sock,qd=$5" "$3" "$4" "$5" ;;
	esac
}

median() { sort -g | awk '{ v[n++] = $1 } END { print v[int((n - 1) / 2)] }'; }

printf "%-5s %-9s %7s %3s %-18s %9s %9s %10s %7s\n" target rw bs qd tool IOPS "MB/s" "p99 us" "vs fio"
for t in "${targets[@]}"; do
	read -r kind path <<<"$t"
	tools=(fio uring)
	[[ $kind == file && -n "$qsd" ]] && tools+=(virtio_blk)
	for c in "randread 4096 32" "read 131072 32"; do
		read -r rw bs qd <<<"$c"
		declare -A res=()
		for ((r = 0; r < rounds; r++)); do
			for ((k = 0; k < ${#tools[@]}; k++)); do
				tool=${tools[$(((k + r) % ${#tools[@]}))]}
				res[$tool]+="$(run "$tool" "$path" "$rw" "$bs" "$qd")"$'\n'
			done
		done
		fio_iops=$(printf "%s" "${res[fio]}" | awk '{ print $1 }' | median)
		for tool in "${tools[@]}"; do
			iops=$(printf "%s" "${res[$tool]}" | awk '{ print $1 }' | median)
			mbps=$(printf "%s" "${res[$tool]}" | awk '{ print $2 }' | median)
			p99=$(printf "%s" "${res[$tool]}" | awk '{ print $3 }' | median)
			name=$tool
			[[ $tool != fio ]] && name="labblk $tool"
			printf "%-5s %-9s %7s %3s %-18s %9s %9s %10s %6.2fx   (IOPS %s)\n" "$kind" "$rw" \
				"$bs" "$qd" "$name" "$iops" "$mbps" "$p99" \
				"$(echo "$iops $fio_iops" | awk '{ print $1 / $2 }')" \
				"$(printf "%s" "${res[$tool]}" | awk '{ print $1 }' | tr '\n' ' ' | sed 's/ $//')"
		done
		unset res
	done
done
