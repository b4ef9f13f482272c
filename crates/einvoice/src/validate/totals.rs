//! Totals, conditions and decimals rules (BR-CO-*, BR-DEC-*).
//!
//! The arithmetic follows the official artefacts of each syntax: UBL computes in `xs:decimal`, while
//! several CII rules sum untyped values and so compute in `xs:double`; the rounding is XPath `round`
//! (halves toward positive infinity). Missing amounts make the equality false, as in XPath.

use super::vat::facts::{Ac, Breakdown, Code, Facts, Period, dbl, dec, loc_of};
use super::vat::num::{
    at_most_two_decimals, dec_to_f64, normalized_upper_is_vat, round_dec, round_f64, round2_dec, round2_f64,
};
use super::{Draft, Findings, Loc, Syntax};
use rust_decimal::Decimal;

/// Runs the rules of this module over `draft`.
pub fn check(draft: &Draft, out: &mut Findings) {
    let f = super::vat::facts_of(draft);
    check_facts(&f, out);
}

/// Runs the totals and decimals rules over gathered facts.
pub(crate) fn check_facts(f: &Facts<'_>, out: &mut Findings) {
    match f.syntax {
        Syntax::Ubl => ubl(f, out),
        Syntax::Cii => cii(f, out),
    }
}

/// Country prefixes accepted by BR-CO-09 in UBL (searched with `contains`, as the artefact does).
const UBL_VAT_PREFIXES: &str = " 1A AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH EL ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XI YE YT ZA ZM ZW ";

/// Country prefixes accepted by BR-CO-09 in CII (whole two-letter tokens).
const CII_VAT_PREFIXES: &str = " 1A AD AE AF AG AI AL AM AN AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BL BJ BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH EL ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XI YE YT ZA ZM ZW ";

fn first_two(s: &str) -> String {
    s.chars().take(2).collect()
}

/// BR-DEC-*: at most two decimals in `v` (absent values pass).
fn dec_check(out: &mut Findings, id: &'static str, v: Option<&crate::model::draft::Val>, at: Loc<'_>, bt: &str) {
    if let Some(v) = v
        && !at_most_two_decimals(&v.raw)
    {
        out.fire(
            id,
            at,
            format!("Le montant {bt} ({}) doit avoir au plus deux décimales.", v.raw.trim()),
            format!("The amount {bt} ({}) must have at most two decimals.", v.raw.trim()),
        );
    }
}

fn reason_check(out: &mut Findings, id: &'static str, ac: &Ac<'_>, at: Loc<'_>, what: (&str, &str)) {
    if ac.reason.is_none() && ac.reason_code.is_none() {
        out.fire(
            id,
            at,
            format!("{} : indiquez un motif (texte ou code).", what.0),
            format!("{}: give a reason (text or code).", what.1),
        );
    }
}

const DOC_ALLOWANCE: (&str, &str) = (
    "Remise au niveau du document (BG-20, BT-97/BT-98)",
    "Document level allowance (BG-20, BT-97/BT-98)",
);
const DOC_CHARGE: (&str, &str) = (
    "Charge au niveau du document (BG-21, BT-104/BT-105)",
    "Document level charge (BG-21, BT-104/BT-105)",
);
const LINE_ALLOWANCE: (&str, &str) = (
    "Remise sur ligne (BG-27, BT-139/BT-140)",
    "Invoice line allowance (BG-27, BT-139/BT-140)",
);
const LINE_CHARGE: (&str, &str) = (
    "Charge sur ligne (BG-28, BT-144/BT-145)",
    "Invoice line charge (BG-28, BT-144/BT-145)",
);

