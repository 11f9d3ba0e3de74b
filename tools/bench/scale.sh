#!/usr/bin/env bash
# The scale figures (issues 4 and 7): goleaktrace against a Go program with
# N parked goroutines (tests/fixtures/scalezoo), for bench/RESULTS.md.
#
#   tools/bench/scale.sh                 N = 100000 and 1000000, Go 1.22
#   SCALE_N="1000000" SCALE_GO="1.19 1.27" tools/bench/scale.sh
#
# For each N and Go version:
#  1. the pipeline, stage by stage (tools/bench/scale.c, built here into
#     .output/bench/scale): attach snapshot, then per report the goroutine
#     table, classification, and the terminal, JSON and pprof reporters;
#     for goroutines parked before attach (the snapshot's), as if parked
#     after it (the probes'), and with --no-probes' rescan every report;
#  2. goleaktrace itself, default options and --no-probes, under
#     /usr/bin/time: wall time, CPU and peak RSS of a whole run.
# Output: SCALE_OUT (default ~/.cache/goleaktrace/bench/scale-DATE) holds
# the raw logs and summary.txt, also printed. Root: process_vm_readv and
# the probes. Timings are measurements, never test assertions.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
CACHE=${GOLEAKTRACE_CACHE:-$HOME/.cache/goleaktrace}
read -ra NS <<<"${SCALE_N:-100000 1000000}"
read -ra GOS <<<"${SCALE_GO:-1.22}"
REPORTS=${SCALE_REPORTS:-3}
OUT=${SCALE_OUT:-$CACHE/bench/scale-$(date +%Y%m%d-%H%M%S)}
GLT=${GLT:-$ROOT/goleaktrace}

die() {
	echo "scale: $*" >&2
	exit 1
}

((EUID == 0)) || die "run as root (process_vm_readv, uprobes)"
[[ -x $GLT ]] || die "$GLT is not built (make)"
[[ -e .output/libgoleaktrace.a ]] || die "run make first"
mkdir -p "$OUT" .output/bench
make -s .output/bench/scale || die "building tools/bench/scale.c failed"
for m in "${GOS[@]}"; do
	FIXTURES=scalezoo tools/build-fixtures.sh "$m" >/dev/null ||
		die "go$m: building scalezoo failed"
done

zoo_pid=
stop_zoo() {
	if [[ -n $zoo_pid ]]; then
		kill "$zoo_pid" 2>/dev/null || true
		wait "$zoo_pid" 2>/dev/null || true
	fi
	zoo_pid=
}
trap stop_zoo EXIT

# start_zoo GO N LOG: scalezoo parking N goroutines; waits until they are.
start_zoo() {
	local i
	"tests/.build/go$1/scalezoo" -n "$2" >"$3" 2>&1 &
	zoo_pid=$!
	for ((i = 0; i < 1200; i++)); do
		grep -q '^parked' "$3" && return 0
		sleep 0.1
	done
	die "go$1: scalezoo -n $2 did not park its goroutines in 120 s"
}

summary=$OUT/summary.txt
{
	echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -r), $(nproc) CPUs," \
		"goleaktrace $(git rev-parse --short HEAD 2>/dev/null || echo ?)"
	printf '%-6s %-8s %-9s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n' go N case \
		snapshot snap_cpu rescan gtable classify term json pprof rss_mib
} >"$summary"

for m in "${GOS[@]}"; do
	for n in "${NS[@]}"; do
		log=$OUT/go$m-$n
		start_zoo "$m" "$n" "$log.zoo"
		for mode in attached probes noprobes; do
			arg=$mode
			[[ $mode == attached ]] && arg=
			.output/bench/scale "$zoo_pid" "$REPORTS" $arg \
				>"$log.$mode" 2>&1 || die "scale $mode failed: $log.$mode"
			# Medians over the reports; snapshot once.
			# Medians over the reports (the snapshot is one): wall
			# seconds, and the snapshot's CPU seconds.
			awk -v go="$m" -v n="$n" -v mode="$mode" '
				$1 == "maxrss_mib" { rss = $2 }
				NF == 4 && $2 ~ /^[0-9]+$/ {
					v[$1] = v[$1] " " $3; c[$1] = c[$1] " " $4
				}
				function med(s,   a, k, i, j, x) {
					if (s == "") return "-"
					k = split(s, a, " ")
					for (i = 2; i <= k; i++)
						for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
							x = a[j]; a[j] = a[j - 1]; a[j - 1] = x
						}
					return a[int((k + 1) / 2)]
				}
				END {
					printf "%-6s %-8s %-9s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n",
						go, n, mode, med(v["snapshot"]),
						med(c["snapshot"]), med(v["rescan"]),
						med(v["gtable"]), med(v["classify"]),
						med(v["term"]), med(v["json"]),
						med(v["pprof"]), rss
				}' "$log.$mode" >>"$summary"
		done
		# The whole tool: 3 reports, 2 s apart; threshold 1 s. Each
		# stderr line is stamped with the seconds since the start: the
		# "already parked at attach" one says when attaching was done.
		for opt in "" --no-probes; do
			name=glt${opt:+-noprobes}
			/usr/bin/time -f "wall %e s, user %U s, sys %S s, maxrss %M KiB" \
				"$GLT" -p "$zoo_pid" -t 1s -i 2s -d 6s $opt \
				2>&1 >"$log.$name.out" | python3 -c '
import sys, time
t0 = time.monotonic()
for line in sys.stdin:
    sys.stdout.write("%.3f %s" % (time.monotonic() - t0, line))
' >"$log.$name.err"
			attach=$(awk '/already parked at attach/ { print $1 }' "$log.$name.err")
			echo "go$m N=$n goleaktrace $opt: attached after ${attach:-?} s;" \
				"$(tail -1 "$log.$name.err" | cut -d' ' -f2-)" >>"$summary.tool"
		done
		stop_zoo
	done
done
cat "$summary.tool" >>"$summary"
rm -f "$summary.tool"
cat "$summary"
