//! Attachments and PDF deposits (issue #13).
//!
//! - **Upload** ([`App::add_attachment`], `transverses/v1/ajouter/fichier`): a file of an allowed
//!   type (spec §5: extension, declared media type consistent with it, bytes matching it where a
//!   signature is cheap to check), at most [`MAX_ATTACHMENT_BYTES`], stored in the blob store and
//!   recorded for the caller's structure only.
//! - **PDF deposit** ([`App::deposit_pdf`], `factures/v1/deposer/pdf`): a PDF stored the same
//!   way, with the invoice data its Factur-X XML gives, if it carries one, for a following
//!   `soumettre` in `DEPOT_PDF_API` mode.
//! - **References** from a deposit or a completion are checked all at once as platform findings
//!   (`FP-PJ-…`) and linked inside the use case's own transaction ([`App::link_attachments`]).
//! - **Reads**: the uploader while no invoice references the file, then the invoice's two
//!   parties only; anyone else gets [`AppError::NotFound`], as for an unknown id.

use std::collections::BTreeSet;

use facteur_domain::StructureId;
use facteur_einvoice::facturx::FacturxError;
use facteur_store::{
    AttachmentId, AttachmentLink, AttachmentRecord, AttachmentRole, InvoiceId, InvoiceKind, InvoiceSide, NewAttachment,
    StoreError, Tx,
};
use rust_decimal::Decimal;
use time::Date;

use crate::access::store_actor;
use crate::flows::{buyer_identifier, doc_date, seller_identifier, text};
use crate::invoice_files::DownloadFile;
use crate::invoices::{blank_to_none, in_scope};
use crate::{Actor, App, AppError, AppResult, Finding, PlatformRule, Problem};

/// Largest attachment: Chorus Pro takes files under 10 MB (spec §5).
pub const MAX_ATTACHMENT_BYTES: u64 = 10 * 1024 * 1024;

/// Largest total of the files of one invoice (main PDF and attachments, spec §5).
pub const MAX_INVOICE_ATTACHMENT_BYTES: u64 = 120 * 1024 * 1024;

/// Longest `pieceJointeNom`, extension included (spec §5).
pub const MAX_ATTACHMENT_NAME_CHARS: usize = 50;

/// Longest `nomFichier` of a PDF deposit (spec §5, file name of a deposit).
pub const MAX_DEPOSIT_NAME_CHARS: usize = 200;

/// What the first bytes of a type must look like; `Any` when no cheap check exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signature {
    Pdf,
    Png,
    Jpeg,
    Gif,
    Bmp,
    Tiff,
    /// Zip and the formats made of one (OOXML, OpenDocument).
    Zip,
    Gzip,
    Bzip2,
    /// OLE2 compound files (legacy Office).
    Ole,
    Rtf,
    /// Text (no NUL byte, no binary signature at the start).
    Text,
    Any,
}