/// Document and line allowances/charges: BR-CO-21..24 and their BR-DEC rules. UBL selects them by
/// the boolean value of the indicator, CII by its exact text (`'true'` / `'false'`).
fn allowances(f: &Facts<'_>, out: &mut Findings) {
    let kind = |a: &Ac<'_>| match f.syntax {
        Syntax::Ubl => a.is_charge(),
        Syntax::Cii => match a.indicator.map(|v| v.raw.as_str()) {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        },
    };
    fn at_of<'a>(syntax: Syntax, a: &Ac<'a>) -> Loc<'a> {
        match syntax {
            Syntax::Ubl => a.at,
            Syntax::Cii => loc_of(a.indicator, a.at),
        }
    }
    for a in &f.acs {
        let at = at_of(f.syntax, a);
        match kind(a) {
            Some(false) => {
                reason_check(out, "BR-CO-21", a, at, DOC_ALLOWANCE);
                dec_check(out, "BR-DEC-01", a.amount, at, "BT-92");
                dec_check(out, "BR-DEC-02", a.base, at, "BT-93");
            }
            Some(true) => {
                reason_check(out, "BR-CO-22", a, at, DOC_CHARGE);
                dec_check(out, "BR-DEC-05", a.amount, at, "BT-99");
                dec_check(out, "BR-DEC-06", a.base, at, "BT-100");
            }
            None => {}
        }
    }
    for a in f.lines.iter().flat_map(|l| l.acs.iter()) {
        let at = at_of(f.syntax, a);
        match kind(a) {
            Some(false) => {
                reason_check(out, "BR-CO-23", a, at, LINE_ALLOWANCE);
                dec_check(out, "BR-DEC-24", a.amount, at, "BT-136");
                dec_check(out, "BR-DEC-25", a.base, at, "BT-137");
            }
            Some(true) => {
                reason_check(out, "BR-CO-24", a, at, LINE_CHARGE);
                dec_check(out, "BR-DEC-27", a.amount, at, "BT-141");
                dec_check(out, "BR-DEC-28", a.base, at, "BT-142");
            }
            None => {}
        }
    }
}

fn periods(f: &Facts<'_>, out: &mut Findings) {
    let check = |p: &Period<'_>, fallback: Loc<'_>, out: &mut Findings, id: &'static str, header: bool| {
        let ok = p.start.is_some() || p.end.is_some() || (header && f.syntax == Syntax::Ubl && p.desc.is_some());
        if !ok {
            out.fire(
                id,
                p.at.unwrap_or(fallback),
                if header {
                    "Période de facturation (BG-14) : indiquez la date de début (BT-73) ou de fin (BT-74)."
                } else {
                    "Période de facturation de la ligne (BG-26) : indiquez la date de début (BT-134) ou de fin (BT-135)."
                },
                if header {
                    "Invoicing period (BG-14): give the start date (BT-73) or the end date (BT-74)."
                } else {
                    "Invoice line period (BG-26): give the start date (BT-134) or the end date (BT-135)."
                },
            );
        }
    };
    if let Some(p) = &f.period
        && p.at.is_some()
    {
        check(p, f.root, out, "BR-CO-19", true);
    }
    for l in &f.lines {
        if let Some(p) = &l.period
            && p.at.is_some()
        {
            check(p, l.at, out, "BR-CO-20", false);
        }
    }
}

fn seller_id(f: &Facts<'_>, out: &mut Findings) {
    let Some(at) = f.seller.at else { return };
    let s = &f.seller;
    let ok = match f.syntax {
        Syntax::Ubl => {
            !s.vat.is_empty()
                || s.ids.iter().any(|(_, scheme)| scheme.is_none_or(|v| v.raw != "SEPA"))
                || !s.legal.is_empty()
        }
        Syntax::Cii => !s.ids.is_empty() || !s.global_ids.is_empty() || !s.legal.is_empty() || !s.vat.is_empty(),
    };
    if !ok {
        out.fire(
            "BR-CO-26",
            at,
            "Vendeur : indiquez au moins un identifiant (BT-29), un identifiant légal (BT-30) ou un numéro de TVA (BT-31) afin que l'acheteur puisse l'identifier.",
            "Seller: give at least a seller identifier (BT-29), a legal registration identifier (BT-30) or a VAT identifier (BT-31) so that the buyer can identify the seller.",
        );
    }
}

fn vat_prefixes(f: &Facts<'_>, out: &mut Findings) {
    for v in f.seller.vat.iter().chain(&f.buyer.vat).chain(&f.tax_rep.vat) {
        let p = first_two(&v.raw);
        let ok = match f.syntax {
            Syntax::Ubl => UBL_VAT_PREFIXES.contains(p.as_str()),
            Syntax::Cii => CII_VAT_PREFIXES.contains(&format!(" {p} ")),
        };
        if !ok {
            out.fire(
                "BR-CO-09",
                Loc::at(&v.path, v.line),
                format!(
                    "Le numéro de TVA « {} » doit commencer par le code ISO 3166-1 alpha-2 du pays (EL pour la Grèce).",
                    v.raw.trim()
                ),
                format!(
                    "The VAT identifier '{}' must start with the ISO 3166-1 alpha-2 country code (EL for Greece).",
                    v.raw.trim()
                ),
            );
        }
    }
}

