// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The BPF objects pangolin embeds, checked before any kernel sees them:
 *  - every program's worst-case combined stack fits the verifier's 512 bytes without private
 *    stacks (a 560-byte chain once loaded on one machine and was refused on the next);
 *  - the sensor's per-tier objects agree with the tier-2 skeleton that drives all of them:
 *    the same programs, maps and rodata layout (a differing rodata offset would configure the
 *    kernel filter wrongly and silently).
 * The stack analysis itself is checked on a fixture that repeats the old mistake.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/bpf.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf_stack.h"
#include "source_bpf.h"
#include "latency.skel.h"
#include "profile.skel.h"
#include "sensor.skel.h"
#include "sensor_tier0.skel.h"
#include "sensor_tier1.skel.h"

static const struct {
	const char *name;
	const void *(*elf)(size_t *sz);
} embedded[] = {
	{ "sensor (tier 2)", sensor_bpf__elf_bytes },
	{ "sensor (tier 1)", sensor_tier1_bpf__elf_bytes },
	{ "sensor (tier 0)", sensor_tier0_bpf__elf_bytes },
	{ "profile", profile_bpf__elf_bytes },
	{ "latency", latency_bpf__elf_bytes },
};

#define MAXPROG 64

static int analyze(const void *elf, size_t len, struct pg_bpf_stack_prog *p)
{
	char err[256];
	int n = pg_bpf_stack_analyze(elf, len, p, MAXPROG, err, sizeof(err));

	if (n < 0)
		fail_msg("stack analysis failed: %s (%d)", err, n);
	return n;
}

static const struct pg_bpf_stack_prog *find(const struct pg_bpf_stack_prog *p, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(p[i].name, name))
			return &p[i];
	fail_msg("program %s not found", name);
	return NULL;
}

static void test_embedded_programs_fit_512(void **state)
{
	for (size_t i = 0; i < sizeof(embedded) / sizeof(embedded[0]); i++) {
		struct pg_bpf_stack_prog p[MAXPROG];
		size_t len;
		const void *elf = embedded[i].elf(&len);
		int n = analyze(elf, len, p);

		assert_true(n > 0);
		print_message("%-16s worst %3u bytes: %s\n", embedded[i].name, p[0].depth, p[0].chain);
		for (int j = 0; j < n; j++)
			if (p[j].depth > PG_BPF_STACK_MAX)
				fail_msg("%s: %s needs %u bytes of combined stack (> %d): %s", embedded[i].name,
					 p[j].name, p[j].depth, PG_BPF_STACK_MAX, p[j].chain);
	}
}

/* The analysis follows calls: the sensor's syscall program reaches its global DNS functions
 * (or, as deep, its policy functions: the two chains tie at 480 bytes on tiers 1 and 2) and
 * the overflow program its map callback, in every tier. */
static void test_sensor_call_graph(void **state)
{
	for (size_t i = 0; i < 3; i++) {
		struct pg_bpf_stack_prog p[MAXPROG];
		size_t len;
		const void *elf = embedded[i].elf(&len);
		int n = analyze(elf, len, p);
		const struct pg_bpf_stack_prog *sys = find(p, n, "handle_sys_exit");
		const struct pg_bpf_stack_prog *ovf = find(p, n, "handle_uring_overflow");

		assert_true(strstr(sys->chain, " > pg_dns_") ||
			    strstr(sys->chain, " > pol_sys_exit("));
		assert_non_null(strstr(ovf->chain, " > match_overflow"));
	}
}

static void *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	void *buf;
	long n;

	if (!f)
		fail_msg("cannot open %s (built by make): %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The fixture repeats the refused shape (200 + 344 bytes on two frames) and a fitting one. */
static void test_fixture_too_deep_is_caught(void **state)
{
	struct pg_bpf_stack_prog p[MAXPROG];
	size_t len;
	void *elf = read_file("build/bpf/test/stack_deep.bpf.o", &len);
	int n = analyze(elf, len, p);
	const struct pg_bpf_stack_prog *deep = find(p, n, "too_deep"), *fits = find(p, n, "fits");

	assert_int_equal(n, 2);
	assert_true(deep->depth > PG_BPF_STACK_MAX);
	assert_int_equal(deep->depth, 224 + 352);
	assert_string_equal(deep->chain, "too_deep(224) > fill(352)");
	assert_true(fits->depth <= PG_BPF_STACK_MAX);
	assert_string_equal(p[0].name, "too_deep"); /* worst first */
	free(elf);
}

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

static void test_frame_from_instructions(void **state)
{
	struct bpf_insn store[] = {
		INSN(BPF_STX | BPF_MEM | BPF_DW, 10, 1, -8, 0),
		INSN(BPF_ST | BPF_MEM | BPF_W, 10, 0, -20, 7),
		INSN(BPF_LDX | BPF_MEM | BPF_DW, 2, 10, -16, 0),
	};
	/* a buffer passed to a helper: r1 = r10; r1 += -344; call */
	struct bpf_insn derived[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 1, 10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, -344),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_probe_read_kernel),
		/* after the call r1 is no stack address: a store through it is not the stack */
		INSN(BPF_STX | BPF_MEM | BPF_DW, 1, 2, -500, 0),
	};
	/* a derived register overwritten by something else is forgotten */
	struct bpf_insn forgotten[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -40),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 5),
		INSN(BPF_STX | BPF_MEM | BPF_DW, 3, 1, -480, 0),
		/* through a derived register with an offset of its own */
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 4, 10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 4, 0, 0, -64),
		INSN(BPF_STX | BPF_MEM | BPF_DW, 4, 1, -8, 0),
	};
	struct bpf_insn none[] = { INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0), INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0) };

	assert_int_equal(pg_bpf_stack_frame(store, 3), 20);
	assert_int_equal(pg_bpf_stack_frame(derived, 4), 344);
	assert_int_equal(pg_bpf_stack_frame(forgotten, 7), 72);
	assert_int_equal(pg_bpf_stack_frame(none, 2), 0);
}

