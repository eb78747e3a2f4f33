/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The arena on 2 MiB hugepages. Skipped, with the reason, when no hugepage is
 * free (make test reserves them with scripts/hugepages.sh).
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <labyrinth/lab_pool.h>

#include "arena_helpers.h"
#include "arena_internal.h" /* hugetlbfs_find_mount */

static struct lab_arena *make(unsigned int flags, unsigned int max)
{
	struct lab_arena_opts o;

	lab_arena_opts_init(&o);
	o.name = "hp";
	o.flags = LAB_ARENA_F_HUGE_ONLY | flags;
	o.max_chambers = max;
	return lab_arena_create(&o);
}

/* Count our files left in any hugetlbfs directory (there must be none): this
 * process's (labyrinth-NAME-PID-SEQ), not another test's run at the same time. */
static int leftover_files(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	char ours[64];
	int n = 0;

	if (d == NULL)
		return 0;
	snprintf(ours, sizeof(ours), "labyrinth-hp-%d-", (int)getpid());
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, ours, strlen(ours)) == 0;
	closedir(d);
	return n;
}

/* Mode of the mapping that holds @p va, from /proc/self/map_files (root only). */
static int mapping_mode(const void *va, mode_t *mode)
{
	char line[512], path[128];
	unsigned long lo, hi;
	struct stat st;
	FILE *f = fopen("/proc/self/maps", "r");
	int rc = -1;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2 || (uintptr_t)va < lo ||
		    (uintptr_t)va >= hi)
			continue;
		snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", lo, hi);
		if (stat(path, &st) == 0) {
			*mode = st.st_mode & 07777;
			rc = 0;
		}
		break;
	}
	if (f != NULL)
		fclose(f);
	return rc;
}

static void test_huge_chambers(void)
{
	struct lab_chamber_info ci;
	struct lab_arena *a = make(0, 0);
	mode_t mode;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_TRUE(lab_arena_is_huge(a));
	CU_ASSERT_EQUAL(lab_arena_chamber(a, 0, &ci), 0);
	CU_ASSERT_EQUAL(ci.len, 2 * LAB_MIB);
	CU_ASSERT_EQUAL(ci.contig, 2 * LAB_MIB);
	CU_ASSERT_EQUAL((uintptr_t)ci.va % (2 * LAB_MIB), 0);
	CU_ASSERT(ci.backing == LAB_BACKING_HUGETLBFS || ci.backing == LAB_BACKING_MEMFD);
	/* The backing file is already unlinked, and was created 0600. */
	CU_ASSERT_EQUAL(leftover_files("/dev/hugepages"), 0);
	if (mapping_mode(ci.va, &mode) == 0)
		CU_ASSERT_EQUAL(mode & 0777, 0600);
	lab_arena_destroy(a);
}

