/*
 * kbench: the end-to-end benchmark's Kafka client (librdkafka). One run of
 * one workload against one bootstrap list; it prints a single line
 * "RESULT key=value ..." that tests/bench/run-benchmark.sh collects.
 * Connections are opened and metadata fetched before the clock starts, so
 * every path is timed from the same warm state.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#define MAX_CONF 32

struct opts {
	const char *mode;
	const char *brokers;
	const char *topic;
	size_t size;    /* message payload bytes */
	double secs;    /* timed window */
	uint64_t bytes; /* produce: stop after this many bytes instead */
	int rate;       /* latency: messages per second */
	const char *conf[MAX_CONF][2];
	int n_conf;
};

/* What the delivery reports and the consumer saw. */
struct stats {
	uint64_t acked, acked_bytes, errors;
	int64_t *lat_ns;  /* latency: per message, indexed by its number */
	int64_t *sent_ns; /* latency: when each message was produced */
	size_t n_lat;
	char last_err[256];
};

static struct stats st;
static volatile int poller_stop;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: kbench MODE -b BROKERS -t TOPIC [options]\n"
		"  produce   -s SIZE (-d SECS | -n BYTES)  acks=1, "
		"linger.ms=5,\n"
		"            batch.size=1000000: MB/s and msgs/s acknowledged\n"
		"  consume   -d SECS   read TOPIC from the beginning, again "
		"and\n"
		"            again: MB/s of message payload\n"
		"  latency   -s SIZE -r RATE -d SECS  linger.ms=0, one "
		"message\n"
		"            every 1/RATE s: delivery latency percentiles "
		"(us)\n"
		"  fill      -s SIZE -n BYTES  the same share to every "
		"partition\n"
		"  meta      print the brokers the bootstrap server "
		"advertises\n"
		"  -X KEY=VALUE  any librdkafka setting (after the "
		"defaults)\n");
	exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->size = 1024;
	o->secs = 3;
	o->rate = 1000;
	if (argc < 2)
		usage();
	o->mode = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "b:t:s:d:n:r:X:")) != -1) {
		switch (c) {
		case 'b':
			o->brokers = optarg;
			break;
		case 't':
			o->topic = optarg;
			break;
		case 's':
			o->size = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			o->secs = strtod(optarg, NULL);
			break;
		case 'n':
			o->bytes = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			o->rate = atoi(optarg);
			break;
		case 'X': {
			char *eq = strchr(optarg, '=');

			if (!eq || o->n_conf == MAX_CONF)
				usage();
			*eq = '\0';
			o->conf[o->n_conf][0] = optarg;
			o->conf[o->n_conf][1] = eq + 1;
			o->n_conf++;
			break;
		}
		default:
			usage();
		}
	}
	if (!o->brokers || (!o->topic && strcmp(o->mode, "meta") != 0) ||
	    o->size == 0 || o->secs <= 0 || o->rate <= 0)
		usage();
}

static void conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
	char err[512];

	if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) !=
	    RD_KAFKA_CONF_OK) {
		fprintf(stderr, "kbench: %s=%s: %s\n", k, v, err);
		exit(2);
	}
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	if (m->err) {
		st.errors++;
		snprintf(st.last_err, sizeof(st.last_err), "%s",
			 rd_kafka_err2str(m->err));
		return;
	}
	st.acked++;
	st.acked_bytes += m->len;
	if (st.lat_ns && m->_private) {
		size_t i = (size_t)(uintptr_t)m->_private - 1;

		st.lat_ns[i] = now_ns() - st.sent_ns[i];
	}
}

static rd_kafka_t *client_new(const struct opts *o, rd_kafka_type_t type,
			      const char *const defaults[][2], int n_defaults)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[512];
	rd_kafka_t *rk;

	conf_set(conf, "bootstrap.servers", o->brokers);
	conf_set(conf, "client.id", "kbench");
	conf_set(conf, "log_level", "4");
	for (int i = 0; i < n_defaults; i++)
		conf_set(conf, defaults[i][0], defaults[i][1]);
	for (int i = 0; i < o->n_conf; i++)
		conf_set(conf, o->conf[i][0], o->conf[i][1]);
	if (type == RD_KAFKA_PRODUCER)
		rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rk = rd_kafka_new(type, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "kbench: %s\n", err);
		exit(1);
	}
	return rk;
}

