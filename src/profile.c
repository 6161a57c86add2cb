// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * CPU profiles in memory and their writers.
 *
 * pprof is encoded with protobuf-c from proto/pprof.proto (our own description of pprof's
 * field numbers). Hand-writing the wire format would be ~150 lines and no dependency, but the
 * generated code gives us a decoder for free (the unit tests decode our own output with it),
 * checks every field's wire type at compile time, and is the library the project already
 * uses for its event schema.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pprof.pb-c.h"
#include "profile.h"

void pg_profile__init(struct pg_profile *p)
{
	memset(p, 0, sizeof(*p));
}

void pg_profile__destroy(struct pg_profile *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->samples[i].frames);
	free(p->samples);
	memset(p, 0, sizeof(*p));
}

int pg_profile__add(struct pg_profile *p, uint32_t pid, const char *comm,
		    const struct pg_frame *frames, uint32_t nframes, uint64_t count)
{
	struct pg_prof_sample *s;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		struct pg_prof_sample *v = realloc(p->samples, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->samples = v;
		p->cap = cap;
	}
	s = &p->samples[p->n];
	memset(s, 0, sizeof(*s));
	s->frames = malloc((nframes ? nframes : 1) * sizeof(*frames));
	if (!s->frames)
		return -ENOMEM;
	if (nframes)
		memcpy(s->frames, frames, nframes * sizeof(*frames));
	s->pid = pid;
	strncpy(s->comm, comm, sizeof(s->comm) - 1);
	s->nframes = nframes;
	s->count = count;
	p->n++;
	return 0;
}

/* --- folded ------------------------------------------------------------------------------- */

struct sbuf {
	char *s;
	size_t len, cap;
};

static int sbuf_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *ns;

		while (cap < b->len + n + 1)
			cap *= 2;
		ns = realloc(b->s, cap);
		if (!ns)
			return -ENOMEM;
		b->s = ns;
		b->cap = cap;
	}
	/* ';' separates frames and a newline ends the line: neither may appear in a name */
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		b->s[b->len++] = c == ';' ? ':' : (c == '\n' || c == '\r') ? '?' : c;
	}
	b->s[b->len] = 0;
	return 0;
}

/* The frame separator, which sbuf_put would rewrite. */
static int sbuf_sep(struct sbuf *b)
{
	int err = sbuf_put(b, " ", 1);

	if (!err)
		b->s[b->len - 1] = ';';
	return err;
}

int pg_profile__fold(const struct pg_profile *p, struct pg_folded *out)
{
	struct sbuf b = { 0 };
	int err = 0;

	pg_folded__init(out);
	for (size_t i = 0; i < p->n && !err; i++) {
		const struct pg_prof_sample *s = &p->samples[i];

		b.len = 0;
		err = sbuf_put(&b, s->comm[0] ? s->comm : "[unknown]",
			       s->comm[0] ? strnlen(s->comm, sizeof(s->comm)) : 9);
		for (uint32_t j = s->nframes; j-- > 0 && !err;) {
			const struct pg_frame *f = &s->frames[j];

			err = sbuf_sep(&b);
			if (!err)
				err = sbuf_put(&b, f->name, strlen(f->name));
			if (!err && f->kind == PG_FRAME_KERNEL)
				err = sbuf_put(&b, PG_KERNEL_SUFFIX, sizeof(PG_KERNEL_SUFFIX) - 1);
		}
		if (!err)
			err = pg_folded__add(out, b.s, b.len, s->count);
	}
	free(b.s);
	if (err) {
		pg_folded__destroy(out);
		return err;
	}
	pg_folded__merge(out);
	return 0;
}

void pg_profile__describe(const struct pg_profile *p, char *buf, size_t len)
{
	uint64_t total = 0;
	int n;

	for (size_t i = 0; i < p->n; i++)
		total += p->samples[i].count;
	n = snprintf(buf, len, "%llu samples at %llu Hz over %.1f s", (unsigned long long)total,
		     (unsigned long long)p->freq_hz, (double)p->duration_ns / 1e9);
	if (n < 0 || (size_t)n >= len)
		return;
	if (p->kstack_lost || p->ustack_lost || p->map_full)
		snprintf(buf + n, len - (size_t)n,
			 "; lost: %llu kernel stacks, %llu user stacks, %llu samples (counts map full)",
			 (unsigned long long)p->kstack_lost, (unsigned long long)p->ustack_lost,
			 (unsigned long long)p->map_full);
	else
		snprintf(buf + n, len - (size_t)n, "; nothing lost");
}

