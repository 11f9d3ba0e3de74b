/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the probes' maps held at one report, for every traced process,
 * grouped by process in place: each process's report reads its own
 * range, so a million parked goroutines are held once, not twice. */
#ifndef GOLEAKTRACE_MAPCOPY_H
#define GOLEAKTRACE_MAPCOPY_H

#include <stddef.h>
#include <sys/types.h>
#include "goleaktrace.h"
#include "gtable.h"
#include "probes.h"
#include "report_term.h"

struct map_copy {
	struct glt_gkey *gkeys;
	struct glt_parked *parked;
	size_t nparked;
	struct glt_skey *skeys;
	struct glt_site *sites;
	size_t nsites;
	struct glt_counters counters;
	struct map_fill fill;		/* what the copy holds, of how much */
};

/* Reads both maps and the counters, then groups the entries by tgid. */
int map_copy__read(struct map_copy *m, const struct probes *probes);
/* Points src at pid's entries (none when it has none). */
void map_copy__process(const struct map_copy *m, pid_t pid,
		       struct gtable_source *src);
void map_copy__free(struct map_copy *m);

/* Groups n (key, value) pairs by the key's leading u32 tgid, in place,
 * in ascending tgid order (not stable). 0 or -ENOMEM. For tests. */
int map_copy__group(void *keys, size_t key_size, void *vals,
		    size_t val_size, size_t n);

#endif
