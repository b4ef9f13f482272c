//! The binary's server commands, run as a user would: `serve --demo`, `healthcheck`, `migrate`,
//! `export-openapi`, `directory export/import`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use serde_json::Value;
use support::{demo_credentials, facteur, serve_demo};

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

    let http = reqwest::Client::new();
    let (token, account, tech) = demo_credentials(&http, &server, dir.path()).await;
    let v: Value = http
        .post(format!(
            "{}/cpro/utilisateurs/v1/monCompte/recuperer/rattachements",
            server.address
        ))
        .bearer_auth(token)
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
