//! Core business rules BR-01 … BR-65 (mandatory terms, groups and their conditions), over the draft.
//!
//! Written once for both syntaxes: the draft already hides where UBL and CII put each term. The few
//! places where the official UBL and CII assertions really differ branch on the syntax, and say why:
//!
//! - a country code of the seller (BR-09) or buyer (BR-11) is checked by UBL only inside an existing
//!   postal address, by CII from the root (so a missing address fires it too); the same holds for the
//!   tax representative (BR-20);
//! - UBL tests presence of some terms (`exists`) where CII tests a non-empty value (BR-55, BR-57), and
//!   CII requires BT-2 with `@format='102'` (BR-03);
//! - CII selects allowances/charges by the exact text `'true'`/`'false'` of the indicator, UBL by its
//!   boolean value;
//! - BR-61 (credit transfer needs an account): UBL checks it per payment means; CII only inside an
//!   existing `ram:PayeePartyCreditorFinancialAccount` (a missing account fires CII-SR-470, a tree rule);
//! - BR-62/BR-63 (scheme of the electronic address): UBL per `cbc:EndpointID`, CII on the first
//!   `ram:URIUniversalCommunication`;
//! - BR-17 compares the payee with the seller on names and identifiers, plus the legal registration
//!   identifier in CII;
//! - BR-53 (VAT total in accounting currency): UBL from the root, CII inside the document totals, where
//!   it also requires BT-6 to differ from BT-5;
//! - in CII a header VAT breakdown of category L, M or O belongs to its VAT-family rule context first,
//!   so BR-45..BR-48 do not look at it (first-match semantics of the official Schematron pattern).
//!
//! Severities and cited terms come from the rule data (see [`Findings::fire`]): BR-51 is a warning in UBL
//! and fatal in CII. Each message names the business term and the element to add or correct.

use super::vat::facts::indicator;
use super::vat::num::{tokens_eq, upper_is_vat, xs_double};
use super::{Draft, Findings, Loc, Syntax};
use crate::model::draft::{
    DraftAddress, DraftAllowanceCharge, DraftParty, DraftPeriod, Loc as DraftLoc, Val, normalize_space,
};

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;

/// How a rule is worded: the business term it is about and where that term is written.
struct Term {
    rule: &'static str,
    /// `BT-1`, `BG-5` …
    term: &'static str,
    fr: &'static str,
    en: &'static str,
    /// The element (or attribute) to add or correct, relative to the rule's context.
    ubl: &'static str,
    cii: &'static str,
}

const fn t(
    rule: &'static str,
    term: &'static str,
    fr: &'static str,
    en: &'static str,
    ubl: &'static str,
    cii: &'static str,
) -> Term {
    Term {
        rule,
        term,
        fr,
        en,
        ubl,
        cii,
    }
}

const UBL_VAT_CAT: &str = "cac:TaxCategory/cbc:ID (cac:TaxScheme/cbc:ID = VAT)";
const CII_VAT_CAT: &str = "ram:CategoryTradeTax/ram:CategoryCode (ram:TypeCode = VAT)";
const UBL_REASON: &str = "cbc:AllowanceChargeReason | cbc:AllowanceChargeReasonCode";
const CII_REASON: &str = "ram:Reason | ram:ReasonCode";
const UBL_COUNTRY: &str = "cac:Country/cbc:IdentificationCode";
const CII_ACCOUNT: &str = "ram:IBANID | ram:ProprietaryID";

