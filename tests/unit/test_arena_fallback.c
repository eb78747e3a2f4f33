/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The arena on ordinary 4 KiB pages: the fallback every machine has. These
 * tests always run, hugepages or not.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arena_helpers.h"

static struct lab_arena *make(size_t page, unsigned int flags, enum lab_iova_mode mode,
			      unsigned int max)
{
	struct lab_arena_opts o;

	lab_arena_opts_init(&o);
	o.name = "fb";
	o.page_size = page;
	o.flags = flags;
	o.iova_mode = mode;
	o.max_chambers = max;
	return lab_arena_create(&o);
}

static void test_fallback_by_option(void)
{
	struct lab_arena_stats st;
	struct lab_arena *a;

	log_capture();
	a = make(0, LAB_ARENA_F_NO_HUGE, LAB_IOVA_AUTO, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_FALSE(lab_arena_is_huge(a));
	CU_ASSERT_EQUAL(lab_arena_iova_mode(a), LAB_IOVA_VA);
	CU_ASSERT_EQUAL(lab_arena_page_size(a), 2 * LAB_MIB);
	lab_arena_stats(a, &st);
	CU_ASSERT_EQUAL(st.chambers, 1);
	CU_ASSERT_EQUAL(st.bytes, 2 * LAB_MIB);
	CU_ASSERT_EQUAL(st.max_chambers, LAB_ARENA_DEFAULT_MAX_CHAMBERS);
	/* Asked for explicitly, so no notice. */
	CU_ASSERT_PTR_NULL(strstr(log_text(), "falling back"));
	lab_arena_destroy(a);
	log_release();
}

/* Under valgrind and TSan a 1 GiB-chamber arena cannot reserve its address
 * space (max chambers x 1 GiB: more than either tool's memory map takes);
 * the release and ASan builds run these. */
static bool tool_limits_address_space(const char *test)
{
	const char *t = getenv("LAB_SANITIZER");

	if (t == NULL || (strcmp(t, "memcheck") != 0 && strcmp(t, "tsan") != 0))
		return false;
	printf("\n    note: %s not run under %s (a 1 GiB-chamber arena reserves more address "
	       "space than the tool maps)\n", test, t);
	return true;
}

/* Where no 1 GiB page is free (scripts/hugepages.sh leaves that pool alone,
 * usually at 0), a 1 GiB arena shows the real fallback path and its one-line
 * notice. */
static void test_fallback_notice_without_hugepages(void)
{
	/* Free pages, not reserved ones: pages another program holds do not
	 * make this arena huge. */
	long total = lab_test_read_long("/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages");
	struct lab_arena *a;
	const char *nl;

	if (tool_limits_address_space(__func__))
		return;
	log_capture();
	a = make(LAB_GIB, 0, LAB_IOVA_AUTO, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	if (total > 0) {
		fprintf(stderr, "note: %ld 1 GiB pages free; checking the huge path\n", total);
		CU_ASSERT_TRUE(lab_arena_is_huge(a));
	} else {
		CU_ASSERT_FALSE(lab_arena_is_huge(a));
		CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "no 1 GiB hugepages"));
		CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "falling back to 4 KiB pages"));
		/* The advice names the 1 GiB pool, not the default 2 MiB one. */
		LAB_TEST_HAS(log_text(), "hugepages-1048576kB/nr_hugepages");
		CU_ASSERT_PTR_NULL(strstr(log_text(), "/proc/sys/vm/nr_hugepages"));
		CU_ASSERT_PTR_NULL(strstr(log_text(), "echo 256"));
		nl = strchr(log_text(), '\n');
		CU_ASSERT(nl != NULL && nl[1] == '\0'); /* exactly one line */
	}
	lab_arena_destroy(a);
	log_release();
}

