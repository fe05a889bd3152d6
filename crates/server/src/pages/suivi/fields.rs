//! The fields of each form, and what a person needs to know before sending it (the 23 000 €
//! rule, what is left to pay, the CRF's date, the CPO's years).

use engagements_audit::findings::crf_due_on;
use engagements_domain::cpo::CPO_YEARS;
use engagements_domain::dossier::ActOfGrant;
use engagements_domain::Amount;
use maud::{html, Markup};

use super::{Ctx, Kind, Target};
use crate::pages::entry::{Field, Input};
use crate::pages::format_eur;

/// The fields of a form.
pub(super) fn fields(kind: Kind, ctx: &Ctx<'_>) -> Vec<Field> {
    const ACTS: &[(&str, &str)] = &[
        ("convention", "Convention"),
        ("arrete", "Arrêté attributif"),
    ];
    const PAYMENTS: &[(&str, &str)] = &[
        ("avance", "Avance"),
        ("acompte", "Acompte"),
        ("solde", "Solde (dernier paiement)"),
    ];
    const CHANGES: &[(&str, &str)] = &[
        ("reduce", "Réduction"),
        ("increase", "Augmentation"),
        ("cancel", "Annulation"),
    ];
    let year = ctx.filing.exercice;
    match kind {
        Kind::Convention => vec![
            Field::required("nature", "Nature de l'acte", Input::Choice(ACTS)),
            Field::required("numero", "Numéro de l'acte", Input::Text),
            Field::required("signe_le", "Signé le", Input::Date),
        ],
        Kind::Paiement => vec![
            Field::required("nature", "Nature du paiement", Input::Choice(PAYMENTS)),
            Field::required("montant", "Montant payé", Input::Amount),
            Field::required("paye_le", "Payé le", Input::Date),
            Field::required("mandat", "Référence du mandat de paiement", Input::Text),
        ],
        Kind::Crf => vec![
            Field::required("recu_le", "Reçu le", Input::Date),
            Field::optional(
                "budget_realise",
                "Budget réalisé de l'action",
                Input::Amount,
            ),
            Field::optional("depenses", "Dépenses déclarées", Input::Amount),
            Field::optional(
                "part_utilisee",
                "Part de la subvention utilisée",
                Input::Amount,
            )
            .hint(format!(
                "en euros, au plus les {} accordés",
                format_eur(ctx.dossier.granted_total())
            )),
            Field::optional("commentaire", "Commentaires", Input::LongText),
        ],
        Kind::Modification => vec![
            Field::required("nature", "Modification", Input::Choice(CHANGES)),
            Field::optional("montant", "De combien", Input::Amount)
                .hint("en euros ; laissez vide pour une annulation"),
            Field::required("decide_le", "Décidé le", Input::Date),
            Field::required("motif", "Motif", Input::LongText),
        ],
        Kind::Reversement => vec![
            Field::required("montant", "Montant à reverser", Input::Amount),
            Field::required("demande_le", "Demandé le", Input::Date),
            Field::required("motif", "Motif", Input::LongText),
        ],
        Kind::ReversementRecu => vec![
            Field::required("montant", "Montant reçu", Input::Amount),
            Field::required("recu_le", "Reçu le", Input::Date),
        ],
        Kind::Cpo => vec![
            Field::required("intitule", "Intitulé de la CPO", Input::Text),
            Field::required("numero", "Numéro de la CPO", Input::Text),
            Field::required("signe_le", "Signée le", Input::Date),
            Field::required(
                "annee_1",
                format!("Montant prévu pour {year} (année 1, ferme)"),
                Input::Amount,
            ),
            Field::optional(
                "annee_2",
                format!("Montant prévu pour {} (prévision)", year + 1),
                Input::Amount,
            ),
            Field::optional(
                "annee_3",
                format!("Montant prévu pour {} (prévision)", year + 2),
                Input::Amount,
            ),
        ],
        Kind::CpoAnnee => Vec::new(),
        Kind::Retrait => vec![Field::required(
            "motif",
            "Motif du retrait",
            Input::LongText,
        )],
    }
}

