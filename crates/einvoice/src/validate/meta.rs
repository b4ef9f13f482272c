//! Rule metadata (flag per syntax, cited terms) looked up by id.

use super::finding::{Severity, Syntax};

#[path = "meta_gen.rs"]
#[allow(clippy::type_complexity)] // generated table of tuples
mod generated;

/// Severity and cited terms of `rule` in `syntax`, or `None` when the official data does not know it.
pub(crate) fn lookup(syntax: Syntax, rule: &str) -> Option<(Severity, &'static [&'static str])> {
    let i = generated::RULES.binary_search_by(|r| r.0.cmp(rule)).ok()?;
    let (_, ubl, cii, terms) = generated::RULES[i];
    let sev = match syntax {
        Syntax::Ubl => ubl.or(cii),
        Syntax::Cii => cii.or(ubl),
    }?;
    Some((sev, terms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn br51_differs_between_syntaxes() {
        assert_eq!(lookup(Syntax::Ubl, "BR-51").map(|x| x.0), Some(Severity::Warning));
        assert_eq!(lookup(Syntax::Cii, "BR-51").map(|x| x.0), Some(Severity::Fatal));
        assert_eq!(lookup(Syntax::Ubl, "UBL-CR-001").map(|x| x.0), Some(Severity::Warning));
        assert!(lookup(Syntax::Ubl, "NOPE-1").is_none());
        assert_eq!(
            lookup(Syntax::Ubl, "BR-52").map(|x| x.1),
            Some(&["BG-24", "BT-122"][..])
        );
    }
}
