//! Behaviour of the VAT, totals and decimals rules on small hand-made documents read through the
//! real UBL and CII readers.

use crate::validate::{Findings, Syntax, totals, vat};

/// Ids fired by the VAT and totals modules on `xml`.
fn ids(xml: &str) -> Vec<&'static str> {
    let (syntax, draft) = crate::xml::read_xml(xml.as_bytes()).expect("readable document");
    let syntax = match syntax {
        crate::xml::Syntax::Ubl => Syntax::Ubl,
        crate::xml::Syntax::Cii => Syntax::Cii,
    };
    let mut out = Findings::new(syntax);
    vat::check(&draft, &mut out);
    totals::check(&draft, &mut out);
    let mut v: Vec<_> = out.items().iter().map(|f| f.rule).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Amounts of a one-line, one-breakdown document.
struct Doc<'a> {
    cat: &'a str,
    rate: Option<&'a str>,
    line: &'a str,
    base: &'a str,
    tax: &'a str,
    total_tax: &'a str,
    incl: &'a str,
    payable: &'a str,
    reason: bool,
    extra_breakdown: bool,
}

impl Default for Doc<'_> {
    fn default() -> Self {
        Doc {
            cat: "S",
            rate: Some("20"),
            line: "100.00",
            base: "100.00",
            tax: "20.00",
            total_tax: "20.00",
            incl: "120.00",
            payable: "120.00",
            reason: false,
            extra_breakdown: false,
        }
    }
}

const UBL_NS: &str = r#"xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2""#;

fn ubl(d: &Doc<'_>) -> String {
    let rate = d
        .rate
        .map(|r| format!("<cbc:Percent>{r}</cbc:Percent>"))
        .unwrap_or_default();
    let reason = if d.reason {
        "<cbc:TaxExemptionReason>Exempt</cbc:TaxExemptionReason>"
    } else {
        ""
    };
    let sub = format!(
        r#"<cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">{base}</cbc:TaxableAmount><cbc:TaxAmount currencyID="EUR">{tax}</cbc:TaxAmount><cac:TaxCategory><cbc:ID>{cat}</cbc:ID>{rate}{reason}<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>"#,
        base = d.base,
        tax = d.tax,
        cat = d.cat,
    );
    let extra = if d.extra_breakdown { sub.clone() } else { String::new() };
    format!(
        r#"<Invoice {UBL_NS}>
<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
<cac:AccountingSupplierParty><cac:Party><cac:PartyTaxScheme><cbc:CompanyID>FR12345678901</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme></cac:Party></cac:AccountingSupplierParty>
<cac:TaxTotal><cbc:TaxAmount currencyID="EUR">{total_tax}</cbc:TaxAmount>{sub}{extra}</cac:TaxTotal>
<cac:LegalMonetaryTotal>
<cbc:LineExtensionAmount currencyID="EUR">{line}</cbc:LineExtensionAmount>
<cbc:TaxExclusiveAmount currencyID="EUR">{line}</cbc:TaxExclusiveAmount>
<cbc:TaxInclusiveAmount currencyID="EUR">{incl}</cbc:TaxInclusiveAmount>
<cbc:PayableAmount currencyID="EUR">{payable}</cbc:PayableAmount>
</cac:LegalMonetaryTotal>
<cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:LineExtensionAmount currencyID="EUR">{line}</cbc:LineExtensionAmount>
<cac:Item><cbc:Name>x</cbc:Name><cac:ClassifiedTaxCategory><cbc:ID>{cat}</cbc:ID>{rate}<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item></cac:InvoiceLine>
</Invoice>"#,
        total_tax = d.total_tax,
        line = d.line,
        incl = d.incl,
        payable = d.payable,
        cat = d.cat,
    )
}

