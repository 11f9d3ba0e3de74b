// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "gread.h"
#include "keysort.h"
#include "snapshot.h"

/* Sanity bound on allglen read from the target: 64M goroutines. */
#define MAX_ALLGLEN (64ULL << 20)
#define PTR_BATCH 65536

/* Sorts gs by goid: the (goid, index) pairs, then the entries moved in
 * place, a permutation cycle at a time. */
static int sort_by_goid(struct snapshot_g *gs, size_t n)
{
	struct key_idx *k;
	struct snapshot_g t;
	size_t i, q, next;
	int err;

	for (i = 1; i < n && gs[i - 1].goid <= gs[i].goid; i++)
		;
	if (i >= n)
		return 0;
	k = malloc(n * sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		k[i] = (struct key_idx){ gs[i].goid, i };
	err = keysort__sort(k, n);
	/* Position i takes the entry at k[i].idx; placed ones get
	 * SIZE_MAX. */
	for (i = 0; !err && i < n; i++) {
		if (k[i].idx == SIZE_MAX)
			continue;
		t = gs[i];
		for (q = i; k[q].idx != i; q = next) {
			next = k[q].idx;
			gs[q] = gs[next];
			k[q].idx = SIZE_MAX;
		}
		gs[q] = t;
		k[q].idx = SIZE_MAX;
	}
	free(k);
	return err;
}

static const struct snapshot_g *find(const struct snapshot_g *gs, size_t n,
				     uint64_t goid)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (gs[mid].goid == goid)
			return &gs[mid];
		if (gs[mid].goid < goid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* One scan of allgs in the making. */
struct scan {
	struct snapshot *s;
	const struct gobin *bin;
	const struct target *t;
	const struct snapshot *before;	/* rescan: what it knew, or NULL */
	struct stackset_map carried;	/* before's stacks into s's */
	struct gread reader;
	struct gread_item *items;	/* parked gs to resolve */
	size_t *item_of;		/* their index in s->gs */
	size_t nitems;
	uint64_t *addrs;
	uint8_t *gbufs;
	bool *ok;
};

/* The entry of before for the same goroutine parked the same way. */
static const struct snapshot_g *known(const struct scan *sc,
				      const struct snapshot_g *sg)
{
	const struct snapshot_g *old;

	if (!sc->before)
		return NULL;
	old = snapshot__find(sc->before, sg->goid);
	return old && old->g == sg->g && old->reason == sg->reason ? old : NULL;
}

/* Keeps what before found of a goroutine still parked the same way. */
static int carry_one(struct stackset_map *m, struct snapshot_g *now,
		     const struct snapshot_g *old)
{
	now->first_seen_ns = old->first_seen_ns;
	if (!old->resolved || old->state != now->state || now->resolved)
		return 0;
	now->resolved = true;
	now->object = old->object;
	now->object_kind = old->object_kind;
	return stackset_map__get(m, old->stack, &now->stack);
}

/* Stores what gread__resolve found of the queued gs. */
static int resolve_queued(struct scan *sc)
{
	struct snapshot_g *sg;
	struct gread_item *it;
	size_t i;
	int err;

	err = gread__resolve(&sc->reader, sc->items, sc->nitems);
	for (i = 0; !err && i < sc->nitems; i++) {
		it = &sc->items[i];
		sg = &sc->s->gs[sc->item_of[i]];
		if (it->verdict != GREAD_KEEP)
			continue;
		err = stackset__intern(&sc->s->stacks, it->pcs, it->npcs,
				       &sg->stack);
		sg->object = it->object;
		sg->object_kind = it->object_kind;
		sg->resolved = !err;
	}
	sc->nitems = 0;
	return err;
}

/* Reads n gs at sc->addrs, keeps the parked ones and resolves those
 * that are new. g structs of exited goroutines stay in allgs (status
 * _Gdead) and are skipped like any other non-waiting state. */
static int scan_gs(struct scan *sc, size_t n)
{
	const struct go_offsets *o = gobin__offsets(sc->bin);
	struct snapshot *s = sc->s;
	const struct snapshot_g *old;
	struct snapshot_g *sg;
	struct gfields f;
	size_t i;
	int err;

	err = gread__gs(sc->t, sc->addrs, n, o->g_size, sc->gbufs, sc->ok);
	for (i = 0; !err && i < n; i++) {
		if (!sc->ok[i]) {
			s->read_failed++;
			continue;
		}
		gread__parse(o, sc->gbufs + i * o->g_size, &f);
		if (f.goid > s->max_goid)
			s->max_goid = f.goid;
		if (!go_status_parked(f.status) || s->n >= s->allglen)
			continue;
		sg = &s->gs[s->n++];
		*sg = (struct snapshot_g){
			.goid = f.goid, .g = sc->addrs[i],
			.waitsince = f.waitsince, .reason = f.reason,
			.first_seen_ns = s->taken_ns,
			.state = gread__state(&f) };
		if ((old = known(sc, sg)) &&
		    (err = carry_one(&sc->carried, sg, old)))
			break;
		if (sg->resolved)
			continue;
		/* Not zeroed whole: pcs is written by the walk. */
		sc->items[sc->nitems].g = sg->g;
		sc->items[sc->nitems].lock = 0;
		sc->items[sc->nitems].f = f;
		sc->item_of[sc->nitems++] = s->n - 1;
	}
	if (!err && sc->nitems)
		err = resolve_queued(sc);
	return err;
}

static int scan(struct snapshot *s, const struct gobin *bin,
		const struct target *t, const struct snapshot *before,
		bool watched, const char **errmsg)
{
	const struct go_offsets *o = gobin__offsets(bin);
	struct scan sc = { .s = s, .bin = bin, .t = t, .before = before };
	uint64_t lenaddr, ptraddr, size, allgptr, i, j, n, k;
	uint64_t *ptrs = NULL;
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
		memset(s, 0, sizeof(*s));
		return -EFAULT;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->taken_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	s->first_taken_ns = before && before->first_taken_ns ?
			    before->first_taken_ns : s->taken_ns;
	if (before)
		sc.carried = (struct stackset_map){ &before->stacks, &s->stacks,
						     NULL, 0 };
	/* The semtable holds at most one sudog per goroutine. */
	gread__init(&sc.reader, bin, t, s->allglen + 1024);
	sc.reader.watched = watched;
	err = -ENOMEM;
	ptrs = malloc(PTR_BATCH * sizeof(*ptrs));
	sc.items = malloc(GREAD_WINDOW * sizeof(*sc.items));
	sc.item_of = malloc(GREAD_WINDOW * sizeof(*sc.item_of));
	sc.gbufs = malloc((size_t)GREAD_WINDOW * o->g_size);
	sc.ok = malloc(GREAD_WINDOW * sizeof(*sc.ok));
	s->gs = calloc(s->allglen ? s->allglen : 1, sizeof(*s->gs));
	if (!ptrs || !sc.items || !sc.item_of || !sc.gbufs || !sc.ok || !s->gs)
		goto out;
	for (i = 0; i < s->allglen; i += n) {
		n = s->allglen - i < PTR_BATCH ? s->allglen - i : PTR_BATCH;
		err = target__read(t, allgptr + i * 8, ptrs, n * 8);
		if (err) {
			*errmsg = "cannot read runtime.allgs from the target";
			goto out;
		}
		for (j = 0; j < n; j += k) {
			k = n - j < GREAD_WINDOW ? n - j : GREAD_WINDOW;
			sc.addrs = ptrs + j;
			err = scan_gs(&sc, k);
			if (err) {
				*errmsg = "out of memory";
				goto out;
			}
		}
	}
	err = sort_by_goid(s->gs, s->n);
	if (err)
		*errmsg = "out of memory";
out:
	gread__free(&sc.reader);
	stackset_map__free(&sc.carried);
	free(ptrs);
	free(sc.items);
	free(sc.item_of);
	free(sc.gbufs);
	free(sc.ok);
	if (err)
		snapshot__free(s);
	return err;
}

int snapshot__take(struct snapshot *s, const struct gobin *bin,
		   const struct target *t, bool watched, const char **errmsg)
{
	return scan(s, bin, t, NULL, watched, errmsg);
}

int snapshot__rescan(struct snapshot *s, const struct gobin *bin,
		     const struct target *t, bool watched, const char **errmsg)
{
	struct snapshot next;
	struct stackset_map m;
	size_t i;
	int err;

	err = scan(&next, bin, t, s, watched, errmsg);
	if (err)
		return err;
	/* The probes' goroutines stay known, their stacks moved over. */
	m = (struct stackset_map){ &s->stacks, &next.stacks, NULL, 0 };
	next.seen = s->seen;
	next.nseen = s->nseen;
	s->seen = NULL;
	for (i = 0; i < next.nseen && !err; i++)
		if (next.seen[i].resolved)
			err = stackset_map__get(&m, next.seen[i].stack,
						&next.seen[i].stack);
	stackset_map__free(&m);
	/* Out of memory there only costs reading them again. */
	if (err) {
		free(next.seen);
		next.seen = NULL;
		next.nseen = 0;
	}
	snapshot__free(s);
	*s = next;
	return 0;
}

void snapshot__free(struct snapshot *s)
{
	free(s->gs);
	free(s->seen);
	stackset__free(&s->stacks);
	memset(s, 0, sizeof(*s));
}

const struct snapshot_g *snapshot__find(const struct snapshot *s,
					uint64_t goid)
{
	return find(s->gs, s->n, goid);
}

int snapshot__update_seen(struct snapshot *s, struct snapshot_g *fresh,
			  size_t n)
{
	struct snapshot_g *v;
	size_t i, kept = 0, k;
	int err;

	for (i = 0; i < s->nseen; i++) {
		if (!s->seen[i].used)
			continue;
		s->seen[kept] = s->seen[i];
		s->seen[kept++].used = false;
	}
	err = sort_by_goid(fresh, n);
	if (!err && !kept) {
		free(s->seen);
		s->seen = fresh;
		s->nseen = n;
		return 0;
	}
	v = err ? NULL : realloc(s->seen, (kept + n ? kept + n : 1) *
				 sizeof(*v));
	if (!v) {
		free(s->seen);
		free(fresh);
		s->seen = NULL;
		s->nseen = 0;
		return -ENOMEM;
	}
	/* Both sorted: merged from the end, in place. */
	s->seen = v;
	s->nseen = kept + n;
	for (k = kept + n, i = kept; n; ) {
		if (i && v[i - 1].goid > fresh[n - 1].goid)
			v[--k] = v[--i];
		else
			v[--k] = fresh[--n];
	}
	free(fresh);
	return 0;
}

void snapshot__carry(struct snapshot *now, const struct snapshot *before)
{
	struct stackset_map m = { &before->stacks, &now->stacks, NULL, 0 };
	const struct snapshot_g *old;
	size_t i;

	if (before->first_taken_ns)
		now->first_taken_ns = before->first_taken_ns;
	for (i = 0; i < now->n; i++) {
		old = snapshot__find(before, now->gs[i].goid);
		if (old && old->g == now->gs[i].g &&
		    old->reason == now->gs[i].reason &&
		    carry_one(&m, &now->gs[i], old))
			break;
	}
	stackset_map__free(&m);
}
