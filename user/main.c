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
#include "duty.h"
#include "gobin.h"
#include "gtable.h"
#include "mapcopy.h"
#include "pod.h"
#include "probes.h"
#include "report_json.h"
#include "report_metrics.h"
#include "report_pprof.h"
#include "report_term.h"
#include "session.h"
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
	struct report_metrics *metrics;	/* --metrics, else NULL */
	int write_err;			/* a write failed: exit status 1 */
};

/* Hands one report to every enabled reporter. A failed write is shown
 * and remembered, but does not end the trace: the next report retries. */
static void reporters__print(struct reporters *rep,
			     struct report_pprof *pprof,
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
	if (pprof) {
		err = report_pprof__write(pprof, info, gt, stamp);
		if (err)
			rep->write_err = err;
		else
			report_pprof__prune(pprof);	/* --keep */
	}
}

static void fail(const char *what, const char *why, int err)
{
	fprintf(stderr, "goleaktrace: %s: %s", what, why);
	if (err)
		fprintf(stderr, " (%s)", strerror(-err));
	fputc('\n', stderr);
}

/* Checks one process's candidates in its memory, prints one report.
 * maps is NULL with --no-probes: the scans are all there is. */
static int report(struct reporters *rep, const struct map_copy *maps,
		  const struct budget_report *probes_time, struct session *s,
		  const struct cli_opts *opts, bool final)
{
	struct gtable_source src = { .bin = s->bin, .target = &s->t,
				     .snap = &s->snap,
				     .threshold_ns = opts->threshold_ns };
	struct glt_counters none = {};
	struct gtable gt = {};
	struct report_info info;
	int err;

	if (maps)
		map_copy__process(maps, s->t.pid, &src);
	src.now_ns = now_ns();
	err = gtable__build(&gt, &src);
	if (!err)
		err = classifier__classify(s->cls, &gt, src.now_ns - s->start_ns,
					   opts->show_system);
	if (err)
		goto out;
	info = (struct report_info){
		.bin = s->bin, .target = &s->t,
		.threshold_ns = opts->threshold_ns,
		.elapsed_ns = src.now_ns - s->start_ns,
		.counters = maps ? &maps->counters : &none,
		.probes_time = probes_time,
		.maps = maps ? &maps->fill : NULL,
		.final = final,
		.pod_namespace = s->pod.namespace, .pod_name = s->pod.name,
		.pod_container = s->pod.container,
	};
	reporters__print(rep, s->pprof, &info, &gt);
	if (rep->metrics)
		err = report_metrics__add_process(rep->metrics, &info, &gt,
			&(struct report_metrics_sites){ src.skeys, src.sites,
							src.nsites });
out:
	gtable__clear(&gt);
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
			   const struct session *s, int verbose)
{
	const struct probes_plan *plan;
	char ns[48] = "";

	/* In a container the user knows the PID the container shows. */
	if (s->t.ns_pid != s->t.pid)
		snprintf(ns, sizeof(ns), " (pid %d in its container)",
			 s->t.ns_pid);
	if (!probes) {
		fprintf(stderr, "goleaktrace: scanning pid %d%s (%s, %s) "
			"without probes: parked times count from the first "
			"scan that saw a goroutine parked; spawn/exit counts "
			"per site and wake-ups between scans are not seen\n",
			s->t.pid, ns, s->t.comm, gobin__go_version(s->bin));
		return;
	}
	fprintf(stderr, "goleaktrace: tracing pid %d%s (%s, %s, offsets from "
		"%s) with %d probes; Ctrl-C to stop\n", s->t.pid, ns,
		s->t.comm, gobin__go_version(s->bin), offsets_source(s->bin),
		PROBES_COUNT);
	plan = probes__binary_plan(probes, &s->t);
	if (verbose && plan)
		print_plan(stderr, plan);
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

/* The whole trace: the probes shared by every traced process, the
 * processes, and where their reports go. */
struct trace {
	const struct cli_opts *opts;
	struct probes *probes;		/* NULL with --no-probes */
	struct duty *duty;		/* with probes: --max-overhead */
	struct session_set set;		/* -p: exactly one */
	struct reporters rep;
};

/* Hooks a freshly opened process and takes its attach-time snapshot.
 * A failed snapshot is only a warning, unless it is all there is. */
static int trace__start_session(struct trace *tr, struct session *s)
{
	const struct cli_opts *opts = tr->opts;
	const char *why = NULL;
	int err;

	/* Before attaching: a bad -o path costs the target nothing. */
	if (opts->output) {
		err = report_pprof__open(&s->pprof, opts->output, &s->t);
		if (err)
			return err;
	} else if (opts->profile_dir) {
		err = report_pprof__open_window(&s->pprof, opts->profile_dir,
						&s->t, opts->keep);
		if (err)
			return err;
	}
	if (tr->probes) {
		err = probes__add_binary(tr->probes, s->bin, &s->t,
					 opts->all_processes, &why);
		if (err) {
			fail("failed to set up probes", why, err);
			return err;
		}
	}
	/* After the probes are in, so that no park falls in between. */
	err = session__start(s, now_ns(),
			     tr->probes && probes__attached(tr->probes), &why);
	if (err && !tr->probes) {
		fprintf(stderr, "goleaktrace: cannot scan goroutines of pid "
			"%d: %s\n", s->t.pid, why);
		return err;
	}
	if (err)
		fprintf(stderr, "goleaktrace: warning: %s\n", why);
	print_attached(tr->probes, s, opts->verbose);
	fprintf(stderr, "goleaktrace: %zu of %llu goroutines were already "
		"parked at attach\n", s->snap.n,
		(unsigned long long)s->snap.allglen);
	return 0;
}

/* The pods of the processes from the first-th on, when this is a
 * Kubernetes node: the kubelet's records are read again each time, so
 * that new pods are known. */
static void trace__label(struct trace *tr, size_t first)
{
	struct pod_index *idx;
	size_t i;

	if (pod_index__load(&idx, tr->opts->host_root))
		return;
	for (i = first; i < tr->set.n; i++)
		pod_index__labels(idx, tr->set.v[i]->t.pid, &tr->set.v[i]->pod);
	pod_index__free(idx);
}

/* --all: new Go processes join; each failure only loses that process. */
static int trace__discover(struct trace *tr)
{
	size_t i, first;
	int err;

	err = session_set__scan(&tr->set, &first);
	if (err)
		return err;
	trace__label(tr, first);
	for (i = first; i < tr->set.n;) {
		err = trace__start_session(tr, tr->set.v[i]);
		if (err == -ENOMEM)
			return err;
		if (err)
			session_set__remove(&tr->set, i);
		else
			i++;
	}
	return 0;
}

/* Notices processes that stopped, exec'd or exited. With -p the trace
 * ends with its target; with --all a gone process leaves the set. */
static bool trace__check_targets(struct trace *tr)
{
	struct session *s;
	enum target_state was;
	size_t i;

	for (i = 0; i < tr->set.n;) {
		s = tr->set.v[i];
		was = s->state;
		s->state = target__state(&s->t);
		if (s->state != was)
			fprintf(stderr, "goleaktrace: pid %d %s\n", s->t.pid,
				target__state_name(s->state));
		if (tr->opts->all_processes &&
		    (s->state == TARGET_EXITED || s->state == TARGET_EXECED)) {
			if (tr->probes)
				probes__forget_process(tr->probes, s->t.pid);
			session_set__remove(&tr->set, i);
			continue;
		}
		if (s->state == TARGET_EXITED || s->state == TARGET_EXECED)
			return true;
		i++;
	}
	return false;
}

/* Sleeps until the next report is due, a signal arrives or the target
 * exits. Returns 1 when it is time to stop. */
static int wait_tick(struct trace *tr, uint64_t deadline_ns, uint64_t end_ns)
{
	uint64_t now = now_ns(), until = deadline_ns;
	struct pollfd pfd = { .fd = -1, .events = POLLIN };

	/* -p: wake as soon as the one target exits. */
	if (!tr->opts->all_processes && tr->set.n)
		pfd.fd = tr->set.v[0]->t.pidfd;
	if (end_ns && end_ns < until)
		until = end_ns;
	if (tr->duty && duty__next_ns(tr->duty) < until)
		until = duty__next_ns(tr->duty);
	/* Wake at least once a second to notice a stop or an exec. */
	if (until > now + NSEC_PER_SEC)
		until = now + NSEC_PER_SEC;
	if (until > now)
		poll(&pfd, 1, (int)((until - now + NSEC_PER_MSEC - 1) /
				    NSEC_PER_MSEC));
	if (trace__check_targets(tr) || exiting)
		return 1;
	return end_ns && now_ns() >= end_ns;
}

/* --max-overhead: the trap cost calibrated for the kind of instruction
 * the probes sit on (that of -p's binary; --all: a jump), before they go
 * in, so that the target does not pay for the calibration's time. */
static int trace__start_duty(struct trace *tr)
{
	struct duty_opts o = { .pct = tr->opts->max_overhead,
			       .kind = BUDGET_PROBE_JUMP };
	const struct session *s = tr->set.n ? tr->set.v[0] : NULL;
	struct probes_plan plan;
	const char *warn;
	uint8_t byte;
	int err;

	if (s && !probes__plan(s->bin, &plan, &warn) &&
	    !gobin__read(s->bin, plan.points[0].entry + plan.points[0].offset,
			 &byte, 1))
		o.kind = budget__probe_kind(gobin__arch(s->bin), byte);
	err = duty__new(&tr->duty, tr->probes, &o, now_ns(), &warn);
	if (warn)
		fprintf(stderr, "goleaktrace: warning: %s; taking the probes' "
			"trap cost as %.0f ns\n", warn, BUDGET_DEFAULT_TRAP_NS);
	else if (!err && tr->opts->verbose)
		fprintf(stderr, "goleaktrace: a uprobe trap costs %.0f ns here "
			"(calibrated in %.0f ms)\n", tr->duty->cal.trap_ns,
			tr->duty->cal.elapsed_ns / 1e6);
	return err;
}

/* The latest scan of a traced process, for probes__prune_parked. */
static const struct snapshot *snapshot_of(pid_t pid, void *set)
{
	const struct session *s = session_set__find(set, pid);

	return s ? &s->snap : NULL;
}

/* Ends a slice or an interval of the probes when due. Back from a gap,
 * they missed parks and wake-ups: every process is scanned again, and
 * the parked map loses what the scan no longer finds parked. */
static int trace__duty(struct trace *tr)
{
	uint64_t now = now_ns();
	const char *why = NULL;
	size_t i;
	int ret;

	if (!tr->duty)
		return 0;
	ret = duty__step(tr->duty, tr->probes, now, &why);
	if (ret < 0) {
		fail("failed to attach the probes again", why, ret);
		return ret;
	}
	if (ret != 1)
		return 0;
	for (i = 0; i < tr->set.n; i++)
		session__rescan(tr->set.v[i], true);
	probes__prune_parked(tr->probes, now, snapshot_of, &tr->set);
	return 0;
}

/* One report for every traced process. */
static int trace__report(struct trace *tr, bool final)
{
	struct budget_report probes_time, *pt = NULL;
	struct map_copy maps = {};
	struct session *s;
	bool gap;
	size_t i;
	int err = 0;

	if (tr->probes)
		err = map_copy__read(&maps, tr->probes);
	if (tr->duty) {
		duty__take_report(tr->duty, &probes_time);
		pt = &probes_time;
	}
	if (tr->rep.metrics)
		report_metrics__begin(tr->rep.metrics,
				      tr->probes ? &maps.counters : NULL, pt);
	/* Between slices the probes see nothing: memory is all there is. */
	gap = tr->opts->no_probes || !probes__attached(tr->probes);
	report_term__begin(&tr->rep.term, tr->set.n, final);
	for (i = 0; !err && i < tr->set.n; i++) {
		s = tr->set.v[i];
		if (gap && s->state != TARGET_EXITED)
			session__rescan(s, false);
		err = report(&tr->rep, tr->probes ? &maps : NULL, pt, s,
			     tr->opts, final);
	}
	if (!err && tr->rep.metrics)
		err = report_metrics__publish(tr->rep.metrics);
	map_copy__free(&maps);
	return err;
}

static void trace__free(struct trace *tr)
{
	report_metrics__free(tr->rep.metrics);
	session_set__free(&tr->set);
	probes__free(tr->probes);
	duty__free(tr->duty);
}

/* -p: the one target, opened with every error shown. */
static int trace__open_pid(struct trace *tr, pid_t pid)
{
	struct session *s;
	char msg[256];
	int err;

	err = session__open(&s, pid, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "goleaktrace: %s\n", msg);
		return err;
	}
	err = session_set__add(&tr->set, s);
	if (err)
		session__free(s);
	return err;
}

