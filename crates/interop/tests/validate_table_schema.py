#!/usr/bin/env python3
"""Validates a CSV file against a Table Schema with frictionless; prints one JSON object.

usage: validate_table_schema.py SCHEMA.json FILE.csv [--strict]

--strict adds the checks the SCDL schema names in `custom_checks` (SIRET checksums, one of
idBeneficiaire / rnaBeneficiaire) and checks that dates and periods are real calendar dates in
order, which the schema's regular expression alone does not.
Exit code 0 when valid, 1 when not, 2 when frictionless is missing.
"""
import csv
import datetime
import json
import os
import sys

try:
    from frictionless import Schema, validate
except ImportError:  # the caller decides whether a missing validator is a skip or a failure
    print(json.dumps({"valid": None, "errors": ["frictionless is not installed"]}))
    sys.exit(2)


def siret_ok(value):
    if len(value) != 14 or not value.isdigit():
        return False
    digits = [int(c) for c in value]
    if value.startswith("356000000") and value != "35600000000048":
        return sum(digits) % 5 == 0  # La Poste
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def real_date(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def strict_errors(path):
    errors = []
    with open(path, encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            for column in ("idAttribuant", "idBeneficiaire"):
                value = row.get(column) or ""
                if value and not siret_ok(value):
                    errors.append(f"row {number}: {column} '{value}' fails the SIRET checksum")
            if not (row.get("idBeneficiaire") or row.get("rnaBeneficiaire")):
                errors.append(f"row {number}: neither idBeneficiaire nor rnaBeneficiaire")
            if real_date(row.get("dateConvention") or "") is None:
                errors.append(f"row {number}: dateConvention is not a real date")
            parts = (row.get("datesPeriodeVersement") or "").split("/")
            days = [real_date(p) for p in parts]
            if any(d is None for d in days) or (len(days) == 2 and days[0] > days[1]):
                errors.append(f"row {number}: datesPeriodeVersement is not a real date or period")
    return errors


def main():
    schema_path, path = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    with open(schema_path, encoding="utf-8") as handle:
        schema = Schema.from_descriptor(json.load(handle))
    # frictionless refuses absolute and parent-relative paths as unsafe: read from the file's folder.
    os.chdir(os.path.dirname(path))
    report = validate(os.path.basename(path), schema=schema)
    errors = [
        f"row {e[0]}, field {e[1]}: {e[2]}: {e[3]}"
        for e in report.flatten(["rowNumber", "fieldName", "type", "note"])
    ]
    if "--strict" in sys.argv[3:]:
        errors += strict_errors(path)
    print(json.dumps({"valid": not errors, "errors": errors}, ensure_ascii=False))
    sys.exit(0 if not errors else 1)


if __name__ == "__main__":
    main()
