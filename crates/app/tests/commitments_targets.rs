//! What Annex 3 says beyond a commitment's text: several carriers (l.3756), records flagged
//! rather than kept silently (Maubeuge l.4633, « Sous réserve… » l.5022), France Travail's 2023
//! baselines (l.4829-4860), typed targets quoted from their lines, and links to objectifs from
//! the objectifs' actor lists, so that the per-objectif view is not empty. Old terms (before
//! these fields) still read.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use engagements_app::commitments_seed::{record_initial_commitments, AnnexFile};
use engagements_app::referential::LoadedContract;
use engagements_app::{Ledger, MetaDefaults};
use engagements_domain::commitment::{CommitmentTerms, FlagKind};
use engagements_domain::{Actor, Source};
use engagements_store::testing;
use rust_decimal::Decimal;

const SEED_FILE: &str = "000_ff42b5a4ed572933.txt";

fn seed_lines() -> Option<Vec<String>> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let candidates = [
        std::env::var("ENGAGEMENTS_SEED").ok().map(PathBuf::from),
        Some(repo.join("../shared/seed").join(SEED_FILE)),
    ];
    let path = candidates.into_iter().flatten().find(|p| p.exists())?;
    let text = std::fs::read_to_string(path).ok()?;
    Some(text.lines().map(str::to_string).collect())
}

fn defaults() -> MetaDefaults {
    MetaDefaults {
        actor: Actor::new("Agent fictif", "cabbalr"),
        source: Source::Cli,
        today: NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
    }
}

fn terms_of(file: &AnnexFile, id: &str) -> CommitmentTerms {
    file.commitments
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("{id}"))
        .terms()
        .unwrap()
}

/// `16.4` as the text writes it (`16,4`), `1339` as `1339` or `1 339`.
fn written(value: Decimal, quote: &str) -> bool {
    let french = value.normalize().to_string().replace('.', ",");
    let compact: String = quote.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.contains(&french) {
        return true;
    }
    // Millions written « 15 M€ », « 2,5 M€ ».
    let millions = (value / Decimal::from(1_000_000)).normalize();
    compact.contains(&format!("{}M€", millions.to_string().replace('.', ",")))
        || (value == Decimal::ONE
            && (quote.contains("un ") || quote.contains("une ") || quote.contains("d'un")))
        || (value == Decimal::TWO && quote.contains("binôme"))
}

#[test]
fn carriers_flags_baselines_and_targets_are_the_texts() {
    let file = AnnexFile::embedded().unwrap();
    // l.3756: the State and the Département, one amount, no split.
    let etat_05 = terms_of(&file, "etat-05");
    let carriers: Vec<&str> = etat_05
        .carriers
        .iter()
        .map(|c| c.signatory.as_str())
        .collect();
    assert_eq!(carriers, vec!["etat", "departement-pas-de-calais"]);
    assert!(etat_05.is_carried_by("departement-pas-de-calais"));
    // l.4633: Maubeuge is outside the territory; flagged, never local.
    let ars_15 = terms_of(&file, "ars-15");
    assert_eq!(ars_15.flags[0].kind, FlagKind::OutsideTerritory);
    assert!(!ars_15.is_local());
    // l.5022: « Sous réserve… » between France Travail and Bpifrance.
    let bpi = terms_of(&file, "bpifrance-01");
    assert_eq!(bpi.flags[0].kind, FlagKind::AmbiguousOwner);
    // l.4864 « au moins à leur hauteur » with its 2023 baselines.
    let ft = terms_of(&file, "france-travail-01");
    let baselines: Vec<(String, i32)> = ft
        .baselines
        .iter()
        .map(|b| (b.value.normalize().to_string(), b.year.unwrap_or(0)))
        .collect();
    assert!(
        baselines.contains(&("16.4".to_string(), 2023)),
        "{baselines:?}"
    );
    assert!(
        baselines.contains(&("1339".to_string(), 2023)),
        "{baselines:?}"
    );
    assert_eq!(ft.targets[0].min, Some(Decimal::new(164, 1)));

    let targets: Vec<(String, &engagements_domain::commitment::Target)> = file
        .commitments
        .iter()
        .flat_map(|r| r.targets.iter().map(move |t| (r.id.clone(), t)))
        .collect();
    assert!(targets.len() >= 33, "{} typed targets", targets.len());
    let ranges = targets
        .iter()
        .filter(|(_, t)| t.min.is_some() && t.max.is_some())
        .count();
    assert!(ranges >= 5, "ranges such as DALO 700-800: {ranges}");
    for wanted in ["caf-07", "etat-19", "etat-22", "ars-03"] {
        assert!(
            targets.iter().any(|(id, _)| id == wanted),
            "{wanted} has no target"
        );
    }
    let dalo = &terms_of(&file, "etat-19").targets[0];
    assert_eq!(
        (dalo.min, dalo.max),
        (Some(Decimal::from(700)), Some(Decimal::from(800)))
    );

    let Some(seed) = seed_lines() else {
        eprintln!("skipping the seed comparison: set ENGAGEMENTS_SEED");
        return;
    };
    for (id, target) in &targets {
        let line = &seed[target.source_lines[0].0 as usize - 1];
        assert!(
            line.contains(&target.quote),
            "{id}: « {} » not on l.{}",
            target.quote,
            target.source_lines[0].0
        );
        let quotes: Vec<&str> = std::iter::once(target.quote.as_str())
            .chain(
                file.commitments
                    .iter()
                    .find(|r| &r.id == id)
                    .unwrap()
                    .baselines
                    .iter()
                    .map(|b| b.quote.as_str()),
            )
            .collect();
        for value in [target.value, target.min, target.max].into_iter().flatten() {
            assert!(
                quotes.iter().any(|q| written(value, q)),
                "{id}: {value} is not written in « {} »",
                target.quote
            );
        }
    }
    for record in &file.commitments {
        for link in &record.objectif_links {
            let line = &seed[link.source_lines[0].0 as usize - 1];
            assert!(
                line.contains(&link.actor),
                "{}: actor « {} » not on l.{}",
                record.id,
                link.actor,
                link.source_lines[0].0
            );
        }
    }
}

