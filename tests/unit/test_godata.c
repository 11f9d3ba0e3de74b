// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Data addresses from code (user/godata.c, through gobin).
 *
 * Without arguments: the x86-64 and arm64 decoders on hand-assembled code
 * and on real instruction words taken from `go tool objdump` of the
 * fixtures (RIP-relative operands with and without an immediate after the
 * displacement, prefixes, SIB, unknown and cut-off instructions; ADRP +
 * ADD/LDR pairs, negative pages, split pairs).
 *
 * With Go binaries as arguments (tests/.build/go1.XX/{parkzoo,cgozoo}*):
 * runtime.allglen and runtime.allgptr decoded from runtime.forEachGRace
 * equal the .symtab values wherever there is a .symtab (normal, PIE, cgo,
 * arm64 builds); in a stripped (-sw) build, whose data may sit a few bytes
 * away from the unstripped twin's (the build info differs), they lie in
 * the same section at the same offset as the twin's .symtab values; and a
 * copy whose reader or writer code is wiped finds nothing (-ENOENT)
 * rather than something wrong. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "godata.h"
#include "gobin.h"
#include "tap.h"

static char what[512];

#define WHAT(...) (snprintf(what, sizeof(what), __VA_ARGS__), what)

static const char *const globals[] = { "runtime.allglen", "runtime.allgptr" };

/* ---- x86-64 ------------------------------------------------------------ */

/* runtime.forEachGRace of go1.27.3 parkzoo-pie at 0x44d080 (go tool
 * objdump), calls shortened: allglen at 0x695818, allgptr at 0x674ba8. */
static const uint8_t fegr_127[] = {
	0x49, 0x3b, 0x66, 0x10,			/* CMPQ SP, 0x10(R14) */
	0x76, 0x65,				/* JBE */
	0x55,					/* PUSHQ BP */
	0x48, 0x89, 0xe5,			/* MOVQ SP, BP */
	0x48, 0x83, 0xec, 0x20,			/* SUBQ $0x20, SP */
	0x48, 0x89, 0x44, 0x24, 0x30,		/* MOVQ AX, 0x30(SP) */
	0x90,					/* NOPL */
	0x48, 0x8b, 0x0d, 0x7d, 0x87, 0x24, 0x00, /* MOVQ allglen, CX */
	0x48, 0x89, 0x4c, 0x24, 0x10,		/* MOVQ CX, 0x10(SP) */
	0x48, 0x8b, 0x1d, 0x01, 0x7b, 0x22, 0x00, /* MOVQ allgptr, BX */
	0x48, 0x89, 0x5c, 0x24, 0x18,		/* MOVQ BX, 0x18(SP) */
	0x31, 0xd2,				/* XORL DX, DX */
	0xeb, 0x30,				/* JMP */
	0x48, 0x8b, 0x1c, 0xd3,			/* MOVQ 0(BX)(DX*8), BX */
	0x0f, 0x1f, 0x40, 0x00,			/* NOPL 0(AX) */
	0xff, 0xd1,				/* CALL CX */
	0xe8, 0x8b, 0x97, 0x03, 0x00,		/* CALL rel32 */
	0xc3,					/* RET */
};

static void test_x86_real(void)
{
	struct godata_ref refs[8];
	bool complete;
	int n;

	n = godata__refs(GOBIN_ARCH_X86_64, fegr_127, sizeof(fegr_127),
			 0x44d080, refs, 8, &complete);
	ASSERT_EQ(n, 2, "x86 forEachGRace 1.27: two references");
	ASSERT_EQ(refs[0].addr, 0x695818, "x86 forEachGRace: allglen");
	ASSERT_EQ(refs[1].addr, 0x674ba8, "x86 forEachGRace: allgptr");
	ASSERT_EQ(refs[0].pc, 0x44d094, "x86 forEachGRace: pc of the load");
	ASSERT_TRUE(complete, "x86 forEachGRace: decoded to the end");

	n = godata__refs(GOBIN_ARCH_X86_64, fegr_127, sizeof(fegr_127),
			 0x44d080, refs, 1, &complete);
	ASSERT_TRUE(n == 1 && !complete, "x86: stops at max references");
}

