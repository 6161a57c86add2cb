// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Flame graph layout and SVG; see flamegraph.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "flamegraph.h"

#define XPAD 10
#define FRAME_H 16
#define FONT_SIZE 12
#define FONT_W 0.59 /* average glyph width of Verdana, in font sizes */
#define MIN_W 0.1 /* pixels: narrower frames are left out (their share is in the parent) */
/*
 * Above the frames: the title's line (baseline TITLE_Y, 17px), and the subtitle's under it
 * when there is one; the tallest stack starts a line's height below the last baseline, so no
 * descender touches it.
 */
#define TITLE_Y 24
#define SUBTITLE_Y (TITLE_Y + FONT_SIZE + 4)
#define YPAD_TOP (FONT_SIZE * 3)
#define YPAD_TOP_SUBTITLE (SUBTITLE_Y + FONT_SIZE)
#define YPAD_BOTTOM (FONT_SIZE * 2 + 10)

enum pg_frame_kind pg_frame_kind_of(const char *name, size_t len, unsigned int depth)
{
	size_t sl = sizeof(PG_KERNEL_SUFFIX) - 1;

	if (depth <= 1)
		return PG_FRAME_PROCESS;
	if (len >= sl && !memcmp(name + len - sl, PG_KERNEL_SUFFIX, sl))
		return PG_FRAME_KERNEL;
	if (len && name[0] == '[')
		return PG_FRAME_UNKNOWN;
	return PG_FRAME_USER;
}

struct open_frame {
	const char *name;
	size_t len;
	uint64_t start;
};

struct frames {
	struct pg_flame_frame *v;
	size_t n, cap;
};

static int frames_push(struct frames *fs, const struct open_frame *o, unsigned int depth,
		       uint64_t end)
{
	if (fs->n == fs->cap) {
		size_t cap = fs->cap ? fs->cap * 2 : 256;
		struct pg_flame_frame *v = realloc(fs->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		fs->v = v;
		fs->cap = cap;
	}
	fs->v[fs->n++] = (struct pg_flame_frame){
		.name = o->name,
		.len = o->len,
		.depth = depth,
		.kind = pg_frame_kind_of(o->name, o->len, depth),
		.start = o->start,
		.value = end - o->start,
	};
	return 0;
}

int pg_flame__layout(const struct pg_folded *f, struct pg_flame_frame **out, size_t *n)
{
	struct frames fs = { 0 };
	struct open_frame *open = NULL;
	size_t nopen = 1, cap_open = 64;
	uint64_t x = 0;
	int err = -ENOMEM;

	open = malloc(cap_open * sizeof(*open));
	if (!open)
		goto err_out;
	open[0] = (struct open_frame){ .name = "all", .len = 3, .start = 0 };
	/* slot 0 of the output is the root, filled in when its width is known */
	if (frames_push(&fs, &open[0], 0, 0))
		goto err_out;

	for (size_t i = 0; i < f->n; i++) {
		const char *s = f->v[i].stack, *p = s;
		size_t depth = 1; /* index into open[] of the frame being matched */
		bool diverged = false;

		if (!f->v[i].count)
			continue;
		for (;;) {
			const char *e = strchr(p, ';');
			size_t len = e ? (size_t)(e - p) : strlen(p);

			if (!diverged && depth < nopen && open[depth].len == len &&
			    !memcmp(open[depth].name, p, len)) {
				depth++;
			} else {
				if (!diverged) {
					/* close everything deeper than the common prefix */
					while (nopen > depth) {
						nopen--;
						if (frames_push(&fs, &open[nopen], (unsigned int)nopen, x))
							goto err_out;
					}
					diverged = true;
				}
				if (nopen == cap_open) {
					struct open_frame *o = realloc(open, 2 * cap_open * sizeof(*o));

					if (!o)
						goto err_out;
					open = o;
					cap_open *= 2;
				}
				open[nopen++] = (struct open_frame){ .name = p, .len = len, .start = x };
				depth++;
			}
			if (!e)
				break;
			p = e + 1;
		}
		/* this stack ended above frames that are still open: they end here */
		if (!diverged)
			while (nopen > depth) {
				nopen--;
				if (frames_push(&fs, &open[nopen], (unsigned int)nopen, x))
					goto err_out;
			}
		x += f->v[i].count;
	}
	while (nopen > 1) {
		nopen--;
		if (frames_push(&fs, &open[nopen], (unsigned int)nopen, x))
			goto err_out;
	}
	fs.v[0].value = x;
	free(open);
	*out = fs.v;
	*n = fs.n;
	return 0;

err_out:
	free(open);
	free(fs.v);
	return err;
}

/* --- SVG ---------------------------------------------------------------------------------- */

static uint32_t name_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static void frame_colour(const struct pg_flame_frame *fr, char *buf, size_t len)
{
	uint32_t h = name_hash(fr->name, fr->len);
	double v1 = (h & 0xff) / 255.0, v2 = ((h >> 8) & 0xff) / 255.0, v3 = ((h >> 16) & 0xff) / 255.0;
	int r, g, b;

	switch (fr->kind) {
	case PG_FRAME_KERNEL: /* orange */
		r = 190 + (int)(65 * v1);
		g = 90 + (int)(65 * v1);
		b = 0;
		break;
	case PG_FRAME_UNKNOWN: /* grey */
		r = g = b = 160 + (int)(40 * v1);
		break;
	case PG_FRAME_PROCESS: /* blue */
		r = 80 + (int)(60 * v1);
		g = 130 + (int)(60 * v1);
		b = 200 + (int)(55 * v2);
		break;
	default: /* warm: red to yellow, the classic CPU palette */
		r = 205 + (int)(50 * v3);
		g = (int)(230 * v1);
		b = (int)(55 * v2);
		break;
	}
	snprintf(buf, len, "rgb(%d,%d,%d)", r, g, b);
}

/* The name as shown: the kernel suffix is said by the colour and the title instead. */
static size_t shown_len(const struct pg_flame_frame *fr)
{
	size_t sl = sizeof(PG_KERNEL_SUFFIX) - 1;

	return fr->kind == PG_FRAME_KERNEL ? fr->len - sl : fr->len;
}

/* Length of the valid UTF-8 sequence at s (at most len bytes), 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and non-characters are not allowed in XML */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0;
	return n;
}

