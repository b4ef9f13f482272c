//! One transaction per use case: each of these use cases is run again and again with its first,
//! second, third… write failing (the store's failure injection), until it succeeds. After every
//! failed run the database must be exactly as before (no user without structure, no structure
//! without main manager, no half-detached member, no mail queued for a change that did not
//! happen).

use std::future::Future;

use facteur_app::{Actor, AppResult, SignUpOutcome};
use facteur_domain::{MembershipStatus, Role, Space, SpaceMode};

use crate::common::{SIRET_A, SIRET_B, TestApp, form, on_both};

on_both!(
    sign_up_new_structure,
    sign_up_joining,
    approval,
    detach,
    main_manager_transfer,
    rights_duplication
);

/// Runs `act` with write step 1, 2, … failing until it succeeds; asserts every failed run left the
/// database unchanged and that the successful one changed it. Returns the steps of the success.
async fn all_or_nothing<T, F, Fut>(t: &mut TestApp, mut act: F) -> Vec<&'static str>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = AppResult<T>>,
{
    // The set-up's mail is sent; then no worker writes while we compare.
    t.drain_jobs().await;
    if let Some(w) = t.worker.take() {
        w.stop().await;
    }
    let store = t.app.store().clone();
    let before = store.snapshot().await.unwrap();
    for n in 1..100 {
        store.fail_write_step(n);
        let outcome = act().await;
        let steps = store.write_steps();
        store.clear_faults();
        match outcome {
            Err(e) => {
                assert_eq!(
                    store.snapshot().await.unwrap(),
                    before,
                    "write step {n} ({:?}) failed with {e}, yet something changed",
                    steps.last()
                );
            }
            Ok(_) => {
                assert!(n > 2, "the use case made fewer than two writes: {steps:?}");
                assert_eq!(steps.len(), (n - 1) as usize, "{steps:?}");
                assert_ne!(store.snapshot().await.unwrap(), before, "success changed nothing");
                return steps;
            }
        }
    }
    panic!("the use case never succeeded");
}

fn mail_jobs(steps: &[&str]) -> usize {
    steps.iter().filter(|s| **s == "enqueue_job").count()
}

async fn sign_up_new_structure(mut t: TestApp) {
    let app = t.app.clone();
    let steps = all_or_nothing(&mut t, || {
        app.sign_up(form("new@acme.example", SIRET_A, Some("ACME")), "ip")
    })
    .await;
    // User, structure, membership, default spaces, link, mail: one commit.
    for step in [
        "create_user",
        "create_structure",
        "create_membership",
        "subscribe_space",
        "create_one_time_token",
    ] {
        assert!(steps.contains(&step), "{step} missing from {steps:?}");
    }
    assert_eq!(mail_jobs(&steps), 1, "{steps:?}");
}

async fn sign_up_joining(mut t: TestApp) {
    t.manager("boss@acme.example", SIRET_A).await;
    let app = t.app.clone();
    let steps = all_or_nothing(&mut t, || {
        app.sign_up(form("join@acme.example", SIRET_A, Some("Nom saisi")), "ip")
    })
    .await;
    assert!(steps.contains(&"create_membership"), "{steps:?}");
    assert_eq!(mail_jobs(&steps), 1, "{steps:?}");
}

async fn approval(mut t: TestApp) {
    let (boss, s) = t.manager("boss@acme.example", SIRET_A).await;
    let out = t
        .app
        .sign_up(form("u@acme.example", SIRET_A, Some("Nom saisi")), "ip")
        .await
        .unwrap();
    let SignUpOutcome::AttachmentRequested { membership_id, .. } = out else {
        panic!("{out:?}")
    };
    let app = t.app.clone();
    let ids = [membership_id];
    let steps = all_or_nothing(&mut t, || app.decide_attachments(&boss, s, &ids, true)).await;
    assert!(
        steps.contains(&"decide_membership") && steps.contains(&"subscribe_space"),
        "{steps:?}"
    );
    assert_eq!(mail_jobs(&steps), 1, "{steps:?}");
    let m = t.app.members(&boss, s).await.unwrap();
    assert!(
        m.iter()
            .any(|m| m.id == membership_id && m.status == MembershipStatus::Approved)
    );
}

async fn detach(mut t: TestApp) {
    let (boss, s) = t.manager("boss@acme.example", SIRET_A).await;
    let (_, user) = t.member("u@acme.example", SIRET_A, &boss).await;
    let app = t.app.clone();
    let steps = all_or_nothing(&mut t, || app.detach_user(&boss, s, user)).await;
    // The membership, then each of the member's three default subscriptions.
    assert_eq!(
        steps.iter().filter(|s| **s == "unsubscribe_space").count(),
        3,
        "{steps:?}"
    );
    assert_eq!(mail_jobs(&steps), 1, "{steps:?}");
}

async fn main_manager_transfer(mut t: TestApp) {
    let (boss, s) = t.manager("boss@acme.example", SIRET_A).await;
    let (_, user) = t.member("u@acme.example", SIRET_A, &boss).await;
    let app = t.app.clone();
    let steps = all_or_nothing(&mut t, || app.transfer_main_manager(&boss, s, user)).await;
    assert_eq!(
        steps.iter().filter(|s| **s == "set_membership_role").count(),
        2,
        "{steps:?}"
    );
    assert_eq!(mail_jobs(&steps), 2, "{steps:?}");
    let roles: Vec<(facteur_domain::UserId, Role)> = t
        .app
        .members(&boss, s)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.status == MembershipStatus::Approved)
        .map(|m| (m.user_id, m.role))
        .collect();
    assert_eq!(
        roles.iter().filter(|(_, r)| *r == Role::MainManager).count(),
        1,
        "{roles:?}"
    );
    assert!(roles.contains(&(user, Role::MainManager)), "{roles:?}");
}

async fn rights_duplication(mut t: TestApp) {
    let (boss, s) = t.manager("boss@acme.example", SIRET_A).await;
    let (_, model) = t.member("model@acme.example", SIRET_A, &boss).await;
    t.app.open_space(&boss, s, Space::InvoicesIssued).await.unwrap();
    t.app
        .subscribe_space(&Actor::User(model), s, Space::InvoicesIssued, SpaceMode::Consultation)
        .await
        .unwrap();
    let (newcomer, _) = t.manager("new@other.example", SIRET_B).await;
    let Actor::User(new_id) = newcomer else { unreachable!() };
    let app = t.app.clone();
    let steps = all_or_nothing(&mut t, || app.duplicate_rights(&boss, model, new_id)).await;
    assert!(steps.contains(&"create_membership"), "{steps:?}");
    assert!(
        steps.iter().filter(|s| **s == "subscribe_space").count() >= 4,
        "{steps:?}"
    );
    assert_eq!(mail_jobs(&steps), 1, "{steps:?}");
}
