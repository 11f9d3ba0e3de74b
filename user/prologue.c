// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include "prologue.h"

/* amd64 stack checks (Go ABIInternal, g in R14, stackguard0 at +0x10):
 *   small frame:  cmp rsp, [r14+0x10]                  49 3b 66 10
 *   large frame:  lea r12, [rsp-N]; cmp r12, [r14+0x10]
 *                 4c 8d 64 24 d8 | 4c 8d a4 24 d32, then 4d 3b 66 10
 * followed by jbe rel8 (76 xx) or jbe rel32 (0f 86 xx xx xx xx). */
static const uint8_t cmp_rsp[] = { 0x49, 0x3b, 0x66, 0x10 };
static const uint8_t cmp_r12[] = { 0x4d, 0x3b, 0x66, 0x10 };

static size_t match(const uint8_t *code, size_t len, size_t at,
		    const uint8_t *pat, size_t patlen)
{
	if (at > len || len - at < patlen || memcmp(code + at, pat, patlen))
		return 0;
	return patlen;
}

static int x86_probe_offset(const uint8_t *code, size_t len, size_t *offset)
{
	size_t at = 0, n;

	if ((n = match(code, len, 0, cmp_rsp, sizeof(cmp_rsp)))) {
		at = n;
	} else {
		if (len >= 5 && !memcmp(code, "\x4c\x8d\x64\x24", 4))
			at = 5;
		else if (len >= 8 && !memcmp(code, "\x4c\x8d\xa4\x24", 4))
			at = 8;
		else
			return -ENOENT;
		n = match(code, len, at, cmp_r12, sizeof(cmp_r12));
		if (!n)
			return -ENOENT;
		at += n;
	}
	/* at: the jbe. */
	if (at + 2 <= len && code[at] == 0x76)
		n = 2;
	else if (at + 6 <= len && code[at] == 0x0f && code[at + 1] == 0x86)
		n = 6;
	else
		return -ENOENT;
	/* Prefer `push rbp` just after it (Go 1.21+): it runs once per
	 * call, while the jbe runs again after a morestack round trip. */
	*offset = (at + n < len && code[at + n] == 0x55) ? at + n : at;
	return 0;
}

int prologue__probe_offset(enum gobin_arch arch, const uint8_t *code,
			   size_t len, size_t *offset)
{
	switch (arch) {
	case GOBIN_ARCH_X86_64:
		return x86_probe_offset(code, len, offset);
	default:
		return -ENOTSUP;
	}
}
