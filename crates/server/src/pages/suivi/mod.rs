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

mod due;
mod fields;
mod read;
mod targets;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use engagements_app::auth::authorize;
use engagements_app::{CommandError, CommandMeta};
use engagements_domain::cpo::CpoId;
use engagements_domain::dossier::{
    DossierCommand, DossierFiling, DossierState, FundingLine, CONVENTION_THRESHOLD_EUR,
};
use engagements_domain::{Amount, DossierId, LedgerCommand};
use engagements_projections::Projections;
use maud::{html, Markup};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::pages::dossiers::{dispositif_short, dossier_page, organisation_name, DossierDraft};
use crate::pages::entry::{draw, field_id, Input};
use crate::pages::forms::{
    acting_as, command_id_input, forbidden_form, page_defaults, posted_command_id, role_may_send,
    FieldErrors, Posted,
};
use crate::pages::{PageError, PageParams};
use crate::sessions::{csrf_input, PageSession, SessionForm};
use crate::state::AppState;

pub use due::due;
use fields::{fields, info};
use read::{read, refusal};
use targets::targets;

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
pub(crate) struct Ctx<'a> {
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
            dispositif_short(self.projections, &target.dispositif)
        )
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
                pistes: None,
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
