// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The semtable walk (user/gosema.c) over a fake runtime.semtable built in
 * this process, with the sudog layouts of Go 1.22 and 1.27 from the
 * built-in table: treap nodes, waitlink chains, and the shapes a tree
 * changing under the walk can show (a node in the wrong bucket, out of
 * order, a cycle, a channel sudog, one goroutine on two addresses),
 * which must be left out rather than followed. Then, for every Go
 * binary given, the semtable layout the walk assumes (251 entries of a
 * cache line: 64 bytes on x86-64 and on arm64 up to Go 1.19, 128 on
 * arm64 since) against the binary's own runtime.semtable symbol. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "gobin.h"
#include "gosema.h"
#include "tap.h"

#define SEM_TAB_SIZE 251
#define ENTRY 64
#define SUDOG 128
#define NSUDOG 64

static uint8_t table[SEM_TAB_SIZE * ENTRY] __attribute__((aligned(64)));
static uint8_t *sudogs;		/* NSUDOG of SUDOG bytes, page aligned */
static const struct go_offsets *o;
static struct go_offsets offs;

static uint64_t addr_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static void put(uint8_t *p, int32_t off, uint64_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

/* A semaphore address that hashes to bucket b, the k-th such. */
static uint64_t sema_in(unsigned b, unsigned k)
{
	return (0x10000000ULL / 8 / SEM_TAB_SIZE + k) * 8 * SEM_TAB_SIZE +
	       b * 8;
}

static uint8_t *sudog(int i, uint64_t g, uint64_t elem)
{
	uint8_t *s = sudogs + i * SUDOG;

	memset(s, 0, SUDOG);
	put(s, o->sudog_g, g);
	put(s, o->sudog_elem, elem);
	return s;
}

static void link_to(uint8_t *s, int32_t off, const uint8_t *to)
{
	put(s, off, addr_of(to));
}

static void root(unsigned b, const uint8_t *s)
{
	put(table + b * ENTRY, o->semaroot_treap, addr_of(s));
}

static uint64_t sema_of(const struct sema_waiters *w, uint64_t g)
{
	const struct sema_waiter *x = gosema__find(w, g);

	return x ? x->sema : 0;
}

static void test_layout(const char *version)
{
	struct target t = { .pid = getpid() };
	uint64_t a = sema_in(7, 2), lo = sema_in(7, 1), hi = sema_in(7, 3);
	uint8_t *n0, *n1, *n2, *c1, *c2, *bad;
	struct sema_waiters w;
	char what[96];

	if (go_offsets__from_table(version, &offs))
		return;
	o = &offs;
	memset(table, 0, sizeof(table));
	/* Bucket 7: a treap of three addresses, two more waiters chained
	 * on the root's. */
	n0 = sudog(0, 0x1000, a);
	n1 = sudog(1, 0x1100, lo);
	n2 = sudog(2, 0x1200, hi);
	c1 = sudog(3, 0x1300, a);
	c2 = sudog(40, 0x1400, a);
	link_to(n0, o->sudog_prev, n1);
	link_to(n0, o->sudog_next, n2);
	link_to(n0, o->sudog_waitlink, c1);
	link_to(c1, o->sudog_waitlink, c2);
	root(7, n0);
	/* Bucket 9: its root hashes elsewhere; its child is never seen. */
	bad = sudog(5, 0x2000, sema_in(10, 0));
	link_to(bad, o->sudog_next, sudog(6, 0x2100, sema_in(9, 5)));
	root(9, bad);
	/* Bucket 11: a left child above its parent, and a right child that
	 * is the parent again (a cycle). */
	bad = sudog(7, 0x3000, sema_in(11, 4));
	link_to(bad, o->sudog_prev, sudog(8, 0x3100, sema_in(11, 6)));
	link_to(bad, o->sudog_next, bad);
	root(11, bad);
	/* Bucket 13: a channel's sudog. */
	bad = sudog(9, 0x4000, sema_in(13, 0));
	put(bad, o->sudog_c, 0xdead0);
	root(13, bad);
	/* Buckets 15 and 17: one goroutine on two addresses. */
	root(15, sudog(10, 0x5000, sema_in(15, 0)));
	root(17, sudog(11, 0x5000, sema_in(17, 0)));

	ASSERT_EQ(gosema__walk_table(&w, o, &t, addr_of(table), sizeof(table),
				     1000), 0, "walk");
	snprintf(what, sizeof(what), "%s: 5 waiters in the tree and chain, "
		 "1 more well-formed root", version);
	ASSERT_EQ(w.n, 6, what);
	snprintf(what, sizeof(what), "%s: addresses of tree nodes", version);
	ASSERT_TRUE(sema_of(&w, 0x1000) == a && sema_of(&w, 0x1100) == lo &&
		    sema_of(&w, 0x1200) == hi, what);
	snprintf(what, sizeof(what), "%s: chained waiters share the root's",
		 version);
	ASSERT_TRUE(sema_of(&w, 0x1300) == a && sema_of(&w, 0x1400) == a,
		    what);
	snprintf(what, sizeof(what), "%s: wrong bucket, order, cycle, "
		 "channel, two addresses: left out", version);
	ASSERT_TRUE(!sema_of(&w, 0x2000) && !sema_of(&w, 0x2100) &&
		    sema_of(&w, 0x3000) == sema_in(11, 4) &&
		    !sema_of(&w, 0x3100) && !sema_of(&w, 0x4000) &&
		    !sema_of(&w, 0x5000), what);
	ASSERT_TRUE(w.rejected >= 6, "rejected nodes are counted");
	gosema__free(&w);

	ASSERT_EQ(gosema__walk_table(&w, o, &t, addr_of(table), sizeof(table),
				     2), 0, "walk bounded to 2 nodes");
	ASSERT_TRUE(w.n <= 3, "bound: stops early");
	gosema__free(&w);
	ASSERT_EQ(gosema__walk_table(&w, o, &t, addr_of(table),
				     sizeof(table) - 8, 1000), -ENOENT,
		  "a table of another size is refused");
}

/* Every binary: the symbol, where there is one, and our offsets. */
static void test_binary(const char *path)
{
	const char *why = NULL, *name = strrchr(path, '/');
	struct gobin *bin = NULL;
	uint64_t addr, size;
	char what[256];
	uint64_t line;
	int fd, has;

	name = name ? name + 1 : path;
	/* Stripped builds lack the symbol; arm64 is the same layout. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || gobin__open(&bin, fd, &why)) {
		if (fd >= 0)
			close(fd);
		return;
	}
	has = !gobin__find_data(bin, "runtime.semtable", &addr, &size);
	line = gobin__arch(bin) == GOBIN_ARCH_ARM64 &&
	       go_offsets__version_minor(gobin__go_version(bin)) > 19 ? 128 : 64;
	snprintf(what, sizeof(what), "%s (%s): semtable %s", path,
		 gobin__go_version(bin),
		 has ? "is 251 cache lines, walkable" :
		       "absent (stripped): nothing said");
	if (has)
		ASSERT_TRUE(size == SEM_TAB_SIZE * line &&
			    gosema__available(bin), what);
	else
		ASSERT_TRUE(!gosema__available(bin) &&
			    strstr(name, "-sw"), what);
	gobin__free(bin);
	close(fd);
}

int main(int argc, char **argv)
{
	int i;

	sudogs = mmap(NULL, NSUDOG * SUDOG, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!ASSERT_TRUE(sudogs != MAP_FAILED, "mmap"))
		return tap__done();
	test_layout("go1.22.12");
	test_layout("go1.27.3");
	for (i = 1; i < argc; i++)
		test_binary(argv[i]);
	return tap__done();
}
