// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* goleaktrace: target discovery -> Go binary analysis -> probes -> goroutine
 * table -> reporters, once per interval and once more at the end. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "classify.h"
#include "cli.h"
#include "gobin.h"
#include "gtable.h"
#include "probes.h"
#include "report_json.h"
#include "report_pprof.h"
#include "report_term.h"
#include "snapshot.h"
#include "target.h"

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

static int verbosity;

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	/* Our own one-line message says what failed and what to do;
	 * libbpf's details are for -v (warnings), -vv (debug). */
	if (verbosity < 1 || (level == LIBBPF_DEBUG && verbosity < 2))
		return 0;
	return vfprintf(stderr, fmt, args);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* Wall clock, for the time a report is stamped with. */
static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* The enabled reporters; every report hands each the same table. */
struct reporters {
	struct report_term term;	/* for humans, without --json */
	struct report_json json;	/* --json, on stdout instead */
	bool json_on;
	struct report_pprof *pprof;	/* -o, else NULL */
	int write_err;			/* a write failed: exit status 1 */
};

/* Hands one report to every enabled reporter. A failed write is shown
 * and remembered, but does not end the trace: the next report retries. */
static void reporters__print(struct reporters *rep,
			     const struct report_info *info,
			     const struct gtable *gt)
{
	uint64_t stamp = wall_ns();
	int err;

	if (!rep->json_on) {
		report_term__print(&rep->term, info, gt);
	} else if (report_json__print(&rep->json, info, gt, stamp)) {
		fprintf(stderr, "goleaktrace: failed to write JSON lines: %s\n",
			strerror(EIO));
		rep->write_err = -EIO;
	}
	if (rep->pprof) {
		err = report_pprof__write(rep->pprof, info, gt, stamp);
		if (err)
			rep->write_err = err;
	}
}

/* Scan-only mode: a fresh snapshot that remembers since when each
 * goroutine has been seen parked. A failed scan keeps the last one. */
static void rescan(struct snapshot *snap, const struct gobin *bin,
		   const struct target *t)
{
	struct snapshot next;
	const char *why;

	if (snapshot__take(&next, bin, t, &why)) {
		fprintf(stderr, "goleaktrace: warning: %s\n", why);
		return;
	}
	snapshot__carry(&next, snap);
	snapshot__free(snap);
	*snap = next;
}

static void fail(const char *what, const char *why, int err)
{
	fprintf(stderr, "goleaktrace: %s: %s", what, why);
	if (err)
		fprintf(stderr, " (%s)", strerror(-err));
	fputc('\n', stderr);
}

/* Reads the maps, checks candidates in the target, prints one report. */
static int report(struct reporters *rep, const struct probes *probes,
		  const struct gobin *bin, const struct target *t,
		  const struct snapshot *snap, struct classifier *cls,
		  const struct cli_opts *opts, uint64_t start_ns, bool final)
{
	struct gtable_source src = { .bin = bin, .target = t, .snap = snap,
				     .threshold_ns = opts->threshold_ns };
	uint64_t *goids = NULL, *site_pcs = NULL;
	struct glt_parked *parked = NULL;
	struct glt_site *sites = NULL;
	struct glt_counters counters = {};
	struct gtable gt = {};
	struct report_info info;
	int err = 0;

	/* --no-probes: the scans are all there is. */
	if (probes) {
		err = probes__read_parked(probes, &goids, &parked,
					  &src.nparked);
		if (!err)
			err = probes__read_sites(probes, &site_pcs, &sites,
						 &src.nsites);
		if (err)
			goto out;
		probes__counters(probes, &counters);
	}
	src.now_ns = now_ns();
	src.goids = goids;
	src.parked = parked;
	src.site_pcs = site_pcs;
	src.sites = sites;
	err = gtable__build(&gt, &src);
	if (!err)
		err = classifier__classify(cls, &gt, src.now_ns - start_ns,
					   opts->show_system);
	if (err)
		goto out;
	info = (struct report_info){
		.bin = bin, .target = t, .threshold_ns = opts->threshold_ns,
		.elapsed_ns = src.now_ns - start_ns, .counters = &counters,
		.final = final,
	};
	reporters__print(rep, &info, &gt);
out:
	gtable__clear(&gt);
	free(goids);
	free(parked);
	free(site_pcs);
	free(sites);
	return err;
}

