#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Provisions a Raspberry Pi OS (Bookworm) box as an exam-hall appliance: packages, Node check,
# the `proctor` service user, the app in /opt/proctor-appliance, its systemd unit and settings,
# host name and avahi, chrony serving time to the hall, journald limits and logrotate, and
# optionally an access point (hostapd + dnsmasq, client isolation) for tiny rooms, a separate
# data partition and a read-only root (overlay). Idempotent: a second run changes nothing.
#
# Usage: sudo firmware-scripts/provision.sh --name NAME --hall HALL_ID [options]
#        sudo firmware-scripts/provision.sh --rollback | --uninstall [--purge-data]
#   --name NAME                 the box's name: <NAME>.local in the hall (default: as before)
#   --hall HALL_ID              the hall it serves (default: as before)
#   --release FILE|DIR          install a release (`npm run release`: its .tar.gz, or the folder it
#                               unpacks to) with no network: verified against its release.json,
#                               unpacked into /opt/proctor-appliance/releases/<version>, switched
#                               to atomically (the `current` link), the previous release kept; the
#                               service restarts on it and, when it is not healthy within
#                               --health-timeout, goes back to the previous release by itself
#                               (default when this script sits in an unpacked release: that one)
#   --app DIR                   instead, install a checkout that holds a built appliance/dist and
#                               client/dist (`npm run build`) in place in /opt/proctor-appliance,
#                               with `npm ci --omit=dev` (needs the internet) and the system's
#                               Node.js 24 (default: the repository of this script)
#   --rollback                  switch back to the previous release, restart, check its health
#   --uninstall                 stop and remove the service, the app (every release) and the box's
#                               commands; keeps the data folder /var/lib/proctor-appliance and the
#                               settings in /etc/proctor-appliance
#   --purge-data                with --uninstall: delete the data folder (exams, answers, the
#                               box's keys and CA), the settings and the doctor's logs too
#   --health-timeout SECONDS    how long a new release has to answer /api/health (default 90)
#   --https-mode MODE           local-ca (default: the box makes its own CA; devices install it
#                               from the onboarding page), provided, or off (no offline reload)
#   --port PORT                 the app's port (default 443; 80 with --https-mode off)
#   --http-port PORT            the onboarding page's plain-HTTP port (default 80)
#   --hall-subnet CIDR          a network allowed to take time from chrony (repeatable;
#                               default 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)
#   --time-peer HOST            another box in the same hall, for chrony to agree on the time
#                               with when no upstream is reachable (orphan mode; repeatable;
#                               give each box the others; default: as before, else none)
#   --ap-ssid SSID              access-point mode on wlan0 (7-10 devices: tiny rooms only)
#   --ap-passphrase-file FILE   its WPA2 passphrase (8-63 characters), read from FILE
#   --ap-country CC             the Wi-Fi country (default GB)
#                               (a re-run without --ap-* keeps the access point as it is)
#   --data-device DEV           mount DEV (UUID=..., LABEL=..., PARTUUID=... or /dev/...; an
#                               empty ext4 file system made beforehand) at /var/lib/proctor-appliance
#                               via /etc/fstab (nofail: a dead disk fails the appliance, not the
#                               boot); on a box in use, the data there moves onto it (checked copy;
#                               the old copy kept in /var/lib/proctor-appliance.before-data-device)
#   --read-only-root            root file system as a read-only overlay that leaves the data
#                               partition a disk (overlayroot=tmpfs:recurse=0; needs --data-device;
#                               takes effect at the next boot)
#   --dry-run                   print what would change; change nothing
#   --root DIR                  operate on DIR instead of /; system commands are stubbed and
#                               logged (lib/system-command-stub.sh, log in $STUB_LOG)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
# shellcheck source=lib/common.sh
source "$SCRIPT_DIR/lib/common.sh"

CONFIG_DIR=/etc/proctor-appliance
ENV_FILE="$CONFIG_DIR/env"
AP_ENV_FILE="$CONFIG_DIR/ap.env"
LOG_DIR=/var/log/proctor-appliance
SERVICE_USER=proctor
UNIT=proctor-appliance.service
AP_UNIT=proctor-ap-address.service
NODE_MIN_MAJOR=24
NODE_MIN_MINOR=11
# What the running appliance needs from a checkout or release: appliance/dist (main.js, which the
# unit runs, and cli.js, which the box's commands run) and client/dist must be built; appliance/src
# holds the placeholder page and the sources that the bundles' source maps name.
APP_PATHS=(package.json package-lock.json tsconfig.json README.md appliance/src appliance/dist domain sync examples docs systemd firmware-scripts client/dist)
BASE_PACKAGES=(nodejs avahi-daemon libnss-mdns chrony logrotate)
# Releases side by side, and links to the one that runs and the one before (relative, so that
# they hold under --root too): current -> releases/<version> (or `.` for an app installed in
# place with --app), previous -> the release current named before the last switch.
RELEASES_DIR="$APP_DIR/releases"
CURRENT_LINK="$APP_DIR/current"
PREVIOUS_LINK="$APP_DIR/previous"
RELEASE_FORMAT=proctor-appliance-release/1
AP_PACKAGES=(hostapd dnsmasq)

APP_NAME=""
HALL_ID=""
APP_SOURCE=""
# provision (default), rollback or uninstall.
ACTION=provision
RELEASE_SOURCE=""
RELEASE_VERSION=""
RELEASE_ARCH=""
RELEASE_NODE=""
PURGE_DATA=0
HEALTH_TIMEOUT=90
# The systemd units to install: this script's, or those of the release being installed.
UNIT_SOURCE_DIR="$REPO_DIR/systemd"
# What the links named before this run switched them (for the automatic rollback).
OLD_CURRENT=""
OLD_PREVIOUS=""
PORT=""
HTTP_PORT=""
HTTPS_MODE=""
HALL_SUBNETS=()
TIME_PEERS=()
AP_SSID=""
AP_PASSPHRASE_FILE=""
AP_PASSPHRASE=""
AP_COUNTRY=
AP_INTERFACE=wlan0
AP_ADDRESS=10.42.0.1
DATA_DEVICE=""
# The device node DATA_DEVICE names (/dev/...), once checked (step_check_data_device).
DATA_DEVICE_NODE=""
READ_ONLY_ROOT=0
# Set when something the appliance reads changed: restart it at the end.
RESTART_APPLIANCE=0
# The read-only root as the kernel command line asks overlayroot for it: recurse=0, or the
# overlay also covers every other fstab mount, the data partition too (the exam day in RAM).
OVERLAYROOT_TOKEN=overlayroot=tmpfs:recurse=0
CMDLINE=/boot/firmware/cmdline.txt
# Where the data of a box in use goes when it moves onto a new data device: the old copy, kept
# (delete it once the doctor is happy), and the new device's temporary mount point.
DATA_BEFORE_MOVE="$DATA_DIR.before-data-device"
DATA_MOVE_MOUNT=/run/proctor-appliance-data-move
# How long boot waits for the data disk before giving up on it (and on the appliance).
DATA_DEVICE_TIMEOUT=30s

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

