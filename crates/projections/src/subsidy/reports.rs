//! The funding views, as report tables (columns documented in `docs/reports.md`).
//!
//! Every amount column reconciles: the `granted_eur` of the signatory, quartier, objective,
//! commune and porteur views each add up, to the cent, to the sum of the grants in force.

use std::collections::BTreeMap;

use engagements_domain::dossier::{DossierState, LineStatus};
use engagements_domain::envelope::EnvelopeKey;
use engagements_domain::Amount;
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

impl SubsidyView {
    /// Per signatory / financeur × exercice × dispositif: envelope, requested, proposed, granted,
    /// refused, paid, reversed, left to pay, envelope left; CPO forecasts for that year apart.
    pub fn signatory_table(&self, year: Option<i32>, referential: &ReferentialView) -> Table {
        let mut rows: BTreeMap<EnvelopeKey, SignatoryTotals> = BTreeMap::new();
        let in_year = |exercice: i32| year.is_none_or(|y| y == exercice);
        for (key, envelope) in &self.envelopes {
            if in_year(key.exercice) {
                let row = rows.entry(key.clone()).or_default();
                row.envelope = Some(envelope.amount);
                row.authorised = envelope.over_commitment_authorised;
            }
        }
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
        let mut rows: BTreeMap<(String, i32, String, String), (Money, i64)> = BTreeMap::new();
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

    /// Per objectif (enjeu → ambition → objectif) × exercice, split by the dossier's weights.
    pub fn objective_table(&self, year: Option<i32>, referential: &ReferentialView) -> Table {
        let mut rows: BTreeMap<(u32, i32), (Money, i64)> = BTreeMap::new();
        for dossier in self.filed(year) {
            let Some(filing) = dossier.filed.as_ref() else {
                continue;
            };
            let weights: Vec<Decimal> = filing
                .objectifs
                .iter()
                .map(|o| o.weight.unwrap_or(Decimal::ONE))
                .collect();
            let net_paid: Amount = dossier.lines.values().map(|l| l.net_paid()).sum();
            let granted = split_cents(dossier.granted_total().cents(), &weights);
            let paid = split_cents(net_paid.cents(), &weights);
            for (index, o) in filing.objectifs.iter().enumerate() {
                let row = rows.entry((o.objectif, filing.exercice)).or_default();
                row.0.granted += granted[index];
                row.0.paid += paid[index];
                row.1 += 1;
            }
        }
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

    /// Per commune × exercice: each quartier's part (see [`SubsidyView::quartier_table`]) split
    /// equally among the communes the quartier lies in (the contract gives no population per
    /// commune and quartier).
    pub fn commune_table(&self, year: Option<i32>, referential: &ReferentialView) -> Table {
        let mut rows: BTreeMap<(String, i32), Money> = BTreeMap::new();
        for dossier in self.filed(year) {
            let Some(filing) = dossier.filed.as_ref() else {
                continue;
            };
            let weights = quartier_weights(dossier, referential);
            let net_paid: Amount = dossier.lines.values().map(|l| l.net_paid()).sum();
            let granted = split_cents(dossier.granted_total().cents(), &weights);
            let paid = split_cents(net_paid.cents(), &weights);
            for (index, q) in filing.quartiers.iter().enumerate() {
                let communes: Vec<String> = referential
                    .quartier(&q.quartier)
                    .map(|q| q.communes.clone())
                    .filter(|c| !c.is_empty())
                    .unwrap_or_else(|| vec![String::new()]);
                let equal = vec![Decimal::ONE; communes.len()];
                let granted = split_cents(granted[index], &equal);
                let paid = split_cents(paid[index], &equal);
                for (c, commune) in communes.into_iter().enumerate() {
                    let row = rows.entry((commune, filing.exercice)).or_default();
                    row.granted += granted[c];
                    row.paid += paid[c];
                }
            }
        }
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

    /// Per porteur × exercice: dossiers, requested, granted, paid, reversed, CRF still missing.
    pub fn porteur_table(&self, year: Option<i32>, porteurs: &PorteursView) -> Table {
        #[derive(Default)]
        struct Totals {
            dossiers: i64,
            requested: Amount,
            granted: Amount,
            paid: Amount,
            reversed: Amount,
            crf_missing: i64,
        }
        let mut rows: BTreeMap<(String, i32), (engagements_domain::PorteurId, Totals)> =
            BTreeMap::new();
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
                .or_insert_with(|| (filing.porteur_id, Totals::default()));
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
fn quartier_weights(dossier: &DossierState, referential: &ReferentialView) -> Vec<Decimal> {
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

/// The quartier's id in the referential (a dossier may name a QPV by code or id).
fn canonical_quartier(id: &str, referential: &ReferentialView) -> String {
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
