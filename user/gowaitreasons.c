// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The built-in per-release wait-reason tables. */
#include <errno.h>
#include <stddef.h>
#include "gooffsets.h"
#include "gowaitreasons.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct go_wait_reasons_row {
	unsigned int minor;
	const char *go_version;	/* toolchain the row was read from */
	const char *const *names;
	int n;
};

#include "gowaitreasons_table.inc"

int go_wait_reasons__from_table(const char *go_version,
				const char *const **names, int *n)
{
	int minor = go_offsets__version_minor(go_version);
	size_t i;

	if (minor < 0)
		return minor;
	for (i = 0; i < ARRAY_SIZE(go_wait_reasons_table); i++) {
		const struct go_wait_reasons_row *r = &go_wait_reasons_table[i];

		if (r->minor == (unsigned int)minor && r->names) {
			*names = r->names;
			*n = r->n;
			return 0;
		}
	}
	return -ENOTSUP;
}
