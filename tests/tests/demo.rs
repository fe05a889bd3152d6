//! The demo end to end, on both backends: `engagements demo` twice (the second records nothing
//! and prints the same summary), then every funding report checked against totals this test
//! computes on its own from the commands the demo sends.

use std::collections::BTreeMap;

use engagements_app::demo::{generate, DemoConfig};
use engagements_app::referential::LoadedContract;
use engagements_domain::dossier::{Decision, DossierCommand, GrantChange};
use engagements_domain::envelope::EnvelopeCommand;
use engagements_domain::{Amount, DossierId, LedgerCommand, PorteurId};
use engagements_e2e::{backends, run_json, run_ok};
use rust_decimal::Decimal;
use serde_json::Value;

/// (financeur, dispositif, exercice)
type Key = (String, String, i32);

#[derive(Default, Debug, Clone, Copy, PartialEq)]
struct Money {
    envelope: Decimal,
    requested: Decimal,
    granted: Decimal,
    paid: Decimal,
    reversed: Decimal,
}

#[derive(Default)]
struct Expected {
    by_key: BTreeMap<Key, Money>,
    by_porteur: BTreeMap<(String, i32), Decimal>,
    granted_by_year: BTreeMap<i32, Decimal>,
    lines_by_year: BTreeMap<i32, usize>,
}

