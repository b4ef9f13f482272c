//! Structure identifiers (spec §1.1): SIREN/SIRET with their check digits, and the seven
//! identifier kinds a Chorus Pro structure can be registered under.

use crate::DomainError;
use crate::code::{code_enum, string_newtype};

/// SIREN of La Poste: its establishments are too many for the NIC to keep a Luhn key, so INSEE
/// validates their SIRETs with "sum of the digits is a multiple of 5" instead.
const LA_POSTE_SIREN: &str = "356000000";

/// Luhn check over ASCII digits (already verified to be digits).
fn luhn_ok(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let dd = d * 2;
                if dd > 9 { dd - 9 } else { dd }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn digits_only(field: &'static str, s: &str, len: usize) -> Result<(), DomainError> {
    if s.len() != len {
        return Err(DomainError::format(field, "wrong length"));
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::format(field, "digits only"));
    }
    Ok(())
}

/// French company number: 9 digits with a Luhn key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Siren(String);
string_newtype!(Siren);

impl Siren {
    /// Parses a SIREN; spaces are tolerated (people copy them from Kbis extracts as "123 456 789").
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let s: String = input.chars().filter(|c| *c != ' ').collect();
        digits_only("siren", &s, 9)?;
        if !luhn_ok(s.as_bytes()) {
            return Err(DomainError::Checksum { field: "siren" });
        }
        Ok(Self(s))
    }
}

/// French establishment number: SIREN (9) + NIC (5), Luhn key over the 14 digits, except La Poste.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Siret(String);
string_newtype!(Siret);

impl Siret {
    /// Parses a SIRET; spaces are tolerated. Both the SIREN key and the 14-digit key must hold,
    /// except for La Poste (digit sum multiple of 5).
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let s: String = input.chars().filter(|c| *c != ' ').collect();
        digits_only("siret", &s, 14)?;
        // Real SIRETs carry two keys: the SIREN's own (first 9 digits) and the one over all 14.
        let ok = if s.starts_with(LA_POSTE_SIREN) {
            s.bytes().map(|b| u32::from(b - b'0')).sum::<u32>() % 5 == 0
        } else {
            luhn_ok(&s.as_bytes()[..9]) && luhn_ok(s.as_bytes())
        };
        if !ok {
            return Err(DomainError::Checksum { field: "siret" });
        }
        Ok(Self(s))
    }

    /// The company part (first 9 digits).
    pub fn siren(&self) -> Siren {
        // `parse` checked the SIREN key too (and La Poste's SIREN passes Luhn).
        Siren(self.0[..9].to_owned())
    }

    /// The establishment part (last 5 digits).
    pub fn nic(&self) -> &str {
        &self.0[9..]
    }
}

code_enum! {
    /// `typeIdentifiantStructure`: how a structure is identified.
    pub enum IdentifierKind ("typeIdentifiantStructure") {
        /// French establishment (checked with its key).
        Siret => "SIRET",
        /// EU company outside France, identified by its intra-EU VAT number.
        EuOutsideFrance => "UE_HORS_FRANCE",
        /// Company outside the EU.
        OutsideEu => "HORS_UE",
        /// New Caledonia company register.
        Ridet => "RIDET",
        /// French Polynesia "numéro TAHITI".
        Tahiti => "TAHITI",
        /// Private individual.
        Individual => "PARTICULIER",
        /// Anything else (e.g. company being registered).
        Other => "AUTRE",
    }
}

/// EU member states' VAT prefixes other than France (Greece uses `EL`; Northern Ireland `XI`).
const EU_VAT_PREFIXES: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT",
    "NL", "PL", "PT", "RO", "SE", "SI", "SK", "XI",
];

/// Maximum width of `identifiantStructure` in Chorus Pro.
const IDENTIFIER_MAX: usize = 14;

