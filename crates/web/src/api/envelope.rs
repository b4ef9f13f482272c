//! Envelope, pagination and JSON-body handling shared by the `/cpro/` services (spec §4.2).
use axum::extract::{FromRequest, Request};
use facteur_app::{Page, PageRequest};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult, codes};

/// Success `libelle` of the business services.
pub const LIBELLE_OK: &str = "TRA_MSG_00.000";
/// Success `libelle` of some referential services (directory download).
pub const LIBELLE_OK_REFERENTIEL: &str = "GCU_MSG_01_000";

/// Pagination input (`parametres`, `parametresRecherche`, … depending on the service). Numbers
/// may come as JSON strings (`"10"`), as Chorus Pro accepts them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// Default 10, from 1 to 200.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub nb_resultats_par_page: Option<i64>,
    /// 1-based, default 1; beyond the last page the page is empty.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub page_resultat_demandee: Option<i64>,
    /// Cap on the whole result set, default and maximum 200.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    #[schema(schema_with = lenient::schema_opt)]
    pub nb_resultats_maximum: Option<i64>,
    /// Accepted for compatibility; results are ordered by name.
    pub tri_colonne: Option<String>,
    /// `Ascendant` / `Descendant`; accepted for compatibility.
    #[serde(alias = "triSense")]
    pub tri_sens: Option<String>,
}

/// Pagination output (`parametresRetour`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaginationRetour {
    pub nb_resultats_par_page: u32,
    pub page_courante: u32,
    pub pages: u32,
    pub total: u32,
}

/// Most results a search returns overall, as on Chorus Pro.
pub const MAX_RESULTS: usize = 200;

impl Pagination {
    /// A value that must be at least 1 when given; `field` names it in the refusal.
    fn positive(value: Option<i64>, default: usize, field: &str) -> ApiResult<usize> {
        match value {
            None => Ok(default),
            Some(v) if v >= 1 => Ok(usize::try_from(v).unwrap_or(usize::MAX)),
            Some(_) => Err(ApiError::business(
                codes::INVALID,
                format!("{field} : doit être un entier supérieur ou égal à 1"),
            )),
        }
    }

    /// The page asked for, under the one policy of [`PageRequest`] (sizes over 200 brought down to
    /// 200, the maximum capping the whole result). A page size, page number or maximum below 1 is a
    /// field error, as on Chorus Pro; the default size is 10 and the default maximum 200.
    pub fn request(&self) -> ApiResult<PageRequest> {
        let size = Self::positive(self.nb_resultats_par_page, 10, "nbResultatsParPage")?;
        let page = Self::positive(self.page_resultat_demandee, 1, "pageResultatDemandee")?;
        let maximum = Self::positive(self.nb_resultats_maximum, MAX_RESULTS, "nbResultatsMaximum")?;
        let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(PageRequest::new(to_u32(page), to_u32(size)).capped(to_u32(maximum)))
    }

    /// Cuts the requested page out of a whole list held in memory (a structure's services) and
    /// describes it; searches page in the store with [`Pagination::request`] instead.
    pub fn paginate<T>(&self, all: Vec<T>) -> ApiResult<(Vec<T>, PaginationRetour)> {
        let page = self.request()?.slice(all);
        let retour = PaginationRetour::of(&page);
        Ok((page.items, retour))
    }
}

impl PaginationRetour {
    /// `parametresRetour` of a page.
    pub fn of<T>(page: &Page<T>) -> Self {
        let to_u32 = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        PaginationRetour {
            nb_resultats_par_page: page.per_page,
            page_courante: page.page,
            pages: to_u32(page.page_count()),
            total: to_u32(page.total),
        }
    }
}

/// Numbers that clients send as JSON strings (`"idStructureCPP": "42"`), accepted as Chorus Pro
/// does; anything else that is not an integer is refused.
pub mod lenient {
    use serde::{Deserialize, Deserializer, de::Error as _};

    /// Largest magnitude accepted (18 digits: every such number fits an `i64`, and a JSON number
    /// of this size is still exact as a float).
    const MAX: i64 = 999_999_999_999_999_999;

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IntOrText {
        Int(i64),
        /// `12.0` is an integer for JSON Schema.
        Float(f64),
        Text(String),
    }

    fn read<E: serde::de::Error>(v: IntOrText) -> Result<i64, E> {
        let n = match v {
            IntOrText::Int(n) => Ok(n),
            #[allow(clippy::cast_possible_truncation, reason = "checked whole and in range first")]
            IntOrText::Float(f) if f.fract() == 0.0 && f.abs() <= MAX as f64 => Ok(f as i64),
            IntOrText::Float(f) => Err(E::custom(format!("expected an integer, got {f}"))),
            IntOrText::Text(t) => t
                .trim_matches(' ')
                .parse()
                .map_err(|_| E::custom(format!("expected an integer, got {t:?}"))),
        }?;
        if n.abs() > MAX {
            return Err(E::custom(format!("{n} is out of range (18 digits at most)")));
        }
        Ok(n)
    }

