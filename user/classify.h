/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Leak classification: turns a report's groups and what was seen of them
 * over time into a class, a growth rate and a one-line verdict with the
 * evidence. Keeps each group's history between reports. */
#ifndef GOLEAKTRACE_CLASSIFY_H
#define GOLEAKTRACE_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gobin.h"
#include "gtable.h"

struct classifier;

int classifier__new(struct classifier **out, const struct gobin *bin,
		    uint64_t load_bias);
void classifier__free(struct classifier *c);

/* Sets class, growth and verdict of every group of gt, remembers what it
 * saw, and sorts the groups: likely leaks first. Groups of runtime
 * goroutines are dropped (and counted) unless show_system. elapsed_ns:
 * since attach. */
int classifier__classify(struct classifier *c, struct gtable *gt,
			 uint64_t elapsed_ns, bool show_system);


#endif
