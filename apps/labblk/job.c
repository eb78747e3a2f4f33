/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labblk's jobs: each is a thread with its own queue pair and owner cache,
 * holding iodepth buffers of the fixed pool for the whole run. A job issues
 * requests over its region (sequential or random, --rwmixread reads in the
 * mixed modes) and, under --verify, stamps what it writes and checks what it
 * reads; two requests never touch one unit at once then.
 *
 * Latency, as fio splits it: slat from the issue (lab_blk_read/write) to the
 * start of the poll that sends the request to the device, which is the time it
 * waits in the batch; clat from there to its callback (so the system call that
 * sends it is in clat, where fio's io_uring engine counts it in slat); lat
 * the two together.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <labyrinth/lab_common.h>

#include "labblk.h"

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* The verify pattern of one sector: a stamp, then generator bytes. */
static void stamp(uint8_t *p, uint32_t len, uint64_t byte_off, uint32_t seq, unsigned int job)
{
	for (uint32_t s = 0; s < len; s += SECTOR) {
		uint64_t *w = (uint64_t *)(void *)(p + s);
		uint64_t lba = (byte_off + s) / SECTOR;
		uint64_t g = (lba * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)seq << 32) ^ job ^ 1;

		w[0] = VERIFY_MAGIC;
		w[1] = lba;
		w[2] = seq;
		w[3] = job;
		for (uint32_t i = 4; i < SECTOR / 8; i++)
			w[i] = xorshift(&g);
	}
}

/* @return the first byte that differs from the pattern, or -1. */
static long check_stamp(const uint8_t *p, uint32_t len, uint64_t byte_off, uint32_t seq,
			unsigned int job)
{
	uint8_t want[SECTOR];

	for (uint32_t s = 0; s < len; s += SECTOR) {
		stamp(want, SECTOR, byte_off + s, seq, job);
		if (memcmp(want, p + s, SECTOR) != 0)
			for (uint32_t i = 0; i < SECTOR; i++)
				if (want[i] != p[s + i])
					return (long)(s + i);
	}
	return -1;
}

static void on_done(void *arg, int status)
{
	struct slot *s = arg;
	struct job *j = s->job;
	uint64_t now = lab_now_ns();
	int w = s->write;

	if (status < 0) {
		if (j->errors++ == 0)
			j->first_error = status;
	} else {
		/* What completes during --ramp_time is not in the figures. */
		if (j->counting && now >= j->count_from_ns) {
			hist_add(&j->clat[w], now - s->t_sent);
			hist_add(&j->slat[w], s->t_sent - s->t0);
			hist_add(&j->lat[w], now - s->t0);
			j->ios[w]++;
			j->bytes[w] += j->o->bs;
			/* One writer: a plain add, published for the progress line. */
			atomic_store_explicit(&j->prog_ios, j->ios[0] + j->ios[1],
					      memory_order_relaxed);
		}
		if (s->check) {
			long at = check_stamp(lab_buf_data(s->buf), j->o->bs, s->offset, s->seq, j->id);

			j->verified++;
			if (at >= 0 && j->mismatches++ < 8)
				fprintf(stderr, "labblk: verify: job %u: block at byte %llu (written "
					"as sequence %u) differs at byte %ld of the %u-byte read\n",
					j->id, (unsigned long long)s->offset, s->seq, at, j->o->bs);
		}
	}
	if (j->busy != NULL)
		j->busy[s->unit] = 0;
	j->free_slots[j->nfree++] = s;
}

static bool is_random(enum rw_mode m)
{
	return m == RW_RANDREAD || m == RW_RANDWRITE || m == RW_RANDRW;
}

/* Pick the next unit for a request: sequential, or random (under --verify,
 * one no request is on). @return false if every candidate is busy. */
static bool pick_unit(struct job *j, bool random, uint64_t *unit)
{
	uint64_t u;

	if (!random) {
		u = j->cursor;
		j->cursor = j->cursor + 1 == j->units ? 0 : j->cursor + 1;
	} else {
		u = xorshift(&j->rng) % j->units;
	}
	if (j->busy != NULL && j->busy[u]) {
		/* Probe forward a little; a full region waits for completions. */
		for (unsigned int k = 1; k <= 64 && j->busy[u]; k++)
			u = (u + 1) % j->units;
		if (j->busy[u])
			return false;
	}
	*unit = u;
	return true;
}

/* Issue one request. @return 0, -EAGAIN (nothing to do now), or an error. */
static int issue(struct job *j, struct lab_blk_qpair *qp, enum rw_mode mode, bool check_reads)
{
	const struct opts *o = j->o;
	bool write, random = is_random(mode);
	struct slot *s;
	uint64_t unit;
	int rc;

	if (j->nfree == 0)
		return -EAGAIN;
	switch (mode) {
	case RW_READ:
	case RW_RANDREAD:
		write = false;
		break;
	case RW_WRITE:
	case RW_RANDWRITE:
		write = true;
		break;
	default:
		write = xorshift(&j->rng) % 100 >= o->rwmixread;
		break;
	}
	if (!pick_unit(j, random, &unit))
		return -EAGAIN;
	s = j->free_slots[--j->nfree];
	s->unit = unit;
	s->offset = j->base + unit * o->bs;
	s->write = write;
	s->check = false;
	if (j->seq != NULL) {
		if (write) {
			s->seq = ++j->next_seq;
			j->seq[unit] = s->seq;
			stamp(lab_buf_data(s->buf), o->bs, s->offset, s->seq, j->id);
		} else {
			s->seq = j->seq[unit];
			s->check = check_reads && s->seq != 0;
		}
		j->busy[unit] = 1;
	}
	s->t0 = lab_now_ns();
	s->t_sent = 0;
	rc = write ? lab_blk_write(qp, s->buf, s->offset, o->bs, on_done, s) :
		     lab_blk_read(qp, s->buf, s->offset, o->bs, on_done, s);
	if (rc < 0) {
		if (j->busy != NULL)
			j->busy[unit] = 0;
		j->free_slots[j->nfree++] = s;
		return rc;
	}
	j->unsent[j->nunsent++] = s;
	j->issued++;
	return 0;
}

