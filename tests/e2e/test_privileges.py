"""Least privilege, checked with capsh: exactly CAP_BPF, CAP_PERFMON,
CAP_SYS_PTRACE and CAP_SYS_ADMIN are enough to trace; from Linux 6.6,
whose uprobe_multi links goleaktrace uses, CAP_SYS_ADMIN is not needed
(the kernel still demands it for uprobe perf events, which the hidden
--no-uprobe-multi uses, as on older kernels); --no-probes needs only
CAP_SYS_PTRACE; with less, one line says what is missing and the exit
status is 1."""
import os
import shutil
import signal
import subprocess

from glt import Process, Tap, TOOL, fixture, go_versions, is_root, parse_reports

TRACE_CAPS = ["cap_bpf", "cap_perfmon", "cap_sys_ptrace", "cap_sys_admin"]
NO_ADMIN = ["cap_bpf", "cap_perfmon", "cap_sys_ptrace"]


def has_uprobe_multi():
    release = os.uname().release.split("-")[0].split(".")
    return tuple(int(x) for x in release[:2]) >= (6, 6)


def bounding_set():
    out = subprocess.run(["capsh", "--print"], capture_output=True, text=True).stdout
    line = [l for l in out.splitlines() if l.startswith("Bounding set")][0]
    return line.split("=", 1)[1].strip().split(",")


def run_with(keep, args):
    drop = ",".join(c for c in bounding_set() if c not in keep)
    cmd = " ".join([TOOL] + args)
    p = subprocess.run(["capsh", "--drop=" + drop, "--", "-c", cmd],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def main():
    tap = Tap()
    if not is_root() or not shutil.which("capsh"):
        tap.skip("needs root and capsh")
        tap.done()
    version = go_versions()[-1]
    zoo = Process([fixture(version, "parkzoo"), "-wake", "1h", "-release", "1h"])
    try:
        m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
        pid = m.group(1)
        os.kill(int(pid), signal.SIGUSR1)
        args = ["-p", pid, "-t", "500ms", "-d", "1500ms"]
        enough = [(TRACE_CAPS, [], "the four tracing capabilities"),
                  (["cap_sys_ptrace"], ["--no-probes"],
                   "CAP_SYS_PTRACE alone, --no-probes")]
        if has_uprobe_multi():
            enough.append((NO_ADMIN, [], "without CAP_SYS_ADMIN, uprobe_multi"))
        for keep, extra, what in enough:
            rc, out, err = run_with(keep, args + extra)
            tap.eq(rc, 0, "%s: exit status 0" % what)
            finals = [r for r in parse_reports(out) if r["final"]]
            tap.ok(finals and any(g["count"] == 6 for g in finals[0]["groups"]),
                   "%s: reports the parked groups" % what, err)
            tap.ok("warning" not in err, "%s: no warning (the budget's "
                   "calibration too)" % what, err)
        perf = ["--no-uprobe-multi"] if has_uprobe_multi() else []
        for keep, word, what in [
                (NO_ADMIN, "CAP_SYS_ADMIN",
                 "without CAP_SYS_ADMIN, perf-event uprobes"),
                (["cap_perfmon", "cap_sys_ptrace"], "CAP_BPF",
                 "without CAP_BPF (nor CAP_SYS_ADMIN, which implies it)"),
                ([], "CAP_SYS_PTRACE", "without any capability")]:
            rc, out, err = run_with(keep, args + perf)
            lines = [l for l in err.splitlines() if l.startswith("goleaktrace:")]
            tap.eq(rc, 1, "%s: exit status 1" % what)
            tap.ok(len(lines) == 1 and word in lines[0],
                   "%s: one line naming %s" % (what, word), err)
    finally:
        zoo.stop()
    tap.done()


if __name__ == "__main__":
    main()
