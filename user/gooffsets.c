// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Go runtime struct offsets: field names, the required-field check and
 * the built-in per-version table for binaries without DWARF. */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include "gooffsets.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* Far above any real runtime.g (456 bytes in Go 1.27). */
#define MAX_G_SIZE_SANE 65536

struct go_offsets_row {
	unsigned int minor;
	const char *go_version;	/* toolchain the row was generated with */
	struct go_offsets off;
};

#include "gooffsets_table.inc"

/* A struct field added without regenerating would be 0 in every row. */
_Static_assert(GO_OFFSETS_TABLE_NFIELDS == GO_OFFSETS_FIELD_COUNT,
	       "struct go_offsets changed: run tools/gen-offsets-table.sh");

#define FIELD(f) { #f, offsetof(struct go_offsets, f) }

static const struct {
	const char *name;
	size_t off;
} fields[] = {
	FIELD(g_size),
	FIELD(g_stack_lo),
	FIELD(g_stack_hi),
	FIELD(g_m),
	FIELD(g_sched_sp),
	FIELD(g_sched_pc),
	FIELD(g_sched_bp),
	FIELD(g_atomicstatus),
	FIELD(g_goid),
	FIELD(g_waitsince),
	FIELD(g_waitreason),
	FIELD(g_parent_goid),
	FIELD(g_gopc),
	FIELD(g_startpc),
	FIELD(g_waiting),
	FIELD(g_labels),
	FIELD(m_curg),
	FIELD(sudog_g),
	FIELD(sudog_elem),
	FIELD(sudog_waitlink),
	FIELD(sudog_c),
	FIELD(sudog_next),
	FIELD(sudog_prev),
	FIELD(semaroot_treap),
	FIELD(hchan_lock),
	FIELD(hchan_qcount),
	FIELD(hchan_dataqsiz),
	FIELD(hchan_closed),
};

_Static_assert(ARRAY_SIZE(fields) == GO_OFFSETS_FIELD_COUNT,
	       "every struct go_offsets field needs a FIELD() entry");

/* The g fields read from a copy of the g in user space, with the number
 * of bytes read, so they must lie inside g_size. */
static const struct {
	size_t off;
	int width;
	int required;
} g_fields[] = {
	{ offsetof(struct go_offsets, g_stack_lo), 8, 1 },
	{ offsetof(struct go_offsets, g_stack_hi), 8, 1 },
	{ offsetof(struct go_offsets, g_sched_sp), 8, 1 },
	{ offsetof(struct go_offsets, g_sched_pc), 8, 1 },
	{ offsetof(struct go_offsets, g_sched_bp), 8, 1 },
	{ offsetof(struct go_offsets, g_atomicstatus), 4, 1 },
	{ offsetof(struct go_offsets, g_goid), 8, 1 },
	{ offsetof(struct go_offsets, g_waitreason), 1, 1 },
	{ offsetof(struct go_offsets, g_gopc), 8, 1 },
	{ offsetof(struct go_offsets, g_startpc), 8, 1 },
	{ offsetof(struct go_offsets, g_m), 8, 0 },
	{ offsetof(struct go_offsets, g_waitsince), 8, 0 },
	{ offsetof(struct go_offsets, g_parent_goid), 8, 0 },
	{ offsetof(struct go_offsets, g_waiting), 8, 0 },
	{ offsetof(struct go_offsets, g_labels), 8, 0 },
};

static int32_t *field_ptr(struct go_offsets *o, size_t off)
{
	return (int32_t *)((char *)o + off);
}

static int32_t field_val(const struct go_offsets *o, size_t off)
{
	return *(const int32_t *)((const char *)o + off);
}

static const char *name_of(size_t off)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fields); i++)
		if (fields[i].off == off)
			return fields[i].name;
	return "?";
}

void go_offsets__init(struct go_offsets *o)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fields); i++)
		*field_ptr(o, fields[i].off) = -1;
}

const char *go_offsets__field_name(unsigned int i)
{
	return i < ARRAY_SIZE(fields) ? fields[i].name : NULL;
}

int32_t go_offsets__field(const struct go_offsets *o, unsigned int i)
{
	return i < ARRAY_SIZE(fields) ? field_val(o, fields[i].off) : -1;
}

int go_offsets__check(const struct go_offsets *o, const char **missing)
{
	int32_t v;
	size_t i;

	*missing = NULL;
	if (o->g_size < 0) {
		*missing = "g_size";
		return -ENOENT;
	}
	if (o->g_size == 0 || o->g_size > MAX_G_SIZE_SANE) {
		*missing = "g_size";
		return -ERANGE;
	}
	for (i = 0; i < ARRAY_SIZE(g_fields); i++) {
		v = field_val(o, g_fields[i].off);
		if (v == -1 && !g_fields[i].required)
			continue;
		*missing = name_of(g_fields[i].off);
		if (v == -1)
			return -ENOENT;
		if (v < 0 || v > o->g_size - g_fields[i].width)
			return -ERANGE;
	}
	/* The rest are read through the target's memory; only -1 may be
	 * negative. */
	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		if (field_val(o, fields[i].off) < -1) {
			*missing = fields[i].name;
			return -ERANGE;
		}
	}
	*missing = NULL;
	return 0;
}

/* Parses 1 to 3 decimal digits without a leading zero; advances *s. */
static int parse_small_uint(const char **s)
{
	const char *p = *s;
	int v = 0, n = 0;

	while (isdigit((unsigned char)*p)) {
		if (++n > 3 || (n == 2 && v == 0))
			return -EINVAL;
		v = v * 10 + (*p++ - '0');
	}
	if (!n)
		return -EINVAL;
	*s = p;
	return v;
}

int go_offsets__version_minor(const char *go_version)
{
	const char *p = go_version;
	int major, minor;

	/* "goMAJOR.MINOR" then ".PATCH", "rcN", "betaN" or nothing, then the
	 * end or a space (GOEXPERIMENT suffix, e.g. " X:nocoverageredesign").
	 * "devel go1.23-abcdef" is rejected: its layout is not a release's. */
	if (!p || strncmp(p, "go", 2))
		return -EINVAL;
	p += 2;
	major = parse_small_uint(&p);
	if (major < 0 || *p++ != '.')
		return -EINVAL;
	minor = parse_small_uint(&p);
	if (minor < 0)
		return -EINVAL;
	if (*p == '.' || !strncmp(p, "rc", 2) || !strncmp(p, "beta", 4)) {
		p += *p == '.' ? 1 : *p == 'r' ? 2 : 4;
		if (parse_small_uint(&p) < 0)
			return -EINVAL;
	}
	if (*p && *p != ' ')
		return -EINVAL;
	return major == 1 ? minor : -ENOTSUP;
}

int go_offsets__from_table(const char *go_version, struct go_offsets *out)
{
	int minor = go_offsets__version_minor(go_version);
	size_t i;

	if (minor < 0)
		return minor;
	for (i = 0; i < ARRAY_SIZE(go_offsets_table); i++) {
		if (go_offsets_table[i].minor == (unsigned int)minor) {
			*out = go_offsets_table[i].off;
			return 0;
		}
	}
	return -ENOTSUP;
}
