//! Use cases of Facteur: accounts and attachment requests, memberships and spaces, technical (API)
//! accounts, the directory of public structures, mail, demo data.
//!
//! [`App`] is the one entry point the web layer and the CLI call. Every use case that reads or
//! changes a structure takes the acting [`Actor`] and checks that it belongs to (or manages) that
//! structure first; a caller outside the structure gets [`AppError::NotFound`] or
//! [`AppError::Forbidden`] and nothing changes. HTTP types never enter this crate; SQL never leaves
//! the store.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod access;
mod accounts;
pub mod archive;
mod attachments;
pub mod demo;
mod directory;
pub mod directory_csv;
mod error;
mod flows;
mod invoice_files;
mod invoices;
mod jobs;
pub mod mail;
mod memberships;
pub mod ratelimit;
pub mod secrets;
mod structure_admin;
mod technical;
mod views;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use accounts::SignUp;
pub use attachments::{
    AttachmentRef, AttachmentUpload, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENT_NAME_CHARS, MAX_INVOICE_ATTACHMENT_BYTES,
    PdfDeposit, PdfInvoiceData,
};
pub use directory::MAX_SEARCH_CHARS;
pub use error::{AppError, AppResult, Conflict, Problem};
pub use facteur_domain::{Page, PageRequest};
pub use facteur_store::{
    AttachmentId, AttachmentRecord, AttachmentRole, Clock, DepositId, DepositState, InvoiceHistoryRecord, InvoiceId,
    InvoiceKind, InvoiceRecord,
};
pub use flows::{
    FlowFileUpload, FlowReceipt, FlowReport, FlowSyntax, FlowUpload, MAX_FILE_NAME_CHARS, MAX_INVOICE_FILE_BYTES,
    RejectedInvoice, ReportFinding, flow_number, parse_flow_number,
};
pub use invoice_files::{DownloadFile, DownloadFormat, MAX_DOWNLOAD_BYTES, MAX_DOWNLOAD_INVOICES};
pub use invoices::{
    Deposited, EntryLine, EntryMode, EntryTotals, EntryVatLine, Finding, InvoiceDetail, InvoiceEntry, InvoiceFilter,
    InvoiceLine, PlatformRule, Rerouting, VatRate,
};
pub use jobs::{JobCounters, JobRun, JobSettings, JobTotals, WorkerHandle};
pub use mail::{MailKind, Mailer};
pub use ratelimit::{Limit, RateLimits};
pub use structure_admin::{BankAccountEdit, BankAccountView, ServiceForm, StructureAdmin};
pub use views::*;

use time::Duration;

/// Everything the use cases need to know about their environment.
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// Data directory (`./facteur-data` by default): SQLite file, blobs, outbox, demo credentials.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default `sqlite://DATA/facteur.db`.
    pub database_url: String,
    /// `file://…` (default `file://DATA/blobs`) or an object-store URL.
    pub blob_url: String,
    /// Public base URL used in e-mailed links, without trailing slash (`http://127.0.0.1:8080`).
    pub base_url: String,
    /// `FACTEUR_SMTP_URL`; `None` writes mail to `DATA/outbox/*.eml`.
    pub smtp_url: Option<String>,
    /// Sender address (`FACTEUR_SMTP_FROM`).
    pub smtp_from: String,
    /// Lifetime of a portal session.
    pub session_ttl: Duration,
    /// Lifetime of an activation link (60 minutes, as on Chorus Pro).
    pub activation_ttl: Duration,
    /// Lifetime of a password-reset link.
    pub password_reset_ttl: Duration,
    /// Technical-account password lifetime (424 days, as on Chorus Pro).
    pub technical_password_ttl: Duration,
    /// Login / sign-up limits (per node, in memory).
    pub rate_limits: RateLimits,
    /// The job queue's worker settings.
    pub jobs: JobSettings,
}

impl AppConfig {
    /// Defaults rooted at `data_dir`: SQLite + local blobs + outbox mail.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            database_url: format!("sqlite://{}", data_dir.join("facteur.db").display()),
            blob_url: format!("file://{}", data_dir.join("blobs").display()),
            base_url: "http://127.0.0.1:8080".to_owned(),
            smtp_url: None,
            smtp_from: "Facteur <noreply@facteur.localhost>".to_owned(),
            session_ttl: Duration::hours(12),
            activation_ttl: Duration::minutes(60),
            password_reset_ttl: Duration::minutes(60),
            technical_password_ttl: Duration::days(424),
            rate_limits: RateLimits::default(),
            jobs: JobSettings::default(),
            data_dir,
        }
    }

    /// `base_url` + `path` (path starts with `/`).
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.base_url.trim_end_matches('/'), path)
    }
}

