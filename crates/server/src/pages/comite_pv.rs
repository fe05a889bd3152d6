//! The procès-verbal of a held session of the comité des financeurs: its decisions per financeur
//! with their totals, and each envelope as it stood just after the session; it prints on A4.

use std::collections::BTreeMap;

use axum::response::Html;
use engagements_domain::comite::AgendaLine;
use engagements_domain::envelope::EnvelopeKey;
use engagements_domain::Amount;
use engagements_projections::comite::{Outcome, SessionRow};
use engagements_projections::Projections;
use engagements_store::persons::Names;
use maud::html;

use crate::auth::Caller;
use crate::pages::comite::{agenda_dossier, requested_of};
use crate::pages::dossiers::{dispositif_short, organisation_name, porteur_name};
use crate::pages::{format_eur, layout};

/// An agenda line of the procès-verbal, its decision and the amount granted.
type DecidedLine<'a> = (&'a AgendaLine, Option<Outcome>, Amount);

/// The session's procès-verbal: its decisions per financeur with their totals, and the envelopes
/// as they stood just after the session (`then`); `names` reads the persons who prepared and
/// recorded it.
pub fn proces_verbal(
    caller: &Caller,
    projections: &Projections,
    then: &Projections,
    session: &SessionRow,
    names: &Names,
) -> Html<String> {
    let mut by_financeur: BTreeMap<String, Vec<DecidedLine<'_>>> = BTreeMap::new();
    for line in &session.agenda {
        let decision = session.decision(line);
        by_financeur
            .entry(organisation_name(projections, &line.financeur))
            .or_default()
            .push((
                line,
                decision.map(|d| d.outcome),
                decision.map(|d| d.amount).unwrap_or(Amount::ZERO),
            ));
    }
    let count = |outcome: Outcome| {
        session
            .decisions
            .iter()
            .filter(|d| d.outcome == outcome)
            .count()
    };
    let mut envelopes: BTreeMap<EnvelopeKey, Amount> = BTreeMap::new();
    for decision in &session.decisions {
        let key = EnvelopeKey::new(&decision.financeur, &decision.dispositif, session.exercice);
        let sum = envelopes.entry(key).or_default();
        *sum = sum.checked_add(decision.amount).unwrap_or(*sum);
    }
    let held = session.held.as_ref();
    let title = format!("Comité — procès-verbal {}", session.reference);
    layout(
        &title,
        Some(caller),
        html! {
            article.pv {
                p.breadcrumb { a href="/comite" { "Comité des financeurs" } " › séance " (session.reference) }
                h1 { "Procès-verbal du comité des financeurs" }
                p.pv-head { "Séance du " strong { (session.held_on.format("%d/%m/%Y")) } " — référence " strong { (session.reference) }
                    " — exercice " (session.exercice) " — contrat de ville " (projections.referential.contract().map(|c| c.name.clone()).unwrap_or_default()) }
                p { (session.agenda.len()) " ligne(s) examinée(s) : " (count(Outcome::Granted)) " accordée(s), " (count(Outcome::Refused)) " refusée(s), "
                    (count(Outcome::Adjourned)) " ajournée(s) ; total accordé " strong { (format_eur(session.granted_total())) } "." }
                h2 { "Décisions par financeur" }
                @for (financeur, lines) in &by_financeur {
                    div.scroll { table.report {
                        caption { (financeur) }
                        thead { tr { th scope="col" { "Dossier" } th scope="col" { "Porteur" } th scope="col" { "Dispositif" } th scope="col" { "Sollicité" } th scope="col" { "Proposé" } th scope="col" { "Décision" } th scope="col" { "Accordé" } } }
                        tbody {
                            @for (line, outcome, amount) in lines {
                                @let dossier = agenda_dossier(projections, line.dossier_id);
                                tr {
                                    td { @if let Some((filing, _)) = dossier { a href=(format!("/dossiers/{}", filing.dossier_id)) { (filing.title) } } }
                                    td { @if let Some((filing, _)) = dossier { (porteur_name(projections, filing)) } }
                                    td { (dispositif_short(projections, &line.dispositif)) }
                                    td.num { (format_eur(requested_of(projections, line))) }
                                    td.num { (format_eur(line.proposed_amount)) }
                                    td { (outcome.map(outcome_fr).unwrap_or("sans objet")) }
                                    td.num { (format_eur(*amount)) }
                                }
                            }
                        }
                        tfoot { tr {
                            th scope="row" colspan="3" { "Total " (financeur) }
                            td.num { (format_eur(lines.iter().map(|(l, _, _)| requested_of(projections, l)).sum())) }
                            td.num { (format_eur(lines.iter().map(|(l, _, _)| l.proposed_amount).sum())) }
                            td {}
                            td.num { (format_eur(lines.iter().map(|(_, _, a)| *a).sum())) }
                        } }
                    } }
                }
                h2 { "Enveloppes après la séance" }
                div.scroll { table.report {
                    caption { "Enveloppes telles qu'elles étaient juste après l'enregistrement des décisions" }
                    thead { tr { th scope="col" { "Financeur" } th scope="col" { "Dispositif" } th scope="col" { "Enveloppe" } th scope="col" { "Accordé lors de la séance" } th scope="col" { "Total engagé après la séance" } th scope="col" { "Reste après la séance" } } }
                    tbody {
                        @for (key, granted) in &envelopes {
                            @let envelope = then.subsidy.envelopes.get(key);
                            tr {
                                td { (organisation_name(projections, &key.financeur)) }
                                td { (dispositif_short(projections, &key.dispositif)) }
                                td.num { (envelope.map(|e| format_eur(e.ceiling())).unwrap_or_default()) }
                                td.num { (format_eur(*granted)) }
                                td.num { (envelope.map(|e| format_eur(e.committed)).unwrap_or_default()) }
                                td.num { (envelope.map(|e| format_eur(e.ceiling().saturating_sub(e.committed))).unwrap_or_default()) }
                            }
                        }
                    }
                    tfoot { tr {
                        th scope="row" colspan="3" { "Total" }
                        td.num { (format_eur(envelopes.values().copied().sum())) }
                        td {} td {}
                    } }
                } }
                @if let Some(held) = held {
                    p.muted { "Ordre du jour préparé par " (names.display(&session.prepared.person)) " (" (organisation_name(projections, &session.prepared.organisation)) ") ; décisions enregistrées par "
                        (names.display(&held.person)) " (" (organisation_name(projections, &held.organisation)) "), événement n° " (held.position) " du registre." }
                }
                div.signatures {
                    p { "Pour l'État," br; "le représentant du Préfet" }
                    p { "Pour la Communauté d'Agglomération," br; "le Président ou son représentant" }
                }
                p.no-print.muted { "Cette page s'imprime comme procès-verbal (format A4) : menu Fichier › Imprimer, ou Ctrl+P." }
            }
        },
    )
}

fn outcome_fr(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Granted => "accordé",
        Outcome::Refused => "refusé",
        Outcome::Adjourned => "ajourné",
    }
}