fn tax_point(f: &Facts<'_>, out: &mut Findings, at: Loc<'_>) {
    if f.tax_point_date.is_some() && f.tax_point_code.is_some() {
        out.fire(
            "BR-CO-03",
            at,
            "La date du fait générateur de la TVA (BT-7) et son code (BT-8) s'excluent : n'en gardez qu'un.",
            "The value added tax point date (BT-7) and its code (BT-8) are mutually exclusive: keep only one.",
        );
    }
}

fn msg_co17() -> (&'static str, &'static str) {
    (
        "Ventilation de TVA (BG-23) : le montant de TVA (BT-117) doit être égal à la base d'imposition (BT-116) multipliée par le taux (BT-119), arrondi à deux décimales.",
        "VAT breakdown (BG-23): the VAT amount (BT-117) must equal the taxable amount (BT-116) times the rate (BT-119), rounded to two decimals.",
    )
}

// ---------------------------------------------------------------------------------------------
// UBL
// ---------------------------------------------------------------------------------------------

fn ubl(f: &Facts<'_>, out: &mut Findings) {
    allowances(f, out);
    if let Some(t) = &f.totals {
        ubl_totals(f, out, t.at);
    }
    tax_point(f, out, f.root);
    ubl_co15(f, out);
    if f.breakdowns.is_empty() {
        out.fire(
            "BR-CO-18",
            f.root,
            "La facture doit contenir au moins une ventilation de TVA (BG-23).",
            "The invoice must contain at least one VAT breakdown (BG-23).",
        );
    }
    for l in &f.lines {
        let ok = l.cat.as_ref().is_some_and(|c| c.ubl_vat() && c.code.is_some());
        if !ok {
            out.fire(
                "BR-CO-04",
                l.at,
                "Chaque ligne de facture (BG-25) doit indiquer sa catégorie de TVA (BT-151).",
                "Each invoice line (BG-25) must be categorized with an invoiced item VAT category code (BT-151).",
            );
        }
        dec_check(out, "BR-DEC-23", l.net, l.at, "BT-131");
    }
    periods(f, out);
    seller_id(f, out);
    for (i, t) in f.tax_totals.iter().enumerate() {
        let subs: Vec<&Breakdown<'_>> = f.breakdowns.iter().filter(|b| b.total == i).collect();
        if subs.is_empty() {
            continue;
        }
        let sum = round2_dec(sum_dec(subs.iter().map(|b| dec(b.tax))));
        if dec(t.amount) != Some(sum) {
            out.fire(
                "BR-CO-14",
                t.at,
                "Le montant total de TVA (BT-110) doit être égal à la somme des montants de TVA de la ventilation (BT-117).",
                "The invoice total VAT amount (BT-110) must equal the sum of the VAT category tax amounts (BT-117).",
            );
        }
    }
    for b in &f.breakdowns {
        let p = if b.cat.ubl_vat() { b.cat.rate_dec() } else { None };
        let tax = dec(b.tax);
        let taxable = dec(b.taxable);
        let zero_tax = tax.is_some_and(|t| round_dec(t) == Decimal::ZERO);
        let ok = match p {
            Some(p) if round_dec(p) == Decimal::ZERO => zero_tax,
            Some(p) => match (tax, taxable) {
                (Some(tax), Some(taxable)) => {
                    let calc = round2_dec(taxable.abs().saturating_mul(p / Decimal::ONE_HUNDRED));
                    tax.abs() - Decimal::ONE < calc && tax.abs().saturating_add(Decimal::ONE) > calc
                }
                _ => false,
            },
            None => zero_tax,
        };
        if !ok {
            let (fr, en) = msg_co17();
            out.fire("BR-CO-17", b.at, fr, en);
        }
        dec_check(out, "BR-DEC-19", b.taxable, b.at, "BT-116");
        dec_check(out, "BR-DEC-20", b.tax, b.at, "BT-117");
    }
    vat_prefixes(f, out);
}

