/*
 * mock_cluster - keep librdkafka's in-process mock Kafka cluster (2.0.x API) up
 * as a broker for OTHER processes: tests and demos point real clients and the
 * proxy at it. Writes the bootstrap list to a file (readiness signal) and runs
 * until SIGTERM or SIGINT.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_TOPICS 64
#define MAX_BROKERS 64
#define DEFAULT_PARTITIONS 4

struct topic_spec {
	const char *name;
	int partitions;
};

struct options {
	int brokers;
	const char *bootstrap_file;
	struct topic_spec topics[MAX_TOPICS];
	int topic_count;
};

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-b BROKERS] [-f FILE] [-t TOPIC[:PARTITIONS]]...\n"
		"  -b BROKERS  number of mock brokers, 1..%d (default 3); ids 1..N,\n"
		"              127.0.0.1, random ports\n"
		"  -f FILE     write the bootstrap list \"127.0.0.1:p1,...\" (ordered by\n"
		"              broker id) to FILE via FILE.tmp + rename, once ready\n"
		"  -t TOPIC[:PARTITIONS]\n"
		"              create TOPIC (default %d partitions); repeatable, max %d\n"
		"Prints \"BOOTSTRAP <list>\" on stdout and runs until SIGTERM/SIGINT.\n",
		prog, MAX_BROKERS, DEFAULT_PARTITIONS, MAX_TOPICS);
}

/* Parses a decimal int in [lo, hi]; returns -1 (and leaves *out) if invalid. */
static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

/* Splits "name[:partitions]" in place into spec; returns -1 if malformed. */
static int parse_topic(char *arg, struct topic_spec *spec)
{
	char *colon = strrchr(arg, ':');

	spec->partitions = DEFAULT_PARTITIONS;
	if (colon != NULL) {
		*colon = '\0';
		if (parse_int(colon + 1, 1, 100000, &spec->partitions) != 0)
			return -1;
	}
	if (*arg == '\0')
		return -1;
	spec->name = arg;
	return 0;
}

static int parse_args(int argc, char **argv, struct options *opt)
{
	int i;

	memset(opt, 0, sizeof(*opt));
	opt->brokers = 3;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(argv[0]);
			exit(0);
		}
		if (strcmp(a, "-b") != 0 && strcmp(a, "-f") != 0 &&
		    strcmp(a, "-t") != 0) {
			fprintf(stderr, "%s: unknown option '%s'\n", argv[0], a);
			return -1;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "%s: %s needs a value\n", argv[0], a);
			return -1;
		}
		if (strcmp(a, "-b") == 0) {
			if (parse_int(argv[++i], 1, MAX_BROKERS, &opt->brokers) != 0) {
				fprintf(stderr, "%s: bad broker count '%s'\n",
					argv[0], argv[i]);
				return -1;
			}
		} else if (strcmp(a, "-f") == 0) {
			opt->bootstrap_file = argv[++i];
			if (*opt->bootstrap_file == '\0') {
				fprintf(stderr, "%s: empty file name\n", argv[0]);
				return -1;
			}
		} else if (strcmp(a, "-t") == 0) {
			if (opt->topic_count >= MAX_TOPICS) {
				fprintf(stderr, "%s: too many topics (max %d)\n",
					argv[0], MAX_TOPICS);
				return -1;
			}
			if (parse_topic(argv[++i],
					&opt->topics[opt->topic_count]) != 0) {
				fprintf(stderr, "%s: bad topic spec '%s'\n",
					argv[0], argv[i]);
				return -1;
			}
			opt->topic_count++;
		}
	}
	return 0;
}

