//! Demo seed: structures for each parameter combination, users that can log in, technical
//! accounts that authenticate; idempotent.

use facteur_app::demo::{self, DemoCredentials};
use facteur_app::{Actor, DirectoryQuery, DirectoryScope, PageRequest};

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
}
