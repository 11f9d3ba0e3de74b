// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The frame-pointer walk over a fake goroutine stack built in this
 * process (process_vm_readv on ourselves needs no privilege): a good
 * chain, and the corrupt shapes it must stop on rather than follow. */
#include <string.h>
#include <unistd.h>
#include "gtable.h"
#include "tap.h"

/* Builds frames at word indexes idx[] of stack: [fp] = next fp, [fp+8] =
 * return address 0x1000 + i; the last frame's saved fp is 0. */
static void build_chain(uint64_t *stack, const int *idx, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		stack[idx[i]] = i + 1 < n ? (uint64_t)(uintptr_t)&stack[idx[i + 1]]
					  : 0;
		stack[idx[i] + 1] = 0x1000 + i;
	}
}

int main(void)
{
	static uint64_t stack[4096];
	struct target t = { .pid = getpid() };
	uint64_t lo = (uintptr_t)stack, hi = lo + sizeof(stack), pcs[8];
	const int good[] = { 10, 40, 100, 4000 };
	int n;

	build_chain(stack, good, 4);
	n = gtable__walk_stack(&t, 0x42, (uintptr_t)&stack[10], lo, hi, pcs, 8);
	ASSERT_EQ(n, 5, "good chain: sched.pc plus 4 return addresses");
	ASSERT_EQ(pcs[0], 0x42, "first pc is g.sched.pc");
	ASSERT_EQ(pcs[1], 0x1000, "caller of the innermost frame");
	ASSERT_EQ(pcs[4], 0x1003, "outermost frame, read beyond the chunk");

	n = gtable__walk_stack(&t, 0x42, (uintptr_t)&stack[10], lo, hi, pcs, 3);
	ASSERT_EQ(n, 3, "walk stops at max_pcs");

	/* A frame pointing back down the stack: a cycle, must stop. */
	memset(stack, 0, sizeof(stack));
	stack[10] = (uintptr_t)&stack[20];
	stack[11] = 0x2000;
	stack[20] = (uintptr_t)&stack[10];
	stack[21] = 0x2001;
	n = gtable__walk_stack(&t, 0x42, (uintptr_t)&stack[10], lo, hi, pcs, 8);
	ASSERT_EQ(n, 3, "cycle: stops after the frame that points back");

	/* Saved fp outside [lo, hi): stop there. */
	memset(stack, 0, sizeof(stack));
	stack[10] = hi + 64;
	stack[11] = 0x3000;
	n = gtable__walk_stack(&t, 0x42, (uintptr_t)&stack[10], lo, hi, pcs, 8);
	ASSERT_EQ(n, 2, "fp beyond stack.hi is not followed");

	/* Misaligned and out-of-range starting bp. */
	n = gtable__walk_stack(&t, 0x42, (uintptr_t)&stack[10] + 3, lo, hi,
			       pcs, 8);
	ASSERT_EQ(n, 1, "misaligned bp: only sched.pc");
	n = gtable__walk_stack(&t, 0x42, lo - 4096, lo, hi, pcs, 8);
	ASSERT_EQ(n, 1, "bp below stack.lo: only sched.pc");
	n = gtable__walk_stack(&t, 0x42, 0, lo, hi, pcs, 8);
	ASSERT_EQ(n, 1, "bp 0: only sched.pc");

	/* A zero return address ends the walk. */
	memset(stack, 0, sizeof(stack));
	stack[10] = (uintptr_t)&stack[20];
	n = gtable__walk_stack(&t, 0x42, (uintptr_t)&stack[10], lo, hi, pcs, 8);
	ASSERT_EQ(n, 1, "zero return address ends the walk");
	return tap__done();
}
