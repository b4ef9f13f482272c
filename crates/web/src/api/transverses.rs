//! `transverses/v1/…`: health check, recipient search, directory download, referentials.
use axum::Json;
use axum::extract::State;
use base64::Engine as _;
use facteur_app::{AppError, AttachmentId, AttachmentUpload, DirectoryQuery, Problem};
use facteur_domain::{IdentifierKind, StructureKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Caller;
use super::envelope::{CproJson, Pagination, PaginationRetour, Retour};
use crate::AppState;
use crate::error::{ApiError, ApiResult, codes};

/// Output of the health check (the shape of Chorus Pro's, a serialised Spring `ResponseEntity`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheckResponse {
    pub body: String,
    pub status_code: String,
    pub status_code_value: u16,
}

/// Answers when the caller's credentials are good and the database answers.
#[utoipa::path(
    get,
    path = "/cpro/transverses/v1/health-check",
    tag = "transverses",
    responses(
        (status = 200, description = "Service up", body = HealthCheckResponse),
        (status = 503, description = "Database unavailable", body = HealthCheckResponse),
    ),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn health_check(
    State(state): State<AppState>,
    _caller: Caller,
) -> (axum::http::StatusCode, Json<HealthCheckResponse>) {
    if state.app().healthy().await {
        let body = HealthCheckResponse {
            body: "OK".to_owned(),
            status_code: "OK".to_owned(),
            status_code_value: 200,
        };
        (axum::http::StatusCode::OK, Json(body))
    } else {
        let body = HealthCheckResponse {
            body: "KO".to_owned(),
            status_code: "SERVICE_UNAVAILABLE".to_owned(),
            status_code_value: 503,
        };
        (axum::http::StatusCode::SERVICE_UNAVAILABLE, Json(body))
    }
}

// ---------------------------------------------------------------------------------------------
// transverses/v1/rechercher/destinataire

/// Input of `transverses/v1/rechercher/destinataire`; empty fields are ignored.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct RechercherDestinataireRequest {
    /// Identifier (SIRET…) or its beginning.
    pub identifiant: Option<String>,
    /// Name, city or postcode.
    pub nom_ville_code_postal: Option<String>,
    /// `PUBLIQUE` (the only kind of recipient listed).
    pub type_structure: Option<String>,
    pub parametres_recherche: Pagination,
}

/// One line of `listeDestinataires`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Destinataire {
    #[serde(rename = "idStructureCPP")]
    pub id_structure_cpp: i64,
    pub siret: String,
    pub nom_destinataire: String,
    pub adresse_code_postal: String,
    pub adresse_ville: String,
}

/// Output of `transverses/v1/rechercher/destinataire`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RechercherDestinataireResponse {
    #[serde(flatten)]
    pub retour: Retour,
    pub liste_destinataires: Vec<Destinataire>,
    pub parametres_retour: PaginationRetour,
}

