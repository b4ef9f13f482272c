//! The strict EN 16931 invoice: what writers take and what a complete document reads into.
//!
//! Cardinalities follow EN 16931-1 (mandatory terms are not `Option`, repeating groups are
//! `Vec`). Texts are kept trimmed of surrounding whitespace; codes and identifiers are
//! whitespace-normalised, as the official rules compare them.

use rust_decimal::Decimal;

use super::DocKind;
use super::draft::*;
use super::types::*;
use crate::xml::{ReadError, Syntax};

/// BG-0 Invoice (or credit note).
#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    pub kind: DocKind,
    /// BT-1 Invoice number.
    pub number: String,
    /// BT-2 Invoice issue date.
    pub issue_date: Date,
    /// BT-3 Invoice type code (UNTDID 1001).
    pub type_code: Code,
    /// BT-5 Invoice currency code.
    pub currency: CurrencyCode,
    /// BT-6 VAT accounting currency code.
    pub vat_currency: Option<CurrencyCode>,
    /// BT-7 Value added tax point date.
    pub tax_point_date: Option<Date>,
    /// BT-8 Value added tax point date code.
    pub vat_point_date_code: Option<VatPointDateCode>,
    /// BT-9 Payment due date.
    pub due_date: Option<Date>,
    /// BT-10 Buyer reference.
    pub buyer_reference: Option<String>,
    /// BT-11 Project reference.
    pub project_reference: Option<String>,
    /// BT-12 Contract reference.
    pub contract_reference: Option<String>,
    /// BT-13 Purchase order reference.
    pub purchase_order_reference: Option<String>,
    /// BT-14 Sales order reference.
    pub sales_order_reference: Option<String>,
    /// BT-15 Receiving advice reference.
    pub receiving_advice_reference: Option<String>,
    /// BT-16 Despatch advice reference.
    pub despatch_advice_reference: Option<String>,
    /// BT-17 Tender or lot reference.
    pub tender_reference: Option<String>,
    /// BT-18 Invoiced object identifier (with scheme).
    pub invoiced_object: Option<Identifier>,
    /// BT-19 Buyer accounting reference.
    pub buyer_accounting_reference: Option<String>,
    /// BT-20 Payment terms.
    pub payment_terms: Option<String>,
    /// BG-1 Invoice notes.
    pub notes: Vec<Note>,
    /// BT-23 Business process type (BG-2).
    pub business_process: Option<String>,
    /// BT-24 Specification identifier (BG-2).
    pub specification: String,
    /// BG-3 Preceding invoice references.
    pub preceding_invoices: Vec<PrecedingInvoice>,
    /// BG-4 Seller.
    pub seller: Seller,
    /// BG-7 Buyer.
    pub buyer: Buyer,
    /// BG-10 Payee.
    pub payee: Option<Payee>,
    /// BG-11 Seller tax representative party.
    pub tax_representative: Option<TaxRepresentative>,
    /// BG-13 Delivery information.
    pub delivery: Option<Delivery>,
    /// BG-14 Invoicing period.
    pub invoicing_period: Option<Period>,
    /// BG-16 Payment instructions.
    pub payment: Option<PaymentInstructions>,
    /// BG-20 Document level allowances.
    pub allowances: Vec<AllowanceCharge>,
    /// BG-21 Document level charges.
    pub charges: Vec<AllowanceCharge>,
    /// BG-22 Document totals.
    pub totals: Totals,
    /// BG-23 VAT breakdown (at least one).
    pub vat_breakdown: Vec<VatBreakdown>,
    /// BG-24 Additional supporting documents.
    pub additional_documents: Vec<AdditionalDocument>,
    /// BG-25 Invoice lines (at least one).
    pub lines: Vec<Line>,
}

/// BG-1 Invoice note.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// BT-21 Invoice note subject code (UNTDID 4451).
    pub subject_code: Option<Code>,
    /// BT-22 Invoice note.
    pub text: String,
}

/// BG-3 Preceding invoice reference.
#[derive(Debug, Clone, PartialEq)]
pub struct PrecedingInvoice {
    /// BT-25 Preceding invoice reference.
    pub number: String,
    /// BT-26 Preceding invoice issue date.
    pub issue_date: Option<Date>,
}

/// BG-4 Seller.
#[derive(Debug, Clone, PartialEq)]
pub struct Seller {
    /// BT-27 Seller name.
    pub name: String,
    /// BT-28 Seller trading name.
    pub trading_name: Option<String>,
    /// BT-29 Seller identifiers (those without a scheme first, as CII orders them).
    pub identifiers: Vec<Identifier>,
    /// BT-30 Seller legal registration identifier.
    pub legal_registration: Option<Identifier>,
    /// BT-31 Seller VAT identifier.
    pub vat_id: Option<String>,
    /// BT-32 Seller tax registration identifier.
    pub tax_registration_id: Option<String>,
    /// BT-33 Seller additional legal information.
    pub additional_legal_info: Option<String>,
    /// BT-34 Seller electronic address.
    pub electronic_address: Option<Identifier>,
    /// BG-5 Seller postal address.
    pub address: Address,
    /// BG-6 Seller contact.
    pub contact: Option<Contact>,
}

