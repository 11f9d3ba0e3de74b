// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Probe placement on the prologue shapes Go emits, and on the ones it
 * must refuse (never +0). The byte strings are real prologues from
 * `go tool objdump` of Go 1.19 and 1.22 binaries (amd64), and of Go 1.19,
 * 1.22 and 1.27 binaries (arm64, GOARCH=arm64). */
#include <errno.h>
#include "prologue.h"
#include "tap.h"

static void check_arch(enum gobin_arch arch, const char *what,
		       const uint8_t *code, size_t len, int want_err,
		       size_t want_off)
{
	size_t off = 0;
	int err = prologue__probe_offset(arch, code, len, &off);

	if (want_err) {
		ASSERT_EQ(err, want_err, what);
		return;
	}
	if (ASSERT_EQ(err, 0, what))
		ASSERT_EQ(off, want_off, what);
}

static void check(const char *what, const uint8_t *code, size_t len,
		  int want_err, size_t want_off)
{
	check_arch(GOBIN_ARCH_X86_64, what, code, len, want_err, want_off);
}

/* Instruction words as `go tool objdump` prints them, stored little
 * endian as in the binary. */
#define W(x) (x) & 0xff, (x) >> 8 & 0xff, (x) >> 16 & 0xff, (x) >> 24
#define ARM64(what, want_err, want_off, ...) do {			\
	static const uint8_t code[] = { __VA_ARGS__ };			\
	check_arch(GOBIN_ARCH_ARM64, "arm64: " what, code, sizeof(code), \
		   want_err, want_off);					\
} while (0)

static void check_arm64(void)
{
	size_t off = 0;

	/* ldr x16,[x28,#16]; cmp sp,x16; b.ls; str x30,[sp,#-32]!;
	 * stur x29,[sp,#-8]; sub x29,sp,#8: runtime.gopark, Go 1.22 (the
	 * four probed functions have this shape in 1.19 to 1.27). */
	ARM64("small frame: probe the b.ls", 0, 8, W(0xf9400b90),
	      W(0xeb3063ff), W(0x54000709), W(0xf81e0ffe), W(0xf81f83fd),
	      W(0xd10023fd));
	/* runtime.ready, Go 1.19: other frame size and branch offset. */
	ARM64("small frame, Go 1.19 ready", 0, 8, W(0xf9400b90),
	      W(0xeb3063ff), W(0x54000e09), W(0xf81a0ffe));
	/* sub x17,sp,#16; cmp x17,x16; b.ls: internal/cpu.processOptions,
	 * Go 1.19. */
	ARM64("large frame: probe the b.ls", 0, 12, W(0xf9400b90),
	      W(0xd10043f1), W(0xeb10023f), W(0x540027e9), W(0xf8170ffe));
	/* Then sub x20,sp,#N; stp x29,x30,[x20,#-8]: internal/strconv.ftoa32,
	 * Go 1.27. */
	ARM64("large frame, stp frame setup", 0, 12, W(0xf9400b90),
	      W(0xd10dc3f1), W(0xeb10023f), W(0x54002f09), W(0xd10fc3f4),
	      W(0xa93ffa9d));
	/* subs x17,sp,#3984; b.lo; cmp x17,x16; b.ls: debugCall4096,
	 * Go 1.19. */
	ARM64("huge frame, subs imm: probe the b.ls", 0, 16, W(0xf9400b90),
	      W(0xf13e43f1), W(0x54000243), W(0xeb10023f), W(0x54000209),
	      W(0xd282021b));
	/* mov x27,#8112; subs x17,sp,x27; b.lo; cmp; b.ls:
	 * runtime.getCPUCount, Go 1.27. */
	ARM64("huge frame, mov x27", 0, 20, W(0xf9400b90), W(0xd283f61b),
	      W(0xeb3b63f1), W(0x54000703), W(0xeb10023f), W(0x540006c9));
	/* mov x27,#65424; movk x27,#1,lsl #16: runtime.call131072, 1.27. */
	ARM64("huge frame, mov + movk x27", 0, 24, W(0xf9400b90),
	      W(0xd29ff21b), W(0xf2a0003b), W(0xeb3b63f1), W(0x540006e3),
	      W(0xeb10023f), W(0x540006a9));

	/* runtime.nanotime1.abi0 (NOSPLIT assembly): no stack check. */
	ARM64("no stack check: refuse", -ENOENT, 0, W(0xf81d0ffe),
	      W(0xf81f83fd), W(0xd10023fd), W(0x910003f4));
	/* runtime.memmove: starts with a cbz, not the check. */
	ARM64("memmove (cbz first): refuse", -ENOENT, 0, W(0xb40004a2),
	      W(0xf100405f), W(0x5400018d));
	/* stackguard1 (+24), as in cgo wrappers: not a shape we saw. */
	ARM64("ldr of stackguard1: refuse", -ENOENT, 0, W(0xf9400f90),
	      W(0xeb3063ff), W(0x54000709));
	/* The gopark prologue with b.hi instead of b.ls. */
	ARM64("b.hi after the cmp: refuse", -ENOENT, 0, W(0xf9400b90),
	      W(0xeb3063ff), W(0x54000708));
	ARM64("large frame without its cmp: refuse", -ENOENT, 0,
	      W(0xf9400b90), W(0xd10043f1), W(0x540027e9));
	ARM64("huge frame without b.lo: refuse", -ENOENT, 0, W(0xf9400b90),
	      W(0xf13e43f1), W(0xeb10023f), W(0x54000209));
	ARM64("truncated before the b.ls: refuse", -ENOENT, 0,
	      W(0xf9400b90), W(0xeb3063ff), 0x09, 0x07, 0x00);
	ARM64("ldr only: refuse", -ENOENT, 0, W(0xf9400b90));
	/* Byte-swapped words (a big-endian reading) are not accepted. */
	ARM64("big-endian words: refuse", -ENOENT, 0, 0xf9, 0x40, 0x0b, 0x90,
	      0xeb, 0x30, 0x63, 0xff, 0x54, 0x00, 0x07, 0x09);
	/* x86 code given as arm64, and arm64 code given as x86. */
	ARM64("amd64 prologue: refuse", -ENOENT, 0, 0x49, 0x3b, 0x66, 0x10,
	      0x76, 0x5a, 0x55, 0x48, 0x89, 0xe5);
	{
		static const uint8_t a64[] = { W(0xf9400b90), W(0xeb3063ff),
					       W(0x54000709) };

		check("arm64 prologue given as x86: refuse", a64, sizeof(a64),
		      -ENOENT, 0);
		ASSERT_EQ(prologue__probe_offset(GOBIN_ARCH_ARM64, a64, 0,
						 &off), -ENOENT,
			  "arm64: empty: refuse");
		ASSERT_EQ(prologue__probe_offset((enum gobin_arch)42, a64,
						 sizeof(a64), &off), -ENOTSUP,
			  "unknown architecture: -ENOTSUP");
	}
}

