// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Go runtime struct offsets from DWARF. Go compresses its .debug_*
 * sections (SHF_COMPRESSED, zlib); libdw inflates them when it opens the
 * file. The binary is untrusted: every libdw result is checked and every
 * offset must lie inside its struct, so a crafted file can at worst yield
 * wrong offsets, which go_offsets__check() bounds by g_size. */
#include <dwarf.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <elfutils/libdw.h>
#include "godwarf.h"

/* Far above any runtime struct (runtime.m: 2024 bytes in Go 1.22), and
 * small enough that a sum of offsets (path and unwrapping, at most 6)
 * cannot overflow int32. */
#define MAX_STRUCT_SIZE (1 << 20)
/* Typedef chains are one link in Go; a loop must not hang us. */
#define MAX_TYPEDEF_DEPTH 8
#define MAX_PATH 2
/* Wrapper structs around a value (maybeTraceableChan is two deep). */
#define MAX_UNWRAP 4

enum go_type { T_G, T_M, T_SUDOG, T_HCHAN, T_SEMAROOT, NTYPES };

static const char *const type_names[NTYPES] = {
	[T_G] = "runtime.g",
	[T_M] = "runtime.m",
	[T_SUDOG] = "runtime.sudog",
	[T_HCHAN] = "runtime.hchan",
	[T_SEMAROOT] = "runtime.semaRoot",
};

struct field_spec {
	size_t out;			/* offsetof(struct go_offsets, ...) */
	enum go_type type;
	const char *path[MAX_PATH];	/* member, member of its struct */
	bool addr;			/* want the field's own address */
};

#define F(field, type, ...) \
	{ offsetof(struct go_offsets, field), type, { __VA_ARGS__ }, false }

/* Nested fields (g.sched.sp) follow the member's own type, runtime.gobuf
 * or runtime.stack, rather than a name lookup: same result, and it is the
 * type the runtime really uses. */
static const struct field_spec specs[] = {
	F(g_stack_lo, T_G, "stack", "lo"),
	F(g_stack_hi, T_G, "stack", "hi"),
	F(g_m, T_G, "m"),
	F(g_sched_sp, T_G, "sched", "sp"),
	F(g_sched_pc, T_G, "sched", "pc"),
	F(g_sched_bp, T_G, "sched", "bp"),
	F(g_atomicstatus, T_G, "atomicstatus"),
	F(g_goid, T_G, "goid"),
	F(g_waitsince, T_G, "waitsince"),
	F(g_waitreason, T_G, "waitreason"),
	F(g_parent_goid, T_G, "parentGoid"),
	F(g_gopc, T_G, "gopc"),
	F(g_startpc, T_G, "startpc"),
	F(g_waiting, T_G, "waiting"),
	F(g_labels, T_G, "labels"),
	F(m_curg, T_M, "curg"),
	F(sudog_g, T_SUDOG, "g"),
	F(sudog_elem, T_SUDOG, "elem"),
	F(sudog_waitlink, T_SUDOG, "waitlink"),
	F(sudog_c, T_SUDOG, "c"),
	F(sudog_next, T_SUDOG, "next"),
	F(sudog_prev, T_SUDOG, "prev"),
	F(semaroot_treap, T_SEMAROOT, "treap"),
	/* gopark's lock argument is &hchan.lock: the address, not a value. */
	{ offsetof(struct go_offsets, hchan_lock), T_HCHAN, { "lock" }, true },
	F(hchan_qcount, T_HCHAN, "qcount"),
	F(hchan_dataqsiz, T_HCHAN, "dataqsiz"),
	F(hchan_closed, T_HCHAN, "closed"),
};

