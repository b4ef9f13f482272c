//! `spawn_app()`: the real application on port 0 with a fresh database, for behaviour tests of
//! this crate (API, portal) and of the binary. SQLite always; PostgreSQL when
//! `FACTEUR_TEST_PG_URL` is set (a random database per test, dropped afterwards).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use facteur_app::{App, AppConfig};
pub use facteur_store::Backend;
use facteur_store::testing::TestStore;

use crate::{Application, HttpConfig};

/// Token secret of test servers (tests forge expired tokens with it).
pub const TEST_TOKEN_SECRET: &[u8] = b"facteur-test-secret-facteur-test-secret";

/// A running test server.
#[derive(Debug)]
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    pub port: u16,
    /// The use cases behind the server (seed data directly through them).
    pub app: App,
    /// The data directory (outbox, demo credentials…).
    pub data_dir: PathBuf,
    pub backend: Backend,
    /// The database URL the server uses.
    pub database_url: String,
    _dir: tempfile::TempDir,
    _store: Option<TestStore>,
}

/// Backends to run a test against: SQLite, plus PostgreSQL when configured.
pub fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::Sqlite];
    if facteur_store::testing::pg_url().is_some() {
        v.push(Backend::Postgres);
    }
    v
}

/// Runs each named scenario on both backends: `scenarios!(spawn => a, b)` makes the tests `a::sqlite`
/// and `a::postgres` calling `a(spawn(backend).await)`; PostgreSQL ones skip (outside CI) when it is
/// not configured. The setup is any `async fn(Backend) -> Option<T>`, [`spawn`] or a fixture built
/// on it.
pub use facteur_store::scenarios;

/// A server on `backend` with a fresh database, `None` when PostgreSQL is asked for and not
/// configured: the setup of [`scenarios!`].
pub async fn spawn(backend: Backend) -> Option<TestApp> {
    spawn_with(backend, test_http()).await
}

/// [`spawn`] with the given HTTP settings.
pub async fn spawn_with(backend: Backend, http: HttpConfig) -> Option<TestApp> {
    if backend == Backend::Postgres && facteur_store::testing::pg_url().is_none() {
        return None;
    }
    Some(spawn_app_with(backend, http).await)
}

/// A server on SQLite.
pub async fn spawn_app() -> TestApp {
    spawn_app_on(Backend::Sqlite).await
}

/// A server on `backend` with a fresh database.
///
/// # Panics
/// When PostgreSQL is asked for but `FACTEUR_TEST_PG_URL` is not set (use [`backends`]).
pub async fn spawn_app_on(backend: Backend) -> TestApp {
    spawn_app_with(backend, test_http()).await
}

/// The HTTP settings of test servers: the test token secret, a generous request timeout.
fn test_http() -> HttpConfig {
    let mut http = HttpConfig::new(TEST_TOKEN_SECRET.to_vec());
    http.request_timeout = Duration::from_secs(30);
    http
}

/// A server on `backend` with a fresh database and the given HTTP settings.
///
/// # Panics
/// When PostgreSQL is asked for but `FACTEUR_TEST_PG_URL` is not set (use [`backends`]).
pub async fn spawn_app_with(backend: Backend, http: HttpConfig) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let mut config = AppConfig::new(&data_dir);
    let store = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => {
            let s = TestStore::postgres()
                .await
                .expect("FACTEUR_TEST_PG_URL must be set for PostgreSQL tests");
            config.database_url = s.url.clone();
            Some(s)
        }
    };
    let database_url = config.database_url.clone();
    let app = App::open(config).await.expect("open app");
    let server = Application::build_with_app(app.clone(), "127.0.0.1:0", &http)
        .await
        .expect("bind");
    let port = server.port();
    tokio::spawn(server.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        app,
        data_dir,
        backend,
        database_url,
        _dir: dir,
        _store: store,
    }
}
