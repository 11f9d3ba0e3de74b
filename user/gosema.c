// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "array.h"
#include "gosema.h"
#include "keysort.h"
#include "vmread.h"

/* runtime/sema.go: semTabSize, and an entry is a semaRoot padded to a
 * cache line (64 bytes on amd64 and arm64). */
#define SEM_TAB_SIZE 251
#define MAX_ENTRY_SIZE 1024
/* Enough of a sudog for every field read (Go 1.27: 104 bytes). */
#define MAX_SUDOG_READ 256
/* Go's heap pages: objects (sudogs) never straddle one. Chains are read
 * a page at a time, as their sudogs were mostly allocated together. */
#define PAGE_SIZE_GO 8192
#define PAGE_CACHE 256

/* A sudog to visit: a treap node (its address must lie in (lo, hi)) or a
 * waitlink chain member (its address must be the chain head's). */
struct visit {
	uint64_t sudog;
	uint64_t lo, hi;	/* tree: exclusive bounds; chain: lo = elem */
	uint16_t bucket;
	bool chain;
};

struct page {
	uint64_t addr;		/* 0: empty */
	bool reading;		/* requested this round */
	uint8_t data[PAGE_SIZE_GO];
};

struct walk {
	const struct go_offsets *o;
	const struct target *t;
	uint32_t read_len;	/* bytes of a sudog read */
	struct visit *cur, *next;
	size_t ncur, nnext, cap_cur, cap_next;
	struct sema_waiters *out;
	size_t cap_out;
	struct page *pages;	/* direct-mapped by page number */
	uint8_t *bufs;		/* read_len bytes per visit */
	size_t cap_bufs;
	const uint8_t **data;	/* per visit: its copy, or NULL */
	size_t cap_data;
	struct vm_read *reqs;
	size_t cap_reqs;
	uint64_t visited, max_nodes;
};

static uint64_t load(const uint8_t *p, int32_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint32_t sudog_read_len(const struct go_offsets *o)
{
	int32_t offs[] = { o->sudog_g, o->sudog_next, o->sudog_prev,
			   o->sudog_elem, o->sudog_waitlink, o->sudog_c };
	int32_t max = 0;
	size_t i;

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		if (offs[i] < 0)
			return 0;
		if (offs[i] > max)
			max = offs[i];
	}
	return max + 8 <= MAX_SUDOG_READ ? max + 8 : 0;
}

static bool layout_known(const struct go_offsets *o, uint64_t size)
{
	return o->semaroot_treap >= 0 && sudog_read_len(o) && size &&
	       size % SEM_TAB_SIZE == 0 &&
	       size / SEM_TAB_SIZE <= MAX_ENTRY_SIZE &&
	       (uint64_t)o->semaroot_treap + 8 <= size / SEM_TAB_SIZE;
}

bool gosema__available(const struct gobin *bin)
{
	uint64_t addr, size;

	return !gobin__find_data(bin, "runtime.semtable", &addr, &size) &&
	       layout_known(gobin__offsets(bin), size);
}

/* Queues a visit for the next round (w->cur is being read: left as it
 * is). */
static int push(struct walk *w, const struct visit *v)
{
	int err = array__grow((void **)&w->next, &w->cap_next, w->nnext + 1,
			      sizeof(*w->next));

	if (!err)
		w->next[w->nnext++] = *v;
	return err;
}

/* Checks one sudog read for visit v, records its waiter and queues what
 * it links to. A sudog that fails a check is dropped with its links: the
 * runtime changed the tree under us, and what hangs below is unknown. */
