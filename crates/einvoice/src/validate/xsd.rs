//! Schema validation (UBL 2.1 Invoice / CreditNote, CII D16B), the step the official process runs before
//! the Schematron: element order, cardinality, required and unknown elements and attributes, and the
//! values of the built-in types (dates, decimals, indicators…).
//!
//! The content models come from the XSDs through `tools/gen_xsd.py` ([`super::xsd_gen`]); this module
//! walks the tree already parsed and indexed for the rules, once. The schemas only use flat sequences
//! and choices of distinctly named elements, so each content model is checked by one forward scan: no
//! automaton is needed, and the generator refuses any schema that would need one.
//!
//! Findings: [`XSD_ORDER`], [`XSD_CARDINALITY`], [`XSD_REQUIRED`], [`XSD_UNKNOWN`], [`XSD_TYPE`], all fatal.
//!
//! One simplification, documented in the README: the content of UBL's `ext:ExtensionContent` (an
//! `xsd:any processContents="lax"`) is not checked against the signature schemas it may contain.

use std::borrow::Cow;
use std::sync::OnceLock;

use roxmltree::Node;
use rustc_hash::FxHashMap;

use super::finding::{Findings, Loc, Syntax};
use super::tree::{node_line, node_path};
use super::xsd_gen::{NAMES, NAMESPACES, ROOTS, TYPES};
use crate::xml::index::DocIndex;

/// An element in a place its parent's content model puts it before an element already met.
pub const XSD_ORDER: &str = "XSD-ORDER";
/// An element more often than its parent's content model allows.
pub const XSD_CARDINALITY: &str = "XSD-CARDINALITY";
/// A required element or attribute is missing.
pub const XSD_REQUIRED: &str = "XSD-REQUIRED";
/// An element or attribute the schema does not declare there.
pub const XSD_UNKNOWN: &str = "XSD-UNKNOWN";
/// A value that is not of its type (date, decimal, indicator…), text where only elements may be, or
/// elements where only a value may be.
pub const XSD_TYPE: &str = "XSD-TYPE";

/// True for the ids of schema findings.
pub fn is_schema_rule(id: &str) -> bool {
    id.starts_with("XSD-")
}

/// A type of the schemas: its content and its attributes.
pub(super) struct Type {
    pub(super) content: Content,
    pub(super) attrs: &'static [Attr],
}

/// What an element of a type may contain.
pub(super) enum Content {
    /// These elements, in this order.
    Sequence(&'static [Particle]),
    /// Exactly one of these elements.
    Choice(&'static [Particle]),
    /// A value.
    Simple(Simple),
    /// One element of another namespace than UBL's extension namespace, not checked further.
    AnyOther,
}

/// An element of a content model.
pub(super) struct Particle {
    pub(super) name: u16,
    pub(super) ty: u16,
    pub(super) min: u16,
    /// `u16::MAX`: unbounded.
    pub(super) max: u16,
}

/// A declared attribute.
pub(super) struct Attr {
    pub(super) name: &'static str,
    pub(super) ty: Simple,
    pub(super) required: bool,
    pub(super) fixed: Option<&'static str>,
}

/// A simple type: a built-in type with length facets.
#[derive(Clone, Copy)]
pub(super) struct Simple {
    pub(super) base: Builtin,
    pub(super) min_len: Option<u32>,
    pub(super) max_len: Option<u32>,
}

/// The built-in XSD types the schemas use.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Builtin {
    String,
    NormalizedString,
    Token,
    Decimal,
    Date,
    DateTime,
    Time,
    Boolean,
    Base64Binary,
    AnyUri,
    Language,
}

const NO_NAME: u16 = u16::MAX;

/// Local name → (namespace position, name number), built once.
fn by_local() -> &'static FxHashMap<&'static str, Vec<(u8, u16)>> {
    static MAP: OnceLock<FxHashMap<&'static str, Vec<(u8, u16)>>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut m: FxHashMap<&'static str, Vec<(u8, u16)>> = FxHashMap::default();
        for (i, (ns, local)) in NAMES.iter().enumerate() {
            m.entry(*local)
                .or_default()
                .push((*ns, u16::try_from(i).unwrap_or(NO_NAME)));
        }
        m
    })
}

fn ns_position(ns: &str) -> Option<u8> {
    NAMESPACES
        .iter()
        .position(|(u, _)| *u == ns)
        .and_then(|p| u8::try_from(p).ok())
}

