// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "gtable.h"
#include "keysort.h"
#include "stackset.h"

/* One parked goroutine that passed every check, before grouping; what
 * its group shares (wait reason, creation pc, stack) is in the group's
 * key. 32 bytes: there may be a million. */
struct candidate {
	uint64_t goid, parked_ns, object;
	uint32_t group;		/* index in the report's groups */
	uint8_t object_kind;
	bool lower_bound, at_attach;
};

/* A goroutine to check: a probe record, or a snapshot entry the probes
 * have not seen park. */
struct pending {
	uint64_t g;
	struct glt_parked p;
	/* What the snapshot knows of it: its snapshot entry (updated when
	 * resolved again), or what the last report found of the park the
	 * probes saw (read only). NULL if nothing. */
	struct snapshot_g *sg;
	struct snapshot_g *seen;
	bool lower_bound, at_attach;
};

int gtable__walk_stack(const struct target *t, uint64_t pc, uint64_t bp,
		       uint64_t stack_lo, uint64_t stack_hi, uint64_t *pcs,
		       int max_pcs)
{
	return gread__walk_stack(t, pc, bp, stack_lo, stack_hi, pcs, max_pcs);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Groups by (wait reason, creation pc, stack), open addressing. */
struct group_key {
	uint64_t gopc;
	uint32_t reason, stack;
};

struct group_index {
	struct group_key *keys;	/* by group id */
	uint64_t *startpcs;	/* by group id: its first member's */
	uint32_t *slots;	/* group id + 1, 0 free */
	size_t nslots, n, cap;
};

static uint64_t key_hash(const struct group_key *k)
{
	uint64_t h = k->gopc * 0x9e3779b97f4a7c15ULL;

	h ^= ((uint64_t)k->reason << 32 | k->stack) * 0xff51afd7ed558ccdULL;
	return h ^ (h >> 29);
}

static int group_index__rehash(struct group_index *gi)
{
	size_t n = gi->nslots ? gi->nslots * 2 : 64, i, j;
	uint32_t *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < gi->n; i++) {
		for (j = key_hash(&gi->keys[i]) & (n - 1); slots[j];
		     j = (j + 1) & (n - 1))
			;
		slots[j] = i + 1;
	}
	free(gi->slots);
	gi->slots = slots;
	gi->nslots = n;
	return 0;
}

static int group_index__get(struct group_index *gi,
			    const struct group_key *k, uint64_t startpc,
			    uint32_t *id)
{
	struct group_key *e;
	size_t j;
	int err;

	if ((gi->n + 1) * 2 > gi->nslots && (err = group_index__rehash(gi)))
		return err;
	for (j = key_hash(k) & (gi->nslots - 1); gi->slots[j];
	     j = (j + 1) & (gi->nslots - 1)) {
		e = &gi->keys[gi->slots[j] - 1];
		if (e->gopc == k->gopc && e->reason == k->reason &&
		    e->stack == k->stack) {
			*id = gi->slots[j] - 1;
			return 0;
		}
	}
	if (gi->n == gi->cap) {
		size_t cap = gi->cap ? gi->cap * 2 : 64;
		uint64_t *pcs;

		e = realloc(gi->keys, cap * sizeof(*e));
		if (e)
			gi->keys = e;
		pcs = e ? realloc(gi->startpcs, cap * sizeof(*pcs)) : NULL;
		if (!pcs)
			return -ENOMEM;
		gi->startpcs = pcs;
		gi->cap = cap;
	}
	gi->keys[gi->n] = *k;
	gi->startpcs[gi->n] = startpc;
	*id = gi->n;
	gi->slots[j] = ++gi->n;
	return 0;
}

static void group_index__free(struct group_index *gi)
{
	free(gi->keys);
	free(gi->startpcs);
	free(gi->slots);
}

