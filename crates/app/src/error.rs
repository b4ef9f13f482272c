//! The one error type of the use-case layer. Each variant says what the web layer should answer,
//! so HTTP mapping stays mechanical and internal details are never echoed to clients.

/// Why a use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input rejected; `field` names the form/API field, `problem` what is wrong with it: the web
    /// layer chooses the words (→ 400/422).
    #[error("{field}: {problem:?}")]
    Invalid { field: &'static str, problem: Problem },
    /// Wrong credentials, unknown or expired session/token (→ 401). Deliberately vague.
    #[error("authentication failed")]
    Unauthenticated,
    /// The account exists but is not activated yet (→ 403 with a "resend link" hint).
    #[error("account not activated")]
    NotActivated,
    /// The actor is known but may not do this on this structure (→ 403).
    #[error("forbidden")]
    Forbidden,
    /// The object does not exist, or is outside the actor's structures (→ 404).
    #[error("not found")]
    NotFound,
    /// The change conflicts with the current state (→ 409); the kind says which, the web layer
    /// chooses the words.
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    /// A one-time link was already used or has expired (→ 410).
    #[error("link expired or already used")]
    TokenExpired,
    /// Too many attempts; retry after this many seconds (→ 429).
    #[error("too many attempts, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// Storage failure (→ 500, logged with its source chain, never shown).
    #[error("storage: {0}")]
    Store(#[source] facteur_store::StoreError),
    /// Mail delivery failure (→ 502/500, logged).
    #[error("mail: {0}")]
    Mail(String),
    /// CSV import/export failure with its line number when known (→ 400 on import).
    #[error("csv line {line}: {message}")]
    Csv { line: u64, message: String },
    /// A deposit (or a re-routing) failed the platform checks or EN 16931: every finding at
    /// once, nothing stored; the web layer words each one (→ `codeRetour` ≠ 0 with the list).
    #[error("refused: {} finding(s)", .0.len())]
    Refused(Vec<crate::invoices::Finding>),
    /// What was asked would exceed `max_bytes` (a download: → HTTP 413).
    #[error("larger than {max_bytes} bytes")]
    TooLarge { max_bytes: u64 },
    /// Anything else unexpected (→ 500, logged).
    #[error("internal: {0}")]
    Internal(String),
}

/// What is wrong with a field's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Refused by the domain's parsing or checks (its error says why).
    Domain(facteur_domain::DomainError),
    /// Required and missing or blank.
    Missing,
    /// Shorter than `min` characters.
    TooShort { min: usize },
    /// Longer than `max` characters.
    TooLong { max: usize },
    /// More than `max` items in a list.
    TooMany { max: usize },
    /// Contains a control character.
    ControlCharacter,
    /// Not one of the values the field takes.
    UnknownValue,
    /// The main manager's role changes hands only by a transfer.
    MainManagerByTransfer,
    /// The two users named are the same.
    SameUser,
    /// The value may not change here (an invoice number on a re-routing).
    Unchangeable,
    /// A file larger than `max_bytes` (an attachment: 10 MB).
    TooLarge { max_bytes: u64 },
    /// An empty file.
    Empty,
    /// A file type (extension, or media type for that extension) the platform does not take.
    TypeNotAllowed,
    /// The file name does not end with the declared extension.
    ExtensionMismatch,
    /// The bytes are not of the declared type (a `.pdf` that does not start like a PDF…).
    ContentMismatch,
    /// Not a readable PDF.
    NotPdf,
    /// A Factur-X PDF whose invoice XML cannot be read.
    FacturxUnreadable,
}

/// Why a change conflicts with the current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// The user is already an approved member of the structure.
    AlreadyMember,
    /// An attachment request is already pending or approved.
    AlreadyRequested,
    /// The main manager must hand the role over before being detached or given another role.
    MainManagerFirst,
    /// The space is not opened on the structure.
    SpaceNotOpen,
    /// The structure already has a service with this code.
    ServiceCodeTaken,
    /// The default `FACTURES_PUBLIQUES` service cannot be deactivated.
    DefaultService,
    /// The structure already has bank details with this IBAN.
    BankAccountTaken,
    /// The default bank account cannot be deactivated while another one is active: make another
    /// one the default first.
    DefaultBankAccount,
    /// An inactive bank account cannot be the default.
    InactiveBankAccount,
    /// The e-mail address already has an account.
    EmailTaken,
    /// A structure with this identifier is already registered.
    IdentifierTaken,
    /// The user is already subscribed to this space.
    AlreadySubscribed,
    /// The object moved on meanwhile (another manager decided first): its state no longer allows
    /// this change.
    IllegalTransition,
    /// The supplier already used this invoice number in the year of issue (a concurrent deposit
    /// won the race the platform check could not see).
    InvoiceNumberTaken,
    /// A deposit with this `Idempotency-Key` is being recorded by a concurrent request.
    IdempotencyKeyReplayed,
    /// The invoice lifecycle refuses the step (its kind says why: not this role, motive
    /// missing, terminal status…).
    Lifecycle(facteur_domain::TransitionError),
}

/// Store refusals become kinds the web layer words; the rest stays a storage failure.
impl From<facteur_store::StoreError> for AppError {
    fn from(e: facteur_store::StoreError) -> Self {
        use facteur_store::{StoreError, Unique};
        match e {
            StoreError::Conflict(kind) => {
                let conflict = match kind {
                    Unique::Email => Conflict::EmailTaken,
                    Unique::StructureIdentifier => Conflict::IdentifierTaken,
                    Unique::ServiceCode => Conflict::ServiceCodeTaken,
                    Unique::Membership => Conflict::AlreadyRequested,
                    Unique::Subscription => Conflict::AlreadySubscribed,
                    Unique::BankAccountIban => Conflict::BankAccountTaken,
                    Unique::DefaultBankAccount => Conflict::DefaultBankAccount,
                    // Not a user's doing: random digests, singletons, one account per structure
                    // (replaced in place), or a constraint the map lacks.
                    Unique::TechnicalAccount
                    | Unique::TechnicalCredential
                    | Unique::TokenDigest
                    | Unique::JobSingleton
                    | Unique::FlowFinding
                    | Unique::FlowEntry
                    | Unique::Unknown => return AppError::Store(StoreError::Conflict(kind)),
                    // The deposit use case checks the number first and answers with a finding;
                    // reaching the constraint means a concurrent deposit won the race.
                    Unique::InvoiceNumber => Conflict::InvoiceNumberTaken,
                    Unique::DepositIdempotencyKey => Conflict::IdempotencyKeyReplayed,
                };
                AppError::Conflict(conflict)
            }
            StoreError::IllegalTransition { .. } => AppError::Conflict(Conflict::IllegalTransition),
            StoreError::Transition(e) => AppError::Conflict(Conflict::Lifecycle(e)),
            other => AppError::Store(other),
        }
    }
}

impl AppError {
    /// Shorthand for [`AppError::Invalid`].
    pub fn invalid(field: &'static str, problem: Problem) -> Self {
        Self::Invalid { field, problem }
    }

    /// A value the domain refused, under the field its error names.
    pub fn domain(e: facteur_domain::DomainError) -> Self {
        Self::domain_as(e.field(), e)
    }

    /// A value the domain refused, under the form's own name for the field.
    pub fn domain_as(field: &'static str, e: facteur_domain::DomainError) -> Self {
        Self::Invalid {
            field,
            problem: Problem::Domain(e),
        }
    }
}

/// Result alias of the use-case layer.
pub type AppResult<T> = Result<T, AppError>;
