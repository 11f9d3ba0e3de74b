// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* pclntab reader tests.
 *
 * Without arguments: hand-built tables of both layouts (Go 1.18/1.19 and
 * 1.20+) with a two-level inline tree, checked frame by frame, plus
 * malformed input (every prefix, every byte corrupted, inline cycles).
 *
 * With Go binaries as arguments (tests/.build/go1.XX/<fixture>[-sw|-pie]):
 * version-independent facts about each one (runtime functions found, every
 * function's entry round-trips, .symtab agrees, main.main's line is the
 * source's), the inline tree on the "inlined" fixture both against its
 * LINE: markers and against what the Go runtime itself prints for the same
 * stack, and truncated or corrupted copies of the real table: every
 * header field set to 0, all ones, off by one either way, the table's size
 * and other edge values, after which the reader must refuse the table
 * (-EINVAL, -ENOTSUP) or give answers that stay inside it.
 *
 * Tables are copied into heap buffers of their exact size, so that ASan
 * (cc -fsanitize=address,undefined) catches any read past them. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "gopclntab.h"
#include "tap.h"

#define MAX_FRAMES 32

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static void *memdup(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);

	if (q && n)
		memcpy(q, p, n);
	return q;
}

/* Symbolizes pcs over [lo, hi) and every function's entry, only to show
 * that nothing crashes or hangs on a damaged table. */
static void sweep(const struct pclntab *tab, uint64_t lo, uint64_t hi,
		  int npcs)
{
	struct pclntab_frame fr[4];
	const char *name;
	uint64_t e, end;
	int i, n = pclntab__func_count(tab);

	for (i = 0; i < n; i++) {
		if (pclntab__func_at(tab, i, &name, &e, &end))
			continue;
		pclntab__symbolize(tab, e, fr, 4);
		pclntab__symbolize(tab, end - 1, fr, 4);
	}
	for (i = 0; i < npcs && hi > lo; i++)
		pclntab__symbolize(tab, lo + rnd() % (hi - lo), fr, 4);
	pclntab__find_func(tab, "runtime.gopark", &e, &end);
}

/* ---- hand-built tables ------------------------------------------------ */

struct buf {
	uint8_t b[2048];
	size_t n;
};

static size_t put(struct buf *b, const void *p, size_t n)
{
	size_t at = b->n;

	memcpy(b->b + b->n, p, n);
	b->n += n;
	return at;
}

static void put32_at(struct buf *b, size_t at, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		b->b[at + i] = v >> (8 * i);
}

static size_t put32(struct buf *b, uint32_t v)
{
	size_t at = b->n;

	b->n += 4;
	put32_at(b, at, v);
	return at;
}

static void put64_at(struct buf *b, size_t at, uint64_t v)
{
	put32_at(b, at, (uint32_t)v);
	put32_at(b, at + 4, (uint32_t)(v >> 32));
}

static void align(struct buf *b, size_t a)
{
	while (b->n % a)
		b->b[b->n++] = 0;
}

static void put_varint(struct buf *b, uint32_t v)
{
	while (v >= 0x80) {
		b->b[b->n++] = (v & 0x7f) | 0x80;
		v >>= 7;
	}
	b->b[b->n++] = v;
}

/* A pc-value table: n (value, end pc offset) pairs, values from -1. */
static uint32_t put_pcvalue(struct buf *b, size_t pctab, const int *vals,
			    const uint32_t *ends, int n)
{
	uint32_t off = b->n - pctab, pc = 0;
	int32_t prev = -1;
	int i;

	for (i = 0; i < n; i++) {
		int32_t d = vals[i] - prev;	/* zig-zag encoded */

		put_varint(b, d < 0 ? ((uint32_t)-d << 1) - 1 :
			   (uint32_t)d << 1);
		put_varint(b, ends[i] - pc);
		pc = ends[i];
		prev = vals[i];
	}
	b->b[b->n++] = 0;
	return off;
}

/* Function layout of the synthetic text (quantum 1):
 *   main.f    [0x00, 0x40): a.go:10 | inl2 in inl1 in f | inl1 in f | :12
 *   main.g    [0x40, 0x60): a.go:40, no inline tree
 *   runtime.systemstack_switch [0x60, 0x70): funcID 22 -> wrapper is 23
 * Inline tree of f: 0 = main.inl1 called at 0x08 (a.go:10),
 *                   1 = main.inl2 (funcID 23) called at 0x24 (b.go:30). */
#define SYN_TEXT	0x401000
#define SYN_FSTART	0x00
#define SYN_GSTART	0x40
#define SYN_SSTART	0x60
#define SYN_END		0x70

struct synth {
	struct buf tab;		/* the pclntab */
	struct buf fd;		/* go:func.* */
	bool go120;
	size_t inl_parentpc[2];	/* where the tree's parentPc fields are */
	size_t inl_name[2];
	size_t f_cuoff;		/* main.f's cuOffset field */
};

static void build_synth(struct synth *s, bool go120, bool hdr_text)
{
	static const char names[] = "main.f\0main.g\0"
				    "runtime.systemstack_switch\0"
				    "main.inl1\0main.inl2";
	enum { N_F = 0, N_G = 7, N_S = 14, N_I1 = 41, N_I2 = 51 };
	static const char files[] = "/src/a.go\0/src/b.go";
	struct buf *b = &s->tab;
	size_t hdr, nametab, cutab, filetab, pctab, functab, rec;
	uint32_t f_file, f_line, f_inl, g_file, g_line, inl_off;
	const uint32_t fsize = go120 ? 44 : 40, isize = go120 ? 16 : 20;
	int i;

	memset(s, 0, sizeof(*s));
	s->go120 = go120;
	hdr = put32(b, go120 ? 0xfffffff1 : 0xfffffff0);
	put(b, "\0\0\1\x08", 4);	/* pads, quantum 1, ptrsize 8 */
	b->n += 8 * 8;
	nametab = put(b, names, sizeof(names));
	align(b, 4);
	cutab = put32(b, 0);		/* cu 0: file 0 = a.go, 1 = b.go */
	put32(b, 10);
	filetab = put(b, files, sizeof(files));
	pctab = b->n;
	b->b[b->n++] = 0;		/* offset 0 means "no table" */
	{
		const int fv[] = { 0, 1, 0 }, lv[] = { 10, 20, 30, 12 };
		const int iv[] = { -1, 1, 0, -1 }, one[] = { 0 };
		const int gl[] = { 40 };
		const uint32_t fe[] = { 0x10, 0x30, 0x40 };
		const uint32_t le[] = { 0x10, 0x20, 0x30, 0x40 };
		const uint32_t ge[] = { 0x20 };

		f_file = put_pcvalue(b, pctab, fv, fe, 3);
		f_line = put_pcvalue(b, pctab, lv, le, 4);
		f_inl = put_pcvalue(b, pctab, iv, le, 4);
		g_file = put_pcvalue(b, pctab, one, ge, 1);
		g_line = put_pcvalue(b, pctab, gl, ge, 1);
	}
	align(b, 8);
	functab = b->n;
	b->n += 4 * 2 * 4;		/* 3 functions + end */
	for (i = 0; i < 3; i++) {
		static const uint32_t entry[] = { SYN_FSTART, SYN_GSTART,
						  SYN_SSTART };
		static const uint32_t nameoff[] = { N_F, N_G, N_S };
		uint32_t npcdata = i == 0 ? 3 : 0, nfuncdata = i == 0 ? 4 : 0;
		int j;

		align(b, 8);
		rec = b->n;
		put32_at(b, functab + i * 8, entry[i]);
		put32_at(b, functab + i * 8 + 4, rec - functab);
		memset(b->b + rec, 0, fsize);
		put32_at(b, rec, entry[i]);
		put32_at(b, rec + 4, nameoff[i]);
		put32_at(b, rec + 20, i == 0 ? f_file : i == 1 ? g_file : 0);
		put32_at(b, rec + 24, i == 0 ? f_line : i == 1 ? g_line : 0);
		put32_at(b, rec + 28, npcdata);
		put32_at(b, rec + 32, 0);		/* cuOffset */
		if (go120)
			put32_at(b, rec + 36, 1);	/* startLine */
		b->b[rec + fsize - 4] = i == 2 ? 22 : 0;	/* funcID */
		b->b[rec + fsize - 1] = nfuncdata;
		b->n += fsize;
		if (i == 0)
			s->f_cuoff = rec + 32;
		for (j = 0; j < (int)npcdata; j++)
			put32(b, j == 2 ? f_inl : 0);
		for (j = 0; j < (int)nfuncdata; j++)
			put32(b, j == 3 ? 8 : UINT32_MAX);	/* tree at +8 */
	}
	put32_at(b, functab + 3 * 8, SYN_END);

	put64_at(b, hdr + 8, 3);		/* nfunc */
	put64_at(b, hdr + 16, 2);		/* nfiles */
	put64_at(b, hdr + 24, hdr_text ? SYN_TEXT : 0);
	put64_at(b, hdr + 32, nametab);
	put64_at(b, hdr + 40, cutab);
	put64_at(b, hdr + 48, filetab);
	put64_at(b, hdr + 56, pctab);
	put64_at(b, hdr + 64, functab);

	/* go:func.*: 8 bytes of something else, then the tree. */
	s->fd.n = 8;
	inl_off = s->fd.n;
	for (i = 0; i < 2; i++) {
		size_t e = inl_off + i * isize;
		uint8_t funcid = i == 1 ? 23 : 0;

		memset(s->fd.b + e, 0, isize);
		if (go120) {
			s->fd.b[e] = funcid;
			s->inl_name[i] = e + 4;
			s->inl_parentpc[i] = e + 8;
		} else {
			s->fd.b[e + 2] = funcid;
			s->inl_name[i] = e + 12;
			s->inl_parentpc[i] = e + 16;
		}
		put32_at(&s->fd, s->inl_name[i], i == 0 ? N_I1 : N_I2);
		put32_at(&s->fd, s->inl_parentpc[i], i == 0 ? 0x08 : 0x24);
		s->fd.n += isize;
	}
}

