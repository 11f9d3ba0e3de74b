// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "gtable.h"

/* Parked stacks are shallow: one read of this much covers most chains;
 * deeper frames are read one by one. */
#define STACK_CHUNK 2048
#define MAX_G_SIZE 4096

/* One parked goroutine that passed every check, before grouping. */
struct candidate {
	uint64_t goid, parked_ns, gopc, startpc, object;
	unsigned reason;
	bool lower_bound;
	uint32_t stack;		/* id in struct stacks */
};

/* Park stacks interned, so that a million goroutines parked at a handful
 * of places cost a handful of stacks. */
struct stack_ent {
	uint64_t hash;
	uint32_t off, n;
};

struct stacks {
	uint64_t *pcs;		/* every stack, back to back */
	size_t npcs, cap_pcs;
	struct stack_ent *ents;
	size_t nents, cap_ents;
	uint32_t *slots;	/* open addressing: entry index + 1, 0 free */
	size_t nslots;		/* power of two */
};

static uint64_t hash_pcs(const uint64_t *pcs, int n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int i;

	for (i = 0; i < n; i++)
		h = (h ^ pcs[i]) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 64;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * size);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static int stacks__rehash(struct stacks *s)
{
	size_t n = s->nslots ? s->nslots * 2 : 256, i, j;
	uint32_t *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < s->nents; i++) {
		for (j = s->ents[i].hash & (n - 1); slots[j]; j = (j + 1) & (n - 1))
			;
		slots[j] = i + 1;
	}
	free(s->slots);
	s->slots = slots;
	s->nslots = n;
	return 0;
}

static int stacks__intern(struct stacks *s, const uint64_t *pcs, int n,
			  uint32_t *id)
{
	uint64_t h = hash_pcs(pcs, n);
	struct stack_ent *e;
	size_t j;
	int err;

	if ((s->nents + 1) * 2 > s->nslots && (err = stacks__rehash(s)))
		return err;
	for (j = h & (s->nslots - 1); s->slots[j]; j = (j + 1) & (s->nslots - 1)) {
		e = &s->ents[s->slots[j] - 1];
		if (e->hash == h && e->n == (uint32_t)n &&
		    !memcmp(s->pcs + e->off, pcs, n * sizeof(*pcs))) {
			*id = s->slots[j] - 1;
			return 0;
		}
	}
	if ((err = grow((void **)&s->pcs, &s->cap_pcs, s->npcs + n,
			sizeof(*s->pcs))) ||
	    (err = grow((void **)&s->ents, &s->cap_ents, s->nents + 1,
			sizeof(*s->ents))))
		return err;
	memcpy(s->pcs + s->npcs, pcs, n * sizeof(*pcs));
	s->ents[s->nents] = (struct stack_ent){ .hash = h, .off = s->npcs,
						.n = n };
	s->npcs += n;
	*id = s->nents;
	s->slots[j] = ++s->nents;
	return 0;
}

