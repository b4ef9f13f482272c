//! Group commit for SQLite. The database runs in WAL mode with `synchronous=NORMAL`: a commit
//! appends its frames to the `-wal` file without an fsync, so it survives the process dying but
//! not a power cut. [`Tx::commit`](crate::Tx::commit) therefore waits on [`WalSync`] before it
//! returns: one fsync of the WAL file makes every commit appended before it durable, so commits
//! that finish while an fsync is running share the next one instead of paying one each
//! (`synchronous=FULL` would fsync once per commit, under the write lock).
//!
//! Why this is enough: SQLite recovers a WAL by replaying its frames up to the last valid commit
//! frame, and a checkpoint (which copies frames into the database file and may restart the WAL)
//! fsyncs the WAL before and the database file after, even under `NORMAL`. A commit's frames are
//! thus on disk once the WAL file has been fsynced after the commit, whichever of the two files
//! holds them later.
//!
//! PostgreSQL needs none of this: its commit returns after its WAL flush, which it already
//! shares between concurrent commits.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Result, StoreError};

/// The fsync shared by the commits of one SQLite database file (cheap to clone).
#[derive(Clone, Debug)]
pub(crate) struct WalSync {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The `-wal` file.
    wal: PathBuf,
    /// The database file, synced instead when the WAL file is gone (the last connection closing
    /// checkpoints and removes it after syncing the database).
    db: PathBuf,
    /// Commits counted so far: a commit takes the next number once it has returned.
    committed: AtomicU64,
    /// Every commit numbered up to this one is durable.
    synced: AtomicU64,
    /// Held by the one caller running an fsync; the others queue here and most find, once
    /// they get it, that the fsync they waited for covered them.
    leader: tokio::sync::Mutex<()>,
    /// fsyncs run so far.
    fsyncs: AtomicU64,
}

impl WalSync {
    /// The syncer of the SQLite database file `db`.
    pub(crate) fn new(db: PathBuf) -> WalSync {
        let mut wal = db.clone().into_os_string();
        wal.push("-wal");
        WalSync {
            inner: Arc::new(Inner {
                wal: PathBuf::from(wal),
                db,
                committed: AtomicU64::new(0),
                synced: AtomicU64::new(0),
                leader: tokio::sync::Mutex::new(()),
                fsyncs: AtomicU64::new(0),
            }),
        }
    }

    /// Returns once the commit that just returned is on disk.
    pub(crate) async fn committed(&self) -> Result<()> {
        let inner = &self.inner;
        let mine = inner.committed.fetch_add(1, Ordering::AcqRel) + 1;
        if inner.synced.load(Ordering::Acquire) >= mine {
            return Ok(());
        }
        let _leader = inner.leader.lock().await;
        if inner.synced.load(Ordering::Acquire) >= mine {
            return Ok(());
        }
        // Every commit numbered up to here had returned before this fsync starts: it covers them.
        let upto = inner.committed.load(Ordering::Acquire);
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.fsync())
            .await
            .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
        inner.synced.fetch_max(upto, Ordering::AcqRel);
        inner.fsyncs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn fsync(&self) -> Result<()> {
        match std::fs::File::open(&self.inner.wal) {
            Ok(f) => f.sync_data()?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::File::open(&self.inner.db)?.sync_data()?,
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// fsyncs run so far.
    pub(crate) fn fsyncs(&self) -> u64 {
        self.inner.fsyncs.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn concurrent_commits_share_fsyncs_and_each_waits_for_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        std::fs::write(&db, b"db").unwrap();
        std::fs::write(dir.path().join("x.db-wal"), b"wal").unwrap();
        let sync = WalSync::new(db);
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let s = sync.clone();
                tokio::spawn(async move { s.committed().await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let n = sync.fsyncs();
        assert!(n >= 1, "every commit waits for an fsync");
        assert!(n < 200, "commits waiting together share an fsync ({n} for 200)");
        assert_eq!(sync.inner.synced.load(Ordering::Acquire), 200);
        // A lone commit later gets an fsync of its own.
        sync.committed().await.unwrap();
        assert_eq!(sync.fsyncs(), n + 1);
    }

    #[tokio::test]
    async fn without_a_wal_file_the_database_file_is_synced_and_a_missing_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        std::fs::write(&db, b"db").unwrap();
        WalSync::new(db.clone()).committed().await.unwrap();
        std::fs::remove_file(&db).unwrap();
        assert!(WalSync::new(db).committed().await.is_err());
    }
}