#[rustfmt::skip]
static TERMS: &[Term] = &[
    t("BR-01", "BT-24", "Identifiant de spécification", "Specification identifier",
      "cbc:CustomizationID", "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"),
    t("BR-02", "BT-1", "Numéro de facture", "Invoice number", "cbc:ID", "rsm:ExchangedDocument/ram:ID"),
    t("BR-03", "BT-2", "Date d'émission de la facture", "Invoice issue date",
      "cbc:IssueDate", "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString[@format='102']"),
    t("BR-04", "BT-3", "Code de type de facture", "Invoice type code",
      "cbc:InvoiceTypeCode | cbc:CreditNoteTypeCode", "rsm:ExchangedDocument/ram:TypeCode"),
    t("BR-05", "BT-5", "Code de devise de la facture", "Invoice currency code",
      "cbc:DocumentCurrencyCode", "ram:ApplicableHeaderTradeSettlement/ram:InvoiceCurrencyCode"),
    t("BR-06", "BT-27", "Nom du vendeur", "Seller name",
      "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName", "ram:SellerTradeParty/ram:Name"),
    t("BR-07", "BT-44", "Nom de l'acheteur", "Buyer name",
      "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName", "ram:BuyerTradeParty/ram:Name"),
    t("BR-08", "BG-5", "Adresse postale du vendeur", "Seller postal address",
      "cac:AccountingSupplierParty/cac:Party/cac:PostalAddress", "ram:SellerTradeParty/ram:PostalTradeAddress"),
    t("BR-09", "BT-40", "Code de pays du vendeur", "Seller country code",
      UBL_COUNTRY, "ram:SellerTradeParty/ram:PostalTradeAddress/ram:CountryID"),
    t("BR-10", "BG-8", "Adresse postale de l'acheteur", "Buyer postal address",
      "cac:AccountingCustomerParty/cac:Party/cac:PostalAddress", "ram:BuyerTradeParty/ram:PostalTradeAddress"),
    t("BR-11", "BT-55", "Code de pays de l'acheteur", "Buyer country code",
      UBL_COUNTRY, "ram:BuyerTradeParty/ram:PostalTradeAddress/ram:CountryID"),
    t("BR-12", "BT-106", "Somme des montants nets des lignes", "Sum of Invoice line net amount",
      "cbc:LineExtensionAmount", "ram:LineTotalAmount"),
    t("BR-13", "BT-109", "Montant total hors TVA", "Invoice total amount without VAT",
      "cbc:TaxExclusiveAmount", "ram:TaxBasisTotalAmount"),
    t("BR-14", "BT-112", "Montant total TVA comprise", "Invoice total amount with VAT",
      "cbc:TaxInclusiveAmount", "ram:GrandTotalAmount"),
    t("BR-15", "BT-115", "Montant à payer", "Amount due for payment", "cbc:PayableAmount", "ram:DuePayableAmount"),
    t("BR-16", "BG-25", "Ligne de facture", "Invoice line",
      "cac:InvoiceLine | cac:CreditNoteLine", "ram:IncludedSupplyChainTradeLineItem"),
    t("BR-17", "BT-59", "Nom du bénéficiaire", "Payee name", "cac:PartyName/cbc:Name", "ram:Name"),
    t("BR-18", "BT-62", "Nom du représentant fiscal du vendeur", "Seller tax representative name",
      "cac:PartyName/cbc:Name", "ram:Name"),
    t("BR-19", "BG-12", "Adresse postale du représentant fiscal", "Seller tax representative postal address",
      "cac:PostalAddress", "ram:PostalTradeAddress"),
    t("BR-20", "BT-69", "Code de pays du représentant fiscal", "Tax representative country code",
      UBL_COUNTRY, "ram:PostalTradeAddress/ram:CountryID"),
    t("BR-21", "BT-126", "Identifiant de ligne de facture", "Invoice line identifier",
      "cbc:ID", "ram:AssociatedDocumentLineDocument/ram:LineID"),
    t("BR-22", "BT-129", "Quantité facturée", "Invoiced quantity",
      "cbc:InvoicedQuantity | cbc:CreditedQuantity", "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity"),
    t("BR-23", "BT-130", "Unité de mesure de la quantité facturée", "Invoiced quantity unit of measure",
      "@unitCode (cbc:InvoicedQuantity | cbc:CreditedQuantity)", "ram:BilledQuantity/@unitCode"),
    t("BR-24", "BT-131", "Montant net de la ligne", "Invoice line net amount",
      "cbc:LineExtensionAmount", "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount"),
    t("BR-25", "BT-153", "Nom de l'article", "Item name", "cac:Item/cbc:Name", "ram:SpecifiedTradeProduct/ram:Name"),
    t("BR-26", "BT-146", "Prix net de l'article", "Item net price",
      "cac:Price/cbc:PriceAmount", "ram:NetPriceProductTradePrice/ram:ChargeAmount"),
    t("BR-27", "BT-146", "Prix net de l'article", "Item net price",
      "cac:Price/cbc:PriceAmount", "ram:NetPriceProductTradePrice/ram:ChargeAmount"),
    t("BR-28", "BT-148", "Prix brut de l'article", "Item gross price",
      "cac:Price/cac:AllowanceCharge/cbc:BaseAmount", "ram:GrossPriceProductTradePrice/ram:ChargeAmount"),
    t("BR-29", "BT-74", "Date de fin de la période de facturation", "Invoicing period end date",
      "cbc:EndDate", "ram:EndDateTime/udt:DateTimeString"),
    t("BR-30", "BT-135", "Date de fin de la période de la ligne", "Invoice line period end date",
      "cbc:EndDate", "ram:EndDateTime/udt:DateTimeString"),
    t("BR-31", "BT-92", "Montant de la remise au niveau document", "Document level allowance amount",
      "cbc:Amount", "ram:ActualAmount"),
    t("BR-32", "BT-95", "Code de catégorie de TVA de la remise", "Document level allowance VAT category code",
      UBL_VAT_CAT, CII_VAT_CAT),
    t("BR-33", "BT-97", "Motif de la remise (texte BT-97 ou code BT-98)",
      "Document level allowance reason (text BT-97 or code BT-98)", UBL_REASON, CII_REASON),
    t("BR-36", "BT-99", "Montant de la charge au niveau document", "Document level charge amount",
      "cbc:Amount", "ram:ActualAmount"),
    t("BR-37", "BT-102", "Code de catégorie de TVA de la charge", "Document level charge VAT category code",
      UBL_VAT_CAT, CII_VAT_CAT),
    t("BR-38", "BT-104", "Motif de la charge (texte BT-104 ou code BT-105)",
      "Document level charge reason (text BT-104 or code BT-105)", UBL_REASON, CII_REASON),
    t("BR-41", "BT-136", "Montant de la remise sur ligne", "Invoice line allowance amount",
      "cbc:Amount", "ram:ActualAmount"),
    t("BR-42", "BT-139", "Motif de la remise sur ligne (texte BT-139 ou code BT-140)",
      "Invoice line allowance reason (text BT-139 or code BT-140)", UBL_REASON, CII_REASON),
    t("BR-43", "BT-141", "Montant de la charge sur ligne", "Invoice line charge amount",
      "cbc:Amount", "ram:ActualAmount"),
    t("BR-44", "BT-144", "Motif de la charge sur ligne (texte BT-144 ou code BT-145)",
      "Invoice line charge reason (text BT-144 or code BT-145)", UBL_REASON, CII_REASON),
    t("BR-45", "BT-116", "Base d'imposition de la catégorie de TVA", "VAT category taxable amount",
      "cbc:TaxableAmount", "ram:BasisAmount"),
    t("BR-46", "BT-117", "Montant de TVA de la catégorie", "VAT category tax amount",
      "cbc:TaxAmount", "ram:CalculatedAmount"),
    t("BR-47", "BT-118", "Code de catégorie de TVA", "VAT category code",
      "cac:TaxCategory/cbc:ID (cac:TaxScheme/cbc:ID = VAT)", "ram:CategoryCode (ram:TypeCode = VAT)"),
    t("BR-48", "BT-119", "Taux de la catégorie de TVA", "VAT category rate",
      "cac:TaxCategory/cbc:Percent (cac:TaxScheme/cbc:ID = VAT)", "ram:RateApplicablePercent (ram:TypeCode = VAT)"),
    t("BR-49", "BT-81", "Code de type de moyen de paiement", "Payment means type code",
      "cbc:PaymentMeansCode", "ram:TypeCode"),
    t("BR-50", "BT-84", "Identifiant du compte de paiement", "Payment account identifier", "cbc:ID", CII_ACCOUNT),
    t("BR-51", "BT-87", "Numéro de la carte de paiement", "Payment card primary account number",
      "cbc:PrimaryAccountNumberID", "ram:ID"),
    t("BR-52", "BT-122", "Référence du document justificatif", "Supporting document reference",
      "cbc:ID", "ram:IssuerAssignedID"),
    t("BR-53", "BT-111", "Montant total de TVA en devise de comptabilisation",
      "Invoice total VAT amount in accounting currency",
      "cac:TaxTotal/cbc:TaxAmount[@currencyID = BT-6]", "ram:TaxTotalAmount[@currencyID = BT-6]"),
    t("BR-54", "BT-160/BT-161", "Nom et valeur de l'attribut de l'article", "Item attribute name and value",
      "cbc:Name + cbc:Value", "ram:Description + ram:Value"),
    t("BR-55", "BT-25", "Référence à une facture antérieure", "Preceding Invoice reference",
      "cac:InvoiceDocumentReference/cbc:ID", "ram:IssuerAssignedID"),
    t("BR-56", "BT-63", "Numéro de TVA du représentant fiscal", "Seller tax representative VAT identifier",
      "cac:PartyTaxScheme/cbc:CompanyID (cac:TaxScheme/cbc:ID = VAT)", "ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']"),
    t("BR-57", "BT-80", "Code de pays de livraison", "Deliver to country code", UBL_COUNTRY, "ram:CountryID"),
    t("BR-61", "BT-84", "Identifiant du compte de paiement", "Payment account identifier",
      "cac:PayeeFinancialAccount/cbc:ID", CII_ACCOUNT),
    t("BR-62", "BT-34", "Schéma de l'adresse électronique du vendeur", "Seller electronic address scheme",
      "cbc:EndpointID/@schemeID", "ram:URIUniversalCommunication/ram:URIID/@schemeID"),
    t("BR-63", "BT-49", "Schéma de l'adresse électronique de l'acheteur", "Buyer electronic address scheme",
      "cbc:EndpointID/@schemeID", "ram:URIUniversalCommunication/ram:URIID/@schemeID"),
    t("BR-64", "BT-157", "Schéma de l'identifiant standard de l'article", "Item standard identifier scheme",
      "cac:StandardItemIdentification/cbc:ID/@schemeID", "ram:GlobalID/@schemeID"),
    t("BR-65", "BT-158", "Schéma de la classification de l'article", "Item classification identifier scheme",
      "cbc:ItemClassificationCode/@listID", "ram:ClassCode/@listID"),
];

