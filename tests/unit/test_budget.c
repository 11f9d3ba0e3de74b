// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --max-overhead: the controller on synthetic loads (steady, none,
 * bursty, absurdly high, always attached), the statistics arithmetic,
 * the option's parser and the report line; and, as root, the uprobe
 * trap calibration on this machine (its figure printed, not asserted). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>
#include "budget.h"
#include "tap.h"

#define MS 1000000ULL
#define SEC 1000000000ULL

static const struct budget_opts opts2 = {
	.pct = 2, .interval_ns = SEC, .trap_ns = 600,
};

/* One interval of a load that makes `rate` events per second while the
 * probes are attached, each costing 600 ns of trap + body_ns of BPF. */
static uint64_t step(struct budget *b, double rate, double body_ns)
{
	uint64_t slice = budget__slice_ns(b);
	struct budget_interval iv = {
		.wall_ns = SEC, .attached_ns = slice,
		.events = (uint64_t)(rate * (double)slice / SEC),
		.body_ns = body_ns,
	};

	return budget__update(b, &iv);
}

static void test_parse(void)
{
	double pct = 0;

	ASSERT_EQ(budget__parse_pct("2", &pct), 0, "parse 2");
	ASSERT_TRUE(pct == 2, "2 is 2%");
	ASSERT_EQ(budget__parse_pct("0.5%", &pct), 0, "parse 0.5%");
	ASSERT_TRUE(pct == 0.5, "0.5% is 0.5");
	ASSERT_EQ(budget__parse_pct("100", &pct), 0, "parse 100");
	ASSERT_EQ(budget__parse_pct("0", &pct), -EINVAL, "0 is refused");
	ASSERT_EQ(budget__parse_pct("100.5", &pct), -EINVAL, "over 100");
	ASSERT_EQ(budget__parse_pct("-1", &pct), -EINVAL, "negative");
	ASSERT_EQ(budget__parse_pct("nan", &pct), -EINVAL, "NaN");
	ASSERT_EQ(budget__parse_pct("2x", &pct), -EINVAL, "trailing junk");
	ASSERT_EQ(budget__parse_pct("2%%", &pct), -EINVAL, "two %");
	ASSERT_EQ(budget__parse_pct("", &pct), -EINVAL, "empty");
}

static void test_probe_kind(void)
{
	ASSERT_EQ(budget__probe_kind(GOBIN_ARCH_X86_64, 0x55),
		  BUDGET_PROBE_PUSH, "x86 push %rbp");
	ASSERT_EQ(budget__probe_kind(GOBIN_ARCH_X86_64, 0x76),
		  BUDGET_PROBE_JUMP, "x86 jbe rel8");
	ASSERT_EQ(budget__probe_kind(GOBIN_ARCH_X86_64, 0x0f),
		  BUDGET_PROBE_JUMP, "x86 jbe rel32");
	ASSERT_EQ(budget__probe_kind(GOBIN_ARCH_ARM64, 0x55),
		  BUDGET_PROBE_JUMP, "arm64: always the b.ls");
}

static void test_body_per_run(void)
{
	uint64_t c0[3] = { 10, 100, 5 }, t0[3] = { 1000, 5000, 50 };
	uint64_t c1[3] = { 20, 130, 5 }, t1[3] = { 3000, 8000, 50 };
	double body = -1;

	/* (2000 + 3000) ns over (10 + 30) runs; the third did not run. */
	ASSERT_EQ(budget__body_per_run(c0, t0, c1, t1, 3, &body), 0,
		  "body per run: some ran");
	ASSERT_TRUE(body == 125, "weighted by runs: 125 ns");
	ASSERT_EQ(budget__body_per_run(c0, t0, c0, t0, 3, &body), -ENODATA,
		  "nothing ran: no data");
	/* A replaced program restarts at 0: not a negative run count. */
	c1[0] = 3;
	t1[0] = 400;
	ASSERT_EQ(budget__body_per_run(c0, t0, c1, t1, 3, &body), 0,
		  "counter went backwards: skipped");
	ASSERT_TRUE(body == 100, "only the one that ran: 3000/30");
}