static void test_huge_only_fails_clearly(void)
{
	long total = lab_test_read_long("/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages");
	struct lab_arena *a;

	if (total > 0) {
		fprintf(stderr, "note: 1 GiB pages reserved; -ENOMEM path covered by the "
			"hugepage suite\n");
		return;
	}
	if (tool_limits_address_space(__func__))
		return;
	log_capture();
	lab_errno = 0;
	a = make(LAB_GIB, LAB_ARENA_F_HUGE_ONLY, LAB_IOVA_AUTO, 0);
	CU_ASSERT_PTR_NULL(a);
	CU_ASSERT_EQUAL(lab_errno, ENOMEM);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "1 GiB hugepage chamber"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "asked for 1 page, 0 of 0 free"));
	log_release();
}

static void test_cells_va(void)
{
	struct lab_arena *a = make(0, LAB_ARENA_F_NO_HUGE, LAB_IOVA_VA, 0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT(lab_arena_grow(a) >= 0);
	CU_ASSERT(lab_arena_grow(a) >= 0);
	CU_ASSERT_EQUAL(check_all_cells(a, 2176, 64), 3 * (2 * LAB_MIB / 2176));
	CU_ASSERT_EQUAL(check_all_cells(a, 9000, 128), 3 * (2 * LAB_MIB / 9088));
	CU_ASSERT_EQUAL(check_all_cells(a, 64, 64), 3 * (2 * LAB_MIB / 64));
	lab_arena_destroy(a);
}

static void test_cells_pa(void)
{
	struct lab_cell_layout l;
	struct lab_arena *a;
	uint64_t pa;
	int probe = 0;

	log_capture();
	a = make(0, LAB_ARENA_F_NO_HUGE, LAB_IOVA_PA, 0);
	if (test_pa(&probe, &pa) != 0) {
		/* Not allowed to see PFNs: pa must be refused, clearly. */
		CU_ASSERT_PTR_NULL(a);
		CU_ASSERT_EQUAL(lab_errno, EPERM);
		CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "use iova=va"));
		log_release();
		return;
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(lab_arena_iova_mode(a), LAB_IOVA_PA);
	CU_ASSERT(lab_arena_grow(a) >= 0);
	/* 4 KiB pages are not physically contiguous: a cell must fit in one. */
	CU_ASSERT_EQUAL(lab_arena_layout(a, 2176, 64, &l), 0);
	CU_ASSERT_EQUAL(l.unit, 4096);
	CU_ASSERT_EQUAL(l.per_chamber, 512);
	CU_ASSERT_EQUAL(check_all_cells(a, 2176, 64), 2 * 512);
	CU_ASSERT_EQUAL(lab_arena_layout(a, 5000, 64, &l), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "does not fit the 4096-byte"));
	lab_arena_destroy(a);
	log_release();
}

static long vm_bytes(void)
{
	long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%ld", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return pages * sysconf(_SC_PAGESIZE);
}

/*
 * Address space is reserved for every chamber at create, so an address-space
 * limit (RLIMIT_AS) stops a create that cannot reserve, with a message, and
 * never a grow of an arena that exists. (Chamber mapping failures are real
 * only for hugepages: arena_huge runs the pool dry.)
 */
static void test_address_space_reserved_at_create(void)
{
	struct lab_arena *a = make(0, LAB_ARENA_F_NO_HUGE, LAB_IOVA_VA, 8), *big;
	struct lab_arena_opts o;
	struct rlimit old, lim;
	int rc = 0, grown = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	log_capture();
	log_text();
	CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_AS, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)vm_bytes() + 16 * LAB_MIB;
	CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_AS, &lim), 0);
	lab_arena_opts_init(&o);
	o.name = "big";
	o.max_chambers = 64; /* 128 MiB of address space: over the limit */
	o.flags = LAB_ARENA_F_NO_HUGE;
	big = lab_arena_create(&o);
	CU_ASSERT_PTR_NULL(big);
	CU_ASSERT_EQUAL(lab_errno, ENOMEM);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "arena 'big': cannot reserve 134217728 bytes "
					      "of address space for 64 chambers"));
	/* The existing arena grows to its limit under the same RLIMIT_AS. */
	while (grown < 100 && (rc = lab_arena_grow(a)) >= 0)
		grown++;
	CU_ASSERT_EQUAL(rc, -ENOSPC);
	CU_ASSERT_EQUAL(grown, 7);
	CU_ASSERT_EQUAL(lab_arena_release(a, 1), 0);
	CU_ASSERT_EQUAL(lab_arena_grow(a), 1);
	CU_ASSERT_EQUAL(setrlimit(RLIMIT_AS, &old), 0);
	CU_ASSERT(check_all_cells(a, 2048, 64) > 0);
	log_release();
	lab_arena_destroy(a);
}

