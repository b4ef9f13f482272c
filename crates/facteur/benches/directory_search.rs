//! Directory search at scale: a directory of 100,000 public structures made by
//! `scripts/gen-directory.py`, imported with `facteur directory import` into a fresh SQLite data
//! directory, served by the release `facteur serve`; 8 concurrent clients then call
//! `structures/v1/rechercher` and `transverses/v1/rechercher/destinataire` by name fragment, by
//! SIRET and by postcode. Every answer's total is checked against the totals computed here from
//! the CSV itself (the bench fails on any wrong total), and p50/p99 latencies are printed per
//! query kind.
//!
//! `cargo bench -p facteur --bench directory_search`. Settings: `DIRECTORY_COUNT` (structures,
//! default 100000), `DIRECTORY_CSV` (use this file instead of generating one), `SEARCH_CLIENTS`
//! (default 8), `SEARCH_QUERIES` (distinct queries per kind, default 100), `SEARCH_ROUNDS` (times
//! each query is sent, default 3). Needs `python3`. Not part of the test run (the import alone
//! takes minutes); the README gives our figures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{env_number, percentile};

use base64::Engine as _;
use facteur_app::{Actor, App, AppConfig};
use facteur_domain::{IdentifierKind, Structure, StructureIdentifier, StructureKind, StructureStatus};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// Chorus Pro's cap on a search's results (the API's default `nbResultatsMaximum`).
const CAP: usize = 200;

/// The store's folding (lower case, French accents dropped), written again here so the expected
/// totals do not come from the code under test.
fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' => out.push('a'),
            'ç' => out.push('c'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'î' | 'ï' | 'í' | 'ì' => out.push('i'),
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => out.push('o'),
            'ù' | 'û' | 'ü' | 'ú' => out.push('u'),
            'ÿ' => out.push('y'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            '\u{2019}' => out.push('\''),
            c => out.push(c),
        }
    }
    out
}

/// One structure as the searches see it.
struct Row {
    siret: String,
    name: String,
    city: String,
    postcode: String,
    public: bool,
    active: bool,
}

impl Row {
    fn of(s: &Structure) -> Self {
        Row {
            siret: s.identifier.value().to_owned(),
            name: fold(&format!("{} {}", s.company_name, s.label.as_deref().unwrap_or(""))),
            city: fold(&s.address.city),
            postcode: s.address.postcode.clone(),
            public: s.kind == StructureKind::Public,
            active: s.status == StructureStatus::Active,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    StructuresName,
    /// A fragment found in 200 structures or more (the answer is capped).
    StructuresNameCommon,
    StructuresSiret,
    StructuresPostcode,
    RecipientsName,
    RecipientsNameCommon,
    RecipientsSiret,
    RecipientsPostcode,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::StructuresName => "structures/v1/rechercher by name fragment",
            Kind::StructuresNameCommon => "  the same, fragments in >= 200 names",
            Kind::StructuresSiret => "structures/v1/rechercher by SIRET",
            Kind::StructuresPostcode => "structures/v1/rechercher by postcode",
            Kind::RecipientsName => "rechercher/destinataire by name fragment",
            Kind::RecipientsNameCommon => "  the same, fragments in >= 200 names",
            Kind::RecipientsSiret => "rechercher/destinataire by SIRET",
            Kind::RecipientsPostcode => "rechercher/destinataire by postcode",
        }
    }
}

struct Case {
    kind: Kind,
    path: &'static str,
    body: Value,
    expected: usize,
}

