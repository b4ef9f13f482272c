//! Values of an invoice checked by the platform before any storage: the supplier's invoice number
//! (spec §5: "≤20 chars, alphanumeric plus `-` `_` `/` `+`").

use crate::DomainError;
use crate::code::string_newtype;

/// `numeroFactureSaisi` / `numeroFacture`: the supplier's own number for the invoice, 1 to
/// [`InvoiceNumber::MAX`] characters among ASCII letters, digits and `-` `_` `/` `+`. Unique per
/// supplier and year of issue (checked by the store).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InvoiceNumber(String);
string_newtype!(InvoiceNumber);

impl InvoiceNumber {
    /// Longest number Chorus Pro accepts.
    pub const MAX: usize = 20;

    /// Parses an invoice number: trimmed, then checked for length and characters.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        const F: &str = "numeroFactureSaisi";
        let v = input.trim();
        if v.is_empty() {
            return Err(DomainError::format(F, "required"));
        }
        if v.chars().count() > Self::MAX {
            return Err(DomainError::format(F, "20 characters at most"));
        }
        if !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '+'))
        {
            return Err(DomainError::format(F, "letters, digits and - _ / + only"));
        }
        Ok(Self(v.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_spec_limits() {
        assert_eq!(InvoiceNumber::parse(" F2026-00042 ").unwrap().as_str(), "F2026-00042");
        assert!(InvoiceNumber::parse("A_B/C+D-1").is_ok());
        assert!(InvoiceNumber::parse(&"9".repeat(20)).is_ok());
        assert!(InvoiceNumber::parse(&"9".repeat(21)).is_err());
        for bad in ["", "  ", "F 1", "F.1", "FACTURE#1", "É1"] {
            assert!(InvoiceNumber::parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn accepted_numbers_are_short_and_of_the_allowed_set(s in "\\PC{0,30}") {
            if let Ok(n) = InvoiceNumber::parse(&s) {
                prop_assert!(n.as_str().len() <= InvoiceNumber::MAX);
                prop_assert!(n.as_str().chars().all(|c| c.is_ascii_alphanumeric() || "-_/+".contains(c)));
            }
        }
    }
}
