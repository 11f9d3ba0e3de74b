// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include "target.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* State letter from /proc/PID/stat, and whether it is a kernel thread. */
static int read_stat(pid_t pid, char *state, int *kthread, char *comm,
		     size_t commsz)
{
	char path[64], buf[1024], *open_paren, *close_paren;
	unsigned long flags = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* comm may contain spaces and parentheses: take the last ')'. */
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -EIO;
	snprintf(comm, commsz, "%.*s", (int)(close_paren - open_paren - 1),
		 open_paren + 1);
	/* ") S ppid pgrp session tty_nr tpgid flags" */
	if (sscanf(close_paren + 1, " %c %*d %*d %*d %*d %*d %lu", state,
		   &flags) != 2)
		return -EIO;
	*kthread = !!(flags & 0x00200000); /* PF_KTHREAD */
	return 0;
}

/* The last NSpid of /proc/PID/status: the PID in the target's own,
 * innermost namespace. Only shown to the user; every /proc path and
 * syscall takes the PID as our namespace numbers it. */
static pid_t read_ns_pid(pid_t pid)
{
	char path[64], line[256], *tok, *save = NULL, *end;
	pid_t ns_pid = pid;
	long v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return pid;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "NSpid:", 6))
			continue;
		for (tok = strtok_r(line + 6, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save)) {
			errno = 0;
			v = strtol(tok, &end, 10);
			if (errno || *end || v <= 0 || v > INT32_MAX)
				break;
			ns_pid = v;
		}
		break;
	}
	fclose(f);
	return ns_pid;
}

int target__open(struct target *t, pid_t pid, const char **errmsg)
{
	int kthread, err;
	char state;

	memset(t, 0, sizeof(*t));
	t->exe_fd = t->pidfd = -1;
	t->pid = pid;
	err = read_stat(pid, &state, &kthread, t->comm, sizeof(t->comm));
	if (err) {
		*errmsg = "no such process; check the PID (on a Kubernetes "
			  "node use the host PID, or --pod)";
		return -ESRCH;
	}
	if (kthread) {
		*errmsg = "this is a kernel thread, not a Go program";
		return -ENOEXEC;
	}
	if (state == 'Z' || state == 'X') {
		*errmsg = "the process has exited (zombie); nothing to trace";
		return -ESRCH;
	}
	t->ns_pid = read_ns_pid(pid);
	snprintf(t->exe_path, sizeof(t->exe_path), "/proc/%d/exe", pid);
	t->exe_fd = open(t->exe_path, O_RDONLY | O_CLOEXEC);
	if (t->exe_fd < 0) {
		err = -errno;
		*errmsg = err == -EACCES || err == -EPERM ?
			"cannot open the target's executable: run as root (or "
			"with CAP_SYS_PTRACE)" :
			"cannot open the target's executable";
		return err;
	}
	t->pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (t->pidfd < 0) {
		err = -errno;
		*errmsg = "cannot watch the process (pidfd_open needs Linux "
			  "5.3+)";
		target__close(t);
		return err;
	}
	return 0;
}

void target__close(struct target *t)
{
	if (t->exe_fd >= 0)
		close(t->exe_fd);
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->exe_fd = t->pidfd = -1;
}

enum target_state target__state(const struct target *t)
{
	struct pollfd pfd = { .fd = t->pidfd, .events = POLLIN };
	struct stat now, probed;
	char state, comm[32];
	int kthread;

	if (poll(&pfd, 1, 0) == 1 ||
	    read_stat(t->pid, &state, &kthread, comm, sizeof(comm)) ||
	    state == 'Z' || state == 'X')
		return TARGET_EXITED;
	/* After execve the probes sit on a file the process no longer
	 * runs: /proc/PID/exe names another inode. */
	if (!stat(t->exe_path, &now) && !fstat(t->exe_fd, &probed) &&
	    (now.st_ino != probed.st_ino || now.st_dev != probed.st_dev))
		return TARGET_EXECED;
	return state == 'T' || state == 't' ? TARGET_STOPPED : TARGET_RUNNING;
}

