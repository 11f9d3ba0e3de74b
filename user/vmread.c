// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include "keysort.h"
#include "vmread.h"

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif
/* Requests closer than this share one remote range: copying the gap is
 * cheaper than another range (g structs sit 24 bytes apart in their
 * size class, sudogs 8). */
#define RUN_GAP 512
#define RUN_MAX (64 << 10)
/* A run's requests take two local iovecs each (gap, buffer). */
#define MAX_RUN_REQS 256
/* Overlapping requests land here before they are copied out. */
#define SCRATCH_SIZE (4 << 20)

/* One remote range: requests order[first .. first + n) of the sorted
 * array. Their bytes go straight into their buffers (the gaps between
 * them into a sink) unless two overlap: then through the scratch
 * buffer. */
struct run {
	uint64_t lo, hi;
	size_t first, n;
	size_t local;		/* its first local iovec */
	size_t scratch;		/* offset in the scratch buffer, if used */
	bool overlap;
};

struct batch {
	const struct target *t;
	struct vm_read *reqs;
	struct key_idx *order;
	struct run *runs;
	struct iovec *local, *remote;	/* local: IOV_MAX, remote: per run */
	size_t nruns, nlocal, max_runs, scratch_used;
	uint8_t *scratch;	/* allocated on the first overlapping run */
	uint8_t sink[RUN_GAP];
	bool gone;		/* the process exited */
};

static void read_alone(struct batch *b, struct vm_read *r)
{
	r->err = target__read(b->t, r->addr, r->buf, r->len);
}

/* Hands the data of a run read in full to its requests. */
static void run_done(struct batch *b, const struct run *run)
{
	struct vm_read *r;
	size_t j;

	for (j = 0; j < run->n; j++) {
		r = &b->reqs[b->order[run->first + j].idx];
		r->err = 0;
		if (run->overlap)
			memcpy(r->buf, b->scratch + run->scratch +
			       (r->addr - run->lo), r->len);
	}
}

/* Reads the queued runs. A run that fails is retried request by request,
 * and the runs after it, which the kernel did not try, are read again. */
static void flush(struct batch *b)
{
	size_t first = 0, i, j, left, nlocal;
	ssize_t got;

	while (first < b->nruns) {
		nlocal = b->nlocal - b->runs[first].local;
		got = process_vm_readv(b->t->pid,
				       b->local + b->runs[first].local, nlocal,
				       b->remote + first, b->nruns - first, 0);
		/* Gone: nothing more can be read, one by one neither. */
		if (got < 0 && errno == ESRCH)
			b->gone = true;
		if (b->gone)
			break;
		left = got > 0 ? (size_t)got : 0;
		for (i = first; i < b->nruns; i++) {
			if (left < b->remote[i].iov_len)
				break;
			left -= b->remote[i].iov_len;
			run_done(b, &b->runs[i]);
		}
		if (i == b->nruns)
			break;
		for (j = 0; j < b->runs[i].n; j++)
			read_alone(b, &b->reqs[b->order[b->runs[i].first + j].idx]);
		first = i + 1;
	}
	b->nruns = 0;
	b->nlocal = 0;
	b->scratch_used = 0;
}

static void add_local(struct batch *b, void *base, size_t len)
{
	b->local[b->nlocal++] = (struct iovec){ .iov_base = base,
						.iov_len = len };
}

static int queue(struct batch *b, struct run *run)
{
	size_t len = run->hi - run->lo, j, need;
	struct vm_read *r;
	uint64_t at;

	need = run->overlap ? 1 : 2 * run->n;
	if (b->nruns == b->max_runs || b->nlocal + need > IOV_MAX ||
	    (run->overlap && b->scratch_used + len > SCRATCH_SIZE))
		flush(b);
	if (run->overlap && !b->scratch) {
		b->scratch = malloc(SCRATCH_SIZE);
		if (!b->scratch)
			return -ENOMEM;
	}
	run->local = b->nlocal;
	if (run->overlap) {
		run->scratch = b->scratch_used;
		b->scratch_used += len;
		add_local(b, b->scratch + run->scratch, len);
	} else {
		for (j = 0, at = run->lo; j < run->n; j++) {
			r = &b->reqs[b->order[run->first + j].idx];
			if (r->addr > at)
				add_local(b, b->sink, r->addr - at);
			add_local(b, r->buf, r->len);
			at = r->addr + r->len;
		}
	}
	b->runs[b->nruns] = *run;
	b->remote[b->nruns++] = (struct iovec){
		.iov_base = (void *)(uintptr_t)run->lo, .iov_len = len };
	return 0;
}

static bool sorted(const struct key_idx *v, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (v[i].key < v[i - 1].key)
			return false;
	return true;
}

int vmread__batch(const struct target *t, struct vm_read *reqs, size_t n)
{
	struct batch b = { .t = t, .reqs = reqs };
	struct run run;
	size_t i, m = 0;
	uint64_t end;
	int err = -ENOMEM;

	if (!n)
		return 0;
	b.max_runs = n < IOV_MAX ? n : IOV_MAX;
	b.order = malloc(n * sizeof(*b.order));
	b.runs = malloc(b.max_runs * sizeof(*b.runs));
	b.local = malloc(IOV_MAX * sizeof(*b.local));
	b.remote = malloc(b.max_runs * sizeof(*b.remote));
	if (!b.order || !b.runs || !b.local || !b.remote)
		goto out;
	for (i = 0; i < n; i++) {
		/* Until read: a process that exits leaves them so. */
		reqs[i].err = -EFAULT;
		/* Empty reads succeed; one wrapping around never does. */
		if (!reqs[i].len)
			reqs[i].err = 0;
		if (!reqs[i].len || reqs[i].addr + reqs[i].len < reqs[i].addr)
			continue;
		b.order[m++] = (struct key_idx){ reqs[i].addr, i };
	}
	if (!sorted(b.order, m) && (err = keysort__sort(b.order, m)))
		goto out;
	for (i = 0; i < m;) {
		run = (struct run){ .lo = b.order[i].key, .first = i };
		run.hi = run.lo;
		for (; i < m; i++) {
			end = b.order[i].key + reqs[b.order[i].idx].len;
			if (run.n && (b.order[i].key > run.hi + RUN_GAP ||
				      run.n == MAX_RUN_REQS ||
				      (end > run.hi && end - run.lo > RUN_MAX)))
				break;
			run.overlap |= b.order[i].key < run.hi;
			if (end > run.hi)
				run.hi = end;
			run.n++;
		}
		err = queue(&b, &run);
		if (err)
			goto out;
	}
	flush(&b);
	err = 0;
out:
	free(b.order);
	free(b.runs);
	free(b.local);
	free(b.remote);
	free(b.scratch);
	return err;
}
