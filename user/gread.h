/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Parked goroutines read from the target's memory in batches, while it
 * runs: the fields of their g, their park stack (frame-pointer walk from
 * g.sched) and the object each waits on (a channel, a sync.Cond, a
 * semaphore). Shared by the attach-time snapshot and the goroutine
 * table; a million goroutines cost a few thousand process_vm_readv
 * calls, not millions. */
#ifndef GOLEAKTRACE_GREAD_H
#define GOLEAKTRACE_GREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gobin.h"
#include "gosema.h"
#include "target.h"

#define GT_MAX_FRAMES 64
/* Goroutines resolved together: bounds the buffers (a few MiB). */
#define GREAD_WINDOW 4096

/* What a goroutine waits on; gtable__object_kind_name() names them. */
enum gt_object_kind {
	GT_OBJECT_NONE,		/* unknown, or nothing */
	GT_OBJECT_CHAN,		/* an hchan (a select: its first case's) */
	GT_OBJECT_COND,		/* a sync.Cond's notifyList lock */
	GT_OBJECT_SEMA,		/* a semaphore: &mu.sema, &wg.sema, ... */
};

/* The fields of one copy of a g. */
struct gfields {
	uint64_t goid, waitsince, gopc, startpc, waiting;
	uint64_t sched_pc, sched_sp, sched_bp, stack_lo, stack_hi;
	uint32_t status;	/* atomicstatus, _Gscan bit included */
	uint32_t reason;
};

void gread__parse(const struct go_offsets *o, const uint8_t *g,
		  struct gfields *f);
/* A digest of what stays the same while a goroutine stays parked at one
 * place: goid, status, wait reason, g.sched, g.stack, g.waiting. Two
 * reads with the same digest saw the same park (or one indistinguishable
 * from it). */
uint64_t gread__state(const struct gfields *f);

/* Reads n g structs of g_size bytes, addrs[i] into bufs + i * g_size;
 * ok[i] says which could be read. 0 or -ENOMEM. */
int gread__gs(const struct target *t, const uint64_t *addrs, size_t n,
	      size_t g_size, uint8_t *bufs, bool *ok);

enum gread_verdict {
	GREAD_KEEP,
	GREAD_RACED,		/* the g changed while we read its stack */
	GREAD_READ_FAILED,	/* its g could not be read again */
};

struct gread_item {
	/* In. */
	uint64_t g;
	uint64_t lock;		/* gopark's lock argument if the probes saw
				 * the park, else 0 */
	struct gfields f;	/* the first read of the g */
	/* Out. */
	enum gread_verdict verdict;
	enum gt_object_kind object_kind;
	uint64_t object;	/* 0 when unknown */
	int npcs;
	uint64_t pcs[GT_MAX_FRAMES];	/* innermost first, runtime pcs */
};

/* One pass over the target (a snapshot or a report): the wait-reason
 * kinds and the semaphore waiters, walked once, on first need. */
struct gread {
	const struct gobin *bin;
	const struct target *t;
	uint64_t max_nodes;		/* bound of the semtable walk */
	uint8_t *reason_kind;		/* per wait reason, lazily */
	int nreasons;
	struct sema_waiters sema;
	int sema_err;			/* 1: not walked yet */
	uint64_t cgocallback[2];	/* [entry, end) link-time, or 0 */
	uint64_t goexit[2];
	/* The probes see every park while this pass reads: a g that parks
	 * again meanwhile gets a newer record that supersedes what we read,
	 * and one that runs fails the report's state check, so the second
	 * read of every g (a fifth of a snapshot's time) is not needed. */
	bool watched;
};

void gread__init(struct gread *r, const struct gobin *bin,
		 const struct target *t, uint64_t max_nodes);
void gread__free(struct gread *r);

/* For items[0..n) (n <= GREAD_WINDOW), whose f comes from a read of
 * their g: walks their stacks, finds what they wait on, then, unless
 * watched, reads each g again; one that changed meanwhile is GREAD_RACED. A semaphore found
 * in the semtable is kept only if its sudog still holds the goroutine
 * and the address after that second read. 0 or -ENOMEM. */
int gread__resolve(struct gread *r, struct gread_item *items, size_t n);

/* The frame-pointer walk of one stack (see gtable__walk_stack). */
int gread__walk_stack(const struct target *t, uint64_t pc, uint64_t bp,
		      uint64_t stack_lo, uint64_t stack_hi, uint64_t *pcs,
		      int max_pcs);

#endif
