//! The directory (annuaire): public structures with their services and parameters; search,
//! autocomplete, CSV import/export. Public structures are created by the operator only.

use std::io::{Read, Write};

use facteur_domain::{Service, Structure, StructureId, StructureKind, StructureStatus};
use facteur_store::{ServiceRecord, StructureQuery, StructureRecord};

use crate::access::store_actor;
use crate::directory_csv::DirectoryRecord;
use crate::{
    Actor, App, AppError, AppResult, DirectoryDetail, DirectoryEntry, DirectoryQuery, ImportReport, Page, ServiceView,
    StructureView,
};

/// Page size used to walk the whole directory on export.
const EXPORT_PAGE: u32 = 500;

fn entry(r: StructureRecord) -> DirectoryEntry {
    let name = r.structure.display_name().to_owned();
    DirectoryEntry {
        id: r.id,
        identifier: r.structure.identifier,
        name,
        kind: r.structure.kind,
        postcode: r.structure.address.postcode,
        city: r.structure.address.city,
        active: r.structure.status == StructureStatus::Active,
        parameters: r.structure.parameters,
    }
}

fn structure_view(r: StructureRecord) -> StructureView {
    StructureView {
        id: r.id,
        structure: r.structure,
        created_at: r.created_at,
    }
}

fn service_view(r: ServiceRecord) -> ServiceView {
    ServiceView {
        id: r.id,
        structure_id: r.structure_id,
        service: r.service,
    }
}