struct want {
	const char *func, *file;
	int line;
	bool inlined, wrapper;
};

static void check_frames(const char *what, const struct pclntab *tab,
			 uint64_t pc, int max, const struct want *w, int nw)
{
	struct pclntab_frame fr[MAX_FRAMES];
	char msg[160];
	int n, i;

	n = pclntab__symbolize(tab, pc, fr, max);
	snprintf(msg, sizeof(msg), "%s: frame count", what);
	if (!ASSERT_EQ(n, nw, msg))
		return;
	for (i = 0; i < n; i++) {
		snprintf(msg, sizeof(msg), "%s: frame %d func", what, i);
		ASSERT_STREQ(fr[i].func, w[i].func, msg);
		snprintf(msg, sizeof(msg), "%s: frame %d file:line", what, i);
		if (!ASSERT_STREQ(fr[i].file, w[i].file, msg) ||
		    fr[i].line != w[i].line)
			ASSERT_EQ(fr[i].line, w[i].line, msg);
		snprintf(msg, sizeof(msg), "%s: frame %d flags, entry", what,
			 i);
		ASSERT_TRUE(fr[i].inlined == w[i].inlined &&
			    fr[i].wrapper == w[i].wrapper &&
			    fr[i].entry == SYN_TEXT + SYN_FSTART, msg);
	}
}

static void test_synth_layout(bool go120)
{
	const char *v = go120 ? "synthetic 1.20+" : "synthetic 1.18";
	const struct want w18[] = {
		{ "main.inl2", "/src/b.go", 20, true, true },
		{ "main.inl1", "/src/b.go", 30, true, false },
		{ "main.f", "/src/a.go", 10, false, false },
	};
	const struct want w28[] = {
		{ "main.inl1", "/src/b.go", 30, true, false },
		{ "main.f", "/src/a.go", 10, false, false },
	};
	const struct want w38[] = { { "main.f", "/src/a.go", 12, 0, 0 } };
	const struct want wnoinl[] = { { "main.f", "/src/b.go", 20, 0, 0 } };
	const struct want wtrunc[] = {
		{ "main.inl2", "/src/b.go", 20, true, true },
		{ "main.f", "/src/a.go", 10, false, false },
	};
	struct pclntab_frame fr[MAX_FRAMES];
	struct pclntab *tab = NULL;
	struct synth s;
	uint8_t *data, *fd;
	uint64_t e, end;
	char msg[160];
	int err;

	/* Header textStart set (1.18-1.25) and zero (1.26+). */
	build_synth(&s, go120, !go120);
	data = memdup(s.tab.b, s.tab.n);
	fd = memdup(s.fd.b, s.fd.n);
	err = pclntab__open(&tab, data, s.tab.n, go120 ? SYN_TEXT : 0x1234);
	snprintf(msg, sizeof(msg), "%s: open", v);
	if (!ASSERT_EQ(err, 0, msg))
		goto out;
	snprintf(msg, sizeof(msg), "%s: magic, text start", v);
	ASSERT_TRUE(pclntab__magic(tab) == (go120 ? 0xfffffff1 : 0xfffffff0)
		    && pclntab__text_start(tab) == SYN_TEXT, msg);

	/* Without funcdata only the physical frame, at the innermost
	 * position (runtime.funcline1). */
	snprintf(msg, sizeof(msg), "%s: no funcdata", v);
	check_frames(msg, tab, SYN_TEXT + 0x18, MAX_FRAMES, wnoinl, 1);

	snprintf(msg, sizeof(msg), "%s: set_funcdata", v);
	ASSERT_EQ(pclntab__set_funcdata(tab, fd, s.fd.n, 0x500000, 0x500000),
		  0, msg);
	snprintf(msg, sizeof(msg), "%s: pc in inl2 in inl1 in f", v);
	check_frames(msg, tab, SYN_TEXT + 0x18, MAX_FRAMES, w18, 3);
	snprintf(msg, sizeof(msg), "%s: pc in inl1 in f", v);
	check_frames(msg, tab, SYN_TEXT + 0x28, MAX_FRAMES, w28, 2);
	snprintf(msg, sizeof(msg), "%s: pc in f", v);
	check_frames(msg, tab, SYN_TEXT + 0x3f, MAX_FRAMES, w38, 1);
	/* Too few frames: the outermost inlined ones go, the physical one
	 * stays, at its own call site. */
	snprintf(msg, sizeof(msg), "%s: max_frames 2", v);
	check_frames(msg, tab, SYN_TEXT + 0x18, 2, wtrunc, 2);
	snprintf(msg, sizeof(msg), "%s: max_frames 1", v);
	check_frames(msg, tab, SYN_TEXT + 0x18, 1, w18 + 2, 1);
	snprintf(msg, sizeof(msg), "%s: max_frames 0", v);
	ASSERT_EQ(pclntab__symbolize(tab, SYN_TEXT, fr, 0), -EINVAL, msg);

	snprintf(msg, sizeof(msg), "%s: g", v);
	ASSERT_TRUE(pclntab__symbolize(tab, SYN_TEXT + 0x5f, fr, 4) == 1 &&
		    !strcmp(fr[0].func, "main.g") && fr[0].line == 40 &&
		    fr[0].entry == SYN_TEXT + SYN_GSTART, msg);
	snprintf(msg, sizeof(msg), "%s: no pc tables: ?:0, wrapper id", v);
	ASSERT_TRUE(pclntab__symbolize(tab, SYN_TEXT + 0x60, fr, 4) == 1 &&
		    !strcmp(fr[0].file, "?") && fr[0].line == 0 &&
		    !fr[0].wrapper, msg);
	snprintf(msg, sizeof(msg), "%s: outside the text", v);
	ASSERT_TRUE(pclntab__symbolize(tab, SYN_TEXT + SYN_END, fr, 4) ==
		    -ENOENT && pclntab__symbolize(tab, SYN_TEXT - 1, fr, 4) ==
		    -ENOENT && pclntab__symbolize(tab, 0, fr, 4) == -ENOENT,
		    msg);

	snprintf(msg, sizeof(msg), "%s: find_func", v);
	ASSERT_TRUE(!pclntab__find_func(tab, "main.g", &e, &end) &&
		    e == SYN_TEXT + SYN_GSTART && end == SYN_TEXT + SYN_SSTART,
		    msg);
	snprintf(msg, sizeof(msg), "%s: find_func last ends at the end", v);
	ASSERT_TRUE(!pclntab__find_func(tab, "runtime.systemstack_switch",
					&e, &end) && end == SYN_TEXT + SYN_END,
		    msg);
	snprintf(msg, sizeof(msg), "%s: find_func inlined-only name", v);
	ASSERT_EQ(pclntab__find_func(tab, "main.inl1", &e, &end), -ENOENT,
		  msg);
	snprintf(msg, sizeof(msg), "%s: find_func prefix is not a match", v);
	ASSERT_EQ(pclntab__find_func(tab, "main.", &e, &end), -ENOENT, msg);

	/* Funcdata region cut short: the tree is unreadable, the physical
	 * frame still comes back. */
	snprintf(msg, sizeof(msg), "%s: truncated funcdata", v);
	pclntab__set_funcdata(tab, fd, 8 + 4, 0x500000, 0x500000);
	ASSERT_TRUE(pclntab__symbolize(tab, SYN_TEXT + 0x18, fr, 4) >= 1,
		    msg);
	snprintf(msg, sizeof(msg), "%s: gofunc outside the region", v);
	ASSERT_EQ(pclntab__set_funcdata(tab, fd, s.fd.n, 0x500000, 0x400000),
		  -EINVAL, msg);
out:
	pclntab__free(tab);
	free(data);
	free(fd);
}

