//! `structures/v1/…`: search and consult structures and their services (spec §1.2, §1.3, §4.3).
//!
//! Visibility: public structures are directory data every caller may read (suppliers need their
//! `idStructureCPP` and service codes to address invoices); a private structure is visible only to
//! its own technical account. Anything else answers `codeRetour` 10001 "not found or not
//! accessible", the same answer as a missing id, so existence does not leak.
use axum::Json;
use axum::extract::State;
use facteur_app::{DirectoryEntry, DirectoryQuery, ServiceView, StructureView};
use facteur_domain::{ServiceId, StructureId, StructureKind, StructureStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Caller;
use super::envelope::{
    CproJson, MAX_RESULTS, Pagination, PaginationRetour, Retour, format_date, format_datetime, lenient,
};
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

fn contains_ci(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

/// One structure as the search sees it (directory line or the caller's own structure).
struct Candidate {
    id: StructureId,
    identifier: String,
    kind_code: String,
    name: String,
    postcode: String,
    city: String,
    country: Option<String>,
    public: bool,
    active: bool,
    a_moa: bool,
    moa_only: bool,
}

impl From<&DirectoryEntry> for Candidate {
    fn from(e: &DirectoryEntry) -> Self {
        Self {
            id: e.id,
            identifier: e.identifier.value().to_owned(),
            kind_code: e.identifier.kind().as_str().to_owned(),
            name: e.name.clone(),
            postcode: e.postcode.clone(),
            city: e.city.clone(),
            country: None,
            public: e.kind == StructureKind::Public,
            active: e.active,
            a_moa: e.parameters.moa.a_moa(),
            moa_only: e.parameters.moa.moa_only(),
        }
    }
}

impl From<&StructureView> for Candidate {
    fn from(v: &StructureView) -> Self {
        let s = &v.structure;
        Self {
            id: v.id,
            identifier: s.identifier.value().to_owned(),
            kind_code: s.identifier.kind().as_str().to_owned(),
            name: s.display_name().to_owned(),
            postcode: s.address.postcode.clone(),
            city: s.address.city.clone(),
            country: Some(s.address.country.clone()),
            public: s.kind == StructureKind::Public,
            active: s.status == StructureStatus::Active,
            a_moa: s.parameters.moa.a_moa(),
            moa_only: s.parameters.moa.moa_only(),
        }
    }
}

impl CriteresStructure {
    fn name_query(&self) -> Option<String> {
        non_empty(&self.raison_sociale_structure)
            .or_else(|| non_empty(&self.libelle_structure))
            .or_else(|| non_empty(&self.nom_structure))
    }

    /// Every criterion, applied in memory (the directory query narrows first).
    fn matches(&self, c: &Candidate) -> bool {
        let eq = |crit: &Option<String>, value: &str| non_empty(crit).is_none_or(|v| v.eq_ignore_ascii_case(value));
        eq(&self.identifiant_structure, &c.identifier)
            && eq(&self.type_identifiant_structure, &c.kind_code)
            && self.name_query().is_none_or(|q| contains_ci(&c.name, &q))
            && non_empty(&self.adresse_code_postal).is_none_or(|p| c.postcode.starts_with(&p))
            && non_empty(&self.adresse_ville).is_none_or(|v| contains_ci(&c.city, &v))
            && non_empty(&self.adresse_code_pays).is_none_or(|p| {
                c.country
                    .as_deref()
                    .is_none_or(|country| country.eq_ignore_ascii_case(&p))
            })
            && self.est_moa.is_none_or(|want| !want || c.a_moa)
            && self.est_moa_uniquement.is_none_or(|want| !want || c.moa_only)
            && eq(&self.statut_structure, if c.active { "ACTIVE" } else { "INACTIVE" })
            && eq(&self.type_structure, if c.public { "PUBLIQUE" } else { "PRIVEE" })
    }
}

/// Public structures matching the criteria, at most [`MAX_RESULTS`].
async fn search_public(state: &AppState, crit: &CriteresStructure) -> ApiResult<Vec<Candidate>> {
    let place = non_empty(&crit.adresse_code_postal).or_else(|| non_empty(&crit.adresse_ville));
    let query = DirectoryQuery {
        identifier: non_empty(&crit.identifiant_structure),
        text: crit.name_query(),
        place,
        public_only: true,
        page: 1,
        page_size: MAX_RESULTS as u32,
    };
    let page = state.app().search_directory(&query).await?;
    Ok(page
        .items
        .iter()
        .map(Candidate::from)
        .filter(|c| crit.matches(c))
        .collect())
}

/// Searches the public directory and the caller's own structure.
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
    let crit = &req.structure;
    let mut found = if req.restreindre_structures_privees == Some(true) {
        Vec::new()
    } else {
        search_public(&state, crit).await?
    };
    let own = state.app().structure(&caller.actor, caller.structure).await?;
    let own = Candidate::from(&own);
    let private_only_ok = req.restreindre_structures_privees != Some(true) || !own.public;
    if private_only_ok && crit.matches(&own) && !found.iter().any(|c| c.id == own.id) {
        found.insert(0, own);
    }
    let (page, parametres_retour) = req.parametres.paginate(found)?;
    let liste_structures = page
        .into_iter()
        .map(|c| StructureTrouvee {
            id_structure_cpp: c.id.get(),
            identifiant_structure: c.identifier,
            type_identifiant_structure: c.kind_code,
            designation_structure: c.name,
            statut: if c.active { "ACTIVE" } else { "INACTIVE" }.to_owned(),
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
