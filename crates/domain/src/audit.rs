//! What the audit log records: the kinds of change, each with the stable code the log keeps.

use crate::code::code_enum;

code_enum! {
    /// One kind of audited change. The store refuses any other (a typo in a free string used to
    /// go unnoticed), and the code is what the log keeps and shows.
    pub enum AuditAction ("action") {
        UserCreate => "user.create",
        UserStatus => "user.status",
        UserPassword => "user.password",
        UserProfile => "user.profile",
        UserLogin => "user.login",
        StructureCreate => "structure.create",
        StructureUpdate => "structure.update",
        StructureStatus => "structure.status",
        StructureParameters => "structure.parameters",
        ServiceCreate => "service.create",
        ServiceUpdate => "service.update",
        ServiceDelete => "service.delete",
        ServiceStatus => "service.status",
        BankAccountCreate => "bank_account.create",
        BankAccountUpdate => "bank_account.update",
        MembershipCreate => "membership.create",
        MembershipDecide => "membership.decide",
        MembershipRole => "membership.role",
        MembershipServices => "membership.services",
        SpaceOpen => "space.open",
        SpaceClose => "space.close",
        SpaceSubscribe => "space.subscribe",
        SpaceSubscription => "space.subscription",
        SpaceUnsubscribe => "space.unsubscribe",
        TokenCreate => "token.create",
        TokenConsume => "token.consume",
        TechnicalAccountPut => "technical_account.put",
        InvoiceCreate => "invoice.create",
        InvoiceStatus => "invoice.status",
        FlowCreate => "flow.create",
        FlowState => "flow.state",
        AttachmentCreate => "attachment.create",
        AttachmentLink => "attachment.link",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_ones_are_refused() {
        for a in AuditAction::ALL {
            assert_eq!(a.as_str().parse::<AuditAction>().ok(), Some(*a));
        }
        assert!("user.creat".parse::<AuditAction>().is_err());
    }
}