/* Corrupt inline trees: a parentPc cycle, a parentPc outside the
 * function, a name offset outside the table, a bad cuOffset. */
static void test_synth_corrupt(bool go120)
{
	const char *v = go120 ? "synthetic 1.20+" : "synthetic 1.18";
	struct pclntab_frame fr[MAX_FRAMES];
	struct pclntab *tab = NULL;
	struct synth s;
	uint8_t *data, *fd;
	char msg[160];
	int n;

	build_synth(&s, go120, true);
	/* inl1's call site 0x18 lies in inl2, whose is 0x24 in inl1... */
	put32_at(&s.fd, s.inl_parentpc[0], 0x18);
	put32_at(&s.fd, s.inl_name[1], 0x7fffffff);
	put32_at(&s.tab, s.f_cuoff, 0x40000000);
	data = memdup(s.tab.b, s.tab.n);
	fd = memdup(s.fd.b, s.fd.n);
	if (pclntab__open(&tab, data, s.tab.n, 0) ||
	    pclntab__set_funcdata(tab, fd, s.fd.n, 0x500000, 0x500000)) {
		ASSERT_TRUE(0, "corrupt synthetic table opens");
		goto out;
	}
	n = pclntab__symbolize(tab, SYN_TEXT + 0x18, fr, MAX_FRAMES);
	snprintf(msg, sizeof(msg), "%s: inline cycle ends, physical last",
		 v);
	ASSERT_TRUE(n == MAX_FRAMES && !strcmp(fr[n - 1].func, "main.f") &&
		    !fr[n - 1].inlined, msg);
	snprintf(msg, sizeof(msg), "%s: bad name offset gives ?", v);
	ASSERT_STREQ(fr[0].func, "?", msg);
	snprintf(msg, sizeof(msg), "%s: bad cuOffset gives file ?", v);
	ASSERT_STREQ(fr[0].file, "?", msg);

	put32_at(&s.fd, s.inl_parentpc[0], 0x08);
	put32_at(&s.fd, s.inl_parentpc[1], 0x1000);
	memcpy(fd, s.fd.b, s.fd.n);
	n = pclntab__symbolize(tab, SYN_TEXT + 0x18, fr, MAX_FRAMES);
	snprintf(msg, sizeof(msg), "%s: parentPc outside f stops the walk",
		 v);
	ASSERT_TRUE(n == 2 && !strcmp(fr[1].func, "main.f"), msg);
out:
	pclntab__free(tab);
	free(data);
	free(fd);
}

/* Every prefix and every single-byte change of a valid table. */
static void test_synth_fuzz(bool go120)
{
	const char *v = go120 ? "synthetic 1.20+" : "synthetic 1.18";
	static const uint8_t vals[] = { 0x00, 0xff, 0x80, 0x7f, 0x01 };
	struct pclntab *tab;
	struct synth s;
	size_t len, i, j;
	int opened = 0, failed = 0, err;
	char msg[160];

	build_synth(&s, go120, true);
	for (len = 0; len < s.tab.n; len++) {
		uint8_t *d = memdup(s.tab.b, len);

		err = pclntab__open(&tab, d, len, 0);
		if (!err) {
			pclntab__set_funcdata(tab, s.fd.b, s.fd.n, 0x500000,
					      0x500000);
			sweep(tab, SYN_TEXT - 4, SYN_TEXT + SYN_END + 4, 64);
			pclntab__free(tab);
			opened++;
		} else if (err != -EINVAL) {
			failed++;
		}
		free(d);
	}
	snprintf(msg, sizeof(msg),
		 "%s: every prefix fails with -EINVAL or is safe to use", v);
	ASSERT_EQ(failed, 0, msg);
	snprintf(msg, sizeof(msg), "%s: only prefixes with the functab open",
		 v);
	ASSERT_TRUE(opened > 0 && opened < (int)s.tab.n / 2, msg);

	for (i = 0; i < s.tab.n + s.fd.n; i++) {
		for (j = 0; j < sizeof(vals); j++) {
			uint8_t *d = memdup(s.tab.b, s.tab.n);
			uint8_t *f = memdup(s.fd.b, s.fd.n);

			if (i < s.tab.n)
				d[i] = vals[j];
			else
				f[i - s.tab.n] = vals[j];
			if (!pclntab__open(&tab, d, s.tab.n, SYN_TEXT)) {
				pclntab__set_funcdata(tab, f, s.fd.n,
						      0x500000, 0x500000);
				sweep(tab, SYN_TEXT - 4,
				      SYN_TEXT + SYN_END + 4, 64);
				pclntab__free(tab);
			}
			free(d);
			free(f);
		}
	}
	snprintf(msg, sizeof(msg), "%s: every byte corrupted: no crash", v);
	ASSERT_TRUE(1, msg);
}

