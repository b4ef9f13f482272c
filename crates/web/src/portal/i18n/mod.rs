//! Languages of the portal. Every user-visible string lives in one table per language
//! ([`fr::FR`], [`en::EN`]); both are values of the same struct, so a string missing in one
//! language is a compile error rather than a blank on a page.
mod en;
mod fr;
mod structure;

pub use structure::StructureStrings;

use axum::http::HeaderMap;

/// A language the portal speaks. French first: it is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl Lang {
    /// The two-letter code used in the `lang` attribute, the cookie and the switch links.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The name of a space in this language.
    pub fn space(self, s: facteur_domain::Space) -> &'static str {
        match self {
            Lang::Fr => fr::space(s),
            Lang::En => en::space(s),
        }
    }

    /// The name of an identifier kind in this language (the code stays the form value).
    pub fn identifier_kind(self, k: facteur_domain::IdentifierKind) -> &'static str {
        match self {
            Lang::Fr => fr::identifier_kind(k),
            Lang::En => en::identifier_kind(k),
        }
    }

    /// The identifier kinds as `(code, name)` pairs, in the order of spec §1.1 (SIRET first).
    pub fn identifier_kinds(self) -> Vec<(&'static str, &'static str)> {
        facteur_domain::IdentifierKind::ALL
            .iter()
            .map(|k| (k.as_str(), self.identifier_kind(*k)))
            .collect()
    }

    /// A date as people write it: `06/12/2026` in French, ISO `2026-12-06` in English.
    pub fn date(self, d: time::Date) -> String {
        let (y, m, day) = (d.year(), u8::from(d.month()), d.day());
        match self {
            Lang::Fr => format!("{day:02}/{m:02}/{y:04}"),
            Lang::En => format!("{y:04}-{m:02}-{day:02}"),
        }
    }

    /// The strings of the "Ma structure" pages in this language.
    pub fn structure(self) -> &'static StructureStrings {
        match self {
            Lang::Fr => &structure::FR,
            Lang::En => &structure::EN,
        }
    }

    /// The strings of this language.
    pub fn t(self) -> &'static Strings {
        match self {
            Lang::Fr => &fr::FR,
            Lang::En => &en::EN,
        }
    }

    /// Picks the language: explicit choice (cookie) first, then the browser's preference,
    /// then French.
    pub fn negotiate(cookie: Option<&str>, headers: &HeaderMap) -> Lang {
        if let Some(lang) = cookie.and_then(Lang::from_code) {
            return lang;
        }
        let accept = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // First listed language we speak wins; q-values are in practice already in order.
        for part in accept.split(',') {
            let tag = part.split(';').next().unwrap_or("").trim();
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(lang) = Lang::from_code(primary) {
                return lang;
            }
        }
        Lang::Fr
    }
}

