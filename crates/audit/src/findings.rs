//! Findings: rule-based anomalies, each with the positions of the events that prove it.
//!
//! The rules fold the log on their own (not the report projections), so that every fact keeps the
//! position that recorded it, and so that facts the domain should have refused (a payment above
//! its grant) are still seen if they ever got in. Payloads are read as JSON, field by field: a
//! family of events added later is ignored until a rule reads it.
//!
//! Every rule is documented in `docs/audit.md` and in [`RULES`]; each has a test that triggers
//! it and one that does not. "Today" for the rules with a deadline is the reference date: the
//! `--effective-on` date, else the `--as-of` date, else the current date.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;

use chrono::{Months, NaiveDate};
use engagements_domain::RecordedEvent;
use engagements_projections::{AsOf, Table};
use rust_decimal::Decimal;
use serde_json::Value;

/// Above this amount (euros, per porteur, financeur and exercice) a convention is mandatory
/// before payment (loi 2000-321 art. 10, décret 2001-495), and publication in open data too.
pub const CONVENTION_THRESHOLD_EUR: Decimal = Decimal::from_parts(23_000, 0, 0, false, 0);
/// Months after the end of the exercice by which the CRF is due (Cerfa 15059).
pub const CRF_DUE_MONTHS: u32 = 6;
/// Days a reversement ordered may stay unpaid before it is a finding.
pub const REVERSEMENT_GRACE_DAYS: i64 = 60;
/// Share of the BOP 147 envelope QIC may receive, in percent (contract l.384).
pub const QIC_BOP147_CAP_PCT: Decimal = Decimal::from_parts(25, 0, 0, false, 1);
/// Months after a convention by which a grant above the threshold must be published (SCDL).
pub const PUBLICATION_DUE_MONTHS: u32 = 3;
/// The dispositifs of the State's programme 147.
pub const BOP147_DISPOSITIFS: &[&str] = &["bop147-aap", "cpo", "adultes-relais"];
/// Most findings listed; past it the list ends with an error rather than growing without bound.
pub const FINDINGS_MAX: usize = 100_000;

/// Every rule: identifier and what it checks.
pub const RULES: &[(&str, &str)] = &[
    ("payment-above-grant", "versements (nets des reversements reçus) supérieurs au montant accordé sur une ligne de subvention"),
    ("payment-without-convention", "un versement alors que les subventions du financeur au porteur pour l'exercice dépassent 23 000 € et qu'aucune convention n'est signée pour le dossier"),
    ("crf-overdue", "un dossier subventionné dont le compte rendu financier n'est pas reçu 6 mois après la fin de son exercice"),
    ("grant-with-overdue-crf", "une nouvelle subvention à un porteur qui, à la date de la décision, a un compte rendu financier en retard sur un autre dossier"),
    ("envelope-over-committed", "des décisions au-delà du montant d'une enveloppe (dépassement autorisé ou non)"),
    ("reversement-not-received", "un reversement demandé depuis plus de 60 jours et pas entièrement reçu"),
    ("qic-bop147-over-cap", "du BOP 147 accordé à des actions en QIC au-delà de 2,5 % des enveloppes BOP 147 de l'exercice"),
    ("qic-bop147-without-cofinancing", "une action en QIC financée par le BOP 147 sans subvention d'une collectivité"),
    ("tfpb-realised-below-abatement", "un programme TFPB dont le bilan est remis et dont les dépenses déclarées sont inférieures à l'abattement"),
    ("tfpb-bilan-late", "un programme TFPB dont le bilan n'est pas remis au 30 juin de l'année suivante"),
    ("grant-not-published", "une subvention de plus de 23 000 € non publiée en données ouvertes 3 mois après sa convention"),
];

/// One anomaly and the events that prove it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub exercice: Option<i32>,
    /// The stream the finding is about (a dossier, an envelope, a TFPB programme…).
    pub subject: String,
    pub description: String,
    /// Positions of the events that prove it, in order.
    pub evidence: Vec<i64>,
}

/// Findings as a report table.
pub fn findings_table(findings: &[Finding]) -> Table {
    let mut table = Table::new(
        "findings",
        &[
            "rule",
            "exercice",
            "subject",
            "description",
            "evidence_positions",
        ],
    );
    for f in findings {
        table.push(vec![
            f.rule.into(),
            f.exercice.into(),
            f.subject.as_str().into(),
            f.description.as_str().into(),
            f.evidence
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(" ")
                .into(),
        ]);
    }
    table
}

/// The findings over `events` (in position order) as `as_of` sees them; `today` is the reference
/// date when `as_of` names none; `year` keeps only that exercice.
pub fn findings<'a>(
    events: impl IntoIterator<Item = &'a RecordedEvent>,
    as_of: &AsOf,
    today: NaiveDate,
    year: Option<i32>,
) -> Vec<Finding> {
    let reference = as_of
        .effective_on
        .or(as_of.recorded_at.map(|t| t.date_naive()))
        .unwrap_or(today);
    let mut fold = Fold::default();
    for event in events {
        if as_of.is_past_record_bound(event) {
            break;
        }
        if as_of.is_in_force(event) {
            fold.apply(event);
        }
    }
    let mut all = std::mem::take(&mut fold.findings);
    all.extend(fold.at_end(reference));
    all.retain(|f| year.is_none_or(|y| f.exercice == Some(y)));
    all.sort_by(|a, b| (a.evidence.last(), a.rule).cmp(&(b.evidence.last(), b.rule)));
    all.truncate(FINDINGS_MAX);
    all
}

