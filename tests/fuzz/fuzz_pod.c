// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target: the parsers of what a node says about its pods, on
 * arbitrary bytes. The whole input is a /proc/PID/cgroup file (parsed by
 * length: it is not NUL-terminated); up to its first NUL it is also a
 * /var/log/pods directory name, a --pod argument, a container name and a
 * /var/log/containers entry, whose link target is what follows the NUL.
 * Whatever a parser accepts must hold its own promises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pod.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static int uid_len_ok(const char *uid)
{
	size_t n = strlen(uid);

	return n == 32 || n == 36;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char ns[POD_NAMESPACE_SIZE], name[POD_NAME_SIZE], uid[POD_UID_SIZE];
	struct pod_log_link link;
	struct pod_cgroup cg;
	const char *target;
	size_t n;
	char *s;

	if (!pod__parse_cgroup((const char *)data, size, &cg)) {
		check(uid_len_ok(cg.uid));
		check(!cg.id[0] || strlen(cg.id) == 64);
	}
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	n = strlen(s);
	target = n < size ? s + n + 1 : NULL;

	if (!pod__parse_cgroup_line(s, n, &cg))
		check(uid_len_ok(cg.uid));
	if (!pod__parse_pod_dir(s, ns, name, uid))
		check(*ns && *name && uid_len_ok(uid));
	if (!pod__parse_ref(s, ns, name))
		check(strlen(ns) + strlen(name) + 1 == n);
	if (pod__valid_container(s))
		check(n > 0 && n < POD_CONTAINER_SIZE);
	if (!pod__parse_log_link(s, target, &link)) {
		check(strlen(link.id) >= 6 && strlen(link.id) <= 64);
		check(pod__valid_container(link.container));
		check(!link.uid[0] || uid_len_ok(link.uid));
	}
	free(s);
	return 0;
}
