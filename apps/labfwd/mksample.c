/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mksample: write labfwd's bundled sample capture (run at build time).
 *
 * usage: mksample OUT.pcap [PACKETS]
 *
 * Mixed traffic, deterministic (a fixed-seed generator, so every build makes
 * the same file): IPv4 UDP and TCP, IPv6 UDP and TCP, 802.1Q-tagged IPv4,
 * ICMP echo and ARP, frame sizes 60 to 1514, between a handful of hosts, with
 * correct IPv4, ICMP, UDP and TCP checksums; timestamps 10 us apart.
 */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t sum_bytes(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet header (and a VLAN tag), returns its length. */
static size_t eth(uint8_t *f, int src, int dst, uint16_t type, int vlan)
{
	static const uint8_t base[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x00 };
	size_t o = 12;

	memcpy(f, base, 6);
	f[5] = (uint8_t)dst;
	memcpy(f + 6, base, 6);
	f[11] = (uint8_t)src;
	if (vlan) {
		put16(f + 12, 0x8100);
		put16(f + 14, (uint16_t)(vlan | (5 << 13)));
		o += 4;
	}
	put16(f + o, type);
	return o + 2;
}

/* L4 payload after @p l4 header bytes: a pattern. */
static void fill(uint8_t *p, size_t n, uint32_t seq)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seq + i * 31);
}

static size_t ipv4(uint8_t *f, size_t o, uint8_t proto, size_t total, int src, int dst,
		   uint16_t id)
{
	uint8_t *h = f + o;

	memset(h, 0, 20);
	h[0] = 0x45;
	put16(h + 2, (uint16_t)total);
	put16(h + 4, id);
	h[6] = 0x40; /* don't fragment */
	h[8] = 64;
	h[9] = proto;
	h[12] = 10, h[13] = 0, h[14] = 0, h[15] = (uint8_t)src;
	h[16] = 10, h[17] = 0, h[18] = 0, h[19] = (uint8_t)dst;
	put16(h + 10, fold(sum_bytes(h, 20, 0)));
	return o + 20;
}

static size_t ipv6(uint8_t *f, size_t o, uint8_t next, size_t payload, int src, int dst)
{
	uint8_t *h = f + o;

	memset(h, 0, 40);
	h[0] = 0x60;
	put16(h + 4, (uint16_t)payload);
	h[6] = next;
	h[7] = 64;
	h[8] = 0xfd, h[9] = 0x00, h[23] = (uint8_t)src;
	h[24] = 0xfd, h[25] = 0x00, h[39] = (uint8_t)dst;
	return o + 40;
}

/* UDP or TCP checksum over the pseudo-header of the IP header at @p ip. */
static uint16_t l4_sum(const uint8_t *ip, int v6, uint8_t proto, const uint8_t *l4, size_t len)
{
	uint32_t s = 0;

	if (v6)
		s = sum_bytes(ip + 8, 32, s);
	else
		s = sum_bytes(ip + 12, 8, s);
	s += proto + (uint32_t)len;
	s = sum_bytes(l4, len, s);
	return fold(s);
}

