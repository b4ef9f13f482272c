//! Strict model → UBL 2.1, elements in the schema's sequence order.

use rust_decimal::Decimal;

use crate::model::*;
use crate::xml::{self, XmlOut};

/// Writes an invoice as UBL `Invoice` or, for credit notes, `CreditNote`.
pub fn write(inv: &Invoice) -> String {
    let mut w = W {
        o: XmlOut::new(),
        cur: inv.currency.as_str().to_string(),
        credit: inv.kind == DocKind::CreditNote,
    };
    w.invoice(inv);
    w.o.finish()
}

struct W {
    o: XmlOut,
    cur: String,
    credit: bool,
}

fn s(d: &Decimal) -> String {
    d.to_string()
}

impl W {
    fn amount(&mut self, name: &str, v: &Decimal) {
        let cur = self.cur.clone();
        self.o.leaf_attrs(name, &[("currencyID", cur.as_str())], &s(v));
    }

    fn opt_amount(&mut self, name: &str, v: Option<&Decimal>) {
        if let Some(v) = v {
            self.amount(name, v);
        }
    }

    fn ident(&mut self, name: &str, id: &Identifier) {
        match &id.scheme {
            Some(sc) => self.o.leaf_attrs(name, &[("schemeID", sc.as_str())], &id.value),
            None => self.o.leaf(name, &id.value),
        }
    }

    fn doc_ref(&mut self, wrapper: &str, id: Option<&str>) {
        if let Some(id) = id {
            self.o.open(wrapper, &[]);
            self.o.leaf("cbc:ID", id);
            self.o.close(wrapper);
        }
    }