static void stacks__free(struct stacks *s)
{
	free(s->pcs);
	free(s->ents);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

static uint64_t load_u64(const uint8_t *g, int32_t off)
{
	uint64_t v;

	memcpy(&v, g + off, sizeof(v));
	return v;
}

static uint32_t load_u32(const uint8_t *g, int32_t off)
{
	uint32_t v;

	memcpy(&v, g + off, sizeof(v));
	return v;
}

int gtable__walk_stack(const struct target *t, uint64_t pc, uint64_t bp,
		       uint64_t stack_lo, uint64_t stack_hi, uint64_t *pcs,
		       int max_pcs)
{
	static uint8_t chunk[STACK_CHUNK];
	uint64_t chunk_lo = bp, chunk_len = 0, frame[2];
	int n = 0;

	if (max_pcs <= 0)
		return 0;
	pcs[n++] = pc;
	/* Most parked stacks are small: one read covers the whole chain. */
	if (bp >= stack_lo && bp < stack_hi) {
		chunk_len = stack_hi - bp < STACK_CHUNK ? stack_hi - bp
							: STACK_CHUNK;
		if (target__read(t, chunk_lo, chunk, chunk_len))
			chunk_len = 0;
	}
	while (n < max_pcs && bp) {
		/* Frames only grow toward stack_hi; anything else is a
		 * corrupt or moving stack. */
		if (bp < stack_lo || bp > stack_hi - sizeof(frame) || bp & 7)
			break;
		if (bp >= chunk_lo && bp - chunk_lo + sizeof(frame) <= chunk_len)
			memcpy(frame, chunk + (bp - chunk_lo), sizeof(frame));
		else if (target__read(t, bp, frame, sizeof(frame)))
			break;
		if (!frame[1])
			break;
		pcs[n++] = frame[1];
		if (frame[0] && frame[0] <= bp)
			break;
		bp = frame[0];
	}
	return n;
}

/* The object a parked goroutine waits on, 0 when unknown. Channel ops and
 * select link their sudogs from g.waiting (sudog.c is the hchan; for a
 * select, the first case's channel stands for the set). A sync.Cond parks
 * with its notifyList's lock as gopark's lock argument. Semaphores park on
 * a lock shared by unrelated addresses, so they stay unknown. */
static uint64_t wait_object(const struct gtable_source *src, const uint8_t *g,
			    const struct glt_parked *p)
{
	const struct go_offsets *o = gobin__offsets(src->bin);
	const char *reason = gobin__wait_reason(src->bin, p->reason);
	uint64_t sudog = load_u64(g, o->g_waiting), hchan = 0;

	if (!strcmp(reason, "sync.Cond.Wait"))
		return p->lock;
	if (sudog && o->sudog_c >= 0 &&
	    !target__read(src->target, sudog + o->sudog_c, &hchan,
			  sizeof(hchan)))
		return hchan;
	return 0;
}

/* Whether link-time pc lies in the function called name. */
static bool in_func(const struct gobin *bin, uint64_t pc, const char *name)
{
	struct pclntab_frame f;

	return gobin__symbolize(bin, pc, &f, 1) == 1 && !strcmp(f.func, name);
}

/* The runtime's own way up a stack: frame sizes from the pcsp table, the
 * return address right above each frame (x86-64). Only where the
 * frame-pointer chain breaks: a goroutine parked inside a cgo callback,
 * whose runtime.cgocallback frame links to the C code's frame pointer on
 * the thread's stack. Its frame size leads on, through the PC that
 * cgocallback pushed as its own return address (asm_amd64.s), to
 * runtime.cgocall and the Go code that called C, as Go's tracebacks show
 * it. Ends after runtime.goexit or at the first frame it cannot size. */
static int walk_stack_sp(const struct gtable_source *src, uint64_t pc,
			 uint64_t sp, uint64_t lo, uint64_t hi, uint64_t *pcs,
			 int max_pcs)
{
	uint64_t bias = src->target->load_bias, ret;
	int32_t delta;
	int n = 0;

	while (n < max_pcs && pc) {
		pcs[n++] = pc;
		/* The innermost pc (sched.pc) is itself a return address. */
		if (in_func(src->bin, pc - bias - 1, "runtime.goexit") ||
		    gobin__sp_delta(src->bin, pc - bias, &delta) ||
		    sp < lo || sp & 7 || sp > hi || (uint64_t)delta > hi - sp ||
		    hi - sp - delta < 8 ||
		    target__read(src->target, sp + delta, &ret, sizeof(ret)))
			break;
		pc = ret;
		sp += (uint64_t)delta + 8;
	}
	return n;
}

/* Reads the goroutine's g and checks it still is the goroutine the probe
 * saw park, still parked for the same reason. 0 when it is; otherwise a
 * positive reason code counted in stats. */
enum verdict { KEEP, RUNNING, REUSED, READ_FAILED, RACED, NO_MEMORY };

static enum verdict read_candidate(const struct gtable_source *src,
				   uint64_t goid, const struct glt_parked *p,
				   struct stacks *st, struct candidate *c)
{
	const struct go_offsets *o = gobin__offsets(src->bin);
	uint8_t g[MAX_G_SIZE], again[MAX_G_SIZE];
	uint64_t pcs[GT_MAX_FRAMES];
	int npcs;
	size_t gsz = o->g_size;
	uint32_t status;

	if (gsz > sizeof(g) || target__read(src->target, p->g, g, gsz))
		return READ_FAILED;
	if (load_u64(g, o->g_goid) != goid)
		return REUSED;
	status = load_u32(g, o->g_atomicstatus);
	/* Woken by a path the probes do not see (netpoll, park abort), or
	 * parked again by something other than gopark (GC suspension). */
	if (!go_status_parked(status) || g[o->g_waitreason] != p->reason)
		return RUNNING;
	c->goid = goid;
	c->reason = p->reason;
	c->gopc = load_u64(g, o->g_gopc);
	c->startpc = load_u64(g, o->g_startpc);
	c->object = wait_object(src, g, p);
	c->parked_ns = src->now_ns > p->park_ns ? src->now_ns - p->park_ns : 0;
	npcs = gtable__walk_stack(src->target, load_u64(g, o->g_sched_pc),
				  load_u64(g, o->g_sched_bp),
				  load_u64(g, o->g_stack_lo),
				  load_u64(g, o->g_stack_hi), pcs, GT_MAX_FRAMES);
	if (npcs > 1 && gobin__arch(src->bin) == GOBIN_ARCH_X86_64 &&
	    in_func(src->bin, pcs[npcs - 1] - src->target->load_bias - 1,
		    "runtime.cgocallback"))
		npcs = walk_stack_sp(src, load_u64(g, o->g_sched_pc),
				     load_u64(g, o->g_sched_sp),
				     load_u64(g, o->g_stack_lo),
				     load_u64(g, o->g_stack_hi), pcs,
				     GT_MAX_FRAMES);
	/* The stack is only meaningful if the goroutine stayed parked, on
	 * the same stack, while we walked it. */
	if (target__read(src->target, p->g, again, gsz))
		return READ_FAILED;
	if (load_u64(again, o->g_goid) != goid ||
	    load_u32(again, o->g_atomicstatus) != load_u32(g, o->g_atomicstatus) ||
	    load_u64(again, o->g_sched_sp) != load_u64(g, o->g_sched_sp) ||
	    load_u64(again, o->g_sched_bp) != load_u64(g, o->g_sched_bp))
		return RACED;
	return stacks__intern(st, pcs, npcs, &c->stack) ? NO_MEMORY : KEEP;
}

static int cmp_candidate(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	if (x->reason != y->reason)
		return x->reason < y->reason ? -1 : 1;
	if (x->gopc != y->gopc)
		return x->gopc < y->gopc ? -1 : 1;
	if (x->stack != y->stack)
		return x->stack < y->stack ? -1 : 1;
	/* Within a group: ascending goid. */
	if (x->goid != y->goid)
		return x->goid < y->goid ? -1 : 1;
	return 0;
}

static int same_group(const struct candidate *x, const struct candidate *y)
{
	return x->reason == y->reason && x->gopc == y->gopc &&
	       x->stack == y->stack;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void find_site(const struct gtable_source *src, uint64_t pc,
		      struct glt_site *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < src->nsites; i++)
		if (src->site_pcs[i] == pc) {
			*out = src->sites[i];
			return;
		}
}

/* One report's work in progress. */
struct build {
	struct gtable *gt;
	const struct gtable_source *src;
	struct candidate *cands;
	size_t n;
	struct stacks stacks;
	int err;		/* sticky: out of memory while interning */
};

/* Turns sorted candidates c[0..n) into one group. */
static int make_group(const struct build *b, const struct candidate *c,
		      size_t n, struct gt_group *grp)
{
	const struct stack_ent *stack = &b->stacks.ents[c->stack];
	uint64_t *sorted;
	size_t i;

	memset(grp, 0, sizeof(*grp));
	grp->goids = malloc(n * sizeof(*grp->goids));
	grp->parked_ns = malloc(n * sizeof(*grp->parked_ns));
	sorted = malloc(n * sizeof(*sorted));
	if (!grp->goids || !grp->parked_ns || !sorted) {
		free(sorted);
		return -ENOMEM;
	}
	grp->reason = c->reason;
	grp->gopc = c->gopc;
	grp->startpc = c->startpc;
	grp->npcs = stack->n;
	memcpy(grp->pcs, b->stacks.pcs + stack->off,
	       grp->npcs * sizeof(grp->pcs[0]));
	grp->count = n;
	for (i = 0; i < n; i++) {
		grp->lower_bound |= c[i].lower_bound;
		grp->goids[i] = c[i].goid;
		grp->parked_ns[i] = sorted[i] = c[i].parked_ns;
	}
	qsort(sorted, n, sizeof(*sorted), cmp_u64);
	grp->oldest_ns = sorted[n - 1];
	grp->median_ns = sorted[n / 2];
	/* Distinct objects: reuse the buffer, sorted again by object. */
	for (i = 0; i < n; i++) {
		sorted[i] = c[i].object;
		grp->unknown_objects += !c[i].object;
	}
	qsort(sorted, n, sizeof(*sorted), cmp_u64);
	for (i = 0; i < n; i++)
		if (sorted[i] && (i == 0 || sorted[i] != sorted[i - 1]))
			grp->nobjects++;
	grp->object = grp->nobjects == 1 && !grp->unknown_objects ?
		      sorted[0] : 0;
	free(sorted);
	find_site(b->src, c->gopc, &grp->site);
	return 0;
}

/* Checks one tracked goroutine and, if it passes, appends it. */
static void consider(struct build *b, uint64_t goid,
		     const struct glt_parked *p, bool lower_bound)
{
	const struct gtable_source *src = b->src;
	struct gt_stats *stats = &b->gt->stats;

	if (src->now_ns < p->park_ns ||
	    src->now_ns - p->park_ns < src->threshold_ns) {
		stats->young++;
		return;
	}
	switch (read_candidate(src, goid, p, &b->stacks, &b->cands[b->n])) {
	case KEEP:
		b->cands[b->n++].lower_bound = lower_bound;
		break;
	case RUNNING:
		stats->running++;
		break;
	case REUSED:
		stats->reused++;
		break;
	case READ_FAILED:
		stats->read_failed++;
		break;
	case RACED:
		stats->raced++;
		break;
	case NO_MEMORY:
		b->err = -ENOMEM;
		break;
	}
}

/* Snapshot goroutines the probes have not seen park since attach. Their
 * park time is a lower bound: the first scan that saw them, or earlier
 * when a GC stamped g.waitsince (the runtime's nanotime is
 * CLOCK_MONOTONIC too). */
static int consider_snapshot(struct build *b)
{
	const struct gtable_source *src = b->src;
	const struct snapshot *snap = src->snap;
	uint64_t *seen;
	size_t i;

	seen = malloc((src->nparked ? src->nparked : 1) * sizeof(*seen));
	if (!seen)
		return -ENOMEM;
	memcpy(seen, src->goids, src->nparked * sizeof(*seen));
	qsort(seen, src->nparked, sizeof(*seen), cmp_u64);
	for (i = 0; i < snap->n; i++) {
		const struct snapshot_g *sg = &snap->gs[i];
		struct glt_parked p = { .g = sg->g, .reason = sg->reason,
					.park_ns = sg->first_seen_ns };

		if (bsearch(&sg->goid, seen, src->nparked, sizeof(*seen),
			    cmp_u64))
			continue;
		if (sg->waitsince && sg->waitsince < p.park_ns)
			p.park_ns = sg->waitsince;
		b->gt->stats.tracked++;
		consider(b, sg->goid, &p, true);
	}
	free(seen);
	return 0;
}

int gtable__build(struct gtable *gt, const struct gtable_source *src)
{
	struct build b = { .gt = gt, .src = src };
	size_t i, start, max = src->nparked;
	int err = 0;

	memset(gt, 0, sizeof(*gt));
	gt->stats.tracked = src->nparked;
	if (src->snap) {
		max += src->snap->n;
		gt->max_goid = src->snap->max_goid;
	}
	b.cands = malloc((max ? max : 1) * sizeof(*b.cands));
	if (!b.cands)
		return -ENOMEM;
	for (i = 0; i < src->nparked; i++) {
		if (src->goids[i] > gt->max_goid)
			gt->max_goid = src->goids[i];
		consider(&b, src->goids[i], &src->parked[i], false);
	}
	if (src->snap)
		err = consider_snapshot(&b);
	if (!err)
		err = b.err;
	if (err || !b.n)
		goto out;
	qsort(b.cands, b.n, sizeof(*b.cands), cmp_candidate);
	gt->groups = calloc(b.n, sizeof(*gt->groups));
	if (!gt->groups) {
		err = -ENOMEM;
		goto out;
	}
	for (start = 0, i = 1; i <= b.n; i++) {
		if (i < b.n && same_group(&b.cands[start], &b.cands[i]))
			continue;
		err = make_group(&b, &b.cands[start], i - start,
				 &gt->groups[gt->ngroups++]);
		if (err)
			goto out;
		start = i;
	}
	gt->ngoroutines = b.n;
out:
	free(b.cands);
	stacks__free(&b.stacks);
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
	}
	free(gt->groups);
	memset(gt, 0, sizeof(*gt));
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