fn cii(d: &Doc<'_>) -> String {
    let rate = d
        .rate
        .map(|r| format!("<ram:RateApplicablePercent>{r}</ram:RateApplicablePercent>"))
        .unwrap_or_default();
    let reason = if d.reason {
        "<ram:ExemptionReason>Exempt</ram:ExemptionReason>"
    } else {
        ""
    };
    let tax = format!(
        "<ram:ApplicableTradeTax><ram:CalculatedAmount>{tax}</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode>{reason}<ram:BasisAmount>{base}</ram:BasisAmount><ram:CategoryCode>{cat}</ram:CategoryCode>{rate}</ram:ApplicableTradeTax>",
        tax = d.tax,
        base = d.base,
        cat = d.cat,
    );
    let extra = if d.extra_breakdown { tax.clone() } else { String::new() };
    format!(
        r#"<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100" xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
<rsm:SupplyChainTradeTransaction>
<ram:IncludedSupplyChainTradeLineItem><ram:SpecifiedLineTradeSettlement>
<ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>{cat}</ram:CategoryCode>{rate}</ram:ApplicableTradeTax>
<ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>{line}</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation>
</ram:SpecifiedLineTradeSettlement></ram:IncludedSupplyChainTradeLineItem>
<ram:ApplicableHeaderTradeAgreement><ram:SellerTradeParty><ram:Name>S</ram:Name><ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">FR12345678901</ram:ID></ram:SpecifiedTaxRegistration></ram:SellerTradeParty></ram:ApplicableHeaderTradeAgreement>
<ram:ApplicableHeaderTradeSettlement>
<ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
{tax}{extra}
<ram:SpecifiedTradeSettlementHeaderMonetarySummation>
<ram:LineTotalAmount>{line}</ram:LineTotalAmount><ram:TaxBasisTotalAmount>{line}</ram:TaxBasisTotalAmount><ram:TaxTotalAmount currencyID="EUR">{total_tax}</ram:TaxTotalAmount><ram:GrandTotalAmount>{incl}</ram:GrandTotalAmount><ram:DuePayableAmount>{payable}</ram:DuePayableAmount>
</ram:SpecifiedTradeSettlementHeaderMonetarySummation>
</ram:ApplicableHeaderTradeSettlement>
</rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>"#,
        cat = d.cat,
        line = d.line,
        total_tax = d.total_tax,
        incl = d.incl,
        payable = d.payable,
    )
}

#[test]
fn consistent_documents_fire_nothing() {
    assert_eq!(ids(&ubl(&Doc::default())), Vec::<&str>::new());
    assert_eq!(ids(&cii(&Doc::default())), Vec::<&str>::new());
}

#[test]
fn standard_rated_taxable_amount_tolerance_differs_between_syntaxes() {
    // BT-116 is 0.50 above the line total: within UBL's ±1 tolerance, not CII's exact equality.
    let d = Doc {
        base: "100.50",
        tax: "20.10",
        total_tax: "20.10",
        incl: "120.10",
        payable: "120.10",
        ..Doc::default()
    };
    assert!(!ids(&ubl(&d)).contains(&"BR-S-08"));
    assert!(ids(&cii(&d)).contains(&"BR-S-08"));
    // Beyond the tolerance both fire.
    let d = Doc {
        base: "101.50",
        tax: "20.30",
        total_tax: "20.30",
        incl: "120.30",
        payable: "120.30",
        ..Doc::default()
    };
    assert!(ids(&ubl(&d)).contains(&"BR-S-08"));
    assert!(ids(&cii(&d)).contains(&"BR-S-08"));
}

#[test]
fn vat_amount_and_totals_mismatches() {
    // The breakdown VAT amount is wrong: BR-S-09 and BR-CO-17 in both syntaxes; the total still
    // matches the breakdown sum so BR-CO-14 stays quiet.
    let d = Doc {
        tax: "25.00",
        total_tax: "25.00",
        incl: "125.00",
        payable: "125.00",
        ..Doc::default()
    };
    for got in [ids(&ubl(&d)), ids(&cii(&d))] {
        assert!(got.contains(&"BR-S-09"), "{got:?}");
        assert!(got.contains(&"BR-CO-17"), "{got:?}");
        assert!(!got.contains(&"BR-CO-14"), "{got:?}");
    }
    // The total VAT amount disagrees with the breakdown: BR-CO-14 and BR-CO-15.
    let d = Doc {
        total_tax: "21.00",
        ..Doc::default()
    };
    for got in [ids(&ubl(&d)), ids(&cii(&d))] {
        assert!(got.contains(&"BR-CO-14"), "{got:?}");
        assert!(got.contains(&"BR-CO-15"), "{got:?}");
    }
}

