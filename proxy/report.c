/*
 * report: the offline audit of event logs. Lines are read through a
 * fixed buffer and folded into one aggregate per client session (source
 * address + client id + client software, as the proxy groups them); open
 * connections are tracked until their conn.close. The SVG timeline keeps
 * the last bars of the first sessions only, so memory stays bounded.
 */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define READ_BUF      (1024 * 1024)
#define LINE_MAX_B    (1024 * 1024) /* longer lines are bad lines */
#define BAD_KEEP      20            /* bad lines listed (all are counted) */
#define SVG_SESSIONS  40            /* sessions drawn */
#define SVG_BARS      200           /* last connections drawn per session */
#define SVG_MARKS     64            /* last findings drawn per session */
#define SVG_LANES     12
#define RULES_MAX     64 /* distinct rules per session */
#define PROGRESS_WAIT 1.0

const struct report_colour report_palette[] = {
	{"role-bootstrap", "#6c8ebf"},   {"role-data", "#2e9e44"},
	{"role-coordinator", "#e08a1e"}, {"role-other", "#8e6cbf"},
	{"closed-by-client", "#333333"}, {"closed-by-broker", "#1f77b4"},
	{"closed-by-proxy", "#d62728"},  {"finding", "#d62728"},
};
const size_t report_palette_len =
	sizeof(report_palette) / sizeof(report_palette[0]);

static const double timeouts[REPORT_N_TIMEOUTS] = REPORT_TIMEOUTS;

enum role { R_BOOTSTRAP, R_DATA, R_COORDINATOR, R_OTHER, R_N };
static const char *const role_names[R_N] = {"bootstrap", "data", "coordinator",
					    "other"};
enum closer { C_CLIENT, C_BROKER, C_PROXY, C_N };
static const char *const closer_names[C_N] = {"client", "broker", "proxy"};

struct bar {
	uint32_t run;
	uint64_t conn;
	double opened, closed, idle_from, max_idle;
	uint8_t role, closer;
	char how[16];
	char reason[40];
};

struct mark {
	uint32_t run;
	uint64_t conn;
	double ts;
	char rule[40];
};

struct rule_count {
	char rule[48];
	uint64_t n;
};

struct rsession {
	char *key;
	char addr[64];
	char *client_id, *sw_name, *sw_version; /* NULL: none seen */
	uint64_t conns, by_role[R_N], by_closer[C_N];
	double life_min, life_max, life_sum;
	double idle_max;
	uint64_t idle_conn;
	uint8_t idle_role;
	uint64_t would[REPORT_N_TIMEOUTS][R_N + 1]; /* [R_N]: all roles */
	struct rule_count *rules;
	size_t n_rules;
	uint64_t findings;
	double first, last;
	uint64_t requests, bytes_client, bytes_broker;
	/* the timeline: rings of the last bars and findings */
	int drawn;
	struct bar *bars;
	size_t bars_head, bars_len;
	struct mark *marks;
	size_t marks_head, marks_len;
};

/* A connection between its conn.open and its conn.close. */
struct openconn {
	uint64_t key; /* run << 44 | conn id; 0: empty slot */
	double opened;
	double active; /* its last response (request events), or 0 */
};

struct bad {
	char file[128];
	uint64_t line;
	char why[100];
};

struct report {
	struct rsession **slots; /* open addressing by key */
	size_t cap, n;
	struct rsession **list; /* in order of first sight */
	size_t list_cap;

	struct openconn *open;
	size_t open_cap, open_n;

	uint32_t run;
	uint64_t lines, bad_lines, closes, opens, findings, requests, others;
	uint64_t unclosed_restart; /* open when the proxy started again */
	double t_first, t_last;
	struct bad bad[BAD_KEEP];
	size_t n_bad;
	char **files;
	size_t n_files;
	size_t drawn;
	uint64_t not_drawn;
	int track_activity; /* request events: only for the timeline */
};

/* ---- small things ---- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static uint64_t hash_u64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* "2026-11-21T06:17:06.445772Z" in seconds since the epoch; NAN if it is
 * not such a time. */
static double ts_parse(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0;
	double frac = 0, scale = 0.1;
	const char *p;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi,
			 &sec, &n) != 6)
		return NAN;
	p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	if (*p != 'Z')
		return NAN;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return (double)timegm(&tm) + frac;
}

