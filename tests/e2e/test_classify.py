"""Leak classes on every Go version, with leakzoo: the incident's leak on
a shared never-closed done channel and a forgotten sender on private
channels are likely_leaked and grow at the true rate (within 20%), the
idle worker pool is an idle_pool and never a leak, nil-channel waits are
never_wakeable, and short-lived request goroutines are not leaks. A
one-off burst of leaked goroutines right after attach is never called
likely_leaked, in any report, while the steady leaks beside it are.

Then the objects waited on, seen by the probes (semazoo, blocked after
attach): five goroutines on one sync.Mutex share one sema, four on their
own sync.WaitGroup each have one, three readers share an RWMutex's; the
addresses are exactly the ones the fixture prints."""
import json
import os
import re
import signal
import time

from glt import (TOOL, Process, find_group, fixture, markers, parse_reports,
                 per_version, top_user_frame)

RATE = 5  # leaks per second per leak, passed to the fixture
BURST = 50  # goroutines leaked at once, right after attach


def group_at(report, line):
    """The group whose top main.* frame is at this fixture line."""
    found = [g for g in report["groups"] if top_user_frame(g)[2] == line]
    return found[0] if len(found) == 1 else None


def run_version(tap, version):
    v = "go" + version
    lines = markers("leakzoo", "LINE")
    zoo = Process([fixture(version, "leakzoo"), "-rate", str(RATE),
                   "-burst", str(BURST)])
    tracer = None
    try:
        m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
        pid = int(m.group(1))
        time.sleep(2)  # some leaks happen before we attach
        tracer = Process([TOOL, "-p", str(pid), "-t", "1s", "-i", "2s", "-d", "10s"])
        m, seen = tracer.wait_line("stderr", r"tracing pid")
        tap.ok(m, "%s: attached" % v, "\n".join(seen))
        os.kill(pid, signal.SIGUSR1)
        m, _ = zoo.wait_line("stdout", r"^burst$")
        tap.ok(m, "%s: one-off burst of %d leaks right after attach" % (v, BURST))
        out, err = tracer.finish(timeout=40)
        tap.eq(tracer.p.returncode, 0, "%s: exit status 0" % v)
        reports = parse_reports(out)
        bursts = [group_at(r, lines["burst"]) for r in reports]
        tap.ok(all(bursts) and len(bursts) >= 4,
               "%s: the burst is in every report" % v, len(bursts))
        tap.eq([g.get("class") for g in bursts if g and g.get("class") == "likely_leaked"],
               [], "%s: the burst is likely_leaked in no report" % v)
        finals = [r for r in reports if r["final"]]
        if not tap.eq(len(finals), 1, "%s: final report" % v):
            print("# " + err.replace("\n", "\n# "))
            return
        final = finals[0]
        for tag, what in [("merge", "leak on a shared done channel"),
                          ("sender", "forgotten sender on private channels")]:
            g = group_at(final, lines[tag])
            if not tap.ok(g, "%s: %s reported" % (v, what)):
                continue
            tap.eq(g.get("class"), "likely_leaked", "%s: %s is likely_leaked" % (v, what))
            rate = g.get("growth") or 0
            tap.ok(abs(rate - RATE * 60) <= RATE * 60 * 0.2,
                   "%s: %s grows at %d/min within 20%%" % (v, what, RATE * 60),
                   g.get("verdict"))
            shape = "one shared channel" if tag == "merge" else "a private channel each"
            tap.ok(shape in g.get("objects", ""), "%s: %s: %s" % (v, what, shape),
                   g.get("objects"))
        pool = group_at(final, lines["worker"])
        if tap.ok(pool, "%s: worker pool reported" % v):
            tap.eq(pool.get("class"), "idle_pool", "%s: worker pool is idle_pool" % v)
            tap.ok("one shared channel" in pool.get("objects", ""),
                   "%s: pool shares one channel" % v, pool.get("objects"))
            tap.ok(12 <= pool["count"] <= 16, "%s: pool of 16, most parked" % v,
                   pool["count"])
        nil = group_at(final, lines["nil"])
        if tap.ok(nil, "%s: nil-channel waits reported" % v):
            tap.eq((nil.get("class"), nil["count"]), ("never_wakeable", 3),
                   "%s: 3 nil-channel waits are never_wakeable" % v)
        leaks = [top_user_frame(g)[0] for g in final["groups"]
                 if g.get("class") == "likely_leaked"]
        tap.eq(sorted(leaks), ["main.fetchWithTimeout.func1", "main.merge.func1"],
               "%s: only the two leaks are likely_leaked" % v)
        tap.eq(find_group(final, "main.handleRequest"), [],
               "%s: short-lived requests are not reported" % v)
        burst = group_at(final, lines["burst"])
        if tap.ok(burst, "%s: burst reported" % v):
            tap.eq((burst["count"], burst.get("class")), (BURST, "parked"),
                   "%s: the burst's %d are parked, not a leak" % (v, BURST))
            tap.ok("a burst" in burst.get("verdict", ""),
                   "%s: verdict says burst" % v, burst.get("verdict"))
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        zoo.stop()


