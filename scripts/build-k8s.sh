#!/usr/bin/env bash
# Builds the local Kubernetes control plane (kube-apiserver, kube-scheduler, kube-controller-manager,
# kubectl) and etcd from the Go module proxy into a cache directory keyed by both versions.
#
#   scripts/build-k8s.sh            build if needed, print the bin directory on the last line
#
# Safe to run concurrently: a flock on "<cache>/<key>.lock" serialises builders, so a second caller
# (e.g. the test command while .ci/run's background build is still going) simply waits and then reuses
# the result. Its Go builds run under nice 10, the other toolchains' under 15 (needed during the
# integration tests: cert-manager, node toolchain) or 19 (needed last: Argo CD, Pulumi), so a cold CI
# run, which starts them all at once, gets the control plane every cluster test waits for first.
# The output is built in a temp directory and renamed into place with a `.complete` marker,
# so an interrupted build is never mistaken for a finished one.
#
# Environment:
#   NEONVM_CACHE        cache root (default: $HOME/.cache/neonvm)
#   KUBEBUILDER_ASSETS  envtest convention: if set and it holds all five binaries, use it and build nothing
#   K8S_VERSION         default v1.37.2
#   ETCD_VERSION        default v3.7.3
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.7.3}"
# kubelet: the real nodes (issue 16) run it; built from the same module so node and control plane match.
BINARIES=(kube-apiserver kube-scheduler kube-controller-manager kubectl kubelet)
ALL_BINARIES=(etcd "${BINARIES[@]}")

KEY="k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS_DIR="${SCRIPT_DIR}/../cluster/build"

log() { printf '[build-k8s %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
# shellcheck source=lib/cached-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/cached-build.sh"

has_all_binaries() {
  local dir="$1" b
  for b in "${ALL_BINARIES[@]}"; do [[ -x "${dir}/${b}" ]] || return 1; done
}

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  if has_all_binaries "${KUBEBUILDER_ASSETS}"; then
    log "using KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS}"
    echo "${KUBEBUILDER_ASSETS}"
    exit 0
  fi
  log "KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS} lacks some of: ${ALL_BINARIES[*]}; building instead"
fi

cached_build_begin "${KEY}" has_all_binaries
declare -A TIMES=()

export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--buildvcs=false}"
LDFLAGS="-s -w -X k8s.io/component-base/version.gitVersion=${K8S_VERSION}"

# etcd gets its own tool module so its (newer) etcd client modules do not change what the Kubernetes
# binaries are built with: k8s.io/kubernetes pins its own etcd client version.
build_etcd() {
  local mod="${WORK}/modules/etcd" t0
  mkdir -p "${mod}"
  bash "${TOOLS_DIR}/gen-etcd-module.sh" "${ETCD_VERSION}" >"${mod}/go.mod"
  log "etcd ${ETCD_VERSION}: resolving modules"
  (cd "${mod}" && nice -n 10 go mod tidy)
  t0=$(date +%s)
  log "etcd: building"
  (cd "${mod}" && nice -n 10 go build -trimpath -ldflags "-s -w" -o "${WORK}/bin/etcd" go.etcd.io/etcd/server/v3)
  TIMES[etcd]=$(($(date +%s) - t0))
  log "etcd: done in ${TIMES[etcd]}s"
}

build_kubernetes() {
  local mod="${WORK}/modules/kubernetes" b t0
  mkdir -p "${mod}"
  bash "${TOOLS_DIR}/gen-k8s-module.sh" "${K8S_VERSION}" "${BINARIES[@]}" >"${mod}/go.mod"
  log "kubernetes ${K8S_VERSION}: resolving modules ($(grep -c '=>' "${mod}/go.mod") staging replaces)"
  t0=$(date +%s)
  (cd "${mod}" && nice -n 10 go mod tidy)
  TIMES[tidy]=$(($(date +%s) - t0))
  log "kubernetes: modules resolved in ${TIMES[tidy]}s"
  # One binary at a time: progress per binary, and later binaries reuse the build cache of the first.
  for b in "${BINARIES[@]}"; do
    t0=$(date +%s)
    log "${b}: building (elapsed so far $(($(date +%s) - START))s)"
    (cd "${mod}" && nice -n 10 go build -trimpath -ldflags "${LDFLAGS}" -o "${WORK}/bin/${b}" "k8s.io/kubernetes/cmd/${b}")
    TIMES[${b}]=$(($(date +%s) - t0))
    log "${b}: done in ${TIMES[${b}]}s"
  done
}

build_etcd
build_kubernetes

"${WORK}/bin/kube-apiserver" --version >&2
"${WORK}/bin/etcd" --version | head -1 >&2

cached_build_publish "$(printf '"k8sVersion":"%s","etcdVersion":"%s"' "${K8S_VERSION}" "${ETCD_VERSION}")"
