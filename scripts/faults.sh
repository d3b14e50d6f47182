#!/usr/bin/env bash
# `npm run faults`: the fault-injection suite (test/faults, also part of `npm test`) on its own, then
# its table: scenario, outcome, figure. Needs the Kubernetes binaries (waits for their build) and
# QEMU; takes minutes under TCG.
set -uo pipefail
cd "$(dirname "$0")/.."
KUBEBUILDER_ASSETS="${KUBEBUILDER_ASSETS:-$(bash scripts/ensure-k8s.sh)}"
export KUBEBUILDER_ASSETS
FAULTS_REPORT="$(mktemp)"
export FAULTS_REPORT
trap 'rm -f "$FAULTS_REPORT"' EXIT
npx jest --selectProjects integration --runInBand --testPathPatterns '/test/faults/' "$@"
status=$?
echo
npx tsx test/faults/print-faults.ts "$FAULTS_REPORT" || status=1
exit "$status"
