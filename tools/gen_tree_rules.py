#!/usr/bin/env python3
"""Generates crates/einvoice/src/validate/tree_gen.rs: the EN 16931 rules evaluated over the XML tree
(syntax-binding UBL-CR/SR/DT and CII-SR/DT, code lists BR-CL-*), compiled from
shared/data/en16931-rules.jsonl (never copied into the repo).

Each rule context (an XSLT match pattern) becomes a list of alternatives of name steps with a few known
predicates; each test becomes a small boolean tree over compiled relative paths (exists / count / string
equality / code-list membership). Tests whose shape is not recognised become `T::Custom("ID")` and are
hand-written in `validate/tree_custom.rs`; the script prints how many.

The semantic rules of the model patterns (core BR-nn, BR-CO, BR-DEC, VAT families) are not compiled: they
run in Rust over the lenient draft, once for both syntaxes (`validate/core.rs`, `totals.rs`, `vat.rs`). Of
the model patterns only UBL BR-CL-08 (a code list on `cbc:Note`) is kept, with the contexts of earlier
rules that could claim its nodes first (see KEEP below).

    python3 tools/gen_tree_rules.py [--data ../shared/data]
"""
import argparse, json, os, re, sys

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--data", default=os.environ.get("FACTEUR_SHARED_DATA", os.path.join(here, "..", "..", "shared", "data")))
ap.add_argument("--out", default=os.path.join(here, "..", "crates", "einvoice", "src", "validate", "tree_gen.rs"))
a = ap.parse_args()
rules = [json.loads(l) for l in open(os.path.join(a.data, "en16931-rules.jsonl")) if l.strip()]
lists = json.load(open(os.path.join(a.data, "en16931-codelists.json")))

NS = {
    "cbc": "NS_CBC", "cac": "NS_CAC", "ext": "NS_EXT", "ubl": "NS_UBL_INV", "cn": "NS_UBL_CN",
    "rsm": "NS_RSM", "ram": "NS_RAM", "udt": "NS_UDT", "qdt": "NS_QDT",
}
PATTERNS = {  # pattern -> index in the Rust PATTERNS table
    ("ubl", "UBL-syntax"): 0, ("ubl", "Codesmodel"): 1, ("ubl", "UBL-model#note"): 2,
    ("cii", "EN16931-CII-Syntax"): 3, ("cii", "EN16931-Codes"): 4,
    ("ubl", "UBL-model"): 5, ("cii", "EN16931-CII-Model"): 6,
}
# In the model patterns only the code list BR-CL-08 (UBL, on cbc:Note) is evaluated here: every other
# assertion (core BR-nn, VAT families, BR-CO, BR-DEC) runs over the draft (validate/core.rs, vat.rs,
# totals.rs). A model rule before a kept one whose context can match the same element (same element
# name, or `*`) stays in the table without assertions, so that a node it claims first is not given to
# the kept rule (first-match semantics of a pattern); the other model rules are dropped.
KEEP = re.compile(r"^BR-CL-08$")
MODEL = {5, 6}


class Fail(Exception):
    pass


def q(name):
    if name == "*":
        return "Q::ANY"
    if ":" not in name:
        raise Fail(name)
    p, l = name.split(":", 1)
    if p not in NS:
        raise Fail(name)
    return f"Q({NS[p]}, {json.dumps(l)})"


def lit(s):
    return json.dumps(s)

