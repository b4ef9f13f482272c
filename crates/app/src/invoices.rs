//! The invoice loop (issue #13): a supplier deposits an invoice, the public recipient processes it,
//! both follow every step.
//!
//! - **Deposit** ([`App::submit_invoice`], `factures/v1/soumettre` in `SAISIE_API` mode): the
//!   platform checks ([`PlatformRule`]) and the EN 16931 rules over the structured copy built from
//!   the entry all run, and every finding comes back at once ([`AppError::Refused`]); nothing is
//!   stored for a refused deposit. An accepted one stores its original bytes and its UBL copy in
//!   the blob store, then records the deposit, the invoice (`DEPOSEE`, its deposit date the legal
//!   start of the payment delay) and its routing to the recipient (`MISE_A_DISPOSITION`) in one
//!   transaction, with history, audit lines and event jobs.
//! - **Idempotency**: the same `Idempotency-Key`, or the same bytes from the same depositor within
//!   24 hours, answers with the first deposit's invoice and creates nothing.
//! - **Lifecycle**: every status change goes through the store, which judges it by the domain's
//!   table; a refusal is [`Conflict::Lifecycle`] with the table's reason.
//! - **Reads** are scoped to the caller's structure and side: an invoice of another structure is
//!   [`AppError::NotFound`], as an unknown id.

use std::collections::HashMap;

use facteur_domain::{
    BankAccountId, IdentifierKind, InvoiceNumber, InvoiceStatus, Motive, Party, PaymentReporting, ServiceId,
    StructureId, StructureIdentifier, StructureKind, StructureStatus,
};
use facteur_einvoice::model as en;
use facteur_einvoice::validate::Severity;
use facteur_store::{
    BlobId, DepositChannel, InvoiceHistoryRecord, InvoiceId, InvoiceKind, InvoiceQuery, InvoiceRecord, InvoiceSide,
    NewDeposit, NewInvoice, Reroute, ServiceRecord, StatusChange, StoreError, StructureRecord, Tx, Unique,
};
use rust_decimal::{Decimal, RoundingStrategy};
use time::{Date, Duration};

use crate::access::store_actor;
use crate::{Actor, App, AppError, AppResult, Conflict, Problem};

/// A platform rule a deposit or a re-routing broke, with its stable code (`codeErreur`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PlatformRule {
    /// `codeDestinataire` names no registered structure.
    RecipientUnknown,
    /// The recipient is not a public structure.
    RecipientNotPublic,
    /// The recipient is inactive.
    RecipientInactive,
    /// The recipient requires a service code and none is given.
    ServiceRequired,
    /// The service code is not one of the recipient's.
    ServiceUnknown,
    /// The service is inactive or outside its validity dates.
    ServiceInactive,
    /// The recipient or its service requires an engagement number.
    EngagementRequired,
    /// The recipient requires a service code or an engagement number.
    ServiceOrEngagementRequired,
    /// The invoice number is blank, longer than 20 characters or outside the allowed set.
    NumberFormat,
    /// The supplier already used this number in the year of issue (credit notes included).
    NumberTaken,
    /// `idFournisseur` is not the depositor's structure.
    SupplierNotCaller,
    /// The bank details are not active details of the supplier.
    BankAccountUnknown,
    /// No invoice line.
    LinesMissing,
    /// A VAT rate code is unknown, or a rate is missing or out of range.
    VatRateUnknown,
    /// The VAT lines do not match the lines (bases per rate, amounts per rate).
    VatLinesInconsistent,
    /// `montantHtTotal` is not the sum of the line amounts.
    TotalExclVat,
    /// `montantTVA` is not the sum of the VAT lines.
    TotalVat,
    /// `montantTtcTotal` is not `montantHtTotal` + `montantTVA`.
    TotalInclVat,
    /// `montantAPayer` is not `montantTtcTotal`.
    AmountDue,
    /// An amount is negative or has more than 2 decimals (quantities and unit prices: 6).
    AmountFormat,
    /// A code of the entry is not one the platform knows (`typeFacture`, `deviseFacture`…).
    CodeUnknown,
    /// `syntaxeFlux` names no syntax the platform reads (spec §4.6: UBL, CII D16B, Factur-X).
    FlowSyntaxUnsupported,
    /// The flow's document is not of the syntax `syntaxeFlux` declares.
    FlowSyntaxMismatch,
    /// A Factur-X flow is not a readable PDF carrying an invoice XML.
    FlowNoInvoice,
    /// A referenced attachment is unknown or another structure's (one answer: nothing leaks).
    AttachmentUnknown,
    /// A referenced attachment already belongs to an invoice, or is referenced twice.
    AttachmentTaken,
    /// The invoice's files would exceed 120 MB in total.
    AttachmentsTooLarge,
    /// `DEPOT_PDF_API` without exactly one main attachment, or `SAISIE_API` with one.
    MainAttachmentCount,
    /// The main attachment of `DEPOT_PDF_API` is not a PDF.
    MainAttachmentNotPdf,
    /// The seller of a flow's document (BT-29, BT-30) is not the depositing structure.
    SellerNotDepositor,
    /// A single-invoice flow is larger than an invoice file may be (10 MiB; only a batch
    /// archive may be larger).
    FlowTooLarge,
    /// An entry of a batch archive has an unsafe name: absolute, climbing out (`..`), empty or with control characters.
    ArchiveEntryName,
    /// An entry of a batch archive is a link, a device or anything but a plain file or folder.
    ArchiveEntryType,
    /// A batch archive holds more than 500 invoice files.
    ArchiveTooManyEntries,
    /// An entry of a batch archive is itself an archive.
    ArchiveNested,
    /// A batch archive's content is larger, uncompressed, than the platform accepts.
    ArchiveTooLarge,
    /// A batch archive or one of its entries expands more than 1,000 times (a compression bomb).
    ArchiveRatio,
    /// An entry of a batch archive is larger than a single-file flow may be.
    ArchiveEntryTooLarge,
    /// A batch archive cannot be read, or holds no file.
    ArchiveUnreadable,
}

impl PlatformRule {
    /// The stable code clients test for.
    pub const fn code(self) -> &'static str {
        match self {
            Self::RecipientUnknown => "FP-DEST-01",
            Self::RecipientNotPublic => "FP-DEST-02",
            Self::RecipientInactive => "FP-DEST-03",
            Self::ServiceRequired => "FP-SERV-01",
            Self::ServiceUnknown => "FP-SERV-02",
            Self::ServiceInactive => "FP-SERV-03",
            Self::EngagementRequired => "FP-EJ-01",
            Self::ServiceOrEngagementRequired => "FP-EJ-02",
            Self::NumberFormat => "FP-NUM-01",
            Self::NumberTaken => "FP-NUM-02",
            Self::SupplierNotCaller => "FP-FOUR-01",
            Self::BankAccountUnknown => "FP-BANQ-01",
            Self::LinesMissing => "FP-LIGNE-01",
            Self::VatRateUnknown => "FP-TVA-01",
            Self::VatLinesInconsistent => "FP-TVA-02",
            Self::TotalExclVat => "FP-MNT-01",
            Self::TotalVat => "FP-MNT-02",
            Self::TotalInclVat => "FP-MNT-03",
            Self::AmountDue => "FP-MNT-04",
            Self::AmountFormat => "FP-MNT-05",
            Self::CodeUnknown => "FP-CODE-01",
            Self::FlowSyntaxUnsupported => "FP-FLUX-01",
            Self::FlowSyntaxMismatch => "FP-FLUX-02",
            Self::FlowNoInvoice => "FP-FLUX-03",
            Self::AttachmentUnknown => "FP-PJ-01",
            Self::AttachmentTaken => "FP-PJ-02",
            Self::AttachmentsTooLarge => "FP-PJ-03",
            Self::MainAttachmentCount => "FP-PJ-04",
            Self::MainAttachmentNotPdf => "FP-PJ-05",
            Self::SellerNotDepositor => "FP-FOUR-02",
            Self::FlowTooLarge => "FP-FLUX-04",
            Self::ArchiveEntryName => "FP-LOT-01",
            Self::ArchiveEntryType => "FP-LOT-02",
            Self::ArchiveTooManyEntries => "FP-LOT-03",
            Self::ArchiveNested => "FP-LOT-04",
            Self::ArchiveTooLarge => "FP-LOT-05",
            Self::ArchiveRatio => "FP-LOT-06",
            Self::ArchiveEntryTooLarge => "FP-LOT-07",
            Self::ArchiveUnreadable => "FP-LOT-08",
        }
    }

    /// Every rule, in declaration order.
    pub const ALL: &[PlatformRule] = &[
        Self::RecipientUnknown,
        Self::RecipientNotPublic,
        Self::RecipientInactive,
        Self::ServiceRequired,
        Self::ServiceUnknown,
        Self::ServiceInactive,
        Self::EngagementRequired,
        Self::ServiceOrEngagementRequired,
        Self::NumberFormat,
        Self::NumberTaken,
        Self::SupplierNotCaller,
        Self::BankAccountUnknown,
        Self::LinesMissing,
        Self::VatRateUnknown,
        Self::VatLinesInconsistent,
        Self::TotalExclVat,
        Self::TotalVat,
        Self::TotalInclVat,
        Self::AmountDue,
        Self::AmountFormat,
        Self::CodeUnknown,
        Self::FlowSyntaxUnsupported,
        Self::FlowSyntaxMismatch,
        Self::FlowNoInvoice,
        Self::AttachmentUnknown,
        Self::AttachmentTaken,
        Self::AttachmentsTooLarge,
        Self::MainAttachmentCount,
        Self::MainAttachmentNotPdf,
        Self::SellerNotDepositor,
        Self::FlowTooLarge,
        Self::ArchiveEntryName,
        Self::ArchiveEntryType,
        Self::ArchiveTooManyEntries,
        Self::ArchiveNested,
        Self::ArchiveTooLarge,
        Self::ArchiveRatio,
        Self::ArchiveEntryTooLarge,
        Self::ArchiveUnreadable,
    ];

    /// The rule of a stable code (a stored report names rules by code).
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.code() == code)
    }
}

