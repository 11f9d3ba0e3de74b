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

int target__find_load_bias(struct target *t, uint64_t base_vaddr)
{
	unsigned long long start, off, inode;
	char path[64], line[512];
	struct stat st;
	FILE *f;
	int err = -ENOENT;

	if (fstat(t->exe_fd, &st))
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/maps", t->pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* The executable's mapping at file offset 0 is its lowest PT_LOAD. */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%*x %*s %llx %*s %llu", &start, &off,
			   &inode) != 3)
			continue;
		if (inode != st.st_ino || off != 0)
			continue;
		t->load_bias = start - base_vaddr;
		err = 0;
		break;
	}
	fclose(f);
	return err;
}
