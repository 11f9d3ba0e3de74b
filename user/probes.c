// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "probes.h"
#include "goleaktrace.skel.h"
#include "prologue.h"
#include "uprobe_links.h"

#define PROLOGUE_BYTES 32
/* /proc/self/ns/pid of the initial PID namespace (PROC_PID_INIT_INO). */
#define INIT_PIDNS_INO 0xEFFFFFFCULL

/* A hooked executable is known by its inode. */
struct binary_key {
	dev_t dev;
	ino_t ino;
};

/* One hooked executable: its uprobes fire in the one traced process, or
 * in every process that runs it (--all). Its index in probes.bins is its
 * slot in the BPF binaries map, in its uprobes' cookies. */
struct probe_binary {
	struct binary_key key;
	pid_t pid;			/* uprobe filter, -1 for any */
	int fd;				/* the executable, kept open */
	struct probes_plan plan;
	int multi_fd;			/* its uprobe_multi link, or -1 */
	struct bpf_link *links[PROBES_COUNT];	/* else one per hook */
};

struct probes {
	struct goleaktrace_bpf *skel;
	struct probe_binary *bins;
	size_t nbins;
	bool multi;			/* uprobe_multi links (Linux 6.6+) */
	bool detached;			/* duty cycling: between slices */
	struct link_reaper reaper;
};

/* The one-hook programs, in the order of probes_plan.points. */
static void hook_programs(struct goleaktrace_bpf *s,
			  struct bpf_program *progs[PROBES_COUNT])
{
	progs[GLT_HOOK_GOPARK] = s->progs.on_gopark;
	progs[GLT_HOOK_NEWPROC] = s->progs.on_newproc1;
	progs[GLT_HOOK_GEXIT] = s->progs.on_gexit;
}

/* Loads either the dispatcher for uprobe_multi links, or the
 * one-hook programs for perf-event uprobes. */
static void choose_programs(struct probes *p, bool no_multi)
{
	struct bpf_program *progs[PROBES_COUNT];
	int i;

	p->multi = !no_multi && uprobe_multi__supported();
	hook_programs(p->skel, progs);
	for (i = 0; i < PROBES_COUNT; i++)
		bpf_program__set_autoload(progs[i], !p->multi);
	bpf_program__set_autoload(p->skel->progs.on_hook, p->multi);
	if (p->multi)
		uprobe_multi__prepare(p->skel->progs.on_hook);
}

/* Tells the programs our PID namespace, so that their tgids are ours. */
static int set_pidns(struct glt_config *cfg)
{
	struct stat st;

	if (stat("/proc/self/ns/pid", &st))
		return -errno;
	cfg->in_pidns = st.st_ino != INIT_PIDNS_INO;
	cfg->pidns_ino = st.st_ino;
	return 0;
}

int probes__open(struct probes **out, const struct probes_opts *opts,
		 const char **errmsg)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts,
		    .btf_custom_path = opts->btf_path);
	struct probes *p;
	int err;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	link_reaper__init(&p->reaper);
	p->skel = goleaktrace_bpf__open_opts(&oopts);
	if (!p->skel) {
		err = -errno;
		*errmsg = "failed to open the BPF object";
		goto out;
	}
	err = set_pidns(&p->skel->rodata->cfg);
	if (err) {
		*errmsg = "cannot read /proc/self/ns/pid";
		goto out;
	}
	choose_programs(p, opts->no_uprobe_multi);
	if (opts->max_goroutines)
		bpf_map__set_max_entries(p->skel->maps.parked,
					 opts->max_goroutines);
	if (opts->max_sites)
		bpf_map__set_max_entries(p->skel->maps.sites, opts->max_sites);
	err = goleaktrace_bpf__load(p->skel);
	if (err && access(opts->btf_path ? opts->btf_path :
			  "/sys/kernel/btf/vmlinux", R_OK)) {
		*errmsg = "no kernel BTF (/sys/kernel/btf/vmlinux, or --btf): "
			  "goleaktrace needs a kernel built with "
			  "CONFIG_DEBUG_INFO_BTF=y (Linux 5.5+)";
	} else if (err) {
		*errmsg = err == -EPERM ?
			"failed to load BPF programs: run as root (or with "
			"CAP_BPF and CAP_PERFMON)" :
			"failed to load BPF programs (kernel without BPF or "
			"BTF? run with -v for libbpf's log)";
	}
out:
	if (err)
		probes__free(p);
	else
		*out = p;
	return err;
}

/* The runtime functions hooked, in the order of probes_plan.points; the
 * first name present in the binary is used. */
