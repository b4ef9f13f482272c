//! UN/CEFACT CII D16B `CrossIndustryInvoice`: reader into the lenient draft, writer from the
//! strict model.
//!
//! Element paths follow the official EN 16931 CII syntax binding (CEN/TS 16931-3-3).

use roxmltree::Document;

use crate::model::DocKind;
use crate::model::draft::*;
use crate::ubl::{classify, split_vat_totals};
use crate::xml::index::DocIndex;
use crate::xml::{self, El, ReadError, Reader, Syntax};

mod write;
pub use write::write;

pub(crate) const PREFIXES: &[(&str, &str)] = &[
    ("rsm", xml::NS_RSM),
    ("ram", xml::NS_RAM),
    ("udt", xml::NS_UDT),
    ("qdt", xml::NS_QDT),
];

/// UNTDID 1001 codes of credit notes (the UBL `CreditNoteTypeCode` list); CII has a single root,
/// so the kind of document comes from BT-3.
pub const CREDIT_NOTE_TYPE_CODES: &[&str] = &[
    "261", "262", "296", "308", "381", "396", "420", "458", "502", "503", "532", "81",
];

type R<'x, 'a, 'i> = Reader<'x, 'a, 'i>;

const AGREEMENT: &str = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement";
const DELIVERY: &str = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeDelivery";
const SETTLEMENT: &str = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement";

/// Reads a `CrossIndustryInvoice` tree into a draft. Only the root is checked.
pub fn read(doc: &Document<'_>) -> Result<Draft, ReadError> {
    read_indexed(&DocIndex::new(doc))
}