/// `prefix:local` of schema name `n`.
fn display(n: u16) -> String {
    match NAMES.get(usize::from(n)) {
        Some((ns, local)) => match NAMESPACES.get(usize::from(*ns)).map(|x| x.1) {
            Some(p) if !p.is_empty() => format!("{p}:{local}"),
            _ => (*local).to_owned(),
        },
        None => "?".to_owned(),
    }
}

/// `prefix:local` of an element of the document.
fn display_node(n: Node<'_, '_>) -> String {
    let tag = n.tag_name();
    let prefix = tag
        .namespace()
        .and_then(ns_position)
        .and_then(|p| NAMESPACES.get(usize::from(p)))
        .map(|x| x.1);
    match (prefix, tag.namespace()) {
        (Some(p), _) if !p.is_empty() => format!("{p}:{}", tag.name()),
        (Some(_), _) | (None, None) => tag.name().to_owned(),
        (None, Some(ns)) => format!("{{{ns}}}{}", tag.name()),
    }
}

struct Ctx<'x, 'a, 'i> {
    ix: &'x DocIndex<'a, 'i>,
    /// Schema name number of each document name number.
    names: Vec<u16>,
    schema: &'static str,
    out: &'x mut Findings,
}

impl Ctx<'_, '_, '_> {
    fn fire(&mut self, rule: &'static str, n: Node<'_, '_>, fr: String, en: String) {
        let path = node_path(n);
        self.out.fire(rule, Loc::new(&path, node_line(n)), fr, en);
    }

    fn schema_name(&self, doc_name: u32) -> u16 {
        self.names.get(doc_name as usize).copied().unwrap_or(NO_NAME)
    }
}

/// Checks the document against its syntax's schema; true when it is schema-valid.
pub(crate) fn check(ix: &DocIndex<'_, '_>, syntax: Syntax, out: &mut Findings) -> bool {
    let before = out.items().len();
    let map = by_local();
    let mut cache: Vec<(*const u8, Option<u8>)> = Vec::new();
    let mut names = vec![NO_NAME; ix.name_count()];
    for (ns, local, num) in ix.names() {
        let pos = match ns {
            None => None,
            Some(ns) => match cache.iter().find(|(p, _)| std::ptr::eq(*p, ns.as_ptr())) {
                Some((_, pos)) => *pos,
                None => {
                    let pos = ns_position(ns);
                    cache.push((ns.as_ptr(), pos));
                    pos
                }
            },
        };
        let Some(pos) = pos else { continue };
        let found = map
            .get(local)
            .and_then(|v| v.iter().find(|(p, _)| *p == pos))
            .map(|(_, id)| *id);
        if let (Some(id), Some(slot)) = (found, names.get_mut(num as usize)) {
            *slot = id;
        }
    }
    let schema = match syntax {
        Syntax::Ubl => "UBL 2.1",
        Syntax::Cii => "CII D16B",
    };
    let mut cx = Ctx { ix, names, schema, out };
    let root = ix.doc().root_element();
    let root_name = cx.schema_name(ix.name_of(root));
    let Some(&(_, root_ty)) = ROOTS.iter().find(|(n, _)| *n == root_name) else {
        let el = display_node(root);
        cx.fire(
            XSD_UNKNOWN,
            root,
            format!("L'élément racine {el} n'est pas déclaré par le schéma {schema}."),
            format!("The root element {el} is not declared by the {schema} schema."),
        );
        return false;
    };
    let mut stack: Vec<(Node<'_, '_>, u16)> = vec![(root, root_ty)];
    while let Some((n, ty)) = stack.pop() {
        let Some(t) = TYPES.get(usize::from(ty)) else { continue };
        check_attributes(&mut cx, n, t.attrs);
        match &t.content {
            Content::Simple(s) => check_simple_element(&mut cx, n, *s),
            Content::AnyOther => check_any_other(&mut cx, n),
            Content::Sequence(parts) => {
                check_no_text(&mut cx, n);
                check_sequence(&mut cx, n, parts, &mut stack);
            }
            Content::Choice(parts) => {
                check_no_text(&mut cx, n);
                check_choice(&mut cx, n, parts, &mut stack);
            }
        }
    }
    cx.out.items().len() == before
}

