/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcap: replay a capture file (looped, with the capture's timing or another
 * pace, or at top speed) or capture live on an interface; write a capture file
 * or inject on an interface. Files are read with nanosecond precision
 * (microsecond files are converted), so both kinds replay.
 *
 * Pacing, as tcpreplay's: by default each frame is due its capture gap after
 * the one before (timing=capture, scaled by multiplier=X), or the pace is a
 * packet rate (pps=N) or a bit rate (mbps=N, each frame due when the one
 * before has had its time on the wire); timing=fast is top speed. The port
 * paces and the worker polls: a frame not yet due is held and RX gives
 * nothing, so no sleep is ever in the data path and the worker's polling is
 * the busy wait. Frames fall due against a schedule, not against the last
 * delivery: a worker that falls behind catches up with full bursts, and the
 * replay's total time stays the schedule's.
 *
 * Bad records are counted, never fatal to the process: caplen < len or an
 * empty record is "truncated", a frame larger than the data room "oversize",
 * caplen > len an "error". A file that cannot be read further (cut off, a
 * length libpcap refuses) ends the replay: the queue counts an error, the link
 * reports rx_done, and stop/close log libpcap's message with the record number.
 * A looped pass that gives no frame (every record dropped) ends the replay the
 * same way: the next pass would give none either, and looping on would spin.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <labyrinth/lab_log.h>
#include <labyrinth/lab_port_driver.h>

LAB_LOG_DECLARE(port);

struct pcap_rxq {
	pcap_t *pc;
	char *file;          /* replay source, or NULL for live */
	uint64_t loops;      /* passes to make (0: forever) */
	uint64_t pass;       /* passes begun */
	/* Pacing (see the top of the file); the schedule is in lab_now_ns(). */
	int pace;            /* PACE_* */
	double mult;         /* capture: the gaps are divided by it */
	uint64_t pps, mbps;
	uint64_t limit;      /* frames to deliver in all (0: no limit) */
	uint64_t delivered;
	bool held;           /* hh/hd is the next record, not yet due */
	bool scheduled;      /* due_ns holds a frame's due time */
	struct pcap_pkthdr hh;
	const u_char *hd;
	uint64_t due_ns;     /* when the held (or last) frame is due */
	uint64_t prev_ts;    /* capture time of the last frame, in ns */
	uint32_t prev_len;   /* wire length of the last frame */
	uint64_t record;     /* records read in this pass */
	uint64_t pass_frames; /* frames delivered in this pass */
	bool barren;         /* the replay ended on a pass that gave no frame */
	bool done; /* written by the RX thread, read by link(): relaxed atomics */
	/* A looped file small enough is kept in memory after its first pass, so
	 * later passes are one copy per frame and no system call (as DPDK's
	 * net_pcap infinite_rx). Records: caplen, len (uint32 each), the
	 * capture time (struct timeval, nanoseconds in tv_usec), data. */
	uint8_t *cache;
	size_t cache_len, cache_cap, cache_pos;
	bool caching, cached;
	struct pcap_pkthdr ch;
	char err[PCAP_ERRBUF_SIZE + 64];
};

/* The longest chained frame pcap_tx writes as one record (jumbo and then
 * some); a single buffer is written from where it is, whatever its length. */
#define PCAP_LINEAR_MAX 16384

struct pcap_txq {
	pcap_t *pc;          /* dead handle for the dumper, or the live one */
	pcap_dumper_t *dump; /* file output, or NULL */
	bool live;
};

struct pcap_port {
	struct pcap_rxq rx;
	struct pcap_txq tx;
	pcap_t *live;        /* shared by RX and TX when iface= is given */
	bool reported;
};

