//! Attachments and PDF deposits (issue #13): uploads checked and owned by their uploader, then
//! referenced once by a deposit or a completion in its own transaction; `DEPOT_PDF_API` keeps the
//! deposited PDF as the invoice's; files are read by the invoice's two parties only.

use std::io::Read as _;

use facteur_app::{
    Actor, AppError, AttachmentId, AttachmentRef, AttachmentUpload, DownloadFormat, EntryLine, EntryMode, EntryTotals,
    EntryVatLine, InvoiceEntry, InvoiceKind, MAX_ATTACHMENT_BYTES, Problem, VatRate,
};
use facteur_domain::{
    IdentifierKind, InvoiceStatus, Party, Structure, StructureId, StructureIdentifier, StructureKind,
};
use rust_decimal::Decimal;

use crate::common::{SIRET_A, SIRET_B, TestApp, on_both};

on_both!(
    uploads_are_checked_and_belong_to_their_uploader,
    deposits_reference_attachments_once_and_only_their_own,
    pdf_deposits_read_factur_x_and_keep_the_pdf_as_the_invoice,
    completions_add_attachments_and_downloads_include_them,
    two_concurrent_deposits_cannot_both_take_one_attachment,
    an_invoice_holds_at_most_120_mb_of_files,
);

const OP: Actor = Actor::Operator;
const PUBLIC: &str = "21750001600019";

struct Parties {
    supplier: StructureId,
    recipient: StructureId,
    outsider: StructureId,
}

fn structure(siret: &str, kind: StructureKind, name: &str) -> Structure {
    let id = StructureIdentifier::parse(IdentifierKind::Siret, siret).unwrap();
    let mut s = Structure::new(id, kind, name).unwrap();
    s.address.line1 = "1 place de la Mairie".to_owned();
    s.address.postcode = "75001".to_owned();
    s.address.city = "Paris".to_owned();
    s.address.country = "FR".to_owned();
    s
}

async fn parties(t: &TestApp) -> Parties {
    let up = |s| t.app.upsert_structure(&OP, s, vec![]);
    Parties {
        supplier: up(structure(SIRET_A, StructureKind::Private, "Fournisseur"))
            .await
            .unwrap(),
        recipient: up(structure(PUBLIC, StructureKind::Public, "Mairie")).await.unwrap(),
        outsider: up(structure(SIRET_B, StructureKind::Private, "Tiers")).await.unwrap(),
    }
}

/// A file of the shared corpus (read in place).
fn corpus(path: &str) -> Vec<u8> {
    let root = std::env::var("FACTEUR_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    std::fs::read(root.join(path)).unwrap()
}

fn upload<'a>(bytes: &'a [u8], name: &'a str, mime: &'a str, ext: &'a str) -> AttachmentUpload<'a> {
    AttachmentUpload {
        bytes,
        file_name: name,
        media_type: mime,
        extension: ext,
    }
}

fn pj(id: AttachmentId) -> AttachmentRef {
    AttachmentRef {
        id,
        designation: Some("Bon de livraison".to_owned()),
        kind: Some("BL".to_owned()),
    }
}

/// 2 × 500.00 at 20 %.
fn entry(number: &str, mode: EntryMode, main: Vec<AttachmentRef>, attachments: Vec<AttachmentRef>) -> InvoiceEntry {
    InvoiceEntry {
        mode,
        main_attachments: main,
        attachments,
        number: number.to_owned(),
        issue_date: time::macros::date!(2026 - 03 - 02),
        due_date: None,
        kind: InvoiceKind::Invoice,
        supplier: None,
        bank_account: None,
        recipient: PUBLIC.to_owned(),
        service_code: None,
        engagement: None,
        contract: None,
        original_invoice: None,
        currency: "EUR".to_owned(),
        payment_mode: Some("CHEQUE".to_owned()),
        exemption_reason: None,
        comment: None,
        lines: vec![EntryLine {
            number: Some(1),
            reference: None,
            name: "Support".to_owned(),
            quantity: Decimal::from(2),
            unit: None,
            unit_price: Decimal::new(50_000, 2),
            discount: Decimal::ZERO,
            vat_rate: Some(VatRate::Code("TVA20".to_owned())),
        }],
        vat_lines: vec![EntryVatLine {
            vat_rate: Some(VatRate::Code("TVA20".to_owned())),
            base: Decimal::new(100_000, 2),
            amount: Decimal::new(20_000, 2),
        }],
        totals: EntryTotals {
            excl_vat: Decimal::new(100_000, 2),
            vat: Decimal::new(20_000, 2),
            incl_vat: Decimal::new(120_000, 2),
            global_discount: Decimal::ZERO,
            amount_due: Decimal::new(120_000, 2),
        },
    }
}

fn invalid(r: Result<impl std::fmt::Debug, AppError>) -> (&'static str, Problem) {
    match r {
        Err(AppError::Invalid { field, problem }) => (field, problem),
        other => panic!("expected a refused field, got {other:?}"),
    }
}

fn codes(r: Result<impl std::fmt::Debug, AppError>) -> Vec<&'static str> {
    match r {
        Err(AppError::Refused(findings)) => findings.iter().map(|f| f.code()).collect(),
        other => panic!("expected findings, got {other:?}"),
    }
}

