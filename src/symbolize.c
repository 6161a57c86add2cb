// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kernel and user symbolization; the approach is described in symbolize.h. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <libiberty/demangle.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbolize.h"

/* --- small parsing helpers ---------------------------------------------------------------- */

/* Hex number of 1..16 digits at *p (advanced past it). */
static bool parse_hex(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int n = 0;

	while (s < end) {
		char c = *s;
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned int)(c - 'A' + 10);
		else
			break;
		if (++n > 16)
			return false;
		v = v << 4 | d;
		s++;
	}
	if (!n)
		return false;
	*p = s;
	*out = v;
	return true;
}

static bool parse_dec(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (s >= end || *s < '0' || *s > '9')
		return false;
	while (s < end && *s >= '0' && *s <= '9') {
		unsigned int d = (unsigned int)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
		s++;
	}
	*p = s;
	*out = v;
	return true;
}

static bool expect(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

static int read_file(const char *path, char **out, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	int fd, err = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(buf);
		return err;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *b = realloc(buf, cap * 2);

			if (!b) {
				err = -ENOMEM;
				break;
			}
			buf = b;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* --- kernel ------------------------------------------------------------------------------- */

static int ksym_cmp(const void *a, const void *b)
{
	const struct pg_ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int pg_ksyms__parse(struct pg_ksyms *k, const char *buf, size_t len, size_t *bad)
{
	const char *p = buf, *end = buf + len;
	const char *last_mod = NULL;
	size_t last_mod_len = 0;
	char *last_mod_copy = NULL;
	bool any_nonzero = false;
	size_t nbad = 0;

	memset(k, 0, sizeof(*k));
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *q = p, *name, *mod = NULL;
		size_t name_len, mod_len = 0;
		uint64_t addr;
		char type;

		if (!eol)
			eol = end;
		if (!parse_hex(&q, eol, &addr) || !expect(&q, eol, ' ') || q >= eol)
			goto bad_line;
		type = *q++;
		if (!expect(&q, eol, ' ') || q >= eol)
			goto bad_line;
		name = q;
		while (q < eol && *q != '\t' && *q != ' ')
			q++;
		name_len = (size_t)(q - name);
		if (!name_len || memchr(name, '\0', name_len))
			goto bad_line;
		if (q < eol) {
			q++;
			if (q < eol && *q == '[') {
				const char *close = memchr(q, ']', (size_t)(eol - q));

				if (!close)
					goto bad_line;
				mod = q + 1;
				mod_len = (size_t)(close - mod);
			}
		}
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			goto next;
		if (k->n == k->cap) {
			size_t cap = k->cap ? k->cap * 2 : 4096;
			struct pg_ksym *s = realloc(k->syms, cap * sizeof(*s));

			if (!s)
				goto nomem;
			k->syms = s;
			k->cap = cap;
		}
		k->syms[k->n].addr = addr;
		k->syms[k->n].name = strndup(name, name_len);
		k->syms[k->n].module = NULL;
		if (!k->syms[k->n].name)
			goto nomem;
		if (mod) {
			/* modules' symbols are contiguous: share one copy of the name per run */
			if (!last_mod || last_mod_len != mod_len || memcmp(last_mod, mod, mod_len)) {
				last_mod_copy = strndup(mod, mod_len);
				if (!last_mod_copy) {
					free(k->syms[k->n].name);
					goto nomem;
				}
				last_mod = mod;
				last_mod_len = mod_len;
				/* the first symbol that uses a copy owns it (see destroy) */
				k->syms[k->n].module = last_mod_copy;
			} else {
				k->syms[k->n].module = last_mod_copy;
			}
		}
		if (addr)
			any_nonzero = true;
		k->n++;
		goto next;
bad_line:
		nbad++;
next:
		p = eol + 1;
	}
	k->restricted = k->n && !any_nonzero;
	qsort(k->syms, k->n, sizeof(*k->syms), ksym_cmp);
	if (bad)
		*bad = nbad;
	return 0;
nomem:
	pg_ksyms__destroy(k);
	return -ENOMEM;
}

int pg_ksyms__load(struct pg_ksyms *k, const char *path)
{
	char *buf;
	size_t len;
	int err = read_file(path, &buf, &len);

	if (err)
		return err;
	err = pg_ksyms__parse(k, buf, len, NULL);
	free(buf);
	return err;
}

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

void pg_ksyms__destroy(struct pg_ksyms *k)
{
	uintptr_t *mods = NULL;
	size_t nmods = 0;

	if (!k->syms)
		return;
	mods = calloc(k->n + 1, sizeof(*mods));
	for (size_t i = 0; i < k->n; i++) {
		free(k->syms[i].name);
		if (k->syms[i].module && mods)
			mods[nmods++] = (uintptr_t)k->syms[i].module;
	}
	/* module names are shared between symbols: free each distinct pointer once */
	if (mods) {
		qsort(mods, nmods, sizeof(*mods), ptr_cmp);
		for (size_t i = 0; i < nmods; i++)
			if (!i || mods[i] != mods[i - 1])
				free((void *)mods[i]);
		free(mods);
	}
	free(k->syms);
	memset(k, 0, sizeof(*k));
}

const struct pg_ksym *pg_ksyms__lookup(const struct pg_ksyms *k, uint64_t addr)
{
	size_t lo = 0, hi = k->n;

	if (!k->n || addr < k->syms[0].addr || k->restricted)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return &k->syms[lo];
}

/* --- maps --------------------------------------------------------------------------------- */

int pg_map_parse_line(const char *line, size_t len, struct pg_map *m)
{
	const char *p = line, *end = line + len;
	uint64_t major, minor;

	while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	memset(m, 0, sizeof(*m));
	if (!parse_hex(&p, end, &m->start) || !expect(&p, end, '-') ||
	    !parse_hex(&p, end, &m->end) || m->end < m->start || !expect(&p, end, ' '))
		return -EINVAL;
	if (end - p < 5 || (p[0] != 'r' && p[0] != '-') || (p[1] != 'w' && p[1] != '-') ||
	    (p[2] != 'x' && p[2] != '-') || (p[3] != 'p' && p[3] != 's') || p[4] != ' ')
		return -EINVAL;
	m->exec = p[2] == 'x';
	p += 5;
	if (!parse_hex(&p, end, &m->pgoff) || !expect(&p, end, ' ') || !parse_hex(&p, end, &major) ||
	    !expect(&p, end, ':') || !parse_hex(&p, end, &minor) || !expect(&p, end, ' ') ||
	    !parse_dec(&p, end, &m->inode) || major > 0xfff || minor > 0xfffff)
		return -EINVAL;
	m->dev_major = (unsigned int)major;
	m->dev_minor = (unsigned int)minor;
	if (p < end && *p != ' ')
		return -EINVAL;
	while (p < end && *p == ' ')
		p++;
	if (memchr(p, '\0', (size_t)(end - p)))
		return -EINVAL;
	m->path = strndup(p, (size_t)(end - p));
	return m->path ? 0 : -ENOMEM;
}

static int map_cmp(const void *a, const void *b)
{
	const struct pg_map *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int pg_maps_parse(const char *buf, size_t len, struct pg_map **out, size_t *n)
{
	const char *p = buf, *end = buf + len;
	struct pg_map *v = NULL;
	size_t cnt = 0, cap = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		struct pg_map m;
		int err;

		if (!eol)
			eol = end;
		err = pg_map_parse_line(p, (size_t)(eol - p), &m);
		p = eol + 1;
		if (err == -ENOMEM)
			goto nomem;
		if (err)
			continue; /* a line we do not understand names no code we could symbolize */
		if (!m.exec || !m.path[0]) {
			free(m.path);
			continue;
		}
		if (cnt == cap) {
			size_t c = cap ? cap * 2 : 32;
			struct pg_map *nv = realloc(v, c * sizeof(*nv));

			if (!nv) {
				free(m.path);
				goto nomem;
			}
			v = nv;
			cap = c;
		}
		v[cnt++] = m;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), map_cmp);
	*out = v;
	*n = cnt;
	return 0;
nomem:
	pg_maps_free(v, cnt);
	return -ENOMEM;
}

void pg_maps_free(struct pg_map *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i].path);
	free(m);
}

