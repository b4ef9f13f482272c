//! `facteur validate [--format text|json] PATH…`: EN 16931 validation of XML (UBL, CII) and Factur-X PDF
//! files, directories walked recursively, files validated in parallel on every core.
//!
//! Exit status: 0 when every file is valid, 1 when any has a fatal finding, 2 on usage or I/O errors.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use facteur_einvoice::facturx;
use facteur_einvoice::validate::{Finding, Report, Severity, own_rules, validate_xml};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Grouped, human-readable, coloured on a terminal.
    Text,
    /// One JSON object per line and file.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Files or directories (walked recursively for *.xml and *.pdf).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// The outcome for one file.
struct FileResult {
    file: PathBuf,
    profile: Option<String>,
    report: Report,
}

/// Directory size from which a progress bar is shown (on a terminal).
const PROGRESS_FROM: usize = 200;

pub fn run(args: ValidateArgs) -> ExitCode {
    let mut files = Vec::new();
    for p in &args.paths {
        if let Err(e) = collect(p, true, &mut files) {
            eprintln!("facteur validate: {}: {e}", p.display());
            return ExitCode::from(2);
        }
    }
    let bar = (files.len() >= PROGRESS_FROM && std::io::stderr().is_terminal())
        .then(|| indicatif::ProgressBar::new(files.len() as u64));
    let results = match validate_all(&files, args.jobs.map(usize::from), bar.as_ref()) {
        Ok(r) => r,
        Err((f, e)) => {
            eprintln!("facteur validate: {}: {e}", f.display());
            return ExitCode::from(2);
        }
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let stdout = std::io::stdout();
    let colour = args.format == Format::Text && stdout.is_terminal();
    let mut out = stdout.lock();
    for r in &results {
        let written = match args.format {
            Format::Json => writeln!(out, "{}", json_line(r)),
            Format::Text => write_text(&mut out, r, colour),
        };
        if written.is_err() {
            return ExitCode::from(2);
        }
    }
    if args.format == Format::Text && results.len() > 1 {
        let bad = results.iter().filter(|r| !r.report.is_valid()).count();
        let _ = writeln!(
            out,
            "{} file(s), {} valid, {} invalid",
            results.len(),
            results.len() - bad,
            bad
        );
    }
    if results.iter().all(|r| r.report.is_valid()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Adds `path` (a file given explicitly, or *.xml / *.pdf under a directory) to `out`, sorted per directory.
fn collect(path: &Path, explicit: bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for e in entries {
            collect(&e, false, out)?;
        }
    } else if explicit || has_ext(path, "xml") || has_ext(path, "pdf") {
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn has_ext(p: &Path, ext: &str) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// Validates every file on all cores (std scoped threads pulling from a shared index), keeping input order.
fn validate_all(
    files: &[PathBuf],
    jobs: Option<usize>,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<Vec<FileResult>, (PathBuf, std::io::Error)> {
    let threads = jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .min(files.len().max(1));
    let next = AtomicUsize::new(0);
    let mut slots: Vec<Option<Result<FileResult, std::io::Error>>> = Vec::new();
    slots.resize_with(files.len(), || None);
    let chunks: Vec<Vec<(usize, Result<FileResult, std::io::Error>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(f) = files.get(i) else { break };
                        done.push((i, validate_file(f)));
                        if let Some(b) = bar {
                            b.inc(1);
                        }
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    for (i, r) in chunks.into_iter().flatten() {
        slots[i] = Some(r);
    }
    let mut out = Vec::with_capacity(files.len());
    for (i, slot) in slots.into_iter().enumerate() {
        match slot {
            Some(Ok(r)) => out.push(r),
            Some(Err(e)) => return Err((files[i].clone(), e)),
            None => return Err((files[i].clone(), std::io::Error::other("validation thread failed"))),
        }
    }
    Ok(out)
}

fn validate_file(path: &Path) -> std::io::Result<FileResult> {
    let bytes = std::fs::read(path)?;
    let is_pdf = bytes.starts_with(b"%PDF") || has_ext(path, "pdf");
    if is_pdf {
        return Ok(match facturx::extract(&bytes) {
            Ok(x) => {
                let report = validate_xml(&x.xml);
                FileResult {
                    file: path.to_path_buf(),
                    profile: x.xmp_profile.or(report.profile).map(|p| p.as_str().to_owned()),
                    report,
                }
            }
            Err(e) => FileResult {
                file: path.to_path_buf(),
                profile: None,
                report: Report {
                    syntax: None,
                    profile: None,
                    findings: vec![Finding {
                        rule: own_rules::XML,
                        severity: Severity::Fatal,
                        terms: &[],
                        path: "/".to_owned(),
                        line: 0,
                        message_fr: format!("Aucune facture XML Factur-X lisible dans ce PDF : {e}."),
                        message_en: format!("No readable Factur-X XML invoice in this PDF: {e}."),
                    }],
                },
            },
        });
    }
    // The profile comes from the validation's own parse: the document is parsed once.
    let report = validate_xml(&bytes);
    Ok(FileResult {
        file: path.to_path_buf(),
        profile: report.profile.map(|p| p.as_str().to_owned()),
        report,
    })
}

fn json_line(r: &FileResult) -> String {
    let findings: Vec<serde_json::Value> = r
        .report
        .findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "rule": f.rule,
                "severity": f.severity.as_str(),
                "bt": if f.terms.is_empty() { serde_json::Value::Null } else { f.terms.join(", ").into() },
                "path": f.path,
                "line": f.line,
                "message": { "fr": f.message_fr, "en": f.message_en },
            })
        })
        .collect();
    serde_json::json!({
        "file": r.file.display().to_string(),
        "syntax": r.report.syntax.map(|s| s.as_str()),
        "profile": r.profile,
        "valid": r.report.is_valid(),
        // The rule ids apart from the schema's, as the official Schematron reports them.
        "fatal": r.report.rule_ids(Severity::Fatal),
        "warning": r.report.rule_ids(Severity::Warning),
        "schema_valid": r.report.schema_valid(),
        "schema": schema_ids(&r.report),
        "findings": findings,
    })
    .to_string()
}

/// The schema findings' ids (`XSD-*`): the fatal ids that are not rule ids.
fn schema_ids(report: &Report) -> Vec<&'static str> {
    let rules = report.rule_ids(Severity::Fatal);
    report
        .ids(Severity::Fatal)
        .into_iter()
        .filter(|id| !rules.contains(id))
        .collect()
}

fn paint(colour: bool, code: &str, s: &str) -> String {
    if colour {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_owned()
    }
}

/// Text report: verdict line, then findings grouped by rule (fatal first) with locations and the fix hint.
fn write_text(out: &mut impl Write, r: &FileResult, colour: bool) -> std::io::Result<()> {
    let rep = &r.report;
    let (nf, nw) = (rep.ids(Severity::Fatal).len(), rep.ids(Severity::Warning).len());
    let verdict = if rep.is_valid() {
        paint(colour, "1;32", "VALID")
    } else {
        paint(colour, "1;31", "INVALID")
    };
    let syntax = rep.syntax.map_or("?", |s| s.as_str());
    writeln!(
        out,
        "{verdict} {} [{syntax}{}] — {nf} fatal rule(s), {nw} warning rule(s)",
        r.file.display(),
        r.profile.as_deref().map(|p| format!(", {p}")).unwrap_or_default()
    )?;
    for sev in [Severity::Fatal, Severity::Warning] {
        for id in rep.ids(sev) {
            let hits: Vec<&Finding> = rep
                .findings
                .iter()
                .filter(|f| f.rule == id && f.severity == sev)
                .collect();
            let Some(first) = hits.first() else { continue };
            let tag = match sev {
                Severity::Fatal => paint(colour, "31", "fatal  "),
                Severity::Warning => paint(colour, "33", "warning"),
            };
            let terms = if first.terms.is_empty() {
                String::new()
            } else {
                format!(" ({})", first.terms.join(", "))
            };
            writeln!(out, "  {tag} {}{terms}", paint(colour, "1", id))?;
            writeln!(out, "          {}", first.message_en)?;
            writeln!(out, "          {}", paint(colour, "2", &first.message_fr))?;
            for h in hits.iter().take(5) {
                writeln!(out, "          at line {}: {}", h.line, h.path)?;
            }
            if hits.len() > 5 {
                writeln!(out, "          … and {} more", hits.len() - 5)?;
            }
        }
    }
    Ok(())
}