/// BG-7 Buyer.
#[derive(Debug, Clone, PartialEq)]
pub struct Buyer {
    /// BT-44 Buyer name.
    pub name: String,
    /// BT-45 Buyer trading name.
    pub trading_name: Option<String>,
    /// BT-46 Buyer identifier.
    pub identifier: Option<Identifier>,
    /// BT-47 Buyer legal registration identifier.
    pub legal_registration: Option<Identifier>,
    /// BT-48 Buyer VAT identifier.
    pub vat_id: Option<String>,
    /// BT-49 Buyer electronic address.
    pub electronic_address: Option<Identifier>,
    /// BG-8 Buyer postal address.
    pub address: Address,
    /// BG-9 Buyer contact.
    pub contact: Option<Contact>,
}

/// BG-10 Payee.
#[derive(Debug, Clone, PartialEq)]
pub struct Payee {
    /// BT-59 Payee name.
    pub name: String,
    /// BT-60 Payee identifier.
    pub identifier: Option<Identifier>,
    /// BT-61 Payee legal registration identifier.
    pub legal_registration: Option<Identifier>,
}

/// BG-11 Seller tax representative party.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxRepresentative {
    /// BT-62 Seller tax representative name.
    pub name: String,
    /// BT-63 Seller tax representative VAT identifier.
    pub vat_id: String,
    /// BG-12 Seller tax representative postal address.
    pub address: Address,
}

/// A postal address (BG-5, BG-8, BG-12, BG-15).
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    /// Address line 1 (BT-35 …).
    pub line1: Option<String>,
    /// Address line 2 (BT-36 …).
    pub line2: Option<String>,
    /// Address line 3 (BT-162 …).
    pub line3: Option<String>,
    /// City (BT-37 …).
    pub city: Option<String>,
    /// Post code (BT-38 …).
    pub post_code: Option<String>,
    /// Country subdivision (BT-39 …).
    pub subdivision: Option<String>,
    /// Country code (BT-40 …).
    pub country: CountryCode,
}

/// A contact (BG-6, BG-9).
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    /// BT-41 / BT-56 contact point.
    pub point: Option<String>,
    /// BT-42 / BT-57 telephone.
    pub telephone: Option<String>,
    /// BT-43 / BT-58 e-mail address.
    pub email: Option<String>,
}

/// BG-13 Delivery information.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// BT-70 Deliver to party name.
    pub party_name: Option<String>,
    /// BT-71 Deliver to location identifier.
    pub location_id: Option<Identifier>,
    /// BT-72 Actual delivery date.
    pub actual_date: Option<Date>,
    /// BG-15 Deliver to address.
    pub address: Option<Address>,
}

/// A period (BG-14, BG-26).
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    /// BT-73 / BT-134 start date.
    pub start: Option<Date>,
    /// BT-74 / BT-135 end date.
    pub end: Option<Date>,
}

impl Delivery {
    /// True when any delivery term is given.
    pub fn is_stated(&self) -> bool {
        self.party_name.is_some() || self.location_id.is_some() || self.actual_date.is_some() || self.address.is_some()
    }
}

impl Period {
    /// True when at least one date is given.
    pub fn is_stated(&self) -> bool {
        self.start.is_some() || self.end.is_some()
    }
}

/// BG-16 Payment instructions.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentInstructions {
    /// BT-81 Payment means type code (UNTDID 4461).
    pub means_code: Code,
    /// BT-82 Payment means text.
    pub means_text: Option<String>,
    /// BT-83 Remittance information.
    pub remittance: Option<String>,
    /// BG-17 Credit transfers.
    pub credit_transfers: Vec<CreditTransfer>,
    /// BG-18 Payment card information.
    pub card: Option<Card>,
    /// BG-19 Direct debit.
    pub direct_debit: Option<DirectDebit>,
}

/// BG-17 Credit transfer.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditTransfer {
    /// BT-84 Payment account identifier.
    pub account_id: String,
    /// BT-85 Payment account name.
    pub account_name: Option<String>,
    /// BT-86 Payment service provider identifier.
    pub service_provider: Option<String>,
}

/// BG-18 Payment card information.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// BT-87 Payment card primary account number.
    pub primary_account_number: String,
    /// BT-88 Payment card holder name.
    pub holder_name: Option<String>,
}

/// BG-19 Direct debit.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectDebit {
    /// BT-89 Mandate reference identifier.
    pub mandate_reference: Option<String>,
    /// BT-90 Bank assigned creditor identifier.
    pub creditor_id: Option<String>,
    /// BT-91 Debited account identifier.
    pub debited_account: Option<String>,
}

