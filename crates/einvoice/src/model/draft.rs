//! The lenient reading of a document: what validation rules inspect.
//!
//! Real documents (and the official unit-test fragments) miss mandatory terms, repeat singletons
//! and carry text where numbers belong, so nothing here is required or typed: every term is the
//! element text as written ([`Val`]) with where it came from. The strict [`crate::model::Invoice`]
//! is built from a draft once it is complete.
//!
//! Groups mirror the EN 16931 BG groups; each field names its BT in the doc comment. Where the two
//! syntaxes place a term differently the field says so.

use std::sync::{Arc, OnceLock};

use rust_decimal::Decimal;

use crate::model::DocKind;
use crate::xml::Syntax;

/// Where something is in the source document: 1-based line and an XPath-like path with positional
/// predicates (`/ubl:Invoice/cac:InvoiceLine[2]/cbc:ID[1]`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Loc {
    pub line: u32,
    pub path: DocPath,
}

/// An XPath-like path, written out only when asked for. A reader locates every term it reads, but
/// only the few terms a rule reports on need their path as text; building each path eagerly was
/// measured at about 8 % of a whole validation. A path read from a document is its node's number in
/// the document's [`PathTable`]; the text is made on first use and kept. Dereferences to `str`.
#[derive(Clone, Default)]
pub struct DocPath {
    text: OnceLock<String>,
    node: Option<(Arc<PathTable>, u32, u32)>,
}

impl DocPath {
    /// The path of element `node` (and of its attribute number `attr` in `table`, unless [`NO_ATTR`]).
    pub(crate) fn node(table: &Arc<PathTable>, node: u32, attr: u32) -> Self {
        DocPath {
            text: OnceLock::new(),
            node: Some((Arc::clone(table), node, attr)),
        }
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        self.text.get_or_init(|| match &self.node {
            Some((table, node, attr)) => table.render(*node, *attr),
            None => String::new(),
        })
    }
}

impl std::ops::Deref for DocPath {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for DocPath {
    fn from(text: String) -> Self {
        DocPath {
            text: OnceLock::from(text),
            node: None,
        }
    }
}

impl From<&str> for DocPath {
    fn from(text: &str) -> Self {
        DocPath::from(text.to_owned())
    }
}

impl PartialEq for DocPath {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for DocPath {}

impl PartialEq<str> for DocPath {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for DocPath {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Debug for DocPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for DocPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// No attribute: a [`DocPath`] of an element.
pub(crate) const NO_ATTR: u32 = u32::MAX;

/// What it takes to write out the path of any element of one document, without the document: each
/// element's parent, name and position among its same-name siblings.
#[derive(Debug, Default)]
pub struct PathTable {
    /// By node number: (parent node, name number, position); the root element has no parent
    /// (`u32::MAX`) and is written without a position.
    pub(crate) nodes: Vec<(u32, u32, u32)>,
    /// `prefix:local` of each name number, then each attribute name, as ranges of `text`.
    pub(crate) steps: Vec<(u32, u32)>,
    pub(crate) attrs: Vec<(u32, u32)>,
    pub(crate) text: String,
}

impl PathTable {
    fn part(&self, range: Option<&(u32, u32)>) -> &str {
        range
            .and_then(|(a, b)| self.text.get(*a as usize..*b as usize))
            .unwrap_or("*")
    }

    fn render(&self, node: u32, attr: u32) -> String {
        let mut chain = Vec::new();
        let mut cur = node;
        // At most one step per node: a corrupt table cannot loop.
        while let Some(&(parent, name, pos)) = self.nodes.get(cur as usize) {
            chain.push((name, pos));
            if parent == u32::MAX || chain.len() > self.nodes.len() {
                break;
            }
            cur = parent;
        }
        let mut out = String::with_capacity(16 * chain.len() + 8);
        for (name, pos) in chain.iter().rev() {
            out.push('/');
            out.push_str(self.part(self.steps.get(*name as usize)));
            if *pos > 0 {
                out.push('[');
                out.push_str(&pos.to_string());
                out.push(']');
            }
        }
        if attr != NO_ATTR {
            out.push_str("/@");
            out.push_str(self.part(self.attrs.get(attr as usize)));
        }
        out
    }
}

/// One term as written: the element's (or attribute's) text, untouched, with its location and the
/// element's attributes (`currencyID`, `schemeID`, `unitCode`, `listID`, `mimeCode` …).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Val {
    /// The string value, not trimmed (rules distinguish `" "` from absent).
    pub raw: String,
    pub line: u32,
    pub path: DocPath,
    /// The element's unqualified attributes, in document order, each located at `…/@name`.
    pub attrs: Vec<(String, Val)>,
}

impl Val {
    /// XPath `normalize-space`: trimmed, inner whitespace runs collapsed to one space.
    pub fn trimmed(&self) -> String {
        normalize_space(&self.raw)
    }

