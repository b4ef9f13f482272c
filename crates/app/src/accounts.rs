//! Account journeys: sign-up, activation, login/logout, password reset, "my structures".

use facteur_domain::{
    Email, IdentifierKind, MembershipStatus, Role, Space, Structure, StructureId, StructureIdentifier, StructureKind,
    TokenPurpose, UserId, UserStatus,
};
use facteur_store::{NewUser, StoreError, Tx};
use serde_json::json;

use crate::access::store_actor;
use crate::secrets::{burn_verify, check_password_policy, hash_password, new_token, token_digest, verify_password};
use crate::{
    Actor, App, AppError, AppResult, LoginSession, MailKind, MembershipView, Problem, SignUpOutcome, UserView, links,
};

/// Sign-up form. A new identifier creates a private structure (named `structure_name`) whose main
/// manager is the user; a known identifier creates an attachment request to that structure.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignUp {
    pub email: String,
    pub password: String,
    /// `None` means SIRET.
    pub identifier_kind: Option<IdentifierKind>,
    pub identifier: String,
    /// Company name, required only when the structure is new.
    pub structure_name: Option<String>,
}

/// Why one sign-up attempt did not go through (each leaves nothing behind).
enum SignUpFailure {
    EmailTaken,
    StructureTaken,
    App(AppError),
}

impl From<AppError> for SignUpFailure {
    fn from(e: AppError) -> Self {
        SignUpFailure::App(e)
    }
}

impl From<StoreError> for SignUpFailure {
    fn from(e: StoreError) -> Self {
        SignUpFailure::App(e.into())
    }
}

/// The rate-limit key of failed logins for an address (as typed: trimmed, lower case).
fn login_email_key(email: &str) -> String {
    format!("login:email:{}", email.trim().to_lowercase())
}

pub(crate) fn parse_email(input: &str) -> AppResult<Email> {
    Email::parse(input).map_err(|e| AppError::domain_as("email", e))
}

pub(crate) fn parse_identifier(kind: Option<IdentifierKind>, value: &str) -> AppResult<StructureIdentifier> {
    StructureIdentifier::parse(kind.unwrap_or(IdentifierKind::Siret), value)
        .map_err(|e| AppError::domain_as("identifier", e))
}

impl App {
    fn rate_check(&self, key: &str, limit: crate::Limit) -> AppResult<()> {
        match self.inner.limiter.check(key, limit, self.inner.clock.now()) {
            Some(retry_after_secs) => Err(AppError::RateLimited { retry_after_secs }),
            None => Ok(()),
        }
    }

    /// Creates an inactive account and mails an activation link valid `activation_ttl` (60 min).
    /// `client_key` identifies the caller for rate limiting (the web layer passes the IP address).
    ///
    /// Sign-up reveals neither which addresses have accounts nor which identifiers have
    /// structures: the company name is always required (a known identifier ignores it and asks
    /// to join the structure instead), and an address that already has an account creates
    /// nothing but a mail to its owner ([`SignUpOutcome::EmailAlreadyRegistered`]), after the
    /// same password hashing as a real sign-up. The web layer answers every outcome alike.
    #[tracing::instrument(skip_all)]
    pub async fn sign_up(&self, form: SignUp, client_key: &str) -> AppResult<SignUpOutcome> {
        let limits = self.inner.config.rate_limits;
        let client = format!("signup:client:{client_key}");
        self.rate_check(&client, limits.signup_per_client)?;
        self.inner
            .limiter
            .record(&client, limits.signup_per_client, self.inner.clock.now());

        let email = parse_email(&form.email)?;
        check_password_policy(&form.password)?;
        let identifier = parse_identifier(form.identifier_kind, &form.identifier)?;
        let name = form.structure_name.as_deref().map(str::trim).unwrap_or_default();
        if name.is_empty() {
            return Err(AppError::invalid("structure_name", Problem::Missing));
        }
        let candidate = Structure::new(identifier.clone(), StructureKind::Private, name)
            .map_err(|e| AppError::domain_as("structure_name", e))?;
        let hash = hash_password(&form.password).await?;
        if self.db().find_user_by_email(&email).await?.is_some() {
            self.tell_account_exists(&email).await;
            return Ok(SignUpOutcome::EmailAlreadyRegistered);
        }
        let new_user = NewUser {
            email: email.clone(),
            password_hash: Some(hash),
            first_name: String::new(),
            last_name: String::new(),
            phone: None,
            status: UserStatus::PendingActivation,
        };
        // Two sign-ups creating the same new structure at once: the second one's transaction fails
        // on the identifier's unique constraint and changes nothing; run once more and it finds
        // the structure and asks to join it.
        for _ in 0..2 {
            match self.sign_up_once(&new_user, &identifier, &candidate).await {
                Ok(outcome) => return Ok(outcome),
                Err(SignUpFailure::EmailTaken) => {
                    self.tell_account_exists(&email).await;
                    return Ok(SignUpOutcome::EmailAlreadyRegistered);
                }
                Err(SignUpFailure::StructureTaken) => {}
                Err(SignUpFailure::App(e)) => return Err(e),
            }
        }
        Err(AppError::Internal(
            "sign-up: structure created concurrently twice".to_owned(),
        ))
    }

