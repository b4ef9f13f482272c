//! Invoice files for the two parties (`factures/v1/telecharger/groupe`): each invoice's
//! structured copy, or a readable PDF of it (for a `DEPOT_PDF_API` invoice, the PDF deposited);
//! one file for one invoice, a zip for several or when the attachments are asked for.

use std::collections::BTreeSet;
use std::io::Write as _;

use facteur_domain::{ServiceId, StructureId};
use facteur_einvoice::model::Invoice;
use facteur_einvoice::{cii, facturx, xml};
use facteur_store::{AttachmentRole, InvoiceId, InvoiceRecord, InvoiceSide};

use crate::invoices::in_scope;
use crate::{Actor, App, AppError, AppResult, Problem};

/// Largest answer: Chorus Pro refuses a download beyond 120 MB (HTTP 413).
pub const MAX_DOWNLOAD_BYTES: u64 = 120 * 1024 * 1024;

/// Most invoices in one download (the API's result cap).
pub const MAX_DOWNLOAD_INVOICES: usize = 200;

/// What each invoice becomes in a download (`format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadFormat {
    /// `PIVOT`: the structured copy (EN 16931 XML) as stored.
    Structured,
    /// `PDF`: the PDF deposited with a `DEPOT_PDF_API` invoice; otherwise a readable PDF, a
    /// Factur-X made from the structured copy (its XML embedded).
    Pdf,
}

/// One file to hand over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadFile {
    pub file_name: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

impl App {
    /// The files of `invoices` in `format`, for a member of `structure` on either side of each
    /// (another structure's invoice is [`AppError::NotFound`], as an unknown one). Several
    /// invoices come as one zip, each named after its number. `with_attachments`
    /// (`avecPiecesJointesComplementaires`) adds each invoice's complementary attachments to
    /// the zip (always a zip then), as `NUMBER_PJ<id>_<file name>`; they count in the 120 MB.
    #[tracing::instrument(skip_all, fields(count = invoices.len()))]
    pub async fn download_invoices(
        &self,
        actor: &Actor,
        structure: StructureId,
        invoices: &[InvoiceId],
        format: DownloadFormat,
        with_attachments: bool,
    ) -> AppResult<DownloadFile> {
        self.require_member(actor, structure).await?;
        let ids: BTreeSet<InvoiceId> = invoices.iter().copied().collect();
        if ids.is_empty() {
            return Err(AppError::Invalid {
                field: "listeFacture",
                problem: Problem::Missing,
            });
        }
        if ids.len() > MAX_DOWNLOAD_INVOICES {
            return Err(AppError::Invalid {
                field: "listeFacture",
                problem: Problem::TooMany {
                    max: MAX_DOWNLOAD_INVOICES,
                },
            });
        }
        let scope = self.service_scope(actor, structure).await?;
        let mut files = Vec::with_capacity(ids.len());
        let mut total = 0u64;
        let mut add = |file: DownloadFile, files: &mut Vec<DownloadFile>| {
            total = total.saturating_add(u64::try_from(file.bytes.len()).unwrap_or(u64::MAX));
            if total > MAX_DOWNLOAD_BYTES {
                return Err(AppError::TooLarge {
                    max_bytes: MAX_DOWNLOAD_BYTES,
                });
            }
            files.push(file);
            Ok(())
        };
        for id in ids {
            let record = self.invoice_of_either_side(id, structure, scope.as_deref()).await?;
            let attachments = self.db().invoice_attachments(record.id).await?;
            let main = attachments.iter().find(|a| a.role == Some(AttachmentRole::Main));
            add(self.invoice_file(&record, format, main).await?, &mut files)?;
            if with_attachments {
                let stem = file_stem(&record.number);
                for a in attachments
                    .iter()
                    .filter(|a| a.role == Some(AttachmentRole::Complementary))
                {
                    let bytes = self.attachment_bytes(a).await?;
                    let file = DownloadFile {
                        file_name: format!("{stem}_PJ{}_{}", a.id, file_stem(&a.file_name)),
                        media_type: a.media_type.clone(),
                        bytes,
                    };
                    add(file, &mut files)?;
                }
            }
        }
        if files.len() == 1 && !with_attachments {
            return files.pop().ok_or(AppError::NotFound);
        }
        let bytes = zip_files(&files).map_err(|e| AppError::Internal(format!("zip: {e}")))?;
        Ok(DownloadFile {
            file_name: "factures.zip".to_owned(),
            media_type: "application/zip".to_owned(),
            bytes,
        })
    }

