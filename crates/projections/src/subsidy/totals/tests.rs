//! The tables built from the running totals against the walk over every dossier, after every
//! event of random logs of dossiers, contract avenants, porteurs and envelopes.

use std::collections::BTreeSet;

use engagements_domain::dossier::{DossierEvent, FundingRequest, ObjectifWeight, QuartierShare};
use engagements_domain::envelope::{EnvelopeEvent, EnvelopeKey};
use engagements_domain::porteur::{PorteurEvent, PorteurKind};
use engagements_domain::referential::{
    Approval, Commune, CommunesPart, ContractEvent, ContractInfo, Epci, Period, Quartier,
    QuartierKind, QuartiersPart,
};
use engagements_domain::{ActKind, ActRef, Amount, DossierId, PorteurId};
use proptest::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::test_log::{date, Log};
use crate::Projections;

const FINANCEURS: [&str; 3] = ["etat", "cabbalr", "region"];
const DISPOSITIFS: [&str; 2] = ["aap", "fonct"];
/// What dossiers name: ids, codes, a quartier known only after an avenant, an unknown one.
const QUARTIER_NAMES: [&str; 7] = ["QN1", "C1", "QN2", "C3", "QIC-a", "QN5", "C9"];
const COMMUNES: [&str; 3] = ["c1", "c2", "c3"];
const PORTEUR_NAMES: [&str; 3] = ["Alpha", "beta", "Zoé"];
const DOSSIERS: usize = 5;
const PORTEURS: usize = 3;

fn dossier_id(index: usize) -> DossierId {
    DossierId(Uuid::from_u128(index as u128 + 1))
}

fn porteur_id(index: usize) -> PorteurId {
    PorteurId(Uuid::from_u128(index as u128 + 101))
}

fn cents(value: u64) -> Amount {
    Amount::from_cents(value as i64).unwrap()
}

fn avenant() -> ActRef {
    ActRef {
        kind: ActKind::Avenant,
        reference: "Avenant n° 1".into(),
        date: None,
    }
}

/// A quartier of the referential: id, code, population, communes (indices into `COMMUNES`).
#[derive(Debug, Clone)]
struct QuartierSpec {
    id: &'static str,
    code: Option<&'static str>,
    population: u32,
    communes: Vec<usize>,
}

impl QuartierSpec {
    fn quartier(&self) -> Quartier {
        Quartier {
            id: self.id.into(),
            kind: QuartierKind::Qpv,
            code: self.code.map(str::to_string),
            name: format!("Quartier {}", self.id),
            name_variants: vec![],
            communes: self.communes.iter().map(|c| COMMUNES[*c].into()).collect(),
            population: self.population,
            population_change_since_2014: None,
            new_in_2024: None,
            source_lines: vec![],
            note: None,
        }
    }
}

/// A dossier's content: quartiers (index, share in hundredths of a percent), objectifs (number,
/// weight in tenths), requests (financeur, dispositif, cents).
#[derive(Debug, Clone)]
struct Content {
    quartiers: Vec<(usize, u32)>,
    with_shares: bool,
    objectifs: Vec<(u32, Option<u32>)>,
    requests: Vec<(usize, usize, u64)>,
}

impl Content {
    fn quartiers(&self) -> Vec<QuartierShare> {
        self.quartiers
            .iter()
            .map(|(q, share)| QuartierShare {
                quartier: QUARTIER_NAMES[*q].into(),
                share_pct: self.with_shares.then(|| Decimal::new(i64::from(*share), 2)),
            })
            .collect()
    }

    fn objectifs(&self) -> Vec<ObjectifWeight> {
        self.objectifs
            .iter()
            .map(|(objectif, weight)| ObjectifWeight {
                objectif: *objectif,
                weight: weight.map(|w| Decimal::new(i64::from(w), 1)),
            })
            .collect()
    }

