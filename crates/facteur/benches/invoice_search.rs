//! Invoice search at scale: the release `facteur serve --demo` over a database holding
//! `INVOICE_COUNT` more invoices (default 1,000,000), written straight into the `invoices` table by
//! one `INSERT … SELECT` (the deposit path would take hours; the search reads the same rows): five
//! public recipients, the demo commune receiving half of them, two suppliers, eight statuses, a
//! deposit every minute for about two years. Then `SEARCH_CLIENTS` clients (default 8) call
//! `factures/v1/rechercher/recipiendaire` as the commune and `…/fournisseur` as the bakery with the
//! filters of spec §4.2–4.3 (none, a status, two statuses, a month of deposits, a status over a
//! quarter, an exact number, a supplier, a page deep in the 200 results). Every answer's count is
//! checked against the rows written (the bench fails on a wrong one); p50/p99 per kind, after one
//! unmeasured pass over the cases.
//!
//! `cargo bench -p facteur --bench invoice_search`. `INVOICE_PG_URL` (an administrative
//! PostgreSQL URL): the server runs on a fresh database created there with `psql`, instead of
//! SQLite. `SEARCH_ROUNDS` (default 20): times each query is sent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{BenchDatabase, env_number, percentile};

use serde_json::{Value, json};
use sqlx::Connection as _;

const COMMUNE: &str = "21990001600011";
const BAKERY: &str = "51234567900017";
const IT_FIRM: &str = "81234567600017";
const RECIPIENTS: [&str; 5] = [
    COMMUNE,
    "22990001400015",
    "26990001500018",
    "19990001000018",
    "25990001700015",
];
const STATUSES: [&str; 8] = [
    "MISE_A_DISPOSITION",
    "SUSPENDUE",
    "COMPLETEE",
    "SERVICE_FAIT",
    "MISE_EN_PAIEMENT",
    "REJETEE",
    "A_RECYCLER",
    "MANDATEE",
];
/// Deposits start here, one a minute.
const START_EPOCH: i64 = 1_735_689_600; // 2025-01-01T00:00:00Z
/// Chorus Pro's cap on a search's results.
const CAP: u64 = 200;

/// Row `i` (from 0) of the generated invoices: (recipient index, supplier, status index).
/// Half go to the commune, the rest evenly to the four others; one in three from the IT firm;
/// statuses in turn, three rows each.
fn row(i: u64) -> (usize, &'static str, usize) {
    let recipient = if i.is_multiple_of(2) {
        0
    } else {
        1 + ((i / 2) % 4) as usize
    };
    let supplier = if i.is_multiple_of(3) { IT_FIRM } else { BAKERY };
    (recipient, supplier, ((i / 3) % 8) as usize)
}

