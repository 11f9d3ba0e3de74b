/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* --max-overhead on the clock: the budget (budget.h) decides, for each
 * control interval, how long the probes stay attached; they go in at the
 * interval's start and out when its slice is over. When they come back
 * after a gap, the caller scans the processes' goroutines again, so that
 * what parked or woke meanwhile is known (duty__step returns 1). */
#ifndef GOLEAKTRACE_DUTY_H
#define GOLEAKTRACE_DUTY_H

#include <stdbool.h>
#include <stdint.h>
#include "budget.h"
#include "probes.h"

/* BPF run-time statistics cost every BPF program on the machine while
 * they are on: on for one control interval in this many. */
#define DUTY_STATS_EVERY 10

struct duty_opts {
	double pct;			/* --max-overhead */
	uint64_t interval_ns;		/* control interval, 0: 1 s */
	enum budget_probe_kind kind;	/* of the probed instructions */
};

struct duty {
	struct budget budget;
	struct budget_meter meter;
	struct budget_calib *calib;	/* freed last: freeing waits */
	struct budget_calibration cal;
	uint64_t interval_start_ns;
	uint64_t interval_ns;		/* this interval's length */
	uint64_t slice_ns;		/* attached time of this interval */
	uint64_t attached_at_ns;	/* 0 while detached */
	uint64_t checked_ns;		/* cost last looked at */
	uint64_t attached_ns;		/* of this interval, so far */
	uint64_t detach_ns;		/* a detach still under way began */
	uint64_t events;		/* counters' event sum at the start */
	uint64_t intervals;
};

/* Calibrates the trap (a warning in *warn when it cannot: the default
 * cost is used) and starts the first interval, probes attached. */
int duty__new(struct duty **out, struct probes *p, const struct duty_opts *o,
	      uint64_t now_ns, const char **warn);
/* When duty__step has something to do next (CLOCK_MONOTONIC). */
uint64_t duty__next_ns(const struct duty *d);
/* Ends a slice or an interval when due. 1 when the probes were just
 * attached again after a gap, 0 when nothing changed, or -errno (then
 * *errmsg says what failed). */
int duty__step(struct duty *d, struct probes *p, uint64_t now_ns,
	       const char **errmsg);
/* The window since the last report, for the reports. */
void duty__take_report(struct duty *d, struct budget_report *r);
void duty__free(struct duty *d);

#endif
