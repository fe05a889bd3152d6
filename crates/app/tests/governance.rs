//! The contract's governance and its enjeux transversaux: the bodies and orientations of the
//! seed in the referential (counted against the seed text), meetings of the bodies recorded as
//! facts (an unknown body refused in French, nothing recorded), and a ledger published before
//! these parts were encoded completed by `init` without changing anything it held.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use engagements_app::referential::LoadedContract;
use engagements_app::{CommandError, CommandLine, Ledger, MetaDefaults};
use engagements_audit::history::history;
use engagements_domain::{Actor, Source};
use engagements_projections::AsOf;
use engagements_store::testing;

const SEED_FILE: &str = "000_ff42b5a4ed572933.txt";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn seed_lines() -> Option<Vec<String>> {
    let candidates = [
        std::env::var("ENGAGEMENTS_SEED").ok().map(PathBuf::from),
        Some(repo().join("../shared/seed").join(SEED_FILE)),
    ];
    let path = candidates.into_iter().flatten().find(|p| p.exists())?;
    let text = std::fs::read_to_string(path).ok()?;
    Some(text.lines().map(str::to_string).collect())
}

fn defaults() -> MetaDefaults {
    MetaDefaults {
        actor: Actor::new("Agent de test", "cabbalr"),
        source: Source::Cli,
        today: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
    }
}

async fn apply_line(ledger: &Ledger, line: &str) -> Result<engagements_app::Receipt, CommandError> {
    let parsed = CommandLine::parse(line).map_err(CommandError::Invalid)?;
    ledger
        .execute(parsed.command, &parsed.meta, &defaults())
        .await
}

async fn head(ledger: &Ledger) -> i64 {
    ledger
        .store()
        .head()
        .await
        .unwrap()
        .map(|h| h.position)
        .unwrap_or(0)
}

/// The « - » items of the seed's « 3 enjeux transversaux » part (l.766-866): the orientations,
/// read from the text, not from the data.
fn orientations_in_seed(seed: &[String]) -> Vec<(usize, String)> {
    let start = seed
        .iter()
        .position(|l| l.trim() == "3 enjeux transversaux")
        .expect("the « 3 enjeux transversaux » heading");
    let end = seed
        .iter()
        .position(|l| l.trim() == "Pilotage et mise en oeuvre de la stratégie")
        .expect("the governance heading");
    seed.iter()
        .enumerate()
        .take(end)
        .skip(start)
        .filter_map(|(index, line)| {
            line.strip_prefix("- ")
                .map(|item| (index + 1, item.trim().to_string()))
        })
        .collect()
}

#[test]
fn the_26_transversal_orientations_and_their_constats_are_the_seeds() {
    let loaded = LoadedContract::embedded().unwrap();
    let r = &loaded.referential;
    let data: Vec<(usize, String)> = r
        .enjeux_transversaux()
        .flat_map(|t| t.orientations.iter())
        .map(|o| (o.source_lines[0][0] as usize, o.text.clone()))
        .collect();
    assert_eq!(data.len(), 26, "{data:#?}");
    let per_enjeu: Vec<usize> = r
        .enjeux_transversaux()
        .map(|t| t.orientations.len())
        .collect();
    assert_eq!(per_enjeu, vec![9, 7, 10]);
    // Every enjeu transversal states baseline figures, each quoted from its line.
    for t in r.enjeux_transversaux() {
        assert!(!t.constats.is_empty(), "{} has no constat", t.id);
    }
    let Some(seed) = seed_lines() else {
        eprintln!("skipping the seed comparison: set ENGAGEMENTS_SEED or put ../shared/seed/{SEED_FILE} beside the repository");
        return;
    };
    let in_seed = orientations_in_seed(&seed);
    assert_eq!(in_seed.len(), 26, "{in_seed:#?}");
    assert_eq!(
        data, in_seed,
        "the orientations are the seed's, line by line"
    );
    for t in r.enjeux_transversaux() {
        for c in &t.constats {
            let line = &seed[c.source_lines[0][0] as usize - 1];
            assert!(
                line.contains(&c.quote),
                "{}: « {} » not on its line",
                t.id,
                c.quote
            );
            let written = c.value.normalize().to_string().replace('.', ",");
            let compact = c.quote.replace(' ', "");
            assert!(
                compact.contains(&written),
                "{}: {} not in « {} »",
                t.id,
                written,
                c.quote
            );
        }
    }
}

