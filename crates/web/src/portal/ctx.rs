//! Per-request portal context: language, CSRF token, the signed-in user and their active
//! structure. Extracted once per handler so pages never re-derive it differently.
use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};

use facteur_app::AppError;

use super::backend::{self, Me};
use super::csrf;
use super::i18n::{Lang, Strings};
use crate::AppState;

pub const LANG_COOKIE: &str = "facteur_lang";
pub const SESSION_COOKIE: &str = "facteur_session";
pub const STRUCTURE_COOKIE: &str = "facteur_structure";

/// What every page template receives.
pub struct Page {
    pub t: &'static Strings,
    pub lang: &'static str,
    pub csrf: String,
    pub path: String,
    pub me: Option<Me>,
}

impl Page {
    /// `aria-current` value for a navigation link.
    pub fn current(&self, href: &str) -> &'static str {
        if self.path == href { "page" } else { "false" }
    }
    /// Whether the signed-in user manages the active structure.
    pub fn manager(&self) -> bool {
        self.me.as_ref().is_some_and(Me::manages_current)
    }
}

/// The request context of a portal handler.
pub struct Ctx {
    pub lang: Lang,
    /// The token forms carry (bound to the session when signed in, see [`csrf`]).
    pub csrf: String,
    /// The signed-out double-submit token kept in the CSRF cookie.
    cookie_token: String,
    csrf_is_new: bool,
    pub session: Option<String>,
    pub me: Option<Me>,
    pub path: String,
    pub secure: bool,
    /// Who is asking, for rate limits: the peer address when the server records it.
    pub client_key: String,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let lang = Lang::negotiate(jar.get(LANG_COOKIE).map(|c| c.value()), &parts.headers);
        let (cookie_token, csrf_is_new) = match jar.get(csrf::COOKIE) {
            Some(c) if !c.value().is_empty() => (c.value().to_owned(), false),
            _ => (csrf::new_token(), true),
        };
        let session = jar
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_owned())
            .filter(|s| !s.is_empty());
        let csrf = csrf::expected(session.as_deref(), Some(&cookie_token)).unwrap_or_else(|| cookie_token.clone());
        let wanted = jar.get(STRUCTURE_COOKIE).and_then(|c| c.value().parse::<i64>().ok());
        let me = match &session {
            Some(token) => backend::me(state, token, wanted).await,
            None => None,
        };
        let path = parts.uri.path().to_owned();
        let client_key =
            crate::client::client_ip(parts, state).map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        Ok(Ctx {
            lang,
            csrf,
            cookie_token,
            csrf_is_new,
            session,
            me,
            path,
            secure: backend::https(state),
            client_key,
        })
    }
}