/// Paths of the portal pages that e-mailed links point to (the portal must serve them).
pub mod links {
    /// `GET /activer/{token}`: activates an account.
    pub const ACTIVATION: &str = "/activer/";
    /// `GET /mot-de-passe/reinitialiser/{token}`: password reset form.
    pub const PASSWORD_RESET: &str = "/mot-de-passe/reinitialiser/";
    /// `GET /login`: the login page.
    pub const LOGIN: &str = "/login";
    /// `GET /password/forgot`: asks for a reset link.
    pub const PASSWORD_FORGOT: &str = "/password/forgot";
}

struct Inner {
    config: AppConfig,
    store: facteur_store::Store,
    /// Original bytes of deposits and their structured copies, content-addressed.
    blobs: facteur_store::Blobs,
    mailer: Mailer,
    clock: Clock,
    limiter: ratelimit::RateLimiter,
    /// Woken by every commit of this node, so its worker sends mail without waiting for a poll.
    wake: tokio::sync::Notify,
    job_metrics: jobs::JobCounters,
}

/// The application: configuration, store, mailer, clock. Cheap to clone (shared inside).
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("data_dir", &self.inner.config.data_dir)
            .finish_non_exhaustive()
    }
}

impl App {
    /// Connects the database named in `config`, runs migrations, and prepares the mailer.
    pub async fn open(config: AppConfig) -> AppResult<Self> {
        facteur_store::private_fs::private_dir(&config.data_dir)
            .map_err(|e| AppError::Internal(format!("data dir {}: {e}", config.data_dir.display())))?;
        Self::open_with_clock(config, Clock::system()).await
    }

    /// [`App::open`] with a chosen clock (tests move a manual clock to expire links and sessions).
    pub async fn open_with_clock(config: AppConfig, clock: Clock) -> AppResult<Self> {
        let store = facteur_store::Store::open(&config.database_url).await?;
        Self::from_store(config, store, clock)
    }

    /// Builds an app over an already connected and migrated store (tests, the CLI).
    pub fn from_store(config: AppConfig, store: facteur_store::Store, clock: Clock) -> AppResult<Self> {
        let mailer = Mailer::new(config.smtp_url.as_deref(), &config.smtp_from, &config.data_dir)?
            .with_portal_url(config.link("/"));
        // One clock: what the store writes is stamped with the time the use cases see.
        let store = store.with_clock(clock.clone());
        let blobs = facteur_store::Blobs::from_url(&config.blob_url)?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                store,
                blobs,
                mailer,
                clock,
                limiter: ratelimit::RateLimiter::default(),
                wake: tokio::sync::Notify::new(),
                job_metrics: jobs::JobCounters::default(),
            }),
        })
    }

    /// The store (health checks, and crates that own their own tables).
    pub fn store(&self) -> &facteur_store::Store {
        &self.inner.store
    }

    /// The blob store (original deposits, structured copies). Read blobs with [`App::blob`]:
    /// small ones live in the database.
    pub fn blobs(&self) -> &facteur_store::Blobs {
        &self.inner.blobs
    }

    /// Before a use case's transaction: a blob larger than [`facteur_store::INLINE_BLOB_MAX`]
    /// goes to the blob store now (durable before the commit that will name it); a smaller one
    /// waits for [`Staged::record`] inside the transaction, so the group commit makes it durable
    /// with the records instead of a file fsync of its own.
    pub(crate) async fn stage_blob(&self, bytes: Vec<u8>) -> AppResult<Staged> {
        if bytes.len() <= facteur_store::INLINE_BLOB_MAX {
            Ok(Staged::Inline(bytes))
        } else {
            Ok(Staged::Stored(self.blobs().put(bytes).await?))
        }
    }

    /// A blob's bytes, wherever [`App::stage_blob`] kept them. `None` when absent.
    pub async fn blob(&self, id: &facteur_store::BlobId) -> AppResult<Option<Vec<u8>>> {
        if let Some(bytes) = self.store().inline_blob(id).await? {
            return Ok(Some(bytes));
        }
        Ok(self.blobs().get(id).await?)
    }

    /// The configuration.
    pub fn config(&self) -> &AppConfig {
        &self.inner.config
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.inner.config.data_dir
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// The mailer.
    pub fn mailer(&self) -> &Mailer {
        &self.inner.mailer
    }

    /// True when the database answers (for `/healthz`).
    pub async fn healthy(&self) -> bool {
        self.inner.store.ping().await.is_ok()
    }
}

/// A blob on its way into a use case's records (see [`App::stage_blob`]).
pub(crate) enum Staged {
    /// Small: written by [`Staged::record`].
    Inline(Vec<u8>),
    /// Already in the blob store.
    Stored(facteur_store::BlobId),
}

impl Staged {
    /// Inside the use case's transaction: the blob's id, a small blob written with the records.
    pub(crate) async fn record(self, tx: &mut facteur_store::Tx) -> AppResult<facteur_store::BlobId> {
        match self {
            Staged::Inline(bytes) => Ok(tx.put_inline_blob(&bytes).await?),
            Staged::Stored(id) => Ok(id),
        }
    }
}
