/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Minimal TAP producer for the C unit tests. Each check prints one
 * "ok N - what" / "not ok N - what" line with the actual and expected
 * values on failure, so tests/run.sh can count them. */
#ifndef GOLEAKTRACE_TAP_H
#define GOLEAKTRACE_TAP_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int tap__n, tap__failed;

static inline int tap__report(int ok, const char *what)
{
	printf("%sok %d - %s\n", ok ? "" : "not ", ++tap__n, what);
	if (!ok)
		tap__failed++;
	return ok;
}

#define ASSERT_TRUE(cond, what) tap__report(!!(cond), what)

#define ASSERT_EQ(actual, expected, what) ({				\
	long long a__ = (long long)(actual), e__ = (long long)(expected); \
	int ok__ = tap__report(a__ == e__, what);			\
	if (!ok__)							\
		printf("#   actual %lld (0x%llx), expected %lld (0x%llx)\n", \
		       a__, (unsigned long long)a__, e__,		\
		       (unsigned long long)e__);			\
	ok__; })

#define ASSERT_STREQ(actual, expected, what) ({				\
	const char *a__ = (actual), *e__ = (expected);			\
	int ok__ = tap__report(a__ && e__ && !strcmp(a__, e__), what);	\
	if (!ok__)							\
		printf("#   actual \"%s\", expected \"%s\"\n",		\
		       a__ ? a__ : "(null)", e__ ? e__ : "(null)");	\
	ok__; })

#define TAP_SKIP(why) printf("ok %d - # SKIP %s\n", ++tap__n, why)

/* How many times needle occurs in hay, not overlapping. */
static inline int tap__count_str(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* Print the plan last (TAP allows a trailing plan) and the exit status. */
static inline int tap__done(void)
{
	printf("1..%d\n", tap__n);
	return tap__failed ? 1 : 0;
}

#endif
