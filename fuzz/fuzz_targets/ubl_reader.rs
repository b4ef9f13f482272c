//! Any bytes through the hardened XML parser, the UBL reader and the full validator: no panic, bounded work.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = facteur_einvoice::xml::parse(data) {
        let _ = facteur_einvoice::ubl::read(&doc);
    }
    let _ = facteur_einvoice::validate::validate_xml(data);
});