/// BG-20 allowance or BG-21 charge on document level.
#[derive(Debug, Clone, PartialEq)]
pub struct AllowanceCharge {
    /// BT-92 / BT-99 amount.
    pub amount: Decimal,
    /// BT-93 / BT-100 base amount.
    pub base_amount: Option<Decimal>,
    /// BT-94 / BT-101 percentage.
    pub percentage: Option<Decimal>,
    /// BT-95 / BT-102 VAT category code.
    pub vat_category: VatCategory,
    /// BT-96 / BT-103 VAT rate.
    pub vat_rate: Option<Decimal>,
    /// BT-97 / BT-104 reason.
    pub reason: Option<String>,
    /// BT-98 / BT-105 reason code.
    pub reason_code: Option<Code>,
}

/// BG-22 Document totals.
#[derive(Debug, Clone, PartialEq)]
pub struct Totals {
    /// BT-106 Sum of invoice line net amount.
    pub line_net_total: Decimal,
    /// BT-107 Sum of allowances on document level.
    pub allowance_total: Option<Decimal>,
    /// BT-108 Sum of charges on document level.
    pub charge_total: Option<Decimal>,
    /// BT-109 Invoice total amount without VAT.
    pub tax_exclusive_total: Decimal,
    /// BT-110 Invoice total VAT amount.
    pub vat_total: Option<Decimal>,
    /// BT-111 Invoice total VAT amount in accounting currency.
    pub vat_total_accounting: Option<Decimal>,
    /// BT-112 Invoice total amount with VAT.
    pub tax_inclusive_total: Decimal,
    /// BT-113 Paid amount.
    pub prepaid: Option<Decimal>,
    /// BT-114 Rounding amount.
    pub rounding: Option<Decimal>,
    /// BT-115 Amount due for payment.
    pub payable: Decimal,
}

/// BG-23 VAT breakdown.
#[derive(Debug, Clone, PartialEq)]
pub struct VatBreakdown {
    /// BT-116 VAT category taxable amount.
    pub taxable_amount: Decimal,
    /// BT-117 VAT category tax amount.
    pub tax_amount: Decimal,
    /// BT-118 VAT category code.
    pub category: VatCategory,
    /// BT-119 VAT category rate.
    pub rate: Option<Decimal>,
    /// BT-120 VAT exemption reason text.
    pub exemption_reason: Option<String>,
    /// BT-121 VAT exemption reason code.
    pub exemption_reason_code: Option<Code>,
}

/// BG-24 Additional supporting document.
#[derive(Debug, Clone, PartialEq)]
pub struct AdditionalDocument {
    /// BT-122 Supporting document reference.
    pub reference: String,
    /// BT-123 Supporting document description.
    pub description: Option<String>,
    /// BT-124 External document location.
    pub external_uri: Option<String>,
    /// BT-125 Attached document.
    pub attachment: Option<Attachment>,
}

/// BT-125 Attached document with its mime code and file name.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    /// Base64 content as written in the document (whitespace removed).
    pub content_base64: String,
    /// BT-125-1 mime code.
    pub mime_code: String,
    /// BT-125-2 file name.
    pub filename: String,
}

/// BG-25 Invoice line.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// BT-126 Invoice line identifier.
    pub id: String,
    /// BT-127 Invoice line note.
    pub note: Option<String>,
    /// BT-128 Invoice line object identifier.
    pub object: Option<Identifier>,
    /// BT-129 Invoiced quantity.
    pub quantity: Decimal,
    /// BT-130 Invoiced quantity unit of measure code.
    pub unit_code: Code,
    /// BT-131 Invoice line net amount.
    pub net_amount: Decimal,
    /// BT-132 Referenced purchase order line reference.
    pub order_line_reference: Option<String>,
    /// BT-133 Invoice line Buyer accounting reference.
    pub accounting_reference: Option<String>,
    /// BG-26 Invoice line period.
    pub period: Option<Period>,
    /// BG-27 Invoice line allowances.
    pub allowances: Vec<LineAllowanceCharge>,
    /// BG-28 Invoice line charges.
    pub charges: Vec<LineAllowanceCharge>,
    /// BG-29 Price details.
    pub price: Price,
    /// BT-151 Invoiced item VAT category code.
    pub vat_category: VatCategory,
    /// BT-152 Invoiced item VAT rate.
    pub vat_rate: Option<Decimal>,
    /// BG-31 Item information.
    pub item: Item,
}

/// BG-27 / BG-28 line allowance or charge.
#[derive(Debug, Clone, PartialEq)]
pub struct LineAllowanceCharge {
    /// BT-136 / BT-141 amount.
    pub amount: Decimal,
    /// BT-137 / BT-142 base amount.
    pub base_amount: Option<Decimal>,
    /// BT-138 / BT-143 percentage.
    pub percentage: Option<Decimal>,
    /// BT-139 / BT-144 reason.
    pub reason: Option<String>,
    /// BT-140 / BT-145 reason code.
    pub reason_code: Option<Code>,
}

/// BG-29 Price details.
#[derive(Debug, Clone, PartialEq)]
pub struct Price {
    /// BT-146 Item net price.
    pub net_price: Decimal,
    /// BT-147 Item price discount.
    pub discount: Option<Decimal>,
    /// BT-148 Item gross price.
    pub gross_price: Option<Decimal>,
    /// BT-149 Item price base quantity.
    pub base_quantity: Option<Decimal>,
    /// BT-150 Item price base quantity unit of measure code.
    pub base_quantity_unit: Option<Code>,
}

