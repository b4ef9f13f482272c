//! Security headers on every answer.
//!
//! - `Content-Security-Policy`: scripts and styles from this origin only (no inline script, so
//!   an injected `<script>` or `onclick` does not run), no plugins, no framing, forms post here
//!   only. The interactive API docs (Swagger UI) set inline styles, so they alone may.
//! - `X-Frame-Options: DENY` for browsers that predate `frame-ancestors`; `nosniff`; no referrer
//!   leaves the site (portal paths can carry tokens, e.g. reset links). `same-origin` rather than
//!   `no-referrer`: with the latter, browsers send `Origin: null` on form posts, which the CSRF
//!   check must then refuse.
//! - `Cache-Control: no-store` on everything but static assets: pages show personal data and
//!   secrets (technical accounts), API answers too, and a shared or back-button cache must not
//!   keep them. A handler that sets its own `Cache-Control` keeps it.
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
const CSP_DOCS: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                        img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
                        form-action 'self'";

/// Middleware adding the headers above (those a handler already set are kept).
pub async fn security_headers(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let docs = path.starts_with(crate::openapi::DOCS_PATH);
    let cacheable = path.starts_with("/assets/") || docs;
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let csp = if docs { CSP_DOCS } else { CSP };
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(csp));
    h.entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    h.entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    h.entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("same-origin"));
    if !cacheable {
        h.entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    resp
}
