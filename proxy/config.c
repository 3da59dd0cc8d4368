/*
 * config: fills struct kc_config from the built-in defaults, a JSON file and
 * argv, all driven by the tables in config.h, and says where every mistake
 * is: "FILE:LINE:COLUMN: ..." for the file, "--flag: ..." for the command
 * line. No global state, so a SIGHUP reload can simply run it again.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#ifndef PACKAGE_VERSION /* configure passes it in DEFS */
#define PACKAGE_VERSION "unknown"
#endif

/* A config file larger than this is a mistake (a log file, say). */
#define CONFIG_FILE_MAX (16 * 1024 * 1024)

/* Width of the flag column in --help. */
#define USAGE_COL 30

/* One row of the tables in config.h. */
struct opt {
	const char *flag; /* without "--"; NULL: file only */
	const char *key;  /* JSON key; NULL: command line only */
	enum kc_opt_type type;
	size_t off; /* of the member in struct kc_config */
	const char *def;
	long long min, max;
	const char *meta;
	const char *help;
};

#define OPT_SETTING(field, flag_, key_, type_, def_, min_, max_, meta_, help_) \
	{.flag = flag_,                                                        \
	 .key = key_,                                                          \
	 .type = type_,                                                        \
	 .off = offsetof(struct kc_config, field),                             \
	 .def = def_,                                                          \
	 .min = min_,                                                          \
	 .max = max_,                                                          \
	 .meta = meta_,                                                        \
	 .help = help_},
#define OPT_ACTION(flag_, type_, meta_, help_)                                 \
	{.flag = flag_, .type = type_, .def = "", .meta = meta_, .help = help_},

static const struct opt opts[] = {KC_CONFIG_SETTINGS(OPT_SETTING)
					  KC_CONFIG_ACTIONS(OPT_ACTION)};
#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

/* The table names a member and a type; make sure they agree. */
#define MEMBER(f) (&((struct kc_config *)0)->f)
#define STORED_AS_KC_T_HOSTPORT(f)                                             \
	_Generic(MEMBER(f), struct kc_hostport * : 1, default : 0)
#define STORED_AS_KC_T_ADDR_OPT(f) STORED_AS_KC_T_HOSTPORT(f)
#define STORED_AS_KC_T_UPSTREAMS(f)                                            \
	_Generic(MEMBER(f), struct kc_hostport(*)[KC_MAX_UPSTREAMS] : 1,       \
		 default : 0)
#define STORED_AS_KC_T_PATH(f)                                                 \
	_Generic(MEMBER(f), char(*)[KC_PATH_MAX] : 1, default : 0)
#define STORED_AS_KC_T_HOST(f)                                                 \
	_Generic(MEMBER(f), char(*)[KC_HOST_MAX] : 1, default : 0)
#define STORED_AS_KC_T_USER(f)                                                 \
	_Generic(MEMBER(f), char(*)[KC_USER_MAX] : 1, default : 0)
#define STORED_AS_KC_T_PORTS(f)                                                \
	_Generic(MEMBER(f), struct kc_portrange * : 1, default : 0)
#define STORED_AS_KC_T_FLAG(f)   _Generic(MEMBER(f), bool * : 1, default : 0)
#define STORED_AS_KC_T_NOFLAG(f) _Generic(MEMBER(f), bool * : 1, default : 0)
#define STORED_AS_KC_T_LEVEL(f)                                                \
	_Generic(MEMBER(f), enum kc_log_level * : 1, default : 0)
#define STORED_AS_KC_T_SIZE(f)  _Generic(MEMBER(f), size_t * : 1, default : 0)
#define STORED_AS_KC_T_COUNT(f) _Generic(MEMBER(f), int * : 1, default : 0)
#define STORED_AS_KC_T_MS(f)    _Generic(MEMBER(f), int * : 1, default : 0)
#define STORED_AS_KC_T_JSON(f)  _Generic(MEMBER(f), json_t * * : 1, default : 0)
#define OPT_CHECK(field, flag, key, type, def, min, max, meta, help)           \
	_Static_assert(STORED_AS_##type(field),                                \
		       "config.h: " #field " is not stored as " #type);
KC_CONFIG_SETTINGS(OPT_CHECK)

/* What each type accepts in the JSON file, for "must be ..." messages. */
static const char *const type_expect[] = {
	[KC_T_HOSTPORT] = "a string \"HOST:PORT\"",
	[KC_T_ADDR_OPT] = "a string \"HOST:PORT\"",
	[KC_T_UPSTREAMS] = ("an array of \"HOST:PORT\" strings, or one "
			    "string \"HOST:PORT,HOST:PORT\""),
	[KC_T_PATH] = "a string (a file name, or \"-\")",
	[KC_T_HOST] = "a string (a host name or address)",
	[KC_T_USER] = "a string (a user name)",
	[KC_T_PORTS] = "a string \"LO-HI\" or \"0\"",
	[KC_T_FLAG] = "true or false",
	[KC_T_NOFLAG] = "true or false",
	[KC_T_LEVEL] = "one of \"error\", \"warn\", \"info\", \"debug\"",
	[KC_T_SIZE] = "an integer or a string such as \"16M\"",
	[KC_T_COUNT] = "an integer",
	[KC_T_MS] = "an integer (milliseconds)",
	[KC_T_JSON] = "an object",
};

static const char *const level_names[] = {
	[KC_LOG_ERROR] = "error",
	[KC_LOG_WARN] = "warn",
	[KC_LOG_INFO] = "info",
	[KC_LOG_DEBUG] = "debug",
};

const char *kc_log_level_name(enum kc_log_level level)
{
	if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "?";
	return level_names[level];
}

/* Format into err and return -1, so that errors are one statement. */
__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen,
						      const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A value from the user, double-quoted and escaped for a message, and cut
 * short: config values reach stderr and a journal. Use as quote(s).s; the
 * array lives until the end of the full expression. */
struct quoted {
	char s[96];
};

static struct quoted quote(const char *s)
{
	struct quoted q;
	size_t o = 0, i;

	q.s[o++] = '"';
	for (i = 0; s[i] && o < sizeof(q.s) - 10; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			q.s[o++] = '\\';
			q.s[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(q.s + o, 5, "\\x%02x", ch);
		} else {
			q.s[o++] = (char)ch;
		}
	}
	if (s[i]) {
		/* Do not leave half a UTF-8 sequence before the ellipsis. */
		while (o > 1 && ((unsigned char)q.s[o - 1] & 0xc0) == 0x80)
			o--;
		if (o > 1 && ((unsigned char)q.s[o - 1] & 0xc0) == 0xc0)
			o--;
		memcpy(q.s + o, "...", 3);
		o += 3;
	}
	q.s[o++] = '"';
	q.s[o] = '\0';
	return q;
}

static void *opt_ptr(struct kc_config *c, const struct opt *o)
{
	return (char *)c + o->off;
}

static const void *opt_cptr(const struct kc_config *c, const struct opt *o)
{
	return (const char *)c + o->off;
}

static bool opt_is_setting(const struct opt *o)
{
	return o->key != NULL;
}

static bool opt_takes_value(const struct opt *o)
{
	switch (o->type) {
	case KC_T_FLAG:
	case KC_T_NOFLAG:
	case KC_T_HELP:
	case KC_T_VERSION:
		return false;
	default:
		return true;
	}
}

/* The row for member offset off (settings only). */
static const struct opt *opt_at(size_t off)
{
	size_t i;

	for (i = 0; i < N_OPTS; i++)
		if (opt_is_setting(&opts[i]) && opts[i].off == off)
			return &opts[i];
	abort(); /* a field the table does not name: impossible */
}
#define OPT_OF(field) opt_at(offsetof(struct kc_config, field))

static const struct opt *opt_by_key(const char *key)
{
	size_t i;

	for (i = 0; i < N_OPTS; i++)
		if (opts[i].key && !strcmp(opts[i].key, key))
			return &opts[i];
	return NULL;
}

static const struct opt *opt_by_flag(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < N_OPTS; i++)
		if (opts[i].flag && strlen(opts[i].flag) == len &&
		    !memcmp(opts[i].flag, name, len))
			return &opts[i];
	return NULL;
}