async fn uploads_are_checked_and_belong_to_their_uploader(t: TestApp) {
    let p = parties(&t).await;
    let app = &t.app;
    let pdf = b"%PDF-1.7\n% a delivery note\n".to_vec();
    let a = app
        .add_attachment(&OP, p.supplier, upload(&pdf, "bl.pdf", "application/pdf", ".pdf"))
        .await
        .unwrap();
    assert_eq!(
        (a.extension.as_str(), a.size, a.invoice_id),
        ("PDF", pdf.len() as u64, None)
    );
    let csv = app
        .add_attachment(&OP, p.supplier, upload(b"a;b\n", "releve.csv", "text/csv", "csv"))
        .await
        .unwrap();
    assert_eq!(csv.media_type, "text/csv");

    // Refusals, each naming its field.
    let big = {
        let mut b = pdf.clone();
        b.resize(usize::try_from(MAX_ATTACHMENT_BYTES).unwrap() + 1, b' ');
        b
    };
    let long_name = "n".repeat(60);
    let cases: Vec<(AttachmentUpload<'_>, &str, Problem)> = vec![
        (
            upload(&big, "gros.pdf", "application/pdf", "PDF"),
            "pieceJointeFichier",
            Problem::TooLarge {
                max_bytes: MAX_ATTACHMENT_BYTES,
            },
        ),
        (
            upload(b"", "vide.pdf", "application/pdf", "PDF"),
            "pieceJointeFichier",
            Problem::Empty,
        ),
        (
            upload(b"MZ..", "virus.exe", "application/octet-stream", "EXE"),
            "pieceJointeExtension",
            Problem::TypeNotAllowed,
        ),
        (
            upload(&pdf, "bl.pdf", "image/png", "PDF"),
            "pieceJointeTypeMime",
            Problem::TypeNotAllowed,
        ),
        (
            upload(&pdf, "bl.png", "application/pdf", "PDF"),
            "pieceJointeNom",
            Problem::ExtensionMismatch,
        ),
        (
            upload(b"<html>not a pdf</html>", "bl.pdf", "application/pdf", "PDF"),
            "pieceJointeFichier",
            Problem::ContentMismatch,
        ),
        (
            upload(&pdf, &long_name, "application/pdf", "PDF"),
            "pieceJointeNom",
            Problem::TooLong { max: 50 },
        ),
    ];
    for (u, field, problem) in cases {
        assert_eq!(
            invalid(app.add_attachment(&OP, p.supplier, u).await),
            (field, problem.clone()),
            "{field}"
        );
    }
    // A member of another structure cannot upload for this one.
    let stranger = Actor::Technical {
        structure: p.outsider,
        account: facteur_domain::TechnicalAccountId(1),
    };
    assert!(matches!(
        app.add_attachment(&stranger, p.supplier, upload(&pdf, "bl.pdf", "application/pdf", "PDF"))
            .await,
        Err(AppError::NotFound)
    ));

    // Not referenced yet: its uploader's only.
    let file = app.download_attachment(&OP, p.supplier, a.id).await.unwrap();
    assert_eq!((file.bytes, file.file_name.as_str()), (pdf, "bl.pdf"));
    for other in [p.recipient, p.outsider] {
        assert!(matches!(
            app.download_attachment(&OP, other, a.id).await,
            Err(AppError::NotFound)
        ));
    }
    assert!(matches!(
        app.download_attachment(&OP, p.supplier, AttachmentId(999_999)).await,
        Err(AppError::NotFound)
    ));
}

