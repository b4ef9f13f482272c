//! Shared state handed to every handler (API and portal).
use std::sync::Arc;

use axum::http::HeaderName;
use facteur_app::App;

use crate::oauth::TokenIssuer;

/// Cheap to clone: everything lives behind one `Arc`. Holds nothing another node would need, so
/// nodes stay stateless (sessions live in the database, tokens are self-contained).
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    app: App,
    tokens: TokenIssuer,
    client_ip_header: Option<HeaderName>,
    metrics: Arc<crate::metrics::Metrics>,
}

impl AppState {
    /// Bundles the use cases and the access-token issuer.
    pub fn new(app: App, tokens: TokenIssuer) -> Self {
        Self::with_client_ip_header(app, tokens, None)
    }

    /// [`AppState::new`], reading the client's address from `header` (set by a trusted reverse
    /// proxy) instead of the peer address.
    pub fn with_client_ip_header(app: App, tokens: TokenIssuer, header: Option<HeaderName>) -> Self {
        Self {
            inner: Arc::new(Inner {
                metrics: crate::metrics::Metrics::new(&app),
                app,
                tokens,
                client_ip_header: header,
            }),
        }
    }

    /// The header a trusted proxy writes the client's address in, when configured.
    pub fn client_ip_header(&self) -> Option<&HeaderName> {
        self.inner.client_ip_header.as_ref()
    }

    /// The use cases.
    pub fn app(&self) -> &App {
        &self.inner.app
    }

    /// The Prometheus series of this node.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.inner.metrics
    }

    /// Signs and verifies API access tokens.
    pub fn tokens(&self) -> &TokenIssuer {
        &self.inner.tokens
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("app", &self.inner.app)
            .finish_non_exhaustive()
    }
}