    /// The invoice as either side of `structure` sees it, within the caller's service `scope`.
    async fn invoice_of_either_side(
        &self,
        id: InvoiceId,
        structure: StructureId,
        scope: Option<&[ServiceId]>,
    ) -> AppResult<InvoiceRecord> {
        for side in [InvoiceSide::Supplier(structure), InvoiceSide::Recipient(structure)] {
            if let Some(record) = self.db().invoice(id, side).await?
                && in_scope(scope, &record, side)
            {
                return Ok(record);
            }
        }
        Err(AppError::NotFound)
    }

    async fn invoice_file(
        &self,
        record: &InvoiceRecord,
        format: DownloadFormat,
        main_pdf: Option<&facteur_store::AttachmentRecord>,
    ) -> AppResult<DownloadFile> {
        if let (DownloadFormat::Pdf, Some(main)) = (format, main_pdf) {
            return Ok(DownloadFile {
                file_name: format!("{}.pdf", file_stem(&record.number)),
                media_type: "application/pdf".to_owned(),
                bytes: self.attachment_bytes(main).await?,
            });
        }
        let blob = record
            .structured
            .as_ref()
            .ok_or_else(|| AppError::Internal(format!("invoice {} has no structured copy", record.id)))?;
        let structured = self
            .blob(blob)
            .await?
            .ok_or_else(|| AppError::Internal(format!("structured copy {} missing", blob.as_str())))?;
        let stem = file_stem(&record.number);
        match format {
            DownloadFormat::Structured => Ok(DownloadFile {
                file_name: format!("{stem}.xml"),
                media_type: "application/xml".to_owned(),
                bytes: structured,
            }),
            DownloadFormat::Pdf => {
                let pdf = tokio::task::spawn_blocking(move || readable_pdf(&structured))
                    .await
                    .map_err(|e| AppError::Internal(format!("PDF task: {e}")))??;
                Ok(DownloadFile {
                    file_name: format!("{stem}.pdf"),
                    media_type: "application/pdf".to_owned(),
                    bytes: pdf,
                })
            }
        }
    }
}

/// A Factur-X PDF of a stored structured copy (which the deposit checked: a failure here is ours).
fn readable_pdf(structured: &[u8]) -> AppResult<Vec<u8>> {
    let (_, draft) = xml::read_xml(structured).map_err(|e| AppError::Internal(format!("stored copy: {e}")))?;
    let invoice = Invoice::try_from(&draft).map_err(|e| AppError::Internal(format!("stored copy: {e}")))?;
    facturx::generate(&invoice, &cii::write(&invoice)).map_err(|e| AppError::Internal(format!("rendering: {e}")))
}

/// A name safe in a zip: letters, digits, `-`, `_`, `+` (and `.` for an attachment's extension);
/// anything else, `/` of invoice numbers included, becomes `_`.
fn file_stem(number: &str) -> String {
    number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_+.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn zip_files(files: &[DownloadFile]) -> zip::result::ZipResult<Vec<u8>> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut taken = BTreeSet::new();
    for file in files {
        // Two invoices may share a number (two suppliers, or two years): the second gets a suffix.
        let mut name = file.file_name.clone();
        let mut n = 1;
        while !taken.insert(name.clone()) {
            n += 1;
            name = match file.file_name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}-{n}.{ext}"),
                None => format!("{}-{n}", file.file_name),
            };
        }
        out.start_file(name, options)?;
        out.write_all(&file.bytes)?;
    }
    Ok(out.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(file_stem("F-2026/001"), "F-2026_001");
        assert_eq!(file_stem("../../etc"), ".._.._etc");
        assert_eq!(file_stem("bon livraison.pdf"), "bon_livraison.pdf");
    }

    #[test]
    fn zips_name_every_file_once() {
        let file = |name: &str| DownloadFile {
            file_name: name.to_owned(),
            media_type: "application/xml".to_owned(),
            bytes: name.as_bytes().to_vec(),
        };
        let bytes = zip_files(&[file("A.xml"), file("A.xml"), file("B.xml")]).unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let names: Vec<String> = archive.file_names().map(|n| n.unwrap().into_owned()).collect();
        assert_eq!(names, ["A.xml", "A-2.xml", "B.xml"]);
        let mut content = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("A-2.xml").unwrap(), &mut content).unwrap();
        assert_eq!(content, "A.xml");
    }
}
