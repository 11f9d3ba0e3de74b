"""Output files are never written through a symlink planted in a shared
directory: a link at the -o file, at its temporary file (created with
O_EXCL|O_NOFOLLOW under a name known in advance), a link planted at the
-o file while tracing, and a symlinked -o DIR/ inside a world-writable
directory. Each time the link's target is untouched and goleaktrace
refuses in one line, with exit status 1."""
import os
import signal
import tempfile
import time

from glt import TOOL, Process, Tap, fixture, go_versions, is_root

NORMAL = ("tracing pid", "goroutines were already parked", "profile written")
SECRET = b"not yours\n"


def errors(err):
    """goleaktrace's lines on stderr, less the ones every run prints."""
    return [l for l in err.splitlines()
            if l.startswith("goleaktrace:") and not any(n in l for n in NORMAL)]


def victim(root):
    """A file the links point to, in a directory of its own."""
    d = os.path.join(root, "victim")
    os.mkdir(d, 0o700)
    path = os.path.join(d, "secret")
    with open(path, "wb") as f:
        f.write(SECRET)
    return path


def untouched(path):
    with open(path, "rb") as f:
        return f.read() == SECRET and os.stat(path).st_mode & 0o777 == 0o644


def shared_dir(root):
    """A directory like /tmp: world-writable and sticky."""
    d = os.path.join(root, "shared")
    os.mkdir(d)
    os.chmod(d, 0o1777)
    return d


def trace(pid, out, plant=None):
    """Runs goleaktrace -o out on pid; plant(tool_pid) runs once it
    traces. (exit status, stderr)."""
    tracer = Process([TOOL, "-p", str(pid), "-t", "100ms", "-i", "1h",
                      "-o", out])
    try:
        m, _ = tracer.wait_line("stderr", r"tracing pid", timeout=20)
        # Past the threshold, so that the report has groups to write.
        time.sleep(0.5)
        if m and plant:
            plant(tracer.p.pid)
        if m:
            tracer.p.send_signal(signal.SIGINT)
        _, err = tracer.finish()
        return tracer.p.returncode, err
    finally:
        tracer.stop()


def check_refusal(tap, what, rc, err, secret, word):
    lines = errors(err)
    tap.eq(rc, 1, "%s: exit status 1" % what)
    tap.ok(len(lines) == 1 and word in lines[0],
           "%s: one line that says %s" % (what, word), err)
    tap.ok(untouched(secret), "%s: the link's target is untouched" % what)


def main():
    tap = Tap()
    versions = go_versions()
    if not is_root():
        tap.skip("end-to-end tests need root")
        tap.done()
    if not versions:
        tap.ok(False, "Go fixtures are built (tools/build-fixtures.sh)")
        tap.done()
    os.umask(0o022)
    zoo = Process([fixture(versions[-1], "parkzoo"), "-wake", "1h",
                   "-release", "1h"])
    try:
        m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
        pid = int(m.group(1))
        os.kill(pid, signal.SIGUSR1)

        with tempfile.TemporaryDirectory() as root:
            secret, shared = victim(root), shared_dir(root)
            os.chmod(secret, 0o644)

            # 1. A link at the -o file: refused before attaching.
            out = os.path.join(shared, "leaks.pb.gz")
            os.symlink(secret, out)
            rc, err = trace(pid, out)
            check_refusal(tap, "symlink at the -o file", rc, err, secret,
                          "symlink")
            tap.ok(os.path.islink(out), "the planted link is left as it was")
            os.unlink(out)

            # 2. A link at the temporary file, planted while tracing: the
            # report is not written, nor the link followed.
            def plant_tmp(tool_pid):
                os.symlink(secret, os.path.join(
                    shared, ".leaks.pb.gz.%d.tmp" % tool_pid))
            rc, err = trace(pid, out, plant_tmp)
            check_refusal(tap, "symlink at the temporary file", rc, err,
                          secret, "temporary file")
            tap.ok(not os.path.exists(out),
                   "no profile written beside the planted temporary file")
            for f in os.listdir(shared):
                os.unlink(os.path.join(shared, f))

            # 3. A link at the -o file, planted after goleaktrace checked it.
            rc, err = trace(pid, out, lambda _: os.symlink(secret, out))
            check_refusal(tap, "symlink planted at the -o file while "
                          "tracing", rc, err, secret, "symlink")
            tap.ok(os.path.islink(out) and
                   os.readlink(out) == secret,
                   "the link planted while tracing is left as it was")
            os.unlink(out)

            # 4. -o DIR/ that is a link in a world-writable directory.
            target_dir = os.path.dirname(secret)
            link_dir = os.path.join(shared, "profiles")
            os.symlink(target_dir, link_dir)
            rc, err = trace(pid, link_dir + "/")
            check_refusal(tap, "-o DIR/ a symlink in a world-writable "
                          "directory", rc, err, secret, "symlink")
            tap.eq(sorted(os.listdir(target_dir)), ["secret"],
                   "nothing written where the directory link points")

            # Control: the same outputs, nothing planted, are written.
            os.unlink(link_dir)
            rc, err = trace(pid, out)
            tap.ok(rc == 0 and not errors(err) and os.path.isfile(out) and
                   not os.path.islink(out),
                   "nothing planted: the profile is written, exit 0", err)
            tap.eq(sorted(f for f in os.listdir(shared) if f.startswith(".")),
                   [], "no temporary file is left behind")
            own = os.path.join(root, "own")
            os.mkdir(own, 0o755)
            os.symlink(target_dir, os.path.join(own, "link"))
            rc, err = trace(pid, os.path.join(own, "link") + "/")
            tap.ok(rc == 0 and not errors(err) and
                   len(os.listdir(target_dir)) == 2,
                   "a directory link in a directory only root writes is "
                   "followed", err)
    finally:
        zoo.stop()
    tap.done()


if __name__ == "__main__":
    main()
