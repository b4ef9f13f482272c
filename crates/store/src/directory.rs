//! Structures, their services and the spaces opened on them: the directory.

use facteur_domain::{
    AuditAction, Service, ServiceCode, ServiceId, Space, Structure, StructureId, StructureIdentifier, StructureStatus,
};
use serde_json::json;

use crate::audit::{audit, change_one};
use crate::records::{ServiceRow, StructureRow};
use crate::{Actor, Result, ServiceRecord, Store, StoreError, StructureRecord, Tx, with_pool, with_tx};

macro_rules! structure_cols {
    () => {
        "id, identifier_kind, identifier, kind, status, company_name, label, email, vat_number, \
         address_line1, address_line2, address_line3, postcode, city, country, phone, \
         service_code_required, engagement_required, service_code_or_engagement_required, \
         payment_status_not_reported, moa, created_at, updated_at"
    };
}

/// The columns of a structure row, for queries built at run time.
pub(crate) const STRUCTURE_COLS: &str = structure_cols!();

macro_rules! service_cols {
    () => {
        "id, structure_id, code, label, active, valid_from, valid_to, engagement_required, \
         payment_status_not_reported, created_at, updated_at"
    };
}

/// The same list as a value (for SQL built at run time).
pub(crate) const SERVICE_COLS: &str = service_cols!();

/// Lower-case and drop French diacritics so "Évry" is found by "evry" on both backends (SQLite's
/// `lower()` only knows ASCII, so folding happens here and is stored).
pub(crate) fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' => out.push('a'),
            'ç' => out.push('c'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'î' | 'ï' | 'í' | 'ì' => out.push('i'),
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => out.push('o'),
            'ù' | 'û' | 'ü' | 'ú' => out.push('u'),
            'ÿ' => out.push('y'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            '\u{2019}' => out.push('\''),
            c => out.push(c),
        }
    }
    out
}

fn name_search(s: &Structure) -> String {
    fold(&format!("{} {}", s.company_name, s.label.as_deref().unwrap_or("")))
}

/// The search copies of a structure's names and city, `(name_search, city_search)`, to write with
/// every change of them (structure self-management updates these columns too).
pub(crate) fn search_columns(s: &Structure) -> (String, String) {
    (name_search(s), fold(&s.address.city))
}

/// Binds every column of a structure except the id and timestamps, in `structure_cols!` order.
macro_rules! bind_structure {
    ($q:expr, $s:expr) => {{
        let s: &Structure = $s;
        $q.bind(s.identifier.kind().as_str())
            .bind(s.identifier.value())
            .bind(s.kind.as_str())
            .bind(s.status.as_str())
            .bind(s.company_name.as_str())
            .bind(s.label.as_deref())
            .bind(s.email.as_ref().map(|e| e.as_str()))
            .bind(s.vat_number.as_ref().map(|v| v.as_str()))
            .bind(s.address.line1.as_str())
            .bind(s.address.line2.as_deref())
            .bind(s.address.line3.as_deref())
            .bind(s.address.postcode.as_str())
            .bind(s.address.city.as_str())
            .bind(s.address.country.as_str())
            .bind(s.address.phone.as_deref())
            .bind(s.parameters.service_code_required)
            .bind(s.parameters.engagement_required)
            .bind(s.parameters.service_code_or_engagement_required)
            .bind(s.parameters.payment_status_not_reported)
            .bind(s.parameters.moa.as_str())
            .bind(name_search(s))
            .bind(fold(&s.address.city))
    }};
}

macro_rules! bind_service {
    ($q:expr, $s:expr) => {{
        let s: &Service = $s;
        $q.bind(s.code.as_str())
            .bind(s.label.as_str())
            .bind(s.active)
            .bind(s.valid_from)
            .bind(s.valid_to)
            .bind(s.parameters.engagement_required)
            .bind(s.parameters.payment_status_not_reported)
    }};
}

const INSERT_SERVICE: &str = concat!(
    "INSERT INTO services (structure_id, code, label, active, valid_from, valid_to, engagement_required, \
     payment_status_not_reported, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING ",
    service_cols!()
);