/* One report's work in progress. */
struct build {
	struct gtable *gt;
	const struct gtable_source *src;
	struct candidate *cands;
	size_t n;
	struct stackset stacks;
	struct stackset_map from_snap;	/* snapshot stack ids -> ours */
	struct snapshot_g *seen_next;	/* the probes' goroutines, new */
	size_t nseen_next, cap_seen_next;
	struct group_index groups;
	struct gread reader;
	/* The window being checked. */
	struct pending *win;
	size_t nwin;
	uint64_t *addrs;
	uint8_t *gbufs;
	bool *ok;
	struct gread_item *items;
	size_t *item_of;
	/* Sites sorted by pc. */
	struct site_ent *sites;
};

struct site_ent {
	uint64_t pc;
	struct glt_site site;
};

static int cmp_site(const void *a, const void *b)
{
	return cmp_u64(&((const struct site_ent *)a)->pc,
		       &((const struct site_ent *)b)->pc);
}

static void find_site(const struct build *b, uint64_t pc,
		      struct glt_site *out)
{
	struct site_ent key = { .pc = pc }, *e;

	memset(out, 0, sizeof(*out));
	e = b->src->nsites ? bsearch(&key, b->sites, b->src->nsites,
				     sizeof(key), cmp_site) : NULL;
	if (e)
		*out = e->site;
}

static int add_candidate(struct build *b, const struct pending *pd,
			 const struct gfields *f, uint64_t object,
			 uint8_t kind, uint32_t stack)
{
	const struct gtable_source *src = b->src;
	struct candidate *c = &b->cands[b->n];
	struct group_key key = { .gopc = f->gopc, .reason = pd->p.reason,
				 .stack = stack };
	int err;

	*c = (struct candidate){
		.goid = pd->p.goid, .object = object, .object_kind = kind,
		.lower_bound = pd->lower_bound,
		.at_attach = pd->at_attach,
		.parked_ns = src->now_ns > pd->p.park_ns ?
			     src->now_ns - pd->p.park_ns : 0 };
	err = group_index__get(&b->groups, &key, f->startpc, &c->group);
	if (!err)
		b->n++;
	return err;
}

/* Keeps what was found of a goroutine for the next report: in its
 * snapshot entry, or (one the probes saw park) in the next seen list. */
static int keep(struct build *b, const struct pending *pd,
		const struct snapshot_g *found)
{
	struct snapshot_g *sg = pd->sg;

	if (!sg && pd->seen) {
		pd->seen->used = true;
		sg = pd->seen;
	} else if (!sg) {
		/* Room for every record was reserved; pages are only used
		 * as entries are written. */
		if (b->nseen_next == b->cap_seen_next)
			return -ENOMEM;
		sg = &b->seen_next[b->nseen_next++];
		*sg = (struct snapshot_g){ .goid = pd->p.goid, .g = pd->g,
			.first_seen_ns = pd->p.park_ns, .reason = pd->p.reason };
	}
	sg->resolved = found->resolved;
	sg->stack = found->stack;
	sg->object = found->object;
	sg->object_kind = found->object_kind;
	sg->state = found->state;
	return 0;
}

/* What gread__resolve found of the window's new goroutines: kept, and
 * stored for the next report. */
static int take_resolved(struct build *b, size_t nitems)
{
	struct gt_stats *stats = &b->gt->stats;
	struct snapshot_g rec;
	struct gread_item *it;
	struct pending *pd;
	uint32_t stack;
	size_t i;
	int err;

	err = gread__resolve(&b->reader, b->items, nitems);
	for (i = 0; !err && i < nitems; i++) {
		it = &b->items[i];
		pd = &b->win[b->item_of[i]];
		if (it->verdict == GREAD_READ_FAILED) {
			stats->read_failed++;
			continue;
		}
		if (it->verdict == GREAD_RACED) {
			stats->raced++;
			continue;
		}
		err = stackset__intern(&b->stacks, it->pcs, it->npcs, &stack);
		if (!err)
			err = add_candidate(b, pd, &it->f, it->object,
					    it->object_kind, stack);
		if (err || !b->src->snap)
			continue;
		rec = (struct snapshot_g){ .resolved = true,
			.object = it->object, .object_kind = it->object_kind,
			.state = gread__state(&it->f) };
		err = stackset__intern(&b->src->snap->stacks, it->pcs,
				       it->npcs, &rec.stack);
		if (!err)
			err = keep(b, pd, &rec);
	}
	return err;
}

