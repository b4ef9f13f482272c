//! Rules the official corpus never makes fire (in UBL, or in CII where the reader is a different path to
//! the same draft rules), checked on one-change mutations of official examples that the official rules
//! accept. Each expected set is read off the official test of the rule
//! (`../shared/data/en16931-rules.jsonl`), quoted beside it; amounts keep their value (`150.00` →
//! `150.000`), so no total changes and only the decimals rules apply.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::corpus_dir;
use facteur_einvoice::validate::{Severity, validate_xml};

fn example() -> String {
    read("ubl/examples/ubl-tc434-example5.xml")
}

fn read(rel: &str) -> String {
    let path = corpus_dir().join("en16931").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared corpus is needed; see FACTEUR_CORPUS)",
            path.display()
        )
    })
}

/// The example with the `nth` (1-based) of the `count` occurrences of `from` replaced by `to`.
fn mutated(from: &str, count: usize, nth: usize, to: &str) -> String {
    replace_nth(&example(), from, count, nth, to)
}

fn replace_nth(text: &str, from: &str, count: usize, nth: usize, to: &str) -> String {
    let at: Vec<usize> = text.match_indices(from).map(|(i, _)| i).collect();
    assert_eq!(at.len(), count, "occurrences of {from:?} in the example");
    let i = at[nth - 1];
    format!("{}{}{}", &text[..i], to, &text[i + from.len()..])
}

fn fatal(xml: &str) -> Vec<&'static str> {
    validate_xml(xml.as_bytes()).ids(Severity::Fatal)
}

#[test]
fn the_example_is_valid_as_it_stands() {
    assert_eq!(fatal(&example()), Vec::<&str>::new());
}

#[test]
fn three_decimals_on_allowances_and_charges() {
    // UBL-DT-01 (every *Amount outside prices): string-length(substring-after(.,'.'))<=2.
    let doc_amount = r#"<cbc:Amount currencyID="DKK">150.00</cbc:Amount>"#;
    let doc_base = r#"<cbc:BaseAmount currencyID="DKK">1500.00</cbc:BaseAmount>"#;
    let line_amount = r#"<cbc:Amount currencyID="DKK">100.00</cbc:Amount>"#;
    let line_base = r#"<cbc:BaseAmount currencyID="DKK">1000.00</cbc:BaseAmount>"#;
    let cases = [
        // /ubl:Invoice/cac:AllowanceCharge[cbc:ChargeIndicator = false()]: …(cbc:Amount…)<=2, …(cbc:BaseAmount…)<=2
        (doc_amount, 1, "BR-DEC-01"),
        (doc_base, 1, "BR-DEC-02"),
        // The same on [cbc:ChargeIndicator = true()].
        (doc_amount, 2, "BR-DEC-05"),
        (doc_base, 2, "BR-DEC-06"),
        // //cac:InvoiceLine/cac:AllowanceCharge, allowance then charge.
        (line_amount, 1, "BR-DEC-24"),
        (line_base, 1, "BR-DEC-25"),
        (line_amount, 2, "BR-DEC-27"),
        (line_base, 2, "BR-DEC-28"),
    ];
    for (from, nth, rule) in cases {
        let to = from.replacen(".00<", ".000<", 1);
        assert_eq!(fatal(&mutated(from, 2, nth, &to)), [rule, "UBL-DT-01"], "{rule}: {to}");
    }
}

#[test]
fn seller_endpoint_without_scheme() {
    // cac:AccountingSupplierParty/cac:Party/cbc:EndpointID: exists(@schemeID).
    let xml = mutated(
        r#"<cbc:EndpointID schemeID="EM">info@selco.nl"#,
        1,
        1,
        "<cbc:EndpointID>info@selco.nl",
    );
    assert_eq!(fatal(&xml), ["BR-62"]);
}

#[test]
fn identifier_schemes_outside_iso_6523() {
    // cac:PartyIdentification/cbc:ID[@schemeID]: the scheme is an ICD code (or SEPA, for the seller and
    // payee only).
    let xml = mutated(
        r#"<cbc:ID schemeID="0088">5790000436101"#,
        1,
        1,
        r#"<cbc:ID schemeID="9999X">5790000436101"#,
    );
    assert_eq!(fatal(&xml), ["BR-CL-10"]);
    let xml = mutated(
        r#"<cbc:ID schemeID="0088">5790000436101"#,
        1,
        1,
        r#"<cbc:ID schemeID="SEPA">5790000436101"#,
    );
    assert_eq!(fatal(&xml), Vec::<&str>::new(), "SEPA is allowed for the seller");
    // cac:DeliveryLocation/cbc:ID[@schemeID]: an ICD code.
    let xml = mutated(
        "<cbc:ID>5790000436068</cbc:ID>",
        1,
        1,
        r#"<cbc:ID schemeID="XX99">5790000436068</cbc:ID>"#,
    );
    assert_eq!(fatal(&xml), ["BR-CL-26"]);
}