static const struct lab_devargs_key pcap_keys[] = {
	{ "rx", "pcap or pcapng file to replay (Ethernet link type)" },
	{ "tx", "pcap file to write (created or truncated)" },
	{ "iface", "network interface for live capture and injection" },
	{ "loop", "replay passes over the rx file, 0 = forever (default 1)" },
	{ "timing", "replay pace: capture (the file's gaps) or fast (top speed) (default capture)" },
	{ "multiplier", "timing=capture with the gaps divided by X (2 = twice as fast) (default 1)" },
	{ "pps", "replay at N packets per second instead of the capture's timing" },
	{ "mbps", "replay at N megabits per second (frame lengths) instead of the capture's timing" },
	{ "limit", "stop the replay after N frames, 0 = no limit (default 0)" },
	{ "tstamp", "timestamp precision of the tx file: us or ns (default us)" },
	{ "snaplen", "live capture length, 64..262144 (default 65535)" },
	{ NULL, NULL },
};

enum { PACE_CAPTURE, PACE_FAST, PACE_PPS, PACE_MBPS };

/* Files go through stdio with a 1 MiB buffer (libpcap's default leaves
 * stdio's 4 KiB: one read or write system call every few frames). */
#define PCAP_STDIO_BUF (1u << 20)
/* Looped files up to this size are replayed from memory after the first pass. */
#define PCAP_CACHE_MAX (64u << 20)
/* A cached record's header: caplen, len, capture time. */
#define CACHE_HDR (8 + sizeof(struct timeval))

static int rx_file_open(struct pcap_rxq *r, const char *devstr)
{
	char eb[PCAP_ERRBUF_SIZE];
	FILE *f = fopen(r->file, "rb");
	int dlt, e;

	if (f == NULL) {
		e = errno;
		LAB_LOG(ERR, port, "%s: cannot replay '%s': %s", devstr, r->file, strerror(e));
		return e == ENOENT || e == EACCES ? -e : -EINVAL;
	}
	setvbuf(f, NULL, _IOFBF, PCAP_STDIO_BUF);
	r->pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, eb);
	if (r->pc == NULL) {
		fclose(f);
		LAB_LOG(ERR, port, "%s: cannot replay '%s': %s", devstr, r->file, eb);
		return -EINVAL;
	}
	dlt = pcap_datalink(r->pc);
	if (dlt != DLT_EN10MB) {
		LAB_LOG(ERR, port, "%s: '%s' has link type %s (%d); only Ethernet (EN10MB) can "
			"be replayed", devstr, r->file,
			pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?", dlt);
		pcap_close(r->pc);
		r->pc = NULL;
		return -EINVAL;
	}
	r->pass++;
	r->record = 0;
	r->pass_frames = 0;
	return 0;
}

static pcap_t *live_open(const char *iface, uint64_t snaplen, const char *devstr, int *rc)
{
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_create(iface, eb);

	*rc = -ENODEV;
	if (pc == NULL) {
		LAB_LOG(ERR, port, "%s: interface '%s': %s", devstr, iface, eb);
		return NULL;
	}
	pcap_set_snaplen(pc, (int)snaplen);
	pcap_set_promisc(pc, 1);
	pcap_set_immediate_mode(pc, 1);
	*rc = pcap_activate(pc);
	if (*rc < 0) {
		LAB_LOG(ERR, port, "%s: interface '%s': %s", devstr, iface, pcap_geterr(pc));
		*rc = *rc == PCAP_ERROR_PERM_DENIED ? -EPERM : -ENODEV;
		pcap_close(pc);
		return NULL;
	}
	if (pcap_setnonblock(pc, 1, eb) < 0 || pcap_setdirection(pc, PCAP_D_IN) < 0) {
		LAB_LOG(ERR, port, "%s: interface '%s': cannot set non-blocking inbound capture: %s",
			devstr, iface, pcap_geterr(pc));
		pcap_close(pc);
		*rc = -EIO;
		return NULL;
	}
	*rc = 0;
	return pc;
}

