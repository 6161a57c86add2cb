#!/usr/bin/env python3
"""Write N synthetic events of processes with lives: a tree of about LIVE processes that fork,
exec, work (opens, connects, DNS, in bench/gen_events.py's proportions) and exit, the oldest fifty
doing half of the work, as a host's stream looks to the process table
and to detection rules. gen_events.py's events come from random pids with random parents
instead: the table's worst case. Deterministic for a seed.

Usage: gen_lifecycle.py N [--seed S] [--live LIVE] > file.ndjson
"""
import argparse
import json
import random
import sys

PROGS = [("/usr/sbin/nginx", "nginx"), ("/usr/bin/curl", "curl"), ("/usr/bin/python3.11", "python3"),
         ("/usr/lib/jvm/java-17/bin/java", "java"), ("/bin/bash", "bash"), ("/usr/sbin/sshd", "sshd"),
         ("/usr/bin/containerd", "containerd"), ("/usr/bin/kubelet", "kubelet"), ("/usr/bin/ls", "ls"),
         ("/usr/bin/cat", "cat")]
PATHS = ["/etc/passwd", "/etc/hosts", "/etc/ssl/certs/ca-certificates.crt", "/var/log/syslog",
         "/proc/self/status", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/tmp/work/data.bin",
         "/sys/fs/cgroup/cpu.max", "/home/app/config.yaml", "/etc/resolv.conf"]
NAMES = ["example.com", "api.internal.svc.cluster.local", "kafka-0.kafka", "github.com", "pypi.org"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--live", type=int, default=2000)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    out = sys.stdout
    ts = 1764084477000000000
    boot = 10**12
    next_pid = 1000
    procs = []  # [pid, start, ppid, uid, comm, weight]

    def emit(p, **ev):
        nonlocal ts
        ts += rnd.randint(1000, 50000)
        base = {"v": 1, "type": None, "ts": ts, "pid": p[0], "tid": p[0], "ppid": p[2], "uid": p[3],
                "gid": p[3], "comm": p[4], "cgroup_id": 4242, "start_ns": p[1]}
        base.update(ev)
        out.write(json.dumps(base, separators=(",", ":")))
        out.write("\n")

    init = [1, boot, 0, 0, "systemd", 1.0]
    emit(init, type="exec", path="/usr/lib/systemd/systemd", argv=["/sbin/init"], snapshot=True)
    procs.append(init)
    n = 1
    while n < a.n:
        r = rnd.random()
        if len(procs) < a.live or r < 0.03:
            parent = rnd.choice(procs)
            pid = next_pid
            next_pid = 1000 + (next_pid - 999) % 4000000
            child = [pid, ts - 10**12 + boot + 1, parent[0], rnd.choice([0, 1000, 33]), parent[4], 1.0]
            emit(parent, type="fork", child_pid=pid, child_start_ns=child[1])
            path, comm = rnd.choice(PROGS)
            child[4] = comm
            emit(child, type="exec", path=path,
                 argv=[comm] + ["--opt%d" % k for k in range(rnd.randint(0, 4))])
            procs.append(child)
            n += 2
            continue
        if r < 0.06 and len(procs) > 10:
            i = rnd.randrange(1, len(procs))
            p = procs.pop(i)
            emit(p, type="exit", exit_code=rnd.choice([0, 0, 1]), signal=0, lifetime_ns=10**9)
            n += 1
            continue
        # half the work from the 50 oldest (the long-lived daemons), half from anyone
        p = rnd.choice(procs[:50]) if rnd.random() < 0.5 else rnd.choice(procs)
        k = rnd.random()
        if k < 0.78:
            emit(p, type="open", dirfd=-100, flags=rnd.choice([0, 524288, 577]), mode=0,
                 ret=rnd.choice([3, 4, 5, -2]), path=rnd.choice(PATHS))
        elif k < 0.92:
            emit(p, type="connect", family="inet",
                 daddr="10.%d.%d.%d" % (rnd.randint(0, 255), rnd.randint(0, 255), rnd.randint(1, 254)),
                 dport=rnd.choice([80, 443, 5432, 9092, 53]), fd=3, ret=rnd.choice([0, -115]))
        else:
            emit(p, type="dns", family="inet", daddr="127.0.0.53", dport=53, transport="udp",
                 dns_id=rnd.randint(0, 65535), qname=rnd.choice(NAMES), qtype="A", qclass=1)
        n += 1


if __name__ == "__main__":
    main()
