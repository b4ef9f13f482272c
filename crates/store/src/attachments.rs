//! Attachments (migration `0008_attachments.sql`): files a structure uploads, then references
//! from one of its invoices as the main PDF or as complementary documents.
//!
//! - Before it is referenced an attachment is its uploader's only ([`Store::attachment`] reads
//!   are scoped to the owner).
//! - [`Tx::link_attachment`] gives it to one invoice for good: a conditional update on
//!   `invoice_id IS NULL`, so two deposits racing for the same id cannot both win.
//! - Once linked, the invoice's two parties read it ([`Store::attachment_for_party`]).

use facteur_domain::{AuditAction, StructureId};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::audit::audit;
use crate::{Actor, BlobId, InvoiceId, Result, Store, StoreError, Tx, with_pool, with_tx};

/// Id of an attachment (`pieceJointeId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct AttachmentId(pub i64);

impl std::fmt::Display for AttachmentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What an attachment is to its invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum AttachmentRole {
    /// `pieceJointePrincipale`: the invoice's own PDF (`DEPOT_PDF_API`).
    Main,
    /// `pieceJointeComplementaire`.
    Complementary,
}

impl AttachmentRole {
    /// The stored code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Main => "PRINCIPALE",
            Self::Complementary => "COMPLEMENTAIRE",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "PRINCIPALE" => Ok(Self::Main),
            "COMPLEMENTAIRE" => Ok(Self::Complementary),
            other => Err(StoreError::corrupt("attachments", format!("unknown role {other}"))),
        }
    }
}

/// An upload to record; its bytes are already in the blob store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub owner: StructureId,
    pub blob: BlobId,
    pub size: u64,
    /// `pieceJointeNom`.
    pub file_name: String,
    /// `pieceJointeTypeMime`.
    pub media_type: String,
    /// `pieceJointeExtension`, upper case, without the dot.
    pub extension: String,
}

/// A stored attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentRecord {
    pub id: AttachmentId,
    pub owner_id: StructureId,
    pub actor: Actor,
    pub blob: BlobId,
    pub size: u64,
    pub file_name: String,
    pub media_type: String,
    pub extension: String,
    pub created_at: OffsetDateTime,
    /// The invoice it belongs to, once referenced.
    pub invoice_id: Option<InvoiceId>,
    pub role: Option<AttachmentRole>,
    pub designation: Option<String>,
    /// `pieceJointeComplementaireType`.
    pub kind: Option<String>,
    pub linked_at: Option<OffsetDateTime>,
}

#[derive(sqlx::FromRow)]
struct AttachmentRow {
    id: i64,
    owner_id: i64,
    actor_kind: String,
    actor_id: Option<i64>,
    blob_sha256: String,
    size: i64,
    file_name: String,
    media_type: String,
    extension: String,
    created_at: OffsetDateTime,
    invoice_id: Option<i64>,
    role: Option<String>,
    designation: Option<String>,
    kind: Option<String>,
    linked_at: Option<OffsetDateTime>,
}

/// The columns, qualified by the alias `a` (reads join `invoices`, whose column names overlap).
const COLS: &str = "a.id, a.owner_id, a.actor_kind, a.actor_id, a.blob_sha256, a.size, a.file_name, a.media_type, \
                    a.extension, a.created_at, a.invoice_id, a.role, a.designation, a.kind, a.linked_at";
/// The same, unqualified (`RETURNING`).
const RETURNING: &str = "id, owner_id, actor_kind, actor_id, blob_sha256, size, file_name, media_type, extension, \
                         created_at, invoice_id, role, designation, kind, linked_at";

impl TryFrom<AttachmentRow> for AttachmentRecord {
    type Error = StoreError;
    fn try_from(r: AttachmentRow) -> Result<Self> {
        Ok(AttachmentRecord {
            id: AttachmentId(r.id),
            owner_id: StructureId(r.owner_id),
            actor: Actor::from_parts(&r.actor_kind, r.actor_id)?,
            blob: BlobId::parse(&r.blob_sha256)?,
            size: u64::try_from(r.size).map_err(|e| StoreError::corrupt("attachments", e))?,
            file_name: r.file_name,
            media_type: r.media_type,
            extension: r.extension,
            created_at: r.created_at,
            invoice_id: r.invoice_id.map(InvoiceId),
            role: r.role.as_deref().map(AttachmentRole::parse).transpose()?,
            designation: r.designation,
            kind: r.kind,
            linked_at: r.linked_at,
        })
    }
}

/// A reference from an invoice to an attachment ([`Tx::link_attachment`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentLink<'a> {
    pub attachment: AttachmentId,
    /// The structure referencing it: it must own the attachment.
    pub owner: StructureId,
    pub invoice: InvoiceId,
    pub role: AttachmentRole,
    pub designation: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub actor: Actor,
}

fn owned_sql() -> String {
    format!("SELECT {COLS} FROM attachments a WHERE a.id = $1 AND a.owner_id = $2")
}

