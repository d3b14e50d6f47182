# shellcheck shell=bash
# Shared by the toolchain build scripts (build-k8s.sh, build-pulumi.sh): a build output cached by key
# under ${NEONVM_CACHE:-$HOME/.cache/neonvm}, serialised by a flock so concurrent callers wait and then
# reuse the result, built in a temp dir and published by one rename with a `.complete` marker, so an
# interrupted build is never taken for a finished one. The sourcing script defines `log`.
#
#   cached_build_begin <key> <check-fn>    exits 0 printing <out>/bin when cached and <check-fn> accepts
#                                          it; otherwise sets OUT, WORK (removed on exit), START
#   ... build into ${WORK}/bin (and ${WORK}/modules, data in ${WORK}/share), record step times in TIMES[...] ...
#   cached_build_publish '<json fields>'   writes build-timing.json, publishes, prints <out>/bin

# `cached_build_background_if_asked <arg1> <log file> <name>`: with --background as the first argument,
# re-runs the calling script detached (output to the log file) and exits; otherwise returns.
cached_build_background_if_asked() {
  local arg="$1" blog="$2" name="$3"
  [[ "${arg}" == "--background" ]] || return 0
  # Appends: a second caller (npm test after .ci/run) waits on the build lock and must not truncate
  # the log of the build that is running.
  nohup bash "${BASH_SOURCE[1]}" >>"${blog}" 2>&1 </dev/null &
  echo "${name} started in the background (pid $!, log ${blog})" >&2
  exit 0
}

cached_build_begin() {
  local key="$1" check="$2" root="${NEONVM_CACHE:-$HOME/.cache/neonvm}"
  OUT="${root}/${key}"
  mkdir -p "${root}"
  exec 9>"${root}/${key}.lock"
  if ! flock -n 9; then
    log "another build of ${key} is running; waiting for it"
    flock 9
  fi
  if [[ -f "${OUT}/.complete" ]] && "${check}" "${OUT}/bin"; then
    log "cached: ${OUT}/bin"
    echo "${OUT}/bin"
    exit 0
  fi
  command -v go >/dev/null || { log "go is not installed"; exit 1; }
  WORK="$(mktemp -d "${root}/.${key}.tmp.XXXXXX")"
  trap 'rm -rf "${WORK}"' EXIT
  mkdir -p "${WORK}/bin" "${WORK}/modules"
  START=$(date +%s)
}

cached_build_publish() {
  local fields="$1" total sep='' k stage="${WORK}/out"
  total=$(($(date +%s) - START))
  {
    printf '{%s,"goVersion":"%s","totalSeconds":%d,"steps":{' "${fields}" "$(go env GOVERSION)" "${total}"
    for k in "${!TIMES[@]}"; do printf '%s"%s":%d' "${sep}" "${k}" "${TIMES[${k}]}"; sep=','; done
    printf '},"builtAt":"%s"}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"${WORK}/build-timing.json"
  # Atomic publish: assemble the final tree next to OUT, mark it complete, then rename over.
  mkdir -p "${stage}"
  mv "${WORK}/bin" "${WORK}/modules" "${WORK}/build-timing.json" "${stage}/"
  if [[ -d "${WORK}/share" ]]; then mv "${WORK}/share" "${stage}/"; fi
  touch "${stage}/.complete"
  rm -rf "${OUT}"
  mv "${stage}" "${OUT}"
  log "complete in ${total}s: ${OUT}/bin"
  echo "${OUT}/bin"
}
