//! The invoice loop through the API (spec §4.3–4.5): deposit (`factures/v1/soumettre`,
//! `SAISIE_API` and `DEPOT_PDF_API`; `factures/v1/deposer/pdf` for the PDF), the lifecycle services (`traiter/recue`, `recycler`, `completer`,
//! `traiterRejet`, `consulter/historique`, `transverses/v1/recuperer/etats/traitement`) and the
//! two sides' consultation and search. Field names are the spec's; handlers only translate JSON
//! to the use cases of `facteur_app` and back. Every read is scoped to the caller's structure: an
//! invoice of another structure answers `codeRetour` 10001, as an unknown id.
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use facteur_app::{
    AppError, AttachmentId, AttachmentRef, EntryLine, EntryMode, EntryTotals, EntryVatLine, InvoiceDetail,
    InvoiceEntry, InvoiceFilter, InvoiceId, InvoiceKind, InvoiceLine, PdfInvoiceData, Problem, Rerouting, VatRate,
};
use facteur_domain::{InvoiceStatus, Party, StructureId};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use super::Caller;
use super::envelope::{CproJson, CproJsonBytes, Pagination, PaginationRetour, Retour, format_datetime, lenient};
use crate::AppState;
use crate::error::{ApiError, ApiResult, codes};

/// Amounts: a JSON number or a string holding a decimal (`1000.00`, `"1000.00"`), read exactly.
mod amount {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer};

    fn read<E: serde::de::Error>(v: serde_json::Value) -> Result<Option<Decimal>, E> {
        let text = match v {
            serde_json::Value::Null => return Ok(None),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) if s.trim().is_empty() => return Ok(None),
            serde_json::Value::String(s) => s.trim().to_owned(),
            other => return Err(E::custom(format!("expected an amount, got {other}"))),
        };
        let d = text
            .parse::<Decimal>()
            .or_else(|_| Decimal::from_scientific(&text))
            .map_err(|_| E::custom(format!("expected an amount, got {text}")))?;
        Ok(Some(d))
    }

    /// A decimal, zero when absent.
    pub fn or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        Ok(read(serde_json::Value::deserialize(d)?)?.unwrap_or_default())
    }

    /// An optional decimal.
    pub fn opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        read(serde_json::Value::deserialize(d)?)
    }

    /// A number, a decimal string, or null.
    pub fn schema() -> utoipa::openapi::Schema {
        use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
        AnyOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r"^ *-?[0-9]{0,19}(\.[0-9]{0,6})? *$")),
            )
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .build()
            .into()
    }
}

/// An amount as the API writes it (a JSON number).
fn out(d: Decimal) -> f64 {
    d.to_f64().unwrap_or_default()
}

/// `YYYY-MM-DD` (a `YYYY-MM-DD HH:MM` date-time is cut to its day).
fn date(field: &str, value: &str) -> ApiResult<Date> {
    let v = value.trim();
    v.get(..10)
        .filter(|_| v.len() == 10 || v.as_bytes().get(10).is_some_and(|b| *b == b' ' || *b == b'T'))
        .and_then(|d| Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok())
        .ok_or_else(|| ApiError::business(codes::INVALID, format!("{field} : date attendue (AAAA-MM-JJ)")))
}

fn opt_date(field: &str, value: Option<&str>) -> ApiResult<Option<Date>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => date(field, v).map(Some),
        None => Ok(None),
    }
}

fn status(field: &'static str, value: &str) -> ApiResult<InvoiceStatus> {
    value
        .trim()
        .parse()
        .map_err(|e| ApiError::from(AppError::domain_as(field, e)))
}

fn day(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A missing invoice, or one of another structure: the same answer.
pub(super) fn scoped<T>(r: Result<T, AppError>) -> ApiResult<T> {
    match r {
        Err(AppError::NotFound) => Err(ApiError::not_found("Facture")),
        other => Ok(other?),
    }
}

// ---------------------------------------------------------------------------------------------
// factures/v1/soumettre

/// `destinataire` of a deposit or a re-routing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Destinataire {
    /// The recipient's SIRET.
    pub code_destinataire: String,
    #[serde(default)]
    pub code_service_executant: Option<String>,
}

/// `fournisseur` of a deposit.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Fournisseur {
    /// The caller's structure (`idStructureCPP`); another one is refused.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub id_fournisseur: Option<i64>,
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    /// Accepted, not used yet.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub id_service_fournisseur: Option<i64>,
    /// `idCoordonneeBancaire` of the supplier's active bank details
    /// (`transverses/v1/recuperer/coordbanc/valides`).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub code_coordonnees_bancaires_fournisseur: Option<i64>,
}

/// `cadreDeFacturation`: only `A1_FACTURE_FOURNISSEUR` (the default) is handled yet.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CadreDeFacturation {
    #[serde(default)]
    pub code_cadre_facturation: Option<String>,
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    #[serde(default)]
    pub code_structure_valideur: Option<String>,
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    #[serde(default)]
    pub code_service_valideur: Option<String>,
}

/// `references` of a deposit.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct References {
    /// ISO 4217, default `EUR`.
    pub devise_facture: Option<String>,
    /// `FACTURE` (default) or `AVOIR`.
    pub type_facture: Option<String>,
    /// `TVA_SUR_DEBIT`, `TVA_SUR_ENCAISSEMENT`, `EXONERATION`, `SANS_TVA` (accepted).
    pub type_tva: Option<String>,
    /// `CHEQUE`, `PRELEVEMENT`, `VIREMENT` (default), `ESPECE`, `AUTRE`, `REPORT`.
    pub mode_paiement: Option<String>,
    pub numero_marche: Option<String>,
    /// The engagement number.
    pub numero_bon_commande: Option<String>,
    pub numero_facture_origine: Option<String>,
    pub motif_exoneration_tva: Option<String>,
}

