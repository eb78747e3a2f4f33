#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# pcap replay pacing: labfwd's pcap port at the capture's timing against
# tcpreplay, in one run, on the same capture and the same wire. The capture
# has FRAMES frames whose gaps are spread evenly on a log scale from 1 us to
# 10 ms (a fixed seed). Each tool sends it out of one end of a veth pair
# inside a network namespace this script makes (and deletes); tcpdump on the
# other end writes what arrives with nanosecond kernel timestamps. The
# figure per gap is |output gap - capture gap|; the table gives its median,
# p90, p99 and max over all gaps and the median by gap decade, for each tool.
# Both see the same receive-side noise (the kernel's timestamps, the veth).
#
# usage: tests/perf/pacing-bench.sh [BUILD_DIR] [FRAMES] [CORE]   (as root)
set -euo pipefail

BUILD=${1:-build}
FRAMES=${2:-4000}
CORE=${3:-1}
LABFWD=$(realpath "$BUILD/apps/labfwd/labfwd")
PY=/usr/bin/python3
NS=labpace$$
[[ -x $LABFWD ]] || { echo "pacing-bench: build first ($LABFWD)" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "pacing-bench: needs root (a network namespace)" >&2; exit 1; }
for t in tcpreplay tcpdump ip; do
	command -v $t >/dev/null ||
		{ echo "pacing-bench: $t not found (scripts/install-deps.sh)" >&2; exit 1; }
done
OUT=$(mktemp -d /tmp/pacing-bench-XXXXXX)
cleanup() {
	[[ -n ${DUMP:-} ]] && kill "$DUMP" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$OUT"
}
trap cleanup EXIT

ip netns add "$NS"
# No IPv6 chatter on the pair: labfwd counts what port 1 receives (-n).
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$NS" link add pa type veth peer name pb
ip -n "$NS" link set pa up
ip -n "$NS" link set pb up
ip -n "$NS" link set lo up

# The capture: ns timestamps, 64..128-byte frames from 02:00:00:00:00:01.
$PY - "$OUT/in.pcap" "$FRAMES" <<'EOF'
import random, struct, sys
path, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(29)
t = 1_700_000_000 * 10**9
with open(path, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))
    for i in range(n):
        if i:
            t += int(10 ** rnd.uniform(3, 7))  # 1 us .. 10 ms, log-uniform
        size = rnd.randrange(64, 129)
        frame = (b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x88\xb5" +
                 struct.pack(">I", i) + bytes(size - 18))
        f.write(struct.pack("<IIII", t // 10**9, t % 10**9, size, size) + frame)
EOF

# capture NAME CMD...: tcpdump on pb while CMD sends on pa.
capture() {
	local name=$1; shift
	ip netns exec "$NS" tcpdump -i pb -Q in -n -s 256 --time-stamp-precision=nano \
		-B 65536 -w "$OUT/$name.pcap" 'ether proto 0x88b5' 2>"$OUT/$name.dump" &
	DUMP=$!
	for _ in $(seq 600); do
		grep -q 'listening on' "$OUT/$name.dump" && break
		sleep 0.1
	done
	grep -q 'listening on' "$OUT/$name.dump" ||
		{ cat "$OUT/$name.dump" >&2; echo "pacing-bench: tcpdump did not start" >&2; exit 1; }
	ip netns exec "$NS" "$@" >"$OUT/$name.log" 2>&1 ||
		{ cat "$OUT/$name.log" >&2; echo "pacing-bench: $name failed" >&2; exit 1; }
	# Wait until no frame has come for 3 s (the sender is done), then stop tcpdump.
	local last=-1 same=0 n
	while ((same < 30)); do
		n=$(ip netns exec "$NS" cat /sys/class/net/pb/statistics/rx_packets)
		((n == last)) && same=$((same + 1)) || same=0
		last=$n
		sleep 0.1
	done
	kill -INT "$DUMP"
	wait "$DUMP" || true
	DUMP=
}

capture tcpreplay taskset -c "$CORE" tcpreplay -i pa "$OUT/in.pcap"
# labfwd needs a destination for every port (pa's own RX, which stays
# empty, goes back out of pa); -n ends it once the replay is all received.
capture labfwd "$LABFWD" -p "pcap:rx=$OUT/in.pcap" -p af_packet:iface=pa -m 0:1,1:1 \
	-n "$FRAMES" -c "$CORE" -i 0 --ctl off

$PY - "$OUT/in.pcap" "$OUT/tcpreplay.pcap" "$OUT/labfwd.pcap" <<'EOF'
import struct, sys

def stamps(path):
    """Capture time (ns) of each frame by its sequence number."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<I", data)[0]
    scale = 1 if magic == 0xA1B23C4D else 1000
    out, off = {}, 24
    while off + 16 <= len(data):
        s, sub, cap, _ = struct.unpack_from("<IIII", data, off)
        frame = data[off + 16: off + 16 + cap]
        if len(frame) >= 18 and frame[12:14] == b"\x88\xb5":
            out[struct.unpack_from(">I", frame, 14)[0]] = s * 10**9 + sub * scale
        off += 16 + cap
    return out

def pct(v, p):
    return v[min(len(v) - 1, int(p / 100 * len(v)))]

src = stamps(sys.argv[1])
n = len(src)
print(f"{n} frames, gaps 1 us .. 10 ms (log-uniform)")
print("| tool | frames seen | median err | p90 | p99 | max | 1-10 us | 10-100 us | 0.1-1 ms | 1-10 ms |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for name, path in (("tcpreplay", sys.argv[2]), ("labfwd", sys.argv[3])):
    got = stamps(path)
    errs, by = [], {0: [], 1: [], 2: [], 3: []}
    for i in range(1, n):
        if i in got and i - 1 in got:
            g_in = src[i] - src[i - 1]
            e = abs((got[i] - got[i - 1]) - g_in)
            errs.append(e)
            d = 0 if g_in < 10_000 else 1 if g_in < 100_000 else 2 if g_in < 1_000_000 else 3
            by[d].append(e)
    errs.sort()
    for v in by.values():
        v.sort()
    us = lambda x: f"{x / 1000:.1f} us"
    cells = [us(pct(errs, 50)), us(pct(errs, 90)), us(pct(errs, 99)), us(errs[-1])] if errs else ["-"] * 4
    cells += [us(pct(v, 50)) if v else "-" for v in by.values()]
    print(f"| {name} | {len(got)} of {n} | " + " | ".join(cells) + " |")
EOF
