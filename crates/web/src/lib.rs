//! HTTP for Facteur: the Chorus Pro-compatible JSON API, the OAuth2 token endpoint, the portal.
pub mod portal;
mod state;

pub use state::AppState;

/// The whole HTTP application: API + portal.
pub fn router(state: AppState) -> axum::Router {
    axum::Router::new().merge(portal::router()).with_state(state)
}
