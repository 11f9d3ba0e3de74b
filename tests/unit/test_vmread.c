// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Batched reads (user/vmread.c) of this process's own memory
 * (process_vm_readv on ourselves needs no privilege): merged neighbours,
 * overlaps, gaps, more requests than IOV_MAX, and the failures a target
 * running on can cause: an unmapped page inside a merged range, a
 * request that wraps around, a process that exited. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "keysort.h"
#include "tap.h"
#include "vmread.h"

#define N 5000

static uint64_t addr_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* Whether req i holds bytes src[off .. off + len). */
static int holds(const struct vm_read *r, const uint8_t *src)
{
	return !r->err && !memcmp(r->buf, src + (r->addr - addr_of(src)),
				  r->len);
}

static void test_many(void)
{
	static uint8_t src[N * 64], bufs[N][128];
	static struct vm_read reqs[N];
	struct target t = { .pid = getpid() };
	size_t i, good = 0;

	for (i = 0; i < sizeof(src); i++)
		src[i] = i * 7 + (i >> 8);
	/* Shuffled, neighbours (g structs in a span), overlapping pairs,
	 * gaps bigger than a merge takes, all sizes. */
	for (i = 0; i < N; i++) {
		size_t off = (i * 2654435761u) % (sizeof(src) - 128);

		if (i % 5 == 1)
			off = reqs[i - 1].addr - addr_of(src) + 3;
		reqs[i] = (struct vm_read){ .addr = addr_of(src) + off,
					    .buf = bufs[i],
					    .len = 1 + (i * 31) % 127 };
	}
	ASSERT_EQ(vmread__batch(&t, reqs, N), 0, "5000 requests: read");
	for (i = 0; i < N; i++)
		good += holds(&reqs[i], src);
	ASSERT_EQ(good, N, "5000 requests: every one holds its bytes");
}

static void test_faults(void)
{
	long page = sysconf(_SC_PAGESIZE);
	struct target t = { .pid = getpid() };
	uint8_t *map, a[64], b[64], c[64], d[8], e[8];
	struct vm_read reqs[5];

	/* Three pages, the middle one unmapped. */
	map = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!ASSERT_TRUE(map != MAP_FAILED, "mmap"))
		return;
	memset(map, 0xab, 3 * page);
	munmap(map + page, page);
	reqs[0] = (struct vm_read){ addr_of(map + page - 64), a, 64, 1 };
	/* Crosses into the hole: fails, its neighbours must not. */
	reqs[1] = (struct vm_read){ addr_of(map + page - 32), b, 64, 1 };
	reqs[2] = (struct vm_read){ addr_of(map + 2 * page), c, 64, 1 };
	reqs[3] = (struct vm_read){ UINT64_MAX - 4, d, 8, 1 };
	reqs[4] = (struct vm_read){ addr_of(map), e, 0, 1 };
	ASSERT_EQ(vmread__batch(&t, reqs, 5), 0, "faults: batch runs");
	ASSERT_EQ(reqs[0].err, 0, "before the hole: read");
	ASSERT_TRUE(a[0] == 0xab && a[63] == 0xab, "before the hole: bytes");
	ASSERT_EQ(reqs[1].err, -EFAULT, "into the hole: -EFAULT");
	ASSERT_EQ(reqs[2].err, 0, "after the hole: read");
	ASSERT_EQ(reqs[3].err, -EFAULT, "wrapping around: -EFAULT");
	ASSERT_EQ(reqs[4].err, 0, "empty: read");
	munmap(map, page);
	munmap(map + 2 * page, page);
}

static void test_gone(void)
{
	static uint8_t src[256], buf[2][16];
	struct vm_read reqs[2] = {
		{ addr_of(src), buf[0], 16, 0 },
		{ addr_of(src + 200), buf[1], 16, 0 },
	};
	struct target t = {};

	t.pid = fork();
	if (!t.pid)
		_exit(0);
	waitpid(t.pid, NULL, 0);
	ASSERT_EQ(vmread__batch(&t, reqs, 2), 0, "exited process: batch runs");
	ASSERT_TRUE(reqs[0].err == -EFAULT && reqs[1].err == -EFAULT,
		    "exited process: nothing read");
}

static void test_keysort(void)
{
	static struct key_idx v[N];
	static uint64_t u[N];
	size_t i, ok = 1;

	for (i = 0; i < N; i++) {
		v[i] = (struct key_idx){ 0xc000000000ULL + (i * 40503u) % 977, i };
		u[i] = (i * 2654435761u) ^ ((uint64_t)i << 40);
	}
	ASSERT_EQ(keysort__sort(v, N), 0, "keysort: pairs");
	ASSERT_EQ(keysort__u64(u, N), 0, "keysort: plain");
	for (i = 1; i < N; i++) {
		ok &= v[i - 1].key < v[i].key ||
		      (v[i - 1].key == v[i].key && v[i - 1].idx < v[i].idx);
		ok &= u[i - 1] <= u[i];
	}
	ASSERT_TRUE(ok, "keysort: ascending, stable");
}

int main(void)
{
	test_many();
	test_faults();
	test_gone();
	test_keysort();
	return tap__done();
}
