//! Behaviour tests of the use cases, one binary, every scenario on SQLite and (when
//! `FACTEUR_TEST_PG_URL` is set, mandatory under `CI`) on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::collapsible_if)]

mod common;
mod smtp;

mod accounts;
mod atomic;
mod attachments;
mod demo;
mod directory;
mod flows;
mod invoice_scope;
mod jobs;
mod managers;
mod security;
mod structure_admin;
mod technical;
