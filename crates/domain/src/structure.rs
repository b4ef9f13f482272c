//! Structures (spec §1.1–1.2), their services (§1.3) and the invoicing parameters that say which
//! references an invoice addressed to them must carry.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::code::{code_enum, string_newtype};
use crate::{DomainError, StructureIdentifier};

code_enum! {
    /// `structurePriveePublique`.
    pub enum StructureKind ("structurePriveePublique") {
        Public => "PUBLIQUE",
        Private => "PRIVEE",
    }
}

code_enum! {
    /// `statut` of a structure: an inactive structure keeps its history but receives nothing.
    pub enum StructureStatus ("statut") {
        Active => "ACTIVE",
        Inactive => "INACTIVE",
    }
}

code_enum! {
    /// The portal's three-way "présence MOA" setting (works contracts, spec §1.2).
    #[derive(Default)]
    pub enum MoaPresence ("presenceMoa") {
        /// Not a project owner.
        #[default]
        None => "SANS_MOA",
        /// May act as *maîtrise d'ouvrage* besides its ordinary role (`aMoa`).
        WithMoa => "AVEC_MOA",
        /// Acts only as *maîtrise d'ouvrage* (`aMoa` + `estMoaUniquement`).
        MoaOnly => "MOA_UNIQUEMENT",
    }
}

impl MoaPresence {
    /// The API flag `aMoa`.
    pub fn a_moa(self) -> bool {
        self != MoaPresence::None
    }

    /// The API flag `estMoaUniquement`.
    pub fn moa_only(self) -> bool {
        self == MoaPresence::MoaOnly
    }
}

/// Intra-EU VAT number: two-letter prefix then 2 to 13 letters/digits. Chorus Pro checks presence,
/// not validity, so only the shape is enforced.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VatNumber(String);
string_newtype!(VatNumber);

impl VatNumber {
    /// Parses a VAT number; spaces and dots are dropped, letters upper-cased.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let v: String = input
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-'))
            .collect::<String>()
            .to_ascii_uppercase();
        let b = v.as_bytes();
        if !(4..=15).contains(&b.len()) {
            return Err(DomainError::format("numeroTVA", "4 to 15 characters"));
        }
        if !b[..2].iter().all(u8::is_ascii_uppercase) || !b.iter().all(u8::is_ascii_alphanumeric) {
            return Err(DomainError::format(
                "numeroTVA",
                "country prefix then letters or digits",
            ));
        }
        Ok(Self(v))
    }
}

/// Postal address of a structure's head office (`adressePostaleDuSiege`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub line1: String,
    pub line2: Option<String>,
    pub line3: Option<String>,
    pub postcode: String,
    pub city: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    pub phone: Option<String>,
}

/// A structure's invoicing rules (`parametres`): which references invoices to it must carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StructureParameters {
    /// `codeServiceDoitEtreRenseigne`.
    pub service_code_required: bool,
    /// `numeroEJDoitEtreRenseigne`.
    pub engagement_required: bool,
    /// `gestionNumeroEJOuCodeService`: at least one of the two.
    pub service_code_or_engagement_required: bool,
    /// `statutMiseEnPaiementNestPasRemonte`: the structure never reports `MISE_EN_PAIEMENT`.
    pub payment_status_not_reported: bool,
    /// `aMoa` / `estMoaUniquement`.
    pub moa: MoaPresence,
}

/// A reference an invoice lacks for its recipient (platform rule, checked after EN 16931).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MissingReference {
    ServiceCode,
    Engagement,
    ServiceCodeOrEngagement,
}

impl StructureParameters {
    /// Which references are missing on an invoice to this structure (and optionally to one of its
    /// services, whose own "engagement required" flag adds to the structure's, spec §1.3).
    pub fn missing_references(
        &self,
        service: Option<&ServiceParameters>,
        has_service_code: bool,
        has_engagement: bool,
    ) -> Vec<MissingReference> {
        let mut missing = Vec::new();
        if self.service_code_required && !has_service_code {
            missing.push(MissingReference::ServiceCode);
        }
        let engagement_required = self.engagement_required || service.is_some_and(|s| s.engagement_required);
        if engagement_required && !has_engagement {
            missing.push(MissingReference::Engagement);
        }
        if self.service_code_or_engagement_required && !has_service_code && !has_engagement {
            missing.push(MissingReference::ServiceCodeOrEngagement);
        }
        missing
    }
}