static void test_not_an_object(void **state)
{
	static const char junk[] = "\177ELF but not really an object at all, just bytes";
	struct pg_bpf_stack_prog p[4];
	char err[128];

	assert_int_equal(pg_bpf_stack_analyze(junk, sizeof(junk), p, 4, err, sizeof(err)), -EINVAL);
	assert_int_equal(pg_bpf_stack_analyze("", 0, p, 4, err, sizeof(err)), -EINVAL);
}

/* --- the sensor's tiers agree with the skeleton that drives them -------------------------- */

static struct bpf_object *open_elf(const void *(*elf)(size_t *), const char *name)
{
	LIBBPF_OPTS(bpf_object_open_opts, o, .object_name = name);
	size_t len;
	const void *buf = elf(&len);
	struct bpf_object *obj = bpf_object__open_mem(buf, len, &o);

	if (!obj)
		fail_msg("cannot open %s: %s", name, strerror(errno));
	return obj;
}

/* "name:offset:size;" for every variable of a data section, from the object's BTF. */
static void datasec_layout(struct bpf_object *obj, const char *sec, char *out, size_t len)
{
	const struct btf *btf = bpf_object__btf(obj);
	int id = btf__find_by_name_kind(btf, sec, BTF_KIND_DATASEC);
	const struct btf_type *t;
	const struct btf_var_secinfo *v;
	size_t n = 0;

	out[0] = 0;
	assert_true(id > 0);
	t = btf__type_by_id(btf, id);
	v = btf_var_secinfos(t);
	for (int i = 0; i < btf_vlen(t); i++, v++) {
		const struct btf_type *var = btf__type_by_id(btf, v->type);

		n += (size_t)snprintf(out + n, len - n, "%s:%u:%u;", btf__name_by_offset(btf, var->name_off),
				      v->offset, v->size);
		assert_true(n < len);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Programs and maps as sorted lines (the skeleton finds them by name: order does not matter). */
static void object_shape(struct bpf_object *obj, char *out, size_t len)
{
	struct bpf_program *p;
	struct bpf_map *m;
	char *item[128];
	size_t k = 0, n = 0;

	bpf_object__for_each_program(p, obj)
		assert_true(asprintf(&item[k++], "prog %s %s;", bpf_program__name(p),
				     bpf_program__section_name(p)) > 0);
	bpf_object__for_each_map(m, obj)
		assert_true(asprintf(&item[k++], "map %s %d %u %u %u;", bpf_map__name(m), bpf_map__type(m),
				     bpf_map__key_size(m), bpf_map__value_size(m),
				     bpf_map__max_entries(m)) > 0);
	qsort(item, k, sizeof(item[0]), cmp_str);
	out[0] = 0;
	for (size_t i = 0; i < k; i++) {
		n += (size_t)snprintf(out + n, len - n, "%s", item[i]);
		free(item[i]);
	}
	assert_true(n < len);
}

static void test_sensor_tiers_agree(void **state)
{
	static const struct {
		const char *name;
		const void *(*elf)(size_t *);
	} tiers[] = {
		{ "sensor_bpf", sensor_bpf__elf_bytes },
		{ "sensor_tier1_bpf", sensor_tier1_bpf__elf_bytes },
		{ "sensor_tier0_bpf", sensor_tier0_bpf__elf_bytes },
	};
	static char want_shape[16384], want_ro[8192], shape[16384], ro[8192];

	for (size_t i = 0; i < 3; i++) {
		struct bpf_object *obj = open_elf(tiers[i].elf, "sensor_bpf");

		object_shape(obj, i ? shape : want_shape, sizeof(shape));
		datasec_layout(obj, ".rodata", i ? ro : want_ro, sizeof(ro));
		if (i) {
			assert_string_equal(shape, want_shape);
			assert_string_equal(ro, want_ro);
		}
		bpf_object__close(obj);
	}
	/* and they are what the skeleton's rodata struct says */
	assert_non_null(strstr(want_ro, "dns_port:"));
	{
		char off[32];

		snprintf(off, sizeof(off), "sys_kind:%zu:", offsetof(struct sensor_bpf__rodata, sys_kind));
		assert_non_null(strstr(want_ro, off));
	}
}

static void test_tier_table(void **state)
{
	int t = pg_bpf_tier_probe();

	assert_true(t >= 0 && t < PG_BPF_TIER_COUNT);
	assert_non_null(strstr(pg_bpf_tier_needs(PG_BPF_TIER_BTF), "6.2"));
	assert_non_null(strstr(pg_bpf_tier_needs(PG_BPF_TIER_PROBE_READ), "5.8"));
	assert_string_equal(pg_bpf_tier_needs(7), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embedded_programs_fit_512),
		cmocka_unit_test(test_sensor_call_graph),
		cmocka_unit_test(test_fixture_too_deep_is_caught),
		cmocka_unit_test(test_frame_from_instructions),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_sensor_tiers_agree),
		cmocka_unit_test(test_tier_table),
	};

	libbpf_set_print(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
