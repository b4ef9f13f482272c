//! The EN 16931 semantic model.
//!
//! [`draft`] is the lenient reading that rules inspect; [`Invoice`] is the strict model that
//! writers take, built from a complete draft with [`Invoice::try_from`]. Mandatory terms are plain
//! fields, money and quantities are [`Decimal`], dates are [`Date`], codes are checked newtypes.

pub mod draft;
mod strict;
mod types;

pub use strict::*;
pub use types::*;

/// Invoice or credit note: UBL has two root elements, CII tells them apart by BT-3 only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DocKind {
    #[default]
    Invoice,
    CreditNote,
}

pub use rust_decimal::Decimal;
