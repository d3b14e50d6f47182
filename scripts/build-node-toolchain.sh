#!/usr/bin/env bash
# Builds what a real Kubernetes node runs besides the kubelet (which build-k8s.sh builds with the
# control plane): containerd 2.x, its runc shim and ctr, runc, the CNI plugins, the Whereabouts IPAM
# plugin, kube-proxy, and the Kubernetes pause binary (the sandbox image's only file). All from the Go
# module proxy, cached by version like the other toolchain builds (scripts/lib/cached-build.sh).
#
#   scripts/build-node-toolchain.sh               build if needed; prints the bin directory on the last line
#   scripts/build-node-toolchain.sh --background  start the build detached (log: ${NODE_TOOLCHAIN_BUILD_LOG:-/tmp/node-toolchain-build.log})
#
# Output: ${NEONVM_CACHE:-$HOME/.cache/neonvm}/<key>/
#   bin/{containerd,containerd-shim-runc-v2,ctr,runc,crictl,kube-proxy}
#   bin/cni/{bridge,host-local,loopback,portmap,tuning,whereabouts}   (a directory of its own: CNI bin_dirs)
#   bin/pause                                                         (static, from k8s.io/kubernetes build/pause)
#   build-timing.json, .complete
#
# Why runc from its module and not Debian's 1.1.5: containerd v2.4.2's CI tests against runc v1.5.2
# (script/setup/runc-version; docs/RUNC.md asks for that version or newer), and Debian's 1.1.5 predates
# features containerd 2.x uses (e.g. `runc features`). runc 1.5 still supports cgroup v1 (deprecated
# since 1.4, as containerd deprecated it in 2.2). Built with cgo + libseccomp (seccomp profiles, as the
# kubelet's RuntimeDefault needs) but without the `libpathrs` tag (a Rust library no registry here has).
#
# Why kube-proxy here and not in build-k8s.sh: adding a binary there makes every existing Kubernetes
# cache incomplete, so each machine would rebuild (and re-publish under running tests) the whole control
# plane. Here it is one more step, from the same k8s.io/kubernetes module and generated tool module as
# the control plane (so the same staging versions), built last: when build-k8s.sh runs at the same time
# (CI starts both), the packages they share are by then mostly in the Go build cache.
#
# Needs: go, gcc, pkg-config, libseccomp-dev (scripts/ci-apt-packages.txt).
set -euo pipefail

CONTAINERD_VERSION="${CONTAINERD_VERSION:-v2.4.2}"
RUNC_VERSION="${RUNC_VERSION:-v1.5.3}"
CNI_PLUGINS_VERSION="${CNI_PLUGINS_VERSION:-v1.10.0}"
WHEREABOUTS_VERSION="${WHEREABOUTS_VERSION:-v0.9.2}"
CRI_TOOLS_VERSION="${CRI_TOOLS_VERSION:-v1.37.0}"
# The pause source comes from the same Kubernetes module as the kubelet; PAUSE_TAG is its Makefile's TAG.
K8S_VERSION="${K8S_VERSION:-v1.37.2}"
PAUSE_TAG="3.10.2"
CNI_PLUGINS=(main/bridge ipam/host-local main/loopback meta/portmap meta/tuning)

KEY="node-containerd-${CONTAINERD_VERSION}-runc-${RUNC_VERSION}-cni-${CNI_PLUGINS_VERSION}-whereabouts-${WHEREABOUTS_VERSION}-crictl-${CRI_TOOLS_VERSION}-k8s-${K8S_VERSION}"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '[build-node-toolchain %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
# shellcheck source=lib/cached-build.sh
source "${SCRIPT_DIR}/lib/cached-build.sh"

cached_build_background_if_asked "${1:-}" "${NODE_TOOLCHAIN_BUILD_LOG:-/tmp/node-toolchain-build.log}" build-node-toolchain

has_binaries() {
  local dir="$1" b
  for b in containerd containerd-shim-runc-v2 ctr runc crictl kube-proxy pause cni/bridge cni/host-local cni/loopback \
    cni/portmap cni/tuning cni/whereabouts; do
    [[ -x "${dir}/${b}" ]] || return 1
  done
}

cached_build_begin "${KEY}" has_binaries
declare -A TIMES=()
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
mkdir -p "${WORK}/bin/cni"

# step <name> <command...>: runs one build step under nice, records its wall time.
step() {
  local name="$1" t0
  shift
  t0=$(date +%s)
  log "${name}: building (elapsed so far $(($(date +%s) - START))s)"
  nice -n 15 "$@"
  TIMES[${name}]=$(($(date +%s) - t0))
  log "${name}: done in ${TIMES[${name}]}s"
}

# containerd's go.mod has no replace directives, so `go install pkg@version` builds it as released.
# Flags follow its Makefile: urfave_cli_no_docs everywhere, no_grpc for the shim, version via -X.
# CGO_ENABLED=0 leaves out only the btrfs snapshotter (cgo-only), which this machine does not need.
CTRD_PKG=github.com/containerd/containerd/v2
CTRD_LDFLAGS="-s -w -X ${CTRD_PKG}/version.Version=${CONTAINERD_VERSION} -X ${CTRD_PKG}/version.Package=${CTRD_PKG}"
step containerd env CGO_ENABLED=0 GOBIN="${WORK}/bin" go install -trimpath -tags urfave_cli_no_docs \
  -ldflags "${CTRD_LDFLAGS}" "${CTRD_PKG}/cmd/containerd@${CONTAINERD_VERSION}" "${CTRD_PKG}/cmd/ctr@${CONTAINERD_VERSION}"
