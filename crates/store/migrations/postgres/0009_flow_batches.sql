-- Batch flows (issue #13): a flow may be a .zip or .tar.gz of up to 500 invoice files, each
-- processed as a single-file flow is. Kept column-for-column in step with ../sqlite/0009_flow_batches.sql.

-- The archive entry a report line is about (NULL for a single-file flow).
ALTER TABLE flow_findings ADD COLUMN entry_name TEXT;

-- What became of each entry of a batch, written in the transaction that integrates the entry's
-- invoice or records its findings: a job re-run after a crash skips the ranks found here, and
-- the unique rank makes a concurrent run's second write fail, so no entry is integrated twice.
CREATE TABLE flow_entries (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deposit_id  BIGINT NOT NULL,
    -- 1-based rank of the file in the archive
    entry_rank  BIGINT NOT NULL,
    entry_name  TEXT NOT NULL,
    -- the integrated invoice; NULL when the entry was rejected (its findings are in flow_findings)
    invoice_id  BIGINT,
    CONSTRAINT flow_entries_deposit_fk FOREIGN KEY (deposit_id) REFERENCES deposits (id),
    CONSTRAINT flow_entries_invoice_fk FOREIGN KEY (invoice_id) REFERENCES invoices (id),
    CONSTRAINT flow_entries_rank_key UNIQUE (deposit_id, entry_rank),
    CONSTRAINT flow_entries_rank_check CHECK (entry_rank > 0)
);
