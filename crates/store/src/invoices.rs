//! Deposits, invoices and their status history (migration `0006_invoices.sql`).
//!
//! - A **deposit** is what one depositor sent through one channel: the original bytes (by their
//!   content address in the blob store) and who, when, how. It is made durable before anything is
//!   read; an idempotency key, unique per depositor, finds it again when a client retries.
//! - An **invoice** belongs to two structures, its supplier and its recipient; every read and list
//!   names the side it looks from ([`InvoiceSide`]), so a structure never sees another's invoices.
//!   Its number is unique per supplier and year of issue, credit notes included
//!   ([`Unique::InvoiceNumber`](crate::Unique::InvoiceNumber)).
//! - A **status change** ([`Tx::change_invoice_status`]) is judged by the domain's lifecycle table
//!   ([`InvoiceStatus::transition`]), applied by a conditional update on the status the caller saw,
//!   and written with its history row, its audit line and an `invoice.status_changed` job, all in
//!   the caller's transaction.

use facteur_domain::{
    AuditAction, InvoiceAction, InvoiceStatus, Motive, Party, PaymentReporting, ServiceId, ServiceParameters,
    StructureId, StructureParameters, TransitionContext,
};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;
use time::{Date, OffsetDateTime};

use crate::audit::audit;
use crate::{Actor, BlobId, NewJob, Result, Store, StoreError, Tx, normalize_time, with_pool, with_tx};

macro_rules! history_cols {
    () => {
        "id, invoice_id, from_status, to_status, action, party, actor_kind, actor_id, motive, at"
    };
}

/// Declares a small enum stored as a stable code (`as_str`, `FromStr`, `Display`, serde as the
/// code), like the domain's `code_enum!`.
macro_rules! stored_code {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant,)+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored (and API) code.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = StoreError;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($code => Ok($name::$variant),)+
                    other => Err(StoreError::corrupt(stringify!($name), format!("unknown code {other}"))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

stored_code! {
    /// `typeFacture`: an invoice or a credit note (both share the number sequence).
    pub enum InvoiceKind {
        Invoice => "FACTURE",
        CreditNote => "AVOIR",
    }
}

stored_code! {
    /// How a deposit arrived (`modeDepot` for the API entry modes, the service for the others).
    pub enum DepositChannel {
        /// `factures/v1/soumettre`, `SAISIE_API`.
        ApiEntry => "SAISIE_API",
        /// `factures/v1/soumettre`, `DEPOT_PDF_API`.
        ApiPdf => "DEPOT_PDF_API",
        /// `factures/v1/deposer/flux`.
        ApiFlow => "DEPOT_FLUX_API",
        /// `factures/v1/deposer/pdf`.
        ApiPlainPdf => "DEPOT_PDF",
        /// Portal entry form.
        PortalEntry => "SAISIE_PORTAIL",
        /// Portal upload (single file or batch).
        PortalUpload => "DEPOT_PORTAIL",
    }
}

stored_code! {
    /// Where a deposit is (`etatCourantDepotFlux`, spec §3.1).
    pub enum DepositState {
        Received => "IN_RECU",
        Processing => "IN_EN_COURS_TRAITEMENT_CPP",
        Integrated => "IN_INTEGRE",
        PartiallyIntegrated => "IN_INTEGRE_PARTIEL",
        Rejected => "IN_REJETE",
    }
}

/// Id of a deposit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct DepositId(pub i64);

/// Id of an invoice (`idFacture`, `identifiantFactureCPP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct InvoiceId(pub i64);

impl std::fmt::Display for InvoiceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A deposit to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeposit {
    /// The structure that deposits (the supplier, or whoever deposits for it).
    pub depositor: StructureId,
    pub channel: DepositChannel,
    /// The original bytes, already in the blob store.
    pub original: BlobId,
    pub size: u64,
    pub media_type: String,
    pub file_name: Option<String>,
    /// The client's `Idempotency-Key`, unique per depositor.
    pub idempotency_key: Option<String>,
    /// The `syntaxeFlux` a flow declared (`None` for the other channels).
    pub flow_syntax: Option<String>,
}

/// A stored deposit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DepositRecord {
    pub id: DepositId,
    pub depositor_id: StructureId,
    pub actor: Actor,
    pub channel: DepositChannel,
    /// From the application's clock.
    pub received_at: OffsetDateTime,
    pub original: BlobId,
    pub size: u64,
    pub media_type: String,
    pub file_name: Option<String>,
    pub idempotency_key: Option<String>,
    pub state: DepositState,
    pub updated_at: OffsetDateTime,
    /// The `syntaxeFlux` a flow declared.
    pub flow_syntax: Option<String>,
}

#[derive(sqlx::FromRow)]
struct DepositRow {
    id: i64,
    depositor_id: i64,
    actor_kind: String,
    actor_id: Option<i64>,
    channel: String,
    received_at: OffsetDateTime,
    original_sha256: String,
    original_size: i64,
    media_type: String,
    file_name: Option<String>,
    idempotency_key: Option<String>,
    state: String,
    updated_at: OffsetDateTime,
    flow_syntax: Option<String>,
}

const DEPOSIT_COLS: &str = "id, depositor_id, actor_kind, actor_id, channel, received_at, original_sha256, \
                            original_size, media_type, file_name, idempotency_key, state, updated_at, flow_syntax";

impl TryFrom<DepositRow> for DepositRecord {
    type Error = StoreError;
    fn try_from(r: DepositRow) -> Result<Self> {
        Ok(DepositRecord {
            id: DepositId(r.id),
            depositor_id: StructureId(r.depositor_id),
            actor: Actor::from_parts(&r.actor_kind, r.actor_id)?,
            channel: r.channel.parse()?,
            received_at: r.received_at,
            original: BlobId::parse(&r.original_sha256)?,
            size: u64::try_from(r.original_size).map_err(|e| StoreError::corrupt("deposits", e))?,
            media_type: r.media_type,
            file_name: r.file_name,
            idempotency_key: r.idempotency_key,
            state: r.state.parse()?,
            updated_at: r.updated_at,
            flow_syntax: r.flow_syntax,
        })
    }
}