static void print_plan(FILE *out, const struct probes_plan *plan)
{
	const struct probe_point *pt;

	for (pt = plan->points; pt < plan->points + PROBES_COUNT; pt++)
		fprintf(out, "goleaktrace:   %s+%llu (0x%llx, file offset "
			"0x%llx)\n", pt->name, (unsigned long long)pt->offset,
			(unsigned long long)(pt->entry + pt->offset),
			(unsigned long long)pt->file_offset);
}

static const char *offsets_source(const struct gobin *bin)
{
	return gobin__offsets_source(bin) == GOBIN_OFFSETS_DWARF ?
		"DWARF" : "the built-in table";
}

static void print_attached(const struct probes *probes,
			   const struct gobin *bin, const struct target *t,
			   int verbose)
{
	char ns[48] = "";

	/* In a container the user knows the PID the container shows. */
	if (t->ns_pid != t->pid)
		snprintf(ns, sizeof(ns), " (pid %d in its container)",
			 t->ns_pid);
	fprintf(stderr, "goleaktrace: tracing pid %d%s (%s, %s, offsets from "
		"%s) with %d probes; Ctrl-C to stop\n", t->pid, ns, t->comm,
		gobin__go_version(bin), offsets_source(bin), PROBES_COUNT);
	if (verbose)
		print_plan(stderr, probes__get_plan(probes));
}

/* --inspect FILE: what goleaktrace would do with this executable, without
 * a process or privileges; the same analysis -p runs on /proc/PID/exe. */
static int inspect(const char *path)
{
	struct probes_plan plan;
	struct gobin *bin = NULL;
	const char *why = NULL;
	uint64_t addr, size;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "goleaktrace: cannot open %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	err = gobin__open(&bin, fd, &why);
	if (!err)
		err = probes__plan(bin, &plan, &why);
	if (err) {
		fprintf(stderr, "goleaktrace: %s: %s\n", path, why);
		goto out;
	}
	printf("goleaktrace: %s: %s, %s%s\n", path, gobin__go_version(bin),
	       gobin__arch(bin) == GOBIN_ARCH_ARM64 ? "arm64" : "x86-64",
	       gobin__is_pie(bin) ? ", PIE" : "");
	printf("goleaktrace: struct offsets from %s\n", offsets_source(bin));
	printf("goleaktrace: probes:\n");
	print_plan(stdout, &plan);
	printf("goleaktrace: goroutines parked before attach: %s\n",
	       !gobin__find_data(bin, "runtime.allglen", &addr, &size) &&
	       !gobin__find_data(bin, "runtime.allgptr", &addr, &size) ?
	       "shown" : "not shown (runtime.allgs not found)");
out:
	gobin__free(bin);
	close(fd);
	return err ? 1 : 0;
}

/* Sleeps until the next report is due, a signal arrives or the target
 * exits. Returns 1 when it is time to stop. */
