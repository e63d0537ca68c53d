#!/usr/bin/env bash
# Shared by the firmware scripts (sourced, never run): the system-command wrapper and idempotent
# file helpers. Every change goes through here, so that --dry-run and --root hold everywhere.
#
#   ROOT      "/" on a real box; with --root DIR, every file is written under DIR and every
#             system command (apt-get, systemctl, useradd, hostnamectl, raspi-config, npm, ...)
#             goes to the STUB command instead of the system (stubbed and logged, never run).
#   DRY_RUN   1: print what would change, change nothing, run no state-changing command.
#   STUB      the stand-in for system commands under --root (default lib/system-command-stub.sh);
#             it is called as `STUB run|query COMMAND ARGS...` and logs to $STUB_LOG.
#
# `run` is for commands that change the system, `query` for read-only ones (their answer guards
# the next step). File helpers set CHANGED=1 when they changed something (or would have, under
# --dry-run), CHANGED=0 when it was already right, and return 0 either way (set -e safe):
#   install_text /etc/x 644 <<<"$content"; if ((CHANGED)); then run systemctl restart x; fi
# shellcheck disable=SC2034 # the globals here are read by the scripts that source this file
set -euo pipefail

# Pipelines into a helper run it in this shell, so CHANGED survives.
shopt -s lastpipe

ROOT="${ROOT:-/}"
DRY_RUN="${DRY_RUN:-0}"
LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STUB="${STUB:-$LIB_DIR/system-command-stub.sh}"
CHANGES=0
CHANGED=0

