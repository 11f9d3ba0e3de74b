// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target: the pclntab reader on arbitrary bytes, then every
 * query it serves — name lookup, symbolization at PCs spread over the
 * text range, and the function list. The first 8 input bytes pick the
 * text start, so both header layouts (with and without textStart) get
 * explored. */
#include <stdint.h>
#include <string.h>
#include "gopclntab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pclntab_frame frames[16];
	uint64_t text = 0x401000, entry, end, pc;
	struct pclntab *tab = NULL;
	const char *name;
	int i, n;

	if (size >= 8) {
		memcpy(&text, data, 8);
		data += 8;
		size -= 8;
	}
	if (pclntab__open(&tab, data, size, text))
		return 0;
	pclntab__find_func(tab, "runtime.gopark", &entry, &end);
	pclntab__find_func(tab, "", &entry, &end);
	n = pclntab__func_count(tab);
	for (i = 0; i < n && i < 64; i++) {
		if (pclntab__func_at(tab, i, &name, &entry, &end))
			continue;
		for (pc = entry; pc < end && pc < entry + 64; pc += 7)
			pclntab__symbolize(tab, pc, frames, 16);
		pclntab__symbolize(tab, end - 1, frames, 16);
		pclntab__symbolize(tab, end, frames, 1);
	}
	pclntab__symbolize(tab, 0, frames, 16);
	pclntab__symbolize(tab, UINT64_MAX, frames, 16);
	pclntab__free(tab);
	return 0;
}