#[test]
fn tax_point_date_and_period_description_code_together() {
    // /ubl:Invoice: not both cbc:TaxPointDate and cac:InvoicePeriod/cbc:DescriptionCode.
    let xml = mutated(
        "<cbc:EndDate>2013-04-10</cbc:EndDate>\n    </cac:InvoicePeriod>",
        1,
        1,
        "<cbc:EndDate>2013-04-10</cbc:EndDate>\n<cbc:DescriptionCode>35</cbc:DescriptionCode>\n    </cac:InvoicePeriod>",
    );
    assert_eq!(fatal(&xml), Vec::<&str>::new(), "the description code alone is fine");
    let xml = xml.replacen(
        "<cbc:DocumentCurrencyCode>",
        "<cbc:TaxPointDate>2013-04-10</cbc:TaxPointDate>\n<cbc:DocumentCurrencyCode>",
        1,
    );
    assert_eq!(fatal(&xml), ["BR-CO-03"]);
}

mod cii {
    use super::*;

    fn example() -> String {
        read("cii/examples/CII_example5.xml")
    }

    fn mutated(from: &str, count: usize, nth: usize, to: &str) -> String {
        replace_nth(&example(), from, count, nth, to)
    }

    #[test]
    fn the_example_is_valid_as_it_stands() {
        assert_eq!(fatal(&example()), Vec::<&str>::new());
    }

    #[test]
    fn three_decimals_on_allowances_and_charges() {
        // …/ram:SpecifiedTradeAllowanceCharge/ram:ChargeIndicator[udt:Indicator='false'|'true']:
        // string-length(substring-after(../ram:ActualAmount[1] | ../ram:BasisAmount,'.'))<=2, in the header
        // settlement (BR-DEC-01/02/05/06) and in the line settlement (BR-DEC-24/25/27/28).
        let cases = [
            ("<ram:ActualAmount>150</ram:ActualAmount>", 2, 1, "BR-DEC-01"),
            ("<ram:BasisAmount>1500</ram:BasisAmount>", 3, 2, "BR-DEC-02"),
            ("<ram:ActualAmount>150</ram:ActualAmount>", 2, 2, "BR-DEC-05"),
            ("<ram:BasisAmount>1500</ram:BasisAmount>", 3, 3, "BR-DEC-06"),
            ("<ram:ActualAmount>100</ram:ActualAmount>", 2, 1, "BR-DEC-24"),
            ("<ram:BasisAmount>1000</ram:BasisAmount>", 2, 1, "BR-DEC-25"),
            ("<ram:ActualAmount>100</ram:ActualAmount>", 2, 2, "BR-DEC-27"),
            ("<ram:BasisAmount>1000</ram:BasisAmount>", 2, 2, "BR-DEC-28"),
        ];
        for (from, count, nth, rule) in cases {
            let to = from.replacen("</", ".000</", 1);
            assert_eq!(fatal(&mutated(from, count, nth, &to)), [rule], "{rule}: {to}");
        }
    }

    #[test]
    fn seller_electronic_address_without_scheme() {
        // normalize-space(…/ram:SellerTradeParty/ram:URIUniversalCommunication[1]/ram:URIID/@schemeID) != ''
        let xml = mutated(
            r#"<ram:URIID schemeID="EM">info@selco.nl</ram:URIID>"#,
            1,
            1,
            "<ram:URIID>info@selco.nl</ram:URIID>",
        );
        assert_eq!(fatal(&xml), ["BR-62"]);
    }

    #[test]
    fn global_identifier_schemes_outside_iso_6523() {
        // //ram:GlobalID[@schemeID][not(ancestor::ram:SpecifiedTradeProduct) and not(ancestor::ram:ShipToTradeParty)]
        let xml = mutated(
            r#"<ram:GlobalID schemeID="0088">5790000436101</ram:GlobalID>"#,
            1,
            1,
            r#"<ram:GlobalID schemeID="9999X">5790000436101</ram:GlobalID>"#,
        );
        assert_eq!(fatal(&xml), ["BR-CL-10"]);
        // ram:ApplicableHeaderTradeDelivery/ram:ShipToTradeParty/ram:GlobalID[@schemeID]
        let xml = mutated(
            r#"<ram:GlobalID schemeID="0088">5790000436068</ram:GlobalID>"#,
            1,
            1,
            r#"<ram:GlobalID schemeID="XX99">5790000436068</ram:GlobalID>"#,
        );
        assert_eq!(fatal(&xml), ["BR-CL-26"]);
    }

