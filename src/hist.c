// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Log2 histograms: the percentile estimate is documented in hist.h. */
#include <math.h>
#include <string.h>

#include "hist.h"

void pg_hist_slot_range(unsigned int k, uint64_t *lo, uint64_t *hi)
{
	if (k >= 63) {
		*lo = 1ULL << 63;
		*hi = UINT64_MAX;
		return;
	}
	*lo = k == 0 ? 0 : 1ULL << k;
	*hi = 1ULL << (k + 1);
}

double pg_hist_percentile(const struct pg_hist *h, double p)
{
	uint64_t total = 0, below = 0;
	double rank;

	for (unsigned int k = 0; k < PG_HIST_SLOTS; k++)
		total += h->slots[k];
	if (!total || isnan(p))
		return NAN;
	if (p < 0)
		p = 0;
	if (p > 100)
		p = 100;
	rank = p / 100.0 * (double)total;
	for (unsigned int k = 0; k < PG_HIST_SLOTS; k++) {
		uint64_t n = h->slots[k], lo, hi;
		double v;

		if (!n)
			continue;
		if ((double)(below + n) < rank) {
			below += n;
			continue;
		}
		pg_hist_slot_range(k, &lo, &hi);
		/*
		 * The kernel's exact max bounds the slot that holds it; it is also the only upper
		 * bound the open-ended last slot has.
		 */
		if (h->max >= lo && (h->max < hi - 1 || k == PG_HIST_SLOTS - 1))
			hi = h->max + 1;
		v = (double)lo + (double)(hi - lo) * (rank - (double)below) / (double)n;
		if (h->max && v > (double)h->max)
			v = (double)h->max;
		return v;
	}
	return NAN; /* not reached: rank <= total */
}

void pg_hist_add(struct pg_hist *a, const struct pg_hist *b)
{
	for (unsigned int k = 0; k < PG_HIST_SLOTS; k++)
		a->slots[k] += b->slots[k];
	a->count += b->count;
	a->sum += b->sum;
	if (b->max > a->max)
		a->max = b->max;
}

void pg_hist_sub(struct pg_hist *out, const struct pg_hist *a, const struct pg_hist *b)
{
	for (unsigned int k = 0; k < PG_HIST_SLOTS; k++)
		out->slots[k] = a->slots[k] >= b->slots[k] ? a->slots[k] - b->slots[k] : 0;
	out->count = a->count >= b->count ? a->count - b->count : 0;
	out->sum = a->sum >= b->sum ? a->sum - b->sum : 0;
	/* the maximum is not subtractable: keep the running one (documented in docs/latency.md) */
	out->max = a->max;
}

const char *pg_lat_unit_name(unsigned int unit)
{
	switch (unit) {
	case PG_LAT_NS: return "nsecs";
	case PG_LAT_US: return "usecs";
	case PG_LAT_MS: return "msecs";
	}
	return NULL;
}

const char *pg_lat_unit_short(unsigned int unit)
{
	switch (unit) {
	case PG_LAT_NS: return "ns";
	case PG_LAT_US: return "us";
	case PG_LAT_MS: return "ms";
	}
	return NULL;
}

#define BAR_WIDTH 40

static void print_stars(FILE *out, uint64_t val, uint64_t max)
{
	unsigned int n = max ? (unsigned int)((double)val * BAR_WIDTH / (double)max) : 0;

	if (n > BAR_WIDTH)
		n = BAR_WIDTH;
	for (unsigned int i = 0; i < BAR_WIDTH; i++)
		fputc(i < n ? '*' : ' ', out);
}

static void print_value(FILE *out, const char *name, double v, const char *unit)
{
	if (isnan(v))
		fprintf(out, "%s -", name);
	else if (v < 10)
		fprintf(out, "%s %.2f %s", name, v, unit);
	else
		fprintf(out, "%s %.0f %s", name, v, unit);
}

void pg_hist_print(FILE *out, const struct pg_hist *h, unsigned int unit, const char *label)
{
	const char *uname = pg_lat_unit_name(unit), *us = pg_lat_unit_short(unit);
	uint64_t vmax = 0, total = 0;
	int last = -1;

	if (!uname)
		uname = us = "?";
	if (label)
		fprintf(out, "%s\n", label);
	for (unsigned int k = 0; k < PG_HIST_SLOTS; k++) {
		if (h->slots[k] > vmax)
			vmax = h->slots[k];
		if (h->slots[k])
			last = (int)k;
		total += h->slots[k];
	}
	fprintf(out, "%*s%-*s : count    distribution\n", 10, "", 18, uname);
	for (int k = 0; k <= last; k++) {
		uint64_t lo, hi;

		pg_hist_slot_range((unsigned int)k, &lo, &hi);
		if (k == PG_HIST_SLOTS - 1)
			fprintf(out, "%20llu -> %-10s: %-8llu |", (unsigned long long)lo, "...",
				(unsigned long long)h->slots[k]);
		else
			fprintf(out, "%20llu -> %-10llu: %-8llu |", (unsigned long long)lo,
				(unsigned long long)(hi - 1), (unsigned long long)h->slots[k]);
		print_stars(out, h->slots[k], vmax);
		fputs("|\n", out);
	}
	fprintf(out, "  count %llu", (unsigned long long)total);
	print_value(out, ", mean", total ? (double)h->sum / (double)total : NAN, us);
	fprintf(out, ", max %llu %s\n  ", (unsigned long long)h->max, us);
	print_value(out, "p50", pg_hist_percentile(h, 50), us);
	print_value(out, ", p90", pg_hist_percentile(h, 90), us);
	print_value(out, ", p99", pg_hist_percentile(h, 99), us);
	print_value(out, ", p99.9", pg_hist_percentile(h, 99.9), us);
	fputc('\n', out);
}

static void json_number(FILE *out, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", out);
	else
		fprintf(out, "%.3f", v);
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void pg_hist_json(FILE *out, const struct pg_hist *h, const char *key)
{
	static const struct {
		const char *name;
		double p;
	} pcts[] = { { "p50", 50 }, { "p90", 90 }, { "p99", 99 }, { "p99.9", 99.9 } };
	uint64_t total = 0;
	bool first = true;

	for (unsigned int k = 0; k < PG_HIST_SLOTS; k++)
		total += h->slots[k];
	fputs("{\"key\":", out);
	json_string(out, key);
	fprintf(out, ",\"count\":%llu,\"sum\":%llu,\"mean\":", (unsigned long long)total,
		(unsigned long long)h->sum);
	json_number(out, total ? (double)h->sum / (double)total : NAN);
	fprintf(out, ",\"max\":%llu", (unsigned long long)h->max);
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		fprintf(out, ",\"%s\":", pcts[i].name);
		json_number(out, pg_hist_percentile(h, pcts[i].p));
	}
	fputs(",\"buckets\":[", out);
	for (unsigned int k = 0; k < PG_HIST_SLOTS; k++) {
		uint64_t lo, hi;

		if (!h->slots[k])
			continue;
		pg_hist_slot_range(k, &lo, &hi);
		fprintf(out, "%s{\"lo\":%llu,\"hi\":", first ? "" : ",", (unsigned long long)lo);
		if (k == PG_HIST_SLOTS - 1)
			fputs("null", out);
		else
			fprintf(out, "%llu", (unsigned long long)hi);
		fprintf(out, ",\"count\":%llu}", (unsigned long long)h->slots[k]);
		first = false;
	}
	fputs("]}", out);
}