async fn deposits_reference_attachments_once_and_only_their_own(t: TestApp) {
    let p = parties(&t).await;
    let app = &t.app;
    let add = |owner: StructureId, body: &'static [u8]| async move {
        app.add_attachment(&OP, owner, upload(body, "bl.pdf", "application/pdf", "PDF"))
            .await
            .unwrap()
            .id
    };
    let mine = add(p.supplier, b"%PDF-1.7 mine").await;
    let theirs = add(p.outsider, b"%PDF-1.7 theirs").await;

    // Refused, all at once: another structure's, an unknown id, the same id twice, a main
    // attachment in SAISIE_API. Nothing is recorded, the file stays free.
    let bad = entry(
        "PJ-BAD-1",
        EntryMode::Data,
        vec![pj(mine)],
        vec![pj(theirs), pj(AttachmentId(999_999)), pj(mine)],
    );
    let mut found = codes(app.submit_invoice(&OP, p.supplier, &bad, b"bad-1", None).await);
    found.sort_unstable();
    assert_eq!(found, ["FP-PJ-01", "FP-PJ-01", "FP-PJ-02", "FP-PJ-04"]);
    assert_eq!(
        app.download_attachment(&OP, p.supplier, mine).await.unwrap().bytes,
        b"%PDF-1.7 mine"
    );
    assert!(
        app.store()
            .attachment(mine, p.supplier)
            .await
            .unwrap()
            .unwrap()
            .invoice_id
            .is_none()
    );

    // A designation over 100 characters is a field error.
    let mut long = pj(mine);
    long.designation = Some("d".repeat(101));
    let wordy = entry("PJ-BAD-2", EntryMode::Data, vec![], vec![long]);
    assert_eq!(
        invalid(app.submit_invoice(&OP, p.supplier, &wordy, b"bad-2", None).await),
        (
            "pieceJointeComplementaire.pieceJointeComplementaireDesignation",
            Problem::TooLong { max: 100 }
        )
    );

    // Accepted: the file now belongs to the invoice, read by its two parties only.
    let ok = entry("PJ-OK-1", EntryMode::Data, vec![], vec![pj(mine)]);
    let done = app.submit_invoice(&OP, p.supplier, &ok, b"ok-1", None).await.unwrap();
    let linked = app.store().attachment(mine, p.supplier).await.unwrap().unwrap();
    assert_eq!(linked.invoice_id, Some(done.invoice.id));
    assert_eq!(linked.designation.as_deref(), Some("Bon de livraison"));
    assert_eq!(linked.kind.as_deref(), Some("BL"));
    for party in [p.supplier, p.recipient] {
        assert!(app.download_attachment(&OP, party, mine).await.is_ok());
    }
    assert!(matches!(
        app.download_attachment(&OP, p.outsider, mine).await,
        Err(AppError::NotFound)
    ));

    // Reused by a second deposit: refused, and that deposit leaves nothing.
    let again = entry("PJ-OK-2", EntryMode::Data, vec![], vec![pj(mine)]);
    assert_eq!(
        codes(app.submit_invoice(&OP, p.supplier, &again, b"ok-2", None).await),
        ["FP-PJ-02"]
    );
    assert!(
        !app.store()
            .invoice_number_used(p.supplier, 2026, "PJ-OK-2")
            .await
            .unwrap()
    );
}

