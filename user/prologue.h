/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Probe placement. A Go function starts with a stack-bound check whose
 * memory-operand compare the kernel must single-step (5-7 us a hit); the
 * conditional jump after it, or the PUSH of the frame pointer, is emulated
 * (about 1 us). This finds that instruction without a disassembler: Go's
 * prologues come in a handful of fixed shapes. */
#ifndef GOLEAKTRACE_PROLOGUE_H
#define GOLEAKTRACE_PROLOGUE_H

#include <stddef.h>
#include <stdint.h>
#include "gobin.h"

/* code: the function's first bytes. On success *offset is the distance
 * from the entry to the instruction to probe, never 0. -ENOENT when the
 * prologue has an unknown shape. */
int prologue__probe_offset(enum gobin_arch arch, const uint8_t *code,
			   size_t len, size_t *offset);

#endif
