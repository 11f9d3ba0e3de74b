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
# TODO(issue 8): run the suite on the ASan+UBSan build (make SANITIZE=1
# all; SANITIZE=1 tests/run.sh) once a whole sanitized run is verified.
exec tests/run.sh "$@"
