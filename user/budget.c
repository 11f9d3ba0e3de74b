// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "budget.h"
#include "uprobe_links.h"
#include "calib.skel.h"
#include "target.h"

#define NSEC_PER_SEC_D 1e9
/* Calibration: calls per round, and how many rounds at least and at
 * most. A round is a few hundred µs at the usual trap costs, so the
 * median of dozens of them fits well within 100 ms, and one preempted
 * round does not move it. */
#define CALIB_CALLS 256
#define CALIB_WARMUP 32
#define CALIB_MIN_ROUNDS 7
#define CALIB_MAX_ROUNDS 63
#define CALIB_DEFAULT_NS 100000000ULL
/* Shortest attached time whose cost is taken as a measurement of the
 * load: below it, a slice says too little. */
#define MEASURE_MIN_NS 1000000ULL
/* Weight of a new measurement when the load falls (a rise is taken
 * whole, at once). */
#define LOAD_DECAY 0.5

int budget__parse_pct(const char *s, double *pct)
{
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno)
		return -EINVAL;
	if (*end == '%')
		end++;
	/* !(v > 0) also refuses NaN. */
	if (*end || !(v > 0) || v > 100)
		return -EINVAL;
	*pct = v;
	return 0;
}

/* ---- Calibration ---- */

/* Two identical functions: one gets the uprobe, the other is the
 * baseline. Written in assembly so that the probed instruction is
 * exactly the kind goleaktrace probes in Go code, whatever the compiler
 * would have emitted: push %rbp, or the conditional jump of a stack
 * check, both emulated by the kernel rather than single-stepped. */
#if defined(__x86_64__)
__asm__(
	"	.text\n"
	"	.p2align 4\n"
	"	.globl budget_calib_probed\n"
	"	.hidden budget_calib_probed\n"
	"	.type budget_calib_probed, @function\n"
	"budget_calib_probed:\n"
	"	push %rbp\n"
	"	pop %rbp\n"
	"	cmp %rsi, %rdi\n"
	"	.globl budget_calib_probed_jump\n"
	"	.hidden budget_calib_probed_jump\n"
	"budget_calib_probed_jump:\n"
	"	jbe 1f\n"
	"1:	ret\n"
	"	.size budget_calib_probed, .-budget_calib_probed\n"
	"	.p2align 4\n"
	"	.globl budget_calib_plain\n"
	"	.hidden budget_calib_plain\n"
	"	.type budget_calib_plain, @function\n"
	"budget_calib_plain:\n"
	"	push %rbp\n"
	"	pop %rbp\n"
	"	cmp %rsi, %rdi\n"
	"	jbe 1f\n"
	"1:	ret\n"
	"	.size budget_calib_plain, .-budget_calib_plain\n");
#define CALIB_ASM 1
#define CALIB_HAS_PUSH 1
#elif defined(__aarch64__)
/* arm64 has one kind: the b.ls of the stack check (prologue.c). */
__asm__(
	"	.text\n"
	"	.p2align 4\n"
	"	.globl budget_calib_probed\n"
	"	.hidden budget_calib_probed\n"
	"	.type budget_calib_probed, %function\n"
	"budget_calib_probed:\n"
	"	cmp x0, x1\n"
	"	.globl budget_calib_probed_jump\n"
	"	.hidden budget_calib_probed_jump\n"
	"budget_calib_probed_jump:\n"
	"	b.ls 1f\n"
	"1:	ret\n"
	"	.size budget_calib_probed, .-budget_calib_probed\n"
	"	.p2align 4\n"
	"	.globl budget_calib_plain\n"
	"	.hidden budget_calib_plain\n"
	"	.type budget_calib_plain, %function\n"
	"budget_calib_plain:\n"
	"	cmp x0, x1\n"
	"	b.ls 1f\n"
	"1:	ret\n"
	"	.size budget_calib_plain, .-budget_calib_plain\n");
#define CALIB_ASM 1
#define CALIB_HAS_PUSH 0
#endif

#ifdef CALIB_ASM
void budget_calib_probed(uint64_t a, uint64_t b);
void budget_calib_plain(uint64_t a, uint64_t b);
extern const char budget_calib_probed_jump[];
#endif

