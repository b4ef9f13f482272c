-- Small blobs kept in the database (issue #13, deposit speed): an original or structured copy of
-- at most 64 KiB is written inside the transaction that records it, so the commit makes it durable
-- with the deposit instead of a file fsync of its own. Larger ones stay in the blob store, synced
-- before the commit. Same content-addressed id (hex SHA-256) as the blob store. Kept
-- column-for-column in step with ../sqlite/0010_inline_blobs.sql.
CREATE TABLE inline_blobs (
    id    TEXT PRIMARY KEY,
    bytes BYTEA NOT NULL,
    CONSTRAINT inline_blobs_size_check CHECK (octet_length(bytes) <= 65536)
);