/* "--flag (\"key\")", or whichever of the two exists: how validation
 * errors name a setting, since by then it may have come from either. */
struct optname {
	char s[96];
};

static struct optname opt_name(const struct opt *o)
{
	struct optname n;

	if (o->flag && o->key)
		snprintf(n.s, sizeof(n.s), "--%s (\"%s\")", o->flag, o->key);
	else if (o->flag)
		snprintf(n.s, sizeof(n.s), "--%s", o->flag);
	else
		snprintf(n.s, sizeof(n.s), "\"%s\"", o->key);
	return n;
}

/* Levenshtein distance of a and b, or a large number for long words. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t prev[65], cur[65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? sub : del;
			if (ins < cur[j])
				cur[j] = ins;
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

/* The flag (by_flag) or key closest to word: within edit distance 2, or
 * else the one name that word is a prefix of or extends by a suffix
 * ("connect_timeout" for "connect_timeout_ms"). A key is also found by its
 * flag's name written with '_' ("no_proc" gives "proc_lookup"). NULL if
 * none. */
static const char *opt_suggest(const char *word, bool by_flag)
{
	const char *best = NULL, *prefix = NULL;
	size_t best_d = 3, i, wl = strlen(word);
	int n_prefix = 0;

	for (i = 0; i < N_OPTS; i++) {
		const char *name = by_flag ? opts[i].flag : opts[i].key;
		char alt[64] = "";
		size_t d, nl, k;

		if (!name)
			continue;
		if (!by_flag && opts[i].flag) {
			for (k = 0; opts[i].flag[k] && k < sizeof(alt) - 1; k++)
				alt[k] = opts[i].flag[k] == '-'
						 ? '_'
						 : opts[i].flag[k];
			alt[k] = '\0';
		}
		d = edit_distance(word, name);
		if (alt[0] && edit_distance(word, alt) < d)
			d = edit_distance(word, alt);
		if (d < best_d) {
			best_d = d;
			best = name;
		}
		nl = strlen(name);
		if ((wl >= 4 && wl < nl && !strncmp(word, name, wl)) ||
		    (nl >= 4 && nl < wl && !strncmp(word, name, nl))) {
			prefix = name;
			n_prefix++;
		}
	}
	if (best)
		return best;
	return n_prefix == 1 ? prefix : NULL;
}

/*
 * Values as text: flags, defaults and JSON strings. Each parser writes a
 * message without a prefix into msg and returns -1, or returns 0.
 */