/* One instruction with a RIP-relative operand: its length and target. */
static void check_one(const char *name, const uint8_t *code, size_t len,
		      uint64_t want_addr)
{
	struct godata_ref refs[2];
	bool complete;
	int n;

	n = godata__refs(GOBIN_ARCH_X86_64, code, len, 0x1000, refs, 2,
			 &complete);
	ASSERT_TRUE(n == 1 && complete && refs[0].addr == want_addr,
		    WHAT("x86 %s: target 0x%llx", name,
			 (unsigned long long)want_addr));
	if (n == 1 && refs[0].addr != want_addr)
		printf("#   got 0x%llx\n", (unsigned long long)refs[0].addr);
}

static void test_x86_shapes(void)
{
	/* disp32 0x100: the target counts from the end of the whole
	 * instruction, immediates included. */
	static const uint8_t cmpq_imm8[] = { 0x48, 0x83, 0x3d, 0x00, 0x01,
					     0x00, 0x00, 0x00 };
	static const uint8_t movl_imm32[] = { 0xc7, 0x05, 0x00, 0x01, 0x00,
					      0x00, 0x01, 0x00, 0x00, 0x00 };
	static const uint8_t movw_imm16[] = { 0x66, 0xc7, 0x05, 0x00, 0x01,
					      0x00, 0x00, 0x01, 0x00 };
	static const uint8_t testb_imm8[] = { 0xf6, 0x05, 0x00, 0x01, 0x00,
					      0x00, 0x01 };
	static const uint8_t notq[] = { 0x48, 0xf7, 0x15, 0x00, 0x01, 0x00,
					0x00 };
	static const uint8_t lock_xadd[] = { 0xf0, 0x48, 0x0f, 0xc1, 0x05,
					     0x00, 0x01, 0x00, 0x00 };
	static const uint8_t neg_disp[] = { 0x48, 0x8d, 0x05, 0xf0, 0xff,
					    0xff, 0xff };
	static const uint8_t sse_rip[] = { 0xf2, 0x0f, 0x10, 0x05, 0x00, 0x01,
					   0x00, 0x00 };
	static const uint8_t pshufd[] = { 0x66, 0x0f, 0x70, 0x05, 0x00, 0x01,
					  0x00, 0x00, 0x1b };
	static const uint8_t pextr[] = { 0x66, 0x0f, 0x3a, 0x16, 0x05, 0x00,
					 0x01, 0x00, 0x00, 0x01 };

	check_one("cmpq $imm8, disp(rip)", cmpq_imm8, sizeof(cmpq_imm8),
		  0x1000 + 8 + 0x100);
	check_one("movl $imm32, disp(rip)", movl_imm32, sizeof(movl_imm32),
		  0x1000 + 10 + 0x100);
	check_one("movw $imm16, disp(rip)", movw_imm16, sizeof(movw_imm16),
		  0x1000 + 9 + 0x100);
	check_one("testb $imm8, disp(rip)", testb_imm8, sizeof(testb_imm8),
		  0x1000 + 7 + 0x100);
	check_one("notq disp(rip): no immediate", notq, sizeof(notq),
		  0x1000 + 7 + 0x100);
	check_one("lock xaddq", lock_xadd, sizeof(lock_xadd),
		  0x1000 + 9 + 0x100);
	check_one("leaq negative disp", neg_disp, sizeof(neg_disp),
		  0x1000 + 7 - 0x10);
	check_one("movsd (0f map)", sse_rip, sizeof(sse_rip),
		  0x1000 + 8 + 0x100);
	check_one("pshufd (0f map + imm8)", pshufd, sizeof(pshufd),
		  0x1000 + 9 + 0x100);
	check_one("pextrd (0f 3a map + imm8)", pextr, sizeof(pextr),
		  0x1000 + 10 + 0x100);
}

