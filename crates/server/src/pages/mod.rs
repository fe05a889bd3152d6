//! The web pages, in French, drawn on the server with maud (every value is HTML-escaped unless
//! marked otherwise, and nothing here marks a value otherwise). No script: the pages work
//! projected on a wall, printed, or in a text browser.

pub mod amend;
pub mod audit;
pub mod avis;
pub mod comite;
pub mod comite_pv;
pub mod comite_session;
pub mod dashboard;
pub mod dossier_list;
pub mod dossiers;
pub mod download;
pub mod engagement;
pub mod entities;
pub mod entry;
pub mod evaluation;
pub mod filing;
pub mod forms;
pub mod index;
pub mod login;
pub mod moment;
pub mod suivi;
pub mod tfpb;
pub mod tfpb_saisie;
pub mod views;

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use engagements_domain::Amount;
use engagements_projections::{labels, Cell, Table};
use maud::{html, Markup, DOCTYPE};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::asof::{empty_as_none, AsOfParams};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use engagements_app::auth::Role;

/// Rows shown in one HTML table before the page says "download the CSV for the rest".
pub const HTML_ROWS_MAX: usize = 2_000;

/// The pages' routes.
pub fn routes() -> OpenApiRouter<AppState> {
    pages_routes().layer(axum::middleware::from_fn(moment::keep_moment))
}

fn pages_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dashboard::home))
        .routes(routes!(dashboard::dashboard))
        .routes(routes!(dossier_list::list))
        .routes(routes!(dossiers::dossier))
        .routes(routes!(avis::give))
        .routes(routes!(suivi::record))
        .routes(routes!(amend::form, amend::amend))
        .routes(routes!(comite::list))
        .routes(routes!(comite::form, comite::prepare))
        .routes(routes!(comite_session::session))
        .routes(routes!(comite_session::decide))
        .routes(routes!(filing::form, filing::file))
        .routes(routes!(views::view))
        .routes(routes!(audit::audit))
        .routes(routes!(tfpb::tfpb))
        .routes(routes!(tfpb_saisie::saisie))
        .routes(routes!(tfpb_saisie::record))
        .routes(routes!(tfpb_saisie::depot::upload))
        .routes(routes!(tfpb_saisie::depot::confirm))
        .routes(routes!(engagement::engagement))
        .routes(routes!(engagement::report))
        .routes(routes!(evaluation::evaluation))
        .routes(routes!(entities::signataire))
        .routes(routes!(entities::quartier))
        .routes(routes!(entities::objectif))
        .routes(routes!(index::signataires))
        .routes(routes!(index::quartiers))
        .routes(routes!(index::objectifs))
        .routes(routes!(login::form, login::login))
        .routes(routes!(login::logout))
        .routes(routes!(stylesheet))
}

/// The query of every page: the moment shown, and the filters some pages use. Empty form
/// fields count as absent; numbers are read by [`PageParams::exercice`].
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// Exercice (year) shown.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub exercice: Option<String>,
    /// Record time (date or RFC 3339): the page as the ledger said it then.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub as_of: Option<String>,
    /// Position of the log: the page as it was just after that event.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub at_position: Option<String>,
    /// Business date: only facts in force on that date.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub effective_on: Option<String>,
    /// Filter: financeur (organisation id).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub financeur: Option<String>,
    /// Filter: text in a dossier's title or porteur's name.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub q: Option<String>,
    /// Filter: bailleur (organisation id) on the TFPB page.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub bailleur: Option<String>,
    /// `csv` on a signataire, quartier or objectif page: its table as CSV.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub format: Option<String>,
    /// Filter of the dossiers list: a quartier reached (QPV code or QIC id).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub quartier: Option<String>,
    /// Filter of the dossiers list: an objectif served (its number).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub objectif: Option<String>,
    /// Filter of the dossiers list: a status (`depose`, `instruction`, `accorde`, …).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub statut: Option<String>,
    /// Order of the dossiers list: a column key, `-desc` for the largest or latest first.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub tri: Option<String>,
    /// Page of the dossiers list, from 1.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub page: Option<String>,
    /// What a form of the page just recorded (the TFPB entry, a commitment's progress): the page
    /// says it is done.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub enregistre: Option<String>,
    /// First exercice of the evaluation report.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub du: Option<String>,
    /// Last exercice of the evaluation report.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub au: Option<String>,
    /// The part of the evaluation report downloaded as CSV (`objectifs`, `quartiers`, …).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub partie: Option<String>,
}

