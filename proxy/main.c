/*
 * kafka-conntrace: a Kafka-aware TCP proxy that traces every client
 * connection to a JSON record. main() only parses the configuration and
 * runs the proxy; everything else is in the library the tests link.
 */
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
