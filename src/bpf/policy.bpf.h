/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel's half of enforcement (docs/enforce.md): the selector bitmaps of bpf/sensor.h
 * looked up for one event, the rule that decides it, and what is done about it. Included by
 * sensor.bpf.c after common.bpf.h.
 *
 * policy_on is fixed before load: without --policy every line here is dead code the verifier
 * drops, and the sensor's hot path is what it was (bench/README.md measures both).
 */
#ifndef PANGOLIN_POLICY_BPF_H
#define PANGOLIN_POLICY_BPF_H

const volatile bool policy_on = false;

#define POL_BANK_ENTRIES (2 * PG_POL_KTYPES)
#define POL_RULE_ENTRIES (2 * PG_POL_KTYPES * PG_POL_RULES)

/* pol_bank[0]: the bank in force (0 or 1); a reload flips it (sensor.h) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} pol_bank SEC(".maps");

/* per bank and type (pg_pol_kidx): what to look up */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, POL_BANK_ENTRIES);
	__type(key, __u32);
	__type(value, struct pg_pol_cfg);
} pol_cfg SEC(".maps");

/* per bank, type and bit: what the rule does, and how often it decided (userspace sums them
 * per rule; a bank's counts are read and cleared when a reload retires it) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, POL_RULE_ENTRIES);
	__type(key, __u32);
	__type(value, struct pg_pol_rule);
} pol_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, POL_RULE_ENTRIES);
	__type(key, __u32);
	__type(value, __u64);
} pol_hits SEC(".maps");

/* The selectors. Allocated as they are filled: a set of four rules costs four entries. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct pg_pol_key);
	__type(value, struct pg_pol_bits);
} pol_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct pg_pol_lpm_key);
	__type(value, struct pg_pol_bits);
} pol_lpm SEC(".maps");

/* tgid -> its binaries (sensor.h, struct pg_pol_proc) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct pg_pol_proc);
} pol_proc SEC(".maps");

/* Processes the table had no room for: their exe selectors cannot match (--stats says). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pol_proc_lost SEC(".maps");

/* A decision's working set, off the stack: the rules still in the running, the union of one
 * dimension's lookups, the keys. */
struct pol_scratch {
	__u64 acc[PG_POL_WORDS];
	struct pg_pol_bits merged;
	struct pg_pol_lpm_key lkey;
	struct pg_pol_key hkey;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pol_scratch);
} pol_scratch_map SEC(".maps");

#define POL_D(d) (1u << PG_DIM_##d)

static __always_inline __u32 pol_bank_now(void)
{
	__u32 zero = 0, *b = bpf_map_lookup_elem(&pol_bank, &zero);

	return b ? *b & 1 : 0;
}

/* The rules for type in the bank in force, NULL when there are none. */
static __always_inline struct pg_pol_cfg *pol_cfg_of(__u32 bank, __u32 type)
{
	int k = pg_pol_kidx(type);
	struct pg_pol_cfg *cfg;
	__u32 idx;

	if (k < 0)
		return NULL;
	idx = bank * PG_POL_KTYPES + (__u32)k;
	cfg = bpf_map_lookup_elem(&pol_cfg, &idx);
	return cfg && cfg->nwords ? cfg : NULL;
}

static __always_inline struct pol_scratch *pol_begin_in(struct pol_scratch *sc,
							const struct pg_pol_cfg *cfg)
{
	for (int w = 0; w < PG_POL_WORDS; w++)
		sc->acc[w] = cfg->live[w];
	return sc;
}

static __always_inline struct pol_scratch *pol_begin(const struct pg_pol_cfg *cfg)
{
	__u32 zero = 0;
	struct pol_scratch *sc = bpf_map_lookup_elem(&pol_scratch_map, &zero);

	return sc ? pol_begin_in(sc, cfg) : NULL;
}

/*
 * One dimension's answer: acc &= (pos | nopos) & ~neg, with hit the union of its lookups
 * (NULL: none found). false when no rule is left, or a dimension every rule needs missed.
 */
static __always_inline bool pol_apply(struct pol_scratch *sc, const struct pg_pol_cfg *cfg, __u32 d,
				      const struct pg_pol_bits *hit)
{
	__u64 any = 0;

	if (!hit && (cfg->required & (1u << d)))
		return false;
	for (int w = 0; w < PG_POL_WORDS; w++) {
		__u64 pos, neg = 0;

		if (w >= cfg->nwords)
			break;
		pos = cfg->nopos[d][w];
		if (hit) {
			pos |= hit->pos[w];
			neg = hit->neg[w];
		}
		sc->acc[w] &= pos & ~neg;
		any |= sc->acc[w];
	}
	return any != 0;
}

static __always_inline void pol_merge_clear(struct pol_scratch *sc)
{
	for (int w = 0; w < PG_POL_WORDS; w++) {
		sc->merged.pos[w] = 0;
		sc->merged.neg[w] = 0;
	}
}

static __always_inline void pol_merge(struct pol_scratch *sc, const struct pg_pol_bits *hit,
				      __u32 nwords)
{
	for (int w = 0; w < PG_POL_WORDS; w++) {
		if (w >= nwords)
			break;
		sc->merged.pos[w] |= hit->pos[w];
		sc->merged.neg[w] |= hit->neg[w];
	}
}

static __always_inline struct pg_pol_bits *pol_hash_get(struct pol_scratch *sc, __u32 bank,
							__u32 type, __u32 dim, __u32 kind, __u64 v0,
							__u64 v1)
{
	sc->hkey.bank = bank;
	sc->hkey.type = type;
	sc->hkey.dim = dim;
	sc->hkey.kind = kind;
	sc->hkey.pad = 0;
	sc->hkey.v[0] = v0;
	sc->hkey.v[1] = v1;
	return bpf_map_lookup_elem(&pol_hash, &sc->hkey);
}

