//! UBL 2.1 `Invoice` / `CreditNote`: reader into the lenient draft, writer from the strict model.
//!
//! Element paths follow the official EN 16931 UBL syntax binding (CEN/TS 16931-3-2).

use roxmltree::Document;

use crate::model::DocKind;
use crate::model::draft::*;
use crate::xml::index::DocIndex;
use crate::xml::{self, El, ReadError, Reader, Syntax};

mod write;
pub use write::write;

pub(crate) const PREFIXES: &[(&str, &str)] = &[
    ("cbc", xml::NS_CBC),
    ("cac", xml::NS_CAC),
    ("ubl", xml::NS_UBL_INVOICE),
    ("cn", xml::NS_UBL_CREDIT_NOTE),
];

type R<'x, 'a, 'i> = Reader<'x, 'a, 'i>;

/// Reads a UBL `Invoice` or `CreditNote` tree into a draft. Only the root is checked; every
/// term may be missing.
pub fn read(doc: &Document<'_>) -> Result<Draft, ReadError> {
    read_indexed(&DocIndex::new(doc))
}

/// [`read`] over a document already indexed.
pub(crate) fn read_indexed(ix: &DocIndex<'_, '_>) -> Result<Draft, ReadError> {
    let doc = ix.doc();
    let (syntax, kind) = xml::detect(doc)?;
    if syntax != Syntax::Ubl {
        let root = doc.root_element().tag_name();
        return Err(ReadError::UnknownRoot {
            namespace: root.namespace().unwrap_or("").to_string(),
            name: root.name().to_string(),
        });
    }
    let r = Reader::new(ix, PREFIXES);
    let root = r.root();
    let credit = kind == DocKind::CreditNote;
    let mut d = Draft {
        syntax,
        kind,
        root: r.loc(&root),
        ..Draft::default()
    };

    d.number = r.val(&root, "cbc:ID");
    d.issue_date = r.val(&root, "cbc:IssueDate");
    // BT-3: the official rules accept either element whatever the root (BR-04), so the other one is
    // read when the root's own is absent or empty.
    let (own_type, other_type) = if credit {
        ("cbc:CreditNoteTypeCode", "cbc:InvoiceTypeCode")
    } else {
        ("cbc:InvoiceTypeCode", "cbc:CreditNoteTypeCode")
    };
    let own_type = r.val(&root, own_type);
    d.type_code = match r.val(&root, other_type) {
        Some(other) if own_type.as_ref().is_none_or(Val::is_blank) && !other.is_blank() => Some(other),
        other => own_type.or(other),
    };
    d.notes = r
        .all(&root, "cbc:Note")
        .iter()
        .map(|e| DraftNote {
            at: r.loc(e),
            subject_code: None,
            text: Some(r.val_of(e)),
        })
        .collect();
    d.currency_code = r.val(&root, "cbc:DocumentCurrencyCode");
    d.vat_currency_code = r.val(&root, "cbc:TaxCurrencyCode");
    d.tax_point_date = r.val(&root, "cbc:TaxPointDate");
    d.vat_point_date_code = r.val(&root, "cac:InvoicePeriod/cbc:DescriptionCode");
    d.due_date = if credit {
        r.all(&root, "cac:PaymentMeans/cbc:PaymentDueDate")
            .first()
            .map(|e| r.val_of(e))
    } else {
        r.val(&root, "cbc:DueDate")
    };
    d.buyer_reference = r.val(&root, "cbc:BuyerReference");
    d.contract_reference = r.val(&root, "cac:ContractDocumentReference/cbc:ID");
    d.purchase_order_reference = r.val(&root, "cac:OrderReference/cbc:ID");
    d.sales_order_reference = r.val(&root, "cac:OrderReference/cbc:SalesOrderID");
    d.receiving_advice_reference = r.val(&root, "cac:ReceiptDocumentReference/cbc:ID");
    d.despatch_advice_reference = r.val(&root, "cac:DespatchDocumentReference/cbc:ID");
    d.tender_reference = r.val(&root, "cac:OriginatorDocumentReference/cbc:ID");
    d.buyer_accounting_reference = r.val(&root, "cbc:AccountingCost");
    d.payment_terms = r.val(&root, "cac:PaymentTerms/cbc:Note");
    d.business_process = r.val(&root, "cbc:ProfileID");
    d.specification_identifier = r.val(&root, "cbc:CustomizationID");
    d.project_reference = r.val(&root, "cac:ProjectReference/cbc:ID");

    d.document_references = r
        .descendants(&root, "cac:AdditionalDocumentReference")
        .iter()
        .map(|e| DraftReference {
            at: r.loc(e),
            id: r.val(e, "cbc:ID"),
        })
        .collect();
    for doc_ref in r.kids(&root, "cac:AdditionalDocumentReference") {
        let code = r.val(&doc_ref, "cbc:DocumentTypeCode").map(|v| v.trimmed());
        match code.as_deref() {
            Some("130") if d.invoiced_object_identifier.is_none() => {
                let id = r.val(&doc_ref, "cbc:ID");
                d.invoiced_object_scheme = id.as_ref().and_then(|v| v.attr("schemeID").cloned());
                d.invoiced_object_identifier = id;
            }
            Some("50") if credit && d.project_reference.is_none() => {
                d.project_reference = r.val(&doc_ref, "cbc:ID");
            }
            _ => d.additional_documents.push(DraftAdditionalDocument {
                at: r.loc(&doc_ref),
                reference: r.val(&doc_ref, "cbc:ID"),
                description: r.val(&doc_ref, "cbc:DocumentDescription"),
                external_uri: r.val(&doc_ref, "cac:Attachment/cac:ExternalReference/cbc:URI"),
                attachment: r.val(&doc_ref, "cac:Attachment/cbc:EmbeddedDocumentBinaryObject"),
            }),
        }
    }

    d.preceding_invoices = r
        .all(&root, "cac:BillingReference/cac:InvoiceDocumentReference")
        .iter()
        .map(|e| DraftPrecedingInvoice {
            at: r.loc(e),
            number: r.val(e, "cbc:ID"),
            issue_date: r.val(e, "cbc:IssueDate"),
        })
        .collect();

    d.billing_references = r
        .kids(&root, "cac:BillingReference")
        .iter()
        .map(|e| billing_reference(&r, e))
        .collect();
    d.seller_group = r.kid(&root, "cac:AccountingSupplierParty").map(|e| r.loc(&e));
    d.seller = r
        .at(&root, "cac:AccountingSupplierParty/cac:Party")
        .map(|p| party(&r, &p, Role::Seller));
    d.buyer = r
        .at(&root, "cac:AccountingCustomerParty/cac:Party")
        .map(|p| party(&r, &p, Role::Buyer));
    d.payee = r.kid(&root, "cac:PayeeParty").map(|p| party(&r, &p, Role::Payee));
    d.tax_representative = r
        .kid(&root, "cac:TaxRepresentativeParty")
        .map(|p| party(&r, &p, Role::TaxRepresentative));
    d.creditor_identifier = [
        "cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID",
        "cac:PayeeParty/cac:PartyIdentification/cbc:ID",
    ]
    .iter()
    .flat_map(|chain| r.all(&root, chain))
    .find(|e| e.node.attribute("schemeID").map(str::trim) == Some("SEPA"))
    .map(|e| r.val_of(&e));

    d.delivery = r.kid(&root, "cac:Delivery").map(|e| DraftDelivery {
        at: r.loc(&e),
        party_name: r.val(&e, "cac:DeliveryParty/cac:PartyName/cbc:Name"),
        location_id: r.val(&e, "cac:DeliveryLocation/cbc:ID"),
        actual_date: r.val(&e, "cbc:ActualDeliveryDate"),
        address: r.at(&e, "cac:DeliveryLocation/cac:Address").map(|a| address(&r, &a)),
    });
    d.invoicing_period = r.kid(&root, "cac:InvoicePeriod").map(|e| period(&r, &e));

    d.payment_means = r
        .kids(&root, "cac:PaymentMeans")
        .iter()
        .map(|e| DraftPaymentMeans {
            at: r.loc(e),
            type_code: r.val(e, "cbc:PaymentMeansCode"),
            text: r.at(e, "cbc:PaymentMeansCode").and_then(|c| r.attr_val(&c, "name")),
            remittance: r.val(e, "cbc:PaymentID"),
            credit_transfers: r
                .kids(e, "cac:PayeeFinancialAccount")
                .iter()
                .map(|a| DraftCreditTransfer {
                    at: r.loc(a),
                    account_id: r.val(a, "cbc:ID"),
                    account_name: r.val(a, "cbc:Name"),
                    service_provider_id: r.val(a, "cac:FinancialInstitutionBranch/cbc:ID"),
                })
                .collect(),
            card: r.kid(e, "cac:CardAccount").map(|c| DraftCard {
                at: r.loc(&c),
                primary_account_number: r.val(&c, "cbc:PrimaryAccountNumberID"),
                holder_name: r.val(&c, "cbc:HolderName"),
            }),
            mandate_reference: r.val(e, "cac:PaymentMandate/cbc:ID"),
            debited_account: r.val(e, "cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID"),
        })
        .collect();

    for ac in r.kids(&root, "cac:AllowanceCharge") {
        let item = DraftAllowanceCharge {
            at: r.loc(&ac),
            charge_indicator: r.val(&ac, "cbc:ChargeIndicator"),
            amount: r.val(&ac, "cbc:Amount"),
            base_amount: r.val(&ac, "cbc:BaseAmount"),
            percentage: r.val(&ac, "cbc:MultiplierFactorNumeric"),
            vat_category: r.val(&ac, "cac:TaxCategory/cbc:ID"),
            vat_rate: r.val(&ac, "cac:TaxCategory/cbc:Percent"),
            vat_scheme: r.val(&ac, "cac:TaxCategory/cac:TaxScheme/cbc:ID"),
            reason: r.val(&ac, "cbc:AllowanceChargeReason"),
            reason_code: r.val(&ac, "cbc:AllowanceChargeReasonCode"),
        };
        classify(
            item,
            &mut d.allowances,
            &mut d.charges,
            &mut d.unclassified_allowance_charges,
        );
    }

    let tax_amounts = r.vals(&root, "cac:TaxTotal/cbc:TaxAmount");
    d.vat_breakdown = r
        .all(&root, "cac:TaxTotal/cac:TaxSubtotal")
        .iter()
        .map(|e| subtotal(&r, e))
        .collect();
    let monetary = r.kid(&root, "cac:LegalMonetaryTotal");
    d.totals_group = monetary.as_ref().map(|m| r.loc(m));
    if monetary.is_some() || !tax_amounts.is_empty() {
        let m = monetary.as_ref();
        let v = |name: &'static str| m.and_then(|m| r.val(m, name));
        let (vat_total, vat_total_accounting) =
            split_vat_totals(&tax_amounts, d.currency_code.as_ref(), d.vat_currency_code.as_ref());
        d.totals = Some(DraftTotals {
            at: m.map(|m| r.loc(m)).unwrap_or_default(),
            line_net_total: v("cbc:LineExtensionAmount"),
            allowance_total: v("cbc:AllowanceTotalAmount"),
            charge_total: v("cbc:ChargeTotalAmount"),
            tax_exclusive_total: v("cbc:TaxExclusiveAmount"),
            vat_total,
            vat_total_accounting,
            vat_total_amounts: tax_amounts,
            tax_inclusive_total: v("cbc:TaxInclusiveAmount"),
            prepaid: v("cbc:PrepaidAmount"),
            rounding: v("cbc:PayableRoundingAmount"),
            payable: v("cbc:PayableAmount"),
        });
    }

    // The official rules take `cac:InvoiceLine | cac:CreditNoteLine` whatever the root, so a line of the
    // other kind is still a line (its quantity element is looked up under both names).
    let mut lines = r.kids(&root, "cac:InvoiceLine");
    lines.extend(r.kids(&root, "cac:CreditNoteLine"));
    lines.sort_by_key(|l| l.node.range().start);
    d.lines = lines.iter().map(|l| line(&r, l)).collect();
    // What the UBL schema also allows inside a line, and the official rules check wherever it is.
    let address_chain = "cac:Delivery/cac:DeliveryLocation/cac:Address";
    d.delivery_addresses = r.all(&root, address_chain).iter().map(|a| address(&r, a)).collect();
    for l in &lines {
        let refs = r.kids(l, "cac:BillingReference");
        d.billing_references
            .extend(refs.iter().map(|e| billing_reference(&r, e)));
        let addresses = r.all(l, address_chain);
        d.delivery_addresses.extend(addresses.iter().map(|a| address(&r, a)));
        let subtotals = r.all(l, "cac:TaxTotal/cac:TaxSubtotal");
        d.line_vat_breakdowns.extend(subtotals.iter().map(|e| subtotal(&r, e)));
        d.line_vat_total_amounts.extend(r.vals(l, "cac:TaxTotal/cbc:TaxAmount"));
    }
    Ok(d)
}

