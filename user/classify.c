// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include "slotindex.h"
#include "cli.h"
#include "classify.h"

/* Below this many net new goroutines at a site, growth is noise. */
#define MIN_GROWTH 3
/* Late attach: at least this many members spread over a quarter of the
 * process's goroutine ids count as created over a long span of time. */
#define MIN_SPREAD_MEMBERS 10
/* Growth over time: the watched window is cut into at most SLICES equal
 * slices of at least MIN_SLICE_NS, and members must have parked in at
 * least MIN_SLICES of them. A one-off burst fills one or two. */
#define SLICES 4
#define MIN_SLICES 3
#define MIN_SLICE_NS NSEC_PER_SEC

/* What was seen of one group in earlier reports. */
struct history {
	uint64_t key;
	size_t first_count;
	uint64_t first_elapsed_ns;	/* when first seen, since attach */
	int reports;
};

struct classifier {
	const struct gobin *bin;
	uint64_t load_bias;
	struct history *hist;
	size_t nhist, cap;
	uint32_t *slots;		/* open addressing: index + 1 */
	size_t nslots;			/* power of two */
};

int classifier__new(struct classifier **out, const struct gobin *bin,
		    uint64_t load_bias)
{
	struct classifier *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->bin = bin;
	c->load_bias = load_bias;
	*out = c;
	return 0;
}

void classifier__free(struct classifier *c)
{
	if (!c)
		return;
	free(c->hist);
	free(c->slots);
	free(c);
}

