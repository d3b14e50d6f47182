#!/usr/bin/env bash
# Unit tests of the guest agent (Go, runs on the host against fake sysfs/proc directories).
# Meant to be called from scripts/test.sh next to the jest unit project.
set -euo pipefail
cd "$(dirname "$0")/../guest/agent"
CGO_ENABLED=0 go vet ./...
CGO_ENABLED=0 go test ./...