/* 1..65535 written as 1-5 plain digits. */
static int port_parse(const char *s, size_t len, uint16_t *out)
{
	unsigned v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* Check the host h[0..len) and copy it, NUL-terminated, to out (may be
 * NULL). IPv6 when v6 is set or h has a colon; otherwise a DNS name or an
 * IPv4 address. */
static int host_check(const char *h, size_t len, bool v6, char *out, char *msg,
		      size_t n)
{
	char tmp[KC_HOST_MAX];
	size_t i;

	if (len == 0)
		return fail(msg, n, "the host is empty");
	if (len >= KC_HOST_MAX)
		return fail(msg, n, "the host is longer than %d bytes",
			    KC_HOST_MAX - 1);
	memcpy(tmp, h, len);
	tmp[len] = '\0';
	if (v6 || memchr(h, ':', len)) {
		struct in6_addr a6;
		char *zone = strchr(tmp, '%');

		if (zone) {
			*zone++ = '\0';
			if (!*zone ||
			    strspn(zone, "abcdefghijklmnopqrstuvwxyz"
					 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789._-") != strlen(zone))
				return fail(msg, n, "%s has a bad IPv6 zone",
					    quote(tmp).s);
		}
		if (inet_pton(AF_INET6, tmp, &a6) != 1)
			return fail(msg, n, "%s is not an IPv6 address",
				    quote(tmp).s);
	} else {
		struct in_addr a4;

		for (i = 0; i < len; i++) {
			unsigned char ch = (unsigned char)h[i];

			if (!((ch >= 'a' && ch <= 'z') ||
			      (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9') || ch == '.' ||
			      ch == '-' || ch == '_'))
				return fail(msg, n,
					    "%s is not a host name or address",
					    quote(tmp).s);
		}
		if (strspn(tmp, "0123456789.") == len &&
		    inet_pton(AF_INET, tmp, &a4) != 1)
			return fail(msg, n, "%s is not an IPv4 address",
				    quote(tmp).s);
	}
	if (out) {
		memcpy(out, h, len);
		out[len] = '\0';
	}
	return 0;
}

static int hostport_parse(const char *s, struct kc_hostport *out, char *msg,
			  size_t n)
{
	const char *hs, *he, *port;
	bool v6 = false;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb)
			return fail(msg, n, "%s: no ']' after the IPv6 address",
				    quote(s).s);
		if (rb[1] != ':')
			return fail(msg, n, "%s has no port (want [V6]:PORT)",
				    quote(s).s);
		hs = s + 1;
		he = rb;
		port = rb + 2;
		v6 = true;
	} else {
		const char *colon = strrchr(s, ':');

		if (!colon)
			return fail(msg, n, "%s has no port (want HOST:PORT)",
				    quote(s).s);
		if (memchr(s, ':', (size_t)(colon - s)))
			return fail(msg, n,
				    "%s: put an IPv6 address in brackets, as "
				    "in [::1]:9092",
				    quote(s).s);
		hs = s;
		he = colon;
		port = colon + 1;
	}
	if (host_check(hs, (size_t)(he - hs), v6, out->host, msg, n))
		return -1;
	if (port_parse(port, strlen(port), &out->port))
		return fail(msg, n, "%s: the port must be a number 1..65535",
			    quote(s).s);
	return 0;
}

int kc_parse_hostport(const char *s, struct kc_hostport *out)
{
	char msg[1];

	return hostport_parse(s, out, msg, 0);
}

/* Append the comma-separated HOST:PORT list s to c->upstreams. Blanks
 * around the commas are allowed. */
static int upstreams_add(struct kc_config *c, const char *s, char *msg,
			 size_t n)
{
	const char *p = s;

	for (;;) {
		const char *end = strchr(p, ',');
		size_t len;
		char one[KC_HOST_MAX + 16];

		if (!end)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		len = (size_t)(end - p);
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0)
			return fail(msg, n, "%s has an empty address",
				    quote(s).s);
		if (len >= sizeof(one))
			return fail(msg, n, "an address in %s is too long",
				    quote(s).s);
		if (c->n_upstreams >= KC_MAX_UPSTREAMS)
			return fail(msg, n, "more than %d upstream addresses",
				    KC_MAX_UPSTREAMS);
		memcpy(one, p, len);
		one[len] = '\0';
		if (hostport_parse(one, &c->upstreams[c->n_upstreams], msg, n))
			return -1;
		c->n_upstreams++;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

/* A host alone: a name, an IPv4 address, or an IPv6 address with or
 * without brackets (stored without). */
static int host_parse(const char *s, char *out, char *msg, size_t n)
{
	size_t len = strlen(s);

	if (s[0] == '[') {
		if (len < 2 || s[len - 1] != ']')
			return fail(msg, n, "%s: no ']' after the IPv6 address",
				    quote(s).s);
		return host_check(s + 1, len - 2, true, out, msg, n);
	}
	return host_check(s, len, false, out, msg, n);
}

/* A user name as useradd accepts it: letters, digits, '.', '_', '-'
 * (not first), a final '$'. Whether it exists is asked at start-up. */
static int user_parse(const char *s, char *out, char *msg, size_t n)
{
	size_t len = strlen(s);

	if (len == 0)
		return fail(msg, n, "the user name is empty");
	if (len >= KC_USER_MAX)
		return fail(msg, n, "%s: a user name is at most %d characters",
			    quote(s).s, KC_USER_MAX - 1);
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		      (ch == '-' && i > 0) || (ch == '$' && i == len - 1)))
			return fail(msg, n, "%s is not a user name",
				    quote(s).s);
	}
	memcpy(out, s, len + 1);
	return 0;
}

static int ports_parse(const char *s, struct kc_portrange *out, char *msg,
		       size_t n)
{
	const char *dash = strchr(s, '-');

	if (!strcmp(s, "0")) {
		out->lo = out->hi = 0;
		return 0;
	}
	if (!dash || port_parse(s, (size_t)(dash - s), &out->lo) ||
	    port_parse(dash + 1, strlen(dash + 1), &out->hi))
		return fail(msg, n,
			    "%s is not a port range LO-HI (ports 1..65535) "
			    "or 0",
			    quote(s).s);
	if (out->lo > out->hi)
		return fail(msg, n, "%s: the range ends before it starts",
			    quote(s).s);
	return 0;
}

/* Plain decimal digits, then, if suffixes, one of K, M, G (either case).
 * Values too large for long long come back as LLONG_MAX, which is out of
 * every range. */
static int number_parse(const char *s, bool suffixes, long long *out)
{
	unsigned long long v = 0, mult = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v <= (unsigned long long)LLONG_MAX)
			v = v * 10 + (unsigned)(*p - '0');
	}
	if (suffixes && *p) {
		switch (*p++) {
		case 'k':
		case 'K':
			mult = 1ULL << 10;
			break;
		case 'm':
		case 'M':
			mult = 1ULL << 20;
			break;
		case 'g':
		case 'G':
			mult = 1ULL << 30;
			break;
		default:
			return -1;
		}
	}
	if (*p)
		return -1;
	if (v > (unsigned long long)LLONG_MAX / mult)
		*out = LLONG_MAX;
	else
		*out = (long long)(v * mult);
	return 0;
}