/// A structure (*fiche structure*), without its database id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Structure {
    pub identifier: StructureIdentifier,
    pub kind: StructureKind,
    pub status: StructureStatus,
    /// `raisonSocialeStructure` (company name, or last name for individuals).
    pub company_name: String,
    /// `libelleStructure` shown in lists; often the same as the company name.
    pub label: Option<String>,
    pub email: Option<crate::Email>,
    pub vat_number: Option<VatNumber>,
    pub address: Address,
    pub parameters: StructureParameters,
}

impl Structure {
    /// A new active structure with default parameters.
    pub fn new(identifier: StructureIdentifier, kind: StructureKind, company_name: &str) -> Result<Self, DomainError> {
        let company_name = company_name.trim();
        if company_name.is_empty() || company_name.chars().count() > 200 {
            return Err(DomainError::format("raisonSocialeStructure", "1 to 200 characters"));
        }
        if company_name.chars().any(char::is_control) {
            return Err(DomainError::format("raisonSocialeStructure", "no control characters"));
        }
        Ok(Self {
            identifier,
            kind,
            status: StructureStatus::Active,
            company_name: company_name.to_owned(),
            label: None,
            email: None,
            vat_number: None,
            address: Address::default(),
            parameters: StructureParameters::default(),
        })
    }

    /// The name to display: the label when set, else the company name.
    pub fn display_name(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.company_name)
    }
}

/// Code of the pseudo-service every structure carries (spec §1.3).
pub const DEFAULT_SERVICE_CODE: &str = "FACTURES_PUBLIQUES";
/// Label of the default pseudo-service.
pub const DEFAULT_SERVICE_LABEL: &str = "Service des factures publiques";

/// `codeService`: chosen by each entity, at most 100 characters (spec §1.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceCode(String);
string_newtype!(ServiceCode);

impl ServiceCode {
    /// Parses a service code: trimmed, 1 to 100 characters, no control characters.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let s = input.trim();
        if s.is_empty() || s.chars().count() > 100 {
            return Err(DomainError::format("codeService", "1 to 100 characters"));
        }
        if s.chars().any(char::is_control) {
            return Err(DomainError::format("codeService", "no control characters"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The default `FACTURES_PUBLIQUES` service code.
    pub fn default_service() -> Self {
        Self(DEFAULT_SERVICE_CODE.to_owned())
    }

    /// Whether this is the default pseudo-service (connectors skip it when listing).
    pub fn is_default_service(&self) -> bool {
        self.0 == DEFAULT_SERVICE_CODE
    }
}

/// A service's own parameters (`structures/v1/consulter/service` → `parametres`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceParameters {
    /// `numeroEngagement`: an engagement number is required for invoices to this service.
    pub engagement_required: bool,
    /// `miseEnPaiement` is **not** reported for this service.
    pub payment_status_not_reported: bool,
}

/// A service of a structure, without its database id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub code: ServiceCode,
    pub label: String,
    pub active: bool,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub parameters: ServiceParameters,
}

impl Service {
    /// A new active service; the label defaults to the code when blank.
    pub fn new(code: ServiceCode, label: &str) -> Self {
        let label = label.trim();
        let label = if label.is_empty() { code.as_str() } else { label };
        Self {
            label: label.to_owned(),
            code,
            active: true,
            valid_from: None,
            valid_to: None,
            parameters: ServiceParameters::default(),
        }
    }

    /// The default `FACTURES_PUBLIQUES` service every structure receives.
    pub fn default_service() -> Self {
        Self::new(ServiceCode::default_service(), DEFAULT_SERVICE_LABEL)
    }

    /// Sets the validity window, refusing an end before the start.
    pub fn with_validity(mut self, from: Option<Date>, to: Option<Date>) -> Result<Self, DomainError> {
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            return Err(DomainError::Inconsistent {
                field: "dateFinService",
                reason: "ends before it starts",
            });
        }
        self.valid_from = from;
        self.valid_to = to;
        Ok(self)
    }

