//! Structure self-management: the main and secondary managers edit coordinates, parameters,
//! services and bank details; a simple user is refused (`Forbidden`), an outsider finds nothing
//! (`NotFound`); every change is audited; API changes name the manager they are made for.

use facteur_app::{Actor, AppError, BankAccountEdit, Conflict, ServiceForm};
use facteur_domain::{CoordinatesForm, MoaPresence, ReferenceRule, Role, ServiceId, StructureParameters, UserId};

use crate::common::{SIRET_A, SIRET_B, TestApp, on_both};

on_both!(
    only_managers_change_the_record,
    services_are_created_changed_and_deactivated,
    bank_details_are_checked_and_keep_one_default,
    technical_accounts_act_for_a_named_manager,
);

fn coordinates() -> CoordinatesForm {
    CoordinatesForm {
        company_name: "Acme SARL".into(),
        line1: "3 place du Marché".into(),
        postcode: "69001".into(),
        city: "Lyon".into(),
        country: "FR".into(),
        email: "factures@acme.example".into(),
        ..Default::default()
    }
}

fn invalid_field(r: Result<impl std::fmt::Debug, AppError>) -> &'static str {
    match r {
        Err(AppError::Invalid { field, .. }) => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

async fn only_managers_change_the_record(t: TestApp) {
    let (boss, s) = t.manager("boss@acme.example", SIRET_A).await;
    let (member, member_id) = t.member("agent@acme.example", SIRET_A, &boss).await;
    let (outsider, _) = t.manager("boss@other.example", SIRET_B).await;
    let app = &t.app;

    // A simple user is refused, an outsider finds nothing; nothing changes.
    assert!(matches!(
        app.update_coordinates(&member, s, &coordinates()).await,
        Err(AppError::Forbidden)
    ));
    assert!(matches!(
        app.update_coordinates(&outsider, s, &coordinates()).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        app.structure_admin(&member, s).await,
        Err(AppError::Forbidden)
    ));
    assert!(matches!(
        app.structure_admin(&outsider, s).await,
        Err(AppError::NotFound)
    ));
    let p = StructureParameters {
        moa: MoaPresence::WithMoa,
        ..Default::default()
    };
    assert!(matches!(
        app.update_parameters(&member, s, p).await,
        Err(AppError::Forbidden)
    ));
    assert!(matches!(
        app.update_parameters(&outsider, s, p).await,
        Err(AppError::NotFound)
    ));
    assert_eq!(
        app.structure_admin(&boss, s)
            .await
            .unwrap()
            .structure
            .structure
            .company_name,
        "Entreprise de test"
    );

    // The main manager changes the coordinates; a bad field is named.
    let v = app.update_coordinates(&boss, s, &coordinates()).await.unwrap();
    assert_eq!(v.structure.address.city, "Lyon");
    let bad = CoordinatesForm {
        postcode: "690".into(),
        ..coordinates()
    };
    assert_eq!(
        invalid_field(app.update_coordinates(&boss, s, &bad).await),
        "codePostal"
    );

    // Promoted to secondary manager, the member may change the parameters.
    app.set_role(&boss, s, member_id, Role::SecondaryManager).await.unwrap();
    let mut p = p;
    ReferenceRule::Engagement.apply_to(&mut p);
    let v = app.update_parameters(&member, s, p).await.unwrap();
    assert!(v.structure.parameters.engagement_required);
    let redundant = StructureParameters {
        engagement_required: true,
        service_code_or_engagement_required: true,
        ..Default::default()
    };
    assert_eq!(
        invalid_field(app.update_parameters(&member, s, redundant).await),
        "gestionNumeroEJOuCodeService"
    );

    let log = app.audit_log(&boss, s, 10).await.unwrap();
    assert_eq!(log[0].action, "structure.parameters");
    assert_eq!(log[0].actor, facteur_app::AuditActor::User(member_id));
    assert_eq!(log[0].details["before"]["engagement_required"], false);
    assert_eq!(log[0].details["after"]["engagement_required"], true);
    assert!(log.iter().any(|l| l.action == "structure.update"));
}

async fn services_are_created_changed_and_deactivated(t: TestApp) {
    let (boss, s) = t.manager("boss@acme.example", SIRET_A).await;
    let (member, _) = t.member("agent@acme.example", SIRET_A, &boss).await;
    let (outsider, other) = t.manager("boss@other.example", SIRET_B).await;
    let app = &t.app;
    let form = ServiceForm {
        code: "COMPTA".into(),
        label: "Comptabilité".into(),
        active: true,
        ..Default::default()
    };
    assert!(matches!(
        app.add_service(&member, s, &form).await,
        Err(AppError::Forbidden)
    ));
    assert!(matches!(
        app.add_service(&outsider, s, &form).await,
        Err(AppError::NotFound)
    ));
    let svc = app.add_service(&boss, s, &form).await.unwrap();
    assert!(matches!(
        app.add_service(&boss, s, &form).await,
        Err(AppError::Conflict(Conflict::ServiceCodeTaken))
    ));
    assert_eq!(
        invalid_field(
            app.add_service(
                &boss,
                s,
                &ServiceForm {
                    code: " ".into(),
                    ..form.clone()
                }
            )
            .await
        ),
        "codeService"
    );
    let backwards = ServiceForm {
        valid_from: Some(time::macros::date!(2026 - 06 - 01)),
        valid_to: Some(time::macros::date!(2026 - 01 - 01)),
        ..form.clone()
    };
    assert_eq!(
        invalid_field(app.change_service(&boss, s, svc.id, &backwards).await),
        "dateFinService"
    );

    let changed = ServiceForm {
        code: "IGNORED".into(),
        label: "Service comptable".into(),
        engagement_required: true,
        valid_from: Some(time::macros::date!(2026 - 01 - 01)),
        active: true,
        ..Default::default()
    };
    let v = app.change_service(&boss, s, svc.id, &changed).await.unwrap();
    assert_eq!(v.service.code.as_str(), "COMPTA");
    assert!(v.service.parameters.engagement_required);
    // Another structure's manager cannot reach it by id, even from their own structure.
    assert!(matches!(
        app.set_service_active(&outsider, other, svc.id, false).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        app.set_service_active(&member, s, svc.id, false).await,
        Err(AppError::Forbidden)
    ));
    app.set_service_active(&boss, s, svc.id, false).await.unwrap();
    app.set_service_active(&boss, s, svc.id, false).await.unwrap();
    // The default service stays active.
    let admin = app.structure_admin(&boss, s).await.unwrap();
    let default = admin
        .services
        .iter()
        .find(|v| v.service.code.is_default_service())
        .unwrap();
    assert!(matches!(
        app.set_service_active(&boss, s, default.id, false).await,
        Err(AppError::Conflict(Conflict::DefaultService))
    ));
    let compta = admin.services.iter().find(|v| v.id == svc.id).unwrap();
    assert!(!compta.service.active);
    assert!(matches!(
        app.set_service_active(&boss, s, ServiceId(999_999), true).await,
        Err(AppError::NotFound)
    ));

    let log = app.audit_log(&boss, s, 10).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|l| l.action.as_str()).collect();
    assert_eq!(&actions[..3], ["service.status", "service.update", "service.create"]);
}

