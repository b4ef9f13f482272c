//! Behaviour of the core rules on small hand-made UBL and CII documents read through the real readers.

use crate::validate::{Finding, Findings, Severity, Syntax, core, meta};

/// Findings of the core rules on `xml`.
fn findings(xml: &str) -> Vec<Finding> {
    let (syntax, draft) = crate::xml::read_xml(xml.as_bytes()).expect("readable document");
    let mut out = Findings::new(syntax);
    core::check(&draft, &mut out);
    out.into_items()
}

fn ids(xml: &str) -> Vec<&'static str> {
    let mut v: Vec<_> = findings(xml).iter().map(|f| f.rule).collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn one(xml: &str, rule: &str) -> Finding {
    let f: Vec<Finding> = findings(xml).into_iter().filter(|f| f.rule == rule).collect();
    assert_eq!(f.len(), 1, "{rule} once in {f:?}");
    f.into_iter().next().expect("one finding")
}

const UBL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>
  <cbc:ID>F-1</cbc:ID>
  <cbc:IssueDate>2026-01-31</cbc:IssueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cac:AccountingSupplierParty><cac:Party>
    <cbc:EndpointID schemeID="0009">12345678200011</cbc:EndpointID>
    <cac:PostalAddress><cac:Country><cbc:IdentificationCode>FR</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyLegalEntity><cbc:RegistrationName>Vendeur SA</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party>
    <cac:PostalAddress><cac:Country><cbc:IdentificationCode>FR</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyLegalEntity><cbc:RegistrationName>Acheteur SARL</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingCustomerParty>
  <cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>
    <cac:PayeeFinancialAccount><cbc:ID>FR7630006000011234567890189</cbc:ID></cac:PayeeFinancialAccount>
  </cac:PaymentMeans>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">100.00</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">100.00</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">120.00</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="EUR">120.00</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:InvoiceLine>
    <cbc:ID>1</cbc:ID>
    <cbc:InvoicedQuantity unitCode="C62">1</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">100.00</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>Conseil</cbc:Name></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">100.00</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>
</Invoice>"#;

const CII: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100" xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
  <rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>urn:cen.eu:en16931:2017</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument>
    <ram:ID>F-1</ram:ID>
    <ram:TypeCode>380</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">20260131</udt:DateTimeString></ram:IssueDateTime>
  </rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedTradeProduct><ram:Name>Conseil</ram:Name></ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>100.00</ram:ChargeAmount></ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>
      <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">1</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>
      <ram:SpecifiedLineTradeSettlement><ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>100.00</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation></ram:SpecifiedLineTradeSettlement>
    </ram:IncludedSupplyChainTradeLineItem>
    <ram:ApplicableHeaderTradeAgreement>
      <ram:SellerTradeParty><ram:Name>Vendeur SA</ram:Name>
        <ram:PostalTradeAddress><ram:CountryID>FR</ram:CountryID></ram:PostalTradeAddress>
        <ram:URIUniversalCommunication><ram:URIID schemeID="0009">12345678200011</ram:URIID></ram:URIUniversalCommunication>
      </ram:SellerTradeParty>
      <ram:BuyerTradeParty><ram:Name>Acheteur SARL</ram:Name>
        <ram:PostalTradeAddress><ram:CountryID>FR</ram:CountryID></ram:PostalTradeAddress>
      </ram:BuyerTradeParty>
    </ram:ApplicableHeaderTradeAgreement>
    <ram:ApplicableHeaderTradeDelivery/>
    <ram:ApplicableHeaderTradeSettlement>
      <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
      <ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>30</ram:TypeCode>
        <ram:PayeePartyCreditorFinancialAccount><ram:IBANID>FR7630006000011234567890189</ram:IBANID></ram:PayeePartyCreditorFinancialAccount>
      </ram:SpecifiedTradeSettlementPaymentMeans>
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
        <ram:LineTotalAmount>100.00</ram:LineTotalAmount>
        <ram:TaxBasisTotalAmount>100.00</ram:TaxBasisTotalAmount>
        <ram:GrandTotalAmount>120.00</ram:GrandTotalAmount>
        <ram:DuePayableAmount>120.00</ram:DuePayableAmount>
      </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    </ram:ApplicableHeaderTradeSettlement>
  </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>"#;

fn edit(base: &str, from: &str, to: &str) -> String {
    assert!(base.contains(from), "fragment {from:?} not in the base document");
    base.replacen(from, to, 1)
}

#[test]
fn complete_documents_fire_nothing() {
    assert_eq!(ids(UBL), Vec::<&str>::new());
    assert_eq!(ids(CII), Vec::<&str>::new());
}

