//! Technical (API) accounts: one per structure, for machine access. The login/password pair feeds
//! the `cpro-account` header; the client_id/client_secret pair feeds the OAuth2 client-credentials
//! grant. Secrets are random (CSPRNG, 256 bits), shown once, and stored as SHA-256 digests: a slow
//! hash protects guessable human passwords, not random ones, and the `cpro-account` password is
//! checked on every API call, where argon2 (19 MiB, ~18 ms of CPU) capped the server at ~50
//! calls/s. Accounts created before this keep an argon2 hash until their first successful call,
//! which replaces it with the digest. Both pairs stop working when the password expires (424
//! days, as on Chorus Pro); the main manager then resets the account.

use facteur_domain::{MembershipStatus, Role, StructureId, StructureStatus};
use facteur_store::{NewTechnicalAccount, TechnicalAccountRecord};
use serde_json::json;

use crate::access::store_actor;
use crate::secrets::{new_alnum, new_token, token_digest, verify_password};
use crate::{Actor, App, AppError, AppResult, MailKind, TechnicalAccountView, TechnicalCredentials};

impl App {
    /// Creates the structure's technical account, or resets all its secrets if it exists (the old
    /// ones stop working at once). Main manager (or operator) only; the main manager is mailed
    /// (without the secrets).
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id))]
    pub async fn create_technical_account(
        &self,
        actor: &Actor,
        structure_id: StructureId,
    ) -> AppResult<TechnicalCredentials> {
        self.require_main_manager(actor, structure_id).await?;
        let s = self.load_structure(structure_id).await?;
        let login = format!("tech-{}-{}", structure_id, new_alnum(6));
        let creds = TechnicalCredentials {
            structure_id,
            login,
            password: new_token(),
            client_id: format!("cid-{}", new_alnum(24)),
            client_secret: new_token(),
            password_expires_at: self.inner.clock.now() + self.inner.config.technical_password_ttl,
        };
        let mut tx = self.db().begin().await?;
        self.put_technical_credentials(&mut tx, actor, &creds).await?;
        let ctx = json!({
            "structure": s.structure.display_name(), "login": creds.login, "client_id": creds.client_id,
            "expires": creds.password_expires_at.date().to_string(),
        });
        for m in self
            .db()
            .memberships_of_structure(structure_id, Some(MembershipStatus::Approved))
            .await?
        {
            if m.role == Role::MainManager
                && let Some(u) = self.db().user(m.user_id).await?
            {
                self.queue_mail(&mut tx, u.email.as_str(), MailKind::TechnicalAccount, &ctx)
                    .await?;
            }
        }
        self.commit(tx).await?;
        Ok(creds)
    }

    /// Stores given credentials (hashing them) in `tx`; used by account creation and the demo seed.
    pub(crate) async fn put_technical_credentials(
        &self,
        tx: &mut facteur_store::Tx,
        actor: &Actor,
        creds: &TechnicalCredentials,
    ) -> AppResult<TechnicalAccountRecord> {
        let account = NewTechnicalAccount {
            login: creds.login.clone(),
            password_hash: token_digest(&creds.password),
            client_id: creds.client_id.clone(),
            client_secret_hash: token_digest(&creds.client_secret),
            password_expires_at: creds.password_expires_at,
        };
        Ok(tx
            .put_technical_account(creds.structure_id, &account, store_actor(actor))
            .await?)
    }

    /// The structure's technical account without secrets, if any (managers).
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id))]
    pub async fn technical_account(
        &self,
        actor: &Actor,
        structure_id: StructureId,
    ) -> AppResult<Option<TechnicalAccountView>> {
        self.require_manager(actor, structure_id).await?;
        Ok(self
            .db()
            .technical_account_of(structure_id)
            .await?
            .map(|t| TechnicalAccountView {
                id: t.id,
                structure_id: t.structure_id,
                login: t.login,
                client_id: t.client_id,
                password_expires_at: t.password_expires_at,
                created_at: t.created_at,
            }))
    }

    /// Checks a `cpro-account` login/password for a caller whose access token was issued to
    /// `token_structure`. An account of another structure is refused before anything is counted
    /// or verified, with the same answer as a wrong password: a structure can neither lock another
    /// one out nor test its password. Unknown login, wrong or expired password, or an inactive
    /// structure all give `Unauthenticated`; repeated failures per login give `RateLimited`.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate_technical(
        &self,
        login: &str,
        password: &str,
        token_structure: StructureId,
    ) -> AppResult<Actor> {
        let Some((t, status)) = self.db().technical_account_for_login(login).await? else {
            return Err(AppError::Unauthenticated);
        };
        if t.structure_id != token_structure {
            return Err(AppError::Unauthenticated);
        }
        let limit = self.inner.config.rate_limits.login_per_email;
        let key = format!("tech:login:{}", t.id);
        let now = self.inner.clock.now();
        if let Some(retry_after_secs) = self.inner.limiter.check(&key, limit, now) {
            return Err(AppError::RateLimited { retry_after_secs });
        }
        if !self.technical_password_matches(&t, password).await? {
            self.inner.limiter.record(&key, limit, now);
            return Err(AppError::Unauthenticated);
        }
        self.active_technical_actor(&t, status)
    }

    /// Compares the password with the stored digest; an argon2 hash of an account created before
    /// digests is verified once more and replaced by the digest.
    async fn technical_password_matches(&self, t: &TechnicalAccountRecord, password: &str) -> AppResult<bool> {
        if !t.password_hash.starts_with("$argon2") {
            return Ok(constant_time_eq(&t.password_hash, &token_digest(password)));
        }
        let ok = verify_password(password, &t.password_hash).await?;
        if ok {
            self.db()
                .rehash_technical_password(t.id, &t.password_hash, &token_digest(password))
                .await?;
        }
        Ok(ok)
    }

    /// Checks an OAuth2 client_id/client_secret pair (same expiry and structure rules). Failures
    /// are counted per client address (`client_key`, from the web layer), so guessing secrets is
    /// slowed without letting anyone lock a known `client_id` out.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        client_secret: &str,
        client_key: &str,
    ) -> AppResult<Actor> {
        let limit = self.inner.config.rate_limits.login_per_client;
        let key = format!("token:client:{client_key}");
        let now = self.inner.clock.now();
        if let Some(retry_after_secs) = self.inner.limiter.check(&key, limit, now) {
            return Err(AppError::RateLimited { retry_after_secs });
        }
        let found = self.db().find_technical_account_by_client_id(client_id).await?;
        match found {
            Some(t) if constant_time_eq(&t.client_secret_hash, &token_digest(client_secret)) => {
                self.technical_actor(t).await
            }
            _ => {
                self.inner.limiter.record(&key, limit, now);
                Err(AppError::Unauthenticated)
            }
        }
    }

    async fn technical_actor(&self, t: TechnicalAccountRecord) -> AppResult<Actor> {
        let s = self.load_structure(t.structure_id).await?;
        self.active_technical_actor(&t, s.structure.status)
    }

    /// The actor of an account whose password has not expired, of an active structure.
    fn active_technical_actor(&self, t: &TechnicalAccountRecord, structure: StructureStatus) -> AppResult<Actor> {
        if t.password_expires_at <= self.inner.clock.now() || structure != StructureStatus::Active {
            return Err(AppError::Unauthenticated);
        }
        Ok(Actor::Technical {
            account: t.id,
            structure: t.structure_id,
        })
    }
}

/// Compares two digests without an early exit on the first differing byte.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn constant_time_eq_works() {
        assert!(super::constant_time_eq("abc", "abc"));
        assert!(!super::constant_time_eq("abc", "abd"));
        assert!(!super::constant_time_eq("abc", "ab"));
    }
}