    fn invoice(&mut self, inv: &Invoice) {
        let root = if self.credit { "CreditNote" } else { "Invoice" };
        let ns = if self.credit {
            xml::NS_UBL_CREDIT_NOTE
        } else {
            xml::NS_UBL_INVOICE
        };
        self.o.open(
            root,
            &[("xmlns", ns), ("xmlns:cac", xml::NS_CAC), ("xmlns:cbc", xml::NS_CBC)],
        );
        self.o.leaf("cbc:CustomizationID", &inv.specification);
        self.o.opt("cbc:ProfileID", inv.business_process.as_deref());
        self.o.leaf("cbc:ID", &inv.number);
        self.o.leaf("cbc:IssueDate", &inv.issue_date.to_iso());
        if self.credit {
            self.o
                .opt("cbc:TaxPointDate", inv.tax_point_date.map(Date::to_iso).as_deref());
            self.o.leaf("cbc:CreditNoteTypeCode", inv.type_code.as_str());
        } else {
            self.o.opt("cbc:DueDate", inv.due_date.map(Date::to_iso).as_deref());
            self.o.leaf("cbc:InvoiceTypeCode", inv.type_code.as_str());
        }
        for n in &inv.notes {
            match &n.subject_code {
                Some(c) => self.o.leaf("cbc:Note", &format!("#{}#{}", c.as_str(), n.text)),
                None => self.o.leaf("cbc:Note", &n.text),
            }
        }
        if !self.credit {
            self.o
                .opt("cbc:TaxPointDate", inv.tax_point_date.map(Date::to_iso).as_deref());
        }
        self.o.leaf("cbc:DocumentCurrencyCode", inv.currency.as_str());
        self.o.opt(
            "cbc:TaxCurrencyCode",
            inv.vat_currency.as_ref().map(CurrencyCode::as_str),
        );
        self.o
            .opt("cbc:AccountingCost", inv.buyer_accounting_reference.as_deref());
        self.o.opt("cbc:BuyerReference", inv.buyer_reference.as_deref());
        if inv.invoicing_period.is_some() || inv.vat_point_date_code.is_some() {
            self.o.open("cac:InvoicePeriod", &[]);
            if let Some(p) = &inv.invoicing_period {
                self.o.opt("cbc:StartDate", p.start.map(Date::to_iso).as_deref());
                self.o.opt("cbc:EndDate", p.end.map(Date::to_iso).as_deref());
            }
            self.o
                .opt("cbc:DescriptionCode", inv.vat_point_date_code.map(|c| c.ubl_code()));
            self.o.close("cac:InvoicePeriod");
        }
        if inv.purchase_order_reference.is_some() || inv.sales_order_reference.is_some() {
            self.o.open("cac:OrderReference", &[]);
            // cbc:ID is mandatory in UBL; EN 16931 allows a sales order reference alone.
            self.o
                .leaf("cbc:ID", inv.purchase_order_reference.as_deref().unwrap_or("NA"));
            self.o.opt("cbc:SalesOrderID", inv.sales_order_reference.as_deref());
            self.o.close("cac:OrderReference");
        }
        for p in &inv.preceding_invoices {
            self.o.open("cac:BillingReference", &[]);
            self.o.open("cac:InvoiceDocumentReference", &[]);
            self.o.leaf("cbc:ID", &p.number);
            self.o.opt("cbc:IssueDate", p.issue_date.map(Date::to_iso).as_deref());
            self.o.close("cac:InvoiceDocumentReference");
            self.o.close("cac:BillingReference");
        }
        self.doc_ref(
            "cac:DespatchDocumentReference",
            inv.despatch_advice_reference.as_deref(),
        );
        self.doc_ref(
            "cac:ReceiptDocumentReference",
            inv.receiving_advice_reference.as_deref(),
        );
        if !self.credit {
            self.doc_ref("cac:OriginatorDocumentReference", inv.tender_reference.as_deref());
            self.doc_ref("cac:ContractDocumentReference", inv.contract_reference.as_deref());
        } else {
            self.doc_ref("cac:ContractDocumentReference", inv.contract_reference.as_deref());
        }
        if let Some(obj) = &inv.invoiced_object {
            self.o.open("cac:AdditionalDocumentReference", &[]);
            self.ident("cbc:ID", obj);
            self.o.leaf("cbc:DocumentTypeCode", "130");
            self.o.close("cac:AdditionalDocumentReference");
        }
        if self.credit
            && let Some(p) = &inv.project_reference
        {
            self.o.open("cac:AdditionalDocumentReference", &[]);
            self.o.leaf("cbc:ID", p);
            self.o.leaf("cbc:DocumentTypeCode", "50");
            self.o.close("cac:AdditionalDocumentReference");
        }
        for a in &inv.additional_documents {
            self.additional_document(a);
        }
        if self.credit {
            self.doc_ref("cac:OriginatorDocumentReference", inv.tender_reference.as_deref());
        } else {
            self.doc_ref("cac:ProjectReference", inv.project_reference.as_deref());
        }
        let creditor = inv
            .payment
            .as_ref()
            .and_then(|p| p.direct_debit.as_ref())
            .and_then(|d| d.creditor_id.as_deref());
        self.seller(&inv.seller, creditor);
        self.buyer(&inv.buyer);
        if let Some(p) = &inv.payee {
            self.o.open("cac:PayeeParty", &[]);
            if let Some(id) = &p.identifier {
                self.o.open("cac:PartyIdentification", &[]);
                self.ident("cbc:ID", id);
                self.o.close("cac:PartyIdentification");
            }
            self.o.open("cac:PartyName", &[]);
            self.o.leaf("cbc:Name", &p.name);
            self.o.close("cac:PartyName");
            if let Some(l) = &p.legal_registration {
                self.o.open("cac:PartyLegalEntity", &[]);
                // RegistrationName is mandatory in UBL's PartyLegalEntity.
                self.o.leaf("cbc:RegistrationName", &p.name);
                self.ident("cbc:CompanyID", l);
                self.o.close("cac:PartyLegalEntity");
            }
            self.o.close("cac:PayeeParty");
        }
        if let Some(t) = &inv.tax_representative {
            self.o.open("cac:TaxRepresentativeParty", &[]);
            self.o.open("cac:PartyName", &[]);
            self.o.leaf("cbc:Name", &t.name);
            self.o.close("cac:PartyName");
            self.address("cac:PostalAddress", &t.address);
            self.tax_scheme(&t.vat_id, "VAT");
            self.o.close("cac:TaxRepresentativeParty");
        }
        if let Some(d) = &inv.delivery {
            self.o.open("cac:Delivery", &[]);
            self.o
                .opt("cbc:ActualDeliveryDate", d.actual_date.map(Date::to_iso).as_deref());
            if d.location_id.is_some() || d.address.is_some() {
                self.o.open("cac:DeliveryLocation", &[]);
                if let Some(id) = &d.location_id {
                    self.ident("cbc:ID", id);
                }
                if let Some(a) = &d.address {
                    self.address("cac:Address", a);
                }
                self.o.close("cac:DeliveryLocation");
            }
            if let Some(n) = &d.party_name {
                self.o.open("cac:DeliveryParty", &[]);
                self.o.open("cac:PartyName", &[]);
                self.o.leaf("cbc:Name", n);
                self.o.close("cac:PartyName");
                self.o.close("cac:DeliveryParty");
            }
            self.o.close("cac:Delivery");
        }
        self.payment_means(inv);
        if let Some(t) = &inv.payment_terms {
            self.o.open("cac:PaymentTerms", &[]);
            self.o.leaf("cbc:Note", t);
            self.o.close("cac:PaymentTerms");
        }
        for a in &inv.allowances {
            self.doc_ac(a, false);
        }
        for c in &inv.charges {
            self.doc_ac(c, true);
        }
        // UBL requires cbc:TaxAmount; without BT-110 the sum of BT-117 is written, which is
        // exactly what BR-CO-14 demands of BT-110.
        let vat_total = inv
            .totals
            .vat_total
            .unwrap_or_else(|| inv.vat_breakdown.iter().map(|v| v.tax_amount).sum());
        self.o.open("cac:TaxTotal", &[]);
        self.amount("cbc:TaxAmount", &vat_total);
        for v in &inv.vat_breakdown {
            self.o.open("cac:TaxSubtotal", &[]);
            self.amount("cbc:TaxableAmount", &v.taxable_amount);
            self.amount("cbc:TaxAmount", &v.tax_amount);
            self.o.open("cac:TaxCategory", &[]);
            self.o.leaf("cbc:ID", v.category.code());
            self.o.opt("cbc:Percent", v.rate.as_ref().map(s).as_deref());
            self.o.opt(
                "cbc:TaxExemptionReasonCode",
                v.exemption_reason_code.as_ref().map(Code::as_str),
            );
            self.o.opt("cbc:TaxExemptionReason", v.exemption_reason.as_deref());
            self.vat_scheme();
            self.o.close("cac:TaxCategory");
            self.o.close("cac:TaxSubtotal");
        }
        self.o.close("cac:TaxTotal");
        if let (Some(acc), Some(vc)) = (&inv.totals.vat_total_accounting, &inv.vat_currency) {
            self.o.open("cac:TaxTotal", &[]);
            self.o
                .leaf_attrs("cbc:TaxAmount", &[("currencyID", vc.as_str())], &s(acc));
            self.o.close("cac:TaxTotal");
        }
        let t = &inv.totals;
        self.o.open("cac:LegalMonetaryTotal", &[]);
        self.amount("cbc:LineExtensionAmount", &t.line_net_total);
        self.amount("cbc:TaxExclusiveAmount", &t.tax_exclusive_total);
        self.amount("cbc:TaxInclusiveAmount", &t.tax_inclusive_total);
        self.opt_amount("cbc:AllowanceTotalAmount", t.allowance_total.as_ref());
        self.opt_amount("cbc:ChargeTotalAmount", t.charge_total.as_ref());
        self.opt_amount("cbc:PrepaidAmount", t.prepaid.as_ref());
        self.opt_amount("cbc:PayableRoundingAmount", t.rounding.as_ref());
        self.amount("cbc:PayableAmount", &t.payable);
        self.o.close("cac:LegalMonetaryTotal");
        for l in &inv.lines {
            self.line(l);
        }
        self.o.close(root);
    }