static void test_memfd_backing(void)
{
	struct lab_chamber_info ci;
	struct lab_arena *a = make(LAB_ARENA_F_MEMFD, 0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(lab_arena_chamber(a, 0, &ci), 0);
	CU_ASSERT_EQUAL(ci.backing, LAB_BACKING_MEMFD);
	CU_ASSERT(check_all_cells(a, 2176, 64) == 2 * LAB_MIB / 2176);
	lab_arena_destroy(a);
}

/* Every 4 KiB page of a chamber sits at chamber IOVA + offset: the chamber is
 * physically contiguous. Each chamber gets its own IOVA from pagemap; nothing
 * assumes two chambers are adjacent in physical memory. */
/* A shared arena on hugepages, both sources: one file, kept open, that a
 * second mapping of its regions (as a vhost-user peer makes) sees into; the
 * hugetlbfs file leaves no name behind. */
static void shared_on(unsigned int flags, enum lab_backing want)
{
	struct lab_arena *a = make(LAB_ARENA_F_SHARED | flags, 4);
	struct lab_chamber_info ci;
	struct lab_mem_region r[2];
	volatile uint8_t *peer;
	int fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(lab_arena_chamber(a, 0, &ci), 0);
	CU_ASSERT_EQUAL(ci.backing, want);
	CU_ASSERT_EQUAL(lab_arena_grow(a), 1);
	CU_ASSERT_EQUAL_FATAL(lab_arena_regions(a, r, 2), 1);
	CU_ASSERT_EQUAL(r[0].len, 2 * 2 * LAB_MIB);
	CU_ASSERT_EQUAL(r[0].iova, ci.iova);
	peer = mmap(NULL, r[0].len, PROT_READ | PROT_WRITE, MAP_SHARED, r[0].fd,
		    (off_t)r[0].offset);
	CU_ASSERT_FATAL(peer != MAP_FAILED);
	((volatile uint8_t *)r[0].va)[3 * LAB_MIB] = 0x3c;
	CU_ASSERT_EQUAL(peer[3 * LAB_MIB], 0x3c);
	peer[7] = 0xc3;
	CU_ASSERT_EQUAL(((volatile uint8_t *)r[0].va)[7], 0xc3);
	munmap((void *)(uintptr_t)peer, r[0].len);
	fd = r[0].fd;
	lab_arena_destroy(a);
	CU_ASSERT_EQUAL(fcntl(fd, F_GETFD), -1);
}

static void test_shared_hugepages(void)
{
	char dir[256];

	shared_on(LAB_ARENA_F_MEMFD, LAB_BACKING_MEMFD);
	if (hugetlbfs_find_mount(2 * LAB_MIB, dir, sizeof(dir)) == 0) {
		shared_on(0, LAB_BACKING_HUGETLBFS);
		CU_ASSERT_EQUAL(leftover_files(dir), 0);
	} else {
		printf("\n    no hugetlbfs mount for 2 MiB pages: the memfd source only\n");
	}
}

static void test_iova_contiguous_within_never_across(void)
{
	struct lab_arena *a = make(0, 0);
	struct lab_chamber_info ci[4];
	unsigned int adjacent = 0;
	uint64_t pa;
	int probe = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	for (int i = 1; i < 4; i++)
		CU_ASSERT_EQUAL(lab_arena_grow(a), i);
	if (test_pa(&probe, &pa) != 0) {
		CU_ASSERT_EQUAL(lab_arena_iova_mode(a), LAB_IOVA_VA);
		lab_arena_destroy(a);
		return;
	}
	CU_ASSERT_EQUAL(lab_arena_iova_mode(a), LAB_IOVA_PA);
	for (unsigned int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL_FATAL(lab_arena_chamber(a, i, &ci[i]), 0);
		for (size_t off = 0; off < ci[i].len; off += 4096) {
			CU_ASSERT_EQUAL_FATAL(test_pa((char *)ci[i].va + off, &pa), 0);
			CU_ASSERT_EQUAL(pa, ci[i].iova + off);
			CU_ASSERT_EQUAL(lab_arena_iova(a, (char *)ci[i].va + off), pa);
		}
	}
	for (unsigned int i = 1; i < 4; i++)
		adjacent += ci[i].iova == ci[i - 1].iova + ci[i - 1].len;
	printf("  (%u of 3 chamber pairs happened to be physically adjacent)\n", adjacent);
	CU_ASSERT_EQUAL(check_all_cells(a, 2176, 64), 4 * (2 * LAB_MIB / 2176));
	CU_ASSERT_EQUAL(check_all_cells(a, 9216, 4096), 4 * (2 * LAB_MIB / 12288));
	lab_arena_destroy(a);
}

/* The private mount while it is up: main() takes it down if a FATAL
 * assertion (check_all_cells) left the test early. */
static char hp_mnt[64];

/*
 * Exhaustion with a supply of the test's own: a private hugetlbfs mount whose
 * size= caps it at LIMIT pages and whose min_size= reserves them up front, so
 * neither the machine's reservation nor another process taking pages changes
 * what the test sees. The arena's own limit (max_chambers) is set above the
 * supply, so -ENOMEM comes from the memory, and then met: -ENOSPC.
 */
static void test_exhaustion_enomem_and_recovery(void)
{
	enum { LIMIT = 3, MAX = LIMIT + 2 };
	char mnt[] = "/tmp/lab-hp-XXXXXX", opts[96], want[160];
	struct lab_arena_opts o;
	struct lab_arena_stats st;
	struct lab_arena *a;
	int rc = 0, n = 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(mnt));
	snprintf(opts, sizeof(opts), "pagesize=2M,size=%dM,min_size=%dM", 2 * LIMIT, 2 * LIMIT);
	if (mount("lab-hp", mnt, "hugetlbfs", 0, opts) != 0) {
		/* Root only; the suite runs as root under make test. */
		printf("  exhaustion: SKIPPED, cannot mount hugetlbfs (%s) at %s: %s\n", opts, mnt,
		       strerror(errno));
		rmdir(mnt);
		return;
	}
	snprintf(hp_mnt, sizeof(hp_mnt), "%s", mnt);
	lab_arena_opts_init(&o);
	o.name = "hp";
	o.flags = LAB_ARENA_F_HUGE_ONLY;
	o.hugetlbfs_dir = mnt;
	o.max_chambers = MAX;
	a = lab_arena_create(&o);
	CU_ASSERT_PTR_NOT_NULL(a);
	if (a == NULL)
		goto out; /* no FATAL assertion while the mount (and its reserve) is up */
	{
		struct lab_chamber_info ci;

		CU_ASSERT_EQUAL(lab_arena_chamber(a, 0, &ci), 0);
		CU_ASSERT_EQUAL(ci.backing, LAB_BACKING_HUGETLBFS);
	}
	log_capture();
	while (n < MAX && (rc = lab_arena_grow(a)) >= 0)
		n++;
	CU_ASSERT_EQUAL(rc, -ENOMEM);
	CU_ASSERT_EQUAL(n, LIMIT);
	LAB_TEST_HAS(log_text(), "cannot map a 2 MiB hugepage chamber: asked for 1 page");
	snprintf(want, sizeof(want), "the mount %s is limited to %d pages, 0 free", mnt, LIMIT);
	LAB_TEST_HAS(log_text(), want);
	lab_arena_stats(a, &st);
	CU_ASSERT_EQUAL(st.chambers, (unsigned int)LIMIT);
	CU_ASSERT_EQUAL(st.grow_failures, 1);
	/* Usable while exhausted: release, regrow, carve. */
	CU_ASSERT_EQUAL(lab_arena_release(a, 1), 0);
	CU_ASSERT_EQUAL(lab_arena_grow(a), 1);
	CU_ASSERT(check_all_cells(a, 2048, 2048) == (unsigned long)LIMIT * 1024);
	log_release();
	lab_arena_destroy(a);
	/* The arena's own limit, with memory to spare: -ENOSPC. */
	o.max_chambers = LIMIT - 1;
	a = lab_arena_create(&o);
	CU_ASSERT_PTR_NOT_NULL(a);
	if (a == NULL)
		goto out;
	CU_ASSERT_EQUAL(lab_arena_grow(a), 1);
	log_capture();
	CU_ASSERT_EQUAL(lab_arena_grow(a), -ENOSPC);
	LAB_TEST_HAS(log_text(), "at its limit of 2 chambers (max_chambers)");
	log_release();
	lab_arena_destroy(a);
	CU_ASSERT_EQUAL(leftover_files(mnt), 0);
out:
	CU_ASSERT_EQUAL(umount(mnt), 0);
	rmdir(mnt);
	hp_mnt[0] = '\0';
}

