//! A bailleur's TFPB entered in the browser (`/tfpb/saisie`): its programmes per QPV and tax
//! year, and the forms that record them, each posted to `/tfpb/saisie/{form}`:
//!
//! - `abattement`: the abatement of a QPV and year declared (dwellings, amount), or corrected;
//! - `action`: an action of the programme (axis, label, planned amount, partners, and the shares
//!   of the other bailleurs of a cross-landlord action), or one added during the year (a reason);
//! - `depense`: spending realised on an action (amount, date, evidence);
//! - `bilan`: the year's bilan submitted to the State and the EPCI;
//!
//! and its usual file uploaded, previewed, then recorded all or nothing ([`depot`]).
//!
//! A bailleur sees and enters only its own organisation's programmes (another bailleur: 403); the
//! contract's team (admin) picks the bailleur it enters for. The other roles read the figures on
//! `/tfpb` and get no form here (403 on a post).

pub mod depot;
mod read;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use engagements_app::auth::Role;
use engagements_domain::referential::{OrganisationKind, QuartierKind};
use engagements_domain::tfpb::{BILAN_DUE_DAY, BILAN_DUE_MONTH};
use engagements_domain::{Amount, LedgerCommand};
use engagements_projections::Projections;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::pages::dossiers::organisation_name;
use crate::pages::entry::{draw, field_id, Field, Input};
use crate::pages::forms::{
    acting_as, command_id_input, forbidden_form, page_defaults, posted_command_id, role_may_send,
    FieldErrors, Posted,
};
use crate::pages::{format_eur, layout, page_caller, PageError};
use crate::sessions::{csrf_input, PageSession, SessionForm};
use crate::state::AppState;

use read::{read, refusal};

/// The address of the page.
pub const PATH: &str = "/tfpb/saisie";

/// The forms of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Abattement,
    Action,
    Depense,
    Bilan,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Abattement, Kind::Action, Kind::Depense, Kind::Bilan];

    /// The form's segment in `/tfpb/saisie/{slug}`, and its id in the page.
    pub fn slug(self) -> &'static str {
        match self {
            Kind::Abattement => "abattement",
            Kind::Action => "action",
            Kind::Depense => "depense",
            Kind::Bilan => "bilan",
        }
    }

    fn from_slug(slug: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.slug() == slug)
    }

    /// The command the form sends (an action added during the year sends `add_tfpb_action`,
    /// ruled the same).
    pub fn command(self) -> &'static str {
        match self {
            Kind::Abattement => "declare_tfpb_abatement",
            Kind::Action => "plan_tfpb_action",
            Kind::Depense => "report_tfpb_spending",
            Kind::Bilan => "submit_tfpb_bilan",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::Abattement => "1. Déclarer l'abattement d'un QPV pour une année",
            Kind::Action => "2. Ajouter une action au programme",
            Kind::Depense => "3. Déclarer une dépense réalisée sur une action",
            Kind::Bilan => "4. Transmettre le bilan de l'année",
        }
    }

    fn submit(self) -> &'static str {
        match self {
            Kind::Abattement => "Enregistrer l'abattement",
            Kind::Action => "Enregistrer l'action",
            Kind::Depense => "Enregistrer la dépense",
            Kind::Bilan => "Transmettre le bilan",
        }
    }

    /// What the page says once the form is recorded.
    fn done(self) -> &'static str {
        match self {
            Kind::Abattement => "L'abattement est enregistré.",
            Kind::Action => "L'action est enregistrée.",
            Kind::Depense => "La dépense est enregistrée.",
            Kind::Bilan => "Le bilan est transmis à l'État et à l'EPCI.",
        }
    }
}

/// A form drawn again: its kind, the values posted and their errors.
#[derive(Debug, Clone)]
pub struct Draft {
    pub kind: Kind,
    pub posted: Posted,
    pub errors: FieldErrors,
}

/// What the page is drawn from.
pub(crate) struct Ctx<'a> {
    pub projections: &'a Projections,
    /// The bailleur the page enters for (an organisation id).
    pub bailleur: &'a str,
}