#[cfg(test)]
impl PageParams {
    /// Every field set: the compiler makes a new field appear here, and a test then checks it is
    /// known to [`moment::PAGE_PARAMS`].
    pub fn every_field() -> PageParams {
        let v = || Some(String::new());
        PageParams {
            exercice: v(),
            as_of: v(),
            at_position: v(),
            effective_on: v(),
            financeur: v(),
            q: v(),
            bailleur: v(),
            format: v(),
            quartier: v(),
            objectif: v(),
            statut: v(),
            tri: v(),
            enregistre: v(),
            page: v(),
            du: v(),
            au: v(),
            partie: v(),
        }
    }
}

impl PageParams {
    /// The as-of bounds; 400 naming a bad value.
    pub fn when(&self) -> Result<AsOfParams, ApiError> {
        let at_position = self
            .at_position
            .as_deref()
            .map(|p| {
                p.trim()
                    .parse::<i64>()
                    .map_err(|_| ApiError::invalid(format!("at_position '{p}' is not a number")))
            })
            .transpose()?;
        Ok(AsOfParams {
            as_of: self.as_of.clone(),
            at_position,
            effective_on: self.effective_on.clone(),
        })
    }

    /// The exercice asked for; 400 naming a bad value.
    pub fn exercice(&self) -> Result<Option<i32>, ApiError> {
        self.exercice
            .as_deref()
            .map(|y| {
                y.trim()
                    .parse::<i32>()
                    .ok()
                    .filter(|y| (2000..=2100).contains(y))
                    .ok_or_else(|| ApiError::invalid(format!("exercice '{y}' is not a year")))
            })
            .transpose()
    }
}

/// A page that could not be shown: a login redirect, or an error page with its status.
pub enum PageError {
    Login,
    Api(ApiError),
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        if error.status == StatusCode::UNAUTHORIZED {
            PageError::Login
        } else {
            PageError::Api(error)
        }
    }
}

impl From<engagements_app::CommandError> for PageError {
    fn from(error: engagements_app::CommandError) -> Self {
        PageError::Api(error.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Login => Redirect::to("/connexion").into_response(),
            PageError::Api(error) => {
                let body = layout(
                    "Erreur",
                    None,
                    html! {
                        h1 { "Cette page ne peut pas être affichée" }
                        p.error { (error.for_people.as_deref().unwrap_or(error_text_fr(error.code))) }
                        p { a href="/tableau-de-bord" { "Retour au tableau de bord" } }
                    },
                );
                (error.status, body).into_response()
            }
        }
    }
}

/// What an error means for the person reading the page, by its stable code (the API's English
/// message is for programs and the server's log).
pub fn error_text_fr(code: &str) -> &'static str {
    match code {
        "forbidden" => "Votre rôle ne permet pas d'ouvrir cette page ni de faire cette action : demandez l'accès à l'équipe du contrat.",
        "not_found" => "Cet élément n'existe pas dans le registre (quartier, objectif, signataire, dossier ou vue) : vérifiez l'adresse ou revenez au tableau de bord.",
        "invalid" | "malformed_json" => "Un paramètre n'est pas valide (exercice, date, position, filtre) : corrigez le formulaire ou l'adresse.",
        "unauthenticated" => "Votre session a expiré ou votre accès a été révoqué : reconnectez-vous.",
        "payload_too_large" | "limit_exceeded" => "La demande est trop volumineuse : envoyez un fichier plus petit.",
        "conflict" => "Une autre saisie est arrivée en même temps : rechargez la page et recommencez.",
        "rejected" | "unknown_reference" => "Le registre a refusé cette saisie : une règle du contrat ou une référence inconnue l'empêche.",
        _ => "Le registre n'a pas pu répondre : réessayez dans un instant ; si l'erreur persiste, prévenez l'équipe du contrat.",
    }
}