    /// True when the value is empty after `normalize-space` (how the rules test presence).
    pub fn is_blank(&self) -> bool {
        self.raw.trim().is_empty()
    }

    /// The value as an XML Schema `xs:decimal` (optional sign, digits, optional fraction; no
    /// exponent, surrounding whitespace allowed). `None` if it is not one or does not fit.
    pub fn decimal(&self) -> Option<Decimal> {
        parse_xs_decimal(&self.raw)
    }

    /// The attribute `name`, if present.
    pub fn attr(&self, name: &str) -> Option<&Val> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The location of this value.
    pub fn loc(&self) -> Loc {
        Loc {
            line: self.line,
            path: self.path.clone(),
        }
    }
}

/// XPath `normalize-space`: runs of XML whitespace (space, tab, line feed, carriage return; not form
/// feed, which XPath keeps) become one space, leading and trailing ones go.
pub fn normalize_space(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split([' ', '\t', '\n', '\r']).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// Parses an `xs:decimal` lexical form.
pub fn parse_xs_decimal(raw: &str) -> Option<Decimal> {
    let s = raw.trim_matches([' ', '\t', '\n', '\r']);
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return None;
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let s = s.strip_suffix('.').unwrap_or(s);
    let normalized = if int.is_empty() {
        s.replacen('.', "0.", 1)
    } else {
        s.to_string()
    };
    normalized.parse::<Decimal>().ok()
}

/// The whole document as read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Draft {
    pub syntax: Syntax,
    pub kind: DocKind,
    /// The root element.
    pub root: Loc,
    /// BT-1 Invoice number.
    pub number: Option<Val>,
    /// BT-2 Invoice issue date (UBL `YYYY-MM-DD`; CII `udt:DateTimeString`, `format` attribute).
    pub issue_date: Option<Val>,
    /// BT-3 Invoice type code (UBL `InvoiceTypeCode` / `CreditNoteTypeCode`: the root's own element, or
    /// the other one when that is absent or empty).
    pub type_code: Option<Val>,
    /// BG-1 Invoice notes (UBL: the subject code stays inside the note text as `#CODE#`).
    pub notes: Vec<DraftNote>,
    /// BT-5 Invoice currency code.
    pub currency_code: Option<Val>,
    /// BT-6 VAT accounting currency code.
    pub vat_currency_code: Option<Val>,
    /// BT-7 Value added tax point date (CII: first `ApplicableTradeTax/TaxPointDate/DateString`).
    pub tax_point_date: Option<Val>,
    /// BT-8 Value added tax point date code (UBL `InvoicePeriod/DescriptionCode`; CII first
    /// `ApplicableTradeTax/DueDateTypeCode`).
    pub vat_point_date_code: Option<Val>,
    /// BT-9 Payment due date (UBL invoice `cbc:DueDate`, credit note `PaymentMeans/PaymentDueDate`).
    pub due_date: Option<Val>,
    /// BT-10 Buyer reference.
    pub buyer_reference: Option<Val>,
    /// BT-11 Project reference.
    pub project_reference: Option<Val>,
    /// BT-12 Contract reference.
    pub contract_reference: Option<Val>,
    /// BT-13 Purchase order reference.
    pub purchase_order_reference: Option<Val>,
    /// BT-14 Sales order reference.
    pub sales_order_reference: Option<Val>,
    /// BT-15 Receiving advice reference.
    pub receiving_advice_reference: Option<Val>,
    /// BT-16 Despatch advice reference.
    pub despatch_advice_reference: Option<Val>,
    /// BT-17 Tender or lot reference.
    pub tender_reference: Option<Val>,
    /// BT-18 Invoiced object identifier (scheme: UBL `@schemeID`; CII in `object_scheme`).
    pub invoiced_object_identifier: Option<Val>,
    /// BT-18-1 scheme identifier (CII `ReferenceTypeCode`; UBL the `schemeID` attribute).
    pub invoiced_object_scheme: Option<Val>,
    /// BT-19 Buyer accounting reference.
    pub buyer_accounting_reference: Option<Val>,
    /// BT-20 Payment terms.
    pub payment_terms: Option<Val>,
    /// BT-23 Business process type (BG-2).
    pub business_process: Option<Val>,
    /// BT-24 Specification identifier (BG-2).
    pub specification_identifier: Option<Val>,
    /// BG-3 Preceding invoice references.
    pub preceding_invoices: Vec<DraftPrecedingInvoice>,
    /// Every BG-3 group element as written (UBL `cac:BillingReference`, whatever it holds, of the
    /// document and of its lines; CII
    /// `ram:InvoiceReferencedDocument`) with its BT-25 (UBL the first
    /// `cac:InvoiceDocumentReference/cbc:ID`, CII `ram:IssuerAssignedID`): BR-55 applies to each.
    pub billing_references: Vec<DraftReference>,
    /// BG-4 Seller.
    pub seller: Option<DraftParty>,
    /// BG-7 Buyer.
    pub buyer: Option<DraftParty>,
    /// BG-10 Payee.
    pub payee: Option<DraftParty>,
    /// BG-11 Seller tax representative party.
    pub tax_representative: Option<DraftParty>,
    /// UBL `cac:AccountingSupplierParty` (BR-CO-26 applies to it even without a `cac:Party`).
    pub seller_group: Option<Loc>,
    /// BG-22 element (UBL `cac:LegalMonetaryTotal`, CII `ram:SpecifiedTradeSettlementHeaderMonetarySummation`),
    /// even empty: BR-12..BR-15 apply to it. (UBL [`Draft::totals`] also exists without it, holding only
    /// the tax total amounts.)
    pub totals_group: Option<Loc>,
    /// BG-13 Delivery information.
    pub delivery: Option<DraftDelivery>,
    /// Every BG-15 deliver-to address as written, for BR-57: UBL each
    /// `cac:Delivery/cac:DeliveryLocation/cac:Address` of the document and of its lines (the UBL schema
    /// allows several, and deliveries in lines); CII the header ship-to address.
    pub delivery_addresses: Vec<DraftAddress>,
    /// BG-14 Invoicing period.
    pub invoicing_period: Option<DraftPeriod>,
    /// BG-16 Payment instructions: one entry per UBL `cac:PaymentMeans` / CII
    /// `SpecifiedTradeSettlementPaymentMeans`.
    pub payment_means: Vec<DraftPaymentMeans>,
    /// BT-83 Remittance information at header level (CII `PaymentReference`; UBL keeps it per
    /// payment means).
    pub remittance_information: Option<Val>,
    /// BT-89 Mandate reference identifier at header level (CII `DirectDebitMandateID`).
    pub mandate_reference: Option<Val>,
    /// BT-90 Bank assigned creditor identifier (UBL seller/payee `PartyIdentification/ID[@schemeID='SEPA']`;
    /// CII `CreditorReferenceID`).
    pub creditor_identifier: Option<Val>,
    /// BG-20 Document level allowances (charge indicator false).
    pub allowances: Vec<DraftAllowanceCharge>,
    /// BG-21 Document level charges (charge indicator true).
    pub charges: Vec<DraftAllowanceCharge>,
    /// Allowance/charge groups whose indicator is missing or neither true nor false.
    pub unclassified_allowance_charges: Vec<DraftAllowanceCharge>,
    /// BG-22 Document totals.
    pub totals: Option<DraftTotals>,
    /// BG-23 VAT breakdown.
    pub vat_breakdown: Vec<DraftVatBreakdown>,
    /// UBL `cac:TaxTotal/cac:TaxSubtotal` inside lines (the UBL schema allows them, EN 16931 does not):
    /// BR-45..BR-48 apply to them as to the document's. Not part of BG-23. CII: empty.
    pub line_vat_breakdowns: Vec<DraftVatBreakdown>,
    /// UBL `cac:TaxTotal/cbc:TaxAmount` inside lines: BR-53 looks for the accounting-currency VAT total
    /// in every `cac:TaxTotal`. CII: empty.
    pub line_vat_total_amounts: Vec<Val>,
    /// BG-24 Additional supporting documents.
    pub additional_documents: Vec<DraftAdditionalDocument>,
    /// Every additional document reference element with its identifier, whatever its type code and
    /// wherever it is (UBL `cac:AdditionalDocumentReference` with `cbc:ID`; CII
    /// `ram:AdditionalReferencedDocument` with `ram:IssuerAssignedID`, header and lines): BT-122 / BT-18 /
    /// BT-17 / BT-128 are all carried by such elements and BR-52 applies to each.
    pub document_references: Vec<DraftReference>,
    /// BG-25 Invoice lines (UBL: `cac:InvoiceLine` and `cac:CreditNoteLine` whatever the root, in
    /// document order).
    pub lines: Vec<DraftLine>,
}

/// BG-1 Invoice note.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftNote {
    pub at: Loc,
    /// BT-21 Invoice note subject code (CII only; UBL writes `#CODE#` in the text).
    pub subject_code: Option<Val>,
    /// BT-22 Invoice note.
    pub text: Option<Val>,
}

/// A reference element and its identifier, for rules that apply to every such element.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftReference {
    pub at: Loc,
    /// The identifier the rule looks at (see the field holding the references).
    pub id: Option<Val>,
}

/// BG-3 Preceding invoice reference.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftPrecedingInvoice {
    pub at: Loc,
    /// BT-25 Preceding invoice reference.
    pub number: Option<Val>,
    /// BT-26 Preceding invoice issue date.
    pub issue_date: Option<Val>,
}

