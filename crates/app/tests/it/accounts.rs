//! Sign-up, activation (link read from the real mail), login/logout, sessions, password reset,
//! rate limits, several structures per user.

use facteur_app::{Actor, AppError, SignUpOutcome};
use facteur_domain::{IdentifierKind, MembershipStatus, Role};
use time::Duration;

use crate::common::{PASSWORD, SIRET_A, SIRET_B, TestApp, form, on_both};

on_both!(
    signup_new_structure_then_activate_and_login,
    activation_link_expires_after_60_minutes,
    signup_on_existing_structure_requests_attachment,
    signup_errors,
    login_failures_and_rate_limit,
    sessions_expire_and_logout,
    password_reset,
    a_password_reset_lifts_the_accounts_lockout,
    what_the_store_writes_is_stamped_by_the_apps_clock,
    several_structures_and_switch,
    outbox_without_smtp,
);

async fn signup_new_structure_then_activate_and_login(t: TestApp) {
    let email = "alice@acme.example";
    let out = t
        .app
        .sign_up(form(email, SIRET_A, Some("ACME SARL")), "10.0.0.1")
        .await
        .unwrap();
    let SignUpOutcome::NewStructure { user_id, structure_id } = out else {
        panic!("{out:?}")
    };

    // Not yet active: the right password says so, a wrong one stays vague.
    assert!(matches!(
        t.app.login(email, PASSWORD, "10.0.0.1").await,
        Err(AppError::NotActivated)
    ));
    assert!(matches!(
        t.app.login(email, "wrong password!", "10.0.0.1").await,
        Err(AppError::Unauthenticated)
    ));

    let mails = t.smtp.wait_for(email, 1).await;
    let mail = &mails[0];
    assert!(
        mail.header("Subject").unwrap().contains("Activez votre compte"),
        "{:?}",
        mail.header("Subject")
    );
    assert!(mail.body().contains("60 minutes"), "{}", mail.body());
    assert!(mail.body().contains("English version"));
    let token = t.link_token(email, "/activer/", 1).await;
    assert_eq!(t.app.activate(&token).await.unwrap(), user_id);
    // A link works once.
    assert!(matches!(t.app.activate(&token).await, Err(AppError::TokenExpired)));
    assert!(matches!(
        t.app.activate("forged-token").await,
        Err(AppError::TokenExpired)
    ));

    let session = t
        .app
        .login("  ALICE@acme.example ", PASSWORD, "10.0.0.1")
        .await
        .unwrap();
    assert_eq!(session.user_id, user_id);
    assert_eq!(session.token.len(), 43);
    let actor = t.app.session_actor(&session.token).await.unwrap();
    assert_eq!(actor, Actor::User(user_id));
    assert_eq!(t.app.me(&actor).await.unwrap().email, email);
    let mine = t.app.my_memberships(&actor).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].structure_id, structure_id);
    assert_eq!(mine[0].role, Role::MainManager);
    assert_eq!(mine[0].status, MembershipStatus::Approved);
    assert_eq!(mine[0].structure_name, "ACME SARL");
    // The new structure is private and its creator manages it.
    let s = t.app.structure(&actor, structure_id).await.unwrap();
    assert_eq!(s.structure.identifier.value(), SIRET_A);
}

async fn activation_link_expires_after_60_minutes(t: TestApp) {
    let email = "late@acme.example";
    t.app
        .sign_up(form(email, SIRET_A, Some("ACME")), "10.0.0.1")
        .await
        .unwrap();
    let first = t.link_token(email, "/activer/", 1).await;
    // 61 minutes later the link is dead (the 59-minute case is proved on a second account below).
    t.clock.advance(Duration::minutes(61));
    assert!(matches!(t.app.activate(&first).await, Err(AppError::TokenExpired)));
    // Resend: a new link works, the old one stays dead; unknown addresses answer Ok without mail.
    t.app.resend_activation(email, "10.0.0.1").await.unwrap();
    t.app
        .resend_activation("nobody@acme.example", "10.0.0.1")
        .await
        .unwrap();
    let second = t.link_token(email, "/activer/", 2).await;
    assert_ne!(first, second);
    assert!(matches!(t.app.activate(&first).await, Err(AppError::TokenExpired)));
    t.app.activate(&second).await.unwrap();
    assert!(t.smtp.to("nobody@acme.example").is_empty());
    // Once active, resend sends nothing more.
    t.app.resend_activation(email, "10.0.0.1").await.unwrap();
    assert_eq!(t.smtp.to(email).len(), 2);

    // A link used at 59 minutes works.
    let other = "ontime@acme.example";
    t.app
        .sign_up(form(other, SIRET_B, Some("Other")), "10.0.0.1")
        .await
        .unwrap();
    let tok = t.link_token(other, "/activer/", 1).await;
    t.clock.advance(Duration::minutes(59));
    t.app.activate(&tok).await.unwrap();
}

