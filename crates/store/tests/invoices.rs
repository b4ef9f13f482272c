//! Deposits, invoices and their lifecycle in the store, on SQLite always and PostgreSQL when
//! `FACTEUR_TEST_PG_URL` is set.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use facteur_domain::{
    AuditAction, InvoiceAction, InvoiceStatus, Motive, Party, Structure, StructureId, StructureKind,
    StructureParameters, TransitionError,
};
use facteur_store::testing::{TestStore, numbered_siret};
use facteur_store::{
    Actor, AttachmentId, AttachmentLink, AttachmentRole, BlobId, Clock, DepositChannel, DepositId, DepositState,
    FlowEntry, FlowFinding, INVOICE_STATUS_CHANGED, InvoiceId, InvoiceKind, InvoiceQuery, InvoiceRecord, InvoiceSide,
    NewAttachment, NewDeposit, NewInvoice, Reroute, StatusChange, Store, StoreError, Unique,
};
use rust_decimal::Decimal;
use time::macros::{date, datetime};
use time::{Date, Duration};

facteur_store::scenarios!(ref facteur_store::testing::TestStore::new =>
    invoices_are_created_and_read_by_their_two_sides,
    invoice_numbers_are_unique_per_supplier_and_year,
    a_status_change_writes_history_audit_and_job,
    refused_and_stale_changes_change_nothing,
    a_failed_step_leaves_nothing,
    keyset_pages_walk_every_invoice_once,
    deposits_are_found_by_idempotency_key,
    a_rejection_is_acknowledged_once,
    a_recycled_invoice_changes_only_its_routing,
    attachments_belong_to_their_owner_then_to_one_invoice,
);

/// A supplier, two public recipients (the second does not report payment) and an outsider.
struct Parties {
    supplier: StructureId,
    other_supplier: StructureId,
    recipient: StructureId,
    quiet_recipient: StructureId,
    outsider: StructureId,
}

async fn structure(store: &Store, n: u32, kind: StructureKind, payment_not_reported: bool) -> StructureId {
    let mut s = Structure::new(numbered_siret(n).into(), kind, &format!("Structure {n}")).unwrap();
    s.address.line1 = "1 rue de la Paix".into();
    s.address.city = "Paris".into();
    s.address.postcode = "75002".into();
    s.address.country = "FR".into();
    s.parameters = StructureParameters {
        payment_status_not_reported: payment_not_reported,
        ..StructureParameters::default()
    };
    store.create_structure(&s, Actor::System).await.unwrap().id
}

async fn parties(store: &Store) -> Parties {
    Parties {
        supplier: structure(store, 1, StructureKind::Private, false).await,
        other_supplier: structure(store, 2, StructureKind::Private, false).await,
        recipient: structure(store, 3, StructureKind::Public, false).await,
        quiet_recipient: structure(store, 4, StructureKind::Public, true).await,
        outsider: structure(store, 5, StructureKind::Private, false).await,
    }
}

fn new_deposit(depositor: StructureId, bytes: &[u8], key: Option<&str>) -> NewDeposit {
    NewDeposit {
        depositor,
        channel: DepositChannel::ApiFlow,
        original: BlobId::of(bytes),
        size: bytes.len() as u64,
        media_type: "application/xml".into(),
        file_name: Some("facture.xml".into()),
        idempotency_key: key.map(str::to_owned),
        flow_syntax: Some("IN_DP_E1_UBL_INVOICE".into()),
    }
}

fn new_invoice(
    deposit: DepositId,
    supplier: StructureId,
    recipient: StructureId,
    number: &str,
    issued: Date,
) -> NewInvoice {
    NewInvoice {
        deposit,
        supplier,
        recipient,
        service: None,
        number: number.into(),
        kind: InvoiceKind::Invoice,
        issue_date: issued,
        currency: "EUR".into(),
        total_excl_vat: "1000.10".parse().unwrap(),
        total_vat: "200.02".parse().unwrap(),
        total_incl_vat: "1200.12".parse().unwrap(),
        engagement_number: Some("EJ-1300567891".into()),
        status: InvoiceStatus::Deposee,
        structured: Some(BlobId::of(number.as_bytes())),
        syntax: Some("IN_DP_E1_UBL_INVOICE".into()),
    }
}

/// Deposits and records one invoice (autocommit calls, as a test fixture).
async fn deposit(
    store: &Store,
    supplier: StructureId,
    recipient: StructureId,
    number: &str,
    issued: Date,
) -> InvoiceRecord {
    let d = store
        .create_deposit(&new_deposit(supplier, number.as_bytes(), None), Actor::System)
        .await
        .unwrap();
    store
        .create_invoice(&new_invoice(d.id, supplier, recipient, number, issued), Actor::System)
        .await
        .unwrap()
}

fn motive(text: &str) -> Motive {
    Motive::parse(text).unwrap()
}

fn change(
    invoice: InvoiceId,
    from: InvoiceStatus,
    to: InvoiceStatus,
    by: Option<InvoiceSide>,
) -> StatusChange<'static> {
    StatusChange {
        invoice,
        from,
        to,
        by,
        actor: Actor::System,
        motive: None,
        attachments_added: false,
    }
}

