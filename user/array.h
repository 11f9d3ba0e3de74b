/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Growing arrays: the one helper the tables of goroutines, stacks and
 * sudogs share. */
#ifndef GOLEAKTRACE_ARRAY_H
#define GOLEAKTRACE_ARRAY_H

#include <errno.h>
#include <stdlib.h>

/* Makes *p (of *cap elements of size bytes) hold at least need, doubling
 * from 64. 0 or -ENOMEM (then *p and *cap are unchanged). */
static inline int array__grow(void **p, size_t *cap, size_t need,
			      size_t size)
{
	size_t ncap = *cap ? *cap : 64;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * size);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

#endif