/// One `lignePoste`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LignePoste {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub ligne_poste_numero: Option<i64>,
    #[serde(default)]
    pub ligne_poste_reference: Option<String>,
    pub ligne_poste_denomination: String,
    #[serde(default, deserialize_with = "amount::or_zero")]
    #[schema(schema_with = amount::schema)]
    pub ligne_poste_quantite: Decimal,
    #[serde(default)]
    pub ligne_poste_unite: Option<String>,
    #[serde(
        default,
        rename = "lignePosteMontantUnitaireHT",
        deserialize_with = "amount::or_zero"
    )]
    #[schema(schema_with = amount::schema)]
    pub ligne_poste_montant_unitaire_ht: Decimal,
    #[serde(default, rename = "lignePosteMontantRemiseHT", deserialize_with = "amount::or_zero")]
    #[schema(schema_with = amount::schema)]
    pub ligne_poste_montant_remise_ht: Decimal,
    /// A code of `transverses/v1/recuperer/tauxtva` (`TVA20`, `TVA10`, `TVA55`, `TVA21`, `TVA85`,
    /// `TVA0`, `TVA1`).
    #[serde(default)]
    pub ligne_poste_taux_tva: Option<String>,
    /// A rate in percent, when no code fits.
    #[serde(default, deserialize_with = "amount::opt")]
    #[schema(schema_with = amount::schema)]
    pub ligne_poste_taux_tva_manuel: Option<Decimal>,
}

/// One `ligneTva`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LigneTva {
    #[serde(default)]
    pub ligne_tva_taux: Option<String>,
    #[serde(default, deserialize_with = "amount::opt")]
    #[schema(schema_with = amount::schema)]
    pub ligne_tva_taux_manuel: Option<Decimal>,
    #[serde(default, deserialize_with = "amount::or_zero")]
    #[schema(schema_with = amount::schema)]
    pub ligne_tva_montant_base_ht_par_taux: Decimal,
    #[serde(default, deserialize_with = "amount::or_zero")]
    #[schema(schema_with = amount::schema)]
    pub ligne_tva_montant_tva_par_taux: Decimal,
}

/// `montantTotal`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MontantTotal {
    #[serde(default, deserialize_with = "amount::or_zero")]
    #[schema(schema_with = amount::schema)]
    pub montant_ht_total: Decimal,
    #[serde(default, rename = "montantTVA", deserialize_with = "amount::or_zero")]
    #[schema(schema_with = amount::schema)]
    pub montant_tva: Decimal,
    #[serde(default, deserialize_with = "amount::or_zero")]
    #[schema(schema_with = amount::schema)]
    pub montant_ttc_total: Decimal,
    #[serde(default, rename = "montantRemiseGlobaleTTC", deserialize_with = "amount::or_zero")]
    #[schema(schema_with = amount::schema)]
    pub montant_remise_globale_ttc: Decimal,
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    #[serde(default, rename = "motifRemiseGlobaleTTC")]
    pub motif_remise_globale_ttc: Option<String>,
    #[serde(default, deserialize_with = "amount::or_zero")]
    #[schema(schema_with = amount::schema)]
    pub montant_a_payer: Decimal,
}

/// One `pieceJointePrincipale`: the invoice's PDF, uploaded before (`DEPOT_PDF_API`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PieceJointePrincipale {
    /// `pieceJointeId` from `transverses/v1/ajouter/fichier` or `factures/v1/deposer/pdf`.
    #[serde(deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub piece_jointe_principale_id: i64,
    #[serde(default)]
    pub piece_jointe_principale_designation: Option<String>,
}

/// One `pieceJointeComplementaire`: a file uploaded before, of the caller's structure and not
/// referenced by any invoice yet.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PieceJointeComplementaire {
    /// `pieceJointeId` from `transverses/v1/ajouter/fichier`.
    #[serde(deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub piece_jointe_complementaire_id: i64,
    /// At most 100 characters.
    #[serde(default)]
    pub piece_jointe_complementaire_designation: Option<String>,
    /// At most 30 characters.
    #[serde(default)]
    pub piece_jointe_complementaire_type: Option<String>,
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub piece_jointe_complementaire_id_liaison: Option<i64>,
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub piece_jointe_complementaire_numero_ligne_facture: Option<i64>,
}

fn complementary(list: Vec<PieceJointeComplementaire>) -> Vec<AttachmentRef> {
    list.into_iter()
        .map(|p| AttachmentRef {
            id: AttachmentId(p.piece_jointe_complementaire_id),
            designation: p.piece_jointe_complementaire_designation,
            kind: p.piece_jointe_complementaire_type,
        })
        .collect()
}

/// Input of `factures/v1/soumettre` (spec §4.4): `modeDepot` `SAISIE_API` or `DEPOT_PDF_API`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SoumettreRequest {
    /// `SAISIE_API` (the data is the invoice) or `DEPOT_PDF_API` (the same data, plus exactly
    /// one `pieceJointePrincipale`, a PDF).
    pub mode_depot: String,
    pub numero_facture_saisi: String,
    /// `YYYY-MM-DD`.
    pub date_facture: String,
    #[serde(default)]
    pub date_echeance_paiement: Option<String>,
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub id_utilisateur_courant: Option<i64>,
    #[serde(default)]
    pub commentaire: Option<String>,
    pub destinataire: Destinataire,
    #[serde(default)]
    pub fournisseur: Fournisseur,
    #[serde(default)]
    pub cadre_de_facturation: Option<CadreDeFacturation>,
    #[serde(default)]
    pub references: References,
    #[serde(default)]
    pub ligne_poste: Vec<LignePoste>,
    #[serde(default)]
    pub ligne_tva: Vec<LigneTva>,
    #[serde(default)]
    pub montant_total: MontantTotal,
    /// `DEPOT_PDF_API`: exactly one, the invoice's PDF; `SAISIE_API`: none.
    #[serde(default)]
    pub piece_jointe_principale: Vec<PieceJointePrincipale>,
    #[serde(default)]
    pub piece_jointe_complementaire: Vec<PieceJointeComplementaire>,
}

