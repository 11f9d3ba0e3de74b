/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Attach-time snapshot: the goroutines that were already parked before
 * the probes went in, read from the runtime's allgs array through
 * process_vm_readv without stopping the target. */
#ifndef GOLEAKTRACE_SNAPSHOT_H
#define GOLEAKTRACE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include "gobin.h"
#include "target.h"

struct snapshot_g {
	uint64_t goid;
	uint64_t g;		/* address of the g struct */
	uint64_t waitsince;	/* runtime nanotime stamped by a GC, or 0 */
	uint64_t first_seen_ns;	/* first scan that saw it parked so */
	uint32_t reason;
};

struct snapshot {
	struct snapshot_g *gs;	/* parked goroutines, sorted by goid */
	size_t n;
	uint64_t allglen;	/* goroutines of any state walked */
	uint64_t max_goid;	/* newest goroutine id, any state */
	uint64_t read_failed;	/* g structs that could not be read */
	uint64_t taken_ns;	/* CLOCK_MONOTONIC */
};

/* On failure *errmsg says which feature is unavailable and why. */
int snapshot__take(struct snapshot *s, const struct gobin *bin,
		   const struct target *t, const char **errmsg);
void snapshot__free(struct snapshot *s);

/* Scan-only mode: goroutines of now that before already saw parked (same
 * g, same wait reason) keep their first_seen_ns. */
void snapshot__carry(struct snapshot *now, const struct snapshot *before);

/* The parked goroutine with this goid, or NULL. */
const struct snapshot_g *snapshot__find(const struct snapshot *s,
					uint64_t goid);

#endif
