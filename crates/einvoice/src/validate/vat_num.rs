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
pub(crate) fn normalize_space(s: &str) -> String {
    s.split([' ', '\t', '\n', '\r'])
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
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
}
