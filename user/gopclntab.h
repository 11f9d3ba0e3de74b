/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Go pclntab reader: function lookup, PC -> func/file:line with inlined
 * frames. Works on stripped binaries because the runtime itself needs the
 * table. The parser only sees a byte buffer (the section contents), so it
 * can be fuzzed without ELF around it. Every read is bounds-checked. */
#ifndef GOLEAKTRACE_GOPCLNTAB_H
#define GOLEAKTRACE_GOPCLNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pclntab;

struct pclntab_frame {
	const char *func;	/* points into the table; valid until free */
	const char *file;	/* "?" when unknown */
	int line;		/* 0 when unknown */
	bool inlined;		/* frame was inlined into the next outer one */
	uint64_t entry;		/* entry PC of the physical function */
};

/* data/size: the pclntab section contents (kept by the caller, must outlive
 * the table). text_start: address of the .text section, used when the header
 * does not carry one (Go 1.26+ writes 0 there). */
int pclntab__open(struct pclntab **out, const void *data, size_t size,
		  uint64_t text_start);
void pclntab__free(struct pclntab *tab);

/* Layout magic (0xfffffff0 = Go 1.18/1.19, 0xfffffff1 = Go 1.20+, ...) */
uint32_t pclntab__magic(const struct pclntab *tab);

/* Exact name match ("runtime.gopark"); -ENOENT when absent. */
int pclntab__find_func(const struct pclntab *tab, const char *name,
		       uint64_t *entry, uint64_t *end);

/* Logical frames for pc, innermost first (inlined callees before the
 * physical function). Returns the number of frames written (>= 1), or a
 * negative errno (-ENOENT: pc not in any function). */
int pclntab__symbolize(const struct pclntab *tab, uint64_t pc,
		       struct pclntab_frame *frames, int max_frames);

#endif
