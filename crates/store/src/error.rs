use thiserror::Error;

/// Errors of the storage layer. Constraint violations are split out so the app layer can turn
/// "e-mail already registered" into a user-facing message without looking at SQL.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A unique constraint was violated (duplicate identifier, e-mail, service code…).
    #[error("already exists: {0}")]
    Conflict(String),
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
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::UniqueViolation => {
                StoreError::Conflict(db.constraint().map_or_else(|| db.message().to_owned(), str::to_owned))
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
