// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* /proc/PID/maps lines as the kernel writes them, and as a target can
 * shape them with the paths it maps; the load bias found in them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "target.h"
#include "tap.h"

static void check_line(const char *line, int want_err, const char *path)
{
	struct maps_entry e;
	char what[160];
	int err;

	err = target__parse_maps_line(line, strlen(line), &e);
	snprintf(what, sizeof(what), "%s \"%.100s\"",
		 want_err ? "rejects" : "parses", line);
	if (!ASSERT_EQ(err, want_err, what) || err)
		return;
	ASSERT_TRUE(e.path_len == strlen(path) &&
		    !memcmp(e.path, path, e.path_len), "its path");
}

int main(void)
{
	const char *exe = "5577606e6000-5577607d8000 r-xp 00001000 fe:00 "
			  "10994708                   /srv/app";
	struct maps_entry e;
	uint64_t bias = 0;
	FILE *f;

	if (ASSERT_EQ(target__parse_maps_line(exe, strlen(exe), &e), 0,
		      "parses an executable mapping")) {
		ASSERT_EQ(e.start, 0x5577606e6000ULL, "start");
		ASSERT_EQ(e.end, 0x5577607d8000ULL, "end");
		ASSERT_EQ(e.offset, 0x1000ULL, "offset");
		ASSERT_EQ(e.dev_major, 0xfeU, "device major");
		ASSERT_EQ(e.dev_minor, 0U, "device minor");
		ASSERT_EQ(e.inode, 10994708ULL, "inode");
		ASSERT_STREQ(e.perms, "r-xp", "perms");
	}
	check_line("7f00-7f01 rw-p 00000000 00:00 0", 0, "");
	check_line("7f00-7f01 rw-p 00000000 00:00 0 ", 0, "");
	check_line("7f00-7f01 r--s 00000000 00:01 5 /a b (deleted)", 0,
		   "/a b (deleted)");
	check_line("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0"
		   "                  [vsyscall]", 0, "[vsyscall]");
	check_line("", -EINVAL, NULL);
	check_line("7f01-7f00 rw-p 00000000 00:00 0", -EINVAL, NULL);
	check_line("7f00-7f00 rw-p 00000000 00:00 0", -EINVAL, NULL);
	check_line("7f00-7f01 rwxq 00000000 00:00 0", -EINVAL, NULL);
	check_line("7f00-7f01 rw-p 00000000 00:00", -EINVAL, NULL);
	check_line("7f00-7f01 rw-p 00000000 0000 0", -EINVAL, NULL);
	check_line("7f00-7f01 rw-p 00000000 00:00 0x1", -EINVAL, NULL);
	check_line("10000000000000000-7f01 rw-p 0 0:0 0", -EINVAL, NULL);
	check_line("7f00-7f01 rw-p 0 0:0 99999999999999999999", -EINVAL, NULL);
	check_line("-7f01 rw-p 0 0:0 0", -EINVAL, NULL);

	/* A path that holds a whole fake line, long enough to run past any
	 * fixed line buffer, must not be taken for the executable. */
	f = tmpfile();
	if (f) {
		fprintf(f, "00400000-00401000 r--p 00000000 08:01 42 /tmp/");
		for (int i = 0; i < 5000; i++)
			fputc('a', f);
		fprintf(f, " 00500000-00600000 r-xp 00000000 08:01 7 /fake\n"
			   "00700000-00800000 r-xp 00000000 08:01 7 /real\n");
		rewind(f);
		ASSERT_EQ(target__maps_load_bias(f, 7, 0x400000, &bias), 0,
			  "finds the executable behind a long path");
		ASSERT_EQ(bias, 0x300000ULL, "load bias of the real mapping");
		rewind(f);
		ASSERT_EQ(target__maps_load_bias(f, 8, 0x400000, &bias),
			  -ENOENT, "no mapping of another inode");
		fclose(f);
	}
	return tap__done();
}
