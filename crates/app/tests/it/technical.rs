//! Technical (API) accounts: creation and reset by the main manager, the two credential pairs,
//! expiry after 424 days.

use facteur_app::{Actor, AppError};
use facteur_domain::StructureStatus;
use time::Duration;

use crate::common::{SIRET_A, TestApp, on_both};

on_both!(technical_account_lifecycle);
on_both!(an_inactive_structure_authenticates_nothing);

async fn technical_account_lifecycle(t: TestApp) {
    let (boss, s) = t.manager("boss@acme.example", SIRET_A).await;
    assert!(t.app.technical_account(&boss, s).await.unwrap().is_none());
    let c1 = t.app.create_technical_account(&boss, s).await.unwrap();
    assert!(c1.password.len() >= 32 && c1.client_secret.len() >= 32);
    let view = t.app.technical_account(&boss, s).await.unwrap().unwrap();
    assert_eq!(view.login, c1.login);
    assert_eq!(view.client_id, c1.client_id);
    assert_eq!(view.password_expires_at, c1.password_expires_at);
    assert!(c1.password_expires_at - t.clock.now() >= Duration::days(423));

    let by_login = t.app.authenticate_technical(&c1.login, &c1.password, s).await.unwrap();
    assert!(matches!(by_login, Actor::Technical { structure, .. } if structure == s));
    let by_client = t
        .app
        .authenticate_client(&c1.client_id, &c1.client_secret, "test")
        .await
        .unwrap();
    assert_eq!(by_login, by_client);
    assert!(matches!(
        t.app.authenticate_technical(&c1.login, "wrong", s).await,
        Err(AppError::Unauthenticated)
    ));
    assert!(matches!(
        t.app.authenticate_technical("nobody", &c1.password, s).await,
        Err(AppError::Unauthenticated)
    ));
    assert!(matches!(
        t.app.authenticate_client(&c1.client_id, "wrong", "test").await,
        Err(AppError::Unauthenticated)
    ));
    assert!(matches!(
        t.app.authenticate_client("nobody", &c1.client_secret, "test").await,
        Err(AppError::Unauthenticated)
    ));

    // The main manager is told, without the secrets.
    let mails = t.smtp.wait_for("boss@acme.example", 2).await;
    let body = mails[1].body();
    assert!(body.contains(&c1.login) && body.contains(&c1.client_id));
    assert!(!body.contains(&c1.password) && !body.contains(&c1.client_secret));

    // Reset: the old secrets stop working at once.
    let c2 = t.app.create_technical_account(&boss, s).await.unwrap();
    assert_ne!(c1.password, c2.password);
    assert!(matches!(
        t.app
            .authenticate_client(&c1.client_id, &c1.client_secret, "test")
            .await,
        Err(AppError::Unauthenticated)
    ));
    assert!(matches!(
        t.app.authenticate_technical(&c1.login, &c1.password, s).await,
        Err(AppError::Unauthenticated)
    ));
    t.app.authenticate_technical(&c2.login, &c2.password, s).await.unwrap();

    // After 424 days both pairs expire.
    t.clock.advance(Duration::days(425));
    assert!(matches!(
        t.app
            .authenticate_client(&c2.client_id, &c2.client_secret, "test")
            .await,
        Err(AppError::Unauthenticated)
    ));
    assert!(matches!(
        t.app.authenticate_technical(&c2.login, &c2.password, s).await,
        Err(AppError::Unauthenticated)
    ));
    let log = t.app.audit_log(&boss, s, 100).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "technical_account.put").count(), 2);
}

on_both!(another_structure_can_neither_lock_out_nor_test_a_technical_account);

/// A caller whose token belongs to structure Y sends X's technical login: whatever the password,
/// the answer is the same, nothing is counted, and X's own calls keep working.
async fn another_structure_can_neither_lock_out_nor_test_a_technical_account(t: TestApp) {
    let (x_boss, x) = t.manager("boss@x.example", SIRET_A).await;
    let (_, y) = t.manager("boss@y.example", crate::common::SIRET_B).await;
    let cx = t.app.create_technical_account(&x_boss, x).await.unwrap();
    for _ in 0..30 {
        assert!(matches!(
            t.app.authenticate_technical(&cx.login, "wrong", y).await,
            Err(AppError::Unauthenticated)
        ));
    }
    // The right password from the wrong structure: the same answer as a wrong one.
    assert!(matches!(
        t.app.authenticate_technical(&cx.login, &cx.password, y).await,
        Err(AppError::Unauthenticated)
    ));
    // X itself was not locked out.
    t.app.authenticate_technical(&cx.login, &cx.password, x).await.unwrap();
    // X's own wrong attempts are still limited.
    for _ in 0..10 {
        let _ = t.app.authenticate_technical(&cx.login, "wrong", x).await;
    }
    assert!(matches!(
        t.app.authenticate_technical(&cx.login, &cx.password, x).await,
        Err(AppError::RateLimited { .. })
    ));
}

on_both!(technical_passwords_are_digests_and_old_argon2_hashes_are_replaced);

/// New accounts store a SHA-256 digest (no argon2 on every API call); an account stored with an
/// argon2 hash before still authenticates once, and its hash is then replaced by the digest.
async fn technical_passwords_are_digests_and_old_argon2_hashes_are_replaced(t: TestApp) {
    let (boss, s) = t.manager("boss@acme.example", SIRET_A).await;
    let c = t.app.create_technical_account(&boss, s).await.unwrap();
    let stored = t.app.store().technical_account_of(s).await.unwrap().unwrap();
    assert_eq!(stored.password_hash, facteur_app::secrets::token_digest(&c.password));

    let legacy = facteur_app::secrets::hash_password(&c.password).await.unwrap();
    assert!(
        t.app
            .store()
            .rehash_technical_password(stored.id, &stored.password_hash, &legacy)
            .await
            .unwrap()
    );
    assert!(matches!(
        t.app.authenticate_technical(&c.login, "wrong", s).await,
        Err(AppError::Unauthenticated)
    ));
    assert!(
        t.app
            .store()
            .technical_account_of(s)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .starts_with("$argon2")
    );
    t.app.authenticate_technical(&c.login, &c.password, s).await.unwrap();
    let after = t.app.store().technical_account_of(s).await.unwrap().unwrap();
    assert_eq!(after.password_hash, facteur_app::secrets::token_digest(&c.password));
    t.app.authenticate_technical(&c.login, &c.password, s).await.unwrap();
}

/// Both credential pairs stop working when the directory marks the structure inactive (the
/// login check reads the structure's status in the same statement as the account).
async fn an_inactive_structure_authenticates_nothing(t: TestApp) {
    let (boss, s) = t.manager("boss@acme.example", SIRET_A).await;
    let c = t.app.create_technical_account(&boss, s).await.unwrap();
    t.app.authenticate_technical(&c.login, &c.password, s).await.unwrap();
    let mut record = t.app.store().structure(s).await.unwrap().unwrap().structure;
    record.status = StructureStatus::Inactive;
    t.app.upsert_structure(&Actor::Operator, record, vec![]).await.unwrap();
    assert!(matches!(
        t.app.authenticate_technical(&c.login, &c.password, s).await,
        Err(AppError::Unauthenticated)
    ));
    assert!(matches!(
        t.app.authenticate_client(&c.client_id, &c.client_secret, "test").await,
        Err(AppError::Unauthenticated)
    ));
}