/* Names are bytes from the kernel and from ELF files: escape them and replace whatever is not
 * valid XML text (control characters, broken UTF-8) with '?', so the file always parses. */
static void xml_escape(FILE *out, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;

	for (size_t i = 0; i < len;) {
		size_t n;

		switch (s[i]) {
		case '&': fputs("&amp;", out); i++; continue;
		case '<': fputs("&lt;", out); i++; continue;
		case '>': fputs("&gt;", out); i++; continue;
		case '"': fputs("&quot;", out); i++; continue;
		}
		n = utf8_seq(s + i, len - i);
		if (!n || (n == 1 && s[i] < 0x20)) {
			fputc('?', out);
			i++;
			continue;
		}
		fwrite(s + i, 1, n, out);
		i += n;
	}
}

/* Cut at most max bytes of s without splitting a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t max)
{
	while (max && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* Zoom on click, reset, search, details on hover; written for this layout, no dependencies. */
static const char script[] =
	"var details, searchbtn, unzoombtn, matchedtxt, svg, frames, fontsize = " "12" ", fontw = 0.59, xpad = 10, fullw;\n"
	"function init(evt) {\n"
	"  svg = document.documentElement; details = document.getElementById('details').firstChild;\n"
	"  searchbtn = document.getElementById('search'); unzoombtn = document.getElementById('unzoom');\n"
	"  matchedtxt = document.getElementById('matched');\n"
	"  frames = Array.prototype.slice.call(document.querySelectorAll('#frames > g'));\n"
	"  fullw = parseFloat(svg.getAttribute('width')) - 2 * xpad;\n"
	"  frames.forEach(function (g) {\n"
	"    g.addEventListener('mouseover', function () { details.nodeValue = g.querySelector('title').textContent; });\n"
	"    g.addEventListener('mouseout', function () { details.nodeValue = ' '; });\n"
	"    g.addEventListener('click', function () { zoom(g); });\n"
	"  });\n"
	"  unzoombtn.addEventListener('click', unzoom); searchbtn.addEventListener('click', search);\n"
	"}\n"
	"function geom(g) { var r = g.querySelector('rect');\n"
	"  return { x: parseFloat(r.getAttribute('data-x')), w: parseFloat(r.getAttribute('data-w')), y: parseFloat(r.getAttribute('y')) }; }\n"
	"function place(g, x, w) { var r = g.querySelector('rect'), t = g.querySelector('text');\n"
	"  r.setAttribute('x', x); r.setAttribute('width', w); t.setAttribute('x', x + 3);\n"
	"  var name = g.getAttribute('data-name'), n = Math.floor((w - 6) / (fontsize * fontw));\n"
	"  t.textContent = n < 3 ? '' : (name.length <= n ? name : name.substring(0, n - 2) + '..'); }\n"
	"function zoom(target) { var z = geom(target), ratio = fullw / z.w;\n"
	"  unzoombtn.classList.remove('hide');\n"
	"  frames.forEach(function (g) { var f = geom(g);\n"
	"    if (f.y > z.y && f.x <= z.x + 1e-6 && f.x + f.w >= z.x + z.w - 1e-6) { g.style.display = ''; g.style.opacity = 0.6; place(g, xpad, fullw); }\n"
	"    else if (f.y <= z.y && f.x >= z.x - 1e-6 && f.x + f.w <= z.x + z.w + 1e-6) { g.style.display = ''; g.style.opacity = 1; place(g, xpad + (f.x - z.x) * ratio, f.w * ratio); }\n"
	"    else g.style.display = 'none'; }); }\n"
	"function unzoom() { unzoombtn.classList.add('hide');\n"
	"  frames.forEach(function (g) { var f = geom(g); g.style.display = ''; g.style.opacity = 1; place(g, f.x, f.w); }); }\n"
	"function search() { var term = prompt('Search for (regular expression):', ''); var re, sum = 0, all = 0;\n"
	"  if (term === null) return;\n"
	"  try { re = new RegExp(term); } catch (e) { alert(e); return; }\n"
	"  var spans = [];\n"
	"  frames.forEach(function (g) { var r = g.querySelector('rect'), f = geom(g);\n"
	"    if (!r.hasAttribute('data-fill')) r.setAttribute('data-fill', r.getAttribute('fill'));\n"
	"    if (f.y === geom(frames[0]).y) all = f.w;\n"
	"    if (term !== '' && re.test(g.getAttribute('data-name'))) { r.setAttribute('fill', 'rgb(230,0,230)'); spans.push([f.x, f.x + f.w]); }\n"
	"    else r.setAttribute('fill', r.getAttribute('data-fill')); });\n"
	"  spans.sort(function (a, b) { return a[0] - b[0]; }); var end = -1;\n"
	"  spans.forEach(function (s) { if (s[0] >= end) { sum += s[1] - s[0]; end = s[1]; } else if (s[1] > end) { sum += s[1] - end; end = s[1]; } });\n"
	"  matchedtxt.textContent = term === '' ? ' ' : 'Matched: ' + (all ? (100 * sum / all).toFixed(1) : 0) + '%'; }\n";

