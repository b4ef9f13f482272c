//! Hand-written tree assertions whose test shape `tools/gen_tree_rules.py` does not compile (predicates
//! inside paths, `distinct-values`, `preceding::`, regular expressions). Each returns true when the
//! assertion holds for the context node `n`.

use roxmltree::Node;

use crate::model::draft::normalize_space;
use crate::xml::index::DocIndex as Index;

use super::tree::{NS_CAC, NS_CBC, NS_RAM, NS_UDT, Q, child_path, children, string_value, xs_bool};

fn cbc(l: &'static str) -> Q {
    Q::new(NS_CBC, l)
}
fn cac(l: &'static str) -> Q {
    Q::new(NS_CAC, l)
}
fn ram(l: &'static str) -> Q {
    Q::new(NS_RAM, l)
}

/// Every element of the document matching `q` (XPath `//q`), in document order, from the index.
fn all<'x, 'a, 'i>(ix: &'x Index<'a, 'i>, q: Q) -> impl Iterator<Item = Node<'a, 'i>> + 'x {
    let found = ix.lookup(Some(q.0), q.1).map_or(&[][..], |name| ix.named(name));
    found.iter().filter_map(|id| ix.node(*id))
}

/// `some $c in path satisfies string($c) = v` (XPath general comparison).
fn any_eq(n: Node<'_, '_>, path: &[Q], v: &str) -> bool {
    child_path(n, path).iter().any(|c| string_value(*c) == v)
}

/// `normalize-space(path)` of the first node (XPath 2.0 would raise on several; the first is the best guess).
fn norm_first(n: Node<'_, '_>, path: &[Q]) -> String {
    child_path(n, path)
        .first()
        .map(|c| normalize_space(&string_value(*c)))
        .unwrap_or_default()
}

/// `cac:PartyTaxScheme[cac:TaxScheme/upper-case(cbc:ID) = 'VAT']` (or `!=` when `vat` is false).
fn tax_scheme_is(pts: Node<'_, '_>, vat: bool) -> bool {
    child_path(pts, &[cac("TaxScheme"), cbc("ID")])
        .iter()
        .any(|i| (string_value(*i).to_uppercase() == "VAT") == vat)
}

fn count_company_ids(root: Node<'_, '_>, party: &'static str, vat: bool) -> usize {
    child_path(root, &[cac(party), cac("Party"), cac("PartyTaxScheme")])
        .iter()
        .filter(|p| tax_scheme_is(**p, vat))
        .map(|p| children(*p, cbc("CompanyID")).count())
        .sum()
}

fn distinct_count<'a, 'i: 'a>(it: impl Iterator<Item = Node<'a, 'i>>) -> usize {
    let mut v: Vec<String> = it.map(string_value).collect();
    v.sort();
    v.dedup();
    v.len()
}

/// `(cac:PartyName/cbc:Name) != (../cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName)`:
/// existential, so false when either side is empty.
fn payee_name_differs(n: Node<'_, '_>) -> bool {
    let names: Vec<String> = child_path(n, &[cac("PartyName"), cbc("Name")])
        .into_iter()
        .map(string_value)
        .collect();
    let Some(parent) = n.parent() else { return false };
    let regs: Vec<String> = child_path(
        parent,
        &[
            cac("AccountingSupplierParty"),
            cac("Party"),
            cac("PartyLegalEntity"),
            cbc("RegistrationName"),
        ],
    )
    .into_iter()
    .map(string_value)
    .collect();
    names.iter().any(|a| regs.iter().any(|b| a != b))
}

