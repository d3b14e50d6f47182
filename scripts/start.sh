#!/usr/bin/env bash
# `npm start [-- options]`: the main job (README). Prerequisites first, before any work: a Node that
# satisfies engines.node (fetched from the npm registry when the one on PATH is older), the Debian
# packages (installed as root, named otherwise) and Go for the toolchain builds; then the CLI, compiled
# on demand by bin/neonvm.js.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d node_modules ]] || { echo "npm start: run \`npm ci\` first (node_modules is missing)" >&2; exit 1; }
PATH="$(bash scripts/ensure-node.sh):${PATH}"
export PATH
node node_modules/tsx/dist/cli.mjs scripts/check-prerequisites.ts start "$@"
if [[ " $* " != *" --no-cluster "* ]]; then
  PATH="$(bash scripts/ensure-go.sh):${PATH}"
fi
exec node bin/neonvm.js start "$@"
