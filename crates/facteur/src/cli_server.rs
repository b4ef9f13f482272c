//! Server-side subcommands: serve, migrate, healthcheck, export-openapi, directory.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::Command;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long)]
    pub listen: Option<String>,
    /// Data directory (SQLite database, blobs, outbox).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Seed demo structures, users and technical accounts.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, clap::Args)]
pub struct DataArgs {
    /// Data directory.
    #[arg(long)]
    pub data: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {
    /// Base URL of the server to probe.
    #[arg(long)]
    pub url: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum DirectoryCommand {
    /// Import public structures and services from a CSV file (idempotent).
    Import { file: PathBuf },
    /// Export the directory as CSV to standard output or a file.
    Export { file: Option<PathBuf> },
}

pub fn run(_config: &Path, _command: Command) -> ExitCode {
    eprintln!("not implemented yet");
    ExitCode::from(2)
}