/// XPath `\s`.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// `matches(., '^\s*(\d{4})(1[0-2]|0[1-9]){1}(3[01]|[12][0-9]|0[1-9]){1}\s*$')`.
pub(crate) fn is_date_102(s: &str) -> bool {
    let t = s.trim_matches(is_space);
    let b = t.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let month = (b[4] - b'0') * 10 + (b[5] - b'0');
    let day = (b[6] - b'0') * 10 + (b[7] - b'0');
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// The official test of the assertion `id` at node `n`; unknown ids hold (never fire).
pub(crate) fn check<'a, 'i>(id: &str, n: Node<'a, 'i>, ix: &Index<'a, 'i>) -> bool {
    match id {
        "UBL-SR-43" => {
            let root_cn = n.document().root_element().tag_name().name() == "CreditNote";
            any_eq(n, &[cbc("DocumentTypeCode")], "130")
                || (root_cn && any_eq(n, &[cbc("DocumentTypeCode")], "50"))
                || (!child_path(n, &[cbc("ID")]).iter().any(|i| i.has_attribute("schemeID"))
                    && children(n, cbc("DocumentTypeCode")).next().is_none())
        }
        "UBL-DT-01" => {
            let v = string_value(n);
            v.split_once('.').is_none_or(|(_, after)| after.chars().count() <= 2)
        }
        "UBL-CR-665" => !all(ix, cac("AdditionalDocumentReference")).any(|d| {
            let codes: Vec<String> = children(d, cbc("DocumentTypeCode")).map(string_value).collect();
            (codes.iter().any(|c| c != "130") || codes.is_empty())
                && child_path(d, &[cbc("ID")]).iter().any(|i| i.has_attribute("schemeID"))
        }),
        "UBL-CR-666" | "UBL-CR-673" => {
            let what = if id == "UBL-CR-666" {
                cac("Attachment")
            } else {
                cbc("DocumentDescription")
            };
            !all(ix, cac("AdditionalDocumentReference"))
                .any(|d| any_eq(d, &[cbc("DocumentTypeCode")], "130") && children(d, what).next().is_some())
        }
        "UBL-DT-18" => {
            let total: usize = n
                .document()
                .root()
                .descendants()
                .filter(|d| d.has_attribute("name"))
                .count();
            let pmc = all(ix, cbc("PaymentMeansCode"))
                .filter(|d| d.has_attribute("name"))
                .count();
            total <= pmc
        }
        "UBL-SR-04" => {
            child_path(n, &[cac("AdditionalDocumentReference")])
                .iter()
                .filter(|d| any_eq(**d, &[cbc("DocumentTypeCode")], "130"))
                .map(|d| children(*d, cbc("ID")).count())
                .sum::<usize>()
                <= 1
        }
        "UBL-SR-12" => count_company_ids(n, "AccountingSupplierParty", true) <= 1,
        "UBL-SR-13" => count_company_ids(n, "AccountingSupplierParty", false) <= 1,
        "UBL-SR-18" => count_company_ids(n, "AccountingCustomerParty", true) <= 1,
        "UBL-SR-29" => {
            all(ix, cac("PartyIdentification"))
                .flat_map(|p| children(p, cbc("ID")))
                .filter(|i| i.attribute("schemeID").is_some_and(|s| s.to_uppercase() == "SEPA"))
                .count()
                <= 1
        }
        "UBL-SR-44" => distinct_count(all(ix, cbc("PaymentID"))) <= 1,
        "UBL-SR-47" => distinct_count(all(ix, cbc("PaymentMeansCode"))) <= 1,
        "UBL-SR-19" => child_path(n, &[cac("PartyName"), cbc("Name")]).len() <= 1 && payee_name_differs(n),
        "UBL-SR-20" => {
            child_path(n, &[cac("PartyIdentification"), cbc("ID")])
                .iter()
                .filter(|i| i.attribute("schemeID").is_some_and(|s| s.to_uppercase() != "SEPA"))
                .count()
                <= 1
                && payee_name_differs(n)
        }
        "UBL-SR-21" => child_path(n, &[cac("PartyLegalEntity"), cbc("CompanyID")]).len() <= 1 && payee_name_differs(n),
        "CII-SR-119" => {
            let base = [ram("GrossPriceProductTradePrice"), ram("AppliedTradeAllowanceCharge")];
            let with = |last: Q| {
                let mut p = base.to_vec();
                p.push(last);
                child_path(n, &p)
            };
            let indicators = with(ram("ChargeIndicator"));
            let amounts = with(ram("ActualAmount"));
            let false_ind = indicators
                .iter()
                .any(|i| children(*i, Q::new(NS_UDT, "Indicator")).any(|u| xs_bool(&string_value(u)) == Some(false)));
            (false_ind && !amounts.is_empty()) || (indicators.is_empty() && amounts.is_empty())
        }
        "CII-SR-474" => {
            children(n, ram("AdditionalReferencedDocument"))
                .filter(|d| norm_first(*d, &[ram("TypeCode")]) == "130")
                .count()
                <= 1
        }
        "CII-SR-457" | "CII-SR-458" => {
            let code = if id == "CII-SR-457" { "50" } else { "130" };
            children(n, ram("AdditionalReferencedDocument"))
                .filter(|d| any_eq(*d, &[ram("TypeCode")], code))
                .count()
                <= 1
        }
        "CII-SR-475" | "CII-SR-476" => {
            let what = if id == "CII-SR-475" {
                ram("Name")
            } else {
                ram("AttachmentBinaryObject")
            };
            children(n, ram("AdditionalReferencedDocument"))
                .filter(|d| norm_first(*d, &[ram("TypeCode")]) == "916")
                .map(|d| children(d, what).count())
                .sum::<usize>()
                <= 1
        }
        "CII-SR-462" => {
            distinct_count(all(ix, ram("ApplicableTradeTax")).flat_map(|t| children(t, ram("DueDateTypeCode")))) <= 1
        }
        "CII-SR-470" => !children(n, ram("SpecifiedTradeSettlementPaymentMeans")).any(|m| {
            let code = norm_first(m, &[ram("TypeCode")]);
            (code == "30" || code == "58")
                && child_path(m, &[ram("PayeePartyCreditorFinancialAccount")])
                    .iter()
                    .all(|a| {
                        children(*a, ram("IBANID")).next().is_none()
                            && children(*a, ram("ProprietaryID")).next().is_none()
                    })
        }),
        "CII-SR-467" | "CII-SR-468" => {
            let what = if id == "CII-SR-467" {
                ram("TypeCode")
            } else {
                ram("Information")
            };
            let vals: Vec<String> = all(ix, ram("SpecifiedTradeSettlementPaymentMeans"))
                .flat_map(|m| children(m, what))
                .map(|c| normalize_space(&string_value(c)))
                .collect();
            vals.first().is_none_or(|f| vals.iter().all(|v| v == f))
        }
        "CII-DT-097" => is_date_102(&string_value(n)),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_102() {
        assert!(is_date_102(" 20240131\n"));
        assert!(!is_date_102("20241331"));
        assert!(!is_date_102("2024-01-31"));
        assert!(!is_date_102("20240100"));
    }
}