/// Wording of a rule missing from [`TERMS`] (a unit test keeps the table complete).
static UNKNOWN: Term = t("", "", "Terme", "Term", "", "");

fn term(rule: &str) -> &'static Term {
    TERMS.iter().find(|t| t.rule == rule).unwrap_or(&UNKNOWN)
}

/// Reports the rule with the common part of its message (`BT-1 Invoice number …`) and what to do.
struct Out<'o> {
    out: &'o mut Findings,
    syntax: Syntax,
}

impl Out<'_> {
    fn elem(&self, t: &Term) -> &'static str {
        match self.syntax {
            Syntax::Ubl => t.ubl,
            Syntax::Cii => t.cii,
        }
    }

    /// The term is absent: `at` is the group that should hold it.
    fn missing(&mut self, rule: &'static str, at: Loc<'_>) {
        let t = term(rule);
        let e = self.elem(t);
        self.out.fire(
            rule,
            at,
            format!("Il manque {} {} : ajoutez {e}.", t.term, t.fr),
            format!("{} {} is missing: add {e}.", t.term, t.en),
        );
    }

    /// The term is present but wrong; `fr`/`en` say what to correct.
    fn wrong(&mut self, rule: &'static str, at: Loc<'_>, fr: &str, en: &str) {
        let t = term(rule);
        let e = self.elem(t);
        self.out.fire(
            rule,
            at,
            format!("{} {} ({e}) : {fr}", t.term, t.fr),
            format!("{} {} ({e}): {en}", t.term, t.en),
        );
    }

    /// `exists(term)`: fires when absent.
    fn exists(&mut self, rule: &'static str, v: Option<&Val>, parent: Loc<'_>) {
        if v.is_none() {
            self.missing(rule, parent);
        }
    }

    /// `normalize-space(term) != ''`: fires when absent or empty.
    fn filled(&mut self, rule: &'static str, v: Option<&Val>, parent: Loc<'_>) {
        match v {
            None => self.missing(rule, parent),
            Some(v) if blank(v) => self.wrong(
                rule,
                loc(v),
                "la valeur est vide : renseignez-la.",
                "the value is empty: fill it in.",
            ),
            Some(_) => {}
        }
    }

    /// `exists(@attr)` on a present element (`nonblank`: `normalize-space(@attr) != ''`).
    fn attr(&mut self, rule: &'static str, v: &Val, name: &str, nonblank: bool) {
        let ok = v.attr(name).is_some_and(|a| !nonblank || !blank(a));
        if !ok {
            self.wrong(
                rule,
                loc(v),
                &format!(
                    "indiquez l'identifiant du schéma dans l'attribut @{name} de « {} ».",
                    v.trimmed()
                ),
                &format!("give the scheme identifier in attribute @{name} of '{}'.", v.trimmed()),
            );
        }
    }
}