/// BG-31 Item information.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// BT-153 Item name.
    pub name: String,
    /// BT-154 Item description.
    pub description: Option<String>,
    /// BT-155 Item Seller's identifier.
    pub seller_id: Option<String>,
    /// BT-156 Item Buyer's identifier.
    pub buyer_id: Option<String>,
    /// BT-157 Item standard identifier.
    pub standard_id: Option<Identifier>,
    /// BT-158 Item classification identifiers.
    pub classifications: Vec<Classification>,
    /// BT-159 Item country of origin.
    pub origin_country: Option<CountryCode>,
    /// BG-32 Item attributes.
    pub attributes: Vec<ItemAttribute>,
}

/// BT-158 Item classification identifier with its list (UNTDID 7143) and version.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub code: String,
    /// BT-158-1 scheme identifier.
    pub list_id: Option<Code>,
    /// BT-158-2 scheme version identifier.
    pub list_version: Option<String>,
}

/// BG-32 Item attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemAttribute {
    /// BT-160 Item attribute name.
    pub name: String,
    /// BT-161 Item attribute value.
    pub value: String,
}

impl TryFrom<&Draft> for Invoice {
    type Error = ReadError;

    /// Builds the strict model; the error lists every missing or ill-typed term at once.
    fn try_from(d: &Draft) -> Result<Invoice, ReadError> {
        let mut c = Cx {
            syntax: d.syntax,
            problems: Vec::new(),
        };
        let inv = c.invoice(d);
        if c.problems.is_empty() {
            Ok(inv)
        } else {
            Err(ReadError::Incomplete(c.problems))
        }
    }
}

/// Conversion context: collects problems instead of stopping at the first.
struct Cx {
    syntax: Syntax,
    problems: Vec<TermProblem>,
}

fn text_of(v: &Val) -> Option<String> {
    let t = v.raw.trim();
    (!t.is_empty()).then(|| t.to_string())
}

impl Cx {
    fn missing(&mut self, term: &'static str, at: &Loc) {
        self.problems.push(TermProblem {
            term,
            path: at.path.to_string(),
            line: at.line,
            kind: ProblemKind::Missing,
        });
    }

    fn invalid(&mut self, term: &'static str, v: &Val) {
        self.problems.push(TermProblem {
            term,
            path: v.path.to_string(),
            line: v.line,
            kind: ProblemKind::Invalid(v.raw.clone()),
        });
    }

    fn text(&mut self, v: &Option<Val>) -> Option<String> {
        v.as_ref().and_then(text_of)
    }

    fn req_text(&mut self, v: &Option<Val>, term: &'static str, at: &Loc) -> String {
        match v.as_ref().and_then(text_of) {
            Some(t) => t,
            None => {
                self.missing(term, at);
                String::new()
            }
        }
    }

    /// A typed term: absent or blank → `None`; present but unparsable → problem.
    fn typed<T>(&mut self, v: &Option<Val>, term: &'static str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        let v = v.as_ref().filter(|v| !v.is_blank())?;
        let out = parse(&v.raw);
        if out.is_none() {
            self.invalid(term, v);
        }
        out
    }

    fn req_typed<T>(
        &mut self,
        v: &Option<Val>,
        term: &'static str,
        at: &Loc,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        if v.as_ref().is_none_or(|v| v.is_blank()) {
            self.missing(term, at);
            return None;
        }
        self.typed(v, term, parse)
    }

    fn dec(&mut self, v: &Option<Val>, term: &'static str) -> Option<Decimal> {
        self.typed(v, term, parse_xs_decimal)
    }

    fn req_dec(&mut self, v: &Option<Val>, term: &'static str, at: &Loc) -> Decimal {
        self.req_typed(v, term, at, parse_xs_decimal).unwrap_or_default()
    }

    fn date(&mut self, v: &Option<Val>, term: &'static str) -> Option<Date> {
        match self.syntax {
            Syntax::Ubl => self.typed(v, term, Date::parse_iso),
            Syntax::Cii => {
                if let Some(f) = v.as_ref().and_then(|v| v.attr("format"))
                    && f.trimmed() != "102"
                {
                    let f = f.clone();
                    self.invalid(term, &f);
                    return None;
                }
                self.typed(v, term, Date::parse_102)
            }
        }
    }

    fn code(&mut self, v: &Option<Val>, term: &'static str) -> Option<Code> {
        self.typed(v, term, Code::new)
    }

    fn vat_category(&mut self, v: &Option<Val>, term: &'static str, at: &Loc) -> VatCategory {
        self.req_typed(v, term, at, VatCategory::from_code)
            .unwrap_or(VatCategory::Standard)
    }

    fn ident(&mut self, v: &Option<Val>, scheme_term: &'static str) -> Option<Identifier> {
        let v = v.as_ref()?;
        let value = text_of(v)?;
        let scheme = self.code(&v.attr("schemeID").cloned(), scheme_term);
        Some(Identifier { value, scheme })
    }

