# pangolin's kernel-matrix suite: runs the product on one kernel and writes what happened into
# $OUT for tests/kernels/test_matrix.py to check on the host. It decides nothing: every
# assertion is on the host. Runs under busybox sh, as PID 1's child in a QEMU guest
# (tests/kernels/guest/init) or natively for the host's row (tests/kernels/run).
#
#   sh suite.sh               the whole suite
#   sh suite.sh workload      (internal) the sensor's workload, run inside the suite's cgroup
#   sh suite.sh enforce|monitor  (internal) the policies' workloads, the same way
#
# Environment (set by the caller): OUT (results directory), PANGOLIN (the binary), HELPERS
# (directory of pgwork, prof_target, syscall_loop), DNSMASQ (the resolver), CGROOT (the cgroup v2
# mount), WORK (a scratch directory). Facts (pids, fds, results printed by the workload) go to
# $OUT/facts.txt, one "name key=value ..." line each; a value that may hold spaces comes last as
# reason=... . Each step records "step NAME rc=N seconds=S" in $OUT/steps.txt.
#
# Under TCG everything is 10-50x slower than on the host: no step measures time, and every wait
# has a generous bound so a hung step cannot hang the guest (QEMU has its own bound too).

set -u
PGWORK=$HELPERS/pgwork
FACTS=$OUT/facts.txt

fact() {
	echo "$*" >>"$FACTS"
}

say() {
	echo "suite: $*"
}

uptime_s() {
	read -r up _ </proc/uptime
	echo "$up"
}

# wait_for FILE TEXT SECONDS [PID]: until FILE contains TEXT (0), the time is up or process PID
# (the one that would write it) has exited (1)
wait_for() {
	i=0
	while [ "$i" -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		[ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null && return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# stop PID: SIGINT (pangolin drains and exits 0), then its exit status; SIGKILL after 120 s
stop() {
	kill -INT "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null && [ "$i" -lt 1200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1"
}

# step NAME: runs step_NAME, records its status and how long it took
step() {
	say "step $1"
	t0=$(uptime_s)
	"step_$1"
	rc=$?
	t1=$(uptime_s)
	echo "step $1 rc=$rc seconds=$(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }")" >>"$OUT/steps.txt"
	say "step $1 done: rc=$rc"
}

# --- the kernel and what it offers --------------------------------------------------------------

step_facts() {
	fact "kernel release=$(uname -r) machine=$(uname -m) cpus=$(grep -c ^processor /proc/cpuinfo)"
	if [ -r /sys/kernel/security/lsm ]; then
		fact "lsm list=$(cat /sys/kernel/security/lsm)"
	else
		fact "lsm list= reason=securityfs has no lsm file on this kernel"
	fi
	fact "io_uring_disabled value=$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo absent)"
	fact "btf present=$([ -r /sys/kernel/btf/vmlinux ] && echo yes || echo no)"
}

step_doctor() {
	timeout 600 "$PANGOLIN" doctor >"$OUT/doctor.txt" 2>&1
	rc=$?
	fact "doctor rc=$rc"
	return $rc
}

# --- the live sensor: every event type, selected by the suite's own cgroup ----------------------

# The resolver for glibc's DNS lookups, on the guest's loopback (127.0.0.1 and ::1, UDP and
# TCP port 53): names under pangolin.test resolve to documentation addresses. Its TCP
# listeners are also what the connect events connect to.
start_resolver() {
	"$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
		--bind-interfaces --listen-address=127.0.0.1 --listen-address=::1 --port=53 \
		--address=/pangolin.test/192.0.2.1 --address=/pangolin.test/2001:db8::1 \
		--user=root --group=root --pid-file= --log-queries \
		--log-facility="$OUT/dnsmasq.log" 2>>"$OUT/dnsmasq.log" &
	RESOLVER=$!
	if wait_for "$OUT/dnsmasq.log" "started, version" 60 "$RESOLVER"; then
		fact "resolver pid=$RESOLVER"
	else
		fact "resolver_failed reason=dnsmasq did not start (see dnsmasq.log)"
	fi
}

# Runs inside the cgroup the sensor selects: every event type once, with its facts.
workload() {
	t=$TOKEN
	fact "workload pid=$$"
	# exec with argv: a space inside one argument, an empty one
	sh -c 'echo "exec pid=$$" >>"$FACTS"; exec /bin/echo "$0" "two words" ""' "$t" >/dev/null
	fact "exec_argv path=/bin/echo token=$t"
	fact "fork_exit $("$PGWORK" fork-exit 42)"
	fact "fork_kill $("$PGWORK" fork-kill 9)"
	echo x >"$WORK/open-$t"
	fact "open_ok path=$WORK/open-$t $("$PGWORK" open "$WORK/open-$t")"
	fact "open_enoent path=$WORK/missing-$t $("$PGWORK" open "$WORK/missing-$t")"
	fact "connect_v4 addr=127.0.0.1 port=53 $("$PGWORK" connect 127.0.0.1 53)"
	fact "connect_v6 addr=::1 port=53 $("$PGWORK" connect ::1 53)"
	fact "connect_refused addr=127.0.0.1 port=9 $("$PGWORK" connect 127.0.0.1 9)"
	# glibc's own resolver (getent, nsswitch "hosts: files dns") against the suite's resolver
	sh -c 'echo "dns pid=$$ name=$0" >>"$FACTS"; exec getent ahosts "$0"' "q$t.pangolin.test" \
		>"$OUT/sensor/getent.txt" 2>&1
	fact "dns_result rc=$?"
	fact "setid $("$PGWORK" setresuid 65534 65534 65534)"
	fact "ptrace $("$PGWORK" ptrace-poke)"
	r=$("$PGWORK" uring-open "$WORK/open-$t" 2>&1)
	case $r in
	pid=*)
		fact "uring_ok path=$WORK/open-$t $r"
		fact "uring_enoent path=$WORK/missing-$t $("$PGWORK" uring-open "$WORK/missing-$t")"
		;;
	*) fact "uring_missing reason=$r" ;;
	esac
	# the process that was running before the sensor started
	kill -TERM "$SNAP_PID"
	fact "snapshot_killed rc=$?"
}

