//! `facteur validate --format json FILE…` without the rest of the workspace: one JSON line per file
//! with `file`, `syntax`, `valid`, `fatal`, `warning` (the schema findings `XSD-*` included) and
//! `schema_valid`. `scripts/mutants.py --bin` takes either this or the `facteur` binary.
//!
//! ```sh
//! cargo run --release -p facteur-einvoice --example validate_json -- FILE…
//! ```

use std::io::Write;

use facteur_einvoice::validate::{Severity, validate_xml};

fn main() {
    let mut out = std::io::stdout().lock();
    let mut any_invalid = false;
    for arg in std::env::args_os().skip(1) {
        let path = std::path::PathBuf::from(arg);
        let line = match std::fs::read(&path) {
            Ok(bytes) => {
                let r = validate_xml(&bytes);
                any_invalid |= !r.is_valid();
                serde_json::json!({
                    "file": path.display().to_string(),
                    "syntax": r.syntax.map(|s| s.as_str()),
                    "valid": r.is_valid(),
                    "schema_valid": r.schema_valid(),
                    "fatal": r.ids(Severity::Fatal),
                    "warning": r.ids(Severity::Warning),
                })
            }
            Err(e) => serde_json::json!({ "file": path.display().to_string(), "error": e.to_string() }),
        };
        if writeln!(out, "{line}").is_err() {
            std::process::exit(2);
        }
    }
    std::process::exit(i32::from(any_invalid));
}
