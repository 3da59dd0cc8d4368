/*
 * replay: runs a fuzz target's LLVMFuzzerTestOneInput over saved inputs
 * without libFuzzer, so any compiler builds it and `make check` replays
 * the committed corpus and regressions. Also the stdin driver for AFL++.
 *
 *   replay_NAME                 $top_srcdir/tests/fuzz/corpus/NAME and
 *                               .../regressions/NAME (the make check test)
 *   replay_NAME PATH...         every file in each directory, or the file
 *   replay_NAME -               one input from stdin, in-process (AFL++)
 * Files run one per child process: each failure is named, the rest run.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz_common.h"

#ifndef FUZZ_NAME
#error "build with -DFUZZ_NAME='\"target\"'"
#endif

static int run_stream(FILE *f, const char *what)
{
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap), *exact;

	if (!buf)
		return -1;
	for (;;) {
		size_t n;

		if (len == cap) {
			uint8_t *p = realloc(buf, cap * 2);

			if (!p) {
				free(buf);
				return -1;
			}
			buf = p;
			cap *= 2;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "replay_%s: %s: read error\n", FUZZ_NAME, what);
		free(buf);
		return -1;
	}
	/* An exactly sized copy, so ASan sees a read past the input. */
	exact = malloc(len ? len : 1);
	if (!exact) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

/* Each file runs in a child, so that one failing input (an abort, a
 * sanitizer report, a leak found at the child's exit) is reported with its
 * name and the others still run. */
static int run_file(const char *path)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "replay_%s: fork: %s\n", FUZZ_NAME,
			strerror(errno));
		return -1;
	}
	if (pid == 0) {
		FILE *f = fopen(path, "rb");

		if (!f) {
			fprintf(stderr, "replay_%s: %s: %s\n", FUZZ_NAME, path,
				strerror(errno));
			exit(1);
		}
		exit(run_stream(f, path) < 0 ? 1 : 0);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFSIGNALED(st))
		fprintf(stderr, "FAIL: replay_%s: %s: signal %d\n", FUZZ_NAME,
			path, WTERMSIG(st));
	else
		fprintf(stderr, "FAIL: replay_%s: %s: exit %d\n", FUZZ_NAME,
			path, WEXITSTATUS(st));
	return -1;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Inputs run and inputs that failed, over the whole replay. */
static long n_run, n_failed;

static void run_one(const char *path)
{
	n_run++;
	if (run_file(path) < 0)
		n_failed++;
}

/* Every regular file in dir, in name order, skipping dot files and
 * README*. Returns how many it found, or -1 when dir cannot be read. */
static long run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	long found = 0;

	if (!d) {
		fprintf(stderr, "replay_%s: %s: %s\n", FUZZ_NAME, dir,
			strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || !strncmp(e->d_name, "README", 6))
			continue;
		if (n == cap) {
			char **p = realloc(names, (cap ? cap * 2 : 64) *
							  sizeof(*names));

			if (!p)
				break;
			names = p;
			cap = cap ? cap * 2 : 64;
		}
		names[n] = strdup(e->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			run_one(path);
			found++;
		}
		free(names[i]);
	}
	free(names);
	return found;
}

int main(int argc, char **argv)
{
	const char *src = getenv("top_srcdir");
	char corpus[4096], regress[4096];
	struct stat st;
	long n;

	/* replay_NAME -: one input from stdin, in this process (AFL++). */
	if (argc == 2 && !strcmp(argv[1], "-"))
		return run_stream(stdin, "stdin") < 0 ? 1 : 0;
	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			if (stat(argv[i], &st) != 0) {
				fprintf(stderr, "replay_%s: %s: %s\n",
					FUZZ_NAME, argv[i], strerror(errno));
				n_failed++;
			} else if (S_ISDIR(st.st_mode)) {
				if (run_dir(argv[i]) < 0)
					n_failed++;
			} else {
				run_one(argv[i]);
			}
		}
		fprintf(stderr, "replay_%s: %ld inputs, %ld failed\n",
			FUZZ_NAME, n_run, n_failed);
		return n_failed ? 1 : 0;
	}
	/* No arguments: the make check test. */
	if (!src || !*src)
		src = ".";
	snprintf(corpus, sizeof(corpus), "%s/tests/fuzz/corpus/%s", src,
		 FUZZ_NAME);
	snprintf(regress, sizeof(regress), "%s/tests/fuzz/regressions/%s", src,
		 FUZZ_NAME);
	n = run_dir(corpus);
	if (n <= 0) {
		fprintf(stderr, "FAIL: replay_%s: no corpus in %s\n", FUZZ_NAME,
			corpus);
		return 1;
	}
	/* Regressions are optional: a target may never have failed. */
	if (stat(regress, &st) == 0 && run_dir(regress) < 0)
		n_failed++;
	printf("%s: replay_%s: %ld inputs (corpus %ld, regressions %ld), "
	       "%ld failed\n",
	       n_failed ? "FAIL" : "PASS", FUZZ_NAME, n_run, n, n_run - n,
	       n_failed);
	return n_failed ? 1 : 0;
}
