"""--metrics, --profile-dir, and tools/prometheus/, with a real Prometheus.

Without root: the example rules pass `promtool check rules` and their own
`promtool test rules` (alerts_test.yml), the example config `promtool
check config`; every metric the rules and the Grafana dashboard use is one
goleaktrace exports; a bad --metrics is a usage error; the static build,
if built, says that --metrics is not in it.

As root, on the newest Go: goleaktrace -p watches leakzoo (two leaks at 5
a second each, an idle pool of 16 workers, 3 nil-channel waits) with
--metrics on a free loopback port and --profile-dir --keep 3. A live
scrape passes `promtool check metrics`; /healthz says ok. Prometheus from
Debian's package scrapes it every second and evaluates the example rules
with 20 s windows instead of 30 min (tools/prometheus/alerts.yml, the
windows, `for` and threshold rewritten, then checked with promtool);
through its HTTP API: the leaking site's series grows, the idle pool's
stays flat, GoroutineLeakGrowing fires for both leaking sites and for
nothing else, GoroutinesNeverWakeable for the nil-channel waits, every
query of the dashboard runs. The profile directory holds the newest 3
profiles of the pid. Then --all with two leakzoo: one exits, and its
series leave /metrics while the other's stay."""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from glt import (ROOT, TOOL, Process, Tap, fixture, go_versions, is_root,
                 markers)

PROM_DIR = os.path.join(ROOT, "tools", "prometheus")
STATIC = os.path.join(ROOT, "goleaktrace-static")
RATE = 5  # leaks per second at each leaking site
KEEP = 3


def run(argv, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)
    return p.returncode, p.stdout + p.stderr


