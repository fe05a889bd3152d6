//! A seeded, realistic workload: the commands a contrat de ville's instructing services record
//! over a programmation, in the proportions of an appel à projets.
//!
//! Every name is generated and labelled fictitious. The same seed gives the same commands (ids
//! included), so that every system of a benchmark run records exactly the same work.
//!
//! Proportions (per porteur): one registration, on average 3 dossiers (1 to 5), each asking 1 to 3
//! financeurs; one decision per financeur asked (about 80% granted, 12% refused, 8% adjourned);
//! for a grant, its convention (above 23,000 €) or arrêté, an avance and a solde; a CRF for 70%
//! of dossiers: about 25 commands per porteur, each recording one event.

use chrono::NaiveDate;
use engagements_domain::dossier::{
    ActOfGrant, Decision, DossierCommand, FundingRequest, ObjectifWeight, PaymentKind,
    QuartierShare,
};
use engagements_domain::porteur::{PorteurCommand, PorteurKind, Rna, Siret};
use engagements_domain::{ActKind, ActRef, Actor, Amount, DossierId, Metadata, PorteurId, Source};
use uuid::Uuid;

/// A small, fast, seeded generator (SplitMix64): reproducible across machines and versions,
/// unlike a library generator whose algorithm may change.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low + 1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }

    /// A UUIDv7-shaped id drawn from the generator (time-ordered like the ledger's own ids).
    pub fn uuid(&mut self, sequence: u64) -> Uuid {
        let millis = 1_735_689_600_000u64 + sequence; // 2025-01-01, one id per millisecond
        let random = self.next_u64();
        let bytes = (u128::from(millis) << 80) | (u128::from(random) & ((1u128 << 64) - 1));
        uuid::Builder::from_u128(bytes)
            .with_version(uuid::Version::SortRand)
            .with_variant(uuid::Variant::RFC4122)
            .into_uuid()
    }
}

/// One command of the workload, addressed to its aggregate.
#[derive(Debug, Clone)]
pub enum WorkCommand {
    Porteur(PorteurId, PorteurCommand),
    Dossier(DossierId, DossierCommand),
}

/// A command with the metadata it is recorded with.
#[derive(Debug, Clone)]
pub struct WorkItem {
    pub command: WorkCommand,
    pub metadata: Metadata,
}

/// Financeurs and dispositifs of the CABBALR referential that dossiers ask.
const FUNDERS: &[(&str, &str)] = &[
    ("etat", "bop147-aap"),
    ("etat", "bop147-aap"),
    ("etat", "adultes-relais"),
    ("cabbalr", "fonds-cohesion-sociale"),
    ("cabbalr", "fonds-cohesion-sociale"),
    ("departement-pas-de-calais", "droit-commun"),
    ("region-hauts-de-france", "droit-commun"),
    ("caf", "droit-commun"),
];

/// QPV codes of the CABBALR contract (décret 2023-1314).
const QPV_CODES: &[&str] = &[
    "QN06204", "QN06205", "QN06206", "QN06207", "QN06208", "QN06209", "QN06210", "QN06211",
];

const ACTIONS: &[&str] = &[
    "Atelier d'écriture",
    "Accompagnement à la scolarité",
    "Permanence d'accès aux droits",
    "Chantier éducatif",
    "Médiation sociale de proximité",
    "Jardin partagé",
    "Atelier sociolinguistique",
    "Fête de quartier",
    "Prévention santé des jeunes",
    "Club de football féminin",
    "Ressourcerie solidaire",
    "Aide à la création d'entreprise",
];

const QUARTIERS: &[&str] = &[
    "Mont-Liébaut",
    "Centre",
    "Quartier du Stade",
    "Cité des Électriciens",
    "Résidence des Tilleuls",
    "Rue des Écoles",
];

const ASSOCIATION_WORDS: &[&str] = &[
    "Solidarité",
    "Les Amis du",
    "Horizon",
    "Trait d'Union",
    "Mieux Vivre au",
    "Jeunesse et Avenir du",
];

