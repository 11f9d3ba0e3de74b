#!/usr/bin/env bash
# Builds the libFuzzer targets in tests/fuzz/ with clang (ASan + UBSan,
# leak detection on) and runs each for a while, seeded with real Go
# binaries of the matrix (tests/.build) and the regression corpora.
#   tools/fuzz.sh [SECONDS] [TARGET...]    default 60 s, every target
#   tools/fuzz.sh --parallel SECONDS [TARGET...]
#                   the long runs: every target at once (run it nice -n 19)
#   tools/fuzz.sh --replay [TARGET...]     replay the regression corpora
#   tools/fuzz.sh --tap SECONDS [TARGET...]
#                   CI: replay, then a smoke run of SECONDS, as TAP lines
# Crashes land in tests/fuzz/crashes/<target>/; copy the input into
# tests/fuzz/regress/<target>/ once fixed, so that replays keep it fixed.
# The corpora grow in $FUZZ_OUT/corpus/<target>/ (default .output/fuzz),
# beside the fuzzer binaries and each run's log.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${FUZZ_OUT:-.output/fuzz}
mkdir -p "$out"

mode=run seconds=60 parallel=0
case ${1:-} in
--replay) mode=replay; shift ;;
--parallel) parallel=1; seconds=${2:?--parallel SECONDS}; shift 2 ;;
--tap) mode=tap; seconds=${2:?--tap SECONDS}; shift 2 ;;
*) if [[ ${1:-} =~ ^[0-9]+$ ]]; then seconds=$1; shift; fi ;;
esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] ||
	mapfile -t targets < <(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')

# The parsers of untrusted input, and nothing that needs BPF or a target.
srcs="user/gobin.c user/godata.c user/godwarf.c user/gooffsets.c user/gopclntab.c
	user/gowaitreasons.c user/pod.c user/target.c"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
	-D_GNU_SOURCE -Iuser -Ibpf"
build() {
	local t=$1 bin=$out/$1
	if [ ! -x "$bin" ] || [ -n "$(find user "tests/fuzz/$t.c" -newer "$bin" -print -quit)" ]; then
		echo "# fuzz: building $t"
		# shellcheck disable=SC2086
		clang $flags tests/fuzz/$t.c $srcs -ldw -lelf -lz -o "$bin"
	fi
}

# Fixtures the seeds come from: one program, every Go version, every
# flavour (normal, stripped, PIE, arm64).
seed_binaries() {
	ls tests/.build/go1.*/hello tests/.build/go1.*/hello-sw \
		tests/.build/go1.*/hello-pie tests/.build/go1.*/hello-arm64 2>/dev/null
}

seed() {
	local t=$1 dir=$out/corpus/$1 f name
	mkdir -p "$dir"
	[ -n "$(ls -A "$dir")" ] && return
	# The committed inputs (regression cases, hand-made seeds) first.
	cp tests/fuzz/regress/"$t"/* "$dir/" 2>/dev/null || true
	case $t in
	fuzz_pod) cat /proc/self/cgroup > "$dir/self-cgroup"; return ;;
	# Real maps: this shell's, and a PIE Go program's.
	fuzz_maps)
		cat /proc/self/maps > "$dir/self-maps"
		f=$(ls tests/.build/go1.*/parkzoo-pie 2>/dev/null | tail -1)
		if [ -n "$f" ]; then
			"$f" >/dev/null & sleep 0.5
			cat /proc/$!/maps > "$dir/go-pie-maps" || true
			kill $! 2>/dev/null; wait $! 2>/dev/null || true
		fi
		return ;;
	esac
	for f in $(seed_binaries); do
		name=$(echo "$f" | tr / _)
		case $t in
		fuzz_gobin) cp "$f" "$dir/$name" ;;
		esac
		# The cut-down seeds need the symbols and DWARF -s -w drops.
		[[ $f == *-sw ]] && continue
		case $t in
		fuzz_pclntab)
			python3 tests/fuzz/seeds.py pclntab "$f" "$dir/$name" 0
			python3 tests/fuzz/seeds.py pclntab "$f" "$dir/$name-700" 700 ;;
		fuzz_godwarf) python3 tests/fuzz/seeds.py dwarf "$f" "$dir/$name" ;;
		esac
	done
}

