//! Test support shared with the app and web crates: a fresh, migrated store per test on SQLite
//! (temporary file) or PostgreSQL (random database created on the server named by
//! `FACTEUR_TEST_PG_URL`, dropped when the [`TestStore`] is dropped).
//!
//! When `CI` is set and `FACTEUR_TEST_PG_URL` is not, [`pg_url`] panics: CI must never pass by
//! silently skipping PostgreSQL.
//!
//! Also failure injection ([`Store::fail_write_step`]) and a readable [`Store::snapshot`] of the
//! tables, for tests proving that a use case changes everything or nothing. Only built with the
//! `test-util` feature, which only dev-dependencies enable.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::Connection;

use crate::{Backend, Result, Store, StoreError, with_pool};

/// Which write step of the store fails next. Every write function of [`crate::Tx`] counts as one
/// step when it starts; the step chosen by [`Store::fail_write_step`] returns an error instead.
#[derive(Clone, Debug, Default)]
pub struct Faults(Arc<Mutex<FaultState>>);

#[derive(Debug, Default)]
struct FaultState {
    fail_at: Option<u32>,
    seen: u32,
    steps: Vec<&'static str>,
}

impl Faults {
    fn with<T>(&self, f: impl FnOnce(&mut FaultState) -> T) -> T {
        let mut state = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut state)
    }

    pub(crate) fn step(&self, name: &'static str) -> Result<()> {
        self.with(|s| {
            s.seen += 1;
            s.steps.push(name);
            if s.fail_at == Some(s.seen) {
                return Err(StoreError::Database(sqlx::Error::Protocol(format!(
                    "injected failure at write step {} ({name})",
                    s.seen
                ))));
            }
            Ok(())
        })
    }
}

impl Store {
    /// From now on, the `n`-th write step (1-based) fails; the step count and log start afresh.
    pub fn fail_write_step(&self, n: u32) {
        self.faults.with(|s| {
            *s = FaultState {
                fail_at: Some(n),
                ..FaultState::default()
            }
        });
    }

    /// No more injected failures; the step count and log start afresh.
    pub fn clear_faults(&self) {
        self.faults.with(|s| *s = FaultState::default());
    }

    /// The write steps started since the last [`Store::fail_write_step`] / [`Store::clear_faults`].
    pub fn write_steps(&self) -> Vec<&'static str> {
        self.faults.with(|s| s.steps.clone())
    }

    /// Every unique constraint of the schema as the database reports its violations: the name on
    /// PostgreSQL, `table.column, …` on SQLite (to check [`crate::UNIQUE_CONSTRAINTS`] misses none).
    pub async fn unique_constraints(&self) -> Result<Vec<String>> {
        let mut found: Vec<String> = match self.backend() {
            Backend::Postgres => with_pool!(self, |db| sqlx::query_scalar(
                "SELECT ci.relname::text FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid \
                 JOIN pg_class ct ON ct.oid = i.indrelid JOIN pg_namespace n ON n.oid = ct.relnamespace \
                 WHERE i.indisunique AND NOT i.indisprimary AND n.nspname = current_schema() \
                 AND ct.relname <> '_sqlx_migrations'"
            )
            .fetch_all(db)
            .await?),
            Backend::Sqlite => with_pool!(self, |db| sqlx::query_scalar(
                "SELECT (SELECT group_concat(m.name || '.' || ii.name, ', ') FROM pragma_index_info(il.name) ii) \
                 FROM sqlite_master m, pragma_index_list(m.name) il \
                 WHERE m.type = 'table' AND il.\"unique\" = 1 AND il.origin <> 'pk' AND m.name <> '_sqlx_migrations'"
            )
            .fetch_all(db)
            .await?),
        };
        found.sort();
        Ok(found)
    }

    /// Every row of the tables use cases change, one line per row, so two snapshots compare equal
    /// exactly when nothing changed in between.
    pub async fn snapshot(&self) -> Result<Vec<String>> {
        const QUERIES: &[&str] = &[
            "SELECT 'user ' || CAST(id AS TEXT) || ' ' || email || ' ' || status || ' ' || COALESCE(password_hash, '') \
             || ' ' || first_name || ' ' || last_name FROM users",
            "SELECT 'structure ' || CAST(id AS TEXT) || ' ' || identifier || ' ' || status || ' ' || company_name \
             || ' ' || postcode || ' ' || city FROM structures",
            "SELECT 'service ' || CAST(id AS TEXT) || ' ' || CAST(structure_id AS TEXT) || ' ' || code || ' ' || label \
             || ' ' || CAST(active AS TEXT) FROM services",
            "SELECT 'membership ' || CAST(id AS TEXT) || ' ' || CAST(user_id AS TEXT) || ' ' \
             || CAST(structure_id AS TEXT) || ' ' || role || ' ' || status FROM memberships",
            "SELECT 'subscription ' || CAST(id AS TEXT) || ' ' || CAST(user_id AS TEXT) || ' ' \
             || CAST(structure_id AS TEXT) || ' ' || space || ' ' || mode || ' ' || status FROM space_subscriptions",
            "SELECT 'opening ' || CAST(structure_id AS TEXT) || ' ' || space FROM space_openings",
            "SELECT 'token ' || CAST(id AS TEXT) || ' ' || purpose || ' ' || COALESCE(CAST(used_at AS TEXT), '-') \
             FROM one_time_tokens",
            "SELECT 'technical ' || CAST(id AS TEXT) || ' ' || login || ' ' || password_hash FROM technical_accounts",
            "SELECT 'audit ' || CAST(id AS TEXT) || ' ' || action FROM audit_log",
            "SELECT 'bank ' || CAST(id AS TEXT) || ' ' || CAST(structure_id AS TEXT) || ' ' || label || ' ' || iban \
             || ' ' || CAST(active AS TEXT) || ' ' || CAST(is_default AS TEXT) FROM bank_accounts",
            "SELECT 'job ' || CAST(id AS TEXT) || ' ' || kind || ' ' || CAST(attempts AS TEXT) FROM jobs",
            "SELECT 'deposit ' || CAST(id AS TEXT) || ' ' || CAST(depositor_id AS TEXT) || ' ' || channel || ' ' \
             || original_sha256 || ' ' || COALESCE(idempotency_key, '-') || ' ' || state FROM deposits",
            "SELECT 'invoice ' || CAST(id AS TEXT) || ' ' || CAST(supplier_id AS TEXT) || ' ' \
             || CAST(recipient_id AS TEXT) || ' ' || number || ' ' || status || ' ' \
             || CAST(rejection_acknowledged AS TEXT) || ' ' || CAST(updated_at AS TEXT) FROM invoices",
            "SELECT 'history ' || CAST(id AS TEXT) || ' ' || CAST(invoice_id AS TEXT) || ' ' \
             || COALESCE(from_status, '-') || ' ' || to_status FROM invoice_history",
        ];
        let mut lines = Vec::new();
        for q in QUERIES {
            let rows: Vec<String> = with_pool!(self, |db| sqlx::query_scalar(*q).fetch_all(db).await?);
            lines.extend(rows);
        }
        lines.sort();
        Ok(lines)
    }
}