async fn invoices_are_created_and_read_by_their_two_sides(t: &TestStore) {
    let store: &Store = t;
    let p = parties(store).await;
    let d = store
        .create_deposit(&new_deposit(p.supplier, b"<Invoice/>", Some("key-1")), Actor::System)
        .await
        .unwrap();
    assert_eq!(d.state, DepositState::Received);
    assert_eq!(d.size, 10);
    let new = new_invoice(d.id, p.supplier, p.recipient, "F2026-00042", date!(2026 - 03 - 02));
    let inv = store.create_invoice(&new, Actor::System).await.unwrap();
    assert_eq!(inv.status, InvoiceStatus::Deposee);
    // The deposit date is the deposit's reception, the legal start of the payment delay.
    assert_eq!(inv.deposited_at, d.received_at);
    // Amounts come back exactly, scale included.
    assert_eq!(inv.total_incl_vat.to_string(), "1200.12");
    assert_eq!(inv.total_vat, Decimal::new(20002, 2));
    assert_eq!(
        (inv.number.as_str(), inv.kind, inv.issue_date),
        ("F2026-00042", InvoiceKind::Invoice, date!(2026 - 03 - 02))
    );
    assert!(!inv.rejection_acknowledged);

    // Both sides read it; no one else does, not even a side under the other's name.
    let by_supplier = store.invoice(inv.id, InvoiceSide::Supplier(p.supplier)).await.unwrap();
    assert_eq!(by_supplier.as_ref(), Some(&inv));
    assert_eq!(
        store
            .invoice(inv.id, InvoiceSide::Recipient(p.recipient))
            .await
            .unwrap(),
        Some(inv.clone())
    );
    for side in [
        InvoiceSide::Supplier(p.outsider),
        InvoiceSide::Recipient(p.outsider),
        InvoiceSide::Supplier(p.recipient),
        InvoiceSide::Recipient(p.supplier),
    ] {
        assert_eq!(store.invoice(inv.id, side).await.unwrap(), None, "{side:?}");
        assert_eq!(store.invoice_history(inv.id, side).await.unwrap(), None, "{side:?}");
    }
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.invoice(inv.id, InvoiceSide::Recipient(p.recipient)).await.unwrap(),
        Some(inv.clone())
    );
    assert_eq!(
        tx.invoice(inv.id, InvoiceSide::Recipient(p.outsider)).await.unwrap(),
        None
    );
    tx.rollback().await.unwrap();

    // The first history line and the audit line.
    let history = store
        .invoice_history(inv.id, InvoiceSide::Recipient(p.recipient))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0].from, history[0].to, history[0].action, history[0].party),
        (None, InvoiceStatus::Deposee, None, Party::Supplier)
    );
    let audit = store.audit_log(Some(p.supplier), 10, 0).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == AuditAction::InvoiceCreate && a.details["invoice"] == inv.id.0),
        "{audit:?}"
    );

    // An invoice starts deposited (or as a draft), never further on; an unknown deposit is refused.
    let mut later = new_invoice(d.id, p.supplier, p.recipient, "F2026-00043", date!(2026 - 03 - 02));
    later.status = InvoiceStatus::MiseADisposition;
    assert!(matches!(
        store.create_invoice(&later, Actor::System).await,
        Err(StoreError::IllegalTransition { what: "invoice", .. })
    ));
    let orphan = new_invoice(
        DepositId(d.id.0 + 1000),
        p.supplier,
        p.recipient,
        "F2026-00044",
        date!(2026 - 03 - 02),
    );
    assert!(matches!(
        store.create_invoice(&orphan, Actor::System).await,
        Err(StoreError::NotFound("deposit"))
    ));
}

async fn invoice_numbers_are_unique_per_supplier_and_year(t: &TestStore) {
    let store: &Store = t;
    let p = parties(store).await;
    let first = deposit(store, p.supplier, p.recipient, "F-001", date!(2026 - 01 - 15)).await;
    // Same supplier, same number, same year: refused, whatever the recipient or the kind.
    let d = store
        .create_deposit(&new_deposit(p.supplier, b"again", None), Actor::System)
        .await
        .unwrap();
    let before = store.snapshot().await.unwrap();
    for (recipient, kind) in [
        (p.recipient, InvoiceKind::Invoice),
        (p.quiet_recipient, InvoiceKind::Invoice),
        (p.recipient, InvoiceKind::CreditNote),
    ] {
        let mut dup = new_invoice(d.id, p.supplier, recipient, "F-001", date!(2026 - 12 - 31));
        dup.kind = kind;
        assert!(matches!(
            store.create_invoice(&dup, Actor::System).await,
            Err(StoreError::Conflict(Unique::InvoiceNumber))
        ));
    }
    assert_eq!(
        store.snapshot().await.unwrap(),
        before,
        "a refused invoice leaves nothing"
    );
    // Another year, or another supplier: allowed.
    let next_year = store
        .create_invoice(
            &new_invoice(d.id, p.supplier, p.recipient, "F-001", date!(2027 - 01 - 01)),
            Actor::System,
        )
        .await
        .unwrap();
    assert_ne!(next_year.id, first.id);
    deposit(store, p.other_supplier, p.recipient, "F-001", date!(2026 - 01 - 15)).await;
    // A credit note takes a number of the same sequence.
    let mut credit = new_invoice(d.id, p.supplier, p.recipient, "AV-001", date!(2026 - 02 - 01));
    credit.kind = InvoiceKind::CreditNote;
    store.create_invoice(&credit, Actor::System).await.unwrap();
    let mut clash = new_invoice(d.id, p.supplier, p.recipient, "AV-001", date!(2026 - 06 - 01));
    clash.kind = InvoiceKind::Invoice;
    assert!(matches!(
        store.create_invoice(&clash, Actor::System).await,
        Err(StoreError::Conflict(Unique::InvoiceNumber))
    ));
}

