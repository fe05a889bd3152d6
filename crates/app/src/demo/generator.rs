//! The demo programmation: porteurs, envelopes, CPO and dossiers from filing to reversement,
//! entirely fictitious and labelled so, generated from a seed. Pure: no I/O.
//!
//! Everything is planned in memory first (requests, opinions, decisions, changes), so that the
//! envelopes can be opened large enough and the right act (convention above 23,000 € per porteur,
//! financeur and exercice, arrêté below) signed before any payment; then the commands are sorted
//! by business date, each step dated after the ones it depends on.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use engagements_domain::cpo::{CpoCommand, CpoId, CpoLine};
use engagements_domain::dossier::{
    ActOfGrant, Decision, DossierCommand, FundingRequest, GrantChange, ObjectifWeight, Opinion,
    PaymentKind, QuartierShare,
};
use engagements_domain::envelope::{EnvelopeCommand, EnvelopeKey};
use engagements_domain::porteur::{PorteurCommand, PorteurKind, Rna};
use engagements_domain::referential::Referential;
use engagements_domain::{ActKind, ActRef, Actor, Amount, DossierId, LedgerCommand, PorteurId};
use rust_decimal::Decimal;

use super::random::{derived_uuid, Random};
use crate::meta::CommandMeta;

/// What the demo generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoConfig {
    pub seed: u64,
    pub first_year: i32,
    pub years: i32,
    pub dossiers_per_year: usize,
    pub porteurs: usize,
    /// CPO signed in each of the first two years.
    pub cpos_per_year: usize,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            seed: 2024,
            first_year: 2024,
            years: 3,
            dossiers_per_year: 150,
            porteurs: 40,
            cpos_per_year: 3,
        }
    }
}

/// One command of the demo with its metadata (deterministic command id and business date).
#[derive(Debug, Clone)]
pub struct DemoCommand {
    pub command: LedgerCommand,
    pub meta: CommandMeta,
}

/// The financeurs of the demo and the dispositif each funds under.
const STATE: &str = "etat";
const STATE_DISPOSITIFS: [&str; 3] = ["bop147-aap", "bop147-aap", "fipd"];
const CABBALR: (&str, &str) = ("cabbalr", "fonds-cohesion-sociale");
const DEPARTEMENT: (&str, &str) = (
    "departement-pas-de-calais",
    "aap-inclusion-durable-departement",
);
const CAF: (&str, &str) = ("caf", "ctg");
const COMMUNE_DISPOSITIF: &str = "pre";
const CPO_DISPOSITIF: &str = "bop147-aap";

const THEMES: [&str; 12] = [
    "Atelier d'écriture",
    "Jardin partagé",
    "Accompagnement à la scolarité",
    "Médiation sociale de proximité",
    "Sport et citoyenneté",
    "Point d'accès aux droits",
    "Insertion par l'activité économique",
    "Prévention santé",
    "Fête de quartier",
    "Numérique pour tous",
    "Mobilité vers l'emploi",
    "Égalité femmes-hommes",
];

#[derive(Debug, Clone)]
enum Outcome {
    Granted(i64),
    Refused,
    Adjourned,
}

#[derive(Debug, Clone)]
struct Line {
    financeur: String,
    dispositif: String,
    requested: i64,
    opinion: Opinion,
    proposed: i64,
    outcome: Outcome,
}

impl Line {
    fn granted(&self) -> Option<i64> {
        match self.outcome {
            Outcome::Granted(cents) => Some(cents),
            _ => None,
        }
    }
}

/// A later change to one line of a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    None,
    Cancelled,
    Reduced(i64),
    Increased(i64),
    Reversement(i64),
}

#[derive(Debug, Clone)]
struct Planned {
    id: DossierId,
    porteur: usize,
    year: i32,
    title: String,
    withdrawn: bool,
    amended: bool,
    quartiers: Vec<QuartierShare>,
    objectifs: Vec<ObjectifWeight>,
    /// Pistes d'action cited (`O12-I3`), of the dossier's first objectif.
    pistes: Vec<String>,
    lines: Vec<Line>,
    special: Vec<Special>,
    cpo: Option<CpoId>,
}