    fn additional_document(&mut self, a: &AdditionalDocument) {
        self.o.open("cac:AdditionalDocumentReference", &[]);
        self.o.leaf("cbc:ID", &a.reference);
        self.o.opt("cbc:DocumentDescription", a.description.as_deref());
        if a.attachment.is_some() || a.external_uri.is_some() {
            self.o.open("cac:Attachment", &[]);
            if let Some(at) = &a.attachment {
                self.o.leaf_attrs(
                    "cbc:EmbeddedDocumentBinaryObject",
                    &[("mimeCode", at.mime_code.as_str()), ("filename", at.filename.as_str())],
                    &at.content_base64,
                );
            }
            if let Some(u) = &a.external_uri {
                self.o.open("cac:ExternalReference", &[]);
                self.o.leaf("cbc:URI", u);
                self.o.close("cac:ExternalReference");
            }
            self.o.close("cac:Attachment");
        }
        self.o.close("cac:AdditionalDocumentReference");
    }

    fn vat_scheme(&mut self) {
        self.o.open("cac:TaxScheme", &[]);
        self.o.leaf("cbc:ID", "VAT");
        self.o.close("cac:TaxScheme");
    }

    fn tax_scheme(&mut self, company_id: &str, scheme: &str) {
        self.o.open("cac:PartyTaxScheme", &[]);
        self.o.leaf("cbc:CompanyID", company_id);
        self.o.open("cac:TaxScheme", &[]);
        self.o.leaf("cbc:ID", scheme);
        self.o.close("cac:TaxScheme");
        self.o.close("cac:PartyTaxScheme");
    }

