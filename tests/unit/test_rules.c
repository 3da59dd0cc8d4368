/*
 * The rule engine on synthetic event streams with injected time: each
 * rule fires when its cause is there, once, and stays quiet when the
 * profile of the connected client explains what it sees.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kp_schema.h"
#include "rules.h"

#define MAXF 64

struct sink {
	json_t *f[MAXF];
	int n;
	uint64_t closed[MAXF];
	char closed_rule[MAXF][48];
	int nclosed;
};

static void on_finding(void *ctx, json_t *fields)
{
	struct sink *k = ctx;

	cr_assert_lt(k->n, MAXF);
	k->f[k->n++] = fields;
}

static void on_close(void *ctx, uint64_t conn, const char *rule)
{
	struct sink *k = ctx;

	k->closed[k->nclosed] = conn;
	snprintf(k->closed_rule[k->nclosed], 48, "%s", rule);
	k->nclosed++;
}

static const struct rules_ops ops = {on_finding, on_close};

/* Give threshold name the value v under "rules". */
#define SET(cfg, name, val)                                                    \
	((cfg).set.v.name = (val), (cfg).set.given |= UINT64_C(1)              \
						      << RULES_T_##name)

static int count(const struct sink *k, const char *rule)
{
	int n = 0;

	for (int i = 0; i < k->n; i++)
		n += !strcmp(
			json_string_value(json_object_get(k->f[i], "rule")),
			rule);
	return n;
}

static json_t *first(const struct sink *k, const char *rule)
{
	for (int i = 0; i < k->n; i++)
		if (!strcmp(json_string_value(json_object_get(k->f[i], "rule")),
			    rule))
			return k->f[i];
	return NULL;
}

static void sink_free(struct sink *k)
{
	for (int i = 0; i < k->n; i++)
		json_decref(k->f[i]);
}

static struct rules *engine(struct sink *k, struct rules_config *cfg)
{
	struct rules_config def;

	memset(k, 0, sizeof(*k));
	if (!cfg) {
		rules_config_defaults(&def);
		cfg = &def;
	}
	return rules_new(cfg, &ops, k);
}

/* A client session: a bootstrap connection (1) that carries Metadata, a
 * coordinator connection (2) to broker 1, and data connections to
 * brokers 1 and 2 (3, 4). */
static void consumer(struct rules *r, const char *cid, const char *sw,
		     const char *swv, double t)
{
	cr_assert_eq(rules_open(r, 1, "10.0.0.5", -1, t), 0);
	cr_assert_eq(rules_identify(r, 1, cid, sw, swv, t), 0);
	rules_request(r, 1, KP_API_API_VERSIONS, 1, 0, t);
	rules_response(r, 1, KP_API_API_VERSIONS, t);
	rules_request(r, 1, KP_API_METADATA, 1, 0, t);
	rules_response(r, 1, KP_API_METADATA, t + 0.01);
	rules_request(r, 1, KP_API_FIND_COORDINATOR, 1, 0, t + 0.02);
	rules_response(r, 1, KP_API_FIND_COORDINATOR, t + 0.03);
	cr_assert_eq(rules_open(r, 2, "10.0.0.5", 1, t + 0.04), 0);
	cr_assert_eq(rules_identify(r, 2, cid, sw, swv, t + 0.04), 0);
	rules_request(r, 2, KP_API_JOIN_GROUP, 1, 0, t + 0.05);
	rules_response(r, 2, KP_API_JOIN_GROUP, t + 3);
	for (int i = 3; i <= 4; i++) {
		cr_assert_eq(
			rules_open(r, (uint64_t)i, "10.0.0.5", i - 2, t + 3.1),
			0);
		cr_assert_eq(
			rules_identify(r, (uint64_t)i, cid, sw, swv, t + 3.1),
			0);
		rules_request(r, (uint64_t)i, KP_API_FETCH, 1, 0, t + 3.2);
		rules_response(r, (uint64_t)i, KP_API_FETCH, t + 3.7);
	}
}

Test(rules, profiles_identified)
{
	cr_assert_str_eq(rules_profile_guess("apache-kafka-java", "x")->name,
			 "java");
	cr_assert_str_eq(rules_profile_guess("librdkafka", "rdkafka")->name,
			 "librdkafka");
	cr_assert_str_eq(
		rules_profile_guess("confluent-kafka-python", "a")->name,
		"librdkafka");
	cr_assert_str_eq(rules_profile_guess("kafka-python", "a")->name,
			 "kafka-python");
	cr_assert_str_eq(rules_profile_guess("", "kafkajs")->name, "kafkajs");
	cr_assert_str_eq(rules_profile_guess("", "producer-1")->name, "java");
	cr_assert_str_eq(rules_profile_guess("", "kafka-python-2.0.2")->name,
			 "kafka-python");
	cr_assert_str_eq(rules_profile_guess("", "my-app")->name, "generic");
}

Test(rules, idle_java_fires_librdkafka_waits_for_broker_limit)
{
	struct sink k;
	struct rules *r = engine(&k, NULL);

	consumer(r, "consumer-g-1", "apache-kafka-java", "3.9.0", 0);
	rules_tick(r, 500);
	cr_assert_eq(count(&k, "idle.connection"), 0);
	rules_tick(r, 545);
	/* All four connections have been quiet for over 540 s. */
	cr_assert_eq(count(&k, "idle.connection"), 4);
	rules_tick(r, 546);
	cr_assert_eq(count(&k, "idle.connection"), 4, "once per cause");
	cr_assert_eq(count(&k, "idle.outlives_client"), 0);
	rules_tick(r, 580);
	cr_assert_eq(count(&k, "idle.outlives_client"), 4);
	rules_free(r);
	sink_free(&k);

	/* librdkafka never idles out by itself: the broker's 600 s is the
	 * threshold, and nothing "outlives the client". */
	r = engine(&k, NULL);
	consumer(r, "rdkafka", "librdkafka", "2.0.2", 0);
	rules_tick(r, 580);
	cr_assert_eq(count(&k, "idle.connection"), 0);
	rules_tick(r, 605);
	cr_assert_eq(count(&k, "idle.connection"), 4);
	rules_tick(r, 2000);
	cr_assert_eq(count(&k, "idle.outlives_client"), 0);
	rules_free(r);
	sink_free(&k);
}

Test(rules, long_poll_is_not_idle)
{
	struct sink k;
	struct rules *r = engine(&k, NULL);

	consumer(r, "consumer-g-1", "apache-kafka-java", "3.9.0", 0);
	/* A Fetch in flight on 3 for ten minutes: not idle. */
	rules_request(r, 3, KP_API_FETCH, 1, 0, 10);
	rules_tick(r, 600);
	json_t *f;
	int on3 = 0;

	for (int i = 0; i < k.n; i++) {
		f = k.f[i];
		if (!strcmp(json_string_value(json_object_get(f, "rule")),
			    "idle.connection"))
			on3 += json_integer_value(json_array_get(
				       json_object_get(f, "conns"), 0)) == 3;
	}
	cr_assert_eq(on3, 0);
	cr_assert_eq(count(&k, "idle.connection"), 3);
	rules_free(r);
	sink_free(&k);
}

Test(rules, bootstrap_lingering_per_profile)
{
	struct sink k;
	struct rules *r = engine(&k, NULL);

	/* librdkafka 2.12 closes its bootstrap right after Metadata: one
	 * still open minutes later is a finding. */
	consumer(r, "rdkafka", "librdkafka", "2.12.0", 0);
	rules_tick(r, 60);
	cr_assert_eq(count(&k, "bootstrap.lingering"), 1);
	rules_free(r);
	sink_free(&k);

	/* librdkafka 2.0.2 keeps it on purpose: quiet. */
	r = engine(&k, NULL);
	consumer(r, "rdkafka", "librdkafka", "2.0.2", 0);
	rules_tick(r, 60);
	cr_assert_eq(count(&k, "bootstrap.lingering"), 0);
	rules_free(r);
	sink_free(&k);

	/* Java abandons it and idles it out at ~540 s: quiet at 60 s,
	 * a finding once it outlives its 600 s allowance. */
	r = engine(&k, NULL);
	consumer(r, "consumer-g-1", "apache-kafka-java", "3.9.0", 0);
	rules_tick(r, 60);
	cr_assert_eq(count(&k, "bootstrap.lingering"), 0);
	rules_tick(r, 700);
	cr_assert_eq(count(&k, "bootstrap.lingering"), 1);
	rules_free(r);
	sink_free(&k);
}

Test(rules, role_mixed_depends_on_profile)
{
	struct sink k;
	struct rules *r = engine(&k, NULL);

	/* Java producers send transaction APIs on the data socket. */
	rules_open(r, 1, "a", 1, 0);
	rules_identify(r, 1, "producer-1", "apache-kafka-java", "3.9", 0);
	rules_request(r, 1, KP_API_PRODUCE, 1, 0, 1);
	rules_request(r, 1, KP_API_ADD_PARTITIONS_TO_TXN, 1, 0, 1);
	cr_assert_eq(count(&k, "role.mixed"), 0);
	/* librdkafka sends them on its transaction coordinator socket. */
	rules_open(r, 2, "b", 1, 0);
	rules_identify(r, 2, "rdkafka", "librdkafka", "2.12.0", 0);
	rules_request(r, 2, KP_API_PRODUCE, 1, 0, 1);
	rules_request(r, 2, KP_API_END_TXN, 1, 0, 1);
	cr_assert_eq(count(&k, "role.mixed"), 1);
	/* Group APIs on a Fetch socket: Java keeps them apart... */
	rules_open(r, 3, "c", 2, 0);
	rules_identify(r, 3, "consumer-g-1", "apache-kafka-java", "3.9", 0);
	rules_request(r, 3, KP_API_FETCH, 1, 0, 1);
	rules_request(r, 3, KP_API_HEARTBEAT, 1, 0, 2);
	rules_request(r, 3, KP_API_HEARTBEAT, 1, 0, 3);
	cr_assert_eq(count(&k, "role.mixed"), 2, "and once per connection");
	/* ...KafkaJS does not. */
	rules_open(r, 4, "d", 2, 0);
	rules_identify(r, 4, "kafkajs", "", "", 0);
	rules_request(r, 4, KP_API_PRODUCE, 1, 0, 1);
	rules_request(r, 4, KP_API_SYNC_GROUP, 1, 0, 1);
	cr_assert_eq(count(&k, "role.mixed"), 2);
	rules_free(r);
	sink_free(&k);
}

Test(rules, producer_per_message)
{
	struct sink k;
	struct rules *r = engine(&k, NULL);
	double t = 0;

	/* A new client every 2 s, each a bootstrap + one data connection
	 * with one Produce. */
	for (uint64_t i = 0; i < 12; i++, t += 2) {
		rules_open(r, 10 * i + 1, "10.0.0.9", -1, t);
		rules_identify(r, 10 * i + 1, "rdkafka", "librdkafka", "2.0.2",
			       t);
		rules_open(r, 10 * i + 2, "10.0.0.9", 1, t + 0.1);
		rules_identify(r, 10 * i + 2, "rdkafka", "librdkafka", "2.0.2",
			       t + 0.1);
		rules_request(r, 10 * i + 2, KP_API_PRODUCE, 1, 0, t + 0.2);
		rules_response(r, 10 * i + 2, KP_API_PRODUCE, t + 0.3);
		rules_close(r, 10 * i + 2, "client", "fin", 0, t + 0.4);
		rules_close(r, 10 * i + 1, "client", "fin", 0, t + 0.4);
	}
	cr_assert_eq(count(&k, "churn.client_per_message"), 1);
	cr_assert_eq(count(&k, "churn.short_lived"), 1);
	cr_assert_eq(count(&k, "exit.graceful"), 12);
	rules_free(r);
	sink_free(&k);

	/* One long-lived producer: none of it. */
	r = engine(&k, NULL);
	rules_open(r, 1, "10.0.0.9", -1, 0);
	rules_identify(r, 1, "rdkafka", "librdkafka", "2.0.2", 0);
	rules_open(r, 2, "10.0.0.9", 1, 0.1);
	rules_identify(r, 2, "rdkafka", "librdkafka", "2.0.2", 0.1);
	for (int i = 0; i < 100; i++) {
		rules_request(r, 2, KP_API_PRODUCE, 1, 0, 1 + i);
		rules_response(r, 2, KP_API_PRODUCE, 1.01 + i);
	}
	cr_assert_eq(count(&k, "churn.client_per_message"), 0);
	cr_assert_eq(count(&k, "churn.short_lived"), 0);
	rules_free(r);
	sink_free(&k);
}

Test(rules, reconnect_storm_after_failures_only)
{
	struct sink k;
	struct rules *r = engine(&k, NULL);
	double t = 0;

	for (uint64_t i = 1; i <= 4; i++, t += 0.01) {
		rules_open(r, i, "a", 2, t);
		rules_identify(r, i, "rdkafka", "librdkafka", "2.0.2", t);
		rules_close(r, i, "broker", "rst", 0, t + 0.001);
	}
	cr_assert_eq(count(&k, "reconnect.storm"), 1);
	rules_free(r);
	sink_free(&k);

	/* Backing off as the profile says (100 ms+): quiet. */
	r = engine(&k, NULL);
	t = 0;
	for (uint64_t i = 1; i <= 6; i++, t += 0.3) {
		rules_open(r, i, "a", 2, t);
		rules_identify(r, i, "rdkafka", "librdkafka", "2.0.2", t);
		rules_close(r, i, "broker", "rst", 0, t + 0.001);
	}
	cr_assert_eq(count(&k, "reconnect.storm"), 0);
	rules_free(r);
	sink_free(&k);
}

Test(rules, unknown_topic_storm_names_the_topic)
{
	struct sink k;
	struct rules *r = engine(&k, NULL);
	json_t *f;

	rules_open(r, 1, "a", 1, 0);
	rules_identify(r, 1, "producer-1", "apache-kafka-java", "3.9", 0);
	for (int i = 0; i < 2; i++)
		rules_unknown_topic(r, 1, "no-such-topic", 1.0 + i);
	cr_assert_eq(count(&k, "metadata.unknown_topic"), 0);
	for (int i = 2; i < 10; i++)
		rules_unknown_topic(r, 1, "no-such-topic", 1.0 + i);
	cr_assert_eq(count(&k, "metadata.unknown_topic"), 1);
	f = first(&k, "metadata.unknown_topic");
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(f, "evidence"), "topic")),
			 "no-such-topic");
	/* Spread out over hours: not a storm. */
	rules_unknown_topic(r, 1, "rare", 100);
	rules_unknown_topic(r, 1, "rare", 1000);
	rules_unknown_topic(r, 1, "rare", 5000);
	cr_assert_eq(count(&k, "metadata.unknown_topic"), 1);
	rules_free(r);
	sink_free(&k);
}

