#!/usr/bin/env bash
# The full test suite: what the README's test command and CI (.ci/run) run.
#
#  0. checks the formatting (cargo fmt --check) and the lints (clippy, warnings denied);
#  1. makes sure a PostgreSQL server answers (the machine's own on 127.0.0.1:5432, or a throwaway
#     one started here with initdb/pg_ctl), so the store suite never silently skips PostgreSQL;
#  2. runs every Rust test of the workspace (SQLite always, PostgreSQL through FACTEUR_TEST_PG_URL);
#  3. runs the three fuzz targets (UBL reader, CII reader, Factur-X extractor) for a bounded time,
#     FACTEUR_FUZZ_SECONDS each (default 60). Build + runs measured at 5.3-6.7 minutes from a clean
#     fuzz/target on a shared 2-core machine, plus about 2 minutes once per machine to install
#     cargo-fuzz (see scripts/fuzz.sh). A crash fails the suite; FACTEUR_FUZZ=0 skips this step;
#  4. runs the browser journeys in Debian's Chromium with playwright-core.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

# --- 0. formatting and lints ----------------------------------------------------------------------
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings

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
if [[ "${FACTEUR_FUZZ:-1}" != 0 ]]; then
  scripts/fuzz.sh
else
  echo "test-all: fuzzing skipped (FACTEUR_FUZZ=0)"
fi

# --- 4. browser journeys --------------------------------------------------------------------------
if [[ -x scripts/browser-tests.sh ]]; then
  scripts/browser-tests.sh
fi
echo "test-all: done"
