//! OAuth2 client-credentials grant (RFC 6749 §4.4), the PISTE part of a Chorus Pro call.
//!
//! Tokens are **JWTs signed with HS256** (jsonwebtoken): stateless, so any node of a scale-out
//! deployment verifies them with the shared `FACTEUR_TOKEN_SECRET` and no database round trip. The
//! token names the technical account's client and structure; it stays valid until `exp` even if the
//! account's secrets are reset meanwhile (the `cpro-account` header, checked on every call, is what
//! a reset revokes at once).
use std::time::Duration;

use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use base64::Engine as _;
use facteur_app::Actor;
use facteur_domain::StructureId;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::api::credential_text;
use crate::{AppState, ClientKey};

/// Issuer and audience written into every token.
const ISSUER: &str = "facteur";
const AUDIENCE: &str = "facteur-api";
/// The only scope, as on PISTE.
pub const SCOPE: &str = "openid";

/// Signs and checks access tokens.
#[derive(Clone)]
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The OAuth2 `client_id`.
    pub sub: String,
    /// `idStructureCPP` of the technical account's structure.
    pub structure: i64,
    pub scope: String,
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
}

impl TokenIssuer {
    /// `secret` should be at least 32 random bytes; `ttl` is the `expires_in` of issued tokens.
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl,
        }
    }

    /// Lifetime of issued tokens.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Signs a token for `client_id` acting for `structure`, issued at `now` (Unix seconds).
    pub fn issue(
        &self,
        client_id: &str,
        structure: StructureId,
        now: u64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: client_id.to_owned(),
            structure: structure.get(),
            scope: SCOPE.to_owned(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now.saturating_add(self.ttl.as_secs()),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// Checks signature, algorithm, issuer, audience and expiry (no leeway: an expired token is
    /// refused at once).
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[ISSUER]);
        v.set_audience(&[AUDIENCE]);
        v.leeway = 0;
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .ok()
            .map(|d| d.claims)
    }
}

/// Unix time in seconds.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Form body of `POST /api/oauth/token`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    /// Must be `client_credentials`.
    #[schema(required = true, nullable = false, pattern = "^client_credentials$")]
    pub grant_type: Option<String>,
    /// May also come in an `Authorization: Basic` header.
    #[schema(nullable = false)]
    pub client_id: Option<String>,
    #[schema(nullable = false)]
    pub client_secret: Option<String>,
    /// `openid` (the default when absent).
    #[schema(nullable = false, pattern = "^openid$")]
    pub scope: Option<String>,
}

/// Successful token answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until expiry.
    pub expires_in: u64,
    pub scope: String,
}

/// RFC 6749 §5.2 error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `unsupported_grant_type`, `invalid_scope`.
    pub error: String,
    pub error_description: String,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = OAuthError {
        error: error.to_owned(),
        error_description: description.to_owned(),
    };
    let mut r = (status, Json(body)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    r
}

/// 401 `invalid_client` with the challenge RFC 6749 §5.2 asks for: whether the client sent no
/// credentials or wrong ones, in the form or by HTTP Basic, the answer is the same.
fn invalid_client(description: &str) -> Response {
    let mut r = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Basic realm=\"facteur\""),
    );
    r
}

/// Credentials from an `Authorization: Basic` header (RFC 6749 §2.3.1), if any.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// Client-credentials token endpoint (PISTE's `/api/oauth/token`).
#[utoipa::path(
    post,
    path = "/api/oauth/token",
    tag = "oauth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Access token", body = TokenResponse),
        (status = 400, description = "Malformed request, unsupported grant type or scope", body = OAuthError),
        (status = 401, description = "Missing or wrong client credentials (`invalid_client`)", body = OAuthError),
        (status = 429, description = "Too many failed attempts from this client; see `Retry-After`", body = OAuthError),
    )
)]
pub async fn token(
    State(state): State<AppState>,
    ClientKey(client_key): ClientKey,
    headers: HeaderMap,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => {
            let status = rejection.status();
            let description = match status {
                StatusCode::PAYLOAD_TOO_LARGE => "request body too large",
                StatusCode::UNSUPPORTED_MEDIA_TYPE => "the body must be application/x-www-form-urlencoded",
                _ => "malformed form body",
            };
            let status = if matches!(
                status,
                StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE
            ) {
                status
            } else {
                StatusCode::BAD_REQUEST
            };
            return oauth_error(status, "invalid_request", description);
        }
    };
    if form.grant_type.as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    if let Some(scope) = form.scope.as_deref()
        && !scope.split_whitespace().all(|s| s == SCOPE)
    {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", "the only scope is openid");
    }
    let from_header = basic_credentials(&headers);
    let (client_id, client_secret) = match (from_header, form.client_id, form.client_secret) {
        (Some(pair), _, _) => pair,
        (None, Some(id), Some(secret)) => (id, secret),
        // RFC 6749 §5.2: no client authentication included is `invalid_client`.
        _ => return invalid_client("client_id and client_secret are required (form or HTTP Basic)"),
    };
    if !credential_text(&client_id) || !credential_text(&client_secret) {
        return invalid_client("client_id and client_secret are printable text of at most 256 bytes");
    }
    let actor = match state
        .app()
        .authenticate_client(&client_id, &client_secret, &client_key)
        .await
    {
        Ok(actor) => actor,
        Err(facteur_app::AppError::RateLimited { retry_after_secs }) => {
            let mut r = oauth_error(StatusCode::TOO_MANY_REQUESTS, "slow_down", "too many attempts");
            if let Ok(v) = header::HeaderValue::from_str(&retry_after_secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return r;
        }
        Err(e @ (facteur_app::AppError::Store(_) | facteur_app::AppError::Internal(_))) => {
            tracing::error!(cause = %e, "client authentication failed");
            return oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error");
        }
        Err(_) => return invalid_client("client authentication failed"),
    };
    let Actor::Technical { structure, .. } = actor else {
        return invalid_client("client authentication failed");
    };
    let issuer = state.tokens();
    match issuer.issue(&client_id, structure, unix_now()) {
        Ok(access_token) => {
            let body = TokenResponse {
                access_token,
                token_type: "Bearer".to_owned(),
                expires_in: issuer.ttl().as_secs(),
                scope: SCOPE.to_owned(),
            };
            let mut r = Json(body).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            tracing::error!(cause = %e, "token signing failed");
            oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error")
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn issued_token_verifies_and_names_its_structure() {
        let issuer = TokenIssuer::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(3600));
        let t = issuer.issue("client-1", StructureId(42), unix_now()).unwrap();
        let c = issuer.verify(&t).unwrap();
        assert_eq!((c.sub.as_str(), c.structure), ("client-1", 42));
    }

    #[test]
    fn expired_or_foreign_tokens_are_refused() {
        let issuer = TokenIssuer::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
        let old = issuer.issue("c", StructureId(1), unix_now() - 3600).unwrap();
        assert!(issuer.verify(&old).is_none());
        let other = TokenIssuer::new(b"another-secret-another-secret-xx", Duration::from_secs(60));
        let forged = other.issue("c", StructureId(1), unix_now()).unwrap();
        assert!(issuer.verify(&forged).is_none());
        assert!(issuer.verify("not a jwt").is_none());
    }

    #[test]
    fn basic_header_is_parsed() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Basic aWQ6c2VjcmV0".parse().unwrap());
        assert_eq!(basic_credentials(&h), Some(("id".to_owned(), "secret".to_owned())));
    }
}
