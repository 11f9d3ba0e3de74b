// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Go pclntab reader. Layouts come from the Go sources of each version:
 * runtime/symtab.go (pcHeader, _func, pcvalue, funcline1, funcdata),
 * runtime/symtabinl.go (inline unwinder, 1.21+), cmd/link/internal/ld/pcln.go
 * (writer) and internal/abi/symtab.go (PCDATA/FUNCDATA indexes).
 *
 * The table is untrusted input (any binary the user points us at, parsed
 * as root): every offset is checked against the buffer before use, all
 * offset arithmetic is done in 64 bits on values that are at most 32 bits
 * wide or already checked against the buffer size, and every loop is
 * bounded by the buffer size or a constant. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "gopclntab.h"

#define MAGIC_GO12	0xfffffffbu	/* Go 1.2 - 1.15 */
#define MAGIC_GO116	0xfffffffau	/* Go 1.16 - 1.17 */
#define MAGIC_GO118	0xfffffff0u	/* Go 1.18 - 1.19 */
#define MAGIC_GO120	0xfffffff1u	/* Go 1.20 and later */

/* Same values in every version since 1.12 (internal/abi/symtab.go,
 * runtime/funcdata.h). */
#define PCDATA_INLTREEINDEX	2
#define FUNCDATA_INLTREE	3

/* runtime._func: 1.18/1.19 end with cuOffset, funcID, flag, pad,
 * nfuncdata; 1.20 inserted startLine (int32) before funcID. */
#define FUNC_ENTRYOFF	0
#define FUNC_NAMEOFF	4
#define FUNC_PCSP	16
#define FUNC_PCFILE	20
#define FUNC_PCLN	24
#define FUNC_NPCDATA	28
#define FUNC_CUOFFSET	32
#define FUNC_SIZE_118	40
#define FUNC_SIZE_120	44

/* runtime.inlinedCall. 1.18/1.19: parent int16, funcID uint8, pad,
 * file int32, line int32, func_ int32, parentPc int32. 1.20+: funcID uint8,
 * pad[3], nameOff int32, parentPc int32, startLine int32. */
#define INL_SIZE_118	20
#define INL_FUNCID_118	2
#define INL_NAME_118	12
#define INL_PARENTPC_118 16
#define INL_SIZE_120	16
#define INL_FUNCID_120	0
#define INL_NAME_120	4
#define INL_PARENTPC_120 8

/* Far more than any real inline depth (the compiler stops well before),
 * so a cycle in a corrupt tree ends here even if max_frames is huge. */
#define MAX_INLINE_DEPTH	256

struct pclntab {
	const uint8_t *data;
	size_t size;
	uint32_t magic;
	uint32_t quantum;	/* pc-value pc deltas are in these units */
	uint32_t ptrsize;
	uint32_t nfunc;
	uint64_t text_start;
	uint64_t hdr_text;	/* textStart from the header, 0 if absent */
	uint32_t text_size;	/* end of the last function, from text_start */
	/* Start of each sub-table, checked < size at open. */
	uint64_t funcnametab;
	uint64_t cutab;
	uint64_t filetab;
	uint64_t pctab;
	uint64_t functab;	/* ftab pairs, then the _func records */
	uint32_t func_size;
	uint32_t inl_size, inl_funcid, inl_name, inl_parentpc;
	int wrapper_id;		/* FuncIDWrapper, -1 when unknown */
	/* Where FUNCDATA lives (pclntab__set_funcdata). */
	const uint8_t *fd;
	size_t fd_size;
	uint64_t fd_addr;
	uint64_t gofunc;
};