static int wait_tick(const struct target *t, uint64_t deadline_ns,
		     uint64_t end_ns, enum target_state *state)
{
	uint64_t now = now_ns(), until = deadline_ns;
	struct pollfd pfd = { .fd = t->pidfd, .events = POLLIN };
	enum target_state was = *state;

	if (end_ns && end_ns < until)
		until = end_ns;
	/* Wake at least once a second to notice a stop or an exec. */
	if (until > now + NSEC_PER_SEC)
		until = now + NSEC_PER_SEC;
	if (until > now)
		poll(&pfd, 1, (int)((until - now + NSEC_PER_MSEC - 1) /
				    NSEC_PER_MSEC));
	*state = target__state(t);
	if (*state != was)
		fprintf(stderr, "goleaktrace: pid %d %s\n", t->pid,
			target__state_name(*state));
	if (exiting || *state == TARGET_EXITED || *state == TARGET_EXECED)
		return 1;
	return end_ns && now_ns() >= end_ns;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct probes_opts popts = {};
	struct probes *probes = NULL;
	struct gobin *bin = NULL;
	struct reporters rep = {};
	struct target t = { .exe_fd = -1, .pidfd = -1 };
	struct snapshot snap = {};
	struct classifier *cls = NULL;
	struct cli_opts opts;
	uint64_t start, next, end = 0;
	enum target_state state = TARGET_RUNNING;
	const char *why = NULL;
	int err;

	cli__parse(argc, argv, &opts);
	if (opts.inspect)
		return inspect(opts.inspect);
	verbosity = opts.verbose;
	libbpf_set_print(libbpf_print);

	err = target__open(&t, opts.pid, &why);
	if (err) {
		fail("failed to open target", why, 0);
		goto out;
	}
	err = gobin__open(&bin, t.exe_fd, &why);
	if (err) {
		fprintf(stderr, "goleaktrace: pid %d (%s): %s\n", t.pid, t.comm,
			why);
		goto out;
	}
	if (gobin__is_pie(bin))
		target__find_load_bias(&t, gobin__base_vaddr(bin));
	/* Before attaching: a bad -o path costs the target nothing. */
	if (opts.output) {
		err = report_pprof__open(&rep.pprof, opts.output, &t);
		if (err)
			goto out;
	}
	/* Before "tracing pid" is printed: a Ctrl-C right after it must still
	 * get the final report. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	popts.max_goroutines = opts.max_goroutines;
	popts.btf_path = opts.btf_path;
	if (!opts.no_probes) {
		err = probes__open(&probes, bin, &popts, &why);
		if (!err)
			err = probes__attach(probes, bin, &t, &why);
		if (err) {
			fail("failed to set up probes", why, err);
			goto out;
		}
	}
	/* After the probes are in, so that no park falls in between. */
	err = snapshot__take(&snap, bin, &t, &why);
	if (err && opts.no_probes) {
		fail("cannot scan goroutines", why, 0);
		goto out;
	}
	if (err)
		fprintf(stderr, "goleaktrace: warning: %s\n", why);
	err = 0;
	if (probes)
		print_attached(probes, bin, &t, opts.verbose);
	else
		fprintf(stderr, "goleaktrace: scanning pid %d (%s, %s) without "
			"probes: parked times count from the first scan that "
			"saw a goroutine parked; spawn/exit counts per site "
			"and wake-ups between scans are not seen\n", t.pid,
			t.comm, gobin__go_version(bin));
	fprintf(stderr, "goleaktrace: %zu of %llu goroutines were already "
		"parked at attach\n", snap.n, (unsigned long long)snap.allglen);

	err = classifier__new(&cls, bin, t.load_bias);
	if (err)
		goto out;
	report_term__init(&rep.term, stdout);
	report_json__init(&rep.json, stdout);
	rep.json_on = opts.json;
	start = now_ns();
	next = start + opts.interval_ns;
	if (opts.duration_ns)
		end = start + opts.duration_ns;
	while (!wait_tick(&t, next, end, &state)) {
		if (now_ns() < next)
			continue;
		if (opts.no_probes)
			rescan(&snap, bin, &t);
		err = report(&rep, probes, bin, &t, &snap, cls, &opts, start,
			     false);
		if (err) {
			fail("failed to build a report", "", err);
			goto out;
		}
		next += opts.interval_ns;
	}
	if (opts.no_probes && state != TARGET_EXITED)
		rescan(&snap, bin, &t);
	err = report(&rep, probes, bin, &t, &snap, cls, &opts, start, true);
	if (err)
		fail("failed to build the final report", "", err);
	if (!err && rep.pprof && *report_pprof__last_path(rep.pprof))
		fprintf(stderr, "goleaktrace: profile written to %s\n",
			report_pprof__last_path(rep.pprof));
	if (!err)
		err = rep.write_err;
out:
	report_pprof__free(rep.pprof);
	classifier__free(cls);
	snapshot__free(&snap);
	probes__free(probes);
	gobin__free(bin);
	target__close(&t);
	return err ? 1 : 0;
}
