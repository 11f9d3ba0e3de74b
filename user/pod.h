/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Kubernetes pods on a node, as the node itself records them, without the
 * kube API: the kubelet's log tree names the pods and their containers,
 *   HOST/var/log/pods/<ns>_<name>_<uid>/<container>/<restarts>.log
 *   HOST/var/log/containers/<name>_<ns>_<container>-<id>.log -> the above
 * and /proc/PID/cgroup names the pod UID and container id of a process
 * (containerd, CRI-O, Docker; cgroup v1 and v2; cgroupfs and systemd
 * drivers). HOST is --host-root (default /). /proc is always our own: its
 * PIDs are the ones goleaktrace attaches to (in a pod, hostPID: true). */
#ifndef GOLEAKTRACE_POD_H
#define GOLEAKTRACE_POD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Sizes with the NUL: DNS-1123 label (63), subdomain (253), UID (36),
 * container id (64 hex). */
#define POD_NAMESPACE_SIZE 64
#define POD_NAME_SIZE 256
#define POD_CONTAINER_SIZE 64
#define POD_UID_SIZE 37
#define POD_ID_SIZE 65

/* What a process is labelled with in reports and metrics. */
struct pod_labels {
	char namespace[POD_NAMESPACE_SIZE];
	char name[POD_NAME_SIZE];
	char container[POD_CONTAINER_SIZE];	/* "" when it cannot be named */
};

/* The pod part of a process's cgroup path. */
struct pod_cgroup {
	char uid[POD_UID_SIZE];		/* with dashes, as the API shows it */
	char id[POD_ID_SIZE];		/* container id; "" for a process of
					 * the pod that is in no container
					 * (CRI-O's conmon, the pod cgroup) */
};

/* "NAMESPACE/NAME" of --pod, checked as Kubernetes names: -EINVAL. */
int pod__parse_ref(const char *s, char namespace[POD_NAMESPACE_SIZE],
		   char name[POD_NAME_SIZE]);
/* A container name (DNS-1123 label) as -c takes it. */
bool pod__valid_container(const char *s);

/* One line of /proc/PID/cgroup ("ID:CONTROLLERS:PATH", no newline needed):
 * 0, -ENOENT when the path is no pod's, -EINVAL when malformed. */
int pod__parse_cgroup_line(const char *line, size_t len,
			   struct pod_cgroup *cg);
/* A whole /proc/PID/cgroup: the line that names a container wins over
 * one that names only the pod. -ENOENT when no line names a pod. */
int pod__parse_cgroup(const char *text, size_t len, struct pod_cgroup *cg);
/* Reads /proc/PID/cgroup and parses it as above. */
int pod__read_cgroup(pid_t pid, struct pod_cgroup *cg);

/* "<ns>_<name>_<uid>", a directory of /var/log/pods: -EINVAL if not. */
int pod__parse_pod_dir(const char *dir, char namespace[POD_NAMESPACE_SIZE],
		       char name[POD_NAME_SIZE], char uid[POD_UID_SIZE]);

/* A /var/log/containers entry and its link target (NULL when it is not a
 * link). The kubelet cuts names to 255 bytes, so id may be a prefix of
 * the container id (at least 6 hex digits). The target, when it points
 * into a pod directory, gives the pod UID ("" otherwise) and the
 * container name exactly. -EINVAL when the entry says nothing usable. */
struct pod_log_link {
	char uid[POD_UID_SIZE];
	char container[POD_CONTAINER_SIZE];
	char id[POD_ID_SIZE];
};
int pod__parse_log_link(const char *entry, const char *target,
			struct pod_log_link *link);

/* The node's pods and container links, read once; cheap enough to load
 * again at every --all scan to see new pods. */
struct pod_index;

/* -ENOENT when HOST/var/log/pods does not exist (not a node, or a wrong
 * --host-root); a missing /var/log/containers only costs container names. */
int pod_index__load(struct pod_index **out, const char *host_root);
void pod_index__free(struct pod_index *idx);

/* Labels of a process from its parsed cgroup: 0, or -ENOENT when it is in
 * no pod of this node's records. The container is named by the link of
 * its id; on a node without links for the pod, by the pod's only
 * container directory; else "" (e.g. the pod's sandbox). */
int pod_index__labels_of(const struct pod_index *idx,
			 const struct pod_cgroup *cg, struct pod_labels *labels);
/* The same for a running process, from /proc/PID/cgroup. */
int pod_index__labels(const struct pod_index *idx, pid_t pid,
		      struct pod_labels *labels);

/* --pod NS/NAME [-c CONTAINER]: the one Go process goleaktrace can trace
 * in that pod, into *pid, and one line saying which it is. Otherwise the
 * reason goes to msgs (one "goleaktrace: ..." line, then the processes
 * it is about, one a line) and the result is -ENOENT (no such pod or
 * container, or no process visible), -ENOEXEC (no traceable Go process),
 * -ENOTUNIQ (several: the user chooses with -p or -c). */
int pod__resolve(const char *host_root, const char *ref,
		 const char *container, pid_t *pid, FILE *msgs);

#endif
