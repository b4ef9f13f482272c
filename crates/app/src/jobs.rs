//! Background work on the store's job queue: mail and housekeeping today; flows, digests and
//! webhooks will be more kinds of the same.
//!
//! A use case enqueues its mail in its own transaction ([`App::queue_mail`]) and commits through
//! [`App::commit`], which wakes this node's worker. The worker ([`App::spawn_worker`], started by
//! `serve`) leases due jobs, runs them, and marks them done, or due again after a back-off, or
//! dead after `max_attempts`. Every node runs a worker; leases keep them from running one job twice
//! at once, and a lease that runs out (a node that died) hands the job to another.

use prometheus_client::metrics::counter::Counter;

use facteur_store::{JobId, JobRecord, NewJob, Tx};
use serde::{Deserialize, Serialize};
use time::Duration;

use crate::mail::RenderedMail;
use crate::{App, AppError, AppResult, MailKind};

/// Queue settings (`FACTEUR_JOBS_*`, see the README).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobSettings {
    /// How often an idle worker looks for due jobs (it is also woken by this node's commits).
    pub poll_interval: std::time::Duration,
    /// How long a worker holds a job before another may take it.
    pub lease: Duration,
    /// Attempts before a job is given up.
    pub max_attempts: u32,
    /// Delay before the first retry; doubled at each further failure, up to `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Jobs leased at once by one worker.
    pub batch: u32,
    /// Period of the housekeeping job (expired sessions, finished jobs).
    pub housekeeping_every: Duration,
    /// How long finished jobs are kept (then deleted by housekeeping).
    pub keep_finished: Duration,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            poll_interval: std::time::Duration::from_secs(1),
            lease: Duration::minutes(5),
            max_attempts: 8,
            backoff_base: Duration::seconds(30),
            backoff_max: Duration::hours(1),
            batch: 16,
            housekeeping_every: Duration::hours(1),
            keep_finished: Duration::days(7),
        }
    }
}

impl JobSettings {
    /// The wait before attempt `attempts + 1`, after `attempts` failures (1, 2, …): the base
    /// doubled at each failure, capped.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        let factor = 1_i32 << doublings;
        let wait = self.backoff_base.checked_mul(factor).unwrap_or(self.backoff_max);
        wait.min(self.backoff_max)
    }
}

/// The kinds of job this app runs (the `kind` column).
const MAIL: &str = "mail";
const HOUSEKEEPING: &str = "housekeeping";

/// A mail job's payload: rendered when the change was made, delivered by the worker.
#[derive(Debug, Serialize, Deserialize)]
struct MailJob {
    to: String,
    subject: String,
    body: String,
}

/// What a worker pass did, for logs and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobRun {
    pub done: usize,
    pub retried: usize,
    pub dead: usize,
}

/// How one job of a pass ended.
enum Settled {
    Done,
    Retried,
    Dead,
}

impl JobRun {
    /// Jobs run in the pass.
    pub fn total(self) -> usize {
        self.done + self.retried + self.dead
    }
}

/// This node's job counters since start-up; `/metrics` registers these very counters.
#[derive(Clone, Debug, Default)]
pub struct JobCounters {
    pub done: Counter,
    pub failed: Counter,
    pub dead: Counter,
}

/// [`JobCounters`] read at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobTotals {
    /// Jobs run to completion.
    pub done: u64,
    /// Failed attempts (retried or given up).
    pub failed: u64,
    /// Jobs given up.
    pub dead: u64,
}

/// Stops a worker when dropped or when [`WorkerHandle::stop`] is awaited.
#[derive(Debug)]
pub struct WorkerHandle {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl WorkerHandle {
    /// Asks the worker to stop after the job it is running, and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

impl App {
    /// Commits a use case's transaction and wakes this node's worker for the jobs it enqueued.
    pub(crate) async fn commit(&self, tx: Tx) -> AppResult<()> {
        tx.commit().await?;
        self.inner.wake.notify_one();
        Ok(())
    }

    /// Renders a mail now and enqueues its delivery in `tx`: sent if and only if `tx` commits.
    pub(crate) async fn queue_mail<C: Serialize>(
        &self,
        tx: &mut Tx,
        to: &str,
        kind: MailKind,
        ctx: &C,
    ) -> AppResult<()> {
        let RenderedMail { subject, body } = self.inner.mailer.render(kind, ctx)?;
        let payload = serde_json::to_value(MailJob {
            to: to.to_owned(),
            subject,
            body,
        })
        .map_err(|e| AppError::Internal(format!("mail job: {e}")))?;
        tx.enqueue_job(&NewJob {
            kind: MAIL.to_owned(),
            payload,
            run_at: self.inner.clock.now(),
            max_attempts: self.inner.config.jobs.max_attempts,
            singleton: None,
        })
        .await?;
        Ok(())
    }

