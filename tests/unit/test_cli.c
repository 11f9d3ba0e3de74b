// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Duration parsing and formatting: what -t/-i/-d accept and reject. */
#include <errno.h>
#include "cli.h"
#include "tap.h"

static void check_parse(const char *s, int want_err, uint64_t want_ns)
{
	char what[96];
	uint64_t ns = 0;
	int err = cli__parse_duration(s, &ns);

	snprintf(what, sizeof(what), "parse \"%s\"", s);
	if (want_err) {
		ASSERT_TRUE(err < 0, what);
		return;
	}
	if (ASSERT_EQ(err, 0, what))
		ASSERT_EQ(ns, want_ns, what);
}

static void check_format(uint64_t ns, const char *want)
{
	char buf[32], what[64];

	cli__format_duration(ns, buf, sizeof(buf));
	snprintf(what, sizeof(what), "format %llu ns", (unsigned long long)ns);
	ASSERT_STREQ(buf, want, what);
}

int main(void)
{
	check_parse("500ms", 0, 500 * NSEC_PER_MSEC);
	check_parse("10s", 0, 10 * NSEC_PER_SEC);
	check_parse("5m", 0, 300 * NSEC_PER_SEC);
	check_parse("2h", 0, 7200 * NSEC_PER_SEC);
	check_parse("7", 0, 7 * NSEC_PER_SEC);
	check_parse("0s", 0, 0);
	check_parse("", 1, 0);
	check_parse("-1s", 1, 0);
	check_parse("+1s", 1, 0);
	check_parse("10x", 1, 0);
	check_parse("s", 1, 0);
	check_parse("1.5s", 1, 0);
	check_parse("10 s", 1, 0);
	check_parse("99999999999999999999s", 1, 0);
	check_parse("18446744073709551615h", 1, 0);

	check_format(250 * NSEC_PER_MSEC, "250ms");
	check_format(3200 * NSEC_PER_MSEC, "3.2s");
	check_format(59 * NSEC_PER_SEC, "59.0s");
	check_format(310 * NSEC_PER_SEC, "5m10s");
	check_format(3 * 3600 * NSEC_PER_SEC + 120 * NSEC_PER_SEC, "3h02m");
	return tap__done();
}
