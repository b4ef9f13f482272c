//! `structures/v1/…`: search and consult structures and their services (spec §1.2, §1.3, §4.3).
//!
//! Visibility: public structures are directory data every caller may read (suppliers need their
//! `idStructureCPP` and service codes to address invoices); a private structure is visible only to
//! its own technical account. Anything else answers `codeRetour` 10001 "not found or not
//! accessible", the same answer as a missing id, so existence does not leak.
use axum::Json;
use axum::extract::State;
use facteur_app::{DirectoryQuery, DirectoryScope, ServiceView, StructureView};
use facteur_domain::{IdentifierKind, ServiceId, StructureId, StructureKind, StructureStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Caller;
use super::envelope::{CproJson, Pagination, PaginationRetour, Retour, format_date, format_datetime, lenient};
use crate::AppState;
use crate::error::{ApiError, ApiResult, codes};

// ---------------------------------------------------------------------------------------------
// structures/v1/rechercher

/// Search criteria (`structure`); empty fields are ignored.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct CriteresStructure {
    pub identifiant_structure: Option<String>,
    pub type_identifiant_structure: Option<String>,
    pub raison_sociale_structure: Option<String>,
    pub libelle_structure: Option<String>,
    pub nom_structure: Option<String>,
    pub prenom_structure: Option<String>,
    pub adresse_code_postal: Option<String>,
    pub adresse_ville: Option<String>,
    pub adresse_code_pays: Option<String>,
    #[serde(rename = "estMOA")]
    pub est_moa: Option<bool>,
    #[serde(rename = "estMOAUniquement")]
    pub est_moa_uniquement: Option<bool>,
    /// `ACTIVE` / `INACTIVE`.
    pub statut_structure: Option<String>,
    /// `PUBLIQUE` / `PRIVEE`.
    pub type_structure: Option<String>,
}

/// Input of `structures/v1/rechercher`.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct RechercherStructuresRequest {
    pub structure: CriteresStructure,
    /// When true, only private structures (for an API caller: its own) are searched.
    pub restreindre_structures_privees: Option<bool>,
    pub parametres: Pagination,
}

/// One line of `listeStructures`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StructureTrouvee {
    #[serde(rename = "idStructureCPP")]
    pub id_structure_cpp: i64,
    pub identifiant_structure: String,
    pub type_identifiant_structure: String,
    pub designation_structure: String,
    pub statut: String,
}

/// Output of `structures/v1/rechercher`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RechercherStructuresResponse {
    #[serde(flatten)]
    pub retour: Retour,
    pub liste_structures: Vec<StructureTrouvee>,
    pub parametres_retour: PaginationRetour,
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

impl CriteresStructure {
    fn name_query(&self) -> Option<String> {
        non_empty(&self.raison_sociale_structure)
            .or_else(|| non_empty(&self.libelle_structure))
            .or_else(|| non_empty(&self.nom_structure))
    }

    /// The directory query of these criteria, every one of them applied by the store; `None`
    /// when a coded criterion names no value (an unknown status, kind or identifier type), which
    /// nothing can match.
    fn query(&self, private_only: bool) -> Option<DirectoryQuery> {
        let coded = |v: &Option<String>| non_empty(v).map(|s| s.to_ascii_uppercase());
        let identifier_kind = match coded(&self.type_identifiant_structure) {
            Some(k) => Some(k.parse::<IdentifierKind>().ok()?),
            None => None,
        };
        let status = match coded(&self.statut_structure) {
            Some(s) => Some(s.parse::<StructureStatus>().ok()?),
            None => None,
        };
        let kind = match coded(&self.type_structure) {
            Some(k) => Some(k.parse::<StructureKind>().ok()?),
            None => None,
        };
        let (scope, kind) = if private_only {
            // Only the caller's own structure, and only when it is private.
            if kind == Some(StructureKind::Public) {
                return None;
            }
            (DirectoryScope::OwnOnly, Some(StructureKind::Private))
        } else {
            (DirectoryScope::PublicAndOwn, kind)
        };
        Some(DirectoryQuery {
            scope,
            identifier: non_empty(&self.identifiant_structure),
            identifier_kind,
            name: self.name_query(),
            postcode: non_empty(&self.adresse_code_postal),
            city: non_empty(&self.adresse_ville),
            country: non_empty(&self.adresse_code_pays),
            kind,
            // Without a status, the public directory lists its active structures and the caller's
            // own structure comes whatever its status.
            status: status.or(Some(StructureStatus::Active)),
            own_any_status: status.is_none(),
            with_moa: self.est_moa == Some(true),
            moa_only: self.est_moa_uniquement == Some(true),
            ..DirectoryQuery::default()
        })
    }
}

