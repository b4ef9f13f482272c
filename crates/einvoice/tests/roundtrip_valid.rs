//! Converting a valid corpus file to the other syntax (and back) keeps it valid for the EN 16931
//! validator: conversion must not introduce a fatal finding.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::path::PathBuf;

use facteur_einvoice::model::Invoice;
use facteur_einvoice::validate::{self, Severity};
use facteur_einvoice::xml::{self, Syntax};
use facteur_einvoice::{cii, ubl};

fn corpus_dir(rel: &str) -> PathBuf {
    let base = match std::env::var("FACTEUR_CORPUS") {
        Ok(p) => PathBuf::from(p),
        Err(_) => std::env::var("FACTEUR_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
            .join("corpus"),
    };
    base.join("en16931").join(rel)
}

fn files(rel: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(corpus_dir(rel))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    v.sort();
    v
}

fn write(syntax: Syntax, inv: &Invoice) -> String {
    match syntax {
        Syntax::Ubl => ubl::write(inv),
        Syntax::Cii => cii::write(inv),
    }
}

#[test]
fn valid_corpus_stays_valid_through_the_other_syntax() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for dir in ["ubl/examples", "ubl/testfiles", "cii/examples"] {
        for path in files(dir) {
            let bytes = std::fs::read(&path).unwrap();
            // The corpus says these are valid; only hold the conversion to what our validator
            // itself accepts in the original, so a validator gap is not blamed on the writer.
            let original = validate::validate_xml(&bytes);
            if !original.is_valid() {
                continue;
            }
            let (syntax, draft) = xml::read_xml(&bytes).unwrap();
            let inv = Invoice::try_from(&draft).unwrap();
            let other = match syntax {
                Syntax::Ubl => Syntax::Cii,
                Syntax::Cii => Syntax::Ubl,
            };
            let converted = write(other, &inv);
            let (_, d2) = xml::read_xml(converted.as_bytes()).unwrap();
            let back = write(syntax, &Invoice::try_from(&d2).unwrap());
            for (label, text) in [("converted", &converted), ("converted back", &back)] {
                let report = validate::validate_xml(text.as_bytes());
                if !report.is_valid() {
                    let why: Vec<String> = report
                        .findings
                        .iter()
                        .filter(|f| f.severity == Severity::Fatal)
                        .map(|f| format!("{} at {}: {}", f.rule, f.path, f.message_en))
                        .collect();
                    failures.push(format!(
                        "{} {label}: fatal {:?}\n    {}",
                        path.display(),
                        report.ids(Severity::Fatal),
                        why.join("\n    ")
                    ));
                }
            }
            checked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} conversions lost validity:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        checked >= 30,
        "only {checked} corpus files accepted by the validator to start with"
    );
}
