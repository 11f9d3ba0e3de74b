"""Shared helpers for the end-to-end tests: TAP output, Go fixtures built
for every toolchain, running goleaktrace, and parsing its plain report."""
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# GOLEAKTRACE, GOLEAKTRACE_SYMBOLIZE: other builds of the tool and the
# symbolizer, e.g. the ASan+UBSan ones (tests/run.sh with SANITIZE=1).
TOOL = os.environ.get("GOLEAKTRACE") or os.path.join(ROOT, "goleaktrace")
BUILD = os.path.join(ROOT, "tests", ".build")
SYMBOLIZE = os.environ.get("GOLEAKTRACE_SYMBOLIZE") or \
    os.path.join(ROOT, ".output", "symbolize")
# Builds of a fixture the end-to-end tests run on (tools/build-fixtures.sh
# flavours normal, stripped, pie): "" = normal, "-sw" = -ldflags="-s -w",
# "-pie" = -buildmode=pie.
FLAVOURS = ["", "-sw", "-pie"]


class Tap:
    """TAP producer: one line per check, the plan at the end."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, what, detail=None):
        self.n += 1
        print(("ok" if cond else "not ok") + " %d - %s" % (self.n, what))
        if not cond:
            self.failed += 1
            if detail is not None:
                for line in str(detail).splitlines():
                    print("#   " + line)
        sys.stdout.flush()
        return cond

    def eq(self, actual, expected, what):
        return self.ok(actual == expected, what,
                       "actual   %r\nexpected %r" % (actual, expected))

    def skip(self, why):
        self.n += 1
        print("ok %d - # SKIP %s" % (self.n, why))

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


def go_versions():
    """Minor versions with built fixtures, e.g. ['1.19', '1.21', ...]."""
    if not os.path.isdir(BUILD):
        return []
    vs = [d[2:] for d in os.listdir(BUILD) if d.startswith("go1.")]
    return sorted(vs, key=lambda v: tuple(int(x) for x in v.split(".")))


def fixture(version, name):
    return os.path.join(BUILD, "go" + version, name)


def label(version, flavour=""):
    """How a test names a build: "go1.22", "go1.22-sw", "go1.22-pie"."""
    return "go" + version + flavour


def markers(name, kind):
    """{tag: line} of the `// KIND:tag` comments in a fixture's main.go."""
    path = os.path.join(ROOT, "tests", "fixtures", name, "main.go")
    found = {}
    with open(path) as f:
        for no, line in enumerate(f, 1):
            m = re.search(r"// %s:(\w+)" % kind, line)
            if m:
                found[m.group(1)] = no
    return found


class Process:
    """A child whose output lines are collected by reader threads, so a
    test can wait for a line and still get the whole output at the end."""

    def __init__(self, argv, **kw):
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, **kw)
        self.lines = {"stdout": [], "stderr": []}
        self.readers = [threading.Thread(target=self._read, args=(name,),
                                         daemon=True)
                        for name in self.lines]
        for t in self.readers:
            t.start()

    def _read(self, name):
        for line in getattr(self.p, name):
            self.lines[name].append(line.rstrip("\n"))

    def wait_line(self, stream, pattern, timeout=20):
        """Waits for a line matching pattern; returns (match, lines so far)."""
        deadline = time.time() + timeout
        seen = 0
        while time.time() < deadline:
            lines = self.lines[stream]
            while seen < len(lines):
                m = re.search(pattern, lines[seen])
                seen += 1
                if m:
                    return m, lines[:seen]
            if self.p.poll() is not None and not any(t.is_alive() for t in self.readers):
                break
            time.sleep(0.05)
        return None, list(self.lines[stream])

    def finish(self, timeout=30):
        """Waits for the exit; returns (stdout, stderr) in full."""
        self.p.wait(timeout=timeout)
        for t in self.readers:
            t.join(timeout=5)
        return "\n".join(self.lines["stdout"]), "\n".join(self.lines["stderr"])

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def parse_reports(text):
    """Splits goleaktrace's plain output into reports:
    [{'final': bool, 'header': str, 'groups': [group], 'tail': [lines]}]
    group: {'count', 'reason', 'oldest', 'median', 'frames': [(func, file,
    line)], 'created_func', 'created_file', 'created_line', 'goids'}"""
    reports = []
    cur = grp = None
    for line in text.splitlines():
        if line.startswith("=== "):
            cur = {"final": line.startswith("=== final"), "header": line,
                   "groups": [], "tail": []}
            reports.append(cur)
            grp = None
            continue
        if cur is None:
            continue
        m = re.match(r"^(\d+) goroutines? \[(.*)\] oldest (\S+), median (\S+)$", line)
        if m:
            grp = {"count": int(m.group(1)), "reason": m.group(2),
                   "oldest": m.group(3), "median": m.group(4), "frames": [],
                   "goids": []}
            cur["groups"].append(grp)
            continue
        if grp is not None and re.match(r"^    \S", line) and not line.startswith("     "):
            grp["frames"].append([line.strip(), None, None])
            continue
        m = re.match(r"^        (.*):(\d+)$", line)
        if grp is not None and m and grp["frames"]:
            grp["frames"][-1][1] = m.group(1)
            grp["frames"][-1][2] = int(m.group(2))
            continue
        m = re.match(r"^  (never wakeable|likely leaked|idle pool|parked): (.*)$", line)
        if grp is not None and m and "verdict" not in grp:
            grp["class"] = m.group(1).replace(" ", "_")
            grp["verdict"] = line.strip()
            m = re.search(r"growing ([+-][\d.]+)/min", line)
            grp["growth"] = float(m.group(1)) if m else None
            continue
        m = re.match(r"^  waits on: (.*)$", line)
        if grp is not None and m:
            grp["objects"] = m.group(1)
            continue
        m = re.match(r"^  created by (\S+) at (.*):(\d+)$", line)
        if grp is not None and m:
            grp["created_func"] = m.group(1)
            grp["created_file"] = m.group(2)
            grp["created_line"] = int(m.group(3))
            continue
        m = re.match(r"^  goids: (.*)$", line)
        if grp is not None and m:
            grp["goids"] = [int(x) for x in re.findall(r"\b\d+\b", m.group(1).split("...")[0])]
            continue
        if line and not line.startswith(" "):
            grp = None
            cur["tail"].append(line)
    return reports