Test(rules, metadata_frequent)
{
	struct sink k;
	struct rules *r = engine(&k, NULL);

	rules_open(r, 1, "a", 1, 0);
	rules_identify(r, 1, "rdkafka", "librdkafka", "2.0.2", 0);
	/* Startup bursts are fine. */
	for (int i = 0; i < 40; i++)
		rules_request(r, 1, KP_API_METADATA, 1, 0, i * 0.5);
	cr_assert_eq(count(&k, "metadata.frequent"), 0);
	for (int i = 0; i < 200; i++)
		rules_request(r, 1, KP_API_METADATA, 1, 0, 60 + i * 0.5);
	cr_assert_eq(count(&k, "metadata.frequent"), 1);
	rules_free(r);
	sink_free(&k);
}

Test(rules, exits_abrupt_and_graceful)
{
	struct sink k;
	struct rules *r = engine(&k, NULL);

	/* kill -9: everything closes at once, a Fetch in flight, no
	 * LeaveGroup. */
	consumer(r, "consumer-g-1", "apache-kafka-java", "3.9.0", 0);
	rules_request(r, 3, KP_API_FETCH, 1, 0, 10);
	for (uint64_t i = 1; i <= 4; i++)
		rules_close(r, i, "client", i == 3 ? "rst" : "fin",
			    i == 3 ? 1 : 0, 10.2);
	cr_assert_eq(count(&k, "exit.abrupt"), 1);
	cr_assert_eq(count(&k, "exit.no_leave_group"), 1);
	cr_assert_eq(count(&k, "exit.graceful"), 0);
	rules_free(r);
	sink_free(&k);

	/* close(): LeaveGroup, then all close with nothing in flight. */
	r = engine(&k, NULL);
	consumer(r, "consumer-g-1", "apache-kafka-java", "3.9.0", 0);
	rules_request(r, 2, KP_API_LEAVE_GROUP, 1, 1, 9);
	rules_response(r, 2, KP_API_LEAVE_GROUP, 9.1);
	for (uint64_t i = 1; i <= 4; i++)
		rules_close(r, i, "client", "fin", 0, 10);
	cr_assert_eq(count(&k, "exit.abrupt"), 0);
	cr_assert_eq(count(&k, "exit.no_leave_group"), 0);
	cr_assert_eq(count(&k, "exit.graceful"), 1);
	rules_free(r);
	sink_free(&k);

	/* librdkafka leaves its group, then closes with fetches still in
	 * flight: that is its normal close. */
	r = engine(&k, NULL);
	consumer(r, "rdkafka", "librdkafka", "2.0.2", 0);
	rules_request(r, 2, KP_API_LEAVE_GROUP, 1, 1, 9);
	rules_response(r, 2, KP_API_LEAVE_GROUP, 9.1);
	rules_request(r, 3, KP_API_FETCH, 1, 0, 9.2);
	rules_request(r, 4, KP_API_FETCH, 1, 0, 9.2);
	for (uint64_t i = 1; i <= 4; i++)
		rules_close(r, i, "client", "fin", i >= 3, 10);
	cr_assert_eq(count(&k, "exit.abrupt"), 0);
	cr_assert_eq(count(&k, "exit.graceful"), 1);
	rules_free(r);
	sink_free(&k);

	/* A producer gone with a Produce unanswered: abrupt. */
	r = engine(&k, NULL);
	rules_open(r, 1, "a", 1, 0);
	rules_identify(r, 1, "rdkafka", "librdkafka", "2.0.2", 0);
	rules_request(r, 1, KP_API_PRODUCE, 1, 0, 1);
	rules_close(r, 1, "client", "fin", 1, 2);
	cr_assert_eq(count(&k, "exit.abrupt"), 1);
	rules_free(r);
	sink_free(&k);

	/* The broker going away is not the client's exit. */
	r = engine(&k, NULL);
	consumer(r, "consumer-g-1", "apache-kafka-java", "3.9.0", 0);
	for (uint64_t i = 1; i <= 4; i++)
		rules_close(r, i, "broker", "fin", 0, 10);
	cr_assert_eq(k.n, 0);
	rules_free(r);
	sink_free(&k);
}

