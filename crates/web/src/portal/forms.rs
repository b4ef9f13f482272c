//! Field errors of a submitted form, in the user's language, keyed by field name.
use facteur_app::{AppError, Conflict};

use super::i18n::Strings;

/// Errors to show next to their fields (`"form"` for a message about the whole form).
#[derive(Debug, Default)]
pub struct Errors(Vec<(&'static str, &'static str)>);

impl Errors {
    pub fn get(&self, field: &str) -> Option<&'static str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| *m)
    }
    pub fn add(&mut self, field: &'static str, message: &'static str) {
        if self.get(field).is_none() {
            self.0.push((field, message));
        }
    }
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }
    pub fn one(field: &'static str, message: &'static str) -> Self {
        Errors(vec![(field, message)])
    }
    /// Every `(field, message)` in the order found, for the error summary at the top of a form.
    pub fn list(&self) -> &[(&'static str, &'static str)] {
        &self.0
    }
}

/// Whether an option's value is the selected one (templates compare ids and codes alike).
pub fn same(value: impl std::fmt::Display, selected: impl std::fmt::Display) -> bool {
    value.to_string() == selected.to_string()
}

/// The user's words for a conflict.
pub fn conflict_message(kind: Conflict, t: &'static Strings) -> &'static str {
    match kind {
        Conflict::AlreadyMember | Conflict::AlreadyRequested => t.err_already_member,
        Conflict::MainManagerFirst => t.err_main_manager_first,
        Conflict::SpaceNotOpen => t.err_space_not_open,
        Conflict::ServiceCodeTaken => t.lang.structure().err_service_code_taken,
        Conflict::DefaultService => t.lang.structure().err_default_service,
        Conflict::BankAccountTaken => t.lang.structure().err_bank_taken,
        Conflict::DefaultBankAccount => t.lang.structure().err_default_bank,
        Conflict::InactiveBankAccount => t.lang.structure().err_inactive_bank,
        Conflict::EmailTaken => t.err_email_taken,
        Conflict::IdentifierTaken => t.err_identifier_taken,
        Conflict::AlreadySubscribed => t.err_already_subscribed,
        Conflict::IllegalTransition | Conflict::IdempotencyKeyReplayed | Conflict::Lifecycle(_) => t.err_moved_on,
        Conflict::InvoiceNumberTaken => t.error_generic,
    }
}

/// Translates a use-case refusal into a field error. `None` means the error is not about the
/// user's input (the caller shows an error page instead).
pub fn field_error(err: &AppError, t: &'static Strings, siret: bool) -> Option<(&'static str, &'static str)> {
    match err {
        AppError::Invalid { field, .. } => Some(match *field {
            "email" => ("email", t.err_email_invalid),
            "password" => ("password", t.err_password_weak),
            "identifier" | "identifier_kind" if siret => ("identifier", t.err_siret_invalid),
            "identifier" | "identifier_kind" => ("identifier", t.err_identifier_invalid),
            "structure_name" | "name" => ("name", t.err_structure_name_needed),
            _ => ("form", t.error_generic),
        }),
        AppError::Conflict(kind) => Some(("form", conflict_message(*kind, t))),
        AppError::Unauthenticated => Some(("form", t.err_login_failed)),
        AppError::NotActivated => Some(("form", t.err_account_inactive)),
        AppError::RateLimited { .. } => Some(("form", t.error_rate_limited)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::i18n::Lang;

    #[test]
    fn errors_keep_the_first_message_per_field() {
        let mut e = Errors::default();
        assert!(!e.any());
        e.add("email", "a");
        e.add("email", "b");
        assert_eq!(e.get("email"), Some("a"));
        assert_eq!(e.get("password"), None);
    }

    #[test]
    fn use_case_errors_land_on_their_field_in_the_users_language() {
        let en = Lang::En.t();
        let fr = Lang::Fr.t();
        let bad_siret = AppError::domain_as("identifier", facteur_domain::DomainError::Checksum { field: "siret" });
        assert_eq!(
            field_error(&bad_siret, en, true),
            Some(("identifier", en.err_siret_invalid))
        );
        assert_eq!(
            field_error(&bad_siret, fr, false),
            Some(("identifier", fr.err_identifier_invalid))
        );
        let first = AppError::Conflict(Conflict::MainManagerFirst);
        assert_eq!(
            field_error(&first, fr, false),
            Some(("form", fr.err_main_manager_first))
        );
        assert_eq!(
            field_error(&first, en, false),
            Some(("form", en.err_main_manager_first))
        );
        assert_eq!(field_error(&AppError::Forbidden, fr, false), None);
    }
}