/// The allowed types (spec §5): extension, the media types it may be declared with, signature.
const TYPES: &[(&str, &[&str], Signature)] = &[
    ("PDF", &["application/pdf"], Signature::Pdf),
    ("PNG", &["image/png"], Signature::Png),
    ("JPG", &["image/jpeg", "image/pjpeg"], Signature::Jpeg),
    ("JPEG", &["image/jpeg", "image/pjpeg"], Signature::Jpeg),
    ("GIF", &["image/gif"], Signature::Gif),
    ("BMP", &["image/bmp", "image/x-bmp", "image/x-ms-bmp"], Signature::Bmp),
    ("TIF", &["image/tiff"], Signature::Tiff),
    ("TIFF", &["image/tiff"], Signature::Tiff),
    ("FAX", &["image/g3fax", "image/tiff"], Signature::Any),
    ("SVG", &["image/svg+xml"], Signature::Text),
    ("TXT", &["text/plain"], Signature::Text),
    ("CSV", &["text/csv", "text/plain", "application/csv"], Signature::Text),
    ("XML", &["application/xml", "text/xml"], Signature::Text),
    ("HTM", &["text/html"], Signature::Text),
    ("HTML", &["text/html"], Signature::Text),
    ("XHTML", &["application/xhtml+xml", "text/html"], Signature::Text),
    ("RTF", &["application/rtf", "text/rtf"], Signature::Rtf),
    (
        "ZIP",
        &["application/zip", "application/x-zip-compressed"],
        Signature::Zip,
    ),
    ("GZ", &["application/gzip", "application/x-gzip"], Signature::Gzip),
    ("GZIP", &["application/gzip", "application/x-gzip"], Signature::Gzip),
    (
        "TGZ",
        &["application/gzip", "application/x-gzip", "application/x-compressed-tar"],
        Signature::Gzip,
    ),
    ("BZ2", &["application/x-bzip2", "application/x-bzip"], Signature::Bzip2),
    (
        "P7S",
        &["application/pkcs7-signature", "application/x-pkcs7-signature"],
        Signature::Any,
    ),
    ("DOC", &["application/msword"], Signature::Ole),
    ("XLS", &["application/vnd.ms-excel"], Signature::Ole),
    ("XLC", &["application/vnd.ms-excel"], Signature::Any),
    ("XLM", &["application/vnd.ms-excel"], Signature::Any),
    ("PPT", &["application/vnd.ms-powerpoint"], Signature::Ole),
    ("PPS", &["application/vnd.ms-powerpoint"], Signature::Ole),
    (
        "DOCX",
        &["application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
        Signature::Zip,
    ),
    (
        "XLSX",
        &["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
        Signature::Zip,
    ),
    (
        "PPTX",
        &["application/vnd.openxmlformats-officedocument.presentationml.presentation"],
        Signature::Zip,
    ),
    ("ODT", &["application/vnd.oasis.opendocument.text"], Signature::Zip),
    (
        "ODS",
        &["application/vnd.oasis.opendocument.spreadsheet"],
        Signature::Zip,
    ),
    (
        "ODP",
        &["application/vnd.oasis.opendocument.presentation"],
        Signature::Zip,
    ),
];

/// Starts of binary formats a text file may not have.
const BINARY_STARTS: &[&[u8]] = &[
    b"%PDF-",
    b"\x89PNG",
    b"\xFF\xD8\xFF",
    b"GIF8",
    b"PK\x03\x04",
    b"\x1F\x8B",
    b"BZh",
    b"\xD0\xCF\x11\xE0",
    b"II*\0",
    b"MM\0*",
];

impl Signature {
    fn matches(self, bytes: &[u8]) -> bool {
        match self {
            Self::Pdf => bytes.starts_with(b"%PDF-"),
            Self::Png => bytes.starts_with(b"\x89PNG\r\n\x1A\n"),
            Self::Jpeg => bytes.starts_with(b"\xFF\xD8\xFF"),
            Self::Gif => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
            Self::Bmp => bytes.starts_with(b"BM"),
            Self::Tiff => bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*"),
            // An empty archive is only an end-of-directory record.
            Self::Zip => bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06"),
            Self::Gzip => bytes.starts_with(b"\x1F\x8B"),
            Self::Bzip2 => bytes.starts_with(b"BZh"),
            Self::Ole => bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"),
            Self::Rtf => bytes.starts_with(b"{\\rtf"),
            Self::Text => {
                let head = &bytes[..bytes.len().min(8192)];
                !head.contains(&0) && !BINARY_STARTS.iter().any(|s| head.starts_with(s))
            }
            Self::Any => true,
        }
    }
}

/// A file as `transverses/v1/ajouter/fichier` receives it (bytes already decoded).
#[derive(Clone, Copy, Debug)]
pub struct AttachmentUpload<'a> {
    pub bytes: &'a [u8],
    /// `pieceJointeNom`: at most 50 characters, ending with `.` + the extension.
    pub file_name: &'a str,
    /// `pieceJointeTypeMime`.
    pub media_type: &'a str,
    /// `pieceJointeExtension` (with or without the dot, any case).
    pub extension: &'a str,
}

/// A reference to an uploaded file from a deposit or a completion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentRef {
    /// `…Id`.
    pub id: AttachmentId,
    /// `…Designation` (at most 100 characters).
    pub designation: Option<String>,
    /// `pieceJointeComplementaireType` (at most 30 characters).
    pub kind: Option<String>,
}

