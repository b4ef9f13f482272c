//! Strict model → CII D16B, elements in the schema's sequence order.

use rust_decimal::Decimal;

use crate::model::*;
use crate::xml::{self, XmlOut};

/// Writes an invoice (or credit note: same root, BT-3 tells) as `rsm:CrossIndustryInvoice`.
pub fn write(inv: &Invoice) -> String {
    let mut w = W { o: XmlOut::new() };
    w.invoice(inv);
    w.o.finish()
}

struct W {
    o: XmlOut,
}

fn s(d: &Decimal) -> String {
    d.to_string()
}

impl W {
    fn date(&mut self, wrapper: &str, d: &Date) {
        self.o.open(wrapper, &[]);
        self.o
            .leaf_attrs("udt:DateTimeString", &[("format", "102")], &d.to_102());
        self.o.close(wrapper);
    }

    fn opt_dec(&mut self, name: &str, v: Option<&Decimal>) {
        self.o.opt(name, v.map(s).as_deref());
    }

    fn ident(&mut self, name: &str, id: &Identifier) {
        match &id.scheme {
            Some(sc) => self.o.leaf_attrs(name, &[("schemeID", sc.as_str())], &id.value),
            None => self.o.leaf(name, &id.value),
        }
    }

    /// Party identifiers: without a scheme in `ram:ID`, with one in `ram:GlobalID`.
    fn party_ids(&mut self, ids: &[&Identifier]) {
        for id in ids.iter().filter(|i| i.scheme.is_none()) {
            self.o.leaf("ram:ID", &id.value);
        }
        for id in ids.iter().filter(|i| i.scheme.is_some()) {
            self.ident("ram:GlobalID", id);
        }
    }

    fn referenced(&mut self, wrapper: &str, id: Option<&str>) {
        if let Some(id) = id {
            self.o.open(wrapper, &[]);
            self.o.leaf("ram:IssuerAssignedID", id);
            self.o.close(wrapper);
        }
    }

    fn invoice(&mut self, inv: &Invoice) {
        self.o.open(
            "rsm:CrossIndustryInvoice",
            &[
                ("xmlns:rsm", xml::NS_RSM),
                ("xmlns:ram", xml::NS_RAM),
                ("xmlns:udt", xml::NS_UDT),
                ("xmlns:qdt", xml::NS_QDT),
            ],
        );
        self.o.open("rsm:ExchangedDocumentContext", &[]);
        if let Some(bp) = &inv.business_process {
            self.o.open("ram:BusinessProcessSpecifiedDocumentContextParameter", &[]);
            self.o.leaf("ram:ID", bp);
            self.o.close("ram:BusinessProcessSpecifiedDocumentContextParameter");
        }
        self.o.open("ram:GuidelineSpecifiedDocumentContextParameter", &[]);
        self.o.leaf("ram:ID", &inv.specification);
        self.o.close("ram:GuidelineSpecifiedDocumentContextParameter");
        self.o.close("rsm:ExchangedDocumentContext");

        self.o.open("rsm:ExchangedDocument", &[]);
        self.o.leaf("ram:ID", &inv.number);
        self.o.leaf("ram:TypeCode", inv.type_code.as_str());
        self.date("ram:IssueDateTime", &inv.issue_date);
        for n in &inv.notes {
            self.o.open("ram:IncludedNote", &[]);
            self.o.leaf("ram:Content", &n.text);
            self.o.opt("ram:SubjectCode", n.subject_code.as_ref().map(Code::as_str));
            self.o.close("ram:IncludedNote");
        }
        self.o.close("rsm:ExchangedDocument");

        self.o.open("rsm:SupplyChainTradeTransaction", &[]);
        for l in &inv.lines {
            self.line(l);
        }
        self.agreement(inv);
        self.delivery(inv);
        self.settlement(inv);
        self.o.close("rsm:SupplyChainTradeTransaction");
        self.o.close("rsm:CrossIndustryInvoice");
    }