const INSTRUCTORS: &[(&str, &str)] = &[
    (
        "Chargée de mission politique de la ville (fictive)",
        "cabbalr",
    ),
    ("Déléguée du préfet (fictive)", "etat"),
    ("Agent instructeur DDETS (fictif)", "etat"),
    ("Chef de projet contrat de ville (fictif)", "cabbalr"),
];

/// The commands of one client, generated on demand.
pub struct Workload {
    rng: Rng,
    sequence: u64,
    queue: std::collections::VecDeque<WorkItem>,
}

impl Workload {
    /// The workload of client `client` of a run seeded with `seed`.
    pub fn new(seed: u64, client: u64) -> Self {
        Workload {
            rng: Rng::new(seed ^ client.wrapping_mul(0xA24B_AED4_963E_E407)),
            sequence: client << 32,
            queue: std::collections::VecDeque::new(),
        }
    }

    fn next_uuid(&mut self) -> Uuid {
        self.sequence += 1;
        self.rng.uuid(self.sequence)
    }

    fn metadata(&mut self, effective_date: NaiveDate, act: Option<ActRef>) -> Metadata {
        let (person, organisation) = *self.rng.pick(INSTRUCTORS);
        let command_id = self.next_uuid();
        let mut metadata = Metadata::new(
            Actor::new(person, organisation),
            Source::Api,
            effective_date,
        )
        .with_command_id(command_id);
        metadata.correlation_id = command_id;
        metadata.act = act;
        metadata
    }

    /// Queues the commands of one porteur: registration, dossiers, decisions.
    fn refill(&mut self) {
        let porteur_id = PorteurId(self.next_uuid());
        let register = self.register(porteur_id);
        let registered_on = date(2024, 1 + self.rng.between(0, 11) as u32, 15);
        let metadata = self.metadata(registered_on, None);
        self.queue.push_back(WorkItem {
            command: WorkCommand::Porteur(porteur_id, register),
            metadata,
        });
        for _ in 0..self.rng.between(1, 5) {
            self.queue_dossier(porteur_id);
        }
    }

    fn register(&mut self, porteur_id: PorteurId) -> PorteurCommand {
        let roll = self.rng.between(0, 99);
        let kind = match roll {
            0..=79 => PorteurKind::Association,
            80..=89 => PorteurKind::Commune,
            90..=94 => PorteurKind::Ccas,
            95..=97 => PorteurKind::Bailleur,
            _ => PorteurKind::Other,
        };
        let name = format!(
            "{} {} n°{} (fictive)",
            self.rng.pick(ASSOCIATION_WORDS),
            self.rng.pick(QUARTIERS),
            self.sequence & 0xffff_ffff
        );
        let rna = (kind == PorteurKind::Association)
            .then(|| Rna::try_from(format!("W62{:07}", self.rng.between(0, 9_999_999))).ok())
            .flatten();
        PorteurCommand::Register {
            porteur_id,
            name,
            kind,
            siret: Siret::try_from(siret(&mut self.rng)).ok(),
            rna,
        }
    }

