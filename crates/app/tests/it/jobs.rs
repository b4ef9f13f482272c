//! The job queue seen from the use cases: mail leaves after the commit, survives an SMTP outage
//! (retried with back-off on the app's clock), is given up after `max_attempts`; housekeeping
//! deletes expired sessions.

use facteur_app::App;
use time::Duration;

use crate::common::{PASSWORD, SIRET_A, TestApp, form, on_both};

on_both!(
    mail_waits_for_smtp_then_goes,
    mail_is_given_up_after_max_attempts,
    housekeeping_purges_sessions
);

/// An app over the same store whose SMTP server does not answer (nothing listens on port 1).
fn with_smtp_down(t: &TestApp, max_attempts: u32) -> App {
    let mut config = t.app.config().clone();
    config.smtp_url = Some("smtp://127.0.0.1:1".to_owned());
    config.jobs.max_attempts = max_attempts;
    App::from_store(config, t.app.store().clone(), t.clock.clone()).unwrap()
}

async fn stop_worker(t: &mut TestApp) {
    if let Some(w) = t.worker.take() {
        w.stop().await;
    }
}

async fn mail_waits_for_smtp_then_goes(mut t: TestApp) {
    stop_worker(&mut t).await;
    let down = with_smtp_down(&t, 5);
    // The sign-up does not depend on SMTP: it commits, its mail waits in the queue.
    down.sign_up(form("late@acme.example", SIRET_A, Some("ACME")), "ip")
        .await
        .unwrap();
    let run = down.run_due_jobs("w").await.unwrap();
    assert_eq!((run.done, run.retried, run.dead), (0, 1, 0));
    // Not due again before its back-off (30 s after the first failure).
    assert_eq!(down.run_due_jobs("w").await.unwrap().total(), 0);
    t.clock.advance(Duration::seconds(29));
    assert_eq!(down.run_due_jobs("w").await.unwrap().total(), 0);
    t.clock.advance(Duration::seconds(2));
    assert_eq!(down.run_due_jobs("w").await.unwrap().retried, 1);
    // Second back-off: 60 s. SMTP is back: the same mail goes, once.
    t.clock.advance(Duration::seconds(61));
    assert_eq!(t.app.run_due_jobs("w").await.unwrap().done, 1);
    let got = t.smtp.wait_for("late@acme.example", 1).await;
    assert!(got[0].link_containing("/activer/").is_some());
    assert_eq!(t.app.run_due_jobs("w").await.unwrap().total(), 0);
    assert_eq!(t.smtp.all().len(), 1);
    assert_eq!(down.job_totals().failed, 2);
}

async fn mail_is_given_up_after_max_attempts(mut t: TestApp) {
    stop_worker(&mut t).await;
    let down = with_smtp_down(&t, 2);
    down.sign_up(form("lost@acme.example", SIRET_A, Some("ACME")), "ip")
        .await
        .unwrap();
    assert_eq!(down.run_due_jobs("w").await.unwrap().retried, 1);
    t.clock.advance(Duration::minutes(1));
    assert_eq!(down.run_due_jobs("w").await.unwrap().dead, 1);
    let counts = down.job_counts().await.unwrap();
    assert_eq!((counts.due, counts.dead), (0, 1));
    assert_eq!(down.job_totals().dead, 1);
    t.clock.advance(Duration::days(1));
    t.app.run_due_jobs("w").await.unwrap();
    let mail = t.app.store().jobs_of_kind("mail").await.unwrap();
    assert_eq!(mail.len(), 1);
    assert_eq!(
        (mail[0].status, mail[0].attempts),
        (facteur_store::JobStatus::Dead, 2),
        "not run again"
    );
    assert!(
        mail[0].last_error.as_deref().is_some_and(|e| e.contains("smtp")),
        "{mail:?}"
    );
    assert!(t.smtp.all().is_empty());
}

async fn housekeeping_purges_sessions(t: TestApp) {
    let (user, _) = t.active_user("old@acme.example", SIRET_A, Some("ACME")).await;
    let session = t.app.login("old@acme.example", PASSWORD, "ip").await.unwrap();
    assert_eq!(session.user_id, user);
    t.drain_jobs().await;
    // Past the session's end and the housekeeping period: the worker purges it.
    t.clock.advance(Duration::hours(13));
    let store = t.app.store();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    // The worker polls every 20 ms in tests; housekeeping runs, then schedules the next one.
    loop {
        let next = store.jobs_of_kind("housekeeping").await.unwrap();
        if next.iter().any(|j| j.status == facteur_store::JobStatus::Done) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "housekeeping did not run: {next:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        store.purge_expired_sessions(t.clock.now()).await.unwrap(),
        0,
        "already purged"
    );
    let pending: Vec<_> = store
        .jobs_of_kind("housekeeping")
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.status == facteur_store::JobStatus::Pending)
        .collect();
    assert_eq!(pending.len(), 1, "the next run is scheduled: {pending:?}");
    assert_eq!(
        pending[0].run_at,
        facteur_store::normalize_time(t.clock.now() + Duration::hours(1))
    );
}