async fn signup_on_existing_structure_requests_attachment(t: TestApp) {
    let (manager, structure) = t.manager("boss@acme.example", SIRET_A).await;
    let out = t
        .app
        .sign_up(form("bob@acme.example", SIRET_A, Some("Nom saisi")), "10.0.0.2")
        .await
        .unwrap();
    let SignUpOutcome::AttachmentRequested {
        user_id,
        structure_id,
        membership_id,
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!(structure_id, structure);
    // Managers hear of the request once the requester proved their address.
    assert!(
        t.smtp
            .to("boss@acme.example")
            .iter()
            .all(|m| !m.body().contains("bob@acme.example"))
    );
    let token = t.link_token("bob@acme.example", "/activer/", 1).await;
    t.app.activate(&token).await.unwrap();
    let boss_mails = t.smtp.wait_for("boss@acme.example", 2).await;
    assert!(boss_mails.last().unwrap().body().contains("bob@acme.example"));

    let pending = t.app.pending_attachments(&manager, structure).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, membership_id);
    assert_eq!(pending[0].user_email, "bob@acme.example");
    let bob = Actor::User(user_id);
    // Pending: bob may not work in the structure yet.
    assert!(matches!(
        t.app.switch_structure(&bob, structure).await,
        Err(AppError::NotFound)
    ));
    assert_eq!(
        t.app
            .decide_attachments(&manager, structure, &[membership_id], true)
            .await
            .unwrap(),
        1
    );
    let mails = t.smtp.wait_for("bob@acme.example", 2).await;
    assert!(
        mails[1].header("Subject").unwrap().contains("accept"),
        "{:?}",
        mails[1].header("Subject")
    );
    assert_eq!(
        t.app.switch_structure(&bob, structure).await.unwrap().role,
        Role::SimpleUser
    );
    // Deciding again is refused: the request is no longer pending.
    assert!(matches!(
        t.app
            .decide_attachments(&manager, structure, &[membership_id], false)
            .await,
        Err(AppError::NotFound)
    ));
    // Audit: who decided what.
    let log = t.app.audit_log(&manager, structure, 100).await.unwrap();
    assert!(log.iter().any(|e| e.action == "membership.decide"
        && e.actor
            == match manager {
                Actor::User(u) => facteur_app::AuditActor::User(u),
                _ => unreachable!(),
            }));
}

