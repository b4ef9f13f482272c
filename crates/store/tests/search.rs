//! Directory search at more than a page's worth of rows: every filter runs in SQL before the page
//! is cut, totals count every match (up to the cap), and the text indexes follow updates. SQLite
//! always, PostgreSQL when `FACTEUR_TEST_PG_URL` is set.

#![allow(clippy::unwrap_used)]

use facteur_domain::{IdentifierKind, MoaPresence, Structure, StructureIdentifier, StructureKind, StructureStatus};
use facteur_store::testing::TestStore;
use facteur_store::{Actor, PageRequest, Scope, Store, StructureQuery};

facteur_store::scenarios!(ref facteur_store::testing::TestStore::new =>filters_apply_before_the_page_and_the_cap, text_index_follows_updates);

/// A valid SIRET for `n` (see [`facteur_store::testing::numbered_siret`]).
fn siret(n: u32) -> StructureIdentifier {
    facteur_store::testing::numbered_siret(n).into()
}

/// 260 public structures named `Commune 000` … `Commune 259` (name order = number order) in
/// `Ville 0` … `Ville 9`: only the last ten act as MOA, only the last five are inactive, one in
/// four is in postcode `69…`; plus one private structure.
async fn seed(store: &Store) {
    for n in 0..260u32 {
        let mut s = Structure::new(siret(n), StructureKind::Public, &format!("Commune {n:03}")).unwrap();
        s.address.line1 = "1 place de la Mairie".into();
        s.address.city = format!("Ville {}", n % 10);
        s.address.postcode = if n % 4 == 0 {
            format!("69{n:03}")
        } else {
            format!("75{n:03}")
        };
        s.address.country = if n == 7 { "BE".into() } else { "FR".into() };
        if n >= 250 {
            s.parameters.moa = if n % 2 == 0 {
                MoaPresence::MoaOnly
            } else {
                MoaPresence::WithMoa
            };
        }
        if n >= 255 {
            s.status = StructureStatus::Inactive;
        }
        store.create_structure(&s, Actor::System).await.unwrap();
    }
    let private = Structure::new(siret(900), StructureKind::Private, "Commune privée").unwrap();
    store.create_structure(&private, Actor::System).await.unwrap();
}