/// The caller of a page, or the login page.
pub fn page_caller(caller: Result<Caller, ApiError>) -> Result<Caller, PageError> {
    caller.map_err(PageError::from)
}

/// Whether a role may open a menu entry.
type MayOpen = fn(Role) -> bool;

/// The menu: label, address, and whether a role may open it.
const MENU: &[(&str, &str, MayOpen)] = &[
    ("Tableau de bord", "/tableau-de-bord", |_| true),
    ("Dossiers", "/dossiers", |_| true),
    ("Signataires", "/signataires", |_| true),
    ("Quartiers", "/quartiers", |_| true),
    ("Objectifs", "/objectifs", |_| true),
    ("Porteurs", "/vues/porteurs", |_| true),
    ("Comité", "/comite", comite::may_open),
    ("TFPB", "/tfpb", |role| role != Role::Lecteur),
    ("Évaluation", "/evaluation", comite::may_open),
    ("Audit", "/audit", |role| role.can_audit()),
];

/// How a role is named for people.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => "administrateur",
        Role::Instructeur => "instructeur",
        Role::Bailleur => "bailleur",
        Role::Auditeur => "auditeur",
        Role::Lecteur => "lecteur",
    }
}

/// The frame of every page: a skip link, the menu (what the caller's role may open, the current
/// page marked), who is signed in, then the content.
pub fn layout(title: &str, caller: Option<&Caller>, content: Markup) -> Html<String> {
    let role = caller.map(|c| c.0.role).unwrap_or(Role::Lecteur);
    // The current page: the menu entry the title starts with (the longest, so that a dossier's
    // page marks "Dossiers").
    let current = MENU
        .iter()
        .filter(|(label, _, _)| {
            // The label without its last letter also marks it ("Dossier" for "Dossiers").
            let stem = label.char_indices().last().map_or("", |(i, _)| &label[..i]);
            title.starts_with(label) || title.starts_with(stem)
        })
        .map(|(label, _, _)| *label)
        .max_by_key(|label| label.len());
    Html(
        html! {
            (DOCTYPE)
            html lang="fr" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " — Engagements" }
                    link rel="stylesheet" href="/style.css";
                }
                body {
                    a.skip href="#contenu" { "Aller au contenu" }
                    header.top {
                        a.brand href="/tableau-de-bord" { "Engagements" }
                        nav aria-label="Menu principal" {
                            @for (label, href, may_open) in MENU {
                                @if may_open(role) {
                                    @if current == Some(*label) {
                                        a href=(href) aria-current="page" { (label) }
                                    } @else {
                                        a href=(href) { (label) }
                                    }
                                }
                            }
                        }
                        @if let Some(caller) = caller {
                            span.who { (caller.0.person) " — " (caller.2.clone().unwrap_or_else(|| organisation_name(&caller.0.organisation))) " (" (role_label(caller.0.role)) ")" }
                            @if let Some(session) = &caller.1 {
                                form.inline method="post" action="/deconnexion" {
                                    (crate::sessions::csrf_input(session))
                                    button type="submit" { "Se déconnecter" }
                                }
                            }
                        }
                    }
                    main id="contenu" { (content) }
                    footer { "Registre des engagements du contrat de ville — chaque chiffre est un calcul sur le journal des faits enregistrés, vérifiable." }
                }
            }
        }
        .into_string(),
    )
}

/// An organisation id as people read it: the ids of the referential are lower-case names with
/// dashes (`maisons-et-cites`); shown as words.
/// An organisation unknown to the referential (an external auditor's, the public's) by its id
/// made readable.
fn organisation_name(id: &str) -> String {
    let mut words = id.replace('-', " ");
    if let Some(first) = words.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    words
}

