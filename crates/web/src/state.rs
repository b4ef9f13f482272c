//! Shared state handed to every handler.
use std::sync::Arc;

/// Cheap to clone: everything lives behind one `Arc`.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {}

impl AppState {
    /// Builds the state (filled in as the application layer lands).
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {}),
        }
    }
}

impl Default for AppState {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let _ = &self.inner;
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}
