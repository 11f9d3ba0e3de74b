/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* JSON lines reporter: every report prints one JSON object per group, one
 * per line, for jq and scripts. Each object carries the report it belongs
 * to (time, pid) and the drop counters, so lines stand alone. The schema
 * is documented in README.md ("JSON lines"). */
#ifndef GOLEAKTRACE_REPORT_JSON_H
#define GOLEAKTRACE_REPORT_JSON_H

#include <stdint.h>
#include <stdio.h>
#include "gtable.h"
#include "report_term.h"

struct report_json {
	FILE *out;
};

void report_json__init(struct report_json *r, FILE *out);
/* time_ns: wall clock of the report (CLOCK_REALTIME). 0, or -EIO when
 * the output could not be written. */
int report_json__print(struct report_json *r, const struct report_info *info,
		       const struct gtable *gt, uint64_t time_ns);

/* Writes s as a quoted JSON string. Quotes, backslashes and control bytes
 * are escaped and invalid UTF-8 becomes U+FFFD: names come from the
 * target's binary, which may be hostile. NULL is written as null. */
void report_json__string(FILE *out, const char *s);

/* "2024-05-01T12:00:00.123Z" (UTC, milliseconds); size >= 32. */
void report_json__format_time(uint64_t time_ns, char *buf, size_t size);

#endif