enum budget_probe_kind budget__probe_kind(enum gobin_arch arch,
					  uint8_t first_byte)
{
	return arch == GOBIN_ARCH_X86_64 && first_byte == 0x55 ?
		BUDGET_PROBE_PUSH : BUDGET_PROBE_JUMP;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The mapping of this process that holds addr: the file offset of addr
 * in goleaktrace's own executable, which uprobes attach to through
 * /proc/self/exe (/proc/self/map_files would need CAP_SYS_ADMIN). */
static bool holds_addr(const struct maps_entry *e, void *addr)
{
	return *(uint64_t *)addr >= e->start && *(uint64_t *)addr < e->end;
}

static int self_file_offset(uint64_t addr, uint64_t *offset)
{
	struct maps_entry e;
	int err;
	FILE *f;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -errno;
	err = target__maps_find(f, holds_addr, &addr, &e);
	fclose(f);
	if (!err && (!e.inode || e.perms[2] != 'x'))
		err = -ENOENT;
	if (!err)
		*offset = addr - e.start + e.offset;
	return err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#ifdef CALIB_ASM
/* One round: CALIB_CALLS calls to each twin, which one first alternating
 * from round to round; the extra ns per call of the probed one. */
static double calib_round(unsigned int round)
{
	void (*volatile fns[2])(uint64_t, uint64_t) = {
		budget_calib_plain, budget_calib_probed,
	};
	int first = round & 1, i, k;
	uint64_t t0, ns[2];

	for (k = 0; k < 2; k++) {
		int which = k ^ first;

		t0 = mono_ns();
		for (i = 0; i < CALIB_CALLS; i++)
			fns[which](1, 0);
		ns[which] = mono_ns() - t0;
	}
	return ((double)ns[1] - (double)ns[0]) / CALIB_CALLS;
}
#endif

static int read_prog_stats(int fd, uint64_t *cnt, uint64_t *time_ns)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*cnt = info.run_cnt;
	*time_ns = info.run_time_ns;
	return 0;
}

/* The calibration's uprobe, kept until budget_calib__free. */
struct budget_calib {
	struct calib_bpf *skel;
	struct bpf_link *link;	/* a perf-event uprobe, */
	int link_fd;		/* or a uprobe_multi link, as the probes */
};

int budget_calib__prog_fd(const struct budget_calib *c)
{
	return bpf_program__fd(c->skel->progs.calib_hit);
}

void budget_calib__hit(const struct budget_calib *c, unsigned int n)
{
	(void)c;
#ifdef CALIB_ASM
	while (n--)
		budget_calib_probed(1, 0);
#endif
}

void budget_calib__free(struct budget_calib *c)
{
	if (!c)
		return;
	bpf_link__destroy(c->link);
	if (c->link_fd >= 0)
		close(c->link_fd);
	calib_bpf__destroy(c->skel);
	free(c);
}

#ifdef CALIB_ASM
/* Times the rounds once the probe is in; the median and spread of their
 * differences into out. */
static int calib_measure(const struct budget_calib *c, uint64_t start,
			 uint64_t max_ns, struct budget_calibration *out,
			 const char **errmsg)
{
	double d[CALIB_MAX_ROUNDS];
	uint64_t cnt = 0, time_ns = 0;
	unsigned int r = 0;
	int i;

	/* The first hits map the kernel's out-of-line area and fault in
	 * pages: not part of the steady cost. */
	for (i = 0; i < CALIB_WARMUP; i++)
		budget_calib_probed(1, 0);
	out->calls = CALIB_WARMUP;
	/* Stop early on a slow machine. */
	while (r < CALIB_MAX_ROUNDS &&
	       (r < CALIB_MIN_ROUNDS ||
		mono_ns() - start < max_ns - max_ns / 8)) {
		d[r] = calib_round(r);
		out->calls += CALIB_CALLS;
		r++;
	}
	out->hits = c->skel->bss->hits;
	if (out->hits != out->calls) {
		*errmsg = "the calibration's uprobe did not fire on every call";
		return -EIO;
	}
	qsort(d, r, sizeof(d[0]), cmp_double);
	out->rounds = r;
	out->hit_ns = r & 1 ? d[r / 2] : (d[r / 2 - 1] + d[r / 2]) / 2;
	out->spread_ns = d[(3 * r) / 4] - d[r / 4];
	/* With the run-time statistics on, the program's own share is
	 * known: the trap is what remains. */
	if (!read_prog_stats(budget_calib__prog_fd(c), &cnt, &time_ns) && cnt)
		out->body_ns = (double)time_ns / cnt;
	if (out->body_ns > out->hit_ns)
		out->body_ns = 0;
	out->trap_ns = out->hit_ns - out->body_ns;
	if (!(out->hit_ns > 0)) {
		*errmsg = "the calibration measured no cost (too much noise "
			  "on this machine)";
		return -EAGAIN;
	}
	return 0;
}
#endif

int budget_calib__run(struct budget_calib **out, enum budget_probe_kind kind,
		      uint64_t max_ns, struct budget_calibration *res,
		      const char **errmsg)
{
#ifdef CALIB_ASM
	LIBBPF_OPTS(bpf_uprobe_opts, uopts);
	uint64_t start = mono_ns(), addr, offset = 0;
	struct budget_calib *c;
	const char *path = "/proc/self/exe";
	bool multi;
	int err;

	*out = NULL;
	memset(res, 0, sizeof(*res));
	if (!max_ns)
		max_ns = CALIB_DEFAULT_NS;
	/* arm64 has the jump only. */
	addr = kind == BUDGET_PROBE_PUSH && CALIB_HAS_PUSH ?
		(uintptr_t)budget_calib_probed :
		(uintptr_t)budget_calib_probed_jump;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->link_fd = -1;
	err = self_file_offset(addr, &offset);
	if (err) {
		*errmsg = "cannot find goleaktrace's own code in /proc/self/maps";
		goto out;
	}
	/* The same kind of link as the probes: uprobe_multi needs no
	 * CAP_SYS_ADMIN, perf-event uprobes do. */
	multi = uprobe_multi__supported();
	c->skel = calib_bpf__open();
	if (c->skel && multi)
		uprobe_multi__prepare(c->skel->progs.calib_hit);
	if (!c->skel || calib_bpf__load(c->skel)) {
		err = -errno;
		*errmsg = "failed to load the calibration's BPF program (run "
			  "as root)";
		goto out;
	}
	if (multi) {
		c->link_fd = uprobe_multi__attach(
			bpf_program__fd(c->skel->progs.calib_hit), path,
			getpid(), &offset, NULL, 1);
		err = c->link_fd < 0 ? c->link_fd : 0;
	} else {
		/* pid 0: this process only. */
		c->link = bpf_program__attach_uprobe_opts(
			c->skel->progs.calib_hit, 0, path, offset, &uopts);
		err = c->link ? 0 : -errno;
	}
	if (err) {
		*errmsg = "failed to attach the calibration's uprobe";
		goto out;
	}
	err = calib_measure(c, start, max_ns, res, errmsg);
out:
	res->elapsed_ns = mono_ns() - start;
	if (err)
		budget_calib__free(c);
	else
		*out = c;
	return err;
#else
	(void)kind;
	(void)max_ns;
	*out = NULL;
	memset(res, 0, sizeof(*res));
	*errmsg = "no calibration for this architecture";
	return -ENOTSUP;
#endif
}

int budget__calibrate(enum budget_probe_kind kind, uint64_t max_ns,
		      struct budget_calibration *res, const char **errmsg)
{
	struct budget_calib *c = NULL;
	int err;

	err = budget_calib__run(&c, kind, max_ns, res, errmsg);
	budget_calib__free(c);
	return err;
}

/* ---- The kernel's BPF run-time statistics ---- */

int budget__body_per_run(const uint64_t *cnt0, const uint64_t *time0,
			 const uint64_t *cnt1, const uint64_t *time1,
			 size_t n, double *body_ns)
{
	double runs = 0, ns = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		/* A program replaced meanwhile restarts from 0. */
		if (cnt1[i] <= cnt0[i] || time1[i] < time0[i])
			continue;
		runs += (double)(cnt1[i] - cnt0[i]);
		ns += (double)(time1[i] - time0[i]);
	}
	if (!runs)
		return -ENODATA;
	*body_ns = ns / runs;
	return 0;
}

