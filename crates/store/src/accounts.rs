//! Users, attachments, space subscriptions, one-time tokens, sessions, technical accounts and
//! login-attempt counters.
//!
//! Secrets never reach this module in clear: the app passes SHA-256 digests of tokens
//! ([`crate::hash_token`]) and argon2 hashes of passwords.

use facteur_domain::{
    AuditAction, Email, MembershipId, MembershipStatus, Role, ServiceId, Space, SpaceMode, StructureId,
    StructureStatus, SubscriptionStatus, TechnicalAccountId, TokenPurpose, UserId, UserStatus,
};
use serde_json::json;
use time::OffsetDateTime;

use crate::audit::{audit, change_one};
use crate::records::{MembershipRow, SessionRow, SubscriptionRow, TechnicalAccountRow, TechnicalLoginRow, UserRow};
use crate::{
    Actor, MembershipRecord, NewTechnicalAccount, NewUser, Result, SessionRecord, Store, StoreError,
    SubscriptionRecord, TechnicalAccountRecord, Tx, UserRecord, normalize_time, with_pool, with_tx,
};

macro_rules! user_cols {
    () => {
        "id, email, password_hash, first_name, last_name, phone, status, activated_at, last_login_at, created_at, updated_at"
    };
}
macro_rules! membership_cols {
    () => {
        "id, user_id, structure_id, role, status, requested_at, decided_at, decided_by"
    };
}
macro_rules! subscription_cols {
    () => {
        "id, user_id, structure_id, space, mode, status, requested_at, decided_at, decided_by"
    };
}
macro_rules! technical_cols {
    () => {
        "id, structure_id, login, password_hash, client_id, client_secret_hash, password_expires_at, created_at, updated_at"
    };
}

/// `fetch_optional` of one row type converted to its record, on whichever pool.
macro_rules! fetch_opt {
    ($store:expr, $row:ty, $sql:expr $(, $arg:expr)*) => {{
        let row: Option<$row> = with_pool!($store, |db| sqlx::query_as($sql)$(.bind($arg))*.fetch_optional(db).await?);
        row.map(TryInto::try_into).transpose().map_err(StoreError::from)
    }};
}

/// `fetch_all` of one row type converted to records.
macro_rules! fetch_all {
    ($store:expr, $row:ty, $sql:expr $(, $arg:expr)*) => {{
        let rows: Vec<$row> = with_pool!($store, |db| sqlx::query_as($sql)$(.bind($arg))*.fetch_all(db).await?);
        rows.into_iter().map(TryInto::try_into).collect()
    }};
}

impl Store {
    // ---- users -----------------------------------------------------------------------------

    /// A user by id.
    pub async fn user(&self, id: UserId) -> Result<Option<UserRecord>> {
        fetch_opt!(
            self,
            UserRow,
            concat!("SELECT ", user_cols!(), " FROM users WHERE id = $1"),
            id.0
        )
    }

    /// A user by e-mail (e-mails are stored normalised, see [`Email`]).
    pub async fn find_user_by_email(&self, email: &Email) -> Result<Option<UserRecord>> {
        fetch_opt!(
            self,
            UserRow,
            concat!("SELECT ", user_cols!(), " FROM users WHERE email = $1"),
            email.as_str()
        )
    }

    // ---- memberships (rattachements) -------------------------------------------------------

    /// An attachment by id.
    pub async fn membership(&self, id: MembershipId) -> Result<Option<MembershipRecord>> {
        fetch_opt!(
            self,
            MembershipRow,
            concat!("SELECT ", membership_cols!(), " FROM memberships WHERE id = $1"),
            id.0
        )
    }

    /// The attachment of a user to a structure, whatever its status.
    pub async fn find_membership(&self, user: UserId, structure: StructureId) -> Result<Option<MembershipRecord>> {
        fetch_opt!(
            self,
            MembershipRow,
            concat!(
                "SELECT ",
                membership_cols!(),
                " FROM memberships WHERE user_id = $1 AND structure_id = $2"
            ),
            user.0,
            structure.0
        )
    }

