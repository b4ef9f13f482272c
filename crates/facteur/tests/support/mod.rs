//! Running the real `facteur` binary for the server tests and the API load benchmark: the
//! command without stray configuration, `serve --demo` on a free port, and the demo account's
//! API credentials.
#![allow(dead_code, reason = "each user (test, bench) calls a part")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use base64::Engine as _;
use serde_json::Value;

pub fn facteur() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_facteur"));
    // No facteur.toml from the working directory, no stray FACTEUR_* settings.
    c.env("FACTEUR_CONFIG", "/nonexistent/facteur.toml")
        .env_remove("FACTEUR_DATABASE_URL")
        .env_remove("FACTEUR_BLOB_URL")
        .env_remove("FACTEUR_LISTEN")
        .env_remove("FACTEUR_BASE_URL")
        .env_remove("FACTEUR_SMTP_URL")
        .env_remove("FACTEUR_DATA_DIR")
        .env_remove("FACTEUR_TOKEN_SECRET");
    c
}

/// Kills the server when the test ends, even on failure.
pub struct Server {
    pub child: Child,
    pub address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `facteur serve --demo` on a free port over the data directory `data`.
pub fn serve_demo(data: &Path) -> Server {
    start(data, true, &[])
}

/// [`serve_demo`] with extra environment variables (settings).
pub fn serve_demo_with(data: &Path, env: &[(&str, &str)]) -> Server {
    start(data, true, env)
}

/// `facteur serve` (no demo data) on a free port over the data directory `data`.
pub fn serve(data: &Path) -> Server {
    start(data, false, &[])
}

fn start(data: &Path, demo: bool, env: &[(&str, &str)]) -> Server {
    let mut command = facteur();
    command.envs(env.iter().copied());
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    if demo {
        command.arg("--demo");
    }
    let mut child = command
        .arg("--data")
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let address = loop {
        let line = lines.next().expect("server exited before listening").unwrap();
        if let Some(a) = line.strip_prefix("listening on ") {
            break a.trim().to_owned();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, address }
}

/// A bearer token and the `cpro-account` header of the first demo technical account written in
/// `data` by `serve --demo`.
pub async fn demo_credentials(http: &reqwest::Client, server: &Server, data: &Path) -> (String, String, Value) {
    demo_credentials_where(http, server, data, |_| true).await
}

/// [`demo_credentials`] of the demo structure whose identifier is `structure`.
pub async fn demo_credentials_of(
    http: &reqwest::Client,
    server: &Server,
    data: &Path,
    structure: &str,
) -> (String, String, Value) {
    demo_credentials_where(http, server, data, |t| t["structure"] == structure).await
}

async fn demo_credentials_where(
    http: &reqwest::Client,
    server: &Server,
    data: &Path,
    chosen: impl Fn(&Value) -> bool,
) -> (String, String, Value) {
    let creds: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("demo-credentials.json")).unwrap()).unwrap();
    let tech = creds["technical_accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| chosen(t))
        .expect("a demo technical account")
        .clone();
    let token: Value = http
        .post(format!("{}/api/oauth/token", server.address))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", tech["client_id"].as_str().unwrap()),
            ("client_secret", tech["client_secret"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let account = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        tech["login"].as_str().unwrap(),
        tech["password"].as_str().unwrap()
    ));
    (token["access_token"].as_str().unwrap().to_owned(), account, tech)
}

/// The corpus's valid BIS 3 UBL invoice, numbered `number`, sold by `seller` (BT-30) to `buyer`
/// (BT-47), its buyer reference gone (Chorus Pro would read it as a service code).
pub fn ubl_invoice(number: &str, seller: &str, buyer: &str) -> String {
    let root = std::env::var("FACTEUR_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    std::fs::read_to_string(root.join("en16931/ubl/examples/BIS3_Invoice_positive.xml"))
        .unwrap()
        .replacen("<cbc:ID>12345</cbc:ID>", &format!("<cbc:ID>{number}</cbc:ID>"), 1)
        .replace("  <cbc:BuyerReference>n/a</cbc:BuyerReference>\n", "")
        .replace(
            r#"<cbc:CompanyID schemeID="0184">DK87654321</cbc:CompanyID>"#,
            &format!(r#"<cbc:CompanyID schemeID="0009">{buyer}</cbc:CompanyID>"#),
        )
        .replace(
            r#"<cbc:CompanyID schemeID="0184">DK12345678</cbc:CompanyID>"#,
            &format!(r#"<cbc:CompanyID schemeID="0009">{seller}</cbc:CompanyID>"#),
        )
}

/// A zip of `files` (name, content), deflated.
pub fn zip_of(files: &[(String, String)]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(data.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

// --- for the benches -------------------------------------------------------------------------

/// A numeric setting from the environment, `default` when unset or unreadable.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The `p` percentile (0 to 1) of sorted durations.
pub fn percentile(sorted: &[std::time::Duration], p: f64) -> std::time::Duration {
    if sorted.is_empty() {
        return std::time::Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// `VmRSS` and `VmHWM` (peak) of a process, in MiB.
pub fn memory_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let read = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (read("VmRSS:"), read("VmHWM:"))
}

/// A database created with `psql` on an administrative PostgreSQL URL for one bench run, dropped
/// when this is.
pub struct BenchDatabase {
    admin: String,
    name: String,
    /// The new database's URL.
    pub url: String,
}

impl BenchDatabase {
    pub fn create(admin: &str) -> BenchDatabase {
        let name = format!("facteur_bench_{}", std::process::id());
        let status = Command::new("psql")
            .arg(admin)
            .args(["-q", "-c", &format!("CREATE DATABASE {name}")])
            .status()
            .expect("psql runs");
        assert!(status.success(), "CREATE DATABASE failed");
        let root = admin.rsplit_once('/').map_or(admin, |(r, _)| r);
        BenchDatabase {
            admin: admin.to_owned(),
            url: format!("{root}/{name}"),
            name,
        }
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .arg(&self.admin)
            .args(["-q", "-c", &format!("DROP DATABASE IF EXISTS {}", self.name)])
            .status();
    }
}
