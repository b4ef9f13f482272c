//! Users, roles, attachments (*rattachements*) and spaces (*espaces*), spec §1.4.

use crate::DomainError;
use crate::code::{code_enum, string_newtype};

/// E-mail address used as the login. Normalised to lower case so uniqueness is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);
string_newtype!(Email);

impl Email {
    /// Parses an address: one `@`, a non-empty local part (≤ 64), a dotted domain, no spaces or
    /// control characters, ≤ 254 characters. Deliverability is proven by the activation mail.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        const F: &str = "email";
        let v = input.trim().to_lowercase();
        if v.is_empty() || v.len() > 254 {
            return Err(DomainError::format(F, "1 to 254 characters"));
        }
        if v.chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"'))
        {
            return Err(DomainError::format(F, "forbidden character"));
        }
        let Some((local, domain)) = v.split_once('@') else {
            return Err(DomainError::format(F, "missing @"));
        };
        if local.is_empty() || local.len() > 64 || domain.contains('@') {
            return Err(DomainError::format(F, "bad local part"));
        }
        let labels_ok = domain
            .split('.')
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
        if !domain.contains('.') || !labels_ok {
            return Err(DomainError::format(F, "bad domain"));
        }
        Ok(Self(v))
    }
}

code_enum! {
    /// `statutUtilisateur`.
    pub enum UserStatus ("statutUtilisateur") {
        /// Created, activation link not followed yet.
        PendingActivation => "EN_ATTENTE_ACTIVATION",
        Active => "ACTIF",
        /// Disabled by an administrator or by the user; cannot log in.
        Inactive => "INACTIF",
    }
}

code_enum! {
    /// `roleUtilisateur` on an attachment.
    pub enum Role ("roleUtilisateur") {
        /// Created the structure; administers it; the only one who may reset the technical account.
        MainManager => "GESTIONNAIRE_PRINCIPAL",
        /// Same management rights, delegated.
        SecondaryManager => "GESTIONNAIRE_SECONDAIRE",
        SimpleUser => "UTILISATEUR_SIMPLE",
    }
}

impl Role {
    /// Whether the role may manage the structure (attachments, spaces, services).
    pub fn is_manager(self) -> bool {
        matches!(self, Role::MainManager | Role::SecondaryManager)
    }
}

code_enum! {
    /// `statutRattachement`: the life of an attachment request.
    pub enum MembershipStatus ("statutRattachement") {
        /// Requested, waiting for a manager.
        Pending => "EN_ATTENTE",
        Approved => "VALIDE",
        Refused => "REFUSE",
        /// Was approved, then the user was detached.
        Detached => "DETACHE",
    }
}

impl MembershipStatus {
    /// Whether a manager decision may move an attachment from `self` to `next`.
    pub fn can_become(self, next: MembershipStatus) -> bool {
        use MembershipStatus::*;
        matches!(
            (self, next),
            (Pending, Approved | Refused) | (Approved, Detached) | (Refused | Detached, Pending)
        )
    }
}

code_enum! {
    /// A space (*espace*): a group of features shown as a top-menu tab (spec §1.4).
    pub enum Space ("espace") {
        MyAccount => "MON_COMPTE",
        ManagerActivities => "ACTIVITES_GESTIONNAIRE",
        InvoicesIssued => "FACTURES_EMISES",
        InvoicesReceived => "FACTURES_RECUES",
        InvoicesToValidate => "FACTURES_A_VALIDER",
        WorksInvoices => "FACTURES_TRAVAUX",
        JusticeMemos => "MEMOIRES_JUSTICE",
        TicRefunds => "DEMANDES_REMBOURSEMENT_TIC",
        LegalCommitments => "ENGAGEMENTS_JURIDIQUES",
        RequestsIssued => "SOLLICITATIONS_EMISES",
        RequestsReceived => "SOLLICITATIONS_RECUES",
        Messages => "MES_MESSAGES",
        EdiApiConnection => "RACCORDEMENT_EDI_API",
    }
}

impl Space {
    /// Whether a simple user's subscription must be validated by a manager. Since v2.0 any user
    /// may add or remove "Factures émises" freely; "Mon compte" is everyone's.
    pub fn subscription_needs_approval(self) -> bool {
        !matches!(self, Space::InvoicesIssued | Space::MyAccount)
    }

    /// Spaces opened on a new structure: requests for all, invoices both ways for public bodies.
    pub fn opened_by_default(kind: crate::StructureKind) -> Vec<Space> {
        let mut v = vec![
            Space::MyAccount,
            Space::ManagerActivities,
            Space::RequestsIssued,
            Space::RequestsReceived,
        ];
        match kind {
            crate::StructureKind::Public => v.extend([Space::InvoicesIssued, Space::InvoicesReceived]),
            crate::StructureKind::Private => v.push(Space::InvoicesIssued),
        }
        v
    }