struct Dated {
    date: NaiveDate,
    command: LedgerCommand,
    actor: Option<Actor>,
    act: Option<ActRef>,
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day.clamp(1, 28)).unwrap_or_default()
}

fn eur(cents: i64) -> Amount {
    Amount::from_cents(cents).unwrap_or(Amount::ZERO)
}

/// Generates the demo's commands, in the order they are to be recorded.
pub fn generate(config: &DemoConfig, referential: &Referential) -> Vec<DemoCommand> {
    let mut builder = Builder::new(config, referential);
    builder.porteurs();
    let cpos = builder.cpos();
    let mut planned = Vec::new();
    for year in config.first_year..config.first_year + config.years {
        planned.extend(builder.plan_year(year, &cpos));
    }
    builder.pick_specials(&mut planned);
    builder.envelopes(&planned);
    for dossier in &planned {
        builder.emit_dossier(dossier, &planned);
    }
    builder.finish()
}

struct Builder<'a> {
    config: &'a DemoConfig,
    rng: Random,
    out: Vec<Dated>,
    quartiers: Vec<(String, Option<String>)>,
    objectifs: Vec<u32>,
    /// Per objectif number: how many intercommunal and communal pistes d'action it has.
    piste_counts: BTreeMap<u32, (usize, usize)>,
    porteur_ids: Vec<PorteurId>,
    last_year: i32,
}

/// A CPO of the demo: its id, porteur, first exercice and yearly amount in cents.
struct DemoCpo {
    id: CpoId,
    porteur: usize,
    first: i32,
    cents: i64,
}

impl<'a> Builder<'a> {
    fn new(config: &'a DemoConfig, referential: &'a Referential) -> Self {
        let quartiers = referential
            .quartiers
            .quartiers
            .iter()
            .map(|q| {
                let organisation = q
                    .communes
                    .iter()
                    .filter_map(|c| referential.commune(c))
                    .find_map(|c| c.organisation.clone());
                (q.id.clone(), organisation)
            })
            .collect();
        let objectifs = referential
            .strategy
            .objectifs
            .iter()
            .map(|o| o.number)
            .collect();
        let piste_counts = referential
            .strategy
            .objectifs
            .iter()
            .map(|o| {
                (
                    o.number,
                    (o.pistes_intercommunales.len(), o.pistes_communales.len()),
                )
            })
            .collect();
        Builder {
            config,
            rng: Random::new(config.seed),
            out: Vec::new(),
            quartiers,
            objectifs,
            piste_counts,
            porteur_ids: Vec::new(),
            last_year: config.first_year + config.years - 1,
        }
    }

    fn push(&mut self, date: NaiveDate, command: LedgerCommand, act: Option<ActRef>) {
        self.out.push(Dated {
            date,
            command,
            actor: None,
            act,
        });
    }

    fn porteurs(&mut self) {
        let seed = self.config.seed;
        for index in 0..self.config.porteurs {
            let porteur_id = PorteurId(derived_uuid(seed, "porteur", index as u64));
            let number = index + 1;
            let (kind, name) = match index % 20 {
                16 => (
                    PorteurKind::Ccas,
                    format!("CCAS de Démoville-{number} (fictif)"),
                ),
                17 => (
                    PorteurKind::Commune,
                    format!("Commune de Démoville-{number} (fictive)"),
                ),
                18 => (
                    PorteurKind::Bailleur,
                    format!("Habitat Démo n°{number} (bailleur fictif)"),
                ),
                19 => (
                    PorteurKind::Other,
                    format!("Régie de quartier Démo n°{number} (fictive)"),
                ),
                _ => (
                    PorteurKind::Association,
                    format!(
                        "Association {} n°{number} (fictive)",
                        THEMES[index % THEMES.len()]
                    ),
                ),
            };
            let rna = (kind == PorteurKind::Association)
                .then(|| Rna::try_from(format!("W6299{:05}", number)).ok())
                .flatten();
            self.porteur_ids.push(porteur_id);
            self.push(
                date(self.config.first_year, 1, 5),
                LedgerCommand::Porteur(PorteurCommand::Register {
                    porteur_id,
                    name,
                    kind,
                    siret: None,
                    rna,
                }),
                None,
            );
            self.push(
                date(self.config.first_year, 1, 8),
                LedgerCommand::Porteur(PorteurCommand::SignContratEngagementRepublicain {
                    porteur_id,
                    signed_on: date(self.config.first_year, 1, 8),
                }),
                None,
            );
        }
    }

