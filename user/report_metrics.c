// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Each metric family collects its samples in a text buffer of its own
 * while the processes are added, because the exposition format wants a
 * family's samples together under one HELP and TYPE; publish joins them.
 * The only state kept from one interval to the next is per process: the
 * executable's name, and the site counts of the last interval, so that
 * created_by="other" counters only ever grow (a site that leaves the
 * top-N is counted in "other" from then on; one that joins it leaves
 * what "other" counted of it there). */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifndef GLT_NO_MICROHTTPD
#include <microhttpd.h>
#endif
#include "cli.h"
#include "report_metrics.h"
#include "report_pprof.h"

/* Bounds of what a client may hold of the server. */
#define MAX_CONNECTIONS 32
#define CONNECTION_TIMEOUT_S 10

enum family {
	F_TARGET_INFO,
	F_PARKED,
	F_OLDEST,
	F_SPAWNED,
	F_EXITED,
	F_UNREADABLE,
	F_WATCHED,
	F_EVENTS,
	F_DROPPED,
	F_LAST_REPORT,
	F_ATTACHED,
	F_OVERHEAD,
	F_BUDGET,
	F_CPU,
	F_RSS,
	F_COUNT
};

static const struct {
	const char *name, *type, *help;
} families[F_COUNT] = {
	[F_TARGET_INFO] = { "goleaktrace_target_info", "gauge",
		"A watched Go process, its labels and Go version; always 1" },
	[F_PARKED] = { "goleaktrace_parked_goroutines", "gauge",
		"Goroutines parked for at least the threshold, by wait reason, "
		"leak class and creation site" },
	[F_OLDEST] = { "goleaktrace_parked_oldest_seconds", "gauge",
		"How long the longest-parked goroutine of the series has been "
		"parked (a lower bound for goroutines parked before attach)" },
	[F_SPAWNED] = { "goleaktrace_goroutines_spawned_total", "counter",
		"Goroutines created at the site since goleaktrace attached" },
	[F_EXITED] = { "goleaktrace_goroutines_exited_total", "counter",
		"Goroutines created at the site that exited since goleaktrace "
		"attached" },
	[F_UNREADABLE] = { "goleaktrace_unreadable_goroutines", "gauge",
		"Parked goroutines left out of the last report because the "
		"process's memory could not be read" },
	[F_WATCHED] = { "goleaktrace_watched_processes", "gauge",
		"Go processes in the last report" },
	[F_EVENTS] = { "goleaktrace_probe_events_total", "counter",
		"Runtime events seen by the probes, all processes" },
	[F_DROPPED] = { "goleaktrace_dropped_events_total", "counter",
		"Runtime events the probes could not record, all processes" },
	[F_LAST_REPORT] = { "goleaktrace_last_report_timestamp_seconds",
		"gauge", "When the metrics were last rebuilt, Unix time" },
	[F_ATTACHED] = { "goleaktrace_probes_attached_ratio", "gauge",
		"Fraction of the last interval the probes were attached "
		"(below 1 when --max-overhead duty-cycles them)" },
	[F_OVERHEAD] = { "goleaktrace_probes_overhead_cores", "gauge",
		"What the probes cost the traced processes over the last "
		"interval, in cores (events times calibrated cost)" },
	[F_BUDGET] = { "goleaktrace_probes_overhead_budget_cores", "gauge",
		"--max-overhead, in cores" },
	[F_CPU] = { "goleaktrace_self_cpu_seconds_total", "counter",
		"CPU time goleaktrace itself used, user and system" },
	[F_RSS] = { "goleaktrace_self_resident_memory_bytes", "gauge",
		"Resident memory of goleaktrace itself" },
};

/* A growing text; the first failed append sticks in err. */
struct text {
	char *p;
	size_t len, cap;
	int err;
};

static int text__reserve(struct text *t, size_t more)
{
	size_t cap = t->cap ? t->cap : 4096;
	char *p;

	if (t->err)
		return t->err;
	if (t->len + more + 1 <= t->cap)
		return 0;
	while (cap < t->len + more + 1)
		cap *= 2;
	p = realloc(t->p, cap);
	if (!p)
		return t->err = -ENOMEM;
	t->p = p;
	t->cap = cap;
	return 0;
}

