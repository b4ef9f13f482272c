//! The directory (annuaire) CSV format: public structures with their parameters and services.
//!
//! One row per (structure, service); the structure columns repeat on each of its rows. A row with an
//! empty `code_service` describes the structure alone (a structure without services other than the
//! default `FACTURES_PUBLIQUES` one). Rows of one structure need not be adjacent, but their structure
//! columns must agree. Comma-separated, UTF-8, header row required, column order free.
//!
//! | column | content |
//! | --- | --- |
//! | `type_identifiant` | `SIRET`, `UE_HORS_FRANCE`, `HORS_UE`, `RIDET`, `TAHITI`, `PARTICULIER`, `AUTRE` (empty = `SIRET`) |
//! | `identifiant` | the identifier (SIRET: 14 digits with a valid key) |
//! | `raison_sociale` | company name (required) |
//! | `libelle` | display label (optional) |
//! | `statut` | `ACTIVE` (default) or `INACTIVE` |
//! | `email`, `numero_tva` | optional |
//! | `adresse`, `complement_adresse`, `code_postal`, `ville`, `pays` | address (`pays` defaults to `FR`) |
//! | `code_service_obligatoire` | boolean: service code required on invoices |
//! | `engagement_obligatoire` | boolean: engagement (EJ) number required |
//! | `code_service_ou_engagement` | boolean: at least one of the two required |
//! | `mise_en_paiement_non_remontee` | boolean: `MISE_EN_PAIEMENT` status not reported |
//! | `presence_moa` | `SANS_MOA` (default), `AVEC_MOA`, `MOA_UNIQUEMENT` |
//! | `code_service` | service code (≤ 100 characters), empty for a structure-only row |
//! | `libelle_service` | service label (defaults to the code) |
//! | `service_actif` | boolean, default true |
//! | `service_engagement_obligatoire` | boolean: engagement required for this service |
//! | `service_date_debut`, `service_date_fin` | `YYYY-MM-DD`, optional validity window |
//!
//! Booleans accept `1`/`0`, `true`/`false`, `oui`/`non`, `yes`/`no` (any case); empty means false
//! (true for `service_actif`). Export writes `1`/`0`.

use std::collections::HashMap;
use std::io::{Read, Write};

use facteur_domain::{
    Address, Email, IdentifierKind, MoaPresence, Service, ServiceCode, Structure, StructureIdentifier, StructureKind,
    StructureParameters, StructureStatus, VatNumber,
};
use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;

use crate::error::AppError;

/// The header, in export order.
pub const COLUMNS: &[&str] = &[
    "type_identifiant",
    "identifiant",
    "raison_sociale",
    "libelle",
    "statut",
    "email",
    "numero_tva",
    "adresse",
    "complement_adresse",
    "code_postal",
    "ville",
    "pays",
    "code_service_obligatoire",
    "engagement_obligatoire",
    "code_service_ou_engagement",
    "mise_en_paiement_non_remontee",
    "presence_moa",
    "code_service",
    "libelle_service",
    "service_actif",
    "service_engagement_obligatoire",
    "service_date_debut",
    "service_date_fin",
];

/// One CSV row as text; every column optional so missing columns read as empty.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Row {
    #[serde(default)]
    type_identifiant: String,
    #[serde(default)]
    identifiant: String,
    #[serde(default)]
    raison_sociale: String,
    #[serde(default)]
    libelle: String,
    #[serde(default)]
    statut: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    numero_tva: String,
    #[serde(default)]
    adresse: String,
    #[serde(default)]
    complement_adresse: String,
    #[serde(default)]
    code_postal: String,
    #[serde(default)]
    ville: String,
    #[serde(default)]
    pays: String,
    #[serde(default)]
    code_service_obligatoire: String,
    #[serde(default)]
    engagement_obligatoire: String,
    #[serde(default)]
    code_service_ou_engagement: String,
    #[serde(default)]
    mise_en_paiement_non_remontee: String,
    #[serde(default)]
    presence_moa: String,
    #[serde(default)]
    code_service: String,
    #[serde(default)]
    libelle_service: String,
    #[serde(default)]
    service_actif: String,
    #[serde(default)]
    service_engagement_obligatoire: String,
    #[serde(default)]
    service_date_debut: String,
    #[serde(default)]
    service_date_fin: String,
}

