//! Bank details of a supplier structure (spec §1.5), including a factor's (*affactureur*).

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::code::string_newtype;

/// International bank account number, checked with the ISO 13616 mod-97 rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Iban(String);
string_newtype!(Iban);

impl Iban {
    /// Parses an IBAN: spaces dropped, upper-cased, 15 to 34 characters, country letters, two
    /// check digits, remainder 1 when the rearranged number is taken mod 97.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        const F: &str = "iban";
        let v: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let b = v.as_bytes();
        if !(15..=34).contains(&b.len()) {
            return Err(DomainError::format(F, "15 to 34 characters"));
        }
        if !b[..2].iter().all(u8::is_ascii_uppercase)
            || !b[2..4].iter().all(u8::is_ascii_digit)
            || !b.iter().all(u8::is_ascii_alphanumeric)
        {
            return Err(DomainError::format(
                F,
                "country code, check digits, then letters or digits",
            ));
        }
        // Move the first four characters to the end, letters become 10..35, reduce digit by digit.
        let mut rem: u32 = 0;
        for &c in b[4..].iter().chain(&b[..4]) {
            let n = if c.is_ascii_digit() {
                u32::from(c - b'0')
            } else {
                u32::from(c - b'A') + 10
            };
            rem = if n >= 10 {
                (rem * 100 + n) % 97
            } else {
                (rem * 10 + n) % 97
            };
        }
        if rem != 1 {
            return Err(DomainError::Checksum { field: F });
        }
        Ok(Self(v))
    }

    /// Two-letter country code.
    pub fn country(&self) -> &str {
        &self.0[..2]
    }
}

/// Bank identifier code (SWIFT): 8 or 11 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bic(String);
string_newtype!(Bic);

impl Bic {
    /// Parses a BIC: 4 letters (bank), 2 letters (country), 2 letters/digits (place), optional
    /// 3 letters/digits (branch).
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let v = input.trim().to_ascii_uppercase();
        let b = v.as_bytes();
        let ok = (b.len() == 8 || b.len() == 11)
            && b[..6].iter().all(u8::is_ascii_uppercase)
            && b[6..].iter().all(u8::is_ascii_alphanumeric);
        if !ok {
            return Err(DomainError::format("bic", "8 or 11 characters: AAAACCLL[BBB]"));
        }
        Ok(Self(v))
    }
}

/// Bank details registered on a structure and referenced by id on invoices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankDetails {
    /// `nomCoordonneeBancaire`.
    pub label: String,
    pub iban: Iban,
    pub bic: Option<Bic>,
    /// The "Affactureur" box: these are a factor's details (subrogation).
    pub factor: bool,
}

impl BankDetails {
    /// Checks typed bank details and returns **all** the errors, each naming its field:
    /// `nomCoordonneeBancaire` (1 to 100 characters), `iban` (ISO 13616 check digits), `bic`
    /// (optional: SEPA transfers need only the IBAN, but a given BIC must be well formed).
    pub fn parse(label: &str, iban: &str, bic: &str, factor: bool) -> Result<BankDetails, Vec<DomainError>> {
        let mut errors = Vec::new();
        let label = crate::text_field("nomCoordonneeBancaire", label, 100, true)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let iban = Iban::parse(iban).map_err(|e| errors.push(e)).ok();
        let bic = match bic.trim() {
            "" => Ok(None),
            b => Bic::parse(b).map(Some).map_err(|e| errors.push(e)),
        };
        match (label, iban, bic) {
            (Some(label), Some(iban), Ok(bic)) if errors.is_empty() => Ok(BankDetails {
                label,
                iban,
                bic,
                factor,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ibans() {
        for ok in [
            "FR76 3000 6000 0112 3456 7890 189",
            "DE89370400440532013000",
            "gb82west12345698765432",
        ] {
            assert!(Iban::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(Iban::parse("DE89370400440532013000").unwrap().country(), "DE");
        assert!(matches!(
            Iban::parse("FR7630006000011234567890188"),
            Err(DomainError::Checksum { .. })
        ));
        assert!(Iban::parse("FR76").is_err());
        assert!(Iban::parse("7630006000011234567890189FR").is_err());
        assert!(Iban::parse("FR76-3000-6000-0112-3456-7890-189").is_err());
    }

    #[test]
    fn bics() {
        assert!(Bic::parse("BNPAFRPP").is_ok());
        assert!(Bic::parse("bnpafrppxxx").is_ok());
        assert!(Bic::parse("BNPAFRP").is_err());
        assert!(Bic::parse("BNP1FRPP").is_err());
    }

    #[test]
    fn details_report_every_field_at_once() {
        let ok = BankDetails::parse(" Compte courant ", "FR76 3000 6000 0112 3456 7890 189", "", true).unwrap();
        assert_eq!((ok.label.as_str(), ok.bic, ok.factor), ("Compte courant", None, true));
        let errors = BankDetails::parse("", "FR7630006000011234567890188", "BNP", false).unwrap_err();
        assert_eq!(
            errors,
            vec![
                DomainError::format("nomCoordonneeBancaire", "required"),
                DomainError::Checksum { field: "iban" },
                DomainError::format("bic", "8 or 11 characters: AAAACCLL[BBB]"),
            ]
        );
    }

    proptest! {
        #[test]
        fn single_char_change_rejected(pos in 4usize..27, delta in 1u8..=9) {
            let good = b"FR7630006000011234567890189".to_vec();
            let mut b = good;
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            prop_assert!(Iban::parse(std::str::from_utf8(&b).unwrap()).is_err());
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = Iban::parse(&s);
            let _ = Bic::parse(&s);
        }
    }
}