/* FNV-1a over what identifies a group across reports. */
static uint64_t group_key(const struct gt_group *g)
{
	uint64_t h = 0xcbf29ce484222325ULL, words[2] = { g->reason, g->gopc };
	const uint8_t *p;
	size_t i;

	for (p = (const uint8_t *)words, i = 0; i < sizeof(words); i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	for (p = (const uint8_t *)g->pcs, i = 0; i < g->npcs * sizeof(g->pcs[0]);
	     i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static int rehash(struct classifier *c)
{
	return slotindex__grow(&c->slots, &c->nslots, c->hist, c->nhist,
			       sizeof(*c->hist), offsetof(struct history, key));
}

/* The group's history, created on first sight; NULL when out of
 * memory (the group is then judged without it). */
static struct history *remember(struct classifier *c, const struct gt_group *g,
				uint64_t elapsed_ns)
{
	uint64_t key = group_key(g);
	struct history *h;
	size_t j;

	if ((c->nhist + 1) * 2 > c->nslots && rehash(c))
		return NULL;
	for (j = key & (c->nslots - 1); c->slots[j]; j = (j + 1) & (c->nslots - 1))
		if (c->hist[c->slots[j] - 1].key == key)
			return &c->hist[c->slots[j] - 1];
	if (c->nhist == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;

		h = realloc(c->hist, cap * sizeof(*h));
		if (!h)
			return NULL;
		c->hist = h;
		c->cap = cap;
	}
	h = &c->hist[c->nhist++];
	*h = (struct history){ .key = key, .first_count = g->count,
			       .first_elapsed_ns = elapsed_ns };
	c->slots[j] = c->nhist;
	return h;
}

/* Whether a group's goroutines belong to the runtime itself (GC workers,
 * finalizers...), which are hidden unless asked for. */
static bool is_system(const struct classifier *c, const struct gt_group *g)
{
	struct pclntab_frame f;

	/* As the runtime's own isSystemGoroutine: started in package
	 * runtime, except the main goroutine. */
	if (gobin__symbolize(c->bin, g->startpc - c->load_bias, &f, 1) < 1)
		return false;
	return !strncmp(f.func, "runtime.", 8) &&
	       strcmp(f.func, "runtime.main") != 0;
}

static bool never_wakeable(const char *reason)
{
	return !strcmp(reason, "chan receive (nil chan)") ||
	       !strcmp(reason, "chan send (nil chan)") ||
	       !strcmp(reason, "select (no cases)");
}

/* Evidence over time: in how many slices of the watched window (from
 * attach to now - threshold, the newest park a report can show) members
 * parked. Members parked before attach say nothing about it. -1 when the
 * window is too short to tell; *span gets the time between the first and
 * the last park seen. */
static int park_slices(const struct gt_group *g, uint64_t elapsed_ns,
		       uint64_t threshold_ns, uint64_t *span)
{
	uint64_t window, slice, t, first = UINT64_MAX, last = 0;
	bool hit[SLICES] = { false };
	int nslices, k, n = 0;
	size_t i;

	*span = 0;
	if (elapsed_ns <= threshold_ns)
		return -1;
	window = elapsed_ns - threshold_ns;
	nslices = window / MIN_SLICE_NS < SLICES ? window / MIN_SLICE_NS
						 : SLICES;
	slice = nslices ? window / nslices : window;
	for (i = 0; i < g->count; i++) {
		if ((g->at_attach && g->at_attach[i]) ||
		    g->parked_ns[i] >= elapsed_ns)
			continue;
		t = elapsed_ns - g->parked_ns[i];
		first = t < first ? t : first;
		last = t > last ? t : last;
		k = nslices ? (int)(t / slice) : 0;
		k = k < nslices ? k : nslices - 1;
		if (nslices && !hit[k]) {
			hit[k] = true;
			n++;
		}
	}
	if (last >= first)
		*span = last - first;
	return nslices >= MIN_SLICES ? n : -1;
}

static void classify_group(struct classifier *c, const struct gtable *gt,
			   struct gt_group *g, uint64_t elapsed_ns)
{
	const char *reason = gobin__wait_reason(c->bin, g->reason);
	int64_t net = (int64_t)g->site.spawned - (int64_t)g->site.exited;
	double minutes = (double)elapsed_ns / (60.0 * NSEC_PER_SEC);
	uint64_t spread = g->goids[g->count - 1] - g->goids[0], span;
	struct history *h = remember(c, g, elapsed_ns);
	int slices = park_slices(g, elapsed_ns, gt->threshold_ns, &span);
	bool added, burst, growing, scanned = false;
	char within[32];

	g->growth_per_min = minutes > 0 ? net / minutes : 0;
	/* Added while watched: its site created goroutines since attach
	 * that did not exit, and the group has only grown since first
	 * seen. */
	burst = net >= MIN_GROWTH && g->count >= MIN_GROWTH;
	added = h && burst && (h->reports == 0 || g->count > h->first_count);
	/* Without probes (--no-probes) sites count nothing: the group's own
	 * growth between scans is the evidence. */
	if (h && !g->site.spawned && !g->site.exited && h->reports > 0) {
		minutes = (double)(elapsed_ns - h->first_elapsed_ns) /
			  (60.0 * NSEC_PER_SEC);
		net = (int64_t)g->count - (int64_t)h->first_count;
		if (minutes > 0)
			g->growth_per_min = net / minutes;
		added = burst = net >= MIN_GROWTH;
		scanned = true;
	}
	/* Growing is adding over time, not in one go: parks spread over
	 * several slices of the watched window. */
	growing = added && slices >= MIN_SLICES;
	if (h)
		h->reports++;

	if (never_wakeable(reason)) {
		g->class = GT_CLASS_NEVER_WAKEABLE;
		snprintf(g->verdict, sizeof(g->verdict),
			 "never wakeable: %s", reason);
	} else if (growing && scanned) {
		g->class = GT_CLASS_LIKELY_LEAKED;
		snprintf(g->verdict, sizeof(g->verdict),
			 "likely leaked: growing %+.1f/min between scans "
			 "(%zu first seen, %zu now, in %d of %d intervals)",
			 g->growth_per_min, h->first_count, g->count, slices,
			 SLICES);
	} else if (growing) {
		g->class = GT_CLASS_LIKELY_LEAKED;
		snprintf(g->verdict, sizeof(g->verdict),
			 "likely leaked: growing %+.1f/min at its site "
			 "(%llu spawned, %llu exited, parked in %d of %d "
			 "intervals)", g->growth_per_min,
			 (unsigned long long)g->site.spawned,
			 (unsigned long long)g->site.exited, slices, SLICES);
	} else if (g->count >= MIN_SPREAD_MEMBERS && gt->max_goid &&
		   spread * 4 >= gt->max_goid && spread >= 4 * g->count) {
		/* Attached late: members created at many points of the
		 * process's history and all still parked. */
		g->class = GT_CLASS_LIKELY_LEAKED;
		snprintf(g->verdict, sizeof(g->verdict),
			 "likely leaked: created across goids %llu..%llu of "
			 "%llu, all still parked",
			 (unsigned long long)g->goids[0],
			 (unsigned long long)g->goids[g->count - 1],
			 (unsigned long long)gt->max_goid);
	} else if (g->count > 1 && g->object &&
		   g->object_kind != GT_OBJECT_SEMA) {
		/* Waiters on one mutex or WaitGroup are blocked, not a pool
		 * waiting for work. */
		g->class = GT_CLASS_IDLE_POOL;
		snprintf(g->verdict, sizeof(g->verdict),
			 "idle pool: one shared %s, not growing",
			 gtable__object_kind_name(g->object_kind) ?: "object");
	} else if (burst && slices < 0) {
		g->class = GT_CLASS_PARKED;
		snprintf(g->verdict, sizeof(g->verdict),
			 "parked: %+lld at its site since attach, too soon to "
			 "tell steady growth from a burst", (long long)net);
	} else if (burst) {
		g->class = GT_CLASS_PARKED;
		cli__format_duration(span, within, sizeof(within));
		snprintf(g->verdict, sizeof(g->verdict),
			 "parked: %+lld at its site, all parked within %s: a "
			 "burst, not growing over time", (long long)net,
			 within);
	} else {
		g->class = GT_CLASS_PARKED;
		snprintf(g->verdict, sizeof(g->verdict),
			 "parked: not growing (%+.1f/min at its site)",
			 g->growth_per_min);
	}
}

static int class_rank(enum gt_class class)
{
	switch (class) {
	case GT_CLASS_LIKELY_LEAKED:
		return 0;
	case GT_CLASS_NEVER_WAKEABLE:
		return 1;
	case GT_CLASS_PARKED:
		return 2;
	default:
		return 3;
	}
}

static int cmp_verdict(const void *a, const void *b)
{
	const struct gt_group *x = a, *y = b;
	int rx = class_rank(x->class), ry = class_rank(y->class);

	if (rx != ry)
		return rx - ry;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->goids[0] < y->goids[0] ? -1 : 1;
}

int classifier__classify(struct classifier *c, struct gtable *gt,
			 uint64_t elapsed_ns, bool show_system)
{
	size_t i, kept = 0;

	for (i = 0; i < gt->ngroups; i++) {
		struct gt_group *g = &gt->groups[i];

		if (!show_system && is_system(c, g)) {
			gt->stats.hidden_system += g->count;
			gt->ngoroutines -= g->count;
			free(g->goids);
			free(g->parked_ns);
			free(g->objects);
			free(g->at_attach);
			continue;
		}
		classify_group(c, gt, g, elapsed_ns);
		gt->groups[kept++] = *g;
	}
	gt->ngroups = kept;
	if (kept > 1)	/* groups is NULL when there are none */
		qsort(gt->groups, gt->ngroups, sizeof(*gt->groups),
		      cmp_verdict);
	return 0;
}