/// (parent, child) elements of CII, both in the `ram` namespace, that the schema lets repeat but that
/// carry a business term of cardinality 1 in EN 16931. Where the official XSLT reads one as a single
/// value, two make it stop with a dynamic error (XPTY0004) and report nothing (found on random mutants,
/// `scripts/mutants.py`); where it does not, we refuse the document all the same (README, "Deliberate
/// differences").
const CII_SINGLETONS: &[(&str, &str)] = &[
    // BT-153 item name.
    ("SpecifiedTradeProduct", "Name"),
    // BT-131 line net amount.
    ("SpecifiedTradeSettlementLineMonetarySummation", "LineTotalAmount"),
    // BT-116, BT-117 VAT breakdown basis and amount.
    ("ApplicableTradeTax", "BasisAmount"),
    ("ApplicableTradeTax", "CalculatedAmount"),
    // BT-92, BT-99, BT-136, BT-141 allowance and charge amounts.
    ("SpecifiedTradeAllowanceCharge", "ActualAmount"),
    // BT-146, BT-148 net and gross prices.
    ("NetPriceProductTradePrice", "ChargeAmount"),
    ("GrossPriceProductTradePrice", "ChargeAmount"),
    // BT-106 … BT-109, BT-112 … BT-115 document totals (BT-110 and BT-111 share TaxTotalAmount).
    ("SpecifiedTradeSettlementHeaderMonetarySummation", "LineTotalAmount"),
    ("SpecifiedTradeSettlementHeaderMonetarySummation", "ChargeTotalAmount"),
    (
        "SpecifiedTradeSettlementHeaderMonetarySummation",
        "AllowanceTotalAmount",
    ),
    ("SpecifiedTradeSettlementHeaderMonetarySummation", "TaxBasisTotalAmount"),
    ("SpecifiedTradeSettlementHeaderMonetarySummation", "GrandTotalAmount"),
    ("SpecifiedTradeSettlementHeaderMonetarySummation", "TotalPrepaidAmount"),
    ("SpecifiedTradeSettlementHeaderMonetarySummation", "RoundingAmount"),
    ("SpecifiedTradeSettlementHeaderMonetarySummation", "DuePayableAmount"),
];

/// Reports [`CII_SINGLETONS`] met twice under one parent as [`super::own_rules::DUPLICATE`].
pub(crate) fn check_cii_singletons(ix: &DocIndex<'_, '_>, out: &mut Findings) {
    let ns = Some(super::tree::NS_RAM);
    for (parent, child) in CII_SINGLETONS {
        let (Some(p), Some(c)) = (ix.lookup(ns, parent), ix.lookup(ns, child)) else {
            continue;
        };
        if !ix.may_have_child(p, c) {
            continue;
        }
        for &id in ix.named(p) {
            let Some(pn) = ix.node(id) else { continue };
            let Some(&(_, second)) = ix.kids(pn).iter().filter(|(k, _)| *k == c).nth(1) else {
                continue;
            };
            let Some(at) = ix.node(second) else { continue };
            let path = node_path(at);
            out.fire(
                super::own_rules::DUPLICATE,
                Loc::new(&path, node_line(at)),
                format!(
                    "ram:{child} ne peut figurer qu'une fois dans ram:{parent} (EN 16931) : supprimez les doublons."
                ),
                format!("ram:{child} may occur only once in ram:{parent} (EN 16931): remove the duplicates."),
            );
        }
    }
}

const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

fn check_attributes(cx: &mut Ctx<'_, '_, '_>, n: Node<'_, '_>, attrs: &'static [Attr]) {
    for a in n.attributes() {
        match a.namespace() {
            Some(NS_XSI) => continue,
            Some(_) => {}
            None => {
                if let Some(decl) = attrs.iter().find(|d| d.name == a.name()) {
                    check_attribute_value(cx, n, decl, a.value());
                    continue;
                }
            }
        }
        let (el, at) = (display_node(n), a.name());
        cx.fire(
            XSD_UNKNOWN,
            n,
            format!(
                "L'attribut {at} n'est pas prévu sur {el} par le schéma {} : supprimez-le.",
                cx.schema
            ),
            format!(
                "Attribute {at} is not allowed on {el} by the {} schema: remove it.",
                cx.schema
            ),
        );
    }
    for d in attrs.iter().filter(|d| d.required) {
        if n.attributes().any(|a| a.namespace().is_none() && a.name() == d.name) {
            continue;
        }
        let el = display_node(n);
        cx.fire(
            XSD_REQUIRED,
            n,
            format!("L'attribut {} est obligatoire sur {el} : ajoutez-le.", d.name),
            format!("Attribute {} is required on {el}: add it.", d.name),
        );
    }
}

fn check_attribute_value(cx: &mut Ctx<'_, '_, '_>, n: Node<'_, '_>, decl: &Attr, raw: &str) {
    let what = format!("{} @{}", display_node(n), decl.name);
    if let Err(kind) = check_value(decl.ty, raw) {
        type_finding(cx, n, &what, raw, decl.ty.base, kind);
        return;
    }
    if let Some(fixed) = decl.fixed
        && normalize(decl.ty.base, raw) != normalize(decl.ty.base, fixed)
    {
        cx.fire(
            XSD_TYPE,
            n,
            format!(
                "L'attribut {what} doit valoir '{fixed}' (valeur fixée par le schéma), pas '{}'.",
                clip(raw)
            ),
            format!(
                "Attribute {what} must be '{fixed}' (fixed by the schema), not '{}'.",
                clip(raw)
            ),
        );
    }
}