fn loc(v: &Val) -> Loc<'_> {
    Loc::at(&v.path, v.line)
}

fn at(l: &DraftLoc) -> Loc<'_> {
    Loc::at(&l.path, l.line)
}

/// The location of an optional group, or `fallback`.
fn at_or<'a>(l: Option<&'a DraftLoc>, fallback: Loc<'a>) -> Loc<'a> {
    l.map_or(fallback, at)
}

/// The location of an optional party, or `root`.
fn party_at<'a>(p: &'a Option<DraftParty>, root: Loc<'a>) -> Loc<'a> {
    at_or(p.as_ref().map(|p| &p.at), root)
}

/// Empty after XPath `normalize-space` ([`Val::trimmed`]).
fn blank(v: &Val) -> bool {
    v.raw.bytes().all(|b| b.is_ascii_whitespace())
}

/// `v.trimmed() == c`, without building the trimmed string.
fn trimmed_is(v: &Val, c: &str) -> bool {
    tokens_eq(v.raw.split_ascii_whitespace(), c)
}

/// Runs the core rules over `draft`.
pub fn check(d: &Draft, out: &mut Findings) {
    let syntax = out.syntax();
    let mut o = Out { out, syntax };
    header(d, &mut o);
    parties(d, &mut o);
    references(d, &mut o);
    payment(d, &mut o);
    allowances_charges(d, &mut o);
    totals(d, &mut o);
    for l in &d.lines {
        line(l, &mut o);
    }
    if let Some(p) = &d.invoicing_period {
        period(p, "BR-29", &mut o);
    }
}

