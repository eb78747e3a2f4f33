/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Contract 1 of docs/architecture.md: the atomic path makes no system call. A thread
 * installs a seccomp filter that kills the whole process on any system call
 * but exit, runs 10^6 allocations and frees (single and bulk, cached and not,
 * ordinary and atomic, through exhaustion and the reserve) while the warden
 * grows the pool in its own thread, and leaves with a raw SYS_exit. It runs in
 * a child process; the test passes only if the child was not killed.
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "pool_helpers.h"

#define OPS 1000000ul
#define HOLD_MAX 16384

static struct lab_pool *pool;
static struct lab_cache *cache;
static struct lab_buf *held[HOLD_MAX];
static struct {
	unsigned long ops, allocs, frees, failures, cycles;
} res;

static int install_filter(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	/* No SECCOMP_FILTER_FLAG_TSYNC: only this thread is filtered. */
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

/* Hold buffers until the pool says no, then give them all back. */
static void one_cycle(unsigned int *seed)
{
	unsigned int n = 0, got;

	for (;;) {
		unsigned int kind = (*seed = *seed * 1103515245u + 12345u) >> 16;
		struct lab_cache *c = (kind & 7) == 0 ? NULL : cache;

		if (n + 32 > HOLD_MAX)
			break;
		if (kind & 8) {
			held[n] = (kind & 16) ? lab_alloc_atomic(pool, c) : lab_alloc(pool, c);
			got = held[n] != NULL;
		} else {
			got = lab_alloc_bulk(pool, c, held + n, 1 + kind % 32,
					     (kind & 16) ? LAB_ALLOC_ATOMIC : 0);
		}
		if (c == NULL) /* what callers without a cache took, the cache will free */
			lab_buf_transfer(NULL, cache, held + n, got);
		n += got;
		res.allocs += got;
		if (got != 0)
			continue;
		/* Ordinary callers stop at min; RX refill may still dip into the
		 * reserve. When that fails too, the pool is exhausted. */
		held[n] = lab_alloc_atomic(pool, cache);
		if (held[n] == NULL) {
			res.failures++;
			break;
		}
		n++;
		res.allocs++;
	}
	for (unsigned int i = 0; i < n;) {
		unsigned int k = n - i < 24 ? n - i : 24;

		if (k == 1 || (i & 1))
			lab_free(cache, held[i]), k = 1;
		else if (i & 2)
			lab_buf_transfer(cache, NULL, held + i, k), lab_free_bulk(NULL, held + i, k);
		else
			lab_free_bulk(cache, held + i, k);
		i += k;
		res.frees += k;
	}
	res.ops = res.allocs + res.frees;
	res.cycles++;
}

/* The warden has grown the pool (or 30 s passed): a loaded machine may keep
 * it from its turn for the whole of the 10^6 operations, and the filtered
 * thread cannot ask (lab_pool_stats takes a lock), so the main thread does. */
static _Atomic bool grown;

static void *filtered(void *arg)
{
	unsigned int seed = 12345;

	(void)arg;
	if (install_filter() != 0)
		_exit(4);
	while (res.allocs < OPS || !atomic_load(&grown))
		one_cycle(&seed);
	lab_cache_flush(cache);
	syscall(SYS_exit, 0);
	return NULL;
}

static _Atomic bool filtered_done;

/* Switch the quality level under the filtered thread's feet: off, sampled
 * (1 in 8) and full, so every free path (check only, countdown, poison and
 * quarantine) runs under the filter. */
static void *switcher(void *arg)
{
	unsigned int i = 0;

	(void)arg;
	while (!atomic_load(&filtered_done)) {
		lab_pool_set_quality(pool, (enum lab_quality)(i++ % 3), 8);
		sleep_ms(2);
	}
	return NULL;
}

static int child(void)
{
	struct lab_pool_stats st;
	pthread_t t, s;

	lab_log_set_levels("pool:err");
	pool = small_pool(1024, 8192, 64, 256, 1024, 32);
	if (pool == NULL)
		return 5;
	cache = lab_cache_create(pool, "filtered", 64);
	pthread_create(&s, NULL, switcher, NULL);
	pthread_create(&t, NULL, filtered, NULL);
	for (int i = 0; i < 30000; i++) {
		lab_pool_stats(pool, &st);
		if (st.grows > 0)
			break;
		sleep_ms(1);
	}
	atomic_store(&grown, true);
	pthread_join(t, NULL);
	atomic_store(&filtered_done, true);
	pthread_join(s, NULL);
	lab_pool_quality_check(pool);
	lab_pool_stats(pool, &st);
	printf("  filtered thread: %lu allocs + %lu frees in %lu cycles, %lu exhaustions; "
	       "pool: %llu grows, %llu kicks, %llu reserve uses, %llu misses\n", res.allocs,
	       res.frees, res.cycles, res.failures, (unsigned long long)st.grows,
	       (unsigned long long)st.kicks, (unsigned long long)st.sum.reserve_uses,
	       (unsigned long long)st.sum.misses);
	fflush(stdout);
	if (res.allocs < OPS || res.failures == 0 || st.grows == 0 || st.sum.reserve_uses == 0 ||
	    st.sum.misses == 0 || res.allocs != res.frees)
		return 6;
	if (st.in_flight != 0 || st.total != st.free + st.cached)
		return 7;
	for (int k = 0; k < LAB_FIND_KINDS; k++)
		if (st.findings[k] != 0)
			return 9;
	lab_cache_destroy(cache);
	return lab_pool_destroy(pool) == 0 ? 0 : 8;
}

static void test_atomic_path_makes_no_syscall(void)
{
	int status = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0)
		_exit(child());
	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fprintf(stderr, "child killed by signal %d%s\n", WTERMSIG(status),
			WTERMSIG(status) == SIGSYS ? ": the atomic path made a system call" : "");
	CU_ASSERT_FALSE(WIFSIGNALED(status));
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		fprintf(stderr, "child exit code %d\n", WEXITSTATUS(status));
}

/* The filter itself works: a system call under it kills the process. */
static void test_filter_kills_on_syscall(void)
{
	int status = 0;
	pid_t pid = fork();

	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		if (install_filter() != 0)
			_exit(4);
		(void)getppid();
		_exit(0);
	}
	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_filter_kills_on_syscall),
		LAB_TEST(test_atomic_path_makes_no_syscall),
		LAB_TEST_END,
	};

	return lab_test_run("pool_seccomp", tests);
}
