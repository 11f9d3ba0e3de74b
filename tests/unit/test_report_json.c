// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The JSON lines and pprof reporters. JSON: string escaping (names from a hostile binary
 * must not break a line or the UTF-8 of the output), time stamps, and the
 * shape of a report built from a fake goroutine table symbolized with
 * the real parkzoo fixtures given as arguments. pprof: the same report
 * encoded, gunzipped, decoded with protobuf-c and compared field by
 * field. Needs no root. */
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gobin.h"
#include <zlib.h>
#include "proto/profile.pb-c.h"
#include "report_json.h"
#include "report_pprof.h"
#include "tap.h"

/* --- a strict JSON checker (RFC 8259), enough to reject what a broken
 * escaper would produce: raw control bytes, bad escapes, invalid UTF-8,
 * trailing garbage. */

struct json_in {
	const unsigned char *p;
};

static int json_value(struct json_in *in, int depth);

static void json_ws(struct json_in *in)
{
	while (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' ||
	       *in->p == '\r')
		in->p++;
}

static int json_utf8(struct json_in *in)
{
	const unsigned char *s = in->p;
	int n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return -1;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return -1;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return -1;
	in->p += n;
	return 0;
}

static int json_string(struct json_in *in)
{
	int i;

	if (*in->p++ != '"')
		return -1;
	for (;;) {
		unsigned char c = *in->p;

		if (c == '"') {
			in->p++;
			return 0;
		}
		if (c < 0x20)	/* includes the terminating NUL */
			return -1;
		if (c >= 0x80) {
			if (json_utf8(in))
				return -1;
			continue;
		}
		in->p++;
		if (c != '\\')
			continue;
		c = *in->p++;
		if (strchr("\"\\/bfnrt", c) && c)
			continue;
		if (c != 'u')
			return -1;
		for (i = 0; i < 4; i++)
			if (!strchr("0123456789abcdefABCDEF", *in->p++) ||
			    !in->p[-1])
				return -1;
	}
}

static int json_number(struct json_in *in)
{
	const unsigned char *start = in->p;

	if (*in->p == '-')
		in->p++;
	if (*in->p == '0')
		in->p++;
	else if (*in->p >= '1' && *in->p <= '9')
		while (*in->p >= '0' && *in->p <= '9')
			in->p++;
	else
		return -1;
	if (*in->p == '.') {
		in->p++;
		if (*in->p < '0' || *in->p > '9')
			return -1;
		while (*in->p >= '0' && *in->p <= '9')
			in->p++;
	}
	if (*in->p == 'e' || *in->p == 'E') {
		in->p++;
		if (*in->p == '+' || *in->p == '-')
			in->p++;
		if (*in->p < '0' || *in->p > '9')
			return -1;
		while (*in->p >= '0' && *in->p <= '9')
			in->p++;
	}
	return in->p > start ? 0 : -1;
}

static int json_container(struct json_in *in, int depth, char close)
{
	in->p++;
	json_ws(in);
	if (*in->p == close) {
		in->p++;
		return 0;
	}
	for (;;) {
		json_ws(in);
		if (close == '}') {
			if (json_string(in))
				return -1;
			json_ws(in);
			if (*in->p++ != ':')
				return -1;
		}
		if (json_value(in, depth + 1))
			return -1;
		json_ws(in);
		if (*in->p == ',') {
			in->p++;
			continue;
		}
		return *in->p++ == close ? 0 : -1;
	}
}

static int json_value(struct json_in *in, int depth)
{
	json_ws(in);
	if (depth > 32)
		return -1;
	switch (*in->p) {
	case '{':
		return json_container(in, depth, '}');
	case '[':
		return json_container(in, depth, ']');
	case '"':
		return json_string(in);
	case 't':
		return strncmp((const char *)in->p, "true", 4) ? -1 :
		       (in->p += 4, 0);
	case 'f':
		return strncmp((const char *)in->p, "false", 5) ? -1 :
		       (in->p += 5, 0);
	case 'n':
		return strncmp((const char *)in->p, "null", 4) ? -1 :
		       (in->p += 4, 0);
	default:
		return json_number(in);
	}
}

/* One complete JSON object, nothing after it. */
static int json_valid_object(const char *s)
{
	struct json_in in = { (const unsigned char *)s };

	json_ws(&in);
	if (*in.p != '{' || json_value(&in, 0))
		return 0;
	json_ws(&in);
	return *in.p == '\0';
}

