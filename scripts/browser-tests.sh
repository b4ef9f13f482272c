#!/usr/bin/env bash
# Browser journeys of the portal: sign-up → activation (link read from the mail) → login →
# attachment request approved by the manager → directory search, in Debian's Chromium driven by
# playwright-core, against the real `facteur` binary on a free loopback port with a temp data dir.
#
# Installs what is missing (Debian chromium, the npm lockfile's packages); never downloads a
# browser through npm. Screenshots go to $BROWSER_ARTIFACTS (default target/browser-artifacts).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/bin/chromium}
if [[ ! -x "$CHROMIUM_PATH" ]]; then
  echo "browser-tests: installing Debian chromium"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# Never let playwright fetch its own browsers.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [[ ! -d tests/browser/node_modules/playwright-core ]]; then
  (cd tests/browser && npm ci --no-audit --no-fund)
fi

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# test-all.sh passes the binary its test build already made (FACTEUR_BIN); alone, build it.
if [[ -z "${FACTEUR_BIN:-}" ]]; then
  echo "browser-tests: building facteur"
  cargo build -p facteur --bin facteur
  FACTEUR_BIN="$TARGET_DIR/debug/facteur"
fi
export FACTEUR_BIN
export CHROMIUM_PATH
export BROWSER_ARTIFACTS=${BROWSER_ARTIFACTS:-$TARGET_DIR/browser-artifacts}
mkdir -p "$BROWSER_ARTIFACTS"

cd tests/browser
node --test --test-concurrency=1 journey.test.mjs
