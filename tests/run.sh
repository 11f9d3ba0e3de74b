#!/usr/bin/env bash
# Runs the test suite and ends with the summary line "N passed, N failed".
# Every test program prints TAP ("ok N - what" / "not ok N - what").
#   tests/run.sh            unit tests, then end-to-end tests (need root)
#   tests/run.sh --unit     unit tests only
#   tests/run.sh -k NAME    only test programs whose name contains NAME
#                           (-k again: any of the names)
# UNIT_DIR: where the unit test binaries are (.output/tests; make
# SANITIZE=1 check-unit runs the ASan+UBSan ones of .output/san/tests).
# SANITIZE=1 (make test SANITIZE=1, tools/test.sh): every test runs the
# ASan+UBSan builds of .output/san (make SANITIZE=1 all), which stop at
# the first error or leak. FUZZ_SECONDS: the fuzz smoke run per target
# (default 10; 0 skips the fuzz targets).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ -n "${SANITIZE:-}" ]; then
	: "${UNIT_DIR:=.output/san/tests}"
	export GOLEAKTRACE=${GOLEAKTRACE:-$root/.output/san/goleaktrace}
	export GOLEAKTRACE_SYMBOLIZE=${GOLEAKTRACE_SYMBOLIZE:-$root/.output/san/symbolize}
	export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=0}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
	for f in "$GOLEAKTRACE" "$GOLEAKTRACE_SYMBOLIZE"; do
		[ -x "$f" ] || { echo "tests/run.sh: $f is missing: make SANITIZE=1 all" >&2; exit 2; }
	done
fi

unit_only=0 filters=()
while [ $# -gt 0 ]; do
	case $1 in
	--unit) unit_only=1 ;;
	-k) filters+=("$2"); shift ;;
	*) echo "usage: tests/run.sh [--unit] [-k NAME]..." >&2; exit 2 ;;
	esac
	shift
done

passed=0 failed=0 skipped=0
# Runs one TAP producer, echoes its lines, and adds up its results.
run_tap() {
	local name=$1 log rc
	shift
	if [ "${#filters[@]}" -gt 0 ]; then
		local k hit=0
		for k in "${filters[@]}"; do
			[[ $name == *"$k"* ]] && hit=1
		done
		[ "$hit" -eq 1 ] || return
	fi
	echo "# --- $name"
	log=$(mktemp)
	"$@" >"$log" 2>&1
	rc=$?
	sed 's/^/    /' "$log"
	local p f s
	p=$(grep -cE '^ok [0-9]+' "$log")
	s=$(grep -cE '^ok [0-9]+.*# SKIP' "$log")
	f=$(grep -cE '^not ok [0-9]+' "$log")
	# A program that dies without reporting a failure still failed.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc"
		f=1
	fi
	passed=$((passed + p - s))
	skipped=$((skipped + s))
	failed=$((failed + f))
	rm -f "$log"
}

# Every fixture built for every Go version, for the binary-reading tests.
mapfile -t fixtures < <(ls -d tests/.build/go*/* 2>/dev/null | sort -V)

for t in "${UNIT_DIR:-.output/tests}"/test_*; do
	[ -x "$t" ] || continue
	run_tap "$(basename "$t")" "$t" "${fixtures[@]}"
done

if [ "$unit_only" -eq 0 ]; then
	for t in tests/e2e/test_*.py; do
		[ -f "$t" ] || continue
		run_tap "$(basename "$t" .py)" python3 "$t"
	done
	# Every fuzz target: its regression corpus, then a short run.
	[ "${FUZZ_SECONDS:-10}" -gt 0 ] &&
		run_tap fuzz tools/fuzz.sh --tap "${FUZZ_SECONDS:-10}"
fi

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
