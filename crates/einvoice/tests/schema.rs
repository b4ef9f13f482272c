//! The schema step (UBL 2.1 / CII D16B XSDs) on one-change mutations of official examples: each case is
//! one of the malformed documents the issue lists, with the finding it must produce, and every one must
//! still get the rules' findings (a schema error does not stop the rules).
//!
//! Whether each mutated document is schema-valid was checked with lxml's XMLSchema (the reference of the
//! official process) when the cases were written; `parity` checks the same on the whole corpus and
//! `scripts/mutants.py` on random mutants.

mod common;

use facteur_einvoice::validate::{Finding, Report, Severity, validate_xml};

fn example(rel: &str) -> String {
    let path = common::corpus_dir().join("en16931").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const UBL: &str = "ubl/examples/guide-example3.xml";
const CII: &str = "cii/examples/CII_business_example_01.xml";

/// `example` with `from` replaced once by `to` (the test fails when `from` is not there).
fn mutated(rel: &str, from: &str, to: &str) -> Report {
    let src = example(rel);
    assert!(src.contains(from), "{rel} has no {from:?}");
    validate_xml(src.replacen(from, to, 1).as_bytes())
}

fn schema_findings(r: &Report) -> Vec<&Finding> {
    r.findings.iter().filter(|f| f.rule.starts_with("XSD-")).collect()
}

/// Exactly one schema finding, of id `rule`, at a path ending with `path_end`; returns it.
fn one<'r>(r: &'r Report, rule: &str, path_end: &str) -> &'r Finding {
    let found = schema_findings(r);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = found[0];
    assert_eq!(f.rule, rule, "{f:#?}");
    assert_eq!(f.severity, Severity::Fatal);
    assert!(f.path.ends_with(path_end), "{} does not end with {path_end}", f.path);
    assert!(f.line > 0);
    assert!(!f.message_fr.is_empty() && !f.message_en.is_empty());
    assert!(!r.is_valid() && !r.schema_valid());
    f
}

#[test]
fn the_examples_are_schema_valid() {
    for rel in [UBL, CII] {
        let r = validate_xml(example(rel).as_bytes());
        assert!(r.schema_valid() && r.is_valid(), "{rel}: {:#?}", r.findings);
    }
}

#[test]
fn a_duplicated_payable_amount_is_a_cardinality_error_and_the_rules_still_run() {
    let line = r#"<cbc:PayableAmount currencyID="DKK">1125.00</cbc:PayableAmount>"#;
    let r = mutated(UBL, line, &format!("{line}\n{line}"));
    let f = one(&r, "XSD-CARDINALITY", "cac:LegalMonetaryTotal/cbc:PayableAmount[2]");
    assert!(f.message_en.contains("only once"), "{}", f.message_en);
    // The same document with a wrong tax-inclusive total: BR-CO-15 is reported beside the schema error.
    let src = example(UBL).replacen(line, &format!("{line}\n{line}"), 1).replacen(
        r#"<cbc:TaxInclusiveAmount currencyID="DKK">1125.00"#,
        r#"<cbc:TaxInclusiveAmount currencyID="DKK">1126.00"#,
        1,
    );
    let r = validate_xml(src.as_bytes());
    let fatal = r.ids(Severity::Fatal);
    assert!(
        fatal.contains(&"XSD-CARDINALITY") && fatal.contains(&"BR-CO-15"),
        "{fatal:?}"
    );
}

#[test]
fn an_issue_date_with_a_time_or_in_another_format_is_a_type_error() {
    for bad in ["2025-07-13T10:00:00", "15.07.2026", "2013-02-30", " 2013-04-10"] {
        let r = mutated(UBL, "<cbc:IssueDate>2013-04-10<", &format!("<cbc:IssueDate>{bad}<"));
        let f = one(&r, "XSD-TYPE", "/ubl:Invoice/cbc:IssueDate");
        assert!(f.message_fr.contains("AAAA-MM-JJ"), "{}", f.message_fr);
    }
    // A time zone is a valid xs:date.
    let r = mutated(UBL, "<cbc:IssueDate>2013-04-10<", "<cbc:IssueDate>2013-04-10+01:00<");
    assert!(schema_findings(&r).is_empty(), "{:#?}", r.findings);
}

