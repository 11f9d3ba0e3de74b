"""--no-probes: no uprobes at all, goroutines scanned from memory every
interval. It must find the same parked groups as the probes (exact
counts, wait reasons, lines), drop goroutines that woke or exited, say
what it cannot see, and still tell the leaks from the idle pool."""
import os
import signal
import time

from glt import (Process, Tap, TOOL, find_group, fixture, go_versions,
                 is_root, markers, parse_reports, top_user_frame)
from test_core import GROUPS, wait_reason


def no_uprobes_of(pid):
    """True when no uprobe is registered on the target's executable."""
    try:
        with open("/sys/kernel/tracing/uprobe_events") as f:
            return "/proc/%d/" % pid not in f.read()
    except OSError:
        return True


def run_parkzoo(tap, version):
    v = "go%s --no-probes" % version
    lines = markers("parkzoo", "LINE")
    zoo = Process([fixture(version, "parkzoo"), "-wake", "3s", "-release", "3s"])
    tracer = None
    try:
        m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
        pid = int(m.group(1))
        tracer = Process([TOOL, "-p", str(pid), "--no-probes", "-t", "1s",
                          "-i", "1s", "-d", "7s"])
        m, seen = tracer.wait_line("stderr", r"without probes")
        tap.ok(m and "not seen" in m.string, "%s: says what it cannot see" % v,
               "\n".join(seen))
        os.kill(pid, signal.SIGUSR1)
        out, err = tracer.finish(timeout=30)
        tap.eq(tracer.p.returncode, 0, "%s: exit status 0" % v)
        finals = [r for r in parse_reports(out) if r["final"]]
        if not tap.eq(len(finals), 1, "%s: final report" % v):
            return
        for func, marker, count, _ in GROUPS:
            groups = find_group(finals[0], func)
            what = "%s: %s" % (v, func)
            if not tap.eq(len(groups), 1, what + " is one group"):
                continue
            tap.eq((groups[0]["count"], groups[0]["reason"],
                    top_user_frame(groups[0])[2]),
                   (count, wait_reason(marker, version), lines[marker]),
                   what + " count, wait reason, line")
        tap.eq(find_group(finals[0], "main.readThenSpin"), [],
               "%s: netpoll-woken spinner not reported" % v)
        tap.eq(find_group(finals[0], "main.waitRelease"), [],
               "%s: released goroutines leave the report" % v)
        c = [l for l in out.splitlines() if l.startswith("events:")]
        tap.ok(c and c[-1].startswith("events: 0 parks"),
               "%s: no probe events at all" % v, c)
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        zoo.stop()


def run_leakzoo(tap, version):
    v = "go%s --no-probes" % version
    lines = markers("leakzoo", "LINE")
    zoo = Process([fixture(version, "leakzoo"), "-rate", "5"])
    tracer = None
    try:
        m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
        pid = int(m.group(1))
        tracer = Process([TOOL, "-p", str(pid), "--no-probes", "-t", "1s",
                          "-i", "2s", "-d", "10s"])
        time.sleep(2)
        tap.ok(no_uprobes_of(pid), "%s: no uprobe on the target" % v)
        out, err = tracer.finish(timeout=30)
        final = [r for r in parse_reports(out) if r["final"]][0]
        by_line = {top_user_frame(g)[2]: g for g in final["groups"]}
        for tag, cls in [("merge", "likely_leaked"), ("sender", "likely_leaked"),
                         ("worker", "idle_pool"), ("nil", "never_wakeable")]:
            g = by_line.get(lines[tag])
            tap.eq(g and g.get("class"), cls, "%s: %s is %s" % (v, tag, cls))
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        zoo.stop()


def main():
    tap = Tap()
    if not is_root():
        tap.skip("needs root")
        tap.done()
    versions = go_versions()
    for version in versions:
        run_parkzoo(tap, version)
    if versions:
        run_leakzoo(tap, versions[-1])
    tap.done()


if __name__ == "__main__":
    main()
