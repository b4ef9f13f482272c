//! Parity with the official EN 16931 artefacts (v1.3.16) on the shared corpus.
//!
//! The manifest is read from `$FACTEUR_CORPUS/en16931/expected.jsonl` or `<repo>/../shared/corpus`. When it
//! is missing the tests fail, unless `FACTEUR_CORPUS_OPTIONAL=1`.
//!
//! - `parity_full` (the acceptance test) asserts exact agreement on every file: the same fatal and
//!   warning rule ids as the official Schematron (our schema findings `XSD-*` left out), and the same
//!   schema validity as the manifest's `xsd_valid` (lxml's validation against the UBL 2.1 / CII D16B XSDs).
//! - `parity_no_regression` asserts exact agreement on every file listed in `tests/parity-baseline.txt`;
//!   `FACTEUR_UPDATE_BASELINE=1` rewrites that list with the files that agree now.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use facteur_einvoice::validate::{Severity, validate_xml};

struct Row {
    file: String,
    syntax: String,
    kind: String,
    fatal: BTreeSet<String>,
    warning: BTreeSet<String>,
    oracle_error: bool,
    xsd_valid: bool,
}

struct Outcome {
    row: Row,
    ok: bool,
    schema_ok: bool,
    missed: Vec<String>,
    extra: Vec<String>,
}

fn corpus_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("FACTEUR_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    dir.join("en16931/expected.jsonl")
        .is_file()
        .then_some(dir.join("en16931"))
}

fn strings(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

fn run() -> Option<Vec<Outcome>> {
    let Some(dir) = corpus_dir() else {
        eprintln!("EN 16931 corpus missing (set FACTEUR_CORPUS or provide ../shared/corpus)");
        assert!(
            std::env::var("FACTEUR_CORPUS_OPTIONAL").is_ok_and(|v| v == "1"),
            "corpus missing; set FACTEUR_CORPUS_OPTIONAL=1 to skip"
        );
        return None;
    };
    let manifest = std::fs::read_to_string(dir.join("expected.jsonl")).expect("manifest");
    let mut out = Vec::new();
    for line in manifest.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("manifest line");
        let row = Row {
            file: v["file"].as_str().expect("file").to_owned(),
            syntax: v["syntax"].as_str().unwrap_or("?").to_owned(),
            kind: v["kind"].as_str().unwrap_or("?").to_owned(),
            fatal: strings(&v["fatal"]),
            warning: strings(&v["warning"]),
            oracle_error: v["oracle_error"].as_bool().unwrap_or(false)
                || v.get("oracle_error").is_some_and(|x| !x.is_null() && x != false),
            xsd_valid: v["xsd_valid"].as_bool().expect("xsd_valid in the manifest"),
        };
        let bytes = std::fs::read(dir.join(&row.file)).expect("corpus file");
        let report = validate_xml(&bytes);
        let gf: BTreeSet<String> = report
            .rule_ids(Severity::Fatal)
            .into_iter()
            .map(str::to_owned)
            .collect();
        let gw: BTreeSet<String> = report
            .rule_ids(Severity::Warning)
            .into_iter()
            .map(str::to_owned)
            .collect();
        let schema_ok = report.schema_valid() == row.xsd_valid;
        let (ok, missed, extra) = if row.oracle_error {
            (!report.is_valid() && schema_ok, vec![], vec![])
        } else {
            let exp: BTreeSet<&String> = row.fatal.iter().chain(&row.warning).collect();
            let got: BTreeSet<&String> = gf.iter().chain(&gw).collect();
            let official_valid = row.xsd_valid && row.fatal.is_empty();
            (
                gf == row.fatal && gw == row.warning && schema_ok && report.is_valid() == official_valid,
                exp.difference(&got).map(|s| (*s).clone()).collect(),
                got.difference(&exp).map(|s| (*s).clone()).collect(),
            )
        };
        out.push(Outcome {
            row,
            ok,
            schema_ok,
            missed,
            extra,
        });
    }
    print_summary(&out);
    Some(out)
}

fn print_summary(out: &[Outcome]) {
    let mut per: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    let mut missed: BTreeMap<String, usize> = BTreeMap::new();
    let mut extra: BTreeMap<String, usize> = BTreeMap::new();
    for o in out {
        let e = per.entry((o.row.syntax.clone(), o.row.kind.clone())).or_default();
        e.1 += 1;
        e.0 += usize::from(o.ok);
        for m in &o.missed {
            *missed.entry(m.clone()).or_default() += 1;
        }
        for m in &o.extra {
            *extra.entry(m.clone()).or_default() += 1;
        }
    }
    for ((s, k), (ok, n)) in &per {
        println!("  {s}/{k}: {ok}/{n}");
    }
    let top = |m: &BTreeMap<String, usize>| {
        let mut v: Vec<_> = m.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        v.iter()
            .take(25)
            .map(|(k, n)| format!("{k}x{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("  most missed: {}", top(&missed));
    println!("  most wrongly fired: {}", top(&extra));
    for o in out.iter().filter(|o| !o.ok).take(20) {
        println!(
            "  disagrees: {} missed {:?} extra {:?}, schema verdict agrees: {}",
            o.row.file, o.missed, o.extra, o.schema_ok
        );
    }
    let schema = out.iter().filter(|o| o.schema_ok).count();
    let invalid = out.iter().filter(|o| !o.row.xsd_valid).count();
    println!(
        "{schema}/{} files: same schema validity as lxml ({invalid} schema-invalid)",
        out.len()
    );
    let ok = out.iter().filter(|o| o.ok).count();
    println!("{ok}/{} files agree exactly", out.len());
}

fn baseline_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/parity-baseline.txt")
}

#[test]
fn parity_full() {
    let Some(out) = run() else { return };
    let bad: Vec<&str> = out.iter().filter(|o| !o.ok).map(|o| o.row.file.as_str()).collect();
    assert!(
        bad.is_empty(),
        "{} files disagree, e.g. {:?}",
        bad.len(),
        &bad[..bad.len().min(10)]
    );
}

#[test]
fn parity_no_regression() {
    let Some(out) = run() else { return };
    if std::env::var("FACTEUR_UPDATE_BASELINE").is_ok_and(|v| v == "1") {
        let mut list: Vec<&str> = out.iter().filter(|o| o.ok).map(|o| o.row.file.as_str()).collect();
        list.sort_unstable();
        std::fs::write(baseline_path(), list.join("\n") + "\n").expect("write baseline");
        println!("baseline rewritten: {} files", list.len());
        return;
    }
    let baseline = std::fs::read_to_string(baseline_path()).unwrap_or_default();
    let by_file: BTreeMap<&str, &Outcome> = out.iter().map(|o| (o.row.file.as_str(), o)).collect();
    let mut regressions = Vec::new();
    for f in baseline.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match by_file.get(f) {
            Some(o) if o.ok => {}
            Some(o) => regressions.push(format!("{f}: missed {:?}, extra {:?}", o.missed, o.extra)),
            None => regressions.push(format!("{f}: not in the manifest")),
        }
    }
    assert!(
        regressions.is_empty(),
        "{} regressions:\n{}",
        regressions.len(),
        regressions.join("\n")
    );
}
