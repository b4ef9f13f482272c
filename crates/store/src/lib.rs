//! Persistence for Facteur: one [`Store`] over SQLite or PostgreSQL (chosen by URL at start-up),
//! content-addressed [`Blobs`], and the audit log written by every state change.
//!
//! Each query is written once in portable SQL (`$n` placeholders work on both backends) and
//! compiled twice through [`with_pool!`] — once per pool type — so the two backends cannot drift.
//! Only the migrations differ per backend (`migrations/sqlite`, `migrations/postgres`).

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod accounts;
mod attachments;
mod audit;
mod blobs;
mod clock;
mod directory;
mod durable;
mod error;
mod invoices;
mod jobs;
mod lists;
pub mod private_fs;
mod records;
mod search;
mod structure_admin;
#[cfg(feature = "test-util")]
pub mod testing;
mod tx;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use time::OffsetDateTime;

pub use attachments::{AttachmentId, AttachmentLink, AttachmentRecord, AttachmentRole, NewAttachment};
pub use blobs::{BlobId, Blobs, INLINE_BLOB_MAX, PART_BYTES};
pub use clock::Clock;
pub use error::{Result, StoreError, UNIQUE_CONSTRAINTS, Unique};
pub use facteur_domain::{Page, PageRequest};
pub use invoices::{
    DepositChannel, DepositId, DepositRecord, DepositState, FlowEntry, FlowFinding, INVOICE_STATUS_CHANGED,
    InvoiceCursor, InvoiceHistoryRecord, InvoiceId, InvoiceKind, InvoicePage, InvoiceQuery, InvoiceRecord, InvoiceSide,
    NewDeposit, NewInvoice, Reroute, StatusChange,
};
pub use jobs::{JobCounts, JobId, JobRecord, JobStatus, NewJob};
pub use lists::MembershipLine;
pub use records::*;
pub use search::{Scope, StructureQuery};
pub use structure_admin::{BankAccountChange, BankAccountRecord, BankAccountRefusal};
pub use tx::Tx;

/// Default database when nothing is configured: embedded SQLite under `./facteur-data`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./facteur-data/facteur.db";
/// Default blob location.
pub const DEFAULT_BLOB_URL: &str = "file://./facteur-data/blobs";

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connections of a store's pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Open (idle or in use).
    pub open: u32,
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The database handle. Cheap to clone (pools are reference-counted).
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// Where every written timestamp comes from (the application's clock).
    clock: Clock,
    /// The directory's size as the search last read it (it only chooses a plan).
    directory_size: search::SizeCache,
    /// The shared fsync every commit waits for (SQLite files; see `durable.rs`).
    wal_sync: Option<durable::WalSync>,
    /// SQLite: held by the one open write transaction (see [`Store::begin`]).
    writer: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    /// Writes a test chose to fail (shared by clones, like the pool).
    #[cfg(feature = "test-util")]
    faults: testing::Faults,
}

/// Runs `$body` with `$db` bound to the concrete pool. The body is compiled once per backend, so
/// one method body serves both (the duplicate is made by the compiler, not by hand).
macro_rules! with_pool {
    ($store:expr, |$db:ident| $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($db) => $body,
            $crate::Pool::Postgres($db) => $body,
        }
    };
}

pub(crate) use tx::{autocommit, with_tx};
pub(crate) use with_pool;