/// An identifier together with its kind; syntax is checked per kind. Only SIRETs carry a check
/// key; the foreign kinds are checked for syntax only, as Chorus Pro does (no referential).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "RawIdentifier", into = "RawIdentifier")]
pub struct StructureIdentifier {
    kind: IdentifierKind,
    value: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct RawIdentifier {
    kind: IdentifierKind,
    value: String,
}

impl TryFrom<RawIdentifier> for StructureIdentifier {
    type Error = DomainError;
    fn try_from(r: RawIdentifier) -> Result<Self, DomainError> {
        Self::parse(r.kind, &r.value)
    }
}

impl From<StructureIdentifier> for RawIdentifier {
    fn from(s: StructureIdentifier) -> Self {
        RawIdentifier {
            kind: s.kind,
            value: s.value,
        }
    }
}

impl From<Siret> for StructureIdentifier {
    fn from(s: Siret) -> Self {
        Self {
            kind: IdentifierKind::Siret,
            value: s.0,
        }
    }
}

impl StructureIdentifier {
    /// Parses `value` as an identifier of `kind`. Values are trimmed and upper-cased (letters only
    /// appear in foreign identifiers, where case carries no meaning).
    pub fn parse(kind: IdentifierKind, value: &str) -> Result<Self, DomainError> {
        const F: &str = "identifiantStructure";
        let v: String = value
            .trim()
            .chars()
            .filter(|c| *c != ' ')
            .collect::<String>()
            .to_ascii_uppercase();
        if v.is_empty() {
            return Err(DomainError::format(F, "empty"));
        }
        if !v.is_ascii() {
            return Err(DomainError::format(F, "ASCII letters and digits only"));
        }
        if v.chars().count() > IDENTIFIER_MAX {
            return Err(DomainError::format(F, "longer than 14 characters"));
        }
        let alnum = v.bytes().all(|b| b.is_ascii_alphanumeric());
        match kind {
            IdentifierKind::Siret => return Ok(Siret::parse(&v)?.into()),
            IdentifierKind::EuOutsideFrance => {
                let (prefix, rest) = v.split_at(v.len().min(2));
                if !EU_VAT_PREFIXES.contains(&prefix) {
                    return Err(DomainError::format(F, "must start with an EU VAT prefix other than FR"));
                }
                if rest.len() < 2 || !alnum {
                    return Err(DomainError::format(
                        F,
                        "VAT number: 2 to 12 letters or digits after the prefix",
                    ));
                }
            }
            IdentifierKind::Ridet => {
                // RID (6 or 7 digits) + establishment rank (3 digits).
                if !(9..=10).contains(&v.len()) || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(DomainError::format(F, "RIDET: 9 or 10 digits"));
                }
            }
            IdentifierKind::Tahiti => {
                // TAHITI number (6 characters, first may be a letter) + establishment rank (3 digits).
                let b = v.as_bytes();
                if b.len() != 9 || !alnum || !b[1..].iter().all(u8::is_ascii_digit) {
                    return Err(DomainError::format(F, "TAHITI: 9 characters, digits after the first"));
                }
            }
            IdentifierKind::OutsideEu | IdentifierKind::Individual | IdentifierKind::Other => {
                if !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                    return Err(DomainError::format(F, "letters, digits and '-' only"));
                }
            }
        }
        Ok(Self { kind, value: v })
    }

    /// The identifier kind.
    pub fn kind(&self) -> IdentifierKind {
        self.kind
    }

    /// The normalised identifier.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The SIRET, when the identifier is one.
    pub fn siret(&self) -> Option<Siret> {
        (self.kind == IdentifierKind::Siret).then(|| Siret(self.value.clone()))
    }
}