/// Output of `factures/v1/soumettre`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SoumettreResponse {
    #[serde(flatten)]
    pub retour: Retour,
    #[serde(rename = "identifiantFactureCPP")]
    pub identifiant_facture_cpp: i64,
    pub numero_facture: String,
    /// The deposit date-time, legal start of the payment delay.
    pub date_depot: String,
    pub statut_facture: String,
    /// The supplier's identifier (SIRET).
    pub identifiant_structure: String,
    /// SHA-256 of the deposited bytes.
    pub empreinte_certificat_depot: String,
}

fn vat_rate(code: Option<&str>, manual: Option<Decimal>) -> Option<VatRate> {
    match (code.map(str::trim).filter(|c| !c.is_empty()), manual) {
        (Some(c), _) => Some(VatRate::Code(c.to_owned())),
        (None, Some(m)) => Some(VatRate::Manual(m)),
        (None, None) => None,
    }
}

fn entry_of(req: SoumettreRequest) -> ApiResult<InvoiceEntry> {
    let invalid = |field: &'static str| ApiError::from(AppError::invalid(field, Problem::UnknownValue));
    let mode = match req.mode_depot.trim() {
        "SAISIE_API" => EntryMode::Data,
        "DEPOT_PDF_API" => EntryMode::Pdf,
        _ => {
            return Err(ApiError::business(
                codes::INVALID,
                "modeDepot : SAISIE_API ou DEPOT_PDF_API (DEPOT_PDF_SIGNE_API n'est pas pris en charge)",
            ));
        }
    };
    if let Some(cadre) = req
        .cadre_de_facturation
        .as_ref()
        .and_then(|c| c.code_cadre_facturation.as_deref())
        && !matches!(cadre.trim(), "" | "A1_FACTURE_FOURNISSEUR")
    {
        return Err(ApiError::business(
            codes::INVALID,
            "cadreDeFacturation.codeCadreFacturation : seul A1_FACTURE_FOURNISSEUR est pris en charge pour l'instant",
        ));
    }
    let r = req.references;
    let kind = match r.type_facture.as_deref().map(str::trim) {
        None | Some("" | "FACTURE") => InvoiceKind::Invoice,
        Some("AVOIR") => InvoiceKind::CreditNote,
        Some(_) => return Err(invalid("references.typeFacture")),
    };
    if let Some(m) = r.mode_paiement.as_deref().map(str::trim)
        && !matches!(
            m,
            "" | "CHEQUE" | "PRELEVEMENT" | "VIREMENT" | "ESPECE" | "AUTRE" | "REPORT"
        )
    {
        return Err(invalid("references.modePaiement"));
    }
    if let Some(t) = r.type_tva.as_deref().map(str::trim)
        && !matches!(
            t,
            "" | "TVA_SUR_DEBIT" | "TVA_SUR_ENCAISSEMENT" | "EXONERATION" | "SANS_TVA"
        )
    {
        return Err(invalid("references.typeTva"));
    }
    Ok(InvoiceEntry {
        mode,
        main_attachments: req
            .piece_jointe_principale
            .into_iter()
            .map(|p| AttachmentRef {
                id: AttachmentId(p.piece_jointe_principale_id),
                designation: p.piece_jointe_principale_designation,
                kind: None,
            })
            .collect(),
        attachments: complementary(req.piece_jointe_complementaire),
        number: req.numero_facture_saisi,
        issue_date: date("dateFacture", &req.date_facture)?,
        due_date: opt_date("dateEcheancePaiement", req.date_echeance_paiement.as_deref())?,
        kind,
        supplier: req.fournisseur.id_fournisseur.map(StructureId),
        bank_account: req
            .fournisseur
            .code_coordonnees_bancaires_fournisseur
            .map(facteur_domain::BankAccountId),
        recipient: req.destinataire.code_destinataire,
        service_code: req.destinataire.code_service_executant,
        engagement: r.numero_bon_commande,
        contract: r.numero_marche,
        original_invoice: r.numero_facture_origine,
        currency: r
            .devise_facture
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "EUR".to_owned()),
        payment_mode: r.mode_paiement,
        exemption_reason: r.motif_exoneration_tva,
        comment: req.commentaire,
        lines: req
            .ligne_poste
            .into_iter()
            .map(|l| EntryLine {
                vat_rate: vat_rate(l.ligne_poste_taux_tva.as_deref(), l.ligne_poste_taux_tva_manuel),
                number: l.ligne_poste_numero,
                reference: l.ligne_poste_reference,
                name: l.ligne_poste_denomination,
                quantity: l.ligne_poste_quantite,
                unit: l.ligne_poste_unite,
                unit_price: l.ligne_poste_montant_unitaire_ht,
                discount: l.ligne_poste_montant_remise_ht,
            })
            .collect(),
        vat_lines: req
            .ligne_tva
            .into_iter()
            .map(|v| EntryVatLine {
                vat_rate: vat_rate(v.ligne_tva_taux.as_deref(), v.ligne_tva_taux_manuel),
                base: v.ligne_tva_montant_base_ht_par_taux,
                amount: v.ligne_tva_montant_tva_par_taux,
            })
            .collect(),
        totals: EntryTotals {
            excl_vat: req.montant_total.montant_ht_total,
            vat: req.montant_total.montant_tva,
            incl_vat: req.montant_total.montant_ttc_total,
            global_discount: req.montant_total.montant_remise_globale_ttc,
            amount_due: req.montant_total.montant_a_payer,
        },
    })
}

