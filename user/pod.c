// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Pods on a node from the kubelet's log tree and /proc/PID/cgroup. Every
 * name read here comes from the node (directory names, link targets,
 * cgroup paths that a container can choose in part), so each parser
 * checks lengths and the Kubernetes name rules before copying. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "gobin.h"
#include "pod.h"

#define CGROUP_FILE_MAX 16384	/* v1 lists a line per hierarchy */
#define ID_HEX 64
#define ID_MIN_PREFIX 6		/* the kubelet's own minimum */
#define LINK_NAME_MAX 255	/* the kubelet cuts link names to this */

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool all_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_hex(s[i]))
			return false;
	return true;
}

/* A pod UID: a UUID (8-4-4-4-12) or, for static pods, 32 hex digits.
 * sep is '-' as the API writes it, '_' inside systemd slice names. */
static bool valid_uid(const char *s, size_t n, char sep)
{
	size_t i;

	if (n == 32)
		return all_hex(s, n);
	if (n != 36)
		return false;
	for (i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != sep)
				return false;
		} else if (!is_hex(s[i])) {
			return false;
		}
	}
	return true;
}

/* DNS-1123 label (namespaces, containers) or, with dots, subdomain (pod
 * names): lower-case alphanumerics and '-', alphanumeric at both ends. */
