//! The funding views, as report tables (columns documented in `docs/reports.md`).
//!
//! Every amount column reconciles: the `granted_eur` of the signatory, quartier, objective,
//! commune and porteur views each add up, to the cent, to the sum of the grants in force.
//!
//! The signatory, quartier, objective, commune and porteur tables are built from running totals
//! (`subsidy::totals`), in time proportional to their rows; each `*_table_walked` builds the same
//! table by a walk over every dossier, and is what the totals are tested against. A table falls
//! back to the walk when the totals cannot give it exactly (a sum past what the walk keeps, or a
//! referential other than the one the quartier totals rest on).

use std::collections::BTreeMap;

use engagements_domain::dossier::{DossierState, LineStatus};
use engagements_domain::envelope::EnvelopeKey;
use engagements_domain::{Amount, PorteurId};
use rust_decimal::Decimal;

use super::split::split_cents;
use super::SubsidyView;
use crate::porteurs::PorteursView;
use crate::referential::ReferentialView;
use crate::table::{Cell, Table};

/// Money added up per row key, in cents (exact) until printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Money {
    granted: i64,
    paid: i64,
}

fn amount(cents: i64) -> Cell {
    Cell::Amount(Amount::from_cents(cents.max(0)).unwrap_or(Amount::ZERO))
}

/// Totals of one financeur × exercice × dispositif.
#[derive(Debug, Clone, Default)]
struct SignatoryTotals {
    envelope: Option<Amount>,
    authorised: Amount,
    requested: Amount,
    proposed: Amount,
    granted: Amount,
    refused: Amount,
    paid: Amount,
    reversed: Amount,
    net_paid: Amount,
    cpo_forecast: Amount,
    dossiers: i64,
}

fn add(total: &mut Amount, more: Amount) {
    *total = total.checked_add(more).unwrap_or(*total);
}

/// A total of the running totals as the walk's `Amount`: `None` past the limit of an amount,
/// where the walk's sum stops adding and depends on the order of the dossiers.
fn exact_amount(cents: i128) -> Option<Amount> {
    Amount::from_cents(i64::try_from(cents).ok()?).ok()
}

/// A total of the running totals as the walk's `i64` cents: `None` past its range.
fn exact_money(granted_cents: i128, paid_cents: i128) -> Option<Money> {
    Some(Money {
        granted: i64::try_from(granted_cents).ok()?,
        paid: i64::try_from(paid_cents).ok()?,
    })
}

/// Per porteur × exercice, as the porteur table adds them up.
#[derive(Default)]
struct PorteurTotals {
    dossiers: i64,
    requested: Amount,
    granted: Amount,
    paid: Amount,
    reversed: Amount,
    crf_missing: i64,
}

/// Rows of the porteur table, ordered by porteur name (then id) and exercice.
type PorteurRows = BTreeMap<(String, i32), (PorteurId, PorteurTotals)>;

/// The key ordering a porteur's rows: its name (empty if unknown), then its id.
fn porteur_order(porteur_id: &PorteurId, porteurs: &PorteursView) -> String {
    let name = porteurs
        .get(porteur_id)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    format!("{name}\u{0}{porteur_id}")
}

impl SubsidyView {
    /// Per signatory / financeur × exercice × dispositif: envelope, requested, proposed, granted,
    /// refused, paid, reversed, left to pay, envelope left; CPO forecasts for that year apart.
    pub fn signatory_table(&self, year: Option<i32>, referential: &ReferentialView) -> Table {
        self.signatory_table_from_totals(year, referential)
            .unwrap_or_else(|| self.signatory_table_walked(year, referential))
    }

    /// [`SubsidyView::signatory_table`] from the running totals; `None` if they cannot give it.
    pub(crate) fn signatory_table_from_totals(
        &self,
        year: Option<i32>,
        referential: &ReferentialView,
    ) -> Option<Table> {
        let mut rows: BTreeMap<EnvelopeKey, SignatoryTotals> = BTreeMap::new();
        for (exercice, financeur, dispositif, sums) in
            self.totals.signatory(&self.dossiers).rows(year)
        {
            let row = SignatoryTotals {
                requested: exact_amount(sums.requested_cents)?,
                proposed: exact_amount(sums.proposed_cents)?,
                granted: exact_amount(sums.granted_cents)?,
                refused: exact_amount(sums.refused_cents)?,
                paid: exact_amount(sums.paid_cents)?,
                reversed: exact_amount(sums.reversed_cents)?,
                net_paid: exact_amount(sums.net_paid_cents)?,
                dossiers: sums.dossiers,
                ..SignatoryTotals::default()
            };
            rows.insert(EnvelopeKey::new(financeur, dispositif, exercice), row);
        }
        Some(self.signatory_table_of(rows, year, referential))
    }