/// Deposits an invoice typed as data (`SAISIE_API`), or the same data with its PDF uploaded
/// before (`DEPOT_PDF_API`, `pieceJointePrincipale`): every platform check and the EN 16931 rules
/// on its structured copy run, and the attachment references are checked (`FP-PJ-…`); all
/// findings come back at once (`codeRetour` 20003, `listeErreurs`). A retry with the same `Idempotency-Key` header, or the same body within 24 h,
/// answers the first deposit again and creates nothing.
#[utoipa::path(
    post,
    path = "/cpro/factures/v1/soumettre",
    tag = "factures",
    request_body = SoumettreRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried deposit return the first answer")),
    responses((status = 200, description = "Deposited and made available, or codeRetour 10002/20003", body = SoumettreResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn soumettre(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    CproJsonBytes(req, bytes): CproJsonBytes<SoumettreRequest>,
) -> ApiResult<Json<SoumettreResponse>> {
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| ApiError::business(codes::INVALID, "Idempotency-Key : texte ASCII attendu"))?,
        ),
        None => None,
    };
    let entry = entry_of(req)?;
    let done = state
        .app()
        .submit_invoice(&caller.actor, caller.structure, &entry, &bytes, key)
        .await?;
    Ok(Json(SoumettreResponse {
        retour: Retour::ok(),
        identifiant_facture_cpp: done.invoice.id.0,
        numero_facture: done.invoice.number,
        date_depot: format_datetime(done.invoice.deposited_at),
        statut_facture: done.status.as_str().to_owned(),
        identifiant_structure: done.supplier_identifier,
        empreinte_certificat_depot: done.fingerprint,
    }))
}

// ---------------------------------------------------------------------------------------------
// factures/v1/deposer/pdf

/// Input of `factures/v1/deposer/pdf`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeposerPdfRequest {
    /// The PDF, base64: plain, or Factur-X (its embedded invoice is read). At most 10 MB.
    pub fichier_facture: String,
    /// The file's name (200 characters at most).
    pub nom_fichier: String,
    /// `PDF_NON_SIGNE` (default), `PDF_SIGNE_PADES`, `PDF_SIGNE_XADES`; signatures are not
    /// checked.
    #[serde(default)]
    pub format_depot: Option<String>,
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub id_utilisateur_courant: Option<i64>,
}

/// `destinataire` read from a Factur-X.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DestinataireLu {
    /// The buyer's SIRET (BT-47, or a 14-digit BT-46).
    pub code_destinataire: Option<String>,
    /// BT-10 (buyer reference), which Chorus Pro reads as the service code.
    pub code_service_executant: Option<String>,
}

/// Output of `factures/v1/deposer/pdf`: the stored PDF's id and, for a Factur-X, the data of its
/// embedded invoice (fields absent when the PDF carries none, or when the XML lacks them).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeposerPdfResponse {
    #[serde(flatten)]
    pub retour: Retour,
    /// To reference as `pieceJointePrincipale` in a `soumettre` of mode `DEPOT_PDF_API`.
    pub piece_jointe_id: i64,
    /// Whether an embedded Factur-X invoice was read.
    pub facture_x: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numero_facture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_facture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_echeance_paiement: Option<String>,
    /// `FACTURE` or `AVOIR`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_facture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_devise_facture: Option<String>,
    /// The seller's identifier as the document gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifiant_fournisseur: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destinataire: Option<DestinataireLu>,
    /// BT-13, the engagement number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numero_bon_commande: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub montant_ht_total: Option<f64>,
    #[serde(rename = "montantTVA", skip_serializing_if = "Option::is_none")]
    pub montant_tva: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub montant_ttc_total: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub montant_a_payer: Option<f64>,
}

impl DeposerPdfResponse {
    fn of(id: i64, data: Option<PdfInvoiceData>) -> Self {
        let d = data.as_ref();
        DeposerPdfResponse {
            retour: Retour::ok(),
            piece_jointe_id: id,
            facture_x: data.is_some(),
            numero_facture: d.and_then(|d| d.number.clone()),
            date_facture: d.and_then(|d| d.issue_date).map(day),
            date_echeance_paiement: d.and_then(|d| d.due_date).map(day),
            type_facture: d.and_then(|d| d.kind).map(|k| k.as_str().to_owned()),
            code_devise_facture: d.and_then(|d| d.currency.clone()),
            identifiant_fournisseur: d.and_then(|d| d.supplier.clone()),
            destinataire: d.map(|d| DestinataireLu {
                code_destinataire: d.recipient.clone(),
                code_service_executant: d.service_code.clone(),
            }),
            numero_bon_commande: d.and_then(|d| d.engagement.clone()),
            montant_ht_total: d.and_then(|d| d.total_excl_vat).map(out),
            montant_tva: d.and_then(|d| d.total_vat).map(out),
            montant_ttc_total: d.and_then(|d| d.total_incl_vat).map(out),
            montant_a_payer: d.and_then(|d| d.amount_due).map(out),
        }
    }
}