/* --- pprof -------------------------------------------------------------------------------- */

/* Open-addressing table from up to three 64-bit words (or a string) to an id. */
struct idx_entry {
	uint64_t k[3];
	const char *str; /* string keys */
	uint64_t id; /* 0: empty */
};

struct idx {
	struct idx_entry *v;
	size_t cap, n;
};

static uint64_t mix(uint64_t h, uint64_t x)
{
	h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int idx_grow(struct idx *t);

/* Find key; when absent insert it with id next_id and set *inserted. Returns the id, 0 on ENOMEM. */
static uint64_t idx_get(struct idx *t, const uint64_t k[3], const char *str, uint64_t next_id,
			bool *inserted)
{
	uint64_t h = str ? str_hash(str) : mix(mix(mix(0, k[0]), k[1]), k[2]);
	size_t i;

	*inserted = false;
	if ((t->n + 1) * 2 > t->cap && idx_grow(t))
		return 0;
	for (i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		struct idx_entry *e = &t->v[i];

		if (!e->id) {
			if (str)
				e->str = str;
			else
				memcpy(e->k, k, sizeof(e->k));
			e->id = next_id;
			t->n++;
			*inserted = true;
			return next_id;
		}
		if (str ? (e->str && !strcmp(e->str, str)) : (!e->str && !memcmp(e->k, k, sizeof(e->k))))
			return e->id;
	}
}

static int idx_grow(struct idx *t)
{
	size_t cap = t->cap ? t->cap * 2 : 1024;
	struct idx_entry *old = t->v, *v = calloc(cap, sizeof(*v));
	size_t ocap = t->cap;

	if (!v)
		return -ENOMEM;
	t->v = v;
	t->cap = cap;
	t->n = 0;
	for (size_t i = 0; i < ocap; i++) {
		bool ins;

		if (old[i].id)
			idx_get(t, old[i].k, old[i].str, old[i].id, &ins);
	}
	free(old);
	return 0;
}

struct enc {
	struct idx strs, funcs, locs, maps;
	char **strings;
	size_t nstrings, cap_strings;
	Pangolin__Pprof__Function **funcs_v;
	size_t nfuncs, cap_funcs;
	Pangolin__Pprof__Location **locs_v;
	size_t nlocs, cap_locs;
	Pangolin__Pprof__Mapping **maps_v;
	size_t nmaps, cap_maps;
	bool oom;
};

static bool grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	size_t c = *cap ? *cap * 2 : 64;
	void *nv = realloc(*v, c * size);

	if (!nv)
		return false;
	*v = nv;
	*cap = c;
	return true;
}

/* Index of s in the string table (the table borrows s: it outlives the encoding). */
static int64_t str_id(struct enc *e, const char *s)
{
	bool ins;
	uint64_t id;

	if (!s || !*s)
		return 0;
	id = idx_get(&e->strs, NULL, s, e->nstrings, &ins);
	if (!id && e->nstrings) {
		e->oom = true;
		return 0;
	}
	if (ins) {
		if (!grow((void **)&e->strings, &e->cap_strings, e->nstrings, sizeof(char *))) {
			e->oom = true;
			return 0;
		}
		e->strings[e->nstrings++] = (char *)s;
	}
	return (int64_t)id;
}

static uint64_t mapping_id(struct enc *e, const struct pg_frame *f)
{
	uint64_t k[3] = { (uint64_t)str_id(e, f->module), 0, 0 }, id;
	Pangolin__Pprof__Mapping *m;
	bool ins;

	if (!k[0])
		return 0;
	id = idx_get(&e->maps, k, NULL, e->nmaps + 1, &ins);
	if (!id || (ins && !grow((void **)&e->maps_v, &e->cap_maps, e->nmaps, sizeof(m)))) {
		e->oom = true;
		return 0;
	}
	if (ins) {
		m = malloc(sizeof(*m));
		if (!m) {
			e->oom = true;
			return 0;
		}
		pangolin__pprof__mapping__init(m);
		m->id = id;
		m->filename = (int64_t)k[0];
		m->build_id = str_id(e, f->build_id);
		m->has_functions = true;
		m->memory_start = f->module_hi ? f->module_lo : f->addr;
		m->memory_limit = f->module_hi ? f->module_hi : f->addr + 1;
		e->maps_v[e->nmaps++] = m;
	}
	m = e->maps_v[id - 1];
	/* addresses are ELF virtual addresses of one file: the mapping spans those we saw */
	if (f->addr < m->memory_start)
		m->memory_start = f->addr;
	if (f->addr >= m->memory_limit)
		m->memory_limit = f->addr + 1;
	return id;
}

