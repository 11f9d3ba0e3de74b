// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The overhead budget's start-up calibration (user/budget.c): a uprobe
 * that does next to nothing, on a function of goleaktrace's own, so that
 * timing calls to it gives what one uprobe trap costs on this machine.
 * It counts its hits, so the calibration knows the probe really fired. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

__u64 hits;

SEC("uprobe")
int calib_hit(struct pt_regs *ctx)
{
	/* Only the calibrating thread hits it: no atomic needed. */
	hits++;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
