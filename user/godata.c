// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* PC-relative data references in Go machine code. The code comes from an
 * untrusted binary: every byte read is checked against len, and decoding
 * ends at the first instruction the tables below do not describe. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include "godata.h"

/* x86-64 operand shapes, enough for what Go's compiler and assembler emit
 * in ordinary functions (no VEX/EVEX: vector code is not where globals are
 * read). */
enum {
	X_BAD = 0,	/* unknown or invalid in 64-bit mode: stop */
	X_NONE,		/* opcode only */
	X_M,		/* ModRM (+SIB, displacement) */
	X_I8,		/* 8-bit immediate or rel8 */
	X_I16,
	X_IZ,		/* 32-bit immediate, 16 with a 0x66 prefix */
	X_I32,		/* rel32: 32 bits whatever the prefixes */
	X_IV,		/* B8+r: 64 bits with REX.W, else like X_IZ */
	X_MOFFS,	/* A0-A3: 8-byte absolute address */
	X_M_I8,
	X_M_IZ,
	X_M_GRP3,	/* F6/F7: immediate only for /0 and /1 (TEST) */
	X_ENTER,	/* imm16 + imm8 */
	X_PREFIX,
	X_REX,
	X_ESC,		/* 0x0F */
};

/* GNU range designators (-std=gnu11); unlisted opcodes are X_BAD. */
static const uint8_t one_byte[256] = {
	/* ALU blocks: r/m forms, then the AL and eAX immediates. */
	[0x00 ... 0x03] = X_M, [0x04] = X_I8, [0x05] = X_IZ,
	[0x08 ... 0x0b] = X_M, [0x0c] = X_I8, [0x0d] = X_IZ,
	[0x0f] = X_ESC,
	[0x10 ... 0x13] = X_M, [0x14] = X_I8, [0x15] = X_IZ,
	[0x18 ... 0x1b] = X_M, [0x1c] = X_I8, [0x1d] = X_IZ,
	[0x20 ... 0x23] = X_M, [0x24] = X_I8, [0x25] = X_IZ,
	[0x26] = X_PREFIX,
	[0x28 ... 0x2b] = X_M, [0x2c] = X_I8, [0x2d] = X_IZ,
	[0x2e] = X_PREFIX,
	[0x30 ... 0x33] = X_M, [0x34] = X_I8, [0x35] = X_IZ,
	[0x36] = X_PREFIX,
	[0x38 ... 0x3b] = X_M, [0x3c] = X_I8, [0x3d] = X_IZ,
	[0x3e] = X_PREFIX,
	[0x40 ... 0x4f] = X_REX,
	[0x50 ... 0x5f] = X_NONE,
	[0x63] = X_M,
	[0x64 ... 0x67] = X_PREFIX,
	[0x68] = X_IZ, [0x69] = X_M_IZ, [0x6a] = X_I8, [0x6b] = X_M_I8,
	[0x6c ... 0x6f] = X_NONE,
	[0x70 ... 0x7f] = X_I8,
	[0x80] = X_M_I8, [0x81] = X_M_IZ, [0x83] = X_M_I8,
	[0x84 ... 0x8f] = X_M,
	[0x90 ... 0x99] = X_NONE, [0x9b ... 0x9f] = X_NONE,
	[0xa0 ... 0xa3] = X_MOFFS,
	[0xa4 ... 0xa7] = X_NONE, [0xa8] = X_I8, [0xa9] = X_IZ,
	[0xaa ... 0xaf] = X_NONE,
	[0xb0 ... 0xb7] = X_I8, [0xb8 ... 0xbf] = X_IV,
	[0xc0] = X_M_I8, [0xc1] = X_M_I8, [0xc2] = X_I16, [0xc3] = X_NONE,
	[0xc6] = X_M_I8, [0xc7] = X_M_IZ, [0xc8] = X_ENTER, [0xc9] = X_NONE,
	[0xca] = X_I16, [0xcb] = X_NONE, [0xcc] = X_NONE, [0xcd] = X_I8,
	[0xcf] = X_NONE,
	[0xd0 ... 0xd3] = X_M, [0xd7] = X_NONE, [0xd8 ... 0xdf] = X_M,
	[0xe0 ... 0xe7] = X_I8, [0xe8] = X_I32, [0xe9] = X_I32,
	[0xeb] = X_I8, [0xec ... 0xef] = X_NONE,
	[0xf0] = X_PREFIX, [0xf1] = X_NONE, [0xf2] = X_PREFIX,
	[0xf3] = X_PREFIX, [0xf4] = X_NONE, [0xf5] = X_NONE,
	[0xf6] = X_M_GRP3, [0xf7] = X_M_GRP3,
	[0xf8 ... 0xfd] = X_NONE, [0xfe] = X_M, [0xff] = X_M,
};