static void test_synth_misc(void)
{
	static const uint32_t magics[] = { 0xfffffffb, 0xfffffffa,
					   0xf0ffffff, 0xf1ffffff };
	struct pclntab *tab = (struct pclntab *)1;
	uint8_t hdr[128];
	int i, bad = 0;

	ASSERT_EQ(pclntab__open(&tab, NULL, 0, 0), -EINVAL, "NULL data");
	ASSERT_TRUE(tab == NULL, "NULL data: *out cleared");
	ASSERT_EQ(pclntab__open(&tab, hdr, 0, 0), -EINVAL, "empty data");
	memset(hdr, 0, sizeof(hdr));
	ASSERT_EQ(pclntab__open(&tab, hdr, sizeof(hdr), 0), -EINVAL,
		  "zeroed header");
	/* Go 1.2 and 1.16 layouts, big-endian 1.18 and 1.20. */
	for (i = 0; i < 4; i++) {
		memset(hdr, 0, sizeof(hdr));
		memcpy(hdr, &magics[i], 4);
		hdr[6] = 1;
		hdr[7] = 8;
		if (pclntab__open(&tab, hdr, sizeof(hdr), 0) != -ENOTSUP)
			bad++;
	}
	ASSERT_EQ(bad, 0, "older layouts and big-endian: -ENOTSUP");

	/* Random bytes, then random bytes behind a valid magic. */
	for (i = 0; i < 20000; i++) {
		size_t n = rnd() % 512, j;
		uint8_t *d = malloc(n ? n : 1);

		for (j = 0; j < n; j++)
			d[j] = rnd();
		if (i & 1 && n >= 8)
			memcpy(d, i & 2 ? "\xf1\xff\xff\xff\0\0\1\x08" :
			       "\xf0\xff\xff\xff\0\0\4\x08", 8);
		if (!pclntab__open(&tab, d, n, 0x1000)) {
			sweep(tab, 0, 0x100000, 64);
			pclntab__free(tab);
			bad++;
		}
		free(d);
	}
	ASSERT_EQ(bad, 0, "random bytes: refused");
}

/* ---- Go binaries -------------------------------------------------------- */

struct elfbin {
	int fd;
	Elf *elf;
	size_t shstrndx;
	uint16_t machine;
};

static int elfbin_open(struct elfbin *b, const char *path)
{
	GElf_Ehdr eh;

	memset(b, 0, sizeof(*b));
	b->fd = open(path, O_RDONLY);
	if (b->fd < 0)
		return -errno;
	b->elf = elf_begin(b->fd, ELF_C_READ, NULL);
	if (!b->elf || elf_getshdrstrndx(b->elf, &b->shstrndx) ||
	    !gelf_getehdr(b->elf, &eh)) {
		if (b->elf)
			elf_end(b->elf);
		close(b->fd);
		return -EINVAL;
	}
	b->machine = eh.e_machine;
	return 0;
}

static void elfbin_close(struct elfbin *b)
{
	elf_end(b->elf);
	close(b->fd);
}

static Elf_Scn *elfbin_section(struct elfbin *b, const char *name,
			       GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(b->elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, sh))
			continue;
		n = elf_strptr(b->elf, b->shstrndx, sh->sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

/* The loaded section holding addr. */
static Elf_Scn *elfbin_section_at(struct elfbin *b, uint64_t addr,
				  GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(b->elf, scn))) {
		if (gelf_getshdr(scn, sh) && sh->sh_type == SHT_PROGBITS &&
		    (sh->sh_flags & SHF_ALLOC) && addr >= sh->sh_addr &&
		    addr - sh->sh_addr < sh->sh_size)
			return scn;
	}
	return NULL;
}

/* Exact-size heap copy of a section's contents (for ASan). */
static uint8_t *section_copy(Elf_Scn *scn, size_t *size)
{
	Elf_Data *d = elf_getdata(scn, NULL);

	if (!d || !d->d_buf)
		return NULL;
	*size = d->d_size;
	return memdup(d->d_buf, d->d_size);
}