int main(void)
{
	/* Go 1.21+: cmp rsp,[r14+0x10]; jbe rel8; push rbp */
	static const uint8_t small_push[] = { 0x49, 0x3b, 0x66, 0x10, 0x76,
					      0x5a, 0x55, 0x48, 0x89, 0xe5 };
	/* Go 1.19: cmp; jbe rel8; sub rsp,0x28 (no push) */
	static const uint8_t small_sub[] = { 0x49, 0x3b, 0x66, 0x10, 0x76,
					     0x5a, 0x48, 0x83, 0xec, 0x28 };
	/* jbe rel32 */
	static const uint8_t jbe32[] = { 0x49, 0x3b, 0x66, 0x10, 0x0f, 0x86,
					 0x10, 0x01, 0x00, 0x00, 0x55 };
	/* Large frame: lea r12,[rsp-0xa8]; cmp r12,[r14+0x10]; jbe; push */
	static const uint8_t large8[] = { 0x4c, 0x8d, 0x64, 0x24, 0xd8, 0x4d,
					  0x3b, 0x66, 0x10, 0x0f, 0x86, 0x01,
					  0x02, 0x00, 0x00, 0x55 };
	static const uint8_t large32[] = { 0x4c, 0x8d, 0xa4, 0x24, 0x58, 0xff,
					   0xff, 0xff, 0x4d, 0x3b, 0x66, 0x10,
					   0x76, 0x20, 0x48 };
	/* A frameless NOSPLIT function: no stack check at all. */
	static const uint8_t nosplit[] = { 0x48, 0x8b, 0x44, 0x24, 0x08, 0xc3 };
	static const uint8_t truncated[] = { 0x49, 0x3b, 0x66, 0x10 };

	check("small frame, push rbp after jbe", small_push,
	      sizeof(small_push), 0, 6);
	check("small frame, 1.19 style: probe the jbe", small_sub,
	      sizeof(small_sub), 0, 4);
	check("jbe rel32 then push", jbe32, sizeof(jbe32), 0, 10);
	check("large frame, lea disp8", large8, sizeof(large8), 0, 15);
	check("large frame, lea disp32, 1.19 style", large32, sizeof(large32),
	      0, 12);
	check("no stack check: refuse", nosplit, sizeof(nosplit), -ENOENT, 0);
	check("truncated: refuse", truncated, sizeof(truncated), -ENOENT, 0);
	check("empty: refuse", truncated, 0, -ENOENT, 0);
	check_arm64();
	return tap__done();
}