static void text__add(struct text *t, const char *s, size_t n)
{
	if (text__reserve(t, n))
		return;
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

__attribute__((format(printf, 2, 3)))
static void text__printf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || text__reserve(t, n))
		return;
	va_start(ap, fmt);
	vsnprintf(t->p + t->len, n + 1, fmt, ap);
	va_end(ap);
	t->len += n;
}

static void text__free(struct text *t)
{
	free(t->p);
	*t = (struct text){};
}

/* Bytes of the well-formed UTF-8 character at p, 0 when it is not one:
 * decoded, then held against the shortest form, the surrogates and
 * U+10FFFF. A NUL is never a continuation byte: no read past the end. */
static int utf8_char(const unsigned char *p)
{
	static const uint32_t shortest[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t cp;
	int n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xf8 || p[0] < 0xc0)
		return 0;
	n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
	cp = p[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < shortest[n] || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* A label value as the exposition format escapes it. */
static void text__value(struct text *t, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	int n;

	while (*p) {
		n = utf8_char(p);
		if (*p == '\\' || *p == '"')
			text__printf(t, "\\%c", *p);
		else if (*p == '\n')
			text__add(t, "\\n", 2);
		else if (!n)
			text__add(t, "\xef\xbf\xbd", 3);	/* U+FFFD */
		else
			text__add(t, (const char *)p, n);
		p += n ? n : 1;
	}
}

size_t report_metrics__escape(char *buf, size_t size, const char *s)
{
	struct text t = {};
	size_t len;

	text__value(&t, s);
	len = t.err ? 0 : t.len;
	if (size)
		snprintf(buf, size, "%s", t.p && !t.err ? t.p : "");
	text__free(&t);
	return len;
}

/* What one process's last interval left: its site counts by pc. */
struct site_count {
	uint64_t pc, spawned, exited;
};

struct mproc {
	pid_t pid;
	uint64_t elapsed_ns;		/* of its last report */
	bool seen;			/* added since begin */
	char binary[NAME_MAX + 1];
	struct site_count *prev;
	size_t nprev;
	uint64_t other_spawned, other_exited;
};

struct report_metrics {
	struct report_metrics_opts opts;
	struct text body[F_COUNT];	/* this interval's samples */
	struct glt_counters counters;
	bool have_counters;
	struct budget_report probes_time;
	bool have_probes_time;
	size_t added;
	int err;			/* of an add since begin */
	struct mproc *procs;
	size_t nprocs, capprocs;
	/* Shared with the server's thread. */
	pthread_mutex_t lock;
	char *text;
	size_t text_len;
	uint64_t published_ns;		/* CLOCK_MONOTONIC */
	/* The server. */
	void *daemon;			/* struct MHD_Daemon */
	unsigned port;
};

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

int report_metrics__new(struct report_metrics **out,
			const struct report_metrics_opts *opts)
{
	struct report_metrics *m;
	int err;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	if (opts)
		m->opts = *opts;
	if (!m->opts.top_sites)
		m->opts.top_sites = REPORT_METRICS_TOP_SITES;
	err = -pthread_mutex_init(&m->lock, NULL);
	if (err) {
		free(m);
		return err;
	}
	/* Served before the first report: valid, with the tool's own. */
	err = report_metrics__publish(m);
	if (err) {
		report_metrics__free(m);
		return err;
	}
	*out = m;
	return 0;
}

static void mproc__clear(struct mproc *p)
{
	free(p->prev);
	*p = (struct mproc){};
}

static void stop_server(struct report_metrics *m);

void report_metrics__free(struct report_metrics *m)
{
	size_t i;

	if (!m)
		return;
	stop_server(m);
	for (i = 0; i < F_COUNT; i++)
		text__free(&m->body[i]);
	for (i = 0; i < m->nprocs; i++)
		mproc__clear(&m->procs[i]);
	free(m->procs);
	free(m->text);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void report_metrics__begin(struct report_metrics *m,
			   const struct glt_counters *counters,
			   const struct budget_report *probes_time)
{
	size_t i;

	for (i = 0; i < F_COUNT; i++) {
		m->body[i].len = 0;
		m->body[i].err = 0;
	}
	for (i = 0; i < m->nprocs; i++)
		m->procs[i].seen = false;
	m->have_counters = counters != NULL;
	if (counters)
		m->counters = *counters;
	m->have_probes_time = probes_time != NULL;
	if (probes_time)
		m->probes_time = *probes_time;
	m->added = 0;
	m->err = 0;
}

/* The executable's file name as the process runs it: comm is only its
 * first 15 bytes, and the process may change it. */
static void binary_name(const struct target *t, char *buf, size_t size)
{
	char path[PATH_MAX], link[32];
	const char *base;
	ssize_t n;
	char *del;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)t->pid);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0) {
		snprintf(buf, size, "%s", t->comm);
		return;
	}
	path[n] = '\0';
	/* Replaced on disk since it started. */
	del = strstr(path, " (deleted)");
	if (del && !del[10])
		*del = '\0';
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	n = strnlen(base, size - 1);
	memcpy(buf, base, n);
	buf[n] = '\0';
}