static int elfbin_symbol(struct elfbin *b, const char *name, uint64_t *val)
{
	GElf_Shdr sh;
	Elf_Scn *scn = elfbin_section(b, ".symtab", &sh);
	Elf_Data *d;
	size_t i;

	if (!scn || !sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
		return -ENOENT;
	for (i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
		GElf_Sym sym;
		const char *n;

		if (!gelf_getsym(d, i, &sym))
			break;
		n = elf_strptr(b->elf, sh.sh_link, sym.st_name);
		if (n && !strcmp(n, name)) {
			*val = sym.st_value;
			return 0;
		}
	}
	return -ENOENT;
}

/* Exact-size heap copy of [start, end) between two symbols, for a table
 * an external linker merged into a bigger section (.data.rel.ro of a cgo
 * PIE before Go 1.26). */
static uint8_t *symbol_copy(struct elfbin *b, const char *start,
			    const char *end, size_t *size, uint64_t *addr)
{
	uint64_t lo, hi;
	Elf_Scn *scn;
	GElf_Shdr sh;
	Elf_Data *d;

	if (elfbin_symbol(b, start, &lo) || elfbin_symbol(b, end, &hi) ||
	    hi <= lo || !(scn = elfbin_section_at(b, lo, &sh)) ||
	    hi - sh.sh_addr > sh.sh_size || !(d = elf_getdata(scn, NULL)) ||
	    !d->d_buf || d->d_size < sh.sh_size)
		return NULL;
	*size = hi - lo;
	*addr = lo;
	return memdup((uint8_t *)d->d_buf + (lo - sh.sh_addr), hi - lo);
}

struct funcsym {
	uint64_t addr;
	const char *name;
};

static int cmp_funcsym(const void *a, const void *b)
{
	const struct funcsym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* FUNC symbols of .symtab, sorted by address; 0 when stripped. */
static size_t elfbin_funcs(struct elfbin *b, struct funcsym **out)
{
	GElf_Shdr sh;
	Elf_Scn *scn = elfbin_section(b, ".symtab", &sh);
	struct funcsym *v;
	Elf_Data *d;
	size_t i, n = 0;

	*out = NULL;
	if (!scn || !sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
		return 0;
	v = calloc(sh.sh_size / sh.sh_entsize + 1, sizeof(*v));
	for (i = 0; v && i < sh.sh_size / sh.sh_entsize; i++) {
		GElf_Sym sym;

		if (!gelf_getsym(d, i, &sym) ||
		    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
			continue;
		v[n].addr = sym.st_value;
		v[n].name = elf_strptr(b->elf, sh.sh_link, sym.st_name);
		if (v[n].name)
			n++;
	}
	qsort(v, n, sizeof(*v), cmp_funcsym);
	*out = v;
	return n;
}

/* Does .symtab have name (or its ABI0 twin "name.abi0") at addr? */
static bool symtab_has(const struct funcsym *v, size_t n, uint64_t addr,
		       const char *name)
{
	size_t lo = 0, hi = n, len = strlen(name);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && v[lo].addr == addr; lo++) {
		if (!strcmp(v[lo].name, name) ||
		    (!strncmp(v[lo].name, name, len) &&
		     !strcmp(v[lo].name + len, ".abi0")))
			return true;
	}
	return false;
}

/* Line of the first line of path containing needle, 0 when none. */
static int source_line(const char *path, const char *needle)
{
	char line[512];
	int n = 0, found = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (strstr(line, needle)) {
			found = n;
			break;
		}
	}
	fclose(f);
	return found;
}

/* tests/.build/go1.22/NAME[-FLAVOUR...] -> tests/fixtures/NAME/main.go
 * (dropping "-sw", "-pie", "-arm64", ... until the folder exists), else
 * the main.go path the table recorded at build time. */
static void fixture_source(const char *bin, const char *recorded, char *out,
			   size_t size, char *name, size_t namesize)
{
	const char *base = strrchr(bin, '/');
	size_t dirlen = base ? (size_t)(base - bin) : 0;
	char *dash;

	base = base ? base + 1 : bin;
	snprintf(name, namesize, "%s", base);
	for (;;) {
		snprintf(out, size, "%.*s%s../../fixtures/%s/main.go",
			 (int)dirlen, bin, dirlen ? "/" : "", name);
		if (!access(out, R_OK) || !(dash = strrchr(name, '-')))
			break;
		*dash = 0;
	}
	if (access(out, R_OK) && recorded && access(recorded, R_OK) == 0)
		snprintf(out, size, "%s", recorded);
}

/* Return address of main.main's call to main.leaf, found in the machine
 * code (not through the table under test). */
static uint64_t find_call(uint16_t machine, const uint8_t *text,
			  uint64_t text_addr, size_t text_size,
			  uint64_t from, uint64_t to, uint64_t target)
{
	uint64_t pc;

	if (from < text_addr || to > text_addr + text_size || to < from)
		return 0;
	for (pc = from; pc < to; pc++) {
		const uint8_t *p = text + (pc - text_addr);

		if (machine == EM_X86_64 && pc + 5 <= to && p[0] == 0xe8) {
			int32_t rel = (int32_t)((uint32_t)p[1] |
				(uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 |
				(uint32_t)p[4] << 24);

			if (pc + 5 + rel == target)
				return pc + 5;
		} else if (machine == EM_AARCH64 && !(pc & 3) &&
			   pc + 4 <= to) {
			uint32_t w = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
				     (uint32_t)p[2] << 16 |
				     (uint32_t)p[3] << 24;
			/* BL: imm26 words, sign-extended */
			int64_t imm = (int64_t)((int32_t)(w << 6) >> 6) * 4;

			if ((w & 0xfc000000) == 0x94000000 &&
			    pc + imm == target)
				return pc + 4;
		}
	}
	return 0;
}

struct bin {
	const char *path;
	char label[96];
	struct elfbin elf;
	uint8_t *pcln, *fdata, *text;
	size_t pcln_size, fdata_size, text_size;
	uint64_t pcln_addr, text_addr, fdata_addr;
	struct pclntab *tab;
	struct pclntab_moduledata md;
	bool have_md;
};

static void bin_label(struct bin *b)
{
	const char *p = b->path + strlen(b->path);
	int slashes = 0;

	while (p > b->path && slashes < 2)
		if (*--p == '/')
			slashes++;
	if (*p == '/')
		p++;
	snprintf(b->label, sizeof(b->label), "%s", p);
}

/* Opens the table and wires in moduledata, as a caller should. */
static int bin_open(struct bin *b)
{
	static const char *const mdsecs[] = { ".go.module", ".noptrdata",
					      ".data.rel.ro", ".data" };
	GElf_Shdr sh, tsh;
	Elf_Scn *scn;
	size_t i;
	int err;

	scn = elfbin_section(&b->elf, ".gopclntab", &sh);
	if (!scn)
		scn = elfbin_section(&b->elf, ".data.rel.ro.gopclntab", &sh);
	if (scn) {
		b->pcln = section_copy(scn, &b->pcln_size);
		b->pcln_addr = sh.sh_addr;
	} else {
		b->pcln = symbol_copy(&b->elf, "runtime.pclntab",
				      "runtime.epclntab", &b->pcln_size,
				      &b->pcln_addr);
	}
	if (!b->pcln)
		return -ENOENT;
	scn = elfbin_section(&b->elf, ".text", &tsh);
	if (!scn || !(b->text = section_copy(scn, &b->text_size)))
		return -ENOENT;
	b->text_addr = tsh.sh_addr;
	err = pclntab__open(&b->tab, b->pcln, b->pcln_size, b->text_addr);
	if (err)
		return err;
	for (i = 0; i < sizeof(mdsecs) / sizeof(mdsecs[0]); i++) {
		Elf_Data *d;

		scn = elfbin_section(&b->elf, mdsecs[i], &sh);
		if (!scn || sh.sh_type != SHT_PROGBITS ||
		    !(d = elf_getdata(scn, NULL)) || !d->d_buf)
			continue;
		if (!pclntab__find_moduledata(b->tab, b->pcln_addr, d->d_buf,
					      d->d_size, sh.sh_addr, &b->md)) {
			b->have_md = true;
			break;
		}
	}
	if (!b->have_md)
		return 0;
	pclntab__set_text_start(b->tab, b->md.text);
	if (b->md.gofunc) {
		scn = elfbin_section_at(&b->elf, b->md.gofunc, &sh);
		if (scn && (b->fdata = section_copy(scn, &b->fdata_size))) {
			b->fdata_addr = sh.sh_addr;
			pclntab__set_funcdata(b->tab, b->fdata,
					      b->fdata_size, sh.sh_addr,
					      b->md.gofunc);
		}
	}
	return 0;
}

static void bin_close(struct bin *b)
{
	pclntab__free(b->tab);
	free(b->pcln);
	free(b->fdata);
	free(b->text);
	elfbin_close(&b->elf);
}

static void msgf(char *msg, size_t size, const struct bin *b,
		 const char *what)
{
	snprintf(msg, size, "%s: %s", b->label, what);
}

/* Facts that hold for every Go program of every version. */
static void test_bin_basics(struct bin *b)
{
	static const char *const funcs[] = { "runtime.gopark", "runtime.ready",
					     "runtime.newproc1", "main.main" };
	struct pclntab_frame fr[MAX_FRAMES];
	uint32_t magic = pclntab__magic(b->tab);
	uint64_t e, end, sym;
	char msg[200];
	size_t i;
	int n;

	msgf(msg, sizeof(msg), b, "magic is Go 1.18 or 1.20+");
	ASSERT_TRUE(magic == 0xfffffff0 || magic == 0xfffffff1, msg);

	msgf(msg, sizeof(msg), b, "moduledata found");
	ASSERT_TRUE(b->have_md && b->md.gofunc && b->fdata, msg);
	if (!elfbin_symbol(&b->elf, "runtime.text", &sym)) {
		msgf(msg, sizeof(msg), b, "text start is runtime.text");
		ASSERT_EQ(pclntab__text_start(b->tab), sym, msg);
	}
	if (!elfbin_symbol(&b->elf, "go:func.*", &sym) ||
	    !elfbin_symbol(&b->elf, "go.func.*", &sym)) {
		msgf(msg, sizeof(msg), b, "moduledata.gofunc is go:func.*");
		ASSERT_EQ(b->md.gofunc, sym, msg);
	}

	for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		char what[64];

		snprintf(what, sizeof(what), "find_func %s", funcs[i]);
		msgf(msg, sizeof(msg), b, what);
		if (ASSERT_EQ(pclntab__find_func(b->tab, funcs[i], &e, &end),
			      0, msg) &&
		    !elfbin_symbol(&b->elf, funcs[i], &sym)) {
			snprintf(what, sizeof(what), "%s entry = .symtab",
				 funcs[i]);
			msgf(msg, sizeof(msg), b, what);
			ASSERT_EQ(e, sym, msg);
		}
	}
	msgf(msg, sizeof(msg), b, "find_func of an unknown name");
	ASSERT_EQ(pclntab__find_func(b->tab, "main.noSuchFunction", &e, &end),
		  -ENOENT, msg);

	msgf(msg, sizeof(msg), b, "runtime.gopark entry in runtime/proc.go");
	if (!pclntab__find_func(b->tab, "runtime.gopark", &e, &end)) {
		n = pclntab__symbolize(b->tab, e, fr, MAX_FRAMES);
		ASSERT_TRUE(n == 1 && !strcmp(fr[0].func, "runtime.gopark") &&
			    ends_with(fr[0].file, "/runtime/proc.go") &&
			    fr[0].line > 0 && fr[0].entry == e &&
			    !fr[0].inlined, msg);
	} else {
		ASSERT_TRUE(0, msg);
	}

	msgf(msg, sizeof(msg), b, "main.main entry at the line of func main");
	if (!pclntab__find_func(b->tab, "main.main", &e, &end) &&
	    pclntab__symbolize(b->tab, e, fr, MAX_FRAMES) == 1 &&
	    ends_with(fr[0].file, "/main.go")) {
		char src[512], name[128];
		int want;

		fixture_source(b->path, fr[0].file, src, sizeof(src), name,
			       sizeof(name));
		want = source_line(src, "func main()");
		if (want)
			ASSERT_TRUE(!strcmp(fr[0].func, "main.main") &&
				    fr[0].line == want, msg);
		else
			TAP_SKIP("main.go of the fixture not found");
	} else {
		ASSERT_TRUE(0, msg);
	}
}

/* Every function: entries strictly increasing, its entry, middle and last
 * byte symbolize to it (outermost frame), find_func finds it, .symtab has
 * it at the same address. */
static void test_bin_all_funcs(struct bin *b)
{
	struct pclntab_frame fr[MAX_FRAMES];
	int i, n = pclntab__func_count(b->tab), bad_order = 0, bad_rt = 0;
	int bad_find = 0, bad_sym = 0, nsym_checked = 0, bad_inl = 0;
	uint64_t prev = 0, first = 0, last_end = 0;
	struct funcsym *syms;
	size_t nsyms = elfbin_funcs(&b->elf, &syms);
	char msg[200];

	for (i = 0; i < n; i++) {
		const char *name;
		uint64_t e, end, pcs[3], fe, fend;
		int k, m, j;

		if (pclntab__func_at(b->tab, i, &name, &e, &end)) {
			bad_rt++;
			continue;
		}
		if (i == 0)
			first = e;
		if ((i > 0 && e <= prev) || end < e) {
			if (bad_order++ < 3)
				printf("# order: %s at %#lx after %#lx\n", name,
				       (unsigned long)e, (unsigned long)prev);
		}
		prev = e;
		last_end = end;
		pcs[0] = e;
		pcs[1] = e + (end - e) / 2;
		pcs[2] = end > e ? end - 1 : e;
		for (k = 0; k < 3; k++) {
			m = pclntab__symbolize(b->tab, pcs[k], fr, MAX_FRAMES);
			if (m < 1 || strcmp(fr[m - 1].func, name) ||
			    fr[m - 1].entry != e || fr[m - 1].inlined) {
				if (bad_rt++ < 3)
					printf("# round trip: %s %#lx -> %s\n",
					       name, (unsigned long)pcs[k],
					       m < 1 ? "error" :
					       fr[m - 1].func);
				continue;
			}
			for (j = 0; j < m - 1; j++)
				if (!fr[j].inlined || fr[j].entry != e)
					bad_inl++;
		}
		/* Names need not be unique (1.19 writes "[...]" for every
		 * instance of a generic): any function of that name. */
		m = pclntab__find_func(b->tab, name, &fe, &fend) ? 0 :
		    pclntab__symbolize(b->tab, fe, fr, MAX_FRAMES);
		if (m < 1 || strcmp(fr[m - 1].func, name))
			bad_find++;
		if (nsyms) {
			nsym_checked++;
			/* 1.19's .symtab spells those two differently. */
			if (!symtab_has(syms, nsyms, e, name) &&
			    !(strstr(name, "[...]") || strstr(name, "·")) &&
			    bad_sym++ < 3)
				printf("# .symtab has no %s at %#lx\n", name,
				       (unsigned long)e);
		}
	}
	free(syms);
	msgf(msg, sizeof(msg), b, "functions: a few thousand");
	ASSERT_TRUE(n > 1000, msg);
	msgf(msg, sizeof(msg), b, "entries strictly increasing");
	ASSERT_EQ(bad_order, 0, msg);
	msgf(msg, sizeof(msg), b,
	     "entry, middle, last byte of every function round-trip");
	ASSERT_EQ(bad_rt, 0, msg);
	msgf(msg, sizeof(msg), b, "inlined frames flagged, physical entry");
	ASSERT_EQ(bad_inl, 0, msg);
	msgf(msg, sizeof(msg), b, "find_func finds every function by name");
	ASSERT_EQ(bad_find, 0, msg);
	if (nsym_checked) {
		msgf(msg, sizeof(msg), b, "every function is in .symtab there");
		ASSERT_EQ(bad_sym, 0, msg);
	}
	msgf(msg, sizeof(msg), b, "pcs outside the functions: -ENOENT");
	ASSERT_TRUE(pclntab__symbolize(b->tab, first - 1, fr, 4) == -ENOENT &&
		    pclntab__symbolize(b->tab, last_end, fr, 4) == -ENOENT,
		    msg);
}

/* The "inlined" fixture: the return address of leaf's call in main.main
 * is inside middle inlined in outer inlined in main. */
static void test_bin_inline_static(struct bin *b, const char *src)
{
	const struct {
		const char *func, *tag;
		bool inlined;
	} want[] = {
		{ "main.middle", "// LINE:middle", true },
		{ "main.outer", "// LINE:outer", true },
		{ "main.main", "// LINE:main", false },
	};
	struct pclntab_frame fr[MAX_FRAMES];
	uint64_t me, mend, le, lend, ret;
	char msg[200], what[96];
	int n, i, line;

	msgf(msg, sizeof(msg), b, "inline tree: main.main calls main.leaf");
	if (!ASSERT_TRUE(!pclntab__find_func(b->tab, "main.main", &me,
					     &mend) &&
			 !pclntab__find_func(b->tab, "main.leaf", &le, &lend),
			 msg))
		return;
	ret = find_call(b->elf.machine, b->text, b->text_addr, b->text_size,
			me, mend, le);
	msgf(msg, sizeof(msg), b, "inline tree: call to main.leaf in the code");
	if (!ASSERT_TRUE(ret != 0, msg))
		return;

	/* The caller turns the return address into pc - 1. */
	n = pclntab__symbolize(b->tab, ret - 1, fr, MAX_FRAMES);
	msgf(msg, sizeof(msg), b, "inline tree: 3 logical frames");
	if (!ASSERT_EQ(n, 3, msg))
		return;
	for (i = 0; i < 3; i++) {
		line = source_line(src, want[i].tag);
		snprintf(what, sizeof(what), "inline tree: frame %d is %s", i,
			 want[i].func);
		msgf(msg, sizeof(msg), b, what);
		ASSERT_STREQ(fr[i].func, want[i].func, msg);
		snprintf(what, sizeof(what),
			 "inline tree: frame %d at main.go %s, flags", i,
			 want[i].tag + 3);
		msgf(msg, sizeof(msg), b, what);
		if (!ASSERT_TRUE(line > 0 && fr[i].line == line &&
				 ends_with(fr[i].file, "/main.go") &&
				 !strcmp(fr[i].file, fr[2].file) &&
				 fr[i].inlined == want[i].inlined &&
				 fr[i].entry == me && !fr[i].wrapper, msg))
			printf("#   %s:%d inlined %d, want line %d\n",
			       fr[i].file, fr[i].line, fr[i].inlined, line);
	}

	n = pclntab__symbolize(b->tab, ret - 1, fr, 1);
	msgf(msg, sizeof(msg), b,
	     "inline tree: max_frames 1 gives main.main at its call site");
	ASSERT_TRUE(n == 1 && !strcmp(fr[0].func, "main.main") &&
		    fr[0].line == source_line(src, "// LINE:main"), msg);
}

/* Runs the fixture, which prints runtime.CallersFrames' view of its own
 * stack, and compares every logical frame with ours. */
static void test_bin_inline_runtime(struct bin *b)
{
	struct pclntab_frame fr[MAX_FRAMES];
	struct {
		uint64_t pc, entry;
		char func[128], file[512];
		int line;
	} rt[64];
	int nrt = 0, pipefd[2], status, i, j, n, bad = 0, inl = 0;
	uint64_t me, mend, bias = 0;
	bool have_bias = false;
	char line[1024], msg[200];
	FILE *f;
	pid_t pid;

	if (pipe(pipefd))
		goto skip;
	pid = fork();
	if (pid < 0)
		goto skip;
	if (pid == 0) {
		char *argv[] = { (char *)b->path, "frames", NULL };

		dup2(pipefd[1], 1);
		close(pipefd[0]);
		close(pipefd[1]);
		execv(b->path, argv);
		_exit(127);
	}
	close(pipefd[1]);
	f = fdopen(pipefd[0], "r");
	while (f && fgets(line, sizeof(line), f) && nrt < 64) {
		unsigned long long pc, entry;

		if (sscanf(line, "frame %llx %llx %127s %511s %d", &pc, &entry,
			   rt[nrt].func, rt[nrt].file, &rt[nrt].line) == 5) {
			rt[nrt].pc = pc;
			rt[nrt].entry = entry;
			nrt++;
		}
	}
	if (f)
		fclose(f);
	else
		close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) || nrt == 0)
		goto skip;

	/* PIE: the runtime's addresses are ours plus the load bias. */
	if (!pclntab__find_func(b->tab, "main.main", &me, &mend)) {
		for (i = 0; i < nrt; i++) {
			if (!strcmp(rt[i].func, "main.main")) {
				bias = rt[i].entry - me;
				have_bias = true;
			}
		}
	}
	msgf(msg, sizeof(msg), b, "runtime frames: main.main among them");
	if (!ASSERT_TRUE(have_bias, msg))
		return;

	/* Each physical pc gives a run of logical frames; they must be the
	 * runtime's next ones. */
	for (i = 0; i < nrt; i += n) {
		n = pclntab__symbolize(b->tab, rt[i].pc - bias, fr, MAX_FRAMES);
		if (n < 1) {
			bad++;
			printf("# runtime frame %s: symbolize %d\n", rt[i].func,
			       n);
			break;
		}
		if (n > 1)
			inl += n - 1;
		for (j = 0; j < n && i + j < nrt; j++) {
			if (strcmp(fr[j].func, rt[i + j].func) ||
			    strcmp(fr[j].file, rt[i + j].file) ||
			    fr[j].line != rt[i + j].line ||
			    fr[j].entry + bias != rt[i + j].entry) {
				bad++;
				printf("# runtime: %s %s:%d, we: %s %s:%d\n",
				       rt[i + j].func, rt[i + j].file,
				       rt[i + j].line, fr[j].func, fr[j].file,
				       fr[j].line);
			}
		}
		if (i + n > nrt)
			bad++;
	}
	msgf(msg, sizeof(msg), b,
	     "every frame equals runtime.CallersFrames' (with inlined)");
	ASSERT_TRUE(bad == 0 && inl == 2, msg);
	return;
skip:
	/* e.g. an arm64 fixture on an x86 host */
	msgf(msg, sizeof(msg), b, "cannot run it for its runtime frames");
	TAP_SKIP(msg);
}

