//! Any bytes through the Factur-X extractor: a clear error or an attachment, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = facteur_einvoice::facturx::extract(data);
});
