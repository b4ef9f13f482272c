//! `utilisateurs/v1/monCompte/recuperer/rattachements`: the structures the caller is attached to.
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Caller;
use super::envelope::{CproJson, Pagination, PaginationRetour, Retour, format_date};
use crate::AppState;
use crate::error::ApiResult;

/// Input of `utilisateurs/v1/monCompte/recuperer/rattachements`.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct RattachementsRequest {
    pub parametres_recherche: Pagination,
}

/// A service the caller is attached to (`listeServicesRattache[]`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRattache {
    pub id_rattachement_service: i64,
    pub id_service: i64,
    pub code_service: String,
    pub libelle_service: String,
    pub est_actif: bool,
    pub statut_service: String,
    pub statut_rattachement_service: String,
    pub date_dbt_service: Option<String>,
    pub date_fin_service: Option<String>,
}

/// A structure the caller is attached to (`listeStructureRattachement[]`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StructureRattachement {
    pub id_rattachement_structure: i64,
    pub id_structure: i64,
    pub identifiant_structure: String,
    pub type_identifiant_structure: String,
    pub designation_structure: String,
    pub role_utilisateur: String,
    pub statut_rattachement_structure: String,
    pub statut_utilisateur: String,
    pub liste_services_rattache: Vec<ServiceRattache>,
}

/// Output of `utilisateurs/v1/monCompte/recuperer/rattachements`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RattachementsResponse {
    #[serde(flatten)]
    pub retour: Retour,
    pub liste_structure_rattachement: Vec<StructureRattachement>,
    pub parametres_retour: PaginationRetour,
}

/// The caller's attachments. A technical account is attached to its own structure and all its
/// services, and to nothing else — the cheap connection test integrators use.
#[utoipa::path(
    post,
    path = "/cpro/utilisateurs/v1/monCompte/recuperer/rattachements",
    tag = "utilisateurs",
    request_body = RattachementsRequest,
    responses((status = 200, description = "Active attachments", body = RattachementsResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn recuperer_rattachements(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<RattachementsRequest>,
) -> ApiResult<Json<RattachementsResponse>> {
    let structure = state.app().structure(&caller.actor, caller.structure).await?;
    let services = state.app().services(&caller.actor, caller.structure).await?;
    let s = &structure.structure;
    let line = StructureRattachement {
        id_rattachement_structure: structure.id.get(),
        id_structure: structure.id.get(),
        identifiant_structure: s.identifier.value().to_owned(),
        type_identifiant_structure: s.identifier.kind().as_str().to_owned(),
        designation_structure: s.display_name().to_owned(),
        role_utilisateur: facteur_domain::Role::SimpleUser.as_str().to_owned(),
        statut_rattachement_structure: facteur_domain::MembershipStatus::Approved.as_str().to_owned(),
        statut_utilisateur: facteur_domain::UserStatus::Active.as_str().to_owned(),
        liste_services_rattache: services
            .iter()
            .map(|v| ServiceRattache {
                id_rattachement_service: v.id.get(),
                id_service: v.id.get(),
                code_service: v.service.code.as_str().to_owned(),
                libelle_service: v.service.label.clone(),
                est_actif: v.service.active,
                statut_service: if v.service.active { "ACTIF" } else { "INACTIF" }.to_owned(),
                statut_rattachement_service: facteur_domain::MembershipStatus::Approved.as_str().to_owned(),
                date_dbt_service: v.service.valid_from.map(format_date),
                date_fin_service: v.service.valid_to.map(format_date),
            })
            .collect(),
    };
    let (page, parametres_retour) = req.parametres_recherche.paginate(vec![line])?;
    Ok(Json(RattachementsResponse {
        retour: Retour::ok(),
        liste_structure_rattachement: page,
        parametres_retour,
    }))
}