def top_user_frame(group, prefix="main."):
    """(func, file, line) of the innermost frame in package main; an
    inlined frame's "(...)" is left out of func."""
    for func, file, line in group["frames"]:
        if func.startswith(prefix):
            return re.sub(r"\(\.\.\.\)$", "", func), file, line
    return None, None, None


def check_group(tap, what, g, fixture_name, count, reason, line, created_line,
                created_func="main.spawnAll"):
    """One group of a report: its size, wait reason, the file:line where
    its members parked and the `go` statement that created them."""
    tap.eq(g["count"], count, what + " count")
    tap.eq(g["reason"], reason, what + " wait reason")
    _, file, at = top_user_frame(g)
    tap.ok(file and file.endswith("tests/fixtures/%s/main.go" % fixture_name),
           what + " file", file)
    tap.eq(at, line, what + " line")
    tap.eq((g.get("created_func"), g.get("created_line")),
           (created_func, created_line), what + " created by")


def find_group(report, func):
    """The groups of a report whose first main.* frame is func."""
    return [g for g in report["groups"] if top_user_frame(g)[0] == func]


def counters(report):
    """{'parks (map full)': n, ...} from the events/dropped/skipped lines."""
    out = {}
    for line in report["tail"]:
        if ":" not in line:
            continue
        kind, rest = line.split(":", 1)
        for part in re.split(r"[,;]", rest):
            m = re.match(r"\s*(\d+) (.*)", part)
            if m:
                out["%s %s" % (kind, m.group(2).strip())] = int(m.group(1))
    return out


def is_root():
    return os.geteuid() == 0


# ---- the symbolizer and the runtime's own tracebacks ----------------------

def symbolize_table(path):
    """[(entry, end, name)] of the pclntab, in entry order (symbolize -f)."""
    out = subprocess.run([SYMBOLIZE, "-f", path], capture_output=True,
                         text=True, check=True).stdout
    table = []
    for line in out.splitlines():
        entry, end, name = line.split(" ", 2)
        table.append((int(entry, 16), int(end, 16), name))
    return table


def symbolize_frames(path, pcs):
    """For each link-time pc, [(func, file, line, flags)] innermost first;
    flags: "-", "inlined", "wrapper" or "inlined,wrapper" (symbolize -i)."""
    stdin = "".join("0x%x\n" % pc for pc in pcs)
    out = subprocess.run([SYMBOLIZE, "-i", path], input=stdin,
                         capture_output=True, text=True, check=True).stdout
    result, cur = [], []
    for line in out.split("\n")[:-1]:
        if not line:
            result.append(cur)
            cur = []
            continue
        func, fileline, flags = line.split("\t")
        file, _, no = fileline.rpartition(":")
        cur.append((func, file, int(no), flags))
    return result


def tracepc(table, pc, trap=False):
    """The pc the runtime symbolizes: one before a return address, unless
    pc is a function's entry (a goroutine that has not run yet) or the
    innermost pc of a traceback that starts from a signal context (trap)."""
    for entry, end, _ in table:
        if entry <= pc < end:
            return pc - 1 if pc > entry and not trap else pc
    return pc


