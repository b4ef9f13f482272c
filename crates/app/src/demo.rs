//! Demo data: public entities covering each parameter combination (none, service code, engagement,
//! both, one of the two), two suppliers with their users, a technical account per structure, and a
//! few invoices between them in various statuses (available, suspended, paid, rejected, to
//! recycle, completed).
//! Idempotent: a second run finds everything in place, changes nothing, and writes the same
//! credentials file. The secrets are fixed and public (it is demo data): never seed a production
//! database.

use std::path::Path;

use facteur_domain::{
    Email, IdentifierKind, InvoiceStatus, MembershipStatus, Role, Service, ServiceCode, Structure, StructureId,
    StructureIdentifier, StructureKind, StructureParameters, UserStatus,
};
use facteur_store::NewUser;
use serde::{Deserialize, Serialize};

use crate::secrets::{hash_password, token_digest, verify_password};
use crate::{
    Actor, App, AppError, AppResult, EntryLine, EntryTotals, EntryVatLine, InvoiceEntry, TechnicalCredentials, VatRate,
};
use rust_decimal::Decimal;

/// `DATA/demo-credentials.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoCredentials {
    pub structures: Vec<DemoStructure>,
    pub users: Vec<DemoUser>,
    pub technical_accounts: Vec<DemoTechnicalAccount>,
}

/// A demo structure.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoStructure {
    /// SIRET.
    pub identifier: String,
    pub name: String,
    pub public: bool,
    /// Service codes (besides the default `FACTURES_PUBLIQUES`).
    pub services: Vec<String>,
    pub requires_service_code: bool,
    pub requires_engagement: bool,
}

/// A demo portal user.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoUser {
    pub email: String,
    pub password: String,
    /// `GESTIONNAIRE_PRINCIPAL`, `GESTIONNAIRE_SECONDAIRE` or `UTILISATEUR_SIMPLE`.
    pub role: String,
    /// SIRET of the structure.
    pub structure: String,
}

/// A demo technical account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoTechnicalAccount {
    /// SIRET of the structure.
    pub structure: String,
    pub client_id: String,
    pub client_secret: String,
    pub login: String,
    pub password: String,
}

/// Password of every demo user.
pub const DEMO_PASSWORD: &str = "Demo-Facteur-2026";

struct Spec {
    siret: &'static str,
    name: &'static str,
    public: bool,
    postcode: &'static str,
    city: &'static str,
    params: StructureParameters,
    /// (code, label, engagement required at service level)
    services: &'static [(&'static str, &'static str, bool)],
}

fn params(service_code: bool, engagement: bool, either: bool) -> StructureParameters {
    StructureParameters {
        service_code_required: service_code,
        engagement_required: engagement,
        service_code_or_engagement_required: either,
        ..StructureParameters::default()
    }
}

fn specs() -> Vec<Spec> {
    vec![
        Spec {
            siret: "21990001600011",
            name: "Commune de Démoville",
            public: true,
            postcode: "99100",
            city: "Démoville",
            params: params(false, false, false),
            services: &[("ACCUEIL", "Accueil et état civil", false)],
        },
        Spec {
            siret: "22990001400015",
            name: "Département Démo",
            public: true,
            postcode: "99000",
            city: "Démoville",
            params: params(true, false, false),
            services: &[
                ("FIN01", "Direction des finances", false),
                ("VOIRIE", "Routes et voirie", false),
            ],
        },
        Spec {
            siret: "26990001500018",
            name: "Centre hospitalier Démo",
            public: true,
            postcode: "99200",
            city: "Santéville",
            params: params(false, true, false),
            services: &[("PHARMA", "Pharmacie centrale", false)],
        },
        Spec {
            siret: "19990001000018",
            name: "Université Démo",
            public: true,
            postcode: "99300",
            city: "Savoirville",
            params: params(true, true, false),
            services: &[("LABO", "Laboratoires", true), ("BIBLIO", "Bibliothèque", false)],
        },
        Spec {
            siret: "25990001700015",
            name: "Syndicat des eaux Démo",
            public: true,
            postcode: "99400",
            city: "Riviere",
            params: params(false, false, true),
            services: &[("TECH", "Service technique", false)],
        },
        Spec {
            siret: "51234567900017",
            name: "Boulangerie Démo SARL",
            public: false,
            postcode: "99100",
            city: "Démoville",
            params: params(false, false, false),
            services: &[],
        },
        Spec {
            siret: "81234567600017",
            name: "Informatique Démo SAS",
            public: false,
            postcode: "99500",
            city: "Octetville",
            params: params(false, false, false),
            services: &[],
        },
    ]
}