    fn address(&mut self, a: &Address) {
        self.o.open("ram:PostalTradeAddress", &[]);
        self.o.opt("ram:PostcodeCode", a.post_code.as_deref());
        self.o.opt("ram:LineOne", a.line1.as_deref());
        self.o.opt("ram:LineTwo", a.line2.as_deref());
        self.o.opt("ram:LineThree", a.line3.as_deref());
        self.o.opt("ram:CityName", a.city.as_deref());
        self.o.leaf("ram:CountryID", a.country.as_str());
        self.o.opt("ram:CountrySubDivisionName", a.subdivision.as_deref());
        self.o.close("ram:PostalTradeAddress");
    }

    fn legal_org(&mut self, id: Option<&Identifier>, trading_name: Option<&str>) {
        if id.is_some() || trading_name.is_some() {
            self.o.open("ram:SpecifiedLegalOrganization", &[]);
            if let Some(id) = id {
                self.ident("ram:ID", id);
            }
            self.o.opt("ram:TradingBusinessName", trading_name);
            self.o.close("ram:SpecifiedLegalOrganization");
        }
    }

    fn contact(&mut self, c: &Contact) {
        self.o.open("ram:DefinedTradeContact", &[]);
        self.o.opt("ram:PersonName", c.point.as_deref());
        if let Some(t) = &c.telephone {
            self.o.open("ram:TelephoneUniversalCommunication", &[]);
            self.o.leaf("ram:CompleteNumber", t);
            self.o.close("ram:TelephoneUniversalCommunication");
        }
        if let Some(e) = &c.email {
            self.o.open("ram:EmailURIUniversalCommunication", &[]);
            self.o.leaf("ram:URIID", e);
            self.o.close("ram:EmailURIUniversalCommunication");
        }
        self.o.close("ram:DefinedTradeContact");
    }

    fn uri(&mut self, e: Option<&Identifier>) {
        if let Some(e) = e {
            self.o.open("ram:URIUniversalCommunication", &[]);
            self.ident("ram:URIID", e);
            self.o.close("ram:URIUniversalCommunication");
        }
    }

    fn tax_reg(&mut self, id: Option<&str>, scheme: &str) {
        if let Some(id) = id {
            self.o.open("ram:SpecifiedTaxRegistration", &[]);
            self.o.leaf_attrs("ram:ID", &[("schemeID", scheme)], id);
            self.o.close("ram:SpecifiedTaxRegistration");
        }
    }