    fn requests(&self) -> Vec<FundingRequest> {
        self.requests
            .iter()
            .map(|(f, d, amount)| FundingRequest {
                financeur: FINANCEURS[*f].into(),
                dispositif: DISPOSITIFS[*d].into(),
                amount: cents(*amount),
            })
            .collect()
    }
}

/// A financeur × dispositif of a dossier.
type Line = (usize, usize);

#[derive(Debug, Clone)]
enum Step {
    File {
        dossier: usize,
        porteur: usize,
        exercice: i32,
        content: Content,
    },
    Amend {
        dossier: usize,
        content: Content,
    },
    Withdraw(usize),
    Opinion(usize, Line, u64),
    Grant(usize, Line, u64),
    Refuse(usize, Line),
    Adjourn(usize, Line),
    Reduce(usize, Line, u64),
    Increase(usize, Line, u64),
    Cancel(usize, Line),
    Pay(usize, Line, u64),
    Crf(usize),
    OrderReversement(usize, Line, u64),
    ReceiveReversement(usize, Line, u64),
    Publish(Vec<QuartierSpec>),
    AddQuartier(QuartierSpec),
    ChangePopulation(&'static str, u32),
    AddCommune(usize),
    RegisterPorteur(usize, usize),
    OpenEnvelope(Line, i32, u64),
}

fn amount_cents() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), 1u64..10_000, 1u64..1_000_000_000]
}

fn line() -> impl Strategy<Value = Line> {
    (0..FINANCEURS.len(), 0..DISPOSITIFS.len())
}

fn content() -> impl Strategy<Value = Content> {
    (
        prop::collection::vec((0..QUARTIER_NAMES.len(), 0u32..10_000), 1..=3),
        any::<bool>(),
        prop::collection::vec((1u32..6, prop::option::of(0u32..50)), 1..=3),
        prop::collection::vec(
            (0..FINANCEURS.len(), 0..DISPOSITIFS.len(), amount_cents()),
            1..=3,
        ),
    )
        .prop_map(|(quartiers, with_shares, objectifs, requests)| Content {
            quartiers,
            with_shares,
            objectifs,
            requests,
        })
}

fn quartier_spec(
    ids: &'static [&'static str],
    codes: &'static [Option<&'static str>],
) -> impl Strategy<Value = QuartierSpec> {
    (
        prop::sample::select(ids),
        prop::sample::select(codes),
        prop_oneof![Just(0u32), 1u32..5_000],
        prop::collection::vec(0..COMMUNES.len(), 0..=2),
    )
        .prop_map(|(id, code, population, communes)| QuartierSpec {
            id,
            code,
            population,
            communes,
        })
}

/// The quartiers of a publication: QN1 (code C1), QN2, QN3 (code C3), QIC-a.
fn published_quartiers() -> impl Strategy<Value = Vec<QuartierSpec>> {
    let fixed = [
        ("QN1", Some("C1")),
        ("QN2", None),
        ("QN3", Some("C3")),
        ("QIC-a", None),
    ];
    prop::collection::vec(
        (
            prop_oneof![Just(0u32), 1u32..5_000],
            prop::collection::vec(0..COMMUNES.len(), 0..=2),
        ),
        4,
    )
    .prop_map(move |facts| {
        fixed
            .iter()
            .zip(facts)
            .map(|((id, code), (population, communes))| QuartierSpec {
                id,
                code: *code,
                population,
                communes,
            })
            .collect()
    })
}