static const struct pg_map *maps_find(const struct pg_map *m, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < m[mid].start)
			hi = mid;
		else if (addr >= m[mid].end)
			lo = mid + 1;
		else
			return &m[mid];
	}
	return NULL;
}

/* --- ELF ---------------------------------------------------------------------------------- */

static int elfsym_cmp(const void *a, const void *b)
{
	const struct pg_elf_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* at one address prefer the symbol with a size (a real function over a label) */
	return (x->size == 0) - (y->size == 0);
}

struct strbuf {
	char *s;
	size_t len, cap;
};

/* Append a NUL-terminated copy; returns its offset or SIZE_MAX on ENOMEM. */
static size_t strbuf_add(struct strbuf *b, const char *s)
{
	size_t n = strlen(s) + 1, off = b->len;

	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *ns;

		while (cap < b->len + n)
			cap *= 2;
		ns = realloc(b->s, cap);
		if (!ns)
			return SIZE_MAX;
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	return off;
}

/* Read function symbols of one symbol-table section; names stored as offsets for now. */
static int read_symtab(Elf *elf, Elf_Scn *scn, GElf_Shdr *sh, struct pg_elf_sym **syms,
		       size_t *n, size_t *cap, struct strbuf *sb)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count;

	if (!data || !sh->sh_entsize)
		return 0;
	count = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		const char *name;
		size_t off;
		int type;

		if (!gelf_getsym(data, (int)i, &sym))
			break;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || !sym.st_value ||
		    sym.st_shndx == SHN_UNDEF)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 256;
			struct pg_elf_sym *s = realloc(*syms, c * sizeof(*s));

			if (!s)
				return -ENOMEM;
			*syms = s;
			*cap = c;
		}
		off = strbuf_add(sb, name);
		if (off == SIZE_MAX)
			return -ENOMEM;
		(*syms)[*n].addr = sym.st_value;
		(*syms)[*n].size = sym.st_size;
		(*syms)[*n].name = (const char *)(uintptr_t)off;
		(*n)++;
	}
	return 0;
}

