#!/usr/bin/env python3
"""Generates crates/einvoice/src/validate/xsd_gen.rs: the content models of the UBL 2.1 Invoice / CreditNote
and CII D16B (uncoupled) schemas, as tables that `validate/xsd.rs` checks over the parsed tree.

Sources: the XSDs under shared/data/official-en16931/{ubl,cii}/schema (never copied into the repo).

    python3 tools/gen_xsd.py [--data ../shared/data/official-en16931]

The schemas use a small part of XSD and the generator refuses anything outside it, so that a new schema
version cannot be compiled into tables that silently mean something else:
- complex types are a flat `xsd:sequence` or `xsd:choice` of elements (no nested groups, distinct names),
  or simple content (extension or restriction of a built-in or simple type) with attributes;
- simple types restrict a built-in type with length facets only (no patterns, no enumerations: the
  "uncoupled" CII schemas leave the code lists to the Schematron, as does UBL);
- the only wildcard is UBL's `ext:ExtensionContent` (`xsd:any namespace="##other" processContents="lax"`).
"""
import argparse, os, sys
from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--data", default=os.environ.get(
    "FACTEUR_OFFICIAL_EN16931", os.path.join(here, "..", "..", "shared", "data", "official-en16931")))
ap.add_argument("--out", default=os.path.join(here, "..", "crates", "einvoice", "src", "validate", "xsd_gen.rs"))
a = ap.parse_args()

CII_DIR = "cii/schema/D16B SCRDM (Subset)/uncoupled clm/CII/uncefact/data/standard"
ROOTS = [
    ("ubl/schema/maindoc/UBL-Invoice-2.1.xsd", "Invoice"),
    ("ubl/schema/maindoc/UBL-CreditNote-2.1.xsd", "CreditNote"),
    (CII_DIR + "/CrossIndustryInvoice_100pD16B.xsd", "CrossIndustryInvoice"),
]
PREFIX = {
    "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2": "cbc",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2": "cac",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2": "ext",
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2": "",
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2": "",
    "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100": "rsm",
    "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100": "ram",
    "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100": "udt",
    "urn:un:unece:uncefact:data:standard:QualifiedDataType:100": "qdt",
}
# Built-in types the schemas use, and the Rust variant that checks them.
BUILTINS = {
    "string": "String", "normalizedString": "NormalizedString", "token": "Token", "decimal": "Decimal",
    "date": "Date", "dateTime": "DateTime", "time": "Time", "boolean": "Boolean",
    "base64Binary": "Base64Binary", "anyURI": "AnyUri", "language": "Language",
}


def fail(msg):
    sys.exit(f"gen_xsd: {msg}")


docs = {}          # path -> (tree, targetNamespace)
glob = {}          # (kind, ns, name) -> (element, schema path)


def load(path):
    path = os.path.normpath(path)
    if path in docs:
        return
    t = etree.parse(path)
    root = t.getroot()
    tns = root.get("targetNamespace")
    if root.get("elementFormDefault") != "qualified":
        fail(f"{path}: elementFormDefault is not qualified")
    docs[path] = (t, tns)
    for c in root:
        if not isinstance(c.tag, str):
            continue
        local = etree.QName(c).localname
        if local in ("element", "complexType", "simpleType", "attribute", "group", "attributeGroup"):
            glob[(local, tns, c.get("name"))] = (c, path)
        elif local in ("import", "include"):
            if c.get("schemaLocation"):
                load(os.path.join(os.path.dirname(path), c.get("schemaLocation")))
        elif local not in ("annotation",):
            fail(f"{path}: top-level xsd:{local}")


def qname(el, value):
    prefix, _, local = value.rpartition(":")
    ns = el.nsmap.get(prefix or None)
    return ns, local


def tns_of(el):
    return el.getroottree().getroot().get("targetNamespace")


names = {}         # (ns, local) -> id
types = []         # structural keys, index = type id
type_ids = {}      # structural key -> id
memo = {}          # id(xsd element) -> type id


def name_id(ns, local):
    k = (ns, local)
    if k not in names:
        names[k] = len(names)
    return names[k]


def intern(key):
    if key not in type_ids:
        type_ids[key] = len(types)
        types.append(key)
    return type_ids[key]


def kids(el, skip=("annotation",)):
    return [c for c in el if isinstance(c.tag, str) and etree.QName(c).localname not in skip]


def simple_of(ns, local):
    """A simple type by name -> (builtin, min_len, max_len)."""
    if ns == XS:
        if local not in BUILTINS:
            fail(f"unsupported built-in xsd:{local}")
        return (BUILTINS[local], None, None)
    g = glob.get(("simpleType", ns, local))
    if g is None:
        fail(f"simple type {{{ns}}}{local} not found")
    return simple_def(g[0])