static __always_inline void pol_lkey(struct pol_scratch *sc, __u32 bank, __u32 type, __u32 dim)
{
	sc->lkey.bank = bank;
	sc->lkey.type = type;
	sc->lkey.dim = dim;
	sc->lkey.pad = 0;
}

/*
 * A path (len bytes with its NUL, as read_path counts) into the LPM key, and the lookup. The
 * trie compares only the bytes the prefix length covers, so only those are copied, 8 at a
 * time (path: a PG_PATH_LEN buffer, 8-byte aligned): a 30-byte path is 4 words, not 252 bytes.
 */
static __always_inline struct pg_pol_bits *
pol_path_get(struct pol_scratch *sc, __u32 bank, __u32 type, __u32 dim, const char *path, __u32 len)
{
	_Static_assert(PG_POL_PATH_BYTES == 31 * 8 + 4, "the copy below: 31 words and 4 bytes");
	pol_lkey(sc, bank, type, dim);
	if (len > PG_POL_PATH_BYTES)
		len = PG_POL_PATH_BYTES;
	for (__u32 i = 0; i < PG_POL_PATH_BYTES / 8; i++) {
		if (i * 8 >= len)
			break;
		__builtin_memcpy(sc->lkey.data + i * 8, path + i * 8, 8);
	}
	if (len > PG_POL_PATH_BYTES / 8 * 8)
		__builtin_memcpy(sc->lkey.data + 248, path + 248, 4);
	sc->lkey.prefixlen = 32 + 8 * len;
	return bpf_map_lookup_elem(&pol_lpm, &sc->lkey);
}

/* The path read from its end (endswith): len bytes, its NUL included, as read_path counts. */
static __always_inline struct pg_pol_bits *pol_suffix_get(struct pol_scratch *sc, __u32 bank,
							  __u32 type, const char *path, __u32 len)
{
	__u32 n = len > 0 ? len - 1 : 0; /* without the NUL */

	pol_lkey(sc, bank, type, PG_DIM_SUFFIX);
	if (n > PG_POL_PATH_BYTES)
		n = PG_POL_PATH_BYTES;
	for (__u32 i = 0; i < PG_POL_PATH_BYTES; i++) {
		__u32 at;

		if (i >= n)
			break;
		at = (len - 2 - i) & (PG_PATH_LEN - 1);
		sc->lkey.data[i] = path[at];
	}
	sc->lkey.prefixlen = 32 + 8 * n;
	return bpf_map_lookup_elem(&pol_lpm, &sc->lkey);
}

/* The lowest bit left: the rule that decides (userspace put the strongest first). */
static __always_inline int pol_first(struct pol_scratch *sc, const struct pg_pol_cfg *cfg)
{
	for (int w = 0; w < PG_POL_WORDS; w++) {
		__u64 x;
		int n = 0;

		if (w >= cfg->nwords)
			break;
		x = sc->acc[w];
		if (!x)
			continue;
		if (!(x & 0xffffffffULL)) {
			n += 32;
			x >>= 32;
		}
		if (!(x & 0xffff)) {
			n += 16;
			x >>= 16;
		}
		if (!(x & 0xff)) {
			n += 8;
			x >>= 8;
		}
		if (!(x & 0xf)) {
			n += 4;
			x >>= 4;
		}
		if (!(x & 0x3)) {
			n += 2;
			x >>= 2;
		}
		if (!(x & 0x1))
			n += 1;
		return w * 64 + n;
	}
	return -1;
}

/*
 * The rule of bit b of type in bank: counted, and returned (NULL if the maps disagree,
 * which they do not). What it asks for is the caller's to do.
 */
static __always_inline struct pg_pol_rule *pol_rule(__u32 bank, __u32 type, int b)
{
	int k = pg_pol_kidx(type);
	__u32 idx;
	__u64 *hits;

	if (k < 0 || b < 0 || b >= PG_POL_RULES)
		return NULL;
	idx = (bank * PG_POL_KTYPES + (__u32)k) * PG_POL_RULES + (__u32)b;
	hits = bpf_map_lookup_elem(&pol_hits, &idx);
	if (hits)
		__sync_fetch_and_add(hits, 1);
	return bpf_map_lookup_elem(&pol_rules, &idx);
}

/* A kill, done here: the process never runs another instruction of its own. */
static __always_inline __u32 pol_enforce(const struct pg_pol_rule *r)
{
	if (!r)
		return 0;
	if (r->action == PG_ACT_KILL)
		bpf_send_signal(r->signal);
	return r->verdict;
}

/* --- what a tracing program knows about the current task ----------------------------------- */

/* Before 6.0 a cgroup kept its ancestors' ids; since, the ancestors themselves. */
struct cgroup___ids {
	__u64 ancestor_ids[0];
} __attribute__((preserve_access_index));

/*
 * The id of the current task's cgroup's ancestor at depth level (the root is 0), 0 when its
 * cgroup is not that deep: what bpf_get_current_ancestor_cgroup_id returns, but that helper
 * is a tracing program's only from 5.14 or so (5.10 refuses a program that calls it).
 */
static __noinline __u64 current_ancestor_cgroup_id(__u32 level)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct cgroup *cg = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	__u64 slot = 0, id = 0;

	if (!cg || level > (__u32)BPF_CORE_READ(cg, level) || level >= 1024)
		return 0;
	if (bpf_core_field_exists(struct cgroup___ids, ancestor_ids)) {
		slot = (__u64)cg + bpf_core_field_offset(struct cgroup___ids, ancestor_ids) +
		       level * 8;
		bpf_probe_read_kernel(&id, sizeof(id), (void *)slot);
		return id;
	}
	slot = (__u64)cg + bpf_core_field_offset(struct cgroup, ancestors) + level * 8;
	if (bpf_probe_read_kernel(&cg, sizeof(cg), (void *)slot) || !cg)
		return 0;
	return BPF_CORE_READ(cg, kn, id);
}

