# Shared by the bench scripts that drive `pangolin run` themselves (source it, not run it).
#   pg_bench_init NAME     a scratch dir in $tmp, removed on exit with any pangolin still running
#   pg_start ARGS...       pangolin run into $tmp/events.ndjson; returns once it watches
#   pg_stop                SIGINT, wait
#   pg_replay_defaults     N ROUNDS CPU PG DIR of the replay benchmarks, from the environment
#                          (N, ROUNDS, CPU, PANGOLIN_BIN, BENCH_DIR) or their defaults
#   pg_bench_events N      $DIR/events-N.ndjson: N events of bench/gen_events.py in canonical
#                          form ($PG replay), made once and shared by the replay benchmarks
# PANGOLIN=/path/to/binary runs another build (to compare a change against the committed one).

pg_bench_init() {
	tmp=$(mktemp -d "/tmp/pg-$1.XXXXXX")
	pg=
	trap pg_bench_cleanup EXIT
}

pg_bench_cleanup() {
	[ -n "$pg" ] && kill -INT "$pg" 2>/dev/null && wait "$pg" 2>/dev/null
	rm -rf "$tmp"
}

pg_start() {
	"${PANGOLIN:-build/pangolin}" run -o "$tmp/events.ndjson" "$@" 2>"$tmp/pangolin.err" &
	pg=$!
	for _ in $(seq 200); do
		grep -q watching "$tmp/pangolin.err" 2>/dev/null && return 0
		kill -0 "$pg" 2>/dev/null || { cat "$tmp/pangolin.err" >&2; return 1; }
		sleep 0.05
	done
	echo "pangolin did not start watching" >&2
	return 1
}

pg_stop() {
	kill -INT "$pg"
	wait "$pg" || true
	pg=
}

pg_bench_events() {
	events=$DIR/events-$1.ndjson
	if [ ! -s "$events" ]; then
		echo "generating $1 events (bench/gen_events.py), canonical form by pangolin replay" >&2
		python3 bench/gen_events.py "$1" > "$DIR/raw.ndjson"
		"$PG" replay "$DIR/raw.ndjson" -o "$events.tmp" -q
		mv "$events.tmp" "$events"
		rm -f "$DIR/raw.ndjson"
	fi
}

pg_replay_defaults() {
	N=${N:-1000000}
	ROUNDS=${ROUNDS:-5}
	CPU=${CPU:-1}
	PG=${PANGOLIN_BIN:-build/pangolin}
	DIR=${BENCH_DIR:-build/bench}
}
