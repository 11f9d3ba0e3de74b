// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* floor: the benchmark's lower bound. Attaches BPF programs that do
 * nothing at exactly the probe positions goleaktrace uses (same functions,
 * same prologue decoding, through the project's gobin and prologue code),
 * and waits for SIGINT/SIGTERM or the target's exit.
 *
 *   floor -p PID             empty programs on the 3 runtime functions
 *   floor -p PID --stackid   the park program also walks the user stack
 *                            (bpf_get_stackid, BPF_F_USER_STACK)
 *   floor -p PID --stats     also enable the kernel's BPF run-time stats
 *                            while attached and print each program's run
 *                            count and run time at exit (this adds a
 *                            little cost per hit: not for timed runs)
 *   -v                       print the probed addresses, in goleaktrace -v's
 *                            format, so run.sh can compare the two
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"
#include "gobin.h"
#include "probes.h"
#include "target.h"
#include "uprobe_links.h"

/* In probes__plan order: park, spawn, exit. */
#define NPOINTS PROBES_COUNT

struct point {
	struct bpf_program *prog;
	struct bpf_link *link;
	const char *name;		/* the one probed */
	uint64_t entry, offset;
};

static volatile sig_atomic_t exiting;
static int verbose;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	if (level == LIBBPF_DEBUG && verbose < 2)
		return 0;
	if (level == LIBBPF_INFO && verbose < 1)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: floor -p PID [--stackid] [--multi] [--stats] [-v]\n"
		"Attaches empty BPF programs at goleaktrace's probe positions "
		"until Ctrl-C: one perf-event uprobe each, or (--multi) one "
		"uprobe_multi link for all.\n");
}

/* Exactly goleaktrace's placement: probes__plan, the same code. */
static int attach_point(struct point *pt, const struct probe_point *at,
			const struct target *t, const char **errmsg)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uopts);

	pt->link = bpf_program__attach_uprobe_opts(pt->prog, t->pid,
						   t->exe_path,
						   at->file_offset, &uopts);
	if (!pt->link) {
		*errmsg = "failed to attach a uprobe";
		return -errno;
	}
	return 0;
}