static int tx_file_open(struct pcap_txq *t, const char *file, int prec, const char *devstr)
{
	FILE *f;

	t->pc = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144, prec);
	if (t->pc == NULL)
		return -ENOMEM;
	f = fopen(file, "wb");
	if (f == NULL) {
		int e = errno;

		LAB_LOG(ERR, port, "%s: cannot write '%s': %s", devstr, file, strerror(e));
		return -e;
	}
	setvbuf(f, NULL, _IOFBF, PCAP_STDIO_BUF);
	t->dump = pcap_dump_fopen(t->pc, f);
	if (t->dump == NULL) {
		fclose(f);
		LAB_LOG(ERR, port, "%s: cannot write '%s': %s", devstr, file, pcap_geterr(t->pc));
		return -EIO;
	}
	return 0;
}

static int check_queues(struct lab_port *p, const struct lab_devargs *a)
{
	if (p->nb_rxq != 1 || p->nb_txq != 1) {
		LAB_LOG(ERR, port, "%s: a pcap port has one RX and one TX queue; asked for %u RX "
			"and %u TX", a->devstr, p->nb_rxq, p->nb_txq);
		return -EINVAL;
	}
	if (lab_devargs_get(a, "iface") != NULL &&
	    (lab_devargs_get(a, "rx") != NULL || lab_devargs_get(a, "tx") != NULL)) {
		LAB_LOG(ERR, port, "%s: give either iface= (live) or rx=/tx= (files), not both",
			a->devstr);
		return -EINVAL;
	}
	return 0;
}

/* timing=, multiplier=, pps=, mbps=: one pace, as tcpreplay's --multiplier,
 * --pps, --mbps and --topspeed exclude each other. */
static int pace_parse(struct pcap_rxq *r, const struct lab_devargs *a)
{
	static const char *const timings[] = { "capture", "fast", NULL };
	const char *m = lab_devargs_get(a, "multiplier");
	int t = lab_devargs_choice(a, "timing", timings, 0);
	int rc, given = 0;

	if (t < 0)
		return t;
	rc = lab_devargs_u64(a, "pps", 0, 1, 1000000000ull, &r->pps);
	if (rc == 0)
		rc = lab_devargs_u64(a, "mbps", 0, 1, 10000000ull, &r->mbps);
	if (rc < 0)
		return rc;
	r->mult = 1.0;
	if (m != NULL) {
		char *end;

		errno = 0;
		r->mult = strtod(m, &end);
		if (errno != 0 || end == m || *end != '\0' || !(r->mult >= 1e-6 && r->mult <= 1e6)) {
			LAB_LOG(ERR, port, "%s: multiplier '%s' is not a number from 0.000001 to "
				"1000000 (the capture's gaps are divided by it)", a->devstr, m);
			return -EINVAL;
		}
	}
	given = (lab_devargs_get(a, "timing") != NULL) + (m != NULL) + (r->pps != 0) +
		(r->mbps != 0);
	if (given > 1 && !(t == PACE_CAPTURE && m != NULL && r->pps == 0 && r->mbps == 0)) {
		LAB_LOG(ERR, port, "%s: give one pace: timing=capture (with multiplier=X), "
			"timing=fast, pps=N or mbps=N", a->devstr);
		return -EINVAL;
	}
	r->pace = r->pps != 0 ? PACE_PPS : r->mbps != 0 ? PACE_MBPS : t;
	if (given > 0 && lab_devargs_get(a, "rx") == NULL) {
		LAB_LOG(ERR, port, "%s: timing, multiplier, pps and mbps pace a replay: give "
			"them with rx=FILE", a->devstr);
		return -EINVAL;
	}
	return 0;
}

