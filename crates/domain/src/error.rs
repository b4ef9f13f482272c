use thiserror::Error;

/// Why a value was refused when parsed into a domain type.
///
/// Variants carry the offending field so the web layer can build field-keyed messages without
/// string matching.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    /// The value does not have the expected shape (length, characters).
    #[error("{field}: invalid format ({reason})")]
    Format { field: &'static str, reason: &'static str },
    /// The value has the right shape but its check digits are wrong.
    #[error("{field}: invalid check digits")]
    Checksum { field: &'static str },
    /// A code that is not one of the known values of an enumeration.
    #[error("{field}: unknown value {value:?}")]
    UnknownCode { field: &'static str, value: String },
    /// A combination of fields that cannot hold together (e.g. end date before start date).
    #[error("{field}: {reason}")]
    Inconsistent { field: &'static str, reason: &'static str },
}

impl DomainError {
    /// The field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Format { field, .. }
            | Self::Checksum { field }
            | Self::UnknownCode { field, .. }
            | Self::Inconsistent { field, .. } => field,
        }
    }

    pub(crate) fn format(field: &'static str, reason: &'static str) -> Self {
        Self::Format { field, reason }
    }
}
