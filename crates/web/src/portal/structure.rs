//! "Ma structure": the managers of the active structure edit its coordinates, its invoicing
//! rules, its services and its bank details. Like the other manager pages, the handler checks the
//! user manages the active structure and the use case checks again. Every field of a submitted
//! form is checked at once (with the same domain parsers the use cases use) so the error summary
//! lists everything wrong.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::Form;
use facteur_app::{AppError, BankAccountEdit, ServiceForm, StructureAdmin};
use facteur_domain::{
    BankAccountId, BankDetails, Coordinates, CoordinatesForm, DomainError, MoaPresence, ReferenceRule, ServiceCode,
    ServiceId, StructureId, StructureKind, StructureParameters,
};
use serde::Deserialize;
use time::Date;

use super::account::DoneQuery;
use super::ctx::{Ctx, Page};
use super::forms::{Errors, conflict_message};
use super::i18n::{Lang, StructureStrings};
use crate::AppState;

macro_rules! manager {
    ($ctx:expr) => {
        match $ctx.require_manager() {
            Ok((me, structure)) => (me, StructureId(structure)),
            Err(resp) => return resp,
        }
    };
}

const PAGE: &str = "/manage/structure";

/// The form field of a domain error's field, and its message in the user's language.
fn domain_error(e: &DomainError, lang: Lang) -> (&'static str, &'static str) {
    let (s, t) = (lang.structure(), lang.t());
    let (field, reason) = match e {
        DomainError::Format { field, reason } => (*field, *reason),
        DomainError::Checksum { field } => (*field, "checksum"),
        DomainError::UnknownCode { field, .. } => (*field, ""),
        DomainError::Inconsistent { field, .. } => (*field, "order"),
    };
    let text = |reason: &str| match reason {
        "required" => t.err_required,
        "too long" => s.err_too_long,
        _ => s.err_characters,
    };
    match field {
        "raisonSocialeStructure" => ("company_name", text(reason)),
        "libelleStructure" => ("label", text(reason)),
        "adresse" => ("line1", text(reason)),
        "complementAdresse1" => ("line2", text(reason)),
        "complementAdresse2" => ("line3", text(reason)),
        "ville" => ("city", text(reason)),
        "codePostal" => ("postcode", s.err_postcode),
        "pays" => ("country", s.err_country),
        "telephone" => ("phone", s.err_phone),
        "emailStructure" => ("email", t.err_email_invalid),
        "numeroTVA" => ("vat_number", s.err_vat),
        "codeService" => ("service_code", s.err_service_code),
        "libelleService" => ("service_label", text(reason)),
        "dateFinService" => ("service_to", s.err_dates_order),
        "nomCoordonneeBancaire" => ("bank_label", text(reason)),
        "iban" if reason == "checksum" => ("iban", s.err_iban_checksum),
        "iban" => ("iban", s.err_iban),
        "bic" => ("bic", s.err_bic),
        _ => ("form", t.error_generic),
    }
}

fn errors_of(list: &[DomainError], lang: Lang) -> Errors {
    let mut errors = Errors::default();
    for e in list {
        let (field, message) = domain_error(e, lang);
        errors.add(field, message);
    }
    errors
}

/// A use-case refusal as a form error, or the page for one that is not about the form.
#[allow(clippy::result_large_err, reason = "the error is the response handlers return as is")]
fn refusal(ctx: &Ctx, err: &AppError) -> Result<Errors, Response> {
    match err {
        AppError::Invalid { field, .. } => {
            let e = DomainError::Format { field, reason: "" };
            let (field, message) = domain_error(&e, ctx.lang);
            Ok(Errors::one(field, message))
        }
        AppError::Conflict(kind) => {
            let field = match kind {
                facteur_app::Conflict::ServiceCodeTaken => "service_code",
                facteur_app::Conflict::BankAccountTaken => "iban",
                _ => "form",
            };
            Ok(Errors::one(field, conflict_message(*kind, ctx.t())))
        }
        other => Err(ctx.app_error(other)),
    }
}

fn checkbox(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|v| !v.is_empty())
}

