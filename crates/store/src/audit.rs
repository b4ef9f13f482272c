//! The audit log: who did what, when, on which structure, with a JSON payload. Written in the
//! same transaction as the change it records (see [`audit!`]), so there is no change without its
//! line and no line without its change.

use facteur_domain::StructureId;
use sqlx::types::Json;

use crate::{Actor, AuditRecord, Result, Store, StoreError, Tx, with_pool};

pub(crate) const INSERT_AUDIT: &str = "INSERT INTO audit_log (at, actor_kind, actor_id, action, structure_id, details) \
     VALUES ($1, $2, $3, $4, $5, $6)";

/// `audit!(self, c, actor, AuditAction::…, Some(structure_id), json!({...}))` inside a
/// [`crate::with_tx!`] body (`c` its connection); the line's time is the transaction's clock.
macro_rules! audit {
    ($store:expr, $tx:ident, $actor:expr, $action:expr, $structure:expr, $details:expr) => {{
        let actor: $crate::Actor = $actor;
        let structure: Option<facteur_domain::StructureId> = $structure;
        let details: serde_json::Value = $details;
        sqlx::query($crate::audit::INSERT_AUDIT)
            .bind($store.clock.now())
            .bind(actor.kind())
            .bind(actor.id())
            .bind({
                let action: facteur_domain::AuditAction = $action;
                action.as_str()
            })
            .bind(structure.map(|s| s.0))
            .bind(sqlx::types::Json(details))
            .execute(&mut *$tx)
            .await?;
    }};
}
pub(crate) use audit;

/// One UPDATE/DELETE that must hit a row ([`StoreError::NotFound`] otherwise) and its audit line,
/// in the transaction `tx`: `change_one!(tx, "what", SQL, [args…], actor, action, structure, json)`.
macro_rules! change_one {
    ($store:expr, $what:literal, $sql:expr, [$($arg:expr),* $(,)?], $actor:expr, $action:expr, $structure:expr, $details:expr) => {{
        $crate::with_tx!($store, |tx| {
            let done = sqlx::query($sql)$(.bind($arg))*.execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err($crate::StoreError::NotFound($what));
            }
            $crate::audit::audit!($store, tx, $actor, $action, $structure, $details);
        });
        Ok(())
    }};
}
pub(crate) use change_one;

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: time::OffsetDateTime,
    actor_kind: String,
    actor_id: Option<i64>,
    action: String,
    structure_id: Option<i64>,
    details: Json<serde_json::Value>,
}

impl TryFrom<AuditRow> for AuditRecord {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<Self> {
        Ok(AuditRecord {
            id: r.id,
            at: r.at,
            actor: Actor::from_parts(&r.actor_kind, r.actor_id)?,
            action: r
                .action
                .parse()
                .map_err(|_| StoreError::corrupt("audit_log", format!("unknown action {}", r.action)))?,
            structure_id: r.structure_id.map(StructureId),
            details: r.details.0,
        })
    }
}

impl Tx {
    /// Records an event that is not itself a row change (e.g. a failed login, an export).
    pub async fn audit(
        &mut self,
        actor: Actor,
        action: facteur_domain::AuditAction,
        structure: Option<StructureId>,
        details: serde_json::Value,
    ) -> Result<()> {
        self.step("audit")?;
        crate::with_tx!(self, |tx| audit!(self, tx, actor, action, structure, details));
        Ok(())
    }
}

crate::autocommit! {
    fn audit(actor: Actor, action: facteur_domain::AuditAction, structure: Option<StructureId>, details: serde_json::Value) -> ();
}

impl Store {
    /// Audit lines, newest first, optionally for one structure only.
    pub async fn audit_log(&self, structure: Option<StructureId>, limit: u32, offset: u32) -> Result<Vec<AuditRecord>> {
        let rows: Vec<AuditRow> = with_pool!(self, |db| sqlx::query_as(
            "SELECT id, at, actor_kind, actor_id, action, structure_id, details FROM audit_log \
             WHERE ($1 IS NULL OR structure_id = $1) ORDER BY id DESC LIMIT $2 OFFSET $3"
        )
        .bind(structure.map(|s| s.0))
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(db)
        .await?);
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