/// A party (BG-4 seller, BG-7 buyer, BG-10 payee, BG-11 tax representative). Terms a role does
/// not have stay `None`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftParty {
    pub at: Loc,
    /// BT-27 / BT-44 / BT-59 / BT-62 name.
    pub name: Option<Val>,
    /// BT-28 / BT-45 trading name.
    pub trading_name: Option<Val>,
    /// BT-29 / BT-46 / BT-60 identifiers (`schemeID` attribute; CII `ID` and `GlobalID`).
    pub identifiers: Vec<Val>,
    /// BT-30 / BT-47 / BT-61 legal registration identifier (`schemeID` attribute).
    pub legal_registration_id: Option<Val>,
    /// BT-31 / BT-48 / BT-63 VAT identifier (the first of [`DraftParty::vat_identifiers`]).
    pub vat_identifier: Option<Val>,
    /// Every VAT identifier the party carries (UBL `cbc:CompanyID` of each `cac:PartyTaxScheme` whose
    /// `cac:TaxScheme/cbc:ID` is VAT; CII each `ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']`):
    /// BR-CO-09 checks each of them.
    pub vat_identifiers: Vec<Val>,
    /// BT-32 Seller tax registration identifier.
    pub tax_registration_id: Option<Val>,
    /// BT-33 Seller additional legal information.
    pub additional_legal_info: Option<Val>,
    /// BT-34 / BT-49 electronic address (`schemeID` attribute).
    pub electronic_address: Option<Val>,
    /// CII: the first `ram:URIUniversalCommunication` (holder of BT-34 / BT-49), even without `ram:URIID`
    /// (BR-62 / BR-63 apply to it). UBL: `None`.
    pub electronic_address_group: Option<Loc>,
    /// The party identifier elements as written, for comparisons between parties (BR-17): UBL every
    /// `cac:PartyIdentification/cbc:ID`, SEPA creditor identifiers (BT-90) included; CII every `ram:ID`.
    pub ids_as_written: Vec<Val>,
    /// BG-5 / BG-8 / BG-12 postal address.
    pub address: Option<DraftAddress>,
    /// BG-6 / BG-9 contact.
    pub contact: Option<DraftContact>,
}

