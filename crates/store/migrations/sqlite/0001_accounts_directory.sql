-- Accounts, directory and audit (SQLite). Kept column-for-column in step with
-- ../postgres/0001_accounts_directory.sql: the Rust code reads both with the same SQL.
-- Timestamps are RFC 3339 UTC text with whole seconds (the store normalises them), so text
-- comparison orders them correctly. Booleans are INTEGER 0/1 (sqlx maps BOOLEAN to bool).

CREATE TABLE structures (
    id                                  INTEGER PRIMARY KEY,
    identifier_kind                     TEXT NOT NULL,
    identifier                          TEXT NOT NULL,
    kind                                TEXT NOT NULL,
    status                              TEXT NOT NULL,
    company_name                        TEXT NOT NULL,
    label                               TEXT,
    email                               TEXT,
    vat_number                          TEXT,
    address_line1                       TEXT NOT NULL,
    address_line2                       TEXT,
    address_line3                       TEXT,
    postcode                            TEXT NOT NULL,
    city                                TEXT NOT NULL,
    country                             TEXT NOT NULL,
    phone                               TEXT,
    service_code_required               BOOLEAN NOT NULL,
    engagement_required                 BOOLEAN NOT NULL,
    service_code_or_engagement_required BOOLEAN NOT NULL,
    payment_status_not_reported         BOOLEAN NOT NULL,
    moa                                 TEXT NOT NULL,
    -- lower-cased, accent-folded copies for directory search (computed by the store)
    name_search                         TEXT NOT NULL,
    city_search                         TEXT NOT NULL,
    created_at                          TEXT NOT NULL,
    updated_at                          TEXT NOT NULL,
    UNIQUE (identifier_kind, identifier)
);
CREATE INDEX structures_postcode ON structures (postcode);
CREATE INDEX structures_name_search ON structures (name_search);

CREATE TABLE services (
    id                          INTEGER PRIMARY KEY,
    structure_id                INTEGER NOT NULL REFERENCES structures (id),
    code                        TEXT NOT NULL,
    label                       TEXT NOT NULL,
    active                      BOOLEAN NOT NULL,
    valid_from                  TEXT,
    valid_to                    TEXT,
    engagement_required         BOOLEAN NOT NULL,
    payment_status_not_reported BOOLEAN NOT NULL,
    created_at                  TEXT NOT NULL,
    updated_at                  TEXT NOT NULL,
    UNIQUE (structure_id, code)
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    first_name    TEXT NOT NULL,
    last_name     TEXT NOT NULL,
    phone         TEXT,
    status        TEXT NOT NULL,
    activated_at  TEXT,
    last_login_at TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE memberships (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    structure_id INTEGER NOT NULL REFERENCES structures (id),
    role         TEXT NOT NULL,
    status       TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    decided_at   TEXT,
    decided_by   INTEGER REFERENCES users (id),
    UNIQUE (user_id, structure_id)
);
CREATE INDEX memberships_structure ON memberships (structure_id, status);

CREATE TABLE space_openings (
    structure_id INTEGER NOT NULL REFERENCES structures (id),
    space        TEXT NOT NULL,
    opened_at    TEXT NOT NULL,
    PRIMARY KEY (structure_id, space)
);

CREATE TABLE space_subscriptions (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    structure_id INTEGER NOT NULL REFERENCES structures (id),
    space        TEXT NOT NULL,
    mode         TEXT NOT NULL,
    status       TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    decided_at   TEXT,
    decided_by   INTEGER REFERENCES users (id),
    UNIQUE (user_id, structure_id, space)
);
CREATE INDEX space_subscriptions_structure ON space_subscriptions (structure_id, status);

-- Activation / password-reset links: only the SHA-256 of the secret is kept.
CREATE TABLE one_time_tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    purpose    TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    token_hash   TEXT NOT NULL UNIQUE,
    expires_at   TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE technical_accounts (
    id                  INTEGER PRIMARY KEY,
    structure_id        INTEGER NOT NULL UNIQUE REFERENCES structures (id),
    login               TEXT NOT NULL UNIQUE,
    password_hash       TEXT NOT NULL,
    client_id           TEXT NOT NULL UNIQUE,
    client_secret_hash  TEXT NOT NULL,
    password_expires_at TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    actor_kind   TEXT NOT NULL,
    actor_id     INTEGER,
    action       TEXT NOT NULL,
    structure_id INTEGER,
    details      TEXT NOT NULL
);
CREATE INDEX audit_log_structure ON audit_log (structure_id, id);

-- Failed-login counters for rate limiting shared by every node.
CREATE TABLE login_attempts (
    id  INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    at  TEXT NOT NULL
);
CREATE INDEX login_attempts_key ON login_attempts (key, at);
