//! Hostile-input-safe XML parsing and the small tree-walking helpers the readers share.
//!
//! Invoices arrive from anyone, so parsing refuses what an attacker could use: DTDs (entity
//! expansion, external entities), oversized input, absurd nesting, and encodings we would have to
//! guess. The syntax (UBL or CII) is told by the root element's namespace, never by file name.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use roxmltree::{Document, Node, ParsingOptions};
use rustc_hash::FxHashMap;

pub(crate) mod index;

use crate::model::DocKind;
use crate::model::draft::{DocPath, Draft, Loc, NO_ATTR, PathTable, Val};

/// Largest document accepted (bytes). Real invoices with embedded attachments stay far below.
pub const MAX_INPUT_BYTES: usize = 50 * 1024 * 1024;
/// Deepest element nesting accepted; UBL and CII need fewer than 15 levels.
pub const MAX_DEPTH: usize = 256;
/// Most nodes accepted; bounds memory on pathological but small inputs.
pub const MAX_NODES: u32 = 10_000_000;

/// UBL 2.1 `Invoice` root namespace.
pub const NS_UBL_INVOICE: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
/// UBL 2.1 `CreditNote` root namespace.
pub const NS_UBL_CREDIT_NOTE: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";
/// UBL common basic components (`cbc`).
pub const NS_CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
/// UBL common aggregate components (`cac`).
pub const NS_CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
/// CII D16B root namespace (`rsm`).
pub const NS_RSM: &str = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100";
/// CII reusable aggregate entities (`ram`).
pub const NS_RAM: &str = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100";
/// CII unqualified data types (`udt`).
pub const NS_UDT: &str = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100";
/// CII qualified data types (`qdt`).
pub const NS_QDT: &str = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100";

/// The two EN 16931 syntaxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Syntax {
    /// OASIS UBL 2.1 (`Invoice` or `CreditNote`).
    #[default]
    Ubl,
    /// UN/CEFACT Cross Industry Invoice D16B.
    Cii,
}

impl Syntax {
    /// Lower-case name as used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Syntax::Ubl => "ubl",
            Syntax::Cii => "cii",
        }
    }
}

/// Why a document could not be read. One type for all of the crate's reading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("document is {size} bytes, more than the {max} accepted")]
    TooLarge { size: usize, max: usize },
    #[error("document is not valid UTF-8 (first bad byte at offset {offset})")]
    NotUtf8 { offset: usize },
    #[error("unsupported encoding {0:?}: only UTF-8 documents are accepted")]
    UnsupportedEncoding(String),
    #[error("document has a DOCTYPE: DTDs and entity declarations are refused")]
    Dtd,
    #[error("elements nested deeper than {max} levels")]
    TooDeep { max: usize },
    #[error("document has more than {max} XML nodes")]
    TooManyNodes { max: u32 },
    #[error("malformed XML: {0}")]
    Malformed(String),
    #[error("not a complete EN 16931 invoice: {}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    Incomplete(Vec<crate::model::TermProblem>),
    #[error(
        "root element {{{namespace}}}{name} is neither a UBL 2.1 Invoice/CreditNote nor a CII CrossIndustryInvoice"
    )]
    UnknownRoot { namespace: String, name: String },
}

/// Alias kept for readers of the design notes, where parsing errors are called `XmlError`.
pub type XmlError = ReadError;

/// Parses bytes into a tree, enforcing every limit above. DTDs are refused outright.
pub fn parse(bytes: &[u8]) -> Result<Document<'_>, ReadError> {
    let text = decode(bytes)?;
    if prolog_has_doctype(text) {
        return Err(ReadError::Dtd);
    }
    let opts = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, opts).map_err(|e| match e {
        roxmltree::Error::DtdDetected => ReadError::Dtd,
        roxmltree::Error::NodesLimitReached => ReadError::TooManyNodes { max: MAX_NODES },
        other => ReadError::Malformed(other.to_string()),
    })?;
    check_depth(&doc)?;
    Ok(doc)
}

