"""make static: goleaktrace-static has no runtime dependency. file and ldd
say so, the ELF has no interpreter and no NEEDED entry, and it runs
--help and --inspect inside an empty chroot holding only itself and a
fixture, with the same --inspect output as the dynamic build for every Go
version and flavour; as root it also traces a fixture."""
import os
import shutil
import signal
import subprocess
import tempfile

from glt import (FLAVOURS, ROOT, TOOL, Process, Tap, find_group, fixture,
                 go_versions, is_root, label, parse_reports)

STATIC = os.path.join(ROOT, "goleaktrace-static")


def run(argv, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)
    return p.returncode, p.stdout, p.stderr


def check_binary(tap):
    rc, out, _ = run(["file", "-b", STATIC])
    tap.ok(rc == 0 and "statically linked" in out,
           "file: statically linked", out)
    rc, out, err = run(["ldd", STATIC])
    tap.ok(rc != 0 and "not a dynamic executable" in out + err,
           "ldd: not a dynamic executable", out + err)
    rc, out, _ = run(["readelf", "-ldW", STATIC])
    tap.ok(rc == 0 and "INTERP" not in out and "(NEEDED)" not in out,
           "readelf: no interpreter, no NEEDED libraries", out[:2000])


def check_inspect(tap, versions):
    """Same analysis as the dynamic build, for every Go and flavour."""
    for version in versions:
        for flavour in FLAVOURS:
            path = fixture(version, "parkzoo" + flavour)
            what = "--inspect %s" % label(version, flavour)
            rc, out, err = run([STATIC, "--inspect", path])
            _, want, _ = run([TOOL, "--inspect", path])
            tap.ok(rc == 0 and out == want and "go%s" % version in out,
                   what + ": same output as the dynamic build", out + err)


def check_chroot(tap, version):
    """Nothing but the binary and a fixture in the root it runs in."""
    root = tempfile.mkdtemp(prefix="glt-static-")
    try:
        shutil.copy(STATIC, os.path.join(root, "goleaktrace"))
        shutil.copy(fixture(version, "parkzoo-sw"),
                    os.path.join(root, "server"))
        rc, out, _ = run(["chroot", root, "/goleaktrace", "--help"])
        tap.ok(rc == 0 and "EXAMPLES" in out, "chroot: --help", out)
        rc, out, err = run(["chroot", root, "/goleaktrace", "--inspect",
                            "/server"])
        tap.ok(rc == 0 and out.startswith("goleaktrace: /server: go%s" %
                                          version),
               "chroot: --inspect a stripped fixture", out + err)
    finally:
        shutil.rmtree(root)


def check_trace(tap, version):
    zoo = Process([fixture(version, "parkzoo"), "-wake", "1h", "-release",
                   "1h"])
    tracer = None
    try:
        m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
        if not tap.ok(m, "trace: fixture started"):
            return
        pid = int(m.group(1))
        tracer = Process([STATIC, "-p", str(pid), "-t", "1s", "-i", "1s",
                          "-d", "4s"])
        # parkzoo parks its goroutines on SIGUSR1, once traced.
        if tap.ok(tracer.wait_line("stderr", r"tracing pid")[0],
                  "trace: attached"):
            os.kill(pid, signal.SIGUSR1)
        out, err = tracer.finish(timeout=30)
        tap.eq(tracer.p.returncode, 0, "trace: exit status 0")
        finals = [r for r in parse_reports(out) if r["final"]]
        g = finals and find_group(finals[0], "main.chanRecv")
        tap.ok(g and g[0]["count"] == 2, "trace: the static build reports "
               "parkzoo's 2 receivers", out + err)
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        zoo.stop()


def main():
    tap = Tap()
    versions = go_versions()
    if not tap.ok(os.path.exists(STATIC), "goleaktrace-static is built "
                  "(make static)"):
        tap.done()
    check_binary(tap)
    rc, out, _ = run([STATIC, "--help"])
    tap.ok(rc == 0 and "EXAMPLES" in out, "--help", out)
    if not versions or not os.path.exists(TOOL):
        tap.ok(False, "goleaktrace and the Go fixtures are built")
        tap.done()
    check_inspect(tap, versions)
    if is_root():
        check_chroot(tap, versions[-1])
        check_trace(tap, versions[-1])
    else:
        tap.skip("chroot and tracing need root")
    tap.done()


if __name__ == "__main__":
    main()
