//! The store's behaviour, run against SQLite always and PostgreSQL when `FACTEUR_TEST_PG_URL` is
//! set (mandatory under `CI`). Every scenario is one `async fn(&Store)`; `backend_tests!` makes a
//! `sqlite` and a `postgres` test of each.

#![allow(clippy::unwrap_used)]

use facteur_domain::{
    AuditAction, Email, IdentifierKind, MembershipStatus, Role, Service, ServiceCode, Siret, Space, SpaceMode,
    Structure, StructureIdentifier, StructureKind, StructureParameters, StructureStatus, SubscriptionStatus,
    TokenPurpose, UserStatus,
};
use facteur_store::testing::TestStore;
use facteur_store::{
    Actor, Backend, BlobId, Blobs, Clock, JobStatus, NewJob, NewTechnicalAccount, NewUser, PageRequest, Scope, Store,
    StoreError, StructureQuery, UNIQUE_CONSTRAINTS, Unique, hash_token, normalize_time,
};
use serde_json::json;
use time::{Duration, OffsetDateTime};

facteur_store::scenarios!(ref facteur_store::testing::TestStore::new =>
    structures_and_default_service,
    directory_search,
    services_crud,
    users_and_memberships,
    spaces,
    one_time_tokens,
    sessions,
    technical_accounts,
    login_attempts,
    audit_in_same_transaction,
    writes_take_the_time_of_the_stores_clock,
    membership_moves_follow_the_domains_table,
    subscription_moves_follow_the_domains_table,
    membership_sequences_agree_with_the_table,
    unique_constraints_are_all_mapped,
    a_transaction_commits_once_or_not_at_all,
    jobs_are_leased_retried_and_finished,
    singleton_jobs,
    concurrent_claims_never_share_a_job,
    inline_blobs_live_and_die_with_their_transaction,
);

/// Every structure, private ones included.
fn every() -> StructureQuery {
    StructureQuery {
        scope: Scope::All,
        ..StructureQuery::default()
    }
}

fn siret(s: &str) -> StructureIdentifier {
    Siret::parse(s).unwrap().into()
}

fn structure(id: &str, name: &str, city: &str, postcode: &str, kind: StructureKind) -> Structure {
    let mut s = Structure::new(siret(id), kind, name).unwrap();
    s.address.line1 = "1 rue de la Paix".into();
    s.address.city = city.into();
    s.address.postcode = postcode.into();
    s.address.country = "FR".into();
    s
}

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: Email::parse(email).unwrap(),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        first_name: "Jeanne".into(),
        last_name: "Martin".into(),
        phone: None,
        status: UserStatus::PendingActivation,
    }
}

async fn structures_and_default_service(t: &TestStore) {
    let store: &Store = t;
    let mut s = structure(
        "21750001600019",
        "Ville de Paris",
        "Paris",
        "75004",
        StructureKind::Public,
    );
    s.parameters = StructureParameters {
        engagement_required: true,
        ..Default::default()
    };
    let rec = store.create_structure(&s, Actor::System).await.unwrap();
    assert_eq!(rec.structure, s);
    assert!(rec.id.get() > 0);

    // Read back by id and by identifier.
    assert_eq!(store.structure(rec.id).await.unwrap().unwrap(), rec);
    assert_eq!(
        store
            .find_structure_by_identifier(&s.identifier)
            .await
            .unwrap()
            .unwrap()
            .id,
        rec.id
    );
    assert!(
        store
            .find_structure_by_identifier(&siret("73282932000074"))
            .await
            .unwrap()
            .is_none()
    );

    // The default service exists.
    let services = store.list_services(rec.id).await.unwrap();
    assert_eq!(services.len(), 1);
    assert!(services[0].service.code.is_default_service());

    // Duplicate identifier → Conflict.
    let dup = store.create_structure(&s, Actor::System).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");

    // Update and status.
    let mut changed = rec.structure.clone();
    changed.company_name = "Mairie de Paris".into();
    changed.parameters.moa = facteur_domain::MoaPresence::MoaOnly;
    let updated = store.update_structure(rec.id, &changed, Actor::System).await.unwrap();
    assert_eq!(updated.structure.company_name, "Mairie de Paris");
    assert_eq!(updated.structure.parameters.moa, facteur_domain::MoaPresence::MoaOnly);
    // The identifier cannot be changed by an update.
    let mut other_id = changed.clone();
    other_id.identifier = siret("73282932000074");
    assert!(matches!(
        store.update_structure(rec.id, &other_id, Actor::System).await,
        Err(StoreError::NotFound(_))
    ));
    store
        .set_structure_status(rec.id, StructureStatus::Inactive, Actor::System)
        .await
        .unwrap();
    assert_eq!(
        store.structure(rec.id).await.unwrap().unwrap().structure.status,
        StructureStatus::Inactive
    );
    assert!(matches!(
        store
            .set_structure_status(
                facteur_domain::StructureId(999_999),
                StructureStatus::Active,
                Actor::System
            )
            .await,
        Err(StoreError::NotFound(_))
    ));

    // Foreign identifier kinds round-trip.
    let foreign = StructureIdentifier::parse(IdentifierKind::EuOutsideFrance, "DE123456789").unwrap();
    let f = store
        .create_structure(
            &Structure::new(foreign.clone(), StructureKind::Private, "GmbH").unwrap(),
            Actor::System,
        )
        .await
        .unwrap();
    assert_eq!(f.structure.identifier, foreign);
}

