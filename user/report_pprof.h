/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* pprof reporter: every report becomes a gzipped pprof profile that
 * `go tool pprof` reads like Go's own goroutine profile (sample types
 * goroutine/count, then parked/nanoseconds), one sample per group labelled
 * with its wait reason, class and creation site. Files are replaced
 * atomically; with a directory, every report gets its own file. */
#ifndef GOLEAKTRACE_REPORT_PPROF_H
#define GOLEAKTRACE_REPORT_PPROF_H

#include <stddef.h>
#include <stdint.h>
#include "gobin.h"
#include "gtable.h"
#include "report_term.h"
#include "target.h"

struct report_pprof;

/* path: a file (rewritten at every report), or a directory when it ends
 * in '/' (created if missing) or already is one: then each report is
 * written to DIR/goleaktrace-PID-YYYYMMDDTHHMMSS.mmmZ.pb.gz. Reads the
 * target's executable mapping now, while it surely runs. Never writes
 * through a link: refuses (one line on stderr, -ELOOP) a symlink at the
 * file, or a symlinked directory in a world-writable one (/tmp). */
int report_pprof__open(struct report_pprof **out, const char *path,
		       const struct target *t);
void report_pprof__free(struct report_pprof *r);

/* time_ns: wall clock of the report (CLOCK_REALTIME). Writes a new file,
 * DIR/.NAME.PID.tmp (O_EXCL|O_NOFOLLOW: one already there is refused),
 * then renames it to the file (a link planted there since open is
 * refused) or to a new name in DIR that replaces nothing. Prints what
 * failed and returns a negative errno. */
int report_pprof__write(struct report_pprof *r, const struct report_info *info,
			const struct gtable *gt, uint64_t time_ns);

/* The gzipped profile of one report in *buf (malloc'ed, the caller frees
 * it), without writing it anywhere. */
int report_pprof__encode(const struct report_pprof *r,
			 const struct report_info *info,
			 const struct gtable *gt, uint64_t time_ns,
			 uint8_t **buf, size_t *len);

/* Where the last report_pprof__write put its profile; "" before one. */
const char *report_pprof__last_path(const struct report_pprof *r);

/* --profile-dir DIR --keep N: a directory as with -o DIR/ (created if
 * missing), where report_pprof__prune keeps the newest keep profiles of
 * this process (by its pid; 0 = all of them). */
int report_pprof__open_window(struct report_pprof **out, const char *dir,
			      const struct target *t, unsigned keep);
/* Removes this process's oldest profiles beyond keep: only regular files
 * named as report_pprof__write names them. Prints what failed. */
int report_pprof__prune(struct report_pprof *r);

/* "main.spawnAll at /src/main.go:161" for a creation pc (runtime
 * address), "? at 0x..." when unknown: the created_by label of the
 * profiles, and of the metrics. */
void report_pprof__creator(const struct report_info *info, uint64_t gopc,
			   char *buf, size_t size);

#endif