    fn agreement(&mut self, inv: &Invoice) {
        self.o.open("ram:ApplicableHeaderTradeAgreement", &[]);
        self.o.opt("ram:BuyerReference", inv.buyer_reference.as_deref());

        let p = &inv.seller;
        self.o.open("ram:SellerTradeParty", &[]);
        self.party_ids(&p.identifiers.iter().collect::<Vec<_>>());
        self.o.leaf("ram:Name", &p.name);
        self.o.opt("ram:Description", p.additional_legal_info.as_deref());
        self.legal_org(p.legal_registration.as_ref(), p.trading_name.as_deref());
        if let Some(c) = &p.contact {
            self.contact(c);
        }
        self.address(&p.address);
        self.uri(p.electronic_address.as_ref());
        self.tax_reg(p.vat_id.as_deref(), "VA");
        self.tax_reg(p.tax_registration_id.as_deref(), "FC");
        self.o.close("ram:SellerTradeParty");

        let b = &inv.buyer;
        self.o.open("ram:BuyerTradeParty", &[]);
        self.party_ids(&b.identifier.iter().collect::<Vec<_>>());
        self.o.leaf("ram:Name", &b.name);
        self.legal_org(b.legal_registration.as_ref(), b.trading_name.as_deref());
        if let Some(c) = &b.contact {
            self.contact(c);
        }
        self.address(&b.address);
        self.uri(b.electronic_address.as_ref());
        self.tax_reg(b.vat_id.as_deref(), "VA");
        self.o.close("ram:BuyerTradeParty");

        if let Some(t) = &inv.tax_representative {
            self.o.open("ram:SellerTaxRepresentativeTradeParty", &[]);
            self.o.leaf("ram:Name", &t.name);
            self.address(&t.address);
            self.tax_reg(Some(&t.vat_id), "VA");
            self.o.close("ram:SellerTaxRepresentativeTradeParty");
        }
        self.referenced(
            "ram:SellerOrderReferencedDocument",
            inv.sales_order_reference.as_deref(),
        );
        self.referenced(
            "ram:BuyerOrderReferencedDocument",
            inv.purchase_order_reference.as_deref(),
        );
        self.referenced("ram:ContractReferencedDocument", inv.contract_reference.as_deref());
        for a in &inv.additional_documents {
            self.o.open("ram:AdditionalReferencedDocument", &[]);
            self.o.leaf("ram:IssuerAssignedID", &a.reference);
            self.o.opt("ram:URIID", a.external_uri.as_deref());
            self.o.leaf("ram:TypeCode", "916");
            self.o.opt("ram:Name", a.description.as_deref());
            if let Some(at) = &a.attachment {
                self.o.leaf_attrs(
                    "ram:AttachmentBinaryObject",
                    &[("mimeCode", at.mime_code.as_str()), ("filename", at.filename.as_str())],
                    &at.content_base64,
                );
            }
            self.o.close("ram:AdditionalReferencedDocument");
        }
        if let Some(t) = &inv.tender_reference {
            self.o.open("ram:AdditionalReferencedDocument", &[]);
            self.o.leaf("ram:IssuerAssignedID", t);
            self.o.leaf("ram:TypeCode", "50");
            self.o.close("ram:AdditionalReferencedDocument");
        }
        if let Some(obj) = &inv.invoiced_object {
            self.o.open("ram:AdditionalReferencedDocument", &[]);
            self.o.leaf("ram:IssuerAssignedID", &obj.value);
            self.o.leaf("ram:TypeCode", "130");
            self.o
                .opt("ram:ReferenceTypeCode", obj.scheme.as_ref().map(Code::as_str));
            self.o.close("ram:AdditionalReferencedDocument");
        }
        if let Some(p) = &inv.project_reference {
            self.o.open("ram:SpecifiedProcuringProject", &[]);
            self.o.leaf("ram:ID", p);
            // Name is mandatory in CII and has no EN 16931 term of its own.
            self.o.leaf("ram:Name", "Project reference");
            self.o.close("ram:SpecifiedProcuringProject");
        }
        self.o.close("ram:ApplicableHeaderTradeAgreement");
    }

    fn delivery(&mut self, inv: &Invoice) {
        self.o.open("ram:ApplicableHeaderTradeDelivery", &[]);
        if let Some(d) = &inv.delivery {
            if d.location_id.is_some() || d.party_name.is_some() || d.address.is_some() {
                self.o.open("ram:ShipToTradeParty", &[]);
                if let Some(id) = &d.location_id {
                    if id.scheme.is_some() {
                        self.ident("ram:GlobalID", id);
                    } else {
                        self.o.leaf("ram:ID", &id.value);
                    }
                }
                self.o.opt("ram:Name", d.party_name.as_deref());
                if let Some(a) = &d.address {
                    self.address(a);
                }
                self.o.close("ram:ShipToTradeParty");
            }
            if let Some(dt) = &d.actual_date {
                self.o.open("ram:ActualDeliverySupplyChainEvent", &[]);
                self.date("ram:OccurrenceDateTime", dt);
                self.o.close("ram:ActualDeliverySupplyChainEvent");
            }
        }
        self.referenced(
            "ram:DespatchAdviceReferencedDocument",
            inv.despatch_advice_reference.as_deref(),
        );
        self.referenced(
            "ram:ReceivingAdviceReferencedDocument",
            inv.receiving_advice_reference.as_deref(),
        );
        self.o.close("ram:ApplicableHeaderTradeDelivery");
    }

