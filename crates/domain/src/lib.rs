//! Pure domain types of Facteur: identifiers, structures, services and their invoicing parameters,
//! bank details, users, roles, spaces and attachment statuses, and the invoice lifecycle.
//!
//! Everything here is parsed at the edge ("parse, don't validate"): once a [`Siret`] or an
//! [`Email`] exists it is known to be well formed, so the layers above never re-check. No I/O, no
//! async: the crate is cheap to test and to fuzz.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod access;
mod audit;
mod bank;
mod code;
mod coordinates;
mod error;
mod identifier;
mod ids;
mod invoice;
mod lifecycle;
mod page;
mod structure;

pub use access::{Email, MembershipStatus, Role, Space, SpaceMode, SubscriptionStatus, TokenPurpose, UserStatus};
pub use audit::AuditAction;
pub use bank::{BankDetails, Bic, Iban};
pub use coordinates::{Coordinates, CoordinatesForm, ReferenceRule, text_field};
pub use error::DomainError;
pub use identifier::{IdentifierKind, Siren, Siret, StructureIdentifier};
pub use ids::{BankAccountId, MembershipId, ServiceId, StructureId, TechnicalAccountId, UserId};
pub use invoice::InvoiceNumber;
pub use lifecycle::{
    InvoiceAction, InvoiceStatus, Motive, MotiveRule, Party, PaymentReporting, TRANSITIONS, Transition,
    TransitionContext, TransitionError,
};
pub use page::{Page, PageRequest};
pub use structure::{
    Address, DEFAULT_SERVICE_CODE, DEFAULT_SERVICE_LABEL, MissingReference, MoaPresence, Service, ServiceCode,
    ServiceParameters, Structure, StructureKind, StructureParameters, StructureStatus, VatNumber,
};

/// Result alias of this crate.
pub type Result<T, E = DomainError> = std::result::Result<T, E>;