/// The date selector: shows the page as of a record date, a position, or a business date.
pub fn date_selector(action: &str, params: &PageParams, extra: Markup) -> Markup {
    html! {
        form.asof method="get" action=(action) {
            (extra)
            label { "Exercice " input type="number" name="exercice" min="2000" max="2100" value=[params.exercice.as_deref()]; }
            label { "Tel qu'enregistré au " input type="date" name="as_of" value=[params.as_of.as_deref()]; }
            label { "Faits en vigueur au " input type="date" name="effective_on" value=[params.effective_on.as_deref()]; }
            label { "N° d'événement " input type="number" name="at_position" min="0" value=[params.at_position.as_deref()]; }
            button type="submit" { "Afficher" }
            // Names its own (empty) moment, so that the moment carried by links does not stick.
            a href=(format!("{action}?as_of=")) { "Aujourd'hui" }
            p.help {
                "« Tel qu'enregistré au » montre ce que le registre contenait ce jour-là (rien de ce qui a été saisi après) ; "
                "« Faits en vigueur au » ne retient que les décisions, signatures et paiements datés d'avant ce jour, même saisis plus tard."
            }
        }
    }
}

/// A report table for people: French headers and values, names linked to their pages, a totals
/// row for the amounts, and the link to its CSV for spreadsheets (`format=csv-fr`).
pub fn table_html(table: &Table, csv_href: &str) -> Markup {
    table_html_with(table, csv_href, Totals::Sum)
}

/// Whether a table's amounts add up (a table mixing total rows and detail rows does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Totals {
    Sum,
    None,
}

/// [`table_html`], saying whether the amounts add up.
pub fn table_html_with(table: &Table, csv_href: &str, totals: Totals) -> Markup {
    // Identifiers with no page, and ids shown by their name beside them, are left out of the
    // page (the download keeps them); links still read them from the whole row.
    let visible: Vec<usize> = (0..table.columns.len())
        .filter(|i| !hidden_on_page(table, &table.columns[*i]))
        .collect();
    let sums = (totals == Totals::Sum).then(|| column_sums(table));
    if table.rows.is_empty() {
        return html! {
            p.empty { "Aucune ligne pour cette sélection : rien n'était enregistré ou en vigueur à ce moment, ou pour cet exercice. Changez l'exercice ou la date ci-dessus." }
        };
    }
    html! {
        (download::links(csv_href, html! { (table.rows.len()) " lignes" }))
        div.scroll {
            table.report {
                thead { tr { @for i in &visible { th scope="col" { (labels::header(&table.columns[*i])) } } } }
                tbody {
                    @for row in table.rows.iter().take(HTML_ROWS_MAX) {
                        tr { @for i in &visible { @if let Some(cell) = row.get(*i) { (cell_html(table, row, *i, cell)) } } }
                    }
                }
                @if let Some(sums) = sums.filter(|s| s.iter().any(Option::is_some)) {
                    tfoot { tr {
                        @for (position, i) in visible.iter().enumerate() {
                            @if position == 0 { th scope="row" { "Total" } }
                            @else if let Some(sum) = sums[*i] { td.num { (format_eur(sum)) } }
                            @else { td {} }
                        }
                    } }
                }
            }
        }
        @if table.rows.len() > HTML_ROWS_MAX {
            p { "Seules les " (HTML_ROWS_MAX) " premières lignes sont affichées : le CSV les contient toutes." }
        }
    }
}

/// Whether a column stays off the page: an identifier with no page of its own, or an id whose
/// name is in the next column (the name is shown, linked).
fn hidden_on_page(table: &Table, key: &str) -> bool {
    labels::HIDDEN_ON_PAGES.contains(&key)
        || (crate::views::NAMED_COLUMNS.contains(&key)
            && table
                .columns
                .iter()
                .any(|c| *c == format!("{}_name", key.trim_end_matches("_id"))))
}

