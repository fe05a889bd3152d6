//! Property: for random command sequences on a small programmation, on SQLite and PostgreSQL,
//! every invariant holds after every command (accepted or refused), every view reconciles to the
//! cent with the grants computed independently here from the commands accepted, and folding the
//! log from scratch gives the same views as the live, incremental read model.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use engagements_app::referential::LoadedContract;
use engagements_app::{CommandLine, CommandMeta, Ledger, MetaDefaults};
use engagements_domain::{Actor, Source};
use engagements_projections::{Projections, Table};
use engagements_store::testing;
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

const FINANCEURS: [(&str, &str); 2] = [
    ("etat", "bop147-aap"),
    ("cabbalr", "fonds-cohesion-sociale"),
];
const DOSSIERS: usize = 4;

#[derive(Debug, Clone)]
enum Op {
    Grant(usize, usize, i64),
    Refuse(usize, usize),
    Increase(usize, usize, i64),
    Reduce(usize, usize, i64),
    Cancel(usize, usize),
    Convention(usize, usize),
    Pay(usize, usize, i64, bool),
    OrderReversement(usize, usize, i64),
    ReceiveReversement(usize, usize, i64),
    Authorise(usize, i64),
    Lower(usize, i64),
    Withdraw(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let d = 0..DOSSIERS;
    let f = 0..FINANCEURS.len();
    let cents = 1i64..3_000_000;
    prop_oneof![
        4 => (d.clone(), f.clone(), cents.clone()).prop_map(|(d, f, c)| Op::Grant(d, f, c)),
        1 => (d.clone(), f.clone()).prop_map(|(d, f)| Op::Refuse(d, f)),
        1 => (d.clone(), f.clone(), cents.clone()).prop_map(|(d, f, c)| Op::Increase(d, f, c)),
        1 => (d.clone(), f.clone(), cents.clone()).prop_map(|(d, f, c)| Op::Reduce(d, f, c)),
        1 => (d.clone(), f.clone()).prop_map(|(d, f)| Op::Cancel(d, f)),
        2 => (d.clone(), f.clone()).prop_map(|(d, f)| Op::Convention(d, f)),
        4 => (d.clone(), f.clone(), cents.clone(), any::<bool>()).prop_map(|(d, f, c, s)| Op::Pay(d, f, c, s)),
        1 => (d.clone(), f.clone(), cents.clone()).prop_map(|(d, f, c)| Op::OrderReversement(d, f, c)),
        1 => (d.clone(), f.clone(), cents.clone()).prop_map(|(d, f, c)| Op::ReceiveReversement(d, f, c)),
        1 => (f.clone(), cents.clone()).prop_map(|(f, c)| Op::Authorise(f, c)),
        1 => (f.clone(), cents.clone()).prop_map(|(f, c)| Op::Lower(f, c)),
        1 => d.prop_map(Op::Withdraw),
    ]
}

fn eur(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn defaults() -> MetaDefaults {
    MetaDefaults {
        actor: Actor::new("Agent de test", "cabbalr"),
        source: Source::Cli,
        today: NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
    }
}

async fn run(ledger: &Ledger, value: Value) -> bool {
    let line = CommandLine::parse(&value.to_string()).expect("generated commands parse");
    ledger
        .execute(line.command, &CommandMeta::default(), &defaults())
        .await
        .is_ok()
}

/// The command an operation sends.
fn command(op: &Op, dossiers: &[Uuid]) -> Value {
    let base =
        |d: usize, f: usize| json!({"dossier_id": dossiers[d], "financeur": FINANCEURS[f].0});
    let with = |mut v: Value, extra: Value| {
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    match op {
        Op::Grant(d, f, c) => with(
            base(*d, *f),
            json!({"command":"decide_subsidy","decision":{"outcome":"granted","amount":eur(*c)},"comite":"CF","decided_on":"2025-04-15"}),
        ),
        Op::Refuse(d, f) => with(
            base(*d, *f),
            json!({"command":"decide_subsidy","decision":{"outcome":"refused"},"comite":"CF","decided_on":"2025-04-15"}),
        ),
        Op::Increase(d, f, c) => with(
            base(*d, *f),
            json!({"command":"change_subsidy","change":"increase","amount":eur(*c),"reason":"r","decided_on":"2025-09-01"}),
        ),
        Op::Reduce(d, f, c) => with(
            base(*d, *f),
            json!({"command":"change_subsidy","change":"reduce","amount":eur(*c),"reason":"r","decided_on":"2025-09-01"}),
        ),
        Op::Cancel(d, f) => with(
            base(*d, *f),
            json!({"command":"change_subsidy","change":"cancel","reason":"r","decided_on":"2025-09-01"}),
        ),
        Op::Convention(d, f) => with(
            base(*d, *f),
            json!({"command":"sign_convention","kind":"convention","number":"C","signed_on":"2025-05-01"}),
        ),
        Op::Pay(d, f, c, solde) => with(
            base(*d, *f),
            json!({"command":"record_payment","kind": if *solde {"solde"} else {"avance"},"amount":eur(*c),"paid_on":"2025-06-01","mandate_reference":"M"}),
        ),
        Op::OrderReversement(d, f, c) => with(
            base(*d, *f),
            json!({"command":"order_reversement","amount":eur(*c),"reason":"r","ordered_on":"2025-10-01"}),
        ),
        Op::ReceiveReversement(d, f, c) => with(
            base(*d, *f),
            json!({"command":"receive_reversement","amount":eur(*c),"received_on":"2025-11-01"}),
        ),
        Op::Authorise(f, c) => {
            json!({"command":"authorise_over_commitment","financeur":FINANCEURS[*f].0,"dispositif":FINANCEURS[*f].1,"exercice":2025,"amount":eur(*c),"justification":"j"})
        }
        Op::Lower(f, c) => {
            json!({"command":"lower_envelope","financeur":FINANCEURS[*f].0,"dispositif":FINANCEURS[*f].1,"exercice":2025,"amount":eur(*c),"reason":"r"})
        }
        Op::Withdraw(d) => {
            json!({"command":"withdraw_dossier","dossier_id":dossiers[*d],"reason":"r"})
        }
    }
}

/// Grants as this test computes them from the commands accepted, in cents, per dossier × financeur.
#[derive(Default)]
struct Model {
    granted: BTreeMap<(usize, usize), i64>,
}

impl Model {
    fn accepted(&mut self, op: &Op) {
        match op {
            Op::Grant(d, f, c) | Op::Increase(d, f, c) => {
                *self.granted.entry((*d, *f)).or_default() += c
            }
            Op::Reduce(d, f, c) => *self.granted.entry((*d, *f)).or_default() -= c,
            Op::Cancel(d, f) => {
                self.granted.insert((*d, *f), 0);
            }
            _ => {}
        }
    }

    fn total(&self) -> i64 {
        self.granted.values().sum()
    }
}

fn column_cents(table: &Table, column: &str) -> i64 {
    let index = table.columns.iter().position(|c| c == column).unwrap();
    table
        .rows
        .iter()
        .map(|row| {
            let value: Decimal = row[index].to_text().parse().unwrap_or_default();
            i64::try_from((value * Decimal::ONE_HUNDRED).trunc()).unwrap()
        })
        .sum()
}

fn tables(p: &Projections) -> Vec<Table> {
    let s = &p.subsidy;
    let r = &p.referential;
    vec![
        s.signatory_table(None, r),
        s.quartier_table(None, r),
        s.objective_table(None, r),
        s.commune_table(None, r),
        s.porteur_table(None, &p.porteurs),
        s.dossiers_table(None),
    ]
}

/// Every rule of the issue, checked on the read model.
fn check_invariants(p: &Projections) {
    for dossier in p.subsidy.dossiers.values() {
        for line in dossier.lines.values() {
            assert!(
                line.net_paid() <= line.granted,
                "net paid above granted: {line:?}"
            );
            assert!(
                line.reversement_ordered <= line.paid,
                "reversement above paid: {line:?}"
            );
            assert!(line.reversement_received <= line.reversement_ordered);
        }
    }
    for (key, envelope) in &p.subsidy.envelopes {
        let granted: engagements_domain::Amount = p
            .subsidy
            .filed(Some(key.exercice))
            .flat_map(|d| d.lines.iter())
            .filter(|((f, d), _)| *f == key.financeur && *d == key.dispositif)
            .map(|(_, l)| l.granted)
            .sum();
        assert_eq!(granted, envelope.committed, "envelope {key} out of step");
        assert!(
            envelope.committed <= envelope.ceiling(),
            "envelope {key} exceeded"
        );
    }
}

async fn scenario(url: &str, envelope_cents: [i64; 2], ops: &[Op]) {
    let ledger = Ledger::open(url).await.unwrap();
    LoadedContract::embedded()
        .unwrap()
        .publish(&ledger, &defaults())
        .await
        .unwrap();
    let porteurs = [Uuid::now_v7(), Uuid::now_v7()];
    for p in porteurs {
        assert!(run(&ledger, json!({"command":"register_porteur","porteur_id":p,"name":"Association (fictive)","kind":"association"})).await);
    }
    for (f, (financeur, dispositif)) in FINANCEURS.iter().enumerate() {
        assert!(run(&ledger, json!({"command":"open_envelope","financeur":financeur,"dispositif":dispositif,"exercice":2025,"amount":eur(envelope_cents[f])})).await);
    }
    let dossiers: Vec<Uuid> = (0..DOSSIERS).map(|_| Uuid::now_v7()).collect();
    let layouts = [
        json!([{"quartier":"QN06209"}]),
        json!([{"quartier":"QN06209"},{"quartier":"QN06211"},{"quartier":"QIC-catorive"}]),
        json!([{"quartier":"QN06205","share_pct":"33.33"},{"quartier":"QN06216","share_pct":"66.67"}]),
        json!([{"quartier":"QN06213"},{"quartier":"QN06214"}]),
    ];
    let objectifs = [
        json!([{"objectif":1}]),
        json!([{"objectif":2},{"objectif":7},{"objectif":30}]),
        json!([{"objectif":3,"weight":"3"},{"objectif":4,"weight":"1"}]),
        json!([{"objectif":35},{"objectif":11}]),
    ];
    for (i, dossier) in dossiers.iter().enumerate() {
        assert!(run(&ledger, json!({"command":"file_dossier","dossier_id":dossier,"porteur_id":porteurs[i % 2],
            "exercice":2025,"title":"Action (fictive)","total_budget":"100000","quartiers":layouts[i],"objectifs":objectifs[i],
            "requests":[{"financeur":"etat","dispositif":"bop147-aap","amount":"30000"},
                        {"financeur":"cabbalr","dispositif":"fonds-cohesion-sociale","amount":"10000"}]})).await);
    }
    let mut model = Model::default();
    for op in ops {
        if run(&ledger, command(op, &dossiers)).await {
            model.accepted(op);
        }
        check_invariants(&ledger.projections().await.unwrap());
    }
    let live = ledger.projections().await.unwrap().clone();
    // Reconciliation to the cent with the grants computed here.
    let total = model.total();
    assert_eq!(live.subsidy.granted_total(None).cents(), total);
    let views = tables(&live);
    for (view, column) in [
        (0, "granted_eur"),
        (1, "granted_eur"),
        (2, "granted_eur"),
        (3, "granted_eur"),
        (4, "granted_eur"),
    ] {
        assert_eq!(
            column_cents(&views[view], column),
            total,
            "{} does not reconcile",
            views[view].name
        );
    }
    // Incremental fold == fold from scratch.
    let events = ledger.store().read_all(1, 1_000_000).await.unwrap();
    let scratch = Projections::fold(&events).unwrap();
    assert_eq!(scratch.position, live.position);
    assert_eq!(tables(&scratch), views);
    ledger.store().shutdown().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_views_reconcile_and_folds_agree(
        envelope_cents in [1_000_000i64..8_000_000, 500_000i64..3_000_000],
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            for db in testing::all().await {
                scenario(&db.url, envelope_cents, &ops).await;
            }
        });
    }
}