/// One finding of a flow's report (`consulterCRDetaille`): about the invoice of rank
/// `invoice_rank` in the flow (0 for a single file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowFinding {
    pub invoice_rank: u32,
    pub finding_rank: u32,
    /// What the document says, when it could be read that far.
    pub invoice_number: Option<String>,
    pub supplier_identifier: Option<String>,
    pub recipient_identifier: Option<String>,
    /// `FP-…` or the EN 16931 rule id.
    pub code: String,
    /// The term or field a platform rule is about.
    pub field: Option<String>,
    /// The engine's words (EN 16931 findings).
    pub message_fr: Option<String>,
    pub message_en: Option<String>,
    /// Where in the document, when the engine says.
    pub path: Option<String>,
    pub line: Option<u32>,
    /// The archive entry of a batch flow the invoice came from (`None` for a single file).
    pub entry_name: Option<String>,
}

/// What became of one file of a batch flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowEntry {
    /// 1-based rank of the file in the archive.
    pub rank: u32,
    pub name: String,
    /// The integrated invoice; `None` when the file was rejected.
    pub invoice: Option<InvoiceId>,
}

#[derive(sqlx::FromRow)]
struct FlowEntryRow {
    entry_rank: i64,
    entry_name: String,
    invoice_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct FlowFindingRow {
    invoice_rank: i64,
    finding_rank: i64,
    invoice_number: Option<String>,
    supplier_identifier: Option<String>,
    recipient_identifier: Option<String>,
    code: String,
    field: Option<String>,
    message_fr: Option<String>,
    message_en: Option<String>,
    path: Option<String>,
    line: Option<i64>,
    entry_name: Option<String>,
}

impl TryFrom<FlowFindingRow> for FlowFinding {
    type Error = StoreError;
    fn try_from(r: FlowFindingRow) -> Result<Self> {
        let small = |v: i64| u32::try_from(v).map_err(|e| StoreError::corrupt("flow_findings", e));
        Ok(FlowFinding {
            invoice_rank: small(r.invoice_rank)?,
            finding_rank: small(r.finding_rank)?,
            invoice_number: r.invoice_number,
            supplier_identifier: r.supplier_identifier,
            recipient_identifier: r.recipient_identifier,
            code: r.code,
            field: r.field,
            message_fr: r.message_fr,
            message_en: r.message_en,
            path: r.path,
            line: r.line.map(small).transpose()?,
            entry_name: r.entry_name,
        })
    }
}

/// An invoice to record, once its deposit is durable and its checks passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvoice {
    pub deposit: DepositId,
    pub supplier: StructureId,
    pub recipient: StructureId,
    /// `codeService` of the recipient, resolved to its service.
    pub service: Option<ServiceId>,
    /// `numeroFactureFournisseur` (`numeroFactureSaisi`).
    pub number: String,
    pub kind: InvoiceKind,
    /// `dateFacture`; its year scopes the number's uniqueness.
    pub issue_date: Date,
    /// `deviseFacture` (ISO 4217).
    pub currency: String,
    /// `montantHtTotal`.
    pub total_excl_vat: Decimal,
    /// `montantTVA`.
    pub total_vat: Decimal,
    /// `montantTtcTotal`.
    pub total_incl_vat: Decimal,
    /// `numeroEngagement` (`numeroBonCommande`).
    pub engagement_number: Option<String>,
    /// One of [`InvoiceStatus::INITIAL`].
    pub status: InvoiceStatus,
    /// The structured copy (UBL or CII) in the blob store, and its syntax.
    pub structured: Option<BlobId>,
    pub syntax: Option<String>,
}