int budget_meter__open(struct budget_meter *m, const int *prog_fds, size_t n)
{
	size_t i;
	int err = 0;

	memset(m, 0, sizeof(*m));
	m->stats_fd = -1;
	if (n > BUDGET_MAX_PROGS)
		return -E2BIG;
	m->n = n;
	memcpy(m->prog_fds, prog_fds, n * sizeof(*prog_fds));
	for (i = 0; !err && i < n; i++)
		err = read_prog_stats(prog_fds[i], &m->run_cnt[i],
				      &m->run_time_ns[i]);
	if (err)
		return err;
	/* Refused (no CAP_SYS_ADMIN, kernel before 5.8): bodies unknown. */
	budget_meter__set_stats(m, true);
	return 0;
}

int budget_meter__set_stats(struct budget_meter *m, bool on)
{
	if (!on && m->stats_fd >= 0) {
		close(m->stats_fd);
		m->stats_fd = -1;
	} else if (on && m->stats_fd < 0) {
		m->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (m->stats_fd < 0) {
			m->stats_fd = -1;
			return -errno;
		}
	}
	return 0;
}

int budget_meter__sample(struct budget_meter *m, double *body_ns)
{
	uint64_t cnt[BUDGET_MAX_PROGS], t[BUDGET_MAX_PROGS];
	double body;
	size_t i;
	int err;

	for (i = 0; i < m->n; i++) {
		err = read_prog_stats(m->prog_fds[i], &cnt[i], &t[i]);
		if (err)
			return err;
	}
	if (!budget__body_per_run(m->run_cnt, m->run_time_ns, cnt, t, m->n,
				  &body))
		m->body_ns = body;
	memcpy(m->run_cnt, cnt, m->n * sizeof(*cnt));
	memcpy(m->run_time_ns, t, m->n * sizeof(*t));
	*body_ns = m->body_ns;
	return 0;
}