    /// The schema of such a number: an integer, or a string of digits; when `optional`, also
    /// `null` or a blank string.
    fn number_schema(optional: bool) -> utoipa::openapi::Schema {
        use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
        let digits = if optional {
            r"^ *(-?[0-9]{1,18})? *$"
        } else {
            r"^ *-?[0-9]{1,18} *$"
        };
        let mut any = AnyOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                    .minimum(Some(-MAX))
                    .maximum(Some(MAX)),
            )
            .item(ObjectBuilder::new().schema_type(Type::String).pattern(Some(digits)));
        if optional {
            any = any.item(ObjectBuilder::new().schema_type(Type::Null));
        }
        any.build().into()
    }

    /// The schema of a required number (`schema_with` of its field).
    pub fn schema() -> utoipa::openapi::Schema {
        number_schema(false)
    }

    /// The schema of an optional number.
    pub fn schema_opt() -> utoipa::openapi::Schema {
        number_schema(true)
    }

    /// An integer, or a string holding one.
    pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        read(IntOrText::deserialize(d).map_err(|_| D::Error::custom("expected an integer"))?)
    }

    /// An optional integer, or a string holding one (`null` and `""` read as absent).
    pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<IntOrText>::deserialize(d).map_err(|_| D::Error::custom("expected an integer"))? {
            None => Ok(None),
            Some(IntOrText::Text(t)) if t.trim_matches(' ').is_empty() => Ok(None),
            Some(v) => read(v).map(Some),
        }
    }
}

/// `codeRetour` + `libelle` of a success.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Retour {
    pub code_retour: i32,
    pub libelle: String,
}

impl Retour {
    /// `codeRetour: 0`, `libelle: TRA_MSG_00.000`.
    pub fn ok() -> Self {
        Self {
            code_retour: codes::OK,
            libelle: LIBELLE_OK.to_owned(),
        }
    }

    /// `codeRetour: 0` with a referential-service `libelle`.
    pub fn ok_referentiel() -> Self {
        Self {
            code_retour: codes::OK,
            libelle: LIBELLE_OK_REFERENTIEL.to_owned(),
        }
    }
}

/// JSON body whose parse errors come back as the API envelope (HTTP 400) rather than axum's text.
/// An empty body reads as `{}` because several services take no input and clients send nothing.
#[derive(Debug)]
pub struct CproJson<T>(pub T);

/// Longest text a `/cpro/` request field may hold (names, identifiers, search strings: the same bound as
/// the directory search). Longer text never reaches SQL, where a huge `LIKE`
/// pattern fails on SQLite.
pub const MAX_TEXT_CHARS: usize = 200;

/// Fields holding free text (`commentaire`, `motif`…, spec §5: "Comment: text ≤2000").
const LONG_TEXT_FIELDS: &[&str] = &["commentaire", "motif", "motifRejet", "cpltInfos"];
/// Longest free text.
pub const LONG_TEXT_CHARS: usize = 2000;

/// Fields holding a whole file in base64 (`fichierFlux`, `fichierFacture`, `pieceJointeFichier`):
/// bounded by the route's body limit only.
const FILE_FIELDS: &[&str] = &["fichierFlux", "fichierFacture", "pieceJointeFichier"];