/* The process's state, new when its pid is new or was reused: a new
 * process of that pid was attached since (its elapsed time restarted). */
static struct mproc *mproc__get(struct report_metrics *m,
				const struct report_info *info)
{
	pid_t pid = info->target->pid;
	struct mproc *p;
	size_t i;

	for (i = 0; i < m->nprocs; i++) {
		p = &m->procs[i];
		if (p->pid != pid)
			continue;
		if (info->elapsed_ns >= p->elapsed_ns)
			return p;
		mproc__clear(p);
		goto fill;
	}
	if (m->nprocs == m->capprocs) {
		size_t cap = m->capprocs ? 2 * m->capprocs : 16;

		p = realloc(m->procs, cap * sizeof(*p));
		if (!p)
			return NULL;
		m->procs = p;
		m->capprocs = cap;
	}
	p = &m->procs[m->nprocs++];
	*p = (struct mproc){};
fill:
	p->pid = pid;
	binary_name(info->target, p->binary, sizeof(p->binary));
	return p;
}

/* A creation site of this report: parked goroutines from the groups,
 * counts from the probes. */
struct msite {
	uint64_t pc;
	uint64_t parked, spawned, exited;
	bool counted;			/* the probes count it */
	bool named;			/* in the top-N: its own created_by */
};

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_msite_pc(const void *a, const void *b)
{
	return cmp_u64(((const struct msite *)a)->pc,
		       ((const struct msite *)b)->pc);
}

/* Most parked first, then most alive (a leak the threshold does not
 * show yet), then most created; the pc makes the order total. */
static int cmp_msite_rank(const void *a, const void *b)
{
	const struct msite *x = *(const struct msite *const *)a;
	const struct msite *y = *(const struct msite *const *)b;
	int64_t lx = x->spawned - x->exited, ly = y->spawned - y->exited;

	if (x->parked != y->parked)
		return x->parked > y->parked ? -1 : 1;
	if (lx != ly)
		return lx > ly ? -1 : 1;
	if (x->spawned != y->spawned)
		return x->spawned > y->spawned ? -1 : 1;
	return cmp_u64(x->pc, y->pc);
}

/* The sites of groups and probes, one entry per pc, sorted by pc, the
 * top_sites first in rank named. */
static int sites__build(const struct gtable *gt,
			const struct report_metrics_sites *sc, unsigned top,
			struct msite **out, size_t *nout)
{
	size_t nsc = sc ? sc->n : 0, n = 0, i, j;
	struct msite *v, **rank = NULL;