/// A postal address (BG-5, BG-8, BG-12, BG-15).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftAddress {
    pub at: Loc,
    /// BT-35 / BT-50 / BT-64 / BT-75 address line 1.
    pub line1: Option<Val>,
    /// BT-36 / BT-51 / BT-65 / BT-76 address line 2.
    pub line2: Option<Val>,
    /// BT-162 / BT-163 / BT-164 / BT-165 address line 3.
    pub line3: Option<Val>,
    /// BT-37 / BT-52 / BT-66 / BT-77 city.
    pub city: Option<Val>,
    /// BT-38 / BT-53 / BT-67 / BT-78 post code.
    pub post_code: Option<Val>,
    /// BT-39 / BT-54 / BT-68 / BT-79 country subdivision.
    pub subdivision: Option<Val>,
    /// BT-40 / BT-55 / BT-69 / BT-80 country code.
    pub country_code: Option<Val>,
}

/// A contact (BG-6, BG-9).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftContact {
    pub at: Loc,
    /// BT-41 / BT-56 contact point.
    pub point: Option<Val>,
    /// BT-42 / BT-57 telephone.
    pub telephone: Option<Val>,
    /// BT-43 / BT-58 e-mail address.
    pub email: Option<Val>,
}

/// BG-13 Delivery information.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftDelivery {
    pub at: Loc,
    /// BT-70 Deliver to party name.
    pub party_name: Option<Val>,
    /// BT-71 Deliver to location identifier (`schemeID` attribute).
    pub location_id: Option<Val>,
    /// BT-72 Actual delivery date.
    pub actual_date: Option<Val>,
    /// BG-15 Deliver to address.
    pub address: Option<DraftAddress>,
}