    /// CPO signed in the first two years, with the State under BOP 147, on associations.
    fn cpos(&mut self) -> Vec<DemoCpo> {
        let mut cpos = Vec::new();
        let associations: Vec<usize> = (0..self.config.porteurs).filter(|i| i % 20 < 16).collect();
        for (year_index, first) in (self.config.first_year..).take(2).enumerate() {
            for k in 0..self.config.cpos_per_year {
                let serial = year_index * self.config.cpos_per_year + k;
                let Some(&porteur) = associations.get(serial) else {
                    continue;
                };
                let cents = self.rng.between(20, 45) as i64 * 1_000 * 100;
                let id = CpoId(derived_uuid(self.config.seed, "cpo", serial as u64));
                let schedule = (first..first + 3)
                    .map(|exercice| CpoLine {
                        exercice,
                        financeur: STATE.into(),
                        dispositif: CPO_DISPOSITIF.into(),
                        amount: eur(cents),
                    })
                    .collect();
                let number = format!("CPO-{first}-{:02} (fictive)", k + 1);
                self.push(
                    date(first, 2, 1),
                    LedgerCommand::Cpo(CpoCommand::Sign {
                        cpo_id: id,
                        porteur_id: self.porteur_ids[porteur],
                        title: format!("CPO {} (fictive)", THEMES[serial % THEMES.len()]),
                        number: number.clone(),
                        signed_on: date(first, 2, 1),
                        first_exercice: first,
                        schedule,
                    }),
                    Some(act(ActKind::Convention, &number, date(first, 2, 1))),
                );
                cpos.push(DemoCpo {
                    id,
                    porteur,
                    first,
                    cents,
                });
            }
        }
        // One revision: a later year's forecast raised by an avenant.
        if let Some(cpo) = cpos.iter().find(|c| c.first + 2 > self.last_year) {
            self.push(
                date(self.last_year, 3, 1),
                LedgerCommand::Cpo(CpoCommand::Revise {
                    cpo_id: cpo.id,
                    line: CpoLine {
                        exercice: cpo.first + 2,
                        financeur: STATE.into(),
                        dispositif: CPO_DISPOSITIF.into(),
                        amount: eur(cpo.cents + 200_000),
                    },
                    reason: "avenant n°1 : extension de l'action à un second quartier (fictif)"
                        .into(),
                }),
                None,
            );
        }
        cpos
    }

    fn plan_year(&mut self, year: i32, cpos: &[DemoCpo]) -> Vec<Planned> {
        let mut planned = Vec::new();
        for cpo in cpos
            .iter()
            .filter(|c| (c.first..c.first + 3).contains(&year))
        {
            let serial = planned.len();
            let mut dossier = self.plan_dossier(year, serial, cpo.porteur);
            dossier.title = format!("Action sous CPO, année {} (fictive)", year - cpo.first + 1);
            dossier.lines = vec![Line {
                financeur: STATE.into(),
                dispositif: CPO_DISPOSITIF.into(),
                requested: cpo.cents,
                opinion: Opinion::Favourable,
                proposed: cpo.cents,
                outcome: Outcome::Granted(cpo.cents),
            }];
            dossier.special = vec![Special::None];
            dossier.withdrawn = false;
            dossier.cpo = Some(cpo.id);
            planned.push(dossier);
        }
        while planned.len() < self.config.dossiers_per_year {
            let serial = planned.len();
            let porteur = self.rng.between(0, self.config.porteurs as u64 - 1) as usize;
            planned.push(self.plan_dossier(year, serial, porteur));
        }
        planned
    }