/* Stamp what this poll sends, then poll. */
static void job_poll(struct job *j, struct lab_blk_qpair *qp)
{
	if (j->nunsent != 0) {
		uint64_t now = lab_now_ns();

		for (uint32_t i = 0; i < j->nunsent; i++)
			j->unsent[i]->t_sent = now;
		j->nunsent = 0;
	}
	lab_blk_poll(qp, 0);
}

/* --rate_iops: may the workload issue one more now? The allowance grows
 * with the time since the phase began; no sleep, the loop keeps polling. */
static bool rate_allows(const struct job *j, uint64_t phase_start_ns, uint64_t done)
{
	double allowed;

	if (j->o->rate_iops == 0 || !j->counting)
		return true;
	allowed = (double)(lab_now_ns() - phase_start_ns) * 1e-9 * (double)j->o->rate_iops + 1;
	return (double)done < allowed;
}

/* Run @p mode until @p budget requests (0: until stop) are issued and done. */
static int run_phase(struct job *j, struct lab_blk_qpair *qp, enum rw_mode mode, uint64_t budget,
		     bool check_reads, bool timed)
{
	uint64_t start = j->issued, t_start = lab_now_ns();
	int rc = 0;

	for (;;) {
		bool more = timed ? !atomic_load_explicit(j->stop, memory_order_relaxed) :
				    j->issued - start < budget;

		while (more && rate_allows(j, t_start, j->issued - start) &&
		       (rc = issue(j, qp, mode, check_reads)) == 0)
			more = timed || j->issued - start < budget;
		if (rc < 0 && rc != -EAGAIN) {
			fprintf(stderr, "labblk: %s job %u: submit refused (%s): stopping\n",
				j->o->name, j->id, strerror(-rc));
			break;
		}
		job_poll(j, qp);
		if (!more && lab_blk_outstanding(qp) == 0)
			break;
	}
	while (lab_blk_outstanding(qp) != 0)
		job_poll(j, qp);
	return rc < 0 && rc != -EAGAIN ? rc : 0;
}

void *job_main(void *arg)
{
	struct job *j = arg;
	const struct opts *o = j->o;
	struct lab_blk_qpair *qp;
	struct lab_buf **bufs;
	struct lab_cache *c;
	uint32_t n = o->iodepth;

	c = lab_cache_create(j->pool, "labblk", n < LAB_BURST_MAX ? n : LAB_BURST_MAX);
	qp = c != NULL ? lab_blk_qpair_create(j->dev, n, j->pool) : NULL;
	bufs = calloc(n, sizeof(*bufs));
	j->slots = calloc(n, sizeof(*j->slots));
	j->free_slots = calloc(n, sizeof(*j->free_slots));
	j->unsent = calloc(n, sizeof(*j->unsent));
	if (qp == NULL || bufs == NULL || j->slots == NULL || j->free_slots == NULL ||
	    j->unsent == NULL) {
		fprintf(stderr, "labblk: job %u: cannot make its queue pair or cache: %s\n", j->id,
			strerror(lab_errno ? lab_errno : ENOMEM));
		j->failed = true;
		goto out;
	}
	for (uint32_t got = 0; got < n;) {
		unsigned int k = lab_alloc_bulk(j->pool, c, bufs + got,
						n - got < LAB_BURST_MAX ? n - got : LAB_BURST_MAX, 0);

		if (k == 0) {
			fprintf(stderr, "labblk: job %u: the pool gave %u of %u buffers\n", j->id,
				got, n);
			lab_free_bulk(c, bufs, got);
			j->failed = true;
			goto out;
		}
		got += k;
	}
	for (uint32_t i = 0; i < n; i++) {
		j->slots[i] = (struct slot){ .job = j, .buf = bufs[i] };
		j->free_slots[j->nfree++] = &j->slots[i];
	}
	if (o->verify && is_read_mode(o->rw))
		j->refused = run_phase(j, qp, RW_WRITE, j->units, false, false);
	j->cursor = 0;
	/* Only the workload counts, not the prefill before it or the read-back after. */
	j->counting = true;
	if (j->refused == 0)
		j->refused = run_phase(j, qp, o->rw, j->budget, o->verify, o->runtime > 0);
	j->counting = false;
	if (o->verify && !is_read_mode(o->rw) && j->refused == 0) {
		/* Read back every unit written, checking it. */
		j->cursor = 0;
		j->refused = run_phase(j, qp, RW_READ, j->units, true, false);
	}
	lab_blk_qpair_stats(qp, &j->qst);
	lab_free_bulk(c, bufs, n);
out:
	if (qp != NULL)
		lab_blk_qpair_destroy(qp);
	if (c != NULL)
		lab_cache_destroy(c);
	free(bufs);
	return NULL;
}