step containerd-shim-runc-v2 env CGO_ENABLED=0 GOBIN="${WORK}/bin" go install -trimpath \
  -tags "urfave_cli_no_docs no_grpc" -ldflags "${CTRD_LDFLAGS}" \
  "${CTRD_PKG}/cmd/containerd-shim-runc-v2@${CONTAINERD_VERSION}"

step runc env CGO_ENABLED=1 GOBIN="${WORK}/bin" go install -trimpath -tags "seccomp urfave_cli_no_docs" \
  -ldflags "-s -w" "github.com/opencontainers/runc@${RUNC_VERSION}"

# crictl: the CRI client node operators use; stopping a node removes its pod sandboxes through CRI
# (`crictl rmp -af`), so containerd runs the CNI DEL and unmounts each sandbox's netns.
step crictl env CGO_ENABLED=0 GOBIN="${WORK}/bin" go install -trimpath \
  -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=${CRI_TOOLS_VERSION}" \
  "sigs.k8s.io/cri-tools/cmd/crictl@${CRI_TOOLS_VERSION}"

cni_pkgs=()
for p in "${CNI_PLUGINS[@]}"; do cni_pkgs+=("github.com/containernetworking/plugins/plugins/${p}@${CNI_PLUGINS_VERSION}"); done
step cni-plugins env CGO_ENABLED=0 GOBIN="${WORK}/bin/cni" go install -trimpath \
  -ldflags "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=${CNI_PLUGINS_VERSION}" \
  "${cni_pkgs[@]}"

# Whereabouts' go.mod has a replace directive (gogo/protobuf), which `go install pkg@version` refuses:
# a wrapper module repeats it.
wa_mod="${WORK}/modules/whereabouts"
mkdir -p "${wa_mod}"
cat >"${wa_mod}/go.mod" <<EOF
module neonvm.local/whereabouts-build

go 1.26.0

require github.com/k8snetworkplumbingwg/whereabouts ${WHEREABOUTS_VERSION}

replace github.com/gogo/protobuf => github.com/gogo/protobuf v1.3.2
EOF
printf 'package tools\n\nimport _ "github.com/k8snetworkplumbingwg/whereabouts/cmd"\n' >"${wa_mod}/tools.go"
t0=$(date +%s)
log "whereabouts ${WHEREABOUTS_VERSION}: resolving modules"
(cd "${wa_mod}" && nice -n 15 go mod tidy)
TIMES[whereabouts-tidy]=$(($(date +%s) - t0))
WA_VERSION_PKG=github.com/k8snetworkplumbingwg/whereabouts/pkg/version
step whereabouts env -C "${wa_mod}" CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X ${WA_VERSION_PKG}.Version=${WHEREABOUTS_VERSION} -X ${WA_VERSION_PKG}.ReleaseStatus=released" \
  -o "${WORK}/bin/cni/whereabouts" github.com/k8snetworkplumbingwg/whereabouts/cmd

# pause: upstream's C source from the Kubernetes module, compiled as its Makefile does (static, -Os).
k8s_dir="$(nice -n 15 go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
step pause gcc -Os -Wall -Werror -static "-DVERSION=v${PAUSE_TAG}-neonvm" -o "${WORK}/bin/pause" \
  "${k8s_dir}/build/pause/linux/pause.c"

# kube-proxy: the tool module of build-k8s.sh (its staging replaces generated from k8s.io/kubernetes's
# go.mod), with the control plane's flags and version stamp.
kp_mod="${WORK}/modules/kube-proxy"
mkdir -p "${kp_mod}"
bash "${SCRIPT_DIR}/../cluster/build/gen-k8s-module.sh" "${K8S_VERSION}" kube-proxy >"${kp_mod}/go.mod"
t0=$(date +%s)
log "kube-proxy ${K8S_VERSION}: resolving modules"
(cd "${kp_mod}" && nice -n 15 go mod tidy)
TIMES[kube-proxy-tidy]=$(($(date +%s) - t0))
step kube-proxy env -C "${kp_mod}" CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=${K8S_VERSION}" \
  -o "${WORK}/bin/kube-proxy" k8s.io/kubernetes/cmd/kube-proxy

# No `| head` here: under pipefail, the SIGPIPE it causes would fail the whole build.
"${WORK}/bin/containerd" --version >&2
"${WORK}/bin/runc" --version >&2
"${WORK}/bin/pause" -v >&2
"${WORK}/bin/kube-proxy" --version >&2

cached_build_publish "$(printf '"containerdVersion":"%s","runcVersion":"%s","cniPluginsVersion":"%s","whereaboutsVersion":"%s","criToolsVersion":"%s","pauseTag":"%s","k8sVersion":"%s"' \
  "${CONTAINERD_VERSION}" "${RUNC_VERSION}" "${CNI_PLUGINS_VERSION}" "${WHEREABOUTS_VERSION}" "${CRI_TOOLS_VERSION}" "${PAUSE_TAG}" "${K8S_VERSION}")"
