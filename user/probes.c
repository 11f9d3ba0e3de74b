// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "probes.h"
#include "goleaktrace.skel.h"
#include "prologue.h"

#define PROLOGUE_BYTES 32

struct probes {
	struct goleaktrace_bpf *skel;
	struct probes_plan plan;
};

int probes__open(struct probes **out, const struct gobin *bin,
		 const struct probes_opts *opts, const char **errmsg)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts,
		    .btf_custom_path = opts->btf_path);
	const struct go_offsets *o = gobin__offsets(bin);
	struct probes *p;
	int err;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->skel = goleaktrace_bpf__open_opts(&oopts);
	if (!p->skel) {
		err = -errno;
		*errmsg = "failed to open the BPF object";
		goto out;
	}
	p->skel->rodata->cfg.g_goid = o->g_goid;
	p->skel->rodata->cfg.g_gopc = o->g_gopc;
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
	{ "runtime.ready" },
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

int probes__attach(struct probes *p, const struct gobin *bin,
		   const struct target *t, const char **errmsg)
{
	struct goleaktrace_bpf *s = p->skel;
	struct bpf_program *progs[PROBES_COUNT] = {
		s->progs.on_gopark, s->progs.on_ready, s->progs.on_newproc1,
		s->progs.on_gexit,
	};
	/* The skeleton's destroy detaches the links kept in its slots. */
	struct bpf_link **slots[PROBES_COUNT] = {
		&s->links.on_gopark, &s->links.on_ready, &s->links.on_newproc1,
		&s->links.on_gexit,
	};
	int i, err;

	err = probes__plan(bin, &p->plan, errmsg);
	for (i = 0; !err && i < PROBES_COUNT; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, uopts);

		*slots[i] = bpf_program__attach_uprobe_opts(progs[i], t->pid,
			t->exe_path, p->plan.points[i].file_offset, &uopts);
		if (!*slots[i]) {
			err = -errno;
			*errmsg = err == -EACCES || err == -EPERM ?
				"attaching uprobes needs CAP_SYS_ADMIN on this "
				"kernel besides CAP_BPF, CAP_PERFMON and "
				"CAP_SYS_PTRACE: run as root, or use --no-probes" :
				"failed to attach a uprobe (kernel without "
				"uprobes?)";
		}
	}
	return err;
}

void probes__free(struct probes *p)
{
	if (!p)
		return;
	goleaktrace_bpf__destroy(p->skel);
	free(p);
}

int probes__counters(const struct probes *p, struct glt_counters *out)
{
	*out = p->skel->bss->counters;
	return 0;
}

/* Copies every entry of a hash map (u64 keys) with batched lookups,
 * which is one syscall per batch instead of two per entry. */
static int map_read_all(struct bpf_map *map, size_t value_size,
			uint64_t **keys_out, void **vals_out, size_t *n_out)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bopts);
	size_t cap = bpf_map__max_entries(map), n = 0;
	int fd = bpf_map__fd(map), err = 0;
	uint64_t batch_key, *keys;
	void *in = NULL, *vals;
	__u32 count;

	keys = calloc(cap ? cap : 1, sizeof(*keys));
	vals = calloc(cap ? cap : 1, value_size);
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (n < cap) {
		count = cap - n;
		err = bpf_map_lookup_batch(fd, in, &batch_key, keys + n,
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

int probes__read_parked(const struct probes *p, uint64_t **goids,
			struct glt_parked **parked, size_t *n)
{
	return map_read_all(p->skel->maps.parked, sizeof(**parked), goids,
			    (void **)parked, n);
}

int probes__read_sites(const struct probes *p, uint64_t **pcs,
		       struct glt_site **sites, size_t *n)
{
	return map_read_all(p->skel->maps.sites, sizeof(**sites), pcs,
			    (void **)sites, n);
}

const struct probes_plan *probes__get_plan(const struct probes *p)
{
	return &p->plan;
}