/* Whose cgroup pol_cgroup_of looks at, in which program type. */
enum {
	POL_CG_TASK, /* the current task's, in tracing and LSM programs */
	POL_CG_SKB, /* the packet's socket's, in cgroup_skb */
	POL_CG_SOCK_ADDR, /* the current task's, in cgroup/connect (where the helper exists) */
};

/*
 * The cgroup: its own id (exact selectors) and its ancestors' at the depths 'under' selectors
 * name, strictly above it. One lookup each, their union applied at once.
 */

static __always_inline bool pol_cgroup_of(struct pol_scratch *sc, const struct pg_pol_cfg *cfg,
					  __u32 bank, __u32 type, __u64 own, struct __sk_buff *skb,
					  const int whose)
{
	struct pg_pol_bits *hit;
	bool found = false;

	pol_merge_clear(sc);
	hit = pol_hash_get(sc, bank, type, PG_DIM_CGROUP, PG_POL_EXACT, own, 0);
	if (hit) {
		pol_merge(sc, hit, cfg->nwords);
		found = true;
	}
	for (int l = 0; l < PG_POL_LEVELS; l++) {
		__u64 anc;

		if (l >= cfg->nlevels)
			break;
		/* a packet's socket's cgroup, else the current task's. whose is a constant, each
		 * program type's helpers differ: a test of skb would leave every call in, and
		 * before 6.3 or so the verifier does not know a context pointer is not NULL (6.1
		 * refused a cgroup_skb program for a tracing helper it could not reach) */
		if (whose == POL_CG_SKB)
			anc = bpf_skb_ancestor_cgroup_id(skb, cfg->levels[l]);
		else if (whose == POL_CG_SOCK_ADDR)
			anc = bpf_get_current_ancestor_cgroup_id(cfg->levels[l]);
		else
			anc = current_ancestor_cgroup_id(cfg->levels[l]);
		if (!anc || anc == own)
			continue; /* deeper than the task's cgroup, or the cgroup itself */
		hit = pol_hash_get(sc, bank, type, PG_DIM_CGROUP, PG_POL_UNDER, anc, 0);
		if (hit) {
			pol_merge(sc, hit, cfg->nwords);
			found = true;
		}
	}
	return pol_apply(sc, cfg, PG_DIM_CGROUP, found ? &sc->merged : NULL);
}

/* The binaries (exe, parent exe) of process tgid from pol_proc. */
static __always_inline bool pol_binaries(struct pol_scratch *sc, const struct pg_pol_cfg *cfg,
					 __u32 bank, __u32 type, __u32 tgid)
{
	struct pg_pol_proc *p = bpf_map_lookup_elem(&pol_proc, &tgid);
	struct pg_pol_bits *hit;

	if (cfg->dims & POL_D(EXE)) {
		hit = p ? pol_path_get(sc, bank, type, PG_DIM_EXE, p->exe, p->exe_len) : NULL;
		if (!pol_apply(sc, cfg, PG_DIM_EXE, hit))
			return false;
	}
	if (cfg->dims & POL_D(PEXE)) {
		hit = p ? pol_path_get(sc, bank, type, PG_DIM_PEXE, p->pexe, p->pexe_len) : NULL;
		if (!pol_apply(sc, cfg, PG_DIM_PEXE, hit))
			return false;
	}
	return true;
}

/* uid, comm, cgroup and binaries of a task (the current one), in that order. */
static __always_inline bool pol_identity(struct pol_scratch *sc, const struct pg_pol_cfg *cfg,
					 __u32 bank, __u32 type, struct task_struct *task)
{
	if (cfg->dims & POL_D(UID)) {
		__u32 uid = TREAD(task, cred, uid.val);

		if (!pol_apply(sc, cfg, PG_DIM_UID,
			       pol_hash_get(sc, bank, type, PG_DIM_UID, 0, uid, 0)))
			return false;
	}
	if (cfg->dims & POL_D(COMM)) {
		union {
			char c[16];
			__u64 w[2];
		} comm;

		task_comm(task, comm.c);
		if (!pol_apply(sc, cfg, PG_DIM_COMM,
			       pol_hash_get(sc, bank, type, PG_DIM_COMM, 0, comm.w[0], comm.w[1])))
			return false;
	}
	if ((cfg->dims & POL_D(CGROUP)) &&
	    !pol_cgroup_of(sc, cfg, bank, type, task_cgroup_id(task), NULL, POL_CG_TASK))
		return false;
	if ((cfg->dims & (POL_D(EXE) | POL_D(PEXE))) &&
	    !pol_binaries(sc, cfg, bank, type, TREAD(task, tgid)))
		return false;
	return true;
}

/* The verdict for the event sc's acc leaves, with its kill done; 0 for none. */
static __always_inline __u32 pol_conclude(struct pol_scratch *sc, const struct pg_pol_cfg *cfg,
					  __u32 bank, __u32 type)
{
	return pol_enforce(pol_rule(bank, type, pol_first(sc, cfg)));
}

/* --- the decisions at the sensor's own hooks ----------------------------------------------- */

/*
 * The gate (sensor.h, path_gate): false when path starts like no rule's path, and every rule
 * needs one, so nothing can match. Inline in the hook: for most opens that is the whole
 * decision, and no call is made.
 */
static __always_inline bool pol_gate_open(const struct pg_pol_cfg *cfg, const char *path)
{
	__u32 head, bit;

	if (!cfg->path_gate_on || !(cfg->required & POL_D(PATH)))
		return true;
	__builtin_memcpy(&head, path, 4);
	bit = pg_pol_gate_bit(head);
	return cfg->path_gate[(bit / 64) & (PG_POL_GATE_BITS / 64 - 1)] & (1ULL << (bit % 64));
}

