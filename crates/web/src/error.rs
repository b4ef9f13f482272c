//! The one error type of the HTTP layer and how each case is answered.
//!
//! Chorus Pro answers business errors with **HTTP 200** and a non-zero `codeRetour`; transport and
//! authentication problems use HTTP status codes. Both shapes carry the same JSON envelope
//! (`codeRetour` + `libelle`) so a client can always read them. Internal details are logged, never
//! sent.
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use facteur_app::AppError;
use serde::Serialize;

/// `codeRetour` values of this implementation (Chorus Pro's own numbering is only partly public;
/// `20001` keeps its meaning "the user lacks the rights").
pub mod codes {
    /// Success.
    pub const OK: i32 = 0;
    /// The object does not exist or is outside the caller's structures (deliberately the same
    /// answer, so existence does not leak).
    pub const NOT_FOUND: i32 = 10001;
    /// A field of the request is invalid; `libelle` names it.
    pub const INVALID: i32 = 10002;
    /// The caller may not do this on this structure.
    pub const FORBIDDEN: i32 = 20001;
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401 with `WWW-Authenticate: Bearer`: the access token is missing, malformed or expired.
    #[error("invalid or missing access token")]
    InvalidToken,
    /// 401: the `cpro-account` header is missing, malformed, its credentials are wrong, or its
    /// technical account is not of the structure the token was issued to (one answer for all).
    #[error("invalid or missing cpro-account header")]
    InvalidAccount,
    /// 400: the body is not the expected JSON.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// 413: the body is over the route's limit (with or without a `Content-Length`).
    #[error("request body too large")]
    PayloadTooLarge,
    /// 429: too many attempts.
    #[error("too many attempts")]
    RateLimited { retry_after_secs: u64 },
    /// 200 with `codeRetour` ≠ 0: a business refusal (not found, invalid field, no rights).
    #[error("business error {code}: {libelle}")]
    Business { code: i32, libelle: String },
    /// 500: logged with its cause; the client sees a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The envelope every API answer starts with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// `0` on success; see the error codes in the API description.
    pub code_retour: i32,
    /// Message code or text.
    pub libelle: String,
}

impl ApiError {
    /// A business refusal answered with HTTP 200.
    pub fn business(code: i32, libelle: impl Into<String>) -> Self {
        Self::Business {
            code,
            libelle: libelle.into(),
        }
    }

    /// The standard "not found or not yours" refusal.
    pub fn not_found(what: &str) -> Self {
        Self::business(codes::NOT_FOUND, format!("{what} introuvable ou non accessible"))
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::InvalidToken | Self::InvalidAccount => StatusCode::UNAUTHORIZED,
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Business { .. } => StatusCode::OK,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid { field, problem } => Self::business(codes::INVALID, invalid_libelle(field, &problem)),
            AppError::Unauthenticated | AppError::NotActivated => Self::InvalidAccount,
            AppError::Forbidden => Self::business(codes::FORBIDDEN, "Droits insuffisants"),
            AppError::NotFound => Self::not_found("Objet"),
            AppError::Conflict(kind) => Self::business(codes::INVALID, conflict_libelle(kind)),
            AppError::TokenExpired => Self::InvalidAccount,
            AppError::RateLimited { retry_after_secs } => Self::RateLimited { retry_after_secs },
            AppError::Csv { line, message } => Self::business(codes::INVALID, format!("ligne {line} : {message}")),
            other @ (AppError::Store(_) | AppError::Mail(_) | AppError::Internal(_)) => {
                Self::Internal(other.to_string())
            }
        }
    }
}

