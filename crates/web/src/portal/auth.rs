//! Sign-up, activation, login/logout, password reset, language switch.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::Cookie;
use axum_extra::extract::{CookieJar, Form};
use facteur_app::{AppError, SignUp};
use facteur_domain::{Email, IdentifierKind, StructureIdentifier};
use serde::Deserialize;

use super::backend::log_unexpected;
use super::ctx::{Ctx, LANG_COOKIE, Page, SESSION_COOKIE, STRUCTURE_COOKIE, safe_next};
use super::forms::{Errors, field_error};
use super::i18n::Lang;
use crate::AppState;

// --- sign-up -----------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub identifier_kind: String,
    #[serde(default)]
    pub identifier: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Template)]
#[template(path = "portal/signup.html")]
struct SignUpPage {
    page: Page,
    form: SignUpForm,
    errors: Errors,
    /// `(code, name)` of each identifier kind.
    kinds: Vec<(&'static str, &'static str)>,
}

pub async fn signup_form(ctx: Ctx) -> Response {
    let form = SignUpForm {
        identifier_kind: "SIRET".into(),
        ..Default::default()
    };
    ctx.render(&SignUpPage {
        page: ctx.page(),
        form,
        errors: Errors::default(),
        kinds: ctx.lang.identifier_kinds(),
    })
}

/// Checks what can be checked without the database, so every field error shows at once.
fn check_signup(form: &SignUpForm, t: &'static super::i18n::Strings) -> (Errors, Option<IdentifierKind>) {
    let mut errors = Errors::default();
    if form.email.trim().is_empty() {
        errors.add("email", t.err_required);
    } else if Email::parse(&form.email).is_err() {
        errors.add("email", t.err_email_invalid);
    }
    if form.password.chars().count() < facteur_app::secrets::MIN_PASSWORD_LEN {
        errors.add("password", t.err_password_weak);
    }
    let kind = form.identifier_kind.parse::<IdentifierKind>().ok();
    match kind {
        None => errors.add("identifier", t.err_identifier_invalid),
        Some(_) if form.identifier.trim().is_empty() => errors.add("identifier", t.err_required),
        Some(k) => {
            if StructureIdentifier::parse(k, form.identifier.trim()).is_err() {
                errors.add(
                    "identifier",
                    if k == IdentifierKind::Siret {
                        t.err_siret_invalid
                    } else {
                        t.err_identifier_invalid
                    },
                );
            }
        }
    }
    // Always asked, so that the answer never tells whether the identifier is known.
    if form.name.trim().is_empty() {
        errors.add("name", t.err_required);
    }
    (errors, kind)
}