/* Lines of @p text that contain @p what. */
static unsigned int count_lines(const char *text, const char *what)
{
	unsigned int n = 0;

	for (const char *l = text; *l != '\0';) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);

		n += memmem(l, len, what, strlen(what)) != NULL;
		l += len + (end != NULL);
	}
	return n;
}

/*
 * Hugepages reserved but nearly all held by someone else: the first chamber
 * gets one, a later initial one does not. "auto" starts the arena again on
 * 4 KiB pages with one notice (no error for the grow that failed); "require"
 * fails with the error. The supply is a private mount of TOTAL pages of which
 * this test holds all but FREE in a file of its own, so other processes using
 * the machine's pool change nothing.
 */
static void test_partial_hugepages_fall_back_whole(void)
{
	enum { TOTAL = 4, FREE = 2, WANT = FREE + 3 };
	char mnt[] = "/tmp/lab-hp-XXXXXX", opts[96], path[96], want[200];
	size_t held_len = (size_t)(TOTAL - FREE) * 2 * LAB_MIB;
	struct lab_chamber_info ci;
	struct lab_arena_stats st;
	struct lab_arena_opts o;
	struct lab_arena *a;
	const char *log;
	void *held = MAP_FAILED;
	int fd = -1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(mnt));
	snprintf(opts, sizeof(opts), "pagesize=2M,size=%dM,min_size=%dM", 2 * TOTAL, 2 * TOTAL);
	if (mount("lab-hp", mnt, "hugetlbfs", 0, opts) != 0) {
		printf("  partial hugepages: SKIPPED, cannot mount hugetlbfs (%s) at %s: %s\n",
		       opts, mnt, strerror(errno));
		rmdir(mnt);
		return;
	}
	snprintf(hp_mnt, sizeof(hp_mnt), "%s", mnt);
	/* Hold TOTAL - FREE of the mount's pages, faulted in, as another process would. */
	snprintf(path, sizeof(path), "%s/held", mnt);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	CU_ASSERT(fd >= 0);
	if (fd >= 0 && ftruncate(fd, (off_t)held_len) == 0)
		held = mmap(NULL, held_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CU_ASSERT(held != MAP_FAILED);
	if (held == MAP_FAILED)
		goto out;
	memset(held, 0x5a, held_len);

	lab_arena_opts_init(&o);
	o.name = "hp";
	o.hugetlbfs_dir = mnt;
	o.initial_chambers = WANT;
	o.max_chambers = WANT + 1;
	log_capture();
	a = lab_arena_create(&o);
	log = log_text();
	CU_ASSERT_PTR_NOT_NULL(a);
	if (a != NULL) {
		CU_ASSERT_FALSE(lab_arena_is_huge(a));
		CU_ASSERT_EQUAL(lab_arena_chamber(a, 0, &ci), 0);
		CU_ASSERT_EQUAL(ci.backing, LAB_BACKING_ANON_4K);
		CU_ASSERT_EQUAL(lab_arena_iova_mode(a), LAB_IOVA_VA);
		lab_arena_stats(a, &st);
		CU_ASSERT_EQUAL(st.chambers, (unsigned int)WANT);
		CU_ASSERT_EQUAL(st.grows, (uint64_t)WANT);
		CU_ASSERT_EQUAL(st.grow_failures, 0);
		CU_ASSERT_EQUAL(st.bytes, (size_t)WANT * 2 * LAB_MIB);
		CU_ASSERT(check_all_cells(a, 2048, 2048) == (unsigned long)WANT * 1024);
		/* Later growth stays on 4 KiB pages. */
		CU_ASSERT_EQUAL(lab_arena_grow(a), WANT);
		CU_ASSERT_EQUAL(lab_arena_chamber(a, WANT, &ci), 0);
		CU_ASSERT_EQUAL(ci.backing, LAB_BACKING_ANON_4K);
		lab_arena_destroy(a);
	}
	CU_ASSERT_EQUAL(count_lines(log, "NOTICE"), 1);
	CU_ASSERT_EQUAL(count_lines(log, "ERR"), 0);
	snprintf(want, sizeof(want), "arena 'hp': 2 MiB hugepages gave only %d of %d initial "
		 "chambers", FREE, WANT);
	LAB_TEST_HAS(log, want);
	/* The arena's own pages are back by the time the notice counts them. */
	snprintf(want, sizeof(want), "the mount %s is limited to %d pages, %d free", mnt, TOTAL,
		 FREE);
	LAB_TEST_HAS(log, want);
	LAB_TEST_HAS(log, "falling back to 4 KiB pages for the whole arena; reserve some with");
	log_release();
	CU_ASSERT_EQUAL(leftover_files(mnt), 0);

	/* hugepages=require: the error, and no arena. */
	o.flags = LAB_ARENA_F_HUGE_ONLY;
	log_capture();
	lab_errno = 0;
	a = lab_arena_create(&o);
	log = log_text();
	CU_ASSERT_PTR_NULL(a);
	CU_ASSERT_EQUAL(lab_errno, ENOMEM);
	lab_arena_destroy(a);
	snprintf(want, sizeof(want), "cannot map a 2 MiB hugepage chamber: asked for 1 page");
	LAB_TEST_HAS(log, want);
	snprintf(want, sizeof(want), "(%d mapped by this arena)", FREE);
	LAB_TEST_HAS(log, want);
	CU_ASSERT_EQUAL(count_lines(log, "falling back"), 0);
	log_release();
	CU_ASSERT_EQUAL(leftover_files(mnt), 0);
out:
	if (held != MAP_FAILED)
		munmap(held, held_len);
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	CU_ASSERT_EQUAL(umount(mnt), 0);
	rmdir(mnt);
	hp_mnt[0] = '\0';
}

