-- The job queue: background work (mail, session purge; later flows, digests, webhooks) that a
-- use case enqueues in its own transaction and a worker runs after the commit.
-- status: PENDING (waiting, or leased while lease_until is in the future), DONE, DEAD (gave up).
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'PENDING',
    run_at       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    last_error   TEXT,
    leased_by    TEXT,
    lease_until  TEXT,
    singleton    TEXT,
    created_at   TEXT NOT NULL,
    finished_at  TEXT
);
CREATE INDEX jobs_due ON jobs (status, run_at, id);
-- At most one pending job per singleton key (periodic housekeeping enqueued by every node).
CREATE UNIQUE INDEX jobs_singleton ON jobs (singleton) WHERE status = 'PENDING';