/*
 * The path first, before anything else is set up: for most opens and execs the gate let
 * through, no rule names the path and every rule needs one (cfg->required): the trie's miss
 * ends those. Else the rules still in the running start from that answer. NULL: decided, none.
 */
static __always_inline struct pol_scratch *pol_path_first(const struct pg_pol_cfg *cfg, __u32 bank,
							  __u32 type, const char *path, __u32 len)
{
	__u32 zero = 0;
	struct pol_scratch *sc;
	struct pg_pol_bits *hit = NULL;

	sc = bpf_map_lookup_elem(&pol_scratch_map, &zero);
	if (!sc)
		return NULL;
	if (cfg->dims & POL_D(PATH)) {
		hit = pol_path_get(sc, bank, type, PG_DIM_PATH, path, len);
		if (!hit && (cfg->required & POL_D(PATH)))
			return NULL;
	}
	pol_begin_in(sc, cfg);
	if ((cfg->dims & POL_D(PATH)) && !pol_apply(sc, cfg, PG_DIM_PATH, hit))
		return NULL;
	return sc;
}

/* An open the gate let through, at sys_exit or in the LSM hook (bank and cfg: pol_open's). */
static __noinline __u32 pol_open_rules(struct task_struct *task, const struct pg_pol_cfg *cfg,
				       __u32 bank, const char *path, __u32 len)
{
	__u32 type = PG_EV_OPEN;
	struct pol_scratch *sc;

	if (!(sc = pol_path_first(cfg, bank, type, path, len)))
		return 0;
	if ((cfg->dims & POL_D(SUFFIX)) &&
	    !pol_apply(sc, cfg, PG_DIM_SUFFIX, pol_suffix_get(sc, bank, type, path, len)))
		return 0;
	if (!pol_identity(sc, cfg, bank, type, task))
		return 0;
	return pol_conclude(sc, cfg, bank, type);
}

/* An open: its path as the process passed it (len: read_path's count) or as LSM resolved it. */
static __always_inline __u32 pol_open(struct task_struct *task, const char *path, __u32 len)
{
	__u32 bank = pol_bank_now();
	struct pg_pol_cfg *cfg = pol_cfg_of(bank, PG_EV_OPEN);

	if (!cfg || !pol_gate_open(cfg, path))
		return 0;
	return pol_open_rules(task, cfg, bank, path, len);
}

/* setid and ptrace: who, nothing else. */
static __noinline __u32 pol_task(struct task_struct *task, __u32 type)
{
	__u32 bank = pol_bank_now();
	struct pg_pol_cfg *cfg = pol_cfg_of(bank, type);
	struct pol_scratch *sc;

	if (!cfg || !(sc = pol_begin(cfg)))
		return 0;
	if (!pol_identity(sc, cfg, bank, type, task))
		return 0;
	return pol_conclude(sc, cfg, bank, type);
}

/* An exec, at sched_process_exec: the new image has not run an instruction yet. */
static __noinline __u32 pol_exec(struct task_struct *task, const char *path, __u32 len,
				 bool unlinked)
{
	__u32 bank = pol_bank_now(), type = PG_EV_EXEC;
	struct pg_pol_cfg *cfg = pol_cfg_of(bank, type);
	struct pol_scratch *sc;

	if (!cfg || !pol_gate_open(cfg, path) || !(sc = pol_path_first(cfg, bank, type, path, len)))
		return 0;
	if ((cfg->dims & POL_D(UNLINKED)) &&
	    !pol_apply(sc, cfg, PG_DIM_UNLINKED,
		       unlinked ? pol_hash_get(sc, bank, type, PG_DIM_UNLINKED, 0, 1, 0) : NULL))
		return 0;
	if ((cfg->dims & POL_D(SUFFIX)) &&
	    !pol_apply(sc, cfg, PG_DIM_SUFFIX, pol_suffix_get(sc, bank, type, path, len)))
		return 0;
	if (!pol_identity(sc, cfg, bank, type, task))
		return 0;
	return pol_conclude(sc, cfg, bank, type);
}

/* The destination of a connect: daddr (family byte first, IPv4-mapped IPv6 as IPv4) and dport. */
static __always_inline bool pol_dest(struct pol_scratch *sc, const struct pg_pol_cfg *cfg,
				     __u32 bank, __u32 type, __u16 family, const __u8 *addr,
				     __u16 port)
{
	if (cfg->dims & POL_D(DPORT)) {
		if (!pol_apply(sc, cfg, PG_DIM_DPORT,
			       pol_hash_get(sc, bank, type, PG_DIM_DPORT, 0, port, 0)))
			return false;
	}
	if (cfg->dims & POL_D(DADDR)) {
		struct pg_pol_bits *hit = NULL;
		__u64 w0, w1;

		__builtin_memcpy(&w0, addr, 8);
		__builtin_memcpy(&w1, addr + 8, 8);
		pol_lkey(sc, bank, type, PG_DIM_DADDR);
		/* ::ffff:a.b.c.d: bytes 0-9 zero, 10-11 0xff (little-endian words) */
		if (family == AF_INET6 && w0 == 0 && (w1 & 0xffffffffULL) == 0xffff0000ULL) {
			family = AF_INET;
			addr += 12;
		}
		if (family == AF_INET) {
			sc->lkey.data[0] = 4;
			__builtin_memcpy(sc->lkey.data + 1, addr, 4);
			sc->lkey.prefixlen = 32 + 40;
			hit = bpf_map_lookup_elem(&pol_lpm, &sc->lkey);
		} else if (family == AF_INET6) {
			sc->lkey.data[0] = 6;
			__builtin_memcpy(sc->lkey.data + 1, addr, 16);
			sc->lkey.prefixlen = 32 + 136;
			hit = bpf_map_lookup_elem(&pol_lpm, &sc->lkey);
		}
		if (!pol_apply(sc, cfg, PG_DIM_DADDR, hit))
			return false;
	}
	return true;
}

