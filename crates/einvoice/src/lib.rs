//! The EN 16931 engine of Facteur: pure, no I/O, usable alone.
//!
//! - [`model`]: the EN 16931 semantic model (strict: mandatory terms are not optional) and the
//!   lenient draft that readers fill and rules inspect (documents may be incomplete).
//! - [`xml`]: hostile-input-safe XML parsing (no DTD, size and depth limits).
//! - [`ubl`], [`cii`]: readers and writers for UBL 2.1 and UN/CEFACT CII D16B.
//! - [`facturx`]: Factur-X PDF/A-3 extraction and generation.
//! - [`validate`]: EN 16931 rules (semantic rules over the draft, syntax-binding rules over the XML
//!   tree), code lists, findings.

pub mod cii;
pub mod facturx;
pub mod model;
pub mod ubl;
pub mod validate;
pub mod xml;