step_sensor() {
	d=$OUT/sensor
	mkdir -p "$d"
	# a process in the cgroup before the sensor starts: the start-up snapshot must report it
	sh -c 'echo $$ >"$0/cgroup.procs" && exec sleep 1000' "$CG" &
	SNAP_PID=$!
	export SNAP_PID
	fact "snapshot pid=$SNAP_PID"
	i=0
	while [ "$(cat /proc/$SNAP_PID/comm 2>/dev/null)" != sleep ] && [ "$i" -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	"$PANGOLIN" run -o "$d/events.ndjson" --stats "$d/stats.json" \
		--filter "cgroup_id == $CGID" 2>"$d/stderr.txt" &
	s=$!
	if ! wait_for "$d/stderr.txt" "watching:" 600 "$s"; then
		fact "sensor_not_watching reason=see sensor/stderr.txt"
		stop "$s"
		fact "sensor rc=$?"
		kill -KILL "$SNAP_PID"
		wait "$SNAP_PID"
		return 1
	fi
	sh -c 'echo $$ >"$0/cgroup.procs" && exec sh "$1" workload' "$CG" "$SUITE"
	fact "workload_done rc=$?"
	wait "$SNAP_PID"
	sleep 1 # records submitted without a wakeup are read on the reader's timer
	stop "$s"
	rc=$?
	fact "sensor rc=$rc"
	return $rc
}

# --- record, then replay the recording ----------------------------------------------------------

step_record() {
	d=$OUT/record
	mkdir -p "$d"
	"$PANGOLIN" record -o "$d/rec.ndjson" --filter "cgroup_id == $CGID" 2>"$d/stderr.txt" &
	s=$!
	if ! wait_for "$d/stderr.txt" "watching:" 600 "$s"; then
		stop "$s"
		fact "record rc=$? reason=never watching"
		return 1
	fi
	sh -c 'echo $$ >"$0/cgroup.procs" && "$1" fork-exit 3 && "$1" open "$2" &&
		{ "$1" uring-open "$2" || true; } && exec /bin/echo "$3"' \
		"$CG" "$PGWORK" "$WORK/open-$TOKEN" "rec-$TOKEN" >"$d/workload.txt" 2>&1
	sleep 1
	stop "$s"
	rc=$?
	fact "record rc=$rc"
	timeout 300 "$PANGOLIN" replay "$d/rec.ndjson" -q >"$d/replay.ndjson" 2>"$d/replay.err"
	rrc=$?
	fact "replay rc=$rrc"
	[ $rc -eq 0 ] && [ $rrc -eq 0 ]
}

# --- profile: a known call chain ----------------------------------------------------------------

step_profile() {
	d=$OUT/profile
	mkdir -p "$d"
	"$HELPERS/prof_target" 600 >"$d/target.txt" &
	p=$!
	wait_for "$d/target.txt" ready 60 "$p"
	timeout 600 "$PANGOLIN" profile -p "$p" -d 3 -o "$d/profile.folded" 2>"$d/stderr.txt"
	rc=$?
	kill -KILL "$p"
	wait "$p"
	fact "profile pid=$p rc=$rc"
	return $rc
}

# --- latency: run-queue and syscall histograms --------------------------------------------------

step_runq() {
	d=$OUT/latency
	mkdir -p "$d"
	# three spinning threads on two CPUs: tasks wait for a CPU in turn
	"$HELPERS/prof_target" 600 3 >/dev/null &
	p=$!
	timeout 600 "$PANGOLIN" latency runq -d 3 --json >"$d/runq.json" 2>"$d/runq.err"
	rc=$?
	kill -KILL "$p"
	wait "$p"
	fact "runq rc=$rc"
	return $rc
}

step_syscall() {
	d=$OUT/latency
	mkdir -p "$d"
	rm -f "$WORK/go"
	mkfifo "$WORK/go"
	# syscall_loop blocks on its standard input until the tracer is attached
	"$HELPERS/syscall_loop" 2000 wait <"$WORK/go" >"$d/loop.txt" &
	l=$!
	exec 3>"$WORK/go"
	wait_for "$d/loop.txt" ready 60 "$l"
	lp=$(sed -n 's/^ready //p' "$d/loop.txt")
	timeout 600 "$PANGOLIN" latency syscall -p "$lp" --syscall getppid --json \
		>"$d/syscall.json" 2>"$d/syscall.err" &
	s=$!
	wait_for "$d/syscall.err" tracing 600 "$s"
	echo go >&3
	exec 3>&-
	wait "$l"
	wait "$s" # stops by itself when the process exits
	rc=$?
	fact "syscall pid=$lp rc=$rc"
	return $rc
}

# --- sniff: the seed's UDP filter in the kernel, on loopback ------------------------------------

step_sniff() {
	d=$OUT/sniff
	mkdir -p "$d"
	"$PANGOLIN" sniff -i lo --udp -o "$d/packets.ndjson" 2>"$d/stderr.txt" &
	s=$!
	if ! wait_for "$d/stderr.txt" "listening on" 600 "$s"; then
		stop "$s"
		fact "sniff rc=$? reason=never listening"
		return 1
	fi
	fact "sniff_udp4 addr=127.0.0.1 port=9 $("$PGWORK" udp-send 127.0.0.1 9 5)"
	# neither UDP over IPv6 nor TCP passes the seed's filter
	fact "sniff_udp6 addr=::1 port=9 $("$PGWORK" udp-send ::1 9 3)"
	fact "sniff_tcp $("$PGWORK" connect 127.0.0.1 53)"
	sleep 1
	stop "$s"
	rc=$?
	fact "sniff rc=$rc"
	return $rc
}

# --- enforcement: policies stop what the suite's processes try (docs/enforce.md) ---------------

# Every rule is scoped to the suite's cgroup. What each attempt did is a fact (exit status,
# bytes out, the call's result); the host checks it against the mechanism doctor names for this
# kernel: refused with EPERM (BPF LSM, cgroup hooks) or killed (the signal from the sensor's
# hooks).
enforce_workload() {
	e=$OUT/enforce
	# each attempt's output to a file, not $(...): a process killed at its ptrace attach leaves
	# its child holding the pipe, and the shell would wait for it
	attempt() {
		name=$1
		shift
		"$@" >"$e/$name.out" 2>"$e/$name.err"
		fact "$name rc=$? $(cat "$e/$name.out")"
	}
	attempt enforce_open "$PGWORK" open "$WORK/secret-$TOKEN"
	cat "$WORK/secret-$TOKEN" >"$e/cat.out" 2>"$e/cat.err"
	fact "enforce_cat rc=$? bytes=$(wc -c <"$e/cat.out")"
	cat "$WORK/secret2-$TOKEN" >"$e/cat2.out" 2>"$e/cat2.err"
	fact "enforce_kill rc=$? bytes=$(wc -c <"$e/cat2.out")"
	attempt enforce_exec "$WORK/bin-$TOKEN/true"
	attempt enforce_memfd "$PGWORK" memfd-exec /bin/busybox true
	attempt enforce_connect "$PGWORK" connect 127.0.0.3 9
	attempt enforce_setid "$PGWORK" setresuid 65534 65534 65534
	attempt enforce_ptrace "$PGWORK" ptrace-poke
	attempt enforce_uring "$PGWORK" uring-open "$WORK/secret-$TOKEN"
}

step_enforce() {
	d=$OUT/enforce
	mkdir -p "$d" "$WORK/bin-$TOKEN"
	echo TOPSECRET >"$WORK/secret-$TOKEN"
	echo TOPSECRET >"$WORK/secret2-$TOKEN"
	cp /bin/busybox "$WORK/bin-$TOKEN/true"
	cg=${CG#"$CGROOT"}
	cat >"$d/policy.yaml" <<POLICY
name: suite
rules:
  - name: secret
    match: type == "open" && path == "$WORK/secret-$TOKEN" && cgroup == "$cg"
    action: deny
  - name: kill-secret
    match: type == "open" && path == "$WORK/secret2-$TOKEN" && cgroup == "$cg"
    action: kill
  - name: tmp-exec
    match: type == "exec" && path startswith "$WORK/bin-$TOKEN/" && cgroup == "$cg"
    action: deny
  - name: fileless
    match: type == "exec" && exe_unlinked && cgroup == "$cg"
    action: deny
  - name: net
    match: type == "connect" && daddr == "127.0.0.3" && cgroup == "$cg"
    action: deny
  - name: creds
    match: type == "setid" && cgroup == "$cg"
    action: deny
  - name: trace
    match: type == "ptrace" && cgroup == "$cg"
    action: deny
POLICY
	"$PANGOLIN" run --policy "$d/policy.yaml" -o "$d/events.ndjson" --stats "$d/stats.json" \
		--filter "cgroup_id == $CGID" 2>"$d/stderr.txt" &
	s=$!
	if ! wait_for "$d/stderr.txt" "watching:" 600 "$s"; then
		stop "$s"
		fact "enforce_sensor rc=$? reason=never watching"
		return 1
	fi
	sh -c 'echo $$ >"$0/cgroup.procs" && exec sh "$1" enforce' "$CG" "$SUITE"
	fact "enforce_done rc=$?"
	# a ptrace-poke killed at its attach leaves its child (paused) behind
	for p in $(cat "$CG/cgroup.procs"); do
		kill -KILL "$p"
	done
	sleep 1
	stop "$s"
	rc=$?
	fact "enforce_sensor rc=$rc"
	return $rc
}

# Monitor mode: the same deny rules decided, nothing refused; the events say would_deny (or
# would_kill where deny would be a kill).
monitor_workload() {
	e=$OUT/enforce_monitor
	cat "$WORK/secret-$TOKEN" >"$e/cat.out" 2>"$e/cat.err"
	fact "monitor_cat rc=$? bytes=$(wc -c <"$e/cat.out")"
	"$WORK/bin-$TOKEN/true"
	fact "monitor_exec rc=$?"
}

step_enforce_monitor() {
	d=$OUT/enforce_monitor
	mkdir -p "$d"
	cg=${CG#"$CGROOT"}
	cat >"$d/policy.yaml" <<POLICY
name: suite-monitor
mode: monitor
rules:
  - name: secret
    match: type == "open" && path == "$WORK/secret-$TOKEN" && cgroup == "$cg"
    action: deny
  - name: tmp-exec
    match: type == "exec" && path startswith "$WORK/bin-$TOKEN/" && cgroup == "$cg"
    action: deny
POLICY
	"$PANGOLIN" run --policy "$d/policy.yaml" -o "$d/events.ndjson" --stats "$d/stats.json" \
		--filter "cgroup_id == $CGID && type == \"fork\"" 2>"$d/stderr.txt" &
	s=$!
	if ! wait_for "$d/stderr.txt" "watching:" 600 "$s"; then
		stop "$s"
		fact "monitor_sensor rc=$? reason=never watching"
		return 1
	fi
	sh -c 'echo $$ >"$0/cgroup.procs" && exec sh "$1" monitor' "$CG" "$SUITE"
	fact "monitor_done rc=$?"
	sleep 1
	stop "$s"
	rc=$?
	fact "monitor_sensor rc=$rc"
	return $rc
}

# DNS on its own: a kernel without the egress hook refuses DNS rules, and says so.
step_enforce_dns() {
	d=$OUT/enforce_dns
	mkdir -p "$d"
	cg=${CG#"$CGROOT"}
	cat >"$d/policy.yaml" <<POLICY
name: suite-dns
rules:
  - name: no-evil
    match: type == "dns" && qname endswith ".evil-$TOKEN.pangolin.test" && cgroup == "$cg"
    action: deny
POLICY
	"$PANGOLIN" run --policy "$d/policy.yaml" -o "$d/events.ndjson" --stats "$d/stats.json" \
		--filter "cgroup_id == $CGID" 2>"$d/stderr.txt" &
	s=$!
	if ! wait_for "$d/stderr.txt" "watching:" 600 "$s"; then
		stop "$s"
		fact "enforce_dns_sensor rc=$? reason=$(tail -1 "$d/stderr.txt")"
		return 0
	fi
	sh -c 'echo $$ >"$0/cgroup.procs" && exec getent ahosts "$1"' "$CG" "www.evil-$TOKEN.pangolin.test" \
		>"$d/denied.txt" 2>&1
	fact "enforce_dns_denied rc=$? name=www.evil-$TOKEN.pangolin.test"
	sh -c 'echo $$ >"$0/cgroup.procs" && exec getent ahosts "$1"' "$CG" "good-$TOKEN.pangolin.test" \
		>"$d/allowed.txt" 2>&1
	fact "enforce_dns_allowed rc=$? name=good-$TOKEN.pangolin.test"
	sleep 1
	stop "$s"
	fact "enforce_dns_sensor rc=$?"
}

# --- main ---------------------------------------------------------------------------------------

if [ "${1:-}" = workload ]; then
	workload
	exit 0
fi
if [ "${1:-}" = enforce ]; then
	enforce_workload
	exit 0
fi
if [ "${1:-}" = monitor ]; then
	monitor_workload
	exit 0
fi

SUITE=$(realpath "$0")
TOKEN=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
export OUT HELPERS PANGOLIN PGWORK FACTS WORK TOKEN
: >"$FACTS"
: >"$OUT/steps.txt"
say "pangolin kernel suite on $(uname -r), results in $OUT"
CG=$CGROOT/pangolin-suite-$TOKEN
mkdir "$CG" || fact "cgroup_failed reason=cannot create $CG"
CGID=$(stat -c %i "$CG")
fact "cgroup id=$CGID path=$CG"
export CG CGID

step facts
step doctor
start_resolver
step sensor
step record
step profile
step runq
step syscall
step sniff
step enforce
step enforce_monitor
step enforce_dns
kill "$RESOLVER" 2>/dev/null
wait "$RESOLVER"
rmdir "$CG"
echo "suite finished at $(uptime_s)" >"$OUT/suite.done"
say "finished"
