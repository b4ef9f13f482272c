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
    /// The caller may not do this on this structure, or the lifecycle step belongs to the other
    /// side of the invoice (Chorus Pro's "the user lacks the rights").
    pub const FORBIDDEN: i32 = 20001;
    /// The invoice's status does not allow the step (Chorus Pro's 20002 "not in SUSPENDUE",
    /// widened to every status refusal of the lifecycle table).
    pub const STATUS: i32 = 20002;
    /// A deposit or a re-routing failed the platform checks or EN 16931: `listeErreurs` holds
    /// every finding.
    pub const REFUSED: i32 = 20003;
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
    /// 413: the answer would be over `max_bytes` (a download).
    #[error("result larger than {max_bytes} bytes: ask for fewer items")]
    ResultTooLarge { max_bytes: u64 },
    /// 429: too many attempts.
    #[error("too many attempts")]
    RateLimited { retry_after_secs: u64 },
    /// 200 with `codeRetour` ≠ 0: a business refusal (not found, invalid field, no rights).
    #[error("business error {code}: {libelle}")]
    Business { code: i32, libelle: String },
    /// 200 with `codeRetour` 20003 and every finding in `listeErreurs`.
    #[error("refused: {} finding(s)", .0.len())]
    Refused(Vec<Erreur>),
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
    /// Every finding of a refused deposit (`codeRetour` 20003), absent otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub liste_erreurs: Vec<Erreur>,
}

/// One finding of a refused deposit: its stable code, the field it is about (spec names) and its
/// words in French and English.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Erreur {
    /// `FP-…` for platform rules, the EN 16931 rule id (`BR-CO-10`…) for the standard's.
    pub code_erreur: String,
    /// The request field (platform rules only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub champ: Option<String>,
    pub libelle_erreur: String,
    pub libelle_erreur_en: String,
}

impl Erreur {
    /// A finding in the API's words.
    pub fn of(f: &facteur_app::Finding) -> Self {
        use facteur_app::Finding;
        match f {
            Finding::Platform { rule, field } => {
                let (fr, en) = platform_words(*rule);
                Erreur {
                    code_erreur: rule.code().to_owned(),
                    champ: Some((*field).to_owned()),
                    libelle_erreur: fr.to_owned(),
                    libelle_erreur_en: en.to_owned(),
                }
            }
            Finding::En16931 {
                rule,
                message_fr,
                message_en,
            } => Erreur {
                code_erreur: (*rule).to_owned(),
                champ: None,
                libelle_erreur: message_fr.clone(),
                libelle_erreur_en: message_en.clone(),
            },
        }
    }
}

