// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Struct offsets: the DWARF reader against the generated per-version table
 * and against the fact sheet (shared/reference/go-runtime-facts.md §0.1),
 * version-string parsing, and files the reader must refuse without
 * crashing. Arguments: Go binaries as tests/.build/go1.XX/<fixture>; the
 * folder name gives the version, a "-sw" suffix means built with -s -w. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "godwarf.h"
#include "gooffsets.h"
#include "tap.h"

/* The fields of §0.1 of the fact sheet, per Go minor. */
#define FACT_FIELDS(X)							\
	X(g_size) X(g_m) X(g_sched_sp) X(g_sched_pc) X(g_sched_bp)	\
	X(g_atomicstatus) X(g_goid) X(g_waitreason) X(g_parent_goid)	\
	X(g_gopc) X(g_startpc) X(g_waiting) X(g_labels) X(m_curg)	\
	X(sudog_c) X(sudog_elem) X(sudog_waitlink) X(hchan_lock)

static const struct fact {
	int minor;
#define X(f) int32_t f;
	FACT_FIELDS(X)
#undef X
} facts[] = {
	/* size  m  sp  pc   bp  stat goid wr parent gopc start wait labels
	 * curg sudog.c .elem .waitlink hchan.lock */
	{ 19, 392, 48, 56, 64, 104, 144, 152, 176, -1, 296, 312, 328, 360,
	  192, 80, 24, 64, 88 },
	{ 21, 408, 48, 56, 64, 104, 144, 152, 176, 272, 280, 296, 312, 344,
	  192, 80, 24, 64, 88 },
	{ 22, 424, 48, 56, 64, 104, 144, 152, 176, 272, 280, 296, 312, 344,
	  192, 80, 24, 64, 88 },
	{ 23, 432, 48, 56, 64, 104, 152, 160, 184, 280, 288, 304, 320, 352,
	  192, 80, 24, 64, 96 },
	{ 24, 440, 48, 56, 64, 104, 152, 160, 184, 280, 288, 304, 320, 352,
	  192, 80, 24, 64, 96 },
	{ 26, 456, 48, 56, 64, 96, 144, 152, 176, 280, 288, 304, 320, 352,
	  184, 96, 32, 72, 104 },
	{ 27, 456, 48, 56, 64, 96, 144, 152, 176, 280, 288, 304, 320, 352,
	  184, 96, 32, 72, 104 },
};

static const struct fact *fact_for(int minor)
{
	size_t i;

	for (i = 0; i < sizeof(facts) / sizeof(facts[0]); i++)
		if (facts[i].minor == minor)
			return &facts[i];
	return NULL;
}

static char what[512];

#define WHAT(...) (snprintf(what, sizeof(what), __VA_ARGS__), what)

static int read_path(const char *path, struct go_offsets *o)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	err = godwarf__read_offsets(fd, o);
	close(fd);
	return err;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* "go1.22" and "hello" from "tests/.build/go1.22/hello". */
static int split_path(const char *path, char *ver, size_t versz,
		      const char **name)
{
	const char *slash = strrchr(path, '/'), *dir;
	size_t len;

	if (!slash || slash == path)
		return -EINVAL;
	*name = slash + 1;
	for (dir = slash; dir > path && dir[-1] != '/'; dir--)
		;
	len = slash - dir;
	if (len >= versz)
		return -EINVAL;
	memcpy(ver, dir, len);
	ver[len] = '\0';
	return 0;
}

static void check_binary(const char *path)
{
	struct go_offsets dw, tab;
	const struct fact *fact;
	const char *name, *missing;
	char ver[64];
	unsigned int i;
	int minor, err;

	if (split_path(path, ver, sizeof(ver), &name) ||
	    (minor = go_offsets__version_minor(ver)) < 0) {
		ASSERT_TRUE(0, WHAT("%s: folder names a Go version", path));
		return;
	}
	err = go_offsets__from_table(ver, &tab);
	ASSERT_EQ(err, 0, WHAT("%s/%s: %s is in the table", ver, name, ver));

	go_offsets__init(&dw);
	err = read_path(path, &dw);
	if (ends_with(name, "-sw")) {
		ASSERT_EQ(err, -ENODATA, WHAT("%s/%s: no DWARF: -ENODATA",
					      ver, name));
		ASSERT_EQ(dw.g_goid, -1, WHAT("%s/%s: output untouched", ver,
					      name));
		return;
	}
	if (!ASSERT_EQ(err, 0, WHAT("%s/%s: DWARF offsets read", ver, name)))
		return;
	err = go_offsets__check(&dw, &missing);
	ASSERT_EQ(err, 0, WHAT("%s/%s: required fields present (first "
			       "missing: %s)", ver, name,
			       missing ? missing : "none"));

	for (i = 0; i < GO_OFFSETS_FIELD_COUNT; i++)
		ASSERT_EQ(go_offsets__field(&dw, i), go_offsets__field(&tab, i),
			  WHAT("%s/%s: %s: DWARF == table", ver, name,
			       go_offsets__field_name(i)));

	fact = fact_for(minor);
	if (!fact) {
		TAP_SKIP(WHAT("%s/%s: %s not in the fact sheet", ver, name,
			      ver));
		return;
	}
#define X(f) ASSERT_EQ(dw.f, fact->f, WHAT("%s/%s: %s == fact sheet", \
					   ver, name, #f));
	FACT_FIELDS(X)
#undef X
}

