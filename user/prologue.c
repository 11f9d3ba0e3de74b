// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include "prologue.h"

/* amd64 stack checks (Go ABIInternal, g in R14, stackguard0 at +0x10):
 *   small frame:  cmp rsp, [r14+0x10]                  49 3b 66 10
 *   large frame:  lea r12, [rsp-N]; cmp r12, [r14+0x10]
 *                 4c 8d 64 24 d8 | 4c 8d a4 24 d32, then 4d 3b 66 10
 * followed by jbe rel8 (76 xx) or jbe rel32 (0f 86 xx xx xx xx). */
static const uint8_t cmp_rsp[] = { 0x49, 0x3b, 0x66, 0x10 };
static const uint8_t cmp_r12[] = { 0x4d, 0x3b, 0x66, 0x10 };

static size_t match(const uint8_t *code, size_t len, size_t at,
		    const uint8_t *pat, size_t patlen)
{
	if (at > len || len - at < patlen || memcmp(code + at, pat, patlen))
		return 0;
	return patlen;
}

static int x86_probe_offset(const uint8_t *code, size_t len, size_t *offset)
{
	size_t at = 0, n;

	if ((n = match(code, len, 0, cmp_rsp, sizeof(cmp_rsp)))) {
		at = n;
	} else {
		if (len >= 5 && !memcmp(code, "\x4c\x8d\x64\x24", 4))
			at = 5;
		else if (len >= 8 && !memcmp(code, "\x4c\x8d\xa4\x24", 4))
			at = 8;
		else
			return -ENOENT;
		n = match(code, len, at, cmp_r12, sizeof(cmp_r12));
		if (!n)
			return -ENOENT;
		at += n;
	}
	/* at: the jbe. */
	if (at + 2 <= len && code[at] == 0x76)
		n = 2;
	else if (at + 6 <= len && code[at] == 0x0f && code[at + 1] == 0x86)
		n = 6;
	else
		return -ENOENT;
	/* Prefer `push rbp` just after it (Go 1.21+): it runs once per
	 * call, while the jbe runs again after a morestack round trip. */
	*offset = (at + n < len && code[at + n] == 0x55) ? at + n : at;
	return 0;
}

/* arm64 stack checks (Go ABIInternal, g in R28, stackguard0 at +16; words
 * as `go tool objdump` prints them, identical in Go 1.19 to 1.27):
 *   ldr x16, [x28, #16]                        f9400b90
 * then by frame size, from cmd/internal/obj/arm64 stacksplit():
 *   small:  cmp sp, x16                        eb3063ff
 *   large:  sub x17, sp, #N ; cmp x17, x16     d10043f1 eb10023f
 *   huge:   subs x17, sp, #N                   f13e43f1
 *        or mov x27, #N [; movk x27, ...] ; subs x17, sp, x27
 *                                              d283f61b f2a0003b eb3b63f1
 *           b.lo morestack ; cmp x17, x16      54000703 eb10023f
 * and then b.ls morestack (54xxxxx9), before the frame is set up.
 *
 * Which instruction to probe: an arm64 uprobe either simulates the
 * instruction in the kernel or single-steps it out of line, which costs
 * a second trap (arm_probe_decode_insn() in arch/arm64/kernel/probes/
 * decode-insn.c: only b.cond, cbz/cbnz, tbz/tbnz, adr/adrp, b/bl and
 * br/blr/ret are simulated). The ldr at +0, the cmp/sub and the frame
 * setup after the check (str x30, [sp, #-N]! or stp) are all stepped, so
 * the check's conditional branch is the one cheap place. There g (R28),
 * the arguments (X0..) and the return address (LR) are still those of the
 * entry. Like the x86 jbe, it runs again when the function is re-entered
 * after morestack. */
struct a64_insn {
	uint32_t mask, value;
};

#define A64_EXACT(word) { 0xffffffff, word }
static const struct a64_insn
	ldr_stackguard0 = A64_EXACT(0xf9400b90), /* ldr x16, [x28, #16] */
	cmp_sp_x16 = A64_EXACT(0xeb3063ff),	  /* cmp sp, x16 */
	cmp_x17_x16 = A64_EXACT(0xeb10023f),	  /* cmp x17, x16 */
	subs_x17_sp_x27 = A64_EXACT(0xeb3b63f1), /* subs x17, sp, x27 */
	/* With an immediate or a branch offset, masked out. */
	sub_x17_sp_imm = { 0xff8003ff, 0xd10003f1 },  /* sub x17, sp, #N */
	subs_x17_sp_imm = { 0xff8003ff, 0xf10003f1 }, /* subs x17, sp, #N */
	movz_x27 = { 0xff80001f, 0xd280001b },	      /* mov x27, #N */
	movk_x27 = { 0xff80001f, 0xf280001b },	      /* movk x27, #N */
	b_ls = { 0xff00001f, 0x54000009 },	      /* b.ls label */
	b_lo = { 0xff00001f, 0x54000003 };	      /* b.lo label */

/* Instruction words are little endian whatever the host is. */
static bool a64_match(const uint8_t *code, size_t len, size_t at,
		      const struct a64_insn *want)
{
	uint32_t insn;

	if (at > len || len - at < 4)
		return false;
	insn = code[at] | code[at + 1] << 8 | code[at + 2] << 16 |
	       (uint32_t)code[at + 3] << 24;
	return (insn & want->mask) == want->value;
}

static int arm64_probe_offset(const uint8_t *code, size_t len,
			      size_t *offset)
{
#define IS(at, insn) a64_match(code, len, at, &insn)
	size_t at = 4;
	int i;

	if (!IS(0, ldr_stackguard0))
		return -ENOENT;
	if (IS(at, cmp_sp_x16)) {
		at += 4;
	} else if (IS(at, sub_x17_sp_imm) && IS(at + 4, cmp_x17_x16)) {
		at += 8;
	} else {
		/* Huge frame (a 64-bit size takes at most movz + 3 movk). */
		if (IS(at, movz_x27)) {
			for (at += 4, i = 0; i < 3 && IS(at, movk_x27); i++)
				at += 4;
			if (!IS(at, subs_x17_sp_x27))
				return -ENOENT;
		} else if (!IS(at, subs_x17_sp_imm)) {
			return -ENOENT;
		}
		at += 4;
		if (!IS(at, b_lo) || !IS(at + 4, cmp_x17_x16))
			return -ENOENT;
		at += 8;
	}
	/* The b.ls is probed in every shape: same cost as the b.lo of huge
	 * frames, and one rule to check. */
	if (!IS(at, b_ls))
		return -ENOENT;
	*offset = at;
	return 0;
#undef IS
}

int prologue__probe_offset(enum gobin_arch arch, const uint8_t *code,
			   size_t len, size_t *offset)
{
	switch (arch) {
	case GOBIN_ARCH_X86_64:
		return x86_probe_offset(code, len, offset);
	case GOBIN_ARCH_ARM64:
		return arm64_probe_offset(code, len, offset);
	default:
		return -ENOTSUP;
	}
}