async fn bank_details_are_checked_and_keep_one_default(t: TestApp) {
    let (boss, s) = t.manager("boss@acme.example", SIRET_A).await;
    let (member, _) = t.member("agent@acme.example", SIRET_A, &boss).await;
    let (outsider, _) = t.manager("boss@other.example", SIRET_B).await;
    let app = &t.app;
    const IBAN: &str = "FR76 3000 6000 0112 3456 7890 189";
    assert!(matches!(
        app.add_bank_account(&member, s, "Courant", IBAN, "", false).await,
        Err(AppError::Forbidden)
    ));
    assert!(matches!(
        app.add_bank_account(&outsider, s, "Courant", IBAN, "", false).await,
        Err(AppError::NotFound)
    ));
    // IBAN and BIC errors name their field.
    assert_eq!(
        invalid_field(
            app.add_bank_account(&boss, s, "Courant", "FR7630006000011234567890188", "", false)
                .await
        ),
        "iban"
    );
    assert_eq!(
        invalid_field(app.add_bank_account(&boss, s, "Courant", IBAN, "BNP", false).await),
        "bic"
    );
    assert_eq!(
        invalid_field(app.add_bank_account(&boss, s, " ", IBAN, "", false).await),
        "nomCoordonneeBancaire"
    );
    let first = app
        .add_bank_account(&boss, s, "Courant", IBAN, "bnpafrpp", false)
        .await
        .unwrap();
    assert!(first.is_default);
    assert_eq!(first.details.bic.as_ref().map(|b| b.as_str()), Some("BNPAFRPP"));
    assert!(matches!(
        app.add_bank_account(&boss, s, "Doublon", IBAN, "", false).await,
        Err(AppError::Conflict(Conflict::BankAccountTaken))
    ));
    let factor = app
        .add_bank_account(&boss, s, "Affactureur", "DE89370400440532013000", "", true)
        .await
        .unwrap();
    assert!(factor.details.factor && !factor.is_default);

    let deactivate = BankAccountEdit {
        active: Some(false),
        ..Default::default()
    };
    assert!(matches!(
        app.change_bank_account(&boss, s, first.id, &deactivate).await,
        Err(AppError::Conflict(Conflict::DefaultBankAccount))
    ));
    let make_default = BankAccountEdit {
        make_default: true,
        ..Default::default()
    };
    assert!(matches!(
        app.change_bank_account(&member, s, factor.id, &make_default).await,
        Err(AppError::Forbidden)
    ));
    app.change_bank_account(&boss, s, factor.id, &make_default)
        .await
        .unwrap();
    app.change_bank_account(&boss, s, first.id, &deactivate).await.unwrap();
    assert!(matches!(
        app.change_bank_account(&boss, s, first.id, &make_default).await,
        Err(AppError::Conflict(Conflict::InactiveBankAccount))
    ));

    // Members and the structure's technical account read them; outsiders do not.
    let active = app.bank_accounts(&member, s, true).await.unwrap();
    assert_eq!(active.len(), 1);
    assert!(active[0].is_default && active[0].id == factor.id);
    assert_eq!(app.bank_accounts(&member, s, false).await.unwrap().len(), 2);
    assert!(matches!(
        app.bank_accounts(&outsider, s, true).await,
        Err(AppError::NotFound)
    ));
    let creds = app.create_technical_account(&boss, s).await.unwrap();
    let tech = app
        .authenticate_technical(&creds.login, &creds.password, s)
        .await
        .unwrap();
    assert_eq!(app.bank_accounts(&tech, s, true).await.unwrap().len(), 1);

    let log = app.audit_log(&boss, s, 20).await.unwrap();
    assert_eq!(log.iter().filter(|l| l.action == "bank_account.create").count(), 2);
    assert_eq!(log.iter().filter(|l| l.action == "bank_account.update").count(), 2);
}

