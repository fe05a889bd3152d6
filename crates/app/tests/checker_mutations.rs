//! The data checkers catch what a careless or malicious edit of the data would do: each test
//! copies `schemas/` to a temporary directory, changes one thing in the copy, runs the Python
//! checker on it and expects a failure that names the problem; the unchanged copy passes. The
//! checkers read every fact against the seed text (quotes and line numbers), so the seed must be
//! found (`ENGAGEMENTS_SEED`, or `../shared/seed/` beside the repository); without it, or without
//! python3 and its jsonschema package, the tests say so and stop.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const SEED_FILE: &str = "000_ff42b5a4ed572933.txt";
const CONTRACT: &str = "contracts/cabbalr-2024-2030";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn seed() -> Option<PathBuf> {
    let candidates = [
        std::env::var("ENGAGEMENTS_SEED").ok().map(PathBuf::from),
        Some(repo().join("../shared/seed").join(SEED_FILE)),
    ];
    candidates.into_iter().flatten().find(|p| p.exists())
}

fn ready() -> Option<PathBuf> {
    let Some(seed) = seed() else {
        eprintln!("skipping: the seed is needed (set ENGAGEMENTS_SEED)");
        return None;
    };
    let python = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .status();
    if !python.is_ok_and(|s| s.success()) {
        eprintln!("skipping: python3 with the jsonschema package is needed");
        return None;
    }
    Some(seed)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of `schemas/` with `file` (under the contract directory) changed by `mutate`.
fn mutated(file: &str, mutate: impl FnOnce(&mut Value)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("schemas"), &dir.path().join("schemas"));
    let path = dir.path().join("schemas").join(CONTRACT).join(file);
    let mut data: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    mutate(&mut data);
    std::fs::write(&path, serde_json::to_string_pretty(&data).unwrap()).unwrap();
    dir
}

/// Runs `checker` on the copy: exit status and everything it printed.
fn check(dir: &Path, checker: &str, seed: &Path) -> (i32, String) {
    let output = Command::new("python3")
        .arg(dir.join("schemas").join(checker))
        .env("ENGAGEMENTS_SEED", seed)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

fn by_id<'a>(items: &'a mut Value, id: &str) -> &'a mut Value {
    items
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|x| x["id"] == id)
        .unwrap_or_else(|| panic!("{id}"))
}

fn expect_caught(file: &str, checker: &str, named: &str, mutate: impl FnOnce(&mut Value)) {
    let Some(seed) = ready() else {
        return;
    };
    let dir = mutated(file, mutate);
    let (code, text) = check(dir.path(), checker, &seed);
    assert_ne!(code, 0, "{checker} passed a mutated {file}:\n{text}");
    assert!(
        text.contains(named),
        "{checker} failed without naming « {named} »:\n{text}"
    );
}

#[test]
fn the_unchanged_data_passes_both_checkers() {
    let Some(seed) = ready() else {
        return;
    };
    let dir = mutated("quartiers.json", |_| {});
    for checker in ["check_referential.py", "check_commitments.py"] {
        let (code, text) = check(dir.path(), checker, &seed);
        assert_eq!(code, 0, "{checker}:\n{text}");
    }
}

const REF: &str = "check_referential.py";
const COM: &str = "check_commitments.py";

#[test]
fn two_populations_swapped() {
    expect_caught(
        "quartiers.json",
        REF,
        "population 1300 differs from the table",
        |d| {
            let q = &mut d["quartiers"];
            let a = by_id(q, "QN06204")["population"].clone();
            let b = by_id(q, "QN06206")["population"].clone();
            by_id(q, "QN06204")["population"] = b;
            by_id(q, "QN06206")["population"] = a;
        },
    );
}

#[test]
fn populations_moved_by_100() {
    // Totals still add up: only the text can tell.
    expect_caught(
        "quartiers.json",
        REF,
        "quartier QN06207: population 2100",
        |d| {
            let q = &mut d["quartiers"];
            let up = by_id(q, "QN06207")["population"].as_u64().unwrap() + 100;
            by_id(q, "QN06207")["population"] = up.into();
            let down = by_id(q, "QN06208")["population"].as_u64().unwrap() - 100;
            by_id(q, "QN06208")["population"] = down.into();
        },
    );
}

#[test]
fn a_renamed_quartier() {
    expect_caught(
        "quartiers.json",
        REF,
        "quartier QN06209: name 'LES PRAIRIES'",
        |d| {
            by_id(&mut d["quartiers"], "QN06209")["name"] = "LES PRAIRIES".into();
        },
    );
}

