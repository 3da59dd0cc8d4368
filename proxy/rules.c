/*
 * rules: connection lifecycle rules, checked per client profile. State is
 * per connection (role, in-flight requests, quiet time) and per client
 * session (connections, opens over time, Metadata traffic, group
 * membership); each finding fires once per cause. Time comes in with every
 * event, so a test is a list of events and times.
 */
#include "rules.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_msg_group.h"
#include "kp_schema.h"

/* ---- facts, declared once ---- */

const struct rules_threshold rules_threshold_table[] = {
#define ROW(name, unit, scope, lo, hi, j, l, kp, kj, g, meaning)               \
	{#name,                                                                \
	 RULES_U_##unit,                                                       \
	 RULES_S_##scope,                                                      \
	 lo,                                                                   \
	 hi,                                                                   \
	 offsetof(struct rules_thresholds, name),                              \
	 {j, l, kp, kj, g},                                                    \
	 meaning},
	RULES_THRESHOLDS(ROW)
#undef ROW
};

/* Defaults from each library's source (see doc/rules.md for where); each
 * row takes one defaults column of RULES_THRESHOLDS. */
#define PROFILE(name_, k)                                                      \
	{                                                                      \
		name_,                                                         \
		{                                                              \
			RULES_THRESHOLDS(k)                                    \
		}                                                              \
	}
#define JAVA(name, u, s, lo, hi, j, l, kp, kj, g, m)         .name = j,
#define LIBRDKAFKA(name, u, s, lo, hi, j, l, kp, kj, g, m)   .name = l,
#define KAFKA_PYTHON(name, u, s, lo, hi, j, l, kp, kj, g, m) .name = kp,
#define KAFKAJS(name, u, s, lo, hi, j, l, kp, kj, g, m)      .name = kj,
#define GENERIC(name, u, s, lo, hi, j, l, kp, kj, g, m)      .name = g,
const struct rules_profile rules_profiles[] = {
	PROFILE("java", JAVA),
	PROFILE("librdkafka", LIBRDKAFKA),
	PROFILE("kafka-python", KAFKA_PYTHON),
	PROFILE("kafkajs", KAFKAJS),
	PROFILE("generic", GENERIC),
	{NULL, {.idle_close_s = 0}},
};
#undef JAVA
#undef LIBRDKAFKA
#undef KAFKA_PYTHON
#undef KAFKAJS
#undef GENERIC
#undef PROFILE

const struct rules_rule rules_catalog[] = {
	{"idle.connection", "warning",
	 "a connection stayed idle past the threshold"},
	{"idle.outlives_client", "warning",
	 "a connection outlived the client's own idle close"},
	{"bootstrap.lingering", "info",
	 "the bootstrap connection stays open after the client moved on"},
	{"role.mixed", "warning",
	 "coordination and data traffic share a connection the profile "
	 "keeps apart"},
	{"churn.short_lived", "warning",
	 "many short-lived connections from one client"},
	{"churn.open_rate", "warning",
	 "a client opens connections faster than the threshold"},
	{"churn.client_per_message", "warning",
	 "a new client instance every few requests from one address"},
	{"reconnect.storm", "warning",
	 "reconnects to a broker faster than the profile's backoff"},
	{"metadata.frequent", "info",
	 "Metadata requested far more often than the profile refreshes"},
	{"metadata.unknown_topic", "warning",
	 "repeated Metadata for a topic that does not exist"},
	{"exit.abrupt", "warning",
	 "the client vanished with requests in flight or reset its "
	 "connections"},
	{"exit.no_leave_group", "warning",
	 "a group member went away without leaving the group"},
	{"exit.graceful", "info", "the client closed cleanly"},
	{"conns.excess", "warning",
	 "more connections than the profile explains"},
	{"enforce.idle_timeout", "notice",
	 "closed a connection idle past rules.idle_timeout_s"},
	{"enforce.bootstrap_grace", "notice",
	 "closed a lingering bootstrap connection"},
	{"enforce.max_conns_session", "notice",
	 "refused a connection over rules.max_conns_per_session"},
	{"enforce.max_conns_addr", "notice",
	 "refused a connection over rules.max_conns_per_addr"},
	{"enforce.conn_rate", "notice",
	 "refused a connection over rules.max_conn_rate"},
};
const size_t rules_catalog_len =
	sizeof(rules_catalog) / sizeof(rules_catalog[0]);

#define KEEP_S 3600.0 /* forget quiet sessions and addresses */
#define RING   128

/* ---- state ---- */

/* Timestamps of recent occurrences. */
struct ring {
	double t[RING];
	uint32_t n; /* total ever */
};

static void ring_add(struct ring *g, double now)
{
	g->t[g->n % RING] = now;
	g->n++;
}

/* How many fell within window seconds before now. */
static uint32_t ring_count(const struct ring *g, double now, double window)
{
	uint32_t k = 0, have = g->n < RING ? g->n : RING;

	for (uint32_t i = 0; i < have; i++)
		k += now - g->t[i] <= window;
	return k;
}

enum conn_fired {
	F_IDLE = 1 << 0,
	F_OUTLIVES = 1 << 1,
	F_LINGER = 1 << 2,
	F_MIXED = 1 << 3,
	F_CLOSING = 1 << 4,
};

enum session_fired {
	S_SHORT = 1 << 0,
	S_OPEN_RATE = 1 << 1,
	S_STORM = 1 << 2,
	S_MD_FREQ = 1 << 3,
	S_EXCESS = 1 << 4,
};

struct rsession;

struct rconn {
	uint64_t id;
	struct rconn *hnext;
	struct rconn *snext; /* in its session */
	struct rsession *s;
	char addr[64];
	int32_t broker;
	double opened;
	double quiet_since; /* nothing in flight since */
	uint32_t inflight;
	uint32_t crit_inflight; /* requests that hand data over (Produce,
				   offset commits, transaction steps) */
	uint32_t data, group, txn;
	unsigned fired;
	const char *refused_by; /* the catalog id that refused it, or NULL */
};

struct topic_count {
	char name[128];
	struct ring seen;
	int fired;
};

