//! Batch flows: a crash at any write of the processing (the store's failure injection) followed
//! by a re-run neither loses a file nor integrates one twice, and two runs at once settle each
//! file once; a batch too large for memory goes through files only.

use std::io::Write;

use facteur_app::{Actor, DepositId, DepositState, FlowUpload, demo};
use facteur_domain::{IdentifierKind, StructureId, StructureIdentifier};

use crate::common::{TestApp, on_both};

on_both!(
    a_batch_survives_a_crash_at_every_write,
    two_runs_of_a_batch_settle_each_file_once,
    a_large_batch_goes_through_files_only
);

const BAKERY: &str = "51234567900017";
const IT_FIRM: &str = "81234567600017";
const COMMUNE: &str = "21990001600011";
/// The year of the template's issue date.
const ISSUE_YEAR: i32 = 2019;

fn corpus(path: &str) -> String {
    let root = std::env::var("FACTEUR_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    std::fs::read_to_string(root.join("en16931").join(path)).unwrap()
}

/// The corpus's valid BIS 3 UBL invoice, numbered `number`, sold by `seller` to `buyer`.
fn ubl(number: &str, seller: &str, buyer: &str) -> String {
    corpus("ubl/examples/BIS3_Invoice_positive.xml")
        .replacen("<cbc:ID>12345</cbc:ID>", &format!("<cbc:ID>{number}</cbc:ID>"), 1)
        .replace("  <cbc:BuyerReference>n/a</cbc:BuyerReference>\n", "")
        .replace(
            r#"<cbc:CompanyID schemeID="0184">DK87654321</cbc:CompanyID>"#,
            &format!(r#"<cbc:CompanyID schemeID="0009">{buyer}</cbc:CompanyID>"#),
        )
        .replace(
            r#"<cbc:CompanyID schemeID="0184">DK12345678</cbc:CompanyID>"#,
            &format!(r#"<cbc:CompanyID schemeID="0009">{seller}</cbc:CompanyID>"#),
        )
}

/// A zip of six invoices numbered `{prefix}-{rank}`; ranks 2 (unknown recipient) and 5 (another
/// seller) are invalid.
fn batch(prefix: &str) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for rank in 1..=6u32 {
        let number = format!("{prefix}-{rank}");
        let xml = match rank {
            2 => ubl(&number, BAKERY, "12345678200010"),
            5 => ubl(&number, IT_FIRM, COMMUNE),
            _ => ubl(&number, BAKERY, COMMUNE),
        };
        w.start_file(format!("lot/{rank}.xml"), opts).unwrap();
        w.write_all(xml.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

async fn seeded(t: &mut TestApp) -> StructureId {
    if let Some(w) = t.worker.take() {
        w.stop().await;
    }
    demo::seed(&t.app, &t.dir.path().join("data")).await.unwrap();
    let id = StructureIdentifier::parse(IdentifierKind::Siret, BAKERY).unwrap();
    t.app
        .store()
        .find_structure_by_identifier(&id)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn deposit(t: &TestApp, bakery: StructureId, prefix: &str) -> DepositId {
    let bytes = batch(prefix);
    let receipt = t
        .app
        .deposit_flow(
            &Actor::Operator,
            bakery,
            FlowUpload {
                bytes: &bytes,
                file_name: "lot.zip",
                syntax: "IN_DP_E1_UBL_INVOICE",
            },
            None,
        )
        .await
        .unwrap();
    receipt.flow.id
}

/// The flow ended partially integrated: ranks 1, 3, 4, 6 integrated once, 2 and 5 reported.
async fn assert_settled(t: &TestApp, bakery: StructureId, id: DepositId, prefix: &str) {
    let report = t.app.flow_report(&Actor::Operator, bakery, id).await.unwrap();
    assert_eq!(report.flow.state, DepositState::PartiallyIntegrated, "{prefix}");
    let rejected: Vec<(u32, Option<&str>)> = report
        .rejected
        .iter()
        .map(|r| (r.rank, r.entry_name.as_deref()))
        .collect();
    assert_eq!(rejected, [(2, Some("lot/2.xml")), (5, Some("lot/5.xml"))], "{prefix}");
    assert_eq!(report.rejected[0].findings[0].code, "FP-DEST-01");
    assert_eq!(report.rejected[1].findings[0].code, "FP-FOUR-02");
    let entries = t.app.store().flow_entries(id).await.unwrap();
    assert_eq!(entries.len(), 6, "{prefix}: {entries:?}");
    for e in &entries {
        let integrated = ![2, 5].contains(&e.rank);
        assert_eq!(e.invoice.is_some(), integrated, "{prefix}: {e:?}");
        // The number is unique per supplier and year, so a file is integrated once at most.
        let used = t
            .app
            .store()
            .invoice_number_used(bakery, ISSUE_YEAR, &format!("{prefix}-{}", e.rank))
            .await
            .unwrap();
        assert_eq!(used, integrated, "{prefix}: {e:?}");
    }
}

async fn a_batch_survives_a_crash_at_every_write(mut t: TestApp) {
    let bakery = seeded(&mut t).await;
    let store = t.app.store().clone();
    for n in 1..100u32 {
        let prefix = format!("C{n}");
        let id = deposit(&t, bakery, &prefix).await;
        store.fail_write_step(n);
        let crashed = t.app.process_flow(id).await;
        let steps = store.write_steps();
        store.clear_faults();
        if let Ok(state) = crashed {
            // The step is beyond the whole run: it went through.
            assert_eq!(state, DepositState::PartiallyIntegrated);
            assert_settled(&t, bakery, id, &prefix).await;
            assert!(n > 8, "too few writes: {steps:?}");
            return;
        }
        // The worker would run the job again: it settles what the crash left.
        assert_eq!(
            t.app.process_flow(id).await.unwrap(),
            DepositState::PartiallyIntegrated,
            "crash at write {n} ({:?})",
            steps.last()
        );
        assert_settled(&t, bakery, id, &prefix).await;
        // And again: nothing changes.
        assert_eq!(t.app.process_flow(id).await.unwrap(), DepositState::PartiallyIntegrated);
        assert_settled(&t, bakery, id, &prefix).await;
    }
    panic!("the processing never succeeded");
}

async fn two_runs_of_a_batch_settle_each_file_once(mut t: TestApp) {
    let bakery = seeded(&mut t).await;
    let id = deposit(&t, bakery, "TWICE").await;
    let (a, b) = tokio::join!(t.app.process_flow(id), t.app.process_flow(id));
    assert_eq!(a.unwrap(), DepositState::PartiallyIntegrated);
    assert_eq!(b.unwrap(), DepositState::PartiallyIntegrated);
    assert_settled(&t, bakery, id, "TWICE").await;
}

/// A 19 MB batch received into a file: stored in parts, processed from a temporary file.
async fn a_large_batch_goes_through_files_only(mut t: TestApp) {
    use sha2::Digest;
    let bakery = seeded(&mut t).await;
    // Two invoices padded with 9.5 MB comments of digits (stored, not compressed).
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for rank in 1..=2u32 {
        let padding: String = (0..9_500_000u32)
            .map(|i| char::from(b'0' + (i * 7 % 10) as u8))
            .collect();
        let xml = ubl(&format!("BIG-{rank}"), BAKERY, COMMUNE).replacen(
            "<Invoice",
            &format!("<!-- {padding} -->\n<Invoice"),
            1,
        );
        w.start_file(format!("{rank}.xml"), opts).unwrap();
        w.write_all(xml.as_bytes()).unwrap();
    }
    let bytes = w.finish().unwrap().into_inner();
    assert!(bytes.len() > 16 * 1024 * 1024);
    let upload = t.dir.path().join("upload.zip");
    std::fs::write(&upload, &bytes).unwrap();
    let receipt = t
        .app
        .deposit_flow_file(
            &Actor::Operator,
            bakery,
            facteur_app::FlowFileUpload {
                path: &upload,
                size: bytes.len() as u64,
                sha256: sha2::Sha256::digest(&bytes).into(),
                file_name: "gros-lot.zip",
                syntax: "IN_DP_E1_UBL_INVOICE",
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(receipt.flow.media_type, "application/zip");
    assert_eq!(receipt.flow.size, bytes.len() as u64);
    assert_eq!(
        t.app.process_flow(receipt.flow.id).await.unwrap(),
        DepositState::Integrated
    );
    for rank in 1..=2 {
        assert!(
            t.app
                .store()
                .invoice_number_used(bakery, ISSUE_YEAR, &format!("BIG-{rank}"))
                .await
                .unwrap()
        );
    }
    // No temporary file is left behind.
    let tmp = t.dir.path().join("tmp");
    assert!(!tmp.exists() || std::fs::read_dir(&tmp).unwrap().next().is_none());
}
