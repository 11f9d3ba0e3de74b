"""goleaktrace's symbolizer (user/gobin.c over the pclntab, driven through
.output/symbolize) against the Go toolchain that built each fixture, for
every Go version in the matrix, on the normal, -s -w and PIE builds of
parkzoo and of cgozoo (cgo, external linker):

  - the function table: every entry named as in .symtab (`go tool nm`);
    a stripped build's table equals its unstripped twin's;
  - every function entry and a few thousand random PCs: the function and
    file:line that `go tool addr2line` prints, exactly;
  - inlined frames: the runtime's own SIGQUIT (GOTRACEBACK=all) traceback
    of the running fixture; every physical frame's pc expands into the
    same logical frames (function, file:line), for every goroutine.

Known differences, handled explicitly and narrowly:
  - addr2line prints ":-1" where a function's pc-value table does not
    cover the PC (alignment padding after its code); ours "?:0";
  - the empty go:textfips* markers (1.24+) have no line table: addr2line
    prints a negative line ":-N" there, ours "?:0";
  - Go 1.19's addr2line answers "?" for every PC of a PIE: asserted as
    such, and those builds are checked against .symtab and tracebacks;
  - on a stripped cgo build addr2line takes .text's start as the base of
    the function table (there is no runtime.text symbol left), misplacing
    every function by the C code the external linker put first: the
    reference there is addr2line on the unstripped twin, whose code and
    function table are the same (checked).
Needs no root; skips the traceback check for binaries it cannot run."""
import os
import random
import re
import signal
import subprocess
import time

from glt import (BUILD, FLAVOURS, ROOT, SYMBOLIZE, Process, Tap, go_versions,
                 load_bias, parse_dump, symbolize_frames, symbolize_table,
                 tracepc)

CACHE = os.environ.get("GOLEAKTRACE_CACHE",
                       os.path.join(os.path.expanduser("~"), ".cache",
                                    "goleaktrace"))
FIXTURES = ["parkzoo", "cgozoo"]
RANDOM_PCS = 3000
MAX_DETAIL = 10