async fn a_status_change_writes_history_audit_and_job(t: &TestStore) {
    let store: &Store = t;
    let p = parties(store).await;
    let inv = deposit(store, p.supplier, p.recipient, "F-100", date!(2026 - 03 - 02)).await;
    let recipient = Some(InvoiceSide::Recipient(p.recipient));
    let supplier = Some(InvoiceSide::Supplier(p.supplier));

    // The platform routes it, the recipient suspends it, the supplier completes it.
    store
        .change_invoice_status(&change(
            inv.id,
            InvoiceStatus::Deposee,
            InvoiceStatus::MiseADisposition,
            None,
        ))
        .await
        .unwrap();
    let why = motive("Bon de livraison manquant");
    let suspended = store
        .change_invoice_status(&StatusChange {
            motive: Some(&why),
            actor: Actor::User(facteur_domain::UserId(77)),
            ..change(
                inv.id,
                InvoiceStatus::MiseADisposition,
                InvoiceStatus::Suspendue,
                recipient,
            )
        })
        .await
        .unwrap();
    assert_eq!(
        (suspended.from, suspended.to, suspended.action, suspended.party),
        (
            Some(InvoiceStatus::MiseADisposition),
            InvoiceStatus::Suspendue,
            Some(InvoiceAction::Process),
            Party::Recipient
        )
    );
    assert_eq!(suspended.motive.as_ref(), Some(&why));
    assert_eq!(suspended.actor, Actor::User(facteur_domain::UserId(77)));
    store
        .change_invoice_status(&StatusChange {
            attachments_added: true,
            ..change(inv.id, InvoiceStatus::Suspendue, InvoiceStatus::Completee, supplier)
        })
        .await
        .unwrap();

    let now = store
        .invoice(inv.id, InvoiceSide::Supplier(p.supplier))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.status, InvoiceStatus::Completee);
    let history = store
        .invoice_history(inv.id, InvoiceSide::Supplier(p.supplier))
        .await
        .unwrap()
        .unwrap();
    let steps: Vec<_> = history.iter().map(|h| (h.from, h.to, h.party)).collect();
    assert_eq!(
        steps,
        vec![
            (None, InvoiceStatus::Deposee, Party::Supplier),
            (
                Some(InvoiceStatus::Deposee),
                InvoiceStatus::MiseADisposition,
                Party::Platform
            ),
            (
                Some(InvoiceStatus::MiseADisposition),
                InvoiceStatus::Suspendue,
                Party::Recipient
            ),
            (
                Some(InvoiceStatus::Suspendue),
                InvoiceStatus::Completee,
                Party::Supplier
            ),
        ]
    );
    assert_eq!(history[2], suspended);

    // One audit line per change, on the acting structure (the recipient for the platform).
    let audit = store.audit_log(None, 100, 0).await.unwrap();
    let status_lines: Vec<_> = audit
        .iter()
        .filter(|a| a.action == AuditAction::InvoiceStatus)
        .map(|a| (a.structure_id, a.details["to"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        status_lines,
        vec![
            (Some(p.supplier), "COMPLETEE".to_owned()),
            (Some(p.recipient), "SUSPENDUE".to_owned()),
            (Some(p.recipient), "MISE_A_DISPOSITION".to_owned()),
        ]
    );

    // One event job per change, naming the invoice, both sides and the history line.
    let jobs = store.jobs_of_kind(INVOICE_STATUS_CHANGED).await.unwrap();
    assert_eq!(jobs.len(), 3);
    assert_eq!(jobs[1].payload["invoice"], inv.id.0);
    assert_eq!(jobs[1].payload["history"], suspended.id);
    assert_eq!(jobs[1].payload["supplier"], p.supplier.0);
    assert_eq!(jobs[1].payload["recipient"], p.recipient.0);
    assert_eq!(jobs[1].payload["from"], "MISE_A_DISPOSITION");
    assert_eq!(jobs[1].payload["to"], "SUSPENDUE");
    assert_eq!(jobs[1].payload["action"], "TRAITER");
}

async fn refused_and_stale_changes_change_nothing(t: &TestStore) {
    let store: &Store = t;
    let p = parties(store).await;
    let inv = deposit(store, p.supplier, p.recipient, "F-200", date!(2026 - 03 - 02)).await;
    let quiet = deposit(store, p.supplier, p.quiet_recipient, "F-201", date!(2026 - 03 - 02)).await;
    for i in [inv.id, quiet.id] {
        store
            .change_invoice_status(&change(
                i,
                InvoiceStatus::Deposee,
                InvoiceStatus::MiseADisposition,
                None,
            ))
            .await
            .unwrap();
    }
    let recipient = Some(InvoiceSide::Recipient(p.recipient));
    let before = store.snapshot().await.unwrap();
    let refused = |r: Result<_, StoreError>| match r {
        Err(StoreError::Transition(e)) => e,
        other => panic!("expected a refused transition, got {other:?}"),
    };
    use InvoiceStatus::{Completee, Deposee, MiseADisposition, MiseEnPaiement, Rejetee, ServiceFait};
    // No such move.
    assert!(matches!(
        refused(
            store
                .change_invoice_status(&change(inv.id, MiseADisposition, Completee, recipient))
                .await
        ),
        TransitionError::Illegal { .. }
    ));
    // The supplier may not certify the service done.
    assert!(matches!(
        refused(
            store
                .change_invoice_status(&change(
                    inv.id,
                    MiseADisposition,
                    ServiceFait,
                    Some(InvoiceSide::Supplier(p.supplier))
                ))
                .await
        ),
        TransitionError::NotYourRole { .. }
    ));
    // A rejection needs a motive.
    assert_eq!(
        refused(
            store
                .change_invoice_status(&change(inv.id, MiseADisposition, Rejetee, recipient))
                .await
        ),
        TransitionError::MotiveRequired { to: Rejetee }
    );
    // A recipient that does not report payment never shows MISE_EN_PAIEMENT (read from its
    // directory parameters, not from the caller).
    assert_eq!(
        refused(
            store
                .change_invoice_status(&change(
                    quiet.id,
                    MiseADisposition,
                    MiseEnPaiement,
                    Some(InvoiceSide::Recipient(p.quiet_recipient))
                ))
                .await
        ),
        TransitionError::PaymentStatusNotReported
    );
    // Stale: the platform routes again what it already routed.
    assert!(matches!(
        store
            .change_invoice_status(&change(inv.id, Deposee, MiseADisposition, None))
            .await,
        Err(StoreError::IllegalTransition {
            what: "invoice",
            from: "DEPOSEE",
            to: "MISE_A_DISPOSITION"
        })
    ));
    // Stale: the caller saw COMPLETEE, the invoice is MISE_A_DISPOSITION.
    assert!(matches!(
        store
            .change_invoice_status(&change(inv.id, Completee, ServiceFait, recipient))
            .await,
        Err(StoreError::IllegalTransition { .. })
    ));
    // Another structure's invoice, or a side it is not: not found.
    for by in [
        InvoiceSide::Recipient(p.outsider),
        InvoiceSide::Recipient(p.quiet_recipient),
        InvoiceSide::Recipient(p.supplier),
    ] {
        assert!(matches!(
            store
                .change_invoice_status(&change(inv.id, MiseADisposition, ServiceFait, Some(by)))
                .await,
            Err(StoreError::NotFound("invoice"))
        ));
    }
    assert_eq!(store.snapshot().await.unwrap(), before);
    // And the legal move still works afterwards.
    store
        .change_invoice_status(&change(inv.id, MiseADisposition, ServiceFait, recipient))
        .await
        .unwrap();
    assert_ne!(store.snapshot().await.unwrap(), before);
}

async fn a_failed_step_leaves_nothing(t: &TestStore) {
    let store: &Store = t;
    let p = parties(store).await;
    let inv = deposit(store, p.supplier, p.recipient, "F-300", date!(2026 - 03 - 02)).await;
    let routing = change(inv.id, InvoiceStatus::Deposee, InvoiceStatus::MiseADisposition, None);

    // A status change alone: each of its write steps failing leaves nothing.
    store.clear_faults();
    let mut probe = store.begin().await.unwrap();
    probe.change_invoice_status(&routing).await.unwrap();
    probe.rollback().await.unwrap();
    let steps = store.write_steps();
    assert_eq!(steps, vec!["change_invoice_status", "enqueue_job"]);
    let before = store.snapshot().await.unwrap();
    for n in 1..=u32::try_from(steps.len()).unwrap() {
        store.fail_write_step(n);
        assert!(store.change_invoice_status(&routing).await.is_err(), "step {n}");
        assert_eq!(store.snapshot().await.unwrap(), before, "step {n}");
    }

    // A whole deposit as one use case: deposit, invoice, routing.
    async fn deposit_and_route(store: &Store, p: &Parties) -> Result<(), StoreError> {
        let mut tx = store.begin().await?;
        let d = tx
            .create_deposit(
                &new_deposit(p.supplier, b"<Invoice>F-301</Invoice>", Some("k-301")),
                Actor::System,
            )
            .await?;
        let inv = tx
            .create_invoice(
                &new_invoice(d.id, p.supplier, p.recipient, "F-301", date!(2026 - 03 - 02)),
                Actor::System,
            )
            .await?;
        tx.change_invoice_status(&change(
            inv.id,
            InvoiceStatus::Deposee,
            InvoiceStatus::MiseADisposition,
            None,
        ))
        .await?;
        tx.commit().await
    }
    for n in 1..=4 {
        store.fail_write_step(n);
        assert!(deposit_and_route(store, &p).await.is_err(), "step {n}");
        assert_eq!(store.snapshot().await.unwrap(), before, "step {n}");
    }
    store.clear_faults();
    deposit_and_route(store, &p).await.unwrap();
    assert_eq!(
        store.write_steps(),
        vec![
            "create_deposit",
            "create_invoice",
            "change_invoice_status",
            "enqueue_job"
        ]
    );
    assert!(
        store
            .deposit_by_idempotency_key(p.supplier, "k-301")
            .await
            .unwrap()
            .is_some()
    );
}

/// Which invoices a list should return.
type Keep<'a> = Box<dyn Fn(&InvoiceRecord) -> bool + 'a>;

async fn keyset_pages_walk_every_invoice_once(t: &TestStore) {
    let clock = Clock::manual(datetime!(2026-03-01 08:00 UTC));
    let store = Store::clone(t).with_clock(clock.clone());
    let p = parties(&store).await;
    let mut all: Vec<InvoiceRecord> = Vec::new();
    for i in 0..30u32 {
        // Several deposits share a second: the id breaks the tie.
        if i.is_multiple_of(3) {
            clock.advance(Duration::hours(7));
        }
        let (supplier, recipient) = match i % 5 {
            0 => (p.other_supplier, p.recipient),
            1 => (p.supplier, p.quiet_recipient),
            _ => (p.supplier, p.recipient),
        };
        let inv = deposit(&store, supplier, recipient, &format!("N-{i:03}"), date!(2026 - 02 - 01)).await;
        if i.is_multiple_of(4) {
            store
                .change_invoice_status(&change(
                    inv.id,
                    InvoiceStatus::Deposee,
                    InvoiceStatus::MiseADisposition,
                    None,
                ))
                .await
                .unwrap();
        }
        all.push(
            store
                .invoice(inv.id, InvoiceSide::Supplier(supplier))
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let from = datetime!(2026-03-02 00:00 UTC);
    let before = datetime!(2026-03-04 00:00 UTC);
    let queries: Vec<(InvoiceQuery, Keep<'_>)> = vec![
        (
            InvoiceQuery::new(InvoiceSide::Supplier(p.supplier)),
            Box::new(|r| r.supplier_id == p.supplier),
        ),
        (
            InvoiceQuery::new(InvoiceSide::Recipient(p.recipient)),
            Box::new(|r| r.recipient_id == p.recipient),
        ),
        (
            InvoiceQuery {
                statuses: vec![InvoiceStatus::MiseADisposition],
                ..InvoiceQuery::new(InvoiceSide::Recipient(p.recipient))
            },
            Box::new(|r| r.recipient_id == p.recipient && r.status == InvoiceStatus::MiseADisposition),
        ),
        (
            InvoiceQuery {
                partner: Some(p.quiet_recipient),
                ..InvoiceQuery::new(InvoiceSide::Supplier(p.supplier))
            },
            Box::new(|r| r.supplier_id == p.supplier && r.recipient_id == p.quiet_recipient),
        ),
        (
            InvoiceQuery {
                deposited_from: Some(from),
                deposited_before: Some(before),
                statuses: vec![InvoiceStatus::Deposee, InvoiceStatus::MiseADisposition],
                ..InvoiceQuery::new(InvoiceSide::Recipient(p.recipient))
            },
            Box::new(|r| r.recipient_id == p.recipient && r.deposited_at >= from && r.deposited_at < before),
        ),
        (
            InvoiceQuery {
                number: Some("N-007".into()),
                ..InvoiceQuery::new(InvoiceSide::Recipient(p.recipient))
            },
            Box::new(|r| r.recipient_id == p.recipient && r.number == "N-007"),
        ),
        (
            InvoiceQuery {
                services: Some(Vec::new()),
                ..InvoiceQuery::new(InvoiceSide::Recipient(p.recipient))
            },
            Box::new(|_| false),
        ),
        (
            InvoiceQuery::new(InvoiceSide::Recipient(p.outsider)),
            Box::new(|_| false),
        ),
    ];
    for (query, keep) in queries {
        let mut expected: Vec<&InvoiceRecord> = all.iter().filter(|r| keep(r)).collect();
        expected.sort_by_key(|r| std::cmp::Reverse((r.deposited_at, r.id)));
        for limit in [1, 4, 7, 200] {
            let mut q = InvoiceQuery { limit, ..query.clone() };
            let mut seen = Vec::new();
            let mut pages = 0;
            loop {
                let page = store.list_invoices(&q).await.unwrap();
                pages += 1;
                assert!(page.items.len() <= limit as usize);
                seen.extend(page.items.iter().cloned());
                match page.next {
                    Some(cursor) => q.after = Some(cursor),
                    None => break,
                }
                assert!(pages <= 31, "the walk must end");
            }
            let seen_refs: Vec<&InvoiceRecord> = seen.iter().collect();
            assert_eq!(seen_refs, expected, "{query:?} by {limit}");
            let unique: BTreeSet<_> = seen.iter().map(|r| r.id).collect();
            assert_eq!(unique.len(), seen.len());
        }
    }
}

async fn deposits_are_found_by_idempotency_key(t: &TestStore) {
    let store: &Store = t;
    let p = parties(store).await;
    assert_eq!(store.deposit_by_idempotency_key(p.supplier, "k").await.unwrap(), None);
    let first = store
        .create_deposit(&new_deposit(p.supplier, b"one", Some("k")), Actor::Operator)
        .await
        .unwrap();
    assert_eq!(first.actor, Actor::Operator);
    assert_eq!(first.idempotency_key.as_deref(), Some("k"));
    assert_eq!(
        store.deposit_by_idempotency_key(p.supplier, "k").await.unwrap(),
        Some(first.clone())
    );
    // The key is the depositor's: another depositor may use it, and finds only its own.
    assert_eq!(
        store.deposit_by_idempotency_key(p.other_supplier, "k").await.unwrap(),
        None
    );
    let theirs = store
        .create_deposit(&new_deposit(p.other_supplier, b"two", Some("k")), Actor::System)
        .await
        .unwrap();
    assert_ne!(theirs.id, first.id);
    // A retry with the same key: refused, and the first deposit is found in the same
    // transaction (what a deposit use case answers with).
    let before = store.snapshot().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.create_deposit(&new_deposit(p.supplier, b"one", Some("k")), Actor::System)
            .await,
        Err(StoreError::Conflict(Unique::DepositIdempotencyKey))
    ));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.deposit_by_idempotency_key(p.supplier, "k")
            .await
            .unwrap()
            .map(|d| d.id),
        Some(first.id)
    );
    tx.rollback().await.unwrap();
    assert_eq!(store.snapshot().await.unwrap(), before);
    // Without a key, deposits never clash.
    for _ in 0..2 {
        store
            .create_deposit(&new_deposit(p.supplier, b"one", None), Actor::System)
            .await
            .unwrap();
    }
    // The same bytes from the same depositor within a window: found (the latest), not another
    // depositor's, not an older one.
    let since = store.now() - Duration::hours(24);
    let same = store
        .deposit_of_same_bytes(p.supplier, &BlobId::of(b"one"), since)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (same.depositor_id, same.original.clone()),
        (p.supplier, BlobId::of(b"one"))
    );
    assert!(same.id > first.id, "the latest of the three");
    assert_eq!(
        store
            .deposit_of_same_bytes(p.other_supplier, &BlobId::of(b"one"), since)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .deposit_of_same_bytes(p.supplier, &BlobId::of(b"one"), store.now() + Duration::seconds(1))
            .await
            .unwrap(),
        None
    );
    // The state moves conditionally.
    store
        .set_deposit_state(first.id, DepositState::Received, DepositState::Rejected, Actor::System)
        .await
        .unwrap();
    assert!(matches!(
        store
            .set_deposit_state(
                first.id,
                DepositState::Received,
                DepositState::Integrated,
                Actor::System
            )
            .await,
        Err(StoreError::IllegalTransition { what: "deposit", .. })
    ));
    // A flow's report, read back in order; the flow is its depositor's only.
    let finding = |rank: u32, code: &str| FlowFinding {
        invoice_rank: 0,
        finding_rank: rank,
        invoice_number: Some("F-1".into()),
        supplier_identifier: None,
        recipient_identifier: Some("21990001600011".into()),
        code: code.into(),
        field: None,
        message_fr: Some("fr".into()),
        message_en: Some("en".into()),
        path: Some("/Invoice".into()),
        line: Some(3),
        entry_name: (rank > 0).then(|| "lot/f.xml".into()),
    };
    let mut tx = store.begin().await.unwrap();
    tx.add_flow_findings(first.id, &[finding(0, "BR-01"), finding(1, "FP-DEST-01")])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let report = store.flow_findings(first.id).await.unwrap();
    assert_eq!(
        report.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(),
        ["BR-01", "FP-DEST-01"]
    );
    assert_eq!(report[0], finding(0, "BR-01"));
    assert_eq!(report[1].entry_name.as_deref(), Some("lot/f.xml"));

    // The files of a batch: each rank is settled once, read back in order.
    let entry = |rank: u32| FlowEntry {
        rank,
        name: format!("f{rank}.xml"),
        invoice: None,
    };
    let mut tx = store.begin().await.unwrap();
    tx.record_flow_entry(first.id, &entry(2)).await.unwrap();
    tx.record_flow_entry(first.id, &entry(1)).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.record_flow_entry(first.id, &entry(1)).await,
        Err(StoreError::Conflict(Unique::FlowEntry))
    ));
    drop(tx);
    assert_eq!(store.flow_entries(first.id).await.unwrap(), [entry(1), entry(2)]);
    assert_eq!(
        store.flow(first.id, p.supplier).await.unwrap().unwrap().state,
        DepositState::Rejected
    );
    assert_eq!(store.flow(first.id, p.recipient).await.unwrap(), None);
    assert_eq!(
        store
            .deposit_by_idempotency_key(p.supplier, "k")
            .await
            .unwrap()
            .unwrap()
            .state,
        DepositState::Rejected
    );
}