static void print_stats(const struct point *pts, int n)
{
	struct bpf_prog_info info;
	__u32 len;
	int i;

	for (i = 0; i < n; i++) {
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(bpf_program__fd(pts[i].prog), &info,
					    &len))
			continue;
		fprintf(stderr, "floor: stats %s prog=%s run_cnt=%llu "
			"run_time_ns=%llu\n", pts[i].name,
			bpf_program__name(pts[i].prog),
			(unsigned long long)info.run_cnt,
			(unsigned long long)info.run_time_ns);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "stackid", no_argument, NULL, 's' },
		{ "stats", no_argument, NULL, 'S' },
		{ "multi", no_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct target t = { .exe_fd = -1, .pidfd = -1 };
	struct point pts[NPOINTS] = {};
	struct probes_plan plan;
	struct floor_bpf *skel = NULL;
	struct gobin *bin = NULL;
	struct pollfd pfd;
	bool stackid = false, stats = false, multi = false;
	uint64_t offsets[NPOINTS];
	const char *why = "";
	int c, i, n = 0, stats_fd = -1, multi_fd[2] = { -1, -1 }, err = 0;
	long pid = 0;
	char *end;

	while ((c = getopt_long(argc, argv, "p:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			errno = 0;
			pid = strtol(optarg, &end, 10);
			if (errno || *end || pid <= 0 || pid > INT_MAX) {
				fprintf(stderr, "floor: Invalid PID: %s\n",
					optarg);
				usage(stderr);
				return 2;
			}
			break;
		case 's':
			stackid = true;
			break;
		case 'S':
			stats = true;
			break;
		case 'm':
			multi = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!pid || optind != argc) {
		usage(stderr);
		return 2;
	}
	libbpf_set_print(libbpf_print);
	/* Before "tracing pid" is printed: run.sh may signal right after. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	err = target__open(&t, (pid_t)pid, &why);
	if (err) {
		fprintf(stderr, "floor: failed to open target: %s\n", why);
		goto cleanup;
	}
	err = gobin__open(&bin, t.exe_fd, &why);
	if (err) {
		fprintf(stderr, "floor: failed to analyse pid %d (%s): %s\n",
			t.pid, t.comm, why);
		goto cleanup;
	}
	skel = floor_bpf__open();
	if (skel) {
		bpf_program__set_autoload(skel->progs.floor_any, multi);
		if (multi) {
			uprobe_multi__prepare(skel->progs.floor_any);
			uprobe_multi__prepare(stackid ?
				skel->progs.floor_park_stackid :
				skel->progs.floor_park);
		}
		err = floor_bpf__load(skel);
	}
	if (!skel || err) {
		err = -errno;
		fprintf(stderr, "floor: failed to load BPF programs: %s (run "
			"as root; -v for libbpf's log)\n", strerror(-err));
		goto cleanup;
	}
	pts[0].prog = stackid ? skel->progs.floor_park_stackid :
				skel->progs.floor_park;
	pts[1].prog = skel->progs.floor_spawn;
	pts[2].prog = skel->progs.floor_exit;
	if (stats) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0) {
			err = -errno;
			fprintf(stderr, "floor: failed to enable BPF stats: "
				"%s\n", strerror(-err));
			goto cleanup;
		}
	}
	err = probes__plan(bin, &plan, &why);
	for (i = 0; !err && i < NPOINTS; i++) {
		pts[i].name = plan.points[i].name;
		pts[i].entry = plan.points[i].entry;
		pts[i].offset = plan.points[i].offset;
		offsets[i] = plan.points[i].file_offset;
	}
	if (!err && multi) {
		/* The park program on its own link (it may walk the stack),
		 * the other hooks on one more. */
		err = uprobe_multi__attach(bpf_program__fd(pts[0].prog),
					   t.exe_path, t.pid, offsets, NULL, 1);
		multi_fd[0] = err;
		if (err >= 0)
			err = multi_fd[1] = uprobe_multi__attach(
				bpf_program__fd(skel->progs.floor_any),
				t.exe_path, t.pid, offsets + 1, NULL,
				NPOINTS - 1);
		err = err < 0 ? err : 0;
		why = "failed to attach a uprobe_multi link (Linux 6.6+)";
		n = err ? 0 : NPOINTS;
	} else {
		for (n = 0; !err && n < NPOINTS; n++)
			err = attach_point(&pts[n], &plan.points[n], &t, &why);
	}
	if (err) {
		fprintf(stderr, "floor: failed to set up probes: %s (%s)\n",
			why, strerror(-err));
		goto cleanup;
	}
	fprintf(stderr, "floor: tracing pid %d (%s, %s) with %d %s probes; "
		"Ctrl-C to stop\n", t.pid, t.comm, gobin__go_version(bin), n,
		stackid ? "empty+stackid" : "empty");
	if (multi)
		fprintf(stderr, "floor: uprobe_multi links\n");
	for (i = 0; verbose && i < n; i++)
		fprintf(stderr, "floor:   %s+%llu (0x%llx)\n", pts[i].name,
			(unsigned long long)pts[i].offset,
			(unsigned long long)(pts[i].entry + pts[i].offset));

	pfd = (struct pollfd){ .fd = t.pidfd, .events = POLLIN };
	while (!exiting) {
		/* EINTR on a signal; readable once the target exits. */
		if (poll(&pfd, 1, 1000) == 1) {
			fprintf(stderr, "floor: pid %d exited\n", t.pid);
			break;
		}
	}
	if (stats && !multi)
		print_stats(pts, n);
cleanup:
	for (i = 0; i < 2; i++)
		if (multi_fd[i] >= 0)
			close(multi_fd[i]);
	for (i = 0; i < NPOINTS; i++)
		bpf_link__destroy(pts[i].link);
	if (stats_fd >= 0)
		close(stats_fd);
	floor_bpf__destroy(skel);
	gobin__free(bin);
	target__close(&t);
	return err ? 1 : 0;
}