fn sum_dec(vals: impl Iterator<Item = Option<Decimal>>) -> Decimal {
    vals.flatten().fold(Decimal::ZERO, |a, b| a.saturating_add(b))
}

fn ubl_totals(f: &Facts<'_>, out: &mut Findings, at: Loc<'_>) {
    let Some(t) = &f.totals else { return };
    // BR-CO-10
    let lines = round2_dec(sum_dec(f.lines.iter().map(|l| l.net_dec())));
    if dec(t.lines) != Some(lines) {
        out.fire(
            "BR-CO-10",
            at,
            "La somme des montants nets des lignes (BT-106) doit être égale à la somme des montants nets de chaque ligne (BT-131).",
            "The sum of invoice line net amounts (BT-106) must equal the sum of every line net amount (BT-131).",
        );
    }
    // BR-CO-11 / BR-CO-12
    for (charge, id, v, fr, en) in [
        (
            false,
            "BR-CO-11",
            t.allowances,
            "La somme des remises (BT-107) doit être égale à la somme des remises au niveau du document (BT-92).",
            "The sum of allowances on document level (BT-107) must equal the sum of the document level allowance amounts (BT-92).",
        ),
        (
            true,
            "BR-CO-12",
            t.charges,
            "La somme des charges (BT-108) doit être égale à la somme des charges au niveau du document (BT-99).",
            "The sum of charges on document level (BT-108) must equal the sum of the document level charge amounts (BT-99).",
        ),
    ] {
        let mine = || f.acs.iter().filter(move |a| a.is_charge() == Some(charge));
        let sum = round2_dec(sum_dec(mine().map(|a| dec(a.amount))));
        let ok = dec(v) == Some(sum) || (v.is_none() && mine().next().is_none());
        if !ok {
            out.fire(id, at, fr, en);
        }
    }
    // BR-CO-13
    let le = dec(t.lines);
    let ch = dec(t.charges);
    let al = dec(t.allowances);
    let te = dec(t.tax_exclusive);
    let ok = match (t.charges.is_some(), t.allowances.is_some()) {
        (true, true) => match (le, ch, al) {
            (Some(le), Some(ch), Some(al)) => te == Some(round2_dec(le.saturating_add(ch).saturating_sub(al))),
            _ => false,
        },
        (false, true) => match (le, al) {
            (Some(le), Some(al)) => te == Some(round2_dec(le.saturating_sub(al))),
            _ => false,
        },
        (true, false) => match (le, ch) {
            (Some(le), Some(ch)) => te == Some(round2_dec(le.saturating_add(ch))),
            _ => false,
        },
        (false, false) => te.is_some() && te == le,
    };
    if !ok {
        out.fire(
            "BR-CO-13",
            at,
            "Le total hors TVA (BT-109) doit être égal à la somme des montants nets des lignes (BT-106) moins les remises (BT-107) plus les charges (BT-108).",
            "The invoice total without VAT (BT-109) must equal the sum of line net amounts (BT-106) minus allowances (BT-107) plus charges (BT-108).",
        );
    }
    // BR-CO-16
    let pay = dec(t.payable);
    let inc = dec(t.tax_inclusive);
    let pre = dec(t.prepaid);
    let rnd = dec(t.rounding);
    let ok = match (t.prepaid.is_some(), t.rounding.is_some()) {
        (true, false) => match (pay, inc, pre) {
            (Some(pay), Some(inc), Some(pre)) => pay == round2_dec(inc.saturating_sub(pre)),
            _ => false,
        },
        (false, false) => pay.is_some() && pay == inc,
        (true, true) => match (pay, rnd, inc, pre) {
            (Some(pay), Some(rnd), Some(inc), Some(pre)) => {
                round2_dec(pay.saturating_sub(rnd)) == round2_dec(inc.saturating_sub(pre))
            }
            _ => false,
        },
        (false, true) => match (pay, rnd, inc) {
            (Some(pay), Some(rnd), Some(inc)) => round2_dec(pay.saturating_sub(rnd)) == inc,
            _ => false,
        },
    };
    if !ok {
        out.fire(
            "BR-CO-16",
            at,
            "Le montant à payer (BT-115) doit être égal au total TTC (BT-112) moins le montant payé (BT-113) plus l'arrondi (BT-114).",
            "The amount due for payment (BT-115) must equal the invoice total with VAT (BT-112) minus the paid amount (BT-113) plus the rounding amount (BT-114).",
        );
    }
    dec_totals(out, t, at);
}

