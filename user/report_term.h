/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Terminal reporter: the groups of long-parked goroutines, for humans.
 * On a TTY each report redraws the screen and long paths are shortened to
 * the terminal width; piped, reports are appended as plain lines. */
#ifndef GOLEAKTRACE_REPORT_TERM_H
#define GOLEAKTRACE_REPORT_TERM_H

#include <stdbool.h>
#include <stdio.h>
#include "budget.h"
#include "goleaktrace.h"
#include "gobin.h"
#include "gtable.h"
#include "target.h"

/* Entries in the probes' maps, and their sizes. */
struct map_fill {
	size_t parked, parked_max;
	size_t sites, sites_max;
};

struct report_info {
	const struct gobin *bin;
	const struct target *target;
	uint64_t threshold_ns;
	uint64_t elapsed_ns;		/* since attach */
	const struct glt_counters *counters;
	/* The probes' attached time and cost, and how full their maps are
	 * (all processes); NULL with --no-probes. */
	const struct budget_report *probes_time;
	const struct map_fill *maps;
	bool final;
	/* Kubernetes pod of the process; "" or NULL when none. */
	const char *pod_namespace, *pod_name, *pod_container;
};

struct report_term {
	FILE *out;
	bool tty;
	int columns, rows;
	int rows_each;		/* live view: screen rows per process */
};

void report_term__init(struct report_term *r, FILE *out);
/* Starts the reports of one interval, nprocs of them: the live view
 * redraws the screen once and gives each process its share of it. */
void report_term__begin(struct report_term *r, size_t nprocs, bool final);
void report_term__print(struct report_term *r, const struct report_info *info,
			const struct gtable *gt);

#endif
