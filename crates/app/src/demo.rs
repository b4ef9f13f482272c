//! Demo data: public entities covering each parameter combination (none, service code, engagement,
//! both, one of the two), two suppliers with their users, and a technical account per structure.
//! Idempotent: a second run finds everything in place, changes nothing, and writes the same
//! credentials file. The secrets are fixed and public (it is demo data): never seed a production
//! database.

use std::path::Path;

use facteur_domain::{
    Email, IdentifierKind, MembershipStatus, Role, Service, ServiceCode, Structure, StructureId, StructureIdentifier,
    StructureKind, StructureParameters, UserStatus,
};
use facteur_store::NewUser;
use serde::{Deserialize, Serialize};

use crate::secrets::{hash_password, token_digest, verify_password};
use crate::{Actor, App, AppError, AppResult, TechnicalCredentials};

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

    tokio::fs::create_dir_all(data_dir).await.map_err(demo_err)?;
    let path = data_dir.join("demo-credentials.json");
    let json = serde_json::to_vec_pretty(&creds).map_err(demo_err)?;
    tokio::fs::write(&path, json).await.map_err(demo_err)?;
    tracing::info!(file = %path.display(), "demo credentials written");
    Ok(creds)
}
