/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Byte offsets of the Go runtime structures the tracer reads. They come
 * from the binary's DWARF when present, else from a per-version table that
 * tools/gen-offsets-table.sh regenerates from DWARF. -1 = field absent. */
#ifndef GOLEAKTRACE_GOOFFSETS_H
#define GOLEAKTRACE_GOOFFSETS_H

#include <stdint.h>

struct go_offsets {
	int32_t g_size;
	int32_t g_stack_lo;	/* g.stack.lo */
	int32_t g_stack_hi;	/* g.stack.hi */
	int32_t g_m;		/* g.m */
	int32_t g_sched_sp;	/* g.sched.sp */
	int32_t g_sched_pc;	/* g.sched.pc */
	int32_t g_sched_bp;	/* g.sched.bp */
	int32_t g_atomicstatus;	/* u32 */
	int32_t g_goid;		/* u64 (i64 before 1.21) */
	int32_t g_waitsince;	/* i64 */
	int32_t g_waitreason;	/* u8 */
	int32_t g_parent_goid;	/* u64, -1 before 1.21 */
	int32_t g_gopc;
	int32_t g_startpc;
	int32_t g_waiting;	/* *sudog */
	int32_t g_labels;
	int32_t m_curg;
	int32_t sudog_g;
	int32_t sudog_elem;
	int32_t sudog_waitlink;
	int32_t sudog_c;	/* *hchan */
	int32_t sudog_next;	/* semaRoot treap: right child */
	int32_t sudog_prev;	/* semaRoot treap: left child */
	int32_t semaroot_treap;	/* *sudog, in each runtime.semtable entry */
	int32_t hchan_lock;
	int32_t hchan_qcount;
	int32_t hchan_dataqsiz;
	int32_t hchan_closed;
};

/* Whether a g.atomicstatus value means parked: _Gwaiting (4), or
 * _Gleaked (10, Go 1.26+), which a goroutine-leak GC gives to waiting
 * goroutines it proved unreachable. The _Gscan bit (0x1000) is ignored. */
static inline int go_status_parked(uint32_t status)
{
	status &= ~0x1000U;
	return status == 4 || status == 10;
}

#define GO_OFFSETS_FIELD_COUNT (sizeof(struct go_offsets) / sizeof(int32_t))

/* Sets every field to -1 (absent). */
void go_offsets__init(struct go_offsets *o);

/* 0 if every field the tracer cannot work without is present and inside
 * runtime.g; else -ENOENT (absent) or -ERANGE (outside the g) and
 * *missing names the first such field, e.g. "g_goid". */
int go_offsets__check(const struct go_offsets *o, const char **missing);

/* Offsets of a Go release without DWARF, from the built-in table, keyed by
 * the minor of a runtime.buildVersion such as "go1.22.12", "go1.22rc1" or
 * "go1.27.3 X:nocoverageredesign". Returns 0, -ENOTSUP for a minor not in
 * the table, -EINVAL for a string that is no Go release version. *out is
 * only written on success. */
int go_offsets__from_table(const char *go_version, struct go_offsets *out);

/* The minor of a Go 1.x release version string (22 for "go1.22.12"),
 * -EINVAL if it is not one, -ENOTSUP for a major other than 1. */
int go_offsets__version_minor(const char *go_version);

/* Field i < GO_OFFSETS_FIELD_COUNT by name ("g_goid"), for dumps and
 * tests; NULL / -1 when i is out of range. */
const char *go_offsets__field_name(unsigned int i);
int32_t go_offsets__field(const struct go_offsets *o, unsigned int i);


#endif