/* Store the number v (written as shown) after checking o's range. */
static int opt_set_number(struct kc_config *c, const struct opt *o, long long v,
			  const char *shown, char *msg, size_t n)
{
	if (v < o->min || v > o->max)
		return fail(msg, n, "%s is out of range %lld..%lld", shown,
			    o->min, o->max);
	if (o->type == KC_T_SIZE)
		*(size_t *)opt_ptr(c, o) = (size_t)v;
	else
		*(int *)opt_ptr(c, o) = (int)v;
	return 0;
}

/* Set o from text, as written on the command line (or in a default). */
static int opt_set_text(struct kc_config *c, const struct opt *o, const char *s,
			char *msg, size_t n)
{
	void *p = opt_ptr(c, o);
	long long v;
	size_t i;

	switch (o->type) {
	case KC_T_HOSTPORT:
	case KC_T_ADDR_OPT:
		return hostport_parse(s, p, msg, n);
	case KC_T_UPSTREAMS:
		return upstreams_add(c, s, msg, n);
	case KC_T_PATH:
		if (!*s)
			return fail(msg, n, "the file name is empty");
		if (strlen(s) >= KC_PATH_MAX)
			return fail(msg, n, "the file name is too long");
		strcpy(p, s);
		return 0;
	case KC_T_HOST:
		return host_parse(s, p, msg, n);
	case KC_T_USER:
		return user_parse(s, p, msg, n);
	case KC_T_PORTS:
		return ports_parse(s, p, msg, n);
	case KC_T_FLAG:
	case KC_T_NOFLAG:
		if (strcmp(s, "true") && strcmp(s, "false"))
			return fail(msg, n, "%s is not true or false",
				    quote(s).s);
		*(bool *)p = !strcmp(s, "true");
		return 0;
	case KC_T_LEVEL:
		for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
		     i++)
			if (!strcmp(s, level_names[i])) {
				*(enum kc_log_level *)p = (enum kc_log_level)i;
				return 0;
			}
		return fail(msg, n,
			    "%s is not a log level (error, warn, info or "
			    "debug)",
			    quote(s).s);
	case KC_T_SIZE:
		if (number_parse(s, true, &v))
			return fail(msg, n,
				    "%s is not a size (an integer with an "
				    "optional K, M or G suffix)",
				    quote(s).s);
		return opt_set_number(c, o, v, s, msg, n);
	case KC_T_COUNT:
	case KC_T_MS:
		if (number_parse(s, false, &v))
			return fail(msg, n, "%s is not a whole number",
				    quote(s).s);
		return opt_set_number(c, o, v, s, msg, n);
	default:
		return fail(msg, n, "cannot be set on the command line");
	}
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* Set o from its JSON value v. On error *elem is the index of the array
 * element at fault, or -1 for the value as a whole. */
static int opt_set_json(struct kc_config *c, const struct opt *o, json_t *v,
			char *msg, size_t n, long *elem)
{
	char shown[32];

	*elem = -1;
	switch (o->type) {
	case KC_T_UPSTREAMS:
		if (json_is_array(v)) {
			size_t i;
			json_t *e;

			c->n_upstreams = 0;
			if (json_array_size(v) == 0)
				return fail(msg, n, "the list is empty");
			json_array_foreach(v, i, e)
			{
				*elem = (long)i;
				if (!json_is_string(e))
					return fail(msg, n,
						    "each element must be a "
						    "string \"HOST:PORT\", "
						    "not %s",
						    json_kind(e));
				if (upstreams_add(c, json_string_value(e), msg,
						  n))
					return -1;
			}
			*elem = -1;
			return 0;
		}
		if (json_is_string(v)) {
			c->n_upstreams = 0;
			return opt_set_text(c, o, json_string_value(v), msg, n);
		}
		break;
	case KC_T_SIZE:
	case KC_T_COUNT:
	case KC_T_MS:
		if (json_is_integer(v)) {
			snprintf(shown, sizeof(shown), "%" JSON_INTEGER_FORMAT,
				 json_integer_value(v));
			return opt_set_number(c, o, json_integer_value(v),
					      shown, msg, n);
		}
		if (o->type == KC_T_SIZE && json_is_string(v))
			return opt_set_text(c, o, json_string_value(v), msg, n);
		break;
	case KC_T_FLAG:
	case KC_T_NOFLAG:
		if (json_is_boolean(v)) {
			*(bool *)opt_ptr(c, o) = json_is_true(v);
			return 0;
		}
		break;
	case KC_T_JSON:
		if (json_is_object(v)) {
			json_t **slot = opt_ptr(c, o);

			json_decref(*slot);
			*slot = json_incref(v);
			return 0;
		}
		break;
	default:
		if (json_is_string(v))
			return opt_set_text(c, o, json_string_value(v), msg, n);
		break;
	}
	return fail(msg, n, "must be %s, not %s", type_expect[o->type],
		    json_kind(v));
}

/*
 * Positions in the file text. jansson keeps none for values, so a small
 * scanner finds a top-level key again (or an element of its array). It
 * runs only on text jansson has accepted, but still checks every bound.
 */

