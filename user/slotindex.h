/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* An open-addressing index over an array of entries, each holding a
 * 64-bit hash at key_off. Slots hold entry index + 1 (0 = empty); linear
 * probing; the size is a power of two. */
#ifndef GOLEAKTRACE_SLOTINDEX_H
#define GOLEAKTRACE_SLOTINDEX_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Doubles the index (256 slots at first) and re-inserts every entry. */
static inline int slotindex__grow(uint32_t **slots, size_t *nslots,
				  const void *ents, size_t nents,
				  size_t stride, size_t key_off)
{
	size_t n = *nslots ? *nslots * 2 : 256, i, j;
	uint32_t *grown = calloc(n, sizeof(*grown));
	uint64_t key;

	if (!grown)
		return -ENOMEM;
	for (i = 0; i < nents; i++) {
		memcpy(&key, (const char *)ents + i * stride + key_off,
		       sizeof(key));
		for (j = key & (n - 1); grown[j]; j = (j + 1) & (n - 1))
			;
		grown[j] = i + 1;
	}
	free(*slots);
	*slots = grown;
	*nslots = n;
	return 0;
}

#endif