static int visit(struct walk *w, const struct visit *v, const uint8_t *s)
{
	const struct go_offsets *o = w->o;
	uint64_t g = load(s, o->sudog_g), elem = load(s, o->sudog_elem);
	uint64_t prev = load(s, o->sudog_prev), next = load(s, o->sudog_next);
	uint64_t link = load(s, o->sudog_waitlink);
	struct visit child;
	int err;

	/* A semaphore sudog has no channel; its address hashes to the
	 * bucket it hangs in; a tree keeps addresses in order, a chain
	 * repeats its head's. */
	if (!g || g & 7 || !elem || load(s, o->sudog_c) ||
	    (elem >> 3) % SEM_TAB_SIZE != v->bucket ||
	    (v->chain ? elem != v->lo : elem <= v->lo || elem >= v->hi) ||
	    (prev | next | link) & 7) {
		w->out->rejected++;
		return 0;
	}
	err = array__grow((void **)&w->out->v, &w->cap_out, w->out->n + 1,
		   sizeof(*w->out->v));
	if (err)
		return err;
	w->out->v[w->out->n++] = (struct sema_waiter){ .g = g, .sema = elem,
						       .sudog = v->sudog };
	if (!v->chain && prev) {
		child = (struct visit){ prev, v->lo, elem, v->bucket, false };
		if ((err = push(w, &child)))
			return err;
	}
	if (!v->chain && next) {
		child = (struct visit){ next, elem, v->hi, v->bucket, false };
		if ((err = push(w, &child)))
			return err;
	}
	if (link) {
		child = (struct visit){ link, elem, 0, v->bucket, true };
		if ((err = push(w, &child)))
			return err;
	}
	return 0;
}

static struct page *page_of(struct walk *w, uint64_t addr)
{
	uint64_t base = addr & ~(uint64_t)(PAGE_SIZE_GO - 1);

	return &w->pages[(base / PAGE_SIZE_GO) % PAGE_CACHE];
}

/* Reads this round's sudogs and points data[i] at visit i's copy, NULL
 * when it could not be read. Tree nodes are read one by one (they are
 * scattered); chain members by their whole heap page, unless it is
 * cached or its cache slot is taken by another page this round. */
static int read_round(struct walk *w)
{
	size_t i, nreq = 0;
	struct page *pg;
	uint64_t base;
	int err;

	if ((err = array__grow((void **)&w->reqs, &w->cap_reqs, w->ncur,
			sizeof(*w->reqs))) ||
	    (err = array__grow((void **)&w->data, &w->cap_data, w->ncur,
			sizeof(*w->data))) ||
	    (err = array__grow((void **)&w->bufs, &w->cap_bufs,
			w->ncur * w->read_len, 1)))
		return err;
	for (i = 0; i < w->ncur; i++) {
		const struct visit *v = &w->cur[i];

		base = v->sudog & ~(uint64_t)(PAGE_SIZE_GO - 1);
		pg = page_of(w, v->sudog);
		w->data[i] = NULL;
		if (v->chain && pg->addr == base && !pg->reading)
			continue;
		if (v->chain && !pg->reading) {
			pg->reading = true;
			pg->addr = base;
			w->reqs[nreq++] = (struct vm_read){ .addr = base,
				.len = PAGE_SIZE_GO, .buf = pg->data };
			continue;
		}
		if (v->chain && pg->addr == base)
			continue;
		w->reqs[nreq++] = (struct vm_read){ .addr = v->sudog,
			.len = w->read_len, .buf = w->bufs + i * w->read_len };
	}
	if (nreq && (err = vmread__batch(w->t, w->reqs, nreq)))
		return err;
	for (i = 0; i < nreq; i++) {
		if (w->reqs[i].len == PAGE_SIZE_GO) {
			pg = page_of(w, w->reqs[i].addr);
			pg->reading = false;
			if (w->reqs[i].err)
				pg->addr = 0;
		}
	}
	for (i = 0; i < nreq; i++) {
		uint8_t *buf = w->reqs[i].buf;

		if (w->reqs[i].len == PAGE_SIZE_GO || w->reqs[i].err)
			continue;
		w->data[(buf - w->bufs) / w->read_len] = buf;
	}
	for (i = 0; i < w->ncur; i++) {
		const struct visit *v = &w->cur[i];
		uint64_t off = v->sudog & (PAGE_SIZE_GO - 1);

		pg = page_of(w, v->sudog);
		if (v->chain && !w->data[i] && pg->addr == v->sudog - off &&
		    off + w->read_len <= PAGE_SIZE_GO)
			w->data[i] = pg->data + off;
	}
	/* A page that could not be read whole: its sudogs one by one. */
	for (i = 0, nreq = 0; i < w->ncur; i++)
		if (w->cur[i].chain && !w->data[i])
			w->reqs[nreq++] = (struct vm_read){
				.addr = w->cur[i].sudog, .len = w->read_len,
				.buf = w->bufs + i * w->read_len };
	if (nreq && (err = vmread__batch(w->t, w->reqs, nreq)))
		return err;
	for (i = 0; i < nreq; i++) {
		uint8_t *buf = w->reqs[i].buf;

		if (!w->reqs[i].err)
			w->data[(buf - w->bufs) / w->read_len] = buf;
	}
	return 0;
}