struct broker_close {
	int32_t broker;
	double at;
	int failed; /* not a clean client close */
	struct ring fast;
};

struct rsession {
	struct rsession *next;
	char key[320];
	char client_id[128];
	char sw_name[64];
	char sw_version[64];
	char addr[64];
	const struct rules_profile *prof;
	struct rules_thresholds th; /* profile, rules.KEY, override */
	double idle_s;              /* idle.connection's, resolved */
	uint64_t disabled;          /* rules off for this client */
	struct rconn *conns;
	uint32_t open;
	double first_seen, last_seen;
	struct ring opens, short_lived, metadata;
	struct topic_count topics[8];
	struct broker_close closes[16];
	int joined, left;
	uint32_t exit_inflight, exit_other, exit_rst, exit_client;
	unsigned fired;
};

struct raddr {
	struct raddr *next;
	char addr[64];
	uint32_t open;
	struct ring boots;
	int fired;
	double last_seen;
};

#define CONN_BUCKETS    4096
#define SESSION_BUCKETS 1024

struct pending {
	uint64_t conn;
	const char *rule; /* a catalog id: static */
};

struct rules {
	struct rules_config cfg;
	struct pending *pending; /* closes to ask for after a sweep */
	size_t n_pending, cap_pending;
	struct rules_ops ops;
	void *ctx;
	struct rconn *conns[CONN_BUCKETS];
	struct rsession *sessions[SESSION_BUCKETS];
	struct raddr *addrs[SESSION_BUCKETS];
	struct rules_thresholds addr_th; /* for per-address counts */
	int32_t brokers_seen[256];
	int n_brokers_seen;
};

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

/* ---- configuration ---- */

void rules_config_defaults(struct rules_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = RULES_REPORT;
}

#define N_THRESHOLDS RULES_N_THRESHOLDS
/* struct rules_setting's and rules_config's masks hold one bit each. */
_Static_assert(RULES_N_THRESHOLDS <= 64, "too many thresholds for a mask");
_Static_assert(sizeof(rules_catalog) / sizeof(rules_catalog[0]) <= 64,
	       "too many rules for a mask");

static double *th_field(struct rules_thresholds *t, size_t i)
{
	return (double *)((char *)t + rules_threshold_table[i].off);
}

/* Lay the given values of set over t. */
static void setting_apply(struct rules_thresholds *t,
			  const struct rules_setting *set)
{
	for (size_t i = 0; i < N_THRESHOLDS; i++)
		if (set->given & (UINT64_C(1) << i))
			*th_field(t, i) = *th_field(
				(struct rules_thresholds *)&set->v, i);
}

