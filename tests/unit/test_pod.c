// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --pod and pod labels without a cluster: /proc/PID/cgroup lines of
 * containerd, CRI-O and Docker in the cgroup v1 and v2 layouts of both
 * cgroup drivers, the kubelet's pod directories and container log links,
 * malformed input of each, and an index over a kubelet-style tree in a
 * temporary directory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pod.h"
#include "tap.h"

#define UID "8f5d6c2a-1b2c-4d3e-9f00-123456789abc"
#define UID_ "8f5d6c2a_1b2c_4d3e_9f00_123456789abc"
#define UID2 "0c7e5a1b-2222-4a4a-8b8b-feedfacecafe"
#define UID3 "5e5e5e5e-3333-4c4c-9d9d-0123456789ab"
#define STATIC_UID "3f1b2a9c8d7e6f5a4b3c2d1e0f9a8b7c"
#define ID "4b825dc642cb6eb9a060e54bf8d69288fbee4904aa2c3b9d1e0f7a6b5c4d3e2f"
#define ID2 "a1b2c3d4e5f60718293a4b5c6d7e8f9000112233445566778899aabbccddeeff"
#define ID3 "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

/* want_err 0: uid and id as given ("" = none). */
static void check_line(const char *what, const char *line, int want_err,
		       const char *uid, const char *id)
{
	struct pod_cgroup cg;
	char name[160];
	int err;

	memset(&cg, 0x5a, sizeof(cg));
	err = pod__parse_cgroup_line(line, strlen(line), &cg);
	snprintf(name, sizeof(name), "cgroup line: %s", what);
	if (!ASSERT_EQ(err, want_err, name) || want_err)
		return;
	snprintf(name, sizeof(name), "cgroup line: %s: pod uid", what);
	ASSERT_STREQ(cg.uid, uid, name);
	snprintf(name, sizeof(name), "cgroup line: %s: container id", what);
	ASSERT_STREQ(cg.id, id, name);
}

