/*
 * config: every setting of kafka-conntrace, from defaults, a JSON file and
 * the command line (in that order of precedence, last wins). Each setting
 * is declared once, in KC_CONFIG_SETTINGS below; the file parser, the flag
 * parser, the defaults, --help and the doc/config.md test derive from it.
 */
#ifndef KC_CONFIG_H
#define KC_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define KC_MAX_UPSTREAMS 32
#define KC_HOST_MAX      256 /* a DNS name (253) or an IPv6 address with zone */
#define KC_PATH_MAX      4096 /* PATH_MAX on Linux */
#define KC_USER_MAX      33   /* a user name (32, useradd's limit) */

/* A host and a port. An IPv6 host is kept without its brackets, ready for
 * getaddrinfo(). port 0 means "not set". */
struct kc_hostport {
	char host[KC_HOST_MAX];
	uint16_t port;
};

/* An inclusive port range; 0-0 means "let the kernel pick" (ephemeral). */
struct kc_portrange {
	uint16_t lo, hi;
};

enum kc_log_level {
	KC_LOG_ERROR,
	KC_LOG_WARN,
	KC_LOG_INFO,
	KC_LOG_DEBUG,
};

/* How a setting's value is written and stored (the C type is checked at
 * compile time against the struct member the table names). */
enum kc_opt_type {
	KC_T_HOSTPORT,  /* "HOST:PORT" or "[V6]:PORT"; struct kc_hostport */
	KC_T_ADDR_OPT,  /* as KC_T_HOSTPORT, but optional: unset (port 0) is
			   off */
	KC_T_UPSTREAMS, /* list of HOST:PORT; upstreams[] and n_upstreams */
	KC_T_PATH,      /* a file name; char[KC_PATH_MAX]; optional when
			   its default is "" */
	KC_T_HOST,      /* a host name or address, no port; char[KC_HOST_MAX] */
	KC_T_USER,      /* a user name; char[KC_USER_MAX] */
	KC_T_PORTS,     /* "LO-HI", or "0"; struct kc_portrange */
	KC_T_FLAG,      /* bool; the flag (no value) sets it true */
	KC_T_NOFLAG,    /* bool; the flag (no value) sets it false */
	KC_T_LEVEL,     /* error|warn|info|debug; enum kc_log_level */
	KC_T_SIZE,      /* bytes, with an optional K, M or G suffix; size_t */
	KC_T_COUNT,     /* a plain integer; int */
	KC_T_MS,        /* integer milliseconds; int */
	KC_T_JSON,      /* an object kept as json_t *, not interpreted here */
	KC_T_CONFIG,    /* --config: the file to read before the flags */
	KC_T_HELP,      /* --help */
	KC_T_VERSION,   /* --version */
};

/*
 * The settings. X(field, flag, key, type, default, min, max, metavar, help):
 *   field    the struct kc_config member that holds the value
 *   flag     the long option without "--", or NULL (file only)
 *   key      the JSON key
 *   type     an enum kc_opt_type
 *   default  text parsed as a flag value would be; "" leaves it unset
 *   min,max  inclusive range of numeric types
 *   metavar  the value's placeholder in --help
 *   help     one line of --help (the default is appended)
 */