    #[test]
    fn allowance_and_charge_without_reason() {
        // …/ram:ChargeIndicator[udt:Indicator='false'|'true']: (../ram:Reason) or (../ram:ReasonCode), on a
        // line (BR-42, BR-44) and on the document (BR-33, BR-38). The CII artefact tests the same twice in
        // the same rule, under BR-CO-23/24 and BR-CO-21/22. The line's come first in the document.
        let cases = [
            ("95", "Loyal customer", 1, ["BR-42", "BR-CO-23"]),
            ("ABL", "Packaging", 1, ["BR-44", "BR-CO-24"]),
            ("95", "Loyal customer", 2, ["BR-33", "BR-CO-21"]),
            ("ABL", "Packaging", 2, ["BR-38", "BR-CO-22"]),
        ];
        for (code, reason, nth, rules) in cases {
            let xml = replace_nth(
                &example(),
                &format!("<ram:ReasonCode>{code}</ram:ReasonCode>"),
                2,
                nth,
                "",
            );
            let xml = replace_nth(&xml, &format!("<ram:Reason>{reason}</ram:Reason>"), 2, nth, "");
            assert_eq!(fatal(&xml), rules, "{rules:?}");
        }
    }

    #[test]
    fn line_level_terms() {
        // //ram:ApplicableProductCharacteristic: (ram:Description) and (ram:Value); and the syntax binding
        // CII-SR-072: count(ram:Value) = 1.
        assert_eq!(
            fatal(&mutated("<ram:Value>2 mm</ram:Value>", 1, 1, "")),
            ["BR-54", "CII-SR-072"]
        );
        // //ram:SpecifiedLineTradeSettlement/ram:BillingSpecifiedPeriod: end >= start (the first line's
        // period is 20130310–20130310).
        let xml = mutated("20130310</udt:DateTimeString>", 5, 2, "20130309</udt:DateTimeString>");
        assert_eq!(fatal(&xml), ["BR-30"]);
        // //ram:IncludedSupplyChainTradeLineItem: normalize-space(ram:SpecifiedTradeProduct/ram:GlobalID/@schemeID) != ''
        // or not(ram:SpecifiedTradeProduct/ram:GlobalID); and the syntax binding CII-SR-046:
        // not(ram:GlobalID) or (ram:GlobalID/@schemeID).
        let xml = mutated(
            r#"<ram:GlobalID schemeID="0088">1234567890128</ram:GlobalID>"#,
            1,
            1,
            "<ram:GlobalID>1234567890128</ram:GlobalID>",
        );
        assert_eq!(fatal(&xml), ["BR-64", "CII-SR-046"]);
    }

    #[test]
    fn document_level_terms() {
        // //ram:AdditionalReferencedDocument: normalize-space(ram:IssuerAssignedID) != ''
        let xml = mutated(
            "<ram:IssuerAssignedID>Lot567</ram:IssuerAssignedID>",
            1,
            1,
            "<ram:IssuerAssignedID> </ram:IssuerAssignedID>",
        );
        assert_eq!(fatal(&xml), ["BR-52"]);
        // normalize-space(…/ram:BuyerTradeParty/ram:URIUniversalCommunication[1]/ram:URIID/@schemeID) != ''
        let xml = mutated(
            r#"<ram:URIID schemeID="EM">info@buyercompany.dk</ram:URIID>"#,
            1,
            1,
            "<ram:URIID>info@buyercompany.dk</ram:URIID>",
        );
        assert_eq!(fatal(&xml), ["BR-63"]);
        // //ram:SpecifiedTradeSettlementPaymentMeans: (ram:TypeCode)
        assert_eq!(fatal(&mutated("<ram:TypeCode>58</ram:TypeCode>", 2, 2, "")), ["BR-49"]);
    }

    #[test]
    fn standard_rate_vat() {
        // //ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode[.='S']:
        // not(../ram:ExemptionReason) and not(../ram:ExemptionReasonCode)
        // (ExemptionReason goes where the schema puts it, between TypeCode and BasisAmount.)
        let xml = mutated(
            "<ram:TypeCode>VAT</ram:TypeCode>\n                <ram:BasisAmount>1500</ram:BasisAmount>\n                <ram:CategoryCode>S</ram:CategoryCode>\n                <ram:TaxPointDate>",
            1,
            1,
            "<ram:TypeCode>VAT</ram:TypeCode>\n<ram:ExemptionReason>Exempt</ram:ExemptionReason>\n                <ram:BasisAmount>1500</ram:BasisAmount>\n                <ram:CategoryCode>S</ram:CategoryCode>\n                <ram:TaxPointDate>",
        );
        assert_eq!(fatal(&xml), ["BR-S-10"]);
        // //ram:SpecifiedTradeAllowanceCharge[…false() | true()]/ram:CategoryTradeTax[ram:CategoryCode = 'S']:
        // ram:RateApplicablePercent > 0 (BR-S-06 for the document allowance, BR-S-07 for the charge, the 4th
        // and 5th of the 25 % rates). The allowance and the charge (150 each) leave the 25 % group, whose
        // basis (1500 in the breakdown) no longer adds up, so BR-S-08 comes with them.
        let rate = "<ram:RateApplicablePercent>25</ram:RateApplicablePercent>";
        let zero = "<ram:RateApplicablePercent>0</ram:RateApplicablePercent>";
        assert_eq!(fatal(&mutated(rate, 5, 4, zero)), ["BR-S-06", "BR-S-08"]);
        assert_eq!(fatal(&mutated(rate, 5, 5, zero)), ["BR-S-07", "BR-S-08"]);
    }
}
