//! What a structure's managers edit on its record (spec §1.2): its coordinates (names, e-mail,
//! VAT number, head-office address, phone) and the rule on the references invoices must carry.
//! The identifier, the kind (public/private) and the status are not theirs to change: a SIRET
//! change creates a new structure (§1.7), public structures are the operator's.

use serde::{Deserialize, Serialize};

use crate::code::code_enum;
use crate::{Address, DomainError, Email, Structure, StructureParameters, VatNumber};

/// Checks a free text field: trimmed, at most `max` characters, no control characters; blank is
/// `None`, or a [`DomainError::Format`] when `required`.
pub fn text_field(field: &'static str, input: &str, max: usize, required: bool) -> Result<Option<String>, DomainError> {
    let v = input.trim();
    if v.is_empty() {
        return if required {
            Err(DomainError::format(field, "required"))
        } else {
            Ok(None)
        };
    }
    if v.chars().count() > max {
        return Err(DomainError::format(field, "too long"));
    }
    if v.chars().any(char::is_control) {
        return Err(DomainError::format(field, "no control characters"));
    }
    Ok(Some(v.to_owned()))
}

/// The same error about another field (a value parsed by a type that names its own field).
fn renamed(e: DomainError, field: &'static str) -> DomainError {
    match e {
        DomainError::Format { reason, .. } => DomainError::Format { field, reason },
        DomainError::Checksum { .. } => DomainError::Checksum { field },
        DomainError::UnknownCode { value, .. } => DomainError::UnknownCode { field, value },
        DomainError::Inconsistent { reason, .. } => DomainError::Inconsistent { field, reason },
    }
}

/// The coordinates as typed (portal form or API body); blank means absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoordinatesForm {
    pub company_name: String,
    pub label: String,
    pub email: String,
    pub vat_number: String,
    pub line1: String,
    pub line2: String,
    pub line3: String,
    pub postcode: String,
    pub city: String,
    pub country: String,
    pub phone: String,
}

/// Checked coordinates of a structure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coordinates {
    pub company_name: String,
    pub label: Option<String>,
    pub email: Option<Email>,
    pub vat_number: Option<VatNumber>,
    pub address: Address,
}

impl Coordinates {
    /// Checks every field and returns **all** the errors, each naming its field with the API's
    /// name (`raisonSocialeStructure`, `emailStructure`, `codePostal`…). Company name, address,
    /// postcode, city and country are required; a French postcode has 5 digits.
    pub fn parse(form: &CoordinatesForm) -> Result<Coordinates, Vec<DomainError>> {
        let mut errors = Vec::new();
        let mut keep = |r: Result<Option<String>, DomainError>| match r {
            Ok(v) => v,
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let company_name = keep(text_field("raisonSocialeStructure", &form.company_name, 200, true));
        let label = keep(text_field("libelleStructure", &form.label, 200, false));
        let line1 = keep(text_field("adresse", &form.line1, 200, true));
        let line2 = keep(text_field("complementAdresse1", &form.line2, 200, false));
        let line3 = keep(text_field("complementAdresse2", &form.line3, 200, false));
        let city = keep(text_field("ville", &form.city, 100, true));
        let country = form.country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            errors.push(DomainError::format("pays", "ISO 3166 two-letter code"));
        }
        let postcode = form.postcode.trim().to_ascii_uppercase();
        let postcode_ok = if country == "FR" {
            postcode.len() == 5 && postcode.bytes().all(|b| b.is_ascii_digit())
        } else {
            (1..=10).contains(&postcode.len())
                && postcode
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-')
        };
        if !postcode_ok {
            errors.push(DomainError::format("codePostal", "postcode of the country"));
        }
        let phone = form.phone.trim();
        let phone = if phone.is_empty() {
            None
        } else if (4..=20).contains(&phone.len())
            && phone
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '.' | '-' | '(' | ')'))
            && phone.chars().filter(char::is_ascii_digit).count() >= 4
        {
            Some(phone.to_owned())
        } else {
            errors.push(DomainError::format("telephone", "digits, spaces, + . - ( )"));
            None
        };
        let email = match form.email.trim() {
            "" => None,
            e => Email::parse(e)
                .map_err(|e| errors.push(renamed(e, "emailStructure")))
                .ok(),
        };
        let vat_number = match form.vat_number.trim() {
            "" => None,
            v => VatNumber::parse(v).map_err(|e| errors.push(e)).ok(),
        };
        match (errors.is_empty(), company_name, line1, city) {
            (true, Some(company_name), Some(line1), Some(city)) => Ok(Coordinates {
                company_name,
                label,
                email,
                vat_number,
                address: Address {
                    line1,
                    line2,
                    line3,
                    postcode,
                    city,
                    country,
                    phone,
                },
            }),
            _ => Err(errors),
        }
    }

    /// The coordinates a structure has now.
    pub fn of(s: &Structure) -> Coordinates {
        Coordinates {
            company_name: s.company_name.clone(),
            label: s.label.clone(),
            email: s.email.clone(),
            vat_number: s.vat_number.clone(),
            address: s.address.clone(),
        }
    }

    /// Writes these coordinates onto `s` (identifier, kind, status and parameters untouched).
    pub fn apply_to(self, s: &mut Structure) {
        s.company_name = self.company_name;
        s.label = self.label;
        s.email = self.email;
        s.vat_number = self.vat_number;
        s.address = self.address;
    }
}

