#!/usr/bin/env bash
# The fleet figure (issue 9): goleaktrace's own CPU and RSS while --all
# watches a node's worth of Go processes, read from its --metrics
# (goleaktrace_self_cpu_seconds_total, goleaktrace_self_resident_memory_bytes)
# and, as a cross-check, from /proc/PID/stat and /proc/PID/status. For
# bench/RESULTS.md.
#
#   tools/bench/fleet.sh                 20 processes x 10k goroutines, 3 min
#   FLEET_SECONDS=60 FLEET_PROCS=4 tools/bench/fleet.sh
#
# Environment:
#   FLEET_SECONDS   how long goleaktrace runs, seconds (default 180)
#   FLEET_PROCS     Go processes (default 20), spread over FLEET_GO
#   FLEET_N         parked goroutines in each (default 10000)
#   FLEET_GO        Go minors whose scalezoo they run (default "1.22 1.27":
#                   two binaries hooked)
#   FLEET_INTERVAL  goleaktrace's -i, and the scrape period, seconds (10)
#   FLEET_ARGS      more goleaktrace options, e.g. "--max-overhead 100"
#   FLEET_OUT       output folder (default
#                   ~/.cache/goleaktrace/bench/fleet-DATE)
#   GLT             the binary (default ./goleaktrace)
#
# The processes are tests/fixtures/scalezoo -n FLEET_N, copied into
# FLEET_OUT as scalezoo-go1.XX (their binary label), all parked before
# goleaktrace starts. They run in a cgroup of their own and goleaktrace
# gets --cgroup: --all alone would also watch every other Go process on
# the machine (other sessions' tests). goleaktrace runs as
#   goleaktrace --all --cgroup /glt-fleet-PID -i 10s -t 5s \
#       --metrics 127.0.0.1:0 [FLEET_ARGS]
# and /metrics is scraped every interval. The steady state runs from the
# first report to the last (the attach snapshots come before it); the
# metrics' CPU seconds are taken at each report, so their rate is over
# the reports' own timestamps. Output in FLEET_OUT: samples.tsv (one row
# per scrape), metrics.txt (the last scrape), goleaktrace's stdout and
# stderr, summary.txt (also printed). Root: uprobes, process_vm_readv,
# cgroups. Timings are measurements, never test assertions.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
CACHE=${GOLEAKTRACE_CACHE:-$HOME/.cache/goleaktrace}
SECS=${FLEET_SECONDS:-180}
PROCS=${FLEET_PROCS:-20}
N=${FLEET_N:-10000}
read -ra GOS <<<"${FLEET_GO:-1.22 1.27}"
INTERVAL=${FLEET_INTERVAL:-10}
read -ra EXTRA <<<"${FLEET_ARGS:-}"
OUT=${FLEET_OUT:-$CACHE/bench/fleet-$(date +%Y%m%d-%H%M%S)}
GLT=${GLT:-$ROOT/goleaktrace}

die() {
	echo "fleet: $*" >&2
	exit 1
}

