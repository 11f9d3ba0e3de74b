// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Prints one row of user/gooffsets_table.inc from a Go binary's DWARF.
 * Built and run by tools/gen-offsets-table.sh.
 *
 *   dump-offsets GO_VERSION BINARY   the row, e.g. dump-offsets go1.22.12 x
 *   dump-offsets --nfields           the number of fields per row */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "godwarf.h"
#include "gooffsets.h"

int main(int argc, char **argv)
{
	const char *missing;
	struct go_offsets o;
	unsigned int i;
	int fd, err, minor;

	if (argc == 2 && !strcmp(argv[1], "--nfields")) {
		printf("%zu\n", GO_OFFSETS_FIELD_COUNT);
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: dump-offsets GO_VERSION BINARY\n"
				"       dump-offsets --nfields\n");
		return 2;
	}
	minor = go_offsets__version_minor(argv[1]);
	if (minor < 0) {
		fprintf(stderr, "dump-offsets: '%s' is not a Go 1.x release "
				"version\n", argv[1]);
		return 1;
	}
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