static void test_chamber_limit(void)
{
	struct lab_arena_stats st;
	struct lab_arena *a = make(0, LAB_ARENA_F_NO_HUGE, LAB_IOVA_AUTO, 2);

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	log_capture();
	CU_ASSERT_EQUAL(lab_arena_grow(a), 1);
	CU_ASSERT_EQUAL(lab_arena_grow(a), -ENOSPC);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "limit of 2 chambers"));
	lab_arena_stats(a, &st);
	CU_ASSERT_EQUAL(st.chambers, 2);
	CU_ASSERT_EQUAL(st.grow_failures, 1);
	CU_ASSERT_EQUAL(st.grows, 2);
	log_release();
	lab_arena_destroy(a);
}

static void test_release_and_lookup(void)
{
	struct lab_arena *a = make(0, LAB_ARENA_F_NO_HUGE, LAB_IOVA_AUTO, 8);
	struct lab_chamber_info ci;
	int local = 0;
	char *va1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(lab_arena_grow(a), 1);
	CU_ASSERT_EQUAL(lab_arena_grow(a), 2);
	CU_ASSERT_EQUAL(lab_arena_chamber(a, 1, &ci), 0);
	va1 = ci.va;
	CU_ASSERT_EQUAL(lab_arena_find(a, va1 + 100), 1);
	CU_ASSERT_EQUAL(lab_arena_iova(a, va1 + 100), ci.iova + 100);
	CU_ASSERT_EQUAL(lab_arena_iova(a, &local), LAB_IOVA_BAD);
	CU_ASSERT_EQUAL(lab_arena_find(a, &local), -ENOENT);
	CU_ASSERT_EQUAL(lab_arena_release(a, 1), 0);
	CU_ASSERT_EQUAL(lab_arena_release(a, 1), -ENOENT);
	CU_ASSERT_EQUAL(lab_arena_release(a, 8), -EINVAL);
	CU_ASSERT_EQUAL(lab_arena_chamber(a, 1, &ci), -ENOENT);
	CU_ASSERT_EQUAL(lab_arena_chamber(a, 99, &ci), -EINVAL);
	CU_ASSERT_EQUAL(lab_arena_find(a, va1 + 100), -ENOENT);
	CU_ASSERT_EQUAL(lab_arena_chamber_slots(a), 3);
	/* The freed slot is reused first. */
	CU_ASSERT_EQUAL(lab_arena_grow(a), 1);
	CU_ASSERT_EQUAL(lab_arena_grow(a), 3);
	/* Chambers sit side by side in the reserved span. */
	{
		void *base;
		size_t len;

		lab_arena_span(a, &base, &len);
		CU_ASSERT_EQUAL(len, 8 * lab_arena_page_size(a));
		CU_ASSERT_EQUAL((uintptr_t)base % lab_arena_page_size(a), 0);
		for (unsigned int i = 0; i < 4; i++) {
			CU_ASSERT_EQUAL_FATAL(lab_arena_chamber(a, i, &ci), 0);
			CU_ASSERT_PTR_EQUAL(ci.va, (char *)base + i * lab_arena_page_size(a));
			CU_ASSERT_EQUAL(lab_arena_find(a, (char *)ci.va + ci.len - 1), (int)i);
		}
		CU_ASSERT_EQUAL(lab_arena_find(a, (char *)base + len), -ENOENT);
		CU_ASSERT_EQUAL(lab_arena_find(a, (char *)base - 1), -ENOENT);
	}
	lab_arena_destroy(a);
	lab_arena_destroy(NULL);
}

