//! Directory: CSV import (idempotent), search by identifier / name / postcode / city,
//! autocomplete, detail, export → re-import round trip, operator-only writes.

use facteur_app::{Actor, AppError, DirectoryQuery, DirectoryScope, PageRequest};
use facteur_domain::MoaPresence;

use crate::common::{SIRET_A, TestApp, on_both};

on_both!(
    import_search_export,
    private_structures_stay_out,
    operators_are_named_in_the_audit_log
);

/// What an operator changes is logged as the operator's, not the platform's own doing.
async fn operators_are_named_in_the_audit_log(t: TestApp) {
    let id = facteur_domain::StructureIdentifier::parse(facteur_domain::IdentifierKind::Siret, SIRET_A).unwrap();
    let s = facteur_domain::Structure::new(id, facteur_domain::StructureKind::Public, "Mairie").unwrap();
    let sid = t.app.upsert_structure(&Actor::Operator, s, vec![]).await.unwrap();
    let log = t.app.audit_log(&Actor::Operator, sid, 10).await.unwrap();
    assert!(!log.is_empty());
    assert!(
        log.iter().all(|e| e.actor == facteur_app::AuditActor::Operator),
        "{log:?}"
    );
}

const CSV: &str = "\
type_identifiant,identifiant,raison_sociale,adresse,code_postal,ville,code_service_obligatoire,engagement_obligatoire,presence_moa,code_service,libelle_service,service_engagement_obligatoire
SIRET,21750001600019,Ville de Paris,Place de l'Hôtel de Ville,75004,Paris,oui,non,AVEC_MOA,DF01,Direction des finances,1
SIRET,21750001600019,Ville de Paris,Place de l'Hôtel de Ville,75004,Paris,oui,non,AVEC_MOA,VOIRIE,Voirie,0
SIRET,21990001600011,Commune d'Évry-Démo,1 rue Haute,91000,Évry,0,1,,,,
SIRET,11000201100044,Ministère de l'Exemple,1 rue Basse,75007,Paris,0,0,,ACHATS,Achats,
";