/// The sum of each amount column (`None` for the others).
fn column_sums(table: &Table) -> Vec<Option<Amount>> {
    (0..table.columns.len())
        .map(|index| {
            let mut sum: Option<Amount> = None;
            for row in &table.rows {
                if let Some(Cell::Amount(amount)) = row.get(index) {
                    let total = sum.unwrap_or(Amount::ZERO);
                    sum = Some(total.checked_add(*amount).unwrap_or(total));
                }
            }
            sum
        })
        .collect()
}

fn cell_html(table: &Table, row: &[Cell], index: usize, cell: &Cell) -> Markup {
    let key = table.columns[index].as_str();
    let text = labels::cell_text(key, cell);
    let numeric = matches!(cell, Cell::Amount(_) | Cell::Int(_)) || key.ends_with("_pct");
    match link_of(table, row, key, cell) {
        Some(href) if numeric => html! { td.num { a href=(href) { (text) } } },
        Some(href) => html! { td { a href=(href) { (text) } } },
        None if numeric => html! { td.num { (text) } },
        None => html! { td { (text) } },
    }
}

/// The page of the entity a cell names: a financeur or signatory, a quartier, an objectif, a
/// dossier, a porteur's dossiers, a bailleur's TFPB.
fn link_of(table: &Table, row: &[Cell], key: &str, cell: &Cell) -> Option<String> {
    let column = |name: &str| {
        table
            .columns
            .iter()
            .position(|c| c == name)
            .and_then(|i| row.get(i))
            .map(Cell::to_text)
            .filter(|t| !t.is_empty())
    };
    let value = cell.to_text();
    if value.is_empty() {
        return None;
    }
    let segment = |text: &str| crate::asof::encode(text);
    match key {
        "financeur" | "signatory" => Some(format!("/signataires/{}", segment(&value))),
        "financeur_name" => column("financeur").map(|id| format!("/signataires/{}", segment(&id))),
        "quartier" => Some(format!("/quartiers/{}", segment(&value))),
        "quartier_name" => column("quartier").map(|id| format!("/quartiers/{}", segment(&id))),
        "objectif" => Some(format!("/objectifs/{}", segment(&value))),
        "objectif_title" => column("objectif").map(|n| format!("/objectifs/{}", segment(&n))),
        "dossier_id" => Some(format!("/dossiers/{}", segment(&value))),
        "porteur_name" => Some(format!("/dossiers?q={}", segment(&value))),
        "porteur_id" => column("porteur_name").map(|n| format!("/dossiers?q={}", segment(&n))),
        "bailleur" | "recorded_by" => Some(format!("/tfpb?bailleur={}", segment(&value))),
        "bailleur_name" => column("bailleur").map(|id| format!("/tfpb?bailleur={}", segment(&id))),
        "recorded_by_name" => {
            column("recorded_by").map(|id| format!("/tfpb?bailleur={}", segment(&id)))
        }
        "signatory_name" => column("signatory").map(|id| format!("/signataires/{}", segment(&id))),
        // A finding's subject is a stream: a dossier's leads to its page.
        "subject" | "stream_id" => value
            .strip_prefix("dossier-")
            .map(|id| format!("/dossiers/{}", segment(id))),
        _ => None,
    }
}

/// An amount the French way: `12 345,50 €` (narrow no-break spaces between thousands).
pub fn format_eur(amount: Amount) -> String {
    labels::eur(amount)
}

/// A rounded amount for chart axes: `12 346 €`.
pub fn format_eur_rounded(value: f64) -> String {
    format!("{} €", labels::integer(value.round() as i64))
}

/// The stylesheet of every page.
#[utoipa::path(get, path = "/style.css", tag = "pages",
    responses((status = 200, description = "CSS", content_type = "text/css")))]
pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("style.css"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_the_french_way() {
        assert_eq!(
            format_eur(Amount::from_cents(123_456_750).unwrap()),
            "1\u{202f}234\u{202f}567,50 €"
        );
        assert_eq!(format_eur(Amount::ZERO), "0,00 €");
        assert_eq!(format_eur(Amount::from_cents(5).unwrap()), "0,05 €");
        assert_eq!(format_eur_rounded(999.6), "1\u{202f}000 €");
    }
}
