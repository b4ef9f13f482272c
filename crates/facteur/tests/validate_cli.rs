//! Behaviour of `facteur validate`: JSON lines, exit codes, directories.

use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_facteur"))
}

/// The shared EN 16931 corpus; its absence fails the test unless `FACTEUR_CORPUS_OPTIONAL=1`.
fn corpus() -> Option<PathBuf> {
    let dir = match std::env::var_os("FACTEUR_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    let found = dir.join("en16931").is_dir().then(|| dir.join("en16931"));
    if found.is_none() {
        eprintln!("EN 16931 corpus missing (set FACTEUR_CORPUS or provide ../shared/corpus)");
        assert!(
            std::env::var("FACTEUR_CORPUS_OPTIONAL").is_ok_and(|v| v == "1"),
            "corpus missing; set FACTEUR_CORPUS_OPTIONAL=1 to skip"
        );
    }
    found
}

fn lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

const BROKEN_UBL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:ID>F-1</cbc:ID>
  <cbc:DocumentCurrencyCode>AAA</cbc:DocumentCurrencyCode>
</Invoice>"#;

#[test]
fn fragment_reports_fatal_findings_as_json_and_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("broken.xml");
    std::fs::write(&f, BROKEN_UBL).expect("write");
    let out = bin()
        .args(["validate", "--format", "json"])
        .arg(&f)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = lines(&out);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["syntax"], "ubl");
    assert_eq!(v[0]["valid"], false);
    let fatal: Vec<&str> = v[0]["fatal"]
        .as_array()
        .expect("fatal")
        .iter()
        .filter_map(|x| x.as_str())
        .collect();
    for id in ["BR-01", "BR-03", "BR-CL-04"] {
        assert!(fatal.contains(&id), "{id} missing from {fatal:?}");
    }
    let mut sorted = fatal.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(fatal, sorted, "fatal ids sorted and unique");
    // The schema's findings (this fragment lacks required elements) are reported apart from the
    // rules', so `fatal` compares with the official Schematron's list.
    assert_eq!(v[0]["schema_valid"], false);
    let schema: Vec<&str> = v[0]["schema"]
        .as_array()
        .expect("schema")
        .iter()
        .filter_map(|x| x.as_str())
        .collect();
    assert!(schema.contains(&"XSD-REQUIRED"), "{schema:?}");
    assert!(fatal.iter().all(|id| !id.starts_with("XSD-")), "{fatal:?}");
    let finding = v[0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "BR-CL-04")
        .expect("BR-CL-04");
    assert_eq!(finding["severity"], "fatal");
    assert_eq!(finding["line"], 5);
    assert!(finding["message"]["fr"].as_str().is_some_and(|m| m.contains("AAA")));
}

#[test]
fn malformed_xml_is_invalid_not_an_io_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("bad.xml"), "<Invoice><oops></Invoice>").expect("write");
    std::fs::write(dir.path().join("ignored.txt"), "not scanned").expect("write");
    let out = bin()
        .args(["validate", "--format", "json"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let v = lines(&out);
    assert_eq!(v.len(), 1, "only *.xml / *.pdf are picked up in directories");
    assert_eq!(v[0]["fatal"][0], "FACTEUR-XML");
    assert_eq!(v[0]["syntax"], serde_json::Value::Null);
}

#[test]
fn missing_path_exits_2() {
    let out = bin()
        .args(["validate", "/nonexistent/facteur/x.xml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_format_exits_2() {
    let out = bin()
        .args(["validate", "--format", "yaml", "x.xml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn official_examples_are_valid_and_text_output_is_readable() {
    let Some(c) = corpus() else { return };
    let out = bin()
        .args(["validate", "--format", "json"])
        .arg(c.join("ubl/examples"))
        .arg(c.join("cii/examples"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let v = lines(&out);
    assert!(v.len() >= 20);
    assert!(
        v.iter()
            .all(|o| o["valid"] == true && o["fatal"].as_array().is_some_and(Vec::is_empty))
    );
    let text = bin().arg("validate").arg(c.join("cii/examples")).output().expect("run");
    let s = String::from_utf8_lossy(&text.stdout);
    assert!(s.contains("VALID") && s.contains("valid, 0 invalid"), "{s}");
}

#[test]
fn jobs_change_speed_not_output_and_zero_is_refused() {
    let Some(c) = corpus() else { return };
    let run = |jobs: &str| {
        bin()
            .args(["validate", "--format", "json", "--jobs", jobs])
            .arg(c.join("ubl/unit/invoice"))
            .output()
            .expect("run")
    };
    let one = run("1");
    let four = run("4");
    assert_eq!(one.status.code(), Some(1), "the unit fragments are invalid");
    assert_eq!(four.status.code(), one.status.code());
    assert!(lines(&one).len() > 100);
    assert_eq!(one.stdout, four.stdout, "same lines, in the same (input) order");
    let zero = bin().args(["validate", "--jobs", "0", "x.xml"]).output().expect("run");
    assert_eq!(zero.status.code(), Some(2));
}