static void read_build_id(Elf *elf, Elf_Scn *scn, char out[41])
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	if (!data)
		return;
	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && nh.n_descsz > 0 &&
		    nh.n_descsz <= 20 && name_off + 4 <= data->d_size &&
		    !memcmp((const char *)data->d_buf + name_off, "GNU", 4) &&
		    desc_off + nh.n_descsz <= data->d_size) {
			const unsigned char *d = (const unsigned char *)data->d_buf + desc_off;

			for (size_t i = 0; i < nh.n_descsz; i++)
				snprintf(out + 2 * i, 3, "%02x", d[i]);
			return;
		}
	}
}

/* Symbols (and, when segs is true, segments and build id) of an open Elf. */
static int elf_read(struct pg_elf_syms *e, Elf *elf, bool segs, bool *had_symtab)
{
	struct pg_elf_sym *syms = NULL;
	size_t n = 0, cap = 0, nph;
	struct strbuf sb = { 0 };
	GElf_Ehdr eh;
	Elf_Scn *scn = NULL;
	int err = 0;

	*had_symtab = false;
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh))
		return -ENOEXEC;
	if (segs && !elf_getphdrnum(elf, &nph)) {
		e->vaddr_min = UINT64_MAX;
		for (size_t i = 0; i < nph && i < 4096; i++) {
			GElf_Phdr ph;
			struct pg_elf_seg *ns;

			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
				continue;
			ns = realloc(e->segs, (e->nsegs + 1) * sizeof(*ns));
			if (!ns)
				return -ENOMEM;
			e->segs = ns;
			e->segs[e->nsegs++] = (struct pg_elf_seg){ ph.p_offset, ph.p_vaddr, ph.p_filesz,
								   ph.p_memsz };
			if (ph.p_flags & PF_X) {
				if (ph.p_vaddr < e->vaddr_min)
					e->vaddr_min = ph.p_vaddr;
				if (ph.p_vaddr + ph.p_memsz > e->vaddr_max)
					e->vaddr_max = ph.p_vaddr + ph.p_memsz;
			}
		}
		if (e->vaddr_min == UINT64_MAX)
			e->vaddr_min = 0;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) {
			if (sh.sh_type == SHT_SYMTAB)
				*had_symtab = true;
			err = read_symtab(elf, scn, &sh, &syms, &n, &cap, &sb);
			if (err)
				goto out;
		} else if (segs && sh.sh_type == SHT_NOTE && !e->build_id[0]) {
			read_build_id(elf, scn, e->build_id);
		}
	}
	/* merge with what an earlier call (the stripped file, before its debug file) read */
	if (n) {
		size_t base = e->n;
		struct pg_elf_sym *all = realloc(e->syms, (e->n + n) * sizeof(*all));
		char *strings;

		if (!all) {
			err = -ENOMEM;
			goto out;
		}
		e->syms = all;
		/* names become pointers once the string storage is final */
		strings = malloc(e->strings_len + sb.len);
		if (!strings) {
			err = -ENOMEM;
			goto out;
		}
		if (e->strings_len)
			memcpy(strings, e->strings, e->strings_len);
		memcpy(strings + e->strings_len, sb.s, sb.len);
		for (size_t i = 0; i < base; i++)
			e->syms[i].name = strings + (e->syms[i].name - e->strings);
		for (size_t i = 0; i < n; i++) {
			e->syms[base + i] = syms[i];
			e->syms[base + i].name = strings + e->strings_len + (uintptr_t)syms[i].name;
		}
		free(e->strings);
		e->strings = strings;
		e->strings_len += sb.len;
		e->n += n;
		qsort(e->syms, e->n, sizeof(*e->syms), elfsym_cmp);
		/* one symbol per address: the first after sorting (sized ones win) */
		size_t out = 0;

		for (size_t i = 0; i < e->n; i++)
			if (!out || e->syms[i].addr != e->syms[out - 1].addr)
				e->syms[out++] = e->syms[i];
		e->n = out;
	}