    /// Spaces a new member subscribes to at once: requests for all, manager activities for
    /// managers.
    pub fn subscribed_by_default(role: Role) -> Vec<Space> {
        let mut v = vec![Space::MyAccount, Space::RequestsIssued, Space::RequestsReceived];
        if role.is_manager() {
            v.push(Space::ManagerActivities);
        }
        v
    }
}

code_enum! {
    /// Subscription mode to a space.
    pub enum SpaceMode ("mode") {
        /// Read only.
        Consultation => "CONSULTATION",
        /// Read and act.
        Modification => "MODIFICATION",
    }
}

code_enum! {
    /// Status of a user's subscription to a space.
    pub enum SubscriptionStatus ("statutAbonnement") {
        Pending => "EN_ATTENTE",
        Approved => "VALIDE",
        Refused => "REFUSE",
    }
}

impl SubscriptionStatus {
    /// Whether a subscription may move from `self` to `next`: a manager decides a pending one; a
    /// validated subscription whose mode the user changes waits for a manager again; a refused one
    /// may be asked again (or granted at once where no validation is needed). Staying in the same
    /// status (a change of mode only) is not a move.
    pub fn can_become(self, next: SubscriptionStatus) -> bool {
        use SubscriptionStatus::*;
        matches!(
            (self, next),
            (Pending, Approved | Refused) | (Approved, Pending) | (Refused, Pending | Approved)
        )
    }
}

code_enum! {
    /// What a one-time token (sent by e-mail) is for.
    pub enum TokenPurpose ("usage") {
        /// Account activation link (valid 60 minutes in Chorus Pro).
        Activation => "ACTIVATION",
        PasswordReset => "REINITIALISATION_MOT_DE_PASSE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Jean.Dupont@Example.FR ").unwrap().as_str(),
            "jean.dupont@example.fr"
        );
        for bad in [
            "",
            "a",
            "a@b",
            "@example.fr",
            "a@@example.fr",
            "a b@example.fr",
            "a@example..fr",
            "a@-x.fr",
            "a@x\n.fr",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@example.fr", "a".repeat(65))).is_err());
    }

    #[test]
    fn roles_and_statuses() {
        assert!(Role::MainManager.is_manager() && Role::SecondaryManager.is_manager());
        assert!(!Role::SimpleUser.is_manager());
        use MembershipStatus::*;
        assert!(Pending.can_become(Approved) && Pending.can_become(Refused));
        assert!(Approved.can_become(Detached));
        assert!(!Refused.can_become(Approved));
        assert!(!Approved.can_become(Refused));
        assert_eq!("VALIDE".parse::<MembershipStatus>().unwrap(), Approved);
    }

    #[test]
    fn spaces() {
        assert_eq!(Space::ALL.len(), 13);
        assert!(!Space::InvoicesIssued.subscription_needs_approval());
        assert!(Space::InvoicesReceived.subscription_needs_approval());
        let public = Space::opened_by_default(crate::StructureKind::Public);
        assert!(public.contains(&Space::InvoicesReceived));
        assert!(!Space::opened_by_default(crate::StructureKind::Private).contains(&Space::InvoicesReceived));
        assert!(Space::subscribed_by_default(Role::MainManager).contains(&Space::ManagerActivities));
        assert!(!Space::subscribed_by_default(Role::SimpleUser).contains(&Space::ManagerActivities));
        for s in Space::ALL {
            assert_eq!(s.as_str().parse::<Space>().unwrap(), *s);
        }
    }

    proptest! {
        #[test]
        fn email_never_panics_and_is_idempotent(s in "\\PC{0,80}") {
            if let Ok(e) = Email::parse(&s) {
                prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e);
            }
        }
    }

    proptest! {
        /// Whatever moves are asked, in any order, from a new request: a membership is only ever
        /// approved straight from pending (a refused or detached user asks again first), and a
        /// subscription leaves "validated" only to wait for a manager again.
        #[test]
        fn transition_tables_keep_their_invariants(
            asked in proptest::collection::vec(0usize..4, 0..24),
            subs in proptest::collection::vec(0usize..3, 0..24),
        ) {
            let mut m = MembershipStatus::Pending;
            for i in asked {
                let to = MembershipStatus::ALL[i];
                if m.can_become(to) {
                    prop_assert!(to != MembershipStatus::Approved || m == MembershipStatus::Pending);
                    prop_assert!(to != MembershipStatus::Detached || m == MembershipStatus::Approved);
                    m = to;
                }
            }
            let mut s = SubscriptionStatus::Pending;
            for i in subs {
                let to = SubscriptionStatus::ALL[i];
                if s.can_become(to) {
                    prop_assert!(s != SubscriptionStatus::Approved || to == SubscriptionStatus::Pending);
                    prop_assert!(!s.can_become(s), "staying is not a move");
                    s = to;
                }
            }
        }
    }
}
