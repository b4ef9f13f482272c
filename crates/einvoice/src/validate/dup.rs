//! Duplicated singleton elements. The official XSLT stops with a dynamic error (XPTY0004) when an element
//! its tests use as a single value occurs twice (such documents are also schema-invalid), so it reports
//! nothing; we reject the document with our own fatal rule [`super::own_rules::DUPLICATE`] instead.

use roxmltree::Document;

use super::finding::{Findings, Loc, Syntax};
use super::own_rules;
use super::tree::{NS_CAC, NS_CBC, NS_RAM, NS_RSM, Q, child_path, node_line, node_path};

/// (parent path from the root element, element) pairs the schemas allow at most once.
const UBL: &[(&[Q], Q)] = &[
    (&[], Q::new(NS_CBC, "CustomizationID")),
    (&[], Q::new(NS_CBC, "ProfileID")),
    (&[], Q::new(NS_CBC, "ID")),
    (&[], Q::new(NS_CBC, "IssueDate")),
    (&[], Q::new(NS_CBC, "DueDate")),
    (&[], Q::new(NS_CBC, "InvoiceTypeCode")),
    (&[], Q::new(NS_CBC, "CreditNoteTypeCode")),
    (&[], Q::new(NS_CBC, "TaxPointDate")),
    (&[], Q::new(NS_CBC, "DocumentCurrencyCode")),
    (&[], Q::new(NS_CBC, "TaxCurrencyCode")),
    (&[], Q::new(NS_CBC, "AccountingCost")),
    (&[], Q::new(NS_CBC, "BuyerReference")),
    (&[], Q::new(NS_CAC, "AccountingSupplierParty")),
    (&[], Q::new(NS_CAC, "AccountingCustomerParty")),
    (&[], Q::new(NS_CAC, "LegalMonetaryTotal")),
];

const CII: &[(&[Q], Q)] = &[
    (&[Q::new(NS_RSM, "ExchangedDocument")], Q::new(NS_RAM, "ID")),
    (&[Q::new(NS_RSM, "ExchangedDocument")], Q::new(NS_RAM, "TypeCode")),
    (&[Q::new(NS_RSM, "ExchangedDocument")], Q::new(NS_RAM, "IssueDateTime")),
    (&[], Q::new(NS_RSM, "ExchangedDocument")),
    (&[], Q::new(NS_RSM, "SupplyChainTradeTransaction")),
];

/// Reports duplicated singletons; returns true when any was found (the document is then not evaluated further).
pub(crate) fn check(doc: &Document<'_>, syntax: Syntax, out: &mut Findings) -> bool {
    let table = match syntax {
        Syntax::Ubl => UBL,
        Syntax::Cii => CII,
    };
    let root = doc.root_element();
    let mut found = false;
    for (parent, q) in table {
        for p in child_path(root, parent) {
            let dups: Vec<_> = p.children().filter(|c| q.matches(*c)).collect();
            if let Some(second) = dups.get(1) {
                found = true;
                let path = node_path(*second);
                out.fire(
                    own_rules::DUPLICATE,
                    Loc::new(&path, node_line(*second)),
                    format!(
                        "L'élément {} ne peut figurer qu'une fois : supprimez les doublons.",
                        q.1
                    ),
                    format!("Element {} may occur only once: remove the duplicates.", q.1),
                );
            }
        }
    }
    found
}
