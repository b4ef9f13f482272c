//! `facteur convert`: UBL ↔ CII through the binary, with clear failures.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::path::PathBuf;
use std::process::Command;

use facteur_einvoice::model::Invoice;
use facteur_einvoice::xml::{self, Syntax};

fn corpus_file(rel: &str) -> PathBuf {
    let base = match std::env::var("FACTEUR_CORPUS") {
        Ok(p) => PathBuf::from(p),
        Err(_) => std::env::var("FACTEUR_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
            .join("corpus"),
    };
    base.join("en16931").join(rel)
}

fn facteur() -> Command {
    Command::new(env!("CARGO_BIN_EXE_facteur"))
}

fn strict(bytes: &[u8]) -> (Syntax, Invoice) {
    let (syntax, draft) = xml::read_xml(bytes).unwrap();
    (syntax, Invoice::try_from(&draft).unwrap())
}

/// `invoice` as it reads after a trip through CII: the CII schema requires the gross price (BT-148)
/// beside a price discount (BT-147), so the writer states it, as net price + discount.
fn with_gross_prices(mut invoice: Invoice) -> Invoice {
    for line in &mut invoice.lines {
        let p = &mut line.price;
        if p.gross_price.is_none() {
            p.gross_price = p.discount.map(|d| p.net_price + d);
        }
    }
    invoice
}

#[test]
fn ubl_to_cii_and_back_keeps_the_invoice() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus_file("ubl/examples/ubl-tc434-example2.xml");
    let cii = dir.path().join("out-cii.xml");
    let ubl = dir.path().join("out-ubl.xml");

    let st = facteur()
        .args(["convert", "--to", "cii"])
        .arg(&input)
        .arg(&cii)
        .status()
        .unwrap();
    assert!(st.success());
    let st = facteur()
        .args(["convert", "--to", "ubl"])
        .arg(&cii)
        .arg(&ubl)
        .status()
        .unwrap();
    assert!(st.success());

    let (_, original) = strict(&std::fs::read(&input).unwrap());
    // Example 2 has a line with a discount and no gross price.
    assert!(
        original
            .lines
            .iter()
            .any(|l| l.price.discount.is_some() && l.price.gross_price.is_none())
    );
    let original = with_gross_prices(original);
    let (s1, via_cii) = strict(&std::fs::read(&cii).unwrap());
    let (s2, back) = strict(&std::fs::read(&ubl).unwrap());
    assert_eq!((s1, s2), (Syntax::Cii, Syntax::Ubl));
    assert_eq!(via_cii, original);
    assert_eq!(back, original);
}

#[test]
fn incomplete_input_fails_with_the_missing_terms() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("fragment.xml");
    std::fs::write(
        &input,
        r#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"><cbc:ID>1</cbc:ID></Invoice>"#,
    )
    .unwrap();
    let out = dir.path().join("out.xml");
    let o = facteur()
        .args(["convert", "--to", "cii"])
        .arg(&input)
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("BT-2 missing"), "{err}");
    assert!(err.contains("BG-4 missing"), "{err}");
    assert!(!out.exists());
}

#[test]
fn bad_target_and_missing_file_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.xml");
    let input = corpus_file("ubl/examples/ubl-tc434-example2.xml");
    let o = facteur()
        .args(["convert", "--to", "pdf"])
        .arg(&input)
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = facteur()
        .args(["convert", "--to", "ubl"])
        .arg(dir.path().join("nope.xml"))
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn hostile_input_is_refused_not_converted() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("xxe.xml");
    std::fs::write(
        &input,
        r#"<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&e;</Invoice>"#,
    )
    .unwrap();
    let out = dir.path().join("o.xml");
    let o = facteur()
        .args(["convert", "--to", "cii"])
        .arg(&input)
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("DTD"));
}

#[test]
fn ubl_to_facturx_embeds_the_cii_invoice() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus_file("ubl/examples/ubl-tc434-example2.xml");
    let pdf = dir.path().join("out.pdf");
    let o = facteur()
        .args(["convert", "--to", "facturx"])
        .arg(&input)
        .arg(&pdf)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let embedded = facteur_einvoice::facturx::extract(&bytes).unwrap();
    let (syntax, inv) = strict(&embedded.xml);
    assert_eq!(syntax, Syntax::Cii);
    let original = with_gross_prices(strict(&std::fs::read(&input).unwrap()).1);
    assert_eq!(inv, original);
    // And the PDF converts back to UBL.
    let back = dir.path().join("back.xml");
    let st = facteur()
        .args(["convert", "--to", "ubl"])
        .arg(&pdf)
        .arg(&back)
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(strict(&std::fs::read(&back).unwrap()).1, original);
}