/// One reason a deposit was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// A platform rule, about the API field `field` (spec field names).
    Platform { rule: PlatformRule, field: &'static str },
    /// An EN 16931 rule fired on the structured copy built from the entry, with the engine's words.
    En16931 {
        rule: &'static str,
        message_fr: String,
        message_en: String,
    },
}

impl Finding {
    pub(crate) fn platform(rule: PlatformRule, field: &'static str) -> Self {
        Self::Platform { rule, field }
    }

    /// The stable code (`FP-…` or the EN 16931 rule id).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Platform { rule, .. } => rule.code(),
            Self::En16931 { rule, .. } => rule,
        }
    }
}

/// A VAT rate as the entry gives it: a referential code (`lignePosteTauxTva`, `ligneTvaTaux`) or a
/// rate in percent (`…TauxTvaManuel`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VatRate {
    Code(String),
    Manual(Decimal),
}

/// The referential of VAT rate codes (`transverses/v1/recuperer/tauxtva`): code → percent. `TVA1`
/// is the franchise of art. 293 B of the CGI (no VAT).
pub const VAT_RATES: &[(&str, Decimal)] = &[
    ("TVA1", Decimal::ZERO),
    ("TVA0", Decimal::ZERO),
    ("TVA21", Decimal::from_parts(21, 0, 0, false, 1)),
    ("TVA55", Decimal::from_parts(55, 0, 0, false, 1)),
    ("TVA85", Decimal::from_parts(85, 0, 0, false, 1)),
    ("TVA10", Decimal::from_parts(10, 0, 0, false, 0)),
    ("TVA20", Decimal::from_parts(20, 0, 0, false, 0)),
];

impl VatRate {
    /// The rate in percent, `None` when the code is unknown or the rate out of 0..=100.
    pub fn percent(&self) -> Option<Decimal> {
        match self {
            Self::Code(c) => VAT_RATES
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(c.trim()))
                .map(|(_, v)| *v),
            Self::Manual(v) => (*v >= Decimal::ZERO && *v <= Decimal::ONE_HUNDRED).then_some(v.normalize()),
        }
    }
}

/// One `lignePoste`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryLine {
    pub number: Option<i64>,
    pub reference: Option<String>,
    pub name: String,
    pub quantity: Decimal,
    pub unit: Option<String>,
    pub unit_price: Decimal,
    pub discount: Decimal,
    /// `None`: no rate given (a finding).
    pub vat_rate: Option<VatRate>,
}

/// One `ligneTva`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryVatLine {
    pub vat_rate: Option<VatRate>,
    pub base: Decimal,
    pub amount: Decimal,
}

/// `montantTotal`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntryTotals {
    pub excl_vat: Decimal,
    pub vat: Decimal,
    pub incl_vat: Decimal,
    /// `montantRemiseGlobaleTTC` (only zero is accepted for now).
    pub global_discount: Decimal,
    pub amount_due: Decimal,
}

/// `modeDepot` of `factures/v1/soumettre`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EntryMode {
    /// `SAISIE_API`: the data is the invoice; no main attachment.
    #[default]
    Data,
    /// `DEPOT_PDF_API`: the same data, plus exactly one main attachment, a PDF uploaded before,
    /// kept as the invoice's original.
    Pdf,
}

/// A `SAISIE_API` / `DEPOT_PDF_API` entry, as read from `factures/v1/soumettre` (spec §4.4),
/// before any check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceEntry {
    /// `modeDepot`.
    pub mode: EntryMode,
    /// `pieceJointePrincipale`.
    pub main_attachments: Vec<crate::AttachmentRef>,
    /// `pieceJointeComplementaire`.
    pub attachments: Vec<crate::AttachmentRef>,
    /// `numeroFactureSaisi`.
    pub number: String,
    /// `dateFacture`.
    pub issue_date: Date,
    /// `dateEcheancePaiement`.
    pub due_date: Option<Date>,
    /// `references.typeFacture` (`FACTURE`, `AVOIR`).
    pub kind: InvoiceKind,
    /// `fournisseur.idFournisseur`: must be the depositor when given.
    pub supplier: Option<StructureId>,
    /// `fournisseur.codeCoordonneesBancairesFournisseur`.
    pub bank_account: Option<BankAccountId>,
    /// `destinataire.codeDestinataire` (the recipient's SIRET).
    pub recipient: String,
    /// `destinataire.codeServiceExecutant`.
    pub service_code: Option<String>,
    /// `references.numeroBonCommande` (the engagement number).
    pub engagement: Option<String>,
    /// `references.numeroMarche`.
    pub contract: Option<String>,
    /// `references.numeroFactureOrigine` (credit notes).
    pub original_invoice: Option<String>,
    /// `references.deviseFacture`, default `EUR`.
    pub currency: String,
    /// `references.modePaiement`.
    pub payment_mode: Option<String>,
    /// `references.motifExonerationTva`.
    pub exemption_reason: Option<String>,
    /// `commentaire`.
    pub comment: Option<String>,
    pub lines: Vec<EntryLine>,
    pub vat_lines: Vec<EntryVatLine>,
    pub totals: EntryTotals,
}

/// The answer to a deposit (the first one's when a retry is recognised).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deposited {
    pub invoice: InvoiceRecord,
    /// The status the deposit ended in (`MISE_A_DISPOSITION`: routed in the same transaction).
    pub status: InvoiceStatus,
    /// SIRET (or other identifier) of the supplier (`identifiantStructure`).
    pub supplier_identifier: String,
    /// SHA-256 of the original bytes (`empreinteCertificatDepot`).
    pub fingerprint: String,
    /// Whether this answer is a retry's (nothing was created).
    pub replayed: bool,
}

/// The new routing of an invoice to recycle (`factures/v1/recycler`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rerouting {
    /// `destinataire.codeDestinataire`.
    pub recipient: String,
    /// `destinataire.codeServiceExecutant`.
    pub service_code: Option<String>,
    /// `reference.numeroBonCommande`.
    pub engagement: Option<String>,
    /// An invoice number, when the client sends one: it must be the invoice's own.
    pub number: Option<String>,
    /// `commentaire`.
    pub comment: Option<String>,
}

/// An invoice with what its two sides see around it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceDetail {
    pub invoice: InvoiceRecord,
    pub supplier: StructureRecord,
    pub recipient: StructureRecord,
    pub service: Option<ServiceRecord>,
    /// Oldest first.
    pub history: Vec<InvoiceHistoryRecord>,
}

impl InvoiceDetail {
    /// The motive or comment of the step that set the current status (`commentaireEtatCourant`).
    pub fn current_comment(&self) -> Option<&str> {
        self.history.last().and_then(|h| h.motive.as_ref()).map(Motive::as_str)
    }
}

/// Search criteria of `factures/v1/rechercher/…` (all in SQL; absent ones ignored).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InvoiceFilter {
    pub statuses: Vec<InvoiceStatus>,
    pub number: Option<String>,
    /// The other side's structure.
    pub partner: Option<StructureId>,
    pub deposited_from: Option<Date>,
    /// Inclusive.
    pub deposited_to: Option<Date>,
    /// At most this many results (1..=200).
    pub max: u32,
}