async fn signup_errors(t: TestApp) {
    let bad = |r: Result<_, AppError>, field: &str| match r {
        Err(AppError::Invalid { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected invalid {field}, got {other:?}"),
    };
    bad(
        t.app
            .sign_up(form("x@acme.example", "51234567900018", Some("X")), "k")
            .await,
        "identifier",
    );
    bad(
        t.app.sign_up(form("not-an-email", SIRET_A, Some("X")), "k").await,
        "email",
    );
    let mut short = form("x@acme.example", SIRET_A, Some("X"));
    short.password = "short".to_owned();
    bad(t.app.sign_up(short, "k").await, "password");
    bad(
        t.app.sign_up(form("x@acme.example", SIRET_A, None), "k").await,
        "structure_name",
    );
    let mut other_kind = form("x@acme.example", "DE123456789", Some("Gmbh"));
    other_kind.identifier_kind = Some(IdentifierKind::EuOutsideFrance);
    t.app.sign_up(other_kind, "k").await.unwrap();
    // Same address again, any case: nothing is created, the owner is told (the web layer
    // answers as for a new account, so the address is not revealed).
    assert!(matches!(
        t.app.sign_up(form("X@ACME.example", SIRET_B, Some("Y")), "k").await,
        Ok(SignUpOutcome::EmailAlreadyRegistered)
    ));
    let query = facteur_app::DirectoryQuery {
        identifier: Some(SIRET_B.to_owned()),
        scope: facteur_app::DirectoryScope::Everything,
        ..Default::default()
    };
    let page = facteur_app::PageRequest::new(1, 10);
    let op = facteur_app::Actor::Operator;
    assert_eq!(t.app.search_directory(Some(&op), &query, page).await.unwrap().total, 0);
    // Nothing was created by the refused attempts: the activation mail, then the notice.
    t.drain_jobs().await;
    let mails = t.smtp.all();
    assert_eq!(mails.len(), 2);
    assert!(mails[1].body().contains("/password/forgot"), "{}", mails[1].body());
}

async fn login_failures_and_rate_limit(t: TestApp) {
    let email = "carol@acme.example";
    t.active_user(email, SIRET_A, Some("ACME")).await;
    assert!(matches!(
        t.app.login("ghost@acme.example", PASSWORD, "ip1").await,
        Err(AppError::Unauthenticated)
    ));
    assert!(matches!(
        t.app.login("garbage", PASSWORD, "ip1").await,
        Err(AppError::Unauthenticated)
    ));
    for _ in 0..3 {
        assert!(matches!(
            t.app.login(email, "wrong password!", "ip1").await,
            Err(AppError::Unauthenticated)
        ));
    }
    // Limit reached for this e-mail (3 in the test config): even the right password waits.
    match t.app.login(email, PASSWORD, "ip2").await {
        Err(AppError::RateLimited { retry_after_secs }) => assert!(retry_after_secs > 0 && retry_after_secs <= 900),
        other => panic!("{other:?}"),
    }
    t.clock.advance(Duration::minutes(16));
    t.app.login(email, PASSWORD, "ip2").await.unwrap();
}

/// Whoever locked an account out by failing its password, its owner gets in again at once by
/// resetting the password (the link proves the address).
async fn a_password_reset_lifts_the_accounts_lockout(t: TestApp) {
    let email = "erin@acme.example";
    t.active_user(email, SIRET_A, Some("ACME")).await;
    for _ in 0..3 {
        let _ = t.app.login(email, "wrong password!", "attacker").await;
    }
    assert!(matches!(
        t.app.login(email, PASSWORD, "owner").await,
        Err(AppError::RateLimited { .. })
    ));
    t.app.request_password_reset(email, "owner").await.unwrap();
    let token = t.link_token(email, "/mot-de-passe/reinitialiser/", 2).await;
    t.app.reset_password(&token, "a brand new passphrase").await.unwrap();
    t.app.login(email, "a brand new passphrase", "owner").await.unwrap();
}

/// The app hands its clock to the store: a write made after moving the clock carries the moved
/// time (the audit log too), so deadlines can be tested by moving time.
async fn what_the_store_writes_is_stamped_by_the_apps_clock(t: TestApp) {
    t.clock.advance(Duration::days(400));
    let (boss, s) = t.manager("clock@acme.example", SIRET_A).await;
    let me = t.app.me(&boss).await.unwrap();
    assert_eq!(me.created_at, t.clock.now());
    let log = t.app.audit_log(&boss, s, 100).await.unwrap();
    assert!(!log.is_empty());
    assert!(log.iter().all(|l| l.at == t.clock.now()), "{log:?}");
}

async fn sessions_expire_and_logout(t: TestApp) {
    let email = "dan@acme.example";
    t.active_user(email, SIRET_A, Some("ACME")).await;
    let s1 = t.app.login(email, PASSWORD, "ip").await.unwrap();
    let s2 = t.app.login(email, PASSWORD, "ip").await.unwrap();
    assert_ne!(s1.token, s2.token);
    t.app.logout(&s1.token).await.unwrap();
    assert!(matches!(
        t.app.session_actor(&s1.token).await,
        Err(AppError::Unauthenticated)
    ));
    t.app.session_actor(&s2.token).await.unwrap();
    t.clock.advance(t.app.config().session_ttl + Duration::seconds(1));
    assert!(matches!(
        t.app.session_actor(&s2.token).await,
        Err(AppError::Unauthenticated)
    ));
    assert!(matches!(
        t.app.session_actor("nonsense").await,
        Err(AppError::Unauthenticated)
    ));
}

async fn password_reset(t: TestApp) {
    let email = "erin@acme.example";
    t.active_user(email, SIRET_A, Some("ACME")).await;
    let old = t.app.login(email, PASSWORD, "ip").await.unwrap();
    t.app.request_password_reset(email, "ip").await.unwrap();
    t.app.request_password_reset("ghost@acme.example", "ip").await.unwrap();
    let token = t.link_token(email, "/mot-de-passe/reinitialiser/", 2).await;
    // Looking at the link does not spend it; a refused password does not either.
    assert!(t.app.password_reset_usable(&token).await.unwrap());
    assert!(t.app.password_reset_usable(&token).await.unwrap());
    assert!(!t.app.password_reset_usable("nonsense").await.unwrap());
    assert!(matches!(
        t.app.reset_password(&token, "short").await,
        Err(AppError::Invalid { .. })
    ));
    assert!(t.app.password_reset_usable(&token).await.unwrap());
    t.app.reset_password(&token, "a brand new passphrase").await.unwrap();
    assert!(!t.app.password_reset_usable(&token).await.unwrap(), "spent");
    assert!(matches!(
        t.app.reset_password(&token, "another new passphrase").await,
        Err(AppError::TokenExpired)
    ));
    // Every session closed; old password refused, new one accepted.
    assert!(matches!(
        t.app.session_actor(&old.token).await,
        Err(AppError::Unauthenticated)
    ));
    assert!(matches!(
        t.app.login(email, PASSWORD, "ip").await,
        Err(AppError::Unauthenticated)
    ));
    t.app.login(email, "a brand new passphrase", "ip").await.unwrap();
    assert!(t.smtp.to("ghost@acme.example").is_empty());
}

async fn several_structures_and_switch(t: TestApp) {
    let (boss_a, a) = t.manager("boss@a.example", SIRET_A).await;
    let (_boss_b, b) = t.manager("boss@b.example", SIRET_B).await;
    let (user, _) = t.member("multi@a.example", SIRET_A, &boss_a).await;
    // Ask to join B too, from the logged-in account.
    let req = t
        .app
        .request_attachment(&user, IdentifierKind::Siret, SIRET_B)
        .await
        .unwrap();
    assert_eq!(req.status, MembershipStatus::Pending);
    assert!(matches!(
        t.app.request_attachment(&user, IdentifierKind::Siret, SIRET_B).await,
        Err(AppError::Conflict(facteur_app::Conflict::AlreadyRequested))
    ));
    assert!(matches!(
        t.app
            .request_attachment(&user, IdentifierKind::Siret, "21750001600019")
            .await,
        Err(AppError::NotFound)
    ));
    let boss_b = Actor::User(t.app.my_memberships(&_boss_b).await.unwrap()[0].user_id);
    t.app.decide_attachments(&boss_b, b, &[req.id], true).await.unwrap();
    let mine = t.app.my_memberships(&user).await.unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(t.app.switch_structure(&user, a).await.unwrap().structure_id, a);
    assert_eq!(t.app.switch_structure(&user, b).await.unwrap().structure_id, b);
}

/// Without SMTP the mail lands in `DATA/outbox/*.eml` and the link in it activates the account.
async fn outbox_without_smtp(mut t: TestApp) {
    // This test's app delivers the mail, not the SMTP one's worker.
    if let Some(w) = t.worker.take() {
        w.stop().await;
    }
    let mut config = t.app.config().clone();
    config.smtp_url = None;
    let app = facteur_app::App::from_store(config, t.app.store().clone(), t.clock.clone()).unwrap();
    app.sign_up(form("local@acme.example", SIRET_A, Some("ACME")), "ip")
        .await
        .unwrap();
    assert_eq!(app.run_due_jobs("test").await.unwrap().done, 1);
    let outbox = t.dir.path().join("outbox");
    let files: Vec<_> = std::fs::read_dir(&outbox).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].extension().is_some_and(|e| e == "eml"));
    let raw = std::fs::read_to_string(&files[0])
        .unwrap()
        .replace('\n', "\r\n")
        .replace("\r\r\n", "\r\n");
    let mail = crate::smtp::ReceivedMail {
        from: String::new(),
        to: vec![],
        raw,
    };
    let link = mail.link_containing("/activer/").expect("activation link in the .eml");
    app.activate(link.rsplit('/').next().unwrap()).await.unwrap();
    assert!(t.smtp.all().is_empty());
}

/// A reset link is a password: it never reaches the logs at `info` (where the activation link of
/// a local setup without SMTP does, so a newcomer can finish sign-up).
#[tokio::test]
async fn reset_links_are_not_logged_at_info() {
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let config = facteur_app::AppConfig::new(dir.path());
    let app = facteur_app::App::open(config).await.unwrap();
    let logs = Captured::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    app.sign_up(form("logs@acme.example", SIRET_A, Some("ACME")), "ip")
        .await
        .unwrap();
    app.request_password_reset("logs@acme.example", "ip").await.unwrap();
    // The worker writes both mails (and logs the outbox files) after the commits.
    assert_eq!(app.run_due_jobs("test").await.unwrap().done, 2);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("/activer/"), "the activation link is logged: {text}");
    assert!(text.contains("mail written to outbox"), "{text}");
    assert!(!text.contains("/mot-de-passe/reinitialiser/"), "{text}");
}