static void ts_format(double t, char *buf, size_t len)
{
	struct tm tm;
	time_t s = (time_t)t;

	if (!isfinite(t) || t <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *str_field(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static double num_field(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : 0;
}

static enum role role_of(const char *s)
{
	for (int i = 0; i < R_N; i++)
		if (s && !strcmp(s, role_names[i]))
			return (enum role)i;
	return R_OTHER;
}

static int closer_of(const char *s)
{
	for (int i = 0; i < C_N; i++)
		if (s && !strcmp(s, closer_names[i]))
			return i;
	return C_PROXY;
}

/* ---- life ---- */

struct report *report_new(void)
{
	struct report *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->cap = 256;
	r->slots = calloc(r->cap, sizeof(*r->slots));
	r->open_cap = 1024;
	r->open = calloc(r->open_cap, sizeof(*r->open));
	r->t_first = INFINITY;
	r->t_last = -INFINITY;
	if (!r->slots || !r->open) {
		report_free(r);
		return NULL;
	}
	return r;
}

static void session_free(struct rsession *s)
{
	free(s->key);
	free(s->client_id);
	free(s->sw_name);
	free(s->sw_version);
	free(s->rules);
	free(s->bars);
	free(s->marks);
	free(s);
}

void report_free(struct report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		session_free(r->list[i]);
	for (size_t i = 0; i < r->n_files; i++)
		free(r->files[i]);
	free(r->files);
	free(r->list);
	free(r->slots);
	free(r->open);
	free(r);
}

static void oom(void)
{
	fprintf(stderr, "kafka-conntrace report: out of memory\n");
	exit(1);
}

/* ---- sessions ---- */

static int sessions_grow(struct report *r)
{
	size_t cap = r->cap * 2;
	struct rsession **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < r->n; i++) {
		size_t j = hash_str(r->list[i]->key) & (cap - 1);

		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = r->list[i];
	}
	free(r->slots);
	r->slots = slots;
	r->cap = cap;
	return 0;
}

/* The session of addr, client id and software (NULLs are ""), created
 * if new. */
static struct rsession *session_get(struct report *r, const char *addr,
				    const char *cid, const char *sw)
{
	size_t len = strlen(addr ? addr : "") + strlen(cid ? cid : "") +
		     strlen(sw ? sw : "") + 3;
	char *key = malloc(len);
	struct rsession *s;
	size_t j;

	if (!key)
		oom();
	snprintf(key, len, "%s|%s|%s", addr ? addr : "", cid ? cid : "",
		 sw ? sw : "");
	for (j = hash_str(key) & (r->cap - 1); r->slots[j];
	     j = (j + 1) & (r->cap - 1))
		if (!strcmp(r->slots[j]->key, key)) {
			free(key);
			return r->slots[j];
		}
	s = calloc(1, sizeof(*s));
	if (!s)
		oom();
	s->key = key;
	snprintf(s->addr, sizeof(s->addr), "%s", addr ? addr : "");
	s->client_id = dup_or_null(cid);
	s->sw_name = dup_or_null(sw);
	s->life_min = INFINITY;
	s->first = INFINITY;
	s->last = -INFINITY;
	s->drawn = -1;
	if (r->drawn < SVG_SESSIONS) {
		s->bars = calloc(SVG_BARS, sizeof(*s->bars));
		s->marks = calloc(SVG_MARKS, sizeof(*s->marks));
		if (!s->bars || !s->marks)
			oom();
		s->drawn = (int)r->drawn++;
	} else {
		r->not_drawn++;
	}
	r->slots[j] = s;
	if (r->n == r->list_cap) {
		size_t cap = r->list_cap ? r->list_cap * 2 : 64;
		struct rsession **l = realloc(r->list, cap * sizeof(*l));

		if (!l)
			oom();
		r->list = l;
		r->list_cap = cap;
	}
	r->list[r->n++] = s;
	if (r->n * 10 > r->cap * 7 && sessions_grow(r) < 0)
		oom();
	return s;
}

/* ---- open connections ---- */

static uint64_t open_key(uint32_t run, uint64_t conn)
{
	return ((uint64_t)run << 44) | (conn & ((1ULL << 44) - 1));
}

static struct openconn *open_find(struct report *r, uint64_t key)
{
	for (size_t j = hash_u64(key) & (r->open_cap - 1); r->open[j].key;
	     j = (j + 1) & (r->open_cap - 1))
		if (r->open[j].key == key)
			return &r->open[j];
	return NULL;
}

static void open_put(struct report *r, uint64_t key, double opened)
{
	size_t j;

	if ((r->open_n + 1) * 10 > r->open_cap * 7) {
		size_t cap = r->open_cap * 2;
		struct openconn *o = calloc(cap, sizeof(*o));

		if (!o)
			oom();
		for (size_t i = 0; i < r->open_cap; i++) {
			if (!r->open[i].key)
				continue;
			for (j = hash_u64(r->open[i].key) & (cap - 1); o[j].key;
			     j = (j + 1) & (cap - 1))
				;
			o[j] = r->open[i];
		}
		free(r->open);
		r->open = o;
		r->open_cap = cap;
	}
	for (j = hash_u64(key) & (r->open_cap - 1); r->open[j].key;
	     j = (j + 1) & (r->open_cap - 1))
		if (r->open[j].key == key)
			break;
	if (!r->open[j].key)
		r->open_n++;
	r->open[j].key = key;
	r->open[j].opened = opened;
	r->open[j].active = 0;
}

/* Remove the slot, shifting back the entries that probed past it. */
static void open_del(struct report *r, struct openconn *e)
{
	size_t mask = r->open_cap - 1, i = (size_t)(e - r->open), j = i;

	r->open[i].key = 0;
	r->open_n--;
	for (;;) {
		size_t k;

		j = (j + 1) & mask;
		if (!r->open[j].key)
			return;
		k = hash_u64(r->open[j].key) & mask;
		/* Move j back to i when its home k is not in (i, j]. */
		if ((j > i && (k <= i || k > j)) ||
		    (j < i && (k <= i && k > j))) {
			r->open[i] = r->open[j];
			r->open[j].key = 0;
			i = j;
		}
	}
}

/* ---- events ---- */

static void bad_line(struct report *r, const char *file, uint64_t line,
		     const char *why)
{
	r->bad_lines++;
	if (r->n_bad < BAD_KEEP) {
		struct bad *b = &r->bad[r->n_bad++];

		snprintf(b->file, sizeof(b->file), "%s", file);
		b->line = line;
		snprintf(b->why, sizeof(b->why), "%s", why);
	}
}

static void on_close(struct report *r, json_t *ev, double ts)
{
	const char *cid = str_field(ev, "client_id");
	const char *sw = str_field(ev, "client_software_name");
	const char *swv = str_field(ev, "client_software_version");
	struct rsession *s =
		session_get(r, str_field(ev, "client_addr"), cid, sw);
	enum role role = role_of(str_field(ev, "role"));
	int closer = closer_of(str_field(ev, "closed_by"));
	uint64_t conn =
		(uint64_t)json_integer_value(json_object_get(ev, "conn"));
	double life = num_field(ev, "duration_s");
	double idle = num_field(ev, "max_idle_s");
	double opened = ts_parse(str_field(ev, "opened"));
	double closed = ts_parse(str_field(ev, "closed"));
	json_t *gaps = json_object_get(ev, "idle_gaps_s");
	json_t *reqs = json_object_get(ev, "requests");
	struct openconn *oc = open_find(r, open_key(r->run, conn));
	double active = oc ? oc->active : 0;
	uint64_t nreq = 0;
	const char *key;
	json_t *v;
	size_t i;

	r->closes++;
	if (oc)
		open_del(r, oc);
	if (!isfinite(closed))
		closed = ts;
	if (!isfinite(opened))
		opened = closed - life;
	if (swv && !s->sw_version)
		s->sw_version = strdup(swv);
	s->conns++;
	s->by_role[role]++;
	s->by_closer[closer]++;
	s->life_sum += life;
	if (life < s->life_min)
		s->life_min = life;
	if (life > s->life_max)
		s->life_max = life;
	if (idle > s->idle_max || s->conns == 1) {
		s->idle_max = idle;
		s->idle_conn = conn;
		s->idle_role = (uint8_t)role;
	}
	for (int t = 0; t < REPORT_N_TIMEOUTS; t++) {
		int hit = 0;

		json_array_foreach(gaps, i, v) hit |=
			json_number_value(v) >= timeouts[t];
		s->would[t][role] += (uint64_t)hit;
		s->would[t][R_N] += (uint64_t)hit;
	}
	json_object_foreach(reqs, key, v) nreq +=
		(uint64_t)json_integer_value(v);
	s->requests += nreq;
	s->bytes_client += (uint64_t)json_integer_value(
		json_object_get(ev, "bytes_from_client"));
	s->bytes_broker += (uint64_t)json_integer_value(
		json_object_get(ev, "bytes_from_broker"));
	if (opened < s->first)
		s->first = opened;
	if (closed > s->last)
		s->last = closed;
	if (s->drawn >= 0) {
		struct bar *b;
		double idle_from = 0;
		const char *since = str_field(ev, "idle_since");

		if (since)
			idle_from = ts_parse(since);
		else if (json_integer_value(
				 json_object_get(ev, "inflight_at_close")) != 0)
			idle_from = 0;
		else if (active > 0)
			idle_from = active; /* its last response */
		else if (nreq == 0)
			idle_from = opened; /* it never asked anything */
		if (!isfinite(idle_from) || closed - idle_from < 1.0)
			idle_from = 0;
		if (s->bars_len == SVG_BARS) {
			s->bars_head = (s->bars_head + 1) % SVG_BARS;
			s->bars_len--;
		}
		b = &s->bars[(s->bars_head + s->bars_len++) % SVG_BARS];
		memset(b, 0, sizeof(*b));
		b->run = r->run;
		b->conn = conn;
		b->opened = opened;
		b->closed = closed;
		b->idle_from = idle_from;
		b->max_idle = idle;
		b->role = (uint8_t)role;
		b->closer = (uint8_t)closer;
		snprintf(b->how, sizeof(b->how), "%s",
			 str_field(ev, "how") ? str_field(ev, "how") : "");
		snprintf(b->reason, sizeof(b->reason), "%s",
			 str_field(ev, "reason") ? str_field(ev, "reason")
						 : "");
	}
}

static void on_finding(struct report *r, json_t *ev, double ts)
{
	struct rsession *s = session_get(r, str_field(ev, "client_addr"),
					 str_field(ev, "client_id"),
					 str_field(ev, "client_software_name"));
	const char *rule = str_field(ev, "rule");
	size_t i;

	r->findings++;
	s->findings++;
	if (!rule)
		rule = "?";
	for (i = 0; i < s->n_rules; i++)
		if (!strcmp(s->rules[i].rule, rule))
			break;
	if (i == s->n_rules && i < RULES_MAX) {
		struct rule_count *v =
			realloc(s->rules, (i + 1) * sizeof(*s->rules));

		if (!v)
			oom();
		s->rules = v;
		snprintf(v[i].rule, sizeof(v[i].rule), "%s", rule);
		v[i].n = 0;
		s->n_rules++;
	}
	if (i < s->n_rules)
		s->rules[i].n++;
	if (s->drawn >= 0) {
		struct mark *m;
		json_t *conns = json_object_get(ev, "conns");

		if (s->marks_len == SVG_MARKS) {
			s->marks_head = (s->marks_head + 1) % SVG_MARKS;
			s->marks_len--;
		}
		m = &s->marks[(s->marks_head + s->marks_len++) % SVG_MARKS];
		m->run = r->run;
		m->conn = json_array_size(conns)
				  ? (uint64_t)json_integer_value(
					    json_array_get(conns, 0))
				  : 0;
		m->ts = ts;
		snprintf(m->rule, sizeof(m->rule), "%s", rule);
	}
}

/* The event name of a line, cheaply: evlog writes "ts" then "event". */
static int quick_event(const char *line, size_t len, const char *name)
{
	const char *p = memmem(line, len < 80 ? len : 80, "\"event\":\"", 9);
	size_t n = strlen(name);

	return p && (size_t)(line + len - (p + 9)) > n &&
	       !memcmp(p + 9, name, n) && p[9 + n] == '"';
}

void report_feed_line(struct report *r, const char *file, uint64_t lineno,
		      const char *line, size_t len, bool complete)
{
	json_error_t je;
	json_t *ev;
	const char *name;
	double ts;
	char why[100];

	r->lines++;
	if (len == 0 && complete)
		return; /* a blank line */
	/* Request events are the bulk of a --log-requests log; only the
	 * timeline wants them (the last activity of each connection). */
	if (!r->track_activity && complete &&
	    quick_event(line, len, "request") && line[len - 1] == '}') {
		r->requests++;
		return;
	}
	ev = json_loadb(line, len, 0, &je);
	if (!ev) {
		snprintf(why, sizeof(why), "%s: %.70s",
			 complete ? "not JSON" : "truncated (no newline)",
			 je.text);
		bad_line(r, file, lineno, why);
		return;
	}
	name = str_field(ev, "event");
	ts = ts_parse(str_field(ev, "ts"));
	if (!json_is_object(ev) || !name || !isfinite(ts)) {
		bad_line(r, file, lineno,
			 "not an event (an object with \"ts\" and \"event\")");
		json_decref(ev);
		return;
	}
	if (ts < r->t_first)
		r->t_first = ts;
	if (ts > r->t_last)
		r->t_last = ts;
	if (!strcmp(name, "conn.close")) {
		on_close(r, ev, ts);
	} else if (!strcmp(name, "conn.open")) {
		r->opens++;
		open_put(r,
			 open_key(r->run, (uint64_t)json_integer_value(
						  json_object_get(ev, "conn"))),
			 ts);
	} else if (!strcmp(name, "finding")) {
		on_finding(r, ev, ts);
	} else if (!strcmp(name, "request")) {
		struct openconn *oc = open_find(
			r,
			open_key(r->run, (uint64_t)json_integer_value(
						 json_object_get(ev, "conn"))));

		r->requests++;
		if (oc)
			oc->active = ts;
	} else if (!strcmp(name, "proxy.start")) {
		/* Connection ids start again: what is still open was never
		 * closed by the run before (it crashed or was killed). */
		r->unclosed_restart += r->open_n;
		memset(r->open, 0, r->open_cap * sizeof(*r->open));
		r->open_n = 0;
		r->run++;
	} else {
		r->others++;
	}
	json_decref(ev);
}

/* ---- reading ---- */

static double mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void human_bytes(double n, char *buf, size_t len)
{
	if (n >= 1e9)
		snprintf(buf, len, "%.1f GB", n / 1e9);
	else if (n >= 1e6)
		snprintf(buf, len, "%.0f MB", n / 1e6);
	else
		snprintf(buf, len, "%.0f kB", n / 1e3);
}

int report_read_file(struct report *r, const char *path, FILE *progress)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *buf = NULL, *line = NULL;
	size_t llen = 0, got;
	uint64_t lineno = 0, done = 0;
	int toolong = 0, rc = 0;
	struct stat st;
	double t0 = mono(), shown = 0;
	off_t size = 0;
	char **files;

	if (!f) {
		fprintf(stderr, "kafka-conntrace report: %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
		size = st.st_size;
	files = realloc(r->files, (r->n_files + 1) * sizeof(*files));
	buf = malloc(READ_BUF);
	line = malloc(LINE_MAX_B);
	if (!files || !buf || !line)
		oom();
	r->files = files;
	r->files[r->n_files++] = strdup(path);
	while ((got = fread(buf, 1, READ_BUF, f)) > 0) {
		const char *p = buf, *end = buf + got;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = (size_t)((nl ? nl : end) - p);

			if (!toolong && llen + n > LINE_MAX_B) {
				toolong = 1;
				llen = 0;
			}
			if (!toolong && nl && llen == 0) {
				/* The whole line is in the buffer. */
				report_feed_line(r, path, ++lineno, p, n, true);
			} else if (!toolong) {
				memcpy(line + llen, p, n);
				llen += n;
				if (nl)
					report_feed_line(r, path, ++lineno,
							 line, llen, true);
			}
			if (nl) {
				if (toolong) {
					r->lines++;
					bad_line(r, path, ++lineno,
						 "longer than 1 MiB");
				}
				toolong = 0;
				llen = 0;
				p = nl + 1;
			} else {
				p = end;
			}
		}
		done += got;
		if (progress && mono() - t0 > PROGRESS_WAIT &&
		    mono() - shown > 0.2) {
			char a[32], b[32];

			shown = mono();
			human_bytes((double)done, a, sizeof(a));
			if (size > 0) {
				human_bytes((double)size, b, sizeof(b));
				fprintf(progress,
					"\rreport: %s: %3.0f%% (%s of %s)  ",
					path,
					100.0 * (double)done / (double)size, a,
					b);
			} else {
				fprintf(progress, "\rreport: %s: %s  ", path,
					a);
			}
			fflush(progress);
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "kafka-conntrace report: %s: %s\n", path,
			strerror(errno));
		rc = -1;
	}
	if (toolong) {
		r->lines++;
		bad_line(r, path, ++lineno, "longer than 1 MiB");
	} else if (llen > 0) {
		report_feed_line(r, path, ++lineno, line, llen, false);
	}
	if (progress && shown > 0) {
		fprintf(progress, "\r\033[K");
		fflush(progress);
	}
	if (f != stdin)
		fclose(f);
	free(buf);
	free(line);
	return rc;
}

/* ---- output ---- */

static int session_cmp(const void *a, const void *b)
{
	const struct rsession *x = *(const struct rsession *const *)a;
	const struct rsession *y = *(const struct rsession *const *)b;

	return strcmp(x->key, y->key);
}

/* The sessions sorted by key (a new array). */
static struct rsession **sorted(const struct report *r)
{
	struct rsession **v = malloc((r->n ? r->n : 1) * sizeof(*v));

	if (!v)
		oom();
	if (r->n)
		memcpy(v, r->list, r->n * sizeof(*v));
	qsort(v, r->n, sizeof(*v), session_cmp);
	return v;
}

static void secs(double s, char *buf, size_t len)
{
	if (!isfinite(s))
		snprintf(buf, len, "-");
	else if (s < 100)
		snprintf(buf, len, "%.1f s", s);
	else
		snprintf(buf, len, "%.0f s", s);
}

void report_print(const struct report *r, FILE *out)
{
	struct rsession **v = sorted(r);
	char a[40], b[40];

	fprintf(out, "kafka-conntrace report\n");
	fprintf(out, "  files         ");
	for (size_t i = 0; i < r->n_files; i++)
		fprintf(out, "%s%s", i ? ", " : "", r->files[i]);
	fprintf(out, "\n  lines         %llu read, %llu bad (skipped)\n",
		(unsigned long long)r->lines, (unsigned long long)r->bad_lines);
	ts_format(r->t_first, a, sizeof(a));
	ts_format(r->t_last, b, sizeof(b));
	fprintf(out, "  time          %s .. %s\n", a, b);
	fprintf(out, "  proxy runs    %u\n", r->run);
	fprintf(out,
		"  connections   %llu closed, %llu open at the end, %llu "
		"never closed (the proxy restarted)\n",
		(unsigned long long)r->closes, (unsigned long long)r->open_n,
		(unsigned long long)r->unclosed_restart);
	fprintf(out, "  sessions      %zu\n", r->n);
	fprintf(out, "  findings      %llu\n", (unsigned long long)r->findings);
	if (r->bad_lines) {
		fprintf(out, "\nbad lines (skipped):\n");
		for (size_t i = 0; i < r->n_bad; i++)
			fprintf(out, "  %s:%llu: %s\n", r->bad[i].file,
				(unsigned long long)r->bad[i].line,
				r->bad[i].why);
		if (r->bad_lines > r->n_bad)
			fprintf(out, "  ... and %llu more\n",
				(unsigned long long)(r->bad_lines - r->n_bad));
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct rsession *s = v[i];

		fprintf(out, "\nclient %s  client id %s%s%s  software %s%s%s\n",
			s->addr, s->client_id ? "\"" : "",
			s->client_id ? s->client_id : "(none)",
			s->client_id ? "\"" : "",
			s->sw_name && s->sw_name[0] ? s->sw_name : "(unknown)",
			s->sw_version ? " " : "",
			s->sw_version ? s->sw_version : "");
		fprintf(out,
			"  connections   %llu:", (unsigned long long)s->conns);
		for (int k = 0, first = 1; k < R_N; k++)
			if (s->by_role[k]) {
				fprintf(out, "%s %s %llu", first ? "" : ",",
					role_names[k],
					(unsigned long long)s->by_role[k]);
				first = 0;
			}
		fprintf(out, "\n");
		if (s->conns) {
			char mn[24], mean[24], mx[24];

			fprintf(out,
				"  closed by     client %llu, broker %llu, "
				"proxy %llu\n",
				(unsigned long long)s->by_closer[C_CLIENT],
				(unsigned long long)s->by_closer[C_BROKER],
				(unsigned long long)s->by_closer[C_PROXY]);
			secs(s->life_min, mn, sizeof(mn));
			secs(s->life_sum / (double)s->conns, mean,
			     sizeof(mean));
			secs(s->life_max, mx, sizeof(mx));
			fprintf(out,
				"  lifetime      min %s, mean %s, max %s\n", mn,
				mean, mx);
			secs(s->idle_max, mx, sizeof(mx));
			fprintf(out, "  longest idle  %s (conn %llu, %s)\n", mx,
				(unsigned long long)s->idle_conn,
				role_names[s->idle_role]);
			fprintf(out, "  idle timeout ");
			for (int t = 0; t < REPORT_N_TIMEOUTS; t++)
				fprintf(out, " %5.0f s", timeouts[t]);
			fprintf(out, "\n    would close");
			for (int t = 0; t < REPORT_N_TIMEOUTS; t++)
				fprintf(out, " %7llu",
					(unsigned long long)s->would[t][R_N]);
			fprintf(out, "\n");
			for (int k = 0; k < R_N; k++) {
				if (!s->by_role[k])
					continue;
				fprintf(out, "    %-11s", role_names[k]);
				for (int t = 0; t < REPORT_N_TIMEOUTS; t++)
					fprintf(out, " %7llu",
						(unsigned long long)
							s->would[t][k]);
				fprintf(out, "\n");
			}
		}
		fprintf(out, "  findings      ");
		if (!s->n_rules)
			fprintf(out, "none");
		for (size_t k = 0; k < s->n_rules; k++)
			fprintf(out, "%s%s %llu", k ? ", " : "",
				s->rules[k].rule,
				(unsigned long long)s->rules[k].n);
		fprintf(out, "\n");
	}
	free(v);
}

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *ts_or_null(double t)
{
	char buf[40];

	if (!isfinite(t))
		return json_null();
	ts_format(t, buf, sizeof(buf));
	return json_string(buf);
}

json_t *report_json(const struct report *r)
{
	json_t *root = json_object(), *files = json_array();
	json_t *bad = json_array(), *sessions = json_array();
	struct rsession **v = sorted(r);

	for (size_t i = 0; i < r->n_files; i++)
		json_array_append_new(files, json_string(r->files[i]));
	json_object_set_new(root, "files", files);
	json_object_set_new(root, "lines", json_integer((json_int_t)r->lines));
	json_object_set_new(root, "bad_lines",
			    json_integer((json_int_t)r->bad_lines));
	for (size_t i = 0; i < r->n_bad; i++) {
		json_t *b = json_object();

		json_object_set_new(b, "file", json_string(r->bad[i].file));
		json_object_set_new(b, "line",
				    json_integer((json_int_t)r->bad[i].line));
		json_object_set_new(b, "error", json_string(r->bad[i].why));
		json_array_append_new(bad, b);
	}
	json_object_set_new(root, "bad", bad);
	json_object_set_new(root, "first", ts_or_null(r->t_first));
	json_object_set_new(root, "last", ts_or_null(r->t_last));
	json_object_set_new(root, "runs", json_integer(r->run));
	json_object_set_new(root, "connections_closed",
			    json_integer((json_int_t)r->closes));
	json_object_set_new(root, "connections_open_at_end",
			    json_integer((json_int_t)r->open_n));
	json_object_set_new(root, "connections_never_closed",
			    json_integer((json_int_t)r->unclosed_restart));
	json_object_set_new(root, "findings",
			    json_integer((json_int_t)r->findings));
	for (size_t i = 0; i < r->n; i++) {
		const struct rsession *s = v[i];
		json_t *o = json_object(), *conns = json_object();
		json_t *roles = json_object(), *by = json_object();
		json_t *tos = json_array(), *rules = json_object();

		json_object_set_new(o, "client_addr", json_string(s->addr));
		json_object_set_new(o, "client_id",
				    s->client_id ? json_string(s->client_id)
						 : json_null());
		json_object_set_new(o, "client_software_name",
				    s->sw_name ? json_string(s->sw_name)
					       : json_null());
		json_object_set_new(o, "client_software_version",
				    s->sw_version ? json_string(s->sw_version)
						  : json_null());
		json_object_set_new(conns, "total",
				    json_integer((json_int_t)s->conns));
		for (int k = 0; k < R_N; k++)
			json_object_set_new(
				roles, role_names[k],
				json_integer((json_int_t)s->by_role[k]));
		json_object_set_new(conns, "by_role", roles);
		for (int k = 0; k < C_N; k++)
			json_object_set_new(
				by, closer_names[k],
				json_integer((json_int_t)s->by_closer[k]));
		json_object_set_new(conns, "closed_by", by);
		json_object_set_new(o, "connections", conns);
		{
			json_t *l = json_object();

			json_object_set_new(l, "min", num_or_null(s->life_min));
			json_object_set_new(
				l, "mean",
				s->conns ? json_real(s->life_sum /
						     (double)s->conns)
					 : json_null());
			json_object_set_new(l, "max",
					    s->conns ? json_real(s->life_max)
						     : json_null());
			json_object_set_new(o, "lifetime_s", l);
		}
		{
			json_t *l = json_object();

			json_object_set_new(l, "seconds",
					    s->conns ? json_real(s->idle_max)
						     : json_null());
			json_object_set_new(
				l, "conn",
				s->conns
					? json_integer((json_int_t)s->idle_conn)
					: json_null());
			json_object_set_new(
				l, "role",
				s->conns ? json_string(role_names[s->idle_role])
					 : json_null());
			json_object_set_new(o, "longest_idle", l);
		}
		for (int t = 0; t < REPORT_N_TIMEOUTS; t++) {
			json_t *e = json_object(), *br = json_object();

			json_object_set_new(
				e, "timeout_s",
				json_integer((json_int_t)timeouts[t]));
			json_object_set_new(
				e, "would_close",
				json_integer((json_int_t)s->would[t][R_N]));
			for (int k = 0; k < R_N; k++)
				json_object_set_new(
					br, role_names[k],
					json_integer(
						(json_int_t)s->would[t][k]));
			json_object_set_new(e, "by_role", br);
			json_array_append_new(tos, e);
		}
		json_object_set_new(o, "idle_timeouts", tos);
		for (size_t k = 0; k < s->n_rules; k++)
			json_object_set_new(
				rules, s->rules[k].rule,
				json_integer((json_int_t)s->rules[k].n));
		json_object_set_new(o, "findings", rules);
		json_object_set_new(o, "requests",
				    json_integer((json_int_t)s->requests));
		json_object_set_new(o, "bytes_from_client",
				    json_integer((json_int_t)s->bytes_client));
		json_object_set_new(o, "bytes_from_broker",
				    json_integer((json_int_t)s->bytes_broker));
		json_object_set_new(o, "first", ts_or_null(s->first));
		json_object_set_new(o, "last", ts_or_null(s->last));
		json_array_append_new(sessions, o);
	}
	json_object_set_new(root, "sessions", sessions);
	free(v);
	return root;
}

/* ---- the timeline ---- */

/* Text for an SVG attribute or element: & < > " escaped; bytes below
 * 0x20 dropped (XML forbids them). */
static void xml_text(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			if ((unsigned char)*s >= 0x20)
				fputc(*s, out);
			break;
		}
	}
}

