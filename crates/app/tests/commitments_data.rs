//! The Annex 3 data file (`schemas/contracts/cabbalr-2024-2030/commitments.json`): it validates
//! against its JSON Schema, every partner section of the annex is represented, and every record
//! cites lines that exist in the contract document (checked when the document is at hand:
//! `ENGAGEMENTS_SEED`, or `../shared/seed/` beside the repository).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

const SEED_NAME: &str = "000_ff42b5a4ed572933.txt";
const SEED_LINES: usize = 5_259;
/// Annex 3 of the contract (l.3733-5259).
const ANNEX3: (u64, u64) = (3733, 5259);

/// Every partner section heading of Annex 3: (line, words on that line, partner id). Partners
/// without a heading of their own (Région, ARS, Bpifrance, SIA Habitat) are found at the first
/// line that names their contribution.
const SECTION_HEADINGS: &[(u64, &str, &str)] = &[
    (3735, "La Préfecture du Pas-de-Calais", "etat"),
    (3737, "Contribution de la DDETS", "etat"),
    (3915, "Engagements de la DRAC", "etat"),
    (4046, "Délibération n° 2023.01515", "region-hauts-de-france"),
    (
        4455,
        "Le Département du Pas-de-Calais",
        "departement-pas-de-calais",
    ),
    (4527, "ducation Nationale", "education-nationale"),
    (4583, "Procureur de la République", "procureur"),
    (4589, "Note à l", "ars"),
    (4689, "Caisse", "caf"),
    (4781, "La Caisse Primaire d", "cpam"),
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
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_json(relative: &str) -> Value {
    let path = repo_root().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn data() -> Value {
    read_json("schemas/contracts/cabbalr-2024-2030/commitments.json")
}

fn ranges(value: &Value) -> Vec<(u64, u64)> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_u64().unwrap(), r[1].as_u64().unwrap()))
        .collect()
}

fn within(inner: (u64, u64), outer: (u64, u64)) -> bool {
    outer.0 <= inner.0 && inner.0 <= inner.1 && inner.1 <= outer.1
}

#[test]
fn the_annex_file_validates_against_its_schema() {
    let schema = read_json("schemas/referential/commitments.schema.json");
    let validator = jsonschema::draft202012::new(&schema).expect("the schema compiles");
    let data = data();
    let errors: Vec<String> = validator
        .iter_errors(&data)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{} errors: {errors:#?}", errors.len());
    // And the schema refuses what it must: a financial commitment without euros.
    let mut bad = data.clone();
    bad["commitments"][0]["kind"] = Value::from("financial");
    bad["commitments"][0]["amount_eur"] = Value::Null;
    assert!(!validator.is_valid(&bad));
}

#[test]
fn every_partner_section_of_the_annex_is_represented() {
    let data = data();
    let partners = data["partners"].as_array().unwrap();
    let commitments = data["commitments"].as_array().unwrap();
    let with_commitments: BTreeSet<&str> = commitments
        .iter()
        .map(|c| c["signatory"].as_str().unwrap())
        .collect();
    for (line, words, partner_id) in SECTION_HEADINGS {
        let holder = partners
            .iter()
            .find(|p| {
                within(
                    (*line, *line),
                    ranges(&Value::Array(vec![p["section_lines"].clone()]))[0],
                )
            })
            .unwrap_or_else(|| panic!("heading l.{line} « {words} » is in no partner's section"));
        assert_eq!(holder["id"], *partner_id, "heading l.{line} « {words} »");
        let pending = holder["status"] == "pending";
        assert!(
            pending || with_commitments.contains(partner_id),
            "{partner_id} has no commitment and is not pending"
        );
        if pending {
            assert!(
                !with_commitments.contains(partner_id),
                "{partner_id} is pending but has commitments"
            );
        }
    }
    let pending: Vec<&str> = partners
        .iter()
        .filter(|p| p["status"] == "pending")
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        pending,
        [
            "procureur",
            "flandre-opale-habitat",
            "habitat-hauts-de-france",
            "icf-habitat",
            "soliha"
        ]
    );
}

#[test]
fn every_record_cites_lines_of_its_own_partner_section() {
    let data = data();
    let sections: Vec<(String, (u64, u64))> = data["partners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let s = &p["section_lines"];
            (
                p["id"].as_str().unwrap().to_string(),
                (s[0].as_u64().unwrap(), s[1].as_u64().unwrap()),
            )
        })
        .collect();
    for record in data["commitments"].as_array().unwrap() {
        let id = record["id"].as_str().unwrap();
        let signatory = record["signatory"].as_str().unwrap();
        let section = sections
            .iter()
            .find(|(p, _)| p == signatory)
            .unwrap_or_else(|| panic!("{id}: signatory {signatory} is not a partner"))
            .1;
        let cited = ranges(&record["source_lines"]);
        assert!(!cited.is_empty(), "{id} cites no line");
        for range in cited {
            assert!(within(range, ANNEX3), "{id}: {range:?} is outside Annex 3");
            assert!(
                within(range, section),
                "{id}: {range:?} is outside {signatory}'s section {section:?}"
            );
        }
    }
}

fn seed_document() -> Option<Vec<String>> {
    let candidates = [
        std::env::var("ENGAGEMENTS_SEED").ok().map(PathBuf::from),
        Some(repo_root().join("../shared/seed").join(SEED_NAME)),
        Some(repo_root().join("../seed").join(SEED_NAME)),
    ];
    let path = candidates.into_iter().flatten().find(|p| p.is_file())?;
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(text.lines().map(str::to_string).collect())
}

#[test]
fn every_cited_line_exists_in_the_contract_document() {
    let Some(seed) = seed_document() else {
        eprintln!(
            "skipping the check against the contract document: set ENGAGEMENTS_SEED to {SEED_NAME}"
        );
        return;
    };
    assert_eq!(
        seed.len(),
        SEED_LINES,
        "the contract document has {SEED_LINES} lines"
    );
    for (line, words, _) in SECTION_HEADINGS {
        let text = &seed[*line as usize - 1];
        assert!(
            text.contains(words),
            "l.{line} should contain « {words} », has « {text} »"
        );
    }
    let data = data();
    let records = data["commitments"]
        .as_array()
        .unwrap()
        .iter()
        .chain(data["partners"].as_array().unwrap());
    for record in records {
        let id = record["id"].as_str().unwrap();
        for (from, to) in ranges(&record["source_lines"]) {
            assert!(
                to as usize <= seed.len(),
                "{id}: line {to} is past the end of the document"
            );
            for line in [from, to] {
                assert!(
                    !seed[line as usize - 1].trim().is_empty(),
                    "{id}: cites blank line {line}"
                );
            }
        }
        if record["status"] == "pending" {
            let (from, to) = ranges(&Value::Array(vec![record["section_lines"].clone()]))[0];
            let section = seed[from as usize - 1..to as usize]
                .join("\n")
                .to_lowercase();
            assert!(
                section.contains("en attente"),
                "{id}: pending, but its section does not say « En attente »"
            );
        }
    }
}