/* --- escaping */

static void check_escape(const char *in, const char *want, const char *what)
{
	char *buf = NULL, name[128];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		ASSERT_TRUE(0, "open_memstream");
		return;
	}
	report_json__string(f, in);
	fclose(f);
	snprintf(name, sizeof(name), "escape %s", what);
	ASSERT_STREQ(buf, want, name);
	/* Every escaped string is a valid JSON value on its own. */
	if (in) {
		char *obj = NULL;

		if (asprintf(&obj, "{\"k\":%s}", buf) > 0) {
			snprintf(name, sizeof(name), "escape %s is valid JSON",
				 what);
			ASSERT_TRUE(json_valid_object(obj), name);
		}
		free(obj);
	}
	free(buf);
}

/* The checker itself must catch what it is here to catch. */
static void test_checker(void)
{
	ASSERT_TRUE(json_valid_object("{\"a\":[1,-2.5e3,true,null,{}],"
				      "\"b\":\"\\u00e9\\n\"}"),
		    "checker accepts valid JSON");
	ASSERT_TRUE(!json_valid_object("{\"a\":\"x\ny\"}"),
		    "checker rejects a raw newline in a string");
	ASSERT_TRUE(!json_valid_object("{\"a\":\"\\x41\"}"),
		    "checker rejects a bad escape");
	ASSERT_TRUE(!json_valid_object("{\"a\":\"\xff\"}"),
		    "checker rejects invalid UTF-8");
	ASSERT_TRUE(!json_valid_object("{\"a\":1}x"),
		    "checker rejects trailing bytes");
	ASSERT_TRUE(!json_valid_object("{\"a\":\"x}"),
		    "checker rejects an open string");
}

static void test_escape(void)
{
	check_escape("main.main", "\"main.main\"", "plain");
	check_escape("", "\"\"", "empty");
	check_escape(NULL, "null", "NULL");
	check_escape("a\"b\\c", "\"a\\\"b\\\\c\"", "quote and backslash");
	check_escape("C:\\go\\\"x\".go", "\"C:\\\\go\\\\\\\"x\\\".go\"",
		     "path with quotes");
	check_escape("\n\t\r\b\f", "\"\\n\\t\\r\\b\\f\"", "short escapes");
	check_escape("a\x01z\x1f\x7f", "\"a\\u0001z\\u001f\\u007f\"",
		     "control bytes and DEL");
	check_escape("/src/caf\xc3\xa9.go", "\"/src/caf\xc3\xa9.go\"",
		     "2-byte UTF-8 kept");
	check_escape("\xe4\xb8\xad\xf0\x9f\x98\x80",
		     "\"\xe4\xb8\xad\xf0\x9f\x98\x80\"",
		     "3- and 4-byte UTF-8 kept");
	check_escape("a\xffz", "\"a\\ufffdz\"", "invalid byte");
	check_escape("a\xc3", "\"a\\ufffd\"", "cut-short sequence at end");
	check_escape("\xc3(", "\"\\ufffd(\"", "lead byte without continuation");
	check_escape("\xc0\xaf", "\"\\ufffd\\ufffd\"", "overlong slash");
	check_escape("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"",
		     "overlong 3-byte");
	check_escape("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"", "surrogate");
	check_escape("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"",
		     "above U+10FFFF");
	check_escape("\x80x", "\"\\ufffdx\"", "stray continuation byte");
	check_escape("a\xe2\x80\xa8" "b\xe2\x80\xa9", "\"a\\u2028b\\u2029\"",
		     "line and paragraph separators");
}

static void test_time(void)
{
	char buf[32];

	report_json__format_time(0, buf, sizeof(buf));
	ASSERT_STREQ(buf, "1970-01-01T00:00:00.000Z", "time: epoch");
	report_json__format_time(1714564800123456789ULL, buf, sizeof(buf));
	ASSERT_STREQ(buf, "2024-05-01T12:00:00.123Z", "time: milliseconds");
}

/* --- a report from a fake table, symbolized with a real binary */

/* Names carry the fixture, as one runs per Go version. */
#define CHECK(cond, name) ({						\
	snprintf(what, sizeof(what), "%s: %s", path, name);		\
	ASSERT_TRUE(cond, what); })
