//! Technical (API) accounts: creation and reset by the main manager, the two credential pairs,
//! expiry after 424 days.

use facteur_app::{Actor, AppError};
use time::Duration;

use crate::common::{SIRET_A, TestApp, on_both};

on_both!(technical_account_lifecycle);

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

    let by_login = t.app.authenticate_technical(&c1.login, &c1.password).await.unwrap();
    assert!(matches!(by_login, Actor::Technical { structure, .. } if structure == s));
    let by_client = t
        .app
        .authenticate_client(&c1.client_id, &c1.client_secret)
        .await
        .unwrap();
    assert_eq!(by_login, by_client);
    assert!(matches!(
        t.app.authenticate_technical(&c1.login, "wrong").await,
        Err(AppError::Unauthenticated)
    ));
    assert!(matches!(
        t.app.authenticate_technical("nobody", &c1.password).await,
        Err(AppError::Unauthenticated)
    ));
    assert!(matches!(
        t.app.authenticate_client(&c1.client_id, "wrong").await,
        Err(AppError::Unauthenticated)
    ));
    assert!(matches!(
        t.app.authenticate_client("nobody", &c1.client_secret).await,
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
        t.app.authenticate_client(&c1.client_id, &c1.client_secret).await,
        Err(AppError::Unauthenticated)
    ));
    assert!(matches!(
        t.app.authenticate_technical(&c1.login, &c1.password).await,
        Err(AppError::Unauthenticated)
    ));
    t.app.authenticate_technical(&c2.login, &c2.password).await.unwrap();

    // After 424 days both pairs expire.
    t.clock.advance(Duration::days(425));
    assert!(matches!(
        t.app.authenticate_client(&c2.client_id, &c2.client_secret).await,
        Err(AppError::Unauthenticated)
    ));
    assert!(matches!(
        t.app.authenticate_technical(&c2.login, &c2.password).await,
        Err(AppError::Unauthenticated)
    ));
    let log = t.app.audit_log(&boss, s, 100).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "technical_account.put").count(), 2);
}
