//! The document facts the VAT, totals and decimals rules look at, gathered once from the
//! [`Draft`](super::Draft).
//!
//! The official rules are XPath over the XML; several of them look at things that are not business
//! terms (the `TaxScheme` of a category, the raw `ChargeIndicator`, which `TaxTotal` a subtotal belongs
//! to). Collecting those facts in one place keeps each rule a few lines of Rust and lets the rules be
//! tested on hand-made facts.

use super::num::{normalized_upper_is_vat, upper_is_vat, xml_tokens, xs_decimal, xs_double};
use crate::model::draft::Val;
use crate::validate::{Loc, Syntax};
use rust_decimal::Decimal;
use std::cell::OnceCell;

/// An optional term.
pub(crate) type V<'a> = Option<&'a Val>;

/// Location of a term, or of nothing when absent.
pub(crate) fn loc_of<'a>(v: V<'a>, fallback: Loc<'a>) -> Loc<'a> {
    v.map_or(fallback, |v| Loc::at(&v.path, v.line))
}

/// Number value of an optional term (`xs:decimal`).
pub(crate) fn dec(v: V<'_>) -> Option<Decimal> {
    v.and_then(|v| xs_decimal(&v.raw))
}

/// Number value of an optional untyped term used in double arithmetic.
pub(crate) fn dbl(v: V<'_>) -> Option<f64> {
    v.and_then(|v| xs_double(&v.raw))
}

/// A VAT category code the rules name (UNTDID 5305).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    S,
    Z,
    E,
    Ae,
    K,
    G,
    O,
    L,
    M,
    B,
}

impl Code {
    /// The code written exactly as `s`, if the rules name it.
    fn of(s: &str) -> Option<Code> {
        Some(match s {
            "S" => Code::S,
            "Z" => Code::Z,
            "E" => Code::E,
            "AE" => Code::Ae,
            "K" => Code::K,
            "G" => Code::G,
            "O" => Code::O,
            "L" => Code::L,
            "M" => Code::M,
            "B" => Code::B,
            _ => return None,
        })
    }

    /// The code `normalize-space(s)` is, if the rules name it (a code has no inner space).
    fn of_normalized(s: &str) -> Option<Code> {
        let mut t = xml_tokens(s);
        let first = t.next()?;
        if t.next().is_some() {
            return None;
        }
        Code::of(first)
    }
}

/// Where a category is reported. Resolved only when a rule fires: walking the paths of every category
/// of every line costs more than the rules themselves.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CatAt<'a> {
    /// This location.
    Here(Loc<'a>),
    /// The parent element of this value, at the value's line.
    Parent(&'a Val),
    /// The grandparent element of this value, at the value's line.
    GrandParent(&'a Val),
}

/// The parent path of `path` (`…/cac:TaxCategory[1]/cbc:ID[1]` → `…/cac:TaxCategory[1]`).
fn parent_path(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(a, _)| a)
}

impl<'a> CatAt<'a> {
    fn loc(self) -> Loc<'a> {
        match self {
            CatAt::Here(l) => l,
            CatAt::Parent(v) => Loc::new(parent_path(&v.path), v.line),
            CatAt::GrandParent(v) => Loc::new(parent_path(parent_path(&v.path)), v.line),
        }
    }
}

/// A VAT category occurrence: UBL `cac:TaxCategory` / `cac:ClassifiedTaxCategory`, CII
/// `ram:ApplicableTradeTax` / `ram:CategoryTradeTax`. What the rules compare (the code, the scheme,
/// the rate as a number) is worked out once.
#[derive(Debug, Clone)]
pub(crate) struct Cat<'a> {
    /// The category element itself (UBL) or the trade tax element (CII).
    at: CatAt<'a>,
    /// BT-95/102/118/151: UBL `cbc:ID`, CII `ram:CategoryCode`.
    pub code: V<'a>,
    /// UBL `cac:TaxScheme/cbc:ID`, CII `ram:TypeCode`.
    pub scheme: V<'a>,
    /// BT-96/103/119/152 rate.
    pub rate: V<'a>,
    /// BT-120 exemption reason text.
    pub reason: V<'a>,
    /// BT-121 exemption reason code.
    pub reason_code: V<'a>,
    /// The code after `normalize-space`, when the rules name it.
    code_norm: Option<Code>,
    /// The code as written, when the rules name it.
    code_raw: Option<Code>,
    ubl_vat: bool,
    cii_vat: bool,
    rate_dec: OnceCell<Option<Decimal>>,
    rate_dbl: OnceCell<Option<f64>>,
}

impl<'a> Cat<'a> {
    /// A category located at `at`.
    pub fn new(at: CatAt<'a>, code: V<'a>, scheme: V<'a>, rate: V<'a>, reason: V<'a>, reason_code: V<'a>) -> Self {
        Cat {
            at,
            code,
            scheme,
            rate,
            reason,
            reason_code,
            code_norm: code.and_then(|v| Code::of_normalized(&v.raw)),
            code_raw: code.and_then(|v| Code::of(&v.raw)),
            ubl_vat: scheme.is_some_and(|v| normalized_upper_is_vat(&v.raw)),
            cii_vat: scheme.is_some_and(|v| upper_is_vat(&v.raw)),
            rate_dec: OnceCell::new(),
            rate_dbl: OnceCell::new(),
        }
    }