fn header(d: &Draft, o: &mut Out<'_>) {
    let root = at(&d.root);
    o.filled("BR-01", d.specification_identifier.as_ref(), root);
    o.filled("BR-02", d.number.as_ref(), root);
    match (o.syntax, &d.issue_date) {
        (Syntax::Cii, Some(v)) if v.attr("format").is_none_or(|f| f.raw != "102") => o.wrong(
            "BR-03",
            loc(v),
            "indiquez la date au format 102 (AAAAMMJJ) avec l'attribut format=\"102\".",
            "give the date in format 102 (YYYYMMDD) with attribute format=\"102\".",
        ),
        (_, v) => o.filled("BR-03", v.as_ref(), root),
    }
    o.filled("BR-04", d.type_code.as_ref(), root);
    o.filled("BR-05", d.currency_code.as_ref(), root);
    if d.lines.is_empty() {
        o.missing("BR-16", root);
    }
}

/// Seller, buyer, payee and tax representative: names, addresses, country codes, electronic addresses.
fn parties(d: &Draft, o: &mut Out<'_>) {
    let root = at(&d.root);
    o.filled(
        "BR-06",
        d.seller.as_ref().and_then(|p| p.name.as_ref()),
        party_at(&d.seller, root),
    );
    o.filled(
        "BR-07",
        d.buyer.as_ref().and_then(|p| p.name.as_ref()),
        party_at(&d.buyer, root),
    );
    for (group, country, p) in [("BR-08", "BR-09", &d.seller), ("BR-10", "BR-11", &d.buyer)] {
        let address = p.as_ref().and_then(|p| p.address.as_ref());
        if address.is_none() {
            o.missing(group, party_at(p, root));
        }
        country_code(o, country, address, party_at(p, root));
    }
    for (rule, p) in [("BR-62", &d.seller), ("BR-63", &d.buyer)] {
        let Some(p) = p else { continue };
        match (o.syntax, &p.electronic_address) {
            (Syntax::Ubl, Some(v)) => o.attr(rule, v, "schemeID", false),
            (Syntax::Cii, Some(v)) => o.attr(rule, v, "schemeID", true),
            (Syntax::Cii, None) => {
                if let Some(g) = &p.electronic_address_group {
                    o.missing(rule, at(g));
                }
            }
            (Syntax::Ubl, None) => {}
        }
    }
    if let Some(t) = &d.tax_representative {
        let here = at(&t.at);
        o.filled("BR-18", t.name.as_ref(), here);
        if t.address.is_none() {
            o.missing("BR-19", here);
        }
        country_code(o, "BR-20", t.address.as_ref(), here);
        let vat_ok = match o.syntax {
            Syntax::Ubl => !t.vat_identifiers.is_empty(),
            Syntax::Cii => t.vat_identifier.as_ref().is_some_and(|v| !blank(v)),
        };
        if !vat_ok {
            o.missing("BR-56", here);
        }
    }
    if let Some(p) = &d.payee {
        payee(d, p, o);
    }
}

/// BR-09 / BR-11 / BR-20: UBL checks the country inside an existing address only, CII from the root.
fn country_code(o: &mut Out<'_>, rule: &'static str, address: Option<&DraftAddress>, parent: Loc<'_>) {
    match (o.syntax, address) {
        (_, Some(a)) => o.filled(rule, a.country_code.as_ref(), at(&a.at)),
        (Syntax::Cii, None) => o.missing(rule, parent),
        (Syntax::Ubl, None) => {}
    }
}

