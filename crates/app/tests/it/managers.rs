//! Manager journeys: refuse/approve in bulk, attach directly, promote, transfer the main role,
//! detach, duplicate rights, spaces and subscriptions. Every decision mails the user and is audited.

use facteur_app::{Actor, AppError, Conflict};
use facteur_domain::{MembershipStatus, Role, Space, SpaceMode, SubscriptionStatus};

use crate::common::{SIRET_A, SIRET_B, TestApp, form, on_both};

on_both!(
    bulk_decisions,
    attach_promote_transfer_detach,
    duplicate_rights,
    spaces_and_subscriptions
);

async fn bulk_decisions(t: TestApp) {
    let (boss, s) = t.manager("boss@acme.example", SIRET_A).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let email = format!("u{i}@acme.example");
        t.app
            .sign_up(form(&email, SIRET_A, Some("Nom saisi")), "ip")
            .await
            .unwrap();
        let tok = t.link_token(&email, "/activer/", 1).await;
        t.app.activate(&tok).await.unwrap();
    }
    for m in t.app.pending_attachments(&boss, s).await.unwrap() {
        ids.push(m.id);
    }
    assert_eq!(ids.len(), 3);
    assert_eq!(t.app.decide_attachments(&boss, s, &ids[..2], false).await.unwrap(), 2);
    assert_eq!(t.app.decide_attachments(&boss, s, &ids[2..], true).await.unwrap(), 1);
    let members = t.app.members(&boss, s).await.unwrap();
    let status = |email: &str| members.iter().find(|m| m.user_email == email).unwrap().status;
    assert_eq!(status("u0@acme.example"), MembershipStatus::Refused);
    assert_eq!(status("u1@acme.example"), MembershipStatus::Refused);
    assert_eq!(status("u2@acme.example"), MembershipStatus::Approved);
    let refused = t.smtp.wait_for("u0@acme.example", 2).await;
    assert!(refused[1].body().contains("refusée"), "{}", refused[1].body());
    let log = t.app.audit_log(&boss, s, 100).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "membership.decide").count(), 3);
}