static int pcap_open_port(struct lab_port *p, const struct lab_devargs *a)
{
	static const char *const precs[] = { "us", "ns", NULL };
	uint64_t snaplen;
	struct pcap_port *pp;
	const char *v;
	int rc, prec;

	rc = check_queues(p, a);
	if (rc < 0)
		return rc;
	pp = calloc(1, sizeof(*pp));
	if (pp == NULL)
		return -ENOMEM;
	lab_port_set_priv(p, pp);
	p->rxq[0].drv = &pp->rx;
	p->txq[0].drv = &pp->tx;
	rc = lab_devargs_u64(a, "loop", 1, 0, UINT64_MAX, &pp->rx.loops);
	if (rc == 0)
		rc = pace_parse(&pp->rx, a);
	if (rc == 0)
		rc = lab_devargs_u64(a, "limit", 0, 0, UINT64_MAX, &pp->rx.limit);
	if (rc == 0)
		rc = lab_devargs_u64(a, "snaplen", 65535, 64, 262144, &snaplen);
	prec = lab_devargs_choice(a, "tstamp", precs, 0);
	if (rc < 0 || prec < 0)
		return rc < 0 ? rc : prec;
	if ((v = lab_devargs_get(a, "iface")) != NULL) {
		/* A live capture comes as fast as the wire brings it. */
		pp->rx.pace = PACE_FAST;
		pp->live = live_open(v, snaplen, a->devstr, &rc);
		pp->rx.pc = pp->live;
		pp->tx.pc = pp->live;
		pp->tx.live = true;
		return rc;
	}
	if ((v = lab_devargs_get(a, "rx")) != NULL) {
		pp->rx.file = strdup(v);
		if (pp->rx.file == NULL)
			return -ENOMEM;
		rc = rx_file_open(&pp->rx, a->devstr);
		if (rc < 0)
			return rc;
		{
			struct stat st;

			pp->rx.caching = pp->rx.loops != 1 && stat(v, &st) == 0 &&
					 st.st_size <= (off_t)PCAP_CACHE_MAX;
		}
	} else {
		pp->rx.done = true;
	}
	if ((v = lab_devargs_get(a, "tx")) != NULL)
		rc = tx_file_open(&pp->tx, v, prec == 1 ? PCAP_TSTAMP_PRECISION_NANO
							: PCAP_TSTAMP_PRECISION_MICRO, a->devstr);
	return rc;
}

/* Say once why a replay ended early (control path: stop and close). */
static void report(struct lab_port *p)
{
	struct pcap_port *pp = lab_port_priv(p);

	if (pp == NULL || pp->rx.err[0] == '\0' || pp->reported)
		return;
	if (pp->rx.barren)
		LAB_LOG(ERR, port, "%s: replay of '%s' stopped after pass %llu: %s",
			lab_port_name(p), pp->rx.file, (unsigned long long)pp->rx.pass, pp->rx.err);
	else
		LAB_LOG(ERR, port, "%s: replay of '%s' stopped at record %llu of pass %llu: %s",
			lab_port_name(p), pp->rx.file, (unsigned long long)pp->rx.record + 1,
			(unsigned long long)pp->rx.pass, pp->rx.err);
	pp->reported = true;
}

static void pcap_close_port(struct lab_port *p)
{
	struct pcap_port *pp = lab_port_priv(p);

	if (pp == NULL)
		return;
	report(p);
	if (pp->tx.dump != NULL)
		pcap_dump_close(pp->tx.dump);
	if (pp->live != NULL) {
		pcap_close(pp->live);
	} else {
		if (pp->rx.pc != NULL)
			pcap_close(pp->rx.pc);
		if (pp->tx.pc != NULL)
			pcap_close(pp->tx.pc);
	}
	free(pp->rx.file);
	free(pp->rx.cache);
	free(pp);
	lab_port_set_priv(p, NULL);
}

static int pcap_start(struct lab_port *p)
{
	struct pcap_port *pp = lab_port_priv(p);

	(void)pp; /* the schedule starts at the first frame, not here */
	return 0;
}

