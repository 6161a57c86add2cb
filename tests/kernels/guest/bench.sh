# The sensor's cost on an open+close loop inside a kernel-matrix guest, next to the floor (an
# empty BPF program on raw_syscalls:sys_exit, bench/hook_floor.c), in interleaved rounds. Run
# by tests/kernels/guest/init when the kernel command line has PG_SUITE=bench (bench/guest.sh
# sets it); bench/guest_report.py turns $OUT/bench.txt into medians and ratios on the host.
# Under TCG everything is slower than on the host: only ratios within one guest run mean
# anything. A benchmark, not a test: it measures, it asserts nothing.
#
# Environment: OUT, PANGOLIN, HELPERS, WORK (as for suite.sh); PG_BENCH_ROUNDS (5),
# PG_BENCH_SECONDS (3), PG_BENCH_CONFIGS (alone empty-hook pangolin-all pangolin-kfilt).

set -u
ROUNDS=${PG_BENCH_ROUNDS:-5}
SECS=${PG_BENCH_SECONDS:-3}
CONFIGS=${PG_BENCH_CONFIGS:-alone empty-hook pangolin-all pangolin-kfilt}
TARGET=$WORK/target
echo x >"$TARGET"

# wait_for FILE TEXT SECONDS PID (as in suite.sh)
wait_for() {
	i=0
	while [ "$i" -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# one CONFIG ROUND: the loop's result plus, for pangolin, what it delivered and lost
run_config() {
	c=$1 r=$2 t=$WORK/$1
	rm -f "$t".*
	case $c in
	alone)
		echo "config=$c round=$r $("$HELPERS/pgwork" loop "$SECS" "$TARGET")" >>"$OUT/bench.txt"
		return
		;;
	empty-hook) "$HELPERS/hook_floor" >"$t.err" 2>&1 & ready=attached ;;
	pangolin-all) "$PANGOLIN" run -o "$t.ndjson" --stats "$t.stats" 2>"$t.err" & ready=watching: ;;
	pangolin-kfilt)
		"$PANGOLIN" run -o "$t.ndjson" --stats "$t.stats" --filter 'comm != "pgwork"' 2>"$t.err" &
		ready=watching:
		;;
	*) echo "bench: unknown configuration $c" && return ;;
	esac
	p=$!
	if ! wait_for "$t.err" "$ready" 600 "$p"; then
		echo "config=$c round=$r error=not-ready" >>"$OUT/bench.txt"
		cat "$t.err" >>"$OUT/bench-errors.txt"
		kill -KILL "$p" 2>/dev/null
		wait "$p"
		return
	fi
	res=$("$HELPERS/pgwork" loop "$SECS" "$TARGET")
	sleep 0.3
	kill -INT "$p"
	wait "$p"
	extra=
	if [ -f "$t.stats" ]; then
		# the loop's own opens in the output, and what the kernel could not deliver
		got=$(grep -c "\"comm\":\"pgwork\".*\"path\":\"$TARGET\"" "$t.ndjson")
		lost=$(sed -n 's/.*"lost_in_kernel":\([0-9]*\).*/\1/p' "$t.stats")
		tier=$(sed -n 's/.*"bpf_tier":\([0-9]*\).*/\1/p' "$t.stats")
		extra="delivered=$got lost=$lost tier=$tier"
	fi
	echo "config=$c round=$r $res $extra" >>"$OUT/bench.txt"
	rm -f "$t".*
}

echo "bench: $ROUNDS rounds of $SECS s, configurations: $CONFIGS, on $(uname -r)"
: >"$OUT/bench.txt"
r=1
while [ $r -le "$ROUNDS" ]; do
	for c in $CONFIGS; do
		run_config "$c" $r
		tail -1 "$OUT/bench.txt"
	done
	r=$((r + 1))
done
echo "bench finished" >"$OUT/suite.done"
