/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The driver side of pools: external pools, whose cells live in memory their
 * creator owns and lays out (the DPDK mempool driver's objects), and the
 * warden's thread spawner. An application that only allocates and frees
 * needs lab_pool.h alone.
 */
#ifndef LAB_POOL_DRIVER_H
#define LAB_POOL_DRIVER_H

#include <pthread.h>
#include <stdint.h>

#include <labyrinth/lab_pool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes of redzone the pool keeps after every buffer's room. */
#define LAB_POOL_REDZONE 64u

/**
 * Create an external pool: the pool's ring, watermarks, warden, shadow and
 * quality levels over cells in memory its creator owns and lays out (the DPDK
 * mempool driver's objects). Cells arrive with lab_pool_add_cells(); nothing
 * grows or shrinks. A cell is [64-byte struct lab_buf | ... | room (@p room_len
 * bytes at @p room_off from the header) | LAB_POOL_REDZONE bytes]; quality
 * checks poison and check the room and the redzone only, and check the
 * header's fixed fields. Control path.
 *
 * @param o         as for lab_pool_create(); @c max is the number of cells,
 *                  watermarks in percent are of it; cell_size, headroom,
 *                  initial, page_size, iova_mode, numa_node, hugepages unused
 * @param room_off  room offset from the header (>= 64)
 * @param room_len  room bytes (0: no room checks, the redzone follows room_off)
 * @return the pool (empty), or NULL with lab_errno EINVAL (message) or ENOMEM.
 */
struct lab_pool *lab_pool_create_external(const struct lab_pool_opts *o, uint32_t room_off,
					  uint32_t room_len);

/**
 * Add @p n cells at @p va, @p stride bytes apart, to an external pool and free
 * them. The pool writes each cell's header (buf_addr = cell + room_off,
 * buf_iova = @p iova + i * stride + room_off, or UINT64_MAX if @p iova is),
 * shadow entry and redzone. Control path.
 *
 * @return 0; -EINVAL (unaligned, or a stride smaller than header + room +
 *         redzone), -ENOSPC (more cells than max), -EEXIST (overlaps cells
 *         added before), -ENOMEM.
 */
int lab_pool_add_cells(struct lab_pool *p, void *va, uint64_t iova, uint32_t stride, uint32_t n);

/** Called by lab_pool_add_cells_paged() for a new cell, @p off bytes from its @c va. */
typedef void lab_cell_cb(struct lab_buf *cell, uint64_t off, void *arg);

/**
 * lab_pool_add_cells() for cells that must not cross a page: @p per_page cells
 * @p stride bytes apart from @p va, the next @p per_page from @p va +
 * @p page_bytes, and so on (the last page may hold fewer). One call, one run
 * of bookkeeping, whatever the page count: a DPDK mempool on 4 KiB pages holds
 * one mbuf per page. @p iova is the IOVA of @p va, linear over the run.
 * If @p cb is not NULL it is called for each cell, after the pool wrote its
 * header and before the cell is free (so the owner's own initialisation, a
 * DPDK obj_cb, touches the cell while it is still in cache). Control path.
 * lab_pool_add_cells() is this with every cell on one page and no callback.
 *
 * @return as lab_pool_add_cells(); -EINVAL also when @p per_page is 0 or
 *         @p per_page cells do not fit in @p page_bytes.
 */
int lab_pool_add_cells_paged(struct lab_pool *p, void *va, uint64_t iova, uint32_t stride,
			     uint32_t n, uint32_t per_page, uint64_t page_bytes,
			     lab_cell_cb *cb, void *cb_arg);

/**
 * Buffers not in flight: free, on the overflow list or in quarantine (owner
 * caches not included). Exact at quiet points; no lock.
 */
uint64_t lab_pool_available(const struct lab_pool *p);

/**
 * Compare the buffers in flight with what the owner knows it holds (such as a
 * mempool's per-lcore caches); log the excess as a warning, with the holders
 * and allocation sites. Control path.
 *
 * @return buffers in flight beyond @p expected.
 */
uint64_t lab_pool_check_in_flight(struct lab_pool *p, uint64_t expected);

/**
 * Destroy an external pool without touching its cells (their memory may be
 * gone already) and without waiting for buffers in flight. Control path.
 */
void lab_pool_destroy_external(struct lab_pool *p);

/** How the warden thread is started: like pthread_create plus a name, returning 0 or
 * a negative errno. */
typedef int (*lab_thread_spawn_fn)(pthread_t *tid, const char *name, void *(*fn)(void *),
				   void *arg);

/**
 * Start the warden with @p fn instead of pthread_create (a DPDK application's
 * control thread: rte_ctrl_thread_create). NULL restores pthread_create.
 * Takes effect the next time the warden starts (with the first pool).
 */
void lab_warden_set_spawner(lab_thread_spawn_fn fn);

#ifdef __cplusplus
}
#endif

#endif /* LAB_POOL_DRIVER_H */
