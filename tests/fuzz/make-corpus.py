#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the fuzz targets' seed corpora into tests/fuzz/corpus/NAME/ (run from
anywhere; the files are committed, and rewritten identically by a new run).
Seeds are valid inputs of each kind plus the edge cases each parser must
refuse cleanly, so the fuzzers start from the interesting places."""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for i, data in enumerate(seeds):
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, "seed-%03d" % i), "wb") as f:
            f.write(data)


def devargs():
    return [
        "alpha:path=/tmp/x,qd=32,mode=a", "beta:name=r,size=64K,loop=1", "alpha",
        "alpha:", "alpha:path", "alpha:path=", "alpha:qd=1,qd=2", "gamma:x=1",
        "alpha:" + ",".join("path=%d" % i for i in range(17)), "", ":", "::::",
        "alpha:qd=99999999999999999999", "alpha:qd=64K", "alpha:qd=1G", "alpha:qd=-1",
        "alpha:qd=0x10", "alpha:path=a=b", "alpha:,,", "alpha:mode=c", "beta:size=4M,",
        "alpha:path=" + "p" * 5000, "beta:name=x\x00y", "alpha:qd= 5", "ALPHA:qd=1",
    ]


def config():
    with open(os.path.join(ROOT, "config", "labyrinth.conf")) as f:
        shipped = f.read()
    return [
        shipped, "[pool]\nsize = 1024\nmax = 2048\n", "[pool]\nmin = 20%\nlow = 10%\n",
        "[nosuch]\nkey = 1\n", "[pool]\nnosuch = 1\n", "[pool]\nsize = -5\n",
        "[pool]\nsize = 18446744073709551616\n", "[pool]\ncell_size = 4K\nheadroom = 5000\n",
        "[arena]\npage_size = 3M\niova = maybe\n", "[quality]\nlevel = full\nsample_rate = 0\n",
        "[quality]\npolicy = retire\nquarantine = 1G\n", "[log]\nlevel = pool:debug,arena:err\n",
        "pool.size=4096\npool.min=5%\nquality.level=sampled\n", "pool.size\n=\n.=\npool.=1\n",
        "[pool\nsize=1\n", "size = 1\n", "[pool]\nsize = 1 ; c\nname = " + "n" * 100 + "\n",
        "[pool]\nlow = 150%\n", "[pool]\nreserve = 101%\n", "\xef\xbb\xbf[pool]\nsize=8\n",
    ]


def pcap_built():
    eth = bytes.fromhex("ffffffffffff020000000001" "0800") + bytes(46)
    def rec(data, flags=0):
        return struct.pack("<HB", len(data), flags) + data
    return [
        b"\x00" + rec(eth) * 3, b"\x01" + rec(eth) + rec(eth[:14]),
        b"\x00" + rec(eth, 1) + rec(eth), b"\x00" + rec(eth, 2),
        b"\x00" + rec(eth, 4) + rec(eth), b"\x04" + rec(eth) * 5,
        b"\x02" + rec(eth + bytes(2000)) + rec(b""), b"\x00" + rec(eth, 0x0b),
        b"\x00", b"\x06" + rec(eth, 1) * 2 + rec(eth),
    ]


def pcap_raw():
    eth = bytes.fromhex("ffffffffffff020000000001" "0800") + bytes(46)
    hdr = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
    one = struct.pack("<IIII", 1, 0, len(eth), len(eth)) + eth
    swapped = struct.pack(">IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1) + \
        struct.pack(">IIII", 1, 0, len(eth), len(eth)) + eth
    other_link = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101) + one[0:]
    # pcapng: section header, interface description (Ethernet), one enhanced packet.
    shb = struct.pack("<IIIHHqI", 0x0a0d0d0a, 28, 0x1a2b3c4d, 1, 0, -1, 28)
    idb = struct.pack("<IIHHII", 1, 20, 1, 0, 65535, 20)
    epb_body = struct.pack("<IIIII", 0, 0, 1, len(eth), len(eth)) + eth
    epb = struct.pack("<II", 6, 12 + len(epb_body)) + epb_body + struct.pack("<I", 12 + len(epb_body))
    return [b"\x80" + hdr + one * 2, b"\x80" + hdr + one[:20], b"\x80" + swapped,
            b"\x80" + other_link, b"\x80" + shb + idb + epb, b"\x80" + hdr, b"\x80",
            b"\x84" + hdr + one * 3]


def blk():
    def req(op, off, ln, shift=0, flags=0):
        return struct.pack("<BQIHB", op, off, ln, shift, flags)
    ok = req(1, 0, 4096) + req(0, 0, 4096) + req(5, 8, 0) + req(2, 0, 0) + \
        req(3, 4096, 8192) + req(4, 0, 512) + req(5, 0, 0)
    bad = req(0, 100, 512) + req(0, 0, 100) + req(0, (1 << 20) - 512, 1024) + \
        req(1, 2 ** 64 - 512, 1024) + req(0, 0, 65536 + 512) + req(0, 0, 512, 3) + \
        req(0, 0, 512, 0, 0x80) + req(3, 2 ** 63, 2 ** 31)
    full = req(0, 0, 512, 0, 1) * 6 + req(5, 0, 0)
    # virtio_blk's limits (drawn from the same fields): 64 KiB in segments of
    # 512 with seg_max 1, in 8 of 4 KiB, no segment size, a buffer outside the
    # mapped region, a discard and a write-zeroes over and under their limit.
    vblk = req(0, 0, 65536, 0, 0x40) + req(1, 0, 32768, 0x0707) + req(0, 0, 4096, 0, 0x20) + \
        req(0, 0, 4096, 0, 1) + req(4, 3 << 40, 4096) + req(4, 16 << 40, 4096) + \
        req(3, 1 << 24, 1024) + req(3, 4 << 24, 1024) + req(5, 0, 0)
    return [ok, bad, full, ok + bad + full, req(1, 0, 16384, 0, 0x42) * 3, vblk]


def ctl():
    return [
        '{"cmd":"help"}', '{"cmd":"info"}', '{"cmd":"pools"}', '{"cmd":"pool","name":"fz"}',
        '{"cmd":"pool","name":"nope"}', '{"cmd":"ports"}', '{"cmd":"metrics"}',
        '{"cmd":"set","what":"quality","level":"full","rate":64,"pool":"fz"}',
        '{"cmd":"set","what":"quality","level":"sampled","rate":1.5}',
        '{"cmd":"set","what":"log","level":"notice","type":"ctl"}',
        '{"cmd":"set","what":"log","level":"loud"}', '{"cmd":"set"}', '{"cmd":7}',
        '{"cmd":"pools","x":[1,{"y":null}]}', '[', '{"cmd":"\\ud83d\\ude00"}', "",
        '{"a":' * 40 + '1' + '}' * 40, '{"cmd":"pool","name":"' + 'n' * 3000 + '"}',
        '{"cmd":"help"} trailing', '"\\u00"', '-0.0e+5', 'true',
        # What a strict reader refuses, and replies that echo bytes that are
        # not UTF-8 (a name cut at 64 bytes inside a character).
        '{"cmd":"pools\\u0000junk"}', b'{"cmd":"p\xffols"}', '{"cmd":"pools","cmd":"info"}',
        ('{"cmd":"' + 'a' * 63 + '\u00e9"}').encode(), b'{"cmd":"pools"}\x00',
    ]


def vhost_msg():
    # [request, flags, size][descriptor count][payload], as fuzz_vhost_msg.c reads them.
    def msg(req, payload=b"", nfds=0, flags=1, size=None):
        return struct.pack("<III", req, flags, len(payload) if size is None else size) + \
            bytes([nfds]) + payload
    u64 = lambda v: struct.pack("<Q", v)
    state = lambda i, n: struct.pack("<II", i, n)
    region = lambda gpa, size, uva, off: struct.pack("<QQQQ", gpa, size, uva, off)
    table = lambda regs: struct.pack("<II", len(regs), 0) + b"".join(regs)
    addr = struct.pack("<IIQQQQ", 1, 0, 0x10000, 0x10200, 0x10100, 0)
    good = (msg(3) + msg(1) + msg(2, u64(1 << 32 | 1 << 15)) + msg(15) + msg(16, u64(1)) + msg(17) +
            msg(5, table([region(0x10000, 0x10000, 0x10000, 0)]), 1) +
            msg(8, state(1, 8)) + msg(10, state(1, 0)) + msg(9, addr) + msg(12, u64(1), 1) +
            msg(13, u64(1 | 0x100)) + msg(18, state(1, 1)) + msg(11, state(1, 0)) + msg(4))
    return [
        good, msg(2, b"abcd"), msg(3, nfds=1), msg(3, nfds=9), msg(99),
        msg(5, table([region(0, 0x8000, 0, 0), region(0x4000, 0x8000, 0x10000, 0)]), 2),
        msg(5, table([region(0, 0x20000, 0, 0)]), 1), msg(5, table([region(0, 0, 0, 0)]), 1),
        msg(5, table([region(2**64 - 4096, 8192, 0, 0)]), 1), msg(5, b"\x09" + bytes(7)),
        msg(8, state(7, 256)), msg(8, state(1, 3)), msg(10, state(1, 70000)),
        msg(12, u64(0x1ff), 0), msg(12, u64(1)), msg(9, struct.pack("<IIQQQQ", 1, 1, 0, 0, 0, 0)),
        msg(2, u64(1 << 28 | 1 << 32)), msg(2, u64(1)), msg(16, u64(2)), msg(3, flags=5),
        msg(5, size=1 << 20), msg(18, state(1, 2)),
    ]


def vhost_vq():
    # [ring size shift][directions][region A: desc at 0, avail at 256, used at 512; buffers].
    def desc(addr, ln, flags=0, nxt=0):
        return struct.pack("<QIHH", addr, ln, flags, nxt)
    def mem(descs, heads, avail_idx=None, tail=b"", b=b""):
        d = b"".join(descs).ljust(256, b"\0")
        av = struct.pack("<HH", 0, len(heads) if avail_idx is None else avail_idx) + \
            b"".join(struct.pack("<H", h) for h in heads)
        a = (d + av.ljust(256, b"\0") + bytes(256) + tail).ljust(4096, b"\x5a")
        return a + b
    buf = 0x10000 + 1024
    return [
        b"\x03\x00" + mem([desc(buf, 76)], [0]),
        b"\x03\xff" + mem([desc(buf, 12, 3, 1), desc(buf + 64, 1500, 2)], [0]),
        b"\x03\x00" + mem([desc(buf, 6, 1, 1), desc(0x20000, 512, 0)], [0], b=bytes(1024)),
        b"\x03\x00" + mem([desc(buf, 16, 1, 1), desc(buf, 16, 1, 0)], [0]),
        b"\x03\x00" + mem([desc(0x10000 + 4000, 200)], [0]),
        b"\x03\x00" + mem([desc(buf, 16, 4)], [0]),
        b"\x03\x00" + mem([desc(buf, 16)], [0], avail_idx=200),
        b"\x03\x00" + mem([desc(buf, 16)], [9]),
        b"\x03\xff" + mem([desc(buf, 16, 0)], [0]),
        b"\x04\x55" + mem([desc(buf + 100 * i, 90, 2 if i % 2 else 0) for i in range(16)],
                          list(range(16))),
        b"\x00\x00" + mem([desc(buf, 0)], [0]),
    ]


write("devargs", devargs())
write("config", config())
write("pcap_rx", pcap_built() + pcap_raw())
write("blk_req", blk())
write("ctl", ctl())
write("vhost_msg", vhost_msg())
write("vhost_vq", vhost_vq())
