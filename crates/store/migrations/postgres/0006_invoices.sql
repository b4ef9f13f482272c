-- Deposits, invoices and their status history (PostgreSQL). Kept column-for-column in step with
-- ../sqlite/0006_invoices.sql: the Rust code reads both with the same SQL.
--
-- Amounts are exact decimals kept as their decimal text ('1200.00'), as on SQLite, which has no
-- exact numeric type: one column type on both backends lets one SQL text read and write them, and
-- nothing in SQL computes with them. (A NUMERIC column here would need a cast on every bind and
-- read, per backend.)

-- A deposit: what one depositor sent through one channel, durable before anything is read.
-- state: IN_RECU, IN_EN_COURS_TRAITEMENT_CPP, IN_INTEGRE, IN_INTEGRE_PARTIEL, IN_REJETE (spec §3.1).
CREATE TABLE deposits (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    depositor_id    BIGINT NOT NULL REFERENCES structures (id),
    -- who sent it, as in the audit log: USER / TECHNICAL (+ id), SYSTEM, OPERATOR
    actor_kind      TEXT NOT NULL,
    actor_id        BIGINT,
    channel         TEXT NOT NULL,
    received_at     TIMESTAMPTZ NOT NULL,
    -- the original bytes in the blob store: hex SHA-256 (content address), size, media type
    original_sha256 TEXT NOT NULL,
    original_size   BIGINT NOT NULL,
    media_type      TEXT NOT NULL,
    file_name       TEXT,
    idempotency_key TEXT,
    state           TEXT NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT deposits_depositor_idempotency_key UNIQUE (depositor_id, idempotency_key)
);
-- "The same bytes from the same depositor within 24 h" (issue #13).
CREATE INDEX deposits_depositor_original ON deposits (depositor_id, original_sha256, received_at);

-- An invoice (payment request). deposited_at is the legal start of the payment delay (dateDepot).
-- issue_year is the year of issue_date (checked), so the number rule is a plain unique constraint.
CREATE TABLE invoices (
    id                     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deposit_id             BIGINT NOT NULL REFERENCES deposits (id),
    supplier_id            BIGINT NOT NULL REFERENCES structures (id),
    recipient_id           BIGINT NOT NULL REFERENCES structures (id),
    service_id             BIGINT REFERENCES services (id),
    number                 TEXT NOT NULL,
    kind                   TEXT NOT NULL,
    issue_date             DATE NOT NULL,
    issue_year             INTEGER NOT NULL CHECK (issue_year = EXTRACT(YEAR FROM issue_date)),
    deposited_at           TIMESTAMPTZ NOT NULL,
    currency               TEXT NOT NULL,
    total_excl_vat         TEXT NOT NULL,
    total_vat              TEXT NOT NULL,
    total_incl_vat         TEXT NOT NULL,
    engagement_number      TEXT,
    status                 TEXT NOT NULL,
    rejection_acknowledged BOOLEAN NOT NULL,
    structured_sha256      TEXT,
    syntax                 TEXT,
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL,
    -- One number per supplier and year of issue, credit notes included (spec §5).
    CONSTRAINT invoices_supplier_year_number_key UNIQUE (supplier_id, issue_year, number)
);
-- The two sides' lists, newest deposit first (keyset on deposited_at, id), with and without a
-- status filter.
CREATE INDEX invoices_supplier_deposited ON invoices (supplier_id, deposited_at, id);
CREATE INDEX invoices_recipient_deposited ON invoices (recipient_id, deposited_at, id);
CREATE INDEX invoices_supplier_status ON invoices (supplier_id, status, deposited_at, id);
CREATE INDEX invoices_recipient_status ON invoices (recipient_id, status, deposited_at, id);
CREATE INDEX invoices_deposit ON invoices (deposit_id);

-- Every status an invoice took: from (NULL at creation), to, who (party and actor), why, when.
-- action: the lifecycle step (InvoiceAction code), NULL at creation.
CREATE TABLE invoice_history (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id  BIGINT NOT NULL REFERENCES invoices (id),
    from_status TEXT,
    to_status   TEXT NOT NULL,
    action      TEXT,
    party       TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    BIGINT,
    motive      TEXT,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX invoice_history_invoice ON invoice_history (invoice_id, id);