/// (e-mail, role, SIRET)
const USERS: &[(&str, Role, &str)] = &[
    ("gestion@boulangerie-demo.example", Role::MainManager, "51234567900017"),
    ("compta@boulangerie-demo.example", Role::SimpleUser, "51234567900017"),
    ("gestion@informatique-demo.example", Role::MainManager, "81234567600017"),
    ("factures@demoville.example", Role::MainManager, "21990001600011"),
    ("finances@departement-demo.example", Role::MainManager, "22990001400015"),
];

fn demo_err(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("demo data: {e}"))
}

/// One demo invoice: (number, supplier SIRET, recipient SIRET, service, engagement, steps). Each
/// step is a status set by the recipient (with its motive) or, for `COMPLETEE`, the supplier's
/// completion.
type DemoInvoice = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    &'static [(InvoiceStatus, Option<&'static str>)],
);

const INVOICES: &[DemoInvoice] = &[
    ("DEMO-2026-001", "51234567900017", "21990001600011", None, None, &[]),
    (
        "DEMO-2026-002",
        "51234567900017",
        "21990001600011",
        None,
        None,
        &[(InvoiceStatus::Suspendue, Some("Bon de livraison manquant"))],
    ),
    (
        "DEMO-2026-003",
        "51234567900017",
        "22990001400015",
        Some("FIN01"),
        None,
        &[
            (InvoiceStatus::ServiceFait, None),
            (InvoiceStatus::MiseEnPaiement, None),
        ],
    ),
    (
        "DEMO-2026-004",
        "81234567600017",
        "26990001500018",
        None,
        Some("EJ-2026-0042"),
        &[(InvoiceStatus::Rejetee, Some("Prix unitaire différent du marché"))],
    ),
    (
        "DEMO-2026-005",
        "81234567600017",
        "21990001600011",
        None,
        None,
        &[(InvoiceStatus::ARecycler, Some("À adresser au Département Démo"))],
    ),
    (
        "DEMO-2026-006",
        "81234567600017",
        "19990001000018",
        Some("LABO"),
        Some("EJ-2026-0107"),
        &[
            (InvoiceStatus::Suspendue, Some("Procès-verbal de réception manquant")),
            (
                InvoiceStatus::Completee,
                Some("Procès-verbal envoyé par courrier le 3 mars"),
            ),
        ],
    ),
];

/// A demo entry: one line of 1,000.00 at 20 % VAT.
fn demo_entry(app: &App, inv: &DemoInvoice) -> InvoiceEntry {
    let (number, _, recipient, service, engagement, _) = *inv;
    sample_entry(app.clock().now().date(), number, recipient, service, engagement)
}

