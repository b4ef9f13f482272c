//! The invoice lifecycle (spec §3.2–3.4): the statuses of a payment request (*demande de
//! paiement*), who may move an invoice from which status to which, and with what motive.
//!
//! Everything is in one table, [`TRANSITIONS`]: each row is a status move, the party allowed to make
//! it and the service that makes it. [`InvoiceStatus::transition`] is the only judge of a move;
//! [`InvoiceStatus::possible_next`] answers `transverses/v1/recuperer/etats/traitement` from the same
//! rows, so what is offered and what is accepted cannot drift apart.
//!
//! Out of this table on purpose: the validation circuit of sub- and co-contracting (`A_VALIDER_1`,
//! `VALIDEE_1`, `REFUSEE_1`…) and the works circuit (`ERREUR_FOURNISSEUR_SUR_MOE`…) are "extra tables
//! over the same mechanism" (architecture, "Invoice lifecycle"), and `EN_COURS_ACHEMINEMENT` is an
//! inferred transient status that no one can observe here, since routing happens in the same
//! transaction as the checks.

use crate::code::{code_enum, string_newtype};
use crate::{DomainError, ServiceParameters, StructureParameters};

code_enum! {
    /// `statut` of an invoice (`statutFacture`, `nouveauStatut`, `statutCourant`), codes as the spec
    /// and the Chorus Pro API spell them.
    pub enum InvoiceStatus ("statut") {
        /// Saved in the portal, not sent (supplier).
        Brouillon => "BROUILLON",
        /// Integrated; the deposit date is the legal start of the payment delay (platform).
        Deposee => "DEPOSEE",
        /// Available in the recipient's space (platform).
        MiseADisposition => "MISE_A_DISPOSITION",
        /// Returned: wrong recipient, service or engagement number; the supplier re-routes it
        /// (recipient, motive required).
        ARecycler => "A_RECYCLER",
        /// Returned: supporting documents missing (recipient, motive required).
        Suspendue => "SUSPENDUE",
        /// The supplier completed a suspended invoice; back in the recipient's queue.
        Completee => "COMPLETEE",
        /// Returned: invoice data wrong; the supplier issues a new invoice (recipient, motive
        /// required). Terminal.
        Rejetee => "REJETEE",
        /// Service certified done (recipient, optional).
        ServiceFait => "SERVICE_FAIT",
        /// Payment order issued (recipient, optional).
        Mandatee => "MANDATEE",
        /// Transmitted to the public accountant (recipient, optional).
        MiseADispositionComptable => "MISE_A_DISPOSITION_COMPTABLE",
        /// Taken into account by the accountant (recipient here, optional).
        Comptabilisee => "COMPTABILISEE",
        /// Payment issued. Terminal; never set for a recipient that does not report it.
        MiseEnPaiement => "MISE_EN_PAIEMENT",
    }
}

code_enum! {
    /// Who acts on an invoice: the two sides of it, or the platform itself.
    pub enum Party ("acteur") {
        /// The supplier structure (*fournisseur*) and its users or technical account.
        Supplier => "FOURNISSEUR",
        /// The recipient structure (*destinataire*) and its users or technical account.
        Recipient => "DESTINATAIRE",
        /// Facteur itself (deposit, routing).
        Platform => "PLATEFORME",
    }
}

code_enum! {
    /// The service (or portal action) behind a lifecycle step; events and audit lines name it.
    pub enum InvoiceAction ("action") {
        /// A portal draft is sent ("Valider et envoyer").
        Send => "ENVOYER",
        /// The platform makes a deposited invoice available to its recipient.
        Route => "METTRE_A_DISPOSITION",
        /// `factures/v1/traiter/recue`: the recipient sets a new status.
        Process => "TRAITER",
        /// `factures/v1/recycler`: the supplier re-routes an invoice to recycle.
        Recycle => "RECYCLER",
        /// `factures/v1/completer`: the supplier completes a suspended invoice.
        Complete => "COMPLETER",
        /// `factures/v1/traiterRejet`: the supplier acknowledges a rejection (`rejetTraite`); the
        /// status does not change.
        AcknowledgeRejection => "TRAITER_REJET",
    }
}

/// What a step asks as motive or comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MotiveRule {
    /// A motive may be given.
    Optional,
    /// A non-blank motive is mandatory (`SUSPENDUE`, `REJETEE`, `A_RECYCLER`).
    Required,
    /// A comment or at least one added attachment (`completer`: "attachments and/or comment").
    RequiredUnlessAttachments,
}

/// One row of the lifecycle table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: InvoiceStatus,
    pub to: InvoiceStatus,
    pub by: Party,
    pub action: InvoiceAction,
    pub motive: MotiveRule,
}

const fn row(from: InvoiceStatus, to: InvoiceStatus, by: Party, action: InvoiceAction) -> Transition {
    let motive = if to.requires_motive() {
        MotiveRule::Required
    } else if matches!(action, InvoiceAction::Complete) {
        MotiveRule::RequiredUnlessAttachments
    } else {
        MotiveRule::Optional
    };
    Transition {
        from,
        to,
        by,
        action,
        motive,
    }
}