/// A stored invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceRecord {
    pub id: InvoiceId,
    pub deposit_id: DepositId,
    pub supplier_id: StructureId,
    pub recipient_id: StructureId,
    pub service_id: Option<ServiceId>,
    pub number: String,
    pub kind: InvoiceKind,
    pub issue_date: Date,
    /// `dateDepot`: the legal start of the payment delay (the deposit's reception time).
    pub deposited_at: OffsetDateTime,
    pub currency: String,
    pub total_excl_vat: Decimal,
    pub total_vat: Decimal,
    pub total_incl_vat: Decimal,
    pub engagement_number: Option<String>,
    pub status: InvoiceStatus,
    /// `rejetTraite`.
    pub rejection_acknowledged: bool,
    pub structured: Option<BlobId>,
    pub syntax: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct InvoiceRow {
    id: i64,
    deposit_id: i64,
    supplier_id: i64,
    recipient_id: i64,
    service_id: Option<i64>,
    number: String,
    kind: String,
    issue_date: Date,
    deposited_at: OffsetDateTime,
    currency: String,
    total_excl_vat: String,
    total_vat: String,
    total_incl_vat: String,
    engagement_number: Option<String>,
    status: String,
    rejection_acknowledged: bool,
    structured_sha256: Option<String>,
    syntax: Option<String>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

const INVOICE_COLS: &str = "id, deposit_id, supplier_id, recipient_id, service_id, number, kind, issue_date, \
     deposited_at, currency, total_excl_vat, total_vat, total_incl_vat, engagement_number, status, \
     rejection_acknowledged, structured_sha256, syntax, created_at, updated_at";

fn amount(s: &str) -> Result<Decimal> {
    s.parse().map_err(|e| StoreError::corrupt("invoices", e))
}

impl TryFrom<InvoiceRow> for InvoiceRecord {
    type Error = StoreError;
    fn try_from(r: InvoiceRow) -> Result<Self> {
        Ok(InvoiceRecord {
            id: InvoiceId(r.id),
            deposit_id: DepositId(r.deposit_id),
            supplier_id: StructureId(r.supplier_id),
            recipient_id: StructureId(r.recipient_id),
            service_id: r.service_id.map(ServiceId),
            number: r.number,
            kind: r.kind.parse()?,
            issue_date: r.issue_date,
            deposited_at: r.deposited_at,
            currency: r.currency,
            total_excl_vat: amount(&r.total_excl_vat)?,
            total_vat: amount(&r.total_vat)?,
            total_incl_vat: amount(&r.total_incl_vat)?,
            engagement_number: r.engagement_number,
            status: r.status.parse().map_err(|e| StoreError::corrupt("invoices", e))?,
            rejection_acknowledged: r.rejection_acknowledged,
            structured: r.structured_sha256.as_deref().map(BlobId::parse).transpose()?,
            syntax: r.syntax,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// One line of an invoice's history (`historiquesDesStatuts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceHistoryRecord {
    pub id: i64,
    pub invoice_id: InvoiceId,
    /// `None` for the line that created the invoice.
    pub from: Option<InvoiceStatus>,
    pub to: InvoiceStatus,
    /// The lifecycle step; `None` at creation.
    pub action: Option<InvoiceAction>,
    pub party: Party,
    pub actor: Actor,
    pub motive: Option<Motive>,
    pub at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct HistoryRow {
    id: i64,
    invoice_id: i64,
    from_status: Option<String>,
    to_status: String,
    action: Option<String>,
    party: String,
    actor_kind: String,
    actor_id: Option<i64>,
    motive: Option<String>,
    at: OffsetDateTime,
}

impl TryFrom<HistoryRow> for InvoiceHistoryRecord {
    type Error = StoreError;
    fn try_from(r: HistoryRow) -> Result<Self> {
        const T: &str = "invoice_history";
        let bad = |e: facteur_domain::DomainError| StoreError::corrupt(T, e);
        Ok(InvoiceHistoryRecord {
            id: r.id,
            invoice_id: InvoiceId(r.invoice_id),
            from: r.from_status.as_deref().map(str::parse).transpose().map_err(bad)?,
            to: r.to_status.parse().map_err(bad)?,
            action: r.action.as_deref().map(str::parse).transpose().map_err(bad)?,
            party: r.party.parse().map_err(bad)?,
            actor: Actor::from_parts(&r.actor_kind, r.actor_id)?,
            motive: r.motive.as_deref().map(Motive::parse).transpose().map_err(bad)?,
            at: r.at,
        })
    }
}

/// The side an invoice is seen from: its supplier's or its recipient's. Reads and lists never
/// return an invoice of which the structure is not that side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvoiceSide {
    Supplier(StructureId),
    Recipient(StructureId),
}

impl InvoiceSide {
    /// The structure looking.
    pub fn structure(self) -> StructureId {
        match self {
            InvoiceSide::Supplier(s) | InvoiceSide::Recipient(s) => s,
        }
    }

    /// The lifecycle party of this side.
    pub fn party(self) -> Party {
        match self {
            InvoiceSide::Supplier(_) => Party::Supplier,
            InvoiceSide::Recipient(_) => Party::Recipient,
        }
    }

    /// The column naming this side's structure, and the one naming the other side's.
    fn columns(self) -> (&'static str, &'static str) {
        match self {
            InvoiceSide::Supplier(_) => ("supplier_id", "recipient_id"),
            InvoiceSide::Recipient(_) => ("recipient_id", "supplier_id"),
        }
    }
}

/// Where a page of an invoice list ends: the last row's deposit time and id. The next page starts
/// strictly after it in the list's order (newest deposit first, then highest id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct InvoiceCursor {
    pub deposited_at: OffsetDateTime,
    pub id: InvoiceId,
}

/// An invoice list for one side, newest deposit first; criteria combine with AND, absent ones
/// are ignored. Every criterion runs in SQL, on the side's indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceQuery {
    pub side: InvoiceSide,
    /// Any of these statuses (empty: all).
    pub statuses: Vec<InvoiceStatus>,
    /// Deposited at or after.
    pub deposited_from: Option<OffsetDateTime>,
    /// Deposited strictly before.
    pub deposited_before: Option<OffsetDateTime>,
    /// Exactly this invoice number.
    pub number: Option<String>,
    /// The other side's structure (the recipient in a supplier's list and the other way round).
    pub partner: Option<StructureId>,
    /// Only invoices addressed to one of these services (a recipient user restricted to its
    /// services); `Some(empty)` matches nothing.
    pub services: Option<Vec<ServiceId>>,
    /// Start after this row (the previous page's [`InvoicePage::next`]).
    pub after: Option<InvoiceCursor>,
    /// Rows per page (clamped to 1..=200).
    pub limit: u32,
}

impl InvoiceQuery {
    /// Every invoice of `side`, first page of 20.
    pub fn new(side: InvoiceSide) -> Self {
        Self {
            side,
            statuses: Vec::new(),
            deposited_from: None,
            deposited_before: None,
            number: None,
            partner: None,
            services: None,
            after: None,
            limit: 20,
        }
    }
}

/// One page of an invoice list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoicePage {
    pub items: Vec<InvoiceRecord>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<InvoiceCursor>,
}

/// The new routing of a recycled invoice ([`Tx::recycle_invoice`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reroute {
    /// `destinataire.codeDestinataire`, resolved.
    pub recipient: StructureId,
    /// `destinataire.codeServiceExecutant`, resolved.
    pub service: Option<ServiceId>,
    /// `reference.numeroBonCommande`.
    pub engagement_number: Option<String>,
}

/// A status change asked of [`Tx::change_invoice_status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange<'a> {
    pub invoice: InvoiceId,
    /// The status the caller saw: the change applies only if the invoice is still in it.
    pub from: InvoiceStatus,
    pub to: InvoiceStatus,
    /// Who asks: a side of the invoice (the structure must be that side) or `None` for the
    /// platform itself (routing).
    pub by: Option<InvoiceSide>,
    pub actor: Actor,
    pub motive: Option<&'a Motive>,
    /// `completer` adds attachments.
    pub attachments_added: bool,
}

impl StatusChange<'_> {
    fn party(&self) -> Party {
        self.by.map_or(Party::Platform, InvoiceSide::party)
    }
}

/// The kind of job every status change enqueues; its payload names the invoice, both structures,
/// the two statuses and the history line.
pub const INVOICE_STATUS_CHANGED: &str = "invoice.status_changed";

/// What [`Tx::change_invoice_status`] reads before judging the move.
#[derive(sqlx::FromRow)]
struct ChangeContextRow {
    supplier_id: i64,
    recipient_id: i64,
    structure_not_reported: bool,
    service_not_reported: Option<bool>,
}

/// One lifecycle step to record (see [`Tx::record_step`]).
struct Step<'a> {
    invoice: InvoiceId,
    from: InvoiceStatus,
    to: InvoiceStatus,
    action: InvoiceAction,
    party: Party,
    actor: Actor,
    motive: Option<&'a Motive>,
    /// The acting structure (the recipient for the platform): the audit line's.
    structure: StructureId,
    supplier: i64,
    recipient: i64,
    at: OffsetDateTime,
}

/// A value bound to a placeholder of a built query.
enum Arg {
    Text(String),
    Int(i64),
    Time(OffsetDateTime),
}

