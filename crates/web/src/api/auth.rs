//! The two credentials of a `/cpro/` call: the bearer token (the calling application) and the
//! `cpro-account` header (the structure's technical account).
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine as _;
use facteur_app::Actor;
use facteur_domain::StructureId;

use crate::AppState;
use crate::error::ApiError;

/// Name of the technical-account header.
pub const CPRO_ACCOUNT: &str = "cpro-account";

/// An authenticated API caller: a technical account acting for its structure.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    /// What the use cases check rights against.
    pub actor: Actor,
    /// The structure the technical account belongs to.
    pub structure: StructureId,
}

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

/// Whether a credential (login, password, client id or secret) is short printable text. Ours are
/// at most a few dozen characters; anything else names no account and must not reach the database
/// (a NUL fails on PostgreSQL).
pub(crate) fn credential_text(s: &str) -> bool {
    s.len() <= 256 && !s.chars().any(char::is_control)
}

/// `base64(login:password)`; the password may itself contain `:`. Logins and passwords are
/// short printable text: anything else is refused before it reaches the database.
fn cpro_account(parts: &Parts) -> Option<(String, String)> {
    let v = parts.headers.get(CPRO_ACCOUNT)?.to_str().ok()?;
    let raw = base64::engine::general_purpose::STANDARD.decode(v.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (login, password) = text.split_once(':')?;
    let given = |s: &str| !s.is_empty() && credential_text(s);
    (given(login) && given(password)).then(|| (login.to_owned(), password.to_owned()))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let claims = bearer(parts)
            .and_then(|t| state.tokens().verify(t))
            .ok_or(ApiError::InvalidToken)?;
        let (login, password) = cpro_account(parts).ok_or(ApiError::InvalidAccount)?;
        // One leaked secret is not enough: the technical account must belong to the structure the
        // token was issued to, which the use case checks before counting or verifying anything.
        let actor = state
            .app()
            .authenticate_technical(&login, &password, StructureId(claims.structure))
            .await?;
        let Actor::Technical { structure, .. } = actor else {
            return Err(ApiError::InvalidAccount);
        };
        Ok(Caller { actor, structure })
    }
}
