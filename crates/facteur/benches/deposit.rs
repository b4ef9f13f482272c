//! Deposit load: the release `facteur serve --demo` in its own process, N concurrent clients
//! depositing unique single-invoice UBL flows (`factures/v1/deposer/flux`) made by
//! `../shared/tools/gen_invoices.py`, each rewritten so the demo supplier sells to the demo
//! commune. Prints acknowledged/s (answers with a `numeroFluxDepot`, each given only after its
//! commit is durable), integrated/s (every flow processed by the job queue: timed until
//! `/metrics` shows no job due or running), p50/p99 latency of the deposits and the server's
//! peak RSS. Then every flow's state is read back with `transverses/v1/consulterCR` (not timed):
//! the bench fails when a deposit was refused or a flow did not end `IN_INTEGRE`.
//!
//! `cargo bench -p facteur --bench deposit`. Settings: `DEPOSIT_COUNT` (invoices, default
//! 20000), `DEPOSIT_CLIENTS` (default 32), `DEPOSIT_MAX_LINES` (lines per invoice, default 5),
//! `DEPOSIT_PG_URL` (an administrative PostgreSQL URL: the server then runs on a fresh database
//! created there with `psql`, instead of SQLite). Needs `python3` and `../shared` beside the
//! clone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{BenchDatabase, env_number, memory_mib, percentile};

use base64::Engine as _;
use serde_json::{Value, json};

const SUPPLIER: &str = "51234567900017";
const RECIPIENT: &str = "21990001600011";
/// A service of the demo commune.
const SERVICE: &str = "ACCUEIL";

/// The text of the `n`th (from 0) `<cbc:EndpointID …>` element: the seller's, then the buyer's.
fn endpoint(xml: &str, n: usize) -> String {
    let start = xml.match_indices("<cbc:EndpointID").nth(n).expect("an EndpointID").0;
    let open_end = start + xml[start..].find('>').unwrap() + 1;
    let close = open_end + xml[open_end..].find('<').unwrap();
    xml[open_end..close].to_owned()
}

/// The generated invoice with the demo supplier as seller and the demo commune as buyer (SIRET
/// and SIREN, wherever the generator wrote them), and the commune's service as the buyer
/// reference (BT-10) when the generator wrote one.
fn rewrite(xml: &str) -> String {
    let (seller, buyer) = (endpoint(xml, 0), endpoint(xml, 1));
    let mut xml = xml
        .replace(&seller, SUPPLIER)
        .replace(&buyer, RECIPIENT)
        .replace(&seller[..9], &SUPPLIER[..9])
        .replace(&buyer[..9], &RECIPIENT[..9]);
    const OPEN: &str = "<cbc:BuyerReference>";
    if let Some(start) = xml.find(OPEN).map(|i| i + OPEN.len())
        && let Some(len) = xml[start..].find('<')
    {
        xml.replace_range(start..start + len, SERVICE);
    }
    xml
}

fn generate(count: u64, max_lines: u64, dir: &Path) -> Vec<(String, String)> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/gen_invoices.py");
    let status = Command::new("python3")
        .arg(&script)
        .arg("--out")
        .arg(dir)
        .args(["-n", &count.to_string(), "--seed", "1", "--syntax", "ubl"])
        .args(["--max-lines", &max_lines.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs ../shared/tools/gen_invoices.py");
    assert!(status.success(), "generator failed");
    let mut files: Vec<_> = std::fs::read_dir(dir.join("ubl"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let xml = rewrite(&std::fs::read_to_string(&p).unwrap());
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, base64::engine::general_purpose::STANDARD.encode(xml))
        })
        .collect()
}

#[derive(Clone)]
struct Caller {
    http: reqwest::Client,
    token: String,
    account: String,
    address: String,
}

impl Caller {
    async fn post(&self, path: &str, body: &Value) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(format!("{}{path}", self.address))
            .bearer_auth(&self.token)
            .header("cpro-account", &self.account)
            .json(body)
            .send()
            .await
    }

    /// Jobs due or running now (`/metrics`): none once every flow is processed.
    async fn jobs_pending(&self) -> u64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.address))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        ["due", "running"]
            .iter()
            .map(|state| {
                let key = format!("facteur_jobs{{state=\"{state}\"}} ");
                text.lines()
                    .find_map(|l| l.strip_prefix(key.as_str()))
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .unwrap_or_else(|| panic!("{key} in /metrics")) as u64
            })
            .sum()
    }

    /// A flow's state (`etatCourantFlux`).
    async fn flow_state(&self, number: &str) -> String {
        let v: Value = self
            .post(
                "/cpro/transverses/v1/consulterCR",
                &json!({ "numeroFluxDepot": number }),
            )
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["etatCourantFlux"].as_str().unwrap_or("?").to_owned()
    }
}

