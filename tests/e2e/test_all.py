"""--all: one goleaktrace, one BPF object, several Go processes built with
different Go versions (so different struct offsets, kept per binary in the
binaries map). Each process's final report must hold exactly the groups
the core test asserts for it; a process started after attach joins at the
next interval, and one that exits leaves without ending the trace."""
import os
import re
import signal

from glt import TOOL, Process, Tap, fixture, go_versions, is_root, parse_reports
from test_core import check_groups


def reports_by_pid(text):
    out = {}
    for r in parse_reports(text):
        m = re.search(r": pid (\d+) \(", r["header"])
        if m:
            out.setdefault(int(m.group(1)), []).append(r)
    return out


def start_zoo(tap, version, flavour=""):
    path = fixture(version, "parkzoo" + flavour)
    if not tap.ok(os.path.exists(path), "go%s: parkzoo%s is built" %
                  (version, flavour)):
        return None, None
    zoo = Process([path, "-wake", "4s", "-release", "4s"])
    m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
    tap.ok(m, "go%s%s: fixture started" % (version, flavour))
    return zoo, int(m.group(1)) if m else None


def main():
    tap = Tap()
    versions = go_versions()
    if not is_root():
        tap.skip("end-to-end tests need root")
        tap.done()
        return
    if not tap.ok(len(versions) >= 2, "two Go versions are built", versions):
        tap.done()
        return
    # Oldest and newest at attach; a stripped middle one joins later.
    first, last = versions[0], versions[-1]
    late = versions[len(versions) // 2]
    zoos, tracer = [], None
    try:
        for version in (first, last):
            zoos.append((version,) + start_zoo(tap, version))
        tracer = Process([TOOL, "--all", "-t", "1s", "-i", "1s", "-d", "10s"])
        m, seen = tracer.wait_line("stderr", r"watching (\d+) Go process")
        if not tap.ok(m, "--all attached", "\n".join(seen)):
            return
        for _, zoo, pid in zoos:
            tap.ok(any("tracing pid %d " % pid in line for line in seen),
                   "pid %d is traced from the start" % pid)
            os.kill(pid, signal.SIGUSR1)
        zoo, pid = start_zoo(tap, late, "-sw")
        zoos.append((late, zoo, pid))
        m, _ = tracer.wait_line("stderr", r"tracing pid %d " % pid, timeout=5)
        tap.ok(m, "a process started after attach joins")
        os.kill(pid, signal.SIGUSR1)
        # A short-lived Go process: it leaves, the trace goes on.
        gone, gone_pid = start_zoo(tap, first)
        tracer.wait_line("stderr", r"tracing pid %d " % gone_pid, timeout=5)
        gone.stop(signal.SIGKILL)
        m, _ = tracer.wait_line("stderr", r"pid %d exited" % gone_pid,
                                timeout=5)
        tap.ok(m, "an exited process is noticed")
        out, err = tracer.finish(timeout=40)
        tap.eq(tracer.p.returncode, 0, "--all: exit status 0")
        by_pid = reports_by_pid(out)
        tap.ok(gone_pid not in by_pid or
               not any(r["final"] for r in by_pid[gone_pid]),
               "the exited process has no final report")
        for version, _, pid in zoos:
            finals = [r for r in by_pid.get(pid, []) if r["final"]]
            v = "go%s pid %d" % (version, pid)
            if not tap.eq(len(finals), 1, "%s: one final report" % v):
                print("# stderr:\n# " + err.replace("\n", "\n# "))
                continue
            tap.ok("go%s" % version in finals[0]["header"],
                   "%s: header names its Go version" % v,
                   finals[0]["header"])
            check_groups(tap, v, version, finals[0])
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        for _, zoo, _ in zoos:
            if zoo:
                zoo.stop()
    tap.done()


if __name__ == "__main__":
    main()