Test(rules, excess_connections)
{
	struct sink k;
	struct rules *r = engine(&k, NULL);

	/* Two brokers known; a Java client holding eight connections. */
	consumer(r, "consumer-g-1", "apache-kafka-java", "3.9.0", 0);
	cr_assert_eq(count(&k, "conns.excess"), 0);
	for (uint64_t i = 5; i <= 8; i++) {
		rules_open(r, i, "10.0.0.5", 1, 5);
		rules_identify(r, i, "consumer-g-1", "apache-kafka-java",
			       "3.9.0", 5);
	}
	cr_assert_eq(count(&k, "conns.excess"), 1);
	rules_free(r);
	sink_free(&k);
}

Test(rules, enforce_idle_timeout_and_dry_run)
{
	struct sink k;
	struct rules_config cfg;
	struct rules *r;

	rules_config_defaults(&cfg);
	cfg.mode = RULES_ENFORCE;
	SET(cfg, idle_timeout_s, 3);
	r = engine(&k, &cfg);
	consumer(r, "rdkafka", "librdkafka", "2.0.2", 0);
	rules_request(r, 3, KP_API_FETCH, 1, 0, 4);
	rules_tick(r, 6.5);
	cr_assert_eq(k.nclosed, 2, "4 has been quiet only 2.8 s");
	rules_tick(r, 7);
	/* 1 (bootstrap), 2 (coordinator) and 4 idle > 3 s; 3 has a Fetch
	 * in flight. */
	cr_assert_eq(k.nclosed, 3);
	for (int i = 0; i < k.nclosed; i++) {
		cr_assert_neq(k.closed[i], 3);
		cr_assert_str_eq(k.closed_rule[i], "enforce.idle_timeout");
	}
	rules_tick(r, 7.5);
	cr_assert_eq(k.nclosed, 3, "asked once");
	cr_assert_eq(count(&k, "enforce.idle_timeout"), 3);
	rules_free(r);
	sink_free(&k);

	cfg.mode = RULES_DRY_RUN;
	r = engine(&k, &cfg);
	consumer(r, "rdkafka", "librdkafka", "2.0.2", 0);
	rules_tick(r, 7.5);
	cr_assert_eq(k.nclosed, 0, "dry-run never acts");
	cr_assert_eq(count(&k, "enforce.idle_timeout"), 4);
	cr_assert_str_eq(json_string_value(json_object_get(
				 first(&k, "enforce.idle_timeout"), "action")),
			 "would_close");
	rules_free(r);
	sink_free(&k);

	cfg.mode = RULES_REPORT;
	r = engine(&k, &cfg);
	consumer(r, "rdkafka", "librdkafka", "2.0.2", 0);
	rules_tick(r, 7.5);
	cr_assert_eq(count(&k, "enforce.idle_timeout"), 0,
		     "report mode never touches traffic");
	rules_free(r);
	sink_free(&k);
}

