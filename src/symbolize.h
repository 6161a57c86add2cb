/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Turning addresses into names.
 *
 * Kernel: /proc/kallsyms, sorted once, binary search.
 *
 * User: each process's address space is /proc/PID/maps; an address inside a file mapping is
 * turned into a file offset (addr - start + pgoff), then into the ELF virtual address of the
 * PT_LOAD segment that holds that offset (this is what makes PIE and ASLR come out right),
 * then looked up in the file's .symtab, else .dynsym (else the .symtab of the debug file
 * /usr/lib/debug/.build-id/xx/yyyy.debug when the distribution ships one). Symbol tables are
 * cached per file (device + inode), so a library shared by a hundred processes is read once.
 *
 * Names are shown demangled (C++, Rust) by libiberty's demangler, the one binutils and gdb
 * use; the name as written in the symbol table stays available (pprof's system_name).
 *
 * Processes that exit before the snapshot: the profiler notes every pid it sees while it runs
 * (pg_usyms__note_pid), which records the maps at that moment and opens nothing else. At
 * symbolization time the recorded maps are used; a pid never recorded and no longer alive
 * gets "[unknown]" frames.
 */
#ifndef PANGOLIN_SYMBOLIZE_H
#define PANGOLIN_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* --- kernel ------------------------------------------------------------------------------- */

struct pg_ksym {
	uint64_t addr;
	char *name; /* owned by the table */
	char *module; /* NULL for the core kernel */
};

struct pg_ksyms {
	struct pg_ksym *syms;
	size_t n, cap;
	bool restricted; /* every address read as 0 (kptr_restrict): names are unknowable */
};

/*
 * Parse kallsyms text ("ADDR TYPE NAME [MODULE]" lines). Only text symbols (t/T/w/W) are
 * kept. Malformed lines are skipped and counted in *bad (may be NULL). 0 or -ENOMEM.
 */
int pg_ksyms__parse(struct pg_ksyms *k, const char *buf, size_t len, size_t *bad);
/* Read and parse path (normally /proc/kallsyms). 0 or -errno. */
int pg_ksyms__load(struct pg_ksyms *k, const char *path);
void pg_ksyms__destroy(struct pg_ksyms *k);
/* The symbol containing addr (the greatest address <= addr), or NULL. */
const struct pg_ksym *pg_ksyms__lookup(const struct pg_ksyms *k, uint64_t addr);

/* --- /proc/PID/maps ----------------------------------------------------------------------- */

struct pg_map {
	uint64_t start, end, pgoff;
	uint64_t inode;
	unsigned int dev_major, dev_minor;
	bool exec;
	char *path; /* owned; "" for anonymous mappings; "[vdso]" etc. for special ones */
};

/*
 * Parse one maps line ("start-end perms offset major:minor inode [path]"). 0, or -EINVAL when
 * the line is malformed (the caller skips it), or -ENOMEM. On success m->path is allocated.
 */
int pg_map_parse_line(const char *line, size_t len, struct pg_map *m);

/* Parse a whole maps file's text: executable file mappings only, sorted by start. */
int pg_maps_parse(const char *buf, size_t len, struct pg_map **out, size_t *n);
void pg_maps_free(struct pg_map *m, size_t n);

/* --- ELF symbol tables -------------------------------------------------------------------- */

struct pg_elf_sym {
	uint64_t addr, size;
	const char *name; /* into the owning table's string storage */
};

struct pg_elf_seg {
	uint64_t offset, vaddr, filesz, memsz;
};

struct pg_elf_syms {
	struct pg_elf_sym *syms;
	size_t n;
	struct pg_elf_seg *segs; /* PT_LOAD */
	size_t nsegs;
	char *strings; /* owned copies of the names */
	size_t strings_len;
	char build_id[41]; /* hex, "" when the file has none */
	uint64_t vaddr_min, vaddr_max; /* extent of the executable PT_LOAD segments */
	/* per symbol, made on first use: the demangled name (owned), or its name when it is
	 * not mangled; NULL until then (pg_elf_syms__display_name) */
	const char **display;
};

/*
 * Read symbol tables from an ELF image in memory (a file's bytes). 0, -ENOEXEC when it is not
 * an ELF file libelf can read, -ENOMEM. Functions (STT_FUNC, STT_GNU_IFUNC) with non-zero
 * addresses from .symtab and .dynsym, sorted, duplicates dropped.
 */
int pg_elf_syms__from_memory(struct pg_elf_syms *e, const void *buf, size_t len);
/* The same from an open file. */
int pg_elf_syms__from_fd(struct pg_elf_syms *e, int fd);
void pg_elf_syms__destroy(struct pg_elf_syms *e);
/* File offset -> ELF virtual address through the PT_LOAD segments; false if none holds it. */
bool pg_elf_syms__offset_to_vaddr(const struct pg_elf_syms *e, uint64_t off, uint64_t *vaddr);
/* The function containing vaddr, or NULL. */
const struct pg_elf_sym *pg_elf_syms__lookup(const struct pg_elf_syms *e, uint64_t vaddr);

/*
 * Mangled names longer than this are shown as they are: the demangler's stack use grows with
 * the name (variable-length arrays of its parts), and a symbol table is untrusted input.
 */
#define PG_DEMANGLE_MAX 8192

/*
 * The human form of a mangled name ("_ZN3foo3barEi" is "foo::bar(int)"; Rust's too),
 * malloc'd; NULL when name is not mangled, not valid, or longer than PG_DEMANGLE_MAX.
 */
char *pg_demangle(const char *name);

/* The name to show for s, one of e's symbols: demangled on first use, kept in e. */
const char *pg_elf_syms__display_name(struct pg_elf_syms *e, const struct pg_elf_sym *s);

/* --- the user-space symbolizer ------------------------------------------------------------ */

struct pg_usyms;

/* What one user address resolved to. Strings belong to the symbolizer. */
struct pg_usym {
	const char *name; /* the function (demangled), or NULL when unknown */
	const char *system_name; /* the function as the symbol table writes it (mangled) */
	const char *module; /* the mapped file ("/usr/lib/.../libc.so.6"), or NULL */
	const char *build_id; /* hex or "" */
	uint64_t norm_addr; /* ELF virtual address in module (0 when no module) */
	uint64_t module_lo, module_hi; /* module's executable vaddr extent */
};

/* NULL with errno on failure. */
struct pg_usyms *pg_usyms__new(void);
void pg_usyms__free(struct pg_usyms *u);

/*
 * Record pid's maps now if they were not recorded yet (cheap when they were). 0, or -errno
 * when /proc/PID/maps cannot be read (the process is gone).
 */
int pg_usyms__note_pid(struct pg_usyms *u, pid_t pid);

/* Resolve addr in pid. Always fills out (with name NULL when unknown). */
void pg_usyms__resolve(struct pg_usyms *u, pid_t pid, uint64_t addr, struct pg_usym *out);

/* How many processes have maps recorded, and how many ELF files were read. */
void pg_usyms__stats(const struct pg_usyms *u, size_t *procs, size_t *files);

#endif /* PANGOLIN_SYMBOLIZE_H */