static void test_always(void)
{
	struct budget_opts o = opts2;
	struct budget_report r;
	struct budget b;
	char line[160];
	int i;

	o.pct = 100;
	budget__init(&b, &o);
	ASSERT_EQ(budget__slice_ns(&b), SEC, "pct 100: attached from the start");
	for (i = 0; i < 5; i++)
		step(&b, 1e9, 200);
	ASSERT_EQ(budget__slice_ns(&b), SEC, "pct 100: whatever the load");
	budget__take_report(&b, &r);
	ASSERT_TRUE(r.attached == 1 && r.attached_total == 1,
		    "pct 100: reports exactly 100%");
	ASSERT_TRUE(!r.limited, "pct 100: never limited");
	budget__format(&r, line, sizeof(line));
	ASSERT_STREQ(line, "probes attached 100% of the time (100% "
		     "overall), cost 80000% of a core (max 100%)",
		     "pct 100: the report line");
}

static void test_zero_events(void)
{
	static const uint64_t want[] = { 1000, 1000, 1000, 1000, 1000, 1000,
					 1000 };
	struct budget_report r;
	struct budget b;
	char line[160];
	size_t i;
	bool ok = true;

	budget__init(&b, &opts2);
	ASSERT_EQ(budget__slice_ns(&b), 20 * MS,
		  "first slice: pct of the interval");
	budget__take_report(&b, &r);
	ASSERT_TRUE(r.attached == 0, "before any interval: not all attached");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint64_t s = step(&b, 0, 0);

		if (s != want[i] * MS) {
			printf("#   interval %zu: slice %llu ns, want %llu ms\n",
			       i, (unsigned long long)s,
			       (unsigned long long)want[i]);
			ok = false;
		}
	}
	ASSERT_TRUE(ok, "no events: fully attached from the second interval");
	budget__take_report(&b, &r);
	ASSERT_TRUE(r.overhead_pct == 0 && r.ns_per_event == 0 &&
		    r.events_per_sec == 0, "no events: no cost, no NaN");
	budget__format(&r, line, sizeof(line));
	ASSERT_STREQ(line, "probes attached 86% of the time (86% "
		     "overall), cost 0% of a core (max 2%)",
		     "no events: the report line");
}

/* 250k events/s at 600 + 200 ns is 0.2 of a core while attached: a 2%
 * budget buys 10% of the time. */
static void test_steady(struct budget *b)
{
	struct budget_report r;
	uint64_t s = 0;
	int i;

	budget__init(b, &opts2);
	ASSERT_EQ(step(b, 250e3, 200), 40 * MS, "steady: ramps x2 (40 ms)");
	ASSERT_EQ(step(b, 250e3, 200), 80 * MS, "steady: ramps x2 (80 ms)");
	ASSERT_EQ(step(b, 250e3, 200), 100 * MS, "steady: reaches 100 ms");
	for (i = 0; i < 10; i++)
		s = step(b, 250e3, 200);
	ASSERT_EQ(s, 100 * MS, "steady: stays at the budget's 10%");
	budget__take_report(b, &r);
	ASSERT_TRUE(r.limited, "steady: the budget detached the probes");
	ASSERT_TRUE(r.ns_per_event == 800, "steady: 800 ns per event");
	ASSERT_TRUE(r.events_per_sec > 249999 && r.events_per_sec < 250001,
		    "steady: rate while attached");
	ASSERT_TRUE(r.overhead_pct <= 2, "steady: within budget");
	/* 13 intervals: 20+40+80 ms then 10 x 100 ms attached. */
	ASSERT_TRUE(r.attached_total > 1.1399 / 13 &&
		    r.attached_total < 1.1401 / 13,
		    "steady: attached fraction is attached/wall");
	budget__take_report(b, &r);
	ASSERT_TRUE(r.attached == r.attached_total && r.attached_total > 0 &&
		    r.limited, "an empty window reports what is known since "
		    "start");
}

/* A 10x burst in a 100 ms slice costs 200 ms, 180 over the 20 ms
 * allowance: the probes sit out 9 intervals to pay it back, come back at
 * the minimum slice, grow by x2 at most, and settle at the same 100 ms
 * without overshooting. */