static bool valid_dns(const char *s, size_t n, size_t max, bool dots)
{
	size_t i;

	if (n == 0 || n > max || !is_lower_alnum(s[0]) ||
	    !is_lower_alnum(s[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-' &&
		    !(dots && s[i] == '.'))
			return false;
	return true;
}

static bool valid_namespace(const char *s, size_t n)
{
	return valid_dns(s, n, POD_NAMESPACE_SIZE - 1, false);
}

static bool valid_name(const char *s, size_t n)
{
	return valid_dns(s, n, POD_NAME_SIZE - 3, true);
}

static bool valid_container(const char *s, size_t n)
{
	return valid_dns(s, n, POD_CONTAINER_SIZE - 1, false);
}

bool pod__valid_container(const char *s)
{
	return s && valid_container(s, strlen(s));
}

/* Copies n bytes that the caller checked to fit. */
static void copy(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int pod__parse_ref(const char *s, char namespace[POD_NAMESPACE_SIZE],
		   char name[POD_NAME_SIZE])
{
	const char *slash = s ? strchr(s, '/') : NULL;
	size_t nslen, len;

	if (!slash)
		return -EINVAL;
	nslen = slash - s;
	len = strlen(slash + 1);
	if (!valid_namespace(s, nslen) || !valid_name(slash + 1, len))
		return -EINVAL;
	copy(namespace, s, nslen);
	copy(name, slash + 1, len);
	return 0;
}

/* "pod<uid>" (cgroupfs driver) or "<parents>-pod<uid_with_underscores>
 * .slice" (systemd driver, which turns the UID's dashes into '_'): the
 * pod's own cgroup. */
static bool pod_component(const char *c, size_t n, char uid[POD_UID_SIZE])
{
	const char *dash, *u;
	size_t i, ulen;

	if (n > 3 && !memcmp(c, "pod", 3) && valid_uid(c + 3, n - 3, '-')) {
		copy(uid, c + 3, n - 3);
		return true;
	}
	if (n < 6 || memcmp(c + n - 6, ".slice", 6))
		return false;
	n -= 6;
	dash = memrchr(c, '-', n);
	if (!dash)
		return false;
	u = dash + 1;
	ulen = c + n - u;
	if (ulen < 3 || memcmp(u, "pod", 3) || !valid_uid(u + 3, ulen - 3, '_'))
		return false;
	copy(uid, u + 3, ulen - 3);
	for (i = 0; uid[i]; i++)
		if (uid[i] == '_')
			uid[i] = '-';
	return true;
}

/* The cgroup just below the pod's: "<id>" (cgroupfs: containerd,
 * Docker), "crio-<id>" (CRI-O, cgroupfs), "cri-containerd-<id>.scope",
 * "crio-<id>.scope", "docker-<id>.scope" (systemd). */
static bool container_component(const char *c, size_t n, char id[POD_ID_SIZE])
{
	const char *dash, *start;

	if (n > 6 && !memcmp(c + n - 6, ".scope", 6))
		n -= 6;
	dash = memrchr(c, '-', n);
	start = dash ? dash + 1 : c;
	if ((size_t)(c + n - start) != ID_HEX || !all_hex(start, ID_HEX))
		return false;
	/* CRI-O's conmon watches a container from a cgroup of its own. */
	if (dash && dash - c >= 6 && !memcmp(dash - 6, "conmon", 6))
		return false;
	copy(id, start, ID_HEX);
	return true;
}

static bool all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

/* The length of the path component at p (after any slashes, skipped
 * into *p), up to end. */
static size_t next_component(const char **p, const char *end)
{
	const char *slash;

	while (*p < end && **p == '/')
		(*p)++;
	slash = memchr(*p, '/', end - *p);
	return (slash ? slash : end) - *p;
}

int pod__parse_cgroup_line(const char *line, size_t len,
			   struct pod_cgroup *cg)
{
	const char *end = line + len, *c1, *c2, *p;
	size_t n;

	memset(cg, 0, sizeof(*cg));
	if (len && line[len - 1] == '\n')
		end--;
	c1 = memchr(line, ':', end - line);
	if (!c1 || !all_digits(line, c1 - line))
		return -EINVAL;
	c2 = memchr(c1 + 1, ':', end - c1 - 1);
	if (!c2 || c2 + 1 >= end || c2[1] != '/')
		return -EINVAL;
	/* Any depth: a cgroup namespace shows "/../.." above it, kind and
	 * nested setups put kubepods under another cgroup. */
	for (p = c2 + 1; (n = next_component(&p, end)); p += n) {
		if (!pod_component(p, n, cg->uid))
			continue;
		/* Runtimes may nest more below the container's cgroup
		 * (CRI-O on cgroup v2: "crio-<id>.scope/container"). */
		p += n;
		n = next_component(&p, end);
		container_component(p, n, cg->id);
		return 0;
	}
	return -ENOENT;
}

int pod__parse_cgroup(const char *text, size_t len, struct pod_cgroup *cg)
{
	const char *p = text, *end = text + len, *nl;
	struct pod_cgroup line;
	bool found = false;

	memset(cg, 0, sizeof(*cg));
	while (p < end) {
		nl = memchr(p, '\n', end - p);
		if (!pod__parse_cgroup_line(p, (nl ? nl : end) - p, &line)) {
			if (line.id[0] || !found)
				*cg = line;
			if (line.id[0])
				return 0;
			found = true;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return found ? 0 : -ENOENT;
}

int pod__read_cgroup(pid_t pid, struct pod_cgroup *cg)
{
	char path[64], *buf, *nl;
	size_t n = 0;
	ssize_t r = 0;
	int fd, err;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(CGROUP_FILE_MAX);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (n < CGROUP_FILE_MAX &&
	       (r = read(fd, buf + n, CGROUP_FILE_MAX - n)) > 0)
		n += r;
	err = r < 0 ? -errno : 0;
	/* A file cut by the buffer ends in a partial line: drop it. */
	if (n == CGROUP_FILE_MAX) {
		nl = memrchr(buf, '\n', n);
		n = nl ? (size_t)(nl - buf) : 0;
	}
	if (!err)
		err = pod__parse_cgroup(buf, n, cg);
	free(buf);
	close(fd);
	return err;
}

int pod__parse_pod_dir(const char *dir, char namespace[POD_NAMESPACE_SIZE],
		       char name[POD_NAME_SIZE], char uid[POD_UID_SIZE])
{
	size_t len = strlen(dir);
	const char *u1 = memchr(dir, '_', len), *u2 = memrchr(dir, '_', len);
	size_t nlen, ulen;

	if (!u1 || u1 == u2)
		return -EINVAL;
	nlen = u2 - u1 - 1;
	ulen = dir + len - u2 - 1;
	if (!valid_namespace(dir, u1 - dir) || !valid_name(u1 + 1, nlen) ||
	    !valid_uid(u2 + 1, ulen, '-'))
		return -EINVAL;
	copy(namespace, dir, u1 - dir);
	copy(name, u1 + 1, nlen);
	copy(uid, u2 + 1, ulen);
	return 0;
}

/* ".../<ns>_<name>_<uid>/<container>/<restarts>.log", the target of a
 * /var/log/containers link. */
static int parse_link_target(const char *target,
			     char namespace[POD_NAMESPACE_SIZE],
			     char name[POD_NAME_SIZE], char uid[POD_UID_SIZE],
			     char container[POD_CONTAINER_SIZE])
{
	size_t len = strlen(target);
	const char *s1, *s2, *s3, *dir;
	char buf[POD_NAMESPACE_SIZE + POD_NAME_SIZE + POD_UID_SIZE];

	s1 = memrchr(target, '/', len);
	s2 = s1 ? memrchr(target, '/', s1 - target) : NULL;
	if (!s2)
		return -EINVAL;
	s3 = memrchr(target, '/', s2 - target);
	dir = s3 ? s3 + 1 : target;
	if ((size_t)(s2 - dir) >= sizeof(buf) ||
	    !valid_container(s2 + 1, s1 - s2 - 1))
		return -EINVAL;
	copy(buf, dir, s2 - dir);
	if (pod__parse_pod_dir(buf, namespace, name, uid))
		return -EINVAL;
	copy(container, s2 + 1, s1 - s2 - 1);
	return 0;
}

int pod__parse_log_link(const char *entry, const char *target,
			struct pod_log_link *link)
{
	char ns[POD_NAMESPACE_SIZE], name[POD_NAME_SIZE];
	char prefix[POD_NAME_SIZE + POD_NAMESPACE_SIZE + POD_CONTAINER_SIZE];
	size_t len = strlen(entry), base, plen, idlen;
	bool cut = len >= LINK_NAME_MAX;
	const char *u1, *u2, *dash, *id;
	int n;

	memset(link, 0, sizeof(*link));
	if (len < 4 || strcmp(entry + len - 4, ".log"))
		return -EINVAL;
	base = len - 4;
	if (target && !parse_link_target(target, ns, name, link->uid,
					 link->container)) {
		/* "<name>_<ns>_<container>-<id>", maybe cut inside <id>. */
		n = snprintf(prefix, sizeof(prefix), "%s_%s_%s-", name, ns,
			     link->container);
		plen = n;
		if (n < 0 || plen >= sizeof(prefix) || plen > base ||
		    memcmp(entry, prefix, plen))
			goto bad;
		id = entry + plen;
	} else {
		/* No usable target: the name alone, if it was not cut. */
		u1 = memchr(entry, '_', base);
		u2 = u1 ? memchr(u1 + 1, '_', entry + base - u1 - 1) : NULL;
		dash = u2 ? memrchr(u2 + 1, '-', entry + base - u2 - 1) : NULL;
		if (cut || !dash || !valid_name(entry, u1 - entry) ||
		    !valid_namespace(u1 + 1, u2 - u1 - 1) ||
		    !valid_container(u2 + 1, dash - u2 - 1))
			goto bad;
		copy(link->container, u2 + 1, dash - u2 - 1);
		id = dash + 1;
	}
	idlen = entry + base - id;
	if (idlen > ID_HEX || idlen < (cut ? ID_MIN_PREFIX : ID_HEX) ||
	    !all_hex(id, idlen))
		goto bad;
	copy(link->id, id, idlen);
	return 0;
bad:
	memset(link, 0, sizeof(*link));
	return -EINVAL;
}

/* ---- the index ---------------------------------------------------------- */

struct pod_entry {
	char namespace[POD_NAMESPACE_SIZE];
	char name[POD_NAME_SIZE];
	char uid[POD_UID_SIZE];
	char (*containers)[POD_CONTAINER_SIZE];
	size_t ncontainers;
};

struct pod_index {
	struct pod_entry *pods;
	size_t npods, pods_cap;
	struct pod_log_link *links;
	size_t nlinks, links_cap;
};

/* Room for one more element in *v (n used of *cap). */
static int grow(void *v, size_t *cap, size_t n, size_t size)
{
	void **pv = v, *nv;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap > SIZE_MAX / size)
		return -ENOMEM;
	nv = realloc(*pv, ncap * size);
	if (!nv)
		return -ENOMEM;
	*pv = nv;
	*cap = ncap;
	return 0;
}

static bool is_dir(int dirfd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return !fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) &&
	       S_ISDIR(st.st_mode);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The container directories of one pod directory. */
static int load_containers(struct pod_entry *pod, int pods_fd,
			   const char *dir)
{
	size_t cap = 0;
	struct dirent *de;
	DIR *d;
	int fd, err = 0;

	fd = openat(pods_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* removed meanwhile: a pod without names */
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	while (!err && (de = readdir(d))) {
		if (!valid_container(de->d_name, strlen(de->d_name)) ||
		    !is_dir(fd, de))
			continue;
		err = grow(&pod->containers, &cap, pod->ncontainers,
			   sizeof(*pod->containers));
		if (!err)
			snprintf(pod->containers[pod->ncontainers++],
				 POD_CONTAINER_SIZE, "%s", de->d_name);
	}
	closedir(d);
	/* Sorted, so that messages list them the same way every time. */
	if (pod->ncontainers)
		qsort(pod->containers, pod->ncontainers,
		      sizeof(*pod->containers), cmp_str);
	return err;
}

static int load_pods(struct pod_index *idx, const char *path)
{
	struct pod_entry *pod;
	struct dirent *de;
	DIR *d;
	int err = 0;

	d = opendir(path);
	if (!d)
		return -errno;
	while (!err && (de = readdir(d))) {
		err = grow(&idx->pods, &idx->pods_cap, idx->npods,
			   sizeof(*idx->pods));
		if (err)
			break;
		pod = &idx->pods[idx->npods];
		memset(pod, 0, sizeof(*pod));
		if (pod__parse_pod_dir(de->d_name, pod->namespace, pod->name,
				       pod->uid) || !is_dir(dirfd(d), de))
			continue;
		idx->npods++;
		err = load_containers(pod, dirfd(d), de->d_name);
	}
	closedir(d);
	return err;
}

static int load_links(struct pod_index *idx, const char *path)
{
	char target[PATH_MAX];
	struct dirent *de;
	ssize_t n;
	DIR *d;
	int err = 0;

	d = opendir(path);
	if (!d)
		return 0;	/* only costs container names */
	while (!err && (de = readdir(d))) {
		err = grow(&idx->links, &idx->links_cap, idx->nlinks,
			   sizeof(*idx->links));
		if (err)
			break;
		n = readlinkat(dirfd(d), de->d_name, target,
			       sizeof(target) - 1);
		if (n >= 0)
			target[n] = '\0';
		if (!pod__parse_log_link(de->d_name, n >= 0 ? target : NULL,
					 &idx->links[idx->nlinks]))
			idx->nlinks++;
	}
	closedir(d);
	return err;
}

/* HOST/rel, with HOST's trailing slashes dropped ("/" becomes ""). */
static int host_path(const char *host_root, const char *rel, char *buf,
		     size_t size)
{
	size_t len = strlen(host_root);
	int n;

	while (len && host_root[len - 1] == '/')
		len--;
	n = snprintf(buf, size, "%.*s/%s", (int)len, host_root, rel);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

void pod_index__free(struct pod_index *idx)
{
	size_t i;

	if (!idx)
		return;
	for (i = 0; i < idx->npods; i++)
		free(idx->pods[i].containers);
	free(idx->pods);
	free(idx->links);
	free(idx);
}

int pod_index__load(struct pod_index **out, const char *host_root)
{
	struct pod_index *idx;
	char path[PATH_MAX];
	int err;

	*out = NULL;
	idx = calloc(1, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	err = host_path(host_root, "var/log/pods", path, sizeof(path));
	if (!err)
		err = load_pods(idx, path);
	if (!err)
		err = host_path(host_root, "var/log/containers", path,
				sizeof(path));
	if (!err)
		err = load_links(idx, path);
	if (err) {
		pod_index__free(idx);
		return err;
	}
	*out = idx;
	return 0;
}

static const struct pod_entry *find_pod(const struct pod_index *idx,
					const char *uid)
{
	size_t i;

	for (i = 0; i < idx->npods; i++)
		if (!strcmp(idx->pods[i].uid, uid))
			return &idx->pods[i];
	return NULL;
}

static const char *container_name(const struct pod_index *idx,
				  const struct pod_entry *pod, const char *id)
{
	const struct pod_log_link *l;
	bool linked = false;
	size_t i;

	if (!id[0])
		return "";
	for (i = 0; i < idx->nlinks; i++) {
		l = &idx->links[i];
		if (l->uid[0] && strcmp(l->uid, pod->uid))
			continue;
		if (!strncmp(id, l->id, strlen(l->id)))
			return l->container;
		linked |= l->uid[0] != '\0';
	}
	/* The pod's containers have links but not this one: its sandbox
	 * (pause). A node that keeps no links: a pod with one container
	 * directory runs only that, besides the sandbox (not Go). */
	return !linked && pod->ncontainers == 1 ? pod->containers[0] : "";
}

int pod_index__labels_of(const struct pod_index *idx,
			 const struct pod_cgroup *cg, struct pod_labels *labels)
{
	const struct pod_entry *pod = find_pod(idx, cg->uid);

	memset(labels, 0, sizeof(*labels));
	if (!cg->uid[0] || !pod)
		return -ENOENT;
	memcpy(labels->namespace, pod->namespace, sizeof(labels->namespace));
	memcpy(labels->name, pod->name, sizeof(labels->name));
	snprintf(labels->container, sizeof(labels->container), "%s",
		 container_name(idx, pod, cg->id));
	return 0;
}

int pod_index__labels(const struct pod_index *idx, pid_t pid,
		      struct pod_labels *labels)
{
	struct pod_cgroup cg;
	int err;

	memset(labels, 0, sizeof(*labels));
	err = pod__read_cgroup(pid, &cg);
	return err ? err : pod_index__labels_of(idx, &cg, labels);
}

/* ---- --pod NS/NAME ------------------------------------------------------ */

struct pod_proc {
	pid_t pid;
	char container[POD_CONTAINER_SIZE];
	char comm[32];
	char version[64];	/* "" when goleaktrace cannot trace it */
	const char *why;	/* then: why not */
};

struct resolve {
	const struct pod_index *idx;
	char namespace[POD_NAMESPACE_SIZE];
	char name[POD_NAME_SIZE];
	const char *container;	/* -c, or NULL */
	struct pod_proc *procs;	/* of the pod (and container, with -c) */
	size_t n, cap;
	size_t in_pod;		/* processes of the pod, any container */
	size_t unnamed;		/* with -c: of those, in no named container */
	size_t ngo;		/* procs goleaktrace can trace */
};

static void read_comm(pid_t pid, char *comm, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(comm, size, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, comm, size - 1);
	close(fd);
	if (n <= 0)
		return;
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

/* A process of the pod: traceable if its executable is a Go binary that
 * goleaktrace reads (the same analysis -p does). */
static int resolve__add(struct resolve *r, pid_t pid,
			const struct pod_labels *labels)
{
	struct gobin *bin = NULL;
	struct pod_proc *p;
	char path[64];
	int fd, err;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* exited meanwhile, or no executable */
	err = grow(&r->procs, &r->cap, r->n, sizeof(*r->procs));
	if (err)
		goto out;
	p = &r->procs[r->n++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	memcpy(p->container, labels->container, sizeof(p->container));
	read_comm(pid, p->comm, sizeof(p->comm));
	err = gobin__open(&bin, fd, &p->why);
	if (err == -ENOMEM)
		goto out;
	err = 0;
	if (bin) {
		snprintf(p->version, sizeof(p->version), "%s",
			 gobin__go_version(bin));
		r->ngo++;
	} else if (!p->why) {
		p->why = "cannot read its executable";
	}
out:
	gobin__free(bin);
	close(fd);
	return err;
}

static int resolve__scan(struct resolve *r)
{
	struct pod_labels labels;
	struct pod_cgroup cg;
	struct dirent *de;
	unsigned long v;
	char *end;
	DIR *d;
	int err = 0;

	d = opendir("/proc");
	if (!d)
		return -errno;
	while (!err && (de = readdir(d))) {
		errno = 0;
		v = strtoul(de->d_name, &end, 10);
		if (errno || *end || v == 0 || v > INT_MAX ||
		    (pid_t)v == getpid())
			continue;
		if (pod__read_cgroup(v, &cg) ||
		    pod_index__labels_of(r->idx, &cg, &labels) ||
		    strcmp(labels.namespace, r->namespace) ||
		    strcmp(labels.name, r->name))
			continue;
		r->in_pod++;
		if (r->container && strcmp(labels.container, r->container)) {
			r->unnamed += !labels.container[0];
			continue;
		}
		err = resolve__add(r, v, &labels);
	}
	closedir(d);
	return err;
}

static int cmp_pid(const void *a, const void *b)
{
	const struct pod_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void print_procs(FILE *msgs, const struct resolve *r, bool go_only)
{
	const struct pod_proc *p;

	for (p = r->procs; p < r->procs + r->n; p++) {
		if (go_only && !p->version[0])
			continue;
		fprintf(msgs, "goleaktrace:   pid %-7d container %-15s "
			"%-15s %s\n", p->pid, p->container[0] ? p->container :
			"?", p->comm, p->version[0] ? p->version : p->why);
	}
}

/* Whether the traceable processes are in more than one named container,
 * so that -c would choose among them. */
static bool several_containers(const struct resolve *r)
{
	const char *first = NULL;
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (!r->procs[i].version[0] || !r->procs[i].container[0])
			continue;
		if (first && strcmp(first, r->procs[i].container))
			return true;
		first = r->procs[i].container;
	}
	return false;
}

static bool pod_has_container(const struct pod_index *idx, const char *ns,
			      const char *name, const char *container)
{
	const struct pod_entry *pod;
	size_t j;

	for (pod = idx->pods; pod < idx->pods + idx->npods; pod++) {
		if (strcmp(pod->namespace, ns) || strcmp(pod->name, name))
			continue;
		for (j = 0; j < pod->ncontainers; j++)
			if (!strcmp(pod->containers[j], container))
				return true;
	}
	return false;
}

/* "a, b, c": the pod's container directories, for a message. */
static void print_containers(FILE *msgs, const struct pod_index *idx,
			     const char *ns, const char *name)
{
	const struct pod_entry *pod;
	const char *sep = "";
	size_t j;

	for (pod = idx->pods; pod < idx->pods + idx->npods; pod++) {
		if (strcmp(pod->namespace, ns) || strcmp(pod->name, name))
			continue;
		for (j = 0; j < pod->ncontainers; j++) {
			fprintf(msgs, "%s%s", sep, pod->containers[j]);
			sep = ", ";
		}
	}
	if (!*sep)
		fputs("none", msgs);
}

static bool pod_known(const struct pod_index *idx, const char *ns,
		      const char *name)
{
	const struct pod_entry *pod;

	for (pod = idx->pods; pod < idx->pods + idx->npods; pod++)
		if (!strcmp(pod->namespace, ns) && !strcmp(pod->name, name))
			return true;
	return false;
}

/* The outcome of a scan: the one Go process, or why there is none. */
static int resolve__choose(const struct resolve *r, const char *root,
			   pid_t *pid, FILE *msgs)
{
	const char *c = r->container;
	const struct pod_proc *p;
	char what[POD_NAMESPACE_SIZE + POD_NAME_SIZE + POD_CONTAINER_SIZE + 32];

	if (c)
		snprintf(what, sizeof(what), "container %s of pod %s/%s", c,
			 r->namespace, r->name);
	else
		snprintf(what, sizeof(what), "pod %s/%s", r->namespace,
			 r->name);
	if (!r->in_pod) {
		fprintf(msgs, "goleaktrace: pod %s/%s has no process in /proc: "
			"if it is running, run goleaktrace in the host's PID "
			"namespace (hostPID: true)\n", r->namespace, r->name);
		return -ENOENT;
	}
	if (!r->n && r->unnamed) {
		fprintf(msgs, "goleaktrace: no process of %s found: %zu "
			"processes of the pod have no container name (no link "
			"in %svar/log/containers): choose one with -p PID\n",
			what, r->unnamed, root);
		return -ENOENT;
	}
	if (!r->n) {
		fprintf(msgs, "goleaktrace: %s has no running process: check "
			"it with kubectl get pod\n", what);
		return -ENOENT;
	}
	if (!r->ngo) {
		fprintf(msgs, "goleaktrace: %s runs no Go program goleaktrace "
			"can trace:\n", what);
		print_procs(msgs, r, false);
		return -ENOEXEC;
	}
	if (r->ngo > 1) {
		fprintf(msgs, "goleaktrace: %s has %zu Go processes: choose "
			"one with -p PID%s\n", what, r->ngo,
			!c && several_containers(r) ? " or -c CONTAINER" : "");
		print_procs(msgs, r, true);
		return -ENOTUNIQ;
	}
	for (p = r->procs; !p->version[0]; p++)
		;
	*pid = p->pid;
	fprintf(msgs, "goleaktrace: pod %s/%s: pid %d (%s, %s), container "
		"%s\n", r->namespace, r->name, p->pid, p->comm, p->version,
		p->container[0] ? p->container : "unknown");
	return 0;
}

int pod__resolve(const char *host_root, const char *ref,
		 const char *container, pid_t *pid, FILE *msgs)
{
	struct resolve r = { .container = container };
	struct pod_index *idx = NULL;
	char root[PATH_MAX];
	int err;

	err = pod__parse_ref(ref, r.namespace, r.name);
	if (err) {
		fprintf(msgs, "goleaktrace: invalid --pod %s: use "
			"NAMESPACE/NAME\n", ref);
		return err;
	}
	host_path(host_root, "", root, sizeof(root));
	err = pod_index__load(&idx, host_root);
	if (err == -ENOENT || err == -ENOTDIR) {
		fprintf(msgs, "goleaktrace: no pods recorded in "
			"%svar/log/pods: run on a Kubernetes node, or give "
			"--host-root the directory where the node's / is "
			"mounted\n", root);
		goto out;
	}
	if (err) {
		fprintf(msgs, "goleaktrace: cannot read %svar/log/pods: %s\n",
			root, strerror(-err));
		goto out;
	}
	r.idx = idx;
	if (!pod_known(idx, r.namespace, r.name)) {
		fprintf(msgs, "goleaktrace: pod %s/%s is not on this node (no "
			"%svar/log/pods/%s_%s_*): run on the node that kubectl "
			"get pod -o wide shows\n", r.namespace, r.name, root,
			r.namespace, r.name);
		err = -ENOENT;
		goto out;
	}
	if (container && !pod_has_container(idx, r.namespace, r.name,
					    container)) {
		fprintf(msgs, "goleaktrace: pod %s/%s has no container %s: "
			"its containers are ", r.namespace, r.name, container);
		print_containers(msgs, idx, r.namespace, r.name);
		fputc('\n', msgs);
		err = -ENOENT;
		goto out;
	}
	err = resolve__scan(&r);
	if (err) {
		fprintf(msgs, "goleaktrace: cannot list processes in /proc: "
			"%s\n", strerror(-err));
		goto out;
	}
	if (r.n)
		qsort(r.procs, r.n, sizeof(*r.procs), cmp_pid);
	err = resolve__choose(&r, root, pid, msgs);
out:
	free(r.procs);
	pod_index__free(idx);
	return err;
}