/// A date typed in a form (`YYYY-MM-DD`, what date inputs send); blank is none.
fn form_date(v: &str) -> Result<Option<Date>, ()> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    Date::parse(v, time::macros::format_description!("[year]-[month]-[day]"))
        .map(Some)
        .map_err(|_| ())
}

fn iso(d: Option<Date>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

// --- the page ----------------------------------------------------------------------------------

pub struct ServiceRow {
    pub id: i64,
    pub code: String,
    pub label: String,
    pub validity: String,
    pub engagement: bool,
    pub active: bool,
    pub is_default: bool,
}

pub struct BankRow {
    pub id: i64,
    pub label: String,
    pub iban: String,
    pub bic: String,
    pub factor: bool,
    pub active: bool,
    pub is_default: bool,
}

/// What the "add a service" and "add bank details" forms hold (as typed, after a refusal).
#[derive(Default, Deserialize)]
pub struct NewService {
    #[serde(default)]
    service_code: String,
    #[serde(default)]
    service_label: String,
    #[serde(default)]
    service_from: String,
    #[serde(default)]
    service_to: String,
    service_engagement: Option<String>,
}

#[derive(Default, Deserialize)]
pub struct NewBank {
    #[serde(default)]
    bank_label: String,
    #[serde(default)]
    iban: String,
    #[serde(default)]
    bic: String,
    factor: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/structure.html")]
struct StructurePage {
    page: Page,
    s: &'static StructureStrings,
    name: String,
    identifier: String,
    kind: &'static str,
    coords: CoordinatesForm,
    references: Vec<(&'static str, &'static str)>,
    reference: &'static str,
    payment_not_reported: bool,
    moas: Vec<(&'static str, &'static str)>,
    moa: &'static str,
    services: Vec<ServiceRow>,
    new_service: NewService,
    new_service_engagement: bool,
    banks: Vec<BankRow>,
    new_bank: NewBank,
    new_bank_factor: bool,
    errors: Errors,
    notice: Option<&'static str>,
}

/// What a refused form sends back to the page (the other forms show the stored values).
#[derive(Default)]
struct Typed {
    coords: Option<CoordinatesForm>,
    new_service: NewService,
    new_bank: NewBank,
}

async fn render(state: &AppState, ctx: &Ctx, typed: Typed, errors: Errors, notice: Option<&'static str>) -> Response {
    let (me, structure) = manager!(ctx);
    let admin: StructureAdmin = match state.app().structure_admin(&me.actor, structure).await {
        Ok(a) => a,
        Err(err) => return ctx.app_error(&err),
    };
    let s = ctx.lang.structure();
    let rec = &admin.structure.structure;
    let p = rec.parameters;
    let lang = ctx.lang;
    let services = admin
        .services
        .iter()
        .map(|v| {
            let svc = &v.service;
            let validity = match (svc.valid_from, svc.valid_to) {
                (None, None) => s.none.to_owned(),
                (from, to) => format!(
                    "{} → {}",
                    from.map(|d| lang.date(d)).unwrap_or_default(),
                    to.map(|d| lang.date(d)).unwrap_or_default()
                ),
            };
            ServiceRow {
                id: v.id.get(),
                code: svc.code.as_str().to_owned(),
                label: svc.label.clone(),
                validity,
                engagement: svc.parameters.engagement_required,
                active: svc.active,
                is_default: svc.code.is_default_service(),
            }
        })
        .collect();
    let banks = admin
        .bank_accounts
        .iter()
        .map(|b| BankRow {
            id: b.id.get(),
            label: b.details.label.clone(),
            iban: b.details.iban.as_str().to_owned(),
            bic: b
                .details
                .bic
                .as_ref()
                .map(|b| b.as_str().to_owned())
                .unwrap_or_default(),
            factor: b.details.factor,
            active: b.active,
            is_default: b.is_default,
        })
        .collect();
    let status = if errors.any() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let new_service_engagement = checkbox(&typed.new_service.service_engagement);
    let new_bank_factor = checkbox(&typed.new_bank.factor);
    ctx.render_status(
        status,
        &StructurePage {
            page: ctx.page(),
            s,
            name: rec.display_name().to_owned(),
            identifier: rec.identifier.to_string(),
            kind: match rec.kind {
                StructureKind::Public => s.kind_public,
                StructureKind::Private => s.kind_private,
            },
            coords: typed.coords.unwrap_or_else(|| CoordinatesForm::of(rec)),
            references: ReferenceRule::ALL
                .iter()
                .map(|r| (r.as_str(), s.reference(*r)))
                .collect(),
            reference: ReferenceRule::of(&p).as_str(),
            payment_not_reported: p.payment_status_not_reported,
            moas: MoaPresence::ALL
                .iter()
                .map(|m| (m.as_str(), s.moa_presence(*m)))
                .collect(),
            moa: p.moa.as_str(),
            services,
            new_service: typed.new_service,
            new_service_engagement,
            banks,
            new_bank: typed.new_bank,
            new_bank_factor,
            errors,
            notice,
        },
    )
}

/// `GET /manage/structure`.
pub async fn page(State(state): State<AppState>, ctx: Ctx, Query(q): Query<DoneQuery>) -> Response {
    let notice = q.done.map(|_| ctx.t().saved);
    render(&state, &ctx, Typed::default(), Errors::default(), notice).await
}

fn done() -> String {
    format!("{PAGE}?done=1")
}

// --- coordinates -------------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct CoordinatesInput {
    #[serde(default)]
    company_name: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    vat_number: String,
    #[serde(default)]
    line1: String,
    #[serde(default)]
    line2: String,
    #[serde(default)]
    line3: String,
    #[serde(default)]
    postcode: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    phone: String,
}

/// `POST /manage/structure/coordinates`.
pub async fn coordinates(State(state): State<AppState>, ctx: Ctx, Form(f): Form<CoordinatesInput>) -> Response {
    let (me, structure) = manager!(ctx);
    let form = CoordinatesForm {
        company_name: f.company_name,
        label: f.label,
        email: f.email,
        vat_number: f.vat_number,
        line1: f.line1,
        line2: f.line2,
        line3: f.line3,
        postcode: f.postcode,
        city: f.city,
        country: f.country,
        phone: f.phone,
    };
    let errors = match Coordinates::parse(&form) {
        Err(list) => errors_of(&list, ctx.lang),
        Ok(_) => match state.app().update_coordinates(&me.actor, structure, &form).await {
            Ok(_) => return ctx.see_other(&done()),
            Err(err) => match refusal(&ctx, &err) {
                Ok(errors) => errors,
                Err(page) => return page,
            },
        },
    };
    let typed = Typed {
        coords: Some(form),
        ..Typed::default()
    };
    render(&state, &ctx, typed, errors, None).await
}

// --- parameters --------------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct ParametersInput {
    #[serde(default)]
    references: String,
    payment_not_reported: Option<String>,
    #[serde(default)]
    moa: String,
}