async fn filters_apply_before_the_page_and_the_cap(t: &TestStore) {
    let store: &Store = t;
    seed(store).await;
    let search = |q: StructureQuery, page: PageRequest| async move { store.search_structures(&q, page).await.unwrap() };
    let names = |p: &facteur_store::Page<facteur_store::StructureRecord>| {
        p.items
            .iter()
            .map(|r| r.structure.company_name.clone())
            .collect::<Vec<_>>()
    };
    let first = PageRequest::new(1, 200).capped(200);

    // Without a filter the cap bounds the total.
    let all = search(StructureQuery::default(), first).await;
    assert_eq!((all.total, all.items.len()), (200, 200));
    let uncapped = search(StructureQuery::default(), PageRequest::new(1, 10)).await;
    assert_eq!(uncapped.total, 260, "the private structure is not in the public scope");

    // MOA matches all lie beyond the first 200 rows: the filter runs before the cap.
    let moa = search(
        StructureQuery {
            with_moa: true,
            ..StructureQuery::default()
        },
        first,
    )
    .await;
    assert_eq!(moa.total, 10);
    assert_eq!(names(&moa)[0], "Commune 250");
    let moa_only = StructureQuery {
        moa_only: true,
        ..StructureQuery::default()
    };
    assert_eq!(search(moa_only.clone(), first).await.total, 5);
    let active_moa_only = StructureQuery {
        status: Some(StructureStatus::Active),
        ..moa_only
    };
    let p = search(active_moa_only, first).await;
    assert_eq!(names(&p), ["Commune 250", "Commune 252", "Commune 254"]);

    // Status, country, identifier kind, postcode prefix, city fragment, name fragment.
    let q = |f: fn(&mut StructureQuery)| {
        let mut q = StructureQuery::default();
        f(&mut q);
        q
    };
    for (query, total) in [
        (q(|q| q.status = Some(StructureStatus::Inactive)), 5),
        (q(|q| q.country = Some("be".into())), 1),
        (q(|q| q.identifier_kind = Some(IdentifierKind::Siret)), 200),
        (q(|q| q.identifier_kind = Some(IdentifierKind::Ridet)), 0),
        (q(|q| q.postcode = Some("69".into())), 65),
        (q(|q| q.city = Some("ville 3".into())), 26),
        (q(|q| q.name = Some("une 25".into())), 10),
        (q(|q| q.name = Some("e 2".into())), 60),
        (q(|q| q.free_text = Some("ville 3".into())), 26),
        (q(|q| q.free_text = Some("6900".into())), 3),
        (
            q(|q| {
                q.postcode = Some("69".into());
                q.with_moa = true;
            }),
            2,
        ),
    ] {
        assert_eq!(search(query.clone(), first).await.total, total, "{query:?}");
    }

    // A full page leaves the total to the count, which walks the text index up to the cap.
    let fragment = q(|q| {
        q.name = Some("e 2".into());
        q.status = Some(StructureStatus::Active);
    });
    assert_eq!(
        search(fragment.clone(), PageRequest::new(1, 5).capped(200)).await.total,
        55
    );
    assert_eq!(
        search(fragment.clone(), PageRequest::new(1, 5).capped(20)).await.total,
        20
    );
    assert_eq!(search(fragment, PageRequest::new(2, 5)).await.total, 55);

    // Paging through a filtered result: the total does not depend on the page; the last page is
    // cut at the cap; beyond it, nothing.
    let postcode = q(|q| q.postcode = Some("75".into()));
    let p1 = search(postcode.clone(), PageRequest::new(1, 50).capped(120)).await;
    let p3 = search(postcode.clone(), PageRequest::new(3, 50).capped(120)).await;
    let p4 = search(postcode.clone(), PageRequest::new(4, 50).capped(120)).await;
    assert_eq!((p1.total, p3.total, p4.total), (120, 120, 120));
    assert_eq!((p1.items.len(), p3.items.len(), p4.items.len()), (50, 20, 0));
    assert_eq!(search(postcode, PageRequest::new(2, 100)).await.total, 195);

    // Scopes: one more structure, that one only, everything.
    let private = store
        .find_structure_by_identifier(&siret(900))
        .await
        .unwrap()
        .unwrap()
        .id;
    let named = |scope| StructureQuery {
        scope,
        name: Some("privée".into()),
        ..StructureQuery::default()
    };
    assert_eq!(search(named(Scope::Public), first).await.total, 0);
    assert_eq!(search(named(Scope::PublicAnd(private)), first).await.total, 1);
    assert_eq!(search(named(Scope::Only(private)), first).await.total, 1);
    assert_eq!(search(named(Scope::All), first).await.total, 1);
    let exempt = StructureQuery {
        scope: Scope::PublicAnd(private),
        status: Some(StructureStatus::Inactive),
        status_exempt: Some(private),
        ..StructureQuery::default()
    };
    assert_eq!(search(exempt, first).await.total, 6);
}

async fn text_index_follows_updates(t: &TestStore) {
    let store: &Store = t;
    let mut s = Structure::new(siret(1), StructureKind::Public, "Syndicat des eaux de Lézignan").unwrap();
    s.address.line1 = "1 rue Basse".into();
    s.address.city = "Lézignan-Corbières".into();
    s.address.postcode = "11200".into();
    let id = store.create_structure(&s, Actor::System).await.unwrap().id;
    let count = |name: &'static str| async move {
        let q = StructureQuery {
            name: Some(name.into()),
            ..StructureQuery::default()
        };
        store.search_structures(&q, PageRequest::default()).await.unwrap().total
    };
    assert_eq!(count("LEZIGNAN").await, 1);
    assert_eq!(count("des eaux").await, 1);
    assert_eq!(count("\"eaux").await, 0, "quotes are text");
    s.company_name = "Régie de l'eau potable".into();
    store.update_structure(id, &s, Actor::System).await.unwrap();
    assert_eq!(count("lezignan").await, 0);
    assert_eq!(count("REGIE DE L'EAU").await, 1);
    let city = StructureQuery {
        city: Some("corbieres".into()),
        ..StructureQuery::default()
    };
    assert_eq!(
        store
            .search_structures(&city, PageRequest::default())
            .await
            .unwrap()
            .total,
        1
    );
}
