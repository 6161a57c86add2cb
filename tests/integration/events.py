"""Recordings for the integration tests: NDJSON events (docs/events.md) with identities.

Each event has a unique `ts` (its identity in assertions) and one of three kinds of origin:
a pod (pod_uid + container_id + node), a container outside Kubernetes (container_id + node),
or the node itself (node only), so every Kafka key rule is exercised.
"""
import json
import random

NODE = "node-a"
PODS = [("%08x-1111-4222-8333-%012x" % (i, i), "%064x" % (0xc0ffee00 + i)) for i in range(1, 7)]
CONTAINERS = ["%064x" % (0xdecaf000 + i) for i in range(1, 3)]
PATHS = ["/etc/passwd", "/etc/hosts", "/var/log/syslog", "/tmp/caf\u00e9/\u00fcber", "/usr/lib/libc.so.6"]


def expected_key(ev, mode="pod"):
    """The message key pangolin must choose (docs/kafka.md), as bytes or None: the first
    identity of the rule that is there and not empty, else "-"; none with --kafka-key none."""
    if mode == "none":
        return None
    order = {"pod": ["pod_uid", "container_id", "node"], "container": ["container_id", "node"],
             "node": ["node"]}[mode]
    for k in order:
        if ev.get(k):
            return ev[k].encode()
    return b"-"


def make(n, seed=7, t0=1764084477000000000):
    rnd = random.Random(seed)
    out = []
    ts = t0
    for i in range(n):
        ts += rnd.randint(1000, 9000)
        pid = rnd.randint(100, 60000)
        ev = {"v": 1, "type": None, "ts": ts, "pid": pid, "tid": pid, "ppid": rnd.randint(1, 5000),
              "uid": rnd.choice([0, 1000]), "gid": 0, "comm": rnd.choice(["nginx", "curl", "sh"]),
              "cgroup_id": rnd.randint(2, 10**6), "start_ns": 1000 + pid}
        origin = rnd.random()
        if origin < 0.7:
            pod, cid = rnd.choice(PODS)
            ev.update(node=NODE, container_id=cid, pod_uid=pod)
        elif origin < 0.85:
            ev.update(node=NODE, container_id=rnd.choice(CONTAINERS))
        else:
            ev.update(node=NODE)
        r = rnd.random()
        if r < 0.4:
            ev.update(type="open", dirfd=-100, flags=rnd.choice([0, 577]), mode=420,
                      ret=rnd.choice([3, -2]), path=rnd.choice(PATHS))
            if rnd.random() < 0.1:
                ev["io_uring"] = True
        elif r < 0.55:
            v6 = rnd.random() < 0.5
            ev.update(type="connect", family="inet6" if v6 else "inet",
                      daddr="2001:db8::%x" % i if v6 else "192.0.2.%d" % (i % 250 + 1),
                      dport=rnd.choice([80, 443]), fd=5, ret=rnd.choice([0, -115]))
        elif r < 0.7:
            ev.update(type="exec", path="/usr/bin/env",
                      argv=["env", "-i", "X=%d" % i, ""][:rnd.randint(0, 4)])
        elif r < 0.78:
            ev.update(type="fork", child_pid=pid + 1, child_start_ns=ts - 5)
        elif r < 0.86:
            ev.update(type="exit", exit_code=rnd.choice([0, 1, 255]), signal=rnd.choice([0, 9]),
                      lifetime_ns=rnd.randint(1, 10**10))
        elif r < 0.94:
            ev.update(type="dns", family="inet", daddr="127.0.0.53", dport=53,
                      transport=rnd.choice(["udp", "tcp"]), dns_id=rnd.randint(0, 65535),
                      qname=rnd.choice(["example.com", "kafka-0.kafka", ""]),
                      qtype=rnd.choice(["A", "AAAA", "TYPE65280"]), qclass=1)
        elif r < 0.97:
            ev.update(type="setid", call=rnd.choice(["setuid", "setresgid"]), ret=0,
                      id_real=1000, id_effective=4294967295, id_saved=4294967295)
        else:
            ev.update(type="ptrace", request=rnd.choice(["attach", "pokedata", 16903]),
                      ret=rnd.choice([0, -1]), target_pid=pid + 7,
                      addr=rnd.choice([0, 140737488289864]))
        out.append(ev)
    return out


def write(path, events):
    with open(path, "w") as f:
        for ev in events:
            f.write(json.dumps(ev, ensure_ascii=False, separators=(",", ":")) + "\n")
    return path
