//! Shared state handed to every handler (API and portal).
use std::sync::Arc;

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
}

impl AppState {
    /// Bundles the use cases and the access-token issuer.
    pub fn new(app: App, tokens: TokenIssuer) -> Self {
        Self {
            inner: Arc::new(Inner { app, tokens }),
        }
    }

    /// The use cases.
    pub fn app(&self) -> &App {
        &self.inner.app
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
