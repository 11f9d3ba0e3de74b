"""pprof and JSON lines against parkzoo, for every Go version in the matrix,
read back by the real `go tool pprof` of that version: -raw (sample types,
comments, build id), -top and -traces (exact goroutine counts), -tags and
-tagfocus (wait_reason and class labels), -diff_base (growth after the
goroutines were spawned, no change for stable sites), -http (the flame
graph page renders); --json lines parse and hold the exact counts; -o DIR/
writes one file per report, -o FILE one atomically replaced file."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

from glt import (Process, Tap, TOOL, fixture, go_versions, is_root, markers)
from test_core import GROUPS, wait_reason

# Keys every --json line has, with their JSON types (README, "JSON lines").
SCHEMA = {
    "time": str, "pid": int, "comm": str, "go_version": str, "final": bool,
    "elapsed_ns": int, "threshold_ns": int, "group": int, "groups": int,
    "goroutines": int, "count": int, "class": str, "verdict": str,
    "wait_reason": str, "wait_reason_index": int, "oldest_ns": int,
    "median_ns": int, "lower_bound": bool, "growth_per_min": (int, float, type(None)),
    "frames": list, "created_by": dict, "site": dict, "wait_object": dict,
    "goids": list, "parked_ns": list, "events": dict, "dropped": dict,
    "skipped": dict,
}
FRAME = {"function": str, "file": str, "line": int, "inlined": bool, "pc": str}
CLASSES = {"parked", "never_wakeable", "likely_leaked", "idle_pool"}
# The jq version of the schema check, as README.md documents it.
JQ_CHECK = ('(.count|type=="number") and (.class|type=="string") and '
            '(.wait_reason|type=="string") and (.frames|type=="array") and '
            '(.goids|length) == .count and (.dropped|type=="object") and '
            'all(.frames[]; (.function|type=="string") and '
            '(.file|type=="string") and (.line|type=="number") and '
            '(.inlined|type=="boolean"))')


def goroot(version):
    return os.path.join(os.path.expanduser("~"), ".cache", "goleaktrace",
                        "go", version, "usr", "lib", "go-" + version)


def pprof(version, *args, timeout=300):
    """Runs `go tool pprof ARGS` of that Go version: (status, stdout+stderr)."""
    root = goroot(version)
    env = dict(os.environ, GOROOT=root, GOTOOLCHAIN="local",
               PPROF_TMPDIR=tempfile.gettempdir())
    p = subprocess.run([os.path.join(root, "bin", "go"), "tool", "pprof"]
                       + list(args), env=env, capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def top(text):
    """{function: cum} from pprof -top; '(inline)' marks are dropped."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^\s*(-?[\d.]+)\s+-?[\d.]+%\s+-?[\d.]+%\s+(-?[\d.]+)"
                     r"\s+-?[\d.]+%\s+(\S+)", line)
        if m:
            out[m.group(3)] = float(m.group(2))
    return out


def traces(text):
    """pprof -traces blocks: [{'count': n, 'frames': [...], 'labels': {}}]."""
    blocks = []
    for chunk in text.split("-----------+")[1:]:
        b = {"count": None, "frames": [], "labels": {}}
        for line in chunk.splitlines()[1:]:
            m = re.match(r"^\s*([\w:]+):\s+(.*)$", line)
            if m and b["count"] is None:
                b["labels"][m.group(1)] = m.group(2).strip()
                continue
            m = re.match(r"^\s+(-?\d+)\s+(\S+)", line)
            if m and b["count"] is None:
                b["count"] = int(m.group(1))
                b["frames"].append(m.group(2))
                continue
            m = re.match(r"^\s+(\S+)", line)
            if m and b["count"] is not None:
                b["frames"].append(m.group(1))
        if b["count"] is not None:
            blocks.append(b)
    return blocks