/*
 * A connect, at sys_exit, where no cgroup hook decided it before it happened: the address as
 * the process passed it, read back from its memory.
 */
static __noinline __u32 pol_connect_exit(struct task_struct *task, __u32 family, const __u8 *addr,
					 __u32 port)
{
	__u32 bank = pol_bank_now(), type = PG_EV_CONNECT;
	struct pg_pol_cfg *cfg = pol_cfg_of(bank, type);
	struct pol_scratch *sc;

	if (!cfg || !(sc = pol_begin(cfg)))
		return 0;
	if (!pol_dest(sc, cfg, bank, type, (__u16)family, addr, (__u16)port))
		return 0;
	if (!pol_identity(sc, cfg, bank, type, task))
		return 0;
	return pol_conclude(sc, cfg, bank, type);
}

/*
 * An event no rule decided, of a type some rule is for: the filters, which were not run before
 * the decision. A call of its own: the syscall path's frame stays as it was without policies.
 */
static __noinline bool pol_wanted(struct task_struct *task, __u32 type)
{
	return type_on(type) && pass_common(task, type);
}

/* Is any rule for type in force? The cheap test before anything is read for a decision. */
static __always_inline bool pol_active(__u32 type)
{
	return policy_on && pol_cfg_of(pol_bank_now(), type);
}

/* --- the cgroup socket hooks: a connect, a DNS query, refused before a packet leaves ---------

 * Attached at the cgroup v2 root (every socket is below it), only with --policy. They run in the
 * connecting process, before the kernel copies anything back, on the kernel's own copy of the
 * address: what they decide is what happens. They cannot send a signal; a kill rule also refuses
 * the call here, and sys_exit (which reads the verdict they leave) sends the signal.
 */
const volatile bool pol_connect_hook = false; /* the connect hooks are loaded and attached */
const volatile bool pol_dns_hook = false; /* the DNS egress hook is */

/* What a hook decided, for the sys_exit (or the DNS send) that reports it. */
struct pol_pending {
	__u32 verdict;
	__u8 action;
	__u8 signal;
	__u16 pad;
};

/* by pid_tgid (connect: the thread that called it) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct pol_pending);
} pol_pending SEC(".maps");

/* by the socket and the query's id: the DNS message a send reports */
struct pol_dns_key {
	__u64 cookie;
	__u32 id;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct pol_dns_key);
	__type(value, struct pol_pending);
} pol_dns_pending SEC(".maps");

static __always_inline void pol_pending_set(struct pol_pending *p, const struct pg_pol_rule *r)
{
	p->verdict = r->verdict;
	p->action = r->action;
	p->signal = r->signal;
	p->pad = 0;
}

/* Does the rule's action refuse the call? A kill does too, where a hook can refuse. */
static __always_inline bool pol_refuses(const struct pg_pol_rule *r)
{
	return r->action == PG_ACT_KILL || r->action == PG_ACT_DENY;
}

static __always_inline int pol_connect_hook_decide(struct bpf_sock_addr *ctx, __u16 family,
						   const __u8 *addr)
{
	__u32 bank = pol_bank_now(), type = PG_EV_CONNECT;
	struct pg_pol_cfg *cfg = pol_cfg_of(bank, type);
	__u64 id = bpf_get_current_pid_tgid();
	struct pol_pending pending;
	struct pol_scratch *sc;
	struct pg_pol_rule *r;

	if (!cfg || !(sc = pol_begin(cfg)))
		return 1;
	if (!pol_dest(sc, cfg, bank, type, family, addr, bpf_ntohs((__u16)ctx->user_port)))
		return 1;
	if (cfg->dims & POL_D(UID)) {
		__u32 uid = (__u32)bpf_get_current_uid_gid();

		if (!pol_apply(sc, cfg, PG_DIM_UID,
			       pol_hash_get(sc, bank, type, PG_DIM_UID, 0, uid, 0)))
			return 1;
	}
	if (cfg->dims & POL_D(COMM)) {
		union {
			char c[16];
			__u64 w[2];
		} comm = {};

		bpf_get_current_comm(comm.c, sizeof(comm.c));
		if (!pol_apply(sc, cfg, PG_DIM_COMM,
			       pol_hash_get(sc, bank, type, PG_DIM_COMM, 0, comm.w[0], comm.w[1])))
			return 1;
	}
	if ((cfg->dims & POL_D(CGROUP)) &&
	    !pol_cgroup_of(sc, cfg, bank, type, bpf_get_current_cgroup_id(), NULL,
			   POL_CG_SOCK_ADDR))
		return 1;
	if ((cfg->dims & (POL_D(EXE) | POL_D(PEXE))) &&
	    !pol_binaries(sc, cfg, bank, type, (__u32)(id >> 32)))
		return 1;
	r = pol_rule(bank, type, pol_first(sc, cfg));
	if (!r)
		return 1;
	pol_pending_set(&pending, r);
	bpf_map_update_elem(&pol_pending, &id, &pending, BPF_ANY);
	return pol_refuses(r) ? 0 : 1;
}

SEC("cgroup/connect4")
int pol_connect4(struct bpf_sock_addr *ctx)
{
	__u8 addr[16] = {};
	__u32 a4 = ctx->user_ip4;

	if (!policy_on)
		return 1;
	__builtin_memcpy(addr, &a4, 4);
	return pol_connect_hook_decide(ctx, AF_INET, addr);
}

SEC("cgroup/connect6")
int pol_connect6(struct bpf_sock_addr *ctx)
{
	__u32 a6[4];

	if (!policy_on)
		return 1;
	/* 4-byte loads: what the context allows for user_ip6 */
	a6[0] = ctx->user_ip6[0];
	a6[1] = ctx->user_ip6[1];
	a6[2] = ctx->user_ip6[2];
	a6[3] = ctx->user_ip6[3];
	return pol_connect_hook_decide(ctx, AF_INET6, (const __u8 *)a6);
}

