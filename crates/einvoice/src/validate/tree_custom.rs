//! Hand-written tree assertions whose test shape `tools/gen_tree_rules.py` does not compile (predicates
//! inside paths, `distinct-values`, `preceding::`, regular expressions). Each returns true when the
//! assertion holds for the context node `n`.

use roxmltree::Node;

use crate::model::draft::normalize_space;
use crate::xml::index::DocIndex as Index;

use super::codes_gen as codes;
use super::tree::{NS_CAC, NS_CBC, NS_RAM, Q, child_path, children, string_value};

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

/// The official test of the assertion `id` at node `n`. Every `T::Custom` id of the generated tables has
/// an arm here (a unit test checks it); an unknown id holds, so it can never fire by mistake.
pub(crate) fn check<'a, 'i>(id: &str, n: Node<'a, 'i>, ix: &Index<'a, 'i>) -> bool {
    eval(id, n, ix).unwrap_or(true)
}

/// [`check`], `None` for an id that has no hand-written test.
pub(crate) fn eval<'a, 'i>(id: &str, n: Node<'a, 'i>, ix: &Index<'a, 'i>) -> Option<bool> {
    Some(match id {
        "BR-CL-08" => note_subject_ok(&string_value(n)),
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
        "UBL-SR-44" => distinct_count(all(ix, cbc("PaymentID"))) <= 1,
        "UBL-SR-47" => distinct_count(all(ix, cbc("PaymentMeansCode"))) <= 1,
        "UBL-SR-19" => child_path(n, &[cac("PartyName"), cbc("Name")]).len() <= 1 && payee_name_differs(n),
        "UBL-SR-20" => {
            child_path(n, &[cac("PartyIdentification"), cbc("ID")])
                .iter()
                // upper-case(@schemeID) != 'SEPA': without the attribute, "" != 'SEPA' holds.
                .filter(|i| i.attribute("schemeID").is_none_or(|s| s.to_uppercase() != "SEPA"))
                .count()
                <= 1
                && payee_name_differs(n)
        }
        "UBL-SR-21" => child_path(n, &[cac("PartyLegalEntity"), cbc("CompanyID")]).len() <= 1 && payee_name_differs(n),
        "CII-SR-462" => {
            distinct_count(all(ix, ram("ApplicableTradeTax")).flat_map(|t| children(t, ram("DueDateTypeCode")))) <= 1
        }
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
        _ => return None,
    })
}

/// UBL BR-CL-08 on `cbc:Note`: a subject code written `#XXX#` must be a UNTDID 4451 code. As in the official
/// test, only a text between the first two `#` that is three characters long is a code, and it is looked up
/// as a substring of the space-separated list.
fn note_subject_ok(note: &str) -> bool {
    let code = note_subject_code(note);
    code.chars().count() != 3 || codes::UNTDID_4451_UBL_LITERAL.contains(code)
}

/// `substring-before(substring-after(., '#'), '#')`: empty without a second '#'.
fn note_subject_code(note: &str) -> &str {
    note.split_once('#')
        .and_then(|(_, after)| after.split_once('#'))
        .map_or("", |(code, _)| code)
}

