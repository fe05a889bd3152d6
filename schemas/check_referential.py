#!/usr/bin/env python3
"""Check the contract reference data under schemas/contracts/<contract-id>/.

For every contract directory:
  * each data file validates against its JSON Schema (draft 2020-12) in schemas/referential/;
  * every schema embeds the shared `source_lines` definition of referential/common.schema.json;
  * every `source_lines` range is a pair [from, to] with 1 <= from <= to <= number of lines of the seed;
  * identifiers are unique and every cross reference resolves (communes, quartiers, organisations,
    representatives, enjeux, ambitions, objectifs, dispositifs);
  * the counts stated by the contract hold (for cabbalr-2024-2030: 25 quartiers = 16 QPV + 9 QIC,
    36 100 + 7 710 = 43 810 inhabitants, 3 enjeux, 10 ambitions, 35 objectifs numbered 1-35, ...).

If the seed document is available (env ENGAGEMENTS_SEED, or ../shared/seed/<file> next to the
repository), cited lines must also be non-blank and every `name_variants` / `title_variants` text
and every contract `legal_basis` / `evaluation` text must literally appear on its cited lines.

Usage: python3 schemas/check_referential.py            (exit status 0 = OK, 1 = failures)
Requires: pip install jsonschema   (set REFERENTIAL_SKIP_SCHEMA=1 to skip schema validation)
"""
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENTIAL = HERE / "referential"
CONTRACTS = HERE / "contracts"
FILES = ["contract", "quartiers", "communes", "organisations", "strategy", "dispositifs", "tfpb_axes"]

# Line count of the seed document each contract is extracted from (used when the seed is absent).
SEED_FILES = {"cabbalr-2024-2030": ("000_ff42b5a4ed572933.txt", 5259)}

# Counts stated by the contract text (see DISCREPANCIES.md for the line numbers).
EXPECTED = {
    "cabbalr-2024-2030": {
        "qpv": 16, "qic": 9, "quartiers": 25,
        "qpv_population": 36100, "qic_population": 7710, "total_population": 43810,
        "enjeux": 3, "ambitions": 10, "objectifs": 35, "enjeux_transversaux": 3, "gat": 4,
        "tfpb_axes": 8, "communes": 21, "signing_communes": 20, "principal": 4,
        "institutional_partner": 8, "bailleur": 8,
        "epci_population": 278431, "epci_communes": 100,
    }
}

errors = []


def fail(msg):
    errors.append(msg)


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except Exception as e:  # noqa: BLE001
        fail(f"{path}: cannot load JSON: {e}")
        return None


def find_seed(contract_id):
    name, nlines = SEED_FILES.get(contract_id, (None, None))
    cands = []
    if os.environ.get("ENGAGEMENTS_SEED"):
        cands.append(Path(os.environ["ENGAGEMENTS_SEED"]))
    if name:
        cands += [HERE.parent.parent / "shared" / "seed" / name, HERE.parent / "seed" / name]
    for c in cands:
        if c.is_file():
            lines = c.read_text(encoding="utf-8").split("\n")
            if lines and lines[-1] == "":
                lines = lines[:-1]
            return lines, len(lines)
    return None, nlines


