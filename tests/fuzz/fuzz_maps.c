// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target: /proc/PID/maps as the target shapes it (it chooses
 * the paths it maps, and a path may hold spaces or look like another
 * line). Every line goes through the line parser, whose accepted lines
 * must survive a round trip through the kernel's format; the whole input
 * goes through the load-bias search, as a file. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "target.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static void round_trip(const struct maps_entry *e)
{
	struct maps_entry again;
	char *line;
	int n;

	/* The path may hold NUL bytes: copied, not printed. */
	line = malloc(128 + e->path_len);
	if (!line)
		return;
	n = snprintf(line, 128, "%llx-%llx %.4s %08llx %02x:%02x %llu ",
		     (unsigned long long)e->start, (unsigned long long)e->end,
		     e->perms, (unsigned long long)e->offset, e->dev_major,
		     e->dev_minor, (unsigned long long)e->inode);
	check(n > 0 && n < 128);
	memcpy(line + n, e->path, e->path_len);
	/* An anonymous mapping printed with its separator still parses. */
	check(!target__parse_maps_line(line, n + e->path_len, &again));
	check(again.start == e->start && again.end == e->end &&
	      again.offset == e->offset && again.inode == e->inode &&
	      again.dev_major == e->dev_major &&
	      again.dev_minor == e->dev_minor &&
	      !memcmp(again.perms, e->perms, sizeof(e->perms)));
	check(again.path_len == e->path_len &&
	      !memcmp(again.path, e->path, e->path_len));
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *line = text, *nl;
	const char *end = text + size;
	uint64_t inode = 0, first = 0, bias;
	bool found = false;
	struct maps_entry e;
	FILE *f;

	while (line < end) {
		nl = memchr(line, '\n', end - line);
		if (!nl)
			nl = end;
		if (!target__parse_maps_line(line, nl - line, &e)) {
			check(e.start < e.end && e.path >= line &&
			      e.path + e.path_len == nl);
			round_trip(&e);
			if (!found && e.offset == 0) {
				found = true;
				inode = e.inode;
				first = e.start;
			}
		}
		line = nl + 1;
	}
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	/* The first mapping of that inode at offset 0, or none. */
	if (!target__maps_load_bias(f, inode, 0x400000, &bias))
		check(found && bias == first - 0x400000);
	else
		check(!found);
	fclose(f);
	return 0;
}