/// Checks size and encoding and returns the text without a byte-order mark.
fn decode(bytes: &[u8]) -> Result<&str, ReadError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(ReadError::TooLarge {
            size: bytes.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(ReadError::UnsupportedEncoding("UTF-16".into()));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    if let Some(enc) = declared_encoding(text)
        && !enc.eq_ignore_ascii_case("utf-8")
        && !enc.eq_ignore_ascii_case("utf8")
    {
        return Err(ReadError::UnsupportedEncoding(enc.to_string()));
    }
    Ok(text)
}

/// The `encoding` pseudo-attribute of the XML declaration, if any.
fn declared_encoding(text: &str) -> Option<&str> {
    let decl = text.strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let rest = &rest[1..];
    Some(&rest[..rest.find(quote)?])
}

/// True when a `<!DOCTYPE` appears before the root element (roxmltree accepts an empty one).
fn prolog_has_doctype(text: &str) -> bool {
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if rest.starts_with("<!DOCTYPE") {
            return true;
        } else if let Some(r) = rest.strip_prefix("<?") {
            match r.find("?>") {
                Some(i) => rest = &r[i + 2..],
                None => return false,
            }
        } else if let Some(r) = rest.strip_prefix("<!--") {
            match r.find("-->") {
                Some(i) => rest = &r[i + 3..],
                None => return false,
            }
        } else {
            return false;
        }
    }
}

/// Rejects nesting deeper than [`MAX_DEPTH`], in one linear pass: descendants come in document
/// order, so a parent's depth is always known before its children's.
fn check_depth(doc: &Document<'_>) -> Result<(), ReadError> {
    let mut depth = vec![0u16; doc.descendants().count() + 1];
    for node in doc.root().descendants() {
        let Some(parent) = node.parent() else { continue };
        let d = depth.get(parent.id().get_usize()).copied().unwrap_or(0) + u16::from(node.is_element());
        if usize::from(d) > MAX_DEPTH {
            return Err(ReadError::TooDeep { max: MAX_DEPTH });
        }
        if let Some(slot) = depth.get_mut(node.id().get_usize()) {
            *slot = d;
        }
    }
    Ok(())
}

/// Tells the syntax and document kind from the root element.
pub fn detect(doc: &Document<'_>) -> Result<(Syntax, DocKind), ReadError> {
    let root = doc.root_element();
    let ns = root.tag_name().namespace().unwrap_or("");
    let name = root.tag_name().name();
    match (ns, name) {
        (NS_UBL_INVOICE, "Invoice") => Ok((Syntax::Ubl, DocKind::Invoice)),
        (NS_UBL_CREDIT_NOTE, "CreditNote") => Ok((Syntax::Ubl, DocKind::CreditNote)),
        (NS_RSM, "CrossIndustryInvoice") => Ok((Syntax::Cii, DocKind::Invoice)),
        _ => Err(ReadError::UnknownRoot {
            namespace: ns.to_string(),
            name: name.to_string(),
        }),
    }
}

/// Parses, detects the syntax and reads the lenient draft in one call.
pub fn read_xml(bytes: &[u8]) -> Result<(Syntax, Draft), ReadError> {
    read_document(&parse(bytes)?)
}

/// Detects the syntax of a parsed document and reads its lenient draft.
pub fn read_document(doc: &Document<'_>) -> Result<(Syntax, Draft), ReadError> {
    let (syntax, _) = detect(doc)?;
    let draft = match syntax {
        Syntax::Ubl => crate::ubl::read(doc)?,
        Syntax::Cii => crate::cii::read(doc)?,
    };
    Ok((syntax, draft))
}

/// Maps byte offsets to 1-based line numbers with one scan of the text (roxmltree's own lookup
/// rescans from the start for every call, which is quadratic over a document).
#[derive(Debug)]
pub(crate) struct Lines {
    starts: Vec<usize>,
    /// Index of the line found last: the readers ask in nearly document order, so the next answer is
    /// usually that line or one a few lines further, found without a binary search.
    hint: Cell<usize>,
}