#[test]
fn three_decimals_and_payable_amount() {
    let d = Doc {
        payable: "120.001",
        ..Doc::default()
    };
    for got in [ids(&ubl(&d)), ids(&cii(&d))] {
        assert!(got.contains(&"BR-DEC-18"), "{got:?}");
        assert!(got.contains(&"BR-CO-16"), "{got:?}");
    }
}

#[test]
fn exempt_category_needs_reason_and_a_single_breakdown() {
    let d = Doc {
        cat: "E",
        rate: Some("0"),
        tax: "0.00",
        total_tax: "0.00",
        incl: "100.00",
        payable: "100.00",
        reason: true,
        ..Doc::default()
    };
    assert_eq!(ids(&ubl(&d)), Vec::<&str>::new());
    assert_eq!(ids(&cii(&d)), Vec::<&str>::new());
    let no_reason = Doc { reason: false, ..d };
    assert!(ids(&ubl(&no_reason)).contains(&"BR-E-10"));
    assert!(ids(&cii(&no_reason)).contains(&"BR-E-10"));
    let twice = Doc {
        extra_breakdown: true,
        reason: true,
        ..no_reason
    };
    assert!(ids(&ubl(&twice)).contains(&"BR-E-01"));
    assert!(ids(&cii(&twice)).contains(&"BR-E-01"));
}

#[test]
fn not_subject_to_vat_skips_generic_breakdown_rules_in_cii() {
    // A wrong VAT amount on an 'O' breakdown: BR-O-09 in both syntaxes; CII matches the header
    // trade tax with the BR-O rule first, so BR-CO-17 does not run there (it does in UBL).
    let d = Doc {
        cat: "O",
        rate: None,
        tax: "5.00",
        total_tax: "5.00",
        incl: "105.00",
        payable: "105.00",
        reason: true,
        ..Doc::default()
    };
    let u = ids(&ubl(&d));
    let c = ids(&cii(&d));
    assert!(u.contains(&"BR-O-09") && c.contains(&"BR-O-09"), "{u:?} {c:?}");
    assert!(u.contains(&"BR-CO-17"), "{u:?}");
    assert!(!c.contains(&"BR-CO-17"), "{c:?}");
    // The seller has a VAT identifier, which an 'O' invoice must not carry.
    assert!(u.contains(&"BR-O-02") && c.contains(&"BR-O-02"), "{u:?} {c:?}");
}

#[test]
fn fragments_without_breakdown() {
    let xml = format!(
        r#"<Invoice {UBL_NS}><cac:InvoiceLine><cbc:LineExtensionAmount currencyID="EUR">1.005</cbc:LineExtensionAmount></cac:InvoiceLine></Invoice>"#
    );
    let got = ids(&xml);
    assert!(got.contains(&"BR-CO-18"), "{got:?}");
    assert!(got.contains(&"BR-CO-04"), "{got:?}");
    assert!(got.contains(&"BR-DEC-23"), "{got:?}");
}

#[test]
fn extreme_amounts_do_not_panic() {
    for big in [
        "79228162514264337593543950335",
        "-79228162514264337593543950335",
        "99999999999999999999999999999999999",
        "0.0000000000000000000000000001",
        "NaN",
        "1e400",
    ] {
        let d = Doc {
            rate: Some(big),
            line: big,
            base: big,
            tax: big,
            total_tax: big,
            incl: big,
            payable: big,
            ..Doc::default()
        };
        // Whatever fires, reading and checking must not panic.
        let u = ids(&ubl(&d));
        let c = ids(&cii(&d));
        assert!(!u.is_empty() || !c.is_empty());
    }
}
