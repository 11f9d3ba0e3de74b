// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "budget.h"
#include "cli.h"
#include "pod.h"
#include "report_metrics.h"

const char *argp_program_version = "goleaktrace 0.1";
const char *argp_program_bug_address = "<goleaktrace@users.noreply>";

static const char doc[] =
"Find leaked goroutines in a running Go process, from the outside.\n"
"\n"
"goleaktrace attaches uprobes to the Go runtime of process PID and, every\n"
"INTERVAL, prints the goroutines that have stayed parked for at least\n"
"THRESHOLD, grouped by park stack, wait reason and creation site. It stops\n"
"on Ctrl-C, after --duration, or when the target exits, always printing a\n"
"final report and the counters of anything dropped. Reports can also go\n"
"to pprof files (-o) and to stdout as JSON lines (--json).\n"
"\n"
"USAGE: goleaktrace -p PID [-t DUR] [-i DUR] [-d DUR]\n"
"                   [-o FILE.pb.gz|DIR/] [--json] [-v]\n"
"       goleaktrace --pod NS/NAME [-c CONTAINER] [--host-root DIR]\n"
"                   [-t DUR] [-i DUR] [-d DUR] [-o FILE.pb.gz|DIR/] [--json]\n"
"       goleaktrace --all [-t DUR] [-i DUR] [-d DUR] [-o DIR/] [--json]\n"
"       each also takes [--metrics HOST:PORT] [--profile-dir DIR [--keep N]]\n"
"\n"
"EXAMPLES:\n"
"    sudo goleaktrace -p 1234            # live report, parked >= 10s\n"
"    sudo goleaktrace -p 1234 -t 1m      # only goroutines parked >= 1 min\n"
"    sudo goleaktrace -p 1234 -d 30s | tee leaks.txt   # 30 s, plain text\n"
"    sudo goleaktrace -p 1234 -d 60s -o leaks.pb.gz     # for go tool pprof\n"
"    sudo goleaktrace -p 1234 -i 1m -o profiles/  # one profile a minute\n"
"    sudo goleaktrace -p 1234 --json | jq 'select(.class==\"likely_leaked\")'\n"
"    sudo goleaktrace --pod shop/checkout-7d9f   # on the pod's node\n"
"    sudo goleaktrace --all -d 1m        # every Go process on the node\n"
"    sudo goleaktrace --all -i 1m --metrics :9431 --profile-dir /var/tmp/glt\n"
"                                        # Prometheus, last hour of pprof\n"
"    goleaktrace --inspect ./server      # can this binary be traced?\n"
"\n"
"Durations: 500ms, 10s, 5m, 1h (a bare number means seconds).\n"
"Exit status: 0 success, 1 runtime failure, 2 usage error.\n"
"\vOPTIONS";

enum { OPT_MAX_GOROUTINES = 0x100, OPT_MAX_SITES, OPT_ALL, OPT_JSON, OPT_INSPECT, OPT_NO_PROBES,
       OPT_BTF, OPT_POD, OPT_HOST_ROOT, OPT_CGROUP, OPT_METRICS,
       OPT_TOP_SITES, OPT_PROFILE_DIR, OPT_KEEP, OPT_MAX_OVERHEAD,
       OPT_NO_UPROBE_MULTI };

#define DEFAULT_KEEP 60
/* Above any valid --keep: tells "not given" from every value. */
#define KEEP_UNSET UINT32_MAX

