// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "duty.h"

#define DUTY_INTERVAL_NS 1000000000ULL
/* The first interval: short and attached throughout, to measure the load
 * before deciding, so that a quiet target is never left unwatched. */
#define DUTY_FIRST_NS 20000000ULL
/* While attached, the cost so far is checked this often: a load that
 * jumps (an idle service turning busy while watched whole intervals)
 * ends the slice once the interval's allowance is spent, instead of
 * costing the whole interval. */
#define DUTY_CHECK_NS 50000000ULL
/* Calibration: at most this long, besides the attach. */
#define DUTY_CALIB_NS 100000000ULL

static uint64_t event_sum(struct probes *p)
{
	struct glt_counters c;

	probes__counters(p, &c);
	return c.parks + c.spawns + c.exits;
}

int duty__new(struct duty **out, struct probes *p, const struct duty_opts *o,
	      uint64_t now_ns, const char **warn)
{
	struct budget_opts bopts = { .pct = o->pct,
				     .interval_ns = o->interval_ns ?
					o->interval_ns : DUTY_INTERVAL_NS };
	int fds[BUDGET_MAX_PROGS];
	struct duty *d;
	size_t n;
	int err;

	*out = NULL;
	*warn = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	err = budget_calib__run(&d->calib, o->kind, DUTY_CALIB_NS, &d->cal,
				warn);
	if (!err)
		bopts.trap_ns = d->cal.trap_ns;
	/* Not allowed to attach a uprobe: the probes' own attach, next,
	 * says so in the one line that matters. */
	if (err == -EPERM || err == -EACCES)
		*warn = NULL;
	n = probes__prog_fds(p, fds, BUDGET_MAX_PROGS);
	err = budget_meter__open(&d->meter, fds, n);
	if (err) {
		budget_calib__free(d->calib);
		free(d);
		return err;
	}
	budget_meter__set_stats(&d->meter, true);
	budget__init(&d->budget, &bopts);
	d->interval_start_ns = now_ns;
	d->interval_ns = DUTY_FIRST_NS < bopts.interval_ns ? DUTY_FIRST_NS :
							    bopts.interval_ns;
	d->attached_at_ns = now_ns;
	d->checked_ns = now_ns;
	d->slice_ns = d->interval_ns;
	d->events = event_sum(p);
	*out = d;
	return 0;
}

uint64_t duty__next_ns(const struct duty *d)
{
	uint64_t next = d->interval_start_ns + d->interval_ns;

	if (d->attached_at_ns && d->slice_ns < d->interval_ns)
		next = d->interval_start_ns + d->slice_ns;
	if (d->attached_at_ns && d->budget.opts.pct < 100 &&
	    d->checked_ns + DUTY_CHECK_NS < next)
		next = d->checked_ns + DUTY_CHECK_NS;
	return next;
}

/* This interval's events already cost what it may spend. */
static bool overspent(const struct duty *d, struct probes *p)
{
	struct budget_interval iv = { .events = event_sum(p) - d->events,
				      .body_ns = d->meter.body_ns };
	double allowed = d->budget.opts.pct / 100 * (double)d->interval_ns -
			 d->budget.debt_ns;

	return budget__cost_ns(&d->budget, &iv) > allowed;
}

/* The time links taken out kept firing counts as attached. */
static void account_detach(struct duty *d, struct probes *p)
{
	uint64_t done;

	if (!d->detach_ns || probes__detaching(p, &done))
		return;
	if (done > d->detach_ns)
		d->attached_ns += done - d->detach_ns;
	d->detach_ns = 0;
}

static void end_interval(struct duty *d, struct probes *p, uint64_t now_ns)
{
	struct budget_interval iv = { .wall_ns = now_ns -
						 d->interval_start_ns };
	uint64_t events = event_sum(p);

	if (d->attached_at_ns) {
		d->attached_ns += now_ns - d->attached_at_ns;
		d->attached_at_ns = now_ns;
	}
	iv.attached_ns = d->attached_ns;
	iv.events = events - d->events;
	budget_meter__sample(&d->meter, &iv.body_ns);
	d->slice_ns = budget__update(&d->budget, &iv);
	d->events = events;
	d->intervals++;
	budget_meter__set_stats(&d->meter,
				d->intervals % DUTY_STATS_EVERY == 0);
	d->interval_start_ns = now_ns;
	d->interval_ns = d->budget.opts.interval_ns;
	d->attached_ns = 0;
}

int duty__step(struct duty *d, struct probes *p, uint64_t now_ns,
	       const char **errmsg)
{
	uint64_t done;
	int err;

	account_detach(d, p);
	if (d->attached_at_ns && d->budget.opts.pct < 100 &&
	    now_ns >= d->checked_ns + DUTY_CHECK_NS) {
		d->checked_ns = now_ns;
		if (overspent(d, p))
			d->slice_ns = now_ns - d->interval_start_ns;
	}
	if (d->attached_at_ns && d->slice_ns < d->interval_ns &&
	    now_ns >= d->interval_start_ns + d->slice_ns) {
		d->attached_ns += now_ns - d->attached_at_ns;
		d->attached_at_ns = 0;
		d->detach_ns = now_ns;
		err = probes__set_attached(p, false, errmsg);
		if (err)
			return err;
	}
	if (now_ns < d->interval_start_ns + d->interval_ns)
		return 0;
	end_interval(d, p, now_ns);
	/* Links still going count as attached: wait for them. */
	if (d->attached_at_ns || !d->slice_ns || probes__detaching(p, &done))
		return 0;
	err = probes__set_attached(p, true, errmsg);
	if (err)
		return err;
	d->attached_at_ns = now_ns;
	d->checked_ns = now_ns;
	return 1;
}

void duty__take_report(struct duty *d, struct budget_report *r)
{
	budget__take_report(&d->budget, r);
}

void duty__free(struct duty *d)
{
	if (!d)
		return;
	budget_meter__close(&d->meter);
	budget_calib__free(d->calib);
	free(d);
}