def http_get(url, timeout=5):
    """(status, body) of a GET; status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def exported_names():
    """The metric names user/report_metrics.c writes."""
    with open(os.path.join(ROOT, "user", "report_metrics.c")) as f:
        return set(re.findall(r'"(goleaktrace_[a-z_]+)"', f.read()))


def used_names(text):
    return set(re.findall(r"\b(goleaktrace_[a-z_]+)", text))


def dashboard_exprs():
    with open(os.path.join(PROM_DIR, "grafana-dashboard.json")) as f:
        dash = json.load(f)
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    exprs += [a["expr"] for a in dash["annotations"]["list"]]
    return dash, exprs


def check_files(tap):
    """The examples, as promtool and the exporter see them."""
    rc, out = run(["promtool", "check", "rules", "alerts.yml"], cwd=PROM_DIR)
    tap.ok(rc == 0 and "SUCCESS: 4 rules" in out,
           "promtool check rules alerts.yml", out)
    rc, out = run(["promtool", "test", "rules", "alerts_test.yml"],
                  cwd=PROM_DIR)
    tap.ok(rc == 0 and "SUCCESS" in out,
           "promtool test rules alerts_test.yml", out)
    rc, out = run(["promtool", "check", "config", "prometheus.yml"],
                  cwd=PROM_DIR)
    tap.ok(rc == 0, "promtool check config prometheus.yml", out)
    import yaml
    with open(os.path.join(PROM_DIR, "kubernetes.yml")) as f:
        k8s = yaml.safe_load(f)
    tap.eq([j["job_name"] for j in k8s["scrape_configs"]],
           ["goleaktrace-nodes"], "kubernetes.yml: one scrape job")
    names = exported_names()
    tap.ok(len(names) >= 12, "the exporter's metric names", sorted(names))
    with open(os.path.join(PROM_DIR, "alerts.yml")) as f:
        unknown = used_names(f.read()) - names
    tap.eq(unknown, set(), "alerts.yml uses only exported metrics")
    dash, exprs = dashboard_exprs()
    tap.ok(len(dash["panels"]) >= 8 and exprs, "dashboard: panels")
    tap.eq(used_names("\n".join(exprs)) - names, set(),
           "dashboard uses only exported metrics")
    variables = [v["name"] for v in dash["templating"]["list"]]
    tap.eq(variables, ["datasource", "namespace", "pod", "binary"],
           "dashboard: its variables")


def check_cli(tap):
    rc, out = run([TOOL, "-p", "1", "--metrics", "localhost:9431"])
    tap.ok(rc == 2 and "Invalid --metrics" in out,
           "--metrics with a host name: usage error", out)
    rc, out = run([TOOL, "-p", "1", "--keep", "3"])
    tap.ok(rc == 2 and "--keep N needs --profile-dir" in out,
           "--keep without --profile-dir: usage error", out)
    rc, out = run([TOOL, "-p", "1", "--profile-dir", "/tmp/x", "-o", "y/"])
    tap.ok(rc == 2 and "exclude" in out, "--profile-dir and -o: usage error",
           out)
    if not os.path.exists(STATIC):
        tap.skip("goleaktrace-static is not built (make static)")
        return
    rc, out = run([STATIC, "-p", "1", "--metrics", "127.0.0.1:0"])
    tap.ok(rc == 1 and "--metrics is not in this build" in out and
           out.count("\n") == 1, "static build: --metrics is not in it, "
           "one line, exit 1", out)


def derived_rules(path):
    """alerts.yml with windows a test can wait for."""
    with open(os.path.join(PROM_DIR, "alerts.yml")) as f:
        text = f.read()
    subs = [(r"\[30m\]", "[20s]"), (r"for: 5m\b", "for: 3s"),
            (r"for: 30m\b", "for: 3s"), (r"\) > 100\b", ") > 50")]
    for pattern, repl in subs:
        text, n = re.subn(pattern, repl, text)
        if not n:
            raise RuntimeError("alerts.yml: no %s to shorten" % pattern)
    with open(path, "w") as f:
        f.write(text)


class Prometheus:
    def __init__(self, tmp, target):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        derived_rules(os.path.join(tmp, "rules.yml"))
        with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n"
                    "  evaluation_interval: 1s\n"
                    "rule_files: [rules.yml]\n"
                    "scrape_configs:\n  - job_name: goleaktrace\n"
                    "    honor_labels: true\n"
                    "    static_configs:\n"
                    "      - targets: ['%s']\n" % target)
        self.tmp = tmp
        self.proc = None

    def check(self):
        return run(["promtool", "check", "config",
                    os.path.join(self.tmp, "prometheus.yml")])

    def start(self):
        self.proc = Process(["prometheus",
                             "--config.file=" + os.path.join(self.tmp, "prometheus.yml"),
                             "--storage.tsdb.path=" + os.path.join(self.tmp, "data"),
                             "--web.listen-address=127.0.0.1:%d" % self.port,
                             "--log.level=warn"])
        deadline = time.time() + 30
        while time.time() < deadline:
            if http_get(self.url + "/-/ready")[0] == 200:
                return True
            if self.proc.p.poll() is not None:
                break
            time.sleep(0.2)
        return False

    def api(self, path, **params):
        status, body = http_get("%s/api/v1/%s?%s" % (
            self.url, path, urllib.parse.urlencode(params)))
        data = json.loads(body) if body.startswith("{") else {}
        return data if status == 200 and data.get("status") == "success" \
            else None

    def values(self, expr, start, end):
        """[float] of the one series expr gives, a sample a second."""
        data = self.api("query_range", query=expr, start=start, end=end,
                        step="1s")
        result = data["data"]["result"] if data else []
        return [float(v) for _, v in result[0]["values"]] \
            if len(result) == 1 else None

    def firing(self, name):
        data = self.api("alerts")
        return [a["labels"] for a in (data or {}).get("data", {})
                .get("alerts", []) if a["labels"].get("alertname") == name
                and a["state"] == "firing"]

    def stop(self):
        if self.proc:
            self.proc.stop()


def site(tag, func="main.main"):
    """A PromQL matcher of leakzoo's `go` statement at // GO:tag."""
    return 'created_by=~"%s at .*/leakzoo/main\\\\.go:%d"' % (
        re.escape(func).replace("\\", "\\\\"), markers("leakzoo", "GO")[tag])