/// An entry of one line of 1,000.00 at 20 % VAT, paid by transfer, issued `issue_date`: the demo's
/// invoices, and a valid deposit for tests.
pub fn sample_entry(
    issue_date: time::Date,
    number: &str,
    recipient: &str,
    service: Option<&str>,
    engagement: Option<&str>,
) -> InvoiceEntry {
    let hundred = |n: i64| Decimal::new(n * 100, 2);
    InvoiceEntry {
        mode: crate::EntryMode::Data,
        main_attachments: Vec::new(),
        attachments: Vec::new(),
        number: number.to_owned(),
        issue_date,
        due_date: None,
        kind: facteur_store::InvoiceKind::Invoice,
        supplier: None,
        bank_account: None,
        recipient: recipient.to_owned(),
        service_code: service.map(str::to_owned),
        engagement: engagement.map(str::to_owned),
        contract: None,
        original_invoice: None,
        currency: "EUR".to_owned(),
        payment_mode: Some("VIREMENT".to_owned()),
        exemption_reason: None,
        comment: Some("Facture de démonstration".to_owned()),
        lines: vec![EntryLine {
            number: Some(1),
            reference: Some("DEMO-1".to_owned()),
            name: "Prestation de démonstration".to_owned(),
            quantity: Decimal::ONE,
            unit: Some("lot".to_owned()),
            unit_price: hundred(1000),
            discount: Decimal::ZERO,
            vat_rate: Some(VatRate::Code("TVA20".to_owned())),
        }],
        vat_lines: vec![EntryVatLine {
            vat_rate: Some(VatRate::Code("TVA20".to_owned())),
            base: hundred(1000),
            amount: hundred(200),
        }],
        totals: EntryTotals {
            excl_vat: hundred(1000),
            vat: hundred(200),
            incl_vat: hundred(1200),
            global_discount: Decimal::ZERO,
            amount_due: hundred(1200),
        },
    }
}

/// Seeds a few invoices between the demo structures, in various statuses. Idempotent: each is
/// deposited with the idempotency key `demo-NUMBER`, so a second run finds it and moves nothing.
async fn seed_invoices(app: &App, structure_of: &impl Fn(&str) -> Option<StructureId>) -> AppResult<()> {
    let operator = Actor::Operator;
    for inv in INVOICES {
        let (number, supplier, recipient, _, _, steps) = *inv;
        let supplier = structure_of(supplier).ok_or_else(|| demo_err(supplier))?;
        let recipient = structure_of(recipient).ok_or_else(|| demo_err(recipient))?;
        let entry = demo_entry(app, inv);
        let original = serde_json::to_vec(&serde_json::json!({ "demo": number })).map_err(demo_err)?;
        let deposited = match app
            .submit_invoice(&operator, supplier, &entry, &original, Some(&format!("demo-{number}")))
            .await
        {
            Ok(d) => d,
            Err(AppError::Refused(findings)) => return Err(demo_err(format!("{number}: {findings:?}"))),
            Err(e) => return Err(e),
        };
        if deposited.replayed {
            continue;
        }
        let id = deposited.invoice.id;
        for (to, motive) in steps {
            if *to == InvoiceStatus::Completee {
                app.complete_invoice(&operator, supplier, id, *motive, &[]).await?;
            } else {
                app.process_invoice(&operator, recipient, id, *to, *motive).await?;
            }
        }
    }
    Ok(())
}

