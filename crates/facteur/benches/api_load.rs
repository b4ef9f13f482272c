//! Load benchmark of the API as deployed: the release `facteur serve --demo` in its own process
//! (SQLite, fresh data directory), 20 concurrent clients calling `structures/v1/rechercher` with
//! both credentials for a fixed time. Prints requests per second, latency percentiles and the
//! server's resident memory (now and peak), read from `/proc`.
//!
//! `cargo bench -p facteur --bench api_load` (settings: `LOAD_CLIENTS`, default 20;
//! `LOAD_SECONDS`, default 10). Figures depend on the machine: the README gives ours.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};
use support::{env_number, memory_mib, percentile};

use serde_json::json;

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let clients = env_number("LOAD_CLIENTS", 20) as usize;
    let seconds = env_number("LOAD_SECONDS", 10);
    let data = tempfile::tempdir().unwrap();
    let server = support::serve_demo(data.path());
    let pid = server.child.id();
    let address = server.address.clone();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(clients)
            .build()
            .unwrap();
        let (token, account, _) = support::demo_credentials(&http, &server, data.path()).await;
        let (rss_idle, _) = memory_mib(pid);
        let body = json!({ "structure": { "raisonSocialeStructure": "Mairie" } });
        let url = format!("{address}/cpro/structures/v1/rechercher");
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (http, url, token, account, body) =
                (http.clone(), url.clone(), token.clone(), account.clone(), body.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    let r = http
                        .post(&url)
                        .bearer_auth(&token)
                        .header("cpro-account", &account)
                        .json(&body)
                        .send()
                        .await;
                    let ok = match r {
                        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    if ok {
                        latencies.push(t0.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (latencies, errors)
            }));
        }
        let mut all = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (l, e) = t.await.unwrap();
            all.extend(l);
            errors += e;
        }
        let elapsed = started.elapsed().as_secs_f64();
        all.sort_unstable();
        let (rss, peak) = memory_mib(pid);
        println!(
            "api_load: structures/v1/rechercher, {clients} clients, {seconds} s: {} requests ({errors} errors), \
             {:.0} req/s; latency p50 {:.1} ms, p99 {:.1} ms; server RSS {rss_idle:.0} MiB idle, {rss:.0} MiB after, \
             peak {peak:.0} MiB",
            all.len(),
            all.len() as f64 / elapsed,
            percentile(&all, 0.50).as_secs_f64() * 1e3,
            percentile(&all, 0.99).as_secs_f64() * 1e3,
        );
    });
}
