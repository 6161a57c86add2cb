// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Installing policies into the kernel's maps: two banks, one index (enforce.h, bpf/sensor.h).
 *
 * A reload fills the bank not in force, flips pol_bank[0], then waits for an RCU grace period
 * (membarrier MEMBARRIER_CMD_GLOBAL is synchronize_rcu()): every BPF program runs inside an
 * RCU read-side section, so once it returns no program is still deciding with the old bank,
 * and the old bank can be counted and cleared. No event is decided by half of each set, none
 * waits, none is decided twice.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bpf_util.h"
#include "enforce.h"
#include "enrich.h"

/* What one bank holds, to count and clear it when it is retired. */
struct bank {
	struct pg_pol_key *hkeys;
	size_t nh;
	struct pg_pol_lpm_key *lkeys;
	size_t nl;
	uint32_t *verdicts[PG_POL_KTYPES]; /* per bit: PG_VERDICT(slot, action) */
	size_t nbits[PG_POL_KTYPES];
};

struct pg_enforce {
	struct pg_enforce_maps m;
	uint32_t active;
	struct bank banks[2];
	uint64_t (*totals)[PG_ACT_COUNT]; /* by slot: the retired banks' decisions */
	uint32_t ntotals;
};

struct pg_enforce *pg_enforce__new(const struct pg_enforce_maps *maps)
{
	struct pg_enforce *e = calloc(1, sizeof(*e));

	if (e)
		e->m = *maps;
	return e;
}

static void bank_release(struct bank *b)
{
	free(b->hkeys);
	free(b->lkeys);
	for (int k = 0; k < PG_POL_KTYPES; k++)
		free(b->verdicts[k]);
	memset(b, 0, sizeof(*b));
}

void pg_enforce__free(struct pg_enforce *e)
{
	if (!e)
		return;
	bank_release(&e->banks[0]);
	bank_release(&e->banks[1]);
	free(e->totals);
	free(e);
}

static uint32_t rule_index(uint32_t bank, int k, size_t bit)
{
	return (bank * PG_POL_KTYPES + (uint32_t)k) * PG_POL_RULES + (uint32_t)bit;
}

static int add_total(struct pg_enforce *e, uint32_t verdict, uint64_t n)
{
	int slot = PG_VERDICT_SLOT(verdict);
	unsigned int act = PG_VERDICT_ACTION(verdict);

	if (slot < 0 || act >= PG_ACT_COUNT || !n)
		return 0;
	if ((uint32_t)slot >= e->ntotals) {
		uint32_t nn = (uint32_t)slot + 64;
		uint64_t(*nt)[PG_ACT_COUNT] = realloc(e->totals, nn * sizeof(*nt));

		if (!nt)
			return -ENOMEM;
		memset(nt + e->ntotals, 0, (nn - e->ntotals) * sizeof(*nt));
		e->totals = nt;
		e->ntotals = nn;
	}
	e->totals[slot][act] += n;
	return 0;
}

/* Take bank b out: its counts into the totals, its entries out of the maps. */
static void bank_clear(struct pg_enforce *e, uint32_t b)
{
	struct bank *bk = &e->banks[b];
	struct pg_pol_cfg zero_cfg;
	uint64_t zero = 0;

	memset(&zero_cfg, 0, sizeof(zero_cfg));
	for (int k = 0; k < PG_POL_KTYPES; k++) {
		uint32_t idx = b * PG_POL_KTYPES + (uint32_t)k;

		bpf_map_update_elem(e->m.cfg, &idx, &zero_cfg, BPF_ANY);
		for (size_t bit = 0; bit < bk->nbits[k]; bit++) {
			uint32_t ri = rule_index(b, k, bit);
			uint64_t n = 0;

			if (!bpf_map_lookup_elem(e->m.hits, &ri, &n))
				add_total(e, bk->verdicts[k][bit], n);
			bpf_map_update_elem(e->m.hits, &ri, &zero, BPF_ANY);
		}
	}
	for (size_t i = 0; i < bk->nh; i++)
		bpf_map_delete_elem(e->m.hash, &bk->hkeys[i]);
	for (size_t i = 0; i < bk->nl; i++)
		bpf_map_delete_elem(e->m.lpm, &bk->lkeys[i]);
	bank_release(bk);
}

/* Wait until no BPF program can still be running with what it read before now. */
static void wait_for_readers(void)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
		return;
	/* nohz_full kernels refuse MEMBARRIER_CMD_GLOBAL: a program runs for microseconds */
	nanosleep(&ts, NULL);
}

