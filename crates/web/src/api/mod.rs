//! The Chorus Pro-compatible API under `/cpro/` (spec §4): same paths, same JSON field names,
//! same envelope (`codeRetour` + `libelle`), same pagination objects.
//!
//! Every `/cpro/` call needs **both** credentials, as on Chorus Pro behind PISTE:
//! `Authorization: Bearer <token>` from `/api/oauth/token`, and `cpro-account:
//! base64(login:password)` of the structure's technical account. A missing or bad token is 401
//! (`WWW-Authenticate: Bearer`); a missing or bad `cpro-account`, or one of another structure than
//! the token's, is 401 (one answer, so a caller learns nothing about other structures' accounts). The technical account decides
//! the caller's structure; every query is scoped to it (public directory data excepted).
mod auth;
mod envelope;
mod factures;
pub(crate) mod flux;
mod structure_admin;
mod structures;
mod telecharger;
#[cfg(feature = "test-util")]
pub mod testing;
mod transverses;
mod utilisateurs;

pub use auth::Caller;
pub(crate) use auth::credential_text;
pub use envelope::{Pagination, PaginationRetour};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// The `/cpro/` routes with their OpenAPI descriptions.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(transverses::health_check))
        .routes(routes!(structures::rechercher))
        .routes(routes!(structures::consulter))
        .routes(routes!(structures::rechercher_services))
        .routes(routes!(structures::consulter_service))
        .routes(routes!(transverses::rechercher_destinataire))
        .routes(routes!(transverses::telecharger_annuaire_destinataire))
        .routes(routes!(transverses::recuperer_type_identifiant_structure))
        .routes(routes!(utilisateurs::recuperer_rattachements))
        .routes(routes!(structure_admin::recuperer_coordbanc_valides))
        .routes(routes!(structure_admin::modifier))
        .routes(routes!(structure_admin::modifier_parametres))
        .routes(routes!(structure_admin::creer_service))
        .routes(routes!(structure_admin::modifier_service))
        .routes(routes!(structure_admin::ajouter_coordbanc))
        .routes(routes!(structure_admin::modifier_coordbanc))
        .routes(routes!(factures::soumettre))
        .routes(routes!(factures::traiter_recue))
        .routes(routes!(factures::recycler))
        .routes(routes!(factures::completer))
        .routes(routes!(factures::traiter_rejet))
        .routes(routes!(factures::consulter_historique))
        .routes(routes!(factures::consulter_fournisseur))
        .routes(routes!(factures::consulter_recipiendaire))
        .routes(routes!(factures::rechercher_fournisseur))
        .routes(routes!(factures::rechercher_recipiendaire))
        .routes(routes!(factures::recuperer_etats_traitement))
        .routes(routes!(telecharger::telecharger_groupe))
        .routes(routes!(flux::consulter_cr))
        .routes(routes!(flux::consulter_cr_detaille))
        .routes(routes!(transverses::telecharger_piece_jointe))
}

/// The `/cpro/` services that take files (base64 in JSON): they get the upload body limit, and
/// check each file's decoded size themselves.
pub fn upload_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(transverses::ajouter_fichier))
        .routes(routes!(factures::deposer_pdf))
}
