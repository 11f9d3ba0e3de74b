/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Data addresses from machine code. `-s -w` removes every data symbol
 * (runtime.allglen, ...), but the runtime functions that use those globals
 * still reach them PC-relatively: RIP-relative operands on x86-64,
 * ADRP + ADD/LDR/STR pairs on arm64. This decodes a function's code and
 * lists the addresses it references, in instruction order; which function
 * and which reference stand for which global is gobin's business. */
#ifndef GOLEAKTRACE_GODATA_H
#define GOLEAKTRACE_GODATA_H

#include <stddef.h>
#include <stdint.h>
#include "gobin.h"

struct godata_ref {
	uint64_t pc;		/* link-time address of the instruction */
	uint64_t addr;		/* link-time address it references */
};

/* Decodes code, len bytes at link-time address pc, from its first
 * instruction. Returns the number of references written to refs (at most
 * max), found before the end of the code or before the first instruction
 * the x86-64 decoder does not know (*complete then false), or -EINVAL.
 * Branch and call targets are not data references and are left out. */
int godata__refs(enum gobin_arch arch, const uint8_t *code, size_t len,
		 uint64_t pc, struct godata_ref *refs, int max,
		 bool *complete);

#endif