static size_t make(uint8_t *f, uint32_t seq)
{
	uint32_t kind = rnd(100), len = 60 + rnd(1455);
	int src = 1 + (int)rnd(6), dst = 1 + (int)rnd(6), v6 = 0, vlan = 0;
	uint8_t proto = 17;
	size_t o, ip;

	if (kind < 5) { /* ARP request */
		o = eth(f, src, 0xff, 0x0806, 0);
		memset(f, 0xff, 6);
		memset(f + o, 0, 46);
		put16(f + o, 1), put16(f + o + 2, 0x0800);
		f[o + 4] = 6, f[o + 5] = 4;
		put16(f + o + 6, 1);
		memcpy(f + o + 8, f + 6, 6);
		f[o + 14] = 10, f[o + 17] = (uint8_t)src;
		f[o + 24] = 10, f[o + 27] = (uint8_t)dst;
		return 60;
	}
	if (kind < 10) { /* ICMP echo */
		len = 98;
		o = eth(f, src, dst, 0x0800, 0);
		ip = o;
		o = ipv4(f, o, 1, len - o, src, dst, (uint16_t)seq);
		memset(f + o, 0, 8);
		f[o] = 8;
		put16(f + o + 4, 0x1234), put16(f + o + 6, (uint16_t)seq);
		fill(f + o + 8, len - o - 8, seq);
		put16(f + o + 2, fold(sum_bytes(f + o, len - o, 0)));
		(void)ip;
		return len;
	}
	if (kind < 30)
		proto = 6;
	else if (kind < 45)
		v6 = 1;
	else if (kind < 50)
		v6 = 1, proto = 6;
	else if (kind < 60)
		vlan = 1 + (int)rnd(100);
	o = eth(f, src, dst, v6 ? 0x86dd : 0x0800, vlan);
	if (len < o + (v6 ? 40u : 20u) + (proto == 6 ? 20u : 8u))
		len = (uint32_t)(o + (v6 ? 40 : 20) + (proto == 6 ? 20 : 8));
	ip = o;
	o = v6 ? ipv6(f, o, proto, len - o - 40, src, dst)
	       : ipv4(f, o, proto, len - o, src, dst, (uint16_t)seq);
	if (proto == 17) {
		put16(f + o, (uint16_t)(1024 + rnd(60000)));
		put16(f + o + 2, (uint16_t)(53 + rnd(4) * 1000));
		put16(f + o + 4, (uint16_t)(len - o));
		put16(f + o + 6, 0);
		fill(f + o + 8, len - o - 8, seq);
	} else {
		memset(f + o, 0, 20);
		put16(f + o, (uint16_t)(1024 + rnd(60000)));
		put16(f + o + 2, (uint16_t)(rnd(2) ? 80 : 443));
		f[o + 4] = (uint8_t)(seq >> 24), f[o + 5] = (uint8_t)(seq >> 16);
		f[o + 6] = (uint8_t)(seq >> 8), f[o + 7] = (uint8_t)seq;
		f[o + 12] = 5 << 4;
		f[o + 13] = 0x18; /* PSH ACK */
		put16(f + o + 14, 65535);
		fill(f + o + 20, len - o - 20, seq);
	}
	{
		uint16_t c = l4_sum(f + ip, v6, proto, f + o, len - o);

		if (proto == 17 && c == 0)
			c = 0xffff;
		put16(f + o + (proto == 17 ? 6 : 16), c);
	}
	return len;
}

int main(int argc, char **argv)
{
	static const char use[] = "usage: mksample OUT.pcap [PACKETS (1..1000000, default 3000)]\n";
	static uint8_t frame[1514];
	struct pcap_pkthdr h;
	pcap_dumper_t *d;
	unsigned long n = 3000;
	char *end = NULL;
	pcap_t *p;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(use, stdout);
		return 0;
	}
	if (argc > 2)
		n = strtoul(argv[2], &end, 10);
	if (argc < 2 || argc > 3 || argv[1][0] == '-' || (end != NULL && *end != '\0') ||
	    n == 0 || n > 1000000) {
		fprintf(stderr, "mksample: bad arguments (%s); try 'mksample --help'\n",
			argc < 2 ? "no output file" : argv[argc - 1]);
		return 1;
	}
	p = pcap_open_dead(DLT_EN10MB, 65535);
	d = p ? pcap_dump_open(p, argv[1]) : NULL;
	if (d == NULL) {
		fprintf(stderr, "mksample: cannot write '%s': %s\n", argv[1],
			p ? pcap_geterr(p) : "pcap_open_dead failed");
		return 1;
	}
	for (unsigned long i = 0; i < n; i++) {
		memset(frame, 0, sizeof(frame));
		h.caplen = h.len = (uint32_t)make(frame, (uint32_t)i);
		h.ts.tv_sec = 1700000000 + (long)(i / 100000);
		h.ts.tv_usec = (long)(i % 100000) * 10;
		pcap_dump((u_char *)d, &h, frame);
	}
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}