static void test_cgroup_lines(void)
{
	/* cgroupfs driver: containerd and Docker name the container cgroup
	 * by its id, CRI-O by crio-<id>; v1 (per controller) and v2. */
	check_line("v1 cgroupfs containerd burstable",
		   "4:memory:/kubepods/burstable/pod" UID "/" ID "\n", 0, UID,
		   ID);
	check_line("v1 cgroupfs guaranteed",
		   "7:cpu,cpuacct:/kubepods/pod" UID "/" ID, 0, UID, ID);
	check_line("v2 cgroupfs besteffort",
		   "0::/kubepods/besteffort/pod" UID "/" ID, 0, UID, ID);
	check_line("v1 cgroupfs CRI-O",
		   "11:pids:/kubepods/burstable/pod" UID "/crio-" ID, 0, UID,
		   ID);
	/* systemd driver: slices with the UID's dashes as '_'. */
	check_line("v2 systemd containerd",
		   "0::/kubepods.slice/kubepods-burstable.slice/"
		   "kubepods-burstable-pod" UID_ ".slice/cri-containerd-" ID
		   ".scope", 0, UID, ID);
	check_line("v1 systemd CRI-O",
		   "3:name=systemd:/kubepods.slice/kubepods-besteffort.slice/"
		   "kubepods-besteffort-pod" UID_ ".slice/crio-" ID ".scope",
		   0, UID, ID);
	check_line("v2 systemd guaranteed CRI-O",
		   "0::/kubepods.slice/kubepods-pod" UID_ ".slice/crio-" ID
		   ".scope", 0, UID, ID);
	check_line("v2 systemd CRI-O nested container cgroup",
		   "0::/kubepods.slice/kubepods-pod" UID_ ".slice/crio-" ID
		   ".scope/container", 0, UID, ID);
	check_line("v1 systemd Docker (cri-dockerd)",
		   "5:devices:/kubepods.slice/kubepods-burstable.slice/"
		   "kubepods-burstable-pod" UID_ ".slice/docker-" ID ".scope",
		   0, UID, ID);
	check_line("CRI-O conmon is in the pod, in no container",
		   "0::/kubepods.slice/kubepods-pod" UID_ ".slice/crio-conmon-"
		   ID ".scope", 0, UID, "");
	check_line("the pod's own cgroup",
		   "0::/kubepods/burstable/pod" UID, 0, UID, "");
	check_line("static pod UID (32 hex), cgroupfs",
		   "0::/kubepods/burstable/pod" STATIC_UID "/" ID, 0,
		   STATIC_UID, ID);
	check_line("static pod UID (32 hex), systemd",
		   "0::/kubepods.slice/kubepods-burstable.slice/"
		   "kubepods-burstable-pod" STATIC_UID ".slice/cri-containerd-"
		   ID ".scope", 0, STATIC_UID, ID);
	check_line("seen from a cgroup namespace",
		   "0::/../../kubepods-burstable-pod" UID_
		   ".slice/cri-containerd-" ID ".scope", 0, UID, ID);
	check_line("kind (kubelet cgroup root)",
		   "0::/kubelet.slice/kubelet-kubepods.slice/"
		   "kubelet-kubepods-besteffort.slice/"
		   "kubelet-kubepods-besteffort-pod" UID_
		   ".slice/cri-containerd-" ID ".scope", 0, UID, ID);
	check_line("doubled slashes",
		   "0:://kubepods//burstable//pod" UID "//" ID, 0, UID, ID);
	check_line("63-digit id is no container",
		   "0::/kubepods/pod" UID "/" ID "x", 0, UID, "");
	check_line("upper-case id is no container",
		   "0::/kubepods/pod" UID "/4B825DC642CB6EB9A060E54BF8D69288"
		   "FBEE4904AA2C3B9D1E0F7A6B5C4D3E2F", 0, UID, "");

	/* Not a pod's. */
	check_line("root", "0::/", -ENOENT, NULL, NULL);
	check_line("a login session",
		   "0::/user.slice/user-1000.slice/session-3.scope", -ENOENT,
		   NULL, NULL);
	check_line("a plain Docker container", "0::/docker/" ID, -ENOENT,
		   NULL, NULL);
	check_line("short UID", "0::/kubepods/pod1234/" ID, -ENOENT, NULL,
		   NULL);
	check_line("upper-case UID",
		   "0::/kubepods/pod8F5D6C2A-1B2C-4D3E-9F00-123456789ABC/" ID,
		   -ENOENT, NULL, NULL);
	check_line("dashes inside a slice UID",
		   "0::/kubepods.slice/kubepods-pod" UID ".slice/" ID,
		   -ENOENT, NULL, NULL);
	check_line("UID with dashes misplaced",
		   "0::/kubepods/pod8f5d6c2a1-b2c-4d3e-9f00-123456789abc/" ID,
		   -ENOENT, NULL, NULL);
	check_line("slice without pod", "0::/kubepods.slice/kubepods-"
		   UID_ ".slice/" ID, -ENOENT, NULL, NULL);

	/* Malformed. */
	check_line("empty", "", -EINVAL, NULL, NULL);
	check_line("newline only", "\n", -EINVAL, NULL, NULL);
	check_line("no colon", "kubepods/pod" UID, -EINVAL, NULL, NULL);
	check_line("one colon", "4:/kubepods/pod" UID, -EINVAL, NULL, NULL);
	check_line("no hierarchy id", ":memory:/kubepods/pod" UID, -EINVAL,
		   NULL, NULL);
	check_line("hierarchy id not a number",
		   "x:memory:/kubepods/pod" UID "/" ID, -EINVAL, NULL, NULL);
	check_line("empty path", "4:memory:", -EINVAL, NULL, NULL);
	check_line("relative path", "4:memory:kubepods/pod" UID "/" ID,
		   -EINVAL, NULL, NULL);
}