def goroot(version):
    out = subprocess.run([os.path.join(ROOT, "tools", "go-toolchains.sh"),
                          "--goroot", version], capture_output=True,
                         text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def go_tool(version, root, args, stdin=None):
    """`go tool ARGS` of that toolchain, never another one."""
    env = dict(os.environ, GOROOT=root, GOTOOLCHAIN="local",
               GO111MODULE="off",
               GOCACHE=os.path.join(CACHE, "gocache", version))
    out = subprocess.run([os.path.join(root, "bin", "go"), "tool"] + args,
                         input=stdin, capture_output=True, text=True,
                         env=env)
    if out.returncode != 0:
        raise RuntimeError("go tool %s: %s" % (args[0], out.stderr.strip()))
    return out.stdout


def pairs(text):
    lines = text.splitlines()
    return [(lines[i], lines[i + 1]) for i in range(0, len(lines) - 1, 2)]


def ours_addr2line(path, pcs):
    stdin = "".join("0x%x\n" % pc for pc in pcs)
    out = subprocess.run([SYMBOLIZE, path], input=stdin,
                         capture_output=True, text=True, check=True).stdout
    return pairs(out)


def go_addr2line(version, root, path, pcs):
    stdin = "".join("0x%x\n" % pc for pc in pcs)
    return pairs(go_tool(version, root, ["addr2line", path], stdin))


def nm_text(version, root, path):
    """{address: {names}} of the text symbols in .symtab."""
    syms = {}
    for line in go_tool(version, root, ["nm", path]).splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[1] in ("T", "t"):
            syms.setdefault(int(parts[0], 16), set()).add(parts[2])
    return syms


def normalise(theirs, ours_func):
    """addr2line's spellings of "unknown line" as ours (see the top)."""
    func, fileline = theirs
    if fileline == ":-1":
        return func, "?:0"
    if (re.match(r"^:-\d+$", fileline) and
            ours_func.startswith("go:textfips")):
        return func, "?:0"
    return theirs


def mismatches(pcs, ours, theirs):
    bad = []
    for pc, o, t in zip(pcs, ours, theirs):
        t = normalise(t, o[0])
        if tuple(o) != tuple(t):
            bad.append("0x%x: ours %s %s, go %s %s" % (pc, o[0], o[1],
                                                       t[0], t[1]))
    if len(ours) != len(pcs) or len(theirs) != len(pcs):
        bad.append("answers: ours %d, go %d, for %d PCs" %
                   (len(ours), len(theirs), len(pcs)))
    return bad


def detail(bad):
    more = len(bad) - MAX_DETAIL
    return "\n".join(bad[:MAX_DETAIL] +
                     (["... %d more" % more] if more > 0 else []))


def same_symbol(ours, elf):
    """The linker mangles names for .symtab, not for the pclntab: ".abi0"
    on assembly functions, "." for the compiler's "·", and the array
    length for the "[...]" of type..eq functions."""
    elf = elf[:-len(".abi0")] if elf.endswith(".abi0") else elf
    pattern = re.escape(ours.replace("·", ".")).replace(
        re.escape("[...]"), r"\[\d+\]")
    return ours == elf or re.fullmatch(pattern, elf) is not None


def check_table(tap, label, version, root, path, table, twin):
    if twin:
        tap.eq(table, symbolize_table(twin),
               "%s: function table equals the unstripped build's" % label)
        return
    syms = nm_text(version, root, path)
    bad = ["0x%x %s: .symtab has %s" % (e, n, sorted(syms.get(e, [])))
           for e, _, n in table
           if not any(same_symbol(n, s) for s in syms.get(e, ()))]
    tap.ok(not bad, "%s: %d function entries named as in .symtab" %
           (label, len(table)), detail(bad))


def check_addr2line(tap, label, version, root, path, table, twin, cgo):
    lo, hi = table[0][0], table[-1][1]
    rng = random.Random(path)
    pcs = [e for e, _, _ in table]
    pcs += [rng.randrange(lo, hi) for _ in range(RANDOM_PCS)]
    pcs += [lo - 1, hi, hi + 0x1000]
    what = "%s: %d entries, %d random PCs as go tool addr2line" % (
        label, len(table), RANDOM_PCS)
    ours = ours_addr2line(path, pcs)
    if version == "1.19" and label.endswith("-pie"):
        theirs = go_addr2line(version, root, path, pcs)
        tap.ok(all(t == ("?", "?:0") for t in theirs),
               "%s: go1.19 addr2line knows no PC of a PIE (known)" % label)
        tap.skip("%s: go1.19 addr2line cannot read PIE: checked against "
                 ".symtab and tracebacks instead" % label)
        return
    ref = twin if (cgo and twin) else path
    theirs = go_addr2line(version, root, ref, pcs)
    if ref != path:
        what += " (on the unstripped twin)"
    tap.ok(not mismatches(pcs, ours, theirs), what,
           detail(mismatches(pcs, ours, theirs)))


def check_traceback(tap, label, path, table):
    what = "%s: frames equal the runtime's SIGQUIT traceback" % label
    if os.uname().machine != "x86_64":
        tap.skip("%s: cannot run it here" % what)
        return
    env = dict(os.environ, GOTRACEBACK="all")
    zoo = Process([path, "-release", "1h"] +
                  (["-wake", "1h"] if "parkzoo" in label else []), env=env)
    try:
        m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
        if not tap.ok(m, "%s: fixture started" % label):
            return
        zoo.p.send_signal(signal.SIGUSR1)
        zoo.wait_line("stdout", r"spawned")
        bias = load_bias(path, zoo.p.pid)
        time.sleep(0.3)
        zoo.p.send_signal(signal.SIGQUIT)
        _, err = zoo.finish(timeout=20)
    finally:
        zoo.stop(signal.SIGKILL)
    gs = parse_dump(err)
    # Goroutine 0 is the g0 of the thread the signal interrupted, and a
    # running goroutine was interrupted too: their innermost pc is where
    # the signal hit, not a return address.
    phys = [(goid, frames, pc - bias,
             i == 0 and (goid == 0 or status.startswith("running")))
            for goid, (status, fs) in sorted(gs.items())
            for i, (frames, pc) in enumerate(fs)]
    ours = symbolize_frames(path, [tracepc(table, pc, trap)
                              for _, _, pc, trap in phys])
    bad, nframes, ninl = [], 0, 0
    for (goid, frames, pc, _), o in zip(phys, ours):
        mine = [(f, file, line) for f, file, line, _ in o]
        nframes += len(frames)
        ninl += len(frames) - 1
        if mine != frames:
            bad.append("goroutine %d pc 0x%x: ours %s, runtime %s" %
                       (goid, pc, mine, frames))
    if len(ours) != len(phys):
        bad.append("answers: %d for %d frames" % (len(ours), len(phys)))
    tap.ok(len(gs) >= 10 and not bad,
           "%s (%d goroutines, %d frames)" % (what, len(gs), nframes),
           detail(bad) if bad else "only %d goroutines in the dump" %
           len(gs))
    tap.ok(ninl > 0, "%s: the traceback has inlined frames (%d)" %
           (label, ninl))


def run_binary(tap, version, root, name, flavour):
    path = os.path.join(BUILD, "go" + version, name + flavour)
    label = "go%s %s%s" % (version, name, flavour)
    if not os.path.exists(path):
        tap.ok(False, "%s is built (tools/build-fixtures.sh with "
               "FIXTURE_FLAVORS=\"normal stripped pie\")" % label)
        return
    twin = os.path.join(BUILD, "go" + version, name) if flavour == "-sw" \
        else None
    table = symbolize_table(path)
    check_table(tap, label, version, root, path, table, twin)
    check_addr2line(tap, label, version, root, path, table, twin,
                    name == "cgozoo")
    check_traceback(tap, label, path, table)


def main():
    tap = Tap()
    versions = go_versions()
    if not os.path.exists(SYMBOLIZE):
        tap.ok(False, ".output/symbolize is built (make)")
        tap.done()
    if not versions:
        tap.ok(False, "Go fixtures are built (tools/build-fixtures.sh)")
    for version in versions:
        root = goroot(version)
        if not tap.ok(root, "go%s: toolchain installed" % version):
            continue
        for name in FIXTURES:
            for flavour in FLAVOURS:
                run_binary(tap, version, root, name, flavour)
    tap.done()


if __name__ == "__main__":
    main()
