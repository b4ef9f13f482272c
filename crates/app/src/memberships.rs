//! Manager use cases: attachment decisions, members, roles, spaces. Managers (main or secondary)
//! of a structure act on that structure only; the operator acts on any. Every change is written
//! to the audit log by the store in the same transaction, and the user concerned is mailed.

use std::collections::HashSet;

use facteur_domain::{
    MembershipId, MembershipStatus, Role, ServiceId, Space, SpaceMode, StructureId, SubscriptionStatus, UserId,
};
use facteur_store::{MembershipRecord, StoreError, SubscriptionRecord, Tx};
use serde_json::json;

use crate::access::store_actor;
use crate::accounts::parse_email;
use crate::{
    Actor, App, AppError, AppResult, AuditEntry, Conflict, MailKind, MembershipView, Problem, SubscriptionView,
};

impl App {
    /// Members and requests of a structure (every status), for the manager's member list.
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id))]
    pub async fn members(&self, actor: &Actor, structure_id: StructureId) -> AppResult<Vec<MembershipView>> {
        self.require_manager(actor, structure_id).await?;
        self.memberships_with(structure_id, None).await
    }

    async fn memberships_with(
        &self,
        structure_id: StructureId,
        status: Option<MembershipStatus>,
    ) -> AppResult<Vec<MembershipView>> {
        // One query joining users and structures, whatever the number of members.
        Ok(self
            .db()
            .membership_lines_of_structure(structure_id, status)
            .await?
            .into_iter()
            .map(Self::line_view)
            .collect())
    }

    /// Pending attachment requests of a structure.
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id))]
    pub async fn pending_attachments(
        &self,
        actor: &Actor,
        structure_id: StructureId,
    ) -> AppResult<Vec<MembershipView>> {
        self.require_manager(actor, structure_id).await?;
        self.memberships_with(structure_id, Some(MembershipStatus::Pending))
            .await
    }

    /// Approves or refuses one or many pending requests of `structure_id`; each user is mailed and
    /// each decision audited, all in one transaction. An id that is not a pending request of this
    /// structure makes the whole call fail with `NotFound` before anything changes. Returns how
    /// many requests were decided.
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id))]
    pub async fn decide_attachments(
        &self,
        actor: &Actor,
        structure_id: StructureId,
        ids: &[MembershipId],
        approve: bool,
    ) -> AppResult<usize> {
        self.require_manager(actor, structure_id).await?;
        let pending: Vec<MembershipRecord> = self
            .db()
            .memberships_of_structure(structure_id, Some(MembershipStatus::Pending))
            .await?;
        let wanted: HashSet<MembershipId> = ids.iter().copied().collect();
        let chosen: Vec<&MembershipRecord> = pending.iter().filter(|m| wanted.contains(&m.id)).collect();
        if chosen.len() != wanted.len() {
            return Err(AppError::NotFound);
        }
        let s = self.load_structure(structure_id).await?;
        let sa = store_actor(actor);
        let to = if approve {
            MembershipStatus::Approved
        } else {
            MembershipStatus::Refused
        };
        let mut tx = self.db().begin().await?;
        let mut done = 0;
        for m in chosen {
            let decided = match tx
                .decide_membership(m.id, MembershipStatus::Pending, to, None, sa)
                .await
            {
                Ok(d) => d,
                // Decided by another manager meanwhile (the conditional update found it no longer
                // pending, and changed nothing): skip, the other decision stands.
                Err(StoreError::NotFound(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            done += 1;
            if approve {
                self.subscribe_defaults(&mut tx, decided.user_id, structure_id, decided.role, sa)
                    .await?;
            }
            if let Some(u) = self.db().user(decided.user_id).await? {
                let ctx = json!({ "structure": s.structure.display_name(), "approved": approve });
                self.queue_mail(&mut tx, u.email.as_str(), MailKind::AttachmentDecision, &ctx)
                    .await?;
            }
        }
        self.commit(tx).await?;
        Ok(done)
    }

    /// Attaches an existing user (by e-mail) directly with `role` (not main manager).
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id))]
    pub async fn attach_user(
        &self,
        actor: &Actor,
        structure_id: StructureId,
        email: &str,
        role: Role,
    ) -> AppResult<MembershipView> {
        self.require_manager(actor, structure_id).await?;
        if role == Role::MainManager {
            return Err(AppError::invalid("role", Problem::MainManagerByTransfer));
        }
        let email = parse_email(email)?;
        let user = self.db().find_user_by_email(&email).await?.ok_or(AppError::NotFound)?;
        let s = self.load_structure(structure_id).await?;
        let mut tx = self.db().begin().await?;
        let m = self
            .approve_with_role(&mut tx, user.id, structure_id, role, store_actor(actor))
            .await?;
        let ctx = json!({
            "structure": s.structure.display_name(), "change": "attached", "role": role_label(role),
        });
        self.queue_mail(&mut tx, email.as_str(), MailKind::MembershipChanged, &ctx)
            .await?;
        self.commit(tx).await?;
        self.membership_view(&m, Some(&s)).await
    }

    /// Makes `user` an approved member with `role` in `tx`, whatever the current attachment state;
    /// an already approved member is a conflict.
    async fn approve_with_role(
        &self,
        tx: &mut Tx,
        user: UserId,
        structure: StructureId,
        role: Role,
        sa: facteur_store::Actor,
    ) -> AppResult<MembershipRecord> {
        let m = match tx.find_membership(user, structure).await? {
            Some(m) if m.status == MembershipStatus::Approved => {
                return Err(AppError::Conflict(Conflict::AlreadyMember));
            }
            Some(m) if m.status == MembershipStatus::Pending => {
                tx.decide_membership(m.id, m.status, MembershipStatus::Approved, Some(role), sa)
                    .await?
            }
            Some(m) => {
                // Refused/detached → pending → approved keeps to the domain's transitions.
                let p = tx
                    .decide_membership(m.id, m.status, MembershipStatus::Pending, Some(role), sa)
                    .await?;
                tx.decide_membership(p.id, p.status, MembershipStatus::Approved, Some(role), sa)
                    .await?
            }
            None => {
                tx.create_membership(user, structure, role, MembershipStatus::Approved, sa)
                    .await?
            }
        };
        self.subscribe_defaults(tx, user, structure, role, sa).await?;
        Ok(m)
    }

    /// The approved membership of `user` in `structure`, or `NotFound`.
    async fn approved_member(&self, user: UserId, structure: StructureId) -> AppResult<MembershipRecord> {
        match self.db().find_membership(user, structure).await? {
            Some(m) if m.status == MembershipStatus::Approved => Ok(m),
            _ => Err(AppError::NotFound),
        }
    }

    /// Detaches a member and drops their space subscriptions there, in one transaction. The main
    /// manager cannot be detached (transfer the role first).
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id, user_id = %user_id))]
    pub async fn detach_user(&self, actor: &Actor, structure_id: StructureId, user_id: UserId) -> AppResult<()> {
        self.require_manager(actor, structure_id).await?;
        let m = self.approved_member(user_id, structure_id).await?;
        if m.role == Role::MainManager {
            return Err(AppError::Conflict(Conflict::MainManagerFirst));
        }
        let sa = store_actor(actor);
        let s = self.load_structure(structure_id).await?;
        let mut tx = self.db().begin().await?;
        tx.decide_membership(m.id, MembershipStatus::Approved, MembershipStatus::Detached, None, sa)
            .await?;
        for sub in self.db().subscriptions_of_user(user_id, Some(structure_id)).await? {
            tx.unsubscribe_space(sub.id, sa).await?;
        }
        if let Some(u) = self.db().user(user_id).await? {
            let ctx = json!({
                "structure": s.structure.display_name(), "change": "detached", "role": role_label(m.role),
            });
            self.queue_mail(&mut tx, u.email.as_str(), MailKind::MembershipChanged, &ctx)
                .await?;
        }
        self.commit(tx).await
    }

    /// Attaches a member to exactly `services` of the structure (empty: none). A member attached
    /// to services sees, of the invoices the structure receives, only those addressed to one of
    /// them (spec §1.4); one attached to none sees them all. Managers only; a service of another
    /// structure is [`AppError::invalid`] on `services` and changes nothing.
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id, user_id = %user_id))]
    pub async fn set_member_services(
        &self,
        actor: &Actor,
        structure_id: StructureId,
        user_id: UserId,
        services: &[ServiceId],
    ) -> AppResult<()> {
        self.require_manager(actor, structure_id).await?;
        let m = self.approved_member(user_id, structure_id).await?;
        let mut tx = self.db().begin().await?;
        match tx.set_membership_services(m.id, services, store_actor(actor)).await {
            Ok(()) => {}
            Err(StoreError::Refused(_)) => return Err(AppError::invalid("services", Problem::UnknownValue)),
            Err(e) => return Err(e.into()),
        }
        self.commit(tx).await
    }

    /// The services a member is attached to (see [`App::set_member_services`]): the member
    /// themselves or a manager asks.
    pub async fn member_services(
        &self,
        actor: &Actor,
        structure_id: StructureId,
        user_id: UserId,
    ) -> AppResult<Vec<ServiceId>> {
        if Self::require_user(actor).ok() != Some(user_id) {
            self.require_manager(actor, structure_id).await?;
        }
        self.approved_member(user_id, structure_id).await?;
        Ok(self.db().membership_services(user_id, structure_id).await?)
    }

    /// Promotes a member to secondary manager or demotes them to simple user (`role` must not be
    /// `MainManager`: use [`App::transfer_main_manager`]; the main manager's role cannot be changed here).
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id, user_id = %user_id))]
    pub async fn set_role(
        &self,
        actor: &Actor,
        structure_id: StructureId,
        user_id: UserId,
        role: Role,
    ) -> AppResult<()> {
        self.require_manager(actor, structure_id).await?;
        if role == Role::MainManager {
            return Err(AppError::invalid("role", Problem::MainManagerByTransfer));
        }
        let m = self.approved_member(user_id, structure_id).await?;
        if m.role == Role::MainManager {
            return Err(AppError::Conflict(Conflict::MainManagerFirst));
        }
        if m.role == role {
            return Ok(());
        }
        let sa = store_actor(actor);
        let mut tx = self.db().begin().await?;
        tx.set_membership_role(m.id, role, sa).await?;
        if role.is_manager() {
            self.subscribe_defaults(&mut tx, user_id, structure_id, role, sa)
                .await?;
        }
        self.queue_role_mail(&mut tx, structure_id, user_id, role).await?;
        self.commit(tx).await
    }

    /// Queues, in `tx`, the mail telling `user_id` their role in `structure_id` is now `role`.
    async fn queue_role_mail(
        &self,
        tx: &mut Tx,
        structure_id: StructureId,
        user_id: UserId,
        role: Role,
    ) -> AppResult<()> {
        let s = self.load_structure(structure_id).await?;
        if let Some(u) = self.db().user(user_id).await? {
            let ctx = json!({
                "structure": s.structure.display_name(), "change": "role", "role": role_label(role),
            });
            self.queue_mail(tx, u.email.as_str(), MailKind::MembershipChanged, &ctx)
                .await?;
        }
        Ok(())
    }

    /// Hands the main-manager role to another approved member; the previous main manager becomes
    /// secondary manager. Only the main manager (or the operator) may do it.
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id))]
    pub async fn transfer_main_manager(
        &self,
        actor: &Actor,
        structure_id: StructureId,
        to_user: UserId,
    ) -> AppResult<()> {
        self.require_main_manager(actor, structure_id).await?;
        let target = self.approved_member(to_user, structure_id).await?;
        if target.role == Role::MainManager {
            return Ok(());
        }
        let sa = store_actor(actor);
        let current: Vec<MembershipRecord> = self
            .db()
            .memberships_of_structure(structure_id, Some(MembershipStatus::Approved))
            .await?
            .into_iter()
            .filter(|m| m.role == Role::MainManager)
            .collect();
        // One transaction: the structure never has two main managers, nor none.
        let mut tx = self.db().begin().await?;
        tx.set_membership_role(target.id, Role::MainManager, sa).await?;
        self.subscribe_defaults(&mut tx, to_user, structure_id, Role::MainManager, sa)
            .await?;
        for m in &current {
            tx.set_membership_role(m.id, Role::SecondaryManager, sa).await?;
        }
        self.queue_role_mail(&mut tx, structure_id, to_user, Role::MainManager)
            .await?;
        for m in &current {
            self.queue_role_mail(&mut tx, structure_id, m.user_id, Role::SecondaryManager)
                .await?;
        }
        self.commit(tx).await
    }

    /// Copies `from_user`'s approved memberships (role capped at secondary manager) and approved
    /// space subscriptions onto `to_user`, for the structures the actor manages. `from_user` must
    /// be a member of at least one of them (else `NotFound`). Returns how many memberships were
    /// created or changed.
    #[tracing::instrument(skip_all)]
    pub async fn duplicate_rights(&self, actor: &Actor, from_user: UserId, to_user: UserId) -> AppResult<usize> {
        if from_user == to_user {
            return Err(AppError::invalid("user", Problem::SameUser));
        }
        let mut managed = Vec::new();
        for m in self.db().memberships_of_user(from_user).await? {
            if m.status == MembershipStatus::Approved
                && let Ok(access) = self.require_manager(actor, m.structure_id).await
                && access.is_manager()
            {
                managed.push(m);
            }
        }
        if managed.is_empty() {
            return Err(AppError::NotFound);
        }
        self.db().user(to_user).await?.ok_or(AppError::NotFound)?;
        let sa = store_actor(actor);
        let mut changed = 0;
        // All the structures or none.
        let mut tx = self.db().begin().await?;
        for m in managed {
            let role = if m.role == Role::MainManager {
                Role::SecondaryManager
            } else {
                m.role
            };
            match tx.find_membership(to_user, m.structure_id).await? {
                Some(t) if t.status == MembershipStatus::Approved => {
                    // Never downgrade: only raise a simple user to manager.
                    if t.role == Role::SimpleUser && role.is_manager() {
                        tx.set_membership_role(t.id, role, sa).await?;
                        changed += 1;
                    }
                }
                _ => {
                    self.approve_with_role(&mut tx, to_user, m.structure_id, role, sa)
                        .await?;
                    changed += 1;
                }
            }
            for sub in self.db().subscriptions_of_user(from_user, Some(m.structure_id)).await? {
                if sub.status != SubscriptionStatus::Approved {
                    continue;
                }
                match tx
                    .subscribe_space(
                        to_user,
                        m.structure_id,
                        sub.space,
                        sub.mode,
                        SubscriptionStatus::Approved,
                        sa,
                    )
                    .await
                {
                    Ok(_) | Err(StoreError::Conflict(_) | StoreError::Refused(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            self.queue_role_mail(&mut tx, m.structure_id, to_user, role).await?;
        }
        self.commit(tx).await?;
        Ok(changed)
    }

    /// Spaces opened on a structure (members may read them).
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id))]
    pub async fn structure_spaces(&self, actor: &Actor, structure_id: StructureId) -> AppResult<Vec<Space>> {
        self.require_member(actor, structure_id).await?;
        Ok(self.db().opened_spaces(structure_id).await?)
    }

    /// Opens a space on a structure (managers; idempotent).
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id))]
    pub async fn open_space(&self, actor: &Actor, structure_id: StructureId, space: Space) -> AppResult<()> {
        self.require_manager(actor, structure_id).await?;
        self.db().open_space(structure_id, space, store_actor(actor)).await?;
        Ok(())
    }

    /// The acting user subscribes to an opened space (or changes the mode of a subscription);
    /// approved at once when the space needs no validation or the user is a manager, pending
    /// otherwise.
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id))]
    pub async fn subscribe_space(
        &self,
        actor: &Actor,
        structure_id: StructureId,
        space: Space,
        mode: SpaceMode,
    ) -> AppResult<SubscriptionView> {
        let user = Self::require_user(actor)?;
        let access = self.require_member(actor, structure_id).await?;
        let status = if access.is_manager() || !space.subscription_needs_approval() {
            SubscriptionStatus::Approved
        } else {
            SubscriptionStatus::Pending
        };
        let sa = store_actor(actor);
        let rec = match self
            .db()
            .subscribe_space(user, structure_id, space, mode, status, sa)
            .await
        {
            Ok(r) => r,
            Err(StoreError::Refused(_)) => {
                return Err(AppError::Conflict(Conflict::SpaceNotOpen));
            }
            Err(StoreError::Conflict(_)) => {
                let existing = self
                    .db()
                    .subscriptions_of_user(user, Some(structure_id))
                    .await?
                    .into_iter()
                    .find(|s| s.space == space)
                    .ok_or(AppError::NotFound)?;
                if existing.mode == mode && existing.status != SubscriptionStatus::Refused {
                    existing
                } else {
                    self.db()
                        .update_subscription(existing.id, existing.status, mode, status, sa)
                        .await?
                }
            }
            Err(e) => return Err(e.into()),
        };
        self.subscription_view(rec).await
    }

    async fn subscription_view(&self, r: SubscriptionRecord) -> AppResult<SubscriptionView> {
        let u = self.db().user(r.user_id).await?.ok_or(AppError::NotFound)?;
        Ok(SubscriptionView {
            id: r.id,
            user_id: r.user_id,
            user_email: u.email.as_str().to_owned(),
            structure_id: r.structure_id,
            space: r.space,
            mode: r.mode,
            status: r.status,
            created_at: r.requested_at,
        })
    }

    /// The acting user's subscriptions in a structure.
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id))]
    pub async fn my_subscriptions(&self, actor: &Actor, structure_id: StructureId) -> AppResult<Vec<SubscriptionView>> {
        let user = Self::require_user(actor)?;
        self.require_member(actor, structure_id).await?;
        let mut out = Vec::new();
        for r in self.db().subscriptions_of_user(user, Some(structure_id)).await? {
            out.push(self.subscription_view(r).await?);
        }
        Ok(out)
    }

    /// Pending subscriptions of a structure (managers).
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id))]
    pub async fn pending_subscriptions(
        &self,
        actor: &Actor,
        structure_id: StructureId,
    ) -> AppResult<Vec<SubscriptionView>> {
        self.require_manager(actor, structure_id).await?;
        let mut out = Vec::new();
        for r in self
            .db()
            .subscriptions_of_structure(structure_id, Some(SubscriptionStatus::Pending))
            .await?
        {
            out.push(self.subscription_view(r).await?);
        }
        Ok(out)
    }

    /// Approves or refuses pending subscriptions of `structure_id` (an id that is not a pending
    /// subscription of this structure fails the whole call with `NotFound` before any change).
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id))]
    pub async fn decide_subscriptions(
        &self,
        actor: &Actor,
        structure_id: StructureId,
        ids: &[i64],
        approve: bool,
    ) -> AppResult<usize> {
        self.require_manager(actor, structure_id).await?;
        let pending = self
            .db()
            .subscriptions_of_structure(structure_id, Some(SubscriptionStatus::Pending))
            .await?;
        let wanted: HashSet<i64> = ids.iter().copied().collect();
        let chosen: Vec<&SubscriptionRecord> = pending.iter().filter(|s| wanted.contains(&s.id)).collect();
        if chosen.len() != wanted.len() {
            return Err(AppError::NotFound);
        }
        let s = self.load_structure(structure_id).await?;
        let sa = store_actor(actor);
        let status = if approve {
            SubscriptionStatus::Approved
        } else {
            SubscriptionStatus::Refused
        };
        let mut tx = self.db().begin().await?;
        for sub in &chosen {
            tx.update_subscription(sub.id, SubscriptionStatus::Pending, sub.mode, status, sa)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound(_) => AppError::NotFound,
                    e => e.into(),
                })?;
            if let Some(u) = self.db().user(sub.user_id).await? {
                let ctx = json!({
                    "structure": s.structure.display_name(), "space": sub.space.as_str(), "approved": approve,
                });
                self.queue_mail(&mut tx, u.email.as_str(), MailKind::SpaceSubscriptionDecision, &ctx)
                    .await?;
            }
        }
        self.commit(tx).await?;
        Ok(chosen.len())
    }

    /// The structure's audit log, newest first (managers).
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id))]
    pub async fn audit_log(&self, actor: &Actor, structure_id: StructureId, limit: u32) -> AppResult<Vec<AuditEntry>> {
        self.require_manager(actor, structure_id).await?;
        let rows = self.db().audit_log(Some(structure_id), limit.clamp(1, 1000), 0).await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                at: r.at,
                actor: r.actor,
                action: r.action.as_str().to_owned(),
                structure_id: r.structure_id,
                details: r.details,
            })
            .collect())
    }
}

/// Role names used in mails (French, as the portal shows them).
fn role_label(role: Role) -> &'static str {
    match role {
        Role::MainManager => "gestionnaire principal",
        Role::SecondaryManager => "gestionnaire secondaire",
        Role::SimpleUser => "utilisateur simple",
    }
}
