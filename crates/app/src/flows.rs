//! Structured flows (`factures/v1/deposer/flux`, issue #13): a depositor sends one UBL 2.1, CII
//! D16B or Factur-X file, or a batch of them (a `.zip` or `.tar.gz`, [`crate::archive`]); the
//! platform answers as soon as the original bytes and the flow are durable, and the job queue does
//! the rest.
//!
//! - **Receive** ([`App::deposit_flow`], or [`App::deposit_flow_file`] for a streamed upload): the
//!   declared `syntaxeFlux` must be one the platform reads ([`FlowSyntax`]); the original goes to
//!   the blob store first, then the flow (a deposit of channel `DEPOT_FLUX_API`, state `IN_RECU`),
//!   its audit line and its `flow.process` job are recorded in one transaction. A retry (same
//!   `Idempotency-Key`, or the same bytes from the same depositor within 24 h) answers with the
//!   first flow and records nothing.
//! - **Process** ([`App::process_flow`], run by the worker): `IN_RECU` →
//!   `IN_EN_COURS_TRAITEMENT_CPP`, then each document is read (a Factur-X PDF gives its embedded
//!   XML; the syntax must be the declared one), the EN 16931 engine runs, and the invoice gets the
//!   platform checks of `SAISIE_API` (seller = the depositor, recipient = buyer SIRET, BT-10
//!   service code, BT-13 engagement number, number format and uniqueness, amounts). A clean
//!   invoice is recorded and routed by the same path as `SAISIE_API` ([`App::record_invoice`]);
//!   otherwise its findings go to the flow's report. A single file moves the flow to `IN_INTEGRE`
//!   or `IN_REJETE` in that same transaction. A batch is checked whole first (a hostile archive
//!   is rejected with nothing integrated), then each file is settled in its own transaction with
//!   its outcome row, and the flow ends `IN_INTEGRE`, `IN_INTEGRE_PARTIEL` or `IN_REJETE`. Every
//!   state change is a conditional update with its audit line and each file's outcome is unique
//!   per rank, so a job run twice, or re-run after a crash, settles each file once.
//! - **Report** ([`App::flow_report`]): the state and every rejected invoice with its rank, its
//!   archive entry and its findings, for the depositor's structure only.

use facteur_domain::{InvoiceNumber, StructureId, StructureIdentifier};
use facteur_einvoice::model as en;
use facteur_einvoice::model::draft::{Draft, Val};
use facteur_einvoice::validate::{Severity, Syntax};
use facteur_store::{
    BlobId, DepositChannel, DepositId, DepositRecord, DepositState, FlowEntry, FlowFinding, InvoiceKind, NewDeposit,
    NewJob, StoreError, StructureRecord, Unique,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::access::store_actor;
use crate::archive::{self, ArchiveError, ArchiveKind, ArchiveLimits};
use crate::invoices::{Routing, SAME_BYTES_WINDOW, ToRecord, blank_to_none};
use crate::{Actor, App, AppError, AppResult, Conflict, Finding, PlatformRule, Problem, Staged};

/// The job kind that processes a flow.
pub(crate) const FLOW_PROCESS: &str = "flow.process";

/// Longest `nomFichier` (spec §4.3), and longest file name inside a batch archive.
pub const MAX_FILE_NAME_CHARS: usize = 200;

/// Largest invoice file, uncompressed, inside a batch archive (connectors cap an e-invoice at
/// 10 MB, spec §5).
pub const MAX_INVOICE_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// A `syntaxeFlux` the platform reads (spec §4.6); the others are refused
/// ([`PlatformRule::FlowSyntaxUnsupported`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowSyntax {
    /// `IN_DP_E1_UBL_INVOICE`: a UBL 2.1 Invoice or CreditNote.
    UblInvoice,
    /// `IN_DP_E1_CII_16B`: a UN/CEFACT CII D16B CrossIndustryInvoice.
    Cii16B,
    /// `IN_DP_E2_CII_FACTURX`: a Factur-X PDF/A-3 whose embedded CII is the invoice.
    FacturX,
}

impl FlowSyntax {
    pub const ALL: &[FlowSyntax] = &[Self::UblInvoice, Self::Cii16B, Self::FacturX];

    /// The spec's code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UblInvoice => "IN_DP_E1_UBL_INVOICE",
            Self::Cii16B => "IN_DP_E1_CII_16B",
            Self::FacturX => "IN_DP_E2_CII_FACTURX",
        }
    }

    /// The syntax of a code, `None` for one the platform does not read.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.as_str() == code.trim())
    }

    fn xml_syntax(self) -> Syntax {
        match self {
            Self::UblInvoice => Syntax::Ubl,
            Self::Cii16B | Self::FacturX => Syntax::Cii,
        }
    }

    fn media_type(self) -> &'static str {
        match self {
            Self::UblInvoice | Self::Cii16B => "application/xml",
            Self::FacturX => "application/pdf",
        }
    }
}

/// `numeroFluxDepot` of a flow: `CPP` and its id on 12 digits.
pub fn flow_number(id: DepositId) -> String {
    format!("CPP{:012}", id.0)
}

/// The flow a `numeroFluxDepot` names (`None` when it names none).
pub fn parse_flow_number(s: &str) -> Option<DepositId> {
    let digits = s.trim().strip_prefix("CPP")?;
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(DepositId)
}

/// A file deposited as a flow.
#[derive(Clone, Copy, Debug)]
pub struct FlowUpload<'a> {
    /// The file as decoded from `fichierFlux`.
    pub bytes: &'a [u8],
    /// `nomFichier`.
    pub file_name: &'a str,
    /// `syntaxeFlux` as sent.
    pub syntax: &'a str,
}