/// Non-whitespace text in an element that may only contain elements.
fn check_no_text(cx: &mut Ctx<'_, '_, '_>, n: Node<'_, '_>) {
    let text = n
        .children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .find(|t| !t.bytes().all(is_xml_space));
    if let Some(t) = text {
        let el = display_node(n);
        cx.fire(
            XSD_TYPE,
            n,
            format!(
                "{el} ne doit contenir que des éléments, pas du texte ('{}') : retirez ce texte.",
                clip(t)
            ),
            format!(
                "{el} may only contain elements, not text ('{}'): remove the text.",
                clip(t)
            ),
        );
    }
}

fn check_simple_element(cx: &mut Ctx<'_, '_, '_>, n: Node<'_, '_>, s: Simple) {
    if let Some(&(_, first)) = cx.ix.kids(n).first() {
        let el = display_node(n);
        let at = cx.ix.node(first).unwrap_or(n);
        let child = display_node(at);
        cx.fire(
            XSD_TYPE,
            at,
            format!("{el} contient une valeur, pas d'éléments : retirez {child}."),
            format!("{el} holds a value, not elements: remove {child}."),
        );
        return;
    }
    let value = text_of(n);
    if let Err(kind) = check_value(s, &value) {
        type_finding(cx, n, &display_node(n), &value, s.base, kind);
    }
}

/// The text content of an element without element children (text nodes joined; comments skipped).
fn text_of<'a>(n: Node<'a, '_>) -> Cow<'a, str> {
    let mut texts = n.children().filter(|c| c.is_text()).filter_map(|c| c.text());
    match (texts.next(), texts.next()) {
        (None, _) => Cow::Borrowed(""),
        (Some(a), None) => Cow::Borrowed(a),
        (Some(a), Some(b)) => {
            let mut s = String::from(a);
            s.push_str(b);
            texts.for_each(|t| s.push_str(t));
            Cow::Owned(s)
        }
    }
}

fn check_any_other(cx: &mut Ctx<'_, '_, '_>, n: Node<'_, '_>) {
    check_no_text(cx, n);
    let kids = cx.ix.kids(n);
    let el = display_node(n);
    match kids {
        [] => cx.fire(
            XSD_REQUIRED,
            n,
            format!("{el} doit contenir un élément (le contenu de l'extension) : ajoutez-le ou retirez l'extension."),
            format!("{el} must contain one element (the extension's content): add it or remove the extension."),
        ),
        [(_, only)] => {
            let Some(c) = cx.ix.node(*only) else { return };
            let ns = c.tag_name().namespace();
            if ns.is_none() || ns == Some(super::tree::NS_EXT) {
                let child = display_node(c);
                cx.fire(
                    XSD_UNKNOWN,
                    c,
                    format!("{child} ne peut pas être le contenu de {el} : son espace de noms doit être autre que celui des extensions UBL."),
                    format!("{child} cannot be the content of {el}: it must be in another namespace than UBL's extension namespace."),
                );
            }
        }
        [_, (_, second), ..] => {
            let at = cx.ix.node(*second).unwrap_or(n);
            cx.fire(
                XSD_CARDINALITY,
                at,
                format!(
                    "{el} ne peut contenir qu'un élément : regroupez le contenu de l'extension sous un seul élément."
                ),
                format!("{el} may contain only one element: put the extension's content under a single element."),
            );
        }
    }
}