/* The plan's entries into bank b (empty before), each recorded so it can be taken out. */
static int bank_fill(struct pg_enforce *e, uint32_t b, const struct pg_policy_plan *pl, char *err,
		     size_t errlen)
{
	struct bank *bk = &e->banks[b];
	int rc = 0;

	bk->hkeys = calloc(pl->nh + 1, sizeof(*bk->hkeys));
	bk->lkeys = calloc(pl->nl + 1, sizeof(*bk->lkeys));
	if (!bk->hkeys || !bk->lkeys)
		return -ENOMEM;
	for (size_t i = 0; i < pl->nh; i++) {
		struct pg_pol_key k = pl->h[i].key;

		k.bank = (__u8)b;
		if (bpf_map_update_elem(e->m.hash, &k, &pl->h[i].bits, BPF_ANY)) {
			rc = -errno;
			snprintf(err, errlen,
				 "cannot fill the kernel's policy map (%zu entries): %s", pl->nh,
				 strerror(errno));
			return rc;
		}
		bk->hkeys[bk->nh++] = k;
	}
	for (size_t i = 0; i < pl->nl; i++) {
		struct pg_pol_lpm_key k = pl->l[i].key;

		k.bank = (__u8)b;
		if (bpf_map_update_elem(e->m.lpm, &k, &pl->l[i].bits, BPF_ANY)) {
			rc = -errno;
			snprintf(err, errlen, "cannot fill the kernel's path map (%zu entries): %s",
				 pl->nl, strerror(errno));
			return rc;
		}
		bk->lkeys[bk->nl++] = k;
	}
	for (unsigned int t = 0; t < PG_POL_NTYPES; t++) {
		int k = pg_pol_kidx(t);

		if (k < 0 || !pl->nbits[t])
			continue;
		bk->verdicts[k] = calloc(pl->nbits[t], sizeof(uint32_t));
		if (!bk->verdicts[k])
			return -ENOMEM;
		bk->nbits[k] = pl->nbits[t];
		for (size_t bit = 0; bit < pl->nbits[t]; bit++) {
			uint32_t ri = rule_index(b, k, bit);
			uint64_t zero = 0;

			bk->verdicts[k][bit] = pl->rules[t][bit].verdict;
			if (bpf_map_update_elem(e->m.rules, &ri, &pl->rules[t][bit], BPF_ANY) ||
			    bpf_map_update_elem(e->m.hits, &ri, &zero, BPF_ANY)) {
				rc = -errno;
				snprintf(err, errlen, "cannot fill the kernel's rule map: %s",
					 strerror(errno));
				return rc;
			}
		}
	}
	/* the configurations last: until they say so, the bank has no rules to look up */
	for (unsigned int t = 0; t < PG_POL_NTYPES; t++) {
		int k = pg_pol_kidx(t);
		uint32_t idx;

		if (k < 0)
			continue;
		idx = b * PG_POL_KTYPES + (uint32_t)k;
		if (bpf_map_update_elem(e->m.cfg, &idx, &pl->cfg[t], BPF_ANY)) {
			rc = -errno;
			snprintf(err, errlen, "cannot fill the kernel's policy map: %s",
				 strerror(errno));
			return rc;
		}
	}
	return 0;
}

int pg_enforce__install(struct pg_enforce *e, const struct pg_policy_plan *plan, char *err,
			size_t errlen)
{
	uint32_t next = e->active ^ 1, zero = 0, old = e->active;
	int rc;

	rc = bank_fill(e, next, plan, err, errlen);
	if (rc) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		bank_clear(e, next);
		return rc;
	}
	if (bpf_map_update_elem(e->m.bank, &zero, &next, BPF_ANY)) {
		rc = -errno;
		snprintf(err, errlen, "cannot switch the kernel's policy bank: %s",
			 strerror(errno));
		bank_clear(e, next);
		return rc;
	}
	e->active = next;
	wait_for_readers();
	bank_clear(e, old);
	return 0;
}