/// A `cac:BillingReference` with its first `cac:InvoiceDocumentReference/cbc:ID` (BG-3, BT-25).
fn billing_reference<'a, 'i>(r: &R<'_, 'a, 'i>, e: &El<'a, 'i>) -> DraftReference {
    DraftReference {
        at: r.loc(e),
        id: r.vals(e, "cac:InvoiceDocumentReference/cbc:ID").into_iter().next(),
    }
}

/// A `cac:TaxSubtotal` (BG-23).
fn subtotal<'a, 'i>(r: &R<'_, 'a, 'i>, e: &El<'a, 'i>) -> DraftVatBreakdown {
    DraftVatBreakdown {
        at: r.loc(e),
        taxable_amount: r.val(e, "cbc:TaxableAmount"),
        tax_amount: r.val(e, "cbc:TaxAmount"),
        category_code: r.val(e, "cac:TaxCategory/cbc:ID"),
        rate: r.val(e, "cac:TaxCategory/cbc:Percent"),
        exemption_reason: r.val(e, "cac:TaxCategory/cbc:TaxExemptionReason"),
        exemption_reason_code: r.val(e, "cac:TaxCategory/cbc:TaxExemptionReasonCode"),
        vat_scheme: r.val(e, "cac:TaxCategory/cac:TaxScheme/cbc:ID"),
    }
}