/* Truncated and corrupted copies of a real table. */
static void test_bin_malformed(struct bin *b)
{
	uint64_t lo = pclntab__text_start(b->tab), hi = lo;
	size_t cut[5], len, i;
	struct pclntab *tab;
	int bad = 0, round;
	char msg[200];

	{
		const char *name;
		uint64_t e;
		int n = pclntab__func_count(b->tab);

		pclntab__func_at(b->tab, n - 1, &name, &e, &hi);
	}
	for (len = 0; len <= 4096 && len <= b->pcln_size; len++) {
		uint8_t *d = memdup(b->pcln, len);

		if (!pclntab__open(&tab, d, len, b->text_addr)) {
			bad++;
			pclntab__free(tab);
		}
		free(d);
	}
	msgf(msg, sizeof(msg), b, "every prefix of the first 4 KiB refused");
	ASSERT_EQ(bad, 0, msg);

	/* Shortened whole table: may still open (the cut may only hit
	 * pc-value tables or names), must stay safe. */
	cut[0] = b->pcln_size - 1;
	cut[1] = b->pcln_size - b->pcln_size / 16;
	cut[2] = b->pcln_size / 2;
	cut[3] = b->pcln_size / 3;
	cut[4] = 4097;
	for (i = 0; i < 5; i++) {
		uint8_t *d = memdup(b->pcln, cut[i]);

		if (!pclntab__open(&tab, d, cut[i], b->text_addr)) {
			pclntab__set_text_start(tab, lo);
			sweep(tab, lo, hi, 2000);
			pclntab__free(tab);
		}
		free(d);
	}
	msgf(msg, sizeof(msg), b, "shortened tables: no crash");
	ASSERT_TRUE(1, msg);

	{
		uint8_t *d = memdup(b->pcln, b->pcln_size);

		memset(d, 0, 64);
		msgf(msg, sizeof(msg), b, "zeroed header refused");
		ASSERT_EQ(pclntab__open(&tab, d, b->pcln_size, b->text_addr),
			  -EINVAL, msg);
		free(d);
	}

	/* Random bytes changed all over the table and the funcdata. */
	for (round = 0; round < 24; round++) {
		uint8_t *d = memdup(b->pcln, b->pcln_size);
		uint8_t *f = memdup(b->fdata, b->fdata_size);
		int k;

		for (k = 0; k < 64; k++) {
			/* Spare the header half the time, to get deeper. */
			size_t at = rnd() % b->pcln_size;

			if (round & 1 && at < 72)
				continue;
			d[at] = rnd();
			if (b->fdata_size)
				f[rnd() % b->fdata_size] = rnd();
		}
		if (!pclntab__open(&tab, d, b->pcln_size, b->text_addr)) {
			pclntab__set_text_start(tab, lo);
			if (b->fdata)
				pclntab__set_funcdata(tab, f, b->fdata_size,
						      b->fdata_addr,
						      b->md.gofunc);
			sweep(tab, lo, hi, 2000);
			pclntab__free(tab);
		}
		free(d);
		free(f);
	}
	msgf(msg, sizeof(msg), b, "corrupted copies: no crash");
	ASSERT_TRUE(1, msg);
}

