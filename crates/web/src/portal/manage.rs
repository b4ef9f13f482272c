//! Manager pages of the active structure: attachment requests, members, spaces, technical
//! account. Every handler first checks the user manages the active structure; the use cases check
//! again (and own the real rule), so a forged form for another structure is refused twice.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::Form;
use facteur_app::{AppError, TechnicalAccountView, TechnicalCredentials};
use facteur_domain::{MembershipId, Role, Space, SpaceMode, UserId};
use serde::Deserialize;

use super::account::DoneQuery;
use super::backend::{RoleView, StatusView};
use super::ctx::{Ctx, Page};
use super::forms::{Errors, field_error};
use crate::AppState;

macro_rules! manager {
    ($ctx:expr) => {
        match $ctx.require_manager() {
            Ok((me, structure)) => (me, facteur_domain::StructureId(structure)),
            Err(resp) => return resp,
        }
    };
}

fn date(at: time::OffsetDateTime) -> String {
    let d = at.date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

// --- attachment requests -----------------------------------------------------------------------

pub struct RequestRow {
    pub id: i64,
    pub email: String,
    pub date: String,
}

#[derive(Template)]
#[template(path = "portal/requests.html")]
struct RequestsPage {
    page: Page,
    rows: Vec<RequestRow>,
    notice: Option<&'static str>,
}

pub async fn requests(State(state): State<AppState>, ctx: Ctx, Query(q): Query<DoneQuery>) -> Response {
    let (me, structure) = manager!(ctx);
    let rows = match state.app().pending_attachments(&me.actor, structure).await {
        Ok(list) => list
            .into_iter()
            .map(|m| RequestRow {
                id: m.id.0,
                email: m.user_email,
                date: date(m.created_at),
            })
            .collect(),
        Err(err) => return ctx.app_error(&err),
    };
    ctx.render(&RequestsPage {
        page: ctx.page(),
        rows,
        notice: q.done.map(|_| ctx.t().saved),
    })
}

/// One form serves both the per-row buttons (`one=approve:ID`) and the bulk buttons
/// (`bulk=approve` with the ticked `ids`).
#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    ids: Vec<i64>,
    one: Option<String>,
    bulk: Option<String>,
}

fn decision(form: &DecideForm) -> Option<(bool, Vec<i64>)> {
    if let Some(one) = &form.one {
        let (verb, id) = one.split_once(':')?;
        let id = id.parse().ok()?;
        return Some((verb == "approve", vec![id])).filter(|_| matches!(verb, "approve" | "refuse"));
    }
    match form.bulk.as_deref() {
        Some("approve") => Some((true, form.ids.clone())),
        Some("refuse") => Some((false, form.ids.clone())),
        _ => None,
    }
}

pub async fn decide_requests(State(state): State<AppState>, ctx: Ctx, Form(form): Form<DecideForm>) -> Response {
    let (me, structure) = manager!(ctx);
    let Some((approve, ids)) = decision(&form) else {
        return ctx.error(StatusCode::UNPROCESSABLE_ENTITY, ctx.t().error_generic);
    };
    if ids.is_empty() {
        return ctx.see_other("/manage/requests");
    }
    let ids: Vec<MembershipId> = ids.into_iter().map(MembershipId).collect();
    match state
        .app()
        .decide_attachments(&me.actor, structure, &ids, approve)
        .await
    {
        Ok(_) => ctx.see_other("/manage/requests?done=1"),
        Err(err) => ctx.app_error(&err),
    }
}

// --- members -----------------------------------------------------------------------------------

pub struct MemberRow {
    pub user_id: i64,
    pub email: String,
    pub role: RoleView,
    pub status: StatusView,
}

#[derive(Template)]
#[template(path = "portal/members.html")]
struct MembersPage {
    page: Page,
    rows: Vec<MemberRow>,
    is_main: bool,
    email: String,
    errors: Errors,
    notice: Option<&'static str>,
}

async fn members_page(
    state: &AppState,
    ctx: &Ctx,
    email: String,
    errors: Errors,
    notice: Option<&'static str>,
) -> Response {
    let (me, structure) = manager!(ctx);
    let rows = match state.app().members(&me.actor, structure).await {
        Ok(list) => list
            .into_iter()
            .map(|m| MemberRow {
                user_id: m.user_id.0,
                email: m.user_email,
                role: RoleView(m.role),
                status: StatusView(m.status),
            })
            .collect(),
        Err(err) => return ctx.app_error(&err),
    };
    let is_main = me.current().is_some_and(|m| m.role.is_main());
    let status = if errors.any() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    ctx.render_status(
        status,
        &MembersPage {
            page: ctx.page(),
            rows,
            is_main,
            email,
            errors,
            notice,
        },
    )
}