def walk_source_lines(obj, path="$"):
    """Yield (json_path, source_lines, owner_object) for every source_lines in obj."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "source_lines":
                yield f"{path}.{k}", v, obj
            else:
                yield from walk_source_lines(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from walk_source_lines(v, f"{path}[{i}]")


def check_schemas(data, where):
    if os.environ.get("REFERENTIAL_SKIP_SCHEMA") == "1":
        print("  (schema validation skipped: REFERENTIAL_SKIP_SCHEMA=1)")
        return
    try:
        import jsonschema
        from jsonschema import Draft202012Validator
    except ImportError:
        fail("jsonschema is not installed (pip install jsonschema); set REFERENTIAL_SKIP_SCHEMA=1 to skip")
        return
    common = load(REFERENTIAL / "common.schema.json")
    for name in FILES:
        schema = load(REFERENTIAL / f"{name}.schema.json")
        if schema is None:
            continue
        try:
            Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as e:
            fail(f"{name}.schema.json: invalid schema: {e.message}")
            continue
        if common and schema.get("$defs", {}).get("source_lines") != common["$defs"]["source_lines"]:
            fail(f"{name}.schema.json: $defs.source_lines differs from common.schema.json")
        if data.get(name) is None:
            continue
        v = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        for err in sorted(v.iter_errors(data[name]), key=lambda e: list(e.absolute_path)):
            loc = "/".join(str(p) for p in err.absolute_path)
            fail(f"{where}/{name}.json: schema: at '{loc}': {err.message}")


def check_lines(data, where, seed, nlines):
    for name, doc in data.items():
        if doc is None:
            continue
        for path, sl, owner in walk_source_lines(doc):
            if not isinstance(sl, list):
                continue
            for rng in sl:
                if not (isinstance(rng, list) and len(rng) == 2 and all(isinstance(x, int) for x in rng)):
                    fail(f"{where}/{name}.json {path}: bad range {rng!r}")
                    continue
                a, b = rng
                if not (1 <= a <= b <= nlines):
                    fail(f"{where}/{name}.json {path}: range {rng} outside 1..{nlines} or reversed")
                    continue
                if seed is not None:
                    for n in range(a, b + 1):
                        if not seed[n - 1].strip():
                            fail(f"{where}/{name}.json {path}: cited line {n} is blank")
            literal = ("where" in owner or "name_variants" in path or "title_variants" in path
                       or ".legal_basis[" in path or ".evaluation[" in path)
            if seed is not None and "text" in owner and literal:
                text = owner["text"]
                for a, b in (r for r in sl if isinstance(r, list) and len(r) == 2):
                    if 1 <= a <= b <= len(seed):
                        chunk = " ".join(seed[n - 1].strip() for n in range(a, b + 1))
                        if text not in chunk:
                            fail(f"{where}/{name}.json {path}: text {text!r} not found on lines {a}-{b}")


def uniq(items, label, where):
    ids = [x.get("id") for x in items]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        fail(f"{where}: duplicate {label} ids: {sorted(dup)}")
    return set(ids)


def check_refs(d, where, exp):
    c, q, cm, o, s, dp, tf = (d.get(k) or {} for k in FILES)
    quartiers = q.get("quartiers", [])
    communes = cm.get("communes", [])
    orgs = o.get("organisations", [])
    reps = o.get("representatives", [])
    dispos = dp.get("dispositifs", [])
    qids = uniq(quartiers, "quartier", where)
    cids = uniq(communes, "commune", where)
    oids = uniq(orgs, "organisation", where)
    uniq(reps, "representative", where)
    dids = uniq(dispos, "dispositif", where)
    org_kind = {x.get("id"): x.get("kind") for x in orgs}

    # quartiers <-> communes
    for x in quartiers:
        if x.get("kind") == "qpv" and x.get("id") != x.get("code"):
            fail(f"{where}: QPV {x.get('id')}: id must equal code")
        for cid in x.get("communes", []):
            if cid not in cids:
                fail(f"{where}: quartier {x.get('id')}: unknown commune {cid}")
    for x in communes:
        for qid in x.get("quartiers", []):
            if qid not in qids:
                fail(f"{where}: commune {x.get('id')}: unknown quartier {qid}")
            else:
                qq = next(y for y in quartiers if y.get("id") == qid)
                if x.get("id") not in qq.get("communes", []):
                    fail(f"{where}: commune {x.get('id')} lists {qid} but the quartier does not list the commune")
        for qq in quartiers:
            if x.get("id") in qq.get("communes", []) and qq.get("id") not in x.get("quartiers", []):
                fail(f"{where}: quartier {qq.get('id')} lists commune {x.get('id')} but the commune does not list it")
        org = x.get("organisation")
        if org is not None:
            if org not in oids:
                fail(f"{where}: commune {x.get('id')}: unknown organisation {org}")
            elif org_kind.get(org) != "commune":
                fail(f"{where}: commune {x.get('id')}: organisation {org} is not of kind 'commune'")
    # organisations
    for r in reps:
        for org in r.get("organisations", []):
            if org not in oids:
                fail(f"{where}: representative {r.get('id')}: unknown organisation {org}")
    for x in dispos:
        for org in x.get("financeurs", []):
            if org not in oids:
                fail(f"{where}: dispositif {x.get('id')}: unknown financeur {org}")
    # strategy
    enjeux, ambitions, objectifs = s.get("enjeux", []), s.get("ambitions", []), s.get("objectifs", [])
    eids = uniq(enjeux, "enjeu", where)
    aids = uniq(ambitions, "ambition", where)
    uniq(objectifs, "objectif", where)
    uniq(s.get("enjeux_transversaux", []), "enjeu transversal", where)
    uniq(s.get("groupes_appui_thematiques", []), "GAT", where)
    for a in ambitions:
        if a.get("enjeu") not in eids:
            fail(f"{where}: ambition {a.get('id')}: unknown enjeu {a.get('enjeu')}")
        if a.get("id") != f"A{a.get('number')}":
            fail(f"{where}: ambition {a.get('id')}: id does not match number {a.get('number')}")
    for e in enjeux:
        if e.get("id") != f"E{e.get('number')}":
            fail(f"{where}: enjeu {e.get('id')}: id does not match number {e.get('number')}")
    for ob in objectifs:
        if ob.get("ambition") not in aids:
            fail(f"{where}: objectif {ob.get('id')}: unknown ambition {ob.get('ambition')}")
        if ob.get("id") != f"O{ob.get('number')}":
            fail(f"{where}: objectif {ob.get('id')}: id does not match number {ob.get('number')}")
        for dd in ob.get("dispositifs", []):
            if dd.get("dispositif") is not None and dd.get("dispositif") not in dids:
                fail(f"{where}: objectif {ob.get('id')}: unknown dispositif {dd.get('dispositif')}")
        tv = ob.get("title_variants", [])
        if tv and ob.get("title") not in [v.get("text") for v in tv]:
            fail(f"{where}: objectif {ob.get('id')}: canonical title is not one of its title_variants")
    axes = tf.get("axes", [])
    uniq(axes, "TFPB axis", where)
    for ax in axes:
        if ax.get("id") != f"axe-{ax.get('number')}":
            fail(f"{where}: TFPB axis {ax.get('id')}: id does not match number {ax.get('number')}")

    # populations
    tot = q.get("totals", {})
    qpv = [x for x in quartiers if x.get("kind") == "qpv"]
    qic = [x for x in quartiers if x.get("kind") == "qic"]
    pq = sum(x.get("population") or 0 for x in qpv)
    pc = sum(x.get("population") or 0 for x in qic)
    if pq != tot.get("qpv_population"):
        fail(f"{where}: QPV populations sum to {pq}, totals.qpv_population = {tot.get('qpv_population')}")
    if pc != tot.get("qic_population"):
        fail(f"{where}: QIC populations sum to {pc}, totals.qic_population = {tot.get('qic_population')}")
    if (tot.get("qpv_population") or 0) + (tot.get("qic_population") or 0) != tot.get("total_population"):
        fail(f"{where}: totals: qpv + qic != total")
    if c and c.get("period", {}).get("start_year", 0) > c.get("period", {}).get("end_year", 0):
        fail(f"{where}: contract period start_year > end_year")

    if not exp:
        return
    def eq(label, got, want):
        if got != want:
            fail(f"{where}: expected {want} {label}, found {got}")
    eq("QPV", len(qpv), exp["qpv"])
    eq("QIC", len(qic), exp["qic"])
    eq("quartiers", len(quartiers), exp["quartiers"])
    eq("QPV inhabitants", tot.get("qpv_population"), exp["qpv_population"])
    eq("QIC inhabitants", tot.get("qic_population"), exp["qic_population"])
    eq("inhabitants in total", tot.get("total_population"), exp["total_population"])
    eq("enjeux", len(enjeux), exp["enjeux"])
    eq("ambitions", len(ambitions), exp["ambitions"])
    eq("objectifs", len(objectifs), exp["objectifs"])
    eq("objectif numbers", sorted(x.get("number") for x in objectifs), list(range(1, exp["objectifs"] + 1)))
    eq("ambition numbers", sorted(x.get("number") for x in ambitions), list(range(1, exp["ambitions"] + 1)))
    eq("enjeu numbers", sorted(x.get("number") for x in enjeux), list(range(1, exp["enjeux"] + 1)))
    eq("enjeux transversaux", len(s.get("enjeux_transversaux", [])), exp["enjeux_transversaux"])
    eq("groupes d'appui thématiques", len(s.get("groupes_appui_thematiques", [])), exp["gat"])
    eq("TFPB axes", len(axes), exp["tfpb_axes"])
    eq("TFPB axis numbers", sorted(x.get("number") for x in axes), list(range(1, exp["tfpb_axes"] + 1)))
    eq("communes", len(communes), exp["communes"])
    eq("signing communes", sum(1 for x in communes if x.get("organisation")), exp["signing_communes"])
    for grp in ("principal", "institutional_partner", "bailleur"):
        eq(f"'{grp}' signatories", sum(1 for x in orgs if x.get("signatory_group") == grp), exp[grp])
    eq("commune signatories", sum(1 for x in orgs if x.get("signatory_group") == "commune"), exp["signing_communes"])
    if c:
        eq("EPCI inhabitants", c.get("epci", {}).get("population"), exp["epci_population"])
        eq("EPCI communes", c.get("epci", {}).get("communes_count"), exp["epci_communes"])

# ---------------------------------------------------------------------------------------------
# Checks against the text of the seed: every fact below is looked up on the lines it cites.

import re as _re
import unicodedata as _ud

MONTHS = ["janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre",
          "octobre", "novembre", "decembre"]


def words(text):
    """Lower-case words without accents, markup or punctuation, joined by single spaces."""
    text = (text or "").replace("’", "'").replace("\u00a0", " ").replace("œ", "oe").replace("Œ", "OE")
    text = _ud.normalize("NFKD", text)
    text = "".join(ch for ch in text if not _ud.combining(ch)).lower()
    return " " + " ".join(_re.findall(r"[a-z0-9]+", text)) + " "


def cited(seed, ranges):
    return [seed[n - 1] for a, b in ranges for n in range(a, b + 1) if 1 <= n <= len(seed)]


def on_lines(seed, ranges, text):
    """Whether `text` (as words) is written on one of the cited lines, or across them."""
    needle = words(text)
    lines = cited(seed, ranges)
    return any(needle in words(line) for line in lines) or needle in words(" ".join(lines))


def check_seed_text(d, where, seed):
    c, q, cm, o, s, dp, tf = (d.get(k) or {} for k in FILES)
    # Quartiers: the name, and the population as the table writes it, on the same cited line.
    for x in q.get("quartiers", []):
        qid, lines = x.get("id"), x.get("source_lines", [])
        if not on_lines(seed, lines, x.get("name", "")):
            fail(f"{where}: quartier {qid}: name {x.get('name')!r} is written on none of its cited lines")
        code = x.get("code")
        key = words(code[:2] + " " + code[2:]) if code else words(x.get("name", ""))
        rows = [line for line in cited(seed, lines) if key in words(line) and "habitants" in line]
        if not rows:
            fail(f"{where}: quartier {qid}: no cited line of the table (code or name with « habitants »)")
            continue
        if not any(words(f"{x.get('population')} habitants") in words(r) for r in rows):
            fail(f"{where}: quartier {qid}: population {x.get('population')} differs from the table "
                 f"({rows[0].strip()!r})")
        change = x.get("population_change_since_2014")
        if change and not any(change.replace(" ", "") in r.replace(" ", "") for r in rows):
            fail(f"{where}: quartier {qid}: change {change!r} not on its table row")
    tot = q.get("totals", {})
    for key in ("qpv_population", "qic_population", "total_population"):
        if tot.get(key) is not None and not any(
                words(f"{tot[key]} habitants") in words(line) for line in cited(seed, tot.get("source_lines", []))):
            fail(f"{where}: totals.{key} {tot[key]} is not written on the totals' cited lines")
    # Communes, organisations, representatives: names on their cited lines (or a variant's).
    for label, items in (("commune", cm.get("communes", [])), ("organisation", o.get("organisations", [])),
                         ("representative", o.get("representatives", []))):
        for x in items:
            names = [x.get("name", "")] + [v.get("text", "") for v in x.get("name_variants", [])]
            if not on_lines(seed, x.get("source_lines", []), x.get("name", "")) and not (
                    label == "commune" and any(on_lines(seed, x.get("source_lines", []), n) for n in names[1:])):
                fail(f"{where}: {label} {x.get('id')}: name {x.get('name')!r} is written on none of its cited lines")
    # Strategy: titles on their cited lines; each objectif under the ambition the text puts it in.
    for label, items in (("enjeu", s.get("enjeux", [])), ("ambition", s.get("ambitions", [])),
                         ("enjeu transversal", s.get("enjeux_transversaux", []))):
        for x in items:
            if not title_on_lines(seed, x.get("source_lines", []), x.get("title", "")):
                fail(f"{where}: {label} {x.get('id')}: title {x.get('title')!r} is written whole on none of its cited lines")
    summary = ambitions_of_objectifs(seed)
    for ob in s.get("objectifs", []):
        if not title_on_lines(seed, ob.get("source_lines", []), ob.get("title", "")):
            fail(f"{where}: objectif {ob.get('id')}: title {ob.get('title')!r} is written whole on none of its cited lines")
        want = summary.get(ob.get("number"))
        if want is not None and ob.get("ambition") != f"A{want}":
            fail(f"{where}: objectif {ob.get('number')} is under {ob.get('ambition')}, "
                 f"the strategy's summary puts it under A{want}")
        sheet = words(" ".join(cited(seed, ob.get("source_lines", []))))
        for field in ("pistes_intercommunales", "pistes_communales", "actors"):
            for item in ob.get(field, []):
                if words(item).strip() and not written_in(item, sheet):
                    fail(f"{where}: objectif {ob.get('number')}: {field[:-1]} {item!r} is not written on its sheet")
        for item in sheet_items(seed, ob):
            if not any(words(item) in words(p) or words(p) in words(item)
                       for p in ob.get("pistes_intercommunales", []) + ob.get("pistes_communales", [])
                       + ob.get("actors", []) + [dd.get("text", "") for dd in ob.get("dispositifs", [])]
                       + [ob.get("note") or ""]):
                fail(f"{where}: objectif {ob.get('number')}: the sheet's item {item.strip()!r} is missing from the data")
    for t in s.get("enjeux_transversaux", []):
        for field in ("orientations",):
            for item in t.get(field, []):
                if not on_lines(seed, item.get("source_lines", []), item.get("text", "")):
                    fail(f"{where}: {t.get('id')}: orientation {item.get('text')!r} is not on its line")
        for k in t.get("constats", []):
            if not on_lines(seed, k.get("source_lines", []), k.get("quote", "")):
                fail(f"{where}: {t.get('id')}: constat quote {k.get('quote')!r} is not on its line")
            elif number_words(k.get("value")) not in words(_re.sub(r"(?<=\d)[ \u202f\u00a0](?=\d{3})", "", k.get("quote"))):
                fail(f"{where}: {t.get('id')}: constat {k.get('label')!r}: value {k.get('value')} is not in its quote")
    # Contract: approval date, period, governance bodies.
    if c:
        ap = c.get("approval", {})
        if ap.get("date") and not any(date_written(ap["date"], line) for line in cited(seed, ap.get("source_lines", []))):
            fail(f"{where}: approval date {ap['date']} is written on none of the approval's cited lines")
        if ap.get("executory_date") and not any(date_written(ap["executory_date"], line)
                                                for line in cited(seed, ap.get("source_lines", []))):
            fail(f"{where}: executory date {ap['executory_date']} is written on none of the approval's cited lines")
        pe = c.get("period", {})
        if not any(words(f"{pe.get('start_year')} {pe.get('end_year')}") in words(line)
                   for line in cited(seed, pe.get("source_lines", []))):
            fail(f"{where}: period {pe.get('start_year')}-{pe.get('end_year')} is written on none of its cited lines")
        for b in c.get("governance_bodies", []):
            if not on_lines(seed, b.get("source_lines", []), b.get("quote", "")):
                fail(f"{where}: governance body {b.get('id')}: its quote is not on its cited lines")
            if b.get("kind") != "referents" and words(b.get("name", "")) not in words(
                    " ".join(cited(seed, b.get("source_lines", [])))):
                fail(f"{where}: governance body {b.get('id')}: name {b.get('name')!r} is not on its cited lines")


LABEL_WORDS = {"ambition", "enjeu", "objectif", "n", "quartier", "et"}


def title_on_lines(seed, ranges, title):
    """Whether `title` is written whole on the cited lines: a segment of a line (between tabs,
    « : », table bars or emphasis) equal to it, after a label such as « Ambition 3 » or
    « Objectif #7 ». A title cut short or lengthened is not found."""
    want = words(title).split()
    if not want:
        return False
    texts = cited(seed, ranges)
    for a, b in ranges:
        texts.append(" ".join(seed[n - 1] for n in range(a, b + 1) if 1 <= n <= len(seed)))
    for text in texts:
        pattern = r"\t|\||\*\*|<[^>]*>|\.{3}|…" if ":" in title else r"\t|\||\s:\s|:\s|\*\*|<[^>]*>|\.{3}|…"
        for segment in _re.split(pattern, text):
            got = words(segment).split()
            if len(got) < len(want) or got[len(got) - len(want):] != want:
                continue
            if all(w in LABEL_WORDS or w.isdigit() for w in got[:len(got) - len(want)]):
                return True
    return False


