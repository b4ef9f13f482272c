//! The job queue. A use case enqueues a job in its own transaction ([`Tx::enqueue_job`]), so the
//! job exists exactly when the change that asked for it was committed. Workers lease due jobs
//! ([`Store::claim_jobs`]), run them, then mark them done or failed; a lease that runs out (a
//! worker that died) makes the job due again.
//!
//! A leased job is never handed to a second worker while its lease runs: on PostgreSQL the claim
//! takes the rows `FOR UPDATE SKIP LOCKED`, so several server processes share one queue without
//! waiting on each other; on SQLite the claim runs in a `BEGIN IMMEDIATE` transaction, so claims
//! are serialised by the database's single writer.

use serde_json::Value;
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::{Backend, Result, Store, StoreError, Tx, normalize_time, with_pool, with_tx};

/// Id of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct JobId(pub i64);

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// What the worker does with it (`mail`, `purge`…): the app's handlers know the kinds.
    pub kind: String,
    pub payload: Value,
    /// Not before.
    pub run_at: OffsetDateTime,
    /// Attempts before the job is given up ([`JobStatus::Dead`]).
    pub max_attempts: u32,
    /// At most one pending job with this key (housekeeping that every node enqueues).
    pub singleton: Option<String>,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum JobStatus {
    /// Waiting for its time, or leased by a worker.
    Pending,
    Done,
    /// Failed `max_attempts` times.
    Dead,
}

impl JobStatus {
    fn parse(s: &str) -> Result<Self> {
        match s {
            "PENDING" => Ok(JobStatus::Pending),
            "DONE" => Ok(JobStatus::Done),
            "DEAD" => Ok(JobStatus::Dead),
            other => Err(StoreError::corrupt("jobs", format!("unknown status {other}"))),
        }
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub id: JobId,
    pub kind: String,
    pub payload: Value,
    pub status: JobStatus,
    pub run_at: OffsetDateTime,
    /// Attempts started so far (a claim counts one).
    pub attempts: u32,
    pub max_attempts: u32,
    pub last_error: Option<String>,
    pub leased_by: Option<String>,
    pub lease_until: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
}

/// How many jobs are where, for `/metrics` and the operator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobCounts {
    /// Pending and due now (waiting for a worker).
    pub due: i64,
    /// Pending, due later (retries waiting for their back-off, scheduled housekeeping).
    pub scheduled: i64,
    /// Leased by a worker right now.
    pub running: i64,
    /// Given up.
    pub dead: i64,
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    kind: String,
    payload: Json<Value>,
    status: String,
    run_at: OffsetDateTime,
    attempts: i32,
    max_attempts: i32,
    last_error: Option<String>,
    leased_by: Option<String>,
    lease_until: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    finished_at: Option<OffsetDateTime>,
}

const JOB_COLS: &str = "id, kind, payload, status, run_at, attempts, max_attempts, last_error, leased_by, lease_until, \
                        created_at, finished_at";

impl TryFrom<JobRow> for JobRecord {
    type Error = StoreError;
    fn try_from(r: JobRow) -> Result<Self> {
        let count = |n: i32| u32::try_from(n).map_err(|e| StoreError::corrupt("jobs", e));
        Ok(JobRecord {
            id: JobId(r.id),
            kind: r.kind,
            payload: r.payload.0,
            status: JobStatus::parse(&r.status)?,
            run_at: r.run_at,
            attempts: count(r.attempts)?,
            max_attempts: count(r.max_attempts)?,
            last_error: r.last_error,
            leased_by: r.leased_by,
            lease_until: r.lease_until,
            created_at: r.created_at,
            finished_at: r.finished_at,
        })
    }
}

fn as_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl Tx {
    /// Enqueues a job in this transaction. A singleton job whose key already has a pending job is
    /// not enqueued (`None`).
    pub async fn enqueue_job(&mut self, job: &NewJob) -> Result<Option<JobId>> {
        self.step("enqueue_job")?;
        let at = self.clock.now();
        let id: Option<i64> = with_tx!(self, |c| sqlx::query_scalar(
            "INSERT INTO jobs (kind, payload, status, run_at, max_attempts, singleton, created_at) \
             VALUES ($1, $2, 'PENDING', $3, $4, $5, $6) \
             ON CONFLICT (singleton) WHERE status = 'PENDING' DO NOTHING RETURNING id"
        )
        .bind(job.kind.as_str())
        .bind(Json(&job.payload))
        .bind(normalize_time(job.run_at))
        .bind(as_i32(job.max_attempts.max(1)))
        .bind(job.singleton.as_deref())
        .bind(at)
        .fetch_optional(&mut *c)
        .await?);
        Ok(id.map(JobId))
    }

    /// Marks a job done, if `worker` still holds it. Its payload is dropped (a mail's links are
    /// live secrets; nothing needs them once sent). Returns whether it did. In a transaction, so a
    /// job that schedules its next run commits both together.
    pub async fn finish_job(&mut self, id: JobId, worker: &str) -> Result<bool> {
        self.step("finish_job")?;
        let at = self.clock.now();
        let n = with_tx!(self, |c| {
            sqlx::query(
            "UPDATE jobs SET status = 'DONE', finished_at = $1, payload = $2, leased_by = NULL, lease_until = NULL, \
             last_error = NULL WHERE id = $3 AND leased_by = $4 AND status = 'PENDING'"
        )
        .bind(at)
        .bind(Json(Value::Object(serde_json::Map::new())))
        .bind(id.0)
        .bind(worker)
        .execute(&mut *c)
        .await?
        .rows_affected()
        });
        Ok(n == 1)
    }
}

