//! The invoice loop over HTTP, between demo structures: a supplier deposits (`SAISIE_API`), public
//! recipients process, the supplier follows every step; returned invoices are recycled or
//! acknowledged; bad input is refused with every finding and changes nothing. Each scenario is rich
//! on purpose (CI time): one server per scenario and backend.

use facteur_app::TechnicalCredentials;
use facteur_app::demo::seed;
use serde_json::{Value, json};

use super::{Fixture, assert_ok, cpro_account, fixture};

const BAKERY: &str = "51234567900017";
const IT_FIRM: &str = "81234567600017";
/// No requirement.
const COMMUNE: &str = "21990001600011";
/// Service code required (FIN01, VOIRIE).
const DEPARTEMENT: &str = "22990001400015";
/// Engagement number required.
const HOSPITAL: &str = "26990001500018";

const SOUMETTRE: &str = "/cpro/factures/v1/soumettre";
const TRAITER: &str = "/cpro/factures/v1/traiter/recue";
const HISTORIQUE: &str = "/cpro/factures/v1/consulter/historique";

struct Loop {
    f: Fixture,
    /// (SIRET, technical account) of every demo structure.
    creds: Vec<(String, TechnicalCredentials)>,
}

async fn demo(backend: facteur_web::testing::Backend) -> Option<Loop> {
    let f = fixture(backend).await?;
    let seeded = seed(&f.t.app, &f.t.data_dir).await.unwrap();
    let mut creds = Vec::new();
    for t in &seeded.technical_accounts {
        let id =
            facteur_domain::StructureIdentifier::parse(facteur_domain::IdentifierKind::Siret, &t.structure).unwrap();
        let s =
            f.t.app
                .store()
                .find_structure_by_identifier(&id)
                .await
                .unwrap()
                .unwrap();
        creds.push((
            t.structure.clone(),
            TechnicalCredentials {
                structure_id: s.id,
                login: t.login.clone(),
                password: t.password.clone(),
                client_id: t.client_id.clone(),
                client_secret: t.client_secret.clone(),
                password_expires_at: time::OffsetDateTime::now_utc(),
            },
        ));
    }
    Some(Loop { f, creds })
}

impl Loop {
    fn tech(&self, siret: &str) -> &TechnicalCredentials {
        &self.creds.iter().find(|(s, _)| s == siret).unwrap().1
    }

    async fn post(&self, siret: &str, path: &str, body: Value) -> Value {
        self.f.post_as(self.tech(siret), path, body).await
    }

    /// A deposit by the bakery with an `Idempotency-Key` header.
    async fn deposit_with_key(&self, body: &Value, key: &str) -> Value {
        let c = self.tech(BAKERY);
        let token = self.f.token(c).await;
        let r = self
            .f
            .http
            .post(self.f.url(SOUMETTRE))
            .bearer_auth(token)
            .header("cpro-account", cpro_account(c))
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        r.json().await.unwrap()
    }

    async fn status_of(&self, siret: &str, id: i64) -> String {
        let v = self.post(siret, HISTORIQUE, json!({"idFacture": id})).await;
        assert_ok(&v);
        v["statutCourantCode"].as_str().unwrap().to_owned()
    }

    async fn found(&self, siret: &str, path: &str, number: &str) -> Vec<Value> {
        let v = self.post(siret, path, json!({"numeroFacture": number})).await;
        assert_ok(&v);
        v["listeFactures"].as_array().unwrap().clone()
    }
}

/// A consistent `SAISIE_API` invoice of 2 × 500.00 + 20 % VAT.
fn invoice(number: &str, recipient: &str, service: Option<&str>, engagement: Option<&str>) -> Value {
    json!({
        "modeDepot": "SAISIE_API",
        "numeroFactureSaisi": number,
        "dateFacture": "2026-03-02",
        "idUtilisateurCourant": 0,
        "destinataire": {"codeDestinataire": recipient, "codeServiceExecutant": service},
        "fournisseur": {},
        "cadreDeFacturation": {"codeCadreFacturation": "A1_FACTURE_FOURNISSEUR"},
        "references": {
            "deviseFacture": "EUR", "typeFacture": "FACTURE", "typeTva": "TVA_SUR_DEBIT",
            "modePaiement": "VIREMENT", "numeroBonCommande": engagement
        },
        "lignePoste": [{
            "lignePosteNumero": 1, "lignePosteReference": "SUP-12", "lignePosteDenomination": "Support annuel",
            "lignePosteQuantite": 2, "lignePosteUnite": "lot", "lignePosteMontantUnitaireHT": 500.00,
            "lignePosteMontantRemiseHT": 0, "lignePosteTauxTva": "TVA20"
        }],
        "ligneTva": [{"ligneTvaTaux": "TVA20", "ligneTvaMontantBaseHtParTaux": 1000.00, "ligneTvaMontantTvaParTaux": 200.00}],
        "montantTotal": {"montantHtTotal": 1000.00, "montantTVA": 200.00, "montantTtcTotal": 1200.00, "montantAPayer": 1200.00},
        "commentaire": "Marché 2025-17"
    })
}

fn refused(v: &Value, code: i64) {
    assert_eq!(v["codeRetour"], code, "{v}");
}

fn finding_codes(v: &Value) -> Vec<String> {
    refused(v, 20003);
    let mut codes: Vec<String> = v["listeErreurs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(
                e["libelleErreur"].is_string() && e["libelleErreurEn"].is_string(),
                "{e}"
            );
            e["codeErreur"].as_str().unwrap().to_owned()
        })
        .collect();
    codes.sort();
    codes
}

