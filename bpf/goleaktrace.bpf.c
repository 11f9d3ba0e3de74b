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

/* Bumped by user space before each attach: a parked entry of an older
 * epoch may hold a goid whose exit the probes missed. */
__u32 epoch = 0;

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
 * check branches to morestack; the second write simply wins.
 * runtime.ready is not hooked: a g's entry stays until it parks again or
 * exits, and user space checks every candidate's status and wait reason
 * in its g before reporting it (woken ones are skipped). So a park
 * usually finds its g's entry of this epoch and rewrites it in place: a
 * lookup, no read of the target's memory, no locked update. */
static __always_inline int do_gopark(struct pt_regs *ctx, __u32 slot)
{
	const struct glt_offsets *o;
	struct glt_parked *rec, p = {};
	struct glt_gkey key = {};

	__sync_fetch_and_add(&counters.parks, 1);
	key.g = GO_G(ctx);
	key.tgid = current_tgid();
	p.park_ns = bpf_ktime_get_ns();
	p.lock = GO_ARG2(ctx);
	p.reason = GO_ARG3(ctx) & 0xff;
	rec = bpf_map_lookup_elem(&parked, &key);
	if (rec && rec->epoch == epoch) {
		/* Readers copy without a lock: a copy torn by this write
		 * can misdate the goroutine in one report at most. */
		rec->park_ns = p.park_ns;
		rec->lock = p.lock;
		rec->reason = p.reason;
		return 0;
	}
	o = probe_offsets(slot);
	if (!o || read_u64(key.g + o->g_goid, &p.goid))
		return 0;
	p.epoch = epoch;
	if (rec)
		*rec = p;
	else if (bpf_map_update_elem(&parked, &key, &p, BPF_NOEXIST))
		__sync_fetch_and_add(&counters.parked_map_full, 1);
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
	struct glt_gkey key = { .g = GO_ARG1(ctx) };
	const struct glt_offsets *o;
	__u64 gopc;

	__sync_fetch_and_add(&counters.exits, 1);
	key.tgid = current_tgid();
	/* Many goroutines exit without ever parking: a lookup is cheaper
	 * than a delete that takes the bucket lock to find nothing. */
	if (bpf_map_lookup_elem(&parked, &key))
		bpf_map_delete_elem(&parked, &key);
	o = probe_offsets(slot);
	if (!o || read_u64(key.g + o->g_gopc, &gopc))
		return 0;
	site_add(key.tgid, gopc, false);
	return 0;
}

/* All hooks of a binary in one uprobe_multi link: detaching it waits
 * for one grace period instead of one per hook, and frees the target at
 * once. */
SEC("uprobe")
int on_hook(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 slot = cookie >> 8;

	switch (cookie & 0xff) {
	case GLT_HOOK_GOPARK:
		return do_gopark(ctx, slot);
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
