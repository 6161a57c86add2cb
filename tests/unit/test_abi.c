// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Pins the kernel/userspace ABI: every struct's size and every field's offset. The BPF side
 * compiles the same header with the same _Static_asserts (pg_abi.h), so a change that moves a
 * field fails both builds and this test until the numbers below are updated on purpose.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "event.h"

#define OFF(type, field, expect) assert_int_equal(offsetof(struct type, field), expect)

static void test_header(void **state)
{
	assert_int_equal(sizeof(struct pg_event_hdr), 64);
	OFF(pg_event_hdr, ts_ns, 0);
	OFF(pg_event_hdr, start_ns, 8);
	OFF(pg_event_hdr, cgroup_id, 16);
	OFF(pg_event_hdr, pid, 24);
	OFF(pg_event_hdr, tid, 28);
	OFF(pg_event_hdr, ppid, 32);
	OFF(pg_event_hdr, uid, 36);
	OFF(pg_event_hdr, gid, 40);
	OFF(pg_event_hdr, type, 44);
	OFF(pg_event_hdr, size, 46);
	OFF(pg_event_hdr, comm, 48);
}

static void test_exec(void **state)
{
	assert_int_equal(sizeof(struct pg_exec_event), 1352);
	OFF(pg_exec_event, flags, 64);
	OFF(pg_exec_event, argc, 68);
	OFF(pg_exec_event, argv_len, 70);
	OFF(pg_exec_event, path, 72);
	OFF(pg_exec_event, argv, 328);
}

static void test_fork_exit(void **state)
{
	assert_int_equal(sizeof(struct pg_fork_event), 80);
	OFF(pg_fork_event, child_pid, 64);
	OFF(pg_fork_event, flags, 68);
	OFF(pg_fork_event, child_start_ns, 72);
	assert_int_equal(sizeof(struct pg_exit_event), 88);
	OFF(pg_exit_event, exit_code, 64);
	OFF(pg_exit_event, signal, 68);
	OFF(pg_exit_event, lifetime_ns, 72);
	OFF(pg_exit_event, core_dumped, 80);
}

static void test_open(void **state)
{
	assert_int_equal(sizeof(struct pg_open_event), 344);
	OFF(pg_open_event, dirfd, 64);
	OFF(pg_open_event, flags, 68);
	OFF(pg_open_event, mode, 72);
	OFF(pg_open_event, ret, 76);
	OFF(pg_open_event, pflags, 80);
	OFF(pg_open_event, path, 88);
}

static void test_ptrace(void **state)
{
	assert_int_equal(PG_EV_PTRACE, 9);
	assert_int_equal(sizeof(struct pg_ptrace_event), 88);
	OFF(pg_ptrace_event, request, 64);
	OFF(pg_ptrace_event, ret, 68);
	OFF(pg_ptrace_event, target_pid, 72);
	OFF(pg_ptrace_event, addr, 80);
}

static void test_connect(void **state)
{
	assert_int_equal(sizeof(struct pg_connect_event), 96);
	OFF(pg_connect_event, family, 64);
	OFF(pg_connect_event, dport, 66);
	OFF(pg_connect_event, fd, 68);
	OFF(pg_connect_event, ret, 72);
	OFF(pg_connect_event, flags, 76);
	OFF(pg_connect_event, daddr, 80);
}

static void test_dns(void **state)
{
	assert_int_equal(sizeof(struct pg_dns_event), 864);
	OFF(pg_dns_event, family, 64);
	OFF(pg_dns_event, dport, 66);
	OFF(pg_dns_event, id, 68);
	OFF(pg_dns_event, qtype, 70);
	OFF(pg_dns_event, qclass, 72);
	OFF(pg_dns_event, payload_len, 74);
	OFF(pg_dns_event, flags, 76);
	OFF(pg_dns_event, daddr, 80);
	OFF(pg_dns_event, qname, 96);
	OFF(pg_dns_event, payload, 352);
}

