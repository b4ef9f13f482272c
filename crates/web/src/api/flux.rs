//! Structured flows through the API (spec §3.1, §4.3, §4.5–4.6): `factures/v1/deposer/flux`
//! acknowledges a UBL, CII or Factur-X file once it is durable; `transverses/v1/consulterCR` and
//! `consulterCRDetaille` give its state and the findings of its rejected invoices. Handlers only
//! translate JSON to the use cases of `facteur_app` and back; a flow of another structure answers
//! `codeRetour` 10001, as an unknown one.
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use base64::Engine;
use facteur_app::{AppError, FlowReport, FlowUpload, ReportFinding, flow_number, parse_flow_number};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Caller;
use super::envelope::{CproJson, Retour, format_datetime};
use crate::AppState;
use crate::error::{ApiError, ApiResult, codes, platform_words};

/// Input of `factures/v1/deposer/flux`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeposerFluxRequest {
    /// The file, base64: a UBL 2.1 or CII D16B XML, or a Factur-X PDF/A-3.
    pub fichier_flux: String,
    /// The file's name (200 characters at most).
    pub nom_fichier: String,
    /// `IN_DP_E1_UBL_INVOICE`, `IN_DP_E1_CII_16B` or `IN_DP_E2_CII_FACTURX`; the other values of
    /// the spec are refused (`FP-FLUX-01`).
    pub syntaxe_flux: String,
    /// Accepted; signatures are not checked.
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    #[serde(default)]
    pub avec_signature: Option<bool>,
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    #[serde(default)]
    pub id_utilisateur_courant: Option<serde_json::Value>,
}

/// Output of `factures/v1/deposer/flux`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeposerFluxResponse {
    #[serde(flatten)]
    pub retour: Retour,
    /// The flow's number, for `consulterCR`.
    pub numero_flux_depot: String,
    /// When the flow was received.
    pub date_depot: String,
    pub syntaxe_flux: String,
}

/// Deposits a file as a flow. The answer comes once the file and the flow are durable; the flow is
/// then processed in the background (`IN_RECU` → `IN_EN_COURS_TRAITEMENT_CPP` → `IN_INTEGRE` or
/// `IN_REJETE`): follow it with `transverses/v1/consulterCR`. A retry with the same
/// `Idempotency-Key` header, or the same file within 24 h, answers the first flow again.
#[utoipa::path(
    post,
    path = "/cpro/factures/v1/deposer/flux",
    tag = "factures",
    request_body = DeposerFluxRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried deposit return the first answer")),
    responses((status = 200, description = "Flow received, or codeRetour 20001/20003", body = DeposerFluxResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn deposer_flux(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    CproJson(req): CproJson<DeposerFluxRequest>,
) -> ApiResult<Json<DeposerFluxResponse>> {
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| ApiError::business(codes::INVALID, "Idempotency-Key : texte ASCII attendu"))?,
        ),
        None => None,
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(req.fichier_flux.trim())
        .map_err(|_| ApiError::business(codes::INVALID, "fichierFlux : base64 attendu"))?;
    let done = state
        .app()
        .deposit_flow(
            &caller.actor,
            caller.structure,
            FlowUpload {
                bytes: &bytes,
                file_name: &req.nom_fichier,
                syntax: &req.syntaxe_flux,
            },
            key,
        )
        .await?;
    Ok(Json(DeposerFluxResponse {
        retour: Retour::ok(),
        numero_flux_depot: flow_number(done.flow.id),
        date_depot: format_datetime(done.flow.received_at),
        syntaxe_flux: done.syntax.as_str().to_owned(),
    }))
}

/// Input of `transverses/v1/consulterCR` and `consulterCRDetaille`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsulterCrRequest {
    pub numero_flux_depot: String,
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    #[serde(default)]
    pub id_utilisateur_courant: Option<serde_json::Value>,
}

/// Output of `transverses/v1/consulterCR`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsulterCrResponse {
    #[serde(flatten)]
    pub retour: Retour,
    pub numero_flux_depot: String,
    /// `IN_RECU`, `IN_EN_COURS_TRAITEMENT_CPP`, `IN_INTEGRE`, `IN_INTEGRE_PARTIEL`, `IN_REJETE`.
    pub etat_courant_flux: String,
    pub date_depot: String,
    /// When the state last changed.
    pub date_etat: String,
    pub syntaxe_flux: Option<String>,
    pub nom_fichier: Option<String>,
}

/// One finding of a rejected invoice.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErreurFlux {
    /// `FP-…` for platform rules, the EN 16931 rule id otherwise.
    pub code_erreur: String,
    /// The business term a platform rule is about (`BT-1`, `BT-10`, `BT-13`, `BT-47`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub champ: Option<String>,
    pub libelle_erreur: String,
    pub libelle_erreur_en: String,
    /// Where in the XML, when the engine says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chemin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ligne: Option<u32>,
}