    fn plan_dossier(&mut self, year: i32, serial: usize, porteur: usize) -> Planned {
        let seed = self.config.seed;
        let index = (year as u64) * 10_000 + serial as u64;
        let id = DossierId(derived_uuid(seed, "dossier", index));
        let quartier_count = self.rng.between(1, 3) as usize;
        let mut chosen: Vec<(String, Option<String>)> = Vec::new();
        while chosen.len() < quartier_count {
            let candidate = self.rng.pick(&self.quartiers).clone();
            if !chosen.iter().any(|(id, _)| *id == candidate.0) {
                chosen.push(candidate);
            }
        }
        let shares: Option<&[i64]> = match (self.rng.chance(30), quartier_count) {
            (true, 1) => Some(&[100]),
            (true, 2) => Some(&[60, 40]),
            (true, _) => Some(&[50, 30, 20]),
            _ => None,
        };
        let quartiers = chosen
            .iter()
            .enumerate()
            .map(|(i, (q, _))| QuartierShare {
                quartier: q.clone(),
                share_pct: shares.map(|s| Decimal::from(s[i])),
            })
            .collect();
        let objectif_count = self.rng.between(1, 3) as usize;
        let weighted = self.rng.chance(30);
        let mut objectifs: Vec<ObjectifWeight> = Vec::new();
        while objectifs.len() < objectif_count {
            let number = *self.rng.pick(&self.objectifs);
            if !objectifs.iter().any(|o| o.objectif == number) {
                let weight = weighted.then(|| Decimal::from(objectif_count - objectifs.len()));
                objectifs.push(ObjectifWeight {
                    objectif: number,
                    weight,
                });
            }
        }
        let commune = chosen
            .iter()
            .find_map(|(_, organisation)| organisation.clone());
        let pistes = self.pistes_for(&objectifs, serial);
        let lines = self.plan_lines(commune);
        let special = vec![Special::None; lines.len()];
        Planned {
            id,
            porteur,
            year,
            title: format!(
                "{} n°{} (action fictive)",
                THEMES[(serial + year as usize) % THEMES.len()],
                serial + 1
            ),
            withdrawn: self.rng.chance(3),
            amended: false,
            quartiers,
            objectifs,
            pistes,
            lines,
            special,
            cpo: None,
        }
    }

    /// The pistes d'action a dossier cites: one intercommunal piste of its first objectif, and
    /// every other dossier a communal one too (chosen by the dossier's serial, without drawing
    /// from the random sequence, so that the rest of the demo is the same with or without them).
    fn pistes_for(&self, objectifs: &[ObjectifWeight], serial: usize) -> Vec<String> {
        let Some(first) = objectifs.first() else {
            return Vec::new();
        };
        let (intercommunal, communal) = self
            .piste_counts
            .get(&first.objectif)
            .copied()
            .unwrap_or_default();
        let mut pistes = Vec::new();
        if intercommunal > 0 {
            pistes.push(format!(
                "O{}-I{}",
                first.objectif,
                serial % intercommunal + 1
            ));
        }
        if communal > 0 && serial.is_multiple_of(2) {
            pistes.push(format!("O{}-C{}", first.objectif, serial % communal + 1));
        }
        pistes
    }