async fn pdf_deposits_read_factur_x_and_keep_the_pdf_as_the_invoice(t: TestApp) {
    let p = parties(&t).await;
    let app = &t.app;

    // A Factur-X: stored, its embedded CII read into the answer.
    let fx = corpus("facturx/pdf/official-CII_example7.pdf");
    let read = app.deposit_pdf(&OP, p.supplier, &fx, "facture.pdf").await.unwrap();
    let data = read.invoice.expect("the embedded invoice is read");
    assert!(data.number.is_some() && data.issue_date.is_some(), "{data:?}");
    assert!(data.total_incl_vat.is_some() && data.currency.is_some(), "{data:?}");
    assert_eq!(read.attachment.extension, "PDF");
    assert_eq!(read.attachment.owner_id, p.supplier);

    // A plain PDF: stored, no data.
    let plain = corpus("facturx/pdf/negative-no-xml.pdf");
    let plain = app.deposit_pdf(&OP, p.supplier, &plain, "facture.pdf").await.unwrap();
    assert_eq!(plain.invoice, None);

    // Refused: not a PDF, a broken PDF, a Factur-X whose XML is unreadable, a blank name.
    assert_eq!(
        invalid(app.deposit_pdf(&OP, p.supplier, b"<Invoice/>", "f.pdf").await),
        ("fichierFacture", Problem::NotPdf)
    );
    assert_eq!(
        invalid(app.deposit_pdf(&OP, p.supplier, b"%PDF-1.7 truncated", "f.pdf").await),
        ("fichierFacture", Problem::NotPdf)
    );
    let junk = pdf_with_xml(b"<rsm:CrossIndustryInvoice><unclosed>");
    assert_eq!(
        invalid(app.deposit_pdf(&OP, p.supplier, &junk, "f.pdf").await),
        ("fichierFacture", Problem::FacturxUnreadable)
    );
    assert_eq!(
        invalid(app.deposit_pdf(&OP, p.supplier, &fx, " ").await),
        ("nomFichier", Problem::Missing)
    );

    // DEPOT_PDF_API needs exactly one main PDF.
    let none = entry("PDF-0", EntryMode::Pdf, vec![], vec![]);
    assert_eq!(
        codes(app.submit_invoice(&OP, p.supplier, &none, b"pdf-0", None).await),
        ["FP-PJ-04"]
    );
    let png = app
        .add_attachment(
            &OP,
            p.supplier,
            upload(b"\x89PNG\r\n\x1a\n....", "scan.png", "image/png", "PNG"),
        )
        .await
        .unwrap();
    let not_pdf = entry("PDF-1", EntryMode::Pdf, vec![pj(png.id)], vec![]);
    assert_eq!(
        codes(app.submit_invoice(&OP, p.supplier, &not_pdf, b"pdf-1", None).await),
        ["FP-PJ-05"]
    );

    // Accepted: the PDF is the invoice's own (PDF download), the UBL copy its structured one.
    let ok = entry("PDF-2", EntryMode::Pdf, vec![pj(plain.attachment.id)], vec![]);
    let done = app.submit_invoice(&OP, p.supplier, &ok, b"pdf-2", None).await.unwrap();
    assert_eq!(done.status, InvoiceStatus::MiseADisposition);
    let deposit = app.store().deposit(done.invoice.deposit_id).await.unwrap().unwrap();
    assert_eq!(deposit.channel, facteur_store::DepositChannel::ApiPdf);
    let ids = [done.invoice.id];
    let as_pdf = app
        .download_invoices(&OP, p.recipient, &ids, DownloadFormat::Pdf, false)
        .await
        .unwrap();
    assert_eq!(as_pdf.bytes, corpus("facturx/pdf/negative-no-xml.pdf"));
    assert_eq!(as_pdf.file_name, "PDF-2.pdf");
    let pivot = app
        .download_invoices(&OP, p.supplier, &ids, DownloadFormat::Structured, false)
        .await
        .unwrap();
    assert!(
        String::from_utf8(pivot.bytes)
            .unwrap()
            .contains("<cbc:ID>PDF-2</cbc:ID>")
    );
    assert!(matches!(
        app.download_invoices(&OP, p.outsider, &ids, DownloadFormat::Pdf, false)
            .await,
        Err(AppError::NotFound)
    ));
}

