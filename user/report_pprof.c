// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The profile is built as protobuf-c messages (proto/profile.proto) with
 * de-duplicated strings, functions and locations, packed, gzipped in
 * memory, and written to a temporary file that is renamed over the
 * target name, so readers never see half a profile. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "cli.h"
#include "proto/profile.pb-c.h"
#include "report_pprof.h"

#define MAX_INLINE 16
#define EXAMPLE_GOIDS 8
#define MAX_LABELS (3 + EXAMPLE_GOIDS)

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__ValueType ValueType;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Label Label;
typedef Perftools__Profiles__Mapping Mapping;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__Function Function;

struct report_pprof {
	char *path;		/* as given: the file, or the directory */
	char *prefix;		/* path up to the file names, for messages */
	char *base;		/* the file's name; NULL for a directory */
	int dirfd;		/* where the files go, opened once */
	pid_t pid;
	char exe[PATH_MAX];	/* the mapping's name, as the target sees it */
	uint64_t map_start, map_limit, map_offset;
	char last[PATH_MAX];
	unsigned keep;		/* --keep: profiles of pid kept, 0 = all */
};

/* Open addressing, linear probing. idx is an array index + 1, 0 = empty. */
struct slot {
	uint64_t key;
	size_t idx;
};

struct table {
	struct slot *slots;
	size_t mask, n;
};

/* What one profile is built from. Messages that are looked up while the
 * profile grows live in realloc'ed arrays (and are only pointed to once
 * complete); everything else comes from the arena. */
struct builder {
	const struct report_info *info;
	void **arena;
	size_t narena, cap_arena;
	char **strs;
	size_t nstrs, cap_strs;
	struct table str_index;
	Function *funcs;
	size_t nfuncs, cap_funcs;
	struct table func_index;
	struct built_loc {
		Location msg;
		bool goexit;	/* the runtime.goexit sentinel: stack ends */
	} *locs;
	size_t nlocs, cap_locs;
	struct table loc_index;
	int64_t *comments;
	size_t ncomments, cap_comments;
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h;
}

/* The slot holding key, or the empty one where it goes. With strs set,
 * keys are string hashes and a match must also be the same string s. */
static struct slot *table_slot(const struct table *t, uint64_t key,
			       const char *s, char *const *strs)
{
	size_t i = mix64(key) & t->mask;
	struct slot *sl;

	for (;; i = (i + 1) & t->mask) {
		sl = &t->slots[i];
		if (!sl->idx)
			return sl;
		if (sl->key == key && (!strs || !strcmp(strs[sl->idx - 1], s)))
			return sl;
	}
}