    fn plan_lines(&mut self, commune: Option<String>) -> Vec<Line> {
        let mut asked: Vec<(String, String, i64)> = Vec::new();
        let state_dispositif = *self.rng.pick(&STATE_DISPOSITIFS);
        asked.push((STATE.into(), state_dispositif.into(), self.euros(2, 32)));
        if self.rng.chance(60) {
            asked.push((CABBALR.0.into(), CABBALR.1.into(), self.euros(1, 15)));
        }
        if let Some(commune) = commune.filter(|_| self.rng.chance(40)) {
            asked.push((commune, COMMUNE_DISPOSITIF.into(), self.euros(1, 8)));
        }
        if self.rng.chance(15) {
            asked.push((
                DEPARTEMENT.0.into(),
                DEPARTEMENT.1.into(),
                self.euros(2, 12),
            ));
        }
        if self.rng.chance(15) {
            asked.push((CAF.0.into(), CAF.1.into(), self.euros(1, 10)));
        }
        asked
            .into_iter()
            .map(|(financeur, dispositif, requested)| {
                let draw = self.rng.between(0, 99);
                let (opinion, proposed) = match draw {
                    0..=79 => (Opinion::Favourable, round_100(requested * 9 / 10)),
                    80..=91 => (Opinion::Reserved, round_100(requested * 7 / 10)),
                    _ => (Opinion::Unfavourable, 0),
                };
                let outcome = match (opinion, self.rng.chance(50)) {
                    (Opinion::Unfavourable, _) => Outcome::Refused,
                    (Opinion::Reserved, true) => Outcome::Adjourned,
                    _ => Outcome::Granted(proposed.max(100_000)),
                };
                Line {
                    financeur,
                    dispositif,
                    requested,
                    opinion,
                    proposed,
                    outcome,
                }
            })
            .collect()
    }

    /// A request between `low` and `high` thousand euros, in cents, in steps of 500 €.
    fn euros(&mut self, low: u64, high: u64) -> i64 {
        (self.rng.between(low * 2, high * 2) as i64) * 500 * 100
    }

    /// One amendment, one cancellation, one reduction, one increase and one reversement, on
    /// State lines of ordinary (non-CPO) dossiers.
    fn pick_specials(&mut self, planned: &mut [Planned]) {
        let first = self.config.first_year;
        let state_lines = |year: i32, skip: usize| -> Option<(usize, usize)> {
            planned
                .iter()
                .enumerate()
                .filter(|(_, d)| d.year == year && !d.withdrawn && d.cpo.is_none())
                .flat_map(|(i, d)| {
                    d.lines
                        .iter()
                        .enumerate()
                        .filter(|(_, l)| l.financeur == STATE && l.granted().is_some())
                        .map(move |(j, _)| (i, j))
                })
                .nth(skip)
        };
        let cancel = state_lines(first, 0);
        let reduce = state_lines(first, 1);
        let reverse = state_lines(first, 2);
        let increase = state_lines(first + 1, 0);
        let amend = planned
            .iter()
            .position(|d| d.year == first + 1 && !d.withdrawn && d.cpo.is_none());
        if let Some((i, j)) = cancel {
            planned[i].special[j] = Special::Cancelled;
        }
        if let Some((i, j)) = reduce {
            let granted = planned[i].lines[j].granted().unwrap_or(0);
            planned[i].special[j] = Special::Reduced(round_100(granted / 10).max(10_000));
        }
        if let Some((i, j)) = reverse {
            let granted = planned[i].lines[j].granted().unwrap_or(0);
            planned[i].special[j] = Special::Reversement(round_100(granted / 5).max(10_000));
        }
        if let Some((i, j)) = increase {
            planned[i].special[j] = Special::Increased(150_000);
        }
        if let Some(i) = amend {
            planned[i].amended = true;
        }
    }

