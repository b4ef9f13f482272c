//! Manager pages of the active structure: attachment requests, members, spaces, technical
//! account. Every handler first checks the user manages the active structure; the use cases check
//! again (and own the real rule), so a forged form for another structure is refused twice.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::{CookieJar, Form};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use facteur_app::{AppError, TechnicalAccountView, TechnicalCredentials};
use facteur_domain::{MembershipId, Role, Space, SpaceMode, UserId};
use serde::{Deserialize, Serialize};

use super::account::DoneQuery;
use super::backend::{RoleView, StatusView};
use super::ctx::{Confirm, Ctx, Page, confirmed};
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
                date: ctx.lang.date(m.created_at.date()),
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
    confirm: Option<String>,
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
    if !approve && !confirmed(form.confirm.as_deref()) {
        let t = ctx.t();
        let subjects = match state.app().pending_attachments(&me.actor, structure).await {
            Ok(list) => list
                .into_iter()
                .filter(|m| ids.contains(&m.id.0))
                .map(|m| m.user_email)
                .collect(),
            Err(err) => return ctx.app_error(&err),
        };
        let mut fields = Vec::new();
        match &form.one {
            Some(one) => fields.push(("one", one.clone())),
            None => {
                fields.push(("bulk", "refuse".to_owned()));
                fields.extend(ids.iter().map(|id| ("ids", id.to_string())));
            }
        }
        return ctx.confirm(Confirm {
            title: t.confirm_refuse_title,
            body: t.confirm_refuse_body,
            subjects,
            action: "/manage/requests",
            fields,
            button: t.refuse,
            cancel: "/manage/requests",
        });
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
    /// The services the member is attached to, by name (empty: all of them).
    pub services: Vec<String>,
}

/// A service a member can be attached to: its id, its code and name, whether the member chosen
/// in the form is attached to it.
pub struct ServiceChoice {
    pub id: i64,
    pub label: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "portal/members.html")]
struct MembersPage {
    page: Page,
    rows: Vec<MemberRow>,
    is_main: bool,
    email: String,
    /// Approved users, the only ones whose rights can be duplicated, as `(id, e-mail)`.
    approved: Vec<(i64, String)>,
    dup: Duplicate,
    /// The member chosen in the services form, and the structure's services.
    services_user: i64,
    services: Vec<ServiceChoice>,
    errors: Errors,
    notice: Option<&'static str>,
}

/// The choices of the "duplicate rights" form (as submitted, or the defaults).
#[derive(Clone, Copy, Default)]
struct Duplicate {
    from: Option<i64>,
    to: Option<i64>,
}

impl Duplicate {
    /// Two different people by default: the first approved user (often the manager, whose rights
    /// are the ones worth copying) onto the newest one. Submitted choices are kept as they were.
    fn or_defaults(self, approved: &[(i64, String)]) -> (i64, i64) {
        let from = self.from.or(approved.first().map(|a| a.0)).unwrap_or_default();
        let to = self
            .to
            .or(approved.iter().rev().map(|a| a.0).find(|id| *id != from))
            .unwrap_or_default();
        (from, to)
    }
}

async fn members_page(
    state: &AppState,
    ctx: &Ctx,
    email: String,
    dup: Duplicate,
    services_user: Option<i64>,
    errors: Errors,
    notice: Option<&'static str>,
) -> Response {
    let (me, structure) = manager!(ctx);
    let app = state.app();
    let (list, structure_services) =
        match tokio::try_join!(app.members(&me.actor, structure), app.services(&me.actor, structure)) {
            Ok(both) => both,
            Err(err) => return ctx.app_error(&err),
        };
    let mut rows = Vec::with_capacity(list.len());
    let mut attached: Vec<(i64, Vec<facteur_domain::ServiceId>)> = Vec::new();
    for m in list {
        let services = if m.status == facteur_domain::MembershipStatus::Approved {
            match app.member_services(&me.actor, structure, m.user_id).await {
                Ok(s) => s,
                Err(err) => return ctx.app_error(&err),
            }
        } else {
            Vec::new()
        };
        let names = structure_services
            .iter()
            .filter(|s| services.contains(&s.id))
            .map(|s| s.service.label.clone())
            .collect();
        attached.push((m.user_id.0, services));
        rows.push(MemberRow {
            user_id: m.user_id.0,
            email: m.user_email,
            role: RoleView(m.role),
            status: StatusView(m.status),
            services: names,
        });
    }
    let is_main = me.current().is_some_and(|m| m.role.is_main());
    let status = if errors.any() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let approved: Vec<(i64, String)> = rows
        .iter()
        .filter(|r: &&MemberRow| r.status.is_approved())
        .map(|r| (r.user_id, r.email.clone()))
        .collect();
    let (from, to) = dup.or_defaults(&approved);
    let services_user = services_user
        .or(approved.iter().rev().map(|a| a.0).next())
        .unwrap_or_default();
    let chosen = attached
        .iter()
        .find(|(u, _)| *u == services_user)
        .map(|(_, s)| s.as_slice())
        .unwrap_or_default();
    let services = structure_services
        .iter()
        .map(|s| ServiceChoice {
            id: s.id.0,
            label: format!("{} — {}", s.service.code.as_str(), s.service.label),
            checked: chosen.contains(&s.id),
        })
        .collect();
    ctx.render_status(
        status,
        &MembersPage {
            page: ctx.page(),
            rows,
            is_main,
            email,
            approved,
            dup: Duplicate {
                from: Some(from),
                to: Some(to),
            },
            services_user,
            services,
            errors,
            notice,
        },
    )
}

