#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# labfwd on real traffic, with nothing but this machine: three network
# namespaces, a sender and a receiver each joined by a veth pair to a middle
# one where labfwd forwards between the two pairs on af_xdp (falling back to
# af_packet, saying so). tcpreplay sends the bundled sample from the sender,
# tcpdump captures in the receiver; the capture must hold every frame sent,
# byte for byte, in order. Everything made is removed at exit.
#
# usage: scripts/netns-demo.sh [BUILD_DIR] [PASSES]   (root; exit 77 = skipped)
#        DRIVER=af_packet scripts/netns-demo.sh       (skip the af_xdp attempt)
#        KEEP=1 scripts/netns-demo.sh   (copy the work files to /tmp/netns-demo-kept)
# Also the test 'netns_demo' (suite netns) of `make test`.
set -euo pipefail

BUILD=${1:-build}
PASSES=${2:-5}
# The replay's rate: what a worker's fill ring holds is 2 s of it, so a busy
# machine delays frames rather than drops them.
PPS=4000
LABFWD=$BUILD/apps/labfwd/labfwd
SAMPLE=$BUILD/apps/labfwd/sample.pcap

say() { echo "netns-demo: $*"; }
if [[ $(id -u) -ne 0 ]]; then
	say "SKIP: needs root to create network namespaces"
	exit 77
fi
for t in ip tcpreplay tcpdump /usr/bin/python3; do
	command -v "$t" >/dev/null || { say "FAIL: '$t' is missing (run make deps)"; exit 1; }
done
[[ -x $LABFWD && -r $SAMPLE ]] || { say "FAIL: build first ($LABFWD, $SAMPLE)"; exit 1; }

id=$$
NS_S=labS_$id NS_M=labM_$id NS_R=labR_$id
IF_S=lds$id IF_MS=ldms$id IF_MR=ldmr$id IF_R=ldr$id
WORK=$(mktemp -d /tmp/labfwd-netns-XXXXXX)
FWD_PID="" DUMP_PID=""

cleanup() {
	[[ -n $FWD_PID ]] && kill "$FWD_PID" 2>/dev/null || true
	[[ -n $DUMP_PID ]] && kill "$DUMP_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	for ns in $NS_S $NS_M $NS_R; do ip netns del "$ns" 2>/dev/null || true; done
	[[ -n ${KEEP:-} ]] && cp -r "$WORK" /tmp/netns-demo-kept
	rm -rf "$WORK"
}
trap cleanup EXIT

for ns in $NS_S $NS_M $NS_R; do
	ip netns add "$ns"
	# No IPv6: the namespaces stay silent, so only our frames cross.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
done
ip link add "$IF_S" netns "$NS_S" type veth peer name "$IF_MS" netns "$NS_M"
ip link add "$IF_R" netns "$NS_R" type veth peer name "$IF_MR" netns "$NS_M"
ip -n "$NS_S" link set "$IF_S" up
ip -n "$NS_R" link set "$IF_R" up
ip -n "$NS_M" link set "$IF_MS" up
ip -n "$NS_M" link set "$IF_MR" up
say "namespaces $NS_S -- $NS_M -- $NS_R, veth $IF_S/$IF_MS and $IF_MR/$IF_R"

# labfwd in the middle: af_xdp first; if it cannot open, af_packet.
start_fwd() {
	local extra=()
	# af_xdp: 8192 buffers posted per fill ring (2 s of traffic at the
	# replay's $PPS packets/s) so that a worker kept off its core by a busy
	# machine does not make the kernel drop (4096 at 20 kpps, 200 ms, was
	# not enough: a loaded machine's labfwd lost 7352 of 15000 frames to an
	# empty fill ring); the fixed pool holds both fill rings, the TX ring
	# and bursts with room.
	[[ $1 == af_xdp ]] && extra=(--rx-ring 8192 --set pool.size=32768)
	ip netns exec "$NS_M" "$LABFWD" -p "$1:iface=$IF_MS" -p "$1:iface=$IF_MR" -i 0 \
		"${extra[@]}" >"$WORK/fwd.out" 2>&1 &
	FWD_PID=$!
	# Ready when its ports are open: labfwd names its control socket right
	# after (frames the kernel queues from then on wait in the port's ring),
	# and for af_xdp the program is on the interface. 30 s at most.
	for _ in $(seq 300); do
		sleep 0.1
		kill -0 "$FWD_PID" 2>/dev/null || return 1
		grep -q "control socket" "$WORK/fwd.out" || continue
		[[ $1 != af_xdp || $(ip -n "$NS_M" link show "$IF_MS") == *xdp* ]] && return 0
	done
	return 0
}
DRIVER=${DRIVER:-af_xdp}
if [[ $DRIVER == af_packet ]]; then
	start_fwd af_packet || { cat "$WORK/fwd.out"; say "FAIL: labfwd did not start"; exit 1; }
elif ! start_fwd af_xdp; then
	say "af_xdp did not open here ($(grep -m1 -i 'err' "$WORK/fwd.out" || true)); falling back to af_packet"
	DRIVER=af_packet
	start_fwd af_packet || { cat "$WORK/fwd.out"; say "FAIL: labfwd did not start"; exit 1; }
fi
say "labfwd forwarding $IF_MS <-> $IF_MR on $DRIVER (pid $FWD_PID)"

