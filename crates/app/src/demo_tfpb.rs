//! The TFPB part of the demo: for each bailleur of the contract, a convention and two tax years
//! (2025, 2026) of abatements, action programmes and spending, and the 2025 bilans with their
//! reviews. **Every amount is fictitious** and every label says so.
//!
//! Deterministic from the seed: the same seed gives the same ids, amounts and command ids, and a
//! second run records nothing (the group's last command id is already in the log). The data shows
//! each flag once at least: a year under-spent, a bilan not submitted, spending on a QPV that the
//! bailleur's convention does not cover, and one cross-landlord action (l.1070).

use chrono::NaiveDate;
use engagements_domain::referential::{OrganisationKind, QuartierKind};
use engagements_domain::tfpb::{
    TfpbActionId, TfpbActionSpec, TfpbConventionCommand, TfpbConventionId, TfpbProgrammeCommand,
    TfpbProgrammeKey, TfpbReviewer, TfpbShare, TfpbSpendingId,
};
use engagements_domain::{Actor, Amount, LedgerCommand, Source};
use uuid::Uuid;

use crate::error::CommandError;
use crate::ledger::Ledger;
use crate::meta::{CommandMeta, MetaDefaults};

/// The tax years the demo fills.
pub const DEMO_TFPB_YEARS: [i32; 2] = [2025, 2026];
/// QPV per bailleur.
const QPV_PER_BAILLEUR: usize = 2;

/// What the TFPB demo holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TfpbDemoSummary {
    pub conventions: usize,
    pub programmes: usize,
    pub actions: usize,
    pub commands_total: usize,
    /// 0 when the TFPB demo was already recorded.
    pub commands_recorded_now: usize,
}

/// Why the TFPB demo stopped.
#[derive(Debug, thiserror::Error)]
pub enum TfpbDemoError {
    #[error("no contract is published: record the referential first")]
    NoReferential,
    #[error("TFPB demo command n°{index} ({name}) was refused: {source}")]
    Refused {
        index: usize,
        name: String,
        source: CommandError,
    },
    #[error(transparent)]
    Command(#[from] CommandError),
}

/// A small deterministic generator (SplitMix64): the demo must not depend on a crate's
/// algorithm changing between versions.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn uuid(&mut self) -> Uuid {
        let bytes = (u128::from(self.next()) << 64 | u128::from(self.next())).to_be_bytes();
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// An amount of `base_cents` × (`min_pct`..`max_pct`)%, to the cent.
    fn around(&mut self, base_cents: i64, min_pct: u64, max_pct: u64) -> Amount {
        let pct = min_pct + self.below(max_pct - min_pct + 1);
        Amount::from_cents(base_cents * pct as i64 / 100).unwrap_or(Amount::ZERO)
    }
}

/// The fictitious label of an action on each axis.
fn label(axis_number: u32) -> &'static str {
    match axis_number {
        1 => "Présence renforcée de gardiens en soirée (fictif)",
        2 => "Formation des personnels de proximité à la médiation (fictif)",
        3 => "Sur-entretien des parties communes (fictif)",
        4 => "Enlèvement des encombrants et dépôts sauvages (fictif)",
        5 => "Tranquillité résidentielle : médiation de nuit (fictif)",
        6 => "Réunions de concertation avec les locataires (fictif)",
        7 => "Animations de pied d'immeuble et jardins partagés (fictif)",
        _ => "Petits travaux d'amélioration de la qualité de service (fictif)",
    }
}

/// One command of the demo with its deterministic metadata.
struct DemoLine {
    command: LedgerCommand,
    meta: CommandMeta,
}

