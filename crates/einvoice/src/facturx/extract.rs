//! Reading the invoice XML out of a Factur-X / ZUGFeRD / XRechnung PDF.

use std::collections::HashSet;

use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId};

use super::{FacturxError, Profile, profile, xmp};

/// Attachment names that carry the structured invoice, in order of preference.
pub const ATTACHMENT_NAMES: [&str; 3] = ["factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml"];

/// Largest PDF accepted; invoices are small and the whole file is held in memory by lopdf.
pub const MAX_PDF_BYTES: usize = 64 * 1024 * 1024;
/// Largest decompressed stream (embedded XML, object streams, XMP) we inflate: a Flate bomb
/// stops here instead of exhausting memory.
pub const MAX_EMBEDDED_BYTES: usize = 20 * 1024 * 1024;
/// Most indirect objects accepted; a rendered invoice has a few hundred at most.
pub const MAX_OBJECTS: usize = 500_000;
/// Name-tree nodes visited at most, against cyclic or absurdly wide `/Kids`.
const MAX_NAME_TREE_NODES: usize = 10_000;
/// Name-tree depth at most.
const MAX_NAME_TREE_DEPTH: usize = 32;
/// XMP packets are a few KiB; more is not metadata.
const MAX_XMP_BYTES: usize = 4 * 1024 * 1024;

/// The structured invoice found in a PDF, with what the PDF says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// Attachment file name as written in the PDF (`factur-x.xml`...).
    pub name: String,
    /// The attachment bytes, decoded from their PDF filters, otherwise untouched.
    pub xml: Vec<u8>,
    /// The `/AFRelationship` of the file specification (`Data`, `Alternative`, `Source`...).
    pub relationship: Option<String>,
    /// The XMP `fx:ConformanceLevel` as written (`EN 16931`, `BASIC WL`...).
    pub xmp_conformance: Option<String>,
    /// [`Extracted::xmp_conformance`] mapped to a profile, when recognised.
    pub xmp_profile: Option<Profile>,
}

impl Extracted {
    /// The profile declared by the XML's guideline id (BT-24); this, not the XMP, is binding.
    pub fn guideline_profile(&self) -> Option<Profile> {
        profile::guideline_profile(&self.xml)
    }
}

/// Extracts the Factur-X XML attachment of a PDF.
///
/// Looks at the catalog's `/AF` array first (PDF/A-3 associated files) and then the
/// `/Names/EmbeddedFiles` name tree, keeping the first file named like one of
/// [`ATTACHMENT_NAMES`] (case-insensitive, the most preferred name winning).
///
/// # Errors
/// [`FacturxError::NoXmlAttachment`] when the PDF is readable but has no such file; other
/// variants for non-PDF, oversized, truncated or otherwise malformed input.
pub fn extract(pdf: &[u8]) -> Result<Extracted, FacturxError> {
    let doc = load(pdf)?;
    let catalog = doc
        .catalog()
        .map_err(|e| FacturxError::Malformed(format!("no document catalog: {e}")))?;

    let mut candidates = Vec::new();
    if let Some(af) = deref(&doc, catalog.get(b"AF").ok()).and_then(|o| o.as_array().ok()) {
        for spec in af {
            if let Some(dict) = deref(&doc, Some(spec)).and_then(|o| o.as_dict().ok()) {
                candidates.push(dict);
            }
        }
    }
    if let Some(tree) = deref(&doc, catalog.get(b"Names").ok())
        .and_then(|o| o.as_dict().ok())
        .and_then(|names| deref(&doc, names.get(b"EmbeddedFiles").ok()))
        .and_then(|o| o.as_dict().ok())
    {
        let mut visited = HashSet::new();
        collect_name_tree(&doc, tree, 0, &mut visited, &mut candidates);
    }

    let (spec, name, _) = candidates
        .into_iter()
        .filter_map(|spec| {
            let name = file_spec_name(&doc, spec)?;
            let rank = ATTACHMENT_NAMES
                .iter()
                .position(|n| n.eq_ignore_ascii_case(name.trim()))?;
            Some((spec, name, rank))
        })
        .min_by_key(|(_, _, rank)| *rank)
        .ok_or(FacturxError::NoXmlAttachment)?;

    let xml = embedded_bytes(&doc, spec).map_err(|reason| FacturxError::BadAttachment {
        name: name.clone(),
        reason,
    })?;
    let relationship = deref(&doc, spec.get(b"AFRelationship").ok())
        .and_then(|o| o.as_name().ok())
        .map(|n| String::from_utf8_lossy(n).into_owned());
    let xmp_conformance = deref(&doc, catalog.get(b"Metadata").ok())
        .and_then(|o| o.as_stream().ok())
        .and_then(|s| s.get_plain_content_with_limit(MAX_XMP_BYTES).ok())
        .and_then(|packet| xmp::conformance_level(&packet));
    let xmp_profile = xmp_conformance.as_deref().and_then(Profile::from_conformance_level);

    Ok(Extracted {
        name,
        xml,
        relationship,
        xmp_conformance,
        xmp_profile,
    })
}