# ---------------------------------------------------------------- contexts
PRED = {
    "[@schemeID]": 'Pr::HasAttr("schemeID")', "[@listID]": 'Pr::HasAttr("listID")',
    "[@unitCode]": 'Pr::HasAttr("unitCode")', "[@mimeCode]": 'Pr::HasAttr("mimeCode")',
    "[@currencyID]": 'Pr::HasAttr("currencyID")', "[@format = '102']": 'Pr::AttrEq("format", "102")',
    "[cbc:ChargeIndicator = false()]": 'Pr::ChildBool(&[Q(NS_CBC, "ChargeIndicator")], false)',
    "[cbc:ChargeIndicator = true()]": 'Pr::ChildBool(&[Q(NS_CBC, "ChargeIndicator")], true)',
    "[ram:ChargeIndicator/udt:Indicator = false()]": 'Pr::ChildBool(&[Q(NS_RAM, "ChargeIndicator"), Q(NS_UDT, "Indicator")], false)',
    "[ram:ChargeIndicator/udt:Indicator = true()]": 'Pr::ChildBool(&[Q(NS_RAM, "ChargeIndicator"), Q(NS_UDT, "Indicator")], true)',
    "[cbc:DocumentTypeCode = '130']": 'Pr::ChildEq(&[Q(NS_CBC, "DocumentTypeCode")], "130")',
    "[ends-with(name(), 'BinaryObject')]": 'Pr::NameEnds("BinaryObject")',
    "[ends-with(name(), 'DocumentContextParameter')]": 'Pr::NameEnds("DocumentContextParameter")',
    "[ends-with(name(), 'ID')]": 'Pr::NameEnds("ID")',
    "[ends-with(name(), 'ReferencedDocument')]": 'Pr::NameEnds("ReferencedDocument")',
    "[ends-with(name(), 'Quantity')]": 'Pr::NameEnds("Quantity")',
    "[ends-with(name(), 'TradeTax')]": 'Pr::NameEnds("TradeTax")',
    "[ends-with(name(), 'Amount') and not (self::ram:TaxTotalAmount)]":
        'Pr::NameEnds("Amount"), Pr::NotSelf(Q(NS_RAM, "TaxTotalAmount"))',
    "[ends-with(name(), 'Amount') and not(ends-with(name(),'PriceAmount')) and not(ancestor::cac:Price/cac:AllowanceCharge)]":
        'Pr::NameEnds("Amount"), Pr::NameNotEnds("PriceAmount"), Pr::NoAncestorWithChild(Q(NS_CAC, "Price"), Q(NS_CAC, "AllowanceCharge"))',
    "[not(ancestor::ram:SpecifiedTradeProduct) and not(ancestor::ram:ShipToTradeParty)]":
        'Pr::NoAncestor(Q(NS_RAM, "SpecifiedTradeProduct")), Pr::NoAncestor(Q(NS_RAM, "ShipToTradeParty"))',
    "[not(ancestor::ram:SpecifiedTaxRegistration)]": 'Pr::NoAncestor(Q(NS_RAM, "SpecifiedTaxRegistration"))',
}


def split_top(s, sep):
    out, depth, cur, i = [], 0, "", 0
    while i < len(s):
        c = s[i]
        if c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
        if depth == 0 and s.startswith(sep, i):
            out.append(cur)
            cur = ""
            i += len(sep)
            continue
        cur += c
        i += 1
    out.append(cur)
    return out


def context(ctx):
    alts = []
    for alt in split_top(ctx, "|"):
        alt = alt.strip()
        absolute = alt.startswith("/") and not alt.startswith("//")
        alt = alt.lstrip("/")
        steps = []
        for st in split_top(alt, "/"):
            m = re.match(r"^([a-z]+:[A-Za-z0-9*]+|\*)((?:\[.*\])*)$", st.strip())
            if not m:
                raise Fail(st)
            preds = []
            for p in re.findall(r"\[(?:[^\[\]]|\[[^\]]*\])*\]", m.group(2)):
                if p in PRED:
                    preds.append(PRED[p])
                else:
                    pp = P(p[1:-1])
                    e = pp.expr()
                    pp.ws()
                    if pp.i != len(pp.s):
                        raise Fail(p)
                    preds.append(f"Pr::Test(&{e})")
            steps.append(f"CStep {{ q: {q(m.group(1))}, preds: &[{', '.join(preds)}] }}")
        alts.append(f"Alt {{ absolute: {str(absolute).lower()}, steps: &[{', '.join(steps)}] }}")
    return "&[" + ", ".join(alts) + "]"