((EUID == 0)) || die "run as root (uprobes, process_vm_readv, cgroups)"
[[ -x $GLT ]] || die "$GLT is not built (make)"
for v in SECS PROCS N INTERVAL; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v=${!v}: a positive integer"
done
((${#GOS[@]} > 0)) || die "FLEET_GO is empty"

# A cgroup of our own, in the v2 hierarchy if there is one (pure v2 at
# /sys/fs/cgroup, hybrid at .../unified), else v1's pids hierarchy.
# --cgroup takes the path as /proc/PID/cgroup shows it: /glt-fleet-PID.
CGNAME=glt-fleet-$$
if [[ -e /sys/fs/cgroup/cgroup.controllers ]]; then
	CG=/sys/fs/cgroup/$CGNAME
elif [[ -d /sys/fs/cgroup/unified ]]; then
	CG=/sys/fs/cgroup/unified/$CGNAME
else
	CG=/sys/fs/cgroup/pids/$CGNAME
fi

zoo_pids=()
glt_pid=
mon_pid=
# Stops only what this script started: the scraper, goleaktrace (SIGINT,
# its final report), then the fixtures; then the cgroup.
# shellcheck disable=SC2317  # reached through the trap
cleanup() {
	local i p
	trap - EXIT INT TERM
	[[ -z $mon_pid ]] || kill "$mon_pid" 2>/dev/null || true
	if [[ -n $glt_pid ]] && kill -INT "$glt_pid" 2>/dev/null; then
		for ((i = 0; i < 300; i++)); do
			kill -0 "$glt_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$glt_pid" 2>/dev/null || true
		wait "$glt_pid" 2>/dev/null || true
	fi
	for p in "${zoo_pids[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	for p in "${zoo_pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	[[ ! -d $CG ]] || rmdir "$CG" 2>/dev/null ||
		echo "fleet: could not remove the cgroup $CG" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$OUT/bin" "$OUT/zoo"
for m in "${GOS[@]}"; do
	src=tests/.build/go$m/scalezoo
	if [[ ! -x $src ]]; then
		FIXTURES=scalezoo tools/build-fixtures.sh "$m" >/dev/null ||
			die "go$m: building scalezoo failed"
	fi
	cp "$src" "$OUT/bin/scalezoo-go$m"
done
mkdir "$CG" || die "cannot make the cgroup $CG"

# Each fixture joins the cgroup before it execs, so all of it is inside.
for ((i = 0; i < PROCS; i++)); do
	m=${GOS[i % ${#GOS[@]}]}
	sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" -n "$3"' sh "$CG" \
		"$OUT/bin/scalezoo-go$m" "$N" >"$OUT/zoo/$i.log" 2>&1 &
	zoo_pids+=($!)
done
for ((i = 0; i < PROCS; i++)); do
	for ((t = 0; t < 1200; t++)); do
		grep -q '^parked' "$OUT/zoo/$i.log" && break
		kill -0 "${zoo_pids[i]}" 2>/dev/null ||
			die "fixture $i exited: $(cat "$OUT/zoo/$i.log")"
		sleep 0.1
	done
	grep -q '^parked' "$OUT/zoo/$i.log" ||
		die "fixture $i did not park its goroutines in 120 s"
done

cmd=("$GLT" --all --cgroup "/$CGNAME" -i "${INTERVAL}s" -t 5s
     --metrics 127.0.0.1:0 "${EXTRA[@]}")
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
"${cmd[@]}" >"$OUT/glt.out" 2>"$OUT/glt.err" &
glt_pid=$!
port=
for ((t = 0; t < 100 && ${#port} == 0; t++)); do
	port=$(sed -n 's/^goleaktrace: serving metrics on .*, port \([0-9]*\) .*/\1/p' \
		"$OUT/glt.err")
	kill -0 "$glt_pid" 2>/dev/null || die "goleaktrace exited: $(cat "$OUT/glt.err")"
	[[ -n $port ]] || sleep 0.1
done
[[ -n $port ]] || die "goleaktrace did not say its metrics port: $OUT/glt.err"

{
	echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -r), $(nproc) CPUs," \
		"$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)," \
		"$(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
	echo "# goleaktrace at $(git rev-parse --short HEAD 2>/dev/null || echo ?)$(
		git diff --quiet HEAD -- bpf user 2>/dev/null ||
			echo ', with bpf/ or user/ changed since')"
	echo "# $PROCS x scalezoo -n $N (Go ${GOS[*]}), ${SECS} s, load average" \
		"at start $load_start"
	echo "# ${cmd[*]/#$ROOT\//./}"
} >"$OUT/summary.txt"

# Scrape until SECS after goleaktrace started, then summarize. In the
# background, so that a signal to this script stops it at once.
python3 - "$glt_pid" "$port" "$SECS" "$INTERVAL" "$OUT" "${zoo_pids[@]}" \
	>>"$OUT/summary.txt" <<'EOF' &
import os
import re
import sys
import time
import urllib.request

glt, port, secs, interval, out = sys.argv[1:6]
zoo = sys.argv[6:]
secs, interval = int(secs), int(interval)
HZ = os.sysconf("SC_CLK_TCK")
SAMPLE = re.compile(r"^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)")


def cpu_seconds(pid):
    """utime + stime of a process, seconds (0 once it is gone)."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / HZ


def status_bytes(pid, key):
    try:
        with open("/proc/%s/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def scrape():
    url = "http://127.0.0.1:%s/metrics" % port
    with urllib.request.urlopen(url, timeout=5) as r:
        text = r.read().decode()
    sums = {}
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if m:
            sums[m.group(1)] = sums.get(m.group(1), 0.0) + float(m.group(3))
    return text, sums


COLS = ["t", "load1", "report_ts", "self_cpu", "self_rss", "watched",
        "parked", "attached_ratio", "overhead_cores", "probe_events",
        "dropped", "proc_cpu", "proc_rss", "proc_hwm", "targets_cpu"]
rows = []
start = time.monotonic()
last_text = ""
with open(os.path.join(out, "samples.tsv"), "w") as tsv:
    tsv.write("\t".join(COLS) + "\n")
    while True:
        t = time.monotonic() - start
        text, m = scrape()
        last_text = text
        with open("/proc/loadavg") as f:
            load1 = float(f.read().split()[0])
        row = dict(
            t=t, load1=load1,
            report_ts=m.get("goleaktrace_last_report_timestamp_seconds", 0),
            self_cpu=m.get("goleaktrace_self_cpu_seconds_total", 0),
            self_rss=m.get("goleaktrace_self_resident_memory_bytes", 0),
            watched=m.get("goleaktrace_watched_processes", 0),
            parked=m.get("goleaktrace_parked_goroutines", 0),
            attached_ratio=m.get("goleaktrace_probes_attached_ratio", -1),
            overhead_cores=m.get("goleaktrace_probes_overhead_cores", -1),
            probe_events=m.get("goleaktrace_probe_events_total", 0),
            dropped=m.get("goleaktrace_dropped_events_total", 0),
            proc_cpu=cpu_seconds(glt),
            proc_rss=status_bytes(glt, "VmRSS"),
            proc_hwm=status_bytes(glt, "VmHWM"),
            targets_cpu=sum(cpu_seconds(p) for p in zoo))
        rows.append(row)
        tsv.write("\t".join("%.3f" % row[c] for c in COLS) + "\n")
        tsv.flush()
        if t + interval > secs + 1:
            break
        time.sleep(max(0.0, interval - (time.monotonic() - start - t)))
with open(os.path.join(out, "metrics.txt"), "w") as f:
    f.write(last_text)

MIB = 1 << 20
# The first report: the first scrape whose report timestamp moved from
# the one published at start.
first = next((i for i, r in enumerate(rows)
              if r["report_ts"] != rows[0]["report_ts"]), None)
if first is None or first == len(rows) - 1:
    print("no steady state: fewer than two reports in %d s" % secs)
    sys.exit(1)
steady = rows[first:]
reports = []
for r in steady:
    if not reports or r["report_ts"] != reports[-1]["report_ts"]:
        reports.append(r)


def rate(a, b, key, clock):
    return 100 * (b[key] - a[key]) / (b[clock] - a[clock])


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else \
        (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


per_report = [rate(a, b, "self_cpu", "report_ts")
              for a, b in zip(reports, reports[1:])]
a, b = steady[0], steady[-1]
loads = [r["load1"] for r in rows]
print("steady state: %d reports, %.0f s (from the first report, %.0f s "
      "after start)" % (len(reports), b["t"] - a["t"], a["t"]))
print("metrics: CPU %.2f%% of one core (per report: median %.2f%%, max "
      "%.2f%%); RSS peak %.1f MiB, last %.1f MiB" % (
          rate(reports[0], reports[-1], "self_cpu", "report_ts"),
          median(per_report), max(per_report),
          max(r["self_rss"] for r in rows) / MIB, b["self_rss"] / MIB))
print("metrics: CPU until the first report (attach, snapshots): %.2f s" %
      a["self_cpu"])
print("metrics: watched processes %d (min %d over the steady state); "
      "parked goroutines %d (min %d, max %d)" % (
          b["watched"], min(r["watched"] for r in steady), b["parked"],
          min(r["parked"] for r in steady),
          max(r["parked"] for r in steady)))
print("metrics: probes attached %.0f%% of the time (median of reports), "
      "probe cost %.4f cores (budget from --max-overhead), probe events "
      "%d, dropped %d" % (
          100 * median([r["attached_ratio"] for r in reports]),
          median([r["overhead_cores"] for r in reports]),
          b["probe_events"], b["dropped"]))
print("/proc: CPU %.2f%% of one core over the same scrapes; from the "
      "first scrape %.2f%%; VmHWM %.1f MiB, VmRSS last %.1f MiB" % (
          rate(a, b, "proc_cpu", "t"), rate(rows[0], b, "proc_cpu", "t"),
          b["proc_hwm"] / MIB, b["proc_rss"] / MIB))
print("/proc: the %d targets together: CPU %.2f%% of one core over the "
      "steady state" % (len(zoo), rate(a, b, "targets_cpu", "t")))
print("load average (1 min) during the run: min %.2f, median %.2f, "
      "max %.2f" % (min(loads), median(loads), max(loads)))
EOF
mon_pid=$!
rc=0
wait "$mon_pid" || rc=$?
mon_pid=
cat "$OUT/summary.txt"
echo "fleet: raw data in $OUT"
exit "$rc"
