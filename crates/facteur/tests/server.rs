//! The binary's server commands, run as a user would: `serve --demo`, `healthcheck`, `migrate`,
//! `export-openapi`, `directory export/import`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use serde_json::Value;
use support::{demo_credentials, demo_credentials_of, facteur, serve_demo, serve_demo_with};

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

const BAKERY: &str = "51234567900017";
const IT_FIRM: &str = "81234567600017";
const COMMUNE: &str = "21990001600011";

fn ubl(number: &str, seller: &str, buyer: &str) -> String {
    support::ubl_invoice(number, seller, buyer)
}

/// The ranks made invalid in the 500-invoice batch, each in its own way, with the code reported.
const INVALID: &[(u32, &str)] = &[
    (7, "FACTEUR-XML"),
    (50, "FP-DEST-01"),
    (123, "FP-FOUR-02"),
    (250, "FP-NUM-02"),
    (333, "BR-CL-04"),
    (499, "FP-NUM-01"),
];

fn batch_file(rank: u32) -> String {
    let number = format!("LOT500-{rank:03}");
    match rank {
        7 => "<Invoice><cbc:ID>".to_owned(),
        50 => ubl(&number, BAKERY, "12345678200010"),
        123 => ubl(&number, IT_FIRM, COMMUNE),
        // The number of the file before.
        250 => ubl("LOT500-249", BAKERY, COMMUNE),
        333 => ubl(&number, BAKERY, COMMUNE).replacen(
            "<cbc:DocumentCurrencyCode>DKK</cbc:DocumentCurrencyCode>",
            "<cbc:DocumentCurrencyCode>XXQ</cbc:DocumentCurrencyCode>",
            1,
        ),
        499 => ubl(&format!("LOT500#{rank}"), BAKERY, COMMUNE),
        _ => ubl(&number, BAKERY, COMMUNE),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_of_500_invoices_is_partially_integrated_with_a_report_of_its_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_demo_with(dir.path(), &[("FACTEUR_API_BODY_LIMIT_KB", "4096")]);
    let http = reqwest::Client::new();
    let (token, account, _) = demo_credentials_of(&http, &server, dir.path(), BAKERY).await;

    let files: Vec<(String, String)> = (1..=500)
        .map(|rank| (format!("factures/{rank:03}.xml"), batch_file(rank)))
        .collect();
    let zip = support::zip_of(&files);
    let post = |path: &str, body: Value| {
        http.post(format!("{}{path}", server.address))
            .bearer_auth(&token)
            .header("cpro-account", &account)
            .json(&body)
            .send()
    };
    use base64::Engine as _;
    let v: Value = post(
        "/cpro/factures/v1/deposer/flux",
        serde_json::json!({
            "fichierFlux": base64::engine::general_purpose::STANDARD.encode(&zip),
            "nomFichier": "lot-500.zip",
            "syntaxeFlux": "IN_DP_E1_UBL_INVOICE",
        }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(v["codeRetour"], 0, "{v}");
    let numero = v["numeroFluxDepot"].as_str().unwrap().to_owned();

    // The server's worker processes it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let report = loop {
        let v: Value = post(
            "/cpro/transverses/v1/consulterCRDetaille",
            serde_json::json!({ "numeroFluxDepot": numero }),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(v["codeRetour"], 0, "{v}");
        if !matches!(
            v["etatCourantFlux"].as_str(),
            Some("IN_RECU" | "IN_EN_COURS_TRAITEMENT_CPP")
        ) {
            break v;
        }
        assert!(std::time::Instant::now() < deadline, "batch not settled: {v}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(report["etatCourantFlux"], "IN_INTEGRE_PARTIEL");
    let rejected: Vec<(u64, String, Vec<String>)> = report["listeErreurDP"]
        .as_array()
        .unwrap()
        .iter()
        .map(|dp| {
            let codes = dp["listeErreurs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["codeErreur"].as_str().unwrap().to_owned())
                .collect();
            (
                dp["rangFacture"].as_u64().unwrap(),
                dp["nomFichierFacture"].as_str().unwrap().to_owned(),
                codes,
            )
        })
        .collect();
    assert_eq!(rejected.len(), INVALID.len(), "{report}");
    for ((rank, name, codes), (want_rank, want_code)) in rejected.iter().zip(INVALID) {
        assert_eq!(*rank, u64::from(*want_rank));
        assert_eq!(*name, format!("factures/{want_rank:03}.xml"));
        assert!(codes.iter().any(|c| c == want_code), "rank {rank}: {codes:?}");
    }

    // The integrated invoices are the recipient's to see; the rejected are nowhere.
    let (token, account, _) = demo_credentials_of(&http, &server, dir.path(), COMMUNE).await;
    let seen = |number: String| {
        let (token, account) = (token.clone(), account.clone());
        let http = http.clone();
        let url = format!("{}/cpro/factures/v1/rechercher/recipiendaire", server.address);
        async move {
            let v: Value = http
                .post(url)
                .bearer_auth(token)
                .header("cpro-account", account)
                .json(&serde_json::json!({ "numeroFacture": number }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(v["codeRetour"], 0, "{v}");
            v["listeFactures"].as_array().map_or(0, Vec::len)
        }
    };
    for rank in [1, 6, 8, 49, 51, 249, 251, 332, 334, 498, 500] {
        assert_eq!(seen(format!("LOT500-{rank:03}")).await, 1, "rank {rank}");
    }
    for rank in [50, 123, 333] {
        assert_eq!(seen(format!("LOT500-{rank:03}")).await, 0, "rank {rank}");
    }
}
