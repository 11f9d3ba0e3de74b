"""Shared helpers for the end-to-end tests: TAP output, Go fixtures built
for every toolchain, running goleaktrace, and parsing its plain report."""
import os
import re
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "goleaktrace")
BUILD = os.path.join(ROOT, "tests", ".build")


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
    for func, file, line in group["frames"]:
        if func.startswith(prefix):
            return func, file, line
    return None, None, None


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
