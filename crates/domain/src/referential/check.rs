//! The rules a referential must follow before it is published: unique ids, references that
//! resolve, totals that reconcile with what the source states, and limits on sizes.

use std::collections::HashSet;

use super::document::Referential;
use super::model::QuartierKind;

/// Most entries of one kind a referential may hold (a contract has tens; thousands is a mistake).
pub const ENTRIES_MAX: usize = 2_000;
/// Longest id accepted.
pub const ID_MAX_CHARS: usize = 64;
/// Longest name or title accepted; longer is refused, never truncated.
pub const TITLE_MAX_CHARS: usize = 500;
/// Problems listed in one error before the rest are counted only.
const PROBLEMS_SHOWN_MAX: usize = 20;

/// A referential that breaks its rules, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the referential of contract '{contract}' is inconsistent: {}", summary(.problems))]
pub struct ReferentialError {
    pub contract: String,
    pub problems: Vec<String>,
}

fn summary(problems: &[String]) -> String {
    let shown: Vec<&str> = problems
        .iter()
        .take(PROBLEMS_SHOWN_MAX)
        .map(String::as_str)
        .collect();
    let more = problems.len().saturating_sub(PROBLEMS_SHOWN_MAX);
    if more > 0 {
        format!("{}; and {more} more", shown.join("; "))
    } else {
        shown.join("; ")
    }
}

/// Collects problems instead of stopping at the first one, so one run shows them all.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn push(&mut self, problem: String) {
        self.0.push(problem);
    }

    fn unique_ids<'a>(&mut self, kind: &str, ids: impl Iterator<Item = &'a str>) {
        let mut seen = HashSet::new();
        let mut count = 0usize;
        for id in ids {
            count += 1;
            if id.is_empty() || id.chars().count() > ID_MAX_CHARS {
                self.push(format!(
                    "{kind} id '{id}' must have 1 to {ID_MAX_CHARS} characters"
                ));
            }
            if !seen.insert(id) {
                self.push(format!("{kind} '{id}' is listed twice"));
            }
        }
        if count > ENTRIES_MAX {
            self.push(format!("{count} {kind} entries, at most {ENTRIES_MAX}"));
        }
    }

    fn title(&mut self, kind: &str, id: &str, title: &str) {
        let chars = title.trim().chars().count();
        if chars == 0 || chars > TITLE_MAX_CHARS {
            self.push(format!(
                "{kind} '{id}': its name or title must have 1 to {TITLE_MAX_CHARS} characters (it has {chars})"
            ));
        }
    }

    fn reference(&mut self, from: &str, kind: &str, value: &str, exists: bool) {
        if !exists {
            self.push(format!("{from} refers to unknown {kind} '{value}'"));
        }
    }
}

impl Referential {
    /// Checks every rule, totals included (at publication); the error lists every problem.
    pub fn check(&self) -> Result<(), ReferentialError> {
        self.check_with(true)
    }

    /// Checks every rule but the stated totals, which an avenant (a quartier added, a population
    /// changed) makes historical: they stay as the signed text states them.
    pub fn check_structure(&self) -> Result<(), ReferentialError> {
        self.check_with(false)
    }

    fn check_with(&self, with_totals: bool) -> Result<(), ReferentialError> {
        let mut problems = Problems::default();
        self.check_ids(&mut problems);
        self.check_places(&mut problems);
        self.check_organisations(&mut problems);
        self.check_strategy(&mut problems);
        if with_totals {
            self.check_totals(&mut problems);
        }
        let period = &self.contract.period;
        if period.start_year > period.end_year {
            problems.push(format!(
                "the period {}-{} ends before it starts",
                period.start_year, period.end_year
            ));
        }
        if problems.0.is_empty() {
            Ok(())
        } else {
            Err(ReferentialError {
                contract: self.contract.id.clone(),
                problems: problems.0,
            })
        }
    }