out:
	free(syms);
	free(sb.s);
	return err;
}

static int elf_init(void)
{
	return elf_version(EV_CURRENT) == EV_NONE ? -ENOTSUP : 0;
}

int pg_elf_syms__from_memory(struct pg_elf_syms *e, const void *buf, size_t len)
{
	bool had_symtab;
	Elf *elf;
	int err;

	memset(e, 0, sizeof(*e));
	if (elf_init())
		return -ENOTSUP;
	/* libelf only reads the image (ELF_C_READ semantics); the cast is its API's */
	elf = elf_memory((char *)(uintptr_t)buf, len);
	if (!elf)
		return -ENOEXEC;
	err = elf_read(e, elf, true, &had_symtab);
	elf_end(elf);
	if (err)
		pg_elf_syms__destroy(e);
	return err;
}

static int debug_file_syms(struct pg_elf_syms *e)
{
	char path[128];
	bool had_symtab;
	Elf *elf;
	int fd, err;

	if (strlen(e->build_id) < 3)
		return -ENOENT;
	snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%.2s/%s.debug", e->build_id,
		 e->build_id + 2);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf) {
		close(fd);
		return -ENOEXEC;
	}
	err = elf_read(e, elf, false, &had_symtab);
	elf_end(elf);
	close(fd);
	return err;
}