    fn address(&mut self, name: &str, a: &Address) {
        self.o.open(name, &[]);
        self.o.opt("cbc:StreetName", a.line1.as_deref());
        self.o.opt("cbc:AdditionalStreetName", a.line2.as_deref());
        self.o.opt("cbc:CityName", a.city.as_deref());
        self.o.opt("cbc:PostalZone", a.post_code.as_deref());
        self.o.opt("cbc:CountrySubentity", a.subdivision.as_deref());
        if let Some(l3) = &a.line3 {
            self.o.open("cac:AddressLine", &[]);
            self.o.leaf("cbc:Line", l3);
            self.o.close("cac:AddressLine");
        }
        self.o.open("cac:Country", &[]);
        self.o.leaf("cbc:IdentificationCode", a.country.as_str());
        self.o.close("cac:Country");
        self.o.close(name);
    }

    fn contact(&mut self, c: &Contact) {
        self.o.open("cac:Contact", &[]);
        self.o.opt("cbc:Name", c.point.as_deref());
        self.o.opt("cbc:Telephone", c.telephone.as_deref());
        self.o.opt("cbc:ElectronicMail", c.email.as_deref());
        self.o.close("cac:Contact");
    }

    fn seller(&mut self, p: &Seller, creditor_id: Option<&str>) {
        self.o.open("cac:AccountingSupplierParty", &[]);
        self.o.open("cac:Party", &[]);
        if let Some(e) = &p.electronic_address {
            self.ident("cbc:EndpointID", e);
        }
        for id in &p.identifiers {
            self.o.open("cac:PartyIdentification", &[]);
            self.ident("cbc:ID", id);
            self.o.close("cac:PartyIdentification");
        }
        if let Some(c) = creditor_id {
            self.o.open("cac:PartyIdentification", &[]);
            self.o.leaf_attrs("cbc:ID", &[("schemeID", "SEPA")], c);
            self.o.close("cac:PartyIdentification");
        }
        if let Some(t) = &p.trading_name {
            self.o.open("cac:PartyName", &[]);
            self.o.leaf("cbc:Name", t);
            self.o.close("cac:PartyName");
        }
        self.address("cac:PostalAddress", &p.address);
        if let Some(v) = &p.vat_id {
            self.tax_scheme(v, "VAT");
        }
        if let Some(t) = &p.tax_registration_id {
            self.tax_scheme(t, "FC");
        }
        self.o.open("cac:PartyLegalEntity", &[]);
        self.o.leaf("cbc:RegistrationName", &p.name);
        if let Some(l) = &p.legal_registration {
            self.ident("cbc:CompanyID", l);
        }
        self.o.opt("cbc:CompanyLegalForm", p.additional_legal_info.as_deref());
        self.o.close("cac:PartyLegalEntity");
        if let Some(c) = &p.contact {
            self.contact(c);
        }
        self.o.close("cac:Party");
        self.o.close("cac:AccountingSupplierParty");
    }

