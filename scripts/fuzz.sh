#!/usr/bin/env bash
# Bounded fuzzing of the hostile-input parsers (UBL reader, CII reader, Factur-X PDF extractor).
#
# Builds the three cargo-fuzz targets of fuzz/ once, then runs each for FACTEUR_FUZZ_SECONDS
# (default 60) with libFuzzer, coverage-guided, on stable Rust (`-s none`: no sanitizer, which would
# need nightly; Facteur forbids `unsafe`; debug assertions and overflow checks stay on).
# The fuzz crate uses facteur-einvoice without its `generate` feature (no krilla, no fonts), and
# fuzz/Cargo.toml lowers lopdf's optimisation, whose instrumented build otherwise dominates.
# Measured from a clean fuzz/target on a shared 2-core machine: build 2.2-3.6 minutes, then 3 x 1
# minute of fuzzing. Installs cargo-fuzz from crates.io when it is missing (about 2 minutes, once
# per machine).
#
# Seeds come from the shared corpus when it is beside the repository (read in place, never copied);
# inputs libFuzzer finds interesting go to a temporary directory that is removed afterwards.
# A crash, a timeout (-timeout) or an out-of-memory (-rss_limit_mb) fails the script, after every
# target has run; the failing input is kept in fuzz/artifacts/<target>/ (cargo-fuzz's place,
# git-ignored), printed in base64 when small, with the command that reproduces it. Full logs are in
# fuzz/target/fuzz-logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${FACTEUR_FUZZ_SECONDS:-60}
SHARED=${FACTEUR_SHARED:-$PWD/../shared}
# The same options for `build` and `run`: otherwise `cargo fuzz run` rebuilds with other flags.
BUILD_OPTS=(-s none)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install --locked --version 0.13.2 cargo-fuzz >/dev/null
fi

seed_dirs() { # target
  case "$1" in
    ubl_reader) echo "$SHARED/corpus/en16931/ubl/examples $SHARED/corpus/en16931/ubl/testfiles" ;;
    cii_reader) echo "$SHARED/corpus/en16931/cii/examples $SHARED/corpus/facturx/xml" ;;
    pdf_extract) echo "$SHARED/corpus/facturx/pdf" ;;
  esac
}

cd fuzz
start=$SECONDS
cargo fuzz build "${BUILD_OPTS[@]}"
echo "fuzz: build took $((SECONDS - start))s"
logs=$PWD/target/fuzz-logs
mkdir -p "$logs"
failed=()
for target in ubl_reader cii_reader pdf_extract; do
  work=$(mktemp -d)
  seeds=()
  for d in $(seed_dirs "$target"); do [[ -d "$d" ]] && seeds+=("$d"); done
  log=$logs/$target.log
  mkdir -p "artifacts/$target"
  started=$(mktemp) # artifacts newer than this file are this run's
  echo "fuzz: $target for ${SECONDS_PER_TARGET}s (seeds: ${seeds[*]:-none})"
  # The first directory is where libFuzzer writes new inputs; the seed directories are only read.
  # Output goes to a file rather than through `| tail`, so the status tested is cargo-fuzz's own.
  if cargo fuzz run "${BUILD_OPTS[@]}" "$target" "$work" "${seeds[@]}" -- \
    -max_total_time="$SECONDS_PER_TARGET" -max_len=1048576 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    >"$log" 2>&1; then
    # Coverage at start and end, executions, new inputs, memory.
    grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" || true
  else
    status=$?
    tail -n 80 "$log"
    echo "fuzz: $target FAILED (exit $status); full log: fuzz/target/fuzz-logs/$target.log"
    while IFS= read -r artifact; do
      echo "fuzz: failing input fuzz/$artifact ($(wc -c <"$artifact") bytes)"
      if (($(wc -c <"$artifact") <= 65536)); then
        echo "fuzz: base64 (decode with \`base64 -d > crash\`):"
        base64 -w 0 "$artifact"
        echo
      fi
      echo "fuzz: reproduce with: (cd fuzz && cargo fuzz run ${BUILD_OPTS[*]} $target $artifact)"
    done < <(find "artifacts/$target" -type f -newer "$started")
    failed+=("$target")
  fi
  rm -rf "$work" "$started"
done
echo "fuzz: build and runs took $((SECONDS - start))s"
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: all targets ran without a crash"