// `Send` stays qualified: it would shadow the marker trait.
use InvoiceAction::{Complete, Process, Recycle, Route};
use InvoiceStatus::{
    ARecycler, Brouillon, Completee, Comptabilisee, Deposee, Mandatee, MiseADisposition, MiseADispositionComptable,
    MiseEnPaiement, Rejetee, ServiceFait, Suspendue,
};
use Party::{Platform, Recipient, Supplier};

/// The lifecycle: every allowed status move, who may make it, through which service. Staying in
/// the same status is never a move. The motive rule of each row follows from its target status
/// ([`InvoiceStatus::requires_motive`]) and its action.
///
/// Where the spec is silent (its state machine is marked "inferred"):
/// - the optional processing statuses only move forward, any of them may be skipped
///   (`SERVICE_FAIT` → `MANDATEE` → `MISE_A_DISPOSITION_COMPTABLE` → `COMPTABILISEE` →
///   `MISE_EN_PAIEMENT`); "`MANDATEE` after `MISE_EN_PAIEMENT`" is the spec's example of an
///   incoherent history;
/// - once processing started, the recipient may still reject (a mandate refused by the accountant
///   for a reason tied to the invoice ends in a rejection) but no longer suspend or send back for
///   recycling, which only invoices "à traiter" (`MISE_A_DISPOSITION`, `COMPLETEE`) allow;
/// - a recycled invoice goes back to `DEPOSEE` (the supplier re-deposits it with its new
///   routing) and the platform routes it again like any deposit;
/// - with no public accountant in Facteur, the recipient also sets the accountant's statuses.
pub const TRANSITIONS: &[Transition] = &[
    // Supplier, portal draft: "A saved invoice stays brouillon … until « Valider et envoyer »" (§2.5).
    row(Brouillon, Deposee, Supplier, InvoiceAction::Send),
    // Platform: DEPOSEE --> MISE_A_DISPOSITION (§3.3).
    row(Deposee, MiseADisposition, Platform, Route),
    // Recipient: "MISE_A_DISPOSITION|COMPLETEE --> A_RECYCLER | SUSPENDUE | REJETEE | SERVICE_FAIT |
    // MANDATEE | MISE_A_DISPOSITION_COMPTABLE | COMPTABILISEE | MISE_EN_PAIEMENT" (§3.3).
    row(MiseADisposition, ARecycler, Recipient, Process),
    row(MiseADisposition, Suspendue, Recipient, Process),
    row(MiseADisposition, Rejetee, Recipient, Process),
    row(MiseADisposition, ServiceFait, Recipient, Process),
    row(MiseADisposition, Mandatee, Recipient, Process),
    row(MiseADisposition, MiseADispositionComptable, Recipient, Process),
    row(MiseADisposition, Comptabilisee, Recipient, Process),
    row(MiseADisposition, MiseEnPaiement, Recipient, Process),
    row(Completee, ARecycler, Recipient, Process),
    row(Completee, Suspendue, Recipient, Process),
    row(Completee, Rejetee, Recipient, Process),
    row(Completee, ServiceFait, Recipient, Process),
    row(Completee, Mandatee, Recipient, Process),
    row(Completee, MiseADispositionComptable, Recipient, Process),
    row(Completee, Comptabilisee, Recipient, Process),
    row(Completee, MiseEnPaiement, Recipient, Process),
    // Recipient, processing goes forward (and may still end in a rejection before payment).
    row(ServiceFait, Mandatee, Recipient, Process),
    row(ServiceFait, MiseADispositionComptable, Recipient, Process),
    row(ServiceFait, Comptabilisee, Recipient, Process),
    row(ServiceFait, MiseEnPaiement, Recipient, Process),
    row(ServiceFait, Rejetee, Recipient, Process),
    row(Mandatee, MiseADispositionComptable, Recipient, Process),
    row(Mandatee, Comptabilisee, Recipient, Process),
    row(Mandatee, MiseEnPaiement, Recipient, Process),
    row(Mandatee, Rejetee, Recipient, Process),
    row(MiseADispositionComptable, Comptabilisee, Recipient, Process),
    row(MiseADispositionComptable, MiseEnPaiement, Recipient, Process),
    row(MiseADispositionComptable, Rejetee, Recipient, Process),
    row(Comptabilisee, MiseEnPaiement, Recipient, Process),
    row(Comptabilisee, Rejetee, Recipient, Process),
    // Supplier, returned invoices (§3.4): "A_RECYCLER --recycler(new routing)--> DEPOSEE/…",
    // "SUSPENDUE --completer(attachments/comment)--> COMPLETEE".
    row(ARecycler, Deposee, Supplier, Recycle),
    row(Suspendue, Completee, Supplier, Complete),
];

impl InvoiceStatus {
    /// Statuses an invoice may be created in: `BROUILLON` (portal draft) or `DEPOSEE` (any deposit).
    pub const INITIAL: &'static [InvoiceStatus] = &[Brouillon, Deposee];

    /// Statuses out of which nothing moves (spec §3.3 "terminal: MISE_EN_PAIEMENT, REJETEE").
    pub const TERMINAL: &'static [InvoiceStatus] = &[Rejetee, MiseEnPaiement];

    /// The supplier's work list (portal "Synthèse", spec §6): drafts and returned invoices. A
    /// rejected invoice stays in it until the rejection is acknowledged (`rejetTraite`).
    pub const WAITING_FOR_SUPPLIER: &'static [InvoiceStatus] = &[Brouillon, ARecycler, Suspendue, Rejetee];