/// The queries, each with the total the CSV says it must answer. `own` is the caller's private
/// structure: `structures/v1/rechercher` lists it too when it matches (active, like every row
/// it is compared with here).
fn cases(rows: &[Row], own: &Row, per_kind: usize, seed: u64) -> Vec<Case> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let public_active = |r: &&Row| r.public && r.active;
    let count = |own_too: bool, pred: &dyn Fn(&Row) -> bool| {
        let n = rows.iter().filter(public_active).filter(|r| pred(r)).count();
        (n + usize::from(own_too && pred(own))).min(CAP)
    };
    let mut out = Vec::new();
    for _ in 0..per_kind {
        // A city of 4 characters or more (shorter ones are a fragment nobody types alone).
        let r = loop {
            let r = &rows[rng.random_range(0..rows.len())];
            if r.city.chars().count() >= 4 {
                break r;
            }
        };
        // A fragment people type: 4 to 7 characters out of a city name (the distinctive part of
        // a name such as "Mairie de Xxx").
        let city: Vec<char> = r.city.chars().collect();
        let len = rng.random_range(4..=7).min(city.len());
        let start = rng.random_range(0..=city.len() - len);
        let fragment: String = city[start..start + len].iter().collect();
        let fragment = fragment.trim().to_owned();
        let in_name = |x: &Row| x.name.contains(&fragment);
        let expected = count(true, &in_name);
        out.push(Case {
            kind: if expected < CAP {
                Kind::StructuresName
            } else {
                Kind::StructuresNameCommon
            },
            path: "/cpro/structures/v1/rechercher",
            body: json!({ "structure": { "raisonSocialeStructure": fragment } }),
            expected,
        });
        let upper = fragment.to_ascii_uppercase();
        let anywhere = |x: &Row| {
            x.name.contains(&fragment)
                || x.city.contains(&fragment)
                || x.postcode.starts_with(&fragment)
                || x.siret.starts_with(&upper)
        };
        let expected = count(false, &anywhere);
        out.push(Case {
            kind: if expected < CAP {
                Kind::RecipientsName
            } else {
                Kind::RecipientsNameCommon
            },
            path: "/cpro/transverses/v1/rechercher/destinataire",
            body: json!({ "nomVilleCodePostal": fragment }),
            expected,
        });

        let r = &rows[rng.random_range(0..rows.len())];
        let siret = r.siret.clone();
        let exact = |x: &Row| x.siret == siret;
        out.push(Case {
            kind: Kind::StructuresSiret,
            path: "/cpro/structures/v1/rechercher",
            body: json!({ "structure": { "identifiantStructure": siret } }),
            expected: count(true, &exact),
        });
        out.push(Case {
            kind: Kind::RecipientsSiret,
            path: "/cpro/transverses/v1/rechercher/destinataire",
            body: json!({ "identifiant": siret }),
            expected: count(false, &exact),
        });

        let r = &rows[rng.random_range(0..rows.len())];
        let postcode = r.postcode.clone();
        let starts = |x: &Row| x.postcode.starts_with(&postcode);
        out.push(Case {
            kind: Kind::StructuresPostcode,
            path: "/cpro/structures/v1/rechercher",
            body: json!({ "structure": { "adresseCodePostal": postcode } }),
            expected: count(true, &starts),
        });
        // The free-text field also matches identifiers starting with the digits, and names and
        // cities containing them.
        let anywhere = |x: &Row| {
            x.postcode.starts_with(&postcode)
                || x.siret.starts_with(&postcode)
                || x.name.contains(&postcode)
                || x.city.contains(&postcode)
        };
        out.push(Case {
            kind: Kind::RecipientsPostcode,
            path: "/cpro/transverses/v1/rechercher/destinataire",
            body: json!({ "nomVilleCodePostal": postcode }),
            expected: count(false, &anywhere),
        });
    }
    out
}

/// The HTTP client of the bench and what it sends with every request.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    token: String,
    account: String,
    address: String,
}

/// Sends every case `rounds` times from `clients` concurrent tasks; the latencies by kind, and the
/// answers whose total was wrong.
async fn send_all(
    client: &Client,
    cases: Arc<Vec<Case>>,
    rounds: usize,
    clients: usize,
) -> (BTreeMap<Kind, Vec<Duration>>, Vec<String>) {
    let next = Arc::new(AtomicUsize::new(0));
    let total = cases.len() * rounds;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, cases, next) = (client.clone(), cases.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut seen: Vec<(Kind, Duration)> = Vec::new();
            let mut wrong = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let case = &cases[i % cases.len()];
                let t0 = Instant::now();
                let r = client
                    .http
                    .post(format!("{}{}", client.address, case.path))
                    .bearer_auth(&client.token)
                    .header("cpro-account", &client.account)
                    .json(&case.body)
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let v: Value = r.json().await.unwrap_or(Value::Null);
                seen.push((case.kind, t0.elapsed()));
                let got = v["parametresRetour"]["total"].as_u64();
                if !status.is_success() || got != Some(case.expected as u64) {
                    wrong.push(format!(
                        "{} {}: expected {}, got {status} {got:?}",
                        case.path, case.body, case.expected
                    ));
                }
            }
            (seen, wrong)
        }));
    }
    let mut by_kind: BTreeMap<Kind, Vec<Duration>> = BTreeMap::new();
    let mut wrong = Vec::new();
    for t in tasks {
        let (seen, w) = t.await.unwrap();
        for (k, d) in seen {
            by_kind.entry(k).or_default().push(d);
        }
        wrong.extend(w);
    }
    (by_kind, wrong)
}