/* The topic's partition count, which also proves the bootstrap server
 * answers; exits when it does not within 10 s. */
static int partitions_of(rd_kafka_t *rk, const char *topic)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	rd_kafka_resp_err_t err;
	int n;

	err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
	if (err) {
		fprintf(stderr, "kbench: metadata: %s\n",
			rd_kafka_err2str(err));
		exit(1);
	}
	n = md->topic_cnt == 1 && !md->topics[0].err
		    ? md->topics[0].partition_cnt
		    : 0;
	rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	if (n <= 0) {
		fprintf(stderr, "kbench: topic %s: no partitions\n", topic);
		exit(1);
	}
	return n;
}

/* One message to every partition, so a connection to every leader is up
 * before the clock starts. */
static void warm_producer(rd_kafka_t *rk, const char *topic, int parts)
{
	for (int p = 0; p < parts; p++)
		if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
				      RD_KAFKA_V_PARTITION(p),
				      RD_KAFKA_V_VALUE("warm", 4),
				      RD_KAFKA_V_END))
			exit(1);
	rd_kafka_flush(rk, 10000);
	if (st.errors) {
		fprintf(stderr, "kbench: warm-up: %s\n", st.last_err);
		exit(1);
	}
	memset(&st, 0, sizeof(st));
}

static void print_result(const char *mode, const struct opts *o, uint64_t msgs,
			 uint64_t bytes, double secs)
{
	printf("RESULT mode=%s size=%zu msgs=%" PRIu64 " bytes=%" PRIu64
	       " secs=%.4f mbps=%.3f msgps=%.1f errors=%" PRIu64 "\n",
	       mode, o->size, msgs, bytes, secs, bytes / secs / 1e6,
	       msgs / secs, st.errors);
}

static int run_produce(const struct opts *o)
{
	static const char *const defaults[][2] = {
		{"acks", "1"},
		{"linger.ms", "5"},
		{"batch.size", "1000000"},
		{"compression.codec", "none"},
		{"queue.buffering.max.kbytes", "65536"},
		{"message.max.bytes", "1000000"},
	};
	rd_kafka_t *rk = client_new(o, RD_KAFKA_PRODUCER, defaults,
				    sizeof(defaults) / sizeof(*defaults));
	rd_kafka_topic_t *rkt;
	char *payload = malloc(o->size);
	uint64_t sent = 0;
	int64_t t0, deadline, t1;
	double secs;

	if (!payload)
		return 1;
	for (size_t i = 0; i < o->size; i++)
		payload[i] = (char)('a' + i % 26);
	warm_producer(rk, o->topic, partitions_of(rk, o->topic));
	rkt = rd_kafka_topic_new(rk, o->topic, NULL);
	t0 = now_ns();
	deadline = t0 + (int64_t)(o->secs * 1e9);
	for (;;) {
		if (o->bytes ? sent >= o->bytes : now_ns() >= deadline)
			break;
		/* No copy: the payload outlives every message. */
		if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, 0, payload,
				     o->size, NULL, 0, NULL) == -1) {
			if (rd_kafka_last_error() !=
			    RD_KAFKA_RESP_ERR__QUEUE_FULL) {
				fprintf(stderr, "kbench: produce: %s\n",
					rd_kafka_err2str(
						rd_kafka_last_error()));
				return 1;
			}
			rd_kafka_poll(rk, 1);
			continue;
		}
		sent += o->size;
		if ((sent / o->size) % 1024 == 0)
			rd_kafka_poll(rk, 0);
	}
	if (rd_kafka_flush(rk, 60000)) {
		fprintf(stderr, "kbench: flush timed out\n");
		return 1;
	}
	t1 = now_ns();
	secs = (double)(t1 - t0) / 1e9;
	print_result("produce", o, st.acked, st.acked_bytes, secs);
	if (st.errors)
		fprintf(stderr, "kbench: %" PRIu64 " errors, last: %s\n",
			st.errors, st.last_err);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
	free(payload);
	return st.errors ? 1 : 0;
}

