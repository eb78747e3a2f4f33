#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Reserve 2 MiB hugepages and make sure a hugetlbfs is mounted, then print one
# line saying what was done. Idempotent; never lowers an existing reservation;
# leaves 1 GiB pages alone unless LAB_HUGEPAGES_1G is set. Never fails: where
# no hugepages can be had, labyrinth runs in its 4 KiB fallback.
#
#   LAB_HUGEPAGES     2 MiB pages wanted (default 256 = 512 MiB)
#   LAB_HUGEPAGES_1G  1 GiB pages wanted (default: leave the 1 GiB pool alone)
#   LAB_HUGETLBFS     mount point (default /dev/hugepages)
set -u

want=${LAB_HUGEPAGES:-256}
want_1g=${LAB_HUGEPAGES_1G:-}
mnt=${LAB_HUGETLBFS:-/dev/hugepages}
sys=/sys/kernel/mm/hugepages

read_n() { cat "$1" 2>/dev/null || echo 0; }

# Raise pool $1 (sysfs dir) to $2 pages if below; echo "before after free".
raise() {
	local dir=$sys/$1 n=$2 before after
	before=$(read_n "$dir/nr_hugepages")
	if [[ -d $dir && $before -lt $n ]]; then
		if ! echo "$n" > "$dir/nr_hugepages" 2>/dev/null && command -v hugeadm >/dev/null; then
			hugeadm --pool-pages-min "${1#hugepages-}:$n" >/dev/null 2>&1
		fi
	fi
	after=$(read_n "$dir/nr_hugepages")
	echo "$before $after $(read_n "$dir/free_hugepages")"
}

if [[ ! -d $sys/hugepages-2048kB ]]; then
	echo "hugepages: this kernel has no 2 MiB hugepages; labyrinth will use its 4 KiB fallback"
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	n=$(read_n $sys/hugepages-2048kB/nr_hugepages)
	echo "hugepages: not root, left as is ($n x 2 MiB reserved); labyrinth falls back to 4 KiB pages without them"
	exit 0
fi

read -r before after free <<<"$(raise hugepages-2048kB "$want")"
msg="2 MiB pool"
if [[ $before -ge $want ]]; then
	msg+=" kept at $before (wanted $want)"
elif [[ $after -gt $before ]]; then
	msg+=" raised from $before to $after"
	[[ $after -lt $want ]] && msg+=" of $want asked (memory is short)"
else
	msg+=" could not be raised from $before"
fi
msg+=", $free free"

if [[ -n $want_1g && -d $sys/hugepages-1048576kB ]]; then
	read -r b1 a1 f1 <<<"$(raise hugepages-1048576kB "$want_1g")"
	msg+="; 1 GiB pool $b1 -> $a1 ($f1 free)"
fi

if grep -qs " hugetlbfs " /proc/mounts; then
	msg+="; hugetlbfs already mounted at $(awk '$3 == "hugetlbfs" {print $2; exit}' /proc/mounts)"
elif mkdir -p "$mnt" 2>/dev/null && mount -t hugetlbfs -o pagesize=2M,mode=1770 nodev "$mnt" 2>/dev/null; then
	msg+="; hugetlbfs mounted at $mnt"
else
	msg+="; no hugetlbfs mount (memfd hugepages will be used)"
fi
[[ $after -eq 0 ]] && msg+="; no hugepages: labyrinth will use its 4 KiB fallback"
echo "hugepages: $msg"