async fn import_search_export(t: TestApp) {
    let op = Actor::Operator;
    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |done: u64, total: u64| seen.lock().unwrap().push((done, total));
    let r1 = t
        .app
        .import_directory_csv(&op, CSV.as_bytes(), &progress)
        .await
        .unwrap();
    assert_eq!((r1.structures_created, r1.services_created), (3, 3));
    assert_eq!(*seen.lock().unwrap(), vec![(1, 3), (2, 3), (3, 3)]);
    // Idempotent.
    let r2 = t
        .app
        .import_directory_csv(&op, CSV.as_bytes(), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(
        (r2.structures_created, r2.structures_updated, r2.structures_unchanged),
        (0, 0, 3)
    );
    assert_eq!(
        (r2.services_created, r2.services_updated, r2.services_unchanged),
        (0, 0, 3)
    );
    // A changed line updates only that structure.
    let changed = CSV.replace(
        "Ministère de l'Exemple,1 rue Basse,75007,Paris,0,0",
        "Ministère de l'Exemple,1 rue Basse,75007,Paris,1,0",
    );
    let r3 = t
        .app
        .import_directory_csv(&op, changed.as_bytes(), &|_, _| {})
        .await
        .unwrap();
    assert_eq!((r3.structures_updated, r3.structures_unchanged), (1, 2));

    let search = |q: DirectoryQuery| {
        let app = t.app.clone();
        async move { app.search_directory(None, &q, PageRequest::new(1, 20)).await.unwrap() }
    };
    let by_id = search(DirectoryQuery::recipients(Some("217500016"), None)).await;
    assert_eq!(by_id.total, 1);
    assert_eq!(by_id.items[0].name, "Ville de Paris");
    assert!(by_id.items[0].parameters.service_code_required);
    assert_eq!(by_id.items[0].parameters.moa, MoaPresence::WithMoa);
    let by_name = search(DirectoryQuery {
        name: Some("evry".into()),
        ..DirectoryQuery::default()
    })
    .await;
    assert_eq!(by_name.items.len(), 1, "accent-insensitive name search");
    let by_postcode = search(DirectoryQuery::recipients(None, Some("750"))).await;
    assert_eq!(by_postcode.total, 2);
    let by_city = search(DirectoryQuery::recipients(None, Some("paris"))).await;
    assert_eq!(by_city.total, 2);
    let paged = t
        .app
        .search_directory(
            None,
            &DirectoryQuery::recipients(None, Some("paris")),
            PageRequest::new(2, 1),
        )
        .await
        .unwrap();
    assert_eq!((paged.items.len(), paged.total), (1, 2));
    let none = search(DirectoryQuery::recipients(None, Some("nothing like this"))).await;
    assert_eq!(none.total, 0);

    let ac = t.app.autocomplete_recipients("ville", 10).await.unwrap();
    assert_eq!(ac.len(), 1);
    let ac = t.app.autocomplete_recipients("2", 10).await.unwrap();
    assert!(ac.is_empty(), "one character gives nothing");
    let ac = t.app.autocomplete_recipients("21", 10).await.unwrap();
    assert_eq!(ac.len(), 2);

    let paris = t.app.directory_detail(by_id.items[0].id).await.unwrap();
    let codes: Vec<&str> = paris.services.iter().map(|s| s.service.code.as_str()).collect();
    assert!(
        codes.contains(&"DF01") && codes.contains(&"VOIRIE") && codes.contains(&"FACTURES_PUBLIQUES"),
        "{codes:?}"
    );
    let df01 = paris
        .services
        .iter()
        .find(|s| s.service.code.as_str() == "DF01")
        .unwrap();
    assert!(df01.service.parameters.engagement_required);

    // Export, then import the export into the same directory: nothing changes.
    let mut out = Vec::new();
    assert_eq!(t.app.export_directory_csv(&mut out).await.unwrap(), 3);
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(
        text.starts_with("type_identifiant,identifiant,raison_sociale"),
        "{text}"
    );
    assert!(!text.contains("FACTURES_PUBLIQUES"));
    let r4 = t
        .app
        .import_directory_csv(&op, out.as_slice(), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(
        (r4.structures_unchanged, r4.services_unchanged, r4.structures_updated),
        (3, 3, 0)
    );

    // Only the operator imports.
    let (boss, _) = t.manager("boss@acme.example", SIRET_A).await;
    assert!(matches!(
        t.app.import_directory_csv(&boss, CSV.as_bytes(), &|_, _| {}).await,
        Err(AppError::Forbidden)
    ));
    // A bad file names its line, and imports nothing.
    let bad = "identifiant,raison_sociale\n21750001600019,Paris\n123,Broken\n";
    assert!(matches!(
        t.app.import_directory_csv(&op, bad.as_bytes(), &|_, _| {}).await,
        Err(AppError::Csv { line: 3, .. })
    ));
}

async fn private_structures_stay_out(t: TestApp) {
    let (boss, s) = t.manager("boss@acme.example", SIRET_A).await;
    let q = DirectoryQuery {
        identifier: Some(SIRET_A.to_owned()),
        ..DirectoryQuery::default()
    };
    let page = PageRequest::new(1, 10);
    assert_eq!(t.app.search_directory(None, &q, page).await.unwrap().total, 0);
    assert!(t.app.autocomplete_recipients("512345", 10).await.unwrap().is_empty());
    assert!(matches!(t.app.directory_detail(s).await, Err(AppError::NotFound)));
    // The operator's unrestricted search sees it; nobody else may ask for it.
    let all = DirectoryQuery {
        scope: DirectoryScope::Everything,
        ..q
    };
    let op = Actor::Operator;
    assert_eq!(t.app.search_directory(Some(&op), &all, page).await.unwrap().total, 1);
    assert!(matches!(
        t.app.search_directory(Some(&boss), &all, page).await,
        Err(AppError::Forbidden)
    ));
    assert!(matches!(
        t.app.search_directory(None, &all, page).await,
        Err(AppError::Forbidden)
    ));
    let mut out = Vec::new();
    assert_eq!(t.app.export_directory_csv(&mut out).await.unwrap(), 0);
}
