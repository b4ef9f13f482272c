//! The visual rendering of a strict EN 16931 invoice, and [`generate`] on top of it.

use crate::model::{Address, DocKind, Identifier, Invoice};

use super::render::{Party, Rendering, RenderingLine, Totals, VatRow};
use super::{FacturxError, Options, generate_rendering};

/// Generates a Factur-X PDF/A-3b for an invoice from its CII serialisation.
///
/// The visual part is derived from the strict model; the attachment is `cii_xml` byte for byte,
/// and the XMP conformance level follows its guideline id (BT-24).
pub fn generate(invoice: &Invoice, cii_xml: &str) -> Result<Vec<u8>, FacturxError> {
    generate_rendering(&Rendering::from(invoice), cii_xml.as_bytes(), &Options::default())
}

fn address_lines(a: &Address) -> Vec<String> {
    let mut out: Vec<String> = [&a.line1, &a.line2, &a.line3].into_iter().flatten().cloned().collect();
    let city = [a.post_code.as_deref(), a.city.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let city = if city.is_empty() {
        a.country.as_str().to_owned()
    } else {
        format!("{city} ({})", a.country.as_str())
    };
    out.push(city);
    out
}

fn id_line(label: &str, id: Option<&Identifier>) -> Option<String> {
    id.map(|i| format!("{label} {}", i.value))
}

impl From<&Invoice> for Rendering {
    fn from(inv: &Invoice) -> Rendering {
        let s = &inv.seller;
        let mut seller_lines = Vec::new();
        seller_lines.extend(s.trading_name.clone());
        seller_lines.extend(address_lines(&s.address));
        seller_lines.extend(id_line("SIREN/SIRET", s.legal_registration.as_ref()));
        seller_lines.extend(s.vat_id.as_ref().map(|v| format!("TVA {v}")));
        seller_lines.extend(s.additional_legal_info.clone());
        let b = &inv.buyer;
        let mut buyer_lines = Vec::new();
        buyer_lines.extend(b.trading_name.clone());
        buyer_lines.extend(address_lines(&b.address));
        buyer_lines.extend(id_line("SIREN/SIRET", b.legal_registration.as_ref()));
        buyer_lines.extend(b.vat_id.as_ref().map(|v| format!("TVA {v}")));

        let mut notes: Vec<String> = inv.notes.iter().map(|n| n.text.clone()).collect();
        notes.extend(inv.payment_terms.clone());
        let mut payment = Vec::new();
        if let Some(p) = &inv.payment {
            for ct in &p.credit_transfers {
                let name = ct.account_name.as_deref().map(|n| format!(" ({n})"));
                payment.push(format!("Virement : {}{}", ct.account_id, name.unwrap_or_default()));
            }
            if let Some(r) = &p.remittance {
                payment.push(format!("Référence de paiement : {r}"));
            }
        }

        let t = &inv.totals;
        Rendering {
            title: match inv.kind {
                DocKind::CreditNote => "Avoir".to_owned(),
                DocKind::Invoice => "Facture".to_owned(),
            },
            number: inv.number.clone(),
            issue_date: inv.issue_date.to_iso(),
            due_date: inv.due_date.map(|d| d.to_iso()),
            currency: inv.currency.as_str().to_owned(),
            buyer_reference: inv.buyer_reference.clone(),
            seller: Party {
                name: s.name.clone(),
                lines: seller_lines,
            },
            buyer: Party {
                name: b.name.clone(),
                lines: buyer_lines,
            },
            lines: inv
                .lines
                .iter()
                .map(|l| RenderingLine {
                    id: l.id.clone(),
                    name: l.item.name.clone(),
                    quantity: l.quantity.to_string(),
                    unit: l.unit_code.as_str().to_owned(),
                    unit_price: l.price.net_price.to_string(),
                    vat_rate: l
                        .vat_rate
                        .map_or_else(|| l.vat_category.code().to_owned(), |r| r.to_string()),
                    net_amount: l.net_amount.to_string(),
                })
                .collect(),
            vat: inv
                .vat_breakdown
                .iter()
                .map(|v| VatRow {
                    category: v.category.code().to_owned(),
                    rate: v.rate.map(|r| r.to_string()).unwrap_or_default(),
                    taxable_amount: v.taxable_amount.to_string(),
                    tax_amount: v.tax_amount.to_string(),
                    exemption: v.exemption_reason.clone(),
                })
                .collect(),
            totals: Totals {
                line_total: t.line_net_total.to_string(),
                allowances: t.allowance_total.map(|d| d.to_string()),
                charges: t.charge_total.map(|d| d.to_string()),
                tax_exclusive: t.tax_exclusive_total.to_string(),
                tax: t.vat_total.map_or_else(|| "0.00".to_owned(), |d| d.to_string()),
                tax_inclusive: t.tax_inclusive_total.to_string(),
                prepaid: t.prepaid.map(|d| d.to_string()),
                payable: t.payable.to_string(),
            },
            notes,
            payment,
        }
    }
}