/// Searches the public directory and the caller's own structure.
///
/// Every criterion is applied in the database before the page is cut, so `total` counts every match up to `nbResultatsMaximum`
/// (200 at most, as on Chorus Pro). Results are ordered by company name.
#[utoipa::path(
    post,
    path = "/cpro/structures/v1/rechercher",
    tag = "structures",
    request_body = RechercherStructuresRequest,
    responses((status = 200, description = "Matching structures", body = RechercherStructuresResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn rechercher(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<RechercherStructuresRequest>,
) -> ApiResult<Json<RechercherStructuresResponse>> {
    let request = req.parametres.request()?;
    let page = match req.structure.query(req.restreindre_structures_privees == Some(true)) {
        Some(q) => state.app().search_directory(Some(&caller.actor), &q, request).await?,
        None => request.slice(Vec::new()),
    };
    let parametres_retour = PaginationRetour::of(&page);
    let liste_structures = page
        .items
        .into_iter()
        .map(|e| StructureTrouvee {
            id_structure_cpp: e.id.get(),
            identifiant_structure: e.identifier.value().to_owned(),
            type_identifiant_structure: e.identifier.kind().as_str().to_owned(),
            designation_structure: e.name,
            statut: if e.active { "ACTIVE" } else { "INACTIVE" }.to_owned(),
        })
        .collect();
    Ok(Json(RechercherStructuresResponse {
        retour: Retour::ok(),
        liste_structures,
        parametres_retour,
    }))
}

// ---------------------------------------------------------------------------------------------
// structures/v1/consulter

/// Input of `structures/v1/consulter` (`idStructure` is accepted too, as some clients send it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsulterStructureRequest {
    /// The structure (`idStructure` is read the same way; one of the two is required).
    #[serde(rename = "idStructureCPP", default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub id_structure_cpp: Option<i64>,
    /// Another name of `idStructureCPP` that some clients send.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub id_structure: Option<i64>,
    /// `FR` / `EN`; accepted, labels are French.
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    pub code_langue: Option<String>,
}

/// `listeStructureDupliquees[]`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StructureDupliquee {
    pub structure_dupliquee: i64,
}

/// `informationGenerales`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InformationGenerales {
    #[serde(rename = "idStructureCPP")]
    pub id_structure_cpp: i64,
    pub id_structure_origine: Option<i64>,
    pub identifiant_structure: String,
    pub type_identifiant_structure: String,
    pub libelle_structure: String,
    pub raison_sociale_structure: String,
    pub nom_structure: Option<String>,
    pub prenom_structure: Option<String>,
    pub email_structure: Option<String>,
    #[serde(rename = "numeroTVA")]
    pub numero_tva: Option<String>,
    pub numero_rcs_structure: Option<String>,
    /// `PUBLIQUE` / `PRIVEE`.
    pub structure_privee_publique: String,
    pub est_valideur_deleguee: bool,
    pub liste_structure_dupliquees: Vec<StructureDupliquee>,
    /// Only for the caller's own structure; `YYYY-MM-DD HH:MM`.
    pub date_expiration_mot_passe_compte_tech: Option<String>,
}

/// `adressePostaleDuSiege` / `adressePostale`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdressePostale {
    pub adresse: String,
    pub complement_adresse1: Option<String>,
    pub complement_adresse2: Option<String>,
    pub code_postal: String,
    pub ville: String,
    pub pays: String,
    pub telephone: Option<String>,
    pub indicatif_telephone: Option<String>,
    pub fax: Option<String>,
    pub indicatif_fax: Option<String>,
}

/// `parametres` of a structure (its invoicing rules).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParametresStructure {
    pub code_service_doit_etre_renseigne: bool,
    #[serde(rename = "numeroEJDoitEtreRenseigne")]
    pub numero_ej_doit_etre_renseigne: bool,
    #[serde(rename = "gestionNumeroEJOuCodeService")]
    pub gestion_numero_ej_ou_code_service: bool,
    pub statut_mise_en_paiement_nest_pas_remonte: bool,
    pub a_moa: bool,
    pub est_moa_uniquement: bool,
    pub est_valideur_delegue: bool,
    #[serde(rename = "connexionEDI")]
    pub connexion_edi: bool,
    #[serde(rename = "recevoirDonneesViaEDI")]
    pub recevoir_donnees_via_edi: bool,
    pub non_diffusible_insee: bool,
}

/// Output of `structures/v1/consulter`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsulterStructureResponse {
    #[serde(flatten)]
    pub retour: Retour,
    pub information_generales: InformationGenerales,
    pub adresse_postale_du_siege: AdressePostale,
    pub parametres: ParametresStructure,
}