async fn attach_promote_transfer_detach(t: TestApp) {
    let (boss, s) = t.manager("boss@acme.example", SIRET_A).await;
    let Actor::User(boss_id) = boss else { unreachable!() };
    // An existing account elsewhere, attached directly.
    let (_, _) = t.manager("eve@other.example", SIRET_B).await;
    let m = t
        .app
        .attach_user(&boss, s, "eve@other.example", Role::SimpleUser)
        .await
        .unwrap();
    assert_eq!(m.status, MembershipStatus::Approved);
    let eve_id = m.user_id;
    let eve = Actor::User(eve_id);
    assert!(matches!(
        t.app.attach_user(&boss, s, "eve@other.example", Role::SimpleUser).await,
        Err(AppError::Conflict(Conflict::AlreadyMember))
    ));
    assert!(matches!(
        t.app.attach_user(&boss, s, "ghost@x.example", Role::SimpleUser).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        t.app
            .attach_user(&boss, s, "eve@other.example", Role::MainManager)
            .await,
        Err(AppError::Invalid { .. })
    ));
    // Simple user cannot manage.
    assert!(matches!(t.app.members(&eve, s).await, Err(AppError::Forbidden)));
    t.app.set_role(&boss, s, eve_id, Role::SecondaryManager).await.unwrap();
    assert_eq!(t.app.members(&eve, s).await.unwrap().len(), 2);
    // A secondary manager may not transfer the main role nor create technical accounts.
    assert!(matches!(
        t.app.transfer_main_manager(&eve, s, eve_id).await,
        Err(AppError::Forbidden)
    ));
    assert!(matches!(
        t.app.create_technical_account(&eve, s).await,
        Err(AppError::Forbidden)
    ));
    // The main manager cannot be detached or demoted.
    assert!(matches!(
        t.app.detach_user(&eve, s, boss_id).await,
        Err(AppError::Conflict(Conflict::MainManagerFirst))
    ));
    assert!(matches!(
        t.app.set_role(&eve, s, boss_id, Role::SimpleUser).await,
        Err(AppError::Conflict(Conflict::MainManagerFirst))
    ));
    t.app.transfer_main_manager(&boss, s, eve_id).await.unwrap();
    let members = t.app.members(&eve, s).await.unwrap();
    let role = |id| members.iter().find(|m| m.user_id == id).unwrap().role;
    assert_eq!(role(eve_id), Role::MainManager);
    assert_eq!(role(boss_id), Role::SecondaryManager);
    // The new main manager detaches the former one, who can no longer work there.
    t.app.detach_user(&eve, s, boss_id).await.unwrap();
    assert!(matches!(
        t.app.switch_structure(&boss, s).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(t.app.members(&boss, s).await, Err(AppError::NotFound)));
    // Each change mailed to the user concerned.
    let eve_mails = t.smtp.wait_for("eve@other.example", 4).await;
    assert!(
        eve_mails
            .iter()
            .any(|m| m.body().contains("Gestionnaire principal") && m.body().contains("Main manager"))
    );
    let boss_mails = t.smtp.wait_for("boss@acme.example", 3).await;
    assert!(boss_mails.iter().any(|m| m.body().contains("détaché")));
    let log = t.app.audit_log(&eve, s, 200).await.unwrap();
    assert!(log.iter().any(|e| e.action == "membership.create"));
    assert!(
        log.iter().filter(|e| e.action == "membership.role").count() >= 2,
        "{log:#?}"
    );
    assert!(log.iter().all(|e| e.structure_id == Some(s)));
}

async fn duplicate_rights(t: TestApp) {
    let (boss, s) = t.manager("boss@acme.example", SIRET_A).await;
    let (_, model_id) = t.member("model@acme.example", SIRET_A, &boss).await;
    t.app
        .set_role(&boss, s, model_id, Role::SecondaryManager)
        .await
        .unwrap();
    t.app.open_space(&boss, s, Space::InvoicesReceived).await.unwrap();
    let model = Actor::User(model_id);
    t.app
        .subscribe_space(&model, s, Space::InvoicesReceived, SpaceMode::Consultation)
        .await
        .unwrap();
    // A newcomer registered for another structure.
    let (newcomer, _) = t.manager("new@other.example", SIRET_B).await;
    let Actor::User(new_id) = newcomer else { unreachable!() };
    assert_eq!(t.app.duplicate_rights(&boss, model_id, new_id).await.unwrap(), 1);
    let m = t.app.switch_structure(&newcomer, s).await.unwrap();
    assert_eq!(m.role, Role::SecondaryManager);
    let subs = t.app.my_subscriptions(&newcomer, s).await.unwrap();
    assert!(subs.iter().any(|x| x.space == Space::InvoicesReceived
        && x.mode == SpaceMode::Consultation
        && x.status == SubscriptionStatus::Approved));
    // Duplicating a user the actor does not manage anywhere is refused.
    let (other_boss, _) = t.manager("boss@third.example", "21750001600019").await;
    assert!(matches!(
        t.app.duplicate_rights(&other_boss, model_id, new_id).await,
        Err(AppError::NotFound)
    ));
}

async fn spaces_and_subscriptions(t: TestApp) {
    let (boss, s) = t.manager("boss@acme.example", SIRET_A).await;
    let (user, _) = t.member("user@acme.example", SIRET_A, &boss).await;
    let spaces = t.app.structure_spaces(&user, s).await.unwrap();
    assert!(spaces.contains(&Space::InvoicesIssued));
    assert!(!spaces.contains(&Space::WorksInvoices));
    // Not opened yet.
    assert!(matches!(
        t.app
            .subscribe_space(&user, s, Space::WorksInvoices, SpaceMode::Modification)
            .await,
        Err(AppError::Conflict(Conflict::SpaceNotOpen))
    ));
    assert!(matches!(
        t.app.open_space(&user, s, Space::WorksInvoices).await,
        Err(AppError::Forbidden)
    ));
    t.app.open_space(&boss, s, Space::WorksInvoices).await.unwrap();
    let pending = t
        .app
        .subscribe_space(&user, s, Space::WorksInvoices, SpaceMode::Modification)
        .await
        .unwrap();
    assert_eq!(pending.status, SubscriptionStatus::Pending);
    // "Factures émises" needs no validation.
    let free = t
        .app
        .subscribe_space(&user, s, Space::InvoicesIssued, SpaceMode::Modification)
        .await
        .unwrap();
    assert_eq!(free.status, SubscriptionStatus::Approved);
    let work = t.app.pending_subscriptions(&boss, s).await.unwrap();
    assert_eq!(work.len(), 1);
    assert_eq!(work[0].id, pending.id);
    assert!(matches!(
        t.app.decide_subscriptions(&user, s, &[pending.id], true).await,
        Err(AppError::Forbidden)
    ));
    assert_eq!(
        t.app.decide_subscriptions(&boss, s, &[pending.id], true).await.unwrap(),
        1
    );
    let mine = t.app.my_subscriptions(&user, s).await.unwrap();
    assert!(
        mine.iter()
            .any(|x| x.space == Space::WorksInvoices && x.status == SubscriptionStatus::Approved)
    );
    let mails = t.smtp.wait_for("user@acme.example", 3).await;
    // The space by its name in each language, as the portal shows it, not its code.
    let body = mails.last().unwrap().body();
    assert!(
        body.contains("Factures de travaux") && body.contains("Works invoices"),
        "{body}"
    );
    assert!(!body.contains("FACTURES_TRAVAUX"), "{body}");
}