/* Checks the window's goroutines in their g: still the goroutine that
 * parked, still parked for the same reason. A snapshot entry whose g did
 * not change since it was resolved keeps its stack and object; the rest
 * are resolved, in one batch. */
static int check_window(struct build *b)
{
	const struct go_offsets *o = gobin__offsets(b->src->bin);
	struct gt_stats *stats = &b->gt->stats;
	const struct snapshot_g *known;
	struct pending *pd;
	size_t i, nitems = 0;
	struct gfields f;
	uint32_t stack;
	int err;

	for (i = 0; i < b->nwin; i++)
		b->addrs[i] = b->win[i].g;
	err = gread__gs(b->src->target, b->addrs, b->nwin, o->g_size,
			b->gbufs, b->ok);
	for (i = 0; !err && i < b->nwin; i++) {
		pd = &b->win[i];
		if (!b->ok[i]) {
			stats->read_failed++;
			continue;
		}
		gread__parse(o, b->gbufs + i * o->g_size, &f);
		if (f.goid != pd->p.goid) {
			stats->reused++;
			continue;
		}
		/* Woken since (runtime.ready is not probed: this check is
		 * what tells), or parked again by something other than
		 * gopark (GC suspension). */
		if (!go_status_parked(f.status) || f.reason != pd->p.reason) {
			stats->woken++;
			continue;
		}
		known = pd->sg ? pd->sg : pd->seen;
		if (known && known->resolved &&
		    known->state == gread__state(&f)) {
			err = stackset_map__get(&b->from_snap, known->stack,
						&stack);
			if (!err)
				err = add_candidate(b, pd, &f, known->object,
						    known->object_kind, stack);
			if (!err && !pd->sg)
				pd->seen->used = true;
			continue;
		}
		/* Not zeroed whole: pcs is written by the walk. */
		b->items[nitems].g = pd->g;
		b->items[nitems].lock = pd->p.lock;
		b->items[nitems].f = f;
		b->item_of[nitems++] = i;
	}
	if (!err && nitems)
		err = take_resolved(b, nitems);
	b->nwin = 0;
	return err;
}

/* Queues one tracked goroutine, if old enough; a full window is
 * checked. */
static int consider(struct build *b, uint64_t g, const struct glt_parked *p,
		    struct snapshot_g *sg, struct snapshot_g *seen,
		    bool lower_bound, bool at_attach)
{
	const struct gtable_source *src = b->src;

	if (src->now_ns < p->park_ns ||
	    src->now_ns - p->park_ns < src->threshold_ns) {
		b->gt->stats.young++;
		return 0;
	}
	/* The same park as the last report saw: same time, same g. */
	if (seen && (seen->first_seen_ns != p->park_ns || seen->g != g ||
		     seen->reason != p->reason))
		seen = NULL;
	b->win[b->nwin++] = (struct pending){ .g = g, .p = *p,
		.sg = sg, .seen = seen, .lower_bound = lower_bound,
		.at_attach = at_attach };
	return b->nwin == GREAD_WINDOW ? check_window(b) : 0;
}

/* The probes' records in goid order (order[]), each with what the last
 * report kept of it: the seen list is sorted by goid too, so one pass
 * over both pairs them. */
