#!/usr/bin/env bash
# Builds the libFuzzer targets in tests/fuzz/ with clang (ASan + UBSan)
# and runs each for a while, seeded with real Go binaries of the matrix.
#   tools/fuzz.sh [SECONDS] [TARGET...]    default 60 s, every target
# Crashes land in tests/fuzz/crashes/<target>/; copy the input into
# tests/fuzz/regress/<target>/ once fixed, so that replays keep it fixed.
#   tools/fuzz.sh --replay                 replay the regression corpora
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=.output/fuzz
mkdir -p "$out"

replay=0 seconds=60
if [ "${1:-}" = --replay ]; then
	replay=1
	shift
elif [[ ${1:-} =~ ^[0-9]+$ ]]; then
	seconds=$1
	shift
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=($(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//'))

# The parsers of untrusted input, and nothing that needs BPF or a target.
srcs="user/gobin.c user/godata.c user/godwarf.c user/gooffsets.c user/gopclntab.c
	user/gowaitreasons.c user/pod.c"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
	-D_GNU_SOURCE -Iuser -Ibpf"
for t in "${targets[@]}"; do
	bin=$out/$t
	if [ ! -x "$bin" ] || [ -n "$(find user tests/fuzz/$t.c -newer "$bin" -print -quit)" ]; then
		echo "fuzz: building $t"
		# shellcheck disable=SC2086
		clang $flags tests/fuzz/$t.c $srcs -ldw -lelf -lz -o "$bin"
	fi
done

# Seeds: whole fixtures for gobin, their pclntab sections for pclntab.
seed() {
	local t=$1 dir=$out/corpus/$1
	mkdir -p "$dir"
	[ -n "$(ls -A "$dir")" ] && return
	# fuzz_pod: its regression inputs (kubelet-style names, cgroup
	# files of each runtime) and this machine's own cgroup file.
	if [ "$t" = fuzz_pod ]; then
		cp tests/fuzz/regress/fuzz_pod/* "$dir/"
		cat /proc/self/cgroup > "$dir/self-cgroup"
		return
	fi
	for f in tests/.build/go1.*/hello tests/.build/go1.*/hello-sw \
		tests/.build/go1.*/hello-pie tests/.build/go1.*/hello-arm64; do
		[ -f "$f" ] || continue
		name=$(echo "$f" | tr / _)
		case $t in
		fuzz_gobin) cp "$f" "$dir/$name" ;;
		fuzz_pclntab)
			sec=.gopclntab
			readelf -SW "$f" | grep -q 'data.rel.ro.gopclntab' &&
				sec=.data.rel.ro.gopclntab
			{ printf '\0\020\100\0\0\0\0\0'; llvm-objcopy -O binary \
				--only-section=$sec "$f" /dev/stdout; } > "$dir/$name"
			;;
		esac
	done
}

rc=0
for t in "${targets[@]}"; do
	mkdir -p "tests/fuzz/regress/$t" "tests/fuzz/crashes/$t"
	if [ "$replay" -eq 1 ]; then
		files=(tests/fuzz/regress/$t/*)
		[ -e "${files[0]}" ] || { echo "fuzz: $t: no regression inputs"; continue; }
		"$out/$t" "${files[@]}" >/dev/null 2>&1 || { echo "fuzz: $t: regression FAILED"; rc=1; continue; }
		echo "fuzz: $t: ${#files[@]} regression inputs pass"
		continue
	fi
	seed "$t"
	echo "fuzz: running $t for ${seconds}s"
	"$out/$t" -max_total_time="$seconds" -max_len=4194304 -timeout=10 \
		-rss_limit_mb=4096 -artifact_prefix="tests/fuzz/crashes/$t/" \
		-print_final_stats=1 "$out/corpus/$t" 2>&1 | tail -12 || rc=1
done
exit $rc
