"""Nothing lost silently: with maps too small for the target (the hidden
--max-goroutines and --max-sites), every park and spawn that does not fit
is counted, exactly, and the counts are the same in the terminal report,
the JSON lines and the pprof profile's comments.

dropzoo parks SITES x PER goroutines from SITES go statements after
attach, then main parks too (tests/fixtures/dropzoo): SITES x PER + 1
parks of distinct goroutines, of which the parked map keeps the first
MAX_G (a park of a g already there never fails, and no goroutine exits,
so every g is a new one); the sites map keeps the first MAX_S sites, so
each spawn at the others is a drop."""
import json
import os
import re
import signal
import subprocess
import tempfile
import time

from glt import TOOL, Process, counters, fixture, parse_reports, per_version
from test_pprof import pprof

SITES, PER = 4, 10
MAX_G, MAX_S = 30, 2
SPAWNS = SITES * PER
EXPECTED = {
    "parks": SPAWNS + 1, "spawns": SPAWNS, "exits": 0,
    "parks_map_full": SPAWNS + 1 - MAX_G,
    "sites_map_full": PER * (SITES - MAX_S),
    "probe_read_failed": 0, "target_read_failed": 0,
}


def map_sizes(pid):
    """{map name: max_entries} of the BPF maps process pid holds open:
    their ids from /proc/PID/fdinfo, their names from bpftool."""
    sizes = {}
    fdinfo = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                info = dict(l.split(":", 1) for l in f if ":" in l)
        except OSError:
            continue
        if "map_id" not in info:
            continue
        out = subprocess.run(["bpftool", "-j", "map", "show", "id",
                              info["map_id"].strip()],
                             capture_output=True, text=True).stdout
        if out:
            sizes[json.loads(out).get("name")] = int(info["max_entries"])
    return sizes


def trace(version, extra):
    """Traces a fresh dropzoo through its parks with the small maps:
    (exit status, stdout, stderr, the tracer's map sizes)."""
    zoo = Process([fixture(version, "dropzoo"), "-sites", str(SITES),
                   "-per", str(PER)])
    tracer = None
    try:
        m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
        pid = int(m.group(1))
        tracer = Process([TOOL, "-p", str(pid), "-t", "100ms", "-i", "1h",
                          "--max-goroutines", str(MAX_G),
                          "--max-sites", str(MAX_S)] + extra)
        tracer.wait_line("stderr", r"tracing pid")
        sizes = map_sizes(tracer.p.pid)
        os.kill(pid, signal.SIGUSR1)
        zoo.wait_line("stdout", r"^parked \d+")
        # Time for the last of them to reach gopark after counting itself.
        time.sleep(1)
        tracer.p.send_signal(signal.SIGINT)
        out, err = tracer.finish()
        return tracer.p.returncode, out, err, sizes
    finally:
        if tracer:
            tracer.stop()
        zoo.stop()


def from_text(out):
    """The counters of the final terminal report, by JSON name."""
    reports = [r for r in parse_reports(out) if r["final"]]
    if not reports:
        return {}
    c = counters(reports[-1])
    names = {"events parks": "parks",
             "events spawns": "spawns", "events exits": "exits",
             "dropped parks (map full)": "parks_map_full",
             "dropped sites (map full)": "sites_map_full",
             "dropped probe reads": "probe_read_failed",
             "dropped target reads": "target_read_failed"}
    return {names[k]: v for k, v in c.items() if k in names}


def from_pprof(version, path):
    """The counters in the profile's comments (go tool pprof -raw)."""
    rc, raw = pprof(version, "-raw", path)
    found = {}
    pats = {"parks": r"events: (\d+) parks",
            "spawns": r"(\d+) spawns", "exits": r"(\d+) exits",
            "parks_map_full": r"dropped: (\d+) parks \(map full\)",
            "sites_map_full": r"(\d+) site counts \(map full\)",
            "probe_read_failed": r"(\d+) probe reads failed",
            "target_read_failed": r"(\d+) target reads failed"}
    comments = "\n".join(l for l in raw.splitlines() if l.startswith("Comment:"))
    for k, pat in pats.items():
        m = re.search(pat, comments)
        if m:
            found[k] = int(m.group(1))
    return rc, found, comments


def from_json(out):
    """The counters of the final report's JSON lines, all of them equal."""
    lines = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    final = [o for o in lines if o.get("final")]
    seen = {json.dumps([o.get("events"), o.get("dropped")], sort_keys=True)
            for o in final}
    if not final:
        return {}, 0
    o = final[-1]
    c = dict(o.get("events", {}), **o.get("dropped", {}))
    return {k: c[k] for k in EXPECTED if k in c}, len(seen)


def check(tap, v, where, got):
    """Every expected counter, shown, and exact."""
    for k, want in EXPECTED.items():
        if k not in got:
            tap.ok(False, "%s: %s shows %s" % (v, where, k),
                   "not found in %s" % sorted(got))
            continue
        tap.eq(got[k], want, "%s: %s: %s = %d" % (v, where, k, want))


def run(tap, version):
    v = "go" + version
    failed = tap.failed
    with tempfile.TemporaryDirectory() as tmp:
        prof = os.path.join(tmp, "drops.pb.gz")
        rc, out, err, sizes = trace(version, ["-o", prof])
        tap.eq(rc, 0, "%s: text + pprof run exits 0" % v)
        tap.eq(sizes.get("parked"), MAX_G,
               "%s: --max-goroutines %d sizes the parked map" % (v, MAX_G))
        tap.eq(sizes.get("sites"), MAX_S,
               "%s: --max-sites %d sizes the sites map" % (v, MAX_S))
        got = from_text(out)
        check(tap, v, "terminal report", got)
        fills = re.findall(r"^maps: (\d+) of (\d+) goroutine slots, (\d+) of "
                           r"(\d+) site slots in use$", out, re.M)
        tap.eq(fills[-1:], [(str(MAX_G),) * 2 + (str(MAX_S),) * 2],
               "%s: the report shows both maps full, and their sizes" % v)
        prc, got, comments = from_pprof(version, prof)
        tap.eq(prc, 0, "%s: pprof -raw reads the profile" % v)
        check(tap, v, "pprof comments", got)
        if tap.failed > failed:
            print("# stderr: " + err.replace("\n", "\n# "))
            print("# " + comments.replace("\n", "\n# "))

    rc, out, err, _ = trace(version, ["--json"])
    tap.eq(rc, 0, "%s: JSON run exits 0" % v)
    got, variants = from_json(out)
    tap.eq(variants, 1, "%s: every final JSON line has the same counters" % v)
    check(tap, v, "JSON", got)
    last = [json.loads(l) for l in out.splitlines() if l.startswith("{")][-1:]
    tap.eq([o.get("maps") for o in last],
           [{"parked": MAX_G, "parked_max": MAX_G, "sites": MAX_S,
             "sites_max": MAX_S}], "%s: JSON: map use and sizes" % v)


if __name__ == "__main__":
    per_version(run)
