//! What an operator sees: `/metrics` in the Prometheus format (requests and latency by route, the
//! job queue, the database pool), and the request id on every log line of a request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use facteur_web::testing::{TestApp, spawn, spawn_app_on};

/// The value of the first sample line starting with `series` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn metrics_count_requests_by_route_and_show_the_queue_and_pool(t: TestApp) {
    let c = reqwest::Client::new();
    for _ in 0..3 {
        assert_eq!(
            c.get(format!("{}/healthz", t.address)).send().await.unwrap().status(),
            200
        );
    }
    // Unknown paths share one label, whatever their text.
    for p in ["/nope-1", "/nope-2/x"] {
        assert_eq!(c.get(format!("{}{p}", t.address)).send().await.unwrap().status(), 404);
    }
    // A mail job, sent by the worker.
    t.app
        .sign_up(
            facteur_app::SignUp {
                email: "metrics@exemple.fr".to_owned(),
                password: "un mot de passe solide".to_owned(),
                identifier_kind: None,
                identifier: "51234567900017".to_owned(),
                structure_name: Some("Mesures".to_owned()),
            },
            "k",
        )
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while t.app.job_totals().done < 1 {
        assert!(std::time::Instant::now() < deadline, "mail job not run");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let r = c.get(format!("{}/metrics", t.address)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("openmetrics-text")
    );
    let text = r.text().await.unwrap();
    assert_eq!(
        sample(
            &text,
            r#"facteur_http_requests_total{method="GET",route="/healthz",status="200"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"facteur_http_requests_total{method="GET",route="unmatched",status="404"}"#
        ),
        Some(2.0),
        "{text}"
    );
    assert!(!text.contains("nope-"), "raw paths never become labels");
    assert_eq!(
        sample(
            &text,
            r#"facteur_http_request_duration_seconds_count{method="GET",route="/healthz"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(sample(&text, "facteur_jobs_done_total"), Some(1.0), "{text}");
    assert_eq!(sample(&text, r#"facteur_jobs{state="due"}"#), Some(0.0), "{text}");
    assert_eq!(sample(&text, r#"facteur_jobs{state="dead"}"#), Some(0.0), "{text}");
    // The housekeeping job waits for its hour.
    assert_eq!(sample(&text, r#"facteur_jobs{state="scheduled"}"#), Some(1.0), "{text}");
    assert!(
        sample(&text, r#"facteur_db_pool_connections{state="max"}"#).unwrap() >= 1.0,
        "{text}"
    );
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every line logged while a request is served carries its id (the client's `x-request-id`, or
/// one the server makes), so one request's lines can be found among many.
#[tokio::test(flavor = "current_thread")]
async fn every_log_line_of_a_request_has_its_id() {
    let logs = Captured::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    // One thread: the server's tasks run here, under this subscriber (so not `scenarios!`, whose
    // runtime has two; logging does not depend on the backend).
    let _guard = tracing::subscriber::set_default(subscriber);
    let t = spawn_app_on(facteur_web::testing::Backend::Sqlite).await;
    let c = reqwest::Client::new();
    let r = c
        .get(format!("{}/healthz", t.address))
        .header("x-request-id", "req-4f1c-test")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "req-4f1c-test");
    let r = c.get(format!("{}/api/openapi.json", t.address)).send().await.unwrap();
    let made = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(made.len(), 36, "a UUID: {made}");
    // A use case's own line inside a request: the sign-up logs the activation link (no SMTP).
    let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let html = c
        .get(format!("{}/signup", t.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    let csrf = html[at..at + html[at..].find('"').unwrap()].to_owned();
    let r = c
        .post(format!("{}/signup", t.address))
        .header("x-request-id", "req-signup-77")
        .form(&[
            ("email", "logs@exemple.fr"),
            ("password", "un mot de passe solide"),
            ("identifier_kind", "SIRET"),
            ("identifier", "51234567900017"),
            ("name", "Journal"),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle}: {text}"))
            .to_owned()
    };
    assert!(line("activation link").contains("request_id=req-signup-77"), "{text}");
    let access: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("finished processing request"))
        .collect();
    assert!(access.len() >= 3, "{text}");
    assert!(
        access
            .iter()
            .any(|l| l.contains("request_id=req-4f1c-test") && l.contains("/healthz")),
        "{text}"
    );
    assert!(access.iter().any(|l| l.contains(&made)), "{text}");
    for l in access {
        assert!(l.contains("request_id="), "{l}");
    }
}

facteur_web::testing::scenarios!(spawn => metrics_count_requests_by_route_and_show_the_queue_and_pool);
