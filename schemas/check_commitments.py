#!/usr/bin/env python3
"""Check the droit-commun commitments of the CABBALR Contrat de Ville (Annex 3).

Validates schemas/contracts/cabbalr-2024-2030/commitments.json against
schemas/referential/commitments.schema.json, then checks what a schema cannot say:

  * ids are unique, and commitment ids are <signatory>-<nn>, sequential within the signatory;
  * every cited line exists (1..5259) and lies within Annex 3 (l.3733-5259), inside the
    signatory's own section, and for the State inside the section of the named service;
  * partner sections do not overlap; every partner section heading of Annex 3 falls in a
    partner's section, and that partner has at least one commitment or is "pending";
  * a "pending" partner has no commitment, a "committed" one has at least one;
  * enjeux / ambitions / objectifs agree with the strategy tree; QPV codes exist;
  * with the source document (--seed, or $ENGAGEMENTS_SEED, or the usual locations):
    headings are where this file says, cited lines are not blank, every amount appears
    in euros in the cited lines, every staff count appears in the cited lines, and
    every pending partner's section says « En attente ».

Exit status 0 when everything passes, 1 on any failure, 2 on a usage or I/O problem.
Why a script and not only the schema: the references to line numbers, the per-partner
sections and the id sequence are cross-record rules that JSON Schema cannot express.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import unicodedata
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE / "contracts" / "cabbalr-2024-2030" / "commitments.json"
DEFAULT_SCHEMA = HERE / "referential" / "commitments.schema.json"
SEED_NAME = "000_ff42b5a4ed572933.txt"
SEED_CANDIDATES = [
    HERE.parent.parent / "shared" / "seed" / SEED_NAME,
    HERE.parent / "seed" / SEED_NAME,
    Path("/work/shared/seed") / SEED_NAME,
]

SOURCE_LINE_COUNT = 5259
ANNEX3_LINES = (3733, 5259)
MAX_ERRORS_PRINTED = 200

# Every partner section heading of Annex 3: (line, words the line must contain, partner id).
# Some partners have no heading of their own (Région, ARS, Bpifrance, SIA Habitat): the line
# given is the first line that opens or names their contribution.
SECTION_HEADINGS = [
    (3735, "La Préfecture du Pas-de-Calais et les services déconcentrés", "etat"),
    (3737, "Contribution de la DDETS", "etat"),
    (3915, "Engagements de la DRAC", "etat"),
    (4046, "Délibération n° 2023.01515", "region-hauts-de-france"),
    (4455, "Le Département du Pas-de-Calais", "departement-pas-de-calais"),
    (4527, "L'éducation Nationale", "education-nationale"),
    (4583, "Procureur de la République", "procureur"),
    (4589, "Note à l'attention de Madame et Messieurs les préfets", "ars"),
    (4689, "Caisse", "caf"),
    (4781, "La Caisse Primaire d'Assurance Maladie", "cpam"),
    (4805, "La Banque des Territoires", "banque-des-territoires"),
    (4825, "Mobilisation de France Travail", "france-travail"),
    (5024, "Bpifrance", "bpifrance"),
    (5050, "Pas de Calais Habitat", "pas-de-calais-habitat"),
    (5097, "SIA Habitat", "sia-habitat"),
    (5132, "Maisons et Cités", "maisons-et-cites"),
    (5145, "SIGH", "sigh"),
    (5244, "Flandres Opale Habitat", "flandre-opale-habitat"),
    (5248, "Habitat Hauts de France", "habitat-hauts-de-france"),
    (5252, "ICF Habitat", "icf-habitat"),
    (5256, "Soliha", "soliha"),
]

# Within the State's section, each service's own sub-section.
SERVICE_SECTIONS = {
    ("etat", "DDETS"): (3737, 3913),
    ("etat", "DRAC"): (3915, 4044),
}

# Strategy tree (l.576-866): ambition -> enjeu, objectif -> ambition.
AMBITION_ENJEU = {f"A{a}": ("E1" if a <= 3 else "E2" if a <= 7 else "E3") for a in range(1, 11)}
OBJECTIF_RANGES = {
    "A1": (1, 3), "A2": (4, 6), "A3": (7, 9), "A4": (10, 13), "A5": (14, 22),
    "A6": (23, 25), "A7": (26, 27), "A8": (28, 30), "A9": (31, 33), "A10": (34, 35),
}
OBJECTIF_AMBITION = {o: a for a, (lo, hi) in OBJECTIF_RANGES.items() for o in range(lo, hi + 1)}

# The 16 QPV of the contract (table l.391-421).
QPV_CODES = {f"QN062{n:02d}" for n in range(4, 19)} | {"QN06255"}

# Counts written in words in the source.
STAFF_WORDS = {1: ("un ", "une ", "1"), 2: ("binôme", "deux", "2")}


class Report:
    """Collects failures; the script fails if there is at least one."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def fold(text: str) -> str:
    """Lower-case, strip accents and unify apostrophes, for tolerant text comparison."""
    text = text.replace("’", "'").replace("\u00a0", " ")
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def find_seed(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    env = os.environ.get("ENGAGEMENTS_SEED")
    if env:
        return Path(env)
    for candidate in SEED_CANDIDATES:
        if candidate.is_file():
            return candidate
    return None


def load_seed(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def within(inner: list[int], outer: list[int] | tuple[int, int]) -> bool:
    return outer[0] <= inner[0] <= inner[1] <= outer[1]


def check_schema(doc: dict, schema: dict, report: Report) -> None:
    try:
        from jsonschema import Draft202012Validator
    except ImportError:
        report.fail("schema", "the python package jsonschema is missing (pip install jsonschema)")
        return
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(p) for p in error.absolute_path) or "(root)"
        report.fail(f"schema {path}", error.message)


def check_range(where: str, rng: list[int], report: Report) -> bool:
    start, end = rng
    if start > end:
        report.fail(where, f"range {rng} is reversed")
        return False
    if not (1 <= start and end <= SOURCE_LINE_COUNT):
        report.fail(where, f"range {rng} outside the document (1..{SOURCE_LINE_COUNT})")
        return False
    if not within(rng, ANNEX3_LINES):
        report.fail(where, f"range {rng} outside Annex 3 {list(ANNEX3_LINES)}")
        return False
    return True


def check_partners(partners: list[dict], report: Report) -> dict[str, dict]:
    by_id: dict[str, dict] = {}
    for index, partner in enumerate(partners):
        where = f"partners[{index}] {partner['id']}"
        if partner["id"] in by_id:
            report.fail(where, "duplicate partner id")
        by_id[partner["id"]] = partner
        section = partner["section_lines"]
        if not check_range(f"{where} section_lines", section, report):
            continue
        for rng in partner["source_lines"]:
            if check_range(f"{where} source_lines", rng, report) and not within(rng, section):
                report.fail(where, f"source_lines {rng} outside its section {section}")
    ordered = sorted(by_id.values(), key=lambda p: p["section_lines"][0])
    for previous, current in zip(ordered, ordered[1:]):
        if current["section_lines"][0] <= previous["section_lines"][1]:
            report.fail("partners", f"sections of {previous['id']} {previous['section_lines']} "
                        f"and {current['id']} {current['section_lines']} overlap")
    return by_id


def check_tree(where: str, record: dict, report: Report) -> None:
    for ambition in record["ambitions"]:
        enjeu = AMBITION_ENJEU[ambition]
        if record["enjeux"] and enjeu not in record["enjeux"]:
            report.fail(where, f"{ambition} belongs to {enjeu}, which is not in enjeux")
    for objectif in record["objectifs"]:
        ambition = OBJECTIF_AMBITION[objectif]
        if record["ambitions"] and ambition not in record["ambitions"]:
            report.fail(where, f"objectif {objectif} belongs to {ambition}, not in ambitions")
    for code in record["quartiers"]:
        if code not in QPV_CODES:
            report.fail(where, f"unknown QPV code {code}")


def check_commitments(records: list[dict], partners: dict[str, dict], report: Report) -> None:
    seen: set[str] = set()
    sequence: dict[str, int] = {}
    for index, record in enumerate(records):
        where = f"commitments[{index}] {record['id']}"
        if record["id"] in seen:
            report.fail(where, "duplicate commitment id")
        seen.add(record["id"])
        signatory = record["signatory"]
        sequence[signatory] = sequence.get(signatory, 0) + 1
        expected = f"{signatory}-{sequence[signatory]:02d}"
        if record["id"] != expected:
            report.fail(where, f"id should be {expected} (sequential within the signatory)")
        partner = partners.get(signatory)
        if partner is None:
            report.fail(where, f"signatory {signatory} is not a partner")
            continue
        if partner["status"] == "pending":
            report.fail(where, f"partner {signatory} is pending but has a commitment")
        service_section = SERVICE_SECTIONS.get((signatory, record["service"]))
        for rng in record["source_lines"]:
            if not check_range(f"{where} source_lines", rng, report):
                continue
            if not within(rng, partner["section_lines"]):
                report.fail(where, f"source_lines {rng} outside {signatory}'s section "
                            f"{partner['section_lines']}")
            if service_section and not within(rng, service_section):
                report.fail(where, f"source_lines {rng} outside the {record['service']} "
                            f"section {list(service_section)}")
        period = record["period"]
        if period["start_year"] and period["end_year"] and period["start_year"] > period["end_year"]:
            report.fail(where, f"period {period} is reversed")
        if record["kind"] == "financial" and record["amount_eur"] is None:
            report.fail(where, "a financial commitment needs amount_eur")
        check_tree(where, record, report)
    for partner in partners.values():
        if partner["status"] == "committed" and partner["id"] not in sequence:
            report.fail(f"partner {partner['id']}", "committed but has no commitment")


def check_headings(partners: dict[str, dict], records: list[dict], report: Report) -> None:
    with_records = {r["signatory"] for r in records}
    for line, words, partner_id in SECTION_HEADINGS:
        holder = [p for p in partners.values() if within([line, line], p["section_lines"])]
        if not holder:
            report.fail(f"heading l.{line}", f"« {words} » is in no partner's section")
            continue
        partner = holder[0]
        if partner["id"] != partner_id:
            report.fail(f"heading l.{line}", f"« {words} » should be in {partner_id}'s section, "
                        f"found {partner['id']}")
        if partner["status"] != "pending" and partner["id"] not in with_records:
            report.fail(f"heading l.{line}", f"{partner['id']} has no commitment and is not pending")


def amounts_in(text: str) -> set[Decimal]:
    """Every euro amount written in the text: '15 M€', '2,5 M€', '1000 euros', '30€'."""
    found: set[Decimal] = set()
    pattern = re.compile(r"(\d[\d\s\u00a0.]*(?:,\d+)?)\s*(M€|millions? d'euros|€|euros?)")
    for number, unit in pattern.findall(text.replace("’", "'")):
        digits = re.sub(r"[\s\u00a0.]", "", number).replace(",", ".")
        try:
            value = Decimal(digits)
        except ArithmeticError:
            continue
        if unit.startswith("M") or unit.startswith("million"):
            value *= Decimal(1_000_000)
        found.add(value.quantize(Decimal("0.01")))
    return found


def cited_text(seed: list[str], ranges: list[list[int]]) -> str:
    return "\n".join("\n".join(seed[a - 1:b]) for a, b in ranges)


def check_against_seed(doc: dict, seed: list[str], report: Report) -> None:
    if len(seed) != SOURCE_LINE_COUNT:
        report.fail("seed", f"expected {SOURCE_LINE_COUNT} lines, found {len(seed)}")
        return
    for line, words, _ in SECTION_HEADINGS:
        if fold(words) not in fold(seed[line - 1]):
            report.fail(f"heading l.{line}", f"expected « {words} », found « {seed[line - 1][:80]} »")
    for partner in doc["partners"]:
        if partner["status"] == "pending":
            text = fold(cited_text(seed, [partner["section_lines"]]))
            if "en attente" not in text:
                report.fail(f"partner {partner['id']}", "pending but its section does not say « En attente »")
    for record in doc["commitments"]:
        where = f"commitment {record['id']}"
        for a, b in record["source_lines"]:
            for line in {a, b}:
                if 1 <= line <= len(seed) and not seed[line - 1].strip():
                    report.fail(where, f"cites blank line {line}")
        text = cited_text(seed, record["source_lines"])
        if record["amount_eur"] is not None and Decimal(record["amount_eur"]) not in amounts_in(text):
            report.fail(where, f"amount {record['amount_eur']} € not found in the cited lines")
        count = record["staff_count"]
        if count is not None:
            spellings = STAFF_WORDS.get(count, (str(count),))
            if not any(s in text for s in spellings) and not re.search(rf"\b{count}\b", text):
                report.fail(where, f"staff_count {count} not found in the cited lines")


# ---------------------------------------------------------------------------------------------
# Checks of each record against the words of the source.

SCOPE_WORDS = {
    "national": r"\bnational|\bnationaux|\bministere|\bpays\b|caisse des depots",
    "region": r"\bregion|hauts-de-france|hauts de france",
    "departement": r"\bdepartement|pas-de-calais|pas de calais",
    "cabbalr": r"cabbalr|agglomeration|bethune|bruay|artois|lys romane|contrat local de sante du territoire"
               r"|\bdans (?:les|son|nos) quartiers\b",
}
# Longest run of consecutive 3-word sequences of a record's text that its cited lines may lack
# (pieces joined across layout breaks, footnote marks); an invented clause makes a longer one.
TEXT_GAP_MAX = 4


def plain(text: str) -> str:
    """Folded words only, single-spaced, with a space at both ends."""
    text = fold(text).replace("^{er}", "er").replace("^{e}", "e").replace("œ", "oe")
    return " " + " ".join(re.findall(r"[a-z0-9]+", text)) + " "


def longest_gap(text: str, source: str) -> int:
    words = plain(text).split()
    run = worst = 0
    for i in range(max(1, len(words) - 2)):
        if " " + " ".join(words[i:i + 3]) + " " in source:
            run = 0
        else:
            run += 1
            worst = max(worst, run)
    return worst


def figure_in(value: str, quote: str) -> bool:
    """Whether a decimal figure (`16.4`, `15000000`) is written in the quote (`16,4`, `15 M€`)."""
    number = Decimal(value)
    if number in amounts_in(quote):
        return True
    digits = re.sub(r"(?<=\d)[\s\u00a0\u202f](?=\d{3}\b)", "", quote)
    written = {Decimal(n.replace(",", ".")) for n in re.findall(r"\d+(?:,\d+)?", digits)}
    return number in written or (number == 1 and re.search(r"\b(un|une)\b", fold(quote)) is not None) \
        or (number == 2 and "binome" in fold(quote))


def check_records_against_seed(doc: dict, seed: list[str], report: Report) -> None:
    partners = {p["id"]: p for p in doc["partners"]}
    for record in doc["commitments"]:
        where = f"commitment {record['id']}"
        source = plain(cited_text(seed, record["source_lines"]))
        gap = longest_gap(record["text"], source)
        if gap > TEXT_GAP_MAX:
            report.fail(where, f"its text is not the source's: {gap} consecutive word runs are on none of "
                        f"its cited lines {record['source_lines']}")
        # Words of the partner's section that state the record's territory or years when its
        # own lines do not (a heading, the section's opening).
        support = source
        section = partners.get(record["signatory"], {}).get("section_lines", [0, 0])
        for evidence in record.get("context", []):
            for rng in evidence["source_lines"]:
                if not within(rng, section):
                    report.fail(where, f"context {rng} outside {record['signatory']}'s section")
            if plain(evidence["quote"]) not in plain(cited_text(seed, evidence["source_lines"])):
                report.fail(where, f"context « {evidence['quote']} » is not on lines {evidence['source_lines']}")
            else:
                support += plain(evidence["quote"])
        for year in (record["period"]["start_year"], record["period"]["end_year"]):
            if year is not None and f" {year} " not in support:
                report.fail(where, f"period year {year} is written on none of its cited lines")
        scope = record["scope"]
        if scope in ("commune", "quartier"):
            for place in (record["scope_ref"] or "").split(";"):
                if place.strip() and plain(place) not in source and plain(place) not in support:
                    report.fail(where, f"scope {scope} « {place.strip()} » is named on none of its cited lines")
        elif not re.search(SCOPE_WORDS[scope], support):
            report.fail(where, f"scope {scope} is supported neither by its cited lines nor by its context")
        for target in record.get("targets", []):
            text = cited_text(seed, target["source_lines"])
            if plain(target["quote"]) not in plain(text):
                report.fail(where, f"target « {target['label']} »: quote not on lines {target['source_lines']}")
                continue
            # A figure is read from the target's quote, or from a baseline the record states (« at
            # least their share »: the share is the baseline's).
            quotes = [target["quote"]] + [b["quote"] for b in record.get("baselines", [])]
            for key in ("value", "min", "max"):
                if target.get(key) is not None and not any(figure_in(target[key], q) for q in quotes):
                    report.fail(where, f"target « {target['label']} »: {key} {target[key]} is not in its quote")
        for baseline in record.get("baselines", []):
            text = cited_text(seed, baseline["source_lines"])
            if plain(baseline["quote"]) not in plain(text):
                report.fail(where, f"baseline « {baseline['label']} »: quote not on lines {baseline['source_lines']}")
            elif not figure_in(baseline["value"], baseline["quote"]):
                report.fail(where, f"baseline « {baseline['label']} »: value {baseline['value']} is not in its quote")
        for link in record.get("objectif_links", []):
            if link["objectif"] not in record["objectifs"]:
                report.fail(where, f"objectif link {link['objectif']} is not among its objectifs")
            if plain(link["actor"]) not in plain(cited_text(seed, link["source_lines"])):
                report.fail(where, f"objectif {link['objectif']}: actor « {link['actor']} » is not on lines "
                            f"{link['source_lines']}")
            if not within(link["source_lines"][0], (1664, 3732)):
                report.fail(where, f"objectif {link['objectif']}: its actor line is not in Annex 2")
        for carrier in record.get("carriers", []):
            if carrier["signatory"] not in partners:
                report.fail(where, f"carrier {carrier['signatory']} is not a partner")
        if record.get("carriers") and record["signatory"] not in [c["signatory"] for c in record["carriers"]]:
            report.fail(where, "the pledging signatory is not among its carriers")


def check_accounting(doc: dict, seed: list[str], report: Report) -> None:
    """Every non-blank line of Annex 3 is cited by a partner or a commitment, or declared in
    `not_commitments` (context, headings, figures of another territory…) — never both: a record
    deleted leaves lines nobody accounts for."""
    cited: set[int] = set()
    for item in doc["partners"] + doc["commitments"]:
        for a, b in item["source_lines"]:
            cited.update(range(a, b + 1))
    declared: set[int] = set()
    for entry in doc.get("not_commitments", []):
        for a, b in entry["source_lines"]:
            for n in range(a, b + 1):
                if n in cited:
                    report.fail(f"not_commitments {[a, b]}", f"line {n} is cited by a record")
                declared.add(n)
    missing = [n for n in range(ANNEX3_LINES[0], ANNEX3_LINES[1] + 1)
               if seed[n - 1].strip() and n not in cited and n not in declared]
    for n in missing[:20]:
        report.fail(f"l.{n}", f"cited by no record and not declared in not_commitments: « {seed[n - 1].strip()[:70]} »")
    if len(missing) > 20:
        report.fail("annex 3", f"{len(missing) - 20} more lines accounted for by nothing")


def coverage(doc: dict, seed: list[str]) -> tuple[int, int]:
    """How many non-blank Annex 3 lines are cited (informational, never a failure)."""
    cited: set[int] = set()
    for item in doc["partners"] + doc["commitments"]:
        for a, b in item["source_lines"]:
            cited.update(range(a, b + 1))
    lines = [n for n in range(ANNEX3_LINES[0], ANNEX3_LINES[1] + 1) if seed[n - 1].strip()]
    return sum(1 for n in lines if n in cited), len(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--schema", default=str(DEFAULT_SCHEMA))
    parser.add_argument("--seed", help="the source document (5,259 lines)")
    parser.add_argument("--require-seed", action="store_true",
                        help="fail if the source document cannot be found")
    args = parser.parse_args(argv)
    try:
        doc = json.loads(Path(args.data).read_text(encoding="utf-8"))
        schema = json.loads(Path(args.schema).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = Report()
    check_schema(doc, schema, report)
    if not report.errors:  # the semantic checks assume the shape is right
        partners = check_partners(doc["partners"], report)
        check_commitments(doc["commitments"], partners, report)
        check_headings(partners, doc["commitments"], report)
        seed_path = find_seed(args.seed)
        if seed_path and seed_path.is_file():
            seed = load_seed(seed_path)
            check_against_seed(doc, seed, report)
            if len(seed) == SOURCE_LINE_COUNT:
                check_records_against_seed(doc, seed, report)
                check_accounting(doc, seed, report)
            if len(seed) == SOURCE_LINE_COUNT:
                cited, total = coverage(doc, seed)
                print(f"coverage: {cited}/{total} non-blank Annex 3 lines cited")
        elif args.require_seed:
            report.fail("seed", "source document not found (use --seed or $ENGAGEMENTS_SEED)")
        else:
            report.warn("source document not found: text checks against it were skipped")
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if report.errors:
        for message in report.errors[:MAX_ERRORS_PRINTED]:
            print(f"FAIL {message}", file=sys.stderr)
        hidden = len(report.errors) - MAX_ERRORS_PRINTED
        if hidden > 0:
            print(f"... and {hidden} more failures", file=sys.stderr)
        return 1
    counts: dict[str, int] = {}
    for record in doc["commitments"]:
        counts[record["signatory"]] = counts.get(record["signatory"], 0) + 1
    pending = [p["id"] for p in doc["partners"] if p["status"] == "pending"]
    print(f"ok: {len(doc['partners'])} partners ({len(pending)} pending), "
          f"{len(doc['commitments'])} commitments")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