    /// The services the membership of `user` in `structure` is attached to, in id order (empty:
    /// none, so the member sees every service's invoices).
    pub async fn membership_services(&self, user: UserId, structure: StructureId) -> Result<Vec<ServiceId>> {
        let ids: Vec<i64> = with_pool!(self, |db| sqlx::query_scalar(
            "SELECT ms.service_id FROM membership_services ms JOIN memberships m ON m.id = ms.membership_id \
             WHERE m.user_id = $1 AND m.structure_id = $2 ORDER BY ms.service_id"
        )
        .bind(user.0)
        .bind(structure.0)
        .fetch_all(db)
        .await?);
        Ok(ids.into_iter().map(ServiceId).collect())
    }

    /// A user's attachments, oldest first.
    pub async fn memberships_of_user(&self, user: UserId) -> Result<Vec<MembershipRecord>> {
        fetch_all!(
            self,
            MembershipRow,
            concat!(
                "SELECT ",
                membership_cols!(),
                " FROM memberships WHERE user_id = $1 ORDER BY id"
            ),
            user.0
        )
    }

    /// A structure's attachments, optionally with one status only, oldest first.
    pub async fn memberships_of_structure(
        &self,
        structure: StructureId,
        status: Option<MembershipStatus>,
    ) -> Result<Vec<MembershipRecord>> {
        fetch_all!(
            self,
            MembershipRow,
            concat!(
                "SELECT ",
                membership_cols!(),
                " FROM memberships WHERE structure_id = $1 AND ($2 IS NULL OR status = $2) ORDER BY id"
            ),
            structure.0,
            status.map(MembershipStatus::as_str)
        )
    }

    // ---- space subscriptions ---------------------------------------------------------------

    /// A user's subscriptions, on one structure or all.
    pub async fn subscriptions_of_user(
        &self,
        user: UserId,
        structure: Option<StructureId>,
    ) -> Result<Vec<SubscriptionRecord>> {
        fetch_all!(
            self,
            SubscriptionRow,
            concat!(
                "SELECT ",
                subscription_cols!(),
                " FROM space_subscriptions WHERE user_id = $1 AND ($2 IS NULL OR structure_id = $2) ORDER BY id"
            ),
            user.0,
            structure.map(|s| s.0)
        )
    }

    /// A structure's subscriptions, optionally with one status only (managers' work list).
    pub async fn subscriptions_of_structure(
        &self,
        structure: StructureId,
        status: Option<SubscriptionStatus>,
    ) -> Result<Vec<SubscriptionRecord>> {
        fetch_all!(
            self,
            SubscriptionRow,
            concat!(
                "SELECT ",
                subscription_cols!(),
                " FROM space_subscriptions WHERE structure_id = $1 AND ($2 IS NULL OR status = $2) ORDER BY id"
            ),
            structure.0,
            status.map(SubscriptionStatus::as_str)
        )
    }

    // ---- one-time tokens -------------------------------------------------------------------

    /// Whether a token would be accepted by [`Self::consume_one_time_token`] at `now`, without
    /// spending it (so a page can say a link is dead before the user fills a form in).
    pub async fn one_time_token_usable(
        &self,
        purpose: TokenPurpose,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let n: i64 = with_pool!(self, |db| sqlx::query_scalar(
            "SELECT COUNT(*) FROM one_time_tokens \
             WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3"
        )
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(normalize_time(now))
        .fetch_one(db)
        .await?);
        Ok(n > 0)
    }

    // ---- sessions --------------------------------------------------------------------------

    /// Stores a session (digest of the cookie token).
    pub async fn create_session(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: OffsetDateTime,
    ) -> Result<SessionRecord> {
        let row: SessionRow = with_pool!(self, |db| sqlx::query_as(
            "INSERT INTO sessions (user_id, token_hash, expires_at, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, user_id, expires_at, created_at"
        )
        .bind(user.0)
        .bind(token_hash)
        .bind(normalize_time(expires_at))
        .bind(self.now())
        .fetch_one(db)
        .await?);
        Ok(row.into())
    }