async fn technical_accounts_act_for_a_named_manager(t: TestApp) {
    let (boss, s) = t.manager("boss@acme.example", SIRET_A).await;
    let (_, member_id) = t.member("agent@acme.example", SIRET_A, &boss).await;
    let (outsider, _) = t.manager("boss@other.example", SIRET_B).await;
    let Actor::User(boss_id) = boss else { unreachable!() };
    let Actor::User(outsider_id) = outsider else {
        unreachable!()
    };
    let app = &t.app;
    let creds = app.create_technical_account(&boss, s).await.unwrap();
    let tech = app
        .authenticate_technical(&creds.login, &creds.password, s)
        .await
        .unwrap();

    // The technical account alone manages nothing.
    assert!(matches!(
        app.update_coordinates(&tech, s, &coordinates()).await,
        Err(AppError::Forbidden)
    ));
    assert!(matches!(
        app.acting_manager(&tech, None).await,
        Err(AppError::Forbidden)
    ));
    assert!(matches!(
        app.acting_manager(&tech, Some(member_id)).await,
        Err(AppError::Forbidden)
    ));
    assert!(matches!(
        app.acting_manager(&tech, Some(outsider_id)).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        app.acting_manager(&tech, Some(UserId(999_999))).await,
        Err(AppError::NotFound)
    ));
    let acting = app.acting_manager(&tech, Some(boss_id)).await.unwrap();
    assert_eq!(acting, boss);
    app.update_coordinates(&acting, s, &coordinates()).await.unwrap();
    let log = app.audit_log(&boss, s, 1).await.unwrap();
    assert_eq!(
        (log[0].action.as_str(), log[0].actor.to_string().as_str()),
        ("structure.update", format!("user:{}", boss_id.0).as_str())
    );
    // A portal user acts for themselves.
    assert_eq!(app.acting_manager(&boss, Some(member_id)).await.unwrap(), boss);
}
