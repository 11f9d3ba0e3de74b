// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Go binary analysis. The file is mapped read-only once; every access to
 * it goes through image_slice(), which checks bounds, because binaries from
 * containers are untrusted input. */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "gobin.h"
#include "godata.h"
#include "godwarf.h"
#include "gowaitreasons.h"

#define MAX_WAIT_REASONS 256
#define MAX_PHDRS 64
#define BUILDINFO_MAGIC "\xff Go buildinf:"
#define BUILDINFO_MAGIC_LEN 14

struct load_segment {
	uint64_t vaddr, memsz, offset, filesz;
	bool writable;
};

struct gobin {
	const uint8_t *image;
	size_t size;
	Elf *elf;
	enum gobin_arch arch;
	bool pie;
	struct load_segment segs[MAX_PHDRS];
	int nsegs;
	Elf_Scn *symtab;	/* NULL when stripped */
	char version[64];
	char build_id[128];	/* "" when the binary has none */
	struct go_offsets offsets;
	enum gobin_offsets_source offsets_source;
	struct pclntab *pclntab;
	char *wait_reasons[MAX_WAIT_REASONS];
	int nwait_reasons;
	enum gobin_wait_reasons_source wait_reasons_source;
};

/* A bounds-checked view of [off, off+len) in the file image. */
static const uint8_t *image_slice(const struct gobin *bin, uint64_t off,
				  uint64_t len)
{
	if (off > bin->size || len > bin->size - off)
		return NULL;
	return bin->image + off;
}

static int find_section(const struct gobin *bin, const char *name,
			GElf_Shdr *out)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(bin->elf, &shstrndx))
		return -EINVAL;
	while ((scn = elf_nextscn(bin->elf, scn))) {
		const char *sname;

		if (!gelf_getshdr(scn, out))
			return -EINVAL;
		sname = elf_strptr(bin->elf, shstrndx, out->sh_name);
		if (sname && !strcmp(sname, name))
			return 0;
	}
	return -ENOENT;
}

static const uint8_t *section_data(const struct gobin *bin,
				   const GElf_Shdr *sh)
{
	if (sh->sh_type == SHT_NOBITS)
		return NULL;
	return image_slice(bin, sh->sh_offset, sh->sh_size);
}

static int load_segments(struct gobin *bin)
{
	GElf_Ehdr eh;
	size_t n, i;

	if (!gelf_getehdr(bin->elf, &eh) || elf_getphdrnum(bin->elf, &n))
		return -EINVAL;
	bin->pie = eh.e_type == ET_DYN;
	switch (eh.e_machine) {
	case EM_X86_64:
		bin->arch = GOBIN_ARCH_X86_64;
		break;
	case EM_AARCH64:
		bin->arch = GOBIN_ARCH_ARM64;
		break;
	default:
		return -ENOTSUP;
	}
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(bin->elf, i, &ph))
			return -EINVAL;
		if (ph.p_type != PT_LOAD || bin->nsegs == MAX_PHDRS)
			continue;
		bin->segs[bin->nsegs++] = (struct load_segment){
			.vaddr = ph.p_vaddr, .memsz = ph.p_memsz,
			.offset = ph.p_offset, .filesz = ph.p_filesz,
			.writable = ph.p_flags & PF_W,
		};
	}
	return bin->nsegs ? 0 : -ENOEXEC;
}

/* The PT_LOAD segment whose file-backed part holds vaddr. */
static const struct load_segment *segment_of(const struct gobin *bin,
					     uint64_t vaddr)
{
	int i;

	for (i = 0; i < bin->nsegs; i++) {
		const struct load_segment *s = &bin->segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz)
			return s;
	}
	return NULL;
}

int gobin__vaddr_to_offset(const struct gobin *bin, uint64_t vaddr,
			   uint64_t *offset)
{
	const struct load_segment *s = segment_of(bin, vaddr);

	if (!s)
		return -ENOENT;
	*offset = vaddr - s->vaddr + s->offset;
	return 0;
}

