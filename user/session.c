// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "session.h"

struct not_go {
	dev_t dev;
	ino_t ino;
};

int session__open(struct session **out, pid_t pid, char *msg, size_t msglen)
{
	const char *why = NULL;
	struct session *s;
	int err;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->t.exe_fd = s->t.pidfd = -1;
	err = target__open(&s->t, pid, &why);
	if (err) {
		snprintf(msg, msglen, "failed to open target: %s", why);
		goto out;
	}
	err = gobin__open(&s->bin, s->t.exe_fd, &why);
	if (err) {
		snprintf(msg, msglen, "pid %d (%s): %s", s->t.pid, s->t.comm,
			 why);
		if (err != -ENOMEM)
			err = -ENOEXEC;
		goto out;
	}
	if (gobin__is_pie(s->bin))
		target__find_load_bias(&s->t, gobin__base_vaddr(s->bin));
	err = classifier__new(&s->cls, s->bin, s->t.load_bias);
	if (err)
		snprintf(msg, msglen, "pid %d: out of memory", s->t.pid);
out:
	if (err)
		session__free(s);
	else
		*out = s;
	return err;
}

void session__free(struct session *s)
{
	if (!s)
		return;
	report_pprof__free(s->pprof);
	classifier__free(s->cls);
	snapshot__free(&s->snap);
	gobin__free(s->bin);
	target__close(&s->t);
	free(s);
}

int session__start(struct session *s, uint64_t now_ns, bool watched,
		   const char **why)
{
	s->start_ns = now_ns;
	return snapshot__take(&s->snap, s->bin, &s->t, watched, why);
}

void session__rescan(struct session *s, bool watched)
{
	const char *why;

	if (snapshot__rescan(&s->snap, s->bin, &s->t, watched, &why))
		fprintf(stderr, "goleaktrace: warning: pid %d: %s\n", s->t.pid,
			why);
}

struct session *session_set__find(const struct session_set *set, pid_t pid)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->v[i]->t.pid == pid)
			return set->v[i];
	return NULL;
}

static bool known_not_go(const struct session_set *set, const struct stat *st)
{
	size_t i;

	for (i = 0; i < set->nnot_go; i++)
		if (set->not_go[i].dev == st->st_dev &&
		    set->not_go[i].ino == st->st_ino)
			return true;
	return false;
}

static int remember_not_go(struct session_set *set, const struct stat *st)
{
	struct not_go *v;

	v = realloc(set->not_go, (set->nnot_go + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	v[set->nnot_go++] = (struct not_go){ st->st_dev, st->st_ino };
	set->not_go = v;
	return 0;
}

int session_set__add(struct session_set *set, struct session *s)
{
	struct session **v;

	v = realloc(set->v, (set->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	v[set->n++] = s;
	set->v = v;
	return 0;
}

/* Whether one of pid's cgroups (any hierarchy) is cgroup or below it.
 * cgroup is a path as /proc/PID/cgroup shows it; a /sys/fs/cgroup (and
 * hybrid /unified) prefix is taken off. */
static bool in_cgroup(pid_t pid, const char *cgroup)
{
	char path[64], *line = NULL, *at;
	size_t cap = 0, len;
	bool found = false;
	FILE *f;

	if (!strncmp(cgroup, "/sys/fs/cgroup", 14))
		cgroup += 14;
	if (!strncmp(cgroup, "/unified/", 9))
		cgroup += 8;
	len = strlen(cgroup);
	while (len > 1 && cgroup[len - 1] == '/')
		len--;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		/* "ID:CONTROLLERS:PATH" */
		at = strchr(line, ':');
		at = at ? strchr(at + 1, ':') : NULL;
		if (!at)
			continue;
		at++;
		at[strcspn(at, "\n")] = '\0';
		found = (len == 1 && *cgroup == '/') ||
			(!strncmp(at, cgroup, len) &&
			 (at[len] == '\0' || at[len] == '/'));
	}
	free(line);
	fclose(f);
	return found;
}

/* Looks at one /proc entry: a new Go process joins the set. */
static int scan_pid(struct session_set *set, pid_t pid)
{
	struct session *s;
	char path[64], msg[256];
	struct stat st;
	int err;

	if (pid == getpid() || session_set__find(set, pid))
		return 0;
	if (set->cgroup && !in_cgroup(pid, set->cgroup))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	/* Kernel threads have no executable; gone processes neither. */
	if (stat(path, &st) || known_not_go(set, &st))
		return 0;
	err = session__open(&s, pid, msg, sizeof(msg));
	if (err == -ENOMEM)
		return err;
	if (err) {
		/* Only a binary we could read and reject is remembered: a
		 * process that went away tells nothing about its file. */
		if (err == -ENOEXEC)
			return remember_not_go(set, &st);
		return 0;
	}
	err = session_set__add(set, s);
	if (err)
		session__free(s);
	return err;
}

int session_set__scan(struct session_set *set, size_t *first_new)
{
	struct dirent *de;
	char *end;
	DIR *dir;
	long pid;
	int err = 0;

	*first_new = set->n;
	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while (!err && (de = readdir(dir))) {
		pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		err = scan_pid(set, pid);
	}
	closedir(dir);
	return err;
}

void session_set__remove(struct session_set *set, size_t i)
{
	session__free(set->v[i]);
	memmove(&set->v[i], &set->v[i + 1], (set->n - i - 1) * sizeof(*set->v));
	set->n--;
}

void session_set__free(struct session_set *set)
{
	while (set->n)
		session_set__remove(set, set->n - 1);
	free(set->v);
	free(set->not_go);
	*set = (struct session_set){};
}
