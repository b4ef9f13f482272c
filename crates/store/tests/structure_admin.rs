//! Structure self-management in the store (coordinates, parameters, services, bank details), run
//! against SQLite always and PostgreSQL when `FACTEUR_TEST_PG_URL` is set (mandatory under `CI`).

#![allow(clippy::unwrap_used)]

use facteur_domain::{
    AuditAction, BankDetails, Coordinates, CoordinatesForm, MoaPresence, ReferenceRule, Service, ServiceCode, Siret,
    Structure, StructureKind, StructureParameters, UserId,
};
use facteur_store::testing::TestStore;
use facteur_store::{Actor, BankAccountChange, BankAccountRefusal, Store, StoreError, StructureQuery};

facteur_store::scenarios!(ref facteur_store::testing::TestStore::new =>
    coordinates_and_parameters_are_audited_before_and_after,
    services_change_within_their_structure_only,
    one_default_bank_account_at_most_and_always_an_active_one,
    concurrent_bank_account_changes_keep_one_default,
);

const ACTOR: Actor = Actor::User(UserId(1));

async fn structure(store: &Store, siret: &str) -> facteur_store::StructureRecord {
    let s = Structure::new(
        Siret::parse(siret).unwrap().into(),
        StructureKind::Private,
        "Menuiserie",
    )
    .unwrap();
    store.create_structure(&s, Actor::System).await.unwrap()
}

fn details(label: &str, iban: &str) -> BankDetails {
    BankDetails::parse(label, iban, "BNPAFRPP", false).unwrap()
}

async fn coordinates_and_parameters_are_audited_before_and_after(t: &TestStore) {
    let store: &Store = t;
    let rec = structure(store, "73282932000074").await;
    let c = Coordinates::parse(&CoordinatesForm {
        company_name: "Menuiserie Évrard".into(),
        label: "Évrard".into(),
        line1: "2 rue Haute".into(),
        postcode: "91000".into(),
        city: "Évry".into(),
        country: "FR".into(),
        email: "compta@evrard.fr".into(),
        ..Default::default()
    })
    .unwrap();
    let updated = store.update_coordinates(rec.id, &c, ACTOR).await.unwrap();
    assert_eq!(Coordinates::of(&updated.structure), c);
    assert_eq!(updated.structure.identifier, rec.structure.identifier);
    // The search copies follow: found by the new name and city, accents folded.
    let found = store
        .search_structures(
            &StructureQuery {
                scope: facteur_store::Scope::All,
                name: Some("evrard".into()),
                city: Some("evry".into()),
                ..Default::default()
            },
            facteur_store::PageRequest::new(1, 20),
        )
        .await
        .unwrap();
    assert_eq!(found.total, 1);

    let mut p = StructureParameters {
        moa: MoaPresence::MoaOnly,
        payment_status_not_reported: true,
        ..Default::default()
    };
    ReferenceRule::Either.apply_to(&mut p);
    let updated = store.update_parameters(rec.id, &p, ACTOR).await.unwrap();
    assert_eq!(updated.structure.parameters, p);
    assert_eq!(
        Coordinates::of(&updated.structure),
        c,
        "parameters leave coordinates alone"
    );

    let log = store.audit_log(Some(rec.id), 10, 0).await.unwrap();
    assert_eq!(log[0].action, AuditAction::StructureParameters);
    assert_eq!(log[0].details["before"]["moa"], "SANS_MOA");
    assert_eq!(log[0].details["after"]["moa"], "MOA_UNIQUEMENT");
    assert_eq!(log[0].actor, ACTOR);
    assert_eq!(log[1].action, AuditAction::StructureUpdate);
    assert_eq!(log[1].details["before"]["company_name"], "Menuiserie");
    assert_eq!(log[1].details["after"]["address"]["city"], "Évry");

    assert!(matches!(
        store
            .update_parameters(facteur_domain::StructureId(999_999), &p, ACTOR)
            .await,
        Err(StoreError::NotFound(_))
    ));
}

