/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the vhost port's walk of a peer's virtqueue
 * (drivers/net/vhost/vhost_vq.c). The peer's memory is two regions of
 * heap (so ASan sees any access outside them): A, 4 KiB at guest address
 * 0x10000, holding the ring (descriptors at 0, avail at 256, used at 512)
 * and buffers; B, 1 KiB at 0x20000, more buffers. The input is [ring size
 * (1 byte: 1 << (b % 5))] [directions (1 byte, a bit per step: read = the
 * peer's TX, write = its RX)] [region A's bytes, then region B's]. Up to 32
 * chains are walked, as the RX and TX bursts do. Promises: no crash and no
 * access outside the regions or our buffer; a frame read is no longer than
 * the buffer; a walk that fails stops the queue with a reason; a stopped
 * queue gives nothing more; the used index moves once per chain returned.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../drivers/net/vhost/vhost_internal.h"
#include "fuzz_common.h"

#define A_LEN 4096u
#define B_LEN 1024u
#define A_GPA 0x10000u
#define B_GPA 0x20000u
#define CAP 256u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *a = calloc(1, A_LEN), *b = calloc(1, B_LEN), *dst = malloc(CAP);
	struct vh_mem m = { .n = 2 };
	const char *why = NULL;
	struct vh_vq v;
	uint8_t dirs;
	uint16_t used0;

	fuzz_quiet();
	FUZZ_CHECK(a != NULL && b != NULL && dst != NULL);
	if (size < 2)
		goto out;
	m.r[0] = (struct vh_region){ .gpa = A_GPA, .uva = A_GPA, .size = A_LEN, .va = a };
	m.r[1] = (struct vh_region){ .gpa = B_GPA, .uva = B_GPA, .size = B_LEN, .va = b };
	vh_vq_init(&v);
	v.num = 1u << (data[0] % 5);
	dirs = data[1];
	memcpy(a, data + 2, size - 2 < A_LEN ? size - 2 : A_LEN);
	if (size - 2 > A_LEN)
		memcpy(b, data + 2 + A_LEN, size - 2 - A_LEN < B_LEN ? size - 2 - A_LEN : B_LEN);
	v.desc_uva = A_GPA;
	v.avail_uva = A_GPA + 256;
	v.used_uva = A_GPA + 512;
	v.addr_set = v.started = v.enabled = true;
	FUZZ_CHECK(vh_vq_activate(&v, &m, &why) == 0);
	FUZZ_CHECK(atomic_load(&v.live));
	used0 = v.used_idx;
	for (unsigned int step = 0; step < 32; step++) {
		uint16_t head, before = v.used_idx;
		uint32_t len = 0;
		int rc;

		if (!vh_vq_enter(&v))
			break;
		rc = vh_vq_next(&v, &head);
		if (rc <= 0) {
			FUZZ_CHECK(rc == 0 || (atomic_load(&v.broken) != NULL && !atomic_load(&v.live)));
			vh_vq_leave(&v);
			break;
		}
		FUZZ_CHECK(head < v.num);
		if (dirs & (1u << (step % 8)))
			rc = vh_vq_write(&v, head, dst, CAP / 2, &len);
		else
			rc = vh_vq_read(&v, head, dst, CAP, &len);
		FUZZ_CHECK(rc == 0 || rc == -EMSGSIZE || rc == -EINVAL || rc == -EBADMSG);
		if (rc == -EBADMSG) {
			FUZZ_CHECK(atomic_load(&v.broken) != NULL && !atomic_load(&v.live));
			vh_vq_leave(&v);
			break;
		}
		if (rc == 0 && !(dirs & (1u << (step % 8))))
			FUZZ_CHECK(len <= CAP);
		vh_vq_used(&v, head, len);
		vh_vq_flush(&v);
		vh_vq_leave(&v);
		FUZZ_CHECK((uint16_t)(v.used_idx - before) == 1);
	}
	FUZZ_CHECK((uint16_t)(v.used_idx - used0) <= 32);
	vh_vq_reset(&v);
out:
	free(a);
	free(b);
	free(dst);
	return 0;
}