/* Frame sizes (pcsp): 0 at every entry, as the runtime's funcspdelta
 * (the empty go:textfips* markers have no table); inside runtime.gopark a
 * positive multiple of the pointer size. */
static void test_bin_sp_delta(struct bin *b)
{
	int i, n = pclntab__func_count(b->tab), bad = 0, maxd = 0;
	uint64_t e, end, pc;
	const char *name;
	char msg[200];
	int32_t d;

	for (i = 0; i < n; i++) {
		if (pclntab__func_at(b->tab, i, &name, &e, &end))
			continue;
		if (pclntab__sp_delta(b->tab, e, &d) ?
		    strncmp(name, "go:textfips", 11) != 0 : d != 0) {
			if (bad++ < 3)
				printf("#   %s: %d\n", name, d);
		}
	}
	msgf(msg, sizeof(msg), b, "sp delta 0 at every function entry");
	ASSERT_EQ(bad, 0, msg);
	if (pclntab__find_func(b->tab, "runtime.gopark", &e, &end))
		return;
	for (pc = e; pc < end; pc++)
		if (!pclntab__sp_delta(b->tab, pc, &d) && d > maxd)
			maxd = d;
	msgf(msg, sizeof(msg), b, "runtime.gopark has a frame");
	ASSERT_TRUE(maxd > 0 && maxd % 8 == 0, msg);
	msgf(msg, sizeof(msg), b, "sp delta outside the text: -ENOENT");
	ASSERT_EQ(pclntab__sp_delta(b->tab, pclntab__text_start(b->tab) - 1,
				    &d), -ENOENT, msg);
}

/* pcHeader (runtime/symtab.go, 1.18+): magic u32, pad1, pad2, minLC,
 * ptrSize, then eight words: nfunc, nfiles, textStart, funcnameOffset,
 * cuOffset, filetabOffset, pctabOffset, pclnOffset. */