pub async fn members(State(state): State<AppState>, ctx: Ctx, Query(q): Query<DoneQuery>) -> Response {
    let notice = q.done.map(|_| ctx.t().saved);
    members_page(&state, &ctx, String::new(), Errors::default(), notice).await
}

#[derive(Deserialize)]
pub struct MemberAction {
    user: i64,
    action: String,
}

pub async fn member_action(State(state): State<AppState>, ctx: Ctx, Form(form): Form<MemberAction>) -> Response {
    let (me, structure) = manager!(ctx);
    let app = state.app();
    let user = UserId(form.user);
    let result = match form.action.as_str() {
        "promote" => app.set_role(&me.actor, structure, user, Role::SecondaryManager).await,
        "demote" => app.set_role(&me.actor, structure, user, Role::SimpleUser).await,
        "transfer" => app.transfer_main_manager(&me.actor, structure, user).await,
        "detach" => app.detach_user(&me.actor, structure, user).await,
        _ => Err(AppError::invalid("action", "unknown action")),
    };
    match result {
        Ok(()) => ctx.see_other("/manage/members?done=1"),
        Err(err) => ctx.app_error(&err),
    }
}

#[derive(Deserialize)]
pub struct AttachUserForm {
    #[serde(default)]
    email: String,
}

pub async fn attach_user(State(state): State<AppState>, ctx: Ctx, Form(form): Form<AttachUserForm>) -> Response {
    let (me, structure) = manager!(ctx);
    let t = ctx.t();
    let email = form.email.trim().to_owned();
    let errors = if email.is_empty() {
        Errors::one("email", t.err_required)
    } else {
        match state
            .app()
            .attach_user(&me.actor, structure, &email, Role::SimpleUser)
            .await
        {
            Ok(_) => return ctx.see_other("/manage/members?done=1"),
            Err(AppError::NotFound) => Errors::one("email", t.err_user_unknown),
            Err(err) => match field_error(&err, t, false) {
                Some((_, message)) => Errors::one("email", message),
                None => return ctx.app_error(&err),
            },
        }
    };
    members_page(&state, &ctx, email, errors, None).await
}

#[derive(Deserialize)]
pub struct DuplicateForm {
    from: i64,
    to: i64,
}

pub async fn duplicate(State(state): State<AppState>, ctx: Ctx, Form(form): Form<DuplicateForm>) -> Response {
    let (me, _structure) = manager!(ctx);
    match state
        .app()
        .duplicate_rights(&me.actor, UserId(form.from), UserId(form.to))
        .await
    {
        Ok(_) => ctx.see_other("/manage/members?done=1"),
        Err(err) => ctx.app_error(&err),
    }
}

// --- spaces ------------------------------------------------------------------------------------

pub struct SpaceRow {
    pub code: &'static str,
    pub label: &'static str,
    pub open: bool,
}

pub struct SubRow {
    pub id: i64,
    pub email: String,
    pub space: &'static str,
    pub mode: &'static str,
}

#[derive(Template)]
#[template(path = "portal/spaces.html")]
struct SpacesPage {
    page: Page,
    spaces: Vec<SpaceRow>,
    subs: Vec<SubRow>,
    notice: Option<&'static str>,
}

pub async fn spaces(State(state): State<AppState>, ctx: Ctx, Query(q): Query<DoneQuery>) -> Response {
    let (me, structure) = manager!(ctx);
    let app = state.app();
    let t = ctx.t();
    let opened = match app.structure_spaces(&me.actor, structure).await {
        Ok(v) => v,
        Err(err) => return ctx.app_error(&err),
    };
    let pending = match app.pending_subscriptions(&me.actor, structure).await {
        Ok(v) => v,
        Err(err) => return ctx.app_error(&err),
    };
    let spaces = Space::ALL
        .iter()
        .map(|s| SpaceRow {
            code: s.as_str(),
            label: ctx.lang.space(*s),
            open: opened.contains(s),
        })
        .collect();
    let subs = pending
        .into_iter()
        .map(|s| SubRow {
            id: s.id,
            email: s.user_email,
            space: ctx.lang.space(s.space),
            mode: match s.mode {
                SpaceMode::Consultation => t.mode_consultation,
                SpaceMode::Modification => t.mode_modification,
            },
        })
        .collect();
    ctx.render(&SpacesPage {
        page: ctx.page(),
        spaces,
        subs,
        notice: q.done.map(|_| t.saved),
    })
}