/// Binds every [`Arg`] in order (any sqlx query type, either backend).
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Text(s) => q.bind(s.as_str()),
                Arg::Int(i) => q.bind(*i),
                Arg::Time(t) => q.bind(*t),
            };
        }
        q
    }};
}

/// The SELECT of one page of `q`, and its arguments (`$1`… in order). The SQL text is made of
/// fixed fragments and placeholders only.
fn list_sql(q: &InvoiceQuery) -> (String, Vec<Arg>) {
    let mut args: Vec<Arg> = Vec::new();
    let mut arg = |a: Arg| {
        args.push(a);
        format!("${}", args.len())
    };
    let (own, other) = q.side.columns();
    let mut clauses = vec![format!("{own} = {}", arg(Arg::Int(q.side.structure().0)))];
    if !q.statuses.is_empty() {
        let list: Vec<String> = q
            .statuses
            .iter()
            .map(|s| arg(Arg::Text(s.as_str().to_owned())))
            .collect();
        clauses.push(format!("status IN ({})", list.join(", ")));
    }
    if let Some(t) = q.deposited_from {
        clauses.push(format!("deposited_at >= {}", arg(Arg::Time(normalize_time(t)))));
    }
    if let Some(t) = q.deposited_before {
        clauses.push(format!("deposited_at < {}", arg(Arg::Time(normalize_time(t)))));
    }
    if let Some(n) = q.number.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        clauses.push(format!("number = {}", arg(Arg::Text(n.to_owned()))));
    }
    if let Some(p) = q.partner {
        clauses.push(format!("{other} = {}", arg(Arg::Int(p.0))));
    }
    match q.services.as_deref() {
        None => {}
        Some([]) => clauses.push("1 = 0".to_owned()),
        Some(services) => {
            let list: Vec<String> = services.iter().map(|s| arg(Arg::Int(s.0))).collect();
            clauses.push(format!("service_id IN ({})", list.join(", ")));
        }
    }
    if let Some(c) = q.after {
        let at = arg(Arg::Time(normalize_time(c.deposited_at)));
        let id = arg(Arg::Int(c.id.0));
        clauses.push(format!("(deposited_at, id) < ({at}, {id})"));
    }
    // One more row than the page tells whether there is a next page.
    let limit = arg(Arg::Int(i64::from(page_limit(q.limit)) + 1));
    let sql = format!(
        "SELECT {INVOICE_COLS} FROM invoices WHERE {} ORDER BY deposited_at DESC, id DESC LIMIT {limit}",
        clauses.join(" AND ")
    );
    (sql, args)
}

fn page_limit(limit: u32) -> u32 {
    limit.clamp(1, facteur_domain::PageRequest::MAX_PER_PAGE)
}

