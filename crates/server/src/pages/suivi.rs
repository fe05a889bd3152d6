//! After the comité's decision, on the dossier's page: the forms of a grant's life, each drawn
//! for the lines the caller may act on (an instructeur its own financeur's, an admin all), folded
//! under its title (`<details>`, no script), and posted to `/dossiers/{id}/suivi/{form}`:
//!
//! - `convention`: a convention or an arrêté attributif signed (kind, number, date), with the
//!   23 000 € rule shown (above it, a convention before any payment);
//! - `paiement`: an avance, an acompte or the solde (amount, date, mandat reference);
//! - `crf`: the compte rendu financier received, with its Cerfa 15059 figures;
//! - `modification`: a grant reduced, increased or cancelled, with its reason;
//! - `reversement` and `reversement-recu`: a reversement ordered, then received;
//! - `cpo`: a CPO signed with the porteur, this dossier realising its year 1 (both recorded, or
//!   neither); `cpo-annee`: this dossier confirmed as a later year of a CPO already signed;
//! - `retrait`: the dossier withdrawn.
//!
//! Above the forms, what is due: the CRF's date, what is left to pay, the conventions required.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use engagements_app::audit::findings::crf_due_on;
use engagements_app::auth::authorize;
use engagements_app::{CommandError, CommandMeta};
use engagements_domain::cpo::{CpoCommand, CpoId, CpoLine, CpoYearStatus, CPO_YEARS};
use engagements_domain::dossier::{
    ActOfGrant, DossierCommand, DossierFiling, DossierState, FundingLine, GrantChange, LineStatus,
    PaymentKind, CONVENTION_THRESHOLD_EUR,
};
use engagements_domain::{ActKind, ActRef, Amount, DossierId, LedgerCommand};
use engagements_projections::Projections;
use maud::{html, Markup};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::pages::dossiers::{dispositif_name, dossier_page, organisation_name, DossierDraft};
use crate::pages::entry::{draw, field_id, Field, Input, Reader};
use crate::pages::forms::{
    acting_as, command_id_input, forbidden_form, page_defaults, posted_command_id, refusal_fr,
    role_may_send, FieldErrors, Posted,
};
use crate::pages::{format_eur, PageError, PageParams};
use crate::sessions::{csrf_input, PageSession, SessionForm};
use crate::state::AppState;

/// The forms of a grant's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Convention,
    Paiement,
    Crf,
    Modification,
    Reversement,
    ReversementRecu,
    Cpo,
    CpoAnnee,
    Retrait,
}

impl Kind {
    /// Every form, in the order the page draws them.
    pub const ALL: [Kind; 9] = [
        Kind::Convention,
        Kind::Paiement,
        Kind::Modification,
        Kind::Reversement,
        Kind::ReversementRecu,
        Kind::Crf,
        Kind::Cpo,
        Kind::CpoAnnee,
        Kind::Retrait,
    ];

    /// The form's segment in `/dossiers/{id}/suivi/{slug}`.
    pub fn slug(self) -> &'static str {
        match self {
            Kind::Convention => "convention",
            Kind::Paiement => "paiement",
            Kind::Crf => "crf",
            Kind::Modification => "modification",
            Kind::Reversement => "reversement",
            Kind::ReversementRecu => "reversement-recu",
            Kind::Cpo => "cpo",
            Kind::CpoAnnee => "cpo-annee",
            Kind::Retrait => "retrait",
        }
    }

    fn from_slug(slug: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.slug() == slug)
    }

    /// The command the form sends (the first, for the CPO's two).
    pub fn command(self) -> &'static str {
        match self {
            Kind::Convention => "sign_convention",
            Kind::Paiement => "record_payment",
            Kind::Crf => "receive_crf",
            Kind::Modification => "change_subsidy",
            Kind::Reversement => "order_reversement",
            Kind::ReversementRecu => "receive_reversement",
            Kind::Cpo => "sign_cpo",
            Kind::CpoAnnee => "confirm_cpo_year",
            Kind::Retrait => "withdraw_dossier",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::Convention => "Convention ou arrêté signé",
            Kind::Paiement => "Enregistrer un paiement (avance, acompte, solde)",
            Kind::Crf => "Compte rendu financier reçu (Cerfa 15059)",
            Kind::Modification => "Modifier la subvention (réduction, augmentation, annulation)",
            Kind::Reversement => "Demander un reversement",
            Kind::ReversementRecu => "Reversement reçu",
            Kind::Cpo => "Signer une CPO (ce dossier en est l'année 1)",
            Kind::CpoAnnee => "Confirmer une année de CPO avec ce dossier",
            Kind::Retrait => "Retirer le dossier",
        }
    }

    fn submit(self) -> &'static str {
        match self {
            Kind::Convention => "Enregistrer la signature",
            Kind::Paiement => "Enregistrer le paiement",
            Kind::Crf => "Enregistrer le compte rendu",
            Kind::Modification => "Enregistrer la modification",
            Kind::Reversement => "Enregistrer la demande de reversement",
            Kind::ReversementRecu => "Enregistrer le reversement reçu",
            Kind::Cpo => "Enregistrer la CPO",
            Kind::CpoAnnee => "Confirmer l'année",
            Kind::Retrait => "Retirer le dossier",
        }
    }
}

