//! Hostile PDFs: every input gives a clear error (or a correct result), never a panic, with
//! decompression and structure bounded.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::path::PathBuf;

use facteur_einvoice::facturx::{self, FacturxError, MAX_EMBEDDED_BYTES};
use lopdf::{Dictionary, Document, Object, Stream, dictionary};

fn corpus_pdf(name: &str) -> Vec<u8> {
    let dir = std::env::var("FACTEUR_CORPUS")
        .map(PathBuf::from)
        .or_else(|_| std::env::var("FACTEUR_SHARED").map(|s| PathBuf::from(s).join("corpus")))
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    std::fs::read(dir.join("facturx/pdf").join(name)).unwrap()
}

/// A minimal PDF whose catalog points at one embedded file stream through `/AF` and the name
/// tree; `tweak` may alter the document before it is saved.
fn pdf_with_attachment(name: &str, stream: Stream, tweak: impl FnOnce(&mut Document)) -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let file_id = doc.add_object(stream);
    let spec_id = doc.add_object(dictionary! {
        "Type" => "Filespec",
        "F" => Object::string_literal(name),
        "UF" => Object::string_literal(name),
        "AFRelationship" => "Data",
        "EF" => dictionary! { "F" => file_id },
    });
    let pages_id = doc.new_object_id();
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => 1,
        }),
    );
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
        "AF" => vec![spec_id.into()],
        "Names" => dictionary! {
            "EmbeddedFiles" => dictionary! {
                "Names" => vec![Object::string_literal(name), spec_id.into()],
            },
        },
    });
    doc.trailer.set("Root", catalog_id);
    tweak(&mut doc);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn xml_stream(content: Vec<u8>) -> Stream {
    Stream::new(
        dictionary! { "Type" => "EmbeddedFile", "Subtype" => "text/xml" },
        content,
    )
}

#[test]
fn hand_built_attachment_is_found() {
    let pdf = pdf_with_attachment("factur-x.xml", xml_stream(b"<a/>".to_vec()), |_| {});
    let got = facturx::extract(&pdf).unwrap();
    assert_eq!(got.xml, b"<a/>");
    assert_eq!(got.xmp_conformance, None);
}

#[test]
fn zugferd_and_xrechnung_names_are_accepted_case_insensitively() {
    for name in ["ZUGFeRD-invoice.xml", "xrechnung.xml", "Factur-X.xml"] {
        let pdf = pdf_with_attachment(name, xml_stream(b"<a/>".to_vec()), |_| {});
        assert_eq!(facturx::extract(&pdf).unwrap().name, name);
    }
    let other = pdf_with_attachment("invoice.xml", xml_stream(b"<a/>".to_vec()), |_| {});
    assert_eq!(facturx::extract(&other), Err(FacturxError::NoXmlAttachment));
}

#[test]
fn flate_bomb_attachment_is_capped() {
    // 32 MiB of zeros compress to ~32 KiB: over the 20 MiB cap once inflated.
    let mut stream = xml_stream(vec![0u8; MAX_EMBEDDED_BYTES + 12 * 1024 * 1024]);
    stream.compress().unwrap();
    assert!(stream.content.len() < 200 * 1024, "bomb should be small on disk");
    let pdf = pdf_with_attachment("factur-x.xml", stream, |_| {});
    match facturx::extract(&pdf) {
        Err(FacturxError::BadAttachment { name, reason }) => {
            assert_eq!(name, "factur-x.xml");
            assert!(reason.contains("limit"), "{reason}");
        }
        other => panic!("expected a capped attachment, got {other:?}"),
    }
}

#[test]
fn attachment_just_under_the_cap_is_read() {
    let mut stream = xml_stream(vec![b' '; 1024 * 1024]);
    stream.compress().unwrap();
    let pdf = pdf_with_attachment("factur-x.xml", stream, |_| {});
    assert_eq!(facturx::extract(&pdf).unwrap().xml.len(), 1024 * 1024);
}

