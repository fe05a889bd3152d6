//! The programmation round trip, on both backends: a varied programmation (porteurs with SIRET,
//! RNA or neither; declared quartier shares and objectif weights; favourable, reserved and
//! unfavourable opinions; grants, refusals, adjournments and lines still undecided; Dauphin codes
//! and EJ) is imported into ledger A; `export programmation` of A is imported into an empty
//! ledger B with the same envelopes; every report of B equals A's to the cent (the ids the
//! ledgers made up aside), and B's export is A's, byte for byte. Every name and figure is
//! fictitious.

use chrono::NaiveDate;
use engagements_app::referential::LoadedContract;
use engagements_app::{CommandMeta, Ledger, MetaDefaults};
use engagements_domain::{Actor, LedgerCommand, Source};
use engagements_interop::export::programmation::{programmation_export, write_programmation_csv};
use engagements_interop::import::programmation::{import_programmation, read_programmation};
use engagements_projections::{Projections, Table};
use engagements_store::testing::{self, TestDb};
use serde_json::json;

fn defaults() -> MetaDefaults {
    MetaDefaults {
        actor: Actor::new("Agent fictif", "cabbalr"),
        source: Source::Cli,
        today: NaiveDate::from_ymd_opt(2025, 12, 1).unwrap(),
    }
}

async fn ledger(db: &TestDb) -> Ledger {
    let ledger = Ledger::open(&db.url).await.unwrap();
    LoadedContract::embedded()
        .unwrap()
        .publish(&ledger, &defaults())
        .await
        .unwrap();
    for (financeur, dispositif) in [
        ("etat", "bop147-aap"),
        ("cabbalr", "fonds-cohesion-sociale"),
    ] {
        let command: LedgerCommand = serde_json::from_value(json!({"command":"open_envelope",
            "financeur":financeur,"dispositif":dispositif,"exercice":2025,"amount":"2000000"}))
        .unwrap();
        ledger
            .execute(command, &CommandMeta::default(), &defaults())
            .await
            .unwrap();
    }
    ledger
}

/// A SIRET with a valid Luhn checksum, from a 13-digit stem.
fn siret(stem: u64) -> String {
    let digits = format!("{stem:013}");
    for last in 0..10 {
        let candidate = format!("{digits}{last}");
        let sum: u32 = candidate
            .chars()
            .rev()
            .enumerate()
            .map(|(i, c)| {
                let d = c.to_digit(10).unwrap();
                if i % 2 == 1 {
                    if d * 2 > 9 {
                        d * 2 - 9
                    } else {
                        d * 2
                    }
                } else {
                    d
                }
            })
            .sum();
        if sum.is_multiple_of(10) {
            return candidate;
        }
    }
    unreachable!()
}

/// A programmation of 30 dossiers covering every shape the sheet can say.
fn varied_programmation(projections: &Projections) -> String {
    let qpv: Vec<String> = projections
        .referential
        .quartiers()
        .map(|q| q.id.clone())
        .take(8)
        .collect();
    let mut text = String::from(
        "dossier;porteur;siret;rna;porteur_kind;action;description;exercice;quartiers;objectifs;budget;financeur;dispositif;asked;proposed;opinion;granted;decision;comite;decided_on;code_dossier;ej\n",
    );
    for i in 0..30u64 {
        let porteur = i % 11;
        let (siret, rna) = match porteur % 3 {
            0 => (siret(9_990_000_100_000 + porteur), String::new()),
            1 => (String::new(), format!("W6230{porteur:05}")),
            _ => (String::new(), String::new()),
        };
        // Every kind, written as people do; left empty for some, inferred then.
        let kind = [
            "association",
            "Commune",
            "CCAS",
            "bailleur social",
            "Autre",
            "",
        ][(porteur % 6) as usize];
        let quartiers = match i % 4 {
            0 => qpv[(i % 8) as usize].clone(),
            1 => format!("{}:60|{}:40", qpv[0], qpv[(1 + i % 7) as usize]),
            2 => format!("{}|{}", qpv[2], qpv[3]),
            _ => format!("{}:33.5|{}:66.5", qpv[4], qpv[5]),
        };
        let objectifs = match i % 3 {
            0 => format!("{}", 1 + i % 35),
            1 => format!("{}:2|{}:1", 1 + i % 35, 1 + (i + 5) % 35),
            _ => format!("{}|{}", 1 + (i + 2) % 35, 1 + (i + 9) % 35),
        };
        let code = if i % 2 == 0 {
            format!("DA{:08}", 10_000 + i)
        } else {
            String::new()
        };
        let lines: &[(&str, &str)] = if i % 2 == 0 {
            &[
                ("etat", "bop147-aap"),
                ("cabbalr", "fonds-cohesion-sociale"),
            ]
        } else {
            &[("etat", "bop147-aap")]
        };
        for (n, (financeur, dispositif)) in lines.iter().enumerate() {
            let asked = 1_000 + 250 * ((i * 7 + n as u64 * 3) % 40);
            let shape = (i + n as u64) % 6;
            let (proposed, opinion, granted, decision) = match shape {
                0 => (
                    format!("{asked},00"),
                    "favorable",
                    format!("{asked},00"),
                    "",
                ),
                1 => (
                    format!("{},50", asked - 500),
                    "",
                    format!("{},50", asked - 500),
                    "accordé",
                ),
                2 => (
                    format!("{}", asked / 2),
                    "réservé",
                    String::new(),
                    "ajourné",
                ),
                3 => ("0".to_string(), "défavorable", String::new(), "refusé"),
                4 => (format!("{asked}"), "favorable", String::new(), ""),
                _ => (String::new(), "", String::new(), ""),
            };
            let decided = !granted.is_empty() || !decision.is_empty();
            let (comite, decided_on) = if decided {
                (
                    format!("CF-2025-0{}", 1 + i % 3),
                    format!("{:02}/03/2025", 10 + i % 9),
                )
            } else {
                (String::new(), String::new())
            };
            let ej = if *financeur == "etat" && i % 4 == 0 {
                format!("21034{:05}", 56_000 + i)
            } else {
                String::new()
            };
            text.push_str(&format!(
                "PROG-2025-{i:03};Association n°{porteur} (fictive);{siret};{rna};{kind};Action n°{i} (fictive);Description n°{i};2025;{quartiers};{objectifs};{budget},00;{financeur};{dispositif};{asked},00;{proposed};{opinion};{granted};{decision};{comite};{decided_on};{code};{ej}\n",
                budget = 60_000 + 100 * i,
            ));
        }
    }
    text
}

