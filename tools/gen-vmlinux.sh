#!/usr/bin/env bash
# Regenerates vmlinux/<arch>/vmlinux.h from a kernel's BTF. The header is
# checked in so builds are reproducible and need no BTF on the build host.
#   tools/gen-vmlinux.sh [ARCH [BTF_FILE]]   (defaults: host arch, running kernel)
set -euo pipefail
arch=${1:-$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')}
btf=${2:-/sys/kernel/btf/vmlinux}
root=$(cd "$(dirname "$0")/.." && pwd)
[ -r "$btf" ] || { echo "gen-vmlinux: cannot read BTF at $btf" >&2; exit 1; }
mkdir -p "$root/vmlinux/$arch"
bpftool btf dump file "$btf" format c > "$root/vmlinux/$arch/vmlinux.h.tmp"
mv "$root/vmlinux/$arch/vmlinux.h.tmp" "$root/vmlinux/$arch/vmlinux.h"
echo "wrote vmlinux/$arch/vmlinux.h from $btf ($(uname -r))"