/* An error at path (keys, or "" and an index), message after "rules". */
__attribute__((format(printf, 3, 4))) static int
cfg_fail(struct rules_config_error *e, const char *where, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(e->msg, sizeof(e->msg), "rules%s: ", where);
	if (n >= 0 && (size_t)n < sizeof(e->msg)) {
		va_start(ap, fmt);
		vsnprintf(e->msg + n, sizeof(e->msg) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void cfg_step(struct rules_config_error *e, const char *key, long index)
{
	if (e->depth == 4)
		return;
	snprintf(e->path[e->depth].key, sizeof(e->path[0].key), "%s", key);
	e->path[e->depth].index = index;
	e->depth++;
}

/* A key as it may appear in a message: printable ASCII, cut short. */
static const char *shown(const char *key, char *buf, size_t len)
{
	size_t n = 0;

	for (; *key && n + 5 < len; key++) {
		unsigned char ch = (unsigned char)*key;

		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
			n += (size_t)snprintf(buf + n, len - n, "\\x%02x", ch);
		else
			buf[n++] = (char)ch;
	}
	buf[n] = '\0';
	return buf;
}

static const char *unit_text(enum rules_unit u)
{
	switch (u) {
	case RULES_U_SECONDS:
		return "seconds";
	case RULES_U_COUNT:
		return "a whole number";
	case RULES_U_PER_MINUTE:
		return "per minute";
	case RULES_U_BOOL:
		return "0 or 1";
	}
	return "?";
}

/* key: a threshold? 1 when not one, 0 when taken into set, -1 on a bad
 * value (or a per-address threshold in an override). */
static int parse_threshold(struct rules_setting *set, const char *key,
			   const json_t *v, int in_override, const char *where,
			   struct rules_config_error *e)
{
	const struct rules_threshold *t = NULL;
	double d;
	size_t i;

	for (i = 0; i < N_THRESHOLDS && !t; i++)
		if (!strcmp(key, rules_threshold_table[i].name))
			t = &rules_threshold_table[i];
	if (!t)
		return 1;
	i--;
	if (in_override && t->scope == RULES_S_ADDR)
		return cfg_fail(e, where,
				"counted per source address before a client "
				"names itself: set it under \"rules\", not "
				"per client id");
	if (!json_is_number(v))
		return cfg_fail(e, where, "expected a number (%s)",
				unit_text(t->unit));
	d = json_number_value(v);
	if ((t->unit == RULES_U_COUNT || t->unit == RULES_U_BOOL) &&
	    d != (double)(long long)d)
		return cfg_fail(e, where, "expected %s, not %g",
				unit_text(t->unit), d);
	if (!(d >= t->min && d <= t->max))
		return cfg_fail(e, where, "%g is out of range %g..%g", d,
				t->min, t->max);
	*th_field(&set->v, i) = d;
	set->given |= UINT64_C(1) << i;
	return 0;
}

static int catalog_index(const char *id)
{
	for (size_t i = 0; i < rules_catalog_len; i++)
		if (strcmp(rules_catalog[i].id, id) == 0)
			return (int)i;
	return -1;
}

static int parse_disable(uint64_t *mask, const json_t *v, const char *where,
			 struct rules_config_error *e)
{
	size_t i;
	const json_t *id;

	if (!json_is_array(v))
		return cfg_fail(e, where, "expected an array of rule ids");
	json_array_foreach(v, i, id)
	{
		int k = json_is_string(id)
				? catalog_index(json_string_value(id))
				: -1;

		if (k < 0) {
			cfg_step(e, "", (long)i);
			return cfg_fail(e, where,
					"element %zu is not a rule id (see "
					"doc/rules.md)",
					i);
		}
		*mask |= UINT64_C(1) << k;
	}
	return 0;
}

static int parse_profile(const json_t *v, const char **out, const char *where,
			 struct rules_config_error *e)
{
	const struct rules_profile *p =
		json_is_string(v) ? rules_profile_find(json_string_value(v))
				  : NULL;

	if (!p)
		return cfg_fail(e, where,
				"expected one of java, librdkafka, "
				"kafka-python, kafkajs, generic");
	*out = p->name;
	return 0;
}

static int parse_overrides(struct rules_config *c, const json_t *arr,
			   struct rules_config_error *e)
{
	size_t i;
	const json_t *o;

	if (!json_is_array(arr))
		return cfg_fail(e, ".overrides", "expected an array");
	json_array_foreach(arr, i, o)
	{
		struct rules_override *ov;
		const char *key;
		const json_t *v;
		char where[160], buf[80];

		cfg_step(e, "", (long)i);
		snprintf(where, sizeof(where), ".overrides[%zu]", i);
		if (c->n_overrides == 16)
			return cfg_fail(e, where, "at most 16 entries");
		if (!json_is_object(o))
			return cfg_fail(e, where, "expected an object");
		ov = &c->overrides[c->n_overrides++];
		memset(ov, 0, sizeof(*ov));
		json_object_foreach((json_t *)o, key, v)
		{
			const char *prof = NULL;
			int rc;

			cfg_step(e, key, -1);
			snprintf(where, sizeof(where), ".overrides[%zu].%s", i,
				 shown(key, buf, sizeof(buf)));
			if (!strcmp(key, "client_id")) {
				if (!json_is_string(v) ||
				    !json_string_value(v)[0] ||
				    json_string_length(v) >=
					    sizeof(ov->pattern))
					return cfg_fail(
						e, where,
						"expected a client-id pattern "
						"(fnmatch), 1..%zu characters",
						sizeof(ov->pattern) - 1);
				snprintf(ov->pattern, sizeof(ov->pattern), "%s",
					 json_string_value(v));
			} else if (!strcmp(key, "profile")) {
				if (parse_profile(v, &prof, where, e) < 0)
					return -1;
				snprintf(ov->profile, sizeof(ov->profile), "%s",
					 prof);
			} else if (!strcmp(key, "disable")) {
				if (parse_disable(&ov->disabled, v, where, e) <
				    0)
					return -1;
			} else if ((rc = parse_threshold(&ov->set, key, v, 1,
							 where, e)) != 0) {
				if (rc < 0)
					return -1;
				return cfg_fail(e, where,
						"unknown key (client_id, "
						"profile, disable, or a "
						"threshold: see doc/rules.md)");
			}
			e->depth--;
		}
		if (!ov->pattern[0]) {
			snprintf(where, sizeof(where), ".overrides[%zu]", i);
			return cfg_fail(e, where, "client_id is required");
		}
		e->depth--;
	}
	return 0;
}

int rules_config_parse(struct rules_config *c, const json_t *obj,
		       struct rules_config_error *e)
{
	const char *key;
	const json_t *v;

	memset(e, 0, sizeof(*e));
	if (!obj)
		return 0;
	if (!json_is_object(obj))
		return cfg_fail(e, "", "expected an object");
	json_object_foreach((json_t *)obj, key, v)
	{
		char where[96], buf[80];
		int rc;

		cfg_step(e, key, -1);
		snprintf(where, sizeof(where), ".%s",
			 shown(key, buf, sizeof(buf)));
		if ((rc = parse_threshold(&c->set, key, v, 0, where, e)) <= 0) {
			if (rc < 0)
				return -1;
		} else if (!strcmp(key, "mode")) {
			const char *m = json_string_value(v);

			if (m && !strcmp(m, "report"))
				c->mode = RULES_REPORT;
			else if (m && !strcmp(m, "dry-run"))
				c->mode = RULES_DRY_RUN;
			else if (m && !strcmp(m, "enforce"))
				c->mode = RULES_ENFORCE;
			else
				return cfg_fail(e, where,
						"expected \"report\", "
						"\"dry-run\" or \"enforce\"");
		} else if (!strcmp(key, "profile")) {
			if (parse_profile(v, &c->pinned_profile, where, e) < 0)
				return -1;
		} else if (!strcmp(key, "disable")) {
			if (parse_disable(&c->disabled, v, where, e) < 0)
				return -1;
		} else if (!strcmp(key, "overrides")) {
			if (parse_overrides(c, v, e) < 0)
				return -1;
		} else {
			return cfg_fail(e, where, "unknown key");
		}
		e->depth--;
	}
	return 0;
}

/* ---- profiles ---- */

const struct rules_profile *rules_profile_find(const char *name)
{
	for (const struct rules_profile *p = rules_profiles; p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

const struct rules_profile *rules_profile_guess(const char *sw,
						const char *client_id)
{
	const char *name = "generic";

	if (sw && sw[0]) {
		if (!strcmp(sw, "apache-kafka-java"))
			name = "java";
		else if (strstr(sw, "rdkafka") || strstr(sw, "confluent-kafka"))
			name = "librdkafka";
		else if (!strcmp(sw, "kafka-python"))
			name = "kafka-python";
	} else if (client_id) {
		if (!strncmp(client_id, "producer-", 9) ||
		    !strncmp(client_id, "consumer-", 9))
			name = "java";
		else if (!strcmp(client_id, "rdkafka"))
			name = "librdkafka";
		else if (!strncmp(client_id, "kafka-python", 12))
			name = "kafka-python";
		else if (!strcmp(client_id, "kafkajs"))
			name = "kafkajs";
	}
	return rules_profile_find(name);
}

/* ---- lifecycle ---- */

struct rules *rules_new(const struct rules_config *cfg,
			const struct rules_ops *ops, void *ctx)
{
	struct rules *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->ops = *ops;
	r->ctx = ctx;
	rules_reconfigure(r, cfg);
	return r;
}

static void session_profile(struct rules *r, struct rsession *s);

void rules_reconfigure(struct rules *r, const struct rules_config *cfg)
{
	r->cfg = *cfg;
	r->addr_th = rules_profile_find("generic")->th;
	setting_apply(&r->addr_th, &cfg->set);
	for (int i = 0; i < SESSION_BUCKETS; i++)
		for (struct rsession *s = r->sessions[i]; s; s = s->next)
			session_profile(r, s);
}

void rules_free(struct rules *r)
{
	if (!r)
		return;
	for (int i = 0; i < CONN_BUCKETS; i++)
		while (r->conns[i]) {
			struct rconn *c = r->conns[i];

			r->conns[i] = c->hnext;
			free(c);
		}
	for (int i = 0; i < SESSION_BUCKETS; i++) {
		while (r->sessions[i]) {
			struct rsession *s = r->sessions[i];

			r->sessions[i] = s->next;
			free(s);
		}
		while (r->addrs[i]) {
			struct raddr *a = r->addrs[i];

			r->addrs[i] = a->next;
			free(a);
		}
	}
	free(r->pending);
	free(r);
}

/* Is rule id on for session s (NULL: for an address)? */
static int enabled(const struct rules *r, const struct rsession *s,
		   const char *id)
{
	int k = catalog_index(id);
	uint64_t off = r->cfg.disabled | (s ? s->disabled : 0);

	return k < 0 || !(off & (UINT64_C(1) << k));
}

static const char *severity_of(const char *id)
{
	for (size_t i = 0; i < rules_catalog_len; i++)
		if (strcmp(rules_catalog[i].id, id) == 0)
			return rules_catalog[i].severity;
	return "info";
}

/* Start a finding's fields; the caller adds evidence and calls emit(). */
static json_t *finding(const struct rules *r, const char *id,
		       const struct rsession *s, const char *addr)
{
	json_t *f = json_object();

	json_object_set_new(f, "rule", json_string(id));
	json_object_set_new(f, "severity", json_string(severity_of(id)));
	json_object_set_new(f, "mode",
			    json_string(r->cfg.mode == RULES_ENFORCE ? "enforce"
					: r->cfg.mode == RULES_DRY_RUN
						? "dry-run"
						: "report"));
	if (s) {
		json_object_set_new(f, "client_id", json_string(s->client_id));
		json_object_set_new(f, "client_software_name",
				    json_string(s->sw_name));
		json_object_set_new(f, "profile", json_string(s->prof->name));
		json_object_set_new(f, "client_addr", json_string(s->addr));
	} else if (addr) {
		json_object_set_new(f, "client_addr", json_string(addr));
	}
	return f;
}

static void emit(struct rules *r, json_t *f)
{
	r->ops.finding(r->ctx, f);
}

static json_t *conn_ids(const struct rconn *c)
{
	json_t *a = json_array();

	json_array_append_new(a, json_integer((json_int_t)c->id));
	return a;
}

static const char *role_of(const struct rconn *c)
{
	if (c->broker < 0)
		return "bootstrap";
	if (c->data)
		return "data";
	if (c->group || c->txn)
		return "coordinator";
	return "other";
}

/* An action: a finding saying what is (or would be) done, and in enforce
 * mode the request to do it. */
static void act_close(struct rules *r, struct rconn *c, const char *id,
		      json_t *f)
{
	json_object_set_new(f, "conns", conn_ids(c));
	json_object_set_new(f, "action",
			    json_string(r->cfg.mode == RULES_ENFORCE
						? "close"
						: "would_close"));
	emit(r, f);
	if (r->cfg.mode != RULES_ENFORCE)
		return;
	c->fired |= F_CLOSING;
	/* Asked for after the sweep: the host's close comes back here
	 * (rules_close) and frees c. */
	if (r->n_pending == r->cap_pending) {
		size_t cap = r->cap_pending ? r->cap_pending * 2 : 16;
		struct pending *p = realloc(r->pending, cap * sizeof(*p));

		if (!p)
			return;
		r->pending = p;
		r->cap_pending = cap;
	}
	r->pending[r->n_pending].conn = c->id;
	r->pending[r->n_pending].rule = id;
	r->n_pending++;
}

static struct rconn *conn_get(struct rules *r, uint64_t id)
{
	struct rconn *c = r->conns[id % CONN_BUCKETS];

	while (c && c->id != id)
		c = c->hnext;
	return c;
}

static struct raddr *addr_get(struct rules *r, const char *addr, double now)
{
	uint32_t h = hash_str(addr) % SESSION_BUCKETS;
	struct raddr *a;

	for (a = r->addrs[h]; a; a = a->next)
		if (strcmp(a->addr, addr) == 0)
			return a;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	snprintf(a->addr, sizeof(a->addr), "%s", addr);
	a->last_seen = now;
	a->next = r->addrs[h];
	r->addrs[h] = a;
	return a;
}

/* librdkafka before 2.10 keeps its bootstrap connections on purpose. */
static int keeps_bootstrap(const struct rsession *s)
{
	int major = 0, minor = 0;

	if (s->th.bootstrap_linger_s <= 0)
		return 1;
	if (strcmp(s->prof->name, "librdkafka") == 0 &&
	    sscanf(s->sw_version, "%d.%d", &major, &minor) == 2)
		return major < 2 || (major == 2 && minor < 10);
	if (strcmp(s->prof->name, "librdkafka") == 0 &&
	    strcmp(s->sw_name, "librdkafka") != 0) {
		/* A binding: its version is its own, the library's is
		 * unknown; assume the old behaviour and stay quiet. */
		return 1;
	}
	return 0;
}

/* The first override whose pattern matches client_id, or NULL. */
static const struct rules_override *override_for(const struct rules_config *c,
						 const char *client_id)
{
	for (int i = 0; i < c->n_overrides; i++)
		if (fnmatch(c->overrides[i].pattern, client_id, 0) == 0)
			return &c->overrides[i];
	return NULL;
}

const struct rules_profile *rules_resolve(const struct rules_config *c,
					  const char *sw_name,
					  const char *client_id,
					  struct rules_thresholds *out)
{
	const struct rules_override *ov = override_for(c, client_id);
	const struct rules_profile *p;

	if (ov && ov->profile[0])
		p = rules_profile_find(ov->profile);
	else if (c->pinned_profile)
		p = rules_profile_find(c->pinned_profile);
	else
		p = rules_profile_guess(sw_name, client_id);
	if (out) {
		*out = p->th;
		setting_apply(out, &c->set);
		if (ov)
			setting_apply(out, &ov->set);
	}
	return p;
}

static void session_profile(struct rules *r, struct rsession *s)
{
	const struct rules_override *ov = override_for(&r->cfg, s->client_id);

	s->prof = rules_resolve(&r->cfg, s->sw_name, s->client_id, &s->th);
	s->idle_s = s->th.idle_s > 0         ? s->th.idle_s
		    : s->th.idle_close_s > 0 ? s->th.idle_close_s
					     : s->th.broker_idle_s;
	s->disabled = ov ? ov->disabled : 0;
}

static struct rsession *session_get(struct rules *r, const char *addr,
				    const char *client_id, const char *sw,
				    const char *swv, double now)
{
	char key[320];
	uint32_t h;
	struct rsession *s;

	snprintf(key, sizeof(key), "%s|%s|%s", addr, client_id, sw);
	h = hash_str(key) % SESSION_BUCKETS;
	for (s = r->sessions[h]; s; s = s->next)
		if (strcmp(s->key, key) == 0)
			return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	snprintf(s->key, sizeof(s->key), "%s", key);
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	snprintf(s->client_id, sizeof(s->client_id), "%s", client_id);
	snprintf(s->sw_name, sizeof(s->sw_name), "%s", sw);
	snprintf(s->sw_version, sizeof(s->sw_version), "%s", swv);
	s->first_seen = now;
	s->last_seen = now;
	session_profile(r, s);
	s->next = r->sessions[h];
	r->sessions[h] = s;
	return s;
}

static void note_broker(struct rules *r, int32_t broker)
{
	if (broker < 0)
		return;
	for (int i = 0; i < r->n_brokers_seen; i++)
		if (r->brokers_seen[i] == broker)
			return;
	if (r->n_brokers_seen < 256)
		r->brokers_seen[r->n_brokers_seen++] = broker;
}

int rules_open(struct rules *r, uint64_t id, const char *addr, int32_t broker,
	       double now)
{
	struct rconn *c = calloc(1, sizeof(*c));
	struct raddr *a = addr_get(r, addr, now);

	if (!c || !a) {
		free(c);
		return 0;
	}
	c->id = id;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	c->broker = broker;
	c->opened = now;
	c->quiet_since = now;
	c->hnext = r->conns[id % CONN_BUCKETS];
	r->conns[id % CONN_BUCKETS] = c;
	note_broker(r, broker);
	a->last_seen = now;
	if (r->addr_th.max_conns_per_addr > 0 &&
	    a->open >= (uint32_t)r->addr_th.max_conns_per_addr &&
	    enabled(r, NULL, "enforce.max_conns_addr")) {
		json_t *f = finding(r, "enforce.max_conns_addr", NULL, addr);

		json_object_set_new(
			f, "evidence",
			json_pack("{s:i, s:i}", "open", a->open, "limit",
				  (int)r->addr_th.max_conns_per_addr));
		json_object_set_new(f, "conns", conn_ids(c));
		json_object_set_new(f, "action",
				    json_string(r->cfg.mode == RULES_ENFORCE
							? "refuse"
							: "would_refuse"));
		emit(r, f);
		if (r->cfg.mode == RULES_ENFORCE) {
			c->fired |= F_CLOSING;
			c->refused_by = "enforce.max_conns_addr";
			a->open++;
			return -1;
		}
	}
	a->open++;
	if (broker < 0) {
		ring_add(&a->boots, now);
		if (!a->fired && enabled(r, NULL, "churn.client_per_message") &&
		    ring_count(&a->boots, now, 60) >=
			    (uint32_t)r->addr_th.clients_per_minute) {
			json_t *f = finding(r, "churn.client_per_message", NULL,
					    addr);

			a->fired = 1;
			json_object_set_new(
				f, "evidence",
				json_pack(
					"{s:i, s:i, s:s}",
					"client_instances_last_minute",
					ring_count(&a->boots, now, 60),
					"threshold",
					(int)r->addr_th.clients_per_minute,
					"hint",
					"each client instance opens a "
					"bootstrap connection: reuse one "
					"producer instead of one per message"));
			emit(r, f);
		}
	}
	return 0;
}

static int refuse(struct rules *r, struct rconn *c, struct rsession *s,
		  const char *id, json_t *evidence)
{
	json_t *f = finding(r, id, s, NULL);

	json_object_set_new(f, "evidence", evidence);
	json_object_set_new(f, "conns", conn_ids(c));
	json_object_set_new(f, "action",
			    json_string(r->cfg.mode == RULES_ENFORCE
						? "refuse"
						: "would_refuse"));
	emit(r, f);
	if (r->cfg.mode != RULES_ENFORCE)
		return 0;
	c->fired |= F_CLOSING;
	c->refused_by = id;
	return -1;
}

/* Reconnects to the same broker sooner than the profile's backoff after a
 * failed connection. */
static void check_storm(struct rules *r, struct rsession *s, struct rconn *c,
			double now)
{
	for (int i = 0; i < 16; i++) {
		struct broker_close *b = &s->closes[i];

		if (b->at == 0 || b->broker != c->broker || !b->failed)
			continue;
		if (now - b->at < s->th.reconnect_backoff_s)
			ring_add(&b->fast, now);
		if (!(s->fired & S_STORM) && enabled(r, s, "reconnect.storm") &&
		    ring_count(&b->fast, now, s->th.storm_window_s) >=
			    s->th.storm_count) {
			json_t *f = finding(r, "reconnect.storm", s, NULL);

			s->fired |= S_STORM;
			json_object_set_new(
				f, "evidence",
				json_pack("{s:i, s:i, s:f, s:f}", "broker_id",
					  c->broker, "fast_reconnects",
					  ring_count(&b->fast, now, 60),
					  "last_gap_s", now - b->at,
					  "profile_backoff_s",
					  s->th.reconnect_backoff_s));
			json_object_set_new(f, "conns", conn_ids(c));
			emit(r, f);
		}
	}
}

int rules_identify(struct rules *r, uint64_t id, const char *client_id,
		   const char *sw_name, const char *sw_version, double now)
{
	struct rconn *c = conn_get(r, id);
	struct rsession *s;
	uint32_t expected;

	if (!c || c->s)
		return 0;
	s = session_get(r, c->addr, client_id ? client_id : "",
			sw_name ? sw_name : "", sw_version ? sw_version : "",
			now);
	if (!s)
		return 0;
	c->s = s;
	c->snext = s->conns;
	s->conns = c;
	s->open++;
	s->last_seen = now;
	ring_add(&s->opens, now);
	check_storm(r, s, c, now);
	if (s->th.max_conns_per_session > 0 &&
	    s->open > (uint32_t)s->th.max_conns_per_session &&
	    enabled(r, s, "enforce.max_conns_session") &&
	    refuse(r, c, s, "enforce.max_conns_session",
		   json_pack("{s:i, s:i}", "open", s->open, "limit",
			     (int)s->th.max_conns_per_session)) < 0)
		return -1;
	if (s->th.max_conn_rate > 0 &&
	    ring_count(&s->opens, now, 60) > s->th.max_conn_rate &&
	    enabled(r, s, "enforce.conn_rate") &&
	    refuse(r, c, s, "enforce.conn_rate",
		   json_pack("{s:i, s:f}", "opens_last_minute",
			     ring_count(&s->opens, now, 60), "limit_per_minute",
			     s->th.max_conn_rate)) < 0)
		return -1;
	if (!(s->fired & S_OPEN_RATE) && enabled(r, s, "churn.open_rate") &&
	    s->th.open_rate > 0 &&
	    ring_count(&s->opens, now, 60) > s->th.open_rate) {
		json_t *f = finding(r, "churn.open_rate", s, NULL);

		s->fired |= S_OPEN_RATE;
		json_object_set_new(f, "evidence",
				    json_pack("{s:i, s:f}", "opens_last_minute",
					      ring_count(&s->opens, now, 60),
					      "threshold", s->th.open_rate));
		emit(r, f);
	}
	/* bootstrap + group and transaction coordinators + data per
	 * broker */
	expected = 3 + (uint32_t)s->th.conns_per_broker *
			       (uint32_t)(r->n_brokers_seen ? r->n_brokers_seen
							    : 1);
	if (!(s->fired & S_EXCESS) && enabled(r, s, "conns.excess") &&
	    s->open > expected) {
		json_t *f = finding(r, "conns.excess", s, NULL);

		s->fired |= S_EXCESS;
		json_object_set_new(f, "evidence",
				    json_pack("{s:i, s:i, s:i}", "open",
					      s->open, "expected_at_most",
					      expected, "brokers",
					      r->n_brokers_seen));
		emit(r, f);
	}
	return 0;
}

/* Requests whose answer says the client's data was taken. */
static int hands_over(int16_t key)
{
	switch (key) {
	case KP_API_PRODUCE:
	case KP_API_OFFSET_COMMIT:
	case KP_API_TXN_OFFSET_COMMIT:
	case KP_API_END_TXN:
	case KP_API_ADD_PARTITIONS_TO_TXN:
	case KP_API_ADD_OFFSETS_TO_TXN:
		return 1;
	default:
		return 0;
	}
}

static void quiet_check(struct rconn *c, double now)
{
	if (c->inflight == 0)
		c->quiet_since = now;
}

void rules_request(struct rules *r, uint64_t id, int16_t api_key,
		   int expects_response, int leaving, double now)
{
	struct rconn *c = conn_get(r, id);
	struct rsession *s;
	enum kp_api_class cls = kp_api_class(api_key);

	if (!c)
		return;
	if (expects_response) {
		c->inflight++;
		c->crit_inflight += hands_over(api_key);
	} else {
		quiet_check(c, now);
	}
	switch (api_key) {
	case KP_API_PRODUCE:
	case KP_API_FETCH:
	case KP_API_LIST_OFFSETS:
		c->data++;
		break;
	default:
		if (cls == KP_API_CLASS_GROUP)
			c->group++;
		else if (cls == KP_API_CLASS_TXN)
			c->txn++;
		break;
	}
	s = c->s;
	if (!s)
		return;
	s->last_seen = now;
	if (api_key == KP_API_JOIN_GROUP ||
	    api_key == KP_API_CONSUMER_GROUP_HEARTBEAT)
		s->joined = 1;
	if (leaving)
		s->left = 1;
	if (!(c->fired & F_MIXED) && enabled(r, s, "role.mixed") && c->data &&
	    ((c->group && s->th.separate_coordinator) ||
	     (c->txn && !s->th.txn_on_data))) {
		json_t *f = finding(r, "role.mixed", s, NULL);

		c->fired |= F_MIXED;
		json_object_set_new(f, "evidence",
				    json_pack("{s:i, s:i, s:i, s:i}",
					      "broker_id", c->broker,
					      "data_requests", c->data,
					      "group_requests", c->group,
					      "txn_requests", c->txn));
		json_object_set_new(f, "conns", conn_ids(c));
		emit(r, f);
	}
	if (api_key == KP_API_METADATA) {
		ring_add(&s->metadata, now);
		if (!(s->fired & S_MD_FREQ) &&
		    enabled(r, s, "metadata.frequent") &&
		    now - s->first_seen >= s->th.metadata_startup_s &&
		    ring_count(&s->metadata, now, 60) >
			    (uint32_t)s->th.metadata_per_minute) {
			json_t *f = finding(r, "metadata.frequent", s, NULL);

			s->fired |= S_MD_FREQ;
			json_object_set_new(
				f, "evidence",
				json_pack("{s:i, s:f}", "metadata_last_minute",
					  ring_count(&s->metadata, now, 60),
					  "profile_refresh_s",
					  s->th.metadata_refresh_s));
			emit(r, f);
		}
	}
}

void rules_response(struct rules *r, uint64_t id, int16_t api_key, double now)
{
	struct rconn *c = conn_get(r, id);

	if (!c)
		return;
	if (c->inflight)
		c->inflight--;
	if (hands_over(api_key) && c->crit_inflight)
		c->crit_inflight--;
	quiet_check(c, now);
}

void rules_unknown_topic(struct rules *r, uint64_t id, const char *topic,
			 double now)
{
	struct rconn *c = conn_get(r, id);
	struct rsession *s = c ? c->s : NULL;
	struct topic_count *t = NULL;

	if (!s || !enabled(r, s, "metadata.unknown_topic"))
		return;
	for (int i = 0; i < 8 && !t; i++)
		if (!strcmp(s->topics[i].name, topic))
			t = &s->topics[i];
	for (int i = 0; i < 8 && !t; i++)
		if (!s->topics[i].name[0])
			t = &s->topics[i];
	if (!t)
		return; /* eight topics already tracked for this client */
	snprintf(t->name, sizeof(t->name), "%s", topic);
	ring_add(&t->seen, now);
	if (!t->fired &&
	    ring_count(&t->seen, now, s->th.unknown_topic_window_s) >=
		    (uint32_t)s->th.unknown_topic_count) {
		json_t *f = finding(r, "metadata.unknown_topic", s, NULL);

		t->fired = 1;
		json_object_set_new(
			f, "evidence",
			json_pack("{s:s, s:i, s:f}", "topic", topic,
				  "unknown_topic_answers",
				  ring_count(&t->seen, now,
					     s->th.unknown_topic_window_s),
				  "window_s", s->th.unknown_topic_window_s));
		json_object_set_new(f, "conns", conn_ids(c));
		emit(r, f);
	}
}

/* The session's last connection closed: how did the client leave? */
static void session_ended(struct rules *r, struct rsession *s)
{
	json_t *f;
	int abrupt;

	if (!s->exit_client)
		return; /* the proxy or the broker ended it */
	/* Abrupt: a reset, data handed over and left unanswered, or a
	 * group member gone with requests in flight and no leave. */
	abrupt = s->exit_rst || s->exit_inflight ||
		 (s->exit_other && s->joined && !s->left);
	if (abrupt && enabled(r, s, "exit.abrupt")) {
		f = finding(r, "exit.abrupt", s, NULL);
		json_object_set_new(
			f, "evidence",
			json_pack("{s:i, s:i, s:i, s:b, s:b}",
				  "unanswered_data_requests", s->exit_inflight,
				  "other_in_flight", s->exit_other, "resets",
				  s->exit_rst, "joined_group", s->joined,
				  "left_group", s->left));
		emit(r, f);
	}
	if (s->joined && !s->left && enabled(r, s, "exit.no_leave_group")) {
		f = finding(r, "exit.no_leave_group", s, NULL);
		json_object_set_new(
			f, "evidence",
			json_pack("{s:s}", "hint",
				  "the group waits session.timeout.ms before "
				  "rebalancing (static members skip "
				  "LeaveGroup on purpose)"));
		emit(r, f);
	}
	if (!abrupt && (!s->joined || s->left) &&
	    enabled(r, s, "exit.graceful")) {
		f = finding(r, "exit.graceful", s, NULL);
		json_object_set_new(f, "evidence",
				    json_pack("{s:b, s:b}", "joined_group",
					      s->joined, "left_group",
					      s->left));
		emit(r, f);
	}
	s->exit_inflight = s->exit_other = s->exit_rst = s->exit_client = 0;
	s->joined = s->left = 0;
}

static void remember_close(struct rsession *s, const struct rconn *c,
			   int failed, double now)
{
	struct broker_close *slot = &s->closes[0];

	for (int i = 0; i < 16; i++) {
		if (s->closes[i].broker == c->broker && s->closes[i].at) {
			slot = &s->closes[i];
			break;
		}
		if (s->closes[i].at < slot->at)
			slot = &s->closes[i];
	}
	if (slot->broker != c->broker)
		memset(slot, 0, sizeof(*slot));
	slot->broker = c->broker;
	slot->at = now;
	slot->failed = failed;
}

void rules_close(struct rules *r, uint64_t id, const char *closed_by,
		 const char *how, uint32_t inflight, double now)
{
	struct rconn **pp = &r->conns[id % CONN_BUCKETS], *c;
	struct rsession *s;
	struct raddr *a;
	int by_client = strcmp(closed_by, "client") == 0;

	while (*pp && (*pp)->id != id)
		pp = &(*pp)->hnext;
	c = *pp;
	if (!c)
		return;
	*pp = c->hnext;
	a = addr_get(r, c->addr, now);
	if (a && a->open)
		a->open--;
	s = c->s;
	if (s) {
		struct rconn **sp = &s->conns;

		while (*sp && *sp != c)
			sp = &(*sp)->snext;
		if (*sp)
			*sp = c->snext;
		s->open--;
		s->last_seen = now;
		remember_close(s, c, !(by_client && !strcmp(how, "fin")), now);
		if (by_client) {
			/* The engine's own count, by API: a Fetch long poll
			 * or a heartbeat left in flight is how librdkafka
			 * closes; a Produce or a commit is not. */
			(void)inflight;
			s->exit_client++;
			s->exit_inflight += c->crit_inflight;
			s->exit_other += c->inflight - c->crit_inflight;
			s->exit_rst += !strcmp(how, "rst");
		}
		if (by_client && c->broker >= 0 &&
		    now - c->opened < s->th.short_lived_s) {
			ring_add(&s->short_lived, now);
			if (!(s->fired & S_SHORT) &&
			    enabled(r, s, "churn.short_lived") &&
			    ring_count(&s->short_lived, now,
				       s->th.churn_window_s) >=
				    (uint32_t)s->th.churn_count) {
				json_t *f = finding(r, "churn.short_lived", s,
						    NULL);

				s->fired |= S_SHORT;
				json_object_set_new(
					f, "evidence",
					json_pack("{s:i, s:f, s:f}",
						  "short_lived_connections",
						  ring_count(
							  &s->short_lived, now,
							  s->th.churn_window_s),
						  "shorter_than_s",
						  s->th.short_lived_s,
						  "window_s",
						  s->th.churn_window_s));
				emit(r, f);
			}
		}
		if (s->open == 0)
			session_ended(r, s);
	}
	free(c);
}

/* Does the session have connections other than bootstrap ones opened
 * more than linger seconds ago? */
static int moved_on(const struct rsession *s, double linger, double now)
{
	for (const struct rconn *o = s->conns; o; o = o->snext)
		if (o->broker >= 0 && now - o->opened >= linger)
			return 1;
	return 0;
}

static void tick_conn(struct rules *r, struct rconn *c, double now)
{
	struct rsession *s = c->s;
	double quiet = c->inflight ? 0 : now - c->quiet_since;
	json_t *f;

	if (!s || (c->fired & F_CLOSING))
		return;
	if (!(c->fired & F_IDLE) && quiet > s->idle_s &&
	    enabled(r, s, "idle.connection")) {
		c->fired |= F_IDLE;
		f = finding(r, "idle.connection", s, NULL);
		json_object_set_new(f, "evidence",
				    json_pack("{s:f, s:f, s:s, s:i}", "idle_s",
					      quiet, "threshold_s", s->idle_s,
					      "role", role_of(c), "broker_id",
					      c->broker));
		json_object_set_new(f, "conns", conn_ids(c));
		emit(r, f);
	}
	if (!(c->fired & F_OUTLIVES) && s->th.idle_close_s > 0 &&
	    quiet > s->th.idle_close_s + s->th.outlives_slack_s &&
	    enabled(r, s, "idle.outlives_client")) {
		c->fired |= F_OUTLIVES;
		f = finding(r, "idle.outlives_client", s, NULL);
		json_object_set_new(
			f, "evidence",
			json_pack("{s:f, s:f, s:s}", "idle_s", quiet,
				  "client_idle_close_s", s->th.idle_close_s,
				  "hint",
				  "connections.max.idle.ms is likely -1 or "
				  "raised above the library default"));
		json_object_set_new(f, "conns", conn_ids(c));
		emit(r, f);
	}
	if (c->broker < 0 && !(c->fired & F_LINGER) && !keeps_bootstrap(s) &&
	    moved_on(s, s->th.bootstrap_linger_s, now) &&
	    quiet > s->th.bootstrap_linger_s &&
	    enabled(r, s, "bootstrap.lingering")) {
		c->fired |= F_LINGER;
		f = finding(r, "bootstrap.lingering", s, NULL);
		json_object_set_new(f, "evidence",
				    json_pack("{s:f, s:f}", "open_s",
					      now - c->opened,
					      "profile_linger_s",
					      s->th.bootstrap_linger_s));
		json_object_set_new(f, "conns", conn_ids(c));
		emit(r, f);
	}
	if (r->cfg.mode == RULES_REPORT)
		return;
	/* Actions: only on quiet connections, so nothing handed over is
	 * lost; the host closes between frames. */
	if (s->th.idle_timeout_s > 0 && quiet > s->th.idle_timeout_s &&
	    enabled(r, s, "enforce.idle_timeout")) {
		f = finding(r, "enforce.idle_timeout", s, NULL);
		json_object_set_new(f, "evidence",
				    json_pack("{s:f, s:f, s:s}", "idle_s",
					      quiet, "idle_timeout_s",
					      s->th.idle_timeout_s, "role",
					      role_of(c)));
		act_close(r, c, "enforce.idle_timeout", f);
		if (r->cfg.mode == RULES_DRY_RUN)
			c->quiet_since = now; /* say it once per gap */
		return;
	}
	if (c->broker < 0 && s->th.bootstrap_grace_s > 0 &&
	    moved_on(s, s->th.bootstrap_grace_s, now) &&
	    quiet > s->th.bootstrap_grace_s &&
	    enabled(r, s, "enforce.bootstrap_grace")) {
		f = finding(r, "enforce.bootstrap_grace", s, NULL);
		json_object_set_new(f, "evidence",
				    json_pack("{s:f, s:f}", "open_s",
					      now - c->opened, "grace_s",
					      s->th.bootstrap_grace_s));
		act_close(r, c, "enforce.bootstrap_grace", f);
		if (r->cfg.mode == RULES_DRY_RUN)
			c->quiet_since = now;
	}
}

void rules_tick(struct rules *r, double now)
{
	for (int i = 0; i < CONN_BUCKETS; i++)
		for (struct rconn *c = r->conns[i]; c; c = c->hnext)
			tick_conn(r, c, now);
	for (size_t i = 0; i < r->n_pending; i++)
		r->ops.close(r->ctx, r->pending[i].conn, r->pending[i].rule);
	r->n_pending = 0;
	/* Forget sessions and addresses that have been quiet a long time. */
	for (int i = 0; i < SESSION_BUCKETS; i++) {
		struct rsession **sp = &r->sessions[i];
		struct raddr **ap = &r->addrs[i];

		while (*sp) {
			struct rsession *s = *sp;

			if (s->open == 0 && now - s->last_seen > KEEP_S) {
				*sp = s->next;
				free(s);
			} else {
				sp = &s->next;
			}
		}
		while (*ap) {
			struct raddr *a = *ap;

			if (a->open == 0 && now - a->last_seen > KEEP_S) {
				*ap = a->next;
				free(a);
			} else {
				ap = &a->next;
			}
		}
	}
}

const char *rules_refused_by(struct rules *r, uint64_t id)
{
	struct rconn *c = conn_get(r, id);

	return c ? c->refused_by : NULL;
}

const char *rules_conn_profile(struct rules *r, uint64_t id)
{
	struct rconn *c = conn_get(r, id);

	return c && c->s ? c->s->prof->name : NULL;
}