/// One line of a search, with the names the list shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceLine {
    pub invoice: InvoiceRecord,
    pub supplier: StructureRecord,
    pub recipient: StructureRecord,
    pub service: Option<ServiceRecord>,
}

/// How long the same bytes from the same depositor count as a retry.
pub(crate) const SAME_BYTES_WINDOW: Duration = Duration::hours(24);

/// A store "not found" on a scoped step is the caller's "not found".
fn scoped(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound(_) => AppError::NotFound,
        other => other.into(),
    }
}

fn round2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

pub(crate) fn blank_to_none(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A checked invoice [`App::record_invoice`] records, whatever its channel.
pub(crate) struct ToRecord<'a> {
    pub deposit: facteur_store::DepositId,
    pub supplier: StructureId,
    pub routing: &'a Routing,
    pub number: String,
    /// The field a taken number is reported about (`numeroFactureSaisi`, `BT-1`).
    pub number_field: &'static str,
    pub kind: InvoiceKind,
    pub issue_date: Date,
    pub currency: String,
    pub total_excl_vat: Decimal,
    pub total_vat: Decimal,
    pub total_incl_vat: Decimal,
    pub structured: BlobId,
    /// `UBL` or `CII`.
    pub syntax: &'static str,
}

/// What the routing checks resolved.
pub(crate) struct Routing {
    recipient: StructureRecord,
    service: Option<ServiceRecord>,
    engagement: Option<String>,
}

/// The French intra-community VAT number of a SIREN (key = (12 + 3 × (SIREN mod 97)) mod 97).
fn vat_number_of(identifier: &StructureIdentifier) -> Option<String> {
    let siret = identifier.siret()?;
    let siren = siret.siren();
    let n: u64 = siren.as_str().parse().ok()?;
    let key = (12 + 3 * (n % 97)) % 97;
    Some(format!("FR{key:02}{}", siren.as_str()))
}

impl App {
    /// Checks the routing of an invoice (deposit or re-routing): the recipient exists, is public
    /// and active; its service and the engagement number as its parameters require. Findings are
    /// added to `out`; the resolved routing when the recipient is usable.
    pub(crate) async fn check_routing(
        &self,
        recipient: &str,
        service_code: Option<&str>,
        engagement: Option<&str>,
        on: Date,
        out: &mut Vec<Finding>,
    ) -> AppResult<Option<Routing>> {
        use PlatformRule as R;
        const DEST: &str = "destinataire.codeDestinataire";
        const SERV: &str = "destinataire.codeServiceExecutant";
        const EJ: &str = "references.numeroBonCommande";
        let engagement = blank_to_none(engagement);
        let found = match StructureIdentifier::parse(IdentifierKind::Siret, recipient) {
            Ok(id) => self.db().find_structure_by_identifier(&id).await?,
            Err(_) => None,
        };
        let Some(recipient) = found else {
            out.push(Finding::platform(R::RecipientUnknown, DEST));
            return Ok(None);
        };
        if recipient.structure.kind != StructureKind::Public {
            out.push(Finding::platform(R::RecipientNotPublic, DEST));
        }
        if recipient.structure.status != StructureStatus::Active {
            out.push(Finding::platform(R::RecipientInactive, DEST));
        }
        let mut service = None;
        if let Some(code) = blank_to_none(service_code) {
            let found = match facteur_domain::ServiceCode::parse(&code) {
                Ok(c) => self.db().find_service(recipient.id, &c).await?,
                Err(_) => None,
            };
            match found {
                None => out.push(Finding::platform(R::ServiceUnknown, SERV)),
                Some(s) if !s.service.accepts_on(on) => out.push(Finding::platform(R::ServiceInactive, SERV)),
                Some(s) => service = Some(s),
            }
        }
        let missing = recipient.structure.parameters.missing_references(
            service.as_ref().map(|s| &s.service.parameters),
            service.is_some() || blank_to_none(service_code).is_some(),
            engagement.is_some(),
        );
        for m in missing {
            out.push(match m {
                facteur_domain::MissingReference::ServiceCode => Finding::platform(R::ServiceRequired, SERV),
                facteur_domain::MissingReference::Engagement => Finding::platform(R::EngagementRequired, EJ),
                facteur_domain::MissingReference::ServiceCodeOrEngagement => {
                    Finding::platform(R::ServiceOrEngagementRequired, SERV)
                }
            });
        }
        if engagement.as_ref().is_some_and(|e| e.chars().count() > 50) {
            out.push(Finding::platform(R::EngagementRequired, EJ));
        }
        Ok(Some(Routing {
            recipient,
            service,
            engagement,
        }))
    }

    /// The structure `actor` acts for on the side asked: a member (or the technical account) of
    /// `structure`.
    pub(crate) async fn acting_for(&self, actor: &Actor, structure: StructureId) -> AppResult<()> {
        self.require_member(actor, structure).await.map(|_| ())
    }

    /// `factures/v1/soumettre` in `SAISIE_API` mode: checks everything, builds the structured
    /// copy, and records deposit, invoice and routing in one transaction (see the module
    /// documentation). `original` is the request body as received; `idempotency_key` the
    /// client's `Idempotency-Key`.
    #[tracing::instrument(skip_all, fields(depositor = %depositor))]
    pub async fn submit_invoice(
        &self,
        actor: &Actor,
        depositor: StructureId,
        entry: &InvoiceEntry,
        original: &[u8],
        idempotency_key: Option<&str>,
    ) -> AppResult<Deposited> {
        self.acting_for(actor, depositor).await?;
        let supplier = self.load_structure(depositor).await?;
        let key = blank_to_none(idempotency_key);
        if let Some(k) = &key
            && k.chars().count() > 200
        {
            return Err(AppError::invalid("Idempotency-Key", Problem::TooLong { max: 200 }));
        }
        let fingerprint = BlobId::of(original);
        if let Some(first) = self.replayed_deposit(&supplier, key.as_deref(), &fingerprint).await? {
            return Ok(first);
        }

        let mut findings = Vec::new();
        let checked = self.check_entry(&supplier, entry, &mut findings).await?;
        let refs = self.check_entry_attachments(depositor, entry, &mut findings).await?;
        let Some((routing, model)) = checked.filter(|_| findings.is_empty()) else {
            return Err(AppError::Refused(findings));
        };
        let ubl = facteur_einvoice::ubl::write(&model);
        let report = facteur_einvoice::validate::validate_xml(ubl.as_bytes());
        let fatal: Vec<Finding> = report
            .findings
            .into_iter()
            .filter(|f| f.severity == Severity::Fatal)
            .map(|f| Finding::En16931 {
                rule: f.rule,
                message_fr: f.message_fr,
                message_en: f.message_en,
            })
            .collect();
        if !fatal.is_empty() {
            return Err(AppError::Refused(fatal));
        }

        // Large blobs first (content-addressed: an orphan after a failed commit is harmless), then
        // one transaction for everything the deposit leaves behind, small blobs included.
        let original_id = self.stage_blob(original.to_vec()).await?;
        let structured = self.stage_blob(ubl.into_bytes()).await?;
        let sa = store_actor(actor);
        let mut tx = self.db().begin().await?;
        let original_id = original_id.record(&mut tx).await?;
        let structured = structured.record(&mut tx).await?;
        let deposit = match tx
            .create_deposit(
                &NewDeposit {
                    depositor,
                    channel: match entry.mode {
                        EntryMode::Data => DepositChannel::ApiEntry,
                        EntryMode::Pdf => DepositChannel::ApiPdf,
                    },
                    original: original_id,
                    size: u64::try_from(original.len()).unwrap_or(u64::MAX),
                    media_type: "application/json".to_owned(),
                    file_name: None,
                    idempotency_key: key.clone(),
                    flow_syntax: None,
                },
                sa,
            )
            .await
        {
            Ok(d) => d,
            Err(StoreError::Conflict(Unique::DepositIdempotencyKey)) => {
                // A concurrent retry recorded it first: answer with its invoice.
                drop(tx);
                return self
                    .replayed_deposit(&supplier, key.as_deref(), &fingerprint)
                    .await?
                    .ok_or(AppError::Conflict(Conflict::IdempotencyKeyReplayed));
            }
            Err(e) => return Err(e.into()),
        };
        let invoice = Self::record_invoice(
            &mut tx,
            &ToRecord {
                deposit: deposit.id,
                supplier: depositor,
                routing: &routing,
                number: model.number.clone(),
                number_field: "numeroFactureSaisi",
                kind: entry.kind,
                issue_date: entry.issue_date,
                currency: entry.currency.clone(),
                total_excl_vat: model.totals.tax_exclusive_total,
                total_vat: model.totals.vat_total.unwrap_or_default(),
                total_incl_vat: model.totals.tax_inclusive_total,
                structured,
                syntax: "UBL",
            },
            sa,
        )
        .await?;
        Self::link_attachments(&mut tx, depositor, invoice.id, &refs, sa).await?;
        self.commit(tx).await?;
        tracing::info!(invoice = invoice.id.0, "invoice deposited and made available");
        Ok(Deposited {
            invoice,
            status: InvoiceStatus::MiseADisposition,
            supplier_identifier: supplier.structure.identifier.value().to_owned(),
            fingerprint: fingerprint.as_str().to_owned(),
            replayed: false,
        })
    }

