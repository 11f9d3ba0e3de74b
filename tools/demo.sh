#!/usr/bin/env bash
# Command 1 of the README: install dependencies, build, and watch
# goleaktrace find the leak in tests/fixtures/leakdemo for 20 seconds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/setup.sh
# One toolchain is enough to build the demo target.
tools/go-toolchains.sh 1.24
make -j2 goleaktrace
FIXTURES=leakdemo tools/build-fixtures.sh 1.24
demo=tests/.build/go1.24/leakdemo
"$demo" & pid=$!
trap 'kill $pid 2>/dev/null' EXIT
sleep 1
./goleaktrace -p "$pid" -t 5s -i 5s -d 20s