int pg_elf_syms__from_fd(struct pg_elf_syms *e, int fd)
{
	bool had_symtab;
	Elf *elf;
	int err;

	memset(e, 0, sizeof(*e));
	if (elf_init())
		return -ENOTSUP;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return -ENOEXEC;
	err = elf_read(e, elf, true, &had_symtab);
	elf_end(elf);
	if (err) {
		pg_elf_syms__destroy(e);
		return err;
	}
	/* a stripped binary: the distribution's debug package may have the full table */
	if (!had_symtab)
		debug_file_syms(e);
	return 0;
}

char *pg_demangle(const char *name)
{
	/* "_Z": C++ and Rust's legacy form; "_R": Rust's v0 form */
	if ((name[0] != '_' || (name[1] != 'Z' && name[1] != 'R')) ||
	    strnlen(name, PG_DEMANGLE_MAX + 1) > PG_DEMANGLE_MAX)
		return NULL;
	return cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI);
}

const char *pg_elf_syms__display_name(struct pg_elf_syms *e, const struct pg_elf_sym *s)
{
	size_t i = (size_t)(s - e->syms);
	char *d;

	if (!e->display) {
		e->display = calloc(e->n, sizeof(*e->display));
		if (!e->display)
			return s->name; /* shown as it is written: still a name */
	}
	if (!e->display[i]) {
		d = pg_demangle(s->name);
		e->display[i] = d ? d : s->name;
	}
	return e->display[i];
}

void pg_elf_syms__destroy(struct pg_elf_syms *e)
{
	for (size_t i = 0; e->display && i < e->n; i++)
		if (e->display[i] != e->syms[i].name)
			free((char *)e->display[i]);
	free(e->display);
	free(e->syms);
	free(e->segs);
	free(e->strings);
	memset(e, 0, sizeof(*e));
}

bool pg_elf_syms__offset_to_vaddr(const struct pg_elf_syms *e, uint64_t off, uint64_t *vaddr)
{
	for (size_t i = 0; i < e->nsegs; i++) {
		const struct pg_elf_seg *s = &e->segs[i];

		if (off >= s->offset && off - s->offset < s->filesz) {
			*vaddr = off - s->offset + s->vaddr;
			return true;
		}
	}
	return false;
}

const struct pg_elf_sym *pg_elf_syms__lookup(const struct pg_elf_syms *e, uint64_t vaddr)
{
	size_t lo = 0, hi = e->n;
	const struct pg_elf_sym *s;

	if (!e->n || vaddr < e->syms[0].addr)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (e->syms[mid].addr <= vaddr)
			lo = mid;
		else
			hi = mid;
	}
	s = &e->syms[lo];
	/* past the end of a sized function: padding or code no symbol covers */
	if (s->size && vaddr - s->addr >= s->size)
		return NULL;
	return s;
}

/* --- the user symbolizer ------------------------------------------------------------------ */

struct proc {
	pid_t pid;
	bool refreshed; /* maps re-read once already after a miss */
	struct pg_map *maps;
	size_t n;
};

struct elf_file {
	char *path; /* as in the maps */
	uint64_t inode;
	unsigned int dev_major, dev_minor;
	int err; /* 0 when syms are usable */
	struct pg_elf_syms syms;
};

struct pg_usyms {
	struct proc *procs; /* sorted by pid */
	size_t nprocs, cap_procs;
	struct elf_file **files;
	size_t nfiles, cap_files;
	struct pg_elf_syms vdso;
	int vdso_state; /* 0 not tried, 1 loaded, -1 unavailable */
	/* retired maps of refreshed processes: frames resolved earlier may point into them */
	struct pg_map **old_maps;
	size_t *old_n;
	size_t nold;
};

struct pg_usyms *pg_usyms__new(void)
{
	return calloc(1, sizeof(struct pg_usyms));
}

