//! `factures/v1/telecharger/groupe`: the files of one or several invoices, for either party.
use axum::Json;
use axum::extract::State;
use base64::Engine as _;
use facteur_app::{AppError, DownloadFormat, InvoiceId, Problem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Caller;
use super::envelope::{CproJson, Retour, lenient};
use super::factures::scoped;
use crate::AppState;
use crate::error::ApiResult;

/// One invoice of `listeFacture`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FactureATelecharger {
    #[serde(deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub id_facture: i64,
}

/// Input of `factures/v1/telecharger/groupe`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TelechargerGroupeRequest {
    /// 1 to 200 invoices of the caller's structure (as supplier or recipient).
    pub liste_facture: Vec<FactureATelecharger>,
    /// `PDF` (default): a readable PDF of each invoice, Factur-X with its XML embedded;
    /// `PIVOT`: the structured copy (EN 16931 UBL or CII).
    #[serde(default)]
    pub format: Option<String>,
    /// `OUI` (or `true`): the answer is a zip holding, besides each invoice's file, its
    /// complementary attachments (`NUMBER_PJ<id>_<name>`). `NON` (default, or `false`): the
    /// invoices' files only.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub avec_pieces_jointes_complementaires: Option<serde_json::Value>,
}

/// Output of `factures/v1/telecharger/groupe`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TelechargerGroupeResponse {
    #[serde(flatten)]
    pub retour: Retour,
    /// Base64 of the file: the invoice's own file for one invoice, a zip for several.
    pub fichier_resultat: String,
    /// Its name (`NUMBER.pdf`, `NUMBER.xml` or `factures.zip`).
    pub nom_fichier: String,
    /// Its media type.
    pub type_mime: String,
}

/// Downloads invoices: their PDF (for a `DEPOT_PDF_API` invoice, the PDF deposited) or their
/// structured copy; a zip for several, or with their attachments. Another
/// structure's invoice answers `10001`, as an unknown id; over 120 MB, HTTP 413.
#[utoipa::path(
    post,
    path = "/cpro/factures/v1/telecharger/groupe",
    tag = "factures",
    request_body = TelechargerGroupeRequest,
    responses(
        (status = 200, description = "The file, or codeRetour 10001 / 10002", body = TelechargerGroupeResponse),
        (status = 413, description = "The result would exceed 120 MB")
    ),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn telecharger_groupe(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<TelechargerGroupeRequest>,
) -> ApiResult<Json<TelechargerGroupeResponse>> {
    let format = match req.format.as_deref().map(str::trim) {
        None | Some("" | "PDF") => DownloadFormat::Pdf,
        Some("PIVOT") => DownloadFormat::Structured,
        Some(_) => {
            return Err(AppError::Invalid {
                field: "format",
                problem: Problem::UnknownValue,
            }
            .into());
        }
    };
    let with_attachments = match &req.avec_pieces_jointes_complementaires {
        None | Some(serde_json::Value::Null | serde_json::Value::Bool(false)) => false,
        Some(serde_json::Value::Bool(true)) => true,
        Some(serde_json::Value::String(s)) => match s.trim() {
            "" | "NON" | "false" => false,
            "OUI" | "true" => true,
            _ => return Err(AppError::invalid("avecPiecesJointesComplementaires", Problem::UnknownValue).into()),
        },
        Some(_) => return Err(AppError::invalid("avecPiecesJointesComplementaires", Problem::UnknownValue).into()),
    };
    let ids: Vec<InvoiceId> = req.liste_facture.iter().map(|f| InvoiceId(f.id_facture)).collect();
    let file = scoped(
        state
            .app()
            .download_invoices(&caller.actor, caller.structure, &ids, format, with_attachments)
            .await,
    )?;
    Ok(Json(TelechargerGroupeResponse {
        retour: Retour::ok(),
        fichier_resultat: base64::engine::general_purpose::STANDARD.encode(&file.bytes),
        nom_fichier: file.file_name,
        type_mime: file.media_type,
    }))
}