    /// Enqueues the next housekeeping run, unless one is already pending (every node asks).
    async fn schedule_housekeeping(&self) -> AppResult<()> {
        self.db().enqueue_job(&self.next_housekeeping()).await?;
        Ok(())
    }

    /// The housekeeping run one period from now (a singleton: one pending at most).
    fn next_housekeeping(&self) -> NewJob {
        let settings = self.inner.config.jobs;
        NewJob {
            kind: HOUSEKEEPING.to_owned(),
            payload: serde_json::json!({}),
            run_at: self.inner.clock.now() + settings.housekeeping_every,
            max_attempts: settings.max_attempts,
            singleton: Some(HOUSEKEEPING.to_owned()),
        }
    }

    /// Leases the jobs due now (one batch) for `worker`, runs them and records each outcome.
    pub async fn run_due_jobs(&self, worker: &str) -> AppResult<JobRun> {
        let settings = self.inner.config.jobs;
        let now = self.inner.clock.now();
        let jobs = self
            .db()
            .claim_jobs(worker, now, now + settings.lease, settings.batch)
            .await?;
        // The batch runs at once: a flow job spends most of its time waiting for its commits, and
        // jobs committing together share the group commit's fsync. Mails keep their order (one
        // task sends them one after the other): a person reads them in the order things happened.
        let (mails, others): (Vec<JobRecord>, Vec<JobRecord>) = jobs.into_iter().partition(|j| j.kind == MAIL);
        let mut running = tokio::task::JoinSet::new();
        for group in std::iter::once(mails).chain(others.into_iter().map(|j| vec![j])) {
            let (app, worker) = (self.clone(), worker.to_owned());
            running.spawn(async move {
                let mut settled = Vec::new();
                for job in &group {
                    settled.push(app.run_and_settle(job, &worker).await);
                }
                settled
            });
        }
        let mut run = JobRun::default();
        let mut failure = None;
        while let Some(joined) = running.join_next().await {
            let settled = joined.unwrap_or_else(|e| vec![Err(AppError::Internal(format!("job task: {e}")))]);
            for s in settled {
                match s {
                    Ok(Settled::Done) => run.done += 1,
                    Ok(Settled::Retried) => run.retried += 1,
                    Ok(Settled::Dead) => run.dead += 1,
                    // The others finish first; a job whose end was not recorded is leased again.
                    Err(e) => failure = failure.or(Some(e)),
                }
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(run),
        }
    }

    /// Runs one claimed job and records how it ended.
    async fn run_and_settle(&self, job: &JobRecord, worker: &str) -> AppResult<Settled> {
        let settings = self.inner.config.jobs;
        let outcome = self.run_job(job).await;
        let metrics = &self.inner.job_metrics;
        match outcome {
            Ok(()) => {
                let mut tx = self.db().begin().await?;
                tx.finish_job(job.id, worker).await?;
                if job.kind == HOUSEKEEPING {
                    // After finishing (the running job holds the singleton key until then), in
                    // the same transaction: no moment shows it done with no next run.
                    tx.enqueue_job(&self.next_housekeeping()).await?;
                }
                tx.commit().await?;
                metrics.done.inc();
                Ok(Settled::Done)
            }
            Err(e) => {
                metrics.failed.inc();
                let permanent = matches!(e, JobError::Permanent(_));
                let retry_at = (!permanent && job.attempts < job.max_attempts)
                    .then(|| self.inner.clock.now() + settings.backoff(job.attempts));
                let message = e.to_string();
                self.db().fail_job(job.id, worker, &message, retry_at).await?;
                if retry_at.is_some() {
                    tracing::warn!(job = job.id.0, kind = %job.kind, attempts = job.attempts, error = %message, "job failed, will retry");
                    Ok(Settled::Retried)
                } else {
                    tracing::error!(job = job.id.0, kind = %job.kind, attempts = job.attempts, error = %message, "job given up");
                    metrics.dead.inc();
                    Ok(Settled::Dead)
                }
            }
        }
    }

    async fn run_job(&self, job: &JobRecord) -> Result<(), JobError> {
        match job.kind.as_str() {
            MAIL => {
                let mail: MailJob = serde_json::from_value(job.payload.clone())
                    .map_err(|e| JobError::Permanent(format!("mail payload: {e}")))?;
                let rendered = RenderedMail {
                    subject: mail.subject,
                    body: mail.body,
                };
                self.inner
                    .mailer
                    .deliver(&mail.to, &rendered)
                    .await
                    .map_err(|e| JobError::Transient(e.to_string()))
            }
            HOUSEKEEPING => {
                let now = self.inner.clock.now();
                let sessions = self
                    .db()
                    .purge_expired_sessions(now)
                    .await
                    .map_err(|e| JobError::Transient(e.to_string()))?;
                let jobs = self
                    .db()
                    .purge_finished_jobs(now - self.inner.config.jobs.keep_finished)
                    .await
                    .map_err(|e| JobError::Transient(e.to_string()))?;
                tracing::info!(
                    sessions,
                    jobs,
                    "housekeeping: expired sessions and finished jobs deleted"
                );
                Ok(())
            }
            facteur_store::INVOICE_STATUS_CHANGED => {
                // The event of a lifecycle step: notifications and webhooks will consume it; until
                // then it is logged, so the outbox drains and the step stays traceable.
                tracing::info!(payload = %job.payload, "invoice status changed");
                Ok(())
            }
            crate::flows::FLOW_PROCESS => self.run_flow_job(&job.payload).await.map_err(JobError::Transient),
            other => Err(JobError::Permanent(format!("unknown job kind {other}"))),
        }
    }

    /// Starts this node's worker: it runs due jobs whenever woken by a commit of this node, or
    /// every `poll_interval`, until the handle is stopped or dropped. It schedules housekeeping
    /// first (a no-op when another node already did).
    pub fn spawn_worker(&self) -> WorkerHandle {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let app = self.clone();
        let worker = format!("{}-{}", std::process::id(), &crate::secrets::new_token()[..8]);
        let task = tokio::spawn(async move {
            if let Err(e) = app.schedule_housekeeping().await {
                tracing::warn!(error = %e, "housekeeping not scheduled");
            }
            let poll = app.inner.config.jobs.poll_interval;
            loop {
                let full = match app.run_due_jobs(&worker).await {
                    Ok(run) => run.total() >= app.inner.config.jobs.batch as usize,
                    Err(e) => {
                        tracing::warn!(error = %e, "job worker pass failed");
                        false
                    }
                };
                if full {
                    continue;
                }
                tokio::select! {
                    () = app.inner.wake.notified() => {}
                    () = tokio::time::sleep(poll) => {}
                    r = stopped.changed() => {
                        if r.is_err() || *stopped.borrow() {
                            break;
                        }
                    }
                }
            }
        });
        WorkerHandle { stop, task }
    }

    /// Job counters since start-up.
    pub fn job_totals(&self) -> JobTotals {
        let m = &self.inner.job_metrics;
        JobTotals {
            done: m.done.get(),
            failed: m.failed.get(),
            dead: m.dead.get(),
        }
    }

    /// This node's job counters (shared: `/metrics` registers them).
    pub fn job_counters(&self) -> JobCounters {
        self.inner.job_metrics.clone()
    }

    /// Queue depth now (due, scheduled, running, dead).
    pub async fn job_counts(&self) -> AppResult<facteur_store::JobCounts> {
        Ok(self.db().job_counts(self.inner.clock.now()).await?)
    }

    /// A job by id (tests, operator).
    pub async fn job(&self, id: JobId) -> AppResult<Option<JobRecord>> {
        Ok(self.db().job(id).await?)
    }
}

/// Why a job failed: worth retrying (SMTP down) or not (a payload that will never parse).
#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error("{0}")]
    Transient(String),
    #[error("{0}")]
    Permanent(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps() {
        let s = JobSettings::default();
        assert_eq!(s.backoff(1), Duration::seconds(30));
        assert_eq!(s.backoff(2), Duration::seconds(60));
        assert_eq!(s.backoff(3), Duration::seconds(120));
        assert_eq!(s.backoff(7), Duration::seconds(30 * 64));
        assert_eq!(s.backoff(8), Duration::hours(1));
        assert_eq!(s.backoff(200), Duration::hours(1));
    }
}