#define SVG_W     1200
#define SVG_LEFT  280
#define SVG_RIGHT 20
#define LANE_H    10
#define ROW_PAD   8

static double svg_x(double t, double t0, double t1)
{
	double w = SVG_W - SVG_LEFT - SVG_RIGHT;

	return SVG_LEFT + (t1 > t0 ? (t - t0) / (t1 - t0) * w : 0);
}

static const struct bar *bar_at(const struct rsession *s, size_t i)
{
	return &s->bars[(s->bars_head + i) % SVG_BARS];
}

/* Lanes for the bars of s, so that bars at the same time do not overlap:
 * each goes in the first lane free at its start. Returns the lanes used. */
static int assign_lanes(const struct rsession *s, uint8_t *lane)
{
	double free_at[SVG_LANES];
	int used = 0;

	for (int k = 0; k < SVG_LANES; k++)
		free_at[k] = -INFINITY;
	for (size_t i = 0; i < s->bars_len; i++) {
		const struct bar *b = bar_at(s, i);
		int k;

		for (k = 0; k < SVG_LANES - 1; k++)
			if (free_at[k] <= b->opened)
				break;
		lane[i] = (uint8_t)k;
		if (b->closed > free_at[k])
			free_at[k] = b->closed;
		if (k + 1 > used)
			used = k + 1;
	}
	return used ? used : 1;
}