static void test_cgroup_file(void)
{
	static const char hybrid[] =
		"12:pids:/kubepods/burstable/pod" UID "\n"
		"11:memory:/kubepods/burstable/pod" UID "/crio-" ID "\n"
		"0::/\n";
	static const char none[] =
		"1:cpu:/\ngarbage\n0::/system.slice/containerd.service\n";
	static const char pod_only[] = "0::/kubepods/pod" UID "\n";
	struct pod_cgroup cg;

	ASSERT_EQ(pod__parse_cgroup(hybrid, sizeof(hybrid) - 1, &cg), 0,
		  "cgroup file: parsed");
	ASSERT_STREQ(cg.id, ID, "cgroup file: the line naming a container "
		     "wins over the pod's own line");
	ASSERT_STREQ(cg.uid, UID, "cgroup file: pod uid");
	ASSERT_EQ(pod__parse_cgroup(none, sizeof(none) - 1, &cg), -ENOENT,
		  "cgroup file without a pod: -ENOENT");
	ASSERT_EQ(pod__parse_cgroup(pod_only, sizeof(pod_only) - 1, &cg), 0,
		  "cgroup file naming only the pod");
	ASSERT_STREQ(cg.id, "", "cgroup file naming only the pod: no id");
	ASSERT_EQ(pod__parse_cgroup(hybrid, 30, &cg), -ENOENT,
		  "cgroup file cut inside the first line: -ENOENT");
	ASSERT_EQ(pod__parse_cgroup("", 0, &cg), -ENOENT, "empty file");
	ASSERT_EQ(pod__read_cgroup(getpid(), &cg) == 0 ||
		  pod__read_cgroup(getpid(), &cg) == -ENOENT, 1,
		  "our own /proc/PID/cgroup reads");
}

static void check_dir(const char *dir, int want_err, const char *ns,
		      const char *name, const char *uid)
{
	char gns[POD_NAMESPACE_SIZE], gname[POD_NAME_SIZE];
	char guid[POD_UID_SIZE], what[400];

	snprintf(what, sizeof(what), "pod dir \"%.300s\"", dir);
	if (!ASSERT_EQ(pod__parse_pod_dir(dir, gns, gname, guid), want_err,
		       what) || want_err)
		return;
	ASSERT_STREQ(gns, ns, "pod dir: namespace");
	ASSERT_STREQ(gname, name, "pod dir: name");
	ASSERT_STREQ(guid, uid, "pod dir: uid");
}

static void test_pod_dirs(void)
{
	char longns[200], longname[400], ns63[64];

	check_dir("shop_checkout-7d9f_" UID, 0, "shop", "checkout-7d9f", UID);
	check_dir("kube-system_etcd-node1_" STATIC_UID, 0, "kube-system",
		  "etcd-node1", STATIC_UID);
	check_dir("default_web.v2-0_" UID, 0, "default", "web.v2-0", UID);
	check_dir("shop_checkout", -EINVAL, NULL, NULL, NULL);
	check_dir("shop__" UID, -EINVAL, NULL, NULL, NULL);
	check_dir("_checkout_" UID, -EINVAL, NULL, NULL, NULL);
	check_dir("Shop_checkout_" UID, -EINVAL, NULL, NULL, NULL);
	check_dir("shop_check_out_" UID, -EINVAL, NULL, NULL, NULL);
	check_dir("shop_checkout_not-a-uid", -EINVAL, NULL, NULL, NULL);
	check_dir("shop_checkout_" UID "_", -EINVAL, NULL, NULL, NULL);
	check_dir("shop_-checkout_" UID, -EINVAL, NULL, NULL, NULL);
	check_dir("", -EINVAL, NULL, NULL, NULL);
	snprintf(longns, sizeof(longns), "%064d_x_" UID, 0);
	check_dir(longns, -EINVAL, NULL, NULL, NULL);
	snprintf(longns, sizeof(longns), "%063d_x_" UID, 0);
	snprintf(ns63, sizeof(ns63), "%063d", 0);
	check_dir(longns, 0, ns63, "x", UID);
	snprintf(longname, sizeof(longname), "ns_%0254d_" UID, 0);
	check_dir(longname, -EINVAL, NULL, NULL, NULL);
}

