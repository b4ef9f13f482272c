//! Lookup tables of one parsed document, built in one pass and shared by the reader and the tree rules.
//!
//! Both ask the same questions thousands of times per document: "the children of this element named
//! `cac:Item`", "is there any `cbc:Note` at all". Answered over the tree, each means walking sibling links
//! (every whitespace text node included) and comparing local names and namespace URIs as strings. Here
//! every expanded name of the document gets a number once, and each element's element children sit
//! contiguously with their name numbers, so a lookup is a short scan of integers.

use roxmltree::{Document, Node, NodeId};
use rustc_hash::FxHashMap;

/// A document's expanded names numbered, and its element children as arrays.
pub(crate) struct DocIndex<'a, 'i> {
    doc: &'a Document<'i>,
    /// The document's distinct namespace URIs (`None`: no namespace); a name's namespace is a position here.
    namespaces: Vec<Option<&'a str>>,
    /// Position of each namespace in `namespaces`.
    ns_positions: FxHashMap<Option<&'a str>, u32>,
    /// (local name, namespace position) → number of each expanded name.
    names: FxHashMap<(&'a str, u32), u32>,
    /// Name number of each node, by node id (`u32::MAX` for other nodes than elements).
    node_name: Vec<u32>,
    /// Element node ids by name number, in document order.
    by_name: Vec<Vec<u32>>,
    /// Element children of every node as (name number, node id); a node's children are contiguous.
    kid_list: Vec<(u32, u32)>,
    /// Range of each node's children in `kid_list`, by node id.
    kid_range: Vec<(u32, u32)>,
    /// The distinct local names of the attributes of all elements (a handful per document), numbered in
    /// order of first appearance.
    attr_names: FxHashMap<&'a str, u32>,
    attr_list: Vec<&'a str>,
    /// Which (parent name, child name) pairs occur, as a bit matrix by name numbers; empty when the
    /// document has more than [`MAX_PAIR_NAMES`] names (then every pair is taken to occur).
    pairs: Vec<u64>,
}

/// Most distinct names for which [`DocIndex`] keeps the parent-child pairs (a 128 KiB matrix).
const MAX_PAIR_NAMES: usize = 1024;

/// How many of the first namespaces are recognised by address before hashing: roxmltree hands out one
/// string per declared namespace, and an invoice declares its few namespaces once, on the root.
const RECENT_NAMESPACES: usize = 8;

fn id32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<'a, 'i> DocIndex<'a, 'i> {
    pub(crate) fn new(doc: &'a Document<'i>) -> Self {
        let len = doc.descendants().len();
        let mut ix = DocIndex {
            doc,
            namespaces: Vec::new(),
            ns_positions: FxHashMap::default(),
            names: FxHashMap::default(),
            node_name: vec![u32::MAX; len + 1],
            by_name: Vec::new(),
            kid_list: Vec::with_capacity(len / 2),
            kid_range: vec![(0, 0); len + 1],
            attr_names: FxHashMap::default(),
            attr_list: Vec::new(),
            pairs: Vec::new(),
        };
        for n in doc.descendants() {
            if !n.is_element() {
                continue;
            }
            for a in n.attributes() {
                let next = id32(ix.attr_list.len());
                if *ix.attr_names.entry(a.name()).or_insert(next) == next {
                    ix.attr_list.push(a.name());
                }
            }
            let tag = n.tag_name();
            let ns = ix.ns_position(tag.namespace());
            let next = id32(ix.by_name.len());
            let id = *ix.names.entry((tag.name(), ns)).or_insert(next);
            if id == next {
                ix.by_name.push(Vec::new());
            }
            if let Some(v) = ix.by_name.get_mut(id as usize) {
                v.push(n.id().get());
            }
            if let Some(slot) = ix.node_name.get_mut(n.id().get_usize()) {
                *slot = id;
            }
        }
        let names = ix.by_name.len();
        if names <= MAX_PAIR_NAMES {
            ix.pairs = vec![0; (names * names).div_ceil(64)];
        }
        for n in doc.descendants().filter(|n| n.is_element() || n.is_root()) {
            let start = id32(ix.kid_list.len());
            let parent = ix.name_of(n) as usize;
            for c in n.children().filter(Node::is_element) {
                let name = ix.name_of(c);
                ix.kid_list.push((name, c.id().get()));
                if parent < names {
                    let bit = parent * names + name as usize;
                    if let Some(w) = ix.pairs.get_mut(bit / 64) {
                        *w |= 1 << (bit % 64);
                    }
                }
            }
            let end = id32(ix.kid_list.len());
            if let Some(r) = ix.kid_range.get_mut(n.id().get_usize()) {
                *r = (start, end);
            }
        }
        ix
    }

    fn ns_position(&mut self, ns: Option<&'a str>) -> u32 {
        let same_address = |k: &Option<&str>| match (k, ns) {
            (Some(a), Some(b)) => std::ptr::eq(*a, b),
            (None, None) => true,
            _ => false,
        };
        if let Some(p) = self.namespaces.iter().take(RECENT_NAMESPACES).position(same_address) {
            return id32(p);
        }
        let next = id32(self.namespaces.len());
        let p = *self.ns_positions.entry(ns).or_insert(next);
        if p == next {
            self.namespaces.push(ns);
        }
        p
    }

    pub(crate) fn doc(&self) -> &'a Document<'i> {
        self.doc
    }

    /// The number of the expanded name `{ns}local`, `None` when no element of the document has it.
    pub(crate) fn lookup(&self, ns: Option<&str>, local: &str) -> Option<u32> {
        self.lookup_at(self.namespace(ns)?, local)
    }

    /// The position of namespace `ns` among the document's, `None` when no element uses it.
    pub(crate) fn namespace(&self, ns: Option<&str>) -> Option<u32> {
        self.ns_positions.get(&ns).copied()
    }

    /// [`DocIndex::lookup`] with the namespace given by its position.
    pub(crate) fn lookup_at(&self, ns: u32, local: &str) -> Option<u32> {
        self.names.get(&(local, ns)).copied()
    }

    /// Every (namespace, local name, number) of the document.
    pub(crate) fn names(&self) -> impl Iterator<Item = (Option<&'a str>, &'a str, u32)> + '_ {
        self.names
            .iter()
            .map(|((local, p), id)| (self.namespaces.get(*p as usize).copied().flatten(), *local, *id))
    }

