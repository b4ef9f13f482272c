//! Writing a Factur-X PDF: krilla renders PDF/A-3b with the XML attached, lopdf then adds the
//! `fx:` extension schema to the XMP packet (krilla has no API for custom XMP).

use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::{DateTime, Metadata};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};

use super::extract::load;
use super::render::{Op, PAGE_H, PAGE_W, Rendering, layout};
use super::{FacturxError, Profile, profile, xmp};

/// How the XML relates to the visual document (`/AFRelationship`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Relationship {
    /// The PDF rendering was derived from the XML: the Factur-X default.
    #[default]
    Data,
    /// Both are equivalent representations: required by ZUGFeRD for XRechnung in Germany.
    Alternative,
}

/// Generation options; [`Options::default`] takes the profile from the XML's guideline id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Conformance level written to the XMP; `None` reads the XML's guideline id (and falls
    /// back to EN 16931 when absent or unknown).
    pub profile: Option<Profile>,
    pub relationship: Relationship,
}

/// Attachment name Factur-X 1.0 mandates for every profile, XRechnung included.
const FILE_NAME: &str = "factur-x.xml";
/// Software name written to `/Producer` and `xmp:CreatorTool`.
const PRODUCER: &str = "Facteur";

/// Generates a Factur-X PDF/A-3b: `rendering` is drawn, `xml` is embedded unchanged as
/// `factur-x.xml`, and the XMP packet carries the Factur-X extension schema.
///
/// # Errors
/// [`FacturxError::InvalidXml`] if `xml` is not well-formed UTF-8 XML,
/// [`FacturxError::Render`] if the issue date is not ISO or krilla refuses the document,
/// [`FacturxError::Xmp`] if the metadata cannot be patched.
pub fn generate_rendering(rendering: &Rendering, xml: &[u8], options: &Options) -> Result<Vec<u8>, FacturxError> {
    check_xml(xml)?;
    let profile = options
        .profile
        .or_else(|| profile::guideline_profile(xml))
        .unwrap_or(Profile::En16931);
    let date = pdf_date(&rendering.issue_date)?;

    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A3_B)
        .finish()
        .map_err(|e| FacturxError::Render(format!("PDF/A-3b configuration: {e:?}")))?;
    let settings = SerializeSettings {
        configuration,
        ..SerializeSettings::default()
    };
    let mut document = Document::new_with(settings);

    let regular = Font::new(dejavu::sans::regular().into(), 0)
        .ok_or_else(|| FacturxError::Render("cannot load DejaVu Sans".to_owned()))?;
    let bold = Font::new(dejavu::sans::bold().into(), 0)
        .ok_or_else(|| FacturxError::Render("cannot load DejaVu Sans Bold".to_owned()))?;

    let footer = format!(
        "Facture électronique Factur-X (profil {}) : le fichier {FILE_NAME} joint fait foi.",
        profile.conformance_level()
    );
    let page_settings =
        PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| FacturxError::Render("invalid page size".to_owned()))?;
    for ops in layout(rendering, &footer) {
        let mut page = document.start_page_with(page_settings.clone());
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    bold: is_bold,
                    text,
                } => {
                    surface.set_fill(Some(Fill::default()));
                    surface.set_stroke(None);
                    let font = if is_bold { bold.clone() } else { regular.clone() };
                    surface.draw_text(Point::from_xy(x, y), font, size, &text, false, TextDirection::Auto);
                }
                Op::Rule { x1, x2, y } => {
                    let mut builder = PathBuilder::new();
                    builder.move_to(x1, y);
                    builder.line_to(x2, y);
                    if let Some(path) = builder.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            width: 0.5,
                            ..Stroke::default()
                        }));
                        surface.draw_path(&path);
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }

    let title = format!("{} {}", title_or_default(rendering), rendering.number);
    let mut metadata = Metadata::new()
        .title(title)
        .creator(PRODUCER.to_owned())
        .producer(PRODUCER.to_owned())
        .creation_date(date)
        .language("fr".to_owned());
    if !rendering.seller.name.trim().is_empty() {
        metadata = metadata.authors(vec![rendering.seller.name.clone()]);
    }
    document.set_metadata(metadata);

    let mime = MimeType::new("text/xml").ok_or_else(|| FacturxError::Render("invalid MIME type".to_owned()))?;
    document
        .embed_file(EmbeddedFile {
            path: FILE_NAME.to_owned(),
            mime_type: Some(mime),
            description: Some("Factur-X XML invoice".to_owned()),
            association_kind: match options.relationship {
                Relationship::Data => AssociationKind::Data,
                Relationship::Alternative => AssociationKind::Alternative,
            },
            data: xml.to_vec().into(),
            modification_date: Some(date),
            compress: Some(true),
            location: None,
        })
        .ok_or_else(|| FacturxError::Render("attachment embedded twice".to_owned()))?;

    let pdf = document.finish().map_err(|e| FacturxError::Render(e.to_string()))?;
    add_fx_metadata(&pdf, FILE_NAME, profile.conformance_level())
}