/* Keeps the table at most half full, so probing always ends. */
static int table_reserve(struct table *t)
{
	size_t size = t->slots ? t->mask + 1 : 0, nsize, i, j;
	struct slot *ns;

	if (t->slots && (t->n + 1) * 2 <= size)
		return 0;
	nsize = size ? size * 2 : 256;
	ns = calloc(nsize, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (i = 0; i < size; i++) {
		if (!t->slots[i].idx)
			continue;
		for (j = mix64(t->slots[i].key) & (nsize - 1); ns[j].idx;
		     j = (j + 1) & (nsize - 1))
			;
		ns[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = ns;
	t->mask = nsize - 1;
	return 0;
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static void *arena_alloc(struct builder *b, size_t size)
{
	void *p;

	if (grow((void **)&b->arena, &b->cap_arena, b->narena,
		 sizeof(*b->arena)))
		return NULL;
	p = calloc(1, size ? size : 1);
	if (p)
		b->arena[b->narena++] = p;
	return p;
}

static void builder__free(struct builder *b)
{
	size_t i;

	for (i = 0; i < b->narena; i++)
		free(b->arena[i]);
	for (i = 0; i < b->nstrs; i++)
		free(b->strs[i]);
	free(b->arena);
	free(b->strs);
	free(b->str_index.slots);
	free(b->funcs);
	free(b->func_index.slots);
	free(b->locs);
	free(b->loc_index.slots);
	free(b->comments);
}

/* Index of s in the string table, added if new; negative errno. */
static int64_t intern(struct builder *b, const char *s)
{
	uint64_t key = hash_str(s);
	struct slot *sl;
	char *copy;

	if (table_reserve(&b->str_index) ||
	    grow((void **)&b->strs, &b->cap_strs, b->nstrs, sizeof(*b->strs)))
		return -ENOMEM;
	sl = table_slot(&b->str_index, key, s, b->strs);
	if (sl->idx)
		return sl->idx - 1;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	b->strs[b->nstrs++] = copy;
	sl->key = key;
	sl->idx = b->nstrs;
	b->str_index.n++;
	return b->nstrs - 1;
}

/* Function id for (name, file), added if new; 0 on failure. */
static uint64_t intern_func(struct builder *b, const char *name,
			    const char *file)
{
	int64_t name_i = intern(b, name), file_i = intern(b, file);
	Function *f;
	struct slot *sl;
	uint64_t key;

	/* Both are below 2^32: a table of 4G strings is not built here. */
	if (name_i < 0 || file_i < 0 || table_reserve(&b->func_index) ||
	    grow((void **)&b->funcs, &b->cap_funcs, b->nfuncs,
		 sizeof(*b->funcs)))
		return 0;
	key = (uint64_t)name_i << 32 | (uint64_t)file_i;
	sl = table_slot(&b->func_index, key, NULL, NULL);
	if (sl->idx)
		return sl->idx;
	f = &b->funcs[b->nfuncs++];
	perftools__profiles__function__init(f);
	f->id = b->nfuncs;
	f->name = name_i;
	f->system_name = name_i;
	f->filename = file_i;
	sl->key = key;
	sl->idx = b->nfuncs;
	b->func_index.n++;
	return f->id;
}

/* Location id for a runtime pc (a return address), added with its logical
 * frames if new; 0 on failure. */
static uint64_t intern_loc(struct builder *b, uint64_t pc, bool *goexit)
{
	const struct report_info *info = b->info;
	struct pclntab_frame frames[MAX_INLINE];
	struct built_loc *bl;
	Location *loc;
	struct slot *sl;
	Line *lines;
	int i, n;

	if (table_reserve(&b->loc_index) ||
	    grow((void **)&b->locs, &b->cap_locs, b->nlocs, sizeof(*b->locs)))
		return 0;
	sl = table_slot(&b->loc_index, pc, NULL, NULL);
	if (sl->idx) {
		*goexit = b->locs[sl->idx - 1].goexit;
		return sl->idx;
	}
	/* The call itself is at pc - 1. */
	n = gobin__symbolize_caller(info->bin, pc - info->target->load_bias,
				    frames, MAX_INLINE);
	if (n < 0)
		n = 0;
	lines = arena_alloc(b, n * sizeof(*lines));
	bl = &b->locs[b->nlocs];
	loc = &bl->msg;
	perftools__profiles__location__init(loc);
	loc->line = arena_alloc(b, n * sizeof(*loc->line));
	if (!lines || !loc->line)
		return 0;
	/* pprof wants the same order: line[i] inlined into line[i + 1]. */
	for (i = 0; i < n; i++) {
		perftools__profiles__line__init(&lines[i]);
		lines[i].function_id = intern_func(b, frames[i].func,
						   frames[i].file);
		if (!lines[i].function_id)
			return 0;
		lines[i].line = frames[i].line;
		loc->line[i] = &lines[i];
	}
	loc->n_line = n;
	loc->id = b->nlocs + 1;
	loc->mapping_id = 1;
	loc->address = pc;
	bl->goexit = n > 0 && !strcmp(frames[n - 1].func, "runtime.goexit");
	*goexit = bl->goexit;
	b->nlocs++;
	sl->key = pc;
	sl->idx = b->nlocs;
	b->loc_index.n++;
	return loc->id;
}

static int add_comment(struct builder *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int add_comment(struct builder *b, const char *fmt, ...)
{
	char text[512];
	int64_t idx;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	idx = intern(b, text);
	if (idx < 0 ||
	    grow((void **)&b->comments, &b->cap_comments, b->ncomments,
		 sizeof(*b->comments)))
		return -ENOMEM;
	b->comments[b->ncomments++] = idx;
	return 0;
}

static int add_comments(struct builder *b, const struct gtable *gt)
{
	const struct report_info *info = b->info;
	const struct glt_counters *c = info->counters;
	const struct gt_stats *s = &gt->stats;
	char threshold[32];
	int err;

	cli__format_duration(info->threshold_ns, threshold, sizeof(threshold));
	err = add_comment(b, "go version: %s", gobin__go_version(info->bin));
	if (!err)
		err = add_comment(b, "pid: %d (%s)", (int)info->target->pid,
				  info->target->comm);
	if (!err)
		err = add_comment(b, "threshold: %s; %zu goroutines parked >= "
				  "%s in %zu groups (%s report)", threshold,
				  gt->ngoroutines, threshold, gt->ngroups,
				  info->final ? "final" : "interval");
	if (!err)
		err = add_comment(b, "events: %llu parks, %llu spawns, "
		"%llu exits; %llu goroutines tracked",
		(unsigned long long)c->parks, (unsigned long long)c->spawns,
		(unsigned long long)c->exits, (unsigned long long)s->tracked);
	if (!err)
		err = add_comment(b, "dropped: %llu parks (map full), "
		"%llu site counts (map full), %llu probe reads failed, "
		"%llu target reads failed",
		(unsigned long long)c->parked_map_full,
		(unsigned long long)c->sites_map_full,
		(unsigned long long)c->read_failed,
		(unsigned long long)s->read_failed);
	if (!err)
		err = add_comment(b, "skipped: %llu woken since parked, "
		"%llu reused g, %llu changed while read, "
		"%llu runtime goroutines (--all)",
		(unsigned long long)s->woken, (unsigned long long)s->reused,
		(unsigned long long)s->raced,
		(unsigned long long)s->hidden_system);
	return err;
}

static int str_label(struct builder *b, Label *l, const char *key,
		     const char *val)
{
	perftools__profiles__label__init(l);
	l->key = intern(b, key);
	l->str = intern(b, val);
	return l->key < 0 || l->str < 0 ? -ENOMEM : 0;
}

/* "main.spawnAll at /src/main.go:161", what the terminal prints. */
void report_pprof__creator(const struct report_info *info, uint64_t gopc,
			   char *buf, size_t size)
{
	struct pclntab_frame frames[MAX_INLINE];
	uint64_t pc = gopc - info->target->load_bias - 1;
	int n;

	n = gopc ? gobin__symbolize(info->bin, pc, frames, MAX_INLINE) : -1;
	if (n <= 0)
		snprintf(buf, size, "? at 0x%llx", (unsigned long long)gopc);
	else
		snprintf(buf, size, "%s at %s:%d", frames[0].func,
			 frames[0].file, frames[0].line);
}

static int add_sample(struct builder *b, const struct gt_group *g,
		      Sample *s)
{
	const struct report_info *info = b->info;
	char creator[PATH_MAX + 256];
	uint64_t parked = 0;
	bool goexit = false;
	Label *labels;
	size_t i, nl = 0;
	int err;

	perftools__profiles__sample__init(s);
	s->location_id = arena_alloc(b, g->npcs * sizeof(*s->location_id));
	s->value = arena_alloc(b, 2 * sizeof(*s->value));
	s->label = arena_alloc(b, MAX_LABELS * sizeof(*s->label));
	labels = arena_alloc(b, MAX_LABELS * sizeof(*labels));
	if (!s->location_id || !s->value || !s->label || !labels)
		return -ENOMEM;
	/* Leaf first, like the terminal: ends before runtime.goexit. */
	for (i = 0; i < (size_t)g->npcs; i++) {
		uint64_t id = intern_loc(b, g->pcs[i], &goexit);

		if (!id)
			return -ENOMEM;
		if (goexit)
			break;
		s->location_id[s->n_location_id++] = id;
	}
	for (i = 0; i < g->count; i++)
		parked += g->parked_ns[i];
	s->value[0] = g->count;
	s->value[1] = parked;
	s->n_value = 2;

	report_pprof__creator(info, g->gopc, creator, sizeof(creator));
	err = str_label(b, &labels[nl++], "wait_reason",
			gobin__wait_reason(info->bin, g->reason));
	if (!err)
		err = str_label(b, &labels[nl++], "class",
				gtable__class_name(g->class));
	if (!err)
		err = str_label(b, &labels[nl++], "created_by", creator);
	if (err)
		return err;
	/* A few members to look up in a goroutine dump. */
	for (i = 0; i < g->count && i < EXAMPLE_GOIDS; i++, nl++) {
		perftools__profiles__label__init(&labels[nl]);
		labels[nl].key = intern(b, "goid");
		labels[nl].num = g->goids[i];
		if (labels[nl].key < 0)
			return -ENOMEM;
	}
	for (i = 0; i < nl; i++)
		s->label[i] = &labels[i];
	s->n_label = nl;
	return 0;
}

/* Collects the realloc'ed messages into the pointer arrays protobuf-c
 * wants, now that they no longer move. */
static int link_messages(struct builder *b, Profile *p)
{
	size_t i;

	p->function = arena_alloc(b, b->nfuncs * sizeof(*p->function));
	p->location = arena_alloc(b, b->nlocs * sizeof(*p->location));
	if (!p->function || !p->location)
		return -ENOMEM;
	for (i = 0; i < b->nfuncs; i++)
		p->function[i] = &b->funcs[i];
	for (i = 0; i < b->nlocs; i++)
		p->location[i] = &b->locs[i].msg;
	p->n_function = b->nfuncs;
	p->n_location = b->nlocs;
	p->string_table = b->strs;
	p->n_string_table = b->nstrs;
	p->comment = b->comments;
	p->n_comment = b->ncomments;
	return 0;
}

static int gzip_buf(const uint8_t *in, size_t in_len, uint8_t **out,
		    size_t *out_len)
{
	z_stream zs = {};
	uint8_t *buf = NULL;
	uLong bound;
	int err = -ENOMEM;

	/* windowBits 15 + 16: a gzip header, as pprof files have. */
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	bound = deflateBound(&zs, in_len);
	buf = malloc(bound);
	if (!buf)
		goto out;
	zs.next_in = (Bytef *)in;
	zs.avail_in = in_len;
	zs.next_out = buf;
	zs.avail_out = bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		err = -EIO;
		goto out;
	}
	*out = buf;
	*out_len = zs.total_out;
	buf = NULL;
	err = 0;
out:
	deflateEnd(&zs);
	free(buf);
	return err;
}

int report_pprof__encode(const struct report_pprof *r,
			 const struct report_info *info,
			 const struct gtable *gt, uint64_t time_ns,
			 uint8_t **buf, size_t *len)
{
	struct builder b = { .info = info };
	Profile p = PERFTOOLS__PROFILES__PROFILE__INIT;
	ValueType types[2], period;
	ValueType *type_ptrs[2] = { &types[0], &types[1] };
	Mapping map = PERFTOOLS__PROFILES__MAPPING__INIT;
	Mapping *map_ptr = &map;
	uint8_t *packed = NULL;
	Sample *samples;
	size_t i, size;
	int err = -ENOMEM;

	*buf = NULL;
	*len = 0;
	/* Index 0 must be the empty string. */
	if (intern(&b, "") < 0)
		goto out;
	/* goroutine/count first: pprof then reads it like Go's own
	 * goroutine profile. */
	perftools__profiles__value_type__init(&types[0]);
	perftools__profiles__value_type__init(&types[1]);
	perftools__profiles__value_type__init(&period);
	types[0].type = period.type = intern(&b, "goroutine");
	types[0].unit = period.unit = intern(&b, "count");
	types[1].type = intern(&b, "parked");
	types[1].unit = intern(&b, "nanoseconds");
	if (types[0].type < 0 || types[0].unit < 0 || types[1].type < 0 ||
	    types[1].unit < 0)
		goto out;
	p.sample_type = type_ptrs;
	p.n_sample_type = 2;
	p.period_type = &period;
	p.period = 1;
	p.default_sample_type = types[0].type;
	p.time_nanos = time_ns;
	p.duration_nanos = info->elapsed_ns;

	map.id = 1;
	map.memory_start = r->map_start;
	map.memory_limit = r->map_limit;
	map.file_offset = r->map_offset;
	map.filename = intern(&b, r->exe);
	map.build_id = intern(&b, gobin__build_id(info->bin));
	if (map.filename < 0 || map.build_id < 0)
		goto out;
	/* Symbolized here: pprof must not look for the binary itself. */
	map.has_functions = map.has_filenames = map.has_line_numbers = true;
	map.has_inline_frames = true;
	p.mapping = &map_ptr;
	p.n_mapping = 1;

	samples = arena_alloc(&b, gt->ngroups * sizeof(*samples));
	p.sample = arena_alloc(&b, gt->ngroups * sizeof(*p.sample));
	if (!samples || !p.sample)
		goto out;
	for (i = 0; i < gt->ngroups; i++) {
		err = add_sample(&b, &gt->groups[i], &samples[i]);
		if (err)
			goto out;
		p.sample[i] = &samples[i];
	}
	p.n_sample = gt->ngroups;
	err = add_comments(&b, gt);
	if (!err)
		err = link_messages(&b, &p);
	if (err)
		goto out;

	err = -ENOMEM;
	size = perftools__profiles__profile__get_packed_size(&p);
	packed = malloc(size ? size : 1);
	if (!packed)
		goto out;
	perftools__profiles__profile__pack(&p, packed);
	err = gzip_buf(packed, size, buf, len);
out:
	free(packed);
	builder__free(&b);
	return err;
}

/* The main executable's text mapping, from /proc/PID/maps. Without one
 * (a vanished process, an odd layout) the whole file from the load bias
 * stands in: the locations carry their symbols anyway. */
static void read_mapping(struct report_pprof *r, const struct target *t)
{
	char path[64], line[PATH_MAX + 128];
	unsigned long long start, end, off;
	struct stat st;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)t->pid);
	n = readlink(path, r->exe, sizeof(r->exe) - 1);
	r->exe[n > 0 ? n : 0] = '\0';
	if (n <= 0)
		snprintf(r->exe, sizeof(r->exe), "%s", t->comm);
	r->map_start = t->load_bias;
	r->map_limit = t->load_bias +
		       (fstat(t->exe_fd, &st) ? 0 : (uint64_t)st.st_size);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)t->pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char perms[8];
		int name = 0;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &start, &end,
			   perms, &off, &name) != 4 || !name)
			continue;
		if (perms[2] != 'x' || strcmp(line + name, r->exe))
			continue;
		r->map_start = start;
		r->map_limit = end;
		r->map_offset = off;
		break;
	}
	fclose(f);
}