impl CoordinatesForm {
    /// The form filled with a structure's current coordinates.
    pub fn of(s: &Structure) -> CoordinatesForm {
        let a = &s.address;
        CoordinatesForm {
            company_name: s.company_name.clone(),
            label: s.label.clone().unwrap_or_default(),
            email: s.email.as_ref().map(|e| e.as_str().to_owned()).unwrap_or_default(),
            vat_number: s.vat_number.as_ref().map(|v| v.as_str().to_owned()).unwrap_or_default(),
            line1: a.line1.clone(),
            line2: a.line2.clone().unwrap_or_default(),
            line3: a.line3.clone().unwrap_or_default(),
            postcode: a.postcode.clone(),
            city: a.city.clone(),
            country: a.country.clone(),
            phone: a.phone.clone().unwrap_or_default(),
        }
    }
}

code_enum! {
    /// Which references invoices to the structure must carry: the portal's one choice over the
    /// three API flags (`codeServiceDoitEtreRenseigne`, `numeroEJDoitEtreRenseigne`,
    /// `gestionNumeroEJOuCodeService`), as connectors read them (none / service / engagement /
    /// both / one of the two).
    #[derive(Default)]
    pub enum ReferenceRule ("referencesObligatoires") {
        #[default]
        None => "AUCUNE",
        ServiceCode => "CODE_SERVICE",
        Engagement => "ENGAGEMENT",
        Both => "CODE_SERVICE_ET_ENGAGEMENT",
        Either => "CODE_SERVICE_OU_ENGAGEMENT",
    }
}

impl ReferenceRule {
    /// The rule the parameters express.
    pub fn of(p: &StructureParameters) -> ReferenceRule {
        match (
            p.service_code_required,
            p.engagement_required,
            p.service_code_or_engagement_required,
        ) {
            (true, true, _) => ReferenceRule::Both,
            (true, false, _) => ReferenceRule::ServiceCode,
            (false, true, _) => ReferenceRule::Engagement,
            (false, false, true) => ReferenceRule::Either,
            (false, false, false) => ReferenceRule::None,
        }
    }

    /// Sets the three flags of `p` to this rule.
    pub fn apply_to(self, p: &mut StructureParameters) {
        let (sc, ej, either) = match self {
            ReferenceRule::None => (false, false, false),
            ReferenceRule::ServiceCode => (true, false, false),
            ReferenceRule::Engagement => (false, true, false),
            ReferenceRule::Both => (true, true, false),
            ReferenceRule::Either => (false, false, true),
        };
        p.service_code_required = sc;
        p.engagement_required = ej;
        p.service_code_or_engagement_required = either;
    }
}

