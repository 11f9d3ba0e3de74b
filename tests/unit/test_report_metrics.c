// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The Prometheus reporter and the --profile-dir window. Metrics: label
 * escaping, --metrics addresses, the exposition of fake goroutine tables
 * symbolized with the real parkzoo fixture given as argument (groups
 * summed by series, top-N sites and "other", counters that never
 * decrease, processes that leave), `promtool check metrics` on it when
 * promtool is installed, and the HTTP server on a loopback port. Window:
 * the newest N profiles of a pid stay, nothing else is touched. Needs no
 * root. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"
#include "gobin.h"
#include "report_metrics.h"
#include "report_pprof.h"
#include "tap.h"

static void check_escape(const char *in, const char *want, const char *what)
{
	char buf[64];
	size_t n = report_metrics__escape(buf, sizeof(buf), in);

	ASSERT_STREQ(buf, want, what);
	ASSERT_EQ(n, strlen(want), what);
}

static void test_escape(void)
{
	check_escape("plain", "plain", "plain value");
	check_escape("a\"b\\c\nd", "a\\\"b\\\\c\\nd", "quote, backslash, newline");
	check_escape("caf\xc3\xa9 \xf0\x9f\x90\xb9", "caf\xc3\xa9 \xf0\x9f\x90\xb9",
		     "valid UTF-8 kept");
	check_escape("a\xff", "a\xef\xbf\xbd", "stray byte replaced");
	check_escape("\xc0\x80", "\xef\xbf\xbd\xef\xbf\xbd", "overlong NUL");
	check_escape("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
		     "surrogate");
	check_escape("\xf4\x90\x80\x80x",
		     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx",
		     "above U+10FFFF");
	check_escape("\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd", "cut short");
	check_escape(NULL, "", "NULL is empty");
}

static void check_addr(const char *addr, int ok, const char *host,
		       unsigned port)
{
	char h[64] = "", what[96];
	unsigned p = 0;
	int err = report_metrics__parse_addr(addr, h, sizeof(h), &p);

	snprintf(what, sizeof(what), "--metrics \"%s\"%s", addr,
		 ok ? "" : " refused");
	if (!ok) {
		ASSERT_EQ(err, -EINVAL, what);
		return;
	}
	if (ASSERT_EQ(err, 0, what)) {
		ASSERT_STREQ(h, host, what);
		ASSERT_EQ(p, port, what);
	}
}

static void test_addr(void)
{
	check_addr("127.0.0.1:9431", 1, "127.0.0.1", 9431);
	check_addr(":9431", 1, "", 9431);
	check_addr("0.0.0.0:0", 1, "0.0.0.0", 0);
	check_addr("[::1]:80", 1, "::1", 80);
	check_addr("[::]:65535", 1, "::", 65535);
	check_addr("localhost:9431", 0, NULL, 0);
	check_addr("127.0.0.1", 0, NULL, 0);
	check_addr("127.0.0.1:", 0, NULL, 0);
	check_addr("127.0.0.1:65536", 0, NULL, 0);
	check_addr("127.0.0.1:-1", 0, NULL, 0);
	check_addr("127.0.0.1:+1", 0, NULL, 0);
	check_addr("127.0.0.1:80x", 0, NULL, 0);
	check_addr("::1:80", 0, NULL, 0);
	check_addr("[::1]80", 0, NULL, 0);
	check_addr("[127.0.0.1]:80", 0, NULL, 0);
}

/* The line of a series, by its name and a label set fragment; its value
 * in *value. */
static int series(const char *text, const char *name, const char *labels,
		  double *value)
{
	const char *line = text, *end;
	size_t nlen = strlen(name);

	for (; *line; line = end + 1) {
		end = strchr(line, '\n');
		if (!end)
			break;
		if (strncmp(line, name, nlen) || line[nlen] != '{')
			continue;
		if (!memmem(line, end - line, labels, strlen(labels)))
			continue;
		*value = strtod(memrchr(line, ' ', end - line), NULL);
		return 1;
	}
	return 0;
}

/* promtool check metrics: the linter Prometheus ships. Skipped without
 * it (tools/setup.sh installs it). */