fn step() -> impl Strategy<Value = Step> {
    let dossier = 0..DOSSIERS;
    prop_oneof![
        6 => (dossier.clone(), 0..PORTEURS, 2024i32..=2026, content()).prop_map(
            |(dossier, porteur, exercice, content)| Step::File { dossier, porteur, exercice, content }
        ),
        2 => (dossier.clone(), content()).prop_map(|(dossier, content)| Step::Amend { dossier, content }),
        1 => dossier.clone().prop_map(Step::Withdraw),
        1 => (dossier.clone(), line(), amount_cents()).prop_map(|(d, l, a)| Step::Opinion(d, l, a)),
        5 => (dossier.clone(), line(), amount_cents()).prop_map(|(d, l, a)| Step::Grant(d, l, a)),
        1 => (dossier.clone(), line()).prop_map(|(d, l)| Step::Refuse(d, l)),
        1 => (dossier.clone(), line()).prop_map(|(d, l)| Step::Adjourn(d, l)),
        1 => (dossier.clone(), line(), amount_cents()).prop_map(|(d, l, a)| Step::Reduce(d, l, a)),
        1 => (dossier.clone(), line(), amount_cents()).prop_map(|(d, l, a)| Step::Increase(d, l, a)),
        1 => (dossier.clone(), line()).prop_map(|(d, l)| Step::Cancel(d, l)),
        3 => (dossier.clone(), line(), amount_cents()).prop_map(|(d, l, a)| Step::Pay(d, l, a)),
        1 => dossier.clone().prop_map(Step::Crf),
        1 => (dossier.clone(), line(), amount_cents())
            .prop_map(|(d, l, a)| Step::OrderReversement(d, l, a)),
        1 => (dossier, line(), amount_cents())
            .prop_map(|(d, l, a)| Step::ReceiveReversement(d, l, a)),
        1 => published_quartiers().prop_map(Step::Publish),
        1 => quartier_spec(&["QN5", "C9", "QN2"], &[None, Some("QN2"), Some("C1"), Some("C9")])
            .prop_map(Step::AddQuartier),
        1 => (prop::sample::select(&["QN1", "QN2", "QN3", "QN5", "C9"][..]), 0u32..5_000)
            .prop_map(|(q, p)| Step::ChangePopulation(q, p)),
        1 => (0..COMMUNES.len()).prop_map(Step::AddCommune),
        2 => (0..PORTEURS, 0..PORTEUR_NAMES.len()).prop_map(|(p, n)| Step::RegisterPorteur(p, n)),
        1 => (line(), 2024i32..=2026, amount_cents()).prop_map(|(l, y, a)| Step::OpenEnvelope(l, y, a)),
    ]
}

impl Log {
    fn dossier(&mut self, event: DossierEvent) {
        self.push("dossier", event);
    }

    fn contract(&mut self, event: ContractEvent) {
        self.push("contract-test", event);
    }

