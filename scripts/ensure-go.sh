#!/usr/bin/env bash
# Prints the directory of a `go` for the toolchain builds (Kubernetes, Pulumi, cert-manager, Argo CD,
# real-node parts): the go on PATH when it is at least package.json's config.go (major.minor), else
# that Go release from the Go module proxy — Go's own toolchain module `golang.org/toolchain`, the
# one `GOTOOLCHAIN` switching downloads — unpacked once into ${NEONVM_CACHE:-~/.cache/neonvm}/go-<version>-linux-<arch>/.
# Debian 12's golang (1.19) is too old and cannot switch toolchains itself. Needs curl and unzip
# (scripts/ci-apt-packages.txt). Progress goes to stderr.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[ensure-go] %s\n' "$*" >&2; }
pinned="$(node -p 'require(process.argv[1]).config.go' "${repo}/package.json")"
min="${pinned%.*}"
if command -v go >/dev/null; then
  have="$(go env GOVERSION | sed 's/^go//')"
  if [[ "$(printf '%s\n%s\n' "${min}" "${have}" | sort -V | head -n 1)" == "${min}" ]]; then
    dirname "$(command -v go)"
    exit 0
  fi
  log "go ${have} is older than ${min}"
fi

case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) log "no Go build for $(uname -m)"; exit 1 ;; esac
root="${NEONVM_CACHE:-$HOME/.cache/neonvm}"
out="${root}/go-${pinned}-linux-${arch}"
mkdir -p "${root}"
exec 9>"${out}.lock"
flock 9
if [[ ! -f "${out}/.complete" ]]; then
  proxy="${GOPROXY:-https://proxy.golang.org}"
  proxy="${proxy%%[,|]*}"
  [[ "${proxy}" == http* ]] || { log "GOPROXY=${GOPROXY:-} names no proxy to fetch Go from"; exit 1; }
  module="golang.org/toolchain@v0.0.1-go${pinned}.linux-${arch}"
  log "fetching Go ${pinned} (${module}) from the Go module proxy"
  tmp="$(mktemp -d "${root}/.go.tmp.XXXXXX")"
  trap 'rm -rf "${tmp}"' EXIT
  curl -fsSL -o "${tmp}/go.zip" "${proxy}/golang.org/toolchain/@v/v0.0.1-go${pinned}.linux-${arch}.zip"
  unzip -q "${tmp}/go.zip" -d "${tmp}"
  # Module zips carry no file modes: the commands in bin/ and pkg/tool/ need them back.
  chmod +x "${tmp}/${module}"/bin/* "${tmp}/${module}"/pkg/tool/*/*
  "${tmp}/${module}/bin/go" version >/dev/null
  touch "${tmp}/${module}/.complete"
  rm -rf "${out}"
  mv "${tmp}/${module}" "${out}"
  log "go ${pinned} in ${out}/bin"
fi
echo "${out}/bin"
