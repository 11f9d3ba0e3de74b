// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "snapshot.h"

/* Sanity bound on allglen read from the target: 64M goroutines. */
#define MAX_ALLGLEN (64ULL << 20)
#define PTR_BATCH 65536

static uint64_t load(const uint8_t *p, int32_t off, int size)
{
	uint64_t v = 0;

	memcpy(&v, p + off, size);
	return v;
}

static int cmp_goid(const void *a, const void *b)
{
	const struct snapshot_g *x = a, *y = b;

	return x->goid < y->goid ? -1 : x->goid > y->goid;
}

/* Keeps g if it is parked; g structs of exited goroutines stay in allgs
 * (status _Gdead) and are skipped like any other non-waiting state. */
static void add_if_parked(struct snapshot *s, const struct go_offsets *o,
			  const uint8_t *g, uint64_t addr)
{
	uint32_t status = load(g, o->g_atomicstatus, 4);
	uint64_t goid = load(g, o->g_goid, 8);

	if (goid > s->max_goid)
		s->max_goid = goid;
	if (!go_status_parked(status))
		return;
	s->gs[s->n++] = (struct snapshot_g){
		.goid = goid,
		.g = addr,
		.waitsince = load(g, o->g_waitsince, 8),
		.reason = load(g, o->g_waitreason, 1),
	};
}

int snapshot__take(struct snapshot *s, const struct gobin *bin,
		   const struct target *t, const char **errmsg)
{
	const struct go_offsets *o = gobin__offsets(bin);
	uint64_t lenaddr, ptraddr, size, allgptr, i, j, n;
	uint64_t *ptrs = NULL;
	uint8_t *gbuf = NULL;
	struct timespec ts;
	int err;

	memset(s, 0, sizeof(*s));
	if (gobin__find_data(bin, "runtime.allglen", &lenaddr, &size) ||
	    gobin__find_data(bin, "runtime.allgptr", &ptraddr, &size)) {
		*errmsg = "goroutines parked before attach are not shown: "
			  "runtime.allglen/allgptr are neither in .symtab nor "
			  "found in runtime.forEachGRace's code";
		return -ENOENT;
	}
	lenaddr += t->load_bias;
	ptraddr += t->load_bias;
	/* The runtime publishes allglen before allgptr: read in that order
	 * so the pointer covers at least allglen entries. */
	if (target__read(t, lenaddr, &s->allglen, 8) ||
	    target__read(t, ptraddr, &allgptr, 8) || s->allglen > MAX_ALLGLEN) {
		*errmsg = "goroutines parked before attach are not shown: "
			  "cannot read runtime.allgs from the target";
		return -EFAULT;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->taken_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	err = -ENOMEM;
	ptrs = malloc(PTR_BATCH * sizeof(*ptrs));
	gbuf = malloc(o->g_size);
	s->gs = calloc(s->allglen ? s->allglen : 1, sizeof(*s->gs));
	if (!ptrs || !gbuf || !s->gs)
		goto out;
	for (i = 0; i < s->allglen; i += n) {
		n = s->allglen - i < PTR_BATCH ? s->allglen - i : PTR_BATCH;
		err = target__read(t, allgptr + i * 8, ptrs, n * 8);
		if (err) {
			*errmsg = "cannot read runtime.allgs from the target";
			goto out;
		}
		for (j = 0; j < n; j++) {
			if (!ptrs[j] ||
			    target__read(t, ptrs[j], gbuf, o->g_size)) {
				s->read_failed++;
				continue;
			}
			add_if_parked(s, o, gbuf, ptrs[j]);
		}
	}
	for (i = 0; i < s->n; i++)
		s->gs[i].first_seen_ns = s->taken_ns;
	qsort(s->gs, s->n, sizeof(*s->gs), cmp_goid);
	err = 0;
out:
	free(ptrs);
	free(gbuf);
	if (err)
		snapshot__free(s);
	return err;
}

void snapshot__free(struct snapshot *s)
{
	free(s->gs);
	memset(s, 0, sizeof(*s));
}

const struct snapshot_g *snapshot__find(const struct snapshot *s,
					uint64_t goid)
{
	struct snapshot_g key = { .goid = goid };

	if (!s->n)
		return NULL;
	return bsearch(&key, s->gs, s->n, sizeof(key), cmp_goid);
}

void snapshot__carry(struct snapshot *now, const struct snapshot *before)
{
	const struct snapshot_g *old;
	size_t i;

	for (i = 0; i < now->n; i++) {
		old = snapshot__find(before, now->gs[i].goid);
		if (old && old->g == now->gs[i].g &&
		    old->reason == now->gs[i].reason)
			now->gs[i].first_seen_ns = old->first_seen_ns;
	}
}
