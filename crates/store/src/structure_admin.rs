//! What a structure's managers change on its record: coordinates, invoicing parameters, services
//! and bank details (spec §1.2, §1.3, §1.5). Each change is one transaction that reads the row as
//! it was, writes it, and logs both in the audit line, scoped to the structure so an id of
//! another structure's service or account is simply not found.

use facteur_domain::{
    AuditAction, BankAccountId, BankDetails, Bic, Coordinates, Iban, Service, ServiceId, StructureId,
    StructureParameters,
};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::audit::audit;
use crate::directory::{SERVICE_COLS, STRUCTURE_COLS};
use crate::records::{ServiceRow, StructureRow};
use crate::{Actor, Result, ServiceRecord, Store, StoreError, StructureRecord, Tx, with_pool, with_tx};

const BANK_COLS: &str = "id, structure_id, label, iban, bic, factor, active, is_default, created_at, updated_at";

fn select(cols: &str, rest: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!("SELECT {cols} {rest}"))
}

/// One set of bank details of a structure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BankAccountRecord {
    pub id: BankAccountId,
    pub structure_id: StructureId,
    pub details: BankDetails,
    /// Inactive details stay (invoices reference them) but are offered no more.
    pub active: bool,
    /// The one proposed first; at most one per structure, always an active one.
    pub is_default: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct BankAccountRow {
    id: i64,
    structure_id: i64,
    label: String,
    iban: String,
    bic: Option<String>,
    factor: bool,
    active: bool,
    is_default: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<BankAccountRow> for BankAccountRecord {
    type Error = StoreError;
    fn try_from(r: BankAccountRow) -> Result<Self> {
        const T: &str = "bank_accounts";
        Ok(BankAccountRecord {
            id: BankAccountId(r.id),
            structure_id: StructureId(r.structure_id),
            details: BankDetails {
                label: r.label,
                iban: Iban::parse(&r.iban).map_err(|e| StoreError::corrupt(T, e))?,
                bic: r
                    .bic
                    .as_deref()
                    .map(Bic::parse)
                    .transpose()
                    .map_err(|e| StoreError::corrupt(T, e))?,
                factor: r.factor,
            },
            active: r.active,
            is_default: r.is_default,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// A change to one set of bank details; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BankAccountChange {
    pub label: Option<String>,
    pub active: Option<bool>,
    /// Makes this account the structure's default (the previous default loses the flag).
    pub make_default: bool,
}

/// Why a bank-account change was refused (nothing was written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BankAccountRefusal {
    /// The default account cannot be deactivated while other active accounts exist: another one
    /// must be made the default first.
    DefaultInUse,
    /// An inactive account cannot be the default.
    Inactive,
}

/// Serialises the bank-account changes of one structure: on PostgreSQL this no-op update takes the
/// structure row's lock until the transaction ends, so two concurrent changes cannot both see "no
/// default" (or both make a default) and one fail on `bank_accounts_one_default`; on SQLite the
/// transaction already holds the write lock (`BEGIN IMMEDIATE`). `NotFound` for an unknown structure.
const LOCK_STRUCTURE: &str = "UPDATE structures SET updated_at = updated_at WHERE id = $1";

impl Store {
    /// A structure's bank details (only the active ones when `active_only`), the default first,
    /// then by creation.
    pub async fn bank_accounts(&self, structure: StructureId, active_only: bool) -> Result<Vec<BankAccountRecord>> {
        let rows: Vec<BankAccountRow> = with_pool!(self, |db| sqlx::query_as(select(
            BANK_COLS,
            "FROM bank_accounts WHERE structure_id = $1 AND (active OR NOT $2) ORDER BY is_default DESC, id"
        ))
        .bind(structure.0)
        .bind(active_only)
        .fetch_all(db)
        .await?);
        rows.into_iter().map(TryInto::try_into).collect()
    }
}

impl Tx {
    /// Replaces a structure's coordinates (names, e-mail, VAT number, address, phone); the audit
    /// line keeps them before and after.
    pub async fn update_coordinates(
        &mut self,
        id: StructureId,
        coordinates: &Coordinates,
        actor: Actor,
    ) -> Result<StructureRecord> {
        self.step("update_coordinates")?;
        let row: StructureRow = with_tx!(self, |tx| {
            let current: StructureRow = sqlx::query_as(select(STRUCTURE_COLS, "FROM structures WHERE id = $1"))
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound("structure"))?;
            let mut structure = StructureRecord::try_from(current)?.structure;
            let before = Coordinates::of(&structure);
            coordinates.clone().apply_to(&mut structure);
            let (name_search, city_search) = crate::directory::search_columns(&structure);
            let a = &structure.address;
            let row: StructureRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE structures SET company_name = $1, label = $2, email = $3, vat_number = $4, \
                 address_line1 = $5, address_line2 = $6, address_line3 = $7, postcode = $8, city = $9, \
                 country = $10, phone = $11, name_search = $12, city_search = $13, updated_at = $14 \
                 WHERE id = $15 RETURNING {STRUCTURE_COLS}"
            )))
            .bind(&structure.company_name)
            .bind(structure.label.as_deref())
            .bind(structure.email.as_ref().map(|e| e.as_str()))
            .bind(structure.vat_number.as_ref().map(|v| v.as_str()))
            .bind(&a.line1)
            .bind(a.line2.as_deref())
            .bind(a.line3.as_deref())
            .bind(&a.postcode)
            .bind(&a.city)
            .bind(&a.country)
            .bind(a.phone.as_deref())
            .bind(name_search)
            .bind(city_search)
            .bind(self.clock.now())
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await?;
            audit!(
                self,
                tx,
                actor,
                AuditAction::StructureUpdate,
                Some(id),
                json!({ "before": before, "after": coordinates })
            );
            row
        });
        row.try_into()
    }

    /// Replaces a structure's invoicing parameters; the audit line keeps them before and after.
    pub async fn update_parameters(
        &mut self,
        id: StructureId,
        parameters: &StructureParameters,
        actor: Actor,
    ) -> Result<StructureRecord> {
        self.step("update_parameters")?;
        let row: StructureRow = with_tx!(self, |tx| {
            let current: StructureRow = sqlx::query_as(select(STRUCTURE_COLS, "FROM structures WHERE id = $1"))
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound("structure"))?;
            let before = StructureRecord::try_from(current)?.structure.parameters;
            let p = parameters;
            let row: StructureRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE structures SET service_code_required = $1, engagement_required = $2, \
                 service_code_or_engagement_required = $3, payment_status_not_reported = $4, moa = $5, \
                 updated_at = $6 WHERE id = $7 RETURNING {STRUCTURE_COLS}"
            )))
            .bind(p.service_code_required)
            .bind(p.engagement_required)
            .bind(p.service_code_or_engagement_required)
            .bind(p.payment_status_not_reported)
            .bind(p.moa.as_str())
            .bind(self.clock.now())
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await?;
            audit!(
                self,
                tx,
                actor,
                AuditAction::StructureParameters,
                Some(id),
                json!({ "before": before, "after": p })
            );
            row
        });
        row.try_into()
    }

    /// Changes a service of `structure` (label, activity, validity, parameters; the code stays);
    /// [`StoreError::NotFound`] when the service is not that structure's.
    pub async fn change_service(
        &mut self,
        structure: StructureId,
        id: ServiceId,
        service: &Service,
        actor: Actor,
    ) -> Result<ServiceRecord> {
        self.step("change_service")?;
        let row: ServiceRow = with_tx!(self, |tx| {
            let current: ServiceRow = sqlx::query_as(select(
                SERVICE_COLS,
                "FROM services WHERE id = $1 AND structure_id = $2",
            ))
            .bind(id.0)
            .bind(structure.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("service"))?;
            let before = ServiceRecord::try_from(current)?.service;
            let row: ServiceRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE services SET label = $1, active = $2, valid_from = $3, valid_to = $4, \
                 engagement_required = $5, payment_status_not_reported = $6, updated_at = $7 \
                 WHERE id = $8 RETURNING {SERVICE_COLS}"
            )))
            .bind(&service.label)
            .bind(service.active)
            .bind(service.valid_from)
            .bind(service.valid_to)
            .bind(service.parameters.engagement_required)
            .bind(service.parameters.payment_status_not_reported)
            .bind(self.clock.now())
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await?;
            let mut after = service.clone();
            after.code = before.code.clone();
            audit!(
                self,
                tx,
                actor,
                AuditAction::ServiceUpdate,
                Some(structure),
                json!({ "id": id, "before": before, "after": after })
            );
            row
        });
        row.try_into()
    }

    /// Activates or deactivates a service of `structure` with a conditional update: `false` when
    /// it already was in that state (nothing written, nothing logged).
    pub async fn set_service_active(
        &mut self,
        structure: StructureId,
        id: ServiceId,
        active: bool,
        actor: Actor,
    ) -> Result<bool> {
        self.step("set_service_active")?;
        let changed = with_tx!(self, |tx| {
            let done = sqlx::query(
                "UPDATE services SET active = $1, updated_at = $2 WHERE id = $3 AND structure_id = $4 AND active = $5",
            )
            .bind(active)
            .bind(self.clock.now())
            .bind(id.0)
            .bind(structure.0)
            .bind(!active)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                let exists: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM services WHERE id = $1 AND structure_id = $2")
                        .bind(id.0)
                        .bind(structure.0)
                        .fetch_optional(&mut *tx)
                        .await?;
                exists.ok_or(StoreError::NotFound("service"))?;
                false
            } else {
                audit!(
                    self,
                    tx,
                    actor,
                    AuditAction::ServiceStatus,
                    Some(structure),
                    json!({ "id": id, "active": active })
                );
                true
            }
        });
        Ok(changed)
    }

    /// Adds bank details to a structure; the first active account becomes the default.
    /// [`StoreError::Conflict`] when the structure already has this IBAN.
    pub async fn create_bank_account(
        &mut self,
        structure: StructureId,
        details: &BankDetails,
        actor: Actor,
    ) -> Result<BankAccountRecord> {
        self.step("create_bank_account")?;
        let row: BankAccountRow = with_tx!(self, |tx| {
            let locked = sqlx::query(LOCK_STRUCTURE).bind(structure.0).execute(&mut *tx).await?;
            if locked.rows_affected() == 0 {
                return Err(StoreError::NotFound("structure"));
            }
            let has_default: Option<i64> =
                sqlx::query_scalar("SELECT id FROM bank_accounts WHERE structure_id = $1 AND is_default")
                    .bind(structure.0)
                    .fetch_optional(&mut *tx)
                    .await?;
            let row: BankAccountRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "INSERT INTO bank_accounts (structure_id, label, iban, bic, factor, active, is_default, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {BANK_COLS}"
            )))
            .bind(structure.0)
            .bind(&details.label)
            .bind(details.iban.as_str())
            .bind(details.bic.as_ref().map(|b| b.as_str()))
            .bind(details.factor)
            .bind(true)
            .bind(has_default.is_none())
            .bind(self.clock.now())
            .fetch_one(&mut *tx)
            .await?;
            audit!(
                self,
                tx,
                actor,
                AuditAction::BankAccountCreate,
                Some(structure),
                json!({ "id": row.id, "details": details, "default": row.is_default })
            );
            row
        });
        row.try_into()
    }

    /// Renames, activates/deactivates, or makes default one account of `structure`, keeping
    /// "at most one default, and it is active; an active account exists → one is the default":
    /// a reactivated account becomes the default when there is none, the default can be
    /// deactivated only when it is the last active one. A refusal writes nothing.
    pub async fn change_bank_account(
        &mut self,
        structure: StructureId,
        id: BankAccountId,
        change: &BankAccountChange,
        actor: Actor,
    ) -> Result<Result<BankAccountRecord, BankAccountRefusal>> {
        self.step("change_bank_account")?;
        let out: Result<BankAccountRow, BankAccountRefusal> = with_tx!(self, |tx| {
            sqlx::query(LOCK_STRUCTURE).bind(structure.0).execute(&mut *tx).await?;
            let current: BankAccountRow = sqlx::query_as(select(
                BANK_COLS,
                "FROM bank_accounts WHERE id = $1 AND structure_id = $2",
            ))
            .bind(id.0)
            .bind(structure.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("bank account"))?;
            let active = change.active.unwrap_or(current.active);
            let others_active: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM bank_accounts WHERE structure_id = $1 AND id <> $2 AND active",
            )
            .bind(structure.0)
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await?;
            let other_default: Option<i64> =
                sqlx::query_scalar("SELECT id FROM bank_accounts WHERE structure_id = $1 AND id <> $2 AND is_default")
                    .bind(structure.0)
                    .bind(id.0)
                    .fetch_optional(&mut *tx)
                    .await?;
            let refusal = if change.make_default && !active {
                Some(BankAccountRefusal::Inactive)
            } else if current.is_default && !active && others_active > 0 {
                Some(BankAccountRefusal::DefaultInUse)
            } else {
                None
            };
            match refusal {
                Some(r) => Err(r),
                None => {
                    let is_default = active && (change.make_default || current.is_default || other_default.is_none());
                    if is_default && other_default.is_some() {
                        sqlx::query(
                            "UPDATE bank_accounts SET is_default = $1, updated_at = $2 WHERE structure_id = $3 AND is_default",
                        )
                        .bind(false)
                        .bind(self.clock.now())
                        .bind(structure.0)
                        .execute(&mut *tx)
                        .await?;
                    }
                    let label = change.label.as_deref().unwrap_or(&current.label);
                    let row: BankAccountRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "UPDATE bank_accounts SET label = $1, active = $2, is_default = $3, updated_at = $4 \
                         WHERE id = $5 RETURNING {BANK_COLS}"
                    )))
                    .bind(label)
                    .bind(active)
                    .bind(is_default)
                    .bind(self.clock.now())
                    .bind(id.0)
                    .fetch_one(&mut *tx)
                    .await?;
                    let side = |label: &str, active: bool, default: bool| json!({ "label": label, "active": active, "default": default });
                    audit!(
                        self,
                        tx,
                        actor,
                        AuditAction::BankAccountUpdate,
                        Some(structure),
                        json!({
                            "id": id,
                            "before": side(&current.label, current.active, current.is_default),
                            "after": side(&row.label, row.active, row.is_default),
                            "previous_default": other_default.filter(|_| is_default),
                        })
                    );
                    Ok(row)
                }
            }
        });
        match out {
            Ok(row) => Ok(Ok(row.try_into()?)),
            Err(refusal) => Ok(Err(refusal)),
        }
    }
}

crate::autocommit! {
    fn update_coordinates(id: StructureId, coordinates: &Coordinates, actor: Actor) -> StructureRecord;
    fn update_parameters(id: StructureId, parameters: &StructureParameters, actor: Actor) -> StructureRecord;
    fn change_service(structure: StructureId, id: ServiceId, service: &Service, actor: Actor) -> ServiceRecord;
    fn set_service_active(structure: StructureId, id: ServiceId, active: bool, actor: Actor) -> bool;
    fn create_bank_account(structure: StructureId, details: &BankDetails, actor: Actor) -> BankAccountRecord;
    fn change_bank_account(structure: StructureId, id: BankAccountId, change: &BankAccountChange, actor: Actor) -> Result<BankAccountRecord, BankAccountRefusal>;
}
