//! Generated Factur-X PDFs: the XML comes back byte for byte, and the PDF/A-3 + Factur-X
//! structure (associated file, name tree, XMP identification and `fx:` schema) is there.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use facteur_einvoice::facturx::{
    self, FacturxError, Options, Party, Profile, Relationship, Rendering, RenderingLine, Totals, VatRow,
};
use lopdf::{Document, Object};

const CII: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100" xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
  <rsm:ExchangedDocumentContext>
    <ram:GuidelineSpecifiedDocumentContextParameter>
      <ram:ID>urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic</ram:ID>
    </ram:GuidelineSpecifiedDocumentContextParameter>
  </rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument><ram:ID>F-2026-0001</ram:ID><ram:TypeCode>380</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">20260131</udt:DateTimeString></ram:IssueDateTime>
  </rsm:ExchangedDocument>
</rsm:CrossIndustryInvoice>
"#;

fn rendering(lines: usize) -> Rendering {
    Rendering {
        title: "Facture".into(),
        number: "F-2026-0001".into(),
        issue_date: "2026-01-31".into(),
        due_date: Some("2026-03-02".into()),
        currency: "EUR".into(),
        buyer_reference: Some("SERVICE-EXEC-42".into()),
        seller: Party {
            name: "Atelier Dupré & Fils SARL".into(),
            lines: vec![
                "12 rue des Écoles".into(),
                "69001 Lyon, France".into(),
                "SIRET 123 456 789 00012 — TVA FR12123456789".into(),
            ],
        },
        buyer: Party {
            name: "Commune de Saint-Étienne-de-Tinée".into(),
            lines: vec!["Hôtel de ville".into(), "06660 Saint-Étienne-de-Tinée".into()],
        },
        lines: (0..lines)
            .map(|i| RenderingLine {
                id: (i + 1).to_string(),
                name: format!("Prestation de maintenance n° {i}, y compris déplacement et fournitures diverses"),
                quantity: "2.5".into(),
                unit: "HUR".into(),
                unit_price: "48.00".into(),
                vat_rate: "20.00".into(),
                net_amount: "120.00".into(),
            })
            .collect(),
        vat: vec![VatRow {
            category: "S".into(),
            rate: "20.00".into(),
            taxable_amount: format!("{}.00", 120 * lines),
            tax_amount: format!("{}.00", 24 * lines),
            exemption: None,
        }],
        totals: Totals {
            line_total: format!("{}.00", 120 * lines),
            allowances: None,
            charges: None,
            tax_exclusive: format!("{}.00", 120 * lines),
            tax: format!("{}.00", 24 * lines),
            tax_inclusive: format!("{}.00", 144 * lines),
            prepaid: None,
            payable: format!("{}.00", 144 * lines),
        },
        notes: vec!["Pénalités de retard : 3 fois le taux d'intérêt légal.".into()],
        payment: vec!["Virement — IBAN FR76 3000 6000 0112 3456 7890 189".into()],
    }
}

fn deref<'a>(doc: &'a Document, obj: &'a Object) -> &'a Object {
    doc.dereference(obj).unwrap().1
}

#[test]
fn round_trip_gives_back_the_same_xml() {
    let pdf = facturx::generate_rendering(&rendering(3), CII.as_bytes(), &Options::default()).unwrap();
    let got = facturx::extract(&pdf).unwrap();
    assert_eq!(got.name, "factur-x.xml");
    assert_eq!(got.xml, CII.as_bytes());
    assert_eq!(got.relationship.as_deref(), Some("Data"));
    // The profile defaults to the XML's guideline id.
    assert_eq!(got.xmp_conformance.as_deref(), Some("BASIC"));
    assert_eq!(got.xmp_profile, Some(Profile::Basic));
    assert_eq!(got.guideline_profile(), Some(Profile::Basic));
}