/// Every string of the portal, for one language.
#[derive(Debug)]
pub struct Strings {
    /// Which language these are (lets templates ask for other tables, e.g. space names).
    pub lang: Lang,
    // layout
    pub site_tagline: &'static str,
    pub skip_link: &'static str,
    pub lang_switch_label: &'static str,
    pub nav_label: &'static str,
    pub nav_home: &'static str,
    pub nav_directory: &'static str,
    pub nav_account: &'static str,
    pub nav_attachments: &'static str,
    pub nav_spaces: &'static str,
    pub nav_requests: &'static str,
    pub nav_members: &'static str,
    pub nav_manage_spaces: &'static str,
    pub nav_technical: &'static str,
    pub login: &'static str,
    pub logout: &'static str,
    pub signup: &'static str,
    pub footer: &'static str,
    pub signed_in_as: &'static str,
    pub switcher_label: &'static str,
    pub switch_button: &'static str,
    // generic
    pub error_title: &'static str,
    pub error_generic: &'static str,
    pub error_csrf: &'static str,
    pub error_forbidden: &'static str,
    pub error_not_found: &'static str,
    pub error_rate_limited: &'static str,
    pub back_home: &'static str,
    pub saved: &'static str,
    pub none_yet: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub actions: &'static str,
    // fields
    pub email: &'static str,
    pub password: &'static str,
    pub password_hint: &'static str,
    pub password_confirm: &'static str,
    pub identifier_kind: &'static str,
    pub identifier: &'static str,
    pub identifier_hint: &'static str,
    pub structure_name: &'static str,
    pub structure_name_hint: &'static str,
    pub first_name: &'static str,
    pub last_name: &'static str,
    // field errors
    pub err_required: &'static str,
    pub err_email_invalid: &'static str,
    pub err_password_weak: &'static str,
    pub err_password_mismatch: &'static str,
    pub err_identifier_invalid: &'static str,
    pub err_siret_invalid: &'static str,
    pub err_login_failed: &'static str,
    pub err_account_inactive: &'static str,
    pub err_structure_unknown: &'static str,
    pub err_main_manager_first: &'static str,
    pub err_space_not_open: &'static str,
    pub err_email_taken: &'static str,
    pub err_identifier_taken: &'static str,
    pub err_already_subscribed: &'static str,
    pub err_moved_on: &'static str,
    pub err_already_member: &'static str,
    // sign-up / activation
    pub signup_title: &'static str,
    pub signup_lead: &'static str,
    pub signup_submit: &'static str,
    pub signup_have_account: &'static str,
    pub check_mail_title: &'static str,
    pub check_mail_body: &'static str,
    pub check_mail_pending: &'static str,
    pub activation_ok_title: &'static str,
    pub activation_ok_body: &'static str,
    pub activation_bad_title: &'static str,
    pub activation_expired: &'static str,
    pub activation_invalid: &'static str,
    pub resend_link: &'static str,
    pub resend_done: &'static str,
    // login
    pub login_title: &'static str,
    pub login_submit: &'static str,
    pub login_forgot: &'static str,
    pub login_no_account: &'static str,
    pub logged_out: &'static str,
    // password reset
    pub reset_title: &'static str,
    pub reset_lead: &'static str,
    pub reset_submit: &'static str,
    pub reset_sent: &'static str,
    pub reset_new_title: &'static str,
    pub reset_new_submit: &'static str,
    pub reset_done: &'static str,
    pub reset_bad_token: &'static str,
    // home
    pub home_title: &'static str,
    pub home_lead: &'static str,
    pub home_no_structure: &'static str,
    pub home_current: &'static str,
    pub role: &'static str,
    pub role_main: &'static str,
    pub role_secondary: &'static str,
    pub role_user: &'static str,
    pub status: &'static str,
    pub status_pending: &'static str,
    pub status_approved: &'static str,
    pub status_refused: &'static str,
    pub status_detached: &'static str,
    pub welcome_public_title: &'static str,
    pub welcome_public_body: &'static str,
    // structures & directory
    pub structure: &'static str,
    pub structures_mine: &'static str,
    pub public_entity: &'static str,
    pub private_entity: &'static str,
    pub postcode: &'static str,
    pub city: &'static str,
    pub services: &'static str,
    pub requires_service_code: &'static str,
    pub requires_engagement: &'static str,
    pub directory_title: &'static str,
    pub directory_lead: &'static str,
    pub directory_query: &'static str,
    pub err_search_text: &'static str,
    pub directory_query_hint: &'static str,
    pub directory_submit: &'static str,
    pub directory_results: &'static str,
    pub directory_none: &'static str,
    pub recipient_label: &'static str,
    pub recipient_hint: &'static str,
    pub recipient_chosen: &'static str,
    // attachments
    pub attach_title: &'static str,
    pub attach_lead: &'static str,
    pub attach_submit: &'static str,
    pub attach_sent: &'static str,
    pub my_attachments_title: &'static str,
    // manager
    pub requests_title: &'static str,
    pub requests_lead: &'static str,
    pub requests_none: &'static str,
    pub select: &'static str,
    pub approve: &'static str,
    pub refuse: &'static str,
    pub approve_selected: &'static str,
    pub refuse_selected: &'static str,
    pub requested_on: &'static str,
    pub members_title: &'static str,
    pub attach_direct_title: &'static str,
    pub attach_direct_submit: &'static str,
    pub detach: &'static str,
    pub promote: &'static str,
    pub transfer_main: &'static str,
    pub duplicate_rights_title: &'static str,
    pub duplicate_from: &'static str,
    pub duplicate_to: &'static str,
    pub duplicate_submit: &'static str,
    pub members_services: &'static str,
    pub all_services: &'static str,
    pub member_services_title: &'static str,
    pub member_services_hint: &'static str,
    pub member_services_user: &'static str,
    pub member_services_submit: &'static str,
    pub err_member_services: &'static str,
    pub err_not_manager: &'static str,
    pub err_user_unknown: &'static str,
    // spaces
    pub spaces_title: &'static str,
    pub spaces_open: &'static str,
    pub space: &'static str,
    pub space_opened: &'static str,
    pub open_space: &'static str,
    pub subscriptions_pending: &'static str,
    pub my_spaces_title: &'static str,
    pub subscribe: &'static str,
    pub mode: &'static str,
    pub mode_consultation: &'static str,
    pub mode_modification: &'static str,
    // technical accounts
    pub technical_title: &'static str,
    pub technical_lead: &'static str,
    pub technical_create: &'static str,
    pub technical_reset: &'static str,
    pub technical_secret_once: &'static str,
    pub login_name: &'static str,
    pub client_id: &'static str,
    pub client_secret: &'static str,
    pub expires: &'static str,
    // my account
    pub account_title: &'static str,
    pub account_lead: &'static str,
    // portal UX: summaries, confirmations, error pages
    /// Between a field's name and its message in the error summary (" : " in French).
    pub label_sep: &'static str,
    pub reset_bad_title: &'static str,
    pub error_summary_title: &'static str,
    pub error_unexpected: &'static str,
    pub not_found_title: &'static str,
    pub cancel: &'static str,
    pub confirm_detach_title: &'static str,
    pub confirm_detach_body: &'static str,
    pub confirm_transfer_title: &'static str,
    pub confirm_transfer_body: &'static str,
    pub confirm_refuse_title: &'static str,
    pub confirm_refuse_body: &'static str,
    pub confirm_refuse_sub_title: &'static str,
    pub confirm_refuse_sub_body: &'static str,
    pub confirm_reset_title: &'static str,
    pub confirm_reset_body: &'static str,
    pub technical_copy: &'static str,
    pub technical_copied: &'static str,
    pub technical_already_shown: &'static str,
    pub duplicate_need_two: &'static str,
    pub err_duplicate_same: &'static str,
    pub err_choose_user: &'static str,
    pub err_structure_name_needed: &'static str,
    pub err_structure_name_invalid: &'static str,
    pub default_service_label: &'static str,
    pub service_code: &'static str,
}