    /// Sign-up in one transaction: the user, then either a new structure with the user as its main
    /// manager (membership, default spaces) or a request to join the existing one, the activation
    /// link and its mail. All of it or nothing.
    async fn sign_up_once(
        &self,
        new_user: &NewUser,
        identifier: &StructureIdentifier,
        candidate: &Structure,
    ) -> Result<SignUpOutcome, SignUpFailure> {
        let mut tx = self.db().begin().await?;
        let user = match tx.create_user(new_user, facteur_store::Actor::System).await {
            Err(StoreError::Conflict(_)) => return Err(SignUpFailure::EmailTaken),
            other => other?,
        };
        let actor = facteur_store::Actor::User(user.id);
        let (outcome, structure, pending) = match tx.find_structure_by_identifier(identifier).await? {
            Some(existing) => {
                let m = tx
                    .create_membership(user.id, existing.id, Role::SimpleUser, MembershipStatus::Pending, actor)
                    .await?;
                let outcome = SignUpOutcome::AttachmentRequested {
                    user_id: user.id,
                    structure_id: existing.id,
                    membership_id: m.id,
                };
                (outcome, existing.structure.display_name().to_owned(), true)
            }
            None => {
                let rec = match tx.create_structure(candidate, actor).await {
                    Err(StoreError::Conflict(_)) => return Err(SignUpFailure::StructureTaken),
                    other => other?,
                };
                tx.create_membership(user.id, rec.id, Role::MainManager, MembershipStatus::Approved, actor)
                    .await?;
                self.subscribe_defaults(&mut tx, user.id, rec.id, Role::MainManager, actor)
                    .await?;
                let outcome = SignUpOutcome::NewStructure {
                    user_id: user.id,
                    structure_id: rec.id,
                };
                (outcome, candidate.display_name().to_owned(), false)
            }
        };
        // The mail, not the page, says which way it went (the page is the same for every outcome).
        let about = json!({ "structure": structure, "pending": pending });
        self.queue_activation(&mut tx, user.id, new_user.email.as_str(), &about)
            .await?;
        self.commit(tx).await?;
        Ok(outcome)
    }

    /// Tells the owner of `email` that someone tried to sign up with it, with the way in.
    async fn tell_account_exists(&self, email: &Email) {
        let config = &self.inner.config;
        self.notify(
            email.as_str(),
            MailKind::AccountExists,
            &json!({
                "email": email.as_str(),
                "login_link": config.link(links::LOGIN),
                "reset_link": config.link(links::PASSWORD_FORGOT),
            }),
        )
        .await;
    }

