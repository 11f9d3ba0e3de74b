// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Uprobes on the Go runtime's goroutine state changes. The hot path only
 * records ((tgid, goid) -> park time, g, lock, reason) and counts spawns
 * and exits per creation site; stacks are walked later from user space.
 * One object serves every traced binary: each binary's uprobes carry its
 * slot in the binaries map in their attach cookie (GLT_COOKIE). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "goleaktrace.h"
#include "goabi.h"

const volatile struct glt_config cfg = {};

struct glt_counters counters = {};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GLT_MAX_BINARIES);
	__type(key, __u32);
	__type(value, struct glt_offsets);
} binaries SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GLT_MAX_PARKED);
	__type(key, struct glt_gkey);
	__type(value, struct glt_parked);
} parked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GLT_MAX_SITES);
	__type(key, struct glt_skey);
	__type(value, struct glt_site);
} sites SEC(".maps");

static __always_inline int read_u64(__u64 addr, __u64 *val)
{
	if (bpf_probe_read_user(val, sizeof(*val), (void *)addr)) {
		__sync_fetch_and_add(&counters.read_failed, 1);
		return -1;
	}
	return 0;
}

/* PID namespaces nest this deep at most (MAX_PID_NS_LEVEL is 32; real
 * containers use two or three). */
#define GLT_MAX_PIDNS_LEVEL 8

/* The calling process's tgid as goleaktrace's PID namespace numbers it:
 * the entry of the process's struct pid at the level of our namespace. */
static __always_inline __u32 current_tgid(void)
{
	struct task_struct *task;
	struct upid *numbers;
	unsigned int level, ino;
	struct pid *pid;
	struct upid up;
	int i;

	if (!cfg.in_pidns)
		return bpf_get_current_pid_tgid() >> 32;
	task = bpf_get_current_task_btf();
	pid = BPF_CORE_READ(task, group_leader, thread_pid);
	level = BPF_CORE_READ(pid, level);
	numbers = pid->numbers;
	for (i = 0; i < GLT_MAX_PIDNS_LEVEL; i++) {
		if (i > level)
			break;
		if (bpf_probe_read_kernel(&up, sizeof(up), &numbers[i]))
			break;
		ino = BPF_CORE_READ(up.ns, ns.inum);
		if (ino == cfg.pidns_ino)
			return up.nr;
	}
	return 0;
}

/* Offsets of the binary a probe was attached to, by its slot from the
 * cookie: an array lookup, cheaper than finding the task's executable. */
static __always_inline const struct glt_offsets *probe_offsets(__u32 slot)
{
	return bpf_map_lookup_elem(&binaries, &slot);
}

/* Adds to a site's spawned or exited count; creates the entry on first use. */
static __always_inline void site_add(__u32 tgid, __u64 pc, bool spawned)
{
	struct glt_skey key = { .tgid = tgid, .pc = pc };
	struct glt_site *site, zero = {};

	site = bpf_map_lookup_elem(&sites, &key);
	if (!site) {
		/* Fails when full, or when another CPU just created it. */
		bpf_map_update_elem(&sites, &key, &zero, BPF_NOEXIST);
		site = bpf_map_lookup_elem(&sites, &key);
		if (!site) {
			__sync_fetch_and_add(&counters.sites_map_full, 1);
			return;
		}
	}
	if (spawned)
		__sync_fetch_and_add(&site->spawned, 1);
	else
		__sync_fetch_and_add(&site->exited, 1);
}

/* runtime.gopark(unlockf, lock, reason, traceReason, traceskip), on the
 * parking goroutine itself. May fire twice for one call when the stack
 * check branches to morestack; the second write simply wins. */
static __always_inline int do_gopark(struct pt_regs *ctx, __u32 slot)
{
	const struct glt_offsets *o;
	struct glt_parked p = {};
	struct glt_gkey key = {};

	__sync_fetch_and_add(&counters.parks, 1);
	o = probe_offsets(slot);
	if (!o)
		return 0;
	p.g = GO_G(ctx);
	if (read_u64(p.g + o->g_goid, &key.goid))
		return 0;
	key.tgid = current_tgid();
	p.park_ns = bpf_ktime_get_ns();
	p.lock = GO_ARG2(ctx);
	p.reason = GO_ARG3(ctx) & 0xff;
	if (bpf_map_update_elem(&parked, &key, &p, BPF_ANY))
		__sync_fetch_and_add(&counters.parked_map_full, 1);
	return 0;
}

/* runtime.ready(gp, traceskip, next), on g0: gp is about to run again. */
static __always_inline int do_ready(struct pt_regs *ctx, __u32 slot)
{
	const struct glt_offsets *o;
	struct glt_gkey key = {};

	__sync_fetch_and_add(&counters.readies, 1);
	o = probe_offsets(slot);
	if (!o)
		return 0;
	if (read_u64(GO_ARG1(ctx) + o->g_goid, &key.goid))
		return 0;
	key.tgid = current_tgid();
	if (bpf_map_delete_elem(&parked, &key))
		__sync_fetch_and_add(&counters.ready_unknown, 1);
	return 0;
}

/* runtime.newproc1(fn, callergp, callerpc, ...): callerpc is the `go`
 * statement, the same value the new g keeps in g.gopc. */
static __always_inline int do_newproc1(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&counters.spawns, 1);
	site_add(current_tgid(), GO_ARG3(ctx), true);
	return 0;
}

/* runtime.gdestroy(gp) (1.22+, also reached by coroutine exit) or
 * runtime.goexit0(gp) before 1.22, on g0. */
static __always_inline int do_gexit(struct pt_regs *ctx, __u32 slot)
{
	__u64 gp = GO_ARG1(ctx), gopc;
	const struct glt_offsets *o;
	struct glt_gkey key = {};

	__sync_fetch_and_add(&counters.exits, 1);
	o = probe_offsets(slot);
	if (!o)
		return 0;
	if (read_u64(gp + o->g_goid, &key.goid))
		return 0;
	key.tgid = current_tgid();
	bpf_map_delete_elem(&parked, &key);
	if (read_u64(gp + o->g_gopc, &gopc))
		return 0;
	site_add(key.tgid, gopc, false);
	return 0;
}

/* All four hooks of a binary in one uprobe_multi link: detaching it waits
 * for one grace period instead of four, and frees the target at once. */
SEC("uprobe")
int on_hook(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 slot = cookie >> 8;

	switch (cookie & 0xff) {
	case GLT_HOOK_GOPARK:
		return do_gopark(ctx, slot);
	case GLT_HOOK_READY:
		return do_ready(ctx, slot);
	case GLT_HOOK_NEWPROC:
		return do_newproc1(ctx);
	default:
		return do_gexit(ctx, slot);
	}
}

/* One program per hook, each on a uprobe of its own (kernels before 6.6). */
SEC("uprobe")
int on_gopark(struct pt_regs *ctx)
{
	return do_gopark(ctx, bpf_get_attach_cookie(ctx) >> 8);
}

SEC("uprobe")
int on_ready(struct pt_regs *ctx)
{
	return do_ready(ctx, bpf_get_attach_cookie(ctx) >> 8);
}

SEC("uprobe")
int on_newproc1(struct pt_regs *ctx)
{
	return do_newproc1(ctx);
}

SEC("uprobe")
int on_gexit(struct pt_regs *ctx)
{
	return do_gexit(ctx, bpf_get_attach_cookie(ctx) >> 8);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