static void *poller(void *arg)
{
	rd_kafka_t *rk = arg;

	while (!poller_stop)
		rd_kafka_poll(rk, 50);
	return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile of n sorted values, nearest rank. */
static double quantile_us(const int64_t *v, size_t n, double q)
{
	size_t k = (size_t)(q * (double)n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return (double)v[k - 1] / 1e3;
}

static int run_latency(const struct opts *o)
{
	static const char *const defaults[][2] = {
		{"acks", "1"},
		{"linger.ms", "0"},
		{"socket.nagle.disable", "true"},
		{"compression.codec", "none"},
	};
	rd_kafka_t *rk = client_new(o, RD_KAFKA_PRODUCER, defaults,
				    sizeof(defaults) / sizeof(*defaults));
	size_t total = (size_t)(o->secs * o->rate), warm = (size_t)o->rate / 2;
	char *payload = malloc(o->size);
	int64_t period = 1000000000 / o->rate, *lat;
	struct timespec next;
	pthread_t th;
	size_t n = 0;
	int parts;

	if (!payload)
		return 1;
	memset(payload, 'l', o->size);
	parts = partitions_of(rk, o->topic);
	warm_producer(rk, o->topic, parts);
	st.lat_ns = calloc(total + warm, sizeof(int64_t));
	st.sent_ns = calloc(total + warm, sizeof(int64_t));
	if (!st.lat_ns || !st.sent_ns)
		return 1;
	if (pthread_create(&th, NULL, poller, rk))
		return 1;
	/* Absolute deadlines: a late message does not shift the next. */
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (size_t i = 0; i < total + warm; i++) {
		next.tv_nsec += period;
		while (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
				       NULL) == EINTR)
			;
		st.sent_ns[i] = now_ns();
		if (rd_kafka_producev(
			    rk, RD_KAFKA_V_TOPIC(o->topic),
			    RD_KAFKA_V_PARTITION((int32_t)(i % (size_t)parts)),
			    RD_KAFKA_V_VALUE(payload, o->size),
			    RD_KAFKA_V_OPAQUE((void *)(uintptr_t)(i + 1)),
			    RD_KAFKA_V_END)) {
			fprintf(stderr, "kbench: produce failed\n");
			return 1;
		}
	}
	rd_kafka_flush(rk, 10000);
	poller_stop = 1;
	pthread_join(th, NULL);
	/* The first half second is warm-up and is not counted. */
	lat = st.lat_ns + warm;
	for (size_t i = 0; i < total; i++)
		if (lat[i] > 0)
			lat[n++] = lat[i];
	if (n == 0) {
		fprintf(stderr, "kbench: no deliveries\n");
		return 1;
	}
	qsort(lat, n, sizeof(*lat), cmp_i64);
	printf("RESULT mode=latency size=%zu rate=%d n=%zu p50_us=%.1f "
	       "p99_us=%.1f p999_us=%.1f max_us=%.1f errors=%" PRIu64 "\n",
	       o->size, o->rate, n, quantile_us(lat, n, 0.5),
	       quantile_us(lat, n, 0.99), quantile_us(lat, n, 0.999),
	       (double)lat[n - 1] / 1e3, st.errors + (total - n));
	rd_kafka_destroy(rk);
	return st.errors ? 1 : 0;
}

static void assign_all(rd_kafka_t *rk, const char *topic, int parts)
{
	rd_kafka_topic_partition_list_t *l =
		rd_kafka_topic_partition_list_new(parts);
	rd_kafka_resp_err_t err;

	for (int p = 0; p < parts; p++)
		rd_kafka_topic_partition_list_add(l, topic, p)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	err = rd_kafka_assign(rk, l);
	if (err) {
		fprintf(stderr, "kbench: assign: %s\n", rd_kafka_err2str(err));
		exit(1);
	}
	rd_kafka_topic_partition_list_destroy(l);
}

static int run_consume(const struct opts *o)
{
	static const char *const defaults[][2] = {
		{"group.id", "kbench"}, /* assign() needs one; never joined */
		{"enable.partition.eof", "true"},
		{"enable.auto.commit", "false"},
		{"auto.offset.reset", "earliest"},
		/* The mock holds a fetch with no data for the whole wait, even
		 * when a seek makes data available again. */
		{"fetch.wait.max.ms", "1"},
	};
	rd_kafka_t *rk = client_new(o, RD_KAFKA_CONSUMER, defaults,
				    sizeof(defaults) / sizeof(*defaults));
	uint64_t msgs = 0, bytes = 0, passes = 0;
	int64_t t0 = 0, deadline = 0, end, *first;
	int parts = partitions_of(rk, o->topic);
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, o->topic, NULL);

	first = malloc((size_t)parts * sizeof(*first));
	if (!first)
		return 1;
	for (int p = 0; p < parts; p++)
		first[p] = -1;
	rd_kafka_poll_set_consumer(rk);
	assign_all(rk, o->topic, parts);
	for (;;) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		int64_t now = now_ns();
		int32_t p;

		if (t0 && now >= deadline) {
			if (m)
				rd_kafka_message_destroy(m);
			break;
		}
		if (!m)
			continue;
		p = m->partition;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			/* This partition read to its end: from its first
			 * offset again, while the others go on. */
			if (p >= 0 && p < parts && first[p] >= 0) {
				rd_kafka_seek(rkt, p, first[p], 0);
				passes++;
			}
		} else if (m->err) {
			fprintf(stderr, "kbench: consume: %s\n",
				rd_kafka_message_errstr(m));
			st.errors++;
		} else {
			if (p >= 0 && p < parts && first[p] < 0)
				first[p] = m->offset;
			/* The clock starts at the first message: connection
			 * and ListOffsets are warm-up. */
			if (!t0) {
				t0 = now;
				deadline = t0 + (int64_t)(o->secs * 1e9);
			} else {
				msgs++;
				bytes += m->len;
			}
		}
		rd_kafka_message_destroy(m);
	}
	end = now_ns();
	print_result("consume", o, msgs, bytes, (double)(end - t0) / 1e9);
	fprintf(stderr, "kbench: %" PRIu64 " partitions read to the end\n",
		passes);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	free(first);
	return st.errors || msgs == 0 ? 1 : 0;
}