fn check_sequence<'a, 'i>(
    cx: &mut Ctx<'_, 'a, 'i>,
    n: Node<'a, 'i>,
    parts: &'static [Particle],
    stack: &mut Vec<(Node<'a, 'i>, u16)>,
) {
    let ix = cx.ix;
    let mut pos = 0usize;
    let mut count = 0u16;
    let kids = ix.kids(n);
    for (at, &(doc_name, id)) in kids.iter().enumerate() {
        let Some(c) = ix.node(id) else { continue };
        let name = cx.schema_name(doc_name);
        let ahead = parts.get(pos..).unwrap_or_default().iter().position(|p| p.name == name);
        match ahead {
            Some(0) => {
                count = count.saturating_add(1);
                let p = &parts[pos];
                stack.push((c, p.ty));
                if count > p.max {
                    too_many(cx, n, c, p.max);
                }
            }
            Some(k) => {
                for skipped in (pos..pos + k).filter_map(|i| parts.get(i).map(|p| (i, p))) {
                    let (i, p) = skipped;
                    let have = if i == pos { count } else { 0 };
                    // A required element met later is out of order, and reported as such there.
                    let later = || {
                        kids.get(at + 1..)
                            .unwrap_or_default()
                            .iter()
                            .any(|(d, _)| cx.schema_name(*d) == p.name)
                    };
                    if have < p.min && !later() {
                        missing(cx, n, p.name, Some(c));
                    }
                }
                pos += k;
                count = 1;
                if let Some(p) = parts.get(pos) {
                    stack.push((c, p.ty));
                }
            }
            None => match parts.iter().position(|p| p.name == name) {
                Some(i) => {
                    if let Some(p) = parts.get(i) {
                        stack.push((c, p.ty));
                    }
                    let (el, next) = (
                        display_node(c),
                        parts.get(pos).map_or_else(String::new, |p| display(p.name)),
                    );
                    let parent = display_node(n);
                    cx.fire(
                        XSD_ORDER,
                        c,
                        format!(
                            "{el} est mal placé dans {parent} : le schéma {} le veut avant {next}. Déplacez-le.",
                            cx.schema
                        ),
                        format!(
                            "{el} is out of order in {parent}: the {} schema wants it before {next}. Move it.",
                            cx.schema
                        ),
                    );
                }
                None => unknown(cx, n, c),
            },
        }
    }
    for (i, p) in parts.iter().enumerate().skip(pos) {
        let have = if i == pos { count } else { 0 };
        if have < p.min {
            missing(cx, n, p.name, None);
        }
    }
}

fn check_choice<'a, 'i>(
    cx: &mut Ctx<'_, 'a, 'i>,
    n: Node<'a, 'i>,
    parts: &'static [Particle],
    stack: &mut Vec<(Node<'a, 'i>, u16)>,
) {
    let ix = cx.ix;
    let kids = ix.kids(n);
    let Some(&(first_name, first)) = kids.first() else {
        let el = display_node(n);
        let options = parts.iter().map(|p| display(p.name)).collect::<Vec<_>>().join(" / ");
        cx.fire(
            XSD_REQUIRED,
            n,
            format!("{el} doit contenir un élément parmi {options} : ajoutez-le."),
            format!("{el} must contain one of {options}: add it."),
        );
        return;
    };
    let name = cx.schema_name(first_name);
    let Some(c) = ix.node(first) else { return };
    match parts.iter().find(|p| p.name == name) {
        Some(p) => stack.push((c, p.ty)),
        None => {
            unknown(cx, n, c);
            return;
        }
    }
    if let Some(&(_, second)) = kids.get(1)
        && let Some(c2) = ix.node(second)
    {
        let el = display_node(n);
        cx.fire(
            XSD_CARDINALITY,
            c2,
            format!("{el} ne contient qu'un seul élément : retirez {}.", display_node(c2)),
            format!("{el} holds a single element: remove {}.", display_node(c2)),
        );
    }
}

fn too_many(cx: &mut Ctx<'_, '_, '_>, parent: Node<'_, '_>, c: Node<'_, '_>, max: u16) {
    let (el, p) = (display_node(c), display_node(parent));
    if max == 1 {
        cx.fire(
            XSD_CARDINALITY,
            c,
            format!("{el} ne peut figurer qu'une fois dans {p} : supprimez les doublons."),
            format!("{el} may occur only once in {p}: remove the duplicates."),
        );
    } else {
        cx.fire(
            XSD_CARDINALITY,
            c,
            format!("{el} peut figurer au plus {max} fois dans {p} : supprimez les éléments en trop."),
            format!("{el} may occur at most {max} times in {p}: remove the extra ones."),
        );
    }
}

fn missing(cx: &mut Ctx<'_, '_, '_>, parent: Node<'_, '_>, name: u16, before: Option<Node<'_, '_>>) {
    let (el, p) = (display(name), display_node(parent));
    let (wfr, wen) = match before {
        Some(b) => {
            let b = display_node(b);
            (format!(", avant {b}"), format!(", before {b}"))
        }
        None => (String::new(), String::new()),
    };
    cx.fire(
        XSD_REQUIRED,
        parent,
        format!("Il manque l'élément obligatoire {el} dans {p} : ajoutez-le{wfr}."),
        format!("The required element {el} is missing in {p}: add it{wen}."),
    );
}