/// How long a SQLite write waits for its turn (the in-process queue, then SQLite's lock).
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes of the database file SQLite reads through a memory map (address space, not memory:
/// the pages are the kernel's cache, shared by every connection).
const SQLITE_MMAP_BYTES: u64 = 1 << 30;

/// Per-connection page cache, in KiB when negative (SQLite's convention): 16 MiB.
const SQLITE_CACHE_KIB: i64 = -16 * 1024;

impl Store {
    /// Connects to `sqlite://path` (file created if missing, WAL, `busy_timeout`, foreign keys)
    /// or `postgres://…`. Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &str) -> Result<Store> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(BUSY_TIMEOUT)
                .foreign_keys(true)
                // Reads through a shared memory map instead of a `pread` and a copy per page, and
                // a larger private cache: an index walk over the directory touches thousands of
                // pages per search (see `search.rs`).
                .pragma("mmap_size", SQLITE_MMAP_BYTES.to_string())
                .pragma("cache_size", SQLITE_CACHE_KIB.to_string());
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            if !in_memory {
                if let Some(parent) = opts.get_filename().parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)?;
                }
                // Private from the first byte; SQLite gives the WAL and shared-memory files the
                // database file's mode.
                private_fs::create_private_file(opts.get_filename())?;
            }
            // An in-memory database exists per connection: keep exactly one.
            let max = if in_memory { 1 } else { 8 };
            let wal_sync = (!in_memory).then(|| durable::WalSync::new(opts.get_filename().to_path_buf()));
            let pool = SqlitePoolOptions::new().max_connections(max).connect_with(opts).await?;
            Ok(Store {
                pool: Pool::Sqlite(pool),
                clock: Clock::system(),
                directory_size: search::SizeCache::default(),
                wal_sync,
                writer: Some(std::sync::Arc::new(tokio::sync::Mutex::new(()))),
                #[cfg(feature = "test-util")]
                faults: testing::Faults::default(),
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new().max_connections(16).connect_with(opts).await?;
            Ok(Store {
                pool: Pool::Postgres(pool),
                clock: Clock::system(),
                directory_size: search::SizeCache::default(),
                wal_sync: None,
                writer: None,
                #[cfg(feature = "test-util")]
                faults: testing::Faults::default(),
            })
        } else {
            Err(StoreError::UnsupportedUrl(redact(url)))
        }
    }

    /// Applies the embedded migrations of the backend (idempotent; run at start-up and by
    /// `facteur migrate`).
    pub async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await?,
            Pool::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        Ok(())
    }

    /// [`Store::connect`] then [`Store::migrate`].
    pub async fn open(url: &str) -> Result<Store> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// This store, writing its timestamps with `clock` (the application's) instead of the system
    /// clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Store {
        self.clock = clock;
        self
    }

    /// The time every write of this store records.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// fsyncs the SQLite group commit has run (`None`: not a SQLite file).
    pub fn group_commit_fsyncs(&self) -> Option<u64> {
        self.wal_sync.as_ref().map(durable::WalSync::fsyncs)
    }

    /// Connections of the pool now, for `/metrics`.
    pub fn pool_stats(&self) -> PoolStats {
        let (open, idle, max) = with_pool!(self, |db| (
            db.size(),
            db.num_idle(),
            db.options().get_max_connections()
        ));
        PoolStats {
            open,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
            max,
        }
    }

    /// A trivial round trip, for `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        with_pool!(self, |db| sqlx::query("SELECT 1").execute(db).await?.rows_affected());
        Ok(())
    }

    /// Closes every connection (waits for checked-out ones).
    pub async fn close(&self) {
        with_pool!(self, |db| db.close().await);
    }
}

/// Hides the password of a URL before it reaches an error message or a log.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_owned(),
    }
}

/// Timestamps are kept in UTC with whole seconds: SQLite stores them as RFC 3339 text, which then
/// sorts and compares correctly as text, and both backends return exactly what was written.
pub fn normalize_time(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.replace_nanosecond(0).unwrap_or(t)
}

/// Hex SHA-256 of a secret token: what the store keeps for sessions and one-time links.
pub fn hash_token(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://***@h/db");
        assert_eq!(redact("mysql://h/db"), "mysql://h/db");
    }

    #[test]
    fn normalizes_time() {
        let t = time::macros::datetime!(2026-01-02 03:04:05.678 +02:00);
        assert_eq!(normalize_time(t), time::macros::datetime!(2026-01-02 01:04:05 UTC));
    }
}
