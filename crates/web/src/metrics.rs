//! `GET /metrics` in the Prometheus text format (prometheus-client): requests and latency by
//! route, the job queue's depth and failures, the database pool.
//!
//! Routes are labelled by their template (`/cpro/structures/v1/rechercher`, `/manage/members`…),
//! never by the raw path, and unmatched paths share one label, so a scanner cannot blow up the
//! number of series.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

/// The registry and the series the server updates.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    jobs: Family<StateLabels, Gauge>,
    pool: Family<StateLabels, Gauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Registers every series; the job counters are the app's own (shared, not copied).
    pub fn new(app: &facteur_app::App) -> Arc<Self> {
        let mut registry = Registry::with_prefix("facteur");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0])
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests, by route",
            latency.clone(),
        );
        let jobs = Family::<StateLabels, Gauge>::default();
        registry.register(
            "jobs",
            "Jobs in the queue by state (due, scheduled, running, dead)",
            jobs.clone(),
        );
        let counters = app.job_counters();
        registry.register("jobs_done", "Jobs run to completion by this node", counters.done);
        registry.register(
            "jobs_failed",
            "Failed job attempts on this node (retried or given up)",
            counters.failed,
        );
        registry.register("jobs_dead", "Jobs given up by this node", counters.dead);
        let pool = Family::<StateLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database pool connections (open, idle, max)",
            pool.clone(),
        );
        Arc::new(Self {
            registry,
            requests,
            latency,
            jobs,
            pool,
        })
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(seconds);
    }
}

/// Counts every request and its latency under its route template.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let start = std::time::Instant::now();
    let response = next.run(request).await;
    state.metrics().observe(
        &method,
        &route,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /metrics`: the gauges read now, then every series in the Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let m = state.metrics();
    match state.app().job_counts().await {
        Ok(c) => {
            for (name, value) in [
                ("due", c.due),
                ("scheduled", c.scheduled),
                ("running", c.running),
                ("dead", c.dead),
            ] {
                m.jobs.get_or_create(&StateLabels { state: name }).set(value);
            }
        }
        Err(e) => tracing::warn!(error = %e, "job counts unavailable for /metrics"),
    }
    let pool = state.app().store().pool_stats();
    for (name, value) in [("open", pool.open), ("idle", pool.idle), ("max", pool.max)] {
        m.pool.get_or_create(&StateLabels { state: name }).set(i64::from(value));
    }
    let mut body = String::new();
    if prometheus_client::encoding::text::encode(&mut body, &m.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