#[test]
fn terms_recorded_before_these_fields_still_read() {
    let old = serde_json::json!({
        "title": "Engagement (fictif)", "text": "Texte (fictif).",
        "kind": {"type": "qualitative"}, "scope": "cabbalr",
        "objectifs": [14], "source_lines": [[4700, 4700]]
    });
    let terms: CommitmentTerms = serde_json::from_value(old).unwrap();
    assert!(terms.carriers.is_empty() && terms.targets.is_empty() && terms.flags.is_empty());
    // And written back without the empty new fields: the same JSON as before.
    let back = serde_json::to_value(&terms).unwrap();
    assert!(back.get("targets").is_none() && back.get("carriers").is_none());
}

#[tokio::test]
async fn the_seed_links_objectifs_and_carriers_in_the_views() {
    let db = testing::sqlite();
    let ledger = Ledger::open(&db.url).await.unwrap();
    LoadedContract::embedded()
        .unwrap()
        .publish(&ledger, &defaults())
        .await
        .unwrap();
    record_initial_commitments(&ledger, None, &defaults())
        .await
        .unwrap();
    let projections = ledger.projections().await.unwrap();
    let view = &projections.commitments;
    // `report commitments --objective 20` on seed data.
    let by_objectif = view.commitments_table(None, Some(20));
    assert!(by_objectif.rows.len() >= 3, "{}", by_objectif.rows.len());
    let linked: usize = (1..=35)
        .filter(|o| !view.commitments_table(None, Some(*o)).rows.is_empty())
        .count();
    assert!(linked >= 15, "{linked} objectifs have commitments");
    // etat-05 is also the Département's.
    let departement = view.commitments_table(Some("departement-pas-de-calais"), None);
    let id = departement
        .columns
        .iter()
        .position(|c| c == "commitment_id")
        .unwrap();
    assert!(departement
        .rows
        .iter()
        .any(|r| r[id].to_text() == "etat-05"));
    let carriers = departement
        .columns
        .iter()
        .position(|c| c == "carriers")
        .unwrap();
    let row = departement
        .rows
        .iter()
        .find(|r| r[id].to_text() == "etat-05")
        .unwrap();
    assert!(row[carriers]
        .to_text()
        .contains("departement-pas-de-calais"));
    // Maubeuge: listed, not local.
    let ars = view.commitments_table(Some("ars"), None);
    let local = ars.columns.iter().position(|c| c == "local").unwrap();
    let flags = ars.columns.iter().position(|c| c == "caveats").unwrap();
    let maubeuge = ars
        .rows
        .iter()
        .find(|r| r[id].to_text() == "ars-15")
        .unwrap();
    assert_eq!(maubeuge[local].to_text(), "no");
    assert!(maubeuge[flags].to_text().starts_with("hors du territoire"));
    let targets = view.commitments_table(Some("etat"), None);
    let t = targets.columns.iter().position(|c| c == "targets").unwrap();
    let dalo = targets
        .rows
        .iter()
        .find(|r| r[id].to_text() == "etat-19")
        .unwrap();
    assert!(
        dalo[t].to_text().contains("700 à 800"),
        "{}",
        dalo[t].to_text()
    );
    drop(projections);
    ledger.store().shutdown().await;
}