/// What to fix when the hand-written assertion `id` fails at `n`, in French and English.
pub(crate) fn describe(id: &str, n: Node<'_, '_>) -> Option<(String, String)> {
    let v = || normalize_space(&string_value(n));
    let (fr, en) = match id {
        "BR-CL-08" => {
            let code = note_subject_code(&string_value(n)).to_owned();
            (
                format!(
                    "Le code de sujet de la note (entre les deux premiers « # » : « {} ») n'est pas un code UNTDID 4451 \
                 (AAI, SUR, REG…) : corrigez-le, ou n'écrivez pas de « # » dans la note.",
                    code
                ),
                format!(
                    "The note's subject code (between the first two '#': '{}') is not a UNTDID 4451 code (AAI, SUR, \
                 REG…): correct it, or do not write '#' in the note.",
                    code
                ),
            )
        }
        "UBL-SR-43" => (
            "Une référence de document additionnel avec un code de type (cbc:DocumentTypeCode) ou un schéma \
             d'identifiant (@schemeID) doit être l'objet facturé (code 130, ou 50 dans un avoir) : sinon, \
             retirez le code de type et le @schemeID."
                .to_owned(),
            "An additional document reference with a type code (cbc:DocumentTypeCode) or an identifier scheme \
             (@schemeID) must be the invoiced object (code 130, or 50 in a credit note): otherwise remove the type \
             code and the @schemeID."
                .to_owned(),
        ),
        "UBL-DT-01" => (
            format!(
                "Le montant « {} » a plus de deux décimales : arrondissez-le à deux au plus.",
                v()
            ),
            format!("Amount '{}' has more than two decimals: round it to two at most.", v()),
        ),
        "UBL-DT-18" => (
            "Seul cbc:PaymentMeansCode peut porter l'attribut @name : retirez-le des autres éléments.".to_owned(),
            "Only cbc:PaymentMeansCode may carry a @name attribute: remove it from the other elements.".to_owned(),
        ),
        "UBL-SR-44" => (
            "Une facture n'a qu'une référence de paiement : donnez la même valeur à tous les cbc:PaymentID.".to_owned(),
            "An invoice has one payment reference: give every cbc:PaymentID the same value.".to_owned(),
        ),
        "UBL-SR-47" => (
            "Une facture n'a qu'un moyen de paiement : donnez le même code à tous les cbc:PaymentMeansCode.".to_owned(),
            "An invoice has one payment means: give every cbc:PaymentMeansCode the same code.".to_owned(),
        ),
        "UBL-SR-19" | "UBL-SR-20" | "UBL-SR-21" => {
            let (what_fr, what_en) = match id {
                "UBL-SR-19" => ("un nom (cac:PartyName/cbc:Name)", "one name (cac:PartyName/cbc:Name)"),
                "UBL-SR-20" => (
                    "un identifiant hors SEPA (cac:PartyIdentification/cbc:ID)",
                    "one identifier other than SEPA (cac:PartyIdentification/cbc:ID)",
                ),
                _ => (
                    "un identifiant d'immatriculation (cac:PartyLegalEntity/cbc:CompanyID)",
                    "one legal registration identifier (cac:PartyLegalEntity/cbc:CompanyID)",
                ),
            };
            (
                format!(
                    "Le bénéficiaire du paiement (cac:PayeeParty) doit avoir au plus {what_fr} et un nom différent de la \
                     raison sociale du vendeur : si le vendeur est payé lui-même, retirez cac:PayeeParty."
                ),
                format!(
                    "The payee (cac:PayeeParty) must have at most {what_en} and a name other than the seller's \
                     registration name: if the seller is paid, leave out cac:PayeeParty."
                ),
            )
        }
        "CII-SR-462" => (
            "Tous les ram:DueDateTypeCode de la ventilation de TVA doivent avoir la même valeur.".to_owned(),
            "Every ram:DueDateTypeCode of the VAT breakdown must have the same value.".to_owned(),
        ),
        "CII-SR-467" => (
            "Une facture n'a qu'un moyen de paiement : donnez le même ram:TypeCode à tous les \
             ram:SpecifiedTradeSettlementPaymentMeans."
                .to_owned(),
            "An invoice has one payment means: give every ram:SpecifiedTradeSettlementPaymentMeans the same \
             ram:TypeCode."
                .to_owned(),
        ),
        "CII-SR-468" => (
            "Donnez le même texte (ram:Information) à tous les ram:SpecifiedTradeSettlementPaymentMeans.".to_owned(),
            "Give every ram:SpecifiedTradeSettlementPaymentMeans the same text (ram:Information).".to_owned(),
        ),
        "CII-DT-097" => (
            format!(
                "La date « {} » au format 102 doit s'écrire AAAAMMJJ (par exemple 20261203).",
                v()
            ),
            format!(
                "Date '{}' in format 102 must be written YYYYMMDD (for example 20261203).",
                v()
            ),
        ),
        _ => return None,
    };
    Some((fr, en))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ubl_note_subject_codes_are_untdid_4451() {
        assert!(note_subject_ok("#AAI#General information"));
        assert!(note_subject_ok("no subject code"));
        // Not a three-character code between two '#': not a subject code at all.
        assert!(note_subject_ok("#AB#x") && note_subject_ok("#ABCD#x") && note_subject_ok("ref #ZZZ"));
        assert!(!note_subject_ok("#QQQ#x"));
        assert!(!note_subject_ok("Order #123# shipped"));
        // The official test looks the code up as a substring of the space-separated list.
        assert!(note_subject_ok("#A A#x"));
    }

    #[test]
    fn date_102() {
        assert!(is_date_102(" 20240131\n"));
        assert!(!is_date_102("20241331"));
        assert!(!is_date_102("2024-01-31"));
        assert!(!is_date_102("20240100"));
    }
}
