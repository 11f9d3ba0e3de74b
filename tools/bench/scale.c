// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Dev tool for tools/bench/scale.sh: goleaktrace's user-space pipeline
 * against a live process, each stage timed on its own. No BPF: the
 * goroutines the snapshot finds stand in for the probes' records, so that
 * a report walks exactly what it would walk with a million parks seen.
 *
 *   scale PID [REPORTS] [probes|noprobes]
 *
 * Default: the goroutines are the attach snapshot's (parked before
 * attach). "probes": handed to each report as if the probes had seen
 * them park, and not in the snapshot (a million goroutines parked after
 * attach). "noprobes": every report scans again first (snapshot__rescan,
 * what --no-probes does each interval), timed as "rescan". Except in
 * noprobes, the snapshot is taken as with the probes attached (no
 * second read of each g, see gread.watched).
 *
 * Prints one "stage report wall-seconds cpu-seconds" line per stage and
 * report, then the peak RSS. Timings are measurements for bench/RESULTS.md, never assertions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include "classify.h"
#include "gobin.h"
#include "gtable.h"
#include "report_json.h"
#include "report_pprof.h"
#include "report_term.h"
#include "snapshot.h"
#include "target.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* This process's CPU time so far, user and system. */
static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double cpu0;

/* A stage starts: its wall clock start; its CPU time is kept. */
static double start(void)
{
	cpu0 = cpu_s();
	return now_s();
}

/* "stage report wall_seconds cpu_seconds" since start(). */
static void stage(const char *name, int report, double t0)
{
	printf("%-10s %d %.3f %.3f\n", name, report, now_s() - t0,
	       cpu_s() - cpu0);
	fflush(stdout);
}

/* The snapshot as if every goroutine had been seen parking by the
 * probes, at the time the snapshot saw it. */
static int fake_probe_records(const struct snapshot *snap,
			      struct glt_gkey **gkeys,
			      struct glt_parked **parked)
{
	size_t i;

	*gkeys = calloc(snap->n + 1, sizeof(**gkeys));
	*parked = calloc(snap->n + 1, sizeof(**parked));
	if (!*gkeys || !*parked)
		return -ENOMEM;
	for (i = 0; i < snap->n; i++) {
		(*gkeys)[i] = (struct glt_gkey){ .g = snap->gs[i].g };
		(*parked)[i] = (struct glt_parked){
			.park_ns = snap->gs[i].first_seen_ns,
			.goid = snap->gs[i].goid, .reason = snap->gs[i].reason };
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct glt_counters counters = {};
	struct report_pprof *pprof = NULL;
	struct classifier *cls = NULL;
	struct snapshot snap = {};
	struct report_term term;
	struct report_json json;
	struct report_info info;
	struct gobin *bin = NULL;
	struct glt_parked *parked = NULL;
	struct glt_gkey *gkeys = NULL;
	uint64_t start_ns;
	struct target t = { .exe_fd = -1, .pidfd = -1 };
	const char *why = "";
	struct rusage ru;
	int reports = argc > 2 ? atoi(argv[2]) : 3, r, err;
	bool probes = argc > 3 && !strcmp(argv[3], "probes");
	bool rescan = argc > 3 && !strcmp(argv[3], "noprobes");
	/* goleaktrace's attach snapshot runs with the probes in. */
	bool watched = !rescan;
	size_t len, nfake;
	uint8_t *buf;
	FILE *null;
	double t0;

	if (argc < 2) {
		fprintf(stderr, "usage: scale PID [REPORTS]\n");
		return 2;
	}
	null = fopen("/dev/null", "w");
	t0 = start();
	err = target__open(&t, atoi(argv[1]), &why);
	if (!err)
		err = gobin__open(&bin, t.exe_fd, &why);
	if (err) {
		fprintf(stderr, "scale: %s\n", why);
		return 1;
	}
	if (gobin__is_pie(bin))
		target__find_load_bias(&t, gobin__base_vaddr(bin));
	stage("open", 0, t0);
	start_ns = now_ns();
	t0 = start();
	err = snapshot__take(&snap, bin, &t, watched, &why);
	if (err) {
		fprintf(stderr, "scale: %s\n", why);
		return 1;
	}
	stage("snapshot", 0, t0);
	printf("parked %zu of %llu\n", snap.n,
	       (unsigned long long)snap.allglen);
	err = fake_probe_records(&snap, &gkeys, &parked);
	/* Probes: parked after attach, so not in the attach snapshot. */
	nfake = snap.n;
	if (probes)
		snap.n = 0;
	err = err ?: classifier__new(&cls, bin, t.load_bias);
	err = err ?: report_pprof__open(&pprof,
						"/tmp/goleaktrace-scale.pb.gz", &t);
	if (err)
		return 1;
	report_term__init(&term, null);
	report_json__init(&json, null);
	for (r = 1; r <= reports; r++) {
		if (rescan) {
			t0 = start();
			if (snapshot__rescan(&snap, bin, &t, false, &why)) {
				fprintf(stderr, "scale: %s\n", why);
				return 1;
			}
			stage("rescan", r, t0);
		}
		struct gtable_source src = {
			.bin = bin, .target = &t, .now_ns = now_ns(),
			.threshold_ns = 0, .gkeys = gkeys, .parked = parked,
			.nparked = probes ? nfake : 0, .snap = &snap };
		struct gtable gt;

		t0 = start();
		err = gtable__build(&gt, &src);
		stage("gtable", r, t0);
		t0 = start();
		err = err ?: classifier__classify(cls, &gt,
						  src.now_ns - start_ns, true);
		stage("classify", r, t0);
		if (err)
			return 1;
		info = (struct report_info){ .bin = bin, .target = &t,
			.elapsed_ns = src.now_ns - start_ns,
			.counters = &counters, .final = true };
		t0 = start();
		report_term__print(&term, &info, &gt);
		stage("term", r, t0);
		t0 = start();
		report_json__print(&json, &info, &gt, 0);
		stage("json", r, t0);
		t0 = start();
		if (!report_pprof__encode(pprof, &info, &gt, 0, &buf, &len))
			free(buf);
		stage("pprof", r, t0);
		printf("groups %zu goroutines %zu\n", gt.ngroups,
		       gt.ngoroutines);
		gtable__clear(&gt);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("maxrss_mib %.1f\n", ru.ru_maxrss / 1024.0);
	report_pprof__free(pprof);
	classifier__free(cls);
	free(gkeys);
	free(parked);
	snapshot__free(&snap);
	gobin__free(bin);
	target__close(&t);
	fclose(null);
	return 0;
}
