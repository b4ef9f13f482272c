use thiserror::Error;

/// Errors of the storage layer. Constraint violations are split out so the app layer can turn
/// "e-mail already registered" into a user-facing message without looking at SQL.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A unique constraint was violated; the kind says which (see [`Unique`]).
    #[error("already exists: {0:?}")]
    Conflict(Unique),
    /// The row to change does not exist (or is not in a state that allows the change).
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// The change is not allowed in the current state (e.g. deleting the default service).
    #[error("refused: {0}")]
    Refused(&'static str),
    /// The state machine of `what` (in `facteur_domain`) has no move from `from` to `to`.
    #[error("illegal transition of {what} from {from} to {to}")]
    IllegalTransition {
        what: &'static str,
        from: &'static str,
        to: &'static str,
    },
    /// The invoice lifecycle (`facteur_domain::TRANSITIONS`) refuses a status change; the kind
    /// says why (no such move, not the caller's role, motive missing…).
    #[error("refused status change: {0}")]
    Transition(#[from] facteur_domain::TransitionError),
    /// The database URL is not `sqlite:` or `postgres:`, or the blob URL is not supported.
    #[error("unsupported URL: {0}")]
    UnsupportedUrl(String),
    /// A stored value no longer parses into its domain type (manual edit, schema drift).
    #[error("corrupt stored value in {table}: {reason}")]
    Corrupt { table: &'static str, reason: String },
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("blob store error: {0}")]
    Blob(#[from] object_store::Error),
    /// A blob's content no longer matches its SHA-256 name.
    #[error("blob {0} is corrupt (hash mismatch)")]
    BlobCorrupt(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A write waited for its turn longer than the busy timeout.
    #[error("the database stayed busy beyond the busy timeout")]
    Busy,
}

/// What a unique constraint protects: the kind a violation is reported as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unique {
    /// `users.email`: the address has an account.
    Email,
    /// `structures (identifier_kind, identifier)`: the structure is registered.
    StructureIdentifier,
    /// `services (structure_id, code)`.
    ServiceCode,
    /// `memberships (user_id, structure_id)`: one attachment per user and structure.
    Membership,
    /// `space_subscriptions (user_id, structure_id, space)`.
    Subscription,
    /// `technical_accounts.structure_id`: one technical account per structure.
    TechnicalAccount,
    /// `technical_accounts.login` / `.client_id`.
    TechnicalCredential,
    /// `one_time_tokens.token_hash` / `sessions.token_hash` (random: a clash is a bug).
    TokenDigest,
    /// `bank_accounts (structure_id, iban)`.
    BankAccountIban,
    /// `bank_accounts_one_default`: one default account per structure.
    DefaultBankAccount,
    /// `jobs_singleton`: one pending job per singleton key.
    JobSingleton,
    /// `invoices_supplier_year_number_key`: the supplier already used this invoice number in
    /// the year of issue (invoices and credit notes share the sequence).
    InvoiceNumber,
    /// `deposits_depositor_idempotency_key`: the depositor already sent a deposit with this
    /// `Idempotency-Key`.
    DepositIdempotencyKey,
    /// `flow_findings_rank_key`: a flow's report already holds this finding (a bug: a report is
    /// written once, with the flow's final state).
    FlowFinding,
    /// `flow_entries_rank_key`: this file of a batch flow is already settled.
    FlowEntry,
    /// A constraint missing from [`UNIQUE_CONSTRAINTS`] (a test makes sure there is none).
    Unknown,
}

/// Every unique constraint of the schema: its name (the one PostgreSQL reports; named in the
/// migrations or PostgreSQL's `<table>_<columns>_key`), what SQLite reports instead (SQLite names
/// the columns, never the constraint), and its kind.
pub const UNIQUE_CONSTRAINTS: &[(&str, &str, Unique)] = &[
    ("users_email_key", "users.email", Unique::Email),
    (
        "structures_identifier_kind_identifier_key",
        "structures.identifier_kind, structures.identifier",
        Unique::StructureIdentifier,
    ),
    (
        "services_structure_id_code_key",
        "services.structure_id, services.code",
        Unique::ServiceCode,
    ),
    (
        "memberships_user_id_structure_id_key",
        "memberships.user_id, memberships.structure_id",
        Unique::Membership,
    ),
    (
        "space_subscriptions_user_id_structure_id_space_key",
        "space_subscriptions.user_id, space_subscriptions.structure_id, space_subscriptions.space",
        Unique::Subscription,
    ),
    (
        "technical_accounts_structure_id_key",
        "technical_accounts.structure_id",
        Unique::TechnicalAccount,
    ),
    (
        "technical_accounts_login_key",
        "technical_accounts.login",
        Unique::TechnicalCredential,
    ),
    (
        "technical_accounts_client_id_key",
        "technical_accounts.client_id",
        Unique::TechnicalCredential,
    ),
    (
        "one_time_tokens_token_hash_key",
        "one_time_tokens.token_hash",
        Unique::TokenDigest,
    ),
    ("sessions_token_hash_key", "sessions.token_hash", Unique::TokenDigest),
    (
        "bank_accounts_structure_iban_key",
        "bank_accounts.structure_id, bank_accounts.iban",
        Unique::BankAccountIban,
    ),
    (
        "bank_accounts_one_default",
        "bank_accounts.structure_id",
        Unique::DefaultBankAccount,
    ),
    ("jobs_singleton", "jobs.singleton", Unique::JobSingleton),
    (
        "invoices_supplier_year_number_key",
        "invoices.supplier_id, invoices.issue_year, invoices.number",
        Unique::InvoiceNumber,
    ),
    (
        "deposits_depositor_idempotency_key",
        "deposits.depositor_id, deposits.idempotency_key",
        Unique::DepositIdempotencyKey,
    ),
    (
        "flow_findings_rank_key",
        "flow_findings.deposit_id, flow_findings.invoice_rank, flow_findings.finding_rank",
        Unique::FlowFinding,
    ),
    (
        "flow_entries_rank_key",
        "flow_entries.deposit_id, flow_entries.entry_rank",
        Unique::FlowEntry,
    ),
];

impl Unique {
    /// The kind of a violation as the database reports it: PostgreSQL names the constraint,
    /// SQLite says `UNIQUE constraint failed: table.column, …`.
    pub fn of(constraint: Option<&str>, message: &str) -> Unique {
        let found = match constraint {
            Some(name) => UNIQUE_CONSTRAINTS.iter().find(|(n, _, _)| *n == name),
            None => {
                let columns = message.rsplit("failed: ").next().unwrap_or(message).trim();
                UNIQUE_CONSTRAINTS.iter().find(|(_, c, _)| *c == columns)
            }
        };
        found.map_or(Unique::Unknown, |(_, _, kind)| *kind)
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::UniqueViolation => {
                let kind = Unique::of(db.constraint(), db.message());
                if kind == Unique::Unknown {
                    tracing::error!(constraint = ?db.constraint(), message = db.message(), "unique constraint missing from UNIQUE_CONSTRAINTS");
                }
                StoreError::Conflict(kind)
            }
            sqlx::Error::RowNotFound => StoreError::NotFound("row"),
            _ => StoreError::Database(e),
        }
    }
}

impl From<std::convert::Infallible> for StoreError {
    fn from(e: std::convert::Infallible) -> Self {
        match e {}
    }
}

impl StoreError {
    pub(crate) fn corrupt(table: &'static str, e: impl std::fmt::Display) -> Self {
        StoreError::Corrupt {
            table,
            reason: e.to_string(),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