/// What a PDF deposit read from an embedded Factur-X invoice (each term when present).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PdfInvoiceData {
    pub number: Option<String>,
    pub issue_date: Option<Date>,
    pub due_date: Option<Date>,
    pub kind: Option<InvoiceKind>,
    pub currency: Option<String>,
    /// The seller's identifier (BT-30, else BT-29).
    pub supplier: Option<String>,
    /// The buyer's SIRET (BT-47 or BT-46).
    pub recipient: Option<String>,
    /// BT-10, read by Chorus Pro as the service code.
    pub service_code: Option<String>,
    /// BT-13, the engagement number.
    pub engagement: Option<String>,
    pub total_excl_vat: Option<Decimal>,
    pub total_vat: Option<Decimal>,
    pub total_incl_vat: Option<Decimal>,
    pub amount_due: Option<Decimal>,
}

/// The answer to a PDF deposit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PdfDeposit {
    /// The stored PDF, to reference as `pieceJointePrincipale` in `DEPOT_PDF_API`.
    pub attachment: AttachmentRecord,
    /// The embedded invoice's data, `None` for a PDF without one.
    pub invoice: Option<PdfInvoiceData>,
}

fn size_of(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).unwrap_or(u64::MAX)
}

/// A file name: not blank, at most `max` characters, no control character nor path separator.
fn check_name(field: &'static str, name: &str, max: usize) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid(field, Problem::Missing));
    }
    if name.chars().count() > max {
        return Err(AppError::invalid(field, Problem::TooLong { max }));
    }
    if name.chars().any(|c| c.is_control() || c == '/' || c == '\\') {
        return Err(AppError::invalid(field, Problem::ControlCharacter));
    }
    Ok(name.to_owned())
}

/// The media type without parameters, lower case.
fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Checks an upload against the allowed types; its normalised (extension, media type).
fn check_type(upload: &AttachmentUpload<'_>) -> AppResult<(String, String)> {
    let extension = upload.extension.trim().trim_start_matches('.').to_ascii_uppercase();
    let Some((ext, media_types, signature)) = TYPES.iter().find(|(e, _, _)| *e == extension) else {
        return Err(AppError::invalid("pieceJointeExtension", Problem::TypeNotAllowed));
    };
    let media_type = essence(upload.media_type);
    if !media_types.contains(&media_type.as_str()) {
        return Err(AppError::invalid("pieceJointeTypeMime", Problem::TypeNotAllowed));
    }
    let named = upload
        .file_name
        .trim()
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_uppercase());
    if named.as_deref() != Some(*ext) {
        return Err(AppError::invalid("pieceJointeNom", Problem::ExtensionMismatch));
    }
    if !signature.matches(upload.bytes) {
        return Err(AppError::invalid("pieceJointeFichier", Problem::ContentMismatch));
    }
    Ok(((*ext).to_owned(), media_type))
}

fn amount(v: Option<&facteur_einvoice::model::draft::Val>) -> Option<Decimal> {
    text(v).and_then(|t| t.parse().ok())
}

/// Reads a deposited PDF: `Ok(None)` for a plain PDF, the embedded invoice's data for a
/// Factur-X; a file that is not a readable PDF, or whose invoice XML cannot be read, is refused.
fn read_pdf(bytes: &[u8]) -> AppResult<Option<PdfInvoiceData>> {
    const FIELD: &str = "fichierFacture";
    let extracted = match facteur_einvoice::facturx::extract(bytes) {
        Ok(e) => e,
        Err(FacturxError::NoXmlAttachment) => return Ok(None),
        Err(FacturxError::TooLarge { .. }) => {
            return Err(AppError::invalid(
                FIELD,
                Problem::TooLarge {
                    max_bytes: MAX_ATTACHMENT_BYTES,
                },
            ));
        }
        Err(FacturxError::BadAttachment { name, reason }) => {
            tracing::info!(%name, %reason, "Factur-X attachment unreadable");
            return Err(AppError::invalid(FIELD, Problem::FacturxUnreadable));
        }
        Err(e) => {
            tracing::info!(error = %e, "deposited file is not a readable PDF");
            return Err(AppError::invalid(FIELD, Problem::NotPdf));
        }
    };
    let (_, draft) = facteur_einvoice::xml::read_xml(&extracted.xml).map_err(|e| {
        tracing::info!(error = %e, "Factur-X XML unreadable");
        AppError::invalid(FIELD, Problem::FacturxUnreadable)
    })?;
    let totals = draft.totals.as_ref();
    Ok(Some(PdfInvoiceData {
        number: text(draft.number.as_ref()),
        issue_date: doc_date(draft.issue_date.as_ref()),
        due_date: doc_date(draft.due_date.as_ref()),
        kind: Some(match draft.kind {
            facteur_einvoice::model::DocKind::CreditNote => InvoiceKind::CreditNote,
            facteur_einvoice::model::DocKind::Invoice => InvoiceKind::Invoice,
        }),
        currency: text(draft.currency_code.as_ref()),
        supplier: seller_identifier(&draft),
        recipient: buyer_identifier(&draft),
        service_code: text(draft.buyer_reference.as_ref()),
        engagement: text(draft.purchase_order_reference.as_ref()),
        total_excl_vat: totals.and_then(|t| amount(t.tax_exclusive_total.as_ref())),
        total_vat: totals.and_then(|t| amount(t.vat_total.as_ref())),
        total_incl_vat: totals.and_then(|t| amount(t.tax_inclusive_total.as_ref())),
        amount_due: totals.and_then(|t| amount(t.payable.as_ref())),
    }))
}