/// A flow received into a file (a streamed upload), its SHA-256 computed while it was written.
#[derive(Clone, Copy, Debug)]
pub struct FlowFileUpload<'a> {
    pub path: &'a std::path::Path,
    pub size: u64,
    /// The SHA-256 of the file's bytes.
    pub sha256: [u8; 32],
    /// `nomFichier`.
    pub file_name: &'a str,
    /// `syntaxeFlux` as sent.
    pub syntax: &'a str,
}

/// The names a deposit came with.
struct UploadNames<'a> {
    file_name: &'a str,
    syntax: &'a str,
}

/// Where a deposited flow's bytes are.
enum Original<'a> {
    Bytes(&'a [u8]),
    File {
        path: &'a std::path::Path,
        size: u64,
        id: BlobId,
        /// The first bytes (archive sniffing).
        head: Vec<u8>,
    },
}

impl Original<'_> {
    fn size(&self) -> u64 {
        match self {
            Original::Bytes(b) => u64::try_from(b.len()).unwrap_or(u64::MAX),
            Original::File { size, .. } => *size,
        }
    }

    fn head(&self) -> &[u8] {
        match self {
            Original::Bytes(b) => b,
            Original::File { head, .. } => head,
        }
    }
}

/// The answer to a flow deposit.
#[derive(Clone, Debug)]
pub struct FlowReceipt {
    pub flow: DepositRecord,
    pub syntax: FlowSyntax,
    /// A retry answered with the first flow.
    pub replayed: bool,
}

/// One finding of a rejected invoice, as the report gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportFinding {
    /// `FP-…` or the EN 16931 rule id.
    pub code: String,
    /// The platform rule, when the code is one (its words are chosen at the edge).
    pub rule: Option<PlatformRule>,
    /// The term a platform rule is about (`BT-1`, `BT-10`…).
    pub field: Option<String>,
    /// The engine's words (EN 16931 findings).
    pub message_fr: Option<String>,
    pub message_en: Option<String>,
    /// Where in the document, when the engine says.
    pub path: Option<String>,
    pub line: Option<u32>,
}

/// A rejected invoice of a flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedInvoice {
    /// Rank in the flow: 0 for a single file or a batch refused as a whole, from 1 for the
    /// files of a batch, in archive order.
    pub rank: u32,
    /// What the document says, when it could be read that far.
    pub number: Option<String>,
    pub supplier: Option<String>,
    pub recipient: Option<String>,
    /// The archive entry it came from (batch flows).
    pub entry_name: Option<String>,
    pub findings: Vec<ReportFinding>,
}

/// A flow's report (`consulterCR`, `consulterCRDetaille`).
#[derive(Clone, Debug)]
pub struct FlowReport {
    pub flow: DepositRecord,
    pub rejected: Vec<RejectedInvoice>,
}

#[derive(Debug, Serialize, Deserialize)]
struct FlowJob {
    deposit: i64,
}

/// What the document says of itself, for the report.
#[derive(Debug, Default)]
struct Said {
    number: Option<String>,
    supplier: Option<String>,
    recipient: Option<String>,
}

/// A finding with its place in the document.
struct Located {
    finding: Finding,
    path: Option<String>,
    line: Option<u32>,
}

impl From<Finding> for Located {
    fn from(finding: Finding) -> Self {
        Located {
            finding,
            path: None,
            line: None,
        }
    }
}

/// An invoice of a flow that passed every check.
struct Checked {
    routing: Routing,
    number: String,
    kind: InvoiceKind,
    issue_date: Date,
    currency: String,
    excl_vat: Decimal,
    vat: Decimal,
    incl_vat: Decimal,
    xml: Vec<u8>,
    syntax: Syntax,
}

pub(crate) fn text(v: Option<&Val>) -> Option<String> {
    v.map(Val::trimmed).filter(|s| !s.is_empty())
}

/// `YYYY-MM-DD` (UBL) or `YYYYMMDD` (CII format 102).
pub(crate) fn doc_date(v: Option<&Val>) -> Option<Date> {
    let raw: String = text(v)?.chars().filter(|c| *c != '-').collect();
    if raw.len() != 8 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = raw.get(0..4)?.parse().ok()?;
    let month: u8 = raw.get(4..6)?.parse().ok()?;
    let day: u8 = raw.get(6..8)?.parse().ok()?;
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

/// The buyer's SIRET: its legal registration (BT-47) or an identifier (BT-46) of 14 digits; else
/// whatever the document gives, so the report shows it.
pub(crate) fn buyer_identifier(draft: &Draft) -> Option<String> {
    let buyer = draft.buyer.as_ref()?;
    let candidates: Vec<String> = buyer
        .legal_registration_id
        .iter()
        .chain(buyer.identifiers.iter())
        .map(Val::trimmed)
        .filter(|s| !s.is_empty())
        .collect();
    candidates
        .iter()
        .find(|s| s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()))
        .or_else(|| candidates.first())
        .cloned()
}

pub(crate) fn seller_identifier(draft: &Draft) -> Option<String> {
    let seller = draft.seller.as_ref()?;
    text(seller.legal_registration_id.as_ref()).or_else(|| seller.identifiers.iter().find_map(|v| text(Some(v))))
}