def tags(text):
    """{key: {value: count}} from pprof -tags."""
    out, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"^\s*(\w+): Total ", line)
        if m:
            cur = out.setdefault(m.group(1), {})
            continue
        m = re.match(r"^\s+([\d.]+) \(\s*[\d.]+%\): (.*)$", line)
        if m and cur is not None:
            cur[m.group(2)] = float(m.group(1))
    return out


def user_func(frames, key="function"):
    for f in frames:
        name = f[key] if isinstance(f, dict) else f
        if name.startswith("main."):
            return name
    return None


def check_schema(tap, v, lines):
    """Every line parses and has every documented field with its type."""
    bad = []
    objs = []
    for n, line in enumerate(lines, 1):
        try:
            o = json.loads(line)
        except ValueError as e:
            bad.append("line %d: %s: %r" % (n, e, line[:200]))
            continue
        objs.append(o)
        for k, t in SCHEMA.items():
            if k not in o or not isinstance(o[k], t) or \
               (t is int and isinstance(o[k], bool)):
                bad.append("line %d: %s: %r" % (n, k, o.get(k)))
        for f in o.get("frames", []):
            for k, t in FRAME.items():
                if not isinstance(f.get(k), t):
                    bad.append("line %d: frame %s: %r" % (n, k, f))
        if o.get("class") not in CLASSES:
            bad.append("line %d: class %r" % (n, o.get("class")))
        if len(o.get("goids", [])) != o.get("count") or \
           len(o.get("parked_ns", [])) != o.get("count"):
            bad.append("line %d: goids/parked_ns vs count" % n)
        for k in ("function", "file", "line"):
            if k not in o.get("created_by", {}):
                bad.append("line %d: created_by.%s" % (n, k))
        for k in ("spawned", "exited"):
            if not isinstance(o.get("site", {}).get(k), int):
                bad.append("line %d: site.%s" % (n, k))
        for k in ("parks_map_full", "sites_map_full", "probe_read_failed",
                  "target_read_failed"):
            if not isinstance(o.get("dropped", {}).get(k), int):
                bad.append("line %d: dropped.%s" % (n, k))
    tap.ok(lines and not bad, "%s: %d --json lines match the schema"
           % (v, len(lines)), "\n".join(bad[:20]))
    if shutil.which("jq"):
        p = subprocess.run(["jq", "-e", "-s", "all(.[]; %s)" % JQ_CHECK],
                           input="\n".join(lines) + "\n", text=True,
                           capture_output=True)
        tap.ok(p.returncode == 0 and p.stdout.strip() == "true",
               "%s: jq checks every --json line" % v, p.stdout + p.stderr)
    else:
        tap.skip("jq is not installed (tools/setup.sh)")
    return objs


def check_json(tap, v, version, objs, gos):
    finals = [o for o in objs if o["final"]]
    for func, marker, count, _ in GROUPS:
        what = "%s: json %s" % (v, func)
        gs = [o for o in finals if user_func(o["frames"]) == func]
        if not tap.eq(len(gs), 1, what + " is one group"):
            continue
        g = gs[0]
        tap.eq(g["count"], count, what + " count")
        tap.eq(g["wait_reason"], wait_reason(marker, version),
               what + " wait reason")
        tap.eq((g["created_by"]["function"], g["created_by"]["line"]),
               ("main.spawnAll", gos[marker]), what + " created by")
        tap.eq(g["frames"][0]["function"], "runtime.gopark",
               what + " innermost frame")
        tap.eq(sorted(g["goids"]), g["goids"], what + " goids sorted")
    return finals


