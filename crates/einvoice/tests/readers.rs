//! Readers: the valid corpus reads, terms land where the XML puts them, hostile input is refused.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::path::PathBuf;

use facteur_einvoice::model::DocKind;
use facteur_einvoice::xml::{self, ReadError, Syntax};

fn corpus() -> PathBuf {
    if let Ok(p) = std::env::var("FACTEUR_CORPUS") {
        return PathBuf::from(p);
    }
    let shared = std::env::var("FACTEUR_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    shared.join("corpus")
}

fn en16931(rel: &str) -> PathBuf {
    corpus().join("en16931").join(rel)
}

fn xml_files(dir: &str) -> Vec<PathBuf> {
    let dir = en16931(dir);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus dir {} missing: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    out.sort();
    out
}

fn read(rel: &str) -> facteur_einvoice::model::draft::Draft {
    let bytes = std::fs::read(en16931(rel)).unwrap();
    xml::read_xml(&bytes).unwrap().1
}

fn raw(v: &Option<facteur_einvoice::model::draft::Val>) -> &str {
    v.as_ref().map(|v| v.raw.as_str()).unwrap_or("<absent>")
}

#[test]
fn every_valid_corpus_file_reads_with_its_core_terms() {
    let mut n = 0;
    for (dir, syntax) in [
        ("ubl/examples", Syntax::Ubl),
        ("ubl/testfiles", Syntax::Ubl),
        ("cii/examples", Syntax::Cii),
    ] {
        for path in xml_files(dir) {
            let bytes = std::fs::read(&path).unwrap();
            let (s, d) = xml::read_xml(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(s, syntax, "{}", path.display());
            assert!(
                d.number.as_ref().is_some_and(|v| !v.is_blank()),
                "{}: BT-1",
                path.display()
            );
            assert!(d.issue_date.is_some(), "{}: BT-2", path.display());
            assert!(d.currency_code.is_some(), "{}: BT-5", path.display());
            assert!(
                d.seller.as_ref().and_then(|s| s.name.as_ref()).is_some(),
                "{}: BT-27",
                path.display()
            );
            assert!(
                d.buyer.as_ref().and_then(|s| s.name.as_ref()).is_some(),
                "{}: BT-44",
                path.display()
            );
            assert!(!d.lines.is_empty(), "{}: BG-25", path.display());
            assert!(
                d.totals.as_ref().and_then(|t| t.payable.as_ref()).is_some(),
                "{}: BT-115",
                path.display()
            );
            for l in &d.lines {
                assert!(
                    l.net_amount.as_ref().and_then(|v| v.decimal()).is_some(),
                    "{}: BT-131",
                    path.display()
                );
                assert!(
                    l.item.as_ref().and_then(|i| i.name.as_ref()).is_some(),
                    "{}: BT-153",
                    path.display()
                );
            }
            n += 1;
        }
    }
    assert!(n >= 40, "only {n} valid corpus files found");
}

#[test]
fn ubl_example2_terms_match_the_xml() {
    let d = read("ubl/examples/ubl-tc434-example2.xml");
    assert_eq!(d.kind, DocKind::Invoice);
    assert_eq!(raw(&d.number), "TOSL108");
    assert_eq!(raw(&d.issue_date), "2013-06-30");
    assert_eq!(raw(&d.type_code), "380");
    assert_eq!(raw(&d.currency_code), "NOK");
    let seller = d.seller.as_ref().unwrap();
    assert_eq!(raw(&seller.name), "Salescompany ltd.");
    assert_eq!(raw(&seller.legal_registration_id), "123456789");
    assert_eq!(raw(&seller.vat_identifier), "NO123456789MVA");
    assert_eq!(raw(&d.buyer.as_ref().unwrap().vat_identifier), "NO987654321MVA");
    assert_eq!(
        raw(&d.tax_representative.as_ref().unwrap().vat_identifier),
        "NO967611265MVA"
    );
    let addr = seller.address.as_ref().unwrap();
    assert_eq!(raw(&addr.country_code), "NO");
    let totals = d.totals.as_ref().unwrap();
    assert_eq!(
        totals.payable.as_ref().unwrap().decimal().unwrap().to_string(),
        "801.78"
    );
    assert_eq!(raw(&totals.vat_total), "365.28");
    assert_eq!(d.vat_breakdown.len(), 3);
    assert_eq!(raw(&d.vat_breakdown[1].tax_amount), "0.15");
    assert_eq!(
        totals.vat_total.as_ref().unwrap().attr("currencyID").unwrap().raw,
        "NOK"
    );
    let l1 = &d.lines[0];
    assert_eq!(raw(&l1.id), "1");
    assert_eq!(l1.quantity.as_ref().unwrap().attr("unitCode").unwrap().raw, "EA");
    assert!(
        l1.at.path.starts_with("/ubl:Invoice/cac:InvoiceLine[1]"),
        "{}",
        l1.at.path
    );
    assert_eq!(d.number.as_ref().unwrap().path, "/ubl:Invoice/cbc:ID[1]");
    // Line numbers point at the element in the file.
    let text = std::fs::read_to_string(en16931("ubl/examples/ubl-tc434-example2.xml")).unwrap();
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() as u32 + 1;
    assert_eq!(d.number.as_ref().unwrap().line, line_of("<cbc:ID>TOSL108</cbc:ID>"));
}

#[test]
fn ubl_credit_note_reads_credit_note_elements() {
    let d = read("ubl/examples/ubl-tc434-creditnote1.xml");
    assert_eq!(d.kind, DocKind::CreditNote);
    assert!(d.type_code.is_some());
    assert!(!d.lines.is_empty());
    assert!(
        d.lines.iter().all(|l| l.quantity.is_some()),
        "CreditedQuantity is BT-129"
    );
    assert!(d.lines[0].at.path.contains("cac:CreditNoteLine[1]"));
}

#[test]
fn cii_example1_terms_match_the_xml() {
    let d = read("cii/examples/CII_example1.xml");
    assert_eq!(raw(&d.number), "12115118");
    assert_eq!(raw(&d.type_code), "380");
    let date = d.issue_date.as_ref().unwrap();
    assert_eq!(date.raw, "20150109");
    assert_eq!(date.attr("format").unwrap().raw, "102");
    assert_eq!(raw(&d.specification_identifier), "urn:cen.eu:en16931:2017");
    assert_eq!(d.notes.len(), 1);
    assert_eq!(raw(&d.notes[0].subject_code), "AAR");
    let l2 = &d.lines[1];
    assert_eq!(raw(&l2.id), "2");
    assert_eq!(raw(&l2.item.as_ref().unwrap().name), "KAAS 50PL. JONG BEL. 1KG");
    assert_eq!(raw(&l2.item.as_ref().unwrap().seller_id), "661813");
    assert_eq!(raw(&l2.price.as_ref().unwrap().net_price), "9.85");
    assert_eq!(raw(&l2.vat_category), "S");
    assert_eq!(l2.vat_rate.as_ref().unwrap().decimal().unwrap().to_string(), "6");
    assert_eq!(raw(&l2.net_amount), "9.85");
    assert!(l2.at.path.starts_with(
        "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction[1]/ram:IncludedSupplyChainTradeLineItem[2]"
    ));
    assert!(!d.vat_breakdown.is_empty());
}

#[test]
fn every_unit_and_mutation_file_reads_or_fails_cleanly() {
    // Fragments must read (no panic); nothing in the corpus is malformed XML.
    for dir in [
        "ubl/unit/invoice",
        "ubl/unit/creditnote",
        "ubl/mutations",
        "cii/unit",
        "cii/mutations",
    ] {
        let path = en16931(dir);
        if !path.exists() {
            continue;
        }
        for p in xml_files(dir) {
            let bytes = std::fs::read(&p).unwrap();
            xml::read_xml(&bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        }
    }
}

fn err(bytes: &[u8]) -> ReadError {
    xml::read_xml(bytes).expect_err("must be refused")
}

const UBL_OPEN: &str = r#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">"#;

#[test]
fn doctype_and_entities_are_refused() {
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol3;</Invoice>"#;
    assert_eq!(err(laughs.as_bytes()), ReadError::Dtd);
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&xxe;</Invoice>"#;
    assert_eq!(err(xxe.as_bytes()), ReadError::Dtd);
    let empty_dtd = format!("<!DOCTYPE Invoice>{UBL_OPEN}</Invoice>");
    assert_eq!(err(empty_dtd.as_bytes()), ReadError::Dtd);
    // An undeclared entity without a DTD is malformed, not expanded.
    let undeclared = format!("{UBL_OPEN}&xxe;</Invoice>");
    assert!(matches!(err(undeclared.as_bytes()), ReadError::Malformed(_)));
}

#[test]
fn deep_nesting_is_refused() {
    let depth = 100_000;
    let mut s = String::from(UBL_OPEN);
    s.push_str(&"<a>".repeat(depth));
    s.push_str(&"</a>".repeat(depth));
    s.push_str("</Invoice>");
    assert_eq!(err(s.as_bytes()), ReadError::TooDeep { max: xml::MAX_DEPTH });
}

#[test]
fn truncated_non_utf8_and_foreign_encodings_are_refused() {
    let bytes = std::fs::read(en16931("ubl/examples/ubl-tc434-example2.xml")).unwrap();
    assert!(matches!(err(&bytes[..bytes.len() / 2]), ReadError::Malformed(_)));
    let mut latin1 = format!("{UBL_OPEN}<cbc:Note>caf").into_bytes();
    latin1.push(0xE9);
    latin1.extend_from_slice(b"</cbc:Note></Invoice>");
    assert!(matches!(err(&latin1), ReadError::NotUtf8 { .. }));
    let declared = format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>{UBL_OPEN}</Invoice>");
    assert_eq!(
        err(declared.as_bytes()),
        ReadError::UnsupportedEncoding("ISO-8859-1".into())
    );
    assert!(matches!(err(&[0xFF, 0xFE, b'<', 0]), ReadError::UnsupportedEncoding(_)));
    assert!(matches!(err(b""), ReadError::Malformed(_)));
}

#[test]
fn wrong_namespace_is_refused() {
    let e = err(br#"<Invoice xmlns="urn:example:not-ubl"><ID>1</ID></Invoice>"#);
    assert!(
        matches!(e, ReadError::UnknownRoot { ref name, .. } if name == "Invoice"),
        "{e:?}"
    );
    assert!(matches!(err(b"<Invoice/>"), ReadError::UnknownRoot { .. }));
}

#[test]
fn oversized_input_is_refused_before_parsing() {
    let mut big = String::from(UBL_OPEN);
    big.push_str(&" ".repeat(60 * 1024 * 1024));
    big.push_str("</Invoice>");
    assert!(matches!(err(big.as_bytes()), ReadError::TooLarge { .. }));
}

#[test]
fn utf8_bom_and_declaration_are_accepted() {
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{UBL_OPEN}<ID xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\">A1</ID></Invoice>").as_bytes(),
    );
    let (syntax, d) = xml::read_xml(&bytes).unwrap();
    assert_eq!(syntax, Syntax::Ubl);
    assert_eq!(raw(&d.number), "A1");
    assert_eq!(d.number.as_ref().unwrap().line, 2);
}

#[test]
fn strict_conversion_lists_every_missing_or_invalid_term() {
    use facteur_einvoice::model::{Invoice, ProblemKind};
    let doc = format!(
        "{UBL_OPEN}<cbc:ID xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\">A1</cbc:ID>\
         <cbc:IssueDate xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\">2024-02-30</cbc:IssueDate></Invoice>"
    );
    let (_, draft) = xml::read_xml(doc.as_bytes()).unwrap();
    let Err(ReadError::Incomplete(problems)) = Invoice::try_from(&draft) else {
        panic!("a fragment must not convert");
    };
    let missing: Vec<&str> = problems
        .iter()
        .filter(|p| p.kind == ProblemKind::Missing)
        .map(|p| p.term)
        .collect();
    for term in ["BT-3", "BT-5", "BT-24", "BG-4", "BG-7", "BG-22", "BG-23", "BG-25"] {
        assert!(missing.contains(&term), "{term} not reported: {missing:?}");
    }
    assert!(!missing.contains(&"BT-1"));
    let bad_date = problems.iter().find(|p| p.term == "BT-2").unwrap();
    assert_eq!(bad_date.kind, ProblemKind::Invalid("2024-02-30".into()));
    assert_eq!(bad_date.path, "/ubl:Invoice/cbc:IssueDate[1]");
}

#[test]
fn every_valid_corpus_file_converts_to_the_strict_model() {
    use facteur_einvoice::model::Invoice;
    for dir in ["ubl/examples", "ubl/testfiles", "cii/examples"] {
        for path in xml_files(dir) {
            let (_, d) = xml::read_xml(&std::fs::read(&path).unwrap()).unwrap();
            let inv = Invoice::try_from(&d).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(inv.lines.len(), d.lines.len(), "{}", path.display());
            assert_eq!(inv.vat_breakdown.len(), d.vat_breakdown.len(), "{}", path.display());
        }
    }
}

#[test]
fn cii_dates_must_use_format_102() {
    use facteur_einvoice::model::{Invoice, ProblemKind};
    let text = std::fs::read_to_string(en16931("cii/examples/CII_example1.xml")).unwrap();
    let changed = text.replacen("format=\"102\">20150109", "format=\"610\">20150109", 1);
    assert_ne!(text, changed);
    let (_, d) = xml::read_xml(changed.as_bytes()).unwrap();
    let Err(ReadError::Incomplete(problems)) = Invoice::try_from(&d) else {
        panic!("format 610 accepted")
    };
    assert!(
        problems
            .iter()
            .any(|p| p.term == "BT-2" && p.kind == ProblemKind::Invalid("610".into()))
    );
}

#[test]
fn ubl_note_subject_code_is_split_from_the_text() {
    use facteur_einvoice::model::Invoice;
    let text = std::fs::read_to_string(en16931("ubl/examples/ubl-tc434-example2.xml")).unwrap();
    let changed = text.replacen("<cbc:Note>", "<cbc:Note>#AAI#", 1);
    assert_ne!(text, changed);
    let (_, d) = xml::read_xml(changed.as_bytes()).unwrap();
    assert!(
        d.notes[0].text.as_ref().unwrap().raw.starts_with("#AAI#"),
        "the draft keeps the raw note"
    );
    let inv = Invoice::try_from(&d).unwrap();
    assert_eq!(inv.notes[0].subject_code.as_ref().map(|c| c.as_str()), Some("AAI"));
    assert!(!inv.notes[0].text.starts_with('#'));
    assert!(inv.notes[1..].iter().all(|n| n.subject_code.is_none()));
}