/// A period (BG-14, BG-26).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftPeriod {
    pub at: Loc,
    /// BT-73 / BT-134 start date.
    pub start: Option<Val>,
    /// BT-74 / BT-135 end date.
    pub end: Option<Val>,
    /// The start / end date elements are present, even without a value (CII `ram:StartDateTime` /
    /// `ram:EndDateTime` without `udt:DateTimeString`; BR-29 / BR-30 then fail). UBL: the dates are.
    pub start_element: bool,
    pub end_element: bool,
}

/// BG-16 Payment instructions as one payment-means element carries them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftPaymentMeans {
    pub at: Loc,
    /// BT-81 Payment means type code.
    pub type_code: Option<Val>,
    /// BT-82 Payment means text (UBL `PaymentMeansCode/@name`; CII `Information`).
    pub text: Option<Val>,
    /// BT-83 Remittance information (UBL `PaymentID`; CII: see [`Draft::remittance_information`]).
    pub remittance: Option<Val>,
    /// BG-17 Credit transfers.
    pub credit_transfers: Vec<DraftCreditTransfer>,
    /// BG-18 Payment card information.
    pub card: Option<DraftCard>,
    /// BT-89 Mandate reference (UBL `PaymentMandate/ID`; CII: see [`Draft::mandate_reference`]).
    pub mandate_reference: Option<Val>,
    /// BT-91 Debited account identifier.
    pub debited_account: Option<Val>,
}

/// BG-17 Credit transfer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftCreditTransfer {
    pub at: Loc,
    /// BT-84 Payment account identifier (CII `IBANID` or `ProprietaryID`, a non-empty one first).
    pub account_id: Option<Val>,
    /// BT-85 Payment account name.
    pub account_name: Option<Val>,
    /// BT-86 Payment service provider identifier.
    pub service_provider_id: Option<Val>,
}

/// BG-18 Payment card information.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftCard {
    pub at: Loc,
    /// BT-87 Payment card primary account number.
    pub primary_account_number: Option<Val>,
    /// BT-88 Payment card holder name.
    pub holder_name: Option<Val>,
}

/// A document-level (BG-20/BG-21) or line-level (BG-27/BG-28) allowance or charge.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftAllowanceCharge {
    pub at: Loc,
    /// UBL `cbc:ChargeIndicator`, CII `ram:ChargeIndicator/udt:Indicator`.
    pub charge_indicator: Option<Val>,
    /// BT-92 / BT-99 / BT-136 / BT-141 amount.
    pub amount: Option<Val>,
    /// BT-93 / BT-100 / BT-137 / BT-142 base amount.
    pub base_amount: Option<Val>,
    /// BT-94 / BT-101 / BT-138 / BT-143 percentage.
    pub percentage: Option<Val>,
    /// BT-95 / BT-102 VAT category code (document level only).
    pub vat_category: Option<Val>,
    /// BT-96 / BT-103 VAT rate (document level only).
    pub vat_rate: Option<Val>,
    /// Tax scheme of the category (UBL `cac:TaxScheme/cbc:ID`, CII `ram:TypeCode`; document level
    /// only): the VAT rules only look at categories of scheme VAT.
    pub vat_scheme: Option<Val>,
    /// BT-97 / BT-104 / BT-139 / BT-144 reason.
    pub reason: Option<Val>,
    /// BT-98 / BT-105 / BT-140 / BT-145 reason code.
    pub reason_code: Option<Val>,
}

