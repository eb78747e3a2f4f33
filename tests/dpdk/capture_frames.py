#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""capture_frames.py INPUT.pcap CAPTURE [MIN]: CAPTURE (pcap or pcapng, as
dpdk-dumpcap and dpdk-pdump write them) must hold at least MIN frames (default
1), each equal byte for byte to a frame of the input, in the input's order,
with the input looping (net_pcap's infinite_rx): a capture starts anywhere in
the file, and may skip frames (a primary drops the copies a full capture ring
cannot take, and counts them). Prints "captured N of INPUT's M frames, from
frame S, K skipped" and exits 0, or names the first frame that is not the
input's and exits 1. tshark is not needed."""
import struct
import sys


def pcap_frames(data):
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        return None
    out, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "IIII", data[off:off + 16])[2]
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


def pcapng_frames(data):
    """Enhanced packet blocks (type 6) of a pcapng file, in order."""
    if data[:4] != b"\x0a\x0d\x0d\x0a":
        return None
    end = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    out, off = [], 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack(end + "II", data[off:off + 8])
        if blen < 12:
            sys.exit(f"pcapng block at {off} has length {blen}")
        if btype == 6:
            caplen = struct.unpack(end + "I", data[off + 20:off + 24])[0]
            out.append(data[off + 28:off + 28 + caplen])
        off += blen
    return out


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    got = pcap_frames(data)
    if got is None:
        got = pcapng_frames(data)
    if got is None:
        sys.exit(f"{path}: neither pcap nor pcapng (magic {data[:4].hex()})")
    return got


want, got = frames(sys.argv[1]), frames(sys.argv[2])
least = int(sys.argv[3]) if len(sys.argv) > 3 else 1
if len(got) < least:
    sys.exit(f"{sys.argv[2]}: {len(got)} frames, want at least {least}")
starts = [i for i, w in enumerate(want) if w == got[0]]
if not starts:
    sys.exit(f"{sys.argv[2]}: frame 0 ({len(got[0])} bytes) is no frame of {sys.argv[1]}")
for s in starts:
    pos, skipped, bad = s, 0, None
    for k, g in enumerate(got[1:], 1):
        step = next((d for d in range(1, len(want) + 1)
                     if want[(pos + d) % len(want)] == g), None)
        if step is None:
            bad = k
            break
        skipped += step - 1
        pos = (pos + step) % len(want)
    if bad is None:
        print(f"captured {len(got)} of {sys.argv[1]}'s {len(want)} frames, from frame {s}, "
              f"{skipped} skipped")
        sys.exit(0)
sys.exit(f"{sys.argv[2]}: frame {bad} ({len(got[bad])} bytes) is no frame of {sys.argv[1]}")