fn adresse(a: &facteur_domain::Address) -> AdressePostale {
    AdressePostale {
        adresse: a.line1.clone(),
        complement_adresse1: a.line2.clone(),
        complement_adresse2: a.line3.clone(),
        code_postal: a.postcode.clone(),
        ville: a.city.clone(),
        pays: a.country.clone(),
        telephone: a.phone.clone(),
        indicatif_telephone: None,
        fax: None,
        indicatif_fax: None,
    }
}

/// Fetches a structure the caller may see, mapping "not visible" to the not-found answer.
async fn visible_structure(state: &AppState, caller: &Caller, id: i64) -> ApiResult<StructureView> {
    hide_inaccessible(state.app().structure(&caller.actor, StructureId(id)).await)
}

/// Details of the caller's own structure or of a public structure.
#[utoipa::path(
    post,
    path = "/cpro/structures/v1/consulter",
    tag = "structures",
    request_body = ConsulterStructureRequest,
    responses((status = 200, description = "Structure details, or codeRetour 10001", body = ConsulterStructureResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn consulter(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<ConsulterStructureRequest>,
) -> ApiResult<Json<ConsulterStructureResponse>> {
    let id = req
        .id_structure_cpp
        .or(req.id_structure)
        .ok_or_else(|| ApiError::business(codes::INVALID, "idStructureCPP : champ obligatoire"))?;
    let view = visible_structure(&state, &caller, id).await?;
    let s = &view.structure;
    let own = view.id == caller.structure;
    // The technical password's expiry concerns the structure itself only.
    let expiry = if own {
        match state.app().technical_account(&caller.actor, view.id).await {
            Ok(Some(t)) => Some(format_datetime(t.password_expires_at)),
            _ => None,
        }
    } else {
        None
    };
    let individual = s.identifier.kind() == facteur_domain::IdentifierKind::Individual;
    let p = &s.parameters;
    Ok(Json(ConsulterStructureResponse {
        retour: Retour::ok(),
        information_generales: InformationGenerales {
            id_structure_cpp: view.id.get(),
            id_structure_origine: None,
            identifiant_structure: s.identifier.value().to_owned(),
            type_identifiant_structure: s.identifier.kind().as_str().to_owned(),
            libelle_structure: s.display_name().to_owned(),
            raison_sociale_structure: s.company_name.clone(),
            nom_structure: individual.then(|| s.company_name.clone()),
            prenom_structure: None,
            email_structure: s.email.as_ref().map(|e| e.as_str().to_owned()),
            numero_tva: s.vat_number.as_ref().map(|v| v.as_str().to_owned()),
            numero_rcs_structure: None,
            structure_privee_publique: s.kind.as_str().to_owned(),
            est_valideur_deleguee: false,
            liste_structure_dupliquees: Vec::new(),
            date_expiration_mot_passe_compte_tech: expiry,
        },
        adresse_postale_du_siege: adresse(&s.address),
        parametres: ParametresStructure {
            code_service_doit_etre_renseigne: p.service_code_required,
            numero_ej_doit_etre_renseigne: p.engagement_required,
            gestion_numero_ej_ou_code_service: p.service_code_or_engagement_required,
            statut_mise_en_paiement_nest_pas_remonte: p.payment_status_not_reported,
            a_moa: p.moa.a_moa(),
            est_moa_uniquement: p.moa.moa_only(),
            est_valideur_delegue: false,
            connexion_edi: false,
            recevoir_donnees_via_edi: false,
            non_diffusible_insee: false,
        },
    }))
}

// ---------------------------------------------------------------------------------------------
// structures/v1/rechercher/services

/// Input of `structures/v1/rechercher/services`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RechercherServicesRequest {
    #[serde(deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub id_structure: i64,
    /// Accepted and ignored: the technical account is the current user.
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub id_utilisateur_courant: Option<i64>,
    #[serde(default, alias = "parametres")]
    pub parametres_rechercher_services_structure: Pagination,
}

/// One line of `listeServices`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceTrouve {
    pub id_service: i64,
    pub code_service: String,
    pub libelle_service: String,
    pub est_actif: bool,
    /// `ACTIF` / `INACTIF`.
    pub statut_service: String,
    /// `YYYY-MM-DD HH:MM`.
    pub date_dbt_service: Option<String>,
    pub date_fin_service: Option<String>,
}

/// Output of `structures/v1/rechercher/services`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RechercherServicesResponse {
    #[serde(flatten)]
    pub retour: Retour,
    pub liste_services: Vec<ServiceTrouve>,
    pub parametres_retour: PaginationRetour,
}