fn non_blank(s: Option<&String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// What [`App::upsert_structure_counted`] did.
#[derive(Default)]
struct UpsertCounts {
    structure_created: bool,
    structure_updated: bool,
    services_created: u64,
    services_updated: u64,
    services_unchanged: u64,
}

/// Longest search text accepted (a name, a city, an identifier: far below it).
pub const MAX_SEARCH_CHARS: usize = 200;

/// Search text must be short and printable: a huge `LIKE` pattern fails on SQLite ("pattern too
/// complex") and a NUL fails on PostgreSQL, so neither may reach SQL.
fn check_search_text(text: &str) -> AppResult<()> {
    if text.chars().count() > MAX_SEARCH_CHARS {
        return Err(AppError::invalid(
            "q",
            format!("texte de recherche trop long ({MAX_SEARCH_CHARS} caractères au plus)"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(AppError::invalid("q", "caractère de contrôle interdit"));
    }
    Ok(())
}

impl App {
    /// Creates or updates a structure and its listed services, keyed by identifier (operator
    /// only). Services not listed are left as they are.
    #[tracing::instrument(skip_all)]
    pub async fn upsert_structure(
        &self,
        actor: &Actor,
        structure: Structure,
        services: Vec<Service>,
    ) -> AppResult<StructureId> {
        if *actor != Actor::Operator {
            return Err(AppError::Forbidden);
        }
        let (id, _) = self.upsert_structure_counted(actor, &structure, &services).await?;
        Ok(id)
    }

    async fn upsert_structure_counted(
        &self,
        actor: &Actor,
        structure: &Structure,
        services: &[Service],
    ) -> AppResult<(StructureId, UpsertCounts)> {
        let sa = store_actor(actor);
        let mut counts = UpsertCounts::default();
        let id = match self.db().find_structure_by_identifier(&structure.identifier).await? {
            Some(existing) if existing.structure == *structure => existing.id,
            Some(existing) => {
                self.db().update_structure(existing.id, structure, sa).await?;
                counts.structure_updated = true;
                existing.id
            }
            None => {
                counts.structure_created = true;
                self.db().create_structure(structure, sa).await?.id
            }
        };
        for service in services {
            match self.db().find_service(id, &service.code).await? {
                Some(existing) if existing.service == *service => counts.services_unchanged += 1,
                Some(existing) => {
                    self.db().update_service(existing.id, service, sa).await?;
                    counts.services_updated += 1;
                }
                None => {
                    self.db().create_service(id, service, sa).await?;
                    counts.services_created += 1;
                }
            }
        }
        Ok((id, counts))
    }

    /// Searches the directory: active public structures (all structures when `public_only` is
    /// false, which the web layer must allow to the operator only).
    #[tracing::instrument(skip_all)]
    pub async fn search_directory(&self, query: &DirectoryQuery) -> AppResult<Page<DirectoryEntry>> {
        for text in [&query.identifier, &query.text, &query.place].into_iter().flatten() {
            check_search_text(text)?;
        }
        let place = non_blank(query.place.as_ref());
        let is_postcode = place.as_deref().is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
        let q = StructureQuery {
            identifier: non_blank(query.identifier.as_ref()),
            name: non_blank(query.text.as_ref()),
            postcode: place.clone().filter(|_| is_postcode),
            city: place.filter(|_| !is_postcode),
            kind: query.public_only.then_some(StructureKind::Public),
            status: query.public_only.then_some(StructureStatus::Active),
            page: query.page.max(1),
            per_page: if query.page_size == 0 {
                20
            } else {
                query.page_size.min(200)
            },
        };
        let page = self.db().search_structures(&q).await?;
        Ok(Page {
            total: u64::try_from(page.total).unwrap_or(0),
            page: page.page,
            page_size: page.per_page,
            items: page.items.into_iter().map(entry).collect(),
        })
    }

    /// Active public structures whose identifier starts with `q` (digits) or whose name contains
    /// `q`, for the portal's recipient field. At most `limit` (≤ 50) entries; fewer than 2
    /// characters give none.
    #[tracing::instrument(skip_all)]
    pub async fn autocomplete_recipients(&self, q: &str, limit: u32) -> AppResult<Vec<DirectoryEntry>> {
        check_search_text(q)?;
        let q = q.trim();
        if q.chars().count() < 2 {
            return Ok(Vec::new());
        }
        let digits = q.chars().all(|c| c.is_ascii_digit() || c == ' ');
        let query = StructureQuery {
            identifier: digits.then(|| q.replace(' ', "")),
            name: (!digits).then(|| q.to_owned()),
            kind: Some(StructureKind::Public),
            status: Some(StructureStatus::Active),
            page: 1,
            per_page: limit.clamp(1, 50),
            ..StructureQuery::default()
        };
        Ok(self
            .db()
            .search_structures(&query)
            .await?
            .items
            .into_iter()
            .map(entry)
            .collect())
    }

    /// A public structure with its services; private structures are `NotFound` here.
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id))]
    pub async fn directory_detail(&self, structure_id: StructureId) -> AppResult<DirectoryDetail> {
        let s = self.load_structure(structure_id).await?;
        if s.structure.kind != StructureKind::Public {
            return Err(AppError::NotFound);
        }
        let services = self
            .db()
            .list_services(structure_id)
            .await?
            .into_iter()
            .map(service_view)
            .collect();
        Ok(DirectoryDetail {
            structure: structure_view(s),
            services,
        })
    }

    /// A structure the actor belongs to (any kind), or a public one; otherwise `NotFound`.
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id))]
    pub async fn structure(&self, actor: &Actor, structure_id: StructureId) -> AppResult<StructureView> {
        let s = self.load_structure(structure_id).await?;
        if s.structure.kind != StructureKind::Public {
            self.require_member(actor, structure_id).await?;
        }
        Ok(structure_view(s))
    }

    /// Services of a structure visible to the actor (members, or anyone for public structures).
    #[tracing::instrument(skip_all, fields(structure_id = %structure_id))]
    pub async fn services(&self, actor: &Actor, structure_id: StructureId) -> AppResult<Vec<ServiceView>> {
        self.structure(actor, structure_id).await?;
        Ok(self
            .db()
            .list_services(structure_id)
            .await?
            .into_iter()
            .map(service_view)
            .collect())
    }

    /// Imports parsed records (operator only); idempotent: a second run of the same file reports
    /// everything unchanged. `progress(done, total)` is called after each structure.
    #[tracing::instrument(skip_all)]
    pub async fn import_directory(
        &self,
        actor: &Actor,
        records: &[DirectoryRecord],
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> AppResult<ImportReport> {
        if *actor != Actor::Operator {
            return Err(AppError::Forbidden);
        }
        let total = u64::try_from(records.len()).unwrap_or(u64::MAX);
        let mut report = ImportReport::default();
        for (i, rec) in records.iter().enumerate() {
            let (_, c) = self
                .upsert_structure_counted(actor, &rec.structure, &rec.services)
                .await
                .map_err(|e| match e {
                    AppError::Store(e) => AppError::Csv {
                        line: rec.line,
                        message: e.to_string(),
                    },
                    other => other,
                })?;
            if c.structure_created {
                report.structures_created += 1;
            } else if c.structure_updated {
                report.structures_updated += 1;
            } else {
                report.structures_unchanged += 1;
            }
            report.services_created += c.services_created;
            report.services_updated += c.services_updated;
            report.services_unchanged += c.services_unchanged;
            progress(u64::try_from(i).unwrap_or(u64::MAX).saturating_add(1), total);
        }
        Ok(report)
    }

    /// Parses a CSV file ([`crate::directory_csv`] format) and imports it (operator only).
    #[tracing::instrument(skip_all)]
    pub async fn import_directory_csv<R: Read>(
        &self,
        actor: &Actor,
        input: R,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> AppResult<ImportReport> {
        if *actor != Actor::Operator {
            return Err(AppError::Forbidden);
        }
        let records = crate::directory_csv::read_directory_csv(input)?;
        self.import_directory(actor, &records, progress).await
    }

    /// Writes every public structure (active or not) with its services as CSV, the default
    /// `FACTURES_PUBLIQUES` service left out (import recreates it); returns the number of
    /// structures. The output re-imports to the same directory.
    #[tracing::instrument(skip_all)]
    pub async fn export_directory_csv<W: Write + Send>(&self, out: W) -> AppResult<u64> {
        let mut records = Vec::new();
        let mut page = 1;
        loop {
            let q = StructureQuery {
                kind: Some(StructureKind::Public),
                page,
                per_page: EXPORT_PAGE,
                ..StructureQuery::default()
            };
            let batch = self.db().search_structures(&q).await?;
            let n = batch.items.len();
            for s in batch.items {
                let services = self
                    .db()
                    .list_services(s.id)
                    .await?
                    .into_iter()
                    .map(|r| r.service)
                    .filter(|svc| !svc.code.is_default_service())
                    .collect();
                records.push(DirectoryRecord {
                    line: 0,
                    structure: s.structure,
                    services,
                });
            }
            if n < EXPORT_PAGE as usize {
                break;
            }
            page += 1;
        }
        crate::directory_csv::write_directory_csv(out, &records)?;
        Ok(u64::try_from(records.len()).unwrap_or(u64::MAX))
    }
}