void pg_usyms__free(struct pg_usyms *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nprocs; i++)
		pg_maps_free(u->procs[i].maps, u->procs[i].n);
	free(u->procs);
	for (size_t i = 0; i < u->nfiles; i++) {
		pg_elf_syms__destroy(&u->files[i]->syms);
		free(u->files[i]->path);
		free(u->files[i]);
	}
	free(u->files);
	for (size_t i = 0; i < u->nold; i++)
		pg_maps_free(u->old_maps[i], u->old_n[i]);
	free(u->old_maps);
	free(u->old_n);
	pg_elf_syms__destroy(&u->vdso);
	free(u);
}

static struct proc *proc_find(struct pg_usyms *u, pid_t pid, size_t *pos)
{
	size_t lo = 0, hi = u->nprocs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (u->procs[mid].pid < pid)
			lo = mid + 1;
		else if (u->procs[mid].pid > pid)
			hi = mid;
		else
			return &u->procs[mid];
	}
	if (pos)
		*pos = lo;
	return NULL;
}

static int read_maps(pid_t pid, struct pg_map **maps, size_t *n)
{
	char path[64], *buf;
	size_t len;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	err = read_file(path, &buf, &len);
	if (err)
		return err;
	err = pg_maps_parse(buf, len, maps, n);
	free(buf);
	return err;
}

int pg_usyms__note_pid(struct pg_usyms *u, pid_t pid)
{
	struct pg_map *maps;
	size_t n, pos = 0;
	int err;

	if (proc_find(u, pid, &pos))
		return 0;
	err = read_maps(pid, &maps, &n);
	if (err)
		return err;
	if (u->nprocs == u->cap_procs) {
		size_t cap = u->cap_procs ? u->cap_procs * 2 : 64;
		struct proc *p = realloc(u->procs, cap * sizeof(*p));

		if (!p) {
			pg_maps_free(maps, n);
			return -ENOMEM;
		}
		u->procs = p;
		u->cap_procs = cap;
	}
	memmove(&u->procs[pos + 1], &u->procs[pos], (u->nprocs - pos) * sizeof(*u->procs));
	u->procs[pos] = (struct proc){ .pid = pid, .maps = maps, .n = n };
	u->nprocs++;
	return 0;
}

static int refresh(struct pg_usyms *u, struct proc *p)
{
	struct pg_map *maps, **om;
	size_t n, *on;
	int err;

	p->refreshed = true;
	err = read_maps(p->pid, &maps, &n);
	if (err)
		return err;
	om = realloc(u->old_maps, (u->nold + 1) * sizeof(*om));
	if (om)
		u->old_maps = om;
	on = realloc(u->old_n, (u->nold + 1) * sizeof(*on));
	if (on)
		u->old_n = on;
	if (!om || !on) {
		pg_maps_free(maps, n);
		return -ENOMEM;
	}
	u->old_maps[u->nold] = p->maps;
	u->old_n[u->nold++] = p->n;
	p->maps = maps;
	p->n = n;
	return 0;
}

static int load_vdso(struct pg_usyms *u)
{
	uint64_t base = getauxval(AT_SYSINFO_EHDR);
	struct pg_map *maps;
	size_t n;
	int err = -ENOENT;

	if (u->vdso_state)
		return u->vdso_state > 0 ? 0 : -ENOENT;
	u->vdso_state = -1;
	/* every process of this kernel maps the same vDSO image: read our own */
	if (!base || read_maps(getpid(), &maps, &n))
		return -ENOENT;
	for (size_t i = 0; i < n; i++)
		if (maps[i].start == base && !strcmp(maps[i].path, "[vdso]")) {
			err = pg_elf_syms__from_memory(&u->vdso, (const void *)(uintptr_t)base,
						       maps[i].end - maps[i].start);
			break;
		}
	pg_maps_free(maps, n);
	if (!err)
		u->vdso_state = 1;
	return err;
}

