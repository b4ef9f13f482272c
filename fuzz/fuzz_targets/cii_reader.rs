//! Any bytes through the hardened XML parser and the CII reader: no panic, bounded work.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = facteur_einvoice::xml::parse(data) {
        let _ = facteur_einvoice::cii::read(&doc);
    }
});
