// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_util.h"

#define TRACEFS "/sys/kernel/tracing"
#define CAP_NET_ADMIN_BIT 12
#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39

static int print_warn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int print_all(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return vfprintf(stderr, fmt, ap);
}

void pg_bpf_setup_logging(bool verbose)
{
	libbpf_set_print(verbose ? print_all : print_warn);
}

unsigned long long pg_cap_effective(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long caps = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

int pg_tracefs_ensure(char *msg, size_t len)
{
	struct stat st;

	if (stat(TRACEFS "/events", &st) == 0)
		return 0;
	if (errno == EACCES) {
		/* mounted, root's only (0700): a user other than root needs to search it */
		snprintf(msg, len, "cannot read tracefs at " TRACEFS " (%s): run as root, or grant "
			 "CAP_DAC_READ_SEARCH", strerror(errno));
		return -EACCES;
	}
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL) == 0 && stat(TRACEFS "/events", &st) == 0)
		return 0;
	int err = -errno;

	snprintf(msg, len,
		 "tracefs is not mounted at " TRACEFS " and mounting it failed (%s): run 'mount -t tracefs nodev " TRACEFS "'",
		 strerror(errno));
	return err ? err : -ENOENT;
}

bool pg_tracepoint_exists(const char *category, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), TRACEFS "/events/%s/%s/id", category, name);
	/* with the effective ids and capabilities (access(2) takes the real ones: a non-root
	 * user granted CAP_DAC_READ_SEARCH would find no tracepoint at all) */
	return faccessat(AT_FDCWD, path, F_OK, AT_EACCESS) == 0;
}

int pg_bpf_preflight(char *msg, size_t len)
{
	unsigned long long caps = pg_cap_effective();
	bool admin = caps & (1ULL << CAP_SYS_ADMIN_BIT);
	bool bpf = caps & (1ULL << CAP_BPF_BIT);
	bool perfmon = caps & (1ULL << CAP_PERFMON_BIT);

	if (!admin && !(bpf && perfmon)) {
		snprintf(msg, len,
			 "not enough privilege to load BPF: run as root, or grant CAP_BPF and CAP_PERFMON (missing:%s%s)",
			 bpf ? "" : " CAP_BPF", perfmon ? "" : " CAP_PERFMON");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(msg, len,
			 "cannot load: kernel lacks BTF (/sys/kernel/btf/vmlinux); use a kernel built with CONFIG_DEBUG_INFO_BTF=y");
		return -ENOENT;
	}
	return pg_tracefs_ensure(msg, len);
}

int pg_bpf_preflight_cgroup_hooks(char *msg, size_t len)
{
	unsigned long long caps = pg_cap_effective();

	if (caps & ((1ULL << CAP_NET_ADMIN_BIT) | (1ULL << CAP_SYS_ADMIN_BIT)))
		return 0;
	snprintf(msg, len,
		 "--policy: connects and DNS queries are refused from cgroup socket hooks, which "
		 "take CAP_NET_ADMIN to load and attach (missing: CAP_NET_ADMIN): grant it too, or "
		 "run as root");
	return -EPERM;
}

int pg_bpf_percpu_sum(int map_fd, uint32_t nkeys, size_t lanes, uint64_t *out)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *vals;

	if (ncpus < 1)
		ncpus = 1;
	memset(out, 0, (size_t)nkeys * lanes * sizeof(*out));
	vals = calloc((size_t)ncpus * lanes, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t k = 0; k < nkeys; k++) {
		if (bpf_map_lookup_elem(map_fd, &k, vals))
			continue;
		for (int c = 0; c < ncpus; c++)
			for (size_t l = 0; l < lanes; l++)
				out[k * lanes + l] += vals[(size_t)c * lanes + l];
	}
	free(vals);
	return 0;
}

/* Is name among the active LSMs? 1 yes, 0 no, -1 unknown (securityfs not mounted). */
int pg_lsm_active(const char *name)
{
	FILE *f = fopen("/sys/kernel/security/lsm", "re");
	char list[512], *tok, *save = NULL;
	int found = 0;

	if (!f)
		return -1;
	if (!fgets(list, sizeof(list), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	for (tok = strtok_r(list, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save))
		if (!strcmp(tok, name))
			found = 1;
	return found;
}
