#!/usr/bin/env bash
# Debian 12 guest image → local image store (neondatabase/vm-debian:11, neonvm/vm-debian:12).
# Cached under ${NEONVM_CACHE:-~/.cache/neonvm}; a second run only checks. Pass --force to rebuild
# the image (delete debian-bookworm-minbase-r* in the cache to re-run debootstrap).
set -euo pipefail
cd "$(dirname "$0")/.."
exec npx tsx scripts/build-debian-image.ts "$@"