fn text<'a>(p: &'a Value, field: &str) -> &'a str {
    p.get(field).and_then(Value::as_str).unwrap_or("")
}

fn amount(p: &Value, field: &str) -> Decimal {
    match p.get(field) {
        Some(Value::String(s)) => Decimal::from_str(s).unwrap_or_default(),
        Some(Value::Number(n)) => Decimal::from_str(&n.to_string()).unwrap_or_default(),
        _ => Decimal::ZERO,
    }
}

fn date(p: &Value, field: &str) -> Option<NaiveDate> {
    NaiveDate::from_str(text(p, field)).ok()
}

/// An amount the French way (`12 345,50 €`), for the findings people read.
fn eur(value: Decimal) -> String {
    engagements_projections::labels::eur_decimal(value)
}

fn date_fr(date: NaiveDate) -> String {
    engagements_projections::labels::date_fr(date)
}

/// The date by which the CRF of `exercice` is due.
pub fn crf_due_on(exercice: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(exercice, 12, 31)?.checked_add_months(Months::new(CRF_DUE_MONTHS))
}

fn is_local_authority(financeur: &str) -> bool {
    financeur == "cabbalr"
        || ["commune-", "departement-", "region-"]
            .iter()
            .any(|prefix| financeur.starts_with(prefix))
}

fn is_bop147(financeur: &str, dispositif: &str) -> bool {
    financeur == "etat" && BOP147_DISPOSITIFS.contains(&dispositif)
}

#[derive(Default, Clone)]
struct Line {
    granted: Decimal,
    paid_net: Decimal,
    grant_positions: Vec<i64>,
    /// Orders not yet fully received: (position, ordered on, amount outstanding).
    orders: Vec<(i64, NaiveDate, Decimal)>,
}

#[derive(Default, Clone)]
struct DossierFacts {
    porteur_id: String,
    exercice: i32,
    quartiers: Vec<String>,
    lines: BTreeMap<(String, String), Line>,
    /// Conventions (not arrêtés) by financeur: (position, signed on).
    conventions: BTreeMap<String, (i64, NaiveDate)>,
    crf_received: Option<(i64, NaiveDate)>,
    /// A publication naming the dossier without its financeur (covers every financeur).
    published: Option<i64>,
    /// Publications by financeur (attribuant): position of the first.
    published_by: BTreeMap<String, i64>,
}

impl DossierFacts {
    fn granted(&self) -> Decimal {
        self.lines.values().map(|l| l.granted).sum()
    }
    fn grant_positions(&self) -> Vec<i64> {
        let mut p: Vec<i64> = self
            .lines
            .values()
            .flat_map(|l| l.grant_positions.clone())
            .collect();
        p.sort_unstable();
        p
    }
    /// Whether the CRF is overdue on `date` (granted, deadline passed, not received by then).
    fn crf_overdue_on(&self, date: NaiveDate) -> bool {
        let due = crf_due_on(self.exercice);
        self.granted() > Decimal::ZERO
            && due.is_some_and(|due| date > due)
            && self
                .crf_received
                .is_none_or(|(_, received)| received > date)
    }
}

#[derive(Default)]
struct EnvelopeFacts {
    exercice: i32,
    financeur: String,
    dispositif: String,
    amount: Decimal,
    authorised: Decimal,
    committed: Decimal,
    positions: Vec<i64>,
}

#[derive(Default)]
struct TfpbFacts {
    year: i32,
    abatement: Decimal,
    spending: BTreeMap<String, Decimal>,
    bilan_submitted: Option<(i64, NaiveDate)>,
    positions: Vec<i64>,
}

#[derive(Default)]
struct Fold {
    dossiers: BTreeMap<String, DossierFacts>,
    /// The dossiers of each porteur (stream ids, in order): the checks that look at a porteur's
    /// other dossiers read these, not every dossier of the log.
    by_porteur: HashMap<String, BTreeSet<String>>,
    envelopes: BTreeMap<String, EnvelopeFacts>,
    tfpb: BTreeMap<String, TfpbFacts>,
    findings: Vec<Finding>,
}

impl Fold {
    fn apply(&mut self, event: &RecordedEvent) {
        let Ok(p) = serde_json::from_str::<Value>(&event.payload) else {
            return;
        };
        match event.stream_type.as_str() {
            "dossier" => self.apply_dossier(event, &p),
            "envelope" => self.apply_envelope(event, &p),
            "tfpb_programme" => self.apply_tfpb(event, &p),
            _ => {}
        }
        if event.event_type.ends_with("Published") {
            self.apply_publication(event.position, &p);
        }
    }