#[test]
fn an_ambition_title_changed() {
    expect_caught("strategy.json", REF, "ambition A5: title", |d| {
        let a5 = by_id(&mut d["ambitions"], "A5");
        let title = a5["title"]
            .as_str()
            .unwrap()
            .replace("autonomie", "insertion");
        a5["title"] = title.into();
    });
}

#[test]
fn an_enjeu_title_changed() {
    expect_caught("strategy.json", REF, "enjeu E1: title", |d| {
        by_id(&mut d["enjeux"], "E1")["title"] = "Des quartiers attentifs".into();
    });
}

#[test]
fn a_piste_invented() {
    expect_caught("strategy.json", REF, "is not written on its sheet", |d| {
        by_id(&mut d["objectifs"], "O4")["pistes_communales"]
            .as_array_mut()
            .unwrap()
            .push("Création d'un observatoire des loyers".into());
    });
}

#[test]
fn a_piste_dropped() {
    expect_caught("strategy.json", REF, "is missing from the data", |d| {
        by_id(&mut d["objectifs"], "O5")["pistes_intercommunales"]
            .as_array_mut()
            .unwrap()
            .remove(1);
    });
}

#[test]
fn an_objectif_moved_to_another_ambition() {
    expect_caught(
        "strategy.json",
        REF,
        "objectif 10 is under A5, the strategy's summary puts it under A4",
        |d| {
            by_id(&mut d["objectifs"], "O10")["ambition"] = "A5".into();
        },
    );
}

#[test]
fn an_organisation_renamed() {
    expect_caught(
        "organisations.json",
        REF,
        "organisation departement-pas-de-calais: name",
        |d| {
            by_id(&mut d["organisations"], "departement-pas-de-calais")["name"] =
                "Département du Nord".into();
        },
    );
}

#[test]
fn a_representative_renamed() {
    expect_caught(
        "organisations.json",
        REF,
        "representative olivier-gacquerre: name",
        |d| {
            by_id(&mut d["representatives"], "olivier-gacquerre")["name"] = "Olivier DUPONT".into();
        },
    );
}

#[test]
fn the_approval_date_changed() {
    expect_caught("contract.json", REF, "approval date 2024-04-19", |d| {
        d["approval"]["date"] = "2024-04-19".into();
    });
}

#[test]
fn the_period_end_changed() {
    expect_caught("contract.json", REF, "period 2024-2031", |d| {
        d["period"]["end_year"] = 2031.into();
    });
}

#[test]
fn an_orientation_invented() {
    expect_caught("strategy.json", REF, "orientation", |d| {
        by_id(&mut d["enjeux_transversaux"], "T1")["orientations"][0]["text"] =
            "Développer le service civique".into();
    });
}

#[test]
fn invented_commitment_text() {
    expect_caught(
        "commitments.json",
        COM,
        "its text is not the source's",
        |d| {
            let record = by_id(&mut d["commitments"], "etat-11");
            let text = format!(
                "{} L'État finance en outre 500 postes supplémentaires.",
                record["text"].as_str().unwrap()
            );
            record["text"] = text.into();
        },
    );
}

#[test]
fn a_deleted_record() {
    expect_caught("commitments.json", COM, "id should be etat-05", |d| {
        let records = d["commitments"].as_array_mut().unwrap();
        let index = records.iter().position(|r| r["id"] == "etat-05").unwrap();
        records.remove(index);
    });
}

#[test]
fn the_last_record_of_a_partner_deleted() {
    // No id gap betrays it: the annex's lines it cited are accounted for by nothing.
    expect_caught("commitments.json", COM, "cited by no record", |d| {
        let records = d["commitments"].as_array_mut().unwrap();
        let last = records
            .iter()
            .rposition(|r| r["signatory"] == "cpam")
            .unwrap();
        records.remove(last);
    });
}

#[test]
fn a_changed_scope() {
    expect_caught(
        "commitments.json",
        COM,
        "etat-05: scope cabbalr is supported neither",
        |d| {
            by_id(&mut d["commitments"], "etat-05")["scope"] = "cabbalr".into();
        },
    );
}

#[test]
fn a_changed_period() {
    expect_caught("commitments.json", COM, "period year 2029", |d| {
        by_id(&mut d["commitments"], "etat-05")["period"]["end_year"] = 2029.into();
    });
}

#[test]
fn a_target_figure_changed() {
    expect_caught(
        "commitments.json",
        COM,
        "min 750 is not in its quote",
        |d| {
            by_id(&mut d["commitments"], "etat-19")["targets"][0]["min"] = "750".into();
        },
    );
}