/// The same generation in SQL, for the `INSERT … SELECT`: `{i}` is the row number from 0.
fn insert_sql(postgres: bool, count: u64, ids: &BTreeMap<&str, i64>, deposit: i64) -> String {
    let recipient = format!(
        "CASE WHEN i % 2 = 0 THEN {} ELSE CASE (i / 2) % 4 WHEN 0 THEN {} WHEN 1 THEN {} WHEN 2 THEN {} ELSE {} END END",
        ids[RECIPIENTS[0]], ids[RECIPIENTS[1]], ids[RECIPIENTS[2]], ids[RECIPIENTS[3]], ids[RECIPIENTS[4]]
    );
    let supplier = format!("CASE WHEN i % 3 = 0 THEN {} ELSE {} END", ids[IT_FIRM], ids[BAKERY]);
    let status = format!(
        "CASE (i / 3) % 8 {} END",
        STATUSES
            .iter()
            .enumerate()
            .map(|(k, s)| format!("WHEN {k} THEN '{s}'"))
            .collect::<String>()
    );
    let (series, at, date, year, flag) = if postgres {
        (
            format!("generate_series(0, {}) AS g(i)", count - 1),
            format!("to_timestamp({START_EPOCH} + i * 60)"),
            format!("to_char(to_timestamp({START_EPOCH} + i * 60) AT TIME ZONE 'UTC', 'YYYY-MM-DD')::date"),
            format!("CAST(to_char(to_timestamp({START_EPOCH} + i * 60) AT TIME ZONE 'UTC', 'YYYY') AS INTEGER)"),
            "FALSE",
        )
    } else {
        (
            format!(
                "(WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {}) SELECT i FROM n)",
                count - 1
            ),
            format!("strftime('%Y-%m-%dT%H:%M:%SZ', {START_EPOCH} + i * 60, 'unixepoch')"),
            format!("strftime('%Y-%m-%d', {START_EPOCH} + i * 60, 'unixepoch')"),
            format!("CAST(strftime('%Y', {START_EPOCH} + i * 60, 'unixepoch') AS INTEGER)"),
            "0",
        )
    };
    format!(
        "INSERT INTO invoices (deposit_id, supplier_id, recipient_id, service_id, number, kind, issue_date, \
         issue_year, deposited_at, currency, total_excl_vat, total_vat, total_incl_vat, engagement_number, status, \
         rejection_acknowledged, structured_sha256, syntax, created_at, updated_at) \
         SELECT {deposit}, {supplier}, {recipient}, NULL, 'B-' || CAST(i AS TEXT), 'FACTURE', {date}, {year}, {at}, \
         'EUR', '1000.00', '200.00', '1200.00', NULL, {status}, {flag}, NULL, 'UBL', {at}, {at} FROM {series}"
    )
}

/// Expected rows of `recipient` (index) matching `keep`.
fn expected(count: u64, keep: impl Fn(u64, usize, &str, usize) -> bool) -> u64 {
    (0..count)
        .filter(|&i| {
            let (r, s, st) = row(i);
            keep(i, r, s, st)
        })
        .count() as u64
}

struct Case {
    kind: &'static str,
    path: &'static str,
    body: Value,
    expected: u64,
    /// The bakery asks (the supplier search), not the commune.
    as_supplier: bool,
}

