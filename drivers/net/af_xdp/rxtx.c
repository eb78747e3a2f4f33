/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * af_xdp's data path: the RX and TX bursts and the rings behind them.
 *
 * RX: the fill ring is kept at ring_size posted buffers with lab_alloc_bulk on
 * the atomic path (a short refill counts rx_nobuf once per missing buffer and
 * is retried on the next poll). A received descriptor is its buffer, handed to
 * the caller as is: labyrinth copies nothing. In copy mode (drivers without
 * zero-copy, such as veth) the kernel copies the frame into that buffer; in
 * zero-copy mode the NIC writes it there.
 *
 * TX: a buffer's data is posted as a descriptor (no copy); the buffer stays
 * held by the TX queue's owner until the completion ring gives it back, and is
 * freed then. Completions are reaped at the start of each TX burst. A frame
 * of several buffers (a chain) is not sent: dropped, counted as oversize.
 */
#include <errno.h>
#include <sys/socket.h>

#include "af_xdp_internal.h"

/* Keep target buffers with the kernel (atomic path, never blocks). */
void afx_rx_refill(struct lab_port_queue *q, struct afx_sock *s)
{
	struct afx_rx *r = &s->r;
	struct lab_buf *bufs[AFX_BATCH];
	uint32_t want = r->target - r->nposted;

	while (want != 0) {
		uint32_t n = want < AFX_BATCH ? want : AFX_BATCH, got, room, idx;

		got = lab_alloc_bulk(q->pool, q->owner, bufs, n, LAB_ALLOC_ATOMIC);
		room = got ? xsk_ring_prod__reserve(&r->fill, got, &idx) : 0;
		if (lab_unlikely(room < got)) {
			/* Cannot happen while nposted <= ring size; stay whole if it does. */
			lab_free_bulk(q->owner, bufs + room, got - room);
			got = room;
		}
		for (uint32_t i = 0; i < got; i++) {
			*xsk_ring_prod__fill_addr(&r->fill, idx + i) = umem_off(s->ap, bufs[i]->buf_addr);
			r->posted[bufs[i]->idx] = bufs[i];
		}
		if (got != 0)
			xsk_ring_prod__submit(&r->fill, got);
		r->nposted += got;
		want -= got;
		if (got < n)
			break;
	}
	lab_rxq_set_short(q, want);
}

uint16_t afx_rx(struct lab_port_queue *q, struct lab_buf **bufs, uint16_t n)
{
	struct afx_sock *s = q->drv;
	struct afx_rx *r = &s->r;
	uint32_t idx, got = xsk_ring_cons__peek(&r->rx, n, &idx);
	uint64_t bytes = 0;
	uint16_t k = 0;

	for (uint32_t i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&r->rx, idx + i);
		uint64_t chunk = xsk_umem__extract_addr(d->addr);
		uint64_t off = xsk_umem__extract_offset(d->addr);
		struct lab_buf *b = posted_take(s->ap, r->posted, chunk);

		if (lab_unlikely(b == NULL)) {
			LAB_COUNT_ADD(q->st.errors, 1); /* not a buffer we gave the kernel */
			continue;
		}
		r->nposted--;
		if (lab_unlikely(off + d->len > b->buf_len)) {
			LAB_COUNT_ADD(q->st.errors, 1);
			lab_free_bulk(q->owner, &b, 1);
			continue;
		}
		lab_rxq_fill(q, b, d->len);
		b->data_off = (uint16_t)off;
		bytes += d->len;
		bufs[k++] = b;
	}
	if (got != 0)
		xsk_ring_cons__release(&r->rx, got);
	afx_rx_refill(q, s);
	/* In copy mode, and for zero-copy drivers that sleep, the kernel asks
	 * to be woken when it finds the fill ring empty: only then a call. */
	if (k == 0 && xsk_ring_prod__needs_wakeup(&r->fill))
		(void)recvfrom(s->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	LAB_COUNT_ADD(q->st.packets, k);
	LAB_COUNT_ADD(q->st.bytes, bytes);
	return k;
}

/* Free what the kernel has finished sending. */
void afx_tx_reap(struct lab_port_queue *q, struct afx_sock *s)
{
	struct afx_tx *t = &s->t;
	struct lab_buf *done[AFX_BATCH];
	uint32_t idx, got;

	while ((got = xsk_ring_cons__peek(&t->comp, AFX_BATCH, &idx)) != 0) {
		uint32_t k = 0;

		for (uint32_t i = 0; i < got; i++) {
			uint64_t a = *xsk_ring_cons__comp_addr(&t->comp, idx + i);
			struct lab_buf *b = posted_take(s->ap, t->posted,
							xsk_umem__extract_addr(a));

			if (lab_likely(b != NULL))
				done[k++] = b;
			else
				LAB_COUNT_ADD(q->st.errors, 1);
		}
		xsk_ring_cons__release(&t->comp, got);
		t->nposted -= k;
		lab_free_bulk(q->owner, done, k);
	}
}

uint16_t afx_tx(struct lab_port_queue *q, struct lab_buf **bufs, uint16_t n)
{
	struct afx_sock *s = q->drv;
	struct afx_tx *t = &s->t;
	const struct afx_port *ap = s->ap;
	uint64_t bytes = 0, ok = 0;
	uint32_t idx, room;
	uint16_t i;

	afx_tx_reap(q, s);
	room = xsk_ring_prod__reserve(&t->tx, n, &idx);
	for (i = 0; i < room; i++) {
		struct lab_buf *b = bufs[i];
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&t->tx, idx + (uint32_t)ok);
		bool in_umem = (uint8_t *)b->buf_addr >= ap->base &&
			       umem_off(ap, b->buf_addr) + ap->chunk <= ap->len;

		if (lab_unlikely(!in_umem || b->data_off + b->data_len > ap->chunk ||
				 b->next != NULL)) {
			/* Not a chunk of the UMEM, data past the end of its chunk,
			 * or a chain: one descriptor is one chunk here (the
			 * kernel's multi-buffer XDP_PKT_CONTD is not used), so a
			 * frame over several buffers cannot go; dropped whole. */
			if (in_umem)
				LAB_COUNT_ADD(q->st.oversize, 1);
			else
				LAB_COUNT_ADD(q->st.errors, 1);
			lab_free_frames(q->owner, &b, 1);
			continue;
		}
		/* Unaligned mode: chunk in the low 48 bits, data offset above. */
		d->addr = umem_off(ap, b->buf_addr) |
			  ((uint64_t)b->data_off << XSK_UNALIGNED_BUF_OFFSET_SHIFT);
		d->len = b->data_len;
		d->options = 0;
		t->posted[b->idx] = b;
		bytes += b->data_len;
		ok++;
	}
	/* Hand back reservations that dropped buffers did not use. */
	t->tx.cached_prod -= room - (uint32_t)ok;
	if (ok != 0) {
		xsk_ring_prod__submit(&t->tx, (uint32_t)ok);
		t->nposted += (uint32_t)ok;
		if (xsk_ring_prod__needs_wakeup(&t->tx) &&
		    sendto(s->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN &&
		    errno != EBUSY && errno != ENOBUFS && errno != ENETDOWN)
			LAB_COUNT_ADD(q->st.errors, 1);
	}
	LAB_COUNT_ADD(q->st.packets, ok);
	LAB_COUNT_ADD(q->st.bytes, bytes);
	return (uint16_t)room;
}