/// A public structure and the services listed for it in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryRecord {
    /// Line of the structure's first row (1-based, header = line 1).
    pub line: u64,
    pub structure: Structure,
    pub services: Vec<Service>,
}

/// Parses a whole directory file. Errors name the line and the column.
pub fn read_directory_csv<R: Read>(input: R) -> Result<Vec<DirectoryRecord>, AppError> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(input);
    let headers = rdr
        .headers()
        .map_err(|e| AppError::Csv {
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    for required in ["identifiant", "raison_sociale"] {
        if !headers.iter().any(|h| h == required) {
            return Err(AppError::Csv {
                line: 1,
                message: format!("missing column {required}"),
            });
        }
    }
    let mut records: Vec<DirectoryRecord> = Vec::new();
    let mut index: HashMap<StructureIdentifier, usize> = HashMap::new();
    for (i, result) in rdr.deserialize::<Row>().enumerate() {
        let line = u64::try_from(i).unwrap_or(u64::MAX).saturating_add(2);
        let row = result.map_err(|e| AppError::Csv {
            line,
            message: e.to_string(),
        })?;
        let err = |message: String| AppError::Csv { line, message };
        let structure = row_structure(&row).map_err(err)?;
        let service = row_service(&row).map_err(err)?;
        let slot = match index.get(&structure.identifier) {
            Some(&k) => {
                if records[k].structure != structure {
                    return Err(AppError::Csv {
                        line,
                        message: format!(
                            "structure columns differ from line {} for {}",
                            records[k].line, structure.identifier
                        ),
                    });
                }
                k
            }
            None => {
                index.insert(structure.identifier.clone(), records.len());
                records.push(DirectoryRecord {
                    line,
                    structure,
                    services: Vec::new(),
                });
                records.len() - 1
            }
        };
        if let Some(service) = service {
            let rec = &mut records[slot];
            if rec.services.iter().any(|s| s.code == service.code) {
                return Err(AppError::Csv {
                    line,
                    message: format!("service {} listed twice for {}", service.code, rec.structure.identifier),
                });
            }
            rec.services.push(service);
        }
    }
    Ok(records)
}

/// Writes records in the format [`read_directory_csv`] reads (a round trip is lossless for the
/// columns above).
pub fn write_directory_csv<W: Write>(out: W, records: &[DirectoryRecord]) -> Result<(), AppError> {
    let mut w = csv::WriterBuilder::new().has_headers(true).from_writer(out);
    let csv_err = |e: csv::Error| AppError::Csv {
        line: 0,
        message: e.to_string(),
    };
    for rec in records {
        let base = structure_row(&rec.structure);
        if rec.services.is_empty() {
            w.serialize(&base).map_err(csv_err)?;
        }
        for s in &rec.services {
            let mut row = base.clone();
            row.code_service = s.code.as_str().to_owned();
            row.libelle_service = s.label.clone();
            row.service_actif = flag(s.active);
            row.service_engagement_obligatoire = flag(s.parameters.engagement_required);
            row.service_date_debut = s.valid_from.map(fmt_date).unwrap_or_default();
            row.service_date_fin = s.valid_to.map(fmt_date).unwrap_or_default();
            w.serialize(&row).map_err(csv_err)?;
        }
    }
    if records.is_empty() {
        w.write_record(COLUMNS).map_err(csv_err)?;
    }
    w.flush().map_err(|e| AppError::Csv {
        line: 0,
        message: e.to_string(),
    })
}

fn structure_row(s: &Structure) -> Row {
    let p = &s.parameters;
    Row {
        type_identifiant: s.identifier.kind().as_str().to_owned(),
        identifiant: s.identifier.value().to_owned(),
        raison_sociale: s.company_name.clone(),
        libelle: s.label.clone().unwrap_or_default(),
        statut: s.status.as_str().to_owned(),
        email: s.email.as_ref().map(|e| e.as_str().to_owned()).unwrap_or_default(),
        numero_tva: s.vat_number.as_ref().map(|v| v.as_str().to_owned()).unwrap_or_default(),
        adresse: s.address.line1.clone(),
        complement_adresse: s.address.line2.clone().unwrap_or_default(),
        code_postal: s.address.postcode.clone(),
        ville: s.address.city.clone(),
        pays: s.address.country.clone(),
        code_service_obligatoire: flag(p.service_code_required),
        engagement_obligatoire: flag(p.engagement_required),
        code_service_ou_engagement: flag(p.service_code_or_engagement_required),
        mise_en_paiement_non_remontee: flag(p.payment_status_not_reported),
        presence_moa: p.moa.as_str().to_owned(),
        ..Row::default()
    }
}

fn row_structure(r: &Row) -> Result<Structure, String> {
    let kind: IdentifierKind = if r.type_identifiant.is_empty() {
        IdentifierKind::Siret
    } else {
        r.type_identifiant
            .parse()
            .map_err(|e| format!("type_identifiant: {e}"))?
    };
    let identifier = StructureIdentifier::parse(kind, &r.identifiant).map_err(|e| format!("identifiant: {e}"))?;
    let mut s = Structure::new(identifier, StructureKind::Public, &r.raison_sociale)
        .map_err(|e| format!("raison_sociale: {e}"))?;
    s.label = non_empty(&r.libelle);
    s.status = if r.statut.is_empty() {
        StructureStatus::Active
    } else {
        r.statut.parse().map_err(|e| format!("statut: {e}"))?
    };
    s.email = match non_empty(&r.email) {
        Some(e) => Some(Email::parse(&e).map_err(|e| format!("email: {e}"))?),
        None => None,
    };
    s.vat_number = match non_empty(&r.numero_tva) {
        Some(v) => Some(VatNumber::parse(&v).map_err(|e| format!("numero_tva: {e}"))?),
        None => None,
    };
    s.address = Address {
        line1: r.adresse.clone(),
        line2: non_empty(&r.complement_adresse),
        line3: None,
        postcode: r.code_postal.clone(),
        city: r.ville.clone(),
        country: non_empty(&r.pays)
            .unwrap_or_else(|| "FR".to_owned())
            .to_ascii_uppercase(),
        phone: None,
    };
    s.parameters = StructureParameters {
        service_code_required: parse_flag("code_service_obligatoire", &r.code_service_obligatoire, false)?,
        engagement_required: parse_flag("engagement_obligatoire", &r.engagement_obligatoire, false)?,
        service_code_or_engagement_required: parse_flag(
            "code_service_ou_engagement",
            &r.code_service_ou_engagement,
            false,
        )?,
        payment_status_not_reported: parse_flag(
            "mise_en_paiement_non_remontee",
            &r.mise_en_paiement_non_remontee,
            false,
        )?,
        moa: if r.presence_moa.is_empty() {
            MoaPresence::None
        } else {
            r.presence_moa.parse().map_err(|e| format!("presence_moa: {e}"))?
        },
    };
    Ok(s)
}

fn row_service(r: &Row) -> Result<Option<Service>, String> {
    if r.code_service.is_empty() {
        return Ok(None);
    }
    let code = ServiceCode::parse(&r.code_service).map_err(|e| format!("code_service: {e}"))?;
    let mut s = Service::new(code, &r.libelle_service);
    s.active = parse_flag("service_actif", &r.service_actif, true)?;
    s.parameters.engagement_required = parse_flag(
        "service_engagement_obligatoire",
        &r.service_engagement_obligatoire,
        false,
    )?;
    let from = parse_date("service_date_debut", &r.service_date_debut)?;
    let to = parse_date("service_date_fin", &r.service_date_fin)?;
    s.with_validity(from, to).map(Some).map_err(|e| e.to_string())
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn flag(b: bool) -> String {
    if b { "1" } else { "0" }.to_owned()
}

fn parse_flag(col: &str, v: &str, default: bool) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "" => Ok(default),
        "1" | "true" | "oui" | "yes" | "o" | "y" => Ok(true),
        "0" | "false" | "non" | "no" | "n" => Ok(false),
        other => Err(format!(
            "{col}: not a boolean: {:?}",
            other.chars().take(20).collect::<String>()
        )),
    }
}