impl Ctx<'_> {
    /// The QPV of the contract: (id, "name (code)").
    pub fn qpv(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .projections
            .referential
            .quartiers()
            .filter(|q| q.kind == QuartierKind::Qpv)
            .map(|q| (q.id.clone(), format!("{} ({})", q.name, q.id)))
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    pub fn quartier_name(&self, id: &str) -> String {
        self.projections.referential.quartier_label(id)
    }

    /// The axes of the national framework: (id, "number. title").
    pub fn axes(&self) -> Vec<(String, String)> {
        let mut axes: Vec<_> = self.projections.referential.tfpb_axes().collect();
        axes.sort_by_key(|a| a.number);
        axes.into_iter()
            .map(|a| (a.id.clone(), format!("{}. {}", a.number, a.title)))
            .collect()
    }

    pub fn axis_name(&self, id: &str) -> String {
        self.projections.referential.tfpb_axis_label(id)
    }

    /// The bailleur's programmes, by QPV and year.
    pub fn programmes(
        &self,
    ) -> impl Iterator<
        Item = (
            &engagements_domain::tfpb::TfpbProgrammeKey,
            &engagements_domain::tfpb::TfpbProgrammeState,
        ),
    > {
        let bailleur = self.bailleur.to_string();
        self.projections
            .tfpb
            .programmes
            .iter()
            .filter(move |(k, _)| k.bailleur == bailleur)
    }

    /// The bailleur's live actions: ("qpv|year|action id", "QPV year — label").
    pub fn actions(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (key, programme) in self.programmes() {
            for action in programme.live_actions() {
                out.push((
                    format!("{}|{}|{}", key.quartier, key.year, action.spec.action_id),
                    format!(
                        "{} {} — {}",
                        self.quartier_name(&key.quartier),
                        key.year,
                        action.spec.label
                    ),
                ));
            }
        }
        out
    }

    /// The bailleur's programmes: ("qpv|year", "QPV year").
    pub fn programme_choices(&self) -> Vec<(String, String)> {
        self.programmes()
            .map(|(key, _)| {
                (
                    format!("{}|{}", key.quartier, key.year),
                    format!("{} — {}", self.quartier_name(&key.quartier), key.year),
                )
            })
            .collect()
    }
}

/// The tax year a form starts with: the current year.
fn this_year() -> i32 {
    chrono::Datelike::year(&chrono::Local::now().date_naive())
}

/// The fields of a form, the drop-down lists apart (drawn by [`select`]).
fn fields(kind: Kind) -> Vec<Field> {
    match kind {
        Kind::Abattement => vec![
            Field::required("annee", "Année fiscale", Input::Text).hint("par exemple 2025"),
            Field::required("logements", "Nombre de logements concernés par l'abattement", Input::Text)
                .hint("logements du bailleur dans ce QPV, par exemple 1 180"),
            Field::required("montant", "Montant de l'abattement (valorisation de l'année)", Input::Amount),
        ],
        Kind::Action => vec![
            Field::required("annee", "Année fiscale", Input::Text).hint("par exemple 2025"),
            Field::required("libelle", "Intitulé de l'action", Input::Text)
                .hint("court et unique dans le programme, par exemple « Médiation et tranquillité résidentielle »"),
            Field::optional("description", "Description", Input::LongText),
            Field::required("prevu", "Montant prévu (total de l'action)", Input::Amount),
            Field::optional("partenaires", "Partenaires", Input::LongText)
                .hint("un par ligne : associations, services, conseil citoyen…"),
            Field::optional("parts", "Parts des bailleurs (action partagée)", Input::LongText)
                .hint("une ligne par bailleur, la vôtre comprise : « Maisons & Cités : 4 000 ». Laissez vide si vous financez seul l'action."),
            Field::optional("motif", "Motif, si l'action est ajoutée en cours d'année", Input::Text)
                .hint("laissez vide pour une action du programme arrêté pour l'année"),
        ],
        Kind::Depense => vec![
            Field::required("montant", "Montant dépensé", Input::Amount),
            Field::required("date", "Date de la dépense", Input::Date)
                .hint("jour/mois/année, dans l'année fiscale de l'action, par exemple 15/11/2025"),
            Field::required("justificatif", "Justificatif", Input::Text)
                .hint("référence de la facture, du bon de commande ou de la pièce interne"),
        ],
        Kind::Bilan => vec![
            Field::required("date", "Date de transmission", Input::Date),
            Field::optional("commentaire", "Commentaire", Input::LongText),
        ],
    }
}