    fn step(&mut self, step: &Step) {
        let on = date(2025, 3, 1);
        let line_event =
            |d: usize, (f, disp): Line| (dossier_id(d), FINANCEURS[f], DISPOSITIFS[disp]);
        match step.clone() {
            Step::File {
                dossier,
                porteur,
                exercice,
                content,
            } => self.dossier(DossierEvent::DossierFiled {
                dossier_id: dossier_id(dossier),
                porteur_id: porteur_id(porteur),
                exercice,
                title: "Action".into(),
                description: String::new(),
                total_budget: Amount::euros(1000),
                quartiers: content.quartiers(),
                objectifs: content.objectifs(),
                requests: content.requests(),
                pistes: vec![],
            }),
            Step::Amend { dossier, content } => self.dossier(DossierEvent::DossierAmended {
                dossier_id: dossier_id(dossier),
                title: "Action".into(),
                description: String::new(),
                total_budget: Amount::euros(1000),
                quartiers: content.quartiers(),
                objectifs: content.objectifs(),
                requests: content.requests(),
                pistes: vec![],
                reason: "test".into(),
            }),
            Step::Withdraw(d) => self.dossier(DossierEvent::DossierWithdrawn {
                dossier_id: dossier_id(d),
                reason: "test".into(),
            }),
            Step::Opinion(d, l, a) => {
                let (dossier_id, financeur, dispositif) = line_event(d, l);
                self.dossier(DossierEvent::OpinionGiven {
                    dossier_id,
                    financeur: financeur.into(),
                    dispositif: dispositif.into(),
                    opinion: engagements_domain::dossier::Opinion::Favourable,
                    proposed_amount: cents(a),
                    comment: String::new(),
                })
            }
            Step::Grant(d, l, a) => {
                let (dossier_id, financeur, dispositif) = line_event(d, l);
                self.dossier(DossierEvent::SubsidyGranted {
                    dossier_id,
                    financeur: financeur.into(),
                    dispositif: dispositif.into(),
                    amount: cents(a),
                    comite: "CF".into(),
                    decided_on: on,
                    majoration_reason: None,
                })
            }
            Step::Refuse(d, l) => {
                let (dossier_id, financeur, dispositif) = line_event(d, l);
                self.dossier(DossierEvent::SubsidyRefused {
                    dossier_id,
                    financeur: financeur.into(),
                    dispositif: dispositif.into(),
                    comite: "CF".into(),
                    decided_on: on,
                })
            }
            Step::Adjourn(d, l) => {
                let (dossier_id, financeur, dispositif) = line_event(d, l);
                self.dossier(DossierEvent::DecisionAdjourned {
                    dossier_id,
                    financeur: financeur.into(),
                    dispositif: dispositif.into(),
                    comite: "CF".into(),
                    decided_on: on,
                })
            }
            Step::Reduce(d, l, a) => {
                let (dossier_id, financeur, dispositif) = line_event(d, l);
                self.dossier(DossierEvent::SubsidyReduced {
                    dossier_id,
                    financeur: financeur.into(),
                    dispositif: dispositif.into(),
                    amount: Amount::euros(1),
                    granted_after: cents(a),
                    reason: "test".into(),
                    decided_on: on,
                })
            }
            Step::Increase(d, l, a) => {
                let (dossier_id, financeur, dispositif) = line_event(d, l);
                self.dossier(DossierEvent::SubsidyIncreased {
                    dossier_id,
                    financeur: financeur.into(),
                    dispositif: dispositif.into(),
                    amount: Amount::euros(1),
                    granted_after: cents(a),
                    reason: "test".into(),
                    decided_on: on,
                })
            }
            Step::Cancel(d, l) => {
                let (dossier_id, financeur, dispositif) = line_event(d, l);
                self.dossier(DossierEvent::SubsidyCancelled {
                    dossier_id,
                    financeur: financeur.into(),
                    dispositif: dispositif.into(),
                    amount: Amount::ZERO,
                    reason: "test".into(),
                    decided_on: on,
                })
            }
            Step::Pay(d, l, a) => {
                let (dossier_id, financeur, dispositif) = line_event(d, l);
                self.dossier(DossierEvent::PaymentRecorded {
                    dossier_id,
                    financeur: financeur.into(),
                    dispositif: dispositif.into(),
                    kind: engagements_domain::dossier::PaymentKind::Acompte,
                    amount: cents(a),
                    paid_on: on,
                    mandate_reference: "M".into(),
                })
            }
            Step::Crf(d) => self.dossier(DossierEvent::CrfReceived {
                dossier_id: dossier_id(d),
                received_on: on,
                budget_realised: None,
                expenses: None,
                grant_used: None,
                comment: None,
            }),
            Step::OrderReversement(d, l, a) => {
                let (dossier_id, financeur, dispositif) = line_event(d, l);
                self.dossier(DossierEvent::ReversementOrdered {
                    dossier_id,
                    financeur: financeur.into(),
                    dispositif: dispositif.into(),
                    amount: cents(a),
                    reason: "test".into(),
                    ordered_on: on,
                })
            }
            Step::ReceiveReversement(d, l, a) => {
                let (dossier_id, financeur, dispositif) = line_event(d, l);
                self.dossier(DossierEvent::ReversementReceived {
                    dossier_id,
                    financeur: financeur.into(),
                    dispositif: dispositif.into(),
                    amount: cents(a),
                    received_on: on,
                })
            }
            Step::Publish(quartiers) => self.publish(&quartiers),
            Step::AddQuartier(spec) => self.contract(ContractEvent::QuartierAdded {
                avenant: avenant(),
                quartier: spec.quartier(),
            }),
            Step::ChangePopulation(quartier, population) => {
                self.contract(ContractEvent::QuartierPopulationChanged {
                    avenant: avenant(),
                    quartier: quartier.into(),
                    population_before: 0,
                    population,
                })
            }
            Step::AddCommune(c) => self.contract(ContractEvent::CommuneAdded {
                avenant: avenant(),
                commune: commune(COMMUNES[c]),
            }),
            Step::RegisterPorteur(p, n) => self.push(
                "porteur",
                PorteurEvent::PorteurRegistered {
                    porteur_id: porteur_id(p),
                    name: PORTEUR_NAMES[n].into(),
                    kind: PorteurKind::Association,
                    siret: None,
                    rna: None,
                },
            ),
            Step::OpenEnvelope((f, d), exercice, a) => self.push(
                "envelope",
                EnvelopeEvent::EnvelopeOpened {
                    key: EnvelopeKey::new(FINANCEURS[f], DISPOSITIFS[d], exercice),
                    amount: cents(a),
                },
            ),
        }
    }