async fn directory_search(t: &TestStore) {
    let store: &Store = t;
    let data = [
        (
            "21750001600019",
            "Ville de Paris",
            "Paris",
            "75004",
            StructureKind::Public,
        ),
        (
            "12002701600357",
            "Ministère de l'Économie",
            "Paris",
            "75012",
            StructureKind::Public,
        ),
        (
            "73282932000074",
            "ACME 50% SA",
            "Évry-Courcouronnes",
            "91000",
            StructureKind::Private,
        ),
        (
            "21330063500017",
            "Mairie de Bordeaux",
            "Bordeaux",
            "33000",
            StructureKind::Public,
        ),
    ];
    for (id, name, city, pc, kind) in data {
        store
            .create_structure(&structure(id, name, city, pc, kind), Actor::System)
            .await
            .unwrap();
    }
    let search = |q: StructureQuery| async move { store.search_structures(&q, PageRequest::default()).await.unwrap() };
    let paged = |page: u32, per_page: u32| async move {
        store
            .search_structures(&every(), PageRequest::new(page, per_page))
            .await
            .unwrap()
    };
    let names = |p: &facteur_store::Page<facteur_store::StructureRecord>| {
        p.items
            .iter()
            .map(|r| r.structure.company_name.clone())
            .collect::<Vec<_>>()
    };

    let all = search(every()).await;
    assert_eq!(all.total, 4);
    assert_eq!(
        names(&all),
        [
            "ACME 50% SA",
            "Mairie de Bordeaux",
            "Ministère de l'Économie",
            "Ville de Paris"
        ]
    );

    // Each criterion alone and combined: (query, expected names in order).
    let q = |f: fn(&mut StructureQuery)| {
        let mut q = every();
        f(&mut q);
        q
    };
    let cases: Vec<(StructureQuery, Vec<&str>)> = vec![
        // Accent- and case-insensitive name search.
        (q(|q| q.name = Some("ECONOMIE".into())), vec!["Ministère de l'Économie"]),
        // `%` is literal, not a wildcard.
        (q(|q| q.name = Some("50%".into())), vec!["ACME 50% SA"]),
        (q(|q| q.name = Some("0%".into())), vec!["ACME 50% SA"]),
        (q(|q| q.name = Some("%".into())), vec!["ACME 50% SA"]),
        (q(|q| q.name = Some("_".into())), vec![]),
        // City (accent-folded substring), postcode prefix, identifier prefix (SIREN), kind.
        (q(|q| q.city = Some("evry".into())), vec!["ACME 50% SA"]),
        (
            q(|q| q.postcode = Some("750".into())),
            vec!["Ministère de l'Économie", "Ville de Paris"],
        ),
        (q(|q| q.postcode = Some("5000".into())), vec![]),
        (
            q(|q| q.identifier_prefix = Some("217 500 016".into())),
            vec!["Ville de Paris"],
        ),
        (q(|q| q.identifier = Some("217 500 016".into())), vec![]),
        (
            q(|q| q.identifier = Some("21750001600019".into())),
            vec!["Ville de Paris"],
        ),
        (
            q(|q| q.free_text = Some("paris".into())),
            vec!["Ministère de l'Économie", "Ville de Paris"],
        ),
        (q(|q| q.free_text = Some("3300".into())), vec!["Mairie de Bordeaux"]),
        (q(|q| q.free_text = Some("acme".into())), vec!["ACME 50% SA"]),
        (
            q(|q| q.scope = Scope::Public),
            vec!["Mairie de Bordeaux", "Ministère de l'Économie", "Ville de Paris"],
        ),
        (q(|q| q.kind = Some(StructureKind::Private)), vec!["ACME 50% SA"]),
        (
            q(|q| {
                q.city = Some("PARIS".into());
                q.kind = Some(StructureKind::Public);
            }),
            vec!["Ministère de l'Économie", "Ville de Paris"],
        ),
        (q(|q| q.status = Some(StructureStatus::Inactive)), vec![]),
    ];
    for (query, expected) in cases {
        let p = search(query.clone()).await;
        assert_eq!(names(&p), expected, "{query:?}");
        assert_eq!(p.total, expected.len() as u64, "{query:?}");
    }

    // Pagination.
    let p1 = paged(1, 3).await;
    let p2 = paged(2, 3).await;
    assert_eq!(
        (p1.items.len(), p2.items.len(), p1.total, p1.page_count()),
        (3, 1, 4, 2)
    );
    assert_eq!(names(&p2), ["Ville de Paris"]);
    let p9 = paged(9, 3).await;
    assert!(p9.items.is_empty());
    assert_eq!(p9.total, 4);
}

async fn services_crud(t: &TestStore) {
    let store: &Store = t;
    let s = store
        .create_structure(
            &structure("21750001600019", "Paris", "Paris", "75004", StructureKind::Public),
            Actor::System,
        )
        .await
        .unwrap();
    let svc = Service::new(ServiceCode::parse("SERV_FIN").unwrap(), "Finances")
        .with_validity(Some(time::macros::date!(2026 - 01 - 01)), None)
        .unwrap();
    let rec = store.create_service(s.id, &svc, Actor::System).await.unwrap();
    assert_eq!(rec.service, svc);
    assert!(matches!(
        store.create_service(s.id, &svc, Actor::System).await,
        Err(StoreError::Conflict(_))
    ));
    let found = store.find_service(s.id, &svc.code).await.unwrap().unwrap();
    assert_eq!(found.id, rec.id);

    let mut changed = svc.clone();
    changed.active = false;
    changed.parameters.engagement_required = true;
    changed.label = "Direction des finances".into();
    let up = store.update_service(rec.id, &changed, Actor::System).await.unwrap();
    assert_eq!(up.service, changed);
    assert_eq!(store.list_services(s.id).await.unwrap().len(), 2);

    // The default service can be neither renamed nor deleted.
    let default = store
        .find_service(s.id, &ServiceCode::default_service())
        .await
        .unwrap()
        .unwrap();
    let renamed = Service::new(ServiceCode::parse("OTHER").unwrap(), "x");
    assert!(matches!(
        store.update_service(default.id, &renamed, Actor::System).await,
        Err(StoreError::Refused(_))
    ));
    assert!(matches!(
        store.delete_service(default.id, Actor::System).await,
        Err(StoreError::Refused(_))
    ));

    store.delete_service(rec.id, Actor::System).await.unwrap();
    assert!(store.service(rec.id).await.unwrap().is_none());
    assert_eq!(store.list_services(s.id).await.unwrap().len(), 1);
}

