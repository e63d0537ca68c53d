#!/usr/bin/env bash
# The whole test suite (`npm test`), on a fresh Debian 12 machine too: installs what the tests
# need when it is missing (scripts/toolchain.sh: Debian packages, Node.js 24, node_modules), then
# runs Vitest on Node.js 24. Arguments go to Vitest (`npm test -- client/e2e/chaos.test.ts`).
set -euo pipefail

# shellcheck source=scripts/toolchain.sh
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"

main() {
  ensure_toolchain
  cd "$TOOLCHAIN_ROOT"
  exec node node_modules/vitest/vitest.mjs run "$@"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