fn generate(count: u64, dir: &Path) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/gen-directory.py");
    let out = dir.join("annuaire.csv");
    let file = std::fs::File::create(&out).unwrap();
    let status = Command::new("python3")
        .arg(script)
        .args(["--count", &count.to_string(), "--seed", "1"])
        .stdout(file)
        .status()
        .expect("python3 runs the generator");
    assert!(status.success(), "generator failed");
    out
}

fn main() {
    let count = env_number("DIRECTORY_COUNT", 100_000);
    let clients = env_number("SEARCH_CLIENTS", 8) as usize;
    let per_kind = env_number("SEARCH_QUERIES", 100) as usize;
    let rounds = env_number("SEARCH_ROUNDS", 3) as usize;
    let work = tempfile::tempdir().unwrap();
    let csv = std::env::var_os("DIRECTORY_CSV").map_or_else(|| generate(count, work.path()), PathBuf::from);
    let data = work.path().join("data");

    // 1. Import with the CLI, as an operator would.
    let t0 = Instant::now();
    let status = support::facteur()
        .args(["directory", "import", "--data"])
        .arg(&data)
        .arg(&csv)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "import failed");
    let import_secs = t0.elapsed().as_secs_f64();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // 2. The caller: a private structure with its technical account, made through the use cases
    // (no demo data, whose structures would change the totals).
    let (creds, own) = runtime.block_on(async {
        let app = App::open(AppConfig::new(&data)).await.unwrap();
        let id = StructureIdentifier::parse(IdentifierKind::Siret, "73282932000074").unwrap();
        let mut s = Structure::new(id, StructureKind::Private, "Banc d'essai").unwrap();
        s.address.line1 = "1 rue du Banc".to_owned();
        s.address.postcode = "00000".to_owned();
        s.address.city = "Nulle part".to_owned();
        let own = Row::of(&s);
        let sid = app.upsert_structure(&Actor::Operator, s, vec![]).await.unwrap();
        let creds = app.create_technical_account(&Actor::Operator, sid).await.unwrap();
        app.store().close().await;
        (creds, own)
    });
    let records = facteur_app::directory_csv::read_directory_csv(std::fs::File::open(&csv).unwrap()).unwrap();
    let rows: Vec<Row> = records.iter().map(|r| Row::of(&r.structure)).collect();
    let cases = Arc::new(cases(&rows, &own, per_kind, 7));

    // 3. Serve and search.
    let server = support::serve(&data);
    let address = server.address.clone();
    runtime.block_on(async move {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(clients)
            .build()
            .unwrap();
        let token: Value = http
            .post(format!("{address}/api/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", creds.client_id.as_str()),
                ("client_secret", creds.client_secret.as_str()),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = token["access_token"].as_str().unwrap().to_owned();
        let account = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", creds.login, creds.password));
        let client = Client {
            http,
            token,
            account,
            address,
        };
        // A fresh server's first requests open the database connections and fill their caches:
        // a warm-up with other queries (another seed) goes first, its slowest answer printed apart.
        let warm = Arc::new(self::cases(&rows, &own, 8, 99));
        let (warm_seen, warm_wrong) = send_all(&client, warm.clone(), 1, clients).await;
        let started = Instant::now();
        let (by_kind, wrong) = send_all(&client, cases.clone(), rounds, clients).await;
        let wrong: Vec<String> = warm_wrong.into_iter().chain(wrong).collect();
        let total = cases.len() * rounds;
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "directory_search: {} structures imported in {import_secs:.0} s; {clients} clients, {total} requests in \
             {elapsed:.1} s ({:.0} req/s)",
            rows.len(),
            total as f64 / elapsed
        );
        let warm_max = warm_seen.values().flatten().max().copied().unwrap_or_default();
        println!(
            "  warm-up: {} other requests first, slowest {:.1} ms (not counted below)",
            warm.len(),
            warm_max.as_secs_f64() * 1e3
        );
        for (kind, mut l) in by_kind {
            l.sort_unstable();
            let expected: Vec<usize> = cases.iter().filter(|c| c.kind == kind).map(|c| c.expected).collect();
            println!(
                "  {:<44} p50 {:>5.1} ms  p99 {:>5.1} ms  ({} requests; totals {}..={})",
                kind.label(),
                percentile(&l, 0.50).as_secs_f64() * 1e3,
                percentile(&l, 0.99).as_secs_f64() * 1e3,
                l.len(),
                expected.iter().min().unwrap_or(&0),
                expected.iter().max().unwrap_or(&0),
            );
        }
        if !wrong.is_empty() {
            for w in wrong.iter().take(10) {
                eprintln!("WRONG TOTAL {w}");
            }
            panic!("{} answers had a wrong total", wrong.len());
        }
        println!("  every total was right");
    });
}