/// Searches the public directory (active public structures only).
///
/// `identifiant` matches an identifier's beginning; `nomVilleCodePostal` a name or city fragment, or
/// the beginning of a postcode or identifier. Every criterion runs in the database, so `total`
/// counts every match up to `nbResultatsMaximum`.
#[utoipa::path(
    post,
    path = "/cpro/transverses/v1/rechercher/destinataire",
    tag = "transverses",
    request_body = RechercherDestinataireRequest,
    responses((status = 200, description = "Public recipients", body = RechercherDestinataireResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn rechercher_destinataire(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<RechercherDestinataireRequest>,
) -> ApiResult<Json<RechercherDestinataireResponse>> {
    let request = req.parametres_recherche.request()?;
    let trimmed = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let page = match trimmed(&req.type_structure) {
        // Only public structures are recipients.
        Some(t) if t != StructureKind::Public.as_str() => request.slice(Vec::new()),
        _ => {
            let query = DirectoryQuery::recipients(req.identifiant.as_deref(), req.nom_ville_code_postal.as_deref());
            state
                .app()
                .search_directory(Some(&caller.actor), &query, request)
                .await?
        }
    };
    let parametres_retour = PaginationRetour::of(&page);
    let liste_destinataires = page
        .items
        .into_iter()
        .map(|e| Destinataire {
            id_structure_cpp: e.id.get(),
            siret: e.identifier.value().to_owned(),
            nom_destinataire: e.name,
            adresse_code_postal: e.postcode,
            adresse_ville: e.city,
        })
        .collect();
    Ok(Json(RechercherDestinataireResponse {
        retour: Retour::ok(),
        liste_destinataires,
        parametres_retour,
    }))
}

// ---------------------------------------------------------------------------------------------
// transverses/v1/telecharger/annuaire/destinataire

/// Output of `transverses/v1/telecharger/annuaire/destinataire`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TelechargerAnnuaireResponse {
    #[serde(flatten)]
    pub retour: Retour,
    /// Base64 of the directory as CSV (the `facteur directory export` format, UTF-8). Chorus Pro
    /// sends a zip here; a CSV is smaller to describe and as easy to read.
    pub fichier_resultat: String,
}

/// Downloads the whole public directory.
#[utoipa::path(
    post,
    path = "/cpro/transverses/v1/telecharger/annuaire/destinataire",
    tag = "transverses",
    responses((status = 200, description = "Directory file", body = TelechargerAnnuaireResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn telecharger_annuaire_destinataire(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<TelechargerAnnuaireResponse>> {
    let mut csv = Vec::new();
    state
        .app()
        .export_directory_csv(&mut csv)
        .await
        .map_err(ApiError::from)?;
    Ok(Json(TelechargerAnnuaireResponse {
        retour: Retour::ok_referentiel(),
        fichier_resultat: base64::engine::general_purpose::STANDARD.encode(csv),
    }))
}

// ---------------------------------------------------------------------------------------------
// transverses/v1/recuperer/typeidentifiant/structure

/// One line of `listeTypeIdentifiant`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TypeIdentifiant {
    pub type_identifiant_structure: String,
}

/// Output of `transverses/v1/recuperer/typeidentifiant/structure`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TypeIdentifiantResponse {
    #[serde(flatten)]
    pub retour: Retour,
    pub liste_type_identifiant: Vec<TypeIdentifiant>,
}

/// The seven identifier kinds of a structure.
#[utoipa::path(
    post,
    path = "/cpro/transverses/v1/recuperer/typeidentifiant/structure",
    tag = "transverses",
    responses((status = 200, description = "Identifier kinds", body = TypeIdentifiantResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn recuperer_type_identifiant_structure(_caller: Caller) -> Json<TypeIdentifiantResponse> {
    Json(TypeIdentifiantResponse {
        retour: Retour::ok(),
        liste_type_identifiant: IdentifierKind::ALL
            .iter()
            .map(|k| TypeIdentifiant {
                type_identifiant_structure: k.as_str().to_owned(),
            })
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// transverses/v1/ajouter/fichier, transverses/v1/telecharger/pieceJointe

/// Input of `transverses/v1/ajouter/fichier`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AjouterFichierRequest {
    /// The file, base64; at most 10 MB once decoded.
    pub piece_jointe_fichier: String,
    /// At most 50 characters, ending with `.` + `pieceJointeExtension`.
    pub piece_jointe_nom: String,
    /// The media type; it must be one the extension admits (`application/pdf` for `PDF`…).
    pub piece_jointe_type_mime: String,
    /// One of the spec's list (`PDF`, `PNG`, `JPG`, `XML`, `CSV`, `ZIP`, `DOCX`, `XLSX`…), with
    /// or without the dot, any case.
    pub piece_jointe_extension: String,
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    #[serde(default)]
    pub id_utilisateur_courant: Option<serde_json::Value>,
}

/// Output of `transverses/v1/ajouter/fichier`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AjouterFichierResponse {
    #[serde(flatten)]
    pub retour: Retour,
    /// To reference from `factures/v1/soumettre` or `factures/v1/completer`.
    pub piece_jointe_id: i64,
}

/// Uploads an attachment for the caller's structure. Refused with 10002: over 10 MB, empty, a
/// type outside the list, a media type the extension does not admit, a name over 50 characters
/// or not ending with the extension, bytes that are not of the declared type (a `PDF` must start
/// with `%PDF-`, a `PNG` with its signature…). Until an invoice references it, only the caller's
/// structure can use or read it.
#[utoipa::path(
    post,
    path = "/cpro/transverses/v1/ajouter/fichier",
    tag = "transverses",
    request_body = AjouterFichierRequest,
    responses((status = 200, description = "Stored, or codeRetour 10002", body = AjouterFichierResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn ajouter_fichier(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<AjouterFichierRequest>,
) -> ApiResult<Json<AjouterFichierResponse>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(req.piece_jointe_fichier.trim())
        .map_err(|_| ApiError::business(codes::INVALID, "pieceJointeFichier : base64 attendu"))?;
    let record = state
        .app()
        .add_attachment(
            &caller.actor,
            caller.structure,
            AttachmentUpload {
                bytes: &bytes,
                file_name: &req.piece_jointe_nom,
                media_type: &req.piece_jointe_type_mime,
                extension: &req.piece_jointe_extension,
            },
        )
        .await?;
    Ok(Json(AjouterFichierResponse {
        retour: Retour::ok(),
        piece_jointe_id: record.id.0,
    }))
}

/// Input of `transverses/v1/telecharger/pieceJointe`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TelechargerPieceJointeRequest {
    #[serde(deserialize_with = "super::envelope::lenient::i64")]
    #[schema(schema_with = super::envelope::lenient::schema)]
    pub piece_jointe_id: i64,
    /// `DEMANDE_PAIEMENT` (default): the only object attachments belong to here.
    #[serde(default)]
    pub objet_piece_jointe: Option<String>,
}

/// Output of `transverses/v1/telecharger/pieceJointe`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TelechargerPieceJointeResponse {
    #[serde(flatten)]
    pub retour: Retour,
    /// Base64 of the file.
    pub fichier_resultat: String,
    pub nom_fichier: String,
    pub type_mime: String,
}

/// Downloads one attachment: its uploader's while no invoice references it, then only the
/// invoice's supplier and recipient; anyone else gets 10001, as for an unknown id.
#[utoipa::path(
    post,
    path = "/cpro/transverses/v1/telecharger/pieceJointe",
    tag = "transverses",
    request_body = TelechargerPieceJointeRequest,
    responses((status = 200, description = "The file, or codeRetour 10001/10002", body = TelechargerPieceJointeResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn telecharger_piece_jointe(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<TelechargerPieceJointeRequest>,
) -> ApiResult<Json<TelechargerPieceJointeResponse>> {
    if let Some(o) = req.objet_piece_jointe.as_deref().map(str::trim)
        && !matches!(o, "" | "DEMANDE_PAIEMENT")
    {
        return Err(AppError::invalid("objetPieceJointe", Problem::UnknownValue).into());
    }
    let file = match state
        .app()
        .download_attachment(&caller.actor, caller.structure, AttachmentId(req.piece_jointe_id))
        .await
    {
        Err(AppError::NotFound) => return Err(ApiError::not_found("Pièce jointe")),
        other => other?,
    };
    Ok(Json(TelechargerPieceJointeResponse {
        retour: Retour::ok(),
        fichier_resultat: base64::engine::general_purpose::STANDARD.encode(&file.bytes),
        nom_fichier: file.file_name,
        type_mime: file.media_type,
    }))
}