/// BT-110 is the tax total in the invoice currency, BT-111 the one in the VAT accounting currency.
pub(crate) fn split_vat_totals(
    amounts: &[Val],
    currency: Option<&Val>,
    vat_currency: Option<&Val>,
) -> (Option<Val>, Option<Val>) {
    let cur_of = |v: &Val| v.attr("currencyID").map(|c| c.trimmed());
    let doc_cur = currency.map(|c| c.trimmed());
    let vat_cur = vat_currency
        .map(|c| c.trimmed())
        .filter(|c| Some(c) != doc_cur.as_ref());
    let vat_total = amounts
        .iter()
        .find(|v| doc_cur.is_some() && cur_of(v) == doc_cur)
        .or_else(|| amounts.iter().find(|v| vat_cur.is_none() || cur_of(v) != vat_cur))
        .cloned();
    let accounting = vat_cur
        .as_ref()
        .and_then(|vc| amounts.iter().find(|v| cur_of(v).as_ref() == Some(vc)))
        .cloned();
    (vat_total, accounting)
}

/// Files an allowance/charge by its indicator (`true`/`false` after trimming, as xs:boolean).
pub(crate) fn classify(
    item: DraftAllowanceCharge,
    allowances: &mut Vec<DraftAllowanceCharge>,
    charges: &mut Vec<DraftAllowanceCharge>,
    other: &mut Vec<DraftAllowanceCharge>,
) {
    match item.charge_indicator.as_ref().map(|v| v.trimmed()).as_deref() {
        Some("false") | Some("0") => allowances.push(item),
        Some("true") | Some("1") => charges.push(item),
        _ => other.push(item),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Seller,
    Buyer,
    Payee,
    TaxRepresentative,
}

fn party<'a, 'i>(r: &R<'_, 'a, 'i>, p: &El<'a, 'i>, role: Role) -> DraftParty {
    let legal_name = r.val(p, "cac:PartyLegalEntity/cbc:RegistrationName");
    let party_name = r.val(p, "cac:PartyName/cbc:Name");
    let (name, trading_name) = match role {
        Role::Seller | Role::Buyer => (legal_name, party_name),
        Role::Payee | Role::TaxRepresentative => (party_name, None),
    };
    let identifiers = match role {
        Role::TaxRepresentative => Vec::new(),
        _ => r
            .all(p, "cac:PartyIdentification/cbc:ID")
            .iter()
            .filter(|e| e.node.attribute("schemeID").map(str::trim) != Some("SEPA"))
            .map(|e| r.val_of(e))
            .collect(),
    };
    let tax_schemes = r.kids(p, "cac:PartyTaxScheme");
    // `cac:TaxScheme/normalize-space(upper-case(cbc:ID)) = 'VAT'`, as the official rules select them.
    let scheme_is_vat = |e: &El<'a, 'i>| {
        r.val(e, "cac:TaxScheme/cbc:ID")
            .is_some_and(|v| normalize_space(&v.raw.to_uppercase()) == "VAT")
    };
    let vat_identifiers: Vec<Val> = tax_schemes
        .iter()
        .filter(|e| scheme_is_vat(e))
        .filter_map(|e| r.val(e, "cbc:CompanyID"))
        .collect();
    let tax_registration_id = if role == Role::Seller {
        tax_schemes
            .iter()
            .find(|e| !scheme_is_vat(e))
            .and_then(|e| r.val(e, "cbc:CompanyID"))
    } else {
        None
    };
    DraftParty {
        at: r.loc(p),
        name,
        trading_name,
        identifiers,
        legal_registration_id: r.val(p, "cac:PartyLegalEntity/cbc:CompanyID"),
        vat_identifier: vat_identifiers.first().cloned(),
        vat_identifiers,
        tax_registration_id,
        additional_legal_info: if role == Role::Seller {
            r.val(p, "cac:PartyLegalEntity/cbc:CompanyLegalForm")
        } else {
            None
        },
        electronic_address: r.val(p, "cbc:EndpointID"),
        electronic_address_group: None,
        ids_as_written: r.vals(p, "cac:PartyIdentification/cbc:ID"),
        address: r.kid(p, "cac:PostalAddress").map(|a| address(r, &a)),
        contact: r.kid(p, "cac:Contact").map(|c| DraftContact {
            at: r.loc(&c),
            point: r.val(&c, "cbc:Name"),
            telephone: r.val(&c, "cbc:Telephone"),
            email: r.val(&c, "cbc:ElectronicMail"),
        }),
    }
}

fn address<'a, 'i>(r: &R<'_, 'a, 'i>, a: &El<'a, 'i>) -> DraftAddress {
    DraftAddress {
        at: r.loc(a),
        line1: r.val(a, "cbc:StreetName"),
        line2: r.val(a, "cbc:AdditionalStreetName"),
        line3: r.val(a, "cac:AddressLine/cbc:Line"),
        city: r.val(a, "cbc:CityName"),
        post_code: r.val(a, "cbc:PostalZone"),
        subdivision: r.val(a, "cbc:CountrySubentity"),
        country_code: r.val(a, "cac:Country/cbc:IdentificationCode"),
    }
}

fn period<'a, 'i>(r: &R<'_, 'a, 'i>, e: &El<'a, 'i>) -> DraftPeriod {
    let (start, end) = (r.val(e, "cbc:StartDate"), r.val(e, "cbc:EndDate"));
    DraftPeriod {
        at: r.loc(e),
        start_element: start.is_some(),
        end_element: end.is_some(),
        start,
        end,
    }
}

fn line<'a, 'i>(r: &R<'_, 'a, 'i>, l: &El<'a, 'i>) -> DraftLine {
    let (own, other) = if l.node.tag_name().name() == "CreditNoteLine" {
        ("cbc:CreditedQuantity", "cbc:InvoicedQuantity")
    } else {
        ("cbc:InvoicedQuantity", "cbc:CreditedQuantity")
    };
    let object = r
        .kids(l, "cac:DocumentReference")
        .into_iter()
        .find(|e| r.val(e, "cbc:DocumentTypeCode").map(|v| v.trimmed()).as_deref() == Some("130"));
    let object_id = object.as_ref().and_then(|e| r.val(e, "cbc:ID"));
    let mut out = DraftLine {
        at: r.loc(l),
        id: r.val(l, "cbc:ID"),
        note: r.val(l, "cbc:Note"),
        object_scheme: object_id.as_ref().and_then(|v| v.attr("schemeID").cloned()),
        object_id,
        quantity: r.val(l, own).or_else(|| r.val(l, other)),
        net_amount: r.val(l, "cbc:LineExtensionAmount"),
        order_line_reference: r.val(l, "cac:OrderLineReference/cbc:LineID"),
        accounting_reference: r.val(l, "cbc:AccountingCost"),
        period: r.kid(l, "cac:InvoicePeriod").map(|e| period(r, &e)),
        vat_category: r.val(l, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID"),
        vat_rate: r.val(l, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent"),
        vat_scheme: r.val(l, "cac:Item/cac:ClassifiedTaxCategory/cac:TaxScheme/cbc:ID"),
        ..DraftLine::default()
    };
    for ac in r.kids(l, "cac:AllowanceCharge") {
        let item = DraftAllowanceCharge {
            at: r.loc(&ac),
            charge_indicator: r.val(&ac, "cbc:ChargeIndicator"),
            amount: r.val(&ac, "cbc:Amount"),
            base_amount: r.val(&ac, "cbc:BaseAmount"),
            percentage: r.val(&ac, "cbc:MultiplierFactorNumeric"),
            vat_category: None,
            vat_rate: None,
            vat_scheme: None,
            reason: r.val(&ac, "cbc:AllowanceChargeReason"),
            reason_code: r.val(&ac, "cbc:AllowanceChargeReasonCode"),
        };
        classify(
            item,
            &mut out.allowances,
            &mut out.charges,
            &mut out.unclassified_allowance_charges,
        );
    }
    out.price = r.kid(l, "cac:Price").map(|p| DraftPrice {
        at: r.loc(&p),
        net_price: r.val(&p, "cbc:PriceAmount"),
        discount: r.val(&p, "cac:AllowanceCharge/cbc:Amount"),
        gross_price: r.val(&p, "cac:AllowanceCharge/cbc:BaseAmount"),
        base_quantity: r.val(&p, "cbc:BaseQuantity"),
    });
    let mut items = r.kids(l, "cac:Item").into_iter().map(|e| item(r, &e));
    out.item = items.next();
    out.more_items = items.collect();
    out
}

/// BG-31 Item information of one item element.
fn item<'a, 'i>(r: &R<'_, 'a, 'i>, e: &El<'a, 'i>) -> DraftItem {
    DraftItem {
        at: r.loc(e),
        name: r.val(e, "cbc:Name"),
        description: r.val(e, "cbc:Description"),
        seller_id: r.val(e, "cac:SellersItemIdentification/cbc:ID"),
        buyer_id: r.val(e, "cac:BuyersItemIdentification/cbc:ID"),
        standard_id: r.val(e, "cac:StandardItemIdentification/cbc:ID"),
        classifications: r.vals(e, "cac:CommodityClassification/cbc:ItemClassificationCode"),
        origin_country: r.val(e, "cac:OriginCountry/cbc:IdentificationCode"),
        attributes: r
            .kids(e, "cac:AdditionalItemProperty")
            .iter()
            .map(|a| DraftItemAttribute {
                at: r.loc(a),
                name: r.val(a, "cbc:Name"),
                value: r.val(a, "cbc:Value"),
            })
            .collect(),
    }
}
