"""Attach after the leak: goroutines parked before goleaktrace started are
found by walking the runtime's allgs, on every Go version and its normal,
stripped (-s -w: runtime.allglen/allgptr decoded from the code) and PIE
builds, with their stacks (equal to the runtime's own traceback), creation
sites, and parked times that are lower bounds but never shorter than the
time they have really been parked.

Also: the semaphores of goroutines blocked before attach (semazoo), exactly
the addresses the fixture prints, where they can be known; in a stripped
binary of Go <= 1.24 (no runtime.semtable symbol, no sema in g.waiting)
nothing is said about them. And a snapshot of 100k parked goroutines
(scalezoo) counts exactly 100k, in exactly its five groups."""
import json
import os
import signal
import time

from glt import (FLAVOURS, TOOL, Process, check_dump, find_group, fixture,
                 label, load_bias, markers, parse_reports, per_version,
                 top_user_frame)
from test_classify import check_semas, printed_semas
from test_core import GROUPS, minor, wait_reason

SCALE_N = 100000
# scalezoo: of every 10 goroutines, 4 senders, 3 in a select, and one each
# receiver, mutex locker and WaitGroup waiter.
SCALE_GROUPS = {"sender": 40000, "selector": 30000, "receiver": 10000,
                "locker": 10000, "waiter": 10000}


def scale_counts(report):
    """{scalezoo marker: goroutines} of a report's groups, by the line
    each group parked at."""
    lines = markers("scalezoo", "LINE")
    counts = {}
    for g in report["groups"]:
        line = top_user_frame(g)[2]
        for tag, no in lines.items():
            if no == line:
                counts[tag] = counts.get(tag, 0) + g["count"]
    return counts


def seconds(text):
    text = text.lstrip(">=")
    if text.endswith("ms"):
        return float(text[:-2]) / 1000
    if "m" in text:
        m, s = text.rstrip("s").split("m")
        return int(m) * 60 + float(s)
    return float(text.rstrip("s"))


def run_version(tap, version, flavour=""):
    v = label(version, flavour)
    lines = markers("parkzoo", "LINE")
    path = fixture(version, "parkzoo" + flavour)
    if not tap.ok(os.path.exists(path), "%s: parkzoo%s is built" %
                  (v, flavour)):
        return
    zoo = Process([path, "-wake", "1h", "-release", "1h"],
                  env=dict(os.environ, GOTRACEBACK="all"))
    tracer = None
    try:
        m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
        if not tap.ok(m, "%s: fixture started" % v):
            return
        pid = int(m.group(1))
        bias = load_bias(path, pid)
        os.kill(pid, signal.SIGUSR1)
        zoo.wait_line("stdout", r"spawned")
        spawned = time.monotonic()
        time.sleep(2)
        tracer = Process([TOOL, "-p", str(pid), "-t", "1s", "-i", "10s", "-d", "1500ms"])
        out, err = tracer.finish(timeout=30)
        tap.eq(tracer.p.returncode, 0, "%s: exit status 0" % v)
        tap.ok("warning" not in err, "%s: no warning (allgs found)" % v, err)
        truly_parked = time.monotonic() - spawned
        finals = [r for r in parse_reports(out) if r["final"]]
        if not tap.eq(len(finals), 1, "%s: final report" % v):
            print("# " + err.replace("\n", "\n# "))
            return
        for func, marker, count, _ in GROUPS:
            what = "%s: pre-attach %s" % (v, func)
            groups = find_group(finals[0], func)
            if not tap.eq(len(groups), 1, what + " is one group"):
                continue
            g = groups[0]
            tap.eq(g["count"], count, what + " count")
            tap.eq(g["reason"], wait_reason(marker, version), what + " wait reason")
            tap.eq(top_user_frame(g)[2], lines[marker], what + " line")
            tap.eq(g.get("created_func"), "main.spawnAll", what + " created by")
            tap.ok(g["oldest"].startswith(">="), what + " time marked lower bound",
                   g["oldest"])
            # A lower bound, yet not below what the probes could not see:
            # at least the attach-to-report time, within the true age.
            age = seconds(g["oldest"])
            tap.ok(1.4 <= age <= truly_parked + 0.5,
                   what + " parked time is a sound lower bound",
                   "%s vs truly %.1fs" % (g["oldest"], truly_parked))
        check_dump(tap, v, path, zoo, finals[0], bias)
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        zoo.stop()


def run_sema(tap, version, flavour):
    v = label(version, flavour) + " sema"
    path = fixture(version, "semazoo" + flavour)
    if not tap.ok(os.path.exists(path), "%s: semazoo%s is built" % (v, flavour)):
        return
    zoo = Process([path])
    tracer = None
    try:
        m, lines = zoo.wait_line("stdout", r"ready pid=(\d+)")
        pid = int(m.group(1))
        printed = printed_semas(lines)
        zoo.wait_line("stdout", r"^blocked$")
        tracer = Process([TOOL, "-p", str(pid), "-t", "100ms", "-i", "10s",
                          "-d", "500ms", "--json"])
        out, _ = tracer.finish(timeout=30)
        final = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
        final = [o for o in final if o["final"]]
        # Stripped: no runtime.semtable; from Go 1.26 the sudog in
        # g.waiting tells anyway.
        known = flavour != "-sw" or minor(version) >= 26
        check_semas(tap, v, final, printed, known)
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        zoo.stop()


def run_scale(tap, version):
    v = label(version) + " 100k"
    zoo = Process([fixture(version, "scalezoo"), "-n", str(SCALE_N)])
    tracer = None
    try:
        m, _ = zoo.wait_line("stdout", r"parked n=", timeout=60)
        if not tap.ok(m, "%s: fixture parked them" % v):
            return
        tracer = Process([TOOL, "-p", str(zoo.p.pid), "-t", "100ms", "-i",
                          "10s", "-d", "500ms"])
        out, err = tracer.finish(timeout=60)
        tap.eq(tracer.p.returncode, 0, "%s: exit status 0" % v)
        finals = [r for r in parse_reports(out) if r["final"]]
        if not tap.eq(len(finals), 1, "%s: final report" % v):
            return
        counts = scale_counts(finals[0])
        tap.eq(counts, SCALE_GROUPS, "%s: every parked goroutine, by group" % v)
        tap.eq(sum(counts.values()), SCALE_N,
               "%s: exactly %d parked goroutines" % (v, SCALE_N))
        tap.ok("goroutines were already parked" in err,
               "%s: attach snapshot" % v, err)
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        zoo.stop()


def run_all(tap, version, flavour):
    run_version(tap, version, flavour)
    run_sema(tap, version, flavour)
    if flavour == "":
        run_scale(tap, version)


def main():
    per_version(run_all, FLAVOURS)


if __name__ == "__main__":
    main()
