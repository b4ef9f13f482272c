//! Writers and readers agree: read(write(inv)) == inv for UBL and CII (property tests over
//! generated strict invoices), and valid corpus files survive UBL/CII → model → other syntax.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::path::PathBuf;

use facteur_einvoice::model::*;
use facteur_einvoice::xml::{self, Syntax};
use facteur_einvoice::{cii, ubl};
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;
use proptest::strategy::ValueTree;

fn read_strict(xml_text: &str) -> Invoice {
    let (_, draft) = xml::read_xml(xml_text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{xml_text}"));
    Invoice::try_from(&draft).unwrap_or_else(|e| panic!("{e}\n{xml_text}"))
}

// ---- strategies -------------------------------------------------------------------------------

/// Free text: no surrounding whitespace (the model trims), XML-special characters included so
/// escaping is exercised, never starting with `#` (UBL's note subject-code prefix).
fn text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9À-ÿ]([A-Za-z0-9 .,&<>'\"/À-ÿ-]{0,14}[A-Za-z0-9.])?"
}

fn code() -> impl Strategy<Value = Code> {
    "[A-Z0-9]{1,4}".prop_map(|s| Code::new(&s).unwrap())
}

fn scheme() -> impl Strategy<Value = Code> {
    "[0-9]{4}".prop_map(|s| Code::new(&s).unwrap())
}

fn ident() -> impl Strategy<Value = Identifier> {
    (text(), of(scheme())).prop_map(|(value, scheme)| Identifier { value, scheme })
}

fn dec() -> impl Strategy<Value = Decimal> {
    (any::<i32>(), 0u32..5).prop_map(|(m, s)| Decimal::new(i64::from(m), s))
}

fn date() -> impl Strategy<Value = Date> {
    (1900u16..2100, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| Date::new(y, m, d).unwrap())
}

fn country() -> impl Strategy<Value = CountryCode> {
    prop::sample::select(vec!["FR", "DE", "NO", "SE", "BE", "IT"]).prop_map(|c| CountryCode::new(c).unwrap())
}

fn vat_category() -> impl Strategy<Value = VatCategory> {
    prop::sample::select(VatCategory::ALL.to_vec())
}

fn address() -> impl Strategy<Value = Address> {
    (
        of(text()),
        of(text()),
        of(text()),
        of(text()),
        of(text()),
        of(text()),
        country(),
    )
        .prop_map(|(line1, line2, line3, city, post_code, subdivision, country)| Address {
            line1,
            line2,
            line3,
            city,
            post_code,
            subdivision,
            country,
        })
}

fn contact() -> impl Strategy<Value = Contact> {
    (of(text()), of(text()), of(text())).prop_map(|(point, telephone, email)| Contact {
        point,
        telephone,
        email,
    })
}

fn seller() -> impl Strategy<Value = Seller> {
    (
        (text(), of(text()), vec(ident(), 0..3), of(ident()), of(text())),
        (of(text()), of(text()), of(ident()), address(), of(contact())),
    )
        .prop_map(
            |(
                (name, trading_name, mut identifiers, legal_registration, vat_id),
                (tax_registration_id, additional_legal_info, electronic_address, address, contact),
            )| {
                // CII writes identifiers without a scheme (ram:ID) before those with one.
                identifiers.sort_by_key(|i| i.scheme.is_some());
                Seller {
                    name,
                    trading_name,
                    identifiers,
                    legal_registration,
                    vat_id,
                    tax_registration_id,
                    additional_legal_info,
                    electronic_address,
                    address,
                    contact,
                }
            },
        )
}

fn buyer() -> impl Strategy<Value = Buyer> {
    (
        text(),
        of(text()),
        of(ident()),
        of(ident()),
        of(text()),
        of(ident()),
        address(),
        of(contact()),
    )
        .prop_map(
            |(name, trading_name, identifier, legal_registration, vat_id, electronic_address, address, contact)| {
                Buyer {
                    name,
                    trading_name,
                    identifier,
                    legal_registration,
                    vat_id,
                    electronic_address,
                    address,
                    contact,
                }
            },
        )
}

fn period() -> impl Strategy<Value = Period> {
    // A period states at least one date (BR-CO-19/20); an empty one reads back as absent.
    prop_oneof![
        (date(), of(date())).prop_map(|(s, e)| Period { start: Some(s), end: e }),
        date().prop_map(|e| Period {
            start: None,
            end: Some(e)
        }),
    ]
}

fn payment() -> impl Strategy<Value = PaymentInstructions> {
    let transfer =
        (text(), of(text()), of(text())).prop_map(|(account_id, account_name, service_provider)| CreditTransfer {
            account_id,
            account_name,
            service_provider,
        });
    let card = (text(), of(text())).prop_map(|(primary_account_number, holder_name)| Card {
        primary_account_number,
        holder_name,
    });
    let debit = (of(text()), of(text()), of(text()))
        .prop_filter("direct debit states something", |(a, b, c)| {
            a.is_some() || b.is_some() || c.is_some()
        })
        .prop_map(|(mandate_reference, creditor_id, debited_account)| DirectDebit {
            mandate_reference,
            creditor_id,
            debited_account,
        });
    (code(), of(text()), of(text()), vec(transfer, 0..3), of(card), of(debit)).prop_map(
        |(means_code, means_text, remittance, credit_transfers, card, direct_debit)| PaymentInstructions {
            means_code,
            means_text,
            remittance,
            credit_transfers,
            card,
            direct_debit,
        },
    )
}

fn doc_ac() -> impl Strategy<Value = AllowanceCharge> {
    (
        dec(),
        of(dec()),
        of(dec()),
        vat_category(),
        of(dec()),
        of(text()),
        of(code()),
    )
        .prop_map(
            |(amount, base_amount, percentage, vat_category, vat_rate, reason, reason_code)| AllowanceCharge {
                amount,
                base_amount,
                percentage,
                vat_category,
                vat_rate,
                reason,
                reason_code,
            },
        )
}

fn line_ac() -> impl Strategy<Value = LineAllowanceCharge> {
    (dec(), of(dec()), of(dec()), of(text()), of(code())).prop_map(
        |(amount, base_amount, percentage, reason, reason_code)| LineAllowanceCharge {
            amount,
            base_amount,
            percentage,
            reason,
            reason_code,
        },
    )
}

fn item() -> impl Strategy<Value = Item> {
    let class = (text(), of(code()), of(text())).prop_map(|(code, list_id, list_version)| Classification {
        code,
        list_id,
        list_version,
    });
    let attr = (text(), text()).prop_map(|(name, value)| ItemAttribute { name, value });
    (
        text(),
        of(text()),
        of(text()),
        of(text()),
        of(ident()),
        vec(class, 0..3),
        of(country()),
        vec(attr, 0..3),
    )
        .prop_map(
            |(name, description, seller_id, buyer_id, standard_id, classifications, origin_country, attributes)| Item {
                name,
                description,
                seller_id,
                buyer_id,
                standard_id,
                classifications,
                origin_country,
                attributes,
            },
        )
}

fn line() -> impl Strategy<Value = Line> {
    let price = (dec(), of(dec()), of(dec()), of(dec()), of(code())).prop_map(
        |(net_price, discount, gross_price, base_quantity, unit)| Price {
            net_price,
            // The schemas require both or neither (CII's gross ChargeAmount, UBL's discount Amount);
            // the writers derive the missing one (`roundtrip_valid` covers that case).
            discount: discount.and(gross_price).and(discount),
            gross_price: discount.and(gross_price),
            // A unit code needs a quantity to sit on.
            base_quantity_unit: base_quantity.and(unit),
            base_quantity,
        },
    );
    (
        (
            text(),
            of(text()),
            of(ident()),
            dec(),
            code(),
            dec(),
            of(text()),
            of(text()),
        ),
        (
            of(period()),
            vec(line_ac(), 0..2),
            vec(line_ac(), 0..2),
            price,
            vat_category(),
            of(dec()),
            item(),
        ),
    )
        .prop_map(
            |(
                (id, note, object, quantity, unit_code, net_amount, order_line_reference, accounting_reference),
                (period, allowances, charges, price, vat_category, vat_rate, item),
            )| Line {
                id,
                note,
                object,
                quantity,
                unit_code,
                net_amount,
                order_line_reference,
                accounting_reference,
                period,
                allowances,
                charges,
                price,
                vat_category,
                vat_rate,
                item,
            },
        )
}

fn invoice() -> impl Strategy<Value = Invoice> {
    let head = (
        (
            any::<bool>(),
            text(),
            date(),
            prop::sample::select(vec!["EUR", "USD"]),
            any::<bool>(),
        ),
        (
            of(date()),
            of(prop::sample::select(vec!["3", "35", "432"])),
            of(date()),
            of(text()),
            of(text()),
        ),
        (of(text()), of(text()), of(text()), of(text()), of(text())),
        (of(text()), of(ident()), of(text()), of(text()), of(text()), text()),
    );
    let notes = vec((of("[A-Z]{3}"), text()), 0..3);
    let preceding = vec((text(), of(date())), 0..2);
    let parties = (
        seller(),
        buyer(),
        of((text(), of(ident()), of(ident()))),
        of((text(), text(), address())),
    );
    let delivery = of((text(), of(ident()), of(date()), of(address())));
    let money = (
        (dec(), of(dec()), of(dec()), dec(), dec(), of(dec())),
        (dec(), of(dec()), of(dec()), dec()),
    );
    let vat = (dec(), dec(), vat_category(), of(dec()), of(text()), of(code()));
    let docs = (text(), of(text()), of(text()), of(("[A-Za-z0-9+/]{4,24}", text())));
    (
        head,
        notes,
        preceding,
        parties,
        (delivery, of(period()), of(payment())),
        (vec(doc_ac(), 0..3), vec(doc_ac(), 0..3), money),
        (vec(vat, 1..4), vec(docs, 0..3), vec(line(), 1..4)),
    )
        .prop_map(
            |(head, notes, preceding, parties, (delivery, invoicing_period, payment), acs, rest)| {
                let ((credit, number, issue_date, currency, with_vat_currency), h2, h3, h4) = head;
                let (tax_point_date, vat_point_code, due_date, buyer_reference, project_reference) = h2;
                let (contract_reference, purchase_order_reference, sales_order, receiving, despatch) = h3;
                let (
                    tender_reference,
                    invoiced_object,
                    buyer_accounting_reference,
                    payment_terms,
                    business_process,
                    spec,
                ) = h4;
                let (seller, buyer, payee, tax_rep) = parties;
                let (allowances, charges, (m1, m2)) = acs;
                let (vat, docs, lines) = rest;
                let kind = if credit { DocKind::CreditNote } else { DocKind::Invoice };
                let vat_currency = with_vat_currency.then(|| CurrencyCode::new("SEK").unwrap());
                Invoice {
                    kind,
                    number,
                    issue_date,
                    type_code: Code::new(if credit { "381" } else { "380" }).unwrap(),
                    currency: CurrencyCode::new(currency).unwrap(),
                    tax_point_date,
                    vat_point_date_code: vat_point_code.and_then(VatPointDateCode::from_ubl),
                    // A UBL credit note carries BT-9 inside a payment means.
                    due_date: if credit && payment.is_none() { None } else { due_date },
                    buyer_reference,
                    project_reference,
                    contract_reference,
                    // UBL's OrderReference needs an ID, so a sales order reference comes with a PO reference.
                    sales_order_reference: purchase_order_reference.as_ref().and(sales_order),
                    purchase_order_reference,
                    receiving_advice_reference: receiving,
                    despatch_advice_reference: despatch,
                    tender_reference,
                    invoiced_object,
                    buyer_accounting_reference,
                    payment_terms,
                    notes: notes
                        .into_iter()
                        .map(|(c, text)| Note {
                            subject_code: c.map(|c| Code::new(&c).unwrap()),
                            text,
                        })
                        .collect(),
                    business_process,
                    specification: spec,
                    preceding_invoices: preceding
                        .into_iter()
                        .map(|(number, issue_date)| PrecedingInvoice { number, issue_date })
                        .collect(),
                    seller,
                    buyer,
                    payee: payee.map(|(name, identifier, legal_registration)| Payee {
                        name,
                        identifier,
                        legal_registration,
                    }),
                    tax_representative: tax_rep.map(|(name, vat_id, address)| TaxRepresentative {
                        name,
                        vat_id,
                        address,
                    }),
                    delivery: delivery.map(|(party_name, location_id, actual_date, address)| Delivery {
                        party_name: Some(party_name),
                        location_id,
                        actual_date,
                        address,
                    }),
                    invoicing_period,
                    payment,
                    allowances,
                    charges,
                    totals: Totals {
                        line_net_total: m1.0,
                        allowance_total: m1.1,
                        charge_total: m1.2,
                        tax_exclusive_total: m1.3,
                        // UBL always carries BT-110 (see the corpus test for its absence).
                        vat_total: Some(m1.4),
                        vat_total_accounting: if vat_currency.is_some() { m1.5 } else { None },
                        tax_inclusive_total: m2.0,
                        prepaid: m2.1,
                        rounding: m2.2,
                        payable: m2.3,
                    },
                    vat_currency,
                    vat_breakdown: vat
                        .into_iter()
                        .map(
                            |(taxable_amount, tax_amount, category, rate, exemption_reason, exemption_reason_code)| {
                                VatBreakdown {
                                    taxable_amount,
                                    tax_amount,
                                    category,
                                    rate,
                                    exemption_reason,
                                    exemption_reason_code,
                                }
                            },
                        )
                        .collect(),
                    additional_documents: docs
                        .into_iter()
                        .map(|(reference, description, external_uri, att)| AdditionalDocument {
                            reference,
                            description,
                            external_uri,
                            attachment: att.map(|(content_base64, filename)| Attachment {
                                content_base64,
                                mime_code: "application/pdf".into(),
                                filename,
                            }),
                        })
                        .collect(),
                    lines,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn ubl_write_then_read_is_identity(inv in invoice()) {
        let out = ubl::write(&inv);
        let back = read_strict(&out);
        prop_assert_eq!(back, inv, "{}", out);
    }

    #[test]
    fn cii_write_then_read_is_identity(inv in invoice()) {
        let out = cii::write(&inv);
        let back = read_strict(&out);
        prop_assert_eq!(back, inv, "{}", out);
    }
}

#[test]
fn written_documents_have_the_right_root_and_syntax() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let inv = invoice().new_tree(&mut runner).unwrap().current();
    let u = ubl::write(&inv);
    let c = cii::write(&inv);
    let (su, du) = xml::read_xml(u.as_bytes()).unwrap();
    let (sc, dc) = xml::read_xml(c.as_bytes()).unwrap();
    assert_eq!((su, sc), (Syntax::Ubl, Syntax::Cii));
    assert_eq!(du.kind, inv.kind);
    assert_eq!(dc.kind, inv.kind);
    assert!(u.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
}

// ---- corpus ------------------------------------------------------------------------------------

fn corpus_dir(rel: &str) -> PathBuf {
    let base = match std::env::var("FACTEUR_CORPUS") {
        Ok(p) => PathBuf::from(p),
        Err(_) => std::env::var("FACTEUR_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
            .join("corpus"),
    };
    base.join("en16931").join(rel)
}

fn corpus_files(rel: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(corpus_dir(rel))
        .unwrap_or_else(|e| panic!("corpus {rel}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    v.sort();
    v
}

#[test]
fn valid_corpus_converts_to_the_other_syntax_and_back_unchanged() {
    let mut n = 0;
    for dir in ["ubl/examples", "ubl/testfiles", "cii/examples"] {
        for path in corpus_files(dir) {
            let bytes = std::fs::read(&path).unwrap();
            let (syntax, draft) = xml::read_xml(&bytes).unwrap();
            let inv = Invoice::try_from(&draft).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let other = match syntax {
                Syntax::Ubl => cii::write(&inv),
                Syntax::Cii => ubl::write(&inv),
            };
            // UBL cannot omit BT-110: the writer fills it with the sum of BT-117 (BR-CO-14).
            let mut expected = inv.clone();
            if syntax == Syntax::Cii && expected.totals.vat_total.is_none() {
                expected.totals.vat_total = Some(inv.vat_breakdown.iter().map(|v| v.tax_amount).sum());
            }
            // CII cannot carry a BT-6 equal to BT-5 (BR-53): the writer leaves it out.
            if syntax == Syntax::Ubl && expected.vat_currency.as_ref() == Some(&expected.currency) {
                expected.vat_currency = None;
            }
            // The schemas need the gross price with a price discount in CII and the discount with a gross
            // price in UBL: the writer derives the missing one (BT-146 = BT-148 − BT-147).
            for l in &mut expected.lines {
                let p = &mut l.price;
                match (p.discount, p.gross_price) {
                    (Some(d), None) if syntax == Syntax::Ubl => p.gross_price = Some(p.net_price + d),
                    (None, Some(g)) if syntax == Syntax::Cii => p.discount = Some(g - p.net_price),
                    _ => {}
                }
            }
            let via = read_strict(&other);
            assert_eq!(via, expected, "{} through the other syntax", path.display());
            let same = match syntax {
                Syntax::Ubl => ubl::write(&via),
                Syntax::Cii => cii::write(&via),
            };
            assert_eq!(
                read_strict(&same),
                expected,
                "{} back in its own syntax",
                path.display()
            );
            n += 1;
        }
    }
    assert!(n >= 40, "only {n} corpus files");
}