static void check_versions(void)
{
	static const char *const garbage[] = {
		"", "garbage", "go", "go1", "go1.", "go1.x", "go1.22.",
		"go1.22x", "go1.22.1x", "go1.022", "go1.22rc", "go1.22beta",
		"1.22.1", "go1.2222", "devel go1.23-4f7b2e1 +0000",
		" go1.22.1", "go1.22\t", "go1.22.1-X",
	};
	static const char *const good[] = {
		"go1.22.12", "go1.22", "go1.22.0", "go1.22rc1", "go1.22beta2",
		"go1.22.1 X:nocoverageredesign",
	};
	struct go_offsets o;
	size_t i;

	ASSERT_EQ(go_offsets__version_minor("go1.22.12"), 22,
		  "version_minor(go1.22.12) = 22");
	ASSERT_EQ(go_offsets__version_minor("go1.9"), 9,
		  "version_minor(go1.9) = 9");
	ASSERT_EQ(go_offsets__version_minor("go2.1"), -ENOTSUP,
		  "version_minor(go2.1): -ENOTSUP");
	ASSERT_EQ(go_offsets__version_minor(NULL), -EINVAL,
		  "version_minor(NULL): -EINVAL");

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		go_offsets__init(&o);
		if (ASSERT_EQ(go_offsets__from_table(good[i], &o), 0,
			      WHAT("table: \"%s\" found", good[i])))
			ASSERT_EQ(o.g_size, 424, WHAT("table: \"%s\" is the "
						      "1.22 row", good[i]));
	}
	if (ASSERT_EQ(go_offsets__from_table("go1.27.3", &o), 0,
		      "table: go1.27.3 found")) {
		ASSERT_EQ(o.g_sched_bp, 96, "table: go1.27.3 g.sched.bp");
		ASSERT_EQ(o.sudog_c, 96, "table: go1.27.3 sudog.c.vu");
	}
	if (ASSERT_EQ(go_offsets__from_table("go1.27.3 X:nocoverageredesign",
					     &o), 0,
		      "table: go1.27.3 with GOEXPERIMENT suffix found"))
		ASSERT_EQ(o.g_goid, 152, "table: go1.27.3 X:... g.goid");
	if (ASSERT_EQ(go_offsets__from_table("go1.19.8", &o), 0,
		      "table: go1.19.8 found"))
		ASSERT_EQ(o.g_parent_goid, -1, "table: go1.19 has no "
			  "parentGoid");

	ASSERT_EQ(go_offsets__from_table("go1.99.1", &o), -ENOTSUP,
		  "table: go1.99.1: -ENOTSUP");
	ASSERT_EQ(go_offsets__from_table("go1.18", &o), -ENOTSUP,
		  "table: go1.18: -ENOTSUP");
	ASSERT_EQ(go_offsets__from_table("go1.20.14", &o), -ENOTSUP,
		  "table: go1.20.14 (not in the matrix): -ENOTSUP");
	ASSERT_EQ(go_offsets__from_table("go2.0", &o), -ENOTSUP,
		  "table: go2.0: -ENOTSUP");
	for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		go_offsets__init(&o);
		ASSERT_EQ(go_offsets__from_table(garbage[i], &o), -EINVAL,
			  WHAT("table: \"%s\": -EINVAL", garbage[i]));
		ASSERT_EQ(o.g_goid, -1, WHAT("table: \"%s\": output "
					     "untouched", garbage[i]));
	}
	ASSERT_EQ(go_offsets__from_table(NULL, &o), -EINVAL,
		  "table: NULL: -EINVAL");
}