async fn users_and_memberships(t: &TestStore) {
    let store: &Store = t;
    let s = store
        .create_structure(
            &structure("73282932000074", "ACME", "Lyon", "69001", StructureKind::Private),
            Actor::System,
        )
        .await
        .unwrap();
    let u = store
        .create_user(&new_user("Jeanne@Example.fr"), Actor::System)
        .await
        .unwrap();
    assert_eq!(u.email.as_str(), "jeanne@example.fr");
    assert_eq!(u.status, UserStatus::PendingActivation);
    assert!(u.activated_at.is_none());
    // E-mail uniqueness is case-insensitive through normalisation.
    assert!(matches!(
        store.create_user(&new_user("JEANNE@example.FR"), Actor::System).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .find_user_by_email(&Email::parse("jeanne@EXAMPLE.fr").unwrap())
            .await
            .unwrap()
            .unwrap()
            .id,
        u.id
    );

    store
        .set_user_status(u.id, UserStatus::Active, Actor::System)
        .await
        .unwrap();
    let active = store.user(u.id).await.unwrap().unwrap();
    assert_eq!(active.status, UserStatus::Active);
    let activated_at = active.activated_at.expect("activation stamped");
    store
        .set_password_hash(u.id, "$argon2id$new", Actor::User(u.id))
        .await
        .unwrap();
    store
        .update_user_profile(u.id, "Jeanne", "Durand", Some("0102030405"), Actor::User(u.id))
        .await
        .unwrap();
    store.record_login(u.id).await.unwrap();
    let again = store.user(u.id).await.unwrap().unwrap();
    assert_eq!(again.password_hash.as_deref(), Some("$argon2id$new"));
    assert_eq!(again.last_name, "Durand");
    assert_eq!(again.activated_at, Some(activated_at));
    assert!(again.last_login_at.is_some());

    // Attachment request, decision, optimistic concurrency.
    let manager = store
        .create_user(&new_user("chef@example.fr"), Actor::System)
        .await
        .unwrap();
    store
        .create_membership(
            manager.id,
            s.id,
            Role::MainManager,
            MembershipStatus::Approved,
            Actor::System,
        )
        .await
        .unwrap();
    let m = store
        .create_membership(
            u.id,
            s.id,
            Role::SimpleUser,
            MembershipStatus::Pending,
            Actor::User(u.id),
        )
        .await
        .unwrap();
    assert!(m.decided_at.is_none());
    assert!(matches!(
        store
            .create_membership(
                u.id,
                s.id,
                Role::SimpleUser,
                MembershipStatus::Pending,
                Actor::User(u.id)
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    let pending = store
        .memberships_of_structure(s.id, Some(MembershipStatus::Pending))
        .await
        .unwrap();
    assert_eq!(pending.iter().map(|m| m.user_id).collect::<Vec<_>>(), [u.id]);
    let approved = store
        .decide_membership(
            m.id,
            MembershipStatus::Pending,
            MembershipStatus::Approved,
            Some(Role::SecondaryManager),
            Actor::User(manager.id),
        )
        .await
        .unwrap();
    assert_eq!(
        (approved.status, approved.role, approved.decided_by),
        (MembershipStatus::Approved, Role::SecondaryManager, Some(manager.id))
    );
    // A second decision from the stale state loses.
    assert!(matches!(
        store
            .decide_membership(
                m.id,
                MembershipStatus::Pending,
                MembershipStatus::Refused,
                None,
                Actor::User(manager.id)
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    store
        .set_membership_role(m.id, Role::SimpleUser, Actor::User(manager.id))
        .await
        .unwrap();
    assert_eq!(
        store.find_membership(u.id, s.id).await.unwrap().unwrap().role,
        Role::SimpleUser
    );
    assert_eq!(store.memberships_of_user(u.id).await.unwrap().len(), 1);
    assert_eq!(store.memberships_of_structure(s.id, None).await.unwrap().len(), 2);

    // Foreign keys are enforced on both backends.
    let bad = store
        .create_membership(
            facteur_domain::UserId(987_654),
            s.id,
            Role::SimpleUser,
            MembershipStatus::Pending,
            Actor::System,
        )
        .await;
    assert!(matches!(bad, Err(StoreError::Database(_))), "{bad:?}");
}

async fn spaces(t: &TestStore) {
    let store: &Store = t;
    let s = store
        .create_structure(
            &structure("73282932000074", "ACME", "Lyon", "69001", StructureKind::Private),
            Actor::System,
        )
        .await
        .unwrap();
    let opened = store.opened_spaces(s.id).await.unwrap();
    let mut expected = Space::opened_by_default(StructureKind::Private);
    expected.sort();
    assert_eq!(opened, expected);
    assert!(!opened.contains(&Space::InvoicesReceived));

    let u = store
        .create_user(&new_user("u@example.fr"), Actor::System)
        .await
        .unwrap();
    // Not opened yet → refused.
    let refused = store
        .subscribe_space(
            u.id,
            s.id,
            Space::InvoicesReceived,
            SpaceMode::Consultation,
            SubscriptionStatus::Pending,
            Actor::User(u.id),
        )
        .await;
    assert!(matches!(refused, Err(StoreError::Refused(_))), "{refused:?}");
    store
        .open_space(s.id, Space::InvoicesReceived, Actor::System)
        .await
        .unwrap();
    store
        .open_space(s.id, Space::InvoicesReceived, Actor::System)
        .await
        .unwrap(); // idempotent
    let sub = store
        .subscribe_space(
            u.id,
            s.id,
            Space::InvoicesReceived,
            SpaceMode::Consultation,
            SubscriptionStatus::Pending,
            Actor::User(u.id),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .subscriptions_of_structure(s.id, Some(SubscriptionStatus::Pending))
            .await
            .unwrap()
            .len(),
        1
    );
    let up = store
        .update_subscription(
            sub.id,
            SubscriptionStatus::Pending,
            SpaceMode::Modification,
            SubscriptionStatus::Approved,
            Actor::System,
        )
        .await
        .unwrap();
    assert_eq!(
        (up.mode, up.status),
        (SpaceMode::Modification, SubscriptionStatus::Approved)
    );
    assert!(
        store
            .subscriptions_of_structure(s.id, Some(SubscriptionStatus::Pending))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.subscriptions_of_user(u.id, Some(s.id)).await.unwrap(),
        std::slice::from_ref(&up)
    );

    store
        .subscribe_space(
            u.id,
            s.id,
            Space::InvoicesIssued,
            SpaceMode::Modification,
            SubscriptionStatus::Approved,
            Actor::User(u.id),
        )
        .await
        .unwrap();
    assert_eq!(store.subscriptions_of_user(u.id, None).await.unwrap().len(), 2);
    store.unsubscribe_space(up.id, Actor::User(u.id)).await.unwrap();
    assert!(matches!(
        store.unsubscribe_space(up.id, Actor::User(u.id)).await,
        Err(StoreError::NotFound(_))
    ));
    // Closing a space drops its subscriptions.
    store
        .close_space(s.id, Space::InvoicesIssued, Actor::System)
        .await
        .unwrap();
    assert!(store.subscriptions_of_user(u.id, None).await.unwrap().is_empty());
    assert!(
        !store
            .opened_spaces(s.id)
            .await
            .unwrap()
            .contains(&Space::InvoicesIssued)
    );
}

async fn one_time_tokens(t: &TestStore) {
    let store: &Store = t;
    let u = store
        .create_user(&new_user("u@example.fr"), Actor::System)
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let h1 = hash_token("first-secret");
    store
        .create_one_time_token(u.id, TokenPurpose::Activation, &h1, now + Duration::minutes(60))
        .await
        .unwrap();
    // Wrong purpose, unknown token, expired: nothing.
    assert_eq!(
        store
            .consume_one_time_token(TokenPurpose::PasswordReset, &h1, now)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .consume_one_time_token(TokenPurpose::Activation, &hash_token("nope"), now)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .consume_one_time_token(TokenPurpose::Activation, &h1, now + Duration::minutes(61))
            .await
            .unwrap(),
        None
    );
    // Valid once.
    assert_eq!(
        store
            .consume_one_time_token(TokenPurpose::Activation, &h1, now)
            .await
            .unwrap(),
        Some(u.id)
    );
    assert_eq!(
        store
            .consume_one_time_token(TokenPurpose::Activation, &h1, now)
            .await
            .unwrap(),
        None
    );
    // A new token invalidates the previous unused one.
    let h2 = hash_token("second");
    let h3 = hash_token("third");
    store
        .create_one_time_token(u.id, TokenPurpose::PasswordReset, &h2, now + Duration::minutes(60))
        .await
        .unwrap();
    store
        .create_one_time_token(u.id, TokenPurpose::PasswordReset, &h3, now + Duration::minutes(60))
        .await
        .unwrap();
    assert_eq!(
        store
            .consume_one_time_token(TokenPurpose::PasswordReset, &h2, now)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .consume_one_time_token(TokenPurpose::PasswordReset, &h3, now)
            .await
            .unwrap(),
        Some(u.id)
    );
    // Only digests are stored.
    assert_eq!(h1.len(), 64);
}

async fn sessions(t: &TestStore) {
    let store: &Store = t;
    let u = store
        .create_user(&new_user("u@example.fr"), Actor::System)
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let a = hash_token("cookie-a");
    let b = hash_token("cookie-b");
    let s = store.create_session(u.id, &a, now + Duration::hours(8)).await.unwrap();
    store
        .create_session(u.id, &b, now + Duration::seconds(30))
        .await
        .unwrap();
    assert_eq!(store.find_session(&a, now).await.unwrap().unwrap().id, s.id);
    assert_eq!(store.find_session(&a, now).await.unwrap().unwrap().user_id, u.id);
    assert!(
        store
            .find_session(&b, now + Duration::minutes(1))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.purge_expired_sessions(now + Duration::minutes(1)).await.unwrap(),
        1
    );
    store.delete_session(&a).await.unwrap();
    assert!(store.find_session(&a, now).await.unwrap().is_none());
    store
        .create_session(u.id, &hash_token("c"), now + Duration::hours(1))
        .await
        .unwrap();
    store
        .create_session(u.id, &hash_token("d"), now + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(store.delete_user_sessions(u.id).await.unwrap(), 2);
}

async fn technical_accounts(t: &TestStore) {
    let store: &Store = t;
    let s = store
        .create_structure(
            &structure("73282932000074", "ACME", "Lyon", "69001", StructureKind::Private),
            Actor::System,
        )
        .await
        .unwrap();
    assert!(store.technical_account_of(s.id).await.unwrap().is_none());
    let expires = OffsetDateTime::now_utc() + Duration::days(424);
    let acc = NewTechnicalAccount {
        login: "TECH_73282932000074".into(),
        password_hash: "$argon2id$p".into(),
        client_id: "cid-1".into(),
        client_secret_hash: hash_token("secret"),
        password_expires_at: expires,
    };
    let rec = store.put_technical_account(s.id, &acc, Actor::System).await.unwrap();
    assert_eq!(rec.password_expires_at, facteur_store::normalize_time(expires));
    assert_eq!(
        store
            .find_technical_account_by_client_id("cid-1")
            .await
            .unwrap()
            .unwrap()
            .id,
        rec.id
    );
    assert_eq!(
        store
            .find_technical_account_by_login("TECH_73282932000074")
            .await
            .unwrap()
            .unwrap()
            .structure_id,
        s.id
    );
    // Reset replaces in place (one account per structure).
    let reset = NewTechnicalAccount {
        client_id: "cid-2".into(),
        password_hash: "$argon2id$q".into(),
        ..acc
    };
    let rec2 = store.put_technical_account(s.id, &reset, Actor::System).await.unwrap();
    assert_eq!(rec2.id, rec.id);
    assert!(
        store
            .find_technical_account_by_client_id("cid-1")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.technical_account_of(s.id).await.unwrap().unwrap().password_hash,
        "$argon2id$q"
    );
}

async fn login_attempts(t: &TestStore) {
    let store: &Store = t;
    let now = OffsetDateTime::now_utc();
    for m in [10, 5, 1] {
        store
            .record_login_attempt("email:u@example.fr", now - Duration::minutes(m))
            .await
            .unwrap();
    }
    store.record_login_attempt("ip:10.0.0.1", now).await.unwrap();
    assert_eq!(
        store
            .count_login_attempts("email:u@example.fr", now - Duration::minutes(6))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .count_login_attempts("email:u@example.fr", now - Duration::hours(1))
            .await
            .unwrap(),
        3
    );
    store.clear_login_attempts("email:u@example.fr").await.unwrap();
    assert_eq!(
        store
            .count_login_attempts("email:u@example.fr", now - Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .count_login_attempts("ip:10.0.0.1", now - Duration::hours(1))
            .await
            .unwrap(),
        1
    );
}

async fn audit_in_same_transaction(t: &TestStore) {
    let store: &Store = t;
    let u = store
        .create_user(&new_user("u@example.fr"), Actor::System)
        .await
        .unwrap();
    let s = store
        .create_structure(
            &structure("73282932000074", "ACME", "Lyon", "69001", StructureKind::Private),
            Actor::User(u.id),
        )
        .await
        .unwrap();
    // A failed change writes no audit line.
    let before = store.audit_log(None, 100, 0).await.unwrap().len();
    assert!(
        store
            .create_structure(
                &structure("73282932000074", "ACME", "Lyon", "69001", StructureKind::Private),
                Actor::User(u.id)
            )
            .await
            .is_err()
    );
    assert_eq!(store.audit_log(None, 100, 0).await.unwrap().len(), before);

    store
        .audit(
            Actor::User(u.id),
            AuditAction::StructureUpdate,
            Some(s.id),
            json!({ "rows": 3 }),
        )
        .await
        .unwrap();
    let lines = store.audit_log(Some(s.id), 10, 0).await.unwrap();
    assert_eq!(lines[0].action, AuditAction::StructureUpdate);
    assert_eq!(lines[0].details, json!({ "rows": 3 }));
    assert_eq!(lines[0].actor, Actor::User(u.id));
    let create = lines
        .iter()
        .find(|l| l.action == AuditAction::StructureCreate)
        .expect("structure.create audited");
    assert_eq!(create.actor, Actor::User(u.id));
    assert_eq!(create.details["identifier"], "SIRET:73282932000074");
    // Newest first and paginated.
    assert!(lines.windows(2).all(|w| w[0].id > w[1].id));
    assert_eq!(store.audit_log(Some(s.id), 1, 1).await.unwrap()[0].id, lines[1].id);
}

async fn inline_blobs_live_and_die_with_their_transaction(t: &TestStore) {
    let store: &Store = t;
    let fsyncs_before = store.group_commit_fsyncs();
    let bytes = b"<Invoice>small</Invoice>".to_vec();
    let id = BlobId::of(&bytes);

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.put_inline_blob(&bytes).await.unwrap(), id);
    drop(tx);
    assert_eq!(
        store.inline_blob(&id).await.unwrap(),
        None,
        "rolled back with its transaction"
    );

    let mut tx = store.begin().await.unwrap();
    tx.put_inline_blob(&bytes).await.unwrap();
    tx.put_inline_blob(&bytes).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.inline_blob(&id).await.unwrap(), Some(bytes));
    assert_eq!(store.inline_blob(&BlobId::of(b"other")).await.unwrap(), None);

    // The largest allowed fits; one byte more is refused by the table.
    let mut tx = store.begin().await.unwrap();
    tx.put_inline_blob(&vec![b'a'; facteur_store::INLINE_BLOB_MAX])
        .await
        .unwrap();
    assert!(
        tx.put_inline_blob(&vec![b'b'; facteur_store::INLINE_BLOB_MAX + 1])
            .await
            .is_err()
    );
    drop(tx);

    // On SQLite every commit waited for the group commit's fsync; PostgreSQL has its own.
    match (store.backend(), fsyncs_before, store.group_commit_fsyncs()) {
        (Backend::Sqlite, Some(before), Some(after)) => assert!(after > before, "{before} → {after}"),
        (Backend::Postgres, None, None) => {}
        other => panic!("unexpected group commit state {other:?}"),
    }
}

#[tokio::test]
async fn blobs_are_content_addressed() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Blobs::from_url(&format!("file://{}", dir.path().join("blobs").display())).unwrap();
    let id = blobs.put(b"<Invoice/>".to_vec()).await.unwrap();
    assert_eq!(id, BlobId::of(b"<Invoice/>"));
    assert_eq!(id.as_str().len(), 64);
    assert_eq!(blobs.put(b"<Invoice/>".to_vec()).await.unwrap(), id, "idempotent");
    assert_eq!(blobs.get(&id).await.unwrap().unwrap(), b"<Invoice/>");
    assert!(blobs.exists(&id).await.unwrap());
    // Tampering on disk is detected on read.
    let path = dir
        .path()
        .join("blobs")
        .join(&id.as_str()[..2])
        .join(&id.as_str()[2..4])
        .join(id.as_str());
    std::fs::write(&path, b"<Evil/>").unwrap();
    assert!(matches!(blobs.get(&id).await, Err(StoreError::BlobCorrupt(_))));
    blobs.delete(&id).await.unwrap();
    assert!(!blobs.exists(&id).await.unwrap());
    assert!(blobs.get(&id).await.unwrap().is_none());
    assert!(Blobs::from_url("s3://bucket").is_err());
    assert!(BlobId::parse("xyz").is_err());
    let mem = Blobs::in_memory();
    let id2 = mem.put(Vec::new()).await.unwrap();
    assert_eq!(mem.get(&id2).await.unwrap().unwrap(), b"");
}

#[tokio::test]
async fn large_blobs_are_stored_from_and_read_into_files_in_parts() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    // Two parts and a bit: the parts are put one by one, read back piece by piece.
    let content: Vec<u8> = (0..facteur_store::PART_BYTES * 2 + 1000)
        .map(|i| (i % 251) as u8)
        .collect();
    let src = dir.path().join("upload");
    std::fs::write(&src, &content).unwrap();
    let id = BlobId::from_digest(&sha2::Sha256::digest(&content));
    assert_eq!(id, BlobId::of(&content));
    for blobs in [
        Blobs::from_url(&format!("file://{}", dir.path().join("blobs").display())).unwrap(),
        Blobs::in_memory(),
    ] {
        blobs.put_file(&src, &id).await.unwrap();
        blobs.put_file(&src, &id).await.unwrap();
        let dest = dir.path().join("back");
        assert!(blobs.get_to_file(&id, &dest).await.unwrap());
        assert!(std::fs::read(&dest).unwrap() == content);
        assert!(blobs.get(&id).await.unwrap().unwrap() == content);
        // A file that is not what its id says is not stored.
        let liar = BlobId::of(b"something else");
        assert!(matches!(
            blobs.put_file(&src, &liar).await,
            Err(StoreError::BlobCorrupt(_))
        ));
        assert!(!blobs.exists(&liar).await.unwrap());
        assert!(!blobs.get_to_file(&liar, &dest).await.unwrap());
    }
}

#[tokio::test]
async fn connect_rejects_unknown_urls_and_migrates_twice() {
    assert!(
        matches!(Store::connect("mysql://u:pw@h/db").await, Err(StoreError::UnsupportedUrl(u)) if !u.contains("pw"))
    );
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("sub/dir/f.db").display());
    let store = Store::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    // WAL is on: the write-ahead log sits beside the database while connections are open.
    assert!(dir.path().join("sub/dir/f.db-wal").exists());
    store.close().await;
    assert!(dir.path().join("sub/dir/f.db").exists());
}

#[tokio::test]
async fn postgres_required_under_ci() {
    // Only meaningful when CI is set: then the URL must be present (pg_url panics otherwise).
    if std::env::var_os("CI").is_some() {
        assert!(facteur_store::testing::pg_url().is_some());
    }
}

/// Every timestamp a write records comes from the store's clock (the application's, handed over
/// by `App`), never from the database server's or the system's: moving a manual clock moves them.
async fn writes_take_the_time_of_the_stores_clock(t: &TestStore) {
    let start = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000) + Duration::seconds(7);
    let clock = Clock::manual(start);
    let store = t.store.clone().with_clock(clock.clone());
    let u = store
        .create_user(&new_user("clock@example.fr"), Actor::System)
        .await
        .unwrap();
    assert_eq!((u.created_at, u.updated_at), (start, start));
    clock.advance(Duration::days(3));
    store
        .set_user_status(u.id, UserStatus::Active, Actor::System)
        .await
        .unwrap();
    let later = store.user(u.id).await.unwrap().unwrap();
    assert_eq!((later.created_at, later.updated_at), (start, start + Duration::days(3)));
    let s = store
        .create_structure(
            &structure("73282932000074", "Horloge", "Lyon", "69001", StructureKind::Private),
            Actor::User(u.id),
        )
        .await
        .unwrap();
    assert_eq!(s.created_at, start + Duration::days(3));
    let log = store.audit_log(None, 10, 0).await.unwrap();
    assert!(log.len() >= 3);
    assert!(
        log.iter().all(|l| l.at == start || l.at == start + Duration::days(3)),
        "{log:?}"
    );
    assert_eq!(log.last().unwrap().at, start);
}

/// Every (from, to) pair of attachment statuses: the store makes exactly the moves the domain's
/// table allows, refuses the others with a typed error, and refuses a move from a status the row
/// is no longer in.
async fn membership_moves_follow_the_domains_table(t: &TestStore) {
    let store: &Store = t;
    let s = store
        .create_structure(
            &structure("73282932000074", "Table", "Lyon", "69001", StructureKind::Private),
            Actor::System,
        )
        .await
        .unwrap();
    for (i, from) in MembershipStatus::ALL.iter().enumerate() {
        for (j, to) in MembershipStatus::ALL.iter().enumerate() {
            let u = store
                .create_user(&new_user(&format!("m{i}-{j}@example.fr")), Actor::System)
                .await
                .unwrap();
            let m = store
                .create_membership(u.id, s.id, Role::SimpleUser, *from, Actor::System)
                .await
                .unwrap();
            let moved = store.decide_membership(m.id, *from, *to, None, Actor::System).await;
            if from.can_become(*to) {
                assert_eq!(moved.unwrap().status, *to, "{from} -> {to}");
                // The row has moved on: the same move from the old status finds nothing.
                assert!(matches!(
                    store.decide_membership(m.id, *from, *to, None, Actor::System).await,
                    Err(StoreError::NotFound(_))
                ));
            } else {
                assert!(
                    matches!(moved, Err(StoreError::IllegalTransition { .. })),
                    "{from} -> {to}: {moved:?}"
                );
                let now = store.find_membership(u.id, s.id).await.unwrap().unwrap();
                assert_eq!(now.status, *from, "nothing changed");
            }
        }
    }
}

/// Every (from, to) pair of subscription statuses: the domain's moves (and mode changes in the
/// same status) go through once; the others are refused and change nothing.
async fn subscription_moves_follow_the_domains_table(t: &TestStore) {
    let store: &Store = t;
    let s = store
        .create_structure(
            &structure("73282932000074", "Table", "Lyon", "69001", StructureKind::Private),
            Actor::System,
        )
        .await
        .unwrap();
    for (i, from) in SubscriptionStatus::ALL.iter().enumerate() {
        for (j, to) in SubscriptionStatus::ALL.iter().enumerate() {
            let u = store
                .create_user(&new_user(&format!("s{i}-{j}@example.fr")), Actor::System)
                .await
                .unwrap();
            let sub = store
                .subscribe_space(
                    u.id,
                    s.id,
                    Space::MyAccount,
                    SpaceMode::Consultation,
                    *from,
                    Actor::System,
                )
                .await
                .unwrap();
            let moved = store
                .update_subscription(sub.id, *from, SpaceMode::Modification, *to, Actor::System)
                .await;
            if from == to || from.can_become(*to) {
                let moved = moved.unwrap();
                assert_eq!(
                    (moved.status, moved.mode),
                    (*to, SpaceMode::Modification),
                    "{from} -> {to}"
                );
                if from != to {
                    assert!(matches!(
                        store
                            .update_subscription(sub.id, *from, SpaceMode::Consultation, *to, Actor::System)
                            .await,
                        Err(StoreError::NotFound(_))
                    ));
                }
            } else {
                assert!(
                    matches!(moved, Err(StoreError::IllegalTransition { .. })),
                    "{from} -> {to}: {moved:?}"
                );
                let now = store.subscriptions_of_user(u.id, Some(s.id)).await.unwrap();
                assert_eq!(
                    (now[0].status, now[0].mode),
                    (*from, SpaceMode::Consultation),
                    "nothing changed"
                );
            }
        }
    }
}

/// Every sequence of three requested moves, from a new request: the store follows the domain's
/// table step by step (a model of the status kept beside it), refusing what the table refuses and
/// leaving the row as it was.
async fn membership_sequences_agree_with_the_table(t: &TestStore) {
    let store: &Store = t;
    let s = store
        .create_structure(
            &structure("73282932000074", "Suites", "Lyon", "69001", StructureKind::Private),
            Actor::System,
        )
        .await
        .unwrap();
    let all = MembershipStatus::ALL;
    let mut n = 0;
    for a in all {
        for b in all {
            for c in all {
                n += 1;
                let u = store
                    .create_user(&new_user(&format!("seq{n}@example.fr")), Actor::System)
                    .await
                    .unwrap();
                let m = store
                    .create_membership(u.id, s.id, Role::SimpleUser, MembershipStatus::Pending, Actor::System)
                    .await
                    .unwrap();
                let mut model = MembershipStatus::Pending;
                for to in [*a, *b, *c] {
                    let r = store.decide_membership(m.id, model, to, None, Actor::System).await;
                    if model.can_become(to) {
                        assert_eq!(r.unwrap().status, to);
                        model = to;
                    } else {
                        assert!(
                            matches!(r, Err(StoreError::IllegalTransition { .. })),
                            "{model} -> {to}"
                        );
                    }
                    assert_eq!(store.membership(m.id).await.unwrap().unwrap().status, model);
                }
            }
        }
    }
}

/// Every unique constraint of the schema is in the store's map, so its violation comes back as a
/// kind, never as a name or a sentence; and the common ones do.
async fn unique_constraints_are_all_mapped(t: &TestStore) {
    let store: &Store = t;
    let constraints = store.unique_constraints().await.unwrap();
    assert!(constraints.len() >= 12, "{constraints:?}");
    for c in &constraints {
        let known = UNIQUE_CONSTRAINTS
            .iter()
            .any(|(name, columns, _)| match store.backend() {
                Backend::Postgres => name == c,
                Backend::Sqlite => columns == c,
            });
        assert!(known, "unique constraint {c} is not in UNIQUE_CONSTRAINTS");
    }
    let u = store
        .create_user(&new_user("dup@example.fr"), Actor::System)
        .await
        .unwrap();
    assert!(matches!(
        store.create_user(&new_user("dup@example.fr"), Actor::System).await,
        Err(StoreError::Conflict(Unique::Email))
    ));
    let s = store
        .create_structure(
            &structure("73282932000074", "Doublon", "Lyon", "69001", StructureKind::Private),
            Actor::System,
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_structure(
                &structure("73282932000074", "Doublon", "Lyon", "69001", StructureKind::Private),
                Actor::System
            )
            .await,
        Err(StoreError::Conflict(Unique::StructureIdentifier))
    ));
    store
        .create_membership(u.id, s.id, Role::SimpleUser, MembershipStatus::Pending, Actor::System)
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_membership(u.id, s.id, Role::SimpleUser, MembershipStatus::Pending, Actor::System)
            .await,
        Err(StoreError::Conflict(Unique::Membership))
    ));
    assert!(matches!(
        store
            .create_service(s.id, &Service::default_service(), Actor::System)
            .await,
        Err(StoreError::Conflict(Unique::ServiceCode))
    ));
}

