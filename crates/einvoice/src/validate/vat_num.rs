//! XPath 2.0 number semantics the official EN 16931 Schematron relies on, so that the VAT and
//! totals rules reach the same verdict as the CEN artefacts (parity), not merely a "sensible" one.
//!
//! - `xs:decimal(x)` of a malformed or missing value yields no number, and any comparison with no
//!   number is false (the rule then fires).
//! - `fn:round` rounds half toward positive infinity (`round(-2.5) = -2`).
//! - Untyped element values used directly in arithmetic or `sum()` become `xs:double`, so some rules
//!   compute in binary floating point; those use the `f64` helpers.

use rust_decimal::Decimal;
use std::str::FromStr;

/// `xs:decimal` lexical space after whitespace collapse: optional sign, digits, optional fraction.
pub(crate) fn xs_decimal(raw: &str) -> Option<Decimal> {
    let s = raw.trim_matches(|c| c == ' ' || c == '\t' || c == '\n' || c == '\r');
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let mut digits = 0usize;
    let mut dots = 0usize;
    for c in body.chars() {
        match c {
            '0'..='9' => digits += 1,
            '.' => dots += 1,
            _ => return None,
        }
    }
    if digits == 0 || dots > 1 {
        return None;
    }
    if digits <= 18 {
        return Some(small_decimal(s));
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    Decimal::from_str(s)
        .ok()
        .or_else(|| Decimal::from_str_exact(s).ok())
        .or_else(|| {
            // More than 28 significant digits: keep what rust_decimal can hold.
            let cut: String = s.chars().take(29).collect();
            Decimal::from_str(cut.trim_end_matches('.')).ok()
        })
}

/// A valid `xs:decimal` lexical form (sign, digits, at most one point) of at most 18 digits, read
/// directly into mantissa and scale: the same value and scale `Decimal::from_str` gives, without its
/// general parser (amounts and rates are read many times per document).
fn small_decimal(s: &str) -> Decimal {
    let (neg, body) = match s.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        b => (false, b),
    };
    let mut m: i64 = 0;
    let mut scale: Option<u32> = None;
    for &c in body {
        if c == b'.' {
            scale = Some(0);
        } else {
            m = m * 10 + i64::from(c - b'0');
            if let Some(sc) = scale.as_mut() {
                *sc += 1;
            }
        }
    }
    Decimal::new(if neg { -m } else { m }, scale.unwrap_or(0))
}

/// `xs:double` cast of an untyped value (decimal or scientific notation, `INF`, `-INF`, `NaN`).
pub(crate) fn xs_double(raw: &str) -> Option<f64> {
    let s = raw.trim_matches(|c| c == ' ' || c == '\t' || c == '\n' || c == '\r');
    match s {
        "INF" | "+INF" => return Some(f64::INFINITY),
        "-INF" => return Some(f64::NEG_INFINITY),
        "NaN" => return Some(f64::NAN),
        _ => {}
    }
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'))
        && s.chars().any(|c| c.is_ascii_digit());
    if !ok {
        return None;
    }
    s.parse::<f64>().ok()
}

/// `fn:round` on `xs:decimal`: nearest integer, halves toward positive infinity.
pub(crate) fn round_dec(d: Decimal) -> Decimal {
    d.checked_add(Decimal::new(5, 1)).unwrap_or(d).floor()
}

/// `round(x * 10 * 10) div 100` on decimals.
pub(crate) fn round2_dec(d: Decimal) -> Decimal {
    let hundred = Decimal::ONE_HUNDRED;
    match d.checked_mul(hundred) {
        Some(x) => round_dec(x) / hundred,
        None => d,
    }
}

/// `fn:round` on `xs:double`.
pub(crate) fn round_f64(x: f64) -> f64 {
    if x.is_nan() || x.is_infinite() {
        return x;
    }
    (x + 0.5).floor()
}

/// `round(x * 10 * 10) div 100` on doubles.
pub(crate) fn round2_f64(x: f64) -> f64 {
    round_f64(x * 100.0) / 100.0
}

/// `string-length(substring-after(s, '.')) <= 2` on the raw string value (whitespace counts).
pub(crate) fn at_most_two_decimals(raw: &str) -> bool {
    match raw.split_once('.') {
        Some((_, after)) => after.chars().count() <= 2,
        None => true,
    }
}

/// XPath `normalize-space`.
#[cfg(test)]
pub(crate) fn normalize_space(s: &str) -> String {
    s.split([' ', '\t', '\n', '\r'])
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The tokens `normalize-space` keeps (XML whitespace separates them).
pub(crate) fn xml_tokens(s: &str) -> impl Iterator<Item = &str> {
    s.split([' ', '\t', '\n', '\r']).filter(|p| !p.is_empty())
}

/// True when `tokens` joined with single spaces is `t`, without building the joined string.
pub(crate) fn tokens_eq<'s>(tokens: impl Iterator<Item = &'s str>, t: &str) -> bool {
    let mut rest = t;
    for (i, tok) in tokens.enumerate() {
        if i > 0 {
            let Some(r) = rest.strip_prefix(' ') else { return false };
            rest = r;
        }
        let Some(r) = rest.strip_prefix(tok) else { return false };
        rest = r;
    }
    rest.is_empty()
}

