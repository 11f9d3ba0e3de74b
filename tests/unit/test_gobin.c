// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Go binary analysis on the fixtures of every Go version (paths given on
 * the command line, tests/.build/go1.XX/NAME): version, offsets source,
 * wait-reason names from the binary, function lookup and probe placement,
 * on the normal, stripped (-sw), PIE and cgo builds of parkzoo and cgozoo
 * (a stripped build gets its offsets and wait-reason names from the
 * built-in tables: both must equal what its unstripped twin has); and
 * refusal of files that are not Go programs. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gobin.h"
#include "prologue.h"
#include "tap.h"

static int minor_of(const char *path)
{
	const char *p = strstr(path, "/go1.");

	return p ? atoi(p + 5) : -1;
}

static void check_probe_point(const struct gobin *bin, const char *func,
			      int minor, const char *path)
{
	uint8_t code[32] = {};
	uint64_t entry, end;
	size_t off = 0;
	char what[256];

	snprintf(what, sizeof(what), "%s: %s found", path, func);
	if (!ASSERT_EQ(gobin__find_func(bin, func, &entry, &end), 0, what))
		return;
	snprintf(what, sizeof(what), "%s: %s prologue read", path, func);
	ASSERT_EQ(gobin__read(bin, entry, code, sizeof(code)), 0, what);
	snprintf(what, sizeof(what), "%s: %s probe point decoded", path, func);
	if (!ASSERT_EQ(prologue__probe_offset(gobin__arch(bin), code,
					      sizeof(code), &off), 0, what))
		return;
	/* 1.21+ pushes the frame pointer after the check; 1.19 has no push,
	 * so the jbe itself is probed. */
	snprintf(what, sizeof(what), "%s: %s probed at %s, not +0", path,
		 func, minor >= 21 ? "push rbp" : "jbe");
	ASSERT_TRUE(off > 0 && off < sizeof(code) &&
		    (minor >= 21 ? code[off] == 0x55 :
				   code[off] == 0x76 || code[off] == 0x0f),
		    what);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* A stripped build against its unstripped twin (the path without -sw):
 * same offsets, every wait-reason name at the same index. */
static void check_twin(const char *path, const struct gobin *bin)
{
	const char *errmsg = NULL;
	struct gobin *twin = NULL;
	char what[600], tpath[512];
	int fd, i, n, bad = 0;

	snprintf(tpath, sizeof(tpath), "%.*s", (int)strlen(path) - 3, path);
	fd = open(tpath, O_RDONLY);
	snprintf(what, sizeof(what), "%s: unstripped twin opens", path);
	if (!ASSERT_TRUE(fd >= 0 && !gobin__open(&twin, fd, &errmsg), what))
		goto out;
	snprintf(what, sizeof(what), "%s: table offsets equal the twin's "
		 "DWARF ones", path);
	ASSERT_TRUE(!memcmp(gobin__offsets(bin), gobin__offsets(twin),
			    sizeof(struct go_offsets)), what);
	n = gobin__wait_reason_count(twin);
	snprintf(what, sizeof(what), "%s: %d wait reasons, as the twin's "
		 "runtime.waitReasonStrings", path, n);
	ASSERT_EQ(gobin__wait_reason_count(bin), n, what);
	for (i = 0; i < n; i++)
		if (strcmp(gobin__wait_reason(bin, i),
			   gobin__wait_reason(twin, i))) {
			printf("#   %d: \"%s\" vs \"%s\"\n", i,
			       gobin__wait_reason(bin, i),
			       gobin__wait_reason(twin, i));
			bad++;
		}
	snprintf(what, sizeof(what), "%s: every wait-reason name equals the "
		 "twin's", path);
	ASSERT_EQ(bad, 0, what);
out:
	gobin__free(twin);
	if (fd >= 0)
		close(fd);
}

static void check_fixture(const char *path)
{
	const char *exit_func, *errmsg = NULL;
	struct gobin *bin = NULL;
	char what[256], want[16];
	int fd, minor = minor_of(path);
	bool stripped = ends_with(path, "-sw"), pie = ends_with(path, "-pie");

	fd = open(path, O_RDONLY);
	snprintf(what, sizeof(what), "%s: opens", path);
	if (!ASSERT_EQ(gobin__open(&bin, fd, &errmsg), 0, what)) {
		printf("#   %s\n", errmsg);
		close(fd);
		return;
	}
	snprintf(want, sizeof(want), "go1.%d.", minor);
	snprintf(what, sizeof(what), "%s: version %s*", path, want);
	ASSERT_TRUE(!strncmp(gobin__go_version(bin), want, strlen(want)), what);
	snprintf(what, sizeof(what), "%s: offsets from %s", path,
		 stripped ? "the table" : "DWARF");
	ASSERT_EQ(gobin__offsets_source(bin), stripped ? GOBIN_OFFSETS_TABLE :
			GOBIN_OFFSETS_DWARF, what);
	snprintf(what, sizeof(what), "%s: wait-reason names from %s", path,
		 stripped ? "the table" : "the binary");
	ASSERT_EQ(gobin__wait_reasons_source(bin), stripped ?
			GOBIN_WAIT_REASONS_TABLE : GOBIN_WAIT_REASONS_BINARY,
		  what);
	/* The numbering was reordered in 1.26 (fact sheet 0.1). */
	snprintf(what, sizeof(what), "%s: \"chan receive\" index", path);
	ASSERT_EQ(gobin__wait_reason_index(bin, "chan receive"),
		  minor >= 26 ? 19 : 14, what);
	snprintf(what, sizeof(what), "%s: \"select\" index", path);
	ASSERT_EQ(gobin__wait_reason_index(bin, "select"),
		  minor >= 26 ? 18 : 9, what);
	snprintf(what, sizeof(what), "%s: name of reason 0 is empty", path);
	ASSERT_STREQ(gobin__wait_reason(bin, 0), "", what);
	snprintf(what, sizeof(what), "%s: unknown reason named by number",
		 path);
	ASSERT_STREQ(gobin__wait_reason(bin, 250), "waitReason(250)", what);
	snprintf(what, sizeof(what), "%s: %sPIE", path, pie ? "" : "not ");
	ASSERT_EQ(gobin__is_pie(bin), pie, what);
	if (stripped)
		check_twin(path, bin);

	exit_func = minor >= 22 ? "runtime.gdestroy" : "runtime.goexit0";
	check_probe_point(bin, "runtime.gopark", minor, path);
	check_probe_point(bin, "runtime.ready", minor, path);
	check_probe_point(bin, "runtime.newproc1", minor, path);
	check_probe_point(bin, exit_func, minor, path);
	gobin__free(bin);
	close(fd);
}

static void check_refused(const char *path, const char *want_msg)
{
	const char *errmsg = NULL;
	struct gobin *bin = NULL;
	char what[256];
	int fd = open(path, O_RDONLY);

	snprintf(what, sizeof(what), "%s refused", path);
	ASSERT_TRUE(fd >= 0 && gobin__open(&bin, fd, &errmsg) < 0 && !bin,
		    what);
	snprintf(what, sizeof(what), "%s: message", path);
	ASSERT_STREQ(errmsg, want_msg, what);
	if (fd >= 0)
		close(fd);
}

/* Every prefix of a real Go binary at a few lengths: never a crash. */
static void check_truncated(const char *path)
{
	static const size_t lens[] = { 0, 63, 64, 1000, 4096, 65536, 1 << 20 };
	char tmp[] = "/tmp/glt-trunc-XXXXXX", what[256];
	const char *errmsg;
	struct gobin *bin;
	int in, out, err;
	size_t i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char *buf = malloc(lens[i] + 1);
		ssize_t n;

		in = open(path, O_RDONLY);
		out = mkstemp(tmp);
		n = pread(in, buf, lens[i], 0);
		if (n > 0 && write(out, buf, n) != n)
			n = -1;
		bin = NULL;
		err = gobin__open(&bin, out, &errmsg);
		snprintf(what, sizeof(what), "%zu-byte prefix refused cleanly",
			 lens[i]);
		ASSERT_TRUE(err < 0 && !bin && errmsg, what);
		close(in);
		close(out);
		unlink(tmp);
		strcpy(tmp, "/tmp/glt-trunc-XXXXXX");
		free(buf);
	}
}

int main(int argc, char **argv)
{
	const char *a_go_binary = NULL;
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		const char *base = strrchr(argv[i], '/');

		base = base ? base + 1 : argv[i];
		if ((strncmp(base, "parkzoo", 7) &&
		     strncmp(base, "cgozoo", 6)) || ends_with(base, "-arm64"))
			continue;
		check_fixture(argv[i]);
		a_go_binary = argv[i];
		n++;
	}
	if (!n)
		TAP_SKIP("no parkzoo/cgozoo fixtures given (run "
			 "tools/build-fixtures.sh)");
	check_refused("/bin/true", "not a Go program (no Go build info found)");
	check_refused("/etc/passwd", "not an ELF executable");
	check_refused("/dev/null", "not a readable file");
	if (a_go_binary)
		check_truncated(a_go_binary);
	return tap__done();
}