static const struct argp_option options[] = {
	{ "pid", 'p', "PID", 0, "Process to trace", 0 },
	{ "pod", OPT_POD, "NS/NAME", 0,
	  "On a Kubernetes node: trace the Go process of this pod, found "
	  "from the kubelet's records and /proc (no kube API)", 0 },
	{ "container", 'c', "NAME", 0, "With --pod: the pod's container", 0 },
	{ "cgroup", OPT_CGROUP, "PATH", 0,
	  "With --all: only the processes in this cgroup or below it (as "
	  "/proc/PID/cgroup shows it, e.g. /kubepods.slice)", 0 },
	{ "host-root", OPT_HOST_ROOT, "DIR", 0,
	  "Where the node's / is mounted (default /): --pod and pod labels "
	  "read DIR/var/log/pods and DIR/var/log/containers", 0 },
	{ "threshold", 't', "DUR", 0,
	  "Report goroutines parked at least this long (default 10s)", 0 },
	{ "interval", 'i', "DUR", 0, "Report every DUR (default 5s)", 0 },
	{ "duration", 'd', "DUR", 0,
	  "Stop after DUR (default: until Ctrl-C or the target exits)", 0 },
	{ "inspect", OPT_INSPECT, "FILE", 0,
	  "Check whether FILE can be traced (Go version, offsets, probe "
	  "points) and exit; needs no process and no root", 0 },
	{ "no-probes", OPT_NO_PROBES, NULL, 0,
	  "Scan goroutines from memory every interval, no uprobes: zero cost "
	  "on the target's hot path (see README for what is lost)", 0 },
	{ "max-overhead", OPT_MAX_OVERHEAD, "PCT", 0,
	  "Keep the probes' cost to the traced processes under PCT% of one "
	  "core (default 2): when it would be more, the probes are attached "
	  "for a slice of each second and memory scans fill the gaps; 100 "
	  "keeps them attached", 0 },
	{ "all", OPT_ALL, NULL, 0,
	  "Without -p: watch every Go process on the node, new ones too. "
	  "With -p: also show the runtime's own goroutines (GC, "
	  "finalizers)", 0 },
	{ "output", 'o', "FILE|DIR/", 0,
	  "Also write each report as a gzipped pprof profile: to FILE "
	  "(replaced each time), or to a new timestamped file in DIR/", 0 },
	{ "json", OPT_JSON, NULL, 0,
	  "Print JSON lines (one object per group) instead of the text "
	  "report", 0 },
	{ "metrics", OPT_METRICS, "HOST:PORT", 0,
	  "Serve Prometheus metrics on http://HOST:PORT/metrics, and "
	  "/healthz (HOST numeric; :PORT for every address)", 0 },
	{ "top-sites", OPT_TOP_SITES, "N", 0,
	  "With --metrics: name the N creation sites with the most parked "
	  "goroutines per process, sum the rest as created_by=\"other\" "
	  "(default 20)", 0 },
	{ "profile-dir", OPT_PROFILE_DIR, "DIR", 0,
	  "Write each report as a pprof profile to DIR (created if missing), "
	  "keeping the newest --keep of each process", 0 },
	{ "keep", OPT_KEEP, "N", 0,
	  "With --profile-dir: profiles kept per process (default 60; 0 "
	  "keeps all)", 0 },
	{ "verbose", 'v', NULL, 0, "Show probe details and libbpf's log", 0 },
	{ "btf", OPT_BTF, "FILE", OPTION_HIDDEN,
	  "Kernel BTF to use instead of /sys/kernel/btf/vmlinux", 0 },
	{ "max-goroutines", OPT_MAX_GOROUTINES, "N", OPTION_HIDDEN,
	  "Size of the parked-goroutine map", 0 },
	{ "max-sites", OPT_MAX_SITES, "N", OPTION_HIDDEN,
	  "Size of the creation-site map", 0 },
	{ "no-uprobe-multi", OPT_NO_UPROBE_MULTI, NULL, OPTION_HIDDEN,
	  "Attach one perf-event uprobe per hook, as on kernels before 6.6",
	  0 },
	{},
};

int cli__parse_duration(const char *s, uint64_t *ns)
{
	static const struct { const char *suffix; uint64_t mult; } units[] = {
		{ "ms", NSEC_PER_MSEC }, { "s", NSEC_PER_SEC },
		{ "m", 60 * NSEC_PER_SEC }, { "h", 3600 * NSEC_PER_SEC },
		{ "", NSEC_PER_SEC },
	};
	unsigned long long v;
	char *end;
	size_t i;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		if (v > UINT64_MAX / units[i].mult)
			return -ERANGE;
		*ns = v * units[i].mult;
		return 0;
	}
	return -EINVAL;
}