/// `normalize-space(s) = t`.
pub(crate) fn normalized_eq(s: &str, t: &str) -> bool {
    tokens_eq(xml_tokens(s), t)
}

/// `normalize-space(upper-case(s)) = 'VAT'`. ASCII text is compared in place; anything else goes
/// through the full Unicode upper-casing.
pub(crate) fn normalized_upper_is_vat(s: &str) -> bool {
    if s.is_ascii() {
        let mut t = xml_tokens(s);
        t.next().is_some_and(|x| x.eq_ignore_ascii_case("VAT")) && t.next().is_none()
    } else {
        normalized_eq(&s.to_uppercase(), "VAT")
    }
}

/// `upper-case(s) = 'VAT'` (no whitespace normalisation).
pub(crate) fn upper_is_vat(s: &str) -> bool {
    if s.is_ascii() {
        s.eq_ignore_ascii_case("VAT")
    } else {
        s.to_uppercase() == "VAT"
    }
}

/// Decimal → double the way an `xs:decimal` is promoted in a mixed comparison.
pub(crate) fn dec_to_f64(d: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or(f64::NAN)
}

/// The exact value of a double as a decimal (what `xs:decimal(double)` yields), to 28 digits.
pub(crate) fn f64_exact(x: f64) -> Option<Decimal> {
    Decimal::from_f64_retain(x)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn decimal_lexical_space() {
        assert_eq!(xs_decimal(" 12.50\n"), Some(d("12.50")));
        assert_eq!(xs_decimal("+3"), Some(d("3")));
        assert_eq!(xs_decimal("-.5"), Some(d("-0.5")));
        assert_eq!(xs_decimal("5."), Some(d("5")));
        assert_eq!(xs_decimal("1e3"), None);
        assert_eq!(xs_decimal(""), None);
        assert_eq!(xs_decimal("1,5"), None);
        assert_eq!(xs_decimal("."), None);
        assert_eq!(xs_decimal("1_000"), None);
    }

    #[test]
    fn small_decimals_read_as_the_general_parser_does() {
        let general = |s: &str| {
            let s = s.strip_prefix('+').unwrap_or(s);
            Decimal::from_str(s).ok().or_else(|| Decimal::from_str_exact(s).ok())
        };
        for s in [
            "0",
            "-0",
            "+0",
            "-0.00",
            "0.10",
            "12.50",
            "-12.50",
            "+3",
            "5.",
            "-5.",
            ".5",
            "-.5",
            "+.25",
            "007.500",
            "123456789012345678",
            "-123456789.012345678",
            "0.000000000000000001",
            "20",
            "5.5",
            "2.1",
            "100.00",
        ] {
            let fast = small_decimal(s);
            let slow = general(s).unwrap();
            assert_eq!(fast.serialize(), slow.serialize(), "{s}");
            assert_eq!(xs_decimal(s).map(|d| d.serialize()), Some(slow.serialize()), "{s}");
        }
    }

    #[test]
    fn rounding_is_half_up_toward_positive_infinity() {
        assert_eq!(round_dec(d("2.5")), d("3"));
        assert_eq!(round_dec(d("-2.5")), d("-2"));
        assert_eq!(round_dec(d("-2.51")), d("-3"));
        assert_eq!(round2_dec(d("1.005")), d("1.01"));
        assert_eq!(round2_dec(d("-1.005")), d("-1"));
        assert_eq!(round_f64(-2.5), -2.0);
        assert_eq!(round2_f64(0.1 + 0.2), 0.3);
    }

    #[test]
    fn double_to_decimal_is_exact() {
        // 625743.54 + 1 in binary is slightly above 625744.54: the official BR-S-08 relies on it.
        let hi = f64_exact(625743.54 + 1.0).unwrap();
        assert!(hi > d("625744.54"));
        assert_eq!(f64_exact(0.5), Some(d("0.5")));
    }

    #[test]
    fn decimals_after_point_counts_raw_characters() {
        assert!(at_most_two_decimals("10.25"));
        assert!(at_most_two_decimals("10"));
        assert!(!at_most_two_decimals("10.255"));
        assert!(!at_most_two_decimals("10.25 "));
    }

    #[test]
    fn normalize_space_collapses() {
        assert_eq!(normalize_space("  a \n b "), "a b");
        assert_eq!(normalize_space(""), "");
    }

    #[test]
    fn normalized_comparisons_agree_with_normalize_space() {
        let samples = [
            "",
            " ",
            "S",
            " S ",
            "S S",
            "\tS\n",
            "s",
            "SS",
            "S\u{c}",
            "vat",
            " VaT\r\n",
            "V AT",
            "VAT ",
            "ß",
            "\u{fb06}",
            "vat\u{a0}",
            "AE",
            "A E",
            "  A  E  ",
        ];
        let targets = ["", "S", "SS", "S S", "VAT", "AE", "A E", " S", "S "];
        for s in samples {
            for t in targets {
                assert_eq!(normalized_eq(s, t), normalize_space(s) == t, "{s:?} {t:?}");
            }
            assert_eq!(
                normalized_upper_is_vat(s),
                normalize_space(&s.to_uppercase()) == "VAT",
                "{s:?}"
            );
            assert_eq!(upper_is_vat(s), s.to_uppercase() == "VAT", "{s:?}");
        }
    }
}