pub async fn signup_submit(State(state): State<AppState>, ctx: Ctx, Form(form): Form<SignUpForm>) -> Response {
    let t = ctx.t();
    let (mut errors, kind) = check_signup(&form, t);
    // The password is typed again only when it is what was wrong.
    let redisplay = |ctx: &Ctx, form: SignUpForm, errors: Errors| {
        let password = if errors.get("password").is_some() {
            String::new()
        } else {
            form.password
        };
        let status = if errors.get("form") == Some(t.error_rate_limited) {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let form = SignUpForm { password, ..form };
        ctx.render_status(
            status,
            &SignUpPage {
                page: ctx.page(),
                form,
                errors,
                kinds: ctx.lang.identifier_kinds(),
            },
        )
    };
    if errors.any() {
        return redisplay(&ctx, form, errors);
    }
    let request = SignUp {
        email: form.email.trim().to_owned(),
        password: form.password.clone(),
        identifier_kind: kind,
        identifier: form.identifier.trim().to_owned(),
        structure_name: Some(form.name.trim().to_owned()).filter(|n| !n.is_empty()),
    };
    // Every outcome gets the same answer (new structure, request to join one, address already
    // registered): the mail tells the address's owner which it was.
    match state.app().sign_up(request, &ctx.client_key).await {
        Ok(_) => ctx.see_other("/signup/sent"),
        Err(err) => {
            let siret = kind == Some(IdentifierKind::Siret);
            match field_error(&err, t, siret) {
                Some((field, message)) => {
                    let message = if field == "name" && !form.name.trim().is_empty() {
                        t.err_structure_name_invalid
                    } else {
                        message
                    };
                    errors.add(field, message);
                    redisplay(&ctx, form, errors)
                }
                None => ctx.app_error(&err),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "portal/message.html")]
pub struct MessagePage {
    pub page: Page,
    pub title: &'static str,
    pub paragraphs: Vec<&'static str>,
    pub tone: &'static str,
    pub show_resend: bool,
    pub link: Option<(&'static str, &'static str)>,
}

pub async fn signup_sent(ctx: Ctx) -> Response {
    let t = ctx.t();
    ctx.render(&MessagePage {
        page: ctx.page(),
        title: t.check_mail_title,
        paragraphs: vec![t.check_mail_body, t.check_mail_pending],
        tone: "info",
        show_resend: false,
        link: None,
    })
}

// --- activation --------------------------------------------------------------------------------

/// `GET /activer/{token}`: the link of the activation mail.
pub async fn activate(State(state): State<AppState>, ctx: Ctx, Path(token): Path<String>) -> Response {
    let t = ctx.t();
    let bad = |message: &'static str, status: StatusCode| {
        ctx.render_status(
            status,
            &MessagePage {
                page: ctx.page(),
                title: t.activation_bad_title,
                paragraphs: vec![message],
                tone: "error",
                show_resend: true,
                link: None,
            },
        )
    };
    match state.app().activate(&token).await {
        Ok(_) => ctx.render(&MessagePage {
            page: ctx.page(),
            title: t.activation_ok_title,
            paragraphs: vec![t.activation_ok_body],
            tone: "ok",
            show_resend: false,
            link: Some(("/login", t.login)),
        }),
        Err(AppError::TokenExpired | AppError::Conflict(_)) => bad(t.activation_expired, StatusCode::GONE),
        Err(AppError::NotFound | AppError::Unauthenticated | AppError::Invalid { .. }) => {
            bad(t.activation_invalid, StatusCode::NOT_FOUND)
        }
        Err(err) => ctx.app_error(&err),
    }
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

pub async fn resend_activation(State(state): State<AppState>, ctx: Ctx, Form(form): Form<EmailForm>) -> Response {
    let t = ctx.t();
    match state.app().resend_activation(form.email.trim(), &ctx.client_key).await {
        Ok(()) | Err(AppError::Invalid { .. }) => ctx.render(&MessagePage {
            page: ctx.page(),
            title: t.resend_link,
            paragraphs: vec![t.resend_done],
            tone: "ok",
            show_resend: false,
            link: None,
        }),
        Err(err) => ctx.app_error(&err),
    }
}

// --- login / logout ----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "portal/login.html")]
struct LoginPage {
    page: Page,
    email: String,
    /// Kept when something else than the password was wrong.
    password: String,
    next: String,
    errors: Errors,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    done: Option<String>,
}

pub async fn login_form(ctx: Ctx, Query(q): Query<LoginQuery>) -> Response {
    let t = ctx.t();
    let notice = match q.done.as_deref() {
        Some("logout") => Some(t.logged_out),
        Some("reset") => Some(t.reset_done),
        _ => None,
    };
    ctx.render(&LoginPage {
        page: ctx.page(),
        email: String::new(),
        password: String::new(),
        next: safe_next(q.next.as_deref()),
        errors: Errors::default(),
        notice,
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn login_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let t = ctx.t();
    let next = safe_next(form.next.as_deref());
    let mut errors = Errors::default();
    if form.email.trim().is_empty() {
        errors.add("email", t.err_required);
    }
    if form.password.is_empty() {
        errors.add("password", t.err_required);
    }
    if !errors.any() {
        match state
            .app()
            .login(form.email.trim(), &form.password, &ctx.client_key)
            .await
        {
            Ok(session) => {
                if let Some(old) = &ctx.session {
                    let _ = state.app().logout(old).await;
                }
                let jar = jar
                    .add(ctx.cookie(SESSION_COOKIE, session.token))
                    .remove(Cookie::build(STRUCTURE_COOKIE).path("/"));
                return ctx.finish((jar, Redirect::to(&next)).into_response());
            }
            Err(err) => match field_error(&err, t, false) {
                Some((field, message)) => errors.add(field, message),
                None => return ctx.app_error(&err),
            },
        }
    }
    let status = if errors.get("form") == Some(t.error_rate_limited) {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let password = if errors.get("password").is_some() || errors.get("form") == Some(t.err_login_failed) {
        String::new()
    } else {
        form.password
    };
    ctx.render_status(
        status,
        &LoginPage {
            page: ctx.page(),
            email: form.email.trim().to_owned(),
            password,
            next,
            errors,
            notice: None,
        },
    )
}

pub async fn logout(State(state): State<AppState>, ctx: Ctx, jar: CookieJar) -> Response {
    if let Some(token) = &ctx.session
        && let Err(err) = state.app().logout(token).await
    {
        log_unexpected(&err);
    }
    let jar = jar
        .remove(Cookie::build(SESSION_COOKIE).path("/"))
        .remove(Cookie::build(STRUCTURE_COOKIE).path("/"));
    (jar, Redirect::to("/login?done=logout")).into_response()
}

// --- password reset ----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "portal/forgot.html")]
struct ForgotPage {
    page: Page,
    email: String,
    errors: Errors,
}

pub async fn forgot_form(ctx: Ctx) -> Response {
    ctx.render(&ForgotPage {
        page: ctx.page(),
        email: String::new(),
        errors: Errors::default(),
    })
}

pub async fn forgot_submit(State(state): State<AppState>, ctx: Ctx, Form(form): Form<EmailForm>) -> Response {
    let t = ctx.t();
    if Email::parse(&form.email).is_err() {
        return ctx.render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ForgotPage {
                page: ctx.page(),
                email: form.email,
                errors: Errors::one("email", t.err_email_invalid),
            },
        );
    }
    match state
        .app()
        .request_password_reset(form.email.trim(), &ctx.client_key)
        .await
    {
        Ok(()) => ctx.render(&MessagePage {
            page: ctx.page(),
            title: t.reset_title,
            paragraphs: vec![t.reset_sent],
            tone: "ok",
            show_resend: false,
            link: None,
        }),
        Err(err) => ctx.app_error(&err),
    }
}

#[derive(Template)]
#[template(path = "portal/reset.html")]
struct ResetPage {
    page: Page,
    token: String,
    password: String,
    errors: Errors,
}

/// `GET /mot-de-passe/reinitialiser/{token}`: the link of the reset mail. A dead link (used,
/// expired or unknown) says so at once, like activation, instead of after the form is filled in.
pub async fn reset_form(State(state): State<AppState>, ctx: Ctx, Path(token): Path<String>) -> Response {
    let t = ctx.t();
    match state.app().password_reset_usable(&token).await {
        Ok(true) => ctx.render(&ResetPage {
            page: ctx.page(),
            token,
            password: String::new(),
            errors: Errors::default(),
        }),
        Ok(false) => ctx.render_status(
            StatusCode::GONE,
            &MessagePage {
                page: ctx.page(),
                title: t.reset_bad_title,
                paragraphs: vec![t.reset_bad_token],
                tone: "error",
                show_resend: false,
                link: Some(("/password/forgot", t.reset_title)),
            },
        ),
        Err(err) => ctx.app_error(&err),
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn reset_submit(State(state): State<AppState>, ctx: Ctx, Form(form): Form<ResetForm>) -> Response {
    let t = ctx.t();
    let mut errors = Errors::default();
    if form.password.chars().count() < facteur_app::secrets::MIN_PASSWORD_LEN {
        errors.add("password", t.err_password_weak);
    } else if form.password != form.confirm {
        errors.add("confirm", t.err_password_mismatch);
    }
    if !errors.any() {
        match state.app().reset_password(&form.token, &form.password).await {
            Ok(()) => return ctx.see_other("/login?done=reset"),
            Err(AppError::TokenExpired | AppError::NotFound | AppError::Unauthenticated) => {
                errors.add("token", t.reset_bad_token)
            }
            Err(err) => match field_error(&err, t, false) {
                Some((field, message)) => errors.add(field, message),
                None => return ctx.app_error(&err),
            },
        }
    }
    let password = if errors.get("password").is_some() {
        String::new()
    } else {
        form.password
    };
    ctx.render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &ResetPage {
            page: ctx.page(),
            token: form.token,
            password,
            errors,
        },
    )
}

// --- language ----------------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /lang/{code}?next=/path`: remembers the choice for a year and goes back.
pub async fn set_lang(ctx: Ctx, jar: CookieJar, Path(code): Path<String>, Query(q): Query<NextQuery>) -> Response {
    let next = safe_next(q.next.as_deref());
    let Some(lang) = Lang::from_code(&code) else {
        return ctx.error(StatusCode::NOT_FOUND, ctx.t().error_not_found);
    };
    let mut cookie = ctx.cookie(LANG_COOKIE, lang.code().to_owned());
    cookie.set_max_age(time::Duration::days(365));
    (jar.add(cookie), Redirect::to(&next)).into_response()
}