void budget_meter__close(struct budget_meter *m)
{
	budget_meter__set_stats(m, false);
	m->n = 0;
}

/* ---- The controller ---- */

/* The smallest slice, and the smallest gap worth a detach: a quarter of
 * the interval when the interval is short. */
static uint64_t min_slice(const struct budget *b)
{
	uint64_t q = b->opts.interval_ns / 4;

	return b->opts.min_slice_ns < q ? b->opts.min_slice_ns : q;
}

/* A fraction of the interval as a slice: the whole interval, or a slice
 * and a gap both at least min_slice long (the gap taken from the
 * slice: better under budget than over). Never 0. */
static uint64_t fit_slice(const struct budget *b, double f)
{
	uint64_t t = b->opts.interval_ns, m = min_slice(b), s;

	if (f >= 1)
		return t;
	s = f > 0 ? (uint64_t)(f * (double)t + 0.5) : 0;
	if (s > t - m)
		s = t - m;
	if (s < m)
		s = m;
	return s ? s : 1;
}

void budget__init(struct budget *b, const struct budget_opts *opts)
{
	memset(b, 0, sizeof(*b));
	b->opts = *opts;
	if (!(b->opts.trap_ns > 0))
		b->opts.trap_ns = BUDGET_DEFAULT_TRAP_NS;
	if (!b->opts.min_slice_ns)
		b->opts.min_slice_ns = BUDGET_MIN_SLICE_NS;
	if (!(b->opts.ramp > 1))
		b->opts.ramp = BUDGET_RAMP;
	if (!b->opts.interval_ns)
		b->opts.interval_ns = 1000000000ULL;
	if (b->opts.pct >= 100)
		b->slice_ns = b->opts.interval_ns;
	else if (!(b->opts.pct > 0))
		b->slice_ns = 0;
	else	/* as if the probes took a whole core while attached */
		b->slice_ns = fit_slice(b, b->opts.pct / 100);
}

uint64_t budget__slice_ns(const struct budget *b)
{
	return b->slice_ns;
}

