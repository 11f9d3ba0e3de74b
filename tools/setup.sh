#!/usr/bin/env bash
# Installs what goleaktrace needs to build and test on Debian/Ubuntu, from
# the distribution's own packages. Idempotent: apt runs only when something
# is missing. Needs root.
#   tools/setup.sh           the host build and tests
#   tools/setup.sh --arm64   also what `make ARCH=arm64` needs: the aarch64
#                            cross compiler and the arm64 libraries, through
#                            Debian multiarch (dpkg --add-architecture arm64)
set -euo pipefail
pkgs=(make gcc clang llvm bpftool libbpf-dev libelf-dev libdw-dev
      zlib1g-dev libzstd-dev pkg-config python3 ca-certificates
      libprotobuf-c-dev protobuf-c-compiler jq
      liblzma-dev libbz2-dev file
      yamllint python3-yaml shellcheck libclang-rt-dev
      libmicrohttpd-dev prometheus)
# liblzma-dev, libbz2-dev: libdw.a's own dependencies, for make static;
# file: its test. yamllint, python3-yaml, shellcheck: tools/k8s/lint.py.
# libclang-rt-dev: libFuzzer and clang's sanitizers (make fuzz), only a
# recommendation of clang. libmicrohttpd-dev: the --metrics server.
# prometheus: promtool and a Prometheus for tests/e2e/test_metrics.py,
# which starts its own on a free loopback port (the package's service,
# where systemd starts it, is stopped below).
arm64=0
case ${1:-} in
'') ;;
--arm64)
	arm64=1
	# The -dev packages are Multi-Arch: same, so the arm64 ones install
	# beside the host's under /usr/lib/aarch64-linux-gnu.
	pkgs+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross libbpf-dev:arm64
	       libelf-dev:arm64 libdw-dev:arm64 zlib1g-dev:arm64
	       libzstd-dev:arm64 libprotobuf-c-dev:arm64 liblzma-dev:arm64
	       libbz2-dev:arm64 libmicrohttpd-dev:arm64)
	;;
*)
	echo "usage: tools/setup.sh [--arm64]" >&2
	exit 2
	;;
esac
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
# apt only offers :arm64 packages once dpkg knows the architecture.
if [ "$arm64" -eq 1 ] &&
	! dpkg --print-foreign-architectures | grep -qx arm64; then
	echo "setup: adding the arm64 architecture to dpkg (multiarch)"
	dpkg --add-architecture arm64
fi
echo "setup: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	"${missing[@]}" >/dev/null
# Only its binaries are wanted: no server on *:9090 left behind.
if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
	echo "setup: stopping and disabling the prometheus service the package started"
	systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
