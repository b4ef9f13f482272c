//! Behaviour tests of the Chorus Pro-compatible API against the real server (port 0, fresh
//! database per test; SQLite always, PostgreSQL too when `FACTEUR_TEST_PG_URL` is set).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use facteur_app::{Actor, TechnicalCredentials};
use facteur_domain::{
    IdentifierKind, Service, ServiceCode, Structure, StructureId, StructureIdentifier, StructureKind,
};
use facteur_web::testing::{Backend, TEST_TOKEN_SECRET, TestApp, spawn};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PUBLIC_SIRET: &str = "21750001600019";
const SUPPLIER_A_SIRET: &str = "73282932000017";
const SUPPLIER_B_SIRET: &str = "44306184100013";

struct Fixture {
    t: TestApp,
    http: reqwest::Client,
    public: StructureId,
    a: TechnicalCredentials,
    b: TechnicalCredentials,
}

fn structure(siret: &str, kind: StructureKind, name: &str) -> Structure {
    let id = StructureIdentifier::parse(IdentifierKind::Siret, siret).unwrap();
    let mut s = Structure::new(id, kind, name).unwrap();
    s.address.postcode = "75001".to_owned();
    s.address.city = "Paris".to_owned();
    s.address.country = "FR".to_owned();
    s
}

async fn fixture(backend: Backend) -> Option<Fixture> {
    let t = spawn(backend).await?;
    let op = Actor::Operator;
    let mut public = structure(PUBLIC_SIRET, StructureKind::Public, "Mairie de Testville");
    public.parameters.service_code_required = true;
    let mut compta = Service::new(ServiceCode::parse("COMPTA").unwrap(), "Comptabilité");
    compta.parameters.engagement_required = true;
    let public = t.app.upsert_structure(&op, public, vec![compta]).await.unwrap();
    let a = t
        .app
        .upsert_structure(
            &op,
            structure(SUPPLIER_A_SIRET, StructureKind::Private, "Fournisseur A"),
            vec![],
        )
        .await
        .unwrap();
    let b = t
        .app
        .upsert_structure(
            &op,
            structure(SUPPLIER_B_SIRET, StructureKind::Private, "Fournisseur B"),
            vec![Service::new(ServiceCode::parse("SECRET-B").unwrap(), "Service B")],
        )
        .await
        .unwrap();
    let a = t.app.create_technical_account(&op, a).await.unwrap();
    let b = t.app.create_technical_account(&op, b).await.unwrap();
    Some(Fixture {
        t,
        http: reqwest::Client::new(),
        public,
        a,
        b,
    })
}

fn cpro_account(c: &TechnicalCredentials) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.login, c.password))
}