#[test]
fn missing_invoice_number_names_the_term_and_the_element() {
    let f = one(&edit(UBL, "<cbc:ID>F-1</cbc:ID>", ""), "BR-02");
    assert_eq!((f.path.as_str(), f.line), ("/ubl:Invoice", 2));
    assert_eq!(f.message_en, "BT-1 Invoice number is missing: add cbc:ID.");
    assert!(f.message_fr.contains("BT-1 Numéro de facture"), "{}", f.message_fr);
    assert_eq!(f.terms, &["BT-1"][..]);

    let f = one(&edit(CII, "<ram:ID>F-1</ram:ID>", "<ram:ID> </ram:ID>"), "BR-02");
    assert!(f.path.ends_with("rsm:ExchangedDocument[1]/ram:ID[1]"), "{}", f.path);
    assert!(f.message_en.contains("is empty"), "{}", f.message_en);
}

#[test]
fn country_code_without_address_differs_between_syntaxes() {
    let no_address = |xml: &str, from: &str| edit(xml, from, "");
    let ubl = no_address(
        UBL,
        "<cac:PostalAddress><cac:Country><cbc:IdentificationCode>FR</cbc:IdentificationCode></cac:Country></cac:PostalAddress>",
    );
    assert_eq!(ids(&ubl), vec!["BR-08"]);
    let cii = no_address(
        CII,
        "<ram:PostalTradeAddress><ram:CountryID>FR</ram:CountryID></ram:PostalTradeAddress>",
    );
    assert_eq!(ids(&cii), vec!["BR-08", "BR-09"]);
}

#[test]
fn card_number_is_a_warning_in_ubl_and_fatal_in_cii() {
    let ubl = edit(
        UBL,
        "</cac:PaymentMeans>",
        "<cac:CardAccount><cbc:PrimaryAccountNumberID>123456789012</cbc:PrimaryAccountNumberID></cac:CardAccount></cac:PaymentMeans>",
    );
    let f = one(&ubl, "BR-51");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.path.ends_with("cbc:PrimaryAccountNumberID[1]"), "{}", f.path);
    let cii = edit(
        CII,
        "</ram:SpecifiedTradeSettlementPaymentMeans>",
        "<ram:ApplicableTradeSettlementFinancialCard><ram:ID>123456789012</ram:ID></ram:ApplicableTradeSettlementFinancialCard></ram:SpecifiedTradeSettlementPaymentMeans>",
    );
    assert_eq!(one(&cii, "BR-51").severity, Severity::Fatal);
    let short = edit(
        CII,
        "<ram:TypeCode>30</ram:TypeCode>",
        "<ram:TypeCode>48</ram:TypeCode><ram:ApplicableTradeSettlementFinancialCard><ram:ID>9012</ram:ID></ram:ApplicableTradeSettlementFinancialCard>",
    );
    assert_eq!(ids(&short), Vec::<&str>::new());
}

#[test]
fn credit_transfer_without_account() {
    let ubl = edit(
        UBL,
        "<cac:PayeeFinancialAccount><cbc:ID>FR7630006000011234567890189</cbc:ID></cac:PayeeFinancialAccount>",
        "",
    );
    assert_eq!(ids(&ubl), vec!["BR-61"]);
    // CII: no account at all is CII-SR-470 (a tree rule), not BR-61; an empty account fires BR-50 and BR-61.
    let none = edit(
        CII,
        "<ram:PayeePartyCreditorFinancialAccount><ram:IBANID>FR7630006000011234567890189</ram:IBANID></ram:PayeePartyCreditorFinancialAccount>",
        "",
    );
    assert_eq!(ids(&none), Vec::<&str>::new());
    let empty = edit(
        CII,
        "<ram:IBANID>FR7630006000011234567890189</ram:IBANID>",
        "<ram:AccountName>Vendeur</ram:AccountName>",
    );
    assert_eq!(ids(&empty), vec!["BR-50", "BR-61"]);
}

#[test]
fn negative_net_price_points_at_the_price() {
    let ubl = edit(UBL, ">100.00</cbc:PriceAmount>", ">-1</cbc:PriceAmount>");
    let f = one(&ubl, "BR-27");
    assert!(f.path.ends_with("cac:Price[1]/cbc:PriceAmount[1]"), "{}", f.path);
    assert!(f.message_en.starts_with("BT-146 Item net price"), "{}", f.message_en);
    let cii = edit(
        CII,
        "<ram:ChargeAmount>100.00</ram:ChargeAmount>",
        "<ram:ChargeAmount>-1</ram:ChargeAmount>",
    );
    assert_eq!(ids(&cii), vec!["BR-27"]);
}

#[test]
fn line_of_the_other_kind_and_missing_lines() {
    let credit = UBL
        .replace(
            "<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\"",
            "<CreditNote xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2\"",
        )
        .replace("</Invoice>", "</CreditNote>")
        .replace("cbc:InvoiceTypeCode>380<", "cbc:CreditNoteTypeCode>381<")
        .replace("</cbc:InvoiceTypeCode>", "</cbc:CreditNoteTypeCode>");
    // An `InvoiceLine` in a credit note is still a line (no BR-16), with its quantity.
    assert_eq!(ids(&credit), Vec::<&str>::new());
    let start = CII.find("<ram:IncludedSupplyChainTradeLineItem>").expect("line");
    let end = CII.find("<ram:ApplicableHeaderTradeAgreement>").expect("agreement");
    let no_lines = format!("{}{}", &CII[..start], &CII[end..]);
    let f = one(&no_lines, "BR-16");
    assert_eq!(f.path, "/rsm:CrossIndustryInvoice");
    assert_eq!(f.severity, Severity::Fatal);
}

