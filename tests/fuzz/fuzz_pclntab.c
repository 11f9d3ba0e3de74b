// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target: the pclntab reader on arbitrary bytes, with its
 * inline trees, then every query it serves: name lookup, symbolization
 * (inlined frames included) and frame sizes at PCs spread over the text
 * range, and the function list. The input (tests/fuzz/seeds.py cuts
 * seeds from real binaries):
 *   u64 text start    base of entry offsets if the header has none
 *   u32 tab length    bytes of pclntab that follow the header
 *   u64 gofunc        offset of go:func.* in the funcdata
 *   u32 first         first function symbolized (32 from there)
 *   pclntab, then funcdata (the inline trees; when empty, go:func.* is
 *   inside the pclntab, as from Go 1.26). */
#include <stdint.h>
#include <string.h>
#include "gopclntab.h"

#define HEADER 24
#define TAB_ADDR 0x500000ULL
#define FUNCDATA_ADDR 0x900000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pclntab_frame frames[16];
	uint64_t text, goff, entry, end, pc;
	uint32_t tab_len, first;
	struct pclntab *tab = NULL;
	const uint8_t *funcdata;
	size_t funcdata_len;
	const char *name;
	int32_t delta;
	int i, n, start;

	if (size < HEADER)
		return 0;
	memcpy(&text, data, 8);
	memcpy(&tab_len, data + 8, 4);
	memcpy(&goff, data + 12, 8);
	memcpy(&first, data + 20, 4);
	data += HEADER;
	size -= HEADER;
	if (tab_len > size)
		tab_len = size;
	funcdata = data + tab_len;
	funcdata_len = size - tab_len;
	if (pclntab__open(&tab, data, tab_len, text))
		return 0;
	if (funcdata_len)
		pclntab__set_funcdata(tab, funcdata, funcdata_len,
				      FUNCDATA_ADDR, FUNCDATA_ADDR + goff);
	else
		pclntab__set_funcdata(tab, data, tab_len, TAB_ADDR,
				      TAB_ADDR + goff);
	pclntab__magic(tab);
	pclntab__text_start(tab);
	pclntab__find_func(tab, "runtime.gopark", &entry, &end);
	pclntab__find_func(tab, "", &entry, &end);
	n = pclntab__func_count(tab);
	start = n > 0 ? first % n : 0;
	for (i = start; i < n && i < start + 32; i++) {
		if (pclntab__func_at(tab, i, &name, &entry, &end))
			continue;
		for (pc = entry; pc < end && pc < entry + 256; pc += 5) {
			pclntab__symbolize(tab, pc, frames, 16);
			pclntab__sp_delta(tab, pc, &delta);
		}
		pclntab__symbolize(tab, end - 1, frames, 16);
		pclntab__symbolize(tab, end, frames, 1);
	}
	pclntab__symbolize(tab, 0, frames, 16);
	pclntab__symbolize(tab, UINT64_MAX, frames, 16);
	pclntab__sp_delta(tab, UINT64_MAX, &delta);
	pclntab__free(tab);
	return 0;
}
