// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "keysort.h"

/* LSD radix sort, a byte a pass; passes over a byte that every key
 * shares are skipped (heap addresses share their top, goids too). KEY
 * is how an element's key is read. */
#define RADIX_SORT(v, n, type, KEY)					\
	do {								\
		size_t count[256], i, sum, c;				\
		type *tmp;						\
		int shift;						\
									\
		if (n < 2)						\
			return 0;					\
		tmp = malloc(n * sizeof(*tmp));				\
		if (!tmp)						\
			return -ENOMEM;					\
		for (shift = 0; shift < 64; shift += 8) {		\
			memset(count, 0, sizeof(count));		\
			for (i = 0; i < n; i++)				\
				count[(KEY(v[i]) >> shift) & 0xff]++;	\
			if (count[(KEY(v[0]) >> shift) & 0xff] == n)	\
				continue;				\
			for (sum = 0, i = 0; i < 256; i++) {		\
				c = count[i];				\
				count[i] = sum;				\
				sum += c;				\
			}						\
			for (i = 0; i < n; i++)				\
				tmp[count[(KEY(v[i]) >> shift) & 0xff]++] = \
					v[i];				\
			memcpy(v, tmp, n * sizeof(*v));			\
		}							\
		free(tmp);						\
		return 0;						\
	} while (0)

#define PAIR_KEY(e) ((e).key)
#define PLAIN_KEY(e) (e)

int keysort__sort(struct key_idx *v, size_t n)
{
	RADIX_SORT(v, n, struct key_idx, PAIR_KEY);
}

int keysort__u64(uint64_t *v, size_t n)
{
	RADIX_SORT(v, n, uint64_t, PLAIN_KEY);
}