# ---------------------------------------------------------------- tests: a small recursive-descent parser
class P:
    def __init__(self, s):
        self.s, self.i, self.fx = s, 0, None

    def ws(self):
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def peek(self, tok):
        self.ws()
        return self.s.startswith(tok, self.i)

    def eat(self, tok):
        if self.peek(tok):
            self.i += len(tok)
            return True
        return False

    def expect(self, tok):
        if not self.eat(tok):
            raise Fail(f"expected {tok!r} at {self.s[self.i:self.i + 30]!r}")

    def kw(self, word):  # keyword followed by '('
        self.ws()
        m = re.match(word + r"\s*\(", self.s[self.i:])
        if m:
            self.i += m.end()
            return True
        return False

    def expr(self):
        items = [self.and_()]
        while re.match(r"\s*or\b", self.s[self.i:]):
            self.ws(); self.i += 2
            items.append(self.and_())
        return items[0] if len(items) == 1 else f"T::Or(&[{', '.join(items)}])"

    def and_(self):
        items = [self.unary()]
        while re.match(r"\s*and\b", self.s[self.i:]):
            self.ws(); self.i += 3
            items.append(self.unary())
        return items[0] if len(items) == 1 else f"T::And(&[{', '.join(items)}])"

    def unary(self):
        if self.kw("not"):
            e = self.expr(); self.expect(")")
            return f"T::Not(&{e})"
        if self.kw("exists"):
            s = self.sel(); self.expect(")")
            return f"T::Exists({s})"
        if self.kw("count"):
            s = self.sel(); self.expect(")")
            self.ws()
            m = re.match(r"(<=|=|>=|<|>)\s*(\d+)", self.s[self.i:])
            if not m:
                raise Fail("count cmp")
            self.i += m.end()
            cmp = {"<=": "Le", "=": "Eq", ">=": "Ge", "<": "Lt", ">": "Gt"}[m.group(1)]
            return f"T::Count({s}, Cmp::{cmp}, {m.group(2)})"
        for fx, fname in (("NormUpper", r"normalize-space\(\s*upper-case"), ("Norm", "normalize-space"), ("Upper", "upper-case")):
            save = self.i
            if self.kw(fname):
                if fx == "NormUpper":
                    self.expect("(")
                try:
                    sel = self.sel()
                    self.expect(")")
                    if fx == "NormUpper":
                        self.expect(")")
                    self.ws()
                    m = re.match(r"(!=|=)\s*'([^']*)'", self.s[self.i:])
                    if not m:
                        raise Fail("fn cmp")
                    self.i += m.end()
                    return f"T::Str({sel}, Fx::{fx}, {str(m.group(1) == '=').lower()}, {lit(m.group(2))}, true)"
                except Fail:
                    self.i = save
                    raise
        self.ws()
        m = re.match(r"(self|ancestor)::([a-z]+:[A-Za-z0-9]+)", self.s[self.i:])
        if m:
            self.i += m.end()
            return f"T::{'SelfIs' if m.group(1) == 'self' else 'Ancestor'}({q(m.group(2))})"
        if self.peek("("):
            save = self.i
            try:
                return self.cmp_or_exists()
            except Fail:
                self.i = save
            self.expect("(")
            e = self.expr(); self.expect(")")
            return e
        return self.cmp_or_exists()

    def cmp_or_exists(self):
        self.fx = None
        s = self.sel()
        fx, self.fx = self.fx, None
        self.ws()
        if fx:
            m = re.match(r"(!=|=)\s*'([^']*)'", self.s[self.i:])
            if not m:
                raise Fail("fn step without comparison")
            self.i += m.end()
            return f"T::Str({s}, Fx::{fx}, {str(m.group(1) == '=').lower()}, {lit(m.group(2))}, false)"
        m = re.match(r"(!=|=)\s*'([^']*)'", self.s[self.i:])
        if m:
            self.i += m.end()
            return f"T::{'Ne' if m.group(1) == '!=' else 'Eq'}({s}, {lit(m.group(2))})"
        m = re.match(r"\s*=\s*(true|false)\(\)", self.s[self.i:])
        if m:
            self.i += m.end()
            return f"T::Bool({s}, {m.group(1)})"
        m = re.match(r"\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)(?![\w.])", self.s[self.i:])
        if m:
            self.i += m.end()
            op = {">=": "Ge", "<=": "Le", ">": "Gt", "<": "Lt"}[m.group(1)]
            return f"T::Num({s}, Cmp::{op}, {float(m.group(2))!r})"
        if re.match(r"\s*(!=|=|<|>)", self.s[self.i:]):
            raise Fail("unsupported comparison")
        return f"T::Exists({s})"

    def sel(self):
        self.ws()
        if self.peek("("):  # (A|B)/C
            self.expect("(")
            heads = [self.path()]
            while self.eat("|"):
                heads.append(self.path())
            self.expect(")")
            if not self.eat("/"):
                raise Fail("paren sel")
            tail = self.steps()
            return "&[" + ", ".join(f"Path {{ start: {h[0]}, steps: &[{', '.join(h[1] + tail)}] }}" for h in heads) + "]"
        paths = [self.path()]
        while self.eat("|"):
            paths.append(self.path())
        return "&[" + ", ".join(f"Path {{ start: {h[0]}, steps: &[{', '.join(h[1])}] }}" for h in paths) + "]"

    def path(self):
        self.ws()
        if self.s.startswith("//", self.i):
            self.i += 2; start = "Start::Desc"
        elif self.s.startswith("/", self.i):
            self.i += 1; start = "Start::Root"
        else:
            start = "Start::Ctx"
        return start, self.steps()

    def steps(self):
        out = [self.step()]
        while self.s.startswith("/", self.i) and not self.s.startswith("//", self.i):
            self.i += 1
            out.append(self.step())
        return out

    def step(self):
        m = re.match(r"(normalize-space\(upper-case\(|normalize-space\(|upper-case\()([a-z]+:[A-Za-z0-9]+|@[A-Za-z]+)\)\)?", self.s[self.i:])
        if m:
            want = 2 if m.group(1).count("(") == 2 else 1
            if m.group(0).count(")") != want:
                raise Fail("fn step parens")
            self.i += m.end()
            self.fx = {2: "NormUpper", 1: "Norm" if m.group(1).startswith("n") else "Upper"}[want]
            t = m.group(2)
            return f"S::Attr({lit(t[1:])})" if t.startswith("@") else f"S::Child({q(t)})"
        m = re.match(r"(\.\.|\.(?![\w])|@[A-Za-z]+|[a-z]+:[A-Za-z0-9*]+)", self.s[self.i:])
        if not m:
            raise Fail(f"step at {self.s[self.i:self.i + 20]!r}")
        self.i += m.end()
        t = m.group(1)
        filters = []
        while self.s.startswith("[", self.i):
            self.i += 1
            e = self.expr()
            self.expect("]")
            filters.append(f"S::Filter(&{e})")
        if self.s.startswith("(", self.i):
            raise Fail("function in path")
        if filters:
            if t.startswith("@") or t in ("..", "."):
                raise Fail("filter on attr")
            return ", ".join([f"S::Child({q(t)})"] + filters)
        if t == "..":
            return "S::Parent"
        if t == ".":
            return "S::SelfNode"
        if t.startswith("@"):
            return f"S::Attr({lit(t[1:])})"
        return f"S::Child({q(t)})"