	v = calloc(gt->ngroups + nsc + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < gt->ngroups; i++)
		v[n++] = (struct msite){ .pc = gt->groups[i].gopc,
					 .parked = gt->groups[i].count };
	for (i = 0; i < nsc; i++)
		v[n++] = (struct msite){ .pc = sc->keys[i].pc,
					 .spawned = sc->sites[i].spawned,
					 .exited = sc->sites[i].exited,
					 .counted = true };
	qsort(v, n, sizeof(*v), cmp_msite_pc);
	for (i = 0, j = 0; i < n; i++) {
		if (j && v[j - 1].pc == v[i].pc) {
			v[j - 1].parked += v[i].parked;
			if (v[i].counted) {
				v[j - 1].spawned = v[i].spawned;
				v[j - 1].exited = v[i].exited;
				v[j - 1].counted = true;
			}
			continue;
		}
		v[j++] = v[i];
	}
	n = j;
	rank = malloc((n + 1) * sizeof(*rank));
	if (!rank) {
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		rank[i] = &v[i];
	qsort(rank, n, sizeof(*rank), cmp_msite_rank);
	for (i = 0; i < n && i < top; i++)
		rank[i]->named = true;
	free(rank);
	*out = v;
	*nout = n;
	return 0;
}

static const struct msite *sites__find(const struct msite *v, size_t n,
				       uint64_t pc)
{
	struct msite key = { .pc = pc };

	return n ? bsearch(&key, v, n, sizeof(*v), cmp_msite_pc) : NULL;
}

/* One series of goleaktrace_parked_*: the groups that share its labels
 * (they differ in park stack) summed. */
struct mrow {
	unsigned reason;
	enum gt_class class;
	uint64_t site;			/* pc, or 0 for "other" */
	bool other;
	uint64_t count, oldest_ns;
};

static int cmp_mrow(const void *a, const void *b)
{
	const struct mrow *x = a, *y = b;

	if (x->reason != y->reason)
		return x->reason < y->reason ? -1 : 1;
	if (x->class != y->class)
		return x->class < y->class ? -1 : 1;
	if (x->other != y->other)
		return x->other ? 1 : -1;
	return cmp_u64(x->site, y->site);
}

/* namespace, pod, container, pid and binary: the labels every series of
 * a process starts with. */
static void process_labels(struct text *t, const struct report_info *info,
			   const struct mproc *p)
{
	text__add(t, "namespace=\"", 11);
	text__value(t, info->pod_namespace);
	text__add(t, "\",pod=\"", 7);
	text__value(t, info->pod_name);
	text__add(t, "\",container=\"", 13);
	text__value(t, info->pod_container);
	text__printf(t, "\",pid=\"%d\",binary=\"", (int)p->pid);
	text__value(t, p->binary);
	text__add(t, "\"", 1);
}

static void created_by(struct text *t, const struct report_info *info,
		       uint64_t pc, bool other)
{
	char creator[PATH_MAX + 256];

	if (other) {
		text__printf(t, ",created_by=\"%s\"", REPORT_METRICS_OTHER);
		return;
	}
	report_pprof__creator(info, pc, creator, sizeof(creator));
	text__add(t, ",created_by=\"", 13);
	text__value(t, creator);
	text__add(t, "\"", 1);
}

static const char *wait_reason(const struct report_info *info,
			       unsigned reason, char *buf, size_t size)
{
	if (info->bin)
		return gobin__wait_reason(info->bin, reason);
	snprintf(buf, size, "waitReason(%u)", reason);
	return buf;
}

static void add_parked(struct report_metrics *m,
		       const struct report_info *info, const char *labels,
		       const struct mrow *r)
{
	char unknown[32];
	struct text *f;
	int i;

	for (i = F_PARKED; i <= F_OLDEST; i++) {
		f = &m->body[i];
		text__printf(f, "%s{%s,wait_reason=\"", families[i].name,
			     labels);
		text__value(f, wait_reason(info, r->reason, unknown,
					   sizeof(unknown)));
		text__printf(f, "\",class=\"%s\"", gtable__class_name(r->class));
		created_by(f, info, r->site, r->other);
		if (i == F_PARKED)
			text__printf(f, "} %llu\n",
				     (unsigned long long)r->count);
		else
			text__printf(f, "} %.3f\n",
				     (double)r->oldest_ns / NSEC_PER_SEC);
	}
}

/* goleaktrace_parked_*: groups summed by (wait reason, class, site),
 * the sites outside the top-N as one. */
static int add_groups(struct report_metrics *m, const struct report_info *info,
		      const struct gtable *gt, const char *labels,
		      const struct msite *sites, size_t nsites)
{
	const struct msite *s;
	struct mrow *rows;
	size_t i, j, n = 0;

	rows = calloc(gt->ngroups + 1, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (i = 0; i < gt->ngroups; i++) {
		const struct gt_group *g = &gt->groups[i];

		s = sites__find(sites, nsites, g->gopc);
		rows[n++] = (struct mrow){
			.reason = g->reason, .class = g->class,
			.other = !s || !s->named,
			.site = s && s->named ? g->gopc : 0,
			.count = g->count, .oldest_ns = g->oldest_ns,
		};
	}
	qsort(rows, n, sizeof(*rows), cmp_mrow);
	for (i = 0; i < n; i = j) {
		struct mrow sum = rows[i];

		for (j = i + 1; j < n && !cmp_mrow(&rows[i], &rows[j]); j++) {
			sum.count += rows[j].count;
			if (rows[j].oldest_ns > sum.oldest_ns)
				sum.oldest_ns = rows[j].oldest_ns;
		}
		add_parked(m, info, labels, &sum);
	}
	free(rows);
	return 0;
}

static uint64_t grown(uint64_t now, uint64_t before)
{
	return now > before ? now - before : 0;
}

static int cmp_site_count(const void *a, const void *b)
{
	return cmp_u64(((const struct site_count *)a)->pc,
		       ((const struct site_count *)b)->pc);
}

static const struct site_count *prev_count(const struct mproc *p,
					   uint64_t pc)
{
	struct site_count key = { .pc = pc };

	return p->nprev ? bsearch(&key, p->prev, p->nprev, sizeof(key),
				  cmp_site_count) : NULL;
}

static void add_counter(struct report_metrics *m, const struct report_info *info,
			const char *labels, uint64_t pc, bool other,
			uint64_t spawned, uint64_t exited)
{
	int i;

	for (i = F_SPAWNED; i <= F_EXITED; i++) {
		text__printf(&m->body[i], "%s{%s", families[i].name, labels);
		created_by(&m->body[i], info, pc, other);
		text__printf(&m->body[i], "} %llu\n", (unsigned long long)
			     (i == F_SPAWNED ? spawned : exited));
	}
}

/* The spawn and exit counters: the top-N sites by name, the others'
 * growth since the last interval added to "other", which so never
 * decreases. Then the counts are remembered for the next interval. */
static int add_sites(struct report_metrics *m, const struct report_info *info,
		     struct mproc *p, const char *labels,
		     const struct msite *sites, size_t nsites)
{
	const struct site_count *was;
	struct site_count *now;
	size_t i, n = 0;

	now = calloc(nsites + 1, sizeof(*now));
	if (!now)
		return -ENOMEM;
	for (i = 0; i < nsites; i++) {
		const struct msite *s = &sites[i];

		if (!s->counted)
			continue;
		now[n++] = (struct site_count){ s->pc, s->spawned, s->exited };
		if (s->named) {
			add_counter(m, info, labels, s->pc, false, s->spawned,
				    s->exited);
			continue;
		}
		was = prev_count(p, s->pc);
		p->other_spawned += grown(s->spawned, was ? was->spawned : 0);
		p->other_exited += grown(s->exited, was ? was->exited : 0);
	}
	if (n)
		add_counter(m, info, labels, 0, true, p->other_spawned,
			    p->other_exited);
	/* In pc order, as sites are: prev_count searches it. */
	free(p->prev);
	p->prev = now;
	p->nprev = n;
	return 0;
}

int report_metrics__add_process(struct report_metrics *m,
				const struct report_info *info,
				const struct gtable *gt,
				const struct report_metrics_sites *sites)
{
	struct text labels = {};
	struct msite *v = NULL;
	struct mproc *p;
	size_t nv = 0;
	int err;

	p = mproc__get(m, info);
	if (!p) {
		err = -ENOMEM;
		goto out;
	}
	p->seen = true;
	p->elapsed_ns = info->elapsed_ns;
	process_labels(&labels, info, p);
	err = labels.err;
	if (!err)
		err = sites__build(gt, sites, m->opts.top_sites, &v, &nv);
	if (err)
		goto out;
	text__printf(&m->body[F_TARGET_INFO], "%s{%s,go_version=\"",
		     families[F_TARGET_INFO].name, labels.p);
	text__value(&m->body[F_TARGET_INFO],
		    info->bin ? gobin__go_version(info->bin) : "");
	text__add(&m->body[F_TARGET_INFO], "\"} 1\n", 5);
	text__printf(&m->body[F_UNREADABLE], "%s{%s} %llu\n",
		     families[F_UNREADABLE].name, labels.p,
		     (unsigned long long)gt->stats.read_failed);
	err = add_groups(m, info, gt, labels.p, v, nv);
	if (!err)
		err = add_sites(m, info, p, labels.p, v, nv);
	if (!err)
		m->added++;
out:
	if (err && !m->err)
		m->err = err;
	free(v);
	text__free(&labels);
	return err;
}

/* goleaktrace's own CPU time and resident memory. */
static void add_self(struct text *cpu, struct text *rss)
{
	unsigned long long size, resident = 0;
	struct rusage ru;
	FILE *f;

	if (!getrusage(RUSAGE_SELF, &ru))
		text__printf(cpu, "%s %.6f\n", families[F_CPU].name,
			     ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
			     (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	f = fopen("/proc/self/statm", "re");
	if (f && fscanf(f, "%llu %llu", &size, &resident) == 2)
		text__printf(rss, "%s %llu\n", families[F_RSS].name,
			     resident * (unsigned long long)sysconf(_SC_PAGESIZE));
	if (f)
		fclose(f);
}

static void add_globals(struct report_metrics *m)
{
	const struct glt_counters *c = &m->counters;
	const struct {
		enum family f;
		const char *label, *value;
		uint64_t n;
	} rows[] = {
		{ F_EVENTS, "event", "park", c->parks },
		{ F_EVENTS, "event", "spawn", c->spawns },
		{ F_EVENTS, "event", "exit", c->exits },
		{ F_DROPPED, "reason", "parked_map_full", c->parked_map_full },
		{ F_DROPPED, "reason", "sites_map_full", c->sites_map_full },
		{ F_DROPPED, "reason", "probe_read_failed", c->read_failed },
	};
	size_t i;

	text__printf(&m->body[F_WATCHED], "%s %zu\n",
		     families[F_WATCHED].name, m->added);
	text__printf(&m->body[F_LAST_REPORT], "%s %.3f\n",
		     families[F_LAST_REPORT].name,
		     (double)clock_ns(CLOCK_REALTIME) / NSEC_PER_SEC);
	for (i = 0; m->have_counters && i < sizeof(rows) / sizeof(rows[0]);
	     i++)
		text__printf(&m->body[rows[i].f], "%s{%s=\"%s\"} %llu\n",
			     families[rows[i].f].name, rows[i].label,
			     rows[i].value, (unsigned long long)rows[i].n);
	if (m->have_probes_time) {
		text__printf(&m->body[F_ATTACHED], "%s %.4f\n",
			     families[F_ATTACHED].name,
			     m->probes_time.attached);
		text__printf(&m->body[F_OVERHEAD], "%s %.6f\n",
			     families[F_OVERHEAD].name,
			     m->probes_time.overhead_pct / 100);
		text__printf(&m->body[F_BUDGET], "%s %.4f\n",
			     families[F_BUDGET].name, m->probes_time.pct / 100);
	}
	add_self(&m->body[F_CPU], &m->body[F_RSS]);
}

int report_metrics__publish(struct report_metrics *m)
{
	struct text out = {};
	size_t i, j;
	int err = m->err;

	/* Gone processes leave the output and what was kept of them. */
	for (i = 0, j = 0; i < m->nprocs; i++) {
		if (m->procs[i].seen)
			m->procs[j++] = m->procs[i];
		else
			mproc__clear(&m->procs[i]);
	}
	m->nprocs = j;
	if (err)
		goto out;
	add_globals(m);
	for (i = 0; i < F_COUNT; i++) {
		if (!m->body[i].len && !m->body[i].err)
			continue;
		text__printf(&out, "# HELP %s %s\n# TYPE %s %s\n",
			     families[i].name, families[i].help,
			     families[i].name, families[i].type);
		text__add(&out, m->body[i].p, m->body[i].len);
		if (m->body[i].err)
			out.err = m->body[i].err;
	}
	err = out.err;
	if (err)
		goto out;
	pthread_mutex_lock(&m->lock);
	free(m->text);
	m->text = out.p;
	m->text_len = out.len;
	m->published_ns = clock_ns(CLOCK_MONOTONIC);
	pthread_mutex_unlock(&m->lock);
	out.p = NULL;
out:
	text__free(&out);
	report_metrics__begin(m, NULL, NULL);
	return err;
}

int report_metrics__text(struct report_metrics *m, char **text, size_t *len)
{
	int err = 0;

	pthread_mutex_lock(&m->lock);
	*text = malloc(m->text_len + 1);
	if (*text) {
		memcpy(*text, m->text ? m->text : "", m->text_len);
		(*text)[m->text_len] = '\0';
		*len = m->text_len;
	} else {
		err = -ENOMEM;
	}
	pthread_mutex_unlock(&m->lock);
	return err;
}

unsigned report_metrics__port(const struct report_metrics *m)
{
	return m->port;
}

int report_metrics__parse_addr(const char *addr, char *host, size_t hostlen,
			       unsigned *port)
{
	const char *colon, *start = addr, *end;
	unsigned char bin[sizeof(struct in6_addr)];
	unsigned long v;
	char *stop;

	if (addr[0] == '[') {
		end = strchr(addr, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		start = addr + 1;
		colon = end + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return -EINVAL;
		end = colon;
	}
	if ((size_t)(end - start) >= hostlen)
		return -EINVAL;
	memcpy(host, start, end - start);
	host[end - start] = '\0';
	if (*host && inet_pton(addr[0] == '[' ? AF_INET6 : AF_INET, host,
			       bin) != 1)
		return -EINVAL;
	errno = 0;
	v = strtoul(colon + 1, &stop, 10);
	if (errno || stop == colon + 1 || *stop || v > 65535 ||
	    colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	*port = v;
	return 0;
}

#ifndef GLT_NO_MICROHTTPD

static struct MHD_Response *text_response(const char *s)
{
	return MHD_create_response_from_buffer(strlen(s), (void *)s,
					       MHD_RESPMEM_PERSISTENT);
}

/* /healthz: 200 while reports come; 503 when the trace is stuck. */
static struct MHD_Response *healthz(struct report_metrics *m,
				    unsigned *status)
{
	uint64_t last;

	pthread_mutex_lock(&m->lock);
	last = m->published_ns;
	pthread_mutex_unlock(&m->lock);
	if (m->opts.stale_ns &&
	    clock_ns(CLOCK_MONOTONIC) - last > m->opts.stale_ns) {
		*status = MHD_HTTP_SERVICE_UNAVAILABLE;
		return text_response("stale: no report for too long\n");
	}
	*status = MHD_HTTP_OK;
	return text_response("ok\n");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct report_metrics *m = cls;
	struct MHD_Response *resp;
	const char *type = "text/plain; charset=utf-8";
	unsigned status = MHD_HTTP_OK;
	enum MHD_Result ret;
	char *text;
	size_t len;

	(void)version;
	(void)upload;
	(void)state;
	if (*upload_size)
		return MHD_NO;	/* nothing here takes a body */
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		resp = text_response("method not allowed\n");
		if (resp)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
						"GET, HEAD");
	} else if (!strcmp(url, "/metrics")) {
		type = "text/plain; version=0.0.4; charset=utf-8";
		resp = report_metrics__text(m, &text, &len) ? NULL :
		       MHD_create_response_from_buffer(len, text,
						       MHD_RESPMEM_MUST_FREE);
	} else if (!strcmp(url, "/healthz")) {
		resp = healthz(m, &status);
	} else if (!strcmp(url, "/")) {
		resp = text_response("goleaktrace: /metrics, /healthz\n");
	} else {
		status = MHD_HTTP_NOT_FOUND;
		resp = text_response("not found: /metrics, /healthz\n");
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Our own listening socket, for an exact error (address in use, not an
 * address of this machine) and the port picked for port 0. */
static int listen_on(const char *addr, int *fd_out, unsigned *port,
		     bool *ipv6, const char **why)
{
	struct sockaddr_storage ss = {};
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	char host[INET6_ADDRSTRLEN + 1];
	socklen_t len;
	int fd, one = 1, err;

	if (report_metrics__parse_addr(addr, host, sizeof(host), port)) {
		*why = "not HOST:PORT with a numeric host (e.g. "
		       "127.0.0.1:9431, [::1]:9431, :9431 for every address)";
		return -EINVAL;
	}
	*ipv6 = addr[0] == '[';
	if (*ipv6) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(*port);
		if (*host)
			inet_pton(AF_INET6, host, &in6->sin6_addr);
		len = sizeof(*in6);
	} else {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(*port);
		in4->sin_addr.s_addr = htonl(INADDR_ANY);
		if (*host)
			inet_pton(AF_INET, host, &in4->sin_addr);
		len = sizeof(*in4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*why = "cannot create a socket";
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 64)) {
		err = -errno;
		*why = err == -EADDRINUSE ? "the port is in use: choose "
		       "another" : err == -EADDRNOTAVAIL ? "not an address "
		       "of this machine" : err == -EACCES ? "a port below "
		       "1024 needs CAP_NET_BIND_SERVICE" : "cannot listen "
		       "there";
		close(fd);
		return err;
	}
	len = sizeof(ss);
	if (!getsockname(fd, (struct sockaddr *)&ss, &len))
		*port = ntohs(*ipv6 ? in6->sin6_port : in4->sin_port);
	*fd_out = fd;
	return 0;
}

int report_metrics__serve(struct report_metrics *m, const char *addr,
			  const char **why)
{
	sigset_t all, old;
	bool ipv6 = false;
	unsigned port = 0;
	int fd = -1, err;

	err = listen_on(addr, &fd, &port, &ipv6, why);
	if (err)
		return err;
	/* The server's thread takes none of our signals: Ctrl-C must reach
	 * the main loop. The thread inherits this mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	m->daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD |
				     (ipv6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
				     on_request, m,
				     MHD_OPTION_LISTEN_SOCKET, fd,
				     MHD_OPTION_CONNECTION_LIMIT,
				     (unsigned)MAX_CONNECTIONS,
				     MHD_OPTION_CONNECTION_TIMEOUT,
				     (unsigned)CONNECTION_TIMEOUT_S,
				     MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!m->daemon) {
		close(fd);
		*why = "libmicrohttpd could not start its server";
		return -EIO;
	}
	m->port = port;
	return 0;
}

static void stop_server(struct report_metrics *m)
{
	/* Closes the listening socket too. */
	if (m->daemon)
		MHD_stop_daemon(m->daemon);
	m->daemon = NULL;
	m->port = 0;
}

#else /* GLT_NO_MICROHTTPD */

int report_metrics__serve(struct report_metrics *m, const char *addr,
			  const char **why)
{
	(void)m;
	(void)addr;
	*why = "--metrics is not in this build (make static leaves out "
	       "libmicrohttpd, whose GnuTLS needs p11-kit, which has no "
	       "static library); use the dynamically linked goleaktrace";
	return -EOPNOTSUPP;
}

static void stop_server(struct report_metrics *m)
{
	(void)m;
}

#endif
