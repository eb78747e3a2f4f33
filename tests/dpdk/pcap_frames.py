#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""pcap_frames.py A B: print "frames NA NB" and exit 0 if the two pcap files
(micro- or nanosecond, either byte order) hold the same frames, in order, byte
for byte (timestamps aside); else name the first difference and exit 1."""
import struct
import sys


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        sys.exit(f"{path}: not a pcap file (magic {magic.hex()})")
    out, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "IIII", data[off:off + 16])[2]
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


a, b = frames(sys.argv[1]), frames(sys.argv[2])
print("frames", len(a), len(b))
for i, (x, y) in enumerate(zip(a, b)):
    if x != y:
        sys.exit(f"frame {i} differs ({len(x)} vs {len(y)} bytes)")
sys.exit(0 if len(a) == len(b) else 1)