static void promtool_check(const char *text, const char *what)
{
	char path[] = "/tmp/glt-metrics-XXXXXX", cmd[128], msg[160];
	int fd, status;

	if (system("command -v promtool >/dev/null 2>&1")) {
		snprintf(msg, sizeof(msg), "%s: promtool is not installed "
			 "(tools/setup.sh)", what);
		TAP_SKIP(msg);
		return;
	}
	fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		ASSERT_TRUE(0, "write the exposition to a file");
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 1>&2", path);
	status = system(cmd);
	snprintf(msg, sizeof(msg), "%s: promtool check metrics accepts it",
		 what);
	if (!ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0, msg))
		for (const char *p = text, *nl; (nl = strchr(p, '\n'));
		     p = nl + 1)
			printf("#   %.*s\n", (int)(nl - p), p);
	unlink(path);
}

struct fake {
	struct gobin *bin;
	uint64_t recv, gopark, spawn;	/* link-time entries */
	int fd;
};

static int fake__open(struct fake *f, const char *path)
{
	const char *why;
	uint64_t end;

	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0 || gobin__open(&f->bin, f->fd, &why))
		return -1;
	if (gobin__find_func(f->bin, "main.chanRecv", &f->recv, &end) ||
	    gobin__find_func(f->bin, "runtime.gopark", &f->gopark, &end) ||
	    gobin__find_func(f->bin, "main.spawnAll", &f->spawn, &end))
		return -1;
	return 0;
}

static void fake__close(struct fake *f)
{
	gobin__free(f->bin);
	if (f->fd >= 0)
		close(f->fd);
}

static char *text_of(struct report_metrics *m)
{
	char *text = NULL;
	size_t len;

	return report_metrics__text(m, &text, &len) ? NULL : text;
}

/* Four sites: spawnAll's (the most parked), and three unknown pcs, of
 * which top_sites = 2 names one. Two groups at spawnAll differ only in
 * their park stack: one series. */