#define KC_CONFIG_SETTINGS(X)                                                  \
	X(listen, "listen", "listen", KC_T_HOSTPORT, "", 0, 0, "HOST:PORT",    \
	  "accept Kafka clients here (required)")                              \
	X(upstreams, "upstream", "upstream", KC_T_UPSTREAMS, "", 0, 0,         \
	  "HOST:PORT[,...]", "bootstrap brokers (required)")                   \
	X(event_log, "event-log", "event_log", KC_T_PATH, "-", 0, 0, "FILE|-", \
	  "connection records go here; - is stdout")                           \
	X(advertised_host, "advertised-host", "advertised_host", KC_T_HOST,    \
	  "", 0, 0, "HOST",                                                    \
	  "host in rewritten broker addresses [listen host]")                  \
	X(broker_bind, "broker-bind", "broker_bind", KC_T_HOST, "", 0, 0,      \
	  "HOST", "per-broker listeners bind here [listen host]")              \
	X(broker_ports, "broker-ports", "broker_ports", KC_T_PORTS, "0", 0, 0, \
	  "LO-HI", "ports of per-broker listeners; 0: ephemeral")              \
	X(log_requests, "log-requests", "log_requests", KC_T_FLAG, "false", 0, \
	  0, "", "write one event per request")                                \
	X(log_level, "log-level", "log_level", KC_T_LEVEL, "info", 0, 0,       \
	  "LEVEL", "error, warn, info or debug (to stderr)")                   \
	X(max_frame, "max-frame", "max_frame", KC_T_SIZE, "100M", 1024,        \
	  INT32_MAX, "BYTES", "largest Kafka frame accepted")                  \
	X(max_rewrite_frame, "max-rewrite-frame", "max_rewrite_frame",         \
	  KC_T_SIZE, "16M", 1024, INT32_MAX, "BYTES",                          \
	  "largest response buffered to rewrite")                              \
	X(buffer_high, "buffer-high", "buffer_high", KC_T_SIZE, "1M", 1024,    \
	  1073741824, "BYTES", "pause the sender above this backlog")          \
	X(buffer_low, "buffer-low", "buffer_low", KC_T_SIZE, "256K", 0,        \
	  1073741824, "BYTES", "resume the sender below this backlog")         \
	X(max_connections, "max-connections", "max_connections", KC_T_COUNT,   \
	  "0", 0, INT32_MAX, "N", "client connections at once; 0: no limit")   \
	X(max_buffered_total, "max-buffered-total", "max_buffered_total",      \
	  KC_T_SIZE, "0", 0, 1099511627776LL, "BYTES",                         \
	  "refuse clients above this in buffers; 0: off")                      \
	X(connect_timeout_ms, "connect-timeout", "connect_timeout_ms",         \
	  KC_T_MS, "10000", 1, 3600000, "MS", "upstream connect timeout")      \
	X(drain_timeout_ms, "drain-timeout", "drain_timeout_ms", KC_T_MS,      \
	  "5000", 0, 3600000, "MS", "on SIGTERM, wait this long to drain")     \
	X(janitor_interval_ms, "janitor-interval", "janitor_interval_ms",      \
	  KC_T_MS, "1000", 10, 60000, "MS", "period of the timeout sweep")     \
	X(proc_lookup, "no-proc", "proc_lookup", KC_T_NOFLAG, "true", 0, 0,    \
	  "", "do not look up client pids in /proc")                           \
	X(transparent, "transparent", "transparent", KC_T_FLAG, "false", 0, 0, \
	  "", "relay redirected connections to their destination")             \
	X(mark, "mark", "mark", KC_T_COUNT, "0", 0, INT32_MAX, "N",            \
	  "SO_MARK of upstream sockets (transparent mode)")                    \
	X(user, "user", "user", KC_T_USER, "", 0, 0, "NAME",                   \
	  "after binding, run as this user [stay]")                            \
	X(rules, NULL, "rules", KC_T_JSON, "", 0, 0, "",                       \
	  "lifecycle rules (doc/rules.md)")                                    \
	X(admin, NULL, "admin", KC_T_JSON, "", 0, 0, "",                       \
	  "admin API options (doc/admin.md)")                                  \
	X(admin_listen, "admin", "admin_listen", KC_T_ADDR_OPT, "", 0, 0,      \
	  "HOST:PORT", "serve the admin API and live page here [off]")         \
	X(admin_token_file, "admin-token-file", "admin_token_file", KC_T_PATH, \
	  "", 0, 0, "FILE", "admin API bearer token, read from FILE")          \
	X(web_root, "web-root", "web_root", KC_T_PATH, "", 0, 0, "DIR",        \
	  "files of the live page [the installed ones]")

/* Command-line only. Y(flag, type, metavar, help) */
#define KC_CONFIG_ACTIONS(Y)                                                   \
	Y("config", KC_T_CONFIG, "FILE", "read settings from this JSON file")  \
	Y("help", KC_T_HELP, "", "print this help and exit")                   \
	Y("version", KC_T_VERSION, "", "print the version and exit")