/// `POST /manage/structure/parameters`.
pub async fn parameters(State(state): State<AppState>, ctx: Ctx, Form(f): Form<ParametersInput>) -> Response {
    let (me, structure) = manager!(ctx);
    let (Ok(rule), Ok(moa)) = (f.references.parse::<ReferenceRule>(), f.moa.parse::<MoaPresence>()) else {
        return ctx.error(StatusCode::UNPROCESSABLE_ENTITY, ctx.t().error_generic);
    };
    let mut p = StructureParameters {
        payment_status_not_reported: checkbox(&f.payment_not_reported),
        moa,
        ..Default::default()
    };
    rule.apply_to(&mut p);
    match state.app().update_parameters(&me.actor, structure, p).await {
        Ok(_) => ctx.see_other(&done()),
        Err(err) => ctx.app_error(&err),
    }
}

// --- services ----------------------------------------------------------------------------------

/// Checks a service form's fields all at once.
fn check_service(
    lang: Lang,
    code: Option<&str>,
    label: &str,
    from: &str,
    to: &str,
) -> Result<(Option<Date>, Option<Date>), Errors> {
    let s = lang.structure();
    let mut errors = Errors::default();
    if let Some(code) = code
        && let Err(e) = ServiceCode::parse(code)
    {
        let (field, message) = domain_error(&e, lang);
        errors.add(
            field,
            if code.trim().is_empty() {
                lang.t().err_required
            } else {
                message
            },
        );
    }
    if let Err(e) = facteur_domain::text_field("libelleService", label, 200, false) {
        let (field, message) = domain_error(&e, lang);
        errors.add(field, message);
    }
    let from = form_date(from)
        .map_err(|()| errors.add("service_from", s.err_date))
        .ok()
        .flatten();
    let to = form_date(to)
        .map_err(|()| errors.add("service_to", s.err_date))
        .ok()
        .flatten();
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        errors.add("service_to", s.err_dates_order);
    }
    if errors.any() { Err(errors) } else { Ok((from, to)) }
}