static void test_x86_stops(void)
{
	/* movabs $imm64 (REX.W B8): 10 bytes, then a RIP load. */
	static const uint8_t movabs[] = { 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8,
					  0x48, 0x8b, 0x05, 0, 0, 0, 0 };
	/* SIB with base 5 and mod 0: disp32, absolute, not RIP-relative. */
	static const uint8_t sib_abs[] = { 0x8b, 0x04, 0x25, 0, 0x10, 0, 0 };
	/* A VEX instruction (vmovdqu) ends decoding. */
	static const uint8_t vex[] = { 0x48, 0x8b, 0x05, 0, 0, 0, 0,
				       0xc5, 0xfe, 0x6f, 0x06,
				       0x48, 0x8b, 0x05, 0, 0, 0, 0 };
	static const uint8_t cut[] = { 0x48, 0x8b, 0x05, 0, 0, 0 };
	static const uint8_t prefixes[] = { 0x66, 0x66, 0x66, 0x66, 0x66,
					    0x90 };
	struct godata_ref refs[4];
	bool complete;
	int n;

	n = godata__refs(GOBIN_ARCH_X86_64, movabs, sizeof(movabs), 0, refs,
			 4, &complete);
	ASSERT_TRUE(n == 1 && complete && refs[0].pc == 10 &&
		    refs[0].addr == 17, "x86 movabs imm64 then a load");
	n = godata__refs(GOBIN_ARCH_X86_64, sib_abs, sizeof(sib_abs), 0, refs,
			 4, &complete);
	ASSERT_TRUE(n == 0 && complete, "x86 SIB disp32: not RIP-relative");
	n = godata__refs(GOBIN_ARCH_X86_64, vex, sizeof(vex), 0, refs, 4,
			 &complete);
	ASSERT_TRUE(n == 1 && !complete, "x86 VEX: stops, keeps what it had");
	n = godata__refs(GOBIN_ARCH_X86_64, cut, sizeof(cut), 0, refs, 4,
			 &complete);
	ASSERT_TRUE(n == 0 && !complete, "x86 cut-off instruction: stops");
	n = godata__refs(GOBIN_ARCH_X86_64, prefixes, sizeof(prefixes), 0,
			 refs, 4, &complete);
	ASSERT_TRUE(n == 0 && !complete, "x86 five prefixes: refused");
	ASSERT_EQ(godata__refs(GOBIN_ARCH_X86_64, NULL, 0, 0, refs, 4,
			       &complete), -EINVAL, "NULL code: -EINVAL");
}

/* Every byte string of a few lengths: never reads past the end (ASan). */
static void test_x86_random(void)
{
	uint64_t x = 0x2545f4914f6cdd1dull;
	struct godata_ref refs[16];
	bool complete;
	int i, bad = 0;

	for (i = 0; i < 100000; i++) {
		size_t len = i % 24, j;
		uint8_t *code = malloc(len ? len : 1);

		for (j = 0; j < len; j++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			code[j] = x;
		}
		if (godata__refs(i & 1 ? GOBIN_ARCH_X86_64 : GOBIN_ARCH_ARM64,
				 code, len, x, refs, 16, &complete) < 0)
			bad++;
		free(code);
	}
	ASSERT_EQ(bad, 0, "random code: decoded or stopped, never failed");
}

/* ---- arm64 ------------------------------------------------------------- */

static uint32_t adrp(int rd, uint64_t pc, uint64_t target)
{
	int64_t pages = ((int64_t)(target & ~0xfffULL) -
			 (int64_t)(pc & ~0xfffULL)) / 4096;
	uint32_t imm = (uint32_t)pages & 0x1fffff;

	return 0x90000000 | (imm & 3) << 29 | (imm >> 2) << 5 | rd;
}

static uint32_t add_imm(int rd, int rn, uint32_t imm12)
{
	return 0x91000000 | imm12 << 10 | rn << 5 | rd;
}

static uint32_t ldr_x(int rt, int rn, uint32_t off)
{
	return 0xf9400000 | (off / 8) << 10 | rn << 5 | rt;
}

