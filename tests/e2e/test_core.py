"""The core tracer against parkzoo, for every Go version in the matrix and
its normal, stripped (-s -w) and PIE builds: exact counts per group, the
runtime's wait-reason names, top user frame function and line, the creation
site, the immediate caller of gopark, goroutines that woke (netpoll, close;
runtime.ready is not probed) leaving the report, and every reported goroutine's frames equal to the
runtime's own SIGQUIT traceback of it."""
import os
import signal

from glt import (FLAVOURS, TOOL, Process, check_dump, check_group, counters,
                 find_group, fixture, label, load_bias, markers,
                 parse_reports, per_version, top_user_frame)

# (function, marker, count, frames that must follow runtime.gopark)
GROUPS = [
    ("main.chanRecv", "chanrecv", 2, ["runtime.chanrecv", "runtime.chanrecv1"]),
    ("main.chanSend", "chansend", 3, ["runtime.chansend", "runtime.chansend1"]),
    ("main.selectTwo", "select", 4, ["runtime.selectgo"]),
    ("main.nilRecv", "nilrecv", 5, ["runtime.chanrecv", "runtime.chanrecv1"]),
    ("main.selectEmpty", "selectempty", 6, ["runtime.block"]),
    ("main.mutexLock", "mutex", 2, []),
    ("main.rwRLock", "rwmutex", 3, []),
    ("main.wgWait", "waitgroup", 4, []),
    ("main.condWait", "cond", 2, []),
    ("main.sleepLong", "sleep", 3, ["time.Sleep"]),
    ("main.netRead", "netread", 2, []),
]


def minor(version):
    return int(version.split(".")[1])


def wait_reason(marker, version):
    """The runtime's own names, as each version's runtime2.go spells them."""
    named_sync = minor(version) >= 21
    return {
        "chanrecv": "chan receive",
        "chansend": "chan send",
        "select": "select",
        "nilrecv": "chan receive (nil chan)",
        "selectempty": "select (no cases)",
        "mutex": "sync.Mutex.Lock" if named_sync else "semacquire",
        "rwmutex": "sync.RWMutex.RLock" if named_sync else "semacquire",
        "waitgroup": "sync.WaitGroup.Wait" if minor(version) >= 24 else "semacquire",
        "cond": "sync.Cond.Wait",
        "sleep": "sleep",
        "netread": "IO wait",
        "released": "chan receive",
        "spinread": "IO wait",
    }[marker]


def check_groups(tap, v, version, final):
    """The eleven parkzoo groups of a final report, exactly."""
    lines = markers("parkzoo", "LINE")
    gos = markers("parkzoo", "GO")
    for func, marker, count, callers in GROUPS:
        what = "%s: %s" % (v, func)
        groups = find_group(final, func)
        if not tap.eq(len(groups), 1, what + " is one group"):
            continue
        g = groups[0]
        check_group(tap, what, g, "parkzoo", count,
                    wait_reason(marker, version), lines[marker], gos[marker])
        funcs = [f[0] for f in g["frames"]]
        tap.eq(funcs[0] if funcs else None, "runtime.gopark",
               what + " innermost frame is runtime.gopark")
        if callers:
            tap.eq(funcs[1:1 + len(callers)], callers,
                   what + " gopark's callers")
        tap.eq(len(g["goids"]), min(count, 8), what + " example goids")


def run_version(tap, version, flavour=""):
    v = label(version, flavour)
    path = fixture(version, "parkzoo" + flavour)
    if not tap.ok(os.path.exists(path), "%s: parkzoo%s is built" %
                  (v, flavour)):
        return
    zoo = Process([path, "-wake", "4s", "-release", "4s"],
                  env=dict(os.environ, GOTRACEBACK="all"))
    tracer = None
    try:
        m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
        if not tap.ok(m, "%s: fixture started" % v):
            return
        pid = int(m.group(1))
        bias = load_bias(path, pid)
        tracer = Process([TOOL, "-p", str(pid), "-t", "1s", "-i", "1s", "-d", "9s"])
        m, seen = tracer.wait_line("stderr", r"tracing pid %d" % pid)
        if not tap.ok(m, "%s: goleaktrace attached" % v, "\n".join(seen)):
            return
        os.kill(pid, signal.SIGUSR1)
        out, err = tracer.finish(timeout=30)
        tap.eq(tracer.p.returncode, 0, "%s: exit status 0 after --duration" % v)
        reports = parse_reports(out)
        finals = [r for r in reports if r["final"]]
        if not tap.eq(len(finals), 1, "%s: one final report" % v):
            print("# stdout:\n# " + out.replace("\n", "\n# "))
            print("# stderr:\n# " + err.replace("\n", "\n# "))
            return
        final = finals[0]
        check_groups(tap, v, version, final)
        # Woken through netpoll (no runtime.ready), then spinning.
        spun = [r for r in reports if find_group(r, "main.readThenSpin")]
        tap.ok(spun and not spun[0]["final"],
               "%s: netpoll reader reported while parked" % v)
        tap.eq(find_group(final, "main.readThenSpin"), [],
               "%s: netpoll-woken spinner not reported" % v)
        rel = [r for r in reports if find_group(r, "main.waitRelease")]
        tap.ok(rel and find_group(rel[0], "main.waitRelease")[0]["count"] == 3,
               "%s: 3 release waiters reported while parked" % v)
        # Woken through runtime.ready, which is not probed: two exited,
        # one blocks in read(2) with its park still in the map. The
        # status check skips it, and the spinner.
        tap.eq(find_group(final, "main.waitRelease"), [],
               "%s: woken goroutines leave the report" % v)
        c = counters(final)
        tap.ok(c.get("skipped woken since parked", 0) >= 2,
               "%s: the woken ones are counted as skipped" % v, c)
        drops = {k: n for k, n in c.items() if k.startswith("dropped") and n}
        tap.eq(drops, {}, "%s: nothing dropped" % v)
        tap.ok(c.get("events spawns", 0) >= 41, "%s: spawns counted" % v, c)
        check_dump(tap, v, path, zoo, final, bias)
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        zoo.stop()


def main():
    per_version(run_version, FLAVOURS)


if __name__ == "__main__":
    main()