impl Ctx {
    pub fn t(&self) -> &'static Strings {
        self.lang.t()
    }

    /// The context a template needs (cloned: templates own their data).
    pub fn page(&self) -> Page {
        Page {
            t: self.lang.t(),
            lang: self.lang.code(),
            csrf: self.csrf.clone(),
            path: self.path.clone(),
            me: self.me.clone(),
        }
    }

    /// The signed-in user, or a redirect to the login page that comes back here afterwards.
    #[allow(clippy::result_large_err, reason = "the error is the response handlers return as is")]
    pub fn require_me(&self) -> Result<&Me, Response> {
        self.me
            .as_ref()
            .ok_or_else(|| Redirect::to(&format!("/login?next={}", self.path)).into_response())
    }

    /// The signed-in user, who must manage the active structure; returns that structure's id.
    #[allow(clippy::result_large_err, reason = "the error is the response handlers return as is")]
    pub fn require_manager(&self) -> Result<(&Me, i64), Response> {
        let me = self.require_me()?;
        match me.current() {
            Some(m) if m.role.is_manager() => Ok((me, m.structure_id)),
            _ => Err(self.error(StatusCode::FORBIDDEN, self.t().err_not_manager)),
        }
    }

    /// Renders a template; sets the CSRF cookie if this visitor had none.
    pub fn render<T: Template>(&self, tpl: &T) -> Response {
        self.render_status(StatusCode::OK, tpl)
    }

    pub fn render_status<T: Template>(&self, status: StatusCode, tpl: &T) -> Response {
        match tpl.render() {
            Ok(html) => self.finish((status, Html(html)).into_response()),
            Err(err) => {
                tracing::error!(error = %err, "portal template failed");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }

    /// An error page in the user's language.
    pub fn error(&self, status: StatusCode, message: &'static str) -> Response {
        self.error_titled(status, self.t().error_title, message)
    }

    /// An error page with its own title (e.g. "Page not found").
    pub fn error_titled(&self, status: StatusCode, title: &'static str, message: &'static str) -> Response {
        self.render_status(
            status,
            &ErrorPage {
                page: self.page(),
                title,
                message,
            },
        )
    }

    /// The confirmation step of a destructive action: a page repeating the form with
    /// `confirm=yes`, so it works without JavaScript and a stray click changes nothing.
    pub fn confirm(&self, confirm: Confirm) -> Response {
        self.render(&ConfirmPage {
            page: self.page(),
            c: confirm,
        })
    }

    /// The page for a use-case refusal that is not about a form field.
    pub fn app_error(&self, err: &AppError) -> Response {
        let t = self.t();
        match err {
            AppError::Forbidden => self.error(StatusCode::FORBIDDEN, t.error_forbidden),
            AppError::NotFound => self.error(StatusCode::NOT_FOUND, t.error_not_found),
            AppError::RateLimited { .. } => self.error(StatusCode::TOO_MANY_REQUESTS, t.error_rate_limited),
            AppError::Unauthenticated => Redirect::to(&format!("/login?next={}", self.path)).into_response(),
            AppError::NotActivated => self.error(StatusCode::FORBIDDEN, t.err_account_inactive),
            AppError::TokenExpired => self.error(StatusCode::GONE, t.reset_bad_token),
            AppError::Conflict(kind) => self.error(StatusCode::CONFLICT, super::forms::conflict_message(*kind, t)),
            AppError::Invalid { .. } => self.error(StatusCode::UNPROCESSABLE_ENTITY, t.error_generic),
            _ => {
                backend::log_unexpected(err);
                self.error(StatusCode::INTERNAL_SERVER_ERROR, t.error_generic)
            }
        }
    }

    /// Adds the cookies this context owes the browser.
    pub fn finish(&self, mut resp: Response) -> Response {
        if self.csrf_is_new {
            let cookie = Cookie::build((csrf::COOKIE, self.cookie_token.clone()))
                .path("/")
                .http_only(true)
                .secure(self.secure)
                .same_site(SameSite::Strict)
                .build();
            if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        resp
    }

    /// A cookie with the portal's policy: whole site, HttpOnly, Lax, Secure over https.
    pub fn cookie(&self, name: &'static str, value: String) -> Cookie<'static> {
        Cookie::build((name, value))
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .build()
    }

    /// 303 to `to`, carrying this context's cookies.
    pub fn see_other(&self, to: &str) -> Response {
        self.finish(Redirect::to(to).into_response())
    }
}

/// Only a same-site path may be a destination after login, language switch or structure switch
/// (no open redirect): it starts with one `/`, and holds no backslash, no scheme and no control
/// character at all (browsers drop tabs and newlines from URLs, so `/\t/evil.example` would
/// become `//evil.example`, and a newline or NUL cannot go in a `Location` header). Anything else
/// gives `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.contains("://")
                && !n.chars().any(char::is_control)
                && n.len() <= 2048 =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[derive(Template)]
#[template(path = "portal/error.html")]
pub struct ErrorPage {
    pub page: Page,
    pub title: &'static str,
    pub message: &'static str,
}

/// What a confirmation page asks, and the form it re-posts once confirmed.
pub struct Confirm {
    pub title: &'static str,
    pub body: &'static str,
    /// Who or what is concerned (e-mail addresses…), shown as a list.
    pub subjects: Vec<String>,
    /// Where the confirmed form goes, and its fields (the CSRF token and `confirm` are added).
    pub action: &'static str,
    pub fields: Vec<(&'static str, String)>,
    pub button: &'static str,
    /// The page to go back to without doing anything.
    pub cancel: &'static str,
}

/// Whether a submitted form carries the confirmation of [`Ctx::confirm`].
pub fn confirmed(confirm: Option<&str>) -> bool {
    confirm == Some("yes")
}

#[derive(Template)]
#[template(path = "portal/confirm.html")]
struct ConfirmPage {
    page: Page,
    c: Confirm,
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_must_stay_on_site() {
        assert_eq!(safe_next(Some("/manage/requests")), "/manage/requests");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn control_characters_never_reach_a_location_header() {
        for hostile in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/a\r\nSet-Cookie: x=1",
            "/a\0b",
            "/\u{7f}/x",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(5000)))), "/");
    }
}
