#!/usr/bin/env bash
# The stand-in for system commands when a firmware script runs with --root DIR (tests, trying
# provisioning on a laptop). Called as `system-command-stub.sh run|query COMMAND ARGS...` with
# PROVISION_ROOT=DIR. It never runs the real command: it appends `run|query COMMAND ARGS` to
# $STUB_LOG (if set) and plays the little state later guards ask about, inside DIR only:
#   apt-get install P...       -> records P in DIR/var/lib/dpkg/status (dpkg-query answers from it)
#   useradd/groupadd ... NAME  -> a line in DIR/etc/passwd / DIR/etc/group (getent answers from it)
#   systemctl enable UNIT      -> the multi-user.target.wants symlink (is-enabled answers from it);
#                                 is-active: only the units in $STUB_ACTIVE_UNITS
#   raspi-config nonint do_overlayfs 0 / do_wifi_country CC -> overlayroot=tmpfs /
#                              cfg80211.ieee80211_regdom=CC in DIR/boot/firmware/cmdline.txt
#   node --version             -> $STUB_NODE_VERSION (default v24.11.0)
#   mount / umount / findmnt / lsblk -> a mount table in DIR/proc/mounts ("SOURCE TARGET FSTYPE
#                              OPTIONS 0 0", /dev paths on the box; a test may write lines for the
#                              root or other mounts): `mount DIR` mounts DIR's /etc/fstab line (its
#                              UUID=/LABEL=/... resolved through DIR/dev/disk/by-*), `mount -t T DEV
#                              DIR` DEV; nothing is mounted for real, so DIR stays an ordinary folder
#                              (a "device"'s files are whatever was written into its mount point)
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

MOUNTS="$ROOT/proc/mounts"

# The /dev path on the box that an fstab source (UUID=..., LABEL=..., /dev/...) names, via DIR/dev.
device_of() {
  local link root_real node
  case "$1" in
    UUID=*) link="/dev/disk/by-uuid/${1#UUID=}" ;;
    LABEL=*) link="/dev/disk/by-label/${1#LABEL=}" ;;
    PARTUUID=*) link="/dev/disk/by-partuuid/${1#PARTUUID=}" ;;
    PARTLABEL=*) link="/dev/disk/by-partlabel/${1#PARTLABEL=}" ;;
    *) link="$1" ;;
  esac
  root_real="$(realpath -e "$ROOT")"
  node="$(realpath -m "$ROOT$link")"
  printf '%s\n' "${node#"$root_real"}"
}

# Mount table lines whose SOURCE or TARGET is $1 (the last one wins, as for a mount over a mount).
mounted() {
  [[ -f "$MOUNTS" ]] || return 0
  awk -v p="$1" '$1 == p || $2 == p' "$MOUNTS"
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
      is-active)
        # Active: the units named in $STUB_ACTIVE_UNITS (space-separated); none by default.
        if [[ " ${STUB_ACTIVE_UNITS:-} " == *" $unit "* ]]; then exit 0; fi
        exit 3
        ;;
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
  mount)
    dir="$(last_arg "$@")"
    if (($# == 1)); then
      source="$(awk -v d="$dir" '$1 !~ /^#/ && $2 == d { print $1 }' "$ROOT/etc/fstab" | tail -n 1)"
      [[ -n "$source" ]] || { echo "mount: $dir: not in $ROOT/etc/fstab" >&2; exit 32; }
    else
      source="${*: -2:1}"
    fi
    mkdir -p "$(dirname "$MOUNTS")"
    printf '%s %s ext4 rw 0 0\n' "$(device_of "$source")" "$dir" >>"$MOUNTS"
    ;;
  umount)
    dir="$(last_arg "$@")"
    [[ -n "$(mounted "$dir")" ]] || { echo "umount: $dir: not mounted" >&2; exit 32; }
    awk -v d="$dir" '$2 != d' "$MOUNTS" >"$MOUNTS.new"
    mv "$MOUNTS.new" "$MOUNTS"
    ;;
  findmnt)
    # findmnt [-n] [-o COLUMN] SOURCE|TARGET
    column=""
    while (($# > 1)); do
      case "$1" in
        -o) column="$2"; shift 2 ;;
        *) shift ;;
      esac
    done
    line="$(mounted "${1:-}" | tail -n 1)"
    [[ -n "$line" ]] || exit 1
    read -r m_source m_target m_type _ <<<"$line"
    case "$column" in
      SOURCE) printf '%s\n' "$m_source" ;;
      TARGET) printf '%s\n' "$m_target" ;;
      FSTYPE) printf '%s\n' "$m_type" ;;
      *) printf '%s %s %s\n' "$m_target" "$m_source" "$m_type" ;;
    esac
    ;;
  lsblk)
    # lsblk -n -l -o MOUNTPOINT DEV: a row for DEV and each of its partitions (DEV1, DEVp1).
    device="$(last_arg "$@")"
    printf '\n'
    if [[ -f "$MOUNTS" ]]; then
      awk -v d="$device" '$1 == d || index($1, d) == 1 && substr($1, length(d) + 1) ~ /^p?[0-9]+$/ { print $2 }' "$MOUNTS"
    fi
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
