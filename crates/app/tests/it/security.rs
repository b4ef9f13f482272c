//! Cross-structure isolation: a user (or technical account) of structure X reading or changing
//! anything of structure Y gets a typed error and changes nothing.

use facteur_app::{Actor, AppError};
use facteur_domain::{MembershipStatus, Role, Space, SpaceMode};

use crate::common::{SIRET_A, SIRET_B, TestApp, form, on_both};

on_both!(manager_of_x_cannot_touch_y, technical_account_of_x_cannot_touch_y);

fn refused<T: std::fmt::Debug>(r: Result<T, AppError>) {
    assert!(
        matches!(r, Err(AppError::NotFound | AppError::Forbidden)),
        "expected refusal, got {r:?}"
    );
}

async fn manager_of_x_cannot_touch_y(t: TestApp) {
    let (x_boss, x) = t.manager("boss@x.example", SIRET_A).await;
    let (y_boss, y) = t.manager("boss@y.example", SIRET_B).await;
    let (_y_user, y_user_id) = t.member("member@y.example", SIRET_B, &y_boss).await;
    // A pending request on Y.
    t.app
        .sign_up(form("pending@y.example", SIRET_B, Some("Nom saisi")), "ip")
        .await
        .unwrap();
    let tok = t.link_token("pending@y.example", "/activer/", 1).await;
    t.app.activate(&tok).await.unwrap();
    let y_pending = t.app.pending_attachments(&y_boss, y).await.unwrap();
    assert_eq!(y_pending.len(), 1);
    let y_req = y_pending[0].id;
    t.app.open_space(&y_boss, y, Space::WorksInvoices).await.unwrap();
    let y_sub = t
        .app
        .subscribe_space(&_y_user, y, Space::WorksInvoices, SpaceMode::Consultation)
        .await
        .unwrap();
    let Actor::User(x_boss_id) = x_boss else { unreachable!() };
    let y_audit_before = t.app.audit_log(&y_boss, y, 1000).await.unwrap().len();
    let y_members_before = t.app.members(&y_boss, y).await.unwrap();

    // Reads.
    refused(t.app.members(&x_boss, y).await);
    refused(t.app.pending_attachments(&x_boss, y).await);
    refused(t.app.pending_subscriptions(&x_boss, y).await);
    refused(t.app.structure(&x_boss, y).await);
    refused(t.app.services(&x_boss, y).await);
    refused(t.app.structure_spaces(&x_boss, y).await);
    refused(t.app.audit_log(&x_boss, y, 10).await);
    refused(t.app.technical_account(&x_boss, y).await);
    refused(t.app.switch_structure(&x_boss, y).await);
    refused(t.app.my_subscriptions(&x_boss, y).await);
    // Writes on Y, directly.
    refused(t.app.decide_attachments(&x_boss, y, &[y_req], true).await);
    refused(t.app.attach_user(&x_boss, y, "boss@x.example", Role::SimpleUser).await);
    refused(t.app.detach_user(&x_boss, y, y_user_id).await);
    refused(t.app.set_role(&x_boss, y, y_user_id, Role::SecondaryManager).await);
    refused(t.app.transfer_main_manager(&x_boss, y, x_boss_id).await);
    refused(t.app.open_space(&x_boss, y, Space::Messages).await);
    refused(
        t.app
            .subscribe_space(&x_boss, y, Space::InvoicesIssued, SpaceMode::Modification)
            .await,
    );
    refused(t.app.decide_subscriptions(&x_boss, y, &[y_sub.id], true).await);
    refused(t.app.create_technical_account(&x_boss, y).await);
    // Writes on Y through X: Y's ids passed with X's structure id.
    refused(t.app.decide_attachments(&x_boss, x, &[y_req], true).await);
    refused(t.app.decide_subscriptions(&x_boss, x, &[y_sub.id], true).await);
    refused(t.app.detach_user(&x_boss, x, y_user_id).await);
    refused(t.app.set_role(&x_boss, x, y_user_id, Role::SecondaryManager).await);
    refused(t.app.transfer_main_manager(&x_boss, x, y_user_id).await);
    refused(t.app.duplicate_rights(&x_boss, y_user_id, x_boss_id).await);
    // A mixed batch (one id of X, one of Y) changes nothing either.
    t.app
        .sign_up(form("pending@x.example", SIRET_A, Some("Nom saisi")), "ip")
        .await
        .unwrap();
    let tok = t.link_token("pending@x.example", "/activer/", 1).await;
    t.app.activate(&tok).await.unwrap();
    let x_req = t.app.pending_attachments(&x_boss, x).await.unwrap()[0].id;
    refused(t.app.decide_attachments(&x_boss, x, &[x_req, y_req], true).await);
    assert_eq!(t.app.pending_attachments(&x_boss, x).await.unwrap().len(), 1);

    // Nothing changed on Y.
    assert_eq!(t.app.members(&y_boss, y).await.unwrap(), y_members_before);
    assert_eq!(
        t.app.pending_attachments(&y_boss, y).await.unwrap()[0].status,
        MembershipStatus::Pending
    );
    assert_eq!(t.app.pending_subscriptions(&y_boss, y).await.unwrap().len(), 1);
    assert!(t.app.technical_account(&y_boss, y).await.unwrap().is_none());
    assert_eq!(t.app.audit_log(&y_boss, y, 1000).await.unwrap().len(), y_audit_before);
    // A simple member of Y cannot manage Y either.
    refused(t.app.members(&_y_user, y).await);
    refused(t.app.decide_attachments(&_y_user, y, &[y_req], true).await);
    refused(t.app.create_technical_account(&_y_user, y).await);
    // The operator can.
    assert_eq!(t.app.members(&Actor::Operator, y).await.unwrap().len(), 3);
}

async fn technical_account_of_x_cannot_touch_y(t: TestApp) {
    let (x_boss, x) = t.manager("boss@x.example", SIRET_A).await;
    let (y_boss, y) = t.manager("boss@y.example", SIRET_B).await;
    let creds = t.app.create_technical_account(&x_boss, x).await.unwrap();
    let tech = t
        .app
        .authenticate_client(&creds.client_id, &creds.client_secret, "test")
        .await
        .unwrap();
    assert!(matches!(tech, Actor::Technical { structure, .. } if structure == x));
    // Own structure readable, Y not.
    t.app.structure(&tech, x).await.unwrap();
    t.app.services(&tech, x).await.unwrap();
    refused(t.app.structure(&tech, y).await);
    refused(t.app.services(&tech, y).await);
    refused(t.app.members(&tech, y).await);
    refused(t.app.members(&tech, x).await);
    refused(t.app.create_technical_account(&tech, x).await);
    refused(t.app.create_technical_account(&tech, y).await);
    refused(t.app.my_memberships(&tech).await);
    refused(t.app.open_space(&tech, y, Space::Messages).await);
    assert!(t.app.technical_account(&y_boss, y).await.unwrap().is_none());
}