    fn settlement(&mut self, inv: &Invoice) {
        let cur = inv.currency.as_str();
        let pay = inv.payment.as_ref();
        let dd = pay.and_then(|p| p.direct_debit.as_ref());
        // CII requires BT-6 to differ from BT-5 (BR-53 fails on an equal one, which says nothing more).
        let vat_currency = inv.vat_currency.as_ref().filter(|c| c.as_str() != cur);
        self.o.open("ram:ApplicableHeaderTradeSettlement", &[]);
        self.o
            .opt("ram:CreditorReferenceID", dd.and_then(|d| d.creditor_id.as_deref()));
        self.o
            .opt("ram:PaymentReference", pay.and_then(|p| p.remittance.as_deref()));
        self.o
            .opt("ram:TaxCurrencyCode", vat_currency.map(CurrencyCode::as_str));
        self.o.leaf("ram:InvoiceCurrencyCode", cur);
        if let Some(p) = &inv.payee {
            self.o.open("ram:PayeeTradeParty", &[]);
            self.party_ids(&p.identifier.iter().collect::<Vec<_>>());
            self.o.leaf("ram:Name", &p.name);
            self.legal_org(p.legal_registration.as_ref(), None);
            self.o.close("ram:PayeeTradeParty");
        }
        if let Some(p) = pay {
            // One payment means per credit transfer, as in UBL; card and debit account in the first.
            let n = p.credit_transfers.len().max(1);
            for i in 0..n {
                self.o.open("ram:SpecifiedTradeSettlementPaymentMeans", &[]);
                self.o.leaf("ram:TypeCode", p.means_code.as_str());
                self.o.opt("ram:Information", p.means_text.as_deref());
                if i == 0
                    && let Some(c) = &p.card
                {
                    self.o.open("ram:ApplicableTradeSettlementFinancialCard", &[]);
                    self.o.leaf("ram:ID", &c.primary_account_number);
                    self.o.opt("ram:CardholderName", c.holder_name.as_deref());
                    self.o.close("ram:ApplicableTradeSettlementFinancialCard");
                }
                if i == 0
                    && let Some(acc) = dd.and_then(|d| d.debited_account.as_deref())
                {
                    self.o.open("ram:PayerPartyDebtorFinancialAccount", &[]);
                    self.o.leaf("ram:IBANID", acc);
                    self.o.close("ram:PayerPartyDebtorFinancialAccount");
                }
                if let Some(t) = p.credit_transfers.get(i) {
                    self.o.open("ram:PayeePartyCreditorFinancialAccount", &[]);
                    self.o.leaf("ram:IBANID", &t.account_id);
                    self.o.opt("ram:AccountName", t.account_name.as_deref());
                    self.o.close("ram:PayeePartyCreditorFinancialAccount");
                    if let Some(bic) = &t.service_provider {
                        self.o.open("ram:PayeeSpecifiedCreditorFinancialInstitution", &[]);
                        self.o.leaf("ram:BICID", bic);
                        self.o.close("ram:PayeeSpecifiedCreditorFinancialInstitution");
                    }
                }
                self.o.close("ram:SpecifiedTradeSettlementPaymentMeans");
            }
        }
        // BT-7 may appear once (CII-SR-461): it goes on the first breakdown, as BT-8 does.
        for (i, v) in inv.vat_breakdown.iter().enumerate() {
            self.o.open("ram:ApplicableTradeTax", &[]);
            self.o.leaf("ram:CalculatedAmount", &s(&v.tax_amount));
            self.o.leaf("ram:TypeCode", "VAT");
            self.o.opt("ram:ExemptionReason", v.exemption_reason.as_deref());
            self.o.leaf("ram:BasisAmount", &s(&v.taxable_amount));
            self.o.leaf("ram:CategoryCode", v.category.code());
            self.o.opt(
                "ram:ExemptionReasonCode",
                v.exemption_reason_code.as_ref().map(Code::as_str),
            );
            if i == 0
                && let Some(d) = &inv.tax_point_date
            {
                self.o.open("ram:TaxPointDate", &[]);
                self.o.leaf_attrs("udt:DateString", &[("format", "102")], &d.to_102());
                self.o.close("ram:TaxPointDate");
            }
            if i == 0 {
                self.o
                    .opt("ram:DueDateTypeCode", inv.vat_point_date_code.map(|c| c.cii_code()));
            }
            self.opt_dec("ram:RateApplicablePercent", v.rate.as_ref());
            self.o.close("ram:ApplicableTradeTax");
        }
        if let Some(p) = &inv.invoicing_period {
            self.period(p);
        }
        for a in &inv.allowances {
            self.allowance_charge(
                false,
                a.percentage.as_ref(),
                a.base_amount.as_ref(),
                &a.amount,
                a.reason_code.as_ref(),
                a.reason.as_deref(),
                Some((a.vat_category, a.vat_rate.as_ref())),
            );
        }
        for c in &inv.charges {
            self.allowance_charge(
                true,
                c.percentage.as_ref(),
                c.base_amount.as_ref(),
                &c.amount,
                c.reason_code.as_ref(),
                c.reason.as_deref(),
                Some((c.vat_category, c.vat_rate.as_ref())),
            );
        }
        let mandate = dd.and_then(|d| d.mandate_reference.as_deref());
        if inv.payment_terms.is_some() || inv.due_date.is_some() || mandate.is_some() {
            self.o.open("ram:SpecifiedTradePaymentTerms", &[]);
            self.o.opt("ram:Description", inv.payment_terms.as_deref());
            if let Some(d) = &inv.due_date {
                self.date("ram:DueDateDateTime", d);
            }
            self.o.opt("ram:DirectDebitMandateID", mandate);
            self.o.close("ram:SpecifiedTradePaymentTerms");
        }
        let t = &inv.totals;
        self.o.open("ram:SpecifiedTradeSettlementHeaderMonetarySummation", &[]);
        self.o.leaf("ram:LineTotalAmount", &s(&t.line_net_total));
        self.opt_dec("ram:ChargeTotalAmount", t.charge_total.as_ref());
        self.opt_dec("ram:AllowanceTotalAmount", t.allowance_total.as_ref());
        self.o.leaf("ram:TaxBasisTotalAmount", &s(&t.tax_exclusive_total));
        if let Some(v) = &t.vat_total {
            self.o.leaf_attrs("ram:TaxTotalAmount", &[("currencyID", cur)], &s(v));
        }
        if let (Some(v), Some(vc)) = (&t.vat_total_accounting, &inv.vat_currency) {
            self.o
                .leaf_attrs("ram:TaxTotalAmount", &[("currencyID", vc.as_str())], &s(v));
        }
        self.opt_dec("ram:RoundingAmount", t.rounding.as_ref());
        self.o.leaf("ram:GrandTotalAmount", &s(&t.tax_inclusive_total));
        self.opt_dec("ram:TotalPrepaidAmount", t.prepaid.as_ref());
        self.o.leaf("ram:DuePayableAmount", &s(&t.payable));
        self.o.close("ram:SpecifiedTradeSettlementHeaderMonetarySummation");
        for p in &inv.preceding_invoices {
            self.o.open("ram:InvoiceReferencedDocument", &[]);
            self.o.leaf("ram:IssuerAssignedID", &p.number);
            if let Some(d) = &p.issue_date {
                self.o.open("ram:FormattedIssueDateTime", &[]);
                self.o
                    .leaf_attrs("qdt:DateTimeString", &[("format", "102")], &d.to_102());
                self.o.close("ram:FormattedIssueDateTime");
            }
            self.o.close("ram:InvoiceReferencedDocument");
        }
        if let Some(a) = &inv.buyer_accounting_reference {
            self.o.open("ram:ReceivableSpecifiedTradeAccountingAccount", &[]);
            self.o.leaf("ram:ID", a);
            self.o.close("ram:ReceivableSpecifiedTradeAccountingAccount");
        }
        self.o.close("ram:ApplicableHeaderTradeSettlement");
    }

