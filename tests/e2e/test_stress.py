"""Never harm the target: goleaktrace attaches and detaches 200 times
(every 10th time killed with SIGKILL mid-run) around a Go program under
heavy goroutine churn — ping-pong, spawn storms, netpoll, timers, parked
goroutines with deep grown stacks. The program's checksum must be right,
it must exit 0, no probe may be left behind, and after the last detach it
must run at its baseline speed (the ratio is printed; the bound is loose
because this is a shared 2-core machine, the benchmark has the figures)."""
import re
import signal
import statistics
import subprocess
import time

from glt import Process, Tap, TOOL, fixture, go_versions, is_root

CYCLES = 200


def rates(lines):
    return [float(m.group(1)) for l in lines for m in [re.match(r"rate (\S+)", l)] if m]


def leftovers(pid):
    """Uprobes still attached to the program: perf events on its executable
    held by any process (the tracers we ran are all gone; other tools may
    run meanwhile, so only this target counts), and tracefs uprobes."""
    exe = "/proc/%s/exe" % pid
    perf = subprocess.run(["bpftool", "perf", "show"], capture_output=True,
                          text=True).stdout
    left = [l for l in perf.splitlines() if exe in l]
    try:
        with open("/sys/kernel/tracing/uprobe_events") as f:
            left += [l.strip() for l in f if exe in l or "churn" in l]
    except OSError:
        pass
    return left


def main():
    tap = Tap()
    if not is_root():
        tap.skip("needs root")
        tap.done()
    version = go_versions()[-1]
    v = "go" + version
    churn = Process([fixture(version, "churn"), "-seconds", "400", "-window", "2s"])
    try:
        m, _ = churn.wait_line("stdout", r"ready pid=(\d+)")
        pid = m.group(1)
        time.sleep(6.5)
        baseline = rates(churn.lines["stdout"])
        killed = failed = 0
        for i in range(CYCLES):
            if i % 10 == 9:
                t = Process([TOOL, "-p", pid, "-t", "1s", "-i", "1s"])
                t.wait_line("stderr", r"tracing pid", timeout=10)
                time.sleep(0.2)
                t.p.send_signal(signal.SIGKILL)
                t.finish(timeout=10)
                killed += 1
            else:
                p = subprocess.run([TOOL, "-p", pid, "-t", "1s", "-d", "100ms"],
                                   capture_output=True, text=True, timeout=30)
                failed += p.returncode != 0
        tap.eq(failed, 0, "%s: %d attach/detach cycles end with status 0"
               % (v, CYCLES - killed))
        tap.eq(killed, CYCLES // 10, "%s: tracer killed with SIGKILL %d times"
               % (v, killed))
        tap.eq(leftovers(pid), [], "%s: no BPF program, link or uprobe left" % v)
        seen = len(churn.lines["stdout"])
        time.sleep(6.5)
        after = rates(churn.lines["stdout"][seen:])
        ratio = statistics.median(after) / statistics.median(baseline)
        print("# %s: rounds/s before any attach %.0f, after the last detach "
              "%.0f: ratio %.2f" % (v, statistics.median(baseline),
                                    statistics.median(after), ratio))
        tap.ok(ratio >= 0.6, "%s: back to baseline speed after detach" % v,
               "ratio %.2f" % ratio)
    finally:
        # SIGTERM ends the run; the program then checks its checksum.
        churn.p.send_signal(signal.SIGTERM)
        out, _ = churn.finish(timeout=60)
    tap.eq(churn.p.returncode, 0, "%s: the program exits 0" % v)
    tap.ok("checksum ok" in out, "%s: checksum correct" % v, out[-300:])
    tap.done()


if __name__ == "__main__":
    main()
