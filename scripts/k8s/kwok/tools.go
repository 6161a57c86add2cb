//go:build tools

// Package tools names the program scripts/k8s-binaries.sh builds, so that go mod tidy keeps
// its dependencies.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