const char *target__state_name(enum target_state state)
{
	switch (state) {
	case TARGET_STOPPED:
		return "is stopped (SIGSTOP or a debugger); no events until it "
		       "continues, reports go on";
	case TARGET_EXITED:
		return "exited";
	case TARGET_EXECED:
		return "exec'd another program; the probes are gone with the "
		       "old one";
	default:
		return "is running again";
	}
}

int target__read(const struct target *t, uint64_t addr, void *buf,
		 size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr,
				.iov_len = len };
	ssize_t n;

	n = process_vm_readv(t->pid, &local, 1, &remote, 1, 0);
	return n == (ssize_t)len ? 0 : -EFAULT;
}

/* A number of at most max_digits digits in base 16 or 10 at *p, no
 * sign, no overflow; moves *p past it. */
static int parse_number(const char **p, const char *end, unsigned base,
			int max_digits, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	unsigned d;
	int n = 0;

	for (; s < end; s++, n++) {
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else
			break;
		if (n == max_digits || v > (UINT64_MAX - d) / base)
			return -EINVAL;
		v = v * base + d;
	}
	if (!n)
		return -EINVAL;
	*p = s;
	*out = v;
	return 0;
}

/* The character c at *p, then moves past it. */
static int expect(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return -EINVAL;
	(*p)++;
	return 0;
}

int target__parse_maps_line(const char *line, size_t len,
			    struct maps_entry *e)
{
	static const char perm_chars[4][2] = { "r-", "w-", "x-", "ps" };
	const char *p = line, *end = line + len;
	uint64_t major, minor;
	int i;

	memset(e, 0, sizeof(*e));
	if (parse_number(&p, end, 16, 16, &e->start) || expect(&p, end, '-') ||
	    parse_number(&p, end, 16, 16, &e->end) || expect(&p, end, ' ') ||
	    e->start >= e->end || end - p < 5)
		return -EINVAL;
	for (i = 0; i < 4; i++, p++) {
		if (*p != perm_chars[i][0] && *p != perm_chars[i][1])
			return -EINVAL;
		e->perms[i] = *p;
	}
	if (expect(&p, end, ' ') || parse_number(&p, end, 16, 16, &e->offset) ||
	    expect(&p, end, ' ') || parse_number(&p, end, 16, 8, &major) ||
	    expect(&p, end, ':') || parse_number(&p, end, 16, 8, &minor) ||
	    expect(&p, end, ' ') || parse_number(&p, end, 10, 20, &e->inode))
		return -EINVAL;
	e->dev_major = major;
	e->dev_minor = minor;
	/* Anonymous mappings end here; else padding, then the path. */
	if (p < end && expect(&p, end, ' '))
		return -EINVAL;
	while (p < end && *p == ' ')
		p++;
	e->path = p;
	e->path_len = end - p;
	return 0;
}

int target__maps_find(FILE *maps,
		      bool (*match)(const struct maps_entry *e, void *arg),
		      void *arg, struct maps_entry *e)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int err = -ENOENT;

	/* Whole lines, however long: a path that ran over a fixed buffer
	 * would be read as a line of its own, and the target names it. */
	errno = 0;
	while ((n = getline(&line, &cap, maps)) > 0) {
		if (line[n - 1] == '\n')
			n--;
		if (!target__parse_maps_line(line, n, e) && match(e, arg)) {
			err = 0;
			break;
		}
	}
	if (err && errno == ENOMEM)
		err = -ENOMEM;
	free(line);
	if (!err)
		e->path = NULL;
	return err;
}

static bool is_first_load(const struct maps_entry *e, void *inode)
{
	return e->inode == *(uint64_t *)inode && e->offset == 0;
}

int target__maps_load_bias(FILE *maps, uint64_t inode, uint64_t base_vaddr,
			   uint64_t *bias)
{
	struct maps_entry e;
	int err;

	err = target__maps_find(maps, is_first_load, &inode, &e);
	if (!err)
		*bias = e.start - base_vaddr;
	return err;
}

int target__find_load_bias(struct target *t, uint64_t base_vaddr)
{
	char path[64];
	struct stat st;
	FILE *f;
	int err;

	if (fstat(t->exe_fd, &st))
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/maps", t->pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* The executable's mapping at file offset 0 is its lowest PT_LOAD. */
	err = target__maps_load_bias(f, st.st_ino, base_vaddr, &t->load_bias);
	fclose(f);
	return err;
}