    fn buyer(&mut self, p: &Buyer) {
        self.o.open("cac:AccountingCustomerParty", &[]);
        self.o.open("cac:Party", &[]);
        if let Some(e) = &p.electronic_address {
            self.ident("cbc:EndpointID", e);
        }
        if let Some(id) = &p.identifier {
            self.o.open("cac:PartyIdentification", &[]);
            self.ident("cbc:ID", id);
            self.o.close("cac:PartyIdentification");
        }
        if let Some(t) = &p.trading_name {
            self.o.open("cac:PartyName", &[]);
            self.o.leaf("cbc:Name", t);
            self.o.close("cac:PartyName");
        }
        self.address("cac:PostalAddress", &p.address);
        if let Some(v) = &p.vat_id {
            self.tax_scheme(v, "VAT");
        }
        self.o.open("cac:PartyLegalEntity", &[]);
        self.o.leaf("cbc:RegistrationName", &p.name);
        if let Some(l) = &p.legal_registration {
            self.ident("cbc:CompanyID", l);
        }
        self.o.close("cac:PartyLegalEntity");
        if let Some(c) = &p.contact {
            self.contact(c);
        }
        self.o.close("cac:Party");
        self.o.close("cac:AccountingCustomerParty");
    }

    /// One `cac:PaymentMeans` per credit transfer (UBL allows one account per payment means);
    /// card and mandate go in the first.
    fn payment_means(&mut self, inv: &Invoice) {
        let Some(p) = &inv.payment else {
            return;
        };
        let n = p.credit_transfers.len().max(1);
        for i in 0..n {
            self.o.open("cac:PaymentMeans", &[]);
            // BT-82 is written once (UBL-SR-46 allows one `@name`).
            match &p.means_text {
                Some(t) if i == 0 => {
                    self.o
                        .leaf_attrs("cbc:PaymentMeansCode", &[("name", t.as_str())], p.means_code.as_str())
                }
                _ => self.o.leaf("cbc:PaymentMeansCode", p.means_code.as_str()),
            }
            if self.credit && i == 0 {
                self.o
                    .opt("cbc:PaymentDueDate", inv.due_date.map(Date::to_iso).as_deref());
            }
            self.o.opt("cbc:PaymentID", p.remittance.as_deref());
            if i == 0
                && let Some(c) = &p.card
            {
                self.o.open("cac:CardAccount", &[]);
                self.o.leaf("cbc:PrimaryAccountNumberID", &c.primary_account_number);
                // NetworkID is mandatory in UBL and has no EN 16931 term.
                self.o.leaf("cbc:NetworkID", "NA");
                self.o.opt("cbc:HolderName", c.holder_name.as_deref());
                self.o.close("cac:CardAccount");
            }
            if let Some(t) = p.credit_transfers.get(i) {
                self.o.open("cac:PayeeFinancialAccount", &[]);
                self.o.leaf("cbc:ID", &t.account_id);
                self.o.opt("cbc:Name", t.account_name.as_deref());
                if let Some(bic) = &t.service_provider {
                    self.o.open("cac:FinancialInstitutionBranch", &[]);
                    self.o.leaf("cbc:ID", bic);
                    self.o.close("cac:FinancialInstitutionBranch");
                }
                self.o.close("cac:PayeeFinancialAccount");
            }
            if i == 0
                && let Some(dd) = &p.direct_debit
                && (dd.mandate_reference.is_some() || dd.debited_account.is_some())
            {
                self.o.open("cac:PaymentMandate", &[]);
                self.o.opt("cbc:ID", dd.mandate_reference.as_deref());
                if let Some(acc) = &dd.debited_account {
                    self.o.open("cac:PayerFinancialAccount", &[]);
                    self.o.leaf("cbc:ID", acc);
                    self.o.close("cac:PayerFinancialAccount");
                }
                self.o.close("cac:PaymentMandate");
            }
            self.o.close("cac:PaymentMeans");
        }
    }