    fn period(&mut self, p: &Period) {
        self.o.open("ram:BillingSpecifiedPeriod", &[]);
        if let Some(d) = &p.start {
            self.date("ram:StartDateTime", d);
        }
        if let Some(d) = &p.end {
            self.date("ram:EndDateTime", d);
        }
        self.o.close("ram:BillingSpecifiedPeriod");
    }

    #[allow(clippy::too_many_arguments)]
    fn allowance_charge(
        &mut self,
        charge: bool,
        pct: Option<&Decimal>,
        base: Option<&Decimal>,
        amount: &Decimal,
        reason_code: Option<&Code>,
        reason: Option<&str>,
        vat: Option<(VatCategory, Option<&Decimal>)>,
    ) {
        self.o.open("ram:SpecifiedTradeAllowanceCharge", &[]);
        self.o.open("ram:ChargeIndicator", &[]);
        self.o.leaf("udt:Indicator", if charge { "true" } else { "false" });
        self.o.close("ram:ChargeIndicator");
        self.opt_dec("ram:CalculationPercent", pct);
        self.opt_dec("ram:BasisAmount", base);
        self.o.leaf("ram:ActualAmount", &s(amount));
        self.o.opt("ram:ReasonCode", reason_code.map(Code::as_str));
        self.o.opt("ram:Reason", reason);
        if let Some((cat, rate)) = vat {
            self.o.open("ram:CategoryTradeTax", &[]);
            self.o.leaf("ram:TypeCode", "VAT");
            self.o.leaf("ram:CategoryCode", cat.code());
            self.opt_dec("ram:RateApplicablePercent", rate);
            self.o.close("ram:CategoryTradeTax");
        }
        self.o.close("ram:SpecifiedTradeAllowanceCharge");
    }