static struct elf_file *elf_get(struct pg_usyms *u, pid_t pid, const struct pg_map *m)
{
	struct elf_file *f;
	char path[4200];
	int fd;

	for (size_t i = 0; i < u->nfiles; i++) {
		f = u->files[i];
		if (f->inode == m->inode && f->dev_major == m->dev_major &&
		    f->dev_minor == m->dev_minor && !strcmp(f->path, m->path))
			return f;
	}
	if (u->nfiles == u->cap_files) {
		size_t cap = u->cap_files ? u->cap_files * 2 : 32;
		struct elf_file **nf = realloc(u->files, cap * sizeof(*nf));

		if (!nf)
			return NULL;
		u->files = nf;
		u->cap_files = cap;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->path = strdup(m->path);
	if (!f->path) {
		free(f);
		return NULL;
	}
	f->inode = m->inode;
	f->dev_major = m->dev_major;
	f->dev_minor = m->dev_minor;
	/*
	 * The mapping itself first (right even when the file was replaced or deleted, and inside
	 * containers), then the path as the process sees it, then as we see it.
	 */
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, m->path);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0 && m->path[0] == '/')
		fd = open(m->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		f->err = -errno;
	} else {
		struct stat st;

		/* a different file now lives at that path: its symbols would lie */
		if (fstat(fd, &st) == 0 && m->inode && (uint64_t)st.st_ino != m->inode)
			f->err = -ESTALE;
		else
			f->err = pg_elf_syms__from_fd(&f->syms, fd);
		close(fd);
	}
	u->files[u->nfiles++] = f;
	return f;
}

void pg_usyms__resolve(struct pg_usyms *u, pid_t pid, uint64_t addr, struct pg_usym *out)
{
	const struct pg_map *m = NULL;
	const struct pg_elf_syms *syms = NULL;
	const struct pg_elf_sym *s;
	struct proc *p;
	uint64_t vaddr;

	memset(out, 0, sizeof(*out));
	out->build_id = "";
	p = proc_find(u, pid, NULL);
	if (!p && pg_usyms__note_pid(u, pid) == 0)
		p = proc_find(u, pid, NULL);
	if (!p)
		return;
	m = maps_find(p->maps, p->n, addr);
	if (!m && !p->refreshed && refresh(u, p) == 0)
		m = maps_find(p->maps, p->n, addr);
	if (!m)
		return;
	if (!strcmp(m->path, "[vdso]")) {
		if (load_vdso(u))
			return;
		syms = &u->vdso;
		out->module = "[vdso]";
		vaddr = addr - m->start;
		if (syms->nsegs && !pg_elf_syms__offset_to_vaddr(syms, addr - m->start, &vaddr))
			vaddr = addr - m->start;
	} else if (m->path[0] == '/') {
		struct elf_file *f = elf_get(u, pid, m);

		if (!f)
			return;
		out->module = f->path;
		if (f->err) {
			out->norm_addr = addr - m->start + m->pgoff;
			return;
		}
		syms = &f->syms;
		if (!pg_elf_syms__offset_to_vaddr(syms, addr - m->start + m->pgoff, &vaddr)) {
			out->norm_addr = addr - m->start + m->pgoff;
			return;
		}
	} else {
		return; /* anonymous executable memory (JIT) or another special mapping */
	}
	out->build_id = syms->build_id;
	out->norm_addr = vaddr;
	out->module_lo = syms->vaddr_min;
	out->module_hi = syms->vaddr_max;
	s = pg_elf_syms__lookup(syms, vaddr);
	if (s) {
		out->system_name = s->name;
		out->name = pg_elf_syms__display_name((struct pg_elf_syms *)syms, s);
	}
}

void pg_usyms__stats(const struct pg_usyms *u, size_t *procs, size_t *files)
{
	*procs = u->nprocs;
	*files = u->nfiles;
}