/// `POST /manage/structure/services`: adds a service.
pub async fn add_service(State(state): State<AppState>, ctx: Ctx, Form(f): Form<NewService>) -> Response {
    let (me, structure) = manager!(ctx);
    let errors = match check_service(
        ctx.lang,
        Some(&f.service_code),
        &f.service_label,
        &f.service_from,
        &f.service_to,
    ) {
        Err(errors) => errors,
        Ok((valid_from, valid_to)) => {
            let form = ServiceForm {
                code: f.service_code.clone(),
                label: f.service_label.clone(),
                valid_from,
                valid_to,
                engagement_required: checkbox(&f.service_engagement),
                active: true,
            };
            match state.app().add_service(&me.actor, structure, &form).await {
                Ok(_) => return ctx.see_other(&done()),
                Err(err) => match refusal(&ctx, &err) {
                    Ok(errors) => errors,
                    Err(page) => return page,
                },
            }
        }
    };
    let typed = Typed {
        new_service: f,
        ..Typed::default()
    };
    render(&state, &ctx, typed, errors, None).await
}

#[derive(Deserialize)]
pub struct StatusInput {
    id: i64,
    #[serde(default)]
    active: String,
}

/// `POST /manage/structure/services/status`: activates or deactivates a service.
pub async fn service_status(State(state): State<AppState>, ctx: Ctx, Form(f): Form<StatusInput>) -> Response {
    let (me, structure) = manager!(ctx);
    let active = f.active == "1";
    match state
        .app()
        .set_service_active(&me.actor, structure, ServiceId(f.id), active)
        .await
    {
        Ok(()) => ctx.see_other(&done()),
        Err(err) => ctx.app_error(&err),
    }
}

#[derive(Template)]
#[template(path = "portal/service_edit.html")]
struct ServicePage {
    page: Page,
    s: &'static StructureStrings,
    id: i64,
    code: String,
    is_default: bool,
    service_label: String,
    from: String,
    to: String,
    engagement: bool,
    active: bool,
    errors: Errors,
}

#[derive(Deserialize)]
pub struct ServiceQuery {
    id: i64,
}

/// `GET /manage/structure/service?id=N`: the edit form of one service.
pub async fn service_form(State(state): State<AppState>, ctx: Ctx, Query(q): Query<ServiceQuery>) -> Response {
    let (me, structure) = manager!(ctx);
    let services = match state.app().services(&me.actor, structure).await {
        Ok(list) => list,
        Err(err) => return ctx.app_error(&err),
    };
    let Some(v) = services.into_iter().find(|v| v.id == ServiceId(q.id)) else {
        return ctx.app_error(&AppError::NotFound);
    };
    let svc = v.service;
    ctx.render(&ServicePage {
        page: ctx.page(),
        s: ctx.lang.structure(),
        id: q.id,
        is_default: svc.code.is_default_service(),
        code: svc.code.as_str().to_owned(),
        service_label: svc.label,
        from: iso(svc.valid_from),
        to: iso(svc.valid_to),
        engagement: svc.parameters.engagement_required,
        active: svc.active,
        errors: Errors::default(),
    })
}

#[derive(Deserialize)]
pub struct ServiceEditInput {
    id: i64,
    #[serde(default)]
    service_label: String,
    #[serde(default)]
    service_from: String,
    #[serde(default)]
    service_to: String,
    service_engagement: Option<String>,
    service_active: Option<String>,
}

