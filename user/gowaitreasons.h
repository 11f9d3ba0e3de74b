/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The runtime's wait-reason names (runtime.waitReasonStrings) per Go
 * release, for binaries that lost the array with their symbols (-s -w).
 * The numbering changes between releases (1.26 reordered it), so it is
 * never written by hand: tools/gen-offsets-table.sh reads each release's
 * own array from a fixture built with it. */
#ifndef GOLEAKTRACE_GOWAITREASONS_H
#define GOLEAKTRACE_GOWAITREASONS_H

/* The names of the release whose runtime.buildVersion is go_version (keyed
 * by its minor, as go_offsets__from_table): *names[i] is waitReason i, for
 * i < *n. Returns 0, -ENOTSUP for a minor not in the table, -EINVAL for a
 * string that is no Go release version. */
int go_wait_reasons__from_table(const char *go_version,
				const char *const **names, int *n);

#endif