static void svg_axis(FILE *out, double t0, double t1, int y, int h)
{
	static const double steps[] = {1,    2,    5,     10,    30,
				       60,   120,  300,   600,   1800,
				       3600, 7200, 21600, 43200, 86400};
	double step = steps[0];

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		step = steps[i];
		if ((t1 - t0) / step <= 8)
			break;
	}
	for (double t = ceil(t0 / step) * step; t <= t1; t += step) {
		char buf[40];
		struct tm tm;
		time_t s = (time_t)t;
		double x = svg_x(t, t0, t1);

		gmtime_r(&s, &tm);
		strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
		fprintf(out,
			"<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" "
			"x2=\"%.1f\" y2=\"%d\"/>\n"
			"<text class=\"tick\" x=\"%.1f\" y=\"%d\">%s</text>\n",
			x, y, x, y + h, x, y - 4, buf);
	}
}

void report_svg(const struct report *r, FILE *out)
{
	struct rsession **v = sorted(r);
	double t0 = INFINITY, t1 = -INFINITY;
	int y, height = 70;
	uint8_t lane[SVG_BARS];
	size_t drawn = 0;

	for (size_t i = 0; i < r->n; i++) {
		const struct rsession *s = v[i];

		if (s->drawn < 0 || !s->bars_len)
			continue;
		for (size_t k = 0; k < s->bars_len; k++) {
			const struct bar *b = bar_at(s, k);

			if (b->opened < t0)
				t0 = b->opened;
			if (b->closed > t1)
				t1 = b->closed;
		}
		height += assign_lanes(s, lane) * LANE_H + 2 * ROW_PAD;
		drawn++;
	}
	if (!drawn)
		t0 = t1 = 0;
	height += 30;
	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" class=\"timeline\">\n",
		SVG_W, height, SVG_W, height);
	fputs("<style>\n"
	      "text { font: 11px sans-serif; fill: #222; }\n"
	      ".tick { font-size: 10px; fill: #666; text-anchor: middle; }\n"
	      ".grid { stroke: #ddd; stroke-width: 1; }\n"
	      ".row { fill: #f7f7f7; }\n"
	      ".idle { fill: url(#idle-hatch); }\n"
	      ".finding { stroke: #fff; stroke-width: 0.5; }\n",
	      out);
	for (size_t i = 0; i < report_palette_len; i++)
		fprintf(out, ".%s { fill: %s; }\n", report_palette[i].cls,
			report_palette[i].rgb);
	fputs("</style>\n"
	      "<defs><pattern id=\"idle-hatch\" width=\"4\" height=\"4\" "
	      "patternUnits=\"userSpaceOnUse\" "
	      "patternTransform=\"rotate(45)\">"
	      "<rect width=\"4\" height=\"4\" fill=\"#fff\" "
	      "fill-opacity=\"0.55\"/>"
	      "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"4\" stroke=\"#fff\" "
	      "stroke-width=\"2\"/></pattern></defs>\n",
	      out);
	fprintf(out,
		"<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
		"fill=\"#fff\"/>\n",
		SVG_W, height);
	/* The legend, as on the live page. */
	{
		int x = 10;

		fprintf(out, "<g class=\"legend\">\n");
		for (int k = 0; k < R_N; k++, x += 110)
			fprintf(out,
				"<rect class=\"role-%s\" x=\"%d\" y=\"8\" "
				"width=\"14\" height=\"10\"/><text x=\"%d\" "
				"y=\"17\">%s</text>\n",
				role_names[k], x, x + 18, role_names[k]);
		fprintf(out,
			"<rect class=\"role-data\" x=\"%d\" y=\"8\" "
			"width=\"14\" height=\"10\"/><rect class=\"idle\" "
			"x=\"%d\" y=\"8\" width=\"14\" height=\"10\"/>"
			"<text x=\"%d\" y=\"17\">idle</text>\n",
			x, x, x + 18);
		x += 70;
		fprintf(out,
			"<path class=\"finding\" d=\"M%d 8 l5 5 l-5 5 l-5 -5 "
			"z\"/><text x=\"%d\" y=\"17\">finding</text>\n",
			x + 5, x + 14);
		x += 80;
		for (int k = 0; k < C_N; k++, x += 140)
			fprintf(out,
				"<rect class=\"closed-by-%s\" x=\"%d\" y=\"6\" "
				"width=\"3\" height=\"14\"/><text x=\"%d\" "
				"y=\"17\">closed by %s</text>\n",
				closer_names[k], x, x + 8, closer_names[k]);
		fprintf(out, "</g>\n");
	}
	y = 50;
	svg_axis(out, t0, t1, y, height - y - 30);
	for (size_t i = 0; i < r->n; i++) {
		const struct rsession *s = v[i];
		int lanes, row_h;

		if (s->drawn < 0 || !s->bars_len)
			continue;
		lanes = assign_lanes(s, lane);
		row_h = lanes * LANE_H + 2 * ROW_PAD;
		fprintf(out, "<g class=\"session\" data-key=\"");
		xml_text(out, s->key);
		fprintf(out,
			"\">\n<rect class=\"row\" x=\"0\" y=\"%d\" "
			"width=\"%d\" height=\"%d\"/>\n",
			y, SVG_W, row_h - 2);
		fprintf(out, "<text class=\"label\" x=\"6\" y=\"%d\">", y + 14);
		xml_text(out, s->addr);
		fputs(" ", out);
		xml_text(out, s->client_id ? s->client_id : "(no client id)");
		fprintf(out, "</text>\n<text class=\"sub\" x=\"6\" y=\"%d\">",
			y + 26);
		xml_text(out, s->sw_name && s->sw_name[0] ? s->sw_name : "");
		fprintf(out, " %llu conns</text>\n",
			(unsigned long long)s->conns);
		for (size_t k = 0; k < s->bars_len; k++) {
			const struct bar *b = bar_at(s, k);
			double x0 = svg_x(b->opened, t0, t1);
			double x1 = svg_x(b->closed, t0, t1);
			int by = y + ROW_PAD + lane[k] * LANE_H;

			if (x1 - x0 < 2)
				x1 = x0 + 2;
			fprintf(out,
				"<g class=\"conn\" data-conn=\"%llu\" "
				"data-run=\"%u\" data-role=\"%s\" "
				"data-closed-by=\"%s\">"
				"<title>conn %llu %s: %.1f s, closed by %s (",
				(unsigned long long)b->conn, b->run,
				role_names[b->role], closer_names[b->closer],
				(unsigned long long)b->conn,
				role_names[b->role], b->closed - b->opened,
				closer_names[b->closer]);
			xml_text(out, b->how);
			fputs(", ", out);
			xml_text(out, b->reason);
			fprintf(out, "), longest idle %.1f s</title>",
				b->max_idle);
			fprintf(out,
				"<rect class=\"bar role-%s\" x=\"%.1f\" "
				"y=\"%d\" width=\"%.1f\" height=\"%d\"/>",
				role_names[b->role], x0, by, x1 - x0,
				LANE_H - 2);
			if (b->idle_from > 0) {
				double xi = svg_x(b->idle_from, t0, t1);

				fprintf(out,
					"<rect class=\"idle\" x=\"%.1f\" "
					"y=\"%d\" width=\"%.1f\" "
					"height=\"%d\"/>",
					xi, by, x1 - xi > 1 ? x1 - xi : 1,
					LANE_H - 2);
			}
			fprintf(out,
				"<rect class=\"close closed-by-%s\" "
				"x=\"%.1f\" y=\"%d\" width=\"2\" "
				"height=\"%d\"/></g>\n",
				closer_names[b->closer], x1 - 1, by - 1,
				LANE_H);
		}
		for (size_t k = 0; k < s->marks_len; k++) {
			const struct mark *m =
				&s->marks[(s->marks_head + k) % SVG_MARKS];
			double x = svg_x(m->ts, t0, t1);
			int my = y + ROW_PAD + LANE_H / 2 - 1;

			for (size_t j = 0; j < s->bars_len; j++) {
				const struct bar *b = bar_at(s, j);

				if (b->run == m->run && b->conn == m->conn)
					my = y + ROW_PAD + lane[j] * LANE_H +
					     LANE_H / 2 - 1;
			}
			if (m->ts < t0 || m->ts > t1)
				continue;
			fprintf(out,
				"<path class=\"finding\" data-rule=\"%s\" "
				"d=\"M%.1f %d l5 5 l-5 5 l-5 -5 z\">"
				"<title>",
				m->rule, x, my - 5);
			xml_text(out, m->rule);
			fprintf(out, " (conn %llu)</title></path>\n",
				(unsigned long long)m->conn);
		}
		fputs("</g>\n", out);
		y += row_h;
	}
	if (r->not_drawn)
		fprintf(out,
			"<text x=\"6\" y=\"%d\">%llu more client sessions "
			"are not drawn</text>\n",
			y + 16, (unsigned long long)r->not_drawn);
	fputs("</svg>\n", out);
	free(v);
}