/// Refuses, with a field error naming it, any string of the request that is too long or holds a
/// control character (a NUL fails on PostgreSQL; none belongs in a name or a search).
fn check_texts(value: &serde_json::Value, path: &mut String) -> ApiResult<()> {
    match value {
        serde_json::Value::String(s) => {
            let field = if path.is_empty() { "(corps)" } else { path.as_str() };
            // Comments and motives are free text up to 2,000 characters, line breaks allowed.
            let long = LONG_TEXT_FIELDS.iter().any(|f| path.rsplit('.').next() == Some(*f));
            let file = FILE_FIELDS.iter().any(|f| path.rsplit('.').next() == Some(*f));
            let max = if long { LONG_TEXT_CHARS } else { MAX_TEXT_CHARS };
            if !file && s.chars().count() > max {
                return Err(ApiError::business(
                    codes::INVALID,
                    format!("{field} : texte trop long ({max} caractères au plus)"),
                ));
            }
            if s.chars()
                .any(|c| c.is_control() && !(long && matches!(c, '\n' | '\r' | '\t')))
            {
                return Err(ApiError::business(
                    codes::INVALID,
                    format!("{field} : caractère de contrôle interdit"),
                ));
            }
            Ok(())
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                check_texts(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                check_texts(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The request schemas of the published OpenAPI document, compiled once: a body is checked
/// against the very schema clients read (types, required fields, shapes), so what the document
/// refuses the server refuses too, with the place and the reason.
fn request_validator(name: &str) -> Option<&'static jsonschema::Validator> {
    static VALIDATORS: std::sync::OnceLock<std::collections::HashMap<String, jsonschema::Validator>> =
        std::sync::OnceLock::new();
    VALIDATORS
        .get_or_init(|| {
            let doc = serde_json::to_value(crate::openapi::openapi()).unwrap_or_default();
            let components = doc.get("components").cloned().unwrap_or_default();
            let names: Vec<String> = components
                .get("schemas")
                .and_then(serde_json::Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            names
                .into_iter()
                .filter_map(|name| {
                    let schema = serde_json::json!({
                        "$ref": format!("#/components/schemas/{name}"),
                        "components": components,
                    });
                    match jsonschema::options()
                        .with_draft(jsonschema::Draft::Draft202012)
                        .build(&schema)
                    {
                        Ok(v) => Some((name, v)),
                        Err(e) => {
                            tracing::error!(schema = %name, error = %e, "request schema does not compile");
                            None
                        }
                    }
                })
                .collect()
        })
        .get(name)
}

/// Checks `value` against the schema of `name`; the error names the place and the rule broken.
fn check_schema(name: &str, value: &serde_json::Value) -> ApiResult<()> {
    let Some(validator) = request_validator(name) else {
        return Ok(());
    };
    match validator.validate(value) {
        Ok(()) => Ok(()),
        Err(e) => {
            let mut message = format!("{} : {}", e.instance_path(), e.masked());
            if message.len() > 300 {
                let mut cut = 300;
                while !message.is_char_boundary(cut) {
                    cut -= 1;
                }
                message.truncate(cut);
                message.push('…');
            }
            Err(ApiError::Malformed(message))
        }
    }
}

/// Reads a `/cpro/` JSON body: none at all reads as `{}` (the services whose body is optional),
/// anything else must be JSON (whitespace alone is not); then the published schema, the text rules
/// and the type, each refusal in the API envelope.
fn parse_body<T: DeserializeOwned + utoipa::ToSchema>(bytes: &[u8]) -> ApiResult<T> {
    let slice: &[u8] = if bytes.is_empty() { b"{}" } else { bytes };
    let value: serde_json::Value = serde_json::from_slice(slice).map_err(|e| ApiError::Malformed(e.to_string()))?;
    check_schema(&T::name(), &value)?;
    check_texts(&value, &mut String::new())?;
    serde_json::from_value(value).map_err(|e| ApiError::Malformed(e.to_string()))
}

async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> ApiResult<axum::body::Bytes> {
    axum::body::Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::Malformed(e.body_text())
        }
    })
}

impl<T: DeserializeOwned + utoipa::ToSchema, S: Send + Sync> FromRequest<S> for CproJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(req, state).await?;
        parse_body(&bytes).map(CproJson)
    }
}

/// [`CproJson`] that also keeps the body as received (a deposit stores its original bytes).
#[derive(Debug)]
pub struct CproJsonBytes<T>(pub T, pub axum::body::Bytes);

impl<T: DeserializeOwned + utoipa::ToSchema, S: Send + Sync> FromRequest<S> for CproJsonBytes<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(req, state).await?;
        let value = parse_body(&bytes)?;
        Ok(CproJsonBytes(value, bytes))
    }
}