async fn an_invoice_goes_from_deposit_to_payment_and_the_supplier_sees_each_step(l: Loop) {
    let body = invoice("LOOP-001", COMMUNE, None, None);
    let v = l.deposit_with_key(&body, "loop-001-key").await;
    assert_ok(&v);
    assert_eq!(v["statutFacture"], "MISE_A_DISPOSITION");
    assert_eq!(v["numeroFacture"], "LOOP-001");
    assert_eq!(v["identifiantStructure"], BAKERY);
    assert_eq!(v["empreinteCertificatDepot"].as_str().unwrap().len(), 64);
    let id = v["identifiantFactureCPP"].as_i64().unwrap();

    // Retries answer the first deposit and create nothing: same key, or same bytes within 24 h.
    let again = l.deposit_with_key(&body, "loop-001-key").await;
    assert_eq!(again["identifiantFactureCPP"], id, "{again}");
    assert_eq!(again["dateDepot"], v["dateDepot"]);
    let same_bytes = l.post(BAKERY, SOUMETTRE, body.clone()).await;
    assert_eq!(same_bytes["identifiantFactureCPP"], id, "{same_bytes}");
    assert_eq!(
        l.found(BAKERY, "/cpro/factures/v1/rechercher/fournisseur", "LOOP-001")
            .await
            .len(),
        1
    );

    // Both sides see it, with the deposit date; an outsider and the wrong side do not.
    let seen = l
        .post(
            COMMUNE,
            "/cpro/factures/v1/consulter/recipiendaire",
            json!({"identifiantFactureCPP": id}),
        )
        .await;
    assert_ok(&seen);
    assert_eq!(seen["fournisseur"]["identifiant"], BAKERY);
    assert_eq!(seen["montantTotal"]["montantTtcTotal"], 1200.0);
    assert_eq!(seen["dateDepot"], v["dateDepot"]);
    let mine = l
        .post(
            BAKERY,
            "/cpro/factures/v1/consulter/fournisseur",
            json!({"identifiantFactureCPP": id}),
        )
        .await;
    assert_eq!(mine["destinataire"]["identifiant"], COMMUNE, "{mine}");
    for (siret, path) in [
        (BAKERY, "/cpro/factures/v1/consulter/recipiendaire"),
        (IT_FIRM, "/cpro/factures/v1/consulter/fournisseur"),
        (IT_FIRM, HISTORIQUE),
        (DEPARTEMENT, "/cpro/factures/v1/consulter/recipiendaire"),
    ] {
        let body = if path == HISTORIQUE {
            json!({"idFacture": id})
        } else {
            json!({"identifiantFactureCPP": id})
        };
        let v = l.post(siret, path, body).await;
        refused(&v, 10001);
    }

    // What each side may do now, from the lifecycle table.
    let etats = "/cpro/transverses/v1/recuperer/etats/traitement";
    let offered = l.post(COMMUNE, etats, json!({"idFacture": id})).await;
    assert_ok(&offered);
    let list: Vec<&str> = offered["listeStatutsPossiblesPourTraitement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["statutPossiblePourTraitement"].as_str().unwrap())
        .collect();
    assert!(
        list.contains(&"SUSPENDUE") && list.contains(&"MISE_EN_PAIEMENT"),
        "{list:?}"
    );
    let supplier_offer = l.post(BAKERY, etats, json!({"idFacture": id})).await;
    assert_eq!(supplier_offer["listeStatutsPossiblesPourTraitement"], json!([]));

    // The supplier may not process its own invoice; a suspension needs a motive; nothing changes.
    let v = l
        .post(
            BAKERY,
            TRAITER,
            json!({"idFacture": id, "nouveauStatut": "SERVICE_FAIT"}),
        )
        .await;
    refused(&v, 20001);
    let v = l
        .post(COMMUNE, TRAITER, json!({"idFacture": id, "nouveauStatut": "SUSPENDUE"}))
        .await;
    refused(&v, 10002);
    assert_eq!(l.status_of(BAKERY, id).await, "MISE_A_DISPOSITION");

    let v = l
        .post(
            COMMUNE,
            TRAITER,
            json!({"idFacture": id, "nouveauStatut": "SUSPENDUE", "motif": "Bon de livraison manquant"}),
        )
        .await;
    assert_ok(&v);
    assert_eq!(v["nouveauStatut"], "SUSPENDUE");
    let v = l
        .post(
            BAKERY,
            "/cpro/factures/v1/completer",
            json!({"identifiantFactureCPP": id, "commentaire": "Bon de livraison n° 42\nenvoyé par courrier"}),
        )
        .await;
    assert_ok(&v);
    for to in ["SERVICE_FAIT", "MISE_EN_PAIEMENT"] {
        let v = l
            .post(COMMUNE, TRAITER, json!({"idFacture": id, "nouveauStatut": to}))
            .await;
        assert_ok(&v);
    }
    // Terminal.
    let v = l
        .post(COMMUNE, TRAITER, json!({"idFacture": id, "nouveauStatut": "MANDATEE"}))
        .await;
    refused(&v, 20002);

    // The supplier sees every status and motive, newest first.
    let h = l.post(BAKERY, HISTORIQUE, json!({"idFacture": id})).await;
    assert_ok(&h);
    assert_eq!(h["statutCourantCode"], "MISE_EN_PAIEMENT");
    let lines = h["historiquesDesStatuts"]["histoStatut"].as_array().unwrap();
    let codes: Vec<&str> = lines.iter().map(|s| s["histoStatutCode"].as_str().unwrap()).collect();
    assert_eq!(
        codes,
        [
            "MISE_EN_PAIEMENT",
            "SERVICE_FAIT",
            "COMPLETEE",
            "SUSPENDUE",
            "MISE_A_DISPOSITION",
            "DEPOSEE"
        ]
    );
    assert_eq!(lines[3]["histoStatutCommentaire"], "Bon de livraison manquant");
    assert_eq!(
        lines[2]["histoStatutCommentaire"],
        "Bon de livraison n° 42\nenvoyé par courrier"
    );
    assert_eq!(h["historiquesDesStatuts"]["totalHistoStatut"], 6);

    // Searches on both sides, with their filters.
    let mine = l
        .found(BAKERY, "/cpro/factures/v1/rechercher/fournisseur", "LOOP-001")
        .await;
    assert_eq!(mine[0]["statut"], "MISE_EN_PAIEMENT");
    assert_eq!(mine[0]["codeDestinataire"], COMMUNE);
    let paid = l
        .post(
            COMMUNE,
            "/cpro/factures/v1/rechercher/recipiendaire",
            json!({"statutCourant": ["MISE_EN_PAIEMENT"], "paramRecherche": {"nbResultatsParPage": 5}}),
        )
        .await;
    assert_ok(&paid);
    let list = paid["listeFactures"].as_array().unwrap();
    assert!(list.iter().any(|f| f["idFacture"] == id), "{paid}");
    assert!(list.iter().all(|f| f["statut"] == "MISE_EN_PAIEMENT"), "{paid}");
    assert_eq!(paid["parametresRetour"]["nbResultatsParPage"], 5);
    assert!(
        l.found(IT_FIRM, "/cpro/factures/v1/rechercher/fournisseur", "LOOP-001")
            .await
            .is_empty()
    );
}

async fn returned_invoices_are_recycled_or_rejected_and_acknowledged(l: Loop) {
    let recycler = "/cpro/factures/v1/recycler";
    let v = l
        .post(BAKERY, SOUMETTRE, invoice("LOOP-010", COMMUNE, None, None))
        .await;
    assert_ok(&v);
    let id = v["identifiantFactureCPP"].as_i64().unwrap();
    // A_RECYCLER needs a motive too.
    let v = l
        .post(
            COMMUNE,
            TRAITER,
            json!({"idFacture": id, "nouveauStatut": "A_RECYCLER"}),
        )
        .await;
    refused(&v, 10002);
    let v = l
        .post(
            COMMUNE,
            TRAITER,
            json!({"idFacture": id, "nouveauStatut": "A_RECYCLER", "motif": "Adressez-la au Département"}),
        )
        .await;
    assert_ok(&v);

    // A re-routing never changes the number, and passes the deposit's checks; refusals change nothing.
    let v = l
        .post(
            BAKERY,
            recycler,
            json!({"identifiantFactureCPP": id, "numeroFacture": "LOOP-011",
                   "destinataire": {"codeDestinataire": DEPARTEMENT, "codeServiceExecutant": "FIN01"}}),
        )
        .await;
    refused(&v, 10002);
    let v = l
        .post(
            BAKERY,
            recycler,
            json!({"identifiantFactureCPP": id, "destinataire": {"codeDestinataire": DEPARTEMENT}}),
        )
        .await;
    assert_eq!(finding_codes(&v), ["FP-SERV-01"]);
    // Only the supplier recycles.
    let v = l
        .post(
            COMMUNE,
            recycler,
            json!({"identifiantFactureCPP": id, "destinataire": {"codeDestinataire": DEPARTEMENT, "codeServiceExecutant": "FIN01"}}),
        )
        .await;
    refused(&v, 10001);
    assert_eq!(l.status_of(BAKERY, id).await, "A_RECYCLER");

    let v = l
        .post(
            BAKERY,
            recycler,
            json!({"identifiantFactureCPP": id, "numeroFacture": "LOOP-010", "commentaire": "Nouveau destinataire",
                   "destinataire": {"codeDestinataire": DEPARTEMENT, "codeServiceExecutant": "FIN01"},
                   "reference": {"numeroBonCommande": "EJ-77"}}),
        )
        .await;
    assert_ok(&v);
    assert_eq!(v["statutFacture"], "MISE_A_DISPOSITION");
    assert_eq!(v["numeroFacture"], "LOOP-010");
    let seen = l
        .post(
            DEPARTEMENT,
            "/cpro/factures/v1/consulter/recipiendaire",
            json!({"identifiantFactureCPP": id}),
        )
        .await;
    assert_ok(&seen);
    assert_eq!(seen["destinataire"]["codeServiceExecutant"], "FIN01");
    assert_eq!(seen["numeroBonCommande"], "EJ-77");
    let old = l
        .post(
            COMMUNE,
            "/cpro/factures/v1/consulter/recipiendaire",
            json!({"identifiantFactureCPP": id}),
        )
        .await;
    refused(&old, 10001);

    // Rejected → acknowledged once → a new invoice with a new number.
    let v = l
        .post(
            BAKERY,
            SOUMETTRE,
            invoice("LOOP-020", HOSPITAL, None, Some("EJ-2026-1")),
        )
        .await;
    assert_ok(&v);
    let rejected = v["identifiantFactureCPP"].as_i64().unwrap();
    let v = l
        .post(
            HOSPITAL,
            TRAITER,
            json!({"idFacture": rejected, "nouveauStatut": "REJETEE", "motif": "Prix unitaire erroné"}),
        )
        .await;
    assert_ok(&v);
    let ack =
        json!({"listeDemandePaiement": [{"idDemandePaiement": rejected}], "motifRejet": "Nouvelle facture émise"});
    let v = l.post(HOSPITAL, "/cpro/factures/v1/traiterRejet", ack.clone()).await;
    refused(&v, 10001);
    let v = l.post(BAKERY, "/cpro/factures/v1/traiterRejet", ack.clone()).await;
    assert_ok(&v);
    assert_eq!(v["listeDemandePaiement"][0]["rejetTraite"], true);
    let v = l.post(BAKERY, "/cpro/factures/v1/traiterRejet", ack).await;
    refused(&v, 20002);
    let v = l
        .post(
            HOSPITAL,
            TRAITER,
            json!({"idFacture": rejected, "nouveauStatut": "SERVICE_FAIT"}),
        )
        .await;
    refused(&v, 20002);
    let v = l
        .post(
            BAKERY,
            SOUMETTRE,
            invoice("LOOP-021", HOSPITAL, None, Some("EJ-2026-1")),
        )
        .await;
    assert_ok(&v);
    let mine = l
        .found(BAKERY, "/cpro/factures/v1/rechercher/fournisseur", "LOOP-020")
        .await;
    assert_eq!(
        (mine[0]["statut"].as_str(), mine[0]["rejetTraite"].as_bool()),
        (Some("REJETEE"), Some(true))
    );
}

async fn bad_deposits_are_refused_with_every_finding_and_change_nothing(l: Loop) {
    // Several platform rules at once: engagement missing, number too long, totals wrong.
    let mut bad = invoice("LOOP-0123456789012345", HOSPITAL, None, None);
    bad["montantTotal"]["montantHtTotal"] = json!(999.99);
    let v = l.post(BAKERY, SOUMETTRE, bad).await;
    assert_eq!(finding_codes(&v), ["FP-EJ-01", "FP-MNT-01", "FP-MNT-03", "FP-NUM-01"]);
    let first = &v["listeErreurs"][0];
    assert!(first["champ"].is_string(), "{v}");

    // Unknown recipient; a private one; an unknown service; VAT lines that do not add up.
    let v = l
        .post(BAKERY, SOUMETTRE, invoice("LOOP-030", "21990001600029", None, None))
        .await;
    assert_eq!(finding_codes(&v), ["FP-DEST-01"]);
    let v = l
        .post(BAKERY, SOUMETTRE, invoice("LOOP-031", IT_FIRM, None, None))
        .await;
    assert_eq!(finding_codes(&v), ["FP-DEST-02"]);
    let v = l
        .post(BAKERY, SOUMETTRE, invoice("LOOP-032", DEPARTEMENT, Some("NOPE"), None))
        .await;
    assert_eq!(finding_codes(&v), ["FP-SERV-02"]);
    let mut vat = invoice("LOOP-033", COMMUNE, None, None);
    vat["ligneTva"][0]["ligneTvaMontantTvaParTaux"] = json!(190.00);
    vat["montantTotal"] =
        json!({"montantHtTotal": 1000.00, "montantTVA": 190.00, "montantTtcTotal": 1190.00, "montantAPayer": 1190.00});
    let v = l.post(BAKERY, SOUMETTRE, vat).await;
    assert_eq!(finding_codes(&v), ["FP-TVA-02"]);
    // Bank details must be the supplier's own; someone else's supplier id is refused.
    let mut bank = invoice("LOOP-034", COMMUNE, None, None);
    bank["fournisseur"] =
        json!({"idFournisseur": l.tech(IT_FIRM).structure_id.get(), "codeCoordonneesBancairesFournisseur": 999_999});
    let v = l.post(BAKERY, SOUMETTRE, bank).await;
    assert_eq!(finding_codes(&v), ["FP-BANQ-01", "FP-FOUR-01"]);
    // DEPOT_PDF_API without its PDF; the signed-PDF mode is not taken.
    let mut pdf = invoice("LOOP-035", COMMUNE, None, None);
    pdf["modeDepot"] = json!("DEPOT_PDF_API");
    assert_eq!(
        finding_codes(&l.post(BAKERY, SOUMETTRE, pdf.clone()).await),
        ["FP-PJ-04"]
    );
    pdf["modeDepot"] = json!("DEPOT_PDF_SIGNE_API");
    refused(&l.post(BAKERY, SOUMETTRE, pdf).await, 10002);

    // The same number twice in a year (another body, so not a retry); a credit note shares it.
    let v = l
        .post(BAKERY, SOUMETTRE, invoice("LOOP-040", COMMUNE, None, None))
        .await;
    assert_ok(&v);
    let mut twice = invoice("LOOP-040", DEPARTEMENT, Some("VOIRIE"), None);
    twice["references"]["typeFacture"] = json!("AVOIR");
    let v = l.post(BAKERY, SOUMETTRE, twice).await;
    assert_eq!(finding_codes(&v), ["FP-NUM-02"]);
    // The number may be used again another year.
    let mut next_year = invoice("LOOP-040", COMMUNE, None, None);
    next_year["dateFacture"] = json!("2027-01-04");
    assert_ok(&l.post(BAKERY, SOUMETTRE, next_year).await);

    // Nothing was created by the refusals.
    for n in ["LOOP-030", "LOOP-031", "LOOP-032", "LOOP-033", "LOOP-034", "LOOP-035"] {
        assert!(
            l.found(BAKERY, "/cpro/factures/v1/rechercher/fournisseur", n)
                .await
                .is_empty(),
            "{n}"
        );
    }
    assert_eq!(
        l.found(BAKERY, "/cpro/factures/v1/rechercher/fournisseur", "LOOP-040")
            .await
            .len(),
        2
    );
}

const TELECHARGER: &str = "/cpro/factures/v1/telecharger/groupe";

/// The file of a `telecharger/groupe` answer, with its name.
fn downloaded(v: &Value) -> (String, Vec<u8>) {
    use base64::Engine as _;
    assert_ok(v);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v["fichierResultat"].as_str().unwrap())
        .unwrap();
    (v["nomFichier"].as_str().unwrap().to_owned(), bytes)
}