/// French and English words of each platform rule.
pub fn platform_words(rule: facteur_app::PlatformRule) -> (&'static str, &'static str) {
    use facteur_app::PlatformRule as R;
    match rule {
        R::RecipientUnknown => (
            "Destinataire inconnu : aucune structure n'a ce SIRET",
            "Unknown recipient: no structure has this SIRET",
        ),
        R::RecipientNotPublic => (
            "Le destinataire n'est pas une structure publique",
            "The recipient is not a public structure",
        ),
        R::RecipientInactive => ("Le destinataire est inactif", "The recipient is inactive"),
        R::ServiceRequired => (
            "Le destinataire exige un code service",
            "The recipient requires a service code",
        ),
        R::ServiceUnknown => (
            "Code service inconnu chez le destinataire",
            "Service code unknown to the recipient",
        ),
        R::ServiceInactive => (
            "Le service est inactif ou hors de ses dates de validité",
            "The service is inactive or outside its validity dates",
        ),
        R::EngagementRequired => (
            "Le destinataire ou son service exige un numéro d'engagement (50 caractères au plus)",
            "The recipient or its service requires an engagement number (50 characters at most)",
        ),
        R::ServiceOrEngagementRequired => (
            "Le destinataire exige un code service ou un numéro d'engagement",
            "The recipient requires a service code or an engagement number",
        ),
        R::NumberFormat => (
            "Numéro de facture : 1 à 20 caractères parmi lettres, chiffres et - _ / +",
            "Invoice number: 1 to 20 characters among letters, digits and - _ / +",
        ),
        R::NumberTaken => (
            "Numéro de facture déjà utilisé par le fournisseur pour une facture de la même année",
            "Invoice number already used by the supplier for an invoice of the same year",
        ),
        R::SupplierNotCaller => (
            "Le fournisseur doit être la structure du compte technique",
            "The supplier must be the technical account's structure",
        ),
        R::BankAccountUnknown => (
            "Coordonnées bancaires inconnues, inactives ou d'une autre structure",
            "Bank details unknown, inactive or of another structure",
        ),
        R::LinesMissing => (
            "Au moins une ligne de facture est requise",
            "At least one invoice line is required",
        ),
        R::VatRateUnknown => (
            "Taux de TVA inconnu ou absent (code du référentiel ou taux manuel de 0 à 100)",
            "VAT rate unknown or missing (referential code or manual rate from 0 to 100)",
        ),
        R::VatLinesInconsistent => (
            "Lignes de TVA incohérentes avec les lignes : une ligne par taux, base = somme des lignes, TVA = base × taux arrondie au centime",
            "VAT lines inconsistent with the lines: one line per rate, base = sum of the lines, VAT = base × rate rounded to the cent",
        ),
        R::TotalExclVat => (
            "Montant HT total différent de la somme des lignes",
            "Total without VAT differs from the sum of the lines",
        ),
        R::TotalVat => (
            "Montant de TVA différent de la somme des lignes de TVA",
            "VAT total differs from the sum of the VAT lines",
        ),
        R::TotalInclVat => (
            "Montant TTC différent de HT + TVA",
            "Total with VAT differs from total without VAT + VAT",
        ),
        R::AmountDue => (
            "Montant à payer différent du montant TTC",
            "Amount due differs from the total with VAT",
        ),
        R::AmountFormat => (
            "Montant invalide : positif, 2 décimales au plus (quantités et prix unitaires : 6) ; remise globale TTC non prise en charge",
            "Invalid amount: positive, at most 2 decimals (quantities and unit prices: 6); global discount not supported",
        ),
        R::CodeUnknown => ("Code inconnu", "Unknown code"),
        R::FlowSyntaxUnsupported => (
            "syntaxeFlux non prise en charge : IN_DP_E1_UBL_INVOICE, IN_DP_E1_CII_16B ou IN_DP_E2_CII_FACTURX",
            "Unsupported syntaxeFlux: IN_DP_E1_UBL_INVOICE, IN_DP_E1_CII_16B or IN_DP_E2_CII_FACTURX",
        ),
        R::FlowSyntaxMismatch => (
            "Le fichier n'est pas de la syntaxe déclarée par syntaxeFlux",
            "The file is not of the syntax syntaxeFlux declares",
        ),
        R::FlowNoInvoice => (
            "Le fichier n'est pas un PDF Factur-X lisible portant une facture XML",
            "The file is not a readable Factur-X PDF carrying an invoice XML",
        ),
        R::AttachmentUnknown => (
            "Pièce jointe inconnue ou d'une autre structure",
            "Attachment unknown or of another structure",
        ),
        R::AttachmentTaken => (
            "Pièce jointe déjà rattachée à une facture, ou citée deux fois",
            "Attachment already attached to an invoice, or referenced twice",
        ),
        R::AttachmentsTooLarge => (
            "Les fichiers de la facture dépassent 120 Mo au total",
            "The invoice's files exceed 120 MB in total",
        ),
        R::MainAttachmentCount => (
            "DEPOT_PDF_API exige exactement une pièce jointe principale ; SAISIE_API n'en prend aucune",
            "DEPOT_PDF_API requires exactly one main attachment; SAISIE_API takes none",
        ),
        R::MainAttachmentNotPdf => (
            "La pièce jointe principale doit être un PDF",
            "The main attachment must be a PDF",
        ),
        R::SellerNotDepositor => (
            "Le vendeur de la facture (BT-29, BT-30) n'est pas la structure déposante : son SIRET ou son SIREN est attendu",
            "The invoice's seller (BT-29, BT-30) is not the depositing structure: its SIRET or SIREN is expected",
        ),
        R::FlowTooLarge => (
            "Fichier trop volumineux pour une facture seule (10 Mio au plus) : seul un lot .zip ou .tar.gz peut l'être davantage",
            "File too large for a single invoice (10 MiB at most): only a .zip or .tar.gz batch may be larger",
        ),
        R::ArchiveEntryName => (
            "Archive refusée : un nom de fichier est absolu, remonte l'arborescence (..), est vide ou contient des caractères de contrôle",
            "Archive refused: a file name is absolute, climbs out of the archive (..), is empty or holds control characters",
        ),
        R::ArchiveEntryType => (
            "Archive refusée : elle contient un lien, un périphérique ou autre chose qu'un fichier ou un dossier",
            "Archive refused: it holds a link, a device or something other than a file or a folder",
        ),
        R::ArchiveTooManyEntries => (
            "Archive refusée : plus de 500 fichiers de facture",
            "Archive refused: more than 500 invoice files",
        ),
        R::ArchiveNested => (
            "Archive refusée : un fichier est lui-même une archive",
            "Archive refused: a file is itself an archive",
        ),
        R::ArchiveTooLarge => (
            "Archive refusée : son contenu décompressé dépasse la taille admise",
            "Archive refused: its uncompressed content exceeds the allowed size",
        ),
        R::ArchiveRatio => (
            "Archive refusée : taux de compression supérieur à 1 000 pour 1",
            "Archive refused: compression ratio above 1,000 to 1",
        ),
        R::ArchiveEntryTooLarge => (
            "Archive refusée : un fichier dépasse la taille admise pour une facture",
            "Archive refused: a file exceeds the size allowed for one invoice",
        ),
        R::ArchiveUnreadable => ("Archive illisible ou vide", "Unreadable or empty archive"),
    }
}

