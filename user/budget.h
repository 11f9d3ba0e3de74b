/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* --max-overhead: what the probes cost the traced processes, and how
 * long to keep them attached so that the cost stays in budget.
 *
 * cost = events x (trap + BPF body) where
 *   events  come from the programs' counters (struct glt_counters),
 *   trap    is calibrated at start-up on this machine (budget__calibrate),
 *   body    is the kernel's BPF run-time statistics (struct budget_meter).
 * The controller (struct budget) turns each control interval's cost into
 * the attached slice of the next interval. It is pure: no clock, no I/O. */
#ifndef GOLEAKTRACE_BUDGET_H
#define GOLEAKTRACE_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gobin.h"

/* Used when calibration or the kernel's statistics are not available:
 * on the high side of what bench/RESULTS.md and
 * shared/reference/uprobe-costs.md measured. */
#define BUDGET_DEFAULT_TRAP_NS 1000.0
#define BUDGET_DEFAULT_BODY_NS 300.0
#define BUDGET_DEFAULT_PCT 2.0
/* Shortest attached slice (and shortest gap): attaching and detaching
 * uprobes costs milliseconds, and each gap costs a scan. */
#define BUDGET_MIN_SLICE_NS 10000000ULL
/* How much the slice may grow from one interval to the next. */
#define BUDGET_RAMP 2.0
/* Overspending is paid back, up to this many intervals' allowance (the
 * probes sit out whole intervals meanwhile). */
#define BUDGET_MAX_DEBT 30

/* Parses --max-overhead's value: "2", "2%", "0.5": a percentage of one
 * core in (0, 100]. 0 or -EINVAL. */
int budget__parse_pct(const char *s, double *pct);

/* ---- Calibration ---- */

/* The instruction the probes sit on decides the trap's price: the kernel
 * emulates both of these, but not at the same cost everywhere. */
enum budget_probe_kind {
	BUDGET_PROBE_JUMP,	/* the stack check's jbe (x86), b.ls (arm64) */
	BUDGET_PROBE_PUSH,	/* push %rbp after it (x86, Go 1.21+) */
};

/* Which kind a probe is, from the first byte of the probed instruction
 * (gobin__read at entry + offset of a probe_point). */
enum budget_probe_kind budget__probe_kind(enum gobin_arch arch,
					  uint8_t first_byte);

struct budget_calibration {
	double hit_ns;		/* median extra ns per call, probe attached */
	double body_ns;		/* of which the empty program's run time,
				 * when BPF statistics are on; else 0 */
	double trap_ns;		/* hit_ns - body_ns: the trap alone */
	double spread_ns;	/* interquartile range of the rounds */
	uint32_t rounds;
	uint64_t calls;		/* probed calls made */
	uint64_t hits;		/* hits the program counted: == calls */
	uint64_t elapsed_ns;	/* load, attach and measure (not the free) */
};

/* The calibration's uprobe, for as long as it is kept. */
struct budget_calib;

/* Loads a tiny uprobe program, attaches it to a function of this
 * process at an instruction of the given kind, and times rounds of calls
 * to it against calls to an identical unprobed twin: the median of the
 * rounds' differences. Takes about 20-60 ms here, at most about max_ns
 * (0: 100 ms) plus the attach. Needs root (or CAP_BPF, CAP_PERFMON and
 * CAP_SYS_ADMIN). On failure *errmsg says what went wrong and *out is
 * NULL; the caller may go on with BUDGET_DEFAULT_TRAP_NS.
 * On success *out holds the probe: detaching a uprobe waits for the
 * kernel's grace period (120-140 ms a uprobe on this machine; the
 * probed code is free at once, only the caller waits), so the caller
 * frees it when a wait does not matter, e.g. with the probes at exit. */
int budget_calib__run(struct budget_calib **out, enum budget_probe_kind kind,
		      uint64_t max_ns, struct budget_calibration *res,
		      const char **errmsg);
void budget_calib__free(struct budget_calib *c);
/* For tests and -v: the calibration program, and n more hits on it. */
int budget_calib__prog_fd(const struct budget_calib *c);
void budget_calib__hit(const struct budget_calib *c, unsigned int n);
/* budget_calib__run then budget_calib__free: with the wait. */
int budget__calibrate(enum budget_probe_kind kind, uint64_t max_ns,
		      struct budget_calibration *res, const char **errmsg);

/* ---- The kernel's BPF run-time statistics ---- */

#define BUDGET_MAX_PROGS 8

/* Run count and run time of the probes' programs, kept between samples.
 * The statistics are a system-wide switch (every BPF program on the
 * machine pays its ~20-40 ns a run while it is on): they are on while
 * the meter is open. */
