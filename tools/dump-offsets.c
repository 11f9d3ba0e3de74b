// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Prints one row of user/gooffsets_table.inc from a Go binary's DWARF, or
 * one row of user/gowaitreasons_table.inc from its
 * runtime.waitReasonStrings (read through the gobin API, never the table).
 * Built and run by tools/gen-offsets-table.sh.
 *
 *   dump-offsets GO_VERSION BINARY   the row, e.g. dump-offsets go1.22.12 x
 *   dump-offsets --wait-reasons GO_VERSION BINARY
 *   dump-offsets --nfields           the number of fields per row */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "gobin.h"
#include "godwarf.h"
#include "gooffsets.h"

/* s as a C string literal. */
static void print_c_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < ' ' || c > '~')
			printf("\\%03o", c);
		else
			putchar(c);
	}
	putchar('"');
}

static int dump_wait_reasons(const char *version, int minor,
			     const char *path)
{
	const char *errmsg = NULL;
	struct gobin *bin = NULL;
	int fd, i, n, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "dump-offsets: %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	err = gobin__open(&bin, fd, &errmsg);
	if (err) {
		fprintf(stderr, "dump-offsets: %s: %s\n", path, errmsg);
		goto out;
	}
	/* The table is made from binaries, never from itself. */
	n = gobin__wait_reason_count(bin);
	if (gobin__wait_reasons_source(bin) != GOBIN_WAIT_REASONS_BINARY ||
	    n < 1 || strcmp(gobin__go_version(bin), version)) {
		fprintf(stderr, "dump-offsets: %s: no runtime."
			"waitReasonStrings of %s in its .symtab\n", path,
			version);
		err = -ENOENT;
		goto out;
	}
	printf("\t{\n\t\t.minor = %d,\n\t\t.go_version = ", minor);
	print_c_string(version);
	printf(",\n\t\t.n = %d,\n\t\t.names = (const char *const[]){\n",
	       n);
	for (i = 0; i < n; i++) {
		printf("\t\t\t");
		print_c_string(gobin__wait_reason(bin, i));
		printf(",\n");
	}
	printf("\t\t},\n\t},\n");
out:
	gobin__free(bin);
	close(fd);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *missing;
	struct go_offsets o;
	unsigned int i;
	int fd, err, minor, wait_reasons = 0;

	if (argc == 2 && !strcmp(argv[1], "--nfields")) {
		printf("%zu\n", GO_OFFSETS_FIELD_COUNT);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "--wait-reasons")) {
		argc--;
		argv++;
		wait_reasons = 1;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: dump-offsets [--wait-reasons] "
				"GO_VERSION BINARY\n"
				"       dump-offsets --nfields\n");
		return 2;
	}
	minor = go_offsets__version_minor(argv[1]);
	if (minor < 0) {
		fprintf(stderr, "dump-offsets: '%s' is not a Go 1.x release "
				"version\n", argv[1]);
		return 1;
	}
	if (wait_reasons)
		return dump_wait_reasons(argv[1], minor, argv[2]);
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "dump-offsets: %s: %s\n", argv[2],
			strerror(errno));
		return 1;
	}
	err = godwarf__read_offsets(fd, &o);
	close(fd);
	if (err) {
		fprintf(stderr, "dump-offsets: %s: reading DWARF: %s\n",
			argv[2], strerror(-err));
		return 1;
	}
	/* A row the tracer would refuse must not enter the table. */
	err = go_offsets__check(&o, &missing);
	if (err) {
		fprintf(stderr, "dump-offsets: %s: field %s: %s\n", argv[2],
			missing, strerror(-err));
		return 1;
	}
	printf("\t{\n\t\t.minor = %d,\n\t\t.go_version = \"%s\",\n"
	       "\t\t.off = {\n", minor, argv[1]);
	for (i = 0; i < GO_OFFSETS_FIELD_COUNT; i++)
		printf("\t\t\t.%s = %d,\n", go_offsets__field_name(i),
		       go_offsets__field(&o, i));
	printf("\t\t},\n\t},\n");
	return 0;
}