async fn services_change_within_their_structure_only(t: &TestStore) {
    let store: &Store = t;
    let a = structure(store, "73282932000074").await;
    let b = structure(store, "44306184100013").await;
    let svc = store
        .create_service(
            a.id,
            &Service::new(ServiceCode::parse("COMPTA").unwrap(), "Compta"),
            ACTOR,
        )
        .await
        .unwrap();
    let mut changed = svc.service.clone();
    changed.label = "Comptabilité".into();
    changed.parameters.engagement_required = true;
    changed = changed
        .with_validity(Some(time::macros::date!(2026 - 01 - 01)), None)
        .unwrap();
    changed.code = ServiceCode::parse("OTHER").unwrap();
    let rec = store.change_service(a.id, svc.id, &changed, ACTOR).await.unwrap();
    assert_eq!(rec.service.code.as_str(), "COMPTA", "the code stays");
    assert_eq!(rec.service.label, "Comptabilité");
    assert!(rec.service.parameters.engagement_required);
    assert_eq!(rec.service.valid_from, Some(time::macros::date!(2026 - 01 - 01)));
    // Another structure's id for this service is not found, and nothing changes.
    assert!(matches!(
        store.change_service(b.id, svc.id, &changed, ACTOR).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.set_service_active(b.id, svc.id, false, ACTOR).await,
        Err(StoreError::NotFound(_))
    ));
    // Deactivation is a conditional update: the second one changes nothing and logs nothing.
    assert!(store.set_service_active(a.id, svc.id, false, ACTOR).await.unwrap());
    assert!(!store.set_service_active(a.id, svc.id, false, ACTOR).await.unwrap());
    assert!(!store.service(svc.id).await.unwrap().unwrap().service.active);
    let log = store.audit_log(Some(a.id), 10, 0).await.unwrap();
    assert_eq!(log[0].action, AuditAction::ServiceStatus);
    assert_eq!(log[1].action, AuditAction::ServiceUpdate);
    assert_eq!(log[1].details["before"]["label"], "Compta");
    assert_eq!(log[1].details["after"]["label"], "Comptabilité");
    assert!(
        store
            .audit_log(Some(b.id), 10, 0)
            .await
            .unwrap()
            .iter()
            .all(|l| l.action == AuditAction::StructureCreate)
    );
}

