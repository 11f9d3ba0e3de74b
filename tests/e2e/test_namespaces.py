"""A target in its own PID and mount namespaces, made with the kernel's own
mechanisms (unshare from util-linux): parkzoo runs as PID 1 of a new PID
namespace, from a copy of its binary on a tmpfs mounted only in the
target's mount namespace, so its path does not exist where goleaktrace
runs. goleaktrace attaches by the PID it sees and must report exactly the
groups the core test asserts, (1) from the host, (2) from another private
mount namespace (a privileged pod with hostPID: true), and (3) from
inside a PID namespace of its own, one level above the target's."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

from glt import (Process, Tap, TOOL, fixture, go_versions, is_root,
                 parse_reports)
from test_core import check_groups

UNSHARE = shutil.which("unshare")
NSENTER = shutil.which("nsenter")


def find_pids(comm):
    """PIDs (as this /proc numbers them) whose comm is comm."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % d) as f:
                if f.read().strip() == comm:
                    pids.append(int(d))
        except OSError:
            pass
    return pids


def ns_pids(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("NSpid:"):
                return [int(x) for x in line.split()[1:]]
    return []


def start_holder():
    """An outer PID + mount namespace to run goleaktrace in: returns the
    unshare process and the host PID of the namespace's init."""
    holder = subprocess.Popen([UNSHARE, "--pid", "--fork", "--mount",
                               "--mount-proc", "sleep", "1000"])
    deadline = time.time() + 5
    while time.time() < deadline:
        path = "/proc/%d/task/%d/children" % (holder.pid, holder.pid)
        with open(path) as f:
            kids = f.read().split()
        if kids:
            return holder, int(kids[0])
        time.sleep(0.05)
    return holder, None


def start_contained(tap, version, mnt, name, prefix=()):
    """parkzoo as PID 1 of new PID + mount namespaces, run from a tmpfs
    at mnt that only that mount namespace sees. Returns (proc, host pid)."""
    script = ("mount -t tmpfs glt-ns %s && cp %s %s/%s && exec %s/%s "
              "-wake 1h -release 1h" % (mnt, fixture(version, "parkzoo"),
                                        mnt, name, mnt, name))
    zoo = Process(list(prefix) + [UNSHARE, "--pid", "--fork", "--mount", "--mount-proc",
                   "--propagation", "private", "sh", "-c", script])
    m, seen = zoo.wait_line("stdout", r"ready pid=(\d+)")
    tap.ok(m and m.group(1) == "1", "go%s: fixture is PID 1 in its "
           "namespace" % version, "\n".join(seen))
    deadline = time.time() + 5
    pids = []
    while not pids and time.time() < deadline:
        pids = find_pids(name)
        time.sleep(0.05)
    return zoo, (pids[0] if len(pids) == 1 else None)


def check_final(tap, what, version, out):
    """The same groups, counts, lines and creators as the core test."""
    finals = [r for r in parse_reports(out) if r["final"]]
    if not tap.eq(len(finals), 1, what + ": one final report"):
        print("# " + out.replace("\n", "\n# "))
        return
    check_groups(tap, what, version, finals[0])


def run_case(tap, version, how):
    what = "go%s, %s" % (version, how)
    mnt = tempfile.mkdtemp(prefix="glt-ns-")
    # comm is at most 15 characters; one name per case.
    run_case.n = getattr(run_case, "n", 0) + 1
    name = "zoo-%d-%d" % (os.getpid() % 100000, run_case.n)
    holder = init = None
    prefix = []
    if how == "own PID namespace":
        holder, init = start_holder()
        prefix = [NSENTER, "-t", str(init), "-p", "-m"]
    zoo, pid = start_contained(tap, version, mnt, name, prefix)
    tracer = None
    try:
        if not tap.ok(pid, what + ": host PID of the fixture found"):
            return
        exe = os.readlink("/proc/%d/exe" % pid)
        tap.ok(not os.path.exists(exe), what + ": its binary path %s does "
               "not exist on the host" % exe)
        tap.eq(ns_pids(pid)[-1:], [1], what + ": NSpid ends in 1")
        argv = [TOOL, "-t", "1s", "-i", "1s", "-d", "6s"]
        expect = pid
        if how == "host":
            argv += ["-p", str(pid)]
        elif how == "private mount namespace":
            # Another mount namespace with its own tmpfs over mnt: the
            # target's binary is not reachable by path from here either.
            argv = [UNSHARE, "--mount", "--propagation", "private", "sh",
                    "-c", 'mount -t tmpfs other "$0" && exec "$@"', mnt] + \
                argv + ["-p", str(pid)]
        else:
            # goleaktrace in a PID namespace of its own, the parent of
            # the target's, whose /proc numbers the target differently:
            # it must use that PID, never the host's nor the innermost.
            expect = ns_pids(pid)[1]
            argv = prefix + argv + ["-p", str(expect)]
        tracer = Process(argv)
        m, seen = tracer.wait_line(
            "stderr", r"tracing pid (\d+) \(pid 1 in its container\)")
        if not tap.ok(m, what + ": attached, names the container PID",
                      "\n".join(seen)):
            return
        tap.eq(int(m.group(1)), expect, what + ": traces the PID it was "
               "given")
        os.kill(pid, signal.SIGUSR1)
        out, err = tracer.finish(timeout=30)
        tap.eq(tracer.p.returncode, 0, what + ": exit status 0")
        check_final(tap, what, version, out)
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        zoo.stop(signal.SIGKILL)
        if holder:
            holder.kill()
            holder.wait()
        os.rmdir(mnt)


def main():
    tap = Tap()
    versions = go_versions()
    if not is_root():
        tap.skip("needs root")
    elif not UNSHARE or not NSENTER:
        tap.skip("needs unshare and nsenter (util-linux)")
    elif not os.path.exists(TOOL):
        tap.ok(False, "goleaktrace is built")
    elif not versions:
        tap.ok(False, "Go fixtures are built (tools/build-fixtures.sh)")
    else:
        for how in ["host", "private mount namespace", "own PID namespace"]:
            run_case(tap, versions[-1], how)
        run_case(tap, versions[0], "host")
    tap.done()


if __name__ == "__main__":
    main()