impl Fixture {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.t.address, path)
    }

    async fn token_response(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("/api/oauth/token"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    async fn token(&self, c: &TechnicalCredentials) -> String {
        let r = self
            .token_response(&[
                ("grant_type", "client_credentials"),
                ("client_id", &c.client_id),
                ("client_secret", &c.client_secret),
                ("scope", "openid"),
            ])
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        v["access_token"].as_str().unwrap().to_owned()
    }

    /// POST a `/cpro/` service with explicit credentials (`None` leaves a header out).
    async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        account: Option<&str>,
        body: &Value,
    ) -> (StatusCode, Value) {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(a) = account {
            req = req.header("cpro-account", a);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// POST as the technical account `c`, asserting HTTP 200.
    async fn post_as(&self, c: &TechnicalCredentials, path: &str, body: Value) -> Value {
        let token = self.token(c).await;
        let (status, v) = self.post_raw(path, Some(&token), Some(&cpro_account(c)), &body).await;
        assert_eq!(status, StatusCode::OK, "{path}: {v}");
        v
    }
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

fn assert_ok(v: &Value) {
    assert_eq!(v["codeRetour"], 0, "{v}");
    assert!(v["libelle"].is_string(), "{v}");
}

async fn token_flow_then_health_check(f: Fixture) {
    let r = f
        .token_response(&[
            ("grant_type", "client_credentials"),
            ("client_id", &f.a.client_id),
            ("client_secret", &f.a.client_secret),
            ("scope", "openid"),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    assert_eq!(v["scope"], "openid");
    let token = v["access_token"].as_str().unwrap();
    let r = f
        .http
        .get(f.url("/cpro/transverses/v1/health-check"))
        .bearer_auth(token)
        .header("cpro-account", cpro_account(&f.a))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(keys(&v), ["body", "statusCode", "statusCodeValue"]);
    assert_eq!(v["statusCodeValue"], 200);
}

async fn token_endpoint_refuses_wrong_secret_grant_and_scope(f: Fixture) {
    let wrong = f
        .token_response(&[
            ("grant_type", "client_credentials"),
            ("client_id", &f.a.client_id),
            ("client_secret", "not-the-secret"),
        ])
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let v: Value = wrong.json().await.unwrap();
    assert_eq!(v["error"], "invalid_client");
    assert!(v.get("access_token").is_none());

    // B's secret does not open A's client.
    let crossed = f
        .token_response(&[
            ("grant_type", "client_credentials"),
            ("client_id", &f.a.client_id),
            ("client_secret", &f.b.client_secret),
        ])
        .await;
    assert_eq!(crossed.status(), StatusCode::UNAUTHORIZED);

    let grant = f
        .token_response(&[
            ("grant_type", "password"),
            ("client_id", &f.a.client_id),
            ("client_secret", &f.a.client_secret),
        ])
        .await;
    assert_eq!(grant.status(), StatusCode::BAD_REQUEST);
    assert_eq!(grant.json::<Value>().await.unwrap()["error"], "unsupported_grant_type");

    let scope = f
        .token_response(&[
            ("grant_type", "client_credentials"),
            ("client_id", &f.a.client_id),
            ("client_secret", &f.a.client_secret),
            ("scope", "admin"),
        ])
        .await;
    assert_eq!(scope.json::<Value>().await.unwrap()["error"], "invalid_scope");

    // HTTP Basic client authentication: good pair works, bad pair is 401 (RFC 6749 §5.2).
    let basic_ok = f
        .http
        .post(f.url("/api/oauth/token"))
        .basic_auth(&f.a.client_id, Some(&f.a.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(basic_ok.status(), StatusCode::OK);
    let basic_bad = f
        .http
        .post(f.url("/api/oauth/token"))
        .basic_auth(&f.a.client_id, Some("nope"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(basic_bad.status(), StatusCode::UNAUTHORIZED);
}

fn forged_token(secret: &[u8], structure: i64, iat: u64, exp: u64) -> String {
    let claims = json!({
        "sub": "forged", "structure": structure, "scope": "openid",
        "iss": "facteur", "aud": "facteur-api", "iat": iat, "exp": exp,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn expired_or_forged_tokens_are_refused(f: Fixture) {
    let account = cpro_account(&f.a);
    let body = json!({});
    let path = "/cpro/transverses/v1/recuperer/typeidentifiant/structure";
    // Control: a fresh token signed with the server's key works…
    let good = forged_token(TEST_TOKEN_SECRET, f.a.structure_id.get(), now(), now() + 600);
    assert_eq!(
        f.post_raw(path, Some(&good), Some(&account), &body).await.0,
        StatusCode::OK
    );
    // …the same token expired does not…
    let expired = forged_token(TEST_TOKEN_SECRET, f.a.structure_id.get(), now() - 7200, now() - 3600);
    let r = f
        .http
        .post(f.url(path))
        .bearer_auth(&expired)
        .header("cpro-account", &account)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    // …nor one signed with another key, nor garbage.
    let foreign = forged_token(
        b"some-other-secret-some-other-secret!!",
        f.a.structure_id.get(),
        now(),
        now() + 600,
    );
    assert_eq!(
        f.post_raw(path, Some(&foreign), Some(&account), &body).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        f.post_raw(path, Some("abc.def.ghi"), Some(&account), &body).await.0,
        StatusCode::UNAUTHORIZED
    );
}

async fn both_credentials_are_required_and_must_match(f: Fixture) {
    let path = "/cpro/utilisateurs/v1/monCompte/recuperer/rattachements";
    let body = json!({});
    let token_a = f.token(&f.a).await;
    let account_a = cpro_account(&f.a);

    let (s, v) = f.post_raw(path, None, Some(&account_a), &body).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["codeRetour"], 401);

    let (s, _) = f.post_raw(path, Some(&token_a), None, &body).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "missing cpro-account");

    let wrong_password = base64::engine::general_purpose::STANDARD.encode(format!("{}:wrong", f.a.login));
    let (s, _) = f.post_raw(path, Some(&token_a), Some(&wrong_password), &body).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "wrong password");

    let (s, _) = f.post_raw(path, Some(&token_a), Some("%%%not-base64"), &body).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "malformed header");

    // A's token with B's technical account: each secret is valid, together they are refused,
    // with the answer a wrong password gets (A learns nothing about B's account).
    let (s, v) = f.post_raw(path, Some(&token_a), Some(&cpro_account(&f.b)), &body).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");

    let (s, v) = f.post_raw(path, Some(&token_a), Some(&account_a), &body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

async fn malformed_json_gets_the_envelope(f: Fixture) {
    let token = f.token(&f.a).await;
    // A service whose body is optional reads no body as `{}`, but whitespace alone is not JSON.
    let cases = [
        (
            "/cpro/structures/v1/consulter",
            "{\"idStructureCPP\": ",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/cpro/utilisateurs/v1/monCompte/recuperer/rattachements",
            "",
            StatusCode::OK,
        ),
        (
            "/cpro/utilisateurs/v1/monCompte/recuperer/rattachements",
            "\t",
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (path, body, status) in cases {
        let r = f
            .http
            .post(f.url(path))
            .bearer_auth(&token)
            .header("cpro-account", cpro_account(&f.a))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{path} with body {body:?}");
        if status == StatusCode::BAD_REQUEST {
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["codeRetour"], 400, "{path} with body {body:?}");
        }
    }
}

async fn structure_services_answer_with_the_spec_field_names(f: Fixture) {
    // structures/v1/rechercher
    let v = f
        .post_as(
            &f.a,
            "/cpro/structures/v1/rechercher",
            json!({"structure": {"identifiantStructure": PUBLIC_SIRET, "typeIdentifiantStructure": "SIRET"},
                   "parametres": {"nbResultatsParPage": 10, "pageResultatDemandee": 1}}),
        )
        .await;
    assert_ok(&v);
    assert_eq!(
        keys(&v),
        ["codeRetour", "libelle", "listeStructures", "parametresRetour"]
    );
    let list = v["listeStructures"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{v}");
    assert_eq!(
        keys(&list[0]),
        [
            "designationStructure",
            "idStructureCPP",
            "identifiantStructure",
            "statut",
            "typeIdentifiantStructure"
        ]
    );
    assert_eq!(list[0]["idStructureCPP"], f.public.get());
    assert_eq!(list[0]["statut"], "ACTIVE");
    assert_eq!(
        keys(&v["parametresRetour"]),
        ["nbResultatsParPage", "pageCourante", "pages", "total"]
    );
    assert_eq!(v["parametresRetour"]["total"], 1);

    // structures/v1/consulter (a public structure)
    let v = f
        .post_as(
            &f.a,
            "/cpro/structures/v1/consulter",
            json!({"idStructureCPP": f.public.get(), "codeLangue": "FR"}),
        )
        .await;
    assert_ok(&v);
    assert_eq!(
        keys(&v),
        [
            "adressePostaleDuSiege",
            "codeRetour",
            "informationGenerales",
            "libelle",
            "parametres"
        ]
    );
    let info = &v["informationGenerales"];
    for k in [
        "idStructureCPP",
        "identifiantStructure",
        "typeIdentifiantStructure",
        "libelleStructure",
        "raisonSocialeStructure",
        "structurePriveePublique",
        "numeroTVA",
        "listeStructureDupliquees",
        "dateExpirationMotPasseCompteTech",
    ] {
        assert!(info.get(k).is_some(), "missing {k}: {info}");
    }
    assert_eq!(info["structurePriveePublique"], "PUBLIQUE");
    assert_eq!(
        info["dateExpirationMotPasseCompteTech"],
        Value::Null,
        "not the caller's structure"
    );
    assert_eq!(v["parametres"]["codeServiceDoitEtreRenseigne"], true);
    assert_eq!(v["parametres"]["numeroEJDoitEtreRenseigne"], false);
    for k in [
        "gestionNumeroEJOuCodeService",
        "statutMiseEnPaiementNestPasRemonte",
        "aMoa",
        "estMoaUniquement",
    ] {
        assert!(v["parametres"].get(k).is_some(), "missing {k}");
    }
    for k in [
        "adresse",
        "codePostal",
        "ville",
        "pays",
        "complementAdresse1",
        "telephone",
    ] {
        assert!(v["adressePostaleDuSiege"].get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["adressePostaleDuSiege"]["codePostal"], "75001");

    // Own structure: the technical password's expiry is shown (`idStructure` alias accepted).
    let v = f
        .post_as(
            &f.a,
            "/cpro/structures/v1/consulter",
            json!({"idStructure": f.a.structure_id.get()}),
        )
        .await;
    assert_ok(&v);
    assert_eq!(v["informationGenerales"]["structurePriveePublique"], "PRIVEE");
    assert_eq!(v["informationGenerales"]["identifiantStructure"], SUPPLIER_A_SIRET);

    // structures/v1/rechercher/services
    let v = f
        .post_as(
            &f.a,
            "/cpro/structures/v1/rechercher/services",
            json!({"idStructure": f.public.get(), "parametresRechercherServicesStructure": {"nbResultatsParPage": 50}}),
        )
        .await;
    assert_ok(&v);
    assert_eq!(keys(&v), ["codeRetour", "libelle", "listeServices", "parametresRetour"]);
    let services = v["listeServices"].as_array().unwrap();
    let compta = services
        .iter()
        .find(|s| s["codeService"] == "COMPTA")
        .expect("COMPTA listed");
    assert_eq!(
        keys(compta),
        [
            "codeService",
            "dateDbtService",
            "dateFinService",
            "estActif",
            "idService",
            "libelleService",
            "statutService"
        ]
    );
    assert_eq!(compta["libelleService"], "Comptabilité");
    let id_service = compta["idService"].as_i64().unwrap();

    // structures/v1/consulter/service
    let v = f
        .post_as(
            &f.a,
            "/cpro/structures/v1/consulter/service",
            json!({"idStructure": f.public.get(), "idService": id_service}),
        )
        .await;
    assert_ok(&v);
    assert_eq!(
        keys(&v),
        [
            "adressePostale",
            "codeRetour",
            "informationsGenerales",
            "libelle",
            "parametres"
        ]
    );
    assert_eq!(
        keys(&v["informationsGenerales"]),
        ["codeService", "descriptionService", "nomService"]
    );
    assert_eq!(v["informationsGenerales"]["codeService"], "COMPTA");
    assert_eq!(v["parametres"]["numeroEngagement"], true);
    for k in [
        "miseEnPaiement",
        "dateCreation",
        "dateDebutValidite",
        "dateFinValidite",
        "dateModification",
    ] {
        assert!(v["parametres"].get(k).is_some(), "missing {k}");
    }
}

async fn transverse_and_account_services_answer_with_the_spec_field_names(f: Fixture) {
    let v = f
        .post_as(
            &f.a,
            "/cpro/transverses/v1/rechercher/destinataire",
            json!({"nomVilleCodePostal": "Testville", "parametresRecherche": {"nbResultatsParPage": 5}}),
        )
        .await;
    assert_ok(&v);
    assert_eq!(
        keys(&v),
        ["codeRetour", "libelle", "listeDestinataires", "parametresRetour"]
    );
    let list = v["listeDestinataires"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{v}");
    assert_eq!(
        keys(&list[0]),
        [
            "adresseCodePostal",
            "adresseVille",
            "idStructureCPP",
            "nomDestinataire",
            "siret"
        ]
    );
    assert_eq!(list[0]["siret"], PUBLIC_SIRET);
    // Private suppliers are not recipients.
    let v = f
        .post_as(
            &f.a,
            "/cpro/transverses/v1/rechercher/destinataire",
            json!({"identifiant": SUPPLIER_B_SIRET}),
        )
        .await;
    assert_eq!(v["listeDestinataires"].as_array().unwrap().len(), 0, "{v}");

    let v = f
        .post_as(
            &f.a,
            "/cpro/transverses/v1/telecharger/annuaire/destinataire",
            json!({}),
        )
        .await;
    assert_ok(&v);
    assert_eq!(keys(&v), ["codeRetour", "fichierResultat", "libelle"]);
    let csv = base64::engine::general_purpose::STANDARD
        .decode(v["fichierResultat"].as_str().unwrap())
        .unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains(PUBLIC_SIRET), "{csv}");
    assert!(
        !csv.contains(SUPPLIER_B_SIRET),
        "private structures stay out of the directory"
    );

    let v = f
        .post_as(
            &f.a,
            "/cpro/transverses/v1/recuperer/typeidentifiant/structure",
            json!({}),
        )
        .await;
    assert_ok(&v);
    let kinds: Vec<&str> = v["listeTypeIdentifiant"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["typeIdentifiantStructure"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "SIRET",
            "UE_HORS_FRANCE",
            "HORS_UE",
            "RIDET",
            "TAHITI",
            "PARTICULIER",
            "AUTRE"
        ]
    );

    let v = f
        .post_as(
            &f.b,
            "/cpro/utilisateurs/v1/monCompte/recuperer/rattachements",
            json!({"parametresRecherche": {"nbResultatsParPage": 10}}),
        )
        .await;
    assert_ok(&v);
    assert_eq!(
        keys(&v),
        [
            "codeRetour",
            "libelle",
            "listeStructureRattachement",
            "parametresRetour"
        ]
    );
    let list = v["listeStructureRattachement"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        keys(&list[0]),
        [
            "designationStructure",
            "idRattachementStructure",
            "idStructure",
            "identifiantStructure",
            "listeServicesRattache",
            "roleUtilisateur",
            "statutRattachementStructure",
            "statutUtilisateur",
            "typeIdentifiantStructure"
        ]
    );
    assert_eq!(list[0]["identifiantStructure"], SUPPLIER_B_SIRET);
    let services = list[0]["listeServicesRattache"].as_array().unwrap();
    assert!(services.iter().any(|s| s["codeService"] == "SECRET-B"), "{v}");
}

async fn a_technical_account_cannot_read_another_private_structure(f: Fixture) {
    let b_id = f.b.structure_id.get();

    let v = f
        .post_as(&f.a, "/cpro/structures/v1/consulter", json!({"idStructureCPP": b_id}))
        .await;
    assert_eq!(v["codeRetour"], 10001, "{v}");
    assert!(v.get("informationGenerales").is_none(), "{v}");

    let v = f
        .post_as(
            &f.a,
            "/cpro/structures/v1/rechercher/services",
            json!({"idStructure": b_id}),
        )
        .await;
    assert_eq!(v["codeRetour"], 10001, "{v}");
    assert!(v.get("listeServices").is_none(), "{v}");

    // B's service id, asked through the public structure A may read: still refused.
    let services = f
        .post_as(
            &f.b,
            "/cpro/structures/v1/rechercher/services",
            json!({"idStructure": b_id}),
        )
        .await;
    let secret = services["listeServices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codeService"] == "SECRET-B")
        .unwrap()["idService"]
        .as_i64()
        .unwrap();
    let v = f
        .post_as(
            &f.a,
            "/cpro/structures/v1/consulter/service",
            json!({"idStructure": f.public.get(), "idService": secret}),
        )
        .await;
    assert_eq!(v["codeRetour"], 10001, "{v}");
    let v = f
        .post_as(
            &f.a,
            "/cpro/structures/v1/consulter/service",
            json!({"idStructure": b_id, "idService": secret}),
        )
        .await;
    assert_eq!(v["codeRetour"], 10001, "{v}");

    // Searching by B's SIRET finds nothing for A; B finds itself.
    let crit = json!({"structure": {"identifiantStructure": SUPPLIER_B_SIRET}});
    let v = f.post_as(&f.a, "/cpro/structures/v1/rechercher", crit.clone()).await;
    assert_eq!(v["listeStructures"].as_array().unwrap().len(), 0, "{v}");
    let v = f.post_as(&f.b, "/cpro/structures/v1/rechercher", crit).await;
    assert_eq!(v["listeStructures"][0]["idStructureCPP"], b_id, "{v}");

    // A's attachments name A only.
    let v = f
        .post_as(
            &f.a,
            "/cpro/utilisateurs/v1/monCompte/recuperer/rattachements",
            json!({}),
        )
        .await;
    let ids: Vec<i64> = v["listeStructureRattachement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["idStructure"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [f.a.structure_id.get()]);
}

async fn healthz_request_id_and_docs_are_served(f: Fixture) {
    let r = f.http.get(f.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("x-request-id").is_some(), "request id echoed");

    let served: Value = f
        .http
        .get(f.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let generated: Value = serde_json::from_str(&facteur_web::openapi::openapi_json()).unwrap();
    assert_eq!(served, generated);

    let r = f.http.get(f.url("/api/docs/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    for remote in ["src=\"http", "href=\"http", "src='http", "href='http"] {
        assert!(
            !html.contains(remote),
            "docs must not load anything from the network: {html}"
        );
    }
}

#[test]
fn committed_openapi_json_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi.json");
    let generated = facteur_web::openapi::openapi_json();
    // `FACTEUR_UPDATE_OPENAPI=1 cargo test …` rewrites the committed copy (like `export-openapi`).
    if std::env::var_os("FACTEUR_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi.json is stale: run `cargo run -p facteur -- export-openapi > openapi.json` at the repository root"
    );
    // Every service of the brief is documented.
    let doc: Value = serde_json::from_str(&generated).unwrap();
    for p in [
        "/api/oauth/token",
        "/cpro/transverses/v1/health-check",
        "/cpro/structures/v1/rechercher",
        "/cpro/structures/v1/consulter",
        "/cpro/structures/v1/rechercher/services",
        "/cpro/structures/v1/consulter/service",
        "/cpro/transverses/v1/rechercher/destinataire",
        "/cpro/transverses/v1/telecharger/annuaire/destinataire",
        "/cpro/transverses/v1/recuperer/typeidentifiant/structure",
        "/cpro/utilisateurs/v1/monCompte/recuperer/rattachements",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} missing from the OpenAPI document");
    }
}

#[path = "api/factures.rs"]
mod factures;
#[path = "api/structure_admin.rs"]
mod structure_admin;

facteur_web::testing::scenarios!(fixture => token_flow_then_health_check, structure_services_answer_with_the_spec_field_names, transverse_and_account_services_answer_with_the_spec_field_names, a_technical_account_cannot_read_another_private_structure, token_endpoint_refuses_wrong_secret_grant_and_scope, expired_or_forged_tokens_are_refused, both_credentials_are_required_and_must_match, malformed_json_gets_the_envelope, healthz_request_id_and_docs_are_served);
