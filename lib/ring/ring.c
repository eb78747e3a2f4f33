/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <labyrinth/lab_ring.h>

static uint32_t slots_for(uint32_t count)
{
	uint32_t s = 1;

	while (s < count)
		s <<= 1;
	return s;
}

size_t lab_ring_memsize(uint32_t count)
{
	if (count == 0 || count > (1u << 31))
		return 0;
	return sizeof(struct lab_ring) + (size_t)slots_for(count) * sizeof(void *);
}

struct lab_ring *lab_ring_init(void *mem, uint32_t count)
{
	struct lab_ring *r = mem;

	if (count == 0 || count > (1u << 31) || mem == NULL) {
		lab_errno = EINVAL;
		return NULL;
	}
	memset(r, 0, sizeof(*r));
	r->size = slots_for(count);
	r->mask = r->size - 1;
	r->capacity = r->size;
	return r;
}

struct lab_ring *lab_ring_create(uint32_t count)
{
	size_t sz = lab_ring_memsize(count);
	void *mem;

	if (sz == 0) {
		lab_errno = EINVAL;
		return NULL;
	}
	mem = aligned_alloc(LAB_CACHE_LINE, LAB_ALIGN_UP(sz, LAB_CACHE_LINE));
	if (mem == NULL) {
		lab_errno = ENOMEM;
		return NULL;
	}
	return lab_ring_init(mem, count);
}

void lab_ring_free(struct lab_ring *r)
{
	free(r);
}