    /// True when some element of the document has an attribute with local name `name`.
    pub(crate) fn has_attribute_named(&self, name: &str) -> bool {
        self.attr_names.contains_key(name)
    }

    /// The number of the attribute name `name`, `None` when no element has such an attribute.
    pub(crate) fn attribute_number(&self, name: &str) -> Option<u32> {
        self.attr_names.get(name).copied()
    }

    /// The distinct attribute names, by number.
    pub(crate) fn attribute_names(&self) -> &[&'a str] {
        &self.attr_list
    }

    /// False when no element named by number `parent` has a child named by number `child`.
    pub(crate) fn may_have_child(&self, parent: u32, child: u32) -> bool {
        let names = self.by_name.len();
        let (p, c) = (parent as usize, child as usize);
        if self.pairs.is_empty() || p >= names || c >= names {
            return true;
        }
        let bit = p * names + c;
        self.pairs.get(bit / 64).is_none_or(|w| w & (1 << (bit % 64)) != 0)
    }

    /// Number of distinct expanded names.
    pub(crate) fn name_count(&self) -> usize {
        self.by_name.len()
    }

    /// The name number of `n` (`u32::MAX` for other nodes than elements).
    pub(crate) fn name_of(&self, n: Node<'_, '_>) -> u32 {
        self.node_name.get(n.id().get_usize()).copied().unwrap_or(u32::MAX)
    }

    /// The element children of `n`: (name number, node id) each, in document order.
    pub(crate) fn kids(&self, n: Node<'_, '_>) -> &[(u32, u32)] {
        let (start, end) = self.kid_range.get(n.id().get_usize()).copied().unwrap_or((0, 0));
        self.kid_list.get(start as usize..end as usize).unwrap_or_default()
    }

    /// The elements named by number `name`, in document order.
    pub(crate) fn named(&self, name: u32) -> &[u32] {
        self.by_name.get(name as usize).map_or(&[][..], Vec::as_slice)
    }

    /// The node with id `id`.
    pub(crate) fn node(&self, id: u32) -> Option<Node<'a, 'i>> {
        self.doc.get_node(NodeId::new(id))
    }

    /// The first element child of `n` named by number `name`.
    pub(crate) fn kid(&self, n: Node<'_, '_>, name: u32) -> Option<Node<'a, 'i>> {
        let (_, id) = self.kids(n).iter().find(|(k, _)| *k == name)?;
        self.node(*id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_numbered_by_namespace_and_children_kept_in_order() {
        let xml = r#"<r xmlns="urn:a" xmlns:b="urn:b"><x/><b:x/>text<y/><x><x/></x></r>"#;
        let doc = Document::parse(xml).expect("well-formed");
        let ix = DocIndex::new(&doc);
        let xa = ix.lookup(Some("urn:a"), "x").expect("a:x");
        let xb = ix.lookup(Some("urn:b"), "x").expect("b:x");
        assert_ne!(xa, xb);
        assert_eq!(ix.lookup(Some("urn:c"), "x"), None);
        assert_eq!(ix.lookup(Some("urn:a"), "z"), None);
        assert_eq!(ix.named(xa).len(), 3);
        let root = doc.root_element();
        let names: Vec<u32> = ix.kids(root).iter().map(|(n, _)| *n).collect();
        let y = ix.lookup(Some("urn:a"), "y").expect("y");
        assert_eq!(names, vec![xa, xb, y, xa]);
        assert_eq!(ix.kids(doc.root()).len(), 1);
        assert_eq!(ix.name_count(), 4);
        let doc = Document::parse(r#"<r a="1"><s b:c="2" xmlns:b="urn:b"/></r>"#).expect("well-formed");
        let ix = DocIndex::new(&doc);
        assert!(ix.has_attribute_named("a") && ix.has_attribute_named("c"));
        assert!(!ix.has_attribute_named("d"));
        assert_eq!((ix.attribute_number("a"), ix.attribute_number("c")), (Some(0), Some(1)));
        assert_eq!(ix.attribute_names(), ["a", "c"]);
        let (r, s) = (ix.lookup(None, "r").expect("r"), ix.lookup(None, "s").expect("s"));
        assert!(ix.may_have_child(r, s));
        assert!(!ix.may_have_child(s, r) && !ix.may_have_child(r, r));
        // Two prefixes bound to one URI are one namespace.
        let doc = Document::parse(r#"<a:r xmlns:a="urn:x" xmlns:b="urn:x"><b:r/></a:r>"#).expect("well-formed");
        let ix = DocIndex::new(&doc);
        let r = ix.lookup(Some("urn:x"), "r").expect("r");
        assert_eq!(ix.named(r).len(), 2);
        assert_eq!(ix.name_count(), 1);
    }
}
