//! Test support shared with the app and web crates: a fresh, migrated store per test on SQLite
//! (temporary file) or PostgreSQL (random database created on the server named by
//! `FACTEUR_TEST_PG_URL`, dropped when the [`TestStore`] is dropped).
//!
//! When `CI` is set and `FACTEUR_TEST_PG_URL` is not, [`pg_url`] panics: CI must never pass by
//! silently skipping PostgreSQL.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Connection;

use crate::{Backend, Store};

/// Environment variable naming an administrative PostgreSQL URL for tests.
pub const PG_URL_VAR: &str = "FACTEUR_TEST_PG_URL";

/// The PostgreSQL URL for tests, `None` when PostgreSQL tests should be skipped.
///
/// # Panics
/// When `CI` is set but `FACTEUR_TEST_PG_URL` is not.
pub fn pg_url() -> Option<String> {
    match std::env::var(PG_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{PG_URL_VAR} must be set when CI is set: PostgreSQL tests may not be skipped")
        }
        _ => None,
    }
}

/// A migrated store that cleans up after itself.
#[derive(Debug)]
pub struct TestStore {
    pub store: Store,
    /// The database URL (so a test can start a server or the CLI on the same database).
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, database: String },
}

impl std::ops::Deref for TestStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Replaces the database name (the path) of a PostgreSQL URL, keeping any query string.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let root = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

impl TestStore {
    /// A fresh SQLite store in a temporary directory.
    pub async fn sqlite() -> TestStore {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("facteur.db").display());
        let store = Store::open(&url).await.expect("open sqlite store");
        TestStore {
            store,
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A fresh PostgreSQL database, or `None` when PostgreSQL tests are skipped (see [`pg_url`]).
    pub async fn postgres() -> Option<TestStore> {
        let admin_url = pg_url()?;
        let database = format!("facteur_test_{}", unique_suffix());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connect to FACTEUR_TEST_PG_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{database}\"")))
            .execute(&mut admin)
            .await
            .expect("create test database");
        admin.close().await.ok();
        let url = with_database(&admin_url, &database);
        let store = Store::open(&url).await.expect("open postgres store");
        Some(TestStore {
            store,
            url,
            cleanup: Cleanup::Postgres { admin_url, database },
        })
    }

    /// A fresh store on `backend` (`None`: PostgreSQL skipped).
    pub async fn new(backend: Backend) -> Option<TestStore> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, database } = &self.cleanup {
            // Drop cannot await: a short-lived thread with its own runtime drops the database.
            // `WITH (FORCE)` (PostgreSQL 13+) ends the pool's connections still open.
            let (admin_url, database) = (admin_url.clone(), database.clone());
            let done = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let mut admin = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
                    )))
                    .execute(&mut admin)
                    .await
                    .ok()?;
                    admin.close().await.ok()
                })
            });
            let _ = done.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_in_url() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:5432", "x"), "postgres://h:5432/x");
    }
}