/// BG-22 Document totals.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftTotals {
    pub at: Loc,
    /// BT-106 Sum of invoice line net amount.
    pub line_net_total: Option<Val>,
    /// BT-107 Sum of allowances on document level.
    pub allowance_total: Option<Val>,
    /// BT-108 Sum of charges on document level.
    pub charge_total: Option<Val>,
    /// BT-109 Invoice total amount without VAT.
    pub tax_exclusive_total: Option<Val>,
    /// BT-110 Invoice total VAT amount (the tax total whose `currencyID` is BT-5; else the first).
    pub vat_total: Option<Val>,
    /// BT-111 Invoice total VAT amount in accounting currency (`currencyID` is BT-6 ≠ BT-5).
    pub vat_total_accounting: Option<Val>,
    /// Every VAT total amount element (UBL `TaxTotal/TaxAmount`, CII `TaxTotalAmount`).
    pub vat_total_amounts: Vec<Val>,
    /// BT-112 Invoice total amount with VAT.
    pub tax_inclusive_total: Option<Val>,
    /// BT-113 Paid amount.
    pub prepaid: Option<Val>,
    /// BT-114 Rounding amount.
    pub rounding: Option<Val>,
    /// BT-115 Amount due for payment.
    pub payable: Option<Val>,
}

/// BG-23 VAT breakdown.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftVatBreakdown {
    pub at: Loc,
    /// BT-116 VAT category taxable amount.
    pub taxable_amount: Option<Val>,
    /// BT-117 VAT category tax amount.
    pub tax_amount: Option<Val>,
    /// BT-118 VAT category code.
    pub category_code: Option<Val>,
    /// BT-119 VAT category rate.
    pub rate: Option<Val>,
    /// BT-120 VAT exemption reason text.
    pub exemption_reason: Option<Val>,
    /// BT-121 VAT exemption reason code.
    pub exemption_reason_code: Option<Val>,
    /// Tax scheme of the category (UBL `cac:TaxScheme/cbc:ID`, CII `ram:TypeCode`).
    pub vat_scheme: Option<Val>,
}

/// BG-24 Additional supporting document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftAdditionalDocument {
    pub at: Loc,
    /// BT-122 Supporting document reference.
    pub reference: Option<Val>,
    /// BT-123 Supporting document description.
    pub description: Option<Val>,
    /// BT-124 External document location.
    pub external_uri: Option<Val>,
    /// BT-125 Attached document (base64 text; `mimeCode` and `filename` attributes).
    pub attachment: Option<Val>,
}

/// BG-25 Invoice line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftLine {
    pub at: Loc,
    /// BT-126 Invoice line identifier.
    pub id: Option<Val>,
    /// BT-127 Invoice line note.
    pub note: Option<Val>,
    /// BT-128 Invoice line object identifier (`schemeID`; CII scheme in `object_scheme`).
    pub object_id: Option<Val>,
    /// BT-128-1 scheme (CII `ReferenceTypeCode`; UBL the `schemeID` attribute).
    pub object_scheme: Option<Val>,
    /// BT-129 Invoiced quantity (`unitCode` attribute is BT-130). UBL: `cbc:InvoicedQuantity` or
    /// `cbc:CreditedQuantity`, the line's own name first.
    pub quantity: Option<Val>,
    /// BT-131 Invoice line net amount.
    pub net_amount: Option<Val>,
    /// BT-132 Referenced purchase order line reference.
    pub order_line_reference: Option<Val>,
    /// BT-133 Invoice line Buyer accounting reference.
    pub accounting_reference: Option<Val>,
    /// BG-26 Invoice line period.
    pub period: Option<DraftPeriod>,
    /// BG-27 Invoice line allowances.
    pub allowances: Vec<DraftAllowanceCharge>,
    /// BG-28 Invoice line charges.
    pub charges: Vec<DraftAllowanceCharge>,
    /// Line allowance/charge groups with a missing or invalid indicator.
    pub unclassified_allowance_charges: Vec<DraftAllowanceCharge>,
    /// BG-29 Price details.
    pub price: Option<DraftPrice>,
    /// BT-151 Invoiced item VAT category code (BG-30).
    pub vat_category: Option<Val>,
    /// BT-152 Invoiced item VAT rate (BG-30).
    pub vat_rate: Option<Val>,
    /// Tax scheme of the line category (UBL `cac:TaxScheme/cbc:ID`, CII `ram:TypeCode`).
    pub vat_scheme: Option<Val>,
    /// BG-31 Item information.
    pub item: Option<DraftItem>,
    /// Further item elements of the line (UBL `cac:Item`, CII `ram:SpecifiedTradeProduct`): schema-invalid,
    /// but the official unit tests repeat them and the rules that apply per element (BR-54, BR-64,
    /// BR-65) look at each.
    pub more_items: Vec<DraftItem>,
}