fn title_or_default(r: &Rendering) -> &str {
    if r.title.trim().is_empty() { "Facture" } else { &r.title }
}

/// The attachment must be the invoice: well-formed UTF-8 XML, no DTD.
fn check_xml(xml: &[u8]) -> Result<(), FacturxError> {
    let text = std::str::from_utf8(xml).map_err(|e| FacturxError::InvalidXml(format!("not UTF-8: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..roxmltree::ParsingOptions::default()
    };
    roxmltree::Document::parse_with_options(text, options)
        .map(|_| ())
        .map_err(|e| FacturxError::InvalidXml(e.to_string()))
}

/// Parses `YYYY-MM-DD` (or CII's `YYYYMMDD`) into a UTC date for the PDF and the attachment.
///
/// The issue date rather than the clock keeps generation deterministic and pure.
fn pdf_date(iso: &str) -> Result<DateTime, FacturxError> {
    let digits: String = iso.trim().chars().filter(|c| *c != '-').collect();
    let bad = || FacturxError::Render(format!("issue date {iso:?} is not YYYY-MM-DD"));
    if digits.len() != 8 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let year: u16 = digits[..4].parse().map_err(|_| bad())?;
    let month: u8 = digits[4..6].parse().map_err(|_| bad())?;
    let day: u8 = digits[6..8].parse().map_err(|_| bad())?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    Ok(DateTime::new(year)
        .month(month)
        .day(day)
        .hour(0)
        .minute(0)
        .second(0)
        .utc_offset_hour(0)
        .utc_offset_minute(0))
}

/// Rewrites the catalog's `/Metadata` stream with the Factur-X extension schema added.
///
/// The stream is stored unfiltered, as PDF/A recommends for XMP so that tools can find it.
fn add_fx_metadata(pdf: &[u8], file_name: &str, conformance_level: &str) -> Result<Vec<u8>, FacturxError> {
    let mut doc = load(pdf)?;
    let metadata_id = doc
        .catalog()
        .and_then(|c| c.get(b"Metadata"))
        .and_then(|o| o.as_reference())
        .map_err(|e| FacturxError::Xmp(format!("catalog has no /Metadata reference: {e}")))?;
    let stream = doc
        .get_object_mut(metadata_id)
        .and_then(|o| o.as_stream_mut())
        .map_err(|e| FacturxError::Xmp(format!("/Metadata is not a stream: {e}")))?;
    let packet = stream
        .get_plain_content_with_limit(super::MAX_EMBEDDED_BYTES)
        .map_err(|e| FacturxError::Xmp(e.to_string()))?;
    let patched = xmp::add_fx_schema(&packet, file_name, conformance_level)?;
    stream.set_plain_content(patched);
    stream.allows_compression = false;

    let mut out = Vec::with_capacity(pdf.len() + 4096);
    doc.save_to(&mut out)
        .map_err(|e| FacturxError::Xmp(format!("cannot write patched PDF: {e}")))?;
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;

    #[test]
    fn dates_parse_or_fail_cleanly() {
        assert!(pdf_date("2026-01-31").is_ok());
        assert!(pdf_date("20260131").is_ok());
        assert!(pdf_date("2026-13-01").is_err());
        assert!(pdf_date("31/01/2026").is_err());
        assert!(pdf_date("").is_err());
        assert!(pdf_date("２０２６-01-31").is_err());
    }

    #[test]
    fn xml_must_be_well_formed() {
        assert!(check_xml(b"<a/>").is_ok());
        assert!(matches!(check_xml(b"<a>"), Err(FacturxError::InvalidXml(_))));
        assert!(matches!(check_xml(&[0xc3, 0x28]), Err(FacturxError::InvalidXml(_))));
        assert!(matches!(
            check_xml(b"<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>"),
            Err(FacturxError::InvalidXml(_))
        ));
    }
}