    fn queue_dossier(&mut self, porteur_id: PorteurId) {
        let dossier_id = DossierId(self.next_uuid());
        let exercice = self.rng.between(2024, 2030) as i32;
        let total_budget_eur = self.rng.between(2_000, 120_000);
        let requests = self.requests(total_budget_eur);
        let filed_on = date(exercice - 1, 11, 1 + self.rng.between(0, 27) as u32);
        let file = DossierCommand::File {
            dossier_id,
            porteur_id,
            exercice,
            title: format!(
                "{} – {} {} (fictif)",
                self.rng.pick(ACTIONS),
                self.rng.pick(QUARTIERS),
                exercice
            ),
            description: "Action fictive générée pour mesurer le registre : ateliers \
                hebdomadaires ouverts aux habitants du quartier, en lien avec les écoles."
                .to_string(),
            total_budget: Amount::euros(total_budget_eur),
            quartiers: self.quartiers(),
            objectifs: self.objectifs(),
            requests: requests.clone(),
            pistes: Vec::new(),
        };
        self.push(WorkCommand::Dossier(dossier_id, file), filed_on, None);
        let comite = format!("CF-{exercice}-{:02}", self.rng.between(1, 4));
        let comite_on = date(exercice, 3, 1 + self.rng.between(0, 27) as u32);
        let act = ActRef {
            kind: ActKind::Comite,
            reference: format!("{comite} (fictif)"),
            date: Some(comite_on),
        };
        let mut grants = Vec::new();
        for request in requests {
            let decision = match self.rng.between(0, 99) {
                0..=79 => {
                    let cents = request.amount.cents() * self.rng.between(60, 100) as i64 / 100;
                    let amount = Amount::from_cents(cents).unwrap_or(Amount::ZERO);
                    grants.push((
                        request.financeur.clone(),
                        request.dispositif.clone(),
                        amount,
                    ));
                    Decision::Granted {
                        amount,
                        majoration_reason: None,
                    }
                }
                80..=91 => Decision::Refused,
                _ => Decision::Adjourned,
            };
            let decide = DossierCommand::Decide {
                dossier_id,
                financeur: request.financeur,
                dispositif: Some(request.dispositif),
                decision,
                comite: comite.clone(),
                decided_on: comite_on,
            };
            self.push(
                WorkCommand::Dossier(dossier_id, decide),
                comite_on,
                Some(act.clone()),
            );
        }
        for (financeur, dispositif, granted) in grants {
            self.queue_grant_follow_up(dossier_id, exercice, financeur, dispositif, granted);
        }
        if self.rng.chance(70) {
            let received_on = date(exercice + 1, 5, 1 + self.rng.between(0, 27) as u32);
            let crf = DossierCommand::ReceiveCrf {
                dossier_id,
                received_on,
                budget_realised: None,
                expenses: None,
                grant_used: None,
                comment: None,
            };
            self.push(WorkCommand::Dossier(dossier_id, crf), received_on, None);
        }
    }

    /// After a grant: the convention (above 23,000 €) or arrêté, the avance, then the solde.
    fn queue_grant_follow_up(
        &mut self,
        dossier_id: DossierId,
        exercice: i32,
        financeur: String,
        dispositif: String,
        granted: Amount,
    ) {
        let signed_on = date(exercice, 4, 1 + self.rng.between(0, 27) as u32);
        let kind = if granted.cents() > 2_300_000 {
            ActOfGrant::Convention
        } else {
            ActOfGrant::Arrete
        };
        let number = format!(
            "{}-{exercice}-{:05} (fictif)",
            financeur.to_uppercase(),
            self.rng.between(1, 99_999)
        );
        let sign = DossierCommand::SignConvention {
            dossier_id,
            financeur: financeur.clone(),
            kind,
            number: number.clone(),
            signed_on,
        };
        let act = ActRef {
            kind: if kind == ActOfGrant::Convention {
                ActKind::Convention
            } else {
                ActKind::Arrete
            },
            reference: number,
            date: Some(signed_on),
        };
        self.push(WorkCommand::Dossier(dossier_id, sign), signed_on, Some(act));
        let avance_cents = granted.cents() / 2;
        let payments = [
            (PaymentKind::Avance, avance_cents, date(exercice, 5, 15)),
            (
                PaymentKind::Solde,
                granted.cents() - avance_cents,
                date(exercice + 1, 6, 30),
            ),
        ];
        for (kind, cents, paid_on) in payments {
            if cents <= 0 || !self.rng.chance(90) {
                break;
            }
            let mandate_reference = format!(
                "MDT-{exercice}-{:06} (fictif)",
                self.rng.between(1, 999_999)
            );
            let pay = DossierCommand::RecordPayment {
                dossier_id,
                financeur: financeur.clone(),
                dispositif: Some(dispositif.clone()),
                kind,
                amount: Amount::from_cents(cents).unwrap_or(Amount::ZERO),
                paid_on,
                mandate_reference: mandate_reference.clone(),
            };
            let act = ActRef {
                kind: ActKind::Mandat,
                reference: mandate_reference,
                date: Some(paid_on),
            };
            self.push(WorkCommand::Dossier(dossier_id, pay), paid_on, Some(act));
        }
    }