fn unknown(cx: &mut Ctx<'_, '_, '_>, parent: Node<'_, '_>, c: Node<'_, '_>) {
    let (el, p) = (display_node(c), display_node(parent));
    cx.fire(
        XSD_UNKNOWN,
        c,
        format!(
            "{el} n'est pas prévu dans {p} par le schéma {} : supprimez-le, ou vérifiez son nom, son espace de noms et son parent.",
            cx.schema
        ),
        format!(
            "{el} is not allowed in {p} by the {} schema: remove it, or check its name, namespace and parent.",
            cx.schema
        ),
    );
}

/// Why a value is not of its type.
#[derive(Debug, PartialEq, Eq)]
enum Bad {
    Lexical,
    TooShort(u32),
    TooLong(u32),
}

fn type_finding(cx: &mut Ctx<'_, '_, '_>, n: Node<'_, '_>, what: &str, raw: &str, base: Builtin, kind: Bad) {
    let v = clip(raw);
    let (fr, en) = match kind {
        Bad::Lexical => {
            let (tfr, ten) = expected(base);
            (
                format!("La valeur '{v}' de {what} n'est pas {tfr} : corrigez-la."),
                format!("The value '{v}' of {what} is not {ten}: correct it."),
            )
        }
        Bad::TooShort(m) => (
            format!("La valeur '{v}' de {what} est trop courte : au moins {m} caractère(s)."),
            format!("The value '{v}' of {what} is too short: at least {m} character(s)."),
        ),
        Bad::TooLong(m) => (
            format!("La valeur '{v}' de {what} est trop longue : au plus {m} caractère(s)."),
            format!("The value '{v}' of {what} is too long: at most {m} character(s)."),
        ),
    };
    cx.fire(XSD_TYPE, n, fr, en);
}

fn expected(base: Builtin) -> (&'static str, &'static str) {
    match base {
        Builtin::Decimal => (
            "un nombre décimal (chiffres, point décimal, par exemple 1234.56)",
            "a decimal number (digits, a decimal point, for example 1234.56)",
        ),
        Builtin::Date => (
            "une date AAAA-MM-JJ (par exemple 2026-07-15)",
            "a date YYYY-MM-DD (for example 2026-07-15)",
        ),
        Builtin::DateTime => (
            "une date et heure AAAA-MM-JJThh:mm:ss (par exemple 2026-07-15T10:00:00)",
            "a date and time YYYY-MM-DDThh:mm:ss (for example 2026-07-15T10:00:00)",
        ),
        Builtin::Time => (
            "une heure hh:mm:ss (par exemple 10:30:00)",
            "a time hh:mm:ss (for example 10:30:00)",
        ),
        Builtin::Boolean => ("true ou false", "true or false"),
        Builtin::Base64Binary => ("du base64 valide", "valid base64"),
        Builtin::Language => (
            "un code de langue (par exemple fr ou fr-FR)",
            "a language code (for example fr or fr-FR)",
        ),
        Builtin::String | Builtin::NormalizedString | Builtin::Token | Builtin::AnyUri => {
            ("une valeur admise", "an allowed value")
        }
    }
}

fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn trim_xml(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}

/// The value as the type's whitespace facet makes it (for lengths and fixed values).
fn normalize(base: Builtin, s: &str) -> Cow<'_, str> {
    match base {
        Builtin::String => Cow::Borrowed(s),
        Builtin::NormalizedString => {
            if s.bytes().any(|b| matches!(b, b'\t' | b'\n' | b'\r')) {
                Cow::Owned(s.replace(['\t', '\n', '\r'], " "))
            } else {
                Cow::Borrowed(s)
            }
        }
        _ => {
            let t = trim_xml(s);
            if t.as_bytes()
                .windows(2)
                .any(|w| is_xml_space(w[0]) && is_xml_space(w[1]))
                || t.bytes().any(|b| matches!(b, b'\t' | b'\n' | b'\r'))
            {
                Cow::Owned(
                    t.split([' ', '\t', '\n', '\r'])
                        .filter(|p| !p.is_empty())
                        .collect::<Vec<_>>()
                        .join(" "),
                )
            } else {
                Cow::Borrowed(t)
            }
        }
    }
}

