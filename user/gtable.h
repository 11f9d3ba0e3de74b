/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The goroutine table: the parked goroutines the probes recorded, checked
 * against the target's own memory and grouped by (park stack, wait
 * reason, creation site). */
#ifndef GOLEAKTRACE_GTABLE_H
#define GOLEAKTRACE_GTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "goleaktrace.h"
#include "gobin.h"
#include "gread.h"
#include "snapshot.h"
#include "target.h"

/* Leak classes; gtable__class_name() gives the exact names used in JSON
 * and pprof labels. */
enum gt_class {
	GT_CLASS_PARKED,		/* past the threshold, nothing more known */
	GT_CLASS_NEVER_WAKEABLE,	/* nil-channel op or select {} */
	GT_CLASS_LIKELY_LEAKED,		/* grows while its members stay parked */
	GT_CLASS_IDLE_POOL,		/* stable set on a shared channel */
};

struct gt_group {
	enum gt_class class;
	unsigned reason;		/* waitReason value */
	uint64_t gopc;			/* creation pc (runtime address) */
	uint64_t pcs[GT_MAX_FRAMES];	/* park stack, innermost first:
					 * pcs[0] = g.sched.pc, then the
					 * return addresses (runtime) */
	int npcs;
	uint64_t *goids;		/* sorted ascending */
	uint64_t *parked_ns;		/* same order as goids */
	uint64_t *objects;		/* same order: what each waits on,
					 * 0 when unknown */
	bool *at_attach;		/* same order: parked when we attached
					 * (its time a lower bound) */
	size_t count;
	uint64_t startpc;		/* goroutine's entry function */
	enum gt_object_kind object_kind;	/* of the known objects */
	uint64_t object;		/* what its members wait on (hchan,
					 * cond, semaphore) when they all
					 * share one, else 0 */
	size_t nobjects;		/* distinct known objects waited on */
	size_t unknown_objects;		/* members whose object is unknown */
	uint64_t oldest_ns, median_ns;
	bool lower_bound;		/* some members parked before attach:
					 * their times are lower bounds */
	struct glt_site site;		/* spawns/exits at gopc, since attach */
	/* Set by classifier__classify. */
	double growth_per_min;		/* net (spawned - exited) at gopc */
	char verdict[160];		/* class and its evidence, one line */
};

/* Why candidates were left out of a report; shown to the user. */
struct gt_stats {
	uint64_t tracked;	/* entries in the parked map */
	uint64_t young;		/* parked for less than the threshold */
	uint64_t woken;		/* woken since it parked */
	uint64_t reused;	/* g now holds another goroutine */
	uint64_t read_failed;	/* the target's memory could not be read */
	uint64_t raced;		/* changed while we walked its stack */
	uint64_t hidden_system;	/* runtime goroutines left out (--all) */
};

struct gtable {
	struct gt_group *groups;	/* classifier__classify sorts them */
	size_t ngroups;
	size_t ngoroutines;
	uint64_t max_goid;		/* newest goroutine id seen */
	uint64_t threshold_ns;		/* of the source */
	struct gt_stats stats;
};

struct gtable_source {
	const struct gobin *bin;
	const struct target *target;
	uint64_t now_ns;		/* CLOCK_MONOTONIC, like the probes */
	uint64_t threshold_ns;
	/* The process's share of the probes' maps (map_copy__process). */
	const struct glt_gkey *gkeys;
	const struct glt_parked *parked;
	size_t nparked;
	const struct glt_skey *skeys;
	const struct glt_site *sites;
	size_t nsites;
	/* Goroutines parked before attach; the probes' record wins for a
	 * goid in both. May be NULL. What is read of its goroutines (stack,
	 * wait object) is kept in it for the next report. */
	struct snapshot *snap;
};

int gtable__build(struct gtable *gt, const struct gtable_source *src);
const char *gtable__class_name(enum gt_class class);
/* "channel", "cond", "sema"; NULL for GT_OBJECT_NONE. */
const char *gtable__object_kind_name(enum gt_object_kind kind);
void gtable__clear(struct gtable *gt);

/* Frame-pointer walk of a parked goroutine's stack from g.sched.pc/bp,
 * bounded by [stack_lo, stack_hi). Returns the number of pcs written. */
int gtable__walk_stack(const struct target *t, uint64_t pc, uint64_t bp,
		       uint64_t stack_lo, uint64_t stack_hi, uint64_t *pcs,
		       int max_pcs);

#endif
