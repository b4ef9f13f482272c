-- Structure self-management (PostgreSQL): the bank details of a structure (spec §1.5). Kept
-- column-for-column in step with ../sqlite/0002_structure_management.sql.
--
-- Bank details are never deleted: invoices will reference them by id (`idCoordonneeBancaire`),
-- so a structure deactivates the ones it no longer uses. IBAN, BIC and the factor flag are fixed
-- once created (a new account is added instead), only the label changes.
CREATE TABLE bank_accounts (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    structure_id BIGINT NOT NULL REFERENCES structures (id),
    label        TEXT NOT NULL,
    iban         TEXT NOT NULL,
    bic          TEXT,
    factor       BOOLEAN NOT NULL,
    active       BOOLEAN NOT NULL,
    is_default   BOOLEAN NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT bank_accounts_structure_iban_key UNIQUE (structure_id, iban)
);
-- At most one default account per structure, whatever the code does; the store keeps it active.
CREATE UNIQUE INDEX bank_accounts_one_default ON bank_accounts (structure_id) WHERE is_default;