static void check_check(void)
{
	struct go_offsets o;
	const char *missing;
	unsigned int i;
	int all = 1;

	go_offsets__init(&o);
	for (i = 0; i < GO_OFFSETS_FIELD_COUNT; i++)
		all &= go_offsets__field(&o, i) == -1;
	ASSERT_TRUE(all, "init sets every field to -1");
	ASSERT_STREQ(go_offsets__field_name(0), "g_size", "field 0 name");
	ASSERT_TRUE(!go_offsets__field_name(GO_OFFSETS_FIELD_COUNT),
		    "field name past the end: NULL");

	ASSERT_EQ(go_offsets__check(&o, &missing), -ENOENT,
		  "check: all absent: -ENOENT");
	ASSERT_STREQ(missing, "g_size", "check: all absent: names g_size");

	if (!ASSERT_EQ(go_offsets__from_table("go1.22", &o), 0,
		       "check: 1.22 row"))
		return;
	ASSERT_EQ(go_offsets__check(&o, &missing), 0, "check: 1.22 row ok");

	o.g_goid = -1;
	ASSERT_EQ(go_offsets__check(&o, &missing), -ENOENT,
		  "check: no goid: -ENOENT");
	ASSERT_STREQ(missing, "g_goid", "check: no goid: names g_goid");
	o.g_goid = o.g_size - 4;
	ASSERT_EQ(go_offsets__check(&o, &missing), -ERANGE,
		  "check: goid read past the g: -ERANGE");
	ASSERT_STREQ(missing, "g_goid", "check: goid past the g: names it");
	o.g_goid = 152;
	o.g_waitreason = o.g_size - 1;
	ASSERT_EQ(go_offsets__check(&o, &missing), 0,
		  "check: 1-byte waitreason in the last byte ok");
	o.g_waitreason = 176;
	o.g_waiting = -1;
	o.g_parent_goid = -1;
	ASSERT_EQ(go_offsets__check(&o, &missing), 0,
		  "check: optional fields may be absent");
	o.g_waiting = 4096;
	ASSERT_EQ(go_offsets__check(&o, &missing), -ERANGE,
		  "check: optional g field past the g: -ERANGE");
	o.g_waiting = 312;
	o.sudog_c = -5;
	ASSERT_EQ(go_offsets__check(&o, &missing), -ERANGE,
		  "check: negative offset other than -1: -ERANGE");
	ASSERT_STREQ(missing, "sudog_c", "check: names sudog_c");
	o.sudog_c = 80;
	o.g_size = 1 << 20;
	ASSERT_EQ(go_offsets__check(&o, &missing), -ERANGE,
		  "check: absurd g_size: -ERANGE");
}

/* An unlinked temporary file holding len bytes of buf. */
static int tmpfile_with(const void *buf, size_t len)
{
	char path[] = "/tmp/test_godwarf.XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	unlink(path);
	if (len && write(fd, buf, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return fd;
}

static int read_fd(int fd, struct go_offsets *o)
{
	int err;

	if (fd < 0)
		return -EBADF;
	err = godwarf__read_offsets(fd, o);
	close(fd);
	return err;
}

static void *slurp(const char *path, size_t *len)
{
	struct stat st;
	void *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || st.st_size <= 0)
		goto out;
	buf = malloc(st.st_size);
	if (buf && read(fd, buf, st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	*len = st.st_size;
out:
	close(fd);
	return buf;
}

/* Replaces every NUL-terminated DWARF name "from" (whole name: the byte
 * before it is no name character) by "to", of the same length, in the
 * decompressed .debug_info of a copy of the binary; returns the copy's
 * fd or -1. */
static int copy_renaming(const char *path, const char *from, const char *to)
{
	size_t len, shstrndx, n = strlen(from) + 1;
	Elf_Scn *scn = NULL;
	Elf_Data *data;
	GElf_Shdr sh;
	Elf *elf = NULL;
	char *buf, *p, *end;
	int fd = -1, done = 0;

	buf = slurp(path, &len);
	if (buf)
		fd = tmpfile_with(buf, len);
	free(buf);
	if (fd < 0 || elf_version(EV_CURRENT) == EV_NONE)
		goto out;
	elf = elf_begin(fd, ELF_C_RDWR, NULL);
	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		goto out;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			goto out;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, ".debug_info"))
			break;
	}
	if (!scn || ((sh.sh_flags & SHF_COMPRESSED) &&
		     elf_compress(scn, 0, 0) < 0))
		goto out;
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf)
		goto out;
	p = data->d_buf;
	end = p + data->d_size;
	while (p < end && (p = memmem(p, end - p, from, n))) {
		char c = p > (char *)data->d_buf ? p[-1] : 0;

		if (c != '*' && c != '.' && c != ']' && c != '_' &&
		    (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') &&
		    (c < '0' || c > '9')) {
			memcpy(p, to, n);
			done++;
		}
		p += n;
	}
	if (!done || !elf_flagdata(data, ELF_C_SET, ELF_F_DIRTY) ||
	    elf_update(elf, ELF_C_WRITE) < 0)
		goto out;
	elf_end(elf);
	return fd;
out:
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	return -1;
}