def check_prometheus(tap, version):
    v = "go" + version
    tmp = tempfile.mkdtemp(prefix="glt-metrics-")
    zoo = tracer = prom = pid = None
    profiles = os.path.join(tmp, "profiles")
    try:
        zoo = Process([fixture(version, "leakzoo"), "-rate", str(RATE)])
        m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
        if not tap.ok(m, "%s: leakzoo started" % v):
            return
        pid = int(m.group(1))
        tracer = Process([TOOL, "-p", str(pid), "-t", "1s", "-i", "1s",
                          "--metrics", "127.0.0.1:0", "--profile-dir",
                          profiles, "--keep", str(KEEP)])
        m, seen = tracer.wait_line("stderr", r"serving metrics on "
                                   r"127\.0\.0\.1:0, port (\d+) ")
        if not tap.ok(m, "%s: serving metrics" % v, "\n".join(seen)):
            return
        port = int(m.group(1))
        m, seen = tracer.wait_line("stderr", r"tracing pid")
        tap.ok(m, "%s: attached" % v, "\n".join(seen))
        base = "http://127.0.0.1:%d" % port
        tap.eq(http_get(base + "/healthz"), (200, "ok\n"), "%s: /healthz" % v)

        prom = Prometheus(tmp, "127.0.0.1:%d" % port)
        rc, out = run(["promtool", "check", "rules",
                       os.path.join(tmp, "rules.yml")])
        tap.ok(rc == 0, "%s: shortened rules pass promtool" % v, out)
        rc, out = prom.check()
        tap.ok(rc == 0, "%s: test config passes promtool" % v, out)
        if not tap.ok(prom.start(), "%s: prometheus is ready" % v):
            return
        start = time.time()

        # A live scrape, after a few reports.
        time.sleep(3)
        status, text = http_get(base + "/metrics")
        tap.ok(status == 200 and 'binary="leakzoo"' in text,
               "%s: /metrics has the process" % v, text[:2000])
        p = subprocess.run(["promtool", "check", "metrics"], input=text,
                           capture_output=True, text=True, timeout=30)
        tap.ok(p.returncode == 0, "%s: promtool check metrics accepts a "
               "live scrape" % v, p.stdout + p.stderr)

        # The alert: the leaks grow by 100 in 20 s, past 50 for 3 s.
        leaks = {"merge": "main.merge", "sender": "main.fetchWithTimeout"}
        deadline = time.time() + 60
        firing = []
        while time.time() < deadline:
            firing = prom.firing("GoroutineLeakGrowing")
            if len(firing) >= 2:
                break
            time.sleep(1)
        sites = sorted(a.get("created_by", "").split(" at ")[0]
                       for a in firing)
        tap.eq(sites, sorted(leaks.values()), "%s: GoroutineLeakGrowing "
               "fires for both leaking sites and nothing else" % v)
        tap.ok(all(a.get("pid") == str(pid) and a.get("binary") == "leakzoo"
                   for a in firing), "%s: the alert names the process" % v,
               firing)
        nil = prom.firing("GoroutinesNeverWakeable")
        tap.eq([(a.get("created_by", "").split(" at ")[0],
                 a["created_by"].endswith(":%d" % markers("leakzoo", "GO")
                                          ["nil"])) for a in nil],
               [("main.main", True)],
               "%s: GoroutinesNeverWakeable fires for the nil waits" % v)
        # At least 15 s of series to look at.
        time.sleep(max(0, start + 15 - time.time()))
        end = time.time()

        # The series behind it, as Prometheus stored them.
        grow = prom.values('sum(goleaktrace_parked_goroutines{pid="%d",%s})'
                           % (pid, site("merge", "main.merge")), start, end)
        tap.ok(grow and len(grow) >= 10 and grow[-1] >= grow[0] + 20 and
               max(grow) == grow[-1], "%s: the leaking site's series grows"
               % v, grow)
        pool = prom.values('sum(goleaktrace_parked_goroutines{pid="%d",%s})'
                           % (pid, site("worker")), start, end)
        tap.ok(pool and len(pool) >= 10 and 12 <= min(pool) and
               max(pool) <= 16 and max(pool) - min(pool) <= 4,
               "%s: the idle pool's series stays flat" % v, pool)
        cls = prom.api("query", query='count by (class) (goleaktrace_parked_'
                       'goroutines{pid="%d",%s})' % (pid, site("worker")))
        tap.eq([r["metric"].get("class") for r in cls["data"]["result"]]
               if cls else None, ["idle_pool"],
               "%s: the pool is an idle_pool" % v)
        spawned = prom.values('sum(goleaktrace_goroutines_spawned_total'
                              '{pid="%d",%s})' % (pid, site("sender",
                              "main.fetchWithTimeout")), start, end)
        tap.ok(spawned and spawned[-1] >= spawned[0] + 20,
               "%s: the leaking site's spawn counter grows" % v, spawned)

        # Every query of the dashboard runs here.
        _, exprs = dashboard_exprs()
        bad = []
        for expr in exprs:
            expr = expr.replace("$namespace", ".*").replace("$pod", ".*") \
                .replace("$binary", ".*")
            data = prom.api("query", query=expr)
            if data is None or not data["data"]["result"]:
                bad.append(expr)
        tap.eq(bad, [], "%s: every dashboard query runs and finds data" % v)
    finally:
        if tracer:
            tracer.stop()
            out, err = tracer.finish()
            tap.eq(tracer.p.returncode, 0, "%s: goleaktrace exit status 0"
                   % v)
        if prom:
            prom.stop()
        if zoo:
            zoo.stop()
    names = sorted(os.listdir(profiles)) if os.path.isdir(profiles) else []
    tap.ok(pid and len(names) == KEEP and all(re.match(
        r"goleaktrace-%d-\d{8}T\d{6}\.\d{3}Z\.pb\.gz$" % pid, n)
        for n in names), "%s: --profile-dir keeps the newest %d profiles"
        % (v, KEEP), names)
    subprocess.run(["rm", "-rf", tmp])