/* Writes "list\n" to path.tmp, then renames it to path (atomic for waiters). */
static int write_bootstrap_file(const char *path, const char *list)
{
	char tmp[PATH_MAX];
	FILE *f;
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		fprintf(stderr, "mock_cluster: path too long: %s\n", path);
		return -1;
	}
	f = fopen(tmp, "w");
	if (f == NULL) {
		fprintf(stderr, "mock_cluster: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	if (fprintf(f, "%s\n", list) < 0 || fflush(f) != 0) {
		fprintf(stderr, "mock_cluster: write %s: %s\n", tmp,
			strerror(errno));
		fclose(f);
		remove(tmp);
		return -1;
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "mock_cluster: close %s: %s\n", tmp,
			strerror(errno));
		remove(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		fprintf(stderr, "mock_cluster: rename %s -> %s: %s\n", tmp, path,
			strerror(errno));
		remove(tmp);
		return -1;
	}
	return 0;
}

/*
 * The mock keeps its brokers in creation order (ids 1..N), and so does the
 * list it returns; check that there is one entry per broker.
 */
static int check_bootstraps(const char *list, int brokers)
{
	int entries = 1;
	const char *p;

	if (list == NULL || *list == '\0')
		return -1;
	for (p = list; *p != '\0'; p++)
		if (*p == ',')
			entries++;
	return entries == brokers ? 0 : -1;
}

static int create_topics(rd_kafka_mock_cluster_t *mc, const struct options *opt)
{
	int rf = opt->brokers < 3 ? opt->brokers : 3;
	int i;

	for (i = 0; i < opt->topic_count; i++) {
		const struct topic_spec *t = &opt->topics[i];
		rd_kafka_resp_err_t err;

		err = rd_kafka_mock_topic_create(mc, t->name, t->partitions, rf);
		if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			fprintf(stderr, "mock_cluster: create topic %s: %s\n",
				t->name, rd_kafka_err2str(err));
			return -1;
		}
		fprintf(stderr, "mock_cluster: topic %s: %d partitions, rf %d\n",
			t->name, t->partitions, rf);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options opt;
	char errstr[512];
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;
	const char *list;
	sigset_t sigs;
	int sig = 0;
	int rc = 1;

	if (parse_args(argc, argv, &opt) != 0) {
		usage(argv[0]);
		return 2;
	}

	/* Block before librdkafka starts its threads: they inherit the mask,
	 * so only sigwait() below sees SIGTERM/SIGINT. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0) {
		fprintf(stderr, "mock_cluster: pthread_sigmask failed\n");
		return 1;
	}

	conf = rd_kafka_conf_new();
	/* The host handle never connects anywhere: log_level 4 hides its
	 * "no bootstrap.servers" notice. */
	if (rd_kafka_conf_set(conf, "client.id", "mock-cluster-host", errstr,
			      sizeof(errstr)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "log_level", "4", errstr,
			      sizeof(errstr)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "mock_cluster: conf: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (rk == NULL) {
		fprintf(stderr, "mock_cluster: rd_kafka_new: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return 1;
	}

	mc = rd_kafka_mock_cluster_new(rk, opt.brokers);
	if (mc == NULL) {
		fprintf(stderr, "mock_cluster: could not create %d brokers\n",
			opt.brokers);
		goto out_rk;
	}
	list = rd_kafka_mock_cluster_bootstraps(mc);
	if (check_bootstraps(list, opt.brokers) != 0) {
		fprintf(stderr, "mock_cluster: unexpected bootstrap list '%s'\n",
			list ? list : "(null)");
		goto out_mc;
	}
	if (create_topics(mc, &opt) != 0)
		goto out_mc;
	if (opt.bootstrap_file != NULL &&
	    write_bootstrap_file(opt.bootstrap_file, list) != 0)
		goto out_mc;

	printf("BOOTSTRAP %s\n", list);
	fflush(stdout);
	fprintf(stderr, "mock_cluster: %d brokers up, pid %ld\n", opt.brokers,
		(long)getpid());

	if (sigwait(&sigs, &sig) != 0) {
		fprintf(stderr, "mock_cluster: sigwait failed\n");
		goto out_mc;
	}
	fprintf(stderr, "mock_cluster: stopping on signal %d\n", sig);
	rc = 0;

out_mc:
	rd_kafka_mock_cluster_destroy(mc);
out_rk:
	rd_kafka_destroy(rk);
	return rc;
}
