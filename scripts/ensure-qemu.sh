#!/usr/bin/env bash
# Prints a bin directory holding QEMU 10 (qemu-system-x86_64, qemu-img) from Debian's bookworm-backports,
# unpacked once into ${NEONVM_CACHE:-~/.cache/neonvm}/qemu-<version>-<arch>/ without installing anything:
# the system's QEMU (Debian 12: 7.2) stays what every other command uses. Put the directory first on PATH
# to run the runner, the benches and the tests with it (they all find QEMU by name on PATH):
#
#   PATH="$(bash scripts/ensure-qemu.sh):$PATH" npx tsx bench/main.ts runner-migration
#
# Why: QEMU before 9.0 loses guest writes during a live pre-copy under TCG (runner/README.md, "Live
# migration under TCG"), so with 7.2 the runner stops the guest for the stream; with QEMU >= 9.0 its
# version gate (runner/vm-control/migration.ts stopsGuestForStream) keeps the pre-copy live.
#
# The .debs come from a private apt configuration (its own sources list, lists and archive cache in a
# temp dir) that names bookworm-backports; the system's apt sources are not touched. Debian's QEMU is
# not relocatable (data and module paths are compiled in), so the bin/ entries are small wrappers that
# exec the unpacked binary with -L for its firmware and QEMU_MODULE_DIR for its modules: without them it
# would load the system 7.2 modules ("Only modules from the same build can be loaded") and firmware.
# The process keeps the wrapper's pid (exec), so QMP, pidfiles and setpriv --pdeathsig work as before.
# Backports' libraries are built against bookworm's, which qemu-system-x86 7.2 already pulled in.
# Progress goes to stderr.
set -euo pipefail
log() { printf '[ensure-qemu] %s\n' "$*" >&2; }

# The pins: Debian's archive keeps only the newest version of a package, so a newer backport makes this
# download fail loudly instead of silently changing the QEMU under the measurements; bump them together.
QEMU_VERSION='1:10.0.2+ds-2+deb13u1~bpo12+1'
SEABIOS_VERSION='1.16.3-2~bpo12+1'
MIRROR="${NEONVM_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  *) log "only x86_64 hosts are supported (qemu-system-x86); this is $(uname -m)"; exit 1 ;;
esac
upstream="${QEMU_VERSION#*:}"
root="${NEONVM_CACHE:-$HOME/.cache/neonvm}"
out="${root}/qemu-${upstream//[^A-Za-z0-9.]/-}-${arch}"
mkdir -p "${root}"
exec 9>"${out}.lock"
flock 9
if [[ ! -f "${out}/.complete" ]]; then
  tmp="$(mktemp -d "${root}/.qemu.tmp.XXXXXX")"
  trap 'rm -rf "${tmp}"' EXIT
  mkdir -p "${tmp}/apt/lists/partial" "${tmp}/apt/archives/partial" "${tmp}/debs" "${tmp}/root" "${tmp}/bin"
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s bookworm-backports main\n' \
    "${MIRROR}" >"${tmp}/apt/sources.list"
  apt_opts=(
    -q
    -o "Dir::Etc::SourceList=${tmp}/apt/sources.list"
    -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=${tmp}/apt/lists"
    -o "Dir::Cache=${tmp}/apt"
    -o APT::Sandbox::User=root
    -o "APT::Architecture=${arch}"
  )
  log "fetching qemu ${QEMU_VERSION} from bookworm-backports"
  apt-get "${apt_opts[@]}" update >&2
  (
    cd "${tmp}/debs"
    apt-get "${apt_opts[@]}" download \
      "qemu-system-x86=${QEMU_VERSION}" "qemu-system-common=${QEMU_VERSION}" \
      "qemu-system-data=${QEMU_VERSION}" "qemu-utils=${QEMU_VERSION}" "seabios=${SEABIOS_VERSION}" >&2
    # iPXE's option ROMs are bookworm's (backports has no newer one); the system's apt sources have it.
    apt-get -q -o APT::Sandbox::User=root download ipxe-qemu >&2
  )
  for deb in "${tmp}"/debs/*.deb; do dpkg-deb -x "${deb}" "${tmp}/root"; done
  for deb in "${tmp}"/debs/*.deb; do dpkg-deb -W --showformat='${Package} ${Version}\n' "${deb}"; done \
    >"${tmp}/packages.txt"
  r="${out}/root"
  wrap() { # <name> <exec line>
    printf '#!/bin/sh\n# %s from %s (scripts/ensure-qemu.sh)\n%s\n' "$1" "${QEMU_VERSION}" "$2" >"${tmp}/bin/$1"
    chmod 755 "${tmp}/bin/$1"
  }
  wrap qemu-system-x86_64 "QEMU_MODULE_DIR='${r}/usr/lib/x86_64-linux-gnu/qemu' exec '${r}/usr/bin/qemu-system-x86_64' -L '${r}/usr/share/qemu' -L '${r}/usr/share/seabios' -L '${r}/usr/lib/ipxe/qemu' \"\$@\""
  wrap qemu-img "exec '${r}/usr/bin/qemu-img' \"\$@\""
  # A missing library (a host without the system QEMU) fails here, not in the first guest boot.
  missing="$(ldd "${tmp}/root/usr/bin/qemu-system-x86_64" "${tmp}/root/usr/bin/qemu-img" | grep 'not found' || true)"
  [[ -z "${missing}" ]] || { log "libraries missing (apt-get install qemu-system-x86 qemu-utils brings them):"; log "${missing}"; exit 1; }
  rm -rf "${tmp}/apt" "${tmp}/debs"
  chmod 755 "${tmp}"
  touch "${tmp}/.complete"
  rm -rf "${out}"
  mv "${tmp}" "${out}"
  trap - EXIT
  "${out}/bin/qemu-system-x86_64" --version | head -n 1 >&2
fi
echo "${out}/bin"
