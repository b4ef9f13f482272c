//! Layered configuration (figment): built-in defaults → `facteur.toml` → `FACTEUR_*` environment
//! variables → command-line flags. Every default hangs off the data directory, so `facteur serve`
//! with nothing configured keeps everything under `./facteur-data/` (SQLite + local blobs + mail
//! written to `outbox/`).
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Every setting, with its environment variable in the doc comment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `FACTEUR_DATA_DIR`: SQLite file, blobs, outbox, token secret, demo credentials.
    pub data_dir: PathBuf,
    /// `FACTEUR_DATABASE_URL`: `sqlite://…` or `postgres://…`; default `sqlite://DATA/facteur.db`.
    pub database_url: Option<String>,
    /// `FACTEUR_BLOB_URL`: `file://…`; default `file://DATA/blobs`.
    pub blob_url: Option<String>,
    /// `FACTEUR_LISTEN`: `host:port`.
    pub listen: String,
    /// `FACTEUR_BASE_URL`: public URL used in e-mailed links; default `http://LISTEN`.
    pub base_url: Option<String>,
    /// `FACTEUR_SMTP_URL`: e.g. `smtp://127.0.0.1:2525`; unset writes mail to `DATA/outbox/`.
    pub smtp_url: Option<String>,
    /// `FACTEUR_SMTP_FROM`: sender address.
    pub smtp_from: Option<String>,
    /// `FACTEUR_TOKEN_SECRET`: HMAC key of API access tokens (≥ 32 characters). Unset: a random
    /// key is created once in `DATA/token-secret`. Every node of a scale-out deployment needs the
    /// same value.
    pub token_secret: Option<String>,
    /// `FACTEUR_TOKEN_TTL_SECS`: lifetime of API access tokens.
    pub token_ttl_secs: u64,
    /// `FACTEUR_REQUEST_TIMEOUT_SECS`: requests running longer are answered 408.
    pub request_timeout_secs: u64,
    /// `FACTEUR_HEADER_READ_TIMEOUT_SECS`: a client must send its request head within this time.
    pub header_read_timeout_secs: u64,
    /// `FACTEUR_FORM_LIMIT_KB`: largest body of the token endpoint and portal forms.
    pub form_limit_kb: usize,
    /// `FACTEUR_API_BODY_LIMIT_KB`: largest JSON body of a `/cpro/` service.
    pub api_body_limit_kb: usize,
    /// `FACTEUR_UPLOAD_LIMIT_MB`: largest upload (invoice files and flows, after authentication).
    pub upload_limit_mb: usize,
    /// `FACTEUR_FLOW_LIMIT_MB`: largest flow streamed to `factures/v1/deposer/flux` as
    /// `multipart/form-data` (a batch archive).
    pub flow_limit_mb: usize,
    /// `FACTEUR_CLIENT_IP_HEADER`: header a trusted reverse proxy writes the client's address in
    /// (`X-Forwarded-For`: its last entry; `X-Real-IP`), for rate limits. Unset: the peer
    /// address. Set it only when every request comes through that proxy.
    pub client_ip_header: Option<String>,
    /// `FACTEUR_JOBS_POLL_MS`: how often an idle job worker looks for due jobs (it is also woken
    /// at once by its own node's commits).
    pub jobs_poll_ms: u64,
    /// `FACTEUR_JOBS_LEASE_SECS`: how long a worker holds a job before another node may take it.
    pub jobs_lease_secs: u64,
    /// `FACTEUR_JOBS_MAX_ATTEMPTS`: attempts before a job is given up (status `DEAD`).
    pub jobs_max_attempts: u32,
    /// `FACTEUR_JOBS_BACKOFF_SECS`: wait before the first retry, doubled at each further failure…
    pub jobs_backoff_secs: u64,
    /// `FACTEUR_JOBS_BACKOFF_MAX_SECS`: …up to this.
    pub jobs_backoff_max_secs: u64,
    /// `FACTEUR_JOBS_HOUSEKEEPING_SECS`: period of the housekeeping job (expired sessions,
    /// finished jobs older than `FACTEUR_JOBS_KEEP_DAYS`).
    pub jobs_housekeeping_secs: u64,
    /// `FACTEUR_JOBS_KEEP_DAYS`: how long finished jobs stay in the table.
    pub jobs_keep_days: u64,
    /// `FACTEUR_LOG`: tracing filter (`RUST_LOG` syntax), e.g. `info,facteur_web=debug`.
    pub log: String,
    /// `FACTEUR_LOG_FORMAT`: `text` or `json`.
    pub log_format: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("facteur-data"),
            database_url: None,
            blob_url: None,
            listen: "127.0.0.1:8080".to_owned(),
            base_url: None,
            smtp_url: None,
            smtp_from: None,
            token_secret: None,
            token_ttl_secs: 3600,
            request_timeout_secs: 30,
            header_read_timeout_secs: 10,
            form_limit_kb: 64,
            api_body_limit_kb: 1024,
            upload_limit_mb: 150,
            flow_limit_mb: 1024,
            client_ip_header: None,
            jobs_poll_ms: 1000,
            jobs_lease_secs: 300,
            jobs_max_attempts: 8,
            jobs_backoff_secs: 30,
            jobs_backoff_max_secs: 3600,
            jobs_housekeeping_secs: 3600,
            jobs_keep_days: 7,
            log: "info".to_owned(),
            log_format: "text".to_owned(),
        }
    }
}

