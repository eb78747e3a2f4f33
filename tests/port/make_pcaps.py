#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the captures the port tests replay into DIR.

Good traffic (scapy, Debian's python3-scapy): mixed.pcap (microsecond),
mixed_ns.pcap (nanosecond), mixed.pcapng: frames of 60 to 1514 bytes,
VLAN-tagged and untagged, IPv4 and IPv6, UDP and TCP, and one 9000-byte jumbo.

Hostile files (raw bytes, so every field is what the test says): bad_magic,
short_header, rec_header_cut, caplen_gt_snaplen, caplen_gt_len, rec_cut_eof,
zero_len, linktype_raw, truncated_rec; and files whose every record is dropped
(all_caplen_gt_len, all_zero_len, all_oversize).

Usage: make_pcaps.py DIR
"""
import os
import random
import struct
import sys

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Raw
from scapy.utils import PcapNgWriter, PcapWriter

GOOD_FRAMES = 240


def frame(i, size):
    eth = Ether(src="02:00:00:00:00:%02x" % (i % 256), dst="02:00:00:00:01:01")
    if i % 3 == 0:
        eth = eth / Dot1Q(vlan=100 + i % 7)
    l3 = IP(src="10.0.0.1", dst="10.0.0.2") if i % 2 == 0 else IPv6(src="fd00::1", dst="fd00::2")
    l4 = UDP(sport=1000 + i, dport=2000) if i % 4 < 2 else TCP(sport=1000 + i, dport=80)
    pkt = eth / l3 / l4
    pad = max(0, size - len(pkt))
    return pkt / Raw(bytes((i + k) & 0xFF for k in range(pad)))


def good_frames():
    rnd = random.Random(7)
    sizes = [60, 64, 128, 256, 512, 1024, 1500, 1514]
    frames = []
    for i in range(GOOD_FRAMES):
        size = sizes[i] if i < len(sizes) else rnd.randint(60, 1514)
        frames.append(frame(i, size))
    frames.insert(GOOD_FRAMES // 2, frame(9999, 9000))  # the jumbo
    for k, f in enumerate(frames):
        f.time = 1700000000 + k / 1000
    return frames


def write_good(d):
    frames = good_frames()
    w = PcapWriter(os.path.join(d, "mixed.pcap"), linktype=1, sync=True)
    w.write(frames)
    w.close()
    w = PcapWriter(os.path.join(d, "mixed_ns.pcap"), linktype=1, nano=True, sync=True)
    w.write(frames)
    w.close()
    w = PcapNgWriter(os.path.join(d, "mixed.pcapng"))
    w.write(frames)
    w.close()


def ghdr(snaplen=65535, linktype=1, magic=0xA1B2C3D4):
    return struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)


def rec(data, caplen=None, length=None):
    caplen = len(data) if caplen is None else caplen
    length = len(data) if length is None else length
    return struct.pack("<IIII", 1700000000, 0, caplen, length) + data


def good_bytes(n):
    return bytes(Ether(dst="02:00:00:00:01:01") / IP() / UDP() / Raw(b"x" * (n - 42)))


def write_hostile(d):
    ok = good_bytes(60)
    files = {
        "bad_magic.pcap": ghdr(magic=0x12345678) + rec(ok),
        "short_header.pcap": ghdr()[:10],
        "rec_header_cut.pcap": ghdr() + rec(ok) + rec(ok)[:8],
        "caplen_gt_snaplen.pcap": ghdr(snaplen=128) + rec(ok) + rec(good_bytes(300)) + rec(ok),
        "caplen_gt_len.pcap": ghdr() + rec(ok) + rec(good_bytes(100), length=60) + rec(ok),
        "rec_cut_eof.pcap": ghdr() + rec(ok) + rec(good_bytes(100))[:16 + 40],
        "zero_len.pcap": ghdr() + rec(b"") + rec(ok) + rec(b"") + rec(ok),
        "linktype_raw.pcap": ghdr(linktype=101) + rec(bytes(IP() / UDP())),
        "truncated_rec.pcap": ghdr() + rec(ok) + rec(good_bytes(200)[:100], length=200) + rec(ok),
        "empty.pcap": ghdr(),
        # every record dropped: a looped replay must end, not spin
        "all_caplen_gt_len.pcap": ghdr() + rec(good_bytes(100), length=60),
        "all_zero_len.pcap": ghdr() + rec(b"") * 5,
        "all_oversize.pcap": ghdr() + rec(good_bytes(9000)) * 2,
    }
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_pcaps.py DIR")
    os.makedirs(sys.argv[1], exist_ok=True)
    write_good(sys.argv[1])
    write_hostile(sys.argv[1])


if __name__ == "__main__":
    main()
