//! CSRF protection for every portal form, checked once here, in a layer, so no handler can forget
//! it.
//!
//! - The token: signed in, it is derived from the session token (a digest of it), so it is bound
//!   to the session and a token planted or read elsewhere is worth nothing for another session;
//!   signed out (login and sign-up forms), it is a random value kept in an HttpOnly,
//!   `SameSite=Strict` cookie (double submit). Either way it is echoed in a hidden `csrf` field
//!   of each form (or the `X-CSRF-Token` header for htmx requests); a cross-site page can make
//!   the browser send the cookies but cannot read them, so it cannot fill the field.
//! - The origin: a state-changing request whose `Sec-Fetch-Site` is not `same-origin` (or
//!   `none`), or, from a browser that does not send it, whose `Origin` names another site (or
//!   `null`), is refused before anything else.
//!
//! The session cookie is `SameSite=Lax` on top of this.
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::{CookieJar, Form};
use base64::Engine as _;
use rand::RngCore as _;
use serde::Deserialize;

use super::i18n::Lang;

pub const COOKIE: &str = "facteur_csrf";
pub const HEADER: &str = "x-csrf-token";
/// Portal forms are small (the router's form limit is the same); uploads will have their routes.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// A fresh random token (256 bits, URL-safe base64).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Length-independent comparison, so timing says nothing about how much of a guess was right.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token a form must carry: bound to the session when there is one, else the cookie's.
pub fn expected(session: Option<&str>, cookie: Option<&str>) -> Option<String> {
    match session.filter(|s| !s.is_empty()) {
        Some(session) => Some(facteur_app::secrets::token_digest(&format!("csrf:{session}"))),
        None => cookie.filter(|c| !c.is_empty()).map(str::to_owned),
    }
}

/// Whether the request comes from this site as far as the browser says. `Sec-Fetch-Site`, which
/// pages cannot forge, decides when sent: `same-origin` or `none` (typed by the user) pass. Else
/// `Origin`, when sent, must name the host the request was sent to (`null`, sent by privacy
/// settings and sandboxed frames, does not). Clients that send neither (old browsers, scripts)
/// still need the token.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let authority = origin
        .to_str()
        .ok()
        .and_then(|o| o.strip_prefix("https://").or_else(|| o.strip_prefix("http://")));
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: Option<String>,
}

/// Middleware: every unsafe request must carry the cookie's token in the form or the header.
pub async fn guard(jar: CookieJar, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let lang = Lang::negotiate(jar.get(super::ctx::LANG_COOKIE).map(|c| c.value()), req.headers());
    if !same_origin(req.headers()) {
        return refused(lang);
    }
    let session = jar.get(super::ctx::SESSION_COOKIE).map(|c| c.value());
    let Some(expected) = expected(session, jar.get(COOKIE).map(|c| c.value())) else {
        return refused(lang);
    };
    if let Some(sent) = req.headers().get(HEADER).and_then(|v| v.to_str().ok())
        && same(sent, &expected)
    {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let probe = Request::from_parts(parts.clone(), Body::from(bytes.clone()));
    let sent = match Form::<CsrfOnly>::from_request(probe, &()).await {
        Ok(Form(CsrfOnly { csrf: Some(sent) })) => sent,
        _ => return refused(lang),
    };
    if !same(&sent, &expected) {
        return refused(lang);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

fn refused(lang: Lang) -> Response {
    let t = lang.t();
    let body = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <link rel=\"stylesheet\" href=\"/assets/facteur.css\"></head><body><main>\
         <div class=\"card narrow\"><h1>{}</h1><p class=\"notice error\" role=\"alert\">{}</p>\
         <p><a href=\"/\">{}</a></p></div></main></body></html>",
        lang.code(),
        t.error_title,
        t.error_title,
        t.error_csrf,
        t.back_home
    );
    (StatusCode::FORBIDDEN, Html(body)).into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tokens_are_random_and_url_safe() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn signed_in_tokens_are_bound_to_the_session() {
        let a = expected(Some("session-a"), Some("cookie")).unwrap();
        assert_ne!(a, expected(Some("session-b"), Some("cookie")).unwrap());
        assert_eq!(a, expected(Some("session-a"), None).unwrap());
        assert_eq!(expected(None, Some("cookie")).as_deref(), Some("cookie"));
        assert_eq!(expected(None, None), None);
    }

    #[test]
    fn other_sites_are_refused_by_origin() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "facteur.example:8080".parse().unwrap());
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, "https://facteur.example:8080".parse().unwrap());
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(!same_origin(&h));
        h.remove(header::ORIGIN);
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!same_origin(&h));
        h.insert("sec-fetch-site", "same-site".parse().unwrap());
        assert!(!same_origin(&h));
        // A browser that hides the origin (`null`) but says the request is same-origin passes.
        h.insert(header::ORIGIN, "null".parse().unwrap());
        h.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(same_origin(&h));
    }

    #[test]
    fn comparison_needs_equal_strings() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
        assert!(!same("", "a"));
    }
}