impl std::fmt::Display for StructureIdentifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Appends a Luhn key to ASCII digits.
    fn push_key(s: &mut Vec<u8>) {
        s.push(b'0');
        for k in 0..10u8 {
            *s.last_mut().unwrap() = b'0' + k;
            if luhn_ok(s) {
                return;
            }
        }
        unreachable!("one of ten keys always fits");
    }

    /// Builds a SIRET from 8 SIREN digits then 4 NIC digits (12 digits), adding both keys.
    fn with_key(body: &[u8]) -> String {
        let mut s: Vec<u8> = body[..8].iter().map(|d| b'0' + d).collect();
        push_key(&mut s);
        s.extend(body[8..12].iter().map(|d| b'0' + d));
        push_key(&mut s);
        String::from_utf8(s).unwrap()
    }

    #[test]
    fn known_sirets() {
        // INSEE's own establishment and a few public bodies.
        for s in ["12002701600357", "73282932000074", "217 500 016 00019"] {
            assert!(Siret::parse(s).is_ok(), "{s}");
        }
        assert_eq!(Siret::parse("73282932000074").unwrap().siren().as_str(), "732829320");
        assert_eq!(Siret::parse("73282932000074").unwrap().nic(), "00074");
        assert!(Siret::parse("73282932000075").is_err());
        assert!(Siren::parse("732829320").is_ok());
        assert!(Siren::parse("732829321").is_err());
    }

    #[test]
    fn la_poste_exception() {
        let digit_sum = |s: &str| s.bytes().map(|b| u32::from(b - b'0')).sum::<u32>();
        let s = "35600000049837"; // digit sum 45
        assert_eq!(digit_sum(s) % 5, 0);
        assert!(
            !luhn_ok(s.as_bytes()),
            "the sample must fail Luhn to prove the exception"
        );
        assert!(Siret::parse(s).is_ok());
        assert_eq!(Siret::parse(s).unwrap().siren().as_str(), LA_POSTE_SIREN);
        // Luhn-valid but digit sum not a multiple of 5: refused for La Poste.
        let t = "35600000000014"; // digit sum 19
        assert!(luhn_ok(t.as_bytes()));
        assert_ne!(digit_sum(t) % 5, 0);
        assert!(Siret::parse(t).is_err());
        assert!(Siren::parse(LA_POSTE_SIREN).is_ok());
    }

    #[test]
    fn refuses_shape_errors() {
        assert!(matches!(Siret::parse("1234567890123"), Err(DomainError::Format { .. })));
        assert!(matches!(
            Siret::parse("7328293200007A"),
            Err(DomainError::Format { .. })
        ));
        assert!(Siret::parse("").is_err());
        assert!(Siret::parse("７３２８２９３２００００７４").is_err()); // full-width digits
    }

    #[test]
    fn identifier_kinds() {
        use IdentifierKind::*;
        let ok = |k, v| StructureIdentifier::parse(k, v).is_ok();
        assert!(ok(Siret, "73282932000074"));
        assert!(!ok(Siret, "73282932000075"));
        assert!(ok(EuOutsideFrance, "DE123456789"));
        assert!(ok(EuOutsideFrance, "nl123456789b01"));
        assert!(!ok(EuOutsideFrance, "FR12345678901"));
        assert!(!ok(EuOutsideFrance, "US123456789"));
        assert!(!ok(EuOutsideFrance, "DE1"));
        assert!(ok(Ridet, "1234567001"));
        assert!(!ok(Ridet, "12345A7001"));
        assert!(ok(Tahiti, "A12345001"));
        assert!(!ok(Tahiti, "AB2345001"));
        assert!(ok(OutsideEu, "CHE-123456789"));
        assert!(!ok(OutsideEu, "CHE-1234567890X"));
        assert!(ok(Individual, "P12345"));
        assert!(!ok(Other, ""));
        assert!(!ok(Other, "a/b"));
        let id = StructureIdentifier::parse(EuOutsideFrance, " de 123456789 ").unwrap();
        assert_eq!(id.value(), "DE123456789");
        assert_eq!(id.siret(), None);
    }

    #[test]
    fn kind_codes_round_trip() {
        assert_eq!(IdentifierKind::ALL.len(), 7);
        for k in IdentifierKind::ALL {
            assert_eq!(k.as_str().parse::<IdentifierKind>().unwrap(), *k);
        }
        assert!("siret".parse::<IdentifierKind>().is_err());
    }

    #[test]
    fn serde_validates() {
        let bad = r#"{"kind":"SIRET","value":"73282932000075"}"#;
        assert!(serde_json::from_str::<StructureIdentifier>(bad).is_err());
        let good = r#"{"kind":"SIRET","value":"73282932000074"}"#;
        let id: StructureIdentifier = serde_json::from_str(good).unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), good);
        assert!(serde_json::from_str::<Siret>(r#""73282932000075""#).is_err());
    }

    fn body13() -> impl Strategy<Value = Vec<u8>> {
        // 12 free digits (two keys are added); first digit != 3 keeps them outside La Poste's SIREN.
        (0u8..=9, proptest::collection::vec(0u8..=9, 11))
            .prop_filter("outside La Poste", |(first, _)| *first != 3)
            .prop_map(|(first, rest)| std::iter::once(first).chain(rest).collect())
    }

    proptest! {
        #[test]
        fn generated_sirets_accepted(body in body13()) {
            let s = with_key(&body);
            let siret = Siret::parse(&s).unwrap();
            prop_assert_eq!(siret.as_str(), s.as_str());
            prop_assert!(Siren::parse(siret.siren().as_str()).is_ok());
        }

        #[test]
        fn single_digit_change_rejected(body in body13(), pos in 0usize..14, delta in 1u8..=9) {
            let s = with_key(&body);
            let mut b = s.into_bytes();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(b).unwrap();
            prop_assume!(!changed.starts_with(LA_POSTE_SIREN));
            prop_assert!(Siret::parse(&changed).is_err());
        }

        #[test]
        fn adjacent_swap_rejected(body in body13(), pos in 1usize..13) {
            // Luhn catches every transposition of adjacent digits except 09 <-> 90.
            let s = with_key(&body);
            let mut b = s.into_bytes();
            prop_assume!(b[pos] != b[pos + 1] && (b[pos], b[pos + 1]) != (b'0', b'9') && (b[pos], b[pos + 1]) != (b'9', b'0'));
            b.swap(pos, pos + 1);
            let changed = String::from_utf8(b).unwrap();
            prop_assume!(!changed.starts_with(LA_POSTE_SIREN));
            prop_assert!(Siret::parse(&changed).is_err());
        }

        #[test]
        fn letters_rejected(body in body13(), pos in 0usize..14, letter in proptest::char::range('A', 'z')) {
            let s = with_key(&body);
            let mut chars: Vec<char> = s.chars().collect();
            chars[pos] = letter;
            let changed: String = chars.into_iter().collect();
            prop_assume!(!changed.chars().all(|c| c.is_ascii_digit()));
            prop_assert!(Siret::parse(&changed).is_err());
        }

        #[test]
        fn wrong_length_rejected(digits in proptest::collection::vec(0u8..=9, 0..30)) {
            prop_assume!(digits.len() != 14);
            let s: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            prop_assert!(Siret::parse(&s).is_err());
        }

        #[test]
        fn la_poste_accepts_only_multiples_of_five(nic in proptest::collection::vec(0u8..=9, 5)) {
            let s: String = LA_POSTE_SIREN.chars().chain(nic.iter().map(|d| char::from(b'0' + d))).collect();
            let sum: u32 = s.bytes().map(|b| u32::from(b - b'0')).sum();
            prop_assert_eq!(Siret::parse(&s).is_ok(), sum.is_multiple_of(5));
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}", k in 0usize..7) {
            let _ = Siret::parse(&s);
            let _ = Siren::parse(&s);
            let _ = StructureIdentifier::parse(IdentifierKind::ALL[k], &s);
        }
    }
}