    fn ident_with(&mut self, v: &Option<Val>, scheme: &Option<Val>, scheme_term: &'static str) -> Option<Identifier> {
        let value = self.text(v)?;
        let scheme = self.code(scheme, scheme_term);
        Some(Identifier { value, scheme })
    }

    fn country(&mut self, v: &Option<Val>, term: &'static str, at: &Loc) -> CountryCode {
        self.req_typed(v, term, at, CountryCode::new)
            .unwrap_or_else(|| CountryCode("ZZ".into()))
    }

    fn invoice(&mut self, d: &Draft) -> Invoice {
        let root = &d.root;
        let number = self.req_text(&d.number, "BT-1", root);
        let issue_date = if d.issue_date.as_ref().is_none_or(|v| v.is_blank()) {
            self.missing("BT-2", root);
            None
        } else {
            self.date(&d.issue_date, "BT-2")
        };
        let type_code = self.req_typed(&d.type_code, "BT-3", root, Code::new);
        let currency = self.req_typed(&d.currency_code, "BT-5", root, CurrencyCode::new);
        let vat_currency = self.typed(&d.vat_currency_code, "BT-6", CurrencyCode::new);
        let tax_point_date = self.date(&d.tax_point_date, "BT-7");
        let vat_point_date_code = match self.syntax {
            Syntax::Ubl => self.typed(&d.vat_point_date_code, "BT-8", VatPointDateCode::from_ubl),
            Syntax::Cii => self.typed(&d.vat_point_date_code, "BT-8", VatPointDateCode::from_cii),
        };
        let due_date = self.date(&d.due_date, "BT-9");
        let notes = d.notes.iter().filter_map(|n| self.note(n)).collect();
        let specification = self.req_text(&d.specification_identifier, "BT-24", root);
        let preceding_invoices = d
            .preceding_invoices
            .iter()
            .map(|p| PrecedingInvoice {
                number: self.req_text(&p.number, "BT-25", &p.at),
                issue_date: self.date(&p.issue_date, "BT-26"),
            })
            .collect();
        let seller = match &d.seller {
            Some(p) => Some(self.seller(p)),
            None => {
                self.missing("BG-4", root);
                None
            }
        };
        let buyer = match &d.buyer {
            Some(p) => Some(self.buyer(p)),
            None => {
                self.missing("BG-7", root);
                None
            }
        };
        let payee = d.payee.as_ref().map(|p| Payee {
            name: self.req_text(&p.name, "BT-59", &p.at),
            identifier: p
                .identifiers
                .first()
                .and_then(|i| self.ident(&Some(i.clone()), "BT-60-1")),
            legal_registration: self.ident(&p.legal_registration_id, "BT-61-1"),
        });
        let tax_representative = d.tax_representative.as_ref().map(|p| TaxRepresentative {
            name: self.req_text(&p.name, "BT-62", &p.at),
            vat_id: self.req_text(&p.vat_identifier, "BT-63", &p.at),
            address: self.address(&p.address, &p.at, "BG-12", "BT-69"),
        });
        let delivery = d
            .delivery
            .as_ref()
            .map(|dl| Delivery {
                party_name: self.text(&dl.party_name),
                location_id: self.ident(&dl.location_id, "BT-71-1"),
                actual_date: self.date(&dl.actual_date, "BT-72"),
                address: dl
                    .address
                    .as_ref()
                    .map(|a| self.address(&Some(a.clone()), &dl.at, "BG-15", "BT-80")),
            })
            // An empty delivery element (CII writers often emit `<ram:ShipToTradeParty/>`) states nothing.
            .filter(Delivery::is_stated);
        // A period element without dates (UBL may carry only BT-8 in it) states no period.
        let invoicing_period = d
            .invoicing_period
            .as_ref()
            .map(|p| self.period(p, "BT-73", "BT-74"))
            .filter(Period::is_stated);
        let payment = self.payment(d);
        let allowances = d.allowances.iter().map(|a| self.doc_ac(a, true)).collect();
        let charges = d.charges.iter().map(|a| self.doc_ac(a, false)).collect();
        let totals = match &d.totals {
            Some(t) => Some(self.totals(t)),
            None => {
                self.missing("BG-22", root);
                None
            }
        };
        if d.vat_breakdown.is_empty() {
            self.missing("BG-23", root);
        }
        let vat_breakdown = d
            .vat_breakdown
            .iter()
            .map(|v| VatBreakdown {
                taxable_amount: self.req_dec(&v.taxable_amount, "BT-116", &v.at),
                tax_amount: self.req_dec(&v.tax_amount, "BT-117", &v.at),
                category: self.vat_category(&v.category_code, "BT-118", &v.at),
                rate: self.dec(&v.rate, "BT-119"),
                exemption_reason: self.text(&v.exemption_reason),
                exemption_reason_code: self.code(&v.exemption_reason_code, "BT-121"),
            })
            .collect();
        let additional_documents = d
            .additional_documents
            .iter()
            .map(|a| self.additional_document(a))
            .collect();
        if d.lines.is_empty() {
            self.missing("BG-25", root);
        }
        let lines = d.lines.iter().map(|l| self.line(l)).collect();

        Invoice {
            kind: d.kind,
            number,
            issue_date: issue_date.unwrap_or(Date {
                year: 1,
                month: 1,
                day: 1,
            }),
            type_code: type_code.unwrap_or_else(|| Code("0".into())),
            currency: currency.unwrap_or_else(|| CurrencyCode("XXX".into())),
            vat_currency,
            tax_point_date,
            vat_point_date_code,
            due_date,
            buyer_reference: self.text(&d.buyer_reference),
            project_reference: self.text(&d.project_reference),
            contract_reference: self.text(&d.contract_reference),
            purchase_order_reference: self.text(&d.purchase_order_reference),
            sales_order_reference: self.text(&d.sales_order_reference),
            receiving_advice_reference: self.text(&d.receiving_advice_reference),
            despatch_advice_reference: self.text(&d.despatch_advice_reference),
            tender_reference: self.text(&d.tender_reference),
            invoiced_object: match self.syntax {
                Syntax::Ubl => self.ident(&d.invoiced_object_identifier, "BT-18-1"),
                Syntax::Cii => self.ident_with(&d.invoiced_object_identifier, &d.invoiced_object_scheme, "BT-18-1"),
            },
            buyer_accounting_reference: self.text(&d.buyer_accounting_reference),
            payment_terms: self.text(&d.payment_terms),
            notes,
            business_process: self.text(&d.business_process),
            specification,
            preceding_invoices,
            seller: seller.unwrap_or_else(placeholder_seller),
            buyer: buyer.unwrap_or_else(placeholder_buyer),
            payee,
            tax_representative,
            delivery,
            invoicing_period,
            payment,
            allowances,
            charges,
            totals: totals.unwrap_or_else(placeholder_totals),
            vat_breakdown,
            additional_documents,
            lines,
        }
    }