int gobin__read(const struct gobin *bin, uint64_t vaddr, void *buf,
		size_t len)
{
	const struct load_segment *s = segment_of(bin, vaddr);
	const uint8_t *p;

	/* The whole range must be file-backed, in one segment. */
	if (!s || len > s->filesz - (vaddr - s->vaddr))
		return -EFAULT;
	p = image_slice(bin, vaddr - s->vaddr + s->offset, len);
	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

uint64_t gobin__base_vaddr(const struct gobin *bin)
{
	uint64_t base = UINT64_MAX;
	int i;

	for (i = 0; i < bin->nsegs; i++)
		if (bin->segs[i].vaddr < base)
			base = bin->segs[i].vaddr;
	return base & ~0xfffULL;
}

static int read_u64(const struct gobin *bin, uint64_t vaddr, uint64_t *val)
{
	return gobin__read(bin, vaddr, val, sizeof(*val));
}

/* Copies a Go string (pointer, length) out of the file; NUL-terminated. */
static int read_go_string(const struct gobin *bin, uint64_t ptr,
			  uint64_t len, char *out, size_t outsz)
{
	if (len >= outsz)
		return -ENAMETOOLONG;
	if (len && gobin__read(bin, ptr, out, len))
		return -EFAULT;
	out[len] = '\0';
	return 0;
}

static int read_uvarint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	unsigned shift = 0;

	*v = 0;
	while (*p < end && shift < 64) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
		shift += 7;
	}
	return -EINVAL;
}

/* debug/buildinfo's layout: 14-byte magic, pointer size, flags; with flag
 * 0x2 the version follows inline at +32 as a uvarint-prefixed string,
 * otherwise +16 holds a pointer to a Go string header (Go < 1.18). */
static int parse_buildinfo(struct gobin *bin, const uint8_t *data,
			   size_t size)
{
	const uint8_t *p, *end = data + size;
	uint64_t len, ptr;
	uint8_t ptr_size, flags;

	if (size < 32 || memcmp(data, BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN))
		return -EINVAL;
	ptr_size = data[14];
	flags = data[15];
	if (flags & 0x2) {
		p = data + 32;
		if (read_uvarint(&p, end, &len))
			return -EINVAL;
		if (len >= sizeof(bin->version) || len > (uint64_t)(end - p))
			return -EINVAL;
		memcpy(bin->version, p, len);
		bin->version[len] = '\0';
		return 0;
	}
	if (ptr_size != 8 || (flags & 0x1))
		return -ENOTSUP;
	memcpy(&ptr, data + 16, sizeof(ptr));
	if (read_u64(bin, ptr, &ptr) || read_u64(bin, ptr + 8, &len))
		return -EINVAL;
	return read_go_string(bin, ptr, len, bin->version,
			      sizeof(bin->version));
}

static int read_go_version(struct gobin *bin)
{
	const uint8_t *data;
	GElf_Shdr sh;
	int i;

	if (!find_section(bin, ".go.buildinfo", &sh)) {
		data = section_data(bin, &sh);
		return data ? parse_buildinfo(bin, data, sh.sh_size) : -EINVAL;
	}
	/* Section headers can be stripped: search the file-backed parts of
	 * the segments, at the 16-byte alignment the linker uses. */
	for (i = 0; i < bin->nsegs; i++) {
		const struct load_segment *s = &bin->segs[i];
		uint64_t off;

		for (off = (s->offset + 15) & ~15ULL;
		     off + 32 <= s->offset + s->filesz; off += 16) {
			data = image_slice(bin, off, 32);
			if (!data)
				break;
			if (memcmp(data, BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN))
				continue;
			data = image_slice(bin, off, s->offset + s->filesz - off);
			if (data && !parse_buildinfo(bin, data,
						     s->offset + s->filesz - off))
				return 0;
		}
	}
	return -ENOENT;
}

/* The desc of the first note called name with this type in an SHT_NOTE
 * section: 4-byte namesz, descsz and type, then name and desc, each padded
 * to 4 bytes. */
static const uint8_t *find_note(const struct gobin *bin, const char *section,
				const char *name, uint32_t type,
				uint32_t *desc_len)
{
	size_t namelen = strlen(name) + 1;
	const uint8_t *p;
	GElf_Shdr sh;
	uint64_t len;

	if (find_section(bin, section, &sh) || sh.sh_type != SHT_NOTE)
		return NULL;
	p = section_data(bin, &sh);
	len = p ? sh.sh_size : 0;
	while (len >= 12) {
		uint32_t hdr[3];
		uint64_t name_sz, desc_sz;

		memcpy(hdr, p, sizeof(hdr));
		name_sz = ((uint64_t)hdr[0] + 3) & ~3ULL;
		desc_sz = ((uint64_t)hdr[1] + 3) & ~3ULL;
		if (name_sz + desc_sz > len - 12)
			return NULL;
		/* Go pads its name ("Go\0\0") into namesz. */
		if (hdr[2] == type && hdr[0] >= namelen &&
		    !memcmp(p + 12, name, namelen)) {
			*desc_len = hdr[1];
			return p + 12 + name_sz;
		}
		p += 12 + name_sz + desc_sz;
		len -= 12 + name_sz + desc_sz;
	}
	return NULL;
}