/// What a form applies to: a financeur (its act), a line (financeur × dispositif), a CPO, or the
/// dossier itself (all empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub financeur: String,
    pub dispositif: String,
    pub cpo: Option<CpoId>,
}

impl Target {
    fn line(financeur: &str, dispositif: &str) -> Target {
        Target {
            financeur: financeur.to_string(),
            dispositif: dispositif.to_string(),
            cpo: None,
        }
    }

    /// The form's id in the page: its kind and what it applies to.
    fn form_id(&self, kind: Kind) -> String {
        let mut id = kind.slug().to_string();
        for part in [&self.financeur, &self.dispositif] {
            if !part.is_empty() {
                id.push('-');
                id.push_str(part);
            }
        }
        if let Some(cpo) = self.cpo {
            id.push('-');
            id.push_str(&cpo.to_string());
        }
        id
    }

    fn of(posted: &Posted) -> Target {
        Target {
            financeur: posted.get("financeur").to_string(),
            dispositif: posted.get("dispositif").to_string(),
            cpo: posted.get("cpo").parse().ok(),
        }
    }

    fn dispositif(&self) -> Option<String> {
        Some(self.dispositif.clone()).filter(|d| !d.is_empty())
    }
}

/// A refused form: its kind, what it applied to, its values and errors, drawn again.
#[derive(Debug, Clone)]
pub struct SuiviDraft {
    pub kind: Kind,
    pub target: Target,
    pub posted: Posted,
    pub errors: FieldErrors,
}

/// What the forms of one dossier are drawn from.
struct Ctx<'a> {
    caller: &'a Caller,
    projections: &'a Projections,
    dossier: &'a DossierState,
    filing: &'a DossierFiling,
}

impl Ctx<'_> {
    fn line(&self, target: &Target) -> Option<&FundingLine> {
        self.dossier
            .lines
            .get(&(target.financeur.clone(), target.dispositif.clone()))
    }

    /// What `financeur` grants the porteur in the exercice, all its dossiers together.
    fn granted_to_porteur(&self, financeur: &str) -> Amount {
        self.projections.subsidy.granted_to_porteur(
            &self.filing.porteur_id,
            financeur,
            self.filing.exercice,
        )
    }

    fn convention_required(&self, financeur: &str) -> bool {
        self.granted_to_porteur(financeur).value() > CONVENTION_THRESHOLD_EUR
    }

    fn org(&self, id: &str) -> String {
        organisation_name(self.projections, id)
    }

    fn line_label(&self, target: &Target) -> String {
        format!(
            "{} — {}",
            self.org(&target.financeur),
            dispositif_name(self.projections, &target.dispositif)
        )
    }
}

/// The lines (financeur × dispositif) whose state lets form `kind` apply.
fn lines_where(ctx: &Ctx<'_>, keep: impl Fn(&FundingLine) -> bool) -> Vec<Target> {
    ctx.dossier
        .lines
        .iter()
        .filter(|(_, line)| keep(line))
        .map(|((f, d), _)| Target::line(f, d))
        .collect()
}