/// Parses the PDF with every cap applied.
///
/// No `catch_unwind` here: lopdf 0.47 did not panic on ~24,000 truncated and byte-flipped
/// variants of the corpus PDFs (load plus decoding of every stream), and the hostile-input
/// tests keep checking that; a panic found later is a lopdf bug to report, not to hide.
pub(crate) fn load(pdf: &[u8]) -> Result<Document, FacturxError> {
    if pdf.len() > MAX_PDF_BYTES {
        return Err(FacturxError::TooLarge {
            what: "PDF",
            size: pdf.len(),
            limit: MAX_PDF_BYTES,
        });
    }
    // The header may be preceded by junk, but only within the first KiB (ISO 32000-1, 7.5.2
    // implementation note); lopdf is lenient about this, we want non-PDFs out early.
    let head = &pdf[..pdf.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(FacturxError::NotPdf);
    }
    let options = LoadOptions {
        max_decompressed_size: Some(MAX_EMBEDDED_BYTES),
        ..LoadOptions::default()
    };
    let doc = Document::load_mem_with_options(pdf, options).map_err(|e| FacturxError::Malformed(error_chain(&e)))?;
    if doc.objects.len() > MAX_OBJECTS {
        return Err(FacturxError::TooManyObjects {
            count: doc.objects.len(),
            limit: MAX_OBJECTS,
        });
    }
    Ok(doc)
}

/// Follows references (bounded by lopdf's own dereference limit); `None` for dangling ones.
fn deref<'a>(doc: &'a Document, obj: Option<&'a Object>) -> Option<&'a Object> {
    doc.dereference(obj?).ok().map(|(_, o)| o)
}

/// Walks an `/EmbeddedFiles` name tree: `/Names [key spec key spec ...]` leaves and `/Kids`.
fn collect_name_tree<'a>(
    doc: &'a Document,
    node: &'a Dictionary,
    depth: usize,
    visited: &mut HashSet<ObjectId>,
    out: &mut Vec<&'a Dictionary>,
) {
    if depth > MAX_NAME_TREE_DEPTH || visited.len() > MAX_NAME_TREE_NODES {
        return;
    }
    if let Some(names) = deref(doc, node.get(b"Names").ok()).and_then(|o| o.as_array().ok()) {
        for pair in names.chunks(2) {
            if let [_, spec] = pair
                && let Some(dict) = deref(doc, Some(spec)).and_then(|o| o.as_dict().ok())
            {
                out.push(dict);
            }
        }
    }
    if let Some(kids) = deref(doc, node.get(b"Kids").ok()).and_then(|o| o.as_array().ok()) {
        for kid in kids {
            // Only referenced kids can form cycles; direct dictionaries are finite by parsing.
            if let Object::Reference(id) = kid
                && !visited.insert(*id)
            {
                continue;
            }
            if let Some(dict) = deref(doc, Some(kid)).and_then(|o| o.as_dict().ok()) {
                collect_name_tree(doc, dict, depth + 1, visited, out);
            }
            if visited.len() > MAX_NAME_TREE_NODES {
                return;
            }
        }
    }
}

/// The file name of a file specification: `/UF` (Unicode) first, then `/F`.
fn file_spec_name(doc: &Document, spec: &Dictionary) -> Option<String> {
    [b"UF".as_slice(), b"F".as_slice()]
        .into_iter()
        .filter_map(|key| deref(doc, spec.get(key).ok()))
        .find_map(|o| lopdf::decode_text_string(o).ok())
}

/// The decoded bytes of the file specification's embedded file stream (`/EF /UF` or `/EF /F`).
fn embedded_bytes(doc: &Document, spec: &Dictionary) -> Result<Vec<u8>, String> {
    let ef = deref(doc, spec.get(b"EF").ok())
        .and_then(|o| o.as_dict().ok())
        .ok_or("file specification has no /EF dictionary")?;
    let stream = [b"UF".as_slice(), b"F".as_slice()]
        .into_iter()
        .filter_map(|key| deref(doc, ef.get(key).ok()))
        .find_map(|o| o.as_stream().ok())
        .ok_or("/EF has no embedded file stream")?;
    stream
        .get_plain_content_with_limit(MAX_EMBEDDED_BYTES)
        .map_err(|e| error_chain(&e))
}

/// An error with its sources, since lopdf's top-level messages ("couldn't decompress stream")
/// hide the useful part ("exceeded the 20971520-byte limit").
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;

    #[test]
    fn non_pdf_is_refused_early() {
        assert_eq!(extract(b"hello world"), Err(FacturxError::NotPdf));
        assert_eq!(extract(b""), Err(FacturxError::NotPdf));
        assert_eq!(extract(b"<?xml version=\"1.0\"?><a/>"), Err(FacturxError::NotPdf));
    }

    #[test]
    fn header_only_is_malformed() {
        assert!(matches!(extract(b"%PDF-1.7\n%%EOF\n"), Err(FacturxError::Malformed(_))));
    }
}
