/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared checks for the arena suites (fallback and hugepage). */
#ifndef ARENA_HELPERS_H
#define ARENA_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <labyrinth/lab_arena.h>
#include <labyrinth/lab_log.h>

#include "../lab_test.h"

#define log_capture lab_test_log_capture
#define log_text lab_test_log_text
#define log_release lab_test_log_release

/* Physical address of @p va straight from pagemap, independent of the arena code. */
static inline int test_pa(const void *va, uint64_t *pa)
{
	uint64_t ent;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	ssize_t n = pread(fd, &ent, 8, (off_t)((uintptr_t)va / 4096) * 8);

	close(fd);
	if (n != 8 || !(ent & (1ULL << 63)) || (ent & ((1ULL << 55) - 1)) == 0)
		return -1;
	*pa = (ent & ((1ULL << 55) - 1)) * 4096 + (uintptr_t)va % 4096;
	return 0;
}

/*
 * Carve every chamber and check each cell: inside its chamber, inside one
 * IOVA-contiguous unit, aligned, its IOVA range contiguous (checked against
 * pagemap in pa mode, byte by page), and writable. Returns the cells checked.
 */
static inline unsigned long check_all_cells(struct lab_arena *a, size_t cell, size_t align)
{
	struct lab_cell_layout l;
	struct lab_chamber_info ci;
	unsigned long n = 0;
	bool pa = lab_arena_iova_mode(a) == LAB_IOVA_PA;

	CU_ASSERT_EQUAL_FATAL(lab_arena_layout(a, cell, align, &l), 0);
	CU_ASSERT(l.per_chamber > 0);
	for (unsigned int ch = 0; ch < lab_arena_chamber_slots(a); ch++) {
		if (lab_arena_chamber(a, ch, &ci) < 0)
			continue;
		for (unsigned int c = 0; c < l.per_chamber; c++) {
			uint64_t iova, real;
			char *va = lab_arena_cell(a, &l, ch, c, &iova);
			size_t off = (size_t)(va - (char *)ci.va);

			CU_ASSERT_PTR_NOT_NULL_FATAL(va);
			CU_ASSERT(off + cell <= ci.len);
			CU_ASSERT_EQUAL(off / l.unit, (off + cell - 1) / l.unit);
			CU_ASSERT_EQUAL((uintptr_t)va % align, 0);
			CU_ASSERT_EQUAL(lab_arena_iova(a, va), iova);
			for (size_t b = 0; b < cell; b += 4096) {
				size_t step = b + 4096 <= cell ? b : cell - 1;

				CU_ASSERT_EQUAL(lab_arena_iova(a, va + step), iova + step);
				if (pa && test_pa(va + step, &real) == 0)
					CU_ASSERT_EQUAL(real, iova + step);
			}
			va[0] = (char)c;
			va[cell - 1] = (char)c;
			n++;
		}
		CU_ASSERT_PTR_NULL(lab_arena_cell(a, &l, ch, l.per_chamber, NULL));
	}
	return n;
}

#endif