/// BG-29 Price details.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftPrice {
    pub at: Loc,
    /// BT-146 Item net price.
    pub net_price: Option<Val>,
    /// BT-147 Item price discount.
    pub discount: Option<Val>,
    /// BT-148 Item gross price.
    pub gross_price: Option<Val>,
    /// BT-149 Item price base quantity (`unitCode` attribute is BT-150). CII: on the net price,
    /// else on the gross price.
    pub base_quantity: Option<Val>,
}

/// BG-31 Item information.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftItem {
    pub at: Loc,
    /// BT-153 Item name.
    pub name: Option<Val>,
    /// BT-154 Item description.
    pub description: Option<Val>,
    /// BT-155 Item Seller's identifier.
    pub seller_id: Option<Val>,
    /// BT-156 Item Buyer's identifier.
    pub buyer_id: Option<Val>,
    /// BT-157 Item standard identifier (`schemeID` attribute).
    pub standard_id: Option<Val>,
    /// BT-158 Item classification identifiers (`listID`, `listVersionID` attributes).
    pub classifications: Vec<Val>,
    /// BT-159 Item country of origin.
    pub origin_country: Option<Val>,
    /// BG-32 Item attributes.
    pub attributes: Vec<DraftItemAttribute>,
}

/// BG-32 Item attribute.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftItemAttribute {
    pub at: Loc,
    /// BT-160 Item attribute name.
    pub name: Option<Val>,
    /// BT-161 Item attribute value.
    pub value: Option<Val>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xs_decimal_lexical_forms() {
        let d = |s: &str| parse_xs_decimal(s).map(|d| d.to_string());
        assert_eq!(d("12.50"), Some("12.50".into()));
        assert_eq!(d(" -1 "), Some("-1".into()));
        assert_eq!(d("+.5"), Some("0.5".into()));
        assert_eq!(d("3."), Some("3".into()));
        assert_eq!(d("1e3"), None);
        assert_eq!(d("1,5"), None);
        assert_eq!(d(""), None);
        assert_eq!(d("."), None);
        assert_eq!(d("-"), None);
    }

    #[test]
    fn doc_paths_are_written_out_on_demand() {
        // Node 1 is the root element, 2 its second `b`, 3 a child of 2.
        let text = "r:Root".to_owned() + "p:b" + "p:c" + "unit";
        let table = Arc::new(PathTable {
            nodes: vec![(u32::MAX, u32::MAX, 0), (u32::MAX, 0, 0), (1, 1, 2), (2, 2, 1)],
            steps: vec![(0, 6), (6, 9), (9, 12)],
            attrs: vec![(12, 16)],
            text,
        });
        let p = DocPath::node(&table, 3, NO_ATTR);
        assert_eq!(p, "/r:Root/p:b[2]/p:c[1]");
        assert_eq!(DocPath::node(&table, 1, NO_ATTR).as_str(), "/r:Root");
        assert_eq!(DocPath::node(&table, 3, 0).to_string(), "/r:Root/p:b[2]/p:c[1]/@unit");
        assert_eq!(p.rsplit_once('/').map(|(a, _)| a), Some("/r:Root/p:b[2]"));
        assert_eq!(p, DocPath::from("/r:Root/p:b[2]/p:c[1]"));
        assert_eq!(format!("{p:?}"), format!("{:?}", "/r:Root/p:b[2]/p:c[1]"));
        assert_eq!(DocPath::default(), "");
    }

    #[test]
    fn normalize_space_collapses() {
        assert_eq!(normalize_space("  a \n b  "), "a b");
        assert_eq!(normalize_space("\r\n\ta\t\tb\r"), "a b");
        // Form feed is not XML whitespace: XPath keeps it.
        assert_eq!(normalize_space(" a\u{c}b "), "a\u{c}b");
    }
}