struct kc_config {
	struct kc_hostport listen;
	struct kc_hostport upstreams[KC_MAX_UPSTREAMS];
	int n_upstreams;
	char event_log[KC_PATH_MAX];       /* "-" is stdout */
	char advertised_host[KC_HOST_MAX]; /* "": the listen host (see below) */
	char broker_bind[KC_HOST_MAX];     /* "": the listen host (see below) */
	struct kc_portrange broker_ports;
	bool log_requests;
	enum kc_log_level log_level;
	size_t max_frame;
	size_t max_rewrite_frame;
	size_t buffer_high; /* per direction, bytes */
	size_t buffer_low;
	int max_connections;       /* 0: no limit */
	size_t max_buffered_total; /* all connections' buffers; 0: no limit */
	int connect_timeout_ms;
	int drain_timeout_ms;
	int janitor_interval_ms;
	bool proc_lookup;
	bool transparent; /* redirected connections, no address rewriting */
	int mark;         /* SO_MARK on upstream sockets, 0: none */
	char user[KC_USER_MAX]; /* "": keep the starting user */
	json_t *rules;          /* owned reference or NULL; read by rules.c */
	json_t *admin;          /* owned reference or NULL; read by admin.c */
	struct kc_hostport admin_listen;    /* port 0: no admin API */
	char admin_token_file[KC_PATH_MAX]; /* "": no token */
	char web_root[KC_PATH_MAX];         /* "": the installed files */
	char config_path[KC_PATH_MAX];      /* --config as given, or "" */
};

/* Set every setting to its default. Holds no references afterwards; it
 * does not release any that *c held (call kc_config_release first). */
void kc_config_defaults(struct kc_config *c);

/* The whole start-up (and SIGHUP reload) sequence: defaults, the --config
 * file, the other flags, validation; then advertised_host and broker_bind,
 * when unset, are filled with the listen host. Uses no global state, so it
 * can run again on the saved argv into a fresh struct. argv[0] is skipped.
 * Returns 0 when *c is ready (release it with kc_config_release), 1 when
 * --help or --version was printed to stdout (exit 0), -1 with a one-line
 * message in err (exit 2). On 1 and -1 *c holds no references. */
int kc_config_from_args(struct kc_config *c, int argc, char **argv, char *err,
			size_t errlen) __attribute__((warn_unused_result));

/* Apply the JSON file at path over *c. Every error message starts with
 * "path:LINE:COLUMN: " (the key at fault, the element of an array, or
 * where the syntax broke) or, when the file cannot be read, "path: ".
 * On error *c may be partly updated but leaks nothing once released.
 * Returns 0 or -1. */
int kc_config_load_file(struct kc_config *c, const char *path, char *err,
			size_t errlen) __attribute__((warn_unused_result));

/* A step down a JSON document: an object's key, or (key NULL) an array's
 * element. */
struct kc_json_step {
	const char *key;
	long index;
};

/* Where the key or element that steps name (from the top object down) is
 * in the file at path, as "path:LINE:COLUMN: ", for messages about
 * settings checked after loading (the "rules" object); "path: " when the
 * file no longer holds it. Reads the file again. Returns out. */
const char *kc_config_where(const char *path, const struct kc_json_step *steps,
			    int n, char *out, size_t outlen);

/* Check the merged settings: listen and an upstream are set, every value
 * is in range, buffer_low < buffer_high, max_rewrite_frame <= max_frame,
 * the address advertised to clients is not a wildcard, and an admin API
 * off the loopback interface has a token. 0 or -1. */
int kc_config_validate(const struct kc_config *c, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Drop the JSON references. Safe on any struct kc_config_defaults filled,
 * and more than once. */
void kc_config_release(struct kc_config *c);

/* Print --help, generated from the tables, to out. */
void kc_config_usage(FILE *out);

/* Parse "HOST:PORT" or "[IPV6]:PORT" (port 1..65535) into *out.
 * Returns 0 or -1 (out unspecified). */
int kc_parse_hostport(const char *s, struct kc_hostport *out)
	__attribute__((warn_unused_result));

/* "error", "warn", "info" or "debug"; "?" when out of range. */
const char *kc_log_level_name(enum kc_log_level level);

#endif
