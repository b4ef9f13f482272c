//! `facteur convert`: placeholder until the EN 16931 writers land.
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// Target syntax: ubl, cii or facturx.
    #[arg(long)]
    pub to: String,
    pub input: PathBuf,
    pub output: PathBuf,
}

pub fn run(_args: ConvertArgs) -> ExitCode {
    eprintln!("convert: not implemented yet");
    ExitCode::from(2)
}
