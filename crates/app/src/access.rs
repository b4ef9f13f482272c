//! Authorisation checks shared by the use cases: who may read or change what on a structure.
//!
//! A caller outside the structure gets `NotFound` (the structure's members are not its business,
//! and the answer must not reveal more than a wrong id would); a member without the right role gets
//! `Forbidden`.

use facteur_domain::{MembershipStatus, Role, StructureId, UserId, UserStatus};
use facteur_store::{MembershipLine, MembershipRecord, StructureRecord};

use crate::{Actor, App, AppError, AppResult, MembershipView};

/// What the actor is to a structure once checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// The platform operator.
    Operator,
    /// An approved member with this role.
    Member(UserId, Role),
    /// The structure's own technical account.
    Technical,
}

impl Access {
    pub(crate) fn is_manager(self) -> bool {
        match self {
            Access::Operator => true,
            Access::Member(_, role) => role.is_manager(),
            Access::Technical => false,
        }
    }

    pub(crate) fn is_main_manager(self) -> bool {
        matches!(self, Access::Operator | Access::Member(_, Role::MainManager))
    }
}

/// The store's audit actor for an app actor (the operator is recorded as `SYSTEM`).
pub(crate) fn store_actor(actor: &Actor) -> facteur_store::Actor {
    match *actor {
        Actor::User(u) => facteur_store::Actor::User(u),
        Actor::Technical { account, .. } => facteur_store::Actor::Technical(account),
        Actor::Operator => facteur_store::Actor::Operator,
    }
}

impl App {
    pub(crate) fn db(&self) -> &facteur_store::Store {
        &self.inner.store
    }

    /// The structure, or `NotFound`.
    pub(crate) async fn load_structure(&self, id: StructureId) -> AppResult<StructureRecord> {
        self.db().structure(id).await?.ok_or(AppError::NotFound)
    }

    /// Checks the actor belongs to `structure` (approved membership, its own technical account, or
    /// the operator).
    pub(crate) async fn require_member(&self, actor: &Actor, structure: StructureId) -> AppResult<Access> {
        match *actor {
            Actor::Operator => {
                self.load_structure(structure).await?;
                Ok(Access::Operator)
            }
            Actor::Technical { structure: own, .. } if own == structure => Ok(Access::Technical),
            Actor::Technical { .. } => Err(AppError::NotFound),
            Actor::User(u) => match self.db().find_membership(u, structure).await? {
                Some(m) if m.status == MembershipStatus::Approved => Ok(Access::Member(u, m.role)),
                _ => Err(AppError::NotFound),
            },
        }
    }

    /// Checks the actor manages `structure` (main or secondary manager, or the operator).
    pub(crate) async fn require_manager(&self, actor: &Actor, structure: StructureId) -> AppResult<Access> {
        let access = self.require_member(actor, structure).await?;
        if access.is_manager() {
            Ok(access)
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Checks the actor is the main manager of `structure` (or the operator).
    pub(crate) async fn require_main_manager(&self, actor: &Actor, structure: StructureId) -> AppResult<Access> {
        let access = self.require_member(actor, structure).await?;
        if access.is_main_manager() {
            Ok(access)
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The acting portal user (technical accounts and the operator have no user account).
    pub(crate) fn require_user(actor: &Actor) -> AppResult<UserId> {
        match *actor {
            Actor::User(u) => Ok(u),
            _ => Err(AppError::Forbidden),
        }
    }

    /// The view of a membership read with its user and structure (no further query).
    pub(crate) fn line_view(l: MembershipLine) -> MembershipView {
        let m = l.membership;
        MembershipView {
            id: m.id,
            user_id: m.user_id,
            user_email: l.user_email.as_str().to_owned(),
            structure_id: m.structure_id,
            structure_identifier: l.structure_identifier,
            structure_name: l.structure_name,
            role: m.role,
            status: m.status,
            created_at: m.requested_at,
        }
    }

    /// Builds the view of a membership (user e-mail and structure name looked up).
    pub(crate) async fn membership_view(
        &self,
        m: &MembershipRecord,
        structure: Option<&StructureRecord>,
    ) -> AppResult<MembershipView> {
        let fetched;
        let s = match structure {
            Some(s) if s.id == m.structure_id => s,
            _ => {
                fetched = self.load_structure(m.structure_id).await?;
                &fetched
            }
        };
        let user = self.db().user(m.user_id).await?.ok_or(AppError::NotFound)?;
        Ok(MembershipView {
            id: m.id,
            user_id: m.user_id,
            user_email: user.email.as_str().to_owned(),
            structure_id: m.structure_id,
            structure_identifier: s.structure.identifier.clone(),
            structure_name: s.structure.display_name().to_owned(),
            role: m.role,
            status: m.status,
            created_at: m.requested_at,
        })
    }

    /// E-mail addresses of a structure's active managers.
    pub(crate) async fn manager_emails(&self, structure: StructureId) -> AppResult<Vec<String>> {
        Ok(self
            .db()
            .membership_lines_of_structure(structure, Some(MembershipStatus::Approved))
            .await?
            .into_iter()
            .filter(|l| l.membership.role.is_manager() && l.user_status == UserStatus::Active)
            .map(|l| l.user_email.as_str().to_owned())
            .collect())
    }

    /// Enqueues a mail on its own (for the mails that go with no change of state: account exists,
    /// resent links); a failure is logged, the caller's answer does not depend on it.
    pub(crate) async fn notify<C: serde::Serialize>(&self, to: &str, kind: crate::MailKind, ctx: &C) {
        let queued = async {
            let mut tx = self.db().begin().await.map_err(AppError::from)?;
            self.queue_mail(&mut tx, to, kind, ctx).await?;
            self.commit(tx).await
        };
        if let Err(e) = queued.await {
            tracing::warn!(error = %e, ?kind, "mail not queued");
        }
    }
}