    /// The category element (UBL) or the trade tax element (CII).
    pub fn at(&self) -> Loc<'a> {
        self.at.loc()
    }

    /// `normalize-space(code) = c` (UBL style).
    pub fn code_norm_is(&self, c: Code) -> bool {
        self.code_norm == Some(c)
    }

    /// `code = c` without normalisation (CII style, and a few UBL rules).
    pub fn code_raw_is(&self, c: Code) -> bool {
        self.code_raw == Some(c)
    }

    /// UBL: `cac:TaxScheme/normalize-space(upper-case(cbc:ID)) = 'VAT'`.
    pub fn ubl_vat(&self) -> bool {
        self.ubl_vat
    }

    /// CII: `upper-case(ram:TypeCode) = 'VAT'` (no whitespace normalisation).
    pub fn cii_vat(&self) -> bool {
        self.cii_vat
    }

    /// Rate as `xs:decimal`.
    pub fn rate_dec(&self) -> Option<Decimal> {
        *self.rate_dec.get_or_init(|| dec(self.rate))
    }

    /// Rate as untyped value compared with a number (`xs:double`).
    pub fn rate_dbl(&self) -> Option<f64> {
        *self.rate_dbl.get_or_init(|| dbl(self.rate))
    }
}

/// The boolean value of a charge indicator (`xs:boolean` cast: `true`/`1`, `false`/`0`).
pub(crate) fn indicator(v: V<'_>) -> Option<bool> {
    match v.map(|v| v.raw.trim()) {
        Some("true") | Some("1") => Some(true),
        Some("false") | Some("0") => Some(false),
        _ => None,
    }
}

/// A document- or line-level allowance (BG-20/BG-27) or charge (BG-21/BG-28).
#[derive(Debug, Clone)]
pub(crate) struct Ac<'a> {
    /// The allowance/charge element.
    pub at: Loc<'a>,
    /// UBL `cbc:ChargeIndicator`, CII `ram:ChargeIndicator/udt:Indicator`.
    pub indicator: V<'a>,
    /// BT-92/99/136/141 amount (CII: the first `ram:ActualAmount`).
    pub amount: V<'a>,
    /// BT-93/100/137/142 base amount.
    pub base: V<'a>,
    /// BT-97/104/139/144 reason.
    pub reason: V<'a>,
    /// BT-98/105/140/145 reason code.
    pub reason_code: V<'a>,
    /// BT-95/102 VAT category (document level only).
    pub cat: Option<Cat<'a>>,
}

impl Ac<'_> {
    /// `ChargeIndicator = true()` / `false()` with XPath boolean casting.
    pub fn is_charge(&self) -> Option<bool> {
        indicator(self.indicator)
    }
}

/// A VAT breakdown (BG-23): UBL `cac:TaxSubtotal`, CII header `ram:ApplicableTradeTax`.
#[derive(Debug, Clone)]
pub(crate) struct Breakdown<'a> {
    /// The subtotal / trade tax element.
    pub at: Loc<'a>,
    /// BT-116.
    pub taxable: V<'a>,
    /// BT-117.
    pub tax: V<'a>,
    /// BT-118/119/120/121 (UBL: `cac:TaxCategory`, CII: the same element as `at`).
    pub cat: Cat<'a>,
    /// UBL: index of the `cac:TaxTotal` holding this subtotal.
    pub total: usize,
}

/// A UBL `cac:TaxTotal` of the document (CII: one per `ram:TaxTotalAmount`).
#[derive(Debug, Clone)]
pub(crate) struct TaxTotal<'a> {
    /// The element.
    pub at: Loc<'a>,
    /// BT-110/111 `cbc:TaxAmount`.
    pub amount: V<'a>,
    /// Its `@currencyID`.
    pub currency: V<'a>,
}

/// An invoicing period (BG-14 / BG-26).
#[derive(Debug, Clone, Default)]
pub(crate) struct Period<'a> {
    /// The element.
    pub at: Option<Loc<'a>>,
    /// BT-73 / BT-134.
    pub start: V<'a>,
    /// BT-74 / BT-135.
    pub end: V<'a>,
    /// BT-8 (UBL only, inside the period).
    pub desc: V<'a>,
}

/// An invoice line (BG-25).
#[derive(Debug, Clone)]
pub(crate) struct Line<'a> {
    /// The line element.
    pub at: Loc<'a>,
    /// BT-131 line net amount.
    pub net: V<'a>,
    /// BT-131 as `xs:decimal`, read on first use (see [`Line::net_dec`]).
    pub net_parsed: OnceCell<Option<Decimal>>,
    /// BT-151/152 line VAT category.
    pub cat: Option<Cat<'a>>,
    /// BG-27/BG-28 line allowances and charges.
    pub acs: Vec<Ac<'a>>,
    /// BG-26 line period.
    pub period: Option<Period<'a>>,
}

