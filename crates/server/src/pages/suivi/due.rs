//! What is due on a dossier, shown to everyone who reads it: the CRF by its date (or its
//! figures once received), what is left to pay, the conventions the 23 000 € rule requires.

use chrono::NaiveDate;
use engagements_audit::findings::crf_due_on;
use engagements_domain::dossier::{ActOfGrant, DossierState, LineStatus, CONVENTION_THRESHOLD_EUR};
use engagements_domain::Amount;
use engagements_projections::Projections;
use maud::{html, Markup};

use crate::pages::dossiers::organisation_name;
use crate::pages::format_eur;

/// What is due on the dossier: the CRF by its date, what is left to pay, the conventions the
/// 23 000 € rule requires. Shown to everyone who reads the dossier.
pub fn due(projections: &Projections, dossier: &DossierState, today: NaiveDate) -> Markup {
    let Some(filing) = dossier.filed.as_ref() else {
        return html! {};
    };
    let granted = dossier.granted_total();
    let cpo = projections.subsidy.cpos.values().find(|row| {
        row.state
            .confirmed
            .iter()
            .any(|(_, d)| *d == filing.dossier_id)
    });
    if granted.is_zero() && dossier.crf_received_on.is_none() && cpo.is_none() {
        return html! {};
    }
    let due_on = crf_due_on(filing.exercice);
    let left: Amount = dossier
        .lines
        .values()
        .map(|l| l.granted.saturating_sub(l.net_paid()))
        .sum();
    let mut financeurs: Vec<&String> = dossier
        .lines
        .iter()
        .filter(|(_, l)| l.status == LineStatus::Granted)
        .map(|((f, _), _)| f)
        .collect();
    financeurs.dedup();
    html! {
        section #du {
            h2 { "Ce qui reste à faire" }
            ul {
                @if let Some(cpo) = cpo {
                    li { "Ce dossier réalise l'année " (filing.exercice) " de la CPO « " (cpo.title) " » n° " (cpo.number)
                        " (" (cpo.state.first_exercice) " à " (cpo.state.first_exercice + engagements_domain::cpo::CPO_YEARS - 1) ")." }
                }
                @if !granted.is_zero() {
                    li { "Reste à payer sur ce dossier : " strong { (format_eur(left)) } " (sur " (format_eur(granted)) " accordés)." }
                }
                @match (dossier.crf_received_on, due_on) {
                    (Some(on), _) => li { "Compte rendu financier reçu le " (on.format("%d/%m/%Y")) "." (crf_figures(dossier)) },
                    (None, _) if granted.is_zero() => {},
                    (None, Some(due)) if due < today => li.error { "Compte rendu financier en retard : attendu au plus tard le " (due.format("%d/%m/%Y")) "." },
                    (None, Some(due)) => li { "Compte rendu financier attendu au plus tard le " strong { (due.format("%d/%m/%Y")) } "." },
                    _ => {},
                }
                @for financeur in financeurs {
                    @let total = projections.subsidy.granted_to_porteur(&filing.porteur_id, financeur, filing.exercice);
                    @let act = dossier.conventions.get(financeur.as_str());
                    li {
                        (organisation_name(projections, financeur)) " : "
                        @match act {
                            Some(act) => { (act_label(act.kind)) " n° " (act.number) (if act.kind == ActOfGrant::Convention { " signée le " } else { " signé le " }) (act.signed_on.format("%d/%m/%Y")) "." }
                            None => { "aucune convention ni arrêté enregistré." }
                        }
                        @if total.value() > CONVENTION_THRESHOLD_EUR && act.is_none_or(|a| a.kind != ActOfGrant::Convention) {
                            span.error { " Convention requise avant tout paiement : " (format_eur(total)) " accordés au porteur en " (filing.exercice) ", au-delà de 23 000 €." }
                        }
                    }
                }
            }
        }
    }
}

fn crf_figures(dossier: &DossierState) -> Markup {
    let Some(figures) = dossier.crf.as_ref() else {
        return html! {};
    };
    let net_paid: Amount = dossier.lines.values().map(|l| l.net_paid()).sum();
    html! {
        ul.facts {
            @if let Some(v) = figures.budget_realised { li { "Budget réalisé : " strong { (format_eur(v)) } } }
            @if let Some(v) = figures.expenses { li { "Dépenses : " strong { (format_eur(v)) } } }
            @if let Some(v) = figures.grant_used {
                li { "Part de la subvention utilisée : " strong { (format_eur(v)) } }
                @if v < net_paid {
                    li.error { "Non utilisé : " (format_eur(net_paid.saturating_sub(v))) " (un reversement peut être demandé)" }
                }
            }
            @if let Some(c) = &figures.comment { li { "Commentaires : " (c) } }
        }
    }
}

fn act_label(kind: ActOfGrant) -> &'static str {
    match kind {
        ActOfGrant::Convention => "convention",
        ActOfGrant::Arrete => "arrêté attributif",
    }
}