static void test_arm64(void)
{
	/* runtime.forEachGRace of go1.27.3 parkzoo-arm64 at 0x58ce0:
	 * allglen 0x262db0, allgptr 0x23bb48. */
	static const uint32_t fegr[] = { 0xd0001041, 0x9136c021, 0xc8dffc21,
					 0xf9000fe1, 0xf0000f02, 0x912d2042,
					 0xc8dffc42 };
	/* runtime.allgadd at 0x58ae0: ADRP R27 then MOVD 16(R27), R2. */
	static const uint32_t ldr16[] = { 0x90000f3b, 0xf9400b62 };
	struct godata_ref refs[8];
	uint32_t code[8];
	bool complete;
	int n;

	n = godata__refs(GOBIN_ARCH_ARM64, (const uint8_t *)fegr, sizeof(fegr),
			 0x58ce0, refs, 8, &complete);
	ASSERT_EQ(n, 2, "arm64 forEachGRace 1.27: two references");
	ASSERT_EQ(refs[0].addr, 0x262db0, "arm64 forEachGRace: allglen");
	ASSERT_EQ(refs[1].addr, 0x23bb48, "arm64 forEachGRace: allgptr");
	ASSERT_TRUE(complete, "arm64 forEachGRace: decoded to the end");
	n = godata__refs(GOBIN_ARCH_ARM64, (const uint8_t *)ldr16,
			 sizeof(ldr16), 0x58ae0, refs, 8, &complete);
	ASSERT_TRUE(n == 1 && refs[0].addr == 0x23c010,
		    "arm64 ADRP + LDR: scaled offset");

	/* A page below the code, and ADD with a 12-bit shift. */
	code[0] = adrp(3, 0x400000, 0x100000);
	code[1] = add_imm(3, 3, 0x123);
	code[2] = adrp(4, 0x400008, 0x500000);
	code[3] = add_imm(4, 4, 0x1) | 1 << 22;
	/* Split pair: something else between ADRP and its ADD. */
	code[4] = adrp(5, 0x400010, 0x600000);
	code[5] = 0xd503201f;		/* NOP */
	code[6] = add_imm(5, 5, 0x10);
	/* ADD whose base is another register. */
	code[7] = add_imm(6, 7, 0x10);
	n = godata__refs(GOBIN_ARCH_ARM64, (const uint8_t *)code, sizeof(code),
			 0x400000, refs, 8, &complete);
	ASSERT_EQ(n, 2, "arm64: split pairs and other registers ignored");
	ASSERT_EQ(refs[0].addr, 0x100123, "arm64: ADRP to a lower page");
	ASSERT_EQ(refs[1].addr, 0x501000, "arm64: ADD imm, lsl 12");

	code[0] = adrp(1, 0x1000, 0x7000);
	code[1] = ldr_x(2, 1, 0x28);
	n = godata__refs(GOBIN_ARCH_ARM64, (const uint8_t *)code, 7, 0x1000,
			 refs, 8, &complete);
	ASSERT_TRUE(n == 0 && !complete, "arm64: a cut-off word ends it");
	n = godata__refs(GOBIN_ARCH_ARM64, (const uint8_t *)code, 8, 0x1000,
			 refs, 8, &complete);
	ASSERT_TRUE(n == 1 && refs[0].addr == 0x7028 && complete,
		    "arm64 ADRP + LDR x");
}

/* ---- fixtures ---------------------------------------------------------- */

/* .symtab value of name, and the section (name, offset) holding it. */
static int elf_symbol(const char *path, const char *name, uint64_t *value,
		      char *sec, size_t secsz, uint64_t *secoff)
{
	Elf_Scn *scn = NULL, *symtab = NULL;
	size_t shstrndx, i;
	GElf_Shdr sh, ssh;
	Elf_Data *d;
	int fd, err = -ENOENT;
	Elf *elf;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		goto out;
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &ssh) && ssh.sh_type == SHT_SYMTAB)
			symtab = scn;
	if (!symtab || !gelf_getshdr(symtab, &ssh) || !ssh.sh_entsize ||
	    !(d = elf_getdata(symtab, NULL)))
		goto out;
	*value = 0;
	scn = NULL;
	for (i = 0; i < ssh.sh_size / ssh.sh_entsize; i++) {
		GElf_Sym sym;
		const char *n;

		if (!gelf_getsym(d, i, &sym))
			break;
		n = elf_strptr(elf, ssh.sh_link, sym.st_name);
		if (n && !strcmp(n, name)) {
			*value = sym.st_value;
			err = 0;
			break;
		}
	}
	while (!err && (scn = elf_nextscn(elf, scn))) {
		if (gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_ALLOC) &&
		    *value >= sh.sh_addr && *value - sh.sh_addr < sh.sh_size) {
			snprintf(sec, secsz, "%s",
				 elf_strptr(elf, shstrndx, sh.sh_name));
			*secoff = *value - sh.sh_addr;
			break;
		}
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

/* The section (name, offset) holding addr. */
static int elf_section_at(const char *path, uint64_t addr, char *sec,
			  size_t secsz, uint64_t *secoff)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;
	int fd, err = -ENOENT;
	Elf *elf;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		goto out;
	while ((scn = elf_nextscn(elf, scn))) {
		if (gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_ALLOC) &&
		    addr >= sh.sh_addr && addr - sh.sh_addr < sh.sh_size) {
			snprintf(sec, secsz, "%s",
				 elf_strptr(elf, shstrndx, sh.sh_name));
			*secoff = addr - sh.sh_addr;
			err = 0;
			break;
		}
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* A copy of path with the code of func zeroed: gobin must then refuse to
 * name runtime.allglen (the reader's references are gone, or the writer
 * no longer confirms them). */