    /// The contract, its quartiers, and two of the three communes.
    fn publish(&mut self, quartiers: &[QuartierSpec]) {
        self.contract(ContractEvent::ContractPublished {
            contract: contract(),
            content_hash: "0".repeat(64),
            files: vec![],
        });
        self.contract(ContractEvent::QuartiersPublished {
            quartiers: QuartiersPart {
                quartiers: quartiers.iter().map(QuartierSpec::quartier).collect(),
                ..QuartiersPart::default()
            },
        });
        self.contract(ContractEvent::CommunesPublished {
            communes: CommunesPart {
                communes: vec![commune("c1"), commune("c2")],
                note: None,
            },
        });
    }
}

fn commune(id: &str) -> Commune {
    Commune {
        id: id.into(),
        name: format!("Commune {id}"),
        name_variants: vec![],
        organisation: None,
        quartiers: vec![],
        source_lines: vec![],
        note: None,
    }
}

fn contract() -> ContractInfo {
    ContractInfo {
        id: "test".into(),
        name: "Contrat de ville (test)".into(),
        epci: Epci {
            name: "EPCI".into(),
            short_name: "EPCI".into(),
            departement: "62".into(),
            population: 1000,
            communes_count: 3,
            source_lines: vec![],
            note: None,
        },
        period: Period {
            start_year: 2024,
            end_year: 2030,
            source_lines: vec![],
            note: None,
        },
        approval: Approval {
            body: "Conseil".into(),
            date: date(2024, 1, 1),
            executory_date: None,
            deliberation_reference: None,
            source_lines: vec![],
            note: None,
        },
        legal_basis: vec![],
        governance_bodies: vec![],
        evaluation: vec![],
        source_lines: vec![],
        note: None,
    }
}

