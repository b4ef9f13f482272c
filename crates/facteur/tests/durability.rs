//! An accepted invoice is never lost: the real server is killed (SIGKILL) in the middle of a
//! deposit load; after a restart on the same data directory every deposit that was answered with
//! success is there exactly once, and the deposits left unanswered, retried with their
//! `Idempotency-Key` as a client would, each end up there exactly once too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use support::{Server, demo_credentials_of, serve_demo, serve_demo_with};

/// Demo supplier (the bakery) and demo recipient (the commune: no service code, no engagement).
const SUPPLIER: &str = "51234567900017";
const RECIPIENT: &str = "21990001600011";
const CLIENTS: usize = 6;
/// Acknowledged deposits before the kill.
const BEFORE_KILL: usize = 40;

fn invoice(number: &str) -> Value {
    json!({
        "modeDepot": "SAISIE_API",
        "numeroFactureSaisi": number,
        "dateFacture": "2026-11-30",
        "destinataire": {"codeDestinataire": RECIPIENT},
        "fournisseur": {},
        "cadreDeFacturation": {"codeCadreFacturation": "A1_FACTURE_FOURNISSEUR"},
        "references": {"deviseFacture": "EUR", "typeFacture": "FACTURE", "typeTva": "TVA_SUR_DEBIT"},
        "lignePoste": [{
            "lignePosteNumero": 1, "lignePosteDenomination": "Pain", "lignePosteQuantite": 10,
            "lignePosteUnite": "C62", "lignePosteMontantUnitaireHT": 2.5, "lignePosteTauxTva": "TVA55"
        }],
        "ligneTva": [{"ligneTvaTaux": "TVA55", "ligneTvaMontantBaseHtParTaux": 25, "ligneTvaMontantTvaParTaux": 1.38}],
        "montantTotal": {"montantHtTotal": 25, "montantTVA": 1.38, "montantTtcTotal": 26.38, "montantAPayer": 26.38}
    })
}

/// The supplier's API client on one server.
struct Supplier {
    http: reqwest::Client,
    address: String,
    token: String,
    account: String,
}

impl Supplier {
    async fn on(server: &Server, data: &std::path::Path) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let (token, account, _) = demo_credentials_of(&http, server, data, SUPPLIER).await;
        Supplier {
            http,
            address: server.address.clone(),
            token,
            account,
        }
    }

    /// The answer to a call, `Err` when the connection failed (the server died under it). A server
    /// alive enough to answer must answer 200.
    async fn post(&self, path: &str, body: &Value, key: Option<&str>) -> reqwest::Result<Value> {
        let mut request = self
            .http
            .post(format!("{}/cpro/{path}", self.address))
            .bearer_auth(&self.token)
            .header("cpro-account", &self.account)
            .json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await?;
        assert_eq!(response.status(), reqwest::StatusCode::OK, "{path}");
        response.json().await
    }

    /// The supplier's invoices numbered `number`.
    async fn found(&self, number: &str) -> Vec<Value> {
        let v = self
            .post(
                "factures/v1/rechercher/fournisseur",
                &json!({"numeroFacture": number}),
                None,
            )
            .await
            .unwrap();
        assert_eq!(v["codeRetour"], 0, "{v}");
        v["listeFactures"].as_array().unwrap().clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_deposits_survive_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = serve_demo(&data);
    let supplier = Arc::new(Supplier::on(&server, &data).await);

    // Deposits with unique numbers from several clients until the server dies under them.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let unanswered = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (supplier, acknowledged, unanswered) = (supplier.clone(), acknowledged.clone(), unanswered.clone());
        clients.push(tokio::spawn(async move {
            for n in 0.. {
                let number = format!("K{c}-{n}");
                match supplier
                    .post("factures/v1/soumettre", &invoice(&number), Some(&number))
                    .await
                {
                    Ok(v) => {
                        assert_eq!(v["codeRetour"], 0, "{v}");
                        acknowledged.lock().unwrap().push(number);
                    }
                    Err(_) => {
                        unanswered.lock().unwrap().push(number);
                        return;
                    }
                }
            }
        }));
    }
    while acknowledged.lock().unwrap().len() < BEFORE_KILL {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.child.kill().unwrap(); // SIGKILL: no shutdown, no flush
    server.child.wait().unwrap();
    for c in clients {
        c.await.unwrap();
    }
    drop(server);
    let acknowledged = acknowledged.lock().unwrap().clone();
    let unanswered = unanswered.lock().unwrap().clone();
    assert_eq!(
        unanswered.len(),
        CLIENTS,
        "each client stops at its first unanswered deposit"
    );

    let server = serve_demo(&data);
    let supplier = Supplier::on(&server, &data).await;
    for number in &acknowledged {
        let found = supplier.found(number).await;
        assert_eq!(found.len(), 1, "acknowledged {number} must be there exactly once");
        assert_eq!(found[0]["statut"], "MISE_A_DISPOSITION");
    }
    // An unanswered deposit may or may not have committed: the retry with its key answers the
    // invoice either way, and there is one.
    for number in &unanswered {
        let v = supplier
            .post("factures/v1/soumettre", &invoice(number), Some(number))
            .await
            .unwrap();
        assert_eq!(v["codeRetour"], 0, "{v}");
        assert_eq!(v["numeroFacture"], number.as_str());
        assert_eq!(supplier.found(number).await.len(), 1, "{number} exactly once");
    }
}