/// The request field a role's references come from.
fn field_of(role: AttachmentRole) -> &'static str {
    match role {
        AttachmentRole::Main => "pieceJointePrincipale",
        AttachmentRole::Complementary => "pieceJointeComplementaire",
    }
}

/// A refusal of one reference found inside the transaction (a concurrent deposit took it).
fn link_refusal(e: StoreError, role: AttachmentRole) -> AppError {
    match e {
        StoreError::NotFound(_) => {
            AppError::Refused(vec![Finding::platform(PlatformRule::AttachmentUnknown, field_of(role))])
        }
        StoreError::IllegalTransition { .. } => {
            AppError::Refused(vec![Finding::platform(PlatformRule::AttachmentTaken, field_of(role))])
        }
        other => other.into(),
    }
}

impl App {
    /// `transverses/v1/ajouter/fichier`: stores a file for `structure` (see the module
    /// documentation); refusals are [`AppError::Invalid`] naming the field at fault.
    #[tracing::instrument(skip_all, fields(structure = %structure))]
    pub async fn add_attachment(
        &self,
        actor: &Actor,
        structure: StructureId,
        upload: AttachmentUpload<'_>,
    ) -> AppResult<AttachmentRecord> {
        self.require_member(actor, structure).await?;
        let file_name = check_name("pieceJointeNom", upload.file_name, MAX_ATTACHMENT_NAME_CHARS)?;
        if upload.bytes.is_empty() {
            return Err(AppError::invalid("pieceJointeFichier", Problem::Empty));
        }
        if size_of(upload.bytes) > MAX_ATTACHMENT_BYTES {
            return Err(AppError::invalid(
                "pieceJointeFichier",
                Problem::TooLarge {
                    max_bytes: MAX_ATTACHMENT_BYTES,
                },
            ));
        }
        let (extension, media_type) = check_type(&upload)?;
        self.store_attachment(actor, structure, upload.bytes, file_name, media_type, extension)
            .await
    }

    /// A large blob first (content-addressed: an orphan after a failed commit is harmless), then
    /// the row, with a small blob in the same transaction.
    async fn store_attachment(
        &self,
        actor: &Actor,
        owner: StructureId,
        bytes: &[u8],
        file_name: String,
        media_type: String,
        extension: String,
    ) -> AppResult<AttachmentRecord> {
        let blob = self.stage_blob(bytes.to_vec()).await?;
        let mut tx = self.db().begin().await?;
        let blob = blob.record(&mut tx).await?;
        let record = tx
            .create_attachment(
                &NewAttachment {
                    owner,
                    blob,
                    size: size_of(bytes),
                    file_name,
                    media_type,
                    extension,
                },
                store_actor(actor),
            )
            .await?;
        self.commit(tx).await?;
        Ok(record)
    }

