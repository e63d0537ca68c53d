#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The appliance's command line on a provisioned box, with the box's settings and as the
# `proctor` user (so files in the data folder keep their owner): what `npm run appliance --`
# is in a checkout. Installed by provisioning as /usr/local/sbin/proctor-appliance.
#
# Usage: sudo proctor-appliance [--dry-run] [--root DIR] <command> [args...]
#   e.g. sudo proctor-appliance proctor add alice --role chief
#        sudo proctor-appliance import exam.json roster.csv   (stop the service first)
#        proctor-appliance discover
#   --dry-run   print the command it would run
#   --root DIR  the box's files are under DIR (the command is stubbed)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
# shellcheck source=lib/common.sh
source "$SCRIPT_DIR/lib/common.sh"

SERVICE_USER=proctor

main() {
  while (($# > 0)); do
    case "$1" in
      --dry-run) DRY_RUN=1; shift ;;
      --root) ROOT="$(cd "${2:?--root needs a folder}" && pwd)"; shift 2 ;;
      *) break ;;
    esac
  done
  local app box_app settings_list=() as_user=()
  box_app="$(installed_app)"
  app="$(target "$box_app")"
  [[ -f "$app/appliance/dist/cli.js" ]] || die "the app is not installed in $app (run provision.sh)"
  mapfile -t settings_list < <(appliance_settings)
  # Files given on the command line are read as proctor: relative paths from here still work.
  if ((EUID == 0)) && ! stubbed; then as_user=(runuser -u "$SERVICE_USER" --); fi
  # The bundled command line (appliance/dist/cli.js, built with main.js): no TypeScript on the box.
  local command=("${as_user[@]}" env "${settings_list[@]}" "$(app_node "$box_app")" --enable-source-maps "$box_app/appliance/dist/cli.js" "$@")
  if ((DRY_RUN)); then
    log "would run: ${command[*]}"
    return 0
  fi
  query "${command[@]}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