    fn check_ids(&self, problems: &mut Problems) {
        problems.unique_ids("contract", std::iter::once(self.contract.id.as_str()));
        problems.unique_ids("quartier", self.quartiers().map(|q| q.id.as_str()));
        problems.unique_ids("commune", self.communes().map(|c| c.id.as_str()));
        problems.unique_ids("organisation", self.organisations().map(|o| o.id.as_str()));
        problems.unique_ids(
            "representative",
            self.representatives().map(|r| r.id.as_str()),
        );
        problems.unique_ids("enjeu", self.enjeux().map(|e| e.id.as_str()));
        problems.unique_ids("ambition", self.ambitions().map(|a| a.id.as_str()));
        problems.unique_ids(
            "objectif",
            self.strategy.objectifs.iter().map(|o| o.id.as_str()),
        );
        let numbers: Vec<String> = self
            .strategy
            .objectifs
            .iter()
            .map(|o| o.number.to_string())
            .collect();
        problems.unique_ids("objectif number", numbers.iter().map(String::as_str));
        problems.unique_ids("dispositif", self.dispositifs().map(|d| d.id.as_str()));
        problems.unique_ids("TFPB axis", self.tfpb_axes().map(|a| a.id.as_str()));
        problems.unique_ids(
            "governance body",
            self.governance_bodies().map(|b| b.id.as_str()),
        );
        for body in self.governance_bodies() {
            problems.title("governance body", &body.id, &body.name);
        }
        problems.title("contract", &self.contract.id, &self.contract.name);
    }

    fn check_places(&self, problems: &mut Problems) {
        for quartier in self.quartiers() {
            problems.title("quartier", &quartier.id, &quartier.name);
            if quartier.kind == QuartierKind::Qpv && quartier.code.is_none() {
                problems.push(format!("QPV '{}' has no code", quartier.id));
            }
            if quartier.communes.is_empty() {
                problems.push(format!("quartier '{}' names no commune", quartier.id));
            }
            for commune in &quartier.communes {
                let from = format!("quartier '{}'", quartier.id);
                problems.reference(&from, "commune", commune, self.commune(commune).is_some());
            }
        }
        for commune in self.communes() {
            problems.title("commune", &commune.id, &commune.name);
            let from = format!("commune '{}'", commune.id);
            for quartier in &commune.quartiers {
                problems.reference(
                    &from,
                    "quartier",
                    quartier,
                    self.quartier(quartier).is_some(),
                );
            }
            if let Some(organisation) = &commune.organisation {
                let exists = self.organisation(organisation).is_some();
                problems.reference(&from, "organisation", organisation, exists);
            }
        }
    }

    fn check_organisations(&self, problems: &mut Problems) {
        for organisation in self.organisations() {
            problems.title("organisation", &organisation.id, &organisation.name);
        }
        for representative in self.representatives() {
            problems.title("representative", &representative.id, &representative.name);
            let from = format!("representative '{}'", representative.id);
            for organisation in &representative.organisations {
                let exists = self.organisation(organisation).is_some();
                problems.reference(&from, "organisation", organisation, exists);
            }
        }
        for dispositif in self.dispositifs() {
            problems.title("dispositif", &dispositif.id, &dispositif.name);
            let from = format!("dispositif '{}'", dispositif.id);
            for financeur in &dispositif.financeurs {
                let exists = self.organisation(financeur).is_some();
                problems.reference(&from, "organisation", financeur, exists);
            }
        }
    }

    fn check_strategy(&self, problems: &mut Problems) {
        for ambition in self.ambitions() {
            problems.title("ambition", &ambition.id, &ambition.title);
            let from = format!("ambition '{}'", ambition.id);
            problems.reference(
                &from,
                "enjeu",
                &ambition.enjeu,
                self.enjeu(&ambition.enjeu).is_some(),
            );
        }
        for objectif in &self.strategy.objectifs {
            problems.title("objectif", &objectif.id, &objectif.title);
            let from = format!("objectif {}", objectif.number);
            let exists = self.ambition(&objectif.ambition).is_some();
            problems.reference(&from, "ambition", &objectif.ambition, exists);
            for mention in &objectif.dispositifs {
                if let Some(dispositif) = &mention.dispositif {
                    let exists = self.dispositif(dispositif).is_some();
                    problems.reference(&from, "dispositif", dispositif, exists);
                }
            }
        }
    }

    /// The populations the source states must be the sums of the quartiers' populations.
    fn check_totals(&self, problems: &mut Problems) {
        let totals = &self.quartiers.totals;
        let qpv = self.population_of(QuartierKind::Qpv);
        let qic = self.population_of(QuartierKind::Qic);
        for (what, stated, summed) in [
            ("QPV population", totals.qpv_population, qpv),
            ("QIC population", totals.qic_population, qic),
            ("total population", totals.total_population, qpv + qic),
        ] {
            if stated != summed {
                problems.push(format!(
                    "the {what} stated ({stated}) is not the sum of the quartiers' populations ({summed})"
                ));
            }
        }
    }
}