/* Opens the directory the profiles go to. A symlink as its last
 * component is followed only where others cannot have planted it: not
 * in a world-writable directory such as /tmp. */
static int open_out_dir(const char *dir, int *out)
{
	char *copy, *slash, *parent = NULL;
	size_t len = strlen(dir);
	struct stat st;
	int fd, err = 0;

	/* A trailing slash would make open() follow the link. */
	while (len > 1 && dir[len - 1] == '/')
		len--;
	copy = strndup(dir, len);
	if (!copy)
		return -ENOMEM;
	fd = open(copy, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && !lstat(copy, &st) && S_ISLNK(st.st_mode)) {
		slash = strrchr(copy, '/');
		parent = slash ? strndup(copy, slash - copy + 1) : strdup(".");
		if (!parent) {
			err = -ENOMEM;
			goto out;
		}
		if (!stat(parent, &st) && (st.st_mode & S_IWOTH)) {
			fprintf(stderr, "goleaktrace: refusing to write profiles "
				"into %s: it is a symlink in the world-writable "
				"directory %s, where anyone could have planted "
				"it; give the real directory\n", dir, parent);
			err = -ELOOP;
			goto out;
		}
		fd = open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "goleaktrace: failed to open output directory "
			"%s: %s\n", dir, strerror(errno));
		goto out;
	}
	if (faccessat(fd, ".", W_OK, 0)) {
		err = -errno;
		fprintf(stderr, "goleaktrace: failed to open output directory "
			"%s: %s\n", dir, strerror(errno));
		close(fd);
		goto out;
	}
	*out = fd;