static void check_link(const char *what, const char *entry,
		       const char *target, int want_err, const char *uid,
		       const char *container, const char *id)
{
	struct pod_log_link link;
	char name[160];

	snprintf(name, sizeof(name), "log link: %s", what);
	if (!ASSERT_EQ(pod__parse_log_link(entry, target, &link), want_err,
		       name) || want_err)
		return;
	snprintf(name, sizeof(name), "log link: %s: uid", what);
	ASSERT_STREQ(link.uid, uid, name);
	snprintf(name, sizeof(name), "log link: %s: container", what);
	ASSERT_STREQ(link.container, container, name);
	snprintf(name, sizeof(name), "log link: %s: id", what);
	ASSERT_STREQ(link.id, id, name);
}

static void test_log_links(void)
{
	char pod[256], entry[512], target[640], cut_id[65];
	int n;

	check_link("containerd", "checkout-7d9f_shop_app-" ID ".log",
		   "/var/log/pods/shop_checkout-7d9f_" UID "/app/0.log", 0,
		   UID, "app", ID);
	check_link("container name with dashes, restarted",
		   "web_shop_web-server-" ID ".log",
		   "/var/log/pods/shop_web_" UID "/web-server/3.log", 0, UID,
		   "web-server", ID);
	check_link("no link target: the name alone",
		   "web_shop_web-server-" ID ".log", NULL, 0, "",
		   "web-server", ID);
	check_link("target outside a pod directory: the name alone",
		   "web_shop_app-" ID ".log", "/elsewhere/app.log", 0, "",
		   "app", ID);
	check_link("target of another container", "web_shop_app-" ID ".log",
		   "/var/log/pods/shop_web_" UID "/db/0.log", -EINVAL, NULL,
		   NULL, NULL);
	check_link("not .log", "web_shop_app-" ID ".txt", NULL, -EINVAL,
		   NULL, NULL, NULL);
	check_link("id not hex", "web_shop_app-" ID "g.log", NULL, -EINVAL,
		   NULL, NULL, NULL);
	check_link("short id", "web_shop_app-abcdef.log", NULL, -EINVAL,
		   NULL, NULL, NULL);
	check_link("no container", "web_shop_-" ID ".log", NULL, -EINVAL,
		   NULL, NULL, NULL);
	check_link("one underscore", "web_app-" ID ".log", NULL, -EINVAL,
		   NULL, NULL, NULL);
	check_link("junk", "README", NULL, -EINVAL, NULL, NULL, NULL);
	check_link("just .log", ".log", NULL, -EINVAL, NULL, NULL, NULL);

	/* The kubelet cuts the name at 255 bytes, here inside the id. */
	memset(pod, 'p', 180);
	pod[180] = '\0';
	n = snprintf(entry, sizeof(entry), "%s_shop_app-" ID, pod);
	snprintf(entry + 251, sizeof(entry) - 251, ".log");
	snprintf(target, sizeof(target), "/var/log/pods/shop_%s_" UID
		 "/app/0.log", pod);
	snprintf(cut_id, sizeof(cut_id), "%.*s", 251 - (n - 64), ID);
	check_link("cut name, id prefix from the target", entry, target, 0,
		   UID, "app", cut_id);
	check_link("cut name without target", entry, NULL, -EINVAL, NULL,
		   NULL, NULL);
	/* Cut so close that fewer than 6 digits of the id are left. */
	memset(pod, 'p', 236);
	pod[236] = '\0';
	snprintf(entry, sizeof(entry), "%s_shop_app-" ID, pod);
	snprintf(entry + 251, sizeof(entry) - 251, ".log");
	snprintf(target, sizeof(target), "/var/log/pods/shop_%s_" UID
		 "/app/0.log", pod);
	check_link("cut to 5 digits", entry, target, -EINVAL, NULL, NULL,
		   NULL);
}

