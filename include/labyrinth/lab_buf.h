/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The buffer header: the 64 bytes at the start of every pool cell, and the
 * accessors drivers and applications use on it. Allocation, freeing and
 * hand-offs are in lab_pool.h (which includes this header).
 */
#ifndef LAB_BUF_H
#define LAB_BUF_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lab_pool;

/**
 * The 64-byte header at the start of every cell (as ixy's pkt_buf). The cell
 * is [header | headroom | data room]; buf_addr points just past the header.
 */
struct lab_buf {
	void *buf_addr;        /**< start of headroom + data room */
	uint64_t buf_iova;     /**< IOVA of buf_addr */
	struct lab_pool *pool; /**< pool it belongs to */
	uint32_t idx;          /**< buffer index in the pool: chamber * per_chamber + cell */
	uint32_t buf_len;      /**< bytes from buf_addr: headroom + data room */
	uint16_t data_off;     /**< data start from buf_addr (the headroom when handed out) */
	uint16_t owner;        /**< for the holder's use (quality checks keep theirs in shadow) */
	uint32_t data_len;     /**< bytes of data */
	uint16_t port;         /**< port it arrived on or leaves by */
	uint16_t queue;        /**< queue on that port */
	uint32_t hash;         /**< RSS or flow hash, for drivers */
	uint32_t ol_flags;     /**< offload flags, for drivers */
	uint32_t udata32;      /**< for the application */
	struct lab_buf *next;  /**< next segment of the frame while held (NULL: the last);
				*   the pool's overflow link while free */
};
static_assert(sizeof(struct lab_buf) == 64, "lab_buf must be one cache line");

/** Start of the data. */
static inline void *lab_buf_data(const struct lab_buf *b)
{
	return (char *)b->buf_addr + b->data_off;
}

/** IOVA of the data. */
static inline uint64_t lab_buf_data_iova(const struct lab_buf *b)
{
	return b->buf_iova + b->data_off;
}

/** Set data_off to the headroom, data_len to 0 and clear the chain (drivers
 * call it when they fill a buffer; the pool itself never touches buffers). */
static inline void lab_buf_reset(struct lab_buf *b, uint16_t headroom)
{
	b->data_off = headroom;
	b->data_len = 0;
	b->next = NULL;
}

/*
 * Frames of several segments. A frame longer than one buffer's data room is
 * a chain of buffers linked by next, head first (as an mbuf chain, but with
 * no pkt_len or nb_segs cached in the head: the single-buffer frame, by far
 * the common one, then costs nothing to build). Every segment's data_len is
 * its own bytes, the head's included; port and queue are the head's. Free a
 * frame with lab_free_frames() (lab_pool.h), which frees every segment.
 */

/** The frame's length: the data_len of all its segments. */
static inline uint32_t lab_buf_pkt_len(const struct lab_buf *b)
{
	uint32_t len = b->data_len;

	while ((b = b->next) != NULL)
		len += b->data_len;
	return len;
}

/** The frame's number of segments (1 for a single buffer). */
static inline unsigned int lab_buf_nb_segs(const struct lab_buf *b)
{
	unsigned int n = 1;

	while ((b = b->next) != NULL)
		n++;
	return n;
}

/** The frame's last segment. */
static inline struct lab_buf *lab_buf_last_seg(struct lab_buf *b)
{
	while (b->next != NULL)
		b = b->next;
	return b;
}

/**
 * Copy the frame's bytes from @p off (at most @p len of them) to @p dst.
 * @return bytes copied (fewer than @p len when the frame ends first).
 */
uint32_t lab_buf_read(const struct lab_buf *b, uint32_t off, void *dst, uint32_t len);

#ifdef __cplusplus
}
#endif

#endif /* LAB_BUF_H */