    fn ac_head(&mut self, charge: bool, reason_code: Option<&Code>, reason: Option<&str>, pct: Option<&Decimal>) {
        self.o
            .leaf("cbc:ChargeIndicator", if charge { "true" } else { "false" });
        self.o
            .opt("cbc:AllowanceChargeReasonCode", reason_code.map(Code::as_str));
        self.o.opt("cbc:AllowanceChargeReason", reason);
        self.o.opt("cbc:MultiplierFactorNumeric", pct.map(s).as_deref());
    }

    fn doc_ac(&mut self, a: &AllowanceCharge, charge: bool) {
        self.o.open("cac:AllowanceCharge", &[]);
        self.ac_head(
            charge,
            a.reason_code.as_ref(),
            a.reason.as_deref(),
            a.percentage.as_ref(),
        );
        self.amount("cbc:Amount", &a.amount);
        self.opt_amount("cbc:BaseAmount", a.base_amount.as_ref());
        self.o.open("cac:TaxCategory", &[]);
        self.o.leaf("cbc:ID", a.vat_category.code());
        self.o.opt("cbc:Percent", a.vat_rate.as_ref().map(s).as_deref());
        self.vat_scheme();
        self.o.close("cac:TaxCategory");
        self.o.close("cac:AllowanceCharge");
    }

    fn line_ac(&mut self, a: &LineAllowanceCharge, charge: bool) {
        self.o.open("cac:AllowanceCharge", &[]);
        self.ac_head(
            charge,
            a.reason_code.as_ref(),
            a.reason.as_deref(),
            a.percentage.as_ref(),
        );
        self.amount("cbc:Amount", &a.amount);
        self.opt_amount("cbc:BaseAmount", a.base_amount.as_ref());
        self.o.close("cac:AllowanceCharge");
    }

