//! What the store hands back: domain values plus their ids and timestamps, and the query types
//! the app layer fills in. Row structs (private) map columns one to one and are converted here, so
//! a value that no longer parses surfaces as [`StoreError::Corrupt`] instead of a panic.

use facteur_domain::{
    Address, Email, MembershipId, MembershipStatus, Role, Service, ServiceCode, ServiceId, ServiceParameters, Space,
    SpaceMode, Structure, StructureId, StructureIdentifier, StructureParameters, StructureStatus, SubscriptionStatus,
    TechnicalAccountId, UserId, UserStatus, VatNumber,
};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::StoreError;

fn parse<T: std::str::FromStr>(table: &'static str, s: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e| StoreError::corrupt(table, e))
}

fn parse_opt<T: std::str::FromStr>(table: &'static str, s: Option<String>) -> Result<Option<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    s.as_deref().map(|s| parse(table, s)).transpose()
}

/// A stored structure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StructureRecord {
    pub id: StructureId,
    pub structure: Structure,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
pub(crate) struct StructureRow {
    pub(crate) id: i64,
    pub(crate) identifier_kind: String,
    pub(crate) identifier: String,
    pub(crate) kind: String,
    pub(crate) status: String,
    pub(crate) company_name: String,
    pub(crate) label: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) vat_number: Option<String>,
    pub(crate) address_line1: String,
    pub(crate) address_line2: Option<String>,
    pub(crate) address_line3: Option<String>,
    pub(crate) postcode: String,
    pub(crate) city: String,
    pub(crate) country: String,
    pub(crate) phone: Option<String>,
    pub(crate) service_code_required: bool,
    pub(crate) engagement_required: bool,
    pub(crate) service_code_or_engagement_required: bool,
    pub(crate) payment_status_not_reported: bool,
    pub(crate) moa: String,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) updated_at: OffsetDateTime,
}