static void test_exposition(struct fake *f)
{
	uint64_t goids[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, parked[8] = {};
	uint64_t spawn = f->spawn + 1, a = 0x1000, b = 0x2000, c = 0x3000;
	struct glt_counters counters = { .parks = 7, .parked_map_full = 2 };
	struct budget_report probes_time = { .pct = 2, .attached = 0.25,
					     .overhead_pct = 1.9 };
	struct glt_skey pcs[4] = { { .pc = spawn }, { .pc = a }, { .pc = b },
				   { .pc = c } };
	struct glt_site counts[4] = { { 40, 1 }, { 9, 0 }, { 5, 5 }, { 3, 0 } };
	struct report_metrics_sites sites = { pcs, counts, 4 };
	struct report_metrics_opts opts = { .top_sites = 2 };
	struct gt_group groups[5] = {};
	struct target self = { .pid = getpid(), .load_bias = 0 },
		      parent = { .pid = getppid() };
	struct report_metrics *m = NULL;
	struct report_info info, info2;
	struct gtable gt = {};
	char creator[512], labels[768], *text = NULL;
	double v = -1;

	if (!ASSERT_EQ(report_metrics__new(&m, &opts), 0, "new"))
		return;
	text = text_of(m);
	ASSERT_TRUE(text && strstr(text, "# TYPE "
			"goleaktrace_self_cpu_seconds_total counter\n"),
		    "before any report: the tool's own metrics");
	ASSERT_TRUE(text && !strstr(text, "goleaktrace_parked_goroutines"),
		    "before any report: no process");
	free(text);

	groups[0] = (struct gt_group){ .class = GT_CLASS_LIKELY_LEAKED,
		.reason = 1, .gopc = spawn, .pcs = { f->gopark + 1, f->recv + 1 },
		.npcs = 2, .goids = goids, .parked_ns = parked, .count = 3,
		.oldest_ns = 2500000000 };
	groups[1] = groups[0];
	groups[1].npcs = 1;
	groups[1].count = 2;
	groups[1].oldest_ns = 7250000000;
	groups[2] = (struct gt_group){ .class = GT_CLASS_PARKED, .reason = 1,
		.gopc = a, .goids = goids, .parked_ns = parked, .count = 2,
		.oldest_ns = 1000000000 };
	groups[3] = groups[2];
	groups[3].gopc = b;
	groups[3].count = 1;
	groups[3].oldest_ns = 4000000000;
	groups[4] = groups[2];
	groups[4].gopc = 0x4000;	/* no counts: spawned before attach */
	groups[4].count = 1;
	gt = (struct gtable){ .groups = groups, .ngroups = 5,
			      .stats = { .read_failed = 4 } };
	info = (struct report_info){ .bin = f->bin, .target = &self,
		.threshold_ns = NSEC_PER_SEC, .elapsed_ns = 5 * NSEC_PER_SEC,
		.counters = &counters,
		.pod_namespace = "shop", .pod_name = "check\"out\n-\xff",
		.pod_container = "app" };

	report_metrics__begin(m, &counters, &probes_time);
	ASSERT_EQ(report_metrics__add_process(m, &info, &gt, &sites), 0,
		  "add a process");
	ASSERT_EQ(report_metrics__publish(m), 0, "publish");
	text = text_of(m);
	if (!ASSERT_TRUE(text, "text"))
		goto out;
	snprintf(labels, sizeof(labels), "namespace=\"shop\","
		 "pod=\"check\\\"out\\n-\xef\xbf\xbd\",container=\"app\","
		 "pid=\"%d\",binary=\"test_report_metrics\"", (int)self.pid);
	/* target_info, unreadable, 3 parked and 3 oldest series, counters of
	 * two named sites and other. */
	ASSERT_EQ(tap__count_str(text, labels), 2 + 3 + 3 + 2 * 3,
		  "every series of the process has its labels, escaped");
	report_pprof__creator(&info, spawn, creator, sizeof(creator));
	ASSERT_TRUE(strstr(creator, "main.spawnAll at ") &&
		    strstr(creator, "parkzoo/main.go:"),
		    "created_by: the pprof creator label");
	snprintf(labels, sizeof(labels), "wait_reason=\"%s\","
		 "class=\"likely_leaked\",created_by=\"%s\"",
		 gobin__wait_reason(f->bin, 1), creator);
	ASSERT_TRUE(series(text, "goleaktrace_parked_goroutines", labels, &v) &&
		    v == 5, "two groups of one series summed");
	ASSERT_TRUE(series(text, "goleaktrace_parked_oldest_seconds", labels,
			   &v) && v == 7.25, "their oldest");
	snprintf(labels, sizeof(labels), "class=\"parked\",created_by=\"? at "
		 "0x1000\"");
	ASSERT_TRUE(series(text, "goleaktrace_parked_goroutines", labels, &v) &&
		    v == 2, "second site named (top 2)");
	ASSERT_TRUE(series(text, "goleaktrace_parked_goroutines",
			   "class=\"parked\",created_by=\"other\"", &v) && v == 2,
		    "the rest summed into other");
	ASSERT_TRUE(series(text, "goleaktrace_parked_oldest_seconds",
			   "class=\"parked\",created_by=\"other\"", &v) && v == 4,
		    "other's oldest");
	ASSERT_EQ(tap__count_str(text, "goleaktrace_parked_goroutines{"), 3,
		  "three parked series");
	ASSERT_TRUE(series(text, "goleaktrace_goroutines_spawned_total",
			   "created_by=\"main.spawnAll at ", &v) && v == 40,
		    "spawned at a named site");
	ASSERT_TRUE(series(text, "goleaktrace_goroutines_exited_total",
			   "created_by=\"main.spawnAll at ", &v) && v == 1,
		    "exited at a named site");
	ASSERT_TRUE(series(text, "goleaktrace_goroutines_spawned_total",
			   "created_by=\"other\"", &v) && v == 8,
		    "spawned at the other sites, summed");
	ASSERT_TRUE(series(text, "goleaktrace_goroutines_exited_total",
			   "created_by=\"other\"", &v) && v == 5,
		    "exited at the other sites, summed");
	ASSERT_TRUE(series(text, "goleaktrace_unreadable_goroutines", "pid=", &v)
		    && v == 4, "unreadable goroutines");
	ASSERT_TRUE(strstr(text, "goleaktrace_dropped_events_total{reason="
			   "\"parked_map_full\"} 2\n") &&
		    strstr(text, "goleaktrace_probe_events_total{event=\"park\"}"
			   " 7\n"), "event and drop counters");
	ASSERT_TRUE(strstr(text, "goleaktrace_watched_processes 1\n") != NULL,
		    "one process");
	ASSERT_TRUE(strstr(text, "goleaktrace_probes_attached_ratio 0.2500\n") &&
		    strstr(text, "goleaktrace_probes_overhead_cores 0.019000\n") &&
		    strstr(text, "goleaktrace_probes_overhead_budget_cores "
			   "0.0200\n"), "the probes' attached time and cost");
	ASSERT_EQ(tap__count_str(text, "# HELP "), tap__count_str(text, "# TYPE "),
		  "a HELP for every TYPE");
	ASSERT_EQ(tap__count_str(text, "# TYPE goleaktrace_parked_goroutines gauge\n"),
		  1, "one TYPE per family");
	promtool_check(text, "one process");
	free(text);

	/* Next interval: b and a outgrow spawnAll's site, which leaves the
	 * top 2: what it adds from now on goes to other, which never
	 * decreases (what b had given it stays there); b's series starts
	 * at its full count. A second process joins. */
	counts[0] = (struct glt_site){ 50, 1 };	/* +10 */
	counts[2] = (struct glt_site){ 105, 5 };
	counts[3] = (struct glt_site){ 4, 0 };		/* +1 */
	groups[2].count = 5;
	groups[3].count = 9;
	groups[0].count = groups[1].count = 1;
	info.elapsed_ns += NSEC_PER_SEC;
	info2 = info;
	info2.target = &parent;
	info2.pod_namespace = info2.pod_name = info2.pod_container = "";
	report_metrics__begin(m, NULL, NULL);
	ASSERT_EQ(report_metrics__add_process(m, &info, &gt, &sites), 0,
		  "interval 2: add");
	ASSERT_EQ(report_metrics__add_process(m, &info2, &gt, NULL), 0,
		  "interval 2: add another, without probes");
	ASSERT_EQ(report_metrics__publish(m), 0, "interval 2: publish");
	text = text_of(m);
	if (!ASSERT_TRUE(text, "interval 2: text"))
		goto out;
	ASSERT_TRUE(series(text, "goleaktrace_goroutines_spawned_total",
			   "created_by=\"? at 0x2000\"", &v) && v == 105,
		    "a new top site's counter starts at its count");
	ASSERT_TRUE(series(text, "goleaktrace_goroutines_spawned_total",
			   "created_by=\"other\"", &v) && v == 8 + 10 + 1,
		    "other only grows");
	ASSERT_TRUE(strstr(text, "goleaktrace_watched_processes 2\n") != NULL,
		    "two processes");
	ASSERT_TRUE(!strstr(text, "goleaktrace_probe_events_total"),
		    "no probes, no event counters");
	snprintf(labels, sizeof(labels), "pid=\"%d\"", (int)parent.pid);
	ASSERT_TRUE(strstr(text, labels) != NULL, "the second process");
	/* Series: spawnAll's site in other, a, b, 0x4000 in other. */
	ASSERT_EQ(tap__count_str(text, labels), 1 + 1 + 2 * 4,
		  "without probes: no counters for it");
	promtool_check(text, "two processes");
	free(text);

	/* The second process is gone: so are its series. Its pid comes
	 * back as a new process (attached since: elapsed restarted). */
	report_metrics__begin(m, NULL, NULL);
	info.elapsed_ns = NSEC_PER_SEC;
	counts[0] = (struct glt_site){ 2, 0 };
	counts[1] = (struct glt_site){ 1, 0 };
	counts[2] = (struct glt_site){ 1, 0 };
	counts[3] = (struct glt_site){ 1, 0 };
	ASSERT_EQ(report_metrics__add_process(m, &info, &gt, &sites), 0,
		  "interval 3: add");
	ASSERT_EQ(report_metrics__publish(m), 0, "interval 3: publish");
	text = text_of(m);
	if (!ASSERT_TRUE(text, "interval 3: text"))
		goto out;
	ASSERT_EQ(tap__count_str(text, labels), 0, "a process that left is gone");
	ASSERT_TRUE(strstr(text, "goleaktrace_watched_processes 1\n") != NULL,
		    "one process again");
	ASSERT_TRUE(series(text, "goleaktrace_goroutines_spawned_total",
			   "created_by=\"other\"", &v) && v == 2 + 1,
		    "a new process of the same pid starts from zero");
out:
	free(text);
	report_metrics__free(m);
}

/* One HTTP/1.0 exchange on 127.0.0.1:port: the response, or NULL. */
static char *http(unsigned port, const char *request)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!buf || fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, request, strlen(request)) != (ssize_t)strlen(request)) {
		free(buf);
		buf = NULL;
		goto out;
	}
	while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += n;
	buf[len] = '\0';
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