/* For profiles: the Go build id as `go tool buildid` prints it, else the
 * GNU one in hex. The Go one is text from an untrusted file, so anything
 * but printable ASCII rejects it. */
static void read_build_id(struct gobin *bin)
{
	const uint8_t *desc;
	uint32_t len, i;

	desc = find_note(bin, ".note.go.buildid", "Go", 4, &len);
	for (i = 0; desc && i < len; i++)
		if (desc[i] <= ' ' || desc[i] > '~')
			desc = NULL;
	if (desc && len && len < sizeof(bin->build_id)) {
		memcpy(bin->build_id, desc, len);
		bin->build_id[len] = '\0';
		return;
	}
	desc = find_note(bin, ".note.gnu.build-id", "GNU", NT_GNU_BUILD_ID,
			 &len);
	if (!desc || !len || len * 2 >= sizeof(bin->build_id))
		return;
	for (i = 0; i < len; i++)
		snprintf(bin->build_id + 2 * i, 3, "%02x", desc[i]);
}

static int find_symbol(const struct gobin *bin, const char *name, bool func,
		       uint64_t *value, uint64_t *size)
{
	Elf_Data *data;
	GElf_Shdr sh;
	size_t i, n;

	if (!bin->symtab || !gelf_getshdr(bin->symtab, &sh) || !sh.sh_entsize)
		return -ENOENT;
	data = elf_getdata(bin->symtab, NULL);
	if (!data)
		return -ENOENT;
	n = data->d_size / sh.sh_entsize;
	for (i = 0; i < n; i++) {
		const char *sname;
		GElf_Sym sym;

		if (!gelf_getsym(data, i, &sym))
			break;
		if ((GELF_ST_TYPE(sym.st_info) == STT_FUNC) != func)
			continue;
		sname = elf_strptr(bin->elf, sh.sh_link, sym.st_name);
		if (sname && !strcmp(sname, name)) {
			*value = sym.st_value;
			*size = sym.st_size;
			return 0;
		}
	}
	return -ENOENT;
}

int gobin__find_func(const struct gobin *bin, const char *name,
		     uint64_t *entry, uint64_t *end)
{
	uint64_t size;

	if (!find_symbol(bin, name, true, entry, &size)) {
		*end = *entry + size;
		return 0;
	}
	if (!bin->pclntab)
		return -ENOENT;
	return pclntab__find_func(bin->pclntab, name, entry, end);
}

/* Data symbols that -s -w removes, recovered from the code of the runtime
 * function that reads them: its nth PC-relative reference. forEachGRace
 * starts with atomicAllG(), which loads allglen, then allgptr (the order
 * proc.go prescribes to readers), in every Go release since 1.16. */
static const struct code_ref {
	const char *name;
	const char *func;
	int nth;
	uint64_t size;
	const char *writer;	/* must reference it too */
} code_refs[] = {
	{ "runtime.allglen", "runtime.forEachGRace", 0, 8, "runtime.allgadd" },
	{ "runtime.allgptr", "runtime.forEachGRace", 1, 8, "runtime.allgadd" },
};

#define MAX_CODE_REFS 512
#define MAX_FUNC_CODE (64 << 10)

/* The PC-relative data references of function name, in order. */
static int func_refs(const struct gobin *bin, const char *name,
		     struct godata_ref *refs, int max)
{
	const struct load_segment *seg;
	uint64_t entry, end;
	const uint8_t *code;
	bool complete;

	if (gobin__find_func(bin, name, &entry, &end) || end <= entry ||
	    end - entry > MAX_FUNC_CODE)
		return -ENOENT;
	/* The whole function, file-backed, in one segment. */
	seg = segment_of(bin, entry);
	if (!seg || end - seg->vaddr > seg->filesz)
		return -ENOENT;
	code = image_slice(bin, entry - seg->vaddr + seg->offset, end - entry);
	if (!code)
		return -ENOENT;
	return godata__refs(bin->arch, code, end - entry, entry, refs, max,
			    &complete);
}

/* A runtime global lives in a writable segment (.data, .noptrdata, .bss,
 * .noptrbss), pointer aligned. */