/* sys_exit of a connect the hook decided: the verdict, and the kill it asked for. */
static __noinline __u32 pol_connect_taken(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pol_pending *p = bpf_map_lookup_elem(&pol_pending, &id);
	__u32 v;

	if (!p)
		return 0;
	v = p->verdict;
	if (p->action == PG_ACT_KILL)
		bpf_send_signal(p->signal);
	bpf_map_delete_elem(&pol_pending, &id);
	return v;
}

/*
 * The egress hook's working set: a decision's, the query's name as it came (labels behind
 * their lengths) and which of its bytes are lengths. A softirq may send (a TCP retransmit)
 * while a process sends on the same CPU: two slots, taken by depth.
 */
struct qname_state {
	__u64 h; /* the label's hash so far */
	__u32 len, nl, left; /* bytes of the name; labels done; bytes left of this one */
	__u32 done; /* the name's end (a 0 length) was reached */
};

struct pol_skb_scratch {
	struct pol_scratch sc;
	__u8 name[PG_QNAME_LEN];
	__u64 lh[128]; /* each label's hash, left to right */
	struct qname_state walk; /* pol_qname's loop */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct pol_skb_scratch);
} pol_skb_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} pol_skb_depth SEC(".maps");

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_UDP 17

/*
 * The query's name (len bytes of the packet from the question on, labels behind their lengths):
 * each label hashed, then folded from the right (bpf/sensor.h); each suffix at a label boundary
 * looked up as such (the shortest PG_POL_QNAME_LABELS), the whole name as itself. false when
 * the bytes are not a name (a label longer than 63: a compression pointer; no end).
 */
/*
 * The byte loop's state, for bpf_loop, kept in the scratch map value (x->walk), not on the
 * stack: before 6.8 the verifier checked a callback once, with the caller's stack as it was at
 * the call, so a field known to be 0 there (left) made the code for a label's bytes dead, and
 * the verifier removed it: 6.1 stopped at each name's first label and denied nothing. What is
 * in a map value the verifier does not know, so every path stays. The context (on the stack,
 * as bpf_loop wants) only carries the pointer.
 */
struct qname_walk {
	struct pol_skb_scratch *x;
};

static long qname_byte(__u32 i, struct qname_walk *w)
{
	struct pol_skb_scratch *x = w->x;
	struct qname_state *st = &x->walk;
	__u8 c;

	if (i >= st->len || i >= PG_QNAME_LEN)
		return 1; /* no end: not a name */
	barrier_var(i); /* the mask stays where the verifier can see it */
	c = x->name[i & (PG_QNAME_LEN - 1)];
	if (st->left) {
		st->h = pg_pol_label_step(st->h, c);
		if (!--st->left) {
			x->lh[st->nl & 127] = st->h;
			st->nl++;
		}
		return 0;
	}
	if (c == 0) {
		st->done = 1;
		return 1;
	}
	if (c > 63 || st->nl >= 127)
		return 1; /* a compression pointer, or more labels than a name has */
	st->left = c;
	st->h = PG_POL_FNV_OFFSET;
	return 0;
}

static __always_inline bool pol_qname(struct pol_skb_scratch *x, const struct pg_pol_cfg *cfg,
				      __u32 bank, __u32 len, bool *found)
{
	struct pol_scratch *sc = &x->sc;
	struct qname_walk w = { .x = x };
	__u64 s = PG_POL_FNV_OFFSET;
	__u32 nl;

	x->walk = (struct qname_state){ .len = len };
	bpf_loop(PG_QNAME_LEN, qname_byte, &w, 0);
	nl = x->walk.nl;
	if (!x->walk.done || !nl)
		return false;
	pol_merge_clear(sc);
	*found = false;
	for (int k = 0; k <= PG_POL_QNAME_LABELS; k++) {
		struct pg_pol_bits *hit;
		__u32 idx;

		if ((__u32)k >= nl)
			break;
		idx = (nl - 1 - (__u32)k) & 127;
		s = pg_pol_fold(s, x->lh[idx]);
		if (idx && k == PG_POL_QNAME_LABELS)
			break; /* suffixes past the last looked at */
		hit = pol_hash_get(sc, bank, PG_EV_DNS, PG_DIM_QNAME,
				   idx ? PG_POL_UNDER : PG_POL_EXACT, s, 0);
		if (hit) {
			pol_merge(sc, hit, cfg->nwords);
			*found = true;
		}
	}
	return true;
}