    /// Records a checked invoice of a durable deposit and routes it to its recipient
    /// (`DEPOSEE` → `MISE_A_DISPOSITION`), in the caller's transaction: the one path every
    /// channel (`SAISIE_API`, flows) creates invoices by. The number is checked again inside the
    /// transaction ([`PlatformRule::NumberTaken`] about `number_field`).
    pub(crate) async fn record_invoice(
        tx: &mut Tx,
        invoice: &ToRecord<'_>,
        actor: facteur_store::Actor,
    ) -> AppResult<InvoiceRecord> {
        if tx
            .invoice_number_used(invoice.supplier, invoice.issue_date.year(), invoice.number.as_str())
            .await?
        {
            return Err(AppError::Refused(vec![Finding::platform(
                PlatformRule::NumberTaken,
                invoice.number_field,
            )]));
        }
        let record = tx
            .create_invoice(
                &NewInvoice {
                    deposit: invoice.deposit,
                    supplier: invoice.supplier,
                    recipient: invoice.routing.recipient.id,
                    service: invoice.routing.service.as_ref().map(|s| s.id),
                    number: invoice.number.clone(),
                    kind: invoice.kind,
                    issue_date: invoice.issue_date,
                    currency: invoice.currency.clone(),
                    total_excl_vat: invoice.total_excl_vat,
                    total_vat: invoice.total_vat,
                    total_incl_vat: invoice.total_incl_vat,
                    engagement_number: invoice.routing.engagement.clone(),
                    status: InvoiceStatus::Deposee,
                    structured: Some(invoice.structured.clone()),
                    syntax: Some(invoice.syntax.to_owned()),
                },
                actor,
            )
            .await?;
        Self::route(tx, record.id, actor).await?;
        Ok(record)
    }

    /// The platform makes a deposited invoice available to its recipient (`DEPOSEE` →
    /// `MISE_A_DISPOSITION`), in the caller's transaction.
    async fn route(tx: &mut Tx, invoice: InvoiceId, actor: facteur_store::Actor) -> AppResult<()> {
        tx.change_invoice_status(&StatusChange {
            invoice,
            from: InvoiceStatus::Deposee,
            to: InvoiceStatus::MiseADisposition,
            by: None,
            actor,
            motive: None,
            attachments_added: false,
        })
        .await
        .map_err(scoped)?;
        Ok(())
    }