/// [`read`] over a document already indexed.
pub(crate) fn read_indexed(ix: &DocIndex<'_, '_>) -> Result<Draft, ReadError> {
    let doc = ix.doc();
    let (syntax, _) = xml::detect(doc)?;
    if syntax != Syntax::Cii {
        let root = doc.root_element().tag_name();
        return Err(ReadError::UnknownRoot {
            namespace: root.namespace().unwrap_or("").to_string(),
            name: root.name().to_string(),
        });
    }
    let r = Reader::new(ix, PREFIXES);
    let root = r.root();
    let mut d = Draft {
        syntax,
        root: r.loc(&root),
        ..Draft::default()
    };
    d.document_references = r
        .descendants(&root, "ram:AdditionalReferencedDocument")
        .iter()
        .map(|e| reference(&r, e))
        .collect();

    let ctx = r.kid(&root, "rsm:ExchangedDocumentContext");
    d.business_process = ctx
        .as_ref()
        .and_then(|c| r.val(c, "ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID"));
    d.specification_identifier = ctx
        .as_ref()
        .and_then(|c| r.val(c, "ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"));

    if let Some(x) = r.kid(&root, "rsm:ExchangedDocument") {
        d.number = r.val(&x, "ram:ID");
        d.type_code = r.val(&x, "ram:TypeCode");
        d.issue_date = r.val(&x, "ram:IssueDateTime/udt:DateTimeString");
        d.notes = r
            .kids(&x, "ram:IncludedNote")
            .iter()
            .map(|n| DraftNote {
                at: r.loc(n),
                subject_code: r.val(n, "ram:SubjectCode"),
                text: r.val(n, "ram:Content"),
            })
            .collect();
    }
    if d.type_code
        .as_ref()
        .is_some_and(|t| CREDIT_NOTE_TYPE_CODES.contains(&t.trimmed().as_str()))
    {
        d.kind = DocKind::CreditNote;
    }

    if let Some(a) = r.at(&root, AGREEMENT) {
        d.buyer_reference = r.val(&a, "ram:BuyerReference");
        d.seller = r.kid(&a, "ram:SellerTradeParty").map(|p| party(&r, &p, true));
        d.buyer = r.kid(&a, "ram:BuyerTradeParty").map(|p| party(&r, &p, false));
        d.tax_representative = r
            .kid(&a, "ram:SellerTaxRepresentativeTradeParty")
            .map(|p| party(&r, &p, false));
        d.sales_order_reference = r.val(&a, "ram:SellerOrderReferencedDocument/ram:IssuerAssignedID");
        d.purchase_order_reference = r.val(&a, "ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID");
        d.contract_reference = r.val(&a, "ram:ContractReferencedDocument/ram:IssuerAssignedID");
        d.project_reference = r.val(&a, "ram:SpecifiedProcuringProject/ram:ID");
        for doc_ref in r.kids(&a, "ram:AdditionalReferencedDocument") {
            let code = r.val(&doc_ref, "ram:TypeCode").map(|v| v.trimmed());
            match code.as_deref() {
                Some("130") if d.invoiced_object_identifier.is_none() => {
                    d.invoiced_object_identifier = r.val(&doc_ref, "ram:IssuerAssignedID");
                    d.invoiced_object_scheme = r.val(&doc_ref, "ram:ReferenceTypeCode");
                }
                Some("50") if d.tender_reference.is_none() => {
                    d.tender_reference = r.val(&doc_ref, "ram:IssuerAssignedID");
                }
                _ => d.additional_documents.push(DraftAdditionalDocument {
                    at: r.loc(&doc_ref),
                    reference: r.val(&doc_ref, "ram:IssuerAssignedID"),
                    description: r.val(&doc_ref, "ram:Name"),
                    external_uri: r.val(&doc_ref, "ram:URIID"),
                    attachment: r.val(&doc_ref, "ram:AttachmentBinaryObject"),
                }),
            }
        }
    }

    if let Some(dl) = r.at(&root, DELIVERY) {
        let ship_to = r.kid(&dl, "ram:ShipToTradeParty");
        let event_date = r.val(
            &dl,
            "ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/udt:DateTimeString",
        );
        if ship_to.is_some() || event_date.is_some() {
            d.delivery = Some(DraftDelivery {
                at: ship_to.as_ref().map(|s| r.loc(s)).unwrap_or_else(|| r.loc(&dl)),
                party_name: ship_to.as_ref().and_then(|s| r.val(s, "ram:Name")),
                location_id: ship_to
                    .as_ref()
                    .and_then(|s| r.val(s, "ram:ID").or_else(|| r.val(s, "ram:GlobalID"))),
                actual_date: event_date,
                address: ship_to
                    .as_ref()
                    .and_then(|s| r.kid(s, "ram:PostalTradeAddress"))
                    .map(|a| address(&r, &a)),
            });
        }
        d.delivery_addresses = d.delivery.iter().filter_map(|d| d.address.clone()).collect();
        d.despatch_advice_reference = r.val(&dl, "ram:DespatchAdviceReferencedDocument/ram:IssuerAssignedID");
        d.receiving_advice_reference = r.val(&dl, "ram:ReceivingAdviceReferencedDocument/ram:IssuerAssignedID");
    }

    if let Some(s) = r.at(&root, SETTLEMENT) {
        settlement(&r, &s, &mut d);
    }

    if let Some(tx) = r.kid(&root, "rsm:SupplyChainTradeTransaction") {
        let lines = r.kids(&tx, "ram:IncludedSupplyChainTradeLineItem");
        d.lines = lines.iter().map(|l| line(&r, l)).collect();
    }
    Ok(d)
}

