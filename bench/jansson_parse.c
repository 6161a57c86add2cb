// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The baseline for pangolin's hand-written NDJSON decoder: the same lines parsed by jansson
 * (json_loadb per line), optionally with the benchmark's filter evaluated on the result.
 * Prints "lines matched" so the driver can check it did the same work as pangolin and jq.
 *
 *   jansson_parse FILE [--filter]
 */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int str_is(json_t *o, const char *key, const char *want, int prefix)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	if (!json_is_string(v))
		return 0;
	s = json_string_value(v);
	return prefix ? !strncmp(s, want, strlen(want)) : !strcmp(s, want);
}

int main(int argc, char **argv)
{
	int filter = argc > 2 && !strcmp(argv[2], "--filter");
	unsigned long lines = 0, matched = 0, bad = 0;
	struct stat sb;
	const char *p, *end;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: jansson_parse FILE [--filter]\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &sb)) {
		perror(argv[1]);
		return 1;
	}
	p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	end = p + sb.st_size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_error_t err;
		json_t *o = json_loadb(p, len, JSON_REJECT_DUPLICATES, &err);

		lines++;
		if (!o) {
			bad++;
		} else {
			if (filter && str_is(o, "type", "open", 0) && str_is(o, "comm", "curl", 0) &&
			    str_is(o, "path", "/etc/", 1))
				matched++;
			json_decref(o);
		}
		p += len + 1;
	}
	printf("%lu lines, %lu matched, %lu refused\n", lines, matched, bad);
	return bad ? 1 : 0;
}
