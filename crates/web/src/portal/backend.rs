//! The portal's view of the signed-in user, built from the use-case layer ([`facteur_app::App`])
//! once per request, plus the mapping from use-case errors to what a page says.
use facteur_app::{Actor, AppError, MembershipView};
use facteur_domain::{MembershipStatus, Role, StructureId};

use super::i18n::Strings;
use crate::AppState;

/// The signed-in user and every attachment they have (any status).
#[derive(Clone, Debug)]
pub struct Me {
    pub actor: Actor,
    pub email: String,
    pub memberships: Vec<Membership>,
    current: Option<i64>,
}

/// One of the user's attachments, as pages show it.
#[derive(Clone, Debug)]
pub struct Membership {
    pub structure_id: i64,
    pub identifier: String,
    pub name: String,
    pub role: RoleView,
    pub status: StatusView,
}

impl From<&MembershipView> for Membership {
    fn from(m: &MembershipView) -> Self {
        Membership {
            structure_id: m.structure_id.0,
            identifier: m.structure_identifier.value().to_owned(),
            name: m.structure_name.clone(),
            role: RoleView(m.role),
            status: StatusView(m.status),
        }
    }
}

impl Me {
    /// Approved attachments: the structures the user may switch to.
    pub fn approved(&self) -> Vec<&Membership> {
        self.memberships.iter().filter(|m| m.status.is_approved()).collect()
    }
    /// Whether `id` is the active structure (takes a reference or a value: templates pass either).
    pub fn is_current(&self, id: impl std::borrow::Borrow<i64>) -> bool {
        self.current == Some(*id.borrow())
    }
    pub fn current(&self) -> Option<&Membership> {
        let id = self.current?;
        self.memberships.iter().find(|m| m.structure_id == id)
    }
    pub fn manages_current(&self) -> bool {
        self.current().is_some_and(|m| m.role.is_manager())
    }
    /// The active structure, which the user must have an approved attachment to.
    pub fn current_structure(&self) -> Option<StructureId> {
        self.current.map(StructureId)
    }
}

/// A role with its label in the page's language.
#[derive(Clone, Copy, Debug)]
pub struct RoleView(pub Role);

impl RoleView {
    pub fn label(&self, t: &Strings) -> &'static str {
        match self.0 {
            Role::MainManager => t.role_main,
            Role::SecondaryManager => t.role_secondary,
            Role::SimpleUser => t.role_user,
        }
    }
    pub fn is_manager(&self) -> bool {
        self.0.is_manager()
    }
    pub fn is_main(&self) -> bool {
        self.0 == Role::MainManager
    }
}

/// An attachment status with its label in the page's language.
#[derive(Clone, Copy, Debug)]
pub struct StatusView(pub MembershipStatus);

impl StatusView {
    pub fn label(&self, t: &Strings) -> &'static str {
        match self.0 {
            MembershipStatus::Pending => t.status_pending,
            MembershipStatus::Approved => t.status_approved,
            MembershipStatus::Refused => t.status_refused,
            MembershipStatus::Detached => t.status_detached,
        }
    }
    pub fn is_approved(&self) -> bool {
        self.0 == MembershipStatus::Approved
    }
}

/// Resolves a session cookie into the signed-in user; `None` when the session is unknown or
/// expired (the page then behaves as signed out). `wanted` is the structure chosen with the
/// switcher; it is honoured only if the user has an approved attachment to it.
pub async fn me(state: &AppState, token: &str, wanted: Option<i64>) -> Option<Me> {
    // Two queries per request whatever the number of attachments (see `App::session_context`).
    let (actor, user, memberships) = match state.app().session_context(token).await {
        Ok(ctx) => ctx,
        Err(AppError::Unauthenticated) => return None,
        Err(err) => {
            log_unexpected(&err);
            return None;
        }
    };
    let memberships: Vec<Membership> = memberships.iter().map(Membership::from).collect();
    let approved = |id: i64| {
        memberships
            .iter()
            .any(|m| m.structure_id == id && m.status.is_approved())
    };
    let current = wanted.filter(|id| approved(*id)).or_else(|| {
        memberships
            .iter()
            .find(|m| m.status.is_approved())
            .map(|m| m.structure_id)
    });
    Some(Me {
        actor,
        email: user.email,
        memberships,
        current,
    })
}

/// Cookies get `Secure` when the public base URL is https.
pub fn https(state: &AppState) -> bool {
    state.app().config().base_url.starts_with("https://")
}

/// Logs errors that are the platform's fault (never shown in detail to the user).
pub fn log_unexpected(err: &AppError) {
    if matches!(
        err,
        AppError::Store(_) | AppError::Mail(_) | AppError::Internal(_) | AppError::Csv { .. }
    ) {
        tracing::error!(error = %err, "portal: use case failed");
    }
}
