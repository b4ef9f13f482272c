//! The API's directory searches over more structures than Chorus Pro's cap of 200: every criterion
//! is applied before the page and the cap, so matches beyond the first 200 rows are found and
//! totals are right. SQLite always, PostgreSQL too when `FACTEUR_TEST_PG_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use facteur_app::{Actor, TechnicalCredentials};
use facteur_domain::{MoaPresence, Structure, StructureIdentifier, StructureKind, StructureStatus};
use facteur_web::testing::{TestApp, spawn};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Public structures seeded: more than the cap.
const PUBLIC: u32 = 230;

/// A valid SIRET for `n` (see [`facteur_store::testing::numbered_siret`]).
fn siret(n: u32) -> StructureIdentifier {
    facteur_store::testing::numbered_siret(n).into()
}

struct Fixture {
    t: TestApp,
    http: reqwest::Client,
    token: String,
    account: String,
}

/// `Mairie 000` … `Mairie 229` (name order = number order): only the last six act as MOA, the
/// last three are inactive, cities `Ville 0` … `Ville 9`, postcodes `69…` for one in four; plus
/// the caller's private structure `Fournisseur`.
async fn fixture(backend: facteur_web::testing::Backend) -> Option<Fixture> {
    let t = spawn(backend).await?;
    let op = Actor::Operator;
    for n in 0..PUBLIC {
        let mut s = Structure::new(siret(n), StructureKind::Public, &format!("Mairie {n:03}")).unwrap();
        s.address.line1 = "1 place de la Mairie".into();
        s.address.city = format!("Ville {}", n % 10);
        s.address.postcode = if n % 4 == 0 {
            format!("69{n:03}")
        } else {
            format!("75{n:03}")
        };
        s.address.country = "FR".into();
        if n >= PUBLIC - 6 {
            s.parameters.moa = MoaPresence::WithMoa;
        }
        if n >= PUBLIC - 3 {
            s.status = StructureStatus::Inactive;
        }
        t.app.upsert_structure(&op, s, vec![]).await.unwrap();
    }
    let own = Structure::new(siret(900), StructureKind::Private, "Fournisseur").unwrap();
    let own = t.app.upsert_structure(&op, own, vec![]).await.unwrap();
    let creds: TechnicalCredentials = t.app.create_technical_account(&op, own).await.unwrap();
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{}/api/oauth/token", t.address))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", creds.client_id.as_str()),
            ("client_secret", creds.client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Some(Fixture {
        http,
        token: token["access_token"].as_str().unwrap().to_owned(),
        account: base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", creds.login, creds.password)),
        t,
    })
}

impl Fixture {
    async fn post(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}{path}", self.t.address))
            .bearer_auth(&self.token)
            .header("cpro-account", &self.account)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path} {body}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["codeRetour"], 0, "{v}");
        v
    }

    /// `structures/v1/rechercher` with these criteria: (total, designations of the page).
    async fn structures(&self, criteria: Value, parametres: Value) -> (u64, Vec<String>) {
        let v = self
            .post(
                "/cpro/structures/v1/rechercher",
                json!({ "structure": criteria, "parametres": parametres }),
            )
            .await;
        page(&v, "listeStructures", "designationStructure")
    }

    /// `transverses/v1/rechercher/destinataire`: (total, names of the page).
    async fn recipients(&self, body: Value) -> (u64, Vec<String>) {
        let v = self.post("/cpro/transverses/v1/rechercher/destinataire", body).await;
        page(&v, "listeDestinataires", "nomDestinataire")
    }
}

fn page(v: &Value, list: &str, field: &str) -> (u64, Vec<String>) {
    let names = v[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[field].as_str().unwrap().to_owned())
        .collect();
    (v["parametresRetour"]["total"].as_u64().unwrap(), names)
}

