#!/usr/bin/env bash
# Installs everything pangolin needs to build, test and benchmark on Debian 12.
# Idempotent: packages already present are skipped by apt.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

PKGS=(
	# build
	make gcc clang llvm libbpf-dev bpftool libelf-dev libdw-dev zlib1g-dev pkg-config
	libjansson-dev librdkafka-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
	libpcap-dev libyaml-dev libiberty-dev clang-format libcurl4-openssl-dev libpcre2-dev
	libmicrohttpd-dev libcap-dev
	# tests
	libcmocka-dev libclang-rt-14-dev liburing-dev g++ iproute2 python3 python3-pytest python3-confluent-kafka python3-protobuf python3-dnspython python3-yaml tcpdump tshark dnsutils kcat strace
	# kernel matrix (tests/kernels): Debian kernels booted under QEMU from a busybox initramfs
	# with the guest's own DNS resolver (dnsmasq-base: the binary, no system service)
	qemu-system-x86 busybox-static dnsmasq-base cpio kmod
	# the Kubernetes tests' control plane (built from the Go module proxy by
	# scripts/k8s-binaries.sh) needs certificates made locally
	openssl
	# the metrics endpoint's tests (promtool, a real Prometheus server) and least-privilege tests
	prometheus libcap2-bin
	# broker for the Kafka tests (jars come from Maven Central)
	maven default-jre-headless
	# peers for side-by-side benchmarks
	libbpf-tools bpftrace linux-perf hyperfine stress-ng jq
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	apt-get update -qq
	# tshark asks whether non-root users may capture; answer no without a prompt.
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# `go tool pprof` checks pangolin's pprof output in the integration tests. Machines that have
# Go installed elsewhere (e.g. /usr/local/go) keep it; others get Debian's golang-go.
if ! command -v go >/dev/null 2>&1 && [ ! -x /usr/local/go/bin/go ] && [ ! -x /usr/lib/go/bin/go ]; then
	echo "install-deps: installing golang-go (for go tool pprof)"
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends golang-go >/dev/null
fi
echo "install-deps: ok"