static void check_http(unsigned port, const char *request,
		       const char *status, const char *body, const char *what)
{
	char *resp = http(port, request);

	/* libmicrohttpd answers HTTP/1.1 whatever was asked: the status
	 * code after "HTTP/1.x " is what counts. */
	bool ok = resp && strlen(resp) > 12 && !strncmp(resp + 9, status, 3);

	ASSERT_TRUE(ok && (!body || strstr(resp, body)), what);
	if (resp && !ok)
		printf("#   got: %.12s\n", resp);
	free(resp);
}

static int count_fds(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && (de = readdir(d)))
		n++;
	if (d)
		closedir(d);
	return n;
}

static void test_server(void)
{
	struct report_metrics_opts opts = { .stale_ns = 60 * NSEC_PER_SEC };
	struct report_metrics *m = NULL, *m2 = NULL;
	const char *why = NULL;
	int err, fds = count_fds();
	char addr[32];
	unsigned port;

	if (!ASSERT_EQ(report_metrics__new(&m, &opts), 0, "server: new"))
		return;
	err = report_metrics__serve(m, "127.0.0.1:0", &why);
	if (err == -EOPNOTSUPP) {
		TAP_SKIP("no HTTP server in this build");
		goto out;
	}
	if (!ASSERT_EQ(err, 0, "server: serve on 127.0.0.1:0"))
		goto out;
	port = report_metrics__port(m);
	ASSERT_TRUE(port > 0, "server: port 0 picks a port");
	check_http(port, "GET /metrics HTTP/1.0\r\n\r\n", "200",
		   "\r\nContent-Type: text/plain; version=0.0.4; "
		   "charset=utf-8\r\n", "server: /metrics, its content type");
	check_http(port, "GET /metrics HTTP/1.0\r\n\r\n", "200",
		   "\n# TYPE goleaktrace_self_resident_memory_bytes gauge\n",
		   "server: /metrics body");
	check_http(port, "GET /healthz HTTP/1.0\r\n\r\n", "200",
		   "\r\n\r\nok\n", "server: /healthz");
	check_http(port, "GET /nope HTTP/1.0\r\n\r\n", "404", NULL,
		   "server: 404 elsewhere");
	check_http(port, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
		   "405", "Allow: GET, HEAD", "server: GET only");

	/* The same port again: one line that says so. */
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	ASSERT_EQ(report_metrics__new(&m2, NULL), 0, "server: second");
	why = NULL;
	ASSERT_EQ(report_metrics__serve(m2, addr, &why), -EADDRINUSE,
		  "server: port in use");
	ASSERT_TRUE(why && strstr(why, "in use"), "server: says in use");
	report_metrics__free(m2);
out:
	report_metrics__free(m);
	ASSERT_EQ(count_fds(), fds, "server: stopped, no descriptor left open");
}

