// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Uprobes on the Go runtime's goroutine state changes. The hot path only
 * records (goid -> park time, g, lock, reason) and counts spawns/exits per
 * creation site; stacks are walked later from user space. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "goleaktrace.h"
#include "goabi.h"

const volatile struct glt_config cfg = {};

struct glt_counters counters = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GLT_MAX_PARKED);
	__type(key, __u64);
	__type(value, struct glt_parked);
} parked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GLT_MAX_SITES);
	__type(key, __u64);
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

/* Adds to a site's spawned or exited count; creates the entry on first use. */
/* Adds to a site's spawned or exited count; creates the entry on first use. */
static __always_inline void site_add(__u64 pc, bool spawned)
{
	struct glt_site *site, zero = {};

	site = bpf_map_lookup_elem(&sites, &pc);
	if (!site) {
		/* Fails when full, or when another CPU just created it. */
		bpf_map_update_elem(&sites, &pc, &zero, BPF_NOEXIST);
		site = bpf_map_lookup_elem(&sites, &pc);
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
SEC("uprobe")
int on_gopark(struct pt_regs *ctx)
{
	struct glt_parked p = {};
	__u64 goid;

	__sync_fetch_and_add(&counters.parks, 1);
	p.g = GO_G(ctx);
	if (read_u64(p.g + cfg.g_goid, &goid))
		return 0;
	p.park_ns = bpf_ktime_get_ns();
	p.lock = GO_ARG2(ctx);
	p.reason = GO_ARG3(ctx) & 0xff;
	if (bpf_map_update_elem(&parked, &goid, &p, BPF_ANY))
		__sync_fetch_and_add(&counters.parked_map_full, 1);
	return 0;
}

/* runtime.ready(gp, traceskip, next), on g0: gp is about to run again. */
SEC("uprobe")
int on_ready(struct pt_regs *ctx)
{
	__u64 goid;

	__sync_fetch_and_add(&counters.readies, 1);
	if (read_u64(GO_ARG1(ctx) + cfg.g_goid, &goid))
		return 0;
	if (bpf_map_delete_elem(&parked, &goid))
		__sync_fetch_and_add(&counters.ready_unknown, 1);
	return 0;
}

/* runtime.newproc1(fn, callergp, callerpc, ...): callerpc is the `go`
 * statement, the same value the new g keeps in g.gopc. */
SEC("uprobe")
int on_newproc1(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&counters.spawns, 1);
	site_add(GO_ARG3(ctx), true);
	return 0;
}

/* runtime.gdestroy(gp) (1.22+, also reached by coroutine exit) or
 * runtime.goexit0(gp) before 1.22, on g0. */
SEC("uprobe")
int on_gexit(struct pt_regs *ctx)
{
	__u64 gp = GO_ARG1(ctx), goid, gopc;

	__sync_fetch_and_add(&counters.exits, 1);
	if (read_u64(gp + cfg.g_goid, &goid))
		return 0;
	bpf_map_delete_elem(&parked, &goid);
	if (read_u64(gp + cfg.g_gopc, &gopc))
		return 0;
	site_add(gopc, false);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
