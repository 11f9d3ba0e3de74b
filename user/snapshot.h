/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Attach-time snapshot: the goroutines that were already parked before
 * the probes went in, read from the runtime's allgs array through
 * process_vm_readv without stopping the target: their g, park stack,
 * creation site and the object each waits on. */
#ifndef GOLEAKTRACE_SNAPSHOT_H
#define GOLEAKTRACE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gobin.h"
#include "stackset.h"
#include "target.h"

struct snapshot_g {
	uint64_t goid;
	uint64_t g;		/* address of the g struct */
	uint64_t waitsince;	/* runtime nanotime stamped by a GC, or 0 */
	uint64_t first_seen_ns;	/* first scan that saw it parked so */
	uint32_t reason;
	/* What its g said, and what was found from there: kept, and used
	 * by every report, while the g stays parked the same way (the same
	 * state, see gread__state). */
	bool resolved;		/* stack and object below are known */
	uint8_t object_kind;	/* enum gt_object_kind */
	bool used;		/* gtable__build's mark: in this report */
	uint32_t stack;		/* id in struct snapshot's stacks */
	uint64_t state;		/* gread__state() of the g when resolved */
	uint64_t object;	/* what it waits on, 0 when unknown */
};

struct snapshot {
	struct snapshot_g *gs;	/* parked goroutines, sorted by goid */
	size_t n;
	uint64_t allglen;	/* goroutines of any state walked */
	uint64_t max_goid;	/* newest goroutine id, any state */
	uint64_t read_failed;	/* g structs that could not be read */
	uint64_t taken_ns;	/* CLOCK_MONOTONIC */
	uint64_t first_taken_ns;	/* of the first scan (attach) */
	struct stackset stacks;	/* the park stacks of gs and seen */
	/* Goroutines the probes saw park, as the last report resolved them
	 * (first_seen_ns: the probes' park time): the next report reuses
	 * what it can. Sorted by goid. */
	struct snapshot_g *seen;
	size_t nseen;
};

/* watched: the probes are attached for the whole scan (gread.watched).
 * On failure *errmsg says which feature is unavailable and why. */
int snapshot__take(struct snapshot *s, const struct gobin *bin,
		   const struct target *t, bool watched, const char **errmsg);
void snapshot__free(struct snapshot *s);

/* Scan-only mode: goroutines of now that before already saw parked (same
 * g, same wait reason) keep their first_seen_ns, and, parked the same
 * way still, what was found of them. */
void snapshot__carry(struct snapshot *now, const struct snapshot *before);

/* A fresh scan that reads again only what changed since s: the cheap way
 * to rescan every interval. On failure s is kept as it was. */
int snapshot__rescan(struct snapshot *s, const struct gobin *bin,
		     const struct target *t, bool watched, const char **errmsg);

/* The parked goroutine with this goid, or NULL. */
const struct snapshot_g *snapshot__find(const struct snapshot *s,
					uint64_t goid);

/* After a report: drops the seen goroutines it did not mark used (gone,
 * or parked again since), clears the marks and adds fresh[0..n), which s
 * takes (malloc'd; freed or kept). The memory peak is the larger list,
 * not both. 0 or -ENOMEM (then the seen list is empty). */
int snapshot__update_seen(struct snapshot *s, struct snapshot_g *fresh,
			  size_t n);

#endif
