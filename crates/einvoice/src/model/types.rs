//! Small value types of the strict model: dates, codes, identifiers.

use std::fmt;

/// A calendar date (EN 16931 dates carry no time or zone). Own type: the model needs only
/// parsing and printing in the two syntaxes' formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub(crate) year: u16,
    pub(crate) month: u8,
    pub(crate) day: u8,
}

impl Date {
    /// A date, if it exists in the proleptic Gregorian calendar (years 1–9999).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((1..=9999).contains(&year) && (1..=days).contains(&day)).then_some(Date { year, month, day })
    }

    pub fn year(self) -> u16 {
        self.year
    }
    pub fn month(self) -> u8 {
        self.month
    }
    pub fn day(self) -> u8 {
        self.day
    }

    /// `xs:date` as UBL writes it: `YYYY-MM-DD`, an optional zone suffix is ignored.
    pub fn parse_iso(s: &str) -> Option<Date> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let zone = &s[10..];
        if !(zone.is_empty() || zone == "Z" || is_offset(zone)) {
            return None;
        }
        Date::new(num(&s[0..4])?, num(&s[5..7])?, num(&s[8..10])?)
    }

    /// CII date format `102`: `YYYYMMDD`.
    pub fn parse_102(s: &str) -> Option<Date> {
        let s = s.trim();
        if s.len() != 8 {
            return None;
        }
        Date::new(num(&s[0..4])?, num(&s[4..6])?, num(&s[6..8])?)
    }

    /// `YYYY-MM-DD`.
    pub fn to_iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `YYYYMMDD` (CII format 102).
    pub fn to_102(self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso())
    }
}

fn is_offset(z: &str) -> bool {
    let b = z.as_bytes();
    b.len() == 6
        && (b[0] == b'+' || b[0] == b'-')
        && b[3] == b':'
        && num::<u8>(&z[1..3]).is_some()
        && num::<u8>(&z[4..6]).is_some()
}

fn num<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// A code value: a non-empty token without whitespace (UNTDID, UN/ECE, ISO 6523, … lists). Which
/// list it belongs to is checked by validation, not here: the model keeps any well-formed code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(pub(crate) String);

