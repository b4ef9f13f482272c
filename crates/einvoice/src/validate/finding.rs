//! Findings: what a rule reports, with enough context for a person to fix the document.

use std::fmt;

use crate::model::draft::DocPath;

pub use crate::xml::Syntax;

/// Severity as flagged by the official artefacts (`flag` of the rule data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The document is not compliant.
    Fatal,
    /// The document is compliant but something should be corrected.
    Warning,
}

impl Severity {
    /// `fatal` / `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Fatal => "fatal",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in the document a finding points: an XPath-like path and a 1-based line (0 = unknown).
/// Rules pass locations around before they know whether they fire, so a path read from the document
/// stays unwritten until a finding is made (see [`DocPath`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loc<'a> {
    path: LocPath<'a>,
    /// 1-based line number, 0 when unknown.
    pub line: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LocPath<'a> {
    Text(&'a str),
    Doc(&'a DocPath),
}

impl<'a> Loc<'a> {
    /// A location from its parts.
    pub fn new(path: &'a str, line: u32) -> Self {
        Loc {
            path: LocPath::Text(path),
            line,
        }
    }

    /// The location of a term or group read from the document.
    pub fn at(path: &'a DocPath, line: u32) -> Self {
        Loc {
            path: LocPath::Doc(path),
            line,
        }
    }

    /// XPath-like path of the context node.
    pub fn path(&self) -> &'a str {
        match self.path {
            LocPath::Text(p) => p,
            LocPath::Doc(p) => p.as_str(),
        }
    }
}

/// One reported rule violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Rule id (`BR-01`, `UBL-CR-001`, `CII-SR-014`, `FX-DUP-01` …).
    pub rule: &'static str,
    /// Fatal or warning, per syntax.
    pub severity: Severity,
    /// Business terms and groups concerned (`BT-1`, `BG-23` …), possibly empty.
    pub terms: &'static [&'static str],
    /// XPath-like path of the context node.
    pub path: String,
    /// 1-based line of the context node (0 when unknown).
    pub line: u32,
    /// What is wrong and how to fix it, in French.
    pub message_fr: String,
    /// What is wrong and how to fix it, in English.
    pub message_en: String,
}

/// The findings of one document, in the order the rules fired.
#[derive(Debug, Clone)]
pub struct Findings {
    syntax: Syntax,
    items: Vec<Finding>,
}

impl Findings {
    /// Empty findings for a document of `syntax`.
    pub fn new(syntax: Syntax) -> Self {
        Findings {
            syntax,
            items: Vec::new(),
        }
    }

    /// The syntax of the document being validated (rules that differ between UBL and CII branch on it).
    pub fn syntax(&self) -> Syntax {
        self.syntax
    }

    /// Reports `rule` at `at`. Severity and terms come from the official rule data for the current
    /// syntax, so rule code never decides them; an id unknown to the data is reported as fatal.
    pub fn fire(&mut self, rule: &'static str, at: Loc<'_>, fr: impl Into<String>, en: impl Into<String>) {
        let (severity, terms) = super::meta::lookup(self.syntax, rule).unwrap_or((Severity::Fatal, &[]));
        self.push(Finding {
            rule,
            severity,
            terms,
            path: at.path().to_owned(),
            line: at.line,
            message_fr: fr.into(),
            message_en: en.into(),
        });
    }

    /// Adds a fully built finding.
    pub fn push(&mut self, f: Finding) {
        self.items.push(f);
    }

    /// All findings.
    pub fn items(&self) -> &[Finding] {
        &self.items
    }

    /// Consumes into the list of findings.
    pub fn into_items(self) -> Vec<Finding> {
        self.items
    }

    /// Sorted, de-duplicated ids of the findings of `severity`.
    pub fn ids(&self, severity: Severity) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self
            .items
            .iter()
            .filter(|f| f.severity == severity)
            .map(|f| f.rule)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// True when no fatal finding was reported.
    pub fn is_valid(&self) -> bool {
        !self.items.iter().any(|f| f.severity == Severity::Fatal)
    }
}