def simple_def(st):
    (r,) = kids(st)
    if etree.QName(r).localname != "restriction":
        fail(f"simpleType with xsd:{etree.QName(r).localname}")
    base = simple_of(*qname(r, r.get("base")))
    return apply_facets(base, r)


def apply_facets(base, r):
    b, mn, mx = base
    for f in kids(r, skip=("annotation", "attribute", "anyAttribute")):
        k = etree.QName(f).localname
        v = int(f.get("value")) if k in ("minLength", "maxLength", "length") else None
        if k == "minLength":
            mn = v
        elif k == "maxLength":
            mx = v
        elif k == "length":
            mn = mx = v
        elif k == "simpleType":
            continue
        else:
            fail(f"unsupported facet xsd:{k}")
    return (b, mn, mx)


def attrs_of(container, inherited):
    """Attributes declared in `container` (extension: added; restriction: override) over `inherited`."""
    out = dict(inherited)
    for at in kids(container):
        k = etree.QName(at).localname
        if k != "attribute":
            if k in ("annotation",) or k in ("minLength", "maxLength", "length"):
                continue
            fail(f"unsupported xsd:{k} among attributes")
        if at.get("ref"):
            fail("attribute ref")
        name = at.get("name")
        if at.get("use") == "prohibited":
            out.pop(name, None)
            continue
        if at.get("type"):
            st = simple_of(*qname(at, at.get("type")))
        else:
            inline = [c for c in kids(at) if etree.QName(c).localname == "simpleType"]
            st = simple_def(inline[0]) if inline else out.get(name, (("String", None, None),))[0]
        if at.get("default") is not None and at.get("fixed") is not None:
            fail("attribute with default and fixed")
        out[name] = (st, at.get("use") == "required", at.get("fixed"))
    return out


def simple_content(sc):
    """-> (builtin, min, max, attrs dict) of an xsd:simpleContent."""
    (d,) = kids(sc)
    kind = etree.QName(d).localname
    bns, blocal = qname(d, d.get("base"))
    if bns == XS or ("simpleType", bns, blocal) in glob:
        if kind == "restriction":
            fail("restriction of a simple type inside simpleContent")
        b = simple_of(bns, blocal)
        return b + (attrs_of(d, {}),)
    g = glob.get(("complexType", bns, blocal))
    if g is None:
        fail(f"base {{{bns}}}{blocal} not found")
    base = complex_simple(g[0])
    if kind == "extension":
        return base[:3] + (attrs_of(d, base[3]),)
    if kind == "restriction":
        b = apply_facets(base[:3], d)
        return b + (attrs_of(d, base[3]),)
    fail(f"simpleContent xsd:{kind}")


def complex_simple(ct):
    (sc,) = kids(ct, skip=("annotation",))
    if etree.QName(sc).localname != "simpleContent":
        fail("complex type used as simple content base has no simpleContent")
    return simple_content(sc)


def attr_key(attrs):
    return tuple(sorted((n, st, req, fixed) for n, (st, req, fixed) in attrs.items()))


def complex_type(ct):
    """Type id of an xsd:complexType element (named or anonymous)."""
    key = id(ct)
    if key in memo:
        return memo[key]
    body = kids(ct)
    if ct.get("mixed") == "true":
        fail("mixed content")
    if len(body) != 1:
        fail(f"complex type {ct.get('name')} with {len(body)} parts")
    (b,) = body
    k = etree.QName(b).localname
    if k == "simpleContent":
        bi, mn, mx, attrs = simple_content(b)
        tid = intern(("simple", bi, mn, mx, attr_key(attrs)))
        memo[key] = tid
        return tid
    if k not in ("sequence", "choice"):
        fail(f"complex type content xsd:{k}")
    if b.get("minOccurs", "1") != "1" or b.get("maxOccurs", "1") != "1":
        fail("repeated model group")
    # Reserve the id first: content models are recursive (cac:Item -> ... ).
    placeholder = ("pending", key)
    tid = intern(placeholder)
    memo[key] = tid
    parts = []
    seen = set()
    for p in kids(b):
        pk = etree.QName(p).localname
        mn = int(p.get("minOccurs", "1"))
        mxs = p.get("maxOccurs", "1")
        mx = 0xFFFF if mxs == "unbounded" else int(mxs)
        if pk == "any":
            if (p.get("namespace"), p.get("processContents"), mn, mx) != ("##other", "lax", 1, 1):
                fail("unsupported wildcard")
            parts.append(("any", mn, mx))
            continue
        if pk != "element":
            fail(f"nested xsd:{pk}")
        if p.get("ref"):
            ns, local = qname(p, p.get("ref"))
            g = glob.get(("element", ns, local))
            if g is None:
                fail(f"element {{{ns}}}{local} not found")
            decl = g[0]
        else:
            ns, local, decl = tns_of(p), p.get("name"), p
        nid = name_id(ns, local)
        if nid in seen:
            fail(f"name {local} twice in one content model")
        seen.add(nid)
        parts.append((nid, element_type(decl), mn, mx))
    if any(x[0] == "any" for x in parts) and len(parts) != 1:
        fail("wildcard among elements")
    if parts and parts[0][0] == "any":
        final = ("anyother",)
    else:
        final = (k, tuple(parts))
    types[tid] = final
    type_ids[final] = tid
    return tid


