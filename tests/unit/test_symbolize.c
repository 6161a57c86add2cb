// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* kallsyms and maps parsing, ELF symbol tables, and user address resolution on ourselves. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>
#include <cmocka.h>

#include "symbolize.h"

static void test_kallsyms(void **state)
{
	static const char text[] =
		"ffffffff81000000 T _stext\n"
		"ffffffff81000100 t helper_a\n"
		"ffffffff81000200 D some_data\n" /* not text: ignored */
		"ffffffff81000300 W weak_fn\n"
		"garbage line\n"
		"ffffffff8100zz00 T bad_hex\n"
		"ffffffffc0001000 t mod_fn\t[mymod]\n"
		"ffffffffc0002000 t mod_fn2\t[mymod]\n"
		"ffffffffc0003000 t other_fn\t[other]\n"
		"ffffffff81000400 T\n"
		"ffffffff80000000 T early"; /* unsorted, no trailing newline */
	struct pg_ksyms k;
	const struct pg_ksym *s;
	size_t bad = 0;

	assert_int_equal(pg_ksyms__parse(&k, text, sizeof(text) - 1, &bad), 0);
	assert_int_equal(bad, 3);
	assert_int_equal(k.n, 7);
	assert_false(k.restricted);
	s = pg_ksyms__lookup(&k, 0xffffffff81000150);
	assert_non_null(s);
	assert_string_equal(s->name, "helper_a");
	assert_null(s->module);
	s = pg_ksyms__lookup(&k, 0xffffffff81000000);
	assert_string_equal(s->name, "_stext");
	s = pg_ksyms__lookup(&k, 0xffffffff81000250); /* data symbols do not split functions */
	assert_string_equal(s->name, "helper_a");
	s = pg_ksyms__lookup(&k, 0xffffffffc0002008);
	assert_string_equal(s->name, "mod_fn2");
	assert_string_equal(s->module, "mymod");
	s = pg_ksyms__lookup(&k, 0xffffffffc0003008);
	assert_string_equal(s->module, "other");
	s = pg_ksyms__lookup(&k, 0xffffffff80000001);
	assert_string_equal(s->name, "early");
	assert_null(pg_ksyms__lookup(&k, 0x1000));
	pg_ksyms__destroy(&k);
	pg_ksyms__destroy(&k); /* idempotent */
}

static void test_kallsyms_restricted(void **state)
{
	static const char text[] = "0000000000000000 T a\n0000000000000000 T b\n";
	struct pg_ksyms k;

	assert_int_equal(pg_ksyms__parse(&k, text, sizeof(text) - 1, NULL), 0);
	assert_true(k.restricted);
	assert_null(pg_ksyms__lookup(&k, 0));
	pg_ksyms__destroy(&k);
}

static void test_kallsyms_real(void **state)
{
	struct pg_ksyms k;

	if (pg_ksyms__load(&k, "/proc/kallsyms"))
		skip();
	assert_true(k.n > 1000);
	pg_ksyms__destroy(&k);
}

static void test_maps_line(void **state)
{
	struct pg_map m;
	const char *l = "55d0c5a00000-55d0c5a02000 r-xp 00001000 fd:01 1234567    /usr/bin/my prog (deleted)\n";

	assert_int_equal(pg_map_parse_line(l, strlen(l), &m), 0);
	assert_int_equal(m.start, 0x55d0c5a00000ULL);
	assert_int_equal(m.end, 0x55d0c5a02000ULL);
	assert_int_equal(m.pgoff, 0x1000);
	assert_int_equal(m.dev_major, 0xfd);
	assert_int_equal(m.dev_minor, 1);
	assert_int_equal(m.inode, 1234567);
	assert_true(m.exec);
	assert_string_equal(m.path, "/usr/bin/my prog (deleted)");
	free(m.path);

	l = "7ffd1000-7ffd3000 r-xp 00000000 00:00 0                          [vdso]";
	assert_int_equal(pg_map_parse_line(l, strlen(l), &m), 0);
	assert_string_equal(m.path, "[vdso]");
	free(m.path);
	l = "7f00-8f00 rw-p 00000000 00:00 0";
	assert_int_equal(pg_map_parse_line(l, strlen(l), &m), 0);
	assert_false(m.exec);
	assert_string_equal(m.path, "");
	free(m.path);

	static const char *const bad[] = {
		"",
		"zz-10 r-xp 0 00:00 0",
		"10-zz r-xp 0 00:00 0",
		"20-10 r-xp 0 00:00 0 /x", /* end before start */
		"10-20 r-x 0 00:00 0 /x",
		"10-20 rwxq 0 00:00 0 /x",
		"10-20 r-xp 0 0000 0 /x",
		"10-20 r-xp 0 00:00 x /x",
		"10-20 r-xp 0 00:00 99999999999999999999999 /x",
		"10-20 r-xp 0 00:00 12x /x",
		"11111111111111111-20 r-xp 0 00:00 0 /x", /* 17 hex digits */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pg_map_parse_line(bad[i], strlen(bad[i]), &m), -22);
}