/// The API's words and code for a step the invoice lifecycle refuses.
fn lifecycle_refusal(e: facteur_domain::TransitionError) -> ApiError {
    use facteur_domain::TransitionError as T;
    let (code, libelle) = match e {
        T::NotYourRole { from, to, allowed, .. } => (
            codes::FORBIDDEN,
            format!(
                "Passage de {from} à {to} réservé au {}",
                allowed.as_str().to_lowercase()
            ),
        ),
        T::Illegal { from, to } => (codes::STATUS, format!("Passage de {from} à {to} impossible")),
        T::Terminal { from } => (codes::STATUS, format!("Statut {from} définitif")),
        T::Unchanged { status } => (codes::STATUS, format!("La facture est déjà au statut {status}")),
        T::MotiveRequired { to } => (codes::INVALID, format!("motif : obligatoire pour le statut {to}")),
        T::PaymentStatusNotReported => (
            codes::STATUS,
            "Le destinataire ne remonte pas le statut MISE_EN_PAIEMENT".to_owned(),
        ),
        T::NothingToComplete => (
            codes::INVALID,
            "commentaire : un commentaire ou une pièce jointe est requis".to_owned(),
        ),
        T::NotRejected { status } => (codes::STATUS, format!("La facture n'est pas rejetée (statut {status})")),
        T::AlreadyAcknowledged => (codes::STATUS, "Rejet déjà traité".to_owned()),
    };
    ApiError::business(code, libelle)
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
            Self::PayloadTooLarge | Self::ResultTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Business { .. } | Self::Refused(_) => StatusCode::OK,
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
            AppError::Conflict(facteur_app::Conflict::Lifecycle(e)) => lifecycle_refusal(e),
            AppError::Conflict(kind) => Self::business(codes::INVALID, conflict_libelle(kind)),
            AppError::Refused(findings) => Self::Refused(findings.iter().map(Erreur::of).collect()),
            AppError::TokenExpired => Self::InvalidAccount,
            AppError::TooLarge { max_bytes } => Self::ResultTooLarge { max_bytes },
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
        Problem::TooMany { max } => format!("{field} : {max} éléments au plus"),
        Problem::ControlCharacter => format!("{field} : caractère de contrôle interdit"),
        Problem::UnknownValue => format!("{field} : valeur inconnue"),
        Problem::MainManagerByTransfer => format!("{field} : le rôle de gestionnaire principal se transfère"),
        Problem::SameUser => format!("{field} : les deux utilisateurs sont le même"),
        Problem::Unchangeable => format!("{field} : ne peut pas être modifié"),
        Problem::TooLarge { max_bytes } => {
            format!(
                "{field} : fichier trop volumineux ({} Mo au plus)",
                max_bytes / (1024 * 1024)
            )
        }
        Problem::Empty => format!("{field} : fichier vide"),
        Problem::TypeNotAllowed => format!(
            "{field} : type de fichier non accepté (extensions et types MIME de la liste des pièces jointes de Chorus Pro)"
        ),
        Problem::ExtensionMismatch => format!("{field} : le nom du fichier doit finir par l'extension déclarée"),
        Problem::ContentMismatch => format!("{field} : le contenu du fichier n'est pas du type déclaré"),
        Problem::NotPdf => format!("{field} : le fichier n'est pas un PDF lisible"),
        Problem::FacturxUnreadable => format!("{field} : PDF Factur-X dont la facture XML est illisible"),
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
        Conflict::InvoiceNumberTaken => {
            "numeroFactureSaisi : numéro déjà utilisé par le fournisseur pour une facture de la même année"
        }
        Conflict::IdempotencyKeyReplayed => "Idempotency-Key : dépôt en cours d'enregistrement, relisez-le",
        Conflict::Lifecycle(_) => "Étape refusée par le cycle de vie de la facture",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut liste_erreurs = Vec::new();
        let (code, libelle) = match &self {
            Self::Business { code, libelle } => (*code, libelle.clone()),
            Self::Refused(findings) => {
                liste_erreurs.clone_from(findings);
                (
                    codes::REFUSED,
                    format!("Dépôt refusé : {} anomalie(s), voir listeErreurs", findings.len()),
                )
            }
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
                liste_erreurs,
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