def list_for(syntax, rid):
    found = [(n, l) for n, l in lists.items() if syntax in l["syntax"] and rid in l["rules"]]
    return found


def const(name):
    return re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")


CODE_RE = re.compile(r"not\(contains\(normalize-space\((\.|@[A-Za-z]+)\),\s*' '\)\)\s*and\s*contains\(\s*'[^']*'\s*,\s*concat\(' ',\s*normalize-space\((upper-case\(\.\)|\.|@[A-Za-z]+)\),\s*' '\)\s*\)")


def subj(s):
    return "Subj::Text" if s in (".", "upper-case(.)") else f"Subj::Attr({lit(s[1:])})"


def test(r):
    syntax, rid, t = r["syntax"], r["id"], r["test"]
    if rid.startswith("BR-CL-"):
        found = list_for(syntax, rid)
        ms = CODE_RE.findall(t)
        if rid == "BR-CL-01" and syntax == "ubl":
            return ('T::Or(&[T::And(&[T::SelfIs(Q(NS_CBC, "InvoiceTypeCode")), T::InList(Subj::Text, codes::UNTDID_1001_INVOICE, false)]), '
                    'T::And(&[T::SelfIs(Q(NS_CBC, "CreditNoteTypeCode")), T::InList(Subj::Text, codes::UNTDID_1001_CREDIT_NOTE, false)])])')
        if rid == "BR-CL-10" and syntax == "ubl":
            return ('T::Or(&[T::InList(Subj::Attr("schemeID"), codes::ISO_6523_ICD, false), T::And(&[T::InList(Subj::Attr("schemeID"), codes::SEPA, false), '
                    'T::Or(&[T::Ancestor(Q(NS_CAC, "AccountingSupplierParty")), T::Ancestor(Q(NS_CAC, "PayeeParty"))])])])')
        if rid == "BR-CL-24":
            return f'T::InListExact(Subj::Attr("mimeCode"), codes::MIME)'
        if rid == "BR-CL-08" and syntax == "ubl":
            return 'T::Custom("BR-CL-08")'
        if len(found) != 1 or len(ms) != 1:
            raise Fail(f"code list {rid} {syntax}: {len(found)} lists, {len(ms)} shapes")
        name, l = found[0]
        up = "true" if ms[0][1].startswith("upper-case") else "false"
        return f"T::InList({subj(ms[0][0])}, codes::{const(name)}, {up})"
    p = P(t)
    e = p.expr()
    p.ws()
    if p.i != len(t):
        raise Fail(f"trailing {t[p.i:]!r}")
    return e


