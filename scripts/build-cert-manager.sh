#!/usr/bin/env bash
# Builds cert-manager's controllers (approver, Issuer/ClusterIssuer readiness, CA and self-signed
# signers) from its Go module on the proxy, for VM TLS provisioning (spec.tls) in the local cluster,
# and keeps cert-manager's own CRDs next to them. Cached by version like the other toolchain builds.
#
#   scripts/build-cert-manager.sh               build if needed; prints the bin directory on the last line
#   scripts/build-cert-manager.sh --background  start the build detached (log: ${CERT_MANAGER_BUILD_LOG:-/tmp/cert-manager-build.log})
#
# Output: ${NEONVM_CACHE:-$HOME/.cache/neonvm}/cert-manager-<version>/
#   bin/cert-manager-controllers, share/crds/*.yaml, build-timing.json, .complete
# The wiring (cluster/build/cert-manager/main.go) is ours: cert-manager's cmd/controller is a separate
# module the proxy does not serve. A cold build takes a few minutes on 2 cores.
set -euo pipefail

CERT_MANAGER_VERSION="${CERT_MANAGER_VERSION:-v1.21.2}"
CM_MOD="github.com/cert-manager/cert-manager"
KEY="cert-manager-${CERT_MANAGER_VERSION}"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '[build-cert-manager %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
# shellcheck source=lib/cached-build.sh
source "${SCRIPT_DIR}/lib/cached-build.sh"

cached_build_background_if_asked "${1:-}" "${CERT_MANAGER_BUILD_LOG:-/tmp/cert-manager-build.log}" build-cert-manager

has_binaries() { [[ -x "$1/cert-manager-controllers" && -f "$1/../share/crds/cert-manager.io_certificaterequests.yaml" ]]; }

cached_build_begin "${KEY}" has_binaries
declare -A TIMES=()
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--buildvcs=false}"

mod="${WORK}/modules/cert-manager-controllers"
mkdir -p "${mod}" "${WORK}/share/crds"
cp "${SCRIPT_DIR}/../cluster/build/cert-manager/main.go" "${mod}/"
printf 'module neonvm.local/cert-manager-controllers\n\ngo 1.26.0\n\nrequire %s %s\n' \
  "${CM_MOD}" "${CERT_MANAGER_VERSION}" >"${mod}/go.mod"
t0=$(date +%s)
log "cert-manager ${CERT_MANAGER_VERSION}: resolving modules"
(cd "${mod}" && nice -n 15 go mod tidy)
TIMES[tidy]=$(($(date +%s) - t0))
t0=$(date +%s)
log "cert-manager-controllers: building"
(cd "${mod}" && nice -n 15 go build -trimpath -ldflags "-s -w" -o "${WORK}/bin/cert-manager-controllers" .)
TIMES[build]=$(($(date +%s) - t0))
log "cert-manager-controllers: done in ${TIMES[build]}s"

# cert-manager's CRDs ship in its module (deploy/crds): the exact schemas its controllers expect.
src="$(cd "${mod}" && go list -m -f '{{.Dir}}' "${CM_MOD}")"
cp "${src}"/deploy/crds/cert-manager.io_*.yaml "${WORK}/share/crds/"
chmod 0644 "${WORK}"/share/crds/*.yaml

cached_build_publish "$(printf '"certManagerVersion":"%s"' "${CERT_MANAGER_VERSION}")"