def load_bias(path, pid):
    """Runtime minus link-time address of the executable (0 unless PIE):
    the mapping at file offset 0 holds the lowest PT_LOAD, page aligned."""
    with open(path, "rb") as f:
        elf = f.read(64)
        phoff, = struct.unpack_from("<Q", elf, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    base = min(struct.unpack_from("<Q", ph, i * phentsize + 16)[0]
               for i in range(phnum)
               if struct.unpack_from("<I", ph, i * phentsize)[0] == 1)
    real = os.path.realpath(path)
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and parts[5] == real and \
                    int(parts[2], 16) == 0:
                return int(parts[0].split("-")[0], 16) - (base & ~0xfff)
    raise RuntimeError("pid %d: no mapping of %s" % (pid, real))


# "\t/path/file.go:49 +0x56 fp=0x.. sp=0x.. pc=0x4cfd56" (physical) or
# "\t/path/file.go:80" (inlined): a SIGQUIT traceback (GOTRACEBACK=all)
# prints the pc of every physical frame (the runtime is "throwing", level 2).
FRAME_POS = re.compile(r"^\t(.*):(\d+)(?: \+0x[0-9a-f]+)?"
                       r"(?: fp=0x[0-9a-f]+ sp=0x[0-9a-f]+"
                       r" pc=(0x[0-9a-f]+))?$")


def parse_dump(text):
    """A SIGQUIT goroutine dump: {goid: (status, [([(func, file, line)],
    pc)] per physical frame)}, the logical frames of each physical one
    innermost first, as the runtime printed them."""
    gs, cur, pending, func = {}, None, [], None
    for line in text.splitlines():
        m = re.match(r"^goroutine (\d+) .*?\[([^\]]*)\]", line)
        if m:
            cur = gs.setdefault(int(m.group(1)), (m.group(2), []))[1]
            pending, func = [], None
            continue
        if cur is None:
            continue
        if not line or line.startswith("created by"):
            cur = None
            continue
        if not line.startswith("\t"):
            func = line
            continue
        m = FRAME_POS.match(line)
        name = re.match(r"^(.*)\(.*\)$", func or "")
        if not m or not name:
            continue
        pending.append((name.group(1), m.group(1), int(m.group(2))))
        if m.group(3):
            cur.append((pending, int(m.group(3), 16)))
            pending = []
        func = None
    return gs


def dump_stacks(path, text, bias):
    """{goid: [(func, file, line)]} as goleaktrace prints a stack: the
    runtime's frames of each goroutine of a dump, innermost first, without
    the runtime.goexit sentinel and without autogenerated wrappers (our
    symbolizer says which frames are wrappers; the runtime shows them at
    traceback level 2)."""
    gs = parse_dump(text)
    table = symbolize_table(path)
    flat = [(goid, frames, tracepc(table, pc - bias, i == 0 and (
        goid == 0 or status.startswith("running"))))
        for goid, (status, fs) in gs.items() for i, (frames, pc) in
        enumerate(fs)]
    ours = symbolize_frames(path, [pc for _, _, pc in flat])
    stacks = {goid: [] for goid in gs}
    for (goid, frames, _), mine in zip(flat, ours):
        # Our frames are the runtime's (test_symbolize checks it), so our
        # flags say which of its frames are wrappers.
        wrapper = ["wrapper" in m[3] for m in mine] \
            if len(mine) == len(frames) else [False] * len(frames)
        for f, w in zip(frames, wrapper):
            if not w and f[0] != "runtime.goexit":
                stacks[goid].append(f)
    return stacks


def check_dump(tap, what, path, zoo, report, bias):
    """Stops zoo (started with GOTRACEBACK=all) with SIGQUIT and checks
    that the frames of every goroutine the report lists by goid equal the
    runtime's own traceback of that goroutine: function, file and line of
    every logical frame, inlined ones included. Returns the dump."""
    zoo.p.send_signal(signal.SIGQUIT)
    _, err = zoo.finish(timeout=20)
    stacks = dump_stacks(path, err, bias)
    bad, n = [], 0
    for g in report["groups"]:
        mine = [(re.sub(r"\(\.\.\.\)$", "", f), file, line)
                for f, file, line in g["frames"]]
        for goid in g["goids"]:
            n += 1
            if stacks.get(goid) != mine:
                bad.append("goroutine %d:\n  ours    %s\n  runtime %s" %
                           (goid, mine, stacks.get(goid)))
    tap.ok(n > 0 and not bad, "%s: frames of %d reported goroutines equal "
           "the runtime's traceback" % (what, n), "\n".join(bad[:5]))
    return err


def per_version(run, flavours=None):
    """The main() of a test run once per Go version (and fixture flavour):
    TAP, the root check, and a failure when nothing is built to test."""
    tap = Tap()
    versions = go_versions()
    if not is_root():
        tap.skip("end-to-end tests need root")
    elif not os.path.exists(TOOL):
        tap.ok(False, "goleaktrace is built")
    elif not versions:
        tap.ok(False, "Go fixtures are built (tools/build-fixtures.sh)")
    else:
        for version in versions:
            for flavour in flavours if flavours is not None else [None]:
                if flavour is None:
                    run(tap, version)
                else:
                    run(tap, version, flavour)
    tap.done()