/// A PDF carrying `xml` as its `factur-x.xml` attachment.
fn pdf_with_xml(xml: &[u8]) -> Vec<u8> {
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.7");
    let file_id = doc.add_object(Stream::new(
        dictionary! { "Type" => "EmbeddedFile", "Subtype" => "text/xml" },
        xml.to_vec(),
    ));
    let spec_id = doc.add_object(dictionary! {
        "Type" => "Filespec",
        "F" => Object::string_literal("factur-x.xml"),
        "UF" => Object::string_literal("factur-x.xml"),
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
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 }),
    );
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
        "AF" => vec![spec_id.into()],
        "Names" => dictionary! {
            "EmbeddedFiles" => dictionary! { "Names" => vec![Object::string_literal("factur-x.xml"), spec_id.into()] },
        },
    });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

async fn completions_add_attachments_and_downloads_include_them(t: TestApp) {
    let p = parties(&t).await;
    let app = &t.app;
    let first = app
        .add_attachment(
            &OP,
            p.supplier,
            upload(b"%PDF-1.7 bl", "bl.pdf", "application/pdf", "PDF"),
        )
        .await
        .unwrap();
    let done = app
        .submit_invoice(
            &OP,
            p.supplier,
            &entry("CPL-1", EntryMode::Data, vec![], vec![pj(first.id)]),
            b"cpl-1",
            None,
        )
        .await
        .unwrap();
    let id = done.invoice.id;
    app.process_invoice(&OP, p.recipient, id, InvoiceStatus::Suspendue, Some("PV manquant"))
        .await
        .unwrap();

    // Another structure's file, or one already used: refused, the invoice stays suspended.
    let theirs = app
        .add_attachment(
            &OP,
            p.outsider,
            upload(b"%PDF-1.7 x", "x.pdf", "application/pdf", "PDF"),
        )
        .await
        .unwrap();
    assert_eq!(
        codes(app.complete_invoice(&OP, p.supplier, id, None, &[pj(theirs.id)]).await),
        ["FP-PJ-01"]
    );
    assert_eq!(
        codes(app.complete_invoice(&OP, p.supplier, id, None, &[pj(first.id)]).await),
        ["FP-PJ-02"]
    );
    let detail = app
        .invoice_detail(&OP, p.supplier, id, Some(Party::Supplier))
        .await
        .unwrap();
    assert_eq!(detail.invoice.status, InvoiceStatus::Suspendue);

    // An attachment alone completes it.
    let pv = app
        .add_attachment(
            &OP,
            p.supplier,
            upload(b"PV de reception\n", "pv.txt", "text/plain", "TXT"),
        )
        .await
        .unwrap();
    let (_, step) = app
        .complete_invoice(&OP, p.supplier, id, None, &[pj(pv.id)])
        .await
        .unwrap();
    assert_eq!(step.to, InvoiceStatus::Completee);
    assert_eq!(
        app.store()
            .attachment(pv.id, p.supplier)
            .await
            .unwrap()
            .unwrap()
            .invoice_id,
        Some(id)
    );

    // With attachments, the download is a zip: the invoice's file and both attachments.
    let zip = app
        .download_invoices(&OP, p.recipient, &[id], DownloadFormat::Structured, true)
        .await
        .unwrap();
    assert_eq!(
        (zip.file_name.as_str(), zip.media_type.as_str()),
        ("factures.zip", "application/zip")
    );
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.bytes)).unwrap();
    let mut names: Vec<String> = archive.file_names().map(|n| n.unwrap().into_owned()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "CPL-1.xml".to_owned(),
            format!("CPL-1_PJ{}_bl.pdf", first.id),
            format!("CPL-1_PJ{}_pv.txt", pv.id),
        ]
    );
    let mut text = String::new();
    archive
        .by_name(&format!("CPL-1_PJ{}_pv.txt", pv.id))
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "PV de reception\n");
    // Without: the invoice's file alone.
    let plain = app
        .download_invoices(&OP, p.recipient, &[id], DownloadFormat::Structured, false)
        .await
        .unwrap();
    assert_eq!(plain.file_name, "CPL-1.xml");
}