static const char *const hook_names[PROBES_COUNT][3] = {
	{ "runtime.gopark" },
	{ "runtime.newproc1" },
	/* gdestroy (1.22+) is also where coroutines end; before 1.22 its
	 * body was goexit0. Both take the dying g as first argument. */
	{ "runtime.gdestroy", "runtime.goexit0" },
};

/* Where one hook goes: the first function of names[] present, at the
 * instruction after its stack check, as a file offset. */
static int plan_one(const struct gobin *bin, const char *const *names,
		    struct probe_point *pt, const char **errmsg)
{
	uint8_t code[PROLOGUE_BYTES] = {};
	uint64_t entry = 0, end = 0;
	size_t off;
	int err = -ENOENT, i;

	for (i = 0; i < 3 && names[i]; i++) {
		err = gobin__find_func(bin, names[i], &entry, &end);
		if (!err)
			break;
	}
	if (err) {
		*errmsg = "a runtime function to probe is missing from the "
			  "binary (unsupported Go version?)";
		return err;
	}
	err = gobin__read(bin, entry, code,
			  end - entry < sizeof(code) ? end - entry
						     : sizeof(code));
	if (!err)
		err = prologue__probe_offset(gobin__arch(bin), code,
					     sizeof(code), &off);
	if (!err)
		err = gobin__vaddr_to_offset(bin, entry + off,
					     &pt->file_offset);
	if (err) {
		*errmsg = "unrecognised prologue in a runtime function; "
			  "refusing to probe its first instruction";
		return err;
	}
	pt->name = names[i];
	pt->entry = entry;
	pt->offset = off;
	return 0;
}

int probes__plan(const struct gobin *bin, struct probes_plan *plan,
		 const char **errmsg)
{
	int i, err;

	for (i = 0; i < PROBES_COUNT; i++) {
		err = plan_one(bin, hook_names[i], &plan->points[i], errmsg);
		if (err)
			return err;
	}
	return 0;
}

static struct probe_binary *find_binary(const struct probes *p,
					const struct binary_key *key)
{
	size_t i;

	for (i = 0; i < p->nbins; i++)
		if (p->bins[i].key.ino == key->ino &&
		    p->bins[i].key.dev == key->dev)
			return &p->bins[i];
	return NULL;
}

static int binary_key(int fd, struct binary_key *key)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	*key = (struct binary_key){ .dev = st.st_dev, .ino = st.st_ino };
	return 0;
}

static const char *attach_error(int err)
{
	return err == -EACCES || err == -EPERM ?
		"attaching uprobes needs CAP_SYS_ADMIN on this kernel besides "
		"CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE: run as root, or use "
		"--no-probes" :
		"failed to attach a uprobe (kernel without uprobes?)";
}

/* Attaches the four uprobes of b, through its open fd: the path stays
 * valid across mount namespaces and after the process that showed us the
 * binary is gone. */
static int attach_binary(struct probes *p, struct probe_binary *b,
			 uint32_t slot, const char **errmsg)
{
	struct bpf_program *progs[PROBES_COUNT];
	uint64_t offsets[PROBES_COUNT], cookies[PROBES_COUNT];
	char path[32];
	int i, err = 0;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", b->fd);
	for (i = 0; i < PROBES_COUNT; i++) {
		offsets[i] = b->plan.points[i].file_offset;
		cookies[i] = GLT_COOKIE(slot, i);
	}
	if (p->multi) {
		b->multi_fd = uprobe_multi__attach(
			bpf_program__fd(p->skel->progs.on_hook), path, b->pid,
			offsets, cookies, PROBES_COUNT);
		err = b->multi_fd < 0 ? b->multi_fd : 0;
		if (err) {
			b->multi_fd = -1;
			*errmsg = attach_error(err);
		}
		return err;
	}
	hook_programs(p->skel, progs);
	for (i = 0; !err && i < PROBES_COUNT; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, uopts, .bpf_cookie = cookies[i]);

		b->links[i] = bpf_program__attach_uprobe_opts(progs[i], b->pid,
			path, offsets[i], &uopts);
		if (!b->links[i]) {
			err = -errno;
			*errmsg = attach_error(err);
		}
	}
	return err;
}

/* The uprobes stop firing now or (perf links) within a few grace
 * periods; the waiting is the reaper's. */
static void detach_binary(struct probes *p, struct probe_binary *b)
{
	int i;

	link_reaper__put(&p->reaper, NULL, b->multi_fd);
	b->multi_fd = -1;
	for (i = 0; i < PROBES_COUNT; i++) {
		link_reaper__put(&p->reaper, b->links[i], -1);
		b->links[i] = NULL;
	}
}

