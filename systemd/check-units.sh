#!/usr/bin/env bash
# Checks the unit files in this folder: `systemd-analyze verify` must accept each without a
# warning about it, and `systemd-analyze security --offline=yes` must score each service at
# MAX_EXPOSURE or lower. Prints every score. Needs no running systemd (works in containers and
# CI). An ExecStart binary missing on this machine (e.g. /usr/bin/node on a laptop) is replaced by
# an executable stub in a temporary copy of the unit, so verify checks the unit, not the machine.
#
# Usage: systemd/check-units.sh [UNIT_FILE...]   (default: every *.service, *.timer, *.socket here)
# Exit: 0 all good, 1 a unit failed, 2 systemd-analyze missing.
set -euo pipefail

UNIT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MAX_EXPOSURE="${MAX_EXPOSURE:-3.0}"
WORK_DIR=""

cleanup() {
  if [[ -n "$WORK_DIR" ]]; then
    rm -rf -- "$WORK_DIR"
  fi
}

# A copy of the unit in WORK_DIR whose missing Exec*= binaries point at stubs; prints its path.
prepare_unit() {
  local unit="$1"
  local copy
  copy="$WORK_DIR/$(basename "$unit")"
  cp -- "$unit" "$copy"
  local binary
  while IFS= read -r binary; do
    [[ -x "$binary" ]] && continue
    install -D -m 0755 /dev/null "$WORK_DIR/stubs$binary"
    printf '#!/bin/sh\nexit 0\n' >"$WORK_DIR/stubs$binary"
    sed -i "s#=\\([-@!+:]*\\)$binary#=\\1$WORK_DIR/stubs$binary#" "$copy"
    echo "  (stub for missing $binary)" >&2
  done < <(sed -n 's/^Exec[A-Za-z]*=[-@!+:]*\(\/[^ ]*\).*/\1/p' "$unit" | sort -u)
  printf '%s\n' "$copy"
}

verify_unit() {
  local unit="$1" copy output status=0
  copy="$(prepare_unit "$unit")"
  output="$(systemd-analyze verify "$copy" 2>&1)" || status=$?
  # verify exits 0 on parse warnings ("Unknown key", "Failed to parse"): any line about this unit fails.
  if ((status != 0)) || grep -F -- "$(basename "$unit")" <<<"$output" >/dev/null; then
    echo "FAIL verify $(basename "$unit") (exit $status):"
    printf '%s\n' "$output" | sed 's/^/    /'
    return 1
  fi
  echo "ok   verify $(basename "$unit")"
}

security_score() {
  local unit="$1" copy output score
  copy="$(prepare_unit "$unit")"
  output="$(systemd-analyze security --offline=yes --no-pager "$copy" 2>&1)" || true
  score="$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$output" | tail -n 1)"
  if [[ -z "$score" ]]; then
    echo "FAIL security $(basename "$unit"): no score in the output:"
    printf '%s\n' "$output" | tail -n 5 | sed 's/^/    /'
    return 1
  fi
  if awk -v s="$score" -v max="$MAX_EXPOSURE" 'BEGIN { exit !(s > max) }'; then
    echo "FAIL security $(basename "$unit"): exposure $score > $MAX_EXPOSURE"
    printf '%s\n' "$output" | grep '✗' | sed 's/^/    /'
    return 1
  fi
  echo "ok   security $(basename "$unit"): exposure $score (at most $MAX_EXPOSURE)"
}

main() {
  if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "FATAL: systemd-analyze is missing (Debian package systemd)" >&2
    exit 2
  fi
  local units=("$@")
  if ((${#units[@]} == 0)); then
    shopt -s nullglob
    units=("$UNIT_DIR"/*.service "$UNIT_DIR"/*.timer "$UNIT_DIR"/*.socket)
    shopt -u nullglob
  fi
  WORK_DIR="$(mktemp -d)"
  trap cleanup EXIT
  local unit failed=0
  for unit in "${units[@]}"; do
    verify_unit "$unit" || failed=1
    if [[ "$unit" == *.service ]]; then
      security_score "$unit" || failed=1
    fi
  done
  return "$failed"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