/// BR-17: a payee (BG-10) has a name and is not the seller (names and identifiers all differ, compared
/// as written).
fn payee(d: &Draft, p: &DraftParty, o: &mut Out<'_>) {
    let Some(name) = &p.name else {
        o.missing("BR-17", at(&p.at));
        return;
    };
    let seller = d.seller.as_ref();
    let seller_name = seller.and_then(|s| match o.syntax {
        Syntax::Ubl => s.trading_name.as_ref(),
        Syntax::Cii => s.name.as_ref(),
    });
    let seller_ids: &[Val] = seller.map_or(&[], |s| &s.ids_as_written);
    let same_id = p
        .ids_as_written
        .iter()
        .any(|x| seller_ids.iter().any(|y| x.raw == y.raw));
    let seller_legal = seller.and_then(|s| s.legal_registration_id.as_ref());
    let same_legal = o.syntax == Syntax::Cii
        && matches!((&p.legal_registration_id, seller_legal), (Some(a), Some(b)) if a.raw == b.raw);
    let same = seller_name.is_some_and(|s| s.raw == name.raw) || same_id || same_legal;
    if same {
        o.wrong(
            "BR-17",
            at(&p.at),
            "le bénéficiaire (BG-10) porte le nom ou un identifiant du vendeur : ne renseignez BG-10 que si le bénéficiaire est une autre personne que le vendeur.",
            "the payee (BG-10) carries the seller's name or identifier: give BG-10 only when the payee is not the seller.",
        );
    }
}

/// BR-52 (supporting documents) and BR-55 (preceding invoices).
fn references(d: &Draft, o: &mut Out<'_>) {
    for r in &d.document_references {
        o.filled("BR-52", r.id.as_ref(), at(&r.at));
    }
    for r in &d.billing_references {
        match o.syntax {
            Syntax::Ubl => o.exists("BR-55", r.id.as_ref(), at(&r.at)),
            Syntax::Cii => o.filled("BR-55", r.id.as_ref(), at(&r.at)),
        }
    }
    for a in &d.delivery_addresses {
        match o.syntax {
            Syntax::Ubl => o.exists("BR-57", a.country_code.as_ref(), at(&a.at)),
            Syntax::Cii => o.filled("BR-57", a.country_code.as_ref(), at(&a.at)),
        }
    }
}

/// BR-49, BR-50, BR-51, BR-61: payment instructions (BG-16..BG-18).
fn payment(d: &Draft, o: &mut Out<'_>) {
    for pm in &d.payment_means {
        let here = at(&pm.at);
        o.exists("BR-49", pm.type_code.as_ref(), here);
        let code_is = |norm: bool| {
            pm.type_code.as_ref().is_some_and(|c| {
                if norm {
                    trimmed_is(c, "30") || trimmed_is(c, "58")
                } else {
                    c.raw == "30" || c.raw == "58"
                }
            })
        };
        // Credit transfer: the account context is selected on the code as written.
        if code_is(false) {
            for ct in &pm.credit_transfers {
                o.filled("BR-50", ct.account_id.as_ref(), at(&ct.at));
                if o.syntax == Syntax::Cii {
                    o.exists("BR-61", ct.account_id.as_ref(), at(&ct.at));
                }
            }
        }
        if o.syntax == Syntax::Ubl && code_is(true) && !pm.credit_transfers.iter().any(|c| c.account_id.is_some()) {
            o.missing("BR-61", here);
        }
        if let Some(pan) = pm.card.as_ref().and_then(|c| c.primary_account_number.as_ref())
            && pan.trimmed().chars().count() > 10
        {
            o.wrong(
                "BR-51",
                loc(pan),
                "n'indiquez que les 4 à 6 derniers chiffres du numéro de carte (10 caractères au plus).",
                "give only the last 4 to 6 digits of the card number (at most 10 characters).",
            );
        }
    }
}

/// `Some(true)` for a charge, `Some(false)` for an allowance: UBL casts the indicator to xs:boolean,
/// CII compares its text with `'true'` / `'false'`.
fn is_charge(syntax: Syntax, ac: &DraftAllowanceCharge) -> Option<bool> {
    let v = ac.charge_indicator.as_ref();
    match syntax {
        Syntax::Ubl => indicator(v),
        Syntax::Cii => match v?.raw.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
    }
}

/// Every allowance/charge of a level, whatever list the reader filed it in.
fn all_acs<'a>(
    a: &'a [DraftAllowanceCharge],
    c: &'a [DraftAllowanceCharge],
    other: &'a [DraftAllowanceCharge],
) -> impl Iterator<Item = &'a DraftAllowanceCharge> {
    a.iter().chain(c).chain(other)
}