    /// `factures/v1/deposer/pdf`: stores a PDF (plain or Factur-X) for `structure` as an
    /// attachment and reads the embedded invoice, if any (see the module documentation).
    #[tracing::instrument(skip_all, fields(structure = %structure))]
    pub async fn deposit_pdf(
        &self,
        actor: &Actor,
        structure: StructureId,
        bytes: &[u8],
        file_name: &str,
    ) -> AppResult<PdfDeposit> {
        self.require_member(actor, structure).await?;
        let file_name = check_name("nomFichier", file_name, MAX_DEPOSIT_NAME_CHARS)?;
        if bytes.is_empty() {
            return Err(AppError::invalid("fichierFacture", Problem::Empty));
        }
        if size_of(bytes) > MAX_ATTACHMENT_BYTES {
            return Err(AppError::invalid(
                "fichierFacture",
                Problem::TooLarge {
                    max_bytes: MAX_ATTACHMENT_BYTES,
                },
            ));
        }
        if !Signature::Pdf.matches(bytes) {
            return Err(AppError::invalid("fichierFacture", Problem::NotPdf));
        }
        let owned = bytes.to_vec();
        let invoice = tokio::task::spawn_blocking(move || read_pdf(&owned))
            .await
            .map_err(|e| AppError::Internal(format!("PDF task: {e}")))??;
        let attachment = self
            .store_attachment(
                actor,
                structure,
                bytes,
                file_name,
                "application/pdf".to_owned(),
                "PDF".to_owned(),
            )
            .await?;
        Ok(PdfDeposit { attachment, invoice })
    }

    /// Checks the references of a deposit or a completion by `owner`, before its transaction:
    /// every finding goes to `out` (unknown or another structure's id, an id referenced twice
    /// or already by an invoice, the invoice's total over 120 MB with the `already` bytes it
    /// holds). The referenced records, in order.
    pub(crate) async fn check_attachment_refs(
        &self,
        owner: StructureId,
        refs: &[(&AttachmentRef, AttachmentRole)],
        already: u64,
        out: &mut Vec<Finding>,
    ) -> AppResult<Vec<AttachmentRecord>> {
        use PlatformRule as R;
        let mut seen = BTreeSet::new();
        let mut found = Vec::with_capacity(refs.len());
        let mut total = already;
        for (r, role) in refs {
            if let Some(d) = &r.designation
                && d.trim().chars().count() > 100
            {
                let field = match role {
                    AttachmentRole::Main => "pieceJointePrincipale.pieceJointePrincipaleDesignation",
                    AttachmentRole::Complementary => "pieceJointeComplementaire.pieceJointeComplementaireDesignation",
                };
                return Err(AppError::invalid(field, Problem::TooLong { max: 100 }));
            }
            if let Some(k) = &r.kind
                && k.trim().chars().count() > 30
            {
                return Err(AppError::invalid(
                    "pieceJointeComplementaire.pieceJointeComplementaireType",
                    Problem::TooLong { max: 30 },
                ));
            }
            let field = field_of(*role);
            if !seen.insert(r.id) {
                out.push(Finding::platform(R::AttachmentTaken, field));
                continue;
            }
            match self.db().attachment(r.id, owner).await? {
                None => out.push(Finding::platform(R::AttachmentUnknown, field)),
                Some(a) if a.invoice_id.is_some() => out.push(Finding::platform(R::AttachmentTaken, field)),
                Some(a) => {
                    total = total.saturating_add(a.size);
                    found.push(a);
                }
            }
        }
        if total > MAX_INVOICE_ATTACHMENT_BYTES {
            out.push(Finding::platform(R::AttachmentsTooLarge, "pieceJointeComplementaire"));
        }
        Ok(found)
    }

    /// Gives the referenced files of `owner` to `invoice`, in the caller's transaction; a
    /// reference a concurrent deposit took meanwhile, or the invoice's total going over 120 MB,
    /// refuses the whole use case (the transaction is dropped).
    pub(crate) async fn link_attachments(
        tx: &mut Tx,
        owner: StructureId,
        invoice: InvoiceId,
        refs: &[(&AttachmentRef, AttachmentRole)],
        actor: facteur_store::Actor,
    ) -> AppResult<()> {
        let mut total = tx.invoice_attachment_bytes(invoice).await?;
        for (r, role) in refs {
            let record = tx
                .attachment(r.id, owner)
                .await?
                .ok_or_else(|| link_refusal(StoreError::NotFound("attachment"), *role))?;
            total = total.saturating_add(record.size);
            if total > MAX_INVOICE_ATTACHMENT_BYTES {
                return Err(AppError::Refused(vec![Finding::platform(
                    PlatformRule::AttachmentsTooLarge,
                    field_of(*role),
                )]));
            }
            let designation = blank_to_none(r.designation.as_deref());
            let kind = blank_to_none(r.kind.as_deref());
            tx.link_attachment(&AttachmentLink {
                attachment: r.id,
                owner,
                invoice,
                role: *role,
                designation: designation.as_deref(),
                kind: kind.as_deref(),
                actor,
            })
            .await
            .map_err(|e| link_refusal(e, *role))?;
        }
        Ok(())
    }

