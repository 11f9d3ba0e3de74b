/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One traced Go process and what goleaktrace keeps of it: the target, its
 * binary's analysis, the attach-time snapshot, the classifier's history
 * and its own pprof output. -p has one; --all has one per Go process. */
#ifndef GOLEAKTRACE_SESSION_H
#define GOLEAKTRACE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "classify.h"
#include "gobin.h"
#include "pod.h"
#include "report_pprof.h"
#include "snapshot.h"
#include "target.h"

struct session {
	struct target t;
	struct gobin *bin;
	struct snapshot snap;
	struct classifier *cls;
	struct report_pprof *pprof;	/* -o, else NULL */
	enum target_state state;
	uint64_t start_ns;		/* CLOCK_MONOTONIC of attach */
	struct pod_labels pod;		/* "" names when in no pod */
};

/* Opens pid and analyses its executable: -ENOEXEC when it is not a Go
 * program goleaktrace can trace. On failure msg holds one line (without
 * "goleaktrace: ") naming the process and the cause. */
int session__open(struct session **out, pid_t pid, char *msg, size_t msglen);
void session__free(struct session *s);

/* After the probes are in, so that no park falls in between: the
 * snapshot of goroutines parked before attach; watched when they are
 * attached (snapshot__take). A failed snapshot is a warning in *why
 * (returned as an error only when it is all there is). */
int session__start(struct session *s, uint64_t now_ns, bool watched,
		   const char **why);

/* Scan-only mode, and duty cycling after a gap: a fresh snapshot that
 * remembers since when each goroutine has been seen parked. A failed
 * scan keeps the last one. */
void session__rescan(struct session *s, bool watched);

/* The Go processes of the node for --all, as sessions; processes already
 * in the set are kept, gone ones are reported through on_gone and freed.
 * Binaries found not to be Go are remembered and not analysed again. */
struct session_set {
	struct session **v;
	size_t n;
	const char *cgroup;		/* --cgroup: only processes below it */
	struct not_go *not_go;		/* (dev, ino) of non-Go binaries */
	size_t nnot_go;
};

/* Adds the Go processes not yet in set; their indices start at *first_new.
 * Processes that cannot be read (exited meanwhile, no permission) are
 * skipped; this is a best effort over a changing /proc. */
int session_set__scan(struct session_set *set, size_t *first_new);
/* The session of pid, or NULL. */
struct session *session_set__find(const struct session_set *set, pid_t pid);
/* Takes s into the set (it frees it from then on). */
int session_set__add(struct session_set *set, struct session *s);
/* Removes and frees set->v[i]. */
void session_set__remove(struct session_set *set, size_t i);
void session_set__free(struct session_set *set);

#endif