/// What each form applies to now, before the authorization table is asked.
fn candidates(kind: Kind, ctx: &Ctx<'_>) -> Vec<Target> {
    let granted = |l: &FundingLine| l.status == LineStatus::Granted;
    match kind {
        Kind::Convention => {
            let mut financeurs: Vec<String> = ctx
                .dossier
                .lines
                .iter()
                .filter(|(_, l)| granted(l))
                .map(|((f, _), _)| f.clone())
                .filter(|f| {
                    ctx.dossier
                        .conventions
                        .get(f)
                        .is_none_or(|c| c.kind == ActOfGrant::Arrete)
                })
                .collect();
            financeurs.dedup();
            financeurs
                .into_iter()
                .map(|financeur| Target {
                    financeur,
                    ..Target::default()
                })
                .collect()
        }
        Kind::Paiement => lines_where(ctx, |l| {
            granted(l) && !l.solde_paid && l.net_paid() < l.granted
        }),
        Kind::Modification => lines_where(ctx, granted),
        Kind::Reversement => lines_where(ctx, |l| l.paid > l.reversement_ordered),
        Kind::ReversementRecu => {
            lines_where(ctx, |l| l.reversement_ordered > l.reversement_received)
        }
        Kind::Cpo => {
            if cpo_of_dossier(ctx).is_some() {
                return Vec::new();
            }
            lines_where(ctx, granted)
        }
        Kind::CpoAnnee => cpos_to_confirm(ctx)
            .into_iter()
            .map(|cpo| Target {
                cpo: Some(cpo),
                ..Target::default()
            })
            .collect(),
        Kind::Crf => {
            let due =
                ctx.dossier.crf_received_on.is_none() && !ctx.dossier.granted_total().is_zero();
            if due {
                vec![Target::default()]
            } else {
                Vec::new()
            }
        }
        Kind::Retrait => {
            if ctx.dossier.granted_total().is_zero() {
                vec![Target::default()]
            } else {
                Vec::new()
            }
        }
    }
}

/// The CPO one of whose years this dossier realises, if any.
fn cpo_of_dossier(ctx: &Ctx<'_>) -> Option<CpoId> {
    ctx.projections
        .subsidy
        .cpos
        .iter()
        .find(|(_, row)| {
            row.state
                .confirmed
                .iter()
                .any(|(_, d)| *d == ctx.filing.dossier_id)
        })
        .map(|(id, _)| *id)
}

/// The porteur's CPO with a year of this dossier's exercice still to confirm.
fn cpos_to_confirm(ctx: &Ctx<'_>) -> Vec<CpoId> {
    if cpo_of_dossier(ctx).is_some() {
        return Vec::new();
    }
    let year = ctx.filing.exercice;
    ctx.projections
        .subsidy
        .cpos
        .iter()
        .filter(|(_, row)| {
            let state = &row.state;
            state.porteur_id == Some(ctx.filing.porteur_id)
                && state.terminated_on.is_none()
                && (state.first_exercice..state.first_exercice + CPO_YEARS).contains(&year)
                && matches!(
                    state.year_status(year),
                    CpoYearStatus::Firm | CpoYearStatus::Forecast
                )
        })
        .map(|(id, _)| *id)
        .collect()
}

/// A command of the form's kind on `target`, for asking the authorization table.
fn sample(kind: Kind, ctx: &Ctx<'_>, target: &Target) -> LedgerCommand {
    let dossier_id = ctx.filing.dossier_id;
    let financeur = target.financeur.clone();
    let dispositif = target.dispositif();
    let day = NaiveDate::default();
    let one = Amount::from_cents(1).unwrap_or_default();
    match kind {
        Kind::Cpo => LedgerCommand::Cpo(CpoCommand::Sign {
            cpo_id: CpoId::new(),
            porteur_id: ctx.filing.porteur_id,
            title: "x".into(),
            number: "x".into(),
            signed_on: day,
            first_exercice: ctx.filing.exercice,
            schedule: vec![CpoLine {
                exercice: ctx.filing.exercice,
                financeur,
                dispositif: target.dispositif.clone(),
                amount: one,
            }],
        }),
        Kind::CpoAnnee => LedgerCommand::Cpo(CpoCommand::ConfirmYear {
            cpo_id: target.cpo.unwrap_or_default(),
            exercice: ctx.filing.exercice,
            dossier_id,
        }),
        _ => LedgerCommand::Dossier(match kind {
            Kind::Convention => DossierCommand::SignConvention {
                dossier_id,
                financeur,
                kind: ActOfGrant::Convention,
                number: "x".into(),
                signed_on: day,
            },
            Kind::Paiement => DossierCommand::RecordPayment {
                dossier_id,
                financeur,
                dispositif,
                kind: PaymentKind::Avance,
                amount: one,
                paid_on: day,
                mandate_reference: "x".into(),
            },
            Kind::Modification => DossierCommand::ChangeGrant {
                dossier_id,
                financeur,
                dispositif,
                change: GrantChange::Reduce,
                amount: Some(one),
                reason: "x".into(),
                decided_on: day,
            },
            Kind::Reversement => DossierCommand::OrderReversement {
                dossier_id,
                financeur,
                dispositif,
                amount: one,
                reason: "x".into(),
                ordered_on: day,
            },
            Kind::ReversementRecu => DossierCommand::ReceiveReversement {
                dossier_id,
                financeur,
                dispositif,
                amount: one,
                received_on: day,
            },
            Kind::Crf => DossierCommand::ReceiveCrf {
                dossier_id,
                received_on: day,
                budget_realised: None,
                expenses: None,
                grant_used: None,
                comment: None,
            },
            _ => DossierCommand::Withdraw {
                dossier_id,
                reason: "x".into(),
            },
        }),
    }
}

