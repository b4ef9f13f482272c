-- Attachments (pièces jointes, issue #13): files a structure uploads (transverses/v1/ajouter/fichier,
-- factures/v1/deposer/pdf) and later references from an invoice, as its main PDF (DEPOT_PDF_API) or
-- as complementary documents (soumettre, completer). Kept column-for-column in step with
-- ../postgres/0008_attachments.sql.
--
-- The bytes live in the blob store (content-addressed); a row is one upload. Until invoice_id is
-- set the attachment belongs only to owner_id; once set (by a conditional update on
-- invoice_id IS NULL, so two deposits cannot both take it) it is one invoice's for good.
CREATE TABLE attachments (
    id            INTEGER PRIMARY KEY,
    owner_id      INTEGER NOT NULL REFERENCES structures (id),
    -- who uploaded it, as in the audit log
    actor_kind    TEXT NOT NULL,
    actor_id      INTEGER,
    blob_sha256   TEXT NOT NULL,
    size          INTEGER NOT NULL CHECK (size > 0),
    -- pieceJointeNom, pieceJointeTypeMime, pieceJointeExtension (upper case, no dot)
    file_name     TEXT NOT NULL,
    media_type    TEXT NOT NULL,
    extension     TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    -- the invoice it belongs to, its role there (PRINCIPALE / COMPLEMENTAIRE) and what the
    -- deposit said of it (pieceJointe…Designation, pieceJointeComplementaireType)
    invoice_id    INTEGER REFERENCES invoices (id),
    role          TEXT,
    designation   TEXT,
    kind          TEXT,
    linked_at     TEXT,
    CONSTRAINT attachments_link_check CHECK ((invoice_id IS NULL) = (role IS NULL))
);
CREATE INDEX attachments_owner ON attachments (owner_id, id);
CREATE INDEX attachments_invoice ON attachments (invoice_id, id);
