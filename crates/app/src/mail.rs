//! Outgoing e-mail: templates (minijinja, French first then English) and delivery.
//!
//! With `FACTEUR_SMTP_URL` set, mail goes over SMTP with lettre (`smtp://host:port` plain,
//! `smtp://host:port?tls=required` STARTTLS, `smtps://…` implicit TLS, credentials in the URL).
//! Without it, each message is written as an `.eml` file under `DATA/outbox/` so a newcomer can finish
//! sign-up locally by opening the file (the use cases also log activation links at info level).
//!
//! Templates are compiled into the binary; a file of the same name under `DATA/mail-templates/`
//! overrides it at run time (read on every send, so edits apply without a restart).
//! Each template's first line is the subject; the rest is the plain-text body. Besides its own
//! context, every template gets `portal_url`, the portal's address ending in `/`: each mail ends
//! with a link to the page where the reader acts on it, named as the portal's menu names it.

use std::path::{Path, PathBuf};

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use serde::Serialize;

use crate::error::AppError;

/// The mail kinds the platform sends, each with a French and an English template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailKind {
    /// Sign-up: activation link (valid 60 minutes).
    Activation,
    /// Password reset link.
    PasswordReset,
    /// A manager decided an attachment request (context `approved`).
    AttachmentDecision,
    /// A manager attached the user directly, changed their role, or detached them.
    MembershipChanged,
    /// A manager decided a space subscription (context `approved`).
    SpaceSubscriptionDecision,
    /// A user asked to be attached: sent to the structure's managers.
    AttachmentRequested,
    /// Technical account created or reset: sent to the main manager.
    TechnicalAccount,
    /// Someone signed up with an address that already has an account: sent to that address
    /// (the sign-up page answers as for a new account, so it reveals nothing).
    AccountExists,
}

impl MailKind {
    fn name(self) -> &'static str {
        match self {
            Self::Activation => "activation",
            Self::PasswordReset => "password_reset",
            Self::AttachmentDecision => "attachment_decision",
            Self::MembershipChanged => "membership_changed",
            Self::SpaceSubscriptionDecision => "space_subscription_decision",
            Self::AttachmentRequested => "attachment_requested",
            Self::TechnicalAccount => "technical_account",
            Self::AccountExists => "account_exists",
        }
    }

    fn builtin(self, lang: &str) -> &'static str {
        match (self, lang) {
            (Self::Activation, "fr") => include_str!("../templates/mail/activation.fr.txt"),
            (Self::Activation, _) => include_str!("../templates/mail/activation.en.txt"),
            (Self::PasswordReset, "fr") => include_str!("../templates/mail/password_reset.fr.txt"),
            (Self::PasswordReset, _) => include_str!("../templates/mail/password_reset.en.txt"),
            (Self::AttachmentDecision, "fr") => {
                include_str!("../templates/mail/attachment_decision.fr.txt")
            }
            (Self::AttachmentDecision, _) => {
                include_str!("../templates/mail/attachment_decision.en.txt")
            }
            (Self::MembershipChanged, "fr") => {
                include_str!("../templates/mail/membership_changed.fr.txt")
            }
            (Self::MembershipChanged, _) => {
                include_str!("../templates/mail/membership_changed.en.txt")
            }
            (Self::SpaceSubscriptionDecision, "fr") => {
                include_str!("../templates/mail/space_subscription_decision.fr.txt")
            }
            (Self::SpaceSubscriptionDecision, _) => {
                include_str!("../templates/mail/space_subscription_decision.en.txt")
            }
            (Self::AttachmentRequested, "fr") => {
                include_str!("../templates/mail/attachment_requested.fr.txt")
            }
            (Self::AttachmentRequested, _) => {
                include_str!("../templates/mail/attachment_requested.en.txt")
            }
            (Self::TechnicalAccount, "fr") => {
                include_str!("../templates/mail/technical_account.fr.txt")
            }
            (Self::TechnicalAccount, _) => {
                include_str!("../templates/mail/technical_account.en.txt")
            }
            (Self::AccountExists, "fr") => include_str!("../templates/mail/account_exists.fr.txt"),
            (Self::AccountExists, _) => include_str!("../templates/mail/account_exists.en.txt"),
        }
    }
}