Test(rules, enforce_caps_and_rate)
{
	struct sink k;
	struct rules_config cfg;
	struct rules *r;

	rules_config_defaults(&cfg);
	cfg.mode = RULES_ENFORCE;
	SET(cfg, max_conns_per_addr, 2);
	r = engine(&k, &cfg);
	cr_assert_eq(rules_open(r, 1, "a", -1, 0), 0);
	cr_assert_eq(rules_open(r, 2, "a", 1, 0), 0);
	cr_assert_eq(rules_open(r, 3, "a", 2, 0), -1);
	cr_assert_str_eq(rules_refused_by(r, 3), "enforce.max_conns_addr");
	cr_assert_null(rules_refused_by(r, 2));
	cr_assert_eq(rules_open(r, 4, "b", 2, 0), 0);
	rules_close(r, 3, "proxy", "fin", 0, 0);
	rules_close(r, 1, "client", "fin", 0, 1);
	cr_assert_eq(rules_open(r, 5, "a", 2, 1), 0, "room again");
	rules_free(r);
	sink_free(&k);

	rules_config_defaults(&cfg);
	cfg.mode = RULES_ENFORCE;
	SET(cfg, max_conns_per_session, 2);
	SET(cfg, max_conn_rate, 4);
	r = engine(&k, &cfg);
	for (uint64_t i = 1; i <= 2; i++) {
		rules_open(r, i, "a", 1, 0);
		cr_assert_eq(rules_identify(r, i, "c", "librdkafka", "2", 0),
			     0);
	}
	rules_open(r, 3, "a", 1, 0);
	cr_assert_eq(rules_identify(r, 3, "c", "librdkafka", "2", 0), -1);
	cr_assert_str_eq(rules_refused_by(r, 3), "enforce.max_conns_session");
	rules_close(r, 3, "proxy", "fin", 0, 0);
	/* Rate: churn through connections within a minute. */
	for (uint64_t i = 4; i <= 6; i++) {
		rules_close(r, i - 3 < 3 ? i - 3 : 0, "client", "fin", 0, 1);
		rules_open(r, i, "a", 1, 1);
		(void)rules_identify(r, i, "c", "librdkafka", "2", 1);
	}
	cr_assert(count(&k, "enforce.conn_rate") >= 1);
	cr_assert(count(&k, "enforce.max_conns_session") >= 1);
	/* The refusal names the rule that refused, not the first cap. */
	rules_config_defaults(&cfg);
	cfg.mode = RULES_ENFORCE;
	SET(cfg, max_conns_per_session, 5);
	SET(cfg, max_conn_rate, 2);
	rules_free(r);
	sink_free(&k);
	r = engine(&k, &cfg);
	for (uint64_t i = 1; i <= 3; i++) {
		rules_open(r, i, "a", 1, 0);
		cr_assert_eq(rules_identify(r, i, "c", "librdkafka", "2", 0),
			     i < 3 ? 0 : -1);
		if (i < 3)
			rules_close(r, i, "client", "fin", 0, 0.5);
	}
	cr_assert_str_eq(rules_refused_by(r, 3), "enforce.conn_rate");
	rules_free(r);
	sink_free(&k);
}

