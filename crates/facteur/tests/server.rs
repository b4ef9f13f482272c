//! The binary's server commands, run as a user would: `serve --demo`, `healthcheck`, `migrate`,
//! `export-openapi`, `directory export/import`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use base64::Engine as _;
use serde_json::Value;

fn facteur() -> Command {
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
struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_demo(data: &Path) -> Server {
    let mut child = facteur()
        .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--data"])
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

#[test]
fn export_openapi_prints_the_committed_document() {
    let out = facteur().arg("export-openapi").output().unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi.json")).unwrap();
    assert!(
        String::from_utf8(out.stdout).unwrap() == committed,
        "openapi.json is stale: run `cargo run -p facteur -- export-openapi > openapi.json`"
    );
}

#[test]
fn migrate_creates_the_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = facteur().args(["migrate", "--data"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("facteur.db").exists());
}

#[test]
fn healthcheck_fails_when_nothing_listens() {
    // Bind then drop a listener: the port is very likely free afterwards.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = facteur()
        .args(["healthcheck", "--url", &format!("http://127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_demo_answers_health_and_api_calls_with_the_demo_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_demo(dir.path());

    let out = facteur()
        .args(["healthcheck", "--url", &server.address])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let creds: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("demo-credentials.json")).unwrap()).unwrap();
    let tech = &creds["technical_accounts"][0];
    let http = reqwest::Client::new();
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
    let v: Value = http
        .post(format!(
            "{}/cpro/utilisateurs/v1/monCompte/recuperer/rattachements",
            server.address
        ))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .header("cpro-account", account)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["codeRetour"], 0, "{v}");
    assert_eq!(
        v["listeStructureRattachement"][0]["identifiantStructure"], tech["structure"],
        "{v}"
    );
}

#[test]
fn directory_export_then_import_round_trips() {
    let source = tempfile::tempdir().unwrap();
    drop(serve_demo(source.path()));
    let csv = source.path().join("annuaire.csv");
    let out = facteur()
        .args(["directory", "export"])
        .arg(&csv)
        .arg("--data")
        .arg(source.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let target = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        // Twice: the import is idempotent.
        let out = facteur()
            .args(["directory", "import"])
            .arg(&csv)
            .arg("--data")
            .arg(target.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let again = facteur()
        .args(["directory", "export", "--data"])
        .arg(target.path())
        .output()
        .unwrap();
    assert!(again.status.success());
    assert_eq!(
        String::from_utf8(again.stdout).unwrap(),
        std::fs::read_to_string(&csv).unwrap()
    );
}