int pg_flamegraph__write(const struct pg_folded *f, const struct pg_flame_opts *o, FILE *out)
{
	const char *title = o && o->title ? o->title : "Flame Graph";
	const char *unit = o && o->unit ? o->unit : "samples";
	unsigned int width = o && o->width ? o->width : 1200;
	struct pg_flame_frame *fr = NULL;
	unsigned int maxdepth = 0;
	unsigned int ypad_top = o && o->subtitle ? YPAD_TOP_SUBTITLE : YPAD_TOP;
	size_t n = 0;
	double per, height;
	uint64_t total;
	int err;

	err = pg_flame__layout(f, &fr, &n);
	if (err)
		return err;
	total = fr[0].value;
	per = total ? (double)(width - 2 * XPAD) / (double)total : 0;
	for (size_t i = 0; i < n; i++)
		if (fr[i].depth > maxdepth && (double)fr[i].value * per >= MIN_W)
			maxdepth = fr[i].depth;
	height = (maxdepth + 1) * FRAME_H + ypad_top + YPAD_BOTTOM;

	fprintf(out,
		"<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%u\" height=\"%.0f\" onload=\"init(evt)\" viewBox=\"0 0 %u %.0f\" "
		"xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n"
		"<!-- Flame graph drawn by pangolin: x is the population of %s sorted by name, not time;"
		" y is stack depth. Click to zoom, hover for details. -->\n"
		"<defs><linearGradient id=\"background\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">"
		"<stop stop-color=\"#eeeeee\" offset=\"5%%\"/><stop stop-color=\"#eeeeb0\" offset=\"95%%\"/>"
		"</linearGradient></defs>\n"
		"<style type=\"text/css\">\n"
		"text { font-family: Verdana, sans-serif; font-size: %dpx; fill: rgb(0,0,0); }\n"
		"#title { text-anchor: middle; font-size: 17px; }\n"
		"#subtitle { text-anchor: middle; fill: rgb(80,80,80); }\n"
		"#search, #unzoom { cursor: pointer; opacity: 0.6; }\n"
		"#search:hover, #unzoom:hover { opacity: 1; }\n"
		".hide { display: none; }\n"
		"#frames > g:hover rect { stroke: black; stroke-width: 0.5; cursor: pointer; }\n"
		"</style>\n"
		"<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n"
		"<rect x=\"0\" y=\"0\" width=\"%u\" height=\"%.0f\" fill=\"url(#background)\"/>\n",
		width, height, width, height, unit, FONT_SIZE, script, width, height);
	fprintf(out, "<text id=\"title\" x=\"%u\" y=\"%d\">", width / 2, TITLE_Y);
	xml_escape(out, title, strlen(title));
	fputs("</text>\n", out);
	if (o && o->subtitle) {
		fprintf(out, "<text id=\"subtitle\" x=\"%u\" y=\"%d\">", width / 2, SUBTITLE_Y);
		xml_escape(out, o->subtitle, strlen(o->subtitle));
		fputs("</text>\n", out);
	}
	fprintf(out,
		"<text id=\"details\" x=\"%d\" y=\"%.0f\"> </text>\n"
		"<text id=\"unzoom\" class=\"hide\" x=\"%d\" y=\"24\">Reset Zoom</text>\n"
		"<text id=\"search\" x=\"%u\" y=\"24\">Search</text>\n"
		"<text id=\"matched\" x=\"%u\" y=\"%.0f\"> </text>\n"
		"<g id=\"frames\">\n",
		XPAD, height - YPAD_BOTTOM / 2.0 + 4, XPAD, width - XPAD - 100, width - XPAD - 100,
		height - YPAD_BOTTOM / 2.0 + 4);

	for (size_t i = 0; i < n; i++) {
		const struct pg_flame_frame *x = &fr[i];
		double w = (double)x->value * per, px = XPAD + (double)x->start * per;
		double y = height - YPAD_BOTTOM - (x->depth + 1) * FRAME_H;
		size_t slen = shown_len(x), fit;
		char colour[32];

		if (w < MIN_W)
			continue;
		frame_colour(x, colour, sizeof(colour));
		fputs("<g data-name=\"", out);
		xml_escape(out, x->name, slen);
		fputs("\"><title>", out);
		xml_escape(out, x->name, slen);
		fprintf(out, " (%s%llu %s, %.2f%%)</title>",
			x->kind == PG_FRAME_KERNEL ? "kernel, " : "", (unsigned long long)x->value, unit,
			total ? 100.0 * (double)x->value / (double)total : 0.0);
		fprintf(out,
			"<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%d\" fill=\"%s\" rx=\"2\" ry=\"2\" "
			"data-x=\"%.3f\" data-w=\"%.3f\"/>",
			px, y, w, FRAME_H - 1, colour, px, w);
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", px + 3, y + FRAME_H - 5);
		fit = (size_t)((w - 6) / (FONT_SIZE * FONT_W));
		if (fit >= 3) {
			if (slen <= fit) {
				xml_escape(out, x->name, slen);
			} else {
				xml_escape(out, x->name, utf8_cut(x->name, fit - 2));
				fputs("..", out);
			}
		}
		fputs("</text></g>\n", out);
	}
	fputs("</g>\n</svg>\n", out);
	free(fr);
	return ferror(out) ? -EIO : 0;
}