parse_args() {
  while (($# > 0)); do
    case "$1" in
      --name) APP_NAME="${2:?--name needs a value}"; shift 2 ;;
      --hall) HALL_ID="${2:?--hall needs a value}"; shift 2 ;;
      --app) APP_SOURCE="${2:?--app needs a folder}"; shift 2 ;;
      --release) RELEASE_SOURCE="${2:?--release needs a release file or folder}"; shift 2 ;;
      --rollback) ACTION=rollback; shift ;;
      --uninstall) ACTION=uninstall; shift ;;
      --purge-data) PURGE_DATA=1; shift ;;
      --health-timeout) HEALTH_TIMEOUT="${2:?--health-timeout needs seconds}"; shift 2 ;;
      --port) PORT="${2:?--port needs a value}"; shift 2 ;;
      --http-port) HTTP_PORT="${2:?--http-port needs a value}"; shift 2 ;;
      --https-mode) HTTPS_MODE="${2:?--https-mode needs a value}"; shift 2 ;;
      --hall-subnet) HALL_SUBNETS+=("${2:?--hall-subnet needs a CIDR}"); shift 2 ;;
      --time-peer) TIME_PEERS+=("${2:?--time-peer needs a host name or address}"); shift 2 ;;
      --ap-ssid) AP_SSID="${2:?--ap-ssid needs a value}"; shift 2 ;;
      --ap-passphrase-file) AP_PASSPHRASE_FILE="${2:?--ap-passphrase-file needs a file}"; shift 2 ;;
      --ap-country) AP_COUNTRY="${2:?--ap-country needs a value}"; shift 2 ;;
      --data-device) DATA_DEVICE="${2:?--data-device needs a device}"; shift 2 ;;
      --read-only-root) READ_ONLY_ROOT=1; shift ;;
      --dry-run) DRY_RUN=1; shift ;;
      --root) ROOT="$(cd "${2:?--root needs a folder}" && pwd)"; shift 2 ;;
      -h | --help) usage; exit 0 ;;
      *) usage >&2; die "unknown option $1" ;;
    esac
  done
}

# A setting from the existing env file (so a re-run without --name keeps the name).
previous_setting() {
  local file
  file="$(target "$ENV_FILE")"
  [[ -f "$file" ]] || return 0
  sed -n "s/^$1=//p" "$file" | tail -n 1
}

# The chrony peers provisioned before (a re-run without --time-peer keeps them).
previous_time_peers() {
  local file
  file="$(target /etc/chrony/conf.d/proctor-hall.conf)"
  [[ -f "$file" ]] || return 0
  sed -n 's/^peer \([^ ]*\) .*/\1/p' "$file"
}

# A setting of the access point provisioned before (a re-run without --ap-ssid keeps it).
previous_ap_setting() {
  local file
  file="$(target /etc/hostapd/hostapd.conf)"
  [[ -f "$file" ]] && grep -q '^# Written by firmware-scripts/provision.sh' "$file" || return 0
  sed -n "s/^$1=//p" "$file" | tail -n 1
}

