#!/usr/bin/env bash
# The full test suite: what the README's test command and CI (.ci/run) run.
#
#  1. makes sure a PostgreSQL server answers (the machine's own on 127.0.0.1:5432, or a throwaway
#     one started here with initdb/pg_ctl), so the store suite never silently skips PostgreSQL;
#  2. runs every Rust test of the workspace (SQLite always, PostgreSQL through FACTEUR_TEST_PG_URL);
#  3. with FACTEUR_FUZZ=1, runs the fuzz targets for a bounded time (off by default: the instrumented
#     release build of the engine has not yet been measured to fit CI's 30-minute budget);
#  4. runs the browser journeys in Debian's Chromium with playwright-core.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

# --- 1. PostgreSQL --------------------------------------------------------------------------------
source scripts/lib/postgres.sh
ensure_postgres
echo "test-all: PostgreSQL at $FACTEUR_TEST_PG_URL"

# --- 2. Rust tests --------------------------------------------------------------------------------
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi

# --- 3. fuzz (bounded) ----------------------------------------------------------------------------
if [[ "${FACTEUR_FUZZ:-0}" == 1 ]]; then
  scripts/fuzz.sh
fi

# --- 4. browser journeys --------------------------------------------------------------------------
if [[ -x scripts/browser-tests.sh ]]; then
  scripts/browser-tests.sh
fi
echo "test-all: done"