fn dec_totals(out: &mut Findings, t: &super::vat::facts::Totals<'_>, at: Loc<'_>) {
    dec_check(out, "BR-DEC-09", t.lines, at, "BT-106");
    dec_check(out, "BR-DEC-10", t.allowances, at, "BT-107");
    dec_check(out, "BR-DEC-11", t.charges, at, "BT-108");
    dec_check(out, "BR-DEC-12", t.tax_exclusive, at, "BT-109");
    dec_check(out, "BR-DEC-14", t.tax_inclusive, at, "BT-112");
    dec_check(out, "BR-DEC-16", t.prepaid, at, "BT-113");
    dec_check(out, "BR-DEC-17", t.rounding, at, "BT-114");
    dec_check(out, "BR-DEC-18", t.payable, at, "BT-115");
}

fn ubl_co15(f: &Facts<'_>, out: &mut Findings) {
    for cur in &f.currency {
        let matching: Vec<_> = f
            .tax_totals
            .iter()
            .filter(|t| t.currency.is_some_and(|c| c.raw == cur.raw) && t.amount.is_some())
            .collect();
        let ok = matching.len() == 1 && {
            let incl = f.totals.as_ref().and_then(|t| dec(t.tax_inclusive));
            let excl = f.totals.as_ref().and_then(|t| dec(t.tax_exclusive));
            let tax = dec(matching[0].amount);
            match (incl, excl, tax) {
                (Some(i), Some(e), Some(t)) => i == round2_dec(e.saturating_add(t)),
                _ => false,
            }
        };
        if !ok {
            out.fire(
                "BR-CO-15",
                f.root,
                "Le total TTC (BT-112) doit être égal au total hors TVA (BT-109) plus le montant total de TVA (BT-110), donné une seule fois dans la devise de la facture.",
                "The invoice total with VAT (BT-112) must equal the total without VAT (BT-109) plus the total VAT amount (BT-110), given once in the invoice currency.",
            );
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CII
// ---------------------------------------------------------------------------------------------

fn cii(f: &Facts<'_>, out: &mut Findings) {
    allowances(f, out);
    if let Some(t) = &f.totals {
        cii_totals(f, out, t.at);
    }
    cii_co15(f, out);
    for l in &f.lines {
        let ok = l.cat.as_ref().is_some_and(|c| c.cii_vat() && c.code.is_some());
        if !ok {
            out.fire(
                "BR-CO-04",
                l.at,
                "Chaque ligne de facture (BG-25) doit indiquer sa catégorie de TVA (BT-151).",
                "Each invoice line (BG-25) must be categorized with an invoiced item VAT category code (BT-151).",
            );
        }
        if f.breakdowns.is_empty() {
            out.fire(
                "BR-CO-18",
                l.at,
                "La facture doit contenir au moins une ventilation de TVA (BG-23).",
                "The invoice must contain at least one VAT breakdown (BG-23).",
            );
        }
        dec_check(out, "BR-DEC-23", l.net, l.at, "BT-131");
    }
    periods(f, out);
    seller_id(f, out);
    // BR-CO-14 on each tax total in the invoice currency.
    let cur = f.currency.first().map(|v| v.raw.as_str());
    for t in &f.tax_totals {
        if cur.is_none() || t.currency.map(|v| v.raw.as_str()) != cur {
            continue;
        }
        let sum: f64 = f.breakdowns.iter().filter_map(|b| dbl(b.tax)).sum();
        if dbl(t.amount) != Some(round2_f64(sum)) {
            out.fire(
                "BR-CO-14",
                loc_of(t.amount, t.at),
                "Le montant total de TVA (BT-110) doit être égal à la somme des montants de TVA de la ventilation (BT-117).",
                "The invoice total VAT amount (BT-110) must equal the sum of the VAT category tax amounts (BT-117).",
            );
        }
    }
    vat_prefixes(f, out);
    for b in &f.breakdowns {
        // Header trade taxes of category L, M or O with type VAT are matched by the BR-AF/AG/O rules
        // first, so the generic breakdown rules do not run on them in the official artefact.
        let shadowed = b.cat.cii_vat() && [Code::L, Code::M, Code::O].into_iter().any(|c| b.cat.code_raw_is(c));
        if shadowed {
            continue;
        }
        tax_point(f, out, b.at);
        let vat = b.cat.scheme.is_some_and(|v| normalized_upper_is_vat(&v.raw));
        let p = if vat { b.cat.rate_dec() } else { None };
        let tax = dec(b.tax);
        let taxable = dec(b.taxable);
        let zero_tax = tax.is_some_and(|t| round_dec(t) == Decimal::ZERO);
        let ok = match p {
            Some(p) if round_dec(p) == Decimal::ZERO => zero_tax,
            Some(p) => match (tax, taxable) {
                (Some(tax), Some(taxable)) => {
                    let calc = round2_dec(taxable.abs().saturating_mul(p / Decimal::ONE_HUNDRED));
                    tax.abs() - Decimal::ONE <= calc && tax.abs().saturating_add(Decimal::ONE) >= calc
                }
                _ => false,
            },
            None => zero_tax,
        };
        if !ok {
            let (fr, en) = msg_co17();
            out.fire("BR-CO-17", b.at, fr, en);
        }
        dec_check(out, "BR-DEC-19", b.taxable, b.at, "BT-116");
        dec_check(out, "BR-DEC-20", b.tax, b.at, "BT-117");
    }
}

fn cii_totals(f: &Facts<'_>, out: &mut Findings, at: Loc<'_>) {
    let Some(t) = &f.totals else { return };
    // BR-CO-10: the line amounts are summed as doubles.
    let sum: f64 = f.lines.iter().filter_map(|l| dbl(l.net)).sum();
    let ok = dec(t.lines).is_some_and(|v| dec_to_f64(v) == round2_f64(sum));
    if !ok {
        out.fire(
            "BR-CO-10",
            at,
            "La somme des montants nets des lignes (BT-106) doit être égale à la somme des montants nets de chaque ligne (BT-131).",
            "The sum of invoice line net amounts (BT-106) must equal the sum of every line net amount (BT-131).",
        );
    }
    for (charge, id, v, fr, en) in [
        (
            false,
            "BR-CO-11",
            t.allowances,
            "La somme des remises (BT-107) doit être égale à la somme des remises au niveau du document (BT-92).",
            "The sum of allowances on document level (BT-107) must equal the sum of the document level allowance amounts (BT-92).",
        ),
        (
            true,
            "BR-CO-12",
            t.charges,
            "La somme des charges (BT-108) doit être égale à la somme des charges au niveau du document (BT-99).",
            "The sum of charges on document level (BT-108) must equal the sum of the document level charge amounts (BT-99).",
        ),
    ] {
        let mine = || f.acs.iter().filter(move |a| a.is_charge() == Some(charge));
        let sum: f64 = mine().filter_map(|a| dbl(a.amount)).sum();
        let ok = (mine().next().is_none() && v.is_none()) || dbl(v) == Some(round2_f64(sum));
        if !ok {
            out.fire(id, at, fr, en);
        }
    }
    // BR-CO-13
    let le = dec(t.lines);
    let ch = dec(t.charges);
    let al = dec(t.allowances);
    let te = dec(t.tax_exclusive);
    let eq = |x: Option<Decimal>| te.is_some() && x.is_some() && te == x.map(round2_dec);
    let both = match (le, al, ch) {
        (Some(le), Some(al), Some(ch)) => eq(Some(le.saturating_sub(al).saturating_add(ch))),
        _ => false,
    };
    let no_charge = t.charges.is_none()
        && match (le, al) {
            (Some(le), Some(al)) => eq(Some(le.saturating_sub(al))),
            _ => false,
        };
    let no_allowance = t.allowances.is_none()
        && match (le, ch) {
            (Some(le), Some(ch)) => eq(Some(le.saturating_add(ch))),
            _ => false,
        };
    let neither = t.charges.is_none() && t.allowances.is_none() && eq(le);
    if !(both || no_charge || no_allowance || neither) {
        out.fire(
            "BR-CO-13",
            at,
            "Le total hors TVA (BT-109) doit être égal à la somme des montants nets des lignes (BT-106) moins les remises (BT-107) plus les charges (BT-108).",
            "The invoice total without VAT (BT-109) must equal the sum of line net amounts (BT-106) minus allowances (BT-107) plus charges (BT-108).",
        );
    }
    // BR-CO-16
    let due = dec(t.payable);
    let grand = dec(t.tax_inclusive);
    let pre = dec(t.prepaid);
    let rnd = dec(t.rounding);
    let is = |x: Option<Decimal>| due.is_some() && x.is_some() && due == x;
    let ok = match (grand, pre, rnd) {
        (Some(g), Some(p), Some(r)) if is(Some(g.saturating_sub(p).saturating_add(r))) => true,
        (Some(g), _, Some(r)) if t.prepaid.is_none() && is(Some(g.saturating_add(r))) => true,
        (Some(g), Some(p), _) if t.rounding.is_none() && is(Some(g.saturating_sub(p))) => true,
        (Some(g), _, _) if t.prepaid.is_none() && t.rounding.is_none() && is(Some(g)) => true,
        _ => false,
    };
    if !ok {
        out.fire(
            "BR-CO-16",
            at,
            "Le montant à payer (BT-115) doit être égal au total TTC (BT-112) moins le montant payé (BT-113) plus l'arrondi (BT-114).",
            "The amount due for payment (BT-115) must equal the invoice total with VAT (BT-112) minus the paid amount (BT-113) plus the rounding amount (BT-114).",
        );
    }
    dec_totals(out, t, at);
    // BR-DEC-13 / BR-DEC-15: one tax total in the (invoice / tax) currency with at most two decimals,
    // or one in another currency, is enough.
    if !f.tax_totals.is_empty() {
        let two = |v: Option<&crate::model::draft::Val>| dbl(v).is_some_and(|x| x == round_f64(x * 100.0) / 100.0);
        let cur = |c: Option<&crate::model::draft::Val>, want: Option<&crate::model::draft::Val>| match (c, want) {
            (Some(c), Some(w)) => c.raw == w.raw,
            _ => false,
        };
        let inv = f.currency.first().copied();
        let ok13 = f
            .tax_totals
            .iter()
            .any(|x| (cur(x.currency, inv) && two(x.amount)) || !cur(x.currency, inv));
        if !ok13 {
            out.fire(
                "BR-DEC-13",
                at,
                "Le montant total de TVA (BT-110) doit avoir au plus deux décimales.",
                "The invoice total VAT amount (BT-110) must have at most two decimals.",
            );
        }
        let ok15 = f
            .tax_totals
            .iter()
            .any(|x| (cur(x.currency, f.tax_currency) && two(x.amount)) || f.tax_currency.is_none());
        if !ok15 {
            out.fire(
                "BR-DEC-15",
                at,
                "Le montant total de TVA en devise de comptabilisation (BT-111) doit avoir au plus deux décimales.",
                "The invoice total VAT amount in accounting currency (BT-111) must have at most two decimals.",
            );
        }
    }
}

fn cii_co15(f: &Facts<'_>, out: &mut Findings) {
    let t = f.totals.as_ref();
    let grand = t.and_then(|t| dec(t.tax_inclusive));
    let basis = t.and_then(|t| dec(t.tax_exclusive));
    for cur in &f.currency {
        let matching: Vec<_> = f
            .tax_totals
            .iter()
            .filter(|t| t.currency.is_some_and(|c| c.raw == cur.raw))
            .collect();
        let first = matching.first().and_then(|t| dec(t.amount));
        let with_tax = matching.len() == 1
            && match (grand, basis, first) {
                (Some(g), Some(b), Some(x)) => g == round2_dec(b.saturating_add(x)),
                _ => false,
            };
        let without = grand.is_some() && grand == basis;
        if !(with_tax || without) {
            out.fire(
                "BR-CO-15",
                f.root,
                "Le total TTC (BT-112) doit être égal au total hors TVA (BT-109) plus le montant total de TVA (BT-110), donné une seule fois dans la devise de la facture.",
                "The invoice total with VAT (BT-112) must equal the total without VAT (BT-109) plus the total VAT amount (BT-110), given once in the invoice currency.",
            );
            return;
        }
    }
}