    /// The first answer to a deposit this one repeats (same key, or same bytes within 24 h).
    async fn replayed_deposit(
        &self,
        supplier: &StructureRecord,
        key: Option<&str>,
        fingerprint: &BlobId,
    ) -> AppResult<Option<Deposited>> {
        let first = match key {
            Some(k) => self.db().deposit_by_idempotency_key(supplier.id, k).await?,
            None => {
                let since = self.clock().now() - SAME_BYTES_WINDOW;
                self.db().deposit_of_same_bytes(supplier.id, fingerprint, since).await?
            }
        };
        let Some(first) = first else {
            return Ok(None);
        };
        let Some(invoice) = self
            .db()
            .invoice_of_deposit(first.id, InvoiceSide::Supplier(supplier.id))
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(Deposited {
            invoice,
            status: InvoiceStatus::MiseADisposition,
            supplier_identifier: supplier.structure.identifier.value().to_owned(),
            fingerprint: first.original.as_str().to_owned(),
            replayed: true,
        }))
    }

    /// The attachment references of an entry, checked (findings to `out`): the mode's main
    /// attachment (one PDF for `DEPOT_PDF_API`, none for `SAISIE_API`), then the complementary
    /// ones. The references to link, main first.
    async fn check_entry_attachments<'e>(
        &self,
        depositor: StructureId,
        entry: &'e InvoiceEntry,
        out: &mut Vec<Finding>,
    ) -> AppResult<Vec<(&'e crate::AttachmentRef, facteur_store::AttachmentRole)>> {
        use facteur_store::AttachmentRole as Role;
        let expected = match entry.mode {
            EntryMode::Data => 0,
            EntryMode::Pdf => 1,
        };
        if entry.main_attachments.len() != expected {
            out.push(Finding::platform(
                PlatformRule::MainAttachmentCount,
                "pieceJointePrincipale",
            ));
        }
        let refs: Vec<_> = entry
            .main_attachments
            .iter()
            .map(|r| (r, Role::Main))
            .chain(entry.attachments.iter().map(|r| (r, Role::Complementary)))
            .collect();
        let found = self.check_attachment_refs(depositor, &refs, 0, out).await?;
        if let Some(main) = entry.main_attachments.first()
            && found.iter().any(|a| a.id == main.id && a.extension != "PDF")
        {
            out.push(Finding::platform(
                PlatformRule::MainAttachmentNotPdf,
                "pieceJointePrincipale",
            ));
        }
        Ok(refs)
    }

    /// Every platform check of an entry; findings go to `out`. The routing and the EN 16931 model
    /// when the entry could be read far enough to build one.
    async fn check_entry(
        &self,
        supplier: &StructureRecord,
        entry: &InvoiceEntry,
        out: &mut Vec<Finding>,
    ) -> AppResult<Option<(Routing, en::Invoice)>> {
        use PlatformRule as R;
        if entry.supplier.is_some_and(|s| s != supplier.id) {
            out.push(Finding::platform(R::SupplierNotCaller, "fournisseur.idFournisseur"));
        }
        let number = match InvoiceNumber::parse(&entry.number) {
            Ok(n) => {
                if self
                    .db()
                    .invoice_number_used(supplier.id, entry.issue_date.year(), n.as_str())
                    .await?
                {
                    out.push(Finding::platform(R::NumberTaken, "numeroFactureSaisi"));
                }
                Some(n)
            }
            Err(_) => {
                out.push(Finding::platform(R::NumberFormat, "numeroFactureSaisi"));
                None
            }
        };
        let routing = self
            .check_routing(
                &entry.recipient,
                entry.service_code.as_deref(),
                entry.engagement.as_deref(),
                entry.issue_date,
                out,
            )
            .await?;
        let transfer = matches!(
            entry.payment_mode.as_deref().map(str::trim),
            None | Some("" | "VIREMENT")
        );
        let bank = match entry.bank_account {
            // A transfer without named details is paid to the supplier's default ones.
            None if transfer => self
                .db()
                .bank_accounts(supplier.id, true)
                .await?
                .into_iter()
                .find(|a| a.is_default),
            None => None,
            Some(id) => {
                let accounts = self.db().bank_accounts(supplier.id, true).await?;
                let found = accounts.into_iter().find(|a| a.id == id);
                if found.is_none() {
                    out.push(Finding::platform(
                        R::BankAccountUnknown,
                        "fournisseur.codeCoordonneesBancairesFournisseur",
                    ));
                }
                found
            }
        };
        let currency = en::CurrencyCode::new(&entry.currency);
        if currency.is_none() {
            out.push(Finding::platform(R::CodeUnknown, "references.deviseFacture"));
        }
        let amounts = check_amounts(entry, out);
        let (Some(number), Some(routing), Some(currency), Some(amounts)) = (number, routing, currency, amounts) else {
            return Ok(None);
        };
        let model = build_model(supplier, &routing, entry, number, currency, bank.as_ref(), &amounts);
        if model.is_none() {
            // Only a date outside the years a document can carry stops the model.
            out.push(Finding::platform(R::CodeUnknown, "dateFacture"));
        }
        Ok(model.map(|m| (routing, m)))
    }

    /// `factures/v1/traiter/recue`: the recipient sets a new status (a supplier asking is refused
    /// by the lifecycle table as not its role). The motive is mandatory for `SUSPENDUE`,
    /// `REJETEE` and `A_RECYCLER`.
    #[tracing::instrument(skip_all, fields(invoice = %invoice, to = %to))]
    pub async fn process_invoice(
        &self,
        actor: &Actor,
        structure: StructureId,
        invoice: InvoiceId,
        to: InvoiceStatus,
        motive: Option<&str>,
    ) -> AppResult<(InvoiceRecord, InvoiceHistoryRecord)> {
        self.acting_for(actor, structure).await?;
        let motive = Motive::parse_optional(motive.unwrap_or_default()).map_err(AppError::domain)?;
        let scope = self.service_scope(actor, structure).await?;
        let mut tx = self.db().begin().await?;
        let (record, side) = Self::either_side(&mut tx, invoice, structure).await?;
        if !in_scope(scope.as_deref(), &record, side) {
            return Err(AppError::NotFound);
        }
        let step = tx
            .change_invoice_status(&StatusChange {
                invoice,
                from: record.status,
                to,
                by: Some(side),
                actor: store_actor(actor),
                motive: motive.as_ref(),
                attachments_added: false,
            })
            .await
            .map_err(scoped)?;
        self.commit(tx).await?;
        Ok((record, step))
    }

    /// The services `actor` is limited to on the recipient side of `structure`: `Some` for a
    /// member attached to services (it sees only the invoices addressed to them), `None` for
    /// everyone else (members attached to none, the technical account, the operator).
    pub(crate) async fn service_scope(
        &self,
        actor: &Actor,
        structure: StructureId,
    ) -> AppResult<Option<Vec<ServiceId>>> {
        let Actor::User(user) = *actor else {
            return Ok(None);
        };
        let services = self.db().membership_services(user, structure).await?;
        Ok((!services.is_empty()).then_some(services))
    }

    /// The invoice as the structure sees it, recipient side first (a structure may invoice
    /// itself only through two structures, so at most one side matches).
    async fn either_side(
        tx: &mut Tx,
        invoice: InvoiceId,
        structure: StructureId,
    ) -> AppResult<(InvoiceRecord, InvoiceSide)> {
        for side in [InvoiceSide::Recipient(structure), InvoiceSide::Supplier(structure)] {
            if let Some(r) = tx.invoice(invoice, side).await? {
                return Ok((r, side));
            }
        }
        Err(AppError::NotFound)
    }

    /// `factures/v1/completer`: the supplier completes a suspended invoice with a comment and/or
    /// attachments of its own not yet referenced (`SUSPENDUE` → `COMPLETEE`). The references
    /// are checked first (every finding at once), then linked in the status change's transaction.
    #[tracing::instrument(skip_all, fields(invoice = %invoice))]
    pub async fn complete_invoice(
        &self,
        actor: &Actor,
        supplier: StructureId,
        invoice: InvoiceId,
        comment: Option<&str>,
        attachments: &[crate::AttachmentRef],
    ) -> AppResult<(InvoiceRecord, InvoiceHistoryRecord)> {
        self.acting_for(actor, supplier).await?;
        let comment =
            Motive::parse_optional(comment.unwrap_or_default()).map_err(|e| AppError::domain_as("commentaire", e))?;
        self.db()
            .invoice(invoice, InvoiceSide::Supplier(supplier))
            .await?
            .ok_or(AppError::NotFound)?;
        let refs: Vec<_> = attachments
            .iter()
            .map(|r| (r, facteur_store::AttachmentRole::Complementary))
            .collect();
        if !refs.is_empty() {
            let held: u64 = self
                .db()
                .invoice_attachments(invoice)
                .await?
                .iter()
                .map(|a| a.size)
                .sum();
            let mut findings = Vec::new();
            self.check_attachment_refs(supplier, &refs, held, &mut findings).await?;
            if !findings.is_empty() {
                return Err(AppError::Refused(findings));
            }
        }
        let sa = store_actor(actor);
        let mut tx = self.db().begin().await?;
        let record = tx
            .invoice(invoice, InvoiceSide::Supplier(supplier))
            .await?
            .ok_or(AppError::NotFound)?;
        let step = tx
            .change_invoice_status(&StatusChange {
                invoice,
                from: record.status,
                to: InvoiceStatus::Completee,
                by: Some(InvoiceSide::Supplier(supplier)),
                actor: sa,
                motive: comment.as_ref(),
                attachments_added: !refs.is_empty(),
            })
            .await
            .map_err(scoped)?;
        Self::link_attachments(&mut tx, supplier, invoice, &refs, sa).await?;
        self.commit(tx).await?;
        Ok((record, step))
    }

    /// `factures/v1/recycler`: the supplier re-routes an invoice to recycle. Only the recipient,
    /// the service code and the engagement number change (a different invoice number is refused);
    /// the new routing passes the deposit's checks; the invoice goes back through `DEPOSEE` and is
    /// made available to its new recipient in the same transaction.
    #[tracing::instrument(skip_all, fields(invoice = %invoice))]
    pub async fn recycle_invoice(
        &self,
        actor: &Actor,
        supplier: StructureId,
        invoice: InvoiceId,
        routing: &Rerouting,
    ) -> AppResult<InvoiceRecord> {
        self.acting_for(actor, supplier).await?;
        let comment = Motive::parse_optional(routing.comment.as_deref().unwrap_or_default())
            .map_err(|e| AppError::domain_as("commentaire", e))?;
        let current = self
            .db()
            .invoice(invoice, InvoiceSide::Supplier(supplier))
            .await?
            .ok_or(AppError::NotFound)?;
        if let Some(n) = blank_to_none(routing.number.as_deref())
            && n != current.number
        {
            return Err(AppError::invalid("numeroFacture", Problem::Unchangeable));
        }
        if current.status != InvoiceStatus::ARecycler {
            return Err(AppError::Conflict(Conflict::Lifecycle(
                facteur_domain::TransitionError::Illegal {
                    from: current.status,
                    to: InvoiceStatus::Deposee,
                },
            )));
        }
        let mut findings = Vec::new();
        let checked = self
            .check_routing(
                &routing.recipient,
                routing.service_code.as_deref(),
                routing.engagement.as_deref(),
                current.issue_date,
                &mut findings,
            )
            .await?;
        let Some(checked) = checked.filter(|_| findings.is_empty()) else {
            return Err(AppError::Refused(findings));
        };
        let sa = store_actor(actor);
        let mut tx = self.db().begin().await?;
        tx.recycle_invoice(
            invoice,
            supplier,
            &Reroute {
                recipient: checked.recipient.id,
                service: checked.service.as_ref().map(|s| s.id),
                engagement_number: checked.engagement.clone(),
            },
            sa,
            comment.as_ref(),
        )
        .await
        .map_err(scoped)?;
        Self::route(&mut tx, invoice, sa).await?;
        let record = tx
            .invoice(invoice, InvoiceSide::Supplier(supplier))
            .await?
            .ok_or(AppError::NotFound)?;
        self.commit(tx).await?;
        Ok(record)
    }

    /// `factures/v1/traiterRejet`: the supplier acknowledges the rejection of each invoice named,
    /// all or none (one transaction).
    #[tracing::instrument(skip_all, fields(count = invoices.len()))]
    pub async fn acknowledge_rejections(
        &self,
        actor: &Actor,
        supplier: StructureId,
        invoices: &[InvoiceId],
        motive: Option<&str>,
    ) -> AppResult<Vec<InvoiceRecord>> {
        self.acting_for(actor, supplier).await?;
        if invoices.is_empty() {
            return Err(AppError::invalid("listeDemandePaiement", Problem::Missing));
        }
        let motive =
            Motive::parse_optional(motive.unwrap_or_default()).map_err(|e| AppError::domain_as("motifRejet", e))?;
        let mut tx = self.db().begin().await?;
        let mut done = Vec::with_capacity(invoices.len());
        for id in invoices {
            tx.acknowledge_invoice_rejection(*id, supplier, store_actor(actor), motive.as_ref())
                .await
                .map_err(scoped)?;
            done.push(
                tx.invoice(*id, InvoiceSide::Supplier(supplier))
                    .await?
                    .ok_or(AppError::NotFound)?,
            );
        }
        self.commit(tx).await?;
        Ok(done)
    }

    /// An invoice with its two structures, its service and its history, as `party`'s side of
    /// `structure` sees it (`factures/v1/consulter/…`, `…/historique` with `party` `None`: either
    /// side).
    #[tracing::instrument(skip_all, fields(invoice = %invoice))]
    pub async fn invoice_detail(
        &self,
        actor: &Actor,
        structure: StructureId,
        invoice: InvoiceId,
        party: Option<Party>,
    ) -> AppResult<InvoiceDetail> {
        self.acting_for(actor, structure).await?;
        let sides: &[InvoiceSide] = match party {
            Some(Party::Supplier) => &[InvoiceSide::Supplier(structure)],
            Some(Party::Recipient) => &[InvoiceSide::Recipient(structure)],
            _ => &[InvoiceSide::Recipient(structure), InvoiceSide::Supplier(structure)],
        };
        let scope = self.service_scope(actor, structure).await?;
        for side in sides {
            let Some(record) = self.db().invoice(invoice, *side).await? else {
                continue;
            };
            if !in_scope(scope.as_deref(), &record, *side) {
                continue;
            }
            let history = self.db().invoice_history(invoice, *side).await?.unwrap_or_default();
            let supplier = self.load_structure(record.supplier_id).await?;
            let recipient = self.load_structure(record.recipient_id).await?;
            let service = match record.service_id {
                Some(s) => self.db().service(s).await?,
                None => None,
            };
            return Ok(InvoiceDetail {
                invoice: record,
                supplier,
                recipient,
                service,
                history,
            });
        }
        Err(AppError::NotFound)
    }

    /// `transverses/v1/recuperer/etats/traitement`: the statuses the caller may move the invoice
    /// to (from its side, with the recipient's payment reporting), or, without an invoice, those
    /// a recipient may set from `from`.
    #[tracing::instrument(skip_all)]
    pub async fn possible_statuses(
        &self,
        actor: &Actor,
        structure: StructureId,
        invoice: Option<InvoiceId>,
        from: Option<InvoiceStatus>,
    ) -> AppResult<(InvoiceStatus, Vec<InvoiceStatus>)> {
        self.acting_for(actor, structure).await?;
        let Some(id) = invoice else {
            let from = from.ok_or(AppError::invalid("statutCourant", Problem::Missing))?;
            return Ok((
                from,
                from.possible_next(Party::Recipient, PaymentReporting::Reported)
                    .collect(),
            ));
        };
        let detail = self.invoice_detail(actor, structure, id, None).await?;
        let party = if detail.invoice.recipient_id == structure {
            Party::Recipient
        } else {
            Party::Supplier
        };
        let payment = PaymentReporting::of(
            &detail.recipient.structure.parameters,
            detail.service.as_ref().map(|s| &s.service.parameters),
        );
        let status = detail.invoice.status;
        Ok((status, status.possible_next(party, payment).collect()))
    }

    /// `factures/v1/rechercher/fournisseur` / `…/recipiendaire`: the invoices of `party`'s side
    /// of `structure`, newest deposit first, at most `filter.max`.
    #[tracing::instrument(skip_all)]
    pub async fn search_invoices(
        &self,
        actor: &Actor,
        structure: StructureId,
        party: Party,
        filter: &InvoiceFilter,
    ) -> AppResult<Vec<InvoiceLine>> {
        self.acting_for(actor, structure).await?;
        let side = match party {
            Party::Recipient => InvoiceSide::Recipient(structure),
            _ => InvoiceSide::Supplier(structure),
        };
        let midnight = |d: Date| d.midnight().assume_utc();
        let query = InvoiceQuery {
            statuses: filter.statuses.clone(),
            number: blank_to_none(filter.number.as_deref()),
            partner: filter.partner,
            deposited_from: filter.deposited_from.map(midnight),
            deposited_before: filter.deposited_to.and_then(Date::next_day).map(midnight),
            limit: filter.max.clamp(1, facteur_domain::PageRequest::MAX_PER_PAGE),
            services: match side {
                InvoiceSide::Recipient(_) => self.service_scope(actor, structure).await?,
                InvoiceSide::Supplier(_) => None,
            },
            ..InvoiceQuery::new(side)
        };
        let page = self.db().list_invoices(&query).await?;
        let mut structures: HashMap<StructureId, StructureRecord> = HashMap::new();
        let mut services: HashMap<ServiceId, Option<ServiceRecord>> = HashMap::new();
        let mut lines = Vec::with_capacity(page.items.len());
        for invoice in page.items {
            for id in [invoice.supplier_id, invoice.recipient_id] {
                if let std::collections::hash_map::Entry::Vacant(e) = structures.entry(id) {
                    e.insert(self.load_structure(id).await?);
                }
            }
            let service = match invoice.service_id {
                Some(s) => {
                    if let std::collections::hash_map::Entry::Vacant(e) = services.entry(s) {
                        e.insert(self.db().service(s).await?);
                    }
                    services.get(&s).cloned().flatten()
                }
                None => None,
            };
            let (Some(supplier), Some(recipient)) = (
                structures.get(&invoice.supplier_id).cloned(),
                structures.get(&invoice.recipient_id).cloned(),
            ) else {
                return Err(AppError::NotFound);
            };
            lines.push(InvoiceLine {
                invoice,
                supplier,
                recipient,
                service,
            });
        }
        Ok(lines)
    }
}