int probes__add_binary(struct probes *p, const struct gobin *bin,
		       const struct target *t, bool any_process,
		       const char **errmsg)
{
	const struct go_offsets *o = gobin__offsets(bin);
	struct glt_offsets offs = { .g_goid = o->g_goid, .g_gopc = o->g_gopc };
	uint32_t slot = p->nbins;
	struct probe_binary *b, *bins;
	struct binary_key key;
	int err;

	err = binary_key(t->exe_fd, &key);
	if (err) {
		*errmsg = "cannot stat the target's executable";
		return err;
	}
	if (find_binary(p, &key))
		return 0;
	if (slot >= GLT_MAX_BINARIES) {
		*errmsg = "too many different Go binaries to hook at once";
		return -E2BIG;
	}
	bins = realloc(p->bins, (p->nbins + 1) * sizeof(*bins));
	if (!bins)
		return -ENOMEM;
	p->bins = bins;
	b = &bins[p->nbins];
	*b = (struct probe_binary){ .key = key, .fd = -1, .multi_fd = -1,
				    .pid = any_process ? -1 : t->pid };
	err = probes__plan(bin, &b->plan, errmsg);
	if (err)
		return err;
	b->fd = fcntl(t->exe_fd, F_DUPFD_CLOEXEC, 0);
	if (b->fd < 0) {
		*errmsg = "cannot keep the target's executable open";
		return -errno;
	}
	/* Offsets before the probes that need them. */
	if (bpf_map__update_elem(p->skel->maps.binaries, &slot, sizeof(slot),
				 &offs, sizeof(offs), BPF_ANY)) {
		err = -errno;
		*errmsg = "failed to store the binary's offsets";
	}
	if (!err && !p->detached)
		err = attach_binary(p, b, slot, errmsg);
	if (err) {
		detach_binary(p, b);
		close(b->fd);
		return err;
	}
	p->nbins++;
	return 0;
}

int probes__set_attached(struct probes *p, bool attached,
			 const char **errmsg)
{
	size_t i;
	int err = 0;

	if (p->detached == !attached)
		return 0;
	/* Exits went unseen: the probes trust no goid read before. */
	if (attached)
		p->skel->bss->epoch++;
	for (i = 0; i < p->nbins; i++) {
		if (!attached)
			detach_binary(p, &p->bins[i]);
		else if (!err)
			err = attach_binary(p, &p->bins[i], i, errmsg);
	}
	p->detached = !attached;
	return err;
}

bool probes__attached(const struct probes *p)
{
	return !p->detached;
}

bool probes__detaching(struct probes *p, uint64_t *done_ns)
{
	/* A uprobe_multi link's breakpoints are out before its wait. */
	if (p->multi) {
		*done_ns = 0;
		return false;
	}
	return link_reaper__busy(&p->reaper, done_ns);
}

size_t probes__prog_fds(const struct probes *p, int *fds, size_t max)
{
	struct bpf_program *progs[PROBES_COUNT];
	size_t i, n = 0;

	if (p->multi) {
		if (max)
			fds[n++] = bpf_program__fd(p->skel->progs.on_hook);
		return n;
	}
	hook_programs(p->skel, progs);
	for (i = 0; i < PROBES_COUNT && n < max; i++)
		fds[n++] = bpf_program__fd(progs[i]);
	return n;
}

const struct probes_plan *probes__binary_plan(const struct probes *p,
					      const struct target *t)
{
	struct binary_key key;
	struct probe_binary *b;

	if (binary_key(t->exe_fd, &key))
		return NULL;
	b = find_binary(p, &key);
	return b ? &b->plan : NULL;
}

void probes__free(struct probes *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nbins; i++) {
		detach_binary(p, &p->bins[i]);
		close(p->bins[i].fd);
	}
	link_reaper__free(&p->reaper);
	free(p->bins);
	goleaktrace_bpf__destroy(p->skel);
	free(p);
}

void probes__map_sizes(const struct probes *p, size_t *parked, size_t *sites)
{
	*parked = bpf_map__max_entries(p->skel->maps.parked);
	*sites = bpf_map__max_entries(p->skel->maps.sites);
}

int probes__counters(const struct probes *p, struct glt_counters *out)
{
	*out = p->skel->bss->counters;
	return 0;
}

/* Copies every entry of a hash map with batched lookups,
 * which is one syscall per batch instead of two per entry. */