static int consider_probed(struct build *b, const struct key_idx *order)
{
	const struct gtable_source *src = b->src;
	struct snapshot_g *seen = src->snap ? src->snap->seen : NULL;
	size_t nseen = src->snap ? src->snap->nseen : 0, i, j = 0, k;
	int err = 0;

	for (i = 0; !err && i < src->nparked; i++) {
		k = order[i].idx;
		while (j < nseen && seen[j].goid < src->parked[k].goid)
			j++;
		err = consider(b, src->gkeys[k].g, &src->parked[k], NULL,
			       j < nseen && seen[j].goid == src->parked[k].goid ?
			       &seen[j] : NULL, false, false);
	}
	return err;
}

/* Snapshot goroutines the probes have not seen park since attach (both
 * lists in goid order, paired in one pass). Their park time is a lower
 * bound: the first scan that saw them, or earlier when a GC stamped
 * g.waitsince (the runtime's nanotime is CLOCK_MONOTONIC too). */
static int consider_snapshot(struct build *b, const struct key_idx *order)
{
	const struct gtable_source *src = b->src;
	struct snapshot *snap = src->snap;
	size_t i, j = 0;
	int err = 0;

	for (i = 0; !err && i < snap->n; i++) {
		struct snapshot_g *sg = &snap->gs[i];
		struct glt_parked p = { .goid = sg->goid, .reason = sg->reason,
					.park_ns = sg->first_seen_ns };

		while (j < src->nparked && order[j].key < sg->goid)
			j++;
		if (j < src->nparked && order[j].key == sg->goid)
			continue;
		if (sg->waitsince && sg->waitsince < p.park_ns)
			p.park_ns = sg->waitsince;
		b->gt->stats.tracked++;
		err = consider(b, sg->g, &p, sg, NULL, true,
			       sg->first_seen_ns <= snap->first_taken_ns);
	}
	return err;
}

/* Sorts the candidates by group, then goid, in O(n) but for groups whose
 * members came out of order (probe records come in hash order). */
static int order_candidates(struct build *b, uint32_t **out_idx,
			    size_t **out_start)
{
	size_t ng = b->groups.n, i, *start;
	uint32_t *idx;
	size_t *fill;

	idx = malloc((b->n ? b->n : 1) * sizeof(*idx));
	start = calloc(ng + 1, sizeof(*start));
	fill = malloc((ng ? ng : 1) * sizeof(*fill));
	if (!idx || !start || !fill) {
		free(idx);
		free(start);
		free(fill);
		return -ENOMEM;
	}
	for (i = 0; i < b->n; i++)
		start[b->cands[i].group + 1]++;
	for (i = 0; i < ng; i++)
		start[i + 1] += start[i];
	memcpy(fill, start, ng * sizeof(*fill));
	for (i = 0; i < b->n; i++)
		idx[fill[b->cands[i].group]++] = i;
	free(fill);
	*out_idx = idx;
	*out_start = start;
	return 0;
}

/* Puts a group's members in goid order. */
static int sort_by_goid(const struct build *b, uint32_t *idx, size_t n)
{
	struct key_idx *k = malloc(n * sizeof(*k));
	size_t i;
	int err;

	if (!k)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		k[i] = (struct key_idx){ b->cands[idx[i]].goid, idx[i] };
	err = keysort__sort(k, n);
	for (i = 0; !err && i < n; i++)
		idx[i] = k[i].idx;
	free(k);
	return err;
}

/* Turns candidates idx[0..n) of one group into a group. */
static int make_group(struct build *b, uint32_t *idx, size_t n,
		      struct gt_group *grp)
{
	const struct candidate *c0 = &b->cands[idx[0]], *c;
	const struct group_key *key = &b->groups.keys[c0->group];
	const uint64_t *pcs;
	uint64_t *sorted;
	size_t i;
	int npcs;

