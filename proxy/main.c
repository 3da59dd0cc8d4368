/*
 * kafka-conntrace: a Kafka-aware TCP proxy that traces every client
 * connection to a JSON record. main() only parses the configuration and
 * runs the proxy; everything else is in the library the tests link.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "proxy.h"
#include "report.h"

int main(int argc, char **argv)
{
	struct kc_config cfg;
	struct rules_config rules_cfg;
	struct proxy *px;
	char err[1024] = "";
	int rc;

	signal(SIGPIPE, SIG_IGN);
	/* The relay reads up to 256 KiB at a time into fresh buffer chains:
	 * keep them on the heap rather than one mmap each, and keep the freed
	 * top of the heap for the next ones rather than give it back and
	 * fault in new zeroed pages for every chunk forwarded. */
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
	if (argc > 1 && !strcmp(argv[1], "report"))
		return report_main(argc - 1, argv + 1);
	rc = kc_config_from_args(&cfg, argc, argv, err, sizeof(err));
	if (rc == 1)
		return 0;
	if (rc < 0) {
		fprintf(stderr, "kafka-conntrace: %s\n", err);
		fprintf(stderr, "Try 'kafka-conntrace --help'.\n");
		return 2;
	}
	if (proxy_check_config(&cfg, &rules_cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "kafka-conntrace: %s\n", err);
		kc_config_release(&cfg);
		return 2;
	}
	px = proxy_new(&cfg, argc, argv, err, sizeof(err));
	if (!px) {
		fprintf(stderr, "kafka-conntrace: %s\n", err);
		return 1;
	}
	rc = proxy_run(px);
	proxy_free(px);
	return rc;
}
