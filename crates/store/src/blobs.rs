//! Content-addressed blob storage: a blob's name is the hex SHA-256 of its bytes, so storing the
//! same file twice costs nothing, and every read is checked against its name.

use std::sync::Arc;

use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use sha2::{Digest, Sha256};

use crate::{Result, Store, StoreError, Tx, with_pool, with_tx};

/// Largest blob kept in the database ([`Tx::put_inline_blob`]) rather than the blob store.
pub const INLINE_BLOB_MAX: usize = 64 * 1024;

/// Size of the parts a file is stored in by [`Blobs::put_file`] (S3 wants 5 MiB at least).
pub const PART_BYTES: usize = 8 * 1024 * 1024;

/// Hex SHA-256 of a blob's content: its name in the store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BlobId(String);

impl BlobId {
    /// The id of `bytes`.
    pub fn of(bytes: &[u8]) -> BlobId {
        BlobId(hex::encode(Sha256::digest(bytes)))
    }

    /// Parses a stored id: 64 lower-case hex digits.
    pub fn parse(s: &str) -> Result<BlobId> {
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(BlobId(s.to_owned()))
        } else {
            Err(StoreError::corrupt("blobs", "blob id is not a SHA-256 hex digest"))
        }
    }

    /// The id of a finished SHA-256 digest (computed while streaming).
    pub fn from_digest(digest: &[u8]) -> BlobId {
        BlobId(hex::encode(digest))
    }

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `ab/cd/abcd…`: two levels of fan-out keep directories small on a local disk.
    fn path(&self) -> Path {
        Path::from(format!("{}/{}/{}", &self.0[..2], &self.0[2..4], self.0))
    }
}

impl TryFrom<String> for BlobId {
    type Error = StoreError;
    fn try_from(s: String) -> Result<Self> {
        BlobId::parse(&s)
    }
}

impl From<BlobId> for String {
    fn from(b: BlobId) -> String {
        b.0
    }
}