static void test_maps_file(void **state)
{
	static const char text[] =
		"3000-4000 r-xp 00002000 08:01 12 /lib/b.so\n"
		"1000-2000 r-xp 00000000 08:01 11 /bin/a\n"
		"2000-3000 rw-p 00000000 08:01 11 /bin/a\n"
		"nonsense\n"
		"5000-6000 r-xp 00000000 00:00 0 \n";
	struct pg_map *m;
	size_t n;

	assert_int_equal(pg_maps_parse(text, sizeof(text) - 1, &m, &n), 0);
	assert_int_equal(n, 2); /* executable file mappings only, sorted */
	assert_string_equal(m[0].path, "/bin/a");
	assert_string_equal(m[1].path, "/lib/b.so");
	pg_maps_free(m, n);
}

__attribute__((noinline)) int pg_test_marker_function(int x);
__attribute__((noinline)) int pg_test_marker_function(int x)
{
	return x * 3 + 1;
}

static void test_elf_self(void **state)
{
	struct pg_elf_syms e;
	const struct pg_elf_sym *s = NULL;
	int fd = open("/proc/self/exe", O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pg_elf_syms__from_fd(&e, fd), 0);
	close(fd);
	assert_true(e.n > 10);
	assert_true(e.nsegs > 0);
	assert_int_equal(strlen(e.build_id), 40); /* Debian's gcc links with --build-id */
	for (size_t i = 0; i < e.n; i++)
		if (!strcmp(e.syms[i].name, "pg_test_marker_function"))
			s = &e.syms[i];
	assert_non_null(s);
	assert_ptr_equal(pg_elf_syms__lookup(&e, s->addr + 1), s);
	pg_elf_syms__destroy(&e);
}

/* The whole path: /proc/self/maps, file offset, PT_LOAD, symbol -- PIE and ASLR included. */
static void test_resolve_self(void **state)
{
	struct pg_usyms *u = pg_usyms__new();
	struct pg_usym r;
	uint64_t addr = (uint64_t)(uintptr_t)&pg_test_marker_function;

	assert_non_null(u);
	assert_int_equal(pg_test_marker_function(1), 4);
	assert_int_equal(pg_usyms__note_pid(u, getpid()), 0);
	pg_usyms__resolve(u, getpid(), addr + 2, &r);
	assert_non_null(r.name);
	assert_string_equal(r.name, "pg_test_marker_function");
	assert_non_null(r.module);
	assert_non_null(strstr(r.module, "test_symbolize"));
	assert_true(r.norm_addr < addr); /* a PIE: ELF addresses are small, runtime ones are not */
	/* libc, through the same path */
	pg_usyms__resolve(u, getpid(), (uint64_t)(uintptr_t)&getpid, &r);
	assert_non_null(r.module);
	assert_non_null(strstr(r.module, "libc"));
	/* the vDSO, read from our own memory */
	uint64_t vdso = getauxval(AT_SYSINFO_EHDR);
	if (vdso) {
		pg_usyms__resolve(u, getpid(), vdso + 0x800, &r);
		assert_string_equal(r.module, "[vdso]");
	}
	/* unmapped address */
	pg_usyms__resolve(u, getpid(), 16, &r);
	assert_null(r.name);
	assert_null(r.module);
	/* a pid that does not exist */
	pg_usyms__resolve(u, 0x7ffffff0, addr, &r);
	assert_null(r.name);
	size_t procs, files;
	pg_usyms__stats(u, &procs, &files);
	assert_int_equal(procs, 1);
	pg_usyms__free(u);
	pg_usyms__free(NULL);
}