async fn a_rejection_is_acknowledged_once(t: &TestStore) {
    let store: &Store = t;
    let p = parties(store).await;
    let inv = deposit(store, p.supplier, p.recipient, "F-400", date!(2026 - 03 - 02)).await;
    let pending = deposit(store, p.supplier, p.recipient, "F-401", date!(2026 - 03 - 02)).await;
    store
        .change_invoice_status(&change(
            inv.id,
            InvoiceStatus::Deposee,
            InvoiceStatus::MiseADisposition,
            None,
        ))
        .await
        .unwrap();
    let why = motive("Montant erroné");
    store
        .change_invoice_status(&StatusChange {
            motive: Some(&why),
            ..change(
                inv.id,
                InvoiceStatus::MiseADisposition,
                InvoiceStatus::Rejetee,
                Some(InvoiceSide::Recipient(p.recipient)),
            )
        })
        .await
        .unwrap();
    let before = store.snapshot().await.unwrap();
    // Not the supplier's (the recipient, an outsider): not found; not rejected: refused.
    for who in [p.recipient, p.outsider] {
        assert!(matches!(
            store
                .acknowledge_invoice_rejection(inv.id, who, Actor::System, None)
                .await,
            Err(StoreError::NotFound("invoice"))
        ));
    }
    assert!(matches!(
        store
            .acknowledge_invoice_rejection(pending.id, p.supplier, Actor::System, None)
            .await,
        Err(StoreError::Transition(TransitionError::NotRejected {
            status: InvoiceStatus::Deposee
        }))
    ));
    assert_eq!(store.snapshot().await.unwrap(), before);

    let note = motive("Nouvelle facture F-402 émise");
    let line = store
        .acknowledge_invoice_rejection(inv.id, p.supplier, Actor::System, Some(&note))
        .await
        .unwrap();
    assert_eq!(
        (line.from, line.to, line.action, line.party),
        (
            Some(InvoiceStatus::Rejetee),
            InvoiceStatus::Rejetee,
            Some(InvoiceAction::AcknowledgeRejection),
            Party::Supplier
        )
    );
    assert_eq!(line.motive, Some(note));
    let now = store
        .invoice(inv.id, InvoiceSide::Recipient(p.recipient))
        .await
        .unwrap()
        .unwrap();
    assert!(now.rejection_acknowledged);
    assert_eq!(now.status, InvoiceStatus::Rejetee);
    let jobs = store.jobs_of_kind(INVOICE_STATUS_CHANGED).await.unwrap();
    assert_eq!(jobs.last().unwrap().payload["action"], "TRAITER_REJET");
    // Once only.
    let after = store.snapshot().await.unwrap();
    assert!(matches!(
        store
            .acknowledge_invoice_rejection(inv.id, p.supplier, Actor::System, None)
            .await,
        Err(StoreError::Transition(TransitionError::AlreadyAcknowledged))
    ));
    assert_eq!(store.snapshot().await.unwrap(), after);
}

