/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Prometheus reporter: every interval the reports of all watched
 * processes become one exposition text (format 0.0.4), rebuilt from
 * scratch, so that a process that went away is gone from it; it is
 * swapped in under a mutex and served from memory on /metrics, with
 * /healthz beside it, by libmicrohttpd's own thread (--metrics).
 *
 *     report_metrics__new(&m, &opts);
 *     report_metrics__serve(m, "127.0.0.1:9431", &why);
 *     every interval:
 *         report_metrics__begin(m, &counters);
 *         for each process: report_metrics__add_process(m, &info, &gt,
 *                                                        &sites);
 *         report_metrics__publish(m);
 *     report_metrics__free(m);
 *
 * Label cardinality is bounded: per process, the top_sites creation
 * sites with the most parked goroutines (then the most live ones) keep
 * their name in created_by, the rest are summed into created_by="other".
 * created_by values are the pprof reporter's (report_pprof__creator), so
 * a series leads to its samples in the profile of the same moment. */
#ifndef GOLEAKTRACE_REPORT_METRICS_H
#define GOLEAKTRACE_REPORT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "goleaktrace.h"
#include "gtable.h"
#include "report_term.h"

#define REPORT_METRICS_TOP_SITES 20
#define REPORT_METRICS_OTHER "other"

struct report_metrics;

struct report_metrics_opts {
	unsigned top_sites;	/* named creation sites per process;
				 * 0 = REPORT_METRICS_TOP_SITES */
	uint64_t stale_ns;	/* /healthz fails (503) when no report was
				 * published for this long; 0 = never */
};

/* The probes' spawn/exit counts of one process, as gtable_source has
 * them (keys[i].pc counts sites[i]); NULL or n == 0 with --no-probes. */
struct report_metrics_sites {
	const struct glt_skey *keys;
	const struct glt_site *sites;
	size_t n;
};

int report_metrics__new(struct report_metrics **out,
			const struct report_metrics_opts *opts);
/* Stops the server first, if any. NULL-safe. */
void report_metrics__free(struct report_metrics *m);

/* Starts an interval. counters: the probes' event and drop counters,
 * shared by every process, and probes_time: their attached time and
 * cost; both NULL without probes. */
void report_metrics__begin(struct report_metrics *m,
			   const struct glt_counters *counters,
			   const struct budget_report *probes_time);
/* One process's report: labels come from info (pod, pid, the
 * executable's name), its groups must be classified. */
int report_metrics__add_process(struct report_metrics *m,
				const struct report_info *info,
				const struct gtable *gt,
				const struct report_metrics_sites *sites);
/* What was added since begin, plus goleaktrace's own CPU and memory,
 * becomes what /metrics serves. Processes not added since begin are
 * dropped, with what was remembered of them. */
int report_metrics__publish(struct report_metrics *m);

/* A copy of the text /metrics serves now (malloc'ed, NUL-terminated). */
int report_metrics__text(struct report_metrics *m, char **text, size_t *len);

/* Serves /metrics and /healthz on addr, "HOST:PORT" with a numeric host
 * ("0.0.0.0:9431", "[::1]:9431", ":9431" for every address; port 0
 * picks a free one, see report_metrics__port). On failure *why says
 * what to do; -EOPNOTSUPP when this build has no HTTP server (make
 * static: libmicrohttpd's GnuTLS needs p11-kit, which Debian ships no
 * static archive of). */
int report_metrics__serve(struct report_metrics *m, const char *addr,
			  const char **why);
/* The port served on, 0 when not serving. */
unsigned report_metrics__port(const struct report_metrics *m);

/* Checks the syntax of a --metrics address; 0 or -EINVAL. */
int report_metrics__parse_addr(const char *addr, char *host, size_t hostlen,
			       unsigned *port);

/* Writes s as a Prometheus label value, without the quotes: \, " and
 * newline escaped, invalid UTF-8 replaced by U+FFFD (names come from the
 * target's binary). Returns the length it needs (like snprintf). */
size_t report_metrics__escape(char *buf, size_t size, const char *s);

#endif