/* Every partition gets the same share, round robin: a topic the consumer
 * workload can read from end to end. */
static int run_fill(const struct opts *o)
{
	static const char *const defaults[][2] = {
		{"acks", "1"},
		{"linger.ms", "5"},
		{"batch.size", "1000000"},
		{"queue.buffering.max.kbytes", "65536"},
	};
	rd_kafka_t *rk = client_new(o, RD_KAFKA_PRODUCER, defaults,
				    sizeof(defaults) / sizeof(*defaults));
	int parts = partitions_of(rk, o->topic);
	char *payload = malloc(o->size);
	uint64_t sent = 0, i = 0;

	if (!payload)
		return 1;
	memset(payload, 'f', o->size);
	while (sent < o->bytes) {
		if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(o->topic),
				      RD_KAFKA_V_PARTITION(
					      (int32_t)(i % (uint64_t)parts)),
				      RD_KAFKA_V_VALUE(payload, o->size),
				      RD_KAFKA_V_END)) {
			rd_kafka_poll(rk, 1);
			continue;
		}
		i++;
		sent += o->size;
	}
	rd_kafka_flush(rk, 60000);
	print_result("fill", o, st.acked, st.acked_bytes, 1);
	rd_kafka_destroy(rk);
	free(payload);
	return st.errors || st.acked_bytes < o->bytes ? 1 : 0;
}

static int run_meta(const struct opts *o)
{
	rd_kafka_t *rk = client_new(o, RD_KAFKA_PRODUCER, NULL, 0);
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, 10000);

	if (err) {
		fprintf(stderr, "kbench: metadata: %s\n",
			rd_kafka_err2str(err));
		return 1;
	}
	printf("LIBRDKAFKA %s\n", rd_kafka_version_str());
	for (int i = 0; i < md->broker_cnt; i++)
		printf("BROKER %d %s:%d\n", md->brokers[i].id,
		       md->brokers[i].host, md->brokers[i].port);
	for (int i = 0; i < md->topic_cnt; i++)
		for (int p = 0; p < md->topics[i].partition_cnt; p++)
			printf("PARTITION %s %d leader %d\n",
			       md->topics[i].topic,
			       md->topics[i].partitions[p].id,
			       md->topics[i].partitions[p].leader);
	rd_kafka_metadata_destroy(md);
	rd_kafka_destroy(rk);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;

	signal(SIGPIPE, SIG_IGN);
	parse(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(o.mode, "produce") == 0)
		return run_produce(&o);
	if (strcmp(o.mode, "latency") == 0)
		return run_latency(&o);
	if (strcmp(o.mode, "consume") == 0)
		return run_consume(&o);
	if (strcmp(o.mode, "fill") == 0)
		return run_fill(&o);
	if (strcmp(o.mode, "meta") == 0)
		return run_meta(&o);
	usage();
	return 2;
}