const OPEN_SPACE: &str = "INSERT INTO space_openings (structure_id, space, opened_at) VALUES ($1, $2, $3) \
                          ON CONFLICT (structure_id, space) DO NOTHING";

impl Store {
    /// A structure by id.
    pub async fn structure(&self, id: StructureId) -> Result<Option<StructureRecord>> {
        let row: Option<StructureRow> = with_pool!(self, |db| sqlx::query_as(concat!(
            "SELECT ",
            structure_cols!(),
            " FROM structures WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(db)
        .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// A structure by its identifier (kind + value).
    pub async fn find_structure_by_identifier(
        &self,
        identifier: &StructureIdentifier,
    ) -> Result<Option<StructureRecord>> {
        let row: Option<StructureRow> = with_pool!(self, |db| sqlx::query_as(concat!(
            "SELECT ",
            structure_cols!(),
            " FROM structures WHERE identifier_kind = $1 AND identifier = $2"
        ))
        .bind(identifier.kind().as_str())
        .bind(identifier.value())
        .fetch_optional(db)
        .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// A service by id.
    pub async fn service(&self, id: ServiceId) -> Result<Option<ServiceRecord>> {
        let row: Option<ServiceRow> = with_pool!(self, |db| sqlx::query_as(concat!(
            "SELECT ",
            service_cols!(),
            " FROM services WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(db)
        .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// A structure's service by code.
    pub async fn find_service(&self, structure: StructureId, code: &ServiceCode) -> Result<Option<ServiceRecord>> {
        let row: Option<ServiceRow> = with_pool!(self, |db| sqlx::query_as(concat!(
            "SELECT ",
            service_cols!(),
            " FROM services WHERE structure_id = $1 AND code = $2"
        ))
        .bind(structure.0)
        .bind(code.as_str())
        .fetch_optional(db)
        .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// All services of a structure (active or not, default one included), by code.
    pub async fn list_services(&self, structure: StructureId) -> Result<Vec<ServiceRecord>> {
        let rows: Vec<ServiceRow> = with_pool!(self, |db| sqlx::query_as(concat!(
            "SELECT ",
            service_cols!(),
            " FROM services WHERE structure_id = $1 ORDER BY code"
        ))
        .bind(structure.0)
        .fetch_all(db)
        .await?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Spaces opened on a structure, in [`Space::ALL`] order.
    pub async fn opened_spaces(&self, structure: StructureId) -> Result<Vec<Space>> {
        let codes: Vec<String> = with_pool!(self, |db| sqlx::query_scalar(
            "SELECT space FROM space_openings WHERE structure_id = $1"
        )
        .bind(structure.0)
        .fetch_all(db)
        .await?);
        let mut spaces = codes
            .iter()
            .map(|c| c.parse::<Space>().map_err(|e| StoreError::corrupt("space_openings", e)))
            .collect::<Result<Vec<_>>>()?;
        spaces.sort();
        Ok(spaces)
    }
}

impl Tx {
    /// A service by id, as this transaction sees it.
    pub async fn service(&mut self, id: ServiceId) -> Result<Option<ServiceRecord>> {
        let row: Option<ServiceRow> = with_tx!(self, |c| sqlx::query_as(concat!(
            "SELECT ",
            service_cols!(),
            " FROM services WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// A structure by its identifier (kind + value), as this transaction sees it.
    pub async fn find_structure_by_identifier(
        &mut self,
        identifier: &StructureIdentifier,
    ) -> Result<Option<StructureRecord>> {
        let row: Option<StructureRow> = with_tx!(self, |c| sqlx::query_as(concat!(
            "SELECT ",
            structure_cols!(),
            " FROM structures WHERE identifier_kind = $1 AND identifier = $2"
        ))
        .bind(identifier.kind().as_str())
        .bind(identifier.value())
        .fetch_optional(&mut *c)
        .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// Creates a structure with its default `FACTURES_PUBLIQUES` service and its default spaces.
    /// Fails with [`StoreError::Conflict`] when the identifier is already registered.
    pub async fn create_structure(&mut self, structure: &Structure, actor: Actor) -> Result<StructureRecord> {
        self.step("create_structure")?;
        let at = self.clock.now();
        let row: StructureRow = with_tx!(self, |tx| {
            let q = sqlx::query_as(concat!(
                "INSERT INTO structures (identifier_kind, identifier, kind, status, company_name, label, email, \
                 vat_number, address_line1, address_line2, address_line3, postcode, city, country, phone, \
                 service_code_required, engagement_required, service_code_or_engagement_required, \
                 payment_status_not_reported, moa, name_search, city_search, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
                 $20, $21, $22, $23, $23) RETURNING ",
                structure_cols!()
            ));
            let row: StructureRow = bind_structure!(q, structure).bind(at).fetch_one(&mut *tx).await?;
            let q = sqlx::query(INSERT_SERVICE).bind(row.id);
            bind_service!(q, &Service::default_service())
                .bind(at)
                .execute(&mut *tx)
                .await?;
            for space in Space::opened_by_default(structure.kind) {
                sqlx::query(OPEN_SPACE)
                    .bind(row.id)
                    .bind(space.as_str())
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            }
            audit!(
                self,
                tx,
                actor,
                AuditAction::StructureCreate,
                Some(StructureId(row.id)),
                json!({ "identifier": structure.identifier.to_string(), "name": structure.company_name })
            );
            row
        });
        row.try_into()
    }

    /// Replaces a structure's data (the identifier is kept: a SIRET change creates a new
    /// structure, spec §1.7).
    pub async fn update_structure(
        &mut self,
        id: StructureId,
        structure: &Structure,
        actor: Actor,
    ) -> Result<StructureRecord> {
        self.step("update_structure")?;
        let row: Option<StructureRow> = with_tx!(self, |tx| {
            let q = sqlx::query_as(concat!(
                "UPDATE structures SET kind = $3, status = $4, company_name = $5, label = $6, email = $7, \
                 vat_number = $8, address_line1 = $9, address_line2 = $10, address_line3 = $11, postcode = $12, \
                 city = $13, country = $14, phone = $15, service_code_required = $16, engagement_required = $17, \
                 service_code_or_engagement_required = $18, payment_status_not_reported = $19, moa = $20, \
                 name_search = $21, city_search = $22, updated_at = $23 \
                 WHERE id = $24 AND identifier_kind = $1 AND identifier = $2 RETURNING ",
                structure_cols!()
            ));
            let row: Option<StructureRow> = bind_structure!(q, structure)
                .bind(self.clock.now())
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?;
            if row.is_some() {
                audit!(
                    self,
                    tx,
                    actor,
                    AuditAction::StructureUpdate,
                    Some(id),
                    serde_json::to_value(structure).unwrap_or_default()
                );
            }
            row
        });
        row.ok_or(StoreError::NotFound("structure (or identifier changed)"))?
            .try_into()
    }

    /// Activates or deactivates a structure.
    pub async fn set_structure_status(&mut self, id: StructureId, status: StructureStatus, actor: Actor) -> Result<()> {
        self.step("set_structure_status")?;
        change_one!(
            self,
            "structure",
            "UPDATE structures SET status = $1, updated_at = $2 WHERE id = $3",
            [status.as_str(), self.clock.now(), id.0],
            actor,
            AuditAction::StructureStatus,
            Some(id),
            json!({ "status": status })
        )
    }

    /// Adds a service to a structure ([`StoreError::Conflict`] on a duplicate code).
    pub async fn create_service(
        &mut self,
        structure: StructureId,
        service: &Service,
        actor: Actor,
    ) -> Result<ServiceRecord> {
        self.step("create_service")?;
        let row: ServiceRow = with_tx!(self, |tx| {
            let q = sqlx::query_as(INSERT_SERVICE).bind(structure.0);
            let row: ServiceRow = bind_service!(q, service)
                .bind(self.clock.now())
                .fetch_one(&mut *tx)
                .await?;
            audit!(
                self,
                tx,
                actor,
                AuditAction::ServiceCreate,
                Some(structure),
                json!({ "code": service.code, "label": service.label })
            );
            row
        });
        row.try_into()
    }

    /// Replaces a service's data. The default service keeps its code.
    pub async fn update_service(&mut self, id: ServiceId, service: &Service, actor: Actor) -> Result<ServiceRecord> {
        self.step("update_service")?;
        let current = self.service(id).await?.ok_or(StoreError::NotFound("service"))?;
        if current.service.code.is_default_service() && service.code != current.service.code {
            return Err(StoreError::Refused("the default service keeps its code"));
        }
        let row: ServiceRow = with_tx!(self, |tx| {
            let q = sqlx::query_as(concat!(
                "UPDATE services SET code = $1, label = $2, active = $3, valid_from = $4, valid_to = $5, \
                 engagement_required = $6, payment_status_not_reported = $7, updated_at = $8 WHERE id = $9 RETURNING ",
                service_cols!()
            ));
            let row: ServiceRow = bind_service!(q, service)
                .bind(self.clock.now())
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await?;
            audit!(
                self,
                tx,
                actor,
                AuditAction::ServiceUpdate,
                Some(current.structure_id),
                serde_json::to_value(service).unwrap_or_default()
            );
            row
        });
        row.try_into()
    }

    /// Deletes a service (never the default one).
    pub async fn delete_service(&mut self, id: ServiceId, actor: Actor) -> Result<()> {
        self.step("delete_service")?;
        let current = self.service(id).await?.ok_or(StoreError::NotFound("service"))?;
        if current.service.code.is_default_service() {
            return Err(StoreError::Refused("the default service cannot be deleted"));
        }
        with_tx!(self, |tx| {
            // Members attached to it no longer are (the audit line of the deletion says so).
            sqlx::query("DELETE FROM membership_services WHERE service_id = $1")
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM services WHERE id = $1")
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            audit!(
                self,
                tx,
                actor,
                AuditAction::ServiceDelete,
                Some(current.structure_id),
                json!({ "code": current.service.code })
            );
        });
        Ok(())
    }

    /// Opens a space on a structure (idempotent).
    pub async fn open_space(&mut self, structure: StructureId, space: Space, actor: Actor) -> Result<()> {
        self.step("open_space")?;
        with_tx!(self, |tx| {
            let done = sqlx::query(OPEN_SPACE)
                .bind(structure.0)
                .bind(space.as_str())
                .bind(self.clock.now())
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() > 0 {
                audit!(
                    self,
                    tx,
                    actor,
                    AuditAction::SpaceOpen,
                    Some(structure),
                    json!({ "space": space })
                );
            }
        });
        Ok(())
    }

    /// Closes a space on a structure (and drops the subscriptions to it).
    pub async fn close_space(&mut self, structure: StructureId, space: Space, actor: Actor) -> Result<()> {
        self.step("close_space")?;
        with_tx!(self, |tx| {
            sqlx::query("DELETE FROM space_subscriptions WHERE structure_id = $1 AND space = $2")
                .bind(structure.0)
                .bind(space.as_str())
                .execute(&mut *tx)
                .await?;
            let done = sqlx::query("DELETE FROM space_openings WHERE structure_id = $1 AND space = $2")
                .bind(structure.0)
                .bind(space.as_str())
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() > 0 {
                audit!(
                    self,
                    tx,
                    actor,
                    AuditAction::SpaceClose,
                    Some(structure),
                    json!({ "space": space })
                );
            }
        });
        Ok(())
    }
}

crate::autocommit! {
    fn create_structure(structure: &Structure, actor: Actor) -> StructureRecord;
    fn update_structure(id: StructureId, structure: &Structure, actor: Actor) -> StructureRecord;
    fn set_structure_status(id: StructureId, status: StructureStatus, actor: Actor) -> ();
    fn create_service(structure: StructureId, service: &Service, actor: Actor) -> ServiceRecord;
    fn update_service(id: ServiceId, service: &Service, actor: Actor) -> ServiceRecord;
    fn delete_service(id: ServiceId, actor: Actor) -> ();
    fn open_space(structure: StructureId, space: Space, actor: Actor) -> ();
    fn close_space(structure: StructureId, space: Space, actor: Actor) -> ();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_and_patterns() {
        assert_eq!(fold("Évry-Courcouronnes"), "evry-courcouronnes");
        assert_eq!(fold("CŒUR d’Hôpital"), "coeur d'hopital");
    }
}