static int pcap_stop(struct lab_port *p)
{
	struct pcap_port *pp = lab_port_priv(p);

	report(p);
	if (pp->tx.dump != NULL && pcap_dump_flush(pp->tx.dump) < 0) {
		LAB_LOG(ERR, port, "%s: flushing the tx file failed", lab_port_name(p));
		return -EIO;
	}
	return 0;
}

static int pcap_link(struct lab_port *p, struct lab_port_link *link)
{
	struct pcap_port *pp = lab_port_priv(p);

	link->up = true;
	link->rx_done = __atomic_load_n(&pp->rx.done, __ATOMIC_RELAXED);
	return 0;
}

/* When the frame @p h is due: its gap (or its pace's interval) after the
 * frame before it, which was due at r->due_ns. The first frame is due now,
 * and so is each pass's first (a loop has no gap to keep), as is a frame whose
 * capture time goes backwards. */
static uint64_t pace_due(struct pcap_rxq *r, const struct pcap_pkthdr *h, uint64_t now)
{
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
	uint64_t gap = 0;

	if (!r->scheduled) {
		r->scheduled = true;
		r->due_ns = now;
	} else if (r->pace == PACE_CAPTURE) {
		if (r->record > 1 && ts > r->prev_ts)
			gap = (uint64_t)((double)(ts - r->prev_ts) / r->mult);
	} else if (r->pace == PACE_PPS) {
		gap = 1000000000ull / r->pps;
	} else { /* PACE_MBPS: bits * 1000 / mbps is nanoseconds */
		gap = (uint64_t)r->prev_len * 8000ull / r->mbps;
	}
	r->prev_ts = ts;
	r->prev_len = h->len;
	return r->due_ns + gap;
}

static void cache_add(struct pcap_rxq *r, const struct pcap_pkthdr *h, const u_char *d)
{
	size_t need = r->cache_len + CACHE_HDR + h->caplen;

	if (need > r->cache_cap) {
		size_t cap = r->cache_cap ? r->cache_cap * 2 : (1u << 20);
		uint8_t *c;

		while (cap < need)
			cap *= 2;
		c = cap <= 2 * (size_t)PCAP_CACHE_MAX ? realloc(r->cache, cap) : NULL;
		if (c == NULL) { /* give up caching: libpcap it is, every pass */
			free(r->cache);
			r->cache = NULL;
			r->caching = false;
			return;
		}
		r->cache = c;
		r->cache_cap = cap;
	}
	memcpy(r->cache + r->cache_len, &h->caplen, 4);
	memcpy(r->cache + r->cache_len + 4, &h->len, 4);
	memcpy(r->cache + r->cache_len + 8, &h->ts, sizeof(h->ts));
	memcpy(r->cache + r->cache_len + CACHE_HDR, d, h->caplen);
	r->cache_len = need;
}

/* Another pass is due. One that gave no frame means every record is dropped
 * (pcap_rx counts each): the next would give none either, and with loop=0 the
 * replay would spin for good. End it instead: an error, said once by report().
 * @return 0 to go on, -1 when the replay ends. */
static int pass_over(struct pcap_rxq *r)
{
	if (r->pass_frames > 0)
		return 0;
	r->barren = true;
	snprintf(r->err, sizeof(r->err), "none of its %llu record(s) gave a frame (each was "
		 "dropped and counted as truncated, oversize or errors), so no later pass would; "
		 "fix or replace the file", (unsigned long long)r->record);
	__atomic_store_n(&r->done, true, __ATOMIC_RELAXED);
	return -1;
}

