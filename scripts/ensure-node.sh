#!/usr/bin/env bash
# Prints the directory of a `node` that satisfies package.json's `engines.node`: the node on PATH
# when it does, else Node <config.node> (the version the release images ship) from the npm registry's
# `node-linux-<arch>` package, unpacked once into ${NEONVM_CACHE:-~/.cache/neonvm}/node-v<version>-linux-<arch>/.
# Callers put it first on PATH (.ci/run, scripts/start.sh, scripts/test.sh); progress goes to stderr.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[ensure-node] %s\n' "$*" >&2; }
command -v node >/dev/null || { log "no node on PATH: install Node.js (any version with npm) first"; exit 1; }

# engines.node is written as ">=MAJOR.MINOR[.PATCH]"; config.node is the version to fetch.
read -r required pinned ok < <(node -e '
  const p = require(process.argv[1]);
  const m = /^>=(\d+)\.(\d+)(?:\.(\d+))?$/.exec(p.engines.node);
  if (!m) throw new Error(`engines.node must read ">=X.Y[.Z]", not ${p.engines.node}`);
  const want = [1, 2, 3].map((i) => Number(m[i] ?? 0));
  const have = process.versions.node.split(".").map(Number);
  const cmp = have[0] - want[0] || have[1] - want[1] || have[2] - want[2];
  console.log(p.engines.node, p.config.node, cmp >= 0 ? "yes" : "no");
' "${repo}/package.json")
if [[ "${ok}" == "yes" ]]; then dirname "$(command -v node)"; exit 0; fi

case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) log "no Node build for $(uname -m)"; exit 1 ;; esac
root="${NEONVM_CACHE:-$HOME/.cache/neonvm}"
out="${root}/node-v${pinned}-linux-${arch}"
mkdir -p "${root}"
exec 9>"${out}.lock"
flock 9
if [[ ! -f "${out}/.complete" ]]; then
  log "node $(node --version) does not satisfy engines.node ${required}: fetching node-linux-${arch}@${pinned} from the npm registry"
  tmp="$(mktemp -d "${root}/.node.tmp.XXXXXX")"
  trap 'rm -rf "${tmp}"' EXIT
  (cd "${tmp}" && npm pack --silent "node-linux-${arch}@${pinned}" >/dev/null)
  tar -xzf "${tmp}"/node-linux-"${arch}"-*.tgz -C "${tmp}"
  "${tmp}/package/bin/node" --version >/dev/null
  mkdir -p "${tmp}/out/bin"
  mv "${tmp}/package/bin/node" "${tmp}/out/bin/node"
  touch "${tmp}/out/.complete"
  rm -rf "${out}"
  mv "${tmp}/out" "${out}"
  log "node v${pinned} in ${out}/bin"
fi
echo "${out}/bin"
