//! Gathers [`Facts`] from a [`Draft`].
//!
//! UBL `cac:TaxTotal` membership of subtotals is recovered from the positional paths the reader
//! records.

use super::facts::{Ac, Breakdown, Cat, CatAt, Facts, Line, PartyTax, Period, TaxTotal, Totals, V};
use crate::model::DocKind;
use crate::model::draft::{Draft, DraftAllowanceCharge, DraftParty, DraftPeriod, Loc as DLoc, Val};
use crate::validate::{Loc, Syntax};
use std::cell::OnceCell;

fn loc(l: &DLoc) -> Loc<'_> {
    Loc::at(&l.path, l.line)
}

/// The parent element path of a value (`…/cac:TaxCategory[1]/cbc:ID[1]` → `…/cac:TaxCategory[1]`).
fn parent(v: &Val) -> Loc<'_> {
    let p = v.path.rsplit_once('/').map_or(v.path.as_str(), |(a, _)| a);
    Loc::new(p, v.line)
}

/// A category located at the parent of its code (or rate); with only a scheme, at the parent of the
/// scheme (CII) or of its `cac:TaxScheme` (UBL).
fn cat<'a>(syntax: Syntax, code: V<'a>, rate: V<'a>, scheme: V<'a>) -> Option<Cat<'a>> {
    let at = match (code.or(rate), scheme) {
        (Some(v), _) => CatAt::Parent(v),
        // `…/cac:TaxCategory[1]/cac:TaxScheme[1]/cbc:ID[1]`: the category is two steps up.
        (None, Some(s)) if syntax == Syntax::Ubl => CatAt::GrandParent(s),
        (None, Some(s)) => CatAt::Parent(s),
        (None, None) => return None,
    };
    Some(Cat::new(at, code, scheme, rate, None, None))
}

fn ac<'a>(syntax: Syntax, a: &'a DraftAllowanceCharge, with_cat: bool) -> Ac<'a> {
    let at = loc(&a.at);
    Ac {
        at,
        indicator: a.charge_indicator.as_ref(),
        amount: a.amount.as_ref(),
        base: a.base_amount.as_ref(),
        reason: a.reason.as_ref(),
        reason_code: a.reason_code.as_ref(),
        cat: if with_cat {
            cat(
                syntax,
                a.vat_category.as_ref(),
                a.vat_rate.as_ref(),
                a.vat_scheme.as_ref(),
            )
        } else {
            None
        },
    }
}

fn period(p: &DraftPeriod) -> Period<'_> {
    Period {
        at: Some(loc(&p.at)),
        start: p.start.as_ref(),
        end: p.end.as_ref(),
        desc: None,
    }
}

fn party(p: Option<&DraftParty>) -> PartyTax<'_> {
    let Some(p) = p else {
        return PartyTax::default();
    };
    PartyTax {
        at: Some(loc(&p.at)),
        vat: p.vat_identifiers.iter().collect(),
        other_tax: p.tax_registration_id.iter().collect(),
        legal: p.legal_registration_id.iter().collect(),
        ids: p.identifiers.iter().map(|v| (v, v.attr("schemeID"))).collect(),
        global_ids: Vec::new(),
    }
}

/// Everything up to (excluding) the last step named `step` of a positional path.
fn prefix_before<'p>(path: &'p str, step: &str) -> Option<&'p str> {
    path.rfind(step).map(|i| &path[..i])
}

