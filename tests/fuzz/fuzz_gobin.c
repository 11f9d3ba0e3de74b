// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target: a whole untrusted executable through Go binary
 * analysis — ELF headers and sections, .go.buildinfo, the pclntab and its
 * moduledata, DWARF struct offsets and the wait-reason table — exactly as
 * goleaktrace opens a target (from a file descriptor). */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include "gobin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pclntab_frame frames[8];
	struct gobin *bin = NULL;
	const char *errmsg;
	uint64_t entry, end;
	int fd;

	fd = memfd_create("fuzz-gobin", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size)
		goto out;
	if (gobin__open(&bin, fd, &errmsg))
		goto out;
	gobin__go_version(bin);
	gobin__wait_reason(bin, 3);
	if (!gobin__find_func(bin, "runtime.gopark", &entry, &end))
		gobin__symbolize(bin, entry, frames, 8);
	/* Stripped inputs decode runtime code for it (godata). */
	gobin__find_data(bin, "runtime.allglen", &entry, &end);
	gobin__free(bin);
out:
	close(fd);
	return 0;
}
