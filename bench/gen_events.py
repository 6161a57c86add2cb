#!/usr/bin/env python3
"""Write N synthetic pangolin events as NDJSON (docs/events.md), deterministic for a seed.

The mix is what a busy node produces: mostly opens, then connects, execs, forks/exits, DNS.
Usage: gen_events.py N [--seed S] [--k8s PODS] > file.ndjson

--k8s PODS adds what the enrich stage adds on a Kubernetes node: node on every event, and for
most events the pod UID and container id of one of PODS pods (from a second random stream,
so the events themselves are the same as without it).
"""
import argparse
import json
import random
import sys

COMMS = ["nginx", "curl", "python3", "java", "bash", "sshd", "containerd", "kubelet", "ls", "cat"]
PATHS = ["/etc/passwd", "/etc/hosts", "/etc/ssl/certs/ca-certificates.crt", "/var/log/syslog",
         "/proc/self/status", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/tmp/work/data.bin",
         "/sys/fs/cgroup/cpu.max", "/home/app/config.yaml", "/etc/shadow"]
NAMES = ["example.com", "api.internal.svc.cluster.local", "kafka-0.kafka", "github.com", "pypi.org"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--k8s", type=int, default=0, metavar="PODS")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    krnd = random.Random(a.seed + 1)
    pods = [("%08x-%04x-4%03x-8%03x-%012x" % (krnd.getrandbits(32), krnd.getrandbits(16),
                                               krnd.getrandbits(12), krnd.getrandbits(12),
                                               krnd.getrandbits(48)),
             "%064x" % krnd.getrandbits(256)) for _ in range(a.k8s)]
    out = sys.stdout
    ts = 1764084477000000000
    for i in range(a.n):
        ts += rnd.randint(1000, 50000)
        pid = rnd.randint(100, 60000)
        comm = rnd.choice(COMMS)
        ev = {"v": 1, "type": None, "ts": ts, "pid": pid, "tid": pid, "ppid": rnd.randint(1, 5000),
              "uid": rnd.choice([0, 0, 1000, 33]), "gid": 0, "comm": comm,
              "cgroup_id": rnd.choice([1, 4242, 9001, 12345]), "start_ns": 1000000 + pid * 97}
        if a.k8s:
            ev["node"] = "bench-node"
            if krnd.random() < 0.8:
                ev["container_id"], ev["pod_uid"] = reversed(krnd.choice(pods))
        r = rnd.random()
        if r < 0.70:
            ev["type"] = "open"
            ev.update(dirfd=-100, flags=rnd.choice([0, 524288, 577]), mode=rnd.choice([0, 420]),
                      ret=rnd.choice([3, 4, 5, -2, -13]), path=rnd.choice(PATHS))
        elif r < 0.82:
            ev["type"] = "connect"
            v6 = rnd.random() < 0.3
            ev.update(family="inet6" if v6 else "inet",
                      daddr="::1" if v6 else "10.%d.%d.%d" % (rnd.randint(0, 255), rnd.randint(0, 255), rnd.randint(1, 254)),
                      dport=rnd.choice([80, 443, 5432, 9092, 53]), fd=rnd.randint(3, 50),
                      ret=rnd.choice([0, -115, -111]))
        elif r < 0.90:
            ev["type"] = "exec"
            ev.update(path="/usr/bin/" + comm, argv=[comm] + ["--opt%d" % k for k in range(rnd.randint(0, 4))])
        elif r < 0.94:
            ev["type"] = "fork"
            ev.update(child_pid=pid + 1, child_start_ns=ts - 1000)
        elif r < 0.98:
            ev["type"] = "exit"
            ev.update(exit_code=rnd.choice([0, 1, 2]), signal=0, lifetime_ns=rnd.randint(10**6, 10**11))
        else:
            ev["type"] = "dns"
            ev.update(family="inet", daddr="127.0.0.53", dport=53, transport="udp",
                      dns_id=rnd.randint(0, 65535), qname=rnd.choice(NAMES),
                      qtype=rnd.choice(["A", "AAAA"]), qclass=1)
        out.write(json.dumps(ev, separators=(",", ":")))
        out.write("\n")


if __name__ == "__main__":
    main()
