//! Directory of public structures: a search page, and the htmx autocomplete behind the
//! recipient field (answers an HTML fragment of `<li>` options).
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use facteur_app::{AppError, DirectoryEntry, DirectoryQuery, PageRequest};
use serde::Deserialize;

use super::ctx::{Ctx, Page};
use super::i18n::Strings;
use crate::AppState;

pub struct Row {
    pub name: String,
    pub identifier: String,
    pub postcode: String,
    pub city: String,
    pub services: Vec<String>,
    pub requires_service_code: bool,
    pub requires_engagement: bool,
}

impl From<DirectoryEntry> for Row {
    fn from(e: DirectoryEntry) -> Self {
        Row {
            name: e.name,
            identifier: e.identifier.value().to_owned(),
            postcode: e.postcode,
            city: e.city,
            services: Vec::new(),
            requires_service_code: e.parameters.service_code_required,
            requires_engagement: e.parameters.engagement_required,
        }
    }
}

/// A service as people read it: its label, with the code a supplier puts on the invoice when
/// the label does not already say it. The default `FACTURES_PUBLIQUES` pseudo-service is named in
/// the page's language (its code is never asked for).
fn service_name(s: &facteur_domain::Service, t: &Strings) -> String {
    let code = s.code.as_str();
    if code == facteur_domain::DEFAULT_SERVICE_CODE {
        t.default_service_label.to_owned()
    } else if s.label.trim().is_empty() || s.label == code {
        code.to_owned()
    } else {
        format!("{} ({} {code})", s.label, t.service_code)
    }
}

#[derive(Template)]
#[template(path = "portal/directory.html")]
struct DirectoryPage {
    page: Page,
    q: String,
    results: Vec<Row>,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// Rows shown by the directory page (one page, no paging yet: a longer list asks for more text).
const DIRECTORY_ROWS: u32 = 50;

pub async fn search(State(state): State<AppState>, ctx: Ctx, Query(sq): Query<SearchQuery>) -> Response {
    let q = sq.q.trim().to_owned();
    if q.chars().count() > facteur_app::MAX_SEARCH_CHARS || q.chars().any(char::is_control) {
        let shown: String = q
            .chars()
            .filter(|c| !c.is_control())
            .take(facteur_app::MAX_SEARCH_CHARS)
            .collect();
        return ctx.render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &DirectoryPage {
                page: ctx.page(),
                q: shown,
                results: Vec::new(),
                error: Some(ctx.t().err_search_text),
            },
        );
    }
    let mut results: Vec<Row> = Vec::new();
    if !q.is_empty() {
        // The one recipient search (as the API's), then the services of the whole page in one query.
        let query = DirectoryQuery::recipients(None, Some(&q));
        // Capped at the page: the page shows no total, so counting beyond it would be wasted.
        let page = PageRequest::new(1, DIRECTORY_ROWS).capped(DIRECTORY_ROWS);
        let entries = match state.app().search_directory(None, &query, page).await {
            Ok(page) => page.items,
            Err(err) => return ctx.app_error(&err),
        };
        let ids: Vec<_> = entries.iter().map(|e| e.id).collect();
        let mut services = match state.app().directory_services(&ids).await {
            Ok(s) => s,
            Err(err) => return ctx.app_error(&err),
        };
        for e in entries {
            let listed = services.remove(&e.id).unwrap_or_default();
            let mut row = Row::from(e);
            row.services = listed.iter().map(|s| service_name(&s.service, ctx.t())).collect();
            results.push(row);
        }
    }
    ctx.render(&DirectoryPage {
        page: ctx.page(),
        q,
        results,
        error: None,
    })
}

#[derive(Template)]
#[template(path = "portal/suggest.html")]
struct SuggestFragment {
    results: Vec<Row>,
    chosen: &'static str,
}

/// `GET /directory/suggest?q=`: the htmx autocomplete of the recipient field.
pub async fn suggest(State(state): State<AppState>, ctx: Ctx, Query(sq): Query<SearchQuery>) -> Response {
    let results = match state.app().autocomplete_recipients(sq.q.trim(), 10).await {
        Ok(list) => list.into_iter().map(Row::from).collect(),
        // Text no one types (too long, control characters): no suggestion.
        Err(AppError::Invalid { .. }) => Vec::new(),
        Err(err) => return ctx.app_error(&err),
    };
    ctx.render(&SuggestFragment {
        results,
        chosen: ctx.t().recipient_chosen,
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn services_read_by_their_labels() {
        use facteur_domain::{Service, ServiceCode};
        let fr = crate::portal::i18n::Lang::Fr.t();
        let en = crate::portal::i18n::Lang::En.t();
        assert_eq!(
            super::service_name(&Service::default_service(), fr),
            "Service des factures publiques"
        );
        assert_eq!(
            super::service_name(&Service::default_service(), en),
            "Public invoices service"
        );
        let voirie = ServiceCode::parse("VOIRIE").map(|c| Service::new(c, "Voirie et réseaux"));
        assert_eq!(
            voirie.map(|s| super::service_name(&s, fr)).ok().as_deref(),
            Some("Voirie et réseaux (code VOIRIE)")
        );
    }
}