    fn requests(&mut self, total_budget_eur: u64) -> Vec<FundingRequest> {
        let mut requests: Vec<FundingRequest> = Vec::new();
        for _ in 0..self.rng.between(1, 3) {
            let (financeur, dispositif) = *self.rng.pick(FUNDERS);
            // One dispositif per financeur keeps decisions unambiguous.
            if requests.iter().any(|r| r.financeur == financeur) {
                continue;
            }
            let cents =
                self.rng.between(500, total_budget_eur / 2) * 100 + self.rng.between(0, 1) * 50;
            requests.push(FundingRequest {
                financeur: financeur.to_string(),
                dispositif: dispositif.to_string(),
                amount: Amount::from_cents(cents as i64).unwrap_or(Amount::ZERO),
            });
        }
        requests
    }

    fn quartiers(&mut self) -> Vec<QuartierShare> {
        let first = self.rng.between(0, QPV_CODES.len() as u64 - 1) as usize;
        let count = self.rng.between(1, 3) as usize;
        (0..count)
            .map(|i| QuartierShare {
                quartier: QPV_CODES[(first + i) % QPV_CODES.len()].to_string(),
                share_pct: None,
            })
            .collect()
    }

    fn objectifs(&mut self) -> Vec<ObjectifWeight> {
        let first = self.rng.between(1, 35) as u32;
        (0..self.rng.between(1, 3) as u32)
            .map(|i| ObjectifWeight {
                objectif: (first + i - 1) % 35 + 1,
                weight: None,
            })
            .collect()
    }

    fn push(&mut self, command: WorkCommand, effective_date: NaiveDate, act: Option<ActRef>) {
        let metadata = self.metadata(effective_date, act);
        self.queue.push_back(WorkItem { command, metadata });
    }
}

impl Iterator for Workload {
    type Item = WorkItem;

    fn next(&mut self) -> Option<WorkItem> {
        if self.queue.is_empty() {
            self.refill();
        }
        self.queue.pop_front()
    }
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
}

/// A SIRET with a valid Luhn checksum (never in La Poste's range, which has its own rule).
fn siret(rng: &mut Rng) -> String {
    let mut digits: Vec<u32> = vec![4];
    digits.extend((0..12).map(|_| rng.between(0, 9) as u32));
    let sum_without_check: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            // The check digit will sit at the end, so these positions shift by one.
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    digits.push((10 - sum_without_check % 10) % 10);
    digits.iter().map(|d| char::from(b'0' + *d as u8)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_commands() {
        let a: Vec<String> = Workload::new(7, 1)
            .take(200)
            .map(|w| format!("{:?}", w.command))
            .collect();
        let b: Vec<String> = Workload::new(7, 1)
            .take(200)
            .map(|w| format!("{:?}", w.command))
            .collect();
        let c: Vec<String> = Workload::new(7, 2)
            .take(200)
            .map(|w| format!("{:?}", w.command))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn generated_sirets_are_valid() {
        let mut rng = Rng::new(1);
        for _ in 0..1_000 {
            let text = siret(&mut rng);
            assert!(Siret::try_from(text.clone()).is_ok(), "{text}");
        }
    }

    #[test]
    fn proportions_are_those_of_an_appel_a_projets() {
        let items: Vec<WorkItem> = Workload::new(42, 0).take(20_000).collect();
        let registrations = items
            .iter()
            .filter(|w| matches!(w.command, WorkCommand::Porteur(..)))
            .count();
        let filings = items
            .iter()
            .filter(|w| {
                matches!(
                    w.command,
                    WorkCommand::Dossier(_, DossierCommand::File { .. })
                )
            })
            .count();
        let per_porteur = items.len() as f64 / registrations as f64;
        assert!(
            (15.0..40.0).contains(&per_porteur),
            "{per_porteur} commands per porteur"
        );
        let dossiers_per_porteur = filings as f64 / registrations as f64;
        assert!(
            (2.5..3.5).contains(&dossiers_per_porteur),
            "{dossiers_per_porteur}"
        );
    }
}