/* After 0x0F; 0x38 and 0x3A lead to the three-byte maps. */
static const uint8_t two_byte[256] = {
	[0x00 ... 0x03] = X_M,
	[0x05 ... 0x09] = X_NONE, [0x0b] = X_NONE, [0x0d] = X_M,
	[0x10 ... 0x1f] = X_M, [0x20 ... 0x23] = X_M, [0x28 ... 0x2f] = X_M,
	[0x30 ... 0x37] = X_NONE,
	[0x40 ... 0x6f] = X_M,
	[0x70 ... 0x73] = X_M_I8, [0x74 ... 0x76] = X_M, [0x77] = X_NONE,
	[0x78 ... 0x7f] = X_M,
	[0x80 ... 0x8f] = X_I32,
	[0x90 ... 0x9f] = X_M,
	[0xa0 ... 0xa2] = X_NONE, [0xa3] = X_M, [0xa4] = X_M_I8,
	[0xa5] = X_M, [0xa8] = X_NONE, [0xa9] = X_NONE, [0xab] = X_M,
	[0xac] = X_M_I8, [0xad ... 0xaf] = X_M,
	[0xb0 ... 0xb9] = X_M, [0xba] = X_M_I8, [0xbb ... 0xc1] = X_M,
	[0xc2] = X_M_I8, [0xc3] = X_M, [0xc4 ... 0xc6] = X_M_I8,
	[0xc7] = X_M, [0xc8 ... 0xcf] = X_NONE,
	[0xd0 ... 0xff] = X_M,
};

static int32_t le32s(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return (int32_t)v;
}

/* Length of the x86-64 instruction at code[0..len), 0 when unknown or cut
 * off. *rip_disp_at: offset of a RIP-relative disp32, or 0 if none. */
static size_t x86_insn(const uint8_t *code, size_t len, size_t *rip_disp_at)
{
	bool opsize16 = false, rexw = false;
	size_t at = 0, imm = 0, disp = 0;
	uint8_t op, shape, modrm, mod, rm;
	int prefixes = 0;

	*rip_disp_at = 0;
	for (;;) {
		if (at >= len)
			return 0;
		op = code[at];
		if (one_byte[op] != X_PREFIX)
			break;
		if (op == 0x66)
			opsize16 = true;
		if (++prefixes > 4)
			return 0;
		at++;
	}
	if (one_byte[op] == X_REX) {
		rexw = op & 0x08;
		if (++at >= len)
			return 0;
		op = code[at];
	}
	at++;
	shape = one_byte[op];
	if (shape == X_ESC) {
		if (at >= len)
			return 0;
		op = code[at++];
		if (op == 0x38 || op == 0x3a) {	/* three-byte maps */
			if (at >= len)
				return 0;
			at++;
			shape = op == 0x3a ? X_M_I8 : X_M;
		} else {
			shape = two_byte[op];
		}
	}

	switch (shape) {
	case X_NONE:
		break;
	case X_I8:
		imm = 1;
		break;
	case X_I16:
		imm = 2;
		break;
	case X_ENTER:
		imm = 3;
		break;
	case X_IZ:
		imm = opsize16 ? 2 : 4;
		break;
	case X_I32:
		imm = 4;
		break;
	case X_IV:
		imm = rexw ? 8 : opsize16 ? 2 : 4;
		break;
	case X_MOFFS:
		imm = 8;
		break;
	case X_M:
	case X_M_I8:
	case X_M_IZ:
	case X_M_GRP3:
		if (at >= len)
			return 0;
		modrm = code[at++];
		mod = modrm >> 6;
		rm = modrm & 7;
		/* SIB; with base 5 and mod 0, a disp32 follows */
		if (mod != 3 && rm == 4) {
			if (at >= len)
				return 0;
			if (mod == 0 && (code[at] & 7) == 5)
				disp = 4;
			at++;
		}
		if (mod == 0 && rm == 5) {
			*rip_disp_at = at;
			disp = 4;
		} else if (mod == 1) {
			disp = 1;
		} else if (mod == 2) {
			disp = 4;
		}
		at += disp;
		if (shape == X_M_I8)
			imm = 1;
		else if (shape == X_M_IZ)
			imm = opsize16 ? 2 : 4;
		else if (shape == X_M_GRP3 && ((modrm >> 3) & 7) < 2)
			imm = op == 0xf6 ? 1 : opsize16 ? 2 : 4;
		break;
	default:
		return 0;
	}
	at += imm;
	return at <= len ? at : 0;
}