/// The amounts of an entry once checked: per line net amount and rate, VAT per rate, totals.
struct Amounts {
    /// (net, rate in percent) per line, in entry order.
    lines: Vec<(Decimal, Decimal)>,
    /// (rate, base, VAT) per rate, in the order of `ligneTva`.
    vat: Vec<(Decimal, Decimal, Decimal)>,
    excl_vat: Decimal,
    vat_total: Decimal,
    incl_vat: Decimal,
}

/// Checks the lines, the VAT lines and the totals of an entry against each other; `None` when a
/// finding makes the amounts unusable.
fn check_amounts(entry: &InvoiceEntry, out: &mut Vec<Finding>) -> Option<Amounts> {
    use PlatformRule as R;
    let before = out.len();
    if entry.lines.is_empty() {
        out.push(Finding::platform(R::LinesMissing, "lignePoste"));
    }
    let money_ok = |d: Decimal| d >= Decimal::ZERO && d.normalize().scale() <= 2;
    let precise_ok = |d: Decimal| d >= Decimal::ZERO && d.normalize().scale() <= 6;
    let mut lines = Vec::new();
    for l in &entry.lines {
        if !precise_ok(l.quantity) || !precise_ok(l.unit_price) || !money_ok(l.discount) {
            out.push(Finding::platform(R::AmountFormat, "lignePoste"));
            continue;
        }
        let Some(rate) = l.vat_rate.as_ref().and_then(VatRate::percent) else {
            out.push(Finding::platform(R::VatRateUnknown, "lignePoste.lignePosteTauxTva"));
            continue;
        };
        let net = round2(l.quantity * l.unit_price - l.discount);
        if net < Decimal::ZERO {
            out.push(Finding::platform(
                R::AmountFormat,
                "lignePoste.lignePosteMontantRemiseHT",
            ));
            continue;
        }
        lines.push((net, rate));
    }
    let mut vat = Vec::new();
    for v in &entry.vat_lines {
        let Some(rate) = v.vat_rate.as_ref().and_then(VatRate::percent) else {
            out.push(Finding::platform(R::VatRateUnknown, "ligneTva.ligneTvaTaux"));
            continue;
        };
        if !money_ok(v.base) || !money_ok(v.amount) {
            out.push(Finding::platform(R::AmountFormat, "ligneTva"));
            continue;
        }
        vat.push((rate, v.base, v.amount));
    }
    let t = &entry.totals;
    for (d, field) in [
        (t.excl_vat, "montantTotal.montantHtTotal"),
        (t.vat, "montantTotal.montantTVA"),
        (t.incl_vat, "montantTotal.montantTtcTotal"),
        (t.amount_due, "montantTotal.montantAPayer"),
    ] {
        if !money_ok(d) {
            out.push(Finding::platform(R::AmountFormat, field));
        }
    }
    if t.global_discount != Decimal::ZERO {
        out.push(Finding::platform(
            R::AmountFormat,
            "montantTotal.montantRemiseGlobaleTTC",
        ));
    }
    if out.len() > before {
        return None;
    }
    // One VAT line per rate, whose base is the sum of the lines at that rate and whose amount is
    // the base times the rate, rounded to the cent.
    let mut rates: Vec<Decimal> = lines.iter().map(|(_, r)| *r).collect();
    rates.sort();
    rates.dedup();
    let mut vat_rates: Vec<Decimal> = vat.iter().map(|(r, _, _)| *r).collect();
    vat_rates.sort();
    let distinct = {
        let mut d = vat_rates.clone();
        d.dedup();
        d.len() == vat_rates.len()
    };
    let consistent = distinct
        && rates == vat_rates
        && vat.iter().all(|(rate, base, amount)| {
            let sum: Decimal = lines.iter().filter(|(_, r)| r == rate).map(|(n, _)| *n).sum();
            sum == *base && round2(*base * *rate / Decimal::ONE_HUNDRED) == *amount
        });
    if !consistent {
        out.push(Finding::platform(R::VatLinesInconsistent, "ligneTva"));
    }
    let excl_vat: Decimal = lines.iter().map(|(n, _)| *n).sum();
    let vat_total: Decimal = vat.iter().map(|(_, _, a)| *a).sum();
    let incl_vat = excl_vat + vat_total;
    if t.excl_vat != excl_vat {
        out.push(Finding::platform(R::TotalExclVat, "montantTotal.montantHtTotal"));
    }
    if t.vat != vat_total {
        out.push(Finding::platform(R::TotalVat, "montantTotal.montantTVA"));
    }
    if t.incl_vat != t.excl_vat + t.vat {
        out.push(Finding::platform(R::TotalInclVat, "montantTotal.montantTtcTotal"));
    }
    if t.amount_due != t.incl_vat {
        out.push(Finding::platform(R::AmountDue, "montantTotal.montantAPayer"));
    }
    (out.len() == before).then_some(Amounts {
        lines,
        vat,
        excl_vat,
        vat_total,
        incl_vat,
    })
}