/* ---- the command ---- */

static void usage(FILE *out)
{
	fputs("Usage: kafka-conntrace report [--json] [--svg FILE] LOG...\n"
	      "\n"
	      "Audit kafka-conntrace event logs (JSON Lines; give rotated "
	      "files oldest\n"
	      "first; - is standard input): per client session, the "
	      "connections by role,\n"
	      "their lifetimes, the longest idle time, what idle timeouts of "
	      "60, 300, 540\n"
	      "and 600 s would have closed, and the findings.\n"
	      "\n"
	      "  --json        print the audit as one JSON object\n"
	      "  --svg FILE    draw the connection timeline into FILE\n"
	      "  --help        print this help and exit\n",
	      out);
}

int report_main(int argc, char **argv)
{
	const char *svg = NULL;
	bool as_json = false;
	struct report *r;
	int i, first = 0, rc = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			as_json = true;
		} else if (!strcmp(argv[i], "--svg") && i + 1 < argc) {
			svg = argv[++i];
		} else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr,
				"kafka-conntrace report: unknown option "
				"\"%.64s\"\n",
				argv[i]);
			usage(stderr);
			return 2;
		} else {
			break;
		}
	}
	first = i;
	if (first >= argc) {
		fprintf(stderr, "kafka-conntrace report: no log file given\n");
		usage(stderr);
		return 2;
	}
	r = report_new();
	if (!r)
		oom();
	r->track_activity = svg != NULL;
	for (i = first; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "--svg")) {
			fprintf(stderr,
				"kafka-conntrace report: options go before "
				"the files\n");
			report_free(r);
			return 2;
		}
		if (report_read_file(r, argv[i],
				     isatty(STDERR_FILENO) ? stderr : NULL) < 0)
			rc = 1;
	}
	if (as_json) {
		json_t *j = report_json(r);

		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(j);
	} else {
		report_print(r, stdout);
	}
	if (svg) {
		FILE *f = fopen(svg, "w");

		if (!f) {
			fprintf(stderr, "kafka-conntrace report: %s: %s\n", svg,
				strerror(errno));
			rc = 1;
		} else {
			report_svg(r, f);
			if (fclose(f) != 0) {
				fprintf(stderr,
					"kafka-conntrace report: %s: %s\n", svg,
					strerror(errno));
				rc = 1;
			}
		}
	}
	if (r->bad_lines)
		fprintf(stderr,
			"kafka-conntrace report: %llu bad lines skipped (see "
			"the report)\n",
			(unsigned long long)r->bad_lines);
	report_free(r);
	return rc;
}