/// `?done=1` after a change; `?user=ID`: the member the services form shows.
#[derive(Deserialize)]
pub struct MembersQuery {
    done: Option<String>,
    user: Option<String>,
}

pub async fn members(State(state): State<AppState>, ctx: Ctx, Query(q): Query<MembersQuery>) -> Response {
    let notice = q.done.map(|_| ctx.t().saved);
    members_page(
        &state,
        &ctx,
        String::new(),
        Duplicate::default(),
        q.user.and_then(|u| u.trim().parse().ok()),
        Errors::default(),
        notice,
    )
    .await
}

/// The services form: the member (read as text, so a missing or forged value is a field error)
/// and the ticked services (none: the member sees every service's invoices).
#[derive(Deserialize)]
pub struct MemberServicesForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    services: Vec<i64>,
}

pub async fn member_services(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<MemberServicesForm>,
) -> Response {
    let (me, structure) = manager!(ctx);
    let t = ctx.t();
    let mut errors = Errors::default();
    let user = form.user.trim().parse::<i64>().ok();
    match user {
        None => errors.add("user", t.err_choose_user),
        Some(u) => {
            let services: Vec<facteur_domain::ServiceId> =
                form.services.iter().copied().map(facteur_domain::ServiceId).collect();
            match state
                .app()
                .set_member_services(&me.actor, structure, UserId(u), &services)
                .await
            {
                Ok(()) => return ctx.see_other(&format!("/manage/members?done=1&user={u}")),
                Err(AppError::NotFound) => errors.add("user", t.err_choose_user),
                Err(AppError::Invalid { .. }) => errors.add("services", t.err_member_services),
                Err(err) => return ctx.app_error(&err),
            }
        }
    }
    members_page(&state, &ctx, String::new(), Duplicate::default(), user, errors, None).await
}

#[derive(Deserialize)]
pub struct MemberAction {
    user: i64,
    action: String,
    confirm: Option<String>,
}

