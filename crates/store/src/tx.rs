//! The unit of work: one database transaction that a use case opens with [`Store::begin`], passes
//! to every store function it calls, and commits once with [`Tx::commit`]. Dropping a [`Tx`]
//! without committing rolls everything back, so a use case that fails half-way changes nothing.
//!
//! Write functions live on [`Tx`]; the single-change ones also exist on [`Store`] in an
//! autocommit form (see [`autocommit!`]) for callers that make one change only.

use crate::{BUSY_TIMEOUT, Backend, Clock, Pool, Result, Store, StoreError};

/// An open transaction on either backend, with the store's clock.
pub struct Tx {
    pub(crate) conn: TxConn,
    /// Field, not method, so [`crate::audit::audit!`] can read it while the connection is borrowed.
    pub(crate) clock: Clock,
    /// Waited for after a SQLite commit (see `durable.rs`).
    wal_sync: Option<crate::durable::WalSync>,
    /// SQLite: this process's turn to write, released as soon as the commit returns.
    writer: Option<tokio::sync::OwnedMutexGuard<()>>,
    #[cfg(feature = "test-util")]
    faults: crate::testing::Faults,
}

pub(crate) enum TxConn {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// Runs `$body` with `$c` bound to the transaction's connection (`&mut SqliteConnection` or
/// `&mut PgConnection`); like [`crate::with_pool!`], the body is compiled once per backend.
macro_rules! with_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match &mut $tx.conn {
            $crate::tx::TxConn::Sqlite(t) => {
                let $c: &mut sqlx::SqliteConnection = &mut *t;
                $body
            }
            $crate::tx::TxConn::Postgres(t) => {
                let $c: &mut sqlx::PgConnection = &mut *t;
                $body
            }
        }
    };
}
pub(crate) use with_tx;

/// Declares [`Store`] methods that run one [`Tx`] method in a transaction of their own:
/// `autocommit! { fn create_user(user: &NewUser, actor: Actor) -> UserRecord; … }`.
macro_rules! autocommit {
    ($( fn $name:ident($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty; )*) => {
        impl $crate::Store {
            $(
                #[doc = concat!("[`Tx::", stringify!($name), "`](crate::Tx::", stringify!($name), ") in a transaction of its own.")]
                pub async fn $name(&self, $($arg: $ty),*) -> $crate::Result<$ret> {
                    let mut tx = self.begin().await?;
                    let out = tx.$name($($arg),*).await?;
                    tx.commit().await?;
                    Ok(out)
                }
            )*
        }
    };
}
pub(crate) use autocommit;

impl Store {
    /// Opens a transaction. On SQLite it is `BEGIN IMMEDIATE`: it takes the write lock up front,
    /// waiting up to the busy timeout. A deferred transaction that reads and then writes fails at
    /// once with "database is locked" when another connection committed in between (its read
    /// snapshot cannot be upgraded), which the busy timeout does not cover.
    ///
    /// SQLite has one writer at a time, and a connection that finds the lock taken sleeps in
    /// growing steps (up to 100 ms) before it tries again. So this process's write transactions
    /// first queue on an async mutex, in order, and only the one holding it asks SQLite for the
    /// lock; the wait is bounded by the same busy timeout.
    pub async fn begin(&self) -> Result<Tx> {
        let writer = match &self.writer {
            Some(w) => Some(
                tokio::time::timeout(BUSY_TIMEOUT, w.clone().lock_owned())
                    .await
                    .map_err(|_| StoreError::Busy)?,
            ),
            None => None,
        };
        let conn = match &self.pool {
            Pool::Sqlite(pool) => TxConn::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(pool) => TxConn::Postgres(pool.begin().await?),
        };
        Ok(Tx {
            conn,
            clock: self.clock.clone(),
            wal_sync: self.wal_sync.clone(),
            writer,
            #[cfg(feature = "test-util")]
            faults: self.faults.clone(),
        })
    }
}

impl Tx {
    /// Makes every change of this transaction durable: it returns once they are on disk (on
    /// SQLite through the group commit of `durable.rs`).
    pub async fn commit(self) -> Result<()> {
        match self.conn {
            TxConn::Sqlite(t) => {
                t.commit().await?;
                // The next writer goes on while this one waits for the shared fsync.
                drop(self.writer);
                if let Some(sync) = &self.wal_sync {
                    sync.committed().await?;
                }
            }
            TxConn::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Undoes every change of this transaction (dropping the [`Tx`] does the same).
    pub async fn rollback(self) -> Result<()> {
        match self.conn {
            TxConn::Sqlite(t) => t.rollback().await?,
            TxConn::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }

    /// The time every write of this transaction records (the application's clock).
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// The backend of this transaction.
    pub fn backend(&self) -> Backend {
        match self.conn {
            TxConn::Sqlite(_) => Backend::Sqlite,
            TxConn::Postgres(_) => Backend::Postgres,
        }
    }

    /// Called first by every write function: with the `testing` feature, fails the write that a
    /// test chose (see [`crate::testing::Faults`]); without it, nothing.
    #[allow(clippy::unused_self, clippy::unnecessary_wraps)]
    pub(crate) fn step(&self, name: &'static str) -> Result<()> {
        #[cfg(feature = "test-util")]
        self.faults.step(name)?;
        #[cfg(not(feature = "test-util"))]
        let _ = name;
        Ok(())
    }
}
