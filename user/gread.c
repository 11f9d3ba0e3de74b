// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "gread.h"
#include "vmread.h"

/* Parked stacks are shallow: one chunk read from g.sched.bp covers most
 * frame chains; deeper ones take another chunk a round. */
#define STACK_CHUNK 1024
/* Enough of a sudog for its elem and c (Go 1.27: c.vu at 96). */
#define MAX_SUDOG_READ 256
#define MAX_G_SIZE 4096

/* What a wait reason tells about the object. */
enum reason_kind {
	RK_UNSET,
	RK_OTHER,
	RK_CHAN,	/* gopark's lock is &hchan.lock */
	RK_SELECT,	/* channels only in the g.waiting sudogs */
	RK_COND,	/* gopark's lock is &notifyList.lock */
	RK_SEMA,	/* semacquire: the address is in the semtable */
};

static uint64_t load_u64(const uint8_t *p, int32_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint32_t load_u32(const uint8_t *p, int32_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

void gread__parse(const struct go_offsets *o, const uint8_t *g,
		  struct gfields *f)
{
	/* Optional fields (-1) read as 0. */
	f->goid = load_u64(g, o->g_goid);
	f->status = load_u32(g, o->g_atomicstatus);
	f->reason = g[o->g_waitreason];
	f->waitsince = o->g_waitsince >= 0 ? load_u64(g, o->g_waitsince) : 0;
	f->gopc = load_u64(g, o->g_gopc);
	f->startpc = load_u64(g, o->g_startpc);
	f->waiting = o->g_waiting >= 0 ? load_u64(g, o->g_waiting) : 0;
	f->sched_pc = load_u64(g, o->g_sched_pc);
	f->sched_sp = load_u64(g, o->g_sched_sp);
	f->sched_bp = load_u64(g, o->g_sched_bp);
	f->stack_lo = load_u64(g, o->g_stack_lo);
	f->stack_hi = load_u64(g, o->g_stack_hi);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

uint64_t gread__state(const struct gfields *f)
{
	uint64_t h = 0;

	h = mix(h, f->goid);
	h = mix(h, ((uint64_t)f->status << 32) | f->reason);
	h = mix(h, f->sched_pc);
	h = mix(h, f->sched_sp);
	h = mix(h, f->sched_bp);
	h = mix(h, f->stack_lo);
	h = mix(h, f->stack_hi);
	h = mix(h, f->waiting);
	return h ^ (h >> 31);
}

int gread__gs(const struct target *t, const uint64_t *addrs, size_t n,
	      size_t g_size, uint8_t *bufs, bool *ok)
{
	struct vm_read *reqs = malloc((n ? n : 1) * sizeof(*reqs));
	size_t i;
	int err;

	if (!reqs)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		reqs[i] = (struct vm_read){ .addr = addrs[i], .len = g_size,
					    .buf = bufs + i * g_size };
	err = vmread__batch(t, reqs, n);
	for (i = 0; !err && i < n; i++)
		ok[i] = addrs[i] && !reqs[i].err;
	free(reqs);
	return err;
}

/* ---- frame-pointer walks, many stacks a round ---------------------- */

struct walker {
	uint64_t bp, lo, hi;
	uint64_t base;		/* the chunk read: [base, base + len) */
	uint32_t len;
	bool small;		/* a chunk failed: frame by frame */
	bool done;
	uint64_t *pcs;
	int n, max;
};

static void walker__start(struct walker *w, uint64_t pc, uint64_t bp,
			  uint64_t lo, uint64_t hi, uint64_t *pcs, int max)
{
	*w = (struct walker){ .bp = bp, .lo = lo, .hi = hi, .pcs = pcs,
			      .max = max };
	if (max <= 0) {
		w->done = true;
		return;
	}
	w->pcs[w->n++] = pc;
}

/* Follows the chain through the chunk read. true when the next frame is
 * outside it, false when the walk ended. Frames only grow toward
 * stack.hi; anything else is a corrupt or moving stack. */
static bool walker__step(struct walker *w, const uint8_t *chunk)
{
	uint64_t frame[2];

	while (w->n < w->max && w->bp) {
		if (w->bp < w->lo || w->bp > w->hi || w->hi - w->bp < 16 ||
		    w->bp & 7)
			break;
		if (w->bp < w->base || w->bp - w->base + 16 > w->len)
			return true;
		memcpy(frame, chunk + (w->bp - w->base), sizeof(frame));
		if (!frame[1])
			break;
		w->pcs[w->n++] = frame[1];
		if (frame[0] && frame[0] <= w->bp)
			break;
		w->bp = frame[0];
	}
	w->done = true;
	return false;
}

/* Walks n stacks; chunks holds STACK_CHUNK bytes per walker. */
static int walk_many(const struct target *t, struct walker *ws, size_t n,
		     uint8_t *chunks)
{
	struct vm_read *reqs = malloc((n ? n : 1) * sizeof(*reqs));
	size_t *who = malloc((n ? n : 1) * sizeof(*who));
	size_t i, nreq;
	int err = -ENOMEM;

	if (!reqs || !who)
		goto out;
	for (;;) {
		for (i = 0, nreq = 0; i < n; i++) {
			struct walker *w = &ws[i];
			uint64_t len;

			if (w->done ||
			    !walker__step(w, chunks + i * STACK_CHUNK))
				continue;
			len = w->hi - w->bp;
			if (len > STACK_CHUNK)
				len = STACK_CHUNK;
			if (w->small)
				len = 16;
			w->base = w->bp;
			w->len = 0;
			who[nreq] = i;
			reqs[nreq++] = (struct vm_read){ .addr = w->bp,
				.len = len, .buf = chunks + i * STACK_CHUNK };
		}
		if (!nreq)
			break;
		err = vmread__batch(t, reqs, nreq);
		if (err)
			goto out;
		for (i = 0; i < nreq; i++) {
			struct walker *w = &ws[who[i]];

			if (!reqs[i].err)
				w->len = reqs[i].len;
			else if (w->small)
				w->done = true;
			else
				w->small = true;
		}
	}
	err = 0;
out:
	free(reqs);
	free(who);
	return err;
}

int gread__walk_stack(const struct target *t, uint64_t pc, uint64_t bp,
		      uint64_t stack_lo, uint64_t stack_hi, uint64_t *pcs,
		      int max_pcs)
{
	static uint8_t chunk[STACK_CHUNK];
	struct walker w;

	walker__start(&w, pc, bp, stack_lo, stack_hi, pcs, max_pcs);
	if (walk_many(t, &w, 1, chunk))
		return w.n;
	return w.n;
}

/* ---- what goroutines wait on --------------------------------------- */

void gread__init(struct gread *r, const struct gobin *bin,
		 const struct target *t, uint64_t max_nodes)
{
	memset(r, 0, sizeof(*r));
	r->bin = bin;
	r->t = t;
	r->max_nodes = max_nodes;
	r->sema_err = 1;
	if (gobin__find_func(bin, "runtime.cgocallback", &r->cgocallback[0],
			     &r->cgocallback[1]))
		r->cgocallback[0] = r->cgocallback[1] = 0;
	if (gobin__find_func(bin, "runtime.goexit", &r->goexit[0],
			     &r->goexit[1]))
		r->goexit[0] = r->goexit[1] = 0;
}

void gread__free(struct gread *r)
{
	free(r->reason_kind);
	gosema__free(&r->sema);
	memset(r, 0, sizeof(*r));
}

static enum reason_kind classify_reason(const char *name)
{
	if (!strcmp(name, "chan receive") || !strcmp(name, "chan send") ||
	    !strcmp(name, "chan receive (durable)") ||
	    !strcmp(name, "chan send (durable)") ||
	    !strcmp(name, "chan receive (synctest)") ||
	    !strcmp(name, "chan send (synctest)"))
		return RK_CHAN;
	if (!strncmp(name, "select", 6) && strcmp(name, "select (no cases)"))
		return RK_SELECT;
	if (!strcmp(name, "sync.Cond.Wait"))
		return RK_COND;
	/* sync.Mutex.Lock, sync.RWMutex.[R]Lock, sync.WaitGroup.Wait (and
	 * its synctest forms); before Go 1.21 all of them "semacquire". */
	if (!strcmp(name, "semacquire") || !strncmp(name, "sync.", 5))
		return RK_SEMA;
	return RK_OTHER;
}

static enum reason_kind reason_kind(struct gread *r, uint32_t reason)
{
	int n = gobin__wait_reason_count(r->bin);

	if ((int)reason >= n)
		return RK_OTHER;
	if (!r->reason_kind) {
		r->reason_kind = calloc(n, 1);
		if (!r->reason_kind)
			return RK_OTHER;
		r->nreasons = n;
	}
	if (r->reason_kind[reason] == RK_UNSET)
		r->reason_kind[reason] =
			classify_reason(gobin__wait_reason(r->bin, reason));
	return r->reason_kind[reason];
}

/* The semaphore waiters, walked on first need: once a pass. */
static const struct sema_waiters *sema_waiters(struct gread *r)
{
	if (r->sema_err == 1)
		r->sema_err = gosema__walk(&r->sema, r->bin, r->t,
					   r->max_nodes);
	return r->sema_err ? NULL : &r->sema;
}

/* Objects known without reading anything: from gopark's lock. Returns
 * whether the item still needs its g.waiting sudog read. */
static bool object_from_lock(struct gread *r, struct gread_item *it)
{
	const struct go_offsets *o = gobin__offsets(r->bin);
	enum reason_kind kind = reason_kind(r, it->f.reason);

	if (kind == RK_COND) {
		it->object = it->lock;
		it->object_kind = it->lock ? GT_OBJECT_COND : GT_OBJECT_NONE;
		return false;
	}
	if (kind == RK_CHAN && it->lock && o->hchan_lock >= 0 &&
	    it->lock > (uint64_t)o->hchan_lock) {
		it->object = it->lock - o->hchan_lock;
		it->object_kind = GT_OBJECT_CHAN;
		return false;
	}
	return it->f.waiting && o->sudog_c >= 0;
}

/* Bytes of a sudog read for its g, elem and c; 0 if one is unknown. */
static uint32_t sudog_len(const struct go_offsets *o)
{
	int32_t end = 0;

	if (o->sudog_c < 0 || o->sudog_elem < 0 || o->sudog_g < 0)
		return 0;
	end = o->sudog_c > o->sudog_elem ? o->sudog_c : o->sudog_elem;
	end = (end > o->sudog_g ? end : o->sudog_g) + 8;
	return end <= MAX_SUDOG_READ ? end : 0;
}

/* Channel operations and selects link their sudogs from g.waiting
 * (sudog.c is the hchan; a select's first case stands for the set).
 * From Go 1.26 a semaphore wait links one too, its address in elem and
 * no channel. Older semaphores are found in the semtable. */
static int wait_objects(struct gread *r, struct gread_item *items, size_t n)
{
	const struct go_offsets *o = gobin__offsets(r->bin);
	uint32_t len = sudog_len(o);
	struct vm_read *reqs = malloc((n ? n : 1) * sizeof(*reqs));
	uint8_t *bufs = malloc((n ? n : 1) * MAX_SUDOG_READ);
	const struct sema_waiters *sw;
	const struct sema_waiter *w;
	size_t i, nreq = 0;
	uint64_t c, elem;
	int err = -ENOMEM;

	if (!reqs || !bufs)
		goto out;
	for (i = 0; i < n; i++) {
		items[i].object = 0;
		items[i].object_kind = GT_OBJECT_NONE;
		if (object_from_lock(r, &items[i]) && len)
			reqs[nreq++] = (struct vm_read){
				.addr = items[i].f.waiting, .len = len,
				.buf = bufs + i * MAX_SUDOG_READ };
	}
	err = vmread__batch(r->t, reqs, nreq);
	if (err)
		goto out;
	for (i = 0; i < nreq; i++) {
		struct gread_item *it;

		if (reqs[i].err)
			continue;
		it = &items[((uint8_t *)reqs[i].buf - bufs) / MAX_SUDOG_READ];
		c = load_u64(reqs[i].buf, o->sudog_c);
		elem = o->sudog_elem >= 0 ?
		       load_u64(reqs[i].buf, o->sudog_elem) : 0;
		if (c) {
			it->object = c;
			it->object_kind = GT_OBJECT_CHAN;
		} else if (reason_kind(r, it->f.reason) == RK_SEMA && elem &&
			   load_u64(reqs[i].buf, o->sudog_g) == it->g) {
			it->object = elem;
			it->object_kind = GT_OBJECT_SEMA;
		}
	}
	for (i = 0; i < n; i++) {
		if (items[i].object_kind != GT_OBJECT_NONE ||
		    items[i].f.waiting ||
		    reason_kind(r, items[i].f.reason) != RK_SEMA ||
		    !(sw = sema_waiters(r)) || !(w = gosema__find(sw, items[i].g)))
			continue;
		items[i].object = w->sema;
		items[i].object_kind = GT_OBJECT_SEMA;
	}
	err = 0;
out:
	free(reqs);
	free(bufs);
	return err;
}

/* ---- the whole resolution ------------------------------------------ */

static bool in_range(const uint64_t range[2], uint64_t pc)
{
	return pc >= range[0] && pc < range[1];
}

/* The runtime's own way up a stack: frame sizes from the pcsp table, the
 * return address right above each frame (x86-64). Only where the
 * frame-pointer chain breaks: a goroutine parked inside a cgo callback,
 * whose runtime.cgocallback frame links to the C code's frame pointer on
 * the thread's stack. Its frame size leads on, through the PC that
 * cgocallback pushed as its own return address (asm_amd64.s), to
 * runtime.cgocall and the Go code that called C, as Go's tracebacks show
 * it. Ends after runtime.goexit or at the first frame it cannot size. */
static int walk_stack_sp(const struct gread *r, uint64_t pc, uint64_t sp,
			 uint64_t lo, uint64_t hi, uint64_t *pcs, int max_pcs)
{
	uint64_t bias = r->t->load_bias, ret;
	int32_t delta;
	int n = 0;

	while (n < max_pcs && pc) {
		pcs[n++] = pc;
		/* The innermost pc (sched.pc) is itself a return address. */
		if (in_range(r->goexit, pc - bias - 1) ||
		    gobin__sp_delta(r->bin, pc - bias, &delta) ||
		    sp < lo || sp & 7 || sp > hi || (uint64_t)delta > hi - sp ||
		    hi - sp - delta < 8 ||
		    target__read(r->t, sp + delta, &ret, sizeof(ret)))
			break;
		pc = ret;
		sp += (uint64_t)delta + 8;
	}
	return n;
}

static int walk_stacks(struct gread *r, struct gread_item *items, size_t n)
{
	uint8_t *chunks = malloc((n ? n : 1) * STACK_CHUNK);
	struct walker *ws = malloc((n ? n : 1) * sizeof(*ws));
	uint64_t bias = r->t->load_bias;
	struct gread_item *it;
	size_t i;
	int err = -ENOMEM;

	if (!chunks || !ws)
		goto out;
	for (i = 0; i < n; i++) {
		it = &items[i];
		walker__start(&ws[i], it->f.sched_pc, it->f.sched_bp,
			      it->f.stack_lo, it->f.stack_hi, it->pcs,
			      GT_MAX_FRAMES);
	}
	err = walk_many(r->t, ws, n, chunks);
	for (i = 0; !err && i < n; i++) {
		it = &items[i];
		it->npcs = ws[i].n;
		if (it->npcs > 1 && gobin__arch(r->bin) == GOBIN_ARCH_X86_64 &&
		    in_range(r->cgocallback, it->pcs[it->npcs - 1] - bias - 1))
			it->npcs = walk_stack_sp(r, it->f.sched_pc,
						 it->f.sched_sp,
						 it->f.stack_lo,
						 it->f.stack_hi, it->pcs,
						 GT_MAX_FRAMES);
	}
out:
	free(chunks);
	free(ws);
	return err;
}

/* Whether a sudog read again still queues g on the semaphore sema. */
static bool sudog_still_waits(const struct go_offsets *o, const uint8_t *s,
			      uint64_t g, uint64_t sema)
{
	return o->sudog_g >= 0 && o->sudog_elem >= 0 &&
	       load_u64(s, o->sudog_g) == g && load_u64(s, o->sudog_elem) == sema;
}

/* Reads every g again, with the sudog of each semaphore found in the
 * semtable: the stack and object stand only if the g did not change. */
static int verify(struct gread *r, struct gread_item *items, size_t n)
{
	const struct go_offsets *o = gobin__offsets(r->bin);
	size_t gsz = o->g_size, i, nreq = 0;
	struct vm_read *reqs = malloc((n ? n : 1) * 2 * sizeof(*reqs));
	uint8_t *gs = malloc((n ? n : 1) * gsz);
	uint32_t slen = sudog_len(o);
	uint8_t *sudogs = malloc((n ? n : 1) * MAX_SUDOG_READ);
	const struct sema_waiter *w;
	struct gfields again;
	bool *semas = calloc(n ? n : 1, sizeof(*semas));
	int err = -ENOMEM;

	if (!reqs || !gs || !sudogs || !semas)
		goto out;
	for (i = 0; i < n; i++) {
		reqs[nreq++] = (struct vm_read){ .addr = items[i].g,
			.len = gsz, .buf = gs + i * gsz };
		if (items[i].object_kind != GT_OBJECT_SEMA ||
		    items[i].f.waiting || !(w = gosema__find(&r->sema, items[i].g)))
			continue;
		/* Without a sudog to check, nothing is said. */
		if (!slen) {
			items[i].object = 0;
			items[i].object_kind = GT_OBJECT_NONE;
			continue;
		}
		semas[i] = true;
		reqs[nreq++] = (struct vm_read){ .addr = w->sudog,
			.len = slen, .buf = sudogs + i * MAX_SUDOG_READ };
	}
	err = vmread__batch(r->t, reqs, nreq);
	if (err)
		goto out;
	for (i = 0, nreq = 0; i < n; i++) {
		struct gread_item *it = &items[i];
		struct vm_read *greq = &reqs[nreq++];
		struct vm_read *sreq = semas[i] ? &reqs[nreq++] : NULL;

		if (greq->err) {
			it->verdict = GREAD_READ_FAILED;
			continue;
		}
		gread__parse(o, greq->buf, &again);
		if (gread__state(&again) != gread__state(&it->f)) {
			it->verdict = GREAD_RACED;
			continue;
		}
		it->verdict = GREAD_KEEP;
		if (sreq && (sreq->err || !sudog_still_waits(o, sreq->buf,
							     it->g, it->object)))
			it->object = 0, it->object_kind = GT_OBJECT_NONE;
	}
out:
	free(reqs);
	free(gs);
	free(sudogs);
	free(semas);
	return err;
}

int gread__resolve(struct gread *r, struct gread_item *items, size_t n)
{
	size_t i;
	int err;

	if (gobin__offsets(r->bin)->g_size > MAX_G_SIZE)
		return -EINVAL;
	err = walk_stacks(r, items, n);
	if (!err)
		err = wait_objects(r, items, n);
	if (!err && !r->watched)
		err = verify(r, items, n);
	for (i = 0; !err && r->watched && i < n; i++)
		items[i].verdict = GREAD_KEEP;
	return err;
}