/// Invoices per batch flow in [`acknowledged_flows_are_processed_once_after_a_kill`].
const PER_FLOW: usize = 10;
/// Acknowledged flows before the kill.
const FLOWS_BEFORE_KILL: usize = 8;
/// Short job leases: after the restart, a flow the killed worker held is taken again at once.
const FAST_JOBS: &[(&str, &str)] = &[("FACTEUR_JOBS_LEASE_SECS", "2"), ("FACTEUR_JOBS_POLL_MS", "100")];

fn batch(flow: &str) -> Value {
    use base64::Engine as _;
    let files: Vec<(String, String)> = (0..PER_FLOW)
        .map(|r| {
            (
                format!("{r}.xml"),
                support::ubl_invoice(&format!("{flow}-{r}"), SUPPLIER, RECIPIENT),
            )
        })
        .collect();
    json!({
        "fichierFlux": base64::engine::general_purpose::STANDARD.encode(support::zip_of(&files)),
        "nomFichier": format!("{flow}.zip"),
        "syntaxeFlux": "IN_DP_E1_UBL_INVOICE",
    })
}

/// Batch flows are deposited by several clients while the worker processes them; the server is
/// killed, restarted, and every acknowledged flow (and every unanswered one, retried with its key)
/// reaches `IN_INTEGRE` with each of its invoices integrated exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_flows_are_processed_once_after_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = serve_demo_with(&data, FAST_JOBS);
    let supplier = Arc::new(Supplier::on(&server, &data).await);

    let acknowledged = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let unanswered = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (supplier, acknowledged, unanswered) = (supplier.clone(), acknowledged.clone(), unanswered.clone());
        clients.push(tokio::spawn(async move {
            for n in 0.. {
                let flow = format!("L{c}-{n}");
                match supplier
                    .post("factures/v1/deposer/flux", &batch(&flow), Some(&flow))
                    .await
                {
                    Ok(v) => {
                        assert_eq!(v["codeRetour"], 0, "{v}");
                        let numero = v["numeroFluxDepot"].as_str().unwrap().to_owned();
                        acknowledged.lock().unwrap().push((flow, numero));
                    }
                    Err(_) => {
                        unanswered.lock().unwrap().push(flow);
                        return;
                    }
                }
            }
        }));
    }
    while acknowledged.lock().unwrap().len() < FLOWS_BEFORE_KILL {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.child.kill().unwrap(); // SIGKILL, flows being received and processed
    server.child.wait().unwrap();
    for c in clients {
        c.await.unwrap();
    }
    drop(server);
    let mut flows = acknowledged.lock().unwrap().clone();
    let unanswered = unanswered.lock().unwrap().clone();

    let server = serve_demo_with(&data, FAST_JOBS);
    let supplier = Supplier::on(&server, &data).await;
    // An unanswered flow may or may not have been recorded: the retry with its key answers it.
    for flow in unanswered {
        let v = supplier
            .post("factures/v1/deposer/flux", &batch(&flow), Some(&flow))
            .await
            .unwrap();
        assert_eq!(v["codeRetour"], 0, "{v}");
        flows.push((flow, v["numeroFluxDepot"].as_str().unwrap().to_owned()));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    for (flow, numero) in &flows {
        loop {
            let v = supplier
                .post(
                    "transverses/v1/consulterCRDetaille",
                    &json!({"numeroFluxDepot": numero}),
                    None,
                )
                .await
                .unwrap();
            assert_eq!(v["codeRetour"], 0, "{v}");
            match v["etatCourantFlux"].as_str().unwrap() {
                "IN_RECU" | "IN_EN_COURS_TRAITEMENT_CPP" => {
                    assert!(std::time::Instant::now() < deadline, "{flow} not settled: {v}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                state => {
                    assert_eq!(state, "IN_INTEGRE", "{flow}: {v}");
                    break;
                }
            }
        }
        for r in 0..PER_FLOW {
            let number = format!("{flow}-{r}");
            assert_eq!(supplier.found(&number).await.len(), 1, "{number} exactly once");
        }
    }
}