double budget__cost_ns(const struct budget *b, const struct budget_interval *iv)
{
	double body = iv->body_ns > 0 ? iv->body_ns : BUDGET_DEFAULT_BODY_NS;

	return (double)iv->events * (b->opts.trap_ns + body);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static void totals__add(struct budget_totals *t, uint64_t wall,
			uint64_t attached, uint64_t events, double cost)
{
	t->wall_ns = add_sat(t->wall_ns, wall);
	t->attached_ns = add_sat(t->attached_ns, attached);
	t->events = add_sat(t->events, events);
	t->cost_ns += cost;
}

/* The fraction of the next interval to attach for: what the allowance
 * buys at the estimated load, grown from the last slice by ramp at most,
 * unless the whole interval costs under a quarter of the allowance: a
 * quiet target is watched all the time from its second interval on,
 * rather than after six. */
static double next_fraction(const struct budget *b)
{
	double t = (double)b->opts.interval_ns, share = b->opts.pct / 100;
	double allowed = share * t - b->debt_ns, f, cap;

	if (!b->load_known)
		f = share;
	else if (4 * b->load * t <= allowed)
		return 1;
	else if (b->load * t <= allowed)
		f = 1;
	else
		f = allowed > 0 ? allowed / (b->load * t) : 0;
	cap = (double)b->slice_ns / t * b->opts.ramp;
	return f < cap ? f : cap;
}

uint64_t budget__update(struct budget *b, const struct budget_interval *iv)
{
	uint64_t attached = iv->attached_ns < iv->wall_ns ? iv->attached_ns :
							    iv->wall_ns;
	double cost = budget__cost_ns(b, iv), share = b->opts.pct / 100, load;

	totals__add(&b->total, iv->wall_ns, attached, iv->events, cost);
	totals__add(&b->window, iv->wall_ns, attached, iv->events, cost);
	if (b->opts.pct >= 100 || !(b->opts.pct > 0))
		return b->slice_ns;	/* fixed by init */
	/* Overspending (a burst in a long slice, or uprobes that fire on
	 * while their links go) is paid back from the next slices, sitting
	 * out whole intervals if need be; underspending is not banked, so
	 * that a quiet spell cannot license a burst. */
	b->debt_ns += cost - share * (double)iv->wall_ns;
	if (b->debt_ns < 0)
		b->debt_ns = 0;
	if (b->debt_ns > BUDGET_MAX_DEBT * share * (double)b->opts.interval_ns)
		b->debt_ns = BUDGET_MAX_DEBT * share *
			     (double)b->opts.interval_ns;
	if (attached >= MEASURE_MIN_NS) {
		load = cost / (double)attached;
		if (!b->load_known || load >= b->load)
			b->load = load;
		else
			b->load += LOAD_DECAY * (load - b->load);
		b->load_known = true;
	}
	if (b->debt_ns >= share * (double)b->opts.interval_ns)
		b->slice_ns = 0;	/* sit this one out */
	else
		b->slice_ns = fit_slice(b, next_fraction(b));
	return b->slice_ns;
}

static double ratio(double num, double den)
{
	return den > 0 ? num / den : 0;
}

void budget__take_report(struct budget *b, struct budget_report *r)
{
	const struct budget_totals *w = &b->window, *t = &b->total;

	*r = (struct budget_report){
		.pct = b->opts.pct,
		.attached = ratio(w->attached_ns, w->wall_ns),
		.attached_total = ratio(t->attached_ns, t->wall_ns),
		.overhead_pct = 100 * ratio(w->cost_ns, w->wall_ns),
		.overhead_total_pct = 100 * ratio(t->cost_ns, t->wall_ns),
		.events_per_sec = NSEC_PER_SEC_D *
				  ratio(w->events, w->attached_ns),
		.ns_per_event = ratio(w->cost_ns, w->events),
		.limited = w->attached_ns < w->wall_ns,
	};
	/* No interval ended in the window (reports more often than the
	 * control interval): what is known since start; before the first
	 * one ends, the decision is all there is. */
	if (!w->wall_ns && t->wall_ns) {
		r->attached = r->attached_total;
		r->overhead_pct = r->overhead_total_pct;
		r->events_per_sec = NSEC_PER_SEC_D *
				    ratio(t->events, t->attached_ns);
		r->ns_per_event = ratio(t->cost_ns, t->events);
		r->limited = t->attached_ns < t->wall_ns;
	} else if (!w->wall_ns) {
		r->attached = b->slice_ns >= b->opts.interval_ns;
		r->attached_total = r->attached;
	}
	memset(&b->window, 0, sizeof(b->window));
}

/* A percentage in 2-3 significant digits. Rounded down when asked: an
 * attached fraction just under 1 must not print as "100". */
static void fmt_pct(char *buf, size_t size, double v, bool down)
{
	double scale = v >= 10 ? 1 : 10;

	if (down && v >= 1 && v < 1e6)
		v = (double)(uint64_t)(v * scale) / scale;
	if (v <= 0)
		snprintf(buf, size, "0");
	else if (v < 1)
		snprintf(buf, size, "%.2g", v);
	else
		snprintf(buf, size, "%.*f", v >= 10 ? 0 : 1, v);
}

int budget__format(const struct budget_report *r, char *buf, size_t size)
{
	char att[16], tot[16], ovh[16];

	fmt_pct(att, sizeof(att), 100 * r->attached, true);
	fmt_pct(tot, sizeof(tot), 100 * r->attached_total, true);
	fmt_pct(ovh, sizeof(ovh), r->overhead_pct, false);
	return snprintf(buf, size, "probes attached %s%% of the time (%s%% "
			"overall), cost %s%% of a core (max %g%%)",
			att, tot, ovh, r->pct > 100 ? 100 : r->pct);
}