// ---- transactions and the job queue ----------------------------------------------------------

fn job(kind: &str, run_at: OffsetDateTime) -> NewJob {
    NewJob {
        kind: kind.to_owned(),
        payload: json!({ "n": 1 }),
        run_at,
        max_attempts: 3,
        singleton: None,
    }
}

/// Changes made through one `Tx` are seen by nobody before the commit, and vanish without it.
async fn a_transaction_commits_once_or_not_at_all(t: &TestStore) {
    let mut tx = t.begin().await.unwrap();
    let u = tx.create_user(&new_user("tx@example.fr"), Actor::System).await.unwrap();
    tx.enqueue_job(&job("mail", t.now())).await.unwrap();
    drop(tx);
    assert!(t.user(u.id).await.unwrap().is_none());
    assert!(t.jobs_of_kind("mail").await.unwrap().is_empty());
    assert!(t.audit_log(None, 10, 0).await.unwrap().is_empty());

    let mut tx = t.begin().await.unwrap();
    let u = tx.create_user(&new_user("tx@example.fr"), Actor::System).await.unwrap();
    tx.enqueue_job(&job("mail", t.now())).await.unwrap();
    tx.commit().await.unwrap();
    assert!(t.user(u.id).await.unwrap().is_some());
    assert_eq!(t.jobs_of_kind("mail").await.unwrap().len(), 1);
}