def printed_semas(lines):
    """{"mutex": [addr], "waitgroup": [addr, ...], ...} as semazoo prints
    them ("sema KIND 0xADDR")."""
    found = {}
    for line in lines:
        m = re.match(r"sema (\w+) (0x[0-9a-f]+)$", line)
        if m:
            found.setdefault(m.group(1), []).append(int(m.group(2), 16))
    return found


def check_semas(tap, v, groups, printed, known=True):
    """The three semazoo groups of a --json final report (the JSON lines
    whose innermost main.* frame is at each marker): the shared and own
    semaphores, exactly; with known=False, nothing said about them."""
    lines = markers("semazoo", "LINE")
    for tag, count, shared in [("mutex", 5, True), ("waitgroup", 4, False),
                               ("rwmutex", 3, True)]:
        what = "%s: %s" % (v, tag)
        g = [o for o in groups if next((f["line"] for f in o["frames"]
                                        if f["function"].startswith("main.")),
                                       None) == lines[tag]]
        if not tap.eq(len(g), 1, what + " is one group"):
            continue
        g = g[0]
        tap.eq(g["count"], count, what + " count")
        wo = g["wait_object"]
        objects = [int(o, 16) if o else None for o in g["objects"]]
        if not known:
            tap.eq((wo["kind"], wo["shared"], wo["distinct"], set(objects)),
                   (None, None, 0, {None}), what + ": nothing said")
            continue
        tap.eq(wo["kind"], "sema", what + " waits on a sema")
        if shared:
            tap.eq((wo["shared"], wo["distinct"]),
                   ("0x%x" % printed[tag][0], 1),
                   what + ": all share the printed sema")
        else:
            tap.eq((wo["shared"], wo["distinct"], sorted(objects)),
                   (None, count, sorted(printed[tag])),
                   what + ": each its own printed sema")


def run_sema(tap, version):
    """Blocked after attach: the probes see the parks, the semaphores come
    from the semtable (Go <= 1.24) or the sudog in g.waiting (1.26+)."""
    v = "go%s sema" % version
    zoo = Process([fixture(version, "semazoo"), "-wait"])
    tracer = None
    try:
        m, lines = zoo.wait_line("stdout", r"ready pid=(\d+)")
        pid = int(m.group(1))
        printed = printed_semas(lines)
        tracer = Process([TOOL, "-p", str(pid), "-t", "500ms", "-i", "10s",
                          "-d", "2s", "--json"])
        m, seen = tracer.wait_line("stderr", r"tracing pid")
        tap.ok(m, "%s: attached" % v, "\n".join(seen))
        os.kill(pid, signal.SIGUSR1)
        out, _ = tracer.finish(timeout=30)
        final = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
        final = [o for o in final if o["final"]]
        tap.ok(all(o["lower_bound"] is False for o in final
                   if o["wait_reason"] != "select (no cases)"),
               "%s: the parks were seen by the probes" % v)
        check_semas(tap, v, final, printed)
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        zoo.stop()


def run_all(tap, version):
    run_version(tap, version)
    run_sema(tap, version)


def main():
    per_version(run_all)


if __name__ == "__main__":
    main()