/// Chorus Pro date-time output format, `YYYY-MM-DD HH:MM`.
pub fn format_datetime(t: time::OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// A date in the same output format (midnight).
pub fn format_date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02} 00:00", d.year(), u8::from(d.month()), d.day())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn paginate_cuts_pages_and_counts() {
        let p = Pagination {
            nb_resultats_par_page: Some(2),
            page_resultat_demandee: Some(2),
            ..Default::default()
        };
        let (items, r) = p.paginate(vec![1, 2, 3, 4, 5]).unwrap();
        assert_eq!(items, vec![3, 4]);
        assert_eq!(
            r,
            PaginationRetour {
                nb_resultats_par_page: 2,
                page_courante: 2,
                pages: 3,
                total: 5
            }
        );
    }

    #[test]
    fn paginate_beyond_the_end_is_empty_and_sizes_are_capped() {
        let p = Pagination {
            nb_resultats_par_page: Some(5000),
            page_resultat_demandee: Some(i64::MAX),
            nb_resultats_maximum: Some(3),
            ..Default::default()
        };
        let (items, r) = p.paginate(vec![1, 2, 3, 4, 5]).unwrap();
        assert!(items.is_empty());
        assert_eq!((r.total, r.nb_resultats_par_page), (3, 200));
    }

    #[test]
    fn sizes_below_one_are_field_errors() {
        for (field, p) in [
            (
                "nbResultatsMaximum",
                Pagination {
                    nb_resultats_maximum: Some(0),
                    ..Default::default()
                },
            ),
            (
                "nbResultatsParPage",
                Pagination {
                    nb_resultats_par_page: Some(-5),
                    ..Default::default()
                },
            ),
            (
                "pageResultatDemandee",
                Pagination {
                    page_resultat_demandee: Some(0),
                    ..Default::default()
                },
            ),
        ] {
            match p.paginate(vec![1]) {
                Err(ApiError::Business { code, libelle }) => {
                    assert_eq!(code, codes::INVALID);
                    assert!(libelle.starts_with(field), "{libelle}");
                }
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn every_request_body_has_a_compiled_schema_that_refuses_wrong_shapes() {
        for name in [
            "RechercherStructuresRequest",
            "ConsulterStructureRequest",
            "RechercherServicesRequest",
            "ConsulterServiceRequest",
            "RechercherDestinataireRequest",
            "RattachementsRequest",
            "RecupererCoordBancRequest",
            "ModifierStructureRequest",
            "ModifierParametresRequest",
            "CreerServiceRequest",
            "ModifierServiceRequest",
            "AjouterCoordBancRequest",
            "ModifierCoordBancRequest",
        ] {
            assert!(request_validator(name).is_some(), "{name}");
        }
        let ok = serde_json::json!({"structure": {}, "parametres": {"nbResultatsParPage": "10"}});
        assert!(check_schema("RechercherStructuresRequest", &ok).is_ok());
        let array = serde_json::json!({"structure": [null, null]});
        match check_schema("RechercherStructuresRequest", &array) {
            Err(ApiError::Malformed(m)) => assert!(m.starts_with("/structure"), "{m}"),
            other => panic!("{other:?}"),
        }
        let missing = serde_json::json!({});
        assert!(check_schema("ConsulterServiceRequest", &missing).is_err());
        let text = serde_json::json!({"idStructureCPP": "douze"});
        assert!(check_schema("ConsulterStructureRequest", &text).is_err());
        assert!(
            check_schema(
                "ConsulterStructureRequest",
                &serde_json::json!({"idStructureCPP": "12"})
            )
            .is_ok()
        );
    }

    #[test]
    fn numbers_may_come_as_strings() {
        let p: Pagination =
            serde_json::from_str(r#"{"nbResultatsParPage": "7", "pageResultatDemandee": 2, "nbResultatsMaximum": ""}"#)
                .unwrap();
        assert_eq!(
            (
                p.nb_resultats_par_page,
                p.page_resultat_demandee,
                p.nb_resultats_maximum
            ),
            (Some(7), Some(2), None)
        );
        assert!(serde_json::from_str::<Pagination>(r#"{"nbResultatsParPage": "sept"}"#).is_err());
        assert!(serde_json::from_str::<Pagination>(r#"{"nbResultatsParPage": 1.5}"#).is_err());
        let whole: Pagination = serde_json::from_str(r#"{"nbResultatsParPage": 12.0}"#).unwrap();
        assert_eq!(whole.nb_resultats_par_page, Some(12));
        assert!(serde_json::from_str::<Pagination>(r#"{"nbResultatsParPage": 1e30}"#).is_err());
        assert!(serde_json::from_str::<Pagination>(r#"{"nbResultatsParPage": "\n12"}"#).is_err());
    }

    #[test]
    fn long_or_control_texts_are_field_errors_naming_the_field() {
        let check = |v: serde_json::Value| check_texts(&v, &mut String::new());
        assert!(check(serde_json::json!({"structure": {"raisonSocialeStructure": "Mairie"}})).is_ok());
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        match check(serde_json::json!({"structure": {"raisonSocialeStructure": long}})) {
            Err(ApiError::Business { libelle, .. }) => {
                assert!(
                    libelle.starts_with("structure.raisonSocialeStructure : texte trop long"),
                    "{libelle}"
                )
            }
            other => panic!("{other:?}"),
        }
        match check(serde_json::json!({"liste": ["ok", "a\u{0}b"]})) {
            Err(ApiError::Business { libelle, .. }) => {
                assert!(libelle.starts_with("liste[1] : caractère"), "{libelle}")
            }
            other => panic!("{other:?}"),
        }
    }
}