    fn note(&mut self, n: &DraftNote) -> Option<Note> {
        let raw = n.text.as_ref().and_then(text_of)?;
        if self.syntax == Syntax::Ubl
            && let Some((code, text)) = split_ubl_note(&raw)
        {
            return Some(Note {
                subject_code: Code::new(code),
                text: text.trim().to_string(),
            });
        }
        Some(Note {
            subject_code: self.code(&n.subject_code, "BT-21"),
            text: raw,
        })
    }

    fn seller(&mut self, p: &DraftParty) -> Seller {
        let mut identifiers: Vec<Identifier> = p
            .identifiers
            .iter()
            .filter_map(|i| self.ident(&Some(i.clone()), "BT-29-1"))
            .collect();
        identifiers.sort_by_key(|i| i.scheme.is_some());
        Seller {
            name: self.req_text(&p.name, "BT-27", &p.at),
            trading_name: self.text(&p.trading_name),
            identifiers,
            legal_registration: self.ident(&p.legal_registration_id, "BT-30-1"),
            vat_id: self.text(&p.vat_identifier),
            tax_registration_id: self.text(&p.tax_registration_id),
            additional_legal_info: self.text(&p.additional_legal_info),
            electronic_address: self.ident(&p.electronic_address, "BT-34-1"),
            address: self.address(&p.address, &p.at, "BG-5", "BT-40"),
            contact: p.contact.as_ref().map(|c| self.contact(c)),
        }
    }

    fn buyer(&mut self, p: &DraftParty) -> Buyer {
        Buyer {
            name: self.req_text(&p.name, "BT-44", &p.at),
            trading_name: self.text(&p.trading_name),
            identifier: p
                .identifiers
                .first()
                .and_then(|i| self.ident(&Some(i.clone()), "BT-46-1")),
            legal_registration: self.ident(&p.legal_registration_id, "BT-47-1"),
            vat_id: self.text(&p.vat_identifier),
            electronic_address: self.ident(&p.electronic_address, "BT-49-1"),
            address: self.address(&p.address, &p.at, "BG-8", "BT-55"),
            contact: p.contact.as_ref().map(|c| self.contact(c)),
        }
    }

    fn contact(&mut self, c: &DraftContact) -> Contact {
        Contact {
            point: self.text(&c.point),
            telephone: self.text(&c.telephone),
            email: self.text(&c.email),
        }
    }

    fn address(
        &mut self,
        a: &Option<DraftAddress>,
        party: &Loc,
        group: &'static str,
        country: &'static str,
    ) -> Address {
        let Some(a) = a else {
            self.missing(group, party);
            return placeholder_address();
        };
        Address {
            line1: self.text(&a.line1),
            line2: self.text(&a.line2),
            line3: self.text(&a.line3),
            city: self.text(&a.city),
            post_code: self.text(&a.post_code),
            subdivision: self.text(&a.subdivision),
            country: self.country(&a.country_code, country, &a.at),
        }
    }

