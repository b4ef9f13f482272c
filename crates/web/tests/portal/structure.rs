//! "Ma structure": the managers edit the record of the active structure; a simple user and a
//! stranger are refused; field errors are listed in the summary and shown next to their fields.

use reqwest::StatusCode;

use super::{SIRET_B, TestApp, active_user, field_block, field_value, form_block, manager_and_member, shows, spawn};

const PAGE: &str = "/manage/structure";

fn coordinates<'a>(postcode: &'a str, email: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("company_name", "Menuiserie Martin"),
        ("label", "Martin & fils"),
        ("email", email),
        ("vat_number", ""),
        ("line1", "4 chemin des Scies"),
        ("line2", ""),
        ("line3", ""),
        ("postcode", postcode),
        ("city", "Orléans"),
        ("country", "FR"),
        ("phone", "02 38 00 00 00"),
    ]
}

async fn managers_edit_the_record_and_others_are_refused(t: TestApp) {
    let (manager, member) = manager_and_member(&t).await;
    let stranger = active_user(&t, "autre@exemple.fr", SIRET_B, "Société B").await;

    // The page is in the manager's menu, not the member's.
    let (status, html) = manager.get(PAGE).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("href=\"/manage/structure\""), "{html}");
    assert!(shows(&html, "Coordonnées bancaires"), "{html}");
    let (_, home) = member.get("/").await;
    assert!(!home.contains("href=\"/manage/structure\""));
    let (status, _) = member.get(PAGE).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let fields = coordinates("45000", "");
    let (status, _) = member.post("/account", "/manage/structure/coordinates", &fields).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Every error at once, in the summary and next to its field.
    let (status, html) = manager
        .post(
            PAGE,
            "/manage/structure/coordinates",
            &coordinates("450", "pas-une-adresse"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("id=\"error-summary\""), "{html}");
    assert!(html.contains("href=\"#f-postcode\""), "{html}");
    assert!(html.contains("href=\"#f-email\""), "{html}");
    assert!(shows(field_block(&html, "postcode"), "5 chiffres en France"), "{html}");
    assert!(field_block(&html, "postcode").contains("aria-invalid=\"true\""));
    assert!(
        field_block(&html, "city").contains("value=\"Orléans\""),
        "typed values are kept"
    );

    let (status, html) = manager
        .post(
            PAGE,
            "/manage/structure/coordinates",
            &coordinates("45000", "compta@martin.fr"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(shows(&html, "Modification enregistrée."), "{html}");
    assert!(
        field_block(&html, "email").contains("value=\"compta@martin.fr\""),
        "{html}"
    );
    assert!(
        field_block(&html, "line1").contains("value=\"4 chemin des Scies\""),
        "{html}"
    );

    // Parameters: one choice of references, MOA presence, payment status.
    let (status, html) = manager
        .post(
            PAGE,
            "/manage/structure/parameters",
            &[
                ("references", "CODE_SERVICE_OU_ENGAGEMENT"),
                ("moa", "AVEC_MOA"),
                ("payment_not_reported", "1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("value=\"CODE_SERVICE_OU_ENGAGEMENT\" checked"), "{html}");
    assert!(html.contains("value=\"AVEC_MOA\" checked"), "{html}");
    assert!(
        html.contains("name=\"payment_not_reported\" value=\"1\" checked"),
        "{html}"
    );

    // A stranger's page is their own structure's: nothing of A shows.
    let (status, html) = stranger.get(PAGE).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("4 chemin des Scies"));

    // In English.
    let (_, html) = manager.get("/lang/en?next=/manage/structure").await;
    assert!(
        html.contains("My organisation") && html.contains("Bank details"),
        "{html}"
    );
}

async fn bank_details_and_services_from_the_portal(t: TestApp) {
    let (manager, _member) = manager_and_member(&t).await;
    let stranger = active_user(&t, "autre@exemple.fr", SIRET_B, "Société B").await;
    let add = |label: &'static str, iban: &'static str, bic: &'static str| {
        vec![("bank_label", label), ("iban", iban), ("bic", bic)]
    };
    let (status, html) = manager
        .post(
            PAGE,
            "/manage/structure/bank",
            &add("", "FR7630006000011234567890188", "BNP"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(shows(field_block(&html, "iban"), "clé de contrôle"), "{html}");
    assert!(shows(field_block(&html, "bic"), "8 ou 11 caractères"), "{html}");
    assert!(html.contains("href=\"#f-bank_label\""), "{html}");

    let (status, html) = manager
        .post(
            PAGE,
            "/manage/structure/bank",
            &add("Compte courant", "FR76 3000 6000 0112 3456 7890 189", ""),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("FR7630006000011234567890189"), "{html}");
    let mut factor = add("Affactureur", "DE89370400440532013000", "");
    factor.push(("factor", "1"));
    let (status, html) = manager.post(PAGE, "/manage/structure/bank", &factor).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let (status, html) = manager
        .post(
            PAGE,
            "/manage/structure/bank",
            &add("Doublon", "FR7630006000011234567890189", ""),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        shows(field_block(&html, "iban"), "déjà des coordonnées bancaires"),
        "{html}"
    );

    // The first account is the default: it cannot be deactivated while the other is active.
    let (_, html) = manager.get(PAGE).await;
    let rows: Vec<&str> = html.split("action=\"/manage/structure/bank/action\"").skip(1).collect();
    assert_eq!(rows.len(), 2, "{html}");
    let first = field_value(rows[0], "id").unwrap();
    let second = field_value(rows[1], "id").unwrap();
    assert!(
        !rows[0].contains("value=\"default\""),
        "the default has no 'make default' button"
    );
    let (status, html) = manager
        .post(
            PAGE,
            "/manage/structure/bank/action",
            &[("id", &first), ("action", "deactivate")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(shows(&html, "mettez d'abord d'autres coordonnées par défaut"), "{html}");
    for action in ["default", "deactivate"] {
        let id = if action == "default" { &second } else { &first };
        let (status, html) = manager
            .post(PAGE, "/manage/structure/bank/action", &[("id", id), ("action", action)])
            .await;
        assert_eq!(status, StatusCode::OK, "{action}: {html}");
    }
    let accounts = t
        .app
        .structure_admin(&facteur_app::Actor::Operator, {
            let token = super::login_token(&t, "chef@exemple.fr").await;
            let actor = t.app.session_actor(&token).await.unwrap();
            t.app.my_memberships(&actor).await.unwrap()[0].structure_id
        })
        .await
        .unwrap()
        .bank_accounts;
    assert_eq!(accounts.iter().filter(|a| a.is_default).count(), 1);
    assert!(accounts.iter().any(|a| a.is_default && a.details.factor && a.active));
    assert!(accounts.iter().any(|a| !a.active && !a.is_default));
    // A stranger cannot touch them by id.
    let (status, _) = stranger
        .post(
            PAGE,
            "/manage/structure/bank/action",
            &[("id", &second), ("action", "deactivate")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Services: added, a taken code refused on its field, deactivated, edited.
    let service = [
        ("service_code", "ATELIER"),
        ("service_label", "Atelier"),
        ("service_from", "2026-01-01"),
        ("service_to", ""),
    ];
    let (status, html) = manager.post(PAGE, "/manage/structure/services", &service).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<code>ATELIER</code>"), "{html}");
    let (status, html) = manager.post(PAGE, "/manage/structure/services", &service).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        shows(field_block(&html, "service_code"), "déjà un service avec ce code"),
        "{html}"
    );
    let backwards = [
        ("service_code", "BUREAU"),
        ("service_from", "2026-06-01"),
        ("service_to", "2026-01-01"),
    ];
    let (status, html) = manager.post(PAGE, "/manage/structure/services", &backwards).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        shows(field_block(&html, "service_to"), "doit suivre le début"),
        "{html}"
    );

    let (_, html) = manager.get(PAGE).await;
    let at = html.find("<code>ATELIER</code>").unwrap();
    let form = form_block(&html[at..], "/manage/structure/services/status").unwrap();
    let id = field_value(form, "id").unwrap();
    let default_row = &html[html.find("<code>FACTURES_PUBLIQUES</code>").unwrap()..];
    let default_row = &default_row[..default_row.find("</tr>").unwrap()];
    assert!(
        !default_row.contains("services/status"),
        "the default service has no deactivate button"
    );
    let (status, html) = manager
        .post(
            PAGE,
            "/manage/structure/services/status",
            &[("id", &id), ("active", "0")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let edit = format!("/manage/structure/service?id={id}");
    let (status, html) = manager.get(&edit).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(!html.contains("name=\"service_active\" value=\"1\" checked"), "{html}");
    let (status, html) = manager
        .post(
            &edit,
            "/manage/structure/service",
            &[
                ("id", &id),
                ("service_label", "Atelier de découpe"),
                ("service_to", "2026-12-31"),
                ("service_active", "1"),
                ("service_engagement", "1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Atelier de découpe"), "{html}");
    let (status, _) = stranger.get(&edit).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

facteur_web::testing::scenarios!(spawn => managers_edit_the_record_and_others_are_refused, bank_details_and_services_from_the_portal);
