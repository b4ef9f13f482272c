//! Duplicated singleton elements. The official XSLT stops with a dynamic error (XPTY0004) when an element
//! its tests use as a single value occurs twice (such documents are also schema-invalid), so it reports
//! nothing; we reject the document with our own fatal rule [`super::own_rules::DUPLICATE`] instead.

use roxmltree::Node;

use super::finding::{Findings, Loc, Syntax};
use super::own_rules;
use super::tree::{NS_CAC, NS_CBC, NS_RAM, NS_RSM, Q, node_line, node_path};
use crate::xml::index::DocIndex;

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
pub(crate) fn check(ix: &DocIndex<'_, '_>, syntax: Syntax, out: &mut Findings) -> bool {
    let table = match syntax {
        Syntax::Ubl => UBL,
        Syntax::Cii => CII,
    };
    let mut found = false;
    for (parent, q) in table {
        // Names are numbers in the index: a name no element has cannot be duplicated.
        let Some(name) = ix.lookup(Some(q.0), q.1) else {
            continue;
        };
        for p in parents(ix, parent) {
            let Some(second) = ix.kids(p).iter().filter(|(k, _)| *k == name).nth(1) else {
                continue;
            };
            let Some(second) = ix.node(second.1) else { continue };
            found = true;
            let path = node_path(second);
            out.fire(
                own_rules::DUPLICATE,
                Loc::new(&path, node_line(second)),
                format!(
                    "L'élément {} ne peut figurer qu'une fois : supprimez les doublons.",
                    q.1
                ),
                format!("Element {} may occur only once: remove the duplicates.", q.1),
            );
        }
    }
    found
}

/// The elements reached from the root element by `path` (every match at every step), in document order.
fn parents<'a, 'i>(ix: &DocIndex<'a, 'i>, path: &[Q]) -> Vec<Node<'a, 'i>> {
    let mut cur = vec![ix.doc().root_element()];
    for q in path {
        let Some(name) = ix.lookup(Some(q.0), q.1) else {
            return Vec::new();
        };
        cur = cur
            .iter()
            .flat_map(|c| ix.kids(*c).iter().filter(move |(k, _)| *k == name))
            .filter_map(|(_, id)| ix.node(*id))
            .collect();
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fired(xml: &str, syntax: Syntax) -> (bool, Vec<(String, u32)>) {
        let doc = roxmltree::Document::parse(xml).expect("well-formed");
        let ix = DocIndex::new(&doc);
        let mut out = Findings::new(syntax);
        let found = check(&ix, syntax, &mut out);
        let at = out.into_items().into_iter().map(|f| (f.path, f.line)).collect();
        (found, at)
    }

    #[test]
    fn the_second_occurrence_of_a_singleton_is_reported_under_each_parent() {
        let cii = r#"<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
 xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100">
<rsm:ExchangedDocument><ram:ID>1</ram:ID><ram:TypeCode>380</ram:TypeCode>
<ram:ID>2</ram:ID><ram:ID>3</ram:ID></rsm:ExchangedDocument>
</rsm:CrossIndustryInvoice>"#;
        let (found, at) = fired(cii, Syntax::Cii);
        assert!(found);
        assert_eq!(at.len(), 1, "one finding per duplicated element and parent: {at:?}");
        assert_eq!(at[0].1, 4);
        assert!(at[0].0.ends_with("ram:ID[2]"), "{at:?}");
        let ubl = r#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
<cbc:ID>1</cbc:ID><cbc:IssueDate>2026-01-01</cbc:IssueDate>
<cbc:IssueDate>2026-01-02</cbc:IssueDate><cbc:ID>2</cbc:ID></Invoice>"#;
        let (found, at) = fired(ubl, Syntax::Ubl);
        assert!(found);
        // Table order: ID before IssueDate, whatever their order in the document.
        assert_eq!(at.len(), 2, "{at:?}");
        assert!(
            at[0].0.ends_with("cbc:ID[2]") && at[1].0.ends_with("cbc:IssueDate[2]"),
            "{at:?}"
        );
    }

    #[test]
    fn singletons_met_once_and_repeatable_elements_are_not_reported() {
        let ubl = r#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
<cbc:ID>1</cbc:ID><cbc:Note>a</cbc:Note><cbc:Note>b</cbc:Note></Invoice>"#;
        assert_eq!(fired(ubl, Syntax::Ubl), (false, Vec::new()));
    }
}
