//! Structure self-management ("Ma structure"): the structure's main and secondary managers edit its
//! coordinates, its invoicing parameters, its services and its bank details. Every change is
//! refused to anyone else (a member without a manager role: `Forbidden`; an outsider: `NotFound`),
//! is one store transaction, and is audited with the values before and after.
//!
//! API callers are technical accounts, which manage nothing themselves: a change through the API
//! names the manager it is made for in `idUtilisateurCourant` ([`App::acting_manager`]), and the
//! audit log records that manager.

use facteur_domain::{
    BankAccountId, BankDetails, Coordinates, CoordinatesForm, DomainError, Service, ServiceCode, ServiceId,
    StructureId, StructureParameters, UserId, UserStatus, text_field,
};
use facteur_store::{BankAccountChange, BankAccountRecord, BankAccountRefusal, StoreError, StructureRecord};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::access::store_actor;
use crate::{Actor, App, AppError, AppResult, Conflict, ServiceView, StructureView};

/// One set of a structure's bank details.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BankAccountView {
    pub id: BankAccountId,
    pub structure_id: StructureId,
    pub details: BankDetails,
    pub active: bool,
    pub is_default: bool,
    pub created_at: OffsetDateTime,
}

/// Everything the "Ma structure" page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StructureAdmin {
    pub structure: StructureView,
    /// Every service, inactive ones and the default `FACTURES_PUBLIQUES` included, by code.
    pub services: Vec<ServiceView>,
    /// Every set of bank details, inactive ones included, the default first.
    pub bank_accounts: Vec<BankAccountView>,
}

/// A service as typed. `code` is read on creation only: a service keeps its code (invoices
/// address it by code).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceForm {
    pub code: String,
    /// Blank: the code.
    pub label: String,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    /// Invoices to this service must carry an engagement number (`numeroEngagement`).
    pub engagement_required: bool,
    pub active: bool,
}

/// A change to one set of bank details; `None` leaves a field as it is. IBAN, BIC and the factor
/// flag never change: add another account and deactivate this one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BankAccountEdit {
    pub label: Option<String>,
    pub active: Option<bool>,
    pub make_default: bool,
}

fn invalid(e: &DomainError) -> AppError {
    AppError::domain(e.clone())
}

/// The first of several field errors (the portal checks the same way beforehand to show them all).
fn first_invalid(errors: &[DomainError]) -> AppError {
    errors
        .first()
        .map_or_else(|| AppError::Internal("empty error list".to_owned()), invalid)
}

fn structure_view(r: StructureRecord) -> StructureView {
    StructureView {
        id: r.id,
        structure: r.structure,
        created_at: r.created_at,
    }
}

fn bank_view(r: BankAccountRecord) -> BankAccountView {
    BankAccountView {
        id: r.id,
        structure_id: r.structure_id,
        details: r.details,
        active: r.active,
        is_default: r.is_default,
        created_at: r.created_at,
    }
}

/// A service from its form; the code is `code` (the current one for a change).
fn service_from(form: &ServiceForm, code: ServiceCode) -> AppResult<Service> {
    let label = text_field("libelleService", &form.label, 200, false).map_err(|e| invalid(&e))?;
    let mut service = Service::new(code, label.as_deref().unwrap_or_default())
        .with_validity(form.valid_from, form.valid_to)
        .map_err(|e| invalid(&e))?;
    service.active = form.active;
    service.parameters.engagement_required = form.engagement_required;
    Ok(service)
}

impl App {
    /// The manager a technical account acts for: API changes name them in `idUtilisateurCourant`,
    /// who must be an active main or secondary manager of the technical account's structure
    /// (a simple user: `Forbidden`; anyone else: `NotFound`). Without one a technical account may
    /// change nothing (`Forbidden`). Other actors act for themselves.
    pub async fn acting_manager(&self, actor: &Actor, user: Option<UserId>) -> AppResult<Actor> {
        match (*actor, user) {
            (Actor::Technical { structure, .. }, Some(u)) => {
                let manager = Actor::User(u);
                self.require_manager(&manager, structure).await?;
                match self.db().user(u).await? {
                    Some(rec) if rec.status == UserStatus::Active => Ok(manager),
                    _ => Err(AppError::Forbidden),
                }
            }
            (Actor::Technical { .. }, None) => Err(AppError::Forbidden),
            (other, _) => Ok(other),
        }
    }

    /// The structure's record as its managers edit it (managers only).
    pub async fn structure_admin(&self, actor: &Actor, structure: StructureId) -> AppResult<StructureAdmin> {
        self.require_manager(actor, structure).await?;
        let s = self.load_structure(structure).await?;
        let services = self
            .db()
            .list_services(structure)
            .await?
            .into_iter()
            .map(|r| ServiceView {
                id: r.id,
                structure_id: r.structure_id,
                service: r.service,
            })
            .collect();
        let bank_accounts = self
            .db()
            .bank_accounts(structure, false)
            .await?
            .into_iter()
            .map(bank_view)
            .collect();
        Ok(StructureAdmin {
            structure: structure_view(s),
            services,
            bank_accounts,
        })
    }

    /// Replaces the structure's coordinates (managers only; every field checked, the first error
    /// returned naming its field).
    pub async fn update_coordinates(
        &self,
        actor: &Actor,
        structure: StructureId,
        form: &CoordinatesForm,
    ) -> AppResult<StructureView> {
        self.require_manager(actor, structure).await?;
        let coordinates = Coordinates::parse(form).map_err(|e| first_invalid(&e))?;
        let rec = self
            .db()
            .update_coordinates(structure, &coordinates, store_actor(actor))
            .await?;
        Ok(structure_view(rec))
    }

