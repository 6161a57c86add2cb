// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Least privilege: keeping only the capabilities still used (caps.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <sys/capability.h>

#include "caps.h"

static uint64_t get_set(cap_flag_t which)
{
	cap_t c = cap_get_proc();
	uint64_t set = 0;

	if (!c)
		return 0;
	for (cap_value_t v = 0; v < 64 && v <= CAP_LAST_CAP; v++) {
		cap_flag_value_t on = CAP_CLEAR;

		if (!cap_get_flag(c, v, which, &on) && on == CAP_SET)
			set |= PG_CAP(v);
	}
	cap_free(c);
	return set;
}

uint64_t pg_caps__effective(void)
{
	return get_set(CAP_EFFECTIVE);
}

uint64_t pg_caps__permitted(void)
{
	return get_set(CAP_PERMITTED);
}

/* Set this thread's effective and permitted sets to exactly these, inheritable empty. */
static int set_exactly(uint64_t effective, uint64_t permitted)
{
	cap_t c = cap_init(); /* all clear */
	int rc = 0;

	if (!c)
		return -errno;
	for (cap_value_t v = 0; v < 64 && v <= CAP_LAST_CAP; v++) {
		if (permitted & PG_CAP(v))
			rc |= cap_set_flag(c, CAP_PERMITTED, 1, &v, CAP_SET);
		if (effective & PG_CAP(v))
			rc |= cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_SET);
	}
	if (rc || cap_set_proc(c))
		rc = errno ? -errno : -EINVAL;
	cap_free(c);
	return rc;
}

int pg_caps__limit(uint64_t keep, char *err, size_t errlen)
{
	uint64_t have = pg_caps__permitted(), kept = keep & have;
	int rc;

	/* nothing executed from now on gets capabilities, even as root (execve caps them) */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		rc = -errno;
		snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
		return rc;
	}
	/* the bounding set limits only what an exec could gain: empty it where CAP_SETPCAP can */
	if (have & PG_CAP(CAP_SETPCAP)) {
		for (cap_value_t v = 0; v <= CAP_LAST_CAP; v++)
			if (cap_get_bound(v) == 1)
				cap_drop_bound(v);
	}
	if (cap_reset_ambient() && errno != EINVAL) {
		rc = -errno;
		snprintf(err, errlen, "cannot clear the ambient capabilities: %s", strerror(errno));
		return rc;
	}
	rc = set_exactly(kept, kept);
	if (rc) {
		snprintf(err, errlen, "cannot drop capabilities: %s", strerror(-rc));
		return rc;
	}
	if (pg_caps__permitted() != kept) {
		snprintf(err, errlen, "capabilities still held after dropping them");
		return -EPERM;
	}
	return 0;
}

void pg_caps__drop_thread(void)
{
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	cap_reset_ambient();
	set_exactly(0, 0);
}

bool pg_caps__bpf_calls_need_cap(void)
{
	uint64_t eff = pg_caps__effective(), perm = pg_caps__permitted();
	uint64_t priv = PG_CAP(CAP_BPF) | PG_CAP(CAP_SYS_ADMIN);
	union bpf_attr attr;
	long rc;
	int e;

	if (!(eff & priv))
		return false;
	if (set_exactly(eff & ~priv, perm))
		return true; /* cannot tell: keep it */
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (__u32)-1; /* no map: EBADF, unless the kernel refused the call first */
	rc = syscall(SYS_bpf, BPF_MAP_GET_NEXT_KEY, &attr, sizeof(attr));
	e = errno;
	set_exactly(eff, perm);
	return rc < 0 && e == EPERM;
}

void pg_caps__names(uint64_t set, char *out, size_t len)
{
	size_t n = 0;

	out[0] = 0;
	for (cap_value_t v = 0; v < 64 && v <= CAP_LAST_CAP && n < len; v++) {
		char *name;

		if (!(set & PG_CAP(v)) || !(name = cap_to_name(v)))
			continue;
		n += (size_t)snprintf(out + n, len - n, "%s", n ? ", " : "");
		for (char *p = name; *p && n + 1 < len; p++)
			out[n++] = (char)toupper((unsigned char)*p);
		out[n < len ? n : len - 1] = 0;
		cap_free(name);
	}
	if (!n)
		snprintf(out, len, "none");
}