def element_type(decl):
    for bad in ("substitutionGroup", "abstract", "nillable", "default", "fixed"):
        if decl.get(bad) is not None:
            fail(f"element with {bad}")
    if decl.get("type"):
        ns, local = qname(decl, decl.get("type"))
        if ns == XS or ("simpleType", ns, local) in glob:
            bi, mn, mx = simple_of(ns, local)
            return intern(("simple", bi, mn, mx, ()))
        g = glob.get(("complexType", ns, local))
        if g is None:
            fail(f"type {{{ns}}}{local} not found")
        return complex_type(g[0])
    inline = [c for c in kids(decl) if etree.QName(c).localname in ("complexType", "simpleType")]
    if len(inline) != 1:
        fail(f"element {decl.get('name')} without a type")
    if etree.QName(inline[0]).localname == "simpleType":
        bi, mn, mx = simple_def(inline[0])
        return intern(("simple", bi, mn, mx, ()))
    return complex_type(inline[0])


roots = []
for rel, root in ROOTS:
    path = os.path.normpath(os.path.join(a.data, rel))
    load(path)
    tns = docs[path][1]
    decl = glob[("element", tns, root)][0]
    roots.append((name_id(tns, root), element_type(decl)))

# Types are referenced before they are complete; after the walk none may be left pending.
for t in types:
    if t[0] == "pending":
        fail("unresolved type")

# ---- Rust output ----
def rs_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


ns_list = sorted({ns for ns, _ in names})
out = [
    "// @generated by tools/gen_xsd.py from the UBL 2.1 and CII D16B (uncoupled) XSDs. Do not edit.",
    "use super::xsd::{Attr, Builtin, Content, Particle, Simple, Type};",
    "",
    "/// The namespaces of the element names, with the prefix messages write them with.",
    "pub(super) static NAMESPACES: &[(&str, &str)] = &[",
]
for ns in ns_list:
    out.append(f"    ({rs_str(ns)}, {rs_str(PREFIX.get(ns, 'ns'))}),")
out += ["];", "", "/// Every element name of the content models: (namespace position, local name), by number.",
        "pub(super) static NAMES: &[(u8, &str)] = &["]
for (ns, local), i in sorted(names.items(), key=lambda kv: kv[1]):
    out.append(f"    ({ns_list.index(ns)}, {rs_str(local)}),")
out += ["];", "", "/// The root elements: (name, type).", "pub(super) static ROOTS: &[(u16, u16)] = &["]
for n, t in roots:
    out.append(f"    ({n}, {t}),")
out += ["];", "", "/// Every type, by number.", "pub(super) static TYPES: &[Type] = &["]


def simple_rs(bi, mn, mx):
    o = lambda v: "None" if v is None else f"Some({v})"
    return f"Simple {{ base: Builtin::{bi}, min_len: {o(mn)}, max_len: {o(mx)} }}"


for t in types:
    if t[0] == "simple":
        _, bi, mn, mx, attrs = t
        ats = ", ".join(
            f"Attr {{ name: {rs_str(n)}, ty: {simple_rs(*b)}, required: {'true' if req else 'false'}, "
            f"fixed: {'None' if fx is None else 'Some(' + rs_str(fx) + ')'} }}"
            for n, b, req, fx in attrs)
        out.append(f"    Type {{ content: Content::Simple({simple_rs(bi, mn, mx)}), attrs: &[{ats}] }},")
    elif t[0] == "anyother":
        out.append("    Type { content: Content::AnyOther, attrs: &[] },")
    else:
        k, parts = t
        ps = ", ".join(f"Particle {{ name: {n}, ty: {ty}, min: {mn}, max: {mx} }}" for n, ty, mn, mx in parts)
        variant = "Sequence" if k == "sequence" else "Choice"
        out.append(f"    Type {{ content: Content::{variant}(&[{ps}]), attrs: &[] }},")
out.append("];")
open(a.out, "w").write("\n".join(out) + "\n")
print(f"{len(names)} element names, {len(types)} types -> {a.out}")
