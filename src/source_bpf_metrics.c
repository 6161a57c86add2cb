// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel source's named counters (src/metrics.h): events by type as the kernel counted
 * them (filtered there, emitted into the ring buffer, dropped because it was full), DNS
 * messages not reported whole or not parsed, by reason, and how the sensor loaded. Read
 * through source_bpf.h's accessors: per-CPU maps summed, nothing of the event path touched.
 */
#include <string.h>

#include "source_bpf.h"

static const struct pg_metric_desc dns_skipped = {
	.name = "pangolin_dns_skipped_total",
	.help = "DNS messages seen in the kernel but not reported whole, by reason.",
	.type = PG_METRIC_COUNTER,
	.labels = { "reason" },
	.stats = "dns.skipped.{reason}",
};

static const struct pg_metric_desc dns_unparsed = {
	.name = "pangolin_dns_unparsed_total",
	.help = "DNS events whose message did not parse (reported as malformed), by reason.",
	.type = PG_METRIC_COUNTER,
	.labels = { "reason" },
	.stats = "dns.unparsed.{reason}",
};

static const struct pg_metric_desc bpf_tier = {
	.name = "pangolin_bpf_tier",
	.help = "The kernel tier of the sensor object loaded (0: Linux 5.8+, 1: 5.11+, 2: 6.2+; "
		"docs/kernels.md).",
	.type = PG_METRIC_GAUGE,
	.stats = "bpf_tier",
};

static const struct pg_metric_desc load_seconds = {
	.name = "pangolin_bpf_load_seconds",
	.help = "How long loading the sensor's BPF programs took (the verifier, mostly).",
	.type = PG_METRIC_GAUGE,
	.stats = "load_ms",
	.stats_scale = 1000,
};

static const struct pg_metric_desc attach_seconds = {
	.name = "pangolin_bpf_attach_seconds",
	.help = "How long attaching the sensor's BPF programs took.",
	.type = PG_METRIC_GAUGE,
	.stats = "attach_ms",
	.stats_scale = 1000,
};

static const struct pg_metric_desc program_attached = {
	.name = "pangolin_bpf_program_attached",
	.help = "1 for each sensor program attached to its hook, 0 for one not attached (not "
		"wanted by the filter, the kernel lacks the hook or refused the program, or "
		"stopping).",
	.type = PG_METRIC_GAUGE,
	.labels = { "program" },
};

static const struct pg_metric_desc snapshot_processes = {
	.name = "pangolin_snapshot_processes",
	.help = "Processes found running at start-up (reported as exec events flagged snapshot).",
	.type = PG_METRIC_GAUGE,
	.stats = "snapshot_processes",
};

#define MAX_HOOKS 32

void pg_source_bpf__metrics(struct pg_source *src, struct pg_metrics *m)
{
	static const char *const outcomes[] = { "filtered", "emitted", "dropped" };
	struct pg_type_counters c[PG_EV_TYPE_COUNT];
	uint64_t skip[PG_DNS_SKIP_COUNT], unparsed[PG_DNS_UNPARSED_COUNT];
	struct pg_hook_status hooks[MAX_HOOKS];
	size_t nhooks;
	double load_ms, attach_ms;

	if (pg_source_bpf__counters(src, c))
		memset(c, 0, sizeof(c));
	for (unsigned int t = 1; t < PG_EV_TYPE_COUNT; t++) {
		const uint64_t v[] = { c[t].filtered, c[t].emitted, c[t].dropped };

		for (unsigned int o = 0; o < 3; o++)
			pg_metrics__add_total(m, o == 2 ? "lost_in_kernel" : NULL,
					      &pg_metric_events, (double)v[o], PG_HOP_KERNEL,
					      outcomes[o], pg_event_type_name(t));
	}
	if (pg_source_bpf__dns_counts(src, skip, unparsed))
		memset(skip, 0, sizeof(skip));
	for (unsigned int i = 0; i < PG_DNS_SKIP_COUNT; i++)
		pg_metrics__add(m, &dns_skipped, (double)skip[i], pg_dns_skip_name(i));
	for (unsigned int i = 1; i < PG_DNS_UNPARSED_COUNT; i++) /* 0: parsed */
		pg_metrics__add(m, &dns_unparsed, (double)unparsed[i], pg_dns_unparsed_name(i));

	pg_metrics__add(m, &bpf_tier, pg_source_bpf__tier(src));
	pg_source_bpf__timing(src, &load_ms, &attach_ms);
	pg_metrics__add(m, &load_seconds, load_ms / 1000);
	pg_metrics__add(m, &attach_seconds, attach_ms / 1000);
	nhooks = pg_source_bpf__hooks(src, hooks, MAX_HOOKS);
	for (size_t i = 0; i < nhooks && i < MAX_HOOKS; i++)
		pg_metrics__add(m, &program_attached, hooks[i].attached, hooks[i].program);
	pg_metrics__add(m, &snapshot_processes, (double)pg_source_bpf__snapshot_size(src));
}