/// A drop-down list with its label, hint, kept value and error.
fn select(
    form_id: &str,
    name: &str,
    label: &str,
    hint: Option<&str>,
    choices: &[(String, String)],
    posted: &Posted,
    errors: &FieldErrors,
) -> Markup {
    let id = field_id(form_id, name);
    let value = posted.get(name);
    html! {
        div.field {
            label for=(id) { (label) }
            @if let Some(hint) = hint { span.muted { (hint) } }
            (errors.under(&id))
            select id=(id) name=(name) {
                option value="" { "— choisir —" }
                @for (choice, text) in choices {
                    option value=(choice) selected[value == choice] { (text) }
                }
            }
        }
    }
}

/// The drop-down lists of a form, drawn before its other fields.
fn selects(kind: Kind, ctx: &Ctx<'_>, posted: &Posted, errors: &FieldErrors) -> Markup {
    let id = kind.slug();
    match kind {
        Kind::Abattement => select(id, "qpv", "Quartier prioritaire (QPV)", None, &ctx.qpv(), posted, errors),
        Kind::Action => html! {
            (select(id, "qpv", "Quartier prioritaire (QPV)", None, &ctx.qpv(), posted, errors))
            (select(id, "axe", "Axe du cadre national", None, &ctx.axes(), posted, errors))
        },
        Kind::Depense => select(
            id,
            "action",
            "Action",
            Some("les actions de vos programmes ; ajoutez d'abord l'action si elle manque"),
            &ctx.actions(),
            posted,
            errors,
        ),
        Kind::Bilan => select(
            id,
            "programme",
            "Programme (QPV et année)",
            Some(&format!(
                "le bilan d'une année est attendu au plus tard le {BILAN_DUE_DAY}/{BILAN_DUE_MONTH:02} de l'année suivante"
            )),
            &ctx.programme_choices(),
            posted,
            errors,
        ),
    }
}