#[test]
fn an_empty_amount_a_yes_indicator_and_a_missing_currency_are_refused() {
    let r = mutated(
        UBL,
        r#"<cbc:Amount currencyID="DKK">100.00</cbc:Amount>"#,
        r#"<cbc:Amount currencyID="DKK"></cbc:Amount>"#,
    );
    one(&r, "XSD-TYPE", "cac:AllowanceCharge/cbc:Amount");
    let r = mutated(UBL, "<cbc:ChargeIndicator>true<", "<cbc:ChargeIndicator>yes<");
    let f = one(&r, "XSD-TYPE", "cac:AllowanceCharge/cbc:ChargeIndicator");
    assert!(f.message_en.contains("true or false"), "{}", f.message_en);
    let r = mutated(UBL, r#"<cbc:Amount currencyID="DKK">100.00"#, "<cbc:Amount>100.00");
    let f = one(&r, "XSD-REQUIRED", "cac:AllowanceCharge/cbc:Amount");
    assert!(f.message_en.contains("currencyID"), "{}", f.message_en);
    let r = mutated(
        UBL,
        r#"<cbc:Amount currencyID="DKK">"#,
        r#"<cbc:Amount currencyID="DKK" unit="x">"#,
    );
    one(&r, "XSD-UNKNOWN", "cac:AllowanceCharge/cbc:Amount");
}

#[test]
fn elements_out_of_order_missing_or_unknown() {
    // DueDate before IssueDate.
    let src = example(UBL);
    let swapped = src.replacen(
        "<cbc:IssueDate>2013-04-10</cbc:IssueDate>\n    <cbc:DueDate>2013-05-10</cbc:DueDate>",
        "<cbc:DueDate>2013-05-10</cbc:DueDate>\n    <cbc:IssueDate>2013-04-10</cbc:IssueDate>",
        1,
    );
    assert_ne!(src, swapped);
    let r = validate_xml(swapped.as_bytes());
    let f = one(&r, "XSD-ORDER", "/ubl:Invoice/cbc:IssueDate");
    assert!(f.message_en.contains("before cbc:DueDate"), "{}", f.message_en);
    // No IssueDate at all: required by the schema (and by BR-02, which still fires).
    let r = mutated(UBL, "<cbc:IssueDate>2013-04-10</cbc:IssueDate>", "");
    let f = one(&r, "XSD-REQUIRED", "/ubl:Invoice");
    assert!(f.message_en.contains("cbc:IssueDate"), "{}", f.message_en);
    assert!(
        r.ids(Severity::Fatal).contains(&"BR-03"),
        "{:?}",
        r.ids(Severity::Fatal)
    );
    // An element the schema does not know.
    let r = mutated(
        UBL,
        "<cbc:DueDate>",
        "<cbc:PaymentDueDate>2013-05-10</cbc:PaymentDueDate><cbc:DueDate>",
    );
    one(&r, "XSD-UNKNOWN", "/ubl:Invoice/cbc:PaymentDueDate");
}

#[test]
fn cii_duplicates_choices_and_fixed_values() {
    let block = "<ram:SpecifiedTradeSettlementHeaderMonetarySummation>";
    let src = example(CII);
    let start = src.find(block).expect("summation");
    let end = src
        .find("</ram:SpecifiedTradeSettlementHeaderMonetarySummation>")
        .expect("end")
        + "</ram:SpecifiedTradeSettlementHeaderMonetarySummation>".len();
    let twice = format!("{}{}{}", &src[..end], &src[start..end], &src[end..]);
    let r = validate_xml(twice.as_bytes());
    one(
        &r,
        "XSD-CARDINALITY",
        "ram:SpecifiedTradeSettlementHeaderMonetarySummation[2]",
    );
    // The date-time choice: a DateTimeString or a DateTime, not both.
    let r = mutated(
        CII,
        r#"<udt:DateTimeString format="102">20130630</udt:DateTimeString>"#,
        r#"<udt:DateTimeString format="102">20130630</udt:DateTimeString><udt:DateTime>2013-06-30T00:00:00</udt:DateTime>"#,
    );
    one(&r, "XSD-CARDINALITY", "ram:IssueDateTime/udt:DateTime");
    // An indicator must be a boolean.
    let r = mutated(
        CII,
        "<udt:Indicator>false</udt:Indicator>",
        "<udt:Indicator>no</udt:Indicator>",
    );
    one(&r, "XSD-TYPE", "udt:Indicator");
    // Text where only elements may be.
    let r = mutated(CII, "<ram:ChargeIndicator>", "<ram:ChargeIndicator>false");
    one(&r, "XSD-TYPE", "ram:ChargeIndicator");
}

#[test]
fn hostile_shapes_do_not_panic() {
    let deep = format!(
        "<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\">{}{}</Invoice>",
        "<a>".repeat(200),
        "</a>".repeat(200)
    );
    let r = validate_xml(deep.as_bytes());
    assert!(!r.schema_valid());
    let empty = "<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\"/>";
    let r = validate_xml(empty.as_bytes());
    assert!(r.findings.iter().any(|f| f.rule == "XSD-REQUIRED"));
}