    /// Subscribes a member, in `tx`, to the default spaces of their role that are opened
    /// (spaces not opened or already subscribed are skipped).
    pub(crate) async fn subscribe_defaults(
        &self,
        tx: &mut Tx,
        user: UserId,
        structure: StructureId,
        role: Role,
        actor: facteur_store::Actor,
    ) -> AppResult<()> {
        for space in Space::subscribed_by_default(role) {
            let r = tx
                .subscribe_space(
                    user,
                    structure,
                    space,
                    facteur_domain::SpaceMode::Modification,
                    facteur_domain::SubscriptionStatus::Approved,
                    actor,
                )
                .await;
            match r {
                Ok(_) | Err(StoreError::Conflict(_) | StoreError::Refused(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Creates an activation link in `tx` and queues its mail; `about` may add `structure` (its
    /// name) and `pending` (true when the user asked to join an existing structure) for the mail
    /// to say what will happen.
    async fn queue_activation(
        &self,
        tx: &mut Tx,
        user: UserId,
        email: &str,
        about: &serde_json::Value,
    ) -> AppResult<()> {
        let token = new_token();
        let ttl = self.inner.config.activation_ttl;
        let expires = self.inner.clock.now() + ttl;
        tx.create_one_time_token(user, TokenPurpose::Activation, &token_digest(&token), expires)
            .await?;
        let link = self.inner.config.link(&format!("{}{token}", links::ACTIVATION));
        if self.inner.mailer.is_outbox() {
            tracing::info!(%email, %link, "activation link (no SMTP configured: mail written to the outbox)");
        }
        let ctx = json!({
            "email": email, "link": link, "valid_minutes": ttl.whole_minutes(),
            "structure": about.get("structure"), "pending": about.get("pending"),
        });
        self.queue_mail(tx, email, MailKind::Activation, &ctx).await
    }

    /// Follows an activation link: activates the account and tells the managers of structures the
    /// user asked to join. Expired, reused or unknown links give [`AppError::TokenExpired`].
    #[tracing::instrument(skip_all)]
    pub async fn activate(&self, token: &str) -> AppResult<UserId> {
        let now = self.inner.clock.now();
        let mut tx = self.db().begin().await?;
        let user = tx
            .consume_one_time_token(TokenPurpose::Activation, &token_digest(token.trim()), now)
            .await?
            .ok_or(AppError::TokenExpired)?;
        let record = self.db().user(user).await?.ok_or(AppError::NotFound)?;
        if record.status == UserStatus::PendingActivation {
            tx.set_user_status(user, UserStatus::Active, facteur_store::Actor::User(user))
                .await?;
            for m in self.db().memberships_of_user(user).await? {
                if m.status == MembershipStatus::Pending {
                    self.tell_managers_of_request(&mut tx, m.structure_id, record.email.as_str())
                        .await?;
                }
            }
        }
        self.commit(tx).await?;
        Ok(user)
    }

    /// Queues, in `tx`, a mail to each manager of `structure` saying `requester` asks to join.
    pub(crate) async fn tell_managers_of_request(
        &self,
        tx: &mut Tx,
        structure: StructureId,
        requester: &str,
    ) -> AppResult<()> {
        let s = self.load_structure(structure).await?;
        let ctx = json!({ "structure": s.structure.display_name(), "requester": requester });
        for to in self.manager_emails(structure).await? {
            self.queue_mail(tx, &to, MailKind::AttachmentRequested, &ctx).await?;
        }
        Ok(())
    }

    /// Sends a fresh activation link if `email` belongs to an account not yet active. Answers `Ok`
    /// for unknown addresses too, so the form does not reveal which addresses have accounts.
    #[tracing::instrument(skip_all)]
    pub async fn resend_activation(&self, email: &str, client_key: &str) -> AppResult<()> {
        let limits = self.inner.config.rate_limits;
        let client = format!("signup:client:{client_key}");
        self.rate_check(&client, limits.signup_per_client)?;
        self.inner
            .limiter
            .record(&client, limits.signup_per_client, self.inner.clock.now());
        let email = parse_email(email)?;
        if let Some(u) = self.db().find_user_by_email(&email).await?
            && u.status == UserStatus::PendingActivation
        {
            let mut tx = self.db().begin().await?;
            self.queue_activation(&mut tx, u.id, email.as_str(), &json!({})).await?;
            self.commit(tx).await?;
        }
        Ok(())
    }

    /// Checks e-mail + password and opens a session. Wrong credentials and unknown e-mails give the
    /// same [`AppError::Unauthenticated`]; a right password on an account not yet activated gives
    /// `NotActivated`; too many failures per e-mail or per client give `RateLimited`.
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, email: &str, password: &str, client_key: &str) -> AppResult<LoginSession> {
        let limits = self.inner.config.rate_limits;
        let now = self.inner.clock.now();
        let email_key = login_email_key(email);
        let client = format!("login:client:{client_key}");
        self.rate_check(&email_key, limits.login_per_email)?;
        self.rate_check(&client, limits.login_per_client)?;
        let fail = || {
            self.inner.limiter.record(&email_key, limits.login_per_email, now);
            self.inner.limiter.record(&client, limits.login_per_client, now);
            AppError::Unauthenticated
        };
        let user = match Email::parse(email) {
            Ok(e) => self.db().find_user_by_email(&e).await?,
            Err(_) => None,
        };
        let Some(user) = user else {
            burn_verify(password).await;
            return Err(fail());
        };
        let ok = match &user.password_hash {
            Some(h) => verify_password(password, h).await?,
            None => {
                burn_verify(password).await;
                false
            }
        };
        if !ok {
            return Err(fail());
        }
        match user.status {
            UserStatus::Active => {}
            UserStatus::PendingActivation => return Err(AppError::NotActivated),
            _ => return Err(fail()),
        }
        self.inner.limiter.clear(&email_key);
        let token = new_token();
        let expires_at = now + self.inner.config.session_ttl;
        let session = self
            .db()
            .create_session(user.id, &token_digest(&token), expires_at)
            .await?;
        self.db().record_login(user.id).await?;
        Ok(LoginSession {
            token,
            user_id: user.id,
            expires_at: session.expires_at,
        })
    }

    /// The actor behind a session token, or `Unauthenticated` if unknown, expired, or the account
    /// is no longer active.
    #[tracing::instrument(skip_all)]
    pub async fn session_actor(&self, token: &str) -> AppResult<Actor> {
        self.session_user(token).await.map(|u| Actor::User(u.id))
    }

    /// The active user of a live session (one query: session joined with its user).
    async fn session_user(&self, token: &str) -> AppResult<facteur_store::UserRecord> {
        let now = self.inner.clock.now();
        match self.db().session_user(&token_digest(token), now).await? {
            Some(u) if u.status == UserStatus::Active => Ok(u),
            _ => Err(AppError::Unauthenticated),
        }
    }

    /// What the portal needs on every request, in two queries whatever the number of
    /// attachments: the session's user (as [`App::session_actor`] checks it), the user's account
    /// and every attachment with its structure's name.
    pub async fn session_context(&self, token: &str) -> AppResult<(Actor, UserView, Vec<MembershipView>)> {
        let u = self.session_user(token).await?;
        let memberships = self
            .db()
            .membership_lines_of_user(u.id)
            .await?
            .into_iter()
            .map(Self::line_view)
            .collect();
        let view = UserView {
            id: u.id,
            email: u.email.as_str().to_owned(),
            status: u.status,
            created_at: u.created_at,
        };
        Ok((Actor::User(u.id), view, memberships))
    }

    /// Ends a session (unknown tokens are ignored).
    #[tracing::instrument(skip_all)]
    pub async fn logout(&self, token: &str) -> AppResult<()> {
        self.db().delete_session(&token_digest(token)).await?;
        Ok(())
    }

    /// Mails a password-reset link if the account exists; `Ok` otherwise too (no enumeration).
    #[tracing::instrument(skip_all)]
    pub async fn request_password_reset(&self, email: &str, client_key: &str) -> AppResult<()> {
        let limits = self.inner.config.rate_limits;
        let client = format!("signup:client:{client_key}");
        self.rate_check(&client, limits.signup_per_client)?;
        self.inner
            .limiter
            .record(&client, limits.signup_per_client, self.inner.clock.now());
        let email = parse_email(email)?;
        let Some(user) = self.db().find_user_by_email(&email).await? else {
            return Ok(());
        };
        if !matches!(user.status, UserStatus::Active | UserStatus::PendingActivation) {
            return Ok(());
        }
        let token = new_token();
        let ttl = self.inner.config.password_reset_ttl;
        let expires = self.inner.clock.now() + ttl;
        let mut tx = self.db().begin().await?;
        tx.create_one_time_token(user.id, TokenPurpose::PasswordReset, &token_digest(&token), expires)
            .await?;
        let link = self.inner.config.link(&format!("{}{token}", links::PASSWORD_RESET));
        // Never at info: a reset link is a password. At debug for local setups without SMTP.
        if self.inner.mailer.is_outbox() {
            tracing::debug!(email = %email, %link, "password reset link (mail written to the outbox)");
        }
        let ctx = json!({
            "email": email.as_str(), "link": link, "valid_minutes": ttl.whole_minutes(),
        });
        self.queue_mail(&mut tx, email.as_str(), MailKind::PasswordReset, &ctx)
            .await?;
        self.commit(tx).await
    }

    /// Whether a password-reset link still works (unknown, used and expired links do not); reads
    /// only, so opening the link does not spend it.
    #[tracing::instrument(skip_all)]
    pub async fn password_reset_usable(&self, token: &str) -> AppResult<bool> {
        let now = self.inner.clock.now();
        Ok(self
            .db()
            .one_time_token_usable(TokenPurpose::PasswordReset, &token_digest(token.trim()), now)
            .await?)
    }

    /// Sets a new password from a reset link and closes every session of the user. The link also
    /// proves the address, so an account still waiting for activation is activated.
    #[tracing::instrument(skip_all)]
    pub async fn reset_password(&self, token: &str, new_password: &str) -> AppResult<()> {
        // Policy first, so a refused password does not burn the link.
        check_password_policy(new_password)?;
        let now = self.inner.clock.now();
        let digest = token_digest(token.trim());
        // A dead link costs no password hashing; the transaction below checks it again.
        if !self
            .db()
            .one_time_token_usable(TokenPurpose::PasswordReset, &digest, now)
            .await?
        {
            return Err(AppError::TokenExpired);
        }
        let hash = hash_password(new_password).await?;
        let mut tx = self.db().begin().await?;
        let user = tx
            .consume_one_time_token(TokenPurpose::PasswordReset, &digest, now)
            .await?
            .ok_or(AppError::TokenExpired)?;
        let actor = facteur_store::Actor::User(user);
        tx.set_password_hash(user, &hash, actor).await?;
        tx.delete_user_sessions(user).await?;
        let record = self.db().user(user).await?;
        if let Some(u) = &record
            && u.status == UserStatus::PendingActivation
        {
            tx.set_user_status(user, UserStatus::Active, actor).await?;
        }
        self.commit(tx).await?;
        if let Some(u) = record {
            // Whoever proved the address may log in again at once: lift the account's lockout.
            self.inner.limiter.clear(&login_email_key(u.email.as_str()));
        }
        Ok(())
    }

    /// The acting user's account.
    #[tracing::instrument(skip_all)]
    pub async fn me(&self, actor: &Actor) -> AppResult<UserView> {
        let id = Self::require_user(actor)?;
        let u = self.db().user(id).await?.ok_or(AppError::NotFound)?;
        Ok(UserView {
            id: u.id,
            email: u.email.as_str().to_owned(),
            status: u.status,
            created_at: u.created_at,
        })
    }

    /// Every attachment of the acting user (any status), for "my structures" and the switcher.
    #[tracing::instrument(skip_all)]
    pub async fn my_memberships(&self, actor: &Actor) -> AppResult<Vec<MembershipView>> {
        let id = Self::require_user(actor)?;
        Ok(self
            .db()
            .membership_lines_of_user(id)
            .await?
            .into_iter()
            .map(Self::line_view)
            .collect())
    }

    /// Checks the acting user may work in `structure_id` (approved membership) and returns that
    /// membership: the portal calls it when the user switches structure.
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id))]
    pub async fn switch_structure(&self, actor: &Actor, structure_id: StructureId) -> AppResult<MembershipView> {
        let id = Self::require_user(actor)?;
        self.require_member(actor, structure_id).await?;
        let m = self
            .db()
            .find_membership(id, structure_id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.membership_view(&m, None).await
    }

    /// Asks to be attached to another existing structure (pending until a manager decides; the
    /// managers are mailed). A refused or detached user may ask again.
    #[tracing::instrument(skip_all)]
    pub async fn request_attachment(
        &self,
        actor: &Actor,
        kind: IdentifierKind,
        identifier: &str,
    ) -> AppResult<MembershipView> {
        let user = Self::require_user(actor)?;
        let identifier = parse_identifier(Some(kind), identifier)?;
        let s = self
            .db()
            .find_structure_by_identifier(&identifier)
            .await?
            .ok_or(AppError::NotFound)?;
        let sa = store_actor(actor);
        let me = self.db().user(user).await?.ok_or(AppError::NotFound)?;
        let mut tx = self.db().begin().await?;
        let m = match tx.find_membership(user, s.id).await? {
            Some(m) if matches!(m.status, MembershipStatus::Approved | MembershipStatus::Pending) => {
                return Err(AppError::Conflict(crate::Conflict::AlreadyRequested));
            }
            Some(m) => {
                tx.decide_membership(m.id, m.status, MembershipStatus::Pending, Some(Role::SimpleUser), sa)
                    .await?
            }
            None => {
                tx.create_membership(user, s.id, Role::SimpleUser, MembershipStatus::Pending, sa)
                    .await?
            }
        };
        self.tell_managers_of_request(&mut tx, s.id, me.email.as_str()).await?;
        self.commit(tx).await?;
        self.membership_view(&m, Some(&s)).await
    }
}