    /// [`SubsidyView::signatory_table`] by a walk over every dossier (the reference).
    #[doc(hidden)]
    pub fn signatory_table_walked(
        &self,
        year: Option<i32>,
        referential: &ReferentialView,
    ) -> Table {
        let mut rows: BTreeMap<EnvelopeKey, SignatoryTotals> = BTreeMap::new();
        for dossier in self.filed(year) {
            let Some(filing) = dossier.filed.as_ref() else {
                continue;
            };
            for ((financeur, dispositif), line) in &dossier.lines {
                let key = EnvelopeKey::new(financeur, dispositif, filing.exercice);
                let row = rows.entry(key).or_default();
                row.dossiers += 1;
                if !dossier.withdrawn {
                    add(&mut row.requested, line.requested);
                }
                add(&mut row.proposed, line.proposed.unwrap_or(Amount::ZERO));
                add(&mut row.granted, line.granted);
                if line.status == LineStatus::Refused {
                    add(&mut row.refused, line.requested);
                }
                add(&mut row.paid, line.paid);
                add(&mut row.reversed, line.reversement_received);
                add(&mut row.net_paid, line.net_paid());
            }
        }
        self.signatory_table_of(rows, year, referential)
    }

    /// The signatory table from the dossiers' rows: adds the envelopes and CPO forecasts.
    fn signatory_table_of(
        &self,
        mut rows: BTreeMap<EnvelopeKey, SignatoryTotals>,
        year: Option<i32>,
        referential: &ReferentialView,
    ) -> Table {
        let in_year = |exercice: i32| year.is_none_or(|y| y == exercice);
        for (key, envelope) in &self.envelopes {
            if in_year(key.exercice) {
                let row = rows.entry(key.clone()).or_default();
                row.envelope = Some(envelope.amount);
                row.authorised = envelope.over_commitment_authorised;
            }
        }
        for (key, forecast) in self.cpo_forecasts() {
            if in_year(key.exercice) {
                rows.entry(key).or_default().cpo_forecast = forecast;
            }
        }
        let mut table = Table::new(
            "signatory",
            &[
                "financeur",
                "financeur_name",
                "exercice",
                "dispositif",
                "envelope_eur",
                "over_commitment_authorised_eur",
                "requested_eur",
                "proposed_eur",
                "granted_eur",
                "refused_eur",
                "paid_eur",
                "reversed_eur",
                "left_to_pay_eur",
                "envelope_left_eur",
                "over_committed_eur",
                "cpo_forecast_eur",
                "dossiers",
            ],
        );
        for (key, row) in rows {
            let name = referential
                .organisation(&key.financeur)
                .map(|o| o.name.clone())
                .unwrap_or_default();
            let envelope = row.envelope.unwrap_or(Amount::ZERO);
            table.push(vec![
                key.financeur.into(),
                name.into(),
                key.exercice.into(),
                key.dispositif.into(),
                Cell::from(row.envelope),
                row.authorised.into(),
                row.requested.into(),
                row.proposed.into(),
                row.granted.into(),
                row.refused.into(),
                row.paid.into(),
                row.reversed.into(),
                row.granted.saturating_sub(row.net_paid).into(),
                envelope.saturating_sub(row.granted).into(),
                row.granted.saturating_sub(envelope).into(),
                row.cpo_forecast.into(),
                row.dossiers.into(),
            ]);
        }
        table
    }

    /// Per quartier × exercice × financeur × dispositif: the money reaching it. A dossier on
    /// several quartiers is split by its declared shares, else by the quartiers' populations.
    pub fn quartier_table(&self, year: Option<i32>, referential: &ReferentialView) -> Table {
        self.quartier_table_from_totals(year, referential)
            .unwrap_or_else(|| self.quartier_table_walked(year, referential))
    }

    /// [`SubsidyView::quartier_table`] from the running totals; `None` if they cannot give it.
    pub(crate) fn quartier_table_from_totals(
        &self,
        year: Option<i32>,
        referential: &ReferentialView,
    ) -> Option<Table> {
        let rows = self.quartier_rows_from_totals(year, referential)?;
        Some(quartier_table_of(rows, referential))
    }