/// The API's words for a refused field, named first (the portal has its own, in the user's
/// language). The domain's reasons are short technical phrases kept as they are.
fn invalid_libelle(field: &str, problem: &facteur_app::Problem) -> String {
    use facteur_app::Problem;
    use facteur_domain::DomainError;
    match problem {
        Problem::Domain(DomainError::Format { reason, .. }) => format!("{field} : format invalide ({reason})"),
        Problem::Domain(DomainError::Checksum { .. }) => format!("{field} : clé de contrôle invalide"),
        Problem::Domain(DomainError::UnknownCode { value, .. }) => format!("{field} : valeur inconnue « {value} »"),
        Problem::Domain(DomainError::Inconsistent { reason, .. }) => {
            format!("{field} : valeurs incohérentes ({reason})")
        }
        Problem::Missing => format!("{field} : valeur obligatoire"),
        Problem::TooShort { min } => format!("{field} : {min} caractères au moins"),
        Problem::TooLong { max } => format!("{field} : {max} caractères au plus"),
        Problem::ControlCharacter => format!("{field} : caractère de contrôle interdit"),
        Problem::UnknownValue => format!("{field} : valeur inconnue"),
        Problem::MainManagerByTransfer => format!("{field} : le rôle de gestionnaire principal se transfère"),
        Problem::SameUser => format!("{field} : les deux utilisateurs sont le même"),
    }
}

/// The API's words for a conflict (the portal has its own, in the user's language).
fn conflict_libelle(kind: facteur_app::Conflict) -> &'static str {
    use facteur_app::Conflict;
    match kind {
        Conflict::AlreadyMember => "Utilisateur déjà rattaché à la structure",
        Conflict::AlreadyRequested => "Rattachement déjà demandé ou actif",
        Conflict::MainManagerFirst => "Transférez d'abord le rôle de gestionnaire principal",
        Conflict::SpaceNotOpen => "Espace non ouvert sur cette structure",
        Conflict::ServiceCodeTaken => "codeService : code déjà utilisé par un service de la structure",
        Conflict::DefaultService => "Le service par défaut FACTURES_PUBLIQUES reste actif",
        Conflict::BankAccountTaken => "iban : coordonnées bancaires déjà enregistrées pour la structure",
        Conflict::DefaultBankAccount => {
            "Coordonnées bancaires par défaut : désignez d'abord d'autres coordonnées par défaut"
        }
        Conflict::InactiveBankAccount => "Des coordonnées bancaires inactives ne peuvent pas être par défaut",
        Conflict::EmailTaken => "Adresse e-mail déjà utilisée par un compte",
        Conflict::IdentifierTaken => "Structure déjà inscrite avec cet identifiant",
        Conflict::AlreadySubscribed => "Abonnement à l'espace déjà existant",
        Conflict::IllegalTransition => "L'objet a changé d'état entre-temps : relisez-le avant de recommencer",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (code, libelle) = match &self {
            Self::Business { code, libelle } => (*code, libelle.clone()),
            Self::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                (500, "Erreur interne".to_owned())
            }
            other => (i32::from(status.as_u16()), other.to_string()),
        };
        let mut response = (
            status,
            axum::Json(ErrorBody {
                code_retour: code,
                libelle,
            }),
        )
            .into_response();
        match &self {
            Self::InvalidToken => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            Self::RateLimited { retry_after_secs } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        response
    }
}

/// Result alias of the HTTP layer.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use facteur_app::Problem;
    use facteur_domain::DomainError;

    use super::*;

    #[test]
    fn a_refused_field_is_named_first_and_worded_by_its_problem() {
        let cases = [
            (Problem::Missing, "siret : valeur obligatoire"),
            (Problem::TooLong { max: 200 }, "siret : 200 caractères au plus"),
            (Problem::TooShort { min: 12 }, "siret : 12 caractères au moins"),
            (
                Problem::Domain(DomainError::Checksum { field: "siret" }),
                "siret : clé de contrôle invalide",
            ),
            (
                Problem::Domain(DomainError::Format {
                    field: "siret",
                    reason: "digits only",
                }),
                "siret : format invalide (digits only)",
            ),
        ];
        for (problem, libelle) in cases {
            let e = ApiError::from(AppError::invalid("siret", problem));
            match e {
                ApiError::Business { libelle: l, .. } => assert_eq!(l, libelle),
                other => panic!("{other:?}"),
            }
        }
    }
}
