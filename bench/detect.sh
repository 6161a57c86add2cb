#!/usr/bin/env bash
# Detection throughput: `pangolin detect` over N generated events (default 1,000,000) with 100
# rules (10 of them correlations) to /dev/null, on one core, next to the same replay without
# rules and without the process table, so the table's and the rules' costs per event come out
# by difference. Interleaved rounds, medians. See bench/README.md.
#
#   bash bench/detect.sh                  N=1000000 ROUNDS=5 CPU=1
#
# Files go to BENCH_DIR (default build/bench); the event file is shared with bench/replay.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-1000000}
ROUNDS=${ROUNDS:-5}
CPU=${CPU:-1}
PG=${PANGOLIN_BIN:-build/pangolin}
DIR=${BENCH_DIR:-build/bench}
RULES=$DIR/bench-rules

mkdir -p "$DIR"
[ -x "$PG" ] || make
events=$DIR/events-$N.ndjson
if [ ! -s "$events" ]; then
	echo "generating $N events (bench/gen_events.py), canonical form by pangolin replay"
	python3 bench/gen_events.py "$N" > "$DIR/raw.ndjson"
	"$PG" replay "$DIR/raw.ndjson" -o "$events.tmp" -q
	mv "$events.tmp" "$events"
	rm -f "$DIR/raw.ndjson"
fi

# 100 rules: the pack (45, 6 correlations) and 55 more written for the generated events'
# programs, paths, ports and names (49 detections; 4 correlations and the 2 rules they count),
# so most must be evaluated to the end and few match.
rm -rf "$RULES"
mkdir -p "$RULES"
cp rules/*.yml "$RULES/"
python3 - "$RULES" <<'PY'
import sys
d = sys.argv[1]
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
PY
"$PG" rules check "$RULES" >/dev/null 2>"$DIR/rules-check.txt"
cat "$DIR/rules-check.txt"

# cpu seconds (user+sys) and wall seconds of one run, pinned to one core
measure() { # out-file, command...
	local out=$1
	shift
	/usr/bin/time -f "%e %U %S" -o "$out" taskset -c "$CPU" "$@" >/dev/null 2>"$DIR/err.txt" ||
		{ cat "$DIR/err.txt"; exit 1; }
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

bench_stream() { # title, events file
	local title=$1 ev=$2 r k name w u s c c_decode c_table c_rules label
	declare -A wall cpu
	local names=(decode table rules)
	for r in $(seq "$ROUNDS"); do
		for k in 0 1 2; do
			name=${names[$(( (k + r) % 3 ))]}
			case $name in
			decode) measure "$DIR/t" "$PG" replay "$ev" -f 'pid == 0' -o /dev/null -q ;;
			table) measure "$DIR/t" "$PG" replay "$ev" --process -f 'pid == 0' -o /dev/null -q ;;
			rules) measure "$DIR/t" "$PG" detect --rules "$RULES" --input "$ev" -o /dev/null ;;
			esac
			read -r w u s < "$DIR/t"
			wall[$name]+="$w "
			cpu[$name]+="$(echo "$u + $s" | bc) "
		done
	done
	echo
	echo "$title"
	"$PG" detect --rules "$RULES" --input "$ev" -o /dev/null 2>&1 | tail -2 | sed 's/^/  /'
	printf '  %-48s %8s %11s %8s %13s\n' "run (N=$N, one core)" "wall s" "events/s" "CPU s" "events/CPU s"
	for name in decode table rules; do
		w=$(echo "${wall[$name]}" | median)
		c=$(echo "${cpu[$name]}" | median)
		case $name in
		decode) label="replay -f 'pid == 0' (decode only)"; c_decode=$c ;;
		table) label="replay --process -f 'pid == 0' (+ process table)"; c_table=$c ;;
		rules) label="detect: table + 100 rules (10 correlations)"; c_rules=$c ;;
		esac
		printf '  %-48s %8s %11.0f %8s %13.0f\n' "$label" "$w" "$(echo "$N / $w" | bc -l)" "$c" "$(echo "$N / $c" | bc -l)"
	done
	printf '  process table: %.0f ns/event (CPU); rules: %.0f ns/event (CPU)\n' \
		"$(echo "($c_table - $c_decode) * 1000000000 / $N" | bc -l)" \
		"$(echo "($c_rules - $c_table) * 1000000000 / $N" | bc -l)"
}

life=$DIR/lifecycle-$N.ndjson
if [ ! -s "$life" ]; then
	python3 bench/gen_lifecycle.py "$N" > "$DIR/raw.ndjson"
	"$PG" replay "$DIR/raw.ndjson" -o "$life.tmp" -q
	mv "$life.tmp" "$life"
	rm -f "$DIR/raw.ndjson"
fi
bench_stream "processes with lives (bench/gen_lifecycle.py): a tree that forks, execs, works, exits" "$life"
bench_stream "random pids and parents (bench/gen_events.py): the process table's worst case" "$events"
