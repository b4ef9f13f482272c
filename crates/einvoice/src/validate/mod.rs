//! EN 16931 validation: all findings of a document at once.
//!
//! The semantic rules run over the lenient [`Draft`] and are written once for both syntaxes: the core
//! rules BR-01 … BR-65 ([`core`]: mandatory terms and groups, their conditions), the VAT category
//! families BR-S … BR-B ([`vat`]) and the totals, conditions and decimals rules BR-CO-*, BR-DEC-*
//! ([`totals`]); where the official UBL and CII assertions really differ, a rule branches on the syntax.
//! The syntax-binding rules (UBL-CR/SR/DT, CII-SR/DT) and the code lists (BR-CL-*) run over the XML tree
//! ([`tree`]), compiled from the official rule data by `tools/gen_tree_rules.py`. Each semantic module
//! exposes `fn check(draft: &Draft, out: &mut Findings)`; severities and cited terms always come from the
//! rule data.

mod codes_gen;
pub mod core;
pub mod finding;
mod meta;
pub mod totals;
mod tree;
mod tree_custom;
pub mod vat;
pub mod xsd;
mod xsd_gen;

pub use finding::{Finding, Findings, Loc, Severity, Syntax};
pub use tree::{node_line, node_path};

pub use crate::model::draft::Draft;

/// Runs every semantic rule module over `draft`.
pub fn check_draft(draft: &Draft, out: &mut Findings) {
    core::check(draft, out);
    vat::check(draft, out);
    totals::check(draft, out);
}

/// Detects the syntax from the root element's namespace.
pub fn detect_syntax(doc: &roxmltree::Document<'_>) -> Option<Syntax> {
    let root = doc.root_element();
    match (root.tag_name().namespace(), root.tag_name().name()) {
        (Some(tree::NS_UBL_INV), "Invoice") | (Some(tree::NS_UBL_CN), "CreditNote") => Some(Syntax::Ubl),
        (Some(tree::NS_RSM), "CrossIndustryInvoice") => Some(Syntax::Cii),
        _ => None,
    }
}

/// Our own rule ids (not in the official artefacts), for documents the official XSLT cannot judge.
pub mod own_rules {
    /// The input is not well-formed XML (or is refused: DTD, size, depth).
    pub const XML: &str = "FACTEUR-XML";
    /// The root element is neither a UBL 2.1 Invoice/CreditNote nor a CII D16B CrossIndustryInvoice.
    pub const SYNTAX: &str = "FACTEUR-SYNTAX";
    /// An element EN 16931 allows once (a business term of cardinality 1) repeated where the CII schema
    /// lets it repeat: the official XSLT stops with a dynamic error on such documents instead of reporting.
    pub const DUPLICATE: &str = "FACTEUR-DUP";
    pub use super::xsd::{XSD_CARDINALITY, XSD_ORDER, XSD_REQUIRED, XSD_TYPE, XSD_UNKNOWN};
}

/// The result of validating one document.
#[derive(Debug, Clone)]
pub struct Report {
    /// The detected syntax, `None` when the document is not a UBL or CII invoice.
    pub syntax: Option<Syntax>,
    /// All findings, in rule order.
    pub findings: Vec<Finding>,
    /// The Factur-X profile the document declares by its guideline id (BT-24), read from the same parse.
    pub profile: Option<crate::facturx::Profile>,
}

impl Report {
    /// Sorted, de-duplicated ids of the findings of `severity`.
    pub fn ids(&self, severity: Severity) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self
            .findings
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
        !self.findings.iter().any(|f| f.severity == Severity::Fatal)
    }

    /// True when the document is well-formed, of a known syntax and valid against its schema (no
    /// `XSD-*`, `FACTEUR-XML` or `FACTEUR-SYNTAX` finding).
    pub fn schema_valid(&self) -> bool {
        self.syntax.is_some()
            && !self
                .findings
                .iter()
                .any(|f| xsd::is_schema_rule(f.rule) || f.rule == own_rules::XML)
    }

    /// [`Report::ids`] without the schema findings (`XSD-*`): the ids the official Schematron reports,
    /// to compare with its output.
    pub fn rule_ids(&self, severity: Severity) -> Vec<&'static str> {
        let mut v = self.ids(severity);
        v.retain(|id| !xsd::is_schema_rule(id));
        v
    }
}

fn own_finding(rule: &'static str, path: &str, line: u32, fr: String, en: String) -> Finding {
    Finding {
        rule,
        severity: Severity::Fatal,
        terms: &[],
        path: path.to_owned(),
        line,
        message_fr: fr,
        message_en: en,
    }
}

/// Parses and validates an XML invoice (UBL or CII): every rule, all findings at once.
pub fn validate_xml(bytes: &[u8]) -> Report {
    match crate::xml::parse(bytes) {
        Ok(doc) => validate_document(&doc),
        Err(e) => Report {
            syntax: None,
            profile: None,
            findings: vec![own_finding(
                own_rules::XML,
                "/",
                0,
                format!("Document XML illisible ou refusé : {e}. Corrigez le fichier."),
                format!("Unreadable or refused XML document: {e}. Fix the file."),
            )],
        },
    }
}

/// Validates an already parsed document.
pub fn validate_document(doc: &roxmltree::Document<'_>) -> Report {
    let profile = crate::facturx::guideline_id_in(doc)
        .as_deref()
        .and_then(crate::facturx::Profile::from_guideline);
    let Some(syntax) = detect_syntax(doc) else {
        let root = doc.root_element();
        return Report {
            syntax: None,
            profile,
            findings: vec![own_finding(
                own_rules::SYNTAX,
                &node_path(root),
                node_line(root),
                "L'élément racine n'est ni une facture UBL 2.1 (Invoice/CreditNote) ni une facture CII D16B \
                 (CrossIndustryInvoice) : vérifiez l'élément racine et son espace de noms."
                    .to_owned(),
                "The root element is neither a UBL 2.1 Invoice/CreditNote nor a CII D16B \
                 CrossIndustryInvoice: check the root element and its namespace."
                    .to_owned(),
            )],
        };
    };
    let mut out = Findings::new(syntax);
    // One index serves the schema check, the tree rules and the reader. As in the official process the
    // schema comes first; unlike it, the rules still run on a schema-invalid document, so that every
    // finding is reported at once (the schema findings alone make the document invalid).
    let ix = crate::xml::index::DocIndex::new(doc);
    xsd::check(&ix, syntax, &mut out);
    if syntax == Syntax::Cii {
        xsd::check_cii_singletons(&ix, &mut out);
    }
    tree::check_indexed(&ix, syntax, &mut out);
    let draft = match syntax {
        Syntax::Ubl => crate::ubl::read_indexed(&ix),
        Syntax::Cii => crate::cii::read_indexed(&ix),
    };
    match draft {
        Ok(d) => check_draft(&d, &mut out),
        Err(e) => out.fire(
            own_rules::XML,
            Loc::new("/", 0),
            format!("Le document n'a pas pu être lu : {e}."),
            format!("The document could not be read: {e}."),
        ),
    }
    Report {
        syntax: Some(syntax),
        profile,
        findings: out.into_items(),
    }
}

/// Runs the syntax-binding and code-list rules of `syntax` over the XML tree.
pub fn check_tree(doc: &roxmltree::Document<'_>, syntax: Syntax, out: &mut Findings) {
    tree::check(doc, syntax, out);
}
