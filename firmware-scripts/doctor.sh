#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Is this box fit for an exam? Runs the appliance's own doctor (`npm run appliance -- doctor`:
# disk space, clock synchronised, certificate days left, data folder writable, service active,
# the running appliance's /api/health) with the box's settings, as root. Installed by
# provisioning as /usr/local/sbin/proctor-doctor.
#
# Usage: sudo proctor-doctor [--json] [--log] [--dry-run] [--root DIR]
#   --json      one JSON array of checks
#   --log       also append the report to /var/log/proctor-appliance/doctor.log (logrotate'd)
#   --dry-run   print the command it would run
#   --root DIR  the box's files are under DIR (the command is stubbed)
# Exit: 0 healthy (maybe with warnings), 1 a check failed, 2 the app or node is missing.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
# shellcheck source=lib/common.sh
source "$SCRIPT_DIR/lib/common.sh"

LOG_FILE=/var/log/proctor-appliance/doctor.log
DOCTOR_ARGS=()
WRITE_LOG=0

parse_args() {
  while (($# > 0)); do
    case "$1" in
      --json) DOCTOR_ARGS+=(--json); shift ;;
      --log) WRITE_LOG=1; shift ;;
      --dry-run) DRY_RUN=1; shift ;;
      --root) ROOT="$(cd "${2:?--root needs a folder}" && pwd)"; shift 2 ;;
      -h | --help) sed -n '3,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *) die "unknown option $1" ;;
    esac
  done
}

main() {
  parse_args "$@"
  local app box_app settings_list=()
  box_app="$(installed_app)"
  app="$(target "$box_app")"
  [[ -f "$app/appliance/dist/cli.js" ]] || { log "the app is not installed in $app (run provision.sh)"; exit 2; }
  mapfile -t settings_list < <(appliance_settings)
  local command=(env "${settings_list[@]}" "$(app_node "$box_app")" --enable-source-maps appliance/dist/cli.js doctor "${DOCTOR_ARGS[@]}")
  if ((DRY_RUN)); then
    log "would run in $box_app: ${command[*]}"
    return 0
  fi
  local status=0 report
  report="$(cd "$app" && query "${command[@]}")" || status=$?
  printf '%s\n' "$report"
  if ((WRITE_LOG)); then
    {
      printf '== %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
      printf '%s\n' "$report"
    } >>"$(target "$LOG_FILE")"
  fi
  return "$status"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