    /// [`SubsidyView::quartier_table`] by a walk over every dossier (the reference).
    #[doc(hidden)]
    pub fn quartier_table_walked(&self, year: Option<i32>, referential: &ReferentialView) -> Table {
        quartier_table_of(self.quartier_rows_walked(year, referential), referential)
    }

    /// The rows of the quartier table by a walk: each funding line split over the dossier's
    /// quartiers (largest remainder), then added up per quartier, exercice, financeur, dispositif.
    fn quartier_rows_walked(
        &self,
        year: Option<i32>,
        referential: &ReferentialView,
    ) -> QuartierRows {
        let mut rows: QuartierRows = BTreeMap::new();
        for dossier in self.filed(year) {
            let Some(filing) = dossier.filed.as_ref() else {
                continue;
            };
            let weights = quartier_weights(dossier, referential);
            for ((financeur, dispositif), line) in &dossier.lines {
                let granted = split_cents(line.granted.cents(), &weights);
                let paid = split_cents(line.net_paid().cents(), &weights);
                for (index, q) in filing.quartiers.iter().enumerate() {
                    let key = (
                        canonical_quartier(&q.quartier, referential),
                        filing.exercice,
                        financeur.clone(),
                        dispositif.clone(),
                    );
                    let row = rows.entry(key).or_default();
                    row.0.granted += granted[index];
                    row.0.paid += paid[index];
                    row.1 += 1;
                }
            }
        }
        rows
    }

    /// The rows of the quartier table from the running totals; `None` if they cannot give them.
    fn quartier_rows_from_totals(
        &self,
        year: Option<i32>,
        referential: &ReferentialView,
    ) -> Option<QuartierRows> {
        let totals = self.totals.quartier(&self.dossiers, referential)?;
        let mut rows: QuartierRows = BTreeMap::new();
        for (exercice, quartier, financeur, dispositif, sums) in totals.rows(year) {
            let key = (
                quartier.to_string(),
                exercice,
                financeur.to_string(),
                dispositif.to_string(),
            );
            let money = exact_money(sums.granted_cents, sums.paid_cents)?;
            rows.insert(key, (money, sums.dossiers));
        }
        Some(rows)
    }

    /// Per objectif (enjeu → ambition → objectif) × exercice: each funding line split by the
    /// dossier's objectif weights (largest remainder), as the quartier view splits each line.
    pub fn objective_table(&self, year: Option<i32>, referential: &ReferentialView) -> Table {
        self.objective_table_from_totals(year, referential)
            .unwrap_or_else(|| self.objective_table_walked(year, referential))
    }

    /// [`SubsidyView::objective_table`] from the running totals; `None` if they cannot give it.
    pub(crate) fn objective_table_from_totals(
        &self,
        year: Option<i32>,
        referential: &ReferentialView,
    ) -> Option<Table> {
        let mut rows: ObjectiveRows = BTreeMap::new();
        for (exercice, objectif, sums) in self.totals.objective(&self.dossiers).rows(year) {
            let money = exact_money(sums.granted_cents, sums.paid_cents)?;
            rows.insert((objectif, exercice), (money, sums.dossiers));
        }
        Some(objective_table_of(rows, referential))
    }

    /// [`SubsidyView::objective_table`] by a walk over every dossier (the reference).
    #[doc(hidden)]
    pub fn objective_table_walked(
        &self,
        year: Option<i32>,
        referential: &ReferentialView,
    ) -> Table {
        let mut rows: ObjectiveRows = BTreeMap::new();
        for dossier in self.filed(year) {
            let Some(filing) = dossier.filed.as_ref() else {
                continue;
            };
            let weights: Vec<Decimal> = filing
                .objectifs
                .iter()
                .map(|o| o.weight.unwrap_or(Decimal::ONE))
                .collect();
            let (granted, paid) = split_lines(dossier, &weights);
            for (index, o) in filing.objectifs.iter().enumerate() {
                let row = rows.entry((o.objectif, filing.exercice)).or_default();
                row.0.granted += granted[index];
                row.0.paid += paid[index];
                row.1 += 1;
            }
        }
        objective_table_of(rows, referential)
    }

