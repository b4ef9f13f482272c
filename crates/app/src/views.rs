//! What the use cases return to the web layer and the CLI: plain data, no store or HTTP types, so
//! the store's schema can change without touching handlers and templates.

use facteur_domain::{
    IdentifierKind, MembershipId, MembershipStatus, Role, Service, ServiceId, Space, SpaceMode, Structure, StructureId,
    StructureIdentifier, StructureKind, StructureParameters, StructureStatus, SubscriptionStatus, TechnicalAccountId,
    UserId, UserStatus,
};
use serde::Serialize;
use time::OffsetDateTime;

/// Who performs a use case. Built by the authentication use cases ([`crate::App::session_actor`],
/// [`crate::App::authenticate_technical`], [`crate::App::authenticate_client`]); `Operator` is the
/// platform operator (CLI, admin) and must only be constructed by trusted callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Actor {
    /// A portal user (any structure membership is checked per use case).
    User(UserId),
    /// A structure's technical (API) account: acts for that structure only.
    Technical {
        account: TechnicalAccountId,
        structure: StructureId,
    },
    /// The platform operator: directory administration, public structures.
    Operator,
}

/// A logged-in portal session. `token` goes into the cookie; only its digest is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginSession {
    pub token: String,
    pub user_id: UserId,
    pub expires_at: OffsetDateTime,
}

/// Result of a sign-up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum SignUpOutcome {
    /// The structure was new: the user becomes its main manager once activated.
    NewStructure { user_id: UserId, structure_id: StructureId },
    /// The structure existed: an attachment request waits for its managers.
    AttachmentRequested {
        user_id: UserId,
        structure_id: StructureId,
        membership_id: MembershipId,
    },
    /// The address already had an account: nothing was created and its owner was mailed. The
    /// web layer answers exactly as for the other outcomes, so sign-up reveals no address.
    EmailAlreadyRegistered,
}

impl SignUpOutcome {
    /// The new user's id (none when the address was already registered).
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Self::NewStructure { user_id, .. } | Self::AttachmentRequested { user_id, .. } => Some(*user_id),
            Self::EmailAlreadyRegistered => None,
        }
    }

    /// The structure the user signed up for (none when the address was already registered).
    pub fn structure_id(&self) -> Option<StructureId> {
        match self {
            Self::NewStructure { structure_id, .. } | Self::AttachmentRequested { structure_id, .. } => {
                Some(*structure_id)
            }
            Self::EmailAlreadyRegistered => None,
        }
    }
}

/// A user account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    pub status: UserStatus,
    pub created_at: OffsetDateTime,
}

/// A user's attachment to a structure (one line of "my structures" or of a manager's member list).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MembershipView {
    pub id: MembershipId,
    pub user_id: UserId,
    pub user_email: String,
    pub structure_id: StructureId,
    pub structure_identifier: StructureIdentifier,
    pub structure_name: String,
    pub role: Role,
    pub status: MembershipStatus,
    pub created_at: OffsetDateTime,
}

/// A user's subscription to a space of a structure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SubscriptionView {
    pub id: i64,
    pub user_id: UserId,
    pub user_email: String,
    pub structure_id: StructureId,
    pub space: Space,
    pub mode: SpaceMode,
    pub status: SubscriptionStatus,
    pub created_at: OffsetDateTime,
}

/// A structure with its id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StructureView {
    pub id: StructureId,
    pub structure: Structure,
    pub created_at: OffsetDateTime,
}

/// A service with its ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceView {
    pub id: ServiceId,
    pub structure_id: StructureId,
    pub service: Service,
}

/// One line of a directory search or autocomplete answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DirectoryEntry {
    pub id: StructureId,
    pub identifier: StructureIdentifier,
    pub name: String,
    pub kind: StructureKind,
    pub postcode: String,
    pub city: String,
    pub active: bool,
    pub parameters: StructureParameters,
}

/// A public structure with its services (directory detail page, `consulter`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DirectoryDetail {
    pub structure: StructureView,
    pub services: Vec<ServiceView>,
}

/// Which structures a directory search may return at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DirectoryScope {
    /// The public directory (everyone).
    #[default]
    Public,
    /// The public directory and the caller's own structure (a technical account's), whatever its
    /// kind.
    PublicAndOwn,
    /// The caller's own structure only (nothing for a caller without one).
    OwnOnly,
    /// Every structure, private ones included: the operator only ([`crate::AppError::Forbidden`]
    /// for anyone else).
    Everything,
}

/// Directory search criteria, combined with AND; empty fields are ignored. Text is matched case-
/// and accent-insensitively: `name` and `city` anywhere, `identifier_prefix` and `postcode` as
/// prefixes, `free_text` as a name or city fragment or a postcode or identifier prefix. Results are ordered
/// by company name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirectoryQuery {
    pub scope: DirectoryScope,
    /// The exact identifier.
    pub identifier: Option<String>,
    pub identifier_prefix: Option<String>,
    pub identifier_kind: Option<IdentifierKind>,
    pub name: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
    pub free_text: Option<String>,
    pub country: Option<String>,
    pub kind: Option<StructureKind>,
    pub status: Option<StructureStatus>,
    /// With `status`: the caller's own structure is listed whatever its status.
    pub own_any_status: bool,
    /// Only structures that may act as project owner (MOA).
    pub with_moa: bool,
    /// Only structures that act only as project owner.
    pub moa_only: bool,
}

impl DirectoryQuery {
    /// Active public structures as people look for a recipient, from an identifier box and one
    /// free-text box: the identifier by its beginning; the text as a name or city fragment, or a
    /// postcode or identifier beginning (a SIREN typed in the text box finds its establishments).
    /// The API's recipient search, the portal's directory page and its recipient autocomplete all
    /// read their input this way.
    pub fn recipients(identifier: Option<&str>, text: Option<&str>) -> Self {
        let blank = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        DirectoryQuery {
            scope: DirectoryScope::Public,
            identifier_prefix: blank(identifier),
            free_text: blank(text),
            status: Some(StructureStatus::Active),
            ..DirectoryQuery::default()
        }
    }
}

/// What a directory import did (idempotent: a second run reports everything unchanged).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub structures_created: u64,
    pub structures_updated: u64,
    pub structures_unchanged: u64,
    pub services_created: u64,
    pub services_updated: u64,
    pub services_unchanged: u64,
}

/// A technical account's secrets, shown once at creation/reset and never stored in clear.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TechnicalCredentials {
    pub structure_id: StructureId,
    /// Login for the `cpro-account` header (`base64(login:password)`).
    pub login: String,
    pub password: String,
    /// OAuth2 client-credentials pair.
    pub client_id: String,
    pub client_secret: String,
    /// The password must be renewed after 424 days, as on Chorus Pro.
    pub password_expires_at: OffsetDateTime,
}

/// A technical account without its secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TechnicalAccountView {
    pub id: TechnicalAccountId,
    pub structure_id: StructureId,
    pub login: String,
    pub client_id: String,
    pub password_expires_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
}

/// Who made a change, as the audit log records it.
pub use facteur_store::Actor as AuditActor;

/// One audit-log line (who, what, when).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub at: OffsetDateTime,
    /// Who: a user, a technical account, the operator or the platform, as the log keeps it
    /// (prints as `user:42`, `technical:7`, `operator`, `system`).
    pub actor: AuditActor,
    pub action: String,
    pub structure_id: Option<StructureId>,
    pub details: serde_json::Value,
}
