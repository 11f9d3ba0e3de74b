"""--max-overhead against parkzoo -busy, whose ping-pong pair parks and
readies about a million times a second: the budget must engage (probes
attached for a small part of the time, cost near the budget), and duty
cycling must lose no leak: the same eleven groups as the core test,
exact, and the goroutines that woke or exited in a gap must leave the
report. --max-overhead 100 keeps the probes attached. Go 1.19 and 1.27
also run with the perf-event uprobes of kernels before 6.6 (hidden
--no-uprobe-multi), whose links linger after a detach. With -churn,
goroutines start and end all the time, so the eleven groups are created
(2 s in, while duty-cycled) in g structs whose last goroutines exited
unseen in a gap: the probes key parks by g and must read the goid again
after each re-attach. And a burst:
scalezoo -wait parks 100k goroutines after attach, which overspends the
budget so that the probes sit out whole seconds; the reports made
meanwhile must still count every one of them, by group.
"""
import os
import re
import signal

from glt import (TOOL, Process, check_group, counters, find_group, fixture,
                 markers, parse_reports, per_version)
from test_core import GROUPS, wait_reason
from test_snapshot import SCALE_GROUPS, SCALE_N, scale_counts

ATTACHED = re.compile(r"^probes attached ([\d.]+)% of the time "
                      r"\(([\d.]+)% overall\), cost ([\d.]+)% of a core "
                      r"\(max ([\d.]+)%\)$")


def probes_line(report):
    for line in report["tail"]:
        m = ATTACHED.match(line)
        if m:
            return [float(x) for x in m.groups()]
    return None


def trace_busy(version, budget, seconds, extra=(), zoo_flags=()):
    """parkzoo -busy traced with --max-overhead budget:
    (exit status, reports, stderr)."""
    zoo = Process([fixture(version, "parkzoo"), "-busy", "-wake", "4s",
                   "-release", "4s"] + list(zoo_flags))
    tracer = None
    try:
        m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
        pid = int(m.group(1))
        # -t 3s: a duty-cycled park time may be late by up to one
        # control interval (1 s), see README.
        tracer = Process([TOOL, "-p", str(pid), "--max-overhead", budget,
                          "-t", "3s", "-i", "1s", "-d", "%ds" % seconds]
                         + list(extra))
        tracer.wait_line("stderr", r"tracing pid %d" % pid)
        os.kill(pid, signal.SIGUSR1)
        out, err = tracer.finish(timeout=60)
        return tracer.p.returncode, parse_reports(out), err
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        zoo.stop()


def check_duty_cycled(tap, version, extra=(), zoo_flags=()):
    v = " ".join(["go%s --max-overhead 1" % version] + list(extra)
                 + ["(parkzoo %s)" % " ".join(zoo_flags)] * bool(zoo_flags))
    rc, reports, err = trace_busy(version, "1", 11, extra, zoo_flags)
    tap.ok(rc == 0, "%s: exit status 0" % v, err)
    finals = [r for r in reports if r["final"]]
    if not tap.ok(len(finals) == 1, "%s: one final report" % v, err):
        return
    final = finals[0]
    att = probes_line(final)
    if tap.ok(att, "%s: the report says how long the probes were attached"
              % v, final["tail"]):
        tap.ok(att[1] < 50, "%s: budget engaged: attached %.1f%% overall"
               % (v, att[1]))
        tap.eq(att[3], 1.0, "%s: the budget is shown" % v)
    lines = markers("parkzoo", "LINE")
    gos = markers("parkzoo", "GO")
    for func, marker, count, _ in GROUPS:
        what = "%s: %s" % (v, func)
        groups = find_group(final, func)
        if tap.eq(len(groups), 1, what + " is one group"):
            check_group(tap, what, groups[0], "parkzoo", count,
                        wait_reason(marker, version), lines[marker],
                        gos[marker])
    tap.eq(find_group(final, "main.readThenSpin"), [],
           "%s: netpoll-woken spinner not reported" % v)
    tap.eq(find_group(final, "main.waitRelease"), [],
           "%s: woken and exited goroutines leave the report" % v)
    busy = [g for g in final["groups"]
            if any(f[0].startswith("main.busyPingPong") for f in g["frames"])]
    tap.eq(busy, [], "%s: the busy pair is never reported" % v)


def check_burst(tap, version):
    v = "go%s --max-overhead 1, 100k parked in a burst" % version
    zoo = Process([fixture(version, "scalezoo"), "-n", str(SCALE_N), "-wait"])
    tracer = None
    try:
        m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
        pid = int(m.group(1))
        tracer = Process([TOOL, "-p", str(pid), "--max-overhead", "1",
                          "-t", "1s", "-i", "2s", "-d", "9s"])
        tracer.wait_line("stderr", r"tracing pid %d" % pid)
        os.kill(pid, signal.SIGUSR1)
        out, err = tracer.finish(timeout=60)
        finals = [r for r in parse_reports(out) if r["final"]]
        if not tap.ok(len(finals) == 1, "%s: final report" % v, err):
            return
        att = probes_line(finals[0])
        tap.ok(att and att[1] < 50, "%s: the probes sat out" % v,
               finals[0]["tail"])
        parks = counters(finals[0]).get("events parks", SCALE_N)
        tap.ok(parks < SCALE_N / 2, "%s: the probes saw %d of the parks, "
               "the scans the rest" % (v, parks))
        tap.eq(scale_counts(finals[0]), SCALE_GROUPS,
               "%s: every parked goroutine, by group" % v)
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        zoo.stop()


def run_version(tap, version):
    check_duty_cycled(tap, version)
    check_duty_cycled(tap, version, zoo_flags=["-churn", "-delay", "2s"])
    if version in ("1.19", "1.27"):
        check_duty_cycled(tap, version, ["--no-uprobe-multi"])
        check_burst(tap, version)

    v = "go%s --max-overhead 100" % version
    rc, reports, err = trace_busy(version, "100", 3)
    finals = [r for r in reports if r["final"]]
    att = probes_line(finals[0]) if finals else None
    tap.ok(att and att[0] == 100 and att[1] == 100 and att[3] == 100,
           "%s: probes attached all the time" % v, finals and finals[0]["tail"])


if __name__ == "__main__":
    per_version(run_version)
