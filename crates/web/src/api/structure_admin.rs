//! Structure self-management through the API: the caller's bank details
//! (`transverses/v1/recuperer/coordbanc/valides`, as on Chorus Pro) and the services that change
//! the caller's structure record.
//!
//! Chorus Pro removed its structure-administration services from the public API in 2020 (they
//! became portal-only, spec §4.1). Facteur offers them again under `/cpro/structures/v1/…`, named
//! like the remaining services (verb, then object): `modifier`, `modifier/parametres`,
//! `creer/service`, `modifier/service`, `ajouter/coordbanc`, `modifier/coordbanc`. They act on the
//! caller's own structure only. A technical account manages nothing by itself: each change names,
//! in `idUtilisateurCourant`, the main or secondary manager it is made for, who is checked (a
//! simple user: `codeRetour` 20001; a user outside the structure: 10001) and recorded in the audit
//! log.
use axum::Json;
use axum::extract::State;
use facteur_app::{Actor, AppError, BankAccountEdit, BankAccountView, ServiceForm};
use facteur_domain::{
    BankAccountId, CoordinatesForm, MoaPresence, ServiceId, StructureId, StructureParameters, UserId,
};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use super::Caller;
use super::envelope::{CproJson, Retour, lenient};
use crate::AppState;
use crate::error::{ApiError, ApiResult, codes};

// ---------------------------------------------------------------------------------------------
// transverses/v1/recuperer/coordbanc/valides

/// Input of `transverses/v1/recuperer/coordbanc/valides`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecupererCoordBancRequest {
    /// The caller's own structure (another one answers `codeRetour` 10001).
    #[serde(deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub id_structure: i64,
}

/// One line of `listeCoordonneeBancaire`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CoordonneeBancaire {
    /// What an invoice references (`fournisseur.codeCoordonneesBancairesFournisseur`).
    pub id_coordonnee_bancaire: i64,
    pub nom_coordonnee_bancaire: String,
    pub iban: String,
    pub bic: Option<String>,
    /// The details of a factor (*affactureur*).
    pub est_affactureur: bool,
    /// The structure's default account.
    pub est_par_defaut: bool,
}

/// Output of `transverses/v1/recuperer/coordbanc/valides`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecupererCoordBancResponse {
    #[serde(flatten)]
    pub retour: Retour,
    pub liste_coordonnee_bancaire: Vec<CoordonneeBancaire>,
}

fn coordonnee(v: BankAccountView) -> CoordonneeBancaire {
    CoordonneeBancaire {
        id_coordonnee_bancaire: v.id.get(),
        nom_coordonnee_bancaire: v.details.label,
        iban: v.details.iban.as_str().to_owned(),
        bic: v.details.bic.map(|b| b.as_str().to_owned()),
        est_affactureur: v.details.factor,
        est_par_defaut: v.is_default,
    }
}