    /// Opens each envelope 5-15 % above what its decisions will commit, rounded up to 10,000 €.
    fn envelopes(&mut self, planned: &[Planned]) {
        let mut needs: BTreeMap<EnvelopeKey, i64> = BTreeMap::new();
        for dossier in planned.iter().filter(|d| !d.withdrawn) {
            for (line, special) in dossier.lines.iter().zip(&dossier.special) {
                let Some(granted) = line.granted() else {
                    continue;
                };
                let extra = match special {
                    Special::Increased(cents) => *cents,
                    _ => 0,
                };
                let key = EnvelopeKey::new(&line.financeur, &line.dispositif, dossier.year);
                *needs.entry(key).or_default() += granted + extra;
            }
        }
        for (key, need) in needs {
            let margin = self.rng.between(105, 115) as i64;
            let step = 1_000_000; // 10,000 € in cents
            let amount = (need * margin / 100).div_euclid(step) * step + step;
            self.push(
                date(key.exercice, 1, 15),
                LedgerCommand::Envelope(EnvelopeCommand::Open {
                    financeur: key.financeur.clone(),
                    dispositif: key.dispositif.clone(),
                    exercice: key.exercice,
                    amount: eur(amount),
                }),
                Some(act(
                    ActKind::Deliberation,
                    &format!(
                        "Budget primitif {} de {} (fictif)",
                        key.exercice, key.financeur
                    ),
                    date(key.exercice, 1, 10),
                )),
            );
        }
    }

    fn emit_dossier(&mut self, dossier: &Planned, all: &[Planned]) {
        let year = dossier.year;
        let day = self.rng.between(1, 28) as u32;
        let porteur_id = self.porteur_ids[dossier.porteur];
        let requests: Vec<FundingRequest> = dossier
            .lines
            .iter()
            .map(|l| FundingRequest {
                financeur: l.financeur.clone(),
                dispositif: l.dispositif.clone(),
                amount: eur(l.requested),
            })
            .collect();
        let asked: i64 = dossier.lines.iter().map(|l| l.requested).sum();
        let total_budget = eur(round_100(asked * self.rng.between(120, 200) as i64 / 100));
        self.push(
            date(year, 2, day),
            LedgerCommand::Dossier(DossierCommand::File {
                dossier_id: dossier.id,
                porteur_id,
                exercice: year,
                title: dossier.title.clone(),
                description: format!(
                    "Action fictive générée pour la démonstration (graine {}).",
                    self.config.seed
                ),
                total_budget,
                quartiers: dossier.quartiers.clone(),
                objectifs: dossier.objectifs.clone(),
                requests,
                pistes: dossier.pistes.clone(),
            }),
            None,
        );
        if dossier.amended {
            self.push(
                date(year, 3, 5),
                LedgerCommand::Dossier(DossierCommand::Amend {
                    dossier_id: dossier.id,
                    title: Some(format!("{} — version amendée", dossier.title)),
                    description: None,
                    total_budget: Some(eur(total_budget.cents() + 100_000)),
                    quartiers: None,
                    objectifs: None,
                    requests: None,
                    pistes: None,
                    reason: "budget prévisionnel actualisé par le porteur (fictif)".into(),
                }),
                None,
            );
        }
        if dossier.withdrawn {
            self.push(
                date(year, 3, 8),
                LedgerCommand::Dossier(DossierCommand::Withdraw {
                    dossier_id: dossier.id,
                    reason: "action abandonnée par le porteur (fictif)".into(),
                }),
                None,
            );
            return;
        }
        for (line, special) in dossier.lines.iter().zip(&dossier.special) {
            self.emit_line(dossier, line, *special, all);
        }
        if let Some(cpo_id) = dossier.cpo {
            self.push(
                date(year, 4, 20),
                LedgerCommand::Cpo(CpoCommand::ConfirmYear {
                    cpo_id,
                    exercice: year,
                    dossier_id: dossier.id,
                }),
                None,
            );
        }
        let paid_any = dossier.lines.iter().any(|l| l.granted().is_some());
        if paid_any && year < self.last_year {
            let day = self.rng.between(1, 28) as u32;
            self.push(
                date(year + 1, 3, day),
                LedgerCommand::Dossier(DossierCommand::ReceiveCrf {
                    dossier_id: dossier.id,
                    received_on: date(year + 1, 3, day),
                    budget_realised: None,
                    expenses: None,
                    grant_used: None,
                    comment: None,
                }),
                None,
            );
        }
    }