fn parse_date(col: &str, v: &str) -> Result<Option<Date>, String> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    Date::parse(v.trim(), format_description!("[year]-[month]-[day]"))
        .map(Some)
        .map_err(|e| format!("{col}: {e}"))
}

fn fmt_date(d: Date) -> String {
    d.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
identifiant,raison_sociale,code_postal,ville,code_service_obligatoire,engagement_obligatoire,presence_moa,code_service,libelle_service,service_engagement_obligatoire,service_date_debut
21750001600019,Ville de Paris,75004,Paris,oui,non,AVEC_MOA,DF01,Direction des finances,1,2026-01-01
21750001600019,Ville de Paris,75004,Paris,oui,non,AVEC_MOA,VOIRIE,,0,
11000201100044,Ministère Test,75007,Paris,0,1,,,,,
";

    #[test]
    fn reads_groups_and_parses_flags() {
        let recs = read_directory_csv(SAMPLE.as_bytes()).unwrap();
        assert_eq!(recs.len(), 2);
        let paris = &recs[0];
        assert_eq!(paris.line, 2);
        assert_eq!(paris.structure.identifier.value(), "21750001600019");
        assert!(paris.structure.parameters.service_code_required);
        assert!(!paris.structure.parameters.engagement_required);
        assert_eq!(paris.structure.parameters.moa, MoaPresence::WithMoa);
        assert_eq!(paris.services.len(), 2);
        assert!(paris.services[0].parameters.engagement_required);
        assert_eq!(paris.services[1].label, "VOIRIE");
        assert!(recs[1].services.is_empty());
        assert!(recs[1].structure.parameters.engagement_required);
        assert_eq!(recs[1].structure.kind, StructureKind::Public);
    }

    #[test]
    fn round_trip() {
        let recs = read_directory_csv(SAMPLE.as_bytes()).unwrap();
        let mut out = Vec::new();
        write_directory_csv(&mut out, &recs).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.starts_with(&COLUMNS.join(",")), "{text}");
        let again = read_directory_csv(out.as_slice()).unwrap();
        assert_eq!(
            again.iter().map(|r| (&r.structure, &r.services)).collect::<Vec<_>>(),
            recs.iter().map(|r| (&r.structure, &r.services)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn errors_name_the_line() {
        let bad_siret = "identifiant,raison_sociale\n21750001600019,Paris\n21750001600018,Autre\n";
        match read_directory_csv(bad_siret.as_bytes()) {
            Err(AppError::Csv { line: 3, message }) => assert!(message.contains("identifiant"), "{message}"),
            other => panic!("{other:?}"),
        }
        let conflicting = "identifiant,raison_sociale\n21750001600019,Paris\n21750001600019,Lyon\n";
        assert!(matches!(
            read_directory_csv(conflicting.as_bytes()),
            Err(AppError::Csv { line: 3, .. })
        ));
        let bad_flag = "identifiant,raison_sociale,engagement_obligatoire\n21750001600019,Paris,peut-être\n";
        assert!(matches!(
            read_directory_csv(bad_flag.as_bytes()),
            Err(AppError::Csv { line: 2, .. })
        ));
        assert!(matches!(
            read_directory_csv("nom\nx\n".as_bytes()),
            Err(AppError::Csv { line: 1, .. })
        ));
        let dup = "identifiant,raison_sociale,code_service\n21750001600019,Paris,A\n21750001600019,Paris,A\n";
        assert!(matches!(
            read_directory_csv(dup.as_bytes()),
            Err(AppError::Csv { line: 3, .. })
        ));
    }
}