	for (i = 1; i < n; i++)
		if (b->cands[idx[i]].goid < b->cands[idx[i - 1]].goid)
			break;
	if (i < n && sort_by_goid(b, idx, n))
		return -ENOMEM;
	memset(grp, 0, sizeof(*grp));
	grp->goids = malloc(n * sizeof(*grp->goids));
	grp->parked_ns = malloc(n * sizeof(*grp->parked_ns));
	grp->objects = malloc(n * sizeof(*grp->objects));
	grp->at_attach = malloc(n * sizeof(*grp->at_attach));
	sorted = malloc(n * sizeof(*sorted));
	if (!grp->goids || !grp->parked_ns || !grp->objects ||
	    !grp->at_attach || !sorted) {
		free(sorted);
		return -ENOMEM;
	}
	grp->reason = key->reason;
	grp->gopc = key->gopc;
	grp->startpc = b->groups.startpcs[c0->group];
	pcs = stackset__get(&b->stacks, key->stack, &npcs);
	grp->npcs = npcs < GT_MAX_FRAMES ? npcs : GT_MAX_FRAMES;
	memcpy(grp->pcs, pcs, grp->npcs * sizeof(grp->pcs[0]));
	grp->count = n;
	for (i = 0; i < n; i++) {
		c = &b->cands[idx[i]];
		grp->lower_bound |= c->lower_bound;
		grp->goids[i] = c->goid;
		grp->parked_ns[i] = sorted[i] = c->parked_ns;
		grp->objects[i] = c->object;
		grp->at_attach[i] = c->at_attach;
		if (c->object && !grp->object_kind)
			grp->object_kind = c->object_kind;
	}
	if (keysort__u64(sorted, n))
		goto nomem;
	grp->oldest_ns = sorted[n - 1];
	grp->median_ns = sorted[n / 2];
	/* Distinct objects: reuse the buffer, sorted again by object. */
	for (i = 0; i < n; i++) {
		sorted[i] = grp->objects[i];
		grp->unknown_objects += !sorted[i];
	}
	if (keysort__u64(sorted, n))
		goto nomem;
	for (i = 0; i < n; i++)
		if (sorted[i] && (i == 0 || sorted[i] != sorted[i - 1]))
			grp->nobjects++;
	grp->object = grp->nobjects == 1 && !grp->unknown_objects ?
		      sorted[0] : 0;
	free(sorted);
	find_site(b, key->gopc, &grp->site);
	return 0;
nomem:
	free(sorted);
	return -ENOMEM;
}

static int make_groups(struct build *b)
{
	struct gtable *gt = b->gt;
	size_t *start = NULL, i;
	uint32_t *idx = NULL;
	int err;

	err = order_candidates(b, &idx, &start);
	if (err)
		return err;
	gt->groups = calloc(b->groups.n, sizeof(*gt->groups));
	if (!gt->groups)
		err = -ENOMEM;
	for (i = 0; !err && i < b->groups.n; i++) {
		err = make_group(b, idx + start[i], start[i + 1] - start[i],
				 &gt->groups[i]);
		gt->ngroups = i + 1;
	}
	free(idx);
	free(start);
	return err;
}

static int build__init(struct build *b)
{
	const struct gtable_source *src = b->src;
	size_t max = src->nparked + (src->snap ? src->snap->n : 0), i;
	size_t gsz = gobin__offsets(src->bin)->g_size;

	b->cands = malloc((max ? max : 1) * sizeof(*b->cands));
	b->win = malloc(GREAD_WINDOW * sizeof(*b->win));
	b->addrs = malloc(GREAD_WINDOW * sizeof(*b->addrs));
	b->gbufs = malloc(GREAD_WINDOW * gsz);
	b->ok = malloc(GREAD_WINDOW * sizeof(*b->ok));
	b->items = malloc(GREAD_WINDOW * sizeof(*b->items));
	b->item_of = malloc(GREAD_WINDOW * sizeof(*b->item_of));
	b->sites = malloc((src->nsites ? src->nsites : 1) * sizeof(*b->sites));
	if (!b->cands || !b->win || !b->addrs || !b->gbufs || !b->ok ||
	    !b->items || !b->item_of || !b->sites)
		return -ENOMEM;
	for (i = 0; i < src->nsites; i++)
		b->sites[i] = (struct site_ent){ src->skeys[i].pc,
						 src->sites[i] };
	qsort(b->sites, src->nsites, sizeof(*b->sites), cmp_site);
	if (src->snap) {
		b->from_snap = (struct stackset_map){ &src->snap->stacks,
						      &b->stacks, NULL, 0 };
		b->cap_seen_next = src->nparked;
		b->seen_next = malloc((src->nparked ? src->nparked : 1) *
				      sizeof(*b->seen_next));
		if (!b->seen_next)
			return -ENOMEM;
	}
	/* The semtable holds at most one sudog per goroutine. */
	gread__init(&b->reader, src->bin, src->target,
		    (src->snap ? src->snap->allglen : 0) + max + 1024);
	return 0;
}