void cli__format_duration(uint64_t ns, char *buf, size_t size)
{
	uint64_t s = ns / NSEC_PER_SEC;

	if (ns < NSEC_PER_SEC)
		snprintf(buf, size, "%llums",
			 (unsigned long long)(ns / NSEC_PER_MSEC));
	else if (s < 60)
		snprintf(buf, size, "%llu.%llus", (unsigned long long)s,
			 (unsigned long long)(ns % NSEC_PER_SEC / 100000000));
	else if (s < 3600)
		snprintf(buf, size, "%llum%02llus", (unsigned long long)s / 60,
			 (unsigned long long)s % 60);
	else
		snprintf(buf, size, "%lluh%02llum", (unsigned long long)s / 3600,
			 (unsigned long long)s / 60 % 60);
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	char pod_ns[POD_NAMESPACE_SIZE], pod_name[POD_NAME_SIZE];
	struct cli_opts *opts = state->input;
	uint64_t *dur = NULL;
	const char *what = NULL;
	unsigned long v;
	char *end;

	switch (key) {
	case 'p':
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || v == 0 || v > INT_MAX)
			argp_error(state, "Invalid PID: %s", arg);
		opts->pid = v;
		return 0;
	case 't':
		dur = &opts->threshold_ns;
		what = "threshold";
		break;
	case 'i':
		dur = &opts->interval_ns;
		what = "interval";
		break;
	case 'd':
		dur = &opts->duration_ns;
		what = "duration";
		break;
	case 'v':
		opts->verbose++;
		return 0;
	case OPT_INSPECT:
		opts->inspect = arg;
		return 0;
	case OPT_BTF:
		opts->btf_path = arg;
		return 0;
	case OPT_POD:
		if (pod__parse_ref(arg, pod_ns, pod_name))
			argp_error(state, "Invalid --pod: %s (use NAMESPACE/NAME, "
				   "as kubectl shows them)", arg);
		opts->pod = arg;
		return 0;
	case 'c':
		if (!pod__valid_container(arg))
			argp_error(state, "Invalid container name: %s", arg);
		opts->container = arg;
		return 0;
	case OPT_CGROUP:
		if (*arg != '/')
			argp_error(state, "Invalid --cgroup: %s (an absolute "
				   "path, e.g. /kubepods.slice)", arg);
		opts->cgroup = arg;
		return 0;
	case OPT_HOST_ROOT:
		if (!*arg)
			argp_error(state, "Invalid --host-root: empty path");
		opts->host_root = arg;
		return 0;
	case OPT_NO_PROBES:
		opts->no_probes = true;
		return 0;
	case OPT_ALL:
		opts->all = true;
		return 0;
	case OPT_NO_UPROBE_MULTI:
		opts->no_uprobe_multi = true;
		return 0;
	case OPT_MAX_OVERHEAD:
		if (budget__parse_pct(arg, &opts->max_overhead))
			argp_error(state, "Invalid --max-overhead: %s (a "
				   "percentage of one core, above 0 and at "
				   "most 100)", arg);
		return 0;
	case 'o':
		if (!*arg)
			argp_error(state, "Invalid output: empty path");
		opts->output = arg;
		return 0;
	case OPT_JSON:
		opts->json = true;
		return 0;
	case OPT_METRICS: {
		char host[64];
		unsigned port;

		if (report_metrics__parse_addr(arg, host, sizeof(host), &port))
			argp_error(state, "Invalid --metrics: %s (use HOST:PORT "
				   "with a numeric HOST, e.g. 127.0.0.1:9431, "
				   "[::1]:9431, or :9431)", arg);
		opts->metrics = arg;
		return 0;
	}
	case OPT_PROFILE_DIR:
		if (!*arg)
			argp_error(state, "Invalid --profile-dir: empty path");
		opts->profile_dir = arg;
		return 0;
	case OPT_TOP_SITES:
	case OPT_KEEP:
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || *arg == '-' ||
		    v > (1U << 20) || (key == OPT_TOP_SITES && !v))
			argp_error(state, "Invalid --%s: %s", key == OPT_KEEP ?
				   "keep" : "top-sites", arg);
		if (key == OPT_KEEP)
			opts->keep = v;
		else
			opts->top_sites = v;
		return 0;
	case OPT_MAX_GOROUTINES:
	case OPT_MAX_SITES:
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || v == 0 || v > (1U << 24))
			argp_error(state, "Invalid --%s: %s", key == OPT_MAX_SITES ?
				   "max-sites" : "max-goroutines", arg);
		*(key == OPT_MAX_SITES ? &opts->max_sites :
		  &opts->max_goroutines) = v;
		return 0;
	case ARGP_KEY_ARG:
		argp_error(state, "Unexpected argument: %s", arg);
		return 0;
	case ARGP_KEY_END:
		if (opts->inspect && opts->pid)
			argp_error(state, "--inspect FILE and -p PID exclude "
				   "each other");
		if (opts->no_probes && opts->max_overhead)
			argp_error(state, "--max-overhead has no use with "
				   "--no-probes, which costs the target nothing");
		if (!opts->max_overhead)
			opts->max_overhead = BUDGET_DEFAULT_PCT;
		if (opts->no_probes && opts->btf_path)
			argp_error(state, "--btf has no use with --no-probes");
		if (opts->pod && (opts->pid || opts->inspect))
			argp_error(state, "--pod NS/NAME and %s exclude each "
				   "other", opts->pid ? "-p PID" : "--inspect");
		if (opts->container && !opts->pod)
			argp_error(state, "-c CONTAINER needs --pod NS/NAME");
		/* --all names what -p (or --pod) leaves open: every
		 * process, else every goroutine of the one process. */
		opts->all_processes = opts->all && !opts->pid && !opts->pod;
		opts->show_system = opts->all && (opts->pid || opts->pod);
		if (opts->cgroup && !opts->all_processes)
			argp_error(state, "--cgroup PATH needs --all (without "
				   "-p or --pod)");
		if (opts->all_processes && opts->inspect)
			argp_error(state, "--inspect FILE and --all exclude "
				   "each other");
		if (opts->all_processes && opts->output &&
		    !cli__is_dir_path(opts->output))
			argp_error(state, "--all writes a profile per process: "
				   "give -o a directory (DIR/)");
		if (opts->profile_dir && opts->output)
			argp_error(state, "--profile-dir DIR and -o exclude each "
				   "other");
		if (opts->keep != KEEP_UNSET && !opts->profile_dir)
			argp_error(state, "--keep N needs --profile-dir DIR");
		if (opts->keep == KEEP_UNSET)
			opts->keep = DEFAULT_KEEP;
		if (opts->top_sites && !opts->metrics)
			argp_error(state, "--top-sites N needs --metrics");
		if ((opts->metrics || opts->profile_dir) && opts->inspect)
			argp_error(state, "--inspect FILE traces nothing: it "
				   "takes no --metrics or --profile-dir");
		if (!opts->pid && !opts->inspect && !opts->all_processes &&
		    !opts->pod)
			argp_error(state, "-p PID (or --all) is required (on a "
				   "Kubernetes node: --pod NS/NAME)");
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	if (cli__parse_duration(arg, dur))
		argp_error(state, "Invalid %s: %s (use e.g. 500ms, 10s, 5m)",
			   what, arg);
	if (*dur == 0 && key != 't')
		argp_error(state, "Invalid %s: %s (must be > 0)", what, arg);
	return 0;
}

bool cli__is_dir_path(const char *path)
{
	size_t len = strlen(path);
	struct stat st;

	return (len && path[len - 1] == '/') ||
	       (!stat(path, &st) && S_ISDIR(st.st_mode));
}

int cli__parse(int argc, char **argv, struct cli_opts *opts)
{
	static const struct argp argp = { options, parse_opt, NULL, doc,
					  NULL, NULL, NULL };

	memset(opts, 0, sizeof(*opts));
	opts->threshold_ns = 10 * NSEC_PER_SEC;
	opts->interval_ns = 5 * NSEC_PER_SEC;
	opts->host_root = "/";
	opts->keep = KEEP_UNSET;
	argp_err_exit_status = 2;
	return argp_parse(&argp, argc, argv, 0, NULL, opts);
}