static bool is_global(const struct gobin *bin, uint64_t addr, uint64_t size)
{
	int i;

	if (addr & 7)
		return false;
	for (i = 0; i < bin->nsegs; i++) {
		const struct load_segment *s = &bin->segs[i];

		if (s->writable && addr >= s->vaddr &&
		    addr - s->vaddr <= s->memsz && size <= s->memsz -
							   (addr - s->vaddr))
			return true;
	}
	return false;
}

int gobin__find_data_in_code(const struct gobin *bin, const char *name,
			     uint64_t *addr, uint64_t *size)
{
	struct godata_ref *refs = NULL;
	const struct code_ref *cr = NULL;
	uint64_t found;
	size_t i;
	int n, err = -ENOENT;

	for (i = 0; i < sizeof(code_refs) / sizeof(code_refs[0]); i++)
		if (!strcmp(code_refs[i].name, name))
			cr = &code_refs[i];
	if (!cr)
		return -ENOENT;
	refs = calloc(MAX_CODE_REFS, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	n = func_refs(bin, cr->func, refs, cr->nth + 1);
	if (n <= cr->nth)
		goto out;
	found = refs[cr->nth].addr;
	if (!is_global(bin, found, cr->size))
		goto out;
	/* A second function that uses the same global guards against a
	 * reader whose code changed shape in a release not seen yet. */
	n = func_refs(bin, cr->writer, refs, MAX_CODE_REFS);
	for (i = 0; n > 0 && i < (size_t)n; i++) {
		if (refs[i].addr == found) {
			*addr = found;
			*size = cr->size;
			err = 0;
			break;
		}
	}
out:
	free(refs);
	return err;
}

int gobin__find_data(const struct gobin *bin, const char *name,
		     uint64_t *addr, uint64_t *size)
{
	if (!find_symbol(bin, name, false, addr, size))
		return 0;
	return gobin__find_data_in_code(bin, name, addr, size);
}

static void find_symtab(struct gobin *bin)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(bin->elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB) {
			bin->symtab = scn;
			return;
		}
}

/* The file-backed section that holds link-time address addr. */
static int find_section_at(const struct gobin *bin, uint64_t addr,
			   GElf_Shdr *out)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(bin->elf, scn))) {
		if (!gelf_getshdr(scn, out) || out->sh_type == SHT_NOBITS ||
		    !(out->sh_flags & SHF_ALLOC))
			continue;
		if (addr >= out->sh_addr && addr - out->sh_addr < out->sh_size)
			return 0;
	}
	return -ENOENT;
}

/* The runtime's moduledata knows what the pclntab header does not: the
 * real text base (runtime.text, after C code in cgo binaries) and where
 * the inline trees live (go:func.*). Without it there are no inlined
 * frames, which costs readability, not correctness of the rest. */
static int use_moduledata(struct gobin *bin, uint64_t tab_addr)
{
	static const char *const homes[] = { ".go.module", ".noptrdata" };
	struct pclntab_moduledata md;
	const uint8_t *data;
	GElf_Shdr sh;
	size_t i;

	for (i = 0; i < sizeof(homes) / sizeof(homes[0]); i++) {
		if (find_section(bin, homes[i], &sh))
			continue;
		data = section_data(bin, &sh);
		if (data && !pclntab__find_moduledata(bin->pclntab, tab_addr,
						      data, sh.sh_size,
						      sh.sh_addr, &md))
			break;
	}
	if (i == sizeof(homes) / sizeof(homes[0]))
		return -ENOENT;
	pclntab__set_text_start(bin->pclntab, md.text);
	if (!md.gofunc || find_section_at(bin, md.gofunc, &sh))
		return 0;
	data = section_data(bin, &sh);
	if (data)
		pclntab__set_funcdata(bin->pclntab, data, sh.sh_size,
				      sh.sh_addr, md.gofunc);
	return 0;
}

/* An external linker (cgo) building a PIE before Go 1.26 merges
 * .data.rel.ro.gopclntab into .data.rel.ro. The table is then found by
 * its header (pointer aligned) and confirmed by the moduledata that points
 * at it, which also rules out a header-like pattern in other data. */
