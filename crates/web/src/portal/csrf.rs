//! CSRF protection for every portal form: double-submit token.
//!
//! A random token lives in an HttpOnly, `SameSite=Strict` cookie and is echoed in a hidden
//! `csrf` field of each form (or the `X-CSRF-Token` header for htmx requests). A cross-site page
//! can make the browser send the cookie but cannot read it, so it cannot fill the field. The
//! session cookie is `SameSite=Lax` on top of this. Checked once here, in a layer, so no handler
//! can forget it.
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::{CookieJar, Form};
use base64::Engine as _;
use rand::RngCore as _;
use serde::Deserialize;

use super::i18n::Lang;

pub const COOKIE: &str = "facteur_csrf";
pub const HEADER: &str = "x-csrf-token";
/// Portal forms are small; uploads go through the API.
const MAX_FORM_BYTES: usize = 256 * 1024;

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
    let Some(expected) = jar.get(COOKIE).map(|c| c.value().to_owned()) else {
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
    fn comparison_needs_equal_strings() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
        assert!(!same("", "a"));
    }
}
