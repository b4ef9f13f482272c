//! Parse + validate throughput (all EN 16931 rules) over synthetic invoices.
//!
//! Generate the input first, then point the bench at it:
//!
//! ```sh
//! python3 ../shared/tools/gen_invoices.py --out /tmp/facteur-bench -n 2000 --syntax mix
//! FACTEUR_BENCH_DIR=/tmp/facteur-bench cargo bench -p facteur-einvoice --bench validate
//! ```
//!
//! Without `FACTEUR_BENCH_DIR` the official corpus examples are used. Throughput is reported in
//! items (invoices) per second for one core.

use std::path::{Path, PathBuf};

fn main() {
    divan::main();
}

fn collect(dir: &Path, out: &mut Vec<Vec<u8>>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "xml")
            && let Ok(b) = std::fs::read(&p)
        {
            out.push(b);
        }
    }
}

fn inputs() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if let Some(d) = std::env::var_os("FACTEUR_BENCH_DIR") {
        collect(Path::new(&d), &mut out);
    } else {
        let c = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/en16931");
        collect(&c.join("ubl/examples"), &mut out);
        collect(&c.join("cii/examples"), &mut out);
    }
    assert!(!out.is_empty(), "no input invoices (set FACTEUR_BENCH_DIR)");
    out
}

/// XML parsing alone (roxmltree with our limits): the floor under everything else.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn parse_only(bencher: divan::Bencher) {
    let docs = inputs();
    bencher.counter(divan::counter::ItemsCount::new(docs.len())).bench(|| {
        docs.iter()
            .filter(|d| facteur_einvoice::xml::parse(divan::black_box(d)).is_ok())
            .count()
    });
}

/// Parsing and reading into the lenient draft, without rules.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn parse_and_read(bencher: divan::Bencher) {
    let docs = inputs();
    bencher.counter(divan::counter::ItemsCount::new(docs.len())).bench(|| {
        docs.iter()
            .filter(|d| facteur_einvoice::xml::read_xml(divan::black_box(d)).is_ok())
            .count()
    });
}

/// Everything `facteur validate` does per file: parse, every rule, all findings.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn parse_and_validate_all(bencher: divan::Bencher) {
    let docs = inputs();
    bencher.counter(divan::counter::ItemsCount::new(docs.len())).bench(|| {
        let mut fatal = 0usize;
        for d in &docs {
            let r = facteur_einvoice::validate::validate_xml(divan::black_box(d));
            fatal += usize::from(!r.is_valid());
        }
        fatal
    });
}