/// `telecharger/groupe` on the demo's invoices: the structured copy, a readable PDF, a zip for
/// several; the recipient too; a structure that is neither party gets `10001`.
async fn invoices_are_downloaded_by_their_two_parties_only(l: Loop) {
    let listed = l
        .post(BAKERY, "/cpro/factures/v1/rechercher/fournisseur", json!({}))
        .await;
    assert_ok(&listed);
    let invoices = listed["listeFactures"].as_array().unwrap();
    assert!(invoices.len() >= 2, "{listed}");
    let (first, second) = (&invoices[0], &invoices[1]);
    let (id, number) = (
        first["idFacture"].as_i64().unwrap(),
        first["numeroFacture"].as_str().unwrap(),
    );
    let one = |format: &str| json!({"listeFacture": [{"idFacture": id}], "format": format});

    let (name, xml) = downloaded(&l.post(BAKERY, TELECHARGER, one("PIVOT")).await);
    assert_eq!(name, format!("{number}.xml"));
    let xml = String::from_utf8(xml).unwrap();
    assert!(xml.starts_with("<?xml") && xml.contains(number), "{xml}");
    let (name, pdf) = downloaded(&l.post(BAKERY, TELECHARGER, one("PDF")).await);
    assert_eq!(name, format!("{number}.pdf"));
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(pdf.windows(12).any(|w| w == b"factur-x.xml"), "the XML is embedded");

    // Several: one zip, an entry per invoice named after its number.
    let both = json!({"listeFacture": [{"idFacture": id}, {"idFacture": second["idFacture"]}], "format": "PIVOT"});
    let (name, zipped) = downloaded(&l.post(BAKERY, TELECHARGER, both).await);
    assert_eq!(name, "factures.zip");
    let archive = zip::ZipArchive::new(std::io::Cursor::new(zipped)).unwrap();
    let mut names: Vec<String> = archive.file_names().map(|n| n.unwrap().into_owned()).collect();
    names.sort_unstable();
    let mut expected = vec![
        format!("{number}.xml"),
        format!("{}.xml", second["numeroFacture"].as_str().unwrap()),
    ];
    expected.sort_unstable();
    assert_eq!(names, expected);

    // The recipient downloads it too; a third structure does not learn it exists.
    let recipient = first["codeDestinataire"].as_str().unwrap();
    let (_, theirs) = downloaded(&l.post(recipient, TELECHARGER, one("PIVOT")).await);
    assert_eq!(String::from_utf8(theirs).unwrap(), xml);
    assert_eq!(l.post(IT_FIRM, TELECHARGER, one("PIVOT")).await["codeRetour"], 10001);
    // Bad requests.
    assert_eq!(l.post(BAKERY, TELECHARGER, one("DOCX")).await["codeRetour"], 10002);
    let none = l.post(BAKERY, TELECHARGER, json!({"listeFacture": []})).await;
    assert_eq!(none["codeRetour"], 10002, "{none}");
}
// ---------------------------------------------------------------------------------------------
// Flows: factures/v1/deposer/flux, transverses/v1/consulterCR(Detaille)