/* /healthz turns 503 when no report was published for stale_ns. */
static void test_stale(void)
{
	struct report_metrics_opts opts = { .stale_ns = 1000000 };
	struct report_metrics *m = NULL;
	const char *why = NULL;

	if (report_metrics__new(&m, &opts) ||
	    report_metrics__serve(m, "127.0.0.1:0", &why)) {
		TAP_SKIP("stale: no server");
		report_metrics__free(m);
		return;
	}
	usleep(20000);
	check_http(report_metrics__port(m), "GET /healthz HTTP/1.0\r\n\r\n",
		   "503", "stale", "stale: /healthz says 503");
	ASSERT_EQ(report_metrics__publish(m), 0, "stale: publish");
	check_http(report_metrics__port(m), "GET /healthz HTTP/1.0\r\n\r\n",
		   "200", "ok", "stale: fresh again after a report");
	report_metrics__free(m);
}

static int count_files(const char *dir, const char *prefix)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d)))
		n += !strncmp(de->d_name, prefix, strlen(prefix));
	if (d)
		closedir(d);
	return n;
}

static bool exists(const char *dir, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return !lstat(path, &st);
}

static void touch(const char *dir, const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
}

/* --profile-dir DIR --keep 3: five reports leave the newest three of
 * this pid; another pid's profiles, other names and links stay. */
