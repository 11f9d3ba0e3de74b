/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Types shared by the BPF programs and user space: fixed-size fields only. */
#ifndef GOLEAKTRACE_BPF_H
#define GOLEAKTRACE_BPF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Default map sizes; user space may resize them before load. */
#define GLT_MAX_PARKED 1048576
#define GLT_MAX_SITES 16384
#define GLT_MAX_BINARIES 1024

/* Goroutines and creation pcs are per process: keys carry the tgid, as
 * the PID namespace of goleaktrace numbers it. A goroutine is keyed by
 * its g's address, which the probes have in a register: its goid would
 * take a read of the target's memory on every park. */
struct glt_gkey {
	__u32 tgid;
	__u32 pad;
	__u64 g;
};

struct glt_skey {
	__u32 tgid;
	__u32 pad;
	__u64 pc;
};

/* Value of the `parked` map: the last gopark seen in a g, which may have
 * woken since (user space checks the g). The park stack is not taken
 * here: user space walks g.sched later, only for goroutines that stay
 * parked past the threshold.
 * A g is reused after its goroutine exits, and exits are missed while
 * the probes are out (duty cycling): the goid is read again at the first
 * park after each attach (epoch), and kept for the parks that follow. */
struct glt_parked {
	__u64 park_ns;		/* bpf_ktime_get_ns() at gopark */
	__u64 goid;		/* of the goroutine that parked */
	__u64 lock;		/* gopark's lock argument (hchan.lock for chans) */
	__u32 reason;		/* waitReason, decoded with the binary's names */
	__u32 epoch;		/* the BPF epoch when goid was read */
};

/* Value of the `sites` map, keyed by the creation PC (g.gopc). */
struct glt_site {
	__u64 spawned;
	__u64 exited;
};

/* Event and drop counters, kept in .bss and shown in every report. */
struct glt_counters {
	__u64 parks;
	__u64 spawns;
	__u64 exits;
	__u64 parked_map_full;	/* a park could not be recorded */
	__u64 sites_map_full;	/* a spawn/exit could not be counted */
	__u64 read_failed;	/* bpf_probe_read_user of the g failed */
};

/* Value of the `binaries` array: one slot per hooked executable (user
 * space keys the slots by the file's inode; each uprobe carries its slot
 * as attach cookie). The struct offsets the programs need, never
 * guessed: from the binary's DWARF or the per-version table, so one BPF
 * object serves many Go versions. */
struct glt_offsets {
	__u32 g_goid;
	__u32 g_gopc;
};

/* The hooks, in the order of user space's probe plan. A uprobe's cookie
 * is (slot << 8 | hook): on_hook, attached once per binary with a
 * uprobe_multi link, dispatches on the hook; the one-hook programs used
 * on kernels without uprobe_multi (before 6.6) only take the slot. */
enum glt_hook {
	GLT_HOOK_GOPARK,
	GLT_HOOK_NEWPROC,
	GLT_HOOK_GEXIT,
	GLT_HOOK_COUNT,
};
#define GLT_COOKIE(slot, hook) ((__u64)(slot) << 8 | (hook))

/* Read-only config. When goleaktrace runs in a PID namespace of its own,
 * tgids are translated into it (found by its inode number), so that they
 * match the PIDs it sees. */
struct glt_config {
	__u32 in_pidns;
	__u32 pidns_ino;
};

#endif