static void check_bad_files(const char *go_bin)
{
	static const char text[] = "#!/bin/sh\necho not an ELF file\n";
	struct go_offsets o;
	const char *missing;
	size_t len, shoff;
	char *buf;
	int fd, err;

	go_offsets__init(&o);
	err = read_path("/bin/true", &o);
	ASSERT_EQ(err, -ENODATA, "/bin/true (no DWARF): -ENODATA");
	ASSERT_EQ(o.g_goid, -1, "/bin/true: output untouched");
	ASSERT_EQ(read_fd(tmpfile_with(text, sizeof(text) - 1), &o), -ENOEXEC,
		  "text file: -ENOEXEC");
	ASSERT_EQ(read_fd(tmpfile_with(NULL, 0), &o), -ENOEXEC,
		  "empty file: -ENOEXEC");
	ASSERT_EQ(godwarf__read_offsets(-1, &o), -ENOEXEC,
		  "bad fd: -ENOEXEC");
	/* C code with DWARF but no Go runtime: this very test when built
	 * with -g. */
	err = read_path("/proc/self/exe", &o);
	ASSERT_TRUE(err == -ENOENT || err == -ENODATA,
		    WHAT("own executable (no runtime.g): -ENOENT or -ENODATA "
			 "(got %d)", err));

	if (!go_bin) {
		TAP_SKIP("no Go binary with DWARF given: damaged-file checks");
		return;
	}
	buf = slurp(go_bin, &len);
	if (!ASSERT_TRUE(buf && len > 4096, "read a Go binary to damage"))
		goto out;

	/* Half a file: the section headers (at the end) are gone. */
	err = read_fd(tmpfile_with(buf, len / 2), &o);
	ASSERT_TRUE(err < 0, WHAT("truncated Go binary: error (got %d)",
				  err));

	/* Section headers pointing past the end of the file. */
	shoff = ((Elf64_Ehdr *)buf)->e_shoff;
	((Elf64_Ehdr *)buf)->e_shoff = len - 8;
	err = read_fd(tmpfile_with(buf, len), &o);
	ASSERT_TRUE(err < 0, WHAT("section headers past EOF: error (got %d)",
				  err));
	((Elf64_Ehdr *)buf)->e_shoff = shoff;

	/* Garbage all over the second half (compressed DWARF lives there):
	 * any result is fine as long as nothing crashes, but a success must
	 * still pass the checker or be refused by it cleanly. */
	for (size_t i = len / 2; i < len - 1024; i += 509)
		buf[i] ^= 0x5a;
	err = read_fd(tmpfile_with(buf, len), &o);
	ASSERT_TRUE(err <= 0, WHAT("corrupted Go binary: no crash (got %d)",
				   err));

	fd = copy_renaming(go_bin, "runtime.g", "runtime.q");
	if (fd < 0) {
		TAP_SKIP("could not rewrite .debug_info (runtime.g)");
	} else {
		ASSERT_EQ(read_fd(fd, &o), -ENOENT,
			  "DWARF without runtime.g: -ENOENT");
	}
	fd = copy_renaming(go_bin, "goid", "gxid");
	if (fd < 0) {
		TAP_SKIP("could not rewrite .debug_info (goid)");
	} else if (ASSERT_EQ(read_fd(fd, &o), 0,
			     "uncompressed DWARF, g without goid: read")) {
		ASSERT_EQ(o.g_goid, -1, "g without goid: g_goid = -1");
		ASSERT_EQ(go_offsets__check(&o, &missing), -ENOENT,
			  "g without goid: check -ENOENT");
		ASSERT_STREQ(missing, "g_goid", "g without goid: names it");
	}
out:
	free(buf);
}

int main(int argc, char **argv)
{
	const char *go_bin = NULL;
	int i;

	check_versions();
	check_check();
	for (i = 1; i < argc; i++) {
		check_binary(argv[i]);
		if (!go_bin && !ends_with(argv[i], "-sw"))
			go_bin = argv[i];
	}
	check_bad_files(go_bin);
	return tap__done();
}