static void check_ref(const char *s, int want_err, const char *ns,
		      const char *name)
{
	char gns[POD_NAMESPACE_SIZE], gname[POD_NAME_SIZE], what[400];

	snprintf(what, sizeof(what), "--pod \"%.300s\"", s);
	if (!ASSERT_EQ(pod__parse_ref(s, gns, gname), want_err, what) ||
	    want_err)
		return;
	ASSERT_STREQ(gns, ns, "--pod: namespace");
	ASSERT_STREQ(gname, name, "--pod: name");
}

static void test_refs(void)
{
	char s[400];

	check_ref("shop/checkout-7d9f", 0, "shop", "checkout-7d9f");
	check_ref("kube-system/etcd-node1.example", 0, "kube-system",
		  "etcd-node1.example");
	check_ref("shop", -EINVAL, NULL, NULL);
	check_ref("/checkout", -EINVAL, NULL, NULL);
	check_ref("shop/", -EINVAL, NULL, NULL);
	check_ref("shop/checkout/x", -EINVAL, NULL, NULL);
	check_ref("Shop/checkout", -EINVAL, NULL, NULL);
	check_ref("shop/check out", -EINVAL, NULL, NULL);
	check_ref("shop/-checkout", -EINVAL, NULL, NULL);
	check_ref("sh.op/checkout", -EINVAL, NULL, NULL);
	check_ref("shop_x/checkout", -EINVAL, NULL, NULL);
	snprintf(s, sizeof(s), "ns/%0253d", 0);
	check_ref(s, 0, "ns", s + 3);
	snprintf(s, sizeof(s), "ns/%0254d", 0);
	check_ref(s, -EINVAL, NULL, NULL);
	ASSERT_TRUE(pod__valid_container("app"), "container app");
	ASSERT_TRUE(pod__valid_container("web-server2"), "container "
		    "web-server2");
	ASSERT_TRUE(!pod__valid_container(""), "container \"\" rejected");
	ASSERT_TRUE(!pod__valid_container("App"), "container App rejected");
	ASSERT_TRUE(!pod__valid_container("a_b"), "container a_b rejected");
	ASSERT_TRUE(!pod__valid_container("a.b"), "container a.b rejected");
	snprintf(s, sizeof(s), "%064d", 0);
	ASSERT_TRUE(!pod__valid_container(s), "64-character container "
		    "rejected");
}

/* ---- an index over a kubelet-style tree -------------------------------- */

static char root[64];