/// The forms of `kind` the caller may send on this dossier now.
fn targets(kind: Kind, ctx: &Ctx<'_>) -> Vec<Target> {
    if !role_may_send(ctx.caller.0.role, kind.command()) {
        return Vec::new();
    }
    candidates(kind, ctx)
        .into_iter()
        .filter(|t| authorize(&ctx.caller.0, &sample(kind, ctx, t), ctx.projections).is_ok())
        .collect()
}

/// The fields of a form.
fn fields(kind: Kind, ctx: &Ctx<'_>) -> Vec<Field> {
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
fn info(kind: Kind, ctx: &Ctx<'_>, target: &Target) -> Markup {
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

/// What is due on the dossier: the CRF by its date, what is left to pay, the conventions the
/// 23 000 € rule requires. Shown to everyone who reads the dossier.
pub fn due(projections: &Projections, dossier: &DossierState, today: NaiveDate) -> Markup {
    let Some(filing) = dossier.filed.as_ref() else {
        return html! {};
    };
    let granted = dossier.granted_total();
    if granted.is_zero() && dossier.crf_received_on.is_none() {
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
                li { "Reste à payer sur ce dossier : " strong { (format_eur(left)) } " (sur " (format_eur(granted)) " accordés)." }
                @match (dossier.crf_received_on, due_on) {
                    (Some(on), _) => li { "Compte rendu financier reçu le " (on.format("%d/%m/%Y")) "." (crf_figures(dossier)) },
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
                            Some(act) => { (act_label(act.kind)) " n° " (act.number) " signé(e) le " (act.signed_on.format("%d/%m/%Y")) "." }
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

/// The section of the dossier's page with the forms the caller may send, and the refused form
/// `draft` (values and errors kept). Nothing without a web session or without any form.
pub fn section(
    caller: &Caller,
    projections: &Projections,
    dossier: &DossierState,
    draft: Option<&SuiviDraft>,
) -> Markup {
    let Some(session) = caller.1.as_ref() else {
        return html! {};
    };
    let Some(filing) = dossier.filed.as_ref().filter(|_| !dossier.withdrawn) else {
        return html! {};
    };
    let ctx = Ctx {
        caller,
        projections,
        dossier,
        filing,
    };
    let mut forms: Vec<(Kind, Target)> = Vec::new();
    for kind in Kind::ALL {
        for target in targets(kind, &ctx) {
            forms.push((kind, target));
        }
    }
    if let Some(draft) = draft {
        if !forms
            .iter()
            .any(|(k, t)| *k == draft.kind && *t == draft.target)
        {
            forms.insert(0, (draft.kind, draft.target.clone()));
        }
    }
    let may_amend = role_may_send(caller.0.role, "amend_dossier")
        && authorize(
            &caller.0,
            &LedgerCommand::Dossier(DossierCommand::Amend {
                dossier_id: filing.dossier_id,
                title: None,
                description: None,
                total_budget: None,
                quartiers: None,
                objectifs: None,
                requests: None,
                reason: "x".into(),
            }),
            projections,
        )
        .is_ok();
    if forms.is_empty() && !may_amend {
        return html! {};
    }
    html! {
        section.forms #suivi {
            h2 { "Suivi du dossier" }
            (acting_as(caller, &organisation_name(projections, &caller.0.organisation)))
            @if may_amend {
                p { a href=(format!("/dossiers/{}/modifier", filing.dossier_id)) { "Modifier le dossier (intitulé, budget, plan de financement, quartiers, objectifs)" } }
            }
            @for (kind, target) in &forms {
                @let this = draft.filter(|d| d.kind == *kind && d.target == *target);
                (form(session, &ctx, *kind, target, this))
            }
        }
    }
}

fn form(
    session: &PageSession,
    ctx: &Ctx<'_>,
    kind: Kind,
    target: &Target,
    draft: Option<&SuiviDraft>,
) -> Markup {
    let form_id = target.form_id(kind);
    let today = chrono::Local::now()
        .date_naive()
        .format("%d/%m/%Y")
        .to_string();
    let fields = fields(kind, ctx);
    let fresh = {
        let mut posted = Posted(vec![("command_id".into(), Uuid::now_v7().to_string())]);
        for field in &fields {
            if matches!(field.input, Input::Date) {
                posted.set(field.name, today.clone());
            }
        }
        if kind == Kind::Cpo {
            posted.set("cpo_id", Uuid::now_v7().to_string());
            posted.set("confirm_command_id", Uuid::now_v7().to_string());
        }
        posted
    };
    let empty = FieldErrors::default();
    let (posted, errors) = match draft {
        Some(d) => (&d.posted, &d.errors),
        None => (&fresh, &empty),
    };
    let id_of = |name: &str| {
        posted
            .get(name)
            .parse::<Uuid>()
            .unwrap_or_else(|_| Uuid::now_v7())
    };
    let heading = match (
        kind,
        target.dispositif.is_empty(),
        target.financeur.is_empty(),
    ) {
        (_, false, _) => format!("{} — {}", kind.title(), ctx.line_label(target)),
        (_, true, false) => format!("{} — {}", kind.title(), ctx.org(&target.financeur)),
        _ => kind.title().to_string(),
    };
    let top = field_id(&form_id, "ligne");
    html! {
        details #(form_id) open[draft.is_some()] {
            summary { (heading) }
            form.entry method="post" action=(format!("/dossiers/{}/suivi/{}", ctx.filing.dossier_id, kind.slug())) novalidate {
                (errors.summary())
                (csrf_input(session))
                (command_id_input(id_of("command_id")))
                input type="hidden" name="financeur" value=(target.financeur);
                input type="hidden" name="dispositif" value=(target.dispositif);
                @if let Some(cpo) = target.cpo { input type="hidden" name="cpo" value=(cpo); }
                @if kind == Kind::Cpo {
                    input type="hidden" name="cpo_id" value=(id_of("cpo_id"));
                    input type="hidden" name="confirm_command_id" value=(id_of("confirm_command_id"));
                }
                div id=(top) tabindex="-1" { (errors.under(&top)) }
                (info(kind, ctx, target))
                @for field in &fields { (draw(&form_id, field, posted, errors)) }
                button type="submit" { (kind.submit()) }
            }
        }
    }
}

/// The commands a posted form records, with their metadata; the errors name their fields.
fn read(
    kind: Kind,
    ctx: &Ctx<'_>,
    target: &Target,
    posted: &Posted,
) -> Result<Vec<(LedgerCommand, CommandMeta)>, FieldErrors> {
    let form_id = target.form_id(kind);
    let mut r = Reader::new(&form_id, posted);
    let dossier_id = ctx.filing.dossier_id;
    let financeur = target.financeur.clone();
    let dispositif = target.dispositif();
    let meta = |act: Option<ActRef>| CommandMeta {
        command_id: posted.get("command_id").parse().ok(),
        act,
        ..CommandMeta::default()
    };
    let one = |command: DossierCommand, act: Option<ActRef>| {
        vec![(LedgerCommand::Dossier(command), meta(act))]
    };
    let commands = match kind {
        Kind::Convention => {
            let act = r.choice(
                "nature",
                &[
                    ("convention", ActOfGrant::Convention),
                    ("arrete", ActOfGrant::Arrete),
                ],
                "Choisissez la nature de l'acte : convention ou arrêté attributif.",
            );
            let number = r.text("numero", "le numéro de l'acte", false);
            let signed_on = r.date("signe_le");
            match (act, number, signed_on) {
                (Some(kind), Some(number), Some(signed_on)) => {
                    let act_kind = match kind {
                        ActOfGrant::Convention => ActKind::Convention,
                        ActOfGrant::Arrete => ActKind::Arrete,
                    };
                    let act = ActRef {
                        kind: act_kind,
                        reference: number.clone(),
                        date: Some(signed_on),
                    };
                    Some(one(
                        DossierCommand::SignConvention {
                            dossier_id,
                            financeur,
                            kind,
                            number,
                            signed_on,
                        },
                        Some(act),
                    ))
                }
                _ => None,
            }
        }
        Kind::Paiement => {
            let payment = r.choice(
                "nature",
                &[
                    ("avance", PaymentKind::Avance),
                    ("acompte", PaymentKind::Acompte),
                    ("solde", PaymentKind::Solde),
                ],
                "Choisissez la nature du paiement : avance, acompte ou solde.",
            );
            let amount = r.positive_amount("montant");
            let paid_on = r.date("paye_le");
            let mandate = r.text("mandat", "la référence du mandat de paiement", false);
            match (payment, amount, paid_on, mandate) {
                (Some(kind), Some(amount), Some(paid_on), Some(mandate_reference)) => {
                    let act = ActRef {
                        kind: ActKind::Mandat,
                        reference: mandate_reference.clone(),
                        date: Some(paid_on),
                    };
                    Some(one(
                        DossierCommand::RecordPayment {
                            dossier_id,
                            financeur,
                            dispositif,
                            kind,
                            amount,
                            paid_on,
                            mandate_reference,
                        },
                        Some(act),
                    ))
                }
                _ => None,
            }
        }
        Kind::Crf => {
            let received_on = r.date("recu_le");
            let budget = r.optional_amount("budget_realise");
            let expenses = r.optional_amount("depenses");
            let used = r.optional_amount("part_utilisee");
            let comment = r.text("commentaire", "", true);
            match (received_on, budget, expenses, used, comment) {
                (
                    Some(received_on),
                    Some(budget_realised),
                    Some(expenses),
                    Some(grant_used),
                    Some(comment),
                ) => Some(one(
                    DossierCommand::ReceiveCrf {
                        dossier_id,
                        received_on,
                        budget_realised,
                        expenses,
                        grant_used,
                        comment: Some(comment).filter(|c| !c.is_empty()),
                    },
                    None,
                )),
                _ => None,
            }
        }
        Kind::Modification => {
            let change = r.choice(
                "nature",
                &[
                    ("reduce", GrantChange::Reduce),
                    ("increase", GrantChange::Increase),
                    ("cancel", GrantChange::Cancel),
                ],
                "Choisissez la modification : réduction, augmentation ou annulation.",
            );
            let amount = match change {
                Some(GrantChange::Cancel) => Some(None),
                _ => r.positive_amount("montant").map(Some),
            };
            let decided_on = r.date("decide_le");
            let reason = r.text("motif", "le motif de la modification", false);
            match (change, amount, decided_on, reason) {
                (Some(change), Some(amount), Some(decided_on), Some(reason)) => Some(one(
                    DossierCommand::ChangeGrant {
                        dossier_id,
                        financeur,
                        dispositif,
                        change,
                        amount,
                        reason,
                        decided_on,
                    },
                    None,
                )),
                _ => None,
            }
        }
        Kind::Reversement => {
            let amount = r.positive_amount("montant");
            let ordered_on = r.date("demande_le");
            let reason = r.text("motif", "le motif du reversement", false);
            match (amount, ordered_on, reason) {
                (Some(amount), Some(ordered_on), Some(reason)) => Some(one(
                    DossierCommand::OrderReversement {
                        dossier_id,
                        financeur,
                        dispositif,
                        amount,
                        reason,
                        ordered_on,
                    },
                    None,
                )),
                _ => None,
            }
        }
        Kind::ReversementRecu => {
            let amount = r.positive_amount("montant");
            let received_on = r.date("recu_le");
            match (amount, received_on) {
                (Some(amount), Some(received_on)) => Some(one(
                    DossierCommand::ReceiveReversement {
                        dossier_id,
                        financeur,
                        dispositif,
                        amount,
                        received_on,
                    },
                    None,
                )),
                _ => None,
            }
        }
        Kind::Cpo => read_cpo(&mut r, ctx, target, posted),
        Kind::CpoAnnee => target.cpo.map(|cpo_id| {
            vec![(
                LedgerCommand::Cpo(CpoCommand::ConfirmYear {
                    cpo_id,
                    exercice: ctx.filing.exercice,
                    dossier_id,
                }),
                meta(None),
            )]
        }),
        Kind::Retrait => r
            .text("motif", "le motif du retrait", false)
            .map(|reason| one(DossierCommand::Withdraw { dossier_id, reason }, None)),
    };
    match commands {
        Some(commands) if r.errors.is_empty() => Ok(commands),
        _ => {
            if r.errors.is_empty() {
                r.error("ligne", "Le formulaire est incomplet : rechargez la page.");
            }
            Err(r.errors)
        }
    }
}

/// A CPO signed with the porteur (year 1 this dossier's exercice) and year 1 confirmed with this
/// dossier: two commands, recorded together or not at all.
fn read_cpo(
    r: &mut Reader<'_>,
    ctx: &Ctx<'_>,
    target: &Target,
    posted: &Posted,
) -> Option<Vec<(LedgerCommand, CommandMeta)>> {
    let title = r.text("intitule", "l'intitulé de la CPO", false);
    let number = r.text("numero", "le numéro de la CPO", false);
    let signed_on = r.date("signe_le");
    let first = r.positive_amount("annee_1");
    let second = r.optional_amount("annee_2");
    let third = r.optional_amount("annee_3");
    let cpo_id: Option<CpoId> = posted.get("cpo_id").parse().ok();
    let (title, number, signed_on, first, second, third, cpo_id) = (
        title?, number?, signed_on?, first?, second?, third?, cpo_id?,
    );
    let year = ctx.filing.exercice;
    let schedule: Vec<CpoLine> = [(year, Some(first)), (year + 1, second), (year + 2, third)]
        .into_iter()
        .filter_map(|(exercice, amount)| {
            amount.filter(|a| !a.is_zero()).map(|amount| CpoLine {
                exercice,
                financeur: target.financeur.clone(),
                dispositif: target.dispositif.clone(),
                amount,
            })
        })
        .collect();
    let act = ActRef {
        kind: ActKind::Convention,
        reference: number.clone(),
        date: Some(signed_on),
    };
    Some(vec![
        (
            LedgerCommand::Cpo(CpoCommand::Sign {
                cpo_id,
                porteur_id: ctx.filing.porteur_id,
                title,
                number,
                signed_on,
                first_exercice: year,
                schedule,
            }),
            CommandMeta {
                command_id: posted.get("command_id").parse().ok(),
                act: Some(act.clone()),
                ..CommandMeta::default()
            },
        ),
        (
            LedgerCommand::Cpo(CpoCommand::ConfirmYear {
                cpo_id,
                exercice: year,
                dossier_id: ctx.filing.dossier_id,
            }),
            CommandMeta {
                command_id: posted.get("confirm_command_id").parse().ok(),
                act: Some(act),
                ..CommandMeta::default()
            },
        ),
    ])
}

/// A refusal of the ledger as a person reads it, under the field it concerns.
fn refusal(error: &CommandError) -> Option<(&'static str, String)> {
    if let CommandError::Forbidden(_) = error {
        return Some((
            "ligne",
            "Votre organisation ne peut pas agir pour ce financeur : seul le financeur concerné \
             (ou l'équipe du contrat) le peut."
                .to_string(),
        ));
    }
    let message = error.to_string();
    let has = |words: &str| message.contains(words);
    let known: Option<(&'static str, &str)> = if has("a signed convention is required") {
        Some(("ligne", "Une convention signée est requise avant tout paiement : ce porteur reçoit plus de 23 000 € de ce financeur dans l'exercice (loi n° 2000-321, art. 10). Enregistrez d'abord la convention."))
    } else if has("would bring payments to") {
        Some(("montant", "Ce paiement dépasse le reste à payer : les paiements ne peuvent pas dépasser le montant accordé."))
    } else if has("solde of") {
        Some((
            "nature",
            "Le solde est déjà payé : plus aucun paiement sur cette subvention.",
        ))
    } else if has("precedes the decision") {
        Some((
            "paye_le",
            "Un paiement ne peut pas précéder la décision qui accorde la subvention.",
        ))
    } else if has("has already signed") {
        Some((
            "numero",
            "Un acte est déjà signé pour ce financeur sur ce dossier.",
        ))
    } else if has("below the") && has("already paid") {
        Some(("montant", "Cette réduction laisserait moins que ce qui est déjà payé : demandez d'abord un reversement."))
    } else if has("cancelling the grant is impossible") {
        Some(("nature", "L'annulation est impossible tant qu'une somme reste payée : demandez et recevez d'abord un reversement."))
    } else if has("above the envelope") {
        Some(("montant", "Cette augmentation dépasse l'enveloppe du financeur pour ce dispositif et cet exercice."))
    } else if has("reversements ordered to") {
        Some(("montant", "Ce reversement dépasse ce qui a été payé."))
    } else if has("reversements received to") {
        Some(("montant", "Ce montant dépasse le reversement demandé."))
    } else if has("of the grant used") {
        Some((
            "part_utilisee",
            "La part utilisée dépasse le montant accordé sur ce dossier.",
        ))
    } else if has("CRF of dossier") {
        Some((
            "recu_le",
            "Le compte rendu financier de ce dossier est déjà enregistré.",
        ))
    } else if has("cancel the grants before withdrawing") {
        Some((
            "motif",
            "Ce dossier a encore des subventions accordées : annulez-les avant de le retirer.",
        ))
    } else if has("changes nothing") {
        Some(("montant", "Indiquez un montant supérieur à zéro."))
    } else if has("is already confirmed") || has("already signed") {
        Some((
            "ligne",
            "Cette CPO ou cette année de CPO est déjà enregistrée.",
        ))
    } else if has("mandate_reference") {
        Some((
            "mandat",
            "La référence du mandat est vide ou trop longue (1 000 caractères au plus).",
        ))
    } else if has("number is empty") {
        Some(("numero", "Le numéro est vide ou trop long."))
    } else if has("reason is empty") {
        Some((
            "motif",
            "Le motif est vide ou trop long (1 000 caractères au plus).",
        ))
    } else {
        None
    };
    if let Some((field, text)) = known {
        return Some((field, text.to_string()));
    }
    let (_, text) = refusal_fr(error)?;
    Some(("ligne", text))
}

/// Records a form of the dossier's follow-up, then shows the dossier's page (303). On error, the
/// page again with the form's values and errors, and nothing recorded.
#[utoipa::path(post, path = "/dossiers/{dossier_id}/suivi/{form}", tag = "pages",
    params(("dossier_id" = String, Path, description = "The dossier's id (UUID)"),
           ("form" = String, Path, description = "convention, paiement, crf, modification, reversement, reversement-recu, cpo, cpo-annee or retrait")),
    request_body(content = String, description = "The form's fields (see docs/http.md)", content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Recorded (or already recorded under this command_id): to the dossier's page"),
        (status = 403, description = "Wrong CSRF token, a role that may not send this form, or another financeur's line (the form shown again)", content_type = "text/html"),
        (status = 404, description = "No such form or dossier", content_type = "text/html"),
        (status = 422, description = "A value is wrong: the form shown again with the errors", content_type = "text/html")))]
pub async fn record(
    State(state): State<AppState>,
    Path((dossier_id, slug)): Path<(String, String)>,
    form: SessionForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let SessionForm { caller, fields, .. } = form;
    let kind = Kind::from_slug(&slug)
        .ok_or_else(|| ApiError::not_found(format!("no form '{slug}' on a dossier")))?;
    if !role_may_send(caller.0.role, kind.command()) {
        return Err(forbidden_form(&caller, kind.command()));
    }
    let id: DossierId = dossier_id
        .parse()
        .map_err(|_| ApiError::invalid(format!("'{dossier_id}' is not a dossier id")))?;
    let posted = Posted(fields);
    posted_command_id(posted.get("command_id"))?;
    let target = Target::of(&posted);
    let read = {
        let projections = state.ledger.projections().await?;
        let dossier = projections
            .subsidy
            .dossier(&id)
            .ok_or_else(|| ApiError::not_found(format!("no dossier {id}")))?;
        let filing = dossier
            .filed
            .as_ref()
            .ok_or_else(|| ApiError::not_found(format!("no dossier {id}")))?;
        let ctx = Ctx {
            caller: &caller,
            projections: &projections,
            dossier,
            filing,
        };
        read(kind, &ctx, &target, &posted)
    };
    let (errors, status) = match read {
        Err(errors) => (errors, StatusCode::UNPROCESSABLE_ENTITY),
        Ok(commands) => match execute(&state, &caller, commands).await {
            Ok(()) => {
                return Ok(Redirect::to(&format!("/dossiers/{id}")).into_response());
            }
            Err(error) => {
                let Some((field, message)) = refusal(&error) else {
                    return Err(error.into());
                };
                let status = if error.code() == "forbidden" {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                let mut errors = FieldErrors::default();
                errors.push(field_id(&target.form_id(kind), field), message);
                (errors, status)
            }
        },
    };
    let draft = DossierDraft::Suivi(SuiviDraft {
        kind,
        target,
        posted,
        errors,
    });
    let page = dossier_page(&state, &caller, id, &PageParams::default(), Some(&draft)).await?;
    Ok((status, page).into_response())
}

/// Records one command, or several together (all or nothing).
async fn execute(
    state: &AppState,
    caller: &Caller,
    mut commands: Vec<(LedgerCommand, CommandMeta)>,
) -> Result<(), CommandError> {
    let defaults = page_defaults(caller);
    if commands.len() == 1 {
        let (command, meta) = commands.remove(0);
        return state
            .ledger
            .execute_as(&caller.0, command, &meta, &defaults)
            .await
            .map(|_| ());
    }
    state
        .ledger
        .execute_atomic_as(&caller.0, commands, &defaults)
        .await
        .map(|_| ())
        .map_err(|(_, error)| error)
}