log() { printf '%s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# The path of an absolute path on the box (under ROOT).
target() {
  if [[ "$ROOT" == "/" ]]; then
    printf '%s\n' "$1"
  else
    printf '%s%s\n' "${ROOT%/}" "$1"
  fi
}

stubbed() { [[ "$ROOT" != "/" ]]; }

# A state-changing system command.
run() {
  CHANGES=$((CHANGES + 1))
  if ((DRY_RUN)); then
    log "would run: $*"
    return 0
  fi
  if stubbed; then
    log "stub run: $*"
    PROVISION_ROOT="$ROOT" "$STUB" run "$@"
    return
  fi
  log "+ $*"
  "$@"
}

# A read-only system command (its exit status answers a question). Also runs under --dry-run.
query() {
  if stubbed; then
    PROVISION_ROOT="$ROOT" "$STUB" query "$@"
    return
  fi
  "$@"
}

# Marks a change (CHANGED=1, counted in CHANGES).
changed() {
  CHANGED=1
  CHANGES=$((CHANGES + 1))
}

# mkdir -p with a mode, under ROOT.
ensure_dir() {
  local dir mode="$2"
  dir="$(target "$1")"
  CHANGED=0
  if [[ -d "$dir" ]]; then
    if [[ "$(stat -c '%a' "$dir")" != "${mode#0}" ]]; then
      changed
      if ((DRY_RUN)); then log "would chmod $mode $1"; else chmod "$mode" "$dir"; fi
    fi
    return 0
  fi
  changed
  if ((DRY_RUN)); then
    log "would create folder $1 ($mode)"
  else
    install -d -m "$mode" "$dir"
  fi
  return 0
}

# Writes stdin to PATH (under ROOT) with MODE when its content or mode differ.
install_text() {
  local dest mode="$2" tmp
  dest="$(target "$1")"
  tmp="$(mktemp)"
  cat >"$tmp"
  CHANGED=0
  if [[ -f "$dest" ]] && cmp -s "$tmp" "$dest" && [[ "$(stat -c '%a' "$dest")" == "${mode#0}" ]]; then
    rm -f -- "$tmp"
    return 0
  fi
  changed
  if ((DRY_RUN)); then
    if [[ -f "$dest" ]]; then
      log "would update $1 ($mode):"
      diff -u "$dest" "$tmp" | sed 's/^/    /' >&2 || true
    else
      log "would create $1 ($mode)"
    fi
    rm -f -- "$tmp"
    return 0
  fi
  log "writing $1 ($mode)"
  install -D -m "$mode" "$tmp" "$dest"
  rm -f -- "$tmp"
  return 0
}

# Copies the file SRC to PATH (under ROOT) with MODE when it differs.
install_file() {
  install_text "$2" "$3" <"$1"
}

# Makes sure FILE (under ROOT) has a line matching the extended regex PATTERN, and that it
# reads LINE: replaces the first such line, or appends LINE.
ensure_line() {
  local file="$1" pattern="$2" line="$3" path current
  path="$(target "$file")"
  current=""
  CHANGED=0
  if [[ -f "$path" ]]; then current="$(cat "$path")"; fi
  if grep -Eq -- "$pattern" <<<"$current"; then
    if grep -Fxq -- "$line" <<<"$current"; then return 0; fi
    awk -v pat="$pattern" -v line="$line" '!done && $0 ~ pat { print line; done = 1; next } { print }' \
      <<<"$current" | install_text "$file" "$(file_mode "$path" 644)"
  else
    { if [[ -n "$current" ]]; then printf '%s\n' "$current"; fi; printf '%s\n' "$line"; } |
      install_text "$file" "$(file_mode "$path" 644)"
  fi
}

# Sets KEY=VALUE in the [SECTION] of an ini-style FILE (under ROOT), adding the section or the
# key where missing.
ensure_ini_key() {
  local file="$1" section="$2" key="$3" value="$4" path current
  path="$(target "$file")"
  current=""
  if [[ -f "$path" ]]; then current="$(cat "$path")"; fi
  { if [[ -n "$current" ]]; then printf '%s\n' "$current"; fi; } | awk -v section="[$section]" -v key="$key" -v value="$value" '
    function flush() { if (in_section && !done) { print key "=" value; done = 1 } }
    /^\[/ { flush(); in_section = ($0 == section); seen = seen || in_section; print; next }
    in_section && ($0 ~ "^#?[ \t]*" key "[ \t]*=") { if (!done) { print key "=" value; done = 1 }; next }
    { print }
    END { flush(); if (!seen) { print section; print key "=" value } }
  ' | install_text "$file" "$(file_mode "$path" 644)"
}

# The mode of an existing file, or DEFAULT.
file_mode() {
  if [[ -e "$1" ]]; then stat -c '%a' "$1"; else printf '%s\n' "$2"; fi
}

# Makes LINK (under ROOT) a symlink to TARGET (as written: absolute on the box).
ensure_symlink() {
  local link="$1" to="$2" path
  path="$(target "$link")"
  CHANGED=0
  if [[ -L "$path" && "$(readlink "$path")" == "$to" ]]; then return 0; fi
  changed
  if ((DRY_RUN)); then
    log "would link $link -> $to"
    return 0
  fi
  mkdir -p "$(dirname "$path")"
  ln -sfn "$to" "$path"
  return 0
}

# Where provisioning puts the app, its settings and its data.
APP_DIR=/opt/proctor-appliance

# The app that runs, as a path on the box: the release the `current` link names
# (/opt/proctor-appliance/releases/<version>), the app installed in place (current -> .), or
# APP_DIR itself where provisioning from before releases left no link.
installed_app() {
  local to
  to="$(readlink "$(target "$APP_DIR/current")" 2>/dev/null || true)"
  case "$to" in
    "" | .) printf '%s\n' "$APP_DIR" ;;
    /*) printf '%s\n' "$to" ;;
    *) printf '%s\n' "$APP_DIR/$to" ;;
  esac
}

# The Node.js that runs APP (a path on the box): its own node/bin/node (a release's, or the link
# to the system's that --app makes), else `node` from the PATH.
app_node() {
  local node="$1/node/bin/node"
  if [[ -e "$(target "$node")" || -L "$(target "$node")" ]]; then printf '%s\n' "$node"; else printf 'node\n'; fi
}
APPLIANCE_ENV_FILES=(/etc/proctor-appliance/env /etc/proctor-appliance/local.env)
DATA_DIR=/var/lib/proctor-appliance

# The appliance's settings as `env` arguments, one a line: the PROCTOR_* lines of the
# provisioned files, and the data folder systemd passes as $STATE_DIRECTORY.
appliance_settings() {
  local file line
  printf '%s\n' "STATE_DIRECTORY=$DATA_DIR"
  for file in "${APPLIANCE_ENV_FILES[@]}"; do
    file="$(target "$file")"
    [[ -f "$file" ]] || continue
    while IFS= read -r line; do
      if [[ "$line" =~ ^PROCTOR_[A-Z_]+= ]]; then printf '%s\n' "$line"; fi
    done <"$file"
  done
}
