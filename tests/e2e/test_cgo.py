"""goleaktrace on a cgo program (cgozoo: CGO_ENABLED=1, external linker, C
code before runtime.text), for every Go version in the matrix and its
normal, stripped (-s -w) and PIE builds:

  - goroutines parked on channels: exact groups, counts, wait reasons,
    file:line and creation sites, as on parkzoo;
  - goroutines blocked inside a C call (a read on a pipe, a sleep) are in
    _Gsyscall, running C code, not parked: the runtime's own dump says
    "syscall", and goleaktrace never reports them (they may return any
    moment; it reports parked goroutines only);
  - goroutines parked in Go after C called back into Go: reported, with
    the whole cgo call below the callback (runtime.cgocallback, cgocall,
    main._Cfunc_*, the Go caller), as the runtime's traceback shows it;
  - every reported goroutine's frames equal the runtime's SIGQUIT
    traceback of it."""
import os
import signal

from glt import (FLAVOURS, Process, Tap, TOOL, check_dump, check_group,
                 counters, find_group, fixture, go_versions, is_root, label,
                 load_bias, markers, parse_dump, parse_reports)

# (function, marker, count, wait reason)
PARKED = [
    ("main.chanRecv", "chanrecv", 2, "chan receive"),
    ("main.chanSend", "chansend", 3, "chan send"),
    ("main.goCallback", "callback", 2, "chan receive"),
]
# Blocked in C: never a group.
IN_C = ["main.cRead", "main.cSleep"]
# Below main.goCallback, innermost first (after the _cgoexp_ wrapper).
CGO_CALL = ["runtime.cgocallbackg1", "runtime.cgocallbackg",
            "runtime.cgocallback", "runtime.systemstack_switch",
            "runtime.cgocall", "main._Cfunc_callIntoGo", "main.callC"]


def has_frame(group, func):
    return any(f[0] == func for f in group["frames"])


def run_version(tap, version, flavour):
    lines = markers("cgozoo", "LINE")
    gos = markers("cgozoo", "GO")
    v = label(version, flavour)
    path = fixture(version, "cgozoo" + flavour)
    if not tap.ok(os.path.exists(path), "%s: cgozoo%s is built" %
                  (v, flavour)):
        return
    zoo = Process([path, "-release", "3s"],
                  env=dict(os.environ, GOTRACEBACK="all"))
    tracer = None
    try:
        m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
        if not tap.ok(m, "%s: fixture started" % v):
            return
        pid = int(m.group(1))
        bias = load_bias(path, pid)
        tracer = Process([TOOL, "-p", str(pid), "-t", "1s", "-i", "1s",
                          "-d", "6s"])
        m, seen = tracer.wait_line("stderr", r"tracing pid %d" % pid)
        if not tap.ok(m, "%s: goleaktrace attached" % v, "\n".join(seen)):
            return
        os.kill(pid, signal.SIGUSR1)
        out, err = tracer.finish(timeout=30)
        tap.eq(tracer.p.returncode, 0, "%s: exit status 0" % v)
        tap.ok("warning" not in err, "%s: no warning" % v, err)
        reports = parse_reports(out)
        finals = [r for r in reports if r["final"]]
        if not tap.eq(len(finals), 1, "%s: one final report" % v):
            print("# " + (out + err).replace("\n", "\n# "))
            return
        final = finals[0]
        for func, marker, count, reason in PARKED:
            what = "%s: %s" % (v, func)
            groups = find_group(final, func)
            if not tap.eq(len(groups), 1, what + " is one group"):
                continue
            go_marker = "callc" if marker == "callback" else marker
            check_group(tap, what, groups[0], "cgozoo", count, reason,
                        lines[marker], gos[go_marker])
        cb = find_group(final, "main.goCallback")
        if cb:
            funcs = [f[0].replace("(...)", "") for f in cb[0]["frames"]]
            i = funcs.index("main.goCallback")
            below = [f for f in funcs[i + 1:] if not f.startswith("_cgoexp_")]
            tap.eq(below, CGO_CALL, "%s: the cgo call below the callback" % v)
            tap.eq(cb[0]["frames"][-1][2], lines["callc"],
                   "%s: line of the C call in main.callC" % v)
        in_c = [(r["header"], f) for r in reports for g in r["groups"]
                for f in IN_C if has_frame(g, f)]
        tap.eq(in_c, [], "%s: goroutines blocked in C never reported" % v)
        rel = [r for r in reports if find_group(r, "main.waitRelease")]
        tap.ok(rel and find_group(rel[0], "main.waitRelease")[0]["count"] == 3,
               "%s: 3 release waiters reported while parked" % v)
        tap.eq(find_group(final, "main.waitRelease"), [],
               "%s: woken and exited goroutines leave the report" % v)
        c = counters(final)
        drops = {k: n for k, n in c.items() if k.startswith("dropped") and n}
        tap.eq(drops, {}, "%s: nothing dropped" % v)
        dump = parse_dump(check_dump(tap, v, path, zoo, final, bias))
        status = sorted(st for st, fs in dump.values()
                        if any(fr[0] in IN_C for frames, _ in fs
                               for fr in frames))
        tap.ok(len(status) == 3 and all(s.startswith("syscall")
                                        for s in status),
               "%s: the runtime has the 3 goroutines in C in syscall" % v,
               status)
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        zoo.stop()


def main():
    tap = Tap()
    versions = go_versions()
    if not is_root():
        tap.skip("end-to-end tests need root")
    elif not os.path.exists(TOOL):
        tap.ok(False, "goleaktrace is built")
    elif not versions:
        tap.ok(False, "Go fixtures are built (tools/build-fixtures.sh)")
    for version in versions if is_root() else []:
        for flavour in FLAVOURS:
            run_version(tap, version, flavour)
    tap.done()


if __name__ == "__main__":
    main()
