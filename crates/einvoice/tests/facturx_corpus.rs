//! Every Factur-X PDF of the shared corpus is read as its manifest says.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::corpus_dir;
use facteur_einvoice::facturx::{self, FacturxError, Profile};
use sha2::{Digest, Sha256};

fn manifest() -> Vec<serde_json::Value> {
    let path = corpus_dir().join("facturx/expected.jsonl");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("corpus manifest {} unreadable: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("manifest line is JSON"))
        .collect()
}

fn read(rel: &str) -> Vec<u8> {
    let path = corpus_dir().join("facturx").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn corpus_pdfs_match_manifest() {
    let entries: Vec<_> = manifest()
        .into_iter()
        .filter(|e| e["file"].as_str().is_some_and(|f| f.starts_with("pdf/")))
        .collect();
    assert!(
        entries.len() >= 14,
        "expected the whole PDF corpus, got {}",
        entries.len()
    );
    let mut with_xml = 0;
    for entry in &entries {
        let file = entry["file"].as_str().unwrap();
        let result = facturx::extract(&read(file));
        if entry["embedded_xml"].is_null() {
            let err = result.expect_err(file);
            assert_eq!(err, FacturxError::NoXmlAttachment, "{file}");
            let expect = entry["expect"].as_str().unwrap();
            assert!(err.to_string().contains(expect), "{file}: {err}");
            continue;
        }
        with_xml += 1;
        let got = result.unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(got.name, entry["embedded_xml"].as_str().unwrap(), "{file}");
        assert_eq!(
            got.xml.len() as u64,
            entry["embedded_xml_bytes"].as_u64().unwrap(),
            "{file}"
        );
        assert_eq!(
            hex::encode(Sha256::digest(&got.xml)),
            entry["embedded_xml_sha256"].as_str().unwrap(),
            "{file}"
        );
        let level = entry["level"].as_str().unwrap();
        assert_eq!(got.guideline_profile().map(Profile::as_str), Some(level), "{file}");
        assert!(got.relationship.is_some(), "{file}: no AFRelationship");
        if let Some(xmp) = entry["xmp_conformance_level"].as_str() {
            assert_eq!(got.xmp_conformance.as_deref(), Some(xmp), "{file}");
            assert_eq!(got.xmp_profile.map(Profile::as_str), Some(level), "{file}");
        }
    }
    assert_eq!(with_xml, entries.len() - 1);
}

#[test]
fn relationships_are_reported_as_written() {
    let official = facturx::extract(&read("pdf/official-CII_example1.pdf")).unwrap();
    assert_eq!(official.relationship.as_deref(), Some("Data"));
    // The akretion sample carries a second (PDF) attachment first and marks the XML `Source`.
    let akretion = facturx::extract(&read("pdf/akretion-invoice_EN16931.pdf")).unwrap();
    assert_eq!(akretion.name, "factur-x.xml");
    assert_eq!(akretion.relationship.as_deref(), Some("Source"));
    assert_eq!(akretion.xmp_conformance.as_deref(), Some("EN 16931"));
}

#[test]
fn corpus_xml_profiles_match_manifest() {
    let mut seen = 0;
    for entry in manifest() {
        if entry["kind"] != "facturx-xml" {
            continue;
        }
        let file = entry["file"].as_str().unwrap();
        let level = entry["level"].as_str().unwrap();
        assert_eq!(
            facturx::guideline_profile(&read(file)).map(Profile::as_str),
            Some(level),
            "{file}"
        );
        seen += 1;
    }
    assert_eq!(seen, 5, "one sample per Factur-X profile");
}