    /// The session with this digest, if it has not expired at `now`.
    pub async fn find_session(&self, token_hash: &str, now: OffsetDateTime) -> Result<Option<SessionRecord>> {
        let row: Option<SessionRow> = with_pool!(self, |db| sqlx::query_as(
            "SELECT id, user_id, expires_at, created_at FROM sessions WHERE token_hash = $1 AND expires_at > $2"
        )
        .bind(token_hash)
        .bind(normalize_time(now))
        .fetch_optional(db)
        .await?);
        Ok(row.map(Into::into))
    }

    /// Ends one session (logout).
    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        with_pool!(self, |db| sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(db)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Deletes sessions expired at `now`. Returns how many.
    pub async fn purge_expired_sessions(&self, now: OffsetDateTime) -> Result<u64> {
        let done = with_pool!(self, |db| sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(normalize_time(now))
            .execute(db)
            .await?
            .rows_affected());
        Ok(done)
    }

    // ---- technical accounts ----------------------------------------------------------------

    /// The technical account of a structure.
    pub async fn technical_account_of(&self, structure: StructureId) -> Result<Option<TechnicalAccountRecord>> {
        fetch_opt!(
            self,
            TechnicalAccountRow,
            concat!(
                "SELECT ",
                technical_cols!(),
                " FROM technical_accounts WHERE structure_id = $1"
            ),
            structure.0
        )
    }

    /// A technical account by OAuth2 `client_id`.
    pub async fn find_technical_account_by_client_id(&self, client_id: &str) -> Result<Option<TechnicalAccountRecord>> {
        fetch_opt!(
            self,
            TechnicalAccountRow,
            concat!(
                "SELECT ",
                technical_cols!(),
                " FROM technical_accounts WHERE client_id = $1"
            ),
            client_id
        )
    }

    /// A technical account by login.
    pub async fn find_technical_account_by_login(&self, login: &str) -> Result<Option<TechnicalAccountRecord>> {
        fetch_opt!(
            self,
            TechnicalAccountRow,
            concat!(
                "SELECT ",
                technical_cols!(),
                " FROM technical_accounts WHERE login = $1"
            ),
            login
        )
    }

    /// A technical account by login with its structure's status: what every `/cpro/` call checks,
    /// read by one statement.
    pub async fn technical_account_for_login(
        &self,
        login: &str,
    ) -> Result<Option<(TechnicalAccountRecord, StructureStatus)>> {
        fetch_opt!(
            self,
            TechnicalLoginRow,
            concat!(
                "SELECT ",
                technical_cols!(),
                ", (SELECT status FROM structures WHERE structures.id = technical_accounts.structure_id) \
                 AS structure_status FROM technical_accounts WHERE login = $1"
            ),
            login
        )
    }

    /// Replaces a technical account's stored password hash by another hash of the same password
    /// (an old argon2 hash by the SHA-256 digest now used), only if it is still `old`. Not
    /// audited: the password, and so every credential, is unchanged.
    pub async fn rehash_technical_password(&self, id: TechnicalAccountId, old: &str, new: &str) -> Result<bool> {
        let n = with_pool!(self, |db| sqlx::query(
            "UPDATE technical_accounts SET password_hash = $1 WHERE id = $2 AND password_hash = $3"
        )
        .bind(new)
        .bind(id.0)
        .bind(old)
        .execute(db)
        .await?
        .rows_affected());
        Ok(n == 1)
    }

    // ---- login attempts --------------------------------------------------------------------

    /// Records a failed login for `key` (e.g. `ip:…` or `email:…`).
    pub async fn record_login_attempt(&self, key: &str, at: OffsetDateTime) -> Result<()> {
        with_pool!(self, |db| sqlx::query(
            "INSERT INTO login_attempts (key, at) VALUES ($1, $2)"
        )
        .bind(key)
        .bind(normalize_time(at))
        .execute(db)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Failed logins for `key` at or after `since`.
    pub async fn count_login_attempts(&self, key: &str, since: OffsetDateTime) -> Result<i64> {
        let n: i64 = with_pool!(self, |db| sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_attempts WHERE key = $1 AND at >= $2"
        )
        .bind(key)
        .bind(normalize_time(since))
        .fetch_one(db)
        .await?);
        Ok(n)
    }

    /// Forgets the failed logins of `key` (after a success).
    pub async fn clear_login_attempts(&self, key: &str) -> Result<()> {
        with_pool!(self, |db| sqlx::query("DELETE FROM login_attempts WHERE key = $1")
            .bind(key)
            .execute(db)
            .await?
            .rows_affected());
        Ok(())
    }
}

impl Tx {
    /// Ends every session of a user (password change, deactivation). Returns how many.
    pub async fn delete_user_sessions(&mut self, user: UserId) -> Result<u64> {
        self.step("delete_user_sessions")?;
        let done = with_tx!(self, |c| sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.0)
            .execute(&mut *c)
            .await?
            .rows_affected());
        Ok(done)
    }

    /// An attachment by id, as this transaction sees it.
    pub async fn membership(&mut self, id: MembershipId) -> Result<Option<MembershipRecord>> {
        let row: Option<MembershipRow> = with_tx!(self, |c| sqlx::query_as(concat!(
            "SELECT ",
            membership_cols!(),
            " FROM memberships WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// The attachment of a user to a structure, whatever its status, as this transaction sees it.
    pub async fn find_membership(&mut self, user: UserId, structure: StructureId) -> Result<Option<MembershipRecord>> {
        let row: Option<MembershipRow> = with_tx!(self, |c| sqlx::query_as(concat!(
            "SELECT ",
            membership_cols!(),
            " FROM memberships WHERE user_id = $1 AND structure_id = $2"
        ))
        .bind(user.0)
        .bind(structure.0)
        .fetch_optional(&mut *c)
        .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// Creates a user ([`StoreError::Conflict`] when the e-mail is taken).
    pub async fn create_user(&mut self, user: &NewUser, actor: Actor) -> Result<UserRecord> {
        self.step("create_user")?;
        let at = self.clock.now();
        let activated_at = (user.status == UserStatus::Active).then_some(at);
        let row: UserRow = with_tx!(self, |tx| {
            let row: UserRow = sqlx::query_as(concat!(
                "INSERT INTO users (email, password_hash, first_name, last_name, phone, status, activated_at, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING ",
                user_cols!()
            ))
            .bind(user.email.as_str())
            .bind(user.password_hash.as_deref())
            .bind(user.first_name.as_str())
            .bind(user.last_name.as_str())
            .bind(user.phone.as_deref())
            .bind(user.status.as_str())
            .bind(activated_at)
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            audit!(
                self,
                tx,
                actor,
                AuditAction::UserCreate,
                None,
                json!({ "user": row.id, "email": user.email })
            );
            row
        });
        row.try_into()
    }

    /// Changes a user's status; the first move to `Active` stamps `activated_at`.
    pub async fn set_user_status(&mut self, id: UserId, status: UserStatus, actor: Actor) -> Result<()> {
        self.step("set_user_status")?;
        change_one!(
            self,
            "user",
            "UPDATE users SET status = $1, updated_at = $2, \
             activated_at = CASE WHEN $1 = 'ACTIF' AND activated_at IS NULL THEN $2 ELSE activated_at END WHERE id = $3",
            [status.as_str(), self.clock.now(), id.0],
            actor,
            AuditAction::UserStatus,
            None,
            json!({ "user": id, "status": status })
        )
    }

    /// Replaces a user's password hash (argon2 PHC string).
    pub async fn set_password_hash(&mut self, id: UserId, password_hash: &str, actor: Actor) -> Result<()> {
        self.step("set_password_hash")?;
        change_one!(
            self,
            "user",
            "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3",
            [password_hash, self.clock.now(), id.0],
            actor,
            AuditAction::UserPassword,
            None,
            json!({ "user": id })
        )
    }

    /// Updates name and phone.
    pub async fn update_user_profile(
        &mut self,
        id: UserId,
        first_name: &str,
        last_name: &str,
        phone: Option<&str>,
        actor: Actor,
    ) -> Result<()> {
        self.step("update_user_profile")?;
        change_one!(
            self,
            "user",
            "UPDATE users SET first_name = $1, last_name = $2, phone = $3, updated_at = $4 WHERE id = $5",
            [first_name, last_name, phone, self.clock.now(), id.0],
            actor,
            AuditAction::UserProfile,
            None,
            json!({ "user": id })
        )
    }

    /// Stamps a successful login.
    pub async fn record_login(&mut self, id: UserId) -> Result<()> {
        self.step("record_login")?;
        change_one!(
            self,
            "user",
            "UPDATE users SET last_login_at = $1 WHERE id = $2",
            [self.clock.now(), id.0],
            Actor::User(id),
            AuditAction::UserLogin,
            None,
            json!({})
        )
    }

    /// Creates an attachment: `Pending` for a request, `Approved` for a direct attachment by a
    /// manager (then `decided_*` are filled with `actor`).
    pub async fn create_membership(
        &mut self,
        user: UserId,
        structure: StructureId,
        role: Role,
        status: MembershipStatus,
        actor: Actor,
    ) -> Result<MembershipRecord> {
        self.step("create_membership")?;
        let at = self.clock.now();
        let decided = (status != MembershipStatus::Pending).then_some(at);
        let decided_by = match actor {
            Actor::User(u) if decided.is_some() => Some(u.0),
            _ => None,
        };
        let row: MembershipRow = with_tx!(self, |tx| {
            let row: MembershipRow = sqlx::query_as(concat!(
                "INSERT INTO memberships (user_id, structure_id, role, status, requested_at, decided_at, decided_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
                membership_cols!()
            ))
            .bind(user.0)
            .bind(structure.0)
            .bind(role.as_str())
            .bind(status.as_str())
            .bind(at)
            .bind(decided)
            .bind(decided_by)
            .fetch_one(&mut *tx)
            .await?;
            audit!(
                self,
                tx,
                actor,
                AuditAction::MembershipCreate,
                Some(structure),
                json!({ "user": user, "role": role, "status": status })
            );
            row
        });
        row.try_into()
    }

    /// Moves an attachment from `from` to `to` (and optionally changes the role). Conditional
    /// on the current status, so two managers deciding at once cannot both win:
    /// [`StoreError::NotFound`] when the attachment is no longer in `from`.
    pub async fn decide_membership(
        &mut self,
        id: MembershipId,
        from: MembershipStatus,
        to: MembershipStatus,
        role: Option<Role>,
        actor: Actor,
    ) -> Result<MembershipRecord> {
        self.step("decide_membership")?;
        // The domain's table decides which moves exist; the conditional update below decides
        // whether the row is still where the caller saw it.
        if !from.can_become(to) {
            return Err(StoreError::IllegalTransition {
                what: "membership",
                from: from.as_str(),
                to: to.as_str(),
            });
        }
        let decided_by = match actor {
            Actor::User(u) => Some(u.0),
            _ => None,
        };
        let row: Option<MembershipRow> = with_tx!(self, |tx| {
            let row: Option<MembershipRow> = sqlx::query_as(concat!(
                "UPDATE memberships SET status = $1, role = COALESCE($2, role), decided_at = $3, decided_by = $4 \
                 WHERE id = $5 AND status = $6 RETURNING ",
                membership_cols!()
            ))
            .bind(to.as_str())
            .bind(role.map(Role::as_str))
            .bind(self.clock.now())
            .bind(decided_by)
            .bind(id.0)
            .bind(from.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(r) = &row {
                audit!(
                    self,
                    tx,
                    actor,
                    AuditAction::MembershipDecide,
                    Some(StructureId(r.structure_id)),
                    json!({ "membership": id, "from": from, "to": to, "role": role })
                );
            }
            row
        });
        row.ok_or(StoreError::NotFound("membership in the expected status"))?
            .try_into()
    }

    /// Attaches a membership to exactly `services` (empty: to none), with an audit line giving the
    /// services before and after. [`StoreError::Refused`] (nothing changed) when one is not a
    /// service of the membership's structure.
    pub async fn set_membership_services(
        &mut self,
        id: MembershipId,
        services: &[ServiceId],
        actor: Actor,
    ) -> Result<()> {
        self.step("set_membership_services")?;
        let m = self.membership(id).await?.ok_or(StoreError::NotFound("membership"))?;
        let mut wanted: Vec<i64> = services.iter().map(|s| s.0).collect();
        wanted.sort_unstable();
        wanted.dedup();
        with_tx!(self, |tx| {
            let before: Vec<i64> = sqlx::query_scalar(
                "SELECT service_id FROM membership_services WHERE membership_id = $1 ORDER BY service_id",
            )
            .bind(id.0)
            .fetch_all(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM membership_services WHERE membership_id = $1")
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            for service in &wanted {
                let done = sqlx::query(
                    "INSERT INTO membership_services (membership_id, service_id) \
                     SELECT $1, id FROM services WHERE id = $2 AND structure_id = $3",
                )
                .bind(id.0)
                .bind(*service)
                .bind(m.structure_id.0)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Refused("service of another structure"));
                }
            }
            audit!(
                self,
                tx,
                actor,
                AuditAction::MembershipServices,
                Some(m.structure_id),
                json!({ "membership": id, "from": before, "to": wanted })
            );
        });
        Ok(())
    }

    /// Changes the role of an attachment (e.g. transfer of the main-manager role).
    pub async fn set_membership_role(&mut self, id: MembershipId, role: Role, actor: Actor) -> Result<()> {
        self.step("set_membership_role")?;
        let m = self.membership(id).await?.ok_or(StoreError::NotFound("membership"))?;
        change_one!(
            self,
            "membership",
            "UPDATE memberships SET role = $1 WHERE id = $2",
            [role.as_str(), id.0],
            actor,
            AuditAction::MembershipRole,
            Some(m.structure_id),
            json!({ "membership": id, "role": role })
        )
    }

    /// Subscribes a user to a space of a structure. [`StoreError::Refused`] when the space is not
    /// opened on the structure; [`StoreError::Conflict`] when already subscribed.
    pub async fn subscribe_space(
        &mut self,
        user: UserId,
        structure: StructureId,
        space: Space,
        mode: SpaceMode,
        status: SubscriptionStatus,
        actor: Actor,
    ) -> Result<SubscriptionRecord> {
        self.step("subscribe_space")?;
        let at = self.clock.now();
        let decided = (status != SubscriptionStatus::Pending).then_some(at);
        let row: SubscriptionRow = with_tx!(self, |tx| {
            let opened: Option<i64> =
                sqlx::query_scalar("SELECT structure_id FROM space_openings WHERE structure_id = $1 AND space = $2")
                    .bind(structure.0)
                    .bind(space.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
            if opened.is_none() {
                return Err(StoreError::Refused("space not opened on this structure"));
            }
            // Checked before the insert: a failed statement would end a PostgreSQL transaction, and
            // use cases go on after "already subscribed".
            let existing: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM space_subscriptions WHERE user_id = $1 AND structure_id = $2 AND space = $3",
            )
            .bind(user.0)
            .bind(structure.0)
            .bind(space.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if existing.is_some() {
                return Err(StoreError::Conflict(crate::Unique::Subscription));
            }
            let row: SubscriptionRow = sqlx::query_as(concat!(
                "INSERT INTO space_subscriptions (user_id, structure_id, space, mode, status, requested_at, decided_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
                subscription_cols!()
            ))
            .bind(user.0)
            .bind(structure.0)
            .bind(space.as_str())
            .bind(mode.as_str())
            .bind(status.as_str())
            .bind(at)
            .bind(decided)
            .fetch_one(&mut *tx)
            .await?;
            audit!(
                self,
                tx,
                actor,
                AuditAction::SpaceSubscribe,
                Some(structure),
                json!({ "user": user, "space": space, "mode": mode, "status": status })
            );
            row
        });
        row.try_into()
    }

    /// Moves a subscription from `from` to `status` (a manager's decision, a user asking again)
    /// and/or changes its mode. Conditional on the current status like
    /// [`Tx::decide_membership`]: [`StoreError::IllegalTransition`] for a move the domain's table
    /// does not have, [`StoreError::NotFound`] when the subscription is no longer in `from`.
    pub async fn update_subscription(
        &mut self,
        id: i64,
        from: SubscriptionStatus,
        mode: SpaceMode,
        status: SubscriptionStatus,
        actor: Actor,
    ) -> Result<SubscriptionRecord> {
        self.step("update_subscription")?;
        if from != status && !from.can_become(status) {
            return Err(StoreError::IllegalTransition {
                what: "subscription",
                from: from.as_str(),
                to: status.as_str(),
            });
        }
        let decided_by = match actor {
            Actor::User(u) => Some(u.0),
            _ => None,
        };
        let row: Option<SubscriptionRow> = with_tx!(self, |tx| {
            let row: Option<SubscriptionRow> = sqlx::query_as(concat!(
                "UPDATE space_subscriptions SET mode = $1, status = $2, decided_at = $3, decided_by = $4 \
                 WHERE id = $5 AND status = $6 RETURNING ",
                subscription_cols!()
            ))
            .bind(mode.as_str())
            .bind(status.as_str())
            .bind(self.clock.now())
            .bind(decided_by)
            .bind(id)
            .bind(from.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(r) = &row {
                audit!(
                    self,
                    tx,
                    actor,
                    AuditAction::SpaceSubscription,
                    Some(StructureId(r.structure_id)),
                    json!({ "subscription": id, "from": from, "mode": mode, "status": status })
                );
            }
            row
        });
        row.ok_or(StoreError::NotFound("subscription in the expected status"))?
            .try_into()
    }

    /// Removes a subscription.
    pub async fn unsubscribe_space(&mut self, id: i64, actor: Actor) -> Result<()> {
        self.step("unsubscribe_space")?;
        with_tx!(self, |tx| {
            let structure: Option<i64> =
                sqlx::query_scalar("DELETE FROM space_subscriptions WHERE id = $1 RETURNING structure_id")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let structure = structure.ok_or(StoreError::NotFound("subscription"))?;
            audit!(
                self,
                tx,
                actor,
                AuditAction::SpaceUnsubscribe,
                Some(StructureId(structure)),
                json!({ "subscription": id })
            );
        });
        Ok(())
    }

    /// Stores a one-time token digest; earlier unused tokens of the same user and purpose are
    /// spent, so only the newest link works.
    pub async fn create_one_time_token(
        &mut self,
        user: UserId,
        purpose: TokenPurpose,
        token_hash: &str,
        expires_at: OffsetDateTime,
    ) -> Result<()> {
        self.step("create_one_time_token")?;
        let at = self.clock.now();
        with_tx!(self, |tx| {
            sqlx::query(
                "UPDATE one_time_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
            )
            .bind(at)
            .bind(user.0)
            .bind(purpose.as_str())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO one_time_tokens (user_id, purpose, token_hash, expires_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(user.0)
            .bind(purpose.as_str())
            .bind(token_hash)
            .bind(normalize_time(expires_at))
            .bind(at)
            .execute(&mut *tx)
            .await?;
            audit!(
                self,
                tx,
                Actor::System,
                AuditAction::TokenCreate,
                None,
                json!({ "user": user, "purpose": purpose })
            );
        });
        Ok(())
    }

    /// Spends a token: returns its user when the digest is known, of this purpose, unused and
    /// not expired at `now`; atomically marks it used, so a link works once even under races.
    pub async fn consume_one_time_token(
        &mut self,
        purpose: TokenPurpose,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<UserId>> {
        self.step("consume_one_time_token")?;
        let now = normalize_time(now);
        let user: Option<i64> = with_tx!(self, |tx| {
            let user: Option<i64> = sqlx::query_scalar(
                "UPDATE one_time_tokens SET used_at = $1 \
                 WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 RETURNING user_id",
            )
            .bind(now)
            .bind(token_hash)
            .bind(purpose.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(u) = user {
                audit!(
                    self,
                    tx,
                    Actor::User(UserId(u)),
                    AuditAction::TokenConsume,
                    None,
                    json!({ "purpose": purpose })
                );
            }
            user
        });
        Ok(user.map(UserId))
    }

    /// Creates or replaces the technical account of a structure (one per structure).
    pub async fn put_technical_account(
        &mut self,
        structure: StructureId,
        account: &NewTechnicalAccount,
        actor: Actor,
    ) -> Result<TechnicalAccountRecord> {
        self.step("put_technical_account")?;
        let at = self.clock.now();
        let row: TechnicalAccountRow = with_tx!(self, |tx| {
            let row: TechnicalAccountRow = sqlx::query_as(concat!(
                "INSERT INTO technical_accounts (structure_id, login, password_hash, client_id, client_secret_hash, \
                 password_expires_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                 ON CONFLICT (structure_id) DO UPDATE SET login = excluded.login, password_hash = excluded.password_hash, \
                 client_id = excluded.client_id, client_secret_hash = excluded.client_secret_hash, \
                 password_expires_at = excluded.password_expires_at, updated_at = excluded.updated_at RETURNING ",
                technical_cols!()
            ))
            .bind(structure.0)
            .bind(account.login.as_str())
            .bind(account.password_hash.as_str())
            .bind(account.client_id.as_str())
            .bind(account.client_secret_hash.as_str())
            .bind(normalize_time(account.password_expires_at))
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            audit!(
                self,
                tx,
                actor,
                AuditAction::TechnicalAccountPut,
                Some(structure),
                json!({ "login": account.login, "client_id": account.client_id })
            );
            row
        });
        Ok(row.into())
    }
}

crate::autocommit! {
    fn delete_user_sessions(user: UserId) -> u64;
    fn create_user(user: &NewUser, actor: Actor) -> UserRecord;
    fn set_user_status(id: UserId, status: UserStatus, actor: Actor) -> ();
    fn set_password_hash(id: UserId, password_hash: &str, actor: Actor) -> ();
    fn update_user_profile(id: UserId, first_name: &str, last_name: &str, phone: Option<&str>, actor: Actor) -> ();
    fn record_login(id: UserId) -> ();
    fn create_membership(user: UserId, structure: StructureId, role: Role, status: MembershipStatus, actor: Actor) -> MembershipRecord;
    fn decide_membership(id: MembershipId, from: MembershipStatus, to: MembershipStatus, role: Option<Role>, actor: Actor) -> MembershipRecord;
    fn set_membership_role(id: MembershipId, role: Role, actor: Actor) -> ();
    fn subscribe_space(user: UserId, structure: StructureId, space: Space, mode: SpaceMode, status: SubscriptionStatus, actor: Actor) -> SubscriptionRecord;
    fn update_subscription(id: i64, from: SubscriptionStatus, mode: SpaceMode, status: SubscriptionStatus, actor: Actor) -> SubscriptionRecord;
    fn unsubscribe_space(id: i64, actor: Actor) -> ();
    fn create_one_time_token(user: UserId, purpose: TokenPurpose, token_hash: &str, expires_at: OffsetDateTime) -> ();
    fn consume_one_time_token(purpose: TokenPurpose, token_hash: &str, now: OffsetDateTime) -> Option<UserId>;
    fn put_technical_account(structure: StructureId, account: &NewTechnicalAccount, actor: Actor) -> TechnicalAccountRecord;
}
