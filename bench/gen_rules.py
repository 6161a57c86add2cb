#!/usr/bin/env python3
"""Write the benchmark's 100 rules into DIR: the pack (rules/*.yml: 45, 6 correlations) and 55
more written for the generated events' programs, paths, ports and names (49 detections; 4
correlations and the 2 rules they count), so most must be evaluated to the end and few match.
Used by bench/detect.sh and bench/detect_kafka.py.

Usage: gen_rules.py DIR
"""
import pathlib
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
d = sys.argv[1]
shutil.rmtree(d, ignore_errors=True)
pathlib.Path(d).mkdir(parents=True)
for p in sorted((ROOT / "rules").glob("*.yml")):
    shutil.copy(p, d)
comms = ["nginx", "curl", "python3", "java", "bash", "sshd", "containerd", "kubelet", "ls", "cat"]
paths = ["/etc/passwd", "/etc/hosts", "/var/log/syslog", "/proc/self/status", "/tmp/work/data.bin",
         "/sys/fs/cgroup/cpu.max", "/home/app/config.yaml", "/etc/shadow"]
n = 0
def rule(body):
    global n
    n += 1
    open(f"{d}/bench_{n:03d}.yml", "w").write(f"title: bench {n}\nid: bench-{n:03d}\nlevel: low\n" + body)
# rules that look at the events hard but rarely match: an alert is rare on a real host
for i, c in enumerate(comms):
    rule(f"logsource: {{product: linux, category: process_creation}}\ndetection:\n  s:\n    Image|endswith: /{c}\n"
         f"    CommandLine|contains|all: ['--opt{i % 4}', '--opt{(i + 1) % 4}', '--opt{(i + 2) % 4}', '--opt{(i + 3) % 4}']\n"
         f"  f:\n    User: 0\n  condition: s and not f\n")
    rule(f"logsource: {{product: linux, category: process_creation}}\ndetection:\n  s:\n    CommandLine|re: '^{c} (--opt[0-9] ){{5}}'\n  condition: s\n")
    rule(f"logsource: {{product: linux, category: process_creation}}\ndetection:\n  s:\n    ParentImage|endswith: /{c}\n"
         f"    CommandLine|contains: [' -e ', ' -c ', '/dev/tcp', 'base64']\n  condition: s\n")
for i, p in enumerate(paths):
    rule(f"logsource: {{product: linux, category: file_access}}\ndetection:\n  s:\n    TargetFilename|endswith: '{p[-8:]}'\n"
         f"    Image|endswith: [/{comms[i % 10]}x, /{comms[(i + 3) % 10]}x]\n  condition: s\n")
    rule(f"logsource: {{product: linux, category: file_event}}\ndetection:\n  s:\n    TargetFilename|startswith: '{p[:9]}'\n"
         f"    CommandLine|contains: 'install'\n  condition: s\n")
    rule(f"logsource: {{product: linux, category: file_access}}\ndetection:\n  s:\n    TargetFilename|contains: '{p[3:9]}'\n"
         f"    User: {1000 + i}\n  condition: s\n")
for i, port in enumerate([80, 443, 5432, 9092, 53, 8080, 22, 6379]):
    rule(f"logsource: {{product: linux, category: network_connection}}\ndetection:\n  s:\n    DestinationPort: {port}\n"
         f"    DestinationIp|cidr: 192.168.{i}.0/24\n  t:\n    Image|endswith: /{comms[i]}\n  condition: s and t\n")
for i, q in enumerate(["example.com", "cluster.local", "kafka", "github.com"]):
    rule(f"logsource: {{product: linux, category: dns_query}}\ndetection:\n  s:\n    QueryName|endswith: 'x.{q}'\n    Image|endswith: /{comms[i]}\n  condition: s\n")
# 4 correlations over named rules
open(f"{d}/bench_corr.yml", "w").write("""title: shadow opens
name: shadow_open
logsource: {product: linux, category: file_access}
detection: {s: {TargetFilename: /etc/shadow, ret|lt: 0}, condition: s}
---
title: many shadow opens
id: bench-corr-1
correlation: {type: event_count, rules: [shadow_open], group-by: [User], timespan: 1s, condition: {gte: 500}}
---
title: connects
name: any_connect
logsource: {product: linux, category: network_connection}
detection: {s: {DestinationPort|gte: 1}, condition: s}
---
title: many ports
id: bench-corr-2
correlation: {type: value_count, rules: [any_connect], group-by: [ProcessId], timespan: 10s, condition: {gte: 6, field: DestinationPort}}
---
title: curl exec
name: curl_exec
logsource: {product: linux, category: process_creation}
detection: {s: {Image|endswith: /curl}, condition: s}
---
title: curl then connect
id: bench-corr-3
correlation: {type: temporal, rules: [curl_exec, any_connect], group-by: [ProcessId], timespan: 30s}
---
title: exec then shadow
id: bench-corr-4
correlation: {type: temporal_ordered, rules: [curl_exec, shadow_open], group-by: [ProcessId], timespan: 30s}
""")
