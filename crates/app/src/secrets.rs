//! Random tokens, their digests, and password hashing.
//!
//! Tokens (activation links, sessions, client secrets) come from the thread-local CSPRNG and only
//! their SHA-256 digest is stored, so a database leak does not hand out live sessions. Passwords use
//! argon2id, run in `spawn_blocking` because one hash costs tens of milliseconds of CPU that must not
//! stall the async runtime.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use crate::error::{AppError, Problem};

/// Minimum password length accepted at sign-up and reset (ANSSI recommends long passphrases
/// over composition rules).
pub const MIN_PASSWORD_LEN: usize = 10;
/// Passwords longer than this are refused so hashing cannot be used to burn CPU.
pub const MAX_PASSWORD_LEN: usize = 256;

/// A fresh random token: 32 bytes from the CSPRNG, base64url without padding (43 chars, URL-safe).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A random alphanumeric string of `len` characters (logins, client ids: readable, copy-pastable).
pub fn new_alnum(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyz23456789";
    let mut bytes = vec![0u8; len];
    rand::rng().fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// Hex SHA-256 of a token: what the store keeps and looks up.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Checks the password policy before anything is hashed or stored.
pub fn check_password_policy(password: &str) -> Result<(), AppError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(AppError::invalid(
            "password",
            Problem::TooShort { min: MIN_PASSWORD_LEN },
        ));
    }
    if n > MAX_PASSWORD_LEN {
        return Err(AppError::invalid(
            "password",
            Problem::TooLong { max: MAX_PASSWORD_LEN },
        ));
    }
    Ok(())
}

/// Argon2id hash (PHC string) computed on the blocking pool.
pub async fn hash_password(password: &str) -> Result<String, AppError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut salt_bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut salt_bytes);
        let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| AppError::Internal(format!("salt: {e}")))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("argon2: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(format!("hash task: {e}")))?
}

/// Verifies a password against a PHC string on the blocking pool; a malformed hash is "no match".
pub async fn verify_password(password: &str, phc: &str) -> Result<bool, AppError> {
    let password = password.to_owned();
    let phc = phc.to_owned();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .map_err(|e| AppError::Internal(format!("verify task: {e}")))
}

/// A fixed argon2 hash verified when the e-mail is unknown, so the answer time does not reveal
/// whether an account exists.
pub(crate) async fn burn_verify(password: &str) {
    const DUMMY: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Lq+g4Hkd2XUw3rpdWC3LLP3y1RHsZ8j0QJQv9T1XxDE";
    let _ = verify_password(password, DUMMY).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_url_safe() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn digest_is_stable_hex() {
        assert_eq!(token_digest("abc"), token_digest("abc"));
        assert_ne!(token_digest("abc"), token_digest("abd"));
        assert_eq!(token_digest("abc").len(), 64);
    }

    #[test]
    fn policy_rejects_short_and_huge() {
        assert!(check_password_policy("short").is_err());
        assert!(check_password_policy(&"x".repeat(300)).is_err());
        assert!(check_password_policy("correct horse battery").is_ok());
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let h = hash_password("correct horse battery").await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h).await.unwrap());
        assert!(!verify_password("wrong horse battery", &h).await.unwrap());
        assert!(!verify_password("x", "not a hash").await.unwrap());
    }
}
