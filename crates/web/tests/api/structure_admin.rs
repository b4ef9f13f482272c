//! Structure self-management through the API: `transverses/v1/recuperer/coordbanc/valides` and
//! the `structures/v1/…` changes, made for a manager named in `idUtilisateurCourant`. The demo
//! data gives a private structure with a main manager and a simple user, and another structure
//! whose manager is an outsider here.

use facteur_app::demo::{DEMO_PASSWORD, seed};
use facteur_app::{Actor, TechnicalCredentials};
use facteur_domain::{StructureId, UserId};
use serde_json::{Value, json};

use super::{Fixture, assert_ok, fixture, keys};

const BAKERY: &str = "51234567900017";
const IT_FIRM: &str = "81234567600017";

struct Demo {
    f: Fixture,
    tech: TechnicalCredentials,
    bakery: StructureId,
    it_firm: StructureId,
    manager: UserId,
    simple_user: UserId,
    outsider: UserId,
}

async fn demo(backend: facteur_web::testing::Backend) -> Option<Demo> {
    let f = fixture(backend).await?;
    let creds = seed(&f.t.app, &f.t.data_dir).await.unwrap();
    let user = |email: &'static str| {
        let app = f.t.app.clone();
        async move {
            let token = app.login(email, DEMO_PASSWORD, "test").await.unwrap().token;
            let actor = app.session_actor(&token).await.unwrap();
            let Actor::User(id) = actor else { unreachable!() };
            (id, app.my_memberships(&actor).await.unwrap()[0].structure_id)
        }
    };
    let (manager, bakery) = user("gestion@boulangerie-demo.example").await;
    let (simple_user, _) = user("compta@boulangerie-demo.example").await;
    let (outsider, it_firm) = user("gestion@informatique-demo.example").await;
    let t = creds.technical_accounts.iter().find(|t| t.structure == BAKERY).unwrap();
    assert!(creds.technical_accounts.iter().any(|t| t.structure == IT_FIRM));
    let tech = TechnicalCredentials {
        structure_id: bakery,
        login: t.login.clone(),
        password: t.password.clone(),
        client_id: t.client_id.clone(),
        client_secret: t.client_secret.clone(),
        password_expires_at: time::OffsetDateTime::now_utc(),
    };
    Some(Demo {
        f,
        tech,
        bakery,
        it_firm,
        manager,
        simple_user,
        outsider,
    })
}

impl Demo {
    async fn post(&self, path: &str, body: Value) -> Value {
        self.f.post_as(&self.tech, path, body).await
    }
}

fn refused(v: &Value, code: i64, libelle_start: &str) {
    assert_eq!(v["codeRetour"], code, "{v}");
    assert!(
        v["libelle"].as_str().unwrap().starts_with(libelle_start),
        "{libelle_start}: {v}"
    );
}

const COORDBANC: &str = "/cpro/transverses/v1/recuperer/coordbanc/valides";
const AJOUTER: &str = "/cpro/structures/v1/ajouter/coordbanc";