#[derive(Deserialize)]
pub struct OpenSpaceForm {
    space: String,
}

pub async fn open_space(State(state): State<AppState>, ctx: Ctx, Form(form): Form<OpenSpaceForm>) -> Response {
    let (me, structure) = manager!(ctx);
    let Ok(space) = form.space.parse::<Space>() else {
        return ctx.error(StatusCode::UNPROCESSABLE_ENTITY, ctx.t().error_generic);
    };
    match state.app().open_space(&me.actor, structure, space).await {
        Ok(()) => ctx.see_other("/manage/spaces?done=1"),
        Err(err) => ctx.app_error(&err),
    }
}

#[derive(Deserialize)]
pub struct DecideSubForm {
    id: i64,
    decision: String,
}

pub async fn decide_subscription(State(state): State<AppState>, ctx: Ctx, Form(form): Form<DecideSubForm>) -> Response {
    let (me, structure) = manager!(ctx);
    let approve = match form.decision.as_str() {
        "approve" => true,
        "refuse" => false,
        _ => return ctx.error(StatusCode::UNPROCESSABLE_ENTITY, ctx.t().error_generic),
    };
    match state
        .app()
        .decide_subscriptions(&me.actor, structure, &[form.id], approve)
        .await
    {
        Ok(_) => ctx.see_other("/manage/spaces?done=1"),
        Err(err) => ctx.app_error(&err),
    }
}

// --- technical account -------------------------------------------------------------------------

pub struct AccountRow {
    pub login: String,
    pub client_id: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "portal/technical.html")]
struct TechnicalPage {
    page: Page,
    account: Option<AccountRow>,
    secrets: Option<TechnicalCredentials>,
    is_main: bool,
}

fn account_row(a: TechnicalAccountView) -> AccountRow {
    AccountRow {
        login: a.login,
        client_id: a.client_id,
        expires: date(a.password_expires_at),
    }
}

pub async fn technical(State(state): State<AppState>, ctx: Ctx) -> Response {
    let (me, structure) = manager!(ctx);
    let account = match state.app().technical_account(&me.actor, structure).await {
        Ok(a) => a.map(account_row),
        Err(err) => return ctx.app_error(&err),
    };
    let is_main = me.current().is_some_and(|m| m.role.is_main());
    ctx.render(&TechnicalPage {
        page: ctx.page(),
        account,
        secrets: None,
        is_main,
    })
}

/// Creates or resets the technical account; the secrets are shown on this one answer only.
pub async fn technical_reset(State(state): State<AppState>, ctx: Ctx) -> Response {
    let (me, structure) = manager!(ctx);
    let app = state.app();
    let secrets = match app.create_technical_account(&me.actor, structure).await {
        Ok(s) => s,
        Err(err) => return ctx.app_error(&err),
    };
    let account = match app.technical_account(&me.actor, structure).await {
        Ok(a) => a.map(account_row),
        Err(err) => return ctx.app_error(&err),
    };
    let mut resp = ctx.render(&TechnicalPage {
        page: ctx.page(),
        account,
        secrets: Some(secrets),
        is_main: true,
    });
    // Secrets in the page: never cache it.
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(one: Option<&str>, bulk: Option<&str>, ids: Vec<i64>) -> DecideForm {
        DecideForm {
            ids,
            one: one.map(Into::into),
            bulk: bulk.map(Into::into),
        }
    }

    #[test]
    fn row_buttons_win_over_the_ticked_boxes() {
        assert_eq!(
            decision(&form(Some("refuse:7"), None, vec![1, 2])),
            Some((false, vec![7]))
        );
        assert_eq!(decision(&form(Some("approve:3"), None, vec![])), Some((true, vec![3])));
        assert_eq!(
            decision(&form(None, Some("approve"), vec![1, 2])),
            Some((true, vec![1, 2]))
        );
        assert_eq!(decision(&form(Some("delete:3"), None, vec![])), None);
        assert_eq!(decision(&form(Some("approve:x"), None, vec![])), None);
        assert_eq!(decision(&form(None, None, vec![1])), None);
    }
}