#[test]
fn corpus_xml_of_every_profile_round_trips() {
    let dir = std::env::var("FACTEUR_CORPUS")
        .map(std::path::PathBuf::from)
        .or_else(|_| std::env::var("FACTEUR_SHARED").map(|s| std::path::PathBuf::from(s).join("corpus")))
        .unwrap_or_else(|_| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    for (file, profile) in [
        ("factur-x-minimum.xml", Profile::Minimum),
        ("factur-x-basicwl.xml", Profile::BasicWl),
        ("factur-x-en16931.xml", Profile::En16931),
        ("factur-x-extended.xml", Profile::Extended),
    ] {
        let xml = std::fs::read(dir.join("facturx/xml").join(file)).unwrap();
        let pdf = facturx::generate_rendering(&rendering(2), &xml, &Options::default()).unwrap();
        let got = facturx::extract(&pdf).unwrap();
        assert_eq!(got.xml, xml, "{file}");
        assert_eq!(got.xmp_profile, Some(profile), "{file}");
        assert_eq!(got.guideline_profile(), Some(profile), "{file}");
    }
}

#[test]
fn explicit_profile_and_relationship_are_written() {
    let options = Options {
        profile: Some(Profile::XRechnung),
        relationship: Relationship::Alternative,
    };
    let pdf = facturx::generate_rendering(&rendering(1), CII.as_bytes(), &options).unwrap();
    let got = facturx::extract(&pdf).unwrap();
    assert_eq!(got.relationship.as_deref(), Some("Alternative"));
    assert_eq!(got.xmp_conformance.as_deref(), Some("XRECHNUNG"));
    assert_eq!(got.xmp_profile, Some(Profile::XRechnung));
}

#[test]
fn pdf_a3_and_factur_x_structure() {
    let pdf = facturx::generate_rendering(&rendering(3), CII.as_bytes(), &Options::default()).unwrap();
    assert!(pdf.starts_with(b"%PDF-1.7"), "PDF/A-3 is based on PDF 1.7");
    // PDF/A: a comment of at least four bytes >= 128 right after the header.
    let second_line = pdf.split(|b| *b == b'\n').nth(1).unwrap();
    assert!(second_line.len() >= 5 && second_line[1..5].iter().all(|b| *b >= 128));

    let doc = Document::load_mem(&pdf).unwrap();
    assert!(doc.trailer.get(b"ID").is_ok(), "PDF/A needs a file identifier");
    let catalog = doc.catalog().unwrap();

    // /AF -> file specification with relationship, /EF stream typed text/xml.
    let af = deref(&doc, catalog.get(b"AF").unwrap()).as_array().unwrap();
    assert_eq!(af.len(), 1);
    let spec = deref(&doc, &af[0]).as_dict().unwrap();
    assert_eq!(spec.get(b"AFRelationship").unwrap().as_name().unwrap(), b"Data");
    assert_eq!(
        lopdf::decode_text_string(deref(&doc, spec.get(b"UF").unwrap())).unwrap(),
        "factur-x.xml"
    );
    assert!(spec.get(b"Desc").is_ok());
    let ef = deref(&doc, spec.get(b"EF").unwrap()).as_dict().unwrap();
    let stream = deref(&doc, ef.get(b"F").unwrap()).as_stream().unwrap();
    assert_eq!(stream.dict.get(b"Subtype").unwrap().as_name().unwrap(), b"text/xml");
    let params = deref(&doc, stream.dict.get(b"Params").unwrap()).as_dict().unwrap();
    assert!(params.get(b"ModDate").is_ok());

    // /Names /EmbeddedFiles lists the same file.
    let names = deref(&doc, catalog.get(b"Names").unwrap()).as_dict().unwrap();
    let tree = deref(&doc, names.get(b"EmbeddedFiles").unwrap()).as_dict().unwrap();
    let leaf = deref(&doc, tree.get(b"Names").unwrap()).as_array().unwrap();
    assert_eq!(
        lopdf::decode_text_string(deref(&doc, &leaf[0])).unwrap(),
        "factur-x.xml"
    );

    // XMP: PDF/A-3B identification, the fx extension schema and its values.
    let meta = deref(&doc, catalog.get(b"Metadata").unwrap()).as_stream().unwrap();
    assert!(meta.dict.get(b"Filter").is_err(), "XMP left unfiltered");
    let xmp = String::from_utf8(meta.content.clone()).unwrap();
    for needle in [
        "<pdfaid:part>3</pdfaid:part>",
        "<pdfaid:conformance>B</pdfaid:conformance>",
        "<pdfaSchema:namespaceURI>urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#</pdfaSchema:namespaceURI>",
        "<pdfaSchema:prefix>fx</pdfaSchema:prefix>",
        "<fx:DocumentType>INVOICE</fx:DocumentType>",
        "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>",
        "<fx:Version>1.0</fx:Version>",
        "<fx:ConformanceLevel>BASIC</fx:ConformanceLevel>",
    ] {
        assert!(xmp.contains(needle), "XMP lacks {needle}\n{xmp}");
    }
    assert_eq!(
        meta.dict.get(b"Length").unwrap().as_i64().unwrap() as usize,
        meta.content.len()
    );

    // PDF/A output intent and an embedded font on the page.
    assert!(catalog.get(b"OutputIntents").is_ok());
    let fonts_embedded = doc.objects.values().any(|o| {
        o.as_dict()
            .is_ok_and(|d| d.get(b"FontFile2").is_ok() || d.get(b"FontFile3").is_ok())
    });
    assert!(fonts_embedded, "DejaVu Sans must be embedded");
}

#[test]
fn long_invoices_paginate_and_still_round_trip() {
    let pdf = facturx::generate_rendering(&rendering(150), CII.as_bytes(), &Options::default()).unwrap();
    let doc = Document::load_mem(&pdf).unwrap();
    assert!(doc.get_pages().len() >= 4, "{} pages", doc.get_pages().len());
    assert_eq!(facturx::extract(&pdf).unwrap().xml, CII.as_bytes());
}

#[test]
fn generation_is_deterministic() {
    let a = facturx::generate_rendering(&rendering(2), CII.as_bytes(), &Options::default()).unwrap();
    let b = facturx::generate_rendering(&rendering(2), CII.as_bytes(), &Options::default()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn bad_inputs_to_generation_are_errors() {
    assert!(matches!(
        facturx::generate_rendering(&rendering(1), b"<not-closed>", &Options::default()),
        Err(FacturxError::InvalidXml(_))
    ));
    let mut r = rendering(1);
    r.issue_date = "31/01/2026".into();
    assert!(matches!(
        facturx::generate_rendering(&r, CII.as_bytes(), &Options::default()),
        Err(FacturxError::Render(_))
    ));
    // Empty rendering still gives a valid one-page document.
    let mut empty = Rendering {
        issue_date: "2026-01-01".into(),
        ..Rendering::default()
    };
    empty.currency = "EUR".into();
    let pdf = facturx::generate_rendering(&empty, CII.as_bytes(), &Options::default()).unwrap();
    assert_eq!(facturx::extract(&pdf).unwrap().xml, CII.as_bytes());
}

#[test]
fn generate_from_the_strict_model_round_trips() {
    use facteur_einvoice::model::Invoice;
    let dir = std::env::var("FACTEUR_CORPUS")
        .map(std::path::PathBuf::from)
        .or_else(|_| std::env::var("FACTEUR_SHARED").map(|s| std::path::PathBuf::from(s).join("corpus")))
        .unwrap_or_else(|_| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    let source = std::fs::read(dir.join("facturx/pdf/official-CII_example1.pdf")).unwrap();
    let xml = facturx::extract(&source).unwrap().xml;
    let (_, draft) = facteur_einvoice::xml::read_xml(&xml).unwrap();
    let invoice = Invoice::try_from(&draft).unwrap();

    let rendering = Rendering::from(&invoice);
    assert_eq!(rendering.number, invoice.number);
    assert_eq!(rendering.lines.len(), invoice.lines.len());
    assert_eq!(rendering.totals.payable, invoice.totals.payable.to_string());
    assert_eq!(rendering.seller.name, invoice.seller.name);

    let text = String::from_utf8(xml.clone()).unwrap();
    let pdf = facturx::generate(&invoice, &text).unwrap();
    let got = facturx::extract(&pdf).unwrap();
    assert_eq!(got.xml, xml);
    assert_eq!(got.xmp_profile, Some(Profile::En16931));
}