static int map_read_all(struct bpf_map *map, size_t key_size,
			size_t value_size, void **keys_out, void **vals_out,
			size_t *n_out)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bopts);
	size_t cap = bpf_map__max_entries(map), n = 0;
	int fd = bpf_map__fd(map), err = 0;
	void *in = NULL, *keys, *vals;
	uint64_t batch_key;
	__u32 count;

	keys = calloc(cap ? cap : 1, key_size);
	vals = calloc(cap ? cap : 1, value_size);
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (n < cap) {
		count = cap - n;
		err = bpf_map_lookup_batch(fd, in, &batch_key,
					   (char *)keys + n * key_size,
					   (char *)vals + n * value_size,
					   &count, &bopts);
		if (err)
			err = -errno;
		n += count;
		in = &batch_key;
		if (err == -ENOENT) {	/* end of the map */
			err = 0;
			break;
		}
		if (err)
			goto out;
	}
out:
	if (err) {
		free(keys);
		free(vals);
		return err;
	}
	*keys_out = keys;
	*vals_out = vals;
	*n_out = n;
	return 0;
}

int probes__read_parked(const struct probes *p, struct glt_gkey **keys,
			struct glt_parked **parked, size_t *n)
{
	return map_read_all(p->skel->maps.parked, sizeof(**keys),
			    sizeof(**parked), (void **)keys, (void **)parked, n);
}

int probes__read_sites(const struct probes *p, struct glt_skey **keys,
		       struct glt_site **sites, size_t *n)
{
	return map_read_all(p->skel->maps.sites, sizeof(**keys),
			    sizeof(**sites), (void **)keys, (void **)sites, n);
}

/* Deletes the first n keys of keys[] from map, in one batch. */
static int map_delete_keys(struct bpf_map *map, const void *keys, size_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bopts);
	__u32 count = n;

	if (n && bpf_map_delete_batch(bpf_map__fd(map), keys, &count, &bopts))
		return -errno;
	return 0;
}

/* Deletes the entries of keys[] (a map_read_all copy) whose leading u32
 * is tgid. */
static int map_delete_tgid(struct bpf_map *map, void *keys, size_t key_size,
			   size_t n, uint32_t tgid)
{
	size_t i, kept = 0;
	char *k = keys;

	for (i = 0; i < n; i++) {
		uint32_t owner;

		memcpy(&owner, k + i * key_size, sizeof(owner));
		if (owner == tgid)
			memmove(k + kept++ * key_size, k + i * key_size,
				key_size);
	}
	return map_delete_keys(map, keys, kept);
}

int probes__forget_process(struct probes *p, pid_t tgid)
{
	struct bpf_map *maps[2] = { p->skel->maps.parked, p->skel->maps.sites };
	size_t key_sizes[2] = { sizeof(struct glt_gkey),
				sizeof(struct glt_skey) };
	size_t val_sizes[2] = { sizeof(struct glt_parked),
				sizeof(struct glt_site) };
	void *keys, *vals;
	int i, err = 0;
	size_t n;

	for (i = 0; !err && i < 2; i++) {
		err = map_read_all(maps[i], key_sizes[i], val_sizes[i], &keys,
				   &vals, &n);
		if (err)
			break;
		err = map_delete_tgid(maps[i], keys, key_sizes[i], n, tgid);
		free(keys);
		free(vals);
	}
	return err;
}

/* Whether a parked-map entry still describes its goroutine: a scan found
 * it parked, in the same g, for the same reason. */
static bool still_parked(const struct snapshot *snap, uint64_t g,
			 const struct glt_parked *rec)
{
	const struct snapshot_g *sg = snapshot__find(snap, rec->goid);

	return sg && sg->g == g && sg->reason == rec->reason;
}

int probes__prune_parked(struct probes *p, uint64_t before_ns,
			 const struct snapshot *(*snap_of)(pid_t, void *),
			 void *arg)
{
	const struct snapshot *snap = NULL;
	struct glt_parked *vals = NULL;
	struct glt_gkey *keys = NULL;
	size_t i, n, stale = 0;
	uint32_t tgid = 0;
	int err;

	err = probes__read_parked(p, &keys, &vals, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		if (!i || keys[i].tgid != tgid) {
			tgid = keys[i].tgid;
			snap = snap_of((pid_t)tgid, arg);
		}
		if (!snap || vals[i].park_ns >= before_ns ||
		    still_parked(snap, keys[i].g, &vals[i]))
			continue;
		keys[stale++] = keys[i];
	}
	err = map_delete_keys(p->skel->maps.parked, keys, stale);
	free(keys);
	free(vals);
	return err;
}