impl Strings {
    /// The label of a form field, by its `name`, so the error summary says which field a message
    /// is about; `None` for messages about the whole form (or a field the page does not show).
    pub fn field_label(&self, field: &str) -> Option<&'static str> {
        Some(match field {
            "email" => self.email,
            "password" => self.password,
            "confirm" => self.password_confirm,
            "identifier_kind" => self.identifier_kind,
            "identifier" => self.identifier,
            "name" => self.structure_name,
            "from" => self.duplicate_from,
            "to" => self.duplicate_to,
            "user" => self.member_services_user,
            "services" => self.members_services,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn french_is_the_default_and_the_cookie_wins() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::negotiate(None, &h), Lang::Fr);
        h.insert(
            axum::http::header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("en-GB,en;q=0.9,fr;q=0.5"),
        );
        assert_eq!(Lang::negotiate(None, &h), Lang::En);
        assert_eq!(Lang::negotiate(Some("fr"), &h), Lang::Fr);
        assert_eq!(Lang::negotiate(Some("xx"), &h), Lang::En);
        h.insert(
            axum::http::header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("de-DE,de"),
        );
        assert_eq!(Lang::negotiate(None, &h), Lang::Fr);
    }

    #[test]
    fn dates_and_identifier_kinds_read_as_people_expect() {
        let d = time::macros::date!(2026 - 12 - 06);
        assert_eq!(Lang::Fr.date(d), "06/12/2026");
        assert_eq!(Lang::En.date(d), "2026-12-06");
        let kinds = Lang::Fr.identifier_kinds();
        assert_eq!(kinds[0].0, "SIRET");
        assert!(kinds.iter().all(|(code, name)| code != name));
        assert_eq!(
            Lang::En.identifier_kind(facteur_domain::IdentifierKind::EuOutsideFrance),
            "Intra-EU VAT number (EU outside France)"
        );
    }

    #[test]
    fn each_table_knows_its_language_and_they_differ() {
        assert_eq!(Lang::Fr.t().lang, Lang::Fr);
        assert_eq!(Lang::En.t().lang, Lang::En);
        assert_ne!(Lang::Fr.t().login, Lang::En.t().login);
        assert_ne!(
            Lang::Fr.space(facteur_domain::Space::InvoicesIssued),
            Lang::En.space(facteur_domain::Space::InvoicesIssued)
        );
    }
}