/// Builds the commands; pure, from the referential and the seed.
fn generate(
    referential: &engagements_projections::referential::ReferentialView,
    seed: u64,
) -> Vec<DemoLine> {
    let mut random = Seeded(seed ^ 0x7466_7062); // "tfpb": separate from the other demo streams
    let bailleurs: Vec<String> = referential
        .organisations()
        .filter(|o| o.kind == OrganisationKind::Bailleur)
        .map(|o| o.id.clone())
        .collect();
    let qpv: Vec<(String, Vec<String>)> = referential
        .quartiers()
        .filter(|q| q.kind == QuartierKind::Qpv)
        .map(|q| (q.id.clone(), q.communes.clone()))
        .collect();
    let axes: Vec<(String, u32)> = referential
        .tfpb_axes()
        .map(|a| (a.id.clone(), a.number))
        .collect();
    let mut lines = Vec::new();
    if bailleurs.is_empty() || qpv.is_empty() || axes.is_empty() {
        return lines;
    }
    let mut line = |random: &mut Seeded, command, actor: &Actor, date: NaiveDate| {
        lines.push(DemoLine {
            command,
            meta: CommandMeta {
                actor: Some(actor.clone()),
                effective_date: Some(date),
                command_id: Some(random.uuid()),
                ..CommandMeta::default()
            },
        })
    };
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let state = Actor::new("Délégué(e) du préfet (fictif)", "etat");
    let epci = Actor::new(
        "Chef(fe) de projet politique de la ville (fictif)",
        "cabbalr",
    );
    // Each bailleur works in two QPV, one after the other around the list.
    let quartiers_of = |index: usize| -> Vec<String> {
        (0..QPV_PER_BAILLEUR)
            .map(|k| qpv[(index * QPV_PER_BAILLEUR + k) % qpv.len()].0.clone())
            .collect()
    };
    for (index, bailleur) in bailleurs.iter().enumerate() {
        let actor = Actor::new("Chargé(e) de mission TFPB (fictif)", bailleur.clone());
        let quartiers = quartiers_of(index);
        // The last bailleur's convention forgets its second QPV: its spending there is flagged.
        let covered: Vec<String> = if index + 1 == bailleurs.len() {
            quartiers[..1].to_vec()
        } else {
            quartiers.clone()
        };
        let mut signatories = vec!["etat".to_string(), "cabbalr".to_string()];
        for quartier in &covered {
            let communes = &qpv
                .iter()
                .find(|(id, _)| id == quartier)
                .map(|q| q.1.clone())
                .unwrap_or_default();
            for commune in communes {
                let id = format!("commune-{commune}");
                if referential.organisation(&id).is_some() && !signatories.contains(&id) {
                    signatories.push(id);
                }
            }
        }
        let convention_id = TfpbConventionId(random.uuid());
        line(
            &mut random,
            LedgerCommand::TfpbConvention(TfpbConventionCommand::Sign {
                convention_id,
                bailleur: bailleur.clone(),
                quartiers: covered,
                year_first: 2025,
                year_last: 2030,
                signatories,
                signed_on: date(2025, 3, 14),
                reference: format!(
                    "Convention d'utilisation de l'abattement TFPB de {} 2025-2030 (fictive)",
                    referential
                        .organisation(bailleur)
                        .map_or(bailleur.as_str(), |o| o.name.as_str())
                ),
            }),
            &actor,
            date(2025, 3, 14),
        );
        let partner = bailleurs
            .get((index + 1) % bailleurs.len())
            .filter(|p| *p != bailleur);
        for year in DEMO_TFPB_YEARS {
            for (q, quartier) in quartiers.iter().enumerate() {
                let key = TfpbProgrammeKey::new(bailleur.clone(), quartier.clone(), year);
                let dwellings = 200 + random.below(1_300) as u32;
                let abatement_cents = i64::from(dwellings) * (8_000 + random.below(6_000) as i64);
                line(
                    &mut random,
                    LedgerCommand::TfpbProgramme(TfpbProgrammeCommand::DeclareAbatement {
                        programme: key.clone(),
                        dwellings,
                        abatement_eur: Amount::from_cents(abatement_cents).unwrap_or(Amount::ZERO),
                    }),
                    &actor,
                    date(year, 1, 31),
                );
                let count = 3 + random.below(3) as usize;
                let first_axis = random.below(axes.len() as u64) as usize;
                for a in 0..count {
                    let (axis, number) = &axes[(first_axis + a * 3) % axes.len()];
                    let planned = random.around(abatement_cents / count as i64, 85, 115);
                    // The first action of the first QPV is shared with the next bailleur (l.1070).
                    let shares = match (a, q, partner) {
                        (0, 0, Some(partner)) => {
                            let own = Amount::from_cents(planned.cents() * 6 / 10)
                                .unwrap_or(Amount::ZERO);
                            vec![
                                TfpbShare {
                                    bailleur: bailleur.clone(),
                                    planned_eur: own,
                                },
                                TfpbShare {
                                    bailleur: partner.clone(),
                                    planned_eur: planned.saturating_sub(own),
                                },
                            ]
                        }
                        _ => Vec::new(),
                    };
                    let action_id = TfpbActionId(random.uuid());
                    line(
                        &mut random,
                        LedgerCommand::TfpbProgramme(TfpbProgrammeCommand::PlanAction {
                            programme: key.clone(),
                            action: TfpbActionSpec {
                                action_id,
                                axis: axis.clone(),
                                label: label(*number).to_string(),
                                description: Some(
                                    "Action et montants fictifs (données de démonstration)".into(),
                                ),
                                planned_eur: planned,
                                partners: vec!["Association de quartier (fictive)".into()],
                                shares,
                            },
                        }),
                        &actor,
                        date(year, 2, 15),
                    );
                    // Spending: the second QPV of every other bailleur under-spends.
                    let (low, high) = if q == 1 && index % 2 == 0 {
                        (40, 70)
                    } else {
                        (90, 110)
                    };
                    let realised = random.around(planned.cents(), low, high);
                    if !realised.is_zero() {
                        let spent_on = date(
                            year,
                            3 + random.below(8) as u32,
                            1 + random.below(28) as u32,
                        );
                        let spending_id = TfpbSpendingId(random.uuid());
                        let evidence = format!(
                            "Pièce justificative n° {}-{:04} (fictive)",
                            year,
                            random.below(10_000)
                        );
                        line(
                            &mut random,
                            LedgerCommand::TfpbProgramme(TfpbProgrammeCommand::ReportSpending {
                                programme: key.clone(),
                                action_id,
                                spending_id,
                                amount_eur: realised,
                                spent_on,
                                evidence,
                            }),
                            &actor,
                            spent_on,
                        );
                    }
                }
                // 2025 bilans: the first bailleur's second QPV is never submitted (late); one
                // gets remarks then a corrected submission; the others are accepted.
                if year == 2025 && !(index == 0 && q == 1) {
                    bilan(
                        &mut line,
                        &mut random,
                        &key,
                        &actor,
                        &state,
                        &epci,
                        index == 1 && q == 0,
                    );
                }
            }
        }
    }
    lines
}

