//! Pages of the signed-in user: home with the structure switcher, my account, my attachments,
//! attachment request, my space subscriptions.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::{CookieJar, Form};
use facteur_domain::{IdentifierKind, Space, SpaceMode, StructureId, StructureIdentifier, SubscriptionStatus};
use serde::Deserialize;

use super::ctx::{Ctx, Page, STRUCTURE_COOKIE, safe_next};
use super::forms::{Errors, field_error};
use crate::AppState;

#[derive(Deserialize)]
pub struct DoneQuery {
    pub done: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/home.html")]
struct HomePage {
    page: Page,
    notice: Option<&'static str>,
}

pub async fn home(ctx: Ctx, Query(q): Query<DoneQuery>) -> Response {
    let notice = q.done.map(|_| ctx.t().saved);
    ctx.render(&HomePage {
        page: ctx.page(),
        notice,
    })
}

#[derive(Deserialize)]
pub struct SwitchForm {
    structure: i64,
    next: Option<String>,
}

/// The structure switcher: the choice is kept in a cookie and re-checked on every request
/// (the use case refuses a structure the user is not approved in).
pub async fn switch(State(state): State<AppState>, ctx: Ctx, jar: CookieJar, Form(form): Form<SwitchForm>) -> Response {
    let me = match ctx.require_me() {
        Ok(me) => me,
        Err(resp) => return resp,
    };
    match state
        .app()
        .switch_structure(&me.actor, StructureId(form.structure))
        .await
    {
        Ok(m) => {
            let jar = jar.add(ctx.cookie(STRUCTURE_COOKIE, m.structure_id.0.to_string()));
            (jar, Redirect::to(&safe_next(form.next.as_deref()))).into_response()
        }
        Err(err) => ctx.app_error(&err),
    }
}

#[derive(Template)]
#[template(path = "portal/account.html")]
struct AccountPage {
    page: Page,
}

pub async fn account(ctx: Ctx) -> Response {
    if let Err(resp) = ctx.require_me() {
        return resp;
    }
    ctx.render(&AccountPage { page: ctx.page() })
}

#[derive(Template)]
#[template(path = "portal/attachments.html")]
struct AttachmentsPage {
    page: Page,
}

pub async fn attachments(ctx: Ctx) -> Response {
    if let Err(resp) = ctx.require_me() {
        return resp;
    }
    ctx.render(&AttachmentsPage { page: ctx.page() })
}

#[derive(Template)]
#[template(path = "portal/attach.html")]
struct AttachPage {
    page: Page,
    /// `(code, name)` of each identifier kind.
    kinds: Vec<(&'static str, &'static str)>,
    kind: String,
    identifier: String,
    errors: Errors,
    notice: Option<&'static str>,
}

pub async fn attach_form(ctx: Ctx, Query(q): Query<DoneQuery>) -> Response {
    if let Err(resp) = ctx.require_me() {
        return resp;
    }
    let notice = q.done.map(|_| ctx.t().attach_sent);
    ctx.render(&AttachPage {
        page: ctx.page(),
        kinds: ctx.lang.identifier_kinds(),
        kind: "SIRET".into(),
        identifier: String::new(),
        errors: Errors::default(),
        notice,
    })
}

#[derive(Deserialize)]
pub struct AttachForm {
    #[serde(default)]
    identifier_kind: String,
    #[serde(default)]
    identifier: String,
}

pub async fn attach_submit(State(state): State<AppState>, ctx: Ctx, Form(form): Form<AttachForm>) -> Response {
    let me = match ctx.require_me() {
        Ok(me) => me,
        Err(resp) => return resp,
    };
    let t = ctx.t();
    let kind = form.identifier_kind.parse::<IdentifierKind>().ok();
    let siret = kind == Some(IdentifierKind::Siret);
    let mut errors = Errors::default();
    let identifier = form.identifier.trim();
    match kind {
        _ if identifier.is_empty() => errors.add("identifier", t.err_required),
        Some(k) if StructureIdentifier::parse(k, identifier).is_ok() => {
            match state.app().request_attachment(&me.actor, k, identifier).await {
                Ok(_) => return ctx.see_other("/account/attach?done=1"),
                Err(facteur_app::AppError::NotFound) => errors.add("identifier", t.err_structure_unknown),
                Err(err) => match field_error(&err, t, siret) {
                    Some((field, message)) => errors.add(if field == "form" { "identifier" } else { field }, message),
                    None => return ctx.app_error(&err),
                },
            }
        }
        _ => errors.add(
            "identifier",
            if siret {
                t.err_siret_invalid
            } else {
                t.err_identifier_invalid
            },
        ),
    }
    ctx.render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &AttachPage {
            page: ctx.page(),
            kinds: ctx.lang.identifier_kinds(),
            kind: form.identifier_kind.clone(),
            identifier: identifier.to_owned(),
            errors,
            notice: None,
        },
    )
}