    /// The recipient's work list (invoices "à traiter", spec §3.3 and §6).
    pub const WAITING_FOR_RECIPIENT: &'static [InvoiceStatus] = &[MiseADisposition, Completee];

    /// Whether moving *to* this status needs a motive: `SUSPENDUE` and `REJETEE` (spec §3.3), and
    /// `A_RECYCLER` (issue #13: the supplier must know what to re-route).
    pub const fn requires_motive(self) -> bool {
        matches!(self, Suspendue | Rejetee | ARecycler)
    }

    /// Whether nothing moves out of this status.
    pub const fn is_terminal(self) -> bool {
        matches!(self, Rejetee | MiseEnPaiement)
    }

    /// Whether the invoice went back to its supplier (`A_RECYCLER`, `SUSPENDUE`, `REJETEE`).
    pub const fn is_returned(self) -> bool {
        matches!(self, ARecycler | Suspendue | Rejetee)
    }

    /// Whose work list the invoice sits in, if anyone's (portal "Synthèse"). For `REJETEE` this
    /// is the supplier until the rejection is acknowledged, no one after.
    pub fn waiting_for(self, rejection_acknowledged: bool) -> Option<Party> {
        if self == Rejetee && rejection_acknowledged {
            None
        } else if Self::WAITING_FOR_SUPPLIER.contains(&self) {
            Some(Supplier)
        } else if Self::WAITING_FOR_RECIPIENT.contains(&self) {
            Some(Recipient)
        } else {
            None
        }
    }

    /// Judges a move of an invoice from `self` to `to` asked by `by`. On success, the row that
    /// allows it (its action names the step for the history, the audit line and the event).
    pub fn transition(
        self,
        to: InvoiceStatus,
        by: Party,
        ctx: &TransitionContext<'_>,
    ) -> Result<&'static Transition, TransitionError> {
        if self.is_terminal() {
            return Err(TransitionError::Terminal { from: self });
        }
        if self == to {
            return Err(TransitionError::Unchanged { status: self });
        }
        let mut rows = TRANSITIONS.iter().filter(|t| t.from == self && t.to == to);
        let Some(first) = rows.next() else {
            return Err(TransitionError::Illegal { from: self, to });
        };
        let Some(row) = std::iter::once(first).chain(rows).find(|t| t.by == by) else {
            return Err(TransitionError::NotYourRole {
                from: self,
                to,
                by,
                allowed: first.by,
            });
        };
        if to == MiseEnPaiement && ctx.payment == PaymentReporting::NotReported {
            return Err(TransitionError::PaymentStatusNotReported);
        }
        match row.motive {
            MotiveRule::Optional => {}
            MotiveRule::Required if ctx.motive.is_none() => return Err(TransitionError::MotiveRequired { to }),
            MotiveRule::Required => {}
            MotiveRule::RequiredUnlessAttachments if ctx.motive.is_none() && !ctx.attachments_added => {
                return Err(TransitionError::NothingToComplete);
            }
            MotiveRule::RequiredUnlessAttachments => {}
        }
        Ok(row)
    }

    /// The statuses `by` may move an invoice to from `self`, in table order
    /// (`transverses/v1/recuperer/etats/traitement`). `MISE_EN_PAIEMENT` is left out for a
    /// recipient that does not report it; the current status is never listed.
    pub fn possible_next(self, by: Party, payment: PaymentReporting) -> impl Iterator<Item = InvoiceStatus> {
        TRANSITIONS
            .iter()
            .filter(move |t| t.from == self && t.by == by)
            .filter(move |t| t.to != MiseEnPaiement || payment == PaymentReporting::Reported)
            .map(|t| t.to)
    }

    /// Judges `factures/v1/traiterRejet`: only the supplier, only on a rejected invoice, once.
    pub fn acknowledge_rejection(
        self,
        by: Party,
        already_acknowledged: bool,
    ) -> Result<InvoiceAction, TransitionError> {
        if by != Supplier {
            return Err(TransitionError::NotYourRole {
                from: self,
                to: self,
                by,
                allowed: Supplier,
            });
        }
        if self != Rejetee {
            return Err(TransitionError::NotRejected { status: self });
        }
        if already_acknowledged {
            return Err(TransitionError::AlreadyAcknowledged);
        }
        Ok(InvoiceAction::AcknowledgeRejection)
    }
}

/// Whether the recipient reports the `MISE_EN_PAIEMENT` status (directory parameters, spec §1.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum PaymentReporting {
    #[default]
    Reported,
    /// `statutMiseEnPaiementNestPasRemonte` on the structure, or on the invoice's service.
    NotReported,
}

impl PaymentReporting {
    /// What the recipient structure and, when the invoice names one, its service say. Either one
    /// opting out is enough, as a service-level engagement requirement adds to the structure's.
    pub fn of(structure: &StructureParameters, service: Option<&ServiceParameters>) -> Self {
        if structure.payment_status_not_reported || service.is_some_and(|s| s.payment_status_not_reported) {
            PaymentReporting::NotReported
        } else {
            PaymentReporting::Reported
        }
    }
}

