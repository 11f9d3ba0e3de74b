#!/usr/bin/env bash
# Build every Go fixture program (tests/fixtures/<name>/main.go, standard
# library only, no go.mod) with every toolchain that tools/go-toolchains.sh
# installed, into tests/.build/go1.XX/<name><suffix>. A fixture whose
# main.go has `import "C"` (cgozoo) is built with CGO_ENABLED=1 and the
# linker go build picks for cgo (external, gcc); all others with
# CGO_ENABLED=0 (internal linker).
#
#   tools/build-fixtures.sh [1.XX ...]    all installed (or only these) minors
#   FIXTURE_FLAVORS="normal stripped pie arm64" tools/build-fixtures.sh
#   FIXTURES="parkzoo" tools/build-fixtures.sh 1.22
#
# Flavours: normal -> <name>, stripped (-s -w) -> <name>-sw,
# pie (-buildmode=pie) -> <name>-pie, arm64 (GOARCH=arm64, cross-compiled
# for the binary-analysis tests only) -> <name>-arm64. Default: normal.
# cgo fixtures cross-compile for arm64 with aarch64-linux-gnu-gcc
# (tools/setup.sh --arm64); without it their arm64 flavour is skipped.
# A binary newer than every file of its fixture folder is not rebuilt.
# cold run (2 small fixtures x 7 minors): ~50 s, ~0.3 GB of GOCACHE, mostly
# the standard library compiled once per minor.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${GOLEAKTRACE_CACHE:-$HOME/.cache/goleaktrace}
read -ra FLAVORS <<<"${FIXTURE_FLAVORS:-normal}"

die() {
	echo "build-fixtures.sh: $*" >&2
	exit 1
}

# go build is run from the root with ./tests/fixtures/<name> paths.
cd "$ROOT"

# Fail on an unknown flavour before building anything.
for flavor in "${FLAVORS[@]}"; do
	case $flavor in
	normal | stripped | pie | arm64) ;;
	*) die "unknown flavour '$flavor' in FIXTURE_FLAVORS (normal, stripped, pie, arm64)" ;;
	esac
done

# GOROOTs to build with; go-toolchains.sh is the one place that knows where
# they live and whether they work.
goroots=()
if (($#)); then
	for m in "$@"; do
		goroot=$(tools/go-toolchains.sh --goroot "$m") || exit 1
		goroots+=("$goroot")
	done
else
	while read -r _ goroot; do
		goroots+=("$goroot")
	done < <(tools/go-toolchains.sh --list)
fi
((${#goroots[@]})) || die "no Go toolchain installed; run tools/go-toolchains.sh first"

# FIXTURES="a b" builds only those (the demo needs just one).
fixtures=()
for main in tests/fixtures/*/main.go; do
	name=$(basename "$(dirname "$main")")
	[[ -z ${FIXTURES:-} || " $FIXTURES " == *" $name "* ]] && fixtures+=("$name")
done
((${#fixtures[@]})) || die "no fixtures found (tests/fixtures/<name>/main.go)"

for goroot in "${goroots[@]}"; do
	m=${goroot##*/go-} # .../usr/lib/go-1.22 -> 1.22
	outdir=tests/.build/go$m
	mkdir -p "$outdir"
	for name in "${fixtures[@]}"; do
		src=tests/fixtures/$name
		cgo=0
		grep -q '^import "C"' "$src/main.go" && cgo=1
		for flavor in "${FLAVORS[@]}"; do
			# the host's GOARCH unless the flavour says otherwise
			goenv=(CGO_ENABLED=$cgo)
			case $flavor in
			normal) out=$outdir/$name flags=() ;;
			stripped) out=$outdir/$name-sw flags=("-ldflags=-s -w") ;;
			pie) out=$outdir/$name-pie flags=(-buildmode=pie) ;;
			arm64) out=$outdir/$name-arm64 flags=() goenv+=(GOARCH=arm64) ;;
			esac
			if ((cgo)) && [[ $flavor == arm64 ]]; then
				if ! command -v aarch64-linux-gnu-gcc >/dev/null; then
					echo "skipped $out (no aarch64-linux-gnu-gcc; tools/setup.sh --arm64)"
					continue
				fi
				goenv+=(CC=aarch64-linux-gnu-gcc)
			fi
			if [[ -e $out && -z $(find "$src" -newer "$out" -print -quit) ]]; then
				echo "up to date $out"
				continue
			fi
			# GOTOOLCHAIN=local: never let Go >= 1.21 fetch another toolchain.
			# GO111MODULE=off: fixtures are plain folders without go.mod.
			# One GOCACHE per minor so the versions never share build results.
			env GOROOT="$goroot" GOTOOLCHAIN=local GO111MODULE=off \
				"${goenv[@]}" \
				GOCACHE="$CACHE/gocache/$m" GOPATH="$CACHE/gopath" \
				"$goroot/bin/go" build "${flags[@]}" -o "$out" "./$src" ||
				die "go$m: building $src ($flavor) failed"
			echo "built $out"
		done
	done
done