/// `YYYY-MM-DD` of the minute `i`.
fn day_of(i: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(START_EPOCH + i as i64 * 60).unwrap();
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// The row index of the first deposit on the day `day` (days since the start).
fn first_of_day(day: u64) -> u64 {
    day * 24 * 60
}

fn cases(count: u64, ids: &BTreeMap<&str, i64>) -> Vec<Case> {
    let days = count / (24 * 60);
    let mut out = Vec::new();
    let commune = |r: usize| r == 0;
    let capped = |n: u64| n.min(CAP);
    out.push(Case {
        kind: "recipient, no filter",
        path: "/cpro/factures/v1/rechercher/recipiendaire",
        body: json!({}),
        expected: capped(expected(count, |_, r, _, _| commune(r))),
        as_supplier: false,
    });
    out.push(Case {
        kind: "recipient, one status",
        path: "/cpro/factures/v1/rechercher/recipiendaire",
        body: json!({ "statut": "SUSPENDUE" }),
        expected: capped(expected(count, |_, r, _, st| commune(r) && STATUSES[st] == "SUSPENDUE")),
        as_supplier: false,
    });
    out.push(Case {
        kind: "recipient, two statuses",
        path: "/cpro/factures/v1/rechercher/recipiendaire",
        body: json!({ "statutCourant": ["MISE_A_DISPOSITION", "COMPLETEE"] }),
        expected: capped(expected(count, |_, r, _, st| {
            commune(r) && matches!(STATUSES[st], "MISE_A_DISPOSITION" | "COMPLETEE")
        })),
        as_supplier: false,
    });
    for (k, d) in [(0u64, days / 3), (1, days / 2), (2, days.saturating_sub(40))] {
        let (from, to) = (first_of_day(d), first_of_day(d + 30));
        out.push(Case {
            kind: "recipient, 30 days of deposits",
            path: "/cpro/factures/v1/rechercher/recipiendaire",
            body: json!({ "periodeDateDepotDu": day_of(from), "periodeDateDepotAu": day_of(to - 1), "pagination": { "pageResultatDemandee": k + 1 } }),
            expected: capped(expected(count, |i, r, _, _| commune(r) && i >= from && i < to)),
            as_supplier: false,
        });
        let (from, to) = (first_of_day(d), first_of_day(d + 90));
        out.push(Case {
            kind: "recipient, a status over 90 days",
            path: "/cpro/factures/v1/rechercher/recipiendaire",
            body: json!({ "statut": "REJETEE", "periodeDateDepotDu": day_of(from), "periodeDateDepotAu": day_of(to - 1) }),
            expected: capped(expected(count, |i, r, _, st| {
                commune(r) && STATUSES[st] == "REJETEE" && i >= from && i < to
            })),
            as_supplier: false,
        });
    }
    for i in [0, count / 2, count - 2] {
        let i = i - i % 2; // the commune's rows are the even ones
        out.push(Case {
            kind: "recipient, exact number",
            path: "/cpro/factures/v1/rechercher/recipiendaire",
            body: json!({ "numeroFacture": format!("B-{i}") }),
            expected: 1,
            as_supplier: false,
        });
    }
    out.push(Case {
        kind: "recipient, one supplier",
        path: "/cpro/factures/v1/rechercher/recipiendaire",
        body: json!({ "idFournisseur": ids[IT_FIRM] }),
        expected: capped(expected(count, |_, r, s, _| commune(r) && s == IT_FIRM)),
        as_supplier: false,
    });
    out.push(Case {
        kind: "recipient, page 10 of 20",
        path: "/cpro/factures/v1/rechercher/recipiendaire",
        body: json!({ "pagination": { "nbResultatsParPage": 20, "pageResultatDemandee": 10 } }),
        expected: CAP,
        as_supplier: false,
    });
    out.push(Case {
        kind: "supplier, one status",
        path: "/cpro/factures/v1/rechercher/fournisseur",
        body: json!({ "statut": "A_RECYCLER" }),
        expected: capped(expected(count, |_, _, s, st| {
            s == BAKERY && STATUSES[st] == "A_RECYCLER"
        })),
        as_supplier: true,
    });
    out.push(Case {
        kind: "supplier, one recipient",
        path: "/cpro/factures/v1/rechercher/fournisseur",
        body: json!({ "idDestinataire": ids[RECIPIENTS[4]] }),
        expected: capped(expected(count, |_, r, s, _| s == BAKERY && r == 4)),
        as_supplier: true,
    });
    out
}

#[derive(Clone)]
struct Caller {
    http: reqwest::Client,
    token: String,
    account: String,
    address: String,
}

async fn structure_ids(db: &str) -> BTreeMap<&'static str, i64> {
    let mut out = BTreeMap::new();
    for siret in RECIPIENTS.iter().chain([&BAKERY, &IT_FIRM]) {
        let sql = format!("SELECT id FROM structures WHERE identifier = '{siret}'");
        let id: i64 = if db.starts_with("postgres") {
            let mut c = sqlx::PgConnection::connect(db).await.unwrap();
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&mut c)
                .await
                .unwrap()
        } else {
            let mut c = sqlx::SqliteConnection::connect(db).await.unwrap();
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&mut c)
                .await
                .unwrap()
        };
        out.insert(*siret, id);
    }
    out
}

async fn bulk_insert(db: &str, sql: String) {
    if db.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(db).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await.unwrap();
        sqlx::query("ANALYZE invoices").execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::SqliteConnection::connect(db).await.unwrap();
        sqlx::query("PRAGMA busy_timeout = 60000")
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await.unwrap();
        sqlx::query("ANALYZE").execute(&mut c).await.unwrap();
    }
}