/* A decoded runtime._func. */
struct func_info {
	uint64_t rec;		/* offset of the record in data */
	uint32_t entryoff;
	int32_t nameoff;
	uint32_t pcfile, pcln, npcdata, cuoff;
	uint8_t funcid, nfuncdata;
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* true when [off, off + len) lies inside a buffer of size bytes. */
static bool in_bounds(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static int rd32(const struct pclntab *tab, uint64_t off, uint32_t *v)
{
	if (!in_bounds(off, 4, tab->size))
		return -EINVAL;
	*v = le32(tab->data + off);
	return 0;
}

static int rd8(const struct pclntab *tab, uint64_t off, uint8_t *v)
{
	if (!in_bounds(off, 1, tab->size))
		return -EINVAL;
	*v = tab->data[off];
	return 0;
}

/* Pointer-sized word number idx of a buffer. */
static uint64_t word(const uint8_t *p, uint32_t ptrsize, uint64_t idx)
{
	return ptrsize == 8 ? le64(p + idx * 8) : le32(p + idx * 4);
}

/* NUL-terminated string at base + off, which must end inside the data. */
static const char *str_at(const struct pclntab *tab, uint64_t base,
			  uint64_t off)
{
	uint64_t at = base + off;	/* both < 2^33: no overflow */

	if (at >= tab->size ||
	    !memchr(tab->data + at, '\0', tab->size - at))
		return NULL;
	return (const char *)tab->data + at;
}

static int ftab_entry(const struct pclntab *tab, uint32_t i, uint32_t *off)
{
	return rd32(tab, tab->functab + (uint64_t)i * 8, off);
}

static int read_func(const struct pclntab *tab, uint32_t idx,
		     struct func_info *fi)
{
	const uint8_t *p;
	uint32_t funcoff;
	int err;

	err = rd32(tab, tab->functab + (uint64_t)idx * 8 + 4, &funcoff);
	if (err)
		return err;
	fi->rec = tab->functab + funcoff;
	if (!in_bounds(fi->rec, tab->func_size, tab->size))
		return -EINVAL;
	p = tab->data + fi->rec;
	fi->entryoff = le32(p + FUNC_ENTRYOFF);
	fi->nameoff = (int32_t)le32(p + FUNC_NAMEOFF);
	fi->pcfile = le32(p + FUNC_PCFILE);
	fi->pcln = le32(p + FUNC_PCLN);
	fi->npcdata = le32(p + FUNC_NPCDATA);
	fi->cuoff = le32(p + FUNC_CUOFFSET);
	fi->funcid = p[tab->func_size - 4];
	fi->nfuncdata = p[tab->func_size - 1];
	return 0;
}

static const char *func_name(const struct pclntab *tab, int32_t nameoff)
{
	if (nameoff < 0)
		return NULL;
	return str_at(tab, tab->funcnametab, (uint64_t)nameoff);
}

/* Varint as in runtime.readvarint; longer than 5 bytes is corrupt. */
static int read_varint(const struct pclntab *tab, uint64_t *off,
		       uint32_t *v)
{
	uint32_t val = 0;
	int i;

	for (i = 0; i < 5; i++) {
		uint8_t b;

		if (rd8(tab, *off, &b))
			return -EINVAL;
		(*off)++;
		val |= (uint32_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*v = val;
			return 0;
		}
	}
	return -EINVAL;
}

/* runtime.pcvalue: the value of pc-value table tabloff at pc (an offset
 * from text_start), -1 when there is no table or pc is not covered.
 * Every step consumes at least two bytes, so the loop ends at the buffer's
 * end at the latest; it returns as soon as the table's pc passes target,
 * so pc never exceeds target + 2^34 (no overflow). */
static int32_t pcvalue(const struct pclntab *tab, uint32_t entryoff,
		       uint32_t tabloff, uint64_t target)
{
	uint64_t off, pc = entryoff;
	uint32_t val = (uint32_t)-1;	/* wraps like Go's int32 */

	if (!tabloff)
		return -1;
	off = tab->pctab + tabloff;
	for (;;) {
		uint32_t uvdelta, pcdelta;
		uint8_t b;

		if (rd8(tab, off, &b))
			return -1;
		if (b == 0 && pc != entryoff)
			return -1;	/* end of table */
		if (read_varint(tab, &off, &uvdelta) ||
		    read_varint(tab, &off, &pcdelta))
			return -1;
		/* zig-zag: -(uv & 1) ^ (uv >> 1) */
		val += (0u - (uvdelta & 1)) ^ (uvdelta >> 1);
		pc += (uint64_t)pcdelta * tab->quantum;
		if (target < pc)
			return (int32_t)val;
	}
}

static int32_t pcdata_value(const struct pclntab *tab,
			    const struct func_info *fi, uint32_t table,
			    uint64_t target)
{
	uint32_t tabloff;

	if (table >= fi->npcdata ||
	    rd32(tab, fi->rec + tab->func_size + (uint64_t)table * 4,
		 &tabloff))
		return -1;
	return pcvalue(tab, fi->entryoff, tabloff, target);
}

/* runtime.funcfile: file number -> name through the CU's cutab slice. */
static const char *func_file(const struct pclntab *tab,
			     const struct func_info *fi, int32_t fileno)
{
	uint32_t fileoff;
	const char *s;

	if (fileno < 0 || fi->cuoff == UINT32_MAX)
		return "?";
	if (rd32(tab, tab->cutab + ((uint64_t)fi->cuoff + fileno) * 4,
		 &fileoff) || fileoff == UINT32_MAX)
		return "?";
	s = str_at(tab, tab->filetab, fileoff);
	return s ? s : "?";
}

/* runtime.funcline1 at pc (an offset from text_start). */
static void func_line(const struct pclntab *tab, const struct func_info *fi,
		      uint64_t pc, struct pclntab_frame *fr)
{
	int32_t fileno = pcvalue(tab, fi->entryoff, fi->pcfile, pc);
	int32_t line = pcvalue(tab, fi->entryoff, fi->pcln, pc);

	if (fileno < 0 || line < 0) {
		fr->file = "?";
		fr->line = 0;
		return;
	}
	fr->file = func_file(tab, fi, fileno);
	fr->line = line;
}

/* Start of the inline tree in tab->fd, or -ENOENT when f has none. */
static int inl_tree(const struct pclntab *tab, const struct func_info *fi,
		    uint64_t *start)
{
	uint64_t at;
	uint32_t off;

	if (!tab->fd || fi->nfuncdata <= FUNCDATA_INLTREE)
		return -ENOENT;
	/* 1.18+: uint32 offsets from go:func.*, right after the pcdata
	 * offsets, no padding (runtime.funcdata). */
	if (rd32(tab, fi->rec + tab->func_size + (uint64_t)fi->npcdata * 4 +
		 FUNCDATA_INLTREE * 4, &off))
		return -EINVAL;
	if (off == UINT32_MAX)
		return -ENOENT;
	/* gofunc + off, as an offset into the funcdata buffer. */
	if (tab->gofunc < tab->fd_addr)
		return -EINVAL;
	at = tab->gofunc - tab->fd_addr;
	if (at > tab->fd_size || off > tab->fd_size - at)
		return -EINVAL;
	*start = at + off;
	return 0;
}

/* Binary search of the functab: the last function whose entry <= off,
 * as runtime.findfunc. Entries are checked sorted at open. */
static int find_index(const struct pclntab *tab, uint64_t pc, uint32_t *idx)
{
	uint32_t lo = 0, hi = tab->nfunc, e;
	uint64_t off;

	if (pc < tab->text_start)
		return -ENOENT;
	off = pc - tab->text_start;
	/* ftab[nfunc] holds the end of the last function. */
	if (ftab_entry(tab, tab->nfunc, &e) || off >= e)
		return -ENOENT;
	/* Invariant: entry[lo] <= off once lo > 0; entry[hi] > off. */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (ftab_entry(tab, mid, &e))
			return -EINVAL;
		if (e <= off)
			lo = mid;
		else
			hi = mid;
	}
	if (ftab_entry(tab, lo, &e) || e > off)
		return -ENOENT;
	*idx = lo;
	return 0;
}

/* Linear scan: names are not sorted. Unreadable records are skipped. */
static int find_name(const struct pclntab *tab, const char *name,
		     uint32_t *idx, struct func_info *fi)
{
	uint32_t i;

	for (i = 0; i < tab->nfunc; i++) {
		const char *s;

		if (read_func(tab, i, fi))
			continue;
		s = func_name(tab, fi->nameoff);
		if (s && !strcmp(s, name)) {
			*idx = i;
			return 0;
		}
	}
	return -ENOENT;
}

/* FuncIDWrapper is the last FuncID in every version and
 * runtime.systemstack_switch the one before it, while the number of IDs
 * before them changes between versions. */
static int wrapper_funcid(const struct pclntab *tab)
{
	struct func_info fi;
	uint32_t idx;

	if (find_name(tab, "runtime.systemstack_switch", &idx, &fi))
		return -1;
	return fi.funcid + 1;
}

static int parse_header(struct pclntab *tab, uint64_t text_start)
{
	const uint8_t *d = tab->data;
	uint64_t nfunc, need, offs[5];
	uint32_t i, prev, e;

	/* magic, pad1, pad2, minLC, ptrSize */
	if (tab->size < 8)
		return -EINVAL;
	tab->magic = le32(d);
	if (tab->magic != MAGIC_GO118 && tab->magic != MAGIC_GO120) {
		if (tab->magic == MAGIC_GO12 || tab->magic == MAGIC_GO116)
			return -ENOTSUP;
		/* Unknown, or a big-endian target (not supported). */
		return tab->magic == __builtin_bswap32(MAGIC_GO118) ||
		       tab->magic == __builtin_bswap32(MAGIC_GO120) ?
		       -ENOTSUP : -EINVAL;
	}
	if (d[4] || d[5])
		return -EINVAL;
	tab->quantum = d[6];
	tab->ptrsize = d[7];
	if ((tab->quantum != 1 && tab->quantum != 2 && tab->quantum != 4) ||
	    (tab->ptrsize != 4 && tab->ptrsize != 8))
		return -EINVAL;

	/* nfunc, nfiles, textStart, then five table offsets. */
	if (tab->size < 8 + 8 * (uint64_t)tab->ptrsize)
		return -EINVAL;
	nfunc = word(d + 8, tab->ptrsize, 0);
	tab->hdr_text = word(d + 8, tab->ptrsize, 2);
	for (i = 0; i < 5; i++) {
		offs[i] = word(d + 8, tab->ptrsize, 3 + i);
		if (offs[i] >= tab->size)
			return -EINVAL;
	}
	tab->funcnametab = offs[0];
	tab->cutab = offs[1];
	tab->filetab = offs[2];
	tab->pctab = offs[3];
	tab->functab = offs[4];

	/* The functab (nfunc + 1 entries of 8 bytes) must fit: this also
	 * bounds nfunc by the buffer size. */
	if (nfunc == 0 || nfunc >= UINT32_MAX / 8)
		return -EINVAL;
	need = (nfunc * 2 + 1) * 4;
	if (!in_bounds(tab->functab, need, tab->size))
		return -EINVAL;
	tab->nfunc = (uint32_t)nfunc;

	if (tab->magic == MAGIC_GO118) {
		tab->func_size = FUNC_SIZE_118;
		tab->inl_size = INL_SIZE_118;
		tab->inl_funcid = INL_FUNCID_118;
		tab->inl_name = INL_NAME_118;
		tab->inl_parentpc = INL_PARENTPC_118;
	} else {
		tab->func_size = FUNC_SIZE_120;
		tab->inl_size = INL_SIZE_120;
		tab->inl_funcid = INL_FUNCID_120;
		tab->inl_name = INL_NAME_120;
		tab->inl_parentpc = INL_PARENTPC_120;
	}

	/* Go 1.26+ writes 0: the caller's address of .text then. */
	tab->text_start = tab->hdr_text ? tab->hdr_text : text_start;

	/* Binary search needs sorted entries; the runtime relies on it too,
	 * so anything else is not a real table. */
	prev = 0;
	for (i = 0; i <= tab->nfunc; i++) {
		if (ftab_entry(tab, i, &e))
			return -EINVAL;
		if (e < prev)
			return -EINVAL;
		prev = e;
	}
	tab->text_size = prev;
	/* Every function's address must be a number, not a wrap-around. */
	if (tab->text_start > UINT64_MAX - tab->text_size)
		return -EINVAL;
	return 0;
}

int pclntab__open(struct pclntab **out, const void *data, size_t size,
		  uint64_t text_start)
{
	struct pclntab *tab;
	int err;

	*out = NULL;
	if (!data)
		return -EINVAL;
	tab = calloc(1, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	tab->data = data;
	tab->size = size;
	err = parse_header(tab, text_start);
	if (err)
		goto out;
	tab->wrapper_id = wrapper_funcid(tab);
	*out = tab;
	return 0;
out:
	free(tab);
	return err;
}

void pclntab__free(struct pclntab *tab)
{
	free(tab);
}

uint32_t pclntab__magic(const struct pclntab *tab)
{
	return tab->magic;
}

int pclntab__func_count(const struct pclntab *tab)
{
	return (int)tab->nfunc;	/* < UINT32_MAX / 8, checked at open */
}

int pclntab__func_at(const struct pclntab *tab, int i, const char **name,
		     uint64_t *entry, uint64_t *end)
{
	struct func_info fi;
	uint32_t e, next;
	int err;

	if (i < 0 || (uint32_t)i >= tab->nfunc)
		return -ENOENT;
	err = read_func(tab, (uint32_t)i, &fi);
	if (err)
		return err;
	if (ftab_entry(tab, (uint32_t)i, &e) ||
	    ftab_entry(tab, (uint32_t)i + 1, &next))
		return -EINVAL;
	*name = func_name(tab, fi.nameoff);
	if (!*name)
		return -EINVAL;
	*entry = tab->text_start + e;
	*end = tab->text_start + next;
	return 0;
}

uint64_t pclntab__text_start(const struct pclntab *tab)
{
	return tab->text_start;
}

int pclntab__set_text_start(struct pclntab *tab, uint64_t text_start)
{
	if (text_start > UINT64_MAX - tab->text_size)
		return -EINVAL;
	tab->text_start = text_start;
	return 0;
}

int pclntab__set_funcdata(struct pclntab *tab, const void *data, size_t size,
			  uint64_t addr, uint64_t gofunc)
{
	if (!data || gofunc < addr || gofunc - addr > size)
		return -EINVAL;
	tab->fd = data;
	tab->fd_size = size;
	tab->fd_addr = addr;
	tab->gofunc = gofunc;
	return 0;
}

int pclntab__find_func(const struct pclntab *tab, const char *name,
		       uint64_t *entry, uint64_t *end)
{
	struct func_info fi;
	uint32_t idx, e, next;
	int err;

	err = find_name(tab, name, &idx, &fi);
	if (err)
		return err;
	/* The functab's view, which symbolize also uses. */
	if (ftab_entry(tab, idx, &e) || ftab_entry(tab, idx + 1, &next))
		return -EINVAL;
	*entry = tab->text_start + e;
	*end = tab->text_start + next;
	return 0;
}

int pclntab__symbolize(const struct pclntab *tab, uint64_t pc,
		       struct pclntab_frame *frames, int max_frames)
{
	struct func_info fi;
	uint64_t inl = 0, off;
	uint32_t idx, e, end;
	const char *name;
	int32_t ix = -1;
	int n = 0, depth, err;

	if (max_frames < 1)
		return -EINVAL;
	err = find_index(tab, pc, &idx);
	if (err)
		return err;
	err = read_func(tab, idx, &fi);
	if (err)
		return err;
	/* The record must describe the function the functab points at. */
	if (ftab_entry(tab, idx, &e) || fi.entryoff != e ||
	    ftab_entry(tab, idx + 1, &end))
		return -EINVAL;
	name = func_name(tab, fi.nameoff);
	if (!name)
		return -EINVAL;

	off = pc - tab->text_start;
	if (!inl_tree(tab, &fi, &inl))
		ix = pcdata_value(tab, &fi, PCDATA_INLTREEINDEX, off);
	/* As runtime's inlineUnwinder: the innermost frame's file:line come
	 * from pc, each outer one's from its inlined call's parentPc. Frames
	 * that do not fit are still walked, to reach the physical one's call
	 * site; a cycle in a corrupt tree ends at MAX_INLINE_DEPTH. */
	for (depth = 0; ix >= 0 && depth < MAX_INLINE_DEPTH; depth++) {
		uint64_t at = inl + (uint64_t)ix * tab->inl_size;
		const uint8_t *p;
		uint32_t parentpc;

		if (!in_bounds(at, tab->inl_size, tab->fd_size))
			break;
		p = tab->fd + at;
		if (n < max_frames - 1) {
			struct pclntab_frame *fr = &frames[n++];

			fr->func = func_name(tab,
					     (int32_t)le32(p + tab->inl_name));
			if (!fr->func)
				fr->func = "?";
			func_line(tab, &fi, off, fr);
			fr->inlined = true;
			fr->entry = tab->text_start + fi.entryoff;
			fr->wrapper = tab->wrapper_id >= 0 &&
				      p[tab->inl_funcid] == tab->wrapper_id;
		}
		/* Back up to the call site in the caller; it must stay in
		 * this function. */
		parentpc = le32(p + tab->inl_parentpc);
		if (parentpc >= end - fi.entryoff)
			break;
		off = (uint64_t)fi.entryoff + parentpc;
		ix = pcdata_value(tab, &fi, PCDATA_INLTREEINDEX, off);
	}

	/* The physical function: always the last frame. */
	frames[n].func = name;
	func_line(tab, &fi, off, &frames[n]);
	frames[n].inlined = false;
	frames[n].entry = tab->text_start + fi.entryoff;
	frames[n].wrapper = tab->wrapper_id >= 0 &&
			    fi.funcid == tab->wrapper_id;
	return n + 1;
}

int pclntab__sp_delta(const struct pclntab *tab, uint64_t pc,
		      int32_t *delta)
{
	struct func_info fi;
	uint32_t idx, pcsp;
	int32_t v;
	int err;

	err = find_index(tab, pc, &idx);
	if (!err)
		err = read_func(tab, idx, &fi);
	if (!err && rd32(tab, fi.rec + FUNC_PCSP, &pcsp))
		err = -EINVAL;
	if (err)
		return err;
	/* Frames are at most a few MiB; negative means no value. */
	v = pcvalue(tab, fi.entryoff, pcsp, pc - tab->text_start);
	if (v < 0)
		return -ENOENT;
	*delta = v;
	return 0;
}

/* moduledata field numbers, in pointer-sized words (runtime/symtab.go):
 * pcHeader 0, then the slices funcnametab 1, cutab 4, filetab 7, pctab 10,
 * pclntable 13, ftab 16 (ptr, len, cap), findfunctab 19, minpc 20,
 * maxpc 21, text 22, etext 23, ... */
#define MD_FUNCNAMETAB	1
#define MD_CUTAB	4
#define MD_FILETAB	7
#define MD_PCTAB	10
#define MD_PCLNTABLE	13
#define MD_FTAB		16
#define MD_TEXT		22
#define MD_ETEXT	23
/* gofunc: 38 in 1.18/1.19; 40 from 1.20 (covctrs, ecovctrs added);
 * 43 in 1.27 (typedesclen, itaboffset, itabsize added). rodata comes
 * right before it everywhere. */
#define MD_WORDS	44

/* moduledata.gofunc: the candidate whose previous word (rodata) is a
 * plausible rodata start for it: after the text, not above it, less than
 * 4 GiB below (FUNCDATA offsets are 32 bits). At the wrong index the pair
 * is sizes, or a size and an address, or a slice's length and capacity. */
static uint64_t md_gofunc(const struct pclntab *tab, const uint8_t *p)
{
	uint64_t text = word(p, tab->ptrsize, MD_TEXT);
	static const uint64_t idx_118[] = { 38 };
	static const uint64_t idx_120[] = { 43, 40 };
	const uint64_t *idx = idx_120;
	size_t n = 2, i;

	if (tab->magic == MAGIC_GO118) {
		idx = idx_118;
		n = 1;
	}
	for (i = 0; i < n; i++) {
		uint64_t rodata = word(p, tab->ptrsize, idx[i] - 1);
		uint64_t gofunc = word(p, tab->ptrsize, idx[i]);

		if (text && rodata >= text && rodata <= gofunc &&
		    gofunc - rodata <= UINT32_MAX)
			return gofunc;
	}
	return 0;
}

int pclntab__find_moduledata(const struct pclntab *tab, uint64_t tab_addr,
			     const void *buf, size_t size, uint64_t buf_addr,
			     struct pclntab_moduledata *md)
{
	const uint64_t w = tab->ptrsize, need = MD_WORDS * w;
	const uint8_t *b = buf;
	uint64_t off;

	if (!buf || tab_addr > UINT64_MAX - tab->size)
		return -EINVAL;
	/* moduledata is pointer aligned in memory. */
	off = (w - buf_addr % w) % w;
	for (; in_bounds(off, need, size); off += w) {
		const uint8_t *p = b + off;

		if (word(p, w, 0) != tab_addr ||
		    word(p, w, MD_FUNCNAMETAB) != tab_addr + tab->funcnametab ||
		    word(p, w, MD_CUTAB) != tab_addr + tab->cutab ||
		    word(p, w, MD_FILETAB) != tab_addr + tab->filetab ||
		    word(p, w, MD_PCTAB) != tab_addr + tab->pctab ||
		    word(p, w, MD_PCLNTABLE) != tab_addr + tab->functab ||
		    word(p, w, MD_FTAB) != tab_addr + tab->functab ||
		    word(p, w, MD_FTAB + 1) != (uint64_t)tab->nfunc + 1)
			continue;
		md->text = word(p, w, MD_TEXT);
		md->etext = word(p, w, MD_ETEXT);
		md->gofunc = md_gofunc(tab, p);
		return 0;
	}
	return -ENOENT;
}