static void test_burst(struct budget *b)
{
	uint64_t prev, s;
	bool ramp_ok = true, over = false;
	int i, out = 1;

	ASSERT_EQ(step(b, 2.5e6, 200), 0, "burst: the probes sit out");
	while (out < 20 && !step(b, 250e3, 200))
		out++;
	ASSERT_EQ(out, 9, "burst: 9 intervals out pay 180 ms back");
	ASSERT_EQ(budget__slice_ns(b), 10 * MS, "burst: back at the minimum");
	prev = 10 * MS;
	for (i = 0; i < 20; i++) {
		s = step(b, 250e3, 200);
		ramp_ok &= s <= 2 * prev && s >= prev;
		/* The synthetic counts round down: a hair over is right. */
		over |= s > 100 * MS + 100000;
		prev = s;
	}
	ASSERT_TRUE(ramp_ok, "after the burst: grows, x2 per interval at most");
	ASSERT_TRUE(!over, "after the burst: no overshoot");
	ASSERT_TRUE(prev > 99 * MS, "after the burst: back at 100 ms");
}

/* Bursts every other interval: the debt keeps the long-run cost at the
 * budget, without starving the probes. */
static void test_alternating(void)
{
	struct budget_report r;
	struct budget b;
	int i;

	budget__init(&b, &opts2);
	for (i = 0; i < 100; i++)
		step(&b, i & 1 ? 2.5e6 : 25e3, 200);
	budget__take_report(&b, &r);
	ASSERT_TRUE(r.overhead_total_pct <= 2.1 && r.overhead_total_pct > 1,
		    "alternating: long-run cost at the budget");
	if (r.overhead_total_pct > 2.1 || r.overhead_total_pct <= 1)
		printf("#   overhead %.3f%%\n", r.overhead_total_pct);
}

static void test_extremes(void)
{
	struct budget_interval iv = { .wall_ns = SEC };
	struct budget_opts o = opts2;
	struct budget_report r;
	struct budget b;
	char line[160];
	int i;

	/* A rate no machine makes: the probes sit out, no overflow. */
	budget__init(&b, &o);
	for (i = 0; i < 5; i++) {
		iv.attached_ns = budget__slice_ns(&b);
		iv.events = 1000000000000000ULL;
		budget__update(&b, &iv);
	}
	ASSERT_EQ(budget__slice_ns(&b), 0, "huge rate: sits out");
	budget__take_report(&b, &r);
	ASSERT_TRUE(r.overhead_pct > 1e9 && r.ns_per_event == 900,
		    "huge rate: finite figures (default body 300 ns)");
	ASSERT_TRUE(budget__format(&r, line, sizeof(line)) > 0,
		    "huge rate: formats");

	/* A budget too small for even the minimum: the minimum all the same. */
	o.pct = 0.001;
	budget__init(&b, &o);
	ASSERT_EQ(budget__slice_ns(&b), 10 * MS, "tiny budget: minimum slice");

	o.pct = 0;
	budget__init(&b, &o);
	ASSERT_EQ(budget__slice_ns(&b), 0, "pct 0: never attached");

	/* Short interval: slice and gap of a quarter of it at least. */
	o.pct = 2;
	o.interval_ns = 20 * MS;
	budget__init(&b, &o);
	ASSERT_EQ(budget__slice_ns(&b), 5 * MS, "20 ms interval: 5 ms slice");

	/* Nearly the whole interval: the gap kept at the minimum. */
	o.pct = 95;
	o.interval_ns = SEC;
	budget__init(&b, &o);
	ASSERT_EQ(budget__slice_ns(&b), 950 * MS, "95%: 950 ms");
	iv = (struct budget_interval){ .wall_ns = SEC, .attached_ns = 950 * MS,
				       .body_ns = 200 };
	/* 0.955 of a core while attached: 95% buys all of it but 0.5%. */
	iv.events = 1134063;
	ASSERT_EQ(budget__update(&b, &iv), 990 * MS,
		  "95%: a gap shorter than the minimum is widened");

	/* attached_ns past wall_ns (clock skew of the caller): capped. */
	budget__init(&b, &opts2);
	iv = (struct budget_interval){ .wall_ns = SEC, .attached_ns = 2 * SEC };
	budget__update(&b, &iv);
	budget__take_report(&b, &r);
	ASSERT_TRUE(r.attached == 1, "attached time capped at the wall time");
}