static const struct hdr_field {
	const char *name;
	unsigned int off, width;	/* width in bytes, 0 = one word */
	int must_fail;		/* 1: any change refused; 2: zero refused */
} hdr_fields[] = {
	{ "magic", 0, 4, 1 },
	{ "pad1", 4, 1, 1 },
	{ "pad2", 5, 1, 1 },
	{ "minLC", 6, 1, 0 },
	{ "ptrSize", 7, 1, 0 },
	{ "nfunc", 8, 0, 2 },
	{ "nfiles", 9, 0, 0 },
	{ "textStart", 10, 0, 0 },
	{ "funcnameOffset", 11, 0, 0 },
	{ "cuOffset", 12, 0, 0 },
	{ "filetabOffset", 13, 0, 0 },
	{ "pctabOffset", 14, 0, 0 },
	{ "pclnOffset", 15, 0, 0 },
};

/* Whether s, from the reader, is one of its own constants or a string
 * that lies whole inside the table. */
static bool string_inside(const char *s, const uint8_t *d, size_t size)
{
	const char *lo = (const char *)d, *hi = lo + size;

	if (!s)
		return false;
	if (!strcmp(s, "?"))
		return true;
	return s >= lo && s < hi && memchr(s, '\0', hi - s);
}

/* Answers of a damaged table that opened: they must stay inside it. */
static int check_sane(const struct pclntab *tab, const uint8_t *d,
		      size_t size, uint64_t lo, uint64_t hi)
{
	struct pclntab_frame fr[8];
	int i, j, n, bad = 0, nf = pclntab__func_count(tab);
	const char *name;
	uint64_t e, end;

	if (nf < 1 || (size_t)nf > size / 8)
		bad++;
	for (i = 0; i < nf; i += 1 + nf / 64) {
		if (pclntab__func_at(tab, i, &name, &e, &end))
			continue;
		if (!string_inside(name, d, size) || end < e)
			bad++;
	}
	for (i = 0; i < 256 && hi > lo; i++) {
		n = pclntab__symbolize(tab, lo + rnd() % (hi - lo), fr, 8);
		if (n < 0 && n != -ENOENT && n != -EINVAL)
			bad++;
		for (j = 0; j < n; j++)
			if (!string_inside(fr[j].func, d, size) ||
			    !string_inside(fr[j].file, d, size) ||
			    fr[j].line < 0 || (j < n - 1 && !fr[j].inlined))
				bad++;
		if (n > 8)
			bad++;
	}
	if (!pclntab__find_func(tab, "runtime.gopark", &e, &end) && end < e)
		bad++;
	return bad;
}

static void put_field(uint8_t *d, const struct hdr_field *f,
		      uint32_t ptrsize, uint64_t v)
{
	unsigned int off = f->width ? f->off : 8 + (f->off - 8) * ptrsize;
	unsigned int w = f->width ? f->width : ptrsize;

	memcpy(d + off, &v, w);		/* little-endian host and table */
}

static uint64_t get_field(const uint8_t *d, const struct hdr_field *f,
			  uint32_t ptrsize)
{
	unsigned int off = f->width ? f->off : 8 + (f->off - 8) * ptrsize;
	unsigned int w = f->width ? f->width : ptrsize;
	uint64_t v = 0;

	memcpy(&v, d + off, w);
	return v;
}

/* Every header field of a real table, corrupted one at a time. */
static void test_bin_header_fields(struct bin *b)
{
	uint32_t ptrsize = b->pcln[7];
	uint64_t lo = pclntab__text_start(b->tab), hi = lo;
	size_t i, j;
	char msg[200];

	{
		const char *name;
		uint64_t e;

		pclntab__func_at(b->tab, pclntab__func_count(b->tab) - 1,
				 &name, &e, &hi);
	}
	for (i = 0; i < sizeof(hdr_fields) / sizeof(hdr_fields[0]); i++) {
		const struct hdr_field *f = &hdr_fields[i];
		uint64_t orig = get_field(b->pcln, f, ptrsize);
		uint64_t vals[] = { 0, UINT64_MAX, orig + 1, orig - 1,
				    b->pcln_size, b->pcln_size - 1,
				    b->pcln_size + 1, 1ULL << 31, 1ULL << 32,
				    orig ^ 0x80, 2, 4, 8 };
		int refused = 0, opened = 0, bad = 0, err;

		for (j = 0; j < sizeof(vals) / sizeof(vals[0]); j++) {
			uint8_t *d = memdup(b->pcln, b->pcln_size);
			struct pclntab *tab = NULL;

			put_field(d, f, ptrsize, vals[j]);
			if (get_field(d, f, ptrsize) == orig) {
				free(d);	/* the value it had */
				continue;
			}
			err = pclntab__open(&tab, d, b->pcln_size,
					    b->text_addr);
			if (err) {
				refused++;
				if (err != -EINVAL && err != -ENOTSUP)
					bad++;
				if (tab)
					bad++;
			} else {
				opened++;
				/* Except the other layout's magic. */
				if ((f->must_fail == 1 && (i || (vals[j] |
				     1) != 0xfffffff1)) ||
				    (f->must_fail == 2 && !vals[j]))
					bad++;
				if (b->fdata)
					pclntab__set_funcdata(tab, b->fdata,
							      b->fdata_size,
							      b->fdata_addr,
							      b->md.gofunc);
				bad += check_sane(tab, d, b->pcln_size,
						  lo - 16, hi + 16);
				pclntab__free(tab);
			}
			free(d);
		}
		snprintf(msg, sizeof(msg), "%s: header %s corrupted: %d "
			 "refused, %d opened with sane answers", b->label,
			 f->name, refused, opened);
		if (!ASSERT_EQ(bad, 0, msg))
			continue;
	}
}

static void test_binary(const char *path)
{
	struct bin b;
	char msg[200], src[512], name[128];
	int err;

	memset(&b, 0, sizeof(b));
	b.path = path;
	bin_label(&b);
	if (elfbin_open(&b.elf, path)) {
		msgf(msg, sizeof(msg), &b, "is a readable ELF file");
		ASSERT_TRUE(0, msg);
		return;
	}
	err = bin_open(&b);
	msgf(msg, sizeof(msg), &b, "pclntab opens");
	if (!ASSERT_EQ(err, 0, msg))
		goto out;

	test_bin_basics(&b);
	test_bin_all_funcs(&b);
	test_bin_sp_delta(&b);

	fixture_source(path, NULL, src, sizeof(src), name, sizeof(name));
	if (!strcmp(name, "inlined")) {
		struct pclntab_frame fr[1];
		uint64_t e, end;

		/* The recorded path of main.go, if the fixture folder is
		 * not where the binary's path says. */
		if (access(src, R_OK) &&
		    !pclntab__find_func(b.tab, "main.main", &e, &end) &&
		    pclntab__symbolize(b.tab, e, fr, 1) == 1)
			snprintf(src, sizeof(src), "%s", fr[0].file);
		if (access(src, R_OK) == 0)
			test_bin_inline_static(&b, src);
		else
			TAP_SKIP("inlined fixture: main.go not found");
		test_bin_inline_runtime(&b);
	}
	test_bin_malformed(&b);
	/* Both layouts, both arches, PIE, cgo: parkzoo and cgozoo builds. */
	if (!strcmp(name, "parkzoo") || !strcmp(name, "cgozoo"))
		test_bin_header_fields(&b);
out:
	bin_close(&b);
}

int main(int argc, char **argv)
{
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	test_synth_layout(false);
	test_synth_layout(true);
	test_synth_corrupt(false);
	test_synth_corrupt(true);
	test_synth_fuzz(false);
	test_synth_fuzz(true);
	test_synth_misc();

	if (elf_version(EV_CURRENT) == EV_NONE) {
		ASSERT_TRUE(0, "libelf initialises");
		return tap__done();
	}
	if (argc < 2)
		TAP_SKIP("no Go binaries given (tests/.build/go*/*)");
	for (i = 1; i < argc; i++)
		test_binary(argv[i]);
	return tap__done();
}