static void test_window(struct fake *f)
{
	char dir[] = "/tmp/glt-window-XXXXXX", sub[64], prefix[32], name[96];
	struct target t = { .pid = getpid(), .exe_fd = -1 };
	struct glt_counters counters = {};
	struct report_pprof *r = NULL;
	struct gtable gt = {};
	struct report_info info = { .bin = f->bin, .target = &t,
				    .counters = &counters };
	/* 2026-11-28T12:00:00Z, then one second apart. */
	uint64_t t0 = 1795867200ULL * NSEC_PER_SEC;
	int i, ok = 1;

	if (!mkdtemp(dir)) {
		ASSERT_TRUE(0, "window: mkdtemp");
		return;
	}
	snprintf(sub, sizeof(sub), "%s/profiles", dir);
	if (!ASSERT_EQ(report_pprof__open_window(&r, sub, &t, 3), 0,
		       "window: opens DIR without a slash, creating it"))
		goto out;
	touch(sub, "goleaktrace-999999999-20261128T110000.000Z.pb.gz");
	touch(sub, "goleaktrace-1-notes.txt");
	snprintf(name, sizeof(name), "goleaktrace-%d-20261128T115959.000Z.pb.gz.bak",
		 (int)t.pid);
	touch(sub, name);
	snprintf(prefix, sizeof(prefix), "goleaktrace-%d-", (int)t.pid);
	for (i = 0; i < 5; i++) {
		ok &= !report_pprof__write(r, &info, &gt, t0 + i * NSEC_PER_SEC);
		ok &= !report_pprof__prune(r);
		ok &= count_files(sub, prefix) == (i < 3 ? i + 1 : 3) + 1;
	}
	ASSERT_TRUE(ok, "window: never more than --keep profiles of the pid");
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "%s20261128T1200%02d.000Z.pb.gz",
			 prefix, i);
		ok = exists(sub, name) == (i >= 2);
		if (!ASSERT_TRUE(ok, i >= 2 ? "window: a newest one stays" :
				 "window: an oldest one is gone"))
			printf("#   %s\n", name);
	}
	ASSERT_TRUE(exists(sub, "goleaktrace-999999999-20261128T110000.000Z"
			   ".pb.gz"), "window: another pid's profile stays");
	ASSERT_TRUE(exists(sub, "goleaktrace-1-notes.txt"),
		    "window: other names stay");
	snprintf(name, sizeof(name), "%s20261128T115959.000Z.pb.gz.bak",
		 prefix);
	ASSERT_TRUE(exists(sub, name), "window: a near miss of the name stays");
	report_pprof__free(r);
	r = NULL;
	ASSERT_EQ(report_pprof__open_window(&r, sub, &t, 0), 0,
		  "window: --keep 0");
	for (i = 5; i < 8; i++)
		report_pprof__write(r, &info, &gt, t0 + i * NSEC_PER_SEC);
	ASSERT_EQ(report_pprof__prune(r), 0, "window: --keep 0 prunes nothing");
	ASSERT_EQ(count_files(sub, prefix), 3 + 3 + 1, "window: keeps all");
out:
	report_pprof__free(r);
	snprintf(name, sizeof(name), "rm -rf '%s'", dir);
	if (system(name))
		printf("# could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
	struct fake f = { .fd = -1 };
	int i, n = 0;

	test_escape();
	test_addr();
	test_server();
	test_stale();
	for (i = 1; i < argc && !n; i++) {
		const char *base = strrchr(argv[i], '/');

		if (strcmp(base ? base + 1 : argv[i], "parkzoo"))
			continue;
		if (!ASSERT_EQ(fake__open(&f, argv[i]), 0, "parkzoo opens"))
			break;
		test_exposition(&f);
		test_window(&f);
		n++;
	}
	fake__close(&f);
	if (!n)
		TAP_SKIP("no parkzoo fixture given (tools/build-fixtures.sh)");
	return tap__done();
}