static void test_bad_options(void)
{
	struct lab_arena_opts o;

	log_capture();
	lab_arena_opts_init(&o);
	o.page_size = 4096;
	CU_ASSERT_PTR_NULL(lab_arena_create(&o));
	CU_ASSERT_EQUAL(lab_errno, EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "page size 4096 is not supported"));

	lab_arena_opts_init(&o);
	o.initial_chambers = 5;
	o.max_chambers = 2;
	CU_ASSERT_PTR_NULL(lab_arena_create(&o));
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "initial_chambers 5 exceeds max_chambers 2"));

	lab_arena_opts_init(&o);
	o.size = 0;
	CU_ASSERT_PTR_NULL(lab_arena_create(&o));
	CU_ASSERT_EQUAL(lab_errno, EINVAL);

	lab_arena_opts_init(&o);
	o.name = "a/b";
	CU_ASSERT_PTR_NULL(lab_arena_create(&o));
	CU_ASSERT_EQUAL(lab_errno, EINVAL);

	lab_arena_opts_init(&o);
	o.iova_mode = (enum lab_iova_mode)9;
	CU_ASSERT_PTR_NULL(lab_arena_create(&o));
	CU_ASSERT_EQUAL(lab_errno, EINVAL);

	lab_arena_opts_init(&o);
	o.numa_node = 4000;
	CU_ASSERT_PTR_NULL(lab_arena_create(&o));
	CU_ASSERT(lab_errno == EINVAL || lab_errno == ENOTSUP);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "NUMA node 4000"));
	log_release();
}

static void test_numa_placement(void)
{
	struct lab_chamber_info ci;
	struct lab_arena_opts o;
	struct lab_arena *a;

	lab_arena_opts_init(&o);
	o.flags = LAB_ARENA_F_NO_HUGE;
	o.numa_node = 0;
	a = lab_arena_create(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(lab_arena_chamber(a, 0, &ci), 0);
#ifdef LAB_HAVE_NUMA
	CU_ASSERT_EQUAL(ci.numa_node, 0);
#else
	CU_ASSERT_EQUAL(ci.numa_node, -1);
#endif
	lab_arena_destroy(a);
}

/* What a vhost-user peer does with a region: map it from the descriptor, in
 * another process, and write there. @return what the child's exit says:
 * true if it mapped the region and wrote @p byte at @p at. */
static bool peer_writes(const struct lab_mem_region *r, size_t at, uint8_t byte)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		uint8_t *m = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd,
				  (off_t)r->offset);

		if (m == MAP_FAILED)
			_exit(1);
		m[at] = byte;
		_exit(0);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

/* A shared arena on 4 KiB pages (a plain memfd): its chambers are regions of
 * one file another process maps and writes into; adjacent chambers are one
 * region, a released one splits it; its file goes with the arena. */
