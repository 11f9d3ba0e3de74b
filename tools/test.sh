#!/usr/bin/env bash
# Command 2 of the README (and what CI runs): install dependencies, fetch
# the Go toolchain matrix, build the tool and every fixture, run all tests.
# Ends with "N passed, N failed".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# --arm64: the cross toolchain, so that the arm64 build is checked too.
tools/setup.sh --arm64
tools/go-toolchains.sh
# Stripped (-s -w) and PIE builds for the end-to-end tests; arm64 ones are
# cross-compiled for the binary-analysis tests only.
FIXTURE_FLAVORS=${FIXTURE_FLAVORS:-normal stripped pie arm64} tools/build-fixtures.sh
make -j2 all static
make -j2 ARCH=arm64
make -j2 SANITIZE=1 all
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
status=0
tests/run.sh "$@" | tee "$logs/plain" || status=1
# Then under ASan and UBSan, which stop at the first error or leak: every
# unit test (each parser on every fixture of every Go) and the end-to-end
# tests that drive the most code (SAN_TESTS); the whole suite sanitized
# is `make test SANITIZE=1` (about 45 min here, too long for CI's budget
# next to the plain run). The fuzz targets are sanitized already.
if [ $# -eq 0 ]; then
	SANITIZE=1 tests/run.sh --unit | tee "$logs/san-unit" || status=1
	read -ra san <<<"${SAN_TESTS:-test_all test_badinput test_drops test_overhead test_symbolize}"
	ks=()
	for t in "${san[@]}"; do ks+=(-k "$t"); done
	SANITIZE=1 FUZZ_SECONDS=0 tests/run.sh "${ks[@]}" | tee "$logs/san-e2e" || status=1
fi
# One summary line for all of it.
cat "$logs"/* | awk '/^[0-9]+ passed, [0-9]+ failed/ { p += $1; f += $3 }
	END { printf "%d passed, %d failed\n", p, f }'
exit "$status"
