//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` annotations so it cannot
//! drift from the code; `openapi.json` at the repository root is a committed copy that a test
//! compares with [`openapi_json`] (`facteur export-openapi` prints it).
use axum::Router;
use axum::extract::DefaultBodyLimit;
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/api/openapi.json";
/// Where the interactive documentation (Swagger UI, embedded, no CDN) is served.
pub const DOCS_PATH: &str = "/api/docs";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Facteur API",
        description = "Chorus Pro-compatible API of Facteur. Every `/cpro/` call needs a bearer token from \
`POST /api/oauth/token` (client credentials) **and** the `cpro-account` header, `base64(login:password)` of \
the structure's technical account. Missing or bad token: 401 with `WWW-Authenticate: Bearer`. Missing or bad \
`cpro-account`, or a technical account of another structure than the token's: 401. Business errors answer HTTP 200 \
with `codeRetour` != 0: 10001 not found or not accessible, 10002 invalid field, 20001 insufficient rights (or a \
lifecycle step of the other side), 20002 the invoice's status does not allow the step, 20003 deposit refused by the \
platform checks or EN 16931 (every finding in `listeErreurs`).",
        license(name = "AGPL-3.0-or-later")
    ),
    modifiers(&Security),
    components(schemas(crate::error::ErrorBody)),
    tags(
        (name = "oauth", description = "OAuth2 client-credentials token endpoint"),
        (name = "factures", description = "Deposit, processing, consultation and search of invoices"),
        (name = "structures", description = "Structures and services"),
        (name = "transverses", description = "Directory, referentials, health"),
        (name = "utilisateurs", description = "The caller's account"),
    )
)]
struct ApiDoc;

/// Declares the two credentials of a `/cpro/` call.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cpro_account",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "cpro-account",
                "base64(login:password) of the structure's technical account",
            ))),
        );
    }
}

/// A body limit on a group of routes: `DefaultBodyLimit` for axum's extractors and a layer for
/// bodies read any other way; a chunked body over it answers 413 like one with a `Content-Length`.
fn limited(router: OpenApiRouter<AppState>, limit: usize) -> OpenApiRouter<AppState> {
    router
        .layer(DefaultBodyLimit::max(limit))
        .layer(RequestBodyLimitLayer::new(limit))
}

/// The API routes (token endpoint + `/cpro/`) and their OpenAPI document, from one registration.
/// The token endpoint, which anonymous clients reach, takes bodies up to `token_limit` bytes; the
/// `/cpro/` services up to `api_limit`, those that take files up to `upload_limit`.
/// `factures/v1/deposer/flux` takes its JSON form up to `api_limit` too, and its streamed
/// multipart form up to `flow_limit`.
pub fn api_routes(
    token_limit: usize,
    api_limit: usize,
    upload_limit: usize,
    flow_limit: usize,
) -> (Router<AppState>, OpenApiDoc) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(limited(
            OpenApiRouter::new().routes(routes!(crate::oauth::token)),
            token_limit,
        ))
        .merge(limited(crate::api::router(), api_limit))
        .merge(limited(crate::api::upload_router(), upload_limit))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(crate::api::flux::deposer_flux))
                // The JSON extractor keeps the API limit; the multipart stream is cut at the
                // flow limit (plus the form's own bytes).
                .layer(DefaultBodyLimit::max(api_limit))
                .layer(RequestBodyLimitLayer::new(flow_limit.saturating_add(64 * 1024))),
        )
        .split_for_parts();
    ErrorAnswers.modify(&mut doc);
    (router, doc)
}

/// Documents, once for every route, the answers a route can give besides its own: so a client
/// (or a conformance tool such as schemathesis) finds every status and body it can receive.
///
/// - `/cpro/` services: HTTP 200 is the success body *or* the business-error envelope
///   (`codeRetour` ≠ 0), as on Chorus Pro; 400 malformed JSON, 401 bad credentials, 413 body
///   too large, 429 too many attempts, all with the envelope. A body whose schema requires no
///   field is optional: an empty body reads as `{}`.
/// - The token endpoint: 413 and 415 (a body that is not a form).
struct ErrorAnswers;

impl Modify for ErrorAnswers {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        use utoipa::openapi::schema::AnyOfBuilder;
        use utoipa::openapi::{Content, Ref, RefOr, Required, ResponseBuilder};

        let answer = |description: &str, schema: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content("application/json", Content::new(Some(Ref::from_schema_name(schema))))
                    .build(),
            )
        };
        // Whether the schema a body refers to requires some field.
        let schemas = openapi.components.as_ref().map(|c| &c.schemas);
        let requires_fields = |content: &RefOr<Content>| {
            let RefOr::T(Content {
                schema: Some(RefOr::Ref(r)),
                ..
            }) = content
            else {
                return true;
            };
            let name = r.ref_location.rsplit('/').next().unwrap_or_default();
            match schemas.and_then(|s| s.get(name)) {
                Some(RefOr::T(utoipa::openapi::Schema::Object(o))) => !o.required.is_empty(),
                _ => true,
            }
        };
        for (path, item) in &mut openapi.paths.paths {
            for op in [&mut item.get, &mut item.post].into_iter().flatten() {
                let responses = &mut op.responses.responses;
                if path.starts_with("/cpro/") {
                    if let Some(RefOr::T(body)) = &mut op.request_body
                        && !body.content.values().any(requires_fields)
                    {
                        body.required = Some(Required::False);
                    }
                    if let Some(RefOr::T(ok)) = responses.get_mut("200") {
                        for content in ok.content.values_mut() {
                            if let RefOr::T(c) = content
                                && let Some(schema) = c.schema.take()
                            {
                                c.schema = Some(
                                    AnyOfBuilder::new()
                                        .item(schema)
                                        .item(Ref::from_schema_name("ErrorBody"))
                                        .into(),
                                );
                            }
                        }
                    }
                    for (code, description) in [
                        ("400", "Malformed request (not JSON, or a field of the wrong type)"),
                        ("401", "Missing, bad or expired token, or bad `cpro-account`"),
                        ("413", "Request body too large"),
                        ("429", "Too many attempts; see `Retry-After`"),
                    ] {
                        responses
                            .entry(code.to_owned())
                            .or_insert_with(|| answer(description, "ErrorBody"));
                    }
                } else if path == "/api/oauth/token" {
                    for (code, description) in [
                        ("413", "Request body too large"),
                        ("415", "The body is not `application/x-www-form-urlencoded`"),
                    ] {
                        responses
                            .entry(code.to_owned())
                            .or_insert_with(|| answer(description, "OAuthError"));
                    }
                }
            }
        }
    }
}

/// The OpenAPI document.
pub fn openapi() -> OpenApiDoc {
    api_routes(0, 0, 0, 0).1
}

/// The OpenAPI document as pretty JSON with a final newline (the committed `openapi.json`).
pub fn openapi_json() -> String {
    let mut s = openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
