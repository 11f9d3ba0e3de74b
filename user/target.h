/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Target discovery: a PID becomes an open executable, a liveness handle
 * and a way to read the target's memory without stopping it. */
#ifndef GOLEAKTRACE_TARGET_H
#define GOLEAKTRACE_TARGET_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct target {
	pid_t pid;		/* in our PID namespace: all /proc use */
	pid_t ns_pid;		/* innermost NSpid: what its container sees */
	int exe_fd;		/* /proc/PID/exe, valid across mount ns */
	int pidfd;		/* readable when the process exits */
	char exe_path[64];	/* "/proc/PID/exe", what uprobes attach to */
	char comm[32];
	uint64_t load_bias;	/* runtime address - link-time address */
};

/* On failure *errmsg says what went wrong and what to do. */
int target__open(struct target *t, pid_t pid, const char **errmsg);
void target__close(struct target *t);

enum target_state {
	TARGET_RUNNING,
	TARGET_STOPPED,		/* SIGSTOP or a debugger: alive, no events */
	TARGET_EXITED,		/* gone or a zombie */
	TARGET_EXECED,		/* runs another executable than we probe */
};

enum target_state target__state(const struct target *t);
const char *target__state_name(enum target_state state);

/* Reads len bytes at addr in the target with process_vm_readv. 0, or
 * -EFAULT when any part could not be read. */
int target__read(const struct target *t, uint64_t addr, void *buf,
		 size_t len);

/* Load bias of the executable mapping whose first PT_LOAD is at link-time
 * address base_vaddr (0 for non-PIE binaries). */
int target__find_load_bias(struct target *t, uint64_t base_vaddr);

/* One line of /proc/PID/maps:
 * "start-end perms offset major:minor inode [path]". */
struct maps_entry {
	uint64_t start, end;	/* start < end */
	uint64_t offset;	/* file offset of start */
	uint64_t inode;
	uint32_t dev_major, dev_minor;
	char perms[5];		/* "r-xp" */
	const char *path;	/* points into the line; "" if anonymous */
	size_t path_len;	/* path is not NUL-terminated */
};

/* Parses the len bytes of one maps line (no '\n'; the target controls the
 * path, which may hold anything but a newline): 0, or -EINVAL for a line
 * that is not in the kernel's format. */
int target__parse_maps_line(const char *line, size_t len,
			    struct maps_entry *e);

/* The first line of a maps file that match accepts, in *e (e->path is
 * not valid after the call). Whole lines, however long. 0, -ENOENT if no
 * line matches, -ENOMEM. */
int target__maps_find(FILE *maps,
		      bool (*match)(const struct maps_entry *e, void *arg),
		      void *arg, struct maps_entry *e);

/* The load bias from a maps file: the mapping of inode at file offset 0
 * (the lowest PT_LOAD, base_vaddr) gives start - base_vaddr. 0, -ENOENT
 * if no line matches, -ENOMEM. */
int target__maps_load_bias(FILE *maps, uint64_t inode, uint64_t base_vaddr,
			   uint64_t *bias);

#endif