    /// Per commune × exercice: each row of the quartier view (see [`SubsidyView::quartier_table`])
    /// split equally among the communes the quartier lies in (largest remainder; the contract
    /// gives no population per commune and quartier). A commune is thus exactly the sum of its
    /// quartiers' parts as the quartier view shows them.
    pub fn commune_table(&self, year: Option<i32>, referential: &ReferentialView) -> Table {
        self.commune_table_from_totals(year, referential)
            .unwrap_or_else(|| self.commune_table_walked(year, referential))
    }

    /// [`SubsidyView::commune_table`] from the running totals; `None` if they cannot give it.
    pub(crate) fn commune_table_from_totals(
        &self,
        year: Option<i32>,
        referential: &ReferentialView,
    ) -> Option<Table> {
        let rows = self.quartier_rows_from_totals(year, referential)?;
        Some(commune_table_of(
            communes_of(&rows, referential),
            referential,
        ))
    }

    /// [`SubsidyView::commune_table`] by a walk over every dossier (the reference).
    #[doc(hidden)]
    pub fn commune_table_walked(&self, year: Option<i32>, referential: &ReferentialView) -> Table {
        let rows = self.quartier_rows_walked(year, referential);
        commune_table_of(communes_of(&rows, referential), referential)
    }

    /// Per porteur × exercice: dossiers, requested, granted, paid, reversed, CRF still missing.
    pub fn porteur_table(&self, year: Option<i32>, porteurs: &PorteursView) -> Table {
        self.porteur_table_from_totals(year, porteurs)
            .unwrap_or_else(|| self.porteur_table_walked(year, porteurs))
    }

    /// [`SubsidyView::porteur_table`] from the running totals; `None` if they cannot give it.
    pub(crate) fn porteur_table_from_totals(
        &self,
        year: Option<i32>,
        porteurs: &PorteursView,
    ) -> Option<Table> {
        let mut rows: PorteurRows = BTreeMap::new();
        for (exercice, porteur_id, sums) in self.totals.porteur(&self.dossiers).rows(year) {
            let row = PorteurTotals {
                dossiers: sums.dossiers,
                requested: exact_amount(sums.requested_cents)?,
                granted: exact_amount(sums.granted_cents)?,
                paid: exact_amount(sums.paid_cents)?,
                reversed: exact_amount(sums.reversed_cents)?,
                crf_missing: sums.crf_missing,
            };
            let key = (porteur_order(&porteur_id, porteurs), exercice);
            rows.insert(key, (porteur_id, row));
        }
        Some(porteur_table_of(rows, porteurs))
    }

    /// [`SubsidyView::porteur_table`] by a walk over every dossier (the reference).
    #[doc(hidden)]
    pub fn porteur_table_walked(&self, year: Option<i32>, porteurs: &PorteursView) -> Table {
        let mut rows: PorteurRows = BTreeMap::new();
        for dossier in self.filed(year) {
            let Some(filing) = dossier.filed.as_ref() else {
                continue;
            };
            let name = porteurs
                .get(&filing.porteur_id)
                .map(|p| p.name.clone())
                .unwrap_or_default();
            let key = (format!("{name}\u{0}{}", filing.porteur_id), filing.exercice);
            let (_, row) = rows
                .entry(key)
                .or_insert_with(|| (filing.porteur_id, PorteurTotals::default()));
            row.dossiers += 1;
            for line in dossier.lines.values() {
                if !dossier.withdrawn {
                    add(&mut row.requested, line.requested);
                }
                add(&mut row.granted, line.granted);
                add(&mut row.paid, line.paid);
                add(&mut row.reversed, line.reversement_received);
            }
            if !dossier.granted_total().is_zero() && dossier.crf_received_on.is_none() {
                row.crf_missing += 1;
            }
        }
        porteur_table_of(rows, porteurs)
    }