/* Parse text as the "rules" object: 0 or -1, *e filled. */
static int parse(struct rules_config *cfg, const char *text,
		 struct rules_config_error *e)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	int rc;

	cr_assert_not_null(j, "%s: %s", text, je.text);
	rules_config_defaults(cfg);
	rc = rules_config_parse(cfg, j, e);
	json_decref(j);
	return rc;
}

Test(rules, config_parse)
{
	struct rules_config cfg;
	struct rules_config_error e;
	struct sink k;
	struct rules *r;

	cr_assert_eq(parse(&cfg,
			   "{\"mode\": \"enforce\", \"idle_timeout_s\": 3, "
			   "\"disable\": [\"exit.graceful\"], \"profile\": "
			   "\"java\", \"overrides\": [{\"client_id\": "
			   "\"svc-*\", \"profile\": \"kafkajs\", \"idle_s\": "
			   "99}]}",
			   &e),
		     0, "%s", e.msg);
	cr_assert_eq(cfg.mode, RULES_ENFORCE);
	cr_assert_eq(cfg.set.v.idle_timeout_s, 3);
	cr_assert_eq(cfg.set.given, UINT64_C(1) << RULES_T_idle_timeout_s);
	cr_assert_eq(cfg.n_overrides, 1);
	r = engine(&k, &cfg);
	rules_open(r, 1, "a", 1, 0);
	rules_identify(r, 1, "svc-orders", "apache-kafka-java", "3", 0);
	cr_assert_str_eq(rules_conn_profile(r, 1), "kafkajs");
	rules_open(r, 2, "a", 1, 0);
	rules_identify(r, 2, "other", "librdkafka", "2", 0);
	cr_assert_str_eq(rules_conn_profile(r, 2), "java", "pinned");
	rules_free(r);
	sink_free(&k);
}

