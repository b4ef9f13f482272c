//! Directory of public structures: a search page, and the htmx autocomplete behind the
//! recipient field (answers an HTML fragment of `<li>` options).
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use facteur_app::{AppError, DirectoryEntry, DirectoryQuery};
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

/// Reads one free-text box the way people type: 14 digits (or 9) is an identifier, 5 digits or a
/// postcode-like start is a place, anything else is a name or a city. Name and place are both
/// tried, and the union is shown.
fn queries(q: &str) -> Vec<DirectoryQuery> {
    let q = q.trim();
    let base = DirectoryQuery {
        public_only: true,
        page: 1,
        page_size: 50,
        ..Default::default()
    };
    let compact: String = q.chars().filter(|c| !c.is_whitespace()).collect();
    if !compact.is_empty() && compact.chars().all(|c| c.is_ascii_digit()) {
        if compact.len() >= 9 {
            return vec![DirectoryQuery {
                identifier: Some(compact),
                ..base
            }];
        }
        return vec![DirectoryQuery {
            place: Some(compact),
            ..base
        }];
    }
    vec![
        DirectoryQuery {
            text: Some(q.to_owned()),
            ..base.clone()
        },
        DirectoryQuery {
            place: Some(q.to_owned()),
            ..base
        },
    ]
}

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
        let mut seen = std::collections::HashSet::new();
        for query in queries(&q) {
            match state.app().search_directory(&query).await {
                Ok(page) => {
                    for e in page.items {
                        if seen.insert(e.id) {
                            let id = e.id;
                            let mut row = Row::from(e);
                            if let Ok(detail) = state.app().directory_detail(id).await {
                                row.services = detail
                                    .services
                                    .iter()
                                    .map(|s| service_name(&s.service, ctx.t()))
                                    .collect();
                            }
                            results.push(row);
                        }
                    }
                }
                Err(err) => return ctx.app_error(&err),
            }
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
    use super::queries;

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

    #[test]
    fn one_box_understands_identifiers_postcodes_and_names() {
        let q = queries("110 000 016 00013");
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].identifier.as_deref(), Some("11000001600013"));
        let q = queries("75007");
        assert_eq!(q[0].place.as_deref(), Some("75007"));
        let q = queries("Mairie de Lyon");
        assert_eq!(q.len(), 2);
        assert_eq!(q[0].text.as_deref(), Some("Mairie de Lyon"));
        assert_eq!(q[1].place.as_deref(), Some("Mairie de Lyon"));
        assert!(q.iter().all(|x| x.public_only));
    }
}