    /// A publication covers the dossiers it names (`dossier_id`, or `dossiers`), for its
    /// financeur (`attribuant`) when it names one, else for all of them.
    fn apply_publication(&mut self, position: i64, p: &Value) {
        let mut named: Vec<&str> = p
            .get("dossiers")
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(id) = p.get("dossier_id").and_then(Value::as_str) {
            named.push(id);
        }
        let attribuant = p.get("attribuant").and_then(Value::as_str);
        for id in named {
            let Some(facts) = self.dossiers.get_mut(&format!("dossier-{id}")) else {
                continue;
            };
            match attribuant {
                Some(financeur) => {
                    facts
                        .published_by
                        .entry(financeur.to_string())
                        .or_insert(position);
                }
                None => {
                    facts.published.get_or_insert(position);
                }
            }
        }
    }

    fn apply_dossier(&mut self, event: &RecordedEvent, p: &Value) {
        let stream = event.stream_id.clone();
        let line_key = (
            text(p, "financeur").to_string(),
            text(p, "dispositif").to_string(),
        );
        if event.event_type == "DossierFiled" {
            let quartiers = p
                .get("quartiers")
                .and_then(Value::as_array)
                .map(|qs| qs.iter().map(|q| text(q, "quartier").to_string()).collect())
                .unwrap_or_default();
            self.by_porteur
                .entry(text(p, "porteur_id").to_string())
                .or_default()
                .insert(stream.clone());
            self.dossiers.insert(
                stream.clone(),
                DossierFacts {
                    porteur_id: text(p, "porteur_id").to_string(),
                    exercice: p.get("exercice").and_then(Value::as_i64).unwrap_or(0) as i32,
                    quartiers,
                    ..DossierFacts::default()
                },
            );
            return;
        }
        let Some(facts) = self.dossiers.get(&stream) else {
            return;
        };
        let mut facts = facts.clone();
        let position = event.position;
        let effective = event.metadata.effective_date;
        match event.event_type.as_str() {
            "SubsidyGranted" => {
                let line = facts.lines.entry(line_key).or_default();
                line.granted = amount(p, "amount");
                line.grant_positions.push(position);
                let decided_on = date(p, "decided_on").unwrap_or(effective);
                self.check_overdue_crf_at_grant(&stream, &facts, decided_on, position);
            }
            "SubsidyIncreased" | "SubsidyReduced" | "SubsidyCancelled" => {
                let line = facts.lines.entry(line_key).or_default();
                line.granted = if event.event_type == "SubsidyCancelled" {
                    Decimal::ZERO
                } else {
                    amount(p, "granted_after")
                };
                line.grant_positions.push(position);
            }
            "PaymentRecorded" => {
                let line = facts.lines.entry(line_key.clone()).or_default();
                line.paid_net += amount(p, "amount");
                let line = line.clone();
                self.check_payment(&stream, &facts, &line_key, &line, position);
            }
            "ReversementOrdered" => {
                let ordered_on = date(p, "ordered_on").unwrap_or(effective);
                let line = facts.lines.entry(line_key).or_default();
                line.orders
                    .push((position, ordered_on, amount(p, "amount")));
            }
            "ReversementReceived" => {
                let line = facts.lines.entry(line_key).or_default();
                let mut received = amount(p, "amount");
                line.paid_net -= received;
                for order in line.orders.iter_mut() {
                    let settled = order.2.min(received);
                    order.2 -= settled;
                    received -= settled;
                }
                line.orders.retain(|o| o.2 > Decimal::ZERO);
            }
            "ConventionSigned" if text(p, "kind") == "convention" => {
                let signed_on = date(p, "signed_on").unwrap_or(effective);
                facts
                    .conventions
                    .entry(line_key.0)
                    .or_insert((position, signed_on));
            }
            "CrfReceived" => {
                let received_on = date(p, "received_on").unwrap_or(effective);
                facts.crf_received.get_or_insert((position, received_on));
            }
            _ => {}
        }
        self.dossiers.insert(stream, facts);
    }

    fn push(&mut self, finding: Finding) {
        if self.findings.len() < FINDINGS_MAX {
            self.findings.push(finding);
        }
    }

    /// Rules checked at the moment of a payment: above grant, convention missing.
    fn check_payment(
        &mut self,
        stream: &str,
        facts: &DossierFacts,
        key: &(String, String),
        line: &Line,
        position: i64,
    ) {
        let mut evidence = line.grant_positions.clone();
        evidence.push(position);
        if line.paid_net > line.granted {
            self.push(Finding {
                rule: "payment-above-grant",
                exercice: Some(facts.exercice),
                subject: stream.to_string(),
                description: format!(
                    "{} / {} : {} versés (nets des reversements) pour {} accordés",
                    key.0,
                    key.1,
                    eur(line.paid_net),
                    eur(line.granted)
                ),
                evidence,
            });
            return;
        }
        let porteur_total: Decimal = self
            .porteur_dossiers(&facts.porteur_id)
            .map(|(id, d)| if id == stream { facts } else { d })
            .filter(|d| d.porteur_id == facts.porteur_id && d.exercice == facts.exercice)
            .flat_map(|d| {
                d.lines
                    .iter()
                    .filter(|(k, _)| k.0 == key.0)
                    .map(|(_, l)| l.granted)
            })
            .sum();
        if porteur_total > CONVENTION_THRESHOLD_EUR && !facts.conventions.contains_key(&key.0) {
            self.push(Finding {
                rule: "payment-without-convention",
                exercice: Some(facts.exercice),
                subject: stream.to_string(),
                description: format!(
                    "{} versés par {} alors que ses subventions au porteur pour {} atteignent {}, au-delà de {}, sans convention signée",
                    eur(line.paid_net), key.0, facts.exercice, eur(porteur_total), eur(CONVENTION_THRESHOLD_EUR)
                ),
                evidence,
            });
        }
    }