/// `POST /manage/structure/service`: changes one service.
pub async fn service_save(State(state): State<AppState>, ctx: Ctx, Form(f): Form<ServiceEditInput>) -> Response {
    let (me, structure) = manager!(ctx);
    let errors = match check_service(ctx.lang, None, &f.service_label, &f.service_from, &f.service_to) {
        Err(errors) => errors,
        Ok((valid_from, valid_to)) => {
            let form = ServiceForm {
                code: String::new(),
                label: f.service_label.clone(),
                valid_from,
                valid_to,
                engagement_required: checkbox(&f.service_engagement),
                active: checkbox(&f.service_active),
            };
            match state
                .app()
                .change_service(&me.actor, structure, ServiceId(f.id), &form)
                .await
            {
                Ok(_) => return ctx.see_other(&done()),
                Err(err) => match refusal(&ctx, &err) {
                    Ok(errors) => errors,
                    Err(page) => return page,
                },
            }
        }
    };
    let services = match state.app().services(&me.actor, structure).await {
        Ok(list) => list,
        Err(err) => return ctx.app_error(&err),
    };
    let Some(v) = services.into_iter().find(|v| v.id == ServiceId(f.id)) else {
        return ctx.app_error(&AppError::NotFound);
    };
    ctx.render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &ServicePage {
            page: ctx.page(),
            s: ctx.lang.structure(),
            id: f.id,
            is_default: v.service.code.is_default_service(),
            code: v.service.code.as_str().to_owned(),
            service_label: f.service_label,
            from: f.service_from,
            to: f.service_to,
            engagement: checkbox(&f.service_engagement),
            active: checkbox(&f.service_active),
            errors,
        },
    )
}

// --- bank details ------------------------------------------------------------------------------

/// `POST /manage/structure/bank`: adds bank details.
pub async fn add_bank(State(state): State<AppState>, ctx: Ctx, Form(f): Form<NewBank>) -> Response {
    let (me, structure) = manager!(ctx);
    let factor = checkbox(&f.factor);
    let errors = match BankDetails::parse(&f.bank_label, &f.iban, &f.bic, factor) {
        Err(list) => errors_of(&list, ctx.lang),
        Ok(_) => match state
            .app()
            .add_bank_account(&me.actor, structure, &f.bank_label, &f.iban, &f.bic, factor)
            .await
        {
            Ok(_) => return ctx.see_other(&done()),
            Err(err) => match refusal(&ctx, &err) {
                Ok(errors) => errors,
                Err(page) => return page,
            },
        },
    };
    let typed = Typed {
        new_bank: f,
        ..Typed::default()
    };
    render(&state, &ctx, typed, errors, None).await
}

#[derive(Deserialize)]
pub struct BankActionInput {
    id: i64,
    #[serde(default)]
    action: String,
}

/// `POST /manage/structure/bank/action`: makes default, deactivates or reactivates bank details.
pub async fn bank_action(State(state): State<AppState>, ctx: Ctx, Form(f): Form<BankActionInput>) -> Response {
    let (me, structure) = manager!(ctx);
    let edit = match f.action.as_str() {
        "default" => BankAccountEdit {
            make_default: true,
            ..Default::default()
        },
        "deactivate" => BankAccountEdit {
            active: Some(false),
            ..Default::default()
        },
        "activate" => BankAccountEdit {
            active: Some(true),
            ..Default::default()
        },
        _ => return ctx.error(StatusCode::UNPROCESSABLE_ENTITY, ctx.t().error_generic),
    };
    match state
        .app()
        .change_bank_account(&me.actor, structure, BankAccountId(f.id), &edit)
        .await
    {
        Ok(_) => ctx.see_other(&done()),
        Err(err) => ctx.app_error(&err),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn domain_errors_land_on_the_page_fields_in_both_languages() {
        for lang in [Lang::Fr, Lang::En] {
            let s = lang.structure();
            let errs = BankDetails::parse("", "FR7630006000011234567890188", "X", false).unwrap_err();
            let e = errors_of(&errs, lang);
            assert_eq!(e.get("bank_label"), Some(lang.t().err_required));
            assert_eq!(e.get("iban"), Some(s.err_iban_checksum));
            assert_eq!(e.get("bic"), Some(s.err_bic));
            for (field, _) in e.list() {
                assert!(s.field_label(field).is_some(), "{field} has a label");
            }
        }
        assert_eq!(form_date("2026-02-30"), Err(()));
        assert_eq!(form_date(" "), Ok(None));
    }
}
