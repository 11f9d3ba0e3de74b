// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Dev tool: goleaktrace's symbolizer (user/gobin.c over the pclntab) from
 * a script, so that tests can hold it against `go tool addr2line` and the
 * runtime's own tracebacks. Built by `make` into .output/symbolize.
 *
 *   symbolize BINARY       PCs on stdin (hex, 0x optional, link-time
 *                          addresses), for each two lines as addr2line
 *                          prints them: the function that holds the PC,
 *                          then the innermost file:line ("?", "?:0" when
 *                          none)
 *   symbolize -i BINARY    every logical frame at each PC, innermost
 *                          first, "FUNC<TAB>FILE:LINE<TAB>FLAGS" (FLAGS:
 *                          inlined, wrapper, comma-separated, or -), then
 *                          an empty line
 *   symbolize -f BINARY    the function table, "ENTRY END NAME" (hex) */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gobin.h"

#define MAX_FRAMES 64

static void print_frames(const struct gobin *bin, uint64_t pc, bool all)
{
	struct pclntab_frame fr[MAX_FRAMES];
	int n, i;

	n = gobin__symbolize(bin, pc, fr, MAX_FRAMES);
	if (!all) {
		if (n < 1)
			printf("?\n?:0\n");
		else
			printf("%s\n%s:%d\n", fr[n - 1].func, fr[0].file,
			       fr[0].line);
		return;
	}
	for (i = 0; i < n; i++)
		printf("%s\t%s:%d\t%s\n", fr[i].func, fr[i].file, fr[i].line,
		       fr[i].inlined && fr[i].wrapper ? "inlined,wrapper" :
		       fr[i].inlined ? "inlined" :
		       fr[i].wrapper ? "wrapper" : "-");
	printf("\n");
}

static int list_funcs(const struct gobin *bin)
{
	const struct pclntab *tab = gobin__pclntab(bin);
	int i, n = pclntab__func_count(tab);

	for (i = 0; i < n; i++) {
		uint64_t entry, end;
		const char *name;

		if (pclntab__func_at(tab, i, &name, &entry, &end))
			return -EINVAL;
		printf("%" PRIx64 " %" PRIx64 " %s\n", entry, end, name);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *errmsg = NULL, *path;
	struct gobin *bin = NULL;
	char line[256], *endp;
	int fd, err, mode = 0;

	if (argc == 3 && (!strcmp(argv[1], "-i") || !strcmp(argv[1], "-f")))
		mode = argv[1][1];
	else if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: symbolize [-i | -f] BINARY < PCS\n");
		return 2;
	}
	path = argv[argc - 1];
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "symbolize: %s: %s\n", path, strerror(errno));
		return 1;
	}
	err = gobin__open(&bin, fd, &errmsg);
	if (err) {
		fprintf(stderr, "symbolize: %s: %s\n", path, errmsg);
		goto out;
	}
	if (mode == 'f') {
		err = list_funcs(bin);
		goto out;
	}
	while (fgets(line, sizeof(line), stdin)) {
		uint64_t pc;

		errno = 0;
		pc = strtoull(line, &endp, 16);
		if (errno || endp == line) {
			fprintf(stderr, "symbolize: not a hex address: %s",
				line);
			err = -EINVAL;
			goto out;
		}
		print_frames(bin, pc, mode == 'i');
	}
out:
	gobin__free(bin);
	close(fd);
	return err ? 1 : 0;
}
