//! Structured flows through the API (spec §3.1, §4.3, §4.5–4.6): `factures/v1/deposer/flux`
//! acknowledges a UBL, CII or Factur-X file once it is durable; `transverses/v1/consulterCR` and
//! `consulterCRDetaille` give its state and the findings of its rejected invoices. Handlers only
//! translate JSON to the use cases of `facteur_app` and back; a flow of another structure answers
//! `codeRetour` 10001, as an unknown one.
use axum::Json;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, header};
use base64::Engine;
use facteur_app::{
    AppError, FlowFileUpload, FlowReport, FlowSyntax, FlowUpload, ReportFinding, flow_number, parse_flow_number,
};
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
    /// The file, base64: a UBL 2.1 or CII D16B XML, a Factur-X PDF/A-3, or a batch: a `.zip` or
    /// `.tar.gz` of up to 500 such files, all of `syntaxeFlux`.
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

/// The parts of a streamed `factures/v1/deposer/flux` (`multipart/form-data`), for the OpenAPI
/// document: the three required fields of the JSON form, the file sent as is (not base64). A
/// multipart part carries no type, so its text is checked here as the schema says, and anything
/// else is a malformed request (400): a missing, repeated or other part, a `syntaxeFlux` the
/// platform does not read, a `nomFichier` without an extension or with a control character.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(
    dead_code,
    reason = "documents the multipart form; the handler reads the parts as they come"
)]
pub struct DeposerFluxMultipart {
    /// The file, as a file part: an invoice, or a `.zip` / `.tar.gz` batch (1 GiB at most by
    /// default, `FACTEUR_FLOW_LIMIT_MB`).
    #[serde(rename = "fichierFlux")]
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    pub fichier_flux: String,
    #[serde(rename = "nomFichier")]
    #[schema(max_length = 200, pattern = r"^[^\x00-\x1f\x7f/\\]+\.[A-Za-z][A-Za-z0-9]{0,9}$")]
    pub nom_fichier: String,
    #[serde(rename = "syntaxeFlux")]
    #[schema(pattern = "^(IN_DP_E1_UBL_INVOICE|IN_DP_E1_CII_16B|IN_DP_E2_CII_FACTURX)$")]
    pub syntaxe_flux: String,
}

/// Deposits a file as a flow: one invoice (UBL, CII, Factur-X) or a batch (`.zip` or `.tar.gz` of
/// up to 500 invoices of the declared `syntaxeFlux`). The answer comes once the file and the flow
/// are durable; the flow is then processed in the background (`IN_RECU` →
/// `IN_EN_COURS_TRAITEMENT_CPP` → `IN_INTEGRE`, `IN_INTEGRE_PARTIEL` or `IN_REJETE`): follow it
/// with `transverses/v1/consulterCR`. The file comes base64 in JSON (`fichierFlux`, within the API
/// body limit) or, for large flows, as a `multipart/form-data` upload (parts `syntaxeFlux`,
/// `nomFichier`, then the file part `fichierFlux`), streamed to disk. A retry with the same
/// `Idempotency-Key` header, or the same file within 24 h, answers the first flow again.
#[utoipa::path(
    post,
    path = "/cpro/factures/v1/deposer/flux",
    tag = "factures",
    request_body(content(
        (DeposerFluxRequest = "application/json"),
        (DeposerFluxMultipart = "multipart/form-data"),
    )),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried deposit return the first answer")),
    responses((status = 200, description = "Flow received, or codeRetour 20001/20003", body = DeposerFluxResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn deposer_flux(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    request: Request,
) -> ApiResult<Json<DeposerFluxResponse>> {
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| ApiError::business(codes::INVALID, "Idempotency-Key : texte ASCII attendu"))?,
        ),
        None => None,
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let done = if content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        let boundary = multer::parse_boundary(content_type)
            .map_err(|_| ApiError::Malformed("multipart/form-data sans boundary".to_owned()))?;
        let upload = receive(&state, request, boundary).await?;
        state
            .app()
            .deposit_flow_file(
                &caller.actor,
                caller.structure,
                FlowFileUpload {
                    path: upload.file.path(),
                    size: upload.size,
                    sha256: upload.sha256,
                    file_name: &upload.file_name,
                    syntax: &upload.syntax,
                },
                key,
            )
            .await?
    } else {
        let CproJson(req) = CproJson::<DeposerFluxRequest>::from_request(request, &state).await?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(req.fichier_flux.trim())
            .map_err(|_| ApiError::business(codes::INVALID, "fichierFlux : base64 attendu"))?;
        state
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
            .await?
    };
    Ok(Json(DeposerFluxResponse {
        retour: Retour::ok(),
        numero_flux_depot: flow_number(done.flow.id),
        date_depot: format_datetime(done.flow.received_at),
        syntaxe_flux: done.syntax.as_str().to_owned(),
    }))
}

/// A streamed upload: the file part written to a temporary file (removed when dropped), hashed
/// on the way.
struct Received {
    file: tempfile::NamedTempFile,
    size: u64,
    sha256: [u8; 32],
    file_name: String,
    syntax: String,
}

/// Longest text part of the multipart form.
const TEXT_PART_BYTES: u64 = 4 * 1024;

fn multipart_error(e: multer::Error) -> ApiError {
    match e {
        // The route's body limit cut the stream.
        multer::Error::StreamReadFailed(_) | multer::Error::StreamSizeExceeded { .. } => ApiError::PayloadTooLarge,
        multer::Error::FieldSizeExceeded { field_name, .. } => ApiError::business(
            codes::INVALID,
            format!("{} : texte trop long", field_name.unwrap_or_default()),
        ),
        other => ApiError::Malformed(other.to_string()),
    }
}

