/*
 * fuzz_config: the configuration file parser on arbitrary file contents.
 * Each input is written to one scratch file (on /dev/shm when there is
 * one) and loaded with kc_config_load_file, then validated, then run
 * through the whole start-up sequence (kc_config_from_args --config).
 * Errors must name the file; nothing may leak (LeakSanitizer checks).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz_common.h"

static char path[256];
static int fd = -1;

static void cleanup(void)
{
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
}

static void scratch_open(void)
{
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NULL;

	if (!dir)
		dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	snprintf(path, sizeof(path), "%s/fuzz_config.XXXXXX", dir);
	fd = mkstemp(path);
	FZ_CHECK(fd >= 0, "cannot create a scratch file in %s", dir);
	atexit(cleanup);
}

static void scratch_write(const uint8_t *data, size_t size)
{
	size_t done = 0;

	FZ_CHECK(ftruncate(fd, 0) == 0, "ftruncate");
	while (done < size) {
		ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);

		FZ_CHECK(n > 0, "pwrite");
		done += (size_t)n;
	}
}

/* 1 when FUZZ_CONFIG_RAW_OK is set: skip the one-printable-line check,
 * to fuzz on past a known failure of it until it is fixed. */
static int raw_ok(void)
{
	static int v = -1;

	if (v < 0)
		v = getenv("FUZZ_CONFIG_RAW_OK") != NULL;
	return v;
}

/* A message is one line that names the file first, with the file's bytes
 * escaped (quote() in config.c): no newline or other control character
 * from the input may reach stderr or the journal. */
static void check_msg(const char *err, size_t cap, int names_file)
{
	size_t len = strnlen(err, cap);
	size_t plen = strlen(path);

	FZ_CHECK(len < cap, "error message not terminated");
	FZ_CHECK(len > 0, "failed without a message");
	if (names_file)
		FZ_CHECK(strncmp(err, path, plen) == 0 && err[plen] == ':',
			 "message does not start with the file: %s", err);
	if (raw_ok())
		return;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)err[i];

		FZ_CHECK(ch >= 0x20 && ch != 0x7f,
			 "raw control character %#x at %zu in the message: %s",
			 ch, i, err);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_config c;
	char err[512];
	char *argv[] = {"kafka-conntrace", "--config", path, NULL};
	int rc;

	if (size > 1 << 20)
		return 0;
	if (fd < 0)
		scratch_open();
	scratch_write(data, size);

	kc_config_defaults(&c);
	memset(err, 0x55, sizeof(err));
	err[sizeof(err) - 1] = '\0';
	err[0] = '\0';
	if (kc_config_load_file(&c, path, err, sizeof(err)) != 0) {
		check_msg(err, sizeof(err), 1);
	} else {
		err[0] = '\0';
		if (kc_config_validate(&c, err, sizeof(err)) != 0)
			check_msg(err, sizeof(err), 0);
	}
	kc_config_release(&c);
	kc_config_release(&c); /* documented as safe more than once */

	/* The whole start-up sequence over the same file. */
	err[0] = '\0';
	rc = kc_config_from_args(&c, 3, argv, err, sizeof(err));
	FZ_CHECK(rc == 0 || rc == -1, "kc_config_from_args gave %d", rc);
	if (rc == 0) {
		FZ_CHECK(c.listen.host[0] != '\0' && c.listen.port != 0 &&
				 c.n_upstreams > 0 &&
				 c.n_upstreams <= KC_MAX_UPSTREAMS,
			 "accepted without listen/upstream");
		FZ_CHECK(c.advertised_host[0] != '\0' &&
				 c.broker_bind[0] != '\0',
			 "advertised_host/broker_bind not filled");
		FZ_CHECK(c.buffer_low < c.buffer_high &&
				 c.max_rewrite_frame <= c.max_frame,
			 "accepted an invalid combination");
		FZ_CHECK(strnlen(c.event_log, sizeof(c.event_log)) <
				 sizeof(c.event_log),
			 "event_log not terminated");
		kc_config_release(&c);
	} else {
		check_msg(err, sizeof(err), 0);
	}
	return 0;
}