static __always_inline int pol_dns_decide(struct __sk_buff *skb, struct pol_skb_scratch *x)
{
	__u32 bank = pol_bank_now(), type = PG_EV_DNS, l4, len;
	struct pg_pol_cfg *cfg = pol_cfg_of(bank, type);
	struct pol_scratch *sc = &x->sc;
	struct pol_dns_key key = {};
	struct pol_pending pending;
	struct pg_pol_rule *r;
	__u8 addr[16] = {};
	__u16 family, port, id;
	bool found;

	if (!cfg)
		return 1;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) || ip.protocol != IPPROTO_UDP ||
		    (ip.frag_off & bpf_htons(0x1fff)))
			return 1;
		family = AF_INET;
		__builtin_memcpy(addr, &ip.daddr, 4);
		l4 = ip.ihl * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) || ip6.nexthdr != IPPROTO_UDP)
			return 1;
		family = AF_INET6;
		__builtin_memcpy(addr, &ip6.daddr, 16);
		l4 = sizeof(ip6);
	} else {
		return 1;
	}
	{
		struct udphdr udp;
		__u8 hdr[12];

		if (l4 > 60 || bpf_skb_load_bytes(skb, l4, &udp, sizeof(udp)))
			return 1;
		port = bpf_ntohs(udp.dest);
		if (port != dns_port)
			return 1;
		if (bpf_skb_load_bytes(skb, l4 + 8, hdr, sizeof(hdr)))
			return 1;
		id = (__u16)hdr[0] << 8 | hdr[1];
		if ((hdr[2] & 0x80) || !(hdr[4] | hdr[5]))
			return 1; /* a response, or no question */
	}
	if (skb->len <= l4 + 20)
		return 1;
	len = skb->len - (l4 + 20);
	if (len > PG_QNAME_LEN)
		len = PG_QNAME_LEN;
	/*
	 * Bounded on the very register the helper gets: the compiler knows len <= 256 already,
	 * would drop a C mask, and may pass the unclamped copy on the path that needed no clamp,
	 * which the verifier sees as a 64-bit difference that may be negative. len is 1..256 here
	 * (skb->len > l4 + 20), which this keeps as it is.
	 */
	asm volatile("%[n] += -1; %[n] &= 255; %[n] += 1" : [n] "+r"(len)); /* 1..256 */
	if (bpf_skb_load_bytes(skb, l4 + 20, x->name, len))
		return 1;
	pol_begin_in(sc, cfg);
	if (!pol_dest(sc, cfg, bank, type, family, addr, port))
		return 1;
	if ((cfg->dims & POL_D(QNAME))) {
		if (!pol_qname(x, cfg, bank, len, &found))
			return 1; /* not a name a rule can be about */
		if (!pol_apply(sc, cfg, PG_DIM_QNAME, found ? &sc->merged : NULL))
			return 1;
	}
	if (cfg->dims & POL_D(UID)) {
		__u32 uid = bpf_get_socket_uid(skb);

		if (!pol_apply(sc, cfg, PG_DIM_UID,
			       pol_hash_get(sc, bank, type, PG_DIM_UID, 0, uid, 0)))
			return 1;
	}
	if ((cfg->dims & POL_D(CGROUP)) &&
	    !pol_cgroup_of(sc, cfg, bank, type, bpf_skb_cgroup_id(skb), skb, POL_CG_SKB))
		return 1;
	r = pol_rule(bank, type, pol_first(sc, cfg));
	if (!r)
		return 1;
	key.cookie = bpf_get_socket_cookie(skb);
	key.id = id;
	pol_pending_set(&pending, r);
	bpf_map_update_elem(&pol_dns_pending, &key, &pending, BPF_ANY);
	return pol_refuses(r) ? 0 : 1;
}

SEC("cgroup_skb/egress")
int pol_dns_egress(struct __sk_buff *skb)
{
	__u32 zero = 0, *depth, slot;
	struct pol_skb_scratch *x;
	int verdict;

	if (!policy_on)
		return 1;
	depth = bpf_map_lookup_elem(&pol_skb_depth, &zero);
	if (!depth || *depth >= 2)
		return 1;
	slot = *depth;
	x = bpf_map_lookup_elem(&pol_skb_scratch, &slot);
	if (!x)
		return 1;
	*depth += 1;
	verdict = pol_dns_decide(skb, x);
	*depth -= 1;
	return verdict;
}

/* --- BPF LSM: refused before it happens ----------------------------------------------------

 * Where the kernel runs BPF LSM programs ('bpf' among the active LSMs), exec, open, setid and
 * ptrace are decided in the security hooks the kernel calls before it does the work: a
 * refusal is EPERM and nothing happens. A kill rule refuses and sends the signal. The hook
 * leaves its verdict for the sys_exit (or sched_process_exec) that reports the event; a
 * refused exec has no sched_process_exec, so the hook reports it itself.
 */
const volatile __u32 pol_lsm_types = 0; /* bit (1 << type) per event type an LSM hook decides */

/* What an LSM hook decided, for the event's report: by thread, with the file of an open. */
struct pol_lsm_pending {
	__u32 verdict;
	__u32 type; /* the event type whose hook decided (ptrace's can refuse an open of /proc) */
	__u64 file; /* open: the struct file, to know the sys_exit is of the same open */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct pol_lsm_pending);
} pol_lsm_pending SEC(".maps");

/* The path an open's hook resolved (bpf_d_path), off the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[PG_PATH_LEN]);
} pol_lsm_path SEC(".maps");

static __always_inline bool pol_verdict_refuses(__u32 v)
{
	return PG_VERDICT_ACTION(v) == PG_ACT_KILL || PG_VERDICT_ACTION(v) == PG_ACT_DENY;
}

/*
 * -EPERM, for an LSM program's refusal. Written so: 'refuses ? -1 : 0' compiles to a negation
 * of 0 or 1, whose result the verifier does not follow, and since 6.10 or so it checks that
 * an LSM program returns a value in [-4095, 0] (6.12 refused every LSM program for it).
 */
static __always_inline int pol_eperm(void)
{
	int r;

	asm volatile("%[r] = -1" : [r] "=r"(r));
	return r;
}

static __always_inline int pol_lsm_leave(__u32 v, __u32 type, __u64 file)
{
	struct pol_lsm_pending p = { .verdict = v, .type = type, .file = file };
	__u64 id = bpf_get_current_pid_tgid();

	if (!v)
		return 0;
	bpf_map_update_elem(&pol_lsm_pending, &id, &p, BPF_ANY);
	if (pol_verdict_refuses(v))
		return pol_eperm();
	return 0;
}

/*
 * The verdict an LSM hook left for this thread's event of this type, taken (and the slot
 * cleared, so a verdict no report claimed, e.g. an io_uring open's, cannot name a later
 * event). file: for an open that succeeded, the file it opened (0 for other events): a
 * refusal is claimed by a failed call, an allowed open by its own file.
 */