#[test]
fn cii_period_dates_need_both_strings_in_format_102() {
    let period = |end: &str| {
        edit(
            CII,
            "<ram:SpecifiedLineTradeSettlement>",
            &format!(
                "<ram:SpecifiedLineTradeSettlement><ram:BillingSpecifiedPeriod><ram:StartDateTime><udt:DateTimeString format=\"102\">20260101</udt:DateTimeString></ram:StartDateTime><ram:EndDateTime>{end}</ram:EndDateTime></ram:BillingSpecifiedPeriod>"
            ),
        )
    };
    assert_eq!(
        ids(&period(
            "<udt:DateTimeString format=\"102\">20260131</udt:DateTimeString>"
        )),
        Vec::<&str>::new()
    );
    assert_eq!(
        ids(&period(
            "<udt:DateTimeString format=\"102\">20251231</udt:DateTimeString>"
        )),
        vec!["BR-30"]
    );
    // An end date element without its date string cannot be compared: the rule fails.
    assert_eq!(ids(&period("")), vec!["BR-30"]);
}

#[test]
fn scheme_of_every_repeated_item_identifier_is_checked() {
    let two_items = edit(
        UBL,
        "<cac:Item><cbc:Name>Conseil</cbc:Name></cac:Item>",
        "<cac:Item><cbc:Name>Conseil</cbc:Name><cac:StandardItemIdentification><cbc:ID schemeID=\"0160\">1</cbc:ID></cac:StandardItemIdentification></cac:Item>\
         <cac:Item><cac:StandardItemIdentification><cbc:ID>2</cbc:ID></cac:StandardItemIdentification></cac:Item>",
    );
    let f = one(&two_items, "BR-64");
    assert!(f.path.contains("cac:Item[2]"), "{}", f.path);
}

#[test]
fn cii_electronic_address_group_and_accounting_currency() {
    let empty_uri = edit(
        CII,
        "<ram:URIUniversalCommunication><ram:URIID schemeID=\"0009\">12345678200011</ram:URIID></ram:URIUniversalCommunication>",
        "<ram:URIUniversalCommunication/>",
    );
    assert_eq!(ids(&empty_uri), vec!["BR-62"]);
    // BT-6 equal to BT-5 is refused in CII, even with a matching VAT total.
    let same_currency = edit(
        CII,
        "<ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>",
        "<ram:TaxCurrencyCode>EUR</ram:TaxCurrencyCode><ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>",
    );
    let same_currency = edit(
        &same_currency,
        "<ram:GrandTotalAmount>",
        "<ram:TaxTotalAmount currencyID=\"EUR\">20.00</ram:TaxTotalAmount><ram:GrandTotalAmount>",
    );
    assert_eq!(ids(&same_currency), vec!["BR-53"]);
}

#[test]
fn every_term_matches_the_rule_data() {
    for (i, t) in core::TERMS.iter().enumerate() {
        assert!(core::TERMS[..i].iter().all(|u| u.rule != t.rule), "{} twice", t.rule);
        let first = t.term.split('/').next().unwrap_or_default();
        let cited = [Syntax::Ubl, Syntax::Cii]
            .iter()
            .filter_map(|s| meta::lookup(*s, t.rule))
            .any(|(_, terms)| terms.contains(&first));
        assert!(cited, "{}: {first} is not cited by the rule data", t.rule);
    }
}

#[test]
fn ubl_line_level_groups_are_checked_where_the_schema_allows_them() {
    let xml = edit(
        UBL,
        "<cac:Item><cbc:Name>Conseil</cbc:Name></cac:Item>",
        "<cac:BillingReference><cac:AdditionalDocumentReference><cbc:ID>x</cbc:ID></cac:AdditionalDocumentReference></cac:BillingReference>\
         <cac:Delivery><cac:DeliveryLocation><cac:Address><cbc:CityName>Lyon</cbc:CityName></cac:Address></cac:DeliveryLocation></cac:Delivery>\
         <cac:TaxTotal><cbc:TaxAmount currencyID=\"EUR\">20.00</cbc:TaxAmount><cac:TaxSubtotal><cbc:TaxAmount currencyID=\"EUR\">20.00</cbc:TaxAmount></cac:TaxSubtotal></cac:TaxTotal>\
         <cac:Item><cbc:Name>Conseil</cbc:Name></cac:Item>",
    );
    assert_eq!(ids(&xml), vec!["BR-45", "BR-47", "BR-48", "BR-55", "BR-57"]);
    assert!(one(&xml, "BR-57").path.contains("cac:InvoiceLine[1]/cac:Delivery[1]"));
}