/// Folds the demo's commands by hand, without the ledger's code.
fn expected(config: &DemoConfig) -> Expected {
    let referential = LoadedContract::embedded().unwrap().referential;
    let commands = generate(config, &referential);
    let mut dossiers: BTreeMap<DossierId, (PorteurId, i32, bool)> = BTreeMap::new();
    let mut requested: BTreeMap<(DossierId, String, String), Decimal> = BTreeMap::new();
    let mut granted: BTreeMap<(DossierId, String, String), Decimal> = BTreeMap::new();
    let mut out = Expected::default();
    let value = |a: &Amount| a.value();
    for demo in &commands {
        match &demo.command {
            LedgerCommand::Envelope(EnvelopeCommand::Open {
                financeur,
                dispositif,
                exercice,
                amount,
            }) => {
                let key = (financeur.clone(), dispositif.clone(), *exercice);
                out.by_key.entry(key).or_default().envelope += value(amount);
            }
            LedgerCommand::Dossier(command) => {
                let id = command.dossier_id();
                match command {
                    DossierCommand::File {
                        porteur_id,
                        exercice,
                        requests,
                        ..
                    } => {
                        dossiers.insert(id, (*porteur_id, *exercice, false));
                        for r in requests {
                            requested.insert(
                                (id, r.financeur.clone(), r.dispositif.clone()),
                                value(&r.amount),
                            );
                        }
                    }
                    DossierCommand::Withdraw { .. } => {
                        if let Some(d) = dossiers.get_mut(&id) {
                            d.2 = true;
                        }
                    }
                    DossierCommand::Decide {
                        financeur,
                        dispositif,
                        decision: Decision::Granted { amount, .. },
                        ..
                    } => {
                        let key = (id, financeur.clone(), dispositif.clone().unwrap());
                        granted.insert(key, value(amount));
                    }
                    DossierCommand::ChangeGrant {
                        financeur,
                        dispositif,
                        change,
                        amount,
                        ..
                    } => {
                        let key = (id, financeur.clone(), dispositif.clone().unwrap());
                        let line = granted.entry(key).or_default();
                        match change {
                            GrantChange::Increase => *line += value(&amount.unwrap()),
                            GrantChange::Reduce => *line -= value(&amount.unwrap()),
                            GrantChange::Cancel => *line = Decimal::ZERO,
                        }
                    }
                    DossierCommand::RecordPayment {
                        financeur,
                        dispositif,
                        amount,
                        ..
                    } => {
                        let year = dossiers[&id].1;
                        let key = (financeur.clone(), dispositif.clone().unwrap(), year);
                        out.by_key.entry(key).or_default().paid += value(amount);
                    }
                    DossierCommand::ReceiveReversement {
                        financeur,
                        dispositif,
                        amount,
                        ..
                    } => {
                        let year = dossiers[&id].1;
                        let key = (financeur.clone(), dispositif.clone().unwrap(), year);
                        out.by_key.entry(key).or_default().reversed += value(amount);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    for ((id, financeur, dispositif), amount) in &requested {
        let (porteur, year, withdrawn) = dossiers[id];
        *out.lines_by_year.entry(year).or_default() += 1;
        let money = out
            .by_key
            .entry((financeur.clone(), dispositif.clone(), year))
            .or_default();
        if !withdrawn {
            money.requested += amount;
        }
        let grant = granted
            .get(&(*id, financeur.clone(), dispositif.clone()))
            .copied()
            .unwrap_or_default();
        money.granted += grant;
        *out.granted_by_year.entry(year).or_default() += grant;
        *out.by_porteur
            .entry((porteur.to_string(), year))
            .or_default() += grant;
    }
    out
}

fn amount(row: &Value, column: &str) -> Decimal {
    match &row[column] {
        Value::String(text) => text.parse().unwrap(),
        Value::Null => Decimal::ZERO,
        other => panic!("{column} is not an amount string: {other}"),
    }
}

fn sum(rows: &Value, column: &str) -> Decimal {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| amount(r, column))
        .sum()
}

#[tokio::test]
async fn demo_reports_match_totals_computed_from_its_commands() {
    let config = DemoConfig::default();
    let expected = expected(&config);
    for db in backends().await {
        let first = run_ok(&db, &["demo"]);
        let again = run_ok(&db, &["demo"]);
        assert_eq!(
            String::from_utf8_lossy(&first.stdout),
            String::from_utf8_lossy(&again.stdout),
            "the second demo run changed the summary on {}",
            db.backend
        );
        assert!(String::from_utf8_lossy(&again.stderr).contains("nothing new"));
        assert!(String::from_utf8_lossy(&first.stdout).contains("FICTITIOUS"));
        for year in config.first_year..config.first_year + config.years {
            let y = year.to_string();
            let report =
                |view: &str| run_json(&db, &["report", view, "--year", &y, "--format", "json"]);
            let signatory = report("signatory");
            let mut seen = 0;
            for row in signatory.as_array().unwrap() {
                let key = (
                    row["financeur"].as_str().unwrap().to_string(),
                    row["dispositif"].as_str().unwrap().to_string(),
                    year,
                );
                let Some(want) = expected.by_key.get(&key) else {
                    assert!(amount(row, "granted_eur").is_zero(), "{row}");
                    continue;
                };
                seen += 1;
                let got = Money {
                    envelope: amount(row, "envelope_eur"),
                    requested: amount(row, "requested_eur"),
                    granted: amount(row, "granted_eur"),
                    paid: amount(row, "paid_eur"),
                    reversed: amount(row, "reversed_eur"),
                };
                assert_eq!(&got, want, "signatory row {key:?} on {}", db.backend);
            }
            let keys_this_year = expected.by_key.keys().filter(|k| k.2 == year).count();
            assert_eq!(seen, keys_this_year, "signatory rows of {year}");
            let granted = expected.granted_by_year[&year];
            assert!(granted > Decimal::ZERO);
            for view in ["signatory", "quartier", "objective", "commune", "porteur"] {
                let rows = if view == "signatory" {
                    signatory.clone()
                } else {
                    report(view)
                };
                assert_eq!(
                    sum(&rows, "granted_eur"),
                    granted,
                    "{view} {year} does not reconcile on {}",
                    db.backend
                );
            }
            for row in report("porteur").as_array().unwrap() {
                let key = (row["porteur_id"].as_str().unwrap().to_string(), year);
                assert_eq!(amount(row, "granted_eur"), expected.by_porteur[&key]);
            }
            let dossiers = report("dossiers");
            assert_eq!(
                dossiers.as_array().unwrap().len(),
                expected.lines_by_year[&year]
            );
        }
        let verify = run_ok(&db, &["verify"]);
        assert!(String::from_utf8_lossy(&verify.stdout).contains("chain:         OK"));
    }
}
