#!/usr/bin/env bash
# Installs what goleaktrace needs to build and test on Debian/Ubuntu, from
# the distribution's own packages. Idempotent: apt runs only when something
# is missing. Needs root.
set -euo pipefail
pkgs=(make gcc clang llvm bpftool libbpf-dev libelf-dev libdw-dev
      zlib1g-dev libzstd-dev pkg-config python3 ca-certificates)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "setup: need root to install: ${missing[*]} (run with sudo)" >&2
	exit 1
fi
echo "setup: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	"${missing[@]}" >/dev/null
