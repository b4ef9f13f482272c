-- Flows (factures/v1/deposer/flux, issue #13): a flow is a deposit of channel DEPOT_FLUX_API whose
-- state (IN_RECU → IN_EN_COURS_TRAITEMENT_CPP → IN_INTEGRE / IN_REJETE / IN_INTEGRE_PARTIEL) the job
-- queue moves. Kept column-for-column in step with ../postgres/0007_flows.sql.

-- The syntaxeFlux the depositor declared (spec §4.6); NULL for the other channels.
ALTER TABLE deposits ADD COLUMN flow_syntax TEXT;

-- The report of a flow (consulterCRDetaille): one row per finding of a rejected invoice, in the
-- order found. invoice_rank numbers the invoices of the flow (0 for a single file); number,
-- supplier and recipient are what the document says, when it could be read that far.
CREATE TABLE flow_findings (
    id                   INTEGER PRIMARY KEY,
    deposit_id           INTEGER NOT NULL,
    invoice_rank         INTEGER NOT NULL,
    finding_rank         INTEGER NOT NULL,
    invoice_number       TEXT,
    supplier_identifier  TEXT,
    recipient_identifier TEXT,
    -- FP-… (platform rule) or the EN 16931 rule id
    code                 TEXT NOT NULL,
    -- the term or field a platform rule is about
    field                TEXT,
    -- the engine's words (EN 16931 findings; platform rules get theirs at the edge)
    message_fr           TEXT,
    message_en           TEXT,
    path                 TEXT,
    line                 INTEGER,
    CONSTRAINT flow_findings_deposit_fk FOREIGN KEY (deposit_id) REFERENCES deposits (id),
    CONSTRAINT flow_findings_rank_key UNIQUE (deposit_id, invoice_rank, finding_rank),
    CONSTRAINT flow_findings_line_check CHECK (line IS NULL OR line >= 0)
);