/// Seeds the demo data and writes `data_dir/demo-credentials.json`.
pub async fn seed(app: &App, data_dir: &Path) -> AppResult<DemoCredentials> {
    let operator = Actor::Operator;
    let mut creds = DemoCredentials::default();
    let mut ids: Vec<(&'static str, StructureId)> = Vec::new();
    for spec in specs() {
        let identifier = StructureIdentifier::parse(IdentifierKind::Siret, spec.siret).map_err(demo_err)?;
        let kind = if spec.public {
            StructureKind::Public
        } else {
            StructureKind::Private
        };
        let mut structure = Structure::new(identifier, kind, spec.name).map_err(demo_err)?;
        structure.address.line1 = "1 place de la Démo".to_owned();
        structure.address.postcode = spec.postcode.to_owned();
        structure.address.city = spec.city.to_owned();
        structure.address.country = "FR".to_owned();
        structure.parameters = spec.params;
        let mut services = Vec::new();
        for (code, label, ej) in spec.services {
            let mut s = Service::new(ServiceCode::parse(code).map_err(demo_err)?, label);
            s.parameters.engagement_required = *ej;
            services.push(s);
        }
        let id = app.upsert_structure(&operator, structure, services).await?;
        ids.push((spec.siret, id));
        creds.structures.push(DemoStructure {
            identifier: spec.siret.to_owned(),
            name: spec.name.to_owned(),
            public: spec.public,
            services: spec.services.iter().map(|(c, _, _)| (*c).to_owned()).collect(),
            requires_service_code: spec.params.service_code_required,
            requires_engagement: spec.params.engagement_required || spec.services.iter().any(|(_, _, ej)| *ej),
        });
    }
    let structure_of = |siret: &str| ids.iter().find(|(s, _)| *s == siret).map(|(_, id)| *id);

    for (email, role, siret) in USERS {
        let structure = structure_of(siret).ok_or_else(|| demo_err(siret))?;
        let email_v = Email::parse(email).map_err(demo_err)?;
        let user = match app.db().find_user_by_email(&email_v).await? {
            Some(u) => u,
            None => {
                let new = NewUser {
                    email: email_v,
                    password_hash: Some(hash_password(DEMO_PASSWORD).await?),
                    first_name: "Démo".to_owned(),
                    last_name: String::new(),
                    phone: None,
                    status: UserStatus::Active,
                };
                app.db().create_user(&new, facteur_store::Actor::System).await?
            }
        };
        match app.db().find_membership(user.id, structure).await? {
            Some(m) if m.status == MembershipStatus::Approved => {}
            Some(m) => {
                // Refused or detached ones go through pending, as the domain's table says.
                let mut status = m.status;
                if status != MembershipStatus::Pending {
                    status = app
                        .db()
                        .decide_membership(
                            m.id,
                            status,
                            MembershipStatus::Pending,
                            Some(*role),
                            facteur_store::Actor::System,
                        )
                        .await?
                        .status;
                }
                app.db()
                    .decide_membership(
                        m.id,
                        status,
                        MembershipStatus::Approved,
                        Some(*role),
                        facteur_store::Actor::System,
                    )
                    .await?;
            }
            None => {
                let mut tx = app.db().begin().await?;
                tx.create_membership(
                    user.id,
                    structure,
                    *role,
                    MembershipStatus::Approved,
                    facteur_store::Actor::System,
                )
                .await?;
                app.subscribe_defaults(&mut tx, user.id, structure, *role, facteur_store::Actor::System)
                    .await?;
                app.commit(tx).await?;
            }
        }
        creds.users.push(DemoUser {
            email: (*email).to_owned(),
            password: DEMO_PASSWORD.to_owned(),
            role: role.as_str().to_owned(),
            structure: (*siret).to_owned(),
        });
    }

    for (siret, id) in &ids {
        let wanted = TechnicalCredentials {
            structure_id: *id,
            login: format!("demo-tech-{siret}"),
            password: format!("demo-pass-{siret}"),
            client_id: format!("demo-{siret}"),
            client_secret: format!("demo-secret-{siret}"),
            password_expires_at: app.clock().now() + app.config().technical_password_ttl,
        };
        let current = app.db().technical_account_of(*id).await?;
        let in_place = match &current {
            Some(t) => {
                t.login == wanted.login
                    && t.client_id == wanted.client_id
                    && t.client_secret_hash == token_digest(&wanted.client_secret)
                    && t.password_expires_at > app.clock().now()
                    && verify_password(&wanted.password, &t.password_hash).await?
            }
            None => false,
        };
        if !in_place {
            let mut tx = app.db().begin().await?;
            app.put_technical_credentials(&mut tx, &operator, &wanted).await?;
            app.commit(tx).await?;
        }
        creds.technical_accounts.push(DemoTechnicalAccount {
            structure: (*siret).to_owned(),
            client_id: wanted.client_id,
            client_secret: wanted.client_secret,
            login: wanted.login,
            password: wanted.password,
        });
    }

    seed_invoices(app, &structure_of).await?;

    tokio::fs::create_dir_all(data_dir).await.map_err(demo_err)?;
    let path = data_dir.join("demo-credentials.json");
    let json = serde_json::to_vec_pretty(&creds).map_err(demo_err)?;
    tokio::fs::write(&path, json).await.map_err(demo_err)?;
    tracing::info!(file = %path.display(), "demo credentials written");
    Ok(creds)
}
