"""How goleaktrace starts and ends: usage errors exit 2, environment
failures exit 1 with one clear line, and Ctrl-C, SIGTERM, --duration and
the target's exit all end with a final report and status 0."""
import os
import signal
import subprocess
import time

from glt import (Process, Tap, TOOL, find_group, fixture, go_versions,
                 is_root, parse_reports)


def run(argv, timeout=20):
    p = subprocess.run([TOOL] + argv, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def check_usage(tap):
    for argv, word in [([], "-p PID (or --all) is required"),
                       (["-p", "abc"], "Invalid PID: abc"),
                       (["-p", "1", "-t", "10x"], "Invalid threshold: 10x"),
                       (["-p", "1", "-i", "0s"], "Invalid interval: 0s"),
                       (["-p", "1", "-d", "-5s"], "Invalid duration: -5s"),
                       (["-p", "1", "extra"], "Unexpected argument: extra"),
                       (["-p", "1", "--inspect", "/bin/true"], "exclude each other"),
                       (["-p", "1", "--no-probes", "--btf", "/x"], "no use with --no-probes")]:
        rc, out, err = run(argv)
        what = "usage: goleaktrace %s" % " ".join(argv)
        tap.eq(rc, 2, what + " exits 2")
        tap.ok(word in err, what + " says '%s'" % word, err)
    rc, out, err = run(["--help"])
    tap.eq(rc, 0, "--help exits 0")
    tap.ok("EXAMPLES" in out and "--threshold" in out, "--help has examples", out)


def check_environment(tap):
    # A PID that is not running: find a free one.
    pid = 4000000
    while os.path.exists("/proc/%d" % pid):
        pid += 1
    rc, out, err = run(["-p", str(pid)])
    tap.eq(rc, 1, "dead pid exits 1")
    tap.ok("no such process" in err and err.count("\n") == 1,
           "dead pid: one clear line", err)
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        rc, out, err = run(["-p", str(sleeper.pid)])
        tap.eq(rc, 1, "non-Go process exits 1")
        tap.ok("not a Go program" in err and err.count("\n") == 1,
               "non-Go process: one clear line", err)
    finally:
        sleeper.kill()
        sleeper.wait()
    # kthreadd is PID 2 on Linux; its stat flags carry PF_KTHREAD.
    fields = open("/proc/2/stat").read().rsplit(") ", 1)[1].split()
    kthread = "2" if int(fields[6]) & 0x200000 else None
    if kthread:
        rc, out, err = run(["-p", kthread])
        tap.eq(rc, 1, "kernel thread exits 1")
        tap.ok("kernel thread" in err, "kernel thread: says so", err)


def start_traced(tap, version, extra, zoo_args=()):
    zoo = Process([fixture(version, "parkzoo"), "-wake", "1h", "-release", "1h"]
                  + list(zoo_args))
    m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
    pid = int(m.group(1))
    tracer = Process([TOOL, "-p", str(pid), "-t", "500ms", "-i", "1s"] + extra)
    m, seen = tracer.wait_line("stderr", r"tracing pid")
    tap.ok(m, "go%s: attached" % version, "\n".join(seen))
    os.kill(pid, signal.SIGUSR1)
    return zoo, tracer, pid


def check_endings(tap, version):
    v = "go" + version
    for how in ["SIGINT", "SIGTERM", "target exit", "duration"]:
        extra = ["-d", "3s"] if how == "duration" else []
        zoo, tracer, pid = start_traced(tap, version, extra)
        try:
            time.sleep(2.5)
            if how == "SIGINT":
                tracer.p.send_signal(signal.SIGINT)
            elif how == "SIGTERM":
                tracer.p.send_signal(signal.SIGTERM)
            elif how == "target exit":
                zoo.stop(signal.SIGKILL)
            out, err = tracer.finish(timeout=20)
            tap.eq(tracer.p.returncode, 0, "%s: ends with 0 on %s" % (v, how))
            finals = [r for r in parse_reports(out) if r["final"]]
            tap.eq(len(finals), 1, "%s: final report on %s" % (v, how))
            if how != "target exit" and finals:
                tap.eq([g["count"] for g in find_group(finals[0], "main.selectEmpty")],
                       [6], "%s: final report has the groups on %s" % (v, how))
            if how == "target exit":
                tap.ok("exited" in err, "%s: says the target exited" % v, err)
            tap.ok(any(l.startswith("dropped:") for l in out.splitlines()),
                   "%s: drop counters printed on %s" % (v, how))
        finally:
            tracer.stop(signal.SIGKILL)
            zoo.stop(signal.SIGKILL)


def check_stop_and_exec(tap, version):
    v = "go" + version
    # SIGSTOP: the tool stays, says so, and ends normally.
    zoo, tracer, pid = start_traced(tap, version, ["-d", "5s"])
    try:
        time.sleep(1)
        os.kill(pid, signal.SIGSTOP)
        m, seen = tracer.wait_line("stderr", r"is stopped", timeout=5)
        tap.ok(m, "%s: says the target is stopped" % v, "\n".join(seen))
        time.sleep(1.5)
        tap.ok(tracer.p.poll() is None, "%s: still running while the target is stopped" % v)
        os.kill(pid, signal.SIGCONT)
        out, err = tracer.finish(timeout=20)
        tap.eq(tracer.p.returncode, 0, "%s: ends with 0 after a stop" % v)
        tap.ok("running again" in err, "%s: says the target runs again" % v, err)
        tap.eq(len([r for r in parse_reports(out) if r["final"]]), 1,
               "%s: final report after a stop" % v)
    finally:
        tracer.stop(signal.SIGKILL)
        zoo.stop(signal.SIGKILL)
    # exec: the probed executable is gone; end with a final report.
    zoo, tracer, pid = start_traced(tap, version, [], ["-exec", "2s"])
    try:
        out, err = tracer.finish(timeout=20)
        tap.eq(tracer.p.returncode, 0, "%s: ends with 0 when the target execs" % v)
        tap.ok("exec'd" in err, "%s: says the target exec'd" % v, err)
        tap.eq(len([r for r in parse_reports(out) if r["final"]]), 1,
               "%s: final report after exec" % v)
    finally:
        tracer.stop(signal.SIGKILL)
        zoo.stop(signal.SIGKILL)


def main():
    tap = Tap()
    if not os.path.exists(TOOL):
        tap.ok(False, "goleaktrace is built")
        tap.done()
    check_usage(tap)
    if not is_root():
        tap.skip("needs root")
        tap.done()
    check_environment(tap)
    versions = go_versions()
    if tap.ok(versions, "fixtures built"):
        check_endings(tap, versions[-1])
        check_stop_and_exec(tap, versions[-1])
    tap.done()


if __name__ == "__main__":
    main()