    /// `transverses/v1/telecharger/pieceJointe`: one file, for its uploader while no invoice
    /// references it, then for the invoice's two parties only.
    #[tracing::instrument(skip_all, fields(attachment = %id))]
    pub async fn download_attachment(
        &self,
        actor: &Actor,
        structure: StructureId,
        id: AttachmentId,
    ) -> AppResult<DownloadFile> {
        self.require_member(actor, structure).await?;
        let record = self
            .db()
            .attachment_for_party(id, structure)
            .await?
            .ok_or(AppError::NotFound)?;
        // A recipient's member limited to services reads only their invoices' files.
        if let Some(invoice) = record.invoice_id
            && let Some(scope) = self.service_scope(actor, structure).await?
            && let Some(received) = self.db().invoice(invoice, InvoiceSide::Recipient(structure)).await?
            && !in_scope(Some(&scope), &received, InvoiceSide::Recipient(structure))
        {
            return Err(AppError::NotFound);
        }
        let bytes = self.attachment_bytes(&record).await?;
        Ok(DownloadFile {
            file_name: record.file_name,
            media_type: record.media_type,
            bytes,
        })
    }

    pub(crate) async fn attachment_bytes(&self, record: &AttachmentRecord) -> AppResult<Vec<u8>> {
        self.blob(&record.blob)
            .await?
            .ok_or_else(|| AppError::Internal(format!("attachment blob {} missing", record.blob.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload<'a>(bytes: &'a [u8], name: &'a str, mime: &'a str, ext: &'a str) -> AttachmentUpload<'a> {
        AttachmentUpload {
            bytes,
            file_name: name,
            media_type: mime,
            extension: ext,
        }
    }

    #[test]
    fn types_are_checked_by_extension_media_type_and_bytes() {
        let ok = check_type(&upload(b"%PDF-1.7\n", "bl.pdf", "application/pdf", ".pdf")).unwrap();
        assert_eq!(ok, ("PDF".to_owned(), "application/pdf".to_owned()));
        let csv = check_type(&upload(b"a;b\n1;2\n", "t.csv", "text/csv; charset=utf-8", "CSV")).unwrap();
        assert_eq!(csv.1, "text/csv");
        let refused = |u: AttachmentUpload<'_>| match check_type(&u) {
            Err(AppError::Invalid { field, problem }) => (field, problem),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            refused(upload(b"MZ", "a.exe", "application/octet-stream", "EXE")),
            ("pieceJointeExtension", Problem::TypeNotAllowed)
        );
        assert_eq!(
            refused(upload(b"%PDF-1.7", "a.pdf", "image/png", "PDF")),
            ("pieceJointeTypeMime", Problem::TypeNotAllowed)
        );
        assert_eq!(
            refused(upload(b"%PDF-1.7", "a.png", "application/pdf", "PDF")),
            ("pieceJointeNom", Problem::ExtensionMismatch)
        );
        assert_eq!(
            refused(upload(b"hello", "a.pdf", "application/pdf", "PDF")),
            ("pieceJointeFichier", Problem::ContentMismatch)
        );
        assert_eq!(
            refused(upload(b"%PDF-1.7 binary\0", "a.txt", "text/plain", "TXT")),
            ("pieceJointeFichier", Problem::ContentMismatch)
        );
        // Every type of the table is reachable and upper case.
        for (ext, mimes, _) in TYPES {
            assert_eq!(*ext, ext.to_ascii_uppercase());
            assert!(!mimes.is_empty());
        }
        assert_eq!(TYPES.len(), 35);
    }

    #[test]
    fn names_are_bounded_and_plain() {
        assert!(check_name("n", "bon.pdf", 50).is_ok());
        assert!(check_name("n", &format!("{}.pdf", "a".repeat(47)), 50).is_err());
        assert!(check_name("n", "../x.pdf", 50).is_err());
        assert!(check_name("n", "  ", 50).is_err());
    }

    #[test]
    fn a_file_that_is_no_pdf_or_a_broken_one_is_refused() {
        assert!(matches!(
            read_pdf(b"%PDF-1.7 truncated"),
            Err(AppError::Invalid {
                problem: Problem::NotPdf,
                ..
            })
        ));
    }
}
