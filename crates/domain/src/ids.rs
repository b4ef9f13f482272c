//! Typed numeric ids, so a service id cannot be passed where a structure id is expected.
//! Numeric because the Chorus Pro API exposes numeric ids (`idStructureCPP`, `idUtilisateur`…).

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($(#[$meta:meta])* $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The raw database / API value.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )+};
}

id_type! {
    /// `idStructureCPP`.
    StructureId;
    /// `idService`.
    ServiceId;
    /// `idUtilisateur`.
    UserId;
    /// An attachment (rattachement) of a user to a structure.
    MembershipId;
    /// A technical (API/EDI) account of a structure.
    TechnicalAccountId;
    /// `idCoordonneeBancaire`: one set of bank details of a structure.
    BankAccountId;
}