fn check_value(s: Simple, raw: &str) -> Result<(), Bad> {
    let ok = match s.base {
        Builtin::String | Builtin::NormalizedString | Builtin::Token | Builtin::AnyUri => true,
        Builtin::Decimal => is_decimal(trim_xml(raw)),
        // libxml2 (lxml), the reference of the official process, refuses whitespace around dates and
        // times in simple content (although the type collapses it); we follow it.
        Builtin::Date => is_date(raw),
        Builtin::DateTime => is_date_time(raw),
        Builtin::Time => is_time(raw),
        Builtin::Boolean => matches!(trim_xml(raw), "true" | "false" | "1" | "0"),
        Builtin::Base64Binary => is_base64(raw),
        Builtin::Language => is_language(trim_xml(raw)),
    };
    if !ok {
        return Err(Bad::Lexical);
    }
    if s.min_len.is_some() || s.max_len.is_some() {
        let len = u32::try_from(normalize(s.base, raw).chars().count()).unwrap_or(u32::MAX);
        if let Some(m) = s.min_len
            && len < m
        {
            return Err(Bad::TooShort(m));
        }
        if let Some(m) = s.max_len
            && len > m
        {
            return Err(Bad::TooLong(m));
        }
    }
    Ok(())
}

/// `xs:decimal`: an optional sign, digits with at most one decimal point, at least one digit.
fn is_decimal(s: &str) -> bool {
    let b = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    let mut digits = 0usize;
    let mut point = false;
    for &c in b {
        match c {
            b'0'..=b'9' => digits += 1,
            b'.' if !point => point = true,
            _ => return false,
        }
    }
    digits > 0
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    b.iter()
        .try_fold(0u32, |acc, d| acc.checked_mul(10)?.checked_add(u32::from(d - b'0')))
}

/// `-?YYYY-MM-DD` (a year of four digits or more, no leading zero beyond four, not 0000); returns the rest.
fn date_part(s: &[u8]) -> Option<&[u8]> {
    let s = s.strip_prefix(b"-").unwrap_or(s);
    let dash = s.iter().position(|&c| c == b'-')?;
    let (y, rest) = s.split_at(dash);
    if y.len() < 4 || (y.len() > 4 && y.first() == Some(&b'0')) {
        return None;
    }
    let year = if y.len() > 9 { 1 } else { digits(y)? };
    if y.len() > 9 && !y.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if year == 0 && y.len() <= 9 {
        return None;
    }
    let rest = rest.get(1..)?;
    if rest.len() < 5 || rest.get(2) != Some(&b'-') {
        return None;
    }
    let month = digits(rest.get(..2)?)?;
    let day = digits(rest.get(3..5)?)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month, y.len() > 9) {
        return None;
    }
    rest.get(5..)
}

fn days_in_month(year: u32, month: u32, huge: bool) -> u32 {
    match month {
        2 => {
            let leap = !huge && (year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)));
            if leap || huge { 29 } else { 28 }
        }
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// An optional time zone: `Z` or `±hh:mm` within ±14:00.
fn zone(s: &[u8]) -> bool {
    match s {
        [] | [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            let (Some(h), Some(m)) = (digits(&[*h1, *h2]), digits(&[*m1, *m2])) else {
                return false;
            };
            m < 60 && h * 60 + m <= 14 * 60
        }
        _ => false,
    }
}

fn is_date(s: &str) -> bool {
    date_part(s.as_bytes()).is_some_and(zone)
}

/// `hh:mm:ss(.s+)?` then the rest.
fn time_part(s: &[u8]) -> Option<(&[u8], bool)> {
    if s.len() < 8 || s.get(2) != Some(&b':') || s.get(5) != Some(&b':') {
        return None;
    }
    let h = digits(s.get(..2)?)?;
    let m = digits(s.get(3..5)?)?;
    let sec = digits(s.get(6..8)?)?;
    let mut rest = s.get(8..)?;
    let mut fraction_nonzero = false;
    if let Some(r) = rest.strip_prefix(b".") {
        let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        fraction_nonzero = r.iter().take(n).any(|&c| c != b'0');
        rest = r.get(n..)?;
    }
    let midnight_24 = h == 24 && m == 0 && sec == 0 && !fraction_nonzero;
    if (h > 23 && !midnight_24) || m > 59 || sec > 59 {
        return None;
    }
    Some((rest, midnight_24))
}

fn is_time(s: &str) -> bool {
    time_part(s.as_bytes()).is_some_and(|(rest, _)| zone(rest))
}

fn is_date_time(s: &str) -> bool {
    let Some(rest) = date_part(s.as_bytes()) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(b"T") else {
        return false;
    };
    time_part(rest).is_some_and(|(rest, _)| zone(rest))
}