static void make_path(const char *rel)
{
	char path[512], *p;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

static void make_link(const char *entry, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/var/log/containers/%s", root, entry);
	if (symlink(target, path))
		perror(path);
}

static void check_labels(const struct pod_index *idx, const char *what,
			 const char *uid, const char *id, int want_err,
			 const char *ns, const char *name,
			 const char *container)
{
	struct pod_cgroup cg = {};
	struct pod_labels l;
	char msg[128];

	snprintf(cg.uid, sizeof(cg.uid), "%s", uid);
	snprintf(cg.id, sizeof(cg.id), "%s", id);
	snprintf(msg, sizeof(msg), "labels: %s", what);
	if (!ASSERT_EQ(pod_index__labels_of(idx, &cg, &l), want_err, msg) ||
	    want_err)
		return;
	snprintf(msg, sizeof(msg), "labels: %s: pod", what);
	ASSERT_TRUE(!strcmp(l.namespace, ns) && !strcmp(l.name, name), msg);
	snprintf(msg, sizeof(msg), "labels: %s: container", what);
	ASSERT_STREQ(l.container, container, msg);
}

/* pod__resolve's message and result, for pods no process runs. */
static void check_resolve(const char *what, const char *host_root,
			  const char *ref, const char *container, int want_err,
			  const char *want_msg)
{
	char *buf = NULL, name[160];
	size_t len = 0;
	pid_t pid = 0;
	FILE *f;
	int err;

	f = open_memstream(&buf, &len);
	err = pod__resolve(host_root, ref, container, &pid, f);
	fclose(f);
	snprintf(name, sizeof(name), "resolve: %s", what);
	ASSERT_EQ(err, want_err, name);
	snprintf(name, sizeof(name), "resolve: %s: message", what);
	if (!ASSERT_TRUE(buf && strstr(buf, want_msg), name))
		printf("#   message: %s#   wanted: %s\n", buf, want_msg);
	free(buf);
}

static void test_index(void)
{
	struct pod_index *idx = NULL;
	struct pod_labels l;
	char slash[80];
	int err;

	snprintf(root, sizeof(root), "/tmp/glt-pod-XXXXXX");
	if (!mkdtemp(root)) {
		TAP_SKIP("cannot make a temporary directory");
		return;
	}
	ASSERT_EQ(pod_index__load(&idx, root), -ENOENT,
		  "index: no var/log/pods: -ENOENT");
	check_resolve("not a node", root, "shop/checkout", NULL, -ENOENT,
		      "no pods recorded in ");

	make_path("var/log/pods/shop_checkout_" UID "/app");
	make_path("var/log/pods/shop_checkout_" UID "/sidecar");
	make_path("var/log/pods/shop_single_" UID2 "/main");
	make_path("var/log/pods/shop_linked_" UID3 "/web");
	make_path("var/log/pods/not-a-pod-dir");
	make_path("var/log/containers");
	make_link("checkout_shop_app-" ID ".log",
		  "/var/log/pods/shop_checkout_" UID "/app/0.log");
	make_link("checkout_shop_sidecar-" ID2 ".log",
		  "/var/log/pods/shop_checkout_" UID "/sidecar/1.log");
	make_link("linked_shop_web-" ID3 ".log",
		  "/var/log/pods/shop_linked_" UID3 "/web/0.log");
	make_link("junk", "/nowhere");

	snprintf(slash, sizeof(slash), "%s//", root);
	err = pod_index__load(&idx, slash);
	if (!ASSERT_EQ(err, 0, "index: loads (host root with slashes)"))
		goto out;
	check_labels(idx, "linked id", UID, ID, 0, "shop", "checkout", "app");
	check_labels(idx, "other linked id", UID, ID2, 0, "shop", "checkout",
		     "sidecar");
	check_labels(idx, "unlinked id, two containers", UID, ID3, 0, "shop",
		     "checkout", "");
	check_labels(idx, "unlinked id, one container", UID2, ID3, 0, "shop",
		     "single", "main");
	check_labels(idx, "in the pod, in no container", UID2, "", 0, "shop",
		     "single", "");
	check_labels(idx, "link of another pod", UID2, ID, 0, "shop",
		     "single", "main");
	check_labels(idx, "one container, linked", UID3, ID3, 0, "shop",
		     "linked", "web");
	check_labels(idx, "one linked container, unlinked id (sandbox)",
		     UID3, ID, 0, "shop", "linked", "");
	check_labels(idx, "unknown pod", STATIC_UID, ID, -ENOENT, NULL,
		     NULL, NULL);
	check_labels(idx, "no pod", "", "", -ENOENT, NULL, NULL, NULL);
	ASSERT_EQ(pod_index__labels(idx, getpid(), &l), -ENOENT,
		  "labels of this test process: in none of these pods");

	check_resolve("pod not on the node", root, "shop/other", NULL,
		      -ENOENT, "pod shop/other is not on this node");
	check_resolve("no such container", root, "shop/checkout", "db",
		      -ENOENT, "pod shop/checkout has no container db: its "
		      "containers are app, sidecar\n");
	check_resolve("no process", root, "shop/checkout", NULL, -ENOENT,
		      "pod shop/checkout has no process in /proc");
	check_resolve("bad reference", root, "shop", NULL, -EINVAL,
		      "invalid --pod shop");
out:
	pod_index__free(idx);
	pod_index__free(NULL);
	snprintf(slash, sizeof(slash), "rm -rf -- '%s'", root);
	if (system(slash) != 0)
		printf("# could not remove %s\n", root);
}

int main(void)
{
	test_cgroup_lines();
	test_cgroup_file();
	test_pod_dirs();
	test_log_links();
	test_refs();
	test_index();
	return tap__done();
}