static int x86_refs(const uint8_t *code, size_t len, uint64_t pc,
		    struct godata_ref *refs, int max, bool *complete)
{
	size_t at = 0, n, disp_at;
	int nrefs = 0;

	while (at < len && nrefs < max) {
		n = x86_insn(code + at, len - at, &disp_at);
		if (!n)
			return nrefs;
		if (disp_at) {
			refs[nrefs].pc = pc + at;
			refs[nrefs].addr = pc + at + n +
					   (int64_t)le32s(code + at + disp_at);
			nrefs++;
		}
		at += n;
	}
	*complete = at >= len;
	return nrefs;
}

/* arm64: Go's linker writes a global's address as ADRP followed directly
 * by the instruction that adds the low 12 bits (R_ADDRARM64): ADD
 * (immediate) for an address, LDR/STR (unsigned offset) for a load or
 * store. Pairs are never split, so only adjacent ones are followed. */
static int arm64_refs(const uint8_t *code, size_t len, uint64_t pc,
		      struct godata_ref *refs, int max, bool *complete)
{
	uint64_t page = 0;
	uint32_t insn, prev_rd = 32;
	int nrefs = 0;
	size_t at;

	for (at = 0; at + 4 <= len && nrefs < max; at += 4) {
		uint32_t rn, imm12, size;
		uint64_t lo;

		memcpy(&insn, code + at, 4);
		rn = (insn >> 5) & 31;
		imm12 = (insn >> 10) & 0xfff;
		if ((insn & 0x9f000000) == 0x90000000) {	/* ADRP */
			int64_t imm = ((insn >> 5) & 0x7ffff) << 2 |
				      ((insn >> 29) & 3);

			imm = (imm ^ (1 << 20)) - (1 << 20);	/* 21 bits */
			page = ((pc + at) & ~0xfffULL) + ((uint64_t)imm << 12);
			prev_rd = insn & 31;
			continue;
		}
		if (prev_rd != rn) {
			prev_rd = 32;
			continue;
		}
		prev_rd = 32;
		if ((insn & 0xff800000) == 0x91000000) {	/* ADD x, imm */
			lo = (uint64_t)imm12 << ((insn >> 22) & 1 ? 12 : 0);
		} else if ((insn & 0x3f000000) == 0x39000000) {
			/* LDR/STR (unsigned offset), general registers:
			 * the offset is scaled by the access size. */
			size = insn >> 30;
			lo = (uint64_t)imm12 << size;
		} else {
			continue;
		}
		refs[nrefs].pc = pc + at;
		refs[nrefs].addr = page + lo;
		nrefs++;
	}
	*complete = at >= len;
	return nrefs;
}

int godata__refs(enum gobin_arch arch, const uint8_t *code, size_t len,
		 uint64_t pc, struct godata_ref *refs, int max,
		 bool *complete)
{
	*complete = false;
	if (!code || max < 0)
		return -EINVAL;
	switch (arch) {
	case GOBIN_ARCH_X86_64:
		return x86_refs(code, len, pc, refs, max, complete);
	case GOBIN_ARCH_ARM64:
		return arm64_refs(code, len, pc, refs, max, complete);
	}
	return -EINVAL;
}