    fn line(&mut self, l: &Line) {
        let (name, qty) = if self.credit {
            ("cac:CreditNoteLine", "cbc:CreditedQuantity")
        } else {
            ("cac:InvoiceLine", "cbc:InvoicedQuantity")
        };
        self.o.open(name, &[]);
        self.o.leaf("cbc:ID", &l.id);
        self.o.opt("cbc:Note", l.note.as_deref());
        self.o
            .leaf_attrs(qty, &[("unitCode", l.unit_code.as_str())], &s(&l.quantity));
        self.amount("cbc:LineExtensionAmount", &l.net_amount);
        self.o.opt("cbc:AccountingCost", l.accounting_reference.as_deref());
        if let Some(p) = &l.period {
            self.o.open("cac:InvoicePeriod", &[]);
            self.o.opt("cbc:StartDate", p.start.map(Date::to_iso).as_deref());
            self.o.opt("cbc:EndDate", p.end.map(Date::to_iso).as_deref());
            self.o.close("cac:InvoicePeriod");
        }
        if let Some(r) = &l.order_line_reference {
            self.o.open("cac:OrderLineReference", &[]);
            self.o.leaf("cbc:LineID", r);
            self.o.close("cac:OrderLineReference");
        }
        if let Some(obj) = &l.object {
            self.o.open("cac:DocumentReference", &[]);
            self.ident("cbc:ID", obj);
            self.o.leaf("cbc:DocumentTypeCode", "130");
            self.o.close("cac:DocumentReference");
        }
        for a in &l.allowances {
            self.line_ac(a, false);
        }
        for c in &l.charges {
            self.line_ac(c, true);
        }
        let it = &l.item;
        self.o.open("cac:Item", &[]);
        self.o.opt("cbc:Description", it.description.as_deref());
        self.o.leaf("cbc:Name", &it.name);
        for (wrapper, v) in [
            ("cac:BuyersItemIdentification", &it.buyer_id),
            ("cac:SellersItemIdentification", &it.seller_id),
        ] {
            if let Some(v) = v {
                self.o.open(wrapper, &[]);
                self.o.leaf("cbc:ID", v);
                self.o.close(wrapper);
            }
        }
        if let Some(sid) = &it.standard_id {
            self.o.open("cac:StandardItemIdentification", &[]);
            self.ident("cbc:ID", sid);
            self.o.close("cac:StandardItemIdentification");
        }
        if let Some(c) = &it.origin_country {
            self.o.open("cac:OriginCountry", &[]);
            self.o.leaf("cbc:IdentificationCode", c.as_str());
            self.o.close("cac:OriginCountry");
        }
        for c in &it.classifications {
            self.o.open("cac:CommodityClassification", &[]);
            let mut attrs: Vec<(&str, &str)> = Vec::new();
            if let Some(l) = &c.list_id {
                attrs.push(("listID", l.as_str()));
            }
            if let Some(v) = &c.list_version {
                attrs.push(("listVersionID", v.as_str()));
            }
            self.o.leaf_attrs("cbc:ItemClassificationCode", &attrs, &c.code);
            self.o.close("cac:CommodityClassification");
        }
        self.o.open("cac:ClassifiedTaxCategory", &[]);
        self.o.leaf("cbc:ID", l.vat_category.code());
        self.o.opt("cbc:Percent", l.vat_rate.as_ref().map(s).as_deref());
        self.vat_scheme();
        self.o.close("cac:ClassifiedTaxCategory");
        for a in &it.attributes {
            self.o.open("cac:AdditionalItemProperty", &[]);
            self.o.leaf("cbc:Name", &a.name);
            self.o.leaf("cbc:Value", &a.value);
            self.o.close("cac:AdditionalItemProperty");
        }
        self.o.close("cac:Item");
        let p = &l.price;
        self.o.open("cac:Price", &[]);
        self.amount("cbc:PriceAmount", &p.net_price);
        if let Some(q) = &p.base_quantity {
            match &p.base_quantity_unit {
                Some(u) => self
                    .o
                    .leaf_attrs("cbc:BaseQuantity", &[("unitCode", u.as_str())], &s(q)),
                None => self.o.leaf("cbc:BaseQuantity", &s(q)),
            }
        }
        if p.discount.is_some() || p.gross_price.is_some() {
            self.o.open("cac:AllowanceCharge", &[]);
            self.o.leaf("cbc:ChargeIndicator", "false");
            // The schema requires the amount of the discount; with a gross price alone it is gross − net
            // (BT-147 = BT-148 − BT-146).
            let discount = p
                .discount
                .or_else(|| p.gross_price.and_then(|g| g.checked_sub(p.net_price)));
            self.opt_amount("cbc:Amount", discount.as_ref());
            self.opt_amount("cbc:BaseAmount", p.gross_price.as_ref());
            self.o.close("cac:AllowanceCharge");
        }
        self.o.close("cac:Price");
        self.o.close(name);
    }
}
