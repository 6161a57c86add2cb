// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pangolin doctor: what this kernel and this process can do for pangolin, and what each
 * missing piece turns off. Every check is a real probe (a map created, a program loaded, a
 * socket opened), not a version number compared.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_util.h"
#include "cli.h"
#include "policy.h"
#include "source_bpf.h"

static int report(const char *what, bool ok, const char *detail, const char *disables)
{
	printf("  %-34s %-8s %s", what, ok ? "ok" : "MISSING", detail ? detail : "");
	if (!ok && disables)
		printf("%s-> %s", detail && *detail ? "  " : "", disables);
	putchar('\n');
	return ok ? 0 : 1;
}

static bool perf_event_works(void)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.sample_freq = 99,
		.freq = 1,
	};
	int fd = (int)syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool af_packet_works(void)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool cgroup2_mounted(char *where, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - cgroup2 ");
		char mnt[512];

		if (!sep)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1) {
			snprintf(where, len, "%s", mnt);
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* Per event type, the hooks that serve it on this kernel and whether they run. */
static void events_by_hook(const struct pg_hook_status *hooks, size_t n)
{
	printf("\nevents and the hooks that see them here\n");
	for (unsigned int t = 1; t < PG_EV_TYPE_COUNT; t++) {
		char d[512];
		size_t dl = 0;
		bool any = false, all = true;

		if (t == PG_EV_PACKET)
			continue; /* pangolin sniff's, not the sensor's */
		d[0] = 0;
		for (size_t i = 0; i < n; i++) {
			if (!(hooks[i].types & (1u << t)))
				continue;
			any |= hooks[i].attached;
			all &= hooks[i].attached;
			if (dl < sizeof(d))
				dl += (size_t)snprintf(d + dl, sizeof(d) - dl, "%s%s%s%s (%s)", dl ? ", " : "",
						       hooks[i].via ? hooks[i].via : "", hooks[i].via ? ": " : "",
						       strchr(hooks[i].tracepoint, '/') + 1, hooks[i].kind);
			if (!hooks[i].attached && dl < sizeof(d))
				dl += (size_t)snprintf(d + dl, sizeof(d) - dl, " (not running)");
		}
		printf("  %-34s %-8s %s\n", pg_event_type_name(t), all ? "ok" : any ? "PARTIAL" : "MISSING",
		       d);
	}
}

/*
 * Per event type a policy acts on: what deny and kill do on this kernel (docs/enforce.md).
 * Informational: a kernel without BPF LSM still enforces, by killing.
 */
static void enforcement(struct pg_source *src)
{
	static const unsigned int types[] = { PG_EV_EXEC, PG_EV_OPEN,  PG_EV_CONNECT,
					      PG_EV_DNS,  PG_EV_SETID, PG_EV_PTRACE };
	struct pg_policy_env env;

	pg_source_bpf__policy_env(src, &env);
	printf("\nenforcement (run --policy: docs/enforce.md)\n");
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		unsigned int t = types[i];
		const char *why = pg_source_bpf__policy_refused(src, t), *deny, *kill;

		switch (env.mech[t]) {
		case PG_MECH_LSM:
			deny = "refused by BPF LSM (EPERM: it does not happen)";
			kill = "refused by BPF LSM, and the signal";
			break;
		case PG_MECH_CGROUP:
			deny = "refused by the cgroup hook (EPERM: no packet leaves)";
			kill = "refused by the cgroup hook, and the signal at sys_exit";
			break;
		case PG_MECH_SIGNAL:
			deny = "killed instead: nothing here refuses it";
			kill = t == PG_EV_EXEC ?
				       "the signal at sched_process_exec (before the program runs)" :
				       "the signal at sys_exit (the call has happened)";
			break;
		default: deny = kill = "cannot be enforced here: such rules are refused";
		}
		printf("  %-10s deny: %s\n  %-10s kill: %s\n", pg_event_type_name(t), deny, "",
		       kill);
		if (why && *why)
			printf("  %-10s       (%s)\n", "", why);
	}
}