fn settlement<'a, 'i>(r: &R<'_, 'a, 'i>, s: &El<'a, 'i>, d: &mut Draft) {
    d.creditor_identifier = r.val(s, "ram:CreditorReferenceID");
    d.remittance_information = r.val(s, "ram:PaymentReference");
    d.vat_currency_code = r.val(s, "ram:TaxCurrencyCode");
    d.currency_code = r.val(s, "ram:InvoiceCurrencyCode");
    d.payee = r.kid(s, "ram:PayeeTradeParty").map(|p| party(r, &p, false));
    d.payment_means = r
        .kids(s, "ram:SpecifiedTradeSettlementPaymentMeans")
        .iter()
        .map(|m| DraftPaymentMeans {
            at: r.loc(m),
            type_code: r.val(m, "ram:TypeCode"),
            text: r.val(m, "ram:Information"),
            remittance: None,
            credit_transfers: r
                .kids(m, "ram:PayeePartyCreditorFinancialAccount")
                .iter()
                .map(|a| DraftCreditTransfer {
                    at: r.loc(a),
                    // BT-84 is either element; a non-empty one wins over an empty one (BR-50).
                    account_id: match (r.val(a, "ram:IBANID"), r.val(a, "ram:ProprietaryID")) {
                        (Some(iban), Some(other)) if iban.is_blank() && !other.is_blank() => Some(other),
                        (iban, other) => iban.or(other),
                    },
                    account_name: r.val(a, "ram:AccountName"),
                    service_provider_id: r.val(m, "ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID"),
                })
                .collect(),
            card: r
                .kid(m, "ram:ApplicableTradeSettlementFinancialCard")
                .map(|c| DraftCard {
                    at: r.loc(&c),
                    primary_account_number: r.val(&c, "ram:ID"),
                    holder_name: r.val(&c, "ram:CardholderName"),
                }),
            mandate_reference: None,
            debited_account: r.val(m, "ram:PayerPartyDebtorFinancialAccount/ram:IBANID"),
        })
        .collect();

    let taxes = r.kids(s, "ram:ApplicableTradeTax");
    d.tax_point_date = taxes.iter().find_map(|t| r.val(t, "ram:TaxPointDate/udt:DateString"));
    d.vat_point_date_code = taxes.iter().find_map(|t| r.val(t, "ram:DueDateTypeCode"));
    d.vat_breakdown = taxes
        .iter()
        .map(|t| DraftVatBreakdown {
            at: r.loc(t),
            taxable_amount: r.val(t, "ram:BasisAmount"),
            tax_amount: r.val(t, "ram:CalculatedAmount"),
            category_code: r.val(t, "ram:CategoryCode"),
            rate: r.val(t, "ram:RateApplicablePercent"),
            exemption_reason: r.val(t, "ram:ExemptionReason"),
            exemption_reason_code: r.val(t, "ram:ExemptionReasonCode"),
            vat_scheme: r.val(t, "ram:TypeCode"),
        })
        .collect();
    d.invoicing_period = r.kid(s, "ram:BillingSpecifiedPeriod").map(|p| period(r, &p));
    for ac in r.kids(s, "ram:SpecifiedTradeAllowanceCharge") {
        let item = allowance_charge(r, &ac, true);
        classify(
            item,
            &mut d.allowances,
            &mut d.charges,
            &mut d.unclassified_allowance_charges,
        );
    }
    if let Some(t) = r.kid(s, "ram:SpecifiedTradePaymentTerms") {
        d.payment_terms = r.val(&t, "ram:Description");
        d.due_date = r.val(&t, "ram:DueDateDateTime/udt:DateTimeString");
        d.mandate_reference = r.val(&t, "ram:DirectDebitMandateID");
    }
    if let Some(m) = r.kid(s, "ram:SpecifiedTradeSettlementHeaderMonetarySummation") {
        d.totals_group = Some(r.loc(&m));
        let amounts = r.vals(&m, "ram:TaxTotalAmount");
        let (vat_total, vat_total_accounting) =
            split_vat_totals(&amounts, d.currency_code.as_ref(), d.vat_currency_code.as_ref());
        d.totals = Some(DraftTotals {
            at: r.loc(&m),
            line_net_total: r.val(&m, "ram:LineTotalAmount"),
            allowance_total: r.val(&m, "ram:AllowanceTotalAmount"),
            charge_total: r.val(&m, "ram:ChargeTotalAmount"),
            tax_exclusive_total: r.val(&m, "ram:TaxBasisTotalAmount"),
            vat_total,
            vat_total_accounting,
            vat_total_amounts: amounts,
            tax_inclusive_total: r.val(&m, "ram:GrandTotalAmount"),
            prepaid: r.val(&m, "ram:TotalPrepaidAmount"),
            rounding: r.val(&m, "ram:RoundingAmount"),
            payable: r.val(&m, "ram:DuePayableAmount"),
        });
    }
    d.preceding_invoices = r
        .kids(s, "ram:InvoiceReferencedDocument")
        .iter()
        .map(|e| DraftPrecedingInvoice {
            at: r.loc(e),
            number: r.val(e, "ram:IssuerAssignedID"),
            issue_date: r.val(e, "ram:FormattedIssueDateTime/qdt:DateTimeString"),
        })
        .collect();
    d.billing_references = r
        .kids(s, "ram:InvoiceReferencedDocument")
        .iter()
        .map(|e| reference(r, e))
        .collect();
    d.buyer_accounting_reference = r.val(s, "ram:ReceivableSpecifiedTradeAccountingAccount/ram:ID");
}

/// A referenced document element with its `ram:IssuerAssignedID`.
fn reference<'a, 'i>(r: &R<'_, 'a, 'i>, e: &El<'a, 'i>) -> DraftReference {
    DraftReference {
        at: r.loc(e),
        id: r.val(e, "ram:IssuerAssignedID"),
    }
}