    fn period(&mut self, p: &DraftPeriod, start: &'static str, end: &'static str) -> Period {
        Period {
            start: self.date(&p.start, start),
            end: self.date(&p.end, end),
        }
    }

    fn payment(&mut self, d: &Draft) -> Option<PaymentInstructions> {
        let first = d.payment_means.first();
        let creditor_id = self.text(&d.creditor_identifier);
        let mandate_reference = self
            .text(&d.mandate_reference)
            .or_else(|| first.and_then(|m| self.text(&m.mandate_reference)));
        let debited_account = first.and_then(|m| self.text(&m.debited_account));
        let remittance = self
            .text(&d.remittance_information)
            .or_else(|| first.and_then(|m| self.text(&m.remittance)));
        let first = first?;
        let means_code = self.req_typed(&first.type_code, "BT-81", &first.at, Code::new);
        let credit_transfers = d
            .payment_means
            .iter()
            .flat_map(|m| m.credit_transfers.iter())
            .map(|t| CreditTransfer {
                account_id: self.req_text(&t.account_id, "BT-84", &t.at),
                account_name: self.text(&t.account_name),
                service_provider: self.text(&t.service_provider_id),
            })
            .collect();
        let card = first.card.as_ref().map(|c| Card {
            primary_account_number: self.req_text(&c.primary_account_number, "BT-87", &c.at),
            holder_name: self.text(&c.holder_name),
        });
        let direct_debit = (mandate_reference.is_some() || creditor_id.is_some() || debited_account.is_some())
            .then_some(DirectDebit {
                mandate_reference,
                creditor_id,
                debited_account,
            });
        Some(PaymentInstructions {
            means_code: means_code.unwrap_or_else(|| Code("0".into())),
            means_text: self.text(&first.text),
            remittance,
            credit_transfers,
            card,
            direct_debit,
        })
    }

    fn doc_ac(&mut self, a: &DraftAllowanceCharge, allowance: bool) -> AllowanceCharge {
        let t = |al: &'static str, ch: &'static str| if allowance { al } else { ch };
        AllowanceCharge {
            amount: self.req_dec(&a.amount, t("BT-92", "BT-99"), &a.at),
            base_amount: self.dec(&a.base_amount, t("BT-93", "BT-100")),
            percentage: self.dec(&a.percentage, t("BT-94", "BT-101")),
            vat_category: self.vat_category(&a.vat_category, t("BT-95", "BT-102"), &a.at),
            vat_rate: self.dec(&a.vat_rate, t("BT-96", "BT-103")),
            reason: self.text(&a.reason),
            reason_code: self.code(&a.reason_code, t("BT-98", "BT-105")),
        }
    }

    fn line_ac(&mut self, a: &DraftAllowanceCharge, allowance: bool) -> LineAllowanceCharge {
        let t = |al: &'static str, ch: &'static str| if allowance { al } else { ch };
        LineAllowanceCharge {
            amount: self.req_dec(&a.amount, t("BT-136", "BT-141"), &a.at),
            base_amount: self.dec(&a.base_amount, t("BT-137", "BT-142")),
            percentage: self.dec(&a.percentage, t("BT-138", "BT-143")),
            reason: self.text(&a.reason),
            reason_code: self.code(&a.reason_code, t("BT-140", "BT-145")),
        }
    }

    fn totals(&mut self, t: &DraftTotals) -> Totals {
        Totals {
            line_net_total: self.req_dec(&t.line_net_total, "BT-106", &t.at),
            allowance_total: self.dec(&t.allowance_total, "BT-107"),
            charge_total: self.dec(&t.charge_total, "BT-108"),
            tax_exclusive_total: self.req_dec(&t.tax_exclusive_total, "BT-109", &t.at),
            vat_total: self.dec(&t.vat_total, "BT-110"),
            vat_total_accounting: self.dec(&t.vat_total_accounting, "BT-111"),
            tax_inclusive_total: self.req_dec(&t.tax_inclusive_total, "BT-112", &t.at),
            prepaid: self.dec(&t.prepaid, "BT-113"),
            rounding: self.dec(&t.rounding, "BT-114"),
            payable: self.req_dec(&t.payable, "BT-115", &t.at),
        }
    }

    fn additional_document(&mut self, a: &DraftAdditionalDocument) -> AdditionalDocument {
        AdditionalDocument {
            reference: self.req_text(&a.reference, "BT-122", &a.at),
            description: self.text(&a.description),
            external_uri: self.text(&a.external_uri),
            attachment: a.attachment.as_ref().map(|v| Attachment {
                content_base64: v.raw.split_ascii_whitespace().collect(),
                mime_code: v.attr("mimeCode").map(|m| m.raw.trim().to_string()).unwrap_or_default(),
                filename: v.attr("filename").map(|m| m.raw.trim().to_string()).unwrap_or_default(),
            }),
        }
    }

