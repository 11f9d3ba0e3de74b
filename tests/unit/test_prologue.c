// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Probe placement on the prologue shapes Go emits, and on the ones it
 * must refuse (never +0). The byte strings are real prologues from
 * `go tool objdump` of Go 1.19 and 1.22 binaries. */
#include <errno.h>
#include "prologue.h"
#include "tap.h"

static void check(const char *what, const uint8_t *code, size_t len,
		  int want_err, size_t want_off)
{
	size_t off = 0;
	int err = prologue__probe_offset(GOBIN_ARCH_X86_64, code, len, &off);

	if (want_err) {
		ASSERT_EQ(err, want_err, what);
		return;
	}
	if (ASSERT_EQ(err, 0, what))
		ASSERT_EQ(off, want_off, what);
}

int main(void)
{
	/* Go 1.21+: cmp rsp,[r14+0x10]; jbe rel8; push rbp */
	static const uint8_t small_push[] = { 0x49, 0x3b, 0x66, 0x10, 0x76,
					      0x5a, 0x55, 0x48, 0x89, 0xe5 };
	/* Go 1.19: cmp; jbe rel8; sub rsp,0x28 (no push) */
	static const uint8_t small_sub[] = { 0x49, 0x3b, 0x66, 0x10, 0x76,
					     0x5a, 0x48, 0x83, 0xec, 0x28 };
	/* jbe rel32 */
	static const uint8_t jbe32[] = { 0x49, 0x3b, 0x66, 0x10, 0x0f, 0x86,
					 0x10, 0x01, 0x00, 0x00, 0x55 };
	/* Large frame: lea r12,[rsp-0xa8]; cmp r12,[r14+0x10]; jbe; push */
	static const uint8_t large8[] = { 0x4c, 0x8d, 0x64, 0x24, 0xd8, 0x4d,
					  0x3b, 0x66, 0x10, 0x0f, 0x86, 0x01,
					  0x02, 0x00, 0x00, 0x55 };
	static const uint8_t large32[] = { 0x4c, 0x8d, 0xa4, 0x24, 0x58, 0xff,
					   0xff, 0xff, 0x4d, 0x3b, 0x66, 0x10,
					   0x76, 0x20, 0x48 };
	/* A frameless NOSPLIT function: no stack check at all. */
	static const uint8_t nosplit[] = { 0x48, 0x8b, 0x44, 0x24, 0x08, 0xc3 };
	static const uint8_t truncated[] = { 0x49, 0x3b, 0x66, 0x10 };

	check("small frame, push rbp after jbe", small_push,
	      sizeof(small_push), 0, 6);
	check("small frame, 1.19 style: probe the jbe", small_sub,
	      sizeof(small_sub), 0, 4);
	check("jbe rel32 then push", jbe32, sizeof(jbe32), 0, 10);
	check("large frame, lea disp8", large8, sizeof(large8), 0, 15);
	check("large frame, lea disp32, 1.19 style", large32, sizeof(large32),
	      0, 12);
	check("no stack check: refuse", nosplit, sizeof(nosplit), -ENOENT, 0);
	check("truncated: refuse", truncated, sizeof(truncated), -ENOENT, 0);
	check("empty: refuse", truncated, 0, -ENOENT, 0);
	{
		size_t off;

		ASSERT_EQ(prologue__probe_offset(GOBIN_ARCH_ARM64, small_push,
						 sizeof(small_push), &off),
			  -ENOTSUP, "arm64 not decoded yet");
	}
	return tap__done();
}