static void test_format(void)
{
	struct budget_report r = {
		.pct = 2, .attached = 0.0736, .attached_total = 0.41,
		.overhead_pct = 1.94,
	};
	char line[160];

	budget__format(&r, line, sizeof(line));
	ASSERT_STREQ(line, "probes attached 7.3% of the time (41% overall), "
		     "cost 1.9% of a core (max 2%)",
		     "report line");
	r.attached = 0.9996;
	r.pct = 0.5;
	budget__format(&r, line, sizeof(line));
	ASSERT_STREQ(line, "probes attached 99% of the time (41% overall), "
		     "cost 1.9% of a core (max 0.5%)",
		     "just under 100% is not printed as 100");
}

static void print_calibration(const char *what,
			      const struct budget_calibration *c)
{
	printf("# uprobe on %s: %.0f ns per hit (trap %.0f + BPF %.0f), "
	       "IQR %.0f ns, %u rounds, %.1f ms\n", what, c->hit_ns,
	       c->trap_ns, c->body_ns, c->spread_ns, c->rounds,
	       c->elapsed_ns / 1e6);
}

/* As root: both probe kinds, then the statistics through the meter. */
static void test_calibration(void)
{
	static const char *const names[2] = { "jbe/b.ls", "push %rbp" };
	struct budget_calibration c;
	struct budget_calib *keep = NULL;
	struct budget_meter m;
	const char *why = "";
	int kind, err, fd, fds[9] = { 0 };
	double body = 0;

	if (geteuid()) {
		TAP_SKIP("calibration needs root");
		return;
	}
	for (kind = 0; kind < 2; kind++) {
		err = budget__calibrate(kind, 0, &c, &why);
		if (!ASSERT_EQ(err, 0, "calibration runs"))
			printf("#   %s\n", why);
		ASSERT_TRUE(c.calls > 0 && c.hits == c.calls,
			    "calibration: the uprobe fired on every call");
		ASSERT_TRUE(c.rounds >= 7, "calibration: 7 rounds at least");
		print_calibration(names[kind], &c);
	}

	/* Kept, and metered: the statistics see its runs. */
	err = budget_calib__run(&keep, BUDGET_PROBE_JUMP, 0, &c, &why);
	if (!ASSERT_TRUE(!err && keep, "calibration: the probe is kept"))
		return;
	fd = budget_calib__prog_fd(keep);
	ASSERT_EQ(budget_meter__open(&m, &fd, 1), 0, "meter opens");
	ASSERT_TRUE(m.stats_fd >= 0, "meter: BPF run-time statistics on");
	budget_calib__hit(keep, 1000);
	ASSERT_EQ(budget_meter__sample(&m, &body), 0, "meter samples");
	ASSERT_TRUE(body > 0, "meter: a body per run once the program ran");
	printf("# BPF run time of the calibration program: %.0f ns a run\n",
	       body);
	ASSERT_EQ(budget_meter__sample(&m, &body), 0, "meter samples again");
	ASSERT_TRUE(body > 0, "meter: nothing ran since: the last value");
	/* With the statistics on, calibration tells the body apart. */
	err = budget__calibrate(BUDGET_PROBE_JUMP, 0, &c, &why);
	ASSERT_TRUE(!err && c.body_ns > 0 && c.trap_ns == c.hit_ns - c.body_ns,
		    "calibration with statistics: trap = hit - body");
	print_calibration("jbe/b.ls, statistics on", &c);
	ASSERT_EQ(budget_meter__set_stats(&m, false), 0, "meter: stats off");
	ASSERT_TRUE(m.stats_fd < 0, "meter: stats fd closed");
	budget_calib__hit(keep, 10);
	ASSERT_EQ(budget_meter__sample(&m, &body), 0, "meter: sample, stats off");
	ASSERT_TRUE(body > 0, "meter: stats off: the last value known");
	ASSERT_EQ(budget_meter__set_stats(&m, true), 0, "meter: stats on again");
	budget_meter__close(&m);
	budget_calib__free(keep);
	ASSERT_EQ(budget_meter__open(&m, fds, 9), -E2BIG, "meter: 8 at most");
}

int main(void)
{
	struct budget b;

	test_parse();
	test_probe_kind();
	test_body_per_run();
	test_always();
	test_zero_events();
	test_steady(&b);
	test_burst(&b);
	test_alternating();
	test_extremes();
	test_format();
	test_calibration();
	return tap__done();
}