ip netns exec "$NS_R" tcpdump -i "$IF_R" -Q in -w "$WORK/got.pcap" -U -s 0 -B 65536 \
	>"$WORK/dump.out" 2>&1 &
DUMP_PID=$!
# Until tcpdump listens (30 s at most): frames sent before are not captured.
for _ in $(seq 300); do grep -q listening "$WORK/dump.out" && break; sleep 0.1; done

ip netns exec "$NS_S" tcpreplay -i "$IF_S" --pps=$PPS --loop="$PASSES" "$SAMPLE" \
	>"$WORK/replay.out" 2>&1 || { cat "$WORK/replay.out"; say "FAIL: tcpreplay"; exit 1; }
sent=$(sed -n 's/.*Successful packets: *\([0-9]*\).*/\1/p' "$WORK/replay.out")
say "tcpreplay sent $sent frames ($PASSES passes over $SAMPLE)"
# Until the capture holds every frame sent, or has not grown for 10 s (frames
# lost; a busy machine can hold labfwd or tcpdump back for a second or two),
# 60 s at most: a busy machine forwards late, not never.
count() {
	/usr/bin/python3 -c 'import struct,sys
d = open(sys.argv[1], "rb").read()
e = "<" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
o = n = 0
o = 24
while o + 16 <= len(d):
    o += 16 + struct.unpack(e + "I", d[o + 8:o + 12])[0]
    n += 1
print(n)' "$WORK/got.pcap" 2>/dev/null || echo 0
}
last=-1; still=0
for _ in $(seq 600); do
	n=$(count)
	[[ $n -ge $sent ]] && break
	if [[ $n -eq $last ]]; then still=$((still + 1)); else still=0; last=$n; fi
	[[ $still -ge 100 ]] && break
	sleep 0.1
done
kill -INT "$DUMP_PID"; wait "$DUMP_PID" 2>/dev/null || true; DUMP_PID=""
kill -TERM "$FWD_PID"; fwd_rc=0; wait "$FWD_PID" || fwd_rc=$?; FWD_PID=""
grep -E "^  port|rx0|tx0|accounting|kernel dropped" "$WORK/fwd.out" | sed 's/^/  labfwd: /'

# Where frames can be lost, as the kernel counts them: labfwd's RX rings
# (PACKET_STATISTICS / XDP_STATISTICS, shown as RX ring_full), tcpdump's
# socket, and the veths themselves.
fwd_drops=$(awk '$1 ~ /^rx[0-9]+$/ { for (i = 2; i < NF; i++) if ($i == "ring_full") s += $(i + 1) }
	END { print s + 0 }' "$WORK/fwd.out")
dump_drops=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$WORK/dump.out")
veth_drops=0
for pair in "$NS_S $IF_S" "$NS_M $IF_MS" "$NS_M $IF_MR" "$NS_R $IF_R"; do
	set -- $pair
	for c in rx_dropped tx_dropped; do
		veth_drops=$((veth_drops + $(ip netns exec "$1" cat "/sys/class/net/$2/statistics/$c")))
	done
done
fwd_nobuf=$(awk '$1 ~ /^rx[0-9]+$/ { for (i = 2; i < NF; i++) if ($i == "nobuf") s += $(i + 1) }
	END { print s + 0 }' "$WORK/fwd.out")
drops="kernel drops: labfwd's RX rings (RX ring_full) ${fwd_drops}, labfwd's RX with no \
buffer posted (RX nobuf) ${fwd_nobuf}, tcpdump's socket ${dump_drops:-unknown}, the veths \
${veth_drops}"

# Every frame sent, in order, byte for byte (stdlib only: pcap is simple).
/usr/bin/python3 - "$SAMPLE" "$WORK/got.pcap" "$PASSES" "$sent" "$drops" <<'EOF'
import struct, sys

def frames(path):
    with open(path, "rb") as f:
        d = f.read()
    magic = struct.unpack("<I", d[:4])[0]
    e = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    o, out = 24, []
    while o + 16 <= len(d):
        caplen = struct.unpack(e + "I", d[o + 8:o + 12])[0]
        out.append(d[o + 16:o + 16 + caplen])
        o += 16 + caplen
    return out

src, got, passes, sent = frames(sys.argv[1]), frames(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
want = src * passes
nb = sum(map(len, got))
print(f"netns-demo: tcpdump captured {len(got)} frames, {nb} bytes; sent {sent}, "
      f"{sum(map(len, want))} bytes")
if sent != len(want):
    sys.exit(f"netns-demo: FAIL: tcpreplay sent {sent} frames, not {len(want)}")
if len(got) != len(want):
    sys.exit(f"netns-demo: FAIL: {len(want) - len(got)} frames missing; {sys.argv[5]}")
for i, (a, b) in enumerate(zip(want, got)):
    if a != b:
        sys.exit(f"netns-demo: FAIL: frame {i + 1} differs ({len(b)} bytes, sent {len(a)})")
print("netns-demo: every frame arrived, in order, byte for byte")
EOF
grep -q "accounting: OK" "$WORK/fwd.out" || { say "FAIL: labfwd accounting"; exit 1; }
[[ $fwd_rc -eq 0 ]] || { say "FAIL: labfwd exited $fwd_rc"; exit 1; }
say "OK ($DRIVER)"