/* The next record from memory (see next_record). */
static int cached_record(struct pcap_rxq *r, struct pcap_pkthdr **h, const u_char **d)
{
	if (r->cache_pos >= r->cache_len) {
		if (r->loops != 0 && r->pass >= r->loops) {
			__atomic_store_n(&r->done, true, __ATOMIC_RELAXED);
			return 0;
		}
		if (pass_over(r) < 0)
			return -1;
		r->pass++;
		r->record = 0;
		r->pass_frames = 0;
		r->cache_pos = 0;
	}
	memcpy(&r->ch.caplen, r->cache + r->cache_pos, 4);
	memcpy(&r->ch.len, r->cache + r->cache_pos + 4, 4);
	memcpy(&r->ch.ts, r->cache + r->cache_pos + 8, sizeof(r->ch.ts));
	*h = &r->ch;
	*d = r->cache + r->cache_pos + CACHE_HDR;
	r->cache_pos += CACHE_HDR + r->ch.caplen;
	r->record++;
	return 1;
}

/* The next record; 1 with one, 0 with none now (live) or at the end, < 0 on
 * a file error (recorded in r->err). */
static int next_record(struct pcap_rxq *r, const struct lab_port *p, struct pcap_pkthdr **h,
		       const u_char **d)
{
	if (r->cached)
		return cached_record(r, h, d);
	for (;;) {
		int rc = pcap_next_ex(r->pc, h, d);

		if (rc == 1) {
			r->record++;
			if (r->caching)
				cache_add(r, *h, *d);
			return 1;
		}
		if (rc == 0)
			return 0;
		if (rc == PCAP_ERROR_BREAK && r->file != NULL && r->record > 0 &&
		    (r->loops == 0 || r->pass < r->loops) && pass_over(r) < 0)
			return -1;
		if (rc == PCAP_ERROR_BREAK && r->caching && r->cache_len > 0 &&
		    (r->loops == 0 || r->pass < r->loops)) {
			/* The first pass is in memory: replay the rest from there. */
			r->caching = false;
			r->cached = true;
			r->cache_pos = r->cache_len;
			return cached_record(r, h, d);
		}
		if (rc == PCAP_ERROR_BREAK && r->file != NULL &&
		    (r->loops == 0 || r->pass < r->loops) && r->record > 0) {
			pcap_close(r->pc);
			r->pc = NULL;
			if (rx_file_open(r, lab_port_name(p)) == 0)
				continue;
			snprintf(r->err, sizeof(r->err), "cannot reopen the file to loop");
			return -1;
		}
		if (rc != PCAP_ERROR_BREAK)
			snprintf(r->err, sizeof(r->err), "%s", pcap_geterr(r->pc));
		__atomic_store_n(&r->done, r->file != NULL || rc != PCAP_ERROR_BREAK, __ATOMIC_RELAXED);
		return rc == PCAP_ERROR_BREAK ? 0 : -1;
	}
}

static uint16_t pcap_rx(struct lab_port_queue *q, struct lab_buf **bufs, uint16_t n)
{
	struct pcap_rxq *r = q->drv;
	uint64_t bytes = 0, now = 0;
	uint16_t got, k = 0;

	if (r->done || r->pc == NULL)
		return 0;
	if (r->pace != PACE_FAST) {
		now = lab_now_ns();
		if (r->held && now < r->due_ns)
			return 0; /* the next frame is not due: the poll is the wait */
	}
	if (r->limit != 0 && r->delivered >= r->limit) {
		__atomic_store_n(&r->done, true, __ATOMIC_RELAXED);
		return 0;
	}
	if (r->limit != 0 && r->limit - r->delivered < n)
		n = (uint16_t)(r->limit - r->delivered);
	got = lab_rxq_take(q, bufs, n);
	while (k < got) {
		struct pcap_pkthdr *h;
		const u_char *d;
		int rc;

		if (r->held) {
			h = &r->hh;
			d = r->hd;
			r->held = false;
		} else {
			rc = next_record(r, q->port, &h, &d);
			if (rc <= 0) {
				LAB_COUNT_ADD(q->st.errors, rc < 0);
				break;
			}
			if (r->pace != PACE_FAST && h->caplen <= h->len && h->caplen > 0) {
				uint64_t due = pace_due(r, h, now);

				r->due_ns = due;
				if (due > now) {
					/* Keep it for a later poll: libpcap's data stays
					 * valid until the next read, the cache's always. */
					r->hh = *h;
					r->hd = d;
					r->held = true;
					break;
				}
			}
		}
		if (h->caplen > h->len) {
			LAB_COUNT_ADD(q->st.errors, 1);
			continue;
		}
		if (h->caplen < h->len || h->caplen == 0) {
			LAB_COUNT_ADD(q->st.truncated, 1);
			continue;
		}
		if (h->caplen > lab_rxq_room(q, bufs[k])) {
			LAB_COUNT_ADD(q->st.oversize, 1);
			continue;
		}
		lab_rxq_fill(q, bufs[k], h->caplen);
		memcpy(lab_buf_data(bufs[k]), d, h->caplen);
		bytes += h->caplen;
		r->pass_frames++;
		r->delivered++;
		k++;
	}
	return lab_rxq_done(q, bufs, got, k, bytes);
}

