"""Bad input gets one clear line on stderr and exit status 1 (environment)
— a zombie, PID 1, a shell script, Go versions outside what the tool
knows in a stripped binary, a zeroed or truncated pclntab — and the tool
never crashes on it."""
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time

from glt import TOOL, Tap, fixture, go_versions, is_root


def run(argv, timeout=20):
    p = subprocess.run([TOOL] + argv, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def one_line(tap, what, rc, err, want_rc, words):
    tap.eq(rc, want_rc, "%s: exit status %d" % (what, want_rc))
    tap.ok(err.count("\n") == 1 and all(w in err for w in words),
           "%s: one line saying %s" % (what, " / ".join(words)), err)


def sections(path):
    """{name: (offset, size)} of an ELF64 little-endian file."""
    with open(path, "rb") as f:
        data = f.read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
            for i in range(shnum)]
    stroff = hdrs[shstrndx][4]
    out = {}
    for h in hdrs:
        name = data[stroff + h[0]:data.index(b"\0", stroff + h[0])].decode()
        out[name] = (h[4], h[5])
    return out


def patched(src, dst, edit):
    shutil.copy(src, dst)
    with open(dst, "r+b") as f:
        edit(f, sections(dst))
    os.chmod(dst, 0o755)
    return dst


def set_version(version):
    """Rewrites the inline version string of .go.buildinfo (same length)."""
    def edit(f, secs):
        off, _ = secs[".go.buildinfo"]
        f.seek(off + 32)
        n = f.read(1)[0]
        f.seek(off + 33)
        f.write(version.encode().ljust(n, b" ")[:n])
    return edit


def zero_pclntab_header(f, secs):
    off, _ = secs[".gopclntab"]
    f.seek(off)
    f.write(b"\0" * 64)


def truncate_pclntab(f, secs):
    off, size = secs[".gopclntab"]
    f.seek(off + 64)
    f.write(b"\0" * (size - 64))


def check_process(tap, argv, what, want_rc, words, extra=()):
    """Starts argv, points goleaktrace at it, checks the one-line refusal."""
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        rc, out, err = run(["-p", str(p.pid), "-d", "1s"] + list(extra))
        one_line(tap, what, rc, err, want_rc, words)
    finally:
        p.kill()
        p.wait()


def main():
    tap = Tap()
    if not is_root():
        tap.skip("needs root")
        tap.done()
    # PID 1: whatever init is here, it is not a Go program we can read.
    rc, out, err = run(["-p", "1", "-d", "1s"])
    tap.eq(rc, 1, "pid 1: exit status 1")
    tap.ok(err.count("\n") == 1 and err.startswith("goleaktrace: "),
           "pid 1: one line", err)

    # A zombie: a child that exited and was not reaped.
    z = subprocess.Popen(["true"])
    time.sleep(0.3)
    rc, out, err = run(["-p", str(z.pid)])
    one_line(tap, "zombie", rc, err, 1, ["exited", "zombie"])
    z.wait()

    # A kernel without BTF, simulated by pointing at a missing file.
    v = go_versions()[-1]
    check_process(tap, [fixture(v, "parkzoo"), "-wake", "1h"], "kernel without BTF",
                  1, ["no kernel BTF", "CONFIG_DEBUG_INFO_BTF"],
                  extra=["--btf", "/nonexistent/vmlinux"])

    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "loop.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\nwhile :; do sleep 1; done\n")
        os.chmod(script, 0o755)
        check_process(tap, [script], "shell script", 1, ["not a Go program"])

        versions = go_versions()
        stripped = [fixture(v, "parkzoo-sw") for v in versions
                    if os.path.exists(fixture(v, "parkzoo-sw"))]
        normal = [fixture(v, "parkzoo") for v in versions]
        if stripped:
            newest = stripped[-1]
            for ver, what in [("go1.99.1", "Go newer than known"),
                              ("go1.17.9", "Go older than supported")]:
                bin_ = patched(newest, os.path.join(tmp, "zoo-" + ver),
                               set_version(ver))
                check_process(tap, [bin_], "%s, stripped" % what, 1,
                              [ver, "not supported", "DWARF"])
        else:
            tap.skip("no stripped fixtures (FIXTURE_FLAVORS=stripped)")
        # A Go program cannot even start with a broken pclntab, so these
        # go through --inspect, which reads a file the way -p reads a
        # process's executable.
        for path in normal:
            for edit, what in [(zero_pclntab_header, "zeroed .gopclntab"),
                               (truncate_pclntab, "truncated .gopclntab")]:
                bin_ = patched(path, os.path.join(tmp, "zoo-pcln"), edit)
                rc, out, err = run(["--inspect", bin_])
                one_line(tap, "%s: %s" % (path, what), rc, err, 1, ["pclntab"])
            rc, out, err = run(["--inspect", path])
            tap.eq(rc, 0, "%s: --inspect of a good binary exits 0" % path)
            tap.ok("runtime.gopark+" in out and "go1." in out,
                   "%s: --inspect shows version and probe points" % path, out)
    tap.done()


if __name__ == "__main__":
    main()