static uint64_t function_id(struct enc *e, const struct pg_frame *f)
{
	uint64_t k[3] = { (uint64_t)str_id(e, f->name), (uint64_t)str_id(e, f->module),
			  (uint64_t)str_id(e, f->system_name ? f->system_name : f->name) }, id;
	Pangolin__Pprof__Function *fn;
	bool ins;

	id = idx_get(&e->funcs, k, NULL, e->nfuncs + 1, &ins);
	if (!id || (ins && !grow((void **)&e->funcs_v, &e->cap_funcs, e->nfuncs, sizeof(fn)))) {
		e->oom = true;
		return 0;
	}
	if (ins) {
		fn = malloc(sizeof(*fn));
		if (!fn) {
			e->oom = true;
			return 0;
		}
		pangolin__pprof__function__init(fn);
		fn->id = id;
		fn->name = (int64_t)k[0];
		fn->system_name = (int64_t)k[2]; /* the mangled name, as pprof has it */
		fn->filename = (int64_t)k[1];
		e->funcs_v[e->nfuncs++] = fn;
	}
	return id;
}

static uint64_t location_id(struct enc *e, const struct pg_frame *f)
{
	uint64_t map = mapping_id(e, f), fn = function_id(e, f), id;
	uint64_t k[3] = { map, f->addr, fn };
	Pangolin__Pprof__Location *l;
	bool ins;

	id = idx_get(&e->locs, k, NULL, e->nlocs + 1, &ins);
	if (!id || (ins && !grow((void **)&e->locs_v, &e->cap_locs, e->nlocs, sizeof(l)))) {
		e->oom = true;
		return 0;
	}
	if (ins) {
		l = calloc(1, sizeof(*l) + sizeof(Pangolin__Pprof__Line) + sizeof(void *));
		if (!l) {
			e->oom = true;
			return 0;
		}
		Pangolin__Pprof__Line *line = (Pangolin__Pprof__Line *)(l + 1);
		Pangolin__Pprof__Line **lines = (Pangolin__Pprof__Line **)(line + 1);

		pangolin__pprof__location__init(l);
		pangolin__pprof__line__init(line);
		line->function_id = fn;
		lines[0] = line;
		l->id = id;
		l->mapping_id = map;
		l->address = f->addr;
		l->n_line = 1;
		l->line = lines;
		e->locs_v[e->nlocs++] = l;
	}
	return id;
}