    /// The dossiers of `porteur_id`, in the order of their stream ids.
    fn porteur_dossiers<'a>(
        &'a self,
        porteur_id: &str,
    ) -> impl Iterator<Item = (&'a String, &'a DossierFacts)> + 'a {
        self.by_porteur
            .get(porteur_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.dossiers.get_key_value(id))
    }

    /// A grant to a porteur who has a CRF overdue, on the decision's date, on another dossier.
    fn check_overdue_crf_at_grant(
        &mut self,
        stream: &str,
        facts: &DossierFacts,
        decided_on: NaiveDate,
        position: i64,
    ) {
        let overdue: Vec<(&String, &DossierFacts)> = self
            .porteur_dossiers(&facts.porteur_id)
            .filter(|(id, d)| {
                id.as_str() != stream
                    && d.porteur_id == facts.porteur_id
                    && d.crf_overdue_on(decided_on)
            })
            .collect();
        if overdue.is_empty() {
            return;
        }
        let mut evidence: Vec<i64> = overdue
            .iter()
            .flat_map(|(_, d)| d.grant_positions())
            .collect();
        evidence.push(position);
        let names: Vec<String> = overdue
            .iter()
            .map(|(id, d)| format!("{id} (exercice {})", d.exercice))
            .collect();
        let finding = Finding {
            rule: "grant-with-overdue-crf",
            exercice: Some(facts.exercice),
            subject: stream.to_string(),
            description: format!(
                "accordé le {} alors que le compte rendu financier du porteur est en retard sur {}",
                date_fr(decided_on),
                names.join(", ")
            ),
            evidence,
        };
        self.push(finding);
    }

    fn apply_envelope(&mut self, event: &RecordedEvent, p: &Value) {
        let key = p.get("key").unwrap_or(&Value::Null);
        let envelope = self.envelopes.entry(event.stream_id.clone()).or_default();
        envelope.exercice = key.get("exercice").and_then(Value::as_i64).unwrap_or(0) as i32;
        envelope.financeur = text(key, "financeur").to_string();
        envelope.dispositif = text(key, "dispositif").to_string();
        envelope.positions.push(event.position);
        match event.event_type.as_str() {
            "EnvelopeOpened" => envelope.amount = amount(p, "amount"),
            "EnvelopeRaised" | "EnvelopeLowered" => envelope.amount = amount(p, "amount_after"),
            "OverCommitmentAuthorised" => envelope.authorised = amount(p, "authorised_after"),
            "EnvelopeCommitted" | "EnvelopeReleased" => {
                envelope.committed = amount(p, "committed_after")
            }
            _ => {}
        }
    }

    fn apply_tfpb(&mut self, event: &RecordedEvent, p: &Value) {
        let key = p.get("programme").unwrap_or(&Value::Null);
        let facts = self.tfpb.entry(event.stream_id.clone()).or_default();
        facts.year = key.get("year").and_then(Value::as_i64).unwrap_or(0) as i32;
        facts.positions.push(event.position);
        match event.event_type.as_str() {
            "TfpbAbatementDeclared" | "TfpbAbatementCorrected" => {
                facts.abatement = amount(p, "abatement_eur")
            }
            "TfpbSpendingReported" | "TfpbSpendingCorrected" => {
                facts
                    .spending
                    .insert(text(p, "spending_id").to_string(), amount(p, "amount_eur"));
            }
            "TfpbBilanSubmitted" => {
                let on = date(p, "submitted_on").unwrap_or(event.metadata.effective_date);
                facts.bilan_submitted.get_or_insert((event.position, on));
            }
            _ => {}
        }
    }

    /// Rules over the state reached, on the reference date.
    fn at_end(&self, reference: NaiveDate) -> Vec<Finding> {
        let mut out = Vec::new();
        self.dossier_rules(reference, &mut out);
        self.envelope_rules(&mut out);
        self.qic_rules(&mut out);
        self.tfpb_rules(reference, &mut out);
        out
    }

    fn dossier_rules(&self, reference: NaiveDate, out: &mut Vec<Finding>) {
        for (stream, d) in &self.dossiers {
            if d.crf_overdue_on(reference) {
                out.push(Finding {
                    rule: "crf-overdue",
                    exercice: Some(d.exercice),
                    subject: stream.clone(),
                    description: format!(
                        "compte rendu financier de l'exercice {} attendu le {} et non reçu au {}",
                        d.exercice,
                        crf_due_on(d.exercice).map(date_fr).unwrap_or_default(),
                        date_fr(reference)
                    ),
                    evidence: d.grant_positions(),
                });
            }
            for ((financeur, dispositif), line) in &d.lines {
                for (position, ordered_on, outstanding) in &line.orders {
                    if (reference - *ordered_on).num_days() > REVERSEMENT_GRACE_DAYS {
                        out.push(Finding {
                            rule: "reversement-not-received",
                            exercice: Some(d.exercice),
                            subject: stream.clone(),
                            description: format!(
                                "{financeur} / {dispositif} : {} d'un reversement demandé le {} non reçus au {}",
                                eur(*outstanding),
                                date_fr(*ordered_on),
                                date_fr(reference)
                            ),
                            evidence: vec![*position],
                        });
                    }
                }
            }
            self.publication_rule(stream, d, reference, out);
        }
    }

    fn publication_rule(
        &self,
        stream: &str,
        d: &DossierFacts,
        reference: NaiveDate,
        out: &mut Vec<Finding>,
    ) {
        if d.published.is_some() {
            return;
        }
        for (financeur, (position, signed_on)) in &d.conventions {
            if d.published_by.contains_key(financeur) {
                continue;
            }
            let granted: Decimal = d
                .lines
                .iter()
                .filter(|(k, _)| &k.0 == financeur)
                .map(|(_, l)| l.granted)
                .sum();
            let due = signed_on.checked_add_months(Months::new(PUBLICATION_DUE_MONTHS));
            if granted > CONVENTION_THRESHOLD_EUR && due.is_some_and(|due| reference > due) {
                let mut evidence = d.grant_positions();
                evidence.push(*position);
                out.push(Finding {
                    rule: "grant-not-published",
                    exercice: Some(d.exercice),
                    subject: stream.to_string(),
                    description: format!(
                        "{} accordés par {financeur}, convention signée le {}, non publiés en données ouvertes au {}",
                        eur(granted),
                        date_fr(*signed_on),
                        date_fr(reference)
                    ),
                    evidence,
                });
            }
        }
    }

    fn envelope_rules(&self, out: &mut Vec<Finding>) {
        for (stream, e) in &self.envelopes {
            if e.committed > e.amount {
                let covered = if e.committed <= e.amount + e.authorised {
                    format!(
                        "dans la limite du dépassement autorisé de {}",
                        eur(e.authorised)
                    )
                } else {
                    format!("au-delà du dépassement autorisé de {}", eur(e.authorised))
                };
                out.push(Finding {
                    rule: "envelope-over-committed",
                    exercice: Some(e.exercice),
                    subject: stream.clone(),
                    description: format!(
                        "{} décidés sur une enveloppe de {}, {covered}",
                        eur(e.committed),
                        eur(e.amount)
                    ),
                    evidence: e.positions.clone(),
                });
            }
        }
    }

    fn qic_rules(&self, out: &mut Vec<Finding>) {
        let mut qic_by_year: BTreeMap<i32, (Decimal, Vec<i64>)> = BTreeMap::new();
        for (stream, d) in &self.dossiers {
            if !d.quartiers.iter().any(|q| q.starts_with("QIC-")) {
                continue;
            }
            let bop147: Decimal = d
                .lines
                .iter()
                .filter(|(k, _)| is_bop147(&k.0, &k.1))
                .map(|(_, l)| l.granted)
                .sum();
            if bop147 <= Decimal::ZERO {
                continue;
            }
            let year = qic_by_year.entry(d.exercice).or_default();
            year.0 += bop147;
            year.1.extend(d.grant_positions());
            let local = d
                .lines
                .iter()
                .any(|(k, l)| is_local_authority(&k.0) && l.granted > Decimal::ZERO);
            if !local {
                out.push(Finding {
                    rule: "qic-bop147-without-cofinancing",
                    exercice: Some(d.exercice),
                    subject: stream.clone(),
                    description: format!(
                        "{} de BOP 147 pour une action en QIC sans aucune subvention d'une collectivité",
                        eur(bop147)
                    ),
                    evidence: d.grant_positions(),
                });
            }
        }
        for (exercice, (qic_total, mut evidence)) in qic_by_year {
            let envelopes: Vec<&EnvelopeFacts> = self
                .envelopes
                .values()
                .filter(|e| e.exercice == exercice && is_bop147(&e.financeur, &e.dispositif))
                .collect();
            let base: Decimal = envelopes.iter().map(|e| e.amount).sum();
            let cap = (base * QIC_BOP147_CAP_PCT / Decimal::ONE_HUNDRED).round_dp(2);
            if qic_total > cap {
                evidence.extend(envelopes.iter().flat_map(|e| e.positions.first().copied()));
                evidence.sort_unstable();
                evidence.dedup();
                out.push(Finding {
                    rule: "qic-bop147-over-cap",
                    exercice: Some(exercice),
                    subject: format!("bop147:{exercice}"),
                    description: format!(
                        "{} de BOP 147 à des actions en QIC, au-delà de 2,5 % des {} d'enveloppes BOP 147 ({})",
                        eur(qic_total),
                        eur(base),
                        eur(cap)
                    ),
                    evidence,
                });
            }
        }
    }

    fn tfpb_rules(&self, reference: NaiveDate, out: &mut Vec<Finding>) {
        for (stream, t) in &self.tfpb {
            let spent: Decimal = t.spending.values().copied().sum();
            if t.bilan_submitted.is_some() && spent < t.abatement {
                out.push(Finding {
                    rule: "tfpb-realised-below-abatement",
                    exercice: Some(t.year),
                    subject: stream.clone(),
                    description: format!(
                        "{} d'actions déclarées pour un abattement de {}",
                        eur(spent),
                        eur(t.abatement)
                    ),
                    evidence: t.positions.clone(),
                });
            }
            let due = NaiveDate::from_ymd_opt(t.year + 1, 6, 30);
            let late = match (t.bilan_submitted, due) {
                (Some((_, on)), Some(due)) => on > due,
                (None, Some(due)) => reference > due,
                _ => false,
            };
            if late && t.abatement > Decimal::ZERO {
                let when = t
                    .bilan_submitted
                    .map(|(_, on)| format!("remis le {}", date_fr(on)))
                    .unwrap_or_else(|| format!("non remis au {}", date_fr(reference)));
                out.push(Finding {
                    rule: "tfpb-bilan-late",
                    exercice: Some(t.year),
                    subject: stream.clone(),
                    description: format!(
                        "bilan {} attendu le 30/06/{}, {when}",
                        t.year,
                        t.year + 1
                    ),
                    evidence: t.positions.clone(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engagements_domain::{Actor, Metadata, Source};
    use serde_json::json;

    const DOSSIER: &str = "dossier-0190f2a0-0000-7000-8000-00000000000a";
    const OTHER: &str = "dossier-0190f2a0-0000-7000-8000-00000000000b";
    const PORTEUR: &str = "0190f2a0-0000-7000-8000-0000000000ff";

    /// A fictitious log built event by event.
    #[derive(Default)]
    struct Log(Vec<RecordedEvent>);

    impl Log {
        fn push(
            &mut self,
            stream_type: &str,
            stream_id: &str,
            effective: &str,
            payload: Value,
        ) -> &mut Self {
            let position = self.0.len() as i64 + 1;
            let version = self.0.iter().filter(|e| e.stream_id == stream_id).count() as i64 + 1;
            self.0.push(RecordedEvent {
                position,
                event_id: uuid::Uuid::nil(),
                stream_type: stream_type.into(),
                stream_id: stream_id.into(),
                version,
                event_type: text(&payload, "type").into(),
                schema_version: 1,
                payload: payload.to_string(),
                metadata: Metadata::new(Actor::system(), Source::System, day(effective)),
                recorded_at: chrono::Utc::now(),
                prev_hash: String::new(),
                hash: String::new(),
            });
            self
        }
        fn dossier(&mut self, stream: &str, exercice: i32, quartier: &str) -> &mut Self {
            let id = stream.trim_start_matches("dossier-");
            self.push(
                "dossier",
                stream,
                "2025-01-05",
                json!({"type": "DossierFiled", "dossier_id": id,
                "porteur_id": PORTEUR, "exercice": exercice, "title": "Action fictive",
                "quartiers": [{"quartier": quartier}]}),
            )
        }
        fn grant(
            &mut self,
            stream: &str,
            financeur: &str,
            dispositif: &str,
            amount: &str,
            on: &str,
        ) -> &mut Self {
            self.push(
                "dossier",
                stream,
                on,
                json!({"type": "SubsidyGranted", "financeur": financeur,
                "dispositif": dispositif, "amount": amount, "decided_on": on}),
            )
        }
        fn pay(&mut self, stream: &str, amount: &str, on: &str) -> &mut Self {
            self.push(
                "dossier",
                stream,
                on,
                json!({"type": "PaymentRecorded", "financeur": "etat",
                "dispositif": "bop147-aap", "amount": amount, "paid_on": on}),
            )
        }
        fn convention(&mut self, stream: &str, on: &str) -> &mut Self {
            self.push(
                "dossier",
                stream,
                on,
                json!({"type": "ConventionSigned", "financeur": "etat",
                "kind": "convention", "number": "CONV-FICTIVE", "signed_on": on}),
            )
        }
        fn rules(&self, today: &str) -> Vec<&'static str> {
            findings(self.0.iter(), &AsOf::now(), day(today), None)
                .iter()
                .map(|f| f.rule)
                .collect()
        }
        fn has(&self, rule: &str, today: &str) -> bool {
            self.rules(today).contains(&rule)
        }
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::from_str(text).unwrap()
    }

    fn granted(amount: &str) -> Log {
        let mut log = Log::default();
        log.dossier(DOSSIER, 2025, "QN06209").grant(
            DOSSIER,
            "etat",
            "bop147-aap",
            amount,
            "2025-03-01",
        );
        log
    }

    #[test]
    fn payment_above_grant() {
        let mut log = granted("1000.00");
        log.pay(DOSSIER, "1000.00", "2025-04-01");
        assert!(!log.has("payment-above-grant", "2025-04-02"));
        log.pay(DOSSIER, "0.01", "2025-04-03");
        let found = findings(log.0.iter(), &AsOf::now(), day("2025-04-04"), None);
        let finding = found
            .iter()
            .find(|f| f.rule == "payment-above-grant")
            .unwrap();
        assert_eq!(finding.evidence, vec![2, 4]);
        assert!(
            finding.description.contains("1\u{202f}000,01 € versés"),
            "{}",
            finding.description
        );
    }

    #[test]
    fn payment_without_convention() {
        let mut log = granted("23000.01");
        log.pay(DOSSIER, "5000.00", "2025-04-01");
        assert!(log.has("payment-without-convention", "2025-04-02"));
        let mut log = granted("23000.01");
        log.convention(DOSSIER, "2025-03-15")
            .pay(DOSSIER, "5000.00", "2025-04-01");
        assert!(!log.has("payment-without-convention", "2025-04-02"));
        let mut log = granted("23000.00");
        log.pay(DOSSIER, "5000.00", "2025-04-01");
        assert!(
            !log.has("payment-without-convention", "2025-04-02"),
            "23,000 € exactly needs none"
        );
    }

    #[test]
    fn crf_overdue() {
        let log = granted("1000.00");
        assert!(
            !log.has("crf-overdue", "2026-06-30"),
            "due on 30 June, not before"
        );
        assert!(log.has("crf-overdue", "2026-07-01"));
        let mut log = granted("1000.00");
        log.push(
            "dossier",
            DOSSIER,
            "2026-05-01",
            json!({"type": "CrfReceived", "received_on": "2026-05-01"}),
        );
        assert!(!log.has("crf-overdue", "2026-07-01"));
    }

    #[test]
    fn grant_with_overdue_crf() {
        let mut log = Log::default();
        log.dossier(OTHER, 2023, "QN06209").grant(
            OTHER,
            "etat",
            "bop147-aap",
            "500.00",
            "2023-03-01",
        );
        log.dossier(DOSSIER, 2025, "QN06209").grant(
            DOSSIER,
            "etat",
            "bop147-aap",
            "800.00",
            "2025-03-01",
        );
        let found = findings(log.0.iter(), &AsOf::now(), day("2025-03-02"), None);
        let finding = found
            .iter()
            .find(|f| f.rule == "grant-with-overdue-crf")
            .unwrap();
        assert_eq!(
            (finding.subject.as_str(), finding.evidence.clone()),
            (DOSSIER, vec![2, 4])
        );

        let mut log = Log::default();
        log.dossier(OTHER, 2023, "QN06209").grant(
            OTHER,
            "etat",
            "bop147-aap",
            "500.00",
            "2023-03-01",
        );
        log.push(
            "dossier",
            OTHER,
            "2024-05-01",
            json!({"type": "CrfReceived", "received_on": "2024-05-01"}),
        );
        log.dossier(DOSSIER, 2025, "QN06209").grant(
            DOSSIER,
            "etat",
            "bop147-aap",
            "800.00",
            "2025-03-01",
        );
        assert!(!log.has("grant-with-overdue-crf", "2025-03-02"));
    }

    fn envelope(log: &mut Log, dispositif: &str, amount: &str) {
        let key = json!({"financeur": "etat", "dispositif": dispositif, "exercice": 2025});
        log.push(
            "envelope",
            &format!("envelope-etat:{dispositif}:2025"),
            "2025-01-02",
            json!({"type": "EnvelopeOpened", "key": key, "amount": amount}),
        );
    }

    fn commit(log: &mut Log, committed_after: &str) {
        let key = json!({"financeur": "etat", "dispositif": "bop147-aap", "exercice": 2025});
        log.push("envelope", "envelope-etat:bop147-aap:2025", "2025-03-01",
            json!({"type": "EnvelopeCommitted", "key": key, "amount": "1.00", "committed_after": committed_after}));
    }

    #[test]
    fn envelope_over_committed() {
        let mut log = Log::default();
        envelope(&mut log, "bop147-aap", "10000.00");
        commit(&mut log, "10000.00");
        assert!(!log.has("envelope-over-committed", "2025-04-01"));
        commit(&mut log, "10000.01");
        assert!(log.has("envelope-over-committed", "2025-04-01"));
    }

    #[test]
    fn reversement_not_received() {
        let mut log = granted("1000.00");
        log.pay(DOSSIER, "1000.00", "2025-04-01");
        log.push(
            "dossier",
            DOSSIER,
            "2025-09-01",
            json!({"type": "ReversementOrdered", "financeur": "etat",
            "dispositif": "bop147-aap", "amount": "400.00", "ordered_on": "2025-09-01"}),
        );
        assert!(
            !log.has("reversement-not-received", "2025-10-01"),
            "within the grace period"
        );
        assert!(log.has("reversement-not-received", "2025-11-15"));
        log.push(
            "dossier",
            DOSSIER,
            "2025-11-20",
            json!({"type": "ReversementReceived", "financeur": "etat",
            "dispositif": "bop147-aap", "amount": "400.00", "received_on": "2025-11-20"}),
        );
        assert!(!log.has("reversement-not-received", "2025-12-15"));
    }

    fn qic(bop147: &str, local: Option<&str>) -> Log {
        let mut log = Log::default();
        envelope(&mut log, "bop147-aap", "100000.00");
        log.dossier(DOSSIER, 2025, "QIC-cite-du-transvaal").grant(
            DOSSIER,
            "etat",
            "bop147-aap",
            bop147,
            "2025-03-01",
        );
        if let Some(financeur) = local {
            log.grant(
                DOSSIER,
                financeur,
                "fonds-cohesion-sociale",
                "1000.00",
                "2025-03-01",
            );
        }
        log
    }

    #[test]
    fn qic_bop147_over_cap() {
        assert!(!qic("2500.00", Some("cabbalr")).has("qic-bop147-over-cap", "2025-04-01"));
        assert!(qic("2500.01", Some("cabbalr")).has("qic-bop147-over-cap", "2025-04-01"));
    }

    #[test]
    fn qic_bop147_without_cofinancing() {
        assert!(qic("1000.00", None).has("qic-bop147-without-cofinancing", "2025-04-01"));
        assert!(!qic("1000.00", Some("commune-bethune"))
            .has("qic-bop147-without-cofinancing", "2025-04-01"));
        assert!(
            qic("1000.00", Some("caf")).has("qic-bop147-without-cofinancing", "2025-04-01"),
            "the CAF is no local authority"
        );
    }

    fn tfpb(spent: &str, bilan_on: Option<&str>) -> Log {
        let mut log = Log::default();
        let stream = "tfpb_programme-bailleur-fictif:QN06209:2025";
        let key = json!({"bailleur": "bailleur-fictif", "quartier": "QN06209", "year": 2025});
        log.push(
            "tfpb_programme",
            stream,
            "2025-02-01",
            json!({"type": "TfpbAbatementDeclared", "programme": key,
            "dwellings": 100, "abatement_eur": "10000.00"}),
        );
        log.push(
            "tfpb_programme",
            stream,
            "2025-10-01",
            json!({"type": "TfpbSpendingReported", "programme": key,
            "spending_id": "s1", "amount_eur": spent, "spent_on": "2025-10-01"}),
        );
        if let Some(on) = bilan_on {
            log.push(
                "tfpb_programme",
                stream,
                on,
                json!({"type": "TfpbBilanSubmitted", "programme": key,
                "submission": 1, "submitted_on": on}),
            );
        }
        log
    }

    #[test]
    fn tfpb_realised_below_abatement() {
        assert!(
            tfpb("9999.99", Some("2026-05-01")).has("tfpb-realised-below-abatement", "2026-05-02")
        );
        assert!(!tfpb("10000.00", Some("2026-05-01"))
            .has("tfpb-realised-below-abatement", "2026-05-02"));
    }

    #[test]
    fn tfpb_bilan_late() {
        assert!(!tfpb("10000.00", None).has("tfpb-bilan-late", "2026-06-30"));
        assert!(tfpb("10000.00", None).has("tfpb-bilan-late", "2026-07-01"));
        assert!(!tfpb("10000.00", Some("2026-06-30")).has("tfpb-bilan-late", "2026-09-01"));
        assert!(tfpb("10000.00", Some("2026-07-02")).has("tfpb-bilan-late", "2026-09-01"));
    }

    #[test]
    fn grant_not_published() {
        let mut log = granted("30000.00");
        log.convention(DOSSIER, "2025-03-15");
        assert!(
            !log.has("grant-not-published", "2025-06-15"),
            "within 3 months"
        );
        assert!(log.has("grant-not-published", "2025-06-16"));
        let id = DOSSIER.trim_start_matches("dossier-");
        log.push(
            "publication",
            "publication-scdl-2025",
            "2025-05-01",
            json!({"type": "ScdlPublished", "dossier_id": id}),
        );
        assert!(!log.has("grant-not-published", "2025-06-16"));
    }

    #[test]
    fn a_publication_covers_the_dossiers_it_names_for_its_attribuant_only() {
        let id = DOSSIER.trim_start_matches("dossier-");
        let publish = |attribuant: &str| {
            let mut log = granted("30000.00");
            log.convention(DOSSIER, "2025-03-15");
            log.push(
                "publication",
                "publication-0190f2a0-0000-7000-8000-00000000b001",
                "2025-05-01",
                json!({"type": "OpenDataPublished", "attribuant": attribuant,
                    "exercice": 2025, "dossiers": [id]}),
            );
            log
        };
        assert!(!publish("etat").has("grant-not-published", "2025-06-16"));
        assert!(publish("region-hdf").has("grant-not-published", "2025-06-16"));
    }

    #[test]
    fn as_of_and_year_narrow_the_findings() {
        let mut log = granted("1000.00");
        log.pay(DOSSIER, "1500.00", "2025-04-01");
        let before = AsOf {
            position: Some(2),
            ..AsOf::default()
        };
        assert!(findings(log.0.iter(), &before, day("2025-05-01"), None).is_empty());
        assert!(findings(log.0.iter(), &AsOf::now(), day("2025-05-01"), Some(2024)).is_empty());
        assert_eq!(
            findings(log.0.iter(), &AsOf::now(), day("2025-05-01"), Some(2025)).len(),
            1
        );
    }
}