/// Whether the document's seller is the depositing structure. A French seller often gives its
/// SIREN (the SIRET's first 9 digits) as legal registration (BT-30), so for a SIRET depositor the
/// SIRET or the SIREN is accepted, in BT-30 or in a seller identifier (BT-29). Other structures
/// are identified by their identifier's value, which may also be their VAT number (BT-31).
fn seller_is_depositor(depositor: &StructureIdentifier, draft: &Draft) -> bool {
    let Some(seller) = draft.seller.as_ref() else {
        return false;
    };
    let canonical = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase()
    };
    let registered = seller
        .legal_registration_id
        .iter()
        .chain(seller.identifiers.iter())
        .map(|v| canonical(&v.raw));
    match depositor.siret() {
        Some(siret) => {
            let siren = siret.siren();
            registered
                .into_iter()
                .any(|given| given == siret.as_str() || given == siren.as_str())
        }
        None => {
            let own = canonical(depositor.value());
            registered
                .chain(seller.vat_identifiers.iter().map(|v| canonical(&v.raw)))
                .any(|given| !given.is_empty() && given == own)
        }
    }
}

/// Originals up to this size are processed in memory; larger ones from a temporary file.
const IN_MEMORY_BYTES: u64 = 16 * 1024 * 1024;

/// A flow's original, fetched for processing.
#[derive(Clone)]
enum Fetched {
    Memory(std::sync::Arc<[u8]>),
    /// Removed when the last clone goes.
    File(std::sync::Arc<tempfile::NamedTempFile>),
}

/// A reader over a [`Fetched`] original.
enum FetchedReader {
    Memory(std::io::Cursor<std::sync::Arc<[u8]>>),
    File(std::fs::File),
}

impl std::io::Read for FetchedReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Memory(c) => c.read(buf),
            Self::File(f) => f.read(buf),
        }
    }
}

impl std::io::Seek for FetchedReader {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        match self {
            Self::Memory(c) => c.seek(pos),
            Self::File(f) => f.seek(pos),
        }
    }
}

impl Fetched {
    fn reader(&self) -> std::io::Result<FetchedReader> {
        Ok(match self {
            Self::Memory(b) => FetchedReader::Memory(std::io::Cursor::new(std::sync::Arc::clone(b))),
            Self::File(f) => FetchedReader::File(f.reopen()?),
        })
    }

    fn len(&self) -> AppResult<u64> {
        match self {
            Self::Memory(b) => Ok(u64::try_from(b.len()).unwrap_or(u64::MAX)),
            Self::File(f) => f
                .as_file()
                .metadata()
                .map(|m| m.len())
                .map_err(|e| AppError::Internal(format!("temporary file: {e}"))),
        }
    }

    /// The first bytes (archive sniffing).
    fn head(&self) -> AppResult<Vec<u8>> {
        use std::io::Read;
        let mut head = Vec::with_capacity(8);
        self.reader()
            .and_then(|r| r.take(8).read_to_end(&mut head))
            .map_err(|e| AppError::Internal(format!("original: {e}")))?;
        Ok(head)
    }

    /// The whole content (a single invoice, within [`MAX_INVOICE_FILE_BYTES`]).
    fn into_bytes(self) -> AppResult<Vec<u8>> {
        match self {
            Self::Memory(b) => Ok(b.to_vec()),
            Self::File(f) => std::fs::read(f.path()).map_err(|e| AppError::Internal(format!("temporary file: {e}"))),
        }
    }
}

/// One document of a flow: the flow's file (rank 0) or a file of a batch (rank from 1).
struct Document<'a> {
    rank: u32,
    /// The archive entry's name (`None` for a single-file flow).
    entry: Option<&'a str>,
    bytes: &'a [u8],
}

/// What settling a document did.
enum Settled {
    Integrated,
    Rejected,
    /// Another run settled it first; nothing was written.
    Raced,
}

/// The platform rule an archive refusal is reported as.
fn archive_rule(e: &ArchiveError) -> PlatformRule {
    use PlatformRule as R;
    match e {
        ArchiveError::UnsafeName(_) => R::ArchiveEntryName,
        ArchiveError::NotAFile(_) => R::ArchiveEntryType,
        ArchiveError::TooManyEntries(_) => R::ArchiveTooManyEntries,
        ArchiveError::Nested(_) => R::ArchiveNested,
        ArchiveError::TooLarge(_) => R::ArchiveTooLarge,
        ArchiveError::Ratio(_) => R::ArchiveRatio,
        ArchiveError::EntryTooLarge(..) => R::ArchiveEntryTooLarge,
        ArchiveError::Unreadable(_) | ArchiveError::Empty => R::ArchiveUnreadable,
    }
}

/// The report lines of a rejected document.
fn report_rows(rank: u32, entry: Option<&str>, said: &Said, findings: Vec<Located>) -> Vec<FlowFinding> {
    findings
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let (field, message_fr, message_en) = match &l.finding {
                Finding::Platform { field, .. } => (Some((*field).to_owned()), None, None),
                Finding::En16931 {
                    message_fr, message_en, ..
                } => (None, Some(message_fr.clone()), Some(message_en.clone())),
            };
            FlowFinding {
                invoice_rank: rank,
                finding_rank: u32::try_from(i).unwrap_or(u32::MAX),
                invoice_number: said.number.clone(),
                supplier_identifier: said.supplier.clone(),
                recipient_identifier: said.recipient.clone(),
                code: l.finding.code().to_owned(),
                field,
                message_fr,
                message_en,
                path: l.path,
                line: l.line,
                entry_name: entry.map(str::to_owned),
            }
        })
        .collect()
}

