/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the pcap RX path. A capture is built from the input (or,
 * with the first byte's top bit set, the input is the file itself), replayed
 * through the pcap driver (once, or looped from memory), handed on to one end
 * of a ring port pair and received at the other. Promises: no crash; every
 * record is received, dropped and counted (oversize, truncated, errors), or
 * stops the replay; and when the ports close every buffer is back in the pool.
 *
 * Built input, after the selector byte: records of [len lo, len hi, flags,
 * bytes...]; flags bit 0: caplen < len (a truncated record), bit 1: caplen
 * past the end of the file, bit 2: a 64 KiB + len frame (oversize).
 */
#include <errno.h>
#include <string.h>

#include <labyrinth/lab_pool.h>
#include <labyrinth/lab_port.h>

#include "fuzz_common.h"

struct rec {
	uint32_t sec, usec, caplen, len;
};

static struct lab_pool *pool;

static void put32(FILE *f, uint32_t v)
{
	fwrite(&v, 4, 1, f);
}

/* A pcap (Ethernet, microsecond or nanosecond magic) from the input. */
static size_t build(const uint8_t *data, size_t size, char **out)
{
	size_t len = 0, at = 1;
	FILE *f = open_memstream(out, &len);
	uint32_t sec = 0;

	put32(f, (data[0] & 1) ? 0xa1b23c4d : 0xa1b2c3d4);
	put32(f, 0x00040002);
	put32(f, 0);
	put32(f, 0);
	put32(f, (data[0] & 2) ? 0 : 65535); /* snaplen */
	put32(f, 1);                          /* LINKTYPE_ETHERNET */
	while (at + 3 <= size) {
		uint32_t n = data[at] | (uint32_t)data[at + 1] << 8, flags = data[at + 2];
		struct rec r;

		at += 3;
		if (n > size - at)
			n = (uint32_t)(size - at);
		r.sec = sec++;
		r.usec = n;
		r.caplen = n;
		r.len = (flags & 4) ? 65536 + n : n;
		if (flags & 1)
			r.len = n + 1 + (flags >> 3);
		if (flags & 2)
			r.caplen = n + 1 + (flags >> 3) * 64;
		fwrite(&r, sizeof(r), 1, f);
		fwrite(data + at, 1, n, f);
		at += n;
	}
	fclose(f);
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], dev[128], *file = NULL;
	struct lab_port *rx, *a, *b;
	struct lab_port_conf c;
	struct lab_port_stats st;
	struct lab_pool_stats ps;
	struct lab_buf *bufs[32];
	uint64_t got = 0, passed = 0;
	size_t flen;
	int fd;

	fuzz_quiet();
	if (size < 1)
		return 0;
	if (pool == NULL) {
		struct lab_pool_opts o;

		lab_pool_opts_init(&o);
		o.name = "fuzz";
		o.cell_size = 2048;
		o.headroom = 128;
		o.initial = o.max = 1024;
		o.hugepages = LAB_HUGEPAGES_OFF;
		o.quality = LAB_QUALITY_FULL;
		pool = lab_pool_create(&o);
		FUZZ_CHECK(pool != NULL);
	}
	if (data[0] & 0x80) {
		fd = fuzz_file(data + 1, size - 1, path, sizeof(path));
	} else {
		flen = build(data, size, &file);
		fd = fuzz_file((const uint8_t *)file, flen, path, sizeof(path));
		free(file);
	}
	if (fd < 0)
		return 0;
	snprintf(dev, sizeof(dev), "pcap:rx=%s,loop=%d,timing=fast", path, (data[0] & 4) ? 2 : 1);
	lab_port_conf_init(&c);
	c.pool = pool;
	rx = lab_port_open(dev, &c);
	if (rx == NULL) {
		/* Refused at open (not a capture, not Ethernet): with a message. */
		FUZZ_CHECK(lab_errno != 0);
		close(fd);
		return 0;
	}
	a = lab_port_open("ring:name=fz,size=64", &c);
	b = lab_port_open("ring:name=fz,size=64", &c);
	FUZZ_CHECK(a != NULL && b != NULL);
	FUZZ_CHECK(lab_port_start(rx) == 0 && lab_port_start(a) == 0 && lab_port_start(b) == 0);
	for (int polls = 0; polls < 100000; polls++) {
		struct lab_port_link l;
		uint16_t n = lab_port_rx_burst(rx, 0, bufs, 32), s, m;

		got += n;
		if (n != 0) {
			FUZZ_CHECK(lab_buf_transfer(lab_port_rxq_owner(rx, 0),
						    lab_port_txq_owner(a, 0), bufs, n) == n);
			for (uint16_t i = 0; i < n; i++)
				FUZZ_CHECK(bufs[i]->data_len <= lab_pool_data_room(pool));
			s = lab_port_tx_burst(a, 0, bufs, n);
			if (s < n)
				lab_free_bulk(lab_port_txq_owner(a, 0), bufs + s, n - s);
		}
		m = lab_port_rx_burst(b, 0, bufs, 32);
		passed += m;
		lab_free_bulk(lab_port_rxq_owner(b, 0), bufs, m);
		if (n == 0 && m == 0 && lab_port_link(rx, &l) == 0 && l.rx_done)
			break;
	}
	lab_port_stats(rx, &st);
	FUZZ_CHECK(st.rx_total.packets == got);
	FUZZ_CHECK(passed <= got);
	lab_port_stop(rx);
	lab_port_stop(a);
	lab_port_stop(b);
	FUZZ_CHECK(lab_port_close(rx) == 0);
	FUZZ_CHECK(lab_port_close(a) == 0);
	FUZZ_CHECK(lab_port_close(b) == 0);
	close(fd);
	/* Lose nothing: every buffer is back, and the pool saw no bad free. */
	fuzz_pool_settled(pool, &ps);
	FUZZ_CHECK(ps.in_flight == 0 && ps.cached == 0);
	for (int k = 0; k < LAB_FIND_KINDS; k++)
		FUZZ_CHECK(ps.findings[k] == 0);
	return 0;
}