/* The DIE's DW_AT_type with typedefs peeled off. */
static int die_type(Dwarf_Die *die, Dwarf_Die *type)
{
	Dwarf_Attribute attr;
	Dwarf_Die cur = *die;
	int i, tag;

	for (i = 0; i < MAX_TYPEDEF_DEPTH; i++) {
		if (!dwarf_attr(&cur, DW_AT_type, &attr) ||
		    !dwarf_formref_die(&attr, type))
			return -EINVAL;
		tag = dwarf_tag(type);
		if (tag < 0)
			return -EINVAL;
		if (tag != DW_TAG_typedef)
			return 0;
		cur = *type;
	}
	return -EINVAL;
}

static int struct_size(Dwarf_Die *st, Dwarf_Word *size)
{
	int sz = dwarf_bytesize(st);

	/* 0 is legal (struct{}); g_size 0 is go_offsets__check()'s call. */
	if (sz < 0 || sz > MAX_STRUCT_SIZE)
		return -EINVAL;
	*size = sz;
	return 0;
}

static int member_location(Dwarf_Die *member, Dwarf_Word *off)
{
	Dwarf_Attribute attr;
	Dwarf_Op *ops;
	size_t nops;

	if (!dwarf_attr(member, DW_AT_data_member_location, &attr))
		return -EINVAL;
	if (!dwarf_formudata(&attr, off))
		return 0;
	/* DWARF 2 style: a one-op expression "DW_OP_plus_uconst N". */
	if (dwarf_getlocation(&attr, &ops, &nops) || nops != 1 ||
	    ops[0].atom != DW_OP_plus_uconst)
		return -EINVAL;
	*off = ops[0].number;
	return 0;
}

/* Finds member name of struct st: 0, -ENOENT if it has none, -EINVAL if
 * the DWARF is malformed or the member starts past the struct's end (at
 * the end is a zero-size member). */
static int find_member(Dwarf_Die *st, const char *name, Dwarf_Die *member,
		       Dwarf_Word *off)
{
	Dwarf_Word size;
	const char *mname;
	int rc, err;

	err = struct_size(st, &size);
	if (err)
		return err;
	rc = dwarf_child(st, member);
	while (rc == 0) {
		mname = dwarf_diename(member);
		if (dwarf_tag(member) == DW_TAG_member && mname &&
		    !strcmp(mname, name)) {
			err = member_location(member, off);
			if (err)
				return err;
			return *off <= size ? 0 : -EINVAL;
		}
		rc = dwarf_siblingof(member, member);
	}
	return rc < 0 ? -EINVAL : -ENOENT;
}

/* The member of a struct that has exactly one, else -ENOENT. */
static int sole_member(Dwarf_Die *st, Dwarf_Die *member, Dwarf_Word *off)
{
	Dwarf_Die child;
	Dwarf_Word size;
	int rc, err, n = 0;

	err = struct_size(st, &size);
	if (err)
		return err;
	rc = dwarf_child(st, &child);
	while (rc == 0) {
		if (dwarf_tag(&child) == DW_TAG_member) {
			*member = child;
			n++;
		}
		rc = dwarf_siblingof(&child, &child);
	}
	if (rc < 0)
		return -EINVAL;
	if (n != 1)
		return -ENOENT;
	err = member_location(member, off);
	if (err)
		return err;
	return *off <= size ? 0 : -EINVAL;
}