impl Tx {
    /// Records an upload, now (the application's clock), with its audit line.
    pub async fn create_attachment(&mut self, new: &NewAttachment, actor: Actor) -> Result<AttachmentRecord> {
        self.step("create_attachment")?;
        let now = self.clock.now();
        let size = i64::try_from(new.size).map_err(|_| StoreError::Refused("attachment size"))?;
        let row: AttachmentRow = with_tx!(self, |c| {
            let row: AttachmentRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "INSERT INTO attachments (owner_id, actor_kind, actor_id, blob_sha256, size, file_name, \
                 media_type, extension, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {RETURNING}"
            )))
            .bind(new.owner.0)
            .bind(actor.kind())
            .bind(actor.id())
            .bind(new.blob.as_str())
            .bind(size)
            .bind(new.file_name.as_str())
            .bind(new.media_type.as_str())
            .bind(new.extension.as_str())
            .bind(now)
            .fetch_one(&mut *c)
            .await?;
            audit!(
                self,
                c,
                actor,
                AuditAction::AttachmentCreate,
                Some(new.owner),
                json!({"attachment": row.id, "size": new.size, "name": new.file_name, "type": new.media_type})
            );
            row
        });
        row.try_into()
    }

    /// An attachment of `owner` (linked or not), read in the transaction.
    pub async fn attachment(&mut self, id: AttachmentId, owner: StructureId) -> Result<Option<AttachmentRecord>> {
        let row: Option<AttachmentRow> = with_tx!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(owned_sql()))
            .bind(id.0)
            .bind(owner.0)
            .fetch_optional(&mut *c)
            .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// Gives an attachment of `link.owner` not yet referenced to `link.invoice`, with its audit
    /// line. [`StoreError::NotFound`] when it is unknown or another structure's;
    /// [`StoreError::IllegalTransition`] when an invoice already references it.
    pub async fn link_attachment(&mut self, link: &AttachmentLink<'_>) -> Result<()> {
        self.step("link_attachment")?;
        let now = self.clock.now();
        with_tx!(self, |c| {
            let done = sqlx::query(
                "UPDATE attachments SET invoice_id = $1, role = $2, designation = $3, kind = $4, linked_at = $5 \
                 WHERE id = $6 AND owner_id = $7 AND invoice_id IS NULL",
            )
            .bind(link.invoice.0)
            .bind(link.role.as_str())
            .bind(link.designation)
            .bind(link.kind)
            .bind(now)
            .bind(link.attachment.0)
            .bind(link.owner.0)
            .execute(&mut *c)
            .await?
            .rows_affected();
            if done == 0 {
                let exists: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM attachments WHERE id = $1 AND owner_id = $2")
                        .bind(link.attachment.0)
                        .bind(link.owner.0)
                        .fetch_optional(&mut *c)
                        .await?;
                return Err(match exists {
                    None => StoreError::NotFound("attachment"),
                    Some(_) => StoreError::IllegalTransition {
                        what: "attachment",
                        from: "REFERENCED",
                        to: "REFERENCED",
                    },
                });
            }
            audit!(
                self,
                c,
                link.actor,
                AuditAction::AttachmentLink,
                Some(link.owner),
                json!({"attachment": link.attachment.0, "invoice": link.invoice.0, "role": link.role.as_str()})
            );
        });
        Ok(())
    }

    /// The bytes already attached to an invoice (main and complementary).
    pub async fn invoice_attachment_bytes(&mut self, invoice: InvoiceId) -> Result<u64> {
        let total: Option<i64> = with_tx!(self, |c| sqlx::query_scalar(
            "SELECT CAST(SUM(size) AS BIGINT) FROM attachments WHERE invoice_id = $1"
        )
        .bind(invoice.0)
        .fetch_one(&mut *c)
        .await?);
        u64::try_from(total.unwrap_or(0)).map_err(|e| StoreError::corrupt("attachments", e))
    }
}

crate::autocommit! {
    fn create_attachment(new: &NewAttachment, actor: Actor) -> AttachmentRecord;
    fn link_attachment(link: &AttachmentLink<'_>) -> ();
}

impl Store {
    /// An attachment of `owner` (linked or not).
    pub async fn attachment(&self, id: AttachmentId, owner: StructureId) -> Result<Option<AttachmentRecord>> {
        let sql = owned_sql();
        let row: Option<AttachmentRow> = with_pool!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id.0)
            .bind(owner.0)
            .fetch_optional(db)
            .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// An attachment as `structure` may read it: its own while no invoice references it, then
    /// only the referencing invoice's supplier's and recipient's. `None` otherwise.
    pub async fn attachment_for_party(
        &self,
        id: AttachmentId,
        structure: StructureId,
    ) -> Result<Option<AttachmentRecord>> {
        let sql = format!(
            "SELECT {COLS} FROM attachments a LEFT JOIN invoices i ON i.id = a.invoice_id WHERE a.id = $1 AND \
             ((a.invoice_id IS NULL AND a.owner_id = $2) OR i.supplier_id = $2 OR i.recipient_id = $2)"
        );
        let row: Option<AttachmentRow> = with_pool!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id.0)
            .bind(structure.0)
            .fetch_optional(db)
            .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// Every attachment of an invoice, in upload order (the caller has checked that it may see
    /// the invoice).
    pub async fn invoice_attachments(&self, invoice: InvoiceId) -> Result<Vec<AttachmentRecord>> {
        let sql = format!("SELECT {COLS} FROM attachments a WHERE a.invoice_id = $1 ORDER BY a.id");
        let rows: Vec<AttachmentRow> = with_pool!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(invoice.0)
            .fetch_all(db)
            .await?);
        rows.into_iter().map(TryInto::try_into).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for r in [AttachmentRole::Main, AttachmentRole::Complementary] {
            assert_eq!(AttachmentRole::parse(r.as_str()).unwrap(), r);
        }
        assert!(AttachmentRole::parse("AUTRE").is_err());
    }
}
