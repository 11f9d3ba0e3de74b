// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Binary analysis of arm64 Go programs, which are cross-compiled here and
 * never run: tests/.build/go1.XX/NAME-arm64 (FIXTURE_FLAVORS=arm64 in
 * tools/build-fixtures.sh). For each: the architecture, the Go version of
 * its folder, the struct offsets the tracer needs (the runtime's layouts are
 * the same as on amd64: compared with the amd64 build of the same fixture
 * and with the table), and the probe point of each probed function, which
 * must be the b.ls of its stack check. Other fixtures are ignored. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gobin.h"
#include "prologue.h"
#include "tap.h"

#define SUFFIX "-arm64"

static char what[1024];

#define WHAT(...) (snprintf(what, sizeof(what), __VA_ARGS__), what)

/* The offsets that differ per architecture if anything does. */
#define ARCH_FIELDS(X)							\
	X(g_goid) X(g_atomicstatus) X(g_waitreason) X(g_sched_sp)	\
	X(g_sched_pc) X(g_sched_bp)

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static int minor_of(const char *path)
{
	const char *p = strstr(path, "/go1.");

	return p ? atoi(p + 5) : -1;
}

static int open_bin(const char *path, int *fd, struct gobin **bin)
{
	const char *errmsg = NULL;
	int err;

	*bin = NULL;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	err = gobin__open(bin, *fd, &errmsg);
	if (err) {
		printf("#   %s: %s\n", path, errmsg ? errmsg : "?");
		close(*fd);
		*fd = -1;
	}
	return err;
}

static void close_bin(int fd, struct gobin *bin)
{
	gobin__free(bin);
	if (fd >= 0)
		close(fd);
}

/* The arm64 offsets against those of the amd64 build beside it (same
 * folder, no suffix) when there is one, and against the table, which is
 * generated from amd64 DWARF. */
static void check_offsets(const char *path, const struct gobin *bin)
{
	const struct go_offsets *o = gobin__offsets(bin), *x;
	struct go_offsets tab;
	struct gobin *amd = NULL;
	char amd_path[512];
	int fd = -1;

	ASSERT_EQ(gobin__offsets_source(bin), GOBIN_OFFSETS_DWARF,
		  WHAT("%s: offsets from DWARF", path));
	if (ASSERT_EQ(go_offsets__from_table(gobin__go_version(bin), &tab), 0,
		      WHAT("%s: %s in the table", path,
			   gobin__go_version(bin)))) {
#define X(f) ASSERT_EQ(o->f, tab.f, WHAT("%s: %s == table", path, #f));
		ARCH_FIELDS(X)
#undef X
	}

	snprintf(amd_path, sizeof(amd_path), "%.*s", (int)(strlen(path) -
		 strlen(SUFFIX)), path);
	if (access(amd_path, R_OK)) {
		TAP_SKIP(WHAT("%s: no amd64 build to compare with", amd_path));
		return;
	}
	if (!ASSERT_EQ(open_bin(amd_path, &fd, &amd), 0,
		       WHAT("%s: opens", amd_path)))
		return;
	x = gobin__offsets(amd);
	ASSERT_EQ(gobin__arch(amd), GOBIN_ARCH_X86_64,
		  WHAT("%s: is amd64", amd_path));
#define X(f) ASSERT_EQ(o->f, x->f, WHAT("%s: %s == amd64", path, #f));
	ARCH_FIELDS(X)
#undef X
	close_bin(fd, amd);
}

/* b.ls (b.cond with cond 9), read little endian. */
static int is_b_ls(const uint8_t *p)
{
	uint32_t insn = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;

	return (insn & 0xff00001f) == 0x54000009;
}

static void check_probe_point(const char *path, const struct gobin *bin,
			      const char *func)
{
	struct pclntab_frame frames[8];
	uint8_t code[32] = {};
	uint64_t entry, end;
	size_t off = 0, len;
	int n;

	if (!ASSERT_EQ(gobin__find_func(bin, func, &entry, &end), 0,
		       WHAT("%s: %s found", path, func)))
		return;
	len = end - entry < sizeof(code) ? end - entry : sizeof(code);
	ASSERT_EQ(gobin__read(bin, entry, code, len), 0,
		  WHAT("%s: %s prologue read", path, func));
	if (!ASSERT_EQ(prologue__probe_offset(GOBIN_ARCH_ARM64, code, len,
					      &off), 0,
		       WHAT("%s: %s probe point decoded", path, func)))
		return;
	ASSERT_TRUE(off > 0 && off % 4 == 0 && off + 4 <= len &&
		    is_b_ls(code + off),
		    WHAT("%s: %s probed at +%zu, a b.ls", path, func, off));
	/* The pclntab (pc quantum 4 on arm64) maps the probe back. */
	n = gobin__symbolize(bin, entry + off, frames, 8);
	ASSERT_TRUE(n >= 1 && !strcmp(frames[n - 1].func, func) &&
		    frames[n - 1].line > 0,
		    WHAT("%s: %s+%zu symbolizes to %s", path, func, off,
			 n >= 1 ? frames[n - 1].func : "(error)"));
}

static void check_fixture(const char *path)
{
	static const char *const funcs[] = {
		"runtime.gopark", "runtime.ready", "runtime.newproc1",
	};
	struct gobin *bin = NULL;
	int fd, minor = minor_of(path);
	char want[16];
	size_t i;

	if (!ASSERT_EQ(open_bin(path, &fd, &bin), 0, WHAT("%s: opens", path)))
		return;
	ASSERT_EQ(gobin__arch(bin), GOBIN_ARCH_ARM64,
		  WHAT("%s: is arm64", path));
	/* "go1.22" matches go1.22.12 and go1.22rc1, not go1.2. */
	snprintf(want, sizeof(want), "go1.%d", minor);
	ASSERT_TRUE(!strncmp(gobin__go_version(bin), want, strlen(want)) &&
		    go_offsets__version_minor(gobin__go_version(bin)) == minor,
		    WHAT("%s: version %s is %s", path,
			 gobin__go_version(bin), want));
	ASSERT_EQ(gobin__wait_reason_index(bin, "chan receive"),
		  minor >= 26 ? 19 : 14,
		  WHAT("%s: \"chan receive\" index", path));
	check_offsets(path, bin);
	for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		check_probe_point(path, bin, funcs[i]);
	/* gdestroy from 1.22; goexit0 before (probes.c tries both). */
	check_probe_point(path, bin, minor >= 22 ? "runtime.gdestroy"
						 : "runtime.goexit0");
	close_bin(fd, bin);
}

int main(int argc, char **argv)
{
	int i, n = 0;

	/* tests/run.sh passes every fixture; only the arm64 ones are ours. */
	for (i = 1; i < argc; i++) {
		if (!ends_with(argv[i], SUFFIX))
			continue;
		check_fixture(argv[i]);
		n++;
	}
	if (!n)
		TAP_SKIP("no arm64 fixtures given (FIXTURE_FLAVORS=arm64 "
			 "tools/build-fixtures.sh)");
	return tap__done();
}