    fn emit_line(&mut self, dossier: &Planned, line: &Line, special: Special, all: &[Planned]) {
        let year = dossier.year;
        let dossier_id = dossier.id;
        let financeur = line.financeur.clone();
        let dispositif = Some(line.dispositif.clone());
        let opinion_day = self.rng.between(10, 28) as u32;
        self.push(
            date(year, 3, opinion_day),
            LedgerCommand::Dossier(DossierCommand::GiveOpinion {
                dossier_id,
                financeur: financeur.clone(),
                dispositif: dispositif.clone(),
                opinion: line.opinion,
                proposed_amount: eur(line.proposed),
                comment: String::new(),
            }),
            None,
        );
        let comite = format!("CF-{year}-01 (fictif)");
        let decision = match line.outcome {
            Outcome::Granted(cents) => Decision::Granted {
                amount: eur(cents),
                majoration_reason: None,
            },
            Outcome::Refused => Decision::Refused,
            Outcome::Adjourned => Decision::Adjourned,
        };
        let comite_act = act(ActKind::Comite, &comite, date(year, 4, 15));
        self.out.push(Dated {
            date: date(year, 4, 15),
            command: LedgerCommand::Dossier(DossierCommand::Decide {
                dossier_id,
                financeur: financeur.clone(),
                dispositif: dispositif.clone(),
                decision,
                comite: comite.clone(),
                decided_on: date(year, 4, 15),
            }),
            actor: Some(Actor::new(
                "Comité des financeurs (démo)",
                financeur.clone(),
            )),
            act: Some(comite_act),
        });
        let Some(granted) = line.granted() else {
            return;
        };
        let total = porteur_total(all, dossier.porteur, &financeur, year);
        let kind = if total > 2_300_000 {
            ActOfGrant::Convention
        } else {
            ActOfGrant::Arrete
        };
        let number = format!(
            "{}-{year}-{}-{} (fictif)",
            if kind == ActOfGrant::Convention {
                "CONV"
            } else {
                "ARR"
            },
            &dossier_id.to_string()[..8],
            financeur
        );
        let signed_on = date(year, 5, self.rng.between(2, 28) as u32);
        // Each financeur is asked once per demo dossier, so one act per granted line.
        self.push(
            signed_on,
            LedgerCommand::Dossier(DossierCommand::SignConvention {
                dossier_id,
                financeur: financeur.clone(),
                kind,
                number: number.clone(),
                signed_on,
            }),
            Some(act(ActKind::Convention, &number, signed_on)),
        );
        if special == Special::Cancelled {
            self.change(
                dossier,
                line,
                GrantChange::Cancel,
                None,
                "action non engagée (fictif)",
            );
            return;
        }
        let avance = granted / 2;
        let avance_on = date(year, 6, self.rng.between(2, 28) as u32);
        self.pay(dossier, line, PaymentKind::Avance, avance, avance_on);
        let mut granted_final = granted;
        match special {
            Special::Reduced(cents) => {
                granted_final -= cents;
                self.change(
                    dossier,
                    line,
                    GrantChange::Reduce,
                    Some(cents),
                    "réalisation partielle (fictif)",
                );
            }
            Special::Increased(cents) => {
                granted_final += cents;
                self.change(
                    dossier,
                    line,
                    GrantChange::Increase,
                    Some(cents),
                    "public élargi (fictif)",
                );
            }
            _ => {}
        }
        if year >= self.last_year {
            return;
        }
        let solde_on = date(year + 1, 4, self.rng.between(2, 28) as u32);
        self.pay(
            dossier,
            line,
            PaymentKind::Solde,
            granted_final - avance,
            solde_on,
        );
        if let Special::Reversement(cents) = special {
            let reason = "trop-perçu constaté au compte rendu financier (fictif)";
            self.push(
                date(year + 1, 9, 1),
                LedgerCommand::Dossier(DossierCommand::OrderReversement {
                    dossier_id,
                    financeur: financeur.clone(),
                    dispositif: dispositif.clone(),
                    amount: eur(cents),
                    reason: reason.into(),
                    ordered_on: date(year + 1, 9, 1),
                }),
                Some(act(
                    ActKind::Arrete,
                    "Titre de recette n°TR-1 (fictif)",
                    date(year + 1, 9, 1),
                )),
            );
            self.push(
                date(year + 1, 10, 15),
                LedgerCommand::Dossier(DossierCommand::ReceiveReversement {
                    dossier_id,
                    financeur,
                    dispositif,
                    amount: eur(cents),
                    received_on: date(year + 1, 10, 15),
                }),
                None,
            );
        }
    }