async fn a_recycled_invoice_changes_only_its_routing(t: &TestStore) {
    let store: &Store = t;
    let p = parties(store).await;
    let inv = deposit(store, p.supplier, p.recipient, "F-500", date!(2026 - 03 - 02)).await;
    store
        .change_invoice_status(&change(
            inv.id,
            InvoiceStatus::Deposee,
            InvoiceStatus::MiseADisposition,
            None,
        ))
        .await
        .unwrap();
    let routing = Reroute {
        recipient: p.quiet_recipient,
        service: store
            .list_services(p.quiet_recipient)
            .await
            .unwrap()
            .first()
            .map(|s| s.id),
        engagement_number: Some("EJ-2".into()),
    };
    // Not to recycle yet: refused; a draft is not recycled either (its move to DEPOSEE is "send").
    let before = store.snapshot().await.unwrap();
    assert!(matches!(
        store
            .recycle_invoice(inv.id, p.supplier, &routing, Actor::System, None)
            .await,
        Err(StoreError::Transition(TransitionError::Illegal { .. }))
    ));
    assert_eq!(store.snapshot().await.unwrap(), before);
    let why = motive("Mauvais service destinataire");
    store
        .change_invoice_status(&StatusChange {
            motive: Some(&why),
            ..change(
                inv.id,
                InvoiceStatus::MiseADisposition,
                InvoiceStatus::ARecycler,
                Some(InvoiceSide::Recipient(p.recipient)),
            )
        })
        .await
        .unwrap();
    let before = store.snapshot().await.unwrap();
    for who in [p.recipient, p.other_supplier] {
        assert!(matches!(
            store.recycle_invoice(inv.id, who, &routing, Actor::System, None).await,
            Err(StoreError::NotFound("invoice"))
        ));
    }
    assert_eq!(store.snapshot().await.unwrap(), before);

    let line = store
        .recycle_invoice(inv.id, p.supplier, &routing, Actor::System, None)
        .await
        .unwrap();
    assert_eq!(
        (line.from, line.to, line.action, line.party),
        (
            Some(InvoiceStatus::ARecycler),
            InvoiceStatus::Deposee,
            Some(InvoiceAction::Recycle),
            Party::Supplier
        )
    );
    let now = store
        .invoice(inv.id, InvoiceSide::Recipient(p.quiet_recipient))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (now.status, now.service_id, now.engagement_number.as_deref()),
        (InvoiceStatus::Deposee, routing.service, Some("EJ-2"))
    );
    // Same number, same deposit date; the first recipient no longer sees it.
    assert_eq!((now.number.as_str(), now.deposited_at), ("F-500", inv.deposited_at));
    assert_eq!(
        store
            .invoice(inv.id, InvoiceSide::Recipient(p.recipient))
            .await
            .unwrap(),
        None
    );
    let job = store.jobs_of_kind(INVOICE_STATUS_CHANGED).await.unwrap().pop().unwrap();
    assert_eq!(job.payload["recipient"], p.quiet_recipient.0);
    // And it is routed again like any deposit.
    store
        .change_invoice_status(&change(
            inv.id,
            InvoiceStatus::Deposee,
            InvoiceStatus::MiseADisposition,
            None,
        ))
        .await
        .unwrap();
    // Twice: the second finds it no longer to recycle.
    assert!(matches!(
        store
            .recycle_invoice(inv.id, p.supplier, &routing, Actor::System, None)
            .await,
        Err(StoreError::Transition(_))
    ));

    // A draft cannot be "recycled" into a deposit.
    let d = store
        .create_deposit(&new_deposit(p.supplier, b"draft", None), Actor::System)
        .await
        .unwrap();
    let draft = store
        .create_invoice(
            &NewInvoice {
                status: InvoiceStatus::Brouillon,
                ..new_invoice(d.id, p.supplier, p.recipient, "F-501", date!(2026 - 03 - 02))
            },
            Actor::System,
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .recycle_invoice(draft.id, p.supplier, &routing, Actor::System, None)
            .await,
        Err(StoreError::Transition(TransitionError::Illegal {
            from: InvoiceStatus::Brouillon,
            ..
        }))
    ));
}