static void build__free(struct build *b)
{
	free(b->cands);
	free(b->win);
	free(b->addrs);
	free(b->gbufs);
	free(b->ok);
	free(b->items);
	free(b->item_of);
	free(b->sites);
	stackset_map__free(&b->from_snap);
	free(b->seen_next);
	stackset__free(&b->stacks);
	group_index__free(&b->groups);
	gread__free(&b->reader);
}

int gtable__build(struct gtable *gt, const struct gtable_source *src)
{
	struct build b = { .gt = gt, .src = src };
	struct key_idx *order;
	size_t i;
	int err;

	memset(gt, 0, sizeof(*gt));
	gt->stats.tracked = src->nparked;
	gt->threshold_ns = src->threshold_ns;
	if (src->snap)
		gt->max_goid = src->snap->max_goid;
	err = build__init(&b);
	/* The probes' records come in hash order: by goid, they pair with
	 * the snapshot's lists in one pass, and groups fill in order. */
	order = malloc((src->nparked ? src->nparked : 1) * sizeof(*order));
	if (!order)
		err = err ?: -ENOMEM;
	for (i = 0; !err && i < src->nparked; i++) {
		order[i] = (struct key_idx){ src->parked[i].goid, i };
		if (src->parked[i].goid > gt->max_goid)
			gt->max_goid = src->parked[i].goid;
	}
	if (!err)
		err = keysort__sort(order, src->nparked);
	if (!err)
		err = consider_probed(&b, order);
	if (!err && src->snap)
		err = consider_snapshot(&b, order);
	free(order);
	if (!err && b.nwin)
		err = check_window(&b);
	/* The seen list is replaced whole: goroutines gone meanwhile
	 * leave it. */
	if (!err && src->snap) {
		err = snapshot__update_seen(src->snap, b.seen_next,
					    b.nseen_next);
		b.seen_next = NULL;
	}
	if (!err && b.n)
		err = make_groups(&b);
	if (!err)
		gt->ngoroutines = b.n;
	build__free(&b);
	if (err)
		gtable__clear(gt);
	return err;
}

void gtable__clear(struct gtable *gt)
{
	size_t i;

	for (i = 0; i < gt->ngroups; i++) {
		free(gt->groups[i].goids);
		free(gt->groups[i].parked_ns);
		free(gt->groups[i].objects);
		free(gt->groups[i].at_attach);
	}
	free(gt->groups);
	memset(gt, 0, sizeof(*gt));
}

const char *gtable__object_kind_name(enum gt_object_kind kind)
{
	switch (kind) {
	case GT_OBJECT_CHAN:
		return "channel";
	case GT_OBJECT_COND:
		return "cond";
	case GT_OBJECT_SEMA:
		return "sema";
	default:
		return NULL;
	}
}

const char *gtable__class_name(enum gt_class class)
{
	switch (class) {
	case GT_CLASS_NEVER_WAKEABLE:
		return "never_wakeable";
	case GT_CLASS_LIKELY_LEAKED:
		return "likely_leaked";
	case GT_CLASS_IDLE_POOL:
		return "idle_pool";
	default:
		return "parked";
	}
}
