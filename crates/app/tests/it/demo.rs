//! Demo seed: structures for each parameter combination, users that can log in, technical
//! accounts that authenticate; idempotent.

use facteur_app::demo::{self, DemoCredentials};
use facteur_app::{Actor, DirectoryQuery, DirectoryScope, InvoiceFilter, PageRequest};
use facteur_domain::{IdentifierKind, Party, StructureIdentifier};

use crate::common::{TestApp, on_both};

on_both!(seed_twice);

async fn seed_twice(t: TestApp) {
    let data = t.dir.path().join("data");
    let first = demo::seed(&t.app, &data).await.unwrap();
    let file: DemoCredentials =
        serde_json::from_slice(&std::fs::read(data.join("demo-credentials.json")).unwrap()).unwrap();
    assert_eq!(file, first);
    let publics: Vec<_> = first.structures.iter().filter(|s| s.public).collect();
    assert!(publics.len() >= 4);
    assert_eq!(first.structures.iter().filter(|s| !s.public).count(), 2);
    // Each parameter combination is present.
    for combo in [(false, false), (true, false), (false, true), (true, true)] {
        assert!(
            publics
                .iter()
                .any(|s| (s.requires_service_code, s.requires_engagement) == combo),
            "missing combination {combo:?}"
        );
    }
    for u in &first.users {
        let session = t.app.login(&u.email, &u.password, "demo").await.unwrap();
        let actor = t.app.session_actor(&session.token).await.unwrap();
        let mine = t.app.my_memberships(&actor).await.unwrap();
        assert!(
            mine.iter()
                .any(|m| m.structure_identifier.value() == u.structure && m.role.as_str() == u.role)
        );
    }
    assert_eq!(first.technical_accounts.len(), first.structures.len());
    for ta in &first.technical_accounts {
        let a = t
            .app
            .authenticate_client(&ta.client_id, &ta.client_secret, "test")
            .await
            .unwrap();
        let Actor::Technical { structure: own, .. } = a else {
            panic!()
        };
        let b = t
            .app
            .authenticate_technical(&ta.login, &ta.password, own)
            .await
            .unwrap();
        assert_eq!(a, b);
        let Actor::Technical { structure, .. } = a else {
            panic!()
        };
        assert_eq!(
            t.app
                .structure(&a, structure)
                .await
                .unwrap()
                .structure
                .identifier
                .value(),
            ta.structure
        );
    }
    let count = DirectoryQuery {
        scope: DirectoryScope::Everything,
        ..Default::default()
    };
    let (op, page) = (Actor::Operator, PageRequest::new(1, 100));
    let before = t.app.search_directory(Some(&op), &count, page).await.unwrap().total;

    let second = demo::seed(&t.app, &data).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(
        t.app.search_directory(Some(&op), &count, page).await.unwrap().total,
        before
    );
    for ta in &second.technical_accounts {
        t.app
            .authenticate_client(&ta.client_id, &ta.client_secret, "test")
            .await
            .unwrap();
    }

    // The demo invoices, once, in their statuses, after two seeds.
    let mut statuses = Vec::new();
    for siret in ["51234567900017", "81234567600017"] {
        let id = StructureIdentifier::parse(IdentifierKind::Siret, siret).unwrap();
        let supplier = t
            .app
            .store()
            .find_structure_by_identifier(&id)
            .await
            .unwrap()
            .unwrap()
            .id;
        let filter = InvoiceFilter {
            max: 200,
            ..InvoiceFilter::default()
        };
        let lines = t
            .app
            .search_invoices(&op, supplier, Party::Supplier, &filter)
            .await
            .unwrap();
        statuses.extend(
            lines
                .iter()
                .map(|l| (l.invoice.number.clone(), l.invoice.status.as_str())),
        );
    }
    statuses.sort();
    assert_eq!(
        statuses,
        [
            ("DEMO-2026-001".to_owned(), "MISE_A_DISPOSITION"),
            ("DEMO-2026-002".to_owned(), "SUSPENDUE"),
            ("DEMO-2026-003".to_owned(), "MISE_EN_PAIEMENT"),
            ("DEMO-2026-004".to_owned(), "REJETEE"),
            ("DEMO-2026-005".to_owned(), "A_RECYCLER"),
            ("DEMO-2026-006".to_owned(), "COMPLETEE"),
        ]
    );
}