/// How many lines past the last one found [`Lines::line`] walks before searching.
const LINE_WALK: usize = 8;

impl Lines {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        Lines {
            starts,
            hint: Cell::new(0),
        }
    }

    pub(crate) fn line(&self, offset: usize) -> u32 {
        let mut i = self.hint.get();
        if self.starts.get(i).is_some_and(|s| *s <= offset) {
            for _ in 0..LINE_WALK {
                match self.starts.get(i + 1) {
                    Some(s) if *s <= offset => i += 1,
                    _ => {
                        self.hint.set(i);
                        return u32::try_from(i + 1).unwrap_or(u32::MAX);
                    }
                }
            }
        }
        let idx = self.starts.partition_point(|s| *s <= offset);
        self.hint.set(idx.saturating_sub(1));
        u32::try_from(idx).unwrap_or(u32::MAX)
    }
}

/// An element met by a reader; its path is written out only when a rule asks (see [`DocPath`]).
#[derive(Debug, Clone)]
pub(crate) struct El<'a, 'i> {
    pub node: Node<'a, 'i>,
}

/// Tree-walking context for one document: its index, the namespace prefixes of its syntax and line
/// numbers. Names are looked up as numbers in the [`index::DocIndex`], children in its arrays.
pub(crate) struct Reader<'x, 'a, 'i> {
    pub doc: &'a Document<'i>,
    ix: &'x index::DocIndex<'a, 'i>,
    lines: Lines,
    prefixes: &'static [(&'static str, &'static str)],
    /// The document's position of each prefix's namespace, in the order of `prefixes` (`None`: unused).
    ns_pos: Vec<Option<u32>>,
    /// The position of "no namespace", for names whose prefix is not one of the syntax's.
    no_ns: Option<u32>,
    /// Chains already resolved by [`Reader::at`], keyed by the address and length of their static text.
    chains: RefCell<FxHashMap<(usize, usize), Chain>>,
    /// Every element's path, for the [`DocPath`]s of the values read; attribute names are numbered as
    /// in the index.
    paths: Arc<PathTable>,
}

/// Longest chain [`Reader::at`] keeps resolved; longer ones are resolved at every call.
const MAX_CHAIN: usize = 6;

/// A `/`-separated chain of names resolved against one document.
#[derive(Clone, Copy)]
enum Chain {
    /// The name number of each step.
    Found([u32; MAX_CHAIN], usize),
    /// Some step names no element of the document.
    Absent,
    /// Longer than [`MAX_CHAIN`].
    Long,
}

impl<'x, 'a, 'i> Reader<'x, 'a, 'i> {
    pub(crate) fn new(ix: &'x index::DocIndex<'a, 'i>, prefixes: &'static [(&'static str, &'static str)]) -> Self {
        let doc = ix.doc();
        Reader {
            doc,
            ix,
            lines: Lines::new(doc.input_text()),
            prefixes,
            ns_pos: prefixes.iter().map(|(_, ns)| ix.namespace(Some(ns))).collect(),
            no_ns: ix.namespace(None),
            chains: RefCell::default(),
            paths: Arc::new(path_table(ix, prefixes)),
        }
    }

    fn path(&self, node: Node<'a, 'i>) -> DocPath {
        DocPath::node(&self.paths, node.id().get(), NO_ATTR)
    }

    pub(crate) fn root(&self) -> El<'a, 'i> {
        El {
            node: self.doc.root_element(),
        }
    }

    pub(crate) fn loc(&self, el: &El<'a, 'i>) -> Loc {
        Loc {
            line: self.lines.line(el.node.range().start),
            path: self.path(el.node),
        }
    }

