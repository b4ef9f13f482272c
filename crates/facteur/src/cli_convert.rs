//! `facteur convert --to ubl|cii|facturx IN OUT`: any readable invoice to any syntax.
//!
//! The input (UBL, CII, or a Factur-X PDF's embedded XML) is read into the strict EN 16931
//! model, so conversion refuses documents that miss mandatory terms rather than writing
//! something half-empty. Exit codes: 0 converted, 1 input not convertible, 2 usage or I/O.
use std::path::PathBuf;
use std::process::ExitCode;

use facteur_einvoice::model::Invoice;
use facteur_einvoice::{cii, facturx, ubl, xml};

#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// Target syntax: ubl, cii or facturx.
    #[arg(long)]
    pub to: String,
    pub input: PathBuf,
    pub output: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Ubl,
    Cii,
    Facturx,
}

pub fn run(args: ConvertArgs) -> ExitCode {
    let target = match args.to.to_ascii_lowercase().as_str() {
        "ubl" => Target::Ubl,
        "cii" => Target::Cii,
        "facturx" | "factur-x" => Target::Facturx,
        other => {
            eprintln!("convert: unknown target {other:?} (expected ubl, cii or facturx)");
            return ExitCode::from(2);
        }
    };
    let bytes = match std::fs::read(&args.input) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("convert: cannot read {}: {e}", args.input.display());
            return ExitCode::from(2);
        }
    };
    let out = match convert(&bytes, target) {
        Ok(out) => out,
        Err(msg) => {
            eprintln!("convert: {}: {msg}", args.input.display());
            return ExitCode::from(1);
        }
    };
    if let Err(e) = std::fs::write(&args.output, out) {
        eprintln!("convert: cannot write {}: {e}", args.output.display());
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

fn convert(bytes: &[u8], target: Target) -> Result<Vec<u8>, String> {
    let xml_bytes = if bytes.starts_with(b"%PDF-") {
        facturx::extract(bytes).map_err(|e| e.to_string())?.xml
    } else {
        bytes.to_vec()
    };
    let (_, draft) = xml::read_xml(&xml_bytes).map_err(|e| e.to_string())?;
    let invoice = Invoice::try_from(&draft).map_err(|e| e.to_string())?;
    match target {
        Target::Ubl => Ok(ubl::write(&invoice).into_bytes()),
        Target::Cii => Ok(cii::write(&invoice).into_bytes()),
        Target::Facturx => facturx_pdf(&invoice),
    }
}

/// Factur-X: the CII serialisation embedded in a PDF/A-3b rendering of the same invoice.
fn facturx_pdf(invoice: &Invoice) -> Result<Vec<u8>, String> {
    facturx::generate(invoice, &cii::write(invoice)).map_err(|e| e.to_string())
}
