#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# labblk against Debian's fio in the same run: fio with ioengine=io_uring,
# fixedbufs, registerfiles, direct=1; labblk on the uring driver (O_DIRECT,
# the pool registered as fixed buffers, the file registered). Same file, block
# size, depth and run time; one job each.
#  - 4 KiB random read at QD32 and 128 KiB sequential read at QD32,
#  - on a 1 GiB file (written in full first, so reads reach the disk) and on a
#    loop device over it (losetup --direct-io=on; root only).
# Every case runs ROUNDS times, the two tools alternating which goes first;
# the median IOPS of each is reported with the ratio labblk / fio.
# Usage: tests/perf/blk-bench.sh [BUILD] [ROUNDS] [SECONDS]
set -euo pipefail
build=$(realpath "${1:-build}")
rounds=${2:-3}
secs=${3:-5}
labblk=$build/apps/labblk/labblk
py=/usr/bin/python3
dir=$(mktemp -d /var/tmp/lab-blkbench-XXXXXX)
loop=""
cleanup() {
	[[ -n "$loop" ]] && losetup -d "$loop"
	rm -rf "$dir"
}
trap cleanup EXIT
command -v fio >/dev/null || { echo "blk-bench: fio is missing (make deps installs it)" >&2; exit 1; }

img=$dir/bench.img
dd if=/dev/zero of="$img" bs=1M count=1024 oflag=direct status=none
targets=("file $img")
if [[ $(id -u) -eq 0 ]] && loop=$(losetup --find --show --direct-io=on "$img" 2>/dev/null); then
	targets+=("loop $loop")
else
	echo "blk-bench: no loop device (needs root and losetup): file only" >&2
fi

fio_iops() { # path rw bs qd
	fio --name=bench --filename="$1" --ioengine=io_uring --fixedbufs --registerfiles \
		--direct=1 --rw="$2" --bs="$3" --iodepth="$4" --numjobs=1 --runtime="$secs" \
		--time_based --output-format=json 2>/dev/null |
		$py -c 'import json,sys; print("%.0f" % json.load(sys.stdin)["jobs"][0]["read"]["iops"])'
}

lab_iops() { # path rw bs qd
	"$labblk" --dev "uring:path=$1,qd=$4" --rw "$2" --bs "$3" --iodepth "$4" \
		--runtime "$secs" --json 2>/dev/null |
		$py -c 'import json,sys; print("%.0f" % json.load(sys.stdin)["iops"])'
}

median() { sort -g | awk '{ v[n++] = $1 } END { print v[int((n - 1) / 2)] }'; }

printf "%-5s %-9s %7s %3s %12s %12s %7s\n" target rw bs qd "fio IOPS" "labblk IOPS" ratio
for t in "${targets[@]}"; do
	read -r kind path <<<"$t"
	for c in "randread 4096 32" "read 131072 32"; do
		read -r rw bs qd <<<"$c"
		f=(); l=()
		for ((r = 0; r < rounds; r++)); do
			if ((r % 2 == 0)); then
				f+=("$(fio_iops "$path" "$rw" "$bs" "$qd")")
				l+=("$(lab_iops "$path" "$rw" "$bs" "$qd")")
			else
				l+=("$(lab_iops "$path" "$rw" "$bs" "$qd")")
				f+=("$(fio_iops "$path" "$rw" "$bs" "$qd")")
			fi
		done
		fm=$(printf "%s\n" "${f[@]}" | median)
		lm=$(printf "%s\n" "${l[@]}" | median)
		printf "%-5s %-9s %7s %3s %12s %12s %6.2fx   (fio %s; labblk %s)\n" "$kind" "$rw" \
			"$bs" "$qd" "$fm" "$lm" "$(echo "$lm $fm" | awk '{ print $1 / $2 }')" \
			"${f[*]}" "${l[*]}"
	done
done