int pg_profile__encode_pprof(const struct pg_profile *p, uint8_t **buf, size_t *len)
{
	Pangolin__Pprof__Profile prof = PANGOLIN__PPROF__PROFILE__INIT;
	Pangolin__Pprof__ValueType vt[2] = { PANGOLIN__PPROF__VALUE_TYPE__INIT,
					     PANGOLIN__PPROF__VALUE_TYPE__INIT };
	Pangolin__Pprof__ValueType *vtp[2] = { &vt[0], &vt[1] };
	Pangolin__Pprof__ValueType period = PANGOLIN__PPROF__VALUE_TYPE__INIT;
	Pangolin__Pprof__Sample *samples = NULL, **sp = NULL;
	Pangolin__Pprof__Label *labels = NULL, **lp = NULL;
	uint64_t *locids = NULL;
	int64_t *values = NULL, comments[2];
	char describe[256];
	struct enc e = { 0 };
	size_t nloc_total = 0;
	uint64_t period_ns = p->freq_hz ? 1000000000ULL / p->freq_hz : 0;
	int err = -ENOMEM;

	if (!grow((void **)&e.strings, &e.cap_strings, 0, sizeof(char *)))
		goto out;
	e.strings[e.nstrings++] = (char *)""; /* index 0 is always the empty string */
	vt[0].type = str_id(&e, "samples");
	vt[0].unit = str_id(&e, "count");
	vt[1].type = str_id(&e, "cpu");
	vt[1].unit = str_id(&e, "nanoseconds");
	period.type = vt[1].type;
	period.unit = vt[1].unit;

	for (size_t i = 0; i < p->n; i++)
		nloc_total += p->samples[i].nframes;
	samples = calloc(p->n + 1, sizeof(*samples));
	sp = calloc(p->n + 1, sizeof(*sp));
	labels = calloc(2 * p->n + 1, sizeof(*labels));
	lp = calloc(2 * p->n + 1, sizeof(*lp));
	locids = calloc(nloc_total + 1, sizeof(*locids));
	values = calloc(2 * p->n + 1, sizeof(*values));
	if (!samples || !sp || !labels || !lp || !locids || !values)
		goto out;

	int64_t k_pid = str_id(&e, "pid"), k_comm = str_id(&e, "comm");
	size_t li = 0;

	for (size_t i = 0; i < p->n; i++) {
		const struct pg_prof_sample *s = &p->samples[i];
		Pangolin__Pprof__Sample *x = &samples[i];

		pangolin__pprof__sample__init(x);
		x->location_id = &locids[li];
		for (uint32_t j = 0; j < s->nframes; j++)
			locids[li++] = location_id(&e, &s->frames[j]);
		x->n_location_id = s->nframes;
		values[2 * i] = (int64_t)s->count;
		values[2 * i + 1] = (int64_t)(s->count * period_ns);
		x->value = &values[2 * i];
		x->n_value = 2;
		pangolin__pprof__label__init(&labels[2 * i]);
		labels[2 * i].key = k_pid;
		labels[2 * i].num = s->pid;
		pangolin__pprof__label__init(&labels[2 * i + 1]);
		labels[2 * i + 1].key = k_comm;
		/* comm is inside the sample, which outlives the encoding */
		labels[2 * i + 1].str = str_id(&e, s->comm[0] ? s->comm : "[unknown]");
		lp[2 * i] = &labels[2 * i];
		lp[2 * i + 1] = &labels[2 * i + 1];
		x->label = &lp[2 * i];
		x->n_label = 2;
		sp[i] = x;
	}
	pg_profile__describe(p, describe, sizeof(describe));
	comments[0] = str_id(&e, "pangolin profile");
	comments[1] = str_id(&e, describe);
	if (e.oom)
		goto out;

	prof.n_sample_type = 2;
	prof.sample_type = vtp;
	prof.n_sample = p->n;
	prof.sample = sp;
	prof.n_mapping = e.nmaps;
	prof.mapping = e.maps_v;
	prof.n_location = e.nlocs;
	prof.location = e.locs_v;
	prof.n_function = e.nfuncs;
	prof.function = e.funcs_v;
	prof.n_string_table = e.nstrings;
	prof.string_table = e.strings;
	prof.time_nanos = (int64_t)p->time_ns;
	prof.duration_nanos = (int64_t)p->duration_ns;
	prof.period_type = &period;
	prof.period = (int64_t)period_ns;
	prof.n_comment = 2;
	prof.comment = comments;
	prof.default_sample_type = vt[1].type;

	*len = pangolin__pprof__profile__get_packed_size(&prof);
	*buf = malloc(*len ? *len : 1);
	if (!*buf)
		goto out;
	pangolin__pprof__profile__pack(&prof, *buf);
	err = 0;
out:
	free(samples);
	free(sp);
	free(labels);
	free(lp);
	free(locids);
	free(values);
	free(e.strings);
	for (size_t i = 0; i < e.nfuncs; i++)
		free(e.funcs_v[i]);
	free(e.funcs_v);
	for (size_t i = 0; i < e.nlocs; i++)
		free(e.locs_v[i]);
	free(e.locs_v);
	for (size_t i = 0; i < e.nmaps; i++)
		free(e.maps_v[i]);
	free(e.maps_v);
	free(e.strs.v);
	free(e.funcs.v);
	free(e.locs.v);
	free(e.maps.v);
	return err;
}

int pg_profile__write_pprof(const struct pg_profile *p, FILE *out)
{
	uint8_t *raw = NULL, chunk[65536];
	size_t len = 0;
	z_stream z;
	int err, zr;

	err = pg_profile__encode_pprof(p, &raw, &len);
	if (err)
		return err;
	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip wrapper, which is what pprof files are */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK) {
		free(raw);
		return -ENOMEM;
	}
	z.next_in = raw;
	z.avail_in = (uInt)len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = deflate(&z, Z_FINISH);
		if (zr == Z_STREAM_ERROR) {
			err = -EIO;
			break;
		}
		if (fwrite(chunk, 1, sizeof(chunk) - z.avail_out, out) != sizeof(chunk) - z.avail_out) {
			err = -EIO;
			break;
		}
	} while (zr != Z_STREAM_END);
	deflateEnd(&z);
	free(raw);
	return err;
}