impl StructureParameters {
    /// Refuses "one of the two" together with a required reference: it would say nothing more,
    /// and a reader of the three flags could not tell which rule was meant.
    pub fn check(&self) -> Result<(), DomainError> {
        if self.service_code_or_engagement_required && (self.service_code_required || self.engagement_required) {
            return Err(DomainError::Inconsistent {
                field: "gestionNumeroEJOuCodeService",
                reason: "redundant with a required service code or engagement",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MoaPresence;

    fn form() -> CoordinatesForm {
        CoordinatesForm {
            company_name: " Menuiserie Martin ".into(),
            line1: "1 rue de la Paix".into(),
            postcode: "75002".into(),
            city: "Paris".into(),
            country: "fr".into(),
            ..Default::default()
        }
    }

    fn fields(errors: &[DomainError]) -> Vec<&'static str> {
        errors.iter().map(DomainError::field).collect()
    }

    #[test]
    fn coordinates_are_trimmed_and_normalised() {
        let c = Coordinates::parse(&CoordinatesForm {
            email: " Compta@Exemple.FR ".into(),
            vat_number: "fr 40 303 265 045".into(),
            phone: "+33 1 23 45 67 89".into(),
            ..form()
        })
        .unwrap();
        assert_eq!(c.company_name, "Menuiserie Martin");
        assert_eq!(c.address.country, "FR");
        assert_eq!(c.email.unwrap().as_str(), "compta@exemple.fr");
        assert_eq!(c.vat_number.unwrap().as_str(), "FR40303265045");
        assert_eq!(c.label, None);
    }

    #[test]
    fn every_error_is_reported_with_its_field() {
        let errors = Coordinates::parse(&CoordinatesForm {
            company_name: " ".into(),
            email: "pas-une-adresse".into(),
            postcode: "7500".into(),
            phone: "abc".into(),
            vat_number: "12".into(),
            ..form()
        })
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            vec![
                "raisonSocialeStructure",
                "codePostal",
                "telephone",
                "emailStructure",
                "numeroTVA"
            ]
        );
        let foreign = CoordinatesForm {
            country: "GB".into(),
            postcode: "SW1A 1AA".into(),
            ..form()
        };
        assert!(Coordinates::parse(&foreign).is_ok());
        let bad_country = CoordinatesForm {
            country: "France".into(),
            ..form()
        };
        assert_eq!(fields(&Coordinates::parse(&bad_country).unwrap_err()), vec!["pays"]);
    }

    #[test]
    fn the_form_of_a_structure_parses_back_to_its_coordinates() {
        let id = crate::StructureIdentifier::from(crate::Siret::parse("21750001600019").unwrap());
        let mut s = Structure::new(id, crate::StructureKind::Public, "Ville").unwrap();
        Coordinates::parse(&form()).unwrap().apply_to(&mut s);
        assert_eq!(
            Coordinates::parse(&CoordinatesForm::of(&s)).unwrap(),
            Coordinates::of(&s)
        );
    }

    #[test]
    fn reference_rules_round_trip_and_redundant_flags_are_refused() {
        for rule in ReferenceRule::ALL {
            let mut p = StructureParameters {
                moa: MoaPresence::WithMoa,
                ..Default::default()
            };
            rule.apply_to(&mut p);
            assert_eq!(ReferenceRule::of(&p), *rule);
            assert!(p.check().is_ok());
            assert_eq!(p.moa, MoaPresence::WithMoa);
        }
        let redundant = StructureParameters {
            service_code_required: true,
            service_code_or_engagement_required: true,
            ..Default::default()
        };
        assert!(matches!(
            redundant.check(),
            Err(DomainError::Inconsistent {
                field: "gestionNumeroEJOuCodeService",
                ..
            })
        ));
    }
}
