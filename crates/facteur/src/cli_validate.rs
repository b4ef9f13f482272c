//! `facteur validate`: placeholder until the EN 16931 engine lands.
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Output format.
    #[arg(long, default_value = "text")]
    pub format: String,
    /// Files or directories (recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

pub fn run(_args: ValidateArgs) -> ExitCode {
    eprintln!("validate: not implemented yet");
    ExitCode::from(2)
}