fn en_date(d: Date) -> Option<en::Date> {
    en::Date::new(u16::try_from(d.year()).ok()?, u8::from(d.month()), d.day())
}

fn en_address(s: &facteur_domain::Structure) -> Option<en::Address> {
    let a = &s.address;
    let opt = |v: &str| blank_to_none(Some(v));
    Some(en::Address {
        line1: opt(&a.line1),
        line2: a.line2.clone(),
        line3: a.line3.clone(),
        city: opt(&a.city),
        post_code: opt(&a.postcode),
        subdivision: None,
        country: en::CountryCode::new(&a.country).or_else(|| en::CountryCode::new("FR"))?,
    })
}

/// UN/ECE Rec. 20 unit for a `lignePosteUnite`: a code as given, a few French words, else `C62`
/// (one).
fn unit_code(unit: Option<&str>) -> Option<en::Code> {
    let u = unit.map(str::trim).unwrap_or_default();
    let code = match u.to_lowercase().as_str() {
        "h" | "heure" | "heures" => "HUR",
        "j" | "jour" | "jours" => "DAY",
        "kg" => "KGM",
        "m" | "metre" | "mètre" => "MTR",
        "l" | "litre" => "LTR",
        "mois" => "MON",
        _ if (2..=3).contains(&u.len()) && u.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) => u,
        _ => "C62",
    };
    en::Code::new(code)
}

fn code(s: &str) -> Option<en::Code> {
    en::Code::new(s)
}

/// The EN 16931 invoice of a checked entry (UBL is written from it and validated by the engine).
fn build_model(
    supplier: &StructureRecord,
    routing: &Routing,
    entry: &InvoiceEntry,
    number: InvoiceNumber,
    currency: en::CurrencyCode,
    bank: Option<&facteur_store::BankAccountRecord>,
    amounts: &Amounts,
) -> Option<en::Invoice> {
    let credit = entry.kind == InvoiceKind::CreditNote;
    let siret_id = |s: &facteur_domain::Structure| en::Identifier {
        value: s.identifier.value().to_owned(),
        scheme: code("0009"),
    };
    let category = |rate: Decimal| {
        if rate.is_zero() {
            en::VatCategory::Exempt
        } else {
            en::VatCategory::Standard
        }
    };
    let exemption = || {
        Some(
            blank_to_none(entry.exemption_reason.as_deref())
                .unwrap_or_else(|| "TVA non applicable, art. 293 B du CGI".to_owned()),
        )
    };
    let s = &supplier.structure;
    let r = &routing.recipient.structure;
    let vat_id = s
        .vat_number
        .as_ref()
        .map(|v| v.as_str().to_owned())
        .or_else(|| vat_number_of(&s.identifier));
    let means = match entry.payment_mode.as_deref().map(str::trim) {
        Some("CHEQUE") => "20",
        Some("PRELEVEMENT") => "49",
        Some("ESPECE") => "10",
        Some("AUTRE" | "REPORT") => "1",
        // A transfer names the account to pay (BR-61); without bank details the means stay open.
        _ if bank.is_some() => "30",
        _ => "1",
    };
    let payment = code(means).map(|means_code| en::PaymentInstructions {
        means_code,
        means_text: None,
        remittance: Some(number.as_str().to_owned()),
        credit_transfers: bank
            .map(|b| en::CreditTransfer {
                account_id: b.details.iban.as_str().to_owned(),
                account_name: blank_to_none(Some(&b.details.label)),
                service_provider: b.details.bic.as_ref().map(|c| c.as_str().to_owned()),
            })
            .into_iter()
            .collect(),
        card: None,
        direct_debit: None,
    });
    let mut lines = Vec::with_capacity(entry.lines.len());
    for (i, (l, (net, rate))) in entry.lines.iter().zip(&amounts.lines).enumerate() {
        lines.push(en::Line {
            id: l.number.map_or_else(|| (i + 1).to_string(), |n| n.to_string()),
            note: None,
            object: None,
            quantity: l.quantity.normalize(),
            unit_code: unit_code(l.unit.as_deref())?,
            net_amount: *net,
            order_line_reference: None,
            accounting_reference: None,
            period: None,
            allowances: if l.discount.is_zero() {
                Vec::new()
            } else {
                vec![en::LineAllowanceCharge {
                    amount: round2(l.discount),
                    base_amount: None,
                    percentage: None,
                    reason: Some("Remise".to_owned()),
                    reason_code: None,
                }]
            },
            charges: Vec::new(),
            price: en::Price {
                net_price: l.unit_price.normalize(),
                discount: None,
                gross_price: None,
                base_quantity: None,
                base_quantity_unit: None,
            },
            vat_category: category(*rate),
            vat_rate: Some(rate.normalize()),
            item: en::Item {
                name: l.name.trim().to_owned(),
                description: None,
                seller_id: blank_to_none(l.reference.as_deref()),
                buyer_id: None,
                standard_id: None,
                classifications: Vec::new(),
                origin_country: None,
                attributes: Vec::new(),
            },
        });
    }
    Some(en::Invoice {
        kind: if credit {
            en::DocKind::CreditNote
        } else {
            en::DocKind::Invoice
        },
        number: number.as_str().to_owned(),
        issue_date: en_date(entry.issue_date)?,
        type_code: code(if credit { "381" } else { "380" })?,
        currency,
        vat_currency: None,
        tax_point_date: None,
        vat_point_date_code: None,
        due_date: entry.due_date.and_then(en_date),
        buyer_reference: routing.service.as_ref().map(|s| s.service.code.as_str().to_owned()),
        project_reference: None,
        contract_reference: blank_to_none(entry.contract.as_deref()),
        purchase_order_reference: routing.engagement.clone(),
        sales_order_reference: None,
        receiving_advice_reference: None,
        despatch_advice_reference: None,
        tender_reference: None,
        invoiced_object: None,
        buyer_accounting_reference: None,
        payment_terms: Some("Délai de paiement à compter de la date de dépôt".to_owned()),
        notes: blank_to_none(entry.comment.as_deref())
            .map(|text| en::Note {
                subject_code: None,
                text,
            })
            .into_iter()
            .collect(),
        business_process: None,
        specification: "urn:cen.eu:en16931:2017".to_owned(),
        preceding_invoices: blank_to_none(entry.original_invoice.as_deref())
            .map(|number| en::PrecedingInvoice {
                number,
                issue_date: None,
            })
            .into_iter()
            .collect(),
        seller: en::Seller {
            name: s.company_name.clone(),
            trading_name: None,
            identifiers: vec![siret_id(s)],
            legal_registration: Some(en::Identifier {
                value: s.identifier.value().to_owned(),
                scheme: code("0002"),
            }),
            vat_id,
            tax_registration_id: None,
            additional_legal_info: None,
            electronic_address: None,
            address: en_address(s)?,
            contact: None,
        },
        buyer: en::Buyer {
            name: r.company_name.clone(),
            trading_name: None,
            identifier: Some(siret_id(r)),
            legal_registration: Some(en::Identifier {
                value: r.identifier.value().to_owned(),
                scheme: code("0002"),
            }),
            vat_id: None,
            electronic_address: None,
            address: en_address(r)?,
            contact: None,
        },
        payee: None,
        tax_representative: None,
        delivery: None,
        invoicing_period: None,
        payment,
        allowances: Vec::new(),
        charges: Vec::new(),
        totals: en::Totals {
            line_net_total: amounts.excl_vat,
            allowance_total: None,
            charge_total: None,
            tax_exclusive_total: amounts.excl_vat,
            vat_total: Some(amounts.vat_total),
            vat_total_accounting: None,
            tax_inclusive_total: amounts.incl_vat,
            prepaid: None,
            rounding: None,
            payable: amounts.incl_vat,
        },
        vat_breakdown: amounts
            .vat
            .iter()
            .map(|(rate, base, amount)| en::VatBreakdown {
                taxable_amount: *base,
                tax_amount: *amount,
                category: category(*rate),
                rate: Some(rate.normalize()),
                exemption_reason: if rate.is_zero() { exemption() } else { None },
                exemption_reason_code: None,
            })
            .collect(),
        additional_documents: Vec::new(),
        lines,
    })
}

