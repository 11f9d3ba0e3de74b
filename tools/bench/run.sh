#!/usr/bin/env bash
# The overhead benchmark (issue 7): Go workloads x Go versions x variants,
# in alternating order, medians of several rounds. `make bench` runs it.
#
#   tools/bench/run.sh                      the full run (~12.5 min)
#   BENCH_ROUNDS=1 BENCH_SECONDS=1 BENCH_GO=1.22 BENCH_WORKLOADS=pingpong \
#       tools/bench/run.sh                  a quick look
#   tools/bench/run.sh --summarize DIR      the tables again, from a run's raw.tsv
#
# Environment:
#   BENCH_ROUNDS     rounds, each runs every variant once (default 6)
#   BENCH_SECONDS    measured window per run, seconds (default 1.5)
#   BENCH_GO         Go minors (default "1.19 1.22 1.27")
#   BENCH_WORKLOADS  any of "pingpong spawn http" (default: all three)
#   BENCH_VARIANTS   a subset of the variants below (default: all known)
#   BENCH_TARGET_CPU CPU of the measured process (default 0)
#   BENCH_AUX_CPU    CPU of the tracer and of the http load generator
#                    (default 1)
#   BENCH_HTTP_CONNS keep-alive connections of the load generator (16)
#   BENCH_OUT        output folder (default ~/.cache/goleaktrace/bench/run-DATE,
#                    i.e. $GOLEAKTRACE_CACHE/bench/..., out of `make clean`'s way)
#   GLT, FLOOR       the binaries (default ./goleaktrace, .output/bench/floor)
#
# Placement (the machine has 2 cores): the measured process runs with
# GOMAXPROCS=1 pinned to BENCH_TARGET_CPU; tracers (their user-space side),
# and the http load generator (GOMAXPROCS=1), run on BENCH_AUX_CPU. The BPF
# programs run in the target's context, so their cost lands on the target's
# CPU and shows in its CPU time.
#
# One run: start the workload (it waits for SIGUSR1); start the variant's
# tracer and wait for its "tracing pid" line; measure (SIGUSR1, or start
# the http load generator); read the result line; stop the tracer (SIGINT)
# and read the event counts of its final report; stop the workload.
#
# Before the timed rounds, one counting run per workload and Go version
# attaches `floor --stats -v`, `floor --stackid` and `goleaktrace -v`
# together: it checks that floor and goleaktrace probe the same addresses,
# that goleaktrace counts every probe hit, and records each BPF program's
# run time from the kernel's statistics (bpfstats.tsv).
#
# Output: BENCH_OUT/raw.tsv (one row per run), bpfstats.tsv, meta.txt,
# logs/, bin/ (the exact binaries run), and the tables
# (tools/bench/summarize.py) on stdout and in BENCH_OUT/summary.txt.
# Timings are measurements, never test assertions.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

die() {
	echo "bench: $*" >&2
	exit 1
}