static const char *scan_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The \uXXXX code unit at p (just after "\u"), or -1. */
static long hex4(const char *p, const char *end)
{
	long v = 0;
	int i;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		int d = hex_digit(p[i]);

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static size_t utf8_put(unsigned long cp, char *u)
{
	if (cp < 0x80) {
		u[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	u[0] = (char)(0xf0 | (cp >> 18));
	u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	u[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Step over the string whose opening quote is at p; return the byte after
 * its closing quote. When want is not NULL, *match tells whether the
 * string, escapes decoded, equals want. */
static const char *scan_string(const char *p, const char *end, const char *want,
			       bool *match)
{
	size_t w = 0;
	bool eq = true;

	for (p++; p < end && *p != '"';) {
		char u[4];
		size_t k, len = 1;

		if (*p == '\\' && end - p >= 2) {
			char e = p[1];
			long cp;

			p += 2;
			switch (e) {
			case 'b':
				u[0] = '\b';
				break;
			case 'f':
				u[0] = '\f';
				break;
			case 'n':
				u[0] = '\n';
				break;
			case 'r':
				u[0] = '\r';
				break;
			case 't':
				u[0] = '\t';
				break;
			case 'u':
				cp = hex4(p, end);
				if (cp < 0) {
					eq = false;
					continue;
				}
				p += 4;
				if (cp >= 0xd800 && cp < 0xdc00 &&
				    end - p >= 6 && p[0] == '\\' &&
				    p[1] == 'u') {
					long lo = hex4(p + 2, end);

					if (lo >= 0xdc00 && lo < 0xe000) {
						cp = 0x10000 +
						     ((cp - 0xd800) << 10) +
						     (lo - 0xdc00);
						p += 6;
					}
				}
				len = utf8_put((unsigned long)cp, u);
				break;
			default: /* '"', '\\', '/' */
				u[0] = e;
				break;
			}
		} else {
			u[0] = *p++;
		}
		for (k = 0; want && eq && k < len; k++, w++)
			if (want[w] == '\0' || want[w] != u[k])
				eq = false;
	}
	if (want)
		*match = eq && want[w] == '\0';
	return p < end ? p + 1 : end;
}

/* Step over one value of any kind at p. */
static const char *scan_value(const char *p, const char *end)
{
	int depth = 0;

	do {
		p = scan_ws(p, end);
		if (p >= end)
			return end;
		switch (*p) {
		case '"':
			p = scan_string(p, end, NULL, NULL);
			break;
		case '{':
		case '[':
			depth++;
			p++;
			break;
		case '}':
		case ']':
			depth--;
			p++;
			break;
		case ',':
		case ':':
			p++;
			break;
		default: /* number, true, false, null */
			do
				p++;
			while (p < end && !strchr(",:]} \t\r\n", *p));
			break;
		}
	} while (depth > 0);
	return p;
}

/* In the object at p: the value of key (and in *at the offset of the
 * key's opening quote), or NULL. */
static const char *locate_key(const char *text, const char *p, const char *end,
			      const char *key, long *at)
{
	p = scan_ws(p, end);
	if (p >= end || *p != '{')
		return NULL;
	for (p++;;) {
		const char *k;
		bool match;

		p = scan_ws(p, end);
		if (p < end && *p == ',')
			p = scan_ws(p + 1, end);
		if (p >= end || *p != '"')
			return NULL;
		k = p;
		p = scan_string(p, end, key, &match);
		p = scan_ws(p, end);
		if (p < end && *p == ':')
			p = scan_ws(p + 1, end);
		if (match) {
			*at = k - text;
			return p;
		}
		p = scan_value(p, end);
	}
}

/* In the array at p: element elem, or NULL. */
static const char *locate_elem(const char *p, const char *end, long elem)
{
	p = scan_ws(p, end);
	if (p >= end || *p != '[')
		return NULL;
	for (p++;; elem--) {
		p = scan_ws(p, end);
		if (p >= end || *p == ']')
			return NULL;
		if (elem == 0)
			return p;
		p = scan_ws(scan_value(p, end), end);
		if (p < end && *p == ',')
			p++;
	}
}

/* Offset of what the path names (a key's opening quote, an element's
 * first byte) in the document; -1 if there is no such thing. */
static long json_locate_path(const char *text, size_t len,
			     const struct kc_json_step *steps, int n)
{
	const char *p = text, *end = text + len;
	long at = -1;

	for (int i = 0; i < n && p; i++) {
		if (steps[i].key) {
			p = locate_key(text, p, end, steps[i].key, &at);
		} else {
			p = locate_elem(p, end, steps[i].index);
			at = p ? p - text : -1;
		}
	}
	return p ? at : -1;
}

/* Offset of the top-level key (elem < 0), or of element elem of the array
 * that is the key's value; -1 if there is no such thing. */
static long json_locate(const char *text, size_t len, const char *key,
			long elem)
{
	struct kc_json_step steps[2] = {{key, 0}, {NULL, elem}};

	return json_locate_path(text, len, steps, elem < 0 ? 1 : 2);
}

/* 1-based line and column of byte off, counting columns in characters
 * (UTF-8 lead bytes) as jansson does. */
static void text_linecol(const char *text, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

/* The file being applied, for messages. */
struct cfile {
	const char *path;
	const char *text;
	size_t len;
};

/* "path:LINE:COLUMN: " + fmt, at the key (elem < 0) or its element. */
__attribute__((format(printf, 6, 7))) static int
file_fail(const struct cfile *f, const char *key, long elem, char *err,
	  size_t errlen, const char *fmt, ...)
{
	long off = json_locate(f->text, f->len, key, elem);
	va_list ap;
	int line, col, used;

	if (off < 0 && elem >= 0)
		off = json_locate(f->text, f->len, key, -1);
	if (off >= 0) {
		text_linecol(f->text, (size_t)off, &line, &col);
		used = snprintf(err, errlen, "%s:%d:%d: ", f->path, line, col);
	} else {
		used = snprintf(err, errlen, "%s: ", f->path);
	}
	if (used >= 0 && (size_t)used < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + used, errlen - (size_t)used, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Read all of path into a NUL-terminated malloc'd buffer. */
static int file_read(const char *path, char **text, size_t *len, char *err,
		     size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return fail(err, errlen, "%s: cannot open: %s", path,
			    strerror(errno));
	for (;;) {
		size_t got;

		if (cap - n < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				fail(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n > CONFIG_FILE_MAX) {
			fail(err, errlen, "%s: larger than %d bytes", path,
			     CONFIG_FILE_MAX);
			goto fail;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fail(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
fail:
	fclose(f);
	free(buf);
	return -1;
}

/* Bytes from a file for a message: control characters and DEL as \xNN,
 * the rest as they are; cut short rather than overflow. */
static void escape_ctl(char *out, size_t outlen, const char *in, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && in[i] && n + 5 < outlen; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch < 0x20 || ch == 0x7f)
			n += (size_t)snprintf(out + n, outlen - n, "\\x%02x",
					      ch);
		else
			out[n++] = (char)ch;
	}
	out[n] = '\0';
}

/* A jansson load error as "path:LINE:COLUMN: ...". A duplicate key is
 * reported at its opening quote, like every other key error. */
static void file_syntax_error(const struct cfile *f, const json_error_t *je,
			      char *err, size_t errlen)
{
	size_t pos = je->position > 0 ? (size_t)je->position : 0;
	int line = je->line, col = je->column > 0 ? je->column : 1;
	bool dup;

#if JANSSON_VERSION_HEX >= 0x020b00
	dup = json_error_code(je) == json_error_duplicate_key;
#else
	dup = !strncmp(je->text, "duplicate object key", 20);
#endif
	if (dup && pos >= 2 && pos <= f->len && f->text[pos - 1] == '"') {
		size_t q = pos - 1, k, bs;

		/* Back to the opening quote: the first '"' not escaped. */
		for (k = q; k-- > 0;) {
			if (f->text[k] != '"')
				continue;
			for (bs = 0; bs < k && f->text[k - 1 - bs] == '\\';
			     bs++)
				;
			if (bs % 2 == 0)
				break;
		}
		if (k < q) {
			/* The key as written in the file, cut short: JSON
			 * strings may hold a raw DEL, so it is escaped too. */
			size_t kl = q - k - 1 > 64 ? 64 : q - k - 1;
			char key[64 * 4 + 1];

			while (kl > 0 && ((unsigned char)f->text[k + 1 + kl] &
					  0xc0) == 0x80)
				kl--;
			escape_ctl(key, sizeof(key), f->text + k + 1, kl);
			text_linecol(f->text, k, &line, &col);
			fail(err, errlen, "%s:%d:%d: duplicate key \"%s%s\"",
			     f->path, line, col, key,
			     kl < q - k - 1 ? "..." : "");
			return;
		}
	}
	{
		/* jansson quotes the offending bytes of the file: control
		 * characters there must not reach a terminal as they are. */
		char safe[sizeof(je->text) * 4];

		escape_ctl(safe, sizeof(safe), je->text, strlen(je->text));
		fail(err, errlen, "%s:%d:%d: JSON syntax error: %s", f->path,
		     line, col, safe);
	}
}

static int file_apply(struct kc_config *c, const struct cfile *f, json_t *root,
		      char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	json_object_foreach(root, key, v)
	{
		const struct opt *o = opt_by_key(key);
		char msg[512];
		long elem;

		if (!o) {
			const char *s = opt_suggest(key, false);

			if (s)
				return file_fail(f, key, -1, err, errlen,
						 "unknown key %s (did you "
						 "mean \"%s\"?)",
						 quote(key).s, s);
			return file_fail(f, key, -1, err, errlen,
					 "unknown key %s", quote(key).s);
		}
		if (opt_set_json(c, o, v, msg, sizeof(msg), &elem))
			return file_fail(f, key, elem, err, errlen,
					 "\"%s\": %s", o->key, msg);
	}
	return 0;
}

int kc_config_load_file(struct kc_config *c, const char *path, char *err,
			size_t errlen)
{
	struct cfile f = {path, NULL, 0};
	char *text = NULL;
	json_t *root = NULL;
	json_error_t je;
	int rc = -1;

	if (file_read(path, &text, &f.len, err, errlen))
		goto fail;
	f.text = text;
	root = json_loadb(text, f.len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		file_syntax_error(&f, &je, err, errlen);
		goto fail;
	}
	if (!json_is_object(root)) {
		int line, col;

		text_linecol(text, (size_t)(scan_ws(text, text + f.len) - text),
			     &line, &col);
		fail(err, errlen,
		     "%s:%d:%d: the file must hold one JSON object {...}, not "
		     "%s",
		     path, line, col, json_kind(root));
		goto fail;
	}
	if (file_apply(c, &f, root, err, errlen))
		goto fail;
	rc = 0;
fail:
	json_decref(root);
	free(text);
	return rc;
}

const char *kc_config_where(const char *path, const struct kc_json_step *steps,
			    int n, char *out, size_t outlen)
{
	char *text = NULL, msg[64];
	size_t len;
	long off = -1;
	int line, col;

	if (file_read(path, &text, &len, msg, sizeof(msg)) == 0)
		off = json_locate_path(text, len, steps, n);
	if (off >= 0) {
		text_linecol(text, (size_t)off, &line, &col);
		snprintf(out, outlen, "%s:%d:%d: ", path, line, col);
	} else {
		snprintf(out, outlen, "%s: ", path);
	}
	free(text);
	return out;
}

void kc_config_defaults(struct kc_config *c)
{
	char msg[256];
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < N_OPTS; i++) {
		const struct opt *o = &opts[i];

		if (!opt_is_setting(o) || !o->def[0])
			continue;
		if (opt_set_text(c, o, o->def, msg, sizeof(msg))) {
			fprintf(stderr, "config.h: bad default for %s: %s\n",
				o->key, msg);
			abort();
		}
	}
}

void kc_config_release(struct kc_config *c)
{
	size_t i;

	for (i = 0; i < N_OPTS; i++) {
		if (opts[i].type == KC_T_JSON && opt_is_setting(&opts[i])) {
			json_t **slot = opt_ptr(c, &opts[i]);

			json_decref(*slot);
			*slot = NULL;
		}
	}
}

static bool host_is_wildcard(const char *h)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, h, &a4) == 1)
		return a4.s_addr == htonl(INADDR_ANY);
	if (inet_pton(AF_INET6, h, &a6) == 1)
		return IN6_IS_ADDR_UNSPECIFIED(&a6);
	return false;
}

/* 127.0.0.0/8, ::1 or "localhost": reachable from this host only. */
static bool host_is_loopback(const char *h)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!strcmp(h, "localhost"))
		return true;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, h, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

/* One setting on its own: present if required, well-formed, in range. */
static int opt_validate(const struct kc_config *c, const struct opt *o,
			char *err, size_t errlen)
{
	const void *p = opt_cptr(c, o);
	char msg[256];
	long long v;
	int i;

	switch (o->type) {
	case KC_T_HOSTPORT:
	case KC_T_ADDR_OPT: {
		const struct kc_hostport *hp = p;

		if (hp->port == 0 && o->type == KC_T_ADDR_OPT)
			return 0; /* off */
		if (hp->port == 0)
			return fail(err, errlen,
				    "missing --%s %s (or \"%s\" in the config "
				    "file)",
				    o->flag, o->meta, o->key);
		if (host_check(hp->host, strlen(hp->host), false, NULL, msg,
			       sizeof(msg)))
			return fail(err, errlen, "%s: %s", opt_name(o).s, msg);
		return 0;
	}
	case KC_T_UPSTREAMS:
		/* Transparent mode needs none: connections go where they were
		 * headed; the list then names the bootstrap addresses. */
		if (c->n_upstreams < 1 && !c->transparent)
			return fail(err, errlen,
				    "missing --%s %s (or \"%s\" in the config "
				    "file)",
				    o->flag, o->meta, o->key);
		if (c->n_upstreams > KC_MAX_UPSTREAMS)
			return fail(err, errlen, "%s: more than %d addresses",
				    opt_name(o).s, KC_MAX_UPSTREAMS);
		for (i = 0; i < c->n_upstreams; i++)
			if (c->upstreams[i].port == 0 ||
			    host_check(c->upstreams[i].host,
				       strlen(c->upstreams[i].host), false,
				       NULL, msg, sizeof(msg)))
				return fail(err, errlen,
					    "%s: address %d is not valid",
					    opt_name(o).s, i + 1);
		return 0;
	case KC_T_PATH:
		if (!*(const char *)p && o->def[0])
			return fail(err, errlen, "%s: the file name is empty",
				    opt_name(o).s);
		return 0;
	case KC_T_HOST:
		if (*(const char *)p &&
		    host_check(p, strlen(p), false, NULL, msg, sizeof(msg)))
			return fail(err, errlen, "%s: %s", opt_name(o).s, msg);
		return 0;
	case KC_T_PORTS: {
		const struct kc_portrange *r = p;

		if ((r->lo == 0) != (r->hi == 0) || r->lo > r->hi)
			return fail(err, errlen,
				    "%s: %u-%u is not a port range LO-HI or 0",
				    opt_name(o).s, (unsigned)r->lo,
				    (unsigned)r->hi);
		return 0;
	}
	case KC_T_LEVEL:
		if ((unsigned)*(const enum kc_log_level *)p > KC_LOG_DEBUG)
			return fail(err, errlen, "%s: not a log level",
				    opt_name(o).s);
		return 0;
	case KC_T_SIZE:
	case KC_T_COUNT:
	case KC_T_MS:
		if (o->type == KC_T_SIZE)
			v = *(const size_t *)p > (size_t)LLONG_MAX
				    ? LLONG_MAX
				    : (long long)*(const size_t *)p;
		else
			v = *(const int *)p;
		if (v < o->min || v > o->max)
			return fail(err, errlen,
				    "%s: %lld is out of range %lld..%lld",
				    opt_name(o).s, v, o->min, o->max);
		return 0;
	default:
		return 0;
	}
}

int kc_config_validate(const struct kc_config *c, char *err, size_t errlen)
{
	const char *adv;
	size_t i;

	for (i = 0; i < N_OPTS; i++)
		if (opt_is_setting(&opts[i]) &&
		    opt_validate(c, &opts[i], err, errlen))
			return -1;
	if (c->buffer_low >= c->buffer_high)
		return fail(err, errlen, "%s %zu must be below %s %zu",
			    opt_name(OPT_OF(buffer_low)).s, c->buffer_low,
			    opt_name(OPT_OF(buffer_high)).s, c->buffer_high);
	if (c->max_rewrite_frame > c->max_frame)
		return fail(err, errlen, "%s %zu must not be above %s %zu",
			    opt_name(OPT_OF(max_rewrite_frame)).s,
			    c->max_rewrite_frame, opt_name(OPT_OF(max_frame)).s,
			    c->max_frame);
	/* Clients reconnect to the address the proxy advertises for each
	 * broker; 0.0.0.0 or :: there would send them nowhere useful. */
	adv = c->advertised_host[0] ? c->advertised_host : c->listen.host;
	if (host_is_wildcard(adv) && !c->transparent) {
		if (c->advertised_host[0])
			return fail(err, errlen,
				    "%s %s is a wildcard address, which "
				    "clients cannot connect to",
				    opt_name(OPT_OF(advertised_host)).s, adv);
		return fail(err, errlen,
			    "the listen host %s is a wildcard address, which "
			    "clients cannot connect to: set %s",
			    adv, opt_name(OPT_OF(advertised_host)).s);
	}
	/* The admin API shows client addresses and ids: beyond this host,
	 * only to whoever holds the token. */
	if (c->admin_listen.port && !c->admin_token_file[0] &&
	    !host_is_loopback(c->admin_listen.host))
		return fail(err, errlen,
			    "%s %s is not a loopback address: set %s too",
			    opt_name(OPT_OF(admin_listen)).s,
			    c->admin_listen.host,
			    opt_name(OPT_OF(admin_token_file)).s);
	return 0;
}

/* Walks argv one option at a time; the same walk serves both passes. */
struct argv_iter {
	int argc;
	char **argv;
	int i;
};

/* The next option and its value (NULL for options without one). Returns
 * 1, 0 at the end, or -1 with err set. */
static int args_next(struct argv_iter *it, const struct opt **o,
		     const char **val, char *err, size_t errlen)
{
	const char *a, *name, *eq;
	size_t len;

	if (it->i >= it->argc)
		return 0;
	a = it->argv[it->i++];
	if (!strcmp(a, "--")) {
		if (it->i < it->argc)
			return fail(err, errlen, "unexpected argument %s",
				    quote(it->argv[it->i]).s);
		return 0;
	}
	if (a[0] != '-' || a[1] == '\0')
		return fail(err, errlen,
			    "unexpected argument %s (settings are given as "
			    "--flag VALUE; see --help)",
			    quote(a).s);
	name = a + (a[1] == '-' ? 2 : 1);
	eq = strchr(name, '=');
	len = eq ? (size_t)(eq - name) : strlen(name);
	*o = a[1] == '-' ? opt_by_flag(name, len) : NULL;
	if (!*o) {
		char word[65];
		const char *s = NULL;

		if (len < sizeof(word)) {
			memcpy(word, name, len);
			word[len] = '\0';
			s = opt_suggest(word, true);
		}
		if (s)
			return fail(err, errlen,
				    "unknown option %s (did you mean --%s?)",
				    quote(a).s, s);
		return fail(err, errlen, "unknown option %s (see --help)",
			    quote(a).s);
	}
	*val = NULL;
	if (!opt_takes_value(*o)) {
		if (eq)
			return fail(err, errlen, "--%s takes no value",
				    (*o)->flag);
		return 1;
	}
	if (eq) {
		*val = eq + 1;
	} else if (it->i < it->argc && strncmp(it->argv[it->i], "--", 2)) {
		*val = it->argv[it->i++];
	} else {
		return fail(err, errlen, "--%s needs a value (%s)", (*o)->flag,
			    (*o)->meta);
	}
	return 1;
}

int kc_config_from_args(struct kc_config *c, int argc, char **argv, char *err,
			size_t errlen)
{
	struct argv_iter it = {argc, argv, 1};
	const struct opt *o;
	const char *val;
	bool upstream_flag = false;
	char msg[512];
	int r;

	kc_config_defaults(c);
	/* Pass 1: syntax, --help, --version and --config. */
	while ((r = args_next(&it, &o, &val, err, errlen)) > 0) {
		switch (o->type) {
		case KC_T_HELP:
			kc_config_usage(stdout);
			return 1;
		case KC_T_VERSION:
			printf("kafka-conntrace %s\n", PACKAGE_VERSION);
			return 1;
		case KC_T_CONFIG:
			if (!*val || strlen(val) >= sizeof(c->config_path)) {
				fail(err, errlen,
				     "--config: %s is not a file "
				     "name",
				     quote(val).s);
				goto fail;
			}
			strcpy(c->config_path, val);
			break;
		default:
			break;
		}
	}
	if (r < 0)
		goto fail;
	if (c->config_path[0] &&
	    kc_config_load_file(c, c->config_path, err, errlen))
		goto fail;
	/* Pass 2: the flags, over the file. */
	it.i = 1;
	while ((r = args_next(&it, &o, &val, err, errlen)) > 0) {
		if (!opt_is_setting(o))
			continue;
		if (o->type == KC_T_FLAG || o->type == KC_T_NOFLAG) {
			*(bool *)opt_ptr(c, o) = o->type == KC_T_FLAG;
			continue;
		}
		/* The first --upstream replaces the file's list; more
		 * --upstream flags add to it. */
		if (o->type == KC_T_UPSTREAMS && !upstream_flag) {
			c->n_upstreams = 0;
			upstream_flag = true;
		}
		if (opt_set_text(c, o, val, msg, sizeof(msg))) {
			fail(err, errlen, "--%s: %s", o->flag, msg);
			goto fail;
		}
	}
	if (r < 0 || kc_config_validate(c, err, errlen))
		goto fail;
	if (!c->advertised_host[0])
		strcpy(c->advertised_host, c->listen.host);
	if (!c->broker_bind[0])
		strcpy(c->broker_bind, c->listen.host);
	return 0;
fail:
	kc_config_release(c);
	return -1;
}

void kc_config_usage(FILE *out)
{
	size_t i;

	fputs("Usage: kafka-conntrace --listen HOST:PORT --upstream "
	      "HOST:PORT[,HOST:PORT...]\n"
	      "                       [--event-log FILE|-] [--config FILE] "
	      "[OPTION]...\n\n"
	      "A Kafka-aware TCP proxy that writes one JSON record for every "
	      "connection.\n"
	      "Flags override the config file, which overrides the "
	      "defaults.\n\n"
	      "Options:\n",
	      out);
	for (i = 0; i < N_OPTS; i++) {
		const struct opt *o = &opts[i];
		char left[64];
		int w;

		if (!o->flag)
			continue;
		w = snprintf(left, sizeof(left), "  --%s%s%s", o->flag,
			     o->meta[0] ? " " : "", o->meta);
		if (w >= USAGE_COL - 1)
			fprintf(out, "%s\n%*s", left, USAGE_COL, "");
		else
			fprintf(out, "%-*s", USAGE_COL, left);
		if (o->def[0] && o->type != KC_T_FLAG && o->type != KC_T_NOFLAG)
			fprintf(out, "%s [%s]\n", o->help, o->def);
		else
			fprintf(out, "%s\n", o->help);
	}
	fputs("\nBYTES take a K, M or G suffix (1024-based); MS are "
	      "milliseconds.\n"
	      "The config file's JSON keys are listed in kafka-conntrace(8) "
	      "and\n"
	      "doc/config.md.\n",
	      out);
}