async fn coordbanc_lists_the_active_bank_details_of_the_callers_structure(d: Demo) {
    let v = d.post(COORDBANC, json!({"idStructure": d.bakery.get()})).await;
    assert_ok(&v);
    assert_eq!(v["listeCoordonneeBancaire"], json!([]));

    let add = |label: &str, iban: &str, bic: Option<&str>, factor: bool| {
        json!({"idUtilisateurCourant": d.manager.get(), "nomCoordonneeBancaire": label,
               "iban": iban, "bic": bic, "estAffactureur": factor})
    };
    let first = d
        .post(
            AJOUTER,
            add(
                "Compte courant",
                "FR76 3000 6000 0112 3456 7890 189",
                Some("BNPAFRPP"),
                false,
            ),
        )
        .await;
    assert_ok(&first);
    let first_id = first["idCoordonneeBancaire"].as_i64().unwrap();
    let factor = d
        .post(AJOUTER, add("Affactureur", "DE89370400440532013000", None, true))
        .await;
    assert_ok(&factor);
    let factor_id = factor["idCoordonneeBancaire"].as_i64().unwrap();
    // IBAN and BIC errors name their field; a simple user and an outsider are refused.
    refused(
        &d.post(AJOUTER, add("X", "FR7630006000011234567890188", None, false))
            .await,
        10002,
        "iban",
    );
    refused(
        &d.post(AJOUTER, add("X", "GB82WEST12345698765432", Some("WEST"), false))
            .await,
        10002,
        "bic",
    );
    refused(
        &d.post(AJOUTER, add("Doublon", "FR7630006000011234567890189", None, false))
            .await,
        10002,
        "iban",
    );
    let mut as_simple = add("X", "GB82WEST12345698765432", None, false);
    as_simple["idUtilisateurCourant"] = json!(d.simple_user.get());
    refused(&d.post(AJOUTER, as_simple).await, 20001, "");
    let mut as_outsider = add("X", "GB82WEST12345698765432", None, false);
    as_outsider["idUtilisateurCourant"] = json!(d.outsider.get());
    refused(&d.post(AJOUTER, as_outsider).await, 10001, "");

    let v = d
        .post(COORDBANC, json!({"idStructure": d.bakery.get().to_string()}))
        .await;
    assert_ok(&v);
    assert_eq!(keys(&v), ["codeRetour", "libelle", "listeCoordonneeBancaire"]);
    let list = v["listeCoordonneeBancaire"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{v}");
    assert_eq!(
        keys(&list[0]),
        [
            "bic",
            "estAffactureur",
            "estParDefaut",
            "iban",
            "idCoordonneeBancaire",
            "nomCoordonneeBancaire"
        ]
    );
    assert_eq!(list[0]["idCoordonneeBancaire"], first_id, "the default comes first");
    assert_eq!(list[0]["estParDefaut"], true);
    assert_eq!(list[0]["iban"], "FR7630006000011234567890189");
    assert_eq!(list[0]["bic"], "BNPAFRPP");
    assert_eq!(list[1]["nomCoordonneeBancaire"], "Affactureur");
    assert_eq!(list[1]["estAffactureur"], true);

    // One default: the default cannot go while another is active; made default, the other can.
    let modifier = "/cpro/structures/v1/modifier/coordbanc";
    let change = |id: i64, extra: Value| {
        let mut body = json!({"idUtilisateurCourant": d.manager.get(), "idCoordonneeBancaire": id});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let v = d.post(modifier, change(first_id, json!({"estActif": false}))).await;
    assert_eq!(v["codeRetour"], 10002, "{v}");
    assert_ok(&d.post(modifier, change(factor_id, json!({"estParDefaut": true}))).await);
    assert_ok(&d.post(modifier, change(first_id, json!({"estActif": false}))).await);
    let v = d.post(COORDBANC, json!({"idStructure": d.bakery.get()})).await;
    let list = v["listeCoordonneeBancaire"].as_array().unwrap();
    assert_eq!(list.len(), 1, "inactive details are not listed: {v}");
    assert_eq!(
        (list[0]["idCoordonneeBancaire"].as_i64(), &list[0]["estParDefaut"]),
        (Some(factor_id), &json!(true))
    );

    // Another structure's details are not the caller's business.
    refused(
        &d.post(COORDBANC, json!({"idStructure": d.it_firm.get()})).await,
        10001,
        "",
    );
    refused(
        &d.post(modifier, change(999_999, json!({"estActif": true}))).await,
        10001,
        "",
    );
}

async fn structure_changes_are_made_for_a_named_manager(d: Demo) {
    let body = |user: i64| {
        json!({"idUtilisateurCourant": user, "raisonSocialeStructure": "Boulangerie Démo SARL",
               "libelleStructure": "Au bon pain", "emailStructure": "contact@boulangerie-demo.example",
               "numeroTVA": "FR40303265045",
               "adressePostaleDuSiege": {"adresse": "1 place du Four", "codePostal": "99100",
                                         "ville": "Démoville", "pays": "FR", "telephone": "01 23 45 67 89"}})
    };
    let modifier = "/cpro/structures/v1/modifier";
    refused(&d.post(modifier, body(0)).await, 20001, "");
    refused(&d.post(modifier, body(d.simple_user.get())).await, 20001, "");
    refused(&d.post(modifier, body(d.outsider.get())).await, 10001, "");
    let mut bad = body(d.manager.get());
    bad["adressePostaleDuSiege"]["codePostal"] = json!("991");
    refused(&d.post(modifier, bad).await, 10002, "codePostal");
    let mut other = body(d.manager.get());
    other["idStructureCPP"] = json!(d.it_firm.get());
    refused(&d.post(modifier, other).await, 10001, "");
    let v = d.post(modifier, body(d.manager.get())).await;
    assert_ok(&v);
    assert_eq!(v["idStructureCPP"], d.bakery.get());

    let v = d
        .post(
            "/cpro/structures/v1/modifier/parametres",
            json!({"idUtilisateurCourant": d.manager.get(),
                   "parametres": {"gestionNumeroEJOuCodeService": true, "aMoa": true}}),
        )
        .await;
    assert_ok(&v);
    let v = d
        .post(
            "/cpro/structures/v1/consulter",
            json!({"idStructureCPP": d.bakery.get()}),
        )
        .await;
    assert_ok(&v);
    assert_eq!(v["informationGenerales"]["libelleStructure"], "Au bon pain");
    assert_eq!(v["informationGenerales"]["numeroTVA"], "FR40303265045");
    assert_eq!(v["adressePostaleDuSiege"]["ville"], "Démoville");
    assert_eq!(v["adressePostaleDuSiege"]["telephone"], "01 23 45 67 89");
    assert_eq!(v["parametres"]["gestionNumeroEJOuCodeService"], true);
    assert_eq!(v["parametres"]["aMoa"], true);
    assert_eq!(v["parametres"]["estMoaUniquement"], false);

    // Services: created, refused twice, changed, deactivated.
    let creer = "/cpro/structures/v1/creer/service";
    let service = json!({"idUtilisateurCourant": d.manager.get(), "codeService": "LIVRAISON",
                         "libelleService": "Livraisons", "dateDebutValidite": "2026-01-01",
                         "numeroEngagement": true});
    let v = d.post(creer, service.clone()).await;
    assert_ok(&v);
    let id = v["idService"].as_i64().unwrap();
    refused(&d.post(creer, service.clone()).await, 10002, "codeService");
    let mut simple = service.clone();
    simple["idUtilisateurCourant"] = json!(d.simple_user.get());
    refused(&d.post(creer, simple).await, 20001, "");
    let mut bad_date = service;
    bad_date["codeService"] = json!("AUTRE");
    bad_date["dateFinValidite"] = json!("31/12/2026");
    refused(&d.post(creer, bad_date).await, 10002, "dateFinValidite");
    let v = d
        .post(
            "/cpro/structures/v1/modifier/service",
            json!({"idUtilisateurCourant": d.manager.get(), "idService": id, "estActif": false,
                   "dateFinValidite": "2026-12-31 00:00"}),
        )
        .await;
    assert_ok(&v);
    let v = d
        .post(
            "/cpro/structures/v1/consulter/service",
            json!({"idStructure": d.bakery.get(), "idService": id}),
        )
        .await;
    assert_ok(&v);
    assert_eq!(v["informationsGenerales"]["nomService"], "Livraisons");
    assert_eq!(v["parametres"]["numeroEngagement"], true);
    assert_eq!(v["parametres"]["dateDebutValidite"], "2026-01-01 00:00");
    assert_eq!(v["parametres"]["dateFinValidite"], "2026-12-31 00:00");
    let v = d
        .post(
            "/cpro/structures/v1/rechercher/services",
            json!({"idStructure": d.bakery.get()}),
        )
        .await;
    let line = v["listeServices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["idService"] == id)
        .cloned()
        .unwrap();
    assert_eq!(line["estActif"], false);

    // Every change is in the structure's audit log, made by the manager.
    let manager = Actor::User(d.manager);
    let log = d.f.t.app.audit_log(&manager, d.bakery, 20).await.unwrap();
    let mine = format!("user:{}", d.manager.get());
    for action in [
        "structure.update",
        "structure.parameters",
        "service.create",
        "service.update",
    ] {
        assert!(
            log.iter().any(|l| l.action == action && l.actor.to_string() == mine),
            "{action}: {log:?}"
        );
    }
}

facteur_web::testing::scenarios!(demo => coordbanc_lists_the_active_bank_details_of_the_callers_structure, structure_changes_are_made_for_a_named_manager);
