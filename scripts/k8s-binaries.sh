#!/usr/bin/env bash
# Builds the test cluster's programs from the Go module proxy into build/k8s/bin/:
# kube-apiserver, kubectl and etcd (scripts/k8s/kube, one Kubernetes release) and kwok
# (scripts/k8s/kwok), which plays the kubelet. Programs already built are skipped, so only the
# first run pays (about 6 minutes cold on 2 cores; seconds afterwards).
#
#   scripts/k8s-binaries.sh            build what is missing, print the bin directory
#   scripts/k8s-binaries.sh --force    rebuild everything
#
# Versions are pinned by the go.mod/go.sum files beside this script; bump them there.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${PG_K8S_BIN:-$root/build/k8s/bin}
force=0
[ "${1:-}" = "--force" ] && force=1

if ! command -v go >/dev/null 2>&1; then
	for d in /usr/local/go/bin /usr/lib/go/bin; do
		[ -x "$d/go" ] && PATH=$d:$PATH && break
	done
fi
command -v go >/dev/null 2>&1 || {
	echo "k8s-binaries: no Go toolchain; run scripts/install-deps.sh first" >&2
	exit 1
}
mkdir -p "$out"

# The release in scripts/k8s/kube/go.mod, stamped into the programs as `make` in a Kubernetes
# checkout would (without it they say v0.0.0-master, which kubectl version cannot parse).
kube_version=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2 }' "$root/scripts/k8s/kube/go.mod")
[ -n "$kube_version" ] || { echo "k8s-binaries: no k8s.io/kubernetes version in scripts/k8s/kube/go.mod" >&2; exit 1; }
kube_minor=$(echo "$kube_version" | cut -d. -f2)
kube_x=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	kube_x+=" -X $p.gitVersion=$kube_version -X $p.gitMajor=1 -X $p.gitMinor=$kube_minor"
	kube_x+=" -X $p.gitTreeState=clean"
done

# build DIR NAME PACKAGE: one program from the module in scripts/k8s/DIR.
build() {
	local dir=$1 name=$2 pkg=$3 x=""
	[ "$dir" = kube ] && x=$kube_x
	if [ $force = 0 ] && [ -x "$out/$name" ]; then
		return 0
	fi
	echo "k8s-binaries: building $name ($pkg)" >&2
	# Static, no cgo: the same binaries work on any machine of this kind. -trimpath and the
	# stripped symbol table keep build/ small (kube-apiserver is ~110 MB unstripped).
	(cd "$root/scripts/k8s/$dir" &&
		CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags="-s -w$x" \
			-o "$out/$name.tmp" "$pkg")
	mv "$out/$name.tmp" "$out/$name"
}

build kube etcd go.etcd.io/etcd/server/v3
build kube kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kube kubectl k8s.io/kubernetes/cmd/kubectl
build kwok kwok sigs.k8s.io/kwok/cmd/kwok

# kwok acts by "stages" (YAML Stage objects); the fast node and pod stages ship in its module.
# Collected into one file beside the binaries, from the module cache the build just used.
stages=$out/../kwok-stages.yaml
if [ $force = 1 ] || [ ! -s "$stages" ]; then
	kwok_dir=$(cd "$root/scripts/k8s/kwok" && GOFLAGS=-mod=readonly go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
	for f in node/fast/node-initialize.yaml pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml \
		pod/fast/pod-delete.yaml; do
		echo "---"
		cat "$kwok_dir/kustomize/stage/$f"
	done >"$stages.tmp"
	mv "$stages.tmp" "$stages"
fi
echo "$out"