/// Rule ids (amount, VAT category, reason) for allowances and charges of a level.
struct AcRules {
    allowance: [Option<&'static str>; 3],
    charge: [Option<&'static str>; 3],
}

const DOC_AC: AcRules = AcRules {
    allowance: [Some("BR-31"), Some("BR-32"), Some("BR-33")],
    charge: [Some("BR-36"), Some("BR-37"), Some("BR-38")],
};
const LINE_AC: AcRules = AcRules {
    allowance: [Some("BR-41"), None, Some("BR-42")],
    charge: [Some("BR-43"), None, Some("BR-44")],
};

fn ac_rules<'a>(o: &mut Out<'_>, acs: impl Iterator<Item = &'a DraftAllowanceCharge>, rules: &AcRules) {
    for ac in acs {
        let Some(charge) = is_charge(o.syntax, ac) else {
            continue;
        };
        let [amount, cat, reason] = if charge { rules.charge } else { rules.allowance };
        let here = at(&ac.at);
        if let Some(r) = amount {
            o.exists(r, ac.amount.as_ref(), here);
        }
        if let Some(r) = cat
            && !(ac.vat_category.is_some() && is_vat(o.syntax, ac.vat_scheme.as_ref()))
        {
            o.missing(r, here);
        }
        if let Some(r) = reason
            && ac.reason.is_none()
            && ac.reason_code.is_none()
        {
            o.missing(r, here);
        }
    }
}

fn allowances_charges(d: &Draft, o: &mut Out<'_>) {
    let doc = all_acs(&d.allowances, &d.charges, &d.unclassified_allowance_charges);
    ac_rules(o, doc, &DOC_AC);
    for l in &d.lines {
        let line = all_acs(&l.allowances, &l.charges, &l.unclassified_allowance_charges);
        ac_rules(o, line, &LINE_AC);
    }
}

/// The tax scheme is VAT: UBL `normalize-space(upper-case(cbc:ID)) = 'VAT'`, CII `upper-case(ram:TypeCode) = 'VAT'`.
fn is_vat(syntax: Syntax, scheme: Option<&Val>) -> bool {
    scheme.is_some_and(|s| match syntax {
        Syntax::Ubl if s.raw.is_ascii() => {
            let mut t = s.raw.split_ascii_whitespace();
            t.next().is_some_and(|x| x.eq_ignore_ascii_case("VAT")) && t.next().is_none()
        }
        Syntax::Ubl => normalize_space(&s.raw.to_uppercase()) == "VAT",
        Syntax::Cii => upper_is_vat(&s.raw),
    })
}

/// BR-12..BR-15 (document totals), BR-53 (VAT total in accounting currency), BR-45..BR-48 (VAT breakdown).
fn totals(d: &Draft, o: &mut Out<'_>) {
    let t = d.totals.as_ref();
    if let Some(g) = &d.totals_group {
        let here = at(g);
        o.exists("BR-12", t.and_then(|t| t.line_net_total.as_ref()), here);
        o.exists("BR-13", t.and_then(|t| t.tax_exclusive_total.as_ref()), here);
        o.exists("BR-14", t.and_then(|t| t.tax_inclusive_total.as_ref()), here);
        o.exists("BR-15", t.and_then(|t| t.payable.as_ref()), here);
    }
    if let Some(tc) = &d.vat_currency_code {
        let amounts = t.map(|t| t.vat_total_amounts.as_slice()).unwrap_or_default();
        let in_tc = amounts
            .iter()
            .chain(&d.line_vat_total_amounts)
            .any(|a| a.attr("currencyID").is_some_and(|c| c.raw == tc.raw));
        let (applies, ok, here) = match o.syntax {
            Syntax::Ubl => (true, in_tc, loc(tc)),
            Syntax::Cii => (
                d.totals_group.is_some(),
                in_tc && d.currency_code.as_ref().is_none_or(|c| c.raw != tc.raw),
                at_or(d.totals_group.as_ref(), loc(tc)),
            ),
        };
        if applies && !ok {
            o.wrong(
                "BR-53",
                here,
                &format!(
                    "la devise de comptabilisation de la TVA (BT-6) est « {} » : donnez le montant total de TVA dans cette devise, différente de la devise de la facture (BT-5).",
                    tc.trimmed()
                ),
                &format!(
                    "the VAT accounting currency (BT-6) is '{}': give the total VAT amount in that currency, which must differ from the invoice currency (BT-5).",
                    tc.trimmed()
                ),
            );
        }
    }
    let syntax = o.syntax;
    for b in d.vat_breakdown.iter().chain(&d.line_vat_breakdowns) {
        let vat = is_vat(syntax, b.vat_scheme.as_ref());
        let code_is = |c: &str| {
            b.category_code.as_ref().is_some_and(|v| match syntax {
                Syntax::Ubl => trimmed_is(v, c),
                Syntax::Cii => v.raw == c,
            })
        };
        // CII: a header trade tax of category L, M or O (scheme VAT) is claimed by its family's rule first.
        if syntax == Syntax::Cii && vat && ["L", "M", "O"].iter().any(|c| code_is(c)) {
            continue;
        }
        let here = at(&b.at);
        o.exists("BR-45", b.taxable_amount.as_ref(), here);
        o.exists("BR-46", b.tax_amount.as_ref(), here);
        if !(vat && b.category_code.is_some()) {
            o.missing("BR-47", here);
        }
        if !(vat && (b.rate.is_some() || code_is("O"))) {
            o.missing("BR-48", here);
        }
    }
}

/// BR-21..BR-28, BR-30, BR-54, BR-64, BR-65 on one invoice line (BG-25).
fn line(l: &crate::model::draft::DraftLine, o: &mut Out<'_>) {
    let here = at(&l.at);
    o.filled("BR-21", l.id.as_ref(), here);
    o.exists("BR-22", l.quantity.as_ref(), here);
    if l.quantity.as_ref().is_none_or(|q| q.attr("unitCode").is_none()) {
        o.missing("BR-23", l.quantity.as_ref().map_or(here, loc));
    }
    o.exists("BR-24", l.net_amount.as_ref(), here);
    let item = l.item.as_ref();
    o.filled(
        "BR-25",
        item.and_then(|i| i.name.as_ref()),
        at_or(item.map(|i| &i.at), here),
    );
    let price = l.price.as_ref();
    let price_at = at_or(price.map(|p| &p.at), here);
    let net = price.and_then(|p| p.net_price.as_ref());
    o.exists("BR-26", net, price_at);
    // `(price) >= 0`: the value cast to xs:double; a missing price fails too.
    match net {
        None => o.missing("BR-27", price_at),
        Some(v) => non_negative(o, "BR-27", v),
    }
    if let Some(v) = price.and_then(|p| p.gross_price.as_ref()) {
        non_negative(o, "BR-28", v);
    }
    if let Some(p) = &l.period {
        period(p, "BR-30", o);
    }
    let cii = o.syntax == Syntax::Cii;
    for item in item.into_iter().chain(&l.more_items) {
        if let Some(v) = &item.standard_id {
            o.attr("BR-64", v, "schemeID", cii);
        }
        for v in &item.classifications {
            o.attr("BR-65", v, "listID", cii);
        }
        for a in &item.attributes {
            if a.name.is_none() || a.value.is_none() {
                o.missing("BR-54", at(&a.at));
            }
        }
    }
}

/// `(…) >= 0` on an untyped value, as the official engine (Saxon) computes it: the value becomes a double,
/// and a negative zero written with a decimal point or an exponent (`-0.00`, not `-0`) compares below 0.
fn non_negative(o: &mut Out<'_>, rule: &'static str, v: &Val) {
    let saxon_negative_zero = |x: f64| x == 0.0 && x.is_sign_negative() && v.raw.contains(['.', 'e', 'E']);
    if !xs_double(&v.raw).is_some_and(|x| x >= 0.0 && !saxon_negative_zero(x)) {
        o.wrong(
            rule,
            loc(v),
            &format!("« {} » doit être un nombre positif ou nul.", v.trimmed()),
            &format!("'{}' must be a number, zero or more.", v.trimmed()),
        );
    }
}

/// BR-29 / BR-30: the end date is not before the start date. UBL compares the dates (as instants, time
/// zones included) when both are given; CII compares the `udt:DateTimeString` texts, which must be in
/// format 102, as soon as both date elements are present.
fn period(p: &DraftPeriod, rule: &'static str, o: &mut Out<'_>) {
    let f102 = |v: &Val| v.attr("format").is_some_and(|f| f.raw == "102");
    let ok = match (o.syntax, &p.start, &p.end) {
        // xs:date(cbc:EndDate) >= xs:date(cbc:StartDate): instants, so time zones count.
        (Syntax::Ubl, Some(start), Some(end)) => {
            match (super::xsd::date_instant(&start.raw), super::xsd::date_instant(&end.raw)) {
                (Some(s), Some(e)) => e >= s,
                // Not dates at all (the schema step reports them): compared as text, as before.
                _ => end.raw.trim() >= start.raw.trim(),
            }
        }
        (Syntax::Ubl, ..) => true,
        (Syntax::Cii, ..) if !(p.start_element && p.end_element) => true,
        (Syntax::Cii, Some(start), Some(end)) => f102(start) && f102(end) && end.raw >= start.raw,
        (Syntax::Cii, ..) => false,
    };
    if ok {
        return;
    }
    let text = |v: &Option<Val>| v.as_ref().map(Val::trimmed).unwrap_or_default();
    let (start, end) = (text(&p.start), text(&p.end));
    o.wrong(
        rule,
        p.end.as_ref().map_or(at(&p.at), loc),
        &format!(
            "la date de fin « {end} » doit être donnée au format attendu et ne pas précéder la date de début « {start} »."
        ),
        &format!("the end date '{end}' must be given in the expected format and not be before the start date '{start}'."),
    );
}
