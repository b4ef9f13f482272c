//! The pages nobody asks for: the branded 404 of unknown portal paths and the branded 500 shown
//! when a handler panics. Unknown API paths keep the API's JSON envelope, since a client of
//! `/cpro/` or `/api/` reads `codeRetour`, not HTML.
use std::any::Any;

use askama::Template;
use axum::Json;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::ctx::Ctx;
use super::i18n::{Lang, Strings};
use crate::{AppState, ErrorBody};

/// Paths served by the API (JSON answers, even when unknown).
fn is_api(path: &str) -> bool {
    ["/cpro", "/api"]
        .iter()
        .any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')))
}

/// Fallback of the whole router: 404, as JSON for API paths and as a page otherwise.
pub async fn not_found(State(state): State<AppState>, req: Request) -> Response {
    if is_api(req.uri().path()) {
        let body = ErrorBody {
            code_retour: 404,
            libelle: "Ressource introuvable".to_owned(),
            liste_erreurs: Vec::new(),
        };
        return (StatusCode::NOT_FOUND, Json(body)).into_response();
    }
    let (mut parts, _) = req.into_parts();
    match Ctx::from_request_parts(&mut parts, &state).await {
        Ok(ctx) => ctx.error_titled(StatusCode::NOT_FOUND, ctx.t().not_found_title, ctx.t().error_not_found),
        Err(resp) => resp,
    }
}

#[derive(Template)]
#[template(path = "portal/panic.html")]
struct PanicPage {
    fr: &'static Strings,
    en: &'static Strings,
}

/// Answer of `CatchPanicLayer`: a branded 500 in both languages (the request, and so the user's
/// language, is gone by then). The panic message goes to the log, never to the page.
pub fn panic_response(err: Box<dyn Any + Send + 'static>) -> Response {
    let message = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = %message, "request handler panicked");
    let page = PanicPage {
        fr: Lang::Fr.t(),
        en: Lang::En.t(),
    };
    match page.render() {
        Ok(html) => (StatusCode::INTERNAL_SERVER_ERROR, Html(html)).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::header;

    use super::*;

    #[test]
    fn api_paths_are_told_apart() {
        assert!(is_api("/cpro/structures/v1/nope"));
        assert!(is_api("/api/nope"));
        assert!(is_api("/api"));
        assert!(!is_api("/apiary"));
        assert!(!is_api("/manage/nope"));
    }

    #[tokio::test]
    async fn a_panic_gives_a_branded_page_in_both_languages() {
        let resp = panic_response(Box::new("boom: secret detail".to_owned()));
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            resp.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap_or("")
                .starts_with("text/html")
        );
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap_or_default();
        let html = String::from_utf8_lossy(&body);
        assert!(
            html.contains("/assets/facteur.css") && html.contains("Facteur"),
            "{html}"
        );
        assert!(html.contains(Lang::Fr.t().error_title) && html.contains(Lang::En.t().error_title));
        assert!(!html.contains("secret detail"), "the panic message stays in the log");
    }
}