static void test_setid(void **state)
{
	assert_int_equal(sizeof(struct pg_setid_event), 88);
	OFF(pg_setid_event, call, 64);
	OFF(pg_setid_event, ret, 68);
	OFF(pg_setid_event, id_real, 72);
	OFF(pg_setid_event, id_effective, 76);
	OFF(pg_setid_event, id_saved, 80);
}

static void test_packet(void **state)
{
	assert_int_equal(sizeof(struct pg_dns_answer), 544);
	OFF(pg_dns_answer, type, 0);
	OFF(pg_dns_answer, rclass, 2);
	OFF(pg_dns_answer, ttl, 4);
	OFF(pg_dns_answer, flags, 8);
	OFF(pg_dns_answer, addr, 16);
	OFF(pg_dns_answer, name, 32);
	OFF(pg_dns_answer, data, 288);
	assert_int_equal(sizeof(struct pg_packet_event), 4760);
	OFF(pg_packet_event, ifindex, 64);
	OFF(pg_packet_event, wire_len, 68);
	OFF(pg_packet_event, caplen, 72);
	OFF(pg_packet_event, flags, 76);
	OFF(pg_packet_event, ethertype, 80);
	OFF(pg_packet_event, vlan, 82);
	OFF(pg_packet_event, family, 84);
	OFF(pg_packet_event, sport, 86);
	OFF(pg_packet_event, dport, 88);
	OFF(pg_packet_event, direction, 90);
	OFF(pg_packet_event, ip_proto, 91);
	OFF(pg_packet_event, tcp_flags, 92);
	OFF(pg_packet_event, dns_qr, 93);
	OFF(pg_packet_event, dns_rcode, 94);
	OFF(pg_packet_event, dns_error, 95);
	OFF(pg_packet_event, ifname, 96);
	OFF(pg_packet_event, saddr, 112);
	OFF(pg_packet_event, daddr, 128);
	OFF(pg_packet_event, dns_id, 144);
	OFF(pg_packet_event, qtype, 146);
	OFF(pg_packet_event, qclass, 148);
	OFF(pg_packet_event, nanswers, 150);
	OFF(pg_packet_event, qname, 152);
	OFF(pg_packet_event, answers, 408);
}

/* Numbers of event types are ABI: recordings name types, but kernel maps key on numbers. */
static void test_type_numbers(void **state)
{
	assert_int_equal(PG_EV_EXEC, 1);
	assert_int_equal(PG_EV_FORK, 2);
	assert_int_equal(PG_EV_EXIT, 3);
	assert_int_equal(PG_EV_OPEN, 4);
	assert_int_equal(PG_EV_CONNECT, 5);
	assert_int_equal(PG_EV_DNS, 6);
	assert_int_equal(PG_EV_SETID, 7);
	assert_int_equal(PG_EV_PACKET, 8);
	for (unsigned int t = 1; t < PG_EV_TYPE_COUNT; t++) {
		const char *n = pg_event_type_name(t);

		assert_non_null(n);
		assert_int_equal(pg_event_type_from_name(n, strlen(n)), t);
		assert_true(pg_event_record_size(t) >= sizeof(struct pg_event_hdr));
		assert_true(pg_event_record_size(t) <= sizeof(union pg_record));
		assert_int_equal(pg_event_record_size(t) % 8, 0);
	}
}

/* The profiler's and latency tools' map layouts are shared with the BPF side too. */
static void test_aggregations(void **state)
{
	assert_int_equal(sizeof(struct pg_prof_key), 32);
	OFF(pg_prof_key, pid, 0);
	OFF(pg_prof_key, kstack_id, 4);
	OFF(pg_prof_key, ustack_id, 8);
	OFF(pg_prof_key, comm, 16);
	assert_int_equal(sizeof(struct pg_hist), 408);
	OFF(pg_hist, slots, 0);
	OFF(pg_hist, count, 384);
	OFF(pg_hist, sum, 392);
	OFF(pg_hist, max, 400);
	assert_int_equal(PG_PROF_CTR_MAP_FULL, 4);
	assert_int_equal(PG_LAT_CTR_NO_START, 3);
}

