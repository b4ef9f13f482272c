//! HTTP for Facteur: the Chorus Pro-compatible JSON API, the OAuth2 token endpoint, the OpenAPI
//! document and its interactive docs, the portal.
//!
//! [`Application::build`] binds the listener first (port 0 allowed) and exposes [`Application::port`],
//! then [`Application::run_until_stopped`] serves: tests start the real application this way.
pub mod api;
mod client;
mod error;
mod headers;
pub mod metrics;
pub mod oauth;
pub mod openapi;
pub mod portal;
mod serve;
mod state;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router, middleware};
use facteur_app::{App, AppConfig};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

#[cfg(feature = "test-util")]
pub use api::testing;
pub use axum::http::HeaderName;
pub use client::ClientKey;
pub use error::{ApiError, ApiResult, ErrorBody, codes};
pub use oauth::TokenIssuer;
pub use state::AppState;

/// HTTP settings (the use cases have their own [`AppConfig`]).
#[derive(Clone)]
pub struct HttpConfig {
    /// HMAC key of the access tokens; every node of a deployment must share it.
    pub token_secret: Vec<u8>,
    /// `expires_in` of access tokens (3600 s, as on PISTE).
    pub token_ttl: Duration,
    /// Requests running longer are answered 408.
    pub request_timeout: Duration,
    /// A client must send its whole request head within this time, or the connection is closed.
    pub header_read_timeout: Duration,
    /// Largest body of the token endpoint and of portal forms (anonymous clients reach both).
    pub form_body_limit: usize,
    /// Largest JSON body of a `/cpro/` service.
    pub api_body_limit: usize,
    /// Largest upload (invoice files and flows, after authentication), in bytes.
    pub upload_limit: usize,
    /// Largest flow streamed to `factures/v1/deposer/flux` as `multipart/form-data` (1 GiB: a
    /// Chorus Pro E1 flow's maximum), in bytes.
    pub flow_upload_limit: usize,
    /// A header set by a trusted reverse proxy (`X-Forwarded-For`, `X-Real-IP`…) to read the
    /// client's address from; `None` uses the peer address. Only set it when every request comes
    /// through that proxy, or clients can pick their own rate-limit key.
    pub client_ip_header: Option<HeaderName>,
}

impl HttpConfig {
    /// Defaults around a token secret: 1 h tokens, 30 s timeout, 10 s to send the request head,
    /// 64 KiB forms, 1 MiB API bodies, 150 MiB uploads (a base64 flow of Chorus Pro's 120 MB
    /// maximum).
    pub fn new(token_secret: Vec<u8>) -> Self {
        Self {
            token_secret,
            token_ttl: Duration::from_secs(3600),
            request_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
            form_body_limit: 64 * 1024,
            api_body_limit: 1024 * 1024,
            upload_limit: 150 * 1024 * 1024,
            flow_upload_limit: 1024 * 1024 * 1024,
            client_ip_header: None,
        }
    }
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("token_secret", &"<redacted>")
            .field("token_ttl", &self.token_ttl)
            .field("request_timeout", &self.request_timeout)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("form_body_limit", &self.form_body_limit)
            .field("api_body_limit", &self.api_body_limit)
            .field("upload_limit", &self.upload_limit)
            .field("client_ip_header", &self.client_ip_header)
            .finish()
    }
}

/// Everything the server needs.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub app: AppConfig,
    /// `host:port`; port 0 picks a free port.
    pub listen: String,
    pub http: HttpConfig,
}

/// Answer of `GET /healthz`.
#[derive(serde::Serialize)]
struct Health {
    status: &'static str,
}

/// 200 when the database answers, 503 otherwise (for load balancers and `facteur healthcheck`).
async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    if state.app().healthy().await {
        (StatusCode::OK, Json(Health { status: "ok" }))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: "unavailable" }))
    }
}

/// The whole HTTP application: API, OpenAPI + docs, health, portal, and the tower-http stack.
///
/// Each group of routes gets its own body limit: small ones where anonymous clients reach (token
/// endpoint, portal forms), larger JSON for the authenticated API, and
/// [`HttpConfig::upload_limit`] for the API services that take files (`ajouter/fichier`,
/// `deposer/pdf`).
pub fn router(state: AppState, http: &HttpConfig) -> Router {
    let (api, doc) = openapi::api_routes(
        http.form_body_limit,
        http.api_body_limit,
        http.upload_limit,
        http.flow_upload_limit,
    );
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::metrics))
        .merge(api)
        .merge(
            portal::router()
                .layer(DefaultBodyLimit::max(http.form_body_limit))
                .layer(RequestBodyLimitLayer::new(http.form_body_limit)),
        )
        .merge(utoipa_swagger_ui::SwaggerUi::new(openapi::DOCS_PATH).url(openapi::OPENAPI_PATH, doc))
        // Runs after routing (the route's template is known), for the fallback too.
        .layer(middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
        // Outermost last: the request id exists before the trace span opens and is echoed back.
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            http.request_timeout,
        ))
        .layer(CatchPanicLayer::custom(portal::panic_response))
        // Outside the panic and timeout layers, so their answers carry the headers too.
        .layer(middleware::from_fn(headers::security_headers))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<axum::body::Body>| {
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("http", method = %req.method(), uri = %req.uri().path(), request_id = %id)
                })
                // One access-log line per request, at info, inside the request's span (so with its id).
                .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// A bound, ready-to-serve server.
pub struct Application {
    listener: TcpListener,
    port: u16,
    router: Router,
    app: App,
    header_read_timeout: Duration,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Opens the application (database, migrations, mailer) and binds the listener.
    pub async fn build(config: ServerConfig) -> anyhow::Result<Self> {
        let app = App::open(config.app).await?;
        Self::build_with_app(app, &config.listen, &config.http).await
    }

    /// Binds the listener around an already opened [`App`] (tests pass one with a manual clock).
    pub async fn build_with_app(app: App, listen: &str, http: &HttpConfig) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
        let port = listener.local_addr()?.port();
        let state = AppState::with_client_ip_header(
            app.clone(),
            TokenIssuer::new(&http.token_secret, http.token_ttl),
            http.client_ip_header.clone(),
        );
        Ok(Self {
            listener,
            port,
            router: router(state, http),
            app,
            header_read_timeout: http.header_read_timeout,
        })
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// The use cases behind the server.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Serves until Ctrl-C / SIGTERM, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        // This node's job worker (mail, housekeeping) runs while the server does, and finishes
        // the job in hand before the process exits.
        let worker = self.app.spawn_worker();
        let served = serve::serve(self.listener, self.router, self.header_read_timeout, shutdown_signal()).await;
        worker.stop().await;
        served
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