    fn line(&mut self, l: &Line) {
        self.o.open("ram:IncludedSupplyChainTradeLineItem", &[]);
        self.o.open("ram:AssociatedDocumentLineDocument", &[]);
        self.o.leaf("ram:LineID", &l.id);
        if let Some(n) = &l.note {
            self.o.open("ram:IncludedNote", &[]);
            self.o.leaf("ram:Content", n);
            self.o.close("ram:IncludedNote");
        }
        self.o.close("ram:AssociatedDocumentLineDocument");

        let it = &l.item;
        self.o.open("ram:SpecifiedTradeProduct", &[]);
        if let Some(sid) = &it.standard_id {
            self.ident("ram:GlobalID", sid);
        }
        self.o.opt("ram:SellerAssignedID", it.seller_id.as_deref());
        self.o.opt("ram:BuyerAssignedID", it.buyer_id.as_deref());
        self.o.leaf("ram:Name", &it.name);
        self.o.opt("ram:Description", it.description.as_deref());
        for a in &it.attributes {
            self.o.open("ram:ApplicableProductCharacteristic", &[]);
            self.o.leaf("ram:Description", &a.name);
            self.o.leaf("ram:Value", &a.value);
            self.o.close("ram:ApplicableProductCharacteristic");
        }
        for c in &it.classifications {
            self.o.open("ram:DesignatedProductClassification", &[]);
            let mut attrs: Vec<(&str, &str)> = Vec::new();
            if let Some(l) = &c.list_id {
                attrs.push(("listID", l.as_str()));
            }
            if let Some(v) = &c.list_version {
                attrs.push(("listVersionID", v.as_str()));
            }
            self.o.leaf_attrs("ram:ClassCode", &attrs, &c.code);
            self.o.close("ram:DesignatedProductClassification");
        }
        if let Some(c) = &it.origin_country {
            self.o.open("ram:OriginTradeCountry", &[]);
            self.o.leaf("ram:ID", c.as_str());
            self.o.close("ram:OriginTradeCountry");
        }
        self.o.close("ram:SpecifiedTradeProduct");

        let p = &l.price;
        self.o.open("ram:SpecifiedLineTradeAgreement", &[]);
        if let Some(r) = &l.order_line_reference {
            self.o.open("ram:BuyerOrderReferencedDocument", &[]);
            self.o.leaf("ram:LineID", r);
            self.o.close("ram:BuyerOrderReferencedDocument");
        }
        if p.gross_price.is_some() || p.discount.is_some() {
            self.o.open("ram:GrossPriceProductTradePrice", &[]);
            // The schema requires the gross price here; with a discount alone it is net + discount
            // (BT-146 = BT-148 − BT-147).
            let gross = p
                .gross_price
                .or_else(|| p.discount.and_then(|d| p.net_price.checked_add(d)));
            self.opt_dec("ram:ChargeAmount", gross.as_ref());
            if let Some(d) = &p.discount {
                self.o.open("ram:AppliedTradeAllowanceCharge", &[]);
                self.o.open("ram:ChargeIndicator", &[]);
                self.o.leaf("udt:Indicator", "false");
                self.o.close("ram:ChargeIndicator");
                self.o.leaf("ram:ActualAmount", &s(d));
                self.o.close("ram:AppliedTradeAllowanceCharge");
            }
            self.o.close("ram:GrossPriceProductTradePrice");
        }
        self.o.open("ram:NetPriceProductTradePrice", &[]);
        self.o.leaf("ram:ChargeAmount", &s(&p.net_price));
        if let Some(q) = &p.base_quantity {
            match &p.base_quantity_unit {
                Some(u) => self
                    .o
                    .leaf_attrs("ram:BasisQuantity", &[("unitCode", u.as_str())], &s(q)),
                None => self.o.leaf("ram:BasisQuantity", &s(q)),
            }
        }
        self.o.close("ram:NetPriceProductTradePrice");
        self.o.close("ram:SpecifiedLineTradeAgreement");

        self.o.open("ram:SpecifiedLineTradeDelivery", &[]);
        self.o.leaf_attrs(
            "ram:BilledQuantity",
            &[("unitCode", l.unit_code.as_str())],
            &s(&l.quantity),
        );
        self.o.close("ram:SpecifiedLineTradeDelivery");

        self.o.open("ram:SpecifiedLineTradeSettlement", &[]);
        self.o.open("ram:ApplicableTradeTax", &[]);
        self.o.leaf("ram:TypeCode", "VAT");
        self.o.leaf("ram:CategoryCode", l.vat_category.code());
        self.opt_dec("ram:RateApplicablePercent", l.vat_rate.as_ref());
        self.o.close("ram:ApplicableTradeTax");
        if let Some(p) = &l.period {
            self.period(p);
        }
        for a in &l.allowances {
            self.allowance_charge(
                false,
                a.percentage.as_ref(),
                a.base_amount.as_ref(),
                &a.amount,
                a.reason_code.as_ref(),
                a.reason.as_deref(),
                None,
            );
        }
        for c in &l.charges {
            self.allowance_charge(
                true,
                c.percentage.as_ref(),
                c.base_amount.as_ref(),
                &c.amount,
                c.reason_code.as_ref(),
                c.reason.as_deref(),
                None,
            );
        }
        self.o.open("ram:SpecifiedTradeSettlementLineMonetarySummation", &[]);
        self.o.leaf("ram:LineTotalAmount", &s(&l.net_amount));
        self.o.close("ram:SpecifiedTradeSettlementLineMonetarySummation");
        if let Some(obj) = &l.object {
            self.o.open("ram:AdditionalReferencedDocument", &[]);
            self.o.leaf("ram:IssuerAssignedID", &obj.value);
            self.o.leaf("ram:TypeCode", "130");
            self.o
                .opt("ram:ReferenceTypeCode", obj.scheme.as_ref().map(Code::as_str));
            self.o.close("ram:AdditionalReferencedDocument");
        }
        if let Some(a) = &l.accounting_reference {
            self.o.open("ram:ReceivableSpecifiedTradeAccountingAccount", &[]);
            self.o.leaf("ram:ID", a);
            self.o.close("ram:ReceivableSpecifiedTradeAccountingAccount");
        }
        self.o.close("ram:SpecifiedLineTradeSettlement");
        self.o.close("ram:IncludedSupplyChainTradeLineItem");
    }
}