/* Every threshold of the table is accepted under "rules" and (when per
 * client) in an override, at its bounds, and lands in its field. */
Test(rules, every_threshold_parses)
{
	for (size_t i = 0; i < RULES_N_THRESHOLDS; i++) {
		const struct rules_threshold *t = &rules_threshold_table[i];
		struct rules_config cfg;
		struct rules_config_error e;
		struct rules_thresholds th;
		char text[512];

		snprintf(text, sizeof(text),
			 "{\"%s\": %.17g, \"overrides\": [{\"client_id\": "
			 "\"x*\", \"%s\": %.17g}]}",
			 t->name, t->min, t->name, t->max);
		if (t->scope == RULES_S_ADDR) {
			cr_assert_eq(parse(&cfg, text, &e), -1, "%s", t->name);
			cr_assert(strstr(e.msg, "per source address"), "%s",
				  e.msg);
			cr_assert_eq(e.depth, 3, "%s", e.msg);
			cr_assert_str_eq(e.path[2].key, t->name);
			snprintf(text, sizeof(text), "{\"%s\": %.17g}", t->name,
				 t->max);
			cr_assert_eq(parse(&cfg, text, &e), 0, "%s", e.msg);
			rules_resolve(&cfg, "", "x1", &th);
			cr_assert_eq(*(double *)((char *)&th + t->off), t->max,
				     "%s", t->name);
			continue;
		}
		cr_assert_eq(parse(&cfg, text, &e), 0, "%s: %s", t->name,
			     e.msg);
		rules_resolve(&cfg, "", "y1", &th);
		cr_assert_eq(*(double *)((char *)&th + t->off), t->min,
			     "%s under rules", t->name);
		rules_resolve(&cfg, "", "x1", &th);
		cr_assert_eq(*(double *)((char *)&th + t->off), t->max,
			     "%s in the override", t->name);
	}
}

/* Bad input is refused with the key named and the path to it. */
Test(rules, config_refused)
{
	static const struct {
		const char *text, *says;
		int depth;
		const char *key0, *key2;
	} bad[] = {
		{"{\"mode\": \"loud\"}", "rules.mode: expected", 1, "mode",
		 NULL},
		{"{\"idle_timeout_s\": -1}",
		 "rules.idle_timeout_s: -1 is out of range", 1,
		 "idle_timeout_s", NULL},
		{"{\"churn_count\": 2.5}",
		 "rules.churn_count: expected a whole", 1, "churn_count", NULL},
		{"{\"separate_coordinator\": 2}",
		 "rules.separate_coordinator: 2 is out of range 0..1", 1,
		 "separate_coordinator", NULL},
		{"{\"short_lived_s\": \"2\"}",
		 "rules.short_lived_s: expected a number", 1, "short_lived_s",
		 NULL},
		{"{\"idel_s\": 1}", "rules.idel_s: unknown key", 1, "idel_s",
		 NULL},
		{"{\"disable\": [\"exit.graceful\", \"no.such.rule\"]}",
		 "element 1 is not a rule id", 2, "disable", NULL},
		{"{\"overrides\": [{\"client_id\": \"a\"}, {\"client_id\": "
		 "\"b\", \"storm_count\": 0}]}",
		 "rules.overrides[1].storm_count: 0 is out of range", 3,
		 "overrides", "storm_count"},
		{"{\"overrides\": [{\"client_id\": \"a\", \"idle_sec\": 1}]}",
		 "rules.overrides[0].idle_sec: unknown key", 3, "overrides",
		 "idle_sec"},
		{"{\"overrides\": [{\"client_id\": \"a\", \"profile\": "
		 "\"jvm\"}]}",
		 "rules.overrides[0].profile: expected one of", 3, "overrides",
		 "profile"},
		{"{\"overrides\": [{\"client_id\": \"a\", "
		 "\"max_conns_per_addr\": 3}]}",
		 "rules.overrides[0].max_conns_per_addr: counted per source "
		 "address",
		 3, "overrides", "max_conns_per_addr"},
		{"{\"overrides\": [{\"idle_s\": 3}]}",
		 "rules.overrides[0]: client_id is required", 2, "overrides",
		 NULL},
		{"{\"overrides\": [{\"client_id\": 7}]}",
		 "rules.overrides[0].client_id: expected a client-id pattern",
		 3, "overrides", "client_id"},
		{"{\"overrides\": {}}", "rules.overrides: expected an array", 1,
		 "overrides", NULL},
		{"{\"overrides\": [{\"client_id\": \"a\", \"disable\": "
		 "[\"idle\"]}]}",
		 "rules.overrides[0].disable: element 0", 4, "overrides",
		 "disable"},
		{"{\"\\u0001x\": 1}", "rules.\\x01x: unknown key", 1, "\001x",
		 NULL},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rules_config cfg;
		struct rules_config_error e;

		cr_assert_eq(parse(&cfg, bad[i].text, &e), -1, "%s",
			     bad[i].text);
		cr_assert(strstr(e.msg, bad[i].says), "%s: got \"%s\"",
			  bad[i].text, e.msg);
		cr_assert_eq(e.depth, bad[i].depth, "%s: depth %d", bad[i].text,
			     e.depth);
		cr_assert_str_eq(e.path[0].key, bad[i].key0);
		if (bad[i].key2)
			cr_assert_str_eq(e.path[2].key, bad[i].key2);
		if (bad[i].depth >= 2 && !strcmp(bad[i].key0, "overrides"))
			cr_assert_str_eq(e.path[1].key, "", "an element");
	}
}

