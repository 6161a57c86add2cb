/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Log2 latency histograms read from the kernel (struct pg_hist in pg_abi.h): percentiles,
 * libbpf-tools style terminal bars, and JSON.
 *
 * Percentiles are estimated from the buckets alone. Slot k holds the values in [lo, hi) with
 * lo = 2^k, hi = 2^(k+1) (slot 0: [0, 2)). The p-th percentile's rank is r = p/100 * count
 * (a real number); the first slot whose cumulative count reaches r contains it, and inside
 * that slot we interpolate linearly, as if its values were spread evenly over [lo, hi):
 *
 *     value = lo + (hi - lo) * (r - count_below) / count_in_slot
 *
 * clamped to the exact maximum the kernel tracked. The estimate is always inside the slot of
 * the true percentile, so it is never off by more than a factor of two; linear (not
 * geometric) interpolation is what Prometheus' histogram_quantile does, and for latency
 * distributions, which usually fall within a bucket, it errs towards the slower value.
 */
#ifndef PANGOLIN_HIST_H
#define PANGOLIN_HIST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pg_abi.h"

/* [lo, hi) of slot k. */
void pg_hist_slot_range(unsigned int k, uint64_t *lo, uint64_t *hi);

/* The p-th percentile (0 <= p <= 100) of h as described above; NAN when h is empty. */
double pg_hist_percentile(const struct pg_hist *h, double p);

/* Add b into a (aggregating several keys). */
void pg_hist_add(struct pg_hist *a, const struct pg_hist *b);

/* a - b, slot by slot (the change since an earlier snapshot of the same counters). */
void pg_hist_sub(struct pg_hist *out, const struct pg_hist *a, const struct pg_hist *b);

/* "nsecs", "usecs", "msecs" for an enum pg_lat_unit; NULL for anything else. */
const char *pg_lat_unit_name(unsigned int unit);
/* "ns", "us", "ms"; NULL for anything else. */
const char *pg_lat_unit_short(unsigned int unit);

/*
 * The histogram with bars, libbpf-tools style, then one line with count, mean, max and
 * p50/p90/p99/p99.9. label is printed above it when not NULL.
 */
void pg_hist_print(FILE *out, const struct pg_hist *h, unsigned int unit, const char *label);

/*
 * One JSON object: {"key":...,"count":N,"sum":N,"mean":x,"max":N,"p50":x,"p90":x,"p99":x,
 * "p99.9":x,"buckets":[{"lo":N,"hi":N,"count":N},...]} (only non-empty buckets). key is
 * written as a JSON string.
 */
void pg_hist_json(FILE *out, const struct pg_hist *h, const char *key);

#endif /* PANGOLIN_HIST_H */