#[test]
fn the_governance_bodies_of_the_seed_are_encoded() {
    let loaded = LoadedContract::embedded().unwrap();
    let r = &loaded.referential;
    let ids: Vec<&str> = r.governance_bodies().map(|b| b.id.as_str()).collect();
    for wanted in [
        "copil-intercommunal",
        "cotech-intercommunal",
        "comite-financeurs",
        "copil-communal",
        "referents-signataires",
        "referents-communaux",
        "seminaire-elus",
        "delegues-prefet",
    ] {
        assert!(ids.contains(&wanted), "{wanted} missing from {ids:?}");
    }
    let copil = r.governance_body("copil-intercommunal").unwrap();
    assert_eq!(copil.min_meetings_per_year, Some(1));
    assert_eq!(
        r.governance_body("copil-communal")
            .unwrap()
            .min_meetings_per_year,
        Some(2)
    );
    let Some(seed) = seed_lines() else {
        return;
    };
    for body in r.governance_bodies() {
        let text: String = body
            .source_lines
            .iter()
            .flat_map(|[from, to]| seed[*from as usize - 1..*to as usize].iter().cloned())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            text.contains(&body.quote),
            "{}: « {} » is not on its lines",
            body.id,
            body.quote
        );
        assert!(
            body.source_lines
                .iter()
                .all(|[from, to]| (891..=990).contains(from) && (891..=990).contains(to)),
            "{}: cited outside the governance part (l.891-990)",
            body.id
        );
    }
}

#[tokio::test]
async fn a_governance_meeting_is_a_fact_and_an_unknown_body_is_refused_in_french() {
    for db in testing::all().await {
        let ledger = Ledger::open(&db.url).await.unwrap();
        LoadedContract::embedded()
            .unwrap()
            .publish(&ledger, &defaults())
            .await
            .unwrap();
        let before = head(&ledger).await;

        let error = apply_line(
            &ledger,
            r#"{"command":"record_governance_meeting","body":"copil-national","date":"2026-03-12","act_reference":"Relevé de décisions (fictif)","decisions":["Bilan 2025 présenté"]}"#,
        )
        .await
        .unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("instance de gouvernance inconnue « copil-national »")
                && text.contains("copil-intercommunal (Comité de Pilotage Intercommunal)"),
            "{}: {text}",
            db.backend
        );
        for bad in [
            // No decision, an empty act, a date outside the contract.
            r#"{"command":"record_governance_meeting","body":"copil-intercommunal","date":"2026-03-12","act_reference":"Relevé (fictif)","decisions":[]}"#,
            r#"{"command":"record_governance_meeting","body":"copil-intercommunal","date":"2026-03-12","act_reference":"  ","decisions":["Bilan"]}"#,
            r#"{"command":"record_governance_meeting","body":"copil-intercommunal","date":"2031-03-12","act_reference":"Relevé (fictif)","decisions":["Bilan"]}"#,
        ] {
            let error = apply_line(&ledger, bad).await.unwrap_err();
            assert!(
                error.to_string().contains("décision")
                    || error.to_string().contains("acte")
                    || error.to_string().contains("période du contrat"),
                "{error}"
            );
        }
        assert_eq!(
            head(&ledger).await,
            before,
            "refused commands record nothing"
        );

        let line = r#"{"command":"record_governance_meeting","body":"copil-intercommunal","date":"2026-03-12","act_reference":"Relevé de décisions du COPIL du 12 mars 2026 (fictif)","decisions":["Bilan 2025 du contrat présenté et validé","Programmation 2026 : priorité à l'emploi des jeunes"],"attendees":["Préfecture (fictif)","CABBALR (fictif)"],"meta":{"effective_date":"2026-03-12"}}"#;
        let receipt = apply_line(&ledger, line).await.unwrap();
        assert_eq!(receipt.events.len(), 1);
        // The same meeting again (another command) is refused.
        let parsed = CommandLine::parse(line).unwrap();
        let again = ledger
            .execute(
                parsed.command,
                &engagements_app::CommandMeta {
                    command_id: Some(uuid::Uuid::new_v4()),
                    ..parsed.meta
                },
                &defaults(),
            )
            .await
            .unwrap_err();
        assert!(again.to_string().contains("déjà enregistrée"), "{again}");

        let projections = ledger.projections().await.unwrap();
        let meetings = &projections.referential.meetings;
        assert_eq!(meetings.len(), 1, "{}", db.backend);
        assert_eq!(meetings[0].body, "copil-intercommunal");
        assert_eq!(meetings[0].decisions.len(), 2);
        // Figures are unchanged: a meeting changes no referential entry.
        assert_eq!(projections.referential.quartiers().count(), 25);

        let trail = history(ledger.store(), "contract-cabbalr-2024-2030", &AsOf::now())
            .await
            .unwrap();
        let entry = trail
            .entries
            .iter()
            .find(|e| e.event_type == "GovernanceMeetingRecorded")
            .expect("the meeting in the contract's history");
        assert!(
            entry.description.starts_with(
                "réunion de l'instance « Comité de Pilotage Intercommunal » le 12/03/2026"
            ) && entry
                .description
                .contains("décisions : Bilan 2025 du contrat présenté et validé"),
            "{}",
            entry.description
        );
    }
}