/// Gathers the facts of `d`.
pub(crate) fn facts(d: &Draft) -> Facts<'_> {
    let syntax = match d.syntax {
        crate::xml::Syntax::Ubl => Syntax::Ubl,
        crate::xml::Syntax::Cii => Syntax::Cii,
    };
    let root = loc(&d.root);
    let credit_note = syntax == Syntax::Ubl && (d.kind == DocKind::CreditNote || d.root.path.ends_with(":CreditNote"));

    let mut acs: Vec<Ac<'_>> = Vec::new();
    // Document order matters little; keep allowances, charges, then unclassified.
    for a in d
        .allowances
        .iter()
        .chain(&d.charges)
        .chain(&d.unclassified_allowance_charges)
    {
        acs.push(ac(syntax, a, true));
    }

    let lines = d
        .lines
        .iter()
        .map(|l| {
            let at = loc(&l.at);
            Line {
                at,
                net: l.net_amount.as_ref(),
                net_parsed: OnceCell::new(),
                cat: cat(
                    syntax,
                    l.vat_category.as_ref(),
                    l.vat_rate.as_ref(),
                    l.vat_scheme.as_ref(),
                ),
                acs: l
                    .allowances
                    .iter()
                    .chain(&l.charges)
                    .chain(&l.unclassified_allowance_charges)
                    .map(|a| ac(syntax, a, false))
                    .collect(),
                period: l.period.as_ref().map(period),
            }
        })
        .collect();

    // Tax totals: UBL groups subtotals under their `cac:TaxTotal`; recover it from the paths.
    let amounts: &[Val] = d.totals.as_ref().map_or(&[], |t| t.vat_total_amounts.as_slice());
    let mut tax_totals: Vec<TaxTotal<'_>> = Vec::new();
    let mut total_keys: Vec<&str> = Vec::new();
    let mut breakdowns = Vec::new();
    match syntax {
        Syntax::Ubl => {
            for a in amounts {
                let key = prefix_before(&a.path, "/cbc:TaxAmount[").unwrap_or(&a.path);
                if total_keys.contains(&key) {
                    continue;
                }
                total_keys.push(key);
                tax_totals.push(TaxTotal {
                    at: Loc::new(key, a.line),
                    amount: Some(a),
                    currency: a.attr("currencyID"),
                });
            }
            for b in &d.vat_breakdown {
                let key = prefix_before(&b.at.path, "/cac:TaxSubtotal[").unwrap_or(&b.at.path);
                let total = match total_keys.iter().position(|k| *k == key) {
                    Some(i) => i,
                    None => {
                        total_keys.push(key);
                        tax_totals.push(TaxTotal {
                            at: Loc::new(key, b.at.line),
                            amount: None,
                            currency: None,
                        });
                        tax_totals.len() - 1
                    }
                };
                breakdowns.push(breakdown(syntax, b, total));
            }
        }
        Syntax::Cii => {
            for a in amounts {
                tax_totals.push(TaxTotal {
                    at: Loc::at(&a.path, a.line),
                    amount: Some(a),
                    currency: a.attr("currencyID"),
                });
            }
            for b in &d.vat_breakdown {
                breakdowns.push(breakdown(syntax, b, 0));
            }
        }
    }

    let totals = d.totals.as_ref().map(|t| Totals {
        at: loc(&t.at),
        lines: t.line_net_total.as_ref(),
        allowances: t.allowance_total.as_ref(),
        charges: t.charge_total.as_ref(),
        tax_exclusive: t.tax_exclusive_total.as_ref(),
        tax_inclusive: t.tax_inclusive_total.as_ref(),
        prepaid: t.prepaid.as_ref(),
        rounding: t.rounding.as_ref(),
        payable: t.payable.as_ref(),
    });
    // In UBL the totals group exists in the draft also when only tax totals were found.
    let totals = totals.filter(|t| !(syntax == Syntax::Ubl && t.at.path().is_empty()));

    let mut per = d.invoicing_period.as_ref().map(period);
    if syntax == Syntax::Ubl {
        // BT-8 sits inside the UBL invoicing period.
        let code = d.vat_point_date_code.as_ref();
        match per.as_mut() {
            Some(p) => p.desc = code,
            None if code.is_some() => {
                per = Some(Period {
                    at: code.map(parent),
                    start: None,
                    end: None,
                    desc: code,
                })
            }
            None => {}
        }
    }

    let mut countries: Vec<&Val> = Vec::new();
    for p in [&d.seller, &d.buyer, &d.payee, &d.tax_representative]
        .into_iter()
        .flatten()
    {
        if let Some(c) = p.address.as_ref().and_then(|a| a.country_code.as_ref()) {
            countries.push(c);
        }
    }
    if let Some(c) = d
        .delivery
        .as_ref()
        .and_then(|x| x.address.as_ref())
        .and_then(|a| a.country_code.as_ref())
    {
        countries.push(c);
    }
    if syntax == Syntax::Ubl {
        for l in &d.lines {
            if let Some(c) = l.item.as_ref().and_then(|i| i.origin_country.as_ref()) {
                countries.push(c);
            }
        }
    }

    let mut seller = party(d.seller.as_ref());
    if syntax == Syntax::Ubl {
        // BR-CO-26 is evaluated on `cac:AccountingSupplierParty`, which may lack its `cac:Party`.
        seller.at = d.seller_group.as_ref().map(loc);
    }

    Facts {
        syntax,
        root,
        credit_note,
        currency: d.currency_code.iter().collect(),
        tax_currency: d.vat_currency_code.as_ref(),
        tax_point_date: d.tax_point_date.as_ref(),
        tax_point_code: d.vat_point_date_code.as_ref(),
        period: per,
        delivery_date: d.delivery.as_ref().and_then(|x| x.actual_date.as_ref()),
        delivery_country: d
            .delivery
            .as_ref()
            .and_then(|x| x.address.as_ref())
            .and_then(|a| a.country_code.as_ref()),
        breakdowns,
        tax_totals,
        acs,
        lines,
        totals,
        seller,
        buyer: party(d.buyer.as_ref()),
        tax_rep: party(d.tax_representative.as_ref()),
        countries,
    }
}

fn breakdown(syntax: Syntax, b: &crate::model::draft::DraftVatBreakdown, total: usize) -> Breakdown<'_> {
    let at = loc(&b.at);
    let code = b.category_code.as_ref();
    let cat_at = match (syntax, code.or(b.rate.as_ref())) {
        (Syntax::Ubl, Some(v)) => CatAt::Parent(v),
        _ => CatAt::Here(at),
    };
    Breakdown {
        at,
        taxable: b.taxable_amount.as_ref(),
        tax: b.tax_amount.as_ref(),
        cat: Cat::new(
            cat_at,
            code,
            b.vat_scheme.as_ref(),
            b.rate.as_ref(),
            b.exemption_reason.as_ref(),
            b.exemption_reason_code.as_ref(),
        ),
        total,
    }
}