/// What a move is judged with besides its statuses and its author.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransitionContext<'a> {
    /// The recipient's payment reporting.
    pub payment: PaymentReporting,
    /// The motive (`motif`) or comment (`commentaire`) given, if any.
    pub motive: Option<&'a Motive>,
    /// Whether the step adds attachments (`pieceJointeComplementaire` of `completer`).
    pub attachments_added: bool,
}

/// Why a move was refused. Kinds, not sentences: the portal and the API word them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// No one may move an invoice from `from` to `to`.
    #[error("statut: no transition {from} -> {to}")]
    Illegal { from: InvoiceStatus, to: InvoiceStatus },
    /// The move exists but belongs to another party.
    #[error("statut: {from} -> {to} is for {allowed}, not {by}")]
    NotYourRole {
        from: InvoiceStatus,
        to: InvoiceStatus,
        by: Party,
        allowed: Party,
    },
    /// Nothing moves out of a terminal status.
    #[error("statut: {from} is terminal")]
    Terminal { from: InvoiceStatus },
    /// The invoice already has this status.
    #[error("statut: already {status}")]
    Unchanged { status: InvoiceStatus },
    /// `to` needs a non-blank motive.
    #[error("motif: required for {to}")]
    MotiveRequired { to: InvoiceStatus },
    /// The recipient does not report `MISE_EN_PAIEMENT`.
    #[error("statut: MISE_EN_PAIEMENT not reported by the recipient")]
    PaymentStatusNotReported,
    /// `completer` with neither a comment nor an attachment.
    #[error("commentaire: a comment or an attachment is required")]
    NothingToComplete,
    /// A rejection acknowledgement on an invoice that is not rejected.
    #[error("statut: {status} is not REJETEE")]
    NotRejected { status: InvoiceStatus },
    /// The rejection was already acknowledged.
    #[error("rejetTraite: already acknowledged")]
    AlreadyAcknowledged,
}

/// A motive (`motif`) or comment (`commentaire`) on a status change: trimmed, never blank, at most
/// [`Motive::MAX`] characters, line breaks and tabs allowed but no other control character.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Motive(String);
string_newtype!(Motive);

impl Motive {
    /// Longest motive, as the `commentaire` of `completer` (spec §5).
    pub const MAX: usize = 2000;