async fn two_concurrent_deposits_cannot_both_take_one_attachment(t: TestApp) {
    let p = parties(&t).await;
    let app = &t.app;
    let shared = app
        .add_attachment(
            &OP,
            p.supplier,
            upload(b"%PDF-1.7 shared", "s.pdf", "application/pdf", "PDF"),
        )
        .await
        .unwrap()
        .id;
    let one = entry("RACE-1", EntryMode::Data, vec![], vec![pj(shared)]);
    let two = entry("RACE-2", EntryMode::Data, vec![], vec![pj(shared)]);
    let (a, b) = tokio::join!(
        app.submit_invoice(&OP, p.supplier, &one, b"race-1", None),
        app.submit_invoice(&OP, p.supplier, &two, b"race-2", None),
    );
    let (won, lost) = match (a, b) {
        (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w, l),
        other => panic!("exactly one deposit must win: {other:?}"),
    };
    assert_eq!(codes(Err::<(), _>(lost)), ["FP-PJ-02"]);
    let linked = app.store().attachment(shared, p.supplier).await.unwrap().unwrap();
    assert_eq!(linked.invoice_id, Some(won.invoice.id));
    let loser = if won.invoice.number == "RACE-1" {
        "RACE-2"
    } else {
        "RACE-1"
    };
    assert!(!app.store().invoice_number_used(p.supplier, 2026, loser).await.unwrap());
}

async fn an_invoice_holds_at_most_120_mb_of_files(t: TestApp) {
    let p = parties(&t).await;
    let app = &t.app;
    // Rows recorded as 10 MB each (the size a row states is what the limit adds up; the bytes do
    // not matter here, which keeps the test light).
    let mut refs = Vec::new();
    for n in 0..13 {
        let a = app
            .store()
            .create_attachment(
                &facteur_store::NewAttachment {
                    owner: p.supplier,
                    blob: facteur_store::BlobId::of(format!("file {n}").as_bytes()),
                    size: MAX_ATTACHMENT_BYTES,
                    file_name: format!("f{n}.pdf"),
                    media_type: "application/pdf".to_owned(),
                    extension: "PDF".to_owned(),
                },
                facteur_store::Actor::System,
            )
            .await
            .unwrap();
        refs.push(pj(a.id));
    }
    // 12 × 10 MB = 120 MB: accepted; 13: refused, and the 13th file stays free.
    let too_many = entry("MB-1", EntryMode::Data, vec![], refs.clone());
    assert_eq!(
        codes(app.submit_invoice(&OP, p.supplier, &too_many, b"mb-1", None).await),
        ["FP-PJ-03"]
    );
    let last = refs.pop().unwrap();
    let fits = entry("MB-2", EntryMode::Data, vec![], refs);
    let done = app.submit_invoice(&OP, p.supplier, &fits, b"mb-2", None).await.unwrap();
    // Completing it with one more file would pass the limit.
    app.process_invoice(&OP, p.recipient, done.invoice.id, InvoiceStatus::Suspendue, Some("PV"))
        .await
        .unwrap();
    assert_eq!(
        codes(
            app.complete_invoice(&OP, p.supplier, done.invoice.id, None, &[last])
                .await
        ),
        ["FP-PJ-03"]
    );
}
