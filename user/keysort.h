/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Sorting a million (64-bit key, index) pairs in linear time: addresses
 * to read in order, goids of a snapshot. */
#ifndef GOLEAKTRACE_KEYSORT_H
#define GOLEAKTRACE_KEYSORT_H

#include <stddef.h>
#include <stdint.h>

struct key_idx {
	uint64_t key;
	size_t idx;
};

/* Sorts by key, ascending (stable). 0 or -ENOMEM. */
int keysort__sort(struct key_idx *v, size_t n);
/* Sorts plain keys, ascending. 0 or -ENOMEM. */
int keysort__u64(uint64_t *v, size_t n);

#endif