fn allowance_charge<'a, 'i>(r: &R<'_, 'a, 'i>, ac: &El<'a, 'i>, with_vat: bool) -> DraftAllowanceCharge {
    DraftAllowanceCharge {
        at: r.loc(ac),
        charge_indicator: r.val(ac, "ram:ChargeIndicator/udt:Indicator"),
        amount: r.val(ac, "ram:ActualAmount"),
        base_amount: r.val(ac, "ram:BasisAmount"),
        percentage: r.val(ac, "ram:CalculationPercent"),
        vat_category: if with_vat {
            r.val(ac, "ram:CategoryTradeTax/ram:CategoryCode")
        } else {
            None
        },
        vat_rate: if with_vat {
            r.val(ac, "ram:CategoryTradeTax/ram:RateApplicablePercent")
        } else {
            None
        },
        vat_scheme: if with_vat {
            r.val(ac, "ram:CategoryTradeTax/ram:TypeCode")
        } else {
            None
        },
        reason: r.val(ac, "ram:Reason"),
        reason_code: r.val(ac, "ram:ReasonCode"),
    }
}

fn party<'a, 'i>(r: &R<'_, 'a, 'i>, p: &El<'a, 'i>, seller: bool) -> DraftParty {
    let mut identifiers = r.vals(p, "ram:ID");
    identifiers.extend(r.vals(p, "ram:GlobalID"));
    let regs = r.kids(p, "ram:SpecifiedTaxRegistration");
    let regs_with = |scheme: &str| -> Vec<Val> {
        regs.iter()
            .flat_map(|e| r.kids(e, "ram:ID"))
            .filter(|id| id.node.attribute("schemeID").map(str::trim) == Some(scheme))
            .map(|id| r.val_of(&id))
            .collect()
    };
    let reg_with = |scheme: &str| regs_with(scheme).into_iter().next();
    let vat_identifiers = regs_with("VA");
    DraftParty {
        at: r.loc(p),
        name: r.val(p, "ram:Name"),
        trading_name: r.val(p, "ram:SpecifiedLegalOrganization/ram:TradingBusinessName"),
        identifiers,
        legal_registration_id: r.val(p, "ram:SpecifiedLegalOrganization/ram:ID"),
        vat_identifier: vat_identifiers.first().cloned(),
        vat_identifiers,
        tax_registration_id: if seller { reg_with("FC") } else { None },
        additional_legal_info: r.val(p, "ram:Description"),
        electronic_address: r.val(p, "ram:URIUniversalCommunication/ram:URIID"),
        electronic_address_group: r.kid(p, "ram:URIUniversalCommunication").map(|c| r.loc(&c)),
        ids_as_written: r.vals(p, "ram:ID"),
        address: r.kid(p, "ram:PostalTradeAddress").map(|a| address(r, &a)),
        contact: r.kid(p, "ram:DefinedTradeContact").map(|c| DraftContact {
            at: r.loc(&c),
            point: r.val(&c, "ram:PersonName").or_else(|| r.val(&c, "ram:DepartmentName")),
            telephone: r.val(&c, "ram:TelephoneUniversalCommunication/ram:CompleteNumber"),
            email: r.val(&c, "ram:EmailURIUniversalCommunication/ram:URIID"),
        }),
    }
}

fn address<'a, 'i>(r: &R<'_, 'a, 'i>, a: &El<'a, 'i>) -> DraftAddress {
    DraftAddress {
        at: r.loc(a),
        line1: r.val(a, "ram:LineOne"),
        line2: r.val(a, "ram:LineTwo"),
        line3: r.val(a, "ram:LineThree"),
        city: r.val(a, "ram:CityName"),
        post_code: r.val(a, "ram:PostcodeCode"),
        subdivision: r.val(a, "ram:CountrySubDivisionName"),
        country_code: r.val(a, "ram:CountryID"),
    }
}

fn period<'a, 'i>(r: &R<'_, 'a, 'i>, e: &El<'a, 'i>) -> DraftPeriod {
    DraftPeriod {
        at: r.loc(e),
        start: r.val(e, "ram:StartDateTime/udt:DateTimeString"),
        end: r.val(e, "ram:EndDateTime/udt:DateTimeString"),
        start_element: r.kid(e, "ram:StartDateTime").is_some(),
        end_element: r.kid(e, "ram:EndDateTime").is_some(),
    }
}