// --- my spaces ---------------------------------------------------------------------------------

pub struct MySpaceRow {
    pub code: &'static str,
    pub label: &'static str,
    pub state: &'static str,
    pub can_subscribe: bool,
}

#[derive(Template)]
#[template(path = "portal/my_spaces.html")]
struct MySpacesPage {
    page: Page,
    spaces: Vec<MySpaceRow>,
    notice: Option<&'static str>,
}

pub async fn my_spaces(State(state): State<AppState>, ctx: Ctx, Query(q): Query<DoneQuery>) -> Response {
    let me = match ctx.require_me() {
        Ok(me) => me,
        Err(resp) => return resp,
    };
    let t = ctx.t();
    let mut spaces = Vec::new();
    if let Some(structure) = me.current_structure() {
        let app = state.app();
        let opened = match app.structure_spaces(&me.actor, structure).await {
            Ok(v) => v,
            Err(err) => return ctx.app_error(&err),
        };
        let mine = match app.my_subscriptions(&me.actor, structure).await {
            Ok(v) => v,
            Err(err) => return ctx.app_error(&err),
        };
        for o in opened {
            let sub = mine.iter().find(|s| s.space == o);
            let state = match sub.map(|s| s.status) {
                Some(SubscriptionStatus::Approved) => match sub.map(|s| s.mode) {
                    Some(SpaceMode::Modification) => t.mode_modification,
                    _ => t.mode_consultation,
                },
                Some(SubscriptionStatus::Pending) => t.status_pending,
                Some(SubscriptionStatus::Refused) => t.status_refused,
                None => "—",
            };
            spaces.push(MySpaceRow {
                code: o.as_str(),
                label: ctx.lang.space(o),
                state,
                can_subscribe: !matches!(
                    sub.map(|s| s.status),
                    Some(SubscriptionStatus::Approved | SubscriptionStatus::Pending)
                ),
            });
        }
    }
    ctx.render(&MySpacesPage {
        page: ctx.page(),
        spaces,
        notice: q.done.map(|_| t.saved),
    })
}

#[derive(Deserialize)]
pub struct SubscribeForm {
    space: String,
    mode: String,
}

pub async fn subscribe(State(state): State<AppState>, ctx: Ctx, Form(form): Form<SubscribeForm>) -> Response {
    let me = match ctx.require_me() {
        Ok(me) => me,
        Err(resp) => return resp,
    };
    let Some(structure) = me.current_structure() else {
        return ctx.error(StatusCode::FORBIDDEN, ctx.t().error_forbidden);
    };
    let (Ok(space), Some(mode)) = (form.space.parse::<Space>(), parse_mode(&form.mode)) else {
        return ctx.error(StatusCode::UNPROCESSABLE_ENTITY, ctx.t().error_generic);
    };
    match state.app().subscribe_space(&me.actor, structure, space, mode).await {
        Ok(_) => ctx.see_other("/account/spaces?done=1"),
        Err(err) => ctx.app_error(&err),
    }
}

fn parse_mode(mode: &str) -> Option<SpaceMode> {
    match mode {
        "consultation" | "CONSULTATION" => Some(SpaceMode::Consultation),
        "modification" | "MODIFICATION" => Some(SpaceMode::Modification),
        _ => None,
    }
}