/// Every aggregate table from the totals equals the walked one, for every exercice and for all.
fn check(p: &Projections) -> Result<(), TestCaseError> {
    let s = &p.subsidy;
    let r = &p.referential;
    let mut years: BTreeSet<i32> = s
        .filed(None)
        .filter_map(|d| d.filed.as_ref().map(|f| f.exercice))
        .collect();
    years.extend(s.envelopes.keys().map(|k| k.exercice));
    years.insert(2099);
    for year in std::iter::once(None).chain(years.into_iter().map(Some)) {
        let walked = s.signatory_table_walked(year, r);
        prop_assert_eq!(s.signatory_table_from_totals(year, r), Some(walked.clone()));
        prop_assert_eq!(s.signatory_table(year, r), walked);
        let walked = s.quartier_table_walked(year, r);
        prop_assert_eq!(s.quartier_table_from_totals(year, r), Some(walked.clone()));
        prop_assert_eq!(s.quartier_table(year, r), walked);
        let walked = s.objective_table_walked(year, r);
        prop_assert_eq!(s.objective_table_from_totals(year, r), Some(walked.clone()));
        prop_assert_eq!(s.objective_table(year, r), walked);
        let walked = s.commune_table_walked(year, r);
        prop_assert_eq!(s.commune_table_from_totals(year, r), Some(walked.clone()));
        prop_assert_eq!(s.commune_table(year, r), walked);
        let walked = s.porteur_table_walked(year, &p.porteurs);
        prop_assert_eq!(
            s.porteur_table_from_totals(year, &p.porteurs),
            Some(walked.clone())
        );
        prop_assert_eq!(s.porteur_table(year, &p.porteurs), walked);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// After every event (or every few, so that totals also build late and follow several
    /// events unobserved), each table from the running totals is the walked table, cell for
    /// cell; at some point the projections lose their totals, as a decoded snapshot has none.
    #[test]
    fn tables_from_totals_equal_the_walk_after_every_event(
        steps in prop::collection::vec(step(), 1..60),
        check_every in 1usize..=3,
        snapshot_at in 0usize..60,
    ) {
        let mut log = Log::default();
        for step in &steps {
            log.step(step);
        }
        let mut projections = Projections::default();
        for (index, event) in log.events.iter().enumerate() {
            projections.apply(event).unwrap();
            if index == snapshot_at {
                // What a snapshot decodes to: the totals are not serialised (`serde(skip)`).
                projections.subsidy.totals = super::ReportTotals::default();
            }
            if index % check_every == 0 {
                check(&projections)?;
            }
        }
        check(&projections)?;
        // A copy (as of a past position, say) carries its totals along.
        let copy = projections.clone();
        check(&copy)?;
    }
}

#[test]
fn a_total_past_the_amount_limit_falls_back_to_the_walk() {
    // Two grants of 600 billion euros on one financeur × dispositif × exercice: the walk keeps
    // the first (its sum stops at the limit of an amount), the totals cannot say which.
    let mut log = Log::default();
    for dossier in 0..2 {
        log.step(&Step::File {
            dossier,
            porteur: 0,
            exercice: 2025,
            content: Content {
                quartiers: vec![(0, 0)],
                with_shares: false,
                objectifs: vec![(1, None)],
                requests: vec![(0, 0, 60_000_000_000_000)],
            },
        });
        log.step(&Step::Grant(dossier, (0, 0), 60_000_000_000_000));
    }
    let p = Projections::fold(&log.events).unwrap();
    let (s, r) = (&p.subsidy, &p.referential);
    assert_eq!(s.signatory_table_from_totals(None, r), None);
    assert_eq!(s.porteur_table_from_totals(None, &p.porteurs), None);
    assert_eq!(
        s.signatory_table(None, r),
        s.signatory_table_walked(None, r)
    );
    assert_eq!(
        s.porteur_table(None, &p.porteurs),
        s.porteur_table_walked(None, &p.porteurs)
    );
    // The split tables add up in cents, as the walk does: still exact.
    assert_eq!(
        s.quartier_table_from_totals(None, r),
        Some(s.quartier_table_walked(None, r))
    );
}

#[test]
fn quartier_totals_follow_the_referential_and_refuse_another_one() {
    // Filed before the contract is published: an equal split over QN1 and QN2 (no population
    // known), then by population once published, then again after an avenant.
    let mut log = Log::default();
    log.step(&Step::File {
        dossier: 0,
        porteur: 0,
        exercice: 2025,
        content: Content {
            quartiers: vec![(0, 0), (2, 0)],
            with_shares: false,
            objectifs: vec![(1, None)],
            requests: vec![(0, 0, 10_000)],
        },
    });
    log.step(&Step::Grant(0, (0, 0), 10_000));
    let spec = |id, code, population| QuartierSpec {
        id,
        code,
        population,
        communes: vec![0],
    };
    let mut p = Projections::default();
    let fold = |p: &mut Projections, log: &Log, from: usize| {
        for event in &log.events[from..] {
            p.apply(event).unwrap();
        }
        log.events.len()
    };
    let mut seen = fold(&mut p, &log, 0);
    let granted = |p: &Projections| -> Vec<String> {
        let table = p
            .subsidy
            .quartier_table_from_totals(None, &p.referential)
            .expect("totals for the projections' own referential");
        assert_eq!(table, p.subsidy.quartier_table_walked(None, &p.referential));
        assert_eq!(
            p.subsidy.commune_table_from_totals(None, &p.referential),
            Some(p.subsidy.commune_table_walked(None, &p.referential))
        );
        table.rows.iter().map(|row| row[6].to_text()).collect()
    };
    assert_eq!(granted(&p), ["50.00", "50.00"]);

    log.step(&Step::Publish(vec![
        spec("QN1", Some("C1"), 1000),
        spec("QN2", None, 3000),
    ]));
    seen = fold(&mut p, &log, seen);
    assert_eq!(granted(&p), ["25.00", "75.00"]);

    let before_avenant = p.referential.clone();
    log.step(&Step::ChangePopulation("QN2", 1000));
    fold(&mut p, &log, seen);
    assert_eq!(granted(&p), ["50.00", "50.00"]);

    // Asked with another referential, the totals give nothing and the table is walked.
    assert_eq!(
        p.subsidy.quartier_table_from_totals(None, &before_avenant),
        None
    );
    assert_eq!(
        p.subsidy.commune_table_from_totals(None, &before_avenant),
        None
    );
    assert_eq!(
        p.subsidy.quartier_table(None, &before_avenant),
        p.subsidy.quartier_table_walked(None, &before_avenant)
    );
}

/// The cents of column `column` in `row` of `table` (0 when empty).
fn cents_at(table: &crate::Table, row: &[crate::Cell], column: &str) -> i64 {
    let index = table.columns.iter().position(|c| c == column).unwrap();
    match &row[index] {
        crate::Cell::Amount(amount) => amount.cents(),
        _ => 0,
    }
}

fn text_at(table: &crate::Table, row: &[crate::Cell], column: &str) -> String {
    let index = table.columns.iter().position(|c| c == column).unwrap();
    row[index].to_text()
}

/// Sum of an amount column.
fn column_total(table: &crate::Table, column: &str) -> i64 {
    table.rows.iter().map(|r| cents_at(table, r, column)).sum()
}

/// Every view splits line by line: each commune is exactly the sum of its quartiers' parts (each
/// row of the quartier view split equally among the quartier's communes), and the quartier,
/// objective and commune views add up to the signatory view, granted and paid.
fn check_splits_reconcile(p: &Projections) -> Result<(), TestCaseError> {
    let (s, r) = (&p.subsidy, &p.referential);
    for year in [None, Some(2024), Some(2025), Some(2026)] {
        let quartiers = s.quartier_table(year, r);
        let mut implied: std::collections::BTreeMap<(String, String), (i64, i64)> =
            std::collections::BTreeMap::new();
        for row in &quartiers.rows {
            let quartier = text_at(&quartiers, row, "quartier");
            let communes: Vec<String> = r
                .quartier(&quartier)
                .map(|q| q.communes.clone())
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| vec![String::new()]);
            let equal = vec![Decimal::ONE; communes.len()];
            let granted = crate::subsidy::split::split_cents(
                cents_at(&quartiers, row, "granted_eur"),
                &equal,
            );
            let paid =
                crate::subsidy::split::split_cents(cents_at(&quartiers, row, "paid_eur"), &equal);
            for (index, commune) in communes.into_iter().enumerate() {
                let key = (commune, text_at(&quartiers, row, "exercice"));
                let entry = implied.entry(key).or_default();
                entry.0 += granted[index];
                entry.1 += paid[index];
            }
        }
        implied.retain(|_, money| *money != (0, 0));
        let communes = s.commune_table(year, r);
        let shown: std::collections::BTreeMap<(String, String), (i64, i64)> = communes
            .rows
            .iter()
            .map(|row| {
                (
                    (
                        text_at(&communes, row, "commune"),
                        text_at(&communes, row, "exercice"),
                    ),
                    (
                        cents_at(&communes, row, "granted_eur"),
                        cents_at(&communes, row, "paid_eur"),
                    ),
                )
            })
            .collect();
        prop_assert_eq!(&shown, &implied);
        let signatory = s.signatory_table(year, r);
        let objectives = s.objective_table(year, r);
        let granted = column_total(&signatory, "granted_eur");
        let paid = column_total(&quartiers, "paid_eur");
        prop_assert_eq!(column_total(&quartiers, "granted_eur"), granted);
        for view in [&objectives, &communes] {
            prop_assert_eq!(column_total(view, "granted_eur"), granted);
            prop_assert_eq!(column_total(view, "paid_eur"), paid);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The commune view equals the sum of its quartiers' parts, and every split view adds up
    /// to the signatory view, whatever the log.
    #[test]
    fn the_commune_view_is_the_sum_of_its_quartiers_parts(
        steps in prop::collection::vec(step(), 1..60),
    ) {
        let mut log = Log::default();
        for step in &steps {
            log.step(step);
        }
        let mut projections = Projections::default();
        for event in &log.events {
            projections.apply(event).unwrap();
        }
        check_splits_reconcile(&projections)?;
    }
}

#[test]
fn a_dossier_of_two_lines_splits_each_line_in_every_view() {
    // Two lines of one cent over two quartiers of equal population in two communes: each line
    // gives its cent to the first quartier. Splitting the dossier's total (two cents) instead
    // would give a cent to each commune, and the commune view would differ from the quartier
    // view by a cent.
    let mut log = Log::default();
    log.publish(&[
        QuartierSpec {
            id: "QN1",
            code: Some("C1"),
            population: 100,
            communes: vec![0],
        },
        QuartierSpec {
            id: "QN2",
            code: None,
            population: 100,
            communes: vec![1],
        },
        QuartierSpec {
            id: "QN3",
            code: Some("C3"),
            population: 100,
            communes: vec![1],
        },
        QuartierSpec {
            id: "QIC-a",
            code: None,
            population: 100,
            communes: vec![1],
        },
    ]);
    let content = Content {
        quartiers: vec![(0, 0), (2, 0)],
        with_shares: false,
        objectifs: vec![(1, None), (2, None)],
        requests: vec![(0, 0, 1), (1, 0, 1)],
    };
    log.step(&Step::File {
        dossier: 0,
        porteur: 0,
        exercice: 2025,
        content,
    });
    log.step(&Step::Grant(0, (0, 0), 1));
    log.step(&Step::Grant(0, (1, 0), 1));
    let mut projections = Projections::default();
    for event in &log.events {
        projections.apply(event).unwrap();
    }
    let (s, r) = (&projections.subsidy, &projections.referential);
    let communes = s.commune_table(Some(2025), r);
    let by_commune: Vec<(String, i64)> = communes
        .rows
        .iter()
        .map(|row| {
            (
                text_at(&communes, row, "commune"),
                cents_at(&communes, row, "granted_eur"),
            )
        })
        .collect();
    assert_eq!(by_commune, vec![("c1".to_string(), 2)]);
    let objectives = s.objective_table(Some(2025), r);
    let by_objectif: Vec<i64> = objectives
        .rows
        .iter()
        .map(|row| cents_at(&objectives, row, "granted_eur"))
        .collect();
    assert_eq!(
        by_objectif,
        vec![2],
        "each line's cent goes to the first objectif"
    );
}