void pg_enforce__hits(struct pg_enforce *e, uint32_t slot, uint64_t hits[PG_ACT_COUNT])
{
	const struct bank *bk = &e->banks[e->active];

	memset(hits, 0, PG_ACT_COUNT * sizeof(hits[0]));
	if (slot < e->ntotals)
		memcpy(hits, e->totals[slot], PG_ACT_COUNT * sizeof(hits[0]));
	for (int k = 0; k < PG_POL_KTYPES; k++) {
		for (size_t bit = 0; bit < bk->nbits[k]; bit++) {
			uint32_t v = bk->verdicts[k][bit], ri;
			uint64_t n = 0;

			if (PG_VERDICT_SLOT(v) != (int)slot)
				continue;
			ri = rule_index(e->active, k, bit);
			if (!bpf_map_lookup_elem(e->m.hits, &ri, &n))
				hits[PG_VERDICT_ACTION(v)] += n;
		}
	}
}

uint64_t pg_enforce__proc_lost(struct pg_enforce *e)
{
	uint64_t n = 0;

	pg_bpf_percpu_sum(e->m.proc_lost, 1, 1, &n);
	return n;
}

/* readlink into buf (size), NUL-terminated; its length with the NUL, 0 when unreadable. */
static size_t link_of(const char *path, char *buf, size_t size)
{
	ssize_t n = readlink(path, buf, size - 1);

	if (n <= 0)
		return 0;
	buf[n] = 0;
	return (size_t)n + 1;
}

static unsigned int ppid_of(const char *pid)
{
	char path[300], line[256];
	unsigned int ppid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	if (!(f = fopen(path, "re")))
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "PPid: %u", &ppid) == 1)
			break;
	fclose(f);
	return ppid;
}

int pg_enforce__fill_procs(struct pg_enforce *e)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	struct pg_pol_proc *v = calloc(1, sizeof(*v));
	int n = 0;

	if (!d || !v) {
		if (d)
			closedir(d);
		free(v);
		return -errno;
	}
	while ((de = readdir(d))) {
		char path[300];
		unsigned int ppid;
		uint32_t tgid;
		size_t len;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		tgid = (uint32_t)strtoul(de->d_name, NULL, 10);
		snprintf(path, sizeof(path), "/proc/%s/exe", de->d_name);
		memset(v, 0, sizeof(*v));
		if (!(len = link_of(path, v->exe, sizeof(v->exe))))
			continue; /* a kernel thread, or gone */
		v->exe_len = (__u16)len;
		ppid = ppid_of(de->d_name);
		snprintf(path, sizeof(path), "/proc/%u/exe", ppid);
		v->pexe_len = ppid ? (__u16)link_of(path, v->pexe, sizeof(v->pexe)) : 0;
		/* the kernel's entry wins: it saw an exec since */
		if (!bpf_map_update_elem(e->m.proc, &tgid, v, BPF_NOEXIST))
			n++;
	}
	closedir(d);
	free(v);
	return n;
}

/* A cgroup's path in the one form the kernel's depth is counted from: its depth, or -EINVAL. */
static int cgroup_depth(const char *path)
{
	int depth = 0;

	if (strstr(path, "//") || strstr(path, "/./") || strstr(path, "/../") ||
	    (strlen(path) > 1 && path[strlen(path) - 1] == '/'))
		return -EINVAL;
	for (const char *p = path; *p; p++)
		if (*p == '/' && p[1])
			depth++;
	return depth;
}

int pg_enforce__cgroup_lookup(void *ctx, const char *path, uint64_t *id, unsigned int *level)
{
	const char *mount = ctx;
	char full[4096];
	struct stat st;
	int depth = cgroup_depth(path);

	if (depth < 0)
		return depth;
	if (snprintf(full, sizeof(full), "%s%s", mount, path) >= (int)sizeof(full))
		return -ENAMETOOLONG;
	if (stat(full, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	*level = (unsigned int)depth;
	return 0;
}

int pg_enforce__cgroup_form(void *ctx, const char *path, uint64_t *id, unsigned int *level)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a: distinct paths, distinct stand-in ids */
	int depth = cgroup_depth(path);

	(void)ctx;
	if (depth < 0)
		return depth;
	for (const char *p = path; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	*id = h | 1;
	*level = (unsigned int)depth;
	return 0;
}

void pg_enforce__provisional_env(struct pg_policy_env *env, char *cgmount, size_t len,
				 bool cgroups_here)
{
	memset(env, 0, sizeof(*env));
	for (unsigned int t = 1; t < PG_EV_TYPE_COUNT; t++)
		env->mech[t] = PG_MECH_SIGNAL;
	if (!cgroups_here) {
		env->cgroup = pg_enforce__cgroup_form;
	} else if (!pg_cgroup2_mount(cgmount, len)) {
		env->cgroup = pg_enforce__cgroup_lookup;
		env->ctx = cgmount;
	}
}
