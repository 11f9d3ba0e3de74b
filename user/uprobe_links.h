/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Uprobe links beyond what libbpf 1.1 offers: uprobe_multi links (Linux
 * 6.6+), one per binary for all its hooks, and a thread that destroys
 * links. Destroying a uprobe link waits for a grace period: 120-140 ms a
 * perf-event link here, and the kernel serializes them, so a binary's
 * four perf links keep some of its hooks live for ~0.4 s after the
 * detach began; a uprobe_multi link takes all its breakpoints out at
 * once and then waits 25-50 ms. Either way, the waiting is not done on
 * the thread that reports. */
#ifndef GOLEAKTRACE_UPROBE_LINKS_H
#define GOLEAKTRACE_UPROBE_LINKS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_link;

/* Whether the kernel has uprobe_multi links. */
bool uprobe_multi__supported(void);

/* The program must have been loaded with expected attach type
 * BPF_TRACE_UPROBE_MULTI (uprobe_multi__prepare before the load). */
struct bpf_program;
void uprobe_multi__prepare(struct bpf_program *prog);

/* Attaches prog at n file offsets of path, with one cookie each, in
 * process pid only (-1: in every process). Returns the link's fd, or
 * -errno. */
int uprobe_multi__attach(int prog_fd, const char *path, pid_t pid,
			 const uint64_t *offsets, const uint64_t *cookies,
			 uint32_t n);

/* Destroys links on a thread of its own, in the order handed over. */
struct link_reaper {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool started, stopping;
	struct link_reaper_item *items;	/* waiting */
	size_t n, cap;
	size_t busy;			/* being destroyed now */
	uint64_t idle_since_ns;		/* CLOCK_MONOTONIC: last one done */
};

void link_reaper__init(struct link_reaper *r);
/* Hands over a libbpf link (fd < 0) or a link fd (link NULL). When no
 * thread can be had, destroys it here and now. */
void link_reaper__put(struct link_reaper *r, struct bpf_link *link, int fd);
/* False once every link handed over is destroyed; then *idle_since_ns
 * (if not NULL) says since when. */
bool link_reaper__busy(struct link_reaper *r, uint64_t *idle_since_ns);
/* Destroys what is left, waiting for it, and stops the thread. */
void link_reaper__free(struct link_reaper *r);

#endif