    /// The document's number of the name `prefix:Local`; `None` when no element has it. A name without
    /// a known prefix means an element in no namespace.
    fn name(&self, qname: &str) -> Option<u32> {
        // A byte search: these names are a few ASCII bytes, read thousands of times per document.
        let (pos, local) = match qname.bytes().position(|b| b == b':') {
            Some(i) => {
                let prefix = &qname[..i];
                let pos = match self.prefixes.iter().position(|(p, _)| *p == prefix) {
                    Some(k) => self.ns_pos.get(k).copied().flatten(),
                    None => self.no_ns,
                };
                (pos, &qname[i + 1..])
            }
            None => (self.no_ns, qname),
        };
        self.ix.lookup_at(pos?, local)
    }

    /// Children named `qname` (`prefix:Local`).
    pub(crate) fn kids(&self, el: &El<'a, 'i>, qname: &str) -> Vec<El<'a, 'i>> {
        let Some(name) = self.name(qname) else {
            return Vec::new();
        };
        self.ix
            .kids(el.node)
            .iter()
            .filter(|(k, _)| *k == name)
            .filter_map(|(_, id)| self.ix.node(*id))
            .map(|node| El { node })
            .collect()
    }

    /// First child named `qname`.
    pub(crate) fn kid(&self, el: &El<'a, 'i>, qname: &str) -> Option<El<'a, 'i>> {
        let node = self.ix.kid(el.node, self.name(qname)?)?;
        Some(El { node })
    }

    /// Follows a `/`-separated chain of first children. The chain's names are resolved once per
    /// document (the readers ask the same chains for every line), which is why it must be static text:
    /// its address is the key.
    pub(crate) fn at(&self, el: &El<'a, 'i>, chain: &'static str) -> Option<El<'a, 'i>> {
        let mut node = el.node;
        match self.chain(chain) {
            Chain::Found(ids, len) => {
                for id in ids.get(..len)? {
                    node = self.ix.kid(node, *id)?;
                }
            }
            Chain::Absent => return None,
            Chain::Long => {
                for step in chain.split('/') {
                    node = self.ix.kid(node, self.name(step)?)?;
                }
            }
        }
        Some(El { node })
    }

    /// `chain` resolved, once per document.
    fn chain(&self, chain: &'static str) -> Chain {
        let key = (chain.as_ptr() as usize, chain.len());
        let cached = self.chains.borrow().get(&key).copied();
        cached.unwrap_or_else(|| {
            let c = self.resolve_chain(chain);
            self.chains.borrow_mut().insert(key, c);
            c
        })
    }

    fn resolve_chain(&self, chain: &str) -> Chain {
        let mut ids = [0u32; MAX_CHAIN];
        let mut len = 0;
        let mut absent = false;
        for step in chain.split('/') {
            let Some(slot) = ids.get_mut(len) else {
                return Chain::Long;
            };
            match self.name(step) {
                Some(id) => *slot = id,
                None => absent = true,
            }
            len += 1;
        }
        if absent { Chain::Absent } else { Chain::Found(ids, len) }
    }

    /// Every element reached by the chain (all matches at every step).
    pub(crate) fn all(&self, el: &El<'a, 'i>, chain: &'static str) -> Vec<El<'a, 'i>> {
        let mut chain = chain.split('/');
        let Some(first) = chain.next() else { return Vec::new() };
        let mut cur = self.kids(el, first);
        for step in chain {
            if cur.is_empty() {
                break;
            }
            cur = cur.iter().flat_map(|e| self.kids(e, step)).collect();
        }
        cur
    }

    /// Every element named `qname` below `el` at any depth (XPath `.//qname`), in document order; for
    /// rules whose official context matches an element wherever it is.
    pub(crate) fn descendants(&self, el: &El<'a, 'i>, qname: &str) -> Vec<El<'a, 'i>> {
        let Some(name) = self.name(qname) else {
            return Vec::new();
        };
        el.node
            .descendants()
            .skip(1)
            .filter(|n| self.ix.name_of(*n) == name)
            .map(|node| El { node })
            .collect()
    }