    /// Replaces the structure's invoicing parameters (managers only).
    pub async fn update_parameters(
        &self,
        actor: &Actor,
        structure: StructureId,
        parameters: StructureParameters,
    ) -> AppResult<StructureView> {
        self.require_manager(actor, structure).await?;
        parameters.check().map_err(|e| invalid(&e))?;
        let rec = self
            .db()
            .update_parameters(structure, &parameters, store_actor(actor))
            .await?;
        Ok(structure_view(rec))
    }

    /// Adds a service (managers only); a code the structure already has is a conflict.
    pub async fn add_service(
        &self,
        actor: &Actor,
        structure: StructureId,
        form: &ServiceForm,
    ) -> AppResult<ServiceView> {
        self.require_manager(actor, structure).await?;
        let code = ServiceCode::parse(&form.code).map_err(|e| invalid(&e))?;
        let service = service_from(form, code)?;
        match self.db().create_service(structure, &service, store_actor(actor)).await {
            Ok(r) => Ok(ServiceView {
                id: r.id,
                structure_id: r.structure_id,
                service: r.service,
            }),
            Err(StoreError::Conflict(_)) => Err(AppError::Conflict(Conflict::ServiceCodeTaken)),
            Err(e) => Err(e.into()),
        }
    }

    /// Changes a service of the structure (label, validity, engagement requirement, activity; the
    /// code stays). The default `FACTURES_PUBLIQUES` service stays active.
    pub async fn change_service(
        &self,
        actor: &Actor,
        structure: StructureId,
        id: ServiceId,
        form: &ServiceForm,
    ) -> AppResult<ServiceView> {
        self.require_manager(actor, structure).await?;
        let current = self.own_service(structure, id).await?;
        if !form.active && current.code.is_default_service() {
            return Err(AppError::Conflict(Conflict::DefaultService));
        }
        let mut service = service_from(form, current.code)?;
        service.parameters.payment_status_not_reported = current.parameters.payment_status_not_reported;
        let r = self
            .db()
            .change_service(structure, id, &service, store_actor(actor))
            .await?;
        Ok(ServiceView {
            id: r.id,
            structure_id: r.structure_id,
            service: r.service,
        })
    }

    /// Activates or deactivates a service of the structure (managers only; the default service
    /// stays active). Doing it twice changes nothing the second time.
    pub async fn set_service_active(
        &self,
        actor: &Actor,
        structure: StructureId,
        id: ServiceId,
        active: bool,
    ) -> AppResult<()> {
        self.require_manager(actor, structure).await?;
        let current = self.own_service(structure, id).await?;
        if !active && current.code.is_default_service() {
            return Err(AppError::Conflict(Conflict::DefaultService));
        }
        self.db()
            .set_service_active(structure, id, active, store_actor(actor))
            .await?;
        Ok(())
    }

    async fn own_service(&self, structure: StructureId, id: ServiceId) -> AppResult<Service> {
        match self.db().service(id).await? {
            Some(r) if r.structure_id == structure => Ok(r.service),
            _ => Err(AppError::NotFound),
        }
    }

    /// The structure's bank details, to its members and its technical account
    /// (`recuperer/coordbanc/valides` lists the active ones).
    pub async fn bank_accounts(
        &self,
        actor: &Actor,
        structure: StructureId,
        active_only: bool,
    ) -> AppResult<Vec<BankAccountView>> {
        self.require_member(actor, structure).await?;
        Ok(self
            .db()
            .bank_accounts(structure, active_only)
            .await?
            .into_iter()
            .map(bank_view)
            .collect())
    }

    /// Adds bank details (managers only): IBAN checked (ISO 13616), BIC checked when given; the
    /// first active account becomes the default; an IBAN the structure already has is a conflict.
    pub async fn add_bank_account(
        &self,
        actor: &Actor,
        structure: StructureId,
        label: &str,
        iban: &str,
        bic: &str,
        factor: bool,
    ) -> AppResult<BankAccountView> {
        self.require_manager(actor, structure).await?;
        let details = BankDetails::parse(label, iban, bic, factor).map_err(|e| first_invalid(&e))?;
        match self
            .db()
            .create_bank_account(structure, &details, store_actor(actor))
            .await
        {
            Ok(r) => Ok(bank_view(r)),
            Err(StoreError::Conflict(_)) => Err(AppError::Conflict(Conflict::BankAccountTaken)),
            Err(e) => Err(e.into()),
        }
    }

    /// Renames, (de)activates or makes default one set of bank details (managers only). One
    /// default at most, always active: the default cannot be deactivated while another account
    /// is active (make another one the default first), and an inactive one cannot be the default.
    pub async fn change_bank_account(
        &self,
        actor: &Actor,
        structure: StructureId,
        id: BankAccountId,
        edit: &BankAccountEdit,
    ) -> AppResult<BankAccountView> {
        self.require_manager(actor, structure).await?;
        let label = match &edit.label {
            Some(l) => text_field("nomCoordonneeBancaire", l, 100, true).map_err(|e| invalid(&e))?,
            None => None,
        };
        let change = BankAccountChange {
            label,
            active: edit.active,
            make_default: edit.make_default,
        };
        match self
            .db()
            .change_bank_account(structure, id, &change, store_actor(actor))
            .await
        {
            Ok(Ok(r)) => Ok(bank_view(r)),
            Ok(Err(BankAccountRefusal::DefaultInUse)) => Err(AppError::Conflict(Conflict::DefaultBankAccount)),
            Ok(Err(BankAccountRefusal::Inactive)) => Err(AppError::Conflict(Conflict::InactiveBankAccount)),
            Err(StoreError::NotFound(_)) => Err(AppError::NotFound),
            Err(e) => Err(e.into()),
        }
    }
}
