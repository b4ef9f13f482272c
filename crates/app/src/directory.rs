//! The directory (annuaire): public structures with their services and parameters; search,
//! autocomplete, CSV import/export. Public structures are created by the operator only.

use std::io::{Read, Write};

use facteur_domain::{Service, Structure, StructureId, StructureKind, StructureStatus};
use facteur_store::{Scope, ServiceRecord, StructureQuery, StructureRecord};

use crate::access::store_actor;
use crate::directory_csv::DirectoryRecord;
use crate::{
    Actor, App, AppError, AppResult, DirectoryDetail, DirectoryEntry, DirectoryQuery, DirectoryScope, ImportReport,
    Page, PageRequest, Problem, ServiceView, StructureView,
};

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
        return Err(AppError::invalid("q", Problem::TooLong { max: MAX_SEARCH_CHARS }));
    }
    if text.chars().any(char::is_control) {
        return Err(AppError::invalid("q", Problem::ControlCharacter));
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

    /// The one directory search (API `structures/v1/rechercher` and `transverses/v1/rechercher/
    /// destinataire`, the portal's directory page and recipient autocomplete): every criterion
    /// runs in the store's SQL, so `total` counts every match (up to the page request's cap).
    /// `actor` decides what "own structure" means (a technical account's structure; none for
    /// others) and whether [`DirectoryScope::Everything`] is allowed (the operator only).
    #[tracing::instrument(skip_all, fields(scope = ?query.scope, page = page.page()))]
    pub async fn search_directory(
        &self,
        actor: Option<&Actor>,
        query: &DirectoryQuery,
        page: PageRequest,
    ) -> AppResult<Page<DirectoryEntry>> {
        let texts = [
            &query.identifier,
            &query.identifier_prefix,
            &query.name,
            &query.city,
            &query.postcode,
            &query.free_text,
            &query.country,
        ];
        for text in texts.into_iter().flatten() {
            check_search_text(text)?;
        }
        let own = match actor {
            Some(Actor::Technical { structure, .. }) => Some(*structure),
            _ => None,
        };
        let scope = match (query.scope, own) {
            (DirectoryScope::Public, _) | (DirectoryScope::PublicAndOwn, None) => Scope::Public,
            (DirectoryScope::PublicAndOwn, Some(id)) => Scope::PublicAnd(id),
            (DirectoryScope::OwnOnly, Some(id)) => Scope::Only(id),
            (DirectoryScope::OwnOnly, None) => return Ok(page.slice(Vec::new())),
            (DirectoryScope::Everything, _) if actor == Some(&Actor::Operator) => Scope::All,
            (DirectoryScope::Everything, _) => return Err(AppError::Forbidden),
        };
        let q = StructureQuery {
            scope,
            identifier: non_blank(query.identifier.as_ref()),
            identifier_prefix: non_blank(query.identifier_prefix.as_ref()),
            identifier_kind: query.identifier_kind,
            name: non_blank(query.name.as_ref()),
            city: non_blank(query.city.as_ref()),
            postcode: non_blank(query.postcode.as_ref()),
            free_text: non_blank(query.free_text.as_ref()),
            country: non_blank(query.country.as_ref()),
            kind: query.kind,
            status: query.status,
            status_exempt: own.filter(|_| query.own_any_status),
            with_moa: query.with_moa,
            moa_only: query.moa_only,
        };
        Ok(self.db().search_structures(&q, page).await?.map(entry))
    }

    /// Active public structures for the portal's recipient field, read as
    /// [`DirectoryQuery::recipients`] reads a text box: at most `limit` (≤ 50) entries; fewer than 2
    /// characters give none.
    #[tracing::instrument(skip_all)]
    pub async fn autocomplete_recipients(&self, q: &str, limit: u32) -> AppResult<Vec<DirectoryEntry>> {
        check_search_text(q)?;
        if q.trim().chars().count() < 2 {
            return Ok(Vec::new());
        }
        let query = DirectoryQuery::recipients(None, Some(q));
        // Suggestions have no total: capped at the page, nothing beyond it is counted.
        let limit = limit.clamp(1, 50);
        let page = PageRequest::new(1, limit).capped(limit);
        Ok(self.search_directory(None, &query, page).await?.items)
    }

    /// The services of public structures (a page of search results), by structure, in one query.
    pub async fn directory_services(
        &self,
        structures: &[StructureId],
    ) -> AppResult<std::collections::HashMap<StructureId, Vec<ServiceView>>> {
        let mut out: std::collections::HashMap<StructureId, Vec<ServiceView>> = std::collections::HashMap::new();
        for s in self.db().services_of_structures(structures).await? {
            out.entry(s.structure_id).or_default().push(service_view(s));
        }
        Ok(out)
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
        let query = StructureQuery {
            scope: Scope::Public,
            ..StructureQuery::default()
        };
        let mut page = 1;
        loop {
            let batch = self
                .db()
                .search_structures(&query, PageRequest::new(page, PageRequest::MAX_PER_PAGE))
                .await?;
            let ids: Vec<StructureId> = batch.items.iter().map(|s| s.id).collect();
            let mut services: std::collections::HashMap<StructureId, Vec<Service>> = std::collections::HashMap::new();
            for r in self.db().services_of_structures(&ids).await? {
                if !r.service.code.is_default_service() {
                    services.entry(r.structure_id).or_default().push(r.service);
                }
            }
            let n = batch.items.len();
            for s in batch.items {
                records.push(DirectoryRecord {
                    line: 0,
                    services: services.remove(&s.id).unwrap_or_default(),
                    structure: s.structure,
                });
            }
            if n < PageRequest::MAX_PER_PAGE as usize {
                break;
            }
            page += 1;
        }
        crate::directory_csv::write_directory_csv(out, &records)?;
        Ok(u64::try_from(records.len()).unwrap_or(u64::MAX))
    }
}