impl Code {
    pub fn new(s: &str) -> Option<Code> {
        let s = s.trim();
        (!s.is_empty() && !s.chars().any(char::is_whitespace)).then(|| Code(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// ISO 4217 alphabetic currency code shape: three upper-case ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CurrencyCode(pub(crate) String);

impl CurrencyCode {
    pub fn new(s: &str) -> Option<CurrencyCode> {
        let s = s.trim();
        (s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())).then(|| CurrencyCode(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// ISO 3166-1 alpha-2 country code shape: two upper-case ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode(pub(crate) String);

impl CountryCode {
    pub fn new(s: &str) -> Option<CountryCode> {
        let s = s.trim();
        (s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())).then(|| CountryCode(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// UNTDID 5305 VAT category codes used by EN 16931 (BT-95, BT-102, BT-118, BT-151).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VatCategory {
    /// `S` standard rate.
    Standard,
    /// `Z` zero rated goods.
    ZeroRated,
    /// `E` exempt from tax.
    Exempt,
    /// `AE` VAT reverse charge.
    ReverseCharge,
    /// `K` intra-community supply.
    IntraCommunity,
    /// `G` free export item, tax not charged.
    Export,
    /// `O` services outside scope of tax.
    OutsideScope,
    /// `L` Canary Islands general indirect tax (IGIC).
    Igic,
    /// `M` tax for production, services and importation in Ceuta and Melilla (IPSI).
    Ipsi,
    /// `B` transferred (VAT), Italy.
    Transferred,
}

impl VatCategory {
    pub const ALL: [VatCategory; 10] = [
        VatCategory::Standard,
        VatCategory::ZeroRated,
        VatCategory::Exempt,
        VatCategory::ReverseCharge,
        VatCategory::IntraCommunity,
        VatCategory::Export,
        VatCategory::OutsideScope,
        VatCategory::Igic,
        VatCategory::Ipsi,
        VatCategory::Transferred,
    ];

    pub fn code(self) -> &'static str {
        match self {
            VatCategory::Standard => "S",
            VatCategory::ZeroRated => "Z",
            VatCategory::Exempt => "E",
            VatCategory::ReverseCharge => "AE",
            VatCategory::IntraCommunity => "K",
            VatCategory::Export => "G",
            VatCategory::OutsideScope => "O",
            VatCategory::Igic => "L",
            VatCategory::Ipsi => "M",
            VatCategory::Transferred => "B",
        }
    }

    pub fn from_code(s: &str) -> Option<VatCategory> {
        let s = s.trim();
        VatCategory::ALL.into_iter().find(|c| c.code() == s)
    }
}

/// BT-8 Value added tax point date code. UBL codes it with UNTDID 2005, CII with UNTDID 2475.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VatPointDateCode {
    /// UBL `3` / CII `5`: invoice document issue date.
    InvoiceDate,
    /// UBL `35` / CII `29`: delivery date, actual.
    DeliveryDate,
    /// UBL `432` / CII `72`: paid to date.
    PaymentDate,
}

impl VatPointDateCode {
    pub fn ubl_code(self) -> &'static str {
        match self {
            VatPointDateCode::InvoiceDate => "3",
            VatPointDateCode::DeliveryDate => "35",
            VatPointDateCode::PaymentDate => "432",
        }
    }
    pub fn cii_code(self) -> &'static str {
        match self {
            VatPointDateCode::InvoiceDate => "5",
            VatPointDateCode::DeliveryDate => "29",
            VatPointDateCode::PaymentDate => "72",
        }
    }
    pub fn from_ubl(s: &str) -> Option<Self> {
        [Self::InvoiceDate, Self::DeliveryDate, Self::PaymentDate]
            .into_iter()
            .find(|c| c.ubl_code() == s.trim())
    }
    pub fn from_cii(s: &str) -> Option<Self> {
        [Self::InvoiceDate, Self::DeliveryDate, Self::PaymentDate]
            .into_iter()
            .find(|c| c.cii_code() == s.trim())
    }
}

/// An identifier with its optional scheme (ISO 6523 ICD, EAS, …).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identifier {
    pub value: String,
    pub scheme: Option<Code>,
}

impl Identifier {
    pub fn new(value: impl Into<String>) -> Self {
        Identifier {
            value: value.into(),
            scheme: None,
        }
    }
}

/// One reason a draft is not a complete, well-typed invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermProblem {
    /// The business term or group (`BT-1`, `BG-4` …).
    pub term: &'static str,
    /// Where in the source (the group's location when the term is missing).
    pub path: String,
    pub line: u32,
    pub kind: ProblemKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// A mandatory term is absent or blank.
    Missing,
    /// The term is present but not of its type (date, decimal, code); the raw text is kept.
    Invalid(String),
}

impl fmt::Display for TermProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ProblemKind::Missing => write!(f, "{} missing (in {}, line {})", self.term, self.path, self.line),
            ProblemKind::Invalid(raw) => {
                write!(
                    f,
                    "{} invalid value {:?} at {} (line {})",
                    self.term, raw, self.path, self.line
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_and_print() {
        assert_eq!(Date::parse_iso("2024-02-29").map(Date::to_102), Some("20240229".into()));
        assert_eq!(Date::parse_iso("2023-02-29"), None);
        assert_eq!(
            Date::parse_iso("2023-02-28Z").map(Date::to_iso),
            Some("2023-02-28".into())
        );
        assert_eq!(Date::parse_iso("2023-2-28"), None);
        assert_eq!(Date::parse_102("20151231").map(Date::to_iso), Some("2015-12-31".into()));
        assert_eq!(Date::parse_102("2015-12-31"), None);
        assert_eq!(Date::parse_102("+0151231"), None);
    }

    #[test]
    fn codes_are_checked() {
        assert!(Code::new(" 380 ").is_some());
        assert!(Code::new("3 80").is_none());
        assert!(CurrencyCode::new("eur").is_none());
        assert!(CountryCode::new("FR").is_some());
        assert_eq!(VatCategory::from_code("AE"), Some(VatCategory::ReverseCharge));
        assert_eq!(VatPointDateCode::from_cii("29").map(|c| c.ubl_code()), Some("35"));
    }
}