/* Offset of spec's field inside st, -1 if this runtime lacks it. */
static int field_offset(Dwarf_Die *st, const struct field_spec *spec,
			int32_t *out)
{
	Dwarf_Die cur = *st, member, type;
	Dwarf_Word total = 0, off;
	int i, err;

	*out = -1;
	for (i = 0; i < MAX_PATH && spec->path[i]; i++) {
		if (i > 0) {
			err = die_type(&member, &cur);
			if (err)
				return err;
			if (dwarf_tag(&cur) != DW_TAG_structure_type)
				return 0;
		}
		err = find_member(&cur, spec->path[i], &member, &off);
		if (err)
			return err == -ENOENT ? 0 : err;
		total += off;
	}
	/* Wrappers around one word: atomic.Uint32 {noCopy; value} (1.21+
	 * atomicstatus), maybeTraceablePtr {vp; vu} and maybeTraceableChan
	 * {maybeTraceablePtr} (1.26+ sudog.elem/c; vu is the source of
	 * truth). An unknown wrapper leaves the field absent. */
	for (i = 0; !spec->addr; i++) {
		err = die_type(&member, &type);
		if (err)
			return err;
		if (dwarf_tag(&type) != DW_TAG_structure_type)
			break;
		if (i == MAX_UNWRAP)
			return 0;
		err = find_member(&type, "vu", &member, &off);
		if (err == -ENOENT)
			err = find_member(&type, "value", &member, &off);
		if (err == -ENOENT)
			err = sole_member(&type, &member, &off);
		if (err)
			return err == -ENOENT ? 0 : err;
		total += off;
	}
	*out = total;
	return 0;
}

/* -ENODATA unless the file has a .debug_info with contents. */
static int has_debug_info(Elf *elf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t shstrndx;
	const char *name;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return -ENOEXEC;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			return -ENOEXEC;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || (strcmp(name, ".debug_info") &&
			      strcmp(name, ".zdebug_info")))
			continue;
		return sh.sh_type != SHT_NOBITS && sh.sh_size ? 0 : -ENODATA;
	}
	return -ENODATA;
}

/* One pass over the top-level DIEs of every unit; types are top-level in
 * Go's DWARF. Stops once all are found. */
static int find_types(Dwarf *dbg, Dwarf_Die types[NTYPES],
		      bool found[NTYPES])
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie, die;
	const char *name;
	int i, rc, nfound = 0;

	while ((rc = dwarf_get_units(dbg, cu, &cu, NULL, NULL, &cudie,
				     NULL)) == 0) {
		rc = dwarf_child(&cudie, &die);
		while (rc == 0 && nfound < NTYPES) {
			if (dwarf_tag(&die) == DW_TAG_structure_type &&
			    !dwarf_hasattr(&die, DW_AT_declaration) &&
			    (name = dwarf_diename(&die))) {
				for (i = 0; i < NTYPES; i++) {
					if (found[i] ||
					    strcmp(name, type_names[i]))
						continue;
					types[i] = die;
					found[i] = true;
					nfound++;
				}
			}
			rc = dwarf_siblingof(&die, &die);
		}
		if (rc < 0)
			return -EINVAL;
		if (nfound == NTYPES)
			return 0;
	}
	return rc < 0 ? -EINVAL : 0;
}

int godwarf__read_offsets(int fd, struct go_offsets *out)
{
	Dwarf_Die types[NTYPES];
	bool found[NTYPES] = { false };
	struct go_offsets o;
	Dwarf *dbg = NULL;
	Elf *elf = NULL;
	Dwarf_Word gsize;
	size_t i;
	int err;

	go_offsets__init(&o);
	err = -EINVAL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		goto out;
	err = -ENOEXEC;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto out;
	/* Checked first so that only "no DWARF" maps to -ENODATA and a
	 * .debug_info libdw cannot read (bad zlib data) is -EINVAL. */
	err = has_debug_info(elf);
	if (err)
		goto out;
	err = -EINVAL;
	dbg = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dbg)
		goto out;
	err = find_types(dbg, types, found);
	if (err)
		goto out;
	err = -ENOENT;
	if (!found[T_G])
		goto out;
	err = struct_size(&types[T_G], &gsize);
	if (err)
		goto out;
	o.g_size = gsize;
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		if (!found[specs[i].type])
			continue;
		err = field_offset(&types[specs[i].type], &specs[i],
				   (int32_t *)((char *)&o + specs[i].out));
		if (err)
			goto out;
	}
	*out = o;
	err = 0;
out:
	if (dbg)
		dwarf_end(dbg);
	if (elf)
		elf_end(elf);
	return err;
}
