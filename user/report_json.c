// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "report_json.h"

#define MAX_INLINE 16

void report_json__init(struct report_json *r, FILE *out)
{
	r->out = out;
}

/* Length of the valid UTF-8 sequence at s, 0 when it is not one (stray
 * continuation byte, overlong form, surrogate, above U+10FFFF, cut short
 * by the terminating NUL: each test stops before reading past it). */
static int utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

void report_json__string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n;

	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	while (*p) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\b':
			fputs("\\b", out);
			break;
		case '\f':
			fputs("\\f", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				fprintf(out, "\\u%04x", *p);
				break;
			}
			n = utf8_len(p);
			if (!n) {
				/* One replacement per bad byte, as Go's
				 * encoding/json does. */
				fputs("\\ufffd", out);
				break;
			}
			/* U+2028/2029 end a line in JavaScript. */
			if (n == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
			    (p[2] == 0xa8 || p[2] == 0xa9)) {
				fprintf(out, "\\u%04x", 0x2028 + (p[2] - 0xa8));
				p += n;
				continue;
			}
			fwrite(p, 1, n, out);
			p += n;
			continue;
		}
		p++;
	}
	fputc('"', out);
}

void report_json__format_time(uint64_t time_ns, char *buf, size_t size)
{
	time_t secs = time_ns / NSEC_PER_SEC;
	char date[24];
	struct tm tm;

	if (!gmtime_r(&secs, &tm) ||
	    !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(date, sizeof(date), "1970-01-01T00:00:00");
	snprintf(buf, size, "%s.%03lluZ", date,
		 (unsigned long long)(time_ns % NSEC_PER_SEC / NSEC_PER_MSEC));
}

static void print_frame(FILE *out, const char *func, const char *file,
			int line, bool inlined, uint64_t pc, bool first)
{
	fputs(first ? "{\"function\":" : ",{\"function\":", out);
	report_json__string(out, func);
	fputs(",\"file\":", out);
	report_json__string(out, file);
	fprintf(out, ",\"line\":%d,\"inlined\":%s,\"pc\":\"0x%llx\"}", line,
		inlined ? "true" : "false", (unsigned long long)pc);
}

/* Park stack, innermost first, every logical frame, like the terminal:
 * the runtime.goexit sentinel is left out. Every pc is a return address,
 * so the call itself is at pc - 1. */
static void print_frames(FILE *out, const struct report_info *info,
			 const struct gt_group *g)
{
	struct pclntab_frame frames[MAX_INLINE];
	bool first = true;
	int i, j, n;

	fputs(",\"frames\":[", out);
	for (i = 0; i < g->npcs; i++) {
		uint64_t pc = g->pcs[i] - info->target->load_bias;

		n = gobin__symbolize_caller(info->bin, pc, frames, MAX_INLINE);
		if (n <= 0) {
			print_frame(out, "?", "?", 0, false, g->pcs[i], first);
			first = false;
			continue;
		}
		if (!strcmp(frames[n - 1].func, "runtime.goexit"))
			break;
		for (j = 0; j < n; j++, first = false)
			print_frame(out, frames[j].func, frames[j].file,
				    frames[j].line, frames[j].inlined,
				    g->pcs[i], first);
	}
	fputc(']', out);
}

static void print_creator(FILE *out, const struct report_info *info,
			  const struct gt_group *g)
{
	struct pclntab_frame frames[MAX_INLINE];
	uint64_t pc = g->gopc - info->target->load_bias - 1;
	int n;

	n = g->gopc ? gobin__symbolize(info->bin, pc, frames, MAX_INLINE) : -1;
	fputs(",\"created_by\":{\"function\":", out);
	report_json__string(out, n > 0 ? frames[0].func : "?");
	fputs(",\"file\":", out);
	report_json__string(out, n > 0 ? frames[0].file : "?");
	fprintf(out, ",\"line\":%d,\"pc\":\"0x%llx\"}",
		n > 0 ? frames[0].line : 0, (unsigned long long)g->gopc);
	fprintf(out, ",\"site\":{\"spawned\":%llu,\"exited\":%llu}",
		(unsigned long long)g->site.spawned,
		(unsigned long long)g->site.exited);
}

/* What the members wait on: its kind, one shared object (a worker
 * pool's channel, a mutex's semaphore) or each its own. */
static void print_wait_object(FILE *out, const struct gt_group *g)
{
	fputs(",\"wait_object\":{\"kind\":", out);
	report_json__string(out, gtable__object_kind_name(g->object_kind));
	fputs(",\"shared\":", out);
	if (g->object)
		fprintf(out, "\"0x%llx\"", (unsigned long long)g->object);
	else
		fputs("null", out);
	fprintf(out, ",\"distinct\":%zu,\"unknown\":%zu}", g->nobjects,
		g->unknown_objects);
}

/* A list of numbers, written in chunks: a group may have a million
 * members, and one fprintf each costs more than the rest of a report.
 * hex: as "0x..." strings, 0 as null (an unknown object). */
static void print_numbers(FILE *out, const char *name, const uint64_t *v,
			  size_t n, bool hex)
{
	static const char digits[] = "0123456789abcdef";
	char buf[8192], num[24];
	size_t used = 0, i, len;
	unsigned base = hex ? 16 : 10;
	uint64_t x;

	fprintf(out, ",\"%s\":[", name);
	for (i = 0; i < n; i++) {
		if (used > sizeof(buf) - 32) {
			fwrite(buf, 1, used, out);
			used = 0;
		}
		if (i)
			buf[used++] = ',';
		/* Groups built by hand may lack the objects. */
		if (hex && (!v || !v[i])) {
			memcpy(buf + used, "null", 4);
			used += 4;
			continue;
		}
		len = 0;
		x = v[i];
		do {
			num[len++] = digits[x % base];
			x /= base;
		} while (x);
		if (hex) {
			memcpy(buf + used, "\"0x", 3);
			used += 3;
		}
		while (len)
			buf[used++] = num[--len];
		if (hex)
			buf[used++] = '"';
	}
	fwrite(buf, 1, used, out);
	fputc(']', out);
}

static void print_goids(FILE *out, const struct gt_group *g)
{
	print_numbers(out, "goids", g->goids, g->count, false);
	print_numbers(out, "parked_ns", g->parked_ns, g->count, false);
	print_numbers(out, "objects", g->objects, g->count, true);
}

/* "probes": how much of the time they were attached, and their cost. */
static void print_probes_time(FILE *out, const struct budget_report *r)
{
	fprintf(out, ",\"probes\":{\"attached\":%.4f,\"attached_total\":%.4f,"
		"\"overhead_pct\":%.4g,\"overhead_total_pct\":%.4g,"
		"\"budget_pct\":%g,\"ns_per_event\":%.0f,\"limited\":%s}",
		r->attached, r->attached_total, r->overhead_pct,
		r->overhead_total_pct, r->pct, r->ns_per_event,
		r->limited ? "true" : "false");
}

static void print_counters(FILE *out, const struct report_info *info,
			   const struct gtable *gt)
{
	const struct glt_counters *c = info->counters;
	const struct gt_stats *s = &gt->stats;

	fprintf(out, ",\"events\":{\"parks\":%llu,\"spawns\":%llu,"
		"\"exits\":%llu,\"tracked\":%llu}",
		(unsigned long long)c->parks, (unsigned long long)c->spawns,
		(unsigned long long)c->exits, (unsigned long long)s->tracked);
	fprintf(out, ",\"dropped\":{\"parks_map_full\":%llu,"
		"\"sites_map_full\":%llu,\"probe_read_failed\":%llu,"
		"\"target_read_failed\":%llu}",
		(unsigned long long)c->parked_map_full,
		(unsigned long long)c->sites_map_full,
		(unsigned long long)c->read_failed,
		(unsigned long long)s->read_failed);
	if (info->probes_time)
		print_probes_time(out, info->probes_time);
	if (info->maps)
		fprintf(out, ",\"maps\":{\"parked\":%zu,\"parked_max\":%zu,"
			"\"sites\":%zu,\"sites_max\":%zu}", info->maps->parked,
			info->maps->parked_max, info->maps->sites,
			info->maps->sites_max);
	fprintf(out, ",\"skipped\":{\"young\":%llu,\"woken\":%llu,"
		"\"reused\":%llu,\"raced\":%llu,\"hidden_system\":%llu}",
		(unsigned long long)s->young, (unsigned long long)s->woken,
		(unsigned long long)s->reused, (unsigned long long)s->raced,
		(unsigned long long)s->hidden_system);
}

/* "pod": its namespace, name and container, or null outside a pod. */
static void print_pod(FILE *out, const struct report_info *info)
{
	if (!info->pod_name || !*info->pod_name) {
		fputs(",\"pod\":null", out);
		return;
	}
	fputs(",\"pod\":{\"namespace\":", out);
	report_json__string(out, info->pod_namespace);
	fputs(",\"name\":", out);
	report_json__string(out, info->pod_name);
	fputs(",\"container\":", out);
	report_json__string(out, info->pod_container);
	fputc('}', out);
}

static void print_group(FILE *out, const struct report_info *info,
			const struct gtable *gt, size_t idx,
			const char *stamp)
{
	const struct gt_group *g = &gt->groups[idx];

	/* The report this line belongs to. */
	fprintf(out, "{\"time\":\"%s\",\"pid\":%d,\"comm\":", stamp,
		(int)info->target->pid);
	report_json__string(out, info->target->comm);
	fputs(",\"go_version\":", out);
	report_json__string(out, gobin__go_version(info->bin));
	print_pod(out, info);
	fprintf(out, ",\"final\":%s,\"elapsed_ns\":%llu,\"threshold_ns\":%llu,"
		"\"group\":%zu,\"groups\":%zu,\"goroutines\":%zu",
		info->final ? "true" : "false",
		(unsigned long long)info->elapsed_ns,
		(unsigned long long)info->threshold_ns, idx, gt->ngroups,
		gt->ngoroutines);

	/* The group. */
	fprintf(out, ",\"count\":%zu,\"class\":", g->count);
	report_json__string(out, gtable__class_name(g->class));
	fputs(",\"verdict\":", out);
	report_json__string(out, g->verdict);
	fputs(",\"wait_reason\":", out);
	report_json__string(out, gobin__wait_reason(info->bin, g->reason));
	fprintf(out, ",\"wait_reason_index\":%u", g->reason);
	fprintf(out, ",\"oldest_ns\":%llu,\"median_ns\":%llu,"
		"\"lower_bound\":%s",
		(unsigned long long)g->oldest_ns,
		(unsigned long long)g->median_ns,
		g->lower_bound ? "true" : "false");
	/* JSON has no NaN or infinity. */
	if (isfinite(g->growth_per_min))
		fprintf(out, ",\"growth_per_min\":%.6g", g->growth_per_min);
	else
		fputs(",\"growth_per_min\":null", out);
	print_frames(out, info, g);
	print_creator(out, info, g);
	print_wait_object(out, g);
	print_goids(out, g);
	print_counters(out, info, gt);
	fputs("}\n", out);
}

int report_json__print(struct report_json *r, const struct report_info *info,
		       const struct gtable *gt, uint64_t time_ns)
{
	char stamp[32];
	size_t i;

	report_json__format_time(time_ns, stamp, sizeof(stamp));
	for (i = 0; i < gt->ngroups; i++)
		print_group(r->out, info, gt, i, stamp);
	/* Lines are read as they come (| jq): one flush per report. */
	if (fflush(r->out) || ferror(r->out))
		return -EIO;
	return 0;
}