/* Precedence: the profile's default, then "rules", then the first
 * matching override; an override's profile brings its own defaults. */
Test(rules, override_precedence)
{
	struct rules_config cfg;
	struct rules_config_error e;
	struct rules_thresholds th;

	cr_assert_eq(parse(&cfg,
			   "{\"metadata_per_minute\": 7, \"overrides\": ["
			   "{\"client_id\": \"a-*\", \"metadata_per_minute\": "
			   "2, \"reconnect_backoff_s\": 1.5},"
			   "{\"client_id\": \"a-b\", \"metadata_per_minute\": "
			   "99},"
			   "{\"client_id\": \"js-*\", \"profile\": "
			   "\"kafkajs\"}]}",
			   &e),
		     0, "%s", e.msg);
	cr_assert_str_eq(rules_resolve(&cfg, "librdkafka", "a-b", &th)->name,
			 "librdkafka");
	cr_assert_eq(th.metadata_per_minute, 2, "first match wins");
	cr_assert_eq(th.reconnect_backoff_s, 1.5);
	cr_assert_eq(th.idle_close_s, 0, "the profile's, untouched");
	rules_resolve(&cfg, "apache-kafka-java", "z", &th);
	cr_assert_eq(th.metadata_per_minute, 7, "rules.KEY");
	cr_assert_eq(th.reconnect_backoff_s, 0.05, "java's");
	cr_assert_eq(th.idle_close_s, 540);
	cr_assert_str_eq(
		rules_resolve(&cfg, "apache-kafka-java", "js-1", &th)->name,
		"kafkajs");
	cr_assert_eq(th.conns_per_broker, 2);
	cr_assert_eq(th.reconnect_backoff_s, 0.3);
}

/* An override changes what a rule does for the clients it matches and
 * for no one else, in the same engine. */
Test(rules, override_changes_rules)
{
	struct rules_config cfg;
	struct rules_config_error e;
	struct sink k;
	struct rules *r;
	double t;

	/* reconnect.storm: a backoff of 2 s for "slow-*" makes 1 s gaps
	 * fast; the default 0.1 s of librdkafka does not. */
	cr_assert_eq(parse(&cfg,
			   "{\"overrides\": [{\"client_id\": \"slow-*\", "
			   "\"reconnect_backoff_s\": 2, \"storm_count\": 2, "
			   "\"disable\": [\"exit.graceful\"]}]}",
			   &e),
		     0, "%s", e.msg);
	r = engine(&k, &cfg);
	t = 0;
	for (uint64_t i = 1; i <= 4; i++, t += 1) {
		rules_open(r, i, "h1", 1, t);
		rules_identify(r, i, "slow-1", "librdkafka", "2.12.0", t);
		rules_open(r, 100 + i, "h2", 1, t);
		rules_identify(r, 100 + i, "fast-1", "librdkafka", "2.12.0", t);
		rules_close(r, i, "broker", "fin", 0, t + 0.1);
		rules_close(r, 100 + i, "broker", "fin", 0, t + 0.1);
	}
	cr_assert_eq(count(&k, "reconnect.storm"), 1);
	cr_assert_str_eq(json_string_value(json_object_get(
				 first(&k, "reconnect.storm"), "client_id")),
			 "slow-1");
	rules_free(r);
	sink_free(&k);

	/* Disabled per client, and idle_s per client. */
	cr_assert_eq(parse(&cfg,
			   "{\"overrides\": [{\"client_id\": \"quiet\", "
			   "\"disable\": [\"exit.graceful\"]}, {\"client_id\": "
			   "\"eager\", \"idle_s\": 5}]}",
			   &e),
		     0, "%s", e.msg);
	r = engine(&k, &cfg);
	rules_open(r, 1, "h", 1, 0);
	rules_identify(r, 1, "quiet", "librdkafka", "2.12.0", 0);
	rules_open(r, 2, "h", 1, 0);
	rules_identify(r, 2, "eager", "librdkafka", "2.12.0", 0);
	rules_tick(r, 6);
	cr_assert_eq(count(&k, "idle.connection"), 1);
	rules_close(r, 1, "client", "fin", 0, 7);
	rules_close(r, 2, "client", "fin", 0, 7);
	cr_assert_eq(count(&k, "exit.graceful"), 1);
	cr_assert_str_eq(json_string_value(json_object_get(
				 first(&k, "exit.graceful"), "client_id")),
			 "eager");
	rules_free(r);
	sink_free(&k);

	/* A reload resolves live sessions again. */
	rules_config_defaults(&cfg);
	r = engine(&k, &cfg);
	rules_open(r, 1, "h", 1, 0);
	rules_identify(r, 1, "c", "librdkafka", "2.12.0", 0);
	rules_tick(r, 30);
	cr_assert_eq(count(&k, "idle.connection"), 0);
	cr_assert_eq(parse(&cfg,
			   "{\"overrides\": [{\"client_id\": \"c\", "
			   "\"idle_s\": 20}]}",
			   &e),
		     0, "%s", e.msg);
	rules_reconfigure(r, &cfg);
	rules_tick(r, 31);
	cr_assert_eq(count(&k, "idle.connection"), 1);
	rules_free(r);
	sink_free(&k);
}