struct budget_meter {
	int prog_fds[BUDGET_MAX_PROGS];
	uint64_t run_cnt[BUDGET_MAX_PROGS];
	uint64_t run_time_ns[BUDGET_MAX_PROGS];
	size_t n;
	int stats_fd;		/* bpf_enable_stats(), -1 when refused */
	double body_ns;		/* last known body per event, 0 unknown */
};

/* prog_fds: bpf_program__fd() of each program the probes run. Not being
 * allowed to switch the statistics on is no error: stats_fd stays -1 and
 * budget_meter__sample reports the body as unknown. */
int budget_meter__open(struct budget_meter *m, const int *prog_fds, size_t n);
/* The statistics cost every run 50-100 ns more here (measured with the
 * calibration): a caller may keep them on only for some intervals; the
 * samples in between give the last body known. 0, or -errno of
 * bpf_enable_stats. */
int budget_meter__set_stats(struct budget_meter *m, bool on);
/* The mean BPF run time per program run since the last sample (over all
 * programs, weighted by their runs), in *body_ns; when nothing ran since,
 * or the statistics are off, the last value known (0 if none yet). */
int budget_meter__sample(struct budget_meter *m, double *body_ns);
void budget_meter__close(struct budget_meter *m);

/* Pure: the mean run time per run over n programs between two readings,
 * in *body_ns; -ENODATA when none ran. A program whose counters went
 * backwards (replaced meanwhile) counts as not run. */
int budget__body_per_run(const uint64_t *cnt0, const uint64_t *time0,
			 const uint64_t *cnt1, const uint64_t *time1,
			 size_t n, double *body_ns);

/* ---- The controller ---- */

struct budget_opts {
	double pct;		/* % of one core; >= 100: always attached */
	uint64_t interval_ns;	/* control interval (one slice each) */
	double trap_ns;		/* calibrated; 0: BUDGET_DEFAULT_TRAP_NS */
	uint64_t min_slice_ns;	/* 0: BUDGET_MIN_SLICE_NS */
	double ramp;		/* 0: BUDGET_RAMP */
};

/* What one control interval saw; the caller measures it. */
struct budget_interval {
	uint64_t wall_ns;	/* its length */
	uint64_t attached_ns;	/* how long the probes were attached */
	uint64_t events;	/* sum of the glt_counters event deltas
				 * (parks + spawns + exits) */
	double body_ns;		/* BPF run time per event (budget_meter),
				 * 0: unknown, BUDGET_DEFAULT_BODY_NS */
};

/* Totals over a span of intervals, for reports. */
struct budget_totals {
	uint64_t wall_ns;
	uint64_t attached_ns;
	uint64_t events;
	double cost_ns;		/* CPU time the probes cost the targets */
};

struct budget {
	struct budget_opts opts;
	double load;		/* cores used while attached, smoothed */
	bool load_known;
	double debt_ns;		/* overspent, repaid from the next slices */
	uint64_t slice_ns;	/* the decision for the next interval */
	struct budget_totals total;	/* since start */
	struct budget_totals window;	/* since the last report */
};

void budget__init(struct budget *b, const struct budget_opts *opts);
/* Attached time for the first interval: pct of it, as if the probes
 * cost a whole core while attached, until a measurement says better. */
uint64_t budget__slice_ns(const struct budget *b);
/* Accounts the interval that ended; returns the slice of the next one:
 * interval_ns (always attached) when the budget allows it or pct >= 100;
 * 0 when pct <= 0, and while an overspending of more than an interval's
 * allowance is paid back; else in [min_slice_ns, interval_ns - min]. */
uint64_t budget__update(struct budget *b, const struct budget_interval *iv);
/* CPU cost of one interval's events, in ns. */
double budget__cost_ns(const struct budget *b, const struct budget_interval *iv);

/* What a report says about the probes' time and cost. */
struct budget_report {
	double pct;		/* the budget */
	double attached;	/* fraction of the time attached, window */
	double attached_total;	/* the same since start */
	double overhead_pct;	/* measured cost, % of one core, window */
	double overhead_total_pct;
	double events_per_sec;	/* while attached, window */
	double ns_per_event;	/* trap + body, window */
	bool limited;		/* the budget detached the probes sometime
				 * in the window */
};

/* Fills r for the window since the last call and starts a new one. */
void budget__take_report(struct budget *b, struct budget_report *r);
/* One line for the terminal, without a newline:
 * "probes attached 7.3% of the time (41% overall), cost 1.9% of a core
 * (max 2%)", 78 columns at most at sane costs. Returns snprintf's. */
int budget__format(const struct budget_report *r, char *buf, size_t size);

#endif