check_settings() {
  [[ -n "$APP_NAME" ]] || APP_NAME="$(previous_setting PROCTOR_APPLIANCE_NAME)"
  [[ -n "$HALL_ID" ]] || HALL_ID="$(previous_setting PROCTOR_HALL_ID)"
  [[ -n "$HTTPS_MODE" ]] || HTTPS_MODE="$(previous_setting PROCTOR_HTTPS_MODE)"
  [[ -n "$HTTPS_MODE" ]] || HTTPS_MODE=local-ca
  [[ "$HTTPS_MODE" =~ ^(local-ca|provided|off)$ ]] || die "--https-mode: local-ca, provided or off ($HTTPS_MODE)"
  [[ -n "$PORT" ]] || PORT="$(previous_setting PROCTOR_PORT)"
  if [[ -z "$PORT" ]]; then
    if [[ "$HTTPS_MODE" == off ]]; then PORT=80; else PORT=443; fi
  fi
  [[ -n "$HTTP_PORT" ]] || HTTP_PORT="$(previous_setting PROCTOR_HTTP_PORT)"
  [[ -n "$HTTP_PORT" ]] || HTTP_PORT=80
  [[ -n "$APP_NAME" ]] || die "--name is needed on the first run"
  [[ -n "$HALL_ID" ]] || die "--hall is needed on the first run"
  [[ "$APP_NAME" =~ ^[a-z0-9][a-z0-9-]{0,62}$ ]] || die "--name: lower-case letters, digits and - ($APP_NAME)"
  [[ "$HALL_ID" =~ ^[a-z0-9][a-z0-9-]{0,62}$ ]] || die "--hall: lower-case letters, digits and - ($HALL_ID)"
  if ! [[ "$PORT" =~ ^[0-9]+$ ]] || ((PORT < 1 || PORT > 65535)); then die "--port: 1-65535 ($PORT)"; fi
  if ! [[ "$HTTP_PORT" =~ ^[0-9]+$ ]] || ((HTTP_PORT < 1 || HTTP_PORT > 65535)); then
    die "--http-port: 1-65535 ($HTTP_PORT)"
  fi
  ((${#HALL_SUBNETS[@]} > 0)) || HALL_SUBNETS=(10.0.0.0/8 172.16.0.0/12 192.168.0.0/16)
  local peer
  if ((${#TIME_PEERS[@]} == 0)); then
    while read -r peer; do [[ -n "$peer" ]] && TIME_PEERS+=("$peer"); done < <(previous_time_peers)
  fi
  for peer in "${TIME_PEERS[@]}"; do
    [[ "$peer" =~ ^[A-Za-z0-9]([A-Za-z0-9.:-]{0,251}[A-Za-z0-9])?$ ]] || die "--time-peer: a host name or address ($peer)"
  done
  if ((READ_ONLY_ROOT)) && [[ -z "$DATA_DEVICE" ]]; then
    die "--read-only-root needs --data-device: exam data must live on a writable partition"
  fi
  if [[ -z "$AP_SSID" ]]; then
    AP_SSID="$(previous_ap_setting ssid)"
    [[ -n "$AP_PASSPHRASE_FILE" ]] || AP_PASSPHRASE="$(previous_ap_setting wpa_passphrase)"
  fi
  [[ -n "$AP_COUNTRY" ]] || AP_COUNTRY="$(previous_ap_setting country_code)"
  [[ -n "$AP_COUNTRY" ]] || AP_COUNTRY=GB
  if [[ -n "$AP_PASSPHRASE_FILE" ]]; then AP_PASSPHRASE="$(head -n 1 "$AP_PASSPHRASE_FILE")"; fi
  if [[ -n "$AP_SSID" && -z "$AP_PASSPHRASE" ]]; then die "--ap-ssid needs --ap-passphrase-file"; fi
  if [[ -n "$AP_SSID" ]] && ((${#AP_PASSPHRASE} < 8 || ${#AP_PASSPHRASE} > 63)); then
    die "the AP passphrase must have 8-63 characters"
  fi
  if [[ -n "$RELEASE_SOURCE" ]]; then
    check_release_source
    return 0
  fi
  [[ -f "$APP_SOURCE/package.json" ]] || die "--app $APP_SOURCE holds no package.json"
  [[ -f "$APP_SOURCE/appliance/dist/main.js" && -f "$APP_SOURCE/appliance/dist/cli.js" ]] ||
    die "$APP_SOURCE/appliance/dist is not built: run \`npm ci && npm run build\` there first (or use a release)"
  [[ -f "$APP_SOURCE/client/dist/index.html" ]] ||
    die "$APP_SOURCE/client/dist is not built: run \`npm ci && npm run build\` there first (or use a release)"
}

# Which app to install: --release, --app, else the release this script sits in, else its checkout.
choose_source() {
  [[ -z "$RELEASE_SOURCE" || -z "$APP_SOURCE" ]] || die "--release and --app exclude each other: give one"
  if ((PURGE_DATA)) && [[ "$ACTION" != uninstall ]]; then die "--purge-data goes with --uninstall only"; fi
  if ! [[ "$HEALTH_TIMEOUT" =~ ^[0-9]+$ ]] || ((HEALTH_TIMEOUT < 1)); then
    die "--health-timeout: a number of seconds ($HEALTH_TIMEOUT)"
  fi
  [[ "$ACTION" == provision ]] || return 0
  if [[ -z "$RELEASE_SOURCE" && -z "$APP_SOURCE" ]]; then
    if [[ -f "$REPO_DIR/release.json" ]]; then RELEASE_SOURCE="$REPO_DIR"; else APP_SOURCE="$REPO_DIR"; fi
  fi
}

# A top-level value of a release manifest (release.json, one key a line: scripts/release-manifest.ts).
manifest_value() {
  sed -nE "s/^  \"$2\": \"?([^\",]*)\"?,?\$/\1/p" "$1" | head -n 1
}

# The manifest's files as sha256sum lines ("<hex>  <path>").
manifest_sums() {
  sed -nE 's/^    "([^"]+)": "([0-9a-f]{64})",?$/\2  \1/p' "$1"
}

# This box's CPU in Node's words (process.arch): arm64 or x64.
box_arch() {
  local machine
  machine="$(query uname -m)"
  case "$machine" in
    aarch64 | arm64) echo arm64 ;;
    x86_64 | amd64) echo x64 ;;
    *) echo "$machine" ;;
  esac
}

# Reads the release's manifest (from the tarball without unpacking it, or from the folder) and
# refuses a release that is not one, or is for another CPU, before anything is changed.
check_release_source() {
  local manifest arch
  manifest="$(mktemp)"
  if [[ -d "$RELEASE_SOURCE" ]]; then
    [[ -f "$RELEASE_SOURCE/release.json" ]] || die "--release $RELEASE_SOURCE holds no release.json: not an unpacked release (npm run release)"
    cp -- "$RELEASE_SOURCE/release.json" "$manifest"
  elif [[ -f "$RELEASE_SOURCE" ]]; then
    # release.json is the tarball's first file: read it without unpacking the rest.
    tar -xzOf "$RELEASE_SOURCE" --wildcards --occurrence=1 '*/release.json' >"$manifest" 2>/dev/null ||
      die "--release $RELEASE_SOURCE: not a release tarball (no release.json in it)"
  else
    die "--release $RELEASE_SOURCE: no such file or folder"
  fi
  [[ "$(manifest_value "$manifest" format)" == "$RELEASE_FORMAT" ]] ||
    die "--release $RELEASE_SOURCE: its release.json is not of the format $RELEASE_FORMAT"
  RELEASE_VERSION="$(manifest_value "$manifest" version)"
  RELEASE_ARCH="$(manifest_value "$manifest" arch)"
  RELEASE_NODE="$(manifest_value "$manifest" node)"
  rm -f -- "$manifest"
  [[ "$RELEASE_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)*$ ]] ||
    die "--release $RELEASE_SOURCE: bad version in release.json ($RELEASE_VERSION)"
  arch="$(box_arch)"
  [[ "$RELEASE_ARCH" == "$arch" ]] ||
    die "--release $RELEASE_SOURCE is for linux-$RELEASE_ARCH, this box is linux-$arch: use the linux-$arch release (npm run release -- --arch $arch)"
  UNIT_SOURCE_DIR=""
}

step_preflight() {
  log "== preflight"
  local os_release
  os_release="$(target /etc/os-release)"
  if [[ -f "$os_release" ]] && ! grep -q '^VERSION_CODENAME=bookworm' "$os_release"; then
    log "warning: not Debian/Raspberry Pi OS Bookworm; continuing"
  fi
  if ! stubbed && ((EUID != 0)) && ((!DRY_RUN)); then die "run as root (sudo)"; fi
  # On an overlaid root every change below would vanish at the next reboot (and with the old
  # overlayroot=tmpfs, so would the exam data).
  if [[ "$(query findmnt -n -o FSTYPE / 2>/dev/null || true)" == overlay ]] && ((!DRY_RUN)); then
    die "the root file system is a read-only overlay now: changes would vanish at reboot. Turn it off" \
      "(sudo raspi-config nonint do_overlayfs 1), reboot, and run this again (with --read-only-root to turn it back on)"
  fi
}

package_installed() {
  # shellcheck disable=SC2016 # ${Status} is dpkg-query's field, not the shell's
  query dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

step_packages() {
  log "== packages"
  local wanted=() missing=() package
  for package in "${BASE_PACKAGES[@]}"; do
    # A release brings its own Node.js (node/bin/node): no Debian or NodeSource nodejs needed.
    if [[ -n "$RELEASE_SOURCE" && "$package" == nodejs ]]; then continue; fi
    wanted+=("$package")
  done
  if [[ -n "$AP_SSID" ]]; then wanted+=("${AP_PACKAGES[@]}"); fi
  for package in "${wanted[@]}"; do
    package_installed "$package" || missing+=("$package")
  done
  if ((${#missing[@]} > 0)); then
    run apt-get update
    run apt-get install -y --no-install-recommends "${missing[@]}"
  fi
}

# A release brings its Node.js (checked when it is unpacked). For --app, Debian Bookworm's own
# nodejs is 18: Node.js 24 LTS (>= 24.11) comes from NodeSource's apt repository, set up before
# this script.
step_node_version() {
  log "== node"
  local version major minor
  if [[ -n "$RELEASE_SOURCE" ]]; then
    log "the release's own Node.js $RELEASE_NODE (node/bin/node)"
    return 0
  fi
  version="$(query node --version 2>/dev/null || true)"
  if ((DRY_RUN)) && [[ -z "$version" ]]; then
    log "would need node >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR (not installed yet)"
    return 0
  fi
  [[ "$version" =~ ^v([0-9]+)\.([0-9]+) ]] || die "node is missing: set up NodeSource's Node.js 24 apt repository first (README)"
  major="${BASH_REMATCH[1]}"
  minor="${BASH_REMATCH[2]}"
  if ((major < NODE_MIN_MAJOR || (major == NODE_MIN_MAJOR && minor < NODE_MIN_MINOR))); then
    die "node $version is too old (Debian's own is 18): need Node.js 24 (>= $NODE_MIN_MAJOR.$NODE_MIN_MINOR) from NodeSource's apt repository (README)"
  fi
  log "node $version"
}

step_user() {
  log "== service user"
  if ! query getent passwd "$SERVICE_USER" >/dev/null; then
    run useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
  fi
  ensure_dir "$CONFIG_DIR" 755
  ensure_dir "$LOG_DIR" 750
}

# A digest of the files to install, so an unchanged release is not copied again.
source_digest() {
  local existing=() path
  for path in "${APP_PATHS[@]}"; do
    [[ -e "$APP_SOURCE/$path" ]] && existing+=("$path")
  done
  (cd "$APP_SOURCE" && find "${existing[@]}" -type f -not -path '*/node_modules/*' -print0 | sort -z |
    xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

step_app() {
  log "== app in $APP_DIR"
  local digest marker lock_digest npm_marker path dest
  digest="$(source_digest)"
  marker="$(target "$APP_DIR/.release-digest")"
  if [[ "$(realpath -m "$APP_SOURCE")" == "$(realpath -m "$(target "$APP_DIR")")" ]]; then
    # Run from the installed copy: nothing to copy (copying onto itself would delete it).
    log "the app source is $APP_DIR itself: not copied"
  elif [[ ! -f "$marker" || "$(cat "$marker")" != "$digest" ]]; then
    changed
    RESTART_APPLIANCE=1
    if ((DRY_RUN)); then
      log "would install the app from $APP_SOURCE into $APP_DIR"
    else
      log "installing the app from $APP_SOURCE into $APP_DIR"
      install -d -m 755 "$(target "$APP_DIR")"
      for path in "${APP_PATHS[@]}"; do
        dest="$(target "$APP_DIR/$path")"
        rm -rf -- "$dest"
        [[ -e "$APP_SOURCE/$path" ]] || continue
        mkdir -p "$(dirname "$dest")"
        cp -R --no-preserve=ownership -- "$APP_SOURCE/$path" "$dest"
      done
      printf '%s\n' "$digest" >"$marker"
    fi
  fi
  # Runtime dependencies only (the bundles' imports: no build tools, no tsx); again when the
  # lock changes.
  lock_digest="$(sha256sum "$APP_SOURCE/package-lock.json" | cut -d' ' -f1)"
  npm_marker="$(target "$APP_DIR/.npm-ci-digest")"
  if [[ ! -f "$npm_marker" || "$(cat "$npm_marker")" != "$lock_digest" ]]; then
    RESTART_APPLIANCE=1
    run npm --prefix "$(target "$APP_DIR")" ci --omit=dev --no-audit --no-fund
    if ((!DRY_RUN)); then printf '%s\n' "$lock_digest" >"$npm_marker"; fi
  fi
  # The unit runs current/node/bin/node: here that is the system's Node.js, and current is the
  # app in place.
  ensure_symlink "$APP_DIR/node/bin/node" /usr/bin/node
  if ((CHANGED)); then RESTART_APPLIANCE=1; fi
  if [[ "$(readlink "$(target "$CURRENT_LINK")" 2>/dev/null)" != "." ]]; then switch_to .; fi
  link_box_commands
}

# The box's commands, through `current` (so they run the release that runs).
link_box_commands() {
  ensure_symlink /usr/local/sbin/proctor-doctor "$CURRENT_LINK/firmware-scripts/doctor.sh"
  ensure_symlink /usr/local/sbin/proctor-appliance "$CURRENT_LINK/firmware-scripts/appliance-cli.sh"
}

# Points LINK (under ROOT) at TO atomically: a new link beside it, renamed over it (rename(2)).
replace_link() {
  local path
  path="$(target "$1")"
  mkdir -p "$(dirname "$path")"
  ln -sfn -- "$2" "$path.new"
  mv -T -- "$path.new" "$path"
}

# Makes `current` name TO (releases/<version>, or . for the app in place) and `previous` what
# current named before; remembers both for the automatic rollback.
switch_to() {
  local to="$1"
  OLD_CURRENT="$(readlink "$(target "$CURRENT_LINK")" 2>/dev/null || true)"
  OLD_PREVIOUS="$(readlink "$(target "$PREVIOUS_LINK")" 2>/dev/null || true)"
  if [[ -z "$OLD_CURRENT" && -f "$(target "$APP_DIR/appliance/dist/main.js")" ]]; then
    # An app installed in place by an older provisioning (before releases): it becomes the
    # previous one, run by the system's Node.js as before.
    OLD_CURRENT=.
    ensure_symlink "$APP_DIR/node/bin/node" /usr/bin/node
  fi
  changed
  RESTART_APPLIANCE=1
  if ((DRY_RUN)); then
    log "would switch $CURRENT_LINK to $to${OLD_CURRENT:+ (previous: $OLD_CURRENT)}"
    return 0
  fi
  if [[ -n "$OLD_CURRENT" && "$OLD_CURRENT" != "$to" ]]; then replace_link "$PREVIOUS_LINK" "$OLD_CURRENT"; fi
  replace_link "$CURRENT_LINK" "$to"
  log "switched $CURRENT_LINK to $to${OLD_CURRENT:+ (previous: $OLD_CURRENT)}"
}

# Verifies an unpacked release in DIR against its release.json: the format, version and arch
# checked before, exactly the files it lists (no more, no links), each with its SHA-256.
verify_release() {
  local dir="$1" manifest listed present odd sums
  manifest="$dir/release.json"
  [[ -f "$manifest" ]] || die "the release has no release.json"
  [[ "$(manifest_value "$manifest" version)" == "$RELEASE_VERSION" && "$(manifest_value "$manifest" arch)" == "$RELEASE_ARCH" ]] ||
    die "the release's release.json changed while it was unpacked"
  odd="$(find "$dir" ! -type f ! -type d -printf '%P\n' | head -n 5)"
  [[ -z "$odd" ]] || die "the release holds links or special files, which a release never does: $odd"
  sums="$(mktemp)"
  manifest_sums "$manifest" >"$sums"
  listed="$(wc -l <"$sums")"
  present="$(find "$dir" -type f ! -path "$dir/release.json" | wc -l)"
  if ((listed == 0 || listed != present)); then
    rm -f -- "$sums"
    die "the release holds $present files, its release.json lists $listed: an incomplete or altered copy"
  fi
  if ! (cd "$dir" && sha256sum --check --quiet --strict "$sums" >&2); then
    rm -f -- "$sums"
    die "the release's files do not match their SHA-256s in release.json (a damaged copy?): nothing was changed"
  fi
  rm -f -- "$sums"
  local need
  for need in appliance/dist/main.js appliance/dist/cli.js client/dist/index.html node/bin/node "systemd/$UNIT"; do
    [[ -f "$dir/$need" ]] || die "the release has no $need"
  done
  log "verified $listed files against release.json"
}

# Unpacks (or copies) the release into RELEASES_DIR/.incoming, verifies it, checks that its Node.js
# runs here, and moves it to RELEASES_DIR/<version>; then switches `current` to it.
step_release() {
  local dest_box dest incoming top version_box node_version
  dest_box="$RELEASES_DIR/$RELEASE_VERSION"
  dest="$(target "$dest_box")"
  log "== release $RELEASE_VERSION (linux-$RELEASE_ARCH) in $dest_box"
  UNIT_SOURCE_DIR="$dest/systemd"
  if [[ -f "$dest/release.json" ]] && release_manifest_matches "$dest/release.json"; then
    log "already installed"
  elif ((DRY_RUN)); then
    changed
    log "would unpack $RELEASE_SOURCE, verify its files against release.json and install it as $dest_box"
    UNIT_SOURCE_DIR="$REPO_DIR/systemd"
  else
    if [[ "$(readlink "$(target "$CURRENT_LINK")" 2>/dev/null)" == "releases/$RELEASE_VERSION" ]]; then
      die "$dest_box runs now and holds another build of $RELEASE_VERSION: build the release again from a new commit"
    fi
    changed
    install -d -m 755 "$(target "$APP_DIR")" "$(target "$RELEASES_DIR")"
    incoming="$(target "$RELEASES_DIR/.incoming")"
    rm -rf -- "$incoming"
    install -d -m 700 "$incoming"
    # A refused or interrupted release leaves nothing behind.
    # shellcheck disable=SC2064 # the path is fixed now, on purpose
    trap "rm -rf -- '$incoming'" EXIT
    if [[ -d "$RELEASE_SOURCE" ]]; then
      log "copying $RELEASE_SOURCE"
      cp -R --no-preserve=ownership -- "$RELEASE_SOURCE" "$incoming/release"
    else
      log "unpacking $RELEASE_SOURCE"
      tar -xzf "$RELEASE_SOURCE" -C "$incoming" --no-same-owner
    fi
    top="$(find "$incoming" -mindepth 1 -maxdepth 1 -printf '%f\n')"
    [[ -n "$top" && "$top" != *$'\n'* && -d "$incoming/$top" ]] || die "the release tarball must hold exactly one folder"
    verify_release "$incoming/$top"
    # Its Node.js runs on this CPU and is the one the manifest names.
    version_box="$RELEASES_DIR/.incoming/$top/node/bin/node"
    node_version="$(query "$version_box" --version 2>/dev/null || true)"
    [[ "$node_version" == "v$RELEASE_NODE" ]] ||
      die "the release's node/bin/node does not run here (it said '${node_version}', expected v$RELEASE_NODE)"
    chmod 755 "$incoming/$top"
    rm -rf -- "$dest"
    mv -T -- "$incoming/$top" "$dest"
    rm -rf -- "$incoming"
    trap - EXIT
    log "installed $dest_box"
  fi
  if [[ "$(readlink "$(target "$CURRENT_LINK")" 2>/dev/null)" != "releases/$RELEASE_VERSION" ]]; then
    switch_to "releases/$RELEASE_VERSION"
  fi
  link_box_commands
}

# The release in RELEASES_DIR has the same manifest as the one being installed.
release_manifest_matches() {
  local manifest
  manifest="$(mktemp)"
  if [[ -d "$RELEASE_SOURCE" ]]; then
    cp -- "$RELEASE_SOURCE/release.json" "$manifest"
  else
    tar -xzOf "$RELEASE_SOURCE" --wildcards --occurrence=1 '*/release.json' >"$manifest"
  fi
  local status=0
  cmp -s "$manifest" "$1" || status=1
  rm -f -- "$manifest"
  return "$status"
}

# Keeps the releases that current and previous name; removes the others (an SD card is small).
prune_releases() {
  local dir name keep_current keep_previous
  keep_current="$(readlink "$(target "$CURRENT_LINK")" 2>/dev/null || true)"
  keep_previous="$(readlink "$(target "$PREVIOUS_LINK")" 2>/dev/null || true)"
  [[ -d "$(target "$RELEASES_DIR")" ]] || return 0
  for dir in "$(target "$RELEASES_DIR")"/*; do
    [[ -d "$dir" ]] || continue
    name="releases/$(basename "$dir")"
    [[ "$name" == "$keep_current" || "$name" == "$keep_previous" ]] && continue
    changed
    if ((DRY_RUN)); then
      log "would remove the old release $APP_DIR/$name"
    else
      log "removing the old release $APP_DIR/$name"
      rm -rf -- "$dir"
    fi
  done
}

# The version the app that LINK (current or previous) names says it is (/api/health's version).
app_version() {
  local to
  to="$(readlink "$(target "$1")" 2>/dev/null || true)"
  [[ -n "$to" ]] || return 0
  sed -nE 's/^  "version": "([^"]+)",?$/\1/p' "$(target "$APP_DIR/$to/package.json")" 2>/dev/null | head -n 1
}

# Waits up to HEALTH_TIMEOUT seconds for the appliance to answer /api/health as healthy, with
# VERSION (the app current names); asks with that app's node (lib/health-probe.mjs).
wait_healthy() {
  local version="$1" scheme=https deadline answer=""
  if [[ "$HTTPS_MODE" == off ]]; then scheme=http; fi
  local url="$scheme://127.0.0.1:$PORT/api/health"
  deadline=$((SECONDS + HEALTH_TIMEOUT))
  log "waiting up to ${HEALTH_TIMEOUT}s for $url to say version $version is healthy"
  while true; do
    if answer="$(query "$CURRENT_LINK/node/bin/node" "$SCRIPT_DIR/lib/health-probe.mjs" "$url" "$version" 2>&1)"; then
      log "healthy: $answer"
      return 0
    fi
    if ((SECONDS >= deadline)); then break; fi
    sleep 2
  done
  log "not healthy after ${HEALTH_TIMEOUT}s: ${answer:-no answer}"
  return 1
}

# Installs the unit of the app that current names (a rollback may go back to an older unit).
install_current_unit() {
  local unit_file
  unit_file="$(target "$APP_DIR/$(readlink "$(target "$CURRENT_LINK")")/systemd/$UNIT")"
  [[ -f "$unit_file" ]] || return 0
  install_file "$unit_file" "/etc/systemd/system/$UNIT" 644
  if ((CHANGED)); then run systemctl daemon-reload; fi
}

# The new release did not become healthy: current and previous back to what they were, the
# failed release removed, the old one restarted and checked.
roll_back_failed_release() {
  local failed="$RELEASE_VERSION"
  if [[ -z "$OLD_CURRENT" ]]; then
    die "release $failed is not healthy and there is no previous release to go back to: see journalctl -u $UNIT, then proctor-doctor"
  fi
  log "== release $failed is not healthy: back to $OLD_CURRENT"
  replace_link "$CURRENT_LINK" "$OLD_CURRENT"
  if [[ -n "$OLD_PREVIOUS" && "$OLD_PREVIOUS" != "$OLD_CURRENT" ]]; then
    replace_link "$PREVIOUS_LINK" "$OLD_PREVIOUS"
  else
    rm -f -- "$(target "$PREVIOUS_LINK")"
  fi
  rm -rf -- "$(target "$RELEASES_DIR/$failed")"
  install_current_unit
  run systemctl restart "$UNIT" || true
  if wait_healthy "$(app_version "$CURRENT_LINK")"; then
    die "release $failed did not become healthy within ${HEALTH_TIMEOUT}s: rolled back to $OLD_CURRENT, which is healthy (why it failed: journalctl -u $UNIT)"
  fi
  die "release $failed did not become healthy, and neither did $OLD_CURRENT after the rollback: see journalctl -u $UNIT, then proctor-doctor"
}

step_settings() {
  log "== settings in $ENV_FILE"
  {
    echo "# Written by firmware-scripts/provision.sh: re-run it to change these (hand edits here are"
    echo "# replaced). Other settings (README, Configuration) go in $CONFIG_DIR/local.env."
    echo "PROCTOR_APPLIANCE_NAME=$APP_NAME"
    echo "PROCTOR_HALL_ID=$HALL_ID"
    echo "PROCTOR_HOST=::"
    echo "PROCTOR_HTTPS_MODE=$HTTPS_MODE"
    echo "PROCTOR_PORT=$PORT"
    if [[ "$HTTPS_MODE" != off ]]; then echo "PROCTOR_HTTP_PORT=$HTTP_PORT"; fi
    echo "PROCTOR_DEMO=false"
    if [[ -n "$AP_SSID" ]]; then echo "PROCTOR_MDNS_INTERFACE=$AP_ADDRESS"; fi
  } | install_text "$ENV_FILE" 600
  if ((CHANGED)); then RESTART_APPLIANCE=1; fi
}

step_units() {
  log "== systemd units"
  local reload=0 unit
  for unit in "$UNIT" "$AP_UNIT"; do
    install_file "$UNIT_SOURCE_DIR/$unit" "/etc/systemd/system/$unit" 644
    if ((CHANGED)); then
      reload=1
      if [[ "$unit" == "$UNIT" ]]; then RESTART_APPLIANCE=1; fi
    fi
  done
  if ((reload)); then run systemctl daemon-reload; fi
  enable_unit "$UNIT"
}

enable_unit() {
  if ! query systemctl is-enabled "$1" >/dev/null 2>&1; then
    run systemctl unmask "$1"
    run systemctl enable "$1"
  fi
}

step_hostname() {
  log "== host name $APP_NAME, avahi"
  printf '%s\n' "$APP_NAME" | install_text /etc/hostname 644
  if ((CHANGED)); then run hostnamectl set-hostname "$APP_NAME"; fi
  ensure_line /etc/hosts '^127\.0\.1\.1[[:space:]]' "127.0.1.1	$APP_NAME"
  # avahi answers <name>-admin.local (SSH, always); the appliance itself answers <name>.local
  # and its services while it serves. Two responders for one host name would fight over it
  # (bonjour-service announces every interface's address on each interface).
  local restart=0
  ensure_ini_key /etc/avahi/avahi-daemon.conf server host-name "$APP_NAME-admin"
  if ((CHANGED)); then restart=1; fi
  ensure_ini_key /etc/avahi/avahi-daemon.conf publish publish-workstation no
  if ((CHANGED)); then restart=1; fi
  if ((restart)); then run systemctl restart avahi-daemon.service; fi
  enable_unit avahi-daemon.service
}

step_chrony() {
  log "== chrony serves time to the hall"
  local subnet peer
  {
    echo "# Written by firmware-scripts/provision.sh: the box is the hall's time source (docs/box.md)."
    echo "# Devices in the hall may ask this box for the time."
    for subnet in "${HALL_SUBNETS[@]}"; do echo "allow $subnet"; done
    echo "# No upstream reachable (an offline hall): keep serving this clock, at stratum 10. Boxes"
    echo "# of one hall given to each other as peers (--time-peer) agree among themselves on one"
    echo "# time (orphan mode: the peer with the lowest reference ID leads); a box with no peer"
    echo "# serves its own."
    echo "local stratum 10 orphan"
    for peer in "${TIME_PEERS[@]}"; do echo "peer $peer iburst"; done
    echo "# After a boot without a real-time clock, step a wrong clock at once (first 3 updates)."
    echo "makestep 1 3"
    echo "# Keep the kernel's (and any RTC's) time in step."
    echo "rtcsync"
  } | install_text /etc/chrony/conf.d/proctor-hall.conf 644
  if ((CHANGED)); then run systemctl restart chrony.service; fi
  enable_unit chrony.service
}

step_logs() {
  log "== logs"
  {
    echo "# Written by firmware-scripts/provision.sh: bounded logs on an SD card."
    echo "[Journal]"
    echo "SystemMaxUse=200M"
    echo "SystemKeepFree=1G"
    echo "MaxRetentionSec=3month"
    echo "Compress=yes"
  } | install_text /etc/systemd/journald.conf.d/proctor-appliance.conf 644
  if ((CHANGED)); then run systemctl restart systemd-journald.service; fi
  {
    echo "# Written by firmware-scripts/provision.sh: the appliance logs to the journal; these are"
    echo "# the doctor's reports (proctor-doctor --log)."
    echo "$LOG_DIR/*.log {"
    echo "  weekly"
    echo "  rotate 8"
    echo "  compress"
    echo "  missingok"
    echo "  notifempty"
    echo "}"
  } | install_text /etc/logrotate.d/proctor-appliance 644
}

step_access_point() {
  [[ -n "$AP_SSID" ]] || return 0
  log "== access point $AP_SSID on $AP_INTERFACE ($AP_ADDRESS)"
  local network
  network="${AP_ADDRESS%.*}"
  if ! grep -qw "cfg80211.ieee80211_regdom=$AP_COUNTRY" "$(target /boot/firmware/cmdline.txt)" 2>/dev/null; then
    run raspi-config nonint do_wifi_country "$AP_COUNTRY"
  fi
  {
    echo "# Written by firmware-scripts/provision.sh (docs/box.md, access-point mode)."
    echo "AP_INTERFACE=$AP_INTERFACE"
    echo "AP_ADDRESS=$AP_ADDRESS/24"
  } | install_text "$AP_ENV_FILE" 644
  {
    echo "# Written by firmware-scripts/provision.sh: $AP_INTERFACE is hostapd's, not NetworkManager's."
    echo "[keyfile]"
    echo "unmanaged-devices=interface-name:$AP_INTERFACE"
  } | install_text /etc/NetworkManager/conf.d/proctor-ap.conf 644
  if ((CHANGED)); then run systemctl reload NetworkManager.service; fi
  {
    echo "# Written by firmware-scripts/provision.sh: a small room's access point."
    echo "interface=$AP_INTERFACE"
    echo "driver=nl80211"
    echo "ssid=$AP_SSID"
    echo "country_code=$AP_COUNTRY"
    echo "hw_mode=g"
    echo "channel=6"
    echo "ieee80211n=1"
    echo "wmm_enabled=1"
    echo "auth_algs=1"
    echo "wpa=2"
    echo "wpa_key_mgmt=WPA-PSK"
    echo "rsn_pairwise=CCMP"
    echo "wpa_passphrase=$AP_PASSPHRASE"
    echo "# Client isolation: examinees' devices cannot reach each other, only the box."
    echo "ap_isolate=1"
    echo "# The onboard radio serves about 10 devices well."
    echo "max_num_sta=10"
  } | install_text /etc/hostapd/hostapd.conf 600
  if ((CHANGED)); then run systemctl restart hostapd.service; fi
  {
    echo "# Written by firmware-scripts/provision.sh: addresses and time for the access point's devices."
    echo "interface=$AP_INTERFACE"
    echo "bind-interfaces"
    echo "dhcp-range=$network.10,$network.250,255.255.255.0,12h"
    echo "# No router: the hall has no internet through the box."
    echo "dhcp-option=option:router"
    echo "# The box is the time server (chrony)."
    echo "dhcp-option=option:ntp-server,$AP_ADDRESS"
    echo "# For devices without mDNS: the box's name over plain DNS too."
    echo "host-record=$APP_NAME.local,$AP_ADDRESS"
  } | install_text /etc/dnsmasq.d/proctor-ap.conf 644
  if ((CHANGED)); then run systemctl restart dnsmasq.service; fi
  enable_unit "$AP_UNIT"
  enable_unit hostapd.service
  enable_unit dnsmasq.service
}

# The device node a --data-device spec names (UUID=, LABEL=, PARTUUID=, PARTLABEL= or /dev/...),
# as a path on the box; dies unless it exists and is a block device.
data_device_node() {
  local spec="$1" link node root_real
  case "$spec" in
    UUID=*) link="/dev/disk/by-uuid/${spec#UUID=}" ;;
    LABEL=*) link="/dev/disk/by-label/${spec#LABEL=}" ;;
    PARTUUID=*) link="/dev/disk/by-partuuid/${spec#PARTUUID=}" ;;
    PARTLABEL=*) link="/dev/disk/by-partlabel/${spec#PARTLABEL=}" ;;
    /dev/*) link="$spec" ;;
    *) die "--data-device: UUID=..., LABEL=..., PARTUUID=..., PARTLABEL=... or /dev/... ($spec)" ;;
  esac
  node="$(realpath -e -- "$(target "$link")" 2>/dev/null)" ||
    die "--data-device $spec: there is no such device ($link): is the disk plugged in? \`lsblk -f\` lists the disks and their UUIDs"
  if stubbed; then
    root_real="$(realpath -e -- "$ROOT")"
    [[ "$node" == "$root_real"/* ]] || die "--data-device $spec: $link leads out of $ROOT ($node)"
    node="${node#"$root_real"}"
  fi
  [[ -b "$(target "$node")" ]] || die "--data-device $spec: $node is not a block device (a disk or a partition)"
  printf '%s\n' "$node"
}

# Dies unless DEVICE may become the data partition: not the root file system's device, not a
# disk holding it, nothing of it mounted anywhere but the data folder.
check_data_device() {
  local spec="$1" device="$2" root_source mountpoints mountpoint
  root_source="$(query findmnt -n -o SOURCE / 2>/dev/null || true)"
  mountpoints="$(query lsblk -n -l -o MOUNTPOINT "$device")" || die "--data-device $spec: lsblk cannot read $device"
  if [[ "$root_source" == "$device" ]] || grep -qx / <<<"$mountpoints"; then
    die "--data-device $spec: $device holds the root file system (the SD card?): name the data disk (\`lsblk -f\`)"
  fi
  while IFS= read -r mountpoint; do
    [[ -z "$mountpoint" || "$mountpoint" == "$DATA_DIR" ]] && continue
    die "--data-device $spec: $device is in use: it (or a partition of it) is mounted at $mountpoint." \
      "Unmount it first (sudo umount $mountpoint), or name another device"
  done <<<"$mountpoints"
}

# One line per entry under DIR (the data folder, or its copy on the new device): type, mode,
# owner, group, links and for non-folders size, mtime and link target; then every file's SHA-256.
# Two trees with the same lines are the same data. lost+found (mkfs.ext4's) is not data.
data_tree_manifest() {
  (
    cd "$1"
    find . -path ./lost+found -prune -o -type d -printf 'd %m %U:%G %p\n' | LC_ALL=C sort
    find . -path ./lost+found -prune -o ! -type d -printf '%y %m %U:%G %n %s %T@ %p -> %l\n' | LC_ALL=C sort
    find . -path ./lost+found -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
  )
}

# Moves the data of a box in use onto DEVICE: mount it aside, check it is empty and large enough,
# copy (ownership, modes, times, links, extended attributes), flush, compare every entry and byte,
# unmount; only then keep the old folder as DATA_BEFORE_MOVE and make an empty data folder for the
# mount. Until the comparison passed nothing of the old data was touched.
move_data_onto() {
  local spec="$1" device="$2" data staging left need free
  data="$(target "$DATA_DIR")"
  staging="$(target "$DATA_MOVE_MOUNT")"
  [[ ! -e "$(target "$DATA_BEFORE_MOVE")" ]] ||
    die "$DATA_BEFORE_MOVE exists (from an earlier move): check that its data is on the data device, remove it, and run this again"
  if ((DRY_RUN)); then
    changed
    log "would stop $UNIT, copy $DATA_DIR onto $spec, compare, keep the old copy as $DATA_BEFORE_MOVE"
    return 0
  fi
  if query systemctl is-active --quiet "$UNIT"; then
    log "stopping $UNIT to move its data"
    run systemctl stop "$UNIT"
  fi
  RESTART_APPLIANCE=1
  changed
  install -d -m 700 "$staging"
  run mount -t ext4 "$device" "$DATA_MOVE_MOUNT"
  left="$(find "$staging" -mindepth 1 -maxdepth 1 ! -name lost+found -printf '%f ' | head -c 200)"
  if [[ -n "$left" ]]; then
    run umount "$DATA_MOVE_MOUNT"
    die "--data-device $spec is not empty (it holds $left): it must be a fresh ext4 file system (mkfs.ext4 erases it)"
  fi
  need="$(du -s -B1 -- "$data" | cut -f1)"
  free="$(df -B1 --output=avail -- "$staging" | tail -n 1 | tr -d ' ')"
  if ((need > free)); then
    run umount "$DATA_MOVE_MOUNT"
    die "--data-device $spec has $free bytes free; the data in $DATA_DIR needs $need"
  fi
  log "copying $DATA_DIR ($need bytes) onto $spec"
  cp -a -- "$data/." "$staging/"
  sync -f "$staging/."
  if ! cmp -s <(data_tree_manifest "$data") <(data_tree_manifest "$staging"); then
    diff <(data_tree_manifest "$data") <(data_tree_manifest "$staging") | head -n 20 | sed 's/^/    /' >&2 || true
    run umount "$DATA_MOVE_MOUNT"
    die "the copy on $spec differs from $DATA_DIR (above): nothing was switched; the data is still in $DATA_DIR"
  fi
  log "the copy on $spec matches $DATA_DIR (every entry, owner, mode and byte)"
  run umount "$DATA_MOVE_MOUNT"
  # --root: nothing was mounted, so the copy stays in the stand-in for the device.
  if ! stubbed; then rmdir -- "$staging"; fi
  mv -- "$data" "$(target "$DATA_BEFORE_MOVE")"
  install -d -m "$(stat -c '%a' "$(target "$DATA_BEFORE_MOVE")")" "$data"
  chown --reference="$(target "$DATA_BEFORE_MOVE")" -- "$data"
  log "the data as it was stays in $DATA_BEFORE_MOVE: delete it once proctor-doctor is happy"
}

# Before anything changes: a --data-device that cannot be the data partition stops the run.
step_check_data_device() {
  [[ -n "$DATA_DEVICE" ]] || return 0
  DATA_DEVICE_NODE="$(data_device_node "$DATA_DEVICE")"
  check_data_device "$DATA_DEVICE" "$DATA_DEVICE_NODE"
  log "data device $DATA_DEVICE: $DATA_DEVICE_NODE, a block device, free to use"
}

step_data_partition() {
  [[ -n "$DATA_DEVICE" ]] || return 0
  log "== data partition $DATA_DEVICE at $DATA_DIR"
  local device="$DATA_DEVICE_NODE" mounted_from data
  mounted_from="$(query findmnt -n -o SOURCE "$DATA_DIR" 2>/dev/null || true)"
  if [[ -n "$mounted_from" && "$mounted_from" != "$device" ]]; then
    die "$DATA_DIR is mounted from $mounted_from, not $DATA_DEVICE ($device): moving between data devices is not done here (docs/box.md)"
  fi
  data="$(target "$DATA_DIR")"
  # A box in use: its data moves onto the device, instead of being hidden under the new mount.
  if [[ -z "$mounted_from" && -d "$data" ]] && [[ -n "$(find "$data" -mindepth 1 -maxdepth 1 -print -quit)" ]]; then
    move_data_onto "$DATA_DEVICE" "$device"
  fi
  ensure_dir "$DATA_DIR" 700
  # nofail: a dead or missing disk must not send the Pi to emergency mode (no SSH, no doctor).
  # The appliance still never writes onto the root instead: its unit requires this mount
  # (RequiresMountsFor=), so after the timeout it fails with the mount, and the doctor says so.
  ensure_line /etc/fstab "^[^#[:space:]]+[[:space:]]+${DATA_DIR}[[:space:]]" \
    "$DATA_DEVICE $DATA_DIR ext4 defaults,noatime,nofail,x-systemd.device-timeout=$DATA_DEVICE_TIMEOUT 0 2"
  if ((CHANGED)); then run systemctl daemon-reload; fi
  if [[ -z "$mounted_from" ]]; then
    run mount "$DATA_DIR"
    if ((!DRY_RUN)) && [[ "$(query findmnt -n -o SOURCE "$DATA_DIR" 2>/dev/null || true)" != "$device" ]]; then
      die "$DATA_DIR is not mounted from $device after \`mount $DATA_DIR\`: check /etc/fstab"
    fi
  fi
}

step_read_only_root() {
  ((READ_ONLY_ROOT)) || return 0
  log "== read-only root (overlay; the data partition stays a disk)"
  local cmdline current fixed
  cmdline="$(target "$CMDLINE")"
  current="$(cat "$cmdline" 2>/dev/null || true)"
  if ! grep -Eq '(^|[[:space:]])overlayroot=' <<<"$current"; then
    # raspi-config installs overlayroot and turns it on for the next boot. From then on, changes
    # to / vanish at reboot: to re-provision, `raspi-config nonint do_overlayfs 1`, reboot, run this.
    run raspi-config nonint do_overlayfs 0
    log "reboot to make the root file system read-only"
    if ((DRY_RUN)); then
      log "would set $OVERLAYROOT_TOKEN in $CMDLINE"
      return 0
    fi
    current="$(cat "$cmdline")"
  fi
  # raspi-config writes overlayroot=tmpfs, which also overlays every fstab mount with tmpfs:
  # the data partition's writes would go to RAM. recurse=0 leaves the other mounts alone.
  fixed="$(sed -E "s/(^|[[:space:]])overlayroot=[^[:space:]]*/\1$OVERLAYROOT_TOKEN/" <<<"$current")"
  printf '%s\n' "$fixed" | install_text "$CMDLINE" "$(file_mode "$cmdline" 755)"
  if ((CHANGED)); then log "$CMDLINE: $OVERLAYROOT_TOKEN (from the next boot)"; else log "overlay root already enabled ($OVERLAYROOT_TOKEN)"; fi
}

# Restarts the appliance when something it reads changed. A new release must then become healthy,
# or it is rolled back; only once it is are the releases older than the previous one removed.
step_restart() {
  if [[ -z "$RELEASE_SOURCE" ]]; then
    if ((RESTART_APPLIANCE)); then run systemctl restart "$UNIT"; fi
    return 0
  fi
  if ((RESTART_APPLIANCE)) && ((DRY_RUN)); then run systemctl restart "$UNIT"; fi
  if ((RESTART_APPLIANCE)) && ((!DRY_RUN)); then
    log "== restart on release $RELEASE_VERSION"
    if ! { run systemctl restart "$UNIT" && wait_healthy "$RELEASE_VERSION"; }; then roll_back_failed_release; fi
  fi
  prune_releases
}

# --rollback: current and previous swap, the unit restarts on the previous release.
rollback_main() {
  local current previous
  current="$(readlink "$(target "$CURRENT_LINK")" 2>/dev/null || true)"
  previous="$(readlink "$(target "$PREVIOUS_LINK")" 2>/dev/null || true)"
  [[ -n "$previous" && -d "$(target "$APP_DIR/$previous")" ]] ||
    die "no previous release to roll back to (${current:-nothing} is installed; $PREVIOUS_LINK is missing)"
  HTTPS_MODE="$(previous_setting PROCTOR_HTTPS_MODE)"
  PORT="$(previous_setting PROCTOR_PORT)"
  [[ -n "$HTTPS_MODE" ]] || HTTPS_MODE=local-ca
  if [[ -z "$PORT" ]]; then
    if [[ "$HTTPS_MODE" == off ]]; then PORT=80; else PORT=443; fi
  fi
  log "== rollback: $current -> $previous"
  if ((DRY_RUN)); then
    log "would switch $CURRENT_LINK to $previous (previous: $current) and restart $UNIT"
    return 0
  fi
  replace_link "$CURRENT_LINK" "$previous"
  replace_link "$PREVIOUS_LINK" "$current"
  CHANGES=$((CHANGES + 1))
  install_current_unit
  run systemctl restart "$UNIT" || true
  wait_healthy "$(app_version "$CURRENT_LINK")" ||
    die "$previous is not healthy after the rollback: see journalctl -u $UNIT; \`provision.sh --rollback\` again goes back to $current"
  log "rolled back to $previous; \`provision.sh --rollback\` again goes back to $current"
}

# Deletes PATH (under ROOT), a file, link or folder, when it is there.
remove_path() {
  local path
  path="$(target "$1")"
  [[ -e "$path" || -L "$path" ]] || return 0
  changed
  if ((DRY_RUN)); then
    log "would remove $1"
  else
    log "removing $1"
    rm -rf -- "$path"
  fi
}

# --uninstall: the service, the app and the box's commands go; the data and settings stay
# (unless --purge-data); the OS's packages and settings (chrony, avahi, access point, fstab) and
# the proctor user stay as provisioning left them.
uninstall_main() {
  log "== uninstall"
  local unit
  for unit in "$UNIT" "$AP_UNIT"; do
    if [[ -f "$(target "/etc/systemd/system/$unit")" ]]; then
      run systemctl disable --now "$unit" || true
      remove_path "/etc/systemd/system/$unit"
    fi
  done
  if ((CHANGES > 0)); then run systemctl daemon-reload; fi
  remove_path /usr/local/sbin/proctor-doctor
  remove_path /usr/local/sbin/proctor-appliance
  remove_path "$APP_DIR"
  if ((PURGE_DATA)); then
    local data
    data="$(target "$DATA_DIR")"
    if [[ -d "$data" ]] && query findmnt -n "$DATA_DIR" >/dev/null 2>&1; then
      # A data partition: empty it, keep the mount point.
      changed
      if ((DRY_RUN)); then log "would delete everything in $DATA_DIR (a mounted partition)"; else
        log "deleting everything in $DATA_DIR"
        find "$data" -mindepth 1 -delete
      fi
    else
      remove_path "$DATA_DIR"
    fi
    remove_path "$CONFIG_DIR"
    remove_path "$LOG_DIR"
    log "deleted the data folder $DATA_DIR, the settings in $CONFIG_DIR and the logs in $LOG_DIR"
  else
    log "kept the data folder $DATA_DIR (exams, answers, the box's keys and CA) and the settings in $CONFIG_DIR: --uninstall --purge-data deletes them too"
  fi
  log "left as they were: the $SERVICE_USER user, the Debian packages, chrony, avahi, journald, logrotate, access-point and fstab settings"
}

main() {
  parse_args "$@"
  choose_source
  if stubbed; then log "operating on $ROOT; system commands are stubbed ($STUB)"; fi
  case "$ACTION" in
    rollback) step_preflight; rollback_main; return 0 ;;
    uninstall) step_preflight; uninstall_main; finish; return 0 ;;
  esac
  check_settings
  export DEBIAN_FRONTEND=noninteractive
  step_preflight
  step_check_data_device
  step_packages
  step_node_version
  step_user
  if [[ -n "$RELEASE_SOURCE" ]]; then step_release; else step_app; fi
  step_settings
  step_units
  step_hostname
  step_chrony
  step_logs
  step_access_point
  step_data_partition
  step_read_only_root
  step_restart
  finish
}

finish() {
  if ((DRY_RUN)); then
    log "dry run: $CHANGES change(s) would be made"
  elif ((CHANGES == 0)); then
    log "nothing to change: the box is provisioned"
  elif [[ "$ACTION" == uninstall ]]; then
    log "done: $CHANGES change(s)"
  else
    log "done: $CHANGES change(s); check with: proctor-doctor"
  fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