pub(crate) fn service_line(v: &ServiceView) -> ServiceTrouve {
    let s = &v.service;
    ServiceTrouve {
        id_service: v.id.get(),
        code_service: s.code.as_str().to_owned(),
        libelle_service: s.label.clone(),
        est_actif: s.active,
        statut_service: if s.active { "ACTIF" } else { "INACTIF" }.to_owned(),
        date_dbt_service: s.valid_from.map(format_date),
        date_fin_service: s.valid_to.map(format_date),
    }
}

async fn visible_services(state: &AppState, caller: &Caller, id: i64) -> ApiResult<Vec<ServiceView>> {
    hide_inaccessible(state.app().services(&caller.actor, StructureId(id)).await)
}

/// Services of the caller's own structure or of a public structure.
#[utoipa::path(
    post,
    path = "/cpro/structures/v1/rechercher/services",
    tag = "structures",
    request_body = RechercherServicesRequest,
    responses((status = 200, description = "Services, or codeRetour 10001", body = RechercherServicesResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn rechercher_services(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<RechercherServicesRequest>,
) -> ApiResult<Json<RechercherServicesResponse>> {
    let services = visible_services(&state, &caller, req.id_structure).await?;
    let (page, parametres_retour) = req.parametres_rechercher_services_structure.paginate(services)?;
    Ok(Json(RechercherServicesResponse {
        retour: Retour::ok(),
        liste_services: page.iter().map(service_line).collect(),
        parametres_retour,
    }))
}

// ---------------------------------------------------------------------------------------------
// structures/v1/consulter/service

/// Input of `structures/v1/consulter/service`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsulterServiceRequest {
    #[serde(deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub id_structure: i64,
    #[serde(deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub id_service: i64,
    /// `FR` / `EN`; accepted, labels are French.
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    pub code_langue: Option<String>,
}

/// `informationsGenerales` of a service.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InformationsGeneralesService {
    pub code_service: String,
    pub nom_service: String,
    pub description_service: Option<String>,
}

/// `parametres` of a service.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParametresService {
    /// An engagement number is required for invoices to this service.
    pub numero_engagement: bool,
    /// The service reports the `MISE_EN_PAIEMENT` status.
    pub mise_en_paiement: bool,
    pub date_creation: Option<String>,
    pub date_debut_validite: Option<String>,
    pub date_fin_validite: Option<String>,
    pub date_modification: Option<String>,
}

/// Output of `structures/v1/consulter/service`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsulterServiceResponse {
    #[serde(flatten)]
    pub retour: Retour,
    pub informations_generales: InformationsGeneralesService,
    pub parametres: ParametresService,
    /// Services have no address of their own here: the structure's head office.
    pub adresse_postale: AdressePostale,
}

/// One service of the caller's own structure or of a public structure.
#[utoipa::path(
    post,
    path = "/cpro/structures/v1/consulter/service",
    tag = "structures",
    request_body = ConsulterServiceRequest,
    responses((status = 200, description = "Service details, or codeRetour 10001", body = ConsulterServiceResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn consulter_service(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<ConsulterServiceRequest>,
) -> ApiResult<Json<ConsulterServiceResponse>> {
    let structure = visible_structure(&state, &caller, req.id_structure).await?;
    let services = visible_services(&state, &caller, req.id_structure).await?;
    // The service must belong to the structure named in the request.
    let Some(v) = services
        .iter()
        .find(|s| s.id == ServiceId(req.id_service) && s.structure_id == structure.id)
    else {
        return Err(ApiError::not_found("Service"));
    };
    let s = &v.service;
    Ok(Json(ConsulterServiceResponse {
        retour: Retour::ok(),
        informations_generales: InformationsGeneralesService {
            code_service: s.code.as_str().to_owned(),
            nom_service: s.label.clone(),
            description_service: None,
        },
        parametres: ParametresService {
            numero_engagement: s.parameters.engagement_required,
            mise_en_paiement: !s.parameters.payment_status_not_reported,
            date_creation: None,
            date_debut_validite: s.valid_from.map(format_date),
            date_fin_validite: s.valid_to.map(format_date),
            date_modification: None,
        },
        adresse_postale: adresse(&structure.structure.address),
    }))
}

/// A structure the caller may not see answers exactly like one that does not exist, so the API never
/// reveals which identifiers are taken.
fn hide_inaccessible<T>(result: Result<T, facteur_app::AppError>) -> ApiResult<T> {
    match result {
        Ok(v) => Ok(v),
        Err(facteur_app::AppError::NotFound | facteur_app::AppError::Forbidden) => {
            Err(ApiError::not_found("Structure"))
        }
        Err(e) => Err(e.into()),
    }
}