/// A rejected invoice of a flow (`listeErreurDP`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErreurDp {
    /// The invoice number the document gives, if it could be read.
    #[serde(rename = "numeroDP")]
    pub numero_dp: Option<String>,
    pub identifiant_fournisseur: Option<String>,
    pub identifiant_destinataire: Option<String>,
    /// The first finding's words.
    #[serde(rename = "libelleErreurDP")]
    pub libelle_erreur_dp: String,
    /// Every finding.
    pub liste_erreurs: Vec<ErreurFlux>,
}

/// Output of `transverses/v1/consulterCRDetaille`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsulterCrDetailleResponse {
    #[serde(flatten)]
    pub cr: ConsulterCrResponse,
    #[serde(rename = "listeErreurDP")]
    pub liste_erreur_dp: Vec<ErreurDp>,
    /// Technical errors (none: an unreadable file is reported as a rejected invoice).
    pub liste_erreur_technique: Vec<serde_json::Value>,
}

fn erreur(f: ReportFinding) -> ErreurFlux {
    let (fr, en) = match f.rule {
        Some(rule) => {
            let (fr, en) = platform_words(rule);
            (fr.to_owned(), en.to_owned())
        }
        None => (f.message_fr.unwrap_or_default(), f.message_en.unwrap_or_default()),
    };
    ErreurFlux {
        code_erreur: f.code,
        champ: f.field,
        libelle_erreur: fr,
        libelle_erreur_en: en,
        chemin: f.path,
        ligne: f.line,
    }
}

async fn report(state: &AppState, caller: &Caller, numero: &str) -> ApiResult<FlowReport> {
    let id = parse_flow_number(numero).ok_or_else(|| ApiError::not_found("Flux"))?;
    match state.app().flow_report(&caller.actor, caller.structure, id).await {
        Err(AppError::NotFound) => Err(ApiError::not_found("Flux")),
        other => Ok(other?),
    }
}

fn cr(r: &FlowReport) -> ConsulterCrResponse {
    ConsulterCrResponse {
        retour: Retour::ok(),
        numero_flux_depot: flow_number(r.flow.id),
        etat_courant_flux: r.flow.state.as_str().to_owned(),
        date_depot: format_datetime(r.flow.received_at),
        date_etat: format_datetime(r.flow.updated_at),
        syntaxe_flux: r.flow.flow_syntax.clone(),
        nom_fichier: r.flow.file_name.clone(),
    }
}

/// The state of a flow of the caller's structure. The processing report as a PDF (`fichierCR`)
/// is not produced: `consulterCRDetaille` gives the findings.
#[utoipa::path(
    post,
    path = "/cpro/transverses/v1/consulterCR",
    tag = "transverses",
    request_body = ConsulterCrRequest,
    responses((status = 200, description = "The flow's state, or codeRetour 10001", body = ConsulterCrResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn consulter_cr(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<ConsulterCrRequest>,
) -> ApiResult<Json<ConsulterCrResponse>> {
    let r = report(&state, &caller, &req.numero_flux_depot).await?;
    Ok(Json(cr(&r)))
}

/// The state of a flow of the caller's structure and every rejected invoice with its findings
/// (code, French and English words, path and line in the XML when the engine gives them).
#[utoipa::path(
    post,
    path = "/cpro/transverses/v1/consulterCRDetaille",
    tag = "transverses",
    request_body = ConsulterCrRequest,
    responses((status = 200, description = "The flow's report, or codeRetour 10001", body = ConsulterCrDetailleResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn consulter_cr_detaille(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<ConsulterCrRequest>,
) -> ApiResult<Json<ConsulterCrDetailleResponse>> {
    let r = report(&state, &caller, &req.numero_flux_depot).await?;
    let head = cr(&r);
    let liste_erreur_dp = r
        .rejected
        .into_iter()
        .map(|dp| {
            let liste_erreurs: Vec<ErreurFlux> = dp.findings.into_iter().map(erreur).collect();
            ErreurDp {
                numero_dp: dp.number,
                identifiant_fournisseur: dp.supplier,
                identifiant_destinataire: dp.recipient,
                libelle_erreur_dp: liste_erreurs
                    .first()
                    .map(|e| format!("{} : {}", e.code_erreur, e.libelle_erreur))
                    .unwrap_or_default(),
                liste_erreurs,
            }
        })
        .collect();
    Ok(Json(ConsulterCrDetailleResponse {
        cr: head,
        liste_erreur_dp,
        liste_erreur_technique: Vec::new(),
    }))
}
