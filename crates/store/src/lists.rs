//! Lists read with one query each, joins instead of a lookup per row: the signed-in user of a
//! session, attachment lists with the user's address and the structure's name, the services of a
//! page of structures.

use facteur_domain::{Email, MembershipStatus, StructureId, StructureIdentifier, UserId, UserStatus};
use time::OffsetDateTime;

use crate::records::{MembershipRow, ServiceRow, UserRow};
use crate::{MembershipRecord, Result, ServiceRecord, Store, StoreError, UserRecord, normalize_time, with_pool};

/// An attachment with what every list shows beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipLine {
    pub membership: MembershipRecord,
    pub user_email: Email,
    pub user_status: UserStatus,
    pub structure_identifier: StructureIdentifier,
    /// The structure's label, or its company name when it has none.
    pub structure_name: String,
}

#[derive(sqlx::FromRow)]
struct MembershipLineRow {
    #[sqlx(flatten)]
    membership: MembershipRow,
    user_email: String,
    user_status: String,
    structure_identifier_kind: String,
    structure_identifier: String,
    structure_name: String,
}

impl TryFrom<MembershipLineRow> for MembershipLine {
    type Error = StoreError;
    fn try_from(r: MembershipLineRow) -> Result<Self> {
        let kind = r
            .structure_identifier_kind
            .parse()
            .map_err(|e| StoreError::corrupt("structures", e))?;
        Ok(MembershipLine {
            membership: r.membership.try_into()?,
            user_email: r.user_email.parse().map_err(|e| StoreError::corrupt("users", e))?,
            user_status: r.user_status.parse().map_err(|e| StoreError::corrupt("users", e))?,
            structure_identifier: StructureIdentifier::parse(kind, &r.structure_identifier)
                .map_err(|e| StoreError::corrupt("structures", e))?,
            structure_name: r.structure_name,
        })
    }
}

/// The attachment columns joined with the user (`u`) and the structure (`s`).
macro_rules! membership_line_select {
    () => {
        "SELECT m.id, m.user_id, m.structure_id, m.role, m.status, m.requested_at, m.decided_at, m.decided_by, \
         u.email AS user_email, u.status AS user_status, s.identifier_kind AS structure_identifier_kind, \
         s.identifier AS structure_identifier, COALESCE(s.label, s.company_name) AS structure_name \
         FROM memberships m JOIN users u ON u.id = m.user_id JOIN structures s ON s.id = m.structure_id "
    };
}

impl Store {
    /// The user of the session with this digest, if the session has not expired at `now` (one
    /// query: the portal asks on every request).
    pub async fn session_user(&self, token_hash: &str, now: OffsetDateTime) -> Result<Option<UserRecord>> {
        let row: Option<UserRow> = with_pool!(self, |db| sqlx::query_as(
            "SELECT u.id, u.email, u.password_hash, u.first_name, u.last_name, u.phone, u.status, \
             u.activated_at, u.last_login_at, u.created_at, u.updated_at \
             FROM sessions x JOIN users u ON u.id = x.user_id WHERE x.token_hash = $1 AND x.expires_at > $2"
        )
        .bind(token_hash)
        .bind(normalize_time(now))
        .fetch_optional(db)
        .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// A user's attachments with their structures' names, oldest first.
    pub async fn membership_lines_of_user(&self, user: UserId) -> Result<Vec<MembershipLine>> {
        let rows: Vec<MembershipLineRow> = with_pool!(self, |db| sqlx::query_as(concat!(
            membership_line_select!(),
            "WHERE m.user_id = $1 ORDER BY m.id"
        ))
        .bind(user.0)
        .fetch_all(db)
        .await?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// A structure's attachments with the users' addresses, optionally one status only, oldest
    /// first.
    pub async fn membership_lines_of_structure(
        &self,
        structure: StructureId,
        status: Option<MembershipStatus>,
    ) -> Result<Vec<MembershipLine>> {
        let rows: Vec<MembershipLineRow> = with_pool!(self, |db| sqlx::query_as(concat!(
            membership_line_select!(),
            "WHERE m.structure_id = $1 AND ($2 IS NULL OR m.status = $2) ORDER BY m.id"
        ))
        .bind(structure.0)
        .bind(status.map(MembershipStatus::as_str))
        .fetch_all(db)
        .await?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// The services of several structures (a page of search results), by structure then code.
    pub async fn services_of_structures(&self, structures: &[StructureId]) -> Result<Vec<ServiceRecord>> {
        if structures.is_empty() {
            return Ok(Vec::new());
        }
        // One placeholder per id: a page holds at most 200 structures, far below both backends'
        // limits on parameters.
        let placeholders: Vec<String> = (1..=structures.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, structure_id, code, label, active, valid_from, valid_to, engagement_required, \
             payment_status_not_reported, created_at, updated_at FROM services WHERE structure_id IN ({}) \
             ORDER BY structure_id, code",
            placeholders.join(", ")
        );
        let rows: Vec<ServiceRow> = with_pool!(self, |db| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for id in structures {
                q = q.bind(id.0);
            }
            q.fetch_all(db).await?
        });
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