/// Runs every scenario on both backends: for each `name`, a module `name` with the tests `sqlite`
/// and `postgres`, each calling `setup(Backend)` (an async fn giving `Option<T>`: `None` when
/// PostgreSQL is not configured, which [`pg_url`] refuses under `CI`) and then `name(t)`, or
/// `name(&t)` with `ref`. The store, app and API tests all use it with their own set-up:
///
/// ```ignore
/// facteur_store::scenarios!(ref facteur_store::testing::TestStore::new => users, spaces);
/// facteur_store::scenarios!(crate::common::spawn => sign_up, approval);
/// ```
#[macro_export]
macro_rules! scenarios {
    (ref $setup:path => $($name:ident),+ $(,)?) => {$(
        mod $name {
            // The setup may be named as the calling module sees it.
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = $setup($crate::Backend::Sqlite).await.expect("SQLite is always available");
                super::$name(&t).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match $setup($crate::Backend::Postgres).await {
                    Some(t) => super::$name(&t).await,
                    None => eprintln!("skipped: {} not set", $crate::testing::PG_URL_VAR),
                }
            }
        }
    )+};
    ($setup:path => $($name:ident),+ $(,)?) => {$(
        mod $name {
            // The setup may be named as the calling module sees it.
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = $setup($crate::Backend::Sqlite).await.expect("SQLite is always available");
                super::$name(t).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match $setup($crate::Backend::Postgres).await {
                    Some(t) => super::$name(t).await,
                    None => eprintln!("skipped: {} not set", $crate::testing::PG_URL_VAR),
                }
            }
        }
    )+};
}

/// The `n`-th of a series of distinct valid SIRETs (SIREN `2nnnnnnn` + key, NIC `0000` + key), for
/// tests that need many structures; the keys are found by the domain's own checks.
///
/// # Panics
/// Never for `n` below 10,000,000 (some key digit always fits).
pub fn numbered_siret(n: u32) -> facteur_domain::Siret {
    let siren = (0..10)
        .map(|k| format!("2{n:07}{k}"))
        .find(|s| facteur_domain::Siren::parse(s).is_ok())
        .expect("a SIREN key");
    (0..10)
        .find_map(|k| facteur_domain::Siret::parse(&format!("{siren}0000{k}")).ok())
        .expect("a SIRET key")
}

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