static int scan_pclntab(struct gobin *bin, uint64_t text_addr)
{
	Elf_Scn *scn = NULL;
	const uint8_t *data;
	GElf_Shdr sh;
	uint64_t off;

	while ((scn = elf_nextscn(bin->elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_ALLOC) ||
		    (sh.sh_flags & SHF_EXECINSTR))
			continue;
		data = section_data(bin, &sh);
		for (off = 0; data && off + 64 <= sh.sh_size; off += 8) {
			const uint8_t *p = data + off;

			if ((p[0] != 0xf0 && p[0] != 0xf1) ||
			    memcmp(p + 1, "\xff\xff\xff\0\0", 5) ||
			    pclntab__open(&bin->pclntab, p, sh.sh_size - off,
					  text_addr))
				continue;
			if (!use_moduledata(bin, sh.sh_addr + off))
				return 0;
			pclntab__free(bin->pclntab);
			bin->pclntab = NULL;
		}
	}
	return -ENOENT;
}

static int open_pclntab(struct gobin *bin)
{
	const uint8_t *data;
	GElf_Shdr sh, text;
	int err;

	if (find_section(bin, ".text", &text))
		return -EINVAL;
	if (find_section(bin, ".gopclntab", &sh) &&
	    find_section(bin, ".data.rel.ro.gopclntab", &sh))
		return scan_pclntab(bin, text.sh_addr);
	data = section_data(bin, &sh);
	if (!data)
		return -EINVAL;
	err = pclntab__open(&bin->pclntab, data, sh.sh_size, text.sh_addr);
	/* Without moduledata: no inlined frames, and the text base of the
	 * internal linker, which puts no C code first. */
	if (!err)
		use_moduledata(bin, sh.sh_addr);
	return err;
}

/* runtime.waitReasonStrings is a [N]string in the data segment: the names
 * come from the binary itself, since the numbering changes between Go
 * releases (1.26 reordered all of them). -s -w takes the symbol away; the
 * built-in table of that release has the same array then. */
static int read_wait_reasons(struct gobin *bin)
{
	uint64_t addr, size, i, ptr, len;
	const char *const *names;
	char name[128];
	int n;

	bin->wait_reasons_source = GOBIN_WAIT_REASONS_NONE;
	if (gobin__find_data(bin, "runtime.waitReasonStrings", &addr, &size)) {
		if (go_wait_reasons__from_table(bin->version, &names, &n))
			return -ENOENT;
		for (i = 0; i < (uint64_t)n && i < MAX_WAIT_REASONS; i++) {
			bin->wait_reasons[i] = strdup(names[i]);
			if (!bin->wait_reasons[i])
				return -ENOMEM;
			bin->nwait_reasons = i + 1;
		}
		bin->wait_reasons_source = GOBIN_WAIT_REASONS_TABLE;
		return 0;
	}
	bin->wait_reasons_source = GOBIN_WAIT_REASONS_BINARY;
	for (i = 0; i < size / 16 && i < MAX_WAIT_REASONS; i++) {
		if (read_u64(bin, addr + i * 16, &ptr) ||
		    read_u64(bin, addr + i * 16 + 8, &len) ||
		    read_go_string(bin, ptr, len, name, sizeof(name)))
			return -EINVAL;
		bin->wait_reasons[i] = strdup(name);
		if (!bin->wait_reasons[i])
			return -ENOMEM;
		bin->nwait_reasons = i + 1;
	}
	return 0;
}

static int load_offsets(struct gobin *bin, int fd, const char **errmsg)
{
	const char *missing;
	int err;

	go_offsets__init(&bin->offsets);
	err = godwarf__read_offsets(fd, &bin->offsets);
	if (!err) {
		bin->offsets_source = GOBIN_OFFSETS_DWARF;
	} else {
		bin->offsets_source = GOBIN_OFFSETS_TABLE;
		err = go_offsets__from_table(bin->version, &bin->offsets);
		if (err) {
			static char msg[192];

			snprintf(msg, sizeof(msg), "%.40s is not supported "
				 "without DWARF (stripped binary): goleaktrace "
				 "knows Go 1.19, 1.21-1.24, 1.26 and 1.27; "
				 "rebuild without -ldflags=-w", bin->version);
			*errmsg = msg;
			return err;
		}
	}
	err = go_offsets__check(&bin->offsets, &missing);
	if (err) {
		static char msg[128];

		snprintf(msg, sizeof(msg), "the runtime's structs lack a usable "
			 "%s field (unsupported Go version?)", missing);
		*errmsg = msg;
	}
	return err;
}