out:
	free(parent);
	free(copy);
	return err;
}

int report_pprof__open(struct report_pprof **out, const char *path,
		       const struct target *t)
{
	struct report_pprof *r = NULL;
	size_t len = strlen(path);
	char *dir = NULL, *slash;
	struct stat st;
	bool is_dir;
	int err;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path))) {
		err = -ENOMEM;
		goto out;
	}
	r->dirfd = -1;
	r->pid = t->pid;
	is_dir = len && path[len - 1] == '/';
	if (is_dir && mkdir(path, 0755) && errno != EEXIST) {
		err = -errno;
		fprintf(stderr, "goleaktrace: failed to create directory "
			"%s: %s\n", path, strerror(errno));
		goto out;
	}
	if (!stat(path, &st) && S_ISDIR(st.st_mode))
		is_dir = true;
	/* Fail now rather than at the first report. */
	if (is_dir) {
		dir = strdup(path);
		r->prefix = malloc(len + 2);
		if (r->prefix)
			sprintf(r->prefix, "%s%s", path,
				path[len - 1] == '/' ? "" : "/");
	} else {
		slash = strrchr(path, '/');
		dir = slash ? strndup(path, slash - path + 1) : strdup(".");
		r->prefix = slash ? strndup(path, slash - path + 1) : strdup("");
		r->base = strdup(slash ? slash + 1 : path);
	}
	if (!dir || !r->prefix || (!is_dir && !r->base)) {
		err = -ENOMEM;
		goto out;
	}
	err = open_out_dir(dir, &r->dirfd);
	if (err)
		goto out;
	/* The file is replaced at each report: never a link, which rename()
	 * would replace too, but a link there was planted or is a mistake. */
	if (!is_dir && !fstatat(r->dirfd, r->base, &st, AT_SYMLINK_NOFOLLOW) &&
	    !S_ISREG(st.st_mode)) {
		err = S_ISLNK(st.st_mode) ? -ELOOP : -EEXIST;
		fprintf(stderr, "goleaktrace: refusing to write the profile to "
			"%s: it is %s; remove it or choose another -o\n", path,
			S_ISLNK(st.st_mode) ? "a symlink (profiles are never "
			"written through one)" : "not a regular file");
		goto out;
	}
	read_mapping(r, t);
	err = 0;