/* A record is one contiguous frame: a chain is copied into @p lin first
 * (the record is a copy anyway). @return its bytes, or NULL if longer than
 * @p cap (counted as oversize by the caller). */
static const uint8_t *pcap_linear(struct lab_buf *b, uint8_t *lin, uint32_t cap, uint32_t *len)
{
	*len = lab_buf_pkt_len(b);
	if (*len > cap)
		return NULL;
	lab_buf_read(b, 0, lin, *len);
	return lin;
}

static uint16_t pcap_tx(struct lab_port_queue *q, struct lab_buf **bufs, uint16_t n)
{
	static _Thread_local uint8_t lin[PCAP_LINEAR_MAX];
	struct pcap_txq *t = q->drv;
	struct pcap_pkthdr h;
	struct timespec ts;
	uint64_t bytes = 0;
	uint16_t sent = 0;

	if (t->dump != NULL) {
		clock_gettime(CLOCK_REALTIME, &ts);
		h.ts.tv_sec = ts.tv_sec;
		/* A nanosecond dumper reads tv_usec as nanoseconds. */
		h.ts.tv_usec = pcap_get_tstamp_precision(t->pc) == PCAP_TSTAMP_PRECISION_NANO
				       ? ts.tv_nsec : ts.tv_nsec / 1000;
	}
	for (; sent < n; sent++) {
		struct lab_buf *b = bufs[sent];
		const uint8_t *d = lab_buf_data(b);
		uint32_t len = b->data_len;

		if (lab_unlikely(b->next != NULL) &&
		    (d = pcap_linear(b, lin, sizeof(lin), &len)) == NULL) {
			LAB_COUNT_ADD(q->st.oversize, 1);
			continue;
		}
		if (t->live) {
			if (pcap_inject(t->pc, d, len) < 0) {
				if (errno == EAGAIN || errno == ENOBUFS)
					break; /* the socket is full: the rest stay the caller's */
				LAB_COUNT_ADD(q->st.errors, 1);
				continue;
			}
		} else if (t->dump != NULL) {
			h.caplen = h.len = len;
			pcap_dump((u_char *)t->dump, &h, d);
		}
		bytes += len;
		LAB_COUNT_ADD(q->st.packets, 1);
	}
	/* Without a tx file or interface the port is a sink: freed, counted. */
	lab_free_frames(q->owner, bufs, sent);
	LAB_COUNT_ADD(q->st.bytes, bytes);
	return sent;
}

static const struct lab_port_ops pcap_ops = {
	.name = "pcap",
	.keys = pcap_keys,
	.open = pcap_open_port,
	.close = pcap_close_port,
	.start = pcap_start,
	.stop = pcap_stop,
	.link = pcap_link,
	.rx_burst = pcap_rx,
	.tx_burst = pcap_tx,
	.rx_ring_default = 256,
	.tx_ring_default = 256,
};

LAB_PORT_DRIVER_REGISTER(pcap_ops);