async fn structure_search_filters_before_the_cap(f: Fixture) {
    let max = json!({ "nbResultatsParPage": 200 });

    // The MOA structures are all beyond the first 200 rows by name: found, counted.
    let (total, names) = f.structures(json!({ "estMOA": true }), max.clone()).await;
    assert_eq!(total, 3, "active MOA structures: {names:?}");
    assert_eq!(names, ["Mairie 224", "Mairie 225", "Mairie 226"]);
    let (total, _) = f
        .structures(json!({ "estMOA": true, "statutStructure": "INACTIVE" }), max.clone())
        .await;
    assert_eq!(total, 3);
    let (total, _) = f.structures(json!({ "estMOAUniquement": true }), max.clone()).await;
    assert_eq!(total, 0);

    // Without criteria: every active public structure and the caller's own, capped at 200.
    let (total, names) = f.structures(json!({}), json!({ "nbResultatsParPage": 10 })).await;
    assert_eq!((total, names.len()), (200, 10));
    // A smaller cap cuts the total and the last page.
    let (total, names) = f
        .structures(
            json!({}),
            json!({ "nbResultatsMaximum": 15, "nbResultatsParPage": 10, "pageResultatDemandee": 2 }),
        )
        .await;
    assert_eq!((total, names.len()), (15, 5));

    // Criteria in SQL, exact totals.
    let (total, _) = f.structures(json!({ "adresseCodePostal": "69" }), max.clone()).await;
    assert_eq!(total, 57, "postcodes 69…, active");
    let (total, _) = f.structures(json!({ "adresseVille": "ville 3" }), max.clone()).await;
    assert_eq!(total, 23);
    let (total, _) = f
        .structures(json!({ "raisonSocialeStructure": "mairie 22" }), max.clone())
        .await;
    assert_eq!(total, 7, "Mairie 220 … 226");
    let (total, _) = f.structures(json!({ "adresseCodePays": "BE" }), max.clone()).await;
    assert_eq!(total, 0);
    let (total, _) = f.structures(json!({ "typeStructure": "PRIVEE" }), max.clone()).await;
    assert_eq!(total, 1, "the caller's own private structure only");
    let (total, names) = f
        .structures(json!({ "identifiantStructure": siret(900).value() }), max.clone())
        .await;
    assert_eq!((total, names), (1, vec!["Fournisseur".to_owned()]));
    let (total, _) = f
        .structures(json!({ "typeIdentifiantStructure": "RIDET" }), max.clone())
        .await;
    assert_eq!(total, 0);
    let (total, _) = f.structures(json!({ "statutStructure": "FERMEE" }), max.clone()).await;
    assert_eq!(total, 0, "an unknown status matches nothing");
    let v = f
        .post(
            "/cpro/structures/v1/rechercher",
            json!({ "structure": {}, "restreindreStructuresPrivees": true }),
        )
        .await;
    assert_eq!(page(&v, "listeStructures", "designationStructure").0, 1);
    assert_eq!(v["listeStructures"][0]["typeIdentifiantStructure"], "SIRET");
}

async fn recipient_search_counts_every_match(f: Fixture) {
    let size = json!({ "nbResultatsParPage": 5 });
    // City fragment: Ville 3 holds 23 public structures, all active.
    let (total, names) = f
        .recipients(json!({ "nomVilleCodePostal": "VILLE 3", "parametresRecherche": size }))
        .await;
    assert_eq!((total, names.len()), (23, 5));
    // Postcode beginning, and name fragment, in the same field.
    let (total, _) = f
        .recipients(json!({ "nomVilleCodePostal": "690", "parametresRecherche": size }))
        .await;
    assert_eq!(total, 25, "69000 … 69096");
    let (total, _) = f
        .recipients(json!({ "nomVilleCodePostal": "mairie 22", "parametresRecherche": size }))
        .await;
    assert_eq!(total, 7);
    // Identifier beginning: one SIREN; the private structure is no recipient.
    let (total, names) = f.recipients(json!({ "identifiant": &siret(42).value()[..9] })).await;
    assert_eq!((total, names), (1, vec!["Mairie 042".to_owned()]));
    let (total, _) = f.recipients(json!({ "identifiant": siret(900).value() })).await;
    assert_eq!(total, 0);
    // Everything: capped at 200.
    let (total, _) = f.recipients(json!({})).await;
    assert_eq!(total, 200);
    let (total, _) = f.recipients(json!({ "typeStructure": "PRIVEE" })).await;
    assert_eq!(total, 0);
}

facteur_web::testing::scenarios!(fixture => structure_search_filters_before_the_cap, recipient_search_counts_every_match);