def written_in(item, sheet):
    """Whether an item is written in the sheet: verbatim, or joined from two pieces the layout
    split (at most 2 of its 3-word runs missing, items of 5 runs or more)."""
    if words(item) in sheet:
        return True
    w = words(item).split()
    runs = [" " + " ".join(w[i:i + 3]) + " " for i in range(len(w) - 2)]
    if len(runs) >= 5:
        return sum(1 for r in runs if r not in sheet) <= 2
    # A short item broken over two lines of the layout: two pieces, each written.
    return any(" " + " ".join(w[:k]) + " " in sheet and " " + " ".join(w[k:]) + " " in sheet
               for k in range(3, len(w)))


def number_words(value):
    """`17.35` -> ` 17 35 `, as the French text writes `17,35`."""
    return words(str(value).replace(".", " "))


def date_written(iso, line):
    """Whether the date is written on the line, in any of the forms the text uses."""
    y, m, dd = (int(p) for p in iso.split("-"))
    w = words(line)
    forms = [f"{dd} {MONTHS[m - 1]} {y}", f"{dd:02d} {MONTHS[m - 1]} {y}", f"{dd:02d} {m:02d} {y}",
             f"{dd} {m:02d} {y}", f"{dd} {MONTHS[m - 1][:3]} {y}", f"{dd:02d} {MONTHS[m - 1][:3]} {y}"]
    return any(words(f) in w for f in forms)