/// A bilan submitted and reviewed; with `remarks`, the EPCI first asks for corrections.
fn bilan(
    line: &mut impl FnMut(&mut Seeded, LedgerCommand, &Actor, NaiveDate),
    random: &mut Seeded,
    key: &TfpbProgrammeKey,
    bailleur: &Actor,
    state: &Actor,
    epci: &Actor,
    remarks: bool,
) {
    let date = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default();
    let programme = || key.clone();
    let submit = |on| {
        LedgerCommand::TfpbProgramme(TfpbProgrammeCommand::SubmitBilan {
            programme: programme(),
            submitted_on: on,
            comment: Some("Bilan annuel (fictif)".into()),
        })
    };
    let accept = |reviewer: &Actor, kind, on| {
        LedgerCommand::TfpbProgramme(TfpbProgrammeCommand::AcceptBilan {
            programme: programme(),
            reviewer: reviewer.organisation.clone(),
            reviewer_kind: kind,
            reviewed_on: on,
        })
    };
    line(random, submit(date(4, 30)), bailleur, date(4, 30));
    if remarks {
        line(
            random,
            LedgerCommand::TfpbProgramme(TfpbProgrammeCommand::RemarkBilan {
                programme: programme(),
                reviewer: epci.organisation.clone(),
                reviewer_kind: TfpbReviewer::Epci,
                reviewed_on: date(5, 20),
                remarks: "Préciser les partenaires de l'action de médiation (remarque fictive)"
                    .into(),
            }),
            epci,
            date(5, 20),
        );
        line(random, submit(date(6, 10)), bailleur, date(6, 10));
    }
    line(
        random,
        accept(state, TfpbReviewer::State, date(6, 20)),
        state,
        date(6, 20),
    );
    line(
        random,
        accept(epci, TfpbReviewer::Epci, date(6, 25)),
        epci,
        date(6, 25),
    );
}

/// Records the TFPB demo on a ledger whose referential is published. Twice is harmless.
pub async fn record_tfpb_demo(
    ledger: &Ledger,
    seed: u64,
    defaults: &MetaDefaults,
) -> Result<TfpbDemoSummary, TfpbDemoError> {
    let lines = {
        let projections = ledger.projections().await?;
        if projections.referential.current().is_none() {
            return Err(TfpbDemoError::NoReferential);
        }
        generate(&projections.referential, seed)
    };
    let demo_defaults = MetaDefaults {
        source: Source::Demo,
        ..defaults.clone()
    };
    let last_id = lines.last().and_then(|l| l.meta.command_id);
    let recorded = match last_id {
        Some(id) => !ledger
            .store()
            .read_command(id)
            .await
            .map_err(CommandError::from)?
            .is_empty(),
        None => true,
    };
    let commands_total = lines.len();
    let mut commands_recorded_now = 0;
    if !recorded {
        let names: Vec<String> = lines.iter().map(|l| l.command.name()).collect();
        let group = lines.into_iter().map(|l| (l.command, l.meta)).collect();
        ledger
            .execute_atomic(group, &demo_defaults)
            .await
            .map_err(|(index, source)| TfpbDemoError::Refused {
                index,
                name: names.get(index).cloned().unwrap_or_default(),
                source,
            })?;
        commands_recorded_now = commands_total;
    }
    let projections = ledger.projections().await?;
    let tfpb = &projections.tfpb;
    Ok(TfpbDemoSummary {
        conventions: tfpb.conventions.len(),
        programmes: tfpb.programmes.len(),
        actions: tfpb.programmes.values().map(|p| p.actions.len()).sum(),
        commands_total,
        commands_recorded_now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic() {
        let mut a = Seeded(7);
        let mut b = Seeded(7);
        assert_eq!(a.uuid(), b.uuid());
        assert_eq!(a.around(100_000, 90, 110), b.around(100_000, 90, 110));
        assert_ne!(Seeded(7).next(), Seeded(8).next());
    }
}