fn new_attachment(owner: StructureId, bytes: &[u8], name: &str) -> NewAttachment {
    NewAttachment {
        owner,
        blob: BlobId::of(bytes),
        size: bytes.len() as u64,
        file_name: name.into(),
        media_type: "application/pdf".into(),
        extension: "PDF".into(),
    }
}

fn link(
    attachment: AttachmentId,
    owner: StructureId,
    invoice: InvoiceId,
    role: AttachmentRole,
) -> AttachmentLink<'static> {
    AttachmentLink {
        attachment,
        owner,
        invoice,
        role,
        designation: Some("Bon de livraison"),
        kind: None,
        actor: Actor::System,
    }
}

async fn attachments_belong_to_their_owner_then_to_one_invoice(t: &TestStore) {
    let store: &Store = t;
    let p = parties(store).await;
    let a = store
        .create_attachment(&new_attachment(p.supplier, b"%PDF-1.7 a", "bl.pdf"), Actor::System)
        .await
        .unwrap();
    assert_eq!((a.size, a.invoice_id, a.role), (10, None, None));
    assert_eq!(a.file_name, "bl.pdf");
    let b = store
        .create_attachment(&new_attachment(p.supplier, b"%PDF-1.7 bb", "pv.pdf"), Actor::System)
        .await
        .unwrap();
    let theirs = store
        .create_attachment(&new_attachment(p.other_supplier, b"%PDF-1.7 c", "x.pdf"), Actor::System)
        .await
        .unwrap();
    // Unreferenced: its owner's only.
    assert_eq!(store.attachment(a.id, p.supplier).await.unwrap().as_ref(), Some(&a));
    assert_eq!(store.attachment(a.id, p.other_supplier).await.unwrap(), None);
    assert_eq!(
        store.attachment_for_party(a.id, p.supplier).await.unwrap().as_ref(),
        Some(&a)
    );
    assert_eq!(store.attachment_for_party(a.id, p.recipient).await.unwrap(), None);

    let inv = deposit(store, p.supplier, p.recipient, "F-PJ-1", date!(2026 - 03 - 02)).await;
    let other = deposit(store, p.supplier, p.recipient, "F-PJ-2", date!(2026 - 03 - 02)).await;
    let mut tx = store.begin().await.unwrap();
    tx.link_attachment(&link(a.id, p.supplier, inv.id, AttachmentRole::Main))
        .await
        .unwrap();
    tx.link_attachment(&link(b.id, p.supplier, inv.id, AttachmentRole::Complementary))
        .await
        .unwrap();
    assert_eq!(tx.invoice_attachment_bytes(inv.id).await.unwrap(), 21);
    tx.commit().await.unwrap();

    // Referenced: the invoice's two parties read it, nobody else; it cannot move to another invoice.
    let linked = store.attachment_for_party(a.id, p.recipient).await.unwrap().unwrap();
    assert_eq!(
        (linked.invoice_id, linked.role, linked.designation.as_deref()),
        (Some(inv.id), Some(AttachmentRole::Main), Some("Bon de livraison"))
    );
    assert!(linked.linked_at.is_some());
    assert!(store.attachment_for_party(a.id, p.supplier).await.unwrap().is_some());
    assert_eq!(store.attachment_for_party(a.id, p.outsider).await.unwrap(), None);
    assert_eq!(store.attachment_for_party(a.id, p.other_supplier).await.unwrap(), None);
    let listed: Vec<AttachmentId> = store
        .invoice_attachments(inv.id)
        .await
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(listed, [a.id, b.id]);
    assert!(matches!(
        store
            .link_attachment(&link(a.id, p.supplier, other.id, AttachmentRole::Complementary))
            .await,
        Err(StoreError::IllegalTransition { .. })
    ));
    // Another structure's or an unknown id: not found; nothing changed.
    for id in [theirs.id, AttachmentId(999_999)] {
        assert!(matches!(
            store
                .link_attachment(&link(id, p.supplier, other.id, AttachmentRole::Complementary))
                .await,
            Err(StoreError::NotFound(_))
        ));
    }
    assert!(store.invoice_attachments(other.id).await.unwrap().is_empty());
    assert_eq!(
        store
            .attachment(theirs.id, p.other_supplier)
            .await
            .unwrap()
            .unwrap()
            .invoice_id,
        None
    );

    // A rolled-back link leaves the file free.
    let c = store
        .create_attachment(&new_attachment(p.supplier, b"%PDF-1.7 ccc", "c.pdf"), Actor::System)
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.link_attachment(&link(c.id, p.supplier, other.id, AttachmentRole::Complementary))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(
        store.attachment(c.id, p.supplier).await.unwrap().unwrap().invoice_id,
        None
    );

    // Uploads and links are audited on the owner.
    let audit = store.audit_log(Some(p.supplier), 50, 0).await.unwrap();
    let actions: Vec<AuditAction> = audit.iter().map(|a| a.action).collect();
    assert_eq!(
        actions.iter().filter(|a| **a == AuditAction::AttachmentCreate).count(),
        3
    );
    assert_eq!(actions.iter().filter(|a| **a == AuditAction::AttachmentLink).count(), 2);
}
