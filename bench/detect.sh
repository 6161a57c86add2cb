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

. bench/lib.bash
pg_replay_defaults
RULES=$DIR/bench-rules

mkdir -p "$DIR"
[ -x "$PG" ] || make
pg_bench_events "$N"

# 100 rules: the pack (45, 6 correlations) and 55 more (bench/gen_rules.py)
python3 bench/gen_rules.py "$RULES"
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