    /// The list of dossiers: one row per dossier × financeur × dispositif, with its status.
    pub fn dossiers_table(&self, year: Option<i32>) -> Table {
        let mut table = Table::new(
            "dossiers",
            &[
                "dossier_id",
                "exercice",
                "porteur_id",
                "title",
                "dossier_status",
                "financeur",
                "dispositif",
                "status",
                "requested_eur",
                "opinion",
                "proposed_eur",
                "granted_eur",
                "paid_eur",
                "reversement_ordered_eur",
                "reversed_eur",
                "convention",
                "crf_received_on",
                "external_ids",
            ],
        );
        for dossier in self.filed(year) {
            let Some(filing) = dossier.filed.as_ref() else {
                continue;
            };
            let dossier_status = if dossier.withdrawn {
                "withdrawn"
            } else {
                "filed"
            };
            // Every identifier other systems give the dossier, e.g.
            // `dauphin_dossier DA00012345 (2025); chorus_ej 2103456789 (2025, etat/bop147-aap)`.
            let external_ids = (!dossier.external_ids.is_empty()).then(|| {
                dossier
                    .external_ids
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            });
            for ((financeur, dispositif), line) in &dossier.lines {
                let convention = dossier.conventions.get(financeur).map(|c| {
                    let kind = match c.kind {
                        engagements_domain::dossier::ActOfGrant::Convention => "convention",
                        engagements_domain::dossier::ActOfGrant::Arrete => "arrete",
                    };
                    format!("{kind} {}", c.number)
                });
                let opinion = line.opinion.map(|o| match o {
                    engagements_domain::dossier::Opinion::Favourable => "favourable",
                    engagements_domain::dossier::Opinion::Reserved => "reserved",
                    engagements_domain::dossier::Opinion::Unfavourable => "unfavourable",
                });
                table.push(vec![
                    filing.dossier_id.to_string().into(),
                    filing.exercice.into(),
                    filing.porteur_id.to_string().into(),
                    filing.title.as_str().into(),
                    dossier_status.into(),
                    financeur.as_str().into(),
                    dispositif.as_str().into(),
                    line.status.as_str().into(),
                    line.requested.into(),
                    Cell::from(opinion),
                    Cell::from(line.proposed),
                    line.granted.into(),
                    line.paid.into(),
                    line.reversement_ordered.into(),
                    line.reversement_received.into(),
                    Cell::from(convention),
                    Cell::from(dossier.crf_received_on),
                    Cell::from(external_ids.clone()),
                ]);
            }
        }
        table
    }
}

/// Weights of a dossier's quartiers: declared shares, else populations (0 if unknown; all unknown
/// gives an equal split).
pub(crate) fn quartier_weights(
    dossier: &DossierState,
    referential: &ReferentialView,
) -> Vec<Decimal> {
    let Some(filing) = dossier.filed.as_ref() else {
        return Vec::new();
    };
    if filing.quartiers.iter().all(|q| q.share_pct.is_some()) {
        return filing
            .quartiers
            .iter()
            .map(|q| q.share_pct.unwrap_or_default())
            .collect();
    }
    filing
        .quartiers
        .iter()
        .map(|q| {
            referential
                .quartier(&q.quartier)
                .map(|known| Decimal::from(known.population))
                .unwrap_or_default()
        })
        .collect()
}

/// Every funding line of `dossier` split by `weights` (largest remainder, line by line), the
/// parts added up per weight: (granted, net paid) in cents.
pub(crate) fn split_lines(dossier: &DossierState, weights: &[Decimal]) -> (Vec<i64>, Vec<i64>) {
    let mut granted = vec![0_i64; weights.len()];
    let mut paid = vec![0_i64; weights.len()];
    for line in dossier.lines.values() {
        let line_granted = split_cents(line.granted.cents(), weights);
        let line_paid = split_cents(line.net_paid().cents(), weights);
        for index in 0..weights.len() {
            granted[index] += line_granted[index];
            paid[index] += line_paid[index];
        }
    }
    (granted, paid)
}

/// The commune rows implied by quartier rows: each row split equally among its quartier's
/// communes (`""` for a quartier of no known commune).
fn communes_of(rows: &QuartierRows, referential: &ReferentialView) -> CommuneRows {
    let mut communes_rows: CommuneRows = BTreeMap::new();
    for ((quartier, exercice, _, _), (money, _)) in rows {
        let communes: Vec<String> = referential
            .quartier(quartier)
            .map(|q| q.communes.clone())
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| vec![String::new()]);
        let equal = vec![Decimal::ONE; communes.len()];
        let granted = split_cents(money.granted, &equal);
        let paid = split_cents(money.paid, &equal);
        for (c, commune) in communes.into_iter().enumerate() {
            let row = communes_rows.entry((commune, *exercice)).or_default();
            row.granted += granted[c];
            row.paid += paid[c];
        }
    }
    communes_rows
}

/// The quartier's id in the referential (a dossier may name a QPV by code or id).
pub(crate) fn canonical_quartier(id: &str, referential: &ReferentialView) -> String {
    referential
        .quartier(id)
        .map(|q| q.id.clone())
        .unwrap_or_else(|| id.to_string())
}