/// Whether `record`, seen from `side`, is within a caller's service scope (see
/// [`App::service_scope`]): a limited recipient sees only the invoices addressed to its services.
pub(crate) fn in_scope(scope: Option<&[ServiceId]>, record: &InvoiceRecord, side: InvoiceSide) -> bool {
    match (scope, side) {
        (Some(services), InvoiceSide::Recipient(_)) => record.service_id.is_some_and(|s| services.contains(&s)),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    fn structure(siret: &str, kind: StructureKind, name: &str) -> StructureRecord {
        let id = StructureIdentifier::parse(IdentifierKind::Siret, siret).unwrap();
        let mut s = facteur_domain::Structure::new(id, kind, name).unwrap();
        s.address.line1 = "1 place de la Démo".to_owned();
        s.address.postcode = "99100".to_owned();
        s.address.city = "Démoville".to_owned();
        s.address.country = "FR".to_owned();
        StructureRecord {
            id: StructureId(1),
            structure: s,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn line(price: i64, discount: i64, rate: VatRate) -> EntryLine {
        EntryLine {
            number: None,
            reference: None,
            name: "Prestation".to_owned(),
            quantity: Decimal::new(3, 0),
            unit: Some("heure".to_owned()),
            unit_price: Decimal::new(price, 2),
            discount: Decimal::new(discount, 2),
            vat_rate: Some(rate),
        }
    }

    /// Entries of every shape the API takes build a structured copy the EN 16931 engine accepts:
    /// an invoice with a line discount, two rates (a code and a manual one) and an exempt line; a
    /// credit note referring to its invoice.
    #[test]
    fn structured_copies_pass_en16931() {
        let supplier = structure("51234567900017", StructureKind::Private, "Boulangerie");
        let routing = Routing {
            recipient: structure("21990001600011", StructureKind::Public, "Commune"),
            service: None,
            engagement: Some("EJ-1".to_owned()),
        };
        for kind in [InvoiceKind::Invoice, InvoiceKind::CreditNote] {
            // 3 × 100.00 − 10.00 = 290.00 at 20 %; 3 × 33.33 = 99.99 at 5.5 %; 3 × 10.00 exempt.
            let entry = InvoiceEntry {
                mode: EntryMode::Data,
                main_attachments: Vec::new(),
                attachments: Vec::new(),
                number: "F-1".to_owned(),
                issue_date: time::macros::date!(2026 - 03 - 02),
                due_date: Some(time::macros::date!(2026 - 04 - 01)),
                kind,
                supplier: None,
                bank_account: None,
                recipient: "21990001600011".to_owned(),
                service_code: None,
                engagement: Some("EJ-1".to_owned()),
                contract: Some("M-2025-17".to_owned()),
                original_invoice: (kind == InvoiceKind::CreditNote).then(|| "F-0".to_owned()),
                currency: "EUR".to_owned(),
                payment_mode: Some("CHEQUE".to_owned()),
                exemption_reason: None,
                comment: Some("Commentaire".to_owned()),
                lines: vec![
                    line(10_000, 1_000, VatRate::Code("TVA20".into())),
                    line(3_333, 0, VatRate::Manual(Decimal::new(55, 1))),
                    line(1_000, 0, VatRate::Code("TVA1".into())),
                ],
                vat_lines: vec![
                    EntryVatLine {
                        vat_rate: Some(VatRate::Code("TVA20".into())),
                        base: Decimal::new(29_000, 2),
                        amount: Decimal::new(5_800, 2),
                    },
                    EntryVatLine {
                        vat_rate: Some(VatRate::Code("TVA55".into())),
                        base: Decimal::new(9_999, 2),
                        amount: Decimal::new(550, 2),
                    },
                    EntryVatLine {
                        vat_rate: Some(VatRate::Code("TVA1".into())),
                        base: Decimal::new(3_000, 2),
                        amount: Decimal::ZERO,
                    },
                ],
                totals: EntryTotals {
                    excl_vat: Decimal::new(41_999, 2),
                    vat: Decimal::new(6_350, 2),
                    incl_vat: Decimal::new(48_349, 2),
                    global_discount: Decimal::ZERO,
                    amount_due: Decimal::new(48_349, 2),
                },
            };
            let mut findings = Vec::new();
            let amounts = check_amounts(&entry, &mut findings).unwrap();
            assert!(findings.is_empty(), "{findings:?}");
            let number = InvoiceNumber::parse(&entry.number).unwrap();
            let currency = en::CurrencyCode::new("EUR").unwrap();
            let model = build_model(&supplier, &routing, &entry, number, currency, None, &amounts).unwrap();
            let xml = facteur_einvoice::ubl::write(&model);
            let report = facteur_einvoice::validate::validate_xml(xml.as_bytes());
            assert!(report.is_valid(), "{kind:?}: {:?}\n{xml}", report.findings);
        }
    }

    #[test]
    fn inconsistent_amounts_are_all_reported() {
        let entry_line = line(10_000, 0, VatRate::Code("TVA20".into()));
        let mut entry = InvoiceEntry {
            mode: EntryMode::Data,
            main_attachments: Vec::new(),
            attachments: Vec::new(),
            number: "F-1".to_owned(),
            issue_date: time::macros::date!(2026 - 03 - 02),
            due_date: None,
            kind: InvoiceKind::Invoice,
            supplier: None,
            bank_account: None,
            recipient: String::new(),
            service_code: None,
            engagement: None,
            contract: None,
            original_invoice: None,
            currency: "EUR".to_owned(),
            payment_mode: None,
            exemption_reason: None,
            comment: None,
            lines: vec![entry_line],
            vat_lines: vec![EntryVatLine {
                vat_rate: Some(VatRate::Code("TVA10".into())),
                base: Decimal::new(30_000, 2),
                amount: Decimal::new(3_000, 2),
            }],
            totals: EntryTotals {
                excl_vat: Decimal::new(30_000, 2),
                vat: Decimal::new(3_000, 2),
                incl_vat: Decimal::new(33_000, 2),
                global_discount: Decimal::ZERO,
                amount_due: Decimal::new(30_000, 2),
            },
        };
        let mut out = Vec::new();
        assert!(check_amounts(&entry, &mut out).is_none());
        let codes: Vec<&str> = out.iter().map(Finding::code).collect();
        assert_eq!(codes, ["FP-TVA-02", "FP-MNT-04"]);
        entry.lines.clear();
        entry.lines.push(line(-1, 0, VatRate::Code("TVA20".into())));
        out.clear();
        assert!(check_amounts(&entry, &mut out).is_none());
        assert_eq!(out.iter().map(Finding::code).collect::<Vec<_>>(), ["FP-MNT-05"]);
    }

    #[test]
    fn vat_numbers_follow_the_siren_key() {
        // A published example: SIREN 404 833 048 → FR83 404833048.
        let id = StructureIdentifier::parse(IdentifierKind::Siret, "40483304800022").unwrap();
        assert_eq!(vat_number_of(&id).as_deref(), Some("FR83404833048"));
    }

    #[test]
    fn rate_codes_and_manual_rates() {
        assert_eq!(VatRate::Code("TVA20".into()).percent(), Some(Decimal::from(20)));
        assert_eq!(VatRate::Code("tva55".into()).percent(), Some(Decimal::new(55, 1)));
        assert_eq!(VatRate::Code("TVA99".into()).percent(), None);
        assert_eq!(
            VatRate::Manual(Decimal::new(1000, 2)).percent(),
            Some(Decimal::from(10))
        );
        assert_eq!(VatRate::Manual(Decimal::from(101)).percent(), None);
    }

    #[test]
    fn codes_are_stable_and_distinct() {
        let all = PlatformRule::ALL;
        let mut codes: Vec<&str> = all.iter().map(|r| r.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        for r in all {
            assert_eq!(PlatformRule::from_code(r.code()), Some(*r));
        }
    }
}
