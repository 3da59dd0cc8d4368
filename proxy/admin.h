/*
 * admin: the read-only admin HTTP API on the proxy's own event loop
 * (libevent's evhttp): health and readiness, Prometheus metrics, JSON
 * views of the connections, client sessions, brokers and findings, and
 * the live page's static files. See doc/admin.md.
 */
#ifndef ADMIN_H
#define ADMIN_H

#include <stddef.h>

struct admin;
struct kc_config;
struct proxy;

/* When px->cfg.admin_listen is set: read the "admin" options and the
 * token file, create px->metrics and bind px->admin. Nothing (0) when it
 * is not set. -1 with err set on failure (px then holds nothing of it). */
int admin_start(struct proxy *px, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Check the "admin" options of cfg (as admin_start() will read them).
 * 0, or -1 with err naming the key. */
int admin_check_config(const struct kc_config *cfg, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Close the admin server and free px->admin and px->metrics. Safe when
 * admin_start() did nothing, and more than once. */
void admin_stop(struct proxy *px);

/* Whether Host (a request's Host header, NULL when absent) names this
 * host's loopback interface: "localhost", 127.0.0.0/8 or [::1], with or
 * without a port. Without a token only such requests are answered, so
 * that a web page cannot reach the API through DNS rebinding. */
int admin_host_is_loopback(const char *host);

#endif