/// Uploads an invoice PDF for a following `soumettre` in `DEPOT_PDF_API` mode: answers its
/// `pieceJointeId` and, for a Factur-X, the data its embedded CII gives (to fill the
/// `soumettre` payload with; the deposit's checks run on that payload, not here). A file that is
/// not a readable PDF, or a Factur-X whose XML cannot be read, answers 10002.
#[utoipa::path(
    post,
    path = "/cpro/factures/v1/deposer/pdf",
    tag = "factures",
    request_body = DeposerPdfRequest,
    responses((status = 200, description = "PDF stored, or codeRetour 10002", body = DeposerPdfResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn deposer_pdf(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<DeposerPdfRequest>,
) -> ApiResult<Json<DeposerPdfResponse>> {
    use base64::Engine as _;
    if let Some(f) = req.format_depot.as_deref().map(str::trim)
        && !matches!(f, "" | "PDF_NON_SIGNE" | "PDF_SIGNE_PADES" | "PDF_SIGNE_XADES")
    {
        return Err(AppError::invalid("formatDepot", Problem::UnknownValue).into());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(req.fichier_facture.trim())
        .map_err(|_| ApiError::business(codes::INVALID, "fichierFacture : base64 attendu"))?;
    let done = state
        .app()
        .deposit_pdf(&caller.actor, caller.structure, &bytes, &req.nom_fichier)
        .await?;
    Ok(Json(DeposerPdfResponse::of(done.attachment.id.0, done.invoice)))
}

// ---------------------------------------------------------------------------------------------
// factures/v1/traiter/recue

/// Input of `factures/v1/traiter/recue`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraiterRecueRequest {
    #[serde(deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub id_facture: i64,
    pub nouveau_statut: String,
    /// Mandatory for `SUSPENDUE`, `REJETEE`, `A_RECYCLER`.
    #[serde(default)]
    pub motif: Option<String>,
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    /// Accepted, not used yet.
    #[serde(default, rename = "numeroDPMandat")]
    pub numero_dp_mandat: Option<String>,
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub id_utilisateur_courant: Option<i64>,
}

/// Output of `factures/v1/traiter/recue`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraiterRecueResponse {
    #[serde(flatten)]
    pub retour: Retour,
    pub id_facture: i64,
    pub numero_facture: String,
    pub nouveau_statut: String,
    pub date_traitement: String,
}

/// The recipient sets a new status on a received invoice (spec §3.3); the lifecycle table judges
/// the step (another side's step: 20001; a status that does not allow it: 20002; a missing
/// motive: 10002).
#[utoipa::path(
    post,
    path = "/cpro/factures/v1/traiter/recue",
    tag = "factures",
    request_body = TraiterRecueRequest,
    responses((status = 200, description = "Status changed, or codeRetour 10001/10002/20001/20002", body = TraiterRecueResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn traiter_recue(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<TraiterRecueRequest>,
) -> ApiResult<Json<TraiterRecueResponse>> {
    let to = status("nouveauStatut", &req.nouveau_statut)?;
    let (record, step) = scoped(
        state
            .app()
            .process_invoice(
                &caller.actor,
                caller.structure,
                InvoiceId(req.id_facture),
                to,
                req.motif.as_deref(),
            )
            .await,
    )?;
    Ok(Json(TraiterRecueResponse {
        retour: Retour::ok(),
        id_facture: record.id.0,
        numero_facture: record.number,
        nouveau_statut: step.to.as_str().to_owned(),
        date_traitement: format_datetime(step.at),
    }))
}

// ---------------------------------------------------------------------------------------------
// factures/v1/recycler

/// `reference` of a re-routing.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct ReferenceRecyclage {
    /// The new engagement number.
    pub numero_bon_commande: Option<String>,
}

/// Input of `factures/v1/recycler`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecyclerRequest {
    #[serde(rename = "identifiantFactureCPP", deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub identifiant_facture_cpp: i64,
    pub destinataire: Destinataire,
    #[serde(default)]
    pub reference: ReferenceRecyclage,
    #[serde(default)]
    pub commentaire: Option<String>,
    /// The invoice number never changes on a re-routing: when given it must be the invoice's.
    #[serde(default, alias = "numeroFactureSaisi")]
    pub numero_facture: Option<String>,
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub id_utilisateur_courant: Option<i64>,
}

/// Output of `factures/v1/recycler`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecyclerResponse {
    #[serde(flatten)]
    pub retour: Retour,
    #[serde(rename = "identifiantFactureCPP")]
    pub identifiant_facture_cpp: i64,
    pub numero_facture: String,
    pub date_depot: String,
    pub statut_facture: String,
}

/// The supplier re-routes an invoice to recycle: only the recipient, the service code and the
/// engagement number change; the new routing passes the deposit's checks (20003 with
/// `listeErreurs` otherwise) and the invoice is made available to its new recipient.
#[utoipa::path(
    post,
    path = "/cpro/factures/v1/recycler",
    tag = "factures",
    request_body = RecyclerRequest,
    responses((status = 200, description = "Re-routed, or codeRetour 10001/10002/20002/20003", body = RecyclerResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn recycler(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<RecyclerRequest>,
) -> ApiResult<Json<RecyclerResponse>> {
    let routing = Rerouting {
        recipient: req.destinataire.code_destinataire,
        service_code: req.destinataire.code_service_executant,
        engagement: req.reference.numero_bon_commande,
        number: req.numero_facture,
        comment: req.commentaire,
    };
    let record = scoped(
        state
            .app()
            .recycle_invoice(
                &caller.actor,
                caller.structure,
                InvoiceId(req.identifiant_facture_cpp),
                &routing,
            )
            .await,
    )?;
    Ok(Json(RecyclerResponse {
        retour: Retour::ok(),
        identifiant_facture_cpp: record.id.0,
        numero_facture: record.number,
        date_depot: format_datetime(record.deposited_at),
        statut_facture: record.status.as_str().to_owned(),
    }))
}

// ---------------------------------------------------------------------------------------------
// factures/v1/completer

/// Input of `factures/v1/completer`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompleterRequest {
    #[serde(rename = "identifiantFactureCPP", deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub identifiant_facture_cpp: i64,
    /// Up to 2,000 characters; required unless attachments are given.
    #[serde(default)]
    pub commentaire: Option<String>,
    /// Files uploaded before (`transverses/v1/ajouter/fichier`), of the caller's structure and
    /// not referenced by any invoice yet.
    #[serde(default)]
    pub piece_jointe_complementaire: Vec<PieceJointeComplementaire>,
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub id_utilisateur_courant: Option<i64>,
}

/// Output of `factures/v1/completer`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompleterResponse {
    #[serde(flatten)]
    pub retour: Retour,
    #[serde(rename = "identifiantFactureCPP")]
    pub identifiant_facture_cpp: i64,
    pub numero_facture: String,
    pub date_traitement: String,
}

/// The supplier completes a suspended invoice with a comment and/or attachments (`SUSPENDUE` →
/// `COMPLETEE`); a bad attachment reference answers 20003 with its `FP-PJ-…` finding.
#[utoipa::path(
    post,
    path = "/cpro/factures/v1/completer",
    tag = "factures",
    request_body = CompleterRequest,
    responses((status = 200, description = "Completed, or codeRetour 10001/10002/20002/20003", body = CompleterResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn completer(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<CompleterRequest>,
) -> ApiResult<Json<CompleterResponse>> {
    let attachments = complementary(req.piece_jointe_complementaire);
    let (record, step) = scoped(
        state
            .app()
            .complete_invoice(
                &caller.actor,
                caller.structure,
                InvoiceId(req.identifiant_facture_cpp),
                req.commentaire.as_deref(),
                &attachments,
            )
            .await,
    )?;
    Ok(Json(CompleterResponse {
        retour: Retour::ok(),
        identifiant_facture_cpp: record.id.0,
        numero_facture: record.number,
        date_traitement: format_datetime(step.at),
    }))
}

// ---------------------------------------------------------------------------------------------
// factures/v1/traiterRejet

/// One invoice of `listeDemandePaiement`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DemandePaiementRef {
    #[serde(deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub id_demande_paiement: i64,
}

/// Input of `factures/v1/traiterRejet`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraiterRejetRequest {
    pub liste_demande_paiement: Vec<DemandePaiementRef>,
    #[serde(default)]
    pub motif_rejet: Option<String>,
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    /// Accepted, not used yet.
    #[serde(default)]
    pub cplt_infos: Option<String>,
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub id_utilisateur_courant: Option<i64>,
}