impl std::fmt::Display for BlobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The blob store (local directory, in memory; S3 would plug in here via `object_store`'s `aws`
/// feature).
#[derive(Clone, Debug)]
pub struct Blobs {
    inner: Arc<dyn ObjectStore>,
    /// The folder of a `file://` store, whose files are made private after each write.
    local_dir: Option<std::path::PathBuf>,
}

impl Blobs {
    /// `file://DIR` (created if missing; relative paths allowed, e.g. `file://./facteur-data/blobs`)
    /// or `memory://` (tests).
    pub fn from_url(url: &str) -> Result<Blobs> {
        if let Some(dir) = url.strip_prefix("file://") {
            if dir.is_empty() {
                return Err(StoreError::UnsupportedUrl(url.to_owned()));
            }
            crate::private_fs::private_dir(std::path::Path::new(dir))?;
            let fs = LocalFileSystem::new_with_prefix(dir)?;
            Ok(Blobs {
                inner: Arc::new(fs),
                local_dir: Some(std::path::PathBuf::from(dir)),
            })
        } else if url == "memory://" || url == "memory:" {
            Ok(Blobs::in_memory())
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// A store that lives in memory (tests).
    pub fn in_memory() -> Blobs {
        Blobs {
            inner: Arc::new(InMemory::new()),
            local_dir: None,
        }
    }

    /// Stores `bytes` and returns their id, once they are on disk (a local file and its folder
    /// are fsynced: the caller records the id next, and the record must not outlive the bytes).
    /// Idempotent: an existing blob is left as is (the create-only put makes concurrent writers
    /// of the same content safe).
    pub async fn put(&self, bytes: impl Into<Vec<u8>>) -> Result<BlobId> {
        let bytes: Vec<u8> = bytes.into();
        let id = BlobId::of(&bytes);
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self.inner.put_opts(&id.path(), PutPayload::from(bytes), opts).await {
            Ok(_) => {
                if let Some(dir) = &self.local_dir {
                    let file = dir.join(id.path().as_ref());
                    crate::private_fs::private_file(&file)?;
                    tokio::task::spawn_blocking(move || sync_file_and_folder(&file))
                        .await
                        .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
                }
                Ok(id)
            }
            Err(object_store::Error::AlreadyExists { .. }) => Ok(id),
            Err(e) => Err(e.into()),
        }
    }

    /// Stores the file at `path` under `id`, the digest its receiver computed while writing it,
    /// in parts of [`PART_BYTES`]: a large flow never sits whole in memory. The digest is checked
    /// again while reading, and the upload abandoned (nothing stored) if the file is not `id`.
    /// Idempotent like [`Blobs::put`].
    pub async fn put_file(&self, path: &std::path::Path, id: &BlobId) -> Result<()> {
        use tokio::io::AsyncReadExt;
        if self.exists(id).await? {
            return Ok(());
        }
        let mut file = tokio::fs::File::open(path).await?;
        let mut upload = self.inner.put_multipart(&id.path()).await?;
        let mut hasher = Sha256::new();
        loop {
            let mut part = vec![0u8; PART_BYTES];
            let mut filled = 0;
            while filled < part.len() {
                let n = match file.read(part.get_mut(filled..).unwrap_or_default()).await {
                    Ok(n) => n,
                    Err(e) => {
                        let _ = upload.abort().await;
                        return Err(e.into());
                    }
                };
                if n == 0 {
                    break;
                }
                filled += n;
            }
            if filled == 0 {
                break;
            }
            part.truncate(filled);
            hasher.update(&part);
            if let Err(e) = upload.put_part(PutPayload::from(part)).await {
                let _ = upload.abort().await;
                return Err(e.into());
            }
            if filled < PART_BYTES {
                break;
            }
        }
        if hex::encode(hasher.finalize()) != id.0 {
            let _ = upload.abort().await;
            return Err(StoreError::BlobCorrupt(id.0.clone()));
        }
        upload.complete().await?;
        if let Some(dir) = &self.local_dir {
            let file = dir.join(id.path().as_ref());
            crate::private_fs::private_file(&file)?;
            // On disk before the caller records the id, as `put`.
            tokio::task::spawn_blocking(move || sync_file_and_folder(&file))
                .await
                .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
        }
        Ok(())
    }

    /// Copies a blob into the file `dest` piece by piece, checking its content against its id;
    /// `false` when absent. For blobs too large to read into memory.
    pub async fn get_to_file(&self, id: &BlobId, dest: &std::path::Path) -> Result<bool> {
        use futures_util::StreamExt;
        use tokio::io::AsyncWriteExt;
        let got = match self.inner.get(&id.path()).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        let mut out = tokio::fs::File::create(dest).await?;
        let mut hasher = Sha256::new();
        let mut stream = got.into_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            hasher.update(&chunk);
            out.write_all(&chunk).await?;
        }
        out.flush().await?;
        if hex::encode(hasher.finalize()) != id.0 {
            return Err(StoreError::BlobCorrupt(id.0.clone()));
        }
        Ok(true)
    }

    /// Reads a blob, checking its content against its id. `None` when absent.
    pub async fn get(&self, id: &BlobId) -> Result<Option<Vec<u8>>> {
        let got = match self.inner.get(&id.path()).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let bytes = got.bytes().await?.to_vec();
        if BlobId::of(&bytes) != *id {
            return Err(StoreError::BlobCorrupt(id.0.clone()));
        }
        Ok(Some(bytes))
    }

    /// Whether a blob exists.
    pub async fn exists(&self, id: &BlobId) -> Result<bool> {
        match self.inner.head(&id.path()).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a blob (absent is fine).
    pub async fn delete(&self, id: &BlobId) -> Result<()> {
        match self.inner.delete(&id.path()).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// fsyncs a new file, then the folder that names it.
fn sync_file_and_folder(file: &std::path::Path) -> std::io::Result<()> {
    std::fs::File::open(file)?.sync_data()?;
    if let Some(folder) = file.parent() {
        std::fs::File::open(folder)?.sync_all()?;
    }
    Ok(())
}

impl Tx {
    /// Keeps a blob of at most [`INLINE_BLOB_MAX`] bytes in the database, inside this
    /// transaction: durable with its commit, without a file of its own (the table's check refuses
    /// a larger one). Same id as
    /// [`Blobs::put`] would give; storing the same bytes twice keeps one row.
    pub async fn put_inline_blob(&mut self, bytes: &[u8]) -> Result<BlobId> {
        self.step("put_inline_blob")?;
        let id = BlobId::of(bytes);
        with_tx!(self, |c| sqlx::query(
            "INSERT INTO inline_blobs (id, bytes) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING"
        )
        .bind(id.as_str())
        .bind(bytes)
        .execute(c)
        .await
        .map(|_| ())?);
        Ok(id)
    }
}

impl Store {
    /// A blob kept by [`Tx::put_inline_blob`], checked against its id. `None` when absent.
    pub async fn inline_blob(&self, id: &BlobId) -> Result<Option<Vec<u8>>> {
        let bytes: Option<Vec<u8>> = with_pool!(self, |db| sqlx::query_scalar(
            "SELECT bytes FROM inline_blobs WHERE id = $1"
        )
        .bind(id.as_str())
        .fetch_optional(db)
        .await?);
        match bytes {
            Some(b) if BlobId::of(&b) != *id => Err(StoreError::BlobCorrupt(id.0.clone())),
            other => Ok(other),
        }
    }
}