/// The document's terms for the platform's field names of `SAISIE_API`.
fn as_term(field: &'static str) -> &'static str {
    match field {
        "destinataire.codeDestinataire" => "BT-47",
        "destinataire.codeServiceExecutant" => "BT-10",
        "references.numeroBonCommande" => "BT-13",
        "numeroFactureSaisi" => "BT-1",
        other => other,
    }
}

impl App {
    /// `factures/v1/deposer/flux`: records the flow and its processing job (see the module
    /// documentation). Refused up front: a `syntaxeFlux` the platform does not read, a blank or
    /// too long `nomFichier`, an empty file.
    #[tracing::instrument(skip_all, fields(depositor = %depositor))]
    pub async fn deposit_flow(
        &self,
        actor: &Actor,
        depositor: StructureId,
        upload: FlowUpload<'_>,
        idempotency_key: Option<&str>,
    ) -> AppResult<FlowReceipt> {
        let original = Original::Bytes(upload.bytes);
        self.deposit_flow_from(
            actor,
            depositor,
            upload.file_name,
            upload.syntax,
            original,
            idempotency_key,
        )
        .await
    }

    /// [`App::deposit_flow`] of a file received on disk (a streamed upload): it is stored in the
    /// blob store in parts, never read whole into memory.
    #[tracing::instrument(skip_all, fields(depositor = %depositor))]
    pub async fn deposit_flow_file(
        &self,
        actor: &Actor,
        depositor: StructureId,
        upload: FlowFileUpload<'_>,
        idempotency_key: Option<&str>,
    ) -> AppResult<FlowReceipt> {
        let mut head = [0u8; 8];
        let read = {
            use std::io::Read;
            let mut f = std::fs::File::open(upload.path).map_err(|e| AppError::Internal(format!("upload: {e}")))?;
            f.read(&mut head)
                .map_err(|e| AppError::Internal(format!("upload: {e}")))?
        };
        let original = Original::File {
            path: upload.path,
            size: upload.size,
            id: BlobId::from_digest(&upload.sha256),
            head: head.get(..read).unwrap_or_default().to_vec(),
        };
        self.deposit_flow_from(
            actor,
            depositor,
            upload.file_name,
            upload.syntax,
            original,
            idempotency_key,
        )
        .await
    }

    async fn deposit_flow_from(
        &self,
        actor: &Actor,
        depositor: StructureId,
        file_name: &str,
        syntax: &str,
        original: Original<'_>,
        idempotency_key: Option<&str>,
    ) -> AppResult<FlowReceipt> {
        let upload = UploadNames { file_name, syntax };
        self.acting_for(actor, depositor).await?;
        let Some(syntax) = FlowSyntax::parse(upload.syntax) else {
            return Err(AppError::Refused(vec![Finding::platform(
                PlatformRule::FlowSyntaxUnsupported,
                "syntaxeFlux",
            )]));
        };
        let Some(file_name) = blank_to_none(Some(upload.file_name)) else {
            return Err(AppError::invalid("nomFichier", Problem::Missing));
        };
        if file_name.chars().count() > MAX_FILE_NAME_CHARS {
            return Err(AppError::invalid(
                "nomFichier",
                Problem::TooLong {
                    max: MAX_FILE_NAME_CHARS,
                },
            ));
        }
        if file_name.chars().any(char::is_control) {
            return Err(AppError::invalid("nomFichier", Problem::ControlCharacter));
        }
        if original.size() == 0 {
            return Err(AppError::invalid("fichierFlux", Problem::Missing));
        }
        let key = blank_to_none(idempotency_key);
        if let Some(k) = &key
            && k.chars().count() > 200
        {
            return Err(AppError::invalid("Idempotency-Key", Problem::TooLong { max: 200 }));
        }
        let fingerprint = match &original {
            Original::Bytes(b) => BlobId::of(b),
            Original::File { id, .. } => id.clone(),
        };
        if let Some(first) = self.replayed_flow(depositor, key.as_deref(), &fingerprint).await? {
            return Ok(first);
        }

        // A large original first (content-addressed: an orphan after a failed commit is
        // harmless), then the flow (with a small original), its audit line and its job in one
        // transaction.
        let media_type = ArchiveKind::sniff(original.head())
            .map_or(syntax.media_type(), ArchiveKind::media_type)
            .to_owned();
        let size = original.size();
        let original = match original {
            Original::Bytes(b) => self.stage_blob(b.to_vec()).await?,
            Original::File { path, id, .. } => {
                self.blobs().put_file(path, &id).await?;
                Staged::Stored(id)
            }
        };
        let sa = store_actor(actor);
        let mut tx = self.db().begin().await?;
        let original = original.record(&mut tx).await?;
        let flow = match tx
            .create_deposit(
                &NewDeposit {
                    depositor,
                    channel: DepositChannel::ApiFlow,
                    original,
                    size,
                    media_type,
                    file_name: Some(file_name.clone()),
                    idempotency_key: key.clone(),
                    flow_syntax: Some(syntax.as_str().to_owned()),
                },
                sa,
            )
            .await
        {
            Ok(f) => f,
            Err(StoreError::Conflict(Unique::DepositIdempotencyKey)) => {
                // A concurrent retry recorded it first: answer with its flow.
                drop(tx);
                return self
                    .replayed_flow(depositor, key.as_deref(), &fingerprint)
                    .await?
                    .ok_or(AppError::Conflict(Conflict::IdempotencyKeyReplayed));
            }
            Err(e) => return Err(e.into()),
        };
        tx.audit(
            sa,
            facteur_domain::AuditAction::FlowCreate,
            Some(depositor),
            serde_json::json!({
                "deposit": flow.id.0,
                "syntax": syntax.as_str(),
                "file_name": file_name,
                "size": flow.size,
            }),
        )
        .await?;
        let payload = serde_json::to_value(FlowJob { deposit: flow.id.0 })
            .map_err(|e| AppError::Internal(format!("flow job: {e}")))?;
        tx.enqueue_job(&NewJob {
            kind: FLOW_PROCESS.to_owned(),
            payload,
            run_at: self.clock().now(),
            max_attempts: self.inner.config.jobs.max_attempts,
            singleton: None,
        })
        .await?;
        self.commit(tx).await?;
        tracing::info!(flow = flow.id.0, syntax = syntax.as_str(), "flow received");
        Ok(FlowReceipt {
            flow,
            syntax,
            replayed: false,
        })
    }

    /// The first flow this deposit repeats (same key, or same bytes within 24 h). A key first
    /// used on another channel is a conflict.
    async fn replayed_flow(
        &self,
        depositor: StructureId,
        key: Option<&str>,
        fingerprint: &BlobId,
    ) -> AppResult<Option<FlowReceipt>> {
        let first = match key {
            Some(k) => self.db().deposit_by_idempotency_key(depositor, k).await?,
            None => {
                let since = self.clock().now() - SAME_BYTES_WINDOW;
                self.db().deposit_of_same_bytes(depositor, fingerprint, since).await?
            }
        };
        let Some(first) = first else {
            return Ok(None);
        };
        let syntax = first.flow_syntax.as_deref().and_then(FlowSyntax::parse);
        match (first.channel, syntax) {
            (DepositChannel::ApiFlow, Some(syntax)) => Ok(Some(FlowReceipt {
                flow: first,
                syntax,
                replayed: true,
            })),
            _ if key.is_some() => Err(AppError::Conflict(Conflict::IdempotencyKeyReplayed)),
            _ => Ok(None),
        }
    }

    /// Runs a `flow.process` job.
    pub(crate) async fn run_flow_job(&self, payload: &serde_json::Value) -> Result<(), String> {
        let job: FlowJob = serde_json::from_value(payload.clone()).map_err(|e| format!("flow payload: {e}"))?;
        self.process_flow(DepositId(job.deposit))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Processes a flow to a terminal state (see the module documentation) and returns it. Safe
    /// to run twice: a terminal flow is left as it is, a batch goes on from the files a previous
    /// run did not settle, and a run that loses a race to another changes nothing.
    #[tracing::instrument(skip(self))]
    pub async fn process_flow(&self, id: DepositId) -> AppResult<DepositState> {
        let system = facteur_store::Actor::System;
        let flow = self.db().deposit(id).await?.ok_or(AppError::NotFound)?;
        match flow.state {
            DepositState::Received => {
                let mut tx = self.db().begin().await?;
                match tx
                    .set_deposit_state(id, DepositState::Received, DepositState::Processing, system)
                    .await
                {
                    Ok(()) => self.commit(tx).await?,
                    // Another run moved it meanwhile: it goes on from where that run is.
                    Err(StoreError::IllegalTransition { .. }) => drop(tx),
                    Err(e) => return Err(e.into()),
                }
            }
            DepositState::Processing => {}
            terminal => return Ok(terminal),
        }
        let supplier = self.load_structure(flow.depositor_id).await?;
        let fetched = self.fetch_original(&flow).await?;
        let Some(syntax) = flow.flow_syntax.as_deref().and_then(FlowSyntax::parse) else {
            let refused = Finding::platform(PlatformRule::FlowSyntaxUnsupported, "syntaxeFlux");
            return self.reject_flow(id, Said::default(), vec![refused.into()], None).await;
        };
        match ArchiveKind::sniff(&fetched.head()?) {
            Some(kind) => self.process_batch(&flow, &supplier, syntax, kind, fetched).await,
            None if flow.file_name.as_deref().is_some_and(archive::named_as_archive) => {
                let refused = Finding::platform(PlatformRule::ArchiveUnreadable, "fichierFlux");
                self.reject_flow(id, Said::default(), vec![refused.into()], None).await
            }
            None if flow.size > MAX_INVOICE_FILE_BYTES => {
                let refused = Finding::platform(PlatformRule::FlowTooLarge, "fichierFlux");
                self.reject_flow(id, Said::default(), vec![refused.into()], None).await
            }
            None => {
                let bytes = fetched.into_bytes()?;
                let doc = Document {
                    rank: 0,
                    entry: None,
                    bytes: &bytes,
                };
                match self.settle_document(&flow, &supplier, syntax, doc).await? {
                    Settled::Integrated => Ok(DepositState::Integrated),
                    Settled::Rejected => Ok(DepositState::Rejected),
                    Settled::Raced => self.settled(id).await,
                }
            }
        }
    }

    /// A flow's original: in memory when small, else copied piece by piece into a temporary
    /// file of the data directory (a batch may reach 1 GB).
    async fn fetch_original(&self, flow: &DepositRecord) -> AppResult<Fetched> {
        let missing = || AppError::Internal(format!("flow {}: original missing", flow.id.0));
        if flow.size <= IN_MEMORY_BYTES {
            let bytes = self.blob(&flow.original).await?.ok_or_else(missing)?;
            return Ok(Fetched::Memory(bytes.into()));
        }
        let dir = self.inner.config.data_dir.join("tmp");
        std::fs::create_dir_all(&dir).map_err(|e| AppError::Internal(format!("temporary folder: {e}")))?;
        let file =
            tempfile::NamedTempFile::new_in(&dir).map_err(|e| AppError::Internal(format!("temporary file: {e}")))?;
        if !self.blobs().get_to_file(&flow.original, file.path()).await? {
            return Err(missing());
        }
        Ok(Fetched::File(std::sync::Arc::new(file)))
    }

    /// A batch: the whole archive is checked first (a hostile one is rejected with nothing
    /// integrated), then each file is settled as a single-file flow is, each in its own
    /// transaction with its outcome row, skipping the files an earlier run settled; the flow then
    /// ends `IN_INTEGRE`, `IN_INTEGRE_PARTIEL` or `IN_REJETE`.
    async fn process_batch(
        &self,
        flow: &DepositRecord,
        supplier: &StructureRecord,
        syntax: FlowSyntax,
        kind: ArchiveKind,
        source: Fetched,
    ) -> AppResult<DepositState> {
        let id = flow.id;
        let len = source.len()?;
        let limits = self.archive_limits();
        let done: std::collections::HashSet<u32> =
            self.db().flow_entries(id).await?.into_iter().map(|e| e.rank).collect();
        if done.is_empty() {
            let whole = source.clone();
            let checked = tokio::task::spawn_blocking(move || {
                let reader = whole.reader().map_err(|e| ArchiveError::Unreadable(e.to_string()))?;
                archive::walk(kind, reader, len, limits, |_, _, _| std::ops::ControlFlow::Continue(()))
            })
            .await
            .map_err(|e| AppError::Internal(format!("archive check: {e}")))?;
            if let Err(refused) = checked {
                tracing::info!(flow = id.0, error = %refused, "batch archive refused");
                let entry = refused.entry().map(str::to_owned);
                let finding = Finding::platform(archive_rule(&refused), "fichierFlux");
                return self.reject_flow(id, Said::default(), vec![finding.into()], entry).await;
            }
        }

        // The files, one at a time: a blocking reader hands them over a small channel.
        let (sender, mut files) = tokio::sync::mpsc::channel::<(u32, String, Vec<u8>)>(2);
        let reader = tokio::task::spawn_blocking(move || {
            let reader = source.reader().map_err(|e| ArchiveError::Unreadable(e.to_string()))?;
            archive::walk(kind, reader, len, limits, |rank, name, data| {
                if done.contains(&rank) {
                    return std::ops::ControlFlow::Continue(());
                }
                match sender.blocking_send((rank, name.to_owned(), data)) {
                    Ok(()) => std::ops::ControlFlow::Continue(()),
                    Err(_) => std::ops::ControlFlow::Break(()),
                }
            })
        });
        while let Some((rank, name, data)) = files.recv().await {
            let doc = Document {
                rank,
                entry: Some(&name),
                bytes: &data,
            };
            self.settle_document(flow, supplier, syntax, doc).await?;
        }
        let walked = reader
            .await
            .map_err(|e| AppError::Internal(format!("archive read: {e}")))?;
        if let Err(e) = walked {
            return Err(AppError::Internal(format!("flow {}: archive read: {e}", id.0)));
        }

        let entries = self.db().flow_entries(id).await?;
        let integrated = entries.iter().filter(|e| e.invoice.is_some()).count();
        let end = if integrated == entries.len() {
            DepositState::Integrated
        } else if integrated == 0 {
            DepositState::Rejected
        } else {
            DepositState::PartiallyIntegrated
        };
        let mut tx = self.db().begin().await?;
        match tx
            .set_deposit_state(id, DepositState::Processing, end, facteur_store::Actor::System)
            .await
        {
            Ok(()) => {
                self.commit(tx).await?;
                tracing::info!(
                    flow = id.0,
                    files = entries.len(),
                    integrated,
                    state = end.as_str(),
                    "batch settled"
                );
                Ok(end)
            }
            Err(StoreError::IllegalTransition { .. }) => {
                drop(tx);
                self.settled(id).await
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The limits a batch archive is read with.
    fn archive_limits(&self) -> ArchiveLimits {
        ArchiveLimits {
            max_entry_bytes: MAX_INVOICE_FILE_BYTES,
            ..ArchiveLimits::default()
        }
    }

    /// Checks one document of a flow and records what became of it in one transaction: its
    /// invoice, or its findings. A single file (rank 0) also moves the flow to its final state in
    /// that transaction; a batch file writes its outcome row instead, whose unique rank makes a
    /// second settlement of the same file fail as a whole ([`Settled::Raced`]).
    async fn settle_document(
        &self,
        flow: &DepositRecord,
        supplier: &StructureRecord,
        syntax: FlowSyntax,
        doc: Document<'_>,
    ) -> AppResult<Settled> {
        let id = flow.id;
        let system = facteur_store::Actor::System;
        let (said, outcome) = self.check_flow_document(supplier, syntax, doc.bytes).await?;
        let findings = match outcome {
            Ok(checked) => {
                let structured = self.stage_blob(checked.xml.clone()).await?;
                let mut tx = self.db().begin().await?;
                let structured = structured.record(&mut tx).await?;
                let recorded = Self::record_invoice(
                    &mut tx,
                    &ToRecord {
                        deposit: id,
                        supplier: supplier.id,
                        routing: &checked.routing,
                        number: checked.number.clone(),
                        number_field: "BT-1",
                        kind: checked.kind,
                        issue_date: checked.issue_date,
                        currency: checked.currency.clone(),
                        total_excl_vat: checked.excl_vat,
                        total_vat: checked.vat,
                        total_incl_vat: checked.incl_vat,
                        structured,
                        syntax: match checked.syntax {
                            Syntax::Ubl => "UBL",
                            Syntax::Cii => "CII",
                        },
                    },
                    flow.actor,
                )
                .await;
                match recorded {
                    Ok(invoice) => {
                        let closed = match doc.entry {
                            None => {
                                tx.set_deposit_state(id, DepositState::Processing, DepositState::Integrated, system)
                                    .await
                            }
                            Some(name) => {
                                tx.record_flow_entry(
                                    id,
                                    &FlowEntry {
                                        rank: doc.rank,
                                        name: name.to_owned(),
                                        invoice: Some(invoice.id),
                                    },
                                )
                                .await
                            }
                        };
                        return match closed {
                            Ok(()) => {
                                self.commit(tx).await?;
                                tracing::info!(
                                    flow = id.0,
                                    rank = doc.rank,
                                    invoice = invoice.id.0,
                                    "invoice integrated"
                                );
                                Ok(Settled::Integrated)
                            }
                            Err(StoreError::IllegalTransition { .. } | StoreError::Conflict(Unique::FlowEntry)) => {
                                Ok(Settled::Raced)
                            }
                            Err(e) => Err(e.into()),
                        };
                    }
                    Err(AppError::Refused(found)) => found.into_iter().map(Located::from).collect(),
                    Err(AppError::Conflict(Conflict::InvoiceNumberTaken)) => {
                        vec![Finding::platform(PlatformRule::NumberTaken, "BT-1").into()]
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(findings) => findings,
        };
        let rows = report_rows(doc.rank, doc.entry, &said, findings);
        let mut tx = self.db().begin().await?;
        let outcome = match doc.entry {
            None => Ok(()),
            Some(name) => {
                tx.record_flow_entry(
                    id,
                    &FlowEntry {
                        rank: doc.rank,
                        name: name.to_owned(),
                        invoice: None,
                    },
                )
                .await
            }
        };
        let written = match outcome {
            Ok(()) => tx.add_flow_findings(id, &rows).await,
            Err(e) => Err(e),
        };
        let closed = match (written, doc.entry) {
            (Ok(()), None) => {
                tx.set_deposit_state(id, DepositState::Processing, DepositState::Rejected, system)
                    .await
            }
            (other, _) => other,
        };
        match closed {
            Ok(()) => {
                self.commit(tx).await?;
                tracing::info!(flow = id.0, rank = doc.rank, findings = rows.len(), "invoice rejected");
                Ok(Settled::Rejected)
            }
            Err(
                StoreError::IllegalTransition { .. }
                | StoreError::Conflict(Unique::FlowEntry)
                | StoreError::Conflict(Unique::FlowFinding),
            ) => Ok(Settled::Raced),
            Err(e) => Err(e.into()),
        }
    }

    /// Rejects a whole flow with `findings` (rank 0), `entry` naming the archive entry at fault.
    async fn reject_flow(
        &self,
        id: DepositId,
        said: Said,
        findings: Vec<Located>,
        entry: Option<String>,
    ) -> AppResult<DepositState> {
        let rows = report_rows(0, entry.as_deref(), &said, findings);
        let mut tx = self.db().begin().await?;
        let done = match tx.add_flow_findings(id, &rows).await {
            Ok(()) => {
                tx.set_deposit_state(
                    id,
                    DepositState::Processing,
                    DepositState::Rejected,
                    facteur_store::Actor::System,
                )
                .await
            }
            Err(e) => Err(e),
        };
        match done {
            Ok(()) => {
                self.commit(tx).await?;
                tracing::info!(flow = id.0, findings = rows.len(), "flow rejected");
                Ok(DepositState::Rejected)
            }
            Err(StoreError::IllegalTransition { .. } | StoreError::Conflict(Unique::FlowFinding)) => {
                drop(tx);
                self.settled(id).await
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The state another run left a flow in.
    async fn settled(&self, id: DepositId) -> AppResult<DepositState> {
        Ok(self.db().deposit(id).await?.ok_or(AppError::NotFound)?.state)
    }

    /// Reads a flow's document and runs every check: the invoice ready to record, or every
    /// finding at once.
    async fn check_flow_document(
        &self,
        supplier: &StructureRecord,
        syntax: FlowSyntax,
        bytes: &[u8],
    ) -> AppResult<(Said, Result<Checked, Vec<Located>>)> {
        let xml = match syntax {
            FlowSyntax::FacturX => match facteur_einvoice::facturx::extract(bytes) {
                Ok(e) => e.xml,
                Err(e) => {
                    tracing::info!(error = %e, "Factur-X flow without a readable invoice");
                    return Ok((
                        Said::default(),
                        Err(vec![
                            Finding::platform(PlatformRule::FlowNoInvoice, "fichierFlux").into(),
                        ]),
                    ));
                }
            },
            FlowSyntax::UblInvoice | FlowSyntax::Cii16B => bytes.to_vec(),
        };
        let report = facteur_einvoice::validate::validate_xml(&xml);
        if let Some(found) = report.syntax
            && found != syntax.xml_syntax()
        {
            return Ok((
                Said::default(),
                Err(vec![
                    Finding::platform(PlatformRule::FlowSyntaxMismatch, "syntaxeFlux").into(),
                ]),
            ));
        }
        let mut findings: Vec<Located> = report
            .findings
            .into_iter()
            .filter(|f| f.severity == Severity::Fatal)
            .map(|f| Located {
                path: Some(f.path).filter(|p| !p.is_empty()),
                line: Some(f.line).filter(|l| *l > 0),
                finding: Finding::En16931 {
                    rule: f.rule,
                    message_fr: f.message_fr,
                    message_en: f.message_en,
                },
            })
            .collect();
        let Some(xml_syntax) = report.syntax else {
            // Not well-formed, or not an invoice: the engine said why.
            return Ok((Said::default(), Err(findings)));
        };
        let draft = facteur_einvoice::xml::parse(&xml)
            .ok()
            .and_then(|doc| match xml_syntax {
                Syntax::Ubl => facteur_einvoice::ubl::read(&doc).ok(),
                Syntax::Cii => facteur_einvoice::cii::read(&doc).ok(),
            });
        let Some(draft) = draft else {
            return Ok((Said::default(), Err(findings)));
        };
        let said = Said {
            number: text(draft.number.as_ref()),
            supplier: seller_identifier(&draft),
            recipient: buyer_identifier(&draft),
        };

        // The platform checks of SAISIE_API, over the document's terms.
        use PlatformRule as R;
        let mut platform = Vec::new();
        if !seller_is_depositor(&supplier.structure.identifier, &draft) {
            platform.push(Finding::platform(R::SellerNotDepositor, "BT-30"));
        }
        let issue_date = doc_date(draft.issue_date.as_ref());
        if issue_date.is_none() {
            platform.push(Finding::platform(R::CodeUnknown, "BT-2"));
        }
        let number = match said.number.as_deref().map(InvoiceNumber::parse) {
            Some(Ok(n)) => {
                if let Some(d) = issue_date
                    && self.db().invoice_number_used(supplier.id, d.year(), n.as_str()).await?
                {
                    platform.push(Finding::platform(R::NumberTaken, "BT-1"));
                }
                Some(n)
            }
            _ => {
                platform.push(Finding::platform(R::NumberFormat, "BT-1"));
                None
            }
        };
        let routing = self
            .check_routing(
                said.recipient.as_deref().unwrap_or_default(),
                text(draft.buyer_reference.as_ref()).as_deref(),
                text(draft.purchase_order_reference.as_ref()).as_deref(),
                issue_date.unwrap_or_else(|| self.clock().now().date()),
                &mut platform,
            )
            .await?;
        let currency = text(draft.currency_code.as_ref()).filter(|c| en::CurrencyCode::new(c).is_some());
        if currency.is_none() {
            platform.push(Finding::platform(R::CodeUnknown, "BT-5"));
        }
        let totals = draft.totals.as_ref();
        let amount = |v: Option<&Option<Val>>| v.and_then(Option::as_ref).and_then(Val::decimal);
        let excl_vat = amount(totals.map(|t| &t.tax_exclusive_total));
        let incl_vat = amount(totals.map(|t| &t.tax_inclusive_total));
        let vat = amount(totals.map(|t| &t.vat_total)).or(Some(Decimal::ZERO));
        let amounts = match (excl_vat, vat, incl_vat) {
            (Some(e), Some(v), Some(i)) if [e, v, i].iter().all(|d| d.scale() <= 2) => Some((e, v, i)),
            _ => {
                platform.push(Finding::platform(R::AmountFormat, "BT-109"));
                None
            }
        };
        findings.extend(platform.into_iter().map(|f| match f {
            Finding::Platform { rule, field } => Finding::platform(rule, as_term(field)).into(),
            other => other.into(),
        }));
        if !findings.is_empty() {
            return Ok((said, Err(findings)));
        }
        let (Some(number), Some(issue_date), Some(routing), Some(currency), Some((excl_vat, vat, incl_vat))) =
            (number, issue_date, routing, currency, amounts)
        else {
            // Each missing piece above left a finding; this is only the compiler's due.
            return Ok((said, Err(Vec::new())));
        };
        let checked = Checked {
            routing,
            number: number.as_str().to_owned(),
            kind: match draft.kind {
                en::DocKind::Invoice => InvoiceKind::Invoice,
                en::DocKind::CreditNote => InvoiceKind::CreditNote,
            },
            issue_date,
            currency,
            excl_vat,
            vat,
            incl_vat,
            xml,
            syntax: xml_syntax,
        };
        Ok((said, Ok(checked)))
    }

    /// `transverses/v1/consulterCR(Detaille)`: a flow of `structure` with its report. Another
    /// structure's flow is [`AppError::NotFound`], as an unknown one.
    pub async fn flow_report(&self, actor: &Actor, structure: StructureId, id: DepositId) -> AppResult<FlowReport> {
        self.acting_for(actor, structure).await?;
        let flow = self.db().flow(id, structure).await?.ok_or(AppError::NotFound)?;
        let mut rejected: Vec<RejectedInvoice> = Vec::new();
        for f in self.db().flow_findings(id).await? {
            let finding = ReportFinding {
                rule: PlatformRule::from_code(&f.code),
                code: f.code,
                field: f.field,
                message_fr: f.message_fr,
                message_en: f.message_en,
                path: f.path,
                line: f.line,
            };
            match rejected.last_mut() {
                Some(r) if r.rank == f.invoice_rank => r.findings.push(finding),
                _ => rejected.push(RejectedInvoice {
                    rank: f.invoice_rank,
                    number: f.invoice_number,
                    supplier: f.supplier_identifier,
                    recipient: f.recipient_identifier,
                    entry_name: f.entry_name,
                    findings: vec![finding],
                }),
            }
        }
        Ok(FlowReport { flow, rejected })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_numbers_round_trip_and_junk_is_none() {
        assert_eq!(flow_number(DepositId(42)), "CPP000000000042");
        assert_eq!(parse_flow_number("CPP000000000042"), Some(DepositId(42)));
        for junk in ["", "CPP", "42", "CPP-1", "CPP1234567890123456789", "cpp1"] {
            assert_eq!(parse_flow_number(junk), None, "{junk}");
        }
    }

    #[test]
    fn only_the_read_syntaxes_parse() {
        for s in FlowSyntax::ALL {
            assert_eq!(FlowSyntax::parse(s.as_str()), Some(*s));
        }
        assert_eq!(FlowSyntax::parse("IN_DP_E1_XCBL"), None);
        assert_eq!(FlowSyntax::parse("IN_DP_E1_PES_FACTURE"), None);
    }
}