impl Tx {
    /// Records a deposit, received now (the application's clock), in state `IN_RECU`. A second
    /// deposit with the same idempotency key from the same depositor is
    /// [`Unique::DepositIdempotencyKey`](crate::Unique::DepositIdempotencyKey).
    pub async fn create_deposit(&mut self, deposit: &NewDeposit, actor: Actor) -> Result<DepositRecord> {
        self.step("create_deposit")?;
        let now = self.clock.now();
        let size = i64::try_from(deposit.size).map_err(|_| StoreError::Refused("deposit size"))?;
        let row: DepositRow = with_tx!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO deposits (depositor_id, actor_kind, actor_id, channel, received_at, original_sha256, \
             original_size, media_type, file_name, idempotency_key, state, updated_at, flow_syntax) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $5, $12) RETURNING {DEPOSIT_COLS}"
        )))
        .bind(deposit.depositor.0)
        .bind(actor.kind())
        .bind(actor.id())
        .bind(deposit.channel.as_str())
        .bind(now)
        .bind(deposit.original.as_str())
        .bind(size)
        .bind(deposit.media_type.as_str())
        .bind(deposit.file_name.as_deref())
        .bind(deposit.idempotency_key.as_deref())
        .bind(DepositState::Received.as_str())
        .bind(deposit.flow_syntax.as_deref())
        .fetch_one(&mut *c)
        .await?);
        row.try_into()
    }

    /// The deposit `depositor` made with this idempotency key, if any (read in the transaction,
    /// so a retry that lost the race to insert finds the winner's deposit).
    pub async fn deposit_by_idempotency_key(
        &mut self,
        depositor: StructureId,
        key: &str,
    ) -> Result<Option<DepositRecord>> {
        let row: Option<DepositRow> = with_tx!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DEPOSIT_COLS} FROM deposits WHERE depositor_id = $1 AND idempotency_key = $2"
        )))
        .bind(depositor.0)
        .bind(key)
        .fetch_optional(&mut *c)
        .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// Whether `supplier` already used `number` for an invoice or credit note issued in `year`
    /// (the platform reports it as a finding before the unique constraint would refuse it).
    pub async fn invoice_number_used(&mut self, supplier: StructureId, year: i32, number: &str) -> Result<bool> {
        let found: Option<i64> = with_tx!(self, |c| sqlx::query_scalar(
            "SELECT id FROM invoices WHERE supplier_id = $1 AND issue_year = $2 AND number = $3"
        )
        .bind(supplier.0)
        .bind(year)
        .bind(number)
        .fetch_optional(&mut *c)
        .await?);
        Ok(found.is_some())
    }

    /// Moves a deposit from `from` to `to` (processing a flow) by a conditional update, with its
    /// audit line. [`StoreError::IllegalTransition`] when it is no longer in `from`.
    pub async fn set_deposit_state(
        &mut self,
        id: DepositId,
        from: DepositState,
        to: DepositState,
        actor: Actor,
    ) -> Result<()> {
        self.step("set_deposit_state")?;
        let now = self.clock.now();
        with_tx!(self, |c| {
            let depositor: Option<i64> = sqlx::query_scalar(
                "UPDATE deposits SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4 RETURNING depositor_id",
            )
            .bind(to.as_str())
            .bind(now)
            .bind(id.0)
            .bind(from.as_str())
            .fetch_optional(&mut *c)
            .await?;
            let Some(depositor) = depositor else {
                return Err(StoreError::IllegalTransition {
                    what: "deposit",
                    from: from.as_str(),
                    to: to.as_str(),
                });
            };
            audit!(
                self,
                c,
                actor,
                AuditAction::FlowState,
                Some(StructureId(depositor)),
                json!({"deposit": id.0, "from": from.as_str(), "to": to.as_str()})
            );
        });
        Ok(())
    }

    /// Records the findings of a flow's rejected invoices (its report), in order.
    pub async fn add_flow_findings(&mut self, deposit: DepositId, findings: &[FlowFinding]) -> Result<()> {
        self.step("add_flow_findings")?;
        with_tx!(self, |c| {
            for f in findings {
                sqlx::query(
                    "INSERT INTO flow_findings (deposit_id, invoice_rank, finding_rank, invoice_number, \
                     supplier_identifier, recipient_identifier, code, field, message_fr, message_en, path, line, \
                     entry_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(deposit.0)
                .bind(i64::from(f.invoice_rank))
                .bind(i64::from(f.finding_rank))
                .bind(f.invoice_number.as_deref())
                .bind(f.supplier_identifier.as_deref())
                .bind(f.recipient_identifier.as_deref())
                .bind(f.code.as_str())
                .bind(f.field.as_deref())
                .bind(f.message_fr.as_deref())
                .bind(f.message_en.as_deref())
                .bind(f.path.as_deref())
                .bind(f.line.map(i64::from))
                .bind(f.entry_name.as_deref())
                .execute(&mut *c)
                .await?;
            }
        });
        Ok(())
    }

    /// Records what became of a file of a batch flow. [`Unique::FlowEntry`](crate::Unique::FlowEntry)
    /// when its rank is already recorded (another run settled it first).
    pub async fn record_flow_entry(&mut self, deposit: DepositId, entry: &FlowEntry) -> Result<()> {
        self.step("record_flow_entry")?;
        with_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO flow_entries (deposit_id, entry_rank, entry_name, invoice_id) VALUES ($1, $2, $3, $4)",
            )
            .bind(deposit.0)
            .bind(i64::from(entry.rank))
            .bind(entry.name.as_str())
            .bind(entry.invoice.map(|i| i.0))
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Records an invoice of a durable deposit, with its first history line and its audit line.
    /// Its deposit date is the deposit's reception time. [`StoreError::IllegalTransition`] when
    /// the status is not one an invoice starts in; [`StoreError::NotFound`] for an unknown
    /// deposit; [`Unique::InvoiceNumber`](crate::Unique::InvoiceNumber) when the supplier already
    /// used the number in the year of issue.
    pub async fn create_invoice(&mut self, invoice: &NewInvoice, actor: Actor) -> Result<InvoiceRecord> {
        self.step("create_invoice")?;
        if !InvoiceStatus::INITIAL.contains(&invoice.status) {
            return Err(StoreError::IllegalTransition {
                what: "invoice",
                from: "-",
                to: invoice.status.as_str(),
            });
        }
        let now = self.clock.now();
        let row: Option<InvoiceRow> = with_tx!(self, |c| {
            let row: Option<InvoiceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "INSERT INTO invoices (deposit_id, supplier_id, recipient_id, service_id, number, kind, issue_date, \
                 issue_year, deposited_at, currency, total_excl_vat, total_vat, total_incl_vat, engagement_number, \
                 status, rejection_acknowledged, structured_sha256, syntax, created_at, updated_at) \
                 SELECT id, $2, $3, $4, $5, $6, $7, $8, received_at, $9, $10, $11, $12, $13, $14, FALSE, $15, $16, \
                 $17, $17 FROM deposits WHERE id = $1 RETURNING {INVOICE_COLS}"
            )))
            .bind(invoice.deposit.0)
            .bind(invoice.supplier.0)
            .bind(invoice.recipient.0)
            .bind(invoice.service.map(|s| s.0))
            .bind(invoice.number.as_str())
            .bind(invoice.kind.as_str())
            .bind(invoice.issue_date)
            .bind(invoice.issue_date.year())
            .bind(invoice.currency.as_str())
            .bind(invoice.total_excl_vat.to_string())
            .bind(invoice.total_vat.to_string())
            .bind(invoice.total_incl_vat.to_string())
            .bind(invoice.engagement_number.as_deref())
            .bind(invoice.status.as_str())
            .bind(invoice.structured.as_ref().map(BlobId::as_str))
            .bind(invoice.syntax.as_deref())
            .bind(now)
            .fetch_optional(&mut *c)
            .await?;
            if let Some(r) = &row {
                sqlx::query(INSERT_HISTORY)
                    .bind(r.id)
                    .bind(None::<&str>)
                    .bind(invoice.status.as_str())
                    .bind(None::<&str>)
                    .bind(Party::Supplier.as_str())
                    .bind(actor.kind())
                    .bind(actor.id())
                    .bind(None::<&str>)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                audit!(
                    self,
                    c,
                    actor,
                    AuditAction::InvoiceCreate,
                    Some(invoice.supplier),
                    json!({
                        "invoice": r.id,
                        "deposit": invoice.deposit.0,
                        "recipient": invoice.recipient,
                        "number": invoice.number,
                        "status": invoice.status,
                    })
                );
            }
            row
        });
        row.ok_or(StoreError::NotFound("deposit"))?.try_into()
    }

    /// Applies a status change: judged by the lifecycle table ([`InvoiceStatus::transition`],
    /// the recipient's payment reporting read from its structure and service), then a conditional
    /// update on `from`, a history line, an audit line and an [`INVOICE_STATUS_CHANGED`] job, in
    /// this transaction. Refusals change nothing:
    /// - [`StoreError::NotFound`]: no such invoice on the asking side;
    /// - [`StoreError::Transition`]: the table refuses the move (its kind says why);
    /// - [`StoreError::IllegalTransition`]: the invoice is no longer in `from` (moved meanwhile).
    pub async fn change_invoice_status(&mut self, change: &StatusChange<'_>) -> Result<InvoiceHistoryRecord> {
        self.step("change_invoice_status")?;
        let party = change.party();
        let scope = match change.by {
            Some(side) => format!(" AND i.{} = $2", side.columns().0),
            None => String::new(),
        };
        let now = self.clock.now();
        let (action, structure, supplier, recipient) = with_tx!(self, |c| {
            let sql = format!(
                "SELECT i.supplier_id, i.recipient_id, s.payment_status_not_reported AS structure_not_reported, \
                 v.payment_status_not_reported AS service_not_reported FROM invoices i \
                 JOIN structures s ON s.id = i.recipient_id LEFT JOIN services v ON v.id = i.service_id \
                 WHERE i.id = $1{scope}"
            );
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(change.invoice.0);
            if let Some(side) = change.by {
                q = q.bind(side.structure().0);
            }
            let ctx: Option<ChangeContextRow> = q.fetch_optional(&mut *c).await?;
            let ctx = ctx.ok_or(StoreError::NotFound("invoice"))?;
            let payment = PaymentReporting::of(
                &StructureParameters {
                    payment_status_not_reported: ctx.structure_not_reported,
                    ..StructureParameters::default()
                },
                ctx.service_not_reported
                    .map(|not_reported| ServiceParameters {
                        payment_status_not_reported: not_reported,
                        ..ServiceParameters::default()
                    })
                    .as_ref(),
            );
            let judged = TransitionContext {
                payment,
                motive: change.motive,
                attachments_added: change.attachments_added,
            };
            let row = change
                .from
                .transition(change.to, party, &judged)
                .map_err(StoreError::Transition)?;
            let moved = sqlx::query("UPDATE invoices SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
                .bind(change.to.as_str())
                .bind(now)
                .bind(change.invoice.0)
                .bind(change.from.as_str())
                .execute(&mut *c)
                .await?
                .rows_affected();
            if moved == 0 {
                return Err(StoreError::IllegalTransition {
                    what: "invoice",
                    from: change.from.as_str(),
                    to: change.to.as_str(),
                });
            }
            let structure = change.by.map_or(StructureId(ctx.recipient_id), InvoiceSide::structure);
            (row.action, structure, ctx.supplier_id, ctx.recipient_id)
        });
        self.record_step(&Step {
            invoice: change.invoice,
            from: change.from,
            to: change.to,
            action,
            party,
            actor: change.actor,
            motive: change.motive,
            structure,
            supplier,
            recipient,
            at: now,
        })
        .await
    }

    /// `factures/v1/traiterRejet`: the supplier acknowledges the rejection of its invoice
    /// (`rejetTraite`; the status stays `REJETEE`), judged by
    /// [`InvoiceStatus::acknowledge_rejection`], with a history line, an audit line and an
    /// [`INVOICE_STATUS_CHANGED`] job like a status change. [`StoreError::NotFound`] when the
    /// invoice is not `supplier`'s; [`StoreError::Transition`] when it is not rejected or already
    /// acknowledged; [`StoreError::IllegalTransition`] when another acknowledgement won the race.
    pub async fn acknowledge_invoice_rejection(
        &mut self,
        invoice: InvoiceId,
        supplier: StructureId,
        actor: Actor,
        motive: Option<&Motive>,
    ) -> Result<InvoiceHistoryRecord> {
        self.step("acknowledge_invoice_rejection")?;
        let now = self.clock.now();
        let (action, recipient) = with_tx!(self, |c| {
            let current: Option<(String, bool, i64)> = sqlx::query_as(
                "SELECT status, rejection_acknowledged, recipient_id FROM invoices WHERE id = $1 AND supplier_id = $2",
            )
            .bind(invoice.0)
            .bind(supplier.0)
            .fetch_optional(&mut *c)
            .await?;
            let (status, acknowledged, recipient) = current.ok_or(StoreError::NotFound("invoice"))?;
            let status: InvoiceStatus = status.parse().map_err(|e| StoreError::corrupt("invoices", e))?;
            let action = status.acknowledge_rejection(Party::Supplier, acknowledged)?;
            let done = sqlx::query(
                "UPDATE invoices SET rejection_acknowledged = TRUE, updated_at = $1 \
                 WHERE id = $2 AND status = $3 AND rejection_acknowledged = FALSE",
            )
            .bind(now)
            .bind(invoice.0)
            .bind(InvoiceStatus::Rejetee.as_str())
            .execute(&mut *c)
            .await?
            .rows_affected();
            if done == 0 {
                return Err(StoreError::IllegalTransition {
                    what: "invoice",
                    from: InvoiceStatus::Rejetee.as_str(),
                    to: InvoiceStatus::Rejetee.as_str(),
                });
            }
            (action, recipient)
        });
        self.record_step(&Step {
            invoice,
            from: InvoiceStatus::Rejetee,
            to: InvoiceStatus::Rejetee,
            action,
            party: Party::Supplier,
            actor,
            motive,
            structure: supplier,
            supplier: supplier.0,
            recipient,
            at: now,
        })
        .await
    }

    /// `factures/v1/recycler`: the supplier re-routes an invoice sent back for recycling. Only
    /// the routing changes (recipient, service, engagement number; the number stays); the invoice
    /// goes back to `DEPOSEE`, to be routed again, and keeps its deposit date. Judged by the
    /// lifecycle table from the stored status, applied conditionally on `A_RECYCLER`, recorded
    /// like every step. [`StoreError::NotFound`] when the invoice is not `supplier`'s;
    /// [`StoreError::Transition`] when it is not to recycle; [`StoreError::IllegalTransition`]
    /// when it moved meanwhile. The caller checks the new routing (recipient active, service of
    /// that recipient…) beforehand, as for a deposit.
    pub async fn recycle_invoice(
        &mut self,
        invoice: InvoiceId,
        supplier: StructureId,
        routing: &Reroute,
        actor: Actor,
        motive: Option<&Motive>,
    ) -> Result<InvoiceHistoryRecord> {
        self.step("recycle_invoice")?;
        let now = self.clock.now();
        let (from, action) = with_tx!(self, |c| {
            let status: Option<String> =
                sqlx::query_scalar("SELECT status FROM invoices WHERE id = $1 AND supplier_id = $2")
                    .bind(invoice.0)
                    .bind(supplier.0)
                    .fetch_optional(&mut *c)
                    .await?;
            let from: InvoiceStatus = status
                .ok_or(StoreError::NotFound("invoice"))?
                .parse()
                .map_err(|e| StoreError::corrupt("invoices", e))?;
            let judged = TransitionContext {
                motive,
                ..TransitionContext::default()
            };
            let row = from.transition(InvoiceStatus::Deposee, Party::Supplier, &judged)?;
            if row.action != InvoiceAction::Recycle {
                return Err(StoreError::Transition(facteur_domain::TransitionError::Illegal {
                    from,
                    to: InvoiceStatus::Deposee,
                }));
            }
            let done = sqlx::query(
                "UPDATE invoices SET status = $1, recipient_id = $2, service_id = $3, engagement_number = $4, \
                 updated_at = $5 WHERE id = $6 AND status = $7",
            )
            .bind(InvoiceStatus::Deposee.as_str())
            .bind(routing.recipient.0)
            .bind(routing.service.map(|s| s.0))
            .bind(routing.engagement_number.as_deref())
            .bind(now)
            .bind(invoice.0)
            .bind(from.as_str())
            .execute(&mut *c)
            .await?
            .rows_affected();
            if done == 0 {
                return Err(StoreError::IllegalTransition {
                    what: "invoice",
                    from: from.as_str(),
                    to: InvoiceStatus::Deposee.as_str(),
                });
            }
            (from, row.action)
        });
        self.record_step(&Step {
            invoice,
            from,
            to: InvoiceStatus::Deposee,
            action,
            party: Party::Supplier,
            actor,
            motive,
            structure: supplier,
            supplier: supplier.0,
            recipient: routing.recipient.0,
            at: now,
        })
        .await
    }

    /// Writes what every lifecycle step leaves behind: its history line, its audit line (on the
    /// acting structure) and its [`INVOICE_STATUS_CHANGED`] job.
    async fn record_step(&mut self, step: &Step<'_>) -> Result<InvoiceHistoryRecord> {
        let history: HistoryRow = with_tx!(self, |c| {
            let history: HistoryRow = sqlx::query_as(concat!(
                "INSERT INTO invoice_history (invoice_id, from_status, to_status, action, party, actor_kind, \
                 actor_id, motive, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ",
                history_cols!()
            ))
            .bind(step.invoice.0)
            .bind(step.from.as_str())
            .bind(step.to.as_str())
            .bind(step.action.as_str())
            .bind(step.party.as_str())
            .bind(step.actor.kind())
            .bind(step.actor.id())
            .bind(step.motive.map(Motive::as_str))
            .bind(step.at)
            .fetch_one(&mut *c)
            .await?;
            audit!(
                self,
                c,
                step.actor,
                AuditAction::InvoiceStatus,
                Some(step.structure),
                json!({
                    "invoice": step.invoice.0,
                    "from": step.from,
                    "to": step.to,
                    "action": step.action,
                    "party": step.party,
                    "motive": step.motive,
                })
            );
            history
        });
        let record: InvoiceHistoryRecord = history.try_into()?;
        self.enqueue_job(&NewJob {
            kind: INVOICE_STATUS_CHANGED.to_owned(),
            payload: json!({
                "invoice": record.invoice_id.0,
                "history": record.id,
                "supplier": step.supplier,
                "recipient": step.recipient,
                "from": record.from,
                "to": record.to,
                "action": record.action,
            }),
            run_at: step.at,
            max_attempts: 10,
            singleton: None,
        })
        .await?;
        Ok(record)
    }

    /// An invoice as `side` sees it: `None` when it does not exist or `side`'s structure is not
    /// that side of it.
    pub async fn invoice(&mut self, id: InvoiceId, side: InvoiceSide) -> Result<Option<InvoiceRecord>> {
        let sql = invoice_sql(side);
        let row: Option<InvoiceRow> = with_tx!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(side.structure().0)
            .fetch_optional(&mut *c)
            .await?);
        row.map(TryInto::try_into).transpose()
    }
}