#define CHECK_EQ(actual, expected, name) ({				\
	snprintf(what, sizeof(what), "%s: %s", path, name);		\
	ASSERT_EQ(actual, expected, what); })

/* gunzip into a malloc'ed buffer. */
static int gunzip(const uint8_t *in, size_t len, uint8_t **out, size_t *olen)
{
	z_stream z = { .next_in = (uint8_t *)in, .avail_in = len };
	size_t cap = 1 << 20;
	int rc;

	*out = malloc(cap);
	if (!*out || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -1;
	z.next_out = *out;
	z.avail_out = cap;
	rc = inflate(&z, Z_FINISH);
	*olen = cap - z.avail_out;
	inflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

static const char *str_at(const Perftools__Profiles__Profile *p, int64_t i)
{
	return i >= 0 && (size_t)i < p->n_string_table ? p->string_table[i]
						       : "(bad index)";
}

/* The label value of key in sample s, or NULL. */
static const char *label(const Perftools__Profiles__Profile *p,
			 const Perftools__Profiles__Sample *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->n_label; i++)
		if (!strcmp(str_at(p, s->label[i]->key), key))
			return str_at(p, s->label[i]->str);
	return NULL;
}

static void test_pprof_roundtrip(const char *path,
				 const struct report_info *info,
				 const struct gtable *gt)
{
	const Perftools__Profiles__Sample *s;
	Perftools__Profiles__Profile *p = NULL;
	struct report_pprof *r = NULL;
	uint8_t *gz = NULL, *raw = NULL;
	char dir[] = "/tmp/glt-pprof-XXXXXX", file[64], what[160];
	size_t gzlen = 0, rawlen = 0, i, goids = 0;

	if (!mkdtemp(dir) ||
	    snprintf(file, sizeof(file), "%s/p.pb.gz", dir) < 0 ||
	    report_pprof__open(&r, file, info->target)) {
		CHECK(0, "pprof: open");
		goto out;
	}
	CHECK_EQ(report_pprof__encode(r, info, gt, 1714564800123456789ULL,
				      &gz, &gzlen), 0, "pprof: encode");
	CHECK(gz && !gunzip(gz, gzlen, &raw, &rawlen), "pprof: gunzip");
	p = raw ? perftools__profiles__profile__unpack(NULL, rawlen, raw)
		: NULL;
	if (!CHECK(p, "pprof: protobuf-c decodes it"))
		goto out;
	CHECK(p->n_string_table && !strcmp(p->string_table[0], ""),
	      "pprof: string 0 is empty");
	CHECK(p->n_sample_type == 2 &&
	      !strcmp(str_at(p, p->sample_type[0]->type), "goroutine") &&
	      !strcmp(str_at(p, p->sample_type[0]->unit), "count") &&
	      !strcmp(str_at(p, p->sample_type[1]->type), "parked") &&
	      !strcmp(str_at(p, p->sample_type[1]->unit), "nanoseconds"),
	      "pprof: sample types goroutine/count, parked/nanoseconds");
	CHECK_EQ(p->time_nanos, 1714564800123456789LL, "pprof: time_nanos");
	CHECK_EQ(p->duration_nanos, 6000000000LL, "pprof: duration_nanos");
	CHECK(p->period_type && !strcmp(str_at(p, p->period_type->type),
					"goroutine"), "pprof: period type");
	if (!CHECK_EQ(p->n_sample, 2, "pprof: one sample per group"))
		goto out;
	s = p->sample[0];
	CHECK(s->n_value == 2 && s->value[0] == 3 && s->value[1] == 5 + 7 + 9,
	      "pprof: group 1 values (count, total parked ns)");
	CHECK(label(p, s, "class") &&
	      !strcmp(label(p, s, "class"), "likely_leaked"),
	      "pprof: class label");
	CHECK(label(p, s, "wait_reason") != NULL, "pprof: wait_reason label");
	CHECK(label(p, s, "created_by") &&
	      !strncmp(label(p, s, "created_by"), "main.spawnAll", 13),
	      "pprof: created_by label");
	for (i = 0; i < s->n_label; i++)
		if (!strcmp(str_at(p, s->label[i]->key), "goid"))
			goids += s->label[i]->num >= 21 &&
				 s->label[i]->num <= 23;
	CHECK_EQ(goids, 3, "pprof: numeric goid labels");
	CHECK(s->n_location_id >= 2, "pprof: sample has its locations");
	CHECK(p->n_mapping <= 1, "pprof: at most the executable's mapping");
	CHECK(!strcmp(label(p, p->sample[1], "class") ?: "",
		      "never_wakeable"), "pprof: group 2 class");
out:
	if (p)
		perftools__profiles__profile__free_unpacked(p, NULL);
	free(gz);
	free(raw);
	report_pprof__free(r);
	unlink(file);
	rmdir(dir);
}

static void test_report(const char *path)
{
	uint64_t goids1[] = { 21, 22, 23 }, parked1[] = { 5, 7, 9 };
	uint64_t goids2[] = { 40 }, parked2[] = { 3 };
	uint64_t recv, gopark, spawn, end;
	struct glt_counters counters = { .parks = 50, .spawns = 41,
					 .parked_map_full = 2 };
	struct gt_group groups[2] = {};
	struct gtable gt = {};
	struct target t = { .pid = 4242 };
	struct report_info info;
	struct report_json r;
	struct gobin *bin = NULL;
	const char *why, *line;
	char *buf = NULL, what[160], *nl;
	size_t len = 0;
	int fd, nlines = 0, valid = 0, err;
	FILE *f;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	err = fd < 0 ? -1 : gobin__open(&bin, fd, &why);
	snprintf(what, sizeof(what), "%s: opens", path);
	if (!ASSERT_EQ(err, 0, what))
		goto out;
	if (gobin__find_func(bin, "main.chanRecv", &recv, &end) ||
	    gobin__find_func(bin, "runtime.gopark", &gopark, &end) ||
	    gobin__find_func(bin, "main.spawnAll", &spawn, &end)) {
		ASSERT_TRUE(0, "fixture has main.chanRecv and main.spawnAll");
		goto out;
	}
	/* A comm with every kind of trouble: comm comes from the target. */
	snprintf(t.comm, sizeof(t.comm), "ev\"il\\\x01\xff");
	/* Return addresses: the reporter looks up pc - 1, the entry. */
	groups[0] = (struct gt_group){
		.class = GT_CLASS_LIKELY_LEAKED, .reason = 0,
		.pcs = { gopark + 1, recv + 1, 0x10 }, .npcs = 3,
		.gopc = spawn + 1, .goids = goids1, .parked_ns = parked1,
		.count = 3, .oldest_ns = 9, .median_ns = 7, .object = 0xc0ffee,
		.nobjects = 1, .site = { .spawned = 3, .exited = 0 },
		.growth_per_min = 1.5,
	};
	snprintf(groups[0].verdict, sizeof(groups[0].verdict),
		 "likely leaked: \"growing\"\n\tfast");
	groups[1] = (struct gt_group){
		.class = GT_CLASS_NEVER_WAKEABLE, .reason = 1,
		.pcs = { recv + 1 }, .npcs = 1, .goids = goids2,
		.parked_ns = parked2, .count = 1, .oldest_ns = 3,
		.median_ns = 3, .lower_bound = true, .growth_per_min = NAN,
	};
	gt = (struct gtable){ .groups = groups, .ngroups = 2,
			      .ngoroutines = 4, .stats = { .read_failed = 1 } };
	info = (struct report_info){ .bin = bin, .target = &t,
				     .threshold_ns = 1000000000,
				     .elapsed_ns = 6000000000,
				     .counters = &counters, .final = true };

	f = open_memstream(&buf, &len);
	if (!f) {
		ASSERT_TRUE(0, "open_memstream");
		goto out;
	}
	report_json__init(&r, f);
	err = report_json__print(&r, &info, &gt, 1714564800123456789ULL);
	fclose(f);
	snprintf(what, sizeof(what), "%s: print", path);
	ASSERT_EQ(err, 0, what);

	for (line = buf; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		*nl = '\0';
		nlines++;
		valid += json_valid_object(line);
		/* Put it back for the searches over the whole output. */
		*nl = '\n';
	}
	snprintf(what, sizeof(what), "%s: one line per group", path);
	ASSERT_EQ(nlines, 2, what);
	CHECK(len && buf[len - 1] == '\n', "output ends with a newline");
	snprintf(what, sizeof(what), "%s: every line is one JSON object",
		 path);
	ASSERT_EQ(valid, 2, what);

	/* The group fields. */
	CHECK(strstr(buf, "\"count\":3,\"class\":\"likely_leaked\""),
		    "count and class");
	CHECK(strstr(buf, "\"count\":1,\"class\":\"never_wakeable\""),
		    "second group");
	CHECK(strstr(buf, "\"verdict\":\"likely leaked: "
			   "\\\"growing\\\"\\n\\tfast\""), "verdict escaped");
	CHECK(strstr(buf, "\"goids\":[21,22,23],\"parked_ns\":[5,7,9]"),
		    "goids and parked times");
	CHECK(strstr(buf, "\"oldest_ns\":9,\"median_ns\":7,"
			   "\"lower_bound\":false"), "parked durations");
	CHECK(strstr(buf, "\"lower_bound\":true"), "lower bound");
	CHECK(strstr(buf, "\"growth_per_min\":1.5"), "growth");
	CHECK(strstr(buf, "\"growth_per_min\":null"), "NaN is null");
	CHECK(strstr(buf, "{\"function\":\"runtime.gopark\",\"file\":"),
		    "innermost frame first");
	CHECK(strstr(buf, "{\"function\":\"main.chanRecv\",\"file\":"),
		    "user frame");
	CHECK(strstr(buf, "parkzoo/main.go\",\"line\":"),
		    "file of the user frame");
	CHECK(strstr(buf, "{\"function\":\"?\",\"file\":\"?\","
			   "\"line\":0,\"inlined\":false,\"pc\":\"0x10\"}"),
		    "unknown pc kept as ?");
	CHECK(strstr(buf, "\"created_by\":{\"function\":"
			   "\"main.spawnAll\""), "created_by");
	CHECK(strstr(buf, "\"site\":{\"spawned\":3,\"exited\":0}"),
		    "site counts");
	CHECK(strstr(buf, "\"wait_object\":{\"kind\":null,\"shared\":"
			   "\"0xc0ffee\",\"distinct\":1,\"unknown\":0}"),
	      "wait object");
	CHECK(strstr(buf, "\"created_by\":{\"function\":\"?\",\"file\":"
			   "\"?\",\"line\":0,\"pc\":\"0x0\"}"),
		    "unknown creator");

	/* The report each line belongs to, on every line. */
	CHECK_EQ(tap__count_str(buf, "{\"time\":\"2024-05-01T12:00:00.123Z\","
			    "\"pid\":4242,"), 2, "time and pid on each line");
	CHECK_EQ(tap__count_str(buf, "\"comm\":\"ev\\\"il\\\\\\u0001\\ufffd\""),
		  2, "hostile comm escaped");
	CHECK_EQ(tap__count_str(buf, "\"final\":true"), 2, "final flag");
	CHECK_EQ(tap__count_str(buf, "\"groups\":2,\"goroutines\":4"), 2,
		  "report totals");
	CHECK_EQ(tap__count_str(buf, "\"dropped\":{\"parks_map_full\":2,"
			    "\"sites_map_full\":0,\"probe_read_failed\":0,"
			    "\"target_read_failed\":1}"), 2,
		  "drop counters on each line");
	CHECK_EQ(tap__count_str(buf, "\"spawns\":41"), 2, "event counters");
	test_pprof_roundtrip(path, &info, &gt);
out:
	free(buf);
	gobin__free(bin);
	if (fd >= 0)
		close(fd);
}

static void test_empty(void)
{
	struct gtable gt = {};
	struct report_info info = {};
	struct report_json r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		ASSERT_TRUE(0, "open_memstream");
		return;
	}
	report_json__init(&r, f);
	ASSERT_EQ(report_json__print(&r, &info, &gt, 0), 0, "empty report");
	fclose(f);
	ASSERT_EQ(len, 0, "no groups, no lines");
	free(buf);
}

int main(int argc, char **argv)
{
	int i, n = 0;

	test_checker();
	test_escape();
	test_time();
	test_empty();
	for (i = 1; i < argc; i++) {
		const char *base = strrchr(argv[i], '/');

		if (strcmp(base ? base + 1 : argv[i], "parkzoo"))
			continue;
		test_report(argv[i]);
		n++;
	}
	if (!n)
		TAP_SKIP("no parkzoo fixture given (tools/build-fixtures.sh)");
	return tap__done();
}