/*
 * The same for a pool: its initial buffers need more chambers than the
 * machine's hugepages have free. The pool asks its arena for all of them at
 * create, so the arena starts again on 4 KiB pages (one notice) and the pool
 * comes up; it used to map one chamber, grow the rest one by one, and fail
 * at the first grow with no hugepage. This test holds all but FREE of the
 * machine's free 2 MiB pages in a file of its own (the suite runs alone).
 */
static void test_pool_partial_hugepages(void)
{
	enum { FREE = 2 };
	char dir[256], path[300], want[200];
	struct lab_pool_opts o;
	struct lab_pool *p;
	struct lab_buf *b;
	const char *log;
	long n = lab_test_free_2m();
	size_t held_len;
	void *held = MAP_FAILED;
	int fd;

	if (hugetlbfs_find_mount(2 * LAB_MIB, dir, sizeof(dir)) != 0 || n < FREE + 1) {
		printf("  pool on partial hugepages: SKIPPED, %s\n",
		       n < FREE + 1 ? "too few free 2 MiB pages" : "no 2 MiB hugetlbfs mount");
		return;
	}
	held_len = (size_t)(n - FREE) * 2 * LAB_MIB;
	snprintf(path, sizeof(path), "%s/lab-test-held.%d", dir, (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	unlink(path); /* the pages stay held until the close below */
	if (ftruncate(fd, (off_t)held_len) == 0)
		held = mmap(NULL, held_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	CU_ASSERT(held != MAP_FAILED);
	if (held == MAP_FAILED) {
		close(fd);
		return;
	}
	lab_pool_opts_init(&o);
	o.name = "hp_pool";
	o.initial = 8192; /* about 9 chambers of 2 KiB cells */
	o.max = 16384;
	log_capture();
	p = lab_pool_create(&o);
	log = log_text();
	CU_ASSERT_PTR_NOT_NULL(p);
	if (p != NULL) {
		CU_ASSERT_FALSE(lab_arena_is_huge(lab_pool_arena(p)));
		b = lab_alloc(p, NULL);
		CU_ASSERT_PTR_NOT_NULL(b);
		if (b != NULL)
			lab_free(NULL, b);
		lab_pool_destroy(p);
	}
	snprintf(want, sizeof(want), "arena 'hp_pool': 2 MiB hugepages gave only");
	LAB_TEST_HAS(log, want);
	CU_ASSERT_EQUAL(count_lines(log, "ERR"), 0);
	log_release();
	munmap(held, held_len);
	close(fd);
}

/*
 * A hugetlbfs mount point with a space in its name is found: /proc/mounts
 * writes the space as "\040", which the arena must decode (it read the raw
 * field once, and access() on it failed). A 1 GiB mount of the test's own,
 * so the machine's 2 MiB mount is not the one found; no 1 GiB page is needed
 * to mount or to look.
 */
static void test_mount_point_with_space(void)
{
	char mnt[] = "/tmp/lab hp-XXXXXX", dir[256];

	if (hugetlbfs_find_mount(LAB_GIB, dir, sizeof(dir)) == 0) {
		printf("  mount point with a space: SKIPPED, a 1 GiB hugetlbfs mount exists "
		       "already (%s)\n", dir);
		return;
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(mnt));
	if (mount("lab-hp", mnt, "hugetlbfs", 0, "pagesize=1G") != 0) {
		/* Root only, and a kernel with 1 GiB pages. */
		printf("  mount point with a space: SKIPPED, cannot mount hugetlbfs "
		       "(pagesize=1G) at %s: %s\n", mnt, strerror(errno));
		rmdir(mnt);
		return;
	}
	snprintf(hp_mnt, sizeof(hp_mnt), "%s", mnt);
	CU_ASSERT_EQUAL(hugetlbfs_find_mount(LAB_GIB, dir, sizeof(dir)), 0);
	CU_ASSERT_STRING_EQUAL(dir, mnt);
	/* Too long for the caller's buffer: not found rather than cut short. */
	CU_ASSERT_EQUAL(hugetlbfs_find_mount(LAB_GIB, dir, 8), -ENOENT);
	CU_ASSERT_EQUAL(umount(mnt), 0);
	rmdir(mnt);
	hp_mnt[0] = '\0';
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_huge_chambers),
		LAB_TEST(test_memfd_backing),
		LAB_TEST(test_shared_hugepages),
		LAB_TEST(test_iova_contiguous_within_never_across),
		LAB_TEST(test_exhaustion_enomem_and_recovery),
		LAB_TEST(test_partial_hugepages_fall_back_whole),
		LAB_TEST(test_pool_partial_hugepages),
		LAB_TEST(test_mount_point_with_space),
		LAB_TEST_END,
	};
	char reason[160];
	long n = lab_test_free_2m();
	int rc;

	if (n < 4) {
		snprintf(reason, sizeof(reason), "needs at least 4 free 2 MiB hugepages, %ld free "
			 "(reserve them with scripts/hugepages.sh)", n < 0 ? 0 : n);
		return lab_test_skip("arena_huge", tests, reason);
	}
	rc = lab_test_run("arena_huge", tests);
	if (hp_mnt[0] != '\0' && umount2(hp_mnt, MNT_DETACH) == 0)
		rmdir(hp_mnt);
	return rc;
}