def ambitions_of_objectifs(seed):
    """Objectif number -> ambition number, as the strategy's summary (l.576-760) orders them."""
    out, ambition = {}, None
    for line in seed[575:760]:
        for m in _re.finditer(r"Ambition\s+(\d+)|Objectif\s*#\s*(\d+)", line):
            if m.group(1):
                ambition = int(m.group(1))
            elif ambition is not None:
                out.setdefault(int(m.group(2)), ambition)
    return out


def sheet_items(seed, ob):
    """The « - » list items of an objectif's Annex 2 sheet (its cited lines after the summary)."""
    for a, b in ob.get("source_lines", []):
        if a < 1700:
            continue
        for n in range(a, b + 1):
            line = seed[n - 1]
            if line.startswith("- ") and len(words(line).split()) >= 2:
                yield line[2:]


def main():
    dirs = sorted(p for p in CONTRACTS.iterdir() if p.is_dir()) if CONTRACTS.is_dir() else []
    if not dirs:
        fail(f"no contract directory under {CONTRACTS}")
    for cdir in dirs:
        where = f"contracts/{cdir.name}"
        print(f"checking {where}")
        data = {}
        for name in FILES:
            p = cdir / f"{name}.json"
            if not p.is_file():
                fail(f"{where}: missing {name}.json")
                data[name] = None
            else:
                data[name] = load(p)
        if not (cdir / "DISCREPANCIES.md").is_file():
            fail(f"{where}: missing DISCREPANCIES.md")
        if data.get("contract") and data["contract"].get("id") != cdir.name:
            fail(f"{where}: contract.json id {data['contract'].get('id')!r} differs from the directory name")
        seed, nlines = find_seed(cdir.name)
        if nlines is None:
            fail(f"{where}: unknown seed line count (add it to SEED_FILES)")
            nlines = 10 ** 9
        if seed is None:
            print(f"  seed document not found: checking line ranges against 1..{nlines} only")
        check_schemas(data, where)
        check_lines(data, where, seed, nlines)
        check_refs(data, where, EXPECTED.get(cdir.name))
        if seed is not None:
            check_seed_text(data, where, seed)
    if errors:
        print(f"FAILED: {len(errors)} problem(s)")
        for e in errors:
            print("  - " + e)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