out:
	free(dir);
	if (err)
		report_pprof__free(r);
	else
		*out = r;
	return err;
}

void report_pprof__free(struct report_pprof *r)
{
	if (!r)
		return;
	if (r->dirfd >= 0)
		close(r->dirfd);
	free(r->path);
	free(r->prefix);
	free(r->base);
	free(r);
}

const char *report_pprof__last_path(const struct report_pprof *r)
{
	return r->last;
}

/* The file's name in the output directory: the -o file's, or
 * goleaktrace-PID-20240501T120000.123Z.pb.gz for a directory. */
static int file_name(const struct report_pprof *r, uint64_t time_ns,
		     char *buf, size_t size)
{
	time_t secs = time_ns / NSEC_PER_SEC;
	char stamp[32];
	struct tm tm;
	int n;

	if (r->base) {
		n = snprintf(buf, size, "%s", r->base);
	} else {
		if (!gmtime_r(&secs, &tm) ||
		    !strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm))
			return -EINVAL;
		n = snprintf(buf, size, "goleaktrace-%d-%s.%03lluZ.pb.gz",
			     (int)r->pid, stamp,
			     (unsigned long long)(time_ns % NSEC_PER_SEC /
						  NSEC_PER_MSEC));
	}
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Moves the written temporary file to name: over the -o file (never a
 * link: rename() replaces the link itself, and one planted since open is
 * refused), or as a new file in a directory, which replaces nothing. */