    /// The string value of an element with its location and attributes.
    pub(crate) fn val_of(&self, el: &El<'a, 'i>) -> Val {
        self.owned_val(El { node: el.node })
    }

    /// Like [`Reader::val_of`], taking the element.
    pub(crate) fn owned_val(&self, el: El<'a, 'i>) -> Val {
        let line = self.lines.line(el.node.range().start);
        let id = el.node.id().get();
        let mut attrs = Vec::new();
        for a in el.node.attributes() {
            if a.namespace().is_some() {
                continue;
            }
            let attr = self.ix.attribute_number(a.name()).unwrap_or(NO_ATTR);
            let v = Val {
                raw: a.value().to_string(),
                line,
                path: DocPath::node(&self.paths, id, attr),
                attrs: Vec::new(),
            };
            attrs.push((a.name().to_string(), v));
        }
        Val {
            raw: string_value(el.node),
            line,
            path: self.path(el.node),
            attrs,
        }
    }

    /// Value of the first element reached by `chain`.
    pub(crate) fn val(&self, el: &El<'a, 'i>, chain: &'static str) -> Option<Val> {
        self.at(el, chain).map(|e| self.owned_val(e))
    }

    /// Values of every element reached by `chain`.
    pub(crate) fn vals(&self, el: &El<'a, 'i>, chain: &'static str) -> Vec<Val> {
        self.all(el, chain).into_iter().map(|e| self.owned_val(e)).collect()
    }

    /// Value of the attribute `name` of `el`, as its own located value.
    pub(crate) fn attr_val(&self, el: &El<'a, 'i>, name: &str) -> Option<Val> {
        let raw = el.node.attribute(name)?;
        let attr = self.ix.attribute_number(name).unwrap_or(NO_ATTR);
        Some(Val {
            raw: raw.to_string(),
            line: self.lines.line(el.node.range().start),
            path: DocPath::node(&self.paths, el.node.id().get(), attr),
            attrs: Vec::new(),
        })
    }
}

