//! Directory search at more than a page's worth of rows: every filter runs in SQL before the page
//! is cut, totals count every match (up to the cap), and the text indexes follow updates. SQLite
//! always, PostgreSQL when `FACTEUR_TEST_PG_URL` is set.

#![allow(clippy::unwrap_used)]

use facteur_domain::{IdentifierKind, MoaPresence, Structure, StructureIdentifier, StructureKind, StructureStatus};
use facteur_store::testing::TestStore;
use facteur_store::{Actor, PageRequest, Scope, Store, StructureQuery};

facteur_store::scenarios!(ref facteur_store::testing::TestStore::new =>
    filters_apply_before_the_page_and_the_cap,
    text_index_follows_updates,
    common_fragments_page_like_rare_ones,
);

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

/// A fragment in many names is read by walking the name-ordered index (SQLite) rather than by
/// sorting every match, a rare one by sorting: the pages and totals must be the same either way.
/// 2,400 public structures `Commune 0000` … `Commune 2399`, created in a shuffled order (so id
/// order is not name order); one in eight inactive.
async fn common_fragments_page_like_rare_ones(t: &TestStore) {
    const N: u32 = 2_400;
    let store: &Store = t;
    let mut tx = store.begin().await.unwrap();
    for i in 0..N {
        let n = (i * 7) % N; // 7 and 2,400 are coprime: every number once, out of order
        let mut s = Structure::new(siret(n), StructureKind::Public, &format!("Commune {n:04}")).unwrap();
        s.address.city = format!("Ville {}", n % 10);
        if n.is_multiple_of(8) {
            s.status = StructureStatus::Inactive;
        }
        tx.create_structure(&s, Actor::System).await.unwrap();
    }
    tx.commit().await.unwrap();
    let names = |q: StructureQuery, page: PageRequest| async move {
        let p = store.search_structures(&q, page).await.unwrap();
        let names: Vec<String> = p.items.into_iter().map(|r| r.structure.company_name).collect();
        (p.total, names)
    };
    let expected =
        |numbers: &mut dyn Iterator<Item = u32>| numbers.map(|n| format!("Commune {n:04}")).collect::<Vec<_>>();
    let name = |text: &str| StructureQuery {
        name: Some(text.into()),
        ..StructureQuery::default()
    };

    // Every name matches: capped pages, the last one cut at the cap, none beyond.
    let (total, page1) = names(name("commune"), PageRequest::new(1, 20).capped(200)).await;
    assert_eq!((total, page1), (200, expected(&mut (0..20))));
    let (total, page10) = names(name("COMMUNE"), PageRequest::new(10, 20).capped(200)).await;
    assert_eq!((total, page10), (200, expected(&mut (180..200))));
    let (total, beyond) = names(name("commune"), PageRequest::new(3, 100).capped(200)).await;
    assert_eq!((total, beyond.len()), (200, 0));
    // Uncapped, the total is every match.
    let (total, page2) = names(name("commune"), PageRequest::new(2, 50)).await;
    assert_eq!((total, page2), (u64::from(N), expected(&mut (50..100))));
    // The same fragment through the one-box search (name, city, postcode or identifier).
    let free = StructureQuery {
        free_text: Some("commune".into()),
        ..StructureQuery::default()
    };
    let (total, page) = names(free, PageRequest::new(2, 10).capped(200)).await;
    assert_eq!((total, page), (200, expected(&mut (10..20))));
    // With a filter that leaves fewer matches, and with one that leaves many.
    let inactive = StructureQuery {
        status: Some(StructureStatus::Inactive),
        ..name("commune")
    };
    let (total, page) = names(inactive, PageRequest::new(2, 10)).await;
    assert_eq!((total, page), (u64::from(N / 8), expected(&mut (80..160).step_by(8))));
    let active = StructureQuery {
        status: Some(StructureStatus::Active),
        ..name("commune")
    };
    let (total, page) = names(active, PageRequest::new(1, 7).capped(200)).await;
    assert_eq!(
        (total, page),
        (200, expected(&mut (1..9).filter(|n: &u32| !n.is_multiple_of(8))))
    );
    // Rarer fragments of the same names (the rarest are sorted), and a common one in the city.
    let (total, page) = names(name("une 000"), PageRequest::new(2, 5).capped(200)).await;
    assert_eq!((total, page), (10, expected(&mut (5..10))));
    let (total, beyond) = names(name("une 000"), PageRequest::new(3, 5)).await;
    assert_eq!(
        (total, beyond.len()),
        (10, 0),
        "a page past the end still tells the total"
    );
    let (total, page) = names(name("ne 23"), PageRequest::new(1, 3).capped(200)).await;
    assert_eq!((total, page), (100, expected(&mut (2300..2303))));
    let city = StructureQuery {
        city: Some("ville".into()),
        ..StructureQuery::default()
    };
    let (total, page) = names(city, PageRequest::new(4, 5)).await;
    assert_eq!((total, page), (u64::from(N), expected(&mut (15..20))));
}