if [[ ${1:-} == --summarize ]]; then
	(($# == 2)) || die "usage: tools/bench/run.sh --summarize DIR"
	exec python3 tools/bench/summarize.py "$2/raw.tsv"
fi
(($# == 0)) || die "unknown argument $1 (see the header of $0)"

ROUNDS=${BENCH_ROUNDS:-6}
WINDOW=${BENCH_SECONDS:-1.5}
read -ra GOS <<<"${BENCH_GO:-1.19 1.22 1.27}"
read -ra WORKLOADS <<<"${BENCH_WORKLOADS:-pingpong spawn http}"
TARGET_CPU=${BENCH_TARGET_CPU:-0}
AUX_CPU=${BENCH_AUX_CPU:-1}
HTTP_CONNS=${BENCH_HTTP_CONNS:-16}
WARMUP=300ms
CUR_WARMUP=$WARMUP	# of the variant being run
GLT=${GLT:-$ROOT/goleaktrace}
FLOOR=${FLOOR:-$ROOT/.output/bench/floor}
CACHE=${GOLEAKTRACE_CACHE:-$HOME/.cache/goleaktrace}
# Not under .output: a `make clean` elsewhere must not wipe a running bench.
OUT=${BENCH_OUT:-$CACHE/bench/run-$(date +%Y%m%d-%H%M%S)}

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer"
[[ $WINDOW =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "BENCH_SECONDS must be a number of seconds"
for w in "${WORKLOADS[@]}"; do
	case $w in pingpong | spawn | http) ;; *) die "unknown workload '$w' (pingpong spawn http)" ;; esac
done
((EUID == 0)) || die "run as root (uprobes and BPF)"
[[ -x $GLT ]] || die "$GLT missing; run make (or make bench)"
[[ -x $FLOOR ]] || die "$FLOOR missing; run make bench"
command -v taskset >/dev/null || die "taskset is needed (util-linux)"
command -v python3 >/dev/null || die "python3 is needed for the tables"

# --- processes ----------------------------------------------------------------
# Every process started here is remembered by PID and only those are ever
# signalled.
STARTED=()
cleanup() {
	local p
	for p in "${STARTED[@]+"${STARTED[@]}"}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_line FILE REGEX TIMEOUT_S PID: 0 once FILE has a line matching
# REGEX; 1 on timeout or when PID exits first.
wait_line() {
	local f=$1 re=$2 t=$3 p=$4 i
	for ((i = 0; i < t * 50; i++)); do
		grep -qE -- "$re" "$f" 2>/dev/null && return 0
		if ! kill -0 "$p" 2>/dev/null; then
			grep -qE -- "$re" "$f" 2>/dev/null && return 0
			return 1
		fi
		sleep 0.02
	done
	return 1
}

# stop PID SIGNAL: signal, wait up to 30 s, then SIGKILL. Returns the
# exit status.
stop() {
	local p=$1 sig=$2 i t rc=0
	kill "-$sig" "$p" 2>/dev/null || true
	for ((i = 0; i < 1500; i++)); do
		kill -0 "$p" 2>/dev/null || break
		# a zombie child still answers kill -0; wait reaps it below
		[[ $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) == Z ]] && break
		sleep 0.02
	done
	if kill -0 "$p" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) != Z ]]; then
		echo "bench: pid $p ignored SIG$sig for 30 s, killing it (state in $OUT/logs/stuck-$p.txt)" >&2
		{
			tr '\0' ' ' <"/proc/$p/cmdline"
			echo
			ps -L -o pid,lwp,stat,wchan:32,pcpu,comm -p "$p"
			for t in /proc/"$p"/task/*; do
				echo "--- $t: $(cut -d' ' -f3 "$t/stat" 2>/dev/null)"
				cat "$t/stack" 2>/dev/null
			done
			grep -E '^(State|SigQ|SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt|TracerPid)' "/proc/$p/status"
		} >"$OUT/logs/stuck-$p.txt" 2>&1 || true
		kill -KILL "$p" 2>/dev/null || true
	fi
	wait "$p" 2>/dev/null || rc=$?
	forget "$p"
	return $rc
}

# Reaped: its PID may now be reused by anyone, so never signal it again.
forget() {
	local -a keep=()
	local q
	for q in "${STARTED[@]+"${STARTED[@]}"}"; do
		[[ $q == "$1" ]] || keep+=("$q")
	done
	STARTED=("${keep[@]+"${keep[@]}"}")
}

# Starts the measured process of workload $1 (Go $2, workload flags $3)
# with logs under prefix $4; sets WL_PID (and WL_ADDR for http).
start_workload() {
	local w=$1 m=$2 flags=$3 log=$4 bin=$OUT/bin/go$2/workload
	local -a f
	read -ra f <<<"$flags"
	if [[ $w == http ]]; then
		env GOMAXPROCS=1 taskset -c "$TARGET_CPU" "$bin" httpserver "${f[@]}" \
			>"$log.wl.out" 2>"$log.wl.err" &
	else
		env GOMAXPROCS=1 taskset -c "$TARGET_CPU" "$bin" "$w" -wait \
			-d "${WINDOW}s" -warmup "$CUR_WARMUP" "${f[@]}" \
			>"$log.wl.out" 2>"$log.wl.err" &
	fi
	WL_PID=$!
	STARTED+=("$WL_PID")
	wait_line "$log.wl.out" '^ready ' 10 "$WL_PID" ||
		die "go$m $w did not start (see $log.wl.err)"
	WL_ADDR=$(sed -n 's/^ready .*addr=\([^ ]*\).*/\1/p' "$log.wl.out")
}

# measure WORKLOAD GO LOGPREFIX: starts the measurement, waits for the
# result line (in LOG.wl.out, or LOG.load.out for http) and sets RESULT.
measure() {
	local w=$1 m=$2 log=$3 bin=$OUT/bin/go$2/workload timeout lp
	RESULT=
	timeout=$(awk -v s="$WINDOW" 'BEGIN { printf "%d", s + 30 }')
	if [[ $w == http ]]; then
		env GOMAXPROCS=1 taskset -c "$AUX_CPU" "$bin" httpload -addr "$WL_ADDR" \
			-c "$HTTP_CONNS" -d "${WINDOW}s" -warmup "$CUR_WARMUP" \
			>"$log.load.out" 2>"$log.load.err" &
		lp=$!
		STARTED+=("$lp")
		wait_line "$log.load.out" '^result ' "$timeout" "$lp" || return 1
		stop "$lp" TERM || true
		RESULT=$(grep -m1 '^result ' "$log.load.out")
	else
		kill -USR1 "$WL_PID"
		wait_line "$log.wl.out" '^result ' "$timeout" "$WL_PID" || return 1
		RESULT=$(grep -m1 '^result ' "$log.wl.out")
	fi
}

# glt_events FILE: "PARKS SPAWNS EXITS" from the last "events: N parks,
# N spawns, N exits" line of goleaktrace's report in FILE, "" if none.
glt_events() {
	{ grep -E '^events: ' "$1" || true; } | tail -n1 |
		sed -nE 's/^events: ([0-9]+) parks, ([0-9]+) spawns, ([0-9]+) exits.*/\1 \2 \3/p'
}

# kv LINE KEY: the value of KEY=VALUE in LINE, "" if absent.
kv() { sed -n "s/.*[[:space:]]$2=\([^[:space:]]*\).*/\1/p" <<<" $1"; }

loadavg() { cut -d' ' -f1 /proc/loadavg; }

# --- one timed run --------------------------------------------------------------
# run_one ROUND WORKLOAD GO VARIANT: appends a row to raw.tsv.
run_one() {
	local r=$1 w=$2 m=$3 v=$4 log status=ok res="" tp="" ev="" rc
	local -a tracer
	log=$OUT/logs/r$r-$w-go$m-$v
	read -ra tracer <<<"${V_TRACER[$v]}"
	local la
	la=$(loadavg)
	CUR_WARMUP=${V_WARMUP[$v]}
	start_workload "$w" "$m" "${V_FLAGS[$v]}" "$log"
	if ((${#tracer[@]})); then
		taskset -c "$AUX_CPU" "${tracer[@]}" -p "$WL_PID" \
			>"$log.tracer.out" 2>"$log.tracer.err" &
		tp=$!
		STARTED+=("$tp")
		if ! wait_line "$log.tracer.err" "$READY_RE" 60 "$tp"; then
			status=attach_failed
		fi
	fi
	if [[ $status == ok ]]; then
		measure "$w" "$m" "$log" || status=no_result
		res=$RESULT
	fi
	if [[ -n $tp ]]; then
		rc=0
		stop "$tp" INT || rc=$?
		[[ $status == ok && $rc != 0 ]] && status=tracer_exit_$rc
		ev=$(glt_events "$log.tracer.out")
	fi
	if [[ -n $tp && ${tracer[0]} == "$GLT" && -z $ev ]]; then
		echo "bench: warning: no \"events: N parks, N spawns, N exits\" line from goleaktrace (see $log.tracer.out)" >&2
	fi
	stop "$WL_PID" TERM || true
	local -a e
	read -ra e <<<"${ev:-- - -}"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$r" "$w" "$m" "$v" "$status" "$(kv "$res" seconds)" "$(kv "$res" ops)" \
		"$(kv "$res" cpu_ns)" "$(kv "$res" server_ops)" "$(kv "$res" ops_total)" \
		"${e[0]}" "${e[1]}" "${e[2]}" "$la" "$(kv "$res" go)" \
		>>"$OUT/raw.tsv"
	printf '  round %s  %-8s go%-5s %-14s %s %s ops/s\n' "$r" "$w" "$m" "$v" \
		"$status" "$(kv "$res" ops_per_sec)"
}

# --- counting run -----------------------------------------------------------------
# prog_stats PID TOOL LOG: appends "workload go tool prog run_cnt
# run_time_ns" rows to bpfstats.tsv for the BPF programs PID holds open
# (found through /proc/PID/fdinfo, so other tracers on the machine are
# left out). Needs the kernel's BPF stats on (floor --stats holds them).
prog_stats() {
	local p=$1 tool=$2 w=$3 m=$4 ids
	ids=$(cat /proc/"$p"/fdinfo/* 2>/dev/null | sed -n 's/^prog_id:[[:space:]]*//p' | sort -un | tr '\n' ' ')
	[[ -n $ids ]] || return 0
	bpftool -j prog show | python3 -c '
import json, sys
ids = set(int(i) for i in sys.argv[1].split())
for p in json.load(sys.stdin):
    if p["id"] in ids:
        print("\t".join([sys.argv[2], sys.argv[3], sys.argv[4], p.get("name", "?"),
                         str(p.get("run_cnt", 0)), str(p.get("run_time_ns", 0))]))
' "$ids" "$w" "$m" "$tool" >>"$OUT/bpfstats.tsv" || true
}

# count_events WORKLOAD GO: one untimed run with `floor --stats -v`,
# `floor --stackid` and `goleaktrace -v` attached together. Checks that
# floor and goleaktrace probe the same addresses (dies if not), appends
# "count" rows to raw.tsv (probe hits from the kernel's run counts, and
# goleaktrace's own counts) and each program's run time to bpfstats.tsv.
count_events() {
	local w=$1 m=$2 log fp sp gp cnt gev
	log=$OUT/logs/count-$w-go$m
	start_workload "$w" "$m" "" "$log"
	# floor --stats first: the kernel's run-time stats are on while it runs.
	taskset -c "$AUX_CPU" "$FLOOR" --stats -v -p "$WL_PID" >"$log.floor.out" 2>"$log.floor.err" &
	fp=$!
	STARTED+=("$fp")
	wait_line "$log.floor.err" 'tracing pid' 60 "$fp" || die "floor failed on go$m $w (see $log.floor.err)"
	taskset -c "$AUX_CPU" "$FLOOR" --stackid -p "$WL_PID" >"$log.stackid.out" 2>"$log.stackid.err" &
	sp=$!
	STARTED+=("$sp")
	taskset -c "$AUX_CPU" "$GLT" -v $GLT_ALWAYS -p "$WL_PID" >"$log.glt.out" 2>"$log.glt.err" &
	gp=$!
	STARTED+=("$gp")
	wait_line "$log.stackid.err" 'tracing pid' 60 "$sp" || die "floor --stackid failed on go$m $w (see $log.stackid.err)"
	wait_line "$log.glt.err" 'tracing pid' 60 "$gp" || die "goleaktrace failed on go$m $w (see $log.glt.err)"
	measure "$w" "$m" "$log" || die "go$m $w gave no result (see $log.*)"
	local res=$RESULT
	prog_stats "$fp" floor "$w" "$m"
	prog_stats "$sp" floor-stackid "$w" "$m"
	prog_stats "$gp" goleaktrace "$w" "$m"
	stop "$gp" INT || die "goleaktrace exited with an error (see $log.glt.err)"
	stop "$sp" INT || die "floor --stackid exited with an error (see $log.stackid.err)"
	stop "$fp" INT || die "floor exited with an error (see $log.floor.err)"
	stop "$WL_PID" TERM || true
	# "runtime.gopark+10 (0x43a9aa" (name, offset, address), same order in both.
	diff <(grep -oE 'runtime\.[a-z0-9]+\+[0-9]+ \(0x[0-9a-f]+' "$log.floor.err") \
		<(grep -oE 'runtime\.[a-z0-9]+\+[0-9]+ \(0x[0-9a-f]+' "$log.glt.err") >"$log.diff" ||
		die "floor and goleaktrace probe different addresses on go$m (see $log.diff)"
	# Probe hits per function, from the kernel (floor) and from goleaktrace.
	cnt=$(awk '/^floor: stats/ { for (i = 1; i <= NF; i++) if ($i ~ /^run_cnt=/) { sub(/run_cnt=/, "", $i); printf "%s ", $i } }' "$log.floor.err")
	local -a c
	read -ra c <<<"$cnt"
	((${#c[@]} == 3)) || die "floor --stats printed no run counts (see $log.floor.err)"
	gev=$(glt_events "$log.glt.out")
	local -a g
	read -ra g <<<"${gev:-- - -}"
	local common
	common=$(printf '%s\t%s\t%s\t%s\t%s' "$(kv "$res" seconds)" "$(kv "$res" ops)" \
		"$(kv "$res" cpu_ns)" "$(kv "$res" server_ops)" "$(kv "$res" ops_total)")
	printf '0\t%s\t%s\tcount-floor\tok\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$w" "$m" "$common" "${c[@]}" "$(loadavg)" "$(kv "$res" go)" >>"$OUT/raw.tsv"
	printf '0\t%s\t%s\tcount-goleaktrace\tok\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$w" "$m" "$common" "${g[@]}" "$(loadavg)" "$(kv "$res" go)" >>"$OUT/raw.tsv"
	printf '  count    %-8s go%-5s probes match; hits/op: %s\n' "$w" "$m" \
		"$(awk -v p="${c[0]}" -v s="${c[1]}" -v e="${c[2]}" -v n="$(kv "$res" ops_total)" \
			'BEGIN { printf "park %.3f spawn %.3f exit %.3f", p / n, s / n, e / n }')"
}

# --- build ----------------------------------------------------------------------
build_workloads() {
	local m goroot out
	for m in "${GOS[@]}"; do
		goroot=$(tools/go-toolchains.sh --goroot "$m") ||
			die "Go $m missing; run tools/go-toolchains.sh $m"
		out=.output/bench/go$m/workload
		mkdir -p "$(dirname "$out")"
		if [[ -e $out && -z $(find tools/bench/workload -newer "$out" -print -quit) ]]; then
			continue
		fi
		env GOROOT="$goroot" GOTOOLCHAIN=local GO111MODULE=off CGO_ENABLED=0 \
			GOCACHE="$CACHE/gocache/$m" GOPATH="$CACHE/gopath" \
			"$goroot/bin/go" build -o "$out" ./tools/bench/workload ||
			die "go$m: building tools/bench/workload failed"
		echo "built $out"
	done
}

# --- variants ---------------------------------------------------------------
# variant NAME TRACER WORKLOAD_FLAGS [WARMUP]: TRACER is run as `TRACER -p PID` and
# must print "tracing pid" ("scanning pid" for --no-probes) on stderr once
# attached ("" = none); WORKLOAD_FLAGS go to the measured process. The
# order is the tables' column order.
READY_RE='(tracing|scanning) pid'
VARIANTS=()
declare -A V_TRACER=() V_FLAGS=() V_WARMUP=()
variant() {
	VARIANTS+=("$1")
	V_TRACER[$1]=$2
	V_FLAGS[$1]=$3
	V_WARMUP[$1]=${4:-$WARMUP}
}
glt_has() { "$GLT" --help 2>&1 | grep -q -- "$1"; }
# The counting run must see every hit: no duty cycling.
GLT_ALWAYS=
# The floor's links are goleaktrace's: uprobe_multi from Linux 6.6 on.
FLOOR_LINKS=
if printf '%s\n' 6.6 "$(uname -r | cut -d- -f1)" | sort -C -V; then
	FLOOR_LINKS=--multi
fi

# Called once GLT and FLOOR point at the run folder's copies.
define_variants() {
	local -a want
	local v
	if glt_has --max-overhead; then GLT_ALWAYS="--max-overhead 100"; fi
	variant baseline "" ""
	# The floor attaches the way goleaktrace does on this kernel.
	variant floor "$FLOOR $FLOOR_LINKS" ""
	variant floor-stackid "$FLOOR $FLOOR_LINKS --stackid" ""
	# Default options, default budget. Measured from 3 s after the load
	# starts: the budget's steady state, not its first seconds (the
	# workload idles until then, so goleaktrace starts fully attached
	# and takes a second or two to cut back; bench/RESULTS.md).
	variant goleaktrace "$GLT" "" 3s
	# Issue 7's other variants, run as soon as goleaktrace has the options.
	if glt_has --max-overhead; then variant glt-max100 "$GLT --max-overhead 100" ""; fi
	if glt_has --no-probes; then variant glt-noprobes "$GLT --no-probes" ""; fi
	variant runtime-trace "" "-trace"

	if [[ -n ${BENCH_VARIANTS:-} ]]; then
		read -ra want <<<"$BENCH_VARIANTS"
		for v in "${want[@]}"; do
			[[ -n ${V_TRACER[$v]+x} ]] || die "unknown variant '$v' (${VARIANTS[*]})"
		done
		[[ " ${want[*]} " == *" baseline "* ]] || die "BENCH_VARIANTS must include baseline"
		VARIANTS=("${want[@]}")
	fi
}

# --- main -------------------------------------------------------------------------
build_workloads
mkdir -p "$OUT/logs" "$OUT/bin"
# The run uses copies: a rebuild or `make clean` during the run (other work
# in the same tree) must change neither the tracer measured nor the targets.
for m in "${GOS[@]}"; do
	mkdir -p "$OUT/bin/go$m"
	cp ".output/bench/go$m/workload" "$OUT/bin/go$m/workload"
done
cp "$GLT" "$OUT/bin/goleaktrace"
cp "$FLOOR" "$OUT/bin/floor"
GLT=$OUT/bin/goleaktrace
FLOOR=$OUT/bin/floor
define_variants
printf 'workload\tgo\ttool\tprog\trun_cnt\trun_time_ns\n' >"$OUT/bpfstats.tsv"
printf 'round\tworkload\tgo\tvariant\tstatus\tseconds\tops\tcpu_ns\tserver_ops\tops_total\tparks\tspawns\texits\tloadavg\tgo_version\n' >"$OUT/raw.tsv"
{
	echo "command: BENCH_ROUNDS=$ROUNDS BENCH_SECONDS=$WINDOW BENCH_GO=\"${GOS[*]}\" BENCH_WORKLOADS=\"${WORKLOADS[*]}\" BENCH_VARIANTS=\"${VARIANTS[*]}\" tools/bench/run.sh"
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- bpf user 2>/dev/null || echo ' (bpf/ or user/ modified)')"
	echo "goleaktrace: sha256 $(sha256sum "$GLT" | cut -c1-16)"
	echo "kernel: $(uname -r)"
	echo "cpu: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs"
	echo "placement: target on CPU $TARGET_CPU (GOMAXPROCS=1), tracers and http load generator on CPU $AUX_CPU"
} >"$OUT/meta.txt"
cat "$OUT/meta.txt"

nv=${#VARIANTS[@]}
total=$((ROUNDS * ${#WORKLOADS[@]} * ${#GOS[@]} * nv))
echo "bench: ${#WORKLOADS[@]} workloads x ${#GOS[@]} Go x $nv variants x $ROUNDS rounds = $total runs of ${WINDOW}s; output in $OUT"

for w in "${WORKLOADS[@]}"; do
	for m in "${GOS[@]}"; do
		count_events "$w" "$m"
	done
done

# Alternating order: every round runs each variant once per workload and
# Go version, back to back, starting one variant further each round so no
# variant always runs first or right after another.
for ((r = 1; r <= ROUNDS; r++)); do
	for w in "${WORKLOADS[@]}"; do
		for m in "${GOS[@]}"; do
			for ((i = 0; i < nv; i++)); do
				run_one "$r" "$w" "$m" "${VARIANTS[$(((i + r - 1) % nv))]}"
			done
		done
	done
done

python3 tools/bench/summarize.py "$OUT/raw.tsv" | tee "$OUT/summary.txt"
