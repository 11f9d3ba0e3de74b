// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "report_term.h"

#define MAX_INLINE 16
#define EXAMPLE_GOIDS 8

void report_term__init(struct report_term *r, FILE *out)
{
	struct winsize ws;

	r->out = out;
	r->tty = isatty(fileno(out));
	r->columns = 80;
	if (r->tty && !ioctl(fileno(out), TIOCGWINSZ, &ws) && ws.ws_col >= 40)
		r->columns = ws.ws_col;
}

/* On a TTY, long paths keep their tail so lines fit the screen. */
static const char *fit_path(const struct report_term *r, const char *path,
			    int indent)
{
	int room = r->columns - indent - 8;	/* ":line" */
	size_t len = strlen(path);
	const char *p;

	if (!r->tty || room < 20 || len <= (size_t)room)
		return path;
	p = path + len - room + 4;
	while (*p && *p != '/')
		p++;
	return *p ? p : path + len - room;
}

static void print_location(struct report_term *r, const char *func,
			   const char *file, int line, bool inlined)
{
	const char *shown = fit_path(r, file, 8);

	fprintf(r->out, "    %s%s\n", func, inlined ? "(...)" : "");
	fprintf(r->out, "        %s%s:%d\n", shown != file ? "..." : "",
		shown, line);
}

/* Park stack, innermost first, every logical (inlined) frame shown, as in
 * Go's own goroutine dump; the runtime.goexit sentinel is left out. */
static void print_stack(struct report_term *r, const struct report_info *info,
			const struct gt_group *g)
{
	struct pclntab_frame frames[MAX_INLINE];
	int i, j, n;

	for (i = 0; i < g->npcs; i++) {
		/* Every pc is a return address: look up the call itself. */
		uint64_t pc = g->pcs[i] - info->target->load_bias - 1;

		n = gobin__symbolize(info->bin, pc, frames, MAX_INLINE);
		if (n <= 0) {
			fprintf(r->out, "    ?\n        0x%llx\n",
				(unsigned long long)g->pcs[i]);
			continue;
		}
		if (!strcmp(frames[n - 1].func, "runtime.goexit"))
			break;
		for (j = 0; j < n; j++)
			print_location(r, frames[j].func, frames[j].file,
				       frames[j].line, frames[j].inlined);
	}
}

static void print_creator(struct report_term *r,
			  const struct report_info *info,
			  const struct gt_group *g)
{
	struct pclntab_frame frames[MAX_INLINE];
	uint64_t pc = g->gopc - info->target->load_bias - 1;
	int n;

	n = g->gopc ? gobin__symbolize(info->bin, pc, frames, MAX_INLINE) : -1;
	if (n <= 0)
		fprintf(r->out, "  created by ? at 0x%llx\n",
			(unsigned long long)g->gopc);
	else
		fprintf(r->out, "  created by %s at %s:%d\n", frames[0].func,
			fit_path(r, frames[0].file, 24), frames[0].line);
	fprintf(r->out, "  site: %llu spawned, %llu exited since attach\n",
		(unsigned long long)g->site.spawned,
		(unsigned long long)g->site.exited);
}

static void print_group(struct report_term *r, const struct report_info *info,
			const struct gt_group *g)
{
	char oldest[32], median[32];
	size_t i;

	cli__format_duration(g->oldest_ns, oldest, sizeof(oldest));
	cli__format_duration(g->median_ns, median, sizeof(median));
	/* ">=": some members parked before attach, so times are lower
	 * bounds. */
	fprintf(r->out, "\n%zu goroutine%s [%s] oldest %s%s, median %s%s\n",
		g->count, g->count == 1 ? "" : "s",
		gobin__wait_reason(info->bin, g->reason),
		g->lower_bound ? ">=" : "", oldest,
		g->lower_bound ? ">=" : "", median);
	fprintf(r->out, "  %s\n", g->verdict);
	print_stack(r, info, g);
	print_creator(r, info, g);
	fprintf(r->out, "  goids:");
	for (i = 0; i < g->count && i < EXAMPLE_GOIDS; i++)
		fprintf(r->out, " %llu", (unsigned long long)g->goids[i]);
	if (g->count > EXAMPLE_GOIDS)
		fprintf(r->out, " ... (+%zu)", g->count - EXAMPLE_GOIDS);
	fprintf(r->out, "\n");
}

static void print_counters(struct report_term *r,
			   const struct report_info *info,
			   const struct gtable *gt)
{
	const struct glt_counters *c = info->counters;
	const struct gt_stats *s = &gt->stats;

	fprintf(r->out,
		"\nevents: %llu parks, %llu readies, %llu spawns, %llu exits; "
		"%llu goroutines tracked\n",
		(unsigned long long)c->parks, (unsigned long long)c->readies,
		(unsigned long long)c->spawns, (unsigned long long)c->exits,
		(unsigned long long)s->tracked);
	fprintf(r->out,
		"dropped: %llu parks (map full), %llu site counts (map full), "
		"%llu probe reads failed, %llu target reads failed\n",
		(unsigned long long)c->parked_map_full,
		(unsigned long long)c->sites_map_full,
		(unsigned long long)c->read_failed,
		(unsigned long long)s->read_failed);
	fprintf(r->out,
		"skipped: %llu woken without ready (running), %llu reused g, "
		"%llu changed while read, %llu runtime goroutines (--all)\n",
		(unsigned long long)s->running, (unsigned long long)s->reused,
		(unsigned long long)s->raced,
		(unsigned long long)s->hidden_system);
}

void report_term__print(struct report_term *r, const struct report_info *info,
			const struct gtable *gt)
{
	char threshold[32], elapsed[32], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t i;

	cli__format_duration(info->threshold_ns, threshold, sizeof(threshold));
	cli__format_duration(info->elapsed_ns, elapsed, sizeof(elapsed));
	strftime(stamp, sizeof(stamp), "%H:%M:%S", localtime_r(&now, &tm));
	if (r->tty && !info->final)
		fprintf(r->out, "\033[H\033[2J");
	fprintf(r->out, "%s %s pid %d (%s, %s) after %s: %zu goroutine%s "
		"parked >= %s in %zu group%s\n",
		info->final ? "=== final report" : "=== report", stamp,
		info->target->pid, info->target->comm,
		gobin__go_version(info->bin), elapsed, gt->ngoroutines,
		gt->ngoroutines == 1 ? "" : "s", threshold, gt->ngroups,
		gt->ngroups == 1 ? "" : "s");
	for (i = 0; i < gt->ngroups; i++)
		print_group(r, info, &gt->groups[i]);
	print_counters(r, info, gt);
	fflush(r->out);
}