static int walk_round(struct walk *w)
{
	size_t i;
	int err;

	err = read_round(w);
	for (i = 0; !err && i < w->ncur; i++) {
		if (++w->visited > w->max_nodes)
			return 0;
		if (w->data[i])
			err = visit(w, &w->cur[i], w->data[i]);
		else
			w->out->rejected++;
	}
	return err;
}

/* Sorts by g; a g listed on two addresses (the tree changed while we
 * read it) is dropped, a g listed twice on one address kept once. */
static int sort_waiters(struct sema_waiters *ws)
{
	struct sema_waiter *v = ws->v;
	struct key_idx *k;
	size_t i, j, n = 0;
	bool same;
	int err;

	k = malloc((ws->n ? ws->n : 1) * sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (i = 0; i < ws->n; i++)
		k[i] = (struct key_idx){ v[i].g, i };
	err = keysort__sort(k, ws->n);
	ws->v = err ? NULL : malloc((ws->n ? ws->n : 1) * sizeof(*v));
	if (!ws->v) {
		ws->v = v;
		free(k);
		return -ENOMEM;
	}
	for (i = 0; i < ws->n; i = j) {
		same = true;
		for (j = i + 1; j < ws->n && k[j].key == k[i].key; j++)
			same &= v[k[j].idx].sema == v[k[i].idx].sema;
		if (same)
			ws->v[n++] = v[k[i].idx];
		else
			ws->rejected += j - i;
	}
	ws->n = n;
	free(v);
	free(k);
	return 0;
}

int gosema__walk(struct sema_waiters *out, const struct gobin *bin,
		 const struct target *t, uint64_t max_nodes)
{
	uint64_t addr, size;

	memset(out, 0, sizeof(*out));
	if (!gosema__available(bin))
		return -ENOENT;
	gobin__find_data(bin, "runtime.semtable", &addr, &size);
	return gosema__walk_table(out, gobin__offsets(bin), t,
				  addr + t->load_bias, size, max_nodes);
}

int gosema__walk_table(struct sema_waiters *out, const struct go_offsets *o,
		       const struct target *t, uint64_t addr, uint64_t size,
		       uint64_t max_nodes)
{
	struct walk w = { .o = o, .t = t, .out = out,
			  .max_nodes = max_nodes };
	uint64_t stride, root;
	uint8_t *table = NULL;
	struct visit *swap;
	size_t i, cap;
	int err;

	memset(out, 0, sizeof(*out));
	if (!layout_known(o, size))
		return -ENOENT;
	stride = size / SEM_TAB_SIZE;
	w.read_len = sudog_read_len(w.o);
	err = -ENOMEM;
	table = malloc(size);
	w.pages = calloc(PAGE_CACHE, sizeof(*w.pages));
	if (!table || !w.pages)
		goto out;
	err = target__read(t, addr, table, size);
	if (err)
		goto out;
	for (i = 0; i < SEM_TAB_SIZE; i++) {
		root = load(table + i * stride, w.o->semaroot_treap);
		if (!root || root & 7)
			continue;
		err = push(&w, &(struct visit){ root, 0, UINT64_MAX, i, false });
		if (err)
			goto out;
	}
	/* Breadth first, every bucket at once: one batch of reads a level
	 * (a chain member a round). */
	while (w.nnext && w.visited <= w.max_nodes) {
		swap = w.cur;
		w.cur = w.next;
		w.next = swap;
		cap = w.cap_cur;
		w.cap_cur = w.cap_next;
		w.cap_next = cap;
		w.ncur = w.nnext;
		w.nnext = 0;
		err = walk_round(&w);
		if (err)
			goto out;
	}
	err = sort_waiters(out);
out:
	free(table);
	free(w.cur);
	free(w.next);
	free(w.pages);
	free(w.bufs);
	free(w.data);
	free(w.reqs);
	if (err)
		gosema__free(out);
	return err;
}

void gosema__free(struct sema_waiters *w)
{
	free(w->v);
	memset(w, 0, sizeof(*w));
}

const struct sema_waiter *gosema__find(const struct sema_waiters *w,
				       uint64_t g)
{
	size_t lo = 0, hi = w->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (w->v[mid].g == g)
			return &w->v[mid];
		if (w->v[mid].g < g)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