pub async fn member_action(State(state): State<AppState>, ctx: Ctx, Form(form): Form<MemberAction>) -> Response {
    let (me, structure) = manager!(ctx);
    let app = state.app();
    let user = UserId(form.user);
    let t = ctx.t();
    let question = match form.action.as_str() {
        "transfer" => Some((t.confirm_transfer_title, t.confirm_transfer_body, t.transfer_main)),
        "detach" => Some((t.confirm_detach_title, t.confirm_detach_body, t.detach)),
        _ => None,
    };
    if let Some((title, body, button)) = question
        && !confirmed(form.confirm.as_deref())
    {
        let email = match app.members(&me.actor, structure).await {
            Ok(list) => list.into_iter().find(|m| m.user_id == user).map(|m| m.user_email),
            Err(err) => return ctx.app_error(&err),
        };
        let Some(email) = email else {
            return ctx.app_error(&AppError::NotFound);
        };
        return ctx.confirm(Confirm {
            title,
            body,
            subjects: vec![email],
            action: "/manage/members/action",
            fields: vec![("user", form.user.to_string()), ("action", form.action.clone())],
            button,
            cancel: "/manage/members",
        });
    }
    let result = match form.action.as_str() {
        "promote" => app.set_role(&me.actor, structure, user, Role::SecondaryManager).await,
        "demote" => app.set_role(&me.actor, structure, user, Role::SimpleUser).await,
        "transfer" => app.transfer_main_manager(&me.actor, structure, user).await,
        "detach" => app.detach_user(&me.actor, structure, user).await,
        _ => Err(AppError::invalid("action", facteur_app::Problem::UnknownValue)),
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
    members_page(&state, &ctx, email, Duplicate::default(), None, errors, None).await
}

/// Both choices are read as text: a missing or forged value is a field error, not a bare 422.
#[derive(Deserialize)]
pub struct DuplicateForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

pub async fn duplicate(State(state): State<AppState>, ctx: Ctx, Form(form): Form<DuplicateForm>) -> Response {
    let (me, _structure) = manager!(ctx);
    let t = ctx.t();
    let dup = Duplicate {
        from: form.from.trim().parse().ok(),
        to: form.to.trim().parse().ok(),
    };
    let mut errors = Errors::default();
    match dup {
        Duplicate { from: None, .. } => errors.add("from", t.err_choose_user),
        Duplicate { to: None, .. } => errors.add("to", t.err_choose_user),
        Duplicate {
            from: Some(from),
            to: Some(to),
        } if from == to => errors.add("to", t.err_duplicate_same),
        Duplicate {
            from: Some(from),
            to: Some(to),
        } => match state.app().duplicate_rights(&me.actor, UserId(from), UserId(to)).await {
            Ok(_) => return ctx.see_other("/manage/members?done=1"),
            Err(AppError::NotFound) => errors.add("from", t.err_choose_user),
            Err(AppError::Invalid { .. }) => errors.add("to", t.err_duplicate_same),
            Err(err) => return ctx.app_error(&err),
        },
    }
    members_page(&state, &ctx, String::new(), dup, None, errors, None).await
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
    confirm: Option<String>,
}

pub async fn decide_subscription(State(state): State<AppState>, ctx: Ctx, Form(form): Form<DecideSubForm>) -> Response {
    let (me, structure) = manager!(ctx);
    let approve = match form.decision.as_str() {
        "approve" => true,
        "refuse" => false,
        _ => return ctx.error(StatusCode::UNPROCESSABLE_ENTITY, ctx.t().error_generic),
    };
    if !approve && !confirmed(form.confirm.as_deref()) {
        let t = ctx.t();
        let subjects = match state.app().pending_subscriptions(&me.actor, structure).await {
            Ok(list) => list
                .into_iter()
                .filter(|s| s.id == form.id)
                .map(|s| format!("{} — {}", s.user_email, ctx.lang.space(s.space)))
                .collect(),
            Err(err) => return ctx.app_error(&err),
        };
        return ctx.confirm(Confirm {
            title: t.confirm_refuse_sub_title,
            body: t.confirm_refuse_sub_body,
            subjects,
            action: "/manage/spaces/decide",
            fields: vec![("id", form.id.to_string()), ("decision", "refuse".to_owned())],
            button: t.refuse,
            cancel: "/manage/spaces",
        });
    }
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
//
// The new secrets are shown once, after a redirect (post/redirect/get): the POST puts them in a
// cookie that only `/manage/technical` receives, for two minutes at most, and the GET shows them
// and deletes the cookie at once. A reload therefore shows nothing new and creates nothing; it says
// the secrets were already shown. No server memory is involved, so any node can answer the GET.

/// Cookie carrying freshly created secrets from the POST to the one GET that shows them.
const SECRETS_COOKIE: &str = "facteur_secrets";
const SECRETS_PATH: &str = "/manage/technical";
/// How long the secrets may wait in the browser for their one display.
const SECRETS_TTL_SECS: i64 = 120;

/// The secrets in transit; `structure` and `at` stop them from showing for another structure or late.
#[derive(Serialize, Deserialize)]
struct FreshSecrets {
    structure: i64,
    at: i64,
    login: String,
    password: String,
    client_id: String,
    client_secret: String,
}

impl FreshSecrets {
    fn new(c: TechnicalCredentials, at: time::OffsetDateTime) -> Self {
        FreshSecrets {
            structure: c.structure_id.0,
            at: at.unix_timestamp(),
            login: c.login,
            password: c.password,
            client_id: c.client_id,
            client_secret: c.client_secret,
        }
    }

    fn encode(&self) -> Option<String> {
        serde_json::to_vec(self).ok().map(|json| URL_SAFE_NO_PAD.encode(json))
    }

    /// The secrets of the cookie if they are for `structure` and younger than the TTL.
    fn decode(value: &str, structure: i64, now: time::OffsetDateTime) -> Option<Self> {
        let json = URL_SAFE_NO_PAD.decode(value).ok()?;
        let fresh: FreshSecrets = serde_json::from_slice(&json).ok()?;
        let age = now.unix_timestamp() - fresh.at;
        (fresh.structure == structure && (0..=SECRETS_TTL_SECS).contains(&age)).then_some(fresh)
    }
}

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
    secrets: Option<FreshSecrets>,
    notice: Option<&'static str>,
    is_main: bool,
}

#[derive(Deserialize)]
pub struct TechnicalQuery {
    /// Set by the redirect after a creation or reset.
    new: Option<String>,
}

/// `GET /manage/technical`: the account, and the new secrets if they just arrived (once).
pub async fn technical(
    State(state): State<AppState>,
    ctx: Ctx,
    jar: CookieJar,
    Query(q): Query<TechnicalQuery>,
) -> Response {
    let (me, structure) = manager!(ctx);
    let account = match state.app().technical_account(&me.actor, structure).await {
        Ok(a) => a.map(|a: TechnicalAccountView| AccountRow {
            login: a.login,
            client_id: a.client_id,
            expires: ctx.lang.date(a.password_expires_at.date()),
        }),
        Err(err) => return ctx.app_error(&err),
    };
    let now = state.app().clock().now();
    let secrets = jar
        .get(SECRETS_COOKIE)
        .and_then(|c| FreshSecrets::decode(c.value(), structure.0, now));
    let notice = match (&secrets, q.new) {
        (None, Some(_)) => Some(ctx.t().technical_already_shown),
        _ => None,
    };
    let is_main = me.current().is_some_and(|m| m.role.is_main());
    let page = ctx.render(&TechnicalPage {
        page: ctx.page(),
        account,
        secrets,
        notice,
        is_main,
    });
    // The page may hold secrets: the security-headers layer sends it `no-store`.
    if jar.get(SECRETS_COOKIE).is_some() {
        let jar = jar.remove(Cookie::build(SECRETS_COOKIE).path(SECRETS_PATH));
        (jar, page).into_response()
    } else {
        page
    }
}

#[derive(Deserialize)]
pub struct TechnicalForm {
    confirm: Option<String>,
}

/// `POST /manage/technical`: creates the account, or resets its secrets once confirmed, then
/// redirects to the page that shows the new secrets once.
pub async fn technical_reset(
    State(state): State<AppState>,
    ctx: Ctx,
    jar: CookieJar,
    Form(form): Form<TechnicalForm>,
) -> Response {
    let (me, structure) = manager!(ctx);
    let app = state.app();
    let t = ctx.t();
    let exists = match app.technical_account(&me.actor, structure).await {
        Ok(a) => a.is_some(),
        Err(err) => return ctx.app_error(&err),
    };
    if exists && !confirmed(form.confirm.as_deref()) {
        return ctx.confirm(Confirm {
            title: t.confirm_reset_title,
            body: t.confirm_reset_body,
            subjects: Vec::new(),
            action: SECRETS_PATH,
            fields: vec![("action", "reset".to_owned())],
            button: t.technical_reset,
            cancel: SECRETS_PATH,
        });
    }
    let secrets = match app.create_technical_account(&me.actor, structure).await {
        Ok(s) => s,
        Err(err) => return ctx.app_error(&err),
    };
    let Some(value) = FreshSecrets::new(secrets, app.clock().now()).encode() else {
        return ctx.error(StatusCode::INTERNAL_SERVER_ERROR, t.error_generic);
    };
    let cookie = Cookie::build((SECRETS_COOKIE, value))
        .path(SECRETS_PATH)
        .http_only(true)
        .secure(ctx.secure)
        .same_site(SameSite::Strict)
        .max_age(time::Duration::seconds(SECRETS_TTL_SECS))
        .build();
    ctx.finish((jar.add(cookie), Redirect::to("/manage/technical?new=1")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(one: Option<&str>, bulk: Option<&str>, ids: Vec<i64>) -> DecideForm {
        DecideForm {
            ids,
            one: one.map(Into::into),
            bulk: bulk.map(Into::into),
            confirm: None,
        }
    }

    #[test]
    fn fresh_secrets_show_for_their_structure_within_two_minutes_only() {
        let at = time::macros::datetime!(2026-12-06 10:00 UTC);
        let fresh = FreshSecrets {
            structure: 7,
            at: at.unix_timestamp(),
            login: "tech-7".into(),
            password: "p".into(),
            client_id: "c".into(),
            client_secret: "s".into(),
        };
        let value = fresh.encode().unwrap_or_default();
        assert!(value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        let later = |s: i64| at + time::Duration::seconds(s);
        assert!(FreshSecrets::decode(&value, 7, later(119)).is_some());
        assert!(FreshSecrets::decode(&value, 7, later(121)).is_none(), "too late");
        assert!(FreshSecrets::decode(&value, 8, later(1)).is_none(), "another structure");
        assert!(FreshSecrets::decode("garbage", 7, later(1)).is_none());
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