static __noinline __u32 pol_lsm_taken(__s64 ret, __u64 file, __u32 type)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pol_lsm_pending *p = bpf_map_lookup_elem(&pol_lsm_pending, &id);
	__u32 v = 0;

	if (!p)
		return 0;
	if (p->type == type && (pol_verdict_refuses(p->verdict) ? ret == -1 /* EPERM */ :
								  (!p->file || p->file == file)))
		v = p->verdict;
	bpf_map_delete_elem(&pol_lsm_pending, &id);
	return v;
}

/*
 * At the end of an io_uring_enter: an open it issued inline passed the LSM hook in this
 * thread, and no sys_exit of an open reports it (its event, through io_uring, carries no
 * decision). Without this, the next open of the thread to fail could claim the verdict.
 */
static __always_inline void pol_lsm_forget(void)
{
	__u64 id = bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&pol_lsm_pending, &id);
}

#define FMODE_EXEC_FLAG 0x20 /* __FMODE_EXEC in f_flags: exec's own open of the program */

SEC("lsm/file_open")
int BPF_PROG(pol_lsm_file_open, struct file *file)
{
	__u32 zero = 0;
	char *path;
	long len;

	if (!policy_on || !(pol_lsm_types & (1u << PG_EV_OPEN)))
		return 0;
	if (BPF_CORE_READ(file, f_flags) & FMODE_EXEC_FLAG)
		return 0; /* exec opening the program: an exec rule decides that */
	if (!pol_cfg_of(pol_bank_now(), PG_EV_OPEN))
		return 0;
	path = bpf_map_lookup_elem(&pol_lsm_path, &zero);
	if (!path)
		return 0;
	/* the file itself, resolved: relative paths, "..", symlinks all name it the same */
	len = bpf_d_path((struct path *)&file->f_path, path, PG_PATH_LEN);
	if (len <= 0)
		return 0;
	return pol_lsm_leave(pol_open(current_task(), path, (__u32)len), PG_EV_OPEN, (__u64)file);
}

static __always_inline int pol_lsm_task(__u32 type)
{
	if (!policy_on || !(pol_lsm_types & (1u << type)))
		return 0;
	return pol_lsm_leave(pol_task(current_task(), type), type, 0);
}

SEC("lsm/task_fix_setuid")
int BPF_PROG(pol_lsm_setuid, struct cred *new, const struct cred *old, int flags)
{
	return pol_lsm_task(PG_EV_SETID);
}

SEC("lsm/task_fix_setgid")
int BPF_PROG(pol_lsm_setgid, struct cred *new, const struct cred *old, int flags)
{
	return pol_lsm_task(PG_EV_SETID);
}

#define PTRACE_MODE_ATTACH 0x02

SEC("lsm/ptrace_access_check")
int BPF_PROG(pol_lsm_ptrace, struct task_struct *child, unsigned int mode)
{
	if (!(mode & PTRACE_MODE_ATTACH))
		return 0; /* reading what a process shows in /proc: not taking control of it */
	return pol_lsm_task(PG_EV_PTRACE);
}

SEC("lsm/ptrace_traceme")
int BPF_PROG(pol_lsm_traceme, struct task_struct *parent)
{
	return pol_lsm_task(PG_EV_PTRACE);
}

/* --- the binaries of each process ---------------------------------------------------------- */

static __always_inline void pol_proc_full(void)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&pol_proc_lost, &zero);

	if (c)
		*c += 1;
}

/* An entry built off the stack (520 bytes), then written whole. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pg_pol_proc);
} pol_proc_tmp SEC(".maps");

static __always_inline void pol_proc_put(__u32 tgid, const struct pg_pol_proc *v)
{
	if (bpf_map_update_elem(&pol_proc, &tgid, v, BPF_ANY))
		pol_proc_full();
}

/* exec: the process's binary is now path (len with its NUL); its parent's stays. */
static __always_inline void pol_proc_exec(struct task_struct *task, const char *path, __u32 len)
{
	__u32 tgid = TREAD(task, tgid), ptgid, zero = 0;
	struct pg_pol_proc *t = bpf_map_lookup_elem(&pol_proc_tmp, &zero), *p;

	if (!t)
		return;
	p = bpf_map_lookup_elem(&pol_proc, &tgid);
	if (!p) {
		/* not known (it started before the table was filled): its parent's exe now */
		ptgid = TREAD(task, real_parent, tgid);
		p = bpf_map_lookup_elem(&pol_proc, &ptgid);
		if (p) {
			__builtin_memcpy(t->pexe, p->exe, PG_PATH_LEN);
			t->pexe_len = p->exe_len;
		} else {
			t->pexe[0] = 0;
			t->pexe_len = 0;
		}
	} else {
		__builtin_memcpy(t->pexe, p->pexe, PG_PATH_LEN);
		t->pexe_len = p->pexe_len;
	}
	__builtin_memcpy(t->exe, path, PG_PATH_LEN);
	t->exe_len = len > PG_PATH_LEN ? PG_PATH_LEN : (__u16)len;
	t->pad = 0;
	pol_proc_put(tgid, t);
}

/* fork: the child runs its parent's binary, and its parent's binary is that too. */
static __always_inline void pol_proc_fork(__u32 ptgid, __u32 ctgid)
{
	struct pg_pol_proc *p = bpf_map_lookup_elem(&pol_proc, &ptgid), *t;
	__u32 zero = 0;

	if (!p || !(t = bpf_map_lookup_elem(&pol_proc_tmp, &zero)))
		return;
	__builtin_memcpy(t->exe, p->exe, PG_PATH_LEN);
	__builtin_memcpy(t->pexe, p->exe, PG_PATH_LEN);
	t->exe_len = p->exe_len;
	t->pexe_len = p->exe_len;
	t->pad = 0;
	pol_proc_put(ctgid, t);
}

static __always_inline void pol_proc_exit(__u32 tgid)
{
	bpf_map_delete_elem(&pol_proc, &tgid);
}

#endif /* PANGOLIN_POLICY_BPF_H */