#[tokio::test]
async fn a_ledger_published_before_the_governance_parts_is_completed_by_init() {
    let db = testing::sqlite();
    let ledger = Ledger::open(&db.url).await.unwrap();
    let current = LoadedContract::embedded().unwrap();
    // What an older version of the data published: the same referential without the parts
    // encoded since (orientations, constats, governance bodies).
    let older = LoadedContract {
        referential: current.referential.without_supplements(),
        content_hash: "0".repeat(64),
        files: vec![],
    };
    older.publish(&ledger, &defaults()).await.unwrap();
    let before = {
        let projections = ledger.projections().await.unwrap();
        projections.referential.current().unwrap().clone()
    };
    assert_eq!(before.governance_bodies().count(), 0);
    let error = apply_line(
        &ledger,
        r#"{"command":"record_governance_meeting","body":"copil-intercommunal","date":"2026-03-12","act_reference":"Relevé (fictif)","decisions":["Bilan"]}"#,
    )
    .await
    .unwrap_err();
    assert!(
        error.to_string().contains("relancer `engagements init`"),
        "{error}"
    );

    let receipt = current.publish(&ledger, &defaults()).await.unwrap();
    assert_eq!(receipt.events.len(), 1, "one supplement event");
    let (r, hash) = {
        let after = ledger.projections().await.unwrap();
        (
            after.referential.current().unwrap().clone(),
            after.referential.content_hash.clone(),
        )
    };
    assert_eq!(r.governance_bodies().count(), 8);
    assert_eq!(
        r.enjeux_transversaux()
            .map(|t| t.orientations.len())
            .sum::<usize>(),
        26
    );
    assert_eq!(hash.as_deref(), Some(current.content_hash.as_str()));
    // Nothing else changed.
    assert_eq!(r.without_supplements(), before);
    // Running init again records nothing.
    let again = current.publish(&ledger, &defaults()).await.unwrap();
    assert!(again.duplicate);

    // Other data is still refused (an avenant's business).
    let mut other = current.referential.clone();
    other.quartiers.quartiers[0].population += 100;
    other.quartiers.totals.qpv_population += 100;
    other.quartiers.totals.total_population += 100;
    let other = LoadedContract {
        referential: other,
        content_hash: "1".repeat(64),
        files: vec![],
    };
    let error = other.publish(&ledger, &defaults()).await.unwrap_err();
    assert!(error.to_string().contains("avenants"), "{error}");
}
