/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The kernel side: the skeleton's lifecycle (open, configure, load,
 * attach), its maps, and its counters. */
#ifndef GOLEAKTRACE_PROBES_H
#define GOLEAKTRACE_PROBES_H

#include <stdint.h>
#include "goleaktrace.h"
#include "gobin.h"
#include "target.h"

struct probes;

struct probes_opts {
	uint32_t max_goroutines;	/* parked map size, 0 = default */
	uint32_t max_sites;		/* sites map size, 0 = default */
	const char *btf_path;		/* kernel BTF, NULL = the running
					 * kernel's /sys/kernel/btf/vmlinux */
};

/* On failure *errmsg says what went wrong and, where the environment is
 * the cause, what to do. */
int probes__open(struct probes **out, const struct gobin *bin,
		 const struct probes_opts *opts, const char **errmsg);
int probes__attach(struct probes *p, const struct gobin *bin,
		   const struct target *t, const char **errmsg);
void probes__free(struct probes *p);

int probes__counters(const struct probes *p, struct glt_counters *out);

/* Snapshot of the parked map (goid -> last park) and of the sites map
 * (creation pc -> spawn/exit counts). Arrays are malloc'd; free() them. */
int probes__read_parked(const struct probes *p, uint64_t **goids,
			struct glt_parked **parked, size_t *n);
int probes__read_sites(const struct probes *p, uint64_t **pcs,
		       struct glt_site **sites, size_t *n);

/* Where each hook goes, computed from the file alone (also for
 * --inspect): gopark, ready, newproc1, gdestroy/goexit0. */
#define PROBES_COUNT 4
struct probe_point {
	const char *name;	/* Go function probed */
	uint64_t entry;		/* its entry (link-time address) */
	uint64_t offset;	/* probe distance from the entry, never 0 */
	uint64_t file_offset;	/* what the uprobe attaches at */
};
struct probes_plan {
	struct probe_point points[PROBES_COUNT];
};
int probes__plan(const struct gobin *bin, struct probes_plan *plan,
		 const char **errmsg);
const struct probes_plan *probes__get_plan(const struct probes *p);

#endif