/// One acknowledged invoice.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RejetTraite {
    pub id_demande_paiement: i64,
    pub numero_facture: String,
    pub rejet_traite: bool,
}

/// Output of `factures/v1/traiterRejet`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraiterRejetResponse {
    #[serde(flatten)]
    pub retour: Retour,
    pub liste_demande_paiement: Vec<RejetTraite>,
}

/// The supplier acknowledges the rejection of its invoices (`rejetTraite`), all or none.
#[utoipa::path(
    post,
    path = "/cpro/factures/v1/traiterRejet",
    tag = "factures",
    request_body = TraiterRejetRequest,
    responses((status = 200, description = "Acknowledged, or codeRetour 10001/10002/20002", body = TraiterRejetResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn traiter_rejet(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<TraiterRejetRequest>,
) -> ApiResult<Json<TraiterRejetResponse>> {
    let ids: Vec<InvoiceId> = req
        .liste_demande_paiement
        .iter()
        .map(|d| InvoiceId(d.id_demande_paiement))
        .collect();
    let done = scoped(
        state
            .app()
            .acknowledge_rejections(&caller.actor, caller.structure, &ids, req.motif_rejet.as_deref())
            .await,
    )?;
    Ok(Json(TraiterRejetResponse {
        retour: Retour::ok(),
        liste_demande_paiement: done
            .into_iter()
            .map(|r| RejetTraite {
                id_demande_paiement: r.id.0,
                numero_facture: r.number,
                rejet_traite: r.rejection_acknowledged,
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// factures/v1/consulter/historique

/// Input of `factures/v1/consulter/historique`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsulterHistoriqueRequest {
    #[serde(deserialize_with = "lenient::i64")]
    #[schema(schema_with = lenient::schema)]
    pub id_facture: i64,
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub id_utilisateur_courant: Option<i64>,
}

/// One status of `historiquesDesStatuts.histoStatut`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoStatut {
    pub histo_statut_id: i64,
    pub histo_statut_code: String,
    pub histo_statut_date_passage: String,
    /// The motive or comment of the step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub histo_statut_commentaire: Option<String>,
    /// `FOURNISSEUR`, `DESTINATAIRE` or `PLATEFORME`.
    pub histo_statut_acteur: String,
}

/// `historiquesDesStatuts`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoriquesDesStatuts {
    /// Newest first.
    pub histo_statut: Vec<HistoStatut>,
    pub nb_resultats_par_page_histo_statut: usize,
    pub page_courante_histo_statut: u32,
    pub pages_histo_statut: u32,
    pub total_histo_statut: usize,
}

/// Output of `factures/v1/consulter/historique`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsulterHistoriqueResponse {
    #[serde(flatten)]
    pub retour: Retour,
    pub id_facture: i64,
    pub numero_facture: String,
    pub mode_depot: String,
    pub statut_courant_code: String,
    pub historiques_des_statuts: HistoriquesDesStatuts,
}

/// The status history of an invoice, the same for its two sides.
#[utoipa::path(
    post,
    path = "/cpro/factures/v1/consulter/historique",
    tag = "factures",
    request_body = ConsulterHistoriqueRequest,
    responses((status = 200, description = "History, or codeRetour 10001", body = ConsulterHistoriqueResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn consulter_historique(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<ConsulterHistoriqueRequest>,
) -> ApiResult<Json<ConsulterHistoriqueResponse>> {
    let d = scoped(
        state
            .app()
            .invoice_detail(&caller.actor, caller.structure, InvoiceId(req.id_facture), None)
            .await,
    )?;
    let total = d.history.len();
    let histo_statut: Vec<HistoStatut> = d
        .history
        .into_iter()
        .rev()
        .map(|h| HistoStatut {
            histo_statut_id: h.id,
            histo_statut_code: h.to.as_str().to_owned(),
            histo_statut_date_passage: format_datetime(h.at),
            histo_statut_commentaire: h.motive.map(|m| m.as_str().to_owned()),
            histo_statut_acteur: h.party.as_str().to_owned(),
        })
        .collect();
    Ok(Json(ConsulterHistoriqueResponse {
        retour: Retour::ok(),
        id_facture: d.invoice.id.0,
        numero_facture: d.invoice.number,
        mode_depot: "SAISIE_API".to_owned(),
        statut_courant_code: d.invoice.status.as_str().to_owned(),
        historiques_des_statuts: HistoriquesDesStatuts {
            histo_statut,
            nb_resultats_par_page_histo_statut: total.max(1),
            page_courante_histo_statut: 1,
            pages_histo_statut: 1,
            total_histo_statut: total,
        },
    }))
}

// ---------------------------------------------------------------------------------------------
// transverses/v1/recuperer/etats/traitement

/// Input of `transverses/v1/recuperer/etats/traitement`: an invoice (the caller's side and the
/// recipient's payment reporting decide), or a status (the recipient's moves from it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecupererEtatsTraitementRequest {
    #[serde(default)]
    pub statut_courant: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub id_facture: Option<i64>,
}

/// One line of `listeStatutsPossiblesPourTraitement`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatutPossible {
    pub statut_possible_pour_traitement: String,
}

/// Output of `transverses/v1/recuperer/etats/traitement`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecupererEtatsTraitementResponse {
    #[serde(flatten)]
    pub retour: Retour,
    pub statut_courant: String,
    pub liste_statuts_possibles_pour_traitement: Vec<StatutPossible>,
}

/// The statuses the caller may move an invoice to (spec §3.3), from the lifecycle table.
#[utoipa::path(
    post,
    path = "/cpro/transverses/v1/recuperer/etats/traitement",
    tag = "transverses",
    request_body = RecupererEtatsTraitementRequest,
    responses((status = 200, description = "Possible statuses, or codeRetour 10001/10002", body = RecupererEtatsTraitementResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn recuperer_etats_traitement(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<RecupererEtatsTraitementRequest>,
) -> ApiResult<Json<RecupererEtatsTraitementResponse>> {
    let from = match req.statut_courant.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(status("statutCourant", s)?),
        None => None,
    };
    let (current, next) = scoped(
        state
            .app()
            .possible_statuses(&caller.actor, caller.structure, req.id_facture.map(InvoiceId), from)
            .await,
    )?;
    Ok(Json(RecupererEtatsTraitementResponse {
        retour: Retour::ok(),
        statut_courant: current.as_str().to_owned(),
        liste_statuts_possibles_pour_traitement: next
            .into_iter()
            .map(|s| StatutPossible {
                statut_possible_pour_traitement: s.as_str().to_owned(),
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// factures/v1/consulter/fournisseur, …/recipiendaire

/// Input of `factures/v1/consulter/fournisseur` and `…/recipiendaire`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsulterFactureRequest {
    #[serde(
        rename = "identifiantFactureCPP",
        alias = "idFacture",
        deserialize_with = "lenient::i64"
    )]
    #[schema(schema_with = lenient::schema)]
    pub identifiant_facture_cpp: i64,
    #[allow(dead_code, reason = "part of the Chorus Pro request, accepted and not used")]
    /// `FR` (default) or `EN`; accepted.
    #[serde(default)]
    pub code_langue: Option<String>,
}

/// A structure on an invoice.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartieFacture {
    #[serde(rename = "idStructureCPP")]
    pub id_structure_cpp: i64,
    /// SIRET (or other identifier).
    pub identifiant: String,
    pub raison_sociale: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_service_executant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nom_service_executant: Option<String>,
}

/// `montantTotal` of a consulted invoice.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MontantTotalFacture {
    pub montant_ht_total: f64,
    #[serde(rename = "montantTVA")]
    pub montant_tva: f64,
    pub montant_ttc_total: f64,
    pub montant_a_payer: f64,
}

/// Output of `factures/v1/consulter/fournisseur` and `…/recipiendaire`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsulterFactureResponse {
    #[serde(flatten)]
    pub retour: Retour,
    #[serde(rename = "identifiantFactureCPP")]
    pub identifiant_facture_cpp: i64,
    pub numero_facture: String,
    pub type_facture: String,
    pub mode_depot: String,
    pub date_facture: String,
    /// Legal start of the payment delay, shown to both sides.
    pub date_depot: String,
    pub statut_facture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commentaire_etat_courant: Option<String>,
    pub rejet_traite: bool,
    pub devise_facture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numero_bon_commande: Option<String>,
    pub fournisseur: PartieFacture,
    pub destinataire: PartieFacture,
    pub montant_total: MontantTotalFacture,
}

fn consulted(d: InvoiceDetail) -> ConsulterFactureResponse {
    let comment = d.current_comment().map(str::to_owned);
    let i = d.invoice;
    ConsulterFactureResponse {
        retour: Retour::ok(),
        identifiant_facture_cpp: i.id.0,
        numero_facture: i.number,
        type_facture: i.kind.as_str().to_owned(),
        mode_depot: "SAISIE_API".to_owned(),
        date_facture: day(i.issue_date),
        date_depot: format_datetime(i.deposited_at),
        statut_facture: i.status.as_str().to_owned(),
        commentaire_etat_courant: comment,
        rejet_traite: i.rejection_acknowledged,
        devise_facture: i.currency,
        numero_bon_commande: i.engagement_number,
        fournisseur: PartieFacture {
            id_structure_cpp: d.supplier.id.get(),
            identifiant: d.supplier.structure.identifier.value().to_owned(),
            raison_sociale: d.supplier.structure.company_name,
            code_service_executant: None,
            nom_service_executant: None,
        },
        destinataire: PartieFacture {
            id_structure_cpp: d.recipient.id.get(),
            identifiant: d.recipient.structure.identifier.value().to_owned(),
            raison_sociale: d.recipient.structure.company_name,
            code_service_executant: d.service.as_ref().map(|s| s.service.code.as_str().to_owned()),
            nom_service_executant: d.service.map(|s| s.service.label),
        },
        montant_total: MontantTotalFacture {
            montant_ht_total: out(i.total_excl_vat),
            montant_tva: out(i.total_vat),
            montant_ttc_total: out(i.total_incl_vat),
            montant_a_payer: out(i.total_incl_vat),
        },
    }
}

/// An invoice as `party`'s side of the caller's structure sees it (the two `consulter` services).
async fn consulter(
    state: &AppState,
    caller: &Caller,
    party: Party,
    req: &ConsulterFactureRequest,
) -> ApiResult<Json<ConsulterFactureResponse>> {
    let id = InvoiceId(req.identifiant_facture_cpp);
    let d = scoped(
        state
            .app()
            .invoice_detail(&caller.actor, caller.structure, id, Some(party))
            .await,
    )?;
    Ok(Json(consulted(d)))
}

/// An invoice the caller issued.
#[utoipa::path(
    post,
    path = "/cpro/factures/v1/consulter/fournisseur",
    tag = "factures",
    request_body = ConsulterFactureRequest,
    responses((status = 200, description = "The invoice, or codeRetour 10001", body = ConsulterFactureResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn consulter_fournisseur(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<ConsulterFactureRequest>,
) -> ApiResult<Json<ConsulterFactureResponse>> {
    consulter(&state, &caller, Party::Supplier, &req).await
}

/// An invoice the caller received.
#[utoipa::path(
    post,
    path = "/cpro/factures/v1/consulter/recipiendaire",
    tag = "factures",
    request_body = ConsulterFactureRequest,
    responses((status = 200, description = "The invoice, or codeRetour 10001", body = ConsulterFactureResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn consulter_recipiendaire(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<ConsulterFactureRequest>,
) -> ApiResult<Json<ConsulterFactureResponse>> {
    consulter(&state, &caller, Party::Recipient, &req).await
}

// ---------------------------------------------------------------------------------------------
// factures/v1/rechercher/fournisseur, …/recipiendaire

/// Input of `factures/v1/rechercher/fournisseur` and `…/recipiendaire` (every criterion
/// optional; all combine).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct RechercherFactureRequest {
    pub numero_facture: Option<String>,
    /// One status (`statut`) …
    pub statut: Option<String>,
    /// … or several (`statutCourant`).
    pub statut_courant: Option<Vec<String>>,
    /// The recipient (supplier's search).
    #[serde(deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub id_destinataire: Option<i64>,
    /// The supplier (recipient's search).
    #[serde(deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub id_fournisseur: Option<i64>,
    /// Deposited on or after (`YYYY-MM-DD`).
    pub periode_date_depot_du: Option<String>,
    /// Deposited on or before.
    pub periode_date_depot_au: Option<String>,
    /// Pagination (`pagination` or `paramRecherche`).
    #[serde(alias = "paramRecherche")]
    pub pagination: Option<Pagination>,
}

/// One line of `listeFactures`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FactureTrouvee {
    pub id_facture: i64,
    pub numero_facture: String,
    pub type_facture: String,
    pub date_facture: String,
    pub date_depot: String,
    pub statut: String,
    pub rejet_traite: bool,
    pub id_fournisseur: i64,
    pub code_fournisseur: String,
    pub designation_fournisseur: String,
    pub id_destinataire: i64,
    pub code_destinataire: String,
    pub designation_destinataire: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_service_executant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numero_bon_commande: Option<String>,
    pub devise: String,
    #[serde(rename = "montantHT")]
    pub montant_ht: f64,
    #[serde(rename = "montantTTC")]
    pub montant_ttc: f64,
    pub montant_a_payer: f64,
}

/// Output of the two searches.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RechercherFactureResponse {
    #[serde(flatten)]
    pub retour: Retour,
    pub liste_factures: Vec<FactureTrouvee>,
    pub parametres_retour: PaginationRetour,
}

fn trouvee(l: InvoiceLine) -> FactureTrouvee {
    let i = l.invoice;
    FactureTrouvee {
        id_facture: i.id.0,
        numero_facture: i.number,
        type_facture: i.kind.as_str().to_owned(),
        date_facture: day(i.issue_date),
        date_depot: format_datetime(i.deposited_at),
        statut: i.status.as_str().to_owned(),
        rejet_traite: i.rejection_acknowledged,
        id_fournisseur: l.supplier.id.get(),
        code_fournisseur: l.supplier.structure.identifier.value().to_owned(),
        designation_fournisseur: l.supplier.structure.display_name().to_owned(),
        id_destinataire: l.recipient.id.get(),
        code_destinataire: l.recipient.structure.identifier.value().to_owned(),
        designation_destinataire: l.recipient.structure.display_name().to_owned(),
        code_service_executant: l.service.map(|s| s.service.code.as_str().to_owned()),
        numero_bon_commande: i.engagement_number,
        devise: i.currency,
        montant_ht: out(i.total_excl_vat),
        montant_ttc: out(i.total_incl_vat),
        montant_a_payer: out(i.total_incl_vat),
    }
}

async fn rechercher(
    state: &AppState,
    caller: &Caller,
    party: Party,
    req: RechercherFactureRequest,
) -> ApiResult<Json<RechercherFactureResponse>> {
    let pagination = req.pagination.unwrap_or_default();
    let page = pagination.request()?;
    let mut statuses = Vec::new();
    for s in req.statut.iter().chain(req.statut_courant.iter().flatten()) {
        if !s.trim().is_empty() {
            statuses.push(status("statut", s)?);
        }
    }
    let partner = match party {
        Party::Supplier => req.id_destinataire,
        _ => req.id_fournisseur,
    };
    let filter = InvoiceFilter {
        statuses,
        number: req.numero_facture,
        partner: partner.map(StructureId),
        deposited_from: opt_date("periodeDateDepotDu", req.periode_date_depot_du.as_deref())?,
        deposited_to: opt_date("periodeDateDepotAu", req.periode_date_depot_au.as_deref())?,
        max: page.cap().unwrap_or(200),
    };
    let lines = state
        .app()
        .search_invoices(&caller.actor, caller.structure, party, &filter)
        .await?;
    let (items, parametres_retour) = pagination.paginate(lines)?;
    Ok(Json(RechercherFactureResponse {
        retour: Retour::ok(),
        liste_factures: items.into_iter().map(trouvee).collect(),
        parametres_retour,
    }))
}

/// The invoices the caller issued, newest deposit first (at most `nbResultatsMaximum`, 200).
#[utoipa::path(
    post,
    path = "/cpro/factures/v1/rechercher/fournisseur",
    tag = "factures",
    request_body = RechercherFactureRequest,
    responses((status = 200, description = "Invoices found", body = RechercherFactureResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn rechercher_fournisseur(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<RechercherFactureRequest>,
) -> ApiResult<Json<RechercherFactureResponse>> {
    rechercher(&state, &caller, Party::Supplier, req).await
}

/// The invoices the caller received, newest deposit first (at most `nbResultatsMaximum`, 200).
#[utoipa::path(
    post,
    path = "/cpro/factures/v1/rechercher/recipiendaire",
    tag = "factures",
    request_body = RechercherFactureRequest,
    responses((status = 200, description = "Invoices found", body = RechercherFactureResponse)),
    security(("bearer" = [], "cpro_account" = []))
)]
pub async fn rechercher_recipiendaire(
    State(state): State<AppState>,
    caller: Caller,
    CproJson(req): CproJson<RechercherFactureRequest>,
) -> ApiResult<Json<RechercherFactureResponse>> {
    rechercher(&state, &caller, Party::Recipient, req).await
}