crate::autocommit! {
    fn enqueue_job(job: &NewJob) -> Option<JobId>;
    fn finish_job(id: JobId, worker: &str) -> bool;
}

impl Store {
    /// Leases up to `limit` due jobs to `worker` until `lease_until`, oldest due first, counting an
    /// attempt on each. A job is due when pending, its `run_at` has come, and it is not leased (or
    /// its lease ran out at `now`).
    pub async fn claim_jobs(
        &self,
        worker: &str,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<JobRecord>> {
        // One statement on both backends but for the row locks, which SQLite has no syntax for (and
        // no need of: the transaction holds the only write lock).
        let lock = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE jobs SET leased_by = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM jobs WHERE status = 'PENDING' AND run_at <= $3 \
             AND (lease_until IS NULL OR lease_until <= $3) ORDER BY run_at, id LIMIT $4{lock}) \
             RETURNING {JOB_COLS}"
        );
        let mut tx = self.begin().await?;
        let mut rows: Vec<JobRow> = with_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(worker)
            .bind(normalize_time(lease_until))
            .bind(normalize_time(now))
            .bind(i64::from(limit))
            .fetch_all(&mut *c)
            .await?);
        tx.commit().await?;
        rows.sort_by_key(|r| (r.run_at, r.id));
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Records a failed attempt of a job `worker` holds: due again at `retry_at`, or given up
    /// ([`JobStatus::Dead`], payload dropped) when `retry_at` is `None`. Returns whether it did.
    pub async fn fail_job(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<bool> {
        let error: String = error.chars().take(2000).collect();
        let n = match retry_at {
            Some(at) => with_pool!(self, |db| sqlx::query(
                "UPDATE jobs SET run_at = $1, last_error = $2, leased_by = NULL, lease_until = NULL \
                 WHERE id = $3 AND leased_by = $4 AND status = 'PENDING'"
            )
            .bind(normalize_time(at))
            .bind(error.as_str())
            .bind(id.0)
            .bind(worker)
            .execute(db)
            .await?
            .rows_affected()),
            None => with_pool!(self, |db| {
                sqlx::query(
                "UPDATE jobs SET status = 'DEAD', finished_at = $1, last_error = $2, payload = $3, leased_by = NULL, \
                 lease_until = NULL WHERE id = $4 AND leased_by = $5 AND status = 'PENDING'"
            )
            .bind(self.now())
            .bind(error.as_str())
            .bind(Json(Value::Object(serde_json::Map::new())))
            .bind(id.0)
            .bind(worker)
            .execute(db)
            .await?
            .rows_affected()
            }),
        };
        Ok(n == 1)
    }

    /// A job by id.
    pub async fn job(&self, id: JobId) -> Result<Option<JobRecord>> {
        let row: Option<JobRow> = with_pool!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLS} FROM jobs WHERE id = $1"
        )))
        .bind(id.0)
        .fetch_optional(db)
        .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// Jobs of a kind, oldest first (operator views, tests).
    pub async fn jobs_of_kind(&self, kind: &str) -> Result<Vec<JobRecord>> {
        let rows: Vec<JobRow> = with_pool!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLS} FROM jobs WHERE kind = $1 ORDER BY id"
        )))
        .bind(kind)
        .fetch_all(db)
        .await?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// How many jobs are due, scheduled, running and dead at `now`.
    pub async fn job_counts(&self, now: OffsetDateTime) -> Result<JobCounts> {
        let (due, scheduled, running, dead): (i64, i64, i64, i64) = with_pool!(self, |db| sqlx::query_as(
            "SELECT \
             COALESCE(SUM(CASE WHEN status = 'PENDING' AND run_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) \
                      THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status = 'PENDING' AND run_at > $1 AND lease_until IS NULL THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status = 'PENDING' AND lease_until > $1 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status = 'DEAD' THEN 1 ELSE 0 END), 0) \
             FROM jobs WHERE status <> 'DONE'"
        )
        .bind(normalize_time(now))
        .fetch_one(db)
        .await?);
        Ok(JobCounts {
            due,
            scheduled,
            running,
            dead,
        })
    }

    /// Deletes finished (done or dead) jobs finished before `before`. Returns how many.
    pub async fn purge_finished_jobs(&self, before: OffsetDateTime) -> Result<u64> {
        let n = with_pool!(self, |db| sqlx::query(
            "DELETE FROM jobs WHERE status IN ('DONE', 'DEAD') AND finished_at < $1"
        )
        .bind(normalize_time(before))
        .execute(db)
        .await?
        .rows_affected());
        Ok(n)
    }
}