fn kind_name(kind: engagements_domain::porteur::PorteurKind) -> &'static str {
    use engagements_domain::porteur::PorteurKind;
    match kind {
        PorteurKind::Association => "association",
        PorteurKind::Commune => "commune",
        PorteurKind::Ccas => "ccas",
        PorteurKind::Bailleur => "bailleur",
        PorteurKind::Other => "other",
    }
}

/// Rows of the quartier table: (quartier, exercice, financeur, dispositif) → money, parts.
type QuartierRows = BTreeMap<(String, i32, String, String), (Money, i64)>;

/// The quartier table from its rows (rows with no money are left out).
fn quartier_table_of(rows: QuartierRows, referential: &ReferentialView) -> Table {
    let mut table = Table::new(
        "quartier",
        &[
            "quartier",
            "quartier_name",
            "quartier_kind",
            "exercice",
            "financeur",
            "dispositif",
            "granted_eur",
            "paid_eur",
            "dossiers",
        ],
    );
    for ((quartier, exercice, financeur, dispositif), (money, dossiers)) in rows {
        if money == Money::default() {
            continue;
        }
        let known = referential.quartier(&quartier);
        table.push(vec![
            quartier.as_str().into(),
            Cell::from(known.map(|q| q.name.clone())),
            Cell::from(known.map(|q| q.kind.as_str())),
            exercice.into(),
            financeur.into(),
            dispositif.into(),
            amount(money.granted),
            amount(money.paid),
            dossiers.into(),
        ]);
    }
    table
}

/// Rows of the objective table: (objectif, exercice) → money, parts.
type ObjectiveRows = BTreeMap<(u32, i32), (Money, i64)>;

/// The objective table from its rows (rows with no money are left out).
fn objective_table_of(rows: ObjectiveRows, referential: &ReferentialView) -> Table {
    let mut table = Table::new(
        "objective",
        &[
            "enjeu",
            "ambition",
            "objectif",
            "objectif_title",
            "exercice",
            "granted_eur",
            "paid_eur",
            "dossiers",
        ],
    );
    for ((number, exercice), (money, dossiers)) in rows {
        if money == Money::default() {
            continue;
        }
        let path = referential.objectif(number);
        table.push(vec![
            Cell::from(path.as_ref().map(|p| p.enjeu.id.clone())),
            Cell::from(path.as_ref().map(|p| p.ambition.id.clone())),
            i64::from(number).into(),
            Cell::from(path.as_ref().map(|p| p.objectif.title.clone())),
            exercice.into(),
            amount(money.granted),
            amount(money.paid),
            dossiers.into(),
        ]);
    }
    table
}

/// Rows of the commune table: (commune, exercice) → money.
type CommuneRows = BTreeMap<(String, i32), Money>;

/// The commune table from its rows (rows with no money are left out).
fn commune_table_of(rows: CommuneRows, referential: &ReferentialView) -> Table {
    let mut table = Table::new(
        "commune",
        &[
            "commune",
            "commune_name",
            "exercice",
            "granted_eur",
            "paid_eur",
        ],
    );
    for ((commune, exercice), money) in rows {
        if money == Money::default() {
            continue;
        }
        let name = referential.commune(&commune).map(|c| c.name.clone());
        table.push(vec![
            commune.into(),
            Cell::from(name),
            exercice.into(),
            amount(money.granted),
            amount(money.paid),
        ]);
    }
    table
}

/// The porteur table from its rows.
fn porteur_table_of(rows: PorteurRows, porteurs: &PorteursView) -> Table {
    let mut table = Table::new(
        "porteur",
        &[
            "porteur_id",
            "porteur_name",
            "porteur_kind",
            "exercice",
            "dossiers",
            "requested_eur",
            "granted_eur",
            "paid_eur",
            "reversed_eur",
            "crf_missing",
        ],
    );
    for ((_, exercice), (porteur_id, row)) in rows {
        let known = porteurs.get(&porteur_id);
        table.push(vec![
            porteur_id.to_string().into(),
            Cell::from(known.map(|p| p.name.clone())),
            Cell::from(known.map(|p| kind_name(p.kind))),
            exercice.into(),
            row.dossiers.into(),
            row.requested.into(),
            row.granted.into(),
            row.paid.into(),
            row.reversed.into(),
            row.crf_missing.into(),
        ]);
    }
    table
}
