// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The benchmark's floor: BPF programs that do nothing, for the probe
 * positions goleaktrace uses. What a run with these costs the target is
 * the price of the uprobe traps alone, which no tracer on the same
 * positions can go below, with either kind of uprobe link goleaktrace
 * uses. floor_park_stackid adds one user-stack walk per
 * park: the in-kernel alternative to goleaktrace's user-space walks. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* PERF_MAX_STACK_DEPTH frames, the kernel's default for a user stack. */
#define FLOOR_STACK_DEPTH 127

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, FLOOR_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

SEC("uprobe")
int floor_park(struct pt_regs *ctx)
{
	return 0;
}

SEC("uprobe")
int floor_park_stackid(struct pt_regs *ctx)
{
	bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	return 0;
}

/* --multi: at the other positions through one uprobe_multi link, the way
 * goleaktrace attaches on Linux 6.6+. */
SEC("uprobe")
int floor_any(struct pt_regs *ctx)
{
	return 0;
}

SEC("uprobe")
int floor_spawn(struct pt_regs *ctx)
{
	return 0;
}

SEC("uprobe")
int floor_exit(struct pt_regs *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
