//! A recipient's members attached to services see, of the invoices it receives, only those
//! addressed to their services (issue #13); members attached to none see them all.

use facteur_app::demo;
use facteur_app::{Actor, AppError, DownloadFormat, InvoiceFilter};
use facteur_domain::{IdentifierKind, InvoiceStatus, Party, StructureId, StructureIdentifier};

use crate::common::{TestApp, on_both};

on_both!(members_attached_to_services_see_only_their_invoices);

const DEPARTEMENT: &str = "22990001400015";
const BAKERY: &str = "51234567900017";

async fn structure_of(t: &TestApp, siret: &str) -> StructureId {
    let identifier = StructureIdentifier::parse(IdentifierKind::Siret, siret).unwrap();
    t.app
        .store()
        .find_structure_by_identifier(&identifier)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn received(t: &TestApp, actor: &Actor, structure: StructureId) -> Vec<String> {
    let filter = InvoiceFilter {
        statuses: vec![],
        number: None,
        partner: None,
        deposited_from: None,
        deposited_to: None,
        max: 200,
    };
    let mut numbers: Vec<String> = t
        .app
        .search_invoices(actor, structure, Party::Recipient, &filter)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.invoice.number)
        .collect();
    numbers.sort();
    numbers
}

async fn members_attached_to_services_see_only_their_invoices(t: TestApp) {
    let creds = demo::seed(&t.app, &t.dir.path().join("data")).await.unwrap();
    let dep = structure_of(&t, DEPARTEMENT).await;
    let bakery = structure_of(&t, BAKERY).await;
    let finances = creds.users.iter().find(|u| u.structure == DEPARTEMENT).unwrap();
    let session = t.app.login(&finances.email, &finances.password, "test").await.unwrap();
    let boss = t.app.session_actor(&session.token).await.unwrap();
    let (agent, agent_id) = t.member("voirie@departement.example", DEPARTEMENT, &boss).await;

    // The demo's DEMO-2026-003 goes to FIN01; one more to VOIRIE.
    let entry = demo::sample_entry(t.clock.now().date(), "SCOPE-1", DEPARTEMENT, Some("VOIRIE"), None);
    let voirie_invoice = t
        .app
        .submit_invoice(&Actor::Operator, bakery, &entry, b"{\"scope\":1}", None)
        .await
        .unwrap()
        .invoice;
    let fin01_invoice = t
        .app
        .search_invoices(
            &boss,
            dep,
            Party::Recipient,
            &InvoiceFilter {
                statuses: vec![],
                number: Some("DEMO-2026-003".to_owned()),
                partner: None,
                deposited_from: None,
                deposited_to: None,
                max: 1,
            },
        )
        .await
        .unwrap()[0]
        .invoice
        .id;
    let both = vec!["DEMO-2026-003".to_owned(), "SCOPE-1".to_owned()];
    assert_eq!(
        received(&t, &agent, dep).await,
        both,
        "attached to no service: sees all"
    );

    let services = t.app.services(&boss, dep).await.unwrap();
    let code = |c: &str| services.iter().find(|s| s.service.code.as_str() == c).unwrap().id;
    // Only managers attach; not to another structure's service.
    assert!(matches!(
        t.app
            .set_member_services(&agent, dep, agent_id, &[code("VOIRIE")])
            .await,
        Err(AppError::Forbidden)
    ));
    let university = structure_of(&t, "19990001000018").await;
    let elsewhere = t.app.services(&Actor::Operator, university).await.unwrap()[0].id;
    assert!(matches!(
        t.app
            .set_member_services(&boss, dep, agent_id, &[code("VOIRIE"), elsewhere])
            .await,
        Err(AppError::Invalid { field: "services", .. })
    ));
    assert!(
        t.app.member_services(&boss, dep, agent_id).await.unwrap().is_empty(),
        "nothing changed"
    );

    t.app
        .set_member_services(&boss, dep, agent_id, &[code("VOIRIE")])
        .await
        .unwrap();
    assert_eq!(
        t.app.member_services(&agent, dep, agent_id).await.unwrap(),
        vec![code("VOIRIE")]
    );
    assert_eq!(received(&t, &agent, dep).await, vec!["SCOPE-1".to_owned()]);
    assert_eq!(
        received(&t, &boss, dep).await,
        both,
        "the manager attached to none still sees all"
    );

    // Another service's invoice is as unknown to the agent: consult, history, process, download.
    let hidden = fin01_invoice;
    assert!(matches!(
        t.app.invoice_detail(&agent, dep, hidden, None).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        t.app.invoice_detail(&agent, dep, hidden, Some(Party::Recipient)).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        t.app.possible_statuses(&agent, dep, Some(hidden), None).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        t.app
            .process_invoice(&agent, dep, hidden, InvoiceStatus::Suspendue, Some("motif"))
            .await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        t.app
            .download_invoices(&agent, dep, &[hidden], DownloadFormat::Structured, false)
            .await,
        Err(AppError::NotFound)
    ));
    // Its own service's invoice is processed as usual.
    let seen = t
        .app
        .invoice_detail(&agent, dep, voirie_invoice.id, None)
        .await
        .unwrap();
    assert_eq!(seen.invoice.number, "SCOPE-1");
    t.app
        .process_invoice(&agent, dep, voirie_invoice.id, InvoiceStatus::ServiceFait, None)
        .await
        .unwrap();
    t.app
        .download_invoices(&agent, dep, &[voirie_invoice.id], DownloadFormat::Structured, false)
        .await
        .unwrap();

    // Detached from every service: everything again.
    t.app.set_member_services(&boss, dep, agent_id, &[]).await.unwrap();
    assert_eq!(received(&t, &agent, dep).await, both);
}