/// The figment behind [`Config::load`]: defaults, then the TOML file if present, then the
/// environment.
pub fn figment(file: &Path) -> Figment {
    Figment::from(Serialized::defaults(Config::default()))
        .merge(Toml::file(file))
        .merge(Env::prefixed("FACTEUR_").ignore(&["config", "shared", "corpus", "test_pg_url"]))
}

impl Config {
    /// Reads the layers; a bad value is reported with the layer it came from.
    pub fn load(file: &Path) -> anyhow::Result<Self> {
        Self::from_figment(figment(file))
    }

    /// Extracts a configuration from any figment (tests layer their own providers).
    pub fn from_figment(figment: Figment) -> anyhow::Result<Self> {
        let config: Config = figment.extract().context("invalid configuration")?;
        if !matches!(config.log_format.as_str(), "text" | "json") {
            anyhow::bail!("log_format must be `text` or `json`, not `{}`", config.log_format);
        }
        if config.token_secret.as_ref().is_some_and(|s| s.len() < 32) {
            anyhow::bail!("token_secret must be at least 32 characters");
        }
        if let Some(h) = &config.client_ip_header {
            axum_header_name(h)?;
        }
        Ok(config)
    }

    /// The use-case configuration, with URLs derived from the data directory when unset.
    pub fn app_config(&self) -> facteur_app::AppConfig {
        let mut app = facteur_app::AppConfig::new(&self.data_dir);
        if let Some(url) = &self.database_url {
            app.database_url.clone_from(url);
        }
        if let Some(url) = &self.blob_url {
            app.blob_url.clone_from(url);
        }
        app.base_url = self
            .base_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen));
        app.smtp_url.clone_from(&self.smtp_url);
        if let Some(from) = &self.smtp_from {
            app.smtp_from.clone_from(from);
        }
        let secs = |n: u64| time::Duration::seconds(i64::try_from(n.max(1)).unwrap_or(i64::MAX));
        app.jobs = facteur_app::JobSettings {
            poll_interval: Duration::from_millis(self.jobs_poll_ms.max(10)),
            lease: secs(self.jobs_lease_secs),
            max_attempts: self.jobs_max_attempts.max(1),
            backoff_base: secs(self.jobs_backoff_secs),
            backoff_max: secs(self.jobs_backoff_max_secs.max(self.jobs_backoff_secs)),
            batch: facteur_app::JobSettings::default().batch,
            housekeeping_every: secs(self.jobs_housekeeping_secs),
            keep_finished: secs(self.jobs_keep_days.saturating_mul(86_400)),
        };
        app
    }

    /// The token secret: configured, or read from (or first written to) `DATA/token-secret`.
    pub fn token_secret(&self) -> anyhow::Result<Vec<u8>> {
        if let Some(s) = &self.token_secret {
            return Ok(s.as_bytes().to_vec());
        }
        let path = self.data_dir.join("token-secret");
        match std::fs::read_to_string(&path) {
            Ok(s) if s.trim().len() >= 32 => return Ok(s.trim().as_bytes().to_vec()),
            Ok(_) => anyhow::bail!("{} is too short; delete it to regenerate", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        }
        std::fs::create_dir_all(&self.data_dir).with_context(|| format!("creating {}", self.data_dir.display()))?;
        let secret = hex::encode(rand::random::<[u8; 32]>());
        write_private(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
        Ok(secret.into_bytes())
    }

    /// The HTTP settings.
    pub fn http_config(&self) -> anyhow::Result<facteur_web::HttpConfig> {
        let mut http = facteur_web::HttpConfig::new(self.token_secret()?);
        http.token_ttl = Duration::from_secs(self.token_ttl_secs.max(1));
        http.request_timeout = Duration::from_secs(self.request_timeout_secs.max(1));
        http.header_read_timeout = Duration::from_secs(self.header_read_timeout_secs.max(1));
        http.form_body_limit = self.form_limit_kb.max(1).saturating_mul(1024);
        http.api_body_limit = self.api_body_limit_kb.max(1).saturating_mul(1024);
        http.upload_limit = self.upload_limit_mb.max(1).saturating_mul(1024 * 1024);
        http.flow_upload_limit = self.flow_limit_mb.max(1).saturating_mul(1024 * 1024);
        http.client_ip_header = self.client_ip_header.as_deref().map(axum_header_name).transpose()?;
        Ok(http)
    }
}

/// A header name from the configuration, refused with its value when malformed.
fn axum_header_name(name: &str) -> anyhow::Result<facteur_web::HeaderName> {
    facteur_web::HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes())
        .map_err(|_| anyhow::anyhow!("client_ip_header: `{name}` is not a header name"))
}

