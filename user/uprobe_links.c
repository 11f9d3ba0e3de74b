// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "uprobe_links.h"

/* From Linux 6.6's uapi, which the build's linux/bpf.h may predate. */
#define GLT_BPF_TRACE_UPROBE_MULTI 48
#define GLT_BPF_LINK_CREATE 28

/* union bpf_attr's link_create, uprobe_multi member. */
struct uprobe_multi_attr {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint64_t path;
	uint64_t offsets;
	uint64_t ref_ctr_offsets;
	uint64_t cookies;
	uint32_t cnt;
	uint32_t multi_flags;
	uint32_t pid;
	uint32_t pad;
};

static int link_create(struct uprobe_multi_attr *attr)
{
	int fd = syscall(__NR_bpf, GLT_BPF_LINK_CREATE, attr, sizeof(*attr));

	return fd < 0 ? -errno : fd;
}

void uprobe_multi__prepare(struct bpf_program *prog)
{
	bpf_program__set_expected_attach_type(prog,
		(enum bpf_attach_type)GLT_BPF_TRACE_UPROBE_MULTI);
}

/* libbpf's own probe: a kernel with uprobe_multi loads the program and
 * refuses the directory "/" as a file to probe with EBADF; an older one
 * refuses the attach type with EINVAL. */
static bool probe_uprobe_multi(void)
{
	static const struct bpf_insn ret0[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type =
			(enum bpf_attach_type)GLT_BPF_TRACE_UPROBE_MULTI);
	uint64_t offset = 0;
	struct uprobe_multi_attr attr = {
		.attach_type = GLT_BPF_TRACE_UPROBE_MULTI,
		.path = (uintptr_t)"/", .offsets = (uintptr_t)&offset,
		.cnt = 1,
	};
	int prog, fd;

	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", ret0, 2,
			     &opts);
	if (prog < 0)
		return false;
	attr.prog_fd = prog;
	fd = link_create(&attr);
	close(prog);
	if (fd >= 0)
		close(fd);
	return fd == -EBADF;
}

bool uprobe_multi__supported(void)
{
	/* Asked by the probes and by the budget's calibration. */
	static int known = -1;

	if (known < 0)
		known = probe_uprobe_multi();
	return known;
}

int uprobe_multi__attach(int prog_fd, const char *path, pid_t pid,
			 const uint64_t *offsets, const uint64_t *cookies,
			 uint32_t n)
{
	struct uprobe_multi_attr attr = {
		.prog_fd = prog_fd,
		.attach_type = GLT_BPF_TRACE_UPROBE_MULTI,
		.path = (uintptr_t)path, .offsets = (uintptr_t)offsets,
		.cookies = (uintptr_t)cookies, .cnt = n,
		.pid = pid > 0 ? (uint32_t)pid : 0,
	};

	return link_create(&attr);
}

struct link_reaper_item {
	struct bpf_link *link;
	int fd;
};

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void item_destroy(const struct link_reaper_item *it)
{
	if (it->link)
		bpf_link__destroy(it->link);
	else if (it->fd >= 0)
		close(it->fd);
}

static void *reaper_main(void *arg)
{
	struct link_reaper *r = arg;
	struct link_reaper_item it;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (!r->n && !r->stopping)
			pthread_cond_wait(&r->wake, &r->lock);
		if (!r->n)
			break;
		it = r->items[0];
		memmove(r->items, r->items + 1, --r->n * sizeof(*r->items));
		r->busy++;
		pthread_mutex_unlock(&r->lock);
		item_destroy(&it);
		pthread_mutex_lock(&r->lock);
		r->busy--;
		r->idle_since_ns = monotonic_ns();
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

void link_reaper__init(struct link_reaper *r)
{
	*r = (struct link_reaper){};
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->wake, NULL);
}

void link_reaper__put(struct link_reaper *r, struct bpf_link *link, int fd)
{
	struct link_reaper_item it = { .link = link, .fd = link ? -1 : fd };
	struct link_reaper_item *items;
	bool queued = false;

	if (!link && fd < 0)
		return;
	pthread_mutex_lock(&r->lock);
	if (!r->started && !pthread_create(&r->thread, NULL, reaper_main, r))
		r->started = true;
	if (r->started && r->n == r->cap) {
		items = realloc(r->items, (r->cap * 2 + 8) * sizeof(*items));
		if (items) {
			r->items = items;
			r->cap = r->cap * 2 + 8;
		}
	}
	if (r->started && r->n < r->cap) {
		r->items[r->n++] = it;
		queued = true;
		pthread_cond_signal(&r->wake);
	}
	pthread_mutex_unlock(&r->lock);
	if (!queued) {
		item_destroy(&it);
		pthread_mutex_lock(&r->lock);
		r->idle_since_ns = monotonic_ns();
		pthread_mutex_unlock(&r->lock);
	}
}

bool link_reaper__busy(struct link_reaper *r, uint64_t *idle_since_ns)
{
	bool busy;

	pthread_mutex_lock(&r->lock);
	busy = r->n || r->busy;
	if (idle_since_ns)
		*idle_since_ns = r->idle_since_ns;
	pthread_mutex_unlock(&r->lock);
	return busy;
}

void link_reaper__free(struct link_reaper *r)
{
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	if (r->started)
		pthread_join(r->thread, NULL);
	free(r->items);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->wake);
}