    fn pay(
        &mut self,
        dossier: &Planned,
        line: &Line,
        kind: PaymentKind,
        cents: i64,
        on: NaiveDate,
    ) {
        if cents <= 0 {
            return;
        }
        let mandate = format!(
            "MDT-{}-{} (fictif)",
            on.format("%Y%m%d"),
            &dossier.id.to_string()[..8]
        );
        self.push(
            on,
            LedgerCommand::Dossier(DossierCommand::RecordPayment {
                dossier_id: dossier.id,
                financeur: line.financeur.clone(),
                dispositif: Some(line.dispositif.clone()),
                kind,
                amount: eur(cents),
                paid_on: on,
                mandate_reference: mandate.clone(),
            }),
            Some(act(ActKind::Mandat, &mandate, on)),
        );
    }

    fn change(
        &mut self,
        dossier: &Planned,
        line: &Line,
        change: GrantChange,
        cents: Option<i64>,
        reason: &str,
    ) {
        let on = date(dossier.year, 9, 15);
        self.push(
            on,
            LedgerCommand::Dossier(DossierCommand::ChangeGrant {
                dossier_id: dossier.id,
                financeur: line.financeur.clone(),
                dispositif: Some(line.dispositif.clone()),
                change,
                amount: cents.map(eur),
                reason: reason.into(),
                decided_on: on,
            }),
            Some(act(
                ActKind::Comite,
                &format!("CF-{}-02 (fictif)", dossier.year),
                on,
            )),
        );
    }

    /// Sorts by business date (stable: same-day commands keep their planned order) and gives
    /// each command its deterministic id.
    fn finish(mut self) -> Vec<DemoCommand> {
        self.out.sort_by_key(|d| d.date);
        let seed = self.config.seed;
        self.out
            .into_iter()
            .enumerate()
            .map(|(index, dated)| DemoCommand {
                command: dated.command,
                meta: CommandMeta {
                    actor: Some(
                        dated
                            .actor
                            .unwrap_or_else(|| Actor::new("Démonstration (fictif)", "cabbalr")),
                    ),
                    effective_date: Some(dated.date),
                    act: dated.act,
                    command_id: Some(derived_uuid(seed, "command", index as u64)),
                    ..CommandMeta::default()
                },
            })
            .collect()
    }
}

fn act(kind: ActKind, reference: &str, on: NaiveDate) -> ActRef {
    ActRef {
        kind,
        reference: reference.to_string(),
        date: Some(on),
    }
}

fn round_100(cents: i64) -> i64 {
    (cents / 10_000) * 10_000
}

/// What `financeur` grants `porteur` in `year`, increases included (the 23,000 € rule's base).
fn porteur_total(all: &[Planned], porteur: usize, financeur: &str, year: i32) -> i64 {
    all.iter()
        .filter(|d| d.porteur == porteur && d.year == year && !d.withdrawn)
        .flat_map(|d| d.lines.iter().zip(&d.special))
        .filter(|(l, _)| l.financeur == financeur)
        .map(|(l, s)| {
            let extra = match s {
                Special::Increased(c) => *c,
                _ => 0,
            };
            l.granted().unwrap_or(0) + extra
        })
        .sum()
}