int gobin__open(struct gobin **out, int fd, const char **errmsg)
{
	struct gobin *bin;
	struct stat st;
	void *image;
	int err;

	*out = NULL;
	*errmsg = "not a readable file";
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < 64)
		return -ENOEXEC;
	image = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (image == MAP_FAILED)
		return -errno;
	bin = calloc(1, sizeof(*bin));
	if (!bin) {
		munmap(image, st.st_size);
		return -ENOMEM;
	}
	bin->image = image;
	bin->size = st.st_size;

	err = -ENOEXEC;
	*errmsg = "not an ELF executable";
	elf_version(EV_CURRENT);
	bin->elf = elf_memory((char *)image, st.st_size);
	if (!bin->elf || elf_kind(bin->elf) != ELF_K_ELF ||
	    gelf_getclass(bin->elf) != ELFCLASS64 ||
	    elf_getident(bin->elf, NULL)[EI_DATA] != ELFDATA2LSB)
		goto out;
	err = load_segments(bin);
	if (err) {
		*errmsg = err == -ENOTSUP ?
			"unsupported architecture (x86-64 and arm64 only)" :
			"corrupt ELF program headers";
		goto out;
	}
	err = read_go_version(bin);
	if (err) {
		*errmsg = "not a Go program (no Go build info found)";
		goto out;
	}
	find_symtab(bin);
	read_build_id(bin);
	err = open_pclntab(bin);
	if (err) {
		*errmsg = "corrupt or unsupported Go pclntab (function table)";
		goto out;
	}
	err = load_offsets(bin, fd, errmsg);
	if (err)
		goto out;
	/* Missing names only cost readable output ("waitReason(N)"). */
	err = read_wait_reasons(bin);
	if (err == -ENOMEM)
		goto out;
	err = 0;
	*errmsg = NULL;
out:
	if (err)
		gobin__free(bin);
	else
		*out = bin;
	return err;
}

void gobin__free(struct gobin *bin)
{
	int i;

	if (!bin)
		return;
	for (i = 0; i < bin->nwait_reasons; i++)
		free(bin->wait_reasons[i]);
	pclntab__free(bin->pclntab);
	if (bin->elf)
		elf_end(bin->elf);
	munmap((void *)bin->image, bin->size);
	free(bin);
}

const char *gobin__go_version(const struct gobin *bin)
{
	return bin->version;
}

const char *gobin__build_id(const struct gobin *bin)
{
	return bin->build_id;
}

enum gobin_arch gobin__arch(const struct gobin *bin)
{
	return bin->arch;
}

const struct go_offsets *gobin__offsets(const struct gobin *bin)
{
	return &bin->offsets;
}

enum gobin_offsets_source gobin__offsets_source(const struct gobin *bin)
{
	return bin->offsets_source;
}

bool gobin__is_pie(const struct gobin *bin)
{
	return bin->pie;
}

enum gobin_wait_reasons_source
gobin__wait_reasons_source(const struct gobin *bin)
{
	return bin->wait_reasons_source;
}

int gobin__wait_reason_count(const struct gobin *bin)
{
	return bin->nwait_reasons;
}

const char *gobin__wait_reason(const struct gobin *bin, unsigned reason)
{
	static __thread char unknown[32];

	if (reason < (unsigned)bin->nwait_reasons && bin->wait_reasons[reason])
		return bin->wait_reasons[reason];
	snprintf(unknown, sizeof(unknown), "waitReason(%u)", reason);
	return unknown;
}

int gobin__wait_reason_index(const struct gobin *bin, const char *name)
{
	int i;

	for (i = 0; i < bin->nwait_reasons; i++)
		if (bin->wait_reasons[i] && !strcmp(bin->wait_reasons[i], name))
			return i;
	return -ENOENT;
}

const struct pclntab *gobin__pclntab(const struct gobin *bin)
{
	return bin->pclntab;
}

int gobin__symbolize_caller(const struct gobin *bin, uint64_t pc,
			    struct pclntab_frame *frames, int max_frames)
{
	struct pclntab_frame f;

	if (pclntab__symbolize(bin->pclntab, pc, &f, 1) == 1 && f.entry == pc)
		return pclntab__symbolize(bin->pclntab, pc, frames, max_frames);
	return pclntab__symbolize(bin->pclntab, pc - 1, frames, max_frames);
}

int gobin__sp_delta(const struct gobin *bin, uint64_t pc, int32_t *delta)
{
	return pclntab__sp_delta(bin->pclntab, pc, delta);
}

int gobin__symbolize(const struct gobin *bin, uint64_t pc,
		     struct pclntab_frame *frames, int max_frames)
{
	return pclntab__symbolize(bin->pclntab, pc, frames, max_frames);
}