/// Every report of the ledger as text rows, without the ids each ledger made up, sorted.
fn reports(projections: &Projections) -> Vec<(String, Vec<String>)> {
    let subsidy = &projections.subsidy;
    let referential = &projections.referential;
    let tables: Vec<Table> = [None, Some(2025)]
        .into_iter()
        .flat_map(|year| {
            [
                subsidy.signatory_table(year, referential),
                subsidy.quartier_table(year, referential),
                subsidy.objective_table(year, referential),
                subsidy.commune_table(year, referential),
                subsidy.porteur_table(year, &projections.porteurs),
                subsidy.dossiers_table(year),
            ]
        })
        .collect();
    tables
        .iter()
        .map(|table| {
            let keep: Vec<usize> = (0..table.columns.len())
                .filter(|&i| !table.columns[i].ends_with("_id"))
                .collect();
            let mut rows: Vec<String> = table
                .rows
                .iter()
                .map(|row| {
                    keep.iter()
                        .map(|&i| row[i].to_text())
                        .collect::<Vec<_>>()
                        .join(";")
                })
                .collect();
            rows.sort();
            (table.name.clone(), rows)
        })
        .collect()
}

async fn export(ledger: &Ledger) -> Vec<u8> {
    let export = programmation_export(ledger, None).await.unwrap();
    let mut bytes = Vec::new();
    write_programmation_csv(&export, &mut bytes).unwrap();
    bytes
}

#[tokio::test]
async fn the_exported_programmation_imports_back_to_every_report() {
    let sources = testing::all().await;
    let targets = testing::all().await;
    for (a, b) in sources.iter().zip(&targets) {
        let source = ledger(a).await;
        let sheet_text = varied_programmation(&source.projections().await.unwrap());
        let sheet = read_programmation(sheet_text.as_bytes(), None).unwrap();
        let report = import_programmation(&source, &sheet, &defaults())
            .await
            .unwrap();
        assert_eq!(report.dossiers, 30);
        let exported = export(&source).await;

        let target = ledger(b).await;
        let sheet = read_programmation(&exported, None).unwrap();
        assert!(sheet.problems.is_empty(), "{:?}", sheet.problems);
        let again = import_programmation(&target, &sheet, &defaults())
            .await
            .unwrap();
        assert_eq!(
            (again.dossiers, again.decisions, again.opinions),
            (report.dossiers, report.decisions, report.opinions)
        );

        let expected = reports(&source.projections().await.unwrap());
        let found = reports(&target.projections().await.unwrap());
        let kinds = |projections: &Projections| {
            let mut porteurs: Vec<String> = projections
                .porteurs
                .by_id
                .values()
                .map(|p| format!("{};{:?};{:?};{:?}", p.name, p.kind, p.siret, p.rna))
                .collect();
            porteurs.sort();
            porteurs
        };
        let porteurs = kinds(&source.projections().await.unwrap());
        assert_eq!(porteurs.len(), 11);
        assert!(
            porteurs.iter().any(|p| p.contains(";Ccas;")),
            "{porteurs:?}"
        );
        assert_eq!(
            kinds(&target.projections().await.unwrap()),
            porteurs,
            "porteurs keep their kind, SIRET and RNA"
        );
        assert!(expected.iter().all(|(_, rows)| !rows.is_empty()));
        for ((name, want), (_, got)) in expected.iter().zip(&found) {
            assert_eq!(got, want, "report {name} differs after the round trip");
        }
        let reexported = export(&target).await;
        assert_eq!(
            String::from_utf8_lossy(&reexported),
            String::from_utf8_lossy(&exported)
        );
        // Imported again into the ledger it came from, the export records nothing.
        let sheet = read_programmation(&exported, None).unwrap();
        let nothing = import_programmation(&source, &sheet, &defaults())
            .await
            .unwrap();
        assert!(nothing.nothing_new(), "{nothing:?}");
        source.store().shutdown().await;
        target.store().shutdown().await;
    }
}