impl TryFrom<StructureRow> for StructureRecord {
    type Error = StoreError;
    fn try_from(r: StructureRow) -> Result<Self, StoreError> {
        const T: &str = "structures";
        let identifier = StructureIdentifier::parse(parse(T, &r.identifier_kind)?, &r.identifier)
            .map_err(|e| StoreError::corrupt(T, e))?;
        Ok(StructureRecord {
            id: StructureId(r.id),
            structure: Structure {
                identifier,
                kind: parse(T, &r.kind)?,
                status: parse(T, &r.status)?,
                company_name: r.company_name,
                label: r.label,
                email: parse_opt::<Email>(T, r.email)?,
                vat_number: parse_opt::<VatNumber>(T, r.vat_number)?,
                address: Address {
                    line1: r.address_line1,
                    line2: r.address_line2,
                    line3: r.address_line3,
                    postcode: r.postcode,
                    city: r.city,
                    country: r.country,
                    phone: r.phone,
                },
                parameters: StructureParameters {
                    service_code_required: r.service_code_required,
                    engagement_required: r.engagement_required,
                    service_code_or_engagement_required: r.service_code_or_engagement_required,
                    payment_status_not_reported: r.payment_status_not_reported,
                    moa: parse(T, &r.moa)?,
                },
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// A stored service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceRecord {
    pub id: ServiceId,
    pub structure_id: StructureId,
    pub service: Service,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ServiceRow {
    pub(crate) id: i64,
    pub(crate) structure_id: i64,
    pub(crate) code: String,
    pub(crate) label: String,
    pub(crate) active: bool,
    pub(crate) valid_from: Option<Date>,
    pub(crate) valid_to: Option<Date>,
    pub(crate) engagement_required: bool,
    pub(crate) payment_status_not_reported: bool,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) updated_at: OffsetDateTime,
}

impl TryFrom<ServiceRow> for ServiceRecord {
    type Error = StoreError;
    fn try_from(r: ServiceRow) -> Result<Self, StoreError> {
        Ok(ServiceRecord {
            id: ServiceId(r.id),
            structure_id: StructureId(r.structure_id),
            service: Service {
                code: ServiceCode::parse(&r.code).map_err(|e| StoreError::corrupt("services", e))?,
                label: r.label,
                active: r.active,
                valid_from: r.valid_from,
                valid_to: r.valid_to,
                parameters: ServiceParameters {
                    engagement_required: r.engagement_required,
                    payment_status_not_reported: r.payment_status_not_reported,
                },
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    /// Argon2 PHC string (hashing is the app's job); `None` until the user sets one.
    pub password_hash: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub status: UserStatus,
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRecord {
    pub id: UserId,
    pub email: Email,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub status: UserStatus,
    pub activated_at: Option<OffsetDateTime>,
    pub last_login_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub(crate) id: i64,
    pub(crate) email: String,
    pub(crate) password_hash: Option<String>,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) phone: Option<String>,
    pub(crate) status: String,
    pub(crate) activated_at: Option<OffsetDateTime>,
    pub(crate) last_login_at: Option<OffsetDateTime>,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) updated_at: OffsetDateTime,
}

impl TryFrom<UserRow> for UserRecord {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(UserRecord {
            id: UserId(r.id),
            email: parse("users", &r.email)?,
            password_hash: r.password_hash,
            first_name: r.first_name,
            last_name: r.last_name,
            phone: r.phone,
            status: parse("users", &r.status)?,
            activated_at: r.activated_at,
            last_login_at: r.last_login_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// An attachment (*rattachement*) of a user to a structure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MembershipRecord {
    pub id: MembershipId,
    pub user_id: UserId,
    pub structure_id: StructureId,
    pub role: Role,
    pub status: MembershipStatus,
    pub requested_at: OffsetDateTime,
    pub decided_at: Option<OffsetDateTime>,
    pub decided_by: Option<UserId>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct MembershipRow {
    pub(crate) id: i64,
    pub(crate) user_id: i64,
    pub(crate) structure_id: i64,
    pub(crate) role: String,
    pub(crate) status: String,
    pub(crate) requested_at: OffsetDateTime,
    pub(crate) decided_at: Option<OffsetDateTime>,
    pub(crate) decided_by: Option<i64>,
}

impl TryFrom<MembershipRow> for MembershipRecord {
    type Error = StoreError;
    fn try_from(r: MembershipRow) -> Result<Self, StoreError> {
        Ok(MembershipRecord {
            id: MembershipId(r.id),
            user_id: UserId(r.user_id),
            structure_id: StructureId(r.structure_id),
            role: parse("memberships", &r.role)?,
            status: parse("memberships", &r.status)?,
            requested_at: r.requested_at,
            decided_at: r.decided_at,
            decided_by: r.decided_by.map(UserId),
        })
    }
}

/// A user's subscription to a space of a structure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscriptionRecord {
    pub id: i64,
    pub user_id: UserId,
    pub structure_id: StructureId,
    pub space: Space,
    pub mode: SpaceMode,
    pub status: SubscriptionStatus,
    pub requested_at: OffsetDateTime,
    pub decided_at: Option<OffsetDateTime>,
    pub decided_by: Option<UserId>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct SubscriptionRow {
    pub(crate) id: i64,
    pub(crate) user_id: i64,
    pub(crate) structure_id: i64,
    pub(crate) space: String,
    pub(crate) mode: String,
    pub(crate) status: String,
    pub(crate) requested_at: OffsetDateTime,
    pub(crate) decided_at: Option<OffsetDateTime>,
    pub(crate) decided_by: Option<i64>,
}

impl TryFrom<SubscriptionRow> for SubscriptionRecord {
    type Error = StoreError;
    fn try_from(r: SubscriptionRow) -> Result<Self, StoreError> {
        const T: &str = "space_subscriptions";
        Ok(SubscriptionRecord {
            id: r.id,
            user_id: UserId(r.user_id),
            structure_id: StructureId(r.structure_id),
            space: parse(T, &r.space)?,
            mode: parse(T, &r.mode)?,
            status: parse(T, &r.status)?,
            requested_at: r.requested_at,
            decided_at: r.decided_at,
            decided_by: r.decided_by.map(UserId),
        })
    }
}

/// A live portal session (looked up by the SHA-256 of its cookie token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionRecord {
    pub id: i64,
    pub user_id: UserId,
    pub expires_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub(crate) id: i64,
    pub(crate) user_id: i64,
    pub(crate) expires_at: OffsetDateTime,
    pub(crate) created_at: OffsetDateTime,
}

impl From<SessionRow> for SessionRecord {
    fn from(r: SessionRow) -> Self {
        SessionRecord {
            id: r.id,
            user_id: UserId(r.user_id),
            expires_at: r.expires_at,
            created_at: r.created_at,
        }
    }
}

/// A technical account to create or replace (hashes computed by the app).
#[derive(Debug, Clone)]
pub struct NewTechnicalAccount {
    pub login: String,
    pub password_hash: String,
    pub client_id: String,
    pub client_secret_hash: String,
    /// Chorus Pro makes the password expire after 424 days.
    pub password_expires_at: OffsetDateTime,
}

/// The technical (API/EDI) account of a structure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TechnicalAccountRecord {
    pub id: TechnicalAccountId,
    pub structure_id: StructureId,
    pub login: String,
    #[serde(skip)]
    pub password_hash: String,
    pub client_id: String,
    #[serde(skip)]
    pub client_secret_hash: String,
    pub password_expires_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
pub(crate) struct TechnicalAccountRow {
    pub(crate) id: i64,
    pub(crate) structure_id: i64,
    pub(crate) login: String,
    pub(crate) password_hash: String,
    pub(crate) client_id: String,
    pub(crate) client_secret_hash: String,
    pub(crate) password_expires_at: OffsetDateTime,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) updated_at: OffsetDateTime,
}

impl From<TechnicalAccountRow> for TechnicalAccountRecord {
    fn from(r: TechnicalAccountRow) -> Self {
        TechnicalAccountRecord {
            id: TechnicalAccountId(r.id),
            structure_id: StructureId(r.structure_id),
            login: r.login,
            password_hash: r.password_hash,
            client_id: r.client_id,
            client_secret_hash: r.client_secret_hash,
            password_expires_at: r.password_expires_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A technical account with its structure's status (`structure_status`), read together.
#[derive(sqlx::FromRow)]
pub(crate) struct TechnicalLoginRow {
    #[sqlx(flatten)]
    pub(crate) account: TechnicalAccountRow,
    pub(crate) structure_status: String,
}

impl TryFrom<TechnicalLoginRow> for (TechnicalAccountRecord, StructureStatus) {
    type Error = StoreError;
    fn try_from(r: TechnicalLoginRow) -> Result<Self, StoreError> {
        Ok((r.account.into(), parse("structures", &r.structure_status)?))
    }
}

/// Who made a change recorded in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Actor {
    /// The platform itself (migrations, workers, the demo seed).
    System,
    /// A platform operator (CLI directory import, support): a person acting for the platform,
    /// kept apart from `System` so the log says a human did it.
    Operator,
    User(UserId),
    Technical(TechnicalAccountId),
}

/// `system`, `operator`, `user:42`, `technical:7`: how logs and views print an actor.
impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::System => f.write_str("system"),
            Actor::Operator => f.write_str("operator"),
            Actor::User(u) => write!(f, "user:{u}"),
            Actor::Technical(t) => write!(f, "technical:{t}"),
        }
    }
}

impl Actor {
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Actor::System => "SYSTEM",
            Actor::Operator => "OPERATOR",
            Actor::User(_) => "USER",
            Actor::Technical(_) => "TECHNICAL",
        }
    }

    pub(crate) fn id(self) -> Option<i64> {
        match self {
            Actor::System | Actor::Operator => None,
            Actor::User(u) => Some(u.0),
            Actor::Technical(t) => Some(t.0),
        }
    }

    pub(crate) fn from_parts(kind: &str, id: Option<i64>) -> Result<Self, StoreError> {
        match (kind, id) {
            ("SYSTEM", _) => Ok(Actor::System),
            ("OPERATOR", _) => Ok(Actor::Operator),
            ("USER", Some(i)) => Ok(Actor::User(UserId(i))),
            ("TECHNICAL", Some(i)) => Ok(Actor::Technical(TechnicalAccountId(i))),
            _ => Err(StoreError::corrupt("audit_log", format!("bad actor {kind}"))),
        }
    }
}

/// One audit-log line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: OffsetDateTime,
    pub actor: Actor,
    /// What was done (its code is dotted, e.g. `structure.create`).
    pub action: facteur_domain::AuditAction,
    pub structure_id: Option<StructureId>,
    pub details: serde_json::Value,
}