fn main() {
    let count = env_number("INVOICE_COUNT", 1_000_000);
    let clients = env_number("SEARCH_CLIENTS", 8) as usize;
    let rounds = env_number("SEARCH_ROUNDS", 20) as usize;
    let pg = std::env::var("INVOICE_PG_URL").ok().filter(|u| !u.is_empty());
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let database = pg.as_deref().map(BenchDatabase::create);
    let db_url = database
        .as_ref()
        .map(|d| d.url.clone())
        .unwrap_or_else(|| format!("sqlite://{}", data.join("facteur.db").display()));
    let backend = if database.is_some() { "PostgreSQL" } else { "SQLite" };
    let env: Vec<(&str, &str)> = database
        .iter()
        .map(|d| ("FACTEUR_DATABASE_URL", d.url.as_str()))
        .collect();
    let server = support::serve_demo_with(&data, &env);
    let postgres = database.is_some();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let ids = structure_ids(&db_url).await;
        let t0 = Instant::now();
        bulk_insert(&db_url, insert_sql(postgres, count, &ids, 1)).await;
        let insert_secs = t0.elapsed().as_secs_f64();

        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(clients)
            .build()
            .unwrap();
        let caller = |(token, account, _): (String, String, Value)| Caller {
            http: http.clone(),
            token,
            account,
            address: server.address.clone(),
        };
        let commune = caller(support::demo_credentials_of(&http, &server, &data, COMMUNE).await);
        let bakery = caller(support::demo_credentials_of(&http, &server, &data, BAKERY).await);
        let cases = Arc::new(cases(count, &ids));
        // One unmeasured pass: the first queries after the bulk write read the pages from disk.
        for case in cases.iter() {
            let who = if case.as_supplier { &bakery } else { &commune };
            who.http
                .post(format!("{}{}", who.address, case.path))
                .bearer_auth(&who.token)
                .header("cpro-account", &who.account)
                .json(&case.body)
                .send()
                .await
                .unwrap();
        }
        let total = cases.len() * rounds;
        let next = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (commune, bakery, cases, next) = (commune.clone(), bakery.clone(), cases.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                let mut seen: Vec<(&'static str, Duration)> = Vec::new();
                let mut wrong = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let case = &cases[i % cases.len()];
                    let who = if case.as_supplier { &bakery } else { &commune };
                    let t0 = Instant::now();
                    let r = who
                        .http
                        .post(format!("{}{}", who.address, case.path))
                        .bearer_auth(&who.token)
                        .header("cpro-account", &who.account)
                        .json(&case.body)
                        .send()
                        .await
                        .unwrap();
                    let status = r.status();
                    let v: Value = r.json().await.unwrap_or(Value::Null);
                    seen.push((case.kind, t0.elapsed()));
                    let got = v["parametresRetour"]["total"].as_u64();
                    // No case below the cap can match the demo's own invoices (other numbers,
                    // statuses or dates), so every count is exact.
                    if !status.is_success() || got != Some(case.expected) {
                        wrong.push(format!("{} {}: expected {}, got {status} {got:?}", case.kind, case.body, case.expected));
                    }
                }
                (seen, wrong)
            }));
        }
        let mut by_kind: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
        let mut wrong = Vec::new();
        for t in tasks {
            let (seen, w) = t.await.unwrap();
            for (k, d) in seen {
                by_kind.entry(k).or_default().push(d);
            }
            wrong.extend(w);
        }
        println!(
            "invoice_search ({backend}): {count} invoices written in {insert_secs:.1} s; {clients} clients, {rounds} rounds"
        );
        let mut all = Vec::new();
        for (kind, mut l) in by_kind {
            l.sort_unstable();
            println!(
                "  {kind:<36} p50 {:>6.1} ms  p99 {:>6.1} ms  ({} queries)",
                percentile(&l, 0.50).as_secs_f64() * 1e3,
                percentile(&l, 0.99).as_secs_f64() * 1e3,
                l.len()
            );
            all.extend(l);
        }
        all.sort_unstable();
        println!(
            "  {:<36} p50 {:>6.1} ms  p99 {:>6.1} ms  ({} queries)",
            "all",
            percentile(&all, 0.50).as_secs_f64() * 1e3,
            percentile(&all, 0.99).as_secs_f64() * 1e3,
            all.len()
        );
        assert!(wrong.is_empty(), "{} wrong answers, first: {}", wrong.len(), wrong[0]);
        drop(server);
    });
    drop(database);
}