    fn line(&mut self, l: &DraftLine) -> Line {
        let unit_code = l.quantity.as_ref().and_then(|q| q.attr("unitCode")).cloned();
        let price = match &l.price {
            Some(p) => Price {
                net_price: self.req_dec(&p.net_price, "BT-146", &p.at),
                discount: self.dec(&p.discount, "BT-147"),
                gross_price: self.dec(&p.gross_price, "BT-148"),
                base_quantity: self.dec(&p.base_quantity, "BT-149"),
                base_quantity_unit: self.code(
                    &p.base_quantity.as_ref().and_then(|q| q.attr("unitCode")).cloned(),
                    "BT-150",
                ),
            },
            None => {
                self.missing("BG-29", &l.at);
                Price {
                    net_price: Decimal::ZERO,
                    discount: None,
                    gross_price: None,
                    base_quantity: None,
                    base_quantity_unit: None,
                }
            }
        };
        let item = match &l.item {
            Some(i) => Item {
                name: self.req_text(&i.name, "BT-153", &i.at),
                description: self.text(&i.description),
                seller_id: self.text(&i.seller_id),
                buyer_id: self.text(&i.buyer_id),
                standard_id: self.ident(&i.standard_id, "BT-157-1"),
                classifications: i
                    .classifications
                    .iter()
                    .filter_map(|c| {
                        let code = text_of(c)?;
                        Some(Classification {
                            code,
                            list_id: self.code(&c.attr("listID").cloned(), "BT-158-1"),
                            list_version: c.attr("listVersionID").and_then(text_of),
                        })
                    })
                    .collect(),
                origin_country: self.typed(&i.origin_country, "BT-159", CountryCode::new),
                attributes: i
                    .attributes
                    .iter()
                    .map(|a| ItemAttribute {
                        name: self.req_text(&a.name, "BT-160", &a.at),
                        value: self.req_text(&a.value, "BT-161", &a.at),
                    })
                    .collect(),
            },
            None => {
                self.missing("BG-31", &l.at);
                Item {
                    name: String::new(),
                    description: None,
                    seller_id: None,
                    buyer_id: None,
                    standard_id: None,
                    classifications: Vec::new(),
                    origin_country: None,
                    attributes: Vec::new(),
                }
            }
        };
        Line {
            id: self.req_text(&l.id, "BT-126", &l.at),
            note: self.text(&l.note),
            object: match self.syntax {
                Syntax::Ubl => self.ident(&l.object_id, "BT-128-1"),
                Syntax::Cii => self.ident_with(&l.object_id, &l.object_scheme, "BT-128-1"),
            },
            quantity: self.req_dec(&l.quantity, "BT-129", &l.at),
            unit_code: self
                .req_typed(&unit_code, "BT-130", &l.at, Code::new)
                .unwrap_or_else(|| Code("0".into())),
            net_amount: self.req_dec(&l.net_amount, "BT-131", &l.at),
            order_line_reference: self.text(&l.order_line_reference),
            accounting_reference: self.text(&l.accounting_reference),
            period: l
                .period
                .as_ref()
                .map(|p| self.period(p, "BT-134", "BT-135"))
                .filter(Period::is_stated),
            allowances: l.allowances.iter().map(|a| self.line_ac(a, true)).collect(),
            charges: l.charges.iter().map(|a| self.line_ac(a, false)).collect(),
            price,
            vat_category: self.vat_category(&l.vat_category, "BT-151", &l.at),
            vat_rate: self.dec(&l.vat_rate, "BT-152"),
            item,
        }
    }
}

/// UBL carries BT-21 inside the note text as `#CODE#text`.
pub(crate) fn split_ubl_note(raw: &str) -> Option<(&str, &str)> {
    let rest = raw.strip_prefix('#')?;
    let (code, text) = rest.split_once('#')?;
    (!code.is_empty() && code.len() <= 3 && code.bytes().all(|b| b.is_ascii_alphanumeric())).then_some((code, text))
}

// Placeholders only fill the structure while problems are collected; they never escape because a
// non-empty problem list turns the result into an error.
fn placeholder_address() -> Address {
    Address {
        line1: None,
        line2: None,
        line3: None,
        city: None,
        post_code: None,
        subdivision: None,
        country: CountryCode("ZZ".into()),
    }
}
fn placeholder_seller() -> Seller {
    Seller {
        name: String::new(),
        trading_name: None,
        identifiers: Vec::new(),
        legal_registration: None,
        vat_id: None,
        tax_registration_id: None,
        additional_legal_info: None,
        electronic_address: None,
        address: placeholder_address(),
        contact: None,
    }
}
fn placeholder_buyer() -> Buyer {
    Buyer {
        name: String::new(),
        trading_name: None,
        identifier: None,
        legal_registration: None,
        vat_id: None,
        electronic_address: None,
        address: placeholder_address(),
        contact: None,
    }
}
fn placeholder_totals() -> Totals {
    Totals {
        line_net_total: Decimal::ZERO,
        allowance_total: None,
        charge_total: None,
        tax_exclusive_total: Decimal::ZERO,
        vat_total: None,
        vat_total_accounting: None,
        tax_inclusive_total: Decimal::ZERO,
        prepaid: None,
        rounding: None,
        payable: Decimal::ZERO,
    }
}
