// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The leak classes (user/classify.c) on hand-made groups, judged with a
 * real Go binary's wait-reason names (the first leakzoo given): growth is
 * parks spread over the watched window, not a one-off burst however big;
 * too short a window tells nothing yet; many goroutines on one channel
 * are an idle pool, on one mutex's semaphore they are not. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "classify.h"
#include "tap.h"

#define SEC 1000000000ULL
#define MAXN 64

struct fake {
	uint64_t goids[MAXN], parked[MAXN], objects[MAXN];
	bool at_attach[MAXN];
};

/* A group of n members, member i parked at park_at(i) since attach. */
static void make(struct gt_group *g, struct fake *f, unsigned reason,
		 uint64_t gopc, size_t n, uint64_t elapsed,
		 uint64_t (*park_at)(size_t), uint64_t object)
{
	size_t i;

	memset(g, 0, sizeof(*g));
	for (i = 0; i < n; i++) {
		f->goids[i] = 100 + gopc * 1000 + i;
		f->parked[i] = elapsed - park_at(i);
		f->objects[i] = object ? object : 0x1000 + i * 16;
		f->at_attach[i] = false;
	}
	*g = (struct gt_group){ .reason = reason, .gopc = gopc, .count = n,
		.goids = f->goids, .parked_ns = f->parked,
		.objects = f->objects, .at_attach = f->at_attach,
		.npcs = 1, .pcs = { gopc + 7 },
		.site = { .spawned = n, .exited = 0 } };
	g->object = object;
	g->nobjects = object ? 1 : n;
	g->oldest_ns = f->parked[0];
}

static uint64_t burst(size_t i)
{
	return SEC / 2 + i * 1000;		/* 50 within 50 µs */
}

static uint64_t steady(size_t i)
{
	return i * SEC / 5;			/* 5 a second */
}

/* Classifies copies of the groups; returns the class of each. */
static void judge(const struct gobin *bin, struct gt_group *in, size_t n,
		  uint64_t elapsed, enum gt_class *out)
{
	struct classifier *c = NULL;
	struct gtable gt = {};
	size_t i, j;

	/* The classifier frees what it hides; these are not hidden. */
	gt.groups = calloc(n, sizeof(*gt.groups));
	memcpy(gt.groups, in, n * sizeof(*in));
	gt.ngroups = n;
	gt.threshold_ns = SEC;
	gt.max_goid = 1u << 30;
	classifier__new(&c, bin, 0);
	classifier__classify(c, &gt, elapsed, true);
	for (i = 0; i < n; i++)
		for (j = 0; j < gt.ngroups; j++)
			if (gt.groups[j].gopc == in[i].gopc)
				out[i] = gt.groups[j].class;
	classifier__free(c);
	free(gt.groups);
}

int main(int argc, char **argv)
{
	const char *path = NULL, *why = NULL;
	struct gobin *bin = NULL;
	struct gt_group g[4];
	struct fake f[4];
	enum gt_class cls[4];
	int i, fd, send, mutex;

	for (i = 1; i < argc; i++) {
		const char *slash = strrchr(argv[i], '/');

		if (slash && !strcmp(slash, "/leakzoo")) {
			path = argv[i];
			break;
		}
	}
	if (!path) {
		TAP_SKIP("no leakzoo build given");
		return tap__done();
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!ASSERT_TRUE(fd >= 0 && !gobin__open(&bin, fd, &why), path))
		return tap__done();
	send = gobin__wait_reason_index(bin, "chan send");
	mutex = gobin__wait_reason_index(bin, "sync.Mutex.Lock");
	if (mutex < 0)		/* Go 1.19 */
		mutex = gobin__wait_reason_index(bin, "semacquire");

	/* 10 s watched, threshold 1 s: the window is [0, 9 s]. */
	make(&g[0], &f[0], send, 1, 50, 10 * SEC, burst, 0);
	make(&g[1], &f[1], send, 2, 46, 10 * SEC, steady, 0);
	judge(bin, g, 2, 10 * SEC, cls);
	ASSERT_EQ(cls[0], GT_CLASS_PARKED, "one-off burst of 50: parked");
	ASSERT_EQ(cls[1], GT_CLASS_LIKELY_LEAKED, "steady 5/s: likely_leaked");

	/* 2.5 s watched: a window of 1.5 s cannot tell them apart. */
	make(&g[0], &f[0], send, 1, 50, 2 * SEC + SEC / 2, burst, 0);
	make(&g[1], &f[1], send, 2, 8, 2 * SEC + SEC / 2, steady, 0);
	judge(bin, g, 2, 2 * SEC + SEC / 2, cls);
	ASSERT_TRUE(cls[0] == GT_CLASS_PARKED && cls[1] == GT_CLASS_PARKED,
		    "too soon to tell: neither is called a leak yet");

	/* Parked before attach: no evidence of growth while watched. */
	make(&g[0], &f[0], send, 1, 46, 10 * SEC, steady, 0);
	memset(f[0].at_attach, 1, sizeof(f[0].at_attach));
	g[0].goids[45] = g[0].goids[0] + 45;	/* not spread over goids */
	judge(bin, g, 1, 10 * SEC, cls);
	ASSERT_EQ(cls[0], GT_CLASS_PARKED, "members from the attach "
		  "snapshot are no growth evidence");

	/* Shared objects, not growing: a channel pool, a held mutex. */
	make(&g[0], &f[0], send, 1, 16, 10 * SEC, burst, 0xc000010000);
	g[0].object_kind = GT_OBJECT_CHAN;
	g[0].site = (struct glt_site){};
	make(&g[1], &f[1], mutex, 2, 16, 10 * SEC, burst, 0x5b283c);
	g[1].object_kind = GT_OBJECT_SEMA;
	g[1].site = (struct glt_site){};
	judge(bin, g, 2, 10 * SEC, cls);
	ASSERT_EQ(cls[0], GT_CLASS_IDLE_POOL, "16 on one channel: idle_pool");
	ASSERT_EQ(cls[1], GT_CLASS_PARKED, "16 on one mutex: parked, no pool");

	gobin__free(bin);
	close(fd);
	return tap__done();
}
