/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The kernel side: the skeleton's lifecycle (open, configure, load,
 * attach), its maps, and its counters. */
#ifndef GOLEAKTRACE_PROBES_H
#define GOLEAKTRACE_PROBES_H

#include <stdbool.h>
#include <stdint.h>
#include "goleaktrace.h"
#include "gobin.h"
#include "snapshot.h"
#include "target.h"

struct probes;

struct probes_opts {
	uint32_t max_goroutines;	/* parked map size, 0 = default */
	uint32_t max_sites;		/* sites map size, 0 = default */
	const char *btf_path;		/* kernel BTF, NULL = the running
					 * kernel's /sys/kernel/btf/vmlinux */
	bool no_uprobe_multi;		/* perf-event uprobes even where
					 * uprobe_multi links exist */
};

/* Loads the programs and maps, no hook yet. On failure *errmsg says what
 * went wrong and, where the environment is the cause, what to do. */
int probes__open(struct probes **out, const struct probes_opts *opts,
		 const char **errmsg);
/* Hooks the executable t runs, once per binary: its offsets go to the
 * binaries map and its four uprobes fire in t only, or with any_process
 * in every process that runs the same file. */
int probes__add_binary(struct probes *p, const struct gobin *bin,
		       const struct target *t, bool any_process,
		       const char **errmsg);
void probes__free(struct probes *p);

/* Duty cycling: takes every binary's uprobes out (attached false), so the
 * targets pay nothing, or puts them back. The maps are kept. Detaching
 * returns at once: a thread waits for the kernel to let the links go. */
int probes__set_attached(struct probes *p, bool attached,
			 const char **errmsg);
bool probes__attached(const struct probes *p);
/* Whether links taken out may still fire (perf links still being
 * destroyed); when not, *done_ns is when the last one went, 0 if they
 * stopped at once (uprobe_multi). */
bool probes__detaching(struct probes *p, uint64_t *done_ns);
/* The programs the uprobes run, for their BPF run-time statistics. */
size_t probes__prog_fds(const struct probes *p, int *fds, size_t max);

int probes__counters(const struct probes *p, struct glt_counters *out);
/* How many goroutines and creation sites the maps can hold. */
void probes__map_sizes(const struct probes *p, size_t *parked, size_t *sites);

/* Snapshot of the parked map ((tgid, goid) -> last park) and of the sites
 * map ((tgid, creation pc) -> spawn/exit counts), for every traced
 * process. Arrays are malloc'd; free() them. */
int probes__read_parked(const struct probes *p, struct glt_gkey **keys,
			struct glt_parked **parked, size_t *n);
int probes__read_sites(const struct probes *p, struct glt_skey **keys,
		       struct glt_site **sites, size_t *n);

/* Duty cycling, back from a gap: deletes the parked entries recorded
 * before before_ns (CLOCK_MONOTONIC) that a fresh scan of their process,
 * snap_of(tgid, arg), no longer finds parked the same way (woken, exited
 * or parked elsewhere meanwhile). Processes without a scan (NULL) keep
 * theirs. One read of the map for every process. */
int probes__prune_parked(struct probes *p, uint64_t before_ns,
			 const struct snapshot *(*snap_of)(pid_t, void *),
			 void *arg);

/* Drops what the maps hold for a process that is gone. */
int probes__forget_process(struct probes *p, pid_t tgid);

/* Where each hook goes, computed from the file alone (also for
 * --inspect): gopark, newproc1, gdestroy/goexit0. */
#define PROBES_COUNT GLT_HOOK_COUNT
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
/* The plan used for t's executable, or NULL if it is not hooked. */
const struct probes_plan *probes__binary_plan(const struct probes *p,
					      const struct target *t);

#endif
