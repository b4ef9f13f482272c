//! Test harness: a fresh store per test, an App over it with a manual clock, and a local SMTP
//! listener that receives the real mail.

use facteur_app::{Actor, App, AppConfig, Clock, Limit, RateLimits, SignUp, SignUpOutcome, WorkerHandle};
use facteur_domain::{IdentifierKind, StructureId, UserId};
use facteur_store::Backend;
use facteur_store::testing::TestStore;
use time::{Duration, OffsetDateTime};

use crate::smtp::TestSmtp;

/// Runs `$name(TestApp)` once per backend (`$name::sqlite`, `$name::postgres`), through the
/// store's one scenario macro with this harness's set-up.
macro_rules! on_both {
    ($($name:ident),+ $(,)?) => {
        facteur_store::scenarios!(crate::common::spawn => $($name),+);
    };
}
pub(crate) use on_both;

pub const PASSWORD: &str = "correct horse battery";
pub const BASE_URL: &str = "http://facteur.test";

pub struct TestApp {
    pub app: App,
    pub smtp: TestSmtp,
    pub clock: Clock,
    pub dir: tempfile::TempDir,
    /// The job worker that sends the mail (stopped when the test ends).
    pub worker: Option<WorkerHandle>,
    _store: TestStore,
}

/// Small limits so rate-limit tests stay short.
pub fn test_limits() -> RateLimits {
    RateLimits {
        login_per_email: Limit {
            max: 3,
            window: Duration::minutes(15),
        },
        login_per_client: Limit {
            max: 50,
            window: Duration::minutes(15),
        },
        signup_per_client: Limit {
            max: 1000,
            window: Duration::hours(1),
        },
    }
}

pub async fn spawn(backend: Backend) -> Option<TestApp> {
    let store = TestStore::new(backend).await?;
    let smtp = TestSmtp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = AppConfig::new(dir.path());
    config.database_url = store.url.clone();
    config.base_url = BASE_URL.to_owned();
    config.smtp_url = Some(smtp.url());
    config.smtp_from = "Facteur <noreply@facteur.test>".to_owned();
    config.rate_limits = test_limits();
    config.jobs.poll_interval = std::time::Duration::from_millis(20);
    let clock = Clock::manual(OffsetDateTime::now_utc());
    let app = App::from_store(config, store.store.clone(), clock.clone()).unwrap();
    let worker = Some(app.spawn_worker());
    Some(TestApp {
        app,
        smtp,
        clock,
        dir,
        worker,
        _store: store,
    })
}

/// Valid SIRETs (Luhn) for tests (`21750001600019` is used where a third one is needed).
pub const SIRET_A: &str = "51234567900017";
pub const SIRET_B: &str = "81234567600017";

pub fn form(email: &str, siret: &str, name: Option<&str>) -> SignUp {
    SignUp {
        email: email.to_owned(),
        password: PASSWORD.to_owned(),
        identifier_kind: Some(IdentifierKind::Siret),
        identifier: siret.to_owned(),
        structure_name: name.map(str::to_owned),
    }
}

impl TestApp {
    /// Waits until the worker has run every job due now (mail sent or given up).
    pub async fn drain_jobs(&self) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let c = self.app.job_counts().await.unwrap();
            if c.due == 0 && c.running == 0 {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "jobs still due: {c:?}");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// The token at the end of the newest link containing `path` mailed to `email`.
    pub async fn link_token(&self, email: &str, path: &str, nth: usize) -> String {
        let mails = self.smtp.wait_for(email, nth).await;
        let link = mails
            .iter()
            .rev()
            .find_map(|m| m.link_containing(path))
            .unwrap_or_else(|| {
                panic!(
                    "no link {path} in mail to {email}: {:?}",
                    mails.last().map(|m| m.body())
                )
            });
        assert!(link.starts_with(&format!("{BASE_URL}{path}")), "{link}");
        link.rsplit('/').next().unwrap().to_owned()
    }

    /// Signs up, reads the activation mail, activates: returns the user and structure ids.
    pub async fn active_user(&self, email: &str, siret: &str, name: Option<&str>) -> (UserId, StructureId) {
        let before = self.smtp.to(email).len();
        let out = self.app.sign_up(form(email, siret, name), "127.0.0.1").await.unwrap();
        let token = self.link_token(email, "/activer/", before + 1).await;
        let (user, structure) = (out.user_id().unwrap(), out.structure_id().unwrap());
        assert_eq!(self.app.activate(&token).await.unwrap(), user);
        (user, structure)
    }

    /// A main manager of a new private structure.
    pub async fn manager(&self, email: &str, siret: &str) -> (Actor, StructureId) {
        let (u, s) = self.active_user(email, siret, Some("Entreprise de test")).await;
        (Actor::User(u), s)
    }

    /// An approved simple user of an existing structure (request approved by `manager`).
    pub async fn member(&self, email: &str, siret: &str, manager: &Actor) -> (Actor, UserId) {
        let out = self
            .app
            .sign_up(form(email, siret, Some("Nom saisi")), "127.0.0.1")
            .await
            .unwrap();
        let SignUpOutcome::AttachmentRequested {
            membership_id,
            structure_id,
            user_id,
        } = out
        else {
            panic!("expected a request, got {out:?}");
        };
        let token = self.link_token(email, "/activer/", 1).await;
        self.app.activate(&token).await.unwrap();
        assert_eq!(
            self.app
                .decide_attachments(manager, structure_id, &[membership_id], true)
                .await
                .unwrap(),
            1
        );
        (Actor::User(user_id), user_id)
    }
}