async fn jobs_are_leased_retried_and_finished(t: &TestStore) {
    let now = normalize_time(OffsetDateTime::now_utc());
    let later = now + Duration::minutes(10);
    let a = t.enqueue_job(&job("mail", now)).await.unwrap().unwrap();
    let b = t.enqueue_job(&job("mail", later)).await.unwrap().unwrap();
    // Only the due one, leased with one attempt counted.
    let got = t.claim_jobs("w1", now, now + Duration::minutes(5), 10).await.unwrap();
    assert_eq!(got.iter().map(|j| j.id).collect::<Vec<_>>(), vec![a]);
    assert_eq!((got[0].attempts, got[0].leased_by.as_deref()), (1, Some("w1")));
    // Leased: nobody else gets it while the lease runs; after it, another worker does.
    assert!(
        t.claim_jobs("w2", now, now + Duration::minutes(5), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = t
        .claim_jobs("w2", now + Duration::minutes(6), now + Duration::minutes(11), 10)
        .await
        .unwrap();
    assert_eq!(
        again.iter().map(|j| (j.id, j.attempts)).collect::<Vec<_>>(),
        vec![(a, 2)]
    );
    // The first worker lost it: its outcome is not recorded.
    assert!(!t.finish_job(a, "w1").await.unwrap());
    // A failure with a retry time makes it due then, not before.
    assert!(t.fail_job(a, "w2", "smtp down", Some(later)).await.unwrap());
    let j = t.job(a).await.unwrap().unwrap();
    assert_eq!(
        (j.status, j.last_error.as_deref(), j.run_at),
        (JobStatus::Pending, Some("smtp down"), later)
    );
    let counts = t.job_counts(now).await.unwrap();
    assert_eq!(
        (counts.due, counts.scheduled, counts.running, counts.dead),
        (0, 2, 0, 0)
    );
    let both = t
        .claim_jobs("w3", later, later + Duration::minutes(5), 10)
        .await
        .unwrap();
    assert_eq!(both.iter().map(|j| j.id).collect::<Vec<_>>(), vec![a, b]);
    assert!(t.finish_job(a, "w3").await.unwrap());
    let done = t.job(a).await.unwrap().unwrap();
    assert_eq!(done.status, JobStatus::Done);
    assert_eq!(done.payload, json!({}), "a sent mail's links do not stay in the table");
    // Given up: dead, counted, and never claimed again.
    assert!(t.fail_job(b, "w3", "refused", None).await.unwrap());
    assert_eq!(t.job(b).await.unwrap().unwrap().status, JobStatus::Dead);
    assert_eq!(t.job_counts(later).await.unwrap().dead, 1);
    assert!(
        t.claim_jobs("w4", later + Duration::days(1), later + Duration::days(2), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Finished jobs are purged after their time.
    assert_eq!(t.purge_finished_jobs(t.now() + Duration::seconds(1)).await.unwrap(), 2);
}

/// A singleton key has at most one pending job; once it is finished, a new one may be enqueued.
async fn singleton_jobs(t: &TestStore) {
    let now = normalize_time(OffsetDateTime::now_utc());
    let mut house = job("housekeeping", now);
    house.singleton = Some("housekeeping".to_owned());
    let first = t.enqueue_job(&house).await.unwrap();
    assert!(first.is_some());
    assert_eq!(t.enqueue_job(&house).await.unwrap(), None);
    let got = t.claim_jobs("w", now, now + Duration::minutes(1), 10).await.unwrap();
    assert_eq!(
        t.enqueue_job(&house).await.unwrap(),
        None,
        "a leased job still holds its key"
    );
    assert!(t.finish_job(got[0].id, "w").await.unwrap());
    assert!(t.enqueue_job(&house).await.unwrap().is_some());
}

/// Concurrent workers never lease the same job (SKIP LOCKED on PostgreSQL, the single writer on
/// SQLite).
async fn concurrent_claims_never_share_a_job(t: &TestStore) {
    let now = normalize_time(OffsetDateTime::now_utc());
    for _ in 0..60 {
        t.enqueue_job(&job("mail", now)).await.unwrap();
    }
    let mut workers = Vec::new();
    for w in 0..6 {
        let store = t.store.clone();
        workers.push(tokio::spawn(async move {
            let name = format!("w{w}");
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim_jobs(&name, now, now + Duration::minutes(5), 3)
                    .await
                    .unwrap();
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|j| j.id));
            }
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let unique: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!((all.len(), unique.len()), (60, 60));
}