/// What the person needs to know before sending the form.
pub(super) fn info(kind: Kind, ctx: &Ctx<'_>, target: &Target) -> Markup {
    let line = ctx.line(target);
    match (kind, line) {
        (Kind::Convention, _) => convention_rule(ctx, &target.financeur),
        (Kind::Paiement, Some(line)) => html! {
            p { "Accordé " strong { (format_eur(line.granted)) } ", payé (net des reversements) " (format_eur(line.net_paid()))
                ", reste à payer " strong { (format_eur(line.granted.saturating_sub(line.net_paid()))) } "." }
            @if ctx.convention_required(&target.financeur)
                && ctx.dossier.conventions.get(&target.financeur).is_none_or(|c| c.kind != ActOfGrant::Convention) {
                p.error { "Une convention signée est requise avant tout paiement : ce porteur reçoit "
                    (format_eur(ctx.granted_to_porteur(&target.financeur))) " de ce financeur en " (ctx.filing.exercice)
                    ", au-delà de 23 000 €. Enregistrez d'abord la convention." }
            }
        },
        (Kind::Modification, Some(line)) => html! {
            p { "Accordé aujourd'hui " strong { (format_eur(line.granted)) } ", payé (net des reversements) " (format_eur(line.net_paid())) ". "
                "Une réduction ne peut pas descendre sous ce qui est payé ; une annulation exige que rien ne reste payé." }
        },
        (Kind::Reversement, Some(line)) => html! {
            p { "Payé " (format_eur(line.paid)) ", reversements déjà demandés " (format_eur(line.reversement_ordered)) "." }
        },
        (Kind::ReversementRecu, Some(line)) => html! {
            p { "Reversement demandé " (format_eur(line.reversement_ordered)) ", déjà reçu " (format_eur(line.reversement_received)) "." }
        },
        (Kind::Crf, _) => html! {
            p { "Attendu au plus tard le " strong { (crf_due_text(ctx.filing.exercice)) }
                " (6 mois après la fin de l'exercice " (ctx.filing.exercice) ")." }
        },
        (Kind::Cpo, _) => html! {
            p { "La CPO couvre " (ctx.filing.exercice) " à " (ctx.filing.exercice + CPO_YEARS - 1)
                " pour la ligne " (ctx.line_label(target)) " : l'année 1 est ferme et réalisée par ce dossier ; "
                "les suivantes sont des prévisions, confirmées chaque année par le dossier qui les réalise." }
        },
        (Kind::CpoAnnee, _) => cpo_year_info(ctx, target),
        (Kind::Retrait, _) => html! {
            p { "Le retrait est définitif : plus rien ne pourra être décidé ni payé sur ce dossier." }
        },
        _ => html! {},
    }
}

fn crf_due_text(exercice: i32) -> String {
    crf_due_on(exercice)
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_default()
}

/// The 23 000 € rule for one financeur of the dossier.
fn convention_rule(ctx: &Ctx<'_>, financeur: &str) -> Markup {
    let total = ctx.granted_to_porteur(financeur);
    let signed = ctx.dossier.conventions.get(financeur);
    html! {
        p {
            "Ce porteur reçoit " strong { (format_eur(total)) } " de " (ctx.org(financeur)) " en " (ctx.filing.exercice) " (tous ses dossiers). "
            @if ctx.convention_required(financeur) {
                strong { "Au-delà de 23 000 € par an, une convention est obligatoire avant tout paiement" }
                " (loi n° 2000-321 du 12 avril 2000, art. 10 ; décret n° 2001-495)."
            } @else {
                "Jusqu'à 23 000 € par an, un arrêté attributif suffit ; au-delà, une convention est obligatoire avant tout paiement (loi n° 2000-321, art. 10)."
            }
        }
        @if let Some(act) = signed {
            p { "Déjà signé : arrêté n° " (act.number) " du " (act.signed_on.format("%d/%m/%Y")) " ; une convention peut le compléter." }
        }
    }
}

fn cpo_year_info(ctx: &Ctx<'_>, target: &Target) -> Markup {
    let Some(row) = target
        .cpo
        .and_then(|id| ctx.projections.subsidy.cpos.get(&id))
    else {
        return html! {};
    };
    let year = ctx.filing.exercice;
    let planned: Amount = row
        .state
        .schedule
        .iter()
        .filter(|l| l.exercice == year)
        .map(|l| l.amount)
        .sum();
    html! {
        p { "CPO « " (row.title) " » n° " (row.number) " : " (format_eur(planned)) " prévus pour " (year)
            ". Confirmer que ce dossier réalise l'année " (year) " de la CPO (le montant reste celui que le comité accorde au dossier)." }
    }
}