/// Reads the multipart form part by part; the file part goes to a temporary file of the data
/// directory, never whole into memory (the route's body limit bounds it).
async fn receive(state: &AppState, request: Request, boundary: String) -> ApiResult<Received> {
    use sha2::Digest;
    use tokio::io::AsyncWriteExt;
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .for_field("syntaxeFlux", TEXT_PART_BYTES)
            .for_field("nomFichier", TEXT_PART_BYTES),
    );
    let mut form = multer::Multipart::with_constraints(request.into_body().into_data_stream(), boundary, constraints);
    let internal = |e: std::io::Error| ApiError::Internal(format!("upload: {e}"));
    let malformed = |what: String| ApiError::Malformed(what);
    let (mut file_name, mut syntax, mut file) = (None, None, None);
    while let Some(mut part) = form.next_field().await.map_err(multipart_error)? {
        let name = part.name().unwrap_or_default().to_owned();
        let repeated = match name.as_str() {
            "fichierFlux" => file.is_some(),
            "nomFichier" => file_name.is_some(),
            "syntaxeFlux" => syntax.is_some(),
            _ => return Err(malformed(format!("partie inconnue « {} »", name.escape_default()))),
        };
        if repeated {
            return Err(malformed(format!("partie {name} en double")));
        }
        match name.as_str() {
            "fichierFlux" => {
                let dir = state.app().data_dir().join("tmp");
                tokio::fs::create_dir_all(&dir).await.map_err(internal)?;
                let temp = tempfile::NamedTempFile::new_in(&dir).map_err(internal)?;
                let mut out = tokio::fs::File::from_std(temp.reopen().map_err(internal)?);
                let mut hasher = sha2::Sha256::new();
                let mut size = 0u64;
                while let Some(chunk) = part.chunk().await.map_err(multipart_error)? {
                    hasher.update(&chunk);
                    size += chunk.len() as u64;
                    out.write_all(&chunk).await.map_err(internal)?;
                }
                out.flush().await.map_err(internal)?;
                out.sync_all().await.map_err(internal)?;
                file = Some((temp, size, hasher.finalize().into()));
            }
            "nomFichier" => file_name = Some(part.text().await.map_err(multipart_error)?),
            _ => syntax = Some(part.text().await.map_err(multipart_error)?),
        }
    }
    let missing = |field: &str| malformed(format!("partie {field} manquante"));
    let file_name = file_name.ok_or_else(|| missing("nomFichier"))?;
    if !multipart_file_name(&file_name) {
        return Err(malformed(
            "nomFichier : un nom de fichier avec son extension est attendu".to_owned(),
        ));
    }
    let syntax = syntax.ok_or_else(|| missing("syntaxeFlux"))?;
    // The schema's `$` also admits one final line feed (ECMA and Python regular expressions).
    let code = syntax.strip_suffix('\n').unwrap_or(&syntax);
    if FlowSyntax::parse(code).is_none() || code.trim() != code {
        return Err(malformed(
            "syntaxeFlux : IN_DP_E1_UBL_INVOICE, IN_DP_E1_CII_16B ou IN_DP_E2_CII_FACTURX".to_owned(),
        ));
    }
    let (file, size, sha256) = file.ok_or_else(|| missing("fichierFlux"))?;
    Ok(Received {
        file,
        size,
        sha256,
        file_name,
        syntax,
    })
}

/// A multipart `nomFichier` as its schema's pattern says: at most 200 characters, a name without
/// control character or folder separator, then an extension (a letter, then up to nine letters or
/// digits).
fn multipart_file_name(name: &str) -> bool {
    // The pattern's `$` also admits one final line feed (refused later as a control character).
    let name = name.strip_suffix('\n').unwrap_or(name);
    let Some((stem, extension)) = name.rsplit_once('.') else {
        return false;
    };
    let mut ext = extension.chars();
    name.chars().count() <= 200
        && !stem.is_empty()
        && !stem.chars().any(|c| c.is_ascii_control() || c == '/' || c == '\\')
        && ext.next().is_some_and(|c| c.is_ascii_alphabetic())
        && extension.len() <= 10
        && ext.all(|c| c.is_ascii_alphanumeric())
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
    /// Rank of the invoice in the flow: 0 for a single file (or an archive refused as a whole),
    /// from 1 for the files of a batch, in archive order.
    pub rang_facture: u32,
    /// The file of the batch archive the invoice came from (the file at fault when the archive
    /// is refused as a whole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nom_fichier_facture: Option<String>,
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
                rang_facture: dp.rank,
                nom_fichier_facture: dp.entry_name,
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

#[cfg(test)]
mod tests {
    use super::multipart_file_name;

    #[test]
    fn multipart_file_names_need_an_extension_and_no_control_character() {
        for good in ["f.xml", "lot.tar.gz", "a..xml", "facture n°1.PDF", "f.xml\n"] {
            assert!(multipart_file_name(good), "{good:?}");
        }
        for bad in [
            "",
            "0",
            "1.5",
            "false",
            ".xml",
            "f.",
            "f.1x",
            "a/b.xml",
            "a\\b.xml",
            "a\tb.xml",
            "f.xmlxmlxmlxm",
        ] {
            assert!(!multipart_file_name(bad), "{bad:?}");
        }
        assert!(!multipart_file_name(&format!("{}.xml", "a".repeat(197))));
        assert!(multipart_file_name(&format!("{}.xml", "a".repeat(196))));
    }
}
