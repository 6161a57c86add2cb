/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A symbolized CPU profile in memory, independent of where it came from (the kernel's maps
 * in cmd_profile.c, or a test), and its writers: folded stacks, SVG flame graph, pprof.
 */
#ifndef PANGOLIN_PROFILE_H
#define PANGOLIN_PROFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "flamegraph.h"
#include "folded.h"
#include "pg_abi.h"

struct pg_frame {
	const char *name; /* the function; never NULL (unknowns are "[unknown]" or "[module]") */
	const char *system_name; /* as the symbol table writes it (mangled); NULL: name */
	const char *module; /* mapped file, "[kernel.kallsyms]", "[vdso]", or NULL */
	const char *build_id; /* hex, or NULL/"" */
	uint64_t addr; /* user: ELF virtual address in module; kernel: the address */
	uint64_t module_lo, module_hi; /* address extent of module (0, 0: unknown) */
	enum pg_frame_kind kind;
};

struct pg_prof_sample {
	uint32_t pid;
	char comm[PG_COMM_LEN];
	uint32_t nframes;
	struct pg_frame *frames; /* owned array; leaf first (pprof's order); strings borrowed */
	uint64_t count;
};

struct pg_profile {
	struct pg_prof_sample *samples;
	size_t n, cap;
	uint64_t freq_hz; /* sampling frequency: one sample stands for 1e9/freq_hz ns of CPU */
	uint64_t time_ns; /* wall clock (ns since the epoch) at the start */
	uint64_t duration_ns;
	/* what the kernel counted: shown in every output so a reader knows what is missing */
	uint64_t samples_seen, kstack_lost, ustack_lost, map_full;
};

void pg_profile__init(struct pg_profile *p);
void pg_profile__destroy(struct pg_profile *p);

/* Append a sample; frames are copied (the array, not the strings). 0 or -ENOMEM. */
int pg_profile__add(struct pg_profile *p, uint32_t pid, const char *comm,
		    const struct pg_frame *frames, uint32_t nframes, uint64_t count);

/* Folded stacks ("comm;root;...;leaf count", kernel frames with "_[k]"), merged. */
int pg_profile__fold(const struct pg_profile *p, struct pg_folded *out);

/* One line for humans: samples, lost stacks, ... (for the SVG subtitle and stderr). */
void pg_profile__describe(const struct pg_profile *p, char *buf, size_t len);

/*
 * pprof: a gzip-compressed profile.proto message with sample types samples/count and
 * cpu/nanoseconds, labels pid (number) and comm (string) on every sample, one Mapping per
 * file, one Location per (mapping, address, function), one Function per (name, file).
 * Writes to out. 0 or -errno.
 */
int pg_profile__write_pprof(const struct pg_profile *p, FILE *out);

/* Encode without gzip into a malloc'ed buffer (what the gzip step compresses; tests decode it). */
int pg_profile__encode_pprof(const struct pg_profile *p, uint8_t **buf, size_t *len);

#endif /* PANGOLIN_PROFILE_H */