const FLUX: &str = "/cpro/factures/v1/deposer/flux";
const CR: &str = "/cpro/transverses/v1/consulterCR";
const CR_DETAILLE: &str = "/cpro/transverses/v1/consulterCRDetaille";

/// A file of the EN 16931 corpus (read in place, never copied into the repository).
fn corpus(path: &str) -> String {
    let root = std::env::var("FACTEUR_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    std::fs::read_to_string(root.join("en16931").join(path)).unwrap()
}

/// The corpus's valid Peppol BIS 3 UBL example, numbered `number`, sold by the bakery (its
/// identifier BT-29 and legal registration BT-30 become the bakery's SIRET) and addressed to
/// `buyer` (its legal registration BT-47 becomes the SIRET; its buyer reference, which Chorus Pro
/// reads as a service code, goes).
fn ubl(number: &str, buyer: &str) -> String {
    ubl_sold_by(number, buyer, BAKERY, BAKERY)
}

/// [`ubl`] with the seller's identifier (BT-29) and legal registration (BT-30) given.
fn ubl_sold_by(number: &str, buyer: &str, seller_id: &str, seller_registration: &str) -> String {
    let xml = corpus("ubl/examples/BIS3_Invoice_positive.xml");
    let xml = xml.replacen("<cbc:ID>12345</cbc:ID>", &format!("<cbc:ID>{number}</cbc:ID>"), 1);
    let xml = xml.replace("  <cbc:BuyerReference>n/a</cbc:BuyerReference>\n", "");
    let with_siret = xml.replace(
        r#"<cbc:CompanyID schemeID="0184">DK87654321</cbc:CompanyID>"#,
        &format!(r#"<cbc:CompanyID schemeID="0009">{buyer}</cbc:CompanyID>"#),
    );
    let sold = with_siret
        .replace(
            r#"<cbc:ID schemeID="0184">DK12345678</cbc:ID>"#,
            &format!(r#"<cbc:ID schemeID="0009">{seller_id}</cbc:ID>"#),
        )
        .replace(
            r#"<cbc:CompanyID schemeID="0184">DK12345678</cbc:CompanyID>"#,
            &format!(r#"<cbc:CompanyID schemeID="0002">{seller_registration}</cbc:CompanyID>"#),
        );
    assert!(
        with_siret != xml && sold.matches(seller_registration).count() >= 1,
        "the template changed: the parties are no longer rewritten"
    );
    sold
}

/// The corpus's CII example 6, numbered `number`, sold by the bakery (BT-29), its buyer
/// identified (BT-46) by `buyer`.
fn cii(number: &str, buyer: &str) -> String {
    let xml = corpus("cii/examples/CII_example6.xml");
    let xml = xml.replacen("<ram:ID>TOSL110</ram:ID>", &format!("<ram:ID>{number}</ram:ID>"), 1);
    let with_id = xml.replacen(
        "<ram:BuyerTradeParty>",
        &format!("<ram:BuyerTradeParty><ram:ID>{buyer}</ram:ID>"),
        1,
    );
    let sold = with_id.replacen(
        "<ram:SellerTradeParty>",
        &format!("<ram:SellerTradeParty><ram:ID>{BAKERY}</ram:ID>"),
        1,
    );
    assert!(
        with_id != xml && sold != with_id,
        "the template changed: the parties are no longer rewritten"
    );
    sold
}

fn flux(file: &[u8], name: &str, syntax: &str) -> Value {
    use base64::Engine;
    json!({
        "fichierFlux": base64::engine::general_purpose::STANDARD.encode(file),
        "nomFichier": name,
        "syntaxeFlux": syntax,
        "avecSignature": false,
        "idUtilisateurCourant": 0
    })
}

impl Loop {
    /// Deposits a flow as the bakery; its `numeroFluxDepot`.
    async fn deposit_flow(&self, body: Value) -> String {
        let v = self.post(BAKERY, FLUX, body).await;
        assert_ok(&v);
        assert!(v["dateDepot"].is_string(), "{v}");
        v["numeroFluxDepot"].as_str().unwrap().to_owned()
    }

    /// Runs the job queue (as the worker does) until the flow is settled; its detailed report.
    async fn settled(&self, numero: &str) -> Value {
        for _ in 0..50 {
            self.f.t.app.run_due_jobs("test").await.unwrap();
            let v = self.post(BAKERY, CR_DETAILLE, json!({"numeroFluxDepot": numero})).await;
            assert_ok(&v);
            let state = v["etatCourantFlux"].as_str().unwrap();
            if !matches!(state, "IN_RECU" | "IN_EN_COURS_TRAITEMENT_CPP") {
                return v;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("flow {numero} not settled");
    }
}

impl Loop {
    /// Deposits a flow as `multipart/form-data` (the parts given); the answer.
    async fn multipart(&self, siret: &str, file: Option<&[u8]>, name: Option<&str>, syntax: Option<&str>) -> Value {
        self.multipart_with(siret, file, &[("nomFichier", name), ("syntaxeFlux", syntax)])
            .await
    }

    /// [`Loop::multipart`] with any text parts (`None`: left out).
    async fn multipart_with(&self, siret: &str, file: Option<&[u8]>, texts: &[(&str, Option<&str>)]) -> Value {
        const BOUNDARY: &str = "facteur-test-boundary-7d1c";
        let mut body = Vec::new();
        for &(field, value) in texts {
            if let Some(v) = value {
                body.extend_from_slice(
                    format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{v}\r\n")
                        .as_bytes(),
                );
            }
        }
        if let Some(f) = file {
            body.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"fichierFlux\"; filename=\"f\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(f);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        let c = self.tech(siret);
        let token = self.f.token(c).await;
        self.f
            .http
            .post(self.f.url(FLUX))
            .bearer_auth(&token)
            .header("cpro-account", cpro_account(c))
            .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
            .body(body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// The codes of a rejected flow's single invoice, each finding with its words.
fn rejected_codes(v: &Value) -> Vec<String> {
    assert_eq!(v["etatCourantFlux"], "IN_REJETE", "{v}");
    let dps = v["listeErreurDP"].as_array().unwrap();
    assert_eq!(dps.len(), 1, "{v}");
    dps[0]["listeErreurs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(
                !e["libelleErreur"].as_str().unwrap().is_empty() && !e["libelleErreurEn"].as_str().unwrap().is_empty(),
                "{e}"
            );
            e["codeErreur"].as_str().unwrap().to_owned()
        })
        .collect()
}

async fn structured_flows_are_integrated_and_only_their_depositor_reads_the_report(l: Loop) {
    // UBL: acknowledged received, then integrated by the queue and available to the recipient.
    let body = flux(
        ubl("FLUX-UBL-1", COMMUNE).as_bytes(),
        "facture.xml",
        "IN_DP_E1_UBL_INVOICE",
    );
    let numero = l.deposit_flow(body.clone()).await;
    assert!(numero.starts_with("CPP"), "{numero}");
    let first = l.post(BAKERY, CR, json!({"numeroFluxDepot": numero})).await;
    assert_ok(&first);
    assert!(
        matches!(
            first["etatCourantFlux"].as_str(),
            Some("IN_RECU" | "IN_EN_COURS_TRAITEMENT_CPP" | "IN_INTEGRE")
        ),
        "{first}"
    );
    assert_eq!(first["syntaxeFlux"], "IN_DP_E1_UBL_INVOICE");
    let report = l.settled(&numero).await;
    assert_eq!(report["etatCourantFlux"], "IN_INTEGRE", "{report}");
    assert_eq!(report["listeErreurDP"], json!([]));
    let seen = l
        .found(COMMUNE, "/cpro/factures/v1/rechercher/recipiendaire", "FLUX-UBL-1")
        .await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    let id = seen[0]["idFacture"]
        .as_i64()
        .or_else(|| seen[0]["identifiantFactureCPP"].as_i64());
    let id = id.unwrap_or_else(|| panic!("no invoice id in {}", seen[0]));
    assert_eq!(l.status_of(COMMUNE, id).await, "MISE_A_DISPOSITION");

    // A retry (same bytes, or the same key) answers the first flow and creates nothing.
    assert_eq!(l.deposit_flow(body.clone()).await, numero);
    let c = l.tech(BAKERY);
    let token = l.f.token(c).await;
    let keyed = |body: &Value| {
        l.f.http
            .post(l.f.url(FLUX))
            .bearer_auth(&token)
            .header("cpro-account", cpro_account(c))
            .header("Idempotency-Key", "flux-cii-1")
            .json(body)
            .send()
    };

    // CII D16B, deposited with a key; the same key again is the same flow.
    let cii_body = flux(
        cii("FLUX-CII-1", COMMUNE).as_bytes(),
        "facture-cii.xml",
        "IN_DP_E1_CII_16B",
    );
    let v: Value = keyed(&cii_body).await.unwrap().json().await.unwrap();
    assert_ok(&v);
    let cii_numero = v["numeroFluxDepot"].as_str().unwrap().to_owned();
    let again: Value = keyed(&cii_body).await.unwrap().json().await.unwrap();
    assert_eq!(again["numeroFluxDepot"], cii_numero.as_str(), "{again}");
    assert_eq!(l.settled(&cii_numero).await["etatCourantFlux"], "IN_INTEGRE");
    assert_eq!(
        l.found(BAKERY, "/cpro/factures/v1/rechercher/fournisseur", "FLUX-UBL-1")
            .await
            .len(),
        1
    );

    // Another structure (even the recipient) cannot read the flow; junk numbers are unknown.
    for (siret, numero) in [
        (IT_FIRM, numero.as_str()),
        (COMMUNE, numero.as_str()),
        (BAKERY, "CPP-1"),
    ] {
        for path in [CR, CR_DETAILLE] {
            let v = l.post(siret, path, json!({"numeroFluxDepot": numero})).await;
            refused(&v, 10001);
        }
    }
}

async fn bad_flows_are_refused_or_rejected_with_their_findings(l: Loop) {
    // Refused at once, nothing recorded: a syntax the platform does not read, bad base64.
    let v = l.post(BAKERY, FLUX, flux(b"<x/>", "f.xml", "IN_DP_E1_XCBL")).await;
    assert_eq!(finding_codes(&v), ["FP-FLUX-01"]);
    let mut bad = flux(b"<x/>", "f.xml", "IN_DP_E1_UBL_INVOICE");
    bad["fichierFlux"] = json!("not base64!");
    refused(&l.post(BAKERY, FLUX, bad).await, 10002);

    // Malformed XML: rejected with the engine's finding.
    let numero = l
        .deposit_flow(flux(b"<Invoice><cbc:ID>", "broken.xml", "IN_DP_E1_UBL_INVOICE"))
        .await;
    let v = l.settled(&numero).await;
    assert_eq!(rejected_codes(&v), ["FACTEUR-XML"]);

    // A CII declared as UBL: the syntax does not match.
    let numero = l
        .deposit_flow(flux(
            cii("FLUX-MIS-1", COMMUNE).as_bytes(),
            "f.xml",
            "IN_DP_E1_UBL_INVOICE",
        ))
        .await;
    assert_eq!(rejected_codes(&l.settled(&numero).await), ["FP-FLUX-02"]);

    // A valid UBL to an unknown recipient: its platform code, the document's own words.
    let unknown = "12345678200010";
    let numero = l
        .deposit_flow(flux(
            ubl("FLUX-DEST-1", unknown).as_bytes(),
            "f.xml",
            "IN_DP_E1_UBL_INVOICE",
        ))
        .await;
    let v = l.settled(&numero).await;
    assert_eq!(rejected_codes(&v), ["FP-DEST-01"]);
    let dp = &v["listeErreurDP"][0];
    assert_eq!(dp["numeroDP"], "FLUX-DEST-1", "{dp}");
    assert_eq!(dp["identifiantDestinataire"], unknown);
    assert_eq!(dp["listeErreurs"][0]["champ"], "BT-47");
    assert!(
        l.found(BAKERY, "/cpro/factures/v1/rechercher/fournisseur", "FLUX-DEST-1")
            .await
            .is_empty()
    );

    // The seller must be the depositor: another company's invoice is rejected; the bakery's
    // SIREN as legal registration (BT-30) is the bakery.
    let numero = l
        .deposit_flow(flux(
            ubl_sold_by("FLUX-FOUR-1", COMMUNE, IT_FIRM, IT_FIRM).as_bytes(),
            "f.xml",
            "IN_DP_E1_UBL_INVOICE",
        ))
        .await;
    let v = l.settled(&numero).await;
    assert_eq!(rejected_codes(&v), ["FP-FOUR-02"]);
    assert_eq!(v["listeErreurDP"][0]["listeErreurs"][0]["champ"], "BT-30", "{v}");
    let siren = &BAKERY[..9];
    let numero = l
        .deposit_flow(flux(
            ubl_sold_by("FLUX-FOUR-2", COMMUNE, "DK12345678", siren).as_bytes(),
            "f.xml",
            "IN_DP_E1_UBL_INVOICE",
        ))
        .await;
    assert_eq!(l.settled(&numero).await["etatCourantFlux"], "IN_INTEGRE");

    // Factur-X: the embedded CII is what is checked (this official example's buyer is no
    // structure here); a file that is no Factur-X PDF says so.
    let root = std::env::var("FACTEUR_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    let pdf = std::fs::read(root.join("facturx/pdf/official-CII_example7.pdf")).unwrap();
    let numero = l.deposit_flow(flux(&pdf, "facturx.pdf", "IN_DP_E2_CII_FACTURX")).await;
    let codes = rejected_codes(&l.settled(&numero).await);
    assert!(codes.iter().any(|c| c == "FP-DEST-01"), "{codes:?}");
    let numero = l
        .deposit_flow(flux(b"%PDF-1.7 truncated", "f.pdf", "IN_DP_E2_CII_FACTURX"))
        .await;
    assert_eq!(rejected_codes(&l.settled(&numero).await), ["FP-FLUX-03"]);

    // An engine finding carries its path and line.
    let broken = ubl("FLUX-BR-1", COMMUNE).replacen(
        "<cbc:DocumentCurrencyCode>DKK</cbc:DocumentCurrencyCode>",
        "<cbc:DocumentCurrencyCode>XXQ</cbc:DocumentCurrencyCode>",
        1,
    );
    let numero = l
        .deposit_flow(flux(broken.as_bytes(), "f.xml", "IN_DP_E1_UBL_INVOICE"))
        .await;
    let v = l.settled(&numero).await;
    let codes = rejected_codes(&v);
    assert!(codes.iter().any(|c| c == "BR-CL-04"), "{v}");
    let located = v["listeErreurDP"][0]["listeErreurs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["codeErreur"] == "BR-CL-04")
        .unwrap()
        .clone();
    assert!(located["ligne"].as_u64().is_some_and(|l| l > 0), "{located}");
    assert!(located["chemin"].is_string(), "{located}");
}

// ---------------------------------------------------------------------------------------------
// Attachments and PDF deposits: transverses/v1/ajouter/fichier, factures/v1/deposer/pdf,
// soumettre DEPOT_PDF_API, completer with attachments, their downloads

const AJOUTER: &str = "/cpro/transverses/v1/ajouter/fichier";
const DEPOSER_PDF: &str = "/cpro/factures/v1/deposer/pdf";
const TELECHARGER_PJ: &str = "/cpro/transverses/v1/telecharger/pieceJointe";

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn fichier(bytes: &[u8], name: &str, mime: &str, ext: &str) -> Value {
    json!({
        "pieceJointeFichier": b64(bytes), "pieceJointeNom": name,
        "pieceJointeTypeMime": mime, "pieceJointeExtension": ext, "idUtilisateurCourant": 0
    })
}

impl Loop {
    /// Uploads a file as `siret`; its `pieceJointeId`.
    async fn attach(&self, siret: &str, bytes: &[u8], name: &str, mime: &str, ext: &str) -> i64 {
        let v = self.post(siret, AJOUTER, fichier(bytes, name, mime, ext)).await;
        assert_ok(&v);
        v["pieceJointeId"].as_i64().unwrap()
    }
}

fn facturx_corpus(name: &str) -> Vec<u8> {
    let root = std::env::var("FACTEUR_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    std::fs::read(root.join("facturx/pdf").join(name)).unwrap()
}

async fn attachments_and_pdf_deposits_over_the_api(l: Loop) {
    // Uploads: accepted, or refused with the field at fault (10002). A file just over 10 MB goes
    // through the upload body limit and is refused by its decoded size, not by HTTP 413.
    let bl = l
        .attach(BAKERY, b"%PDF-1.7 bon de livraison", "bl.pdf", "application/pdf", "PDF")
        .await;
    let mut big = b"%PDF-1.7 ".to_vec();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    for (body, field) in [
        (
            fichier(&big, "gros.pdf", "application/pdf", "PDF"),
            "pieceJointeFichier",
        ),
        (
            fichier(b"MZ", "a.exe", "application/octet-stream", "EXE"),
            "pieceJointeExtension",
        ),
        (
            fichier(b"<html/>", "a.pdf", "application/pdf", "PDF"),
            "pieceJointeFichier",
        ),
        (
            fichier(b"%PDF-1.7", "a.pdf", "text/plain", "PDF"),
            "pieceJointeTypeMime",
        ),
    ] {
        let v = l.post(BAKERY, AJOUTER, body).await;
        refused(&v, 10002);
        assert!(v["libelle"].as_str().unwrap().starts_with(field), "{v}");
    }
    let v = l
        .post(BAKERY, AJOUTER, fichier(&big, "gros.pdf", "application/pdf", "PDF"))
        .await;
    assert!(v["libelle"].as_str().unwrap().contains("10 Mo"), "{v}");
    let mut not_b64 = fichier(b"x", "a.txt", "text/plain", "TXT");
    not_b64["pieceJointeFichier"] = json!("%%%");
    refused(&l.post(BAKERY, AJOUTER, not_b64).await, 10002);
    let theirs = l
        .attach(IT_FIRM, b"%PDF-1.7 autre", "x.pdf", "application/pdf", "PDF")
        .await;

    // Not referenced yet: only the uploader reads it.
    let get = |id: i64| json!({"pieceJointeId": id, "objetPieceJointe": "DEMANDE_PAIEMENT"});
    let v = l.post(BAKERY, TELECHARGER_PJ, get(bl)).await;
    assert_ok(&v);
    assert_eq!(
        (v["nomFichier"].as_str(), v["typeMime"].as_str()),
        (Some("bl.pdf"), Some("application/pdf"))
    );
    refused(&l.post(COMMUNE, TELECHARGER_PJ, get(bl)).await, 10001);

    // soumettre references them: another structure's or an unknown id is a finding.
    let mut body = invoice("PJ-API-1", COMMUNE, None, None);
    body["pieceJointeComplementaire"] = json!([
        {"pieceJointeComplementaireId": theirs, "pieceJointeComplementaireDesignation": "BL"},
        {"pieceJointeComplementaireId": 999_999}
    ]);
    assert_eq!(
        finding_codes(&l.post(BAKERY, SOUMETTRE, body.clone()).await),
        ["FP-PJ-01", "FP-PJ-01"]
    );
    body["pieceJointeComplementaire"] = json!([
        {"pieceJointeComplementaireId": bl, "pieceJointeComplementaireDesignation": "BL", "pieceJointeComplementaireType": "LIVRAISON"}
    ]);
    let v = l.post(BAKERY, SOUMETTRE, body).await;
    assert_ok(&v);
    let with_pj = v["identifiantFactureCPP"].as_i64().unwrap();
    // Used once only.
    let mut reuse = invoice("PJ-API-2", COMMUNE, None, None);
    reuse["pieceJointeComplementaire"] = json!([{"pieceJointeComplementaireId": bl}]);
    assert_eq!(finding_codes(&l.post(BAKERY, SOUMETTRE, reuse).await), ["FP-PJ-02"]);
    // Now both parties read it, a third structure gets the unknown answer.
    assert_ok(&l.post(COMMUNE, TELECHARGER_PJ, get(bl)).await);
    refused(&l.post(IT_FIRM, TELECHARGER_PJ, get(bl)).await, 10001);

    // telecharger/groupe with the attachments: a zip with the invoice and its file.
    let groupe = |flag: Value| json!({"listeFacture": [{"idFacture": with_pj}], "format": "PIVOT", "avecPiecesJointesComplementaires": flag});
    let (name, zipped) = downloaded(&l.post(COMMUNE, TELECHARGER, groupe(json!("OUI"))).await);
    assert_eq!(name, "factures.zip");
    let archive = zip::ZipArchive::new(std::io::Cursor::new(zipped)).unwrap();
    let mut names: Vec<String> = archive.file_names().map(|n| n.unwrap().into_owned()).collect();
    names.sort_unstable();
    assert_eq!(names, ["PJ-API-1.xml".to_owned(), format!("PJ-API-1_PJ{bl}_bl.pdf")]);
    let (name, _) = downloaded(&l.post(COMMUNE, TELECHARGER, groupe(json!("NON"))).await);
    assert_eq!(name, "PJ-API-1.xml");
    refused(&l.post(COMMUNE, TELECHARGER, groupe(json!("PEUT-ETRE"))).await, 10002);

    // deposer/pdf: a Factur-X gives its data; a file that is no PDF is refused.
    let fx = facturx_corpus("official-CII_example7.pdf");
    let v = l
        .post(
            BAKERY,
            DEPOSER_PDF,
            json!({"fichierFacture": b64(&fx), "nomFichier": "fx.pdf", "formatDepot": "PDF_NON_SIGNE"}),
        )
        .await;
    assert_ok(&v);
    assert_eq!(v["factureX"], true, "{v}");
    assert!(
        v["numeroFacture"].is_string() && v["montantTtcTotal"].is_number(),
        "{v}"
    );
    assert!(v["pieceJointeId"].is_i64(), "{v}");
    for bad in [
        json!({"fichierFacture": b64(b"<Invoice/>"), "nomFichier": "f.pdf"}),
        json!({"fichierFacture": b64(&fx), "nomFichier": "f.pdf", "formatDepot": "PDF_SCANNE"}),
    ] {
        refused(&l.post(BAKERY, DEPOSER_PDF, bad).await, 10002);
    }
    let plain = facturx_corpus("negative-no-xml.pdf");
    let v = l
        .post(
            BAKERY,
            DEPOSER_PDF,
            json!({"fichierFacture": b64(&plain), "nomFichier": "facture.pdf"}),
        )
        .await;
    assert_ok(&v);
    assert_eq!(v["factureX"], false, "{v}");
    assert!(v.get("numeroFacture").is_none(), "{v}");
    let main = v["pieceJointeId"].as_i64().unwrap();

    // soumettre DEPOT_PDF_API with that PDF: the invoice's PDF is the one deposited.
    let mut pdf_body = invoice("PJ-PDF-1", COMMUNE, None, None);
    pdf_body["modeDepot"] = json!("DEPOT_PDF_API");
    pdf_body["pieceJointePrincipale"] =
        json!([{"pieceJointePrincipaleId": main, "pieceJointePrincipaleDesignation": "Facture"}]);
    let v = l.post(BAKERY, SOUMETTRE, pdf_body).await;
    assert_ok(&v);
    let pdf_id = v["identifiantFactureCPP"].as_i64().unwrap();
    let one = json!({"listeFacture": [{"idFacture": pdf_id}], "format": "PDF"});
    let (name, bytes) = downloaded(&l.post(COMMUNE, TELECHARGER, one.clone()).await);
    assert_eq!((name.as_str(), bytes == plain), ("PJ-PDF-1.pdf", true));
    refused(&l.post(IT_FIRM, TELECHARGER, one).await, 10001);

    // completer with an attachment alone.
    let v = l
        .post(
            COMMUNE,
            TRAITER,
            json!({"idFacture": pdf_id, "nouveauStatut": "SUSPENDUE", "motif": "PV manquant"}),
        )
        .await;
    assert_ok(&v);
    let pv = l
        .attach(BAKERY, b"PV de reception", "pv.txt", "text/plain", "TXT")
        .await;
    let v = l
        .post(
            BAKERY,
            "/cpro/factures/v1/completer",
            json!({"identifiantFactureCPP": pdf_id, "pieceJointeComplementaire": [{"pieceJointeComplementaireId": theirs}]}),
        )
        .await;
    assert_eq!(finding_codes(&v), ["FP-PJ-01"]);
    let v = l
        .post(
            BAKERY,
            "/cpro/factures/v1/completer",
            json!({"identifiantFactureCPP": pdf_id, "pieceJointeComplementaire": [{"pieceJointeComplementaireId": pv}]}),
        )
        .await;
    assert_ok(&v);
    assert_eq!(l.status_of(COMMUNE, pdf_id).await, "COMPLETEE");
    let v = l.post(COMMUNE, TELECHARGER_PJ, get(pv)).await;
    assert_ok(&v);
    assert_eq!(v["fichierResultat"], b64(b"PV de reception"));
}

fn zip_of(files: &[(String, String)]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(data.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn tar_gz_of(files: &[(String, String)]) -> Vec<u8> {
    use std::io::Write;
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data.as_bytes()).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&b.into_inner().unwrap()).unwrap();
    gz.finish().unwrap()
}

/// (rank, entry name, first code) of each rejected invoice of a report.
fn rejected_ranks(v: &Value) -> Vec<(u64, String, String)> {
    v["listeErreurDP"]
        .as_array()
        .unwrap()
        .iter()
        .map(|dp| {
            (
                dp["rangFacture"].as_u64().unwrap(),
                dp["nomFichierFacture"].as_str().unwrap_or_default().to_owned(),
                dp["listeErreurs"][0]["codeErreur"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn batch_flows_integrate_each_file_and_refuse_hostile_archives(l: Loop) {
    const UBL: &str = "IN_DP_E1_UBL_INVOICE";
    // A zip: two good invoices, one to an unknown recipient, one that is not XML.
    let files = vec![
        ("a.xml".to_owned(), ubl("LOT-A", COMMUNE)),
        ("b.xml".to_owned(), ubl("LOT-B", "12345678200010")),
        ("c.xml".to_owned(), ubl("LOT-C", COMMUNE)),
        ("d.xml".to_owned(), "<Invoice><cbc:ID>".to_owned()),
    ];
    let numero = l.deposit_flow(flux(&zip_of(&files), "lot.zip", UBL)).await;
    let v = l.settled(&numero).await;
    assert_eq!(v["etatCourantFlux"], "IN_INTEGRE_PARTIEL", "{v}");
    assert_eq!(
        rejected_ranks(&v),
        [
            (2, "b.xml".to_owned(), "FP-DEST-01".to_owned()),
            (4, "d.xml".to_owned(), "FACTEUR-XML".to_owned())
        ],
        "{v}"
    );
    assert_eq!(v["listeErreurDP"][0]["numeroDP"], "LOT-B");
    for (number, seen) in [("LOT-A", 1), ("LOT-B", 0), ("LOT-C", 1)] {
        let found = l
            .found(COMMUNE, "/cpro/factures/v1/rechercher/recipiendaire", number)
            .await;
        assert_eq!(found.len(), seen, "{number}");
    }

    // A tar.gz of good invoices: all integrated. Of bad ones only: rejected.
    let files = vec![
        ("x/1.xml".to_owned(), ubl("LOT-T1", COMMUNE)),
        ("x/2.xml".to_owned(), ubl("LOT-T2", COMMUNE)),
    ];
    let numero = l.deposit_flow(flux(&tar_gz_of(&files), "lot.tar.gz", UBL)).await;
    let v = l.settled(&numero).await;
    assert_eq!(v["etatCourantFlux"], "IN_INTEGRE", "{v}");
    assert_eq!(v["listeErreurDP"], json!([]));
    let files = vec![("1.xml".to_owned(), ubl("LOT-T1", COMMUNE))];
    let numero = l.deposit_flow(flux(&tar_gz_of(&files), "again.tgz", UBL)).await;
    let v = l.settled(&numero).await;
    assert_eq!(v["etatCourantFlux"], "IN_REJETE", "{v}");
    assert_eq!(rejected_ranks(&v), [(1, "1.xml".to_owned(), "FP-NUM-02".to_owned())]);

    // Hostile archives: refused whole, the entry at fault named, nothing integrated.
    let files = vec![
        ("ok.xml".to_owned(), ubl("LOT-H1", COMMUNE)),
        ("../evil.xml".to_owned(), ubl("LOT-H2", COMMUNE)),
    ];
    let numero = l.deposit_flow(flux(&zip_of(&files), "lot.zip", UBL)).await;
    let v = l.settled(&numero).await;
    assert_eq!(v["etatCourantFlux"], "IN_REJETE", "{v}");
    assert_eq!(
        rejected_ranks(&v),
        [(0, "../evil.xml".to_owned(), "FP-LOT-01".to_owned())]
    );
    assert!(
        !v["listeErreurDP"][0]["listeErreurs"][0]["libelleErreur"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    let inner = zip_of(&[("a.xml".to_owned(), ubl("LOT-N1", COMMUNE))]);
    let nested = {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        w.start_file("inner.zip", zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(&inner).unwrap();
        w.finish().unwrap().into_inner()
    };
    let numero = l.deposit_flow(flux(&nested, "lot.zip", UBL)).await;
    assert_eq!(
        rejected_ranks(&l.settled(&numero).await),
        [(0, "inner.zip".to_owned(), "FP-LOT-04".to_owned())]
    );
    // Named a zip, yet no archive.
    let numero = l.deposit_flow(flux(b"<Invoice/>", "lot.zip", UBL)).await;
    assert_eq!(
        rejected_ranks(&l.settled(&numero).await),
        [(0, String::new(), "FP-LOT-08".to_owned())]
    );

    // The same batch streamed as multipart/form-data: integrated; the same bytes again, now in
    // JSON, are the same flow.
    let files = vec![
        ("m/1.xml".to_owned(), ubl("LOT-M1", COMMUNE)),
        ("m/2.xml".to_owned(), ubl("LOT-M2", COMMUNE)),
    ];
    let zip = zip_of(&files);
    let v = l.multipart(BAKERY, Some(&zip), Some("lot.zip"), Some(UBL)).await;
    assert_ok(&v);
    let numero = v["numeroFluxDepot"].as_str().unwrap().to_owned();
    assert_eq!(l.settled(&numero).await["etatCourantFlux"], "IN_INTEGRE");
    assert_eq!(l.deposit_flow(flux(&zip, "lot.zip", UBL)).await, numero);
    // A part missing, unknown or repeated: a malformed request (400), as a JSON body missing a
    // field. Nothing recorded.
    refused(&l.multipart(BAKERY, Some(&zip), None, Some(UBL)).await, 400);
    let named = Some("lot2.zip");
    for extra in [("avecSignature", Some("false")), ("nomFichier", named)] {
        let texts = [("nomFichier", named), ("syntaxeFlux", Some(UBL)), extra];
        refused(&l.multipart_with(BAKERY, Some(&zip), &texts).await, 400);
    }
    // A multipart part carries no type: its text is checked as the schema says (400), where the
    // JSON form answers a syntax it does not read with FP-FLUX-01.
    for (name, syntax) in [
        ("f.xml", "IN_DP_E1_XCBL"),
        ("f.xml", "false"),
        ("0", UBL),
        ("sans-extension", UBL),
    ] {
        let v = l.multipart(BAKERY, Some(b"<x/>"), Some(name), Some(syntax)).await;
        refused(&v, 400);
    }

    for number in ["LOT-H1", "LOT-H2", "LOT-N1"] {
        assert!(
            l.found(BAKERY, "/cpro/factures/v1/rechercher/fournisseur", number)
                .await
                .is_empty()
        );
    }
}

facteur_web::testing::scenarios!(demo => attachments_and_pdf_deposits_over_the_api, an_invoice_goes_from_deposit_to_payment_and_the_supplier_sees_each_step, returned_invoices_are_recycled_or_rejected_and_acknowledged, bad_deposits_are_refused_with_every_finding_and_change_nothing, structured_flows_are_integrated_and_only_their_depositor_reads_the_report, bad_flows_are_refused_or_rejected_with_their_findings, batch_flows_integrate_each_file_and_refuse_hostile_archives, invoices_are_downloaded_by_their_two_parties_only);