/*
 * A C++ symbol, as a C++ compiler would name it: the C function is given the mangled name of
 * pgt::scale<int>(int, char const*) in our own symbol table.
 */
__attribute__((noinline)) int pg_test_cxx_function(int x, const char *s)
	__asm__("_ZN3pgt5scaleIiEEiiPKc");
__attribute__((noinline)) int pg_test_cxx_function(int x, const char *s)
{
	return x * 5 + (s ? 1 : 0);
}

static void test_demangle(void **state)
{
	static const struct {
		const char *in, *out; /* out NULL: not demangled */
	} cases[] = {
		{ "_ZN3foo3barEi", "foo::bar(int)" },
		{ "_ZNSt6vectorIiSaIiEE9push_backERKi", "std::vector<int, std::allocator<int> >::push_back(int const&)" },
		{ "_ZN3pgt5scaleIiEEiiPKc", "int pgt::scale<int>(int, char const*)" },
		{ "_ZN4core3fmt5write17h0123456789abcdefE", "core::fmt::write" }, /* Rust, legacy */
		{ "_RNvCs1234_7mycrate4main", "mycrate::main" }, /* Rust, v0 */
		{ "main", NULL },
		{ "_Z", NULL },
		{ "_Zgarbage", NULL },
		{ "", NULL },
	};
	char *d, *big;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d = pg_demangle(cases[i].in);
		if (!cases[i].out && d)
			fail_msg("'%s' demangled to '%s'", cases[i].in, d);
		if (cases[i].out && (!d || strcmp(d, cases[i].out)))
			fail_msg("'%s' demangled to '%s', expected '%s'", cases[i].in, d ? d : "(null)",
				 cases[i].out);
		free(d);
	}
	/* a name longer than the limit is shown as written, whatever it holds */
	big = malloc(PG_DEMANGLE_MAX + 16);
	strcpy(big, "_ZN");
	while (strlen(big) < PG_DEMANGLE_MAX)
		strcat(big, "1a");
	strcat(big, "Ev");
	assert_null(pg_demangle(big));
	free(big);
}

/* Through the symbolizer: the name shown is demangled, the symbol table's is kept. */
static void test_resolve_cxx(void **state)
{
	struct pg_usyms *u = pg_usyms__new();
	struct pg_usym r, again;
	uint64_t addr = (uint64_t)(uintptr_t)&pg_test_cxx_function;

	assert_int_equal(pg_test_cxx_function(1, "x"), 6);
	pg_usyms__resolve(u, getpid(), addr + 1, &r);
	assert_non_null(r.name);
	assert_string_equal(r.name, "int pgt::scale<int>(int, char const*)");
	assert_string_equal(r.system_name, "_ZN3pgt5scaleIiEEiiPKc");
	/* demangled once: the same string the next time */
	pg_usyms__resolve(u, getpid(), addr + 2, &again);
	assert_ptr_equal(again.name, r.name);
	/* a C name is itself */
	pg_usyms__resolve(u, getpid(), (uint64_t)(uintptr_t)&pg_test_marker_function, &r);
	assert_string_equal(r.name, "pg_test_marker_function");
	assert_ptr_equal(r.name, r.system_name);
	pg_usyms__free(u);
}

static void test_elf_garbage(void **state)
{
	struct pg_elf_syms e;
	static const char junk[] = "\x7f" "ELF\x02\x01\x01 this is not an ELF file at all";

	assert_int_not_equal(pg_elf_syms__from_memory(&e, "hello", 5), 0);
	assert_int_not_equal(pg_elf_syms__from_memory(&e, junk, sizeof(junk)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kallsyms),     cmocka_unit_test(test_kallsyms_restricted),
		cmocka_unit_test(test_kallsyms_real), cmocka_unit_test(test_maps_line),
		cmocka_unit_test(test_maps_file),    cmocka_unit_test(test_elf_self),
		cmocka_unit_test(test_resolve_self), cmocka_unit_test(test_elf_garbage),
		cmocka_unit_test(test_demangle),     cmocka_unit_test(test_resolve_cxx),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