# Replays a target's regression corpus: 0 when every input passes.
replay() {
	local t=$1 files
	files=(tests/fuzz/regress/"$t"/*)
	nreplayed=0
	[ -e "${files[0]}" ] || return 0
	nreplayed=${#files[@]}
	"$out/$t" "${files[@]}" >"$out/$t.replay.log" 2>&1
}

# Runs a target for $seconds over its corpus; the stats are left in
# $out/$t.log (the last lines are libFuzzer's final stats).
run() {
	local t=$1
	seed "$t"
	mkdir -p "tests/fuzz/crashes/$t"
	# -max_len: libFuzzer would cut the whole executables at 1 MB.
	"$out/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
		-max_len=4194304 \
		-artifact_prefix="tests/fuzz/crashes/$t/" -print_final_stats=1 \
		"$out/corpus/$t" >"$out/$t.log" 2>&1
}

stat_of() {
	sed -n "s/^stat::$2: *//p" "$out/$1.log" | tail -1
}

# What one run did, from its log: runs, corpus, coverage, result.
summary() {
	local t=$1 result=ok
	grep -q 'ERROR: \(libFuzzer\|AddressSanitizer\|LeakSanitizer\)\|runtime error' \
		"$out/$t.log" && result="FAILED (see $out/$t.log)"
	echo "fuzz: $t: $(stat_of "$t" number_of_executed_units) runs in" \
		"$(grep -o 'Done [0-9]* runs in [0-9]* second' "$out/$t.log" |
			grep -o '[0-9]* second' || echo '? second')s," \
		"corpus $(ls "$out/corpus/$t" | wc -l) inputs," \
		"$(grep -o 'cov: [0-9]* ft: [0-9]*' "$out/$t.log" | tail -1): $result"
}

rc=0 n=0 pids=()
for t in "${targets[@]}"; do
	case $mode in
	replay)
		build "$t"
		if replay "$t"; then
			echo "fuzz: $t: $nreplayed regression inputs pass"
		else
			echo "fuzz: $t: regression FAILED ($out/$t.replay.log)"
			rc=1
		fi ;;
	tap)
		n=$((n + 1))
		if ! build "$t" >"$out/$t.build.log" 2>&1; then
			echo "not ok $n - $t: builds with clang -fsanitize=fuzzer"
			rc=1
			sed 's/^/#   /' "$out/$t.build.log" | tail -20
			continue
		fi
		echo "ok $n - $t: builds with clang -fsanitize=fuzzer"
		n=$((n + 1))
		if replay "$t"; then
			echo "ok $n - $t: regression corpus replayed ($nreplayed inputs)"
		else
			echo "not ok $n - $t: regression inputs"
			rc=1
			tail -20 "$out/$t.replay.log" | sed 's/^/#   /'
		fi
		n=$((n + 1))
		if run "$t"; then
			echo "ok $n - $t: ${seconds}s smoke run, $(stat_of "$t" number_of_executed_units) inputs, no crash"
		else
			echo "not ok $n - $t: ${seconds}s smoke run (input in tests/fuzz/crashes/$t/)"
			rc=1
			grep -E 'ERROR|SUMMARY|^    #|artifact' "$out/$t.log" | head -20 | sed 's/^/#   /'
		fi ;;
	run)
		build "$t"
		echo "fuzz: running $t for ${seconds}s"
		if [ "$parallel" -eq 1 ]; then
			run "$t" &
			pids+=($!)
			continue
		fi
		run "$t" || rc=1
		summary "$t" ;;
	esac
done
if [ "$parallel" -eq 1 ]; then
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	for t in "${targets[@]}"; do summary "$t"; done
fi
[ "$mode" = tap ] && echo "1..$n"
exit $rc