out = ["// @generated by tools/gen_tree_rules.py from en16931-rules.jsonl (validation-1.3.16). Do not edit.",
       "use crate::validate::codes_gen as codes;", "use crate::validate::tree::*;", "",
       "/// Rule groups (one per Schematron rule context), in pattern then rule order.",
       "pub(crate) static GROUPS: &[Group] = &["]
stats = {"groups": 0, "asserts": 0, "custom": [], "ctx_fail": []}
groups = {}
for r in rules:
    pat = r["pattern"]
    key = (r["syntax"], pat)
    if key not in PATTERNS:
        continue
    groups.setdefault((PATTERNS[key], r["rule"]), []).append(r)
def last_names(ctx):
    """Names of the matched element of each alternative of a context (`*` for any)."""
    out = set()
    for alt in split_top(ctx, "|"):
        last = split_top(alt.strip().lstrip("/"), "/")[-1].strip()
        out.add(re.sub(r"\[.*$", "", last))
    return out


def may_shadow(early, late):
    """Whether a node matched by context `late` can also be matched by context `early`."""
    a, b = last_names(early), last_names(late)
    return "*" in a or "*" in b or bool(a & b)


# Model rules kept: those with a kept assertion, and those without that can claim a node first from one.
with_asserts = {(pi, ri) for (pi, ri), rs in groups.items() if pi in MODEL and any(KEEP.match(r["id"]) for r in rs)}
kept_model = set(with_asserts)
for (pi, ri), rs in groups.items():
    if pi in MODEL and any(p == pi and ri < rj and may_shadow(rs[0]["context"], groups[(p, rj)][0]["context"])
                           for (p, rj) in with_asserts):
        kept_model.add((pi, ri))
for (pi, ri), rs in sorted(groups.items()):
    if pi in MODEL and (pi, ri) not in kept_model:
        continue
    try:
        ctx = context(rs[0]["context"])
    except Fail as e:
        stats["ctx_fail"].append((rs[0]["context"], str(e)))
        ctx = f'&[Alt {{ absolute: false, steps: &[] }}]'  # never matches: reported below
        for r in rs:
            stats["custom"].append(r["id"])
    asserts = []
    for r in rs:
        if pi in MODEL and not KEEP.match(r["id"]):
            continue
        try:
            tt = test(r)
        except Fail as e:
            tt = f'T::Custom({lit(r["id"])})'
            stats["custom"].append(r["id"])
        asserts.append(f"        A {{ id: {lit(r['id'])}, test: {tt} }},")
        stats["asserts"] += 1
    stats["groups"] += 1
    out.append(f"    Group {{ pattern: {pi}, rule: {ri}, ctx: {ctx}, asserts: &[")
    out.extend(asserts)
    out.append("    ] },")
out.append("];")
# Every distinct name test gets a number, so that a document can resolve each name once (see `Q` and
# `DocIndex` in validate/tree.rs) instead of hashing strings for every step it evaluates.
names = {}
def number(m):
    key = (m.group(1), m.group(2))
    names.setdefault(key, len(names))
    return f"Q({key[0]}, {key[1]}, {names[key]})"
text = re.sub(r'Q\((NS_[A-Z_]+), ("[^"*][^"]*")\)', number, "\n".join(out))
text = re.sub(r'Q\((NS_[A-Z_]+), "\*"\)', r'Q::new(\1, "*")', text)
text += "\n\n/// The name tests of the tables, by the number each `Q` carries.\n"
text += "pub(crate) static NAMES: &[(&str, &str)] = &[\n"
text += "".join(f"    ({ns}, {l}),\n" for (ns, l) in names)
text += "];\n"
open(a.out, "w").write(text)
print(f"{stats['groups']} groups, {stats['asserts']} assertions; hand-written (T::Custom): {len(stats['custom'])}: {' '.join(stats['custom'])}")
for c, e in stats["ctx_fail"]:
    print("context not compiled:", c, e, file=sys.stderr)
