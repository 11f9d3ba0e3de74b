"""Leak classes on every Go version, with leakzoo: the incident's leak on
a shared never-closed done channel and a forgotten sender on private
channels are likely_leaked and grow at the true rate (within 20%), the
idle worker pool is an idle_pool and never a leak, nil-channel waits are
never_wakeable, and short-lived request goroutines are not leaks."""
import signal
import time

from glt import (TOOL, Process, find_group, fixture, markers, parse_reports,
                 per_version, top_user_frame)

RATE = 5  # leaks per second per leak, passed to the fixture


def group_at(report, line):
    """The group whose top main.* frame is at this fixture line."""
    found = [g for g in report["groups"] if top_user_frame(g)[2] == line]
    return found[0] if len(found) == 1 else None


def run_version(tap, version):
    v = "go" + version
    lines = markers("leakzoo", "LINE")
    zoo = Process([fixture(version, "leakzoo"), "-rate", str(RATE)])
    tracer = None
    try:
        m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
        pid = int(m.group(1))
        time.sleep(2)  # some leaks happen before we attach
        tracer = Process([TOOL, "-p", str(pid), "-t", "1s", "-i", "2s", "-d", "10s"])
        out, err = tracer.finish(timeout=40)
        tap.eq(tracer.p.returncode, 0, "%s: exit status 0" % v)
        finals = [r for r in parse_reports(out) if r["final"]]
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
            shape = "one shared object" if tag == "merge" else "a private object each"
            tap.ok(shape in g.get("objects", ""), "%s: %s: %s" % (v, what, shape),
                   g.get("objects"))
        pool = group_at(final, lines["worker"])
        if tap.ok(pool, "%s: worker pool reported" % v):
            tap.eq(pool.get("class"), "idle_pool", "%s: worker pool is idle_pool" % v)
            tap.ok("one shared object" in pool.get("objects", ""),
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
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        zoo.stop()


def main():
    per_version(run_version)


if __name__ == "__main__":
    main()