/// The active bank details of the caller's structure, the default first.
#[utoipa::path(
    post,
    path = "/cpro/transverses/v1/recuperer/coordbanc/valides",
    tag = "transverses",
    request_body = RecupererCoordBancRequest,
    responses((status = 200, description = "Active bank details, or codeRetour 10001", body = RecupererCoordBancResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn recuperer_coordbanc_valides(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<RecupererCoordBancRequest>,
) -> ApiResult<Json<RecupererCoordBancResponse>> {
    let list = match state
        .app()
        .bank_accounts(&caller.actor, StructureId(req.id_structure), true)
        .await
    {
        Ok(list) => list,
        Err(AppError::NotFound | AppError::Forbidden) => return Err(ApiError::not_found("Structure")),
        Err(e) => return Err(e.into()),
    };
    Ok(Json(RecupererCoordBancResponse {
        retour: Retour::ok(),
        liste_coordonnee_bancaire: list.into_iter().map(coordonnee).collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Shared by the changes

/// The manager named by `idUtilisateurCourant` (0 or absent: nobody, refused).
async fn acting(state: &AppState, caller: &Caller, user: i64) -> ApiResult<Actor> {
    let user = (user != 0).then_some(UserId(user));
    Ok(state.app().acting_manager(&caller.actor, user).await?)
}

/// The structure a change is about: the caller's own (an `idStructureCPP` of another is 10001).
fn own_structure(caller: &Caller, id: Option<i64>) -> ApiResult<StructureId> {
    match id {
        Some(id) if id != caller.structure.get() => Err(ApiError::not_found("Structure")),
        _ => Ok(caller.structure),
    }
}

/// `YYYY-MM-DD`, or `YYYY-MM-DD HH:MM` as Chorus Pro writes dates (the time is ignored); blank is
/// no date.
fn date(field: &str, value: Option<&str>) -> ApiResult<Option<Date>> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let day = v
        .get(..10)
        .filter(|_| v.len() == 10 || v.as_bytes().get(10) == Some(&b' '));
    day.and_then(|d| Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok())
        .map(Some)
        .ok_or_else(|| ApiError::business(codes::INVALID, format!("{field} : date attendue (AAAA-MM-JJ)")))
}

/// `codeRetour` 0 and the id of what was created or changed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModifierStructureResponse {
    #[serde(flatten)]
    pub retour: Retour,
    #[serde(rename = "idStructureCPP")]
    pub id_structure_cpp: i64,
}

// ---------------------------------------------------------------------------------------------
// structures/v1/modifier

/// `adressePostaleDuSiege` as written by a change (the fields `consulter` returns).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct AdresseSaisie {
    pub adresse: String,
    pub complement_adresse1: Option<String>,
    pub complement_adresse2: Option<String>,
    pub code_postal: String,
    pub ville: String,
    /// ISO 3166 two-letter code.
    pub pays: String,
    pub telephone: Option<String>,
}

/// Input of `structures/v1/modifier`: the whole coordinates, as `consulter` returns them (a field
/// left out is emptied).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModifierStructureRequest {
    /// The main or secondary manager the change is made for.
    #[serde(deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub id_utilisateur_courant: i64,
    /// The caller's structure (optional).
    #[serde(rename = "idStructureCPP", default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub id_structure_cpp: Option<i64>,
    pub raison_sociale_structure: String,
    #[serde(default)]
    pub libelle_structure: Option<String>,
    #[serde(default)]
    pub email_structure: Option<String>,
    #[serde(rename = "numeroTVA", default)]
    pub numero_tva: Option<String>,
    pub adresse_postale_du_siege: AdresseSaisie,
}

/// Changes the caller's structure coordinates (names, e-mail, VAT number, head office).
#[utoipa::path(
    post,
    path = "/cpro/structures/v1/modifier",
    tag = "structures",
    request_body = ModifierStructureRequest,
    responses((status = 200, description = "Changed, or codeRetour 10001/10002/20001", body = ModifierStructureResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn modifier(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<ModifierStructureRequest>,
) -> ApiResult<Json<ModifierStructureResponse>> {
    let structure = own_structure(&caller, req.id_structure_cpp)?;
    let actor = acting(&state, &caller, req.id_utilisateur_courant).await?;
    let a = req.adresse_postale_du_siege;
    let form = CoordinatesForm {
        company_name: req.raison_sociale_structure,
        label: req.libelle_structure.unwrap_or_default(),
        email: req.email_structure.unwrap_or_default(),
        vat_number: req.numero_tva.unwrap_or_default(),
        line1: a.adresse,
        line2: a.complement_adresse1.unwrap_or_default(),
        line3: a.complement_adresse2.unwrap_or_default(),
        postcode: a.code_postal,
        city: a.ville,
        country: a.pays,
        phone: a.telephone.unwrap_or_default(),
    };
    let v = state.app().update_coordinates(&actor, structure, &form).await?;
    Ok(Json(ModifierStructureResponse {
        retour: Retour::ok(),
        id_structure_cpp: v.id.get(),
    }))
}

// ---------------------------------------------------------------------------------------------
// structures/v1/modifier/parametres

/// The structure's invoicing rules as written (the flags `consulter` returns; absent is false).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct ParametresSaisis {
    pub code_service_doit_etre_renseigne: bool,
    #[serde(rename = "numeroEJDoitEtreRenseigne")]
    pub numero_ej_doit_etre_renseigne: bool,
    /// At least one of the two; not together with one of the two flags above.
    #[serde(rename = "gestionNumeroEJOuCodeService")]
    pub gestion_numero_ej_ou_code_service: bool,
    pub statut_mise_en_paiement_nest_pas_remonte: bool,
    /// Project owner (works) besides its ordinary role.
    pub a_moa: bool,
    /// Project owner only (requires `aMoa`).
    pub est_moa_uniquement: bool,
}

/// Input of `structures/v1/modifier/parametres`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModifierParametresRequest {
    #[serde(deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub id_utilisateur_courant: i64,
    pub parametres: ParametresSaisis,
}

/// Changes the caller's structure invoicing parameters.
#[utoipa::path(
    post,
    path = "/cpro/structures/v1/modifier/parametres",
    tag = "structures",
    request_body = ModifierParametresRequest,
    responses((status = 200, description = "Changed, or codeRetour 10001/10002/20001", body = ModifierStructureResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn modifier_parametres(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<ModifierParametresRequest>,
) -> ApiResult<Json<ModifierStructureResponse>> {
    let actor = acting(&state, &caller, req.id_utilisateur_courant).await?;
    let p = req.parametres;
    let moa = match (p.a_moa, p.est_moa_uniquement) {
        (false, false) => MoaPresence::None,
        (true, false) => MoaPresence::WithMoa,
        (true, true) => MoaPresence::MoaOnly,
        (false, true) => {
            return Err(ApiError::business(codes::INVALID, "estMoaUniquement : exige aMoa"));
        }
    };
    let parameters = StructureParameters {
        service_code_required: p.code_service_doit_etre_renseigne,
        engagement_required: p.numero_ej_doit_etre_renseigne,
        service_code_or_engagement_required: p.gestion_numero_ej_ou_code_service,
        payment_status_not_reported: p.statut_mise_en_paiement_nest_pas_remonte,
        moa,
    };
    let v = state
        .app()
        .update_parameters(&actor, caller.structure, parameters)
        .await?;
    Ok(Json(ModifierStructureResponse {
        retour: Retour::ok(),
        id_structure_cpp: v.id.get(),
    }))
}

// ---------------------------------------------------------------------------------------------
// structures/v1/creer/service, structures/v1/modifier/service

/// Input of `structures/v1/creer/service`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreerServiceRequest {
    #[serde(deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub id_utilisateur_courant: i64,
    /// 1 to 100 characters, unique in the structure; never changes afterwards.
    pub code_service: String,
    /// Blank: the code.
    #[serde(default)]
    pub libelle_service: Option<String>,
    /// `YYYY-MM-DD` (or `YYYY-MM-DD HH:MM`).
    #[serde(default)]
    pub date_debut_validite: Option<String>,
    #[serde(default)]
    pub date_fin_validite: Option<String>,
    /// Invoices to this service must carry an engagement number.
    #[serde(default)]
    pub numero_engagement: bool,
}

/// `codeRetour` 0 and the service's id.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceModifieResponse {
    #[serde(flatten)]
    pub retour: Retour,
    pub id_service: i64,
}

/// Adds an active service to the caller's structure.
#[utoipa::path(
    post,
    path = "/cpro/structures/v1/creer/service",
    tag = "structures",
    request_body = CreerServiceRequest,
    responses((status = 200, description = "Created, or codeRetour 10002/20001", body = ServiceModifieResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn creer_service(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<CreerServiceRequest>,
) -> ApiResult<Json<ServiceModifieResponse>> {
    let actor = acting(&state, &caller, req.id_utilisateur_courant).await?;
    let form = ServiceForm {
        code: req.code_service,
        label: req.libelle_service.unwrap_or_default(),
        valid_from: date("dateDebutValidite", req.date_debut_validite.as_deref())?,
        valid_to: date("dateFinValidite", req.date_fin_validite.as_deref())?,
        engagement_required: req.numero_engagement,
        active: true,
    };
    let v = state.app().add_service(&actor, caller.structure, &form).await?;
    Ok(Json(ServiceModifieResponse {
        retour: Retour::ok(),
        id_service: v.id.get(),
    }))
}

/// Input of `structures/v1/modifier/service`: a field left out keeps its value; a blank date
/// removes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModifierServiceRequest {
    #[serde(deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub id_utilisateur_courant: i64,
    #[serde(deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub id_service: i64,
    #[serde(default)]
    pub libelle_service: Option<String>,
    #[serde(default)]
    pub date_debut_validite: Option<String>,
    #[serde(default)]
    pub date_fin_validite: Option<String>,
    #[serde(default)]
    pub numero_engagement: Option<bool>,
    /// `false` deactivates the service (never the default `FACTURES_PUBLIQUES` one).
    #[serde(default)]
    pub est_actif: Option<bool>,
}

/// Changes a service of the caller's structure (its code stays).
#[utoipa::path(
    post,
    path = "/cpro/structures/v1/modifier/service",
    tag = "structures",
    request_body = ModifierServiceRequest,
    responses((status = 200, description = "Changed, or codeRetour 10001/10002/20001", body = ServiceModifieResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn modifier_service(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<ModifierServiceRequest>,
) -> ApiResult<Json<ServiceModifieResponse>> {
    let actor = acting(&state, &caller, req.id_utilisateur_courant).await?;
    let id = ServiceId(req.id_service);
    let services = state.app().services(&actor, caller.structure).await?;
    let Some(current) = services.into_iter().find(|v| v.id == id).map(|v| v.service) else {
        return Err(ApiError::not_found("Service"));
    };
    let keep = |given: Option<&str>, field: &str, now: Option<Date>| match given {
        None => Ok(now),
        Some(v) => date(field, Some(v)),
    };
    let form = ServiceForm {
        code: current.code.as_str().to_owned(),
        label: req.libelle_service.unwrap_or(current.label),
        valid_from: keep(
            req.date_debut_validite.as_deref(),
            "dateDebutValidite",
            current.valid_from,
        )?,
        valid_to: keep(req.date_fin_validite.as_deref(), "dateFinValidite", current.valid_to)?,
        engagement_required: req.numero_engagement.unwrap_or(current.parameters.engagement_required),
        active: req.est_actif.unwrap_or(current.active),
    };
    let v = state.app().change_service(&actor, caller.structure, id, &form).await?;
    Ok(Json(ServiceModifieResponse {
        retour: Retour::ok(),
        id_service: v.id.get(),
    }))
}

// ---------------------------------------------------------------------------------------------
// structures/v1/ajouter/coordbanc, structures/v1/modifier/coordbanc

/// Input of `structures/v1/ajouter/coordbanc`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AjouterCoordBancRequest {
    #[serde(deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub id_utilisateur_courant: i64,
    /// 1 to 100 characters.
    pub nom_coordonnee_bancaire: String,
    /// Checked with its ISO 13616 check digits; spaces allowed.
    pub iban: String,
    /// 8 or 11 characters when given.
    #[serde(default)]
    pub bic: Option<String>,
    /// The details of a factor (*affactureur*).
    #[serde(default)]
    pub est_affactureur: bool,
}

/// `codeRetour` 0 and the bank details' id.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CoordBancModifieeResponse {
    #[serde(flatten)]
    pub retour: Retour,
    pub id_coordonnee_bancaire: i64,
}

/// Adds active bank details to the caller's structure (the first become the default).
#[utoipa::path(
    post,
    path = "/cpro/structures/v1/ajouter/coordbanc",
    tag = "structures",
    request_body = AjouterCoordBancRequest,
    responses((status = 200, description = "Added, or codeRetour 10002/20001", body = CoordBancModifieeResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn ajouter_coordbanc(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<AjouterCoordBancRequest>,
) -> ApiResult<Json<CoordBancModifieeResponse>> {
    let actor = acting(&state, &caller, req.id_utilisateur_courant).await?;
    let v = state
        .app()
        .add_bank_account(
            &actor,
            caller.structure,
            &req.nom_coordonnee_bancaire,
            &req.iban,
            req.bic.as_deref().unwrap_or_default(),
            req.est_affactureur,
        )
        .await?;
    Ok(Json(CoordBancModifieeResponse {
        retour: Retour::ok(),
        id_coordonnee_bancaire: v.id.get(),
    }))
}

/// Input of `structures/v1/modifier/coordbanc`: a field left out keeps its value. IBAN, BIC and
/// the factor flag never change (add new details and deactivate these).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModifierCoordBancRequest {
    #[serde(deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub id_utilisateur_courant: i64,
    #[serde(deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub id_coordonnee_bancaire: i64,
    #[serde(default)]
    pub nom_coordonnee_bancaire: Option<String>,
    /// `false` deactivates them (kept for the invoices that reference them).
    #[serde(default)]
    pub est_actif: Option<bool>,
    /// `true` makes them the default (the previous default loses the flag); `false` is ignored.
    #[serde(default)]
    pub est_par_defaut: Option<bool>,
}

/// Renames, deactivates/reactivates or makes default bank details of the caller's structure.
#[utoipa::path(
    post,
    path = "/cpro/structures/v1/modifier/coordbanc",
    tag = "structures",
    request_body = ModifierCoordBancRequest,
    responses((status = 200, description = "Changed, or codeRetour 10001/10002/20001", body = CoordBancModifieeResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn modifier_coordbanc(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<ModifierCoordBancRequest>,
) -> ApiResult<Json<CoordBancModifieeResponse>> {
    let actor = acting(&state, &caller, req.id_utilisateur_courant).await?;
    let edit = BankAccountEdit {
        label: req.nom_coordonnee_bancaire,
        active: req.est_actif,
        make_default: req.est_par_defaut == Some(true),
    };
    let v = state
        .app()
        .change_bank_account(
            &actor,
            caller.structure,
            BankAccountId(req.id_coordonnee_bancaire),
            &edit,
        )
        .await?;
    Ok(Json(CoordBancModifieeResponse {
        retour: Retour::ok(),
        id_coordonnee_bancaire: v.id.get(),
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dates_read_as_chorus_pro_writes_them() {
        let d = time::macros::date!(2026 - 03 - 01);
        assert_eq!(date("f", Some("2026-03-01")).unwrap(), Some(d));
        assert_eq!(date("f", Some("2026-03-01 00:00")).unwrap(), Some(d));
        assert_eq!(date("f", Some("  ")).unwrap(), None);
        assert_eq!(date("f", None).unwrap(), None);
        for bad in ["01/03/2026", "2026-13-01", "2026-03-01T00:00", "2026-03-0"] {
            match date("dateFinValidite", Some(bad)) {
                Err(ApiError::Business { libelle, .. }) => assert!(libelle.starts_with("dateFinValidite"), "{libelle}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
