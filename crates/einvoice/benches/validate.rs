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

// The allocator the `facteur` binary uses, so that the figures are the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// Runs `f` over every item, counting throughput in items; `f` returns a number so that nothing it
/// computes can be optimised away.
fn per_item<T: Sync>(bencher: divan::Bencher, items: &[T], f: impl Fn(&T) -> usize + Sync) {
    bencher
        .counter(divan::counter::ItemsCount::new(items.len()))
        .bench(|| items.iter().map(|i| f(divan::black_box(i))).sum::<usize>());
}

/// XML parsing alone (roxmltree with our limits): the floor under everything else.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn parse_only(bencher: divan::Bencher) {
    per_item(bencher, &inputs(), |d| {
        usize::from(facteur_einvoice::xml::parse(d).is_ok())
    });
}

/// Parsing and reading into the lenient draft, without rules.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn parse_and_read(bencher: divan::Bencher) {
    per_item(bencher, &inputs(), |d| {
        usize::from(facteur_einvoice::xml::read_xml(d).is_ok())
    });
}

/// Everything `facteur validate` does per file: parse, every rule, all findings.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn parse_and_validate_all(bencher: divan::Bencher) {
    per_item(bencher, &inputs(), |d| {
        usize::from(!facteur_einvoice::validate::validate_xml(d).is_valid())
    });
}

/// quick-xml's borrowed event reader over the same bytes, doing nothing with the events: the
/// floor of a streaming design, measured against roxmltree's `parse_only` as the issue asks.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn quick_xml_events_only(bencher: divan::Bencher) {
    per_item(bencher, &inputs(), |d| {
        let mut events = 0usize;
        let mut r = quick_xml::Reader::from_reader(d.as_slice());
        loop {
            match r.read_event() {
                Ok(quick_xml::events::Event::Eof) | Err(_) => break events,
                Ok(_) => events += 1,
            }
        }
    });
}

/// Parsing plus the syntax-binding and code-list rules over the XML tree, without the draft.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn parse_and_tree_rules(bencher: divan::Bencher) {
    per_item(bencher, &inputs(), |d| {
        facteur_einvoice::xml::parse(d).map_or(0, |doc| tree_findings(&doc))
    });
}

/// Runs the tree rules over `doc`; the number of findings.
fn tree_findings(doc: &roxmltree::Document<'_>) -> usize {
    use facteur_einvoice::validate::{Findings, check_tree, detect_syntax};
    let Some(syntax) = detect_syntax(doc) else { return 0 };
    let mut out = Findings::new(syntax);
    check_tree(doc, syntax, &mut out);
    out.into_items().len()
}

/// The semantic rules alone, over drafts read beforehand.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn draft_rules_only(bencher: divan::Bencher) {
    use facteur_einvoice::validate::{Findings, check_draft};
    let drafts: Vec<_> = inputs()
        .iter()
        .filter_map(|d| facteur_einvoice::xml::read_xml(d).ok())
        .collect();
    per_item(bencher, &drafts, |(syntax, draft)| {
        let mut out = Findings::new(*syntax);
        check_draft(draft, &mut out);
        out.into_items().len()
    });
}

/// quick-xml's namespace-resolving reader, touching every name, attribute value and text: what a
/// streaming reader would pay at least before doing any work of its own.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn quick_xml_ns_events(bencher: divan::Bencher) {
    use quick_xml::events::Event;
    use quick_xml::name::ResolveResult;
    per_item(bencher, &inputs(), |d| {
        let Ok(text) = std::str::from_utf8(d) else { return 0 };
        let mut n = 0usize;
        let mut r = quick_xml::NsReader::from_str(text);
        loop {
            match r.read_resolved_event() {
                Ok((ns, Event::Start(e) | Event::Empty(e))) => {
                    n += usize::from(matches!(ns, ResolveResult::Bound(_))) + e.local_name().as_ref().len();
                    for a in e.attributes().flatten() {
                        n += a
                            .normalized_value(quick_xml::XmlVersion::Explicit1_0)
                            .map_or(0, |v| v.len());
                    }
                }
                Ok((_, Event::Text(t))) => n += t.as_ref().len(),
                Ok((_, Event::Eof)) | Err(_) => break n,
                Ok(_) => n += 1,
            }
        }
    });
}

/// Every input parsed, for the stages timed without the parse.
fn parsed(inputs: &[Vec<u8>]) -> Vec<roxmltree::Document<'_>> {
    inputs
        .iter()
        .filter_map(|d| facteur_einvoice::xml::parse(d).ok())
        .collect()
}

/// Reading into the lenient draft (lookup tables included) over documents parsed beforehand: the
/// reader's own cost, without the parse it is usually measured with. The 2,000 trees no longer fit in
/// the caches, so the first pass over each (the lookup tables) is slower than in the pipeline, where the
/// tree was just built: read this as an upper bound.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn read_only(bencher: divan::Bencher) {
    let inputs = inputs();
    per_item(bencher, &parsed(&inputs), |doc| {
        facteur_einvoice::xml::read_document(doc).map_or(0, |(_, d)| d.lines.len())
    });
}

/// The syntax-binding and code-list rules (lookup tables included) over documents parsed beforehand
/// (an upper bound, as for `read_only`).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn tree_rules_only(bencher: divan::Bencher) {
    let inputs = inputs();
    per_item(bencher, &parsed(&inputs), tree_findings);
}