    /// Parses a motive; blank is refused (`motif`: required).
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        Self::parse_optional(input)?.ok_or_else(|| DomainError::format("motif", "required"))
    }

    /// Parses a motive that may be absent: blank gives `None`.
    pub fn parse_optional(input: &str) -> Result<Option<Self>, DomainError> {
        const F: &str = "motif";
        let v = input.trim();
        if v.is_empty() {
            return Ok(None);
        }
        if v.chars().count() > Self::MAX {
            return Err(DomainError::format(F, "too long"));
        }
        if v.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(DomainError::format(F, "no control characters"));
        }
        Ok(Some(Self(v.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn motive() -> Motive {
        Motive::parse("Bon de livraison manquant").unwrap()
    }

    /// A context that satisfies every motive rule, for a recipient that reports payment.
    fn full(m: &Motive) -> TransitionContext<'_> {
        TransitionContext {
            payment: PaymentReporting::Reported,
            motive: Some(m),
            attachments_added: true,
        }
    }

    const BARE: TransitionContext<'static> = TransitionContext {
        payment: PaymentReporting::Reported,
        motive: None,
        attachments_added: false,
    };

    const PARTIES: [Party; 3] = [Supplier, Recipient, Platform];

    #[test]
    fn codes_are_the_api_codes() {
        let codes: Vec<&str> = InvoiceStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            codes,
            [
                "BROUILLON",
                "DEPOSEE",
                "MISE_A_DISPOSITION",
                "A_RECYCLER",
                "SUSPENDUE",
                "COMPLETEE",
                "REJETEE",
                "SERVICE_FAIT",
                "MANDATEE",
                "MISE_A_DISPOSITION_COMPTABLE",
                "COMPTABILISEE",
                "MISE_EN_PAIEMENT",
            ]
        );
        for s in InvoiceStatus::ALL {
            assert_eq!(s.as_str().parse::<InvoiceStatus>().unwrap(), *s);
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<InvoiceStatus>(&json).unwrap(), *s);
        }
        assert_eq!(
            "deposee".parse::<InvoiceStatus>(),
            Err(DomainError::UnknownCode {
                field: "statut",
                value: "deposee".into()
            })
        );
        // Validation-circuit statuses belong to another table.
        assert!("A_VALIDER_1".parse::<InvoiceStatus>().is_err());
        assert!(serde_json::from_str::<InvoiceStatus>("\"EN_COURS_ACHEMINEMENT\"").is_err());
        for p in PARTIES {
            assert_eq!(p.as_str().parse::<Party>().unwrap(), p);
        }
        for a in InvoiceAction::ALL {
            assert_eq!(a.as_str().parse::<InvoiceAction>().unwrap(), *a);
        }
    }

    #[test]
    fn the_platform_routes_a_deposit() {
        // "--> DEPOSEE --> EN_COURS_ACHEMINEMENT --> MISE_A_DISPOSITION" (§3.3), routing in one step.
        let row = Deposee.transition(MiseADisposition, Platform, &BARE).unwrap();
        assert_eq!(row.action, Route);
        for by in [Supplier, Recipient] {
            assert_eq!(
                Deposee.transition(MiseADisposition, by, &BARE),
                Err(TransitionError::NotYourRole {
                    from: Deposee,
                    to: MiseADisposition,
                    by,
                    allowed: Platform
                })
            );
        }
        assert_eq!(
            Deposee.transition(ServiceFait, Recipient, &BARE),
            Err(TransitionError::Illegal {
                from: Deposee,
                to: ServiceFait
            })
        );
    }

    #[test]
    fn the_supplier_sends_its_draft() {
        // BROUILLON "saved, not sent | supplier (portal)" (§3.2).
        assert_eq!(
            Brouillon.transition(Deposee, Supplier, &BARE).unwrap().action,
            InvoiceAction::Send
        );
        assert!(matches!(
            Brouillon.transition(Deposee, Recipient, &BARE),
            Err(TransitionError::NotYourRole { .. })
        ));
        assert!(matches!(
            Brouillon.transition(MiseADisposition, Supplier, &BARE),
            Err(TransitionError::Illegal { .. })
        ));
        assert_eq!(InvoiceStatus::INITIAL, &[Brouillon, Deposee]);
    }

    #[test]
    fn the_recipient_processes_invoices_to_handle() {
        // "recipient: MISE_A_DISPOSITION|COMPLETEE --> A_RECYCLER | SUSPENDUE | REJETEE | SERVICE_FAIT
        //  | MANDATEE | MISE_A_DISPOSITION_COMPTABLE | COMPTABILISEE | MISE_EN_PAIEMENT" (§3.3)
        let m = motive();
        let targets = [
            ARecycler,
            Suspendue,
            Rejetee,
            ServiceFait,
            Mandatee,
            MiseADispositionComptable,
            Comptabilisee,
            MiseEnPaiement,
        ];
        for from in [MiseADisposition, Completee] {
            for to in targets {
                let row = from.transition(to, Recipient, &full(&m)).unwrap();
                assert_eq!((row.action, row.by), (Process, Recipient));
                for by in [Supplier, Platform] {
                    assert_eq!(
                        from.transition(to, by, &full(&m)),
                        Err(TransitionError::NotYourRole {
                            from,
                            to,
                            by,
                            allowed: Recipient
                        }),
                        "{from} -> {to} by {by}"
                    );
                }
            }
            let offered: BTreeSet<_> = from.possible_next(Recipient, PaymentReporting::Reported).collect();
            assert_eq!(offered, targets.into_iter().collect());
        }
    }

    #[test]
    fn the_documented_example_of_possible_statuses() {
        // `recuperer/etats/traitement` from MISE_A_DISPOSITION: "MISE_A_DISPOSITION, SUSPENDUE,
        // REJETEE, MANDATEE, MISE_EN_PAIEMENT, COMPTABILISEE, MISE_A_DISPOSITION_COMPTABLE,
        // A_RECYCLER" (§3.3). We add SERVICE_FAIT (§3.2, §3.3 state machine) and leave out the
        // current status, which is not a move.
        let documented: BTreeSet<_> = [
            Suspendue,
            Rejetee,
            Mandatee,
            MiseEnPaiement,
            Comptabilisee,
            MiseADispositionComptable,
            ARecycler,
        ]
        .into_iter()
        .collect();
        let ours: BTreeSet<_> = MiseADisposition
            .possible_next(Recipient, PaymentReporting::Reported)
            .collect();
        assert_eq!(ours.difference(&documented).collect::<Vec<_>>(), [&ServiceFait]);
        assert!(documented.is_subset(&ours));
    }

    #[test]
    fn motive_is_mandatory_for_returns() {
        // "motif … is mandatory when the new status is REJETEE or SUSPENDUE" (§3.3); A_RECYCLER
        // too (issue #13).
        let m = motive();
        for to in [Suspendue, Rejetee, ARecycler] {
            assert!(to.requires_motive());
            assert_eq!(
                MiseADisposition.transition(to, Recipient, &BARE),
                Err(TransitionError::MotiveRequired { to })
            );
            // Attachments do not stand in for a motive.
            let with_files = TransitionContext {
                attachments_added: true,
                ..BARE
            };
            assert_eq!(
                Completee.transition(to, Recipient, &with_files),
                Err(TransitionError::MotiveRequired { to })
            );
            let ctx = TransitionContext {
                motive: Some(&m),
                ..BARE
            };
            assert_eq!(
                MiseADisposition.transition(to, Recipient, &ctx).unwrap().motive,
                MotiveRule::Required
            );
        }
        assert!(MiseADisposition.transition(ServiceFait, Recipient, &BARE).is_ok());
        assert!(Deposee.transition(MiseADisposition, Platform, &BARE).is_ok());
    }

    #[test]
    fn processing_goes_forward_and_may_skip() {
        let m = motive();
        assert!(ServiceFait.transition(Mandatee, Recipient, &BARE).is_ok());
        assert!(ServiceFait.transition(MiseEnPaiement, Recipient, &BARE).is_ok());
        assert!(Mandatee.transition(MiseADispositionComptable, Recipient, &BARE).is_ok());
        assert!(
            MiseADispositionComptable
                .transition(Comptabilisee, Recipient, &BARE)
                .is_ok()
        );
        assert!(Comptabilisee.transition(MiseEnPaiement, Recipient, &BARE).is_ok());
        // "the history becomes incoherent (e.g. MANDATEE after MISE_EN_PAIEMENT)" (§3.2).
        assert_eq!(
            MiseEnPaiement.transition(Mandatee, Recipient, &BARE),
            Err(TransitionError::Terminal { from: MiseEnPaiement })
        );
        for (from, to) in [
            (Mandatee, ServiceFait),
            (Comptabilisee, Mandatee),
            (ServiceFait, MiseADisposition),
            (ServiceFait, Suspendue),
            (Mandatee, ARecycler),
        ] {
            assert_eq!(
                from.transition(to, Recipient, &full(&m)),
                Err(TransitionError::Illegal { from, to }),
                "{from} -> {to}"
            );
        }
        // A mandate refused by the accountant may still end in a rejection, before payment.
        for from in [ServiceFait, Mandatee, MiseADispositionComptable, Comptabilisee] {
            assert!(from.transition(Rejetee, Recipient, &full(&m)).is_ok());
            assert_eq!(
                from.transition(Rejetee, Recipient, &BARE),
                Err(TransitionError::MotiveRequired { to: Rejetee })
            );
        }
        assert_eq!(
            ServiceFait.transition(ServiceFait, Recipient, &BARE),
            Err(TransitionError::Unchanged { status: ServiceFait })
        );
    }

    #[test]
    fn payment_never_shown_when_not_reported() {
        // `statutMiseEnPaiementNestPasRemonte`: "the structure does not report the MISE_EN_PAIEMENT
        // status" (§1.2); service-level `miseEnPaiement` (§1.3).
        let structure = StructureParameters {
            payment_status_not_reported: true,
            ..Default::default()
        };
        let service = ServiceParameters {
            payment_status_not_reported: true,
            ..Default::default()
        };
        let plain = StructureParameters::default();
        assert_eq!(PaymentReporting::of(&plain, None), PaymentReporting::Reported);
        assert_eq!(
            PaymentReporting::of(&plain, Some(&ServiceParameters::default())),
            PaymentReporting::Reported
        );
        assert_eq!(PaymentReporting::of(&structure, None), PaymentReporting::NotReported);
        assert_eq!(
            PaymentReporting::of(&plain, Some(&service)),
            PaymentReporting::NotReported
        );
        let ctx = TransitionContext {
            payment: PaymentReporting::NotReported,
            ..BARE
        };
        for from in [
            MiseADisposition,
            Completee,
            ServiceFait,
            Mandatee,
            MiseADispositionComptable,
            Comptabilisee,
        ] {
            assert_eq!(
                from.transition(MiseEnPaiement, Recipient, &ctx),
                Err(TransitionError::PaymentStatusNotReported)
            );
            assert!(from.transition(MiseEnPaiement, Recipient, &BARE).is_ok());
            assert!(
                !from
                    .possible_next(Recipient, PaymentReporting::NotReported)
                    .any(|s| s == MiseEnPaiement)
            );
            assert!(
                from.possible_next(Recipient, PaymentReporting::Reported)
                    .any(|s| s == MiseEnPaiement)
            );
        }
        // The other statuses are unaffected.
        assert!(Comptabilisee.transition(Rejetee, Recipient, &full(&motive())).is_ok());
        assert!(MiseADisposition.transition(ServiceFait, Recipient, &ctx).is_ok());
    }

    #[test]
    fn the_supplier_recycles_completes_and_acknowledges() {
        let m = motive();
        // "A_RECYCLER | factures/v1/recycler" (§3.4): back to DEPOSEE, routed again.
        let row = ARecycler.transition(Deposee, Supplier, &BARE).unwrap();
        assert_eq!((row.action, row.motive), (Recycle, MotiveRule::Optional));
        assert!(matches!(
            ARecycler.transition(Deposee, Recipient, &BARE),
            Err(TransitionError::NotYourRole { allowed: Supplier, .. })
        ));
        assert!(matches!(
            ARecycler.transition(MiseADisposition, Supplier, &BARE),
            Err(TransitionError::Illegal { .. })
        ));
        // "SUSPENDUE | factures/v1/completer | add complementary attachments and/or change
        // commentaire; status becomes COMPLETEE" (§3.4).
        let files = TransitionContext {
            attachments_added: true,
            ..BARE
        };
        let comment = TransitionContext {
            motive: Some(&m),
            ..BARE
        };
        assert_eq!(
            Suspendue.transition(Completee, Supplier, &files).unwrap().action,
            Complete
        );
        assert!(Suspendue.transition(Completee, Supplier, &comment).is_ok());
        assert_eq!(
            Suspendue.transition(Completee, Supplier, &BARE),
            Err(TransitionError::NothingToComplete)
        );
        assert!(matches!(
            Suspendue.transition(Completee, Recipient, &files),
            Err(TransitionError::NotYourRole { .. })
        ));
        assert!(matches!(
            Suspendue.transition(MiseADisposition, Recipient, &files),
            Err(TransitionError::Illegal { .. })
        ));
        // "REJETEE (terminal; supplier acknowledges = rejetTraite; new invoice number)" (§3.3).
        assert_eq!(
            Rejetee.transition(MiseADisposition, Supplier, &full(&m)),
            Err(TransitionError::Terminal { from: Rejetee })
        );
        assert_eq!(
            Rejetee.acknowledge_rejection(Supplier, false),
            Ok(InvoiceAction::AcknowledgeRejection)
        );
        assert_eq!(
            Rejetee.acknowledge_rejection(Supplier, true),
            Err(TransitionError::AlreadyAcknowledged)
        );
        assert!(matches!(
            Rejetee.acknowledge_rejection(Recipient, false),
            Err(TransitionError::NotYourRole { allowed: Supplier, .. })
        ));
        assert_eq!(
            Suspendue.acknowledge_rejection(Supplier, false),
            Err(TransitionError::NotRejected { status: Suspendue })
        );
    }

    #[test]
    fn work_lists() {
        // "Synthèse tab = work list: drafts, returned invoices (A_RECYCLER, SUSPENDUE, REJETEE) for
        // suppliers; MISE_A_DISPOSITION/COMPLETEE for recipients" (§6).
        let supplier: BTreeSet<_> = InvoiceStatus::ALL
            .iter()
            .filter(|s| s.waiting_for(false) == Some(Supplier))
            .copied()
            .collect();
        assert_eq!(
            supplier,
            [Brouillon, ARecycler, Suspendue, Rejetee].into_iter().collect()
        );
        let recipient: BTreeSet<_> = InvoiceStatus::ALL
            .iter()
            .filter(|s| s.waiting_for(false) == Some(Recipient))
            .copied()
            .collect();
        assert_eq!(recipient, [MiseADisposition, Completee].into_iter().collect());
        assert_eq!(Rejetee.waiting_for(true), None);
        assert_eq!(Suspendue.waiting_for(true), Some(Supplier));
        assert_eq!(ServiceFait.waiting_for(false), None);
        // Whoever an invoice waits for has something to do with it.
        for s in InvoiceStatus::ALL {
            match s.waiting_for(false) {
                Some(Supplier) => assert!(
                    s.possible_next(Supplier, PaymentReporting::Reported).next().is_some()
                        || s.acknowledge_rejection(Supplier, false).is_ok(),
                    "{s}"
                ),
                Some(by) => assert!(s.possible_next(by, PaymentReporting::Reported).next().is_some(), "{s}"),
                None => {}
            }
        }
        for s in InvoiceStatus::ALL {
            assert_eq!(s.is_returned(), [ARecycler, Suspendue, Rejetee].contains(s), "{s}");
        }
    }

    #[test]
    fn the_loops_of_issue_13() {
        let m = motive();
        let walk = |steps: &[(InvoiceStatus, Party)], ctx: &TransitionContext<'_>| {
            let mut at = Deposee;
            for (to, by) in steps {
                at.transition(*to, *by, ctx).unwrap();
                at = *to;
            }
            at
        };
        // deposit → available → suspended → completed → service done → paid
        let paid = walk(
            &[
                (MiseADisposition, Platform),
                (Suspendue, Recipient),
                (Completee, Supplier),
                (ServiceFait, Recipient),
                (MiseEnPaiement, Recipient),
            ],
            &full(&m),
        );
        assert!(paid.is_terminal());
        // deposit → to recycle → re-routed
        let rerouted = walk(
            &[
                (MiseADisposition, Platform),
                (ARecycler, Recipient),
                (Deposee, Supplier),
                (MiseADisposition, Platform),
            ],
            &full(&m),
        );
        assert_eq!(rerouted, MiseADisposition);
        // deposit → rejected → acknowledged
        let rejected = walk(&[(MiseADisposition, Platform), (Rejetee, Recipient)], &full(&m));
        assert!(rejected.acknowledge_rejection(Supplier, false).is_ok());
    }

    #[test]
    fn the_table_is_well_formed() {
        let mut seen = BTreeSet::new();
        for t in TRANSITIONS {
            assert!(
                seen.insert((t.from, t.to)),
                "one party per move: {} -> {}",
                t.from,
                t.to
            );
            assert_ne!(t.from, t.to);
            assert!(!t.from.is_terminal(), "{} is terminal", t.from);
            assert_ne!(t.to, Brouillon, "nothing goes back to draft");
            assert_eq!(t.motive == MotiveRule::Required, t.to.requires_motive());
            // The two sides each act through their own services.
            let expected = match t.action {
                InvoiceAction::Send | Recycle | Complete | InvoiceAction::AcknowledgeRejection => Supplier,
                Process => Recipient,
                Route => Platform,
            };
            assert_eq!(t.by, expected, "{} -> {}", t.from, t.to);
        }
        assert_eq!(InvoiceStatus::TERMINAL.len(), 2);
        for s in InvoiceStatus::ALL {
            assert_eq!(s.is_terminal(), InvoiceStatus::TERMINAL.contains(s));
        }
    }

    /// Statuses reachable from `start` following the table.
    fn reachable(start: InvoiceStatus, payment: PaymentReporting) -> BTreeSet<InvoiceStatus> {
        let mut seen = BTreeSet::from([start]);
        let mut todo = vec![start];
        while let Some(s) = todo.pop() {
            for by in PARTIES {
                for n in s.possible_next(by, payment) {
                    if seen.insert(n) {
                        todo.push(n);
                    }
                }
            }
        }
        seen
    }

    #[test]
    fn every_status_is_reachable_from_a_deposit() {
        let all: BTreeSet<_> = InvoiceStatus::ALL.iter().copied().filter(|s| *s != Brouillon).collect();
        assert_eq!(reachable(Deposee, PaymentReporting::Reported), all);
        let mut without_payment = all;
        without_payment.remove(&MiseEnPaiement);
        assert_eq!(reachable(Deposee, PaymentReporting::NotReported), without_payment);
        assert!(reachable(Brouillon, PaymentReporting::Reported).contains(&MiseEnPaiement));
        // And every status that is not terminal leads to a terminal one.
        for s in InvoiceStatus::ALL {
            assert!(
                reachable(*s, PaymentReporting::Reported)
                    .iter()
                    .any(|r| r.is_terminal()),
                "{s}"
            );
        }
    }

    #[test]
    fn offered_and_accepted_agree() {
        let m = motive();
        for payment in [PaymentReporting::Reported, PaymentReporting::NotReported] {
            let ctx = TransitionContext { payment, ..full(&m) };
            for from in InvoiceStatus::ALL {
                for by in PARTIES {
                    let offered: BTreeSet<_> = from.possible_next(by, payment).collect();
                    for to in InvoiceStatus::ALL {
                        assert_eq!(
                            offered.contains(to),
                            from.transition(*to, by, &ctx).is_ok(),
                            "{from} -> {to} by {by}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn motives() {
        assert_eq!(
            Motive::parse("  "),
            Err(DomainError::Format {
                field: "motif",
                reason: "required"
            })
        );
        assert_eq!(Motive::parse_optional(" \n\t ").unwrap(), None);
        assert_eq!(
            Motive::parse(" BL manquant\nvoir PJ ").unwrap().as_str(),
            "BL manquant\nvoir PJ"
        );
        assert!(Motive::parse(&"é".repeat(Motive::MAX)).is_ok());
        assert!(Motive::parse(&"é".repeat(Motive::MAX + 1)).is_err());
        assert!(Motive::parse("a\u{0}b").is_err());
        assert!(serde_json::from_str::<Motive>("\"   \"").is_err());
    }

    fn status() -> impl Strategy<Value = InvoiceStatus> {
        (0..InvoiceStatus::ALL.len()).prop_map(|i| InvoiceStatus::ALL[i])
    }

    fn party() -> impl Strategy<Value = Party> {
        (0..PARTIES.len()).prop_map(|i| PARTIES[i])
    }

    proptest! {
        /// Random requests from a deposit, by random parties, with or without motive, attachments
        /// and payment reporting: every accepted move is a row of the table for that party, no
        /// return goes without motive, nothing leaves a terminal status, and MISE_EN_PAIEMENT is
        /// never reached for a recipient that does not report it.
        #[test]
        fn random_walks_keep_the_invariants(
            steps in proptest::collection::vec((status(), party(), any::<bool>(), any::<bool>()), 0..40),
            reported in any::<bool>(),
        ) {
            let m = motive();
            let payment = if reported { PaymentReporting::Reported } else { PaymentReporting::NotReported };
            let mut at = Deposee;
            for (to, by, with_motive, attachments_added) in steps {
                let ctx = TransitionContext { payment, motive: with_motive.then_some(&m), attachments_added };
                match at.transition(to, by, &ctx) {
                    Ok(row) => {
                        prop_assert!(!at.is_terminal());
                        prop_assert_eq!((row.from, row.to, row.by), (at, to, by));
                        prop_assert!(!to.requires_motive() || with_motive);
                        prop_assert!(row.action != Complete || with_motive || attachments_added);
                        prop_assert!(reported || to != MiseEnPaiement);
                        prop_assert_ne!(to, Brouillon);
                        at = to;
                    }
                    Err(e) => {
                        if at.is_terminal() {
                            prop_assert_eq!(e, TransitionError::Terminal { from: at });
                        }
                    }
                }
            }
        }

        /// A move allowed for one party is refused to both others as "not your role".
        #[test]
        fn a_move_belongs_to_one_party(from in status(), to in status(), by in party()) {
            let m = motive();
            if from.transition(to, by, &full(&m)).is_ok() {
                for other in PARTIES.into_iter().filter(|p| *p != by) {
                    prop_assert_eq!(
                        from.transition(to, other, &full(&m)),
                        Err(TransitionError::NotYourRole { from, to, by: other, allowed: by })
                    );
                }
            }
        }

        /// A blank motive is no motive: every return refuses it; any other text is accepted.
        #[test]
        fn blank_motives_are_refused(blank in "[ \t\r\n\u{a0}\u{2003}]{0,12}", text in "[a-zA-Zé0-9 ,.'-]{0,40}") {
            prop_assert_eq!(Motive::parse_optional(&blank).unwrap(), None);
            prop_assert!(Motive::parse(&blank).is_err());
            let given = Motive::parse_optional(&text).unwrap();
            prop_assert_eq!(given.is_none(), text.trim().is_empty());
            for from in [MiseADisposition, Completee] {
                for to in [Suspendue, Rejetee, ARecycler] {
                    let ctx = TransitionContext { motive: given.as_ref(), ..BARE };
                    let result = from.transition(to, Recipient, &ctx);
                    if given.is_some() {
                        prop_assert!(result.is_ok());
                    } else {
                        prop_assert_eq!(result, Err(TransitionError::MotiveRequired { to }));
                    }
                }
            }
        }
    }
}