fn main() {
    let count = env_number("DEPOSIT_COUNT", 20_000);
    let clients = env_number("DEPOSIT_CLIENTS", 32) as usize;
    let max_lines = env_number("DEPOSIT_MAX_LINES", 5);
    let pg = std::env::var("DEPOSIT_PG_URL").ok().filter(|u| !u.is_empty());
    let work = tempfile::tempdir().unwrap();
    let invoices = Arc::new(generate(count, max_lines, &work.path().join("gen")));
    let data = work.path().join("data");
    let database = pg.as_deref().map(BenchDatabase::create);
    let backend = if database.is_some() { "PostgreSQL" } else { "SQLite" };
    let env: Vec<(&str, &str)> = database
        .iter()
        .map(|d| ("FACTEUR_DATABASE_URL", d.url.as_str()))
        .collect();
    let server = support::serve_demo_with(&data, &env);
    let pid = server.child.id();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(clients + 1)
            .build()
            .unwrap();
        let caller = |(token, account, _): (String, String, Value)| Caller {
            http: http.clone(),
            token,
            account,
            address: server.address.clone(),
        };
        let supplier = caller(support::demo_credentials_of(&http, &server, &data, SUPPLIER).await);

        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (supplier, invoices, next) = (supplier.clone(), invoices.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut flows = Vec::new();
                let mut refused = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((name, file)) = invoices.get(i) else { break };
                    let body = json!({
                        "fichierFlux": file,
                        "nomFichier": name,
                        "syntaxeFlux": "IN_DP_E1_UBL_INVOICE",
                        "avecSignature": false,
                    });
                    let t0 = Instant::now();
                    let r = supplier.post("/cpro/factures/v1/deposer/flux", &body).await.unwrap();
                    let status = r.status();
                    let v: Value = r.json().await.unwrap_or(Value::Null);
                    if let (true, Some(number)) = (status.is_success(), v["numeroFluxDepot"].as_str()) {
                        latencies.push(t0.elapsed());
                        flows.push(number.to_owned());
                    } else {
                        refused.push(format!("{name}: {status} {v}"));
                    }
                }
                (latencies, flows, refused)
            }));
        }
        let mut latencies = Vec::new();
        let mut flows = Vec::new();
        let mut refused = Vec::new();
        for t in tasks {
            let (l, f, r) = t.await.unwrap();
            latencies.extend(l);
            flows.extend(f);
            refused.extend(r);
        }
        let acknowledged_secs = started.elapsed().as_secs_f64();
        assert!(
            refused.is_empty(),
            "{} deposits refused, first: {}",
            refused.len(),
            refused[0]
        );

        // Integration goes on in the background (a job per flow, and the events it queues).
        let (mut last, mut last_change) = (u64::MAX, Instant::now());
        loop {
            let pending = supplier.jobs_pending().await;
            if pending == 0 {
                break;
            }
            if pending != last {
                (last, last_change) = (pending, Instant::now());
            }
            assert!(
                last_change.elapsed() < Duration::from_secs(60),
                "processing stalled with {pending} jobs pending"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let integrated_secs = started.elapsed().as_secs_f64();
        latencies.sort_unstable();
        let n = latencies.len();
        println!(
            "deposit ({backend}): {n} single-invoice UBL flows, {clients} clients, up to {max_lines} lines each: \
             {:.0} acknowledged/s, {:.0} integrated/s; latency p50 {:.1} ms, p99 {:.1} ms; server peak RSS {:.0} MiB",
            n as f64 / acknowledged_secs,
            n as f64 / integrated_secs,
            percentile(&latencies, 0.50).as_secs_f64() * 1e3,
            percentile(&latencies, 0.99).as_secs_f64() * 1e3,
            memory_mib(pid).1,
        );

        // Every flow ended integrated (read back, not timed).
        let flows = Arc::new(flows);
        let next = Arc::new(AtomicUsize::new(0));
        let mut checks = Vec::new();
        for _ in 0..clients.min(8) {
            let (supplier, flows, next) = (supplier.clone(), flows.clone(), next.clone());
            checks.push(tokio::spawn(async move {
                let mut wrong = Vec::new();
                while let Some(number) = flows.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let state = supplier.flow_state(number).await;
                    if state != "IN_INTEGRE" {
                        wrong.push(format!("{number}: {state}"));
                    }
                }
                wrong
            }));
        }
        let mut wrong = Vec::new();
        for c in checks {
            wrong.extend(c.await.unwrap());
        }
        if let Some(first) = wrong.first() {
            let number = first.split(':').next().unwrap_or_default();
            let report: Value = supplier
                .post(
                    "/cpro/transverses/v1/consulterCRDetaille",
                    &json!({ "numeroFluxDepot": number }),
                )
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            panic!(
                "{} flows not integrated, first: {first}, its report: {report}",
                wrong.len()
            );
        }
        drop(server);
    });
    drop(database);
}