static void check_wiped(const char *path, const struct gobin *bin,
			const char *func)
{
	char tmp[] = "/tmp/glt-godata-XXXXXX";
	uint64_t entry, end, off, addr, size;
	const char *errmsg = NULL;
	struct gobin *copy = NULL;
	int in = -1, out = -1, err = -1;
	uint8_t *buf = NULL;
	ssize_t n;
	off_t fsz;

	if (gobin__find_func(bin, func, &entry, &end) ||
	    gobin__vaddr_to_offset(bin, entry, &off))
		goto out;
	in = open(path, O_RDONLY);
	out = mkstemp(tmp);
	fsz = in >= 0 ? lseek(in, 0, SEEK_END) : -1;
	buf = fsz > 0 ? malloc(fsz) : NULL;
	if (!buf || out < 0 || (n = pread(in, buf, fsz, 0)) != fsz ||
	    off > (uint64_t)fsz || end - entry > fsz - off)
		goto out;
	memset(buf + off, 0, end - entry);
	if (write(out, buf, fsz) != fsz)
		goto out;
	err = gobin__open(&copy, out, &errmsg);
	if (!err)
		err = gobin__find_data(copy, "runtime.allglen", &addr, &size);
out:
	ASSERT_EQ(err, -ENOENT, WHAT("%s: %s wiped: allglen not found", path,
				     func));
	gobin__free(copy);
	free(buf);
	if (in >= 0)
		close(in);
	if (out >= 0) {
		close(out);
		unlink(tmp);
	}
}

static void check_fixture(const char *path)
{
	const char *errmsg = NULL;
	struct gobin *bin = NULL;
	char twin[512], sec[64], tsec[64];
	uint64_t addr, size, sym, off, toff;
	bool stripped = ends_with(path, "-sw");
	size_t i;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!ASSERT_TRUE(fd >= 0 && !gobin__open(&bin, fd, &errmsg),
			 WHAT("%s: opens", path))) {
		printf("#   %s\n", errmsg ? errmsg : strerror(errno));
		goto out;
	}
	snprintf(twin, sizeof(twin), "%.*s", (int)strlen(path) - 3, path);
	for (i = 0; i < sizeof(globals) / sizeof(globals[0]); i++) {
		const char *g = globals[i];

		if (!ASSERT_EQ(gobin__find_data_in_code(bin, g, &addr, &size),
			       0, WHAT("%s: %s decoded from code", path, g)))
			continue;
		ASSERT_EQ(size, 8, WHAT("%s: %s is 8 bytes", path, g));
		if (!stripped) {
			if (elf_symbol(path, g, &sym, sec, sizeof(sec), &off))
				sym = 0;
			ASSERT_EQ(addr, sym, WHAT("%s: %s as in .symtab", path,
						  g));
			continue;
		}
		ASSERT_EQ(gobin__find_data(bin, g, &sym, &size), 0,
			  WHAT("%s: %s found without .symtab", path, g));
		if (elf_symbol(twin, g, &sym, tsec, sizeof(tsec), &toff) ||
		    elf_section_at(path, addr, sec, sizeof(sec), &off)) {
			ASSERT_TRUE(0, WHAT("%s: %s: unstripped twin readable",
					    path, g));
			continue;
		}
		ASSERT_TRUE(!strcmp(sec, tsec) && off == toff,
			    WHAT("%s: %s at %s+0x%llx as in the unstripped "
				 "build", path, g, tsec,
				 (unsigned long long)toff));
		if (strcmp(sec, tsec) || off != toff)
			printf("#   got %s+0x%llx\n", sec,
			       (unsigned long long)off);
	}
	ASSERT_EQ(gobin__find_data_in_code(bin, "runtime.allm", &addr, &size),
		  -ENOENT, WHAT("%s: a global without a recipe: -ENOENT",
				path));
	if (stripped) {
		check_wiped(path, bin, "runtime.forEachGRace");
		check_wiped(path, bin, "runtime.allgadd");
	}
out:
	gobin__free(bin);
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	int i, n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	test_x86_real();
	test_x86_shapes();
	test_x86_stops();
	test_x86_random();
	test_arm64();
	if (elf_version(EV_CURRENT) == EV_NONE) {
		ASSERT_TRUE(0, "libelf initialises");
		return tap__done();
	}
	for (i = 1; i < argc; i++) {
		const char *base = strrchr(argv[i], '/');

		base = base ? base + 1 : argv[i];
		if (strncmp(base, "parkzoo", 7) && strncmp(base, "cgozoo", 6))
			continue;
		check_fixture(argv[i]);
		n++;
	}
	if (!n)
		TAP_SKIP("no parkzoo/cgozoo fixtures given "
			 "(tools/build-fixtures.sh)");
	return tap__done();
}