static void print_profile_paths(const struct trace *tr)
{
	const char *path;
	size_t i;

	for (i = 0; i < tr->set.n; i++) {
		path = tr->set.v[i]->pprof ?
			report_pprof__last_path(tr->set.v[i]->pprof) : "";
		if (*path)
			fprintf(stderr, "goleaktrace: profile written to %s\n",
				path);
	}
}

/* --metrics: served before anything is attached, so that a bad address
 * costs the target nothing; /healthz fails after three missed reports. */
static int start_metrics(struct reporters *rep, const struct cli_opts *opts)
{
	struct report_metrics_opts mopts = {
		.top_sites = opts->top_sites,
		.stale_ns = 3 * opts->interval_ns + 10 * NSEC_PER_SEC,
	};
	const char *why = NULL;
	int err;

	err = report_metrics__new(&rep->metrics, &mopts);
	if (!err)
		err = report_metrics__serve(rep->metrics, opts->metrics, &why);
	if (err) {
		fprintf(stderr, "goleaktrace: cannot serve metrics on %s: %s\n",
			opts->metrics, why ? why : strerror(-err));
		return err;
	}
	fprintf(stderr, "goleaktrace: serving metrics on %s, port %u "
		"(/metrics, /healthz)\n", opts->metrics,
		report_metrics__port(rep->metrics));
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct probes_opts popts = {};
	struct cli_opts opts;
	struct trace tr = { .opts = &opts };
	uint64_t next, end = 0;
	const char *why = NULL;
	int err;

	cli__parse(argc, argv, &opts);
	if (opts.inspect)
		return inspect(opts.inspect);
	verbosity = opts.verbose;
	libbpf_set_print(libbpf_print);
	if (opts.metrics) {
		err = start_metrics(&tr.rep, &opts);
		if (err)
			goto out;
	}

	/* --pod: the pod's one Go process, or a message saying why not. */
	if (opts.pod) {
		err = pod__resolve(opts.host_root, opts.pod, opts.container,
				   &opts.pid, stderr);
		if (err)
			goto out;
	}
	if (!opts.all_processes) {
		err = trace__open_pid(&tr, opts.pid);
		if (err)
			goto out;
	}
	/* Before "tracing pid" is printed: a Ctrl-C right after it must still
	 * get the final report. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	popts.max_goroutines = opts.max_goroutines;
	popts.max_sites = opts.max_sites;
	popts.btf_path = opts.btf_path;
	popts.no_uprobe_multi = opts.no_uprobe_multi;
	if (!opts.no_probes) {
		err = probes__open(&tr.probes, &popts, &why);
		if (err) {
			fail("failed to set up probes", why, err);
			goto out;
		}
		err = trace__start_duty(&tr);
		if (err)
			goto out;
	}
	if (opts.all_processes) {
		tr.set.cgroup = opts.cgroup;
		err = trace__discover(&tr);
		if (!err)
			fprintf(stderr, "goleaktrace: watching %zu Go "
				"process%s; new ones join at each interval\n",
				tr.set.n, tr.set.n == 1 ? "" : "es");
	} else {
		trace__label(&tr, 0);
		err = trace__start_session(&tr, tr.set.v[0]);
	}
	if (err)
		goto out;

	report_term__init(&tr.rep.term, stdout);
	report_json__init(&tr.rep.json, stdout);
	tr.rep.json_on = opts.json;
	next = now_ns() + opts.interval_ns;
	if (opts.duration_ns)
		end = now_ns() + opts.duration_ns;
	while (!wait_tick(&tr, next, end)) {
		err = trace__duty(&tr);
		if (err)
			goto out;
		if (now_ns() < next)
			continue;
		if (opts.all_processes)
			err = trace__discover(&tr);
		if (!err)
			err = trace__report(&tr, false);
		if (err) {
			fail("failed to build a report", "", err);
			goto out;
		}
		next += opts.interval_ns;
	}
	err = trace__report(&tr, true);
	if (err)
		fail("failed to build the final report", "", err);
	if (!err)
		print_profile_paths(&tr);
	if (!err)
		err = tr.rep.write_err;
out:
	trace__free(&tr);
	return err ? 1 : 0;
}