impl Line<'_> {
    /// BT-131 as `xs:decimal`.
    pub fn net_dec(&self) -> Option<Decimal> {
        *self.net_parsed.get_or_init(|| dec(self.net))
    }
}

/// Tax identifiers of a party.
#[derive(Debug, Clone, Default)]
pub(crate) struct PartyTax<'a> {
    /// The party element (UBL `cac:AccountingSupplierParty`, CII `ram:SellerTradeParty` …).
    pub at: Option<Loc<'a>>,
    /// VAT identifiers (UBL `PartyTaxScheme[TaxScheme/ID='VAT']/CompanyID`, CII `ID[@schemeID='VA']`).
    pub vat: Vec<&'a Val>,
    /// Other tax registrations (UBL other `PartyTaxScheme/CompanyID`, CII `ID[@schemeID='FC']`).
    pub other_tax: Vec<&'a Val>,
    /// Legal registration identifier (BT-30 / BT-47).
    pub legal: Vec<&'a Val>,
    /// Party identifiers (BT-29 / BT-46) with their scheme (UBL) — used by BR-CO-26.
    pub ids: Vec<(&'a Val, V<'a>)>,
    /// CII `ram:GlobalID` (seller identifier with a scheme).
    pub global_ids: Vec<&'a Val>,
}

/// Document totals (BG-22): UBL `cac:LegalMonetaryTotal`, CII
/// `ram:SpecifiedTradeSettlementHeaderMonetarySummation`.
#[derive(Debug, Clone)]
pub(crate) struct Totals<'a> {
    /// The element.
    pub at: Loc<'a>,
    /// BT-106.
    pub lines: V<'a>,
    /// BT-107.
    pub allowances: V<'a>,
    /// BT-108.
    pub charges: V<'a>,
    /// BT-109.
    pub tax_exclusive: V<'a>,
    /// BT-112.
    pub tax_inclusive: V<'a>,
    /// BT-113.
    pub prepaid: V<'a>,
    /// BT-114.
    pub rounding: V<'a>,
    /// BT-115.
    pub payable: V<'a>,
}

/// Everything the VAT, totals and decimals rules need.
#[derive(Debug, Clone)]
pub(crate) struct Facts<'a> {
    /// Syntax of the document.
    pub syntax: Syntax,
    /// The root element.
    pub root: Loc<'a>,
    /// UBL `CreditNote` (lines are `cac:CreditNoteLine`).
    pub credit_note: bool,
    /// BT-5 (every occurrence).
    pub currency: Vec<&'a Val>,
    /// BT-6.
    pub tax_currency: V<'a>,
    /// BT-7 value added tax point date.
    pub tax_point_date: V<'a>,
    /// BT-8 (UBL `cac:InvoicePeriod/cbc:DescriptionCode`, CII `ram:DueDateTypeCode`).
    pub tax_point_code: V<'a>,
    /// BG-14 invoicing period.
    pub period: Option<Period<'a>>,
    /// BT-72 actual delivery date.
    pub delivery_date: V<'a>,
    /// BT-80 deliver-to country code.
    pub delivery_country: V<'a>,
    /// BG-23 VAT breakdowns.
    pub breakdowns: Vec<Breakdown<'a>>,
    /// UBL tax totals (BT-110/111) / CII `ram:TaxTotalAmount`s.
    pub tax_totals: Vec<TaxTotal<'a>>,
    /// BG-20/BG-21 document allowances and charges.
    pub acs: Vec<Ac<'a>>,
    /// BG-25 lines.
    pub lines: Vec<Line<'a>>,
    /// BG-22 totals.
    pub totals: Option<Totals<'a>>,
    /// BG-4 seller.
    pub seller: PartyTax<'a>,
    /// BG-7 buyer.
    pub buyer: PartyTax<'a>,
    /// BG-11 seller tax representative.
    pub tax_rep: PartyTax<'a>,
    /// Every country code of the document (UBL `cbc:IdentificationCode`, CII `ram:CountryID`).
    pub countries: Vec<&'a Val>,
}

impl<'a> Facts<'a> {
    /// Categories of document-level allowances (`false`) or charges (`true`).
    pub fn ac_cats(&self, charge: bool) -> impl Iterator<Item = &Cat<'a>> {
        self.acs
            .iter()
            .filter(move |a| a.is_charge() == Some(charge))
            .filter_map(|a| a.cat.as_ref())
    }

    /// Categories of all document-level allowances and charges.
    pub fn all_ac_cats(&self) -> impl Iterator<Item = &Cat<'a>> {
        self.acs.iter().filter_map(|a| a.cat.as_ref())
    }

    /// Line categories.
    pub fn line_cats(&self) -> impl Iterator<Item = &Cat<'a>> {
        self.lines.iter().filter_map(|l| l.cat.as_ref())
    }

    /// Breakdown categories.
    pub fn head_cats(&self) -> impl Iterator<Item = &Cat<'a>> {
        self.breakdowns.iter().map(|b| &b.cat)
    }
}