fn line<'a, 'i>(r: &R<'_, 'a, 'i>, l: &El<'a, 'i>) -> DraftLine {
    let doc = r.kid(l, "ram:AssociatedDocumentLineDocument");
    let agreement = r.kid(l, "ram:SpecifiedLineTradeAgreement");
    let settlement = r.kid(l, "ram:SpecifiedLineTradeSettlement");
    let object = settlement.as_ref().and_then(|s| {
        r.kids(s, "ram:AdditionalReferencedDocument")
            .into_iter()
            .find(|e| r.val(e, "ram:TypeCode").map(|v| v.trimmed()).as_deref() == Some("130"))
    });
    let mut out = DraftLine {
        at: r.loc(l),
        id: doc.as_ref().and_then(|d| r.val(d, "ram:LineID")),
        note: doc.as_ref().and_then(|d| r.val(d, "ram:IncludedNote/ram:Content")),
        object_id: object.as_ref().and_then(|o| r.val(o, "ram:IssuerAssignedID")),
        object_scheme: object.as_ref().and_then(|o| r.val(o, "ram:ReferenceTypeCode")),
        quantity: r.val(l, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity"),
        order_line_reference: agreement
            .as_ref()
            .and_then(|a| r.val(a, "ram:BuyerOrderReferencedDocument/ram:LineID")),
        ..DraftLine::default()
    };
    if let Some(s) = &settlement {
        out.net_amount = r.val(
            s,
            "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
        );
        out.accounting_reference = r.val(s, "ram:ReceivableSpecifiedTradeAccountingAccount/ram:ID");
        out.period = r.kid(s, "ram:BillingSpecifiedPeriod").map(|p| period(r, &p));
        out.vat_category = r.val(s, "ram:ApplicableTradeTax/ram:CategoryCode");
        out.vat_rate = r.val(s, "ram:ApplicableTradeTax/ram:RateApplicablePercent");
        out.vat_scheme = r.val(s, "ram:ApplicableTradeTax/ram:TypeCode");
        for ac in r.kids(s, "ram:SpecifiedTradeAllowanceCharge") {
            let item = allowance_charge(r, &ac, false);
            classify(
                item,
                &mut out.allowances,
                &mut out.charges,
                &mut out.unclassified_allowance_charges,
            );
        }
    }
    if let Some(a) = &agreement {
        let gross = r.kid(a, "ram:GrossPriceProductTradePrice");
        let net = r.kid(a, "ram:NetPriceProductTradePrice");
        if gross.is_some() || net.is_some() {
            let at = net.as_ref().or(gross.as_ref()).map(|e| r.loc(e)).unwrap_or_default();
            out.price = Some(DraftPrice {
                at,
                net_price: net.as_ref().and_then(|n| r.val(n, "ram:ChargeAmount")),
                discount: gross
                    .as_ref()
                    .and_then(|g| r.val(g, "ram:AppliedTradeAllowanceCharge/ram:ActualAmount")),
                gross_price: gross.as_ref().and_then(|g| r.val(g, "ram:ChargeAmount")),
                base_quantity: net
                    .as_ref()
                    .and_then(|n| r.val(n, "ram:BasisQuantity"))
                    .or_else(|| gross.as_ref().and_then(|g| r.val(g, "ram:BasisQuantity"))),
            });
        }
    }
    let mut items = r.kids(l, "ram:SpecifiedTradeProduct").into_iter().map(|e| item(r, &e));
    out.item = items.next();
    out.more_items = items.collect();
    out
}

/// BG-31 Item information of one item element.
fn item<'a, 'i>(r: &R<'_, 'a, 'i>, e: &El<'a, 'i>) -> DraftItem {
    DraftItem {
        at: r.loc(e),
        name: r.val(e, "ram:Name"),
        description: r.val(e, "ram:Description"),
        seller_id: r.val(e, "ram:SellerAssignedID"),
        buyer_id: r.val(e, "ram:BuyerAssignedID"),
        standard_id: r.val(e, "ram:GlobalID"),
        classifications: r.vals(e, "ram:DesignatedProductClassification/ram:ClassCode"),
        origin_country: r.val(e, "ram:OriginTradeCountry/ram:ID"),
        attributes: r
            .kids(e, "ram:ApplicableProductCharacteristic")
            .iter()
            .map(|a| DraftItemAttribute {
                at: r.loc(a),
                name: r.val(a, "ram:Description"),
                value: r.val(a, "ram:Value"),
            })
            .collect(),
    }
}
