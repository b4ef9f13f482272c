#!/usr/bin/env bash
# Bounded fuzzing of the hostile-input parsers (UBL reader, CII reader, Factur-X PDF extractor).
# Runs each target for FACTEUR_FUZZ_SECONDS (default 30) with libFuzzer on stable Rust (`-s none`: no
# sanitizer, which would need nightly). Installs cargo-fuzz from crates.io when it is missing.
# Seeds come from the shared corpus when it is beside the repository (read in place, never copied).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${FACTEUR_FUZZ_SECONDS:-30}
SHARED=${FACTEUR_SHARED:-$PWD/../shared}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install --locked cargo-fuzz >/dev/null
fi

seed_dirs() { # target
  case "$1" in
    ubl_reader) echo "$SHARED/corpus/en16931/ubl/examples $SHARED/corpus/en16931/ubl/testfiles" ;;
    cii_reader) echo "$SHARED/corpus/en16931/cii/examples $SHARED/corpus/facturx/xml" ;;
    pdf_extract) echo "$SHARED/corpus/facturx/pdf" ;;
  esac
}

cd fuzz
cargo fuzz build -s none
for target in ubl_reader cii_reader pdf_extract; do
  work=$(mktemp -d)
  seeds=()
  for d in $(seed_dirs "$target"); do [[ -d "$d" ]] && seeds+=("$d"); done
  echo "fuzz: $target for ${SECONDS_PER_TARGET}s (seeds: ${seeds[*]:-none})"
  # The first directory is where libFuzzer writes new inputs; the seed directories are only read.
  cargo fuzz run -s none "$target" "$work" "${seeds[@]}" -- \
    -max_total_time="$SECONDS_PER_TARGET" -max_len=1048576 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    2>&1 | tail -n 12
  rm -rf "$work"
done
echo "fuzz: all targets ran without a crash"