const INSERT_HISTORY: &str = "INSERT INTO invoice_history (invoice_id, from_status, to_status, action, party, \
     actor_kind, actor_id, motive, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

fn invoice_sql(side: InvoiceSide) -> String {
    format!(
        "SELECT {INVOICE_COLS} FROM invoices WHERE id = $1 AND {} = $2",
        side.columns().0
    )
}

crate::autocommit! {
    fn create_deposit(deposit: &NewDeposit, actor: Actor) -> DepositRecord;
    fn set_deposit_state(id: DepositId, from: DepositState, to: DepositState, actor: Actor) -> ();
    fn create_invoice(invoice: &NewInvoice, actor: Actor) -> InvoiceRecord;
    fn change_invoice_status(change: &StatusChange<'_>) -> InvoiceHistoryRecord;
    fn recycle_invoice(invoice: InvoiceId, supplier: StructureId, routing: &Reroute, actor: Actor, motive: Option<&Motive>) -> InvoiceHistoryRecord;
    fn acknowledge_invoice_rejection(invoice: InvoiceId, supplier: StructureId, actor: Actor, motive: Option<&Motive>) -> InvoiceHistoryRecord;
}

impl Store {
    /// An invoice as `side` sees it (see [`Tx::invoice`]).
    pub async fn invoice(&self, id: InvoiceId, side: InvoiceSide) -> Result<Option<InvoiceRecord>> {
        let sql = invoice_sql(side);
        let row: Option<InvoiceRow> = with_pool!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id.0)
            .bind(side.structure().0)
            .fetch_optional(db)
            .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// The history of an invoice as `side` sees it, oldest first; `None` when `side` may not see
    /// the invoice.
    pub async fn invoice_history(&self, id: InvoiceId, side: InvoiceSide) -> Result<Option<Vec<InvoiceHistoryRecord>>> {
        if self.invoice(id, side).await?.is_none() {
            return Ok(None);
        }
        let rows: Vec<HistoryRow> = with_pool!(self, |db| sqlx::query_as(concat!(
            "SELECT ",
            history_cols!(),
            " FROM invoice_history WHERE invoice_id = $1 ORDER BY id"
        ))
        .bind(id.0)
        .fetch_all(db)
        .await?);
        rows.into_iter().map(TryInto::try_into).collect::<Result<_>>().map(Some)
    }

    /// One page of a side's invoices, newest deposit first (see [`InvoiceQuery`]).
    pub async fn list_invoices(&self, query: &InvoiceQuery) -> Result<InvoicePage> {
        let (sql, args) = list_sql(query);
        let rows: Vec<InvoiceRow> = with_pool!(self, |db| bind_args!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())),
            &args
        )
        .fetch_all(db)
        .await?);
        let limit = usize::try_from(page_limit(query.limit)).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        let items: Vec<InvoiceRecord> = rows
            .into_iter()
            .take(limit)
            .map(TryInto::try_into)
            .collect::<Result<_>>()?;
        let next = if more {
            items.last().map(|r| InvoiceCursor {
                deposited_at: r.deposited_at,
                id: r.id,
            })
        } else {
            None
        };
        Ok(InvoicePage { items, next })
    }

    /// Whether `supplier` already used `number` in `year` (see [`Tx::invoice_number_used`]).
    pub async fn invoice_number_used(&self, supplier: StructureId, year: i32, number: &str) -> Result<bool> {
        let found: Option<i64> = with_pool!(self, |db| sqlx::query_scalar(
            "SELECT id FROM invoices WHERE supplier_id = $1 AND issue_year = $2 AND number = $3"
        )
        .bind(supplier.0)
        .bind(year)
        .bind(number)
        .fetch_optional(db)
        .await?);
        Ok(found.is_some())
    }

    /// The invoice a deposit created, as `side` sees it (a retried deposit answers with it).
    pub async fn invoice_of_deposit(&self, deposit: DepositId, side: InvoiceSide) -> Result<Option<InvoiceRecord>> {
        let sql = format!(
            "SELECT {INVOICE_COLS} FROM invoices WHERE deposit_id = $1 AND {} = $2 ORDER BY id LIMIT 1",
            side.columns().0
        );
        let row: Option<InvoiceRow> = with_pool!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(deposit.0)
            .bind(side.structure().0)
            .fetch_optional(db)
            .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// The deposit `depositor` made with this idempotency key, if any.
    pub async fn deposit_by_idempotency_key(&self, depositor: StructureId, key: &str) -> Result<Option<DepositRecord>> {
        let row: Option<DepositRow> = with_pool!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DEPOSIT_COLS} FROM deposits WHERE depositor_id = $1 AND idempotency_key = $2"
        )))
        .bind(depositor.0)
        .bind(key)
        .fetch_optional(db)
        .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// A deposit by id (the flow worker), whoever made it.
    pub async fn deposit(&self, id: DepositId) -> Result<Option<DepositRecord>> {
        let row: Option<DepositRow> = with_pool!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DEPOSIT_COLS} FROM deposits WHERE id = $1"
        )))
        .bind(id.0)
        .fetch_optional(db)
        .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// A flow (a deposit of channel `DEPOT_FLUX_API`) as its depositor sees it: `None` for an
    /// unknown id, another channel's deposit or another structure's flow.
    pub async fn flow(&self, id: DepositId, depositor: StructureId) -> Result<Option<DepositRecord>> {
        let row: Option<DepositRow> = with_pool!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DEPOSIT_COLS} FROM deposits WHERE id = $1 AND depositor_id = $2 AND channel = $3"
        )))
        .bind(id.0)
        .bind(depositor.0)
        .bind(DepositChannel::ApiFlow.as_str())
        .fetch_optional(db)
        .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// The report of a flow: every finding, by invoice then in order.
    pub async fn flow_findings(&self, id: DepositId) -> Result<Vec<FlowFinding>> {
        let rows: Vec<FlowFindingRow> = with_pool!(self, |db| sqlx::query_as(
            "SELECT invoice_rank, finding_rank, invoice_number, supplier_identifier, recipient_identifier, code, \
             field, message_fr, message_en, path, line, entry_name FROM flow_findings WHERE deposit_id = $1 \
             ORDER BY invoice_rank, finding_rank"
        )
        .bind(id.0)
        .fetch_all(db)
        .await?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// What became of the files of a batch flow settled so far, by rank.
    pub async fn flow_entries(&self, id: DepositId) -> Result<Vec<FlowEntry>> {
        let rows: Vec<FlowEntryRow> = with_pool!(self, |db| sqlx::query_as(
            "SELECT entry_rank, entry_name, invoice_id FROM flow_entries WHERE deposit_id = $1 ORDER BY entry_rank"
        )
        .bind(id.0)
        .fetch_all(db)
        .await?);
        rows.into_iter()
            .map(|r| {
                Ok(FlowEntry {
                    rank: u32::try_from(r.entry_rank).map_err(|e| StoreError::corrupt("flow_entries", e))?,
                    name: r.entry_name,
                    invoice: r.invoice_id.map(InvoiceId),
                })
            })
            .collect()
    }

    /// The latest deposit of these bytes by `depositor` received at or after `since` (issue #13:
    /// "the same bytes from the same depositor within 24 h" is a retry), if any.
    pub async fn deposit_of_same_bytes(
        &self,
        depositor: StructureId,
        original: &BlobId,
        since: OffsetDateTime,
    ) -> Result<Option<DepositRecord>> {
        let row: Option<DepositRow> = with_pool!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DEPOSIT_COLS} FROM deposits WHERE depositor_id = $1 AND original_sha256 = $2 \
             AND received_at >= $3 ORDER BY received_at DESC, id DESC LIMIT 1"
        )))
        .bind(depositor.0)
        .bind(original.as_str())
        .bind(normalize_time(since))
        .fetch_optional(db)
        .await?);
        row.map(TryInto::try_into).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_bind_every_criterion_and_nothing_else() {
        let (sql, args) = list_sql(&InvoiceQuery::new(InvoiceSide::Recipient(StructureId(7))));
        assert!(
            sql.contains("WHERE recipient_id = $1 ORDER BY deposited_at DESC, id DESC LIMIT $2"),
            "{sql}"
        );
        assert_eq!(args.len(), 2);
        let q = InvoiceQuery {
            statuses: vec![InvoiceStatus::Deposee, InvoiceStatus::Rejetee],
            number: Some(" F-1 ".into()),
            partner: Some(StructureId(3)),
            services: Some(Vec::new()),
            ..InvoiceQuery::new(InvoiceSide::Supplier(StructureId(7)))
        };
        let (sql, args) = list_sql(&q);
        assert!(
            sql.contains("supplier_id = $1 AND status IN ($2, $3) AND number = $4 AND recipient_id = $5 AND 1 = 0"),
            "{sql}"
        );
        assert_eq!(args.len(), 6);
    }

    #[test]
    fn codes_round_trip() {
        for k in InvoiceKind::ALL {
            assert_eq!(k.as_str().parse::<InvoiceKind>().unwrap(), *k);
        }
        for c in DepositChannel::ALL {
            assert_eq!(c.as_str().parse::<DepositChannel>().unwrap(), *c);
        }
        for s in DepositState::ALL {
            assert_eq!(s.as_str().parse::<DepositState>().unwrap(), *s);
        }
        assert!("FACTUR".parse::<InvoiceKind>().is_err());
    }
}