async fn one_default_bank_account_at_most_and_always_an_active_one(t: &TestStore) {
    let store: &Store = t;
    let s = structure(store, "73282932000074").await.id;
    let other = structure(store, "44306184100013").await.id;
    let first = store
        .create_bank_account(s, &details("Courant", "FR7630006000011234567890189"), ACTOR)
        .await
        .unwrap();
    assert!(first.is_default && first.active, "the first account is the default");
    let second = store
        .create_bank_account(s, &details("Épargne", "DE89370400440532013000"), ACTOR)
        .await
        .unwrap();
    assert!(!second.is_default);
    // The same IBAN twice on one structure is a conflict; on another structure it is fine.
    assert!(matches!(
        store
            .create_bank_account(s, &details("Doublon", "FR76 3000 6000 0112 3456 7890 189"), ACTOR)
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .create_bank_account(other, &details("Courant", "FR7630006000011234567890189"), ACTOR)
        .await
        .unwrap();

    let defaults = |list: &[facteur_store::BankAccountRecord]| list.iter().filter(|a| a.is_default).count();
    // Making the second the default takes the flag from the first.
    let make_default = BankAccountChange {
        make_default: true,
        ..Default::default()
    };
    let changed = store
        .change_bank_account(s, second.id, &make_default, ACTOR)
        .await
        .unwrap()
        .unwrap();
    assert!(changed.is_default);
    let all = store.bank_accounts(s, false).await.unwrap();
    assert_eq!(defaults(&all), 1);
    assert_eq!(all[0].id, second.id, "the default comes first");

    // The default cannot be deactivated while another account is active…
    let deactivate = BankAccountChange {
        active: Some(false),
        ..Default::default()
    };
    assert_eq!(
        store
            .change_bank_account(s, second.id, &deactivate, ACTOR)
            .await
            .unwrap(),
        Err(BankAccountRefusal::DefaultInUse)
    );
    // …a non-default one can, and an inactive one cannot become the default.
    store
        .change_bank_account(s, first.id, &deactivate, ACTOR)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store
            .change_bank_account(s, first.id, &make_default, ACTOR)
            .await
            .unwrap(),
        Err(BankAccountRefusal::Inactive)
    );
    assert_eq!(store.bank_accounts(s, true).await.unwrap().len(), 1);
    // The last active default can go: no active account, no default.
    store
        .change_bank_account(s, second.id, &deactivate, ACTOR)
        .await
        .unwrap()
        .unwrap();
    let all = store.bank_accounts(s, false).await.unwrap();
    assert_eq!((all.len(), defaults(&all)), (2, 0));
    assert!(store.bank_accounts(s, true).await.unwrap().is_empty());
    // Reactivated with no default around, an account becomes the default.
    let reactivate = BankAccountChange {
        active: Some(true),
        label: Some("Courant principal".into()),
        ..Default::default()
    };
    let back = store
        .change_bank_account(s, first.id, &reactivate, ACTOR)
        .await
        .unwrap()
        .unwrap();
    assert!(back.is_default && back.active);
    assert_eq!(back.details.label, "Courant principal");
    assert_eq!(back.details.iban.as_str(), "FR7630006000011234567890189");

    // Another structure's account is not found from this one.
    let theirs = store.bank_accounts(other, false).await.unwrap()[0].id;
    assert!(matches!(
        store.change_bank_account(s, theirs, &make_default, ACTOR).await,
        Err(StoreError::NotFound(_))
    ));
    let log = store.audit_log(Some(s), 20, 0).await.unwrap();
    assert_eq!(log[0].action, AuditAction::BankAccountUpdate);
    assert_eq!(log[0].details["before"]["active"], false);
    assert_eq!(log[0].details["after"]["default"], true);
    let creations = log
        .iter()
        .filter(|l| l.action == AuditAction::BankAccountCreate)
        .count();
    assert_eq!(creations, 2);
}

/// A French IBAN with right check digits for account number `n`.
fn iban(n: u32) -> String {
    let bban = format!("3000600001{n:013}");
    // Check digits: 98 - (BBAN + "FR00" with letters as numbers) mod 97.
    let rem = format!("{bban}152700")
        .bytes()
        .fold(0u64, |r, b| (r * 10 + u64::from(b - b'0')) % 97);
    format!("FR{:02}{bban}", 98 - rem)
}

/// Accounts added and made default at the same time: every change succeeds or is refused as a
/// kind, and exactly one active account is the default afterwards.
async fn concurrent_bank_account_changes_keep_one_default(t: &TestStore) {
    let store: &Store = t;
    let s = structure(store, "73282932000074").await.id;
    let adds = (0..6).map(|n| {
        let store = store.clone();
        tokio::spawn(async move {
            let d = BankDetails::parse(&format!("Compte {n}"), &iban(n), "", false).unwrap();
            store.create_bank_account(s, &d, ACTOR).await
        })
    });
    let mut ids = Vec::new();
    for h in adds.collect::<Vec<_>>() {
        ids.push(h.await.unwrap().unwrap().id);
    }
    let all = store.bank_accounts(s, false).await.unwrap();
    assert_eq!((all.len(), all.iter().filter(|a| a.is_default).count()), (6, 1));
    let defaults = ids.iter().map(|id| {
        let (store, id) = (store.clone(), *id);
        tokio::spawn(async move {
            let change = BankAccountChange {
                make_default: true,
                ..Default::default()
            };
            store.change_bank_account(s, id, &change, ACTOR).await
        })
    });
    for h in defaults.collect::<Vec<_>>() {
        assert!(h.await.unwrap().unwrap().is_ok());
    }
    let all = store.bank_accounts(s, true).await.unwrap();
    assert_eq!(all.iter().filter(|a| a.is_default).count(), 1);
}