def check_all(tap, version):
    """--all: a process that exits leaves /metrics; the other stays."""
    v = "go%s --all" % version
    zoos, tracer = [], None
    try:
        for _ in range(2):
            zoo = Process([fixture(version, "leakzoo"), "-rate", "1"])
            m, _ = zoo.wait_line("stdout", r"ready pid=(\d+)")
            zoos.append((zoo, int(m.group(1)) if m else 0))
        tracer = Process([TOOL, "--all", "-t", "1s", "-i", "1s",
                          "--metrics", "127.0.0.1:0"])
        m, seen = tracer.wait_line("stderr", r"port (\d+) ")
        if not tap.ok(m, "%s: serving metrics" % v, "\n".join(seen)):
            return
        url = "http://127.0.0.1:%s/metrics" % m.group(1)
        pids = ['pid="%d"' % pid for _, pid in zoos]

        def wait_for(cond):
            deadline = time.time() + 20
            while time.time() < deadline:
                text = http_get(url)[1]
                if cond(text):
                    return text
                time.sleep(0.5)
            return text

        text = wait_for(lambda t: all(p in t for p in pids))
        tap.ok(all(p in text for p in pids), "%s: both processes in "
               "/metrics" % v)
        zoos[0][0].stop(signal.SIGKILL)
        text = wait_for(lambda t: pids[0] not in t)
        tap.ok(pids[0] not in text and pids[1] in text and
               "goleaktrace_target_info{" in text,
               "%s: the process that exited left /metrics, the other "
               "stayed" % v)
    finally:
        if tracer:
            tracer.stop()
        for zoo, _ in zoos:
            zoo.stop()


def main():
    tap = Tap()
    check_files(tap)
    if not os.path.exists(TOOL):
        tap.ok(False, "goleaktrace is built")
        tap.done()
    check_cli(tap)
    versions = go_versions()
    if not is_root():
        tap.skip("end-to-end tests need root")
    elif not versions:
        tap.ok(False, "Go fixtures are built (tools/build-fixtures.sh)")
    else:
        check_prometheus(tap, versions[-1])
        check_all(tap, versions[-1])
    tap.done()


if __name__ == "__main__":
    main()