#[test]
fn cyclic_name_tree_terminates() {
    let pdf = pdf_with_attachment("other.bin", xml_stream(b"x".to_vec()), |doc| {
        // Replace the name tree by a node whose /Kids contains itself.
        let node_id = doc.new_object_id();
        doc.objects.insert(
            node_id,
            Object::Dictionary(dictionary! { "Kids" => vec![node_id.into(), node_id.into()] }),
        );
        let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
        let catalog = doc.get_dictionary_mut(root).unwrap();
        catalog.remove(b"AF");
        catalog.set(
            "Names",
            Dictionary::from_iter(vec![("EmbeddedFiles", Object::Reference(node_id))]),
        );
    });
    assert_eq!(facturx::extract(&pdf), Err(FacturxError::NoXmlAttachment));
}

#[test]
fn attachment_without_stream_is_a_clear_error() {
    let pdf = pdf_with_attachment("factur-x.xml", xml_stream(b"<a/>".to_vec()), |doc| {
        for obj in doc.objects.values_mut() {
            if let Object::Dictionary(d) = obj
                && d.has_type(b"Filespec")
            {
                d.remove(b"EF");
            }
        }
    });
    assert!(matches!(
        facturx::extract(&pdf),
        Err(FacturxError::BadAttachment { .. })
    ));
}

#[test]
fn non_pdf_bytes_are_refused() {
    for input in [
        &b""[..],
        b"PK\x03\x04 zip file",
        b"<?xml version=\"1.0\"?><rsm:CrossIndustryInvoice/>",
        &[0u8; 4096],
    ] {
        assert_eq!(facturx::extract(input), Err(FacturxError::NotPdf));
    }
}

#[test]
fn broken_xref_is_an_error_or_recovered_never_a_panic() {
    let pdf = corpus_pdf("official-CII_example3.pdf");
    let text_pos = |needle: &[u8]| pdf.windows(needle.len()).rposition(|w| w == needle).unwrap();

    // Garbage startxref offset: lenient loading may rebuild the table by scanning.
    let mut bad_offset = pdf.clone();
    let at = text_pos(b"startxref") + b"startxref\n".len();
    bad_offset[at..at + 3].copy_from_slice(b"999");
    let _ = check_no_panic(&bad_offset);

    // Xref table keyword destroyed, and every object header mangled: nothing to recover.
    let mut no_objects = pdf.clone();
    for i in 0..no_objects.len().saturating_sub(3) {
        if &no_objects[i..i + 3] == b"obj" {
            no_objects[i..i + 3].copy_from_slice(b"xxx");
        }
    }
    assert!(facturx::extract(&no_objects).is_err());
}

#[test]
fn truncated_files_never_panic() {
    for name in ["official-CII_example1.pdf", "akretion-invoice_EN16931.pdf"] {
        let pdf = corpus_pdf(name);
        let step = (pdf.len() / 97).max(1);
        let mut errors = 0;
        for cut in (0..pdf.len()).step_by(step) {
            if check_no_panic(&pdf[..cut]).is_err() {
                errors += 1;
            }
        }
        assert!(errors > 0, "{name}: some truncations must fail");
    }
    // Truncated to the header only.
    assert!(facturx::extract(b"%PDF-1.7\n").is_err());
}

#[test]
fn flipped_bytes_never_panic() {
    let pdf = corpus_pdf("synthetic-F2025-026000000.pdf");
    // Deterministic xorshift so a failure reproduces.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..300 {
        let mut mutated = pdf.clone();
        for _ in 0..(1 + next() % 8) {
            let at = (next() % mutated.len() as u64) as usize;
            mutated[at] = (next() & 0xff) as u8;
        }
        let _ = check_no_panic(&mutated);
    }
}

/// Calls `extract`, failing the test if it panics; returns its result.
fn check_no_panic(pdf: &[u8]) -> Result<(), FacturxError> {
    let owned = pdf.to_vec();
    match std::panic::catch_unwind(move || facturx::extract(&owned)) {
        Ok(result) => result.map(|_| ()),
        Err(_) => panic!("extract panicked on a {}-byte input", pdf.len()),
    }
}