    /// Whether invoices may be addressed to this service on `day`.
    pub fn accepts_on(&self, day: Date) -> bool {
        self.active && self.valid_from.is_none_or(|f| f <= day) && self.valid_to.is_none_or(|t| day <= t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn service_code_limits() {
        assert!(ServiceCode::parse("").is_err());
        assert!(ServiceCode::parse("   ").is_err());
        assert!(ServiceCode::parse(&"x".repeat(100)).is_ok());
        assert!(ServiceCode::parse(&"é".repeat(100)).is_ok());
        assert!(ServiceCode::parse(&"x".repeat(101)).is_err());
        assert!(ServiceCode::parse("A\nB").is_err());
        assert_eq!(ServiceCode::parse(" SERV1 ").unwrap().as_str(), "SERV1");
        assert!(ServiceCode::default_service().is_default_service());
        assert_eq!(Service::default_service().label, DEFAULT_SERVICE_LABEL);
    }

    #[test]
    fn service_validity() {
        let s = Service::new(ServiceCode::parse("S").unwrap(), "");
        assert_eq!(s.label, "S");
        assert!(
            s.clone()
                .with_validity(Some(date!(2026 - 02 - 01)), Some(date!(2026 - 01 - 01)))
                .is_err()
        );
        let s = s
            .with_validity(Some(date!(2026 - 01 - 01)), Some(date!(2026 - 12 - 31)))
            .unwrap();
        assert!(s.accepts_on(date!(2026 - 06 - 01)));
        assert!(!s.accepts_on(date!(2025 - 12 - 31)));
        assert!(!s.accepts_on(date!(2027 - 01 - 01)));
        let inactive = Service { active: false, ..s };
        assert!(!inactive.accepts_on(date!(2026 - 06 - 01)));
    }

    #[test]
    fn required_references() {
        use MissingReference::*;
        let none = StructureParameters::default();
        assert!(none.missing_references(None, false, false).is_empty());
        let sc = StructureParameters {
            service_code_required: true,
            ..none
        };
        assert_eq!(sc.missing_references(None, false, true), vec![ServiceCode]);
        assert!(sc.missing_references(None, true, false).is_empty());
        let ej = StructureParameters {
            engagement_required: true,
            ..none
        };
        assert_eq!(ej.missing_references(None, true, false), vec![Engagement]);
        let either = StructureParameters {
            service_code_or_engagement_required: true,
            ..none
        };
        assert_eq!(
            either.missing_references(None, false, false),
            vec![ServiceCodeOrEngagement]
        );
        assert!(either.missing_references(None, false, true).is_empty());
        assert!(either.missing_references(None, true, false).is_empty());
        let svc = ServiceParameters {
            engagement_required: true,
            ..Default::default()
        };
        assert_eq!(none.missing_references(Some(&svc), true, false), vec![Engagement]);
    }

    #[test]
    fn moa_flags() {
        assert!(!MoaPresence::None.a_moa());
        assert!(MoaPresence::WithMoa.a_moa() && !MoaPresence::WithMoa.moa_only());
        assert!(MoaPresence::MoaOnly.a_moa() && MoaPresence::MoaOnly.moa_only());
    }

    #[test]
    fn vat_numbers() {
        assert_eq!(VatNumber::parse("fr 40 303 265 045").unwrap().as_str(), "FR40303265045");
        assert!(VatNumber::parse("12345").is_err());
        assert!(VatNumber::parse("FR").is_err());
        assert!(VatNumber::parse("FR_123").is_err());
    }

    #[test]
    fn structure_new() {
        let id = StructureIdentifier::from(crate::Siret::parse("21750001600019").unwrap());
        assert!(Structure::new(id.clone(), StructureKind::Public, "  ").is_err());
        assert!(Structure::new(id.clone(), StructureKind::Public, "Ville\0de Paris").is_err());
        let s = Structure::new(id, StructureKind::Public, " Ville de Paris ").unwrap();
        assert_eq!(s.display_name(), "Ville de Paris");
        assert_eq!(s.status, StructureStatus::Active);
    }
}
