/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Command line: argp options into struct cli_opts. */
#ifndef GOLEAKTRACE_CLI_H
#define GOLEAKTRACE_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL

struct cli_opts {
	pid_t pid;
	uint64_t threshold_ns;
	uint64_t interval_ns;
	uint64_t duration_ns;		/* 0 = until Ctrl-C or target exit */
	uint32_t max_goroutines;	/* hidden: parked map size */
	uint32_t max_sites;		/* hidden: sites map size */
	bool all;			/* --all, read as one of: */
	bool all_processes;		/* without -p: every Go process */
	bool show_system;		/* with -p: runtime goroutines too */
	bool no_probes;			/* --no-probes: scans only */
	double max_overhead;		/* --max-overhead: % of one core */
	const char *btf_path;		/* hidden --btf: kernel BTF file */
	bool no_uprobe_multi;		/* hidden: old kernels' uprobes */
	const char *output;		/* -o: pprof file, or DIR/ */
	bool json;			/* --json: JSON lines on stdout */
	int verbose;
	const char *inspect;		/* --inspect FILE: analyse, no trace */
	const char *pod;		/* --pod NS/NAME: resolved to pid */
	const char *container;		/* -c: the pod's container */
	const char *cgroup;		/* --cgroup: --all below this cgroup */
	const char *host_root;		/* --host-root: the node's /, "/" */
	const char *metrics;		/* --metrics HOST:PORT, else NULL */
	uint32_t top_sites;		/* --top-sites: named sites/process */
	const char *profile_dir;	/* --profile-dir: rolling pprof window */
	uint32_t keep;			/* --keep: its size per process */
};

/* Parses argv; on a usage error prints one line plus the usage hint and
 * exits with status 2 (argp's convention, set to ours). */
int cli__parse(int argc, char **argv, struct cli_opts *opts);

/* -o names a directory: ends in '/' or is one. */
bool cli__is_dir_path(const char *path);

/* "500ms", "10s", "5m", "1h", or a plain number of seconds. */
int cli__parse_duration(const char *s, uint64_t *ns);

/* Formats a duration the way the parser accepts it, e.g. "3.2s", "5m10s". */
void cli__format_duration(uint64_t ns, char *buf, size_t size);

#endif