static void doctor_help(FILE *out);

static int doctor_run(const struct pg_cli *cli, int argc, char **argv)
{
	struct utsname u;
	char msg[512], where[512];
	unsigned long long caps = pg_cap_effective();
	int missing = 0;
	bool priv;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			doctor_help(stdout);
			return PG_EXIT_OK;
		}
		pg_cli_err("doctor", "unexpected argument '%s'", argv[i]);
		return PG_EXIT_USAGE;
	}
	uname(&u);
	printf("pangolin %s on Linux %s (%s)\n\n", PG_VERSION, u.release, u.machine);

	printf("privileges\n");
	priv = (caps >> 21 & 1) || ((caps >> 39 & 1) && (caps >> 38 & 1));
	missing += report("root or CAP_BPF+CAP_PERFMON", priv, getuid() ? "not root" : "root",
			  "nothing loads: run as root or grant CAP_BPF and CAP_PERFMON");
	missing += report("CAP_NET_RAW", (caps >> 13 & 1) != 0, NULL, "pangolin sniff cannot capture");

	printf("\nkernel\n");
	missing += report("BTF (/sys/kernel/btf/vmlinux)", access("/sys/kernel/btf/vmlinux", R_OK) == 0,
			  NULL, "CO-RE programs cannot load: use a kernel with CONFIG_DEBUG_INFO_BTF=y");
	missing += report("tracefs", pg_tracefs_ensure(msg, sizeof(msg)) == 0, NULL,
			  "hooks cannot be checked: mount -t tracefs nodev /sys/kernel/tracing");
	if (priv) {
		missing += report("BPF ring buffer", libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1,
				  NULL, "no events: Linux >= 5.8 needed");
		{
			int tier = pg_bpf_tier_probe();

			/* not missing pieces: each only decides how fast kernel memory is read */
			report("bpf_get_current_task_btf", tier >= PG_BPF_TIER_TASK_BTF, "(5.11+)", NULL);
			report("bpf_rdonly_cast (kfunc)", tier >= PG_BPF_TIER_BTF, "(6.2+)", NULL);
		}
		missing += report("tracepoint programs",
				  libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACEPOINT, NULL) == 1, NULL,
				  "no sensor");
		missing += report("raw tracepoint programs",
				  libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, NULL) == 1,
				  NULL, "no fork, open, connect, dns, setid or io_uring events");
		missing += report("perf_event programs",
				  libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_PERF_EVENT, NULL) == 1, NULL,
				  "no profiler");
		missing += report("bpf_send_signal",
				  libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_send_signal,
							  NULL) == 1,
				  NULL, "no in-kernel enforcement (kill)");
		missing += report("bpf_get_stackid",
				  libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_get_stackid,
							  NULL) == 1,
				  NULL, "no stacks in profiles");
		/* not needed by pangolin; shown because users of other tools ask */
		report("fentry/fexit (tracing programs)",
		       libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACING, NULL) == 1,
		       "(not used by pangolin)", NULL);
		{
			/* both: the program type (CONFIG_BPF_LSM) and "bpf" among the active LSMs
			 * (lsm= on the command line); with only the first, programs load and are
			 * never called (seen on Debian 11's 5.10) */
			bool type = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_LSM, NULL) == 1;
			int active = pg_lsm_active("bpf");

			/* not a missing piece: without it deny kills instead (enforcement, below) */
			report("BPF LSM", type && active == 1,
			       !type ? "(optional: without it deny kills exec, open, setid, ptrace instead; no BPF_PROG_TYPE_LSM)" :
			       active == 1 ?
				       "(deny refuses exec, open, setid, ptrace with it)" :
			       active == 0 ?
				       "(optional: without it deny kills exec, open, setid, ptrace instead; 'bpf' is not in /sys/kernel/security/lsm)" :
				       "(optional: without it deny kills exec, open, setid, ptrace instead; /sys/kernel/security/lsm unreadable)",
			       NULL);
		}
	}
	report("kprobes", access("/sys/kernel/tracing/kprobe_events", F_OK) == 0,
	       "(not used by pangolin)", NULL);
	missing += report("perf_event_open (cpu-clock)", perf_event_works(), NULL,
			  "no profiler: check kernel.perf_event_paranoid and CAP_PERFMON");
	missing += report("AF_PACKET sockets", af_packet_works(), NULL, "no sniff");
	{
		bool cg = cgroup2_mounted(where, sizeof(where));

		missing += report("cgroup v2", cg, cg ? where : NULL, "no container/pod identity");
	}

	printf("\nsensor hooks (tracepoints)\n");
	{
		struct pg_kfilter kf;
		/* with the policy programs: enforcement's mechanisms are these programs' */
		struct pg_bpf_opts bo = { .kfilter = &kf, .snapshot = true, .policy = true };
		struct pg_source *src;
		struct pg_hook_status hooks[64];
		size_t n;

		pg_kfilter__plan(NULL, &kf);
		src = priv ? pg_source_bpf__new(&bo, msg, sizeof(msg)) : NULL;
		if (!src) {
			missing += report("sensor programs load", false, priv ? msg : "needs privileges",
					  "no live events ('pangolin run')");
		} else {
			double lm, am;

			pg_source_bpf__timing(src, &lm, &am);
			n = pg_source_bpf__hooks(src, hooks, 64);
			if (n > 64)
				n = 64;
			for (size_t i = 0; i < n; i++) {
				char d[256];
				size_t dl = 0;

				d[0] = 0;
				for (unsigned int t = 1; t < PG_EV_TYPE_COUNT; t++)
					if (hooks[i].types & (1u << t) && dl < sizeof(d))
						dl += (size_t)snprintf(d + dl, sizeof(d) - dl, "%s%s",
								       dl ? ", " : "", pg_event_type_name(t));
				if (dl < sizeof(d))
					dl += (size_t)snprintf(d + dl, sizeof(d) - dl, " events%s%s",
							       hooks[i].via ? " through " : "",
							       hooks[i].via ? hooks[i].via : "");
				if (hooks[i].refused[0] && dl < sizeof(d))
					snprintf(d + dl, sizeof(d) - dl, ": refused by this kernel (%s)",
						 hooks[i].refused);
				missing += report(hooks[i].tracepoint, hooks[i].attached, d,
						  "those events are not seen");
			}
			snprintf(msg, sizeof(msg), "%zu processes running now",
				 pg_source_bpf__snapshot_size(src));
			missing += report("task iterator (start-up snapshot)",
					  pg_source_bpf__snapshot_state(src) == 1, msg,
					  "the processes already running at start-up are not reported");
			snprintf(msg, sizeof(msg), "loaded in %.1f ms, attached in %.1f ms", lm, am);
			report("sensor programs load", true, msg, NULL);
			snprintf(msg, sizeof(msg), "tier %d, for kernels with %s", pg_source_bpf__tier(src),
				 pg_bpf_tier_needs(pg_source_bpf__tier(src)));
			report("sensor object", true, msg, NULL);
			events_by_hook(hooks, n);
			enforcement(src);
			pg_source__free(src);
		}
	}
	printf("\n%s\n", missing ? "some pieces are missing: see the arrows above"
				 : "everything pangolin uses is here");
	return missing ? PG_EXIT_FAIL : PG_EXIT_OK;
}

static void doctor_help(FILE *out)
{
	fputs("usage: pangolin doctor\n\n"
	      "Check what this kernel supports for pangolin (BTF, ring buffer, each hook, perf_event,\n"
	      "bpf_send_signal, AF_PACKET, cgroup v2) and what each missing piece disables.\n"
	      "Exit status 0 when everything pangolin uses is there, 1 otherwise.\n",
	      out);
}

const struct pg_cmd pg_cmd_doctor = {
	.name = "doctor",
	.summary = "check what this kernel supports and what a missing piece disables",
	.run = doctor_run,
	.help = doctor_help,
};