/* metadata.frequent with its start-up wait and rate scaled down. */
Test(rules, metadata_frequent_scaled)
{
	struct rules_config cfg;
	struct rules_config_error e;
	struct sink k;
	struct rules *r;

	cr_assert_eq(parse(&cfg,
			   "{\"metadata_per_minute\": 5, "
			   "\"metadata_startup_s\": 2}",
			   &e),
		     0, "%s", e.msg);
	r = engine(&k, &cfg);
	rules_open(r, 1, "h", 1, 0);
	rules_identify(r, 1, "c", "librdkafka", "2.12.0", 0);
	for (int i = 0; i < 8; i++)
		rules_request(r, 1, KP_API_METADATA, 1, 0, 0.1 * i);
	cr_assert_eq(count(&k, "metadata.frequent"), 0, "start-up burst");
	rules_request(r, 1, KP_API_METADATA, 1, 0, 2.5);
	cr_assert_eq(count(&k, "metadata.frequent"), 1);
	rules_free(r);
	sink_free(&k);
}

Test(rules, disabled_rules_stay_quiet)
{
	struct sink k;
	struct rules_config cfg;
	struct rules_config_error e;
	struct rules *r;

	cr_assert_eq(parse(&cfg, "{\"disable\": [\"idle.connection\"]}", &e), 0,
		     "%s", e.msg);
	r = engine(&k, &cfg);
	consumer(r, "consumer-g-1", "apache-kafka-java", "3.9.0", 0);
	rules_tick(r, 1000);
	cr_assert_eq(count(&k, "idle.connection"), 0);
	cr_assert_eq(count(&k, "idle.outlives_client"), 4);
	rules_free(r);
	sink_free(&k);
}

Test(rules, catalog_documented)
{
	const char *top = getenv("top_srcdir");
	char path[512];
	FILE *f;
	char *doc = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/doc/rules.md", top ? top : ".");
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s is missing", path);
	cr_assert(getdelim(&doc, &len, '\0', f) > 0);
	fclose(f);
	for (size_t i = 0; i < rules_catalog_len; i++) {
		char heading[96];

		snprintf(heading, sizeof(heading), "### `%s`",
			 rules_catalog[i].id);
		cr_assert(strstr(doc, heading) != NULL,
			  "doc/rules.md has no section %s", heading);
	}
	free(doc);
}

/* doc/rules.md's threshold table is the code's, row for row: name, unit,
 * scope and every profile's default. */
Test(rules, thresholds_documented)
{
	static const char *unit[] = {"s", "count", "per minute", "0 or 1"};
	const char *top = getenv("top_srcdir");
	char path[512];
	FILE *f;
	char *doc = NULL, *sec, *end;
	size_t len = 0;
	int rows = 0;

	snprintf(path, sizeof(path), "%s/doc/rules.md", top ? top : ".");
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s is missing", path);
	cr_assert(getdelim(&doc, &len, '\0', f) > 0);
	fclose(f);
	sec = strstr(doc, "\n| threshold | unit | scope |");
	cr_assert_not_null(sec, "doc/rules.md has no threshold table");
	end = strstr(sec, "\n\n"); /* the table ends at a blank line */
	if (end)
		*end = '\0';
	for (const char *p = sec; (p = strstr(p, "\n| `")); p++)
		rows++;
	cr_assert_eq(rows, RULES_N_THRESHOLDS,
		     "doc/rules.md lists %d thresholds, the code %d", rows,
		     RULES_N_THRESHOLDS);
	for (size_t i = 0; i < RULES_N_THRESHOLDS; i++) {
		const struct rules_threshold *t = &rules_threshold_table[i];
		char row[256];

		snprintf(row, sizeof(row),
			 "\n| `%s` | %s | %s | %g | %g | %g | %g | %g | ",
			 t->name, unit[t->unit],
			 t->scope == RULES_S_ADDR ? "address" : "client",
			 t->defaults[0], t->defaults[1], t->defaults[2],
			 t->defaults[3], t->defaults[4]);
		cr_assert(strstr(sec, row) != NULL,
			  "doc/rules.md has no row starting %s", row + 1);
	}
	free(doc);
}