/// One form, drawn fresh or with the values and errors of `draft`.
fn form(session: &PageSession, ctx: &Ctx<'_>, kind: Kind, draft: Option<&Draft>) -> Markup {
    let fresh = {
        let mut posted = Posted(vec![("command_id".to_string(), Uuid::now_v7().to_string())]);
        posted.set("action_id", Uuid::now_v7().to_string());
        posted.set("spending_id", Uuid::now_v7().to_string());
        if matches!(kind, Kind::Abattement | Kind::Action) {
            posted.set("annee", this_year().to_string());
        }
        if kind == Kind::Bilan {
            posted.set(
                "date",
                chrono::Local::now()
                    .date_naive()
                    .format("%d/%m/%Y")
                    .to_string(),
            );
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
    let form_id = kind.slug();
    let top = field_id(form_id, "haut");
    let nothing_to_act_on = match kind {
        Kind::Depense => ctx.actions().is_empty(),
        Kind::Bilan => ctx.programme_choices().is_empty(),
        _ => false,
    };
    html! {
        details #(form_id) open[draft.is_some()] {
            summary { (kind.title()) }
            @if nothing_to_act_on && draft.is_none() {
                p.muted { @if kind == Kind::Depense { "Aucune action enregistrée : ajoutez d'abord une action (formulaire 2) ou déposez votre fichier." } @else { "Aucun programme enregistré : déclarez d'abord l'abattement (formulaire 1)." } }
            } @else {
                form.entry method="post" action=(format!("{PATH}/{form_id}")) novalidate {
                    (errors.summary())
                    (csrf_input(session))
                    (command_id_input(id_of("command_id")))
                    input type="hidden" name="bailleur" value=(ctx.bailleur);
                    @if kind == Kind::Action { input type="hidden" name="action_id" value=(id_of("action_id")); }
                    @if kind == Kind::Depense { input type="hidden" name="spending_id" value=(id_of("spending_id")); }
                    div id=(top) tabindex="-1" { (errors.under(&top)) }
                    (selects(kind, ctx, posted, errors))
                    @for field in &fields(kind) { (draw(form_id, field, posted, errors)) }
                    button type="submit" { (kind.submit()) }
                }
            }
        }
    }
}

/// The bailleur's programmes and actions, with their totals.
fn programmes_table(ctx: &Ctx<'_>) -> Markup {
    let programmes: Vec<_> = ctx.programmes().collect();
    let total = |f: &dyn Fn(&engagements_domain::tfpb::TfpbProgrammeState) -> Amount| -> Amount {
        programmes.iter().map(|(_, p)| f(p)).sum()
    };
    let planned = |p: &engagements_domain::tfpb::TfpbProgrammeState| -> Amount {
        p.live_actions().map(|a| a.spec.planned_eur).sum()
    };
    let realised = |p: &engagements_domain::tfpb::TfpbProgrammeState| -> Amount {
        p.live_actions().map(|a| a.realised()).sum()
    };
    let abatement = |p: &engagements_domain::tfpb::TfpbProgrammeState| -> Amount {
        p.abatement.map(|a| a.amount).unwrap_or(Amount::ZERO)
    };
    html! {
        section #programmes {
            h2 { "Vos programmes" }
            @if programmes.is_empty() {
                p { "Aucun programme enregistré pour l'instant : commencez par l'abattement d'un QPV (formulaire 1) ou déposez votre fichier habituel." }
            } @else {
                table.data {
                    thead { tr { th { "QPV" } th { "Année" } th.num { "Logements" } th.num { "Abattement" } th.num { "Actions" } th.num { "Programmé" } th.num { "Réalisé" } th { "Bilan" } } }
                    tbody {
                        @for (key, p) in &programmes {
                            tr {
                                td { (ctx.quartier_name(&key.quartier)) }
                                td { (key.year) }
                                td.num { (p.abatement.map(|a| a.dwellings.to_string()).unwrap_or_else(|| "—".into())) }
                                td.num { (p.abatement.map(|a| format_eur(a.amount)).unwrap_or_else(|| "non déclaré".into())) }
                                td.num { (p.live_actions().count()) }
                                td.num { (format_eur(planned(p))) }
                                td.num { (format_eur(realised(p))) }
                                td { (bilan_fr(p)) }
                            }
                        }
                    }
                    tfoot { tr { th { "Total" } td {} td {} td.num { (format_eur(total(&abatement))) } td {} td.num { (format_eur(total(&planned))) } td.num { (format_eur(total(&realised))) } td {} } }
                }
                h3 { "Actions" }
                table.data #actions {
                    thead { tr { th { "QPV" } th { "Année" } th { "Axe" } th { "Action" } th { "Partenaires" } th.num { "Prévu" } th.num { "Réalisé" } } }
                    tbody {
                        @for (key, p) in &programmes {
                            @for a in p.live_actions() {
                                tr {
                                    td { (ctx.quartier_name(&key.quartier)) }
                                    td { (key.year) }
                                    td { (ctx.axis_name(&a.spec.axis)) }
                                    td { (a.spec.label) @if a.added { " (ajoutée en cours d'année)" } }
                                    td { (a.spec.partners.join(", ")) }
                                    td.num { (format_eur(a.spec.planned_eur)) }
                                    td.num { (format_eur(a.realised())) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn bilan_fr(p: &engagements_domain::tfpb::TfpbProgrammeState) -> String {
    use engagements_domain::tfpb::programme::BilanStatus;
    let on = p
        .bilan
        .last_submitted_on
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_default();
    match p.bilan.status() {
        BilanStatus::NotSubmitted => "non transmis".to_string(),
        BilanStatus::Submitted => format!("transmis le {on}, en attente des avis"),
        BilanStatus::Remarks => format!("transmis le {on}, remarques à corriger"),
        BilanStatus::Accepted => "accepté par l'État et l'EPCI".to_string(),
    }
}

/// The query of the page: the bailleur (for the contract's team) and what was just recorded.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct SaisieParams {
    /// The bailleur's organisation id (a bailleur's own is taken; another is refused).
    pub bailleur: Option<String>,
    /// The form just recorded (`abattement`, `action`, `depense`, `bilan` or `fichier`).
    pub enregistre: Option<String>,
}

/// The bailleur the caller enters for: a bailleur its own (another is refused), the contract's
/// team the one it picked (none yet: `None`).
pub(crate) fn bailleur_of(
    caller: &Caller,
    projections: &Projections,
    asked: Option<&str>,
) -> Result<Option<String>, PageError> {
    let asked = asked.map(str::trim).filter(|b| !b.is_empty());
    if caller.0.role == Role::Bailleur {
        let own = caller.0.organisation.as_str();
        if asked.is_some_and(|b| b != own) {
            return Err(PageError::Api(ApiError::forbidden(format!(
                "a bailleur enters only its own TFPB, not {}",
                asked.unwrap_or_default()
            ))));
        }
        return Ok(Some(own.to_string()));
    }
    match asked {
        None => Ok(None),
        Some(b) => match projections.referential.organisation(b) {
            Some(o) if o.kind == OrganisationKind::Bailleur => Ok(Some(b.to_string())),
            _ => Err(PageError::Api(ApiError::not_found(format!(
                "no bailleur '{b}' in the referential"
            )))),
        },
    }
}

/// Whether the caller may enter a bailleur's TFPB here.
pub(crate) fn may_enter(role: Role) -> bool {
    Kind::ALL
        .into_iter()
        .any(|kind| role_may_send(role, kind.command()))
}

/// The page: the bailleur's programmes, then its forms (the refused one drawn again from
/// `draft`), then the upload of its file (or `depot`: a refused file's problems, or a preview).
pub(crate) fn page(
    caller: &Caller,
    projections: &Projections,
    bailleur: Option<&str>,
    draft: Option<&Draft>,
    depot: Option<Markup>,
    done: Option<&str>,
) -> Html<String> {
    let session = caller.1.as_ref();
    let writes = may_enter(caller.0.role) && session.is_some();
    let bailleurs: Vec<(String, String)> = projections
        .referential
        .organisations()
        .filter(|o| o.kind == OrganisationKind::Bailleur)
        .map(|o| (o.id.clone(), o.name.clone()))
        .collect();
    let name = bailleur.map(|b| organisation_name(projections, b));
    let content = html! {
        h1 { "Saisie TFPB" @if let Some(name) = &name { " — " (name) } }
        p.muted { "Le programme d'actions financé par l'abattement de taxe foncière (TFPB) de chaque QPV, ses dépenses réalisées et son bilan annuel (contrat, l. 1050-1090). Chaque saisie est un fait daté et signé du registre ; une erreur se corrige par une nouvelle saisie." }
        p { a href=(format!("/tfpb{}", bailleur.map(|b| format!("?bailleur={b}")).unwrap_or_default())) { "Voir les chiffres TFPB (graphiques, alertes, exports)" } }
        @if caller.0.role != Role::Bailleur {
            form.inline method="get" action=(PATH) {
                label { "Bailleur "
                    select name="bailleur" {
                        option value="" { "— choisir —" }
                        @for (id, label) in &bailleurs { option value=(id) selected[bailleur == Some(id.as_str())] { (label) } }
                    }
                }
                " " button type="submit" { "Afficher" }
            }
        }
        @if let Some(done) = done { p.ok role="status" { "✓ " (done) } }
        @if let Some(bailleur) = bailleur {
            @let ctx = Ctx { projections, bailleur };
            (programmes_table(&ctx))
            @if let (true, Some(session)) = (writes, session) {
                section.forms #saisie {
                    h2 { "Saisir" }
                    (acting_as(caller, &organisation_name(projections, &caller.0.organisation)))
                    @for kind in Kind::ALL {
                        (form(session, &ctx, kind, draft.filter(|d| d.kind == kind)))
                    }
                    (depot.unwrap_or_else(|| depot::upload_form(session, &ctx, None)))
                }
            } @else {
                p.muted { "Votre rôle permet de lire ces chiffres, pas de les saisir : la saisie revient à chaque bailleur et à l'équipe du contrat." }
            }
        } @else {
            p { "Choisissez le bailleur pour lequel vous saisissez." }
        }
    };
    layout("TFPB — saisie", Some(caller), content)
}

/// The page where a bailleur enters its TFPB.
#[utoipa::path(get, path = "/tfpb/saisie", tag = "pages", params(SaisieParams),
    responses((status = 200, description = "HTML", content_type = "text/html"),
        (status = 403, description = "A lecteur, or a bailleur asking for another bailleur", content_type = "text/html")))]
pub async fn saisie(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(params): Query<SaisieParams>,
) -> Result<Html<String>, PageError> {
    let caller = page_caller(caller)?;
    if caller.1.is_none() {
        return Err(PageError::Login);
    }
    if caller.0.role == Role::Lecteur {
        return Err(PageError::Api(ApiError::forbidden(
            "role lecteur may not read the TFPB figures of the bailleurs",
        )));
    }
    let projections = state.ledger.projections().await?;
    let bailleur = bailleur_of(&caller, &projections, params.bailleur.as_deref())?;
    let done = params.enregistre.as_deref().and_then(|slug| {
        Kind::from_slug(slug)
            .map(Kind::done)
            .or((slug == "fichier").then_some(
                "Le fichier est enregistré : ses actions et ses dépenses figurent ci-dessous.",
            ))
    });
    Ok(page(
        &caller,
        &projections,
        bailleur.as_deref(),
        None,
        None,
        done,
    ))
}

/// The page's address after a form is recorded.
pub(crate) fn done_address(caller: &Caller, bailleur: &str, slug: &str) -> String {
    let who = if caller.0.role == Role::Bailleur {
        String::new()
    } else {
        format!("bailleur={}&", crate::asof::encode(bailleur))
    };
    format!("{PATH}?{who}enregistre={slug}#programmes")
}

/// Records a form of the page, then shows the page (303). On error, the page again with the
/// form's values and errors, and nothing recorded.
#[utoipa::path(post, path = "/tfpb/saisie/{form}", tag = "pages",
    params(("form" = String, Path, description = "abattement, action, depense or bilan")),
    request_body(content = String, description = "The form's fields (see docs/tfpb.md)", content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Recorded (or already recorded under this command_id): to the page"),
        (status = 403, description = "Wrong CSRF token, a role that may not send this form, or another bailleur", content_type = "text/html"),
        (status = 404, description = "No such form", content_type = "text/html"),
        (status = 422, description = "A value is wrong: the form shown again with the errors", content_type = "text/html")))]
pub async fn record(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    form: SessionForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let SessionForm { caller, fields, .. } = form;
    let kind = Kind::from_slug(&slug)
        .ok_or_else(|| ApiError::not_found(format!("no TFPB form '{slug}'")))?;
    if !role_may_send(caller.0.role, kind.command()) {
        return Err(forbidden_form(&caller, kind.command()));
    }
    let posted = Posted(fields);
    posted_command_id(posted.get("command_id"))?;
    let (bailleur, read) = {
        let projections = state.ledger.projections().await?;
        let bailleur = bailleur_of(&caller, &projections, Some(posted.get("bailleur")))?
            .ok_or_else(|| ApiError::invalid("the form names no bailleur"))?;
        let ctx = Ctx {
            projections: &projections,
            bailleur: &bailleur,
        };
        let read = read(kind, &ctx, &posted);
        (bailleur, read)
    };
    let (errors, status) = match read {
        Err(errors) => (errors, StatusCode::UNPROCESSABLE_ENTITY),
        Ok((command, meta)) => {
            let defaults = page_defaults(&caller);
            match state
                .ledger
                .execute_as(
                    &caller.0,
                    LedgerCommand::TfpbProgramme(command),
                    &meta,
                    &defaults,
                )
                .await
            {
                Ok(_) => {
                    return Ok(Redirect::to(&done_address(&caller, &bailleur, kind.slug()))
                        .into_response())
                }
                Err(error) => {
                    let Some((field, message)) = refusal(kind, &error) else {
                        return Err(error.into());
                    };
                    let status = if error.code() == "forbidden" {
                        StatusCode::FORBIDDEN
                    } else {
                        StatusCode::UNPROCESSABLE_ENTITY
                    };
                    let mut errors = FieldErrors::default();
                    errors.push(field_id(kind.slug(), field), message);
                    (errors, status)
                }
            }
        }
    };
    let draft = Draft {
        kind,
        posted,
        errors,
    };
    let projections = state.ledger.projections().await?;
    let page = page(
        &caller,
        &projections,
        Some(&bailleur),
        Some(&draft),
        None,
        None,
    );
    Ok((status, page).into_response())
}