static int publish(const struct report_pprof *r, const char *tmp,
		   const char *name, const char **why)
{
	struct stat st;

	if (r->base) {
		if (!fstatat(r->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) &&
		    S_ISLNK(st.st_mode)) {
			*why = "it is now a symlink (profiles are never written "
			       "through one); remove it";
			return -ELOOP;
		}
		return renameat(r->dirfd, tmp, r->dirfd, name) ? -errno : 0;
	}
	if (!renameat2(r->dirfd, tmp, r->dirfd, name, RENAME_NOREPLACE))
		return 0;
	/* A file system without RENAME_NOREPLACE: link() never replaces. */
	if (errno == EINVAL && !linkat(r->dirfd, tmp, r->dirfd, name, 0))
		return 0;
	if (errno == EEXIST)
		*why = "something already has its name; remove it";
	return -errno;
}

int report_pprof__write(struct report_pprof *r, const struct report_info *info,
			const struct gtable *gt, uint64_t time_ns)
{
	char name[NAME_MAX + 1], tmp[NAME_MAX + 1];
	const char *what = "encode profile", *why = NULL;
	uint8_t *buf = NULL;
	bool tmp_made = false;
	size_t len;
	int fd = -1, err;

	name[0] = '\0';
	err = file_name(r, time_ns, name, sizeof(name));
	if (err) {
		what = "name profile";
		goto out;
	}
	err = report_pprof__encode(r, info, gt, time_ns, &buf, &len);
	if (err)
		goto out;
	/* In the same directory, so that rename() is atomic. Its name is
	 * known in advance, so it is only ever a new file (O_EXCL), never
	 * something planted there (O_NOFOLLOW). */
	what = "create profile";
	if (snprintf(tmp, sizeof(tmp), ".%.200s.%d.tmp",
		     r->base ? r->base : "goleaktrace", (int)getpid()) < 0) {
		err = -EINVAL;
		goto out;
	}
	fd = openat(r->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		if (err == -EEXIST)
			why = "its temporary file is already there (planted?); "
			      "remove it";
		goto out;
	}
	tmp_made = true;
	what = "write profile";
	err = write_all(fd, buf, len);
	if (!err && fchmod(fd, 0644))
		err = -errno;
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	fd = -1;
	if (!err)
		err = publish(r, tmp, name, &why);
	if (err)
		goto out;
	snprintf(r->last, sizeof(r->last), "%s%s", r->prefix, name);
out:
	if (fd >= 0)
		close(fd);
	if (tmp_made)
		unlinkat(r->dirfd, tmp, 0);
	if (err)
		fprintf(stderr, "goleaktrace: failed to %s %s%s: %s\n", what,
			r->prefix, tmp_made || !why ? name : tmp,
			why ? why : strerror(-err));
	free(buf);
	return err;
}