/// Writes a file readable by its owner only (the token secret).
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)?.write_all(content.as_bytes())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn layered(toml: &str, over: &[(&str, &str)]) -> anyhow::Result<Config> {
        let mut f = Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(toml));
        for (k, v) in over {
            f = f.merge((*k, *v));
        }
        Config::from_figment(f)
    }

    #[test]
    fn defaults_are_sqlite_and_files_under_the_data_dir() {
        let c = layered("", &[]).unwrap();
        assert_eq!(c.listen, "127.0.0.1:8080");
        let app = c.app_config();
        assert_eq!(app.database_url, "sqlite://facteur-data/facteur.db");
        assert_eq!(app.blob_url, "file://facteur-data/blobs");
        assert_eq!(app.base_url, "http://127.0.0.1:8080");
        assert_eq!(app.smtp_url, None);
    }

    #[test]
    fn later_layers_win_and_urls_follow_the_data_dir() {
        let c = layered(
            "data_dir = \"/srv/f\"\nlisten = \"0.0.0.0:9000\"",
            &[("listen", "127.0.0.1:1")],
        )
        .unwrap();
        assert_eq!(c.listen, "127.0.0.1:1");
        assert_eq!(c.app_config().database_url, "sqlite:///srv/f/facteur.db");
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(layered("token_ttl_secs = \"soon\"", &[]).is_err());
        assert!(layered("log_format = \"xml\"", &[]).is_err());
        assert!(layered("token_secret = \"short\"", &[]).is_err());
        assert!(layered("client_ip_header = \"not a header\"", &[]).is_err());
        let c = layered(
            "client_ip_header = \"X-Forwarded-For\"\ntoken_secret = \"0123456789abcdef0123456789abcdef\"",
            &[],
        )
        .unwrap();
        assert_eq!(
            c.http_config().unwrap().client_ip_header.unwrap().as_str(),
            "x-forwarded-for"
        );
    }

    #[test]
    fn token_secret_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config {
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        let a = c.token_secret().unwrap();
        let b = c.token_secret().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
    }
}