def ts_of(o):
    """A JSON time as the -o DIR/ file names spell it."""
    return o["time"].replace("-", "").replace(":", "")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def check_http(tap, v, version, path):
    port = free_port()
    root = goroot(version)
    env = dict(os.environ, GOROOT=root, GOTOOLCHAIN="local")
    srv = subprocess.Popen([os.path.join(root, "bin", "go"), "tool", "pprof",
                            "-no_browser", "-http=127.0.0.1:%d" % port, path],
                           env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    page, why = None, ""
    try:
        deadline = time.time() + 120
        while time.time() < deadline and srv.poll() is None:
            try:
                url = "http://127.0.0.1:%d/ui/flamegraph" % port
                with urllib.request.urlopen(url, timeout=5) as r:
                    page = r.read().decode("utf-8", "replace")
                break
            except OSError as e:
                why = str(e)
                time.sleep(0.3)
    finally:
        srv.terminate()
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
    tap.ok(page and "main.selectEmpty" in page,
           "%s: pprof -http renders the flame graph" % v,
           why if page is None else page[:300])


def run_version(tap, version):
    v = "go" + version
    gos = markers("parkzoo", "GO")
    work = tempfile.mkdtemp(prefix="glt-pprof-")
    out_dir = os.path.join(work, "profiles") + "/"
    zoo = Process([fixture(version, "parkzoo"), "-wake", "4s", "-release", "4s"])
    tracer = None
    try:
        m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
        if not tap.ok(m, "%s: fixture started" % v):
            return
        pid = int(m.group(1))
        tracer = Process([TOOL, "-p", str(pid), "-t", "1s", "-i", "1s",
                          "-d", "9s", "--json", "-o", out_dir])
        m, seen = tracer.wait_line("stderr", r"tracing pid %d" % pid)
        if not tap.ok(m, "%s: goleaktrace attached" % v, "\n".join(seen)):
            return
        # The first profile is the baseline: taken before the spawn.
        deadline = time.time() + 10
        while time.time() < deadline and not (
                os.path.isdir(out_dir) and
                [f for f in os.listdir(out_dir) if f.endswith(".pb.gz")
                 and not f.startswith(".")]):
            time.sleep(0.05)
        os.kill(pid, signal.SIGUSR1)
        out, err = tracer.finish(timeout=40)
        tap.eq(tracer.p.returncode, 0, "%s: exit status 0" % v)
        lines = [l for l in out.splitlines() if l.strip()]
        objs = check_schema(tap, v, lines)
        finals = check_json(tap, v, version, objs, gos)
        if not finals:
            print("# stderr:\n# " + err.replace("\n", "\n# "))
            return

        # -o DIR/: one file per report, named with the report's time.
        files = sorted(f for f in os.listdir(out_dir))
        tap.eq([f for f in files if f.startswith(".")], [],
               "%s: no temporary files left" % v)
        names = [f for f in files if re.match(
            r"^goleaktrace-%d-\d{8}T\d{6}\.\d{3}Z\.pb\.gz$" % pid, f)]
        tap.ok(len(names) == len(files), "%s: file names" % v, files)
        # -i 1s -d 9s: reports at 1..8 s, then the final one.
        tap.eq(len(names), 9, "%s: -o DIR/ wrote one file per report" % v)
        by_ts = {n.split("-", 2)[2][:-len(".pb.gz")]: n for n in names}
        times = {ts_of(o) for o in objs}
        tap.ok(times <= set(by_ts), "%s: every JSON report has its file" % v,
               sorted(times - set(by_ts)))
        final_ts = ts_of(finals[0])
        if not tap.ok(final_ts in by_ts and final_ts == max(by_ts),
                      "%s: the final report is the last file" % v):
            return
        before = os.path.join(out_dir, by_ts[min(by_ts)])
        after = os.path.join(out_dir, by_ts[final_ts])
        # A report after the spawn, before the release at 4 s: every group
        # at its full count, the 3 release waiters still there.
        mids = []
        for ts in sorted(times - {final_ts}):
            rep = [o for o in objs if ts_of(o) == ts]
            counts = {user_func(o["frames"]): o["count"] for o in rep}
            if all(counts.get(f) == c for f, _, c, _ in GROUPS) and \
               counts.get("main.waitRelease") == 3:
                mids.append(ts)
        mid = os.path.join(out_dir, by_ts[mids[-1]]) if mids else None

        # -raw: it parses, with our sample types and comments.
        rc, raw = pprof(version, "-raw", after)
        tap.eq(rc, 0, "%s: pprof -raw parses the profile" % v)
        tap.ok(re.search(r"^goroutine/count\[dflt\] parked/nanoseconds",
                         raw, re.M),
               "%s: sample types goroutine/count, parked/nanoseconds" % v,
               raw[:600])
        tap.ok("PeriodType: goroutine count" in raw, "%s: period type" % v)
        tap.ok(re.search(r"^Comment: go version: go%s\b" % re.escape(version),
                         raw, re.M) and
               re.search(r"^Comment: pid: %d " % pid, raw, re.M) and
               re.search(r"^Comment: threshold: 1\.0s", raw, re.M) and
               re.search(r"^Comment: dropped: 0 parks", raw, re.M),
               "%s: comments: Go version, pid, threshold, drops" % v,
               raw[:600])
        rc, bid = subprocess.getstatusoutput(
            "GOROOT=%s GOTOOLCHAIN=local %s/bin/go tool buildid %s"
            % (goroot(version), goroot(version), fixture(version, "parkzoo")))
        m = re.search(r"^Mappings\n1: 0x[0-9a-f]+/0x[0-9a-f]+/0x[0-9a-f]+ "
                      r"(\S+) (\S+)", raw, re.M)
        tap.ok(rc == 0 and m and m.group(2) == bid.strip() and
               m.group(1).endswith("/parkzoo"),
               "%s: mapping has the file and the Go build id" % v,
               "%r vs %r" % (m and m.groups(), bid))

        # -top and -traces: the exact counts.
        rc, text = pprof(version, "-top", "-nodecount=1000",
                         "-nodefraction=0", after)
        t = top(text)
        for func, _, count, _ in GROUPS:
            tap.eq(t.get(func), float(count), "%s: pprof -top %s" % (v, func))
        rc, text = pprof(version, "-traces", after)
        blocks = traces(text)
        for func, marker, count, _ in GROUPS:
            bs = [b for b in blocks if user_func(b["frames"]) == func]
            what = "%s: pprof -traces %s" % (v, func)
            if not tap.eq(len(bs), 1, what + " is one sample"):
                continue
            b = bs[0]
            tap.eq(b["count"], count, what + " count")
            tap.eq(b["frames"][0], "runtime.gopark", what + " leaf")
            tap.eq(b["labels"].get("wait_reason"),
                   wait_reason(marker, version), what + " wait_reason label")
            tap.ok(b["labels"].get("created_by", "").startswith(
                       "main.spawnAll at ") and
                   b["labels"]["created_by"].endswith(":%d" % gos[marker]),
                   what + " created_by label", b["labels"])
            goids = b["labels"].get("goid", "").split()
            tap.eq(len(goids), min(count, 8), what + " goid labels")

        # -tags and -tagfocus: the labels select what JSON says.
        rc, text = pprof(version, "-tags", after)
        tg = tags(text)
        want = {}
        for o in finals:
            want[o["class"]] = want.get(o["class"], 0) + o["count"]
        tap.eq(tg.get("class"), {k: float(n) for k, n in want.items()},
               "%s: pprof -tags class totals match --json" % v)
        want = {}
        for o in finals:
            want[o["wait_reason"]] = want.get(o["wait_reason"], 0) + o["count"]
        tap.eq(tg.get("wait_reason"), {k: float(n) for k, n in want.items()},
               "%s: pprof -tags wait_reason totals match --json" % v)
        rc, text = pprof(version, "-top", "-nodefraction=0",
                         "-tagfocus=class=never_wakeable", after)
        got = {f: n for f, n in top(text).items() if f.startswith("main.")}
        want = {user_func(o["frames"]): float(o["count"]) for o in finals
                if o["class"] == "never_wakeable"}
        tap.eq(got, want, "%s: -tagfocus=class=never_wakeable selects "
               "the never-wakeable groups" % v)
        tap.ok({"main.nilRecv", "main.selectEmpty"} <= set(got),
               "%s: nil-channel receive and select {} are never wakeable" % v,
               got)
        rc, text = pprof(version, "-top", "-nodefraction=0",
                         "-tagfocus=wait_reason=nil chan", after)
        got = {f: n for f, n in top(text).items() if f.startswith("main.")}
        tap.eq(got, {"main.nilRecv": 5.0},
               "%s: -tagfocus=wait_reason selects by wait reason" % v)

        # -diff_base: growth since the baseline; no change for stable sites.
        rc, text = pprof(version, "-top", "-nodecount=1000", "-nodefraction=0",
                         "-diff_base", before, after)
        t = top(text)
        tap.eq(rc, 0, "%s: pprof -diff_base runs" % v)
        for func, _, count, _ in GROUPS:
            tap.eq(t.get(func), float(count),
                   "%s: -diff_base baseline..final grows %s" % (v, func))
        if tap.ok(mid, "%s: a report between spawn and release" % v):
            rc, text = pprof(version, "-top", "-nodecount=1000",
                             "-nodefraction=0", "-diff_base", mid, after)
            t = top(text)
            tap.eq({f: t[f] for f, _, _, _ in GROUPS if t.get(f)}, {},
                   "%s: -diff_base shows no change for stable sites" % v)
            tap.eq(t.get("main.waitRelease"), -3.0,
                   "%s: -diff_base shows the 3 released waiters gone" % v)

        check_http(tap, v, version, after)
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        zoo.stop()
        shutil.rmtree(work, ignore_errors=True)


def run_file(tap, version):
    """-o FILE: attached after the spawn (the snapshot finds them); the
    file is replaced at every report and no temporary file stays."""
    v = "go" + version
    work = tempfile.mkdtemp(prefix="glt-pprof-")
    path = os.path.join(work, "leaks.pb.gz")
    zoo = Process([fixture(version, "parkzoo"), "-wake", "1h", "-release", "1h"])
    tracer = None
    try:
        m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
        pid = int(m.group(1))
        os.kill(pid, signal.SIGUSR1)
        zoo.wait_line("stdout", r"spawned")
        time.sleep(1.2)
        tracer = Process([TOOL, "-p", str(pid), "-t", "1s", "-i", "500ms",
                          "-d", "1800ms", "-o", path])
        out, err = tracer.finish(timeout=30)
        tap.eq(tracer.p.returncode, 0, "%s: -o FILE exit status 0" % v)
        tap.eq(os.listdir(work), ["leaks.pb.gz"],
               "%s: -o FILE leaves only the profile" % v)
        tap.ok("=== final report" in out,
               "%s: terminal report kept without --json" % v)
        tap.ok("profile written to %s" % path in err,
               "%s: says where the profile is" % v, err)
        rc, text = pprof(version, "-top", "-nodecount=1000",
                         "-nodefraction=0", path)
        t = top(text)
        tap.eq({f: t.get(f) for f, _, _, _ in GROUPS},
               {f: float(c) for f, _, c, _ in GROUPS},
               "%s: -o FILE -top counts of every group" % v)
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        zoo.stop()
        shutil.rmtree(work, ignore_errors=True)


def main():
    tap = Tap()
    versions = go_versions()
    if not is_root():
        tap.skip("end-to-end tests need root")
    elif not os.path.exists(TOOL):
        tap.ok(False, "goleaktrace is built")
    elif not versions:
        tap.ok(False, "Go fixtures are built (tools/build-fixtures.sh)")
    for version in versions if is_root() else []:
        if not os.path.exists(os.path.join(goroot(version), "bin", "go")):
            tap.ok(False, "go%s toolchain is in the cache "
                   "(tools/go-toolchains.sh)" % version)
            continue
        run_version(tap, version)
        run_file(tap, version)
    tap.done()


if __name__ == "__main__":
    main()