/* What the BPF reader takes from the ring: open and exec may end early, nothing else may. */
static void test_record_accept(void **state)
{
	struct pg_event_hdr h = { 0 };
	size_t open_min = offsetof(struct pg_open_event, path) + 1;
	size_t exec_min = offsetof(struct pg_exec_event, argv);

	(void)state;
	h.type = PG_EV_OPEN;
	h.size = (unsigned short)open_min;
	assert_int_equal(pg_event_record_accept(&h, open_min), open_min);
	assert_int_equal(pg_event_record_accept(&h, open_min + 7), open_min); /* ring padding */
	assert_int_equal(pg_event_record_accept(&h, open_min - 1), 0); /* cut by the ring */
	h.size = (unsigned short)(open_min - 1); /* not even the path's NUL */
	assert_int_equal(pg_event_record_accept(&h, 4096), 0);
	h.size = sizeof(struct pg_open_event);
	assert_int_equal(pg_event_record_accept(&h, 4096), sizeof(struct pg_open_event));
	h.size = sizeof(struct pg_open_event) + 8; /* longer than the type */
	assert_int_equal(pg_event_record_accept(&h, 4096), 0);

	h.type = PG_EV_EXEC;
	h.size = (unsigned short)exec_min; /* no argv at all */
	assert_int_equal(pg_event_record_accept(&h, exec_min), exec_min);
	h.size = (unsigned short)(exec_min - 1);
	assert_int_equal(pg_event_record_accept(&h, 4096), 0);

	h.type = PG_EV_CONNECT; /* fixed size: exactly */
	h.size = sizeof(struct pg_connect_event);
	assert_int_equal(pg_event_record_accept(&h, h.size), h.size);
	h.size -= 8;
	assert_int_equal(pg_event_record_accept(&h, 4096), 0);

	h.type = 0; /* unknown types never pass */
	h.size = sizeof(h);
	assert_int_equal(pg_event_record_accept(&h, 4096), 0);
	h.type = PG_EV_TYPE_COUNT;
	assert_int_equal(pg_event_record_accept(&h, 4096), 0);
	h.type = PG_EV_FORK;
	h.size = sizeof(struct pg_fork_event);
	assert_int_equal(pg_event_record_accept(&h, sizeof(h) - 1), 0); /* shorter than a header */
}

/* A short open record becomes a whole event: the tail zeroed, hdr.size the full size. */
static void test_from_short_record(void **state)
{
	union pg_record rec;
	struct pg_event ev;
	size_t n = offsetof(struct pg_open_event, path) + sizeof("/etc/hostname");

	(void)state;
	memset(&rec, 0xa5, sizeof(rec)); /* garbage past the record must not show */
	memset(&ev, 0x5a, sizeof(ev));
	memset(&rec.hdr, 0, sizeof(rec.hdr));
	rec.hdr.type = PG_EV_OPEN;
	rec.hdr.size = (unsigned short)n;
	strcpy(rec.hdr.comm, "cat");
	rec.open.ret = 3;
	strcpy(rec.open.path, "/etc/hostname");
	assert_int_equal(pg_event_from_record(&ev, &rec, n), 0);
	assert_int_equal(ev.r.hdr.size, sizeof(struct pg_open_event));
	assert_string_equal(ev.r.open.path, "/etc/hostname");
	assert_int_equal(ev.r.open.ret, 3);
	for (size_t i = n - offsetof(struct pg_open_event, path); i < PG_PATH_LEN; i++)
		assert_int_equal(ev.r.open.path[i], 0);
	assert_null(ev.meta.node);
	rec.hdr.size = (unsigned short)(n + 1); /* says more than the ring handed over */
	assert_int_equal(pg_event_from_record(&ev, &rec, n), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),	    cmocka_unit_test(test_exec),
		cmocka_unit_test(test_fork_exit),   cmocka_unit_test(test_open),
		cmocka_unit_test(test_connect),	    cmocka_unit_test(test_ptrace),	    cmocka_unit_test(test_dns),
		cmocka_unit_test(test_setid),	    cmocka_unit_test(test_packet),
		cmocka_unit_test(test_type_numbers), cmocka_unit_test(test_aggregations),
		cmocka_unit_test(test_record_accept), cmocka_unit_test(test_from_short_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
