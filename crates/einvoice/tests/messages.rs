//! Findings say what to fix: code-list findings name the list, and the note subject codes of UBL
//! (BR-CL-08, `#XXX#` at the head of `cbc:Note`) are checked. Mutations of an official example that the
//! official rules accept.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::corpus_dir;
use facteur_einvoice::validate::{Report, Severity, validate_xml};

/// The official UBL example, valid as it stands, with `from` replaced by `to`.
fn example_with(from: &str, to: &str) -> Report {
    let path = corpus_dir().join("en16931/ubl/examples/guide-example3.xml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared corpus is needed; see FACTEUR_CORPUS)",
            path.display()
        )
    });
    assert!(text.contains(from), "the example still holds {from:?}");
    validate_xml(text.replacen(from, to, 1).as_bytes())
}

fn message(report: &Report, rule: &str) -> String {
    let f = report
        .findings
        .iter()
        .find(|f| f.rule == rule)
        .unwrap_or_else(|| panic!("{rule} not reported: {:?}", report.ids(Severity::Fatal)));
    format!("{} | {}", f.message_en, f.message_fr)
}

#[test]
fn the_example_is_valid_as_it_stands() {
    let r = example_with("<cbc:Note>", "<cbc:Note>");
    assert!(r.is_valid(), "{:?}", r.ids(Severity::Fatal));
}

#[test]
fn an_unknown_note_subject_code_is_reported() {
    let r = example_with("<cbc:Note>Contract", "<cbc:Note>#QQQ#Contract");
    assert_eq!(r.ids(Severity::Fatal), ["BR-CL-08"]);
    let m = message(&r, "BR-CL-08");
    assert!(m.contains("'QQQ'") && m.contains("UNTDID 4451"), "{m}");
    // A listed code, a text that is not a three-character code, or no '#': nothing to report.
    for ok in ["#AAI#Contract", "#AB#Contract", "Contract #QQQ", "Contract##QQQ"] {
        let r = example_with("<cbc:Note>Contract", &format!("<cbc:Note>{ok}"));
        assert!(r.is_valid(), "{ok}: {:?}", r.ids(Severity::Fatal));
    }
}

#[test]
fn code_list_findings_name_the_list_and_the_value() {
    let r = example_with("<cbc:DocumentCurrencyCode>DKK<", "<cbc:DocumentCurrencyCode>EUX<");
    let m = message(&r, "BR-CL-04");
    assert!(
        m.contains("'EUX'") && m.contains("ISO 4217 currency codes") && m.contains("« EUX »"),
        "{m}"
    );
}