/// Each element's parent, name and position among same-name siblings, and the attribute names: the
/// paths a reader used to write out for every value, kept as numbers.
fn path_table(ix: &index::DocIndex<'_, '_>, prefixes: &[(&'static str, &str)]) -> PathTable {
    let doc = ix.doc();
    let mut table = PathTable {
        nodes: vec![(u32::MAX, u32::MAX, 0); doc.descendants().len() + 1],
        ..PathTable::default()
    };
    let mut counts = vec![0u32; ix.name_count()];
    for n in doc.descendants() {
        if !(n.is_element() || n.is_root()) {
            continue;
        }
        let (parent, root) = (n.id().get(), n.is_root());
        let kids = ix.kids(n);
        for (name, id) in kids {
            let Some(c) = counts.get_mut(*name as usize) else {
                continue;
            };
            *c += 1;
            if let Some(slot) = table.nodes.get_mut(*id as usize) {
                *slot = if root {
                    (u32::MAX, *name, 0)
                } else {
                    (parent, *name, *c)
                };
            }
        }
        for (name, _) in kids {
            if let Some(c) = counts.get_mut(*name as usize) {
                *c = 0;
            }
        }
    }
    for a in ix.attribute_names() {
        let range = push_part(&mut table.text, &[a]);
        table.attrs.push(range);
    }
    table.steps = vec![(0, 0); ix.name_count()];
    for (ns, local, id) in ix.names() {
        let range = push_part(&mut table.text, &[prefix_of(prefixes, ns), ":", local]);
        if let Some(step) = table.steps.get_mut(id as usize) {
            *step = range;
        }
    }
    table
}

/// The prefix of namespace `ns` among `prefixes` (`*` for an unknown one), as paths write it.
fn prefix_of(prefixes: &[(&'static str, &str)], ns: Option<&str>) -> &'static str {
    let ns = ns.unwrap_or("");
    prefixes.iter().find(|(_, n)| *n == ns).map(|(p, _)| *p).unwrap_or("*")
}

/// Appends `parts` to `text`, returning the range they occupy.
fn push_part(text: &mut String, parts: &[&str]) -> (u32, u32) {
    let start = u32::try_from(text.len()).unwrap_or(u32::MAX);
    for p in parts {
        text.push_str(p);
    }
    (start, u32::try_from(text.len()).unwrap_or(u32::MAX))
}

/// XPath string value: the concatenated text of all descendant text nodes.
fn string_value(node: Node<'_, '_>) -> String {
    let mut kids = node.children();
    match (kids.next(), kids.next()) {
        (None, _) => String::new(),
        (Some(only), None) if only.is_text() => only.text().unwrap_or("").to_string(),
        _ => node
            .descendants()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect(),
    }
}

/// Thin quick-xml writer for the canonical-order writers: elements are opened and closed by
/// name; empty optional leaves are skipped. Writing into a `Vec` cannot fail, so the I/O results
/// quick-xml returns are dropped on purpose.
pub(crate) struct XmlOut {
    w: quick_xml::Writer<Vec<u8>>,
}

impl XmlOut {
    pub(crate) fn new() -> Self {
        let mut w = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
        let decl = quick_xml::events::BytesDecl::new("1.0", Some("UTF-8"), None);
        let _ = w.write_event(quick_xml::events::Event::Decl(decl));
        XmlOut { w }
    }

    pub(crate) fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        let mut start = quick_xml::events::BytesStart::new(name);
        for (k, v) in attrs {
            start.push_attribute((*k, *v));
        }
        let _ = self.w.write_event(quick_xml::events::Event::Start(start));
    }

    pub(crate) fn close(&mut self, name: &str) {
        let _ = self
            .w
            .write_event(quick_xml::events::Event::End(quick_xml::events::BytesEnd::new(name)));
    }

    /// `<name attrs…>text</name>`.
    pub(crate) fn leaf_attrs(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        let el = self.w.create_element(name).with_attributes(attrs.iter().copied());
        let _ = el.write_text_content(quick_xml::events::BytesText::new(text));
    }

    pub(crate) fn leaf(&mut self, name: &str, text: &str) {
        self.leaf_attrs(name, &[], text);
    }

    /// Writes the leaf only when there is a value.
    pub(crate) fn opt(&mut self, name: &str, text: Option<&str>) {
        if let Some(t) = text {
            self.leaf(name, t);
        }
    }

    pub(crate) fn finish(self) -> String {
        let mut bytes = self.w.into_inner();
        bytes.push(b'\n');
        // Only `&str` content was written, so the bytes are UTF-8.
        String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_declaration_is_read() {
        assert_eq!(
            declared_encoding("<?xml version=\"1.0\" encoding='ISO-8859-1'?><a/>"),
            Some("ISO-8859-1")
        );
        assert_eq!(declared_encoding("<?xml version=\"1.0\"?><a/>"), None);
        assert_eq!(declared_encoding("<a/>"), None);
    }

    #[test]
    fn doctype_in_prolog_is_seen_after_comments() {
        assert!(prolog_has_doctype(
            "<?xml version=\"1.0\"?>\n<!-- x --> <!DOCTYPE a><a/>"
        ));
        assert!(!prolog_has_doctype("<a><!-- <!DOCTYPE --></a>"));
    }

    #[test]
    fn lines_are_one_based() {
        let l = Lines::new("a\nb\nc");
        assert_eq!(l.line(0), 1);
        assert_eq!(l.line(2), 2);
        assert_eq!(l.line(4), 3);
        // Backwards, repeated and far jumps give the same answers as a fresh lookup.
        let text: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let l = Lines::new(&text);
        for offset in [500, 3, 3, 0, 699, 250, 251, 7, 8, 9, 10_000] {
            let fresh = Lines::new(&text).line(offset);
            assert_eq!(l.line(offset), fresh, "offset {offset}");
        }
    }
}
