#!/usr/bin/env bash
# The stand-in for system commands when a firmware script runs with --root DIR (tests, trying
# provisioning on a laptop). Called as `system-command-stub.sh run|query COMMAND ARGS...` with
# PROVISION_ROOT=DIR. It never runs the real command: it appends `run|query COMMAND ARGS` to
# $STUB_LOG (if set) and plays the little state later guards ask about, inside DIR only:
#   apt-get install P...       -> records P in DIR/var/lib/dpkg/status (dpkg-query answers from it)
#   useradd/groupadd ... NAME  -> a line in DIR/etc/passwd / DIR/etc/group (getent answers from it)
#   systemctl enable UNIT      -> the multi-user.target.wants symlink (is-enabled answers from it)
#   raspi-config nonint do_overlayfs 0 / do_wifi_country CC -> overlayroot=tmpfs /
#                              cfg80211.ieee80211_regdom=CC in DIR/boot/firmware/cmdline.txt
#   node --version             -> $STUB_NODE_VERSION (default v24.11.0)
#   uname -m                   -> $STUB_MACHINE (default aarch64: a Raspberry Pi)
#   systemctl disable UNIT     -> removes the multi-user.target.wants symlink
#   .../node/bin/node --version -> v<the "node" of the release.json two folders up> (the
#                                 release's own Node.js runs)
#   .../node/bin/node .../health-probe.mjs URL VERSION -> healthy (exit 0), unless the release
#                                 DIR/opt/proctor-appliance/current names is
#                                 releases/$STUB_UNHEALTHY_RELEASE (exit 1)
# Everything else succeeds and does nothing.
set -euo pipefail

ROOT="${PROVISION_ROOT:?PROVISION_ROOT must name the folder the script operates on}"
KIND="$1"
shift
COMMAND="$1"
shift

if [[ -n "${STUB_LOG:-}" ]]; then
  printf '%s %s %s\n' "$KIND" "$COMMAND" "$*" >>"$STUB_LOG"
fi

# Adds TOKEN to the kernel command line in DIR/boot/firmware/cmdline.txt (one line).
add_cmdline_token() {
  local file="$ROOT/boot/firmware/cmdline.txt"
  mkdir -p "$(dirname "$file")"
  [[ -f "$file" ]] || printf 'console=tty1 root=LABEL=rootfs rootwait\n' >"$file"
  grep -qw -- "$1" "$file" || sed -i "1s/\$/ $1/" "$file"
}

last_arg() {
  local arg=""
  for arg in "$@"; do :; done
  printf '%s\n' "$arg"
}

case "$COMMAND" in
  apt-get)
    if [[ "${1:-}" == "install" ]]; then
      mkdir -p "$ROOT/var/lib/dpkg"
      for package in "$@"; do
        [[ "$package" == -* || "$package" == "install" ]] && continue
        printf 'Package: %s\nStatus: install ok installed\n\n' "$package" >>"$ROOT/var/lib/dpkg/status"
      done
    fi
    ;;
  dpkg-query)
    package="$(last_arg "$@")"
    if [[ -f "$ROOT/var/lib/dpkg/status" ]] && grep -qx "Package: $package" "$ROOT/var/lib/dpkg/status"; then
      printf 'install ok installed'
    else
      exit 1
    fi
    ;;
  useradd | groupadd)
    name="$(last_arg "$@")"
    mkdir -p "$ROOT/etc"
    if [[ "$COMMAND" == "useradd" ]]; then
      printf '%s:x:999:999::/var/lib/proctor-appliance:/usr/sbin/nologin\n' "$name" >>"$ROOT/etc/passwd"
    fi
    printf '%s:x:999:\n' "$name" >>"$ROOT/etc/group"
    ;;
  getent)
    if [[ -f "$ROOT/etc/$1" ]] && grep -q "^$2:" "$ROOT/etc/$1"; then exit 0; fi
    exit 2
    ;;
  systemctl)
    unit="$(last_arg "$@")"
    wants="$ROOT/etc/systemd/system/multi-user.target.wants/$unit"
    case "${1:-}" in
      enable)
        mkdir -p "$(dirname "$wants")"
        ln -sfn "/etc/systemd/system/$unit" "$wants"
        ;;
      is-enabled)
        if [[ -L "$wants" ]]; then exit 0; fi
        exit 1
        ;;
      disable) rm -f -- "$wants" ;;
      is-active) exit 3 ;;
    esac
    ;;
  raspi-config)
    case "$*" in
      "nonint do_overlayfs 0") add_cmdline_token overlayroot=tmpfs ;;
      "nonint do_wifi_country "*) add_cmdline_token "cfg80211.ieee80211_regdom=$3" ;;
    esac
    ;;
  node)
    printf '%s\n' "${STUB_NODE_VERSION:-v24.11.0}"
    ;;
  uname)
    printf '%s\n' "${STUB_MACHINE:-aarch64}"
    ;;
  */node/bin/node)
    if [[ "${1:-}" == --version ]]; then
      manifest="$ROOT${COMMAND%/node/bin/node}/release.json"
      [[ -f "$manifest" ]] || exit 127
      printf 'v%s\n' "$(sed -nE 's/^  "node": "([^"]+)",?$/\1/p' "$manifest")"
    elif [[ "${1:-}" == */health-probe.mjs ]]; then
      current="$(readlink "$ROOT/opt/proctor-appliance/current" 2>/dev/null || true)"
      if [[ -n "${STUB_UNHEALTHY_RELEASE:-}" && "$current" == "releases/$STUB_UNHEALTHY_RELEASE" ]]; then
        printf 'no answer: ECONNREFUSED (stub: %s is unhealthy)\n' "$current"
        exit 1
      fi
      printf 'HTTP 200, status ok, version %s (stub)\n' "${3:-}"
    fi
    ;;
esac
exit 0
