#!/usr/bin/env bash
# Fetch the Go toolchains of the test matrix as Debian packages and unpack
# them into a private cache. Nothing is installed system-wide and the system's
# apt configuration is left alone: apt-get runs with its own sources list,
# lists and cache folders under $CACHE/apt.
#
#   tools/go-toolchains.sh [1.XX ...]    fetch all (or only these) minors
#   tools/go-toolchains.sh --list        "VERSION GOROOT" per installed toolchain
#   tools/go-toolchains.sh --goroot 1.XX print that GOROOT (exit 1 if missing)
#
# cold run (all 7): ~29 s, ~2.1 GB in $CACHE (2.05 GB unpacked trees, 1.19 is
# the biggest at 0.47 GB; 62 MB apt lists; the .debs are deleted once
# unpacked). A warm run does no network access and takes ~0.05 s.
set -euo pipefail

CACHE=${GOLEAKTRACE_CACHE:-$HOME/.cache/goleaktrace}
MIRROR=http://deb.debian.org/debian
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# The matrix: Go minor -> the one suite it is taken from. Several suites carry
# the same package name (e.g. golang-1.24-go), so downloads are pinned to it.
MINORS=(1.19 1.21 1.22 1.23 1.24 1.26 1.27)
declare -A SUITE=(
	[1.19]=bookworm
	[1.21]=bookworm-backports
	[1.22]=bookworm-backports
	[1.23]=bookworm-backports
	[1.24]=trixie
	[1.26]=sid
	[1.27]=sid
)

die() {
	echo "go-toolchains.sh: $*" >&2
	exit 1
}

goroot_of() { echo "$CACHE/go/$1/usr/lib/go-$1"; }

# Prints e.g. "go1.22.12" if the toolchain under $1 runs and really is Go
# minor $2 with its sources present (src is a symlink into usr/share, so a
# half-unpacked tree can run `go version` yet fail to build anything).
toolchain_version() {
	local goroot=$1 minor=$2 v
	[[ -x $goroot/bin/go && -f $goroot/src/runtime/proc.go ]] || return 1
	# GOTOOLCHAIN=local: Go >= 1.21 must never switch to a downloaded toolchain.
	v=$(GOROOT=$goroot GOTOOLCHAIN=local "$goroot/bin/go" env GOVERSION 2>/dev/null) || return 1
	[[ $v == "go$minor" || $v == "go$minor."* ]] || return 1
	echo "$v"
}

# --- argument parsing -------------------------------------------------------

mode=fetch
wanted=()
while (($#)); do
	case $1 in
	--list) mode=list ;;
	--goroot)
		(($# >= 2)) || die "--goroot needs a Go minor, e.g. --goroot 1.22"
		mode=goroot
		wanted=("$2")
		shift
		;;
	-h | --help)
		# The header comment is the help text.
		awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"
		exit 0
		;;
	-*) die "unknown option $1 (see --help)" ;;
	*) wanted+=("$1") ;;
	esac
	shift
done
((${#wanted[@]})) || wanted=("${MINORS[@]}")
for m in "${wanted[@]}"; do
	[[ -n ${SUITE[$m]:-} ]] || die "unknown Go minor '$m' (matrix: ${MINORS[*]})"
done

case $mode in
list)
	for m in "${wanted[@]}"; do
		goroot=$(goroot_of "$m")
		if v=$(toolchain_version "$goroot" "$m"); then
			echo "$v $goroot"
		fi
	done
	exit 0
	;;
goroot)
	m=${wanted[0]}
	goroot=$(goroot_of "$m")
	toolchain_version "$goroot" "$m" >/dev/null ||
		die "Go $m is not installed; run tools/go-toolchains.sh $m"
	echo "$goroot"
	exit 0
	;;
esac

# --- fetch ------------------------------------------------------------------

for tool in apt-get dpkg-deb flock; do
	command -v "$tool" >/dev/null || die "$tool is needed (a Debian-based host)"
done
[[ -r $KEYRING ]] || die "$KEYRING missing; apt-get install debian-archive-keyring"

mkdir -p "$CACHE/go"
# Two concurrent runs would share the apt lists and the unpack folders.
exec 9>"$CACHE/.lock"
flock 9

# Already-working toolchains are reported and skipped without network access.
todo=()
for m in "${wanted[@]}"; do
	goroot=$(goroot_of "$m")
	if v=$(toolchain_version "$goroot" "$m"); then
		echo "$v -> $goroot"
	else
		todo+=("$m")
	fi
done
((${#todo[@]})) || exit 0

APT=(
	apt-get -qq
	-o "Dir::Etc::SourceList=$CACHE/apt/sources.list"
	-o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$CACHE/apt/lists"
	-o "Dir::Cache=$CACHE/apt/cache"
	# $CACHE usually sits under a $HOME that apt's _apt user cannot enter;
	# apt would fall back to root anyway, this only avoids its warning.
	-o APT::Sandbox::User=root
	# The mirror may be a frozen snapshot whose Release files are past
	# Valid-Until; signatures are still checked against $KEYRING.
	-o Acquire::Check-Valid-Until=false
)
mkdir -p "$CACHE/apt/lists/partial" "$CACHE/apt/cache/archives/partial" "$CACHE/debs"

# Only the suites that are actually needed, to keep `update` short.
declare -A need_suite=()
for m in "${todo[@]}"; do need_suite[${SUITE[$m]}]=1; done
for s in "${!need_suite[@]}"; do
	echo "deb [signed-by=$KEYRING] $MIRROR $s main"
done >"$CACHE/apt/sources.list"
"${APT[@]}" update || die "apt-get update failed (suites: ${!need_suite[*]})"

pkgs=()
for m in "${todo[@]}"; do
	pkgs+=("golang-$m-go/${SUITE[$m]}" "golang-$m-src/${SUITE[$m]}")
done
# Start from an empty folder so the globs below match exactly one version.
rm -f "$CACHE"/debs/*.deb
(cd "$CACHE/debs" && "${APT[@]}" download "${pkgs[@]}") ||
	die "apt-get download failed for: ${pkgs[*]}"

for m in "${todo[@]}"; do
	# Unpack next to the final folder and move it in place only once it
	# works, so an interrupted run never leaves a tree that looks installed.
	tmp=$CACHE/go/.$m.tmp
	rm -rf "$tmp"
	for deb in "$CACHE"/debs/golang-"$m"-{go,src}_*.deb; do
		[[ -f $deb ]] || die "no .deb matching $deb after download"
		dpkg-deb -x "$deb" "$tmp"
	done
	# GOROOT links src, api, misc... into usr/share. Debian ships them
	# relative (they resolve inside $tmp); rewrite any absolute one so it
	# does not point into the host's /usr instead.
	while IFS= read -r link; do
		target=$(readlink "$link")
		ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$tmp$target")" "$link"
	done < <(find "$tmp" -type l -lname '/*')

	v=$(toolchain_version "$tmp/usr/lib/go-$m" "$m") ||
		die "Go $m unpacked into $tmp but its go does not run or is not go$m"
	rm -rf "$CACHE/go/$m"
	mv "$tmp" "$CACHE/go/$m"
	rm -f "$CACHE"/debs/golang-"$m"-{go,src}_*.deb
	echo "$v -> $(goroot_of "$m")"
done
