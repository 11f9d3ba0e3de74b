/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The semaphore each goroutine blocked in the runtime's semacquire
 * (sync.Mutex, sync.RWMutex, sync.WaitGroup, ...) waits on. gopark only
 * sees the lock of the semtable bucket, shared by unrelated semaphores;
 * the address itself is in the bucket's treap of sudogs (elem), one node
 * per address, its other waiters chained by waitlink (runtime/sema.go,
 * the same in Go 1.19 to 1.27). The treap is read while the target
 * runs, without its lock: every node read is checked (bucket of its
 * address, tree order, chain address, alignment) and a goroutine seen
 * on two addresses is left out rather than guessed. */
#ifndef GOLEAKTRACE_GOSEMA_H
#define GOLEAKTRACE_GOSEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gobin.h"
#include "target.h"

struct sema_waiter {
	uint64_t g;		/* the waiting goroutine's g */
	uint64_t sema;		/* the address it waits on (&mu.sema...) */
	uint64_t sudog;		/* its sudog, to check it again later */
};

struct sema_waiters {
	struct sema_waiter *v;	/* sorted by g */
	size_t n;
	uint64_t rejected;	/* nodes that failed a check (racing) */
};

/* Walks every bucket of runtime.semtable, visiting at most max_nodes
 * sudogs. -ENOENT when the binary has no runtime.semtable symbol (-s -w)
 * or its layout is not the one known: then nothing is known, and nothing
 * should be said. -EFAULT when the table cannot be read, -ENOMEM. */
int gosema__walk(struct sema_waiters *out, const struct gobin *bin,
		 const struct target *t, uint64_t max_nodes);
void gosema__free(struct sema_waiters *w);

/* The walk itself, of the semtable at runtime address addr (size bytes,
 * runtime.semtable's symbol size), with these offsets: for the tests. */
int gosema__walk_table(struct sema_waiters *out, const struct go_offsets *o,
		       const struct target *t, uint64_t addr, uint64_t size,
		       uint64_t max_nodes);

/* The waiter whose g is at this address, or NULL. */
const struct sema_waiter *gosema__find(const struct sema_waiters *w,
				       uint64_t g);

/* Whether the semtable walk can work for this binary at all. */
bool gosema__available(const struct gobin *bin);

#endif