/// The starting instant of an `xs:date`, in minutes from 1970-01-01T00:00Z, the way XPath compares
/// dates: a date without a time zone takes the implicit one, UTC (as the official validation runs).
/// `None` when `s` (trimmed) is not an `xs:date`.
pub(crate) fn date_instant(s: &str) -> Option<i64> {
    let s = trim_xml(s);
    if !is_date(s) {
        return None;
    }
    let b = s.as_bytes();
    let neg = b.first() == Some(&b'-');
    let body = if neg { b.get(1..)? } else { b };
    let dash = body.iter().position(|&c| c == b'-')?;
    // Years of more than 9 digits are valid xs:date years but would overflow the minutes: not compared.
    if dash > 9 {
        return None;
    }
    let year: i64 = std::str::from_utf8(body.get(..dash)?).ok()?.parse().ok()?;
    let year = if neg { -year } else { year };
    let month = i64::from(digits(body.get(dash + 1..dash + 3)?)?);
    let day = i64::from(digits(body.get(dash + 4..dash + 6)?)?);
    let offset = match body.get(dash + 6..)? {
        [sign, h1, h2, b':', m1, m2] => {
            let minutes = i64::from(digits(&[*h1, *h2])?) * 60 + i64::from(digits(&[*m1, *m2])?);
            if *sign == b'-' { -minutes } else { minutes }
        }
        _ => 0,
    };
    // Days from civil (proleptic Gregorian), H. Hinnant's algorithm.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 1440 - offset)
}

/// `xs:base64Binary`: base64 characters in groups of four, whitespace allowed, `=` padding at the end.
fn is_base64(s: &str) -> bool {
    let mut n = 0usize;
    let mut pad = 0usize;
    for c in s.bytes() {
        match c {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' if pad == 0 => n += 1,
            b'=' => pad += 1,
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => return false,
        }
    }
    pad <= 2 && (n + pad).is_multiple_of(4)
}

/// `xs:language`: `[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*`.
fn is_language(s: &str) -> bool {
    let mut parts = s.split('-');
    let first = parts.next().unwrap_or("");
    let ok = |p: &str, alpha_only: bool| {
        (1..=8).contains(&p.len())
            && p.bytes()
                .all(|c| c.is_ascii_alphabetic() || (!alpha_only && c.is_ascii_digit()))
    };
    ok(first, true) && parts.all(|p| ok(p, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_follow_the_xsd_lexical_space() {
        for ok in ["1", "-1.5", "+.5", "5.", "0012.3400"] {
            assert!(is_decimal(ok), "{ok}");
        }
        for bad in ["", ".", "+", "1e3", "1,5", "1.2.3", "NaN", "1 000"] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }

    #[test]
    fn dates_need_a_real_calendar_day_and_accept_a_time_zone() {
        for ok in [
            "2026-07-15",
            "2024-02-29",
            "2007-12-12+01:00",
            "2026-01-01Z",
            "-0001-01-01",
            "2026-01-01-14:00",
        ] {
            assert!(is_date(ok), "{ok}");
        }
        for bad in [
            "2025-07-13T10:00:00",
            "15.07.2026",
            "2026-02-29",
            "2026-13-01",
            "2026-04-31",
            "0000-01-01",
            "26-01-01",
            "2026-1-01",
            "2026-01-01+15:00",
            "",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
    }

    #[test]
    fn date_instants_compare_across_time_zones() {
        assert_eq!(date_instant("1970-01-01"), Some(0));
        assert_eq!(date_instant("1970-01-02+01:00"), Some(1440 - 60));
        assert_eq!(date_instant(" 2000-03-01 "), Some(11_017 * 1440));
        assert!(date_instant("2013-06-30+01:00") < date_instant("2013-06-30"));
        assert!(date_instant("2013-06-30-01:00") > date_instant("2013-06-30"));
        assert_eq!(date_instant("30.06.2013"), None);
        assert_eq!(date_instant("999999999999999-01-01"), None);
        assert!(date_instant("-999999999-12-31+14:00").is_some());
    }

    #[test]
    fn indicators_and_times() {
        assert!(check_value(simple(Builtin::Boolean), " true ").is_ok());
        assert!(check_value(simple(Builtin::Boolean), "yes").is_err());
        assert!(is_time("10:00:00") && is_time("10:00:00.5Z") && !is_time("10:00") && !is_time("25:00:00"));
        assert!(is_date_time("2026-07-15T10:00:00") && !is_date_time("2026-07-15"));
    }

    #[test]
    fn lengths_count_characters_after_whitespace_collapse() {
        let s = Simple {
            base: Builtin::Token,
            min_len: Some(1),
            max_len: Some(3),
        };
        assert_eq!(check_value(s, " ab "), Ok(()));
        assert_eq!(check_value(s, ""), Err(Bad::TooShort(1)));
        assert_eq!(check_value(s, "abcd"), Err(Bad::TooLong(3)));
    }

    fn simple(base: Builtin) -> Simple {
        Simple {
            base,
            min_len: None,
            max_len: None,
        }
    }
}