static void test_shared_regions(void)
{
	struct lab_mem_region r[4];
	struct lab_chamber_info ci;
	struct lab_arena_opts o;
	struct lab_arena *a;
	int fd;

	lab_arena_opts_init(&o);
	o.name = "shared";
	o.flags = LAB_ARENA_F_NO_HUGE | LAB_ARENA_F_SHARED;
	o.initial_chambers = 3;
	o.max_chambers = 4;
	a = lab_arena_create(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(lab_arena_chamber(a, 0, &ci), 0);
	CU_ASSERT_EQUAL(ci.backing, LAB_BACKING_MEMFD_4K);
	CU_ASSERT_STRING_EQUAL(lab_backing_name(ci.backing), "memfd-4k");
	CU_ASSERT_EQUAL_FATAL(lab_arena_regions(a, r, 4), 1);
	CU_ASSERT_PTR_EQUAL(r[0].va, ci.va);
	CU_ASSERT_EQUAL(r[0].len, 3 * 2 * LAB_MIB);
	CU_ASSERT_EQUAL(r[0].offset, 0);
	CU_ASSERT(r[0].fd >= 0);
	/* Both ways: the peer's write is seen here, ours there. */
	((volatile uint8_t *)r[0].va)[5 * LAB_MIB] = 0x11;
	CU_ASSERT_TRUE(peer_writes(&r[0], 5 * LAB_MIB + 1, 0x5a));
	CU_ASSERT_EQUAL(((volatile uint8_t *)r[0].va)[5 * LAB_MIB + 1], 0x5a);
	CU_ASSERT_EQUAL(((volatile uint8_t *)r[0].va)[5 * LAB_MIB], 0x11);
	/* A grown chamber joins the run; a released one splits it. */
	CU_ASSERT_EQUAL(lab_arena_grow(a), 3);
	CU_ASSERT_EQUAL(lab_arena_regions(a, r, 4), 1);
	CU_ASSERT_EQUAL(r[0].len, 4 * 2 * LAB_MIB);
	CU_ASSERT_EQUAL(lab_arena_release(a, 1), 0);
	CU_ASSERT_EQUAL_FATAL(lab_arena_regions(a, r, 4), 2);
	CU_ASSERT_EQUAL(r[0].len, 2 * LAB_MIB);
	CU_ASSERT_EQUAL(r[1].offset, 2 * 2 * LAB_MIB);
	CU_ASSERT_EQUAL(r[1].len, 2 * 2 * LAB_MIB);
	CU_ASSERT_TRUE(peer_writes(&r[1], 0, 0x77));
	CU_ASSERT_EQUAL(*(volatile uint8_t *)r[1].va, 0x77);
	/* Asked with no room: the count, nothing written. */
	CU_ASSERT_EQUAL(lab_arena_regions(a, NULL, 0), 2);
	fd = r[0].fd;
	lab_arena_destroy(a);
	CU_ASSERT_EQUAL(fcntl(fd, F_GETFD), -1); /* closed with the arena */
}

/* An arena that is not shared has no regions to give. */
static void test_private_has_no_regions(void)
{
	struct lab_mem_region r;
	struct lab_arena *a = make(0, LAB_ARENA_F_NO_HUGE, LAB_IOVA_AUTO, 0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(lab_arena_regions(a, &r, 1), -ENOTSUP);
	lab_arena_destroy(a);
}

/* A segment of its own (virtqueue rings): zeroed, page-rounded, shared. */
static void test_shm_segment(void)
{
	struct lab_mem_region r;
	struct lab_shm *s = lab_shm_create("rings", 10000, false);
	uint8_t *m;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	m = lab_shm_va(s);
	lab_shm_region(s, &r);
	CU_ASSERT_PTR_EQUAL(r.va, m);
	CU_ASSERT_EQUAL(r.len, 12288);
	CU_ASSERT_EQUAL(r.offset, 0);
	CU_ASSERT_EQUAL(m[0], 0);
	CU_ASSERT_EQUAL(m[12287], 0);
	CU_ASSERT_TRUE(peer_writes(&r, 4096, 0x42));
	CU_ASSERT_EQUAL(((volatile uint8_t *)m)[4096], 0x42);
	lab_shm_destroy(s);
	lab_shm_destroy(NULL);
	log_capture();
	CU_ASSERT_PTR_NULL(lab_shm_create("rings", 0, false));
	CU_ASSERT_EQUAL(lab_errno, EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "shared segment 'rings': length 0"));
	log_release();
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_fallback_by_option),
		LAB_TEST(test_fallback_notice_without_hugepages),
		LAB_TEST(test_huge_only_fails_clearly),
		LAB_TEST(test_cells_va),
		LAB_TEST(test_cells_pa),
		LAB_TEST(test_address_space_reserved_at_create),
		LAB_TEST(test_chamber_limit),
		LAB_TEST(test_release_and_lookup),
		LAB_TEST(test_bad_options),
		LAB_TEST(test_numa_placement),
		LAB_TEST(test_shared_regions),
		LAB_TEST(test_private_has_no_regions),
		LAB_TEST(test_shm_segment),
		LAB_TEST_END,
	};

	return lab_test_run("arena_fallback", tests);
}
