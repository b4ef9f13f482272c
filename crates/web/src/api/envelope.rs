//! Envelope, pagination and JSON-body handling shared by the `/cpro/` services (spec §4.2).
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, codes};

/// Success `libelle` of the business services.
pub const LIBELLE_OK: &str = "TRA_MSG_00.000";
/// Success `libelle` of some referential services (directory download).
pub const LIBELLE_OK_REFERENTIEL: &str = "GCU_MSG_01_000";

/// Pagination input (`parametres`, `parametresRecherche`, … depending on the service).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// Default 10, at most 200.
    pub nb_resultats_par_page: Option<i64>,
    /// 1-based, default 1.
    pub page_resultat_demandee: Option<i64>,
    /// Cap on the whole result set, default and maximum 200.
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
    fn page_size(&self) -> usize {
        usize::try_from(self.nb_resultats_par_page.unwrap_or(10))
            .unwrap_or(10)
            .clamp(1, MAX_RESULTS)
    }

    fn page(&self) -> usize {
        usize::try_from(self.page_resultat_demandee.unwrap_or(1))
            .unwrap_or(1)
            .max(1)
    }

    fn maximum(&self) -> usize {
        usize::try_from(self.nb_resultats_maximum.unwrap_or(MAX_RESULTS as i64))
            .unwrap_or(MAX_RESULTS)
            .clamp(1, MAX_RESULTS)
    }

    /// Cuts the requested page out of `all` (already capped by the caller's query) and describes it.
    pub fn paginate<T>(&self, mut all: Vec<T>) -> (Vec<T>, PaginationRetour) {
        all.truncate(self.maximum());
        let size = self.page_size();
        let total = all.len();
        let pages = total.div_ceil(size);
        let page = self.page();
        let start = (page - 1).saturating_mul(size).min(total);
        let end = start.saturating_add(size).min(total);
        let items: Vec<T> = all.drain(start..end).collect();
        let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let retour = PaginationRetour {
            nb_resultats_par_page: to_u32(size),
            page_courante: to_u32(page),
            pages: to_u32(pages),
            total: to_u32(total),
        };
        (items, retour)
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

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for CproJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::Malformed(e.body_text()))?;
        let slice: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(slice)
            .map(CproJson)
            .map_err(|e| ApiError::Malformed(e.to_string()))
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
    use super::*;

    #[test]
    fn paginate_cuts_pages_and_counts() {
        let p = Pagination {
            nb_resultats_par_page: Some(2),
            page_resultat_demandee: Some(2),
            ..Default::default()
        };
        let (items, r) = p.paginate(vec![1, 2, 3, 4, 5]);
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
    fn paginate_beyond_the_end_is_empty_and_hostile_values_are_clamped() {
        let p = Pagination {
            nb_resultats_par_page: Some(-5),
            page_resultat_demandee: Some(i64::MAX),
            nb_resultats_maximum: Some(3),
            ..Default::default()
        };
        let (items, r) = p.paginate(vec![1, 2, 3, 4, 5]);
        assert!(items.is_empty());
        assert_eq!(r.total, 3);
    }
}
