//! Factur-X / ZUGFeRD hybrid invoices: a PDF/A-3 whose attached XML is the legal invoice.
//!
//! - [`extract`] finds the CII attachment (`factur-x.xml`, `zugferd-invoice.xml`, `xrechnung.xml`)
//!   through the catalog's `/AF` array and the `/EmbeddedFiles` name tree, and reads the
//!   `fx:ConformanceLevel` of the XMP metadata. Input is hostile: size, object count and
//!   decompressed sizes are capped, and every failure is a [`FacturxError`], never a panic.
//! - [`generate`] (from the strict model) and [`generate_rendering`] render a readable invoice with krilla as PDF/A-3b, embeds the CII and then
//!   patches the XMP packet with lopdf to add the `fx:` extension schema, which krilla cannot
//!   write itself. Generation is behind the `generate` cargo feature (on by default); without it
//!   the crate reads Factur-X but does not pull in krilla and its font stack (the fuzz build).
//!
//! Everything is bytes in, bytes out: no file or network access.

mod extract;
#[cfg(feature = "generate")]
mod from_model;
#[cfg(feature = "generate")]
mod generate;
mod profile;
#[cfg(feature = "generate")]
mod render;
// Reading the conformance level is extraction; patching the packet is only for generation.
#[cfg_attr(not(feature = "generate"), allow(dead_code))]
mod xmp;

pub use extract::{ATTACHMENT_NAMES, Extracted, MAX_EMBEDDED_BYTES, MAX_OBJECTS, MAX_PDF_BYTES, extract};
#[cfg(feature = "generate")]
pub use from_model::generate;
#[cfg(feature = "generate")]
pub use generate::{Options, Relationship, generate_rendering};
pub use profile::{Profile, guideline_id, guideline_id_in, guideline_profile};
#[cfg(feature = "generate")]
pub use render::{Party, Rendering, RenderingLine, Totals, VatRow};

/// Why a PDF could not be read or written as Factur-X.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FacturxError {
    /// The bytes do not start like a PDF file.
    #[error("not a PDF file (no %PDF- header)")]
    NotPdf,
    /// The input exceeds a hard cap, so it is refused before any parsing work.
    #[error("{what} too large: {size} bytes, limit {limit}")]
    TooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },
    /// The PDF structure cannot be parsed (broken xref, truncated file, bad objects...).
    #[error("malformed PDF: {0}")]
    Malformed(String),
    /// The PDF has more indirect objects than a sane invoice would.
    #[error("PDF has {count} objects, limit {limit}")]
    TooManyObjects { count: usize, limit: usize },
    /// The PDF is readable but carries no Factur-X / ZUGFeRD / XRechnung XML file.
    #[error("no Factur-X XML attachment (looked for {})", ATTACHMENT_NAMES.join(", "))]
    NoXmlAttachment,
    /// The attachment exists but its stream cannot be decoded within the limits.
    #[error("embedded file {name}: {reason}")]
    BadAttachment { name: String, reason: String },
    /// The XML passed to [`generate`] is not usable as a Factur-X attachment.
    #[error("invalid XML for embedding: {0}")]
    InvalidXml(String),
    /// krilla refused to write the document (PDF/A validation or font problems).
    #[error("PDF generation failed: {0}")]
    Render(String),
    /// The XMP packet written by krilla could not be patched with the Factur-X schema.
    #[error("XMP metadata: {0}")]
    Xmp(String),
}