/// A rendered message, before delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedMail {
    pub subject: String,
    pub body: String,
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

/// Renders and delivers mail.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    override_dir: Option<PathBuf>,
    /// The portal's address with a trailing `/`, given to every template as `portal_url`.
    portal_url: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.transport {
            Transport::Smtp(_) => "smtp".to_owned(),
            Transport::Outbox(p) => format!("outbox {}", p.display()),
        };
        f.debug_struct("Mailer")
            .field("transport", &kind)
            .field("from", &self.from)
            .finish()
    }
}

impl Mailer {
    /// SMTP when `smtp_url` is given, else `.eml` files under `data_dir/outbox/`.
    pub fn new(smtp_url: Option<&str>, from: &str, data_dir: &Path) -> Result<Self, AppError> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| AppError::Mail(format!("invalid sender address {from:?}: {e}")))?;
        let transport = match smtp_url.filter(|u| !u.trim().is_empty()) {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| AppError::Mail(format!("invalid SMTP URL: {e}")))?
                    .build(),
            ),
            None => Transport::Outbox(data_dir.join("outbox")),
        };
        let override_dir = Some(data_dir.join("mail-templates"));
        Ok(Self {
            transport,
            from,
            override_dir,
            portal_url: String::new(),
        })
    }

    /// Sets the portal address every mail links to (`AppConfig::link("/")`).
    #[must_use]
    pub fn with_portal_url(mut self, url: impl Into<String>) -> Self {
        self.portal_url = url.into();
        self
    }

    /// True when mail is written to the outbox folder instead of being sent.
    pub fn is_outbox(&self) -> bool {
        matches!(self.transport, Transport::Outbox(_))
    }

    /// Renders one kind in both languages: French first, then English, in one body.
    pub fn render<C: Serialize>(&self, kind: MailKind, ctx: &C) -> Result<RenderedMail, AppError> {
        let fr = self.render_lang(kind, "fr", ctx)?;
        let en = self.render_lang(kind, "en", ctx)?;
        Ok(RenderedMail {
            subject: format!("{} / {}", fr.subject, en.subject),
            body: format!(
                "{}\n\n-- English version --\n\n{}\n",
                fr.body.trim_end(),
                en.body.trim_end()
            ),
        })
    }

    fn render_lang<C: Serialize>(&self, kind: MailKind, lang: &str, ctx: &C) -> Result<RenderedMail, AppError> {
        let file = format!("{}.{lang}.txt", kind.name());
        let custom = self
            .override_dir
            .as_ref()
            .and_then(|d| std::fs::read_to_string(d.join(&file)).ok());
        let source = custom.as_deref().unwrap_or_else(|| kind.builtin(lang));
        let env = minijinja::Environment::new();
        let ctx = minijinja::context! {
            portal_url => self.portal_url.as_str(),
            ..minijinja::Value::from(minijinja::value::Serde(ctx))
        };
        let text = env
            .render_str(source, ctx)
            .map_err(|e| AppError::Mail(format!("template {file}: {e}")))?;
        let (subject, body) = text.split_once('\n').unwrap_or((text.as_str(), ""));
        Ok(RenderedMail {
            subject: subject.trim().to_owned(),
            body: body.trim_start().to_owned(),
        })
    }

    /// Renders and delivers `kind` to `to`.
    pub async fn send<C: Serialize>(&self, to: &str, kind: MailKind, ctx: &C) -> Result<(), AppError> {
        let mail = self.render(kind, ctx)?;
        self.deliver(to, &mail).await
    }

    /// Delivers an already rendered message.
    pub async fn deliver(&self, to: &str, mail: &RenderedMail) -> Result<(), AppError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| AppError::Mail(format!("invalid recipient {to:?}: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| AppError::Mail(format!("build message: {e}")))?;
        match &self.transport {
            Transport::Smtp(t) => {
                t.send(message)
                    .await
                    .map_err(|e| AppError::Mail(format!("smtp: {e}")))?;
            }
            Transport::Outbox(dir) => {
                // The outbox holds live links (activation, reset): owner-only folder and files.
                facteur_store::private_fs::private_dir(dir)
                    .map_err(|e| AppError::Mail(format!("outbox {}: {e}", dir.display())))?;
                let id = AsyncFileTransport::<Tokio1Executor>::new(dir)
                    .send(message)
                    .await
                    .map_err(|e| AppError::Mail(format!("outbox: {e}")))?;
                let file = dir.join(format!("{id}.eml"));
                facteur_store::private_fs::private_file(&file)
                    .map_err(|e| AppError::Mail(format!("outbox {}: {e}", file.display())))?;
                tracing::info!(file = %file.display(), "mail written to outbox");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_kind_in_both_languages() {
        let dir = tempfile::tempdir().unwrap();
        let m = Mailer::new(None, "Facteur <noreply@facteur.test>", dir.path())
            .unwrap()
            .with_portal_url("https://facteur.example/");
        let ctx = serde_json::json!({
            "link": "http://x/activer/TOKEN", "structure": "ACME", "approved": true,
            "email": "a@b.fr", "role": "utilisateur", "space": "FACTURES_EMISES",
            "change": "attached", "login": "tech-1", "client_id": "cid", "valid_minutes": 60,
            "requester": "u@x.fr", "expires": "2027-01-01", "login_link": "http://x/login",
            "reset_link": "http://x/password/forgot",
        });
        for kind in [
            MailKind::Activation,
            MailKind::PasswordReset,
            MailKind::AttachmentDecision,
            MailKind::MembershipChanged,
            MailKind::SpaceSubscriptionDecision,
            MailKind::AttachmentRequested,
            MailKind::TechnicalAccount,
            MailKind::AccountExists,
        ] {
            let r = m.render(kind, &ctx).unwrap();
            assert!(r.subject.contains(" / "), "{kind:?}: {}", r.subject);
            // Both languages link to the portal; no raw code reaches the reader.
            let (fr, en) = r.body.split_once("-- English version --").unwrap();
            assert!(fr.contains("https://facteur.example/"), "{kind:?}: {fr}");
            assert!(en.contains("https://facteur.example/"), "{kind:?}: {en}");
            assert!(!r.body.contains("FACTURES_EMISES"), "{kind:?}: {}", r.body);
            assert!(r.body.contains("-- English version --"), "{kind:?}");
            assert!(!r.subject.is_empty());
        }
        let r = m.render(MailKind::Activation, &ctx).unwrap();
        assert!(r.body.contains("http://x/activer/TOKEN"));
        // Names as the portal shows them, dates as each language writes them.
        let r = m.render(MailKind::SpaceSubscriptionDecision, &ctx).unwrap();
        assert!(
            r.body.contains("Factures émises") && r.body.contains("Invoices issued"),
            "{}",
            r.body
        );
        let r = m.render(MailKind::TechnicalAccount, &ctx).unwrap();
        assert!(
            r.body.contains("01/01/2027") && r.body.contains("2027-01-01"),
            "{}",
            r.body
        );
        assert!(r.body.contains("« Comptes techniques »") && r.body.contains("\"Technical accounts\""));
        let r = m.render(MailKind::AttachmentRequested, &ctx).unwrap();
        assert!(r.body.contains("« Demandes de rattachement »"), "{}", r.body);
        assert!(r.body.contains("https://facteur.example/manage/requests"), "{}", r.body);
    }

    #[tokio::test]
    async fn outbox_writes_eml_and_override_applies() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("mail-templates")).unwrap();
        std::fs::write(
            dir.path().join("mail-templates/activation.fr.txt"),
            "Sujet perso\nLien : {{ link }}\n",
        )
        .unwrap();
        let m = Mailer::new(None, "noreply@facteur.test", dir.path()).unwrap();
        assert!(m.is_outbox());
        m.send(
            "a@b.fr",
            MailKind::Activation,
            &serde_json::json!({"link": "L1", "valid_minutes": 60}),
        )
        .await
        .unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox")).unwrap().collect();
        assert_eq!(files.len(), 1);
        let path = files[0].as_ref().unwrap().path();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir.path().join("outbox")), 0o700);
            assert_eq!(mode(&path), 0o600);
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("Subject: Sujet perso"), "{text}");
    }
}
