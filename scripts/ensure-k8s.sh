#!/usr/bin/env bash
# Entry point for CI and test commands: make sure the control-plane binaries exist.
#
#   scripts/ensure-k8s.sh --background   start the build detached (log: ${K8S_BUILD_LOG:-/tmp/k8s-build.log})
#                                        and return at once; call this as early as possible in .ci/run
#   scripts/ensure-k8s.sh                wait for a running build (flock in build-k8s.sh) or build now;
#                                        prints the bin directory on stdout
#
# Both forms go through build-k8s.sh, whose lock guarantees one build at a time and reuse afterwards.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ "${1:-}" == "--background" ]]; then
  log="${K8S_BUILD_LOG:-/tmp/k8s-build.log}"
  nohup bash "${here}/build-k8s.sh" >>"${log}" 2>&1 </dev/null &
  echo "build-k8s started in the background (pid $!, log ${log})" >&2
  exit 0
fi
bash "${here}/build-k8s.sh" | tail -n 1