int report_pprof__open_window(struct report_pprof **out, const char *dir,
			      const struct target *t, unsigned keep)
{
	size_t len = strlen(dir);
	char *path;
	int err;

	/* A trailing '/' makes report_pprof__open take (and create) a
	 * directory, whether or not it exists yet. */
	path = malloc(len + 2);
	if (!path)
		return -ENOMEM;
	snprintf(path, len + 2, "%s%s", dir,
		 len && dir[len - 1] == '/' ? "" : "/");
	err = report_pprof__open(out, path, t);
	free(path);
	if (!err)
		(*out)->keep = keep;
	return err;
}

/* Whether name is one of pid's profiles as file_name() makes them:
 * goleaktrace-PID-YYYYMMDDTHHMMSS.mmmZ.pb.gz. Nothing else is removed. */
static bool is_window_file(const char *name, const char *prefix)
{
	static const char shape[] = "ddddddddTdddddd.dddZ.pb.gz";
	size_t plen = strlen(prefix), i;

	if (strncmp(name, prefix, plen))
		return false;
	name += plen;
	/* Stops at name's NUL, which matches nothing in shape. */
	for (i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? name[i] < '0' || name[i] > '9' :
		    name[i] != shape[i])
			return false;
	return name[i] == '\0';
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int report_pprof__prune(struct report_pprof *r)
{
	char prefix[32], **names = NULL, **grown;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	int fd, err = 0;

	if (!r->keep || r->base)
		return 0;
	snprintf(prefix, sizeof(prefix), "goleaktrace-%d-", (int)r->pid);
	/* A directory stream of its own: r->dirfd keeps its offset. */
	fd = openat(r->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	while ((de = readdir(d))) {
		if (!is_window_file(de->d_name, prefix))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			grown = realloc(names, cap * sizeof(*names));
			if (!grown) {
				err = -ENOMEM;
				goto out;
			}
			names = grown;
		}
		if (!(names[n] = strdup(de->d_name))) {
			err = -ENOMEM;
			goto out;
		}
		n++;
	}
	/* The time stamps have fixed widths: by name is by age. */
	qsort(names, n, sizeof(*names), cmp_name);
	for (i = 0; i + r->keep < n; i++) {
		/* Only what we wrote: a regular file, never through a link. */
		if (fstatat(r->dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(r->dirfd, names[i], 0) && errno != ENOENT && !err)
			err = -errno;
	}
out:
	if (err)
		fprintf(stderr, "goleaktrace: failed to remove old profiles "
			"in %s: %s\n", r->prefix, strerror(-err));
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (d)
		closedir(d);
	return err;
}
